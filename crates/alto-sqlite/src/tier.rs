//! Tier objects and lifecycle transitions.
//!
//! A transition is one write transaction: read the file and its object, compare the caller's
//! expected state and version (`Conflict` when they moved), ask
//! [`alto_core::lifecycle::transition`] (`InvalidTransition` writes nothing), write the object —
//! the `UPDATE`/`DELETE` also carries the version it was computed from — and the `tier.<action>`
//! audit event, then commit. The writer connection and `BEGIN IMMEDIATE` serialise transitions,
//! so the version check cannot race within one database. [`transition_in`] is those steps on a
//! connection whose transaction the caller owns (the job queue and the feeds use it inside
//! theirs); [`Store::transition`](alto_core::Store::transition) wraps it in its own.

use crate::error::{corrupt, db, db_in};
use crate::{SqliteStore, codec, sql};
use alto_core::lifecycle::{Action, transition};
use alto_core::store::{LostRequest, Page, PlanInfo, TierObjectQuery, TransitionRequest};
use alto_core::{Error, Lost, LostReason, Result, StoredObject, TenantId, TierObject, TierState};
use sqlx::Row;
use sqlx::SqliteConnection;
use sqlx::sqlite::SqliteRow;

/// A tier object from the columns of [`sql::object_columns!`] ([`sql::OBJECT_COLUMNS`], the
/// queue's `JOB_OBJECTS`, the feeds' `OBJECTS_BY_KEYS`).
pub(crate) fn decode_object(r: &SqliteRow) -> Result<TierObject> {
    Ok(TierObject {
        id: r.try_get(0).map_err(db)?,
        share: r.try_get(1).map_err(db)?,
        path_key: r.try_get(2).map_err(db)?,
        path: r.try_get(3).map_err(db)?,
        state: codec::tier_state(r.try_get(4).map_err(db)?)?,
        version: r.try_get(5).map_err(db)?,
        incarnation: r.try_get(6).map_err(db)?,
        target_uri: r.try_get(7).map_err(db)?,
        planned_by: r.try_get(8).map_err(db)?,
        planned_at: r.try_get(9).map_err(db)?,
        acted_at: r.try_get(10).map_err(db)?,
        last_accessed: r.try_get(11).map_err(db)?,
        access_count: r.try_get(12).map_err(db)?,
        stored: decode_stored(r, 13)?,
        lost: decode_lost(r, 21)?,
    })
}

/// The LOST flag from the two columns from `at` on (`lost_utc`, `lost_reason`).
pub(crate) fn decode_lost(r: &SqliteRow, at: usize) -> Result<Option<Lost>> {
    let when: Option<i64> = r.try_get(at).map_err(db)?;
    let why: Option<String> = r.try_get(at + 1).map_err(db)?;
    match (when, why) {
        (None, None) => Ok(None),
        (Some(at), Some(why)) => Ok(Some(Lost {
            at,
            reason: LostReason::parse(&why)
                .ok_or_else(|| corrupt(format!("lost reason {why:?} of a tier object")))?,
        })),
        (w, r) => Err(corrupt(format!(
            "a tier object's LOST flag is half set ({w:?}, {r:?})"
        ))),
    }
}

/// The stored object from the eight columns from `at` on (`object_key` first): `None` when the
/// key is NULL (nothing recorded).
fn decode_stored(r: &SqliteRow, at: usize) -> Result<Option<StoredObject>> {
    let key: Option<String> = r.try_get(at).map_err(db)?;
    let Some(key) = key else {
        return Ok(None);
    };
    let size: i64 = r.try_get(at + 1).map_err(db)?;
    let u32_at = |i: usize, what: &str| -> Result<u32> {
        let v: i64 = r.try_get(at + i).map_err(db)?;
        u32::try_from(v).map_err(|_| corrupt(format!("{what} {v} of a stored object")))
    };
    Ok(Some(StoredObject {
        key,
        size: u64::try_from(size)
            .map_err(|_| corrupt(format!("size {size} of a stored object")))?,
        sha256: r.try_get(at + 2).map_err(db)?,
        etag: r.try_get(at + 3).map_err(db)?,
        uid: u32_at(4, "owner")?,
        gid: u32_at(5, "group")?,
        mode: u32_at(6, "mode")?,
        modified: r.try_get(at + 7).map_err(db)?,
    }))
}

