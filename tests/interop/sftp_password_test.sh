#!/usr/bin/env bash
# Interop: bulk export and import through an SFTP location with PASSWORD
# authentication, end to end, against a real OpenSSH server.
#
# Password authentication reads /etc/shadow, so this sshd runs as root
# (tests/interop/sftp_test.sh runs one as an unprivileged user, which can
# only take keys). The test makes everything it needs and removes it again:
# a dedicated sshd_config on a free loopback port (its own host key,
# password authentication only, internal-sftp forced, the test's user
# alone allowed in), and a dedicated local user with a random password
# (useradd, chpasswd from stdin), deleted at exit whatever happens.
#
# It checks that a right password logs in (sshd logs "Accepted password")
# for an export and an import, that a wrong one is refused ("Failed
# password", nothing uploaded), and that the password is on no command
# line: pkictl reads only the file's path, and the pki-sftp it runs gets the
# path in PKI_SFTP_PASSWORD_FILE (every argv and environment recorded by a
# wrapper and searched), nor in any output or log of the test.
#
# Not root: the test cannot make a user or read /etc/shadow. It says so on
# stdout with a line starting "PKI-TEST-SKIPPED:" and exits 0; bazel/pki
# test counts such a target as skipped, not passed. The CI runs as root.
set -eu

if [ "$(id -u)" -ne 0 ]; then
  msg="sftp_password_test needs root (password logins read /etc/shadow; the test makes and removes a local user); run as $(id -un)"
  printf '\n*** %s ***\n' "$msg"
  printf 'PKI-TEST-SKIPPED: %s\n' "$msg"
  exit 0
fi

. "$(dirname "$0")/lib.sh"

for tool in ssh-keygen python3 useradd userdel chpasswd getent; do
  command -v "$tool" >/dev/null 2>&1 || fail "$tool is not installed"
done
SSHD="$(command -v sshd || echo /usr/sbin/sshd)"
[ -x "$SSHD" ] || fail "sshd is not installed (Debian openssh-server)"

# pam_nologin (sshd's PAM stack) refuses every user but root while one of
# these exists (a machine still booting, or closed to logins): say so
# rather than fail later as a refused password.
for f in /run/nologin /etc/nologin; do
  [ ! -e "$f" ] || fail "$f exists: this machine refuses logins of users other than root, so the test's user cannot log in"
done

interop_start

# Outside the test's own directory: sshd and the user must reach it.
SFTP_DIR="$(env -u TMPDIR mktemp -d -t pki-sftp-pw.XXXXXX)"
chmod 755 "$SFTP_DIR"
SFTP_USER="pkisftp$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')"
SSHD_PID=""
USER_MADE=0
RUN_SSHD_MADE=0
stop_all() {
  if [ -n "$SSHD_PID" ]; then
    kill "$SSHD_PID" 2>/dev/null || true
    wait "$SSHD_PID" 2>/dev/null || true
  fi
  if [ "$USER_MADE" = 1 ]; then
    # A session process of the user may outlive sshd by a moment.
    local i
    for i in 1 2 3 4 5; do
      userdel "$SFTP_USER" 2>/dev/null && break
      sleep 0.2
    done
    getent passwd "$SFTP_USER" >/dev/null && userdel -f "$SFTP_USER"
    getent passwd "$SFTP_USER" >/dev/null &&
      printf 'warning: could not delete user %s\n' "$SFTP_USER" >&2
  fi
  if [ "$RUN_SSHD_MADE" = 1 ]; then
    rmdir /run/sshd 2>/dev/null || true
  fi
  rm -rf "$SFTP_DIR"
}
# interop_cleanup reads the test's exit status from $?: keep it.
trap 'pw_rc=$?; stop_all; (exit "$pw_rc"); interop_cleanup' EXIT

section "a local user with a random password, an sshd as root"
# The password goes from /dev/urandom into a 0600 file and from there to
# chpasswd's stdin: never an argument of any command.
umask 077
od -An -N18 -tx1 /dev/urandom | tr -d ' \n' >"$SFTP_DIR/password"
umask 022
expect_eq "the password is 36 hex digits" "$(wc -c <"$SFTP_DIR/password")" 36
mkdir "$SFTP_DIR/home"
useradd --no-create-home --home-dir "$SFTP_DIR/home" --shell /usr/sbin/nologin \
  --comment "pki sftp_password_test" "$SFTP_USER"
