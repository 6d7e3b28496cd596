# Throwaway and private PostgreSQL clusters for pki's scripts (bazel/pki,
# bench/). Sourced, never run. PostgreSQL's initdb refuses root, so the
# clusters run as the postgres user.

PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"

# as_postgres runs a command as the postgres user.
as_postgres() {
  # From /, which postgres may enter whatever our working directory is.
  if [ "$(id -un)" = postgres ]; then
    (cd / && "$@")
  else
    (cd / && runuser -u postgres -- "$@")
  fi
}

# pg_shared_buffers prints the shared_buffers of a cluster of ours: a
# quarter of the machine's memory, the starting point PostgreSQL's manual
# gives for a dedicated server ("Resource Consumption"), between 128 MB
# (PostgreSQL's own default) and 8 GB. With 128 MB, a few hundred thousand
# certificates with their indexes no longer fit, and the backends read
# evicted pages back through the kernel while they record (README,
# `bazel/pki serve`).
pg_shared_buffers() {
  local kb mb
  kb="$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo 2>/dev/null || true)"
  mb=$(( ${kb:-0} / 1024 / 4 ))
  [ "$mb" -ge 128 ] || mb=128
  [ "$mb" -le 8192 ] || mb=8192
  echo "${mb}MB"
}

pg_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# pg_start_throwaway DIR_VAR URL_VAR: creates a cluster in a new temporary
# directory, starts it on a free loopback port (fsync on: durability is
# what is measured and tested; shared_buffers by pg_shared_buffers) and
# sets the two named variables to its directory and the URL of its
# maintenance database.
pg_start_throwaway() {
  local dir port
  dir="$(mktemp -d /tmp/pki-pg.XXXXXX)"
  chown postgres: "$dir"
  as_postgres "$PG_BIN/initdb" -D "$dir/data" -U postgres -A trust \
    --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  port="$(pg_free_port)"
  as_postgres "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
    -o "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories='$dir' -c max_connections=300 -c shared_buffers=$(pg_shared_buffers)" \
    start >/dev/null
  printf -v "$1" '%s' "$dir"
  printf -v "$2" '%s' "postgresql://postgres@127.0.0.1:$port/postgres"
}

# pg_stop_throwaway DIR: stops the cluster and removes its directory.
pg_stop_throwaway() {
  if [ -n "${1:-}" ] && [ -d "$1" ]; then
    as_postgres "$PG_BIN/pg_ctl" -D "$1/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$1"
  fi
}