/// A stored object's size as SQLite's INTEGER: `InvalidInput` beyond `i64::MAX` (never wrapped).
fn stored_size(s: &StoredObject) -> Result<i64> {
    i64::try_from(s.size).map_err(|_| {
        Error::invalid_input(format!(
            "stored object {:?}: size {} is larger than the store can record",
            s.key, s.size
        ))
    })
}

/// The tier object of a file, if any.
pub(crate) async fn object_in(
    conn: &mut SqliteConnection,
    tenant: TenantId,
    share: &str,
    path_key: &str,
) -> Result<Option<TierObject>> {
    sqlx::query(sql::OBJECT_COLUMNS)
        .bind(tenant.0)
        .bind(share)
        .bind(path_key)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db)?
        .as_ref()
        .map(decode_object)
        .transpose()
}

fn describe(s: Option<(TierState, i64)>) -> String {
    match s {
        Some((st, v)) => format!("{st} v{v}"),
        None => "no tier object".into(),
    }
}

/// [`Store::transition`](alto_core::Store::transition) on the caller's connection, inside the
/// caller's transaction, for a tenant the caller has checked: the store method, the job queue's
/// fenced transitions and plan commits, and the feeds all go through here. A deleted object takes
/// its job link with it.
pub(crate) async fn transition_in(
    conn: &mut SqliteConnection,
    tenant: TenantId,
    req: &TransitionRequest,
) -> Result<Option<TierObject>> {
    transition_under(conn, tenant, req, None).await
}

