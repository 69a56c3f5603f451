//! Access feeds ([`Feeds`]): applying a batch of events with its cursors.
//!
//! A batch is one `BEGIN IMMEDIATE` transaction: the events (in time order, then by id), the
//! processed-id records that make a re-read batch all duplicates, the unknown-path queue, and the
//! cursors that produced the batch. A crash at any point neither loses nor doubles an event.
//! The behaviour is the memory store's, event by event:
//! - a feed path is joined under the share's mount root ([`alto_core::path::join_under`]) and
//!   keyed with the share's case rule ([`alto_core::path::path_key`]);
//! - an id already processed for the share is a duplicate; an event more than [`MAX_FUTURE`]
//!   after `now` is skewed (recorded as processed, not applied);
//! - accesses move last access (and, for writes, last modification) forward only, with source
//!   `lucidlink_audit`; an accessed PLANNED or STUBBED object gets `last_accessed` (forward) and
//!   `access_count + 1`, without a version bump, and is reported as warmed;
//! - a move re-keys the file record and its tier object (version + 1), which keeps its job link
//!   and its stored object, and whose target URI's end follows the new key's object key (so
//!   `alto_core::worker::target_root` still finds the root); a file already at the target is
//!   replaced;
//! - a delete marks the file missing and a STUBBED object DELETED (audit `tier.delete`);
//! - unknown paths follow the tenant's policy: queued, ignored, or a placeholder record.

use crate::error::{corrupt, db, db_in};
use crate::tenants::{settings, share};
use crate::tier::{decode_object, object_in, transition_under};
use crate::{SqliteStore, batch, codec, sql};
use alto_core::feed::lucid::{Cursor, Cursors};
use alto_core::feed::{AccessEvent, FeedAction};
use alto_core::lifecycle::Action;
use alto_core::path::{
    KeyRule, dir_hash64, extension, join_under, object_key, share_key, split_dir,
};
use alto_core::store::TransitionRequest;
use alto_core::store::feeds::{ApplyOutcome, EventBatch, Feeds, MAX_FUTURE, Warmed};
use alto_core::time::Micros;
use alto_core::{
    AccessSource, Error, Result, Share, TenantId, TierObject, TierState, UnknownPathPolicy,
};
use async_trait::async_trait;
use sqlx::{Row, SqliteConnection};
use std::collections::{HashMap, HashSet};

/// Unknown events listed when the caller asks for 0.
const DEFAULT_LIMIT: usize = 1000;

// ---- statements ---------------------------------------------------------------------------------
// Every statement names `tenant_id = ?1` in each table it touches (checked in `queue::tests`).

/// Which of the event ids `?3` (a JSON array) the share has processed, as a JSON array.
const EVENTS_SEEN: &str = "SELECT json_group_array(e.event_id) \
     FROM json_each(?3) AS j CROSS JOIN feed_event AS e \
     WHERE e.tenant_id = ?1 AND e.share_id = ?2 AND e.event_id = j.value";

/// The file records of the keys `?3` (a JSON array) as [`FILE_BY_KEY`] reads one, each with its
/// key first, as one JSON array.
const FILES_BY_KEYS: &str = "SELECT json_group_array(json_array(j.value, f.file_current_id, \
     f.atime_us, f.mtime_us, f.last_accessed_source, f.atime_updated_utc)) \
     FROM json_each(?3) AS j CROSS JOIN file_current AS f \
     WHERE f.tenant_id = ?1 AND f.share_id = ?2 AND f.path_key = j.value";

/// The tier objects of the keys `?3` (a JSON array), with the columns of `sql::OBJECT_COLUMNS`.
const OBJECTS_BY_KEYS: &str = concat!(
    "SELECT ",
    sql::object_columns!(),
    " FROM json_each(?3) AS j CROSS JOIN tier_object AS t \
     JOIN share AS h ON h.tenant_id = ?1 AND h.share_id = t.share_id \
     WHERE t.tenant_id = ?1 AND t.share_id = ?2 AND t.path_key = j.value"
);

const FILE_BY_KEY: &str = "SELECT file_current_id, atime_us, mtime_us, last_accessed_source, \
     atime_updated_utc FROM file_current WHERE tenant_id = ?1 AND share_id = ?2 AND path_key = ?3";

