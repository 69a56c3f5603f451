//! The audit trail: append-only events, read by cursor.
//!
//! `audit_event` is partitioned by the month of the day an event was recorded, and a child names
//! its parent by (event id, event date), which a foreign key enforces across partitions (seed
//! 003). Appending looks the parent up first, within the tenant, to learn its date; a parent of
//! another tenant is invisible and so `NotFound`.
//!
//! Reading is in commit order (schema version 11): each event carries its writing transaction's
//! id (`writer_xid`), pages are ordered by (writer_xid, event_id) and read only events of
//! transactions below the oldest one of the database still running, so an event that commits late is never
//! behind a reader's position. A trigger stamps writer_xid and the actor on every insert.

use crate::PgStore;
use crate::error::db_err;
use crate::time::PgTime;
use alto_core::store::Page;
use alto_core::types::{Actor, AuditEvent, AuditPosition, AuditQuery, NewAuditEvent, TenantId};
use alto_core::{Error, Result};
use sqlx::types::Json;
use sqlx::{PgConnection, Row};

pub(crate) async fn append_audit(
    store: &PgStore,
    tenant: TenantId,
    event: &NewAuditEvent,
) -> Result<AuditEvent> {
    let mut tx = store.begin(tenant).await?;
    crate::tenant::settings(&mut tx, tenant).await?;
    let ev = insert(&mut tx, tenant, event, None).await?;
    tx.commit().await.map_err(db_err)?;
    Ok(ev)
}

/// Append `event` in the caller's transaction; `at` defaults to the transaction's time.
pub(crate) async fn insert(
    conn: &mut PgConnection,
    tenant: TenantId,
    event: &NewAuditEvent,
    at: Option<i64>,
) -> Result<AuditEvent> {
    // The parent, if any, is looked up in the same statement: no row comes back when the tenant
    // has no such event.
    let row = sqlx::query(
        "WITH parent AS ( \
             SELECT event_id, event_date FROM audit_event \
             WHERE tenant_id = $1 AND event_id = $6) \
         INSERT INTO audit_event (tenant_id, event_utc, kind, subject, detail, \
             parent_event_id, parent_event_date) \
         SELECT $1, coalesce($2, now()), $3, $4, $5, parent.event_id, parent.event_date \
         FROM (SELECT 1) AS one LEFT JOIN parent ON true \
         WHERE $6::bigint IS NULL OR parent.event_id IS NOT NULL \
         RETURNING event_id, event_utc, writer_xid, actor",
    )
    .bind(tenant.0)
    .bind(at.map(PgTime))
    .bind(&event.kind)
    .bind(&event.subject)
    .bind(Json(&event.detail))
    .bind(event.parent)
    .fetch_optional(&mut *conn)
    .await
    .map_err(db_err)?;
    let Some(row) = row else {
        let p = event.parent.unwrap_or_default();
        return Err(Error::not_found(format!(
            "parent audit event {p} does not exist"
        )));
    };
    let at: PgTime = row.try_get(1).map_err(db_err)?;
    let Json(actor): Json<Actor> = row.try_get(3).map_err(db_err)?;
    let mut stored = AuditEvent::default();
    stored.id = row.try_get(0).map_err(db_err)?;
    stored.position = AuditPosition {
        commit: row.try_get(2).map_err(db_err)?,
        id: stored.id,
    };
    stored.actor = actor;
    stored.at = at.0;
    stored.kind = event.kind.clone();
    stored.subject = event.subject.clone();
    stored.detail = event.detail.clone();
    stored.parent = event.parent;
    Ok(stored)
}

pub(crate) async fn audit(
    store: &PgStore,
    tenant: TenantId,
    query: &AuditQuery,
) -> Result<Page<AuditEvent>> {
    let limit = if query.limit == 0 { 1000 } else { query.limit };
    let after = query.after.unwrap_or(AuditPosition {
        commit: i64::MIN,
        id: i64::MIN,
    });
    let take = i64::try_from(limit).unwrap_or(i64::MAX).saturating_add(1);
    let (page, page_binds) = page_sql(query, Horizon::Below);
    let (beyond, beyond_binds) = page_sql(query, Horizon::Any);
    let mut waited = std::time::Duration::ZERO;
    let rows = loop {
        let mut tx = store.begin(tenant).await?;
        // A time window starts at the first zone of the trail that may hold a match
        // (migration 0013): the events before it are not read one by one.
        let from = if query.since.is_some() || query.until.is_some() {
            let (commit, id): (i64, i64) =
                sqlx::query_as("SELECT skip_xid, skip_id FROM alto_audit_skip($1, $2, $3, $4)")
                    .bind(query.since.map(PgTime))
                    .bind(query.until.map(PgTime))
                    .bind(after.commit)
                    .bind(after.id)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(db_err)?;
            AuditPosition { commit, id }
        } else {
            after
        };
        let rows = bind(sqlx::query(sqlx::AssertSqlSafe(page.clone())), &page_binds)
            .bind(tenant.0)
            .bind(from.commit)
            .bind(from.id)
            .bind(take)
            .fetch_all(&mut *tx)
            .await
            .map_err(db_err)?;
        // A short page may stop below a transaction still running while matching events of
        // later ones are already committed: wait for it a little, so that a reader sees what
        // was written before it asked (a tail reader would get them on its next read anyway).
        let pending = if rows.len() as i64 >= take || waited >= SETTLE_MAX {
            false
        } else {
            let last = rows.last().map(|r| -> Result<(i64, i64)> {
                Ok((r.try_get(6).map_err(db_err)?, r.try_get(0).map_err(db_err)?))
            });
            let (c, i) = last.transpose()?.unwrap_or((from.commit, from.id));
            bind(
                sqlx::query(sqlx::AssertSqlSafe(beyond.clone())),
                &beyond_binds,
            )
            .bind(tenant.0)
            .bind(c)
            .bind(i)
            .bind(1i64)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?
            .is_some()
        };
        tx.commit().await.map_err(db_err)?;
        if !pending {
            break rows;
        }
        tokio::time::sleep(SETTLE_STEP).await;
        waited += SETTLE_STEP;
    };
    let mut items = Vec::with_capacity(rows.len());
    for r in rows {
        let at: PgTime = r.try_get(1).map_err(db_err)?;
        let Json(detail): Json<serde_json::Value> = r.try_get(4).map_err(db_err)?;
        let Json(actor): Json<Actor> = r.try_get(7).map_err(db_err)?;
        let mut event = AuditEvent::default();
        event.id = r.try_get(0).map_err(db_err)?;
        event.position = AuditPosition {
            commit: r.try_get(6).map_err(db_err)?,
            id: event.id,
        };
        event.at = at.0;
        event.kind = r.try_get(2).map_err(db_err)?;
        event.subject = r.try_get(3).map_err(db_err)?;
        event.detail = detail;
        event.parent = r.try_get(5).map_err(db_err)?;
        event.actor = actor;
        items.push(event);
    }
    let next = if items.len() > limit {
        items.truncate(limit);
        items.last().map(|e| e.position.to_string())
    } else {
        None
    };
    Ok(Page { items, next })
}

