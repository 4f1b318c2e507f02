#!/usr/bin/env bash
# Make sure the browser test of the website (tests/site/test_browser.py) has a Chromium.
# `make site` runs this first. Looks where the test looks: $CHROMIUM, /usr/bin/chromium, chromium on PATH.
# Missing, and root with apt: installs Debian's chromium (Playwright's own browsers are never downloaded).
# Still missing: outside CI a loud warning (the test is then skipped); with CI set, an error.
set -u

find_chromium() {
  for c in "${CHROMIUM:-}" /usr/bin/chromium "$(command -v chromium)" "$(command -v chromium-browser)"; do
    if [ -n "$c" ] && [ -f "$c" ] && [ -x "$c" ]; then echo "$c"; return 0; fi
  done
  return 1
}

if ! find_chromium >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "Chromium is missing: installing Debian's chromium package for the browser test of the website"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y --no-install-recommends chromium || { apt-get update && apt-get install -y --no-install-recommends chromium; } \
    || echo "apt-get could not install chromium"
fi

if found=$(find_chromium); then
  echo "Chromium for the browser test: $found ($("$found" --version 2>/dev/null | head -1))"
  exit 0
fi

if [ -n "${CI:-}" ]; then
  echo "ERROR: no Chromium, and CI is set: the browser test of the website cannot run." >&2
  echo "       Install it (apt-get install chromium) or point CHROMIUM at one." >&2
  exit 1
fi
cat >&2 <<'MSG'
########################################################################################
#  WARNING: no Chromium found ($CHROMIUM, /usr/bin/chromium, chromium on PATH), and it  #
#  could not be installed. The browser test of the website is SKIPPED, NOT PASSED.      #
#  Install it with `sudo apt-get install chromium`, or set CHROMIUM=/path/to/chromium.  #
########################################################################################
MSG
exit 0
