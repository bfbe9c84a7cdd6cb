#!/usr/bin/env python3
"""Measures amo-connector beside an empty Tauri 2 window and `secret-tool`, on this machine,
in one run, and prints a Markdown table of figures and ratios. Run through scripts/bench,
which builds the binaries and provides the X display, the D-Bus session and the keychain.

Window start: from just before spawn to the time the window's ready hook writes to
$AMO_BENCH_READY_FILE (docs/benchmarks.md, "Readiness"). Memory: the sum of Pss over the
process tree, read from /proc/PID/smaps_rollup once the window is ready and has settled (on
launches of their own: the start is timed on launches stopped once ready).
Idle CPU: utime+stime ticks of the tree over a quiet interval, in % of one core.
Dozens of accounts: `amo status --json` and the window beside the same with one account
(bench/accounts.py builds the folder); with --tray, bench/tray.py then measures the tray
with both folders, the emulator still serving. With --proxy, bench/proxy.py measures
`amo proxy`, the local API, against an emulator of its own.
"""

import argparse
import json
import os
import random
import select
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# What the end-to-end tests use too: the process tree, a free port, stopping a launch.
sys.path.insert(0, str(ROOT / "tests" / "e2e"))
import kit  # noqa: E402
from kit import free_port, proc_stat, stop_tree, tree  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
import accounts  # noqa: E402  (the data folder of an agency)

CLK_TCK = os.sysconf("SC_CLK_TCK")
READY_TIMEOUT = 120  # seconds; a debug build on a loaded CI runner is slow, not broken


class HarnessError(Exception):
    pass


# ---------------------------------------------------------------- process trees, /proc


def other_webkit_processes():
    """WebKit processes already running elsewhere: they share library pages with ours,
    which lowers our PSS, and they compete for the CPU."""
    return len(kit.webkit(kit.all_pids()))


def tree_pss_kib(root):
    return pss_kib(tree(root))


def pss_kib(pids):
    """Sum of `Pss` over `pids` (each counted once), KiB."""
    total = 0
    for pid in set(pids):
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
        except OSError:
            pass  # exited meanwhile
    return total


def tree_ticks(root):
    return {pid: st[1] for pid in tree(root) if (st := proc_stat(pid))}


def tree_cpu_percent(root, seconds):
    before = tree_ticks(root)
    time.sleep(seconds)
    after = tree_ticks(root)
    ticks = sum(t - before.get(pid, 0) for pid, t in after.items())
    return 100.0 * ticks / CLK_TCK / seconds


# ---------------------------------------------------------------- the measurements


def launch_window(binary, env, work, settle=None, idle=0, name=None):
    """One launch: seconds to ready; with `settle`, also PSS in KiB that many seconds after
    ready and idle CPU % over `idle` s (if any). Without, it is stopped once ready."""
    ready = work / "ready"
    ready.unlink(missing_ok=True)
    # The window writes its ready time into a pipe the harness waits on: no polling loop
    # takes a core from the two processes starting on it.
    os.mkfifo(ready, 0o600)
    signal_fd = os.open(ready, os.O_RDONLY | os.O_NONBLOCK)
    log_path = work / f"{name or binary.name}.log"
    log = open(log_path, "ab")
    t0 = time.time()
    proc = subprocess.Popen(
        [str(binary)], env={**env, "AMO_BENCH_READY_FILE": str(ready)},
        stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
    )
    try:
        start = wait_ready(signal_fd, proc, binary, log_path, t0) - t0
        if settle is None:
            return start, None, None
        time.sleep(settle)
        pss = tree_pss_kib(proc.pid)
        cpu = tree_cpu_percent(proc.pid, idle) if idle else None
        return start, pss, cpu
    finally:
        stop_tree(proc)
        log.close()
        os.close(signal_fd)


