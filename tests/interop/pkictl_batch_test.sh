#!/usr/bin/env bash
# Interop: `pkictl batch` as users run it, against a real pkid on a
# PostgreSQL cluster of the test's own (initdb from PKI_PG_BIN), which the
# test stops and starts under the running batch.
#
#   - killed with SIGKILL in the middle of a run and started again: every
#     CSR ends with its certificate (valid PEM, the CSR's public key), and
#     no CSR whose certificate was written is asked for again. The one
#     window left, certificates committed by pkid but not yet written when
#     pkictl died, is measured exactly: those CSRs, and only those, have two
#     rows, and there are no more of them than pkictl holds in flight.
#   - PostgreSQL stopped (immediate) and started again mid-run: pkictl
#     retries and finishes; every CSR has one row, or two only when pkictl
#     reports a request re-sent after an answer that may have followed a
#     commit (--json: resent_after_unknown_outcome).
#   - per-item refusals (and a file over 128 KiB, refused by pkictl itself)
#     listed (file, code, message) and final: not
#     retried, listed again by a second run which asks for nothing else.
#   - a server whose queue is smaller than a request: 413 BATCH_TOO_LARGE
#     makes pkictl halve its requests, 503 QUEUE_FULL is retried.
#   - --json read by python3's json; the progress line only on a terminal
#     (script(1)), one summary line otherwise.
set -eu

. "$(dirname "$0")/lib.sh"

[ -n "${PKI_PG_BIN:-}" ] ||
  fail "PKI_PG_BIN is not set: this test runs a PostgreSQL server of its own (bazel test --test_env=PKI_PG_BIN=/usr/lib/postgresql/15/bin; bazel/pki test sets it)"
for tool in python3 script runuser; do
  command -v "$tool" >/dev/null 2>&1 || fail "$tool is not installed"
done

# --- a PostgreSQL cluster of the test's own ---

PG_DIR=""
PG_PORT=""

as_postgres() {
  if [ "$(id -u)" = 0 ]; then
    (cd / && runuser -u postgres -- "$@")
  else
    (cd / && "$@")
  fi
}

pg_start() {
  as_postgres "$PKI_PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w \
    -o "-p $PG_PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories=$PG_DIR" \
    start >/dev/null || fail "cannot start the test's PostgreSQL"
}

pg_stop() {
  as_postgres "$PKI_PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null
}

# The cluster's directory must be one the postgres user may enter:
# $TEST_TMPDIR often is not (under /root).
PG_DIR="$(mktemp -d "${TEST_TMPDIR:-/tmp}/pg.XXXXXX")"
if [ "$(id -u)" = 0 ]; then
  chown postgres: "$PG_DIR"
  if ! as_postgres test -w "$PG_DIR"; then
    rmdir "$PG_DIR"
    PG_DIR="$(mktemp -d /tmp/pki-batch-pg.XXXXXX)"
    chown postgres: "$PG_DIR"
  fi
fi
as_postgres "$PKI_PG_BIN/initdb" -D "$PG_DIR/data" -U postgres -A trust \
  --encoding=UTF8 --locale=C.UTF-8 >/dev/null || fail "initdb failed"
PG_PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
pg_start
export PKI_TEST_DATABASE_URL="postgresql://postgres@127.0.0.1:$PG_PORT/postgres"

# The interop cleanup (pkid stopped, its log shown on failure) runs in a
# subshell, then the cluster is removed.
batch_cleanup() {
  local rc=$?
  trap - EXIT
  set +e
  [ -n "${PKICTL_PID:-}" ] && kill -KILL "$PKICTL_PID" 2>/dev/null
  # pkid is stopped here, by the shell that started it (wait needs its
  # parent); the rest of interop_cleanup (the database, the log on failure)
  # runs in a subshell, since it ends with exit.
  if [ -n "$PKID_PID" ]; then
    pkid_stop
    if [ "$PKID_EXIT" != 0 ]; then
      printf 'FAIL: pkid exited %s when stopped (SIGTERM): it should exit 0\n' "$PKID_EXIT" >&2
      [ "$rc" != 0 ] || rc=1
    fi
  fi
  (exit "$rc")
  (interop_cleanup)
  rc=$?
  pg_stop >/dev/null 2>&1
  rm -rf "$PG_DIR"
  exit "$rc"
}

# No key pool: its filler would only take CPU from the batches.
interop_start --keypool none
trap batch_cleanup EXIT

PKICTL_PID=""

