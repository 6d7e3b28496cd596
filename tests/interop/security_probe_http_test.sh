#!/usr/bin/env bash
# Interop: the findings of a black-box probe of pkid's HTTP side, each
# reproduced against a real pkid and PostgreSQL with real clients (raw
# sockets from python3, openssl s_client, curl, psql):
#   1. request bodies held in memory without a budget across requests:
#      parallel large batch bodies under --max-buffered-bytes (pkid's RSS
#      read from /proc while they are held, 503 BUFFERS_FULL with
#      Retry-After before the body is read, a chunked body refused as it
#      grows), and the OCSP listener's own budget;
#   2. ambiguous request framing on the API (TLS) and OCSP (plain)
#      listeners: two Content-Length fields, equal or not, Content-Length
#      with Transfer-Encoding, a transfer coding other than chunked: 400
#      FRAMING_INVALID and the connection closed, while a control request
#      keeps its connection;
#   3. TLS 1.2 cipher suites, one s_client per suite, with pki's own RSA
#      certificate and an ECDSA --tls-cert: ECDHE with AEAD accepted, static
#      RSA key exchange, DHE and CBC refused; TLS 1.3 still served;
#   4. database error text (a trigger raising an error with a marker, then
#      pkid's database connections terminated) never in an answer, one line
#      of it in pkid's log;
#   5. the first admin token not in pkid's stdout when that is a file (the
#      path of admin.token printed instead), printed on a terminal;
#   6. the log lines of 100 failed TLS handshakes and of 100 slow clients
#      cut off at --request-timeout bounded, with a summary line.
# Each check is recorded and the test goes on, so that a run lists every
# finding still open; it fails at the end if any check failed.
set -eu

. "$(dirname "$0")/lib.sh"

command -v python3 >/dev/null 2>&1 || fail "python3 is not installed (needed by this test)"

# --- checks that record a failure and go on ---

FAILED=()

record_fail() {
  FAILED+=("$1")
  printf 'FAIL %s\n' "$1"
}

# soft_eq DESCRIPTION ACTUAL EXPECTED
soft_eq() {
  if [ "$2" = "$3" ]; then
    pass "$1: [$2]"
  else
    record_fail "$1: expected [$3], got [$2]"
  fi
}

# soft_le DESCRIPTION VALUE MAX (integers)
soft_le() {
  if [ "$2" -le "$3" ]; then
    pass "$1: $2 <= $3"
  else
    record_fail "$1: $2 > $3"
  fi
}

# soft_ge DESCRIPTION VALUE MIN (integers)
soft_ge() {
  if [ "$2" -ge "$3" ]; then
    pass "$1: $2 >= $3"
  else
    record_fail "$1: $2 < $3"
  fi
}

# soft_has DESCRIPTION HAYSTACK NEEDLE
soft_has() {
  case "$2" in
    *"$3"*) pass "$1" ;;
    *) record_fail "$1: [$3] not in [$(printf '%.300s' "$2")]" ;;
  esac
}

# soft_lacks DESCRIPTION HAYSTACK NEEDLE
soft_lacks() {
  case "$2" in
    *"$3"*) record_fail "$1: [$3] found in [$(printf '%.300s' "$2")]" ;;
    *) pass "$1" ;;
  esac
}

# log_lines_from LINE PATTERN: lines of pkid's log after line LINE that
# hold the fixed text PATTERN.
log_lines_from() {
  tail -n +"$(($1 + 1))" "$TMP/pkid.log" | grep -cF -- "$2" || true
}

log_length() {
  wc -l <"$TMP/pkid.log"
}

interop_start --keypool none

# --- the clients ---

# Raw requests whose framing is the point: no HTTP library would send them.
cat >"$WORK/framing.py" <<'EOF'
# framing.py HOST PORT TLS(0|1) CAFILE TOKEN CASE: sends one request of
# CASE and prints "STATUS CLOSE BODY": the status (0: no answer within 5 s),
# "closed" when the server closed the connection within 3 s of its answer
# (else "open"), and the first line of the answer's body.
import socket, ssl, sys, time

host, port, tls, cafile, token, case = sys.argv[1:7]
port, tls = int(port), tls == "1"
if tls:
    path, head = "/v1/certificates:batchIssue", (
        "Authorization: Bearer %s\r\nContent-Type: application/x-protobuf\r\n" % token)
