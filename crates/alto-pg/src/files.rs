//! Listing file records: cursor paging in (share, path key) order.
//!
//! Shares are walked in name order and each one's files through the `file_current` primary key
//! (tenant, share, path key), so a page costs an index range scan whatever its position; both
//! columns sort in byte order (COLLATE "C"), the reference store's order. The cursor is
//! `share NUL path key` (NUL cannot occur in either, as PostgreSQL text cannot hold it). A glob
//! is the rule language's, so it is matched here in Rust on the rows the index yields.

use crate::PgStore;
use crate::error::db_err;
use crate::time::{PgTime, micros};
use alto_core::rules::PathGlob;
use alto_core::store::{FileQuery, Page};
use alto_core::types::{AccessSource, FileEntry, FileRecord, TenantId};
use alto_core::{Error, Result, TierState};
use sqlx::Row;
use sqlx::postgres::PgRow;

const DEFAULT_LIMIT: usize = 1000;

/// A file's last seen scan. A full scan with snapshot history does not rewrite the rows it finds
/// unchanged (`crates/alto-pg/src/ingest.rs`); when it finishes, every file of the share it did
/// not list is missing, and the share's `seen_scan_id` names it (`seen_chunk_id`: the newest
/// chunk then). So a file that is not missing, was ever seen by a scan (placeholders of the feed
/// have 0) and was not written by a chunk since (a scan overlapping that one: `changed_chunk_id`
/// when the chunk changed it, `seen_chunk_id` when it only saw it) was seen by it.
/// A file that goes missing keeps the scan that last saw it: whatever marks it missing writes
/// this value into it first (`ingest::finish_scan`, `feeds::UPDATE_FILES`). For a statement that
/// names the file `fc` and its share `sh`.
macro_rules! last_seen {
    () => {
        "CASE WHEN fc.missing_since IS NULL AND fc.last_seen_scan_id > 0 \
                 AND greatest(fc.changed_chunk_id, fc.seen_chunk_id) <= sh.seen_chunk_id \
             THEN greatest(fc.last_seen_scan_id, sh.seen_scan_id) \
             ELSE fc.last_seen_scan_id END"
    };
}
pub(crate) use last_seen;

/// Rows fetched per query while filtering by glob.
const BATCH: i64 = 1000;

/// One share's files after a key, in key order. $1 tenant, $2 share, $3 after key (or NULL),
/// $4 include missing, $5 state (or NULL), $6 limit.
const PAGE: &str = concat!(
    "SELECT fc.path_key, fc.full_path, fc.size_bytes, fc.modified_utc, \
         fc.accessed_utc, fc.extension, fc.permissions, fc.owner, fc.file_hash, \
         fc.last_accessed_source, fc.atime_updated_utc, fc.first_seen_scan_id, ",
    last_seen!(),
    ", fc.missing_since, t.state, t.lost_utc, t.lost_reason \
     FROM file_current fc \
     JOIN share sh ON sh.tenant_id = fc.tenant_id AND sh.share_id = fc.share_id \
     LEFT JOIN tier_object t ON t.tenant_id = fc.tenant_id AND t.share_id = fc.share_id \
         AND t.path_key = fc.path_key \
     WHERE fc.tenant_id = $1 AND fc.share_id = $2 \
       AND ($3::text IS NULL OR fc.path_key > $3::text COLLATE \"C\") \
       AND ($4 OR fc.missing_since IS NULL) \
       AND ($5::text IS NULL OR t.state = $5::text) \
     ORDER BY fc.path_key \
     LIMIT $6"
);

/// One file by key. $1 tenant, $2 share, $3 key.
const ONE: &str = concat!(
    "SELECT fc.path_key, fc.full_path, fc.size_bytes, fc.modified_utc, \
         fc.accessed_utc, fc.extension, fc.permissions, fc.owner, fc.file_hash, \
         fc.last_accessed_source, fc.atime_updated_utc, fc.first_seen_scan_id, ",
    last_seen!(),
    ", fc.missing_since, t.state, t.lost_utc, t.lost_reason \
     FROM file_current fc \
     JOIN share sh ON sh.tenant_id = fc.tenant_id AND sh.share_id = fc.share_id \
     LEFT JOIN tier_object t ON t.tenant_id = fc.tenant_id AND t.share_id = fc.share_id \
         AND t.path_key = fc.path_key \
     WHERE fc.tenant_id = $1 AND fc.share_id = $2 AND fc.path_key = $3"
);

/// One file's current record (missing or not), or `NotFound`.
pub(crate) async fn file(
    store: &PgStore,
    tenant: TenantId,
    share: &str,
    path_key: &str,
) -> Result<FileRecord> {
    let not_found = || {
        Error::not_found(format!(
            "file {path_key:?} in share {share:?} does not exist"
        ))
    };
    let mut tx = store.begin(tenant).await?;
    let sid = crate::tenant::share_id(&mut tx, tenant, share)
        .await
        .map_err(|_| not_found())?;
    let row = sqlx::query(ONE)
        .bind(tenant.0)
        .bind(sid)
        .bind(path_key)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?;
    tx.commit().await.map_err(db_err)?;
    record(&row.ok_or_else(not_found)?, share)
}

