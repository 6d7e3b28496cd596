#!/usr/bin/env bash
# Interop: trust stores and the certificate search, against a real pkid and
# PostgreSQL, with certificates made by independent tools (GnuTLS certtool
# for CAs with chosen validity, openssl for PKCS#7, DER and leaves) and read
# back with openssl. ARCHITECTURE.md, "Trust stores and what lands in them",
# "Wire formats"; invariant 8.
set -eu

. "$(dirname "$0")/lib.sh"

# Lab CAs without OCSP or CRL locations: their revocation status is
# unknown, which the default (Common Criteria) policy refuses; this test is
# about the stores, revcheck_test.sh about that policy.
interop_start --revcheck-policy all=warn-undetermined

# make_ca NAME CN NOT_BEFORE NOT_AFTER [ISSUER_NAME]: a CA certificate
# $WORK/NAME.pem (key NAME.key) valid NOT_BEFORE to NOT_AFTER ("YYYY-MM-DD
# HH:MM:SS UTC"), self-signed or signed by ISSUER_NAME's key.
make_ca() {
  local name="$1" cn="$2" from="$3" to="$4" issuer="${5:-}"
  certtool --generate-privkey --key-type rsa --bits 2048 \
    --outfile "$WORK/$name.key" >/dev/null 2>&1 ||
    fail "certtool: no key for $name"
  cat >"$WORK/$name.tmpl" <<EOT
cn = "$cn"
organization = "Lab"
ca
cert_signing_key
crl_signing_key
activation_date = "$from"
expiration_date = "$to"
EOT
  if [ -z "$issuer" ]; then
    certtool --generate-self-signed --load-privkey "$WORK/$name.key" \
      --template "$WORK/$name.tmpl" --outfile "$WORK/$name.pem" \
      >"$WORK/$name.log" 2>&1 || fail "certtool: $(cat "$WORK/$name.log")"
  else
    certtool --generate-certificate --load-privkey "$WORK/$name.key" \
      --load-ca-privkey "$WORK/$issuer.key" \
      --load-ca-certificate "$WORK/$issuer.pem" \
      --template "$WORK/$name.tmpl" --outfile "$WORK/$name.pem" \
      >"$WORK/$name.log" 2>&1 || fail "certtool: $(cat "$WORK/$name.log")"
  fi
}

fp_of() {
  openssl x509 -in "$1" -noout -fingerprint -sha256 | sed 's/^.*=//' |
    tr -d ':' | tr 'A-F' 'a-f'
}

# upload STORE FILE [QUERY]: POST FILE to the store; the text answer lands in
# $WORK/upload.out.
upload() {
  http POST "$BASE/v1/trust/$1?format=text${3:-}" "$WORK/upload.out" \
    --data-binary "@$2"
}

# outcome_of FINGERPRINT STORE: the outcome column of the last upload.
outcome_of() {
  awk -F'\t' -v fp="$1" -v store="$2" \
    '$3 == fp && $2 == store { print $1 }' "$WORK/upload.out"
}

store_fps() {
  curl -sS "$BASE/v1/trust/$1?format=text" | awk -F'\t' 'NR > 1 { print $2 }' |
    sort | paste -sd, -
}

make_ca root1 "Lab Root One" "2025-01-01 00:00:00 UTC" "2045-01-01 00:00:00 UTC"
make_ca inter1 "Lab Issuing One" "2025-02-01 00:00:00 UTC" "2040-01-01 00:00:00 UTC" root1
make_ca old "Lab Old Root" "2019-01-01 00:00:00 UTC" "2020-01-01 00:00:00 UTC"
# Two CAs with one subject, the second with the later notBefore.
make_ca same_a "Lab Rollover Root" "2024-01-01 00:00:00 UTC" "2044-01-01 00:00:00 UTC"
make_ca same_b "Lab Rollover Root" "2025-06-01 00:00:00 UTC" "2045-06-01 00:00:00 UTC"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/leaf.key" \
  -subj "/CN=leaf.example.com" -days 30 -addext basicConstraints=CA:FALSE \
  -out "$WORK/leaf.pem" 2>/dev/null || fail "openssl: no leaf"
