"""End-to-end test of the amo-connector window over W3C WebDriver (tauri-driver).

Runs from the repository root (tests/e2e/window.sh sets it up). Each scenario gets a
fresh data folder, a fresh emulator, a fresh tauri-driver and a fresh app:

  happy-en, happy-ru  setup form -> Connect -> browser -> card -> Refresh -> Test ->
                      Disconnect, visible words in that language, no secret in the page,
                      the "emulator mode" banner up all along
  failure-en          a wrong client secret: amoCRM's 401 and our explanation, no card
  many-accounts       200 accounts (AMO_E2E_ACCOUNTS): the list past a handful, its filters,
                      orders and keys, the selected row's card and its buttons, what a
                      re-render keeps, axe in both languages and themes
  local-api           the always-on local API: a port of its own, switched on, served by the
                      window; amo proxy-key's key works and never enters the page; Copy key
                      (the X clipboard), Rotate key (the old key gets 401), the last calls

The app runs with AMO_BASE_URL (the emulator), so its client secret comes from
AMO_CLIENT_SECRET only: the form shows that field as set by the environment.

The window is driven with the Selenium client (tests/e2e/requirements.txt, installed into
.venv/ by scripts/setup). Waits poll the DOM every 100 ms, bounded (kit.wait_until); there
are no fixed sleeps. A wait that is itself a check (`Driver.wait_check`) fails under its
name when it runs out. Prints one line per check and ends with kit's count line; each
scenario says how many checks it makes, so one that stops early shows the rest as skipped.

One file past the usual length on purpose: each scenario reads as the sequence a person
goes through, and they share the driver and the page's selectors kept here; the helpers
that are not about the window live in kit.py.
"""

import concurrent.futures
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

import urllib3

from kit import (Interrupted, WaitTimeout, check, free_port, log, run_scenarios, spawn, stop,
                 stop_all, wait_check, wait_until)
from selenium import webdriver
from selenium.common.exceptions import (ElementNotInteractableException,
                                        StaleElementReferenceException, WebDriverException)
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.common.options import ArgOptions
from selenium.webdriver.common.proxy import Proxy, ProxyType
from selenium.webdriver.remote.client_config import ClientConfig

ROOT = os.getcwd()
APP = os.path.join(ROOT, "target/debug/amo-connector")
EMULATOR = os.path.join(ROOT, "target/debug/amo-emulator")
ARTIFACTS = os.path.abspath(os.environ.get("AMO_ARTIFACTS_DIR") or "artifacts")
SHOTS_DIR = os.path.join(ARTIFACTS, "e2e-window")
DOCS_SHOTS = os.path.join(ROOT, "docs/screenshots")
UPDATE_DOCS = os.environ.get("AMO_E2E_UPDATE_DOCS", "0") == "1"
HTTP_TIMEOUT = 120  # seconds, for every single call to the driver (an axe run is the longest)
WAIT = 30  # seconds, for any one condition in the window
ACCOUNT_NAME = "Emulated account"

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
        "shown": "{} of {}",
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
        "shown": "{} из {}",
    },
}

# --- WebDriver ------------------------------------------------------------------------


class Driver:
    """The window through Selenium, with the few helpers the checks share."""

    def __init__(self, port):
        self.url = f"http://127.0.0.1:{port}"
        self.wd = None

    def start(self, app):
        # tauri-driver wants the app under tauri:options and no browserName (it picks the
        # platform's WebDriver itself); ArgOptions adds none.
        options = ArgOptions()
        options.set_capability("tauri:options", {"application": app})
        # Straight to the local tauri-driver, whatever proxy the environment names.
        config = ClientConfig(self.url, timeout=HTTP_TIMEOUT,
                              proxy=Proxy({"proxyType": ProxyType.DIRECT}))
        self.wd = webdriver.Remote(command_executor=self.url, options=options,
                                   client_config=config)

    def quit(self):
        if self.wd:
            try:
                self.wd.quit()
            except Exception as e:  # the processes get killed anyway
                log(f"closing the session: {e}")
            self.wd = None

    def wait(self, what, cond, timeout=WAIT):
        """Polls `cond()` every 100 ms until it is truthy and returns that; a WebDriver error
        meanwhile (the page re-rendering under it) only means "not yet". Raises WaitTimeout
        naming `what`."""
        return wait_until(what, cond, timeout, ignore=(WebDriverException,))

    def wait_check(self, name, cond, timeout=WAIT):
        """The same wait as a check named `name`: it fails, and the scenario stops, when the
        wait runs out."""
        return wait_check(name, cond, timeout, ignore=(WebDriverException,))

    def js(self, script, *args):
        return self.wd.execute_script(script, *args)

    def js_async(self, script, *args):
        return self.wd.execute_async_script(script, *args)

    def frame_painted(self):
        """Resolves after two animation frames, so what the DOM says is on screen."""
        self.js_async("const done = arguments[arguments.length - 1];"
                      "requestAnimationFrame(() => requestAnimationFrame(() => done(true)));")

    def on_element(self, css, act):
        """Runs `act(element)` on the element `css` finds; when the page has just
        re-rendered it (cards and rows are rebuilt on every update), finds the new one. An
        element replaced while it was being clicked can read as not interactable too."""
        for attempt in range(5):
            try:
                return act(self.wd.find_element(By.CSS_SELECTOR, css))
            except (StaleElementReferenceException, ElementNotInteractableException):
                if attempt == 4:
                    raise
                time.sleep(0.1)

    def click(self, css):
        self.on_element(css, lambda el: el.click())

    def type(self, css, text):
        def act(el):
            el.clear()
            el.send_keys(text)
        self.on_element(css, act)

    def text(self, css):
        """The element's rendered text (WebDriver's visible text)."""
        return self.on_element(css, lambda el: el.text)

    def visible(self, css):
        return self.js(
            "const e = document.querySelector(arguments[0]);"
            "if (!e) return false;"
            "const r = e.getBoundingClientRect();"
            "return !e.closest('[hidden]') && r.width > 0 && r.height > 0;", css)

    def wait_visible(self, css, timeout=WAIT):
        self.wait(f"{css} to show", lambda: self.visible(css), timeout)

    def toast_gone(self, timeout=10):
        """Waits until the toast has faded out (it hides itself after a few seconds)."""
        self.wait("the toast to fade", lambda: self.js(
            "const t = document.getElementById('toast');"
            "return !t.classList.contains('show') && getComputedStyle(t).opacity === '0';"),
            timeout)

    def html(self):
        return self.js("return document.documentElement.outerHTML;")

    def keys(self, *keys):
        """Presses each key (a Keys value or one character) through key actions."""
        ActionChains(self.wd).send_keys(*keys).perform()

    def type_keys(self, text):
        self.keys(text)

    def chord(self, modifier, key):
        ActionChains(self.wd).key_down(modifier).send_keys(key).key_up(modifier).perform()

    def focused(self):
        """What has the keyboard focus: its test id, else its id, else its tag."""
        return self.js("const a = document.activeElement;"
                       "return a ? (a.dataset.testid || a.id || a.tagName.toLowerCase()) : null;")


# --- the world around the window -----------------------------------------------------


