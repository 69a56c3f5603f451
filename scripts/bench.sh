#!/usr/bin/env bash
# Benchmarks (not tests): each prints its figure beside a baseline measured in the same run.
#
#   scripts/bench.sh           # 1M-row inventory
#   scripts/bench.sh --large   # also 10M rows, to compare peak memory
#
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

cargo build --release -q -p alto-cli -p alto-core -p alto-rules --examples --bins
rel="${CARGO_TARGET_DIR:-target}/release"

echo
echo "## Rule evaluation: 1,000,000 files x 100 mixed rules, one core"
"$rel"/examples/rules_bench

echo
echo "## CSV reading and normalising (1M rows)"
"$rel"/examples/read_bench bench-data/inv-1m.csv

echo
echo "## gzip: Alto decompressing as it reads, beside zcat | read_bench (target: at most 1.5x)"
[ -f bench-data/inv-1m.csv.gz ] || gzip -k bench-data/inv-1m.csv
TIMEFORMAT="alto      read_bench inv.csv.gz     : %R s wall"
time "$rel"/examples/read_bench bench-data/inv-1m.csv.gz --only-alto > /dev/null
TIMEFORMAT="baseline  zcat | read_bench -        : %R s wall"
time (zcat bench-data/inv-1m.csv.gz | "$rel"/examples/read_bench - > /dev/null)
if [ -n "$large" ]; then
  echo
  echo "## CSV reading and normalising (10M rows): peak memory must match the 1M run"
  "$rel"/examples/read_bench bench-data/inv-10m.csv --only-alto
fi

echo
echo "## alto plan end to end on 1M rows (target: under 3 s wall)"
TIMEFORMAT="baseline  cat > /dev/null          : %R s wall"
time cat bench-data/inv-1m.csv > /dev/null
for i in 1 2 3; do
  /usr/bin/time -f "alto plan run $i                 : %e s wall, %U s user, peak RSS %M KiB" \
    "$rel"/alto plan --quiet --rules examples/rules.toml \
    --inventory bench-data/inv-1m.csv --now 2025-11-01T00:00:00Z --format json > /dev/null
done