openssl x509 -in "$WORK/inter1.pem" -outform der -out "$WORK/inter1.der"
# A chain file as a server would send it: leaf (issued by the issuing CA),
# issuing CA, root.
openssl req -new -newkey rsa:2048 -nodes -keyout "$WORK/chainleaf.key" \
  -subj "/CN=leaf.example.com" -out "$WORK/chainleaf.csr" 2>/dev/null ||
  fail "openssl: no chain leaf CSR"
openssl x509 -req -in "$WORK/chainleaf.csr" -CA "$WORK/inter1.pem" \
  -CAkey "$WORK/inter1.key" -set_serial 0x77 -days 30 \
  -extfile <(printf 'basicConstraints=CA:FALSE\n') -out "$WORK/chainleaf.pem" \
  2>/dev/null || fail "openssl: no chain leaf"
cat "$WORK/chainleaf.pem" "$WORK/inter1.pem" "$WORK/root1.pem" >"$WORK/chain3.pem"
openssl crl2pkcs7 -nocrl -certfile "$WORK/chain3.pem" -outform DER \
  -out "$WORK/chain3.p7b" || fail "openssl crl2pkcs7"
openssl crl2pkcs7 -nocrl -certfile "$WORK/chain3.pem" -out "$WORK/chain3.p7b.pem" ||
  fail "openssl crl2pkcs7"
ROOT1="$(fp_of "$WORK/root1.pem")"
INTER1="$(fp_of "$WORK/inter1.pem")"
LEAF="$(fp_of "$WORK/chainleaf.pem")"
OLD="$(fp_of "$WORK/old.pem")"
SAME_A="$(fp_of "$WORK/same_a.pem")"
SAME_B="$(fp_of "$WORK/same_b.pem")"

section "uploads: PEM, DER, PKCS#7 DER and PEM"
upload tomcat-trust "$WORK/root1.pem"
expect_eq "PEM CA upload: HTTP status" "$HTTP_CODE" 200
expect_eq "PEM CA upload: added" "$(outcome_of "$ROOT1" tomcat-trust)" added
upload tomcat-trust "$WORK/root1.pem"
expect_eq "the same certificate again: unchanged" "$(outcome_of "$ROOT1" tomcat-trust)" unchanged
expect_eq "one entry for it" \
  "$(sql "SELECT count(*) FROM trust_entries WHERE store = 'tomcat-trust'")" 1
upload tomcat-trust "$WORK/inter1.der"
expect_eq "DER CA upload: added" "$(outcome_of "$INTER1" tomcat-trust)" added
expect_eq "tomcat-trust holds both" "$(store_fps tomcat-trust)" \
  "$(printf '%s\n%s\n' "$ROOT1" "$INTER1" | sort | paste -sd, -)"

upload ipsec-trust "$WORK/chain3.p7b"
expect_eq "PKCS#7 DER chain upload: HTTP status" "$HTTP_CODE" 200
expect_eq "PKCS#7 chain: the root is added" "$(outcome_of "$ROOT1" ipsec-trust)" added
expect_eq "PKCS#7 chain: the issuing CA is added" "$(outcome_of "$INTER1" ipsec-trust)" added
expect_eq "PKCS#7 chain: the leaf is skipped" "$(outcome_of "$LEAF" ipsec-trust)" skipped
expect_eq "ipsec-trust holds the two CAs only" "$(store_fps ipsec-trust)" \
  "$(printf '%s\n%s\n' "$ROOT1" "$INTER1" | sort | paste -sd, -)"
upload TVS-trust "$WORK/chain3.p7b.pem"
expect_eq "PKCS#7 PEM chain upload: HTTP status" "$HTTP_CODE" 200
expect_eq "PKCS#7 PEM: the CAs are stored" "$(store_fps TVS-trust)" \
  "$(printf '%s\n%s\n' "$ROOT1" "$INTER1" | sort | paste -sd, -)"
upload tvs-TRUST "$WORK/chain3.pem"
expect_eq "PEM chain, store name in another case: nothing new" \
  "$(outcome_of "$ROOT1" TVS-trust),$(outcome_of "$LEAF" TVS-trust)" "unchanged,skipped"

section "CAPF-trust uploads land in CallManager-trust too"
upload CAPF-trust "$WORK/root1.pem"
expect_eq "CAPF-trust: added" "$(outcome_of "$ROOT1" CAPF-trust)" added
expect_eq "CallManager-trust: added" "$(outcome_of "$ROOT1" CallManager-trust)" added
expect_eq "CallManager-trust holds it" "$(store_fps CallManager-trust)" "$ROOT1"

