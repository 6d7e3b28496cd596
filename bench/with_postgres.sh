#!/usr/bin/env bash
# Runs the benchmark named by $1 (a binary beside this script in the
# runfiles) with --database: the one given (--database URL or DATABASE_URL),
# else a throwaway PostgreSQL (fsync on) started for the run and removed
# after it. One JSON object per line on stdout.
set -euo pipefail
# bazel run starts us in our runfiles tree, where api/pkid also lives.
. bazel/postgres.sh
bench="$1"
shift
database="${DATABASE_URL:-}"
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --database) database="$2"; shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
pg_dir=""
if [ -z "$database" ]; then
  pg_start_throwaway pg_dir database
  trap 'pg_stop_throwaway "$pg_dir"' EXIT
  echo "bench: throwaway PostgreSQL at $database" >&2
fi
"bench/$bench" --database "$database" "${args[@]}"
