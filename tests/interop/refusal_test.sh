#!/usr/bin/env bash
# Interop: every refusal of POST /v1/sign (and of the router) answers HTTP
# 4xx with a text body starting with the stable error code (ca/error.h), and
# changes nothing in the database (ARCHITECTURE.md, invariant 8). CSRs are made by
# openssl req; requests are sent by curl; the table is read by psql.
set -eu

. "$(dirname "$0")/lib.sh"

interop_start

SIGN="$BASE/v1/sign"
C="$WORK"

# refuse DESCRIPTION CODE PROFILE FILE [QUERY]: POST FILE to /v1/sign and
# expect HTTP 400 CODE.
refuse() {
  expect_refusal "$1" 400 "$2" POST "$SIGN?profile=$3${5:-}" \
    -H "Content-Type: application/x-pem-file" --data-binary "@$4"
}

section "baseline: an RSA-2048 tomcat CSR is accepted"
make_csr "$C/good.csr" rsa:2048 "/C=US/O=Acme/OU=Voice/CN=good.uc.example.com"
http POST "$SIGN?profile=tomcat" "$C/good.pem" --data-binary "@$C/good.csr"
[ "$HTTP_CODE" = 200 ] || fail "baseline RSA-2048 tomcat CSR refused: HTTP $HTTP_CODE $(head -c 300 "$C/good.pem")"
pass "RSA-2048 tomcat CSR -> HTTP 200"
expect_eq "baseline answer holds 3 certificates" "$(count_pem_certs "$C/good.pem")" 3
ROWS_BEFORE="$(sql "SELECT count(*) FROM certificates")"
# Besides pkid's own API certificate (requester pkid@NODE).
expect_eq "the certificates table holds the baseline row" \
  "$(sql "SELECT count(*) FROM certificates WHERE requester NOT LIKE 'pkid@%'")" 1

section "profile and key refusals"
refuse "unknown profile" PROFILE_UNKNOWN no-such-profile "$C/good.csr"
expect_refusal "missing profile" 400 PROFILE_UNKNOWN POST "$SIGN" --data-binary "@$C/good.csr"
refuse "RSA CSR to tomcat-ECDSA" KEY_TYPE_MISMATCH tomcat-ECDSA "$C/good.csr"
make_csr "$C/p256.csr" ec:P-256 "/O=Acme/OU=Voice/CN=ec.uc.example.com"
refuse "EC P-256 CSR to CallManager (RSA)" KEY_TYPE_MISMATCH CallManager "$C/p256.csr"
make_csr "$C/rsa1024.csr" rsa:1024 "/O=Acme/OU=Voice/CN=old-phone.uc.example.com"
refuse "RSA-1024 to tomcat" KEY_TOO_SMALL tomcat "$C/rsa1024.csr"
make_csr "$C/rsa2560.csr" rsa:2560 "/O=Acme/OU=Voice/CN=odd.uc.example.com"
refuse "RSA-2560 to tomcat" KEY_SIZE_UNSUPPORTED tomcat "$C/rsa2560.csr"
make_csr "$C/p521.csr" ec:P-521 "/O=Acme/OU=Voice/CN=p521.uc.example.com"
refuse "EC P-521 to tomcat-ECDSA" CURVE_UNSUPPORTED tomcat-ECDSA "$C/p521.csr"

section "proof of possession and signature algorithm"
openssl req -in "$C/good.csr" -outform der -out "$C/flipped.der" ||
  fail "openssl req -outform der failed"
# Flip one byte of the signature: the last bytes of the DER are the end of
# the signature BIT STRING.
size="$(wc -c <"$C/flipped.der")"
offset=$((size - 5))
byte="$(od -An -tu1 -j "$offset" -N1 "$C/flipped.der" | tr -d ' ')"
printf '%b' "\\0$(printf '%03o' $(((byte ^ 0xff) & 0xff)))" |
  dd of="$C/flipped.der" bs=1 seek="$offset" conv=notrunc status=none
# openssl req -verify exits 0 either way: read what it says.
expect_contains "test setup: openssl req -verify accepts the original CSR" \
  "$(openssl req -in "$C/good.csr" -noout -verify 2>&1)" "verify OK"
expect_contains "test setup: openssl req -verify rejects the flipped one" \
  "$(openssl req -inform der -in "$C/flipped.der" -noout -verify 2>&1)" "verify failure"
expect_refusal "CSR with a flipped signature byte (DER)" 400 CSR_SIGNATURE_INVALID \
  POST "$SIGN?profile=tomcat" -H "Content-Type: application/pkcs10" --data-binary "@$C/flipped.der"
openssl req -new -key "$C/good.csr.key" -sha1 -subj "/O=Acme/OU=Voice/CN=sha1.uc.example.com" \
  -out "$C/sha1.csr" 2>"$C/sha1.err" || fail "openssl req -sha1 failed: $(cat "$C/sha1.err")"
expect_contains "test setup: the CSR is signed with SHA-1" \
  "$(openssl req -in "$C/sha1.csr" -noout -text)" "Signature Algorithm: sha1WithRSAEncryption"
refuse "SHA-1 signed CSR" CSR_SIGNATURE_ALGORITHM_UNSUPPORTED tomcat "$C/sha1.csr"

section "subject and SAN refusals"
make_csr "$C/cn-not-in-san.csr" rsa:2048 "/O=Acme/OU=Voice/CN=cucm1.uc.example.com" \
  -addext "subjectAltName=DNS:cucm2.uc.example.com"
refuse "CN not among the SANs" CN_NOT_IN_SAN tomcat "$C/cn-not-in-san.csr"
make_csr "$C/email.csr" rsa:2048 "/O=Acme/OU=Voice/CN=mail.uc.example.com" \
  -addext "subjectAltName=DNS:mail.uc.example.com,email:admin@example.com"
