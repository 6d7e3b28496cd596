#!/usr/bin/env bash
# Interop: pki's OCSP responder, revocation and CRLs, checked by independent
# clients (openssl ocsp, GnuTLS ocsptool, curl, openssl crl/verify, psql)
# against a real pkid and PostgreSQL. ARCHITECTURE.md, "OCSP, as Common Criteria
# deployments use it", "Wire formats" and invariant 6.
#
# Both signer modes for both key families: pkid first runs with the RSA CA
# delegating its responses and the EC CA signing its own, then is restarted
# on the same data directory and database with the modes swapped.
set -eu

. "$(dirname "$0")/lib.sh"

VALIDITY_HOURS=12
PHASE1_SIGNER="rsa-issuing=delegated,ec-issuing=ca"
PHASE2_SIGNER="rsa-issuing=ca,ec-issuing=delegated"

interop_start --node node-a --ocsp-validity-hours "$VALIDITY_HOURS" \
  --ocsp-signer "$PHASE1_SIGNER"

# --- the CAs ---

# ski_of CERT: the key identifier of CERT as openssl prints a ResponderID
# byKey (hex, upper case, no colons).
ski_of() {
  openssl x509 -in "$1" -noout -ext subjectKeyIdentifier |
    sed -n '2p' | tr -d ' :' | tr 'a-f' 'A-F'
}

for fam in rsa ec; do
  section "$fam-issuing chain"
  f="$WORK/ca.$fam"
  http GET "$BASE/v1/ca/$fam-issuing/chain" "$f.chain.pem"
  expect_eq "GET /v1/ca/$fam-issuing/chain HTTP status" "$HTTP_CODE" 200
  mkdir -p "$f.parts"
  expect_eq "$fam-issuing chain holds the issuing CA and the root" \
    "$(split_pem "$f.chain.pem" "$f.parts/c")" 2
  cp "$f.parts/c1.pem" "$f.issuing.pem"
  cp "$f.parts/c2.pem" "$f.root.pem"
  ski="$(ski_of "$f.issuing.pem")"
  expect_eq "$fam-issuing has a 160-bit key identifier" "${#ski}" 40
  printf '%s\n' "$ski" >"$f.ski"
  subject_of "$f.issuing.pem" >"$f.name"
done

# family_vars FAM: for the key family FAM (rsa or ec), sets ISSUING, ROOT
# and CHAIN (issuing then root; PEM files), SKI (the issuing CA's key id, as
# ski_of prints it), ISSUING_NAME, PROFILE, KEYSPEC, and UNKNOWN_SERIAL
# (hex: a serial pki never issued under that CA).
family_vars() {
  case "$1" in
    rsa) PROFILE=tomcat KEYSPEC=rsa:2048
         UNKNOWN_SERIAL="5EED0000000000000000000000000A51" ;;
    ec) PROFILE=tomcat-ECDSA KEYSPEC=ec:P-256
        UNKNOWN_SERIAL="5EED00000000000000000000000000EC" ;;
    *) fail "family_vars: unknown family $1" ;;
  esac
  ISSUING="$WORK/ca.$1.issuing.pem"
  ROOT="$WORK/ca.$1.root.pem"
  CHAIN="$WORK/ca.$1.chain.pem"
  SKI="$(cat "$WORK/ca.$1.ski")"
  ISSUING_NAME="$(cat "$WORK/ca.$1.name")"
}

# --- certificates to ask about ---

# issue NAME FAM: a leaf of FAM's issuing CA through POST /v1/sign (curl);
# writes $WORK/NAME.pem (the leaf alone) and prints nothing.
issue() {
  local name="$1"
  family_vars "$2"
  make_csr "$WORK/$name.csr" "$KEYSPEC" "/O=Acme/OU=Voice/CN=$name.uc.example.com"
  http POST "$BASE/v1/sign?profile=$PROFILE" "$WORK/$name.chain.pem" \
    --data-binary "@$WORK/$name.csr"
  [ "$HTTP_CODE" = 200 ] ||
    fail "issue $name: HTTP $HTTP_CODE: $(head -c 300 "$WORK/$name.chain.pem")"
  mkdir -p "$WORK/$name.parts"
  split_pem "$WORK/$name.chain.pem" "$WORK/$name.parts/c" >/dev/null
  cp "$WORK/$name.parts/c1.pem" "$WORK/$name.pem"
}

# issue_pkictl NAME FAM: the same through pkictl issue (protobuf API).
issue_pkictl() {
  local name="$1"
  family_vars "$2"
  make_csr "$WORK/$name.csr" "$KEYSPEC" "/O=Acme/OU=Voice/CN=$name.uc.example.com"
  pkictl_run "$BASE" issue --profile "$PROFILE" --csr "$WORK/$name.csr" \
    --out "$WORK/$name.chain.pem"
  [ "$PKICTL_RC" = 0 ] || fail "pkictl issue $name: exit $PKICTL_RC: $PKICTL_OUT"
  mkdir -p "$WORK/$name.parts"
  split_pem "$WORK/$name.chain.pem" "$WORK/$name.parts/c" >/dev/null
  cp "$WORK/$name.parts/c1.pem" "$WORK/$name.pem"
}

# serial_lc CERT: the serial in lower case, as pkictl and the database
# write it.
serial_lc() {
  serial_of "$1" | tr 'A-F' 'a-f'
}

# Successful revocations and releases, in order, as the audit log must hold
# them: "action|serial|outcome|detail".
AUDIT_WANT=()
LAST_CRL_DUE=0

# wait_due: sleeps until LAST_CRL_DUE, when the CRL carrying the last change
# is promised (README, "Revocation and OCSP": a GET from then on lists it).
wait_due() {
  while [ "$(date +%s)" -lt "$LAST_CRL_DUE" ]; do
    sleep 0.2
  done
}

# due_of DESC: reads "in the CRL by TIME" from PKICTL_OUT into LAST_CRL_DUE;
# the time must lie at most --crl-interval (1 s) and the writer's slack (2 s)
# after now.
due_of() {
  local due
  due="$(printf '%s\n' "$PKICTL_OUT" | sed -n 's/.*, in the CRL by \([^ ]*\)$/\1/p' | head -n 1)"
  [ -n "$due" ] || fail "$1: no due time of the CRL in [$PKICTL_OUT]"
  LAST_CRL_DUE="$(epoch_of "$due")"
  [ "$LAST_CRL_DUE" -le $(($(date +%s) + 3)) ] ||
    fail "$1: the CRL is due at $due, later than 3 s from now"
  pass "$1: the CRL carrying it is due at $due"
}
LAST_REVOKED_AT=""

