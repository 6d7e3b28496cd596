#!/usr/bin/env bash
# Runs bench:soak for two "minutes" of three seconds against the test
# PostgreSQL, so that the soak does not rot: every line must be well-formed
# JSON with the fields README.md ("Soak") documents, the summary must count
# no error and the load must have issued, revoked and asked OCSP. It
# asserts no speed and no memory verdict (six seconds are no soak).
set -euo pipefail
: "${PKI_TEST_DATABASE_URL:?PKI_TEST_DATABASE_URL must name a PostgreSQL server (bazel/pki test sets it)}"
out="$TEST_TMPDIR/soak.jsonl"

bench/soak_bench --database "$PKI_TEST_DATABASE_URL" --minutes 2 \
  --minute-seconds 3 --limit-seconds 0.3 --revoke-every 5 > "$out"

python3 - "$out" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
minutes = [l for l in lines if l.get("bench") == "soak" and "minute" in l]
summary = [l for l in lines if l.get("bench") == "soak" and l.get("summary")]
if len(minutes) != 2 or len(summary) != 1:
    sys.exit(f"expected 2 minute lines and a summary: {lines}")
keys = ("issued_per_s,batch_certs_per_s,revoked_per_s,ocsp_per_s,ocsp_live,"
        "revoke_ms,errors,queue_full,rss_kb,rss_max_kb,pkid_cpu_s").split(",")
for l in minutes:
    missing = [k for k in keys if k not in l]
    if missing:
        sys.exit(f"minute line lacks {missing}: {l}")
s = summary[0]
keys = ("issued,batch_certs,revoked,ocsp,errors,db_certificates,"
        "certificates_answered,rss_warmup_kb,rss_end_kb,rss_growth_kb,"
        "rss_growth_pct,rss_threshold_pct,rss_flat,limit_per_s,"
        "limit_sign_per_s,ratio").split(",")
missing = [k for k in keys if k not in s]
if missing:
    sys.exit(f"summary lacks {missing}: {s}")
if s["errors"] != 0 or not isinstance(s["rss_flat"], bool):
    sys.exit(f"bad summary: {s}")
for k in ("issued", "batch_certs", "revoked", "ocsp_good", "ocsp_revoked"):
    if s[k] <= 0:
        sys.exit(f"nothing counted as {k}: {s}")
# The limit is sampled between the minutes too, with the load held.
slices = [l for l in lines if l.get("bench") == "soak_limit"]
if len(slices) != 1 or slices[0]["limit_per_s"] <= 0 or s["limit_samples"] != 3:
    sys.exit(f"expected one limit slice between the two minutes: {slices}, {s}")
print(f"ok: {len(minutes)} minute lines and a summary")
PY
