"""End-to-end test of the app in the background: tray, close-to-tray, start at login and
notifications, on a real session bus (scripts/with-keyring) under Xvfb with a window
manager (openbox), a tray watcher (status-notifier-watcher) and a test notification server
(tests/e2e/notifyd.py). Runs from the repository root; tests/e2e/tray.sh sets it up.

The app is two processes: the window (`amo-connector`, with WebKit) and the tray
(`amo-connector-tray`, without), which the window starts and which does the background work.

  keeps-running   the window closes into the tray: the window's process and its web view
                  end, the tray process and its refresh go on (the emulator sees the
                  refresh at its due time), a one-time notice says so; the tray's menu
                  (driven over com.canonical.dbusmenu) lists the account, *Open* shows the
                  window, a second launch shows the same window, *Quit* ends both
  autostart       `amo config set autostart on|off` writes and removes the entry; its Exec
                  starts the app hidden in the tray: the tray process, no window
  notify-en/ru    a revoked refresh token and an access token due: exactly one
                  Notify naming the account, in that language; the tray icon turns to its
                  attention look; the notice's click opens the window
  closed-window-en/ru, closed-window-dunst-en/ru
                  a person's sequence: `amo connect`, the window starts its tray, the window
                  is closed (the tray's first notice says it keeps running), the tray
                  refreshes on time, the refresh token is revoked, the next refresh fails
                  (the journal and `amo status` say so) and the tray tells to reconnect:
                  its second notice, in that language, to the test server and to dunst (a
                  real daemon, watched by a bus monitor)
  refresh-failing three refreshes in a row fail (the emulator answers 500), asked from the
                  tray's menu after its window closed: one notice, after the third, with
                  the reason; a refresh that works again ends the incident
  long-lived      a long-lived token that ends within 7 days, connected with `amo` while the
                  tray runs: one notice, in Russian, naming the account and when it ends
  many-accounts   seven accounts (`amo-emulator --accounts 7`): the one that needs attention on
                  top, every account by host in the *All accounts (7)* submenu, read over
                  dbusmenu; the menu is not made again when nothing shown changed; a second
                  account that needs attention joins the top; a submenu line opens the
                  window at its account; the language changed, the submenu's label follows
  keychain        the Secret Service stops (the scenario's own bus and gnome-keyring): one
                  notice; started again, the incident is over, and a second stop is told again
  no-tray-host    with no tray watcher on the bus, no tray process: the open window does
                  the background refresh itself, and closing it quits

Waits poll (the bus, the emulator's counters, the window list) with a bound; the only
fixed span is the one that proves "no second notice", and it is counted in checks.
Prints one line per check and ends with kit's count line (tests/e2e/kit.py); each scenario
says how many checks it makes, so one that stops early shows the rest as skipped. Exits 2
for a scenario name it does not know, 1 on any failed check or when none passed.

One file past the usual length on purpose: each scenario reads as the sequence a person's
desktop goes through, sharing the session's tray, notification and window helpers kept
here; the helpers that are not about the tray live in kit.py.
"""

import json
import os
import re
import sqlite3
import shutil
import subprocess
import sys
import datetime
import tempfile
import time
import urllib.error
import urllib.request

import dbus
import gi

gi.require_version("GdkPixbuf", "2.0")
from gi.repository import GdkPixbuf, GLib  # noqa: E402

import kit  # noqa: E402
from kit import (BUS, TRAY_COMM, bus, check, comm, eventually, free_port, kill_ours,  # noqa: E402
                 name_owned, ours, run_scenarios, spawn, stop, stop_all, trays, wait_check,
                 wait_until, webkit_children, windows, window_manager_up)

ROOT = os.getcwd()
APP = os.path.join(ROOT, "target/debug/amo-connector")
ICONS = os.path.join(ROOT, "icons")
AMO = os.path.join(ROOT, "target/debug/amo")
EMULATOR = os.path.join(ROOT, "target/debug/amo-emulator")
NOTIFYD = os.path.join(ROOT, "tests/e2e/notifyd.py")
WAIT = kit.WAIT  # seconds, any one wait's bound
# A token or a client secret the emulator issues (JWT access tokens, `def50200…` refresh
# tokens): none may appear in a notice.
TOKEN_LIKE = re.compile(r"eyJ[\w-]{8,}|def50200[0-9a-f]{16,}")
CHECK_SECS = 1  # AMO_CHECK_SECS: how often the app compares due times with the clock


def tray_items():
    try:
        w = bus().get_object("org.kde.StatusNotifierWatcher", "/StatusNotifierWatcher")
        items = w.Get("org.kde.StatusNotifierWatcher", "RegisteredStatusNotifierItems",
                      dbus_interface="org.freedesktop.DBus.Properties")
        return [str(i) for i in items]
    except dbus.DBusException:
        return []


def find_item_path(service, path="/"):
    """The object path under which `service` serves its StatusNotifierItem."""
    xml = bus().get_object(service, path).Introspect(
        dbus_interface="org.freedesktop.DBus.Introspectable")
    if "org.kde.StatusNotifierItem" in xml:
        return path
    for child in re.findall(r'<node name="([^"]+)"', xml):
        found = find_item_path(service, path.rstrip("/") + "/" + child)
        if found:
            return found
    return None


