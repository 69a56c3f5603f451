//! Scans and chunked ingest: the hot path.
//!
//! One chunk is one `BEGIN IMMEDIATE` transaction on the writer connection:
//! 1. the chunk id is looked up in `ingest_chunk`: a chunk already applied changes nothing;
//! 2. [`chunk::plan`] computes the path keys in Rust, reads the stored records of those keys with
//!    one statement (one index probe per key) and merges;
//! 3. new files get their directory rows and are inserted, changed files are rewritten; with
//!    `keep_history` the scan's snapshot rows are copied from the result; the chunk row records
//!    the counts. Each step is one statement, or one multi-row statement per [`batch::ROWS`] rows.
//!    Unchanged files are not written during a full scan with history: its snapshot rows record
//!    that it saw them, and when it finishes the share remembers it (`sql::last_seen!`). Other
//!    scans write `last_seen_scan_id` into them.
//!
//! New `file_current_id`s are allocated as `max + 1` in key order: safe because the transaction
//! holds SQLite's write lock from its first statement, and deterministic, so a killed and resumed
//! ingest ends with the same rows, ids included, as an uninterrupted one.

use crate::chunk::{self, Keys, Staged};
use crate::error::{corrupt, db, db_in};
use crate::tenants::{settings, share};
use crate::{SqliteStore, batch, codec, sql};
use alto_core::path::{KeyRule, dir_hash64, split_dir};
use alto_core::store::merge::Change;
use alto_core::store::{ChunkOutcome, IngestChunk, Scan, ScanKind, ScanSpec, ScanSummary};
use alto_core::time::now_micros;
use alto_core::{AccessSource, Error, FileEntry, FileRecord, Result, TenantId};
use sqlx::{Row, SqliteConnection};
use std::collections::HashMap;
use std::sync::Arc;

/// A file to insert: borrowed from the chunk (listed once) or from its merged record.
struct NewFile<'a> {
    key: &'a str,
    entry: &'a FileEntry,
    source: AccessSource,
    atime_updated: Option<i64>,
}

/// What a chunk writes into each file row it inserts or rewrites: the scan that saw it, when, and
/// the chunk's number on the share (`share.chunk_seq`).
#[derive(Debug, Clone, Copy)]
struct Written {
    scan: i64,
    now: i64,
    seq: i64,
}

/// Directory ids this store has seen committed, by (share id, directory key).
///
/// Directories are never deleted or renamed, so a committed id stays right; the cache only saves
/// the two directory statements for directories an earlier chunk already recorded (a share has
/// far fewer directories than files). Filled after commit only, so a rolled-back chunk leaves
/// nothing behind; emptied when it grows past [`DirCache::MAX`] entries.
#[derive(Debug, Default)]
pub(crate) struct DirCache(std::sync::Mutex<DirMap>);

/// Share id -> directory key -> directory id.
type DirMap = HashMap<i64, HashMap<String, i64>>;

impl DirCache {
    const MAX: usize = 1 << 20;

    fn lock(&self) -> std::sync::MutexGuard<'_, DirMap> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Remember directories of a share once their chunk has committed.
    fn learn(&self, share_id: i64, dirs: Vec<(String, i64)>) {
        if dirs.is_empty() {
            return;
        }
        let mut map = self.lock();
        if map.values().map(HashMap::len).sum::<usize>() + dirs.len() > Self::MAX {
            map.clear();
        }
        map.entry(share_id).or_default().extend(dirs);
    }
}

