#!/usr/bin/env bash
# Interop: certificates pki issues under every profile, checked by
# independent clients (openssl, GnuTLS certtool, curl) against a real pkid
# and PostgreSQL. README.md, "Profiles", "Wire formats", invariants 3-5.
set -eu

. "$(dirname "$0")/lib.sh"

interop_start

KU_RSA="Digital Signature, Key Encipherment, Data Encipherment, Key Agreement"
KU_EC="Digital Signature, Key Agreement"
KU_CAPF="Digital Signature, Certificate Sign"
EKU_WEB_IPSEC="TLS Web Server Authentication, TLS Web Client Authentication, IPSec End System"
EKU_WEB="TLS Web Server Authentication, TLS Web Client Authentication"
EKU_CAPF="TLS Web Server Authentication"
# pkid's default --ocsp-url: its OCSP listener, with the port it was given.
OCSP_URI="$OCSP_URL/"

RSA_ISSUING="CN=pki RSA Issuing CA,O=pki"
RSA_ROOT="CN=pki RSA Root CA,O=pki"
EC_ISSUING="CN=pki ECDSA Issuing CA,O=pki"
EC_ROOT="CN=pki ECDSA Root CA,O=pki"

# check_issued NAME CSR CHAIN_PEM KU EKU BC ISSUING ROOT EXPECTED_SAN
# checks one issued chain (leaf, issuing CA, root).
check_issued() {
  local name="$1" csr="$2" chain="$3" ku="$4" eku="$5" bc="$6"
  local issuing="$7" root="$8" want_san="$9"
  local dir="$WORK/$name.parts" n out
  mkdir -p "$dir"
  n="$(split_pem "$chain" "$dir/c")"
  expect_eq "$name: body holds exactly 3 PEM blocks" "$n" 3
  expect_eq "$name: all 3 blocks are certificates" "$(count_pem_certs "$chain")" 3
  local leaf="$dir/c1.pem" mid="$dir/c2.pem" top="$dir/c3.pem"
  cp "$mid" "$dir/issuing.pem"
  cp "$top" "$dir/root.pem"

  # Order: leaf, issuing CA, root.
  local want_subject
  want_subject="$(openssl req -in "$csr" -noout -subject -nameopt RFC2253 |
    sed 's/^subject=//' | sed -E 's/(^|,)OU=[^,]*//g; s/^,//')"
  expect_eq "$name: leaf subject = the CSR's without OU" "$(subject_of "$leaf")" "$want_subject"
  expect_not_contains "$name: leaf subject has no OU" "$(subject_of "$leaf")" "OU="
  expect_contains "$name: leaf subject keeps O" "$(subject_of "$leaf")" "O=Acme"
  expect_eq "$name: leaf issued by the issuing CA" "$(issuer_of "$leaf")" "$issuing"
  expect_eq "$name: 2nd certificate is the issuing CA" "$(subject_of "$mid")" "$issuing"
  expect_eq "$name: issuing CA issued by the root" "$(issuer_of "$mid")" "$root"
  expect_eq "$name: 3rd certificate is the root" "$(subject_of "$top")" "$root"
  expect_eq "$name: root is self-issued" "$(issuer_of "$top")" "$root"

  # openssl verify with the root as the only trust anchor.
  if ! out="$(openssl verify -CAfile "$dir/root.pem" -untrusted "$dir/issuing.pem" "$leaf" 2>&1)"; then
    fail "$name: openssl verify: $out"
  fi
  expect_eq "$name: openssl verify -CAfile root -untrusted issuing" "$out" "$leaf: OK"

  # GnuTLS, an independent X.509 implementation.
  if ! out="$(certtool --verify-chain --infile "$chain" 2>&1)"; then
    printf '%s\n' "$out" | sed 's/^/     | /'
    fail "$name: certtool --verify-chain failed"
  fi
  expect_contains "$name: certtool --verify-chain" "$out" "Chain verification output: Verified"
  expect_not_contains "$name: certtool --verify-chain reports no failure" "$out" "Not verified"
  cat "$leaf" "$mid" >"$dir/leaf_and_issuing.pem"
  if ! out="$(certtool --verify --load-ca-certificate "$dir/root.pem" \
      --infile "$dir/leaf_and_issuing.pem" 2>&1)"; then
    printf '%s\n' "$out" | sed 's/^/     | /'
    fail "$name: certtool --verify against the root failed"
  fi
  expect_contains "$name: certtool --verify --load-ca-certificate root" "$out" \
    "Chain verification output: Verified"

  # Extensions: the profile's, whatever the CSR asked for.
  expect_eq "$name: Key Usage" "$(ext_value "$leaf" "X509v3 Key Usage")" "$ku"
  expect_eq "$name: Extended Key Usage" "$(ext_value "$leaf" "X509v3 Extended Key Usage")" "$eku"
  expect_eq "$name: Basic Constraints" "$(ext_value "$leaf" "X509v3 Basic Constraints")" "$bc"
  expect_eq "$name: only Basic Constraints and Key Usage are critical" \
    "$(critical_extensions "$leaf")" "X509v3 Basic Constraints,X509v3 Key Usage"
  expect_eq "$name: Subject Alternative Name" \
    "$(ext_value "$leaf" "X509v3 Subject Alternative Name")" "$want_san"
  expect_eq "$name: AIA OCSP URI" \
    "$(ext_value "$leaf" "Authority Information Access")" "OCSP - URI:$OCSP_URI"
  expect_eq "$name: certificate is X.509 v3" \
    "$(openssl x509 -in "$leaf" -noout -text | sed -n 's/^ *Version: //p')" "3 (0x2)"
}

