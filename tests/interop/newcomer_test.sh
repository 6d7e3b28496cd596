#!/usr/bin/env bash
# Interop: what a new user met on a fresh machine, each point against a real
# pkid and PostgreSQL with independent tools.
#   - CSRs as people paste them: openssl req -text output (text before the
#     PEM block), a UTF-8 byte order mark; two requests in one input are
#     refused as CSR_MULTIPLE (curl, pkictl).
#   - Strict DER: a request signed by openssl whose extension says critical
#     FALSE (a DEFAULT value encoded) is refused, the same request without it
#     is signed (python builds the DER, openssl signs it).
#   - /metrics parses with the Prometheus text parser (python3
#     prometheus_client) with every family in one group.
#   - GET /v1/certificates/{serial}?format=info answers the CertificateInfo.
#   - --ca-country and --ca-issuers-url, read with openssl x509 -text and
#     certtool.
#   - pkictl csr --key reuses keys openssl and certtool made; :regenerate
#     changes the key type and size.
set -eu

. "$(dirname "$0")/lib.sh"

# The Debian interpreter, which has the Debian python3-prometheus-client.
PY=/usr/bin/python3
[ -x "$PY" ] || fail "$PY is not installed"

CAI='http://pki.example.com/v1/ca/{ca}/chain?format=der'
interop_start --ca-country US --ca-issuers-url "$CAI"
SIGN="$BASE/v1/sign"
C="$WORK"

section "--ca-country and --ca-issuers-url"
http GET "$BASE/v1/ca/rsa-root/chain" "$C/root.pem"
http GET "$BASE/v1/ca/rsa-issuing/chain?format=der" "$C/issuing.der"
openssl x509 -inform der -in "$C/issuing.der" -out "$C/issuing.pem"
expect_eq "root subject carries C=US" "$(subject_of "$C/root.pem")" \
  "CN=pki RSA Root CA,O=pki,C=US"
expect_eq "issuing CA subject carries C=US" "$(subject_of "$C/issuing.pem")" \
  "CN=pki RSA Issuing CA,O=pki,C=US"
expect_contains "certtool reads the country of the root" \
  "$(certtool -i --infile "$C/root.pem")" "C=US"
make_csr "$C/leaf.csr" rsa:2048 "/CN=leaf.uc.example.com/O=Acme"
http POST "$SIGN?profile=tomcat" "$C/leaf-chain.pem" --data-binary "@$C/leaf.csr"
expect_eq "tomcat CSR signed" "$HTTP_CODE" 200
openssl x509 -in "$C/leaf-chain.pem" -out "$C/leaf.pem"
aia="$(openssl x509 -in "$C/leaf.pem" -noout -text |
  awk '/Authority Information Access:/ { f = 1; next }
       f && /^ +[A-Z].* - URI:/ { sub(/^ +/, ""); print; next }
       f { exit }')"
expect_eq "AIA: OCSP first, then caIssuers with {ca} replaced" "$aia" \
  "OCSP - URI:$OCSP_URL/
CA Issuers - URI:http://pki.example.com/v1/ca/rsa-issuing/chain?format=der"
expect_contains "certtool reads the caIssuers access method" \
  "$(certtool -i --infile "$C/leaf.pem")" "Access Method: 1.3.6.1.5.5.7.48.2 (id-ad-caIssuers)"
check "the leaf verifies under the C=US root" \
  openssl verify -x509_strict -CAfile "$C/root.pem" -untrusted "$C/issuing.pem" "$C/leaf.pem"
for bad in us USA U1 ""; do
  rc=0
  "$PKID" --ca-country "$bad" --database "$DB_URL" >"$C/bad-flag.log" 2>&1 || rc=$?
  [ "$rc" -ne 0 ] || fail "pkid accepted --ca-country [$bad]"
  expect_contains "pkid refuses --ca-country [$bad]" "$(cat "$C/bad-flag.log")" "--ca-country"
