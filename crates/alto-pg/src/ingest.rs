//! Ingest: one chunk of a scan per transaction, set-based, and finishing a scan.
//!
//! A chunk goes in like this, all in one transaction scoped to the tenant:
//!
//! 1. claim the chunk in `ingest_chunk` (`ON CONFLICT DO NOTHING`): a chunk already applied in
//!    this scan stops here and changes nothing, and a concurrent second application waits for the
//!    first and then stops;
//! 2. compute path keys, directories and PostgreSQL times in Rust, and refuse (as `InvalidInput`,
//!    naming the file) values PostgreSQL cannot hold;
//! 3. upsert the chunk's directories that are not in the store's directory cache;
//! 4. binary `COPY` the rows into the session's private staging table (`COPY` cannot write into
//!    a table with row-level security; a temporary table is visible to its session alone) and,
//!    when the tenant keeps history, append the snapshot rows (the values as listed) from it;
//! 5. one statement merges staging into `file_current` (`INSERT … ON CONFLICT DO UPDATE … WHERE`
//!    something differs: the rule of `alto_core::store::merge` in SQL), counting new and changed
//!    rows from its `RETURNING`. Rows go in key order.
//!
//! Steps 1–4 ([`prepare`]) depend on nothing the chunks before wrote, so the ingest driver runs
//! them on a second connection while the previous chunk merges; step 5 ([`apply`]) is the only
//! part on the critical path.
//!
//! A full scan of a tenant that keeps history does not rewrite the rows it finds unchanged: its
//! snapshot rows say it saw them. `finish_scan` marks missing what the scan neither wrote nor
//! listed, and records the scan on the share, from which `files.rs` derives `last_seen_scan`
//! (ADR 0004, "Unchanged files are not rewritten").
//!
//! A key listed twice in one chunk is merged in rounds (first sightings, then second sightings…),
//! which is exactly the reference store's one-after-the-other rule: the later row wins, last
//! access never moves back, and the counts follow the first sighting.

use crate::PgStore;
use crate::copy::BinaryCopy;
use crate::dirs;
use crate::error::db_err;
use crate::tenant;
use crate::time::{PgTime, to_pg};
use alto_core::path::{KeyRule, share_key_into, split_dir};
use alto_core::store::{ChunkOutcome, IngestChunk, ScanSummary};
use alto_core::time::now_micros;
use alto_core::types::{FileEntry, TenantId, TenantSettings};
use alto_core::{Error, Result};
use sqlx::types::Json;
use sqlx::{PgConnection, Postgres, Row, Transaction};
use std::collections::HashMap;

/// Local buffers for the session's temporary tables (set before the first one is used).
pub(crate) const SET_TEMP_BUFFERS: &str = "SET temp_buffers = '32MB'";

/// The session's private staging table, created when a pooled connection opens.
pub(crate) const CREATE_STAGING: &str = "CREATE TEMP TABLE IF NOT EXISTS alto_stage_file \
     (LIKE staging_file) ON COMMIT DELETE ROWS";

const COPY_STAGING: &str = "COPY pg_temp.alto_stage_file (dir_id, size_bytes, modified_utc, \
     accessed_utc, path_key, full_path, extension, permissions, owner, file_hash) \
     FROM STDIN (FORMAT binary)";

