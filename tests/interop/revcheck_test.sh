#!/usr/bin/env bash
# Revocation checking of trusted certificates (README.md, "Revocation
# checking of trusted certificates"): uploads to trust stores are checked
# against `openssl ocsp -index` as an independent responder (good, revoked,
# unknown, a response signed by an unauthorized key, a replayed response
# whose nonce is not the one sent), against a CRL served over HTTP by
# `python3 -m http.server`, and against a responder that is not there; the
# per-store policy, the listings, pkictl and /metrics show the result.
# Registered identities are checked too (at registration, never refused, and
# on schedule): listings, find --revocation, /metrics, the expiry monitor.
set -eu
. "$(dirname "$0")/lib.sh"

command -v python3 >/dev/null 2>&1 || fail "python3 is not installed"

# free_ports N: N distinct free ports, one per line. The sockets are held
# until all are chosen: ports chosen one at a time could repeat, and then
# the wait for one server (a GET /) reached `openssl ocsp` on the same
# port, which exits at the first request it cannot read, and pkid found no
# responder there (HTTP 502).
free_ports() {
  python3 -c '
import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks:
    s.bind(("127.0.0.1", 0))
print("\n".join(str(s.getsockname()[1]) for s in socks))
' "$1"
}

{
  read -r OCSP_PORT    # openssl ocsp, a delegated responder
  read -r ROGUE_PORT   # openssl ocsp signing with a key of its own
  read -r REPLAY_PORT  # serves one recorded response to every POST
  read -r CRL_PORT     # python3 -m http.server: the CRL
  read -r DEAD_PORT    # nothing listens there
  read -r HOOK_PORT    # the expiry monitor's webhook receiver
} < <(free_ports 6)
[ -n "$HOOK_PORT" ] || fail "no free ports"

# The Common Criteria default everywhere, but: ipsec-trust accepts with a
# warning; TVS-trust and Phone-SAST-trust ask responders of their own.
interop_start --revcheck-interval 0 \
  --revcheck-policy ipsec-trust=warn \
  --revcheck-responder "TVS-trust=http://127.0.0.1:$ROGUE_PORT" \
  --revcheck-responder "Phone-SAST-trust=http://127.0.0.1:$REPLAY_PORT"

CA="$WORK/ca"
mkdir -p "$CA/new"
: >"$CA/index.txt"
printf '1000\n' >"$CA/serial"
printf '1000\n' >"$CA/crlnumber"
cat >"$CA/openssl.cnf" <<EOT
[ca]
default_ca = lab
[lab]
dir = $CA
database = $CA/index.txt
new_certs_dir = $CA/new
serial = $CA/serial
crlnumber = $CA/crlnumber
certificate = $CA/root.pem
private_key = $CA/root.key
default_md = sha256
default_crl_days = 7
policy = anything
unique_subject = no
[anything]
commonName = supplied
[root_ext]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[sub_both]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
authorityInfoAccess = OCSP;URI:http://127.0.0.1:$OCSP_PORT/
crlDistributionPoints = URI:http://127.0.0.1:$CRL_PORT/lab.crl
[sub_ocsp]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
authorityInfoAccess = OCSP;URI:http://127.0.0.1:$OCSP_PORT/
[sub_crl]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
crlDistributionPoints = URI:http://127.0.0.1:$CRL_PORT/lab.crl
[sub_none]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
[sub_dead]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
authorityInfoAccess = OCSP;URI:http://127.0.0.1:$DEAD_PORT/
crlDistributionPoints = URI:http://127.0.0.1:$DEAD_PORT/lab.crl
[leaf_ocsp]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth, clientAuth
authorityInfoAccess = OCSP;URI:http://127.0.0.1:$OCSP_PORT/
[responder]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = OCSPSigning
EOT

ossl() {
  openssl "$@" >"$WORK/openssl.log" 2>&1 || fail "openssl $1: $(cat "$WORK/openssl.log")"
}

