#!/usr/bin/env bash
# Interop: registered identities, certificates pki did not issue, against a
# real pkid and PostgreSQL. A throwaway external CA made with openssl signs
# the nodes' certificates; pki verifies their chains where it can, and
# find, the expiry monitor (a real webhook receiver), /metrics and bulk
# export cover them. README.md, "Registered identities"; invariant 8.
set -eu

. "$(dirname "$0")/lib.sh"

interop_start

fp_of() {
  openssl x509 -in "$1" -noout -fingerprint -sha256 | sed 's/^.*=//' |
    tr -d ':' | tr 'A-F' 'a-f'
}

# make_ca NAME CN [ISSUER]: a CA certificate $WORK/NAME.pem (key NAME.key),
# self-signed or signed by ISSUER's key.
make_ca() {
  local name="$1" cn="$2" issuer="${3:-}"
  printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n' \
    >"$WORK/$name.ext"
  openssl req -new -newkey rsa:2048 -nodes -keyout "$WORK/$name.key" \
    -subj "/O=Example Corp/CN=$cn" -out "$WORK/$name.csr" 2>/dev/null ||
    fail "openssl: no CSR for $name"
  if [ -z "$issuer" ]; then
    openssl x509 -req -in "$WORK/$name.csr" -signkey "$WORK/$name.key" \
      -days 3650 -extfile "$WORK/$name.ext" -out "$WORK/$name.pem" \
      2>/dev/null || fail "openssl: no $name"
  else
    openssl x509 -req -in "$WORK/$name.csr" -CA "$WORK/$issuer.pem" \
      -CAkey "$WORK/$issuer.key" -set_serial "$((SERIAL += 1))" \
      -days 3000 -extfile "$WORK/$name.ext" -out "$WORK/$name.pem" \
      2>/dev/null || fail "openssl: no $name"
  fi
}

# make_leaf NAME CN ISSUER DAYS: a tomcat-style server certificate.
make_leaf() {
  local name="$1" cn="$2" issuer="$3" days="$4"
  printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=DNS:%s\n' \
    "$cn" >"$WORK/$name.ext"
  openssl req -new -newkey rsa:2048 -nodes -keyout "$WORK/$name.key" \
    -subj "/O=Example Corp/CN=$cn" -out "$WORK/$name.csr" 2>/dev/null ||
    fail "openssl: no CSR for $name"
  openssl x509 -req -in "$WORK/$name.csr" -CA "$WORK/$issuer.pem" \
    -CAkey "$WORK/$issuer.key" -set_serial "$((SERIAL += 1))" \
    -days "$days" -extfile "$WORK/$name.ext" -out "$WORK/$name.pem" \
    2>/dev/null || fail "openssl: no $name"
}

SERIAL=4660
make_ca ext_root "Example Corp Root"
make_ca ext_issuing "Example Corp Issuing" ext_root
make_ca other_root "Unknown Vendor Root"
# A pki certificate for cucm1's tomcat first: the external one registered
# later, with a later notBefore, is the node's current certificate.
make_csr "$WORK/pki1.csr" rsa:2048 "/CN=cucm1.example.com"
http POST "$BASE/v1/sign?profile=tomcat&cluster=clusterA" "$WORK/pki1.chain" \
  --data-binary "@$WORK/pki1.csr"
expect_eq "pki issues cucm1 a tomcat certificate" "$HTTP_CODE" 200
split_pem "$WORK/pki1.chain" "$WORK/pki1.part" >/dev/null
PKI1="$(fp_of "$WORK/pki1.part1.pem")"
sleep 1
make_leaf cucm1 cucm1.example.com ext_issuing 20
make_leaf cucm2 cucm2.example.com other_root 200
make_leaf cucm1_new cucm1.example.com ext_issuing 400
cat "$WORK/cucm1.pem" "$WORK/ext_issuing.pem" >"$WORK/cucm1.chain.pem"
openssl crl2pkcs7 -nocrl -certfile "$WORK/cucm1_new.pem" \
  -certfile "$WORK/ext_issuing.pem" -outform DER -out "$WORK/cucm1_new.p7b" ||
  fail "openssl crl2pkcs7"
openssl x509 -in "$WORK/cucm2.pem" -outform der -out "$WORK/cucm2.der"
CUCM1="$(fp_of "$WORK/cucm1.pem")"
CUCM1_NEW="$(fp_of "$WORK/cucm1_new.pem")"
CUCM2="$(fp_of "$WORK/cucm2.pem")"

section "register: chain verified against tomcat-trust, or unverified"
pkictl_run "$BASE" trust add tomcat-trust "$WORK/ext_root.pem" \
  --description "Example Corp root"