USER_MADE=1
{
  printf '%s:' "$SFTP_USER"
  cat "$SFTP_DIR/password"
} | chpasswd
chown "$SFTP_USER:" "$SFTP_DIR/home"
mkdir "$SFTP_DIR/home/share"
chown "$SFTP_USER:" "$SFTP_DIR/home/share"
check "the user exists, with a password hash in /etc/shadow" \
  sh -c 'getent shadow "$1" | cut -d: -f2 | grep -q "^[$]"' _ "$SFTP_USER"
log "user: $SFTP_USER (uid $(id -u "$SFTP_USER"))"

# sshd as root wants its privilege separation directory; a machine where
# no sshd ever ran may not have it.
if [ ! -d /run/sshd ]; then
  mkdir -m 755 /run/sshd
  RUN_SSHD_MADE=1
fi
PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
ssh-keygen -q -t ed25519 -N '' -C pki-test-host -f "$SFTP_DIR/host_key"
cat >"$SFTP_DIR/sshd_config" <<CONF
Port $PORT
ListenAddress 127.0.0.1
HostKey $SFTP_DIR/host_key
PidFile $SFTP_DIR/sshd.pid
LogLevel VERBOSE
UsePAM yes
AuthenticationMethods password
PasswordAuthentication yes
PermitEmptyPasswords no
PubkeyAuthentication no
KbdInteractiveAuthentication no
HostbasedAuthentication no
PermitRootLogin no
AllowUsers $SFTP_USER
AuthorizedKeysFile none
PrintMotd no
PermitTTY no
X11Forwarding no
AllowTcpForwarding no
AllowAgentForwarding no
PermitTunnel no
Subsystem sftp internal-sftp
ForceCommand internal-sftp
CONF
"$SSHD" -t -f "$SFTP_DIR/sshd_config" || fail "sshd -t refuses the test's sshd_config"
# -D keeps it in the foreground (our child), -e logs to stderr.
"$SSHD" -D -e -f "$SFTP_DIR/sshd_config" >"$TMP/sshd.log" 2>&1 &
SSHD_PID=$!
for _ in $(seq 1 100); do
  grep -q "Server listening" "$TMP/sshd.log" 2>/dev/null && break
  kill -0 "$SSHD_PID" 2>/dev/null || fail "sshd exited: $(cat "$TMP/sshd.log")"
  sleep 0.1
done
grep -q "Server listening" "$TMP/sshd.log" || fail "sshd is not listening: $(cat "$TMP/sshd.log")"
expect_eq "sshd runs as root (it reads /etc/shadow)" \
  "$(ps -o uid= -p "$SSHD_PID" | tr -d ' ')" 0
log "sshd: pid $SSHD_PID, port $PORT"

# pkictl runs the pki-sftp that sits beside it: a copy of pkictl beside a
# wrapper records every argv and environment pki-sftp gets, then runs the
# real one.
BIN="$WORK/bin"
mkdir -p "$BIN"
cp "$PKICTL" "$BIN/pkictl"
REAL_SFTP="$PWD/api/pki-sftp"
[ -x "$REAL_SFTP" ] || fail "pki-sftp not found in the runfiles ($REAL_SFTP)"
cat >"$BIN/pki-sftp" <<WRAP
#!/bin/sh
printf 'argv:' >>"$WORK/sftp-argv.log"
for a in "\$@"; do printf ' [%s]' "\$a" >>"$WORK/sftp-argv.log"; done
printf '\n' >>"$WORK/sftp-argv.log"
env >>"$WORK/sftp-env.log"
exec "$REAL_SFTP" "\$@"
WRAP
chmod 755 "$BIN/pki-sftp"
PKICTL="$BIN/pkictl"
# Every pkictl output, searched for the password at the end.
pw_pkictl_run() {
  pkictl_run "$@"
  printf '%s\n' "$PKICTL_OUT" >>"$WORK/pkictl.out"
}

URL="sftp://$SFTP_USER@127.0.0.1:$PORT$SFTP_DIR/home/share"
FP="$(ssh-keygen -lf "$SFTP_DIR/host_key.pub" | awk '{print $2}')"
# The password file the operator keeps: its first line is the password.
cp "$SFTP_DIR/password" "$WORK/sftp.password"
printf '\n' >>"$WORK/sftp.password"
chmod 600 "$WORK/sftp.password"
od -An -N18 -tx1 /dev/urandom | tr -d ' \n' >"$WORK/wrong.password"

section "certificates of two clusters"
for c in alpha beta; do
  make_csr "$WORK/$c.csr" rsa:2048 "/CN=cucm1.$c.example.com/O=Lab"
  http POST "$BASE/v1/sign?profile=tomcat&cluster=$c" "$WORK/$c.pem" --data-binary @"$WORK/$c.csr"
  expect_eq "a tomcat certificate of cluster $c: 200" "$HTTP_CODE" 200
done