ossl req -x509 -newkey rsa:2048 -nodes -keyout "$CA/root.key" -out "$CA/root.pem" \
  -subj "/CN=Lab Revocation Root" -days 3650 -config "$CA/openssl.cnf" \
  -extensions root_ext

# issue NAME EXTENSIONS: a certificate $CA/NAME.pem signed by the root.
issue() {
  ossl req -new -newkey rsa:2048 -nodes -keyout "$CA/$1.key" -out "$CA/$1.csr" \
    -subj "/CN=Lab $1"
  ossl ca -batch -config "$CA/openssl.cnf" -extensions "$2" -days 365 \
    -in "$CA/$1.csr" -out "$CA/$1.pem" -notext
}

issue good sub_both       # in the index, good: OCSP answers good
issue other sub_ocsp      # good too: asked of the untrustworthy responders
issue revoked sub_ocsp    # revoked in the index later
issue crlonly sub_crl     # no OCSP: the CRL decides
issue crlrevoked sub_crl  # revoked, and only the CRL says so
issue nowhere sub_none    # names no OCSP responder and no CRL
issue dead sub_dead       # names a responder and a CRL that are not there
issue responder responder # the delegated OCSP responder
issue idgood leaf_ocsp    # a node's identity, registered: good
issue idrevoked leaf_ocsp # a node's identity, registered: revoked
# A certificate the responder has never seen: not in the index.
ossl req -new -newkey rsa:2048 -nodes -keyout "$CA/stranger.key" \
  -out "$CA/stranger.csr" -subj "/CN=Lab stranger"
ossl x509 -req -in "$CA/stranger.csr" -CA "$CA/root.pem" -CAkey "$CA/root.key" \
  -set_serial 0x7777 -days 365 -extfile "$CA/openssl.cnf" -extensions sub_ocsp \
  -out "$CA/stranger.pem"

ossl ca -batch -config "$CA/openssl.cnf" -revoke "$CA/crlrevoked.pem" \
  -crl_reason keyCompromise
mkdir -p "$WORK/www"
ossl ca -batch -config "$CA/openssl.cnf" -gencrl -out "$WORK/lab.crl.pem"
ossl crl -in "$WORK/lab.crl.pem" -outform DER -out "$WORK/www/lab.crl"

PIDS=""
# The responders and the web server stop first; interop_cleanup then sees
# the test's exit status.
revcheck_cleanup() {
  local rc=$? p
  set +e
  for p in $PIDS; do
    kill "$p" 2>/dev/null
  done
  (exit "$rc")
  interop_cleanup
}
trap revcheck_cleanup EXIT

# wait_ocsp LOG: openssl ocsp is ready when it says so (it stops at the
# first request it cannot read, so it is not probed).
wait_ocsp() {
  local i=0
  until grep -q "waiting for OCSP client connections" "$1" 2>/dev/null; do
    i=$((i + 1))
    [ "$i" -le 100 ] || fail "openssl ocsp did not start: $(cat "$1")"
    sleep 0.1
  done
}

wait_port() {
  local i=0
  until curl -s -o /dev/null "http://127.0.0.1:$1/" 2>/dev/null; do
    i=$((i + 1))
    [ "$i" -le 100 ] || fail "nothing answers on port $1"
    sleep 0.1
  done
}

OCSPD_PID=""
start_ocsp() {
  openssl ocsp -index "$CA/index.txt" -port "$OCSP_PORT" \
    -rsigner "$CA/responder.pem" -rkey "$CA/responder.key" -CA "$CA/root.pem" \
    -nmin 60 >"$WORK/ocsp.log" 2>&1 &
  OCSPD_PID=$!
  PIDS="$PIDS $OCSPD_PID"
  wait_ocsp "$WORK/ocsp.log"
}
start_ocsp

# A responder that signs with a key the root never certified.
ossl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/rogue.key" \
  -out "$WORK/rogue.pem" -subj "/CN=Lab Rogue Responder" -days 30 \
  -addext extendedKeyUsage=OCSPSigning
