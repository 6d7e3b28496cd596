#!/usr/bin/env bash
# Runs bench:scale on 20,000 rows against the test PostgreSQL, so that the
# bench does not rot: every line must be well-formed JSON with the fields
# README.md ("Ten million certificates") documents, every case must be
# there, the load must have copied every row, finds must have found rows and
# the monitor must have sent what was due. It asserts no speed.
set -euo pipefail
: "${PKI_TEST_DATABASE_URL:?PKI_TEST_DATABASE_URL must name a PostgreSQL server (bazel/pki test sets it)}"
out="$TEST_TMPDIR/scale.jsonl"

bench/scale_bench --database "$PKI_TEST_DATABASE_URL" --rows 20000 \
  --seconds 1 --find-requests 5 --load-connections 2 > "$out"

python3 - "$out" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
if not lines or any(l.get("bench") != "scale" for l in lines):
    sys.exit(f"not bench:scale lines: {lines}")
def case(name):
    return [l for l in lines if l.get("case") == name]
def need(line, keys):
    missing = [k for k in keys.split(",") if k not in line]
    if missing:
        sys.exit(f"{line.get('case')} line lacks {missing}: {line}")
load = case("load")
if len(load) != 1:
    sys.exit(f"expected one load line: {lines}")
need(load[0], "rows,connections,rows_per_commit,seconds,rows_per_s,analyze_s,"
     "table_rows,table_mb,indexes_mb")
# The 20,000 rows and the 8 certificates pkid issued for their DER.
if load[0]["rows"] != 20000 or load[0]["table_rows"] != 20008:
    sys.exit(f"rows missing: {load[0]}")
issue = case("issue")
if len(issue) != 1:
    sys.exit(f"expected one issue line: {lines}")
need(issue[0], "rows,csr_key,profile,batch,connections,workers,seconds,"
     "loaded_certs_per_s,small_certs_per_s,ratio")
if issue[0]["loaded_certs_per_s"] <= 0 or issue[0]["small_certs_per_s"] <= 0:
    sys.exit(f"nothing issued: {issue[0]}")
finds = case("find")
if len(finds) != 11:
    sys.exit(f"expected 11 find lines: {finds}")
for f in finds:
    need(f, "find,rows,example,requests,mean_found,empty_pages,p50_ms,p99_ms,"
         "max_ms")
    # Every case selects rows the generator made: an empty answer is a
    # broken query or a broken generator.
    if f["mean_found"] <= 0:
        sys.exit(f"find found nothing: {f}")
ocsp = case("ocsp")
if sorted(o.get("status") for o in ocsp) != ["revoked", "unknown"]:
    sys.exit(f"expected OCSP lines for revoked and unknown: {ocsp}")
for o in ocsp:
    need(o, "status,rows,connections,seconds,cached,loaded_req_per_s,"
         "small_req_per_s,ratio,loaded_first_ms,small_first_ms")
    if o["loaded_req_per_s"] <= 0 or o["small_req_per_s"] <= 0:
        sys.exit(f"no OCSP answer: {o}")
checks = case("monitor-check")
if [c.get("round") for c in checks] != [1, 2]:
    sys.exit(f"expected two monitor checks: {checks}")
for c in checks:
    need(c, "round,rows,start_days,due,notified,already_notified,failed,"
         "messages_sent,webhook_kb,ms")
first, second = checks
if (first["due"] <= 0 or first["notified"] != first["due"]
        or first["failed"] != 0 or first["messages_sent"] != 1):
    sys.exit(f"the first check did not send what was due: {first}")
if second["notified"] != 0 or second["already_notified"] != first["notified"]:
    sys.exit(f"the second check sent again: {second}")
metrics = case("metrics")
if len(metrics) != 1:
    sys.exit(f"expected one metrics line: {lines}")
need(metrics[0], "rows,requests,p50_ms,max_ms")
refresh = case("stats-refresh")
if len(refresh) != 1:
    sys.exit(f"expected one stats-refresh line: {lines}")
need(refresh[0], "rows,counted,groups,expiring_30d,duration_ms,ms")
# Every loaded row is counted (and the few certificates pkid issued first).
if refresh[0]["counted"] < refresh[0]["rows"] or refresh[0]["groups"] <= 0:
    sys.exit(f"the snapshot does not count the rows: {refresh[0]}")
stats = case("stats")
if len(stats) != 1:
    sys.exit(f"expected one stats line: {lines}")
need(stats[0], "rows,requests,p50_ms,max_ms")
print(f"ok: {len(lines)} lines")
PY