impl SqliteStore {
    pub(crate) async fn begin_scan_impl(&self, tenant: TenantId, spec: &ScanSpec) -> Result<Scan> {
        let kind = codec::scan_kind_str(spec.kind);
        let mut tx = self.write().await?;
        let sh = share(&mut tx, tenant, &spec.share).await?;
        if let Some(source) = &spec.source {
            let open = sqlx::query(sql::SCAN_UNFINISHED)
                .bind(tenant.0)
                .bind(sh.id)
                .bind(kind)
                .bind(source)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db)?;
            if let Some(r) = open {
                return Ok(Scan {
                    id: r.try_get(0).map_err(db)?,
                    share: sh.name,
                    kind: spec.kind,
                    started: r.try_get(1).map_err(db)?,
                    source: spec.source.clone(),
                    resumed: true,
                });
            }
        }
        let started = now_micros();
        let id: i64 = sqlx::query_scalar(sql::SCAN_INSERT)
            .bind(tenant.0)
            .bind(sh.id)
            .bind(kind)
            .bind(&spec.source)
            .bind(started)
            .fetch_one(&mut *tx)
            .await
            .map_err(db_in("cannot start a scan"))?;
        tx.commit().await.map_err(db)?;
        Ok(Scan {
            id,
            share: sh.name,
            kind: spec.kind,
            started,
            source: spec.source.clone(),
            resumed: false,
        })
    }

    pub(crate) async fn ingest_chunk_impl(
        &self,
        tenant: TenantId,
        scan: i64,
        chunk: &IngestChunk,
    ) -> Result<ChunkOutcome> {
        let mut tx = self.write().await?;
        let keep_history = settings(&mut tx, tenant).await?.keep_history;
        let row = sqlx::query(sql::SCAN_WITH_SHARE)
            .bind(tenant.0)
            .bind(scan)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db)?
            .ok_or_else(|| Error::not_found(format!("scan {scan} does not exist")))?;
        let share_id: i64 = row.try_get(0).map_err(db)?;
        let full = codec::scan_kind(row.try_get(1).map_err(db)?)? == ScanKind::Full;
        let case_sensitive: bool = row.try_get(2).map_err(db)?;
        let rule = KeyRule::new(
            codec::share_kind(row.try_get(4).map_err(db)?)?,
            case_sensitive,
        );
        // Only a full scan that keeps snapshots leaves unchanged rows alone: its snapshot rows
        // are its record of them (`sql::last_seen!`). Other scans write "seen" into the row.
        let rewrite_seen = !(full && keep_history);
        let seen = sqlx::query(sql::CHUNK_SEEN)
            .bind(tenant.0)
            .bind(scan)
            .bind(&chunk.id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db)?;
        if seen.is_some() {
            return Ok(ChunkOutcome::default());
        }
        let seq: i64 = sqlx::query_scalar(sql::SHARE_NEXT_CHUNK)
            .bind(tenant.0)
            .bind(share_id)
            .fetch_one(&mut *tx)
            .await
            .map_err(db)?;
        let now = now_micros();
        let keys = Keys::new(&chunk.entries, rule)?;
        let staged =
            chunk::plan(&mut tx, tenant, share_id, &keys, &chunk.entries, scan, now).await?;

        let mut out = ChunkOutcome {
            applied: true,
            ..Default::default()
        };
        let mut new: Vec<NewFile<'_>> = Vec::new();
        let mut changed: Vec<(i64, &FileRecord)> = Vec::new();
        let mut ids: Vec<i64> = Vec::with_capacity(staged.len());
        let mut unchanged: Vec<i64> = Vec::new();
        for (i, s) in staged.iter().enumerate() {
            match s {
                Staged::Unchanged(id) => {
                    out.unchanged += 1;
                    unchanged.push(*id);
                    ids.push(*id);
                }
                Staged::Fresh(at) => {
                    out.new += 1;
                    let entry = &chunk.entries[*at];
                    let (source, atime_updated) = chunk::fresh(entry, now);
                    new.push(NewFile {
                        key: keys.key(i),
                        entry,
                        source,
                        atime_updated,
                    });
                }
                Staged::Merged {
                    id: Some(id),
                    rec,
                    change,
                } if *change != Change::New => {
                    // Written in full even when the first sighting was unchanged: a later
                    // duplicate in the chunk may have changed it (its count stays unchanged).
                    match change {
                        Change::Changed => out.changed += 1,
                        _ => out.unchanged += 1,
                    }
                    changed.push((*id, rec.as_ref()));
                    ids.push(*id);
                }
                Staged::Merged {
                    id: None,
                    rec,
                    change: Change::New,
                } => {
                    out.new += 1;
                    new.push(NewFile {
                        key: &rec.path_key,
                        entry: &rec.entry,
                        source: rec.accessed_source,
                        atime_updated: rec.atime_updated,
                    });
                }
                Staged::Merged { .. } => return Err(corrupt("an inconsistent merge outcome")),
            }
        }
        let at = Written { scan, now, seq };
        let (new_ids, learned) = self.insert_new(&mut tx, tenant, share_id, at, new).await?;
        ids.extend(new_ids);
        update_changed(&mut tx, tenant, share_id, at, changed).await?;
        if rewrite_seen && !unchanged.is_empty() {
            unchanged.sort_unstable();
            let n = sqlx::query(sql::FILE_SEEN)
                .bind(tenant.0)
                .bind(share_id)
                .bind(scan)
                .bind(json(&unchanged)?)
                .bind(seq)
                .execute(&mut *tx)
                .await
                .map_err(db_in("cannot mark unchanged files seen"))?
                .rows_affected();
            expect_rows("unchanged files marked seen", n, unchanged.len())?;
        }
        if keep_history && !ids.is_empty() {
            ids.sort_unstable();
            let n = sqlx::query(sql::SNAPSHOT_INSERT)
                .bind(tenant.0)
                .bind(scan)
                .bind(json(&ids)?)
                .execute(&mut *tx)
                .await
                .map_err(db_in("cannot write the scan's snapshot rows"))?
                .rows_affected();
            expect_rows("snapshot rows written", n, ids.len())?;
        }
        sqlx::query(sql::CHUNK_INSERT)
            .bind(tenant.0)
            .bind(scan)
            .bind(&chunk.id)
            .bind(chunk.entries.len() as i64)
            .bind(out.new as i64)
            .bind(out.changed as i64)
            .bind(out.unchanged as i64)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(db_in("cannot record the chunk"))?;
        tx.commit()
            .await
            .map_err(db_in(&format!("cannot commit chunk {:?}", chunk.id)))?;
        self.dirs.learn(share_id, learned);
        if let Some(c) = &self.pools.checkpointer {
            c.wake();
        }
        Ok(out)
    }

    /// Insert new files (in key order) with their directories; returns their ids and the
    /// directories learned, for the [`DirCache`] once the chunk commits.
    async fn insert_new(
        &self,
        tx: &mut SqliteConnection,
        tenant: TenantId,
        share_id: i64,
        at: Written,
        mut new: Vec<NewFile<'_>>,
    ) -> Result<(Vec<i64>, Vec<(String, i64)>)> {
        if new.is_empty() {
            return Ok((Vec::new(), Vec::new()));
        }
        new.sort_unstable_by(|a, b| a.key.cmp(b.key));
        let keys: Vec<&str> = new.iter().map(|n| n.key).collect();
        let (dirs, learned) = self.dir_ids(tx, tenant, share_id, &keys).await?;
        let first: i64 = sqlx::query_scalar(sql::NEXT_FILE_ID)
            .fetch_one(&mut *tx)
            .await
            .map_err(db)?;
        let ids: Vec<i64> = (first..first + new.len() as i64).collect();
        let want = new.len();
        let rows: Vec<(i64, i64, NewFile<'_>)> = ids
            .iter()
            .zip(dirs)
            .zip(new)
            .map(|((id, dir), f)| (*id, dir, f))
            .collect();
        // Text goes in as `Arc<str>`: one allocation per value (sqlx turns a `&str` into a
        // `String` and then an `Arc`).
        let text = |s: &str| -> Arc<str> { Arc::from(s) };
        let n = batch::run(
            tx,
            &sql::FILE_INSERT_SQL,
            rows,
            "cannot insert new files",
            |q, (id, dir_id, f)| {
                let e = f.entry;
                q.bind(id)
                    .bind(tenant.0)
                    .bind(share_id)
                    .bind(dir_id)
                    .bind(text(split_dir(f.key).1))
                    .bind(text(f.key))
                    .bind(text(&e.path))
                    .bind(e.size as i64)
                    .bind(e.modified)
                    .bind(e.accessed)
                    .bind(e.extension.as_deref().map(text))
                    .bind(e.permissions.as_deref().map(text))
                    .bind(e.owner.as_deref().map(text))
                    .bind(e.hash.as_deref().map(text))
                    .bind(codec::access_source_arg(f.source))
                    .bind(f.atime_updated)
                    .bind(at.scan)
                    .bind(at.scan)
                    .bind(at.now)
                    .bind(at.seq)
            },
        )
        .await?;
        expect_rows("new files inserted", n, want)?;
        Ok((ids, learned))
    }

    /// The directory id of each record, recording new directories; also the directories that
    /// were not cached.
    async fn dir_ids(
        &self,
        tx: &mut SqliteConnection,
        tenant: TenantId,
        share_id: i64,
        keys: &[&str],
    ) -> Result<(Vec<i64>, Vec<(String, i64)>)> {
        let of: Vec<&str> = keys.iter().map(|k| split_dir(k).0).collect();
        let mut dirs: HashMap<&str, i64> = HashMap::new();
        {
            let cache = self.dirs.lock();
            let known = cache.get(&share_id);
            for d in &of {
                dirs.entry(d)
                    .or_insert_with(|| known.and_then(|k| k.get(*d)).copied().unwrap_or(0));
            }
        }
        // In key order, so directory ids do not depend on hash map order (a resumed ingest
        // recreates exactly the rows an uninterrupted one has).
        let mut unknown: Vec<(&str, i64)> = dirs
            .iter()
            .filter(|(_, id)| **id == 0)
            .map(|(d, _)| (*d, dir_hash64(d)))
            .collect();
        unknown.sort_unstable();
        let mut learned = Vec::new();
        if !unknown.is_empty() {
            let paths: Vec<&str> = unknown.iter().map(|(d, _)| *d).collect();
            batch::run(
                &mut *tx,
                &sql::DIR_INSERT_SQL,
                unknown,
                "cannot record directories",
                |q, (d, h)| q.bind(tenant.0).bind(share_id).bind(d).bind(h),
            )
            .await?;
            let found: Option<String> = sqlx::query_scalar(sql::DIR_IDS)
                .bind(tenant.0)
                .bind(share_id)
                .bind(json(&paths)?)
                .fetch_one(&mut *tx)
                .await
                .map_err(db)?;
            let found: Vec<(i64, String)> = serde_json::from_str(found.as_deref().unwrap_or("[]"))
                .map_err(|e| corrupt(format!("directory ids: {e}")))?;
            for (id, path) in found {
                if let Some(slot) = dirs.get_mut(path.as_str()) {
                    *slot = id;
                }
                learned.push((path, id));
            }
        }
        let ids = of
            .iter()
            .map(|d| match dirs.get(d) {
                Some(&id) if id != 0 => Ok(id),
                _ => Err(corrupt(format!("directory {d:?} was not recorded"))),
            })
            .collect::<Result<_>>()?;
        Ok((ids, learned))
    }

    pub(crate) async fn count_unseen_impl(&self, tenant: TenantId, scan: i64) -> Result<u64> {
        let mut conn = self.pools.read.acquire().await.map_err(db)?;
        let row = sqlx::query(sql::SCAN_WITH_SHARE)
            .bind(tenant.0)
            .bind(scan)
            .fetch_optional(&mut *conn)
            .await
            .map_err(db)?
            .ok_or_else(|| Error::not_found(format!("scan {scan} does not exist")))?;
        let share_id: i64 = row.try_get(0).map_err(db)?;
        let kind = codec::scan_kind(row.try_get(1).map_err(db)?)?;
        if kind != ScanKind::Full || row.try_get::<bool, _>(3).map_err(db)? {
            return Ok(0);
        }
        let n: i64 = sqlx::query_scalar(sql::COUNT_UNSEEN)
            .bind(tenant.0)
            .bind(share_id)
            .bind(scan)
            .fetch_one(&mut *conn)
            .await
            .map_err(db)?;
        Ok(n as u64)
    }

    pub(crate) async fn finish_scan_impl(
        &self,
        tenant: TenantId,
        scan: i64,
    ) -> Result<ScanSummary> {
        let mut tx = self.write().await?;
        let st = settings(&mut tx, tenant).await?;
        let row = sqlx::query(sql::SCAN_WITH_SHARE)
            .bind(tenant.0)
            .bind(scan)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db)?
            .ok_or_else(|| Error::not_found(format!("scan {scan} does not exist")))?;
        let share_id: i64 = row.try_get(0).map_err(db)?;
        let kind = codec::scan_kind(row.try_get(1).map_err(db)?)?;
        if row.try_get::<bool, _>(3).map_err(db)? {
            // Finishing twice marks nothing new (and never moves the share's seen scan back).
            return Ok(ScanSummary::default());
        }
        let now = now_micros();
        let mut missing = 0;
        if kind == ScanKind::Full {
            missing = sqlx::query(sql::MARK_MISSING)
                .bind(tenant.0)
                .bind(share_id)
                .bind(scan)
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(db_in("cannot mark unseen files missing"))?
                .rows_affected();
            sqlx::query(sql::SHARE_SEEN)
                .bind(tenant.0)
                .bind(share_id)
                .bind(scan)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
        }
        sqlx::query(sql::SCAN_FINISH)
            .bind(tenant.0)
            .bind(scan)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        if let (true, Some(keep)) = (st.keep_history, st.history_scans) {
            sqlx::query(sql::HISTORY_PRUNE)
                .bind(tenant.0)
                .bind(share_id)
                .bind(i64::from(keep))
                .execute(&mut *tx)
                .await
                .map_err(db_in("cannot prune old snapshots"))?;
        }
        tx.commit().await.map_err(db)?;
        Ok(ScanSummary { missing })
    }
}

