#!/usr/bin/env bash
# PostgreSQL access-feed benchmark: a 1,000,000-file posix inventory ingested, then a LucidLink
# audit tree of ~1,016,000 events (generated over those paths: reads, writes, moves, deletes,
# NFD names, events on the audit trail itself) applied end to end with follow_lucid; beside it,
# in the same run and on an identical copy of the database, seed 002's UPDATE … FROM
# staging_lucid_audit issued by psql on the same events staged with \copy. Prints events/min for
# both and the ratio (target: >= 1,000,000 events/min end to end).
#
#   scripts/pg-feed-bench.sh                 # ALTO_FEED_EVENTS, ALTO_FEED_BATCH tune it
#
# The server comes from scripts/pg-env.sh (DATABASE_URL, a local server, or a throwaway cluster).
# The inventory is generated once into bench-data/ by ../shared/bench/gen_inventory.py.
set -euo pipefail
cd "$(dirname "$0")/.."
inv=bench-data/inv-1m-posix.csv
mkdir -p bench-data
if [ ! -s "$inv" ]; then
  echo "generating 1000000 rows into $inv …"
  python3 ../shared/bench/gen_inventory.py 1000000 "$inv.tmp" --style posix && mv "$inv.tmp" "$inv"
fi
# shellcheck source=scripts/pg-env.sh
source scripts/pg-env.sh
if ! command -v psql >/dev/null 2>&1; then
  bindir="$(alto_pg_bindir)"
  [ -n "$bindir" ] && export PATH="$bindir:$PATH"
fi
cargo build --release -q -p alto-pg --example pg_feed_bench
echo
echo "## PostgreSQL access feed: 1,000,000 files, ~1,016,000 LucidLink events (target: >= 1,000,000 events/min)"
./target/release/examples/pg_feed_bench "$inv"
