//! Reports: every breakdown from one grouped read of the tenant's files and one of its tier
//! objects, and two top-N reads.
//!
//! SQLite has no grouping sets and groups by sorting, and sorting a million rows costs seconds:
//! [`sql::REPORT_FILES`] sorts the file rows once, grouped by all their keys together (files and
//! bytes only: every further aggregate is paid per row), and each breakdown regroups those few
//! thousand groups. [`sql::REPORT_TIERED`] does the same for the files that have a tier object,
//! from `tier_object` (with the state and rule and the STUBBED and PLANNED sums); the files
//! without one are the difference (`ReportAggregates::combine`), so the big read needs no join.
//! Buckets are sums of comparisons with the thresholds `alto_core::report` gives, bound as
//! parameters; `lower()` folds ASCII only, as the core defines extension keys. The four
//! statements run in one read transaction (one snapshot).

use crate::error::db;
use crate::{SqliteStore, codec, sql};
use alto_core::report::{
    AGE_BOUNDS_DAYS, AGE_LABELS, ReportAggregates, ReportFile, ReportQuery, SIZE_BOUNDS,
    SIZE_LABELS, Tally, age_bucket_from_count, age_thresholds,
};
use alto_core::{Error, Result, Share, TenantId};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

// The statement binds six thresholds of each kind: a change of the buckets must change it.
const _: () = assert!(AGE_BOUNDS_DAYS.len() == 6 && SIZE_BOUNDS.len() == 6);

fn count(row: &SqliteRow, i: usize) -> Result<u64> {
    let v: i64 = row.try_get(i).map_err(db)?;
    codec::size_out(v)
}

fn file(row: &SqliteRow) -> Result<ReportFile> {
    let state: Option<String> = row.try_get(7).map_err(db)?;
    Ok(ReportFile {
        share: row.try_get(0).map_err(db)?,
        path_key: row.try_get(1).map_err(db)?,
        path: row.try_get(2).map_err(db)?,
        size: count(row, 3)?,
        accessed: row.try_get(4).map_err(db)?,
        modified: row.try_get(5).map_err(db)?,
        owner: row.try_get(6).map_err(db)?,
        state: state.as_deref().map(codec::tier_state).transpose()?,
    })
}

/// Fold the rows of [`sql::REPORT_FILES`] or [`sql::REPORT_TIERED`] into `out`.
fn fold(out: &mut ReportAggregates, rows: &[SqliteRow], shares: &[Share]) -> Result<()> {
    for row in rows {
        let dim: i64 = row.try_get(0).map_err(db)?;
        let missing: bool = row.try_get(1).map_err(db)?;
        let t = Tally {
            files: count(row, 4)?,
            bytes: count(row, 5)?,
            stubbed_files: count(row, 6)?,
            stubbed_bytes: count(row, 7)?,
            planned_files: count(row, 8)?,
            planned_bytes: count(row, 9)?,
        };
        if missing {
            // The totals of the missing files (files), or their states (tiered).
            if dim <= 1 {
                out.missing.merge(&t);
            }
            continue;
        }
        let text: Option<String> = row.try_get(2).map_err(db)?;
        let int: Option<i64> = row.try_get(3).map_err(db)?;
        match dim {
            0 => out.totals.merge(&t),
            1 => ReportAggregates::add_to(&mut out.by_state, text, &t),
            2 => ReportAggregates::add_to(&mut out.by_rule, text, &t),
            3 => ReportAggregates::add_to(&mut out.by_extension, text, &t),
            4 => ReportAggregates::add_to(&mut out.by_owner, text, &t),
            5 => {
                let name = shares
                    .iter()
                    .find(|s| Some(s.id) == int)
                    .map(|s| s.name.clone());
                ReportAggregates::add_to(&mut out.by_share, name, &t);
            }
            6 => {
                let i = age_bucket_from_count(int);
                out.by_age[i.min(AGE_LABELS.len() - 1)].merge(&t);
            }
            7 => {
                let i = int.unwrap_or(0).max(0) as usize;
                out.by_size[i.min(SIZE_LABELS.len() - 1)].merge(&t);
            }
            _ => {}
        }
    }
    Ok(())
}

impl SqliteStore {
    pub(crate) async fn report_aggregates_impl(
        &self,
        tenant: TenantId,
        query: &ReportQuery,
    ) -> Result<ReportAggregates> {
        let shares = self.shares_impl(tenant).await?;
        let share_id = match &query.share {
            Some(name) => Some(
                shares
                    .iter()
                    .find(|s| &s.name == name)
                    .map(|s| s.id)
                    .ok_or_else(|| Error::not_found(format!("share {name:?} does not exist")))?,
            ),
            None => None,
        };
        // A read transaction: the statements see one snapshot.
        let mut tx = self.pools.read.begin().await.map_err(db)?;
        let mut parts = [ReportAggregates::default(), ReportAggregates::default()];
        for (i, stmt) in [sql::REPORT_FILES, sql::REPORT_TIERED]
            .into_iter()
            .enumerate()
        {
            let mut q = sqlx::query(stmt).bind(tenant.0).bind(share_id);
            for t in age_thresholds(query.now) {
                q = q.bind(t);
            }
            for b in SIZE_BOUNDS {
                q = q.bind(codec::size_in(b, "")?);
            }
            let rows = q.fetch_all(&mut *tx).await.map_err(db)?;
            fold(&mut parts[i], &rows, &shares)?;
        }
        let [all, tiered] = parts;
        let mut out = ReportAggregates::combine(all, tiered);
        if query.top_n > 0 {
            let n = i64::try_from(query.top_n).unwrap_or(i64::MAX);
            for (stmt, list) in [
                (sql::REPORT_LARGEST, &mut out.largest),
                (sql::REPORT_OLDEST, &mut out.oldest),
            ] {
                let rows = sqlx::query(stmt)
                    .bind(tenant.0)
                    .bind(share_id)
                    .bind(n)
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(db)?;
                *list = rows.iter().map(file).collect::<Result<_>>()?;
            }
        }
        tx.commit().await.map_err(db)?;
        Ok(out)
    }
}
