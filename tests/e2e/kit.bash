# What the end-to-end scripts (tests/e2e/*.sh) share; sourced, not run (scripts/test runs
# every *.sh there as a suite). The check lines and the closing count line are those of
# tests/e2e/kit.py:
#   ok   - NAME | FAIL - NAME: DETAIL | skip - NAME: WHY
#   e2e result: N passed; N failed; N skipped

e2e_passed=0 e2e_failed=0 e2e_skipped=0

e2e_ok() { e2e_passed=$((e2e_passed + 1)); echo "ok   - $1"; }
e2e_fail() { e2e_failed=$((e2e_failed + 1)); echo "FAIL - $1${2:+: $2}"; }
e2e_skip() { e2e_skipped=$((e2e_skipped + 1)); echo "skip - $1: $2"; }

# Prints the count line and exits: 1 on any failure or when nothing passed, else 0.
e2e_result() {
  echo "e2e result: $e2e_passed passed; $e2e_failed failed; $e2e_skipped skipped"
  if [ "$e2e_failed" -eq 0 ] && [ "$e2e_passed" -gt 0 ]; then exit 0; fi
  exit 1
}

# e2e_need SUITE TOOL...: exits 1 naming the first TOOL missing from PATH.
e2e_need() {
  local suite=$1 tool
  shift
  for tool in "$@"; do
    command -v "$tool" >/dev/null || {
      echo "$suite: $tool is missing (scripts/setup installs it)" >&2
      exit 1
    }
  done
}

# e2e_run COMMAND...: runs a Python driver, which stops what it started on any exit, and
# exits with its status. An interrupt is passed on to it, then its clean-up is waited for.
e2e_run() {
  "$@" &
  e2e_pid=$!
  trap 'kill -TERM "$e2e_pid" 2>/dev/null || true' INT TERM HUP
  local status=0
  wait "$e2e_pid" || status=$?
  # A signal interrupts the first wait; wait again for the driver's own clean-up.
  if kill -0 "$e2e_pid" 2>/dev/null; then wait "$e2e_pid" || status=$?; fi
  exit "$status"
}