else:
    path, head = "/", "Content-Type: application/ocsp-request\r\n"
framing, body = {
    "two-lengths": ("Content-Length: 5\r\nContent-Length: 7\r\n", b"hello"),
    "equal-lengths": ("Content-Length: 5\r\nContent-Length: 5\r\n", b"hello"),
    "length-and-chunked": (
        "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", b"0\r\n\r\n"),
    "gzip": ("Transfer-Encoding: gzip\r\n", b"hello"),
    "control": ("Content-Length: 5\r\n", b"hello"),
}[case]
s = socket.create_connection((host, port), timeout=5)
if tls:
    ctx = ssl.create_default_context(cafile=cafile)
    ctx.check_hostname = False
    s = ctx.wrap_socket(s, server_hostname="localhost")
s.sendall(("POST %s HTTP/1.1\r\nHost: localhost\r\n%s%s\r\n" % (path, head, framing)).encode() + body)

def recv():
    try:
        return s.recv(65536)
    except (ConnectionError, ssl.SSLError):
        return b""

data, closed = b"", False
deadline = time.time() + 5
s.settimeout(0.2)
while time.time() < deadline:
    try:
        chunk = recv()
    except socket.timeout:
        chunk = None
    if chunk == b"":
        closed = True
        break
    if chunk:
        data += chunk
    if b"\r\n\r\n" in data:
        head_, rest = data.split(b"\r\n\r\n", 1)
        length = 0
        for line in head_.split(b"\r\n")[1:]:
            k, _, v = line.partition(b":")
            if k.strip().lower() == b"content-length":
                length = int(v)
        if len(rest) >= length:
            break
status = int(data.split(b" ")[1]) if data.startswith(b"HTTP/1.") else 0
if status and not closed:
    # Answered: does the server close the connection now?
    s.settimeout(3)
    try:
        closed = recv() == b""
    except socket.timeout:
        closed = False
body = data.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in data else b""
first = body.decode("latin1").split("\n")[0].strip() or "-"
print("%d %s %s" % (status, "closed" if closed else "open", first))
EOF

# Parallel large bodies against the budget: see budget_api and budget_ocsp.
cat >"$WORK/budget.py" <<'EOF'
# budget.py MODE HOST PORT CAFILE TOKEN N SIZE PID [CHUNKED_KIB]
# MODE api: N TLS connections send the headers of a batch of SIZE bytes at
# once; those answered within 1 s were refused before their body; the
# others send all of it but the last byte, pkid's RSS is read while it holds
# them, a chunked body of CHUNKED_KIB KiB is sent meanwhile, then the last
# bytes go and the answers are read.
# MODE ocsp: N plain connections send the headers of an OCSP request of SIZE
# bytes at once, then every body; the answers are read.
# Prints one JSON object.
import json, socket, ssl, sys, time

mode, host, port, cafile, token, n, size, pid = sys.argv[1:9]
port, n, size = int(port), int(n), int(size)
chunked_kib = int(sys.argv[9]) if len(sys.argv) > 9 else 0

