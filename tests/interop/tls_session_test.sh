#!/usr/bin/env bash
# Interop: connections to the API that cost no handshake per call.
# README.md, "HTTP API" (connections). Keep-alive: several requests on one
# TLS connection are answered (curl counts the connections it opened).
# Session resumption: openssl s_client resumes a session with the ticket of
# an earlier one, in TLS 1.3 and 1.2 ("Reused"), and a resumed session is
# still authenticated at every request: the client certificate of the
# session it resumes works, and stops working once revoked.
set -eu

. "$(dirname "$0")/lib.sh"

interop_start

CA_PEM="$PKI_CACERT"

section "keep-alive: three calls, one connection"
# num_connects: the connections curl opened for each transfer (one -o for
# each URL).
out="$(curl -sS --max-time 60 -o /dev/null -o /dev/null -o /dev/null \
  -w '%{num_connects} %{http_code}\n' \
  "$BASE/healthz" "$BASE/v1/ca" "$BASE/v1/ca/rsa-root/chain")"
expect_eq "curl opened one connection for three calls, each answered 200" \
  "$(printf "%s " $out)" "1 200 0 200 0 200 "

# The same with a certificate issued in between (a call that waits for the
# signing engine and the commit: the connection is suspended meanwhile).
make_csr "$WORK/ka.csr" rsa:2048 "/CN=ka.example.com/O=Acme"
# (--next starts a transfer without the .curlrc's options: they are repeated.)
TOKEN="$(head -1 "$PKI_TOKEN_FILE")"
out="$(curl -sS --max-time 60 -o /dev/null -w '%{num_connects} %{http_code}\n' \
  --data-binary @"$WORK/ka.csr" "$BASE/v1/sign?profile=tomcat" \
  --next --cacert "$CA_PEM" -H "Authorization: Bearer $TOKEN" \
  -o /dev/null -w '%{num_connects} %{http_code}\n' "$BASE/v1/ca")"
expect_eq "an issuance and a call after it on one connection" \
  "$(printf "%s " $out)" "1 200 0 200 "

# s_request NAME ARGS...: one HTTP/1.1 request (REQUEST) over openssl
# s_client with ARGS; the whole output in S_OUT.
REQUEST=""
S_OUT=""
s_request() {
  local name="$1"
  shift
  S_OUT="$(printf '%b' "$REQUEST" | timeout 30 openssl s_client -connect "$API" \
    -CAfile "$CA_PEM" -verify_return_error -ign_eof "$@" 2>&1)" ||
    { printf '%s\n' "$S_OUT" | sed 's/^/     | /'; fail "$name: openssl s_client failed"; }
}

section "session resumption"
for v in 1_3 1_2; do
  REQUEST='GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n'
  rm -f "$WORK/sess$v.pem"
  s_request "TLS $v first" "-tls$v" -sess_out "$WORK/sess$v.pem"
  expect_contains "TLS $v: the first connection makes a new session" "$S_OUT" "New, TLSv"
  expect_contains "TLS $v: answered" "$S_OUT" "HTTP/1.1 200"
  [ -s "$WORK/sess$v.pem" ] || fail "TLS $v: s_client saved no session (no ticket sent?)"
  s_request "TLS $v resumed" "-tls$v" -sess_in "$WORK/sess$v.pem"
  expect_contains "TLS $v: the second connection resumes it" "$S_OUT" "Reused, TLSv"
  expect_contains "TLS $v: answered on the resumed session" "$S_OUT" "HTTP/1.1 200"
done

# client_cert NAME: a client certificate with a role (README "Access"),
# made by pkictl keygen into $WORK/NAME; its files in CERT and KEY, its
# serial (lower-case hex, as the API takes it) in SERIAL.
CERT=""
KEY=""
SERIAL=""
client_cert() {
  pkictl_run "$BASE" keygen --profile api-client --cn "$1" \
    --ou pki-role:revoker --out-dir "$WORK/$1"
  expect_eq "pkictl keygen api-client $1: exit status" "$PKICTL_RC" 0
  CERT="$WORK/$1/$1.pem"
  KEY="$WORK/$1/$1.key"
  [ -s "$CERT" ] && [ -s "$KEY" ] || fail "pkictl wrote no certificate and key: $PKICTL_OUT"
  SERIAL="$(serial_of "$CERT" | tr 'A-F' 'a-f' | sed 's/^0*//')"
}

section "a resumed session is authenticated at every request"
client_cert resume-probe
REQUEST='GET /v1/ca?format=text HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n'
s_request "client certificate, first" -tls1_3 -cert "$CERT" -key "$KEY" \
  -sess_out "$WORK/cert.sess"
expect_contains "client certificate: a new session" "$S_OUT" "New, TLSv1.3"
expect_contains "client certificate: GET /v1/ca answered 200" "$S_OUT" "HTTP/1.1 200"
s_request "client certificate, resumed" -tls1_3 -sess_in "$WORK/cert.sess"
expect_contains "resumed without sending the certificate again" "$S_OUT" "Reused, TLSv1.3"
expect_contains "the resumed session carries the certificate: 200" "$S_OUT" "HTTP/1.1 200"

# No credential at all on a fresh session: refused (the 200 above came from
# the certificate, not from the call being public).
s_request "no credential" -tls1_3
expect_contains "no credential: 401" "$S_OUT" "HTTP/1.1 401"

pkictl_run "$BASE" revoke "$SERIAL" --reason keyCompromise
expect_eq "pkictl revoke of the client certificate: exit status" "$PKICTL_RC" 0
s_request "revoked certificate, resumed" -tls1_3 -sess_in "$WORK/cert.sess"
expect_contains "the revoked certificate's session is still resumed" "$S_OUT" "Reused, TLSv1.3"
expect_contains "but its requests are refused: 401" "$S_OUT" "HTTP/1.1 401"

section "a client certificate revoked in a batch is refused at once"
# The node that revokes drops its cached principals before it answers, for
# :batchRevoke as for :revoke; the NOTIFY only does so for the other nodes.
client_cert batch-probe
s_request "second client certificate" -tls1_3 -cert "$CERT" -key "$KEY"
expect_contains "second client certificate: 200 (its principal now cached)" "$S_OUT" "HTTP/1.1 200"
echo "$SERIAL" >"$WORK/serials.txt"
pkictl_run "$BASE" revoke --serials-file "$WORK/serials.txt" --reason keyCompromise
expect_eq "pkictl revoke --serials-file: exit status" "$PKICTL_RC" 0
s_request "second client certificate, revoked" -tls1_3 -cert "$CERT" -key "$KEY"
expect_contains "revoked in a batch: refused at the next request, 401" "$S_OUT" "HTTP/1.1 401"

log "$CHECKS checks passed"
