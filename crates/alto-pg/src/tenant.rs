//! Tenants, shares and scans: the small tables every other call hangs off.
//!
//! New tenant and share names must pass `alto_core::names::check_name`; names stored before that
//! rule are still found as they are. A share's root (its directory on the workers' hosts) is set
//! by a new share, by `ensure_share` for a share that has none, or by `set_share_root`.
//!
//! Looking a tenant up by name and creating one are the only calls without a tenant id. They run
//! with `app.tenant_name` set instead of `app.tenant_id`: the `tenant` table's policies let a
//! transaction see (or insert) exactly the tenant it named, and nothing else.

use crate::PgStore;
use crate::error::db_err;
use crate::time::PgTime;
use alto_core::store::{Scan, ScanKind, ScanSpec, ShareSpec};
use alto_core::time::now_micros;
use alto_core::types::{Share, ShareKind, Tenant, TenantId, TenantSettings};
use alto_core::{Error, ErrorKind, Result};
use sqlx::postgres::PgRow;
use sqlx::types::Json;
use sqlx::{PgConnection, Row};

pub(crate) async fn create_tenant(
    store: &PgStore,
    name: &str,
    settings: &TenantSettings,
) -> Result<Tenant> {
    alto_core::names::check_name("tenant", name)?;
    if store.bound.is_some() {
        return Err(store.denied("create tenants"));
    }
    let mut tx = store.pool.begin().await.map_err(db_err)?;
    declare_name(&mut tx, name).await?;
    let row = sqlx::query(
        "INSERT INTO tenant (name, settings) VALUES ($1, $2) \
         RETURNING tenant_id, name, settings, created_utc",
    )
    .bind(name)
    .bind(Json(settings))
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| {
        let e = db_err(e);
        if e.kind() == ErrorKind::AlreadyExists {
            Error::new(
                ErrorKind::AlreadyExists,
                format!("tenant {name:?} already exists"),
            )
        } else {
            e
        }
    })?;
    let tenant = tenant_from(&row)?;
    tx.commit().await.map_err(db_err)?;
    Ok(tenant)
}

/// Every tenant, for workers (the application role lists the directory through the owner's
/// `alto_tenants()`; see migration 0004); a tenant-bound login's own tenant alone (0009).
pub(crate) async fn tenants(store: &PgStore) -> Result<Vec<Tenant>> {
    let rows = sqlx::query("SELECT tenant_id, name, settings, created_utc FROM alto_tenants()")
        .fetch_all(&store.pool)
        .await
        .map_err(db_err)?;
    rows.iter().map(tenant_from).collect()
}

pub(crate) async fn set_settings(
    store: &PgStore,
    tenant: TenantId,
    settings: &TenantSettings,
) -> Result<Tenant> {
    let mut tx = store.begin(tenant).await?;
    let row = sqlx::query(
        "UPDATE tenant SET settings = $2 WHERE tenant_id = $1 \
         RETURNING tenant_id, name, settings, created_utc",
    )
    .bind(tenant.0)
    .bind(Json(settings))
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_err)?
    .ok_or_else(|| Error::not_found(format!("tenant {tenant} does not exist")))?;
    tx.commit().await.map_err(db_err)?;
    tenant_from(&row)
}

pub(crate) async fn tenant(store: &PgStore, name: &str) -> Result<Tenant> {
    let mut tx = store.pool.begin().await.map_err(db_err)?;
    declare_name(&mut tx, name).await?;
    let row =
        sqlx::query("SELECT tenant_id, name, settings, created_utc FROM tenant WHERE name = $1")
            .bind(name)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?;
    tx.commit().await.map_err(db_err)?;
    match row {
        Some(row) => tenant_from(&row),
        // A bound login sees its own tenant alone: whether another exists is not its business.
        None if store.bound.is_some() => Err(store.denied(&format!("use the tenant {name:?}"))),
        None => Err(Error::not_found(format!("tenant {name:?} does not exist"))),
    }
}

async fn declare_name(conn: &mut PgConnection, name: &str) -> Result<()> {
    sqlx::query("SELECT set_config('app.tenant_name', $1, true)")
        .bind(name)
        .execute(conn)
        .await
        .map_err(db_err)?;
    Ok(())
}