# sign_and_check NAME PROFILE KEYSPEC SUBJECT SAN KU EKU BC FAMILY [DER]
# makes a CSR with openssl req, POSTs it to /v1/sign and checks the answer.
# SAN: the -addext subjectAltName value, or "" for none. DER: "der" sends
# the CSR in DER. REQ_EXTRA (an array) holds more openssl req arguments.
REQ_EXTRA=()
sign_and_check() {
  local name="$1" profile="$2" spec="$3" subj="$4" san="$5" ku="$6" eku="$7"
  local bc="$8" family="$9" der="${10:-}"
  section "$name: $profile, $spec${der:+, DER body}"
  local csr="$WORK/$name.csr"
  local args=()
  if [ -n "$san" ]; then
    args+=(-addext "subjectAltName=$san")
  fi
  if [ "${#REQ_EXTRA[@]}" -gt 0 ]; then
    args+=("${REQ_EXTRA[@]}")
  fi
  make_csr "$csr" "$spec" "$subj" ${args[@]+"${args[@]}"}
  local want_san
  if [ -n "$san" ]; then
    want_san="$(req_san "$csr")"
    [ -n "$want_san" ] || fail "$name: openssl req made no SAN in the CSR"
  else
    want_san="DNS:$(openssl req -in "$csr" -noout -subject -nameopt RFC2253 |
      sed -n 's/^subject=CN=\([^,]*\).*/\1/p')"
  fi
  local body="$csr" type="application/x-pem-file"
  if [ -n "$der" ]; then
    openssl req -in "$csr" -outform der -out "$csr.der" ||
      fail "$name: openssl req -outform der failed"
    body="$csr.der"
    type="application/pkcs10"
  fi
  local chain="$WORK/$name.chain.pem"
  http POST "$BASE/v1/sign?profile=$profile" "$chain" \
    -H "Content-Type: $type" --data-binary "@$body"
  [ "$HTTP_CODE" = 200 ] ||
    fail "$name: POST /v1/sign?profile=$profile: HTTP $HTTP_CODE: $(head -c 300 "$chain")"
  pass "$name: POST /v1/sign?profile=$profile -> HTTP 200"
  expect_eq "$name: Content-Type" "$HTTP_TYPE" "application/x-pem-file"
  local issuing root
  if [ "$family" = RSA ]; then
    issuing="$RSA_ISSUING"
    root="$RSA_ROOT"
  else
    issuing="$EC_ISSUING"
    root="$EC_ROOT"
  fi
  check_issued "$name" "$csr" "$chain" "$ku" "$eku" "$bc" "$issuing" "$root" "$want_san"
  LAST_LEAF="$WORK/$name.parts/c1.pem"
}

