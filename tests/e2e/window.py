"""End-to-end test of the amo-connector window over W3C WebDriver (tauri-driver).

Runs from the repository root (tests/e2e/window.sh sets it up). Each scenario gets a
fresh data folder, a fresh emulator, a fresh tauri-driver and a fresh app:

  happy-en, happy-ru  setup form -> Connect -> browser -> card -> Refresh -> Test ->
                      Disconnect, visible words in that language, no secret in the page,
                      the "emulator mode" banner up all along
  failure-en          a wrong client secret: amoCRM's 401 and our explanation, no card

The app runs with AMO_BASE_URL (the emulator), so its client secret comes from
AMO_CLIENT_SECRET only: the form shows that field as set by the environment.

Waits poll the DOM through WebDriver (every 100 ms, bounded); there are no fixed sleeps.
Prints one line per check and ends with "N passed, N failed".
"""

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.error
import urllib.request

ROOT = os.getcwd()
APP = os.path.join(ROOT, "target/debug/amo-connector")
EMULATOR = os.path.join(ROOT, "target/debug/amo-emulator")
ARTIFACTS = os.path.abspath(os.environ.get("AMO_ARTIFACTS_DIR") or "artifacts")
SHOTS_DIR = os.path.join(ARTIFACTS, "e2e-window")
DOCS_SHOTS = os.path.join(ROOT, "docs/screenshots")
UPDATE_DOCS = os.environ.get("AMO_E2E_UPDATE_DOCS", "0") == "1"
HTTP_TIMEOUT = 30  # seconds, for every single call to the driver
WAIT = 30  # seconds, for any one condition in the window
ACCOUNT_NAME = "Emulated account"
WEB_ELEMENT = "element-6066-11e4-a52e-4f735466cecf"

# What the user reads, per language: written out here, not taken from the app.
WORDS = {
    "en": {
        "LANG": "en_US.UTF-8",
        "save": "Save",
        "connect": "Connect",
        "connected": "Connected",
        "refresh": "Refresh",
        "test": "Test connection",
        "disconnect": "Disconnect",
        "waiting": "Allow access in your browser",
        "tested": "amoCRM answered",
        "bad_secret": "amoCRM did not accept the client ID and secret",
        "emulator": "Emulator mode",
    },
    "ru": {
        "LANG": "ru_RU.UTF-8",
        "save": "Сохранить",
        "connect": "Подключить",
        "connected": "Подключено",
        "refresh": "Обновить",
        "test": "Проверить подключение",
        "disconnect": "Отключить",
        "waiting": "Разрешите доступ в браузере",
        "tested": "amoCRM ответил",
        "bad_secret": None,  # taken from locales/ru.json below
        "emulator": "Режим эмулятора",
    },
}

passed = 0
failed = 0
children = []  # Popen objects, each the leader of its own process group


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok   - {name}", flush=True)
    else:
        failed += 1
        print(f"FAIL - {name}" + (f": {detail}" if detail else ""), flush=True)
    return ok


def log(msg):
    print(f"# {msg}", flush=True)


# --- processes ------------------------------------------------------------------------


def spawn(args, env, **kw):
    p = subprocess.Popen(args, env=env, start_new_session=True, **kw)
    children.append(p)
    return p


def stop(p):
    if p.poll() is None:
        try:
            os.killpg(p.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait(timeout=5)
    if p in children:
        children.remove(p)


def stop_all():
    for p in list(reversed(children)):
        stop(p)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(what, cond, timeout=WAIT, every=0.1):
    """Polls `cond` until it returns something truthy; raises with `what` on timeout."""
    deadline = time.monotonic() + timeout
    last_err = None
    while True:
        try:
            v = cond()
            if v:
                return v
        except WebDriverError as e:
            last_err = e
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}"
                               + (f" (last error: {last_err})" if last_err else ""))
        time.sleep(every)


# --- WebDriver ------------------------------------------------------------------------


class WebDriverError(Exception):
    pass


class Interrupted(BaseException):
    """SIGTERM, SIGINT or SIGHUP: stop everything and say so."""


