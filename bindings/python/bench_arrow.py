"""Benchmark (not a test), run by bench.sh: `RuleSet.evaluate_arrow` beside DuckDB on the same
in-memory pyarrow Table, same run (target: Alto faster).

usage: bench_arrow.py INVENTORY.csv [RUNS]

The inventory is read once into a pyarrow Table (times as timestamp[s, UTC]). Alto evaluates
examples/rules.toml over it; DuckDB runs the same five enabled rules as one first-match
CASE WHEN (scripts/plan_duckdb.py's SQL) over the same Table, returning the rule of every row
as Arrow, as evaluate_arrow does. Both must give the same rule on every row, then each is
timed RUNS times (default 5) and the medians compared. DuckDB's grouped form (one row per rule,
nothing per file out) and Alto on one thread are timed too, for reference.
"""
import os
import statistics
import sys
import time
from datetime import datetime, timezone

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
from pyarrow import csv

import alto

# The rules as DuckDB SQL: one definition, shared with scripts/plan-bench.sh's peer.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
from plan_duckdb import RULE_CASE  # noqa: E402

inventory = sys.argv[1]
runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
RULES = "examples/rules.toml"
NOW = datetime(2025, 11, 1, tzinfo=timezone.utc)

ts = pa.timestamp("s", tz="UTC")
table = csv.read_csv(inventory, convert_options=csv.ConvertOptions(column_types={
    "file_path": pa.string(), "file_size": pa.uint64(), "last_modified": ts,
    "last_accessed": ts, "file_extension": pa.string()}))
rows = table.num_rows

FILES = """
    SELECT file_size AS s,
           coalesce(last_accessed, last_modified) AS a,
           last_modified AS m,
           coalesce(lower(ltrim(file_extension, '.')), '') AS e,
           lower(replace(file_path, '\\', '/')) AS p
    FROM arrow_table"""
PER_ROW = f"WITH f AS ({FILES}) SELECT {RULE_CASE} AS rule FROM f"
GROUPED = (f"WITH f AS ({FILES}), r AS (SELECT {RULE_CASE} AS rule FROM f) "
           "SELECT rule, count(*) FROM r WHERE rule IS NOT NULL GROUP BY rule")

con = duckdb.connect()
con.register("arrow_table", table)  # a view over the Arrow table: no copy
params = {"now": NOW.isoformat()}
rules = alto.RuleSet.from_file(RULES)


def alto_run(threads=None):
    return rules.evaluate_arrow(table, now=NOW, threads=threads)


def duckdb_per_row():
    rel = con.sql(PER_ROW, params=params)
    fetch = getattr(rel, "to_arrow_table", None) or rel.arrow  # DuckDB 2 / 1
    return fetch().column("rule")


def duckdb_grouped():
    return dict(con.sql(GROUPED, params=params).fetchall())


def counts(array):
    vc = pc.value_counts(array.cast(pa.string()) if pa.types.is_dictionary(array.type) else array)
    return {v["values"]: v["counts"] for v in vc.to_pylist() if v["values"] is not None}


# The same answer first, row by row (DuckDB keeps the row order of a plain scan).
a = alto_run()
d = duckdb_per_row()
assert len(a) == len(d) == rows
same = pc.all(pc.equal(a.cast(pa.string()).fill_null(""), pc.fill_null(d, ""))).as_py()
assert same, "Alto and DuckDB disagree on some row"
assert counts(a) == counts(d) == duckdb_grouped(), "per-rule counts differ"
print(f"per-rule counts (both): {dict(sorted(counts(a).items()))}")


def median(f):
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


cores = os.cpu_count()
t_alto = median(alto_run)
t_alto1 = median(lambda: alto_run(threads=1))
t_duck = median(duckdb_per_row)
t_group = median(duckdb_grouped)
threads = con.sql("SELECT current_setting('threads')").fetchall()[0][0]


def line(what, t, how):
    print(f"{what:<34}: {t:.3f} s  {rows / t / 1e6:6.2f} M rows/s  (median of {runs}; {how})")


line("RuleSet.evaluate_arrow", t_alto, f"{cores} threads")
line("RuleSet.evaluate_arrow, threads=1", t_alto1, "1 thread")
line("DuckDB CASE WHEN, rule per row", t_duck, f"{threads} threads")
line("DuckDB CASE WHEN, grouped counts", t_group, f"{threads} threads; for reference")
print(f"{'speed-up Alto / DuckDB (per row)':<34}: {t_duck / t_alto:.2f}x (target > 1)")