expect_eq "the external root is in tomcat-trust" "$PKICTL_RC" 0
pkictl_run "$BASE" identity add --node CUCM1.example.com --purpose TOMCAT \
  --cluster clusterA --description "publisher" "$WORK/cucm1.chain.pem"
expect_eq "pkictl identity add (PEM leaf and chain): exit status" "$PKICTL_RC" 0
expect_contains "it is verified" "$PKICTL_OUT" " verified "
expect_contains "up to the root in tomcat-trust" "$PKICTL_OUT" \
  "chains to /O=Example Corp/CN=Example Corp Root"
pkictl_run "$BASE" identity add --node cucm2.example.com --purpose tomcat \
  --cluster clusterA "$WORK/cucm2.der"
expect_eq "pkictl identity add (DER leaf alone): exit status" "$PKICTL_RC" 0
expect_contains "an unknown issuer: unverified" "$PKICTL_OUT" "unverified"
expect_contains "and why" "$PKICTL_OUT" "unable to get local issuer certificate"

ROWS="$(curl -sS "$BASE/v1/identities?format=text")"
expect_eq "the text listing: a header and two identities" \
  "$(printf '%s\n' "$ROWS" | wc -l | tr -d ' ')" 3
row_of() {
  printf '%s\n' "$ROWS" | awk -F'\t' -v fp="$1" '$7 == fp'
}
expect_eq "cucm1: node in lower case, canonical purpose, cluster, verdict" \
  "$(row_of "$CUCM1" | awk -F'\t' '{ print $2 "," $3 "," $4 "," $6 "," $11 }')" \
  "clusterA,cucm1.example.com,tomcat,verified,publisher"
expect_eq "cucm2: unverified" \
  "$(row_of "$CUCM2" | awk -F'\t' '{ print $3 "," $6 }')" \
  "cucm2.example.com,unverified"
expect_eq "the issuer is recorded" \
  "$(row_of "$CUCM1" | awk -F'\t' '{ print $9 }')" \
  "CN=Example Corp Issuing,O=Example Corp"
