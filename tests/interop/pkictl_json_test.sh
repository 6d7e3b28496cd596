#!/usr/bin/env bash
# Interop: pkictl --json on every command of pkictl (kCommands in
# api/cli/pkictl.c) against a real pkid and PostgreSQL. Each run's stdout
# must be one JSON object that Python's json module reads; key fields are
# checked against openssl's view of the files written and against the API's
# own JSON (curl with Accept: application/json); errors are the API's
# {"code", "message"} with a non-zero exit status.
set -eu

. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
[ -x "$PY" ] || fail "$PY is not installed (needed to read the JSON)"

interop_start

# jrun ARGS...: pkictl --json ARGS. Sets JOUT (stdout), JERR (stderr) and
# JRC, and fails unless stdout is exactly one JSON object.
JOUT=""
JERR=""
JRC=0
jrun() {
  JRC=0
  JOUT="$("$PKICTL" --server "$BASE" --json "$@" 2>"$WORK/json.err")" || JRC=$?
  JERR="$(cat "$WORK/json.err")"
  printf '%s' "$JOUT" | "$PY" -c '
import json, sys
v = json.load(sys.stdin)
assert isinstance(v, dict), "not an object"
' 2>"$WORK/json.py.err" || {
    printf '     | stdout: %s\n     | stderr: %s\n' "$JOUT" "$JERR"
    fail "pkictl --json $* printed no single JSON object: $(cat "$WORK/json.py.err")"
  }
}

# jok DESCRIPTION ARGS...: jrun, which must exit 0.
jok() {
  local desc="$1"
  shift
  jrun "$@"
  [ "$JRC" = 0 ] || fail "$desc: exit $JRC, stdout [$JOUT], stderr [$JERR]"
  pass "$desc: exit 0, one JSON object"
}

# jq_ PATH: the value at PATH (dots and indices: certificate.serial,
# written.0.path; "#x" is the length of x) in JOUT; strings bare, the rest
# as JSON, nothing for a missing field.
jq_() {
  printf '%s' "$JOUT" | "$PY" -c '
import json, sys
v = json.load(sys.stdin)
path = sys.argv[1]
count = path.startswith("#")
for part in (path[1:] if count else path).split("."):
    if part == "":
        continue
    if isinstance(v, list):
        v = v[int(part)] if int(part) < len(v) else None
    elif isinstance(v, dict):
        v = v.get(part)
    if v is None:
        break
if count:
    print(0 if v is None else len(v))
elif v is None:
    pass
elif isinstance(v, str):
    print(v)
else:
    print(json.dumps(v, sort_keys=True))
' "$1"
}

# jerror DESCRIPTION CODE ARGS...: jrun, which must fail with the error CODE.
jerror() {
  local desc="$1" code="$2"
  shift 2
  jrun "$@"
  [ "$JRC" != 0 ] || fail "$desc: exit 0, stdout [$JOUT]"
  expect_eq "$desc: the error's code (exit $JRC)" "$(jq_ code)" "$code"
  [ -n "$(jq_ message)" ] || fail "$desc: the error has no message: $JOUT"
  expect_eq "$desc: only code and message" "$(jq_ '#')" 2
}

# hex_upper SERIAL: a serial as upper-case hex without colons or leading 0s.
hex_upper() {
  printf '%s' "$1" | tr -d ':' | tr 'a-f' 'A-F' | sed 's/^0*//'
}

# pem_der_b64 PEM: the base64 of the first certificate of PEM, as the JSON
# mapping writes bytes.
pem_der_b64() {
  openssl x509 -in "$1" -outform DER | base64 -w0
}

J="$WORK/json"
mkdir -p "$J"

section "csr (local): what was made, where"
jok "csr" csr --profile tomcat --cn json1.example.com --san alt.example.com \
  --key-out "$J/json1.key" --out "$J/json1.csr"
