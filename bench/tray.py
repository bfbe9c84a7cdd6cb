#!/usr/bin/env python3
"""Measures amo-connector hidden in the tray beside its visible window, in one run on this
machine, and prints a Markdown table. Run through scripts/bench, which provides the X
display, the D-Bus session and the keychain; this script starts a window manager
(openbox, so the window can be closed as a user closes it) and a tray watcher
(status-notifier-watcher, so the window starts the tray process, amo-connector-tray).

The app is two processes: the window (amo-connector and its WebKit processes) and the tray
process, which does the background work. Visible: PSS of both once the dashboard is ready
and has settled. Hidden: the window closed (`wmctrl -c`), its process and WebKit's gone,
settled; PSS and idle CPU of the tray process. With the local API on (the data folder with
one account): the always-on proxy turned on at a free port of its own (`amo config set`), the
port answering with the key (`amo proxy-key`), --proxy-calls calls through it on one
keep-alive connection, that connection closed, settled; PSS and idle CPU of the tray process
again; the proxy turned off and its port closed. Open: from starting amo-connector (what the
tray's *Open* and a notification's click do) to the new dashboard's ready signal, beside a
cold start of the empty Tauri window.

Each of those cycles is one life of the app (started, hidden, opened again, stopped with its
tray process), for the data folder with one account and for an agency's (bench/accounts.py)
in turn, so that each tray process is measured alone. bench/bench.py --tray hands this
script its folders and emulator (--fixture); alone, it makes its own.
"""

import argparse
import functools
import http.client
import json
import os
import select
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import accounts  # noqa: E402  (the data folder of an agency)
import bench  # noqa: E402  (the window harness: PSS, CPU, the emulator; it loads kit)
import kit  # noqa: E402  (tests/e2e/kit.py: waits, the process tree, windows, the bus)
import proxy  # noqa: E402  (a keep-alive client of the local API)
from kit import free_port, stop_tree, tree, windows  # noqa: E402

WAIT = 60
# Each wait looks every 10 ms: the time to the dashboard's ready signal is a measurement.
wait_until = functools.partial(kit.wait_until, timeout=WAIT, every=0.01)


def tray_of(home):
    """The tray process of the data folder `home`, else None."""
    return next(iter(kit.trays(home)), None)


def ready_at(path):
    if path.exists():
        text = path.read_text()
        if text.endswith("\n"):
            return float(text)
    return None