/// The merge rule (`alto_core::store::merge`) as one upsert. $1 tenant, $2 share, $3 scan,
/// $4 chunk id, $5 now, $6 whether a row only seen again is rewritten to record this scan. A row
/// is only rewritten when something differs or (with $6) this scan has not seen it yet;
/// `changed_chunk_id` marks rows whose values this chunk changed, so `RETURNING` can tell changed
/// rows from rows only seen again. A full scan that keeps snapshots passes false: its snapshot
/// rows record what it saw (see `finish_scan`), so an unchanged file costs a lookup, not a write.
macro_rules! upsert {
    () => {
        concat!(
            insert_new!(),
            "ON CONFLICT (tenant_id, share_id, path_key) DO UPDATE SET \
             size_bytes = excluded.size_bytes, \
             modified_utc = excluded.modified_utc, \
             full_path = excluded.full_path, \
             extension = excluded.extension, \
             permissions = excluded.permissions, \
             owner = excluded.owner, \
             file_hash = excluded.file_hash, \
             accessed_utc = greatest(fc.accessed_utc, excluded.accessed_utc), \
             atime_updated_utc = CASE WHEN excluded.accessed_utc IS NOT NULL AND \
                 (fc.accessed_utc IS NULL OR excluded.accessed_utc > fc.accessed_utc) \
                 THEN excluded.atime_updated_utc ELSE fc.atime_updated_utc END, \
             last_accessed_source = CASE WHEN excluded.accessed_utc IS NOT NULL AND \
                 (fc.accessed_utc IS NULL OR excluded.accessed_utc > fc.accessed_utc) \
                 THEN 'incremental_scan' ELSE fc.last_accessed_source END, \
             last_seen_scan_id = excluded.last_seen_scan_id, \
             seen_chunk_id = excluded.changed_chunk_id, \
             missing_since = NULL, \
             changed_chunk_id = CASE WHEN fc.missing_since IS NOT NULL \
                 OR (excluded.accessed_utc IS NOT NULL AND \
                     (fc.accessed_utc IS NULL OR excluded.accessed_utc > fc.accessed_utc)) \
                 OR (fc.full_path, fc.size_bytes, fc.modified_utc, fc.extension, fc.permissions, \
                     fc.owner, fc.file_hash) IS DISTINCT FROM (excluded.full_path, \
                     excluded.size_bytes, excluded.modified_utc, excluded.extension, \
                     excluded.permissions, excluded.owner, excluded.file_hash) \
                 THEN excluded.changed_chunk_id ELSE fc.changed_chunk_id END \
         WHERE ($6 AND fc.last_seen_scan_id <> excluded.last_seen_scan_id) \
             OR fc.missing_since IS NOT NULL \
             OR (excluded.accessed_utc IS NOT NULL AND \
                 (fc.accessed_utc IS NULL OR excluded.accessed_utc > fc.accessed_utc)) \
             OR (fc.full_path, fc.size_bytes, fc.modified_utc, fc.extension, fc.permissions, \
                 fc.owner, fc.file_hash) IS DISTINCT FROM (excluded.full_path, \
                 excluded.size_bytes, excluded.modified_utc, excluded.extension, \
                 excluded.permissions, excluded.owner, excluded.file_hash) "
        )
    };
}

/// Staging as new rows: the insert half of the merge. $1 tenant, $2 share, $3 scan, $4 chunk id,
/// $5 now.
macro_rules! insert_new {
    () => {
        "INSERT INTO file_current AS fc (tenant_id, share_id, dir_id, size_bytes, modified_utc, \
             accessed_utc, atime_updated_utc, first_seen_scan_id, last_seen_scan_id, \
             changed_chunk_id, path_key, full_path, extension, permissions, owner, file_hash, \
             last_accessed_source) \
         SELECT $1, $2, s.dir_id, s.size_bytes, s.modified_utc, s.accessed_utc, \
             CASE WHEN s.accessed_utc IS NOT NULL THEN $5::timestamptz END, $3, $3, $4, \
             s.path_key, s.full_path, s.extension, s.permissions, s.owner, s.file_hash, \
             'initial_scan' \
         FROM pg_temp.alto_stage_file s "
    };
}

/// A chunk of files the share does not have yet, inserted without `ON CONFLICT` (a third
/// cheaper: no speculative insertion); a unique violation sends the chunk to [`MERGE`].
const INSERT_NEW: &str = insert_new!();