pub(crate) fn tenant_from(row: &PgRow) -> Result<Tenant> {
    let Json(settings): Json<TenantSettings> = row.try_get("settings").map_err(db_err)?;
    let created: PgTime = row.try_get("created_utc").map_err(db_err)?;
    let mut tenant_rec = Tenant::default();
    tenant_rec.id = TenantId(row.try_get("tenant_id").map_err(db_err)?);
    tenant_rec.name = row.try_get("name").map_err(db_err)?;
    tenant_rec.settings = settings;
    tenant_rec.created = created.0;
    Ok(tenant_rec)
}

/// The tenant's settings, or `NotFound` (inside a transaction scoped to it).
pub(crate) async fn settings(conn: &mut PgConnection, tenant: TenantId) -> Result<TenantSettings> {
    let row: Option<Json<TenantSettings>> =
        sqlx::query_scalar("SELECT settings FROM tenant WHERE tenant_id = $1")
            .bind(tenant.0)
            .fetch_optional(conn)
            .await
            .map_err(db_err)?;
    row.map(|Json(s)| s)
        .ok_or_else(|| Error::not_found(format!("tenant {tenant} does not exist")))
}

/// The columns [`share_from`] reads.
macro_rules! share_columns {
    () => {
        "share_id, name, kind, case_sensitive, mount_root, root"
    };
}

/// A share from a row of `share_columns!`.
fn share_from(row: &PgRow, tenant: TenantId) -> Result<Share> {
    let mut share_rec = Share::default();
    share_rec.id = row.try_get("share_id").map_err(db_err)?;
    share_rec.tenant = tenant;
    share_rec.name = row.try_get("name").map_err(db_err)?;
    share_rec.kind = share_kind(row.try_get("kind").map_err(db_err)?)?;
    share_rec.case_sensitive = row.try_get("case_sensitive").map_err(db_err)?;
    share_rec.mount_root = row.try_get("mount_root").map_err(db_err)?;
    share_rec.root = row.try_get("root").map_err(db_err)?;
    Ok(share_rec)
}

pub(crate) async fn ensure_share(
    store: &PgStore,
    tenant: TenantId,
    spec: &ShareSpec,
) -> Result<Share> {
    if let Some(root) = &spec.root {
        alto_core::path::check_root(root)?;
    }
    let mut tx = store.begin(tenant).await?;
    settings(&mut tx, tenant).await?;
    // Only a new share's name is checked: one stored before the name rule is still found.
    let exists: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM share WHERE tenant_id = $1 AND name = $2)",
    )
    .bind(tenant.0)
    .bind(&spec.name)
    .fetch_one(&mut *tx)
    .await
    .map_err(db_err)?;
    if !exists {
        alto_core::names::check_name("share", &spec.name)?;
    }
    // An existing share keeps its kind and case rule (path keys depend on them); a new mount
    // root is remembered, and a root is taken only by a share that has none.
    let row = sqlx::query(concat!(
        "INSERT INTO share AS s (tenant_id, name, kind, case_sensitive, mount_root, root) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (tenant_id, name) DO UPDATE \
             SET mount_root = coalesce(excluded.mount_root, s.mount_root), \
                 root = coalesce(s.root, excluded.root) \
         RETURNING ",
        share_columns!()
    ))
    .bind(tenant.0)
    .bind(&spec.name)
    .bind(spec.kind.as_str())
    .bind(spec.case_sensitive.unwrap_or(spec.kind.case_sensitive()))
    .bind(spec.mount_root.as_deref())
    .bind(spec.root.as_deref())
    .fetch_one(&mut *tx)
    .await
    .map_err(db_err)?;
    let share = share_from(&row, tenant)?;
    tx.commit().await.map_err(db_err)?;
    Ok(share)
}

/// The tenant's shares, by name (the column's collation is "C": byte order).
pub(crate) async fn shares(store: &PgStore, tenant: TenantId) -> Result<Vec<Share>> {
    let mut tx = store.begin(tenant).await?;
    settings(&mut tx, tenant).await?;
    let rows = sqlx::query(concat!(
        "SELECT ",
        share_columns!(),
        " FROM share WHERE tenant_id = $1 ORDER BY name"
    ))
    .bind(tenant.0)
    .fetch_all(&mut *tx)
    .await
    .map_err(db_err)?;
    tx.commit().await.map_err(db_err)?;
    rows.iter().map(|r| share_from(r, tenant)).collect()
}

