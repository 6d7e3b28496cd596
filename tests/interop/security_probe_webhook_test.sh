#!/usr/bin/env bash
# Interop: the expiry monitor's webhook destinations, probed from outside a
# real pkid and PostgreSQL as an attacker or a careless operator would.
#
#  1. Secrets of a webhook URL (user:password, a token in the path, a
#     query) are shown to no one whole: revoker and issuer tokens get the
#     configuration without destinations, an admin gets the URL redacted,
#     and neither pkid's log nor the answer of :check holds them when a
#     notice fails.
#  2. URL checks: a backslash before '@' (which libcurl reads as user
#     information, so that the host called is the one after it) is refused
#     and no request reaches either listener; link-local addresses, pkid's
#     own API and OCSP listeners, and loopback or private addresses without
#     the admin's opt-in (allow_private) are refused; URLs planted in the
#     database behind the API's back are checked again when pkid connects;
#     a loopback webhook with the opt-in is called, its whole URL (user
#     information and token path) used to send.
#
# Each finding is a section of its own: a section that fails is reported and
# the others still run, so that one run names every finding that holds.
# The webhook receivers are Python's http.server on 127.0.0.1 and
# 127.0.0.2.
set -eu

. "$(dirname "$0")/lib.sh"

command -v python3 >/dev/null 2>&1 || fail "python3 is not installed (needed by this test)"

interop_start --monitor off

CA_PEM="$TMP/data/tls/ca.pem"
ADMIN="$(head -1 "$TMP/data/admin.token")"
API_PORT="${API##*:}"
OCSP_PORT="${OCSP##*:}"
PKID_LOG="$TMP/pkid.log"

# The secrets of the probe's URLs: none may appear anywhere but in the
# database and on the wire to the receiver.
SECRET_USER="probeuser7f3a"
SECRET_PASS="probepass9c1e"
SECRET_TOKEN="probetoken5d2b8e"
SECRET_QUERY="probequery4e6f"

# --- receivers ---

# One HTTP server per address: every request is appended to
# $WORK/recv-NAME.log as "METHOD PATH AUTHORIZATION" and its body kept in
# $WORK/recv-NAME.N.body. Paths under /fail/ are answered 503.
cat >"$WORK/receiver.py" <<'EOF'
import http.server, os, sys, threading
work, name, addr = sys.argv[1], sys.argv[2], sys.argv[3]
lock = threading.Lock()
count = [0]
class Handler(http.server.BaseHTTPRequestHandler):
    def handle_any(self):
        n = int(self.headers.get("Content-Length", "0") or "0")
        body = self.rfile.read(n) if n > 0 else b""
        with lock:
            count[0] += 1
            with open(os.path.join(work, "recv-%s.%d.body" % (name, count[0])), "wb") as f:
                f.write(body)
            with open(os.path.join(work, "recv-%s.log" % name), "a") as f:
                f.write("%s %s %s\n" % (self.command, self.path,
                                        self.headers.get("Authorization", "-")))
        self.send_response(503 if self.path.startswith("/fail/") else 200)
        self.send_header("Content-Length", "0")
        self.end_headers()
    do_POST = do_GET = do_PUT = handle_any
    def log_message(self, fmt, *args):
        pass
httpd = http.server.ThreadingHTTPServer((addr, 0), Handler)
with open(os.path.join(work, "recv-%s.port.tmp" % name), "w") as f:
    f.write("%d\n" % httpd.server_address[1])
os.rename(os.path.join(work, "recv-%s.port.tmp" % name),
          os.path.join(work, "recv-%s.port" % name))
httpd.serve_forever()
EOF

RECEIVER_PIDS=()
stop_receivers() {
  local pid
  for pid in ${RECEIVER_PIDS[@]+"${RECEIVER_PIDS[@]}"}; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
}
# lib.sh's EXIT trap stops pkid and drops the database; the receivers go
# first, and the test's exit status is handed on to it.
probe_cleanup() {
  local rc=$?
  set +e
  stop_receivers
  (exit "$rc")
  interop_cleanup
}
trap probe_cleanup EXIT

# start_receiver NAME ADDRESS: prints the port it listens on.
start_receiver() {
  local name="$1" addr="$2" i=0
  : >"$WORK/recv-$name.log"
  python3 "$WORK/receiver.py" "$WORK" "$name" "$addr" >"$WORK/recv-$name.out" 2>&1 &
  RECEIVER_PIDS+=("$!")
  while ! [ -s "$WORK/recv-$name.port" ]; do
    i=$((i + 1))
    [ "$i" -le 100 ] || fail "the receiver on $addr did not start: $(cat "$WORK/recv-$name.out")"
    sleep 0.1
  done
}
start_receiver a 127.0.0.1
start_receiver b 127.0.0.2
PORT_A="$(cat "$WORK/recv-a.port")"
PORT_B="$(cat "$WORK/recv-b.port")"
log "receivers: a on 127.0.0.1:$PORT_A, b on 127.0.0.2:$PORT_B"

