"""What the end-to-end suites (window.py, tray.py) and the benchmark harness (bench/) share:
checks and their count, waits with a deadline, the processes a run starts, the process
tree under /proc, the desktop's windows and the session bus. bench/ imports it by path.

Imports only the standard library: bus() imports dbus-python when called, so the Selenium
suite's .venv/ Python and the benchmark's Python, which may lack it, can load this module.

A suite prints one line per check (`ok   - NAME`, `FAIL - NAME: DETAIL`,
`skip - NAME: WHY`) and ends with one count line, which scripts/test reads:

    e2e result: N passed; N failed; N skipped
"""

import os
import random
import select
import signal
import socket
import subprocess
import sys
import time
import traceback

RESULT_PREFIX = "e2e result:"

# --- checks -------------------------------------------------------------------------------

passed = 0
failed = 0
skipped = 0


def check(name, ok, detail=""):
    """Counts and prints one check; returns `ok`."""
    global passed, failed
    if ok:
        passed += 1
        print(f"ok   - {name}", flush=True)
    else:
        failed += 1
        print(f"FAIL - {name}" + (f": {detail}" if detail else ""), flush=True)
    return ok


def skip(name, why, n=1):
    """Counts `n` checks that did not run, on one line that says why."""
    global skipped
    skipped += n
    print(f"skip - {name}: {why}", flush=True)


def made():
    """How many checks have been counted so far, skipped ones included."""
    return passed + failed + skipped


def result_line():
    return f"{RESULT_PREFIX} {passed} passed; {failed} failed; {skipped} skipped"


def log(msg):
    print(f"# {msg}", flush=True)


# --- waits --------------------------------------------------------------------------------


WAIT = 60  # seconds, the bound of a wait given none; a suite may set its own


class WaitTimeout(TimeoutError):
    """A wait that ran out; `what` names what it waited for, `detail` how long it waited."""

    def __init__(self, what, timeout, last_error=None):
        self.what = what
        note = (f" (last error: {type(last_error).__name__}: {str(last_error).strip()})"
                if last_error else "")
        self.detail = f"timed out after {timeout:g}s{note}"
        super().__init__(f"waiting for {what}: {self.detail}")


class Abort(Exception):
    """A failed check (already counted) that the rest of its scenario depends on."""


def wait_until(what, cond, timeout=None, every=0.1, ignore=()):
    """Polls `cond()` every `every` seconds until it returns something truthy and returns
    that. An exception of a type in `ignore` means "not yet". Raises WaitTimeout naming
    `what` once `timeout` seconds (default WAIT) have passed."""
    timeout = WAIT if timeout is None else timeout
    deadline = time.monotonic() + timeout
    last_error = None
    while True:
        try:
            v = cond()
            if v:
                return v
        except ignore as e:
            last_error = e
        if time.monotonic() > deadline:
            raise WaitTimeout(what, timeout, last_error)
        time.sleep(every)


def eventually(cond, timeout=None, every=0.1, ignore=()):
    """`cond()` once it is true within `timeout`, else its last (false) value, for a check
    that counts either outcome."""
    try:
        return wait_until("", cond, timeout, every, ignore)
    except WaitTimeout:
        try:
            return cond()
        except ignore:
            return None


def wait_check(name, cond, timeout=None, every=0.1, ignore=()):
    """A check that passes once `cond()` is true; on timeout it fails, named, and raises
    Abort, since what follows in the scenario needs it. Returns `cond()`'s value."""
    try:
        v = wait_until(name, cond, timeout, every, ignore)
    except WaitTimeout as e:
        check(name, False, e.detail)
        raise Abort(name) from None
    check(name, True)
    return v


# --- scenarios ----------------------------------------------------------------------------


class Interrupted(BaseException):
    """SIGTERM, SIGINT or SIGHUP: stop everything, count, and say so."""


def _on_signal(signum, _frame):
    raise Interrupted(signum)