# revoke_ok DESCRIPTION CERT REASON [pkictl ARGS...]: pkictl revoke must
# succeed and report the revocation. Sets LAST_CRL_DUE and
# LAST_REVOKED_AT (Unix seconds).
revoke_ok() {
  local desc="$1" cert="$2" reason="$3" serial before after
  shift 3
  serial="$(serial_lc "$cert")"
  before="$(date +%s)"
  pkictl_run "$BASE" revoke "$serial" --reason "$reason" "$@"
  after="$(date +%s)"
  [ "$PKICTL_RC" = 0 ] || fail "$desc: pkictl revoke $serial --reason $reason $*: exit $PKICTL_RC: $PKICTL_OUT"
  pass "$desc: pkictl revoke --reason $reason exits 0"
  expect_contains "$desc: pkictl reports the revocation" "$PKICTL_OUT" "$serial ("
  expect_contains "$desc: pkictl reports the status" "$PKICTL_OUT" "): revoked, in the CRL by "
  expect_contains "$desc: pkictl reports the reason" "$PKICTL_OUT" ", reason $reason"
  due_of "$desc"
  local at
  at="$(printf '%s\n' "$PKICTL_OUT" | sed -n 's/^revoked at \([^,]*\), reason .*/\1/p')"
  [ -n "$at" ] || fail "$desc: no revocation time in [$PKICTL_OUT]"
  LAST_REVOKED_AT="$(epoch_of "$at")"
  if [ "$#" = 0 ]; then
    # No --time: the revocation is dated when it was made.
    if [ "$LAST_REVOKED_AT" -lt "$before" ] || [ "$LAST_REVOKED_AT" -gt "$after" ]; then
      fail "$desc: revocation time $at is not between the command's start and end"
    fi
    pass "$desc: revoked at $at (now)"
  fi
  AUDIT_WANT+=("revoke|$serial|ok|reason=$reason")
}

# unhold_ok DESCRIPTION CERT: pkictl unhold must succeed.
unhold_ok() {
  local desc="$1" serial
  serial="$(serial_lc "$2")"
  pkictl_run "$BASE" unhold "$serial"
  [ "$PKICTL_RC" = 0 ] || fail "$desc: pkictl unhold $serial: exit $PKICTL_RC: $PKICTL_OUT"
  pass "$desc: pkictl unhold exits 0"
  expect_contains "$desc: pkictl reports the certificate good again" "$PKICTL_OUT" "$serial ("
  expect_contains "$desc: pkictl reports the status" "$PKICTL_OUT" "): good, in the CRL by "
  due_of "$desc"
  AUDIT_WANT+=("unhold|$serial|ok|released from hold")
}

# pkictl_refused DESCRIPTION CODE ARGS...: pkictl must exit non-zero with
# an error naming CODE.
pkictl_refused() {
  local desc="$1" code="$2"
  shift 2
  pkictl_run "$BASE" "$@"
  [ "$PKICTL_RC" != 0 ] || fail "$desc: pkictl $* exited 0: $PKICTL_OUT"
  expect_contains "$desc: pkictl $1 exits $PKICTL_RC with $code" "$PKICTL_OUT" "$code:"
}

# A certificate with the issuing CA's exact name and signature but a serial
# pki never issued (a certificate made outside pki with the CA's key, as
# after a key compromise): the case where OCSP must say "unknown", never
# "good". GnuTLS ocsptool takes the CertID's serial from a certificate, its
# issuer name hash from that certificate's issuer field and its key hash
# from --load-issuer: this certificate gives exactly the CertID of a serial
# pki never issued. The key is the test's own pkid's, in its data directory.
make_unknown() {
  local fam="$1" name="unknown-$1"
  family_vars "$fam"
  make_csr "$WORK/$name.csr" "$KEYSPEC" "/O=Acme/CN=never-issued.uc.example.com"
  openssl x509 -req -in "$WORK/$name.csr" -CA "$ISSUING" \
    -CAkey "$TMP/data/keys/$fam-issuing.key" -set_serial "0x$UNKNOWN_SERIAL" -days 30 \
    -out "$WORK/$name.pem" 2>"$WORK/$name.err" ||
    fail "openssl x509 -req could not make $name: $(cat "$WORK/$name.err")"
  local out
  out="$(openssl verify -CAfile "$ROOT" -untrusted "$ISSUING" "$WORK/$name.pem" 2>&1)" ||
    fail "test setup: $name does not verify: $out"
  pass "test setup: $name (serial $UNKNOWN_SERIAL, never issued by pki) verifies up to the root"
  expect_eq "test setup: no certificate of that serial in the database" \
    "$(sql "SELECT count(*) FROM certificates WHERE serial = lower('$UNKNOWN_SERIAL')")" 0
}

section "certificates to ask about"
for fam in rsa ec; do
  issue "good-$fam" "$fam"
  issue_pkictl "revoked-$fam" "$fam"
  make_unknown "$fam"
  pass "issued good-$fam ($(serial_of "$WORK/good-$fam.pem")) and revoked-$fam ($(serial_of "$WORK/revoked-$fam.pem"))"
done

# revoked-<fam>: keyCompromise, dated in the past (pkictl revoke --time):
# 90 s ago, or the later notBefore if that is later (pkid refuses a time
# before the certificate's start). The time must come back as given from
# every client.
REVOKED_AT=$(($(date +%s) - 90))
for fam in rsa ec; do
  nb="$(epoch_of "$(openssl x509 -in "$WORK/revoked-$fam.pem" -noout -startdate | sed 's/^notBefore=//')")"
  [ "$nb" -le "$REVOKED_AT" ] || REVOKED_AT="$nb"
done
for fam in rsa ec; do
  revoke_ok "revoked-$fam" "$WORK/revoked-$fam.pem" keyCompromise --time "$REVOKED_AT"
  expect_eq "revoked-$fam: pkictl reports the time given" "$LAST_REVOKED_AT" "$REVOKED_AT"
  expect_eq "revoked-$fam: the database holds the revocation" \
    "$(sql "SELECT status, extract(epoch FROM revoked_at)::bigint, revocation_reason FROM certificate_status WHERE serial = '$(serial_lc "$WORK/revoked-$fam.pem")'")" \
    "revoked|$REVOKED_AT|1"
done

# --- checks of one answer ---