ID1="$(row_of "$CUCM1" | cut -f1)"
ID2="$(row_of "$CUCM2" | cut -f1)"
expect_eq "serial, validity, key type recorded in PostgreSQL" \
  "$(sql "SELECT ltrim(serial, '0') = ltrim(lower('$(openssl x509 -in "$WORK/cucm1.pem" -noout -serial | sed 's/^serial=//')'), '0'), key_type, key_bits, not_after = to_timestamp($(date -d "$(openssl x509 -in "$WORK/cucm1.pem" -noout -enddate | sed 's/^notAfter=//')" +%s)), encode(fingerprint, 'hex') FROM identities WHERE id = $ID1")" \
  "t|RSA|2048|t|$CUCM1"
http GET "$BASE/v1/identities/$ID1?format=pem" "$WORK/got1.pem"
expect_eq "GET ?format=pem: the leaf, then its chain" \
  "$(count_pem_certs "$WORK/got1.pem"),$(fp_of "$WORK/got1.pem")" "2,$CUCM1"
pkictl_run "$BASE" identity list --node cucm1.example.com
expect_contains "pkictl identity list --node" "$PKICTL_OUT" "$CUCM1"
expect_not_contains "only that node" "$PKICTL_OUT" "$CUCM2"

section "refusals"
pkictl_run "$BASE" identity add --node cucm1.example.com --purpose tomcat \
  --cluster clusterA "$WORK/cucm1.pem"
expect_eq "a second registration of a node's purpose: exit status 1" "$PKICTL_RC" 1
expect_contains "its code" "$PKICTL_OUT" IDENTITY_EXISTS
pkictl_run "$BASE" identity add --node cucm3 --purpose web "$WORK/cucm1.pem"
expect_contains "an unknown purpose" "$PKICTL_OUT" PARAMETER_INVALID
pkictl_run "$BASE" identity add --node "cucm 3" --purpose tomcat "$WORK/cucm1.pem"
expect_contains "a node name with a space" "$PKICTL_OUT" PARAMETER_INVALID
cat "$WORK/cucm1.pem" "$WORK/cucm2.pem" >"$WORK/two_leaves.pem"
pkictl_run "$BASE" identity add --node cucm3 --purpose tomcat "$WORK/two_leaves.pem"
expect_contains "two unrelated leaves" "$PKICTL_OUT" CERTIFICATE_MALFORMED
printf 'not a certificate\n' >"$WORK/garbage"
pkictl_run "$BASE" identity add --node cucm3 --purpose tomcat "$WORK/garbage"
expect_contains "garbage" "$PKICTL_OUT" CERTIFICATE_MALFORMED
pkictl_run "$BASE" identity add --node cucm3 --purpose tomcat \
  --description "$(printf 'a\tb')" "$WORK/cucm1.pem"
expect_contains "a description with a tab" "$PKICTL_OUT" PARAMETER_INVALID
pkictl_run "$BASE" identity replace "$ID2" "$WORK/cucm1_new.p7b" --node other
expect_contains "a replacement naming another node" "$PKICTL_OUT" PARAMETER_INVALID
http POST "$BASE/v1/identities" "$WORK/pem.out" \
  -H 'Content-Type: application/x-pem-file' --data-binary "@$WORK/cucm1.pem"
expect_eq "a body that is not protobuf: 415" "$HTTP_CODE" 415
expect_refusal "an unknown identity" 404 NOT_FOUND GET "$BASE/v1/identities/999999"
expect_refusal "a malformed id" 404 NOT_FOUND GET "$BASE/v1/identities/12abc"
expect_eq "refusals stored nothing" "$(sql "SELECT count(*) FROM identities")" 2

section "find, expiry monitor, metrics, bulk export"
FOUND="$(curl -sS "$BASE/v1/certificates?format=text&usage=external")"
expect_eq "find usage=external: the two registered identities" \
  "$(printf '%s\n' "$FOUND" | awk -F'\t' 'NR > 1 && !/^#/ { print $1 "," $3 "," $7 }' | sort | paste -sd' ' -)" \
  "external,tomcat,cucm1.example.com external,tomcat,cucm2.example.com"
expect_eq "find with no usage lists them among the others" \
  "$(curl -sS "$BASE/v1/certificates?format=text&cn=cucm1" | awk -F'\t' 'NR > 1 && !/^#/ { print $1 }' | sort | paste -sd, -)" \
  "external,identity"
expect_eq "usage=identity is pki's own only" \
  "$(curl -sS "$BASE/v1/certificates?format=text&usage=identity&cn=cucm" | awk -F'\t' 'NR > 1 && !/^#/ { print $1 }' | sort -u)" \
  "identity"
pkictl_run "$BASE" find --usage external --cn cucm2
expect_contains "pkictl find --usage external" "$PKICTL_OUT" "cucm2.example.com"
expect_contains "marked external" "$PKICTL_OUT" "external"

EXPIRING="$(curl -sS "$BASE/v1/monitor/expiring?days=30&format=text")"
expect_eq "the monitor: cucm1 (20 days) is expiring, marked external" \
  "$(printf '%s\n' "$EXPIRING" | awk -F'\t' '$7 == "cucm1.example.com" { print $1 "," $4 }' | sort -u | paste -sd' ' -)" \
  "external,tomcat"
expect_not_contains "cucm2 (200 days) is not" "$EXPIRING" "cucm2.example.com"

# /metrics serves the counts of the statistics snapshot: computed now.
curl -sSf -X POST "$BASE/v1/stats:refresh" >/dev/null
METRICS="$(curl -sS "$BASE/metrics")"
expect_contains "metrics: the registered identity expiring within 30 days" \
  "$METRICS" 'pki_external_certificates_expiring{within="30d"} 1'
expect_contains "metrics: counted in the overall gauge too" "$METRICS" \
  'pki_certificates_expiring{within="30d"}'

# The expiry monitor's notice, to a real webhook receiver.
cat >"$WORK/hook.py" <<'EOF'
import http.server, os, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with open(sys.argv[1], "ab") as f:
            f.write(body + b"\n")
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *args):
        pass
server = http.server.HTTPServer(("127.0.0.1", 0), H)
with open(sys.argv[2] + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(sys.argv[2] + ".tmp", sys.argv[2])
server.serve_forever()
EOF
rm -f "$WORK/hooks.out" "$WORK/hook.port"
python3 "$WORK/hook.py" "$WORK/hooks.out" "$WORK/hook.port" &
HOOK_PID=$!
for _ in $(seq 1 50); do [ -s "$WORK/hook.port" ] && break; sleep 0.1; done
[ -s "$WORK/hook.port" ] || fail "the webhook receiver did not start"
pkictl_run "$BASE" monitor set --enabled true --start-days 30 --frequency 1d \
  --webhook-allow-private "http://127.0.0.1:$(cat "$WORK/hook.port")/hook"
expect_eq "monitor set: exit status" "$PKICTL_RC" 0
pkictl_run "$BASE" monitor check
expect_eq "monitor check: exit status" "$PKICTL_RC" 0
kill "$HOOK_PID" 2>/dev/null || true
wait "$HOOK_PID" 2>/dev/null || true
expect_contains "the notice names cucm1 as external" \
  "$(cat "$WORK/hooks.out" 2>/dev/null)" \
  '{"kind":"external","serial":"'
expect_contains "with its common name" "$(cat "$WORK/hooks.out" 2>/dev/null)" \
  '"common_name":"cucm1.example.com"'
expect_eq "the notice is recorded once, as kind external" \
  "$(sql "SELECT count(*) FROM monitor_notices WHERE kind = 'external' AND cert_id = $ID1")" 1

http GET "$BASE/v1/bulk/export?cluster=clusterA&type=tomcat&format=p7b" "$WORK/export.p7b"
expect_eq "bulk export: HTTP status" "$HTTP_CODE" 200
openssl pkcs7 -inform der -in "$WORK/export.p7b" -print_certs -out "$WORK/export.pem"
N_EXPORTED="$(split_pem "$WORK/export.pem" "$WORK/exp.")"
EXPORTED="$(for i in $(seq 1 "$N_EXPORTED"); do fp_of "$WORK/exp.$i.pem"; done |
  sort | paste -sd, -)"
expect_eq "bulk export: the registered identities, not cucm1's older pki certificate" \
  "$EXPORTED" "$(printf '%s\n%s\n' "$CUCM1" "$CUCM2" | sort | paste -sd, -)"
pkictl_run "$BASE" bulk export --dir "$WORK/bundles" --cluster clusterA --type tomcat
expect_eq "pkictl bulk export: exit status" "$PKICTL_RC" 0
# The bundle read with a protobuf wire-format reader: each entry's node
# (BundleEntry field 2) and external flag (field 12).
cat >"$WORK/entries.py" <<'EOF'
import sys
def varint(b, i):
    v = s = 0
    while True:
        c = b[i]
        i += 1
        v |= (c & 0x7f) << s
        s += 7
        if c < 0x80:
            return v, i
def fields(b):
    i = 0
    while i < len(b):
        key, i = varint(b, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, i = varint(b, i)
        elif wt == 2:
            n, i = varint(b, i)
            v = b[i:i + n]
            i += n
        else:
            raise SystemExit("wire type %d" % wt)
        yield num, v
for num, entry in fields(open(sys.argv[1], "rb").read()):
    if num == 5:
        f = dict(fields(entry))
        print("%s,%s" % (f.get(2, b"").decode(), f.get(12, 0)))
EOF
expect_eq "the bundle names the nodes and marks the entries external" \
  "$(python3 "$WORK/entries.py" "$WORK/bundles/clusterA.bundle" | sort | paste -sd' ' -)" \
  "cucm1.example.com,1 cucm2.example.com,1"

section "replace and remove keep history in the audit log"
pkictl_run "$BASE" identity replace "$ID1" "$WORK/cucm1_new.p7b" \
  --description "publisher, renewed"
expect_eq "pkictl identity replace (PKCS#7 DER): exit status" "$PKICTL_RC" 0
expect_contains "it names the certificate replaced" "$PKICTL_OUT" "replaced $CUCM1"
expect_contains "the new one is verified" "$PKICTL_OUT" " verified "
expect_eq "the row holds the new certificate" \
  "$(sql "SELECT encode(fingerprint, 'hex') || ',' || node || ',' || description FROM identities WHERE id = $ID1")" \
  "$CUCM1_NEW,cucm1.example.com,publisher, renewed"
expect_eq "audit: who registered, old and new fingerprints" \
  "$(sql "SELECT count(*) FROM audit_log WHERE action = 'identity-add' AND object = 'identity:$ID1' AND actor <> '' AND detail LIKE 'clusterA/cucm1.example.com/tomcat old=- new=$CUCM1 verified%'")" 1
expect_eq "audit: the replacement, old and new fingerprints" \
  "$(sql "SELECT count(*) FROM audit_log WHERE action = 'identity-replace' AND object = 'identity:$ID1' AND actor <> '' AND detail LIKE '%old=$CUCM1 new=$CUCM1_NEW verified%'")" 1
expect_not_contains "the monitor no longer reports cucm1 (400 days now)" \
  "$(curl -sS "$BASE/v1/monitor/expiring?days=30&format=text")" "cucm1.example.com"
pkictl_run "$BASE" identity remove "$ID2"
expect_eq "pkictl identity remove: exit status" "$PKICTL_RC" 0
expect_eq "audit: the removal, with the fingerprint removed" \
  "$(sql "SELECT count(*) FROM audit_log WHERE action = 'identity-remove' AND object = 'identity:$ID2' AND detail LIKE '%old=$CUCM2 new=- removed'")" 1
expect_refusal "removing it again" 404 NOT_FOUND DELETE "$BASE/v1/identities/$ID2"
expect_eq "find no longer lists it" \
  "$(curl -sS "$BASE/v1/certificates?format=text&usage=external" | awk -F'\t' 'NR > 1 && !/^#/ { print $7 }')" \
  "cucm1.example.com"

interop_finish