def run_scenarios(suite, scenarios, only, after_each=lambda name, ok: None, setup=None):
    """Runs `scenarios`, [(name, run, planned)], those named in `only` (all when empty);
    prints the count line and returns the exit status: 2 for a name that is no scenario
    (nothing runs), 1 on any failed check or when no check passed, 128+N on signal N.

    `planned` is how many checks the scenario makes when it runs to its end. A scenario that
    stops early (an exception, a wait that ran out) gets a failed check naming why, and its
    checks not reached are counted as skipped; one that ends with another count than
    planned gets a failed check saying so. After a signal, the scenarios not run are counted
    as skipped too. `setup()`, when given, runs first; if it fails, no scenario runs and all
    count as skipped. `after_each(name, ok)` cleans up after each scenario; `ok` is whether
    none of its checks failed."""
    names = [name for name, _, _ in scenarios]
    unknown = [n for n in only if n not in names]
    if unknown:
        print(f"{suite}: no scenario {', '.join(unknown)} (there are {', '.join(names)})",
              file=sys.stderr)
        return 2
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, _on_signal)
    started = time.monotonic()
    status = None
    todo = [s for s in scenarios if not only or s[0] in only]
    try:
        try:
            if setup:
                setup()
        except Exception as e:
            check(f"{suite}: its set-up", False, f"{type(e).__name__}: {e}")
            traceback.print_exc()
            for name, _, planned in todo:
                skip(f"{name}: its {planned} checks", "the set-up failed", planned)
            todo = []
        while todo:
            name, run, planned = todo[0]
            before, failed_before = made(), failed
            try:
                _run_one(name, run, planned, before)
            finally:
                todo.pop(0)
                try:
                    after_each(name, failed == failed_before)
                except Exception as e:
                    check(f"{name}: its clean-up", False, f"{type(e).__name__}: {e}")
                    traceback.print_exc()
    except Interrupted as e:
        check(f"{suite}: the run was not interrupted", False, f"signal {e.args[0]}")
        for name, _, planned in todo:
            skip(f"{name}: its {planned} checks", "the run was interrupted", planned)
        status = 128 + e.args[0]
    finally:
        stop_all()
    log(f"{suite} took {time.monotonic() - started:.1f}s")
    print(result_line(), flush=True)
    if status is None:
        status = 1 if failed or not passed else 0
    return status


def _run_one(name, run, planned, before):
    """One scenario; see run_scenarios. `before` is the count before it began."""
    unplanned = 1  # the check that says why it stopped, unless a planned check did
    try:
        run()
    except Abort:
        unplanned = 0
    except WaitTimeout as e:
        check(f"{name}: waiting for {e.what}", False, e.detail)
        traceback.print_exc()
    except Exception as e:  # one scenario's failure does not hide the others
        check(f"{name}: ran to the end", False, f"{type(e).__name__}: {e}")
        traceback.print_exc()
    except Interrupted:
        left = planned - (made() - before)
        if left > 0:
            skip(f"{name}: {left} of its {planned} checks", "the run was interrupted", left)
        raise
    else:
        n = made() - before
        if n != planned:
            check(f"{name}: made the {planned} checks it plans", False, f"made {n}")
        return
    left = planned - (made() - before - unplanned)
    if left > 0:
        skip(f"{name}: {left} of its {planned} checks", "not reached", left)


# --- processes a run starts ---------------------------------------------------------------

children = []  # Popen objects, oldest first


def spawn(args, env=None, **kw):
    """Starts `args` as the leader of its own process group, so that stopping it stops
    whatever it started too."""
    p = subprocess.Popen(args, env=env, start_new_session=True, **kw)
    children.append(p)
    return p