openssl ocsp -index "$CA/index.txt" -port "$ROGUE_PORT" \
  -rsigner "$WORK/rogue.pem" -rkey "$WORK/rogue.key" -CA "$CA/root.pem" \
  -nmin 60 >"$WORK/rogue.log" 2>&1 &
PIDS="$PIDS $!"
wait_ocsp "$WORK/rogue.log"

# A response recorded for another request (another nonce), replayed.
ossl ocsp -issuer "$CA/root.pem" -cert "$CA/good.pem" \
  -url "http://127.0.0.1:$OCSP_PORT/" -respout "$WORK/recorded.der" -noverify
cat >"$WORK/replay.py" <<'EOT'
import http.server, sys
body = open(sys.argv[2], "rb").read()
class Replay(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send_response(200)
        self.send_header("Content-Type", "application/ocsp-response")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    do_GET = do_POST
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Replay).serve_forever()
EOT
python3 "$WORK/replay.py" "$REPLAY_PORT" "$WORK/recorded.der" &
PIDS="$PIDS $!"
wait_port "$REPLAY_PORT"

python3 -m http.server --bind 127.0.0.1 --directory "$WORK/www" "$CRL_PORT" \
  >"$WORK/www.log" 2>&1 &
PIDS="$PIDS $!"
wait_port "$CRL_PORT"

fp_of() {
  openssl x509 -in "$1" -noout -fingerprint -sha256 | sed 's/^.*=//' |
    tr -d ':' | tr 'A-F' 'a-f'
}

# upload STORE FILE: POST FILE (with the root before it) to the store; the
# text answer in $WORK/upload.out.
upload() {
  cat "$CA/root.pem" "$2" >"$WORK/upload.pem"
  http POST "$BASE/v1/trust/$1?format=text" "$WORK/upload.out" \
    --data-binary "@$WORK/upload.pem"
}

# revocation_of FP: the REVOCATION column of the entry in the text listing.
revocation_of() {
  curl -sS "$BASE/v1/trust?format=text" |
    awk -F'\t' -v fp="$1" 'NR > 1 && $2 == fp { print $9; exit }'
}

# The responders must still be there: a stray request would have stopped
# them (see free_ports).
kill -0 "$OCSPD_PID" 2>/dev/null || fail "openssl ocsp stopped: $(cat "$WORK/ocsp.log")"

section "OCSP: good, through a delegated responder"
upload tomcat-trust "$CA/good.pem"
expect_eq "the upload is accepted" "$HTTP_CODE" 200
expect_eq "the root is a trust anchor" \
  "$(awk -F'\t' -v fp="$(fp_of "$CA/root.pem")" '$3 == fp { print $5 }' "$WORK/upload.out")" anchor
expect_eq "the sub CA is good" \
  "$(awk -F'\t' -v fp="$(fp_of "$CA/good.pem")" '$3 == fp { print $5 }' "$WORK/upload.out")" good
expect_eq "the listing says good" "$(revocation_of "$(fp_of "$CA/good.pem")")" good
expect_eq "checked by OCSP at the responder of the AIA" \
  "$(sql "SELECT source || ' ' || responder_url FROM revocation_checks WHERE fingerprint = '\\x$(fp_of "$CA/good.pem")'")" \
  "ocsp http://127.0.0.1:$OCSP_PORT/"

section "OCSP: revoked"
upload tomcat-trust "$CA/revoked.pem"
expect_eq "good before its revocation" "$HTTP_CODE" 200
ossl ca -batch -config "$CA/openssl.cnf" -revoke "$CA/revoked.pem" \
  -crl_reason superseded
kill "$OCSPD_PID" 2>/dev/null || true
wait "$OCSPD_PID" 2>/dev/null || true
start_ocsp
expect_refusal "uploaded again once revoked: refused" 400 TRUST_CERT_REVOKED \
  POST "$BASE/v1/trust/tomcat-trust?format=text" --data-binary "@$CA/revoked.pem"