/// Counters, not state: the version (which guards state changes) stays. `?4` accesses.
const OBJECT_WARM: &str = "UPDATE tier_object SET last_accessed_utc = ?3, \
     access_count = access_count + ?4 WHERE tenant_id = ?1 AND tier_id = ?2";

/// A deleted file: missing from now on, keeping the scan that last saw it (`sql::last_seen!`,
/// written into the row while it is not missing yet).
const FILE_MISSING: &str = concat!(
    "UPDATE file_current AS f SET missing_since_utc = coalesce(f.missing_since_utc, ?3), \
     last_seen_scan_id = ",
    sql::last_seen!(),
    " FROM share AS h WHERE h.tenant_id = ?1 AND h.share_id = f.share_id \
     AND f.tenant_id = ?1 AND f.file_current_id = ?2"
);

/// The object of a file (by its key) and its job.
const OBJECT_JOB: &str = "SELECT tier_id, job_id FROM tier_object \
     WHERE tenant_id = ?1 AND share_id = ?2 AND path_key = ?3";

const OBJECT_DROP: &str = "DELETE FROM tier_object WHERE tenant_id = ?1 AND tier_id = ?2";

/// The object stays at its key but now belongs to the moved file record `?3`.
const OBJECT_REPOINT: &str =
    "UPDATE tier_object SET file_current_id = ?3 WHERE tenant_id = ?1 AND tier_id = ?2";

/// `?3` key, `?4` path, `?5` the job of a replaced object (kept when the object has none), `?6`
/// and `?7` the object keys of the old and new path key: the target URI ends in the old one
/// (`alto_core::worker::target_root`), which becomes the new one (a URI that does not end in it
/// stays, as when both are empty). The stored object's key stays: the object does not move.
const OBJECT_REKEY: &str = "UPDATE tier_object SET path_key = ?3, full_path = ?4, \
     version = version + 1, job_id = coalesce(job_id, ?5), \
     target_uri = CASE WHEN ?6 <> ?7 AND length(target_uri) >= length(?6) \
         AND substr(target_uri, length(target_uri) - length(?6) + 1) = ?6 \
         THEN substr(target_uri, 1, length(target_uri) - length(?6)) || ?7 \
         ELSE target_uri END \
     WHERE tenant_id = ?1 AND tier_id = ?2";

const FILE_DROP: &str = "DELETE FROM file_current WHERE tenant_id = ?1 AND file_current_id = ?2";

/// `?3` key, `?4` path, `?5` name, `?6` directory, `?7` now.
const FILE_REKEY: &str = "UPDATE file_current SET path_key = ?3, full_path = ?4, name = ?5, \
     dir_id = ?6, updated_utc = ?7 WHERE tenant_id = ?1 AND file_current_id = ?2";

const DIR_ENSURE: &str = "INSERT INTO dir (tenant_id, share_id, dir_path, dir_hash64) \
     VALUES (?1, ?2, ?3, ?4) ON CONFLICT (tenant_id, share_id, dir_path) DO NOTHING";

const DIR_ID: &str =
    "SELECT dir_id FROM dir WHERE tenant_id = ?1 AND share_id = ?2 AND dir_path = ?3";

/// A placeholder record for an unknown path: `?3` directory, `?4` name, `?5` key, `?6` path,
/// `?7` atime, `?8` extension, `?9` atime updated, `?10` now. Scan ids 0: no scan saw it.
const PLACEHOLDER: &str = "INSERT INTO file_current (tenant_id, share_id, dir_id, name, \
     path_key, full_path, size_bytes, mtime_us, atime_us, file_extension, last_accessed_source, \
     atime_updated_utc, first_seen_scan_id, last_seen_scan_id, updated_utc) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0, NULL, ?7, ?8, 'lucidlink_audit', ?9, 0, 0, ?10)";

const UNKNOWN_INSERT: &str = "INSERT INTO feed_unknown_event (tenant_id, share_id, event_id, \
     event_utc, action, entry_path, target_path, user_name, queued_utc) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";