# check_signer NAME FAM MODE: the response $WORK/NAME.resp.der is signed as
# MODE (ca or delegated) says, its ResponderID is byKey, and it verifies up
# to the root alone.
check_signer() {
  local name="$1" fam="$2" mode="$3" resp="$WORK/$1.resp.der" text rid
  family_vars "$fam"
  text="$(ocsp_resp_text "$resp")"
  rid="$(printf '%s\n' "$text" | sed -n 's/^ *Responder Id: //p')"
  # openssl prints a ResponderID byName as a distinguished name, byKey as
  # the 40 hex digits of the SHA-1 key hash.
  case "$rid" in
    *[!0-9A-F]* | "") fail "$name: ResponderID is not byKey: [$rid]" ;;
  esac
  expect_eq "$name: ResponderID byKey is a SHA-1 key hash" "${#rid}" 40
  if [ "$mode" = ca ]; then
    expect_eq "$name: ResponderID = the key id of $fam-issuing (the CA signs)" "$rid" "$SKI"
  else
    [ "$rid" != "$SKI" ] || fail "$name: signed by $fam-issuing itself, expected its delegated responder"
    printf '%s\n' "$text" |
      awk '/-----BEGIN CERTIFICATE-----/ { n++ } n == 1 { print } /-----END CERTIFICATE-----/ && n == 1 { exit }' \
        >"$WORK/$name.signer.pem"
    [ -s "$WORK/$name.signer.pem" ] || fail "$name: a delegated response carries no responder certificate"
    local signer="$WORK/$name.signer.pem" out
    expect_eq "$name: ResponderID = the key id of the responder certificate" "$(ski_of "$signer")" "$rid"
    expect_eq "$name: responder certificate issued by $fam-issuing" "$(issuer_of "$signer")" "$ISSUING_NAME"
    expect_contains "$name: responder certificate of this node" "$(subject_of "$signer")" "node-a"
    expect_eq "$name: responder EKU is OCSPSigning" \
      "$(ext_value "$signer" "X509v3 Extended Key Usage")" "OCSP Signing"
    expect_contains "$name: responder carries id-pkix-ocsp-nocheck" \
      "$(ext_header "$signer" "OCSP No Check")" "OCSP No Check"
    out="$(openssl verify -CAfile "$ROOT" -untrusted "$ISSUING" "$signer" 2>&1)" ||
      fail "$name: responder certificate does not verify: $out"
    pass "$name: responder certificate verifies up to the root"
  fi
  ocsp_verify_chain "$name: response verifies with the root as the only trust anchor" \
    "$resp" "$ISSUING" "$ROOT"
}

# check_nonce NAME WANT: WANT yes: the request carried a nonce and the
# response echoes it; no: neither has one.
check_nonce() {
  local name="$1" want="$2" req_nonce resp_nonce
  req_nonce="$(openssl ocsp -reqin "$WORK/$name.req.der" -req_text 2>&1 |
    awk '/OCSP Nonce:/ { getline; gsub(/ /, ""); print; exit }')"
  resp_nonce="$(ocsp_resp_text "$WORK/$name.resp.der" |
    awk '/OCSP Nonce:/ { getline; gsub(/ /, ""); print; exit }')"
  if [ "$want" = yes ]; then
    [ -n "$req_nonce" ] || fail "$name: test setup: openssl sent no nonce"
    expect_eq "$name: the response echoes the request's nonce" "$resp_nonce" "$req_nonce"
  else
    expect_eq "$name: -no_nonce request carries no nonce" "$req_nonce" ""
    expect_eq "$name: the response to it carries no nonce" "$resp_nonce" ""
  fi
}

# check_validity NAME LABEL: nextUpdate - thisUpdate = --ocsp-validity-hours.
check_validity() {
  local this next
  this="$(ocsp_field "$2" "This Update")"
  next="$(ocsp_field "$2" "Next Update")"
  if [ -z "$this" ] || [ -z "$next" ]; then
    fail "$1: no thisUpdate/nextUpdate for $2 in [$OCSP_OUT]"
  fi
  expect_eq "$1: nextUpdate - thisUpdate = $VALIDITY_HOURS h" \
    "$(($(epoch_of "$next") - $(epoch_of "$this")))" "$((VALIDITY_HOURS * 3600))"
}

# check_status NAME LABEL STATUS: what openssl printed for LABEL; a revoked
# one with reason keyCompromise and the time given to pkictl.
check_status() {
  local name="$1" label="$2" want="$3"
  expect_eq "$name: openssl ocsp says $want" "$(ocsp_status "$label")" "$want"
  if [ "$want" = revoked ]; then
    expect_eq "$name: Reason" "$(ocsp_field "$label" Reason)" keyCompromise
    expect_eq "$name: Revocation Time is the one given to pkictl revoke" \
      "$(epoch_of "$(ocsp_field "$label" "Revocation Time")")" "$REVOKED_AT"
  else
    expect_eq "$name: no revocation reason" "$(ocsp_field "$label" Reason)" ""
  fi
}

# ask_one NAME FAM MODE NONCE WHAT STATUS: one certificate (WHAT: a PEM
# file, or serial:HEX) through openssl ocsp, with a nonce (NONCE yes) or
# -no_nonce, and every check of the answer.
ask_one() {
  local name="$1" fam="$2" mode="$3" nonce="$4" what="$5" want="$6" label
  family_vars "$fam"
  local args=()
  [ "$nonce" = yes ] || args+=(-no_nonce)
  case "$what" in
    serial:*) label="0x${what#serial:}"; args+=(-serial "$label") ;;
    *) label="$what"; args+=(-cert "$what") ;;
  esac
  ocsp_ask "$name" "$OCSP_URL" "$ISSUING" "$ROOT" "${args[@]}"
  if [ "$OCSP_RC" != 0 ]; then
    printf '%s\n%s\n' "$OCSP_OUT" "$OCSP_ERR" | sed 's/^/     | /'
    fail "$name: openssl ocsp exited $OCSP_RC"
  fi
  expect_contains "$name: openssl ocsp: Response verify OK" "$OCSP_ERR" "Response verify OK"
  check_status "$name" "$label" "$want"
  check_validity "$name" "$label"
  check_nonce "$name" "$nonce"
  check_signer "$name" "$fam" "$mode"
}