expect_eq "csr: csr" "$(jq_ csr)" "$J/json1.csr"
expect_eq "csr: key" "$(jq_ key)" "$J/json1.key"
expect_eq "csr: commonName" "$(jq_ commonName)" json1.example.com
expect_eq "csr: keyType" "$(jq_ keyType)" RSA
expect_eq "csr: the written files, key first" "$(jq_ written.0.path) $(jq_ written.1.path)" \
  "$J/json1.key $J/json1.csr"
expect_eq "csr: the CSR's size" "$(jq_ written.1.bytes)" "$(stat -c %s "$J/json1.csr")"
check "csr: openssl req -verify reads the CSR" openssl req -in "$J/json1.csr" -noout -verify
expect_contains "csr: sans" "$(jq_ sans)" '"alt.example.com"'

section "issue: the API's IssueResponse, and what was written"
jok "issue --out" issue --profile tomcat --csr "$J/json1.csr" --out "$J/json1.pem"
SERIAL="$(jq_ certificate.serial)"
expect_eq "issue: serial = openssl's serial of the written PEM" \
  "$(hex_upper "$SERIAL")" "$(hex_upper "$(serial_of "$J/json1.pem")")"
expect_eq "issue: certificate.certificate = the PEM's DER (base64)" \
  "$(jq_ certificate.certificate)" "$(pem_der_b64 "$J/json1.pem")"
expect_eq "issue: profile" "$(jq_ certificate.profile)" tomcat
expect_eq "issue: written" "$(jq_ written.0.path)" "$J/json1.pem"
expect_eq "issue: written bytes" "$(jq_ written.0.bytes)" "$(stat -c %s "$J/json1.pem")"
case "$(jq_ certificate.notAfter)" in
  [1-9]*) pass "issue: notAfter, an int64, is a string of digits" ;;
  *) fail "issue: notAfter is $(jq_ certificate.notAfter)" ;;
esac
printf '%s' "$JOUT" | "$PY" -c 'import json,sys; v=json.load(sys.stdin); assert isinstance(v["certificate"]["notAfter"], str)' ||
  fail "issue: notAfter is not a JSON string"
pass "issue: 64-bit integers are JSON strings (proto3 mapping)"
# The same answer as pkid's own JSON: curl with Accept: application/json.
http POST "$BASE/v1/certificates:issue" "$J/curl-issue.json" \
  -H 'Content-Type: application/json' -H 'Accept: application/json' \
  --data-binary "{\"profile\":\"tomcat\",\"csr\":\"$(openssl req -in "$J/json1.csr" -outform DER | base64 -w0)\"}"
expect_eq "curl issue: HTTP status" "$HTTP_CODE" 200
expect_eq "pkictl's keys are pkid's keys (IssueResponse.certificate)" \
  "$(printf '%s' "$JOUT" | "$PY" -c 'import json,sys; print(sorted(json.load(sys.stdin)["certificate"]))')" \
  "$("$PY" -c 'import json,sys; print(sorted(json.load(open(sys.argv[1]))["certificate"]))' "$J/curl-issue.json")"

jok "issue (no --out)" issue --profile tomcat --csr "$J/json1.csr"
expect_contains "issue: the PEM under pem" "$(jq_ pem)" "-----BEGIN CERTIFICATE-----"
expect_eq "issue: nothing written" "$(jq_ '#written')" 0
SERIAL2="$(jq_ certificate.serial)"

section "list, get, ca list, find"
jok "list --cn" list --cn json1.example.com --all
expect_eq "list: three certificates (two by pkictl, one by curl)" "$(jq_ "#certificates")" 3
expect_contains "list: the serial" "$(jq_ certificates)" "\"$SERIAL\""
expect_eq "list --all: no cursor left" "$(jq_ nextAfter)" ""
jok "list --limit 1 (a page)" list --cn json1.example.com --limit 1
expect_eq "list --limit 1: one certificate" "$(jq_ '#certificates')" 1
[ -n "$(jq_ nextAfter)" ] || fail "list --limit 1: no nextAfter"
pass "list --limit 1: the cursor of the next page"
jok "get" get "$SERIAL"
expect_contains "get: the PEM under body" "$(jq_ body)" "-----BEGIN CERTIFICATE-----"
jok "get --format der" get "$SERIAL" --format der
expect_eq "get --format der: bodyBase64 = the DER" "$(jq_ bodyBase64)" "$(pem_der_b64 "$J/json1.pem")"
jok "get --out" get "$SERIAL" --out "$J/get.pem"
expect_eq "get --out: written" "$(jq_ written.0.path)" "$J/get.pem"
jok "ca list" ca list
expect_contains "ca list: rsa-issuing" "$(jq_ cas)" '"rsa-issuing"'
jok "find" find --cn json1.example.com
expect_eq "find: three certificates" "$(jq_ "#certificates")" 3

