#!/usr/bin/env bash
# Interop: two pkid nodes on one database (ARCHITECTURE.md, "Scaling past one
# node", invariant 6). A revocation taken by one node reaches the OCSP
# answers of the other within one second (LISTEN/NOTIFY), in both
# directions, and a node restarted after a revocation answers right from its
# first request. node-a signs its responses with the CAs; node-b, started
# with a copy of the CA keys, through delegated responders of its own.
# Answers one node signed are served by a restarted node from the database.
# Clients: openssl ocsp (no nonce: the cached answers), pkictl, psql.
set -eu

. "$(dirname "$0")/lib.sh"

# How long a revocation may take to reach the other node.
PROPAGATION_MS=1000

interop_start --node node-a
BASE_A="$BASE"
OCSP_A="$OCSP_URL"

section "second node"
node_start node-b --ocsp-signer delegated
BASE_B="${NODE_BASE[node-b]}"
OCSP_B="${NODE_OCSP_URL[node-b]}"
[ "$OCSP_B" != "$OCSP_A" ] || fail "node-b listens where node-a does ($OCSP_B)"
pass "node-b answers on its own ports: $BASE_B, OCSP $OCSP_B"
expect_eq "node-b's CA key files are 0600" \
  "$(stat -c %a "$(node_dir node-b)"/data/keys/*-issuing.key | sort -u)" 600
http GET "$BASE_B/v1/ca?format=text" "$WORK/ca-b.txt"
http GET "$BASE_A/v1/ca?format=text" "$WORK/ca-a.txt"
expect_eq "node-b serves node-a's CAs (one set of CAs in the database)" \
  "$(cat "$WORK/ca-b.txt")" "$(cat "$WORK/ca-a.txt")"

for fam in rsa ec; do
  f="$WORK/ca.$fam"
  http GET "$BASE_A/v1/ca/$fam-issuing/chain" "$f.chain.pem"
  expect_eq "GET /v1/ca/$fam-issuing/chain HTTP status" "$HTTP_CODE" 200
  mkdir -p "$f.parts"
  expect_eq "$fam-issuing chain holds 2 certificates" "$(split_pem "$f.chain.pem" "$f.parts/c")" 2
done
# issuing_of FAM, root_of FAM: the PEM files of FAM's issuing CA and root.
issuing_of() {
  printf '%s\n' "$WORK/ca.$1.parts/c1.pem"
}
root_of() {
  printf '%s\n' "$WORK/ca.$1.parts/c2.pem"
}

# ask NAME URL FAM CERT: openssl ocsp without nonce (the cached answer);
# the response must verify. Sets STATUS and OCSP_OUT.
STATUS=""
ask() {
  local name="$1" url="$2" fam="$3" cert="$4"
  ocsp_ask "$name" "$url" "$(issuing_of "$fam")" "$(root_of "$fam")" -no_nonce -cert "$cert"
  if [ "$OCSP_RC" != 0 ]; then
    printf '%s\n%s\n' "$OCSP_OUT" "$OCSP_ERR" | sed 's/^/     | /'
    fail "$name: openssl ocsp -url $url exited $OCSP_RC"
  fi
  case "$OCSP_ERR" in
    *"Response verify OK"*) ;;
    *) fail "$name: openssl ocsp did not verify the response: $OCSP_ERR" ;;
  esac
  STATUS="$(ocsp_status "$cert")"
}

