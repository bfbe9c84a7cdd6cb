#!/usr/bin/env bash
# The menu entry speaks the user's language: the .desktop template tauri.conf.json names
# (bundle.linux.deb.desktopTemplate) has Russian name, generic name, comment and keywords,
# and, filled as Tauri fills it, passes desktop-file-validate (a skipped check when that
# tool is missing). Ends with "e2e result: N passed; N failed; N skipped".
set -euo pipefail
cd "$(dirname "$0")/../.."
source tests/e2e/kit.bash
template=$(python3 -c 'import json; print(json.load(open("tauri.conf.json"))["bundle"]["linux"]["deb"]["desktopTemplate"])')
# Name[ru] is the product's name, the same in every language; the others are Russian words.
for key in Name GenericName Comment Keywords; do
  if python3 - "$template" "$key" <<'PY'
import re, sys
lines = dict(l.split("=", 1) for l in open(sys.argv[1]).read().splitlines() if "=" in l)
value = lines.get(f"{sys.argv[2]}[ru]", "")
sys.exit(0 if value and (re.search("[а-яё]", value, re.I) or sys.argv[2] == "Name") else 1)
PY
  then e2e_ok "$template has $key[ru]"
  else e2e_fail "$template has no Russian $key[ru]"; fi
done
check="the filled entry passes desktop-file-validate"
if command -v desktop-file-validate >/dev/null; then
  filled=$(mktemp --suffix=.desktop)
  sed -e 's/{{name}}/amo-connector/; s/{{exec}}/amo-connector/g; s/{{icon}}/amo-connector/' \
    -e '/{{#if comment}}/d; /{{\/if}}/d; s/{{comment}}/Connect an amoCRM or Kommo account/' "$template" >"$filled"
  if out=$(desktop-file-validate "$filled" 2>&1); then e2e_ok "$check"
  else e2e_fail "$check" "$out"; fi
  rm -f "$filled"
else
  e2e_skip "$check" "desktop-file-validate is missing (scripts/setup installs it)"
fi
e2e_result
