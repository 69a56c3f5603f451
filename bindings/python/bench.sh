#!/usr/bin/env bash
# Benchmark (not a test), in the same run on the same 1M-row inventory:
#  1. `alto.plan_inventory` through Python beside the `alto plan` command (target: Python at most
#     1.2x the command's time);
#  2. `RuleSet.evaluate_arrow` over the inventory as a pyarrow Table beside DuckDB running the
#     same rules as a first-match CASE WHEN over that Table (bench_arrow.py; target: faster than
#     DuckDB);
#  3. `alto.aio` (native awaitables) beside the asyncio.to_thread calls it made before, on the
#     first 100,000 rows: an ingest and the event loop's longest gap meanwhile, `async for`
#     over the files, small calls in flight together (bench_aio.py).
#
#   bindings/python/bench.sh                 # release builds, 1M rows
#   ALTO_BENCH_ROWS=20000 ALTO_BENCH_PROFILE=dev bindings/python/bench.sh   # a quick smoke run
#
# The inventory is generated once into bench-data/ by ../shared/bench/gen_inventory.py, as
# scripts/bench.sh does. The wheel, pyarrow and DuckDB go into a venv under $ALTO_CACHE_DIR
# (default: the target directory); DuckDB is a dependency of this benchmark only.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"
rows="${ALTO_BENCH_ROWS:-1000000}"
profile="${ALTO_BENCH_PROFILE:-release}"
target="${CARGO_TARGET_DIR:-$root/target}"
export CARGO_TARGET_DIR="$target"
cache="${ALTO_CACHE_DIR:-$target}"
python="${PYTHON:-python3}"
dir=$([ "$profile" = dev ] && echo debug || echo "$profile")

inv="bench-data/inv-$rows.csv"
[ "$rows" = 1000000 ] && inv="bench-data/inv-1m.csv"   # scripts/bench.sh's
mkdir -p bench-data
if [ ! -s "$inv" ]; then
  echo "generating $rows rows into $inv …"
  "$python" ../shared/bench/gen_inventory.py "$rows" "$inv.tmp" && mv "$inv.tmp" "$inv"
fi

cargo build -q --profile "$profile" -p alto-cli --bin alto
venv="$cache/python-bench-venv"
[ -x "$venv/bin/maturin" ] || { "$python" -m venv "$venv"; "$venv/bin/pip" install -q maturin; }
rm -rf "$target/python-bench-wheels"
"$venv/bin/maturin" build --quiet --profile "$profile" --manifest-path "$here/Cargo.toml" \
  --interpreter "$venv/bin/python" --out "$target/python-bench-wheels"
"$venv/bin/pip" install -q --force-reinstall --no-deps "$target"/python-bench-wheels/alto-*.whl
"$venv/bin/python" -c 'import pyarrow, duckdb' 2>/dev/null ||
  "$venv/bin/pip" install -q --find-links "$cache/python-wheelhouse" 'pyarrow>=14' duckdb

echo
echo "## alto plan vs alto.plan_inventory, $rows rows (target: Python <= 1.2x)"
"$venv/bin/python" - "$target/$dir/alto" "$inv" <<'PY'
import json, subprocess, sys, time
from datetime import datetime, timezone
import alto

cli, inv = sys.argv[1], sys.argv[2]
rules_path, now = "examples/rules.toml", "2025-11-01T00:00:00Z"
best_cli = best_py = float("inf")
for _ in range(3):
    t = time.perf_counter()
    out = subprocess.run([cli, "plan", "--quiet", "--rules", rules_path, "--inventory", inv,
                          "--now", now, "--format", "json"], check=True, capture_output=True).stdout
    best_cli = min(best_cli, time.perf_counter() - t)
    t = time.perf_counter()
    rules = alto.RuleSet.from_file(rules_path)
    plan = alto.plan_inventory(rules, inv, now=datetime(2025, 11, 1, tzinfo=timezone.utc))
    best_py = min(best_py, time.perf_counter() - t)
assert plan.to_dict() == json.loads(out), "the two plans differ"
print(f"alto plan (CLI)        : {best_cli:.3f} s  (best of 3)")
print(f"alto.plan_inventory    : {best_py:.3f} s  (best of 3, same plan)")
print(f"ratio Python / CLI     : {best_py / best_cli:.2f}x (target <= 1.20x)")
PY

echo
echo "## RuleSet.evaluate_arrow vs DuckDB CASE WHEN, $rows rows in a pyarrow Table (target: Alto faster)"
"$venv/bin/python" "$here/bench_arrow.py" "$inv" 5

echo
"$venv/bin/python" "$here/bench_aio.py" "$inv" "$(( rows < 100000 ? rows : 100000 ))"
