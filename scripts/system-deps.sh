#!/usr/bin/env bash
# Make sure the system libraries and fonts briefing needs are present.
#   scripts/system-deps.sh runtime   Pango (>= 1.44, for WeasyPrint) and the fonts the theme uses
#   scripts/system-deps.sh test      also poppler-utils, qpdf and node/npm (for pdf.js), which the
#                                    tests read PDFs with, and chromium (headless), which drives
#                                    the preview's test
# Installs what is missing with apt-get when run as root on Debian/Ubuntu; otherwise stops and
# says exactly what to install.
set -euo pipefail
mode="${1:-runtime}"
missing=()

have_deb() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

pango_ok() {
  if command -v dpkg-query >/dev/null 2>&1 && have_deb libpango-1.0-0; then
    local version
    version=$(dpkg-query -W -f='${Version}' libpango-1.0-0)
    dpkg --compare-versions "$version" ge 1.44
  else
    ldconfig -p 2>/dev/null | grep 'libpango-1.0.so.0' >/dev/null
  fi
}

pango_ok || missing+=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0)
# HarfBuzz's subsetter makes font subsetting fast and will be required by WeasyPrint.
if command -v dpkg-query >/dev/null 2>&1; then
  have_deb libharfbuzz-subset0 || missing+=(libharfbuzz-subset0)
fi
command -v fc-list >/dev/null 2>&1 || missing+=(fontconfig)
# Noto Serif and Noto Sans with their Khmer companions; DejaVu as the last fallback.
if ! (command -v fc-list >/dev/null 2>&1 && fc-list | grep 'Noto Serif Khmer' >/dev/null \
      && fc-list | grep 'NotoSerif-Regular' >/dev/null); then
  missing+=(fonts-noto-core)
fi
(command -v fc-list >/dev/null 2>&1 && fc-list | grep 'DejaVuSans.ttf' >/dev/null) || missing+=(fonts-dejavu-core)

if [ "$mode" = test ]; then
  command -v pdftotext >/dev/null 2>&1 || missing+=(poppler-utils)
  command -v qpdf >/dev/null 2>&1 || missing+=(qpdf)
  # node and npm run pdf.js (npm pdfjs-dist, Firefox's PDF reader) in tests/pdfjs_text.mjs.
  command -v node >/dev/null 2>&1 || missing+=(nodejs)
  command -v npm >/dev/null 2>&1 || missing+=(npm)
  # headless Chromium drives `briefing preview` in tests/test_preview_browser.py
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
fi

[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing system packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  exit 0
fi

echo "briefing needs these system packages, which are missing: ${missing[*]}" >&2
echo "On Debian or Ubuntu, install them with:" >&2
echo "    sudo apt-get install ${missing[*]}" >&2
echo "(WeasyPrint needs Pango 1.44 or newer; see https://doc.courtbouillon.org/weasyprint/stable/first_steps.html)" >&2
exit 1
