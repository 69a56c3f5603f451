//! The audit trail: append-only events with an optional parent, read by cursor.
//!
//! Ids come from an `AUTOINCREMENT` key, so they increase in append order and are never reused.
//! A parent must be an event of the same tenant: checked first for a clear `NotFound`, and held by
//! the composite foreign key `(tenant_id, parent_id)` as well.

use crate::error::{corrupt, db, db_in};
use crate::{SqliteStore, sql};
use alto_core::store::Page;
use alto_core::time::now_micros;
use alto_core::{AuditEvent, AuditPosition, AuditQuery, Error, NewAuditEvent, Result, TenantId};
use sqlx::{Row, SqliteConnection};

/// Page size when the caller asks for 0.
const DEFAULT_LIMIT: usize = 1000;

/// Insert one event (inside the caller's transaction).
pub(crate) async fn insert(
    conn: &mut SqliteConnection,
    tenant: TenantId,
    at: i64,
    kind: &str,
    subject: &str,
    detail: &serde_json::Value,
    parent: Option<i64>,
) -> Result<AuditEvent> {
    let (id, actor): (i64, String) = sqlx::query_as(sql::AUDIT_INSERT)
        .bind(tenant.0)
        .bind(at)
        .bind(kind)
        .bind(subject)
        .bind(detail.to_string())
        .bind(parent)
        .fetch_one(&mut *conn)
        .await
        .map_err(db_in("cannot append an audit event"))?;
    let mut event = AuditEvent::default();
    event.id = id;
    event.position = AuditPosition { commit: 0, id };
    event.at = at;
    event.kind = kind.to_owned();
    event.subject = subject.to_owned();
    event.detail = detail.clone();
    event.parent = parent;
    event.actor = serde_json::from_str(&actor).map_err(|e| corrupt(format!("audit actor: {e}")))?;
    Ok(event)
}

impl SqliteStore {
    pub(crate) async fn append_audit_impl(
        &self,
        tenant: TenantId,
        event: &NewAuditEvent,
    ) -> Result<AuditEvent> {
        let mut tx = self.write().await?;
        crate::tenants::settings(&mut tx, tenant).await?;
        if let Some(p) = event.parent {
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
        let e = insert(
            &mut tx,
            tenant,
            now_micros(),
            &event.kind,
            &event.subject,
            &event.detail,
            event.parent,
        )
        .await?;
        tx.commit().await.map_err(db)?;
        Ok(e)
    }

    pub(crate) async fn audit_impl(
        &self,
        tenant: TenantId,
        query: &AuditQuery,
    ) -> Result<Page<AuditEvent>> {
        let limit = if query.limit == 0 {
            DEFAULT_LIMIT
        } else {
            query.limit
        };
        let (text, binds) = page_sql(query);
        let mut q = sqlx::query(sqlx::AssertSqlSafe(text))
            .bind(tenant.0)
            .bind(query.after.map_or(i64::MIN, |p| p.id));
        for b in binds {
            q = match b {
                Bind::Int(i) => q.bind(i),
                Bind::Text(t) => q.bind(t),
            };
        }
        let rows = q
            .bind(i64::try_from(limit).unwrap_or(i64::MAX - 1) + 1)
            .fetch_all(&self.pools.read)
            .await
            .map_err(db)?;
        let mut items = Vec::with_capacity(rows.len());
        for r in &rows {
            let detail: String = r.try_get(4).map_err(db)?;
            let actor: String = r.try_get(6).map_err(db)?;
            let mut event = AuditEvent::default();
            event.id = r.try_get(0).map_err(db)?;
            event.position = AuditPosition {
                commit: 0,
                id: event.id,
            };
            event.at = r.try_get(1).map_err(db)?;
            event.kind = r.try_get(2).map_err(db)?;
            event.subject = r.try_get(3).map_err(db)?;
            event.detail =
                serde_json::from_str(&detail).map_err(|e| corrupt(format!("audit detail: {e}")))?;
            event.parent = r.try_get(5).map_err(db)?;
            event.actor =
                serde_json::from_str(&actor).map_err(|e| corrupt(format!("audit actor: {e}")))?;
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
}

/// A value bound to a filter's placeholder.
enum Bind {
    Int(i64),
    Text(String),
}

/// The page statement for `query`: [`sql::AUDIT_PAGE`] and one clause per filter given, each
/// value a placeholder (`?3`, `?4`, … in order; the limit is the last). A family `f.*` is a
/// prefix test on `f.`.
fn page_sql(query: &AuditQuery) -> (String, Vec<Bind>) {
    let mut sql = String::from(sql::AUDIT_PAGE);
    let mut binds = Vec::new();
    let next = |b: Bind, binds: &mut Vec<Bind>| {
        binds.push(b);
        format!("?{}", binds.len() + 2)
    };
    if query.since.is_some() || query.until.is_some() {
        // Start after the position and at the first zone of 8,192 ids after it whose times meet
        // the window (migration 0009; every event is in its zone's bounds): none means no event
        // matches. One lower bound, so that the index seeks to it.
        let since = next(Bind::Int(query.since.unwrap_or(i64::MIN)), &mut binds);
        let until = next(Bind::Int(query.until.unwrap_or(i64::MAX)), &mut binds);
        sql.push_str(&format!(
            " AND event_id > max(?2, coalesce((SELECT min(bucket) FROM audit_zone \
             WHERE tenant_id = ?1 AND bucket >= ?2 / 8192 AND max_at >= {since} \
             AND min_at < {until}) * 8192 - 1, 9223372036854775807))"
        ));
    } else {
        sql.push_str(" AND event_id > ?2");
    }
    if !query.kinds.is_empty() {
        let mut any = Vec::new();
        for k in &query.kinds {
            match k.strip_suffix('*').filter(|f| f.ends_with('.')) {
                Some(family) => {
                    let p = next(Bind::Text(family.to_owned()), &mut binds);
                    any.push(format!("substr(kind, 1, length({p})) = {p}"));
                }
                None => {
                    let p = next(Bind::Text(k.clone()), &mut binds);
                    any.push(format!("kind = {p}"));
                }
            }
        }
        sql.push_str(&format!(" AND ({})", any.join(" OR ")));
    }
    if let Some(s) = &query.subject {
        let p = next(Bind::Text(s.clone()), &mut binds);
        sql.push_str(&format!(" AND subject = {p}"));
    }
    if let Some(t) = query.since {
        let p = next(Bind::Int(t), &mut binds);
        sql.push_str(&format!(" AND at_utc >= {p}"));
    }
    if let Some(t) = query.until {
        let p = next(Bind::Int(t), &mut binds);
        sql.push_str(&format!(" AND at_utc < {p}"));
    }
    if let Some(parent) = query.parent {
        let p = next(Bind::Int(parent), &mut binds);
        sql.push_str(&format!(" AND parent_id = {p}"));
    }
    let limit = binds.len() + 3;
    sql.push_str(&format!(" ORDER BY event_id LIMIT ?{limit}"));
    (sql, binds)
}