class TrayItem:
    """The tray process's StatusNotifierItem and its menu (com.canonical.dbusmenu)."""

    def __init__(self, home):
        b = bus()
        daemon = b.get_object("org.freedesktop.DBus", "/org/freedesktop/DBus")
        mine = trays(home)
        self.service = None
        for item in tray_items():
            service = item.split("/", 1)[0]
            try:
                pid = int(daemon.GetConnectionUnixProcessID(
                    service, dbus_interface="org.freedesktop.DBus"))
            except dbus.DBusException:
                continue
            if pid in mine:
                self.service = service
        if not self.service:
            raise LookupError(f"no tray item of the tray process {mine} among {tray_items()}")
        self.path = find_item_path(self.service)
        self.obj = b.get_object(self.service, self.path)

    def prop(self, name):
        return self.obj.Get("org.kde.StatusNotifierItem", name,
                            dbus_interface="org.freedesktop.DBus.Properties")

    def menu(self):
        return bus().get_object(self.service, self.prop("Menu"))

    def items(self):
        """[(id, label, enabled)] of the menu's entries, separators left out."""
        _, (_, _, children) = self.menu().GetLayout(0, -1, [],
                                                    dbus_interface="com.canonical.dbusmenu")
        out = []
        for (cid, props, _) in children:
            if props.get("type") == "separator":
                continue
            out.append((int(cid), str(props.get("label", "")), bool(props.get("enabled", True))))
        return out

    def labels(self):
        return [label for (_, label, _) in self.items()]

    def layout(self):
        """(revision, entries) of the whole menu: each entry (id, label, entries of its
        submenu, or None for a plain line), separators left out. The revision grows each
        time the menu is made again."""
        revision, (_, _, children) = self.menu().GetLayout(
            0, -1, [], dbus_interface="com.canonical.dbusmenu")

        def entries(children):
            out = []
            for (cid, props, kids) in children:
                if props.get("type") == "separator":
                    continue
                sub = entries(kids) if props.get("children-display") == "submenu" else None
                out.append((int(cid), str(props.get("label", "")), sub))
            return out

        return int(revision), entries(children)

    def submenu(self, label):
        """[(id, label)] of the submenu `label`'s lines, else None."""
        _, entries = self.layout()
        sub = next((s for (_, l, s) in entries if l == label), None)
        return None if sub is None else [(cid, l) for (cid, l, _) in sub]

    def click(self, label):
        cid = next(i for (i, l, _) in self.items() if l == label)
        self.click_id(cid)

    def click_id(self, cid):
        self.menu().Event(dbus.Int32(cid), "clicked", dbus.String("", variant_level=1),
                          dbus.UInt32(0), dbus_interface="com.canonical.dbusmenu")

    def icon_is(self, png):
        """Whether the icon shown has the pixels of icons/`png`."""
        shown = str(self.prop("IconName"))
        try:
            a = GdkPixbuf.Pixbuf.new_from_file(shown)
        except GLib.Error:
            return False
        b = GdkPixbuf.Pixbuf.new_from_file(os.path.join(ICONS, png))
        return ((a.get_width(), a.get_height(), a.get_pixels())
                == (b.get_width(), b.get_height(), b.get_pixels()))


class Notes:
    """The test notification server and what it was sent."""

    def __init__(self, work, env=None):
        self.path = os.path.join(work, "notes.jsonl")
        open(self.path, "w").close()
        self.daemon = None
        self.proc = spawn(["/usr/bin/python3", NOTIFYD, self.path], stdout=subprocess.PIPE,
                          text=True, env=env)
        self.proc.stdout.readline()
        wait_until("the notification server", lambda: name_owned("org.freedesktop.Notifications"))

    def all(self):
        with open(self.path, encoding="utf-8") as f:
            return [json.loads(l) for l in f if l.strip()]

    def naming(self, account):
        return [n for n in self.all() if account in n["summary"] + n["body"]]

    def click(self, nid):
        o = bus().get_object("org.freedesktop.Notifications", "/org/freedesktop/Notifications")
        o.Click(dbus.UInt32(nid), dbus_interface="test.amo.Notifications")

    def titled(self, title):
        return [n for n in self.all() if n["summary"] == title]

    def close(self):
        stop(self.proc)
        if self.daemon:
            stop(self.daemon)
            wait_until("the notification daemon to go",
                       lambda: not name_owned("org.freedesktop.Notifications"))


class Dunst(Notes):
    """dunst, a real notification daemon, and what it was sent, as a bus monitor sees the
    Notify calls (notifyd.py --monitor); it has no way to click from here."""

    def __init__(self, work, env=None):
        self.path = os.path.join(work, "notes.jsonl")
        open(self.path, "w").close()
        self.daemon = spawn(["dunst"], env=env, stdout=open(os.path.join(work, "dunst.log"), "a"),
                            stderr=subprocess.STDOUT)
        wait_until("dunst", lambda: name_owned("org.freedesktop.Notifications"))
        self.proc = spawn(["/usr/bin/python3", NOTIFYD, "--monitor", self.path],
                          stdout=subprocess.PIPE, text=True, env=env)
        if self.proc.stdout.readline().strip() != "ready":
            raise RuntimeError("the bus monitor did not start")

    def click(self, nid):
        raise NotImplementedError("dunst is clicked by a person")


def catalogue(lang):
    with open(os.path.join(ROOT, f"locales/{lang}.json"), encoding="utf-8") as f:
        return json.load(f)


def says(note, lang, kind, account="", when=None):
    """Whether `note` is the catalogue's notice `kind` in `lang`, naming `account` (a reason,
    where the text has one, is any non-empty text; `when` as given, else any)."""
    messages = catalogue(lang)
    values = {"{account}": re.escape(account), "{reason}": ".+",
              "{when}": re.escape(when) if when else ".+"}

    def pattern(part):
        text = messages[f"notice.{kind}.{part}"]
        return "".join(values.get(p, re.escape(p)) for p in re.split(r"(\{\w+\})", text))

    return bool(re.fullmatch(pattern("title"), note["summary"], re.S)
                and re.fullmatch(pattern("body"), note["body"], re.S))


def secret_free(w, notes):
    text = json.dumps(notes, ensure_ascii=False)
    return w.info["client_secret"] not in text and not TOKEN_LIKE.search(text)