# make_csrs DIR PREFIX N: N CSRs DIR/PREFIXi.csr (P-256, a key each) of CN
# PREFIXi.batch.example.com.
make_csrs() {
  local dir="$1" prefix="$2" n="$3" i
  mkdir -p "$dir"
  for i in $(seq 1 "$n"); do
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
      -keyout /dev/null -subj "/O=Example/CN=$prefix$i.batch.example.com" \
      -out "$dir/$prefix$i.csr" 2>/dev/null ||
      fail "openssl req could not make $dir/$prefix$i.csr"
  done
}

# pubkey_of_csr FILE: the CSR's public key (PEM), computed once per file.
pubkey_of_csr() {
  local cache="$WORK/pub/$(basename "$(dirname "$1")")-$(basename "$1")"
  mkdir -p "$WORK/pub"
  [ -s "$cache" ] && [ "$cache" -nt "$1" ] ||
    openssl req -in "$1" -noout -pubkey >"$cache" || fail "openssl req -pubkey $1"
  cat "$cache"
}
pubkey_of_cert() { openssl x509 -in "$1" -noout -pubkey; }

# check_outputs CSR_DIR OUT_DIR: every .pem of OUT_DIR is a whole
# certificate (the leaf, then two CA certificates) whose SubjectPublicKeyInfo
# is its CSR's, byte for byte, and whose subject holds the CN of its name;
# nothing else is in OUT_DIR. Prints how many there are. The DER is walked
# by a few lines of python3 (one process for the whole directory);
# pubkey_of_csr and pubkey_of_cert, openssl's view, check a sample.
check_outputs() {
  python3 - "$1" "$2" <<'PY' || fail "check_outputs $1 $2"
import base64, os, re, sys
csrs, out = sys.argv[1], sys.argv[2]

def tlv(b, i):
    """(tag, start of contents, end) of the DER element at b[i]."""
    tag, n = b[i], b[i + 1]
    i += 2
    if n & 0x80:
        k = n & 0x7f
        n = int.from_bytes(b[i:i + k], "big")
        i += k
    return tag, i, i + n

def children(b, i):
    _, s, e = tlv(b, i)
    while s < e:
        yield s
        s = tlv(b, s)[2]

def pem_blocks(text, label):
    return [base64.b64decode("".join(m.split()))
            for m in re.findall(r"-----BEGIN %s-----(.*?)-----END %s-----" % (label, label), text, re.S)]

def element(b, i):
    return b[i:tlv(b, i)[2]]

n = 0
for f in sorted(os.listdir(out)):
    if not f.endswith(".pem") or f.startswith("."):
        sys.exit("unexpected file in %s: %s" % (out, f))
    name = f[:-4]
    certs = pem_blocks(open(os.path.join(out, f)).read(), "CERTIFICATE")
    if len(certs) != 3:
        sys.exit("%s holds %d certificates" % (f, len(certs)))
    tbs = list(children(certs[0], list(children(certs[0], 0))[0]))
    # version [0], serial, signature, issuer, validity, subject, spki
    subject, spki = element(certs[0], tbs[5]), element(certs[0], tbs[6])
    csr = open(os.path.join(csrs, name + ".csr")).read()
    der = pem_blocks(csr, "CERTIFICATE REQUEST")[0]
    info = list(children(der, list(children(der, 0))[0]))
    if element(der, info[2]) != spki:
        sys.exit("%s is not of the public key of %s.csr" % (f, name))
    if ("%s.batch.example.com" % name).encode() not in subject:
        sys.exit("%s: the subject lacks the CN of %s" % (f, name))
    n += 1
print(n)
PY
}

# rows_per_cn PREFIX: "CN COUNT" for every CN of PREFIX in the database.
rows_per_cn() {
  sql "SELECT common_name || ' ' || count(*) FROM certificates
       WHERE common_name LIKE '$1%' GROUP BY common_name ORDER BY 1"
}

# files_count DIR: the .pem files in DIR.
files_count() {
  find "$1" -maxdepth 1 -name '*.pem' | wc -l | tr -d ' '
}

# --- refusals, --json, the summary line, the progress line ---

section "per-item refusals are listed and final"
R="$WORK/refusals"
make_csrs "$R" r 6
# A subject without a CN, a wildcard CN, an RSA key for an EC profile.
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null \
  -subj "/O=Example" -out "$R/nocn.csr" 2>/dev/null || fail "openssl req (no CN)"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null \
  -subj "/O=Example/CN=*.batch.example.com" -out "$R/wild.csr" 2>/dev/null ||
  fail "openssl req (wildcard)"
