#!/usr/bin/env bash
# Interop: bulk export, consolidate and import through an SFTP location, as
# CUCM's Bulk Certificate Management uses one, against a real OpenSSH
# server started here as a non-root process on a high port, with its own
# sshd_config, host key and authorized_keys: transfers with a key, the
# server's host key pinned by SHA-256 or known_hosts, and the refusals (a
# wrong or unknown host key, a wrong password, no pin at all).
set -eu

. "$(dirname "$0")/lib.sh"

interop_start

for tool in ssh-keygen python3 setpriv; do
  command -v "$tool" >/dev/null 2>&1 || fail "$tool is not installed"
done
SSHD="$(command -v sshd || echo /usr/sbin/sshd)"
[ -x "$SSHD" ] || fail "sshd is not installed (Debian openssh-server)"

# The server's files live outside the test's own directory: sshd, run as
# an unprivileged user, must reach them.
SFTP_DIR="$(env -u TMPDIR mktemp -d -t pki-sftp.XXXXXX)"
# pkictl stages sftp:// transfers under $TMPDIR: a directory of this test's
# own, so that the check of leftovers below counts only what this test's
# pkictl left (tests run in parallel, and sftp_password_test stages too).
export TMPDIR="$WORK/staging"
mkdir -p "$TMPDIR"
SSHD_PID=""
stop_sshd() {
  if [ -n "$SSHD_PID" ]; then
    kill "$SSHD_PID" 2>/dev/null || true
  fi
  rm -rf "$SFTP_DIR"
}
# interop_cleanup reads the test's exit status from $?: keep it.
trap 'sftp_rc=$?; stop_sshd; (exit "$sftp_rc"); interop_cleanup' EXIT

if [ "$(id -u)" -eq 0 ]; then
  SFTP_USER=nobody
  AS_USER=(setpriv --reuid=nobody --regid="$(id -gn nobody)" --clear-groups)
else
  SFTP_USER="$(id -un)"
  AS_USER=()
fi
PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
ssh-keygen -q -t ed25519 -N '' -C pki-test-host -f "$SFTP_DIR/host_key"
ssh-keygen -q -t ed25519 -N '' -C pki-test-other -f "$SFTP_DIR/other_host_key"
ssh-keygen -q -t ed25519 -N '' -C pki-test-user -f "$SFTP_DIR/user_key"
cp "$SFTP_DIR/user_key.pub" "$SFTP_DIR/authorized_keys"
mkdir -p "$SFTP_DIR/share"
cat >"$SFTP_DIR/sshd_config" <<CONF
Port $PORT
ListenAddress 127.0.0.1
HostKey $SFTP_DIR/host_key
AuthorizedKeysFile $SFTP_DIR/authorized_keys
PidFile $SFTP_DIR/sshd.pid
StrictModes no
UsePAM yes
PasswordAuthentication yes
KbdInteractiveAuthentication no
PrintMotd no
Subsystem sftp internal-sftp
CONF
if [ "$(id -u)" -eq 0 ]; then
  chown -R nobody "$SFTP_DIR"
  chmod 755 "$SFTP_DIR"
fi
# sshd wants its own absolute path; -D keeps it in the foreground (our
# child), -e logs to stderr.
"${AS_USER[@]}" "$SSHD" -D -e -f "$SFTP_DIR/sshd_config" >"$TMP/sshd.log" 2>&1 &
SSHD_PID=$!
for _ in $(seq 1 100); do
  grep -q "Server listening" "$TMP/sshd.log" 2>/dev/null && break
  kill -0 "$SSHD_PID" 2>/dev/null || fail "sshd exited: $(cat "$TMP/sshd.log")"
  sleep 0.1
done
grep -q "Server listening" "$TMP/sshd.log" || fail "sshd is not listening: $(cat "$TMP/sshd.log")"
log "sshd: pid $SSHD_PID, port $PORT, user $SFTP_USER (uid $(id -u "$SFTP_USER"))"
expect_eq "sshd runs as a non-root user" "$(ps -o uid= -p "$SSHD_PID" | tr -d ' ')" \
  "$(id -u "$SFTP_USER")"

URL="sftp://$SFTP_USER@127.0.0.1:$PORT$SFTP_DIR/share"
FP="$(ssh-keygen -lf "$SFTP_DIR/host_key.pub" | awk '{print $2}')"
OTHER_FP="$(ssh-keygen -lf "$SFTP_DIR/other_host_key.pub" | awk '{print $2}')"
printf '[127.0.0.1]:%s %s\n' "$PORT" "$(cat "$SFTP_DIR/host_key.pub")" >"$WORK/known_hosts"
printf '[127.0.0.1]:%s %s\n' "$PORT" "$(cat "$SFTP_DIR/other_host_key.pub")" >"$WORK/wrong_known_hosts"
: >"$WORK/empty_known_hosts"
KEY=(--sftp-key "$SFTP_DIR/user_key")

section "certificates of two clusters"
for c in alpha beta; do
  make_csr "$WORK/$c.csr" rsa:2048 "/CN=cucm1.$c.example.com/O=Lab"
  http POST "$BASE/v1/sign?profile=tomcat&cluster=$c" "$WORK/$c.pem" --data-binary @"$WORK/$c.csr"
  expect_eq "a tomcat certificate of cluster $c: 200" "$HTTP_CODE" 200
done

section "export to SFTP: host key pinned by SHA-256, then by known_hosts"
pkictl_run "$BASE" bulk export --dir "$URL" --cluster alpha --format p7b "${KEY[@]}" \
  --host-key-sha256 "$FP"