section "a wrong password: refused, nothing uploaded"
pw_pkictl_run "$BASE" bulk export --dir "$URL" --cluster alpha \
  --sftp-password-file "$WORK/wrong.password" --host-key-sha256 "$FP"
expect_eq "export with a wrong password exits 1" "$PKICTL_RC" 1
expect_contains "... as an authentication failure ($PKICTL_OUT)" "$PKICTL_OUT" \
  "authentication refused"
check "nothing was uploaded" test ! -e "$SFTP_DIR/home/share/alpha.bundle"
check "sshd logged the failed password" \
  grep -q "Failed password for $SFTP_USER from 127.0.0.1" "$TMP/sshd.log"
expect_eq "and no password login was accepted" \
  "$(grep -c "Accepted password for" "$TMP/sshd.log" || true)" 0

section "the right password: export both clusters, consolidate, import"
for c in alpha beta; do
  pw_pkictl_run "$BASE" bulk export --dir "$URL" --cluster "$c" \
    --sftp-password-file "$WORK/sftp.password" --host-key-sha256 "$FP"
  expect_eq "export $c with the password exits 0 ($PKICTL_OUT)" "$PKICTL_RC" 0
  expect_contains "it says where it went" "$PKICTL_OUT" "uploaded $URL/$c.bundle"
  check "$c.bundle is on the server" test -s "$SFTP_DIR/home/share/$c.bundle"
done
expect_eq "the uploads belong to the user who logged in" \
  "$(stat -c %U "$SFTP_DIR/home/share/alpha.bundle")" "$SFTP_USER"
check "sshd logged a password login of the user" \
  grep -q "Accepted password for $SFTP_USER from 127.0.0.1" "$TMP/sshd.log"
pw_pkictl_run "$BASE" bulk consolidate --dir "$URL" \
  --sftp-password-file "$WORK/sftp.password" --host-key-sha256 "$FP"
expect_eq "consolidate with the password exits 0 ($PKICTL_OUT)" "$PKICTL_RC" 0
expect_contains "two bundles of two clusters" "$PKICTL_OUT" "2 bundles of 2 clusters"
pw_pkictl_run "$BASE" bulk import --dir "$URL" --cluster beta \
  --sftp-password-file "$WORK/sftp.password" --host-key-sha256 "$FP"
expect_eq "import with the password exits 0 ($PKICTL_OUT)" "$PKICTL_RC" 0
expect_contains "beta imports alpha's certificate" "$PKICTL_OUT" "cucm1.alpha.example.com"
expect_eq "the trust entry is in the database" \
  "$(sql "SELECT count(*) FROM trust_entries WHERE store = 'tomcat-trust' AND common_name = 'cucm1.alpha.example.com'")" 1
pw_pkictl_run "$BASE" bulk import --dir "$URL" --cluster beta \
  --sftp-password-file "$WORK/wrong.password" --host-key-sha256 "$FP"
expect_eq "an import with a wrong password exits 1" "$PKICTL_RC" 1
expect_contains "... as an authentication failure" "$PKICTL_OUT" "authentication refused"

section "the password is on no command line and in no log"
RUNS="$(grep -c '^argv:' "$WORK/sftp-argv.log")"
check "pki-sftp ran for every transfer ($RUNS runs)" test "$RUNS" -ge 7
ARGV_SHAPE="^argv: \[(put|get|list)\] \[sftp://$SFTP_USER@127\.0\.0\.1:$PORT/[^]:@]*\] \[[^]]*\]( \[[0-9]+\])?\$"
check "every pki-sftp argv is OP URL FILE [MAX], no password in the URL" \
  sh -c '! grep -vE "$1" "$2"' _ "$ARGV_SHAPE" "$WORK/sftp-argv.log"
check "pki-sftp got the password file's path in its environment" \
  grep -qx "PKI_SFTP_PASSWORD_FILE=$WORK/sftp.password" "$WORK/sftp-env.log"
# grep reads the password from its file (-f): not even this check puts it
# on a command line.
for f in "$WORK/sftp-argv.log" "$WORK/sftp-env.log" "$WORK/pkictl.out" \
  "$TMP/sshd.log" "$TMP/pkid.log"; do
  check "the password is not in $(basename "$f")" \
    sh -c '! grep -qF -f "$1" "$2"' _ "$SFTP_DIR/password" "$f"
done
check "nor in any other file of the test but the password files" \
  sh -c '! grep -rlF -f "$1" "$2" "$3" | grep -vxF -e "$1" -e "$4"' _ \
  "$SFTP_DIR/password" "$TMP" "$SFTP_DIR" "$WORK/sftp.password"

interop_finish