/// [`transition_in`] with its audit event under `parent` (a job's event).
pub(crate) async fn transition_under(
    conn: &mut SqliteConnection,
    tenant: TenantId,
    req: &TransitionRequest,
    parent: Option<i64>,
) -> Result<Option<TierObject>> {
    let file = sqlx::query(sql::FILE_FOR_OBJECT)
        .bind(tenant.0)
        .bind(&req.share)
        .bind(&req.path_key)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db)?
        .ok_or_else(|| {
            Error::not_found(format!(
                "file {:?} in share {:?} does not exist",
                req.path_key, req.share
            ))
        })?;
    let file_id: i64 = file.try_get(0).map_err(db)?;
    let share_id: i64 = file.try_get(1).map_err(db)?;
    let full_path: String = file.try_get(2).map_err(db)?;
    let current = object_in(conn, tenant, &req.share, &req.path_key).await?;
    let seen = current.as_ref().map(|o| (o.state, o.version));
    if seen != req.expected {
        return Err(Error::conflict(format!(
            "{:?} changed: expected {}, found {}",
            req.path_key,
            describe(req.expected),
            describe(seen)
        )));
    }
    let outcome = transition(current.as_ref().map(|o| o.state), req.action)?;
    let plan = || {
        req.plan
            .as_ref()
            .ok_or_else(|| Error::invalid_input("planning needs the rule and the target"))
    };
    let moved = || Error::conflict("the tier object changed during the transition");
    let next = match (outcome.state, current.clone()) {
        (None, None) => None,
        (None, Some(c)) => {
            let n = sqlx::query(sql::OBJECT_DELETE)
                .bind(tenant.0)
                .bind(c.id)
                .bind(c.version)
                .execute(&mut *conn)
                .await
                .map_err(db)?
                .rows_affected();
            if n != 1 {
                return Err(moved());
            }
            None
        }
        (Some(state), Some(c)) => {
            let mut o = c.clone();
            o.state = state;
            o.version += 1;
            if req.action == Action::Plan {
                let p: &PlanInfo = plan()?;
                o.incarnation += i32::from(outcome.new_incarnation);
                o.planned_by = p.rule.clone();
                o.target_uri = p.target_uri.clone();
                o.planned_at = req.at;
                o.acted_at = None;
                o.last_accessed = None;
                o.access_count = 0;
                // A new incarnation has stored nothing yet (and lost nothing).
                o.stored = None;
                o.lost = None;
            } else {
                o.acted_at = Some(req.at);
                if let Some(st) = req.stored.as_ref().filter(|_| req.action == Action::Stub) {
                    let name: String =
                        sqlx::query_scalar("SELECT name FROM tenant WHERE tenant_id = ?1")
                            .bind(tenant.0)
                            .fetch_one(&mut *conn)
                            .await
                            .map_err(db)?;
                    alto_core::worker::check_stored_key(&name, &o, &st.key)?;
                    o.stored = Some(st.clone());
                }
            }
            let st = o.stored.as_ref();
            let size = st.map(stored_size).transpose()?;
            let n = sqlx::query(sql::OBJECT_UPDATE)
                .bind(tenant.0)
                .bind(c.id)
                .bind(c.version)
                .bind(o.state.as_str())
                .bind(o.version)
                .bind(o.incarnation)
                .bind(&o.target_uri)
                .bind(&o.planned_by)
                .bind(o.planned_at)
                .bind(o.acted_at)
                .bind(o.last_accessed)
                .bind(o.access_count)
                .bind(st.map(|s| s.key.as_str()))
                .bind(size)
                .bind(st.map(|s| s.sha256.as_str()))
                .bind(st.and_then(|s| s.etag.as_deref()))
                .bind(st.map(|s| i64::from(s.uid)))
                .bind(st.map(|s| i64::from(s.gid)))
                .bind(st.map(|s| i64::from(s.mode)))
                .bind(st.map(|s| s.modified))
                .bind(o.lost.map(|l| l.at))
                .bind(o.lost.map(|l| l.reason.as_str()))
                .execute(&mut *conn)
                .await
                .map_err(db)?
                .rows_affected();
            if n != 1 {
                return Err(moved());
            }
            Some(o)
        }
        (Some(state), None) => {
            let p = plan()?;
            let mut o = TierObject {
                id: 0,
                share: req.share.clone(),
                path_key: req.path_key.clone(),
                path: full_path,
                state,
                version: 1,
                incarnation: 1,
                target_uri: p.target_uri.clone(),
                planned_by: p.rule.clone(),
                planned_at: req.at,
                acted_at: None,
                last_accessed: None,
                access_count: 0,
                stored: None,
                lost: None,
            };
            let id: i64 = sqlx::query_scalar(sql::NEXT_TIER_ID)
                .fetch_one(&mut *conn)
                .await
                .map_err(db)?;
            o.id = sqlx::query_scalar(sql::OBJECT_INSERT)
                .bind(tenant.0)
                .bind(share_id)
                .bind(file_id)
                .bind(&o.path_key)
                .bind(&o.path)
                .bind(o.state.as_str())
                .bind(o.version)
                .bind(o.incarnation)
                .bind(&o.target_uri)
                .bind(&o.planned_by)
                .bind(o.planned_at)
                .bind(o.acted_at)
                .bind(o.last_accessed)
                .bind(o.access_count)
                .bind(id)
                .fetch_one(&mut *conn)
                .await
                .map_err(db_in("cannot create the tier object"))?;
            Some(o)
        }
    };
    let detail = serde_json::json!({
        "share": req.share,
        "from": seen.map(|s| s.0.as_str()),
        "to": next.as_ref().map(|o| o.state.as_str()),
    });
    crate::audit::insert(
        conn,
        tenant,
        req.at,
        &format!("tier.{}", req.action),
        &req.path_key,
        &detail,
        parent,
    )
    .await?;
    Ok(next)
}

impl SqliteStore {
    pub(crate) async fn tier_object_impl(
        &self,
        tenant: TenantId,
        share: &str,
        path_key: &str,
    ) -> Result<TierObject> {
        let mut conn = self.pools.read.acquire().await.map_err(db)?;
        object_in(&mut conn, tenant, share, path_key)
            .await?
            .ok_or_else(|| {
                Error::not_found(format!(
                    "{path_key:?} in share {share:?} has no tier object"
                ))
            })
    }

