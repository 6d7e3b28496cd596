#!/usr/bin/env bash
# First paint of each console page on a database of --rows certificates
# (1,000,000 by default): run by bench/with_postgres.sh as
#   bazel run -c opt //bench:console_paint -- [--rows N] [--rounds R] [--keep]
#   ... --loaded NAME:DIR [--rows N]    measure a kept load again
# It makes a database of its own, starts pkid on it (which brings it to its
# schema and makes its CAs), synthesizes the rows in SQL from a certificate
# pkid issued (its own TLS certificate: every row's DER is that one, the
# columns differ), and runs bench/console_paint.py in headless Chromium.
# One JSON object per line on stdout; progress on stderr.
set -euo pipefail
database="" rows=1000000 rounds=3 keep=0 loaded=""
while [ $# -gt 0 ]; do
  case "$1" in
    --database) database="$2"; shift 2 ;;
    --rows) rows="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    # Leave the database and pkid's data directory in place, and name them.
    --keep) keep=1; shift ;;
    # A database and data directory left by --keep (NAME:DIR).
    --loaded) loaded="$2"; keep=1; shift 2 ;;
    *) echo "console_paint: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -n "$database" ] || { echo "console_paint: --database URL" >&2; exit 2; }
case "$rows" in '' | *[!0-9]*) echo "console_paint: --rows N" >&2; exit 2 ;; esac

if [ -n "$loaded" ]; then
  name="${loaded%%:*}"
  work="${loaded#*:}"
  rm -f "$work/ready"
else
  work="$(mktemp -d)"
  name="pki_paint_$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
fi
base_url="${database%%\?*}"
query=""
case "$database" in *\?*) query="?${database#*\?}" ;; esac
db_url="${base_url%/*}/$name$query"
pkid_pid=""
cleanup() {
  [ -n "$pkid_pid" ] && kill -TERM "$pkid_pid" 2>/dev/null && wait "$pkid_pid" 2>/dev/null
  if [ "$keep" = 1 ]; then
    echo "console_paint: kept; measure again with --database $database --loaded $name:$work --rows $rows" >&2
    return
  fi
  psql "$database" -X -q -c "DROP DATABASE IF EXISTS \"$name\"" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
[ -n "$loaded" ] || psql "$database" -X -q -c "CREATE DATABASE \"$name\"" >/dev/null

api/pkid --data-dir "$work/data" --database "$db_url" --listen 127.0.0.1:0 \
  --ocsp-listen 127.0.0.1:0 --ready-file "$work/ready" >"$work/pkid.log" 2>&1 &
pkid_pid=$!
for _ in $(seq 120); do [ -s "$work/ready" ] && break; sleep 0.5; done
[ -s "$work/ready" ] || { cat "$work/pkid.log" >&2; echo "console_paint: pkid did not start" >&2; exit 1; }
api="$(sed -n 's/^api=//p' "$work/ready")"

if [ -z "$loaded" ]; then
echo "console_paint: synthesizing $rows certificates" >&2
start=$(date +%s.%N)
# Six profiles, 20-node clusters, notAfter over ten years (some expired), 1%
# revoked; serials are the MD5 of the row number (unique per issuer).
psql "$db_url" -X -q -v ON_ERROR_STOP=1 <<SQL >/dev/null
INSERT INTO certificates (issuer_id, serial, profile, subject, common_name, sans,
  key_type, key_bits, not_before, not_after, der, requester, created_at, cluster)
SELECT t.issuer_id, md5('paint' || i),
  (ARRAY['tomcat','tomcat-ECDSA','CallManager','CallManager-ECDSA','ipsec','CAPF'])[1 + i % 6],
  'CN=cucm-' || i || '.cl' || (i / 20) || '.example.net',
  'cucm-' || i || '.cl' || (i / 20) || '.example.net',
  ARRAY['DNS:cucm-' || i || '.cl' || (i / 20) || '.example.net'],
  t.key_type, t.key_bits,
  now() - interval '800 days' + (i % 3650) * interval '1 day',
  now() - interval '70 days' + (i % 3650) * interval '1 day',
  t.der, 'bench', now(), 'cl' || (i / 20)
FROM generate_series(1, $rows) AS i,
  (SELECT issuer_id, key_type, key_bits, der FROM certificates
   WHERE issuer_id IS NOT NULL ORDER BY id LIMIT 1) AS t;
-- The revoked 1% (migration 0018: a row in revocations).
INSERT INTO revocations (issuer_id, serial, certificate_id, crl_shard,
  not_after, revoked_at, reason)
SELECT c.issuer_id, c.serial, c.id, c.crl_shard, c.not_after, now(), 1
FROM generate_series(100, $rows, 100) AS i
  JOIN certificates c ON c.serial = md5('paint' || i);
ANALYZE certificates;
ANALYZE revocations;
SQL
end=$(date +%s.%N)
printf '{"bench":"console_paint","phase":"load","rows":%s,"seconds":%.1f}\n' \
  "$rows" "$(awk -v a="$start" -v b="$end" 'BEGIN { print b - a }')"
fi

BASE="https://$api" TOKEN_FILE="$work/data/admin.token" ROWS="$rows" ROUNDS="$rounds" \
  HOME="$work" /usr/bin/python3 bench/console_paint.py