expect_eq "the listing now says revoked" "$(revocation_of "$(fp_of "$CA/revoked.pem")")" revoked
expect_eq "with the time and reason of the responder" \
  "$(sql "SELECT reason, revoked_at IS NOT NULL FROM revocation_checks WHERE fingerprint = '\\x$(fp_of "$CA/revoked.pem")'")" \
  "4|t"

section "OCSP: unknown to the responder, and no CRL"
http POST "$BASE/v1/trust/CallManager-trust" "$WORK/cm.out" --data-binary "@$CA/root.pem"
expect_eq "the root in CallManager-trust" "$HTTP_CODE" 200
expect_refusal "refused: unknown" 400 REVOCATION_UNKNOWN \
  POST "$BASE/v1/trust/CallManager-trust" --data-binary "@$CA/stranger.pem"
expect_contains "the reason is the responder's" "$(cat "$WORK/refusal.body")" \
  "does not know"

section "CRL fallback"
upload CallManager-trust "$CA/crlonly.pem"
expect_eq "a certificate the CRL does not list is accepted" "$HTTP_CODE" 200
expect_eq "checked on the CRL" \
  "$(sql "SELECT status || ' ' || source FROM revocation_checks WHERE fingerprint = '\\x$(fp_of "$CA/crlonly.pem")'")" \
  "good crl"
expect_refusal "a certificate the CRL lists is refused" 400 TRUST_CERT_REVOKED \
  POST "$BASE/v1/trust/CallManager-trust" --data-binary "@$CA/crlrevoked.pem"
expect_eq "with the CRL's reason (keyCompromise)" \
  "$(sql "SELECT reason FROM revocation_checks WHERE fingerprint = '\\x$(fp_of "$CA/crlrevoked.pem")'")" 1

section "nowhere to ask, and nobody there"
expect_refusal "no OCSP and no CRL location: unknown" 400 REVOCATION_UNKNOWN \
  POST "$BASE/v1/trust/CallManager-trust" --data-binary "@$CA/nowhere.pem"
http POST "$BASE/v1/trust/CallManager-trust" "$WORK/dead.out" \
  --data-binary "@$CA/dead.pem"
expect_eq "responder and CRL unreachable: refused under the default (HTTP 502)" \
  "$HTTP_CODE" 502
expect_contains "with its own code" "$(cat "$WORK/dead.out")" \
  "REVOCATION_UNREACHABLE:"
upload ipsec-trust "$CA/dead.pem"
expect_eq "ipsec-trust (warn) accepts it" "$HTTP_CODE" 200
expect_contains "with a warning" "$(cat "$WORK/upload.out")" "revocation status unreachable"
expect_eq "listed as unreachable" "$(revocation_of "$(fp_of "$CA/dead.pem")")" unreachable
# An issuer pki does not hold: the status cannot be asked.
expect_refusal "an issuer pki does not hold: unknown" 400 REVOCATION_UNKNOWN \
  POST "$BASE/v1/trust/CAPF-trust" --data-binary "@$CA/good.pem"
expect_contains "the reason names the issuer" "$(cat "$WORK/refusal.body")" "issuer unknown"

section "responses that must not be believed"
http POST "$BASE/v1/trust/TVS-trust" "$WORK/tvs.out" --data-binary "@$CA/root.pem"
expect_eq "the root in TVS-trust" "$HTTP_CODE" 200
expect_refusal "signed by a key the CA never authorized" 400 REVOCATION_UNKNOWN \
  POST "$BASE/v1/trust/TVS-trust" --data-binary "@$CA/other.pem"
expect_contains "the reason is RFC 6960 4.2.2.2" "$(cat "$WORK/refusal.body")" \
  "4.2.2.2"
http POST "$BASE/v1/trust/Phone-SAST-trust" "$WORK/sast.out" --data-binary "@$CA/root.pem"
expect_eq "the root in Phone-SAST-trust" "$HTTP_CODE" 200
expect_refusal "a replayed response (not our nonce)" 400 REVOCATION_UNKNOWN \
  POST "$BASE/v1/trust/Phone-SAST-trust" --data-binary "@$CA/other.pem"
expect_contains "the reason is the nonce" "$(cat "$WORK/refusal.body")" "nonce"