# signer_check NAME FAM NODE: the response $WORK/NAME.resp.der is signed as
# NODE signs (node-a: the issuing CA; node-b: its delegated responder) and
# verifies with the root as the only trust anchor.
signer_check() {
  local name="$1" fam="$2" node="$3" issuing text
  issuing="$(issuing_of "$fam")"
  ocsp_verify_chain "$name: the response verifies up to the root alone" \
    "$WORK/$name.resp.der" "$issuing" "$(root_of "$fam")"
  text="$(ocsp_resp_text "$WORK/$name.resp.der")"
  printf '%s\n' "$text" |
    awk '/-----BEGIN CERTIFICATE-----/ { n++ } n == 1 { print } /-----END CERTIFICATE-----/ && n == 1 { exit }' \
      >"$WORK/$name.signer.pem"
  if [ "$node" = node-a ]; then
    local ski rid
    ski="$(openssl x509 -in "$issuing" -noout -ext subjectKeyIdentifier | sed -n '2p' | tr -d ' :')"
    rid="$(printf '%s\n' "$text" | sed -n 's/^ *Responder Id: //p')"
    expect_eq "$name: node-a: signed by $fam-issuing itself (ResponderID)" "$rid" "$ski"
  else
    [ -s "$WORK/$name.signer.pem" ] || fail "$name: node-b's response carries no responder certificate"
    expect_eq "$name: node-b: signed by node-b's own delegated responder" \
      "$(subject_of "$WORK/$name.signer.pem")" "CN=$fam-issuing OCSP responder node-b"
    expect_eq "$name: node-b: responder issued by $fam-issuing" \
      "$(issuer_of "$WORK/$name.signer.pem")" "$(subject_of "$issuing")"
    expect_eq "$name: node-b: responder EKU" \
      "$(ext_value "$WORK/$name.signer.pem" "X509v3 Extended Key Usage")" "OCSP Signing"
  fi
}

# wait_status NAME URL FAM CERT WANT T0: asks URL again and again until it
# answers WANT; the request that got WANT must have been sent at most
# PROPAGATION_MS after T0 (date +%s%N, taken when the change was
# committed: pkictl returned). Prints the time it took.
wait_status() {
  local name="$1" url="$2" fam="$3" cert="$4" want="$5" t0="$6"
  local n=0 sent answered
  while :; do
    n=$((n + 1))
    sent="$(date +%s%N)"
    ask "$name-$n" "$url" "$fam" "$cert"
    answered="$(date +%s%N)"
    [ "$STATUS" != "$want" ] || break
    case "$STATUS" in
      good | revoked) ;;
      *) fail "$name: answer $n is [$STATUS] (expected good or revoked)" ;;
    esac
    if [ $(((sent - t0) / 1000000)) -ge "$PROPAGATION_MS" ]; then
      fail "$name: still $STATUS $(((answered - t0) / 1000000)) ms after the change ($n requests); expected $want within $PROPAGATION_MS ms"
    fi
    sleep 0.02
  done
  local sent_ms=$(((sent - t0) / 1000000)) answered_ms=$(((answered - t0) / 1000000))
  [ "$sent_ms" -lt "$PROPAGATION_MS" ] ||
    fail "$name: $want only for a request sent $sent_ms ms after the change (limit $PROPAGATION_MS ms)"
  pass "$name: $want after $answered_ms ms (request $n, sent at $sent_ms ms)"
  log "     propagation: $name: ${answered_ms} ms"
  LAST_NAME="$name-$n"
}

# pkictl_ok DESCRIPTION SERVER ARGS...: pkictl must succeed.
pkictl_ok() {
  local desc="$1" server="$2"
  shift 2
  pkictl_run "$server" "$@"
  [ "$PKICTL_RC" = 0 ] || fail "$desc: pkictl --server $server $*: exit $PKICTL_RC: $PKICTL_OUT"
  pass "$desc: pkictl $1 exits 0"
}