section "revoke, unhold, crl; errors in JSON"
jok "revoke" revoke "$SERIAL" --reason keyCompromise
expect_eq "revoke: serial" "$(hex_upper "$(jq_ serial)")" "$(hex_upper "$SERIAL")"
expect_eq "revoke: status" "$(jq_ status)" revoked
jerror "revoke again" ALREADY_REVOKED revoke "$SERIAL" --reason keyCompromise
jok "revoke --reason certificateHold" revoke "$SERIAL2" --reason certificateHold
jok "unhold" unhold "$SERIAL2"
expect_eq "unhold: status" "$(jq_ status)" good
jok "crl" crl rsa-issuing
[ -n "$(jq_ bodyBase64)" ] || fail "crl: no bodyBase64 (DER)"
jq_ bodyBase64 | base64 -d >"$J/crl.der"
check "crl: openssl crl reads the DER" openssl crl -inform DER -in "$J/crl.der" -noout
jok "crl --format pem --out" crl rsa-issuing --format pem --out "$J/crl.pem"
expect_eq "crl --out: written" "$(jq_ written.0.path)" "$J/crl.pem"
printf '%s\n' "$SERIAL2" >"$J/serials.txt"
jok "revoke --serials-file --dry-run" revoke --serials-file "$J/serials.txt" --reason superseded --dry-run
expect_eq "revoke --serials-file --dry-run: dryRun, selected" "$(jq_ dryRun) $(jq_ selected)" "true 1"
jok "revoke --serials-file" revoke --serials-file "$J/serials.txt" --reason superseded
expect_eq "revoke --serials-file: revoked" "$(jq_ revoked)" 1
expect_eq "revoke --serials-file: one result" "$(jq_ '#results')" 1
jok "revoke --select --dry-run" revoke --select --cn nothing-matches.example.com --reason superseded --dry-run
expect_eq "revoke --select --dry-run: selected" "$(jq_ selected)" 0

section "keygen, selfsigned, regenerate: no private key in the JSON"
jok "keygen" keygen --profile tomcat --cn kg.example.com --out-dir "$J"
expect_eq "keygen: serial = openssl's" "$(hex_upper "$(jq_ certificate.serial)")" \
  "$(hex_upper "$(serial_of "$J/kg.example.com.pem")")"
expect_eq "keygen: no privateKey" "$(jq_ privateKey)" ""
expect_eq "keygen: written key, then certificate" "$(jq_ written.0.path) $(jq_ written.1.path)" \
  "$J/kg.example.com.key $J/kg.example.com.pem"
expect_eq "keygen: the key file is 0600" "$(stat -c %a "$J/kg.example.com.key")" 600
jok "keygen --count 2" keygen --profile tomcat --cn 'kg{n}.example.com' --count 2 --out-dir "$J"
expect_eq "keygen --count 2: two items" "$(jq_ '#items')" 2
expect_eq "keygen --count 2: four files" "$(jq_ '#written')" 4
expect_not_contains "keygen --count: no key in the JSON" "$JOUT" privateKey
jok "revoke --select" revoke --select --cn kg1.example.com --reason superseded
expect_eq "revoke --select: revoked, selected" "$(jq_ revoked) $(jq_ selected)" "1 1"
jok "selfsigned" selfsigned --profile tomcat --cn ss.example.com --out-dir "$J/ss"
SS_SERIAL="$(jq_ certificate.serial)"
expect_eq "selfsigned: serial = openssl's" "$(hex_upper "$SS_SERIAL")" \
  "$(hex_upper "$(serial_of "$J/ss/ss.example.com.pem")")"