/// Merge; returns (new, changed) among the rows.
const MERGE: &str = concat!(
    "WITH up AS (",
    upsert!(),
    "RETURNING fc.xmax = 0 AS inserted, fc.changed_chunk_id = $4 AS changed) \
     SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE changed AND NOT inserted) \
     FROM up"
);

/// The snapshot rows of what the chunk listed. $1 tenant, $2 share, $3 scan.
const SNAPSHOT: &str = "INSERT INTO file (tenant_id, scan_id, share_id, size_bytes, \
     modified_utc, accessed_utc, path_key, full_path, extension, permissions, owner, file_hash) \
     SELECT $1, $3, $2, size_bytes, modified_utc, accessed_utc, path_key, full_path, extension, \
         permissions, owner, file_hash \
     FROM pg_temp.alto_stage_file";

/// One row of a chunk, ready for COPY.
struct Staged<'a> {
    key: String,
    entry: &'a FileEntry,
    modified: Option<i64>,
    accessed: Option<i64>,
}

/// Where a staged row goes: its round and its directory (an index into the chunk's directories).
#[derive(Clone, Copy)]
struct Place {
    round: u32,
    dir: usize,
}

/// Check what PostgreSQL cannot store, naming the file.
fn check(e: &FileEntry) -> Result<(Option<i64>, Option<i64>)> {
    let bad = |what: String| Err(Error::invalid_input(format!("file {:?}: {what}", e.path)));
    if i64::try_from(e.size).is_err() {
        return bad(format!("size {} is beyond PostgreSQL's bigint", e.size));
    }
    let texts = [
        Some(e.path.as_str()),
        e.extension.as_deref(),
        e.permissions.as_deref(),
        e.owner.as_deref(),
        e.hash.as_deref(),
    ];
    if texts.iter().flatten().any(|t| t.contains('\0')) {
        return bad("a field contains a NUL byte, which PostgreSQL text cannot hold".into());
    }
    let time = |t: Option<i64>, what: &str| match t {
        None => Ok(None),
        Some(v) => to_pg(v).map(Some).ok_or_else(|| {
            Error::invalid_input(format!(
                "file {:?}: {what} {v} is outside PostgreSQL's timestamp range",
                e.path
            ))
        }),
    };
    Ok((
        time(e.modified, "last modified")?,
        time(e.accessed, "last accessed")?,
    ))
}

/// A chunk whose rows are in its transaction's staging table, ready to merge: everything
/// [`apply`] needs, owned, so the merge can run on its own task.
pub(crate) struct Prepared {
    tx: Transaction<'static, Postgres>,
    tenant: TenantId,
    share: i64,
    scan: i64,
    chunk_key: String,
    chunk_id: i64,
    now: PgTime,
    all_new: bool,
    rewrite_seen: bool,
    keep_history: bool,
    /// Rows of round 0, which are in staging already.
    rows: u64,
    /// The COPY payloads and row counts of the later rounds (a key listed more than once).
    later: Vec<(Vec<u8>, u64)>,
}

/// Apply one chunk: [`prepare`], then [`apply`].
pub(crate) async fn ingest_chunk(
    store: &PgStore,
    tenant: TenantId,
    scan: i64,
    chunk: &IngestChunk,
) -> Result<ChunkOutcome> {
    match prepare(store, tenant, scan, chunk).await? {
        Some(p) => apply(p).await,
        None => Ok(ChunkOutcome::default()),
    }
}

/// Everything of a chunk that does not depend on the chunks before it: claim the chunk (`None`
/// when it was applied before), compute keys, directories and times, record new directories (in
/// a transaction of their own, committed: directories are never deleted, so one recorded for a
/// chunk that then fails stays harmless, and the next chunk's directories do not wait for this
/// chunk's commit), and COPY the first round into staging. The chunk's transaction stays open.
pub(crate) async fn prepare(
    store: &PgStore,
    tenant: TenantId,
    scan: i64,
    chunk: &IngestChunk,
) -> Result<Option<Prepared>> {
    stage(store, tenant, scan, chunk).await.map_err(|e| {
        crate::error::invalid_in(e, || {
            format!(
                "scan {scan}: inventory rows {} (first+count, from 0)",
                chunk.id
            )
        })
    })
}