def journal(w, step):
    """The activity log's entries of `step`, oldest first (a line being written is skipped)."""
    try:
        with open(os.path.join(w.home, "activity.log"), encoding="utf-8") as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        return []
    out = []
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("step") == step:
            out.append(entry)
    return out


def epoch(ts):
    """An RFC 3339 time of the journal as seconds since the epoch."""
    ts = re.sub(r"(\.\d{6})\d+", r"\1", ts).replace("Z", "+00:00")
    return datetime.datetime.fromisoformat(ts).timestamp()


def told(w):
    """The incidents the tray remembers as told (`host.told` in the settings table)."""
    db = sqlite3.connect(f"file:{os.path.join(w.home, 'amo-connector.sqlite3')}?mode=ro",
                         uri=True, timeout=10)
    try:
        row = db.execute("SELECT value FROM settings WHERE key = 'host.told'").fetchone()
    finally:
        db.close()
    return [tuple(t) for t in json.loads(row[0])] if row else []


def close_window(app=None):
    """Closes the window as a person does (the window manager's close) and waits until it is
    gone; with `app`, also up to 30 s for that process to end (a check says whether it did)."""
    subprocess.run(["wmctrl", "-c", "amo-connector"], check=True)
    wait_until("the window to close", lambda: not windows())
    if app:
        try:
            app.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass


# --- the emulator and amo ----------------------------------------------------------------


class World:
    """A data folder, an emulator with a short access-token life and `amo` connected to it.
    With `accounts`, the emulator serves that many accounts, each on a port of its own (the
    first is `account`; `hosts` lists them all), and the data folder trusts them all."""

    def __init__(self, work, access_ttl, lang="en_US.UTF-8", accounts=1):
        self.work = work
        redirect = f"http://127.0.0.1:{free_port()}/amocrm/callback"
        self.emu = spawn([EMULATOR, "--port", "0", "--auto-approve", "--redirect-uri", redirect,
                          "--access-ttl", str(access_ttl), "--accounts", str(accounts)],
                         stdout=subprocess.PIPE,
                         stderr=open(os.path.join(work, "emulator.log"), "a"), text=True)
        self.info = json.loads(self.emu.stdout.readline())
        browser = os.path.join(work, "browser")
        with open(browser, "w") as f:
            f.write("#!/bin/sh\ncurl -sS -L --max-time 20 -o /dev/null \"$1\"\n")
        os.chmod(browser, 0o755)
        self.env = dict(os.environ)
        for k in ("AMO_LANG", "LC_ALL", "LC_MESSAGES", "XDG_CURRENT_DESKTOP", "DESKTOP_SESSION"):
            self.env.pop(k, None)
        self.env.update({
            "LANG": lang,
            "AMO_CONNECTOR_HOME": os.path.join(work, "data"),
            "AMO_BASE_URL": self.info["base_url"],
            "AMO_CLIENT_ID": self.info["client_id"],
            "AMO_CLIENT_SECRET": self.info["client_secret"],
            "AMO_REDIRECT_URI": redirect,
            "BROWSER": browser,
            "AMO_CHECK_SECS": str(CHECK_SECS),
        })
        self.account = self.info["account_host"]
        self.hosts = self.info["account_hosts"]
        if accounts > 1:
            self.env["AMO_EMULATOR_ACCOUNTS"] = ",".join(self.hosts[1:])
        self.home = self.env["AMO_CONNECTOR_HOME"]

    def amo(self, *args, env=None, input=None):
        e = dict(self.env, **(env or {}))
        return subprocess.run([AMO, *args], env=e, capture_output=True, text=True, timeout=90,
                              input=input)

    def connect(self, number=None):
        """`amo connect` through the loopback flow; the account granted is the emulator's
        `number` (from 1), else its first."""
        if number:
            self.control("select-account", {"account": number})
        r = self.amo("connect", "--timeout", "60")
        if r.returncode != 0:
            raise RuntimeError(f"amo connect failed: {r.stdout} {r.stderr}")
        return time.time()

    def control(self, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.info["base_url"] + "/_emulator/" + path, data=data,
                                     method="GET" if body is None else "POST",
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read() or b"{}")

    def stats(self):
        return self.control("stats")

    def app(self, *args, log_name="app"):
        log = open(os.path.join(self.work, f"{log_name}.log"), "a")
        return spawn([APP, *args], env=self.env, stdout=log, stderr=subprocess.STDOUT)


# --- scenarios ---------------------------------------------------------------------------