class Driver:
    def __init__(self, port):
        self.base = f"http://127.0.0.1:{port}"
        self.sid = None

    def req(self, method, path, body=None, timeout=HTTP_TIMEOUT):
        data = None if body is None else json.dumps(body).encode()
        r = urllib.request.Request(self.base + path, data=data, method=method,
                                   headers={"Content-Type": "application/json"})
        for attempt in range(3):
            try:
                return self._send(r, method, path, timeout)
            except (http.client.RemoteDisconnected, ConnectionResetError) as e:
                # tauri-driver reuses a pooled connection to WebKitWebDriver that the
                # latter may just have closed; it then drops ours before forwarding the
                # command ("client error (SendRequest)"), so sending it again is safe.
                log(f"{method} {path}: {type(e).__name__}, sending again")
                if attempt == 2:
                    raise

    @staticmethod
    def _send(r, method, path, timeout):
        try:
            with urllib.request.urlopen(r, timeout=timeout) as resp:
                return json.loads(resp.read() or b"{}").get("value")
        except urllib.error.HTTPError as e:
            try:
                v = json.loads(e.read()).get("value", {})
            except ValueError:
                v = {}
            raise WebDriverError(f"{method} {path}: {e.code} {v.get('error')}: "
                                 f"{v.get('message')}") from None

    def s(self, method, path, body=None, timeout=HTTP_TIMEOUT):
        return self.req(method, f"/session/{self.sid}{path}", body, timeout)

    def start(self, app):
        caps = {"capabilities": {"alwaysMatch": {"tauri:options": {"application": app}}}}
        v = self.req("POST", "/session", caps, timeout=90)
        self.sid = v["sessionId"]

    def quit(self):
        if self.sid:
            try:
                self.req("DELETE", f"/session/{self.sid}", timeout=15)
            except Exception as e:  # the processes get killed anyway
                log(f"closing the session: {e}")
            self.sid = None

    def js(self, script, *args):
        return self.s("POST", "/execute/sync", {"script": script, "args": list(args)})

    def frame_painted(self):
        """Resolves after two animation frames, so what the DOM says is on screen."""
        self.s("POST", "/execute/async", {
            "script": "const done = arguments[arguments.length - 1];"
                      "requestAnimationFrame(() => requestAnimationFrame(() => done(true)));",
            "args": []})

    def find(self, css):
        v = self.s("POST", "/element", {"using": "css selector", "value": css})
        return v[WEB_ELEMENT]

    def on_element(self, css, act):
        """Runs `act(element_id)` on the element `css` finds; when the page has just
        re-rendered it (cards are rebuilt on every update), finds the new one."""
        for attempt in range(5):
            try:
                return act(self.find(css))
            except WebDriverError as e:
                if "stale element" not in str(e) or attempt == 4:
                    raise

    def click(self, css):
        self.on_element(css, lambda el: self.s("POST", f"/element/{el}/click", {}))

    def type(self, css, text):
        def act(el):
            self.s("POST", f"/element/{el}/clear", {})
            self.s("POST", f"/element/{el}/value", {"text": text})
        self.on_element(css, act)

    def text(self, css):
        """The element's rendered text (WebDriver's visible text)."""
        return self.on_element(css, lambda el: self.s("GET", f"/element/{el}/text"))

    def visible(self, css):
        return self.js(
            "const e = document.querySelector(arguments[0]);"
            "if (!e) return false;"
            "const r = e.getBoundingClientRect();"
            "return !e.closest('[hidden]') && r.width > 0 && r.height > 0;", css)

    def wait_visible(self, css, timeout=WAIT):
        wait_until(f"{css} to show", lambda: self.visible(css), timeout)

    def toast_gone(self, timeout=10):
        """Waits until the toast has faded out (it hides itself after a few seconds)."""
        wait_until("the toast to fade", lambda: self.js(
            "const t = document.getElementById('toast');"
            "return !t.classList.contains('show') && getComputedStyle(t).opacity === '0';"),
            timeout)

    def html(self):
        return self.js("return document.documentElement.outerHTML;")


# --- the world around the window -----------------------------------------------------


def start_emulator(env, name, client_secret=None):
    callback_port = free_port()
    args = [EMULATOR, "--auto-approve", "--port", "0",
            "--redirect-uri", f"http://127.0.0.1:{callback_port}/amocrm/callback"]
    if client_secret:
        args += ["--client-secret", client_secret]
    with open(os.path.join(ARTIFACTS, f"e2e-window-{name}-emulator.log"), "w") as err:
        p = spawn(args, env, stdout=subprocess.PIPE, stderr=err, text=True)
    line = p.stdout.readline()
    if not line:
        raise RuntimeError("the emulator printed nothing")
    # Keep reading whatever else it prints, so a full pipe never blocks it.
    threading.Thread(target=p.stdout.read, daemon=True).start()
    return p, json.loads(line)