openssl req -new -newkey rsa:2048 -nodes -keyout /dev/null \
  -subj "/O=Example/CN=rsa.batch.example.com" -out "$R/rsa.csr" 2>/dev/null ||
  fail "openssl req (RSA)"
# A file over the limit (128 KiB + 1 byte), and one exactly at it (a CSR
# padded with trailing newlines, which the server reads): pkictl reads at
# most the limit and one byte more.
head -c 131073 /dev/zero | tr '\0' 'A' >"$R/big.csr"
make_csrs "$R" edge 1
head -c $((131072 - $(stat -c %s "$R/edge1.csr"))) /dev/zero | tr '\0' '\n' >>"$R/edge1.csr"
set +e
"$PKICTL" --server "$BASE" batch --profile tomcat-ECDSA --csr-dir "$R" \
  --out-dir "$WORK/refusals.out" --json >"$WORK/r1.json" 2>"$WORK/r1.err"
rc=$?
set -e
sed 's/^/     stdout| /' "$WORK/r1.json"
sed 's/^/     stderr| /' "$WORK/r1.err"
expect_eq "exit 1: some CSRs were refused" "$rc" 1
# json_get FILE EXPR: a value of pkictl's --json document, read by
# python3's json (which fails on anything that is not JSON).
json_get() {
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2], {}, {"d": d}))' "$1" "$2" ||
    fail "pkictl --json: $1 is not JSON or lacks $2"
}
expect_eq "json: issued" "$(json_get "$WORK/r1.json" 'd["issued"]')" 7
expect_eq "json: failed" "$(json_get "$WORK/r1.json" 'd["failed"]')" 4
expect_eq "json: files" "$(json_get "$WORK/r1.json" 'd["files"]')" 11
expect_eq "json: one request, no retry" \
  "$(json_get "$WORK/r1.json" '(d["requests"], d["retries"], d["stopped"])')" "(1, 0, None)"
expect_eq "json: the refused files, their codes" \
  "$(json_get "$WORK/r1.json" 'sorted((f["file"], f["code"]) for f in d["failures"])')" \
  "[('big.csr', 'CSR_TOO_LARGE'), ('nocn.csr', 'SUBJECT_CN_MISSING'), ('rsa.csr', 'KEY_TYPE_MISMATCH'), ('wild.csr', 'SAN_WILDCARD')]"
expect_eq "json: every failure has a message" \
  "$(json_get "$WORK/r1.json" 'all(len(f["message"]) > 0 for f in d["failures"])')" True
err="$(cat "$WORK/r1.err")"
expect_contains "stderr lists nocn.csr" "$err" "$R/nocn.csr: SUBJECT_CN_MISSING: "
expect_contains "stderr lists wild.csr" "$err" "$R/wild.csr: SAN_WILDCARD: "
expect_contains "stderr lists rsa.csr" "$err" "$R/rsa.csr: KEY_TYPE_MISMATCH: "
expect_not_contains "no progress line without a terminal" "$err" "ETA"
expect_eq "the good ones written and valid" "$(check_outputs "$R" "$WORK/refusals.out")" 7
expect_eq "nothing written for a refused CSR" \
  "$(ls "$WORK/refusals.out" | grep -c -v '^\(r[0-9]*\|edge1\)\.pem$' || true)" 0

section "a second run asks only for the refused ones, and lists them again"
set +e
"$PKICTL" --server "$BASE" batch --profile tomcat-ECDSA --csr-dir "$R" \
  --out-dir "$WORK/refusals.out" >"$WORK/r2.out" 2>"$WORK/r2.err"
rc=$?
set -e
sed 's/^/     stdout| /' "$WORK/r2.out"
expect_eq "exit 1 again" "$rc" 1
expect_eq "one summary line on stdout" "$(wc -l <"$WORK/r2.out" | tr -d ' ')" 1
case "$(cat "$WORK/r2.out")" in
  "0 issued, 4 failed, 11 files (7 already issued, 0 not sent); 1 requests, 0 retries; "*) pass "summary: 0 issued, 4 failed, 7 already issued, 1 request" ;;
  *) fail "summary: $(cat "$WORK/r2.out")" ;;
esac
expect_eq "the refusals listed again" "$(grep -c ': SUBJECT_CN_MISSING: \|: SAN_WILDCARD: \|: KEY_TYPE_MISMATCH: \|: CSR_TOO_LARGE: ' "$WORK/r2.err")" 4
expect_eq "one row per good CSR, none for the refused" \
  "$(sql "SELECT count(*), count(DISTINCT common_name) FROM certificates WHERE common_name LIKE '%batch.example.com'")" "7|7"

