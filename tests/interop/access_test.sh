#!/usr/bin/env bash
# Interop: access to the API, against a real pkid and PostgreSQL. TLS as
# independent clients see it (openssl s_client, gnutls-cli, curl, GnuTLS
# certtool), trusting DATA_DIR/tls/ca.pem alone; bearer tokens and their
# roles (issuer by profile, revoker, admin); the admin allowlist, its
# recovery through psql; the audit rows; the first admin token; pkid token
# create; a second node on the same database; --insecure-http.
set -eu

. "$(dirname "$0")/lib.sh"

command -v gnutls-cli >/dev/null 2>&1 || fail "gnutls-cli is not installed (needed by this test)"

interop_start

CA_PEM="$TMP/data/tls/ca.pem"
ADMIN="$(head -1 "$TMP/data/admin.token")"
PORT="${API##*:}"
HOST="$(hostname)"
# pkid's default --node is the host name.
NODE="$HOST"

# call TOKEN METHOD URL OUT [CURL ARGS...]: one request with curl, ignoring
# the test's .curlrc (-q): TOKEN (empty: none) is the only credential and
# pki's root the only trust anchor. Sets HTTP_CODE and HTTP_TYPE; the
# response headers land in $WORK/headers.
call() {
  local token="$1" method="$2" url="$3" out="$4" meta
  shift 4
  local auth=()
  [ -z "$token" ] || auth=(-H "Authorization: Bearer $token")
  rm -f "$out" "$WORK/headers"
  if ! meta="$(curl -q -sS --max-time 60 --cacert "$CA_PEM" -X "$method" \
      -D "$WORK/headers" -o "$out" -w '%{http_code} %{content_type}' \
      ${auth[@]+"${auth[@]}"} "$@" "$url")"; then
    fail "curl $method $url: transport error"
  fi
  HTTP_CODE="${meta%% *}"
  HTTP_TYPE="${meta#* }"
}

# expect_ok DESCRIPTION TOKEN METHOD URL [CURL ARGS...]: HTTP 200.
expect_ok() {
  local desc="$1"
  shift
  call "$1" "$2" "$3" "$WORK/ok.body" "${@:4}"
  [ "$HTTP_CODE" = 200 ] ||
    fail "$desc: expected HTTP 200, got $HTTP_CODE: $(head -c 300 "$WORK/ok.body" | tr -c '[:print:]\n' '.')"
  pass "$desc -> HTTP 200"
}

# refused DESCRIPTION STATUS CODE TOKEN METHOD URL [CURL ARGS...]: answered
# STATUS with the stable error code CODE: a text body "CODE: ..." on the
# text routes, a pki.v1.Error (Content-Type application/x-protobuf, the
# code its first field) on the protobuf routes.
refused() {
  local desc="$1" status="$2" code="$3" body
  shift 3
  call "$1" "$2" "$3" "$WORK/refused.body" "${@:4}"
  body="$(tr -c '[:print:]\n' '.' <"$WORK/refused.body" | head -c 300)"
  [ "$HTTP_CODE" = "$status" ] ||
    fail "$desc: expected HTTP $status $code, got $HTTP_CODE: $body"
  case "$HTTP_TYPE" in
    text/plain*)
      case "$body" in
        "$code:"*) ;;
        *) fail "$desc: expected a body starting with \"$code:\", got: $body" ;;
      esac ;;
    application/x-protobuf)
      # Field 1 (tag 0x0a), length, then the code.
      [ "$(head -c 2 "$WORK/refused.body" | od -An -tx1 | tr -d ' \n')" = \
        "0a$(printf '%02x' "${#code}")" ] && [ "$(head -c $((2 + ${#code})) \
        "$WORK/refused.body" | tail -c "${#code}")" = "$code" ] ||
        fail "$desc: expected a pki.v1.Error with code $code, got: $body" ;;
    *) fail "$desc: unexpected Content-Type [$HTTP_TYPE]: $body" ;;
  esac
  pass "$desc -> HTTP $HTTP_CODE $code"
}

# tls_client NAME ARGS...: openssl s_client to the API with ARGS; output in
# $WORK/NAME.tls, exit status in TLS_RC, the output in TLS_OUT.
TLS_RC=0
TLS_OUT=""
tls_client() {
  local name="$1"
  shift
  TLS_RC=0
  timeout 30 openssl s_client -connect "$API" "$@" </dev/null \
    >"$WORK/$name.tls" 2>&1 || TLS_RC=$?
  TLS_OUT="$(cat "$WORK/$name.tls")"
}

# gnutls NAME ARGS...: gnutls-cli with ARGS; as tls_client.
gnutls() {
  local name="$1"
  shift
  TLS_RC=0
  timeout 30 gnutls-cli "$@" </dev/null >"$WORK/$name.tls" 2>&1 || TLS_RC=$?
  TLS_OUT="$(cat "$WORK/$name.tls")"
}

section "the API's trust anchor: DATA_DIR/tls/ca.pem"
expect_eq "ca.pem holds one certificate" "$(count_pem_certs "$CA_PEM")" 1
expect_eq "ca.pem is pki's RSA root (self-issued)" \
  "$(subject_of "$CA_PEM")|$(issuer_of "$CA_PEM")" \
  "CN=pki RSA Root CA,O=pki|CN=pki RSA Root CA,O=pki"
