#!/usr/bin/env bash
# Interop: `pkictl batch` over a directory of mixed CSRs made by openssl req,
# against a real pkid and PostgreSQL. One bad CSR fails that item only
# (ARCHITECTURE.md, invariant 8); every certificate handed out has its row
# (invariant 1), checked with psql; results verify with openssl.
set -eu

. "$(dirname "$0")/lib.sh"

interop_start

D="$WORK/csrs"
O="$WORK/out"
mkdir -p "$D"

section "a directory of mixed CSRs"
GOOD="node1 node2 node3 node4"
make_csr "$D/node1.csr" rsa:2048 "/C=US/O=Acme/OU=Voice/CN=node1.uc.example.com"
make_csr "$D/node2.csr" rsa:3072 "/C=US/O=Acme/OU=Voice/CN=node2.uc.example.com" \
  -addext "subjectAltName=DNS:node2.uc.example.com,DNS:node2,IP:10.2.0.2"
make_csr "$D/node3.csr" rsa:4096 "/C=US/O=Acme/CN=node3.uc.example.com"
# A DER file: pkictl sends the bytes as they are.
make_csr "$WORK/node4.pem" rsa:2048 "/C=US/O=Acme/OU=Voice/CN=node4.uc.example.com"
openssl req -in "$WORK/node4.pem" -outform der -out "$D/node4.der" ||
  fail "openssl req -outform der failed"
# The make_csr key and log files must not be in the directory.
rm -f "$D"/*.key "$D"/*.log
# Bad ones.
make_csr "$WORK/wrongkey.csr" ec:P-256 "/C=US/O=Acme/OU=Voice/CN=ec.uc.example.com"
cp "$WORK/wrongkey.csr" "$D/wrongkey.csr"
printf 'garbage, not a CSR\n' >"$D/garbage.csr"
make_csr "$WORK/wildcard.csr" rsa:2048 "/C=US/O=Acme/OU=Voice/CN=*.uc.example.com"
cp "$WORK/wildcard.csr" "$D/wildcard.csr"
BAD="wrongkey garbage wildcard"
expect_eq "the directory holds 7 CSR files" "$(find "$D" -type f | wc -l | tr -d ' ')" 7

expect_eq "the certificates table is empty before the batch" \
  "$(sql "SELECT count(*) FROM certificates WHERE requester NOT LIKE 'pkid@%'")" 0

section "pkictl batch --profile tomcat"
set +e
"$PKICTL" --server "$BASE" batch --profile tomcat --csr-dir "$D" --out-dir "$O" \
  >"$WORK/batch.out" 2>"$WORK/batch.err"
rc=$?
set -e
sed 's/^/     stdout| /' "$WORK/batch.out"
sed 's/^/     stderr| /' "$WORK/batch.err"
expect_eq "pkictl batch exits 1 (some CSRs failed)" "$rc" 1
expect_eq "summary line counts issued, failed and files" \
  "$(tail -n 1 "$WORK/batch.out" | sed 's/ ([^)]*);.*//')" "4 issued, 3 failed, 7 files"
err="$(cat "$WORK/batch.err")"
expect_contains "wrongkey.csr reported with KEY_TYPE_MISMATCH" "$err" "$D/wrongkey.csr: KEY_TYPE_MISMATCH"
expect_contains "garbage.csr reported with CSR_MALFORMED" "$err" "$D/garbage.csr: CSR_MALFORMED"
expect_contains "wildcard.csr reported with SAN_WILDCARD" "$err" "$D/wildcard.csr: SAN_WILDCARD"
for n in $GOOD; do
  expect_not_contains "$n reported no error" "$err" "/$n."
done

section "output directory"
expect_eq "one .pem per good CSR, nothing else" \
  "$(cd "$O" && ls -A | sort | paste -sd' ' -)" "node1.pem node2.pem node3.pem node4.pem"
for n in $BAD; do
  if [ -e "$O/$n.pem" ]; then
    fail "$n.pem must not exist: its CSR was refused"
  fi
  pass "no $n.pem"
done