async fn stage(
    store: &PgStore,
    tenant: TenantId,
    scan: i64,
    chunk: &IngestChunk,
) -> Result<Option<Prepared>> {
    let mut tx = store.begin(tenant).await?;
    let row = sqlx::query(
        "SELECT s.share_id, sh.case_sensitive, t.settings, s.kind, \
             (SELECT coalesce(bool_and(c.new = c.rows), true) FROM ingest_chunk c \
              WHERE c.tenant_id = s.tenant_id AND c.scan_id = s.scan_id), sh.kind \
         FROM scan s \
         JOIN share sh ON sh.tenant_id = s.tenant_id AND sh.share_id = s.share_id \
         JOIN tenant t ON t.tenant_id = s.tenant_id \
         WHERE s.tenant_id = $1 AND s.scan_id = $2",
    )
    .bind(tenant.0)
    .bind(scan)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_err)?
    .ok_or_else(|| Error::not_found(format!("scan {scan} does not exist")))?;
    let share: i64 = row.try_get(0).map_err(db_err)?;
    let case_sensitive: bool = row.try_get(1).map_err(db_err)?;
    let Json(settings): Json<TenantSettings> = row.try_get(2).map_err(db_err)?;
    let share_kind: String = row.try_get(5).map_err(db_err)?;
    let rule = KeyRule::new(tenant::share_kind(&share_kind)?, case_sensitive);
    let kind: String = row.try_get(3).map_err(db_err)?;
    let full = kind == tenant::scan_kind_str(alto_core::store::ScanKind::Full);
    // Only a full scan that keeps snapshots leaves unchanged rows alone: its snapshot rows are
    // its record of them. Partial scans, and scans without history, write "seen" into the row.
    let rewrite_seen = !(full && settings.keep_history);

    // Optimistic: while every chunk of this scan so far held only new files (a first ingest),
    // try the next one as a plain insert. Staged while the chunk before still merges, this may
    // not count that chunk yet: a wrong guess costs a rolled-back insert, never a wrong row.
    let all_new: bool = row.try_get(4).map_err(db_err)?;
    let chunk_id: Option<i64> = sqlx::query_scalar(
        "INSERT INTO ingest_chunk (tenant_id, scan_id, chunk_key, rows) VALUES ($1, $2, $3, $4) \
         ON CONFLICT DO NOTHING RETURNING chunk_id",
    )
    .bind(tenant.0)
    .bind(scan)
    .bind(&chunk.id)
    .bind(chunk.entries.len() as i64)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_err)?;
    let Some(chunk_id) = chunk_id else {
        tx.commit().await.map_err(db_err)?;
        return Ok(None);
    };

    // Keys, directories and rounds, computed before anything is written.
    let mut staged = Vec::with_capacity(chunk.entries.len());
    for e in &chunk.entries {
        let (modified, accessed) = check(e)?;
        let mut key = String::with_capacity(e.path.len());
        share_key_into(rule, &e.path, &mut key);
        staged.push(Staged {
            key,
            entry: e,
            modified,
            accessed,
        });
    }
    let mut rounds = 1u32;
    let mut dirs: Vec<(&str, i64)> = Vec::new();
    let mut places = Vec::with_capacity(staged.len());
    {
        let mut seen: HashMap<&str, u32> = HashMap::with_capacity(staged.len());
        let mut dir_index: HashMap<&str, usize> = HashMap::new();
        for s in &staged {
            let n = seen.entry(s.key.as_str()).or_insert(0);
            let round = *n;
            *n += 1;
            rounds = rounds.max(*n);
            let dir = split_dir(&s.key).0;
            let dir = *dir_index.entry(dir).or_insert_with(|| {
                dirs.push((dir, 0));
                dirs.len() - 1
            });
            places.push(Place { round, dir });
        }
    }
    let mut dtx = store.begin(tenant).await?;
    let new_dirs = dirs::resolve(store, &mut dtx, tenant, share, &mut dirs).await?;
    dtx.commit().await.map_err(db_err)?;
    if new_dirs {
        store.dirs.remember(tenant, share, &dirs);
    }

    let (first, rows) = encode_round(&staged, &places, &dirs, 0);
    send_copy(&mut tx, first).await?;
    if settings.keep_history {
        // Snapshot rows depend on nothing stored: written here, beside the previous chunk's
        // merge, they are off the critical path.
        snapshot(&mut tx, tenant, share, scan).await?;
    }
    let later = (1..rounds)
        .map(|round| encode_round(&staged, &places, &dirs, round))
        .collect();
    Ok(Some(Prepared {
        tx,
        tenant,
        share,
        scan,
        chunk_key: chunk.id.clone(),
        chunk_id,
        now: PgTime(now_micros()),
        all_new,
        rewrite_seen,
        keep_history: settings.keep_history,
        rows,
        later,
    }))
}

