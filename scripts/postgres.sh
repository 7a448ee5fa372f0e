#!/usr/bin/env bash
# Start (or reuse) a throwaway PostgreSQL server on 127.0.0.1 for the test suite and print
# its URL. Installs Debian's postgresql first when it is missing and we are root (CI).
# Exit 3: no server and no way to install one (a developer without root): the caller skips.
set -euo pipefail
PGPORT=${MILIACHECK_PG_PORT:-5433}
DIR=${MILIACHECK_PG_DIR:-/tmp/miliacheck-pg}

find_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
BIN=$(find_bin)
if [ -z "$BIN" ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "scripts/postgres.sh: no PostgreSQL server here and not root to install one" >&2
    exit 3
  fi
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
  BIN=$(find_bin)
fi

# initdb and postgres refuse to run as root: run them as the postgres user when root.
as_owner() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

if ! as_owner "$BIN/pg_ctl" -D "$DIR" status >/dev/null 2>&1; then
  rm -rf "$DIR"
  mkdir -p "$DIR"
  if [ "$(id -u)" = 0 ]; then chown postgres "$DIR"; fi
  as_owner "$BIN/initdb" -D "$DIR" -U miliacheck --auth=trust >/dev/null
  as_owner "$BIN/pg_ctl" -D "$DIR" -l "$DIR/server.log" -w \
    -o "-p $PGPORT -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
fi
"$BIN/createdb" -h 127.0.0.1 -p "$PGPORT" -U miliacheck miliacheck_test 2>/dev/null || true
echo "postgresql://miliacheck@127.0.0.1:$PGPORT/miliacheck_test"
