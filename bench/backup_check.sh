#!/usr/bin/env bash
# Issue 4, acceptance 2: backups taken while pgbench runs restore to
# databases that pass pgbench's consistency check (accounts, branches,
# tellers and history all sum to the same total); an incremental backup on
# top restores too; point-in-time recovery to a moment between two known
# commits restores exactly the first.
# Usage: bench/backup_check.sh [WORKDIR]   (needs target/release/basalt, pgbench, psql)
# Env: SCALE (10), T (60), CLIENTS (8).
set -euo pipefail
W=${1:-/tmp/basalt-backup-check}
SCALE=${SCALE:-10}
T=${T:-60}
C=${CLIENTS:-8}
BIN=${BIN:-target/release/basalt}
rm -rf "$W" && mkdir -p "$W"
PORT=5611
export PGHOST=127.0.0.1 PGUSER=postgres PGDATABASE=postgres
q() { psql -p "$1" -XAtq -v ON_ERROR_STOP=1 -c "$2"; }
pids=()
start() { "$BIN" --data-dir "$1" --port "$2" "${@:3}" >"$1.log" 2>&1 & pids+=($!); for _ in $(seq 100); do pg_isready -q -p "$2" && return; sleep 0.1; done; echo "server on $1 did not start"; exit 1; }
trap 'kill ${pids[@]} 2>/dev/null || true' EXIT
start "$W/src" $PORT -c archive_mode=on -c archive_dir="$W/archive"
pgbench -p $PORT -i -q -s "$SCALE" >/dev/null 2>&1
pgbench -p $PORT -T "$T" -c "$C" -j 2 >"$W/pgbench.out" 2>&1 &
bench=$!
sleep $((T / 4))
t0=$(date +%s.%N)
q $PORT "BACKUP DATABASE TO '$W/full'"
echo "full backup during pgbench: $(echo "$(date +%s.%N) - $t0" | bc) s, $(du -sh "$W/full" | cut -f1)"
sleep $((T / 4))
t0=$(date +%s.%N)
q $PORT "BACKUP DATABASE TO '$W/incr' INCREMENTAL FROM '$W/full'"
echo "incremental backup during pgbench: $(echo "$(date +%s.%N) - $t0" | bc) s, $(du -sh "$W/incr" | cut -f1)"
wait $bench
echo "pgbench: $(grep -E '^tps' "$W/pgbench.out")"
q $PORT "SELECT path, kind, start_lsn, end_lsn, files, bytes FROM basalt_backups"
q $PORT "SELECT status, count(*) FROM basalt_verify_backup('$W/incr') GROUP BY 1"
# Two known commits, a moment apart; the second one's segment is archived.
q $PORT "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (0, 0, 0, 0, now())"
between=$(q $PORT "SELECT now()")
sleep 0.5
q $PORT "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (0, 0, -1, 0, now())"
q $PORT "SELECT pg_switch_wal()" >/dev/null
sleep 2
check() { # port label
  local a b t h m
  a=$(q "$1" "SELECT sum(abalance) FROM pgbench_accounts")
  b=$(q "$1" "SELECT sum(bbalance) FROM pgbench_branches")
  t=$(q "$1" "SELECT sum(tbalance) FROM pgbench_tellers")
  h=$(q "$1" "SELECT sum(delta) FROM pgbench_history")
  m=$(q "$1" "SELECT string_agg(aid::text, ',' ORDER BY aid) FROM pgbench_history WHERE tid = 0")
  local n
  n=$(q "$1" "SELECT count(*) FROM basalt_check_integrity()")
  echo "$2: accounts $a branches $b tellers $t history $h; markers [${m}]; integrity problems $n"
  [ "$a" = "$b" ] && [ "$b" = "$t" ] && [ "$t" = "$h" ] && [ "$n" = 0 ] || { echo "$2 INCONSISTENT"; exit 1; }
}
check $PORT "source"
$BIN restore --from "$W/full" --to "$W/r-full" --no-archive
start "$W/r-full" 5612 -c autovacuum=off
check 5612 "restored full (no archived WAL: as of the backup)"
$BIN restore --from "$W/full" --to "$W/r-full-arch"
start "$W/r-full-arch" 5615 -c autovacuum=off
check 5615 "restored full + archived WAL"
$BIN restore --from "$W/full" --incremental "$W/incr" --to "$W/r-incr"
start "$W/r-incr" 5613 -c autovacuum=off
check 5613 "restored full+incremental"
$BIN restore --from "$W/full" --incremental "$W/incr" --to "$W/r-pitr" --until "$between"
start "$W/r-pitr" 5614 -c autovacuum=off
check 5614 "restored to $between"
echo "expected markers after PITR: [0] (the first commit only)"