done
for bad in "https://pki.example.com/ca.der" "ftp://x/y" "http://a b/"; do
  rc=0
  "$PKID" --ca-issuers-url "$bad" --database "$DB_URL" >"$C/bad-flag.log" 2>&1 || rc=$?
  [ "$rc" -ne 0 ] || fail "pkid accepted --ca-issuers-url [$bad]"
  expect_contains "pkid refuses --ca-issuers-url [$bad]" "$(cat "$C/bad-flag.log")" "--ca-issuers-url"
done

section "CSRs as people paste them"
make_csr "$C/a.csr" rsa:2048 "/CN=a.uc.example.com/O=Acme"
openssl req -in "$C/a.csr" -text -out "$C/a-text.csr"
expect_contains "test setup: openssl req -text writes text before the block" \
  "$(head -1 "$C/a-text.csr")" "Certificate Request:"
http POST "$SIGN?profile=tomcat" "$C/a-text.out" --data-binary "@$C/a-text.csr"
expect_eq "openssl req -text output is signed" "$HTTP_CODE" 200
{ printf '\357\273\277'; cat "$C/a.csr"; } >"$C/a-bom.csr"
http POST "$SIGN?profile=tomcat" "$C/a-bom.out" --data-binary "@$C/a-bom.csr"
expect_eq "a CSR after a UTF-8 BOM is signed" "$HTTP_CODE" 200
pkictl_run "$BASE" issue --profile tomcat --csr "$C/a-text.csr" --out "$C/a-pkictl.pem"
expect_eq "pkictl issue takes the openssl req -text file ($PKICTL_OUT)" "$PKICTL_RC" 0
make_csr "$C/b.csr" rsa:2048 "/CN=b.uc.example.com/O=Acme"
cat "$C/a.csr" "$C/b.csr" >"$C/two.csr"
ROWS_BEFORE="$(sql "SELECT count(*) FROM certificates")"
expect_refusal "two PEM CSRs in one body" 400 CSR_MULTIPLE POST "$SIGN?profile=tomcat" \
  --data-binary "@$C/two.csr"
openssl req -in "$C/a.csr" -outform der -out "$C/a.der"
openssl req -in "$C/b.csr" -outform der -out "$C/b.der"
cat "$C/a.der" "$C/b.der" >"$C/two.der"
expect_refusal "two DER CSRs in one body" 400 CSR_MULTIPLE POST "$SIGN?profile=tomcat" \
  --data-binary "@$C/two.der"
pkictl_run "$BASE" issue --profile tomcat --csr "$C/two.csr" --out "$C/two.pem"
[ "$PKICTL_RC" -ne 0 ] || fail "pkictl issue took a file of two CSRs"
expect_contains "pkictl issue names the code" "$PKICTL_OUT" CSR_MULTIPLE
expect_eq "nothing recorded for the refused inputs" \
  "$(sql "SELECT count(*) FROM certificates")" "$ROWS_BEFORE"

