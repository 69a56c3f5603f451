#!/usr/bin/env bash
# PostgreSQL ingest benchmark: Alto's ingest beside a psql baseline on the same schema, in one run.
#
#   scripts/pg-bench.sh            # 1M rows: alto rows/s, baseline rows/s, ratio, re-ingest, peak RSS
#   scripts/pg-bench.sh --large    # also 10M rows (alto only), to compare peak memory with 1M
#
# The server comes from scripts/pg-env.sh (DATABASE_URL, a local server, or a throwaway cluster).
# To measure on a server configured for the load (the default 128 MB of shared buffers is less
# than a million files' table and index), start a throwaway one with settings:
#
#   ALTO_PG_FORCE_TEMP=1 ALTO_PG_SERVER_OPTS='-c shared_buffers=2GB -c max_wal_size=8GB' \
#     scripts/pg-bench.sh
# Inventories are generated once into bench-data/ by ../shared/bench/gen_inventory.py.
set -euo pipefail
cd "$(dirname "$0")/.."
large=""
[ "${1:-}" = "--large" ] && large=1

gen="../shared/bench/gen_inventory.py"
mkdir -p bench-data
make_inv() { # rows file
  if [ ! -s "$2" ]; then
    echo "generating $1 rows into $2 …"
    python3 "$gen" "$1" "$2.tmp" && mv "$2.tmp" "$2"
  fi
}
make_inv 1000000 bench-data/inv-1m.csv
[ -n "$large" ] && make_inv 10000000 bench-data/inv-10m.csv

# shellcheck source=scripts/pg-env.sh
source scripts/pg-env.sh
if ! command -v psql >/dev/null 2>&1; then
  bindir="$(alto_pg_bindir)"
  [ -n "$bindir" ] && export PATH="$bindir:$PATH"
fi

cargo build --release -q -p alto-pg --example pg_ingest_bench
bench=./target/release/examples/pg_ingest_bench

echo
echo "## PostgreSQL ingest, 1,000,000 rows (targets: >= 100,000 rows/s, <= 0.60x the baseline)"
"$bench" bench-data/inv-1m.csv
if [ -n "$large" ]; then
  echo
  echo "## PostgreSQL ingest, 10,000,000 rows, alto only: peak RSS must match the 1M run"
  "$bench" --alto-only bench-data/inv-10m.csv
fi
