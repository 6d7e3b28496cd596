#!/usr/bin/env bash
# Interop: self-signed identities and node CSRs made by pki, checked by
# independent clients against a real pkid and PostgreSQL: openssl x509,
# verify and req; GnuTLS certtool; a TLS server (openssl s_server) holding an
# identity, reached by curl and gnutls-cli trusting that identity alone;
# downloads with curl; the records with psql.
set -eu

. "$(dirname "$0")/lib.sh"

interop_start

KU_RSA_SS="Digital Signature, Key Encipherment, Data Encipherment, Key Agreement, Certificate Sign"
KU_EC_SS="Digital Signature, Key Agreement, Certificate Sign"

# check_identity NAME PEM KU EKU SIGALG BITS: the certificate is its own
# issuer, with the profile's usages plus keyCertSign and CA:TRUE, and both
# openssl and certtool take it as its own trust anchor.
check_identity() {
  local name="$1" pem="$2" ku="$3" eku="$4" sigalg="$5" bits="$6" text
  text="$(openssl x509 -in "$pem" -noout -text)"
  expect_eq "$name: issuer = subject" "$(issuer_of "$pem")" "$(subject_of "$pem")"
  expect_eq "$name: Basic Constraints" "$(ext_value "$pem" "X509v3 Basic Constraints")" "CA:TRUE, pathlen:0"
  expect_eq "$name: Key Usage" "$(ext_value "$pem" "X509v3 Key Usage")" "$ku"
  expect_eq "$name: Extended Key Usage" "$(ext_value "$pem" "X509v3 Extended Key Usage")" "$eku"
  expect_eq "$name: only KU and BC critical" "$(critical_extensions "$pem")" \
    "X509v3 Basic Constraints,X509v3 Key Usage"
  expect_eq "$name: AKI = SKI" \
    "$(ext_value "$pem" "X509v3 Authority Key Identifier" | sed 's/^keyid://')" \
    "$(ext_value "$pem" "X509v3 Subject Key Identifier")"
  expect_not_contains "$name: no OCSP pointer" "$text" "Authority Information Access"
  expect_not_contains "$name: no CRL pointer" "$text" "CRL Distribution Points"
  expect_contains "$name: signature $sigalg" "$text" "Signature Algorithm: $sigalg"
  expect_contains "$name: $bits-bit key" "$text" "($bits bit)"
  check "$name: openssl verify -x509_strict, itself as CA" \
    openssl verify -x509_strict -purpose sslserver -CAfile "$pem" "$pem"
  check "$name: certtool --verify, itself as CA" \
    certtool --verify --load-ca-certificate "$pem" --infile "$pem"
}

section "pkictl selfsigned: every family, checked by openssl and certtool"
pkictl_run "$BASE" selfsigned --profile tomcat --cn cucm1.example.com --o Lab \
  --ou Voice --san cucm1.example.com --san cucm1 --years 10 \
  --cluster StandAloneCluster --out-dir "$WORK/ids"
expect_eq "selfsigned tomcat exits 0 ($PKICTL_OUT)" "$PKICTL_RC" 0
TOMCAT="$WORK/ids/cucm1.example.com.pem"
TOMCAT_KEY="$WORK/ids/cucm1.example.com.key"
check_identity tomcat "$TOMCAT" "$KU_RSA_SS" \
  "TLS Web Server Authentication, TLS Web Client Authentication, IPSec End System" \
  sha256WithRSAEncryption 2048
expect_eq "tomcat: subject keeps the OU given" "$(subject_of "$TOMCAT")" \
  "CN=cucm1.example.com,OU=Voice,O=Lab"
expect_eq "tomcat: SANs" "$(ext_value "$TOMCAT" "X509v3 Subject Alternative Name")" \
  "DNS:cucm1.example.com, DNS:cucm1"
expect_eq "tomcat: key file mode 0600" "$(stat -c %a "$TOMCAT_KEY")" 600
check "tomcat: key belongs to the certificate" \
  cmp -s <(openssl pkey -in "$TOMCAT_KEY" -pubout) <(openssl x509 -in "$TOMCAT" -pubkey -noout)
nb="$(epoch_of "$(openssl x509 -in "$TOMCAT" -noout -startdate | cut -d= -f2)")"
na="$(epoch_of "$(openssl x509 -in "$TOMCAT" -noout -enddate | cut -d= -f2)")"
expect_eq "tomcat: valid 10 years" "$(( (na - nb) / (365 * 86400) ))" 10

