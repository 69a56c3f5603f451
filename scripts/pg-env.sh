# shellcheck shell=bash
# Source me: make sure DATABASE_URL names a PostgreSQL server for the alto-pg tests and benchmarks.
#
#   1. DATABASE_URL already set (and non-empty): use it.
#   2. Else a server answering at 127.0.0.1:5432 (trust auth, user postgres): use it.
#   3. Else start a throwaway cluster from the PostgreSQL binaries (installing the OS package when
#      they are missing), on a free port with its socket in a temp dir, and stop and remove it
#      when the shell that sourced this file exits.
#
# ALTO_PG_FORCE_TEMP=1 skips 1 and 2 (to test the throwaway path on a machine that has a server).
# ALTO_PG_SERVER_OPTS adds server options to a throwaway cluster (e.g. "-c shared_buffers=2GB").
# initdb and pg_ctl refuse to run as root, so they run as the `postgres` user.
#
# DATABASE_URL is a superuser's (or owner's) URL: the tests and benchmarks create databases and
# migrate with it, then run as runtime logins (the tests as `alto_app_login`, the benchmarks as an
# `alto_bench_<pid>` login they create and drop), since `PgStore::connect` refuses the owner.

alto_pg_log() { echo "pg-env: $*" >&2; }

alto_pg_bindir() {
  local d
  for d in /usr/lib/postgresql/*/bin /usr/local/pgsql/bin; do
    if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
      echo "$d"
    fi
  done | sort -V | tail -n 1
}

alto_pg_start_temp() {
  local bindir port dir
  bindir="$(alto_pg_bindir)"
  if [ -z "$bindir" ]; then
    alto_pg_log "no PostgreSQL binaries found: installing the postgresql package"
    if ! command -v apt-get >/dev/null 2>&1; then
      alto_pg_log "apt-get is not available: install PostgreSQL, or set DATABASE_URL"
      return 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null && apt-get install -y -qq postgresql >/dev/null || return 1
    bindir="$(alto_pg_bindir)"
    [ -n "$bindir" ] || { alto_pg_log "PostgreSQL binaries still missing"; return 1; }
  fi
  id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres || return 1
  dir="$(mktemp -d /tmp/alto-pg.XXXXXX)"
  chown postgres "$dir"
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  local as_pg=()
  [ "$(id -u)" = 0 ] && as_pg=(runuser -u postgres --)
  ${as_pg[@]+"${as_pg[@]}"} "$bindir/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 \
    >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; return 1; }
  ${as_pg[@]+"${as_pg[@]}"} "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200 ${ALTO_PG_SERVER_OPTS:-}" \
    start >/dev/null || { cat "$dir/server.log" >&2; return 1; }
  ALTO_PG_TEMP_DIR="$dir"
  ALTO_PG_TEMP_BIN="$bindir"
  # shellcheck disable=SC2064
  trap "alto_pg_stop_temp" EXIT
  export DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
  alto_pg_log "started a throwaway PostgreSQL ($bindir) at $DATABASE_URL"
}

alto_pg_stop_temp() {
  [ -n "${ALTO_PG_TEMP_DIR:-}" ] || return 0
  local as_pg=()
  [ "$(id -u)" = 0 ] && as_pg=(runuser -u postgres --)
  ${as_pg[@]+"${as_pg[@]}"} "$ALTO_PG_TEMP_BIN/pg_ctl" -D "$ALTO_PG_TEMP_DIR/data" -m immediate -w stop \
    >/dev/null 2>&1 || true
  rm -rf "$ALTO_PG_TEMP_DIR"
  alto_pg_log "stopped and removed the throwaway PostgreSQL"
  ALTO_PG_TEMP_DIR=""
}

alto_pg_env() {
  if [ -z "${ALTO_PG_FORCE_TEMP:-}" ]; then
    if [ -n "${DATABASE_URL:-}" ]; then
      alto_pg_log "using DATABASE_URL"
      return 0
    fi
    if command -v pg_isready >/dev/null 2>&1 &&
      pg_isready -q -h 127.0.0.1 -p 5432 -U postgres -d postgres -t 3; then
      if command -v psql >/dev/null 2>&1 &&
        psql -X -q -h 127.0.0.1 -p 5432 -U postgres -d postgres -w -c 'SELECT 1' >/dev/null 2>&1; then
        export DATABASE_URL="postgres://postgres@127.0.0.1:5432/postgres"
        alto_pg_log "using the server at $DATABASE_URL"
        return 0
      fi
    fi
  fi
  alto_pg_start_temp
}

alto_pg_env || { alto_pg_log "no PostgreSQL server for the tests"; return 1 2>/dev/null || exit 1; }