section "registered identities: checked at registration, never refused"
ossl ca -batch -config "$CA/openssl.cnf" -revoke "$CA/idrevoked.pem" \
  -crl_reason keyCompromise
kill "$OCSPD_PID" 2>/dev/null || true
wait "$OCSPD_PID" 2>/dev/null || true
start_ocsp
cat "$CA/idgood.pem" "$CA/root.pem" >"$WORK/idgood.chain.pem"
cat "$CA/idrevoked.pem" "$CA/root.pem" >"$WORK/idrevoked.chain.pem"
pkictl_run "$BASE" identity add --node idgood.lab.example.com --purpose tomcat \
  --cluster lab "$WORK/idgood.chain.pem"
expect_eq "pkictl identity add (good): exit status ($PKICTL_OUT)" "$PKICTL_RC" 0
expect_eq "the answer ends with the status: good" \
  "$(printf '%s\n' "$PKICTL_OUT" | awk 'NR == 2 { print $NF }')" good
pkictl_run "$BASE" identity add --node idrevoked.lab.example.com --purpose tomcat \
  --cluster lab "$WORK/idrevoked.chain.pem"
expect_eq "a revoked identity is registered all the same ($PKICTL_OUT)" "$PKICTL_RC" 0
expect_eq "its answer says revoked" \
  "$(printf '%s\n' "$PKICTL_OUT" | awk 'NR == 2 { print $NF }')" revoked
expect_eq "recorded by OCSP with the responder's reason (keyCompromise)" \
  "$(sql "SELECT status || ' ' || source || ' ' || reason FROM revocation_checks WHERE fingerprint = '\\x$(fp_of "$CA/idrevoked.pem")'")" \
  "revoked ocsp 1"
curl -sS "$BASE/v1/identities?format=text&cluster=lab" >"$WORK/identities.txt"
expect_eq "the text listing's REVOCATION column (the 12th)" \
  "$(awk -F'\t' 'NR == 1 { print $12 } $3 == "idgood.lab.example.com" { print $12 } $3 == "idrevoked.lab.example.com" { print $12 }' "$WORK/identities.txt" | paste -sd, -)" \
  "REVOCATION,good,revoked"
pkictl_run "$BASE" identity list --cluster lab
expect_eq "pkictl identity list: the status last" \
  "$(printf '%s\n' "$PKICTL_OUT" | awk '/idrevoked.lab.example.com/ { print $NF }')" revoked
pkictl_run "$BASE" find --usage external --revocation revoked
expect_eq "pkictl find --usage external --revocation revoked: exit status" "$PKICTL_RC" 0
expect_contains "lists the revoked identity" "$PKICTL_OUT" "Lab idrevoked"
expect_not_contains "and not the good one" "$PKICTL_OUT" "Lab idgood"
expect_eq "its REVOCATION column, last" \
  "$(printf '%s\n' "$PKICTL_OUT" | awk '/Lab idrevoked/ { print $NF }')" revoked
pkictl_run "$BASE" find --revocation revoked
expect_contains "find --revocation revoked: the revoked trust entry too" \
  "$PKICTL_OUT" "Lab revoked"
expect_not_contains "but no good certificate" "$PKICTL_OUT" "Lab idgood"
expect_eq "GET /v1/certificates?usage=external: REVOCATION, the 8th column" \
  "$(curl -sS "$BASE/v1/certificates?format=text&usage=external" |
     awk -F'\t' 'NR == 1 { print $8 } $7 == "Lab idgood" || $7 == "Lab idrevoked" { print $7 "=" $8 }' | paste -sd, -)" \
  "REVOCATION,Lab idgood=good,Lab idrevoked=revoked"
expect_eq "?revocation=good&usage=external" \
  "$(curl -sS "$BASE/v1/certificates?format=text&usage=external&revocation=good" |
     awk -F'\t' 'NR > 1 { print $7 }' | paste -sd, -)" "Lab idgood"