curl -q -sS --cacert "$CA_PEM" "$BASE/v1/ca/rsa-root/chain" -o "$WORK/rsa-root.pem" ||
  fail "GET /v1/ca/rsa-root/chain"
expect_eq "ca.pem is the certificate GET /v1/ca/rsa-root/chain serves" \
  "$(der_hex_of "$CA_PEM")" "$(der_hex_of "$WORK/rsa-root.pem")"

section "TLS: openssl s_client trusting ca.pem alone"
tls_client tls12 -tls1_2 -CAfile "$CA_PEM" -verify_return_error -verify_hostname localhost
expect_eq "TLS 1.2, name localhost: s_client exit status" "$TLS_RC" 0
expect_contains "TLS 1.2: verified" "$TLS_OUT" "Verification: OK"
expect_contains "TLS 1.2: peer name localhost verified" "$TLS_OUT" "Verified peername: localhost"
expect_contains "TLS 1.2: negotiated" "$TLS_OUT" "New, TLSv1.2, Cipher is ECDHE-"
tls_client tls13 -tls1_3 -CAfile "$CA_PEM" -verify_return_error -verify_hostname localhost
expect_eq "TLS 1.3, name localhost: s_client exit status" "$TLS_RC" 0
expect_contains "TLS 1.3: verified" "$TLS_OUT" "Verification: OK"
expect_contains "TLS 1.3: negotiated" "$TLS_OUT" "New, TLSv1.3, Cipher is TLS_"
tls_client tlsip -tls1_3 -CAfile "$CA_PEM" -verify_return_error -verify_ip 127.0.0.1 -showcerts
expect_eq "TLS 1.3, address 127.0.0.1 checked: s_client exit status" "$TLS_RC" 0
expect_contains "address 127.0.0.1: verified" "$TLS_OUT" "Verification: OK"
printf '%s\n' "$TLS_OUT" >"$WORK/served.txt"
expect_eq "the server sends leaf, issuing CA and root" "$(split_pem "$WORK/served.txt" "$WORK/served")" 3
tls_client wrongname -tls1_2 -CAfile "$CA_PEM" -verify_return_error -verify_hostname wrong.example.com
[ "$TLS_RC" != 0 ] || fail "s_client accepted the name wrong.example.com"
expect_contains "another name is refused by the client (the name check bites)" "$TLS_OUT" "hostname mismatch"
tls_client systrust -tls1_2 -CAfile /etc/ssl/certs/ca-certificates.crt -verify_return_error
[ "$TLS_RC" != 0 ] || fail "s_client verified pkid's certificate with the system trust store"
expect_contains "the system trust store does not verify it (ca.pem is needed)" "$TLS_OUT" \
  "certificate verify failed"

section "TLS: gnutls-cli trusting ca.pem alone"
gnutls g-local --x509cafile "$CA_PEM" -p "$PORT" localhost
expect_eq "gnutls-cli, name localhost: exit status" "$TLS_RC" 0
expect_contains "gnutls-cli: trusted" "$TLS_OUT" "Status: The certificate is trusted."
expect_contains "gnutls-cli: handshake completed" "$TLS_OUT" "Handshake was completed"
expect_contains "gnutls-cli: TLS 1.3 by default" "$TLS_OUT" "Description: (TLS1.3-X.509)"
gnutls g-ip --x509cafile "$CA_PEM" -p "$PORT" 127.0.0.1
expect_eq "gnutls-cli, address 127.0.0.1: exit status" "$TLS_RC" 0
expect_contains "gnutls-cli, address 127.0.0.1: trusted" "$TLS_OUT" "Status: The certificate is trusted."
gnutls g-12 --x509cafile "$CA_PEM" --priority "NORMAL:-VERS-ALL:+VERS-TLS1.2" -p "$PORT" localhost
expect_eq "gnutls-cli, TLS 1.2 only: exit status" "$TLS_RC" 0
expect_contains "gnutls-cli, TLS 1.2 only: negotiated" "$TLS_OUT" "Description: (TLS1.2-X.509)"
gnutls g-sys --x509cafile /etc/ssl/certs/ca-certificates.crt -p "$PORT" localhost
[ "$TLS_RC" != 0 ] || fail "gnutls-cli trusted pkid's certificate through the system trust store"
expect_contains "gnutls-cli with the system trust store: not trusted" "$TLS_OUT" \
  "The certificate is NOT trusted"

section "TLS 1.1 and 1.0 are refused by the server; plain HTTP fails"
# A control server that speaks TLS 1.0 and 1.1 shows that the client
# commands below can do so: the refusal then comes from pkid.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/old.key" -subj "/CN=localhost" \
  -days 2 -out "$WORK/old.pem" 2>/dev/null || fail "openssl req: no control certificate"
openssl s_server -accept 0 -cert "$WORK/old.pem" -key "$WORK/old.key" -www -naccept 2 \
  -min_protocol TLSv1 -cipher DEFAULT@SECLEVEL=0 >"$WORK/s_server.log" 2>&1 &
SERVER_PID=$!
i=0
while ! grep -qs '^ACCEPT' "$WORK/s_server.log"; do
  i=$((i + 1))
  [ "$i" -le 100 ] || fail "openssl s_server did not start: $(cat "$WORK/s_server.log")"
  sleep 0.1
