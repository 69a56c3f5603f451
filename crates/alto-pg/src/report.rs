//! Reports: one pass over the tenant's files for every breakdown, and two top-N reads.
//!
//! The breakdowns are one `GROUP BY missing, GROUPING SETS (…)` over `file_current` with its
//! tier object: PostgreSQL hashes every set in the same scan, so the report costs one read of the
//! table however many breakdowns it has. Buckets are `width_bucket` over the thresholds
//! `alto_core::report` gives (bound as arrays, so the SQL does not change with them), and the
//! extension is lower-cased under the `"C"` collation (ASCII only, as the core defines it). The
//! largest and oldest files are top-N sorts of the file table alone, joined to their tier objects
//! afterwards. All three statements run in one transaction (one snapshot), in that order.

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

/// The breakdowns. $1 tenant, $2 share id (or NULL), $3 age thresholds, $4 size bounds.
/// `g` is `GROUPING(…)` of the seven keys: all ones for the totals, else one zero bit (the
/// first key is the highest bit) naming the breakdown.
const AGGREGATES: &str = "\
SELECT GROUPING(f.state, f.rule, f.ext, f.owner, f.share_id, f.age, f.sz) AS g, f.missing, \
       f.state, f.rule, f.ext, f.owner, f.share_id, f.age, f.sz, \
       count(*), coalesce(sum(f.size), 0)::bigint, \
       count(*) FILTER (WHERE f.state = 'STUBBED'), \
       coalesce(sum(f.size) FILTER (WHERE f.state = 'STUBBED'), 0)::bigint, \
       count(*) FILTER (WHERE f.state = 'PLANNED'), \
       coalesce(sum(f.size) FILTER (WHERE f.state = 'PLANNED'), 0)::bigint \
FROM (SELECT fc.share_id, fc.size_bytes AS size, \
             nullif(lower(fc.extension COLLATE \"C\"), '') AS ext, nullif(fc.owner, '') AS owner, \
             t.state, t.planned_by AS rule, \
             width_bucket(coalesce(fc.accessed_utc, fc.modified_utc), $3::timestamptz[]) AS age, \
             width_bucket(fc.size_bytes, $4::bigint[]) AS sz, \
             fc.missing_since IS NOT NULL AS missing \
      FROM file_current fc \
      LEFT JOIN tier_object t ON t.tenant_id = fc.tenant_id AND t.share_id = fc.share_id \
          AND t.path_key = fc.path_key \
      WHERE fc.tenant_id = $1 AND ($2::bigint IS NULL OR fc.share_id = $2)) f \
GROUP BY f.missing, GROUPING SETS ((), (f.state), (f.rule), (f.ext), (f.owner), (f.share_id), \
    (f.age), (f.sz))";

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

pub(crate) async fn report_aggregates(
    store: &PgStore,
    tenant: TenantId,
    query: &ReportQuery,
) -> Result<ReportAggregates> {
    // One snapshot for the three statements.
    let mut tx = store.begin_snapshot(tenant).await?;
    let shares: Vec<(i64, String)> =
        sqlx::query_as("SELECT share_id, name FROM share WHERE tenant_id = $1")
            .bind(tenant.0)
            .fetch_all(&mut *tx)
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
    let ages: Vec<PgTime> = age_thresholds(query.now).into_iter().map(PgTime).collect();
    let sizes: Vec<i64> = SIZE_BOUNDS.iter().map(|&b| b as i64).collect();
    let rows = sqlx::query(AGGREGATES)
        .bind(tenant.0)
        .bind(share_id)
        .bind(&ages)
        .bind(&sizes)
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?;
    let mut out = ReportAggregates::default();
    for row in &rows {
        let g: i32 = row.try_get(0).map_err(db_err)?;
        let missing: bool = row.try_get(1).map_err(db_err)?;
        let t = tally(row)?;
        if missing {
            if g == 0b111_1111 {
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
    if query.top_n > 0 {
        for (sql, list) in [(LARGEST, &mut out.largest), (OLDEST, &mut out.oldest)] {
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
    Ok(out.normalize())
}