# check_out NAME CN: checks O/NAME.pem and its database row.
check_out() {
  local n="$1" cn="$2" f="$O/$1.pem" dir="$WORK/$1.parts" vout serial row
  section "$n.pem"
  mkdir -p "$dir"
  expect_eq "$n.pem holds leaf, issuing CA and root" "$(split_pem "$f" "$dir/c")" 3
  if ! vout="$(openssl verify -CAfile "$dir/c3.pem" -untrusted "$dir/c2.pem" "$dir/c1.pem" 2>&1)"; then
    fail "$n.pem: openssl verify: $vout"
  fi
  expect_eq "$n.pem: openssl verify -CAfile root -untrusted issuing" "$vout" "$dir/c1.pem: OK"
  expect_eq "$n.pem: issued by the RSA issuing CA" "$(issuer_of "$dir/c1.pem")" "CN=pki RSA Issuing CA,O=pki"
  expect_eq "$n.pem: subject" "$(subject_of "$dir/c1.pem")" "CN=$cn,O=Acme,C=US"
  expect_eq "$n.pem: Extended Key Usage of tomcat" \
    "$(ext_value "$dir/c1.pem" "X509v3 Extended Key Usage")" \
    "TLS Web Server Authentication, TLS Web Client Authentication, IPSec End System"

  serial="$(serial_of "$dir/c1.pem" | tr 'A-F' 'a-f')"
  # The database stores the serial's magnitude without leading zero octets.
  while [ "${serial#00}" != "$serial" ]; do serial="${serial#00}"; done
  SERIALS="$SERIALS $serial"
  row="$(sql "SELECT profile || '|' || common_name || '|' || (SELECT s.status FROM certificate_status s WHERE s.id = certificates.id) FROM certificates WHERE serial = '$serial'")"
  expect_eq "$n: database row (profile|common_name|status)" "$row" "tomcat|$cn|good"
  expect_eq "$n: the row's DER is the certificate pkictl wrote" \
    "$(sql "SELECT encode(der, 'hex') FROM certificates WHERE serial = '$serial'")" \
    "$(der_hex_of "$dir/c1.pem")"

  # pkictl list shows it.
  local line
  line="$(awk -v s="$serial" '$1 == s { print $2, $3, $5 }' "$WORK/list.out")"
  expect_eq "$n: pkictl list shows serial, profile, status, CN" "$line" "tomcat good $cn"

  # pkictl get returns the same certificate.
  "$PKICTL" --server "$BASE" get "$serial" >"$WORK/$n.get.pem" 2>"$WORK/$n.get.err" ||
    fail "$n: pkictl get $serial failed: $(cat "$WORK/$n.get.err")"
  expect_eq "$n: pkictl get returns one certificate" "$(count_pem_certs "$WORK/$n.get.pem")" 1
  expect_eq "$n: pkictl get returns the same PEM as batch wrote" \
    "$(cat "$WORK/$n.get.pem")" "$(cat "$dir/c1.pem")"
  expect_eq "$n: same certificate (DER compared)" \
    "$(der_hex_of "$WORK/$n.get.pem")" "$(der_hex_of "$dir/c1.pem")"
  "$PKICTL" --server "$BASE" get "$serial" --format der --out "$WORK/$n.get.der" 2>"$WORK/$n.get.err" ||
    fail "$n: pkictl get --format der failed: $(cat "$WORK/$n.get.err")"
  expect_eq "$n: pkictl get --format der --out, read by openssl x509 -inform der" \
    "$(openssl x509 -inform der -in "$WORK/$n.get.der" -outform der | od -An -v -tx1 | tr -d ' \n')" \
    "$(der_hex_of "$dir/c1.pem")"
}

section "pkictl list"
"$PKICTL" --server "$BASE" list --cn .uc.example.com >"$WORK/list.out" 2>"$WORK/list.err" ||
  fail "pkictl list failed: $(cat "$WORK/list.err")"
sed 's/^/     | /' "$WORK/list.out"
expect_eq "pkictl list: header and 4 rows" "$(wc -l <"$WORK/list.out" | tr -d ' ')" 5

SERIALS=""
for n in $GOOD; do
  check_out "$n" "$n.uc.example.com"
done

section "database"
# pkid's own API certificate (requester pkid@NODE, issued at its first start)
# is left out of these counts.
expect_eq "exactly one row per good CSR" "$(sql "SELECT count(*) FROM certificates WHERE requester NOT LIKE 'pkid@%'")" 4
expect_eq "one row per common name" \
  "$(sql "SELECT string_agg(common_name, ' ' ORDER BY common_name) FROM certificates WHERE requester NOT LIKE 'pkid@%'")" \
  "node1.uc.example.com node2.uc.example.com node3.uc.example.com node4.uc.example.com"
expect_eq "no row for a refused CSR" \
  "$(sql "SELECT count(*) FROM certificates WHERE common_name LIKE '%*%' OR common_name LIKE 'ec.%'")" 0
expect_eq "every row: profile tomcat, status good" \
  "$(sql "SELECT count(*) FROM certificates WHERE profile = 'tomcat' AND NOT EXISTS (SELECT 1 FROM revocations r WHERE r.certificate_id = certificates.id) AND requester NOT LIKE 'pkid@%'")" 4
expect_eq "node2's SANs recorded as requested" \
  "$(sql "SELECT array_length(sans, 1) FROM certificates WHERE common_name = 'node2.uc.example.com'")" 3
expect_eq "key sizes recorded" \
  "$(sql "SELECT string_agg(key_type || '-' || key_bits, ' ' ORDER BY common_name) FROM certificates WHERE requester NOT LIKE 'pkid@%'")" \
  "RSA-2048 RSA-3072 RSA-4096 RSA-2048"
"$PKICTL" --server "$BASE" list --profile tomcat --status good --cn .uc.example.com >"$WORK/list2.out" 2>"$WORK/list2.err" ||
  fail "pkictl list --profile tomcat --status good failed: $(cat "$WORK/list2.err")"
expect_eq "pkictl list --profile tomcat --status good: 4 rows" \
  "$(tail -n +2 "$WORK/list2.out" | wc -l | tr -d ' ')" 4

interop_finish
