//! Reports: two grouped reads for every breakdown, and two top-N reads.
//!
//! - [`FILES`]: one `GROUP BY missing, GROUPING SETS (…)` over the tenant's file rows alone (no
//!   join), counting files and bytes per extension, owner, share, age and size: PostgreSQL
//!   hashes every set in the same scan, so the breakdowns cost one read of the table.
//! - [`TIERED`]: the same over the files that have a tier object (read from `tier_object`, joined
//!   to their file rows), with the state and rule sets and the STUBBED and PLANNED sums. The
//!   files without one are the difference (`report::merge`): the big read needs no join.
//! - Buckets are `width_bucket` over the thresholds `alto_core::report` gives (bound as arrays,
//!   so the SQL does not change with them); the extension is lower-cased under the `"C"`
//!   collation (ASCII only, as the core defines it).
//! - The largest and oldest files are top-N sorts of the file rows alone, joined to their tier
//!   objects afterwards.
//!
//! The first read runs on one connection and the three others on a second one at the same time,
//! both in read-only `REPEATABLE READ` transactions of one snapshot (the first exports it, the
//! second imports it): the grouping sets take one process, the others parallel workers, and
//! they overlap (2.0–2.4 s one after the other, 1.6–1.7 s together, at a million files on two
//! busy cores). Each transaction sets, for itself alone: `jit = off` (compiling these statements took longer than running them: 1.6 s of
//! 3.5 s at a million files) and `work_mem = 256MB`, because the planner cannot estimate how many
//! buckets an expression has (it guessed 1.5 million groups for 136), and below that it sorts the
//! million rows instead of hashing them; the hash tables use what the real groups need (12 MB at
//! a million files; beyond `work_mem` they spill to disk).

use crate::PgStore;
use crate::error::db_err;
use crate::time::{PgTime, micros};
use alto_core::report::{
    AGE_LABELS, ReportAggregates, ReportFile, ReportQuery, SIZE_BOUNDS, SIZE_LABELS, Tally,
    age_bucket_from_count, age_thresholds,
};
use alto_core::{Error, Result, TenantId};
use sqlx::Row;
use sqlx::postgres::PgRow;

/// The session settings of a report's transaction (see the module docs).
const SETTINGS: &str = "SELECT set_config('jit', 'off', true), \
     set_config('work_mem', '256MB', true)";

/// The grouped values of a file row `fc` (`age` and `sz` are bucket numbers: thresholds
/// reached). $3 age thresholds, $4 size bounds.
macro_rules! grouped {
    () => {
        "nullif(lower(fc.extension COLLATE \"C\"), '') AS ext, nullif(fc.owner, '') AS owner, \
         fc.share_id, \
         width_bucket(coalesce(fc.accessed_utc, fc.modified_utc), $3::timestamptz[]) AS age, \
         width_bucket(fc.size_bytes, $4::bigint[]) AS sz, \
         fc.missing_since IS NOT NULL AS missing"
    };
}

/// Files and bytes of every file, per breakdown. $1 tenant, $2 share id (or NULL), $3, $4 the
/// thresholds. `g` is `GROUPING(ext, owner, share_id, age, sz)`: all ones for the totals, else
/// one zero bit (`ext` is the highest) naming the breakdown.
const FILES: &str = concat!(
    "SELECT GROUPING(f.ext, f.owner, f.share_id, f.age, f.sz) AS g, f.missing, \
            NULL::text AS state, NULL::text AS rule, f.ext, f.owner, f.share_id, f.age, f.sz, \
            count(*), coalesce(sum(f.size), 0)::bigint, 0::bigint, 0::bigint, 0::bigint, \
            0::bigint \
     FROM (SELECT fc.size_bytes AS size, ",
    grouped!(),
    " FROM file_current fc \
           WHERE fc.tenant_id = $1 AND ($2::bigint IS NULL OR fc.share_id = $2)) f \
     GROUP BY f.missing, GROUPING SETS ((), (f.ext), (f.owner), (f.share_id), (f.age), (f.sz))"
);