def rss_kb():
    with open("/proc/%s/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1

def padded(length):
    # A protobuf message of exactly |length| bytes: one unknown field 15.
    for vlen in range(1, 6):
        payload, v, enc = length - 1 - vlen, length - 1 - vlen, b""
        while True:
            enc += bytes([(v & 0x7F) | (0x80 if v >> 7 else 0)])
            v >>= 7
            if not v:
                break
        if len(enc) == vlen:
            return bytes([(15 << 3) | 2]) + enc + b"\0" * payload
    raise SystemExit("no padding for %d bytes" % length)

ctx = ssl.create_default_context(cafile=cafile)
ctx.check_hostname = False

def connect(tls):
    s = socket.create_connection((host, port), timeout=30)
    return ctx.wrap_socket(s, server_hostname="localhost") if tls else s

def read_answer(s, wait):
    """The answer on |s| within |wait| seconds, or None."""
    s.settimeout(wait)
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        if b"\r\n\r\n" in data:
            head, body = data.split(b"\r\n\r\n", 1)
            length = 0
            for line in head.split(b"\r\n")[1:]:
                k, _, v = line.partition(b":")
                if k.strip().lower() == b"content-length":
                    length = int(v)
            s.settimeout(10)
            while len(body) < length:
                chunk = s.recv(65536)
                if not chunk:
                    break
                body += chunk
            data = head + b"\r\n\r\n" + body
    except (socket.timeout, ssl.SSLWantReadError):
        pass
    except (ConnectionError, ssl.SSLError, OSError):
        pass
    if b"\r\n\r\n" not in data:
        return None
    head, body = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return {"status": int(lines[0].split()[1]),
            "retry_after": headers.get("retry-after", ""),
            "body": body.decode("latin1", "replace")[:200]}

out = {"rss_before_kb": rss_kb()}
if mode == "api":
    head = ("POST /v1/certificates:batchIssue HTTP/1.1\r\nHost: localhost\r\n"
            "Authorization: Bearer %s\r\nContent-Type: application/x-protobuf\r\n" % token)
    body = padded(size)
    conns = [connect(True) for _ in range(n)]
    for s in conns:
        s.sendall((head + "Content-Length: %d\r\n\r\n" % size).encode())
    time.sleep(1.0)
    refused, held = [], []
    for s in conns:
        a = read_answer(s, 0.05)
        if a is None:
            held.append(s)
        else:
            refused.append(a)
            s.close()
    out["refused_before_body"] = refused
    for s in held:
        s.settimeout(30)
        s.sendall(body[:-1])
    time.sleep(0.5)
    out["rss_hold_kb"] = rss_kb()
    if chunked_kib:
        c = connect(True)
        c.sendall((head + "Transfer-Encoding: chunked\r\n\r\n").encode())
        for _ in range(chunked_kib):
            c.sendall(b"400\r\n" + b"\0" * 1024 + b"\r\n")
        c.sendall(b"0\r\n\r\n")
        out["chunked"] = read_answer(c, 10)
        c.close()
    answers = []
    for s in held:
        s.sendall(body[-1:])
        answers.append(read_answer(s, 30))
        s.close()
    out["held_answers"] = answers
else:
    head = ("POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/ocsp-request\r\n"
            "Content-Length: %d\r\n\r\n" % size).encode()
    conns = [connect(False) for _ in range(n)]
    for s in conns:
        s.sendall(head)
    time.sleep(1.0)
    out["rss_hold_kb"] = rss_kb()
    answers = []
    for s in conns:
        s.sendall(b"\0" * size)
    for s in conns:
        answers.append(read_answer(s, 10))
        s.close()
    out["answers"] = answers
time.sleep(0.5)
out["rss_after_kb"] = rss_kb()
print(json.dumps(out))
EOF

# Connections that fail or stall, in numbers.
cat >"$WORK/noisy.py" <<'EOF'
# noisy.py MODE HOST PORT CAFILE TOKEN N
# MODE handshake: N connections send plain HTTP to the TLS port (each a
# failed TLS handshake). MODE slow: N TLS clients send the headers of a
# request with a 100-byte body, then one byte every 0.4 s for 4 s; prints
# how many the server cut off.
import socket, ssl, sys, threading, time

mode, host, port, cafile, token, n = sys.argv[1:7]
port, n = int(port), int(n)
if mode == "handshake":
    for _ in range(n):
        s = socket.create_connection((host, port), timeout=5)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
        try:
            while s.recv(4096):
                pass
        except OSError:
            pass
        s.close()
    print(n)
    sys.exit(0)
# The ECDSA certificate of the last run is not under CAFILE's root: the
# log lines are the point here, not trust.
ctx = ssl.create_default_context(cafile=cafile)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
cut = []

def slow():
    s = ctx.wrap_socket(socket.create_connection((host, port), timeout=10),
                        server_hostname="localhost")
    s.sendall(("POST /v1/certificates:batchIssue HTTP/1.1\r\nHost: localhost\r\n"
               "Authorization: Bearer %s\r\nContent-Type: application/x-protobuf\r\n"
               "Content-Length: 100\r\n\r\n" % token).encode())
    for _ in range(10):
        time.sleep(0.4)
        try:
            s.sendall(b"\0")
        except (OSError, ssl.SSLError):
            cut.append(1)
            break
    s.close()

threads = [threading.Thread(target=slow) for _ in range(n)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(len(cut))
EOF

# pkid with its stdout on a terminal.
cat >"$WORK/pty_run.py" <<'EOF'
# pty_run.py STDERR_FILE READY_FILE PKID ARGS...: runs pkid with stdout on a
# new terminal and stderr to STDERR_FILE, stops it (SIGTERM) once READY_FILE
# is written, and prints what the terminal received.
import os, pty, select, signal, subprocess, sys, time

err, ready = sys.argv[1], sys.argv[2]
master, slave = pty.openpty()
p = subprocess.Popen(sys.argv[3:], stdin=subprocess.DEVNULL, stdout=slave,
                     stderr=open(err, "wb"))
os.close(slave)
out, deadline = b"", time.time() + 60

def drain(wait):
    global out
    while True:
        r, _, _ = select.select([master], [], [], wait)
        if not r:
            return
        try:
            chunk = os.read(master, 4096)
        except OSError:
            return
        if not chunk:
            return
        out += chunk

while time.time() < deadline and p.poll() is None:
    drain(0.2)
    if os.path.exists(ready) and os.path.getsize(ready) > 0:
        break
drain(0.3)
p.send_signal(signal.SIGTERM)
p.wait(30)
sys.stdout.write(out.decode("utf-8", "replace"))
EOF

ADMIN="$(head -1 "$TMP/data/admin.token")"
CA_PEM="$TMP/data/tls/ca.pem"
TOKEN_PATH="$(realpath "$TMP/data/admin.token")"

# ----------------------------------------------------------------------------
section "5. the first admin token: not on stdout when stdout is a file"
soft_eq "admin.token is mode 0600" "$(stat -c %a "$TMP/data/admin.token")" 600
soft_eq "pkid's output (stdout and stderr, a file) never holds the token" \
  "$(grep -cF -- "$ADMIN" "$TMP/pkid.log" || true)" 0
soft_eq "stdout names admin.token instead, once" \
  "$(grep -cxF "pkid: first start: admin token written to $TOKEN_PATH (mode 0600)" "$TMP/pkid.log" || true)" 1
# The same first start with stdout on a terminal prints the token there.
TTY_DB="${DB_NAME}_tty"
admin_sql "CREATE DATABASE \"$TTY_DB\"" >/dev/null || fail "cannot create $TTY_DB"
mkdir -p "$TMP/tty"
rm -rf "$TMP/tty/data" "$TMP/tty/ready"
TTY_OUT="$(python3 "$WORK/pty_run.py" "$TMP/tty/stderr" "$TMP/tty/ready" "$PKID" \
  --data-dir "$TMP/tty/data" --database "$(db_url_for "$TTY_DB")" \
  --listen 127.0.0.1:0 --ocsp-listen 127.0.0.1:0 --ready-file "$TMP/tty/ready" \
  --keypool none --monitor off)" || true
admin_sql "DROP DATABASE IF EXISTS \"$TTY_DB\" WITH (FORCE)" >/dev/null || true
[ -s "$TMP/tty/data/admin.token" ] || fail "pkid on a terminal wrote no admin.token: $(tail -5 "$TMP/tty/stderr")"
soft_has "on a terminal, stdout shows the token of its admin.token" \
  "$TTY_OUT" "pkid: first start: admin token $(head -1 "$TMP/tty/data/admin.token")"

# ----------------------------------------------------------------------------
section "6a. 100 failed TLS handshakes: the log lines are bounded"
LOG_AT="$(log_length)"
python3 "$WORK/noisy.py" handshake "${API%:*}" "${API##*:}" "$CA_PEM" "$ADMIN" 100 >/dev/null
sleep 1
HANDSHAKE_LINES="$(log_lines_from "$LOG_AT" " WARN http: ")"
log "log lines from 100 failed handshakes: $HANDSHAKE_LINES (of $(($(log_length) - LOG_AT)) new lines)"
soft_le "WARN http: lines for 100 failed handshakes" "$HANDSHAKE_LINES" 10
# Within a second of the end of the interval (10 s), one summary line.
for _ in $(seq 1 150); do
  [ "$(log_lines_from "$LOG_AT" "suppressed ")" -ge 1 ] && break
  sleep 0.1
done
soft_ge "a summary line of the suppressed ones follows" "$(log_lines_from "$LOG_AT" "similar messages in the last")" 1
SUPPRESSED="$(tail -n +"$((LOG_AT + 1))" "$TMP/pkid.log" |
  sed -n 's/.* suppressed \([0-9]*\) similar messages in the last [0-9]* s: http: .*/\1/p' |
  sort -n | tail -1)"
soft_ge "it counts the handshakes left out" "${SUPPRESSED:-0}" "$((100 - HANDSHAKE_LINES))"

# ----------------------------------------------------------------------------
section "2. ambiguous framing: 400 FRAMING_INVALID and the connection closed"
# framing LISTENER CASE: runs framing.py; sets FRAMED ("STATUS CLOSE BODY").
framing() {
  local host port tls
  if [ "$1" = api ]; then
    host="${API%:*}" port="${API##*:}" tls=1
  else
    host="${OCSP%:*}" port="${OCSP##*:}" tls=0
  fi
  FRAMED="$(python3 "$WORK/framing.py" "$host" "$port" "$tls" "$CA_PEM" "$ADMIN" "$2" 2>&1)" ||
    FRAMED="0 error $FRAMED"
}
for listener in api ocsp; do
  for case in two-lengths equal-lengths length-and-chunked gzip; do
    framing "$listener" "$case"
    soft_eq "$listener, $case: 400, connection closed" "${FRAMED%% *} $(echo "$FRAMED" | cut -d' ' -f2)" "400 closed"
    soft_has "$listener, $case: the code is FRAMING_INVALID" "$FRAMED" "FRAMING_INVALID"
  done
  # The control: one Content-Length, answered, the connection kept.
  framing "$listener" control
  soft_ge "$listener, control (one Content-Length): answered" "${FRAMED%% *}" 200
  soft_eq "$listener, control: the connection is kept" "$(echo "$FRAMED" | cut -d' ' -f2)" "open"
done

# ----------------------------------------------------------------------------
section "3. TLS 1.2 cipher suites (one openssl s_client each) and TLS 1.3"
# negotiated NAME ARGS...: the suite s_client negotiated, or NONE.
negotiated() {
  local name="$1" out
  shift
  out="$(timeout 20 openssl s_client -connect "$API" -servername localhost "$@" </dev/null 2>&1 || true)"
  printf '%s\n' "$out" >"$WORK/tls-$name.txt"
  out="$(printf '%s\n' "$out" | sed -n 's/^New, [^,]*, Cipher is //p' | head -1)"
  case "$out" in
    "" | "(NONE)") echo NONE ;;
    *) echo "$out" ;;
  esac
}
# cipher_sweep KEY: the suites of a certificate of KEY (RSA or ECDSA).
cipher_sweep() {
  local key="$1" c
  for c in "ECDHE-$key-AES128-GCM-SHA256" "ECDHE-$key-AES256-GCM-SHA384" "ECDHE-$key-CHACHA20-POLY1305"; do
    soft_eq "TLS 1.2 $c: accepted" "$(negotiated "$c" -tls1_2 -cipher "$c")" "$c"
  done
  local refused=("ECDHE-$key-AES128-SHA" "ECDHE-$key-AES256-SHA" "ECDHE-$key-AES128-SHA256"
    "ECDHE-$key-AES256-SHA384")
  if [ "$key" = RSA ]; then
    refused+=(AES128-SHA AES256-SHA AES128-SHA256 AES128-GCM-SHA256 AES256-GCM-SHA384
      AES128-CCM DHE-RSA-AES128-GCM-SHA256 DHE-RSA-AES256-GCM-SHA384
      DHE-RSA-CHACHA20-POLY1305 DHE-RSA-AES128-SHA)
  else
    refused+=(ECDHE-ECDSA-AES128-CCM ECDHE-ECDSA-AES256-CCM)
  fi
  for c in "${refused[@]}"; do
    # A name openssl does not know would be "refused" by the client itself.
    openssl ciphers "$c" >/dev/null 2>&1 || fail "openssl does not know the suite $c"
    soft_eq "TLS 1.2 $c: refused" "$(negotiated "$c" -tls1_2 -cipher "$c")" NONE
  done
  for c in TLS_AES_128_GCM_SHA256 TLS_AES_256_GCM_SHA384 TLS_CHACHA20_POLY1305_SHA256; do
    soft_eq "TLS 1.3 $c: accepted" "$(negotiated "$c" -tls1_3 -ciphersuites "$c")" "$c"
  done
  soft_eq "TLS 1.3 over a finite-field group (ffdhe2048) only: refused" \
    "$(negotiated ffdhe -tls1_3 -groups ffdhe2048)" NONE
}
KEY_ALG="$(timeout 20 openssl s_client -connect "$API" </dev/null 2>/dev/null |
  openssl x509 -noout -text | sed -n 's/^ *Public Key Algorithm: //p')"