# check_download NAME: GET /v1/certificates/<serial> in every format.
check_download() {
  local name="$1" leaf="$WORK/$1.parts/c1.pem" serial out
  serial="$(serial_of "$leaf")"
  section "$name: GET /v1/certificates/$serial"
  local want_der
  want_der="$(der_hex_of "$leaf")"

  out="$WORK/$name.get.pem"
  http GET "$BASE/v1/certificates/$serial?format=pem" "$out"
  expect_eq "$name: format=pem HTTP status" "$HTTP_CODE" 200
  expect_eq "$name: format=pem Content-Type" "$HTTP_TYPE" "application/x-pem-file"
  expect_eq "$name: format=pem holds one certificate" "$(count_pem_certs "$out")" 1
  expect_eq "$name: format=pem is the issued leaf" "$(der_hex_of "$out")" "$want_der"

  http GET "$BASE/v1/certificates/$serial" "$out.default"
  expect_eq "$name: no format means PEM" "$HTTP_CODE $(der_hex_of "$out.default")" "200 $want_der"

  out="$WORK/$name.get.der"
  http GET "$BASE/v1/certificates/$serial?format=der" "$out"
  expect_eq "$name: format=der HTTP status" "$HTTP_CODE" 200
  expect_eq "$name: format=der Content-Type" "$HTTP_TYPE" "application/pkix-cert"
  local der_hex
  der_hex="$(openssl x509 -inform der -in "$out" -outform der | od -An -v -tx1 | tr -d ' \n')" ||
    fail "$name: openssl x509 -inform der cannot read format=der"
  expect_eq "$name: format=der (openssl x509 -inform der) is the issued leaf" "$der_hex" "$want_der"
  expect_eq "$name: format=der is exactly the DER certificate" \
    "$(od -An -v -tx1 "$out" | tr -d ' \n')" "$want_der"

  local chain_subjects
  chain_subjects="$(for f in "$WORK/$name.parts"/c[123].pem; do subject_of "$f"; done | sort)"

  out="$WORK/$name.get.p7b"
  http GET "$BASE/v1/certificates/$serial?format=p7b" "$out"
  expect_eq "$name: format=p7b HTTP status" "$HTTP_CODE" 200
  expect_eq "$name: format=p7b Content-Type" "$HTTP_TYPE" "application/pkcs7-mime"
  openssl pkcs7 -inform der -in "$out" -print_certs -out "$out.certs.pem" 2>"$out.err" ||
    fail "$name: openssl pkcs7 -inform der cannot read format=p7b: $(cat "$out.err")"
  expect_eq "$name: format=p7b holds leaf, issuing CA and root" "$(count_pem_certs "$out.certs.pem")" 3
  expect_eq "$name: format=p7b subjects = the chain's" \
    "$(split_one_subjects "$out.certs.pem")" "$chain_subjects"
  expect_contains "$name: format=p7b holds the leaf" "$(pem_der_hexes "$out.certs.pem")" "$want_der"

  out="$WORK/$name.get.p7b-pem"
  http GET "$BASE/v1/certificates/$serial?format=p7b-pem" "$out"
  expect_eq "$name: format=p7b-pem HTTP status" "$HTTP_CODE" 200
  expect_contains "$name: format=p7b-pem is a PKCS7 PEM block" "$(head -n 1 "$out")" "-----BEGIN PKCS7-----"
  openssl pkcs7 -in "$out" -print_certs -out "$out.certs.pem" 2>"$out.err" ||
    fail "$name: openssl pkcs7 cannot read format=p7b-pem: $(cat "$out.err")"
  expect_eq "$name: format=p7b-pem holds 3 certificates" "$(count_pem_certs "$out.certs.pem")" 3
  expect_eq "$name: format=p7b-pem subjects = the chain's" \
    "$(split_one_subjects "$out.certs.pem")" "$chain_subjects"
  expect_contains "$name: format=p7b-pem holds the leaf" "$(pem_der_hexes "$out.certs.pem")" "$want_der"
}

