#!/usr/bin/env python3
"""Measures amo-connector hidden in the tray beside its visible window, in one run on this
machine, and prints a Markdown table. Run through scripts/bench, which provides the X
display, the D-Bus session and the keychain; this script starts a window manager
(openbox, so the window can be closed as a user closes it) and a tray watcher
(status-notifier-watcher, so the window starts the tray process, amo-connector-tray).

The app is two processes: the window (amo-connector and its WebKit processes) and the tray
process, which does the background work. Visible: PSS of both once the dashboard is ready
and has settled. Hidden: the window closed (`wmctrl -c`), its process and WebKit's gone,
settled; PSS and idle CPU of the tray process. Open: from starting amo-connector (what the
tray's *Open* and a notification's click do) to the new dashboard's ready signal, beside a
cold start of the empty Tauri window.
"""

import argparse
import functools
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # noqa: E402  (the window harness: PSS, CPU, the emulator; it loads kit)
import kit  # noqa: E402  (tests/e2e/kit.py: waits, the process tree, windows, the bus)
from kit import stop_tree, tree, windows  # noqa: E402

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


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bins", type=Path, required=True)
    ap.add_argument("--runs", type=int, default=5, help="hide/open cycles")
    ap.add_argument("--settle", type=float, default=3)
    ap.add_argument("--idle", type=float, default=30)
    ap.add_argument("--quick", action="store_true", help="report, judge nothing")
    a = ap.parse_args()
    app, base = a.bins / "amo-connector", a.bins / "empty-window"
    helpers = [subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
               for cmd in (["openbox", "--sm-disable"], ["status-notifier-watcher"])]
    with tempfile.TemporaryDirectory(prefix="amo-bench-tray-") as tmp:
        work = Path(tmp)
        emulator, emu = bench.start_emulator(a.bins, work)
        proc, home = None, None
        try:
            wait_until("the tray watcher", lambda: kit.name_owned("org.kde.StatusNotifierWatcher"))
            wait_until("the window manager", kit.window_manager_up)
            _, _, home = bench.measure_connects(a.bins, emu, work, 1)
            env = bench.amo_env(emu, home)
            ready = work / "ready"
            env["AMO_BENCH_READY_FILE"] = str(ready)
            proc = subprocess.Popen([str(app)], env=env, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL, start_new_session=True)
            visible, hidden, cpu, opens, colds = [], [], None, [], []
            wait_until("the dashboard", lambda: ready_at(ready), timeout=bench.READY_TIMEOUT)
            tray = wait_until("the tray process", lambda: tray_of(home))
            for i in range(a.runs):
                time.sleep(a.settle)
                visible.append(bench.pss_kib(tree(proc.pid) + tree(tray)))
                wait_until("the window", windows)
                subprocess.run(["wmctrl", "-c", "amo-connector"], check=True)
                wait_until("the window to close", lambda: not windows())
                wait_until("the web view to go", lambda: not kit.webkit_children(proc.pid))
                proc.wait(timeout=WAIT)
                if tray_of(home) != tray:
                    raise bench.HarnessError("the tray process ended with the window")
                time.sleep(a.settle)
                hidden.append(bench.pss_kib(tree(tray)))
                if i == a.runs - 1:
                    cpu = bench.tree_cpu_percent(tray, a.idle)
                colds.append(cold_start(base, env, work))
                ready.unlink(missing_ok=True)
                t0 = time.time()
                proc = subprocess.Popen([str(app)], env=env, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL, start_new_session=True)
                opens.append(wait_until("the dashboard again", lambda: ready_at(ready)) - t0)
        finally:
            if proc:
                stop_tree(proc)
            left = tray_of(home) if home else None
            if left:
                os.kill(left, signal.SIGTERM)
            emulator.terminate()
            emulator.wait()
            for h in helpers:
                h.terminate()
                h.wait()
    judge = bench.Judge(judged=not a.quick)
    med = statistics.median
    rows = []
    r = bench.ratio(med(hidden), med(visible))
    rows.append(("memory, PSS of the tree, MiB", bench.spread(hidden, 1 / 1024, "{:.1f}"),
                 bench.spread(visible, 1 / 1024, "{:.1f}"), f"{r:.2f}×",
                 *judge("tray_memory", r)))
    rows.append((f"idle CPU over {a.idle:g} s, % of a core", f"{cpu:.3f}", "", "",
                 *judge("tray_idle_cpu", cpu)))
    r = bench.ratio(med(opens), med(colds))
    rows.append(("Open to ready dashboard, ms (beside a cold start of the empty window)",
                 bench.spread(opens, 1e3), bench.spread(colds, 1e3), f"{r:.2f}×",
                 *judge("open", r)))
    print()
    print(f"Hidden in the tray: {a.runs} hide/open cycle(s); binaries {a.bins}; "
          f"load average {os.getloadavg()[0]:.2f} at the end. Figures: median (min–max).")
    print()
    head = ("measure", "hidden / Open", "visible / empty window", "ratio", "goal", "")
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for row in rows:
        print("| " + " | ".join(row) + " |")
    return judge.exit_status("bench tray")


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (bench.HarnessError, kit.WaitTimeout, subprocess.CalledProcessError) as e:
        print(f"bench tray: {e}", file=sys.stderr)
        sys.exit(1)