/// Merge a prepared chunk into the tenant's files and commit it. Bad data PostgreSQL refuses
/// (an index row too large, a value out of range: see [`crate::error`]) names the chunk's rows.
pub(crate) async fn apply(p: Prepared) -> Result<ChunkOutcome> {
    let (scan, chunk) = (p.scan, p.chunk_key.clone());
    merge_chunk(p).await.map_err(|e| {
        crate::error::invalid_in(e, || {
            format!("scan {scan}: inventory rows {chunk} (first+count, from 0)")
        })
    })
}

async fn merge_chunk(p: Prepared) -> Result<ChunkOutcome> {
    let Prepared {
        mut tx,
        tenant,
        share,
        scan,
        chunk_key,
        chunk_id,
        now,
        all_new,
        rewrite_seen,
        keep_history,
        rows,
        later,
    } = p;
    let mut out = ChunkOutcome {
        applied: true,
        ..Default::default()
    };
    // Usually one round; a key listed n times in the chunk makes n rounds, each merged onto the
    // last (only the first round's rows are counted, as the reference store counts them).
    // Round 0 is in staging already, with its snapshot rows (`prepare`); a later one replaces it
    // and gets its own.
    let rounds = std::iter::once((None, rows)).chain(later.into_iter().map(|(p, n)| (Some(p), n)));
    for (round, (payload, n)) in rounds.enumerate() {
        if let Some(payload) = payload {
            sqlx::query("TRUNCATE pg_temp.alto_stage_file")
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            send_copy(&mut tx, payload).await?;
            if keep_history {
                snapshot(&mut tx, tenant, share, scan).await?;
            }
        }
        let inserted = if round == 0 && all_new {
            insert_all_new(&mut tx, tenant, share, scan, chunk_id, now).await?
        } else {
            None
        };
        if inserted.is_none() && !rewrite_seen {
            // Unchanged files need no write at all: with the round's snapshot rows recorded,
            // take them out of staging, so the upsert neither locks nor dirties their rows (a
            // lock is a WAL record and a page to write back).
            drop_unchanged(&mut tx, tenant, share).await?;
        }
        let (new, changed): (i64, i64) = match inserted {
            Some(new) => (new, 0),
            None => sqlx::query_as(MERGE)
                .bind(tenant.0)
                .bind(share)
                .bind(scan)
                .bind(chunk_id)
                .bind(now)
                .bind(rewrite_seen)
                .fetch_one(&mut *tx)
                .await
                .map_err(db_err)?,
        };
        if round == 0 {
            out.new = new as u64;
            out.changed = changed as u64;
            out.unchanged = n - out.new - out.changed;
        }
    }
    sqlx::query(
        "UPDATE ingest_chunk SET new = $4, changed = $5, unchanged = $6 \
         WHERE tenant_id = $1 AND scan_id = $2 AND chunk_key = $3",
    )
    .bind(tenant.0)
    .bind(scan)
    .bind(&chunk_key)
    .bind(out.new as i64)
    .bind(out.changed as i64)
    .bind(out.unchanged as i64)
    .execute(&mut *tx)
    .await
    .map_err(db_err)?;
    tx.commit().await.map_err(db_err)?;
    Ok(out)
}