# split_one_subjects PEM: the sorted subjects of the certificates in PEM.
split_one_subjects() {
  local dir="$1.split"
  mkdir -p "$dir"
  local n i
  n="$(split_pem "$1" "$dir/s")"
  for i in $(seq 1 "$n"); do
    subject_of "$dir/s$i.pem"
  done | sort
}

# pem_der_hexes PEM: the DER (hex) of each certificate in PEM, one a line.
pem_der_hexes() {
  local dir="$1.hex"
  mkdir -p "$dir"
  local n i
  n="$(split_pem "$1" "$dir/h")"
  for i in $(seq 1 "$n"); do
    der_hex_of "$dir/h$i.pem"
    echo
  done
}

section "CAs of pkid"
http GET "$BASE/v1/ca?format=text" "$WORK/ca.txt"
expect_eq "GET /v1/ca?format=text HTTP status" "$HTTP_CODE" 200
CA_NAMES="$(awk -F '\t' 'NR > 1 && NF >= 5 { print $1 }' "$WORK/ca.txt" | sort | paste -sd' ' -)"
expect_eq "pkid lists its four CAs" "$CA_NAMES" "ec-issuing ec-root rsa-issuing rsa-root"

# --- every profile, through POST /v1/sign ---

# tomcat: a multi-server SAN, and requested extensions the CA must not copy
# (non-critical ones: see the known-bug check at the end of this file).
sign_and_check tomcat-rsa2048 tomcat rsa:2048 \
  "/C=US/ST=California/L=San Jose/O=Acme/OU=Voice/CN=cucm-pub.uc.example.com" \
  "DNS:cucm-pub.uc.example.com,DNS:cucm-sub1.uc.example.com,DNS:cucm-pub,IP:10.1.1.10" \
  "$KU_RSA" "$EKU_WEB_IPSEC" "CA:FALSE" RSA
check_download tomcat-rsa2048

sign_and_check tomcat-ecdsa-p256 tomcat-ECDSA ec:P-256 \
  "/C=US/O=Acme/OU=Voice/CN=uccx1.uc.example.com" "" \
  "$KU_EC" "$EKU_WEB_IPSEC" "CA:FALSE" EC
check_download tomcat-ecdsa-p256

sign_and_check tomcat-ecdsa-p384 tomcat-ECDSA ec:P-384 \
  "/C=US/O=Acme/OU=Voice/OU=Contact Center/CN=finesse1.uc.example.com" \
  "DNS:finesse1.uc.example.com,DNS:finesse2.uc.example.com,DNS:finesse1" \
  "$KU_EC" "$EKU_WEB_IPSEC" "CA:FALSE" EC
# CUCM rule: hash >= key, so a P-384 leaf is signed with SHA-384.
expect_eq "tomcat-ecdsa-p384: P-384 leaf signed with ecdsa-with-SHA384" \
  "$(openssl x509 -in "$LAST_LEAF" -noout -text | sed -n 's/^ *Signature Algorithm: //p' | head -n 1)" \
  "ecdsa-with-SHA384"
check_download tomcat-ecdsa-p384

sign_and_check ipsec-rsa3072 ipsec rsa:3072 \
  "/C=US/O=Acme/OU=Voice/CN=cucm-sub1.uc.example.com" \
  "DNS:cucm-sub1.uc.example.com,DNS:cucm-sub1,IP:10.1.1.11" \
  "$KU_RSA" "$EKU_WEB_IPSEC" "CA:FALSE" RSA
check_download ipsec-rsa3072

sign_and_check callmanager-rsa4096 CallManager rsa:4096 \
  "/C=US/O=Acme/OU=Voice/CN=cucm-sub2.uc.example.com" "" \
  "$KU_RSA" "$EKU_WEB" "CA:FALSE" RSA