done
CONTROL_PORT="$(sed -n 's/^ACCEPT .*:\([0-9]*\)$/\1/p' "$WORK/s_server.log")"
for v in 1_1:TLSv1.1 1:TLSv1; do
  flag="-tls${v%%:*}"
  name="${v#*:}"
  TLS_RC=0
  TLS_OUT="$(timeout 30 openssl s_client -connect "127.0.0.1:$CONTROL_PORT" "$flag" \
    -cipher DEFAULT@SECLEVEL=0 </dev/null 2>&1)" || TLS_RC=$?
  expect_eq "control: s_client $flag -cipher DEFAULT@SECLEVEL=0 to a $name server: exit status" "$TLS_RC" 0
  expect_eq "control: $name negotiated with the control server" \
    "$(printf '%s\n' "$TLS_OUT" | sed -n 's/^ *Protocol *: //p')" "$name"
  tls_client "old$flag" "$flag" -cipher DEFAULT@SECLEVEL=0 -CAfile "$CA_PEM"
  [ "$TLS_RC" != 0 ] || fail "pkid accepted a $name handshake: $TLS_OUT"
  pass "pkid: s_client $flag -cipher DEFAULT@SECLEVEL=0 fails (exit $TLS_RC)"
  expect_contains "pkid: no $name session (no cipher)" "$TLS_OUT" "Cipher is (NONE)"
  expect_contains "pkid: the client's hello went out, nothing came back" "$TLS_OUT" \
    "SSL handshake has read 0 bytes"
done
stop_process "$SERVER_PID"
gnutls g-11 --x509cafile "$CA_PEM" --priority "NORMAL:-VERS-ALL:+VERS-TLS1.1" -p "$PORT" localhost
[ "$TLS_RC" != 0 ] || fail "pkid accepted a TLS 1.1 handshake from gnutls-cli"
expect_not_contains "gnutls-cli, TLS 1.1 only: refused" "$TLS_OUT" "Handshake was completed"
rc=0
curl -q -sS --max-time 20 -o /dev/null "http://$API/healthz" 2>"$WORK/plain.err" || rc=$?
[ "$rc" != 0 ] || fail "plain HTTP to the TLS port was answered"
pass "curl http:// to the TLS port fails (exit $rc)"
expect_ok "the same over https" "" GET "$BASE/healthz"

section "the API's certificate: names, usage, chain, record"
read -r SERIAL NOT_AFTER NAMES <"$TMP/data/tls/current"
LEAF_FILE="$TMP/data/tls/api-$SERIAL.pem"
[ -f "$LEAF_FILE" ] || fail "no $LEAF_FILE"
expect_eq "api-SERIAL.key is mode 0600" "$(stat -c %a "$TMP/data/tls/api-$SERIAL.key")" 600
expect_eq "api-SERIAL.pem holds leaf, issuing CA and root" \
  "$(split_pem "$LEAF_FILE" "$WORK/file")" 3
expect_eq "the served leaf is api-SERIAL.pem's" \
  "$(der_hex_of "$WORK/served1.pem")" "$(der_hex_of "$WORK/file1.pem")"
expect_eq "the served chain is the file's" \
  "$(der_hex_of "$WORK/served2.pem")$(der_hex_of "$WORK/served3.pem")" \
  "$(der_hex_of "$WORK/file2.pem")$(der_hex_of "$WORK/file3.pem")"
expect_eq "the leaf's serial is the one in current" \
  "$(serial_of "$WORK/served1.pem" | tr 'A-F' 'a-f')" "$SERIAL"
expect_eq "notAfter is the one in current" \
  "$(epoch_of "$(openssl x509 -in "$WORK/served1.pem" -noout -enddate | sed 's/^notAfter=//')")" \
  "$NOT_AFTER"
WANT_SAN="DNS:localhost, IP Address:127.0.0.1"
WANT_NAMES="localhost,127.0.0.1"
WANT_CN="localhost"
case "$HOST" in
  localhost | "" | *[!A-Za-z0-9.-]*) ;;
  *)
    if [ "${#HOST}" -le 63 ]; then
      WANT_SAN="DNS:$HOST, $WANT_SAN"
      WANT_NAMES="$HOST,$WANT_NAMES"
      WANT_CN="$HOST"
    fi ;;
esac
expect_eq "SANs: the host name, localhost, 127.0.0.1" \
  "$(ext_value "$WORK/served1.pem" "X509v3 Subject Alternative Name")" "$WANT_SAN"
expect_eq "current names them" "$NAMES" "$WANT_NAMES"
expect_eq "subject" "$(subject_of "$WORK/served1.pem")" "CN=$WANT_CN,O=pki"
expect_contains "EKU: serverAuth" \
  "$(ext_value "$WORK/served1.pem" "X509v3 Extended Key Usage")" "TLS Web Server Authentication"
expect_eq "issued by pki's RSA issuing CA" "$(issuer_of "$WORK/served1.pem")" \
  "CN=pki RSA Issuing CA,O=pki"
CERTTOOL_OUT="$(certtool --verify --load-ca-certificate "$CA_PEM" --infile "$LEAF_FILE" 2>&1)" ||
  fail "certtool --verify of api-SERIAL.pem against ca.pem failed: $CERTTOOL_OUT"