expect_eq "pkid's own API certificate has an RSA key (tomcat profile)" "$KEY_ALG" rsaEncryption
cipher_sweep RSA
check "curl (TLS 1.3, default suites) still served" curl -q -sS --max-time 30 --cacert "$CA_PEM" \
  -o /dev/null "$BASE/healthz"
check "curl --tls-max 1.2 still served" curl -q -sS --max-time 30 --cacert "$CA_PEM" \
  --tls-max 1.2 -o /dev/null "$BASE/healthz"
# An ECDSA certificate for the --tls-cert run at the end.
mkdir -p "$WORK/ec"
pkictl_run "$BASE" keygen --profile tomcat-ECDSA --cn localhost --san localhost \
  --san 127.0.0.1 --out-dir "$WORK/ec"
[ "$PKICTL_RC" = 0 ] || fail "pkictl keygen tomcat-ECDSA: $PKICTL_OUT"

# ----------------------------------------------------------------------------
section "4. database errors: the text stays in pkid's log"
MARK="probe-marker-$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')"
sql "CREATE FUNCTION probe_refuse() RETURNS trigger LANGUAGE plpgsql AS
  \$\$BEGIN RAISE EXCEPTION '$MARK in %', TG_TABLE_NAME; END\$\$" >/dev/null
sql "CREATE TRIGGER probe_refuse BEFORE INSERT ON certificates FOR EACH ROW
  EXECUTE FUNCTION probe_refuse()" >/dev/null
