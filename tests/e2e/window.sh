#!/usr/bin/env bash
# End-to-end test of the desktop window: tauri-driver + WebKitWebDriver drive the real
# amo-connector window against the local amoCRM emulator and the real Secret Service.
#
#   xvfb-run -a -s '-screen 0 1280x900x24' scripts/with-keyring tests/e2e/window.sh [SCENARIO...]
#
# SCENARIO names one to run (keyboard-en, happy-en, happy-ru, failure-en, failure-ru,
# moved-ru, many-accounts, local-api); without one, all run. AMO_E2E_ACCOUNTS (default 200, at least 8)
# is how many accounts many-accounts connects: an emulator each, about 0.2 s apiece.
#
# Needs `cargo build --workspace --bins` first (scripts/test does it), an X display, a
# keyring session (scripts/with-keyring), tauri-driver, WebKitWebDriver, ImageMagick's
# `import`, secret-tool, and the Selenium client in .venv/ (scripts/setup installs it).
# Screenshots go to $AMO_ARTIFACTS_DIR (default artifacts/); AMO_E2E_UPDATE_DOCS=1 also
# copies the main screenshots to docs/screenshots/. Prints one line per check and ends with
# "e2e result: N passed; N failed; N skipped" (tests/e2e/kit.py); the exit status is
# non-zero on any failure, 2 for a scenario name it does not know.
set -euo pipefail
cd "$(dirname "$0")/../.."
source tests/e2e/kit.bash

export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:/root/.cargo/bin:$PATH"
export WEBKIT_DISABLE_DMABUF_RENDERER="${WEBKIT_DISABLE_DMABUF_RENDERER:-1}"
export WEBKIT_DISABLE_COMPOSITING_MODE="${WEBKIT_DISABLE_COMPOSITING_MODE:-1}"
export NO_AT_BRIDGE=1
# The app hands addresses to $BROWSER (the test's fake browser) before any desktop opener.
unset XDG_CURRENT_DESKTOP DESKTOP_SESSION

e2e_need window.sh tauri-driver WebKitWebDriver import secret-tool curl xclip
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

# The driver stops what it started (app, tauri-driver, emulator) on any exit.
e2e_run .venv/bin/python tests/e2e/window.py "$@"