# ask_many NAME FAM MODE DIGEST: good, revoked and the never-issued serial
# in one request, with CertIDs hashed with DIGEST (sha1 or sha256).
ask_many() {
  local name="$1" fam="$2" mode="$3" digest="$4"
  family_vars "$fam"
  local good="$WORK/good-$fam.pem" revoked="$WORK/revoked-$fam.pem"
  ocsp_ask "$name" "$OCSP_URL" "$ISSUING" "$ROOT" "-$digest" \
    -cert "$good" -cert "$revoked" -serial "0x$UNKNOWN_SERIAL"
  if [ "$OCSP_RC" != 0 ]; then
    printf '%s\n%s\n' "$OCSP_OUT" "$OCSP_ERR" | sed 's/^/     | /'
    fail "$name: openssl ocsp exited $OCSP_RC"
  fi
  expect_contains "$name: openssl ocsp: Response verify OK" "$OCSP_ERR" "Response verify OK"
  check_status "$name: 1st" "$good" good
  check_status "$name: 2nd" "$revoked" revoked
  check_status "$name: 3rd" "0x$UNKNOWN_SERIAL" unknown
  check_validity "$name: 1st" "$good"
  check_validity "$name: 3rd" "0x$UNKNOWN_SERIAL"
  local text
  text="$(ocsp_resp_text "$WORK/$name.resp.der")"
  expect_eq "$name: three single responses" "$(printf '%s\n' "$text" | grep -c 'Cert Status:')" 3
  expect_eq "$name: each CertID hashed with $digest (as asked)" \
    "$(printf '%s\n' "$text" | grep -c "Hash Algorithm: $digest\$")" 3
  check_nonce "$name" yes
  check_signer "$name" "$fam" "$mode"
}

# ocsptool_ask NAME FAM CERT [ocsptool ARGS...]: GnuTLS ocsptool --ask;
# sets GNUTLS_OUT (stdout and stderr) and GNUTLS_RC.
GNUTLS_OUT=""
GNUTLS_RC=0
ocsptool_ask() {
  local name="$1" cert="$3"
  family_vars "$2"
  shift 3
  GNUTLS_RC=0
  GNUTLS_OUT="$(ocsptool --ask="$OCSP_URL" --load-issuer "$ISSUING" --load-cert "$cert" \
    --outfile "$WORK/$name.gnutls.der" "$@" 2>&1)" || GNUTLS_RC=$?
}

# gnutls_ok NAME FAM CERT STATUS [ocsptool ARGS...]: ocsptool verifies the
# answer and prints STATUS.
gnutls_ok() {
  local name="$1" fam="$2" cert="$3" want="$4"
  shift 4
  ocsptool_ask "$name" "$fam" "$cert" "$@"
  if [ "$GNUTLS_RC" != 0 ]; then
    printf '%s\n' "$GNUTLS_OUT" | sed 's/^/     | /'
    fail "$name: ocsptool $* exited $GNUTLS_RC"
  fi
  expect_contains "$name: ocsptool: Verifying OCSP Response: Success" "$GNUTLS_OUT" \
    "Verifying OCSP Response: Success."
  expect_contains "$name: ocsptool: Certificate Status: $want" "$GNUTLS_OUT" \
    "Certificate Status: $want"$'\n'
  # GnuTLS prints the INTEGER's bytes: a leading 00 when the high bit is set.
  local sn
  sn="$(printf '%s\n' "$GNUTLS_OUT" | sed -n 's/^[[:space:]]*Serial Number: //p' | head -n 1)"
  expect_eq "$name: ocsptool: the CertID names the certificate's serial" "${sn#00}" "$(serial_lc "$cert")"
  expect_contains "$name: ocsptool: Responder Key ID" "$GNUTLS_OUT" "Responder Key ID: "
  if [ "$want" = revoked ]; then
    local at
    at="$(printf '%s\n' "$GNUTLS_OUT" | sed -n 's/^[[:space:]]*Revocation time: //p')"
    [ -n "$at" ] || fail "$name: ocsptool prints no revocation time"
    expect_eq "$name: ocsptool: revocation time" "$(epoch_of "$at")" "$REVOKED_AT"
  fi
}

# gnutls_checks PHASE FAM MODE: ocsptool for good, revoked and unknown.
#
# ocsptool verifies in two ways. --load-signer CA (gnutls_ocsp_resp_verify_
# direct, as GnuTLS's TLS client checks stapled responses) accepts a
# response signed by CA, or by a responder certificate in the response that
# CA issued with id-kp-OCSPSigning: right for both modes. --load-trust
# (gnutls_ocsp_resp_verify) requires id-kp-OCSPSigning on the signer itself
# and the responder to be in, or issued directly by, the trust list: it fits
# delegated responses with the issuing CA as trust (not the root), and can
# never accept a response the CA signs itself (a CA has no OCSPSigning EKU,
# and GnuTLS finds a signer missing from the response only by name).
gnutls_checks() {
  local phase="$1" fam="$2" mode="$3"
  family_vars "$fam"
  section "$phase: $fam-issuing ($mode) through GnuTLS ocsptool"
  gnutls_ok "$phase-$fam-gnutls-good" "$fam" "$WORK/good-$fam.pem" good --load-signer "$ISSUING"
  gnutls_ok "$phase-$fam-gnutls-revoked" "$fam" "$WORK/revoked-$fam.pem" revoked --load-signer "$ISSUING"
  gnutls_ok "$phase-$fam-gnutls-unknown" "$fam" "$WORK/unknown-$fam.pem" unknown --load-signer "$ISSUING"
  gnutls_ok "$phase-$fam-gnutls-nonce" "$fam" "$WORK/good-$fam.pem" good --nonce --load-signer "$ISSUING"
  expect_contains "$phase-$fam-gnutls-nonce: ocsptool --nonce: the response carries a nonce" \
    "$GNUTLS_OUT" "Nonce: "
  if [ "$mode" = delegated ]; then
    gnutls_ok "$phase-$fam-gnutls-trust" "$fam" "$WORK/good-$fam.pem" good --load-trust "$ISSUING"
  fi
  # The verification is real: the root (a pki CA of the same key type, but
  # not the issuer), as signer, must not verify the response.
  ocsptool_ask "$phase-$fam-gnutls-wrong-signer" "$fam" "$WORK/good-$fam.pem" --load-signer "$ROOT"
  expect_contains "$phase-$fam-gnutls-wrong-signer: ocsptool --load-signer $fam-root verifies" \
    "$GNUTLS_OUT" "Verifying OCSP Response: "
  expect_not_contains "$phase-$fam-gnutls-wrong-signer: ocsptool --load-signer $fam-root rejects the response" \
    "$GNUTLS_OUT" "Verifying OCSP Response: Success"
  [ "$GNUTLS_RC" != 0 ] || fail "$phase-$fam-gnutls-wrong-signer: ocsptool exited 0"
}

# http_get_ocsp NAME URL: GET with curl; the body to $WORK/NAME.body, the
# headers to $WORK/NAME.headers. Sets HTTP_CODE, HTTP_TYPE.
http_get_ocsp() {
  rm -f "$WORK/$1.body" "$WORK/$1.headers"
  http GET "$2" "$WORK/$1.body" -D "$WORK/$1.headers"
}

