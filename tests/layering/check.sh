#!/usr/bin/env bash
# Checks that the build enforces the direction of the layers
# (ARCHITECTURE.md, "Layers"):
#   x509 -> policy -> store -> issue -> revocation -> exchange -> api
# It runs Bazel itself, so bazel/pki test calls it beside the suites, from
# the workspace root. Prints one line per check and ends non-zero on the
# first that fails.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

BAZEL=(bazel)
CHECKS=0
pass() { CHECKS=$((CHECKS + 1)); printf 'ok   %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }

# A probe that the build must refuse, with the reason it must give.
expect_refused() {
  local target="$1" reason="$2" out
  if out="$("${BAZEL[@]}" build --noshow_progress "$target" 2>&1)"; then
    fail "$target was built; the layering is not enforced"
  fi
  if ! grep -q -- "$reason" <<<"$out"; then
    printf '%s\n' "$out" | tail -20 | sed 's/^/     | /'
    fail "$target failed for another reason than: $reason"
  fi
  pass "$target refused ($reason)"
}

expect_refused //ca/x509:layering_probe_dep "is not visible from target"
expect_refused //ca/x509:layering_probe_include "ca/store/store.h"

# No layer reaches one above it, through any path of the build graph.
LAYERS=(//ca:base //ca/x509 //ca/policy //ca/store //ca/issue //ca/revocation //ca/exchange)
for ((i = 0; i < ${#LAYERS[@]}; i++)); do
  above=""
  for ((j = i + 1; j < ${#LAYERS[@]}; j++)); do
    above+="${above:+ + }${LAYERS[j]}"
  done
  above+="${above:+ + }//api/..."
  found="$("${BAZEL[@]}" query --noshow_progress "deps(${LAYERS[i]}) intersect ($above)" 2>/dev/null)"
  [ -z "$found" ] || fail "${LAYERS[i]} depends on a layer above it: $found"
  pass "${LAYERS[i]} depends on no layer above it"
done

# pkictl, the client library and the fuzz targets of untrusted bytes link
# neither the store (libpq) nor the engine.
for t in //api:pkictl //api/client //tests/fuzz:pem_fuzz //tests/fuzz:x509_fuzz \
  //tests/fuzz:ocsp_fuzz //tests/fuzz:ocsp_client_fuzz //tests/fuzz:san_name_fuzz \
  //tests/fuzz:trust_upload_fuzz \
  //tests/fuzz:access_fuzz //tests/fuzz:monitor_destination_fuzz //tests/fuzz:protobuf_fuzz \
  //tests/fuzz:json_fuzz; do
  found="$("${BAZEL[@]}" query --noshow_progress \
    "deps($t) intersect (//ca/store + //ca/issue + //ca/revocation + //ca/exchange + //api/server:server + @libpq//...)" 2>/dev/null)"
  [ -z "$found" ] || fail "$t depends on $found"
  pass "$t depends on neither the store nor the engine"
done

# The JSON codec sits below both pkid and pkictl (api/json): it reaches no
# ca layer but base, and pkictl reaches nothing of pkid's package.
found="$("${BAZEL[@]}" query --noshow_progress \
  "deps(//api/json:json_codec) intersect (//ca/x509 + //ca/policy + //ca/store + //ca/issue + //ca/revocation + //ca/exchange + //api/server/... + //api/cli/... + //api/client/...)" 2>/dev/null)"
[ -z "$found" ] || fail "//api/json:json_codec depends on $found"
pass "//api/json:json_codec depends on base alone of pki's layers"
found="$("${BAZEL[@]}" query --noshow_progress "deps(//api:pkictl) intersect //api/server/..." 2>/dev/null)"
[ -z "$found" ] || fail "//api:pkictl depends on pkid's package: $found"
pass "//api:pkictl depends on nothing of api/server"

echo "layering: $CHECKS checks passed"