def wait_ready(fd, proc, binary, log_path, t0):
    """The time (Unix seconds) the window wrote to the pipe `fd`, read once it arrives. A
    reader that no writer has opened yet is not woken (Linux), so the wait is for the write;
    it is cut into slices to notice a window that exits or never writes."""
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    text = b""
    while not text.endswith(b"\n"):
        if poller.poll(100):
            chunk = os.read(fd, 64)
            if not chunk:
                raise HarnessError(f"{binary.name} closed its ready signal unfinished: "
                                   f"{text!r}")
            text += chunk
        elif proc.poll() is not None:
            raise HarnessError(f"{binary.name} exited ({proc.returncode}) before it was "
                               f"ready; its output ends:\n{tail(log_path)}")
        elif time.time() - t0 > READY_TIMEOUT:
            raise HarnessError(f"{binary.name} gave no ready signal in {READY_TIMEOUT} s: "
                               "is its AMO_BENCH_READY_FILE hook in place? "
                               "(docs/benchmarks.md, Readiness)")
    return float(text)


def tail(path, lines=15):
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def measure_windows(subjects, work, runs, memory_runs, settle, idle, warmup):
    """Launches the windows of `subjects` ({name: (binary, env)}) in turn, each round starting
    one further along (two swap who goes first), so drift hits them all. Start: `runs`
    launches of each, stopped once ready. Memory: `memory_runs` more of each, read `settle` s
    after ready; the last of them also gives the idle CPU."""
    names = list(subjects)
    results = {n: {"start_s": [], "pss_kib": [], "idle_cpu_pct": None} for n in names}

    def launch(n, *args):
        return launch_window(*subjects[n], work, *args, name=n)

    for _ in range(warmup):
        for n in names:
            launch(n)
    for i in range(runs):
        for n in turn(names, i):
            results[n]["start_s"].append(launch(n)[0])
    for i in range(memory_runs):
        last = i == memory_runs - 1
        for n in turn(names, i):
            _, pss, cpu = launch(n, settle, idle if last else 0)
            results[n]["pss_kib"].append(pss)
            results[n]["idle_cpu_pct"] = cpu
    return results


def turn(names, i):
    """Round `i`'s order: `names` rotated by `i`."""
    k = i % len(names)
    return names[k:] + names[:k]


def start_emulator(bins, work, count=1, rate_limits=False):
    """`amo-emulator --auto-approve` serving `count` accounts, enforcing amoCRM's rate limits
    if told to; (process, its JSON line)."""
    redirect = f"http://127.0.0.1:{free_port()}/amocrm/callback"
    limits = ["--rate-limits"] if rate_limits else []
    proc = subprocess.Popen(
        [str(bins / "amo-emulator"), "--auto-approve", "--port", "0", "--redirect-uri", redirect,
         "--accounts", str(count), *limits],
        stdout=subprocess.PIPE, stderr=open(work / "emulator.log", "wb"), text=True,
    )
    line = proc.stdout.readline()
    if not line:
        raise HarnessError(f"amo-emulator did not start:\n{tail(work / 'emulator.log')}")
    return proc, json.loads(line)


def amo_env(emu, home):
    env = {k: v for k, v in os.environ.items()
           if k not in ("XDG_CURRENT_DESKTOP", "DESKTOP_SESSION", "LC_ALL", "LC_MESSAGES")}
    env.update(
        AMO_CONNECTOR_HOME=str(home), AMO_BASE_URL=emu["base_url"],
        AMO_CLIENT_ID=emu["client_id"], AMO_CLIENT_SECRET=emu["client_secret"],
        AMO_REDIRECT_URI=emu["redirect_uri"], AMO_LANG="en", LANG="C.UTF-8",
    )
    return accounts.env_with_accounts(env, emu)