make_csr "$WORK/db.csr" rsa:2048 "/CN=db.example.com"
LOG_AT="$(log_length)"
rm -f "$WORK/db.headers"
http POST "$BASE/v1/sign?profile=tomcat" "$WORK/db.body" --data-binary @"$WORK/db.csr" \
  -D "$WORK/db.headers"
DB_BODY="$(cat "$WORK/db.body")"
soft_eq "/v1/sign with a failing insert: HTTP status" "$HTTP_CODE" 503
soft_has "its code is STORAGE_UNAVAILABLE" "$DB_BODY" "STORAGE_UNAVAILABLE: "
soft_has "it says Retry-After" "$(cat "$WORK/db.headers")" "Retry-After: 1"
soft_lacks "the answer does not hold the database's message" "$DB_BODY" "$MARK"
soft_lacks "the answer does not hold an SQL state" "$DB_BODY" "SQLSTATE"
soft_lacks "the answer does not name the statement" "$DB_BODY" "COPY"
soft_has "the answer says what happened in plain words" "$DB_BODY" \
  "the database could not complete the request"
pkictl_run "$BASE" issue --profile tomcat --csr "$WORK/db.csr" --out "$WORK/db.pem"
soft_lacks "the protobuf error (pkictl issue) does not hold the database's message" \
  "$PKICTL_OUT" "$MARK"