expect_eq "export alpha to sftp:// exits 0 ($PKICTL_OUT)" "$PKICTL_RC" 0
expect_contains "it says where it went" "$PKICTL_OUT" "uploaded $URL/alpha.bundle"
check "alpha.bundle is on the server" test -s "$SFTP_DIR/share/alpha.bundle"
check "alpha.p7b is on the server, a PKCS#7 openssl reads" \
  openssl pkcs7 -inform DER -in "$SFTP_DIR/share/alpha.p7b" -print_certs -noout
pkictl_run "$BASE" bulk export --dir "$URL/" --cluster beta "${KEY[@]}" \
  --known-hosts "$WORK/known_hosts"
expect_eq "export beta, pinned by known_hosts ($PKICTL_OUT)" "$PKICTL_RC" 0
check "beta.bundle is on the server" test -s "$SFTP_DIR/share/beta.bundle"
pkictl_run "$BASE" bulk export --dir "$URL/deeper/dir" --cluster beta "${KEY[@]}" \
  --host-key-sha256 "${FP#SHA256:}"
expect_eq "a missing directory is made; the fingerprint without its prefix ($PKICTL_OUT)" \
  "$PKICTL_RC" 0
check "deeper/dir/beta.bundle" test -s "$SFTP_DIR/share/deeper/dir/beta.bundle"

section "consolidate on SFTP, and import from it"
pkictl_run "$BASE" bulk consolidate --dir "$URL" "${KEY[@]}" --host-key-sha256 "$FP"
expect_eq "consolidate over sftp:// exits 0 ($PKICTL_OUT)" "$PKICTL_RC" 0
expect_contains "two bundles of two clusters" "$PKICTL_OUT" "2 bundles of 2 clusters"
check "consolidated.bundle is on the server" test -s "$SFTP_DIR/share/consolidated.bundle"
pkictl_run "$BASE" bulk import --dir "$URL" --cluster beta "${KEY[@]}" --host-key-sha256 "$FP"
expect_eq "import from sftp:// exits 0 ($PKICTL_OUT)" "$PKICTL_RC" 0
expect_contains "beta imports alpha's certificate" "$PKICTL_OUT" "cucm1.alpha.example.com"
expect_contains "... into tomcat-trust" "$PKICTL_OUT" "tomcat-trust"
expect_eq "the trust entry is in the database" \
  "$(sql "SELECT count(*) FROM trust_entries WHERE store = 'tomcat-trust' AND common_name = 'cucm1.alpha.example.com'")" 1
LOCAL="$WORK/local-copy"
mkdir -p "$LOCAL"
cp "$SFTP_DIR/share/consolidated.bundle" "$LOCAL/"
pkictl_run "$BASE" bulk import --dir "$LOCAL" --cluster beta
expect_contains "the same bundle from a local directory changes nothing" "$PKICTL_OUT" \
  "0 added, 0 replaced, 1 unchanged"
expect_eq "no staging directory is left behind" \
  "$(find "${TMPDIR:-/tmp}" -maxdepth 1 -name 'pkictl-sftp.*' 2>/dev/null | wc -l)" 0

section "refusals: the server's key must be the pinned one"
rm -f "$SFTP_DIR/share/alpha.bundle"
pkictl_run "$BASE" bulk export --dir "$URL" --cluster alpha "${KEY[@]}" \
  --host-key-sha256 "$OTHER_FP"
expect_eq "a different SHA-256 pin: refused" "$PKICTL_RC" 1
expect_contains "... saying so" "$PKICTL_OUT" "mismatch sha256 fingerprint"
pkictl_run "$BASE" bulk export --dir "$URL" --cluster alpha "${KEY[@]}" \
  --known-hosts "$WORK/wrong_known_hosts"
expect_eq "a known_hosts with another key: refused" "$PKICTL_RC" 1
expect_contains "... saying so" "$PKICTL_OUT" "the server's host key differs from known_hosts"
pkictl_run "$BASE" bulk export --dir "$URL" --cluster alpha "${KEY[@]}" \
  --known-hosts "$WORK/empty_known_hosts"
expect_eq "a known_hosts without the server: refused, never learned" "$PKICTL_RC" 1
expect_contains "... saying so" "$PKICTL_OUT" "the server's host key is not in known_hosts"
expect_eq "known_hosts was not written" "$(wc -c <"$WORK/empty_known_hosts")" 0
pkictl_run "$BASE" bulk export --dir "$URL" --cluster alpha "${KEY[@]}"
expect_eq "no pin at all: refused" "$PKICTL_RC" 1
expect_contains "... saying so" "$PKICTL_OUT" "pin the server's host key"
check "nothing was uploaded" test ! -e "$SFTP_DIR/share/alpha.bundle"

section "refusals: credentials"
printf 'not-the-password\n' >"$WORK/wrong_password"
pkictl_run "$BASE" bulk import --dir "$URL" --cluster beta \
  --sftp-password-file "$WORK/wrong_password" --host-key-sha256 "$FP"
expect_eq "a wrong password: refused" "$PKICTL_RC" 1
expect_contains "... as an authentication failure" "$PKICTL_OUT" "authentication refused"
pkictl_run "$BASE" bulk export --dir "sftp://$SFTP_USER:secret@127.0.0.1:$PORT/x" \
  --cluster alpha --host-key-sha256 "$FP" --sftp-password-file "$WORK/wrong_password"
expect_contains "a password in the URL (argv is public): refused" "$PKICTL_OUT" \
  "no password in the URL"
pkictl_run "$BASE" bulk export --dir "$WORK/plain" --cluster alpha --host-key-sha256 "$FP"
expect_eq "SFTP flags without an sftp:// --dir: usage" "$PKICTL_RC" 2
pkictl_run "$BASE" bulk export --issued --dir "$URL" "${KEY[@]}" --host-key-sha256 "$FP"
expect_eq "--issued over sftp://: usage" "$PKICTL_RC" 2

interop_finish