def measure_connects(bins, emu, work, runs):
    """`amo connect` wall time and callback_received → stored from the activity log."""
    browser = work / "browser"
    browser.write_text('#!/bin/sh\n# Plays the user\'s browser: follow the redirects.\n'
                       'exec curl -sSL --max-time 20 -o /dev/null "$1"\n')
    browser.chmod(0o755)
    walls, stores, home = [], [], None
    for i in range(runs):
        home = work / f"home-{i}"
        env = {**amo_env(emu, home), "BROWSER": str(browser)}
        t0 = time.perf_counter()
        r = subprocess.run([str(bins / "amo"), "connect", "--timeout", "60"], env=env,
                           stdin=subprocess.DEVNULL, capture_output=True, text=True)
        walls.append(time.perf_counter() - t0)
        if r.returncode != 0:
            raise HarnessError(f"amo connect failed ({r.returncode}):\n{r.stdout}{r.stderr}")
        stores.append(callback_to_stored(home / "activity.log"))
    return walls, stores, home


def callback_to_stored(log):
    steps = {}
    for line in log.read_text().splitlines():
        e = json.loads(line)
        steps.setdefault(e["step"], parse_ts(e["ts"]))
    try:
        return steps["stored"] - steps["callback_received"]
    except KeyError as missing:
        raise HarnessError(f"{log} has no {missing} step") from None


def parse_ts(ts):
    return datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp()


def measure_status(bins, env, account, runs, many_env):
    """`amo status --json` against one `secret-tool lookup`, and against itself in the folder
    of many accounts (`many_env`), in turn (as the windows take theirs), after a warm-up."""
    amo = [str(bins / "amo"), "status", "--json"]
    lookup = ["secret-tool", "lookup", "service", "amo-connector", "username",
              f"tokens:{account}"]
    status = json.loads(subprocess.run(amo, env=env, capture_output=True, check=True).stdout)
    if [c["account"] for c in status] != [account] or not status[0]["usable"]:
        raise HarnessError(f"amo status does not show one usable connection: {status}")
    if not subprocess.run(lookup, env=env, capture_output=True, check=True).stdout:
        raise HarnessError("secret-tool finds no token item")
    cmds = {"amo": (amo, env), "lookup": (lookup, env), "amo_many": (amo, many_env)}
    times = {name: [] for name in cmds}
    for i in range(runs + 3):
        for name in turn(list(cmds), i):
            cmd, cmd_env = cmds[name]
            t0 = time.perf_counter()
            subprocess.run(cmd, env=cmd_env, stdout=subprocess.DEVNULL, check=True)
            if i >= 3:  # the first three rounds warm the caches
                times[name].append(time.perf_counter() - t0)
    return times


def measure_scripts(bins, env, account, base_url, runs, work):
    """`amo token` against one `secret-tool lookup`, and `amo api api/v4/account` against
    that lookup followed by `curl` with the same token, alternating, after a warm-up. The
    rounds are paced under amoCRM's 7 requests a second, so the shared limiter never has to
    wait; curl reads the token's header from a private file, never from its command line."""
    amo = str(bins / "amo")
    token_cmd = [amo, "token"]
    lookup = ["secret-tool", "lookup", "service", "amo-connector", "username",
              f"tokens:{account}"]
    token = subprocess.run(token_cmd, env=env, capture_output=True, check=True,
                           text=True).stdout.strip()
    header = work / "auth-header"
    header.touch(mode=0o600)
    header.write_text(f"Authorization: Bearer {token}\n")
    api_cmd = [amo, "api", "api/v4/account"]
    curl = ["curl", "-fsS", "-o", "/dev/null", "-H", f"@{header}",
            f"{base_url}/api/v4/account"]
    times = {name: [] for name in ("token", "lookup", "api", "curl")}
    for i in range(runs + 3):
        for name, cmd in (("token", token_cmd), ("lookup", lookup), ("api", api_cmd),
                          ("curl", curl)):
            t0 = time.perf_counter()
            subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, check=True)
            if i >= 3:  # the first three rounds warm the caches
                times[name].append(time.perf_counter() - t0)
        time.sleep(0.35)  # two API calls a round: stay under 7 a second
    header.unlink()
    return times


# ---------------------------------------------------------------- report