soft_has "pkictl issue: STORAGE_UNAVAILABLE" "$PKICTL_OUT" "STORAGE_UNAVAILABLE"
sleep 0.5
soft_ge "pkid's log holds the database's message" "$(log_lines_from "$LOG_AT" "$MARK")" 1
soft_ge "with its SQL state, on one line" \
  "$(tail -n +"$((LOG_AT + 1))" "$TMP/pkid.log" | grep -F -- "$MARK" | grep -cF "SQLSTATE P0001" || true)" 1
sql "DROP TRIGGER probe_refuse ON certificates" >/dev/null
# Connections cut under pkid: libpq's text (server closed the connection).
sql "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
  WHERE datname = '$DB_NAME' AND pid <> pg_backend_pid()" >/dev/null
SEEN_503=0
LEAKED=""
for _ in 1 2 3 4 5; do
  http GET "$BASE/v1/certificates?format=text&limit=1" "$WORK/cut.body"
  if [ "$HTTP_CODE" = 503 ]; then
    SEEN_503=$((SEEN_503 + 1))
    body="$(cat "$WORK/cut.body")"
    for word in "server closed" terminat "SQLSTATE" "connection to server" "127.0.0.1"; do
      case "$body" in *"$word"*) LEAKED="$LEAKED [$word in: $body]" ;; esac
    done
  fi