# header NAME FIELD: the value of a response header (no CR).
header() {
  awk -v f="$2" 'BEGIN { f = tolower(f) ":" }
    tolower(substr($0, 1, length(f))) == f { v = substr($0, length(f) + 1); sub(/^ +/, "", v); sub(/\r$/, "", v); print v; exit }' \
    "$WORK/$1.headers"
}

# get_checks PHASE FAM: GET /<base64 request> (RFC 6960 A.1), URL-encoded
# and raw; the cached (no nonce) answer with its HTTP caching headers
# (RFC 5019 6.2).
get_checks() {
  local phase="$1" fam="$2" name="$1-$2-get"
  family_vars "$fam"
  section "$phase: $fam-issuing: GET with curl"
  local cert="$WORK/good-$fam.pem"
  openssl ocsp -issuer "$ISSUING" -cert "$cert" -no_nonce -reqout "$WORK/$name.req.der" \
    >/dev/null 2>"$WORK/$name.req.err" ||
    fail "$name: openssl ocsp -reqout failed: $(cat "$WORK/$name.req.err")"
  local b64 enc
  b64="$(base64 -w0 "$WORK/$name.req.der")"
  enc="$(printf '%s' "$b64" | sed 's/%/%25/g; s/+/%2B/g; s#/#%2F#g; s/=/%3D/g')"
  local form etag_first=""
  for form in encoded raw; do
    local n="$name-$form" path="$enc"
    [ "$form" = encoded ] || path="$b64"
    http_get_ocsp "$n" "$OCSP_URL/$path"
    expect_eq "$n: HTTP status" "$HTTP_CODE" 200
    expect_eq "$n: Content-Type" "$HTTP_TYPE" "application/ocsp-response"
    local out
    out="$(openssl ocsp -respin "$WORK/$n.body" -issuer "$ISSUING" -cert "$cert" \
      -CAfile "$ROOT" -verify_other "$ISSUING" 2>&1)" ||
      fail "$n: openssl ocsp -respin: $out"
    expect_contains "$n: openssl ocsp -respin: Response verify OK" "$out" "Response verify OK"
    expect_contains "$n: openssl ocsp -respin: good" "$out" "$cert: good"
    expect_not_contains "$n: the answer carries no nonce" "$(ocsp_resp_text "$WORK/$n.body")" "OCSP Nonce"
    ocsp_verify_chain "$n: the answer verifies up to the root alone" "$WORK/$n.body" "$ISSUING" "$ROOT"
    OCSP_OUT="$out"
    local this next cc max_age expires last_mod date etag
    this="$(epoch_of "$(ocsp_field "$cert" "This Update")")"
    next="$(epoch_of "$(ocsp_field "$cert" "Next Update")")"
    cc="$(header "$n" Cache-Control)"
    expires="$(header "$n" Expires)"
    last_mod="$(header "$n" Last-Modified)"
    date="$(header "$n" Date)"
    etag="$(header "$n" ETag)"
    max_age="$(printf '%s\n' "$cc" | sed -n 's/.*max-age=\([0-9][0-9]*\).*/\1/p')"
    [ -n "$max_age" ] || fail "$n: no Cache-Control max-age (Cache-Control: [$cc])"
    [ "$max_age" -gt 0 ] || fail "$n: Cache-Control max-age=$max_age"
    pass "$n: Cache-Control: $cc"
    [ -n "$expires" ] || fail "$n: no Expires header"
    expect_eq "$n: Expires = nextUpdate" "$(epoch_of "$expires")" "$next"
    [ -n "$last_mod" ] || fail "$n: no Last-Modified header"
    expect_eq "$n: Last-Modified = thisUpdate" "$(epoch_of "$last_mod")" "$this"
    [ -n "$date" ] || fail "$n: no Date header"
    # RFC 5019 6.2: max-age ends before nextUpdate.
    [ $(($(epoch_of "$date") + max_age)) -le "$next" ] ||
      fail "$n: Date + max-age ($date + $max_age s) is past nextUpdate ($expires)"
    pass "$n: Date + max-age <= nextUpdate"
    case "$etag" in
      \"?*\" | W/\"?*\") pass "$n: ETag $etag" ;;
      *) fail "$n: no ETag (a quoted string): [$etag]" ;;
    esac
    if [ -z "$etag_first" ]; then
      etag_first="$etag"
    else
      expect_eq "$n: the same cached answer as the URL-encoded form (ETag)" "$etag" "$etag_first"
    fi
  done
}

# phase PHASE RSA_MODE EC_MODE: every check of one signer configuration.
phase() {
  local phase="$1" fam mode
  for fam in rsa ec; do
    if [ "$fam" = rsa ]; then mode="$2"; else mode="$3"; fi
    section "$phase: $fam-issuing ($mode) through openssl ocsp"
    family_vars "$fam"
    ask_one "$phase-$fam-good-nonce" "$fam" "$mode" yes "$WORK/good-$fam.pem" good
    ask_one "$phase-$fam-good-no-nonce" "$fam" "$mode" no "$WORK/good-$fam.pem" good
    ask_one "$phase-$fam-revoked-nonce" "$fam" "$mode" yes "$WORK/revoked-$fam.pem" revoked
    ask_one "$phase-$fam-revoked-no-nonce" "$fam" "$mode" no "$WORK/revoked-$fam.pem" revoked
    ask_one "$phase-$fam-unknown-nonce" "$fam" "$mode" yes "serial:$UNKNOWN_SERIAL" unknown
    ask_one "$phase-$fam-unknown-no-nonce" "$fam" "$mode" no "serial:$UNKNOWN_SERIAL" unknown
    ask_one "$phase-$fam-unknown-cert" "$fam" "$mode" no "$WORK/unknown-$fam.pem" unknown
    ask_many "$phase-$fam-three-sha1" "$fam" "$mode" sha1
    ask_many "$phase-$fam-three-sha256" "$fam" "$mode" sha256
    gnutls_checks "$phase" "$fam" "$mode"
    get_checks "$phase" "$fam"
  done
}

phase phase1 delegated ca

# --- the same after a restart, signer modes swapped ---

section "restart: $PHASE2_SIGNER"
pkid_restart --node node-a --ocsp-validity-hours "$VALIDITY_HOURS" \
  --ocsp-signer "$PHASE2_SIGNER"
# The very first answer of the restarted node, from its cache path (no
# nonce), must already be right.
ask_one "restart-first-answer" rsa ca no "$WORK/revoked-rsa.pem" revoked

phase phase2 ca delegated

# --- refusals ---

