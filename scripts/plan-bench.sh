#!/usr/bin/env bash
# `alto plan` beside DuckDB, the tool a data engineer would pick instead (issue 15's target:
# at most 0.5x DuckDB's wall time), on the 1M-row generated inventory with examples/rules.toml.
#
#   scripts/plan-bench.sh [RUNS]      # default 5 runs each, alternating; medians and their ratio
#
# DuckDB (2.0.x, from PyPI, in a virtualenv under ~/.cache/alto) runs the same five enabled
# rules as one first-match CASE WHEN over read_csv, grouped by rule (scripts/plan_duckdb.py);
# the script checks that both find the same files and bytes per rule before timing anything.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-5}"
now="2025-11-01T00:00:00Z"
inv="bench-data/inv-1m.csv"
mkdir -p bench-data
if [ ! -s "$inv" ]; then
  python3 ../shared/bench/gen_inventory.py 1000000 "$inv.tmp" && mv "$inv.tmp" "$inv"
fi
venv="${ALTO_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/alto}/bench-venv"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import duckdb" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "duckdb>=2.0,<2.1"
fi
cargo build --release -q -p alto-cli --bin alto
alto="${CARGO_TARGET_DIR:-target}/release/alto"
plan() { "$alto" plan --quiet --rules examples/rules.toml --inventory "$inv" --now "$now" --format json "$@"; }
duck() { "$venv/bin/python" scripts/plan_duckdb.py "$inv" "$now"; }

# Same answer first: files and bytes per rule.
plan | python3 -c '
import json, sys
p = json.load(sys.stdin)
print(json.dumps({t["rule"]: [t["files"], t["bytes"]] for t in sorted(p["by_rule"], key=lambda t: t["rule"]) if t["files"]}))
' > bench-data/plan-alto.json
duck > bench-data/plan-duckdb.json
if ! cmp -s bench-data/plan-alto.json bench-data/plan-duckdb.json; then
  echo "alto and DuckDB disagree:" >&2
  cat bench-data/plan-alto.json bench-data/plan-duckdb.json >&2
  exit 1
fi
echo "same files and bytes per rule: $(cat bench-data/plan-alto.json)"

wall() { # command… -> seconds
  local t0 t1
  t0=$(date +%s.%N)
  "$@" > /dev/null
  t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc -l
}
a=(); o=(); d=()
for i in $(seq "$runs"); do
  a+=("$(wall plan)")
  o+=("$(wall plan --threads 1)")
  d+=("$(wall duck)")
done
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
ma=$(median "${a[@]}"); mo=$(median "${o[@]}"); md=$(median "${d[@]}")
echo "cores: $(nproc); load before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf 'alto plan (all cores)  median %.3f s   runs: %s\n' "$ma" "${a[*]}"
printf 'alto plan --threads 1  median %.3f s\n' "$mo"
printf 'duckdb CASE WHEN       median %.3f s   runs: %s\n' "$md" "${d[*]}"
printf 'ratio alto / duckdb: %.2fx (target: at most 0.50x)\n' "$(echo "$ma / $md" | bc -l)"
