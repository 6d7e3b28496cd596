# Shared helpers of the interop tests (tests/interop/*_test.sh).
#
# Sourced, never run. The test scripts use `set -eu`; every helper here
# reports what it checks on stdout and ends the test with a clear message on
# the first failed check.
#
# interop_start does the common setup:
#   - fails (never skips) when PKI_TEST_DATABASE_URL is unset;
#   - creates a database of its own (pki_interop_<random>) through psql and
#     drops it at exit;
#   - starts pkid from the runfiles (api/pkid) on 127.0.0.1:0 (API and OCSP)
#     with its data directory under $TEST_TMPDIR, waits up to 30 s for its
#     ready file, and stops it (SIGTERM, wait) at exit.
# Its arguments go to pkid.
# Afterwards: $API (HOST:PORT), $BASE (http://HOST:PORT), $OCSP (HOST:PORT of
# the OCSP listener), $OCSP_URL (http://HOST:PORT), $DB_URL, $DB_NAME,
# $WORK (a scratch directory), $PKID, $PKICTL.
#
# pkid_restart ARGS... restarts that pkid (same data directory and database,
# other flags); node_start NAME ARGS... starts another node on the same
# database with a copy of the CA keys, node_stop NAME stops it.

PATH="${PATH:-}:/usr/local/bin:/usr/bin:/bin"
export PATH

# --- reporting ---

CHECKS=0

log() {
  printf '%s\n' "$*"
}

# fail ends the test. It writes to stderr, which a command substitution
# does not capture.
fail() {
  printf 'FAIL: %s\n' "$*" >&2
  exit 1
}

# pass counts and prints a check that held.
pass() {
  CHECKS=$((CHECKS + 1))
  printf 'ok   %s\n' "$*"
}

# check DESCRIPTION COMMAND [ARGS...]: runs the command; passes when it
# succeeds. Its output is shown only when it fails.
check() {
  local desc="$1" out
  shift
  if out="$("$@" 2>&1)"; then
    pass "$desc"
  else
    printf '%s\n' "$out" | sed 's/^/     | /'
    fail "$desc (command failed: $*)"
  fi
}

# expect_eq DESCRIPTION ACTUAL EXPECTED
expect_eq() {
  if [ "$2" = "$3" ]; then
    # Short values are shown: the log then says what was seen.
    if [ "${#2}" -le 100 ] && [ "${2#*$'\n'}" = "$2" ]; then
      pass "$1: [$2]"
    else
      pass "$1"
    fi
  else
    fail "$1: expected [$3], got [$2]"
  fi
}

# expect_contains DESCRIPTION HAYSTACK NEEDLE
expect_contains() {
  case "$2" in
    *"$3"*) pass "$1" ;;
    *) fail "$1: [$3] not found in [$2]" ;;
  esac
}

# expect_not_contains DESCRIPTION HAYSTACK NEEDLE
expect_not_contains() {
  case "$2" in
    *"$3"*) fail "$1: [$3] must not appear in [$2]" ;;
    *) pass "$1" ;;
  esac
}

section() {
  printf '\n== %s\n' "$*"
}

# --- HTTP through curl ---

# http METHOD URL OUT [CURL ARGS...]: sends one request with curl and writes
# the body to OUT. Sets HTTP_CODE and HTTP_TYPE (the Content-Type).
HTTP_CODE=""
HTTP_TYPE=""
http() {
  local method="$1" url="$2" out="$3" meta
  shift 3
  if ! meta="$(curl -sS --max-time 120 -X "$method" -o "$out" \
      -w '%{http_code} %{content_type}' "$@" "$url")"; then
    fail "curl $method $url: transport error"
  fi
  HTTP_CODE="${meta%% *}"
  HTTP_TYPE="${meta#* }"
}