def keeps_running(work):
    notes = Notes(work)
    w = World(work, access_ttl=620)  # due 20 s after each refresh (10 minutes' margin)
    w.connect()
    app = w.app()
    wait_until("the window", windows)
    wait_check("keeps-running: the tray holds an item", tray_items)
    check("keeps-running: the window started one tray process",
          len(eventually(lambda: trays(w.home))) == 1, trays(w.home))
    wait_until("the web view", lambda: webkit_children(app.pid))
    close_window(app)
    check("keeps-running: closing the window ends the window's process", app.poll() is not None)
    check("keeps-running: closing the window leaves the tray process running",
          len(trays(w.home)) == 1, trays(w.home))
    eventually(lambda: [comm(p) for p in ours(w.home)] == [TRAY_COMM], timeout=30)
    names = sorted(comm(p) for p in ours(w.home))
    check("keeps-running: the hidden app has no WebKit process",
          not [n for n in names if n.startswith("WebKit")], names)
    check("keeps-running: only amo-connector-tray is left, no window process",
          names == [TRAY_COMM], names)
    notice = eventually(lambda: [n for n in notes.all() if "keeps running" in n["summary"]])
    check("keeps-running: a notice says where the window went", len(notice) == 1, notice)
    # Refreshes while hidden, each at its due time: 20 s after the one before.
    hidden_at = w.stats()["refresh_grants"]
    times = []
    for n in (1, 2):
        wait_until(f"background refresh {n} while hidden",
                   lambda: w.stats()["refresh_grants"] >= hidden_at + n, timeout=20 + WAIT,
                   every=0.1)
        times.append(time.time())
    gap = times[1] - times[0]
    check("keeps-running: the hidden app refreshes at each due time, not before",
          18 <= gap <= 20 + 15, f"{gap:.1f}s between two refreshes (due every 20 s)")
    check("keeps-running: the connection is still usable",
          w.amo("status").returncode == 0)
    item = TrayItem(w.home)
    with open(os.path.join(ROOT, "locales/en.json"), encoding="utf-8") as f:
        states = [v for k, v in json.load(f).items() if k.startswith("state.")]
    rows = {f"{w.account}: {state}" for state in states}
    check("keeps-running: the tray menu lists the account with its state",
          bool(eventually(lambda: rows & set(item.labels()), timeout=10)), item.labels())
    check("keeps-running: the tray menu has Open, Refresh all now and Quit",
          item.labels()[-3:] == ["Open amo-connector", "Refresh all now", "Quit"],
          item.labels())
    check("keeps-running: all connected, the tray icon has its usual look",
          item.icon_is("tray.png"), str(item.prop("IconName")))
    item.click("Open amo-connector")
    check("keeps-running: the tray's Open shows the window", bool(eventually(windows)))
    window_procs = [p for p in ours(w.home) if comm(p) == "amo-connector"]
    check("keeps-running: the window the tray opens has the session's environment",
          bool(window_procs) and all(b"GDK_GL=" not in open(f"/proc/{p}/environ", "rb").read()
                                     for p in window_procs), window_procs)
    second = w.app(log_name="second")
    second.wait(timeout=30)
    check("keeps-running: a second launch ends at once", second.returncode == 0)
    check("keeps-running: a second launch shows the same window",
          len(eventually(windows)) == 1
          and [p for p in ours(w.home) if comm(p) == "amo-connector"] == window_procs,
          windows())
    check("keeps-running: still one tray process", len(trays(w.home)) == 1, trays(w.home))
    close_window()
    check("keeps-running: the notice is shown once",
          len([n for n in notes.all() if "keeps running" in n["summary"]]) == 1, notes.all())
    refreshes = w.stats()["refresh_grants"]
    item.click("Refresh all now")
    check("keeps-running: the tray's Refresh all now refreshes the account",
          bool(eventually(lambda: w.stats()["refresh_grants"] > refreshes, timeout=15)))
    window = w.app(log_name="third")
    wait_until("the window for Quit", windows)
    item.click("Quit")
    eventually(lambda: not ours(w.home) and not windows(), timeout=30)
    check("keeps-running: the tray's Quit ends the tray and the window",
          not ours(w.home) and not windows(), [comm(p) for p in ours(w.home)])
    check("keeps-running: after Quit the tray holds no item",
          eventually(lambda: not tray_items(), timeout=10), tray_items())
    stop(window)
    stop(app)
    notes.close()
    stop(w.emu)


def autostart(work):
    w = World(work, access_ttl=86400)
    config = os.path.join(work, "xdg")
    entry = os.path.join(config, "autostart", "amo-connector.desktop")
    env = {"XDG_CONFIG_HOME": config}
    r = w.amo("config", "set", "autostart", "on", env=env)
    check("autostart: on succeeds", r.returncode == 0, r.stderr)
    text = open(entry).read() if os.path.exists(entry) else ""
    exec_line = next((l[5:] for l in text.splitlines() if l.startswith("Exec=")), "")
    check("autostart: the entry starts the app hidden",
          exec_line == f"{APP} --hidden", exec_line)
    # Start it as the session would: the hidden app sits in the tray, no window.
    w.env.update(env, AMO_CHECK_SECS="30")
    app = spawn(exec_line.split(), env=w.env, stdout=subprocess.DEVNULL,
                stderr=open(os.path.join(work, "app.log"), "a"))
    wait_check("autostart: the hidden app registers a tray item", tray_items)
    check("autostart: the hidden app shows no window", not windows(), windows())
    item = TrayItem(w.home)
    check("autostart: with no connection the tray menu says so",
          "No connections" in item.labels(), item.labels())
    # A connection made by `amo` reaches the tray through the database's change, long
    # before its next timed check (30 s apart here, the first one at its start).
    w.connect()
    check("autostart: a connection made by amo shows in the tray menu before the next check",
          bool(eventually(lambda: any(l.startswith(w.account) for l in item.labels()),
                          timeout=10)), item.labels())
    names = [comm(p) for p in ours(w.home)]
    check("autostart: the hidden app is the tray process alone, without WebKit",
          names == [TRAY_COMM], [open(f"/proc/{p}/cmdline").read() for p in ours(w.home)]
          + [open(os.path.join(work, "app.log")).read()])
    stop(app)
    r = w.amo("config", "set", "autostart", "off", env=env)
    check("autostart: off succeeds", r.returncode == 0, r.stderr)
    check("autostart: off removes the entry", not os.path.exists(entry))
    stop(w.emu)


WORDS = {"en": ("en_US.UTF-8", "Reconnect"), "ru": ("ru_RU.UTF-8", "Подключите")}