/// The same for the files that have a tier object, with the state and rule breakdowns and the
/// STUBBED and PLANNED sums. `g` is `GROUPING(state, rule, ext, owner, share_id, age, sz)`.
const TIERED: &str = concat!(
    "SELECT GROUPING(f.state, f.rule, f.ext, f.owner, f.share_id, f.age, f.sz) AS g, f.missing, \
            f.state, f.rule, f.ext, f.owner, f.share_id, f.age, f.sz, \
            count(*), coalesce(sum(f.size), 0)::bigint, \
            count(*) FILTER (WHERE f.state = 'STUBBED'), \
            coalesce(sum(f.size) FILTER (WHERE f.state = 'STUBBED'), 0)::bigint, \
            count(*) FILTER (WHERE f.state = 'PLANNED'), \
            coalesce(sum(f.size) FILTER (WHERE f.state = 'PLANNED'), 0)::bigint \
     FROM (SELECT t.state, t.planned_by AS rule, fc.size_bytes AS size, ",
    grouped!(),
    " FROM tier_object t \
           JOIN file_current fc ON fc.tenant_id = t.tenant_id AND fc.share_id = t.share_id \
               AND fc.path_key = t.path_key \
           WHERE t.tenant_id = $1 AND ($2::bigint IS NULL OR t.share_id = $2)) f \
     GROUP BY f.missing, GROUPING SETS ((f.state), (f.rule), (f.ext), (f.owner), (f.share_id), \
         (f.age), (f.sz))"
);

/// A top-N list: the file rows (`fc`, share `sh`) sorted by `$inner` with `$filter`, then the
/// same order (`$outer`) after the join. $1 tenant, $2 share id (or NULL), $3 limit.
macro_rules! top {
    ($inner:literal, $outer:literal, $filter:literal) => {
        concat!(
            "SELECT top.name, top.path_key, top.full_path, top.size_bytes, top.accessed_utc, \
                    top.modified_utc, top.owner, t.state \
             FROM (SELECT sh.name, fc.share_id, fc.path_key, fc.full_path, fc.size_bytes, \
                          fc.accessed_utc, fc.modified_utc, fc.owner \
                   FROM file_current fc \
                   JOIN share sh ON sh.tenant_id = fc.tenant_id AND sh.share_id = fc.share_id \
                   WHERE fc.tenant_id = $1 AND ($2::bigint IS NULL OR fc.share_id = $2) \
                     AND fc.missing_since IS NULL ",
            $filter,
            " ORDER BY ",
            $inner,
            " LIMIT $3) top \
             LEFT JOIN tier_object t ON t.tenant_id = $1 AND t.share_id = top.share_id \
                 AND t.path_key = top.path_key \
             ORDER BY ",
            $outer
        )
    };
}

const LARGEST: &str = top!(
    "fc.size_bytes DESC, sh.name, fc.path_key",
    "top.size_bytes DESC, top.name, top.path_key",
    ""
);
const OLDEST: &str = top!(
    "coalesce(fc.accessed_utc, fc.modified_utc), sh.name, fc.path_key",
    "coalesce(top.accessed_utc, top.modified_utc), top.name, top.path_key",
    "AND coalesce(fc.accessed_utc, fc.modified_utc) IS NOT NULL"
);

fn count(row: &PgRow, i: usize) -> Result<u64> {
    let v: i64 = row.try_get(i).map_err(db_err)?;
    Ok(v as u64)
}

fn tally(row: &PgRow) -> Result<Tally> {
    Ok(Tally {
        files: count(row, 9)?,
        bytes: count(row, 10)?,
        stubbed_files: count(row, 11)?,
        stubbed_bytes: count(row, 12)?,
        planned_files: count(row, 13)?,
        planned_bytes: count(row, 14)?,
    })
}

fn file(row: &PgRow) -> Result<ReportFile> {
    let t = |i: usize| -> Result<Option<i64>> {
        Ok(micros(row.try_get::<Option<PgTime>, _>(i).map_err(db_err)?))
    };
    let state: Option<String> = row.try_get(7).map_err(db_err)?;
    Ok(ReportFile {
        share: row.try_get(0).map_err(db_err)?,
        path_key: row.try_get(1).map_err(db_err)?,
        path: row.try_get(2).map_err(db_err)?,
        size: count(row, 3)?,
        accessed: t(4)?,
        modified: t(5)?,
        owner: row.try_get(6).map_err(db_err)?,
        state: state.as_deref().map(str::parse).transpose()?,
    })
}