section "strict DER: an encoded critical FALSE"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$C/der.key" 2>/dev/null
openssl pkey -in "$C/der.key" -pubout -outform der -out "$C/der.spki"
# make_req FALSE|NONE OUT: a request for der.uc.example.com whose SAN
# extension has critical FALSE written out, or left out (DER).
make_req() {
  "$PY" - "$C/der.spki" "$1" "$C/$2.cri" <<'PYEOF'
import sys
def tlv(tag, body):
    n = len(body)
    if n < 0x80:
        head = bytes([n])
    else:
        b = n.to_bytes((n.bit_length() + 7) // 8, "big")
        head = bytes([0x80 | len(b)]) + b
    return bytes([tag]) + head + body
seq = lambda *p: tlv(0x30, b"".join(p))
name = b"der.uc.example.com"
cn = seq(tlv(0x31, seq(tlv(0x06, bytes([0x55, 4, 3])), tlv(0x0c, name))))
san = tlv(0x04, seq(tlv(0x82, name)))
crit = tlv(0x01, b"\x00") if sys.argv[2] == "FALSE" else b""
ext = seq(tlv(0x06, bytes([0x55, 0x1d, 0x11])), crit, san)
ext_req = seq(tlv(0x06, bytes.fromhex("2a864886f70d01090e")), tlv(0x31, seq(ext)))
spki = open(sys.argv[1], "rb").read()
cri = seq(tlv(0x02, b"\x00"), cn, spki, tlv(0xa0, ext_req))
open(sys.argv[3], "wb").write(cri)
PYEOF
  openssl dgst -sha256 -sign "$C/der.key" -out "$C/$2.sig" "$C/$2.cri"
  "$PY" - "$C/$2.cri" "$C/$2.sig" "$C/$2.der" <<'PYEOF'
import sys
def tlv(tag, body):
    n = len(body)
    head = bytes([n]) if n < 0x80 else (lambda b: bytes([0x80 | len(b)]) + b)(n.to_bytes((n.bit_length() + 7) // 8, "big"))
    return bytes([tag]) + head + body
cri = open(sys.argv[1], "rb").read()
sig = open(sys.argv[2], "rb").read()
alg = tlv(0x30, tlv(0x06, bytes.fromhex("2a864886f70d01010b")) + b"\x05\x00")
open(sys.argv[3], "wb").write(tlv(0x30, cri + alg + tlv(0x03, b"\x00" + sig)))
PYEOF
}
make_req FALSE explicit-false
make_req NONE plain
expect_contains "test setup: openssl accepts the critical FALSE request's signature" \
  "$(openssl req -inform der -in "$C/explicit-false.der" -noout -verify 2>&1)" "verify OK"
expect_contains "test setup: openssl reads its SAN" \
  "$(openssl req -inform der -in "$C/explicit-false.der" -noout -text)" "DNS:der.uc.example.com"
expect_refusal "critical FALSE written out (a DEFAULT value): not DER" 400 CSR_MALFORMED \
  POST "$SIGN?profile=tomcat" --data-binary "@$C/explicit-false.der"
expect_contains "the message says why" "$(cat "$WORK/refusal.body")" "critical FALSE"
http POST "$SIGN?profile=tomcat" "$C/plain.out" --data-binary "@$C/plain.der"
expect_eq "the same request in DER is signed" "$HTTP_CODE" 200

section "/metrics: one group per family (Prometheus text parser)"
http GET "$BASE/metrics" "$C/metrics.txt"
expect_eq "GET /metrics" "$HTTP_CODE" 200
check "prometheus_client parses /metrics, every family once, none untyped" \
  "$PY" - "$C/metrics.txt" <<'PYEOF'
import sys
from prometheus_client.parser import text_string_to_metric_families
text = open(sys.argv[1]).read()
seen = {}
for fam in text_string_to_metric_families(text):
    # A family split by another one comes back twice, its later samples
    # under no # TYPE ("unknown").
    if fam.name in seen:
        sys.exit("family %s appears twice" % fam.name)
    if fam.type == "unknown":
        sys.exit("samples %s outside their family" % [s.name for s in fam.samples])
    seen[fam.name] = fam
refusals = seen.get("pki_refusals")
if refusals is None:
    sys.exit("no pki_refusals_total family")
codes = {s.labels.get("code") for s in refusals.samples}
if "CSR_MULTIPLE" not in codes or "CSR_MALFORMED" not in codes:
    sys.exit("refusals by code lack CSR_MULTIPLE or CSR_MALFORMED: %s" % codes)
print(len(seen), "families")
PYEOF
# The raw text too: between a family's # TYPE and its last sample, no line
# of another family.
check "every sample follows the # TYPE of its family, with no other between" \
  awk '/^# TYPE / { fam = $3; if (fam in done) exit 1; done[fam] = 1; next }
       /^#/ { next }
       { n = $1; sub(/[{ ].*/, "", n)
         if (n != fam && n != fam "_total" && index(n, fam "_") != 1) exit 1 }' \
  "$C/metrics.txt"

section "GET /v1/certificates/{serial}?format=info"
SERIAL="$(serial_of "$C/leaf.pem" | tr A-F a-f)"
http GET "$BASE/v1/certificates/$SERIAL?format=info" "$C/info.pb"
expect_eq "format=info: HTTP 200" "$HTTP_CODE" 200
expect_eq "format=info: a protobuf body" "$HTTP_TYPE" "application/x-protobuf"
# CertificateInfo (proto/pki.proto), read from the wire format: the string
# fields by number.
info="$("$PY" - "$C/info.pb" <<'PYEOF'
import sys
data = open(sys.argv[1], "rb").read()
def varint(i):
    v = s = 0
    while True:
        b = data[i]; i += 1
        v |= (b & 0x7f) << s; s += 7
        if not b & 0x80:
            return v, i
fields, i = {}, 0
while i < len(data):
    key, i = varint(i)
    num, wire = key >> 3, key & 7
    if wire == 0:
        v, i = varint(i)
    elif wire == 2:
        n, i = varint(i); v = data[i:i + n].decode(); i += n
    else:
        sys.exit("unexpected wire type %d" % wire)
    fields.setdefault(num, v)
# serial, issuer, profile, common_name, status, key_type, usage, key_bits
print(" ".join(str(fields.get(n, "")) for n in (1, 2, 3, 5, 9, 12, 17, 13)))
PYEOF
)"
expect_eq "format=info: the certificate's fields" "$info" \
  "$SERIAL rsa-issuing tomcat leaf.uc.example.com good RSA identity 2048"
expect_refusal "format=info of an unknown serial" 404 NOT_FOUND GET \
  "$BASE/v1/certificates/0123456789abcdef?format=info"
expect_refusal "another unknown format still refused" 400 FORMAT_UNKNOWN GET \
  "$BASE/v1/certificates/$SERIAL?format=infos"

section "pkictl csr --key: keys made by openssl and certtool"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$C/k-pkcs8.key" 2>/dev/null
openssl genrsa -traditional -out "$C/k-pkcs1.key" 2048 2>/dev/null
openssl ecparam -name prime256v1 -genkey -out "$C/k-sec1.key"
certtool --generate-privkey --key-type=ecdsa --curve=secp384r1 --outfile "$C/k-certtool-ec.key" 2>/dev/null
certtool --generate-privkey --key-type=rsa --bits=3072 --outfile "$C/k-certtool-rsa.key" 2>/dev/null
expect_contains "test setup: genrsa -traditional writes PKCS#1" "$(head -1 "$C/k-pkcs1.key")" "RSA PRIVATE KEY"
expect_contains "test setup: ecparam -genkey writes parameters, then SEC 1" "$(cat "$C/k-sec1.key")" "EC PRIVATE KEY"
for spec in pkcs8:tomcat pkcs1:CallManager sec1:tomcat-ECDSA certtool-ec:tomcat-ECDSA certtool-rsa:tomcat; do
  k="${spec%%:*}" profile="${spec#*:}"
  pkictl_run "$BASE" csr --profile "$profile" --cn "$k.uc.example.com" --key "$C/k-$k.key" \
    --out "$C/k-$k.csr"
  expect_eq "pkictl csr --key ($k key, $profile) exits 0 ($PKICTL_OUT)" "$PKICTL_RC" 0
  check "$k: the CSR holds that key" \
    cmp -s <(openssl pkey -in "$C/k-$k.key" -pubout) <(openssl req -in "$C/k-$k.csr" -noout -pubkey)
  check "$k: openssl req -verify" openssl req -in "$C/k-$k.csr" -noout -verify
  pkictl_run "$BASE" issue --profile "$profile" --csr "$C/k-$k.csr" --out "$C/k-$k.pem"
  expect_eq "$k: pki signs it ($PKICTL_OUT)" "$PKICTL_RC" 0
  check "$k: the certificate holds that key" \
    cmp -s <(openssl pkey -in "$C/k-$k.key" -pubout) <(openssl x509 -in "$C/k-$k.pem" -noout -pubkey)
done
pkictl_run "$BASE" csr --profile tomcat --cn x.uc.example.com --key "$C/k-sec1.key" --out "$C/x.csr"
expect_eq "an EC key for tomcat (RSA): refused before any CSR" "$PKICTL_RC" 2
expect_contains "  and says why" "$PKICTL_OUT" "k-sec1.key"
[ ! -e "$C/x.csr" ] || fail "a CSR was written for a refused key"
pass "no CSR written for a refused key"
openssl pkey -in "$C/k-pkcs8.key" -aes256 -passout pass:secret -out "$C/k-enc.key"
pkictl_run "$BASE" csr --profile tomcat --cn x.uc.example.com --key "$C/k-enc.key" --out "$C/x.csr"
[ "$PKICTL_RC" -ne 0 ] || fail "pkictl csr used an encrypted key"
expect_contains "an encrypted key is refused with what to do" "$PKICTL_OUT" "decrypt"
pkictl_run "$BASE" csr --profile tomcat --cn x.uc.example.com --key "$C/k-pkcs8.key" \
  --key-out "$C/x.key" --out "$C/x.csr"
expect_eq "--key with --key-out: a usage error" "$PKICTL_RC" 2

section ":regenerate may change the key type and size"
pkictl_run "$BASE" selfsigned --profile tomcat --cn regen.uc.example.com --out-dir "$C/ids"
expect_eq "selfsigned tomcat (RSA-2048) exits 0 ($PKICTL_OUT)" "$PKICTL_RC" 0
OLD="$(serial_of "$C/ids/regen.uc.example.com.pem")"
expect_contains "the first key is RSA-2048" \
  "$(openssl x509 -in "$C/ids/regen.uc.example.com.pem" -noout -text)" "(2048 bit)"
pkictl_run "$BASE" regenerate "$OLD" --key-type EC-P256 --out-dir "$C/ids-ec"
[ "$PKICTL_RC" -ne 0 ] || fail "regenerate gave a tomcat (RSA) identity an EC key"
expect_contains "an EC key for tomcat is refused" "$PKICTL_OUT" KEY_TYPE_MISMATCH
pkictl_run "$BASE" regenerate "$OLD" --key-type RSA-3072 --out-dir "$C/ids-3072"
expect_eq "regenerate --key-type RSA-3072 exits 0 ($PKICTL_OUT)" "$PKICTL_RC" 0
NEW_PEM="$C/ids-3072/regen.uc.example.com.pem"
expect_contains "the new certificate has a 3072-bit key" \
  "$(openssl x509 -in "$NEW_PEM" -noout -text)" "(3072 bit)"
check "the new key file belongs to it" \
  cmp -s <(openssl pkey -in "$C/ids-3072/regen.uc.example.com.key" -pubout) \
  <(openssl x509 -in "$NEW_PEM" -noout -pubkey)
check "certtool verifies it as its own anchor" \
  certtool --verify --load-ca-certificate "$NEW_PEM" --infile "$NEW_PEM"
NEW="$(serial_of "$NEW_PEM")"
expect_eq "the database records RSA 3072 for it" \
  "$(sql "SELECT key_type || ' ' || key_bits FROM certificates WHERE lower(serial) = lower('$NEW')")" "RSA 3072"
pkictl_run "$BASE" regenerate "$NEW" --out-dir "$C/ids-again"
expect_eq "regenerate without --key-type exits 0 ($PKICTL_OUT)" "$PKICTL_RC" 0
expect_contains "  keeps the type and size of the key it replaces" \
  "$(openssl x509 -in "$C/ids-again/regen.uc.example.com.pem" -noout -text)" "(3072 bit)"

interop_finish