check_download callmanager-rsa4096

sign_and_check callmanager-ecdsa-p256 CallManager-ECDSA ec:P-256 \
  "/C=US/O=Acme/OU=Voice/CN=cucm-pub.uc.example.com" \
  "DNS:cucm-pub.uc.example.com,DNS:cucm-sub1.uc.example.com,DNS:cucm-sub2.uc.example.com" \
  "$KU_EC" "$EKU_WEB" "CA:FALSE" EC
check_download callmanager-ecdsa-p256

sign_and_check capf-rsa2048 CAPF rsa:2048 \
  "/C=US/O=Acme/OU=Voice/CN=cucm-pub.uc.example.com" "" \
  "$KU_CAPF" "$EKU_CAPF" "CA:TRUE, pathlen:0" RSA
check_download capf-rsa2048

# What CAPF is for: it issues phone LSCs. An LSC that openssl signs with the
# CAPF certificate's key must verify up to pki's root (the issuing CA allows
# one more CA below it; CAPF's pathlen:0 allows none).
section "capf-rsa2048: a phone LSC issued by the CAPF certificate"
make_csr "$WORK/lsc.csr" rsa:2048 "/O=Acme/OU=Phones/CN=SEP00AABBCCDDEE"
printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n' \
  >"$WORK/lsc.ext"
openssl x509 -req -in "$WORK/lsc.csr" -CA "$WORK/capf-rsa2048.parts/c1.pem" \
  -CAkey "$WORK/capf-rsa2048.csr.key" -set_serial 0x1234 -days 30 -sha256 \
  -extfile "$WORK/lsc.ext" -out "$WORK/lsc.pem" 2>"$WORK/lsc.err" ||
  fail "openssl x509 -req could not sign an LSC with the CAPF key: $(cat "$WORK/lsc.err")"
cat "$WORK/capf-rsa2048.parts/c1.pem" "$WORK/capf-rsa2048.parts/c2.pem" >"$WORK/lsc.untrusted.pem"
if ! out="$(openssl verify -CAfile "$WORK/capf-rsa2048.parts/c3.pem" \
    -untrusted "$WORK/lsc.untrusted.pem" "$WORK/lsc.pem" 2>&1)"; then
  fail "LSC under CAPF: openssl verify: $out"
fi
expect_eq "LSC under CAPF: openssl verify root <- issuing <- CAPF <- LSC" "$out" "$WORK/lsc.pem: OK"
cat "$WORK/lsc.pem" "$WORK/lsc.untrusted.pem" >"$WORK/lsc.chain.pem"
if ! out="$(certtool --verify --load-ca-certificate "$WORK/capf-rsa2048.parts/c3.pem" \
    --infile "$WORK/lsc.chain.pem" 2>&1)"; then
  printf '%s\n' "$out" | sed 's/^/     | /'
  fail "LSC under CAPF: certtool --verify failed"
fi
expect_contains "LSC under CAPF: certtool --verify" "$out" "Chain verification output: Verified"

# The same endpoint with a DER body (openssl req -outform der).
sign_and_check tomcat-der tomcat rsa:2048 \
  "/C=US/O=Acme/OU=Voice/CN=imp1.uc.example.com" "" \
  "$KU_RSA" "$EKU_WEB_IPSEC" "CA:FALSE" RSA der
check_download tomcat-der

# Requested extensions are never copied (invariant 3): a tomcat CSR asking
# for CA:TRUE, keyCertSign and codeSigning (not critical) still gets the
# profile's extensions.
REQ_EXTRA=(-addext "basicConstraints=CA:TRUE" -addext "keyUsage=keyCertSign"
  -addext "extendedKeyUsage=codeSigning")
sign_and_check tomcat-requested-ext tomcat rsa:2048 \
  "/C=US/O=Acme/OU=Voice/CN=cuic1.uc.example.com" "DNS:cuic1.uc.example.com" \
  "$KU_RSA" "$EKU_WEB_IPSEC" "CA:FALSE" RSA
