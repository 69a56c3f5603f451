#!/usr/bin/env python3
"""The peer of `alto plan` for scripts/plan-bench.sh: DuckDB running the five enabled rules of
examples/rules.toml as one first-match CASE WHEN over read_csv, grouped by rule.

usage: plan_duckdb.py INVENTORY.csv NOW(RFC 3339)

Prints {"rule": [files, bytes], ...} as JSON, for the benchmark to compare with Alto's plan.
The SQL is written for examples/rules.toml and the generated inventories (drive-letter paths,
which the rules match case-insensitively); it is a benchmark peer, not a rule compiler.
"""
import json
import sys

import duckdb

# The five enabled rules of examples/rules.toml as one first-match expression over the columns
# s (size), a (last access, else modification), m (modification), e (extension, lower case, no
# dot) and p (path, lower case, `/` separators). bindings/python/bench_arrow.py uses it too.
RULE_CASE = r"""
    CASE
        WHEN e IN ('mov', 'mp4', 'mxf') AND s >= 100000000
             AND a < $now::TIMESTAMPTZ - INTERVAL 180 DAY
             AND NOT (p LIKE '%/keep/%' OR p LIKE '%/active/%' OR p LIKE '%.part')
            THEN 'cold-video'
        WHEN regexp_matches(p, 'render_v\d+') AND m < $now::TIMESTAMPTZ - INTERVAL 90 DAY
            THEN 'old-renders'
        WHEN e IN ('exr', 'psd', 'tif', 'png', 'jpg') AND s >= 10000000
             AND a < $now::TIMESTAMPTZ - INTERVAL 365 DAY
            THEN 'stale-images'
        WHEN (regexp_matches(p, '^c:/data/(.*/)?y201[56]/')
              OR regexp_matches(p, '^//fs01/share/(.*/)?y2015/'))
             AND s >= 1048576 AND a < $now::TIMESTAMPTZ - INTERVAL 730 DAY
            THEN 'archive-old-projects'
        WHEN s >= 1000000000 AND a < $now::TIMESTAMPTZ - INTERVAL 365 DAY
             AND e NOT IN ('tmp', 'lock')
            THEN 'big-and-cold'
    END"""


def main():
    inventory, now = sys.argv[1], sys.argv[2]
    con = duckdb.connect()
    sql = r"""
WITH f AS (
    SELECT file_size AS s,
           coalesce(last_accessed, last_modified) AS a,
           last_modified AS m,
           coalesce(lower(ltrim(file_extension, '.')), '') AS e,
           lower(replace(file_path, '\', '/')) AS p
    FROM read_csv($inv, header = true, columns = {
        'file_path': 'VARCHAR', 'file_size': 'UBIGINT', 'last_modified': 'TIMESTAMPTZ',
        'last_accessed': 'TIMESTAMPTZ', 'file_extension': 'VARCHAR', 'permissions': 'VARCHAR',
        'owner': 'VARCHAR', 'hash': 'VARCHAR'})
), r AS (
    SELECT s, """ + RULE_CASE + r""" AS rule
    FROM f
)
SELECT rule, count(*), sum(s)::UBIGINT FROM r WHERE rule IS NOT NULL GROUP BY rule
"""
    rows = con.execute(sql, {"inv": inventory, "now": now}).fetchall()
    print(json.dumps({rule: [n, int(b)] for rule, n, b in sorted(rows)}))


if __name__ == "__main__":
    main()