expect_refusal "find: an unknown revocation status is refused" 400 PARAMETER_INVALID \
  GET "$BASE/v1/certificates?format=text&revocation=bogus"

section "listings, pkictl and /metrics"
pkictl_run "$BASE" trust list --revocation revoked
expect_eq "pkictl trust list --revocation revoked: exit status" "$PKICTL_RC" 0
expect_contains "names the revoked CA" "$PKICTL_OUT" "CN=Lab revoked"
expect_not_contains "and not the good one" "$PKICTL_OUT" "CN=Lab good"
pkictl_run "$BASE" trust list tomcat-trust
expect_contains "pkictl trust list shows the status column" "$PKICTL_OUT" "REVOCATION"
expect_refusal "an unknown status filter is refused" 400 PARAMETER_INVALID \
  GET "$BASE/v1/trust?format=text&revocation=bogus"
curl -sS "$BASE/metrics" >"$WORK/metrics"
expect_contains "metrics: good" "$(cat "$WORK/metrics")" \
  'pki_trust_revocation_status{usage="trust",status="good"} 2'
expect_contains "metrics: revoked" "$(cat "$WORK/metrics")" \
  'pki_trust_revocation_status{usage="trust",status="revoked"} 1'
expect_contains "metrics: the good identity" "$(cat "$WORK/metrics")" \
  'pki_trust_revocation_status{usage="external",status="good"} 1'
expect_contains "metrics: the revoked identity" "$(cat "$WORK/metrics")" \
  'pki_trust_revocation_status{usage="external",status="revoked"} 1'
expect_eq "metrics: the family is one group" \
  "$(awk '/pki_trust_revocation_status/ { print NR }' "$WORK/metrics" |
     awk 'NR > 1 && $1 != prev + 1 { bad = 1 } { prev = $1 } END { print bad + 0 }')" 0

section "the expiry monitor notifies a revoked trusted certificate"
cat >"$WORK/hook.py" <<'EOT'
import http.server, sys
out = sys.argv[2]
class Hook(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with open(out, "ab") as f:
            f.write(body)
        self.send_response(204)
        self.end_headers()
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Hook).serve_forever()
EOT
python3 "$WORK/hook.py" "$HOOK_PORT" "$WORK/hook.out" &
PIDS="$PIDS $!"
wait_port "$HOOK_PORT"
pkictl_run "$BASE" monitor set --enabled true \
  --webhook-allow-private "http://127.0.0.1:$HOOK_PORT/hook"
expect_eq "monitor set: exit status ($PKICTL_OUT)" "$PKICTL_RC" 0
pkictl_run "$BASE" monitor check
expect_eq "monitor check: exit status ($PKICTL_OUT)" "$PKICTL_RC" 0
expect_contains "the notice names the revoked CA" "$(cat "$WORK/hook.out")" \
  '"subject":"CN=Lab revoked"'
expect_contains "as revoked" "$(tr -d '\n' <"$WORK/hook.out" |
  sed 's/.*"subject":"CN=Lab revoked"//')" '"revoked":true'
expect_contains "the notice names the revoked identity" "$(cat "$WORK/hook.out")" \
  '"subject":"CN=Lab idrevoked"'
expect_contains "as revoked" "$(tr -d '\n' <"$WORK/hook.out" |
  sed 's/.*"subject":"CN=Lab idrevoked"//')" '"revoked":true'
expect_not_contains "and no other: good entries far from expiry are not due" \
  "$(cat "$WORK/hook.out")" '"subject":"CN=Lab good"'
expect_not_contains "nor the good identity" "$(cat "$WORK/hook.out")" \
  '"subject":"CN=Lab idgood"'

section "pki's own responder"
# A CAPF certificate (a CA: it issues phones' LSCs) that this pkid issued,
# uploaded as a trust entry: its issuer is one of pki's CAs, its AIA names
# pki's OCSP listener.
make_csr "$WORK/capf.csr" rsa:2048 "/CN=capf.lab.example.com"
pkictl_run "$BASE" issue --profile CAPF --csr "$WORK/capf.csr" \
  --out "$WORK/capf.chain.pem"
