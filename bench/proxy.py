#!/usr/bin/env python3
"""Measures `amo proxy`, the local API, on this machine, in one run, and prints a Markdown
table: what one call costs through it beside the same call made straight to the account,
what twenty clients get through it at once under amoCRM's limit, and the memory it holds
while it waits. Run through scripts/bench, which builds the binaries and provides the D-Bus
session and the keychain; bench/bench.py --proxy runs it after its own tables.

One `amo-emulator --rate-limits` (amoCRM's 7 requests a second per integration, 429 beyond
them), one account connected into a data folder of its own, one `amo proxy --json` for it,
ready once it prints its first line. The emulator's request log is the judge of the limit.

Overhead: `GET /api/v4/account` from a keep-alive client through the proxy (its key), from
another straight to the account's host (the account's token, from `amo token`), and from a
third through `bare-relay` (bench/relay: a relay that only copies bytes, with the token): the
floor of any second hop on this machine, reported beside the proxy and not judged. In turn,
paced so that neither limiter ever acts (docs/benchmarks.md says why).
Throughput: that call from 20 keep-alive clients at once for --seconds, each sending the
next as soon as the last is answered. Idle memory: Pss of the proxy process alone, from
/proc/PID/smaps_rollup, --settle seconds after the last call of each.
"""

import argparse
import http.client
import json
import os
import select
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import accounts  # noqa: E402  (the keychain's items, cleared at the end)
import bench  # noqa: E402  (the emulator, a connect, PSS, the report's helpers and goals)

READY_TIMEOUT = 60  # seconds for `amo proxy` to read its token and listen
LIMIT = 7  # amoCRM's requests a second per integration
PATH = "/api/v4/account"


def start_proxy(bins, env, account, work):
    """`amo proxy --account ACCOUNT --json`, ready: (process, url, key), from the first line
    it prints once it listens."""
    log = work / "proxy.log"
    proc = subprocess.Popen([str(bins / "amo"), "proxy", "--account", account, "--json"],
                            env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=open(log, "wb"), text=True)
    ready, line = first_line(proc)
    if not line:  # its output closed (it ended), or the time ran out
        what = "ended before it gave its address" if ready else \
            f"gave no address in {READY_TIMEOUT} s"
        proc.kill()
        proc.wait()
        raise bench.HarnessError(f"amo proxy {what} ({proc.returncode}); its output ends:\n"
                                 f"{bench.tail(log)}")
    first = json.loads(line)
    return proc, first["url"], first["key"]