def notify(work, lang):
    notes = Notes(work)
    locale, word = WORDS[lang]
    w = World(work, access_ttl=605, lang=locale)  # due 5 s after connecting
    w.connect()
    w.control("revoke", {"what": "refresh"})
    tries = w.stats()["revoked_refresh_used"]
    app = w.app("--hidden")
    got = wait_until("a notice naming the account", lambda: notes.naming(w.account))
    check(f"notify-{lang}: the revoked refresh token was tried",
          w.stats()["revoked_refresh_used"] > tries)
    n = got[0]
    check(f"notify-{lang}: the notice speaks {lang}", word in n["summary"] + n["body"], n)
    check(f"notify-{lang}: the notice has an open action", "default" in n["actions"], n)
    secret = w.info["client_secret"]
    check(f"notify-{lang}: no secret in the notice", secret not in json.dumps(got))
    item = TrayItem(w.home)
    check(f"notify-{lang}: the tray icon turns to its attention look",
          bool(eventually(lambda: item.icon_is("tray-attention.png"), timeout=10)),
          str(item.prop("IconName")))
    # The app goes on checking every CHECK_SECS: ten checks, and still one notice.
    time.sleep(10 * CHECK_SECS)
    check(f"notify-{lang}: exactly one notice for the incident",
          len(notes.naming(w.account)) == 1, notes.all())
    if lang == "en":
        notes.click(n["id"])
        wait_check("notify-en: a click opens the window", windows)
        close_window()
    stop(app)
    # Started again, the app remembers the incident was told.
    app = w.app("--hidden", log_name="again")
    wait_until("a tray item", tray_items)
    time.sleep(5 * CHECK_SECS)
    check(f"notify-{lang}: a restart does not tell it again",
          len(notes.naming(w.account)) == 1, notes.all())
    stop(app)
    notes.close()
    stop(w.emu)


def hide_in_tray(w, notes, name, lang="en"):
    """Starts the window, which starts the tray; closes the window as a person does; waits
    for the tray's first notice (it keeps running). Returns the window's process."""
    app = w.app()
    wait_until("the window", windows)
    wait_until("a tray item", tray_items)
    wait_until("the tray process", lambda: trays(w.home))
    wait_until("the web view", lambda: webkit_children(app.pid))
    close_window(app)
    check(f"{name}: the window's process ends and the tray process stays",
          app.poll() is not None and len(trays(w.home)) == 1, [comm(p) for p in ours(w.home)])
    title = catalogue(lang)["notice.tray.title"]
    check(f"{name}: the tray's first notice says it keeps running",
          len(eventually(lambda: notes.titled(title))) == 1, notes.all())
    return app


def tray_item(home):
    """The tray process's item once it is on the bus, else None."""
    try:
        return TrayItem(home)
    except (LookupError, dbus.DBusException):
        return None


def closed_window(work, lang, daemon):
    """The window starts the tray and is closed; then the refresh token is revoked."""
    name = f"closed-window{'-dunst' if daemon == 'dunst' else ''}-{lang}"
    notes = Dunst(work) if daemon == "dunst" else Notes(work)
    locale, _ = WORDS[lang]
    w = World(work, access_ttl=615, lang=locale)  # due 15 s after each refresh
    w.connect()
    app = hide_in_tray(w, notes, name, lang)
    grants = w.stats()["refresh_grants"]
    started = len(journal(w, "refresh_started"))
    refreshed = len(journal(w, "refreshed"))
    check(f"{name}: the hidden tray refreshes at the due time",
          bool(eventually(lambda: len(journal(w, "refreshed")) > refreshed, timeout=15 + WAIT))
          and len(journal(w, "refresh_started")) > started
          and w.stats()["refresh_grants"] > grants, journal(w, "refresh_started")[-1:])
    w.control("revoke", {"what": "refresh"})
    failures = eventually(lambda: [e for e in journal(w, "refresh_failed")
                                   if "Token has been revoked" in e.get("detail", "")],
                          timeout=15 + WAIT)
    check(f"{name}: the next refresh fails and the journal says why",
          bool(failures) and w.account in failures[0].get("account", ""), failures)
    r = w.amo("status", "--json")
    states = [c.get("state") for c in json.loads(r.stdout or "[]")] if r.stdout else []
    check(f"{name}: amo status says reconnect_needed", states == ["reconnect_needed"],
          r.stdout + r.stderr)
    got = eventually(lambda: notes.naming(w.account), timeout=WAIT)
    check(f"{name}: the tray tells to reconnect, naming the account, in {lang}",
          bool(got) and says(got[0], lang, "reconnect_needed", w.account), notes.all())
    check(f"{name}: the notice follows the failure",
          bool(got and failures) and got[0]["at"] >= epoch(failures[0]["ts"]), got)
    check(f"{name}: no token or secret in any notice", secret_free(w, notes.all()))
    # The tray goes on checking every CHECK_SECS: five checks, and still one notice.
    time.sleep(5 * CHECK_SECS)
    check(f"{name}: one notice for the incident, after the one that the tray keeps running",
          len(notes.naming(w.account)) == 1 and len(notes.all()) == 2, notes.all())
    if daemon != "dunst":
        if got:
            notes.click(got[0]["id"])
        check(f"{name}: the notice's click opens the window",
              bool(got) and bool(eventually(windows, timeout=WAIT)))
    stop(app)
    notes.close()
    stop(w.emu)