/// Set or clear a share's root.
pub(crate) async fn set_share_root(
    store: &PgStore,
    tenant: TenantId,
    name: &str,
    root: Option<&str>,
) -> Result<Share> {
    if let Some(root) = root {
        alto_core::path::check_root(root)?;
    }
    let mut tx = store.begin(tenant).await?;
    settings(&mut tx, tenant).await?;
    let row = sqlx::query(concat!(
        "UPDATE share SET root = $3 WHERE tenant_id = $1 AND name = $2 RETURNING ",
        share_columns!()
    ))
    .bind(tenant.0)
    .bind(name)
    .bind(root)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_err)?
    .ok_or_else(|| Error::not_found(format!("share {name:?} does not exist")))?;
    let share = share_from(&row, tenant)?;
    tx.commit().await.map_err(db_err)?;
    Ok(share)
}

pub(crate) fn share_kind(s: &str) -> Result<ShareKind> {
    [
        ShareKind::Ntfs,
        ShareKind::Smb,
        ShareKind::Lucidlink,
        ShareKind::Posix,
    ]
    .into_iter()
    .find(|k| k.as_str() == s)
    .ok_or_else(|| {
        Error::new(
            ErrorKind::Backend,
            format!("unknown share kind {s:?} stored"),
        )
    })
}

/// The share's id by name, or `NotFound`.
pub(crate) async fn share_id(conn: &mut PgConnection, tenant: TenantId, name: &str) -> Result<i64> {
    sqlx::query_scalar("SELECT share_id FROM share WHERE tenant_id = $1 AND name = $2")
        .bind(tenant.0)
        .bind(name)
        .fetch_optional(conn)
        .await
        .map_err(db_err)?
        .ok_or_else(|| Error::not_found(format!("share {name:?} does not exist")))
}

pub(crate) fn scan_kind_str(kind: ScanKind) -> &'static str {
    kind.as_str()
}

pub(crate) async fn begin_scan(store: &PgStore, tenant: TenantId, spec: &ScanSpec) -> Result<Scan> {
    let mut tx = store.begin(tenant).await?;
    let share = share_id(&mut tx, tenant, &spec.share).await?;
    // One begin_scan per share at a time, so two runs of the same input resume one scan.
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('alto.scan', $1 # $2))")
        .bind(tenant.0)
        .bind(share)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    let kind = scan_kind_str(spec.kind);
    if let Some(source) = &spec.source {
        let open = sqlx::query(
            "SELECT scan_id, started_utc FROM scan \
             WHERE tenant_id = $1 AND share_id = $2 AND source = $3 AND kind = $4 \
               AND finished_utc IS NULL \
             ORDER BY scan_id DESC LIMIT 1",
        )
        .bind(tenant.0)
        .bind(share)
        .bind(source)
        .bind(kind)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?;
        if let Some(row) = open {
            let started: PgTime = row.try_get("started_utc").map_err(db_err)?;
            let scan = Scan {
                id: row.try_get("scan_id").map_err(db_err)?,
                share: spec.share.clone(),
                kind: spec.kind,
                started: started.0,
                source: spec.source.clone(),
                resumed: true,
            };
            tx.commit().await.map_err(db_err)?;
            return Ok(scan);
        }
    }
    let started = now_micros();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO scan (tenant_id, share_id, kind, source, started_utc) \
         VALUES ($1, $2, $3, $4, $5) RETURNING scan_id",
    )
    .bind(tenant.0)
    .bind(share)
    .bind(kind)
    .bind(spec.source.as_deref())
    .bind(PgTime(started))
    .fetch_one(&mut *tx)
    .await
    .map_err(db_err)?;
    tx.commit().await.map_err(db_err)?;
    Ok(Scan {
        id,
        share: spec.share.clone(),
        kind: spec.kind,
        started,
        source: spec.source.clone(),
        resumed: false,
    })
}
