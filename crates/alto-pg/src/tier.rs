//! Tier objects: one file's lifecycle, changed with optimistic concurrency.
//!
//! A transition locks the file's `file_current` row first, so two writers of the same file (the
//! feed and a worker, two workers) take turns, then the object's row (`FOR UPDATE`: set-based
//! writers — a committed plan, a feed batch — lock objects without the file); then it compares the
//! object's state and version with what the caller read (`Conflict` if they moved), asks the
//! core's transition table (`InvalidTransition` if refused), writes the object and its audit event
//! in the same transaction. Nothing is written when any check fails. [`transition_in`] runs in the
//! caller's transaction (fenced worker writes, feed deletes). A stub that carries the record of its
//! stored object writes it in the stub's own `UPDATE`; a new incarnation clears it.

use crate::PgStore;
use crate::audit;
use crate::error::db_err;
use crate::tenant::share_id;
use crate::time::{PgTime, micros, to_pg};
use alto_core::lifecycle::{Action, transition as table};
use alto_core::store::{LostRequest, Page, TierObjectQuery, TransitionRequest};
use alto_core::types::{Lost, LostReason, NewAuditEvent, StoredObject, TenantId, TierObject};
use alto_core::{Error, ErrorKind, Result, TierState};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};

/// The columns [`object`] reads.
macro_rules! object_columns {
    () => {
        "tier_id, path_key, full_path, state, version, incarnation, target_uri, planned_by, \
         planned_utc, acted_utc, last_accessed_utc, access_count, object_key, object_size, \
         object_sha256, object_etag, owner_uid, owner_gid, file_mode, original_mtime_utc, \
         lost_utc, lost_reason"
    };
}
pub(crate) use object_columns;

/// The assignments that clear a tier object's stored object and its LOST flag (a new
/// incarnation).
macro_rules! clear_stored {
    () => {
        "object_key = NULL, object_size = NULL, object_sha256 = NULL, object_etag = NULL, \
         owner_uid = NULL, owner_gid = NULL, file_mode = NULL, original_mtime_utc = NULL, \
         lost_utc = NULL, lost_reason = NULL"
    };
}
pub(crate) use clear_stored;

const SELECT_OBJECT: &str = concat!(
    "SELECT ",
    object_columns!(),
    " FROM tier_object WHERE tenant_id = $1 AND share_id = $2 AND path_key = $3"
);

const SELECT_OBJECT_FOR_UPDATE: &str = concat!(
    "SELECT ",
    object_columns!(),
    " FROM tier_object WHERE tenant_id = $1 AND share_id = $2 AND path_key = $3 FOR UPDATE"
);

pub(crate) async fn tier_object(
    store: &PgStore,
    tenant: TenantId,
    share: &str,
    path_key: &str,
) -> Result<TierObject> {
    let mut tx = store.begin(tenant).await?;
    let not_found = || {
        Error::not_found(format!(
            "{path_key:?} in share {share:?} has no tier object"
        ))
    };
    let sid = share_id(&mut tx, tenant, share)
        .await
        .map_err(|_| not_found())?;
    let obj = fetch(&mut tx, tenant, sid, share, path_key).await?;
    tx.commit().await.map_err(db_err)?;
    obj.ok_or_else(not_found)
}

async fn fetch(
    conn: &mut PgConnection,
    tenant: TenantId,
    share_id: i64,
    share: &str,
    path_key: &str,
) -> Result<Option<TierObject>> {
    let row = sqlx::query(SELECT_OBJECT)
        .bind(tenant.0)
        .bind(share_id)
        .bind(path_key)
        .fetch_optional(conn)
        .await
        .map_err(db_err)?;
    row.map(|r| object(&r, share)).transpose()
}

async fn fetch_locked(
    conn: &mut PgConnection,
    tenant: TenantId,
    share_id: i64,
    share: &str,
    path_key: &str,
) -> Result<Option<TierObject>> {
    let row = sqlx::query(SELECT_OBJECT_FOR_UPDATE)
        .bind(tenant.0)
        .bind(share_id)
        .bind(path_key)
        .fetch_optional(conn)
        .await
        .map_err(db_err)?;
    row.map(|r| object(&r, share)).transpose()
}