expect_contains "certtool --verify: the chain file verifies against ca.pem" \
  "$CERTTOOL_OUT" "Chain verification output: Verified."
check "openssl verify -purpose sslserver against ca.pem" \
  openssl verify -CAfile "$CA_PEM" -untrusted "$WORK/file2.pem" -purpose sslserver \
  -verify_hostname localhost "$WORK/file1.pem"
expect_eq "its row: profile tomcat, requester pkid@NODE, good" \
  "$(sql "SELECT profile, requester, (SELECT s.status FROM certificate_status s WHERE s.id = certificates.id), common_name FROM certificates WHERE serial = '$SERIAL'")" \
  "tomcat|pkid@$NODE|good|$WANT_CN"
expect_eq "the row holds the served DER" \
  "$(sql "SELECT encode(der, 'hex') FROM certificates WHERE serial = '$SERIAL'")" \
  "$(der_hex_of "$WORK/served1.pem")"

section "no token: 401 with WWW-Authenticate; public routes answer"
make_csr "$WORK/web.csr" rsa:2048 "/O=Acme/OU=Voice/CN=web.uc.example.com"
refused "GET /v1/ca (protobuf) without a token" 401 UNAUTHENTICATED "" GET "$BASE/v1/ca"
expect_contains "401 names the Bearer scheme" "$(tr -d '\r' <"$WORK/headers")" \
  'WWW-Authenticate: Bearer realm="pki"'
refused "GET /v1/certificates without a token" 401 UNAUTHENTICATED "" GET "$BASE/v1/certificates"
refused "POST /v1/sign (text) without a token" 401 UNAUTHENTICATED "" \
  POST "$BASE/v1/sign?profile=tomcat" --data-binary "@$WORK/web.csr"
expect_contains "401 on a text route names the Bearer scheme" "$(tr -d '\r' <"$WORK/headers")" \
  'WWW-Authenticate: Bearer realm="pki"'
refused "GET /v1/trust without a token" 401 UNAUTHENTICATED "" GET "$BASE/v1/trust"
refused "GET /v1/tokens without a token" 401 UNAUTHENTICATED "" GET "$BASE/v1/tokens"
refused "POST /v1/allowlist without a token" 401 UNAUTHENTICATED "" \
  POST "$BASE/v1/allowlist?network=0.0.0.0/0"
refused "GET /v1/monitor without a token" 401 UNAUTHENTICATED "" GET "$BASE/v1/monitor"
expect_eq "nothing was issued or added without a token" \
  "$(sql "SELECT (SELECT count(*) FROM certificates WHERE requester NOT LIKE 'pkid@%') + (SELECT count(*) FROM admin_allowlist)")" 0
expect_ok "GET /healthz without a token" "" GET "$BASE/healthz"
expect_ok "GET /metrics without a token" "" GET "$BASE/metrics"
expect_ok "GET /v1/ca/rsa-issuing/chain without a token" "" GET "$BASE/v1/ca/rsa-issuing/chain"
expect_ok "GET /v1/crl/rsa-issuing without a token" "" GET "$BASE/v1/crl/rsa-issuing"
GARBAGE="pki_$(printf 'A%.0s' $(seq 43))"
refused "a well-formed but unknown token" 401 UNAUTHENTICATED "$GARBAGE" GET "$BASE/v1/trust"
refused "a token that is not pki's" 401 UNAUTHENTICATED "not-a-token" GET "$BASE/v1/trust"
refused "Basic credentials" 401 UNAUTHENTICATED "" GET "$BASE/v1/trust" -u "admin:$ADMIN"
expect_ok "the admin token: GET /v1/ca" "$ADMIN" GET "$BASE/v1/ca"
expect_ok "the Bearer scheme is case-insensitive" "" GET "$BASE/v1/trust" \
  -H "Authorization: bearer $ADMIN"

# token_id NAME: the ID of the token NAME in pkictl token list.
token_id() {
  "$PKICTL" --server "$BASE" token list | awk -F'\t' -v n="$1" '$2 == n { print $1 }'
}

# new_token NAME ARGS...: pkictl token create --name NAME ARGS (as the
# first admin); prints the token.
new_token() {
  local name="$1" out
  shift
  out="$("$PKICTL" --server "$BASE" token create --name "$name" "$@" 2>&1)" ||
    fail "pkictl token create --name $name $*: $out"
  case "$out" in
    pki_*) printf '%s\n' "$out" ;;
    *) fail "pkictl token create --name $name $*: printed [$out]" ;;
  esac
}

section "an issuer token limited to tomcat"
ISSUER="$(new_token web-issuer --role issuer --profiles tomcat)"
ISSUER_ID="$(token_id web-issuer)"
expect_eq "token list: web-issuer, issuer, tomcat, made by the first admin" \
  "$("$PKICTL" --server "$BASE" token list | awk -F'\t' -v n=web-issuer '$2 == n { print $3 "|" $4 "|" $6 "|" $7 }')" \
  "issuer|tomcat|token:1:initial-admin|-"
call "$ISSUER" POST "$BASE/v1/sign?profile=tomcat" "$WORK/web.pem" --data-binary "@$WORK/web.csr"
expect_eq "its profile (tomcat): POST /v1/sign" "$HTTP_CODE" 200
expect_eq "the answer holds the certificate and its chain" "$(count_pem_certs "$WORK/web.pem")" 3
WEB_SERIAL="$(serial_of "$WORK/web.pem" | tr 'A-F' 'a-f')"
expect_eq "the certificate's requester is the token" \
  "$(sql "SELECT requester FROM certificates WHERE serial = '$WEB_SERIAL'")" \
  "token:$ISSUER_ID:web-issuer"