section "one certificate per subject: the later notBefore wins"
upload Phone-SAST-trust "$WORK/same_a.pem"
expect_eq "older one first: added" "$(outcome_of "$SAME_A" Phone-SAST-trust)" added
upload Phone-SAST-trust "$WORK/same_b.pem"
expect_eq "newer one of the same subject: replaced" \
  "$(outcome_of "$SAME_B" Phone-SAST-trust)" replaced
expect_eq "the store holds the newer one only" "$(store_fps Phone-SAST-trust)" "$SAME_B"
upload Phone-SAST-trust "$WORK/same_a.pem"
expect_eq "the older one again: kept out" "$(outcome_of "$SAME_A" Phone-SAST-trust)" kept
expect_eq "the store still holds the newer one" "$(store_fps Phone-SAST-trust)" "$SAME_B"

section "refusals"
expect_refusal "an expired CA" 400 CERTIFICATE_EXPIRED POST \
  "$BASE/v1/trust/tomcat-trust" --data-binary "@$WORK/old.pem"
printf 'not a certificate at all\n' >"$WORK/garbage"
expect_refusal "garbage" 400 CERTIFICATE_MALFORMED POST \
  "$BASE/v1/trust/tomcat-trust" --data-binary "@$WORK/garbage"
head -c 300 "$WORK/inter1.der" >"$WORK/truncated.der"
expect_refusal "a truncated DER certificate" 400 CERTIFICATE_MALFORMED POST \
  "$BASE/v1/trust/tomcat-trust" --data-binary "@$WORK/truncated.der"
expect_refusal "a private key" 400 PEM_MALFORMED POST \
  "$BASE/v1/trust/tomcat-trust" --data-binary "@$WORK/root1.key"
sed '2s/^./!/' "$WORK/root1.pem" >"$WORK/broken.pem"
expect_refusal "broken base64" 400 PEM_MALFORMED POST \
  "$BASE/v1/trust/tomcat-trust" --data-binary "@$WORK/broken.pem"
expect_refusal "an unknown store" 404 TRUST_STORE_UNKNOWN POST \
  "$BASE/v1/trust/phone-trust" --data-binary "@$WORK/root1.pem"
expect_refusal "a bad force value" 400 PARAMETER_INVALID POST \
  "$BASE/v1/trust/tomcat-trust?force=maybe" --data-binary "@$WORK/root1.pem"
head -c $((1024 * 1024 + 1)) /dev/zero >"$WORK/big"
expect_refusal "an upload over 1 MiB" 413 BODY_TOO_LARGE POST \
  "$BASE/v1/trust/tomcat-trust" --data-binary "@$WORK/big"
cat "$WORK/old.pem" "$WORK/same_b.pem" >"$WORK/with_expired.pem"
expect_refusal "a bundle with one expired CA is refused whole" 400 \
  CERTIFICATE_EXPIRED POST "$BASE/v1/trust/TVS-trust" \
  --data-binary "@$WORK/with_expired.pem"
expect_eq "nothing of it was stored" \
  "$(sql "SELECT count(*) FROM trust_entries WHERE store = 'TVS-trust' AND common_name = 'Lab Rollover Root'")" 0
expect_eq "refusals stored nothing" \
  "$(sql "SELECT count(*) FROM trust_entries WHERE common_name IN ('leaf.example.com', 'Lab Old Root')")" 0
upload tomcat-trust "$WORK/old.pem" "&force=true"
expect_eq "an expired CA with force=true: added" "$(outcome_of "$OLD" tomcat-trust)" added

section "pkictl trust"
pkictl_run "$BASE" trust add ipsec-trust "$WORK/same_b.pem"
expect_eq "pkictl trust add: exit status" "$PKICTL_RC" 0
expect_contains "pkictl trust add prints the outcome" "$PKICTL_OUT" "added"
pkictl_run "$BASE" trust add ipsec-trust "$WORK/old.pem"
expect_eq "pkictl trust add of an expired CA: exit status 1" "$PKICTL_RC" 1
expect_contains "pkictl trust add of an expired CA: the code" "$PKICTL_OUT" "CERTIFICATE_EXPIRED"
pkictl_run "$BASE" trust list ipsec-trust
expect_eq "pkictl trust list: exit status" "$PKICTL_RC" 0
expect_eq "pkictl trust list: three entries and a header" \
  "$(printf '%s\n' "$PKICTL_OUT" | wc -l | tr -d ' ')" 4