/// A tier object from a row of `OBJECT_COLUMNS`.
pub(crate) fn object(row: &PgRow, share: &str) -> Result<TierObject> {
    let state: String = row.try_get("state").map_err(db_err)?;
    let planned: PgTime = row.try_get("planned_utc").map_err(db_err)?;
    Ok(TierObject {
        id: row.try_get("tier_id").map_err(db_err)?,
        share: share.to_owned(),
        path_key: row.try_get("path_key").map_err(db_err)?,
        path: row.try_get("full_path").map_err(db_err)?,
        state: state.parse()?,
        version: row.try_get("version").map_err(db_err)?,
        incarnation: row.try_get("incarnation").map_err(db_err)?,
        target_uri: row.try_get("target_uri").map_err(db_err)?,
        planned_by: row.try_get("planned_by").map_err(db_err)?,
        planned_at: planned.0,
        acted_at: micros(row.try_get("acted_utc").map_err(db_err)?),
        last_accessed: micros(row.try_get("last_accessed_utc").map_err(db_err)?),
        access_count: row.try_get("access_count").map_err(db_err)?,
        stored: stored_from(row)?,
        lost: lost_from(row)?,
    })
}

/// The LOST flag of a row of `OBJECT_COLUMNS`.
pub(crate) fn lost_from(row: &PgRow) -> Result<Option<Lost>> {
    let at: Option<PgTime> = row.try_get("lost_utc").map_err(db_err)?;
    let why: Option<String> = row.try_get("lost_reason").map_err(db_err)?;
    match (at, why) {
        (Some(at), Some(why)) => Ok(Some(Lost {
            at: at.0,
            reason: LostReason::parse(&why).ok_or_else(|| {
                Error::new(
                    ErrorKind::Backend,
                    format!("unexpected lost reason {why:?} of a tier object"),
                )
            })?,
        })),
        _ => Ok(None),
    }
}

/// The stored object of a row of `OBJECT_COLUMNS`: `None` when its key is NULL (nothing
/// recorded).
fn stored_from(row: &PgRow) -> Result<Option<StoredObject>> {
    let key: Option<String> = row.try_get("object_key").map_err(db_err)?;
    let Some(key) = key else {
        return Ok(None);
    };
    let bad = |what: &str, v: i64| {
        Error::new(
            ErrorKind::Backend,
            format!("unexpected {what} {v} of the stored object {key:?}"),
        )
    };
    let size: i64 = row.try_get("object_size").map_err(db_err)?;
    let u32_of = |col: &str, what: &str| -> Result<u32> {
        let v: i64 = row.try_get(col).map_err(db_err)?;
        u32::try_from(v).map_err(|_| bad(what, v))
    };
    let modified: PgTime = row.try_get("original_mtime_utc").map_err(db_err)?;
    Ok(Some(StoredObject {
        size: u64::try_from(size).map_err(|_| bad("size", size))?,
        sha256: row.try_get("object_sha256").map_err(db_err)?,
        etag: row.try_get("object_etag").map_err(db_err)?,
        uid: u32_of("owner_uid", "owner")?,
        gid: u32_of("owner_gid", "group")?,
        mode: u32_of("file_mode", "mode")?,
        modified: modified.0,
        key,
    }))
}

/// A stored object's size and original mtime as PostgreSQL holds them: `InvalidInput` for a size
/// beyond `i64::MAX` or a time outside `timestamptz`'s range (never wrapped or clamped).
fn stored_values(s: &StoredObject) -> Result<(i64, PgTime)> {
    let size = i64::try_from(s.size).map_err(|_| {
        Error::invalid_input(format!(
            "stored object {:?}: size {} is larger than the store can record",
            s.key, s.size
        ))
    })?;
    if to_pg(s.modified).is_none() {
        return Err(Error::invalid_input(format!(
            "stored object {:?}: modification time {} is outside PostgreSQL's range",
            s.key, s.modified
        )));
    }
    Ok((size, PgTime(s.modified)))
}