def refresh_failing(work):
    """Three refreshes in a row fail, asked from the tray's menu after the window closed."""
    notes = Notes(work)
    w = World(work, access_ttl=86400)
    w.connect()
    app = hide_in_tray(w, notes, "refresh-failing")
    item = wait_until("the tray item", lambda: tray_item(w.home))
    wait_until("the account in the tray menu",
               lambda: any(l.startswith(w.account) for l in item.labels()))
    w.control("fault", {"target": "token", "kind": "500", "times": 3})
    for n in (1, 2, 3):
        item.click("Refresh all now")
        wait_until(f"failure {n}", lambda: len(journal(w, "refresh_failed")) >= n)
    failures = journal(w, "refresh_failed")
    check("refresh-failing: three refreshes in a row failed",
          len(failures) == 3 and not journal(w, "refreshed"), failures)
    got = eventually(lambda: notes.naming(w.account), timeout=WAIT)
    check("refresh-failing: a notice says refreshing failed three times, with the reason",
          bool(got) and says(got[0], "en", "refresh_failing", w.account), notes.all())
    check("refresh-failing: the notice comes after the third failure, not before",
          bool(got) and got[0]["at"] >= epoch(failures[-1]["ts"]), (got, failures))
    check("refresh-failing: no token or secret in any notice", secret_free(w, notes.all()))
    check("refresh-failing: the incident is remembered as told",
          told(w) == [(w.account, "refresh_failing")], told(w))
    item.click("Refresh all now")
    check("refresh-failing: the next refresh works",
          bool(eventually(lambda: journal(w, "refreshed"), timeout=WAIT)))
    check("refresh-failing: a refresh that works ends the incident",
          bool(eventually(lambda: not told(w), timeout=WAIT)), told(w))
    check("refresh-failing: one notice for the three failures",
          len(notes.naming(w.account)) == 1, notes.all())
    stop(app)
    notes.close()
    stop(w.emu)


def long_lived(work):
    """A long-lived token that ends in 3 days, connected with `amo` while the tray runs."""
    notes = Notes(work)
    w = World(work, access_ttl=86400, lang="ru_RU.UTF-8")
    app = hide_in_tray(w, notes, "long-lived", "ru")
    token = w.control("long-lived-token", {"days": 3})["token"]
    r = w.amo("connect", "--long-lived-token", "--account", w.account, input=token)
    check("long-lived: amo connects the long-lived token", r.returncode == 0, r.stderr)
    ends = time.time() + 3 * 86400
    got = eventually(lambda: notes.naming(w.account), timeout=WAIT)
    check("long-lived: the tray says the token ends soon, naming the account, in Russian",
          bool(got) and says(got[0], "ru", "long_lived_expiring", w.account), notes.all())
    when = re.search(r"(\d{4}-\d{2}-\d{2} \d{2}:\d{2}) UTC", got[0]["body"]) if got else None
    at = (datetime.datetime.strptime(when.group(1), "%Y-%m-%d %H:%M")
          .replace(tzinfo=datetime.timezone.utc).timestamp()) if when else 0
    check("long-lived: the notice says when the token ends", abs(at - ends) < 3600,
          got[0]["body"] if got else "")
    check("long-lived: no token or secret in any notice", secret_free(w, notes.all())
          and token not in json.dumps(notes.all()))
    time.sleep(5 * CHECK_SECS)
    check("long-lived: one notice for the token", len(notes.naming(w.account)) == 1,
          notes.all())
    stop(app)
    notes.close()
    stop(w.emu)


MANY = 7  # accounts in many-accounts: more than the 5 the tray lists one by one


def needs_reconnect(w, host):
    """The refresh tokens revoked (the emulator revokes every account's), `amo refresh` of
    `host` fails: that connection is to be made again, the others do not know yet (the tray
    refreshes none of them within the scenario: their access tokens are due in a day).
    Returns the state `amo status` gives `host`."""
    w.control("revoke", {"what": "refresh"})
    w.amo("refresh", "--account", host)
    r = w.amo("status", "--json")
    return next((c.get("state") for c in json.loads(r.stdout or "[]")
                 if c.get("account") == host), None)


def many_accounts(work):
    """More accounts than the menu lists one by one: those that need attention on top, each
    account in *All accounts*."""
    notes = Notes(work)
    w = World(work, access_ttl=86400, accounts=MANY)
    for number in range(1, MANY + 1):
        w.connect(number)
    hosts = sorted(w.hosts)
    first, second = w.hosts[3], w.hosts[1]
    check("many-accounts: a refresh token revoked, amo says reconnect_needed",
          needs_reconnect(w, first) == "reconnect_needed")
    app = w.app("--hidden")
    item = wait_until("the tray item", lambda: tray_item(w.home))
    everyone = f"All accounts ({MANY})"
    sub = wait_check(f"many-accounts: the menu has {everyone}, a submenu",
                     lambda: item.submenu(everyone), timeout=WAIT)

    def line(host, bad=()):
        return f"{host}: {'Reconnect needed' if host in bad else 'Connected'}"

    check("many-accounts: All accounts lists every account by host, with its state",
          [l for (_, l) in sub] == [line(h, [first]) for h in hosts], sub)
    check("many-accounts: the account that needs attention is on top, the others only in "
          "All accounts", item.labels() == [line(first, [first]), everyone,
                                             "Open amo-connector", "Refresh all now", "Quit"],
          item.labels())
    check("many-accounts: the tray icon has its attention look",
          bool(eventually(lambda: item.icon_is("tray-attention.png"), timeout=10)))
    # The tray checks every CHECK_SECS and on each change of the database: a change that
    # shows nothing new does not make the menu again.
    revision = item.layout()[0]
    r = w.amo("config", "set", "notifications", "on")
    time.sleep(5 * CHECK_SECS)
    check("many-accounts: checks and a change that shows nothing new leave the menu as it was",
          r.returncode == 0 and item.layout()[0] == revision, (r.stderr, revision,
                                                               item.layout()[0]))
    needs_reconnect(w, second)
    bad = sorted([first, second])
    check("many-accounts: a second account that needs attention joins the top, by host",
          eventually(lambda: item.labels()[:3] == [*(line(h, bad) for h in bad), everyone],
                     timeout=WAIT), item.labels())
    check("many-accounts: All accounts shows its new state",
          [l for (_, l) in item.submenu(everyone) or []] == [line(h, bad) for h in hosts],
          item.submenu(everyone))
    fine = next(h for h in hosts if h not in bad)
    cid = next((i for (i, l) in item.submenu(everyone) or [] if l == line(fine)), None)
    if cid is not None:
        item.click_id(cid)

    def window_at(host):
        return [p for p in ours(w.home) if comm(p) == "amo-connector"
                and host in open(f"/proc/{p}/cmdline").read().split("\0")]

    check("many-accounts: an account in All accounts opens the window at it",
          cid is not None and bool(eventually(lambda: windows() and window_at(fine),
                                              timeout=WAIT)), (cid, windows()))
    close_window()
    w.amo("config", "set", "lang", "ru")
    check("many-accounts: in Russian, Все аккаунты (7)",
          bool(eventually(lambda: f"Все аккаунты ({MANY})" in item.labels(), timeout=WAIT)),
          item.labels())
    stop(app)
    notes.close()
    stop(w.emu)