# expect_refusal DESCRIPTION STATUS CODE METHOD URL [CURL ARGS...]: the
# request must be answered STATUS (a 4xx) with a text body that starts with
# the stable error code CODE.
expect_refusal() {
  local desc="$1" status="$2" code="$3" method="$4" url="$5" body
  shift 5
  local out="$WORK/refusal.body"
  rm -f "$out"
  http "$method" "$url" "$out" "$@"
  body="$(cat "$out" 2>/dev/null || true)"
  case "$HTTP_CODE" in
    4??) ;;
    *) fail "$desc: expected HTTP 4xx ($status $code), got HTTP $HTTP_CODE: $(printf '%.300s' "$body")" ;;
  esac
  [ "$HTTP_CODE" = "$status" ] ||
    fail "$desc: expected HTTP $status, got $HTTP_CODE: $(printf '%.300s' "$body")"
  case "$HTTP_TYPE" in
    text/plain*) ;;
    *) fail "$desc: expected a text/plain error body, got Content-Type [$HTTP_TYPE]" ;;
  esac
  case "$body" in
    "$code:"*) ;;
    *) fail "$desc: expected a body starting with \"$code:\", got: $(printf '%.300s' "$body")" ;;
  esac
  pass "$desc -> HTTP $HTTP_CODE ${body%%$'\n'*}"
}

# --- PostgreSQL through psql ---

# sql QUERY: runs QUERY in the test's database; prints unaligned rows.
sql() {
  psql "$DB_URL" -X -q -A -t -v ON_ERROR_STOP=1 -c "$1" ||
    fail "psql: query failed: $1"
}

admin_sql() {
  psql "$PKI_TEST_DATABASE_URL" -X -q -A -t -v ON_ERROR_STOP=1 -c "$1"
}

# db_url_for NAME: PKI_TEST_DATABASE_URL with its database replaced by NAME.
db_url_for() {
  local url="$PKI_TEST_DATABASE_URL" name="$1" query="" rest scheme
  case "$url" in
    postgresql://* | postgres://*) ;;
    *) fail "PKI_TEST_DATABASE_URL must be a postgresql:// URL, got [$url]" ;;
  esac
  case "$url" in
    *\?*) query="?${url#*\?}"; url="${url%%\?*}" ;;
  esac
  scheme="${url%%://*}://"
  rest="${url#*://}"
  rest="${rest%%/*}"
  printf '%s%s/%s%s\n' "$scheme" "$rest" "$name" "$query"
}

# --- certificates through openssl ---

# split_pem FILE PREFIX: writes each PEM block of FILE to PREFIX1.pem,
# PREFIX2.pem, ...; prints the count.
split_pem() {
  awk -v prefix="$2" '
    /-----BEGIN / { n++; inside = 1 }
    inside { print > (prefix n ".pem") }
    /-----END / { inside = 0; close(prefix n ".pem") }
    END { print n + 0 }' "$1"
}

count_pem_certs() {
  grep -c -- '-----BEGIN CERTIFICATE-----' "$1" || true
}

subject_of() {
  openssl x509 -in "$1" -noout -subject -nameopt RFC2253 | sed 's/^subject=//'
}

issuer_of() {
  openssl x509 -in "$1" -noout -issuer -nameopt RFC2253 | sed 's/^issuer=//'
}

serial_of() {
  openssl x509 -in "$1" -noout -serial | sed 's/^serial=//'
}

der_hex_of() {
  openssl x509 -in "$1" -outform der | od -An -v -tx1 | tr -d ' \n'
}

# ext_header CERT NAME: the header line of extension NAME as `openssl x509
# -text` prints it ("X509v3 Key Usage: critical"), or nothing.
ext_header() {
  openssl x509 -in "$1" -noout -text |
    awk -v name="$2" '
      index($0, "            " name ":") == 1 && substr($0, 13, 1) != " " {
        sub(/^ +/, ""); print; exit }'
}

# ext_value CERT NAME: the value of extension NAME, its lines joined by "; ".
ext_value() {
  openssl x509 -in "$1" -noout -text |
    awk -v name="$2" '
      found && /^                / { sub(/^ +/, ""); v = v (v == "" ? "" : "; ") $0; next }
      found { exit }
      index($0, "            " name ":") == 1 && substr($0, 13, 1) != " " { found = 1 }
      END { print v }'
}

# critical_extensions CERT: the names of the extensions marked critical,
# sorted, comma-separated.
critical_extensions() {
  openssl x509 -in "$1" -noout -text |
    awk '
      /^        X509v3 extensions:/ { inside = 1; next }
      inside && /^    [^ ]/ { inside = 0 }
      inside && /^            [^ ]/ && /: critical$/ {
        sub(/^ +/, ""); sub(/: critical$/, ""); print }' |
    sort | paste -sd, -
}

# req_san CSR: the subjectAltName a CSR requests, as openssl prints it.
req_san() {
  openssl req -in "$1" -noout -text |
    awk '
      found { sub(/^ +/, ""); print; exit }
      /X509v3 Subject Alternative Name:/ { found = 1 }'
}

