#!/usr/bin/env bash
# End-to-end test of the desktop window: tauri-driver + WebKitWebDriver drive the real
# amo-connector window against the local amoCRM emulator and the real Secret Service.
#
#   xvfb-run -a -s '-screen 0 1280x900x24' scripts/with-keyring tests/e2e/window.sh [SCENARIO...]
#
# SCENARIO names one to run (keyboard-en, happy-en, happy-ru, failure-en, failure-ru,
# moved-ru); without one, all run.
#
# Needs `cargo build --workspace --bins` first (scripts/test does it), an X display, a
# keyring session (scripts/with-keyring), tauri-driver, WebKitWebDriver, ImageMagick's
# `import`, secret-tool, and the Selenium client in .venv/ (scripts/setup installs it).
# Screenshots go to $AMO_ARTIFACTS_DIR (default artifacts/); AMO_E2E_UPDATE_DOCS=1 also
# copies the main screenshots to docs/screenshots/. Prints one line per check and ends with
# "N passed, N failed"; the exit status is non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/../.."

export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:/root/.cargo/bin:$PATH"
export WEBKIT_DISABLE_DMABUF_RENDERER="${WEBKIT_DISABLE_DMABUF_RENDERER:-1}"
export WEBKIT_DISABLE_COMPOSITING_MODE="${WEBKIT_DISABLE_COMPOSITING_MODE:-1}"
export NO_AT_BRIDGE=1
# The app hands addresses to $BROWSER (the test's fake browser) before any desktop opener.
unset XDG_CURRENT_DESKTOP DESKTOP_SESSION

for tool in tauri-driver WebKitWebDriver import secret-tool curl; do
  command -v "$tool" >/dev/null || {
    echo "window.sh: $tool is missing (scripts/setup installs it)" >&2
    exit 1
  }
done
[ -n "${DISPLAY:-}" ] || { echo "window.sh: no DISPLAY (run under xvfb-run)" >&2; exit 1; }
.venv/bin/python -c 'import selenium' 2>/dev/null || {
  echo "window.sh: Selenium is missing from .venv/ (scripts/setup installs it)" >&2
  exit 1
}
[ -f node_modules/axe-core/axe.min.js ] || {
  echo "window.sh: node_modules/axe-core is missing (scripts/setup runs npm ci)" >&2
  exit 1
}
for bin in amo-connector amo-emulator amo; do
  [ -x "target/debug/$bin" ] || {
    echo "window.sh: target/debug/$bin is missing (cargo build --workspace --bins)" >&2
    exit 1
  }
done

# The Python driver kills what it started (app, tauri-driver, emulator) on any exit;
# this trap only passes an interrupt on to it.
.venv/bin/python tests/e2e/window.py "$@" &
pid=$!
trap 'kill -TERM "$pid" 2>/dev/null || true' INT TERM HUP
status=0
wait "$pid" || status=$?
# A signal interrupts the first wait; wait again for the driver's own clean-up.
if kill -0 "$pid" 2>/dev/null; then wait "$pid" || status=$?; fi
exit "$status"