def cold_start(binary, env, work):
    ready = work / "cold-ready"
    ready.unlink(missing_ok=True)
    t0 = time.time()
    proc = subprocess.Popen([str(binary)], env={**env, "AMO_BENCH_READY_FILE": str(ready)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        return wait_until("the empty window", lambda: ready_at(ready)) - t0
    finally:
        stop_tree(proc)


def life(bins, env, home, work, settle, idle, proxy_calls=0):
    """One life of the app for the data folder `home`: started (the window starts the tray
    process), its window closed as a user closes it, hidden in the tray, with `proxy_calls`
    the local API turned on, called, left idle and turned off again, then opened again as the
    tray's Open does, and stopped with its tray process. Returns {visible, hidden, proxy (PSS
    in KiB), cpu, proxy_cpu (idle % of the hidden tree over `idle` s, if any), cold, open
    (seconds)}."""
    ready = work / "ready"
    ready.unlink(missing_ok=True)
    env = {**env, "AMO_BENCH_READY_FILE": str(ready)}
    out, tray, serving = {}, None, False

    def start():
        return subprocess.Popen([str(bins / "amo-connector")], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)

    proc = start()
    try:
        wait_until("the dashboard", lambda: ready_at(ready), timeout=bench.READY_TIMEOUT)
        tray = wait_until("the tray process", lambda: tray_of(home))
        time.sleep(settle)
        out["visible"] = bench.pss_kib(tree(proc.pid) + tree(tray))
        wait_until("the window", windows)
        subprocess.run(["wmctrl", "-c", "amo-connector"], check=True)
        wait_until("the window to close", lambda: not windows())
        wait_until("the web view to go", lambda: not kit.webkit_children(proc.pid))
        proc.wait(timeout=WAIT)
        if tray_of(home) != tray:
            raise bench.HarnessError("the tray process ended with the window")
        time.sleep(settle)
        out["hidden"] = bench.pss_kib(tree(tray))
        out["cpu"] = bench.tree_cpu_percent(tray, idle) if idle else None
        if proxy_calls:
            serving = True  # from here on, a failed life turns it off for the next one
            port = proxy_on(bins, env, proxy_calls)
            time.sleep(settle)  # the calls' log written, nothing under way
            out["proxy"] = bench.pss_kib(tree(tray))
            out["proxy_cpu"] = bench.tree_cpu_percent(tray, idle) if idle else None
            proxy_off(bins, env, port)
            serving = False
        out["cold"] = cold_start(bins / "empty-window", env, work)
        ready.unlink(missing_ok=True)
        t0 = time.time()
        proc = start()
        out["open"] = wait_until("the dashboard again", lambda: ready_at(ready)) - t0
        return out
    finally:
        stop_tree(proc)
        stop_tray(tray or tray_of(home))
        if serving:  # so that the next life's tray starts without it
            amo(bins, env, "config", "set", "proxy", "off", check=False)


def amo(bins, env, *args, check=True):
    """`amo ARGS` in the data folder of `env`; what it printed."""
    return subprocess.run([str(bins / "amo"), *args], env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, check=check, text=True).stdout.strip()


def proxy_on(bins, env, calls):
    """Turns the tray's always-on local API on at a free port (the tray sees the setting at
    once), waits for the port to answer a call with the data folder's key, then makes `calls`
    more on one keep-alive connection, which it closes. Returns the port."""
    key = amo(bins, env, "proxy-key")
    port = free_port()
    amo(bins, env, "config", "set", "proxy_port", str(port))
    amo(bins, env, "config", "set", "proxy", "on")
    url = f"http://127.0.0.1:{port}"
    answered = []

    def answers():
        answered.append(call_status(port, key))
        return answered[-1] == 200

    try:
        wait_until("the tray's local API to answer", answers)
    except kit.WaitTimeout as e:
        raise bench.HarnessError(f"{e}; it answered {sorted(set(answered))} (0: nothing "
                                 f"listened); amo config show:\n"
                                 f"{amo(bins, env, 'config', 'show')}") from None
    client = proxy.Client(url, key)
    try:
        for _ in range(calls):
            status, _ = client.get()
            if status != 200:
                raise bench.HarnessError(f"GET {proxy.PATH} through the tray answered {status}")
    finally:
        client.close()
    return port


def proxy_off(bins, env, port):
    """Turns the local API off and waits for its port to close."""
    amo(bins, env, "config", "set", "proxy", "off")
    wait_until("the tray's local API to stop", lambda: call_status(port, "") == 0)


def call_status(port, key):
    """The status of one GET through the local API at `port` on a connection of its own; 0
    when nothing listens, -1 when the connection dropped unanswered."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=WAIT)
    try:
        conn.request("GET", proxy.PATH, headers={"Authorization": f"Bearer {key}"})
        r = conn.getresponse()
        r.read()
        return r.status
    except ConnectionRefusedError:
        return 0
    except (ConnectionResetError, BrokenPipeError, http.client.HTTPException):
        return -1  # a connection dropped while the proxy starts or stops: no answer
    finally:
        conn.close()


def stop_tray(pid):
    """Ends the tray process `pid` (SIGTERM, SIGKILL after 10 s) and returns once it has
    exited, so that the next life shares neither the CPU nor its libraries' pages with it."""
    if not pid:
        return
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    try:
        signal.pidfd_send_signal(fd, signal.SIGTERM)
        if not select.select([fd], [], [], 10)[0]:  # readable once the process exited
            signal.pidfd_send_signal(fd, signal.SIGKILL)
            select.select([fd], [], [], 10)
    except ProcessLookupError:
        pass
    finally:
        os.close(fd)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bins", type=Path, required=True)
    ap.add_argument("--runs", type=int, default=5, help="cycles of each data folder")
    ap.add_argument("--settle", type=float, default=3)
    ap.add_argument("--idle", type=float, default=30)
    ap.add_argument("--accounts", type=int, default=200,
                    help="connections in the agency's data folder, unless --fixture")
    ap.add_argument("--proxy-calls", type=int, default=20,
                    help="calls through the tray's local API before its idle PSS and CPU "
                    "(0: the local API is not measured)")
    ap.add_argument("--fixture", type=Path,
                    help="the emulator and data folders bench/bench.py made (JSON)")
    ap.add_argument("--quick", action="store_true", help="report, judge nothing")
    ap.add_argument("--raw", type=Path, help="also write every life's figures to this file")
    a = ap.parse_args()
    helpers = [subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
               for cmd in (["openbox", "--sm-disable"], ["status-notifier-watcher"])]
    with tempfile.TemporaryDirectory(prefix="amo-bench-tray-") as tmp:
        work = Path(tmp)
        emulator, homes, setup = None, {}, None
        try:
            if a.fixture:
                given = json.loads(a.fixture.read_text())
                emu, homes = given["emulator"], {f: Path(given[f]) for f in ("one", "many")}
            else:
                emulator, emu = bench.start_emulator(a.bins, work, a.accounts + 1)
                _, _, homes["one"] = bench.measure_connects(a.bins, emu, work, 1)
                homes["many"] = work / "agency"
                setup = accounts.connect_agency(a.bins, emu,
                                                bench.amo_env(emu, homes["many"]))
            n = len(accounts.hosts_of(emu))
            wait_until("the tray watcher",
                       lambda: kit.name_owned("org.kde.StatusNotifierWatcher"))
            wait_until("the window manager", kit.window_manager_up)
            lives = {f: [] for f in homes}
            for i in range(a.runs):
                for f in ("one", "many") if i % 2 == 0 else ("many", "one"):
                    idle = a.idle if i == a.runs - 1 else 0
                    # The local API serves one connection: the folder with one measures it.
                    calls = a.proxy_calls if f == "one" else 0
                    lives[f].append(life(a.bins, bench.amo_env(emu, homes[f]), homes[f],
                                         work, a.settle, idle, calls))
        finally:
            for home in homes.values():  # what a failed life left behind
                for pid in kit.trays(home):
                    stop_tray(pid)
            if emulator:
                emulator.terminate()
                emulator.wait()
                accounts.forget(emu["account_hosts"])
            for h in helpers:
                h.terminate()
                h.wait()
    if a.raw:
        a.raw.write_text(json.dumps(lives, indent=1))
    return report(a, lives, n, setup)


def report(a, lives, n, setup):
    """Prints the tables of the lives measured; the exit status their verdicts make."""
    judge = bench.Judge(judged=not a.quick)
    med = statistics.median

    def of(f, key):
        return [life[key] for life in lives[f]]

    hidden, visible, opens, colds = (of("one", k) for k in ("hidden", "visible", "open",
                                                            "cold"))
    cpu = of("one", "cpu")[-1]
    rows = []
    r = bench.ratio(med(hidden), med(visible))
    rows.append(("memory, PSS of the tree, MiB", bench.spread(hidden, 1 / 1024, "{:.1f}"),
                 bench.spread(visible, 1 / 1024, "{:.1f}"), f"{r:.2f}×",
                 *judge("tray_memory", r)))
    rows.append((f"idle CPU over {a.idle:g} s, % of a core", f"{cpu:.3f}", "", "",
                 *judge("tray_idle_cpu", cpu)))
    if a.proxy_calls:
        served = of("one", "proxy")
        r = bench.ratio(med(served), med(visible))
        rows.append((f"local API on, after {a.proxy_calls} calls: memory, PSS of the tree, MiB",
                     bench.spread(served, 1 / 1024, "{:.1f}"),
                     bench.spread(visible, 1 / 1024, "{:.1f}"), f"{r:.2f}×",
                     *judge("tray_proxy_memory", r)))
        rows.append(("local API on: added to the hidden tray, MiB (difference of the medians)",
                     f"{(med(served) - med(hidden)) / 1024:.1f}", "", "", "", ""))
        proxy_cpu = of("one", "proxy_cpu")[-1]
        rows.append((f"local API on: idle CPU over {a.idle:g} s, % of a core",
                     f"{proxy_cpu:.3f}", "", "", *judge("tray_proxy_idle_cpu", proxy_cpu)))
    r = bench.ratio(med(opens), med(colds))
    rows.append(("Open to ready dashboard, ms (beside a cold start of the empty window)",
                 bench.spread(opens, 1e3), bench.spread(colds, 1e3), f"{r:.2f}×",
                 *judge("open", r)))
    print()
    print(f"Hidden in the tray: {a.runs} hide/open cycle(s) of each data folder, in turn; "
          f"binaries {a.bins}; load average {os.getloadavg()[0]:.2f} at the end. "
          "Figures: median (min–max).")
    bench.print_table(("measure", "hidden / Open", "visible / empty window", "ratio", "goal",
                       ""), rows)

    rows = []
    many_hidden, many_visible, many_opens = (of("many", k) for k in ("hidden", "visible",
                                                                     "open"))
    r = bench.ratio(med(many_hidden), med(hidden))
    rows.append(("hidden in the tray: memory, PSS of the tray process, MiB",
                 bench.spread(many_hidden, 1 / 1024, "{:.1f}"),
                 bench.spread(hidden, 1 / 1024, "{:.1f}"), f"{r:.2f}×",
                 *judge("accounts_tray_memory", r)))
    rows.append((f"hidden in the tray: idle CPU over {a.idle:g} s, % of a core",
                 f"{of('many', 'cpu')[-1]:.3f}", f"{cpu:.3f}", "", "", ""))
    r = bench.ratio(med(many_visible), med(visible))
    rows.append(("visible: memory, PSS of the window's and the tray's trees, MiB",
                 bench.spread(many_visible, 1 / 1024, "{:.1f}"),
                 bench.spread(visible, 1 / 1024, "{:.1f}"), f"{r:.2f}×", "", ""))
    r = bench.ratio(med(many_opens), med(opens))
    rows.append(("Open to ready dashboard, ms", bench.spread(many_opens, 1e3),
                 bench.spread(opens, 1e3), f"{r:.2f}×", "", ""))
    print()
    made = f", made in {setup:.0f} s" if setup is not None else ""
    print(f"Dozens of accounts in the tray: {n} connections ({accounts.describe(n)}){made}, "
          "beside the one connection above.")
    bench.print_table(("measure", f"{n} accounts", "1 account", "ratio", "goal", ""), rows)
    return judge.exit_status("bench tray")


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (bench.HarnessError, accounts.SetupError, kit.WaitTimeout,
            subprocess.CalledProcessError) as e:
        print(f"bench tray: {e}", file=sys.stderr)
        sys.exit(1)