SESSION_CONF = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:tmpdir=/tmp</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


class Session:
    """A session bus of the scenario's own (nothing activated on demand) with a tray watcher
    and a gnome-keyring of its own, which the scenario stops and starts again."""

    def __init__(self, work):
        conf = os.path.join(work, "session.conf")
        with open(conf, "w") as f:
            f.write(SESSION_CONF)
        self.bus = spawn(["dbus-daemon", "--config-file", conf, "--nofork", "--print-address=1"],
                         stdout=subprocess.PIPE, text=True)
        self.address = self.bus.stdout.readline().strip()
        run, share = os.path.join(work, "run"), os.path.join(work, "share")
        os.makedirs(run, mode=0o700)
        os.makedirs(share)
        self.env = dict(os.environ, DBUS_SESSION_BUS_ADDRESS=self.address,
                        XDG_RUNTIME_DIR=run, XDG_DATA_HOME=share)
        for k in ("GNOME_KEYRING_CONTROL", "SSH_AUTH_SOCK"):
            self.env.pop(k, None)
        self.password = os.urandom(16).hex()
        self.log = open(os.path.join(work, "keyring.log"), "a")
        self.keyring = None
        BUS.update(address=self.address, connection=None)
        self.watcher = spawn(["status-notifier-watcher"], env=self.env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until("the tray watcher", lambda: name_owned("org.kde.StatusNotifierWatcher"))

    def start_keyring(self):
        """gnome-keyring with its login keyring unlocked (made at the first start)."""
        self.keyring = spawn(["gnome-keyring-daemon", "--foreground", "--unlock",
                              "--components=secrets"], env=self.env, stdin=subprocess.PIPE,
                             stdout=self.log, stderr=subprocess.STDOUT)
        self.keyring.stdin.write(self.password.encode())
        self.keyring.stdin.close()
        wait_until("the Secret Service", lambda: name_owned("org.freedesktop.secrets"))

    def stop_keyring(self):
        stop(self.keyring)
        wait_until("the Secret Service to go", lambda: not name_owned("org.freedesktop.secrets"))

    def close(self):
        BUS.update(address=None, connection=None)
        stop(self.watcher)
        if self.keyring:
            stop(self.keyring)
        stop(self.bus)


def keychain(work):
    """The Secret Service stops while the tray runs, starts again, and stops again."""
    session = Session(work)
    try:
        session.start_keyring()
        notes = Notes(work, env=session.env)
        w = World(work, access_ttl=86400)
        w.env.update({k: session.env[k] for k in
                      ("DBUS_SESSION_BUS_ADDRESS", "XDG_RUNTIME_DIR", "XDG_DATA_HOME")})
        for k in ("GNOME_KEYRING_CONTROL", "SSH_AUTH_SOCK"):
            w.env.pop(k, None)
        w.connect()
        app = hide_in_tray(w, notes, "keychain")
        title = catalogue("en")["notice.keychain_unavailable.title"]
        session.stop_keyring()
        got = eventually(lambda: notes.titled(title), timeout=WAIT)
        check("keychain: the tray says the keychain is not available, with the reason",
              bool(got) and says(got[0], "en", "keychain_unavailable"), notes.all())
        check("keychain: no token or secret in any notice", secret_free(w, notes.all()))
        time.sleep(5 * CHECK_SECS)
        check("keychain: one notice while the keychain stays away",
              len(notes.titled(title)) == 1, notes.all())
        check("keychain: the incident is remembered as told",
              told(w) == [("", "keychain_unavailable")], told(w))
        session.start_keyring()
        check("keychain: the keychain answering again ends the incident",
              bool(eventually(lambda: not told(w), timeout=WAIT)), told(w))
        session.stop_keyring()
        check("keychain: stopping again is a new incident, told again",
              len(eventually(lambda: len(notes.titled(title)) == 2 and notes.titled(title),
                             timeout=WAIT) or []) == 2, notes.all())
        stop(app)
        notes.close()
        stop(w.emu)
    finally:
        session.close()


def no_tray_host(work):
    stop_watcher()
    try:
        w = World(work, access_ttl=620)  # due 20 s after connecting
        w.connect()
        before = w.stats()["refresh_grants"]
        app = w.app()
        wait_until("the window", windows)
        # The window would start the tray before it is built.
        check("no-tray-host: the window starts no tray process", not trays(w.home),
              trays(w.home))
        check("no-tray-host: the open window refreshes at the due time",
              bool(eventually(lambda: w.stats()["refresh_grants"] > before, timeout=20 + WAIT,
                              every=0.5)))
        check("no-tray-host: still no tray process", not trays(w.home), trays(w.home))
        close_window()
        check("no-tray-host: closing the window quits",
              bool(eventually(lambda: app.poll() is not None and not ours(w.home), timeout=30)),
              [comm(p) for p in ours(w.home)])
        stop(w.emu)
    finally:
        start_watcher()


WATCHER = []  # the tray watcher while it runs


def call_proxy(port, key, path="/api/v4/account"):
    """The status a GET through the always-on proxy gets; 0 when nothing listens."""
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}",
                                 headers={"Authorization": f"Bearer {key}"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except (urllib.error.URLError, ConnectionError):
        return 0


def local_api(work):
    w = World(work, access_ttl=86400)
    w.connect()
    port = free_port()
    w.amo("config", "set", "proxy_port", str(port))
    on = w.amo("config", "set", "proxy", "on")
    check("local-api: amo config set proxy on names the address",
          on.returncode == 0 and f"http://127.0.0.1:{port}" in on.stdout, on.stdout + on.stderr)
    key = w.amo("proxy-key").stdout.strip()
    check("local-api: amo proxy-key prints a key kept in the keychain",
          len(key) >= 40 and w.amo("proxy-key").stdout.strip() == key, len(key))
    app = w.app()
    wait_until("the window", windows)
    wait_until("the tray process", lambda: trays(w.home))
    close_window(app)
    eventually(lambda: [comm(p) for p in ours(w.home)] == [TRAY_COMM], timeout=30)
    check("local-api: with the window closed, the tray serves the API with the kept key",
          eventually(lambda: call_proxy(port, key) == 200, timeout=WAIT) is True,
          call_proxy(port, key))
    shown = w.amo("config", "show").stdout
    check("local-api: amo config show says what the tray serves",
          f"http://127.0.0.1:{port}" in shown and f"serving {w.account}" in shown, shown)
    check("local-api: a wrong key is refused", call_proxy(port, "x" * len(key)) == 401)
    rotated = w.amo("proxy-key", "--rotate")
    new = rotated.stdout.strip()
    check("local-api: amo proxy-key --rotate prints a new key",
          rotated.returncode == 0 and new and new != key, rotated.stderr)
    check("local-api: after rotation the old key fails",
          eventually(lambda: call_proxy(port, key) == 401, timeout=WAIT) is True,
          call_proxy(port, key))
    check("local-api: after rotation the new key works", call_proxy(port, new) == 200)
    calls = open(os.path.join(w.home, "proxy-calls.log")).read()
    check("local-api: the calls are logged without the key",
          "GET /api/v4/account 200" in calls and key not in calls and new not in calls,
          calls[-500:])
    logs = "".join(open(os.path.join(w.home, f)).read() for f in os.listdir(w.home)
                   if f.endswith(".log") and os.path.isfile(os.path.join(w.home, f)))
    check("local-api: no key in the data folder's logs", key not in logs and new not in logs)
    w.amo("config", "set", "proxy", "off")
    check("local-api: turned off, the port closes",
          eventually(lambda: call_proxy(port, new) == 0, timeout=WAIT) is True)
    w.amo("config", "set", "proxy", "on")
    wait_until("the proxy again", lambda: call_proxy(port, new) == 200, timeout=WAIT)
    TrayItem(w.home).click("Quit")
    eventually(lambda: not ours(w.home), timeout=30)
    shown = w.amo("config", "show").stdout
    check("local-api: after Quit nothing listens and nothing claims to serve",
          call_proxy(port, new) == 0 and "serving" not in shown, shown)
    stop(app)
    stop(w.emu)


def start_watcher():
    WATCHER.append(spawn(["status-notifier-watcher"], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL))
    wait_until("the tray watcher", lambda: name_owned("org.kde.StatusNotifierWatcher"))


def stop_watcher():
    while WATCHER:
        stop(WATCHER.pop())
    wait_until("the tray watcher to go",
               lambda: not name_owned("org.kde.StatusNotifierWatcher"))


# Each scenario with the number of checks it makes when it runs to its end.
SCENARIOS = [("keeps-running", keeps_running, 21),
             ("autostart", autostart, 9),
             ("notify-en", lambda d: notify(d, "en"), 8),
             ("notify-ru", lambda d: notify(d, "ru"), 7),
             ("closed-window-en", lambda d: closed_window(d, "en", "test"), 10),
             ("closed-window-ru", lambda d: closed_window(d, "ru", "test"), 10),
             ("closed-window-dunst-en", lambda d: closed_window(d, "en", "dunst"), 9),
             ("closed-window-dunst-ru", lambda d: closed_window(d, "ru", "dunst"), 9),
             ("refresh-failing", refresh_failing, 10),
             ("long-lived", long_lived, 7),
             ("many-accounts", many_accounts, 10),
             ("keychain", keychain, 8),
             ("local-api", local_api, 12),
             ("no-tray-host", no_tray_host, 4)]
LOGS = ("app.log", "second.log", "third.log", "again.log", "keyring.log")


def main():
    """Runs the scenarios named on the command line, else all; each in a folder of its own,
    under one window manager and tray watcher."""
    work = {}

    def in_work(name, run):
        def go():
            work[name] = tempfile.mkdtemp(prefix=f"amo-tray-{name}-")
            run(work[name])
        return go

    def after(name, ok):
        stop_all(keep=[*wm, *WATCHER])
        folder = work.pop(name, None)
        if not folder:
            return
        kill_ours(os.path.join(folder, "data"))  # a tray the window started
        for log in LOGS if not ok else ():
            p = os.path.join(folder, log)
            if os.path.exists(p):
                print(f"--- {log}\n" + open(p).read()[-3000:], flush=True)
        shutil.rmtree(folder, ignore_errors=True)

    def desktop():
        wm.append(spawn(["openbox", "--sm-disable"], stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL))
        start_watcher()
        wait_until("the window manager", window_manager_up)

    wm = []
    return run_scenarios("tray.py", [(n, in_work(n, run), planned)
                                     for n, run, planned in SCENARIOS], sys.argv[1:], after,
                         setup=desktop)


if __name__ == "__main__":
    sys.exit(main())