expect_contains "pkictl trust list names the subject" "$PKICTL_OUT" "CN=Lab Issuing One"

section "downloads of trust entries"
http GET "$BASE/v1/trust/tomcat-trust/$INTER1" "$WORK/dl.pem"
expect_eq "GET one entry: PEM by default" "$HTTP_TYPE" "application/x-pem-file"
expect_eq "the PEM is the uploaded certificate" "$(fp_of "$WORK/dl.pem")" "$INTER1"
# Colons between octets and upper case are accepted, as openssl prints them.
COLONS="$(openssl x509 -in "$WORK/inter1.pem" -noout -fingerprint -sha256 | sed 's/^.*=//')"
http GET "$BASE/v1/trust/tomcat-trust/$COLONS?format=der" "$WORK/dl.der"
expect_eq "DER download by the colon form" \
  "$(openssl x509 -inform der -in "$WORK/dl.der" -noout -fingerprint -sha256 | sed 's/^.*=//')" \
  "$COLONS"
http GET "$BASE/v1/trust/tomcat-trust?format=p7b" "$WORK/store.p7b"
expect_eq "the store as PKCS#7: HTTP status" "$HTTP_CODE" 200
expect_eq "the PKCS#7 holds the store's three certificates" \
  "$(openssl pkcs7 -inform der -in "$WORK/store.p7b" -print_certs | count_pem_certs /dev/stdin)" 3
http GET "$BASE/v1/trust/tomcat-trust?format=pem" "$WORK/store.pem"
check "the store as PEM is a CA file openssl verifies a chain with" \
  openssl verify -CAfile "$WORK/store.pem" "$WORK/inter1.pem"
expect_refusal "an unknown fingerprint" 404 NOT_FOUND GET \
  "$BASE/v1/trust/tomcat-trust/$LEAF"
expect_refusal "a malformed fingerprint" 400 PARAMETER_INVALID GET \
  "$BASE/v1/trust/tomcat-trust/abcd"

section "delete"
http DELETE "$BASE/v1/trust/ipsec-trust/$SAME_B" "$WORK/del.out"
expect_eq "DELETE an entry: HTTP status" "$HTTP_CODE" 200
expect_eq "it is gone" "$(store_fps ipsec-trust)" \
  "$(printf '%s\n%s\n' "$ROOT1" "$INTER1" | sort | paste -sd, -)"
expect_refusal "DELETE it again" 404 NOT_FOUND DELETE \
  "$BASE/v1/trust/ipsec-trust/$SAME_B"
make_csr "$WORK/node1.csr" rsa:2048 "/CN=node1.example.com"
http POST "$BASE/v1/sign?profile=tomcat" "$WORK/node1.chain" \
  --data-binary "@$WORK/node1.csr"
expect_eq "an identity certificate is issued" "$HTTP_CODE" 200
split_pem "$WORK/node1.chain" "$WORK/node1.part" >/dev/null
NODE1="$(fp_of "$WORK/node1.part1.pem")"
expect_refusal "DELETE of an identity certificate's fingerprint" 409 \
  IDENTITY_NOT_DELETABLE DELETE "$BASE/v1/trust/tomcat-trust/$NODE1"
pkictl_run "$BASE" trust delete ipsec-trust "$INTER1"
expect_eq "pkictl trust delete: exit status" "$PKICTL_RC" 0
# Changes: tomcat-trust 3, ipsec-trust 3, TVS-trust 2, CAPF-trust and
# CallManager-trust 2, Phone-SAST-trust 2 (added, replaced); repeats none.
expect_eq "audit: one trust-add row per change" \
  "$(sql "SELECT count(*) FROM audit_log WHERE action = 'trust-add'")" 12
expect_eq "audit: two trust-delete rows" \
  "$(sql "SELECT count(*) FROM audit_log WHERE action = 'trust-delete'")" 2