def emulator_post(emu, path, body):
    r = urllib.request.Request(emu["base_url"].rstrip("/") + path, data=json.dumps(body).encode(),
                               method="POST", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(r, timeout=10) as resp:
        return json.loads(resp.read() or b"{}")


def account_from_emulator(emu, access_token):
    r = urllib.request.Request(emu["base_url"].rstrip("/") + "/api/v4/account",
                               headers={"Authorization": f"Bearer {access_token}"})
    with urllib.request.urlopen(r, timeout=10) as resp:
        return json.loads(resp.read())


def secret_lookup(username):
    r = subprocess.run(["secret-tool", "lookup", "service", "amo-connector", "username", username],
                       capture_output=True, text=True, timeout=15)
    return r.stdout if r.returncode == 0 and r.stdout else None


def stored_tokens(account):
    """The connection's token set as the keychain holds it (a JSON blob, maybe in parts)."""
    head = secret_lookup(f"tokens:{account}")
    if head is None:
        return None
    v = json.loads(head)
    if "parts" in v and "gen" in v:
        blob = "".join(secret_lookup(f"tokens:{account}#{v['gen']}.{i}") or ""
                       for i in range(v["parts"]))
        v = json.loads(blob)
    return v


def write_browser(folder):
    """A fake browser: notes the address, waits for the test's go-ahead, then follows it."""
    path = os.path.join(folder, "browser")
    with open(path, "w") as f:
        f.write(f"""#!/bin/sh
# Plays the user's browser for the e2e test.
printf '%s\\n' "$1" >> '{folder}/opened'
i=0
while [ ! -e '{folder}/release' ]; do
  i=$((i + 1)); [ $i -gt 1200 ] && exit 1
  sleep 0.1
done
exec curl -sSL --max-time 30 "$1" -o /dev/null
""")
    os.chmod(path, 0o755)
    return path


def screenshot(name, d=None):
    """The X display (WebKitWebDriver's own screenshot can hang under Xvfb), cropped to
    the window when the driver says where it is."""
    os.makedirs(SHOTS_DIR, exist_ok=True)
    path = os.path.join(SHOTS_DIR, name)
    crop = []
    if d is not None:
        try:
            r = d.s("GET", "/window/rect")
            x, y, w, h = (int(r[k]) for k in ("x", "y", "width", "height"))
            if w > 0 and h > 0 and x >= 0 and y >= 0:
                crop = ["-crop", f"{w}x{h}+{x}+{y}", "+repage"]
        except (WebDriverError, KeyError, TypeError, ValueError) as e:
            log(f"no window rectangle, the whole display then: {e}")
    subprocess.run(["import", "-window", "root", *crop, path], check=True, timeout=30,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return path


def publish(path):
    if UPDATE_DOCS:
        os.makedirs(DOCS_SHOTS, exist_ok=True)
        shutil.copy(path, os.path.join(DOCS_SHOTS, os.path.basename(path)))


class Scenario:
    """A fresh data folder, emulator, tauri-driver and app, all stopped on leaving."""

    def __init__(self, lang, emulator_secret=None, app_secret=None):
        self.lang = lang
        self.emulator_secret = emulator_secret
        self.app_secret = app_secret

    def __enter__(self):
        self.tmp = tempfile.mkdtemp(prefix=f"amo-e2e-{self.lang}-")
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("AMO_") or k == "AMO_ARTIFACTS_DIR"}
        for k in ("XDG_CURRENT_DESKTOP", "DESKTOP_SESSION", "LANGUAGE", "LC_ALL", "LC_MESSAGES"):
            env.pop(k, None)
        self.emu_proc, self.emu = start_emulator(env, self.name(), self.emulator_secret)
        env.update({
            "AMO_CONNECTOR_HOME": os.path.join(self.tmp, "home"),
            "AMO_BASE_URL": self.emu["base_url"],
            # With AMO_BASE_URL the secret comes only from here, never from the keychain.
            "AMO_CLIENT_SECRET": self.app_secret or self.emu["client_secret"],
            "LANG": WORDS[self.lang]["LANG"],
            "BROWSER": write_browser(self.tmp),
        })
        port, native = free_port(), free_port()
        self.driver_log = open(os.path.join(ARTIFACTS, f"e2e-window-{self.name()}-driver.log"), "w")
        self.driver_proc = spawn(["tauri-driver", "--port", str(port), "--native-port", str(native)],
                                 env, stdout=self.driver_log, stderr=subprocess.STDOUT)
        self.d = Driver(port)
        wait_until("tauri-driver to answer", self._driver_up, timeout=30)
        self.d.start(APP)
        return self

    def name(self):
        return f"{self.lang}{'-failure' if self.emulator_secret else ''}"

    def _driver_up(self):
        if self.driver_proc.poll() is not None:
            raise RuntimeError("tauri-driver exited")
        try:
            self.d.req("GET", "/status", timeout=2)
            return True
        except (urllib.error.URLError, ConnectionError, OSError, WebDriverError):
            return False

    def release_browser(self):
        open(os.path.join(self.tmp, "release"), "w").close()

    def browser_opened(self):
        p = os.path.join(self.tmp, "opened")
        return os.path.exists(p) and open(p).read().strip()

    def __exit__(self, exc_type, *_):
        if exc_type is Interrupted:
            self.d.sid = None  # the processes go below; nobody is left to answer
        elif exc_type is not None:
            try:  # what the window showed when it went wrong, for the artifacts
                screenshot(f"error-{self.name()}.png", self.d)
                with open(os.path.join(ARTIFACTS, f"e2e-window-error-{self.name()}.html"), "w") as f:
                    f.write(self.d.html())
            except Exception as e:
                log(f"no error screenshot: {e}")
        self.d.quit()
        stop(self.driver_proc)
        stop(self.emu_proc)
        self.driver_log.close()
        shutil.rmtree(self.tmp, ignore_errors=True)
        return False


# --- scenarios ------------------------------------------------------------------------


def emulator_banner(d, w, emu, when):
    """The "emulator mode" banner is up and names the emulator's address."""
    css = "[data-testid=emulator-banner]"
    try:
        d.wait_visible(css)
        shown = True
    except TimeoutError:
        shown = False
    text = d.text(css) if shown else ""
    check(f"{when}: the emulator banner shows “{w['emulator']}…” and the emulator's address",
          shown and text.startswith(w["emulator"]) and emu["base_url"].rstrip("/") in text,
          repr(text))


def fill_setup(d, w, client_id, redirect_uri):
    d.wait_visible("#setup-view")
    save = d.text("[data-testid=setup-save]")
    check(f"setup form shows its Save button as “{w['save']}”", save == w["save"], repr(save))
    d.type("[data-testid=client-id]", client_id)
    check("the secret field is set by AMO_CLIENT_SECRET, not typed",
          d.js("return document.getElementById('client-secret').disabled;") is True
          and "AMO_CLIENT_SECRET" in d.text("#client-secret-hint"))
    d.type("[data-testid=redirect-uri]", redirect_uri)
    d.click("[data-testid=platform-amocrm]")
    d.click("[data-testid=setup-save]")
    d.wait_visible("[data-testid=connect-button]")
    check("saving the form leads to the Connect panel", True)
    secret_in_form = d.js("return document.getElementById('client-secret').value;")
    check("the secret field is emptied after saving", secret_in_form == "", repr(secret_in_form))


def press_connect(d, w):
    label = d.text("[data-testid=connect-button]")
    check(f"Connect button reads “{w['connect']}…”", label.startswith(w["connect"]), repr(label))
    d.click("[data-testid=connect-button]")


def secrets_absent(d, secrets, when):
    page = d.html()
    for what, value in secrets.items():
        check(f"{when}: the page does not contain the {what}",
              bool(value) and value not in page,
              "missing value" if not value else "found in outerHTML")


def happy(lang):
    w = WORDS[lang]
    log(f"happy path, LANG={w['LANG']}")
    with Scenario(lang) as sc:
        d, emu = sc.d, sc.emu
        account = emu["account_host"]
        emulator_banner(d, w, emu, "setup")
        fill_setup(d, w, emu["client_id"], emu["redirect_uri"])
        emulator_banner(d, w, emu, "dashboard")

        d.toast_gone()
        d.frame_painted()
        publish(screenshot(f"dashboard-not-connected-{lang}.png", d))
        check("no connection card before connecting",
              d.js("return document.querySelectorAll('[data-testid=connection-card]').length") == 0)

        press_connect(d, w)
        d.wait_visible("[data-testid=connect-waiting]")
        wait_until("the browser to be asked to open the address", sc.browser_opened)
        title = d.text("#waiting-title")
        check(f"waiting panel says “{w['waiting']}”", title == w["waiting"], repr(title))
        opened = sc.browser_opened()
        check("the browser got the emulator's authorize address",
              opened.startswith(emu["base_url"].rstrip("/")) and "state=" in opened, opened)
        d.toast_gone()
        d.frame_painted()
        publish(screenshot(f"waiting-{lang}.png", d))
        sc.release_browser()

        card = "[data-testid=connection-card]"
        wait_until("the connection card", lambda: d.visible(card))
        badge = d.text(f"{card} [data-testid=state-badge]")
        check(f"card's badge reads “{w['connected']}”", badge == w["connected"], repr(badge))
        name = d.text(f"{card} [data-testid=card-name]")
        check(f"card shows the account's name “{ACCOUNT_NAME}”", name == ACCOUNT_NAME, repr(name))
        host = d.text(f"{card} [data-testid=card-host]")
        check("card shows the account host", host == account, repr(host))
        command = d.text(f"{card} [data-testid=card-token-command]")
        check("card shows the amo token command for this account (never the token)",
              command == f"amo token --account {account}", repr(command))
        check("connect panel went back to idle", d.visible("[data-testid=connect-idle]")
              and not d.visible("[data-testid=connect-waiting]"))

        tokens = stored_tokens(account)
        check("the keychain holds the connection's tokens",
              bool(tokens and tokens.get("access_token") and tokens.get("refresh_token")))
        tokens = tokens or {}
        secrets_absent(d, {"client secret": emu["client_secret"],
                           "access token": tokens.get("access_token"),
                           "refresh token": tokens.get("refresh_token")}, "connected")

        emulator_banner(d, w, emu, "connected")
        d.toast_gone()
        d.frame_painted()
        publish(screenshot(f"connected-{lang}.png", d))

        # Refresh moves the expiry.
        expires_css = f"{card} [data-testid=card-expires] time"
        before = d.js("return document.querySelector(arguments[0]).dateTime", expires_css)
        label = d.text(f"{card} [data-testid=refresh-button]")
        check(f"Refresh button reads “{w['refresh']}…”", label.startswith(w["refresh"]), repr(label))
        d.click(f"{card} [data-testid=refresh-button]")
        wait_until("the refresh's result line",
                   lambda: d.visible(f"{card} [data-testid=action-result]"))
        after = d.js("return document.querySelector(arguments[0]).dateTime", expires_css)
        check("Refresh moves the expiry later", bool(before and after) and after > before,
              f"{before} -> {after}")
        fresh = stored_tokens(account) or {}
        check("Refresh stored a new access token in the keychain",
              fresh.get("access_token") and fresh.get("access_token") != tokens.get("access_token"))
        check("the keychain's expiry (ms) matches the card's",
              fresh.get("expires_at") is not None and
              time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(fresh["expires_at"] // 1000))
              + f".{fresh['expires_at'] % 1000:03d}Z" == after, f"{fresh.get('expires_at')} vs {after}")
        secrets_absent(d, {"client secret": emu["client_secret"],
                           "new access token": fresh.get("access_token"),
                           "new refresh token": fresh.get("refresh_token")}, "refreshed")

        # Test connection shows the account.
        info = account_from_emulator(emu, fresh.get("access_token", ""))
        label = d.text(f"{card} [data-testid=test-button]")
        check(f"Test button reads “{w['test']}”", label == w["test"], repr(label))
        d.click(f"{card} [data-testid=test-button]")
        wait_until("the test's result", lambda: d.visible(f"{card} [data-testid=test-result]"))
        result = d.text(f"{card} [data-testid=test-result]")
        check("Test connection shows the account's name and id",
              w["tested"] in result and ACCOUNT_NAME in result and str(info["id"]) in result,
              repr(result))
        d.frame_painted()
        screenshot(f"tested-{lang}.png", d)

        # Disconnect, confirmed in the page's dialog.
        label = d.text(f"{card} [data-testid=disconnect-button]")
        check(f"Disconnect button reads “{w['disconnect']}”", label == w["disconnect"], repr(label))
        d.click(f"{card} [data-testid=disconnect-button]")
        wait_until("the confirmation dialog", lambda: d.js(
            "return document.getElementById('confirm-dialog').open"))
        ok_label = d.text("[data-testid=confirm-ok]")
        check(f"dialog's confirm button reads “{w['disconnect']}”", ok_label == w["disconnect"],
              repr(ok_label))
        d.frame_painted()
        screenshot(f"confirm-disconnect-{lang}.png", d)
        d.click("[data-testid=confirm-ok]")
        wait_until("the card to go", lambda: d.js(
            "return document.querySelectorAll('[data-testid=connection-card]').length === 0"
            " && document.getElementById('connections-view').hidden"))
        check("Disconnect removes the card", True)
        check("the keychain no longer has tokens:" + account, secret_lookup(f"tokens:{account}") is None)
        label = d.text("[data-testid=connect-button]")
        check("Connect is offered again", label.startswith(w["connect"]), repr(label))
        d.frame_painted()
        screenshot(f"disconnected-{lang}.png", d)


def failure(lang):
    w = WORDS[lang]
    log(f"failure path (wrong client secret), LANG={w['LANG']}")
    bad = "a-wrong-secret-e2e"
    with Scenario(lang, emulator_secret="the-right-secret-e2e", app_secret=bad) as sc:
        d, emu = sc.d, sc.emu
        fill_setup(d, w, emu["client_id"], emu["redirect_uri"])
        emulator_banner(d, w, emu, "failure")
        sc.release_browser()  # the browser may go on at once
        press_connect(d, w)
        err = "[data-testid=connect-error] [data-testid=error-box]"
        wait_until("the error in the Connect panel", lambda: d.visible(err))
        title = d.text(f"{err} [data-testid=amo-title]")
        check("amoCRM's own title shows: “Некорректный клиент”", title == "Некорректный клиент",
              repr(title))
        message = d.text(f"{err} [data-testid=error-message]")
        check(f"our explanation shows: “{w['bad_secret']}”", w["bad_secret"] in message, repr(message))
        said = d.text(f"{err} [data-testid=amo-said]")
        check("amoCRM's status 401 shows", "401" in said, repr(said))
        check("no connection card appears",
              d.js("return document.querySelectorAll('[data-testid=connection-card]').length") == 0
              and d.js("return document.getElementById('connections-view').hidden"))
        check("nothing was stored for the account",
              secret_lookup(f"tokens:{emu['account_host']}") is None)
        check("the page does not contain the secret given", bad not in d.html())
        d.frame_painted()
        screenshot(f"wrong-secret-{lang}.png", d)


def main():
    os.makedirs(ARTIFACTS, exist_ok=True)
    with open(os.path.join(ROOT, "locales/ru.json")) as f:
        WORDS["ru"]["bad_secret"] = json.load(f)["error.amo.client_secret"].rstrip(".")
    started = time.monotonic()
    try:
        run_all()
    except Interrupted as e:
        check("the run was not interrupted", False, f"signal {e.args[0]}")
        stop_all()
        log(f"interrupted after {time.monotonic() - started:.1f}s")
        print(f"{passed} passed, {failed} failed", flush=True)
        return 128 + e.args[0]
    log(f"took {time.monotonic() - started:.1f}s; screenshots in {SHOTS_DIR}")
    print(f"{passed} passed, {failed} failed", flush=True)
    return 1 if failed or not passed else 0


def run_all():
    for name, run in (("happy-en", lambda: happy("en")), ("happy-ru", lambda: happy("ru")),
                      ("failure-en", lambda: failure("en")), ("failure-ru", lambda: failure("ru"))):
        try:
            run()
        except Exception as e:
            check(f"{name} ran to the end", False, f"{type(e).__name__}: {e}")
            traceback.print_exc()
        finally:
            stop_all()


def on_signal(signum, _frame):
    raise Interrupted(signum)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    try:
        sys.exit(main())
    finally:
        stop_all()
