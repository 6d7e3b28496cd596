#!/usr/bin/env bash
# Sign-in to the console with a client certificate (client_cert_test.py) in
# Firefox over WebDriver BiDi and in Chromium through selenium, against a real pkid and PostgreSQL started as
# the interop tests start them (tests/interop/lib.sh). Fails, never skips,
# when firefox-esr, python3-websocket, libnss3-tools, chromium,
# chromium-driver or python3-selenium is missing.
# Screenshots go to $TEST_UNDECLARED_OUTPUTS_DIR, each path printed.
set -eu
. tests/interop/lib.sh

for tool in firefox-esr certutil pk12util psql chromium chromedriver; do
  command -v "$tool" >/dev/null 2>&1 ||
    fail "$tool is not installed (Debian: firefox-esr, libnss3-tools, postgresql-client, chromium, chromium-driver): the client-certificate test cannot run"
done
/usr/bin/python3 -c 'import websocket, selenium' 2>/dev/null ||
  fail "python3-websocket or python3-selenium is not installed: the client-certificate test cannot run"

interop_start
# The browsers keep caches under HOME; each profile (Firefox's cert9.db,
# Chromium's HOME/.pki/nssdb) is made under WORK.
export HOME="$TMP/home"
mkdir -p "$HOME"
export BASE PKI_CACERT PKI_TOKEN_FILE PKICTL DB_URL WORK
section "client-certificate sign-in in headless Firefox (WebDriver BiDi)"
/usr/bin/python3 tests/browser/client_cert_test.py || {
  for f in "$WORK"/firefox-*.log; do
    [ -f "$f" ] && tail -n 20 "$f" | sed "s#^#     $(basename "$f")| #"
  done
  fail "the client-certificate test failed (above)"
}
pass "client_cert_test.py"
interop_finish