section "find: identities and trust entries, filtered, sorted by expiry"
issue_days() {
  local name="$1" profile="$2" spec="$3" days="$4"
  make_csr "$WORK/$name.csr" "$spec" "/CN=$name.example.com/O=Acme"
  http POST "$BASE/v1/sign?profile=$profile&days=$days" "$WORK/$name.chain" \
    --data-binary "@$WORK/$name.csr"
  expect_eq "$name ($profile, $spec, $days days) issued" "$HTTP_CODE" 200
}
issue_days find-a tomcat rsa:2048 10
issue_days find-b tomcat-ECDSA ec:secp384r1 40
issue_days find-c CallManager rsa:3072 400

# rows QUERY: the data rows of the text listing for QUERY.
rows() {
  curl -sS "$BASE/v1/certificates?format=text&limit=1000$1" |
    awk 'NR > 1 && !/^#/'
}
cns() {
  rows "$1" | awk -F'\t' '{ print $7 }' | paste -sd, -
}
IDENTITIES="$(sql "SELECT count(*) FROM certificates")"
TRUSTS="$(sql "SELECT count(*) FROM trust_entries")"
expect_eq "usage=identity lists every identity certificate" \
  "$(rows "&usage=identity" | wc -l | tr -d ' ')" "$IDENTITIES"
expect_eq "usage=trust lists every trust entry" \
  "$(rows "&usage=trust" | wc -l | tr -d ' ')" "$TRUSTS"
expect_eq "no usage lists both" "$(rows "" | wc -l | tr -d ' ')" \
  "$((IDENTITIES + TRUSTS))"
NOT_AFTERS="$(rows "" | awk -F'\t' '{ print $5 }')"
expect_eq "sorted by expiry, soonest first" "$NOT_AFTERS" \
  "$(printf '%s\n' "$NOT_AFTERS" | sort)"
expect_eq "the expired trust entry comes first" \
  "$(rows "" | head -1 | awk -F'\t' '{ print $1 "," $7 }')" "trust,Lab Old Root"
expect_eq "cn is a case-insensitive substring" "$(cns "&cn=FIND-")" \
  "find-a.example.com,find-b.example.com,find-c.example.com"
expect_eq "expires_before (in 20 days), identities" \
  "$(cns "&usage=identity&expires_before=$(date -u -d '+20 days' +%Y-%m-%d)")" \
  "find-a.example.com"
expect_eq "expires_before 2021-01-01 finds the expired trust entry" \
  "$(cns "&expires_before=2021-01-01")" "Lab Old Root"
expect_eq "expires_after and cn combine" \
  "$(cns "&cn=find&expires_after=$(date -u -d '+30 days' +%Y-%m-%dT%H:%M:%SZ)")" \
  "find-b.example.com,find-c.example.com"
expect_eq "key_type and key_bits" "$(cns "&key_type=ec&key_bits=384")" \
  "find-b.example.com"
expect_eq "key_bits alone" "$(cns "&key_bits=3072")" "find-c.example.com"
expect_eq "profile, in any case" "$(cns "&profile=callmanager")" \
  "find-c.example.com"
expect_eq "store (trust entries only)" \
  "$(rows "&store=CAPF-trust" | awk -F'\t' '{ print $1 "," $3 "," $7 }')" \
  "trust,CAPF-trust,Lab Root One"
FIND_C="$(serial_of "$WORK/find-c.chain" | tr 'A-F' 'a-f')"
pkictl_run "$BASE" revoke "$FIND_C" --reason superseded
expect_eq "find-c revoked" "$PKICTL_RC" 0
expect_eq "status=revoked" "$(cns "&status=revoked")" "find-c.example.com"

# Paging two at a time: every row once, in order.
all="$(rows "" | awk -F'\t' '{ print $1 "," $2 "," $3 }')"
paged="" cursor="" pages=0
while :; do
  page="$(curl -sS "$BASE/v1/certificates?format=text&limit=2${cursor:+&after=$cursor}")"
  paged="$paged$(printf '%s\n' "$page" | awk -F'\t' 'NR > 1 && !/^#/ { print $1 "," $2 "," $3 }')
"
  pages=$((pages + 1))
  cursor="$(printf '%s\n' "$page" | sed -n 's/^# next page: after=//p')"
  [ -n "$cursor" ] && [ "$pages" -lt 100 ] || break
done
expect_eq "paging with limit=2 visits every row once, in order" \
  "$(printf '%s' "$paged" | sed '/^$/d')" "$all"