# make_csr OUT KEYSPEC SUBJECT [openssl req ARGS...]: a CSR with a fresh key
# (written to OUT.key). KEYSPEC: rsa:BITS, ec:CURVE or ed25519.
make_csr() {
  local out="$1" spec="$2" subj="$3"
  shift 3
  local keyargs
  case "$spec" in
    rsa:*) keyargs="-newkey $spec" ;;
    ec:*) keyargs="-newkey ec -pkeyopt ec_paramgen_curve:${spec#ec:}" ;;
    ed25519) keyargs="-newkey ed25519" ;;
    *) fail "make_csr: unknown key spec $spec" ;;
  esac
  # shellcheck disable=SC2086
  openssl req -new $keyargs -nodes -keyout "$out.key" -subj "$subj" \
    -out "$out" "$@" >"$out.log" 2>&1 ||
    fail "openssl req could not make $out ($spec, $subj): $(cat "$out.log")"
}

# --- OCSP through openssl ocsp ---

# ocsp_ask NAME URL ISSUER ROOT [openssl ocsp ARGS...]: one request with
# `openssl ocsp -issuer ISSUER ARGS... -url URL -CAfile ROOT -verify_other
# ISSUER` (ARGS: -cert FILE, -serial 0xHEX, -no_nonce, -sha256, ...). The
# request is kept in $WORK/NAME.req.der, the response in $WORK/NAME.resp.der.
# Sets OCSP_OUT (stdout: a "LABEL: status" block per certificate), OCSP_ERR
# (stderr: "Response verify OK" or the failure) and OCSP_RC. It does not
# fail by itself: the caller checks.
#
# openssl's own verification is lenient when the CA signs: it retries with
# the -issuer certificates trusted as they are (OCSP_TRUSTOTHER), so its
# "Response verify OK" does not prove a chain to ROOT. ocsp_verify_chain
# does.
OCSP_OUT=""
OCSP_ERR=""
OCSP_RC=0
ocsp_ask() {
  local name="$1" url="$2" issuer="$3" root="$4"
  shift 4
  OCSP_RC=0
  openssl ocsp -issuer "$issuer" "$@" -url "$url" -CAfile "$root" \
    -verify_other "$issuer" -timeout 30 -reqout "$WORK/$name.req.der" \
    -respout "$WORK/$name.resp.der" >"$WORK/$name.out" 2>"$WORK/$name.err" || OCSP_RC=$?
  OCSP_OUT="$(cat "$WORK/$name.out")"
  OCSP_ERR="$(cat "$WORK/$name.err")"
}

# ocsp_status LABEL: the status openssl printed for LABEL (a -cert file or
# a -serial value) in OCSP_OUT.
ocsp_status() {
  printf '%s\n' "$OCSP_OUT" |
    awk -v l="$1: " 'index($0, l) == 1 { print substr($0, length(l) + 1); exit }'
}

# ocsp_field LABEL FIELD: a field of LABEL's block in OCSP_OUT ("This
# Update", "Next Update", "Reason", "Revocation Time"), or nothing.
ocsp_field() {
  printf '%s\n' "$OCSP_OUT" |
    awk -v l="$1: " -v f="$2: " '
      index($0, l) == 1 { inside = 1; next }
      inside && /^\t/ { s = $0; sub(/^\t/, "", s)
                        if (index(s, f) == 1) { print substr(s, length(f) + 1); exit }
                        next }
      inside { exit }'
}

# epoch_of DATE: Unix seconds of a date as openssl, GnuTLS or HTTP print it.
epoch_of() {
  date -u -d "$1" +%s 2>/dev/null || fail "cannot read the date [$1]"
}

# ocsp_resp_text RESPONSE_DER: the response as openssl prints it (no
# verification: printing only).
ocsp_resp_text() {
  openssl ocsp -respin "$1" -resp_text -noverify 2>&1
}

# ocsp_verify_chain DESCRIPTION RESPONSE_DER ISSUING ROOT: the response
# verifies with ROOT as the only trust anchor and the issuing CA as an
# untrusted intermediate: a response signed by the issuing CA itself, or by
# a responder certificate it issued with id-kp-OCSPSigning (openssl checks
# both, and that the responder's issuer is the issuer named in the CertIDs).
# No -issuer is given, so openssl cannot fall back to trusting it directly.
ocsp_verify_chain() {
  local out
  if ! out="$(openssl ocsp -respin "$2" -CAfile "$4" -verify_other "$3" 2>&1)"; then
    printf '%s\n' "$out" | sed 's/^/     | /'
    fail "$1: openssl ocsp -respin -CAfile root -verify_other issuing does not verify the response"
  fi
  expect_contains "$1" "$out" "Response verify OK"
}

