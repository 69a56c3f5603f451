#!/usr/bin/env bash
# Benchmark (not a test): ingest into the SQLite store, beside the sqlite3 shell's own CSV import of
# the same file, in the same run on the same machine.
#
#   scripts/sqlite-bench.sh                 # bench-data/inv-1m.csv (generated when missing)
#   scripts/sqlite-bench.sh FILE.csv        # another inventory
#
# Prints, for the same inventory:
#   1. `sqlite3 DB ".import --csv"` into one table of the CSV's shape (WAL, synchronous=NORMAL,
#      like the store), and the same with a unique index on file_path;
#   2. Alto ingesting it into an empty store (a new tenant, default settings: snapshots kept);
#   3. Alto ingesting it again, unchanged (a second full scan of the same files);
#   4. the same two for a tenant that keeps no per-scan snapshots (keep_history off);
# with rows/s and Alto's rate as a fraction of the shell's.
set -euo pipefail
cd "$(dirname "$0")/.."

inv="${1:-bench-data/inv-1m.csv}"
if [ ! -s "$inv" ]; then
  [ "$inv" = "bench-data/inv-1m.csv" ] || { echo "no such inventory: $inv" >&2; exit 1; }
  mkdir -p bench-data
  echo "generating 1,000,000 rows into $inv …"
  python3 ../shared/bench/gen_inventory.py 1000000 "$inv.tmp" && mv "$inv.tmp" "$inv"
fi
if ! command -v sqlite3 >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing the sqlite3 shell (Debian package sqlite3) …"
    apt-get install -y -qq sqlite3 >/dev/null || { apt-get update -qq && apt-get install -y -qq sqlite3 >/dev/null; }
  else
    echo "the sqlite3 shell is needed for the baseline: apt-get install sqlite3" >&2
    exit 1
  fi
fi

cargo build --release -q -p alto-sqlite --example sqlite_ingest
bin=./target/release/examples/sqlite_ingest

work="bench-data/sqlite-bench"
rm -rf "$work"
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT
rows=$(($(wc -l < "$inv") - 1))

now() { date +%s.%N; }
rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", n / s }'; }

shell_import() { # db, extra DDL
  local db="$1" ddl="$2" t0 t1
  sqlite3 "$db" "PRAGMA journal_mode=WAL;" >/dev/null
  t0=$(now)
  sqlite3 "$db" <<SQL
PRAGMA synchronous=NORMAL;
CREATE TABLE inventory (file_path TEXT, file_size INTEGER, last_modified TEXT,
  last_accessed TEXT, file_extension TEXT, permissions TEXT, owner TEXT, hash TEXT);
$ddl
.import --csv --skip 1 $inv inventory
SQL
  t1=$(now)
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }'
}

echo "## SQLite ingest: $rows rows of $inv ($(sqlite3 --version | cut -d' ' -f1) shell, $(nproc) cores)"
echo
base_s=$(shell_import "$work/shell.db" "")
base_r=$(rate "$rows" "$base_s")
printf "%-46s: %8.2f s  %8s rows/s\n" "sqlite3 .import into one table" "$base_s" "$base_r"
idx_s=$(shell_import "$work/shell-idx.db" "CREATE UNIQUE INDEX inventory_path ON inventory (file_path);")
idx_r=$(rate "$rows" "$idx_s")
printf "%-46s: %8.2f s  %8s rows/s\n" "sqlite3 .import, unique index on file_path" "$idx_s" "$idx_r"

field() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" <<<"$2"; }
run_alto() { # label, extra options
  local out
  out=$("$bin" "sqlite://$work/alto.db" "$inv" --share data --full "${@:2}")
  local s r cpu
  s=$(field seconds "$out"); r=$(field rows_per_s "$out"); cpu=$(field cpu_seconds "$out")
  printf "%-46s: %8.2f s  %8s rows/s  (%.2f of .import; %s s CPU; new %s, unchanged %s)\n" \
    "$1" "$s" "$r" "$(awk -v a="$r" -v b="$base_r" 'BEGIN { print a / b }')" "$cpu" \
    "$(field new "$out")" "$(field unchanged "$out")"
}
run_alto "alto ingest into an empty store" --tenant bench
run_alto "alto ingest again, unchanged" --tenant bench
run_alto "  same, no snapshots: into an empty tenant" --tenant bench-nohist --no-history
run_alto "  same, no snapshots: again, unchanged" --tenant bench-nohist --no-history
echo
echo "targets: empty store >= 100000 rows/s, unchanged re-ingest >= 150000 rows/s"
echo "database after the four runs: $(du -h "$work/alto.db" | cut -f1)"