def stop(p, grace=10):
    """SIGTERM to the group, SIGKILL after `grace` seconds."""
    if p.poll() is None:
        try:
            os.killpg(p.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            p.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait(timeout=5)
    if p in children:
        children.remove(p)


def stop_all(keep=()):
    """Stops every child but `keep`, newest first."""
    for p in list(reversed(children)):
        if p not in keep:
            stop(p)


def stop_tree(proc):
    """Stops `proc` (SIGTERM, then SIGKILL after 10 s) and then its helpers, and returns once
    every one of them has exited, so that what runs next does not share the machine with
    this teardown."""
    exits = []
    for pid in tree(proc.pid)[1:]:
        try:
            exits.append(os.pidfd_open(pid))
        except ProcessLookupError:
            pass
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    for fd in exits:  # WebKit helpers normally leave with their parent
        try:
            signal.pidfd_send_signal(fd, signal.SIGKILL)
        except ProcessLookupError:
            pass
    for fd in exits:
        select.select([fd], [], [], 10)  # a pidfd reads as ready once its process exited
        os.close(fd)


def free_port():
    """A loopback port nothing listens on now, for a program that binds it later. It is taken
    below the kernel's ephemeral range (32768 and up by default): a port from bind(0) is free
    again once this check ends, and any outgoing connection may be given it before the program
    binds it. Below that range only an explicit bind takes a port."""
    start = random.randrange(_PORTS.start, _PORTS.stop)
    for i in range(len(_PORTS)):
        port = _PORTS.start + (start - _PORTS.start + i) % len(_PORTS)
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise OSError("no free loopback port between 20000 and 32000")


_PORTS = range(20000, 32000)

# --- the process tree under /proc ---------------------------------------------------------

TRAY_COMM = "amo-connector-t"  # amo-connector-tray, as /proc/PID/comm cuts it (15 bytes)


def all_pids():
    return [int(d) for d in os.listdir("/proc") if d.isdigit()]


def proc_stat(pid):
    """(ppid, utime + stime in ticks) of a live process, else None."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            text = f.read()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split()  # after "pid (comm) "
    return int(fields[1]), int(fields[11]) + int(fields[12])


def tree(root):
    """The pids of `root` and all its descendants, `root` first."""
    kids = {}
    for pid in all_pids():
        st = proc_stat(pid)
        if st:
            kids.setdefault(st[0], []).append(pid)
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(kids.get(pid, []))
    return out


def comm(pid):
    """The process's name as the kernel keeps it (15 bytes at most), "" once it is gone."""
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return ""


def webkit(pids):
    """Those of `pids` that are WebKit's processes (the web view's helpers)."""
    return [p for p in pids if comm(p).startswith("WebKit")]


def webkit_children(pid):
    return webkit(tree(pid)[1:])


def ours(home):
    """The live processes started for the data folder `home` (their environment names it)."""
    mark = f"AMO_CONNECTOR_HOME={home}".encode()
    out = []
    for pid in all_pids():
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                if mark in f.read().split(b"\0"):
                    out.append(pid)
        except OSError:
            pass
    return out


def trays(home):
    """The tray processes (amo-connector-tray) of the data folder `home`."""
    return [p for p in ours(home) if comm(p) == TRAY_COMM]


def kill_ours(home):
    for pid in ours(home):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


# --- the desktop --------------------------------------------------------------------------


def windows():
    """The lines of `wmctrl -l -p` for amo-connector's windows."""
    r = subprocess.run(["wmctrl", "-l", "-p"], capture_output=True, text=True)
    return [l for l in r.stdout.splitlines() if l.rstrip().endswith("amo-connector")]


def window_manager_up():
    return subprocess.run(["wmctrl", "-m"], capture_output=True).returncode == 0


# The bus the desktop runs on: the session's, or one a scenario started itself.
BUS = {"address": None, "connection": None}


def bus():
    """A dbus-python connection to that bus (the system Python has dbus-python; the
    benchmark's Python need not, so name_owned does without)."""
    import dbus
    import dbus.bus

    if BUS["address"]:
        if BUS["connection"] is None:
            BUS["connection"] = dbus.bus.BusConnection(BUS["address"])
        return BUS["connection"]
    return dbus.SessionBus()


def name_owned(name):
    """Whether `name` has an owner on that bus (NameHasOwner, through dbus-send)."""
    where = f"--bus={BUS['address']}" if BUS["address"] else "--session"
    r = subprocess.run(["dbus-send", where, "--print-reply", "--dest=org.freedesktop.DBus",
                        "/org/freedesktop/DBus", "org.freedesktop.DBus.NameHasOwner",
                        f"string:{name}"], capture_output=True, text=True, timeout=30)
    return "boolean true" in r.stdout