# pkictl_run SERVER ARGS...: runs pkictl; sets PKICTL_OUT (stdout and
# stderr) and PKICTL_RC.
PKICTL_OUT=""
PKICTL_RC=0
pkictl_run() {
  local server="$1"
  shift
  PKICTL_RC=0
  PKICTL_OUT="$("$PKICTL" --server "$server" "$@" 2>&1)" || PKICTL_RC=$?
}

# --- pkid ---

PKID_PID=""
PKID_EXIT=""
DB_NAME=""
DB_CREATED=0

# process_gone PID: succeeds when PID has exited (a zombie counts as gone).
process_gone() {
  ! kill -0 "$1" 2>/dev/null || grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}

# stop_process PID: SIGTERM, then up to 30 s for a clean stop; after that
# SIGKILL. Sets STOPPED_EXIT to its exit status.
STOPPED_EXIT=""
stop_process() {
  local pid="$1" i=0 rc=0
  kill -TERM "$pid" 2>/dev/null || true
  while ! process_gone "$pid"; do
    i=$((i + 1))
    if [ "$i" -gt 300 ]; then
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.1
  done
  wait "$pid" 2>/dev/null || rc=$?
  STOPPED_EXIT="$rc"
}

pkid_stop() {
  [ -n "$PKID_PID" ] || return 0
  local pid="$PKID_PID"
  PKID_PID=""
  stop_process "$pid"
  PKID_EXIT="$STOPPED_EXIT"
  return 0
}

# pkid_launch DATA_DIR READY_FILE LOG [PKID ARGS...]: starts pkid on the
# test's database, listening on 127.0.0.1:0 (API and OCSP), appends its
# output to LOG and waits up to 30 s for its ready file. Sets LAUNCHED_PID,
# LAUNCHED_API and LAUNCHED_OCSP (HOST:PORT each, from the ready file).
LAUNCHED_PID=""
LAUNCHED_API=""
LAUNCHED_OCSP=""
pkid_launch() {
  local data="$1" ready="$2" logfile="$3"
  shift 3
  rm -f "$ready"
  printf -- '--- pkid %s\n' "$*" >>"$logfile"
  "$PKID" --data-dir "$data" --database "$DB_URL" --listen 127.0.0.1:0 \
    --ocsp-listen 127.0.0.1:0 --ready-file "$ready" "$@" >>"$logfile" 2>&1 &
  LAUNCHED_PID=$!
  local i=0
  while ! [ -s "$ready" ]; do
    if process_gone "$LAUNCHED_PID"; then
      cat "$logfile"
      fail "pkid ($*) exited before it was ready"
    fi
    i=$((i + 1))
    [ "$i" -le 300 ] || fail "pkid ($*) did not write its ready file within 30 s"
    sleep 0.1
  done
  LAUNCHED_API="$(sed -n 's/^api=//p' "$ready")"
  case "$LAUNCHED_API" in
    127.0.0.1:[0-9]*) ;;
    *) fail "ready file holds no api=127.0.0.1:PORT line: $(cat "$ready")" ;;
  esac
  LAUNCHED_OCSP="$(sed -n 's/^ocsp=//p' "$ready")"
  case "$LAUNCHED_OCSP" in
    127.0.0.1:[0-9]*) ;;
    *) fail "ready file holds no ocsp=127.0.0.1:PORT line: $(cat "$ready")" ;;
  esac
}

# pkid_start_main [PKID ARGS...]: starts the test's pkid and sets PKID_PID,
# API, BASE, OCSP and OCSP_URL.
pkid_start_main() {
  pkid_launch "$TMP/data" "$TMP/ready" "$TMP/pkid.log" "$@"
  PKID_PID="$LAUNCHED_PID"
  API="$LAUNCHED_API"
  BASE="https://$API"
  api_credentials
  OCSP="$LAUNCHED_OCSP"
  OCSP_URL="http://$OCSP"
  log "pkid: pid $PKID_PID, $BASE, OCSP $OCSP_URL${*:+ ($*)}"
}