fn cursor(share: &str, key: &str) -> String {
    format!("{share}\u{0}{key}")
}

pub(crate) async fn files(
    store: &PgStore,
    tenant: TenantId,
    query: &FileQuery,
) -> Result<Page<FileRecord>> {
    let limit = if query.limit == 0 {
        DEFAULT_LIMIT
    } else {
        query.limit
    };
    let glob = match &query.glob {
        Some(p) => Some(PathGlob::new(p).map_err(Error::invalid_input)?),
        None => None,
    };
    let (after_share, after_key) = match query.after.as_deref() {
        Some(c) => match c.split_once('\0') {
            Some((s, k)) => (Some(s), Some(k)),
            None => return Err(Error::invalid_input(format!("bad cursor {c:?}"))),
        },
        None => (None, None),
    };
    let state = query.state.map(TierState::as_str);
    let mut tx = store.begin(tenant).await?;
    let shares: Vec<(i64, String, bool)> = sqlx::query_as(
        "SELECT share_id, name, case_sensitive FROM share \
         WHERE tenant_id = $1 AND ($2::text IS NULL OR name = $2::text) \
           AND ($3::text IS NULL OR name >= $3::text COLLATE \"C\") \
         ORDER BY name",
    )
    .bind(tenant.0)
    .bind(query.share.as_deref())
    .bind(after_share)
    .fetch_all(&mut *tx)
    .await
    .map_err(db_err)?;

    // One more than the page: its existence says whether there is a next page.
    let want = limit + 1;
    let mut items: Vec<FileRecord> = Vec::with_capacity(want.min(4096));
    'shares: for (share_id, name, case_sensitive) in shares {
        let mut after: Option<String> = match (after_share, after_key) {
            (Some(s), Some(k)) if s == name => Some(k.to_owned()),
            _ => None,
        };
        loop {
            let fetch = if glob.is_some() {
                BATCH
            } else {
                (want - items.len()) as i64
            };
            let rows = sqlx::query(PAGE)
                .bind(tenant.0)
                .bind(share_id)
                .bind(after.as_deref())
                .bind(query.include_missing)
                .bind(state)
                .bind(fetch)
                .fetch_all(&mut *tx)
                .await
                .map_err(db_err)?;
            let got = rows.len() as i64;
            for row in rows {
                let rec = record(&row, &name)?;
                after = Some(rec.path_key.clone());
                if glob
                    .as_ref()
                    .is_some_and(|g| !g.is_match(&rec.entry.path, !case_sensitive))
                {
                    continue;
                }
                items.push(rec);
                if items.len() == want {
                    break 'shares;
                }
            }
            if got < fetch {
                break;
            }
        }
    }
    tx.commit().await.map_err(db_err)?;
    let next = if items.len() > limit {
        items.truncate(limit);
        items.last().map(|r| cursor(&r.share, &r.path_key))
    } else {
        None
    };
    Ok(Page { items, next })
}

fn record(row: &PgRow, share: &str) -> Result<FileRecord> {
    let get_t = |i: usize| -> Result<Option<i64>> {
        Ok(micros(row.try_get::<Option<PgTime>, _>(i).map_err(db_err)?))
    };
    let size: i64 = row.try_get(2).map_err(db_err)?;
    let source: String = row.try_get(9).map_err(db_err)?;
    let state: Option<String> = row.try_get(14).map_err(db_err)?;
    let mut file = FileRecord::default();
    file.share = share.to_owned();
    file.entry = FileEntry {
        path: row.try_get(1).map_err(db_err)?,
        size: size as u64,
        modified: get_t(3)?,
        accessed: get_t(4)?,
        extension: row.try_get(5).map_err(db_err)?,
        permissions: row.try_get(6).map_err(db_err)?,
        owner: row.try_get(7).map_err(db_err)?,
        hash: row.try_get(8).map_err(db_err)?,
    };
    file.path_key = row.try_get(0).map_err(db_err)?;
    file.accessed_source = access_source(&source)?;
    file.atime_updated = get_t(10)?;
    file.first_seen_scan = row.try_get(11).map_err(db_err)?;
    file.last_seen_scan = row.try_get(12).map_err(db_err)?;
    file.missing_since = get_t(13)?;
    file.state = state.as_deref().map(str::parse).transpose()?;
    file.lost = crate::tier::lost_from(row)?;
    Ok(file)
}

pub(crate) fn access_source(s: &str) -> Result<AccessSource> {
    [
        AccessSource::InitialScan,
        AccessSource::IncrementalScan,
        AccessSource::LucidlinkAudit,
        AccessSource::Manual,
    ]
    .into_iter()
    .find(|a| a.as_str() == s)
    .ok_or_else(|| {
        Error::new(
            alto_core::ErrorKind::Backend,
            format!("unknown last-accessed source {s:?} stored"),
        )
    })
}