section "malformed requests"
# expect_ocsp_error NAME STATUS_BYTE TEXT: $WORK/NAME.body is the bare
# OCSPResponse of an error: SEQUENCE { ENUMERATED STATUS }, which openssl
# prints as "Responder Error: TEXT".
expect_ocsp_error() {
  expect_eq "$1: HTTP status" "$HTTP_CODE" 200
  expect_eq "$1: Content-Type" "$HTTP_TYPE" "application/ocsp-response"
  expect_eq "$1: body is OCSPResponse { responseStatus $2 }" \
    "$(od -An -v -tx1 "$WORK/$1.body" | tr -d ' \n')" "30030a01$2"
  local out
  out="$(openssl ocsp -respin "$WORK/$1.body" 2>&1 || true)"
  expect_contains "$1: openssl ocsp -respin" "$out" "Responder Error: $3"
}
head -c 200 /dev/urandom >"$WORK/garbage.bin"
printf '\x30\x82\x01\x00' >>"$WORK/garbage.bin"
http POST "$OCSP_URL/" "$WORK/malformed-post.body" \
  -H "Content-Type: application/ocsp-request" --data-binary "@$WORK/garbage.bin"
expect_ocsp_error malformed-post 01 "malformedrequest (1)"
printf 'not an OCSP request' >"$WORK/text.bin"
http POST "$OCSP_URL/some/path" "$WORK/malformed-text.body" \
  -H "Content-Type: application/ocsp-request" --data-binary "@$WORK/text.bin"
expect_ocsp_error malformed-text 01 "malformedrequest (1)"
http GET "$OCSP_URL/$(base64 -w0 "$WORK/garbage.bin" | sed 's#/#%2F#g; s/+/%2B/g; s/=/%3D/g')" \
  "$WORK/malformed-get.body"
expect_ocsp_error malformed-get 01 "malformedrequest (1)"
http GET "$OCSP_URL/not!base64" "$WORK/malformed-get-text.body"
expect_ocsp_error malformed-get-text 01 "malformedrequest (1)"

section "a CA pki does not hold: unauthorized"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/foreign-ca.key" \
  -subj "/O=Elsewhere/CN=Foreign Issuing CA" -days 30 -out "$WORK/foreign-ca.pem" \
  >"$WORK/foreign.log" 2>&1 || fail "openssl req -x509 (foreign CA) failed: $(cat "$WORK/foreign.log")"
make_csr "$WORK/foreign-leaf.csr" rsa:2048 "/O=Elsewhere/CN=host.elsewhere.example"
openssl x509 -req -in "$WORK/foreign-leaf.csr" -CA "$WORK/foreign-ca.pem" \
  -CAkey "$WORK/foreign-ca.key" -set_serial 0x0123456789 -days 30 \
  -out "$WORK/foreign-leaf.pem" >>"$WORK/foreign.log" 2>&1 ||
  fail "openssl x509 -req (foreign leaf) failed: $(cat "$WORK/foreign.log")"
# unauthorized NAME ARGS...: openssl ocsp ARGS; the answer must be status 6.
unauthorized() {
  local name="$1"
  shift
  local rc=0 out
  out="$(openssl ocsp "$@" -url "$OCSP_URL" -respout "$WORK/$name.body" 2>&1)" || rc=$?
  [ "$rc" != 0 ] || fail "$name: openssl ocsp exited 0 for an unauthorized answer: $out"
  expect_contains "$name: openssl ocsp says unauthorized" "$out" "Responder Error: unauthorized (6)"
  expect_eq "$name: body is OCSPResponse { responseStatus 6 }" \
    "$(od -An -v -tx1 "$WORK/$name.body" | tr -d ' \n')" "30030a0106"
}
unauthorized unauthorized-foreign -issuer "$WORK/foreign-ca.pem" -cert "$WORK/foreign-leaf.pem"
unauthorized unauthorized-foreign-no-nonce -issuer "$WORK/foreign-ca.pem" -cert "$WORK/foreign-leaf.pem" -no_nonce
unauthorized unauthorized-mixed-foreign -issuer "$WORK/ca.rsa.issuing.pem" -cert "$WORK/good-rsa.pem" \
  -issuer "$WORK/foreign-ca.pem" -cert "$WORK/foreign-leaf.pem"
unauthorized unauthorized-mixed-rsa-ec -issuer "$WORK/ca.rsa.issuing.pem" -cert "$WORK/good-rsa.pem" \
  -issuer "$WORK/ca.ec.issuing.pem" -cert "$WORK/good-ec.pem"

http GET "$OCSP_URL/healthz" "$WORK/ocsp-healthz.body"
expect_eq "OCSP listener GET /healthz" "$HTTP_CODE $(cat "$WORK/ocsp-healthz.body")" "200 ok"

# --- hold, release, revoke ---

# status_now NAME FAM CERT: openssl ocsp (no nonce: the cached answer) for
# CERT, verified; prints nothing, sets OCSP_OUT.
status_now() {
  local name="$1" fam="$2" cert="$3"
  family_vars "$fam"
  ocsp_ask "$name" "$OCSP_URL" "$ISSUING" "$ROOT" -no_nonce -cert "$cert"
  [ "$OCSP_RC" = 0 ] || fail "$name: openssl ocsp exited $OCSP_RC: $OCSP_OUT $OCSP_ERR"
  expect_contains "$name: Response verify OK" "$OCSP_ERR" "Response verify OK"
  ocsp_verify_chain "$name: verifies up to the root alone" "$WORK/$name.resp.der" "$ISSUING" "$ROOT"
}

section "certificateHold, release, then keyCompromise"
issue held-rsa rsa
HELD="$WORK/held-rsa.pem"
HELD_SERIAL="$(serial_lc "$HELD")"
status_now hold-0 rsa "$HELD"
expect_eq "before the hold: good" "$(ocsp_status "$HELD")" good
revoke_ok "hold" "$HELD" certificateHold
HOLD_AT="$LAST_REVOKED_AT"
status_now hold-1 rsa "$HELD"
expect_eq "on hold: openssl ocsp says revoked" "$(ocsp_status "$HELD")" revoked
expect_eq "on hold: Reason" "$(ocsp_field "$HELD" Reason)" certificateHold
expect_eq "on hold: Revocation Time" "$(epoch_of "$(ocsp_field "$HELD" "Revocation Time")")" "$HOLD_AT"
wait_due
pkictl_run "$BASE" crl rsa-issuing --format pem --out "$WORK/crl-hold.pem"
[ "$PKICTL_RC" = 0 ] || fail "pkictl crl rsa-issuing: $PKICTL_OUT"
CRL_TEXT="$(openssl crl -in "$WORK/crl-hold.pem" -noout -text)"
expect_contains "on hold: the CRL lists the serial" "$CRL_TEXT" "Serial Number: $(serial_of "$HELD")"
expect_contains "on hold: the CRL gives reason Certificate Hold" \
  "$(printf '%s\n' "$CRL_TEXT" | grep -A4 "Serial Number: $(serial_of "$HELD")")" "Certificate Hold"
