#!/usr/bin/env bash
# The menu entry speaks the user's language: the .desktop template tauri.conf.json names
# (bundle.linux.deb.desktopTemplate) has Russian name, generic name, comment and keywords,
# and, filled as Tauri fills it, passes desktop-file-validate when that tool is present.
set -euo pipefail
cd "$(dirname "$0")/../.."
template=$(python3 -c 'import json; print(json.load(open("tauri.conf.json"))["bundle"]["linux"]["deb"]["desktopTemplate"])')
failed=0
# Name[ru] is the product's name, the same in every language; the others are Russian words.
for key in Name GenericName Comment Keywords; do
  if python3 - "$template" "$key" <<'PY'
import re, sys
lines = dict(l.split("=", 1) for l in open(sys.argv[1]).read().splitlines() if "=" in l)
value = lines.get(f"{sys.argv[2]}[ru]", "")
sys.exit(0 if value and (re.search("[а-яё]", value, re.I) or sys.argv[2] == "Name") else 1)
PY
  then echo "ok   - $template has $key[ru]"
  else echo "FAIL - $template has no Russian $key[ru]"; failed=1; fi
done
if command -v desktop-file-validate >/dev/null; then
  filled=$(mktemp --suffix=.desktop)
  sed -e 's/{{name}}/amo-connector/; s/{{exec}}/amo-connector/g; s/{{icon}}/amo-connector/' \
    -e '/{{#if comment}}/d; /{{\/if}}/d; s/{{comment}}/Connect an amoCRM or Kommo account/' "$template" >"$filled"
  if desktop-file-validate "$filled"; then echo "ok   - the filled entry passes desktop-file-validate"
  else echo "FAIL - desktop-file-validate"; failed=1; fi
  rm -f "$filled"
fi
exit "$failed"