# requests NAME: how many requests receiver NAME got.
requests() {
  wc -l <"$WORK/recv-$1.log" | tr -d ' '
}

# --- clients ---

# call TOKEN METHOD PATH OUT [CURL ARGS...]: one request with curl as TOKEN
# alone (-q ignores the test's .curlrc). Sets HTTP_CODE.
call() {
  local token="$1" method="$2" path="$3" out="$4" meta
  shift 4
  rm -f "$out"
  if ! meta="$(curl -q -sS --max-time 120 --cacert "$CA_PEM" -X "$method" \
      -H "Authorization: Bearer $token" -o "$out" -w '%{http_code}' "$@" \
      "$BASE$path")"; then
    fail "curl $method $path: transport error"
  fi
  HTTP_CODE="$meta"
}

# monitor_set ARGS...: pkictl monitor set ARGS as the first admin; sets
# PKICTL_OUT and PKICTL_RC.
monitor_set() {
  pkictl_run "$BASE" monitor set "$@"
}

# expect_set DESCRIPTION ARGS...: pkictl monitor set ARGS succeeds.
expect_set() {
  local desc="$1"
  shift
  monitor_set "$@"
  [ "$PKICTL_RC" = 0 ] || fail "$desc: pkictl monitor set $* exited $PKICTL_RC: $PKICTL_OUT"
  pass "$desc"
}

# expect_set_refused DESCRIPTION NEEDLE ARGS...: pkictl monitor set ARGS
# fails with DESTINATION_INVALID and a message holding NEEDLE, and the
# stored webhooks do not change.
expect_set_refused() {
  local desc="$1" needle="$2" before after
  shift 2
  before="$(stored_webhooks)"
  monitor_set "$@"
  [ "$PKICTL_RC" != 0 ] || fail "$desc: pkictl monitor set $* was accepted: $PKICTL_OUT"
  case "$PKICTL_OUT" in
    *DESTINATION_INVALID*) ;;
    *) fail "$desc: expected DESTINATION_INVALID, got: $PKICTL_OUT" ;;
  esac
  case "$PKICTL_OUT" in
    *"$needle"*) ;;
    *) fail "$desc: the refusal does not say [$needle]: $PKICTL_OUT" ;;
  esac
  after="$(stored_webhooks)"
  [ "$before" = "$after" ] || fail "$desc: the stored webhooks changed: [$before] -> [$after]"
  pass "$desc -> ${PKICTL_OUT%%$'\n'*}"
}

# stored_webhooks: the webhook URLs as the database holds them.
stored_webhooks() {
  sql "SELECT string_agg(address, ' ' ORDER BY position) FROM monitor_destinations WHERE kind = 'webhook'"
}

# run_check OUT: POST /v1/monitor:check as the admin; the protobuf answer
# goes to OUT.
run_check() {
  call "$ADMIN" POST /v1/monitor:check "$1"
  [ "$HTTP_CODE" = 200 ] || fail "POST /v1/monitor:check: HTTP $HTTP_CODE: $(tr -c '[:print:]\n' '.' <"$1" | head -c 300)"
}

# expect_no_secret DESCRIPTION FILE: FILE (text or protobuf bytes) holds
# none of the probe's secrets.
expect_no_secret() {
  local s
  for s in "$SECRET_USER" "$SECRET_PASS" "$SECRET_TOKEN" "$SECRET_QUERY"; do
    if grep -a -q -F -- "$s" "$2"; then
      fail "$1: [$s] appears in $(basename "$2"): $(tr -c '[:print:]\n' '.' <"$2" | grep -F -- "$s" | head -c 300)"
    fi
  done
  pass "$1"
}

# --- sections ---

FAILED=()
SECTIONS=0
# section_run TITLE FUNCTION: runs FUNCTION in a subshell; a failed check
# ends the section, not the test.
section_run() {
  SECTIONS=$((SECTIONS + 1))
  section "$1"
  local rc=0
  set +e
  (
    set -e
    "$2"
    printf '%s\n' "$CHECKS" >"$WORK/section.checks"
  )
  rc=$?
  set -e
  if [ "$rc" != 0 ]; then
    FAILED+=("$1")
    log "-- section failed: $1"
  else
    # The subshell counted the checks that held.
    CHECKS="$(cat "$WORK/section.checks")"
  fi
}

