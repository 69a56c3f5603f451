#!/usr/bin/env bash
# The crash test at size: SIGKILL an ingest at random points and rerun it each time; the final
# tables must equal an uninterrupted run's. The test suite runs the small version.
#
#   scripts/pg-kill.sh                    # 200,000 rows, 5,000 per chunk, 20 kills
#   ALTO_KILL_ROWS=1000000 ALTO_KILL_CHUNK=20000 ALTO_KILL_SEED=42 scripts/pg-kill.sh
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/pg-env.sh
source scripts/pg-env.sh
export ALTO_KILL_ROWS="${ALTO_KILL_ROWS:-200000}"
export ALTO_KILL_CHUNK="${ALTO_KILL_CHUNK:-5000}"
export ALTO_KILL_COUNT="${ALTO_KILL_COUNT:-20}"
cargo test --release -p alto-pg --test kill -- --nocapture --test-threads=1