section "certificates issued on node-a"
for fam in rsa ec; do
  case "$fam" in
    rsa) profile=tomcat spec=rsa:2048 ;;
    ec) profile=tomcat-ECDSA spec=ec:P-256 ;;
  esac
  make_csr "$WORK/leaf-$fam.csr" "$spec" "/O=Acme/OU=Voice/CN=leaf-$fam.uc.example.com"
  http POST "$BASE_A/v1/sign?profile=$profile" "$WORK/leaf-$fam.chain.pem" \
    --data-binary "@$WORK/leaf-$fam.csr"
  [ "$HTTP_CODE" = 200 ] || fail "issue leaf-$fam on node-a: HTTP $HTTP_CODE: $(head -c 300 "$WORK/leaf-$fam.chain.pem")"
  mkdir -p "$WORK/leaf-$fam.parts"
  split_pem "$WORK/leaf-$fam.chain.pem" "$WORK/leaf-$fam.parts/c" >/dev/null
  cp "$WORK/leaf-$fam.parts/c1.pem" "$WORK/leaf-$fam.pem"
  pass "leaf-$fam issued on node-a: serial $(serial_of "$WORK/leaf-$fam.pem")"
done

for fam in rsa ec; do
  cert="$WORK/leaf-$fam.pem"
  serial="$(serial_of "$cert" | tr 'A-F' 'a-f')"

  section "$fam: issued on node-a, asked on node-b"
  ask "$fam-b-good" "$OCSP_B" "$fam" "$cert"
  expect_eq "$fam: node-b knows the certificate node-a issued: good" "$STATUS" good
  signer_check "$fam-b-good" "$fam" node-b
  ask "$fam-a-good" "$OCSP_A" "$fam" "$cert"
  expect_eq "$fam: node-a: good" "$STATUS" good
  signer_check "$fam-a-good" "$fam" node-a

  section "$fam: certificateHold on node-a reaches node-b"
  pkictl_ok "$fam: hold on node-a" "$BASE_A" revoke "$serial" --reason certificateHold
  t0="$(date +%s%N)"
  wait_status "$fam-b-held" "$OCSP_B" "$fam" "$cert" revoked "$t0"
  expect_eq "$fam: node-b gives the reason" "$(ocsp_field "$cert" Reason)" certificateHold
  signer_check "$LAST_NAME" "$fam" node-b
  ask "$fam-a-held" "$OCSP_A" "$fam" "$cert"
  expect_eq "$fam: node-a (the node that took it) answers revoked" "$STATUS" revoked

  section "$fam: release on node-b reaches node-a"
  pkictl_ok "$fam: unhold on node-b" "$BASE_B" unhold "$serial"
  t0="$(date +%s%N)"
  wait_status "$fam-a-released" "$OCSP_A" "$fam" "$cert" good "$t0"
  signer_check "$LAST_NAME" "$fam" node-a
  ask "$fam-b-released" "$OCSP_B" "$fam" "$cert"
  expect_eq "$fam: node-b (the node that took it) answers good" "$STATUS" good

  # node-b's cache holds the good answer before it stops.
  ask "$fam-b-before-stop" "$OCSP_B" "$fam" "$cert"
  expect_eq "$fam: node-b: good before it stops" "$STATUS" good
done

section "node-b stops; node-a revokes; node-b starts again"
node_stop node-b
for fam in rsa ec; do
  serial="$(serial_of "$WORK/leaf-$fam.pem" | tr 'A-F' 'a-f')"
  pkictl_ok "$fam: keyCompromise on node-a while node-b is down" "$BASE_A" \
    revoke "$serial" --reason keyCompromise
done
node_start node-b --ocsp-signer delegated
OCSP_B="${NODE_OCSP_URL[node-b]}"
# The restarted node's very first OCSP requests.
for fam in rsa ec; do
  cert="$WORK/leaf-$fam.pem"
  ask "$fam-b-restarted" "$OCSP_B" "$fam" "$cert"
  expect_eq "$fam: the restarted node-b answers revoked from its first request" "$STATUS" revoked
  expect_eq "$fam: with reason keyCompromise" "$(ocsp_field "$cert" Reason)" keyCompromise
  signer_check "$fam-b-restarted" "$fam" node-b
  ask "$fam-a-final" "$OCSP_A" "$fam" "$cert"
  expect_eq "$fam: node-a: revoked" "$STATUS" revoked
done

