"""The benchmark's verdicts: a missed goal in a judged run makes the exit status non-zero,
a quick run judges nothing, and every goal the reports use is in the one table; the order
the windows take turns in, how an agency's accounts connect, and how the local API's
throughput is read from the emulator's request log.

    python3 bench/test_judge.py
"""
import importlib.util
import re
import sys
import unittest
from pathlib import Path


def load(name):
    """bench/NAME.py by its path (from the repository root, `bench` would name the folder),
    registered under its name, as the scripts import one another."""
    spec = importlib.util.spec_from_file_location(name, Path(__file__).parent / f"{name}.py")
    module = sys.modules[name] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bench = load("bench")
proxy = load("proxy")


class JudgeTest(unittest.TestCase):
    def test_a_missed_goal_fails_a_judged_run(self):
        judge = bench.Judge(judged=True)
        self.assertEqual(judge("start", 1.05), ("≤ 1.10×", "met"))
        self.assertEqual(judge("start", 1.11)[1], "**missed**")
        self.assertEqual(judge("idle_cpu", 0.5)[1], "**missed**")  # a strict bound
        self.assertEqual(judge.missed, ["start", "idle_cpu"])
        self.assertEqual(judge.exit_status("test"), 3)

    def test_a_run_that_meets_every_goal_exits_0(self):
        judge = bench.Judge(judged=True)
        for goal, value in (("memory", 1.0), ("token", 1.5), ("open", 1.2),
                            ("tray_idle_cpu", 0.05)):
            judge(goal, value)
        self.assertEqual(judge.exit_status("test"), 0)

    def test_a_missed_tray_goal_fails_a_judged_run(self):
        for goal, at_goal, past_it in (("tray_memory", 0.25, 0.26),
                                       ("tray_idle_cpu", 0.099, 0.1),  # a strict bound
                                       ("tray_proxy_memory", 0.25, 0.26),
                                       ("tray_proxy_idle_cpu", 0.099, 0.1),
                                       ("open", 1.2, 1.21)):
            with self.subTest(goal=goal):
                judge = bench.Judge(judged=True)
                self.assertEqual(judge(goal, at_goal)[1], "met")
                self.assertEqual(judge.exit_status("test"), 0)
                self.assertEqual(judge(goal, past_it)[1], "**missed**")
                self.assertEqual(judge.missed, [goal])
                self.assertEqual(judge.exit_status("test"), 3)

    def test_a_missed_dozens_of_accounts_goal_fails_a_judged_run(self):
        for goal, at_goal, past_it in (("accounts_status", 2.0, 2.01),
                                       ("accounts_start", 1.15, 1.16),
                                       ("accounts_memory", 1.15, 1.16),
                                       ("accounts_tray_memory", 1.2, 1.21)):
            with self.subTest(goal=goal):
                judge = bench.Judge(judged=True)
                self.assertEqual(judge(goal, at_goal)[1], "met")
                self.assertEqual(judge.exit_status("test"), 0)
                self.assertEqual(judge(goal, past_it)[1], "**missed**")
                self.assertEqual(judge.missed, [goal])
                self.assertEqual(judge.exit_status("test"), 3)

    def test_a_missed_local_api_goal_fails_a_judged_run(self):
        for goal, at_goal, past_it in (("proxy_overhead", 1.2, 1.21),
                                       ("proxy_throughput", 0.95, 0.949),  # a lower bound
                                       ("proxy_busiest_second", 7, 8),
                                       ("proxy_429", 0, 1),
                                       ("proxy_memory", 10 * 1024, 10 * 1024 + 1)):  # KiB
            with self.subTest(goal=goal):
                judge = bench.Judge(judged=True)
                self.assertEqual(judge(goal, at_goal)[1], "met")
                self.assertEqual(judge.exit_status("test"), 0)
                self.assertEqual(judge(goal, past_it)[1], "**missed**")
                self.assertEqual(judge.missed, [goal])
                self.assertEqual(judge.exit_status("test"), 3)

    def test_a_quick_run_judges_nothing(self):
        judge = bench.Judge(judged=False)
        self.assertEqual(judge("start", 9.0)[1], "not judged (quick)")
        self.assertEqual(judge.exit_status("test"), 0)

    def test_every_goal_the_reports_judge_is_in_the_table(self):
        here = Path(__file__).parent
        used = set()
        for script in ("bench.py", "tray.py", "proxy.py"):
            used |= set(re.findall(r'judge\("(\w+)"', (here / script).read_text()))
        used |= {"token", "api"}  # judged in a loop, by the measurement's name
        self.assertEqual(used, set(bench.GOALS))


class TurnsTest(unittest.TestCase):
    def test_every_window_takes_every_place_in_turn(self):
        names = ["app", "empty", "accounts"]
        rounds = [bench.turn(names, i) for i in range(6)]
        for name in names:
            self.assertEqual(sorted(r.index(name) for r in rounds), [0, 0, 1, 1, 2, 2])
        self.assertEqual([bench.turn(["a", "b"], i) for i in range(2)],
                         [["a", "b"], ["b", "a"]])  # two swap who goes first, as before


class AgencyTest(unittest.TestCase):
    def test_an_agency_connects_mostly_through_oauth(self):
        self.assertEqual(bench.accounts.describe(200),
                         "180 through OAuth, 20 with a long-lived token")
        self.assertEqual(bench.accounts.describe(4),  # a quick run meets both ways in
                         "3 through OAuth, 1 with a long-lived token")


class ProxyRateTest(unittest.TestCase):
    def test_the_busiest_second_is_the_emulators_window(self):
        busiest = proxy.busiest_second
        self.assertEqual(busiest([0, 100, 999, 1000, 1999]), 3)  # 0 leaves at 1000
        self.assertEqual(busiest([t * 150 for t in range(20)]), 7)
        self.assertEqual(busiest([]), 0)

    def test_delivered_counts_the_runs_api_calls_and_every_429(self):
        def logged(at_ms, path="/api/v4/account", status=200):
            return {"at_ms": at_ms, "path": path, "client_id": "a", "status": status}
        log = [logged(500, status=429),  # before the run: not delivered, but a 429
               logged(1000), logged(1100, "/_emulator/stats"), logged(1200, "/oauth?x=1"),
               logged(1300, "/api/v4/leads?page=2"), logged(2999),
               logged(3000), logged(3100)]  # under way at its end: in the busiest second
        rate = proxy.rate_of(log, {"start": 1.0, "end": 3.0})
        self.assertEqual(rate["delivered"], 3)
        self.assertEqual(rate["per_second"], 1.5)
        self.assertEqual(rate["busiest"], 3)  # 2999, 3000, 3100
        self.assertEqual(rate["too_many"], 1)


if __name__ == "__main__":
    unittest.main()
