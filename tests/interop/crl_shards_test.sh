#!/usr/bin/env bash
# Interop: partitioned CRLs (pkid --crl-shards; README, "Partitioned CRLs"),
# checked by independent clients (openssl x509/crl/verify, GnuTLS certtool,
# curl, psql) against a real pkid and PostgreSQL.
#
# pkid spreads each CA's certificates over 4 CRLs. Every certificate's CRL
# distribution point names its shard (the last four octets of its serial
# modulo 4, plus one), as the database records it. After revocations in
# several shards, each shard's CRL verifies, carries a critical Issuing
# Distribution Point naming exactly the URL its certificates name, and
# lists the revoked certificates of its shard and no other; the CA-wide CRL
# lists them all. openssl verify -crl_check accepts a shard's CRL for its
# own certificates (and reports the revoked one), never for another shard's.
set -eu

. "$(dirname "$0")/lib.sh"

SHARDS=4
CRL_BASE="http://crl.example.com/v1/crl"

# The CA-wide CRL takes the shards' revocations at --crl-wide-interval.
WIDE=3
interop_start --crl-shards "$SHARDS" --crl-url "$CRL_BASE/{ca}" \
  --crl-wide-interval "$WIDE"

# --- CAs and certificates ---

# chain_of FAM: the issuing CA and root of FAM (PEM), in $WORK/FAM.chain.pem.
chain_of() {
  http GET "$BASE/v1/ca/$1-issuing/chain" "$WORK/$1.chain.pem"
  expect_eq "GET /v1/ca/$1-issuing/chain" "$HTTP_CODE" 200
}

# issue NAME FAM: a leaf of FAM's issuing CA (POST /v1/sign) in
# $WORK/NAME.pem.
issue() {
  local name="$1" profile keyspec
  case "$2" in
    rsa) profile=tomcat keyspec=rsa:2048 ;;
    ec) profile=tomcat-ECDSA keyspec=ec:P-256 ;;
  esac
  make_csr "$WORK/$name.csr" "$keyspec" "/O=Acme/OU=Voice/CN=$name.example.com"
  http POST "$BASE/v1/sign?profile=$profile" "$WORK/$name.chain.pem" \
    --data-binary "@$WORK/$name.csr"
  [ "$HTTP_CODE" = 200 ] ||
    fail "issue $name: HTTP $HTTP_CODE: $(head -c 300 "$WORK/$name.chain.pem")"
  mkdir -p "$WORK/$name.parts"
  split_pem "$WORK/$name.chain.pem" "$WORK/$name.parts/c" >/dev/null
  cp "$WORK/$name.parts/c1.pem" "$WORK/$name.pem"
}

serial_lc() {
  serial_of "$1" | tr 'A-F' 'a-f' | sed 's/^\(00\)*//'
}

# shard_of CERT: the shard its serial puts it in.
shard_of() {
  local hex
  hex="$(serial_lc "$1")"
  echo $(((0x${hex: -8} % SHARDS) + 1))
}

# cdp_of CERT: the URIs of its CRL distribution points.
cdp_of() {
  ext_value "$1" "X509v3 CRL Distribution Points" |
    tr ';' '\n' | sed -n 's/^ *URI://p'
}

# fetch_crl FAM K NAME: GET /v1/crl/FAM-issuing[/K] (K 0: the CA-wide CRL),
# in DER and PEM, into $WORK/NAME.der and $WORK/NAME.pem; both must be the
# same CRL and verify against the chain.
fetch_crl() {
  local fam="$1" k="$2" name="$3" path out
  path="$BASE/v1/crl/$fam-issuing"
  [ "$k" = 0 ] || path="$path/$k"
  http GET "$path" "$WORK/$name.der"
  expect_eq "$name: GET $path" "$HTTP_CODE" 200
  expect_eq "$name: DER content type" "$HTTP_TYPE" "application/pkix-crl"
  http GET "$path?format=pem" "$WORK/$name.pem"
  expect_eq "$name: GET $path?format=pem" "$HTTP_CODE" 200
  expect_eq "$name: PEM content type" "$HTTP_TYPE" "application/x-pem-file"
  out="$(openssl crl -in "$WORK/$name.der" -inform DER -noout -verify \
    -CAfile "$WORK/$fam.chain.pem" 2>&1)" || fail "$name: openssl crl -verify: $out"
  expect_contains "$name: openssl crl -verify" "$out" "verify OK"
  out="$(certtool --crl-info --inder --infile "$WORK/$name.der" 2>&1)" ||
    fail "$name: certtool --crl-info: $out"
  expect_contains "$name: certtool reads it" "$out" "Version: 2"
}