pkictl_refused "hold of a certificate on hold" ALREADY_REVOKED \
  revoke "$HELD_SERIAL" --reason certificateHold

unhold_ok "release" "$HELD"
status_now hold-2 rsa "$HELD"
expect_eq "released: openssl ocsp says good again" "$(ocsp_status "$HELD")" good
wait_due
pkictl_run "$BASE" crl rsa-issuing --format pem --out "$WORK/crl-released.pem"
[ "$PKICTL_RC" = 0 ] || fail "pkictl crl rsa-issuing: $PKICTL_OUT"
expect_not_contains "released: the CRL no longer lists the serial" \
  "$(openssl crl -in "$WORK/crl-released.pem" -noout -text)" "Serial Number: $(serial_of "$HELD")"
pkictl_refused "release of a good certificate" NOT_ON_HOLD unhold "$HELD_SERIAL"

revoke_ok "revoke after release" "$HELD" keyCompromise
status_now hold-3 rsa "$HELD"
expect_eq "revoked after release: openssl ocsp says revoked" "$(ocsp_status "$HELD")" revoked
expect_eq "revoked after release: Reason" "$(ocsp_field "$HELD" Reason)" keyCompromise
expect_eq "revoked after release: Revocation Time" \
  "$(epoch_of "$(ocsp_field "$HELD" "Revocation Time")")" "$LAST_REVOKED_AT"
pkictl_refused "second revocation" ALREADY_REVOKED revoke "$HELD_SERIAL" --reason superseded
pkictl_refused "release of a revoked (not held) certificate" NOT_ON_HOLD unhold "$HELD_SERIAL"
status_now hold-4 rsa "$HELD"
expect_eq "refusals changed nothing: still revoked" "$(ocsp_status "$HELD")" revoked
expect_eq "refusals changed nothing: still keyCompromise" "$(ocsp_field "$HELD" Reason)" keyCompromise
pkictl_refused "revocation of a serial never issued" NOT_FOUND \
  revoke 5eed0000000000000000000000000a51 --reason keyCompromise

# A certificate on hold may still be revoked for good (RFC 5280 5.3.1).
issue held-ec ec
revoke_ok "EC hold" "$WORK/held-ec.pem" certificateHold
revoke_ok "EC hold, then keyCompromise" "$WORK/held-ec.pem" keyCompromise
status_now hold-ec ec "$WORK/held-ec.pem"
expect_eq "EC hold then keyCompromise: revoked" "$(ocsp_status "$WORK/held-ec.pem")" revoked
expect_eq "EC hold then keyCompromise: Reason" "$(ocsp_field "$WORK/held-ec.pem" Reason)" keyCompromise

# --- CRLs ---

section "CRL of rsa-issuing"
# crl_fetch NAME CA: pkictl crl CA --format pem; sets CRL_TEXT, CRL_NUMBER.
crl_fetch() {
  wait_due
  pkictl_run "$BASE" crl "$2" --format pem --out "$WORK/$1.pem"
  [ "$PKICTL_RC" = 0 ] || fail "$1: pkictl crl $2 --format pem: exit $PKICTL_RC: $PKICTL_OUT"
  expect_contains "$1: pkictl crl writes a PEM CRL" "$(head -n 1 "$WORK/$1.pem")" "-----BEGIN X509 CRL-----"
  CRL_TEXT="$(openssl crl -in "$WORK/$1.pem" -noout -text 2>&1)" ||
    fail "$1: openssl crl cannot read it: $CRL_TEXT"
  CRL_NUMBER="$(printf '%s\n' "$CRL_TEXT" | awk '/X509v3 CRL Number:/ { getline; gsub(/ /, ""); print; exit }')"
  [ -n "$CRL_NUMBER" ] || fail "$1: no CRL Number in the CRL"
  local out
  family_vars "${2%%-*}"
  out="$(openssl crl -in "$WORK/$1.pem" -noout -verify -CAfile "$CHAIN" 2>&1)" ||
    fail "$1: openssl crl -verify: $out"
  expect_contains "$1: openssl crl -verify against the chain" "$out" "verify OK"
  expect_eq "$1: issued by $2" \
    "$(openssl crl -in "$WORK/$1.pem" -noout -issuer -nameopt RFC2253 | sed 's/^issuer=//')" "$ISSUING_NAME"
}
# crl_entry SERIAL: the CRL entry of SERIAL (upper-case hex) in CRL_TEXT.
crl_entry() {
  printf '%s\n' "$CRL_TEXT" | awk -v s="Serial Number: $1" '
    index($0, s) { inside = 1; print; next }
    inside && /Serial Number:|Signature Algorithm:/ { exit }
    inside { print }'
}
crl_fetch crl-rsa-1 rsa-issuing
expect_eq "crl-rsa-1: CRL Number = rsa-issuing's current one in the database" "$CRL_NUMBER" \
  "$(sql "SELECT crl_number FROM crls JOIN issuers ON issuers.id = crls.issuer_id WHERE issuers.name = 'rsa-issuing'")"
CRL1_NUMBER="$CRL_NUMBER"
entry="$(crl_entry "$(serial_of "$WORK/revoked-rsa.pem")")"
expect_contains "crl-rsa-1 lists revoked-rsa" "$entry" "Serial Number: $(serial_of "$WORK/revoked-rsa.pem")"
expect_contains "crl-rsa-1: revoked-rsa reason Key Compromise" "$entry" "Key Compromise"
expect_eq "crl-rsa-1: revoked-rsa Revocation Date = the time given" \
  "$(epoch_of "$(printf '%s\n' "$entry" | sed -n 's/^ *Revocation Date: //p')")" "$REVOKED_AT"
entry="$(crl_entry "$(serial_of "$HELD")")"
expect_contains "crl-rsa-1 lists held-rsa (revoked after release)" "$entry" "Key Compromise"
expect_not_contains "crl-rsa-1 does not list good-rsa" "$CRL_TEXT" "Serial Number: $(serial_of "$WORK/good-rsa.pem")"
expect_not_contains "crl-rsa-1 does not list an EC certificate" "$CRL_TEXT" "Serial Number: $(serial_of "$WORK/revoked-ec.pem")"

