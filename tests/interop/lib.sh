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
# Afterwards: $API (HOST:PORT), $BASE (http://HOST:PORT), $OCSP (HOST:PORT of
# the OCSP listener), $OCSP_URL (http://HOST:PORT), $DB_URL, $DB_NAME,
# $WORK (a scratch directory), $PKID, $PKICTL.

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

# --- pkid ---

PKID_PID=""
PKID_EXIT=""
DB_NAME=""
DB_CREATED=0

pkid_stop() {
  [ -n "$PKID_PID" ] || return 0
  local pid="$PKID_PID" i=0 rc=0
  PKID_PID=""
  kill -TERM "$pid" 2>/dev/null || true
  # Up to 30 s for a clean stop; then it is killed. A zombie counts as gone.
  while [ -d "/proc/$pid" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$pid/status" 2>/dev/null; do
    i=$((i + 1))
    if [ "$i" -gt 300 ]; then
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.1
  done
  wait "$pid" 2>/dev/null || rc=$?
  PKID_EXIT="$rc"
  return 0
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
  if [ "$DB_CREATED" = 1 ]; then
    admin_sql "DROP DATABASE IF EXISTS \"$DB_NAME\" WITH (FORCE)" >/dev/null 2>&1 ||
      printf 'warning: could not drop database %s\n' "$DB_NAME" >&2
  fi
  if [ "$rc" != 0 ] && [ -f "$TMP/pkid.log" ]; then
    printf '\n-- last lines of the pkid log (%s):\n' "$TMP/pkid.log"
    tail -n 40 "$TMP/pkid.log" | sed 's/^/   | /'
  fi
  if [ -n "${TEST_UNDECLARED_OUTPUTS_DIR:-}" ] && [ -f "$TMP/pkid.log" ]; then
    cp "$TMP/pkid.log" "$TEST_UNDECLARED_OUTPUTS_DIR/" 2>/dev/null
  fi
  exit "$rc"
}

# interop_start: see the top of this file.
interop_start() {
  if [ -z "${PKI_TEST_DATABASE_URL:-}" ]; then
    fail "PKI_TEST_DATABASE_URL is not set: this test needs a PostgreSQL server (bazel test --test_env=PKI_TEST_DATABASE_URL=postgresql://...; bazel/pki test sets it)"
  fi
  TMP="${TEST_TMPDIR:-}"
  if [ -z "$TMP" ]; then
    TMP="$(mktemp -d)"
  fi
  WORK="$TMP/work"
  rm -rf "$WORK" "$TMP/data" "$TMP/ready"
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

  "$PKID" --data-dir "$TMP/data" --database "$DB_URL" --listen 127.0.0.1:0 \
    --ocsp-listen 127.0.0.1:0 --ready-file "$TMP/ready" "$@" >"$TMP/pkid.log" 2>&1 &
  PKID_PID=$!
  local i=0
  while ! [ -s "$TMP/ready" ]; do
    if ! kill -0 "$PKID_PID" 2>/dev/null || grep -q '^State:[[:space:]]*Z' "/proc/$PKID_PID/status" 2>/dev/null; then
      cat "$TMP/pkid.log"
      fail "pkid exited before it was ready"
    fi
    i=$((i + 1))
    [ "$i" -le 300 ] || fail "pkid did not write its ready file within 30 s"
    sleep 0.1
  done
  API="$(sed -n 's/^api=//p' "$TMP/ready")"
  case "$API" in
    127.0.0.1:[0-9]*) ;;
    *) fail "ready file holds no api=127.0.0.1:PORT line: $(cat "$TMP/ready")" ;;
  esac
  BASE="http://$API"
  OCSP="$(sed -n 's/^ocsp=//p' "$TMP/ready")"
  case "$OCSP" in
    127.0.0.1:[0-9]*) ;;
    *) fail "ready file holds no ocsp=127.0.0.1:PORT line: $(cat "$TMP/ready")" ;;
  esac
  OCSP_URL="http://$OCSP"
  log "pkid: pid $PKID_PID, $BASE"
}

# interop_finish: stops pkid as a check (it must still be running: no
# crash, and must exit 0 on SIGTERM), then reports.
interop_finish() {
  section "pkid stops cleanly"
  local pid="$PKID_PID"
  if ! kill -0 "$pid" 2>/dev/null || grep -q '^State:[[:space:]]*Z' "/proc/$pid/status" 2>/dev/null; then
    pkid_stop
    fail "pkid is no longer running (exit status $PKID_EXIT): it crashed or stopped during the test"
  fi
  pkid_stop
  expect_eq "pkid exits 0 after SIGTERM" "$PKID_EXIT" 0
  printf '\nPASS: %d checks\n' "$CHECKS"
}
