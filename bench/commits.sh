#!/usr/bin/env bash
# Commit rate: single-row UPDATE transactions (autocommit, each one durable)
# with 1, 8 and 32 clients, beside the disk's own fsync rate from
# pg_test_fsync (the ceiling for one client that fsyncs every commit), so
# group commit shows: with many clients, one WAL flush serves many commits.
# Usage: bench/commits.sh PORT [LABEL]   (host 127.0.0.1, user postgres)
# Env: T (15 seconds per run), ROWS (10000), CLIENTS ("1 8 32"),
#      FSYNC_DIR (directory on the data disk for pg_test_fsync; unset: skip),
#      IDLE (open this many idle connections during the runs; default 0),
#      SYNC (synchronous_commit for the clients: on or off; default on).
set -euo pipefail
PORT=${1:?port}
LABEL=${2:-server}
T=${T:-15}
ROWS=${ROWS:-10000}
export PGHOST=127.0.0.1 PGPORT=$PORT PGUSER=postgres PGDATABASE=postgres
q() { psql -XAtq -v ON_ERROR_STOP=1 -c "$1"; }

if [ -n "${FSYNC_DIR:-}" ]; then
  tf=$(ls /usr/lib/postgresql/*/bin/pg_test_fsync 2>/dev/null | head -1 || true)
  if [ -n "$tf" ]; then
    "$tf" -s 3 -f "$FSYNC_DIR/pg_test_fsync.tmp" 2>/dev/null \
      | grep -E "^\s+(fdatasync|fsync) " | head -2 | sed "s/^/disk: /"
  fi
fi

q "DROP TABLE IF EXISTS commit_bench"
q "CREATE TABLE commit_bench (id int PRIMARY KEY, n bigint NOT NULL)"
q "INSERT INTO commit_bench SELECT g, 0 FROM generate_series(1, $ROWS) g"
script=$(mktemp)
idle_pid=
trap 'rm -f "$script"; [ -n "$idle_pid" ] && kill $idle_pid 2>/dev/null || true' EXIT
if [ "${IDLE:-0}" -gt 0 ]; then
  python3 "$(dirname "$0")/idle_conns.py" "$PORT" "$IDLE" >/dev/null &
  idle_pid=$!
  sleep 3
  echo "$LABEL: $IDLE idle connections open"
fi
export PGOPTIONS="-c synchronous_commit=${SYNC:-on}"
cat >"$script" <<SQL
\set id random(1, $ROWS)
UPDATE commit_bench SET n = n + 1 WHERE id = :id;
SQL
for c in ${CLIENTS:-1 8 32}; do
  j=$(( c < 2 ? 1 : 2 ))
  out=$(pgbench -n -M prepared -f "$script" -T "$T" -c "$c" -j "$j" 2>&1)
  tps=$(echo "$out" | grep -E '^tps' | sed -E 's/tps = ([0-9.]+).*/\1/')
  lat=$(echo "$out" | grep -E '^latency average' | sed -E 's/latency average = ([0-9.]+) ms/\1/')
  echo "$LABEL commits/s with $c clients: $tps (average latency ${lat} ms)"
done
n=$(q "SELECT sum(n) FROM commit_bench")
echo "$LABEL rows updated in total: $n"
