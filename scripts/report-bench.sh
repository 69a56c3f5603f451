#!/usr/bin/env bash
# Report benchmark (issue 19): `alto report` over 1,000,000 files on PostgreSQL and on SQLite,
# beside hand-written SQL over the same tables (one GROUP BY per breakdown, and a single
# count/sum scan as the floor), in one run; medians and ratios. Target: under 2 s on PostgreSQL.
#
#   scripts/report-bench.sh                      # 1M files, 5 rounds, both stores
#   scripts/report-bench.sh --rounds 9 --pg-only # options of crates/alto/examples/report_bench.rs
#   scripts/report-bench.sh --keep               # keep the stores; --reuse then skips the set-up
#
# The server comes from scripts/pg-env.sh (DATABASE_URL, a local server, or a throwaway cluster).
# The inventory is generated once into bench-data/ by ../shared/bench/gen_inventory.py. The
# machines are small and shared: look at `uptime` first, and compare the ratios, not the times.
set -euo pipefail
cd "$(dirname "$0")/.."

gen="../shared/bench/gen_inventory.py"
inv=bench-data/inv-1m.csv
mkdir -p bench-data
if [ ! -s "$inv" ]; then
  echo "generating 1000000 rows into $inv …"
  python3 "$gen" 1000000 "$inv.tmp" && mv "$inv.tmp" "$inv"
fi

# shellcheck source=scripts/pg-env.sh
source scripts/pg-env.sh

cargo build --release -q -p alto-cli -p alto --bin alto --example report_bench
target="${CARGO_TARGET_DIR:-target}"
echo "load: $(uptime)"
ALTO_BIN="$target/release/alto" "$target/release/examples/report_bench" "$@" "$inv"