REQ_EXTRA=()

# The same with the requested extensions marked critical (Key Usage critical
# is common: Windows certreq and many CSR tools write it). The CSR must be
# accepted and its extensions still ignored. Regression check: at commit
# 4e13071 pki refused any critical requested extension as CSR_MALFORMED
# "request: bad requested extension" (ca/x509/csr.c, parse_extension_request).
REQ_EXTRA=(-addext "basicConstraints=critical,CA:TRUE"
  -addext "keyUsage=critical,keyCertSign" -addext "extendedKeyUsage=codeSigning")
sign_and_check tomcat-requested-critical-ext tomcat rsa:2048 \
  "/C=US/O=Acme/OU=Voice/CN=cuic2.uc.example.com" "DNS:cuic2.uc.example.com" \
  "$KU_RSA" "$EKU_WEB_IPSEC" "CA:FALSE" RSA
REQ_EXTRA=()

# --- pkictl issue (protobuf API) ---

section "pkictl issue --profile tomcat"
make_csr "$WORK/pkictl.csr" rsa:2048 "/C=US/O=Acme/OU=Voice/CN=cucm-sub3.uc.example.com"
if ! out="$("$PKICTL" --server "$BASE" issue --profile tomcat --csr "$WORK/pkictl.csr" \
    --out "$WORK/pkictl.pem" 2>&1)"; then
  fail "pkictl issue failed: $out"
fi
pass "pkictl issue exits 0"
expect_eq "pkictl issue --out holds leaf, issuing CA and root" "$(count_pem_certs "$WORK/pkictl.pem")" 3
mkdir -p "$WORK/pkictl.parts"
split_pem "$WORK/pkictl.pem" "$WORK/pkictl.parts/c" >/dev/null
if ! vout="$(openssl verify -CAfile "$WORK/pkictl.parts/c3.pem" \
    -untrusted "$WORK/pkictl.parts/c2.pem" "$WORK/pkictl.parts/c1.pem" 2>&1)"; then
  fail "pkictl issue: openssl verify: $vout"
fi
expect_eq "pkictl issue: openssl verify" "$vout" "$WORK/pkictl.parts/c1.pem: OK"
expect_eq "pkictl issue: leaf subject" "$(subject_of "$WORK/pkictl.parts/c1.pem")" \
  "CN=cucm-sub3.uc.example.com,O=Acme,C=US"
serial="$(serial_of "$WORK/pkictl.parts/c1.pem" | tr 'A-F' 'a-f')"
expect_contains "pkictl issue reports the serial openssl reads" "$out" "serial $serial by rsa-issuing"

# --- GET /v1/ca/<name>/chain for every CA ---