expect_eq "the issue audit row names the token" \
  "$(sql "SELECT count(*) FROM audit_log WHERE action = 'issue' AND actor = 'token:$ISSUER_ID:web-issuer' AND source = '127.0.0.1'")" 1
refused "another profile (CallManager)" 403 FORBIDDEN "$ISSUER" \
  POST "$BASE/v1/sign?profile=CallManager" --data-binary "@$WORK/web.csr"
refused "another profile (ipsec)" 403 FORBIDDEN "$ISSUER" \
  POST "$BASE/v1/sign?profile=ipsec" --data-binary "@$WORK/web.csr"
refused "revoke (protobuf route)" 403 FORBIDDEN "$ISSUER" \
  POST "$BASE/v1/certificates/$WEB_SERIAL:revoke" -H "Content-Type: application/x-protobuf"
refused "trust upload" 403 FORBIDDEN "$ISSUER" \
  POST "$BASE/v1/trust/tomcat-trust" --data-binary "@$CA_PEM"
refused "token list" 403 FORBIDDEN "$ISSUER" GET "$BASE/v1/tokens"
refused "token create" 403 FORBIDDEN "$ISSUER" POST "$BASE/v1/tokens?role=admin"
expect_ok "a read route (GET /v1/certificates/SERIAL)" "$ISSUER" GET "$BASE/v1/certificates/$WEB_SERIAL"
expect_eq "the refusals issued nothing more and stored nothing" \
  "$(sql "SELECT (SELECT count(*) FROM certificates WHERE requester NOT LIKE 'pkid@%') + (SELECT count(*) FROM trust_entries)")" 1

section "a revoker token"
REVOKER="$(new_token revoker-1 --role revoker)"
REVOKER_ID="$(token_id revoker-1)"
make_csr "$WORK/ops.csr" rsa:2048 "/O=Acme/OU=Voice/CN=ops.uc.example.com"
refused "issue" 403 FORBIDDEN "$REVOKER" \
  POST "$BASE/v1/sign?profile=tomcat" --data-binary "@$WORK/ops.csr"
refused "trust upload" 403 FORBIDDEN "$REVOKER" \
  POST "$BASE/v1/trust/tomcat-trust" --data-binary "@$CA_PEM"
pkictl_run "$BASE" --token "$REVOKER" revoke "$WEB_SERIAL" --reason keyCompromise
expect_eq "pkictl --token REVOKER revoke: exit status ($PKICTL_OUT)" "$PKICTL_RC" 0
expect_eq "the certificate is revoked" \
  "$(sql "SELECT status, revocation_reason FROM certificate_status WHERE serial = '$WEB_SERIAL'")" "revoked|1"
expect_eq "the revoke audit row names the revoker" \
  "$(sql "SELECT actor || '|' || source FROM audit_log WHERE action = 'revoke' AND object = '$WEB_SERIAL'")" \
  "token:$REVOKER_ID:revoker-1|127.0.0.1"
expect_ok "a read route (GET /v1/ca)" "$REVOKER" GET "$BASE/v1/ca"

section "a revoked token is refused at once"
SHORT="$(new_token short-lived --role issuer --profiles all)"
SHORT_ID="$(token_id short-lived)"
expect_ok "before: it issues under CallManager (profiles=all)" "$SHORT" \
  POST "$BASE/v1/sign?profile=CallManager" --data-binary "@$WORK/ops.csr"
pkictl_run "$BASE" token revoke "$SHORT_ID"
expect_eq "pkictl token revoke: exit status" "$PKICTL_RC" 0
expect_eq "pkictl token revoke prints" "$PKICTL_OUT" "revoked"
refused "the next call with it" 401 UNAUTHENTICATED "$SHORT" \
  POST "$BASE/v1/sign?profile=CallManager" --data-binary "@$WORK/ops.csr"
refused "and a read call" 401 UNAUTHENTICATED "$SHORT" GET "$BASE/v1/ca"
REVOKED_COL="$("$PKICTL" --server "$BASE" token list | awk -F'\t' -v n=short-lived '$2 == n { print $7 }')"
case "$REVOKED_COL" in
  20??-??-??T??:??:??Z) pass "token list: short-lived has a revocation time [$REVOKED_COL]" ;;
  *) fail "token list: short-lived REVOKED column is [$REVOKED_COL]" ;;
esac
pkictl_run "$BASE" token revoke "$SHORT_ID"
[ "$PKICTL_RC" != 0 ] || fail "revoking a revoked token again succeeded"
pass "revoking it again fails (exit $PKICTL_RC: $PKICTL_OUT)"

section "the admin allowlist"
expect_eq "empty at first (every address may call the admin routes)" \
  "$("$PKICTL" --server "$BASE" allowlist list)" "NETWORK	ADDED	ADDED_BY"