done
soft_ge "requests on connections the server terminated: answered 503" "$SEEN_503" 1
soft_eq "none of those answers holds libpq's text" "$LEAKED" ""
http GET "$BASE/v1/certificates?format=text&limit=1" "$WORK/cut.body"
soft_eq "pkid serves again" "$HTTP_CODE" 200

# ----------------------------------------------------------------------------
section "1. parallel large bodies against --max-buffered-bytes (API)"
BUDGET_FLAGS=()
if "$PKID" --help 2>/dev/null | grep -q -- --max-buffered-bytes; then
  pass "pkid has --max-buffered-bytes"
  BUDGET_FLAGS=(--max-buffered-bytes 25165824)
else
  record_fail "pkid has no --max-buffered-bytes flag (the load runs without it)"
fi
# Bodies of 6 MiB: over the 4 MiB that a refused request is still read for,
# so a refusal comes at once. 24 MiB hold four.
# Under AddressSanitizer (--config=asan sets ASAN_OPTIONS), freed memory
# waits in a quarantine of up to 256 MiB before reuse, and every TLS record
# passes through freed buffers: this pkid gets a small one, so that its RSS
# shows what it holds.
SAVED_ASAN_OPTIONS="${ASAN_OPTIONS-}"
if [ -n "$SAVED_ASAN_OPTIONS" ]; then
  export ASAN_OPTIONS="$SAVED_ASAN_OPTIONS:quarantine_size_mb=1"
fi
pkid_restart --keypool none --max-body-bytes 8388608 ${BUDGET_FLAGS[@]+"${BUDGET_FLAGS[@]}"}
if [ -n "$SAVED_ASAN_OPTIONS" ]; then
  export ASAN_OPTIONS="$SAVED_ASAN_OPTIONS"