expect_not_contains "selfsigned: no key in the JSON" "$JOUT" privateKey
jok "regenerate" regenerate "$SS_SERIAL" --out-dir "$J/ss2"
expect_eq "regenerate: serial = openssl's" "$(hex_upper "$(jq_ certificate.serial)")" \
  "$(hex_upper "$(serial_of "$J/ss2/ss.example.com.pem")")"
expect_eq "regenerate: written" "$(jq_ '#written')" 2

section "trust"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$J/ext-ca.key" \
  -subj "/CN=JSON External CA" -days 365 -addext basicConstraints=critical,CA:TRUE \
  -addext keyUsage=critical,keyCertSign,cRLSign -out "$J/ext-ca.pem" 2>/dev/null
jok "trust add" trust add tomcat-trust "$J/ext-ca.pem" --description "json test"
FP="$(jq_ results.0.fingerprint)"
expect_eq "trust add: fingerprint = SHA-256 of the DER" "$FP" \
  "$(openssl x509 -in "$J/ext-ca.pem" -outform DER | sha256sum | cut -d' ' -f1)"
jok "trust list" trust list tomcat-trust
expect_contains "trust list: the entry" "$(jq_ entries)" "$FP"
jok "trust get" trust get tomcat-trust "$FP" --out "$J/trust-get.pem"
expect_eq "trust get: written" "$(jq_ written.0.path)" "$J/trust-get.pem"

section "identity"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$J/node.key" \
  -subj "/CN=cucm-json.example.com" -out "$J/node.csr" 2>/dev/null
openssl x509 -req -in "$J/node.csr" -CA "$J/ext-ca.pem" -CAkey "$J/ext-ca.key" -days 90 \
  -extfile <(printf 'keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=DNS:cucm-json.example.com\n') \
  -out "$J/node.pem" 2>/dev/null
cat "$J/node.pem" "$J/ext-ca.pem" >"$J/node-chain.pem"
jok "identity add" identity add --node cucm-json.example.com --purpose tomcat "$J/node-chain.pem"
ID="$(jq_ identity.id)"
[ -n "$ID" ] || fail "identity add: no identity.id in $JOUT"
pass "identity add: identity.id $ID"
jok "identity list" identity list --node cucm-json.example.com
expect_eq "identity list: one" "$(jq_ '#identities')" 1
jok "identity get" identity get "$ID"
expect_contains "identity get: the PEM" "$(jq_ body)" "-----BEGIN CERTIFICATE-----"
jok "identity replace" identity replace "$ID" "$J/node-chain.pem" --description again
jok "identity remove" identity remove "$ID"
expect_eq "identity remove: removed" "$(jq_ removed)" "$ID"
jok "trust delete" trust delete tomcat-trust "$FP"
expect_eq "trust delete: deleted" "$(jq_ deleted)" "$FP"

section "node"
jok "node add" node add --cluster jsonc --fqdn pub.jsonc.example.com --product CUCM --role publisher
expect_eq "node add: fqdn" "$(jq_ fqdn)" pub.jsonc.example.com
jok "node add (a subscriber)" node add --cluster jsonc --fqdn sub.jsonc.example.com --product CUCM --role subscriber
jok "node list" node list --cluster jsonc
expect_eq "node list: two" "$(jq_ '#nodes')" 2
jok "node multi-server" node multi-server --cluster jsonc --profile tomcat --product CUCM --out-dir "$J/ms"
expect_not_contains "node multi-server: no key in the JSON" "$JOUT" privateKey
expect_eq "node multi-server: serial = openssl's" "$(hex_upper "$(jq_ certificate.serial)")" \
  "$(hex_upper "$(serial_of "$(jq_ written.1.path)")")"
jok "node delete" node delete pub.jsonc.example.com --cluster jsonc

