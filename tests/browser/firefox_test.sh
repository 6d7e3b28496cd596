#!/usr/bin/env bash
# The console in Firefox (firefox_test.py, over WebDriver BiDi through
# bidi.py) against a real pkid and PostgreSQL, started as the interop tests
# start them (tests/interop/lib.sh). Fails, never skips, when firefox-esr or
# python3-websocket is missing. Screenshots go to
# $TEST_UNDECLARED_OUTPUTS_DIR (bazel-testlogs/tests/browser/firefox_test/
# test.outputs/), each path printed in the log.
set -eu
. tests/interop/lib.sh

command -v firefox-esr >/dev/null 2>&1 ||
  fail "firefox-esr is not installed (Debian: firefox-esr): the Firefox tests cannot run"
/usr/bin/python3 -c 'import websocket' 2>/dev/null ||
  fail "python3-websocket is not installed: the Firefox tests cannot run"

interop_start
# Firefox keeps caches and its profile's lock under HOME and WORK.
export HOME="$TMP/home"
mkdir -p "$HOME"
export BASE OCSP_URL WORK PKI_CACERT PKI_TOKEN_FILE
section "the console in headless Firefox (WebDriver BiDi)"
/usr/bin/python3 tests/browser/firefox_test.py || {
  tail -n 40 "$WORK/firefox.log" 2>/dev/null | sed 's/^/     firefox| /'
  fail "the Firefox test failed (above)"
}
pass "firefox_test.py"
interop_finish
