#!/usr/bin/env bash
# Install Chromium from Debian's packages when it is missing (`make browser`, run by `make test`).
# Usage: scripts/browser.sh [PATH]   (default /usr/bin/chromium)
# Idempotent and quiet: nothing happens when the browser is there. Locally, without root or
# apt-get, it only says so (the browser test then skips and says why); where the tests require
# every input (PROTOVERIFY_REQUIRE_ALL set and not "0", as tests/helpers/paths.py reads it; make
# sets it from CI, `${CI:+1}`, and so does this script when run alone) that is an error, as the
# test would be.
set -u
exe=${1:-/usr/bin/chromium}
if [ -x "$exe" ]; then exit 0; fi
require=${PROTOVERIFY_REQUIRE_ALL-${CI:+1}}

give_up() {
  case "$require" in
    ""|0)
      echo "browser: $1; the browser test will be skipped"; exit 0 ;;
    *)
      echo "browser: $1 (PROTOVERIFY_REQUIRE_ALL: the browser is required)" >&2; exit 1 ;;
  esac
}

command -v apt-get >/dev/null 2>&1 || give_up "$exe missing and no apt-get to install chromium"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo -n"; else
    give_up "$exe missing and not root (run: apt-get install chromium)"
  fi
fi
echo "browser: installing chromium (Debian package)"
log=$(mktemp)
if ! { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
      --no-install-recommends chromium; } >"$log" 2>&1; then
  tail -n 20 "$log" >&2; rm -f "$log"
  give_up "apt-get install chromium failed"
fi
rm -f "$log"
[ -x "$exe" ] || give_up "chromium installed but $exe is missing"