def machine():
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                if l.startswith("model name")), "?")
    mem = next(int(l.split()[1]) for l in open("/proc/meminfo") if l.startswith("MemTotal"))
    webkit = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", "libwebkit2gtk-4.1-0"],
                            capture_output=True, text=True).stdout or "?"
    debian = Path("/etc/debian_version").read_text().strip() if Path(
        "/etc/debian_version").exists() else "?"
    return (f"{os.cpu_count()} CPUs ({cpu}), {mem / 1024 / 1024:.1f} GiB RAM, "
            f"kernel {os.uname().release}, Debian {debian}, WebKitGTK {webkit}")


def spread(xs, unit=1.0, fmt="{:.0f}"):
    """'median (min–max)' in the given unit; the median alone for one value."""
    med = fmt.format(statistics.median(xs) * unit)
    if len(xs) == 1:
        return med
    return f"{med} ({fmt.format(min(xs) * unit)}–{fmt.format(max(xs) * unit)})"


def ratio(a, b):
    return a / b if b else float("inf")


def ratio_interval(a, b, rounds=2000, seed=1):
    """A 90 % bootstrap interval of median(a) / median(b): how far the ratio of one run may
    be from what the machine would give over many runs."""
    pick = random.Random(seed).choices
    ratios = sorted(ratio(statistics.median(pick(a, k=len(a))),
                          statistics.median(pick(b, k=len(b)))) for _ in range(rounds))
    return ratios[rounds // 20], ratios[-(rounds // 20) - 1]


def verdict(met, judged):
    if not judged:
        return "not judged (quick)"
    return "met" if met else "**missed**"


# Every goal the benchmarks judge, in one table: the report's goal column and the exit status
# both come from it. Each is (the goal as the report words it, the test of a measured value).
GOALS = {
    "start": ("≤ 1.10×", lambda r: r <= 1.10),
    "memory": ("≤ 1.10×", lambda r: r <= 1.10),
    "idle_cpu": ("< 0.5 %", lambda pct: pct < 0.5),
    "deb": ("≤ 1.5×", lambda r: r <= 1.5),
    "status": ("≤ 1.5×", lambda r: r <= 1.5),
    "token": ("≤ 1.5×", lambda r: r <= 1.5),
    "api": ("≤ 1.5×", lambda r: r <= 1.5),
    "tray_memory": ("≤ 0.25×", lambda r: r <= 0.25),
    "tray_idle_cpu": ("< 0.1 %", lambda pct: pct < 0.1),
    # The same tray serving the local API (its always-on proxy), idle after a few calls.
    "tray_proxy_memory": ("≤ 0.25×", lambda r: r <= 0.25),
    "tray_proxy_idle_cpu": ("< 0.1 %", lambda pct: pct < 0.1),
    "open": ("≤ 1.20×", lambda r: r <= 1.20),
    # Dozens of accounts: each against the same measure with one account.
    "accounts_status": ("≤ 2×", lambda r: r <= 2.0),
    "accounts_start": ("≤ 1.15×", lambda r: r <= 1.15),
    "accounts_memory": ("≤ 1.15×", lambda r: r <= 1.15),
    "accounts_tray_memory": ("≤ 1.20×", lambda r: r <= 1.20),
    # The local API (bench/proxy.py): a call through `amo proxy` against the same straight to
    # the account; 20 clients through one proxy for a minute; its memory while it waits.
    "proxy_overhead": ("≤ 1.20×", lambda r: r <= 1.20),
    "proxy_throughput": ("≥ 95 % of 7", lambda share: share >= 0.95),
    "proxy_busiest_second": ("≤ 7", lambda n: n <= 7),
    "proxy_429": ("0", lambda n: n == 0),
    "proxy_memory": ("≤ 10 MiB", lambda kib: kib <= 10 * 1024),
}


class Judge:
    """Judges measured values against GOALS and remembers what was missed; a quick run
    judges nothing."""

    def __init__(self, judged):
        self.judged = judged
        self.missed = []

    def __call__(self, goal, value):
        """The goal's text and verdict for the report's last two columns."""
        text, test = GOALS[goal]
        met = test(value)
        if self.judged and not met:
            self.missed.append(goal)
        return text, verdict(met, self.judged)

    def exit_status(self, who):
        """0 when every judged goal was met; else 3, with the missed goals on stderr."""
        if not self.missed:
            return 0
        print(f"{who}: goals missed: {', '.join(self.missed)}", file=sys.stderr)
        return 3


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bins", type=Path, required=True, help="folder with the four binaries")
    ap.add_argument("--debs", type=Path, help="folder with both .deb files (omit to skip)")
    ap.add_argument("--runs", type=int, default=81,
                    help="launches of each window for the start, stopped once ready")
    ap.add_argument("--memory-runs", type=int, default=5,
                    help="further launches of each window for memory and idle CPU")
    ap.add_argument("--idle", type=float, default=30, help="idle CPU interval, seconds")
    ap.add_argument("--settle", type=float, default=3, help="wait after ready before PSS")
    ap.add_argument("--status-runs", type=int, default=30)
    ap.add_argument("--connect-runs", type=int, default=5)
    ap.add_argument("--accounts", type=int, default=200,
                    help="connections in the agency's data folder (bench/accounts.py)")
    ap.add_argument("--warmup", type=int, default=1, help="untimed launches of each window")
    ap.add_argument("--tray", action="store_true",
                    help="then bench/tray.py, in a display of its own, with the same data "
                    "folders and emulator: --memory-runs cycles, --settle, --idle")
    ap.add_argument("--proxy", action="store_true",
                    help="then bench/proxy.py, with an emulator of its own: --proxy-rounds, "
                    "--proxy-seconds, --settle")
    ap.add_argument("--proxy-rounds", type=int, default=100,
                    help="calls each way for the proxy's overhead")
    ap.add_argument("--proxy-seconds", type=float, default=60,
                    help="the proxy's throughput run, seconds")
    ap.add_argument("--quick", action="store_true", help="report, judge nothing")
    ap.add_argument("--raw", type=Path, help="also write every sample to this JSON file (and "
                    "with --tray, the tray's to FILE.tray.json; with --proxy, the proxy's to "
                    "FILE.proxy.json)")
    a = ap.parse_args()

    app, base = a.bins / "amo-connector", a.bins / "empty-window"
    load = os.getloadavg()[0]  # other work on the machine skews every figure; say so
    others = other_webkit_processes()
    m = {"load": load, "others": others}
    with tempfile.TemporaryDirectory(prefix="amo-bench-") as tmp:
        work = Path(tmp)
        # The emulator's first account is the one-account folder's, the others the agency's.
        emulator, emu = start_emulator(a.bins, work, a.accounts + 1)
        try:
            m["connect"], m["stored"], home = measure_connects(a.bins, emu, work,
                                                               a.connect_runs)
            env = amo_env(emu, home)  # the last connect's data folder: one connection present
            many_env = amo_env(emu, work / "agency")
            m["setup_s"] = accounts.connect_agency(a.bins, emu, many_env)
            accounts.check_listed(a.bins, many_env, a.accounts)
            m["status"] = measure_status(a.bins, env, emu["account_host"], a.status_runs,
                                         many_env)
            m["scripts"] = measure_scripts(a.bins, env, emu["account_host"], emu["base_url"],
                                           a.status_runs, work)
            m["windows"] = measure_windows(
                {APP: (app, env), BASE: (base, env), MANY: (app, many_env)}, work, a.runs,
                a.memory_runs, a.settle, a.idle, a.warmup)
            if a.raw:
                a.raw.write_text(json.dumps(m, indent=1))
            status = report(a, m)
            if a.proxy:
                sys.stdout.flush()
                proxy = run_proxy(a)
                status = status or proxy
            if a.tray:
                sys.stdout.flush()
                tray = run_tray(a, emu, home, many_env["AMO_CONNECTOR_HOME"], work)
                status = status or tray
        finally:
            emulator.terminate()
            emulator.wait()
            accounts.forget(emu["account_hosts"])
    return status


# The windows measure_windows launches: the app with one connection, the empty window, the
# app with the agency's.
APP, BASE, MANY = "amo-connector", "empty-window", "amo-connector-accounts"


def run_tray(a, emu, home, many_home, work):
    """bench/tray.py under a display of its own (a window manager and a tray watcher would
    change what this one measures), handed the data folders and the emulator; its exit
    status."""
    fixture = work / "fixture.json"
    fixture.write_text(json.dumps({"emulator": emu, "one": str(home), "many": many_home}))
    cmd = ["xvfb-run", "-a", "-s", "-screen 0 1280x900x24", sys.executable,
           str(ROOT / "bench" / "tray.py"), "--bins", str(a.bins), "--fixture", str(fixture),
           "--runs", str(a.memory_runs), "--settle", str(a.settle), "--idle", str(a.idle)]
    cmd += ["--quick"] if a.quick else []
    cmd += ["--raw", str(a.raw.with_suffix(".tray.json"))] if a.raw else []
    return subprocess.run(cmd).returncode


def run_proxy(a):
    """bench/proxy.py, which starts an emulator of its own (with amoCRM's rate limits) and
    connects its account in a data folder of its own; its exit status."""
    cmd = [sys.executable, str(ROOT / "bench" / "proxy.py"), "--bins", str(a.bins),
           "--rounds", str(a.proxy_rounds), "--seconds", str(a.proxy_seconds),
           "--settle", str(a.settle)]
    cmd += ["--quick"] if a.quick else []
    cmd += ["--raw", str(a.raw.with_suffix(".proxy.json"))] if a.raw else []
    return subprocess.run(cmd).returncode


def report(a, m):
    """Prints the tables of the measurements `m`; the exit status their verdicts make."""
    app, base = a.bins / "amo-connector", a.bins / "empty-window"
    win, status, scripts = m["windows"], m["status"], m["scripts"]
    judge = Judge(judged=not a.quick)
    rows = []
    s_app, s_base = (win[n]["start_s"] for n in (APP, BASE))
    r = ratio(statistics.median(s_app), statistics.median(s_base))
    low, high = ratio_interval(s_app, s_base)
    rows.append(("window start to interactive, ms", spread(s_app, 1e3), spread(s_base, 1e3),
                 f"{r:.2f}× ({low:.2f}–{high:.2f})", *judge("start", r)))
    m_app, m_base = (win[n]["pss_kib"] for n in (APP, BASE))
    r = ratio(statistics.median(m_app), statistics.median(m_base))
    rows.append(("memory, PSS of the tree, MiB", spread(m_app, 1 / 1024, "{:.1f}"),
                 spread(m_base, 1 / 1024, "{:.1f}"), f"{r:.2f}×", *judge("memory", r)))
    c_app, c_base = (win[n]["idle_cpu_pct"] for n in (APP, BASE))
    rows.append((f"idle CPU over {a.idle:g} s, % of a core", f"{c_app:.2f}", f"{c_base:.2f}",
                 "", *judge("idle_cpu", c_app)))
    b_app, b_base = app.stat().st_size, base.stat().st_size
    rows.append(("binary, MiB", f"{b_app / 2**20:.1f}", f"{b_base / 2**20:.1f}",
                 f"{ratio(b_app, b_base):.2f}×", "", ""))
    if a.debs:
        d_app, d_base = (deb_size(a.debs, n) for n in ("amo-connector", "empty-window"))
        r = ratio(d_app, d_base)
        rows.append((".deb, MiB", f"{d_app / 2**20:.2f}", f"{d_base / 2**20:.2f}", f"{r:.2f}×",
                     *judge("deb", r)))
    amo_t, lookup_t = status["amo"], status["lookup"]
    r = ratio(statistics.median(amo_t), statistics.median(lookup_t))
    rows.append(("`amo status --json` vs `secret-tool lookup`, ms", spread(amo_t, 1e3, "{:.1f}"),
                 spread(lookup_t, 1e3, "{:.1f}"), f"{r:.2f}×", *judge("status", r)))
    # A script that keeps its token where the connector does reads it from the keychain and
    # then calls: `amo api` is measured against both, round by round.
    scripts["lookup_curl"] = [a + b for a, b in zip(scripts["lookup"], scripts["curl"])]
    for label, mine, theirs in (("`amo token` vs `secret-tool lookup`, ms", "token", "lookup"),
                                ("`amo api` vs `secret-tool lookup` + `curl`, ms", "api",
                                 "lookup_curl")):
        r = ratio(statistics.median(scripts[mine]), statistics.median(scripts[theirs]))
        rows.append((label, spread(scripts[mine], 1e3, "{:.1f}"),
                     spread(scripts[theirs], 1e3, "{:.1f}"), f"{r:.2f}×", *judge(mine, r)))
    rows.append(("`amo connect` end to end, ms", spread(m["connect"], 1e3), "", "", "", ""))
    rows.append(("callback received → tokens stored, ms", spread(m["stored"], 1e3), "", "",
                 "", ""))

    print(f"Machine: {machine()}.")
    print(f"Mode: {'quick' if a.quick else 'full'}; {a.runs} launch(es) of each window "
          f"in turn for the start, each stopped once ready, then {a.memory_runs} for "
          f"memory (read {a.settle:g} s after ready); {a.warmup} untimed warm-up; "
          f"{a.status_runs} rounds of `amo status` / `secret-tool` / `amo status` with "
          f"{a.accounts} accounts; {a.connect_runs} connect(s); load average "
          f"{m['load']:.2f} at the start. Figures: median (min–max); a window start's ratio "
          "with its 90 % bootstrap interval.")
    if m["others"]:
        print(f"Note: {m['others']} other WebKit processes were running at the start; they "
              "lower the PSS figures and slow the launches. Measure on a quiet machine.")
    print_table(("measure", "amo-connector", "empty window / secret-tool / curl", "ratio",
                 "goal", ""), rows)

    rows = []
    s_many = win[MANY]["start_s"]
    r = ratio(statistics.median(s_many), statistics.median(s_app))
    low, high = ratio_interval(s_many, s_app)
    rows.append(("window start to the drawn dashboard, ms", spread(s_many, 1e3),
                 spread(s_app, 1e3), f"{r:.2f}× ({low:.2f}–{high:.2f})",
                 *judge("accounts_start", r)))
    m_many = win[MANY]["pss_kib"]
    r = ratio(statistics.median(m_many), statistics.median(m_app))
    rows.append(("window memory, PSS of the tree, MiB", spread(m_many, 1 / 1024, "{:.1f}"),
                 spread(m_app, 1 / 1024, "{:.1f}"), f"{r:.2f}×",
                 *judge("accounts_memory", r)))
    rows.append((f"window idle CPU over {a.idle:g} s, % of a core",
                 f"{win[MANY]['idle_cpu_pct']:.2f}", f"{c_app:.2f}", "", "", ""))
    many_t = status["amo_many"]
    r = ratio(statistics.median(many_t), statistics.median(amo_t))
    rows.append(("`amo status --json`, ms", spread(many_t, 1e3, "{:.1f}"),
                 spread(amo_t, 1e3, "{:.1f}"), f"{r:.2f}×", *judge("accounts_status", r)))
    print()
    print(f"Dozens of accounts: {a.accounts} connections ({accounts.describe(a.accounts)}) "
          f"made in {m['setup_s']:.0f} s, beside the one connection above.")
    print_table(("measure", f"{a.accounts} accounts", "1 account", "ratio", "goal", ""), rows)
    return judge.exit_status("bench")


def print_table(head, rows):
    print()
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for row in rows:
        print("| " + " | ".join(row) + " |")


def deb_size(folder, name):
    debs = sorted(folder.glob(f"{name}_*.deb"))
    if not debs:
        raise HarnessError(f"no {name}_*.deb in {folder}")
    return debs[-1].stat().st_size


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (HarnessError, accounts.SetupError, subprocess.CalledProcessError) as e:
        print(f"bench: {e}", file=sys.stderr)
        sys.exit(1)