const UNKNOWN_PAGE: &str = "SELECT u.event_id, u.event_utc, u.action, u.entry_path, \
     u.target_path, u.user_name \
     FROM feed_unknown_event AS u JOIN share AS h ON h.tenant_id = ?1 AND h.share_id = u.share_id \
     WHERE u.tenant_id = ?1 AND h.name = ?2 ORDER BY u.seq LIMIT ?3";

const CURSORS: &str = "SELECT node_id, stem, offset_bytes, line FROM feed_cursor \
     WHERE tenant_id = ?1 AND share_id = ?2 AND feed = ?3";

const CURSOR_SAVE: &str = "INSERT INTO feed_cursor (tenant_id, share_id, feed, node_id, stem, \
     offset_bytes, line, updated_utc) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) \
     ON CONFLICT (tenant_id, share_id, feed, node_id, stem) DO UPDATE SET \
     offset_bytes = excluded.offset_bytes, line = excluded.line, updated_utc = excluded.updated_utc";

/// Every statement of this module, for the scoping test.
#[cfg(test)]
pub(crate) const STATEMENTS: &[(&str, &str)] = &[
    ("EVENTS_SEEN", EVENTS_SEEN),
    ("FILES_BY_KEYS", FILES_BY_KEYS),
    ("OBJECTS_BY_KEYS", OBJECTS_BY_KEYS),
    ("FILE_BY_KEY", FILE_BY_KEY),
    ("OBJECT_WARM", OBJECT_WARM),
    ("FILE_MISSING", FILE_MISSING),
    ("OBJECT_JOB", OBJECT_JOB),
    ("OBJECT_DROP", OBJECT_DROP),
    ("OBJECT_REPOINT", OBJECT_REPOINT),
    ("OBJECT_REKEY", OBJECT_REKEY),
    ("FILE_DROP", FILE_DROP),
    ("FILE_REKEY", FILE_REKEY),
    ("DIR_ENSURE", DIR_ENSURE),
    ("DIR_ID", DIR_ID),
    ("PLACEHOLDER", PLACEHOLDER),
    ("UNKNOWN_INSERT", UNKNOWN_INSERT),
    ("UNKNOWN_PAGE", UNKNOWN_PAGE),
    ("CURSORS", CURSORS),
    ("CURSOR_SAVE", CURSOR_SAVE),
];

// ---- helpers ------------------------------------------------------------------------------------

/// The stored spelling of an action (the LucidLink audit name).
fn action_str(a: FeedAction) -> &'static str {
    FeedAction::ALL
        .iter()
        .find(|(x, _)| *x == a)
        .map_or("FileRead", |(_, n)| n)
}

fn action_of(s: &str) -> Result<FeedAction> {
    FeedAction::ALL
        .iter()
        .find(|(_, n)| *n == s)
        .map(|(a, _)| *a)
        .ok_or_else(|| corrupt(format!("feed action {s:?}")))
}

fn cursor_in(v: u64, what: &str) -> Result<i64> {
    i64::try_from(v).map_err(|_| Error::invalid_input(format!("cursor {what} {v} is too large")))
}

fn cursor_out(v: i64, what: &str) -> Result<u64> {
    u64::try_from(v).map_err(|_| corrupt(format!("negative cursor {what} {v}")))
}

/// A feed path as the share's full path and key.
fn keyed(share: &Share, feed_path: &str) -> Result<(String, String)> {
    let full = match &share.mount_root {
        Some(root) => join_under(root, feed_path).map_err(Error::invalid_input)?,
        None => feed_path.to_owned(),
    };
    let key = share_key(KeyRule::of(share), &full);
    Ok((full, key))
}

/// The object keys ([`object_key`]) of a move's old and new path key, which a tier object's
/// target URI ends in before and after the move; both empty (the URI stays) when either key has
/// none.
fn object_keys(old: &str, new: &str) -> (String, String) {
    match (object_key(old), object_key(new)) {
        (Ok(old), Ok(new)) => (old, new),
        _ => (String::new(), String::new()),
    }
}

/// The id of a directory of the share, recording it if new.
async fn dir_id(
    conn: &mut SqliteConnection,
    tenant: TenantId,
    share_id: i64,
    dir: &str,
) -> Result<i64> {
    sqlx::query(DIR_ENSURE)
        .bind(tenant.0)
        .bind(share_id)
        .bind(dir)
        .bind(dir_hash64(dir))
        .execute(&mut *conn)
        .await
        .map_err(db_in("cannot record a directory"))?;
    sqlx::query_scalar(DIR_ID)
        .bind(tenant.0)
        .bind(share_id)
        .bind(dir)
        .fetch_one(&mut *conn)
        .await
        .map_err(db)
}