# api_credentials makes every client of the test call the API as pkid's
# first admin, over TLS that trusts pki's root alone: curl through a .curlrc
# (CURL_HOME), pkictl through PKI_TOKEN_FILE and PKI_CACERT. The token file
# is the one pkid wrote at the database's first start.
api_credentials() {
  [ -s "$TMP/data/admin.token" ] || fail "pkid wrote no $TMP/data/admin.token"
  [ -s "$TMP/data/tls/ca.pem" ] || fail "pkid wrote no $TMP/data/tls/ca.pem"
  export PKI_TOKEN_FILE="$TMP/data/admin.token"
  export PKI_CACERT="$TMP/data/tls/ca.pem"
  mkdir -p "$TMP/curl"
  printf 'cacert = "%s"\nheader = "Authorization: Bearer %s"\n' \
    "$PKI_CACERT" "$(head -1 "$PKI_TOKEN_FILE")" >"$TMP/curl/.curlrc"
  export CURL_HOME="$TMP/curl"
}

# pkid_restart [PKID ARGS...]: stops the test's pkid, which must exit 0 on
# SIGTERM, and starts it again on the same data directory and database with
# ARGS (instead of those it had). Ports are new: API, BASE, OCSP and OCSP_URL
# are set again.
pkid_restart() {
  [ -n "$PKID_PID" ] || fail "pkid_restart: pkid is not running"
  if process_gone "$PKID_PID"; then
    pkid_stop
    fail "pkid is no longer running (exit status $PKID_EXIT) before its restart: it crashed"
  fi
  pkid_stop
  expect_eq "pkid exits 0 after SIGTERM (before a restart)" "$PKID_EXIT" 0
  pkid_start_main "$@"
}

# --- more pkid nodes on the same database ---

# Nodes by name: their pid (empty once stopped) and addresses.
declare -A NODE_PID=() NODE_BASE=() NODE_OCSP_URL=()
NODE_EXIT=""

# node_dir NAME: the node's directory (data/, ready, pkid.log).
node_dir() {
  printf '%s/nodes/%s\n' "$TMP" "$1"
}

# node_start NAME [PKID ARGS...]: starts another pkid, --node NAME, on the
# test's database, as a second machine would run it: a data directory of its
# own whose keys/ holds a copy of the four CA keys of the test's first pkid
# (0600 in a 0700 directory), copied the first time only (a restarted node
# keeps its data directory, its delegated responder keys included). Sets
# NODE_BASE[NAME] and NODE_OCSP_URL[NAME] from the node's ready file.
node_start() {
  local name="$1" dir key
  shift
  dir="$(node_dir "$name")"
  if ! [ -d "$dir/data/keys" ]; then
    mkdir -p "$dir/data/keys"
    chmod 0700 "$dir/data" "$dir/data/keys"
    for key in rsa-root rsa-issuing ec-root ec-issuing; do
      [ -f "$TMP/data/keys/$key.key" ] ||
        fail "node_start $name: $TMP/data/keys/$key.key is missing (start the first pkid before)"
      cp "$TMP/data/keys/$key.key" "$dir/data/keys/$key.key"
      chmod 0600 "$dir/data/keys/$key.key"
    done
  fi
  pkid_launch "$dir/data" "$dir/ready" "$dir/pkid.log" --node "$name" "$@"
  NODE_PID[$name]="$LAUNCHED_PID"
  NODE_BASE[$name]="https://$LAUNCHED_API"
  NODE_OCSP_URL[$name]="http://$LAUNCHED_OCSP"
  log "pkid node $name: pid $LAUNCHED_PID, ${NODE_BASE[$name]}, OCSP ${NODE_OCSP_URL[$name]}${*:+ ($*)}"
}

# node_stop NAME: stops the node (SIGTERM) and checks it was still running
# and exits 0.
node_stop() {
  local name="$1" pid="${NODE_PID[$1]:-}"
  [ -n "$pid" ] || fail "node_stop $name: the node is not running"
  NODE_PID[$name]=""
  if process_gone "$pid"; then
    stop_process "$pid"
    fail "pkid node $name is no longer running (exit status $STOPPED_EXIT): it crashed or stopped during the test"
  fi
  stop_process "$pid"
  NODE_EXIT="$STOPPED_EXIT"
  expect_eq "pkid node $name exits 0 after SIGTERM" "$NODE_EXIT" 0
}