fn describe(s: Option<(TierState, i64)>) -> String {
    match s {
        Some((st, v)) => format!("{st} v{v}"),
        None => "no tier object".into(),
    }
}

pub(crate) async fn transition(
    store: &PgStore,
    tenant: TenantId,
    req: &TransitionRequest,
) -> Result<Option<TierObject>> {
    let mut tx = store.begin(tenant).await?;
    let next = transition_in(&mut tx, tenant, req).await?;
    tx.commit().await.map_err(db_err)?;
    Ok(next)
}

/// [`transition`] in the caller's transaction (scoped to `tenant`).
pub(crate) async fn transition_in(
    conn: &mut PgConnection,
    tenant: TenantId,
    req: &TransitionRequest,
) -> Result<Option<TierObject>> {
    transition_under(conn, tenant, req, None).await
}

/// [`transition_in`] with its audit event under `parent` (a job's event).
pub(crate) async fn transition_under(
    conn: &mut PgConnection,
    tenant: TenantId,
    req: &TransitionRequest,
    parent: Option<i64>,
) -> Result<Option<TierObject>> {
    let file_missing = || {
        Error::not_found(format!(
            "file {:?} in share {:?} does not exist",
            req.path_key, req.share
        ))
    };
    let sid = share_id(&mut *conn, tenant, &req.share)
        .await
        .map_err(|_| file_missing())?;
    // Lock the file: transitions of one file take turns.
    let path: Option<String> = sqlx::query_scalar(
        "SELECT full_path FROM file_current \
         WHERE tenant_id = $1 AND share_id = $2 AND path_key = $3 FOR NO KEY UPDATE",
    )
    .bind(tenant.0)
    .bind(sid)
    .bind(&req.path_key)
    .fetch_optional(&mut *conn)
    .await
    .map_err(db_err)?;
    let path = path.ok_or_else(file_missing)?;
    // And the object: writers that change objects without the file's lock (a feed batch, a
    // committed plan) take turns with this one too.
    let current = fetch_locked(&mut *conn, tenant, sid, &req.share, &req.path_key).await?;
    let seen = current.as_ref().map(|o| (o.state, o.version));
    if seen != req.expected {
        return Err(Error::conflict(format!(
            "{:?} changed: expected {}, found {}",
            req.path_key,
            describe(req.expected),
            describe(seen)
        )));
    }
    let outcome = table(current.as_ref().map(|o| o.state), req.action)?;
    let plan = || {
        req.plan
            .as_ref()
            .ok_or_else(|| Error::invalid_input("planning needs the rule and the target"))
    };
    let at = PgTime(req.at);
    let key = (tenant.0, sid, req.path_key.as_str());
    let next = match (outcome.state, &current) {
        (None, _) => {
            sqlx::query(
                "DELETE FROM tier_object WHERE tenant_id = $1 AND share_id = $2 AND path_key = $3",
            )
            .bind(key.0)
            .bind(key.1)
            .bind(key.2)
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
            None
        }
        (Some(state), Some(_)) if req.action == Action::Plan => {
            let plan = plan()?;
            // A new incarnation: nothing of it is stored yet.
            let row = sqlx::query(concat!(
                "UPDATE tier_object SET state = $4, version = version + 1, \
                     incarnation = incarnation + $5, planned_by = $6, target_uri = $7, \
                     planned_utc = $8, acted_utc = NULL, last_accessed_utc = NULL, \
                     access_count = 0, ",
                clear_stored!(),
                " WHERE tenant_id = $1 AND share_id = $2 AND path_key = $3 \
                 RETURNING ",
                object_columns!()
            ))
            .bind(key.0)
            .bind(key.1)
            .bind(key.2)
            .bind(state.as_str())
            .bind(i32::from(outcome.new_incarnation))
            .bind(&plan.rule)
            .bind(&plan.target_uri)
            .bind(at)
            .fetch_one(&mut *conn)
            .await
            .map_err(db_err)?;
            Some(object(&row, &req.share)?)
        }
        (Some(state), Some(_)) => {
            match req.stored.as_ref().filter(|_| req.action == Action::Stub) {
                // The stub and the record of what it replaced, in one statement.
                Some(st) => {
                    let (size, modified) = stored_values(st)?;
                    let row = sqlx::query(concat!(
                        "UPDATE tier_object SET state = $4, version = version + 1, acted_utc = $5, \
                         object_key = $6, object_size = $7, object_sha256 = $8, \
                         object_etag = $9, owner_uid = $10, owner_gid = $11, file_mode = $12, \
                         original_mtime_utc = $13 \
                     WHERE tenant_id = $1 AND share_id = $2 AND path_key = $3 \
                     RETURNING ",
                        object_columns!()
                    ))
                    .bind(key.0)
                    .bind(key.1)
                    .bind(key.2)
                    .bind(state.as_str())
                    .bind(at)
                    .bind(&st.key)
                    .bind(size)
                    .bind(&st.sha256)
                    .bind(st.etag.as_deref())
                    .bind(i64::from(st.uid))
                    .bind(i64::from(st.gid))
                    .bind(i64::from(st.mode))
                    .bind(modified)
                    .fetch_one(&mut *conn)
                    .await
                    .map_err(db_err)?;
                    Some(object(&row, &req.share)?)
                }
                // Other actions (and a stub without a record) keep what is stored.
                None => {
                    let row = sqlx::query(concat!(
                        "UPDATE tier_object SET state = $4, version = version + 1, acted_utc = $5 \
                     WHERE tenant_id = $1 AND share_id = $2 AND path_key = $3 \
                     RETURNING ",
                        object_columns!()
                    ))
                    .bind(key.0)
                    .bind(key.1)
                    .bind(key.2)
                    .bind(state.as_str())
                    .bind(at)
                    .fetch_one(&mut *conn)
                    .await
                    .map_err(db_err)?;
                    Some(object(&row, &req.share)?)
                }
            }
        }
        (Some(state), None) => {
            let plan = plan()?;
            let row = sqlx::query(concat!(
                "INSERT INTO tier_object (tenant_id, share_id, path_key, full_path, state, \
                     version, incarnation, target_uri, planned_by, planned_utc) \
                 VALUES ($1, $2, $3, $4, $5, 1, 1, $6, $7, $8) \
                 RETURNING ",
                object_columns!()
            ))
            .bind(key.0)
            .bind(key.1)
            .bind(key.2)
            .bind(&path)
            .bind(state.as_str())
            .bind(&plan.target_uri)
            .bind(&plan.rule)
            .bind(at)
            .fetch_one(&mut *conn)
            .await
            .map_err(db_err)?;
            Some(object(&row, &req.share)?)
        }
    };
    let event = NewAuditEvent {
        kind: format!("tier.{}", req.action),
        subject: req.path_key.clone(),
        detail: serde_json::json!({
            "share": req.share,
            "from": seen.map(|s| s.0.as_str()),
            "to": next.as_ref().map(|o| o.state.as_str()),
        }),
        parent,
    };
    audit::insert(&mut *conn, tenant, &event, Some(req.at)).await?;
    Ok(next)
}