section "fixtures: a certificate due a notice, a revoker and an issuer token"
make_csr "$WORK/due.csr" rsa:2048 "/CN=due.example.com/O=Example"
check "pkictl issue --days 5 (due within the monitor's 30 days)" \
  "$PKICTL" --server "$BASE" issue --profile tomcat --csr "$WORK/due.csr" \
  --days 5 --out "$WORK/due.pem"
REVOKER="$("$PKICTL" --server "$BASE" token create --role revoker --name probe-revoker 2>&1)" ||
  fail "token create --role revoker: $REVOKER"
ISSUER="$("$PKICTL" --server "$BASE" token create --role issuer --profiles tomcat --name probe-issuer 2>&1)" ||
  fail "token create --role issuer: $ISSUER"
case "$REVOKER$ISSUER" in
  pki_*pki_*) pass "revoker and issuer tokens made" ;;
  *) fail "token create printed [$REVOKER] [$ISSUER]" ;;
esac
# A host that never resolves (RFC 6761 .invalid): every notice to it fails
# at once, with the URL's secrets around it.
SECRET_URL="http://$SECRET_USER:$SECRET_PASS@hooks.invalid/hooks/$SECRET_TOKEN?key=$SECRET_QUERY"
expect_set "an enabled monitor with a webhook holding user:password, a token path and a query" \
  --enabled true --start-days 30 --frequency 1h --email ops@example.com \
  --webhook "$SECRET_URL"
expect_eq "the database keeps the whole URL (it is needed to send)" \
  "$(stored_webhooks)" "$SECRET_URL"

# --- Finding 1: the secrets of a webhook URL ---

secrets_by_role() {
  local who token
  for who in revoker issuer; do
    token="$REVOKER"
    [ "$who" = revoker ] || token="$ISSUER"
    call "$token" GET /v1/monitor "$WORK/$who.pb"
    expect_eq "GET /v1/monitor as $who" "$HTTP_CODE" 200
    expect_no_secret "GET /v1/monitor as $who: no secret of the URL" "$WORK/$who.pb"
    if grep -a -q -F -e hooks.invalid -e ops@example.com "$WORK/$who.pb"; then
      fail "GET /v1/monitor as $who shows the destinations (admins only)"
    fi
    pass "GET /v1/monitor as $who: no destination at all"
    call "$token" GET "/v1/monitor?format=text" "$WORK/$who.txt"
    expect_eq "GET /v1/monitor?format=text as $who" "$HTTP_CODE" 200
    expect_no_secret "the text form as $who: no secret" "$WORK/$who.txt"
    if grep -q -F -e hooks.invalid -e ops@example.com "$WORK/$who.txt"; then
      fail "the text form as $who shows the destinations: $(cat "$WORK/$who.txt")"
    fi
    expect_contains "the text form as $who still has the settings" \
      "$(cat "$WORK/$who.txt")" "start_days"
  done
}
section_run "1a. revoker and issuer tokens do not see webhook URLs" secrets_by_role

secrets_for_admin() {
  call "$ADMIN" GET "/v1/monitor?format=text" "$WORK/admin.txt"
  expect_eq "GET /v1/monitor?format=text as admin" "$HTTP_CODE" 200
  expect_no_secret "the admin's text form: no secret" "$WORK/admin.txt"
  expect_contains "the admin sees the webhook redacted (scheme and host)" \
    "$(cat "$WORK/admin.txt")" "http://hooks.invalid/"
  call "$ADMIN" GET /v1/monitor "$WORK/admin.pb"
  expect_eq "GET /v1/monitor as admin" "$HTTP_CODE" 200
  expect_no_secret "the admin's protobuf answer: no secret" "$WORK/admin.pb"
  pkictl_run "$BASE" monitor show
  expect_eq "pkictl monitor show" "$PKICTL_RC" 0
  printf '%s\n' "$PKICTL_OUT" >"$WORK/show.txt"
  expect_no_secret "pkictl monitor show: no secret" "$WORK/show.txt"
}
section_run "1b. an admin sees the webhook redacted" secrets_for_admin

check_answer_on_failure() {
  run_check "$WORK/check.pb"
  expect_no_secret "the answer of :check holds no secret" "$WORK/check.pb"
  expect_contains "the answer of :check reports the failed webhook (redacted)" \
    "$(tr -c '[:print:]' '.' <"$WORK/check.pb")" "NOTIFICATION_FAILED: http://hooks.invalid/"
  pkictl_run "$BASE" monitor check
  printf '%s\n' "$PKICTL_OUT" >"$WORK/pkictl-check.txt"
  expect_eq "pkictl monitor check exits 1 (a delivery failed)" "$PKICTL_RC" 1
  expect_no_secret "pkictl monitor check prints no secret" "$WORK/pkictl-check.txt"
  expect_eq "the failure is recorded against the whole URL, for the retry" \
    "$(sql "SELECT count(*) FROM monitor_notices WHERE state = 'failed' AND destination = '$SECRET_URL'")" 1
}
section_run "1c. a failed notice: no secret in :check's answer" check_answer_on_failure