def start_emulator(env, name, client_secret=None, extra=()):
    callback_port = free_port()
    args = [EMULATOR, "--auto-approve", "--port", "0",
            "--redirect-uri", f"http://127.0.0.1:{callback_port}/amocrm/callback", *extra]
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
            r = d.wd.get_window_rect()
            x, y, w, h = (int(r[k]) for k in ("x", "y", "width", "height"))
            if w > 0 and h > 0 and x >= 0 and y >= 0:
                crop = ["-crop", f"{w}x{h}+{x}+{y}", "+repage"]
        except (WebDriverException, KeyError, TypeError, ValueError) as e:
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

    def __init__(self, lang, emulator_secret=None, app_secret=None, label=None, emulator_args=(),
                 before_app=None):
        """`label` names the scenario's logs (else the language); `emulator_args` go to its
        emulator; `before_app(scenario, env)` runs once the emulator is up, before the app
        starts with `env`, which it may change."""
        self.lang = lang
        self.emulator_secret = emulator_secret
        self.app_secret = app_secret
        self.label = label
        self.emulator_args = emulator_args
        self.before_app = before_app

    def __enter__(self):
        self.tmp = tempfile.mkdtemp(prefix=f"amo-e2e-{self.lang}-")
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("AMO_") or k == "AMO_ARTIFACTS_DIR"}
        for k in ("XDG_CURRENT_DESKTOP", "DESKTOP_SESSION", "LANGUAGE", "LC_ALL", "LC_MESSAGES"):
            env.pop(k, None)
        self.emu_proc, self.emu = start_emulator(env, self.name(), self.emulator_secret,
                                                 self.emulator_args)
        env.update({
            "AMO_CONNECTOR_HOME": os.path.join(self.tmp, "home"),
            "AMO_BASE_URL": self.emu["base_url"],
            # With AMO_BASE_URL the secret comes only from here, never from the keychain.
            "AMO_CLIENT_SECRET": self.app_secret or self.emu["client_secret"],
            "LANG": WORDS[self.lang]["LANG"],
            "BROWSER": write_browser(self.tmp),
        })
        if self.before_app:
            self.before_app(self, env)
        self.env = env
        # Appended: the scenarios of one language share the file, each keeps its part.
        self.driver_log = open(os.path.join(ARTIFACTS, f"e2e-window-{self.name()}-driver.log"), "a")
        self._start_driver(env)
        try:
            self.d.start(APP)
        except (ConnectionError, urllib3.exceptions.ProtocolError) as e:
            # tauri-driver can lose its WebKitWebDriver while the session is being made (seen
            # once on a loaded machine): a fresh pair gets one more try, said in the log.
            log(f"the session could not be made ({e}); a fresh tauri-driver tries again")
            stop(self.driver_proc)
            self._start_driver(env)
            self.d.start(APP)
        return self

    def _start_driver(self, env):
        port, native = free_port(), free_port()
        self.driver_proc = spawn(["tauri-driver", "--port", str(port), "--native-port", str(native)],
                                 env, stdout=self.driver_log, stderr=subprocess.STDOUT)
        self.d = Driver(port)
        wait_until("tauri-driver to answer", self._driver_up, timeout=30)

    def name(self):
        return self.label or f"{self.lang}{'-failure' if self.emulator_secret else ''}"

    def _driver_up(self):
        if self.driver_proc.poll() is not None:
            raise RuntimeError("tauri-driver exited")
        try:  # its status endpoint, before there is a session for Selenium to talk to
            with urllib.request.urlopen(self.d.url + "/status", timeout=2):
                return True
        except (urllib.error.URLError, ConnectionError, OSError):
            return False

    def release_browser(self):
        open(os.path.join(self.tmp, "release"), "w").close()

    def browser_opened(self):
        p = os.path.join(self.tmp, "opened")
        return os.path.exists(p) and open(p).read().strip()

    def __exit__(self, exc_type, *_):
        if exc_type is Interrupted:
            self.d.wd = None  # the processes go below; nobody is left to answer
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


# --- accessibility and language -------------------------------------------------------

AXE = os.path.join(ROOT, "node_modules/axe-core/axe.min.js")
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
TAB, ENTER, SPACE, ESCAPE = Keys.TAB, Keys.ENTER, Keys.SPACE, Keys.ESCAPE


def audit(d, state, lang):
    """axe-core in the real window: no serious or critical WCAG 2.2 AA violation."""
    if not d.js("return typeof window.axe === 'object';"):
        with open(AXE) as f:
            d.js(f.read() + "\n;return true;")
    d.frame_painted()
    res = d.js_async(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: arguments[0]},"
        " resultTypes: ['violations']})"
        ".then(r => done({passed: r.passes.length, violations: r.violations.map(v =>"
        " ({id: v.id, impact: v.impact,"
        " nodes: v.nodes.slice(0, 3).map(n => n.target.join(' ') + ': '"
        " + (n.failureSummary || '').split('\\n').slice(1, 2).join(''))}))}))"
        ".catch(e => done({passed: 0, violations: [{id: 'axe-failed', impact: 'critical',"
        " nodes: [String(e)]}]}));",
        AXE_TAGS)
    check(f"axe, {state} ({lang}): its rules ran (some passed)", res["passed"] > 0, str(res))
    res = res["violations"]
    bad = [v for v in res if v["impact"] in ("serious", "critical")]
    others = [v for v in res if v["impact"] not in ("serious", "critical")]
    log(f"axe {state} ({lang}): {len(bad)} serious or critical, {len(others)} other "
        f"({', '.join(v['id'] + '/' + str(v['impact']) for v in others) or 'none'})")
    check(f"axe, {state} ({lang}): no serious or critical WCAG 2.2 AA violation", not bad,
          "; ".join(f"{v['id']} ({v['impact']}): {v['nodes']}" for v in bad))


# Latin-script words the Russian window may show: names of products and protocols, the
# label amoCRM's own Russian pages use ("ID интеграции"), the host name localhost, and each
# language's name in that language in the language menu ("English").
# Addresses, host names, paths and file names (anything with . / : or @), text in
# backticks (a command to type) and elements marked translate="no" (values quoted as they
# are: an account's host or name, a masked token, amoCRM's own words) are not words.
LATIN_ALLOWED = {"amoCRM", "Kommo", "OAuth", "amo-connector", "ID", "Secret", "Service", "API",
                 "macOS", "Windows", "localhost", "English", "AMO_BASE_URL", "AMO_CLIENT_SECRET", "AMO_CLIENT_ID",
                 "AMO_REDIRECT_URI", "AMO_PLATFORM"}


def latin_words(d, within=None):
    """The Latin-script words shown in the window (or in the element `within` names)."""
    texts = d.js("""
        const root = arguments[0] ? document.querySelector(arguments[0]) : document.body;
        const out = [];
        const skip = (e) => e.closest('[translate=no], [hidden], script, style, code');
        const shown = (e) => { const r = e.getBoundingClientRect();
          return r.width > 0 && r.height > 0 && getComputedStyle(e).visibility !== 'hidden'; };
        const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
        for (let n = walker.nextNode(); n; n = walker.nextNode()) {
          const e = n.parentElement;
          if (e && !skip(e) && (shown(e) || e.closest('[role=status]'))) out.push(n.textContent);
        }
        for (const e of root.querySelectorAll('[aria-label], [title], [placeholder]')) {
          if (skip(e)) continue;
          for (const a of ['aria-label', 'title', 'placeholder']) if (e.getAttribute(a)) out.push(e.getAttribute(a));
        }
        for (const o of root.querySelectorAll('option')) out.push(o.textContent);
        if (!arguments[0]) out.push(document.title);
        return out;""", within)
    found = set()
    for text in texts:
        text = re.sub(r"`[^`]*`", " ", text)
        for token in text.split():
            word = token.strip("()[]{}«»“”\"',;:!?—–-…")
            # Digits make it a value (an example identifier, a port), not a word.
            if not word or re.search(r"[./:@\\0-9]", word) or not re.search(r"[A-Za-z]", word):
                continue
            if word not in LATIN_ALLOWED:
                found.add(word)
    return sorted(found)


def russian_only(d, state, within=None):
    words = latin_words(d, within)
    check(f"the Russian window, {state}: no Latin-script word outside the allow-list",
          not words, ", ".join(words))


def inspect_state(d, lang, state):
    """Every state the window has gets the audit, and in Russian the language check."""
    audit(d, state, lang)
    if lang == "ru":
        russian_only(d, state)


# --- scenarios ------------------------------------------------------------------------


def emulator_banner(d, w, emu, when):
    """The "emulator mode" banner is up and names the emulator's address."""
    css = "[data-testid=emulator-banner]"
    try:
        d.wait_visible(css)
        shown = True
    except WaitTimeout:
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
    d.wait_check("saving the form leads to the Connect panel",
                 lambda: d.visible("[data-testid=connect-button]"))
    secret_in_form = d.js("return document.getElementById('client-secret').value;")
    check("the secret field is emptied after saving", secret_in_form == "", repr(secret_in_form))