# crl_serials NAME: the serials $WORK/NAME.der lists, lower case, sorted.
crl_serials() {
  openssl crl -in "$WORK/$1.der" -inform DER -noout -text |
    sed -n 's/^ *Serial Number: *//p' | tr 'A-F' 'a-f' | sed 's/^\(00\)*//' | sort
}

# crl_number NAME: the CRL number of $WORK/NAME.der, in decimal.
crl_number() {
  local hex
  hex="$(openssl crl -in "$WORK/$1.der" -inform DER -noout -crlnumber |
    sed 's/^crlNumber=//; s/^0x//')"
  echo $((16#$hex))
}

# db_revoked FAM K: the revoked serials of shard K (0: every one), sorted.
db_revoked() {
  local where="c.crl_shard = $2"
  [ "$2" = 0 ] && where="true"
  sql "SELECT c.serial FROM revocations c JOIN issuers i ON i.id = c.issuer_id
       WHERE i.name = '$1-issuing' AND $where" |
    sort
}

# wait_listed FAM K NAME SERIAL: polls the CRL of shard K until it lists
# SERIAL (the writer publishes within --crl-interval and its slack; how long
# it took is printed, not asserted).
wait_listed() {
  local start i url="$BASE/v1/crl/$1-issuing/$2"
  # Shard 0 is the CA-wide CRL, at the CA's own URL.
  [ "$2" != 0 ] || url="$BASE/v1/crl/$1-issuing"
  start="$(date +%s)"
  for i in $(seq 1 60); do
    http GET "$url" "$WORK/$3.der"
    if [ "$HTTP_CODE" = 200 ] && crl_serials "$3" | grep -qx "$4"; then
      log "$3 lists $4 after $(($(date +%s) - start)) s"
      return 0
    fi
    sleep 0.5
  done
  fail "$3: shard $2's CRL never listed $4"
}

section "certificates name their shard's CRL"
chain_of ec
chain_of rsa
declare -A FIRST_IN SECOND_IN
for i in $(seq 1 16); do
  issue "ec$i" ec
  k="$(shard_of "$WORK/ec$i.pem")"
  serial="$(serial_lc "$WORK/ec$i.pem")"
  expect_eq "ec$i: one CRL distribution point, its shard's" \
    "$(cdp_of "$WORK/ec$i.pem")" "$CRL_BASE/ec-issuing/$k"
  expect_eq "ec$i: the database records shard $k" \
    "$(sql "SELECT crl_shard FROM certificates WHERE serial = '$serial'")" "$k"
  if [ -z "${FIRST_IN[$k]:-}" ]; then
    FIRST_IN[$k]="ec$i"
  elif [ -z "${SECOND_IN[$k]:-}" ]; then
    SECOND_IN[$k]="ec$i"
  fi
done
[ "${#FIRST_IN[@]}" -ge 2 ] || fail "16 certificates fell in fewer than 2 shards"
pass "16 certificates spread over ${#FIRST_IN[@]} shards"
issue rsa1 rsa
RSA_SHARD="$(shard_of "$WORK/rsa1.pem")"
expect_eq "rsa1: its shard's CRL distribution point" \
  "$(cdp_of "$WORK/rsa1.pem")" "$CRL_BASE/rsa-issuing/$RSA_SHARD"

section "every shard has a CRL before any revocation"
declare -A NUMBER_BEFORE
for k in $(seq 1 "$SHARDS"); do
  fetch_crl ec "$k" "before$k"
  NUMBER_BEFORE[$k]="$(crl_number "before$k")"
  expect_eq "shard $k: an empty CRL" "$(crl_serials "before$k" | wc -l)" 0
done

section "revocations in several shards"
REVOKED_SHARDS=()
for k in "${!FIRST_IN[@]}"; do
  name="${FIRST_IN[$k]}"
  pkictl_run "$BASE" revoke "$(serial_lc "$WORK/$name.pem")" --reason keyCompromise
  [ "$PKICTL_RC" = 0 ] || fail "pkictl revoke $name: $PKICTL_OUT"
  pass "revoked $name (shard $k)"
  REVOKED_SHARDS+=("$k")
  # One shard stays without revocations, to show it keeps its CRL.
  [ "${#REVOKED_SHARDS[@]}" -lt $((${#FIRST_IN[@]} - 1)) ] || break
done
pkictl_run "$BASE" revoke "$(serial_lc "$WORK/rsa1.pem")" --reason superseded
[ "$PKICTL_RC" = 0 ] || fail "pkictl revoke rsa1: $PKICTL_OUT"
for k in "${REVOKED_SHARDS[@]}"; do
  wait_listed ec "$k" "poll$k" "$(serial_lc "$WORK/${FIRST_IN[$k]}.pem")"
done
wait_listed rsa "$RSA_SHARD" "pollrsa" "$(serial_lc "$WORK/rsa1.pem")"
# Each CRL is due on its own clock: a shard's at its thisUpdate +
# --crl-interval, the CA-wide CRL for the shards' revocations at its
# thisUpdate + --crl-wide-interval.
for k in "${REVOKED_SHARDS[@]}"; do
  wait_listed ec 0 "pollwide$k" "$(serial_lc "$WORK/${FIRST_IN[$k]}.pem")"
done

section "each shard's CRL: its IDP, its entries alone"
for k in $(seq 1 "$SHARDS"); do
  fetch_crl ec "$k" "shard$k"
  text="$(openssl crl -in "$WORK/shard$k.der" -inform DER -noout -text)"
  expect_contains "shard $k: a critical Issuing Distribution Point" "$text" \
    "X509v3 Issuing Distribution Point: critical"
  expect_contains "shard $k: its distribution point is the certificates' CDP" \
    "$text" "URI:$CRL_BASE/ec-issuing/$k"
  expect_eq "shard $k: exactly the shard's revoked certificates" \
    "$(crl_serials "shard$k")" "$(db_revoked ec "$k")"
  if printf '%s\n' "${REVOKED_SHARDS[@]}" | grep -qx "$k"; then
    [ "$(crl_number "shard$k")" -gt "${NUMBER_BEFORE[$k]}" ] ||
      fail "shard $k: CRL number $(crl_number "shard$k") after ${NUMBER_BEFORE[$k]}"
    pass "shard $k: a new CRL number ($(crl_number "shard$k"))"
  else
    expect_eq "shard $k: no revocation, the same CRL" \
      "$(crl_number "shard$k")" "${NUMBER_BEFORE[$k]}"
  fi
done
fetch_crl rsa "$RSA_SHARD" "rsashard"
expect_contains "rsa shard: its distribution point" \
  "$(openssl crl -in "$WORK/rsashard.der" -inform DER -noout -text)" \
  "URI:$CRL_BASE/rsa-issuing/$RSA_SHARD"
expect_eq "rsa shard: rsa1 alone" "$(crl_serials rsashard)" \
  "$(serial_lc "$WORK/rsa1.pem")"

section "the CA-wide CRL lists every revocation, without an IDP"
fetch_crl ec 0 cawide
expect_eq "CA-wide CRL: every revoked certificate of the CA" \
  "$(crl_serials cawide)" "$(db_revoked ec 0)"
expect_eq "CA-wide CRL: as many entries as revocations" \
  "$(crl_serials cawide | wc -l)" "${#REVOKED_SHARDS[@]}"
expect_not_contains "CA-wide CRL: no Issuing Distribution Point" \
  "$(openssl crl -in "$WORK/cawide.der" -inform DER -noout -text)" \
  "Issuing Distribution Point"

section "openssl verify -crl_check with a shard's CRL"
for k in "${REVOKED_SHARDS[@]}"; do
  revoked="${FIRST_IN[$k]}"
  out="$(openssl verify -crl_check -CAfile "$WORK/ec.chain.pem" \
    -CRLfile "$WORK/shard$k.pem" "$WORK/$revoked.pem" 2>&1)" && fail "$revoked verified: $out"
  expect_contains "$revoked: revoked by its shard's CRL" "$out" "certificate revoked"
  good="${SECOND_IN[$k]:-}"
  if [ -n "$good" ]; then
    out="$(openssl verify -crl_check -CAfile "$WORK/ec.chain.pem" \
      -CRLfile "$WORK/shard$k.pem" "$WORK/$good.pem" 2>&1)" || fail "$good: $out"
    expect_contains "$good: good by its shard's CRL" "$out" "OK"
  fi
  other=$((k % SHARDS + 1))
  out="$(openssl verify -crl_check -CAfile "$WORK/ec.chain.pem" \
    -CRLfile "$WORK/shard$other.pem" "$WORK/$revoked.pem" 2>&1)" &&
    fail "$revoked verified with shard $other's CRL: $out"
  # OpenSSL compares the CRL's IDP with the certificate's CDP: error 44.
  expect_contains "$revoked: shard $other's CRL does not cover it" "$out" \
    "different CRL scope"
done

section "unknown shards"
for path in ec-issuing/5 ec-issuing/0 ec-issuing/01 ec-issuing/x ec-issuing/1/2; do
  expect_refusal "GET /v1/crl/$path" 404 NOT_FOUND GET "$BASE/v1/crl/$path"
done

interop_finish
