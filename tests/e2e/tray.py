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
  no-tray-host    with no tray watcher on the bus, no tray process: the open window does
                  the background refresh itself, and closing it quits

Waits poll (the bus, the emulator's counters, the window list) with a bound; the only
fixed span is the one that proves "no second notice", and it is counted in checks.
Prints one line per check and ends with "N passed, N failed".
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

import dbus
import gi

gi.require_version("GdkPixbuf", "2.0")
from gi.repository import GdkPixbuf, GLib  # noqa: E402

from procs import free_port, spawn, stop, stop_all  # noqa: E402

ROOT = os.getcwd()
APP = os.path.join(ROOT, "target/debug/amo-connector")
TRAY_COMM = "amo-connector-t"  # amo-connector-tray, as /proc/PID/comm cuts it (15 bytes)
ICONS = os.path.join(ROOT, "icons")
AMO = os.path.join(ROOT, "target/debug/amo")
EMULATOR = os.path.join(ROOT, "target/debug/amo-emulator")
NOTIFYD = os.path.join(ROOT, "tests/e2e/notifyd.py")
WAIT = 60
CHECK_SECS = 1  # AMO_CHECK_SECS: how often the app compares due times with the clock

passed = 0
failed = 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok    {name}", flush=True)
    else:
        failed += 1
        print(f"FAIL  {name}" + (f": {detail}" if detail else ""), flush=True)
    return ok


def wait_until(what, cond, timeout=WAIT, every=0.2):
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(every)


def eventually(cond, timeout=WAIT, every=0.2):
    """`cond()` once it is true within `timeout`, else its last (false) value."""
    try:
        return wait_until("", cond, timeout=timeout, every=every)
    except TimeoutError:
        return cond()


# --- the desktop ------------------------------------------------------------------------


def windows():
    r = subprocess.run(["wmctrl", "-l", "-p"], capture_output=True, text=True)
    return [l for l in r.stdout.splitlines() if l.rstrip().endswith("amo-connector")]


def descendants(pid):
    kids = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    stat = f.read()
                ppid = int(stat.rsplit(")", 1)[1].split()[1])
                kids.setdefault(ppid, []).append(int(d))
            except (OSError, ValueError, IndexError):
                pass
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        for k in kids.get(p, []):
            out.append(k)
            todo.append(k)
    return out


def comm(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return ""


def webkit_children(pid):
    return [p for p in descendants(pid) if comm(p).startswith("WebKit")]


def ours(home):
    """The live processes started for the data folder `home` (their environment names it)."""
    mark = f"AMO_CONNECTOR_HOME={home}".encode()
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/environ", "rb") as f:
                    if mark in f.read().split(b"\0"):
                        out.append(int(d))
            except OSError:
                pass
    return out


def trays(home):
    return [p for p in ours(home) if comm(p) == TRAY_COMM]


def kill_ours(home):
    for pid in ours(home):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def bus():
    return dbus.SessionBus()


def name_owned(name):
    b = bus()
    return bool(b.get_object("org.freedesktop.DBus", "/org/freedesktop/DBus")
                .NameHasOwner(name, dbus_interface="org.freedesktop.DBus"))


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

    def click(self, label):
        cid = next(i for (i, l, _) in self.items() if l == label)
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

    def __init__(self, work):
        self.path = os.path.join(work, "notes.jsonl")
        open(self.path, "w").close()
        self.proc = spawn(["/usr/bin/python3", NOTIFYD, self.path], stdout=subprocess.PIPE,
                          text=True)
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

    def close(self):
        stop(self.proc)


# --- the emulator and amo ----------------------------------------------------------------


class World:
    """A data folder, an emulator with a short access-token life and `amo` connected to it."""

    def __init__(self, work, access_ttl, lang="en_US.UTF-8"):
        self.work = work
        redirect = f"http://127.0.0.1:{free_port()}/amocrm/callback"
        self.emu = spawn([EMULATOR, "--port", "0", "--auto-approve", "--redirect-uri", redirect,
                          "--access-ttl", str(access_ttl)], stdout=subprocess.PIPE,
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
        self.home = self.env["AMO_CONNECTOR_HOME"]

    def amo(self, *args, env=None):
        e = dict(self.env, **(env or {}))
        return subprocess.run([AMO, *args], env=e, capture_output=True, text=True, timeout=90)

    def connect(self):
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
    check("keeps-running: the tray holds an item",
          wait_until("a tray item", tray_items), tray_items())
    check("keeps-running: the window started one tray process",
          len(wait_until("the tray process", lambda: trays(w.home))) == 1, trays(w.home))
    wait_until("the web view", lambda: webkit_children(app.pid))
    subprocess.run(["wmctrl", "-c", "amo-connector"], check=True)
    wait_until("the window to close", lambda: not windows())
    try:
        app.wait(timeout=30)
    except subprocess.TimeoutExpired:
        pass
    check("keeps-running: closing the window ends the window's process", app.poll() is not None)
    check("keeps-running: closing the window leaves the tray process running",
          len(trays(w.home)) == 1, trays(w.home))
    eventually(lambda: [comm(p) for p in ours(w.home)] == [TRAY_COMM], timeout=30)
    names = sorted(comm(p) for p in ours(w.home))
    check("keeps-running: the hidden app has no WebKit process",
          not [n for n in names if n.startswith("WebKit")], names)
    check("keeps-running: only amo-connector-tray is left, no window process",
          names == [TRAY_COMM], names)
    notice = wait_until("the tray notice", lambda: [n for n in notes.all()
                                                    if "keeps running" in n["summary"]])
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
    check("keeps-running: the tray's Open shows the window",
          bool(wait_until("the window from the tray", windows)))
    window_procs = [p for p in ours(w.home) if comm(p) == "amo-connector"]
    check("keeps-running: the window the tray opens has the session's environment",
          bool(window_procs) and all(b"GDK_GL=" not in open(f"/proc/{p}/environ", "rb").read()
                                     for p in window_procs), window_procs)
    second = w.app(log_name="second")
    second.wait(timeout=30)
    check("keeps-running: a second launch ends at once", second.returncode == 0)
    check("keeps-running: a second launch shows the same window",
          len(wait_until("the window again", windows)) == 1
          and [p for p in ours(w.home) if comm(p) == "amo-connector"] == window_procs,
          windows())
    check("keeps-running: still one tray process", len(trays(w.home)) == 1, trays(w.home))
    subprocess.run(["wmctrl", "-c", "amo-connector"], check=True)
    wait_until("the window to close", lambda: not windows())
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
    check("autostart: the hidden app registers a tray item",
          bool(wait_until("a tray item", tray_items)))
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
        check("notify-en: a click opens the window", bool(wait_until("the window", windows)))
        subprocess.run(["wmctrl", "-c", "amo-connector"], check=True)
        wait_until("the window to close", lambda: not windows())
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
        subprocess.run(["wmctrl", "-c", "amo-connector"], check=True)
        wait_until("the window to close", lambda: not windows())
        check("no-tray-host: closing the window quits",
              bool(eventually(lambda: app.poll() is not None and not ours(w.home), timeout=30)),
              [comm(p) for p in ours(w.home)])
        stop(w.emu)
    finally:
        start_watcher()


WATCHER = []  # the tray watcher while it runs


def start_watcher():
    WATCHER.append(spawn(["status-notifier-watcher"], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL))
    wait_until("the tray watcher", lambda: name_owned("org.kde.StatusNotifierWatcher"))


def stop_watcher():
    while WATCHER:
        stop(WATCHER.pop())
    wait_until("the tray watcher to go",
               lambda: not name_owned("org.kde.StatusNotifierWatcher"))


def main():
    only = sys.argv[1:]
    scenarios = [("keeps-running", keeps_running), ("autostart", autostart),
                 ("notify-en", lambda d: notify(d, "en")),
                 ("notify-ru", lambda d: notify(d, "ru")),
                 ("no-tray-host", no_tray_host)]
    wm = spawn(["openbox", "--sm-disable"], stdout=subprocess.DEVNULL,
               stderr=subprocess.DEVNULL)
    start_watcher()
    wait_until("the window manager", lambda: subprocess.run(
        ["wmctrl", "-m"], capture_output=True).returncode == 0)
    try:
        for name, run in scenarios:
            if only and name not in only:
                continue
            work = tempfile.mkdtemp(prefix=f"amo-tray-{name}-")
            try:
                run(work)
            except Exception as e:  # one scenario's failure does not hide the others
                check(f"{name}: ran to the end", False, f"{type(e).__name__}: {e}")
                for log in ("app.log", "second.log", "third.log", "again.log"):
                    p = os.path.join(work, log)
                    if os.path.exists(p):
                        print(f"--- {log}\n" + open(p).read()[-3000:], flush=True)
            finally:
                stop_all(keep=[wm, *WATCHER])
                kill_ours(os.path.join(work, "data"))  # a tray the window started
                shutil.rmtree(work, ignore_errors=True)
    finally:
        stop_all()
    print(f"{passed} passed, {failed} failed", flush=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
