#!/usr/bin/env bash
# End-to-end test of the app in the background: tray, close-to-tray, start at login and
# notifications, on a real session bus with a window manager, a tray watcher and a test
# notification server (tests/e2e/tray.py says what each scenario proves).
#
#   xvfb-run -a -s '-screen 0 1280x900x24' scripts/with-keyring bash tests/e2e/tray.sh [SCENARIO...]
#
# Needs `cargo build --workspace --bins` first (scripts/test does it), an X display and a
# session bus (scripts/with-keyring); openbox, wmctrl, status-notifier-watcher, dunst,
# dbus-daemon, gnome-keyring-daemon and the system Python's dbus and gi modules
# (scripts/setup installs them). Prints one line per check and ends with
# "e2e result: N passed; N failed; N skipped" (tests/e2e/kit.py); the exit status is
# non-zero on any failure, 2 for a scenario name it does not know.
set -euo pipefail
cd "$(dirname "$0")/../.."
source tests/e2e/kit.bash

export WEBKIT_DISABLE_DMABUF_RENDERER="${WEBKIT_DISABLE_DMABUF_RENDERER:-1}"
export WEBKIT_DISABLE_COMPOSITING_MODE="${WEBKIT_DISABLE_COMPOSITING_MODE:-1}"
export NO_AT_BRIDGE=1
unset XDG_CURRENT_DESKTOP DESKTOP_SESSION

e2e_need tray.sh openbox wmctrl status-notifier-watcher dunst dbus-daemon dbus-send \
  gnome-keyring-daemon curl
/usr/bin/python3 -c 'import dbus, gi' 2>/dev/null || {
  echo "tray.sh: the system Python lacks dbus or gi (python3-dbus, python3-gi)" >&2
  exit 1
}
[ -n "${DISPLAY:-}" ] || { echo "tray.sh: no DISPLAY (run under xvfb-run)" >&2; exit 1; }
[ -n "${DBUS_SESSION_BUS_ADDRESS:-}" ] || {
  echo "tray.sh: no session bus (run under scripts/with-keyring)" >&2
  exit 1
}
for bin in amo-connector amo-connector-tray amo amo-emulator; do
  [ -x "target/debug/$bin" ] || {
    echo "tray.sh: target/debug/$bin is missing (cargo build --workspace --bins)" >&2
    exit 1
  }
done

e2e_run /usr/bin/python3 tests/e2e/tray.py "$@"