refuse "email SAN" SAN_TYPE_UNSUPPORTED tomcat "$C/email.csr"
make_csr "$C/uri.csr" rsa:2048 "/O=Acme/OU=Voice/CN=web.uc.example.com" \
  -addext "subjectAltName=DNS:web.uc.example.com,URI:https://web.uc.example.com/"
refuse "URI SAN" SAN_TYPE_UNSUPPORTED tomcat "$C/uri.csr"
make_csr "$C/wild-san.csr" rsa:2048 "/O=Acme/OU=Voice/CN=www.uc.example.com" \
  -addext "subjectAltName=DNS:www.uc.example.com,DNS:*.uc.example.com"
refuse "wildcard SAN" SAN_WILDCARD tomcat "$C/wild-san.csr"
make_csr "$C/wild-cn.csr" rsa:2048 "/O=Acme/OU=Voice/CN=*.uc.example.com"
refuse "wildcard CN (no SAN)" SAN_WILDCARD tomcat "$C/wild-cn.csr"
make_csr "$C/underscore.csr" rsa:2048 "/O=Acme/OU=Voice/CN=cucm_pub.uc.example.com"
refuse "underscore in the host name" SAN_INVALID tomcat "$C/underscore.csr"
make_csr "$C/capf-two-hosts.csr" rsa:2048 "/O=Acme/OU=Voice/CN=cucm-pub.uc.example.com" \
  -addext "subjectAltName=DNS:cucm-pub.uc.example.com,DNS:cucm-sub1.uc.example.com"
refuse "two hosts' names under CAPF" SAN_MULTI_HOST_NOT_ALLOWED CAPF "$C/capf-two-hosts.csr"
refuse "two hosts' names under ipsec" SAN_MULTI_HOST_NOT_ALLOWED ipsec "$C/capf-two-hosts.csr"

section "malformed bodies"
printf 'this is not a certificate request\n' >"$C/garbage.txt"
refuse "garbage body" CSR_MALFORMED tomcat "$C/garbage.txt"
head -c 600 /dev/urandom >"$C/random.bin"
refuse "random bytes" CSR_MALFORMED tomcat "$C/random.bin"
{
  echo "-----BEGIN CERTIFICATE REQUEST-----"
  echo "MIICijCCAXICAQAwRTEL!!!!not*base64@@@@"
  echo "-----END CERTIFICATE REQUEST-----"
} >"$C/broken.pem"
refuse "PEM with a broken base64 body" PEM_MALFORMED tomcat "$C/broken.pem"
sed '$d' "$C/good.csr" >"$C/no-end.pem"
refuse "PEM without its END line" PEM_MALFORMED tomcat "$C/no-end.pem"
expect_refusal "empty body" 400 CSR_MALFORMED POST "$SIGN?profile=tomcat" --data-binary ""

section "limits and parameters"
# The limit of /v1/sign is CA_LIMIT_PEM_BODY_BYTES = 128 KiB (ca/limits.h).
head -c 131073 /dev/zero | tr '\0' 'A' >"$C/big.txt"
expect_refusal "body of 128 KiB + 1 (Content-Length)" 413 BODY_TOO_LARGE \
  POST "$SIGN?profile=tomcat" --data-binary "@$C/big.txt"
expect_refusal "body of 128 KiB + 1 (chunked, no Content-Length)" 413 BODY_TOO_LARGE \
  POST "$SIGN?profile=tomcat" -H "Transfer-Encoding: chunked" --data-binary "@$C/big.txt"
refuse "?days=731 (profile maximum is 730)" VALIDITY_TOO_LONG tomcat "$C/good.csr" "&days=731"
refuse "?days=abc" PARAMETER_INVALID tomcat "$C/good.csr" "&days=abc"

section "routing"
expect_refusal "unknown path" 404 NOT_FOUND GET "$BASE/v1/no-such-thing"
expect_refusal "unknown path (POST)" 404 NOT_FOUND POST "$BASE/v1/signs?profile=tomcat" \
  --data-binary "@$C/good.csr"
expect_refusal "GET /v1/sign (wrong method)" 405 METHOD_NOT_ALLOWED GET "$SIGN?profile=tomcat"
expect_refusal "DELETE /v1/ca (wrong method)" 405 METHOD_NOT_ALLOWED DELETE "$BASE/v1/ca"
expect_refusal "unknown certificate serial" 404 NOT_FOUND GET "$BASE/v1/certificates/0123456789abcdef"
expect_refusal "unknown download format" 400 FORMAT_UNKNOWN GET "$BASE/v1/ca/rsa-root/chain?format=jks"
expect_refusal "unknown CA" 404 NOT_FOUND GET "$BASE/v1/ca/no-such-ca/chain"

section "the refusals wrote nothing"
expect_eq "certificates table: row count unchanged after the refusals" \
  "$(sql "SELECT count(*) FROM certificates")" "$ROWS_BEFORE"
expect_eq "no row names a refused request" \
  "$(sql "SELECT count(*) FROM certificates WHERE common_name <> 'good.uc.example.com' AND requester NOT LIKE 'pkid@%'")" 0

# An Ed25519 CSR is refused for its key type (KEY_UNSUPPORTED), which pki
# checks before the signature algorithm.
section "Ed25519"
make_csr "$C/ed25519.csr" ed25519 "/O=Acme/OU=Voice/CN=ed.uc.example.com"
refuse "Ed25519 CSR" KEY_UNSUPPORTED tomcat "$C/ed25519.csr"
expect_eq "certificates table: row count unchanged after the Ed25519 refusal" \
  "$(sql "SELECT count(*) FROM certificates")" "$ROWS_BEFORE"

interop_finish