/// How long a short page waits, at most, for running transactions below committed events.
const SETTLE_MAX: std::time::Duration = std::time::Duration::from_secs(5);
const SETTLE_STEP: std::time::Duration = std::time::Duration::from_millis(10);

/// Bind the filters' values (`$1`–`$4` are bound after, by name order in the statement).
fn bind<'q>(
    mut q: sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>,
    binds: &'q [Bind],
) -> sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments> {
    for b in binds {
        q = match b {
            Bind::Int(i) => q.bind(*i),
            Bind::Time(t) => q.bind(PgTime(*t)),
            Bind::Text(t) => q.bind(t.as_str()),
            Bind::Texts(t) => q.bind(t.as_slice()),
        };
    }
    q
}

/// Which side of the commit-order horizon a statement reads.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Horizon {
    /// Events every reader may pass: their transactions and all before them have ended.
    Below,
    /// Any committed event, whichever side (one is enough: is anything waiting?). Not "at or
    /// above the horizon": the horizon is read again by each statement, and one that rose
    /// between the page and this question (a transaction of another database that ended in
    /// between, counted by the page and not by this) would hide an event from both.
    Any,
}

/// A value bound to a filter's placeholder.
enum Bind {
    Int(i64),
    Time(i64),
    Text(String),
    Texts(Vec<String>),
}

/// The page statement for `query`: read order, the commit-order horizon, and one clause per
/// filter given, each value a placeholder (`$1`, `$2`, … in order; the last four are the tenant,
/// the position and the limit).
fn page_sql(query: &AuditQuery, horizon: Horizon) -> (String, Vec<Bind>) {
    // The filters' values come first ($1…), then the tenant, the position and the limit.
    let mut binds = Vec::new();
    let next = |b: Bind, binds: &mut Vec<Bind>| {
        binds.push(b);
        format!("${}", binds.len())
    };
    let mut sql = String::from(
        "SELECT event_id, event_utc, kind, subject, detail, parent_event_id, writer_xid, actor \
         FROM audit_event WHERE tenant_id = $T AND (writer_xid, event_id) > ($C, $I)",
    );
    if horizon == Horizon::Below {
        sql.push_str(" AND writer_xid < (SELECT alto_audit_horizon())");
    }
    if !query.kinds.is_empty() {
        // Exact kinds are one `= ANY`, which the kind index serves in read order when there
        // is one; each family `f.*` is a `starts_with`.
        let (families, exact): (Vec<&String>, Vec<&String>) = query
            .kinds
            .iter()
            .partition(|k| k.len() > 1 && k.ends_with(".*"));
        let mut any = Vec::new();
        match exact.as_slice() {
            [] => {}
            [one] => {
                let p = next(Bind::Text((*one).clone()), &mut binds);
                any.push(format!("kind = {p}"));
            }
            many => {
                let p = next(
                    Bind::Texts(many.iter().map(|k| (*k).clone()).collect()),
                    &mut binds,
                );
                any.push(format!("kind = ANY({p}::text[])"));
            }
        }
        for f in families {
            let p = next(Bind::Text(f[..f.len() - 1].to_owned()), &mut binds);
            any.push(format!("starts_with(kind, {p})"));
        }
        sql.push_str(&format!(" AND ({})", any.join(" OR ")));
    }
    if let Some(s) = &query.subject {
        let p = next(Bind::Text(s.clone()), &mut binds);
        sql.push_str(&format!(" AND subject = {p}"));
    }
    if let Some(t) = query.since {
        let p = next(Bind::Time(t), &mut binds);
        sql.push_str(&format!(" AND event_utc >= {p}"));
    }
    if let Some(t) = query.until {
        let p = next(Bind::Time(t), &mut binds);
        sql.push_str(&format!(" AND event_utc < {p}"));
    }
    if let Some(parent) = query.parent {
        let p = next(Bind::Int(parent), &mut binds);
        sql.push_str(&format!(" AND parent_event_id = {p}"));
    }
    sql.push_str(" ORDER BY writer_xid, event_id LIMIT $L");
    let n = binds.len();
    let sql = sql
        .replace("$T", &format!("${}", n + 1))
        .replace("$C", &format!("${}", n + 2))
        .replace("$I", &format!("${}", n + 3))
        .replace("$L", &format!("${}", n + 4));
    (sql, binds)
}