section "the progress line, on a terminal only"
make_csrs "$WORK/tty" t 30
# script(1) gives pkictl a terminal; its output is what the terminal got.
script -qec "\"$PKICTL\" --server \"$BASE\" batch --profile tomcat-ECDSA --csr-dir \"$WORK/tty\" --out-dir \"$WORK/tty.out\" --batch-size 1 --parallel 1" \
  "$WORK/tty.log" >/dev/null 2>&1 </dev/null || fail "pkictl batch under script failed: $(cat "$WORK/tty.log")"
tty_text="$(tr '\r' '\n' <"$WORK/tty.log")"
expect_contains "the progress line: done, issued, rate, ETA" "$tty_text" "/30 done: "
expect_contains "the progress line has an ETA" "$tty_text" "; ETA "
expect_contains "the progress line is redrawn with a carriage return" "$(od -c "$WORK/tty.log")" '\r'
expect_contains "then the summary" "$tty_text" "30 issued, 0 failed, 30 files (0 already issued, 0 not sent); 30 requests"

# --- SIGKILL and resume ---

section "SIGKILL in the middle of a run, then the same command again"
K="$WORK/kill"
N=300
make_csrs "$K" k "$N"
# Small requests, one at a time: many commits, so that the kill falls
# among them, and few certificates in flight.
"$PKICTL" --server "$BASE" batch --profile tomcat-ECDSA --csr-dir "$K" \
  --out-dir "$WORK/kill.out" --batch-size 5 --parallel 1 \
  >"$WORK/k1.out" 2>"$WORK/k1.err" &
PKICTL_PID=$!
i=0
while [ "$(files_count "$WORK/kill.out" 2>/dev/null || echo 0)" -lt 40 ]; do
  process_gone "$PKICTL_PID" && fail "pkictl ended before it could be killed: $(cat "$WORK/k1.out")"
  i=$((i + 1))
  [ "$i" -le 3000 ] || fail "pkictl wrote no 40 certificates within 60 s"
  sleep 0.02