async fn snapshot(conn: &mut PgConnection, tenant: TenantId, share: i64, scan: i64) -> Result<()> {
    sqlx::query(SNAPSHOT)
        .bind(tenant.0)
        .bind(share)
        .bind(scan)
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
    Ok(())
}

/// Remove from staging the files stored exactly as listed: not missing, no newer access, every
/// value equal — the negation of the upsert's `WHERE` without "not seen by this scan yet". A
/// scalar sub-select, which PostgreSQL never turns into a join: one primary-key probe per staged
/// row, whatever the statistics say (a temporary table has none, and a join planned without them
/// can read all of `file_current` per staged row).
async fn drop_unchanged(conn: &mut PgConnection, tenant: TenantId, share: i64) -> Result<()> {
    sqlx::query(
        "DELETE FROM pg_temp.alto_stage_file s WHERE ( \
             SELECT fc.missing_since IS NULL \
                 AND NOT (s.accessed_utc IS NOT NULL AND \
                          (fc.accessed_utc IS NULL OR s.accessed_utc > fc.accessed_utc)) \
                 AND (fc.full_path, fc.size_bytes, fc.modified_utc, fc.extension, \
                      fc.permissions, fc.owner, fc.file_hash) IS NOT DISTINCT FROM \
                     (s.full_path, s.size_bytes, s.modified_utc, s.extension, s.permissions, \
                      s.owner, s.file_hash) \
             FROM file_current fc \
             WHERE fc.tenant_id = $1 AND fc.share_id = $2 AND fc.path_key = s.path_key)",
    )
    .bind(tenant.0)
    .bind(share)
    .execute(&mut *conn)
    .await
    .map_err(db_err)?;
    Ok(())
}

/// Insert staging as new files, in a savepoint; `None` (and nothing written) when one of them
/// exists already.
async fn insert_all_new(
    conn: &mut PgConnection,
    tenant: TenantId,
    share: i64,
    scan: i64,
    chunk_id: i64,
    now: PgTime,
) -> Result<Option<i64>> {
    sqlx::query("SAVEPOINT alto_insert_new")
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
    let res = sqlx::query(INSERT_NEW)
        .bind(tenant.0)
        .bind(share)
        .bind(scan)
        .bind(chunk_id)
        .bind(now)
        .execute(&mut *conn)
        .await;
    match res {
        Ok(done) => {
            sqlx::query("RELEASE SAVEPOINT alto_insert_new")
                .execute(&mut *conn)
                .await
                .map_err(db_err)?;
            Ok(Some(done.rows_affected() as i64))
        }
        Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("23505") => {
            sqlx::query("ROLLBACK TO SAVEPOINT alto_insert_new")
                .execute(&mut *conn)
                .await
                .map_err(db_err)?;
            Ok(None)
        }
        Err(e) => Err(db_err(e)),
    }
}

