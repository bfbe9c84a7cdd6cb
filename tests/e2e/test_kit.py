"""How the end-to-end suites count (tests/e2e/kit.py): a wait that runs out is a failed check
with its name, a scenario that stops early shows its checks not reached as skipped, one that
ends with another number of checks than it plans fails, an unknown scenario exits 2, and
the count line comes last, after a signal too.

    python3 tests/e2e/test_kit.py
"""
import contextlib
import importlib
import io
import os
import signal
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kit  # noqa: E402


def two_checks(name):
    def run():
        kit.check(f"{name}: a", True)
        kit.check(f"{name}: b", True)
    return run


class RunScenariosTest(unittest.TestCase):
    def setUp(self):
        importlib.reload(kit)  # fresh counts
        self.addCleanup(lambda: [signal.signal(s, signal.SIG_DFL)
                                 for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)])

    def run_suite(self, scenarios, only=()):
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
            status = kit.run_scenarios("suite", scenarios, list(only))
        return status, out.getvalue().splitlines()

    def test_a_suite_that_passes_exits_0_and_ends_with_its_count(self):
        status, lines = self.run_suite([("one", two_checks("one"), 2)])
        self.assertEqual(status, 0)
        self.assertEqual(lines[-1], "e2e result: 2 passed; 0 failed; 0 skipped")

    def test_a_wait_check_that_runs_out_fails_by_name_and_the_rest_is_skipped(self):
        def run():
            kit.check("one: a", True)
            kit.wait_check("one: the panel shows", lambda: False, timeout=0.2)
            kit.check("one: c", True)
            kit.check("one: d", True)
        status, lines = self.run_suite([("one", run, 4), ("two", two_checks("two"), 2)])
        self.assertEqual(status, 1)
        self.assertIn("FAIL - one: the panel shows: timed out after 0.2s", lines)
        self.assertIn("skip - one: 2 of its 4 checks: not reached", lines)
        self.assertEqual(lines[-1], "e2e result: 3 passed; 1 failed; 2 skipped")

    def test_a_step_that_times_out_fails_naming_its_wait(self):
        def run():
            kit.check("one: a", True)
            kit.wait_until("the window", lambda: False, timeout=0.2)
            kit.check("one: b", True)
        status, lines = self.run_suite([("one", run, 2)])
        self.assertEqual(status, 1)
        self.assertIn("FAIL - one: waiting for the window: timed out after 0.2s", lines)
        self.assertIn("skip - one: 1 of its 2 checks: not reached", lines)
        self.assertEqual(lines[-1], "e2e result: 1 passed; 1 failed; 1 skipped")

    def test_a_scenario_that_makes_fewer_checks_than_it_plans_fails(self):
        status, lines = self.run_suite([("one", two_checks("one"), 3)])
        self.assertEqual(status, 1)
        self.assertIn("FAIL - one: made the 3 checks it plans: made 2", lines)

    def test_a_clean_up_that_fails_is_a_failed_check_and_the_run_goes_on(self):
        def after(name, ok):
            if name == "one":
                raise OSError("stuck")
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
            status = kit.run_scenarios("suite", [("one", two_checks("one"), 2),
                                                 ("two", two_checks("two"), 2)], [], after)
        lines = out.getvalue().splitlines()
        self.assertEqual(status, 1)
        self.assertIn("FAIL - one: its clean-up: OSError: stuck", lines)
        self.assertEqual(lines[-1], "e2e result: 4 passed; 1 failed; 0 skipped")

    def test_an_unknown_scenario_exits_2_and_runs_nothing(self):
        ran = []
        status, lines = self.run_suite([("one", lambda: ran.append(1), 0)], only=["onee"])
        self.assertEqual((status, ran, lines), (2, [], []))

    def test_no_check_passed_is_a_failure(self):
        status, lines = self.run_suite([("one", lambda: None, 0)])
        self.assertEqual(status, 1)
        self.assertEqual(lines[-1], "e2e result: 0 passed; 0 failed; 0 skipped")

    def test_a_signal_counts_what_was_not_run_as_skipped(self):
        def run():
            kit.check("one: a", True)
            os.kill(os.getpid(), signal.SIGTERM)
            kit.check("one: b", True)
        status, lines = self.run_suite([("one", run, 3), ("two", two_checks("two"), 2)])
        self.assertEqual(status, 128 + signal.SIGTERM)
        self.assertIn("skip - one: 2 of its 3 checks: the run was interrupted", lines)
        self.assertIn("skip - two: its 2 checks: the run was interrupted", lines)
        self.assertEqual(lines[-1], "e2e result: 1 passed; 1 failed; 4 skipped")


if __name__ == "__main__":
    unittest.main()