expect_refusal "usage=bogus" 400 PARAMETER_INVALID GET "$BASE/v1/certificates?usage=bogus&format=text"
expect_refusal "key_type=DSA" 400 PARAMETER_INVALID GET "$BASE/v1/certificates?key_type=DSA&format=text"
expect_refusal "expires_before=tomorrow" 400 PARAMETER_INVALID GET "$BASE/v1/certificates?expires_before=tomorrow&format=text"
expect_refusal "a forged cursor" 400 PARAMETER_INVALID GET "$BASE/v1/certificates?after=12&format=text"
expect_refusal "store=nope" 400 PARAMETER_INVALID GET "$BASE/v1/certificates?store=nope&format=text"

pkictl_run "$BASE" find --cn find --usage identity --key-type RSA
expect_eq "pkictl find: exit status" "$PKICTL_RC" 0
expect_eq "pkictl find prints a header and two rows" \
  "$(printf '%s\n' "$PKICTL_OUT" | wc -l | tr -d ' ')" 3
expect_contains "pkictl find shows find-a" "$PKICTL_OUT" "find-a.example.com"
pkictl_run "$BASE" find --usage trust --limit 2
expect_contains "pkictl find pages: it names the next cursor" "$PKICTL_OUT" "--after"

section "downloads of identity certificates"
FIND_A="$(serial_of "$WORK/find-a.chain" | tr 'A-F' 'a-f')"
http GET "$BASE/v1/certificates/$FIND_A?format=p7b" "$WORK/find-a.p7b"
expect_eq "PKCS#7 DER chain: leaf, issuing CA, root" \
  "$(openssl pkcs7 -inform der -in "$WORK/find-a.p7b" -print_certs | count_pem_certs /dev/stdin)" 3
http GET "$BASE/v1/certificates/$FIND_A?format=p7b-pem" "$WORK/find-a.p7b.pem"
expect_eq "PKCS#7 PEM chain: three certificates" \
  "$(openssl pkcs7 -in "$WORK/find-a.p7b.pem" -print_certs | count_pem_certs /dev/stdin)" 3
http GET "$BASE/v1/certificates/$FIND_A?format=der" "$WORK/find-a.der"
expect_eq "DER: the leaf" \
  "$(openssl x509 -inform der -in "$WORK/find-a.der" -noout -serial | sed 's/^serial=//' | tr 'A-F' 'a-f')" \
  "$FIND_A"
http GET "$BASE/v1/certificates/$FIND_A" "$WORK/find-a.pem"
expect_eq "PEM: one certificate" "$(count_pem_certs "$WORK/find-a.pem")" 1

section "leaf certificates, descriptions, deleting an issuer"
# A peer node's self-signed tomcat certificate, and a third-party HTTPS
# server's certificate issued by a CA the store does not hold.
pkictl_run "$BASE" trust add tomcat-trust "$WORK/leaf.pem" \
  --description "cucm-b tomcat (peer, self-signed)"
expect_eq "pkictl trust add of a leaf alone: exit status" "$PKICTL_RC" 0
expect_contains "the leaf is added" "$PKICTL_OUT" "added"
make_ca web_ca "Web Vendor CA" "2025-01-01 00:00:00 UTC" "2045-01-01 00:00:00 UTC"
openssl req -new -newkey rsa:2048 -nodes -keyout "$WORK/web.key" \
  -subj "/CN=cti.example.com" -out "$WORK/web.csr" 2>/dev/null ||
  fail "openssl: no CSR"
openssl x509 -req -in "$WORK/web.csr" -CA "$WORK/web_ca.pem" \
  -CAkey "$WORK/web_ca.key" -set_serial 0x1234 -days 90 \
  -extfile <(printf 'basicConstraints=CA:FALSE\n') -out "$WORK/web.pem" \
  2>/dev/null || fail "openssl: no server certificate"
WEB="$(fp_of "$WORK/web.pem")"
upload tomcat-trust "$WORK/web.pem" "&description=CTI%20server"
expect_eq "a CA-issued leaf alone is stored, not skipped" \
  "$(outcome_of "$WEB" tomcat-trust)" added
LIST="$(curl -sS "$BASE/v1/trust/tomcat-trust?format=text")"
expect_eq "the text listing ends with KIND and DESCRIPTION" \
  "$(printf '%s\n' "$LIST" | head -1 | awk -F'\t' '{ print $7 "," $8 }')" \
  "KIND,DESCRIPTION"