pkictl_run "$BASE" allowlist add 192.0.2.0/24
[ "$PKICTL_RC" != 0 ] || fail "allowlist add 192.0.2.0/24 (our own address off the list) succeeded"
expect_contains "a foreign network alone: refused CONFLICT" "$PKICTL_OUT" "CONFLICT:"
expect_eq "nothing added" "$(sql "SELECT count(*) FROM admin_allowlist")" 0
pkictl_run "$BASE" allowlist add 192.0.2.0/24 --force
expect_eq "with --force: exit status ($PKICTL_OUT)" "$PKICTL_RC" 0
expect_eq "with --force: added" "$PKICTL_OUT" "added"
expect_eq "the table holds it, added by the admin token" \
  "$(sql "SELECT network || '|' || added_by FROM admin_allowlist")" "192.0.2.0/24|token:1:initial-admin"
refused "admin: GET /v1/tokens" 403 ADDRESS_NOT_ALLOWED "$ADMIN" GET "$BASE/v1/tokens"
refused "admin: GET /v1/allowlist" 403 ADDRESS_NOT_ALLOWED "$ADMIN" GET "$BASE/v1/allowlist"
refused "admin: trust upload" 403 ADDRESS_NOT_ALLOWED "$ADMIN" \
  POST "$BASE/v1/trust/tomcat-trust" --data-binary "@$CA_PEM"
refused "admin: PUT /v1/monitor" 403 ADDRESS_NOT_ALLOWED "$ADMIN" PUT "$BASE/v1/monitor"
refused "revoker: revoke" 403 ADDRESS_NOT_ALLOWED "$REVOKER" \
  POST "$BASE/v1/certificates/$WEB_SERIAL:revoke" -H "Content-Type: application/x-protobuf"
pkictl_run "$BASE" allowlist delete 192.0.2.0/24 --force
[ "$PKICTL_RC" != 0 ] || fail "pkictl allowlist delete worked from outside the allowlist"
expect_contains "pkictl cannot undo it from here" "$PKICTL_OUT" "ADDRESS_NOT_ALLOWED:"
refused "the role is checked before the address (issuer on an admin route)" 403 FORBIDDEN \
  "$ISSUER" GET "$BASE/v1/tokens"
expect_ok "reads still work: GET /v1/ca" "$ADMIN" GET "$BASE/v1/ca"
expect_ok "reads still work: GET /v1/trust" "$REVOKER" GET "$BASE/v1/trust"
expect_ok "issuing still works (not an admin route)" "$ISSUER" \
  POST "$BASE/v1/sign?profile=tomcat" --data-binary "@$WORK/ops.csr"
# Recovery: no admin route is reachable, so the table is emptied with psql.
# pkid caches the list (up to 30 s); the NOTIFY clears every node's cache.
sql "DELETE FROM admin_allowlist" >/dev/null
sql "NOTIFY pki_access, 'allowlist'" >/dev/null
i=0
while :; do
  call "$ADMIN" GET "$BASE/v1/tokens" "$WORK/recover.body"
  [ "$HTTP_CODE" != 200 ] || break
  i=$((i + 1))
  [ "$i" -le 20 ] || fail "admin calls still refused 2 s after DELETE and NOTIFY: HTTP $HTTP_CODE"
  sleep 0.1
done
pass "after psql DELETE and NOTIFY pki_access: admin calls work again"
expect_ok "trust upload works again" "$ADMIN" \
  POST "$BASE/v1/trust/tomcat-trust?format=text" --data-binary "@$WORK/rsa-root.pem"
pkictl_run "$BASE" allowlist add 127.0.0.0/8
expect_eq "add our own network: exit status ($PKICTL_OUT)" "$PKICTL_RC" 0
pkictl_run "$BASE" allowlist add 192.0.2.0/24
expect_eq "then a foreign one needs no --force ($PKICTL_OUT)" "$PKICTL_RC" 0
expect_ok "admin calls work from inside the list" "$ADMIN" GET "$BASE/v1/allowlist"
expect_eq "the list names both" \
  "$(awk -F'\t' 'NR > 1 { print $1 }' "$WORK/ok.body" | sort | paste -sd, -)" "127.0.0.0/8,192.0.2.0/24"
pkictl_run "$BASE" allowlist delete 127.0.0.0/8
[ "$PKICTL_RC" != 0 ] || fail "deleting our own network from a non-empty list succeeded"
expect_contains "deleting our own network while another stays: CONFLICT" "$PKICTL_OUT" "CONFLICT:"
pkictl_run "$BASE" allowlist add 127.0.0.0/8
expect_contains "adding a network twice: CONFLICT" "$PKICTL_OUT" "CONFLICT:"
pkictl_run "$BASE" allowlist delete 192.0.2.0/24
expect_eq "delete the foreign network ($PKICTL_OUT)" "$PKICTL_RC" 0
pkictl_run "$BASE" allowlist delete 127.0.0.0/8
expect_eq "delete the last one: the list is empty again ($PKICTL_OUT)" "$PKICTL_RC" 0
expect_eq "the table is empty" "$(sql "SELECT count(*) FROM admin_allowlist")" 0

section "audit rows of the access calls"
expect_eq "token.create of web-issuer: actor, source, detail" \
  "$(sql "SELECT actor || '|' || source || '|' || outcome || '|' || detail FROM audit_log WHERE action = 'token.create' AND object = 'token:$ISSUER_ID'")" \
  "token:1:initial-admin|127.0.0.1|ok|name=web-issuer role=issuer profiles={tomcat}"
