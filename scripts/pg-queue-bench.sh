#!/usr/bin/env bash
# PostgreSQL job-queue benchmark: 4 workers claim and finish 10,000 empty jobs (no tiering),
# each worker with a connection pool of its own; prints jobs/s and claim/finish latencies.
#
#   scripts/pg-queue-bench.sh [JOBS] [WORKERS]     # defaults: 10000 4
#
# The server comes from scripts/pg-env.sh (DATABASE_URL, a local server, or a throwaway cluster).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/pg-env.sh
source scripts/pg-env.sh
cargo build --release -q -p alto-pg --example pg_queue_bench
echo
echo "## PostgreSQL job queue: ${1:-10000} empty jobs, ${2:-4} workers"
./target/release/examples/pg_queue_bench "${1:-10000}" "${2:-4}"
