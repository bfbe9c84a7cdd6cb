"""The benchmark's verdicts: a missed goal in a judged run makes the exit status non-zero,
a quick run judges nothing, and every goal the reports use is in the one table; and the
order the windows take turns in, and how an agency's accounts connect.

    python3 bench/test_judge.py
"""
import importlib.util
import re
import unittest
from pathlib import Path

# bench.py by its path: from the repository root, `bench` would name the folder.
_spec = importlib.util.spec_from_file_location("bench", Path(__file__).parent / "bench.py")
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)


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

    def test_a_quick_run_judges_nothing(self):
        judge = bench.Judge(judged=False)
        self.assertEqual(judge("start", 9.0)[1], "not judged (quick)")
        self.assertEqual(judge.exit_status("test"), 0)

    def test_every_goal_the_reports_judge_is_in_the_table(self):
        here = Path(__file__).parent
        used = set()
        for script in ("bench.py", "tray.py"):
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


if __name__ == "__main__":
    unittest.main()