def integration_picker(d, client_id):
    """The setup form lists the integration added, chosen, and offers to add another."""
    d.click("[data-testid=settings-button]")
    d.wait_visible("#setup-view")
    picker = "[data-testid=integration-select]"
    check("setup: the Integration list shows once one was added", d.visible(picker))
    options = d.js("return [...document.querySelectorAll(arguments[0] + ' option')]"
                   ".map((o) => [o.value, o.selected]);", picker)
    check("setup: it lists the integration, chosen, then Add another",
          options == [[client_id, True], ["", False]], options)
    d.js("const s = document.querySelector(arguments[0]); s.value = '';"
         "s.dispatchEvent(new Event('change'));", picker)
    check("setup: Add another empties the client ID",
          d.js("return document.getElementById('client-id').value;") == "")
    d.js("const s = document.querySelector(arguments[0]); s.value = arguments[1];"
         "s.dispatchEvent(new Event('change'));", picker, client_id)
    check("setup: choosing it again brings its client ID back",
          d.js("return document.getElementById('client-id').value;") == client_id)
    d.click("[data-testid=setup-cancel]")
    d.wait("the dashboard again", lambda: not d.visible("#setup-view"))


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
        d.wait_visible("#setup-view")
        # Put there by the window's initialization script (boot.rs), before the page's own.
        root = d.js("const r = document.documentElement;"
                    " return {font: r.style.getPropertyValue('--font'), lang: r.lang}")
        check("the page's root names the desktop's font and the language",
              root["font"].strip() != "" and root["lang"] == lang, repr(root))
        # Only the page's own scripts run: the content security policy refuses one added to it.
        injected = d.js("const s = document.createElement('script');"
                        " s.textContent = 'window.amoTestInjected = true';"
                        " document.body.append(s); s.remove(); return window.amoTestInjected === true")
        check("the content security policy refuses a script the page did not come with",
              not injected)
        inspect_state(d, lang, "setup form")
        fill_setup(d, w, emu["client_id"], emu["redirect_uri"])
        emulator_banner(d, w, emu, "dashboard")

        d.toast_gone()
        d.frame_painted()
        publish(screenshot(f"dashboard-not-connected-{lang}.png", d))
        check("no connection card before connecting",
              d.js("return document.querySelectorAll('[data-testid=connection-card]').length") == 0)
        inspect_state(d, lang, "not connected")

        press_connect(d, w)
        d.wait_visible("[data-testid=connect-waiting]")
        d.wait("the browser to be asked to open the address", sc.browser_opened)
        title = d.text("#waiting-title")
        check(f"waiting panel says “{w['waiting']}”", title == w["waiting"], repr(title))
        opened = sc.browser_opened()
        check("the browser got the emulator's authorize address",
              opened.startswith(emu["base_url"].rstrip("/")) and "state=" in opened, opened)
        d.toast_gone()
        d.frame_painted()
        publish(screenshot(f"waiting-{lang}.png", d))
        inspect_state(d, lang, "waiting for the browser")
        check("the live region says the window waits for the browser",
              d.text("[data-testid=announcer]") != "" or d.js(
                  "return document.getElementById('announcer').textContent") != "")
        sc.release_browser()

        card = "[data-testid=connection-card]"
        d.wait("the connection card", lambda: d.visible(card))
        badge = d.text(f"{card} [data-testid=state-badge]")
        check(f"card's badge reads “{w['connected']}”", badge == w["connected"], repr(badge))
        name = d.text(f"{card} [data-testid=card-name]")
        check(f"card shows the account's name “{ACCOUNT_NAME}”", name == ACCOUNT_NAME, repr(name))
        host = d.text(f"{card} [data-testid=card-host]")
        check("card shows the account host", host == account, repr(host))
        integration = d.text(f"{card} [data-testid=card-integration]")
        check("card says which integration it uses (its client ID)",
              integration == emu["client_id"], repr(integration))
        integration_picker(d, emu["client_id"])
        token_command = f"{card} [data-testid=card-token-command]"
        check("card's Use from scripts is folded at first", not d.visible(token_command))
        d.click(f"{card} [data-testid=card-scripts-toggle]")
        d.wait_visible(token_command)
        command = d.text(token_command)
        check("card shows the amo token command for this account (never the token)",
              command == f"amo token --account {account}", repr(command))
        d.click(f"{card} [data-testid=card-scripts-toggle]")
        d.wait("Use from scripts to fold again", lambda: not d.visible(token_command))
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
        inspect_state(d, lang, "connected")
        themes(d, lang)
        raw = d.js("return document.body.innerText")
        check("no raw UTC timestamp anywhere in the window",
              not re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d", raw), raw[:300])

        # Loaded again, the page starts from the data the window was built with (no
        # connection then); `ready` says that no longer holds, and the page reads afresh.
        d.js("window.amoTestOldPage = true")
        d.wd.refresh()
        first = d.wait("the page loaded again", lambda: d.js(
            "return !window.amoTestOldPage && document.getElementById('skeleton').hidden"
            " && {n: (window.__AMO_BOOT__?.overview?.connections || []).length}"))
        d.wait("the card on the page loaded again", lambda: d.visible(card))
        check("a page loaded again reads the dashboard afresh when its first data is stale",
              first["n"] == 0 and d.text(f"{card} [data-testid=card-host]") == account,
              f"the first data had {first['n']} connection(s)")

        # Refresh moves the expiry.
        expires_css = f"{card} [data-testid=card-expires] time"
        before = d.js("return document.querySelector(arguments[0]).dateTime", expires_css)
        label = d.text(f"{card} [data-testid=refresh-button]")
        check(f"Refresh button reads “{w['refresh']}…”", label.startswith(w["refresh"]), repr(label))
        d.click(f"{card} [data-testid=refresh-button]")
        d.wait("the refresh's result line",
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
        d.wait("the test's result", lambda: d.visible(f"{card} [data-testid=test-result]"))
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
        d.wait("the confirmation dialog", lambda: d.js(
            "return document.getElementById('confirm-dialog').open"))
        ok_label = d.text("[data-testid=confirm-ok]")
        check(f"dialog's confirm button reads “{w['disconnect']}”", ok_label == w["disconnect"],
              repr(ok_label))
        d.frame_painted()
        screenshot(f"confirm-disconnect-{lang}.png", d)
        inspect_state(d, lang, "the disconnect confirmation")
        d.click("[data-testid=confirm-ok]")
        d.wait_check("Disconnect removes the card", lambda: d.js(
            "return document.querySelectorAll('[data-testid=connection-card]').length === 0"
            " && document.getElementById('connections-view').hidden"))
        check("the keychain no longer has tokens:" + account, secret_lookup(f"tokens:{account}") is None)
        label = d.text("[data-testid=connect-button]")
        check("Connect is offered again", label.startswith(w["connect"]), repr(label))
        d.frame_painted()
        screenshot(f"disconnected-{lang}.png", d)
        two_accounts_then_reconnect(sc, lang)


def choose_theme(d, theme):
    d.js("const s = document.getElementById('theme-select'); s.value = arguments[0];"
         "s.dispatchEvent(new Event('change'));", theme)


def themes(d, lang):
    """Dark and light forced from the setting, kept across a reload, both audited."""
    card = "[data-testid=connection-card]"
    choose_theme(d, "dark")
    # The page saves the choice through a command; reloading before it lands would race it.
    d.wait("the dark theme saved", lambda: d.js_async(
        "const done = arguments[arguments.length - 1];"
        " window.__TAURI_INTERNALS__.invoke('get_overview')"
        ".then((o) => done(o.settings && o.settings.theme), () => done(null));") == "dark")
    d.js("window.amoTestOldPage = true; location.reload()")
    # The card on the new page, not on the old one still showing while the reload starts.
    d.wait("the card after a reload",
           lambda: d.js("return !window.amoTestOldPage") and d.visible(card))
    check("the dark theme is kept after a reload",
          d.js("return document.documentElement.dataset.theme") == "dark"
          and d.js("return document.getElementById('theme-select').value") == "dark")
    check("dark: the page's background is dark", d.js(
        "const c = getComputedStyle(document.body).backgroundColor.match(/\\d+/g).map(Number);"
        "return c[0] + c[1] + c[2] < 150;"))
    d.frame_painted()
    publish(screenshot(f"connected-dark-{lang}.png", d))
    audit(d, "connected, dark theme", lang)
    choose_theme(d, "light")
    d.frame_painted()
    publish(screenshot(f"connected-light-{lang}.png", d))
    audit(d, "connected, light theme", lang)
    choose_theme(d, "system")
    d.wait("the theme to follow the system again",
               lambda: d.js("return !document.documentElement.dataset.theme"))


def amo_connect_second(sc):
    """A second account, connected by `amo` into the same data folder and keychain through a
    second emulator: the window then has two cards (the second one's calls would go to the
    first emulator, so it is only shown)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AMO_")}
    emu_proc, emu = start_emulator(env, sc.name() + "-second")
    browser = os.path.join(sc.tmp, "follow")
    with open(browser, "w") as f:
        f.write('#!/bin/sh\nexec curl -sSL --max-time 30 "$1" -o /dev/null\n')
    os.chmod(browser, 0o755)
    env.update({"AMO_CONNECTOR_HOME": os.path.join(sc.tmp, "home"), "AMO_BASE_URL": emu["base_url"],
                "AMO_CLIENT_ID": emu["client_id"], "AMO_CLIENT_SECRET": emu["client_secret"],
                "AMO_REDIRECT_URI": emu["redirect_uri"], "BROWSER": browser})
    r = subprocess.run([os.path.join(ROOT, "target/debug/amo"), "connect", "--timeout", "60"],
                       env=env, capture_output=True, text=True, timeout=90)
    check("amo connects a second account into the same data folder", r.returncode == 0, r.stderr)
    return emu_proc, emu


def two_accounts_then_reconnect(sc, lang):
    d, emu = sc.d, sc.emu
    card = "[data-testid=connection-card]"
    d.click("[data-testid=connect-button]")  # the browser is released: it goes at once
    d.wait("the card again", lambda: d.visible(card))
    second_proc, second = amo_connect_second(sc)
    d.js("location.reload()")
    d.wait_check("two accounts show as two cards, with no list of accounts", lambda: d.js(
        "return document.querySelectorAll('[data-testid=connection-card]').length === 2"
        " && document.getElementById('accounts').hidden"
        " && !document.getElementById('connections-list').hidden"
        " && document.querySelectorAll('[data-testid=account-row]').length === 0"))
    d.toast_gone()
    d.frame_painted()
    screenshot(f"two-accounts-{lang}.png", d)
    inspect_state(d, lang, "connected with two accounts")
    # The first account's refresh token is revoked: its next refresh needs the user.
    emulator_post(emu, "/_emulator/revoke", {"what": "refresh"})
    first = f"{card}[data-account='{emu['account_host']}']"
    d.click(f"{first} [data-testid=refresh-button]")
    d.wait("the card to ask for a new connection", lambda: d.js(
        "return document.querySelector(arguments[0])?.dataset.state === 'reconnect_needed'", first))
    d.toast_gone()
    d.frame_painted()
    screenshot(f"reconnect-{lang}.png", d)
    inspect_state(d, lang, "a card needing reconnect")
    badge = d.js("return document.querySelector(arguments[0] + ' .badge-icon').textContent", first)
    check("the state badge has a shape beside its colour", bool(badge.strip()), repr(badge))
    stop(second_proc)


CTRL = Keys.CONTROL

# The controls a Tab can reach, in the order they are read (DOM order), and whether the
# focused one shows a ring (its own outline, or its label's for the hidden radio inputs).
TABBABLE_JS = """
const sel = 'a[href], button, input, select, textarea, summary, [tabindex]';
const shown = (e) => { const r = e.getBoundingClientRect();
  return r.width > 0 && r.height > 0 && !e.closest('[hidden], dialog:not([open]), details:not([open]) > :not(summary)'); };
return [...document.querySelectorAll(sel)].filter((e) => !e.disabled && e.tabIndex >= 0
  && (shown(e) || (e.type === 'radio' && shown(e.nextElementSibling))))
  .map((e) => e.type === 'radio' ? 'radio:' + e.name : (e.dataset.testid || e.id || e.tagName.toLowerCase()));
"""
RING_JS = """
const a = document.activeElement;
const shows = (e) => { const c = getComputedStyle(e);
  return c.outlineStyle !== 'none' && parseFloat(c.outlineWidth) >= 2; };
return a.type === 'radio' ? shows(a.nextElementSibling) : shows(a);
"""


def tab_to(d, testid, limit=60):
    for _ in range(limit):
        if d.focused() == testid:
            return True
        d.keys(TAB)
    raise TimeoutError(f"Tab never reached {testid}")


def reading_order(d, view):
    """Tab from the top visits every control once, in reading order, each with a ring."""
    expected = [k for i, k in enumerate(d.js(TABBABLE_JS)) if not i or k != d.js(TABBABLE_JS)[i - 1]]
    d.js("document.activeElement && document.activeElement.blur(); window.focus();")
    seen, rings = [], []
    for _ in range(len(expected)):
        d.keys(TAB)
        f = d.js("const a = document.activeElement;"
                 "return a.type === 'radio' ? 'radio:' + a.name"
                 " : (a.dataset.testid || a.id || a.tagName.toLowerCase());")
        seen.append(f)
        if not d.js(RING_JS):
            rings.append(f)
    check(f"keyboard, {view}: Tab reaches every control in reading order", seen == expected,
          f"expected {expected}, got {seen}")
    check(f"keyboard, {view}: every focused control shows a focus ring", not rings, str(rings))


def keyboard(lang):
    """The whole connect → disconnect path with keys only (WebDriver key actions)."""
    w = WORDS[lang]
    log(f"keyboard only, LANG={w['LANG']}")
    with Scenario(lang) as sc:
        d, emu = sc.d, sc.emu
        d.wait_visible("#setup-view")
        reading_order(d, "setup form")
        tab_to(d, "client-id")
        d.type_keys(emu["client_id"])
        tab_to(d, "redirect-uri")
        d.chord(CTRL, "a")
        d.type_keys(emu["redirect_uri"])
        d.keys(ENTER)  # submits the form: Save
        d.wait_visible("[data-testid=connect-button]")
        d.wait_check("keyboard: after Save, focus is on the Connect panel's title",
                     lambda: d.focused() == "connect-title")
        d.toast_gone()
        reading_order(d, "not connected")

        tab_to(d, "connect-button")
        d.keys(ENTER)
        d.wait_visible("[data-testid=connect-waiting]")
        d.wait_check("keyboard: Enter on Connect starts it; focus is on the waiting panel's title",
                     lambda: d.focused() == "waiting-title")
        tab_to(d, "cancel-connect-button")
        d.keys(SPACE)
        d.wait("the idle panel", lambda: d.visible("[data-testid=connect-idle]"))
        d.wait_check("keyboard: Space on Cancel stops it; focus is back on the Connect panel's"
                     " title", lambda: d.focused() == "connect-title")

        sc.release_browser()
        tab_to(d, "connect-button")
        d.keys(ENTER)
        card = "[data-testid=connection-card]"
        d.wait("the connection card", lambda: d.visible(card))
        d.wait_check("keyboard: after connecting, focus is on the connected accounts",
                     lambda: d.focused() == "connections-title")
        d.toast_gone()
        reading_order(d, "connected")

        tab_to(d, "disconnect-button")
        d.keys(ENTER)
        d.wait("the confirmation dialog", lambda: d.js(
            "return document.getElementById('confirm-dialog').open"))
        check("keyboard: the dialog takes the focus", d.focused() == "confirm-cancel", d.focused())
        d.keys(ESCAPE)
        d.wait("the dialog to close", lambda: not d.js(
            "return document.getElementById('confirm-dialog').open"))
        check("keyboard: Escape closes the dialog and gives focus back to Disconnect",
              d.focused() == "disconnect-button", d.focused())
        d.keys(ENTER)
        d.wait("the confirmation dialog", lambda: d.js(
            "return document.getElementById('confirm-dialog').open"))
        d.keys(TAB)
        check("keyboard: Tab moves to the dialog's confirm button", d.focused() == "confirm-ok",
              d.focused())
        d.keys(ENTER)
        d.wait("the card to go", lambda: d.js(
            "return document.querySelectorAll('[data-testid=connection-card]').length === 0"))
        d.wait_check("keyboard: after Disconnect, focus is on the Connect panel's title",
                     lambda: d.focused() == "connect-title")
        check("the keychain no longer has tokens:" + emu["account_host"],
              secret_lookup(f"tokens:{emu['account_host']}") is None)


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
        d.wait("the error in the Connect panel", lambda: d.visible(err))
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
        inspect_state(d, lang, "an error")


def moved(lang):
    """amoCRM renames the account: a refresh follows it, and the card says where it came from."""
    w = WORDS[lang]
    log(f"account moved, LANG={w['LANG']}")
    with Scenario(lang) as sc:
        d, emu = sc.d, sc.emu
        old = emu["account_host"]
        fill_setup(d, w, emu["client_id"], emu["redirect_uri"])
        sc.release_browser()
        press_connect(d, w)
        card = "[data-testid=connection-card]"
        d.wait("the connection card", lambda: d.visible(card))
        check("no move is mentioned before one happens", not d.visible(f"{card} [data-testid=card-moved]"))
        new = emulator_post(emu, "/_emulator/rename", {})["account_host"]
        d.click(f"{card} [data-testid=refresh-button]")
        d.wait("the card at the new address", lambda: d.js(
            "return document.querySelector('[data-testid=connection-card]')?.dataset.account"
            " === arguments[0]", new))
        host = d.text(f"{card} [data-testid=card-host]")
        check("the card shows the account's new host", host == new, repr(host))
        note = d.text(f"{card} [data-testid=card-moved]")
        check("the card says the account moved, from its old host", old in note and new not in note,
              repr(note))
        check("the tokens moved with it in the keychain",
              stored_tokens(new) is not None and secret_lookup(f"tokens:{old}") is None)
        d.toast_gone()
        d.frame_painted()
        inspect_state(d, lang, "an account that moved")


# --- many accounts ----------------------------------------------------------------------

# How many accounts `many-accounts` connects (AMO_E2E_ACCOUNTS, at least 8); past a handful
# (CARDS_UP_TO in ui/js/accounts.js) the window lists them. Each is an emulator of its own,
# all of one integration; in emulator mode the window calls only the first (AMO_BASE_URL's),
# so the card's buttons are tried on that one.
MANY = max(8, int(os.environ.get("AMO_E2E_ACCOUNTS") or 200))
MANY_ID, MANY_SECRET = "e2e-many-client", "e2e-many-secret"
MANY_OAUTH = 3  # the first ones connect through the browser (refreshable); the rest by long-lived tokens
ODD_NAME = "Northwind Traders"
AMO = os.path.join(ROOT, "target/debug/amo")

# A row as the tests read it; the list draws only the rows in sight and a few around them.
READ_ROW_JS = """const read = (r) => ({
  account: r.dataset.account, state: r.dataset.state, id: r.id,
  name: r.querySelector('[data-testid=row-name]').textContent,
  expires: r.querySelector('time')?.dateTime || null,
  selected: r.getAttribute('aria-selected') === 'true',
  at: Number(r.getAttribute('aria-posinset')), size: Number(r.getAttribute('aria-setsize'))});"""
ROWS_JS = READ_ROW_JS + "return [...document.querySelectorAll('[data-testid=account-row]')].map(read);"
# Every row, read as the list is scrolled from its top to its end a view at a time; then it
# is scrolled back.
ALL_ROWS_JS = READ_ROW_JS + """
const done = arguments[arguments.length - 1];
const list = document.getElementById('account-list');
const frame = () => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
(async () => {
  const was = list.scrollTop, seen = new Map();
  for (let y = 0; !list.hidden; y += Math.max(1, list.clientHeight)) {
    list.scrollTop = y;
    await frame();
    for (const r of list.querySelectorAll('[data-testid=account-row]')) seen.set(r.id, read(r));
    if (list.scrollTop + list.clientHeight >= list.scrollHeight - 1) break;
  }
  list.scrollTop = was;
  await frame();
  done([...seen.values()].sort((a, b) => a.at - b.at));
})();"""
DETAIL_JS = ("return document.querySelector('#account-detail [data-testid=connection-card]')"
             "?.dataset.account || null;")


def many_name(i):
    return ODD_NAME if i == MANY // 2 else f"Store {i:03d}"


def connect_many(sc, env):
    """MANY accounts in the scenario's data folder before the window starts: the first
    MANY_OAUTH through the browser with `amo connect`, the others with long-lived tokens that
    end days to months apart, four at a time."""
    started = time.monotonic()
    plain = {k: v for k, v in env.items() if not k.startswith("AMO_") or k == "AMO_ARTIFACTS_DIR"}
    plain["AMO_CONNECTOR_HOME"] = env["AMO_CONNECTOR_HOME"]
    redirect = sc.emu["redirect_uri"]
    sc.accounts = [dict(sc.emu, name=many_name(0))]
    with open(os.path.join(ARTIFACTS, f"e2e-window-{sc.name()}-emulators.log"), "w") as err:
        for i in range(1, MANY):
            p = spawn([EMULATOR, "--auto-approve", "--port", "0", "--client-id", MANY_ID,
                       "--client-secret", MANY_SECRET, "--redirect-uri", redirect,
                       "--account-name", many_name(i)],
                      plain, stdout=subprocess.PIPE, stderr=err, text=True)
            sc.accounts.append(dict(json.loads(p.stdout.readline()), name=many_name(i)))
            threading.Thread(target=p.stdout.read, daemon=True).start()
    follow = os.path.join(sc.tmp, "follow")
    with open(follow, "w") as f:
        f.write('#!/bin/sh\nexec curl -sSL --max-time 30 "$1" -o /dev/null\n')
    os.chmod(follow, 0o755)

    def connect(i):
        a = sc.accounts[i]
        e = dict(plain, AMO_BASE_URL=a["base_url"], AMO_CLIENT_ID=MANY_ID,
                 AMO_CLIENT_SECRET=MANY_SECRET, AMO_REDIRECT_URI=redirect, BROWSER=follow)
        if i < MANY_OAUTH:
            r = subprocess.run([AMO, "connect", "--timeout", "60"], env=e, capture_output=True,
                               text=True, timeout=120)
        else:
            token = emulator_post(a, "/_emulator/long-lived-token", {"days": 2 + i * 37 % 300})
            r = subprocess.run([AMO, "connect", "--long-lived-token", "--account", a["account_host"]],
                               env=e, input=token["token"], capture_output=True, text=True,
                               timeout=120)
        return r.returncode == 0 or f"{a['account_host']}: {r.stderr.strip()}"

    # Browser flows one after another (they share the redirect's port), then the rest.
    failures = [r for r in map(connect, range(MANY_OAUTH)) if r is not True]
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        failures += [r for r in pool.map(connect, range(MANY_OAUTH, MANY)) if r is not True]
    log(f"{MANY} accounts connected in {time.monotonic() - started:.1f}s")
    check(f"amo connects {MANY} accounts into one data folder", not failures, "; ".join(failures[:3]))
    # The window is set up for the integration they share.
    env.update({"AMO_CLIENT_ID": MANY_ID, "AMO_REDIRECT_URI": redirect})
    sc.secrets_asked = SecretServiceCalls()


class SecretServiceCalls:
    """Watches the session bus (dbus-monitor) for method calls to the Secret Service (its
    objects, whatever name they are sent to) from now on, ready once it has seen a ping of
    its own."""

    def __init__(self):
        self.lines = []
        self.proc = subprocess.Popen(
            ["stdbuf", "-oL", "dbus-monitor", "--session",
             "type='method_call',path_namespace='/org/freedesktop/secrets'"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        threading.Thread(target=self._read, daemon=True).start()

        def pinged():
            subprocess.run(["dbus-send", "--session", "--print-reply",
                            "--dest=org.freedesktop.secrets",
                            "/org/freedesktop/secrets", "org.freedesktop.DBus.Peer.Ping"],
                           capture_output=True, timeout=10)
            return any("member=Ping" in line for line in list(self.lines))
        wait_until("dbus-monitor watches the Secret Service", pinged)
        self.start = len(self.lines)

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def stop(self):
        """Every call seen since it was ready, each its header line and its arguments."""
        self.proc.terminate()
        self.proc.wait(timeout=10)
        calls = []
        for line in self.lines[self.start:]:
            if line.startswith("method call"):
                calls.append([line])
            elif calls:
                calls[-1].append(line)
        return ["\n".join(c) for c in calls if "member=Ping" not in c[0]]


def rows(d):
    """The rows drawn now."""
    return d.js(ROWS_JS)


def all_rows(d):
    """Every row of the list, in its order (each says its place: aria-posinset)."""
    return d.js_async(ALL_ROWS_JS)


def filter_rows(d, text):
    """Empties the filter, then types `text` into it key by key."""
    d.js("const f = document.getElementById('account-filter'); f.value = '';"
         " f.dispatchEvent(new Event('input'));")
    if text:
        d.on_element("[data-testid=account-filter]", lambda e: e.send_keys(text))


def shown(d):
    return sorted(r["account"] for r in all_rows(d))


def choose_sort(d, order):
    d.js("const s = document.getElementById('account-sort'); s.value = arguments[0];"
         " s.dispatchEvent(new Event('change'));", order)


def row_css(account):
    return f"[data-testid=account-row][data-account='{account}']"


def many_accounts():
    """Dozens of accounts: the list past a handful, its filter, the attention filter, the
    orders, the keys, the selected card's buttons, what survives a re-render, both
    languages and themes."""
    # In Russian: what the engine logs and says as it goes is worded in the language it has then.
    lang = "ru"
    log(f"{MANY} accounts, LANG={WORDS[lang]['LANG']}")
    args = ["--client-id", MANY_ID, "--account-name", many_name(0)]
    with Scenario(lang, emulator_secret=MANY_SECRET, app_secret=MANY_SECRET, label="many-accounts",
                  emulator_args=args, before_app=connect_many) as sc:
        d = sc.d
        hosts = sorted(a["account_host"] for a in sc.accounts)
        names = {a["account_host"]: a["name"] for a in sc.accounts}
        d.wait_check(f"{MANY} accounts show as a list", lambda: d.js(
            "return document.querySelector('[data-testid=account-row]')?.getAttribute('aria-setsize')")
            == str(MANY), timeout=180)
        asked = sc.secrets_asked.stop()
        log(f"calls to the Secret Service from the app's start to its list of {MANY}: {len(asked)}")
        check(f"the window lists {MANY} accounts without asking the keychain for any token",
              not [c for c in asked if "tokens:" in c], "\n".join(asked[:3]))
        timing = d.js("const m = performance.getEntriesByName('dashboard-drawn')[0];"
                      " const n = performance.getEntriesByType('navigation')[0];"
                      " return {drawn: m && m.startTime, script: n && n.domInteractive};")
        log(f"the page with {MANY} accounts: its first dashboard drawn {timing['drawn'] or 0:.0f} ms"
            f" after it was asked for (document parsed at {timing['script'] or 0:.0f} ms)")
        drawn = rows(d)
        check(f"the list draws only the rows in sight and a few more: {len(drawn)} of {MANY}",
              0 < len(drawn) <= min(MANY, 24), str(len(drawn)))
        got = all_rows(d)
        check("scrolled through, every row carries its account's host in data-account, each once,"
              " and says its place in the list", sorted(r["account"] for r in got) == hosts
              and [r["at"] for r in got] == list(range(1, MANY + 1))
              and {r["size"] for r in got} == {MANY}, f"{len(got)} rows")
        check("past a handful of accounts there is one card, the selected row's, under the list",
              d.js("return document.querySelectorAll('[data-testid=connection-card]').length === 1"
                   " && document.getElementById('connections-list').hidden")
              and d.js(DETAIL_JS) == next(r["account"] for r in got if r["selected"]))
        # The filter: a name or a host, whatever the case.
        odd = next(h for h, n in names.items() if n == ODD_NAME)
        filter_rows(d, "NORTHwind")
        d.wait_check("the filter finds an account by its name, whatever the case",
                     lambda: shown(d) == [odd])
        expected = sorted(h for h, n in names.items() if "store 01" in n.lower())
        filter_rows(d, "store 01")
        d.wait_check(f"the filter narrows the list to the {len(expected)} names it is part of,"
                     " and says how many", lambda: shown(d) == expected
                     and WORDS[lang]["shown"].format(len(expected), MANY)
                     in d.text("[data-testid=accounts-shown]"))
        # An engine event draws the list again: the filter, the selection and the scroll stay.
        filter_rows(d, "store 0")
        d.wait("the rows of “store 0”", lambda: 0 < rows(d)[0]["size"] < MANY)
        middle = d.js_async(
            "const done = arguments[arguments.length - 1];"
            " const l = document.getElementById('account-list');"
            " l.scrollTop = (l.scrollHeight - l.clientHeight) / 2;"
            " requestAnimationFrame(() => requestAnimationFrame(() => {"
            " const box = l.getBoundingClientRect();"
            " done([...l.querySelectorAll('[role=option]')]"
            ".find((x) => x.getBoundingClientRect().top > box.top + 40)"
            ".dataset.account); }));")
        d.click(row_css(middle))
        d.frame_painted()  # the rows its scrolling into sight brings are drawn
        before = d.js("const l = document.getElementById('account-list');"
                      " window.amoTestRow = l.querySelector('[data-testid=account-row]');"
                      " return l.scrollTop;")
        # The engine refreshes an account and says so; the page reads everything again.
        d.js("window.__TAURI_INTERNALS__.invoke('refresh_connection', {account: arguments[0]})"
             ".catch(() => {})", sc.accounts[0]["account_host"])
        d.wait("the list drawn again after the refresh", lambda: d.js(
            "return document.querySelector('[data-testid=account-row]') !== window.amoTestRow"),
            timeout=120)
        after = d.js("const l = document.getElementById('account-list'); return {top: l.scrollTop,"
                     " filter: document.getElementById('account-filter').value};")
        check("drawn again, the list keeps its filter, its scroll position and the selected row",
              after["filter"] == "store 0" and abs(after["top"] - before) <= 2 and before > 0
              and d.js(DETAIL_JS) == middle
              and [r["account"] for r in rows(d) if r["selected"]] == [middle],
              f"{after}, scrolled {before} before")

        # In emulator mode the window calls only the emulator of AMO_BASE_URL: the first one.
        target = sc.accounts[0]
        filter_rows(d, target["account_host"])
        d.wait_check("the filter finds an account by its host",
                     lambda: shown(d) == [target["account_host"]])

        # It needs attention: its refresh token is revoked and a refresh fails.
        d.click(row_css(target["account_host"]))
        d.wait_check("choosing a row shows its account's card",
                     lambda: d.js(DETAIL_JS) == target["account_host"])
        emulator_post(target, "/_emulator/revoke", {"what": "refresh"})
        card = f"#account-detail [data-testid=connection-card][data-account='{target['account_host']}']"
        d.click(f"{card} [data-testid=refresh-button]")
        d.wait_check("Refresh on the selected card works on that account: it now needs a new"
                     " connection", lambda: d.js(
                         "return document.querySelector(arguments[0])?.dataset.state", card)
                     == "reconnect_needed" and d.js(
                         "return document.querySelector(arguments[0])?.dataset.state",
                         row_css(target["account_host"])) == "reconnect_needed", timeout=120)
        filter_rows(d, "")
        d.click("[data-testid=attention-only]")
        d.wait_check("“needs attention” lists only the account that needs it",
                     lambda: shown(d) == [target["account_host"]]
                     and "(1)" in d.text("#attention-label"))
        d.click("[data-testid=attention-only]")
        d.wait("every row again", lambda: rows(d)[0]["size"] == MANY)

        # Orders: the worst state first (the default), the soonest expiry, the name.
        first = all_rows(d)[0]
        check("by state, the account that needs attention comes first",
              first["account"] == target["account_host"] and first["state"] == "reconnect_needed",
              repr(first))
        choose_sort(d, "expiry")
        times = [r["expires"] for r in all_rows(d)]
        stamps = [time.mktime(time.strptime(x[:19], "%Y-%m-%dT%H:%M:%S")) for x in times if x]
        check("by expiry, the soonest comes first", stamps == sorted(stamps)
              and len(stamps) == MANY, str(times[:4]))
        choose_sort(d, "name")
        listed = [r["name"].lower() for r in all_rows(d)]
        check("by name, in order", listed == sorted(listed), str(listed[:4]))
        choose_sort(d, "state")

        # The keys: Tab into the list, Home, arrows, Enter, End, Space.
        tab_to(d, "account-list")
        check("keyboard: the list shows its focus ring", d.js(RING_JS))
        ends = all_rows(d)
        d.keys(Keys.HOME)
        d.keys(Keys.ARROW_DOWN)
        got = rows(d)
        active = d.js("return document.getElementById('account-list')"
                      ".getAttribute('aria-activedescendant')")
        check("keyboard: Down moves the active row to the second", active == got[1]["id"],
              f"{active} vs {got[1]['id']}")
        d.keys(ENTER)
        d.wait_check("keyboard: Enter selects the active row and shows its card",
                     lambda: d.js(DETAIL_JS) == got[1]["account"]
                     and [r["selected"] for r in rows(d)][:2] == [False, True])
        d.keys(Keys.END)
        d.frame_painted()
        check("keyboard: End makes the last row active, drawn and in sight", d.js(
            "const l = document.getElementById('account-list');"
            " const row = l.querySelector(`[data-account='${arguments[0]}']`);"
            " const r = row.getBoundingClientRect(), box = l.getBoundingClientRect();"
            " return l.getAttribute('aria-activedescendant') === row.id"
            " && row.getAttribute('aria-posinset') === String(arguments[1])"
            " && r.top >= box.top - 1 && r.bottom <= box.bottom + 1;",
            ends[-1]["account"], MANY))
        d.keys(Keys.HOME)
        d.keys(SPACE)
        d.wait_check("keyboard: Home goes back to the first row; Space shows its card",
                     lambda: d.js(DETAIL_JS) == got[0]["account"] == target["account_host"])
        d.click("#account-detail [data-testid=test-button]")
        d.wait_check("Test connection on the selected card asks that account", lambda: names[
            target["account_host"]] in d.text("#account-detail [data-testid=test-result]"))

        # Disconnect from the selected card: its row goes, the next one is selected.
        order = [r["account"] for r in rows(d)]
        middle = order[1]
        d.click(row_css(middle))
        d.wait("the second row's card", lambda: d.js(DETAIL_JS) == middle)
        d.click("#account-detail [data-testid=disconnect-button]")
        d.wait("the confirmation dialog", lambda: d.js(
            "return document.getElementById('confirm-dialog').open"))
        d.click("[data-testid=confirm-ok]")
        after_gone = order[order.index(middle) + 1] if order.index(middle) + 1 < len(order) else order[-2]
        d.wait_check("Disconnect on the selected card removes that row; the next one is"
                     " selected, and the list has the focus", lambda: middle not in shown(d)
                     and d.js(DETAIL_JS) == after_gone and d.focused() == "account-list",
                     timeout=120)
        filter_rows(d, "")
        d.toast_gone()

        # The app started again at an account (the tray's menu, a notification's click): the
        # running window selects its row, far down the list, and shows its card.
        far = ends[-1]["account"]
        subprocess.run([APP, "--account", far], env=sc.env, timeout=60, capture_output=True)
        d.wait_check("a second start at an account selects its row, in sight, and shows its card",
                     lambda: d.js(DETAIL_JS) == far and d.focused() == "account-list" and d.js(
                         "const l = document.getElementById('account-list');"
                         " const row = l.querySelector(`[data-account='${arguments[0]}']`);"
                         " const r = row.getBoundingClientRect(), box = l.getBoundingClientRect();"
                         " return row.getAttribute('aria-selected') === 'true'"
                         " && r.top >= box.top - 1 && r.bottom <= box.bottom + 1;", far))

        # Both themes, both languages: Russian, as it started, then English.
        for theme in ("dark", "light"):
            choose_theme(d, theme)
            d.frame_painted()
            if theme == "dark":
                publish(screenshot(f"many-accounts-{lang}.png", d))
            inspect_state(d, lang, f"{MANY - 1} accounts, {theme} theme")
        d.js("const s = document.getElementById('lang-select'); s.value = 'en';"
             " s.dispatchEvent(new Event('change'));")
        d.wait_check("the list speaks English once the language is switched", lambda: d.js(
            "return document.documentElement.lang") == "en" and d.text(
                "[data-testid=accounts-shown]").startswith("Shown"), timeout=120)
        for theme in ("light", "dark"):
            choose_theme(d, theme)
            d.frame_painted()
            audit(d, f"{MANY - 1} accounts, {theme} theme", "en")


# --- the local API ----------------------------------------------------------------------

# Straight to the proxy on 127.0.0.1, whatever proxy the environment names.
DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def proxy_get(url, key=None):
    """GET `url` (on the local API) with `key` as the bearer: (status, JSON body or None);
    (None, why) when nothing answers."""
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    try:
        with DIRECT.open(urllib.request.Request(url, headers=headers), timeout=30) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, None
    except (urllib.error.URLError, ConnectionError, OSError) as e:
        return None, str(e)


def amo_proxy_key(sc):
    """The local API's key as `amo proxy-key` prints it, from the scenario's data folder."""
    r = subprocess.run([AMO, "proxy-key"], env=sc.env, capture_output=True, text=True, timeout=60)
    return r.stdout.strip() if r.returncode == 0 else None


def clipboard():
    r = subprocess.run(["xclip", "-o", "-selection", "clipboard"], capture_output=True, text=True,
                       timeout=10)
    return r.stdout if r.returncode == 0 else None


def local_api_view(d):
    """What get_local_api answers now (never the key)."""
    return d.js_async("const done = arguments[arguments.length - 1];"
                      " window.__TAURI_INTERNALS__.invoke('get_local_api').then(done, () => done(null));")


def local_api_state(d):
    return d.js("return document.querySelector('[data-testid=local-api-state]')?.dataset.state"
                " || null;")


def calls_shown(d):
    return d.js("return [...document.querySelectorAll('[data-testid=local-api-call]')]"
                ".map((r) => [r.dataset.method, r.dataset.path, Number(r.dataset.status)]);")


def local_api():
    """The always-on local API from the window: off by default; a port of the test's own,
    through the port field (a wrong one refused there); the switch on, and this window (the
    host, with no tray) serves it; the key `amo proxy-key` prints works, the page never holds
    it, Copy key puts it on the clipboard from the app; Rotate key (confirmed) makes the old
    key fail and a new one work; the last calls list them; the switch off stops it; with a
    second connection, which one it serves is chosen in the section. axe in both themes and
    both languages."""
    lang = "en"
    w = WORDS[lang]
    log(f"local API, LANG={w['LANG']}")
    with Scenario(lang, label="local-api") as sc:
        d, emu = sc.d, sc.emu
        account = emu["account_host"]
        fill_setup(d, w, emu["client_id"], emu["redirect_uri"])
        sc.release_browser()
        press_connect(d, w)
        d.wait("the connection card", lambda: d.visible("[data-testid=connection-card]"))
        section = "[data-testid=local-api-view]"
        d.wait_visible(section)
        d.js("document.querySelector(arguments[0]).scrollIntoView()", section)
        d.wait_check("the Local API section is read when it comes on screen: off by default,"
                     " nothing of it shown but the switch and the port",
                     lambda: d.js("return document.querySelector(arguments[0]).dataset.on", section)
                     == "false" and not d.js("return document.getElementById('local-api-on').checked")
                     and not d.visible("[data-testid=local-api-details]")
                     and d.js("return document.getElementById('local-api-port').value") == "17564")
        only = d.text("[data-testid=local-api-only]")
        check("with one connection it names the only one it serves, with no choice to make",
              account in only and not d.visible("[data-testid=local-api-account]"), repr(only))

        # A port of the test's own, never the default (other things may run here).
        d.type("[data-testid=local-api-port]", "70000")
        d.click("[data-testid=local-api-port-save]")
        error = d.text("[data-testid=local-api-port-error]")
        check("a port past 65535 is refused at the field, which says what to enter",
              "65535" in error and d.js("return document.getElementById('local-api-port')"
                                        ".getAttribute('aria-invalid')") == "true", repr(error))
        port = free_port()
        d.type("[data-testid=local-api-port]", str(port))
        d.click("[data-testid=local-api-port-save]")
        d.wait_check(f"the port field saves port {port}",
                     lambda: (local_api_view(d) or {}).get("port") == port
                     and not d.text("[data-testid=local-api-port-error]"))

        d.click("[data-testid=local-api-on]")
        d.wait_check("switched on, the window serves the local API (the page says so)",
                     lambda: local_api_state(d) == "serving", timeout=60)
        url = f"http://127.0.0.1:{port}/api/v4"
        shown_url = d.text("[data-testid=local-api-url]")
        check("it shows the address to give programs, on the port chosen", shown_url == url,
              repr(shown_url))
        said = d.text("[data-testid=local-api-state]")
        check("its state names the account it serves", account in said, repr(said))
        masked = d.text("[data-testid=local-api-key]")
        check("the key shows masked", masked.strip("•") == "" and masked, repr(masked))

        key = amo_proxy_key(sc)
        check("amo proxy-key prints the key", bool(key))
        status, body = proxy_get(f"{url}/account", key)
        check("that key gets 200 and the account from /api/v4/account",
              status == 200 and (body or {}).get("name") == ACCOUNT_NAME, f"{status} {body}")
        status, _ = proxy_get(f"{url}/account")
        check("no key gets 401", status == 401, str(status))
        tokens = stored_tokens(account) or {}
        secrets_absent(d, {"local API key": key, "access token": tokens.get("access_token")},
                       "serving")
        d.wait_check("the last calls show GET /api/v4/account and its status 200 (and the 401)",
                     lambda: ["GET", "/api/v4/account", 200] in calls_shown(d)
                     and ["GET", "/api/v4/account", 401] in calls_shown(d))

        # Copy key: from the keychain to the clipboard in the app, not through the page.
        d.click("[data-testid=local-api-copy-key]")
        d.wait_check("Copy key puts the key on the clipboard", lambda: clipboard() == key)
        secrets_absent(d, {"local API key": key}, "after Copy key")
        d.toast_gone()
        d.js("document.querySelector(arguments[0]).scrollIntoView({block: 'end'})", section)
        d.frame_painted()
        screenshot(f"local-api-{lang}.png", d)
        inspect_state(d, lang, "the local API served")

        # Rotate key, confirmed in the page's dialog.
        d.click("[data-testid=local-api-rotate-key]")
        d.wait("the confirmation dialog", lambda: d.js(
            "return document.getElementById('confirm-dialog').open"))
        ok_label = d.text("[data-testid=confirm-ok]")
        check("the dialog asks before the key is replaced, its button reads “Rotate key”",
              ok_label == "Rotate key", repr(ok_label))
        inspect_state(d, lang, "the key rotation's confirmation")
        d.click("[data-testid=confirm-ok]")
        d.wait_check("after Rotate key the old key gets 401",
                     lambda: proxy_get(f"{url}/account", key)[0] == 401)
        new = amo_proxy_key(sc)
        check("amo proxy-key prints a different key", bool(new) and new != key)
        status, body = proxy_get(f"{url}/account", new)
        check("the new key gets 200", status == 200, str(status))
        check("Rotate key left the focus on its button (the dialog gave it back)",
              d.focused() == "local-api-rotate-key", d.focused())
        secrets_absent(d, {"old key": key, "new key": new}, "after Rotate key")
        d.wait_check("the last calls keep up: the refused old key's 401 is newest but one",
                     lambda: calls_shown(d)[:2] == [["GET", "/api/v4/account", 200],
                                                    ["GET", "/api/v4/account", 401]])

        for theme in ("dark", "light"):
            choose_theme(d, theme)
            d.frame_painted()
            audit(d, f"the local API served, {theme} theme", lang)
        choose_theme(d, "system")
        d.js("const s = document.getElementById('lang-select'); s.value = 'ru';"
             " s.dispatchEvent(new Event('change'));")
        d.wait_check("in Russian the section speaks Russian", lambda: d.js(
            "return document.documentElement.lang") == "ru" and d.text(
                "[data-testid=local-api-copy-key]") == "Копировать ключ", timeout=60)
        d.wait("the local API read again, in Russian", lambda: local_api_state(d) == "serving"
               and "Обслуживает" in d.text("[data-testid=local-api-state]"))
        d.toast_gone()
        d.js("document.querySelector(arguments[0]).scrollIntoView({block: 'end'})", section)
        d.frame_painted()
        screenshot("local-api-ru.png", d)
        audit(d, "the local API served", "ru")
        # The section alone: what the rest of the window said in English before the switch
        # (a toast, the live region, the activity's clock) stays until it speaks again.
        russian_only(d, "the local API section", section)

        d.js("document.getElementById('local-api-on').scrollIntoView({block: 'center'})")
        d.click("[data-testid=local-api-on]")
        d.wait_check("switched off, the section folds and the port closes",
                     lambda: local_api_state(d) == "off"
                     and not d.visible("[data-testid=local-api-details]")
                     and proxy_get(f"{url}/account", new)[0] is None)

        # A second connection: which one it serves is a choice to make.
        second_proc, second = amo_connect_second(sc)
        d.js("location.reload()")
        d.wait("the page again, with two cards", lambda: d.js(
            "return document.querySelectorAll('[data-testid=connection-card]').length === 2"))
        d.js("document.querySelector(arguments[0]).scrollIntoView()", section)
        picker = "[data-testid=local-api-account]"

        def options():
            return d.js("return [...document.querySelectorAll(arguments[0] + ' option')]"
                        ".map((o) => o.value);", picker)
        d.wait_check("with two connections the section asks which one it serves, none chosen",
                     lambda: d.visible(picker) and options()[0] == "" and sorted(options()[1:])
                     == sorted([account, second["account_host"]])
                     and not d.visible("[data-testid=local-api-only]"))
        d.js("const s = document.querySelector(arguments[0]); s.value = arguments[1];"
             " s.dispatchEvent(new Event('change'));", picker, second["account_host"])
        d.wait_check("choosing one saves it, and the choice to make no longer shows",
                     lambda: (local_api_view(d) or {}).get("account") == second["account_host"]
                     and sorted(options()) == sorted([account, second["account_host"]]))
        stop(second_proc)


# Each scenario with the number of checks it makes when it runs to its end.
SCENARIOS = [("keyboard-en", lambda: keyboard("en"), 15),
             ("happy-en", lambda: happy("en"), 68),
             ("happy-ru", lambda: happy("ru"), 75),
             ("failure-en", lambda: failure("en"), 14),
             ("failure-ru", lambda: failure("ru"), 15),
             ("moved-ru", lambda: moved("ru"), 12),
             ("many-accounts", many_accounts, 35),
             ("local-api", local_api, 45)]


def main():
    """Runs the scenarios named on the command line (keyboard-en, happy-ru, …), else all."""
    os.makedirs(ARTIFACTS, exist_ok=True)
    log(f"screenshots go to {SHOTS_DIR}")
    with open(os.path.join(ROOT, "locales/ru.json")) as f:
        WORDS["ru"]["bad_secret"] = json.load(f)["error.amo.client_secret"].rstrip(".")
    # A scenario's own processes stop as it leaves; this stops any it started besides.
    return run_scenarios("window.py", SCENARIOS, sys.argv[1:], lambda name, ok: stop_all())


if __name__ == "__main__":
    sys.exit(main())