fn cursor(share: &str, key: &str) -> String {
    format!("{share}\u{0}{key}")
}

/// [`Store::tier_objects`](alto_core::Store::tier_objects): shares in name order, each one's
/// objects in key order through the `(tenant_id, share_id, path_key)` key.
pub(crate) async fn tier_objects(
    store: &PgStore,
    tenant: TenantId,
    query: &TierObjectQuery,
) -> Result<Page<TierObject>> {
    let limit = if query.limit == 0 { 1000 } else { query.limit };
    let (after_share, after_key) = match query.after.as_deref() {
        Some(c) => match c.split_once('\0') {
            Some((s, k)) => (Some(s), Some(k)),
            None => return Err(Error::invalid_input(format!("bad cursor {c:?}"))),
        },
        None => (None, None),
    };
    let state = query.state.map(TierState::as_str);
    let mut tx = store.begin(tenant).await?;
    let shares: Vec<(i64, String)> = sqlx::query_as(
        "SELECT share_id, name FROM share \
         WHERE tenant_id = $1 AND ($2::text IS NULL OR name = $2::text) \
           AND ($3::text IS NULL OR name >= $3::text COLLATE \"C\") \
         ORDER BY name COLLATE \"C\"",
    )
    .bind(tenant.0)
    .bind(query.share.as_deref())
    .bind(after_share)
    .fetch_all(&mut *tx)
    .await
    .map_err(db_err)?;
    let want = limit + 1;
    let mut items: Vec<TierObject> = Vec::new();
    for (share_id, name) in shares {
        let after = match (after_share, after_key) {
            (Some(s), Some(k)) if s == name => Some(k),
            _ => None,
        };
        let rows = sqlx::query(concat!(
            "SELECT ",
            object_columns!(),
            " FROM tier_object WHERE tenant_id = $1 AND share_id = $2 \
               AND ($3::text IS NULL OR path_key > $3::text) \
               AND ($4::text IS NULL OR state = $4::text) \
             ORDER BY path_key LIMIT $5"
        ))
        .bind(tenant.0)
        .bind(share_id)
        .bind(after)
        .bind(state)
        .bind((want - items.len()) as i64)
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?;
        for r in &rows {
            items.push(object(r, &name)?);
        }
        if items.len() == want {
            break;
        }
    }
    tx.commit().await.map_err(db_err)?;
    let next = if items.len() > limit {
        items.truncate(limit);
        items.last().map(|o| cursor(&o.share, &o.path_key))
    } else {
        None
    };
    Ok(Page { items, next })
}