pkictl_run "$BASE" selfsigned --profile tomcat-ECDSA --cn cucm1-ec.example.com \
  --key-type EC-P384 --years 20 --out-dir "$WORK/ids"
expect_eq "selfsigned tomcat-ECDSA P-384 exits 0 ($PKICTL_OUT)" "$PKICTL_RC" 0
check_identity tomcat-ECDSA "$WORK/ids/cucm1-ec.example.com.pem" "$KU_EC_SS" \
  "TLS Web Server Authentication, TLS Web Client Authentication, IPSec End System" \
  ecdsa-with-SHA384 384

pkictl_run "$BASE" selfsigned --profile CallManager --cn cm-lab.example.com \
  --key-type RSA-1024 --out-dir "$WORK/ids"
expect_eq "selfsigned CallManager RSA-1024 exits 0 ($PKICTL_OUT)" "$PKICTL_RC" 0
check_identity CallManager-1024 "$WORK/ids/cm-lab.example.com.pem" "$KU_RSA_SS" \
  "TLS Web Server Authentication, TLS Web Client Authentication" \
  sha256WithRSAEncryption 1024

pkictl_run "$BASE" selfsigned --profile tomcat --cn cucm1.example.com \
  --out-dir "$WORK/ids"
[ "$PKICTL_RC" -ne 0 ] || fail "selfsigned wrote over an existing key file"
pass "selfsigned never writes over an existing key file"

section "A TLS server holding the identity, trusted by it alone"
openssl s_server -accept 0 -cert "$TOMCAT" -key "$TOMCAT_KEY" -www -naccept 2 \
  >"$WORK/s_server.log" 2>&1 &
SERVER_PID=$!
i=0
while ! grep -q '^ACCEPT' "$WORK/s_server.log"; do
  i=$((i + 1))
  [ "$i" -le 100 ] || fail "openssl s_server did not start: $(cat "$WORK/s_server.log")"
  sleep 0.1
done
TLS_PORT="$(sed -n 's/^ACCEPT .*:\([0-9]*\)$/\1/p' "$WORK/s_server.log")"
check "curl trusts the identity as its CA (name checked)" \
  curl -sS --max-time 30 -o /dev/null --cacert "$TOMCAT" \
  --resolve "cucm1.example.com:$TLS_PORT:127.0.0.1" "https://cucm1.example.com:$TLS_PORT/"
check "gnutls-cli trusts the identity as its CA (name checked)" \
  bash -c "echo | gnutls-cli --x509cafile '$TOMCAT' --verify-hostname cucm1.example.com \
    -p '$TLS_PORT' 127.0.0.1"
stop_process "$SERVER_PID"

section "Records, downloads and revocation"
SERIAL="$(serial_of "$TOMCAT" | tr 'A-F' 'a-f')"
expect_eq "row: no issuer, self-signed, key generated, cluster" \
  "$(sql "SELECT issuer_id IS NULL, self_signed, key_generated, cluster,
          (SELECT s.status FROM certificate_status s WHERE s.id = certificates.id)
          FROM certificates WHERE serial = '$SERIAL'")" "t|t|t|StandAloneCluster|good"
expect_eq "audit: one self-signed row" \
  "$(sql "SELECT count(*) FROM audit_log WHERE action = 'self-signed' AND object = '$SERIAL'")" 1
expect_contains "listing shows it" \
  "$("$PKICTL" --server "$BASE" list --cn cucm1.example.com)" "$SERIAL"
http GET "$BASE/v1/certificates/$SERIAL?format=der" "$WORK/get.der"
expect_eq "GET der: 200" "$HTTP_CODE" 200
check "GET der is the certificate" \
  cmp -s "$WORK/get.der" <(openssl x509 -in "$TOMCAT" -outform DER)
http GET "$BASE/v1/certificates/$SERIAL?format=p7b-pem" "$WORK/get.p7b"
expect_eq "GET p7b-pem: 200" "$HTTP_CODE" 200
expect_eq "GET p7b-pem holds the certificate alone" \
  "$(openssl pkcs7 -in "$WORK/get.p7b" -print_certs | grep -c 'BEGIN CERTIFICATE')" 1
http POST "$BASE/v1/certificates/$SERIAL:revoke" "$WORK/revoke.out" \
  -H 'Content-Type: application/x-protobuf' --data-binary @/dev/null