/// A file record as an event needs it.
#[derive(Debug, Clone, Copy)]
struct Known {
    id: i64,
    accessed: Option<Micros>,
    modified: Option<Micros>,
    source: AccessSource,
    atime_updated: Option<Micros>,
}

async fn known(
    conn: &mut SqliteConnection,
    tenant: TenantId,
    share_id: i64,
    key: &str,
) -> Result<Option<Known>> {
    let Some(r) = sqlx::query(FILE_BY_KEY)
        .bind(tenant.0)
        .bind(share_id)
        .bind(key)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db)?
    else {
        return Ok(None);
    };
    Ok(Some(Known {
        id: r.try_get(0).map_err(db)?,
        accessed: r.try_get(1).map_err(db)?,
        modified: r.try_get(2).map_err(db)?,
        source: codec::access_source(r.try_get(3).map_err(db)?)?,
        atime_updated: r.try_get(4).map_err(db)?,
    }))
}

/// The tier object at a key and its job link.
async fn object_job(
    conn: &mut SqliteConnection,
    tenant: TenantId,
    share_id: i64,
    key: &str,
) -> Result<Option<(i64, Option<i64>)>> {
    let row = sqlx::query(OBJECT_JOB)
        .bind(tenant.0)
        .bind(share_id)
        .bind(key)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db)?;
    row.map(|r| Ok((r.try_get(0).map_err(db)?, r.try_get(1).map_err(db)?)))
        .transpose()
}

/// What one event did, as recorded in `feed_event`.
#[derive(Clone, Copy)]
enum Did {
    Applied,
    Stale,
    Skewed,
    Unknown,
    Other,
}

impl Did {
    fn as_str(self) -> &'static str {
        match self {
            Did::Applied => "applied",
            Did::Stale => "stale",
            Did::Skewed => "skewed",
            Did::Unknown => "unknown",
            Did::Other => "other",
        }
    }
}

/// What the batch knows of one key: its file record and tier object.
struct Entry {
    file: Option<Known>,
    obj: Option<TierObject>,
}

/// One batch being applied: the transaction and what it needs of the tenant and share.
///
/// Accesses, nearly every event, are decided in memory: the records and objects of the batch's
/// keys are read up front (two statements), and what the accesses change is written when the
/// batch ends, or before an event that reads or rewrites rows itself (a move, a delete, a
/// placeholder), which then drops the keys it touched from [`Apply::cache`]. One statement an
/// event cost a round trip to SQLite's thread each, which is most of a batch's time.
struct Apply<'a> {
    conn: &'a mut SqliteConnection,
    tenant: TenantId,
    share: &'a Share,
    policy: UnknownPathPolicy,
    now: Micros,
    /// The audit event the batch's DELETED transitions go under (its `feed.batch`).
    parent: Option<i64>,
    out: ApplyOutcome,
    /// Keys as stored now, counting the unwritten changes below.
    cache: HashMap<String, Entry>,
    /// File records whose access times moved, to write (by id).
    files: HashMap<i64, Known>,
    /// Objects warmed: last accessed and how many accesses to add (by tier id).
    warm: HashMap<i64, (Micros, i64)>,
}

