#!/usr/bin/env bash
# Runs every benchmark for a moment against the test PostgreSQL, so that a
# broken benchmark fails CI. It checks that each prints well-formed JSON
# lines with the fields README.md documents; it asserts no speed.
set -euo pipefail
: "${PKI_TEST_DATABASE_URL:?PKI_TEST_DATABASE_URL must name a PostgreSQL server (bazel/pki test sets it)}"
out="$TEST_TMPDIR/out.jsonl"

# check_json FILE BENCH KEYS [CASES]: every BENCH line (of one of the
# comma-separated CASES, when given) has every one of the comma-separated KEYS.
check_json() {
  python3 - "$@" <<'PY'
import json, sys
path, bench, keys = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
lines = [json.loads(l) for l in open(path) if l.strip()]
ours = [l for l in lines if l.get("bench") == bench]
if len(sys.argv) > 4:
    cases = sys.argv[4].split(",")
    ours = [l for l in ours if l.get("case") in cases]
    for c in cases:
        if not any(l.get("case") == c for l in ours):
            sys.exit(f"no {bench} line of case {c} in {path}")
if not ours:
    sys.exit(f"no {bench} line in {path}")
for l in ours:
    missing = [k for k in keys if k not in l]
    if missing:
        sys.exit(f"{bench} line lacks {missing}: {l}")
print(f"ok: {len(ours)} {bench} lines")
PY
}

bench/issue_bench --database "$PKI_TEST_DATABASE_URL" --seconds 0.3 \
  --pairs EC-P256 --batches 1,10 --threads 2 > "$out"
check_json "$out" issue bench,mode,csr_key,issuer_key,threads,batch,certs_per_s,limit_per_s,ratio,p50_ms,p99_ms
for mode in raw inprocess inprocess-shared-key http; do
  grep -q "\"mode\":\"$mode\"" "$out" || { echo "no $mode line"; exit 1; }
done
# check_broken FILE: every case line's "broken" names exactly its ratios
# above 1.0 as printed (such a run is a broken measurement, README.md).
check_broken() {
  python3 - "$1" <<'PY'
import json, sys
n = 0
for l in open(sys.argv[1]):
    d = json.loads(l)
    if d.get("bench") != "issue" or d.get("mode") == "raw":
        continue
    fields = ["ratio", "slice_max_ratio",
              "pkid_cpu_ratio" if "pkid_cpu_ratio" in d else "cpu_ratio",
              "system_cpu_ratio"]
    want = [f for f in fields if d[f] > 1.0]
    if d.get("broken") != want:
        sys.exit(f"broken is {d.get('broken')}, want {want}: {l}")
    n += 1
if n == 0:
    sys.exit("no case line")
print(f"ok: broken right on {n} case lines")
PY
}
check_broken "$out"
# The http cases send CSRs of distinct names by default, 32 names repeated
# with --names repeated.
grep -q '"mode":"http".*"names":10000,"names_new":false}' "$out" || {
  cat "$out"
  exit 1
}
bench/issue_bench --database "$PKI_TEST_DATABASE_URL" --mode http \
  --seconds 0.3 --pairs EC-P256 --batches 10 --names repeated > "$out"
grep -q '"mode":"http".*"names":32,"names_new":false}' "$out" || {
  cat "$out"
  exit 1
}

# pkictl batch as a user runs it: a name per CSR file by default, the
# pair's 32 CSRs repeated with --names repeated, new names in each of two
# slices with --names new (each slice must issue its 200: a slice that
# failed stops the bench).
for names in distinct repeated new; do
  bench/issue_bench --database "$PKI_TEST_DATABASE_URL" --mode pkictl \
    --pairs EC-P256 --pkictl-csrs 200 --rounds 2 --seconds 0.6 \
    --names "$names" --work "$TEST_TMPDIR" > "$out"
  check_json "$out" issue mode,certs_per_s,limit_per_s,ratio
  check_broken "$out"
  want='"names":200,"names_new":false'
  [ "$names" = repeated ] && want='"names":32,"names_new":false'
  [ "$names" = new ] && want='"names":200,"names_new":true'
  grep -q "\"mode\":\"pkictl\",.*\"slices\":2,.*$want}" "$out" || {
    cat "$out"
    exit 1
  }
done

for names in distinct one; do
  bench/store_bench --database "$PKI_TEST_DATABASE_URL" --seconds 0.3 \
    --names "$names" > "$out"
  check_json "$out" store method,names,rows_per_commit,rows_per_s,pg_cpu_us_per_row
  grep -q "\"names\":\"$names\"" "$out" || { cat "$out"; exit 1; }
done

bench/batch_rss_bench --database "$PKI_TEST_DATABASE_URL" --csrs 300 \
  --rounds 1 > "$out"
check_json "$out" batch_rss round,csrs,issued_total,rss_max_kb,vm_hwm_kb
grep -q '"pkictl_exit":0,"issued_total":300' "$out" || { cat "$out"; exit 1; }

bench/ocsp_bench --database "$PKI_TEST_DATABASE_URL" --seconds 0.3 \
  --connections 8 > "$out"
check_json "$out" ocsp bench,case,issuer_key,cpus,seconds
check_json "$out" ocsp connections,requests,req_per_s,p50_ms,p99_ms \
  healthz,good,revoked,unknown,nonce
check_json "$out" ocsp ceiling_req_per_s,ratio good,revoked,unknown,nonce
check_json "$out" ocsp limit_per_s,limit_ratio nonce
check_json "$out" ocsp threads,limit_per_s,ratio crypto
