#!/bin/sh
# Compile every catalogue of the locale demo: translations/<code>/LC_MESSAGES/demo.po -> demo.mo
# (GNU gettext's msgfmt; Babel's "pybabel compile -d translations -D demo" does the same).
set -eu
cd "$(dirname "$0")/translations"
for po in */LC_MESSAGES/demo.po; do
  msgfmt --check-format -o "${po%.po}.mo" "$po"
  echo "compiled $po"
done
