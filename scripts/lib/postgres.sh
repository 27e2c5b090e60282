# PostgreSQL for the message log's tests: a throwaway cluster made with Debian's initdb/pg_ctl, run as the
# unprivileged postgres user (initdb refuses root), listening on loopback only. Sourced after broker.sh (apt_install, free_port).
PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
PG_DIR=

ensure_postgres_installed() {
  if [ -n "$PG_BIN" ] && [ -x "$PG_BIN/initdb" ]; then return 0; fi
  apt_install postgresql
  # The package starts a cluster of its own where it can; ours runs on its own port.
  service postgresql stop > /dev/null 2>&1 || true
  PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
}

# Starts a cluster on a free port; sets POSTGRES_URI (an Npgsql connection string) and PG_DIR.
start_postgres() {
  ensure_postgres_installed
  local port user
  port=$(free_port)
  PG_DIR=$(mktemp -d /tmp/notif-pg.XXXXXX)
  user=postgres
  if [ "$(id -u)" != 0 ]; then user=$(id -un); fi
  chown "$user" "$PG_DIR" 2>/dev/null || true
  run_as "$user" "$PG_BIN/initdb" -D "$PG_DIR/data" -U notifications --auth=trust --no-sync > "$PG_DIR/initdb.log" 2>&1
  run_as "$user" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $PG_DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off" start > /dev/null
  export POSTGRES_URI="Host=127.0.0.1;Port=$port;Username=notifications;Database=postgres"
  echo "PostgreSQL on 127.0.0.1:$port ($PG_DIR)" >&2
}

stop_postgres() {
  [ -n "$PG_DIR" ] || return 0
  local user=postgres
  if [ "$(id -u)" != 0 ]; then user=$(id -un); fi
  run_as "$user" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate stop > /dev/null 2>&1 || true
  rm -rf "$PG_DIR"
  PG_DIR=
}

run_as() {
  local user=$1; shift
  if [ "$(id -u)" = 0 ] && [ "$user" != root ]; then runuser -u "$user" -- "$@"; else "$@"; fi
}
