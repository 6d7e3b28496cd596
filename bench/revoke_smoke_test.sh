#!/usr/bin/env bash
# Runs bench:revoke for a moment against the test PostgreSQL, so that it
# does not rot: every line must be well-formed JSON with the fields
# README.md ("Revocation at scale") documents, no error counted, and each
# population must have revoked something, in pkid and in the reference. It
# asserts no speed.
set -euo pipefail
: "${PKI_TEST_DATABASE_URL:?PKI_TEST_DATABASE_URL must name a PostgreSQL server (bazel/pki test sets it)}"
out="$TEST_TMPDIR/revoke.jsonl"

bench/revoke_bench --database "$PKI_TEST_DATABASE_URL" --clients 2 \
  --seconds 2 --rounds 2 --populations 0,300 --batch-items 200 \
  --batches 2 > "$out"

python3 - "$out" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
single = [l for l in lines if l.get("case") == "single"]
rounds = [l for l in lines if l.get("case") == "single_round"]
if [l["already_revoked"] for l in single] != [0, 300] or len(rounds) != 4:
    sys.exit(f"expected 2 populations of 2 rounds: {lines}")
keys = ("clients,seconds,revocations,per_s,p50_ms,p99_ms,pg_group_per_s,"
        "vs_pg_group,pg_txn_per_s,errors,revoked_in_db,pkid_rss_kb").split(",")
for l in single:
    missing = [k for k in keys if k not in l]
    if missing:
        sys.exit(f"line lacks {missing}: {l}")
    if (l["errors"] != 0 or l["revocations"] <= 0 or l["pg_group_per_s"] <= 0
            or l["pg_txn_per_s"] <= 0):
        sys.exit(f"bad line: {l}")
if single[1]["revoked_in_db"] < 300 + single[0]["revocations"]:
    sys.exit(f"the population was not made: {single}")
batch = [l for l in lines if l.get("case") == "batch"]
# One at a time (2 x 200), then two at a time (2 rounds of 2 x 200).
if ([(l.get("parallel"), l["revocations"]) for l in batch] != [(1, 400), (2, 800)]
        or any(l["per_s"] <= 0 or l["pg_batch_per_s"] <= 0
               or "vs_pg_batch" not in l for l in batch)):
    sys.exit(f"expected batch lines of 2 x 200, one and two at a time: {batch}")
print(f"ok: {len(single)} populations, {len(rounds)} rounds, batches")
PY