/// The COPY payload of one round's rows, and how many.
fn encode_round(
    staged: &[Staged<'_>],
    places: &[Place],
    dirs: &[(&str, i64)],
    round: u32,
) -> (Vec<u8>, u64) {
    // In key order (a round's keys are distinct): the merge then walks the primary key front to
    // back, touching each index page once, and a chunk's new rows land side by side in the heap
    // in the order a re-ingest of the same chunk will look them up.
    let mut rows: Vec<(&Staged<'_>, &Place)> = staged
        .iter()
        .zip(places)
        .filter(|(_, p)| p.round == round)
        .collect();
    rows.sort_unstable_by(|a, b| a.0.key.cmp(&b.0.key));
    let bytes: usize = rows
        .iter()
        .map(|(s, _)| 128 + s.key.len() + s.entry.path.len())
        .sum();
    let mut copy = BinaryCopy::with_capacity(bytes);
    let mut n = 0;
    for (s, p) in rows {
        let e = s.entry;
        copy.row(10);
        copy.int8(dirs[p.dir].1);
        copy.int8(e.size as i64);
        copy.timestamp(s.modified);
        copy.timestamp(s.accessed);
        copy.text(Some(&s.key));
        copy.text(Some(&e.path));
        copy.text(e.extension.as_deref());
        copy.text(e.permissions.as_deref());
        copy.text(e.owner.as_deref());
        copy.text(e.hash.as_deref());
        n += 1;
    }
    (copy.finish(), n)
}

/// COPY a payload into the session's staging table.
async fn send_copy(conn: &mut PgConnection, payload: Vec<u8>) -> Result<()> {
    let mut sink = conn.copy_in_raw(COPY_STAGING).await.map_err(db_err)?;
    if let Err(e) = sink.send(payload).await {
        let _ = sink.abort("alto: sending the chunk failed").await;
        return Err(db_err(e));
    }
    sink.finish().await.map_err(db_err)?;
    Ok(())
}

/// What `finish_scan` would mark missing now, counted without writing (the same predicate).
pub(crate) async fn count_unseen(store: &PgStore, tenant: TenantId, scan: i64) -> Result<u64> {
    let mut tx = store.begin(tenant).await?;
    let row = sqlx::query(
        "SELECT share_id, kind, finished_utc IS NOT NULL FROM scan \
         WHERE tenant_id = $1 AND scan_id = $2",
    )
    .bind(tenant.0)
    .bind(scan)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_err)?
    .ok_or_else(|| Error::not_found(format!("scan {scan} does not exist")))?;
    let share: i64 = row.try_get(0).map_err(db_err)?;
    let kind: String = row.try_get(1).map_err(db_err)?;
    let finished: bool = row.try_get(2).map_err(db_err)?;
    if finished || kind != tenant::scan_kind_str(alto_core::store::ScanKind::Full) {
        return Ok(0);
    }
    for set in [
        "SET LOCAL work_mem = '128MB'",
        "SET LOCAL enable_nestloop = off",
        "SET LOCAL enable_mergejoin = off",
    ] {
        sqlx::query(set).execute(&mut *tx).await.map_err(db_err)?;
    }
    let n: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM file_current fc \
         WHERE fc.tenant_id = $1 AND fc.share_id = $2 AND fc.last_seen_scan_id <> $3 \
           AND fc.missing_since IS NULL \
           AND NOT EXISTS (SELECT 1 FROM file f WHERE f.tenant_id = $1 AND f.scan_id = $3 \
               AND f.share_id = $2 AND f.path_key = fc.path_key)",
    )
    .bind(tenant.0)
    .bind(share)
    .bind(scan)
    .fetch_one(&mut *tx)
    .await
    .map_err(db_err)?;
    tx.rollback().await.map_err(db_err)?;
    Ok(n as u64)
}

