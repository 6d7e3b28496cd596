#!/usr/bin/env bash
# README.md's examples, run as a script, as a new user would run them.
#
# Every code block of README.md fenced as ```sh tested is taken, in the
# order of the README, into one script run with `set -euo pipefail`: the
# first failing command fails the test. The script runs in an empty
# directory outside the checkout, with pkid and pkictl installed by
# `bazel/pki install --prefix` on its PATH, against pkid and its private
# PostgreSQL started by `bazel/pki serve` (any free ports), with the
# environment the line serve prints sets ("export PKI_SERVER=...").
#
# bazel/pki test runs it after the Bazel suites (it runs Bazel and
# bazel/pki itself, so it cannot be a bazel test) and counts it as one test.
# Run alone: tests/readme/run.sh (as root, like bazel/pki serve).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
log() { printf 'readme: %s\n' "$*" >&2; }
fail() { log "FAIL: $*"; exit 1; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/pki-readme.XXXXXX")"
# serve's PostgreSQL runs as postgres and must pass through to its data
# directory.
chmod 0711 "$WORK"
SERVE_PID=""
cleanup() {
  local rc=$?
  set +e
  if [ -n "$SERVE_PID" ]; then
    # serve stops pkid and its PostgreSQL on SIGTERM.
    kill -TERM "$SERVE_PID" 2>/dev/null
    wait "$SERVE_PID" 2>/dev/null
  fi
  if [ "$rc" -ne 0 ]; then
    log "serve's output:"
    tail -n 40 "$WORK/serve.log" 2>/dev/null | sed 's/^/  | /' >&2
  fi
  # The cluster lives in postgres' home when postgres could not reach the
  # data directory (bazel/pki serve says so); it goes too.
  local moved
  moved="/var/lib/postgresql/pki/$(printf '%s' "$WORK/var" | sha256sum | cut -c1-16)"
  [ -d "$moved" ] && rm -rf "$moved"
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

# The tested blocks, in order. Each block also must not depend on the
# directory it runs in: no path into the checkout, no bazel info.
awk '/^```sh tested$/ { on = 1; n++; printf "# --- block %d (README.md line %d)\n", n, NR; next }
     /^```/ { on = 0 }
     on' "$ROOT/README.md" >"$WORK/examples.sh"
blocks="$(grep -c '^# --- block' "$WORK/examples.sh" || true)"
[ "$blocks" -ge 5 ] || fail "README.md has $blocks tested blocks (\`\`\`sh tested); expected several"
if grep -nE '(^|[ "=@])(\./)?var/|bazel info|bazel-bin' "$WORK/examples.sh"; then
  fail "a tested README example depends on the checkout (var/..., bazel info, bazel-bin)"
fi
log "$blocks tested blocks"

log "bazel/pki install --prefix $WORK/prefix"
"$ROOT/bazel/pki" install --prefix "$WORK/prefix" >"$WORK/install.log" 2>&1 ||
  { cat "$WORK/install.log" >&2; fail "bazel/pki install failed"; }

log "bazel/pki serve (data directory $WORK/var)"
# A database of serve's own making: a DATABASE_URL of the caller's would be
# used instead.
env -u DATABASE_URL "$ROOT/bazel/pki" serve --data-dir "$WORK/var" \
  --listen 127.0.0.1:0 --ocsp-listen 127.0.0.1:0 >"$WORK/serve.log" 2>&1 &
SERVE_PID=$!
i=0
while ! grep -q 'export PKI_SERVER=' "$WORK/serve.log"; do
  kill -0 "$SERVE_PID" 2>/dev/null || fail "bazel/pki serve exited before pkid was ready"
  i=$((i + 1))
  [ "$i" -le 1800 ] || fail "pkid not ready within 15 minutes"
  sleep 0.5
done
line="$(sed -n 's/^pki:  *export /export /p' "$WORK/serve.log" | head -1)"
log "serve printed: $line"
eval "$line"

mkdir "$WORK/run"
cd "$WORK/run"
log "running the examples in $WORK/run"
if ! PATH="$WORK/prefix/bin:$PATH" bash -x -euo pipefail "$WORK/examples.sh" \
    >"$WORK/examples.log" 2>&1; then
  tail -n 60 "$WORK/examples.log" | sed 's/^/  | /' >&2
  fail "a README example failed (the last lines above)"
fi
log "every tested example ran ($blocks blocks)"