interop_cleanup() {
  local rc=$?
  set +e
  if [ -n "$PKID_PID" ]; then
    pkid_stop
    if [ "$PKID_EXIT" != 0 ]; then
      printf 'FAIL: pkid exited %s when stopped (SIGTERM): it should exit 0\n' "$PKID_EXIT" >&2
      [ "$rc" != 0 ] || rc=1
    fi
  fi
  local name
  for name in "${!NODE_PID[@]}"; do
    [ -n "${NODE_PID[$name]}" ] || continue
    stop_process "${NODE_PID[$name]}"
    NODE_PID[$name]=""
    if [ "$STOPPED_EXIT" != 0 ]; then
      printf 'FAIL: pkid node %s exited %s when stopped (SIGTERM): it should exit 0\n' \
        "$name" "$STOPPED_EXIT" >&2
      [ "$rc" != 0 ] || rc=1
    fi
  done
  if [ "$DB_CREATED" = 1 ]; then
    admin_sql "DROP DATABASE IF EXISTS \"$DB_NAME\" WITH (FORCE)" >/dev/null 2>&1 ||
      printf 'warning: could not drop database %s\n' "$DB_NAME" >&2
  fi
  local logs=()
  [ -f "$TMP/pkid.log" ] && logs+=("$TMP/pkid.log")
  for name in "${!NODE_PID[@]}"; do
    [ -f "$(node_dir "$name")/pkid.log" ] && logs+=("$(node_dir "$name")/pkid.log")
  done
  local f
  for f in ${logs[@]+"${logs[@]}"}; do
    if [ "$rc" != 0 ]; then
      printf '\n-- last lines of the pkid log (%s):\n' "$f"
      tail -n 40 "$f" | sed 's/^/   | /'
    fi
    if [ -n "${TEST_UNDECLARED_OUTPUTS_DIR:-}" ]; then
      case "$f" in
        "$TMP/pkid.log") cp "$f" "$TEST_UNDECLARED_OUTPUTS_DIR/" 2>/dev/null ;;
        *) cp "$f" "$TEST_UNDECLARED_OUTPUTS_DIR/$(basename "$(dirname "$f")").pkid.log" 2>/dev/null ;;
      esac
    fi
  done
  exit "$rc"
}

# interop_start [PKID ARGS...]: see the top of this file.
interop_start() {
  if [ -z "${PKI_TEST_DATABASE_URL:-}" ]; then
    fail "PKI_TEST_DATABASE_URL is not set: this test needs a PostgreSQL server (bazel test --test_env=PKI_TEST_DATABASE_URL=postgresql://...; bazel/pki test sets it)"
  fi
  TMP="${TEST_TMPDIR:-}"
  if [ -z "$TMP" ]; then
    TMP="$(mktemp -d)"
  fi
  WORK="$TMP/work"
  rm -rf "$WORK" "$TMP/data" "$TMP/ready" "$TMP/pkid.log" "$TMP/nodes"
  mkdir -p "$WORK"

  PKID="$PWD/api/pkid"
  PKICTL="$PWD/api/pkictl"
  [ -x "$PKID" ] || fail "pkid not found in the runfiles ($PKID)"
  [ -x "$PKICTL" ] || fail "pkictl not found in the runfiles ($PKICTL)"
  for tool in openssl curl psql certtool awk od; do
    command -v "$tool" >/dev/null 2>&1 || fail "$tool is not installed (needed by the interop tests)"
  done

  trap interop_cleanup EXIT
  trap 'exit 143' TERM
  trap 'exit 130' INT

  DB_NAME="pki_interop_$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
  admin_sql "CREATE DATABASE \"$DB_NAME\"" >/dev/null ||
    fail "cannot create database $DB_NAME through $PKI_TEST_DATABASE_URL"
  DB_CREATED=1
  DB_URL="$(db_url_for "$DB_NAME")"
  log "database: $DB_NAME"

  pkid_start_main "$@"
}

# interop_finish: stops pkid as a check (it must still be running: no
# crash, and must exit 0 on SIGTERM), then reports.
interop_finish() {
  section "pkid stops cleanly"
  local pid="$PKID_PID"
  if process_gone "$pid"; then
    pkid_stop
    fail "pkid is no longer running (exit status $PKID_EXIT): it crashed or stopped during the test"
  fi
  pkid_stop
  expect_eq "pkid exits 0 after SIGTERM" "$PKID_EXIT" 0
  printf '\nPASS: %d checks\n' "$CHECKS"
}