expect_eq "token.create of revoker-1" \
  "$(sql "SELECT actor || '|' || source || '|' || detail FROM audit_log WHERE action = 'token.create' AND object = 'token:$REVOKER_ID'")" \
  "token:1:initial-admin|127.0.0.1|name=revoker-1 role=revoker profiles={}"
expect_eq "token.revoke of short-lived: one row" \
  "$(sql "SELECT actor || '|' || source || '|' || outcome FROM audit_log WHERE action = 'token.revoke' AND object = 'token:$SHORT_ID'")" \
  "token:1:initial-admin|127.0.0.1|ok"
expect_eq "allowlist.add rows: the forced add and the later one (the refused adds wrote none)" \
  "$(sql "SELECT object || '|' || actor || '|' || source FROM audit_log WHERE action = 'allowlist.add' ORDER BY id" | paste -sd, -)" \
  "192.0.2.0/24|token:1:initial-admin|127.0.0.1,127.0.0.0/8|token:1:initial-admin|127.0.0.1,192.0.2.0/24|token:1:initial-admin|127.0.0.1"
expect_eq "allowlist.delete rows (the psql DELETE is not pkid's)" \
  "$(sql "SELECT object || '|' || source FROM audit_log WHERE action = 'allowlist.delete' ORDER BY id" | paste -sd, -)" \
  "192.0.2.0/24|127.0.0.1,127.0.0.0/8|127.0.0.1"
expect_eq "the first admin token's row: made by pkid itself, locally" \
  "$(sql "SELECT actor || '|' || source || '|' || detail FROM audit_log WHERE action = 'token.create' AND object = 'token:1'")" \
  "pkid@$NODE|local|name=initial-admin role=admin profiles={}"

section "the first admin token"
expect_eq "admin.token is mode 0600" "$(stat -c %a "$TMP/data/admin.token")" 600
expect_eq "admin.token holds one line" "$(wc -l <"$TMP/data/admin.token")" 1
case "$ADMIN" in
  pki_???????????????????????????????????????????) pass "the token is pki_ and 43 characters" ;;
  *) fail "admin.token holds [$ADMIN]" ;;
esac
expect_eq "stdout (a file here, not a terminal) names admin.token, once" \
  "$(grep -cxF "pkid: first start: admin token written to $(realpath "$TMP/data/admin.token") (mode 0600)" "$TMP/pkid.log")" 1
expect_eq "the token itself is nowhere in pkid's output" \
  "$(grep -cF "$ADMIN" "$TMP/pkid.log" || true)" 0
expect_eq "the database keeps its hash, not the token" \
  "$(sql "SELECT count(*) FROM api_tokens WHERE token_hash = sha256('$ADMIN'::bytea) AND position('$ADMIN'::bytea IN token_hash) = 0")" 1
expect_eq "no table holds the token itself" \
  "$(sql "SELECT count(*) FROM audit_log WHERE detail LIKE '%$ADMIN%' OR actor LIKE '%$ADMIN%'")" 0

section "pkid token create"
TOKEN_ERR="$WORK/pkid-token.err"
rc=0
CLI_ADMIN="$("$PKID" token create --role admin --name cli-admin --database "$DB_URL" 2>"$TOKEN_ERR")" || rc=$?
expect_eq "--role admin: exit status ($(cat "$TOKEN_ERR"))" "$rc" 0
case "$CLI_ADMIN" in
  pki_???????????????????????????????????????????) pass "it prints a token" ;;
  *) fail "pkid token create printed [$CLI_ADMIN]" ;;
esac
expect_ok "the new admin token works: GET /v1/tokens" "$CLI_ADMIN" GET "$BASE/v1/tokens"
CLI_ID="$(awk -F'\t' '$2 == "cli-admin" { print $1 }' "$WORK/ok.body")"
expect_eq "its audit row: actor pkid-token@HOST, source local" \
  "$(sql "SELECT actor || '|' || source FROM audit_log WHERE action = 'token.create' AND object = 'token:$CLI_ID'")" \
  "pkid-token@$HOST|local"
rc=0
CLI_ISSUER="$("$PKID" token create --role issuer --profiles tomcat-ecdsa,ipsec --database "$DB_URL" 2>"$TOKEN_ERR")" || rc=$?
expect_eq "--role issuer --profiles tomcat-ecdsa,ipsec: exit status" "$rc" 0
expect_eq "profiles stored under their own spelling" \
  "$(sql "SELECT profiles FROM api_tokens WHERE id = (SELECT max(id) FROM api_tokens)")" "{tomcat-ECDSA,ipsec}"
expect_ok "it may issue under ipsec" "$CLI_ISSUER" \
  POST "$BASE/v1/sign?profile=ipsec" --data-binary "@$WORK/ops.csr"
refused "and not under tomcat" 403 FORBIDDEN "$CLI_ISSUER" \
  POST "$BASE/v1/sign?profile=tomcat" --data-binary "@$WORK/ops.csr"