impl Apply<'_> {
    /// Read the records and objects of `keys` into the cache.
    async fn preload(&mut self, keys: &[&str]) -> Result<()> {
        if keys.is_empty() {
            return Ok(());
        }
        let list = serde_json::to_string(keys).map_err(|e| corrupt(e.to_string()))?;
        let files: Option<String> = sqlx::query_scalar(FILES_BY_KEYS)
            .bind(self.tenant.0)
            .bind(self.share.id)
            .bind(&list)
            .fetch_one(&mut *self.conn)
            .await
            .map_err(db)?;
        type Row = (String, i64, Option<i64>, Option<i64>, String, Option<i64>);
        let files: Vec<Row> = serde_json::from_str(files.as_deref().unwrap_or("[]"))
            .map_err(|e| corrupt(format!("file records: {e}")))?;
        for k in keys {
            self.cache.insert(
                (*k).to_owned(),
                Entry {
                    file: None,
                    obj: None,
                },
            );
        }
        for (key, id, accessed, modified, source, atime_updated) in files {
            let known = Known {
                id,
                accessed,
                modified,
                source: codec::access_source(&source)?,
                atime_updated,
            };
            if let Some(e) = self.cache.get_mut(&key) {
                e.file = Some(known);
            }
        }
        let objects = sqlx::query(OBJECTS_BY_KEYS)
            .bind(self.tenant.0)
            .bind(self.share.id)
            .bind(&list)
            .fetch_all(&mut *self.conn)
            .await
            .map_err(db)?;
        for r in &objects {
            let o = decode_object(r)?;
            if let Some(e) = self.cache.get_mut(&o.path_key) {
                e.obj = Some(o);
            }
        }
        Ok(())
    }

    /// The cache entry of `key`, read from the database when it is not cached.
    async fn entry(&mut self, key: &str) -> Result<&mut Entry> {
        if !self.cache.contains_key(key) {
            let file = known(self.conn, self.tenant, self.share.id, key).await?;
            let obj = object_in(self.conn, self.tenant, &self.share.name, key).await?;
            self.cache.insert(key.to_owned(), Entry { file, obj });
        }
        self.cache
            .get_mut(key)
            .ok_or_else(|| corrupt("a feed key vanished from the cache"))
    }

    /// Write what the accesses so far changed.
    async fn flush(&mut self) -> Result<()> {
        let mut files: Vec<Known> = self.files.drain().map(|(_, k)| k).collect();
        if !files.is_empty() {
            files.sort_unstable_by_key(|k| k.id);
            let want = files.len() as u64;
            let (tenant, now) = (self.tenant.0, self.now);
            let n = batch::run(
                self.conn,
                &sql::FILE_ACCESSED_SQL,
                files,
                "cannot record accesses",
                |q, k| {
                    q.bind(tenant)
                        .bind(k.id)
                        .bind(k.accessed)
                        .bind(k.source.as_str())
                        .bind(k.atime_updated)
                        .bind(k.modified)
                        .bind(now)
                },
            )
            .await?;
            if n != want {
                return Err(corrupt(format!(
                    "accesses recorded: {n} rows, expected {want}"
                )));
            }
        }
        let mut warm: Vec<(i64, (Micros, i64))> = self.warm.drain().collect();
        warm.sort_unstable_by_key(|w| w.0);
        for (id, (last, hits)) in warm {
            sqlx::query(OBJECT_WARM)
                .bind(self.tenant.0)
                .bind(id)
                .bind(last)
                .bind(hits)
                .execute(&mut *self.conn)
                .await
                .map_err(db)?;
        }
        Ok(())
    }

    async fn event(&mut self, ev: &AccessEvent) -> Result<Did> {
        if ev.at > self.now.saturating_add(MAX_FUTURE) {
            self.out.skewed += 1;
            return Ok(Did::Skewed);
        }
        self.out.newest = Some(self.out.newest.map_or(ev.at, |n| n.max(ev.at)));
        let (full, key) = keyed(self.share, &ev.path)?;
        let Some(file) = self.entry(&key).await?.file else {
            return self.unknown(ev, full, key).await;
        };
        match ev.action {
            a if a.is_access() => self.access(ev, a, &key, file).await,
            FeedAction::Move => {
                let Some(target) = &ev.target_path else {
                    self.out.other += 1;
                    return Ok(Did::Other);
                };
                self.moved(&key, file.id, target).await?;
                self.out.moved += 1;
                self.out.applied += 1;
                Ok(Did::Applied)
            }
            FeedAction::FileDelete => {
                self.deleted(ev.at, &key, file.id).await?;
                self.out.deleted += 1;
                self.out.applied += 1;
                Ok(Did::Applied)
            }
            _ => {
                self.out.other += 1;
                Ok(Did::Other)
            }
        }
    }

    async fn unknown(&mut self, ev: &AccessEvent, full: String, key: String) -> Result<Did> {
        if matches!(
            ev.action,
            FeedAction::DirectoryCreate | FeedAction::DirectoryDelete
        ) {
            self.out.other += 1;
            return Ok(Did::Other);
        }
        self.out.unknown += 1;
        match self.policy {
            UnknownPathPolicy::Queue => {
                sqlx::query(UNKNOWN_INSERT)
                    .bind(self.tenant.0)
                    .bind(self.share.id)
                    .bind(&ev.id)
                    .bind(ev.at)
                    .bind(action_str(ev.action))
                    .bind(&ev.path)
                    .bind(&ev.target_path)
                    .bind(&ev.user)
                    .bind(self.now)
                    .execute(&mut *self.conn)
                    .await
                    .map_err(db_in("cannot queue an unknown-path event"))?;
            }
            UnknownPathPolicy::Ignore => {}
            UnknownPathPolicy::Placeholder => {
                self.flush().await?;
                self.cache.remove(&key);
                let (dir, name) = split_dir(&key);
                let dir = dir_id(self.conn, self.tenant, self.share.id, dir).await?;
                let accessed = ev.action.is_access().then_some(ev.at);
                sqlx::query(PLACEHOLDER)
                    .bind(self.tenant.0)
                    .bind(self.share.id)
                    .bind(dir)
                    .bind(name)
                    .bind(&key)
                    .bind(&full)
                    .bind(accessed)
                    .bind(extension(&ev.path))
                    .bind(accessed.map(|_| self.now))
                    .bind(self.now)
                    .execute(&mut *self.conn)
                    .await
                    .map_err(db_in("cannot create a placeholder file record"))?;
            }
            other => {
                return Err(alto_core::Error::unsupported(
                    &format!("the unknown-path policy {other:?}"),
                    "sqlite",
                ));
            }
        }
        Ok(Did::Unknown)
    }

    async fn access(
        &mut self,
        ev: &AccessEvent,
        action: FeedAction,
        key: &str,
        f: Known,
    ) -> Result<Did> {
        let (mut accessed, mut modified) = (f.accessed, f.modified);
        let (mut source, mut atime_updated) = (f.source, f.atime_updated);
        let mut moved = false;
        if accessed.is_none_or(|old| ev.at > old) {
            accessed = Some(ev.at);
            source = AccessSource::LucidlinkAudit;
            atime_updated = Some(self.now);
            moved = true;
        }
        if action == FeedAction::FileWritten && modified.is_none_or(|m| ev.at > m) {
            modified = Some(ev.at);
            moved = true;
        }
        // `event` cached the key before calling this.
        let entry = self
            .cache
            .get_mut(key)
            .ok_or_else(|| corrupt("a feed key vanished from the cache"))?;
        if moved {
            let now = Known {
                id: f.id,
                accessed,
                modified,
                source,
                atime_updated,
            };
            entry.file = Some(now);
            self.files.insert(f.id, now);
            self.out.applied += 1;
        } else {
            self.out.stale += 1;
        }
        if let Some(o) = &mut entry.obj {
            if matches!(o.state, TierState::Planned | TierState::Stubbed) {
                let last = o.last_accessed.map_or(ev.at, |l| l.max(ev.at));
                o.last_accessed = Some(last);
                o.access_count += 1;
                let w = self.warm.entry(o.id).or_insert((last, 0));
                *w = (last, w.1 + 1);
                self.out.warmed.push(Warmed {
                    share: self.share.name.clone(),
                    path_key: key.to_owned(),
                    state: o.state,
                    at: ev.at,
                });
            }
        }
        Ok(if moved { Did::Applied } else { Did::Stale })
    }

    /// Re-key the file `id` at `key` (and its tier object) to the feed path `target`. A file
    /// already at the target is replaced; so is its object when the moved file has one (the moved
    /// object takes over its job if it has none), otherwise that object stays at the target and
    /// now describes the moved file.
    async fn moved(&mut self, key: &str, id: i64, target: &str) -> Result<()> {
        let (tenant, share_id) = (self.tenant, self.share.id);
        let (tfull, tkey) = keyed(self.share, target)?;
        self.flush().await?;
        self.cache.remove(key);
        self.cache.remove(&tkey);
        let source_obj = object_job(self.conn, tenant, share_id, key).await?;
        let mut replaced_job = None;
        if tkey != key {
            if let Some(t) = known(self.conn, tenant, share_id, &tkey).await? {
                match (
                    source_obj,
                    object_job(self.conn, tenant, share_id, &tkey).await?,
                ) {
                    (Some(_), Some((tobj, tjob))) => {
                        sqlx::query(OBJECT_DROP)
                            .bind(tenant.0)
                            .bind(tobj)
                            .execute(&mut *self.conn)
                            .await
                            .map_err(db)?;
                        replaced_job = tjob;
                    }
                    (None, Some((tobj, _))) => {
                        sqlx::query(OBJECT_REPOINT)
                            .bind(tenant.0)
                            .bind(tobj)
                            .bind(id)
                            .execute(&mut *self.conn)
                            .await
                            .map_err(db)?;
                    }
                    (_, None) => {}
                }
                sqlx::query(FILE_DROP)
                    .bind(tenant.0)
                    .bind(t.id)
                    .execute(&mut *self.conn)
                    .await
                    .map_err(db_in("cannot replace the file at a move's target"))?;
            }
        }
        let (dir, name) = split_dir(&tkey);
        let dir = dir_id(self.conn, tenant, share_id, dir).await?;
        sqlx::query(FILE_REKEY)
            .bind(tenant.0)
            .bind(id)
            .bind(&tkey)
            .bind(&tfull)
            .bind(name)
            .bind(dir)
            .bind(self.now)
            .execute(&mut *self.conn)
            .await
            .map_err(db_in("cannot move a file record"))?;
        if let Some((obj, _)) = source_obj {
            let (old_obj, new_obj) = object_keys(key, &tkey);
            sqlx::query(OBJECT_REKEY)
                .bind(tenant.0)
                .bind(obj)
                .bind(&tkey)
                .bind(&tfull)
                .bind(replaced_job)
                .bind(old_obj)
                .bind(new_obj)
                .execute(&mut *self.conn)
                .await
                .map_err(db_in("cannot move a tier object"))?;
        }
        Ok(())
    }

    async fn deleted(&mut self, at: Micros, key: &str, id: i64) -> Result<()> {
        self.flush().await?;
        self.cache.remove(key);
        sqlx::query(FILE_MISSING)
            .bind(self.tenant.0)
            .bind(id)
            .bind(at)
            .execute(&mut *self.conn)
            .await
            .map_err(db)?;
        if let Some(o) = object_in(self.conn, self.tenant, &self.share.name, key).await? {
            if o.state == TierState::Stubbed {
                let req = TransitionRequest {
                    share: self.share.name.clone(),
                    path_key: key.to_owned(),
                    action: Action::Delete,
                    expected: Some((o.state, o.version)),
                    stored: None,
                    plan: None,
                    at,
                };
                transition_under(self.conn, self.tenant, &req, self.parent).await?;
            }
        }
        Ok(())
    }
}

