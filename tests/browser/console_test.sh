#!/usr/bin/env bash
# The console's browser tests (console_test.py) against a real pkid and
# PostgreSQL, started as the interop tests start them (tests/interop/lib.sh).
# Fails, never skips, when Chromium, chromedriver or python3-selenium is
# missing. Screenshots go to $TEST_UNDECLARED_OUTPUTS_DIR (bazel-testlogs/
# tests/browser/console_test/test.outputs/), each path printed in the log.
set -eu
. tests/interop/lib.sh

for tool in chromium chromedriver /usr/bin/python3; do
  command -v "$tool" >/dev/null 2>&1 ||
    fail "$tool is not installed (Debian: chromium, chromium-driver, python3-selenium): the browser tests cannot run"
done
/usr/bin/python3 -c 'import selenium' 2>/dev/null ||
  fail "python3-selenium is not installed: the browser tests cannot run"

interop_start
# Chromium keeps its profile and caches under HOME.
export HOME="$TMP/home"
mkdir -p "$HOME"
export BASE OCSP_URL WORK PKI_CACERT PKI_TOKEN_FILE
section "the console in headless Chromium"
/usr/bin/python3 tests/browser/console_test.py || fail "the browser test failed (above)"
pass "console_test.py"
interop_finish
