#!/usr/bin/env bash
# Tiering benchmark (not a test): `tier_bench` beside `cp -r` and `rclone copy` (Debian's rclone,
# which verifies each copy with MD5) of the same tree, in the same run, N times; prints each run
# and the median ratios.
#
#   scripts/tier-bench.sh [RUNS] [--small N] [--large N]    # default: 3 runs, 10,000 x 4 KiB + 2 x 1 GiB
#
# The tree is generated once under bench-data/tier (about 2.2 GB per copy; three copies exist
# at once during a run).
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-3}"
shift || true
args=("$@")
[ ${#args[@]} -eq 0 ] && args=(--small 10000 --large 2)
command -v rclone >/dev/null || echo "note: rclone is not installed (apt-get install rclone); its baseline is skipped"
cargo build --release -q -p alto-tier --example tier_bench
out=$(mktemp)
for i in $(seq "$runs"); do
  echo "## run $i"
  ./target/release/examples/tier_bench bench-data/tier "${args[@]}" 2>/dev/null | tee -a "$out"
done
python3 - "$out" <<'PY'
import re, statistics, sys
text = open(sys.argv[1]).read()
for what in ("cp -r", "rclone"):
    vals = [float(v) for v in re.findall(r"alto time / %s time: ([0-9.]+)" % re.escape(what), text)]
    if vals:
        print(f"median alto time / {what} time over {len(vals)} runs: {statistics.median(vals):.2f} ({', '.join(f'{v:.2f}' for v in vals)})")
PY
rm -f "$out"