    pub(crate) async fn tier_objects_impl(
        &self,
        tenant: TenantId,
        query: &TierObjectQuery,
    ) -> Result<Page<TierObject>> {
        let limit = if query.limit == 0 { 1000 } else { query.limit };
        // The files' cursor: `share NUL key`; without NUL, "from this share on".
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
        let mut items: Vec<TierObject> = Vec::new();
        for s in shares {
            let share_id: i64 = s.try_get(0).map_err(db)?;
            let name: String = s.try_get(1).map_err(db)?;
            let from = match after_key {
                Some(k) if name == after_share => k,
                _ => "",
            };
            let rows = sqlx::query(sql::OBJECTS_AFTER)
                .bind(tenant.0)
                .bind(share_id)
                .bind(from)
                .bind(state)
                .bind((limit + 1 - items.len()) as i64)
                .fetch_all(&mut *conn)
                .await
                .map_err(db)?;
            for r in &rows {
                items.push(decode_object(r)?);
            }
            if items.len() > limit {
                break;
            }
        }
        let next = if items.len() > limit {
            items.truncate(limit);
            items
                .last()
                .map(|o| format!("{}\u{0}{}", o.share, o.path_key))
        } else {
            None
        };
        Ok(Page { items, next })
    }

    pub(crate) async fn mark_lost_impl(
        &self,
        tenant: TenantId,
        req: &LostRequest,
    ) -> Result<TierObject> {
        let mut tx = self.write().await?;
        crate::tenants::settings(&mut tx, tenant).await?;
        let o = object_in(&mut tx, tenant, &req.share, &req.path_key)
            .await?
            .ok_or_else(|| {
                Error::not_found(format!(
                    "{:?} in share {:?} has no tier object",
                    req.path_key, req.share
                ))
            })?;
        if (o.state, o.version) != req.expected {
            return Err(Error::conflict(format!(
                "{:?} changed: expected {}, found {}",
                req.path_key,
                describe(Some(req.expected)),
                describe(Some((o.state, o.version)))
            )));
        }
        alto_core::lifecycle::check_lost_flag(o.state)?;
        if let Some(p) = req.event.parent {
            let found = sqlx::query(sql::AUDIT_EXISTS)
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
        let n = sqlx::query(sql::OBJECT_MARK_LOST)
            .bind(tenant.0)
            .bind(o.id)
            .bind(o.version)
            .bind(o.state.as_str())
            .bind(req.lost.map(|l| l.at))
            .bind(req.lost.map(|l| l.reason.as_str()))
            .execute(&mut *tx)
            .await
            .map_err(db)?
            .rows_affected();
        if n != 1 {
            return Err(Error::conflict(
                "the tier object changed while its LOST flag was written",
            ));
        }
        let ev = &req.event;
        crate::audit::insert(
            &mut tx,
            tenant,
            alto_core::time::now_micros(),
            &ev.kind,
            &ev.subject,
            &ev.detail,
            ev.parent,
        )
        .await?;
        tx.commit()
            .await
            .map_err(db_in("cannot commit the LOST flag"))?;
        Ok(TierObject {
            lost: req.lost,
            ..o
        })
    }

    pub(crate) async fn owned_tier_ids_impl(
        &self,
        tenant: TenantId,
        ids: &[i64],
    ) -> Result<Vec<i64>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut conn = self.pools.read.acquire().await.map_err(db)?;
        let json = serde_json::to_string(ids).map_err(|e| corrupt(e.to_string()))?;
        sqlx::query_scalar(sql::OWNED_TIER_IDS)
            .bind(tenant.0)
            .bind(json)
            .fetch_all(&mut *conn)
            .await
            .map_err(db)
    }

    pub(crate) async fn transition_impl(
        &self,
        tenant: TenantId,
        req: &TransitionRequest,
    ) -> Result<Option<TierObject>> {
        let mut tx = self.write().await?;
        crate::tenants::settings(&mut tx, tenant).await?;
        let next = transition_in(&mut tx, tenant, req).await?;
        tx.commit()
            .await
            .map_err(db_in("cannot commit the transition"))?;
        Ok(next)
    }
}
