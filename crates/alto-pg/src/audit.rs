//! The audit trail: append-only events, read by cursor.
//!
//! `audit_event` is partitioned by the month of the day an event was recorded, and a child names
//! its parent by (event id, event date), which a foreign key enforces across partitions (seed
//! 003). Appending looks the parent up first, within the tenant, to learn its date; a parent of
//! another tenant is invisible and so `NotFound`. Ids come from one sequence and increase in
//! append order; pages are read after an id, never by offset.

use crate::PgStore;
use crate::error::db_err;
use crate::time::PgTime;
use alto_core::store::Page;
use alto_core::types::{AuditEvent, NewAuditEvent, TenantId};
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
         RETURNING event_id, event_utc",
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
    let mut stored = AuditEvent::default();
    stored.id = row.try_get(0).map_err(db_err)?;
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
    after: Option<i64>,
    limit: usize,
) -> Result<Page<AuditEvent>> {
    let limit = if limit == 0 { 1000 } else { limit };
    let mut tx = store.begin(tenant).await?;
    let rows = sqlx::query(
        "SELECT event_id, event_utc, kind, subject, detail, parent_event_id FROM audit_event \
         WHERE tenant_id = $1 AND event_id > $2 ORDER BY event_id LIMIT $3",
    )
    .bind(tenant.0)
    .bind(after.unwrap_or(i64::MIN))
    .bind(i64::try_from(limit).unwrap_or(i64::MAX).saturating_add(1))
    .fetch_all(&mut *tx)
    .await
    .map_err(db_err)?;
    tx.commit().await.map_err(db_err)?;
    let mut items = Vec::with_capacity(rows.len());
    for r in rows {
        let at: PgTime = r.try_get(1).map_err(db_err)?;
        let Json(detail): Json<serde_json::Value> = r.try_get(4).map_err(db_err)?;
        let mut event = AuditEvent::default();
        event.id = r.try_get(0).map_err(db_err)?;
        event.at = at.0;
        event.kind = r.try_get(2).map_err(db_err)?;
        event.subject = r.try_get(3).map_err(db_err)?;
        event.detail = detail;
        event.parent = r.try_get(5).map_err(db_err)?;
        items.push(event);
    }
    let next = if items.len() > limit {
        items.truncate(limit);
        items.last().map(|e| e.id.to_string())
    } else {
        None
    };
    Ok(Page { items, next })
}