# openssl verify with the CRL.
out="$(openssl verify -crl_check -CRLfile "$WORK/crl-rsa-1.pem" -CAfile "$WORK/ca.rsa.chain.pem" \
  "$WORK/revoked-rsa.pem" 2>&1)" && fail "openssl verify -crl_check accepts revoked-rsa: $out"
expect_contains "openssl verify -crl_check: revoked-rsa fails" "$out" "certificate revoked"
out="$(openssl verify -crl_check -CRLfile "$WORK/crl-rsa-1.pem" -CAfile "$WORK/ca.rsa.chain.pem" \
  "$WORK/good-rsa.pem" 2>&1)" || fail "openssl verify -crl_check rejects good-rsa: $out"
expect_eq "openssl verify -crl_check: good-rsa passes" "$out" "$WORK/good-rsa.pem: OK"

issue crl-next-rsa rsa
revoke_ok "crl-next-rsa" "$WORK/crl-next-rsa.pem" superseded
crl_fetch crl-rsa-2 rsa-issuing
[ "$CRL_NUMBER" -gt "$CRL1_NUMBER" ] ||
  fail "crl-rsa-2: CRL Number $CRL_NUMBER is not above $CRL1_NUMBER after a revocation"
pass "crl-rsa-2: CRL Number $CRL1_NUMBER -> $CRL_NUMBER after a revocation"
expect_contains "crl-rsa-2 lists the new revocation, reason Superseded" \
  "$(crl_entry "$(serial_of "$WORK/crl-next-rsa.pem")")" "Superseded"
expect_contains "crl-rsa-2 still lists revoked-rsa" "$CRL_TEXT" "Serial Number: $(serial_of "$WORK/revoked-rsa.pem")"
out="$(openssl verify -crl_check -CRLfile "$WORK/crl-rsa-2.pem" -CAfile "$WORK/ca.rsa.chain.pem" \
  "$WORK/crl-next-rsa.pem" 2>&1)" && fail "openssl verify -crl_check accepts crl-next-rsa: $out"
expect_contains "openssl verify -crl_check with crl-rsa-2: crl-next-rsa fails" "$out" "certificate revoked"

section "CRL of ec-issuing"
crl_fetch crl-ec ec-issuing
expect_contains "crl-ec lists revoked-ec, Key Compromise" \
  "$(crl_entry "$(serial_of "$WORK/revoked-ec.pem")")" "Key Compromise"
out="$(openssl verify -crl_check -CRLfile "$WORK/crl-ec.pem" -CAfile "$WORK/ca.ec.chain.pem" \
  "$WORK/revoked-ec.pem" 2>&1)" && fail "openssl verify -crl_check accepts revoked-ec: $out"
expect_contains "openssl verify -crl_check: revoked-ec fails" "$out" "certificate revoked"
out="$(openssl verify -crl_check -CRLfile "$WORK/crl-ec.pem" -CAfile "$WORK/ca.ec.chain.pem" \
  "$WORK/good-ec.pem" 2>&1)" || fail "openssl verify -crl_check rejects good-ec: $out"
expect_eq "openssl verify -crl_check: good-ec passes" "$out" "$WORK/good-ec.pem: OK"

# --- a revocation reaches the cached answers at once (invariant 6) ---

for fam in rsa ec; do
  section "$fam: a revocation replaces the cached answer at once"
  issue "cached-$fam" "$fam"
  cert="$WORK/cached-$fam.pem"
  status_now "cached-$fam-1" "$fam" "$cert"
  expect_eq "cached-$fam: good" "$(ocsp_status "$cert")" good
  status_now "cached-$fam-2" "$fam" "$cert"
  expect_eq "cached-$fam: good again" "$(ocsp_status "$cert")" good
  # The same pre-signed answer both times: it is the cache that is tested.
  expect_eq "cached-$fam: no nonce, the same pre-signed answer twice" \
    "$(od -An -v -tx1 "$WORK/cached-$fam-2.resp.der" | tr -d ' \n')" \
    "$(od -An -v -tx1 "$WORK/cached-$fam-1.resp.der" | tr -d ' \n')"
  family_vars "$fam"
  openssl ocsp -issuer "$ISSUING" -cert "$cert" -no_nonce -reqout "$WORK/cached-$fam.req.der" \
    >/dev/null 2>&1 || fail "cached-$fam: openssl ocsp -reqout failed"
  get_url="$OCSP_URL/$(base64 -w0 "$WORK/cached-$fam.req.der" | sed 's#/#%2F#g; s/+/%2B/g; s/=/%3D/g')"
  http_get_ocsp "cached-$fam-get-1" "$get_url"
  expect_eq "cached-$fam: GET HTTP status" "$HTTP_CODE" 200
  etag_before="$(header "cached-$fam-get-1" ETag)"
  revoke_ok "cached-$fam" "$cert" keyCompromise
  status_now "cached-$fam-3" "$fam" "$cert"
  expect_eq "cached-$fam: asked right after the revocation: revoked" "$(ocsp_status "$cert")" revoked
  expect_eq "cached-$fam: Reason" "$(ocsp_field "$cert" Reason)" keyCompromise
  http_get_ocsp "cached-$fam-get-2" "$get_url"
  expect_eq "cached-$fam: GET HTTP status after the revocation" "$HTTP_CODE" 200
  out="$(openssl ocsp -respin "$WORK/cached-$fam-get-2.body" -issuer "$ISSUING" -cert "$cert" \
    -CAfile "$ROOT" -verify_other "$ISSUING" 2>&1)" || fail "cached-$fam: GET answer: $out"
  expect_contains "cached-$fam: GET right after the revocation: revoked" "$out" "$cert: revoked"
  etag_after="$(header "cached-$fam-get-2" ETag)"
  [ "$etag_after" != "$etag_before" ] ||
    fail "cached-$fam: the ETag did not change with the status ($etag_after)"
  pass "cached-$fam: the ETag changed with the status"
done

# --- audit ---

section "audit log"
want="$(printf '%s\n' "${AUDIT_WANT[@]}")"
got="$(sql "SELECT action || '|' || object || '|' || outcome || '|' || detail FROM audit_log
            WHERE action IN ('revoke', 'unhold') AND outcome = 'ok' ORDER BY id")"
expect_eq "one audit row per revocation and release, in order ($(printf '%s\n' "$want" | wc -l) rows)" "$got" "$want"
expect_eq "audit rows of revocations name the client's address" \
  "$(sql "SELECT DISTINCT source FROM audit_log WHERE action IN ('revoke', 'unhold')")" "127.0.0.1"
expect_eq "audit rows of revocations name an actor" \
  "$(sql "SELECT count(*) FROM audit_log WHERE action IN ('revoke', 'unhold') AND actor = ''")" 0

interop_finish