/// Fold the rows of [`FILES`] or [`TIERED`] into `out`. `g` is the row's grouping bits over the
/// seven keys (state, rule, ext, owner, share, age, size; `FILES` has no state and rule and
/// `TIERED` no totals).
fn fold(
    out: &mut ReportAggregates,
    rows: &[PgRow],
    files_only: bool,
    shares: &[(i64, String)],
) -> Result<()> {
    for row in rows {
        let mut g: i32 = row.try_get(0).map_err(db_err)?;
        if files_only {
            g |= 0b110_0000;
        }
        let missing: bool = row.try_get(1).map_err(db_err)?;
        let t = tally(row)?;
        if missing {
            // The totals of the missing files (`FILES`), or their states (`TIERED`).
            if matches!(g, 0b111_1111 | 0b011_1111) {
                out.missing.merge(&t);
            }
            continue;
        }
        let text = |i: usize| -> Result<Option<String>> { row.try_get(i).map_err(db_err) };
        let int = |i: usize| -> Result<Option<i32>> { row.try_get(i).map_err(db_err) };
        match g {
            0b111_1111 => out.totals.merge(&t),
            0b011_1111 => ReportAggregates::add_to(&mut out.by_state, text(2)?, &t),
            0b101_1111 => ReportAggregates::add_to(&mut out.by_rule, text(3)?, &t),
            0b110_1111 => ReportAggregates::add_to(&mut out.by_extension, text(4)?, &t),
            0b111_0111 => ReportAggregates::add_to(&mut out.by_owner, text(5)?, &t),
            0b111_1011 => {
                let id: Option<i64> = row.try_get(6).map_err(db_err)?;
                let name = shares
                    .iter()
                    .find(|(s, _)| Some(*s) == id)
                    .map(|(_, n)| n.clone());
                ReportAggregates::add_to(&mut out.by_share, name, &t);
            }
            0b111_1101 => {
                let i = age_bucket_from_count(int(7)?.map(i64::from));
                out.by_age[i.min(AGE_LABELS.len() - 1)].merge(&t);
            }
            0b111_1110 => {
                let i = int(8)?.unwrap_or(0).max(0) as usize;
                out.by_size[i.min(SIZE_LABELS.len() - 1)].merge(&t);
            }
            _ => {}
        }
    }
    Ok(())
}

/// Run [`FILES`] or [`TIERED`] with `(tenant, share id, age thresholds, size bounds)`.
async fn grouped(
    tx: &mut sqlx::PgConnection,
    sql: &'static str,
    (tenant, share, ages, sizes): (i64, Option<i64>, &[PgTime], &[i64]),
) -> Result<Vec<PgRow>> {
    sqlx::query(sql)
        .bind(tenant)
        .bind(share)
        .bind(ages)
        .bind(sizes)
        .fetch_all(tx)
        .await
        .map_err(db_err)
}

pub(crate) async fn report_aggregates(
    store: &PgStore,
    tenant: TenantId,
    query: &ReportQuery,
) -> Result<ReportAggregates> {
    let mut main = store.begin_snapshot(tenant, None).await?;
    sqlx::query(SETTINGS)
        .execute(&mut *main)
        .await
        .map_err(db_err)?;
    let shares: Vec<(i64, String)> =
        sqlx::query_as("SELECT share_id, name FROM share WHERE tenant_id = $1")
            .bind(tenant.0)
            .fetch_all(&mut *main)
            .await
            .map_err(db_err)?;
    let share_id = match &query.share {
        Some(name) => Some(
            shares
                .iter()
                .find(|(_, n)| n == name)
                .map(|(id, _)| *id)
                .ok_or_else(|| Error::not_found(format!("share {name:?} does not exist")))?,
        ),
        None => None,
    };
    let snapshot: String = sqlx::query_scalar("SELECT pg_export_snapshot()")
        .fetch_one(&mut *main)
        .await
        .map_err(db_err)?;
    let ages: Vec<PgTime> = age_thresholds(query.now).into_iter().map(PgTime).collect();
    let sizes: Vec<i64> = SIZE_BOUNDS.iter().map(|&b| b as i64).collect();
    let args = (tenant.0, share_id, ages.as_slice(), sizes.as_slice());
    // Every file on this connection; on a second one, with the same snapshot, the tiered files
    // and the two lists: the grouping-sets scan runs in one process, and the others use
    // parallel workers, so the two overlap.
    let others = async {
        let mut tx = store.begin_snapshot(tenant, Some(&snapshot)).await?;
        sqlx::query(SETTINGS)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        let tiered = grouped(&mut tx, TIERED, args).await?;
        let mut lists = [Vec::new(), Vec::new()];
        if query.top_n > 0 {
            for (sql, list) in [LARGEST, OLDEST].into_iter().zip(lists.iter_mut()) {
                let rows = sqlx::query(sql)
                    .bind(tenant.0)
                    .bind(share_id)
                    .bind(i64::try_from(query.top_n).unwrap_or(i64::MAX))
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(db_err)?;
                *list = rows.iter().map(file).collect::<Result<_>>()?;
            }
        }
        tx.commit().await.map_err(db_err)?;
        Ok::<_, Error>((tiered, lists))
    };
    let (files, others) = tokio::join!(grouped(&mut main, FILES, args), others);
    let files = files?;
    let (tiered, [largest, oldest]) = others?;
    main.commit().await.map_err(db_err)?;
    let mut all = ReportAggregates::default();
    fold(&mut all, &files, true, &shares)?;
    let mut part = ReportAggregates::default();
    fold(&mut part, &tiered, false, &shares)?;
    let mut out = ReportAggregates::combine(all, part);
    out.largest = largest;
    out.oldest = oldest;
    Ok(out)
}
