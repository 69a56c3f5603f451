//! Listing file records: cursor paging in (share name, path key) order.
//!
//! The cursor is the memory store's: `share NUL path_key` of the last item. Shares are walked in
//! name order and each one's records in key order through the `(tenant_id, share_id, path_key)`
//! index, so a page costs the same wherever it starts, and a row inserted meanwhile can neither
//! repeat nor hide an existing one. A page comes back as one JSON value (sqlx hands rows over one
//! at a time, which costs several times more than parsing them). Missing-file and tier-state
//! filters run in SQL; the glob filter runs in Rust (it is the rule engine's matcher), reading
//! further batches until the page is full.

use crate::error::{corrupt, db};
use crate::{SqliteStore, codec, sql};
use alto_core::rules::PathGlob;
use alto_core::store::{FileQuery, Page};
use alto_core::{Error, FileEntry, FileRecord, Lost, LostReason, Result, TenantId};
use sqlx::Row;

/// Page size when the query names none.
const DEFAULT_LIMIT: usize = 1000;

/// Rows read per statement while a glob filters them.
const GLOB_BATCH: usize = 512;

fn cursor(share: &str, key: &str) -> String {
    format!("{share}\u{0}{key}")
}

/// A record as [`sql::FILES_AFTER`] returns it.
type Stored = (
    String,
    String,
    i64,
    Option<i64>,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    Option<i64>,
    i64,
    i64,
    Option<i64>,
    Option<String>,
    Option<(i64, String)>,
);

fn decode(share: &str, r: Stored) -> Result<FileRecord> {
    let mut file = FileRecord::default();
    file.share = share.to_owned();
    file.path_key = r.0;
    file.entry = FileEntry {
        path: r.1,
        size: codec::size_out(r.2)?,
        modified: r.3,
        accessed: r.4,
        extension: r.5,
        permissions: r.6,
        owner: r.7,
        hash: r.8,
    };
    file.accessed_source = codec::access_source(&r.9)?;
    file.atime_updated = r.10;
    file.first_seen_scan = r.11;
    file.last_seen_scan = r.12;
    file.missing_since = r.13;
    file.state = r.14.as_deref().map(codec::tier_state).transpose()?;
    file.lost =
        r.15.map(|(at, why)| {
            Ok::<_, alto_core::Error>(Lost {
                at,
                reason: LostReason::parse(&why)
                    .ok_or_else(|| corrupt(format!("lost reason {why:?} of a tier object")))?,
            })
        })
        .transpose()?;
    Ok(file)
}

impl SqliteStore {
    pub(crate) async fn files_impl(
        &self,
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
        // `share NUL key`; a cursor without NUL means "from this share on".
        let (after_share, after_key) = match query.after.as_deref() {
            Some(a) => match a.split_once('\u{0}') {
                Some((s, k)) => (s, Some(k)),
                None => (a, None),
            },
            None => ("", None),
        };
        let state = query.state.map(|s| s.as_str());
        let mut conn = self.pools.read.acquire().await.map_err(db)?;
        let shares = sqlx::query(sql::SHARES_IN_ORDER)
            .bind(tenant.0)
            .bind(&query.share)
            .bind(after_share)
            .fetch_all(&mut *conn)
            .await
            .map_err(db)?;
        // One more than a page tells whether there is a next one.
        let mut items: Vec<FileRecord> = Vec::with_capacity(limit.min(4096) + 1);
        'shares: for s in shares {
            let share_id: i64 = s.try_get(0).map_err(db)?;
            let name: String = s.try_get(1).map_err(db)?;
            let case_sensitive: bool = s.try_get(2).map_err(db)?;
            let mut from = match after_key {
                Some(k) if name == after_share => Bound::After(k.to_owned()),
                _ => Bound::From(String::new()),
            };
            loop {
                let want = limit + 1 - items.len();
                let batch = if glob.is_some() {
                    want.max(GLOB_BATCH)
                } else {
                    want
                };
                let (stmt, key) = match &from {
                    Bound::After(k) => (sql::FILES_AFTER, k.as_str()),
                    Bound::From(k) => (sql::FILES_FROM, k.as_str()),
                };
                let json: Option<String> = sqlx::query_scalar(stmt)
                    .bind(tenant.0)
                    .bind(share_id)
                    .bind(key)
                    .bind(query.include_missing)
                    .bind(state)
                    .bind(batch as i64)
                    .fetch_one(&mut *conn)
                    .await
                    .map_err(db)?;
                let mut rows: Vec<Stored> = serde_json::from_str(json.as_deref().unwrap_or("[]"))
                    .map_err(|e| corrupt(format!("file records: {e}")))?;
                // An aggregate's order is SQLite's to choose: put the page back in key order.
                rows.sort_unstable_by(|a, b| a.0.cmp(&b.0));
                let got = rows.len();
                for r in rows {
                    let rec = decode(&name, r)?;
                    from = Bound::After(rec.path_key.clone());
                    if glob
                        .as_ref()
                        .is_some_and(|g| !g.is_match(&rec.entry.path, !case_sensitive))
                    {
                        continue;
                    }
                    items.push(rec);
                    if items.len() > limit {
                        break 'shares;
                    }
                }
                if got < batch {
                    break;
                }
            }
        }
        let next = if items.len() > limit {
            items.truncate(limit);
            items.last().map(|r| cursor(&r.share, &r.path_key))
        } else {
            None
        };
        Ok(Page { items, next })
    }
}

/// Where a share's scan starts.
enum Bound {
    /// Keys strictly after this one.
    After(String),
    /// Keys from this one on.
    From(String),
}