// ---- the trait ----------------------------------------------------------------------------------

#[async_trait]
impl Feeds for SqliteStore {
    async fn feed_cursors(
        &self,
        tenant: TenantId,
        share_name: &str,
        feed: &str,
    ) -> Result<Cursors> {
        let mut conn = self.pools.read.acquire().await.map_err(db)?;
        let sh = share(&mut conn, tenant, share_name).await?;
        let rows = sqlx::query(CURSORS)
            .bind(tenant.0)
            .bind(sh.id)
            .bind(feed)
            .fetch_all(&mut *conn)
            .await
            .map_err(db)?;
        let mut out = Cursors::new();
        for r in &rows {
            out.insert(
                (r.try_get(0).map_err(db)?, r.try_get(1).map_err(db)?),
                Cursor {
                    offset: cursor_out(r.try_get(2).map_err(db)?, "offset")?,
                    line: cursor_out(r.try_get(3).map_err(db)?, "line")?,
                },
            );
        }
        Ok(out)
    }

    async fn apply_events(
        &self,
        tenant: TenantId,
        share_name: &str,
        batch: &EventBatch,
    ) -> Result<ApplyOutcome> {
        let mut tx = self.write().await?;
        let policy = settings(&mut tx, tenant).await?.unknown_paths;
        let sh = share(&mut tx, tenant, share_name).await?;
        if let Some(p) = batch.parent {
            let found: Option<i64> = sqlx::query_scalar(
                "SELECT 1 FROM audit_event WHERE tenant_id = ?1 AND event_id = ?2",
            )
            .bind(tenant.0)
            .bind(p)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db)?;
            if found.is_none() {
                return Err(Error::not_found(format!(
                    "parent audit event {p} does not exist"
                )));
            }
        }
        let mut events: Vec<&AccessEvent> = batch.events.iter().collect();
        events.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.id.cmp(&b.id)));
        let ids: Vec<&str> = events.iter().map(|e| e.id.as_str()).collect();
        let seen: Option<String> = sqlx::query_scalar(EVENTS_SEEN)
            .bind(tenant.0)
            .bind(sh.id)
            .bind(serde_json::to_string(&ids).map_err(|e| corrupt(e.to_string()))?)
            .fetch_one(&mut *tx)
            .await
            .map_err(db)?;
        let mut seen: HashSet<String> = serde_json::from_str(seen.as_deref().unwrap_or("[]"))
            .map_err(|e| corrupt(format!("processed event ids: {e}")))?;
        // The keys the events name (an event whose path cannot be keyed fails when it comes).
        let keys: HashSet<String> = events
            .iter()
            .filter_map(|e| keyed(&sh, &e.path).ok().map(|(_, k)| k))
            .collect();
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        let mut apply = Apply {
            conn: &mut tx,
            tenant,
            share: &sh,
            policy,
            now: batch.now,
            parent: batch.parent,
            out: ApplyOutcome::default(),
            cache: HashMap::with_capacity(keys.len()),
            files: HashMap::new(),
            warm: HashMap::new(),
        };
        apply.preload(&keys).await?;
        let mut records: Vec<(&AccessEvent, Did)> = Vec::with_capacity(events.len());
        for ev in events {
            if !seen.insert(ev.id.clone()) {
                apply.out.duplicate += 1;
                continue;
            }
            let did = apply.event(ev).await?;
            records.push((ev, did));
        }
        apply.flush().await?;
        let out = std::mem::take(&mut apply.out);
        let now = batch.now;
        batch::run(
            &mut tx,
            &sql::EVENT_RECORD_SQL,
            records,
            "cannot record feed events",
            |q, (ev, did)| {
                q.bind(tenant.0)
                    .bind(sh.id)
                    .bind(ev.id.clone())
                    .bind(ev.at)
                    .bind(did.as_str())
                    .bind(now)
            },
        )
        .await?;
        for ((node, stem), c) in &batch.cursors {
            sqlx::query(CURSOR_SAVE)
                .bind(tenant.0)
                .bind(sh.id)
                .bind(&batch.feed)
                .bind(node)
                .bind(stem)
                .bind(cursor_in(c.offset, "offset")?)
                .bind(cursor_in(c.line, "line")?)
                .bind(batch.now)
                .execute(&mut *tx)
                .await
                .map_err(db_in("cannot save a feed cursor"))?;
        }
        tx.commit()
            .await
            .map_err(db_in("cannot commit the feed batch"))?;
        Ok(out)
    }

    async fn unknown_events(
        &self,
        tenant: TenantId,
        share_name: &str,
        limit: usize,
    ) -> Result<Vec<AccessEvent>> {
        let limit = if limit == 0 { DEFAULT_LIMIT } else { limit };
        let rows = sqlx::query(UNKNOWN_PAGE)
            .bind(tenant.0)
            .bind(share_name)
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .fetch_all(&self.pools.read)
            .await
            .map_err(db)?;
        rows.iter()
            .map(|r| {
                Ok(AccessEvent {
                    id: r.try_get(0).map_err(db)?,
                    at: r.try_get(1).map_err(db)?,
                    action: action_of(r.try_get(2).map_err(db)?)?,
                    path: r.try_get(3).map_err(db)?,
                    target_path: r.try_get(4).map_err(db)?,
                    user: r.try_get(5).map_err(db)?,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_round_trip() {
        for (a, _) in FeedAction::ALL {
            assert_eq!(action_of(action_str(a)).unwrap(), a);
        }
        assert!(action_of("Teleport").is_err());
    }
}