done
kill -KILL "$PKICTL_PID"
set +e
wait "$PKICTL_PID"
rc=$?
set -e
PKICTL_PID=""
expect_eq "pkictl died of SIGKILL" "$rc" 137
# Temporary files may remain after a kill; the .pem files are whole.
# Temporary files may remain after a kill (the next run removes them); the
# .pem files are whole.
mkdir -p "$WORK/kill.pem"
cp "$WORK/kill.out"/*.pem "$WORK/kill.pem/"
written="$(check_outputs "$K" "$WORK/kill.pem")"
[ "$written" -lt "$N" ] || fail "the run had finished before the kill"
pass "after the kill: $written of $N certificates written, each whole and of its CSR's key"
ls "$WORK/kill.out" | sed 's/\.pem$//' | sort >"$WORK/written.txt"
sql "SELECT split_part(common_name, '.', 1) FROM certificates WHERE common_name LIKE 'k%.batch.example.com'" |
  sort >"$WORK/recorded.txt"
# The window: committed by pkid, not yet written by pkictl.
comm -13 "$WORK/written.txt" "$WORK/recorded.txt" >"$WORK/window.txt"
window="$(wc -l <"$WORK/window.txt" | tr -d ' ')"
expect_eq "every written certificate has its row" "$(comm -23 "$WORK/written.txt" "$WORK/recorded.txt" | grep -c . || true)" 0
# In flight at most: one request (5), one answered chunk waiting and one
# being written, with --parallel 1.
[ "$window" -le 15 ] || fail "$window certificates committed but not written: more than pkictl holds in flight (15)"
pass "committed but not written when killed: $window (at most 15 with --parallel 1 --batch-size 5)"

"$PKICTL" --server "$BASE" batch --profile tomcat-ECDSA --csr-dir "$K" \
  --out-dir "$WORK/kill.out" --json >"$WORK/k2.json" 2>"$WORK/k2.err" ||
  fail "the resumed run failed: $(cat "$WORK/k2.err")"
expect_eq "resumed: the written ones are not asked for again" \
  "$(json_get "$WORK/k2.json" 'd["already_issued"]')" "$written"
expect_eq "resumed: the rest is issued" \
  "$(json_get "$WORK/k2.json" '(d["issued"], d["failed"])')" "($((N - written)), 0)"
expect_eq "every CSR has its certificate, whole and of its key" \
  "$(check_outputs "$K" "$WORK/kill.out")" "$N"
rows_per_cn k >"$WORK/rows.txt"
expect_eq "a row for every CSR" "$(wc -l <"$WORK/rows.txt" | tr -d ' ')" "$N"
twice="$(awk '$2 != 1 { split($1, p, "."); print p[1] }' "$WORK/rows.txt" | sort)"
expect_eq "two rows exactly for the CSRs committed but not written at the kill, one for every other" \
  "$twice" "$(sort "$WORK/window.txt")"
expect_eq "no CSR has more than two rows" "$(awk '$2 > 2' "$WORK/rows.txt" | grep -c . || true)" 0
expect_eq "every file is one of its CSR's rows (DER)" \
  "$(for f in "$WORK/kill.out"/k1.pem "$WORK/kill.out"/k$N.pem; do
       sql "SELECT count(*) FROM certificates WHERE der = decode('$(der_hex_of "$f")', 'hex')"
     done | paste -sd' ' -)" "1 1"

section "a third run asks for nothing; a CSR given a new key is asked for again"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null \
  -subj "/O=Example/CN=k7.batch.example.com" -out "$K/k7.csr" 2>/dev/null || fail "openssl req"
"$PKICTL" --server "$BASE" batch --profile tomcat-ECDSA --csr-dir "$K" \
  --out-dir "$WORK/kill.out" --json >"$WORK/k3.json" 2>"$WORK/k3.err" ||
  fail "the third run failed: $(cat "$WORK/k3.err")"
expect_eq "only k7 issued" \
  "$(json_get "$WORK/k3.json" '(d["issued"], d["already_issued"], d["requests"])')" "(1, $((N - 1)), 1)"
expect_eq "k7.pem now holds the new key (openssl)" "$(pubkey_of_cert "$WORK/kill.out/k7.pem")" "$(pubkey_of_csr "$K/k7.csr")"
expect_eq "k1.pem holds its CSR's key (openssl)" "$(pubkey_of_cert "$WORK/kill.out/k1.pem")" "$(pubkey_of_csr "$K/k1.csr")"

section "the last requests of a run are smaller, so that they end together"
# 300 CSRs, requests of 100, two in flight: once fewer are left than two
# full requests take, each takes half of what is left, at least 64:
# 100, 100, 64, 36.
"$PKICTL" --server "$BASE" batch --profile tomcat-ECDSA --csr-dir "$K" \
  --out-dir "$WORK/taper.out" --batch-size 100 --parallel 2 --json \
  >"$WORK/t1.json" 2>"$WORK/t1.err" || fail "pkictl batch failed: $(cat "$WORK/t1.err")"
expect_eq "four requests, all issued" \
  "$(json_get "$WORK/t1.json" '(d["requests"], d["issued"], d["failed"])')" "(4, $N, 0)"
expect_eq "every CSR has its certificate" "$(check_outputs "$K" "$WORK/taper.out")" "$N"

# --- PostgreSQL stopped and started under the batch ---

section "PostgreSQL stopped and started in the middle of a run"
P="$WORK/pg"
N=300
make_csrs "$P" p "$N"
"$PKICTL" --server "$BASE" batch --profile tomcat-ECDSA --csr-dir "$P" \
  --out-dir "$WORK/pg.out" --batch-size 5 --parallel 2 --json \
  >"$WORK/p1.json" 2>"$WORK/p1.err" &
PKICTL_PID=$!
i=0
while [ "$(files_count "$WORK/pg.out" 2>/dev/null || echo 0)" -lt 40 ]; do
  process_gone "$PKICTL_PID" && fail "pkictl ended before the outage: $(cat "$WORK/p1.err")"
  i=$((i + 1))
  [ "$i" -le 3000 ] || fail "pkictl wrote no 40 certificates within 60 s"
  sleep 0.02
done
pg_stop || fail "cannot stop PostgreSQL"
at_stop="$(files_count "$WORK/pg.out")"
sleep 3
during="$(files_count "$WORK/pg.out")"
pg_start
pass "PostgreSQL down for 3 s with $at_stop of $N written"
set +e
wait "$PKICTL_PID"
rc=$?
set -e
PKICTL_PID=""
sed 's/^/     stderr| /' "$WORK/p1.err" | tail -n 5
expect_eq "pkictl finishes with exit 0" "$rc" 0
[ "$during" -lt "$N" ] || fail "the run had finished before the outage"
expect_eq "json: all issued, none failed" \
  "$(json_get "$WORK/p1.json" '(d["issued"], d["failed"], d["not_sent"], d["stopped"])')" "($N, 0, 0, None)"
retries="$(json_get "$WORK/p1.json" 'd["retries"]')"
[ "$retries" -gt 0 ] || fail "no retry during a 3 s outage"
pass "retried $retries times"
expect_eq "every CSR has its certificate" "$(check_outputs "$P" "$WORK/pg.out")" "$N"
rows_per_cn p >"$WORK/prows.txt"
expect_eq "a row for every CSR" "$(wc -l <"$WORK/prows.txt" | tr -d ' ')" "$N"
twice="$(awk '$2 != 1' "$WORK/prows.txt" | grep -c . || true)"
resent="$(json_get "$WORK/p1.json" 'd["resent_after_unknown_outcome"]')"
# A CSR has two rows only if pkictl re-sent its request after an answer
# that may have followed a commit (a cut commit can be durable), and
# says so.
[ "$twice" -le $((resent * 5)) ] ||
  fail "$twice CSRs issued twice, while pkictl reports $resent request(s) re-sent after an unknown outcome"
pass "CSRs with two rows: $twice (pkictl reports $resent request(s) re-sent after an unknown outcome)"
if [ "$resent" -gt 0 ]; then
  expect_contains "the summary warns of it" "$(cat "$WORK/p1.err")" "may have been issued twice"
fi

# --- a server whose queue is smaller than a request ---

section "413 BATCH_TOO_LARGE halves the requests, 503 QUEUE_FULL is retried"
pkid_restart --keypool none --queue-items 8
make_csrs "$WORK/q" q 80
"$PKICTL" --server "$BASE" batch --profile tomcat-ECDSA --csr-dir "$WORK/q" \
  --out-dir "$WORK/q.out" --batch-size 40 --parallel 4 --json \
  >"$WORK/q.json" 2>"$WORK/q.err" || fail "pkictl batch failed: $(cat "$WORK/q.err")"
expect_eq "all issued" "$(json_get "$WORK/q.json" '(d["issued"], d["failed"])')" "(80, 0)"
[ "$(json_get "$WORK/q.json" 'd["requests"]')" -gt 10 ] ||
  fail "requests of 40 were not split ($(cat "$WORK/q.json"))"
pass "requests: $(json_get "$WORK/q.json" 'd["requests"]'), retries: $(json_get "$WORK/q.json" 'd["retries"]')"
expect_eq "every CSR has its certificate" "$(check_outputs "$WORK/q" "$WORK/q.out")" 80
expect_eq "one row per CSR" \
  "$(sql "SELECT count(*), count(DISTINCT common_name) FROM certificates WHERE common_name LIKE 'q%.batch.example.com'")" "80|80"

section "a whole-request refusal stops the run"
set +e
"$PKICTL" --server "$BASE" --token not-a-token batch --profile tomcat-ECDSA \
  --csr-dir "$WORK/q" --out-dir "$WORK/none.out" --parallel 1 --batch-size 10 \
  --json >"$WORK/u.json" 2>"$WORK/u.err"
rc=$?
set -e
expect_eq "exit 1" "$rc" 1
expect_eq "json: stopped by UNAUTHENTICATED, not retried, nothing issued" \
  "$(json_get "$WORK/u.json" '(d["stopped"]["code"], d["retries"], d["requests"], d["issued"])')" \
  "('UNAUTHENTICATED', 0, 1, 0)"
expect_contains "stderr says why it stopped" "$(cat "$WORK/u.err")" "pkictl: stopped: UNAUTHENTICATED: "

section "a server that cannot be reached: given up within seconds"
start="$(date +%s)"
set +e
"$PKICTL" --server "https://127.0.0.1:$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')" \
  batch --profile tomcat-ECDSA --csr-dir "$WORK/q" --out-dir "$WORK/none.out" \
  --parallel 1 --json >"$WORK/c.json" 2>"$WORK/c.err"
rc=$?
set -e
took=$(($(date +%s) - start))
expect_eq "exit 1" "$rc" 1
expect_eq "json: stopped by CONNECTION_FAILED after retries" \
  "$(json_get "$WORK/c.json" '(d["stopped"]["code"], d["retries"] > 0, d["issued"])')" \
  "('CONNECTION_FAILED', True, 0)"
expect_contains "the retries announced on stderr" "$(cat "$WORK/c.err")" "; retrying in "
[ "$took" -lt 60 ] || fail "pkictl took $took s to give up on a server never reached"
pass "given up after $took s"

interop_finish