log_on_failure() {
  local before
  before="$(wc -l <"$PKID_LOG")"
  run_check "$WORK/check-log.pb"
  tail -n "+$((before + 1))" "$PKID_LOG" >"$WORK/log.new"
  expect_contains "pkid logged the failed notice" "$(cat "$WORK/log.new")" "hooks.invalid"
  expect_no_secret "pkid's log holds no secret" "$PKID_LOG"
}
section_run "1d. a failed notice: no secret in pkid's log" log_on_failure

# --- Finding 2: URL checks ---

backslash_refused() {
  expect_set_refused "a backslash before '@' (libcurl would call 127.0.0.2)" "backslash" \
    --webhook "http://127.0.0.1:$PORT_A\\@127.0.0.2:$PORT_B/"
  expect_set_refused "the same with the private opt-in" "backslash" \
    --webhook-allow-private "http://127.0.0.1:$PORT_A\\@127.0.0.2:$PORT_B/"
  expect_set_refused "a backslash in the password" "backslash" \
    --webhook-allow-private "http://u:p\\w@127.0.0.2:$PORT_B/"
  expect_set_refused "a backslash written %5C in the user name" "backslash" \
    --webhook-allow-private "http://u%5C:p@127.0.0.2:$PORT_B/"
}
section_run "2a. a backslash URL is refused" backslash_refused

backslash_not_called() {
  # Whatever the API said, and written behind its back too: no check may
  # reach either listener.
  local a b
  a="$(requests a)"
  b="$(requests b)"
  monitor_set --webhook "http://127.0.0.1:$PORT_A\\@127.0.0.2:$PORT_B/"
  run_check "$WORK/check-bs.pb"
  sql "DELETE FROM monitor_destinations WHERE kind = 'webhook'" >/dev/null
  sql "INSERT INTO monitor_destinations (kind, address, position) VALUES
       ('webhook', 'http://127.0.0.1:$PORT_A\\@127.0.0.2:$PORT_B/planted', 0)" >/dev/null
  run_check "$WORK/check-bs-planted.pb"
  sql "DELETE FROM monitor_destinations WHERE kind = 'webhook'" >/dev/null
  expect_eq "no request reached the second listener (127.0.0.2)" "$(requests b)" "$b"
  expect_eq "no request reached the first listener (127.0.0.1)" "$(requests a)" "$a"
}
section_run "2b. no request reaches either listener of a backslash URL" backslash_not_called

link_local() {
  expect_set_refused "169.254.169.254 (link-local, cloud metadata)" "link-local" \
    --webhook "http://169.254.169.254/latest/meta-data/"
  expect_set_refused "169.254.169.254 with the private opt-in" "link-local" \
    --webhook-allow-private "http://169.254.169.254/latest/meta-data/"
  expect_set_refused "fe80::1 (IPv6 link-local)" "link-local" \
    --webhook-allow-private "http://[fe80::1]:8080/"
  expect_set_refused "169.254.1.1 written as one number" "link-local" \
    --webhook-allow-private "http://2851995905/"
  expect_set_refused "::ffff:169.254.1.1 (IPv4-mapped)" "link-local" \
    --webhook-allow-private "http://[::ffff:169.254.1.1]/"
}
section_run "2c. link-local addresses are refused" link_local

own_listeners() {
  expect_set_refused "pkid's own API listener" "listener" \
    --webhook "https://$API/v1/ca"
  expect_set_refused "pkid's own API listener, with the private opt-in" "listener" \
    --webhook-allow-private "https://$API/v1/ca"
  expect_set_refused "pkid's own API listener as localhost, with the opt-in" "listener" \
    --webhook-allow-private "https://localhost:$API_PORT/v1/ca"
  expect_set_refused "pkid's own OCSP listener, with the opt-in" "listener" \
    --webhook-allow-private "http://$OCSP/"
}
section_run "2d. pkid's own API and OCSP listeners are refused" own_listeners