/// Rewrite changed files with their merged values.
async fn update_changed(
    tx: &mut SqliteConnection,
    tenant: TenantId,
    share_id: i64,
    at: Written,
    changed: Vec<(i64, &FileRecord)>,
) -> Result<()> {
    if changed.is_empty() {
        return Ok(());
    }
    let want = changed.len();
    let text = |s: &str| -> Arc<str> { Arc::from(s) };
    let n = batch::run(
        tx,
        &sql::FILE_UPDATE_SQL,
        changed,
        "cannot update changed files",
        |q, (id, r)| {
            let e = &r.entry;
            q.bind(tenant.0)
                .bind(share_id)
                .bind(id)
                .bind(text(&e.path))
                .bind(e.size as i64)
                .bind(e.modified)
                .bind(e.accessed)
                .bind(e.extension.as_deref().map(text))
                .bind(e.permissions.as_deref().map(text))
                .bind(e.owner.as_deref().map(text))
                .bind(e.hash.as_deref().map(text))
                .bind(codec::access_source_arg(r.accessed_source))
                .bind(r.atime_updated)
                .bind(at.scan)
                .bind(at.now)
                .bind(at.seq)
        },
    )
    .await?;
    expect_rows("changed files updated", n, want)
}

fn json<T: serde::Serialize + ?Sized>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| corrupt(format!("cannot encode a statement's rows: {e}")))
}

fn expect_rows(what: &str, got: u64, want: usize) -> Result<()> {
    if got == want as u64 {
        Ok(())
    } else {
        Err(corrupt(format!("{what}: {got} rows, expected {want}")))
    }
}