fi
RESULT="$(python3 "$WORK/budget.py" api "${API%:*}" "${API##*:}" "$CA_PEM" "$ADMIN" 20 6291456 "$PKID_PID" 64)"
printf '%s\n' "$RESULT" >"$WORK/budget-api.json"
# field EXPR: a value of RESULT (a python expression over d).
field() {
  python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' \
    "$WORK/budget-api.json" "$1"
}
RSS_BEFORE="$(field 'd["rss_before_kb"]')"
RSS_HOLD="$(field 'd["rss_hold_kb"]')"
RSS_AFTER="$(field 'd["rss_after_kb"]')"
log "pkid RSS: $RSS_BEFORE KB before, $RSS_HOLD KB while the bodies are held, $RSS_AFTER KB after"
soft_eq "20 bodies of 6 MiB, 24 MiB of budget: refused before their body is read" \
  "$(field 'len(d["refused_before_body"])')" 16
soft_eq "each refusal: 503 with Retry-After" \
  "$(field 'sorted(set("%d retry-after=%s" % (a["status"], a["retry_after"]) for a in d["refused_before_body"]))')" \
  "['503 retry-after=1']"
soft_eq "each refusal: code BUFFERS_FULL" \
  "$(field 'all("BUFFERS_FULL" in a["body"] for a in d["refused_before_body"])')" True
soft_eq "the four held are read whole and answered (an empty batch: 400 BATCH_EMPTY)" \
  "$(field '[ (a or {}).get("status") for a in d["held_answers"] if a and "BATCH_EMPTY" in a["body"]].count(400)')" 4
soft_eq "a chunked body while the budget is spent: 503 BUFFERS_FULL" \
  "$(field '"%s %s" % ((d.get("chunked") or {}).get("status"), "BUFFERS_FULL" in (d.get("chunked") or {}).get("body", ""))')" \
  "503 True"
# What the four held bodies cost (24 MiB), and some slack for TLS and
# allocator; without a budget all twenty (120 MiB) are held.
soft_le "pkid's RSS growth while holding them (KB)" "$((RSS_HOLD - RSS_BEFORE))" $((36 * 1024))
curl -q -sS --max-time 30 --cacert "$CA_PEM" "$BASE/metrics" -o "$WORK/metrics.txt" ||
  fail "GET /metrics"
soft_eq "/metrics: nothing reserved once answered" \
  "$(sed -n 's/^pki_buffered_body_bytes{listener="api"} //p' "$WORK/metrics.txt")" 0
soft_eq "/metrics: the most reserved at once is the budget" \
  "$(sed -n 's/^pki_buffered_body_bytes_max{listener="api"} //p' "$WORK/metrics.txt")" 25165824
soft_eq "/metrics: 17 refusals (16 declared, one chunked)" \
  "$(sed -n 's/^pki_buffered_body_refusals_total{listener="api"} //p' "$WORK/metrics.txt")" 17

# ----------------------------------------------------------------------------
section "1b. the OCSP listener's budget"
if [ "${#BUDGET_FLAGS[@]}" -gt 0 ]; then
  BUDGET_FLAGS=(--max-buffered-bytes 65536)
fi
pkid_restart --keypool none --max-body-bytes 65536 ${BUDGET_FLAGS[@]+"${BUDGET_FLAGS[@]}"}
# Six OCSP requests of 16 KiB (the largest) at once under 64 KiB: four fit.
RESULT="$(python3 "$WORK/budget.py" ocsp "${OCSP%:*}" "${OCSP##*:}" "$CA_PEM" "$ADMIN" 6 16384 "$PKID_PID")"
printf '%s\n' "$RESULT" >"$WORK/budget-api.json"
soft_eq "OCSP: four answered (malformedRequest, HTTP 200), two refused 503 BUFFERS_FULL" \
  "$(field 'sorted("%d %s" % (a["status"], "BUFFERS_FULL" if "BUFFERS_FULL" in a["body"] else "-") for a in d["answers"] if a)')" \
  "['200 -', '200 -', '200 -', '200 -', '503 BUFFERS_FULL', '503 BUFFERS_FULL']"
soft_eq "OCSP: the refusals say Retry-After" \
  "$(field 'sorted(set(a["retry_after"] for a in d["answers"] if a and a["status"] == 503))')" "['1']"

# ----------------------------------------------------------------------------
section "3b. TLS 1.2 cipher suites with an ECDSA --tls-cert; 6b. 100 slow clients"
pkid_restart --keypool none --request-timeout 1 --tls-cert "$WORK/ec/localhost.pem" \
  --tls-key "$WORK/ec/localhost.key"
KEY_ALG="$(timeout 20 openssl s_client -connect "$API" </dev/null 2>/dev/null |
  openssl x509 -noout -text | sed -n 's/^ *Public Key Algorithm: //p')"
expect_eq "the API now serves an EC certificate" "$KEY_ALG" id-ecPublicKey
cipher_sweep ECDSA
# Each client sends a byte every 0.4 s: cut off at --request-timeout (1 s).
LOG_AT="$(log_length)"
CUT="$(python3 "$WORK/noisy.py" slow "${API%:*}" "${API##*:}" "$CA_PEM" "$ADMIN" 100)"
sleep 1
SLOW_LINES="$(($(log_length) - LOG_AT))"
log "100 slow clients, $CUT cut off: $SLOW_LINES new log lines"
soft_ge "the slow clients were cut off at --request-timeout" "$CUT" 90
soft_le "log lines for 100 slow clients" "$SLOW_LINES" 20

# ----------------------------------------------------------------------------
if [ "${#FAILED[@]}" -gt 0 ]; then
  printf '\n%d of %d checks failed:\n' "${#FAILED[@]}" "$((CHECKS + ${#FAILED[@]}))"
  printf '  - %s\n' "${FAILED[@]}"
  exit 1
fi
interop_finish