TOKENS_BEFORE="$(sql "SELECT count(*) FROM api_tokens")"
# refuse_cli DESCRIPTION ARGS...: pkid token ARGS must exit 2, print no token.
refuse_cli() {
  local desc="$1" out rc=0
  shift
  out="$(env -u DATABASE_URL "$PKID" token "$@" 2>"$TOKEN_ERR")" || rc=$?
  expect_eq "$desc: exit status ($(head -1 "$TOKEN_ERR"))" "$rc" 2
  expect_eq "$desc: prints no token" "$out" ""
}
refuse_cli "--role issuer without --profiles" create --role issuer --database "$DB_URL"
refuse_cli "--role revoker --profiles all" create --role revoker --profiles all --database "$DB_URL"
refuse_cli "--role admin --profiles tomcat" create --role admin --profiles tomcat --database "$DB_URL"
refuse_cli "an unknown role" create --role root --database "$DB_URL"
refuse_cli "an unknown profile" create --role issuer --profiles no-such --database "$DB_URL"
refuse_cli "no database" create --role admin
refuse_cli "no subcommand" list
expect_eq "the refusals made no token" "$(sql "SELECT count(*) FROM api_tokens")" "$TOKENS_BEFORE"

section "a second node on the same database"
node_start node-b
BASE_B="${NODE_BASE[node-b]}"
[ ! -e "$(node_dir node-b)/data/admin.token" ] ||
  fail "node-b wrote an admin.token although the database has tokens"
pass "node-b made no admin token (the database has some)"
expect_eq "node-b's log prints no token" \
  "$(grep -c 'first start: admin token' "$(node_dir node-b)/pkid.log" || true)" 0
check "node-b's certificate verifies against the first node's ca.pem" \
  curl -q -sS --max-time 30 --cacert "$CA_PEM" -o /dev/null "$BASE_B/healthz"
expect_eq "node-b's certificate is its own, requester pkid@node-b" \
  "$(sql "SELECT count(*) FROM certificates WHERE requester = 'pkid@node-b' AND profile = 'tomcat'")" 1
expect_ok "node-b accepts the first admin token" "$ADMIN" GET "$BASE_B/v1/tokens"
expect_eq "node-b lists the tokens made on node A" \
  "$(awk -F'\t' '$2 == "web-issuer" { print $1 }' "$WORK/ok.body")" "$ISSUER_ID"
refused "node-b refuses the revoked token" 401 UNAUTHENTICATED "$SHORT" GET "$BASE_B/v1/ca"
SHARED="$(new_token shared --role revoker)"
SHARED_ID="$(token_id shared)"
expect_ok "a token made on node A works on node-b (and is cached there)" "$SHARED" GET "$BASE_B/v1/ca"
expect_ok "and again (from node-b's cache)" "$SHARED" GET "$BASE_B/v1/ca"
pkictl_run "$BASE" token revoke "$SHARED_ID"
expect_eq "revoked on node A" "$PKICTL_RC" 0
i=0
while :; do
  call "$SHARED" GET "$BASE_B/v1/ca" "$WORK/shared.body"
  [ "$HTTP_CODE" != 401 ] || break
  i=$((i + 1))
  [ "$i" -le 20 ] || fail "node-b still accepts the token 2 s after its revocation on node A: HTTP $HTTP_CODE"
  sleep 0.1
done
pass "node-b refuses it within 2 s (after $i retries of 0.1 s)"
node_stop node-b

section "--insecure-http"
OLD_SERIAL="$SERIAL"
pkid_restart --insecure-http
BASE="http://$API"
expect_contains "the log warns" "$(cat "$TMP/pkid.log")" \
  "--insecure-http: the API speaks plain HTTP; tokens and keys cross the network in the clear"
expect_contains "the log names http://" "$(cat "$TMP/pkid.log")" "API listening on http://$API,"
expect_ok "plain http: GET /healthz" "" GET "$BASE/healthz"
refused "plain http: still no call without a token" 401 UNAUTHENTICATED "" GET "$BASE/v1/ca"
expect_ok "plain http with the admin token: GET /v1/tokens" "$ADMIN" GET "$BASE/v1/tokens"
check "curl with the .curlrc (admin) over plain http" \
  curl -sS --max-time 30 -o /dev/null --fail "$BASE/v1/trust"
rc=0
curl -q -sS --max-time 20 --cacert "$CA_PEM" -o /dev/null "https://$API/healthz" 2>/dev/null || rc=$?
[ "$rc" != 0 ] || fail "https answered on the --insecure-http port"
pass "https to the plain port fails (exit $rc)"

section "back to TLS: the same certificate is served again"
pkid_restart
expect_eq "the API's certificate is the one in current" \
  "$(cut -d' ' -f1 "$TMP/data/tls/current")" "$OLD_SERIAL"
tls_client again -tls1_3 -CAfile "$CA_PEM" -verify_return_error -verify_hostname localhost -showcerts
expect_eq "s_client verifies it" "$TLS_RC" 0
printf '%s\n' "$TLS_OUT" >"$WORK/again.txt"
split_pem "$WORK/again.txt" "$WORK/again" >/dev/null
expect_eq "served: the same leaf as at first start" \
  "$(der_hex_of "$WORK/again1.pem")" "$(der_hex_of "$WORK/served1.pem")"
expect_eq "no other certificate was issued to pkid@NODE" \
  "$(sql "SELECT count(*) FROM certificates WHERE requester = 'pkid@$NODE'")" 1
expect_eq "no second first-start token was printed" \
  "$(grep -c '^pkid: first start: admin token' "$TMP/pkid.log")" 1

interop_finish