section "audit"
for fam in rsa ec; do
  serial="$(serial_of "$WORK/leaf-$fam.pem" | tr 'A-F' 'a-f')"
  expect_eq "$fam: the audit log holds hold, release, revocation (from both nodes)" \
    "$(sql "SELECT string_agg(action || ':' || detail, ',' ORDER BY id) FROM audit_log WHERE object = '$serial'")" \
    "revoke:reason=certificateHold,unhold:released from hold,revoke:reason=keyCompromise"
done
expect_eq "each node has a delegated responder only where it delegates" \
  "$(sql "SELECT string_agg(DISTINCT node, ',') FROM ocsp_responders")" node-b

section "pre-signed answers shared through the database"
# An answer node-a signed is stored in the background, and node-a restarted
# (its cache empty) serves it as it was, without signing: the same bytes,
# counted as shared in /metrics. node-b signs through a responder of its
# own, so it stores answers of its own. A revocation deletes them all.
BASE_B="${NODE_BASE[node-b]}"
make_csr "$WORK/shared.csr" ec:P-256 "/O=Acme/OU=Voice/CN=shared.uc.example.com"
http POST "$BASE_A/v1/sign?profile=tomcat-ECDSA" "$WORK/shared.chain.pem" \
  --data-binary "@$WORK/shared.csr"
[ "$HTTP_CODE" = 200 ] || fail "issue shared on node-a: HTTP $HTTP_CODE"
mkdir -p "$WORK/shared.parts"
split_pem "$WORK/shared.chain.pem" "$WORK/shared.parts/c" >/dev/null
cp "$WORK/shared.parts/c1.pem" "$WORK/shared.pem"
serial="$(serial_of "$WORK/shared.pem" | tr 'A-F' 'a-f')"
ask "shared-a-1" "$OCSP_A" ec "$WORK/shared.pem"
expect_eq "shared: node-a: good" "$STATUS" good
stored_for() {
  sql "SELECT count(*) FROM ocsp_answers a JOIN certificates c ON c.id = a.certificate_id WHERE c.serial = '$serial'"
}
n=0
while [ "$(stored_for)" != 1 ] && [ "$n" -lt 100 ]; do
  sleep 0.1
  n=$((n + 1))
done
expect_eq "shared: node-a's answer is stored within 10 s" "$(stored_for)" 1
pkid_restart --node node-a
BASE_A="$BASE"
OCSP_A="$OCSP_URL"
ask "shared-a-2" "$OCSP_A" ec "$WORK/shared.pem"
expect_eq "shared: the restarted node-a: good" "$STATUS" good
if cmp -s "$WORK/shared-a-1.resp.der" "$WORK/shared-a-2.resp.der"; then
  pass "shared: the restarted node-a serves the stored answer byte for byte"
else
  fail "shared: the restarted node-a signed a new answer instead of serving the stored one"
fi
http GET "$BASE_A/metrics" "$WORK/metrics-a.txt"
expect_eq "shared: /metrics counts it as shared" \
  "$(sed -n 's/^pki_ocsp_answers_total{source="shared"} //p' "$WORK/metrics-a.txt")" 1
ask "shared-b-1" "$OCSP_B" ec "$WORK/shared.pem"
expect_eq "shared: node-b: good" "$STATUS" good
signer_check "shared-b-1" ec node-b
n=0
while [ "$(stored_for)" != 2 ] && [ "$n" -lt 100 ]; do
  sleep 0.1
  n=$((n + 1))
done
expect_eq "shared: node-b stores its own answer beside node-a's" "$(stored_for)" 2
pkictl_ok "shared: keyCompromise on node-b" "$BASE_B" revoke "$serial" --reason keyCompromise
expect_eq "shared: the revocation deleted both stored answers" "$(stored_for)" 0
t0="$(date +%s%N)"
wait_status "shared-a-revoked" "$OCSP_A" ec "$WORK/shared.pem" revoked "$t0"

section "both nodes stop cleanly"
node_stop node-b
interop_finish
