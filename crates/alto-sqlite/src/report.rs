//! Reports: every breakdown from one read of the tenant's files, and two top-N reads.
//!
//! [`sql::REPORT_AGGREGATES`] reads the file rows (with their tier objects) once into a
//! materialised row set of the grouped values only, which each breakdown then groups: SQLite has
//! no grouping sets, and eight scans of the file table would read its wide rows (paths, hashes)
//! eight times. Buckets are sums of comparisons with the thresholds `alto_core::report` gives,
//! bound as parameters; `lower()` folds ASCII only, as the core defines extension keys. The three
//! statements run in one read transaction (one snapshot).

use crate::error::db;
use crate::{SqliteStore, codec, sql};
use alto_core::report::{
    AGE_BOUNDS_DAYS, AGE_LABELS, ReportAggregates, ReportFile, ReportQuery, SIZE_BOUNDS,
    SIZE_LABELS, Tally, age_bucket_from_count, age_thresholds,
};
use alto_core::{Error, Result, TenantId};
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
        // A read transaction: the three statements see one snapshot.
        let mut tx = self.pools.read.begin().await.map_err(db)?;
        let mut q = sqlx::query(sql::REPORT_AGGREGATES)
            .bind(tenant.0)
            .bind(share_id);
        for t in age_thresholds(query.now) {
            q = q.bind(t);
        }
        for b in SIZE_BOUNDS {
            q = q.bind(codec::size_in(b, "")?);
        }
        let rows = q.fetch_all(&mut *tx).await.map_err(db)?;
        let mut out = ReportAggregates::default();
        for row in &rows {
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
                if dim == 0 {
                    out.missing.merge(&t);
                }
                continue;
            }
            let text: Option<String> = row.try_get(2).map_err(db)?;
            let int: Option<i64> = row.try_get(3).map_err(db)?;
            let groups = match dim {
                0 => {
                    out.totals.merge(&t);
                    continue;
                }
                1 => &mut out.by_state,
                2 => &mut out.by_rule,
                3 => &mut out.by_extension,
                4 => &mut out.by_owner,
                5 => {
                    let name = shares
                        .iter()
                        .find(|s| Some(s.id) == int)
                        .map(|s| s.name.clone());
                    ReportAggregates::add_to(&mut out.by_share, name, &t);
                    continue;
                }
                6 => {
                    let i = age_bucket_from_count(int);
                    out.by_age[i.min(AGE_LABELS.len() - 1)].merge(&t);
                    continue;
                }
                7 => {
                    let i = int.unwrap_or(0).max(0) as usize;
                    out.by_size[i.min(SIZE_LABELS.len() - 1)].merge(&t);
                    continue;
                }
                _ => continue,
            };
            ReportAggregates::add_to(groups, text, &t);
        }
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
        Ok(out.normalize())
    }
}
