#!/usr/bin/env bash
# Audit trail reading benchmark (issue 19): one page of 1,000 events of a 10,000,000-event
# trail on PostgreSQL, with each filter, beside the id-order read of before, in one run; then
# the same reads on the embedded SQLite store, beside a plain id-order read there.
#
#   scripts/audit-bench.sh            # 10M events (about 10 minutes to write on 2 cores)
#   scripts/audit-bench.sh 1000000    # another size
#
# The server comes from scripts/pg-env.sh (DATABASE_URL, a local server, or a throwaway cluster).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/pg-env.sh
source scripts/pg-env.sh
cargo build --release -q -p alto-pg --example pg_audit_bench
./target/release/examples/pg_audit_bench "$@"
# The same reads on the embedded store (SQLite), on a trail of the same size.
cargo build --release -q -p alto-sqlite --example sqlite_audit_bench
events=10000000
for a in "$@"; do case "$a" in --*) ;; *) events="$a" ;; esac; done
./target/release/examples/sqlite_audit_bench "$events"