section "bulk"
jok "bulk export" bulk export --dir "$J/bundles" --cluster jsonc --type tomcat
[ -s "$(jq_ written.0.path)" ] || fail "bulk export: $(jq_ written.0.path) was not written"
pass "bulk export: written $(jq_ written.0.path)"
jok "bulk export --issued" bulk export --issued --dir "$J/issued"
[ "$(jq_ '#written')" -ge 1 ] || fail "bulk export --issued: nothing written"
pass "bulk export --issued: $(jq_ '#written') file(s) written"
jerror "bulk consolidate of one cluster" BUNDLES_TOO_FEW bulk consolidate --dir "$J/bundles"
jok "bulk import --issued" bulk import --issued --dir "$J/issued"

section "monitor"
jok "monitor show" monitor show
expect_eq "monitor show: the MonitorConfig's frequency" "$(jq_ frequency)" \
  "$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1])).get("frequency", ""))' \
    <(curl -sS -H 'Accept: application/json' "$BASE/v1/monitor"))"
jok "monitor set" monitor set --enabled true --start-days 30
expect_eq "monitor set: enabled" "$(jq_ enabled)" true
expect_eq "monitor set: startDays" "$(jq_ startDays)" 30
jok "monitor expiring" monitor expiring --days 3650
[ "$(jq_ '#certificates')" -ge 1 ] || fail "monitor expiring: no certificates in $JOUT"
pass "monitor expiring: $(jq_ '#certificates') certificates"
jok "monitor check" monitor check

section "token, allowlist"
jok "token create" token create --role issuer --profiles all --name json-token
[ -n "$(jq_ text)" ] || fail "token create: no text"
pass "token create: the text answer under text"
jok "token list" token list
expect_contains "token list: json-token" "$(jq_ text)" json-token
TID="$(jq_ text | awk -F'\t' '$2 == "json-token" { print $1 }')"
jok "token revoke" token revoke "$TID"
jok "allowlist list" allowlist list
jerror "allowlist add that would lock this client out" CONFLICT allowlist add 192.0.2.0/24
jok "allowlist add" allowlist add 127.0.0.0/8
jok "allowlist list" allowlist list
expect_contains "allowlist list: the network" "$(jq_ text)" 127.0.0.0/8
jok "allowlist delete" allowlist delete 127.0.0.0/8

section "audit"
jok "audit" audit --action 'token.*' --limit 1000
expect_eq "audit: the token made and revoked above, newest first" \
  "$(jq_ events.0.action) $(jq_ events.1.action)" "token.revoke token.create"
JOUT="$("$PKICTL" --server "$BASE" audit --action token.create --json)"
expect_contains "audit --json after the command: the token's name" "$(jq_ events.0.detail)" json-token
jerror "audit with a bad time" AUDIT_TIME_INVALID audit --since yesterday

section "batch: pkictl --json batch is batch --json"
mkdir -p "$J/csrs" "$J/out"
make_csr "$J/csrs/b1.csr" rsa:2048 "/CN=b1.example.com"
rm -f "$J/csrs/b1.csr.key" "$J/csrs/b1.csr.log"
jok "batch" batch --profile tomcat --csr-dir "$J/csrs" --out-dir "$J/out"
expect_eq "batch: issued" "$(jq_ issued)" 1
split_pem "$J/out/b1.pem" "$J/b1-" >/dev/null
check "batch: openssl verifies the certificate written against its chain" \
  openssl verify -partial_chain -CAfile "$J/b1-2.pem" "$J/b1-1.pem"
JOUT="$("$PKICTL" --server "$BASE" batch --profile tomcat --csr-dir "$J/csrs" --out-dir "$J/out" --json)"
expect_eq "batch --json after the command (as before): already issued" "$(jq_ already_issued)" 1

section "errors"
jerror "issue with an unknown profile" PROFILE_UNKNOWN issue --profile no-such-profile --csr "$J/json1.csr"
jerror "issue of a missing file" PKICTL_FAILED issue --profile tomcat --csr "$J/missing.csr"
expect_contains "the local error's message names the file" "$(jq_ message)" missing.csr
jerror "an unknown flag" PKICTL_FAILED list --bogus
expect_eq "an unknown flag: exit 2" "$JRC" 2
jerror "get of an unknown serial" NOT_FOUND get 0123456789abcdef

interop_finish