def stop_proxy(proc):
    """Ctrl+C's signal, as a user stops it; it must stop cleanly, with 0."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise bench.HarnessError("amo proxy did not stop in 20 s of SIGTERM") from None
    if proc.returncode != 0:
        raise bench.HarnessError(f"amo proxy exited with {proc.returncode}")


class Client:
    """One keep-alive connection to `url` (http://HOST:PORT), sending `token` (if any) as its
    bearer: every call after the first reuses the connection, as a client library's pool
    does."""

    def __init__(self, url, token=None):
        hostname, port = url.removeprefix("http://").rsplit(":", 1)
        self.conn = http.client.HTTPConnection(hostname, int(port), timeout=60)
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def get(self, path=PATH):
        """GET `path`, the answer read whole: (status, seconds)."""
        t0 = time.perf_counter()
        self.conn.request("GET", path, headers=self.headers)
        r = self.conn.getresponse()
        r.read()
        return r.status, time.perf_counter() - t0

    def close(self):
        self.conn.close()


def first_line(proc):
    """The first line `proc` prints, waited for at most READY_TIMEOUT: (whether its output
    became readable, the line; "" when it closed or the time ran out)."""
    ready, _, _ = select.select([proc.stdout], [], [], READY_TIMEOUT)
    return bool(ready), proc.stdout.readline() if ready else ""


def start_relay(bins, upstream):
    """`bare-relay HOST:PORT`, ready: (process, its url), from the port it prints."""
    proc = subprocess.Popen([str(bins / "bare-relay"), upstream.removeprefix("http://")],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True)
    _, line = first_line(proc)
    if not line.strip().isdigit():
        proc.kill()
        proc.wait()
        raise bench.HarnessError(f"bare-relay gave no port ({line!r})")
    return proc, f"http://127.0.0.1:{line.strip()}"


def measure_overhead(sides, rounds, pace):
    """`rounds` calls through each of `sides` (name: Client), in turn (who goes first
    rotates), each started `pace` s after the one before, after three untimed rounds.
    Seconds per call, by side."""
    times = {name: [] for name in sides}
    next_at = time.monotonic()
    for i in range(rounds + 3):
        for name in bench.turn(list(sides), i):
            time.sleep(max(0.0, next_at - time.monotonic()))
            next_at = time.monotonic() + pace
            status, seconds = sides[name].get()
            if status != 200:
                raise bench.HarnessError(f"GET {PATH} ({name}) answered {status}")
            if i >= 3:  # the first three rounds open the connections and warm the caches
                times[name].append(seconds)
    return times


def measure_throughput(url, key, clients, seconds):
    """`clients` keep-alive clients calling through the proxy at once, each sending its next
    call when the last is answered, until `seconds` have passed since they all started.
    Returns {start, end (Unix seconds), statuses (every answer's)}."""
    barrier = threading.Barrier(clients + 1)
    statuses, errors = [], []
    deadline = []

    def work():
        client = Client(url, key)
        try:
            barrier.wait()
            while time.time() < deadline[0]:
                statuses.append(client.get()[0])  # list.append is atomic
        except (OSError, http.client.HTTPException) as e:
            errors.append(e)
        finally:
            client.close()

    threads = [threading.Thread(target=work) for _ in range(clients)]
    for t in threads:
        t.start()
    start = time.time()
    deadline.append(start + seconds)
    barrier.wait()
    for t in threads:
        t.join()
    if errors:
        raise bench.HarnessError(f"{len(errors)} of {clients} clients failed: {errors[0]!r}")
    return {"start": start, "end": start + seconds, "statuses": statuses}


def emulator_requests(emu):
    """Every request the emulator logged (`GET /_emulator/requests`)."""
    conn = Client(emu["base_url"]).conn
    try:
        conn.request("GET", "/_emulator/requests")
        r = conn.getresponse()
        body = r.read()
    finally:
        conn.close()
    if r.status != 200:
        raise bench.HarnessError(f"/_emulator/requests answered {r.status}")
    return json.loads(body)["requests"]


def counted(path):
    """Whether the emulator counts a request to `path` toward the limit, as it does."""
    path = path.split("?")[0]
    return path == "/oauth2/access_token" or path.startswith("/api/v4/")


def busiest_second(times_ms):
    """The most of `times_ms` inside any window of a second (the emulator's own window: a
    time leaves it 1000 ms later)."""
    times = sorted(times_ms)
    best, first = 0, 0
    for last, t in enumerate(times):
        while times[first] + 1000 <= t:
            first += 1
        best = max(best, last - first + 1)
    return best


def rate_of(log, run):
    """What the emulator's log says of the throughput `run`: the counted requests that
    arrived during it, a second on average; the busiest second of one integration from its
    start on (the calls under way at its end included); the 429s of the whole log."""
    start_ms, end_ms = run["start"] * 1000, run["end"] * 1000
    since = [r for r in log if counted(r["path"]) and r["at_ms"] >= start_ms]
    arrived = [r for r in since if r["at_ms"] < end_ms]
    by_integration = {}
    for r in since:
        by_integration.setdefault(r["client_id"], []).append(r["at_ms"])
    return {
        "delivered": len(arrived),
        "per_second": len(arrived) / (run["end"] - run["start"]),
        "busiest": max(map(busiest_second, by_integration.values()), default=0),
        "too_many": sum(1 for r in log if r["status"] == 429),
        "arrivals_ms": [r["at_ms"] for r in since],  # for --raw
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bins", type=Path, required=True, help="folder with amo, amo-emulator")
    ap.add_argument("--rounds", type=int, default=100,
                    help="calls of each side for the overhead, after 3 untimed rounds")
    ap.add_argument("--pace", type=float, default=0.2,
                    help="seconds from one overhead call to the next, either side")
    ap.add_argument("--clients", type=int, default=20, help="clients at once, throughput")
    ap.add_argument("--seconds", type=float, default=60, help="throughput run, seconds")
    ap.add_argument("--settle", type=float, default=3,
                    help="idle seconds after the last call before the proxy's PSS")
    ap.add_argument("--quick", action="store_true", help="report, judge nothing")
    ap.add_argument("--raw", type=Path, help="also write every sample to this JSON file")
    a = ap.parse_args()

    m = {"load": os.getloadavg()[0]}
    with tempfile.TemporaryDirectory(prefix="amo-bench-proxy-") as tmp:
        work = Path(tmp)
        emulator, emu = bench.start_emulator(a.bins, work, rate_limits=True)
        proc = None
        try:
            _, _, home = bench.measure_connects(a.bins, emu, work, 1)
            env = bench.amo_env(emu, home)
            account = emu["account_host"]
            token = subprocess.run([str(a.bins / "amo"), "token", "--account", account],
                                   env=env, capture_output=True, check=True,
                                   text=True).stdout.strip()
            proc, url, key = start_proxy(a.bins, env, account, work)
            relay, relay_url = start_relay(a.bins, emu["base_url"])
            sides = {"proxy": Client(url, key), "direct": Client(emu["base_url"], token),
                     "relay": Client(relay_url, token)}
            try:
                m["overhead"] = measure_overhead(sides, a.rounds, a.pace)
            finally:
                for client in sides.values():
                    client.close()
                relay.kill()
                relay.wait()
                relay.stdout.close()
            time.sleep(a.settle)  # idle: no client connected, nothing under way
            m["idle_kib"] = bench.pss_kib([proc.pid])
            run = measure_throughput(url, key, a.clients, a.seconds)
            time.sleep(a.settle)
            m["idle_after_kib"] = bench.pss_kib([proc.pid])
            stop_proxy(proc)
            m["statuses"] = {str(s): run["statuses"].count(s) for s in set(run["statuses"])}
            m["rate"] = rate_of(emulator_requests(emu), run)
        finally:
            if proc:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
                proc.stdout.close()
            emulator.terminate()
            emulator.wait()
            accounts.forget(emu["account_hosts"])
    if a.raw:
        a.raw.write_text(json.dumps(m, indent=1))
    return report(a, m)


def report(a, m):
    """Prints the table of the measurements `m`; the exit status its verdicts make."""
    judge = bench.Judge(judged=not a.quick)
    through, direct = m["overhead"]["proxy"], m["overhead"]["direct"]
    relayed = m["overhead"]["relay"]
    rate = m["rate"]
    rows = []
    r = bench.ratio(statistics.median(through), statistics.median(direct))
    low, high = bench.ratio_interval(through, direct)
    rows.append((f"`GET {PATH}`, keep-alive, ms", bench.spread(through, 1e3, "{:.2f}"),
                 bench.spread(direct, 1e3, "{:.2f}"), f"{r:.2f}× ({low:.2f}–{high:.2f})",
                 *judge("proxy_overhead", r)))
    added = statistics.median(through) - statistics.median(direct)
    rows.append(("added by the proxy to a call, ms (difference of the medians)",
                 f"{added * 1e3:.2f}", "", "", "", ""))
    # The floor: the same call through a relay that only copies bytes (not judged).
    r_relay = bench.ratio(statistics.median(relayed), statistics.median(direct))
    low, high = bench.ratio_interval(relayed, direct)
    rows.append(("the same through `bare-relay` (a hop and nothing else), ms",
                 bench.spread(relayed, 1e3, "{:.2f}"), bench.spread(direct, 1e3, "{:.2f}"),
                 f"{r_relay:.2f}× ({low:.2f}–{high:.2f})", "", ""))
    floor = statistics.median(relayed) - statistics.median(direct)
    rows.append(("added by the bare hop, ms; by the proxy's own work beyond it, ms",
                 f"{floor * 1e3:.2f}; {(added - floor) * 1e3:.2f}", "", "", "", ""))
    share = rate["per_second"] / LIMIT
    rows.append((f"{a.clients} clients for {a.seconds:g} s: delivered, requests a second",
                 f"{rate['per_second']:.2f} ({rate['delivered']})", "",
                 f"{share:.1%} of {LIMIT}", *judge("proxy_throughput", share)))
    rows.append(("the busiest second at the emulator, requests", str(rate["busiest"]), "", "",
                 *judge("proxy_busiest_second", rate["busiest"])))
    rows.append(("answered 429 by the emulator", str(rate["too_many"]), "", "",
                 *judge("proxy_429", rate["too_many"])))
    others = sum(n for s, n in m["statuses"].items() if s != "200")
    rows.append((f"{a.clients} clients: answers other than 200", str(others), "", "", "",
                 ""))
    rows.append((f"idle, PSS of `amo proxy`, MiB (after {a.rounds + 3} calls)",
                 f"{m['idle_kib'] / 1024:.1f}", "", "", *judge("proxy_memory", m["idle_kib"])))
    rows.append((f"idle after the {a.clients} clients, PSS of `amo proxy`, MiB",
                 f"{m['idle_after_kib'] / 1024:.1f}", "", "", "", ""))
    print()
    print(f"The local API (`amo proxy`) for one account of `amo-emulator --rate-limits`: "
          f"{a.rounds} calls each way (proxy, straight, `bare-relay`) after 3 untimed rounds, "
          f"in turn, one every {a.pace * 1e3:.0f} ms; then {a.clients} clients at once for {a.seconds:g} s; PSS "
          f"{a.settle:g} s after each; binaries {a.bins}; load average {m['load']:.2f} at the "
          "start. Figures: median (min–max); the ratio with its 90 % bootstrap interval.")
    bench.print_table(("measure", "through `amo proxy`", "straight to the account", "ratio",
                       "goal", ""), rows)
    return judge.exit_status("bench proxy")


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (bench.HarnessError, subprocess.CalledProcessError, json.JSONDecodeError) as e:
        print(f"bench proxy: {e}", file=sys.stderr)
        sys.exit(1)