private_without_opt_in() {
  local a
  a="$(requests a)"
  expect_set_refused "127.0.0.1 without the opt-in" "allow_private" \
    --webhook "http://127.0.0.1:$PORT_A/hook"
  expect_set_refused "127.0.0.1 written as 0x7f.1 without the opt-in" "allow_private" \
    --webhook "http://0x7f.1:$PORT_A/hook"
  expect_set_refused "localhost without the opt-in" "allow_private" \
    --webhook "http://localhost:$PORT_A/hook"
  expect_set_refused "10.1.2.3 without the opt-in" "allow_private" \
    --webhook "http://10.1.2.3/hook"
  expect_set_refused "172.16.0.1 without the opt-in" "allow_private" \
    --webhook "http://172.16.0.1/hook"
  expect_set_refused "192.168.1.1 without the opt-in" "allow_private" \
    --webhook "https://192.168.1.1/hook"
  expect_set_refused "::1 without the opt-in" "allow_private" \
    --webhook "http://[::1]:$PORT_A/hook"
  expect_set_refused "fd00::1 without the opt-in" "allow_private" \
    --webhook "http://[fd00::1]/hook"
  expect_set_refused "a scheme other than http and https" "http" \
    --webhook-allow-private "ftp://127.0.0.1:$PORT_A/hook"
  run_check "$WORK/check-private.pb"
  expect_eq "no request reached the loopback receiver" "$(requests a)" "$a"
}
section_run "2e. loopback and private addresses need the admin's opt-in" private_without_opt_in

planted() {
  # Rows written behind the API's back (an old pkid, a hand edit): pkid
  # checks the address again when it connects, resolving names then.
  local a
  a="$(requests a)"
  sql "DELETE FROM monitor_destinations WHERE kind = 'webhook'" >/dev/null
  sql "INSERT INTO monitor_destinations (kind, address, position) VALUES
       ('webhook', 'http://127.0.0.1:$PORT_A/planted-literal', 0),
       ('webhook', 'http://localhost:$PORT_A/planted-name', 1)" >/dev/null
  run_check "$WORK/check-planted.pb"
  expect_eq "no request reached the loopback receiver" "$(requests a)" "$a"
  expect_contains "the answer of :check says why (the opt-in it lacks)" \
    "$(tr -c '[:print:]' '.' <"$WORK/check-planted.pb")" "allow_private"
  sql "DELETE FROM monitor_destinations WHERE kind = 'webhook'" >/dev/null
}
section_run "2f. planted private URLs are refused when pkid connects" planted

private_with_opt_in() {
  local a url
  a="$(requests a)"
  url="http://$SECRET_USER:$SECRET_PASS@127.0.0.1:$PORT_A/hooks/$SECRET_TOKEN"
  expect_set "a loopback webhook with user:password and a token path, opted in" \
    --webhook-allow-private "$url"
  expect_eq "the database keeps the whole URL" "$(stored_webhooks)" "$url"
  expect_eq "and its opt-in" \
    "$(sql "SELECT allow_private FROM monitor_destinations WHERE kind = 'webhook'")" t
  call "$ADMIN" GET "/v1/monitor?format=text" "$WORK/admin-optin.txt"
  expect_no_secret "the admin's view: no secret" "$WORK/admin-optin.txt"
  expect_contains "the admin's view shows the opt-in" \
    "$(cat "$WORK/admin-optin.txt")" "allow_private"
  run_check "$WORK/check-optin.pb"
  expect_eq "the receiver got one request" "$(requests a)" "$((a + 1))"
  local line
  line="$(tail -n 1 "$WORK/recv-a.log")"
  expect_eq "a POST to the token path, with the URL's user and password" "$line" \
    "POST /hooks/$SECRET_TOKEN Basic $(printf '%s:%s' "$SECRET_USER" "$SECRET_PASS" | base64 -w0)"
  expect_contains "its body lists the certificate due" \
    "$(cat "$WORK/recv-a.$(($(ls "$WORK"/recv-a.*.body | wc -l))).body")" "due.example.com"
  expect_no_secret "pkid's log holds no secret" "$PKID_LOG"
  # pkictl reads the configuration (URLs redacted), changes a setting and
  # writes it back: the stored URL must not become the redacted one.
  expect_set "pkictl monitor set --start-days 20 (webhooks not named)" --start-days 20
  expect_eq "the stored URL and its opt-in are kept whole" \
    "$(sql "SELECT address, allow_private FROM monitor_destinations WHERE kind = 'webhook'")" \
    "$url|t"
}
section_run "2g. a private webhook with the opt-in works end to end" private_with_opt_in

if [ "${#FAILED[@]}" -gt 0 ]; then
  printf '\n%d of %d sections failed:\n' "${#FAILED[@]}" "$SECTIONS" >&2
  printf '  - %s\n' "${FAILED[@]}" >&2
  exit 1
fi

interop_finish
