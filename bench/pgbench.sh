#!/usr/bin/env bash
# pgbench against a running server, the runs issue 2 asks for:
#   pgbench -i -s $SCALE; -S, -N and tpcb-like for $T seconds with 8 clients
#   and 2 threads; then a tpcb-like run with -n and a balance check.
# Usage: bench/pgbench.sh PORT [LABEL]     (host 127.0.0.1, user postgres)
# Env: SCALE (10), T (30), CLIENTS (8), THREADS (2).
set -euo pipefail
PORT=${1:?port}
LABEL=${2:-server}
SCALE=${SCALE:-10}
T=${T:-30}
C=${CLIENTS:-8}
J=${THREADS:-2}
export PGHOST=127.0.0.1 PGPORT=$PORT PGUSER=postgres PGDATABASE=postgres
q() { psql -XAtq -v ON_ERROR_STOP=1 -c "$1"; }
tps() { grep -E '^tps' | sed -E 's/tps = ([0-9.]+).*/\1/'; }
failed() { grep -E 'number of failed transactions' | sed -E 's/.*: ([0-9]+).*/\1/'; }

start=$(date +%s.%N)
pgbench -i -q -s "$SCALE" >/dev/null 2>&1
init=$(echo "$(date +%s.%N) - $start" | bc)
echo "$LABEL init -s $SCALE: ${init}s"
for mode in "-S" "-N" ""; do
  out=$(pgbench $mode -T "$T" -c "$C" -j "$J" 2>&1)
  echo "$LABEL pgbench ${mode:-tpcb} -T $T -c $C -j $J: tps $(echo "$out" | tps), failed $(echo "$out" | failed || echo 0)"
done
a0=$(q "SELECT sum(abalance) FROM pgbench_accounts")
h0=$(q "SELECT coalesce(sum(delta),0) FROM pgbench_history")
out=$(pgbench -n -T "$T" -c "$C" -j "$J" 2>&1)
a1=$(q "SELECT sum(abalance) FROM pgbench_accounts")
h1=$(q "SELECT coalesce(sum(delta),0) FROM pgbench_history")
b=$(q "SELECT sum(bbalance) FROM pgbench_branches")
t=$(q "SELECT sum(tbalance) FROM pgbench_tellers")
h=$(q "SELECT sum(delta) FROM pgbench_history")
echo "$LABEL pgbench -n tpcb -T $T -c $C -j $J: tps $(echo "$out" | tps), failed $(echo "$out" | failed || echo 0)"
echo "$LABEL balances: accounts change $((a1 - a0)), history change $((h1 - h0)), branches $b, tellers $t, history $h"
if [ $((a1 - a0)) -ne $((h1 - h0)) ]; then echo "$LABEL INCONSISTENT"; exit 1; fi
echo "$LABEL consistent"