/// [`Store::mark_lost`](alto_core::Store::mark_lost): the flag and its event in one transaction.
pub(crate) async fn mark_lost(
    store: &PgStore,
    tenant: TenantId,
    req: &LostRequest,
) -> Result<TierObject> {
    let mut tx = store.begin(tenant).await?;
    let not_found = || {
        Error::not_found(format!(
            "{:?} in share {:?} has no tier object",
            req.path_key, req.share
        ))
    };
    let sid = share_id(&mut tx, tenant, &req.share)
        .await
        .map_err(|_| not_found())?;
    let o = fetch_locked(&mut tx, tenant, sid, &req.share, &req.path_key)
        .await?
        .ok_or_else(not_found)?;
    if (o.state, o.version) != req.expected {
        return Err(Error::conflict(format!(
            "{:?} changed: expected {}, found {}",
            req.path_key,
            describe(Some(req.expected)),
            describe(Some((o.state, o.version)))
        )));
    }
    alto_core::lifecycle::check_lost_flag(o.state)?;
    let row = sqlx::query(concat!(
        "UPDATE tier_object SET lost_utc = $4, lost_reason = $5 \
         WHERE tenant_id = $1 AND share_id = $2 AND path_key = $3 RETURNING ",
        object_columns!()
    ))
    .bind(tenant.0)
    .bind(sid)
    .bind(&req.path_key)
    .bind(req.lost.map(|l| PgTime(l.at)))
    .bind(req.lost.map(|l| l.reason.as_str()))
    .fetch_one(&mut *tx)
    .await
    .map_err(db_err)?;
    let next = object(&row, &req.share)?;
    audit::insert(&mut tx, tenant, &req.event, None).await?;
    tx.commit().await.map_err(db_err)?;
    Ok(next)
}

/// [`Store::owned_tier_ids`](alto_core::Store::owned_tier_ids): the ledger of version 12.
pub(crate) async fn owned_tier_ids(
    store: &PgStore,
    tenant: TenantId,
    ids: &[i64],
) -> Result<Vec<i64>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut tx = store.begin(tenant).await?;
    let out: Vec<i64> = sqlx::query_scalar(
        "SELECT tier_id FROM tier_id_ledger \
         WHERE tenant_id = $1 AND tier_id = ANY($2) ORDER BY tier_id",
    )
    .bind(tenant.0)
    .bind(ids)
    .fetch_all(&mut *tx)
    .await
    .map_err(db_err)?;
    tx.commit().await.map_err(db_err)?;
    Ok(out)
}
