#!/usr/bin/env bash
# Table and index sizes under pgbench tpcb-like churn, sampled every $EVERY
# seconds, against a running server (issue 4, acceptance 1). Run it once with
# autovacuum on and once with `-c autovacuum=off`; it ends with VACUUM FULL.
# Usage: bench/vacuum_growth.sh PORT [LABEL]     (host 127.0.0.1, user postgres)
# Env: SCALE (10), T (600), CLIENTS (8), THREADS (2), EVERY (60).
set -euo pipefail
PORT=${1:?port}
LABEL=${2:-server}
SCALE=${SCALE:-10}
T=${T:-600}
C=${CLIENTS:-8}
J=${THREADS:-2}
EVERY=${EVERY:-60}
export PGHOST=127.0.0.1 PGPORT=$PORT PGUSER=postgres PGDATABASE=postgres
q() { psql -XAtq -v ON_ERROR_STOP=1 -c "$1"; }
sizes() {
  q "SELECT string_agg(relname || '=' || (pg_table_size(relid) / 1024) || 'k+' || (pg_indexes_size(relid) / 1024) || 'k', ' ' ORDER BY relname)
     FROM pg_stat_user_tables WHERE relname IN ('pgbench_accounts', 'pgbench_branches', 'pgbench_tellers')"
}
pgbench -i -q -s "$SCALE" >/dev/null 2>&1
echo "$LABEL t=0s $(sizes)"
pgbench -T "$T" -c "$C" -j "$J" >/tmp/vacuum_growth_$LABEL.out 2>&1 &
bench=$!
for ((s = EVERY; s <= T; s += EVERY)); do
  sleep "$EVERY"
  echo "$LABEL t=${s}s $(sizes) dead=$(q "SELECT sum(n_dead_tup) FROM pg_stat_user_tables") autovacuums=$(q "SELECT sum(autovacuum_count) FROM pg_stat_user_tables")"
done
wait $bench
echo "$LABEL pgbench: $(grep -E '^tps' /tmp/vacuum_growth_$LABEL.out)"
q "VACUUM FULL pgbench_accounts" && q "VACUUM FULL pgbench_branches" && q "VACUUM FULL pgbench_tellers"
echo "$LABEL after VACUUM FULL $(sizes)"