[ "$PKICTL_RC" = 0 ] || fail "pkictl issue CAPF: exit $PKICTL_RC: $PKICTL_OUT"
mkdir -p "$WORK/capf.parts"
split_pem "$WORK/capf.chain.pem" "$WORK/capf.parts/c" >/dev/null
CAPF_FP="$(fp_of "$WORK/capf.parts/c1.pem")"
http POST "$BASE/v1/trust/tomcat-trust?format=text" "$WORK/capf.out" \
  --data-binary "@$WORK/capf.parts/c1.pem"
expect_eq "pki's CAPF certificate is accepted" "$HTTP_CODE" 200
expect_eq "good, by pki's own responder" \
  "$(sql "SELECT status || ' ' || source || ' ' || responder_url FROM revocation_checks WHERE fingerprint = '\\x$CAPF_FP'")" \
  "good ocsp $OCSP_URL/"
pkictl_run "$BASE" revoke "$(serial_of "$WORK/capf.parts/c1.pem" | tr 'A-F' 'a-f')" \
  --reason keyCompromise
expect_eq "pkictl revoke: exit status ($PKICTL_OUT)" "$PKICTL_RC" 0
expect_refusal "once pki revoked it, uploading it again is refused" 400 \
  TRUST_CERT_REVOKED POST "$BASE/v1/trust/tomcat-trust" \
  --data-binary "@$WORK/capf.parts/c1.pem"
expect_eq "the entry shows revoked, reason keyCompromise" \
  "$(revocation_of "$CAPF_FP") $(sql "SELECT reason FROM revocation_checks WHERE fingerprint = '\\x$CAPF_FP'")" \
  "revoked 1"

section "checked again on schedule"
# Twelve hours later (next_check_at moved to now, which is what the clock
# would do), a node with the thread on finds the good CA revoked.
ossl ca -batch -config "$CA/openssl.cnf" -revoke "$CA/good.pem" \
  -crl_reason cessationOfOperation
ossl ca -batch -config "$CA/openssl.cnf" -revoke "$CA/idgood.pem" \
  -crl_reason superseded
kill "$OCSPD_PID" 2>/dev/null || true
wait "$OCSPD_PID" 2>/dev/null || true
start_ocsp
pkid_restart --revcheck-interval 5 \
  --revcheck-policy ipsec-trust=warn \
  --revcheck-responder "TVS-trust=http://127.0.0.1:$ROGUE_PORT" \
  --revcheck-responder "Phone-SAST-trust=http://127.0.0.1:$REPLAY_PORT"
sql "UPDATE revocation_checks SET next_check_at = now()" >/dev/null
i=0
until [ "$(revocation_of "$(fp_of "$CA/good.pem")")" = revoked ]; do
  i=$((i + 1))
  [ "$i" -le 120 ] || fail "the thread did not find the good CA revoked within 60 s"
  sleep 0.5
done
pass "the background check turned the good CA revoked"
expect_eq "with the responder's reason (cessationOfOperation)" \
  "$(sql "SELECT reason FROM revocation_checks WHERE fingerprint = '\\x$(fp_of "$CA/good.pem")'")" 5
expect_eq "and its next check in the interval, not sooner" \
  "$(sql "SELECT next_check_at > checked_at AND next_check_at <= checked_at + interval '5 seconds' FROM revocation_checks WHERE fingerprint = '\\x$(fp_of "$CA/good.pem")'")" t
i=0
until [ "$(sql "SELECT status FROM revocation_checks WHERE fingerprint = '\\x$(fp_of "$CA/idgood.pem")'")" = revoked ]; do
  i=$((i + 1))
  [ "$i" -le 120 ] || fail "the thread did not find the good identity revoked within 60 s"
  sleep 0.5
done
pass "the background check turned the registered identity revoked too"
expect_eq "with the responder's reason (superseded)" \
  "$(sql "SELECT reason FROM revocation_checks WHERE fingerprint = '\\x$(fp_of "$CA/idgood.pem")'")" 4

interop_finish