pub(crate) async fn finish_scan(
    store: &PgStore,
    tenant: TenantId,
    scan: i64,
) -> Result<ScanSummary> {
    let mut tx = store.begin(tenant).await?;
    let row = sqlx::query(
        "SELECT share_id, kind, finished_utc IS NOT NULL FROM scan \
         WHERE tenant_id = $1 AND scan_id = $2 FOR UPDATE",
    )
    .bind(tenant.0)
    .bind(scan)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_err)?
    .ok_or_else(|| Error::not_found(format!("scan {scan} does not exist")))?;
    let share: i64 = row.try_get(0).map_err(db_err)?;
    let kind: String = row.try_get(1).map_err(db_err)?;
    let finished: bool = row.try_get(2).map_err(db_err)?;
    if finished {
        // Finishing twice marks nothing new.
        tx.commit().await.map_err(db_err)?;
        return Ok(ScanSummary::default());
    }
    let now = PgTime(now_micros());
    let missing = if kind == tenant::scan_kind_str(alto_core::store::ScanKind::Full) {
        // Seen by this scan: written by it (`last_seen_scan_id`), or left alone as unchanged and
        // then listed in its snapshot rows. Always a hash anti-join (the scan's snapshot keys
        // hashed, in batches past `work_mem`): on tables just loaded, without statistics, the
        // planner otherwise picks a nested loop over the snapshots — quadratic, minutes for a
        // million files.
        for set in [
            "SET LOCAL work_mem = '128MB'",
            "SET LOCAL enable_nestloop = off",
            "SET LOCAL enable_mergejoin = off",
        ] {
            sqlx::query(set).execute(&mut *tx).await.map_err(db_err)?;
        }
        // A missing file keeps the scan that last saw it: the one derived through the share
        // (`files::last_seen!`, before the share moves on to this scan) is written into it.
        let missing = sqlx::query(concat!(
            "UPDATE file_current fc SET missing_since = $4, last_seen_scan_id = ",
            crate::files::last_seen!(),
            " FROM share sh WHERE sh.tenant_id = $1 AND sh.share_id = $2 \
               AND fc.tenant_id = $1 AND fc.share_id = $2 AND fc.last_seen_scan_id <> $3 \
               AND fc.missing_since IS NULL \
               AND NOT EXISTS (SELECT 1 FROM file f WHERE f.tenant_id = $1 AND f.scan_id = $3 \
                   AND f.share_id = $2 AND f.path_key = fc.path_key)"
        ))
        .bind(tenant.0)
        .bind(share)
        .bind(scan)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?
        .rows_affected();
        for reset in [
            "SET LOCAL work_mem TO DEFAULT",
            "SET LOCAL enable_nestloop TO DEFAULT",
            "SET LOCAL enable_mergejoin TO DEFAULT",
        ] {
            sqlx::query(reset).execute(&mut *tx).await.map_err(db_err)?;
        }
        // Every file of the share not missing now was seen by this scan (`files.rs`).
        sqlx::query(
            "UPDATE share SET seen_scan_id = $3, seen_chunk_id = \
                 (SELECT coalesce(max(chunk_id), 0) FROM ingest_chunk WHERE tenant_id = $1) \
             WHERE tenant_id = $1 AND share_id = $2",
        )
        .bind(tenant.0)
        .bind(share)
        .bind(scan)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        missing
    } else {
        0
    };
    sqlx::query(
        "UPDATE scan SET finished_utc = $3, missing = $4 WHERE tenant_id = $1 AND scan_id = $2",
    )
    .bind(tenant.0)
    .bind(scan)
    .bind(now)
    .bind(missing as i64)
    .execute(&mut *tx)
    .await
    .map_err(db_err)?;
    let settings = tenant::settings(&mut tx, tenant).await?;
    if let (true, Some(keep)) = (settings.keep_history, settings.history_scans) {
        // Keep the snapshots of the share's last `keep` scans only.
        sqlx::query(
            "DELETE FROM file WHERE tenant_id = $1 AND scan_id IN ( \
                 SELECT scan_id FROM scan WHERE tenant_id = $1 AND share_id = $2 \
                 ORDER BY scan_id DESC OFFSET $3)",
        )
        .bind(tenant.0)
        .bind(share)
        .bind(i64::from(keep))
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    }
    tx.commit().await.map_err(db_err)?;
    Ok(ScanSummary { missing })
}