for ca in $CA_NAMES; do
  section "GET /v1/ca/$ca/chain"
  ca_subject="$(awk -F '\t' -v n="$ca" '$1 == n { print $5 }' "$WORK/ca.txt")"
  ca_role="$(awk -F '\t' -v n="$ca" '$1 == n { print $2 }' "$WORK/ca.txt")"
  case "$ca_role" in
    root) want_len=1 ;;
    issuing) want_len=2 ;;
    *) fail "$ca: unknown role [$ca_role]" ;;
  esac
  f="$WORK/ca.$ca"

  http GET "$BASE/v1/ca/$ca/chain?format=pem" "$f.pem"
  expect_eq "$ca: format=pem HTTP status" "$HTTP_CODE" 200
  expect_eq "$ca: format=pem Content-Type" "$HTTP_TYPE" "application/x-pem-file"
  expect_eq "$ca: format=pem holds the CA and those above it" "$(count_pem_certs "$f.pem")" "$want_len"
  mkdir -p "$f.parts"
  split_pem "$f.pem" "$f.parts/c" >/dev/null
  expect_eq "$ca: format=pem starts with the CA itself" "$(subject_of "$f.parts/c1.pem")" "$ca_subject"
  if [ "$want_len" = 2 ]; then
    expect_eq "$ca: format=pem then its issuer" "$(subject_of "$f.parts/c2.pem")" \
      "$(issuer_of "$f.parts/c1.pem")"
    if ! vout="$(openssl verify -CAfile "$f.parts/c2.pem" "$f.parts/c1.pem" 2>&1)"; then
      fail "$ca: openssl verify of the CA against its root: $vout"
    fi
    expect_eq "$ca: openssl verify against its root" "$vout" "$f.parts/c1.pem: OK"
    # pathlen 1: a CAPF certificate (CA, pathlen 0) sits below it.
    expect_eq "$ca: Basic Constraints of the issuing CA" \
      "$(ext_value "$f.parts/c1.pem" "X509v3 Basic Constraints")" "CA:TRUE, pathlen:1"
  else
    expect_eq "$ca: root is self-issued" "$(issuer_of "$f.parts/c1.pem")" "$ca_subject"
    expect_eq "$ca: Basic Constraints of the root" \
      "$(ext_value "$f.parts/c1.pem" "X509v3 Basic Constraints")" "CA:TRUE"
  fi
  expect_contains "$ca: Key Usage of a CA holds Certificate Sign" \
    "$(ext_value "$f.parts/c1.pem" "X509v3 Key Usage")" "Certificate Sign"
  want_der="$(der_hex_of "$f.parts/c1.pem")"

  http GET "$BASE/v1/ca/$ca/chain?format=der" "$f.der"
  expect_eq "$ca: format=der HTTP status" "$HTTP_CODE" 200
  expect_eq "$ca: format=der Content-Type" "$HTTP_TYPE" "application/pkix-cert"
  der_subject="$(openssl x509 -inform der -in "$f.der" -noout -subject -nameopt RFC2253 | sed 's/^subject=//')" ||
    fail "$ca: openssl x509 -inform der cannot read format=der"
  expect_eq "$ca: format=der (openssl x509 -inform der) is the CA" "$der_subject" "$ca_subject"
  expect_eq "$ca: format=der = the first PEM certificate" \
    "$(od -An -v -tx1 "$f.der" | tr -d ' \n')" "$want_der"

  http GET "$BASE/v1/ca/$ca/chain?format=p7b" "$f.p7b"
  expect_eq "$ca: format=p7b HTTP status" "$HTTP_CODE" 200
  expect_eq "$ca: format=p7b Content-Type" "$HTTP_TYPE" "application/pkcs7-mime"
  openssl pkcs7 -inform der -in "$f.p7b" -print_certs -out "$f.p7b.pem" 2>"$f.err" ||
    fail "$ca: openssl pkcs7 -inform der cannot read format=p7b: $(cat "$f.err")"
  expect_eq "$ca: format=p7b holds as many certificates as format=pem" \
    "$(count_pem_certs "$f.p7b.pem")" "$want_len"
  expect_eq "$ca: format=p7b subjects = format=pem subjects" \
    "$(split_one_subjects "$f.p7b.pem")" "$(split_one_subjects "$f.pem")"
done

# The issuing CA and root in a /v1/sign answer are the ones pkid publishes.
expect_eq "tomcat chain: issuing CA = GET /v1/ca/rsa-issuing/chain" \
  "$(der_hex_of "$WORK/tomcat-rsa2048.parts/c2.pem")" "$(der_hex_of "$WORK/ca.rsa-issuing.parts/c1.pem")"
expect_eq "tomcat chain: root = GET /v1/ca/rsa-root/chain" \
  "$(der_hex_of "$WORK/tomcat-rsa2048.parts/c3.pem")" "$(der_hex_of "$WORK/ca.rsa-root.parts/c1.pem")"
expect_eq "ECDSA chain: issuing CA = GET /v1/ca/ec-issuing/chain" \
  "$(der_hex_of "$WORK/tomcat-ecdsa-p256.parts/c2.pem")" "$(der_hex_of "$WORK/ca.ec-issuing.parts/c1.pem")"

interop_finish