expect_eq ":revoke of a self-signed identity: 409" "$HTTP_CODE" 409
pkictl_run "$BASE" revoke "$SERIAL" --reason keyCompromise
expect_contains "pkictl revoke says why" "$PKICTL_OUT" "CONFLICT: serial $SERIAL is a self-signed identity"
expect_eq "status unchanged" \
  "$(sql "SELECT status FROM certificate_status WHERE serial = '$SERIAL'")" good

section "pkictl regenerate"
pkictl_run "$BASE" regenerate "$SERIAL" --out-dir "$WORK/ids-2"
expect_eq "regenerate exits 0 ($PKICTL_OUT)" "$PKICTL_RC" 0
expect_contains "regenerate names what it replaced" "$PKICTL_OUT" "replaces $SERIAL"
NEW="$WORK/ids-2/cucm1.example.com.pem"
check_identity regenerated "$NEW" "$KU_RSA_SS" \
  "TLS Web Server Authentication, TLS Web Client Authentication, IPSec End System" \
  sha256WithRSAEncryption 2048
expect_eq "same subject" "$(subject_of "$NEW")" "$(subject_of "$TOMCAT")"
expect_eq "same SANs" "$(ext_value "$NEW" "X509v3 Subject Alternative Name")" \
  "$(ext_value "$TOMCAT" "X509v3 Subject Alternative Name")"
if openssl verify -CAfile "$TOMCAT" "$NEW" >/dev/null 2>&1; then
  fail "the old identity vouches for the new one"
fi
pass "a new key: the old identity does not vouch for the new one (re-import it)"
NEW_SERIAL="$(serial_of "$NEW" | tr 'A-F' 'a-f')"
expect_eq "row: replaces the old one, same cluster" \
  "$(sql "SELECT r.serial, n.cluster FROM certificates n JOIN certificates r
          ON r.id = n.replaces_id WHERE n.serial = '$NEW_SERIAL'")" "$SERIAL|StandAloneCluster"
pkictl_run "$BASE" regenerate "$SERIAL" --out-dir "$WORK/ids-3"
expect_contains "regenerating it again names the replacement" "$PKICTL_OUT" \
  "CONFLICT: serial $SERIAL was already replaced by $NEW_SERIAL"

section "pkictl csr: the request a node makes, issued by pki"
pkictl_run "http://127.0.0.1:1" csr --profile tomcat --cn cucm2.example.com \
  --parent-domain --o Lab --key-out "$WORK/cucm2.key" --out "$WORK/cucm2.csr"
expect_eq "csr exits 0 without a server ($PKICTL_OUT)" "$PKICTL_RC" 0
check "openssl req -verify" openssl req -in "$WORK/cucm2.csr" -verify -noout
expect_eq "CSR SANs: FQDN and parent domain" "$(req_san "$WORK/cucm2.csr")" \
  "DNS:cucm2.example.com, DNS:example.com"
REQ_TEXT="$(openssl req -in "$WORK/cucm2.csr" -noout -text)"
expect_contains "CSR requests the tomcat KU" "$REQ_TEXT" \
  "Digital Signature, Key Encipherment, Data Encipherment, Key Agreement"
expect_contains "CSR requests the tomcat EKU" "$REQ_TEXT" \
  "TLS Web Server Authentication, TLS Web Client Authentication, IPSec End System"
expect_not_contains "CSR subject has no OU" "$REQ_TEXT" "OU ="
expect_eq "CSR key file mode 0600" "$(stat -c %a "$WORK/cucm2.key")" 600
http POST "$BASE/v1/sign?profile=tomcat" "$WORK/cucm2.chain" --data-binary @"$WORK/cucm2.csr"
expect_eq "pki signs it: 200" "$HTTP_CODE" 200
expect_eq "the answer holds leaf, issuing CA and root" \
  "$(split_pem "$WORK/cucm2.chain" "$WORK/cucm2.part")" 3
check "the issued chain verifies up to the root" \
  openssl verify -CAfile "$WORK/cucm2.part3.pem" -untrusted "$WORK/cucm2.part2.pem" \
  "$WORK/cucm2.part1.pem"
expect_eq "issued SANs as requested" \
  "$(ext_value "$WORK/cucm2.part1.pem" "X509v3 Subject Alternative Name")" \
  "DNS:cucm2.example.com, DNS:example.com"

interop_finish
