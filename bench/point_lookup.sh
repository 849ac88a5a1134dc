#!/usr/bin/env bash
# A 10,000,000-row table with a secondary index; prepared point lookups by
# the indexed column over the wire, one client, with per-query latencies
# from pgbench's log (p50, p99, max), plus the plans: EXPLAIN of the lookup
# and EXPLAIN ANALYZE of a range query with ORDER BY ... LIMIT 10.
# Usage: bench/point_lookup.sh PORT [LABEL]   (host 127.0.0.1, user postgres)
# Env: ROWS (10000000), T (30 s), CLIENTS (1), KEEP=1 to reuse the table.
set -euo pipefail
PORT=${1:?port}
LABEL=${2:-server}
ROWS=${ROWS:-10000000}
T=${T:-30}
C=${CLIENTS:-1}
export PGHOST=127.0.0.1 PGPORT=$PORT PGUSER=postgres PGDATABASE=postgres
q() { psql -XAtq -v ON_ERROR_STOP=1 -c "$1"; }

if [ "${KEEP:-0}" != 1 ] || [ "$(q "SELECT count(*) FROM pg_class WHERE relname = 'lookup'")" = 0 ]; then
  q "DROP TABLE IF EXISTS lookup"
  q "CREATE TABLE lookup (id bigint PRIMARY KEY, k bigint NOT NULL, payload text)"
  start=$(date +%s)
  step=1000000
  for ((lo = 1; lo <= ROWS; lo += step)); do
    hi=$((lo + step - 1)); [ $hi -gt "$ROWS" ] && hi=$ROWS
    # k is a permutation of 1..ROWS (ROWS must not share a factor with 7919).
    q "INSERT INTO lookup SELECT g, (g::bigint * 7919) % $ROWS + 1, 'row ' || g FROM generate_series($lo, $hi) g"
  done
  q "CREATE INDEX lookup_k ON lookup (k)"
  q "ANALYZE lookup"
  echo "$LABEL load of $ROWS rows + index: $(( $(date +%s) - start )) s"
fi
echo "$LABEL plan of the lookup:"
q "EXPLAIN SELECT * FROM lookup WHERE k = 4242" | sed 's/^/  /'
echo "$LABEL range with ORDER BY ... LIMIT 10:"
q "EXPLAIN ANALYZE SELECT * FROM lookup WHERE k > 5000000 ORDER BY k LIMIT 10" | sed 's/^/  /'

dir=$(mktemp -d)
cat > "$dir/lookup.sql" <<SQL
\set k random(1, $ROWS)
SELECT * FROM lookup WHERE k = :k;
SQL
(cd "$dir" && pgbench -n -M prepared -f lookup.sql -c "$C" -j "$C" -T "$T" -l --log-prefix=lat >"$dir/out" 2>&1)
tps=$(grep -E '^tps' "$dir/out" | sed -E 's/tps = ([0-9.]+).*/\1/')
# Log lines: client txn latency(us) script epoch us
cat "$dir"/lat.* | awk '{print $3}' | sort -n > "$dir/lat"
n=$(wc -l < "$dir/lat")
pct() { sed -n "$(( ($1 * n + 99) / 100 ))p" "$dir/lat"; }
echo "$LABEL prepared point lookup, $C client(s), ${T}s: $n lookups, tps $tps," \
  "p50 $(pct 50) us, p99 $(pct 99) us, p99.9 $(sed -n "$(( (999 * n + 999) / 1000 ))p" "$dir/lat") us, max $(tail -1 "$dir/lat") us"
rm -rf "$dir"