expect_eq "the leaf is marked leaf, with its description" \
  "$(printf '%s\n' "$LIST" | awk -F'\t' -v fp="$WEB" '$2 == fp { print $7 "," $8 }')" \
  "leaf,CTI server"
expect_eq "a CA is marked ca" \
  "$(printf '%s\n' "$LIST" | awk -F'\t' -v fp="$ROOT1" '$2 == fp { print $7 }')" ca
pkictl_run "$BASE" trust list tomcat-trust
expect_contains "pkictl trust list shows the kind" "$PKICTL_OUT" " leaf "
expect_contains "pkictl trust list shows the description" "$PKICTL_OUT" \
  "[cucm-b tomcat (peer, self-signed)]"
upload tomcat-trust "$WORK/web.pem" "&description=CTI%20server%20(new)"
expect_eq "the same leaf again: unchanged" "$(outcome_of "$WEB" tomcat-trust)" unchanged
expect_eq "its description is the latest one" \
  "$(sql "SELECT description FROM trust_entries WHERE store = 'tomcat-trust' AND common_name = 'cti.example.com'")" \
  "CTI server (new)"
expect_refusal "a description with a control character" 400 PARAMETER_INVALID \
  POST "$BASE/v1/trust/tomcat-trust?description=a%09b" \
  --data-binary "@$WORK/web.pem"
expect_refusal "a description over 256 bytes" 400 PARAMETER_INVALID \
  POST "$BASE/v1/trust/tomcat-trust?description=$(head -c 257 /dev/zero | tr '\0' a)" \
  --data-binary "@$WORK/web.pem"
expect_refusal "a description that is not UTF-8" 400 PARAMETER_INVALID \
  POST "$BASE/v1/trust/tomcat-trust?description=%C3" \
  --data-binary "@$WORK/web.pem"

# tomcat-trust holds Lab Root One and Lab Issuing One, which it issued.
expect_refusal "DELETE of an issuer of other entries" 409 \
  TRUST_ENTRY_HAS_DEPENDENTS DELETE "$BASE/v1/trust/tomcat-trust/$ROOT1"
expect_eq "the refusal lists the entry that chains to it" \
  "$(awk -F'\t' 'NR > 1 { print $1 "," $2 }' "$WORK/refusal.body")" \
  "tomcat-trust,$INTER1"
expect_contains "the refusal names the subject of the dependent" \
  "$(cat "$WORK/refusal.body")" "CN=Lab Issuing One"
expect_eq "nothing was deleted" \
  "$(sql "SELECT count(*) FROM trust_entries WHERE store = 'tomcat-trust' AND common_name = 'Lab Root One'")" 1
pkictl_run "$BASE" trust delete tomcat-trust "$ROOT1"
expect_eq "pkictl trust delete of an issuer: exit status 1" "$PKICTL_RC" 1
expect_contains "pkictl prints the code" "$PKICTL_OUT" TRUST_ENTRY_HAS_DEPENDENTS
expect_contains "pkictl prints the dependent" "$PKICTL_OUT" "$INTER1"
expect_refusal "a bad force value on DELETE" 400 PARAMETER_INVALID DELETE \
  "$BASE/v1/trust/tomcat-trust/$ROOT1?force=yes"
pkictl_run "$BASE" trust delete tomcat-trust "$ROOT1" --force
expect_eq "pkictl trust delete --force: exit status" "$PKICTL_RC" 0
expect_eq "the issuer is gone, its dependent stays" \
  "$(sql "SELECT string_agg(common_name, ',' ORDER BY common_name) FROM trust_entries WHERE store = 'tomcat-trust' AND common_name LIKE 'Lab %One'")" \
  "Lab Issuing One"
expect_eq "the audit row says it was forced" \
  "$(sql "SELECT count(*) FROM audit_log WHERE action = 'trust-delete' AND object = 'trust:tomcat-trust/$ROOT1' AND detail LIKE 'deleted (forced, 1 dependents) %Lab Root One%'")" 1
http DELETE "$BASE/v1/trust/tomcat-trust/$WEB" "$WORK/del.out"
expect_eq "a leaf without dependents is deleted without force" "$HTTP_CODE" 200

interop_finish
