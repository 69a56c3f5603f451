//! Tenants and shares: the two things every other row belongs to.
//!
//! A tenant is looked up by its unique name once; from then on every call carries its `TenantId`
//! and every statement filters by it. A share's kind and case rule are fixed when it is created
//! (path keys were derived with them); only its feed mount root and its root on the workers' hosts
//! may change later. New tenant and share names must pass `alto_core::names::check_name`; names
//! stored before that rule are still found as they are.

use crate::error::{corrupt, db, db_in};
use crate::{SqliteStore, codec, sql};
use alto_core::store::ShareSpec;
use alto_core::time::now_micros;
use alto_core::{Error, ErrorKind, Result, Share, Tenant, TenantId, TenantSettings};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};

/// The tenant's settings, or `NotFound`.
pub(crate) async fn settings(
    conn: &mut SqliteConnection,
    tenant: TenantId,
) -> Result<TenantSettings> {
    let raw: Option<String> = sqlx::query_scalar(sql::TENANT_SETTINGS)
        .bind(tenant.0)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db)?;
    let raw = raw.ok_or_else(|| Error::not_found(format!("tenant {tenant} does not exist")))?;
    serde_json::from_str(&raw).map_err(|e| corrupt(format!("settings of tenant {tenant}: {e}")))
}

/// A share of the tenant by name: (id, share), or `NotFound` naming it.
pub(crate) async fn share_by_name(
    conn: &mut SqliteConnection,
    tenant: TenantId,
    name: &str,
) -> Result<Option<Share>> {
    let row = sqlx::query(sql::SHARE_BY_NAME)
        .bind(tenant.0)
        .bind(name)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db)?;
    row.map(|r| decode_share(&r, tenant)).transpose()
}

/// A share from the columns of `sql::share_columns!`.
fn decode_share(r: &SqliteRow, tenant: TenantId) -> Result<Share> {
    let mut share_rec = Share::default();
    share_rec.id = r.try_get(0).map_err(db)?;
    share_rec.tenant = tenant;
    share_rec.name = r.try_get(1).map_err(db)?;
    share_rec.kind = codec::share_kind(r.try_get(2).map_err(db)?)?;
    share_rec.case_sensitive = r.try_get(3).map_err(db)?;
    share_rec.mount_root = r.try_get(4).map_err(db)?;
    share_rec.root = r.try_get(5).map_err(db)?;
    Ok(share_rec)
}

fn share_missing(name: &str) -> Error {
    Error::not_found(format!("share {name:?} does not exist"))
}

/// [`share_by_name`], with `NotFound` when there is none.
pub(crate) async fn share(
    conn: &mut SqliteConnection,
    tenant: TenantId,
    name: &str,
) -> Result<Share> {
    share_by_name(conn, tenant, name)
        .await?
        .ok_or_else(|| share_missing(name))
}

impl SqliteStore {
    pub(crate) async fn create_tenant_impl(
        &self,
        name: &str,
        settings: &TenantSettings,
    ) -> Result<Tenant> {
        alto_core::names::check_name("tenant", name)?;
        let json = serde_json::to_string(settings)
            .map_err(|e| Error::invalid_input(format!("tenant settings: {e}")))?;
        let created = now_micros();
        let mut tx = self.write().await?;
        let exists = sqlx::query(sql::TENANT_BY_NAME)
            .bind(name)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db)?;
        if exists.is_some() {
            return Err(Error::new(
                ErrorKind::AlreadyExists,
                format!("tenant {name:?} already exists"),
            ));
        }
        let id: i64 = sqlx::query_scalar(sql::TENANT_INSERT)
            .bind(name)
            .bind(json)
            .bind(created)
            .fetch_one(&mut *tx)
            .await
            .map_err(db_in(&format!("cannot create tenant {name:?}")))?;
        tx.commit().await.map_err(db)?;
        let mut tenant_rec = Tenant::default();
        tenant_rec.id = TenantId(id);
        tenant_rec.name = name.to_owned();
        tenant_rec.settings = settings.clone();
        tenant_rec.created = created;
        Ok(tenant_rec)
    }

    pub(crate) async fn set_tenant_settings_impl(
        &self,
        tenant: TenantId,
        settings: &TenantSettings,
    ) -> Result<Tenant> {
        let json = serde_json::to_string(settings)
            .map_err(|e| Error::invalid_input(format!("tenant settings: {e}")))?;
        let mut tx = self.write().await?;
        let row = sqlx::query(sql::TENANT_SET_SETTINGS)
            .bind(tenant.0)
            .bind(json)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db)?
            .ok_or_else(|| Error::not_found(format!("tenant {tenant} does not exist")))?;
        tx.commit().await.map_err(db)?;
        let mut t = Tenant::default();
        t.id = tenant;
        t.name = row.try_get(0).map_err(db)?;
        t.created = row.try_get(1).map_err(db)?;
        t.settings = settings.clone();
        Ok(t)
    }

    pub(crate) async fn tenant_impl(&self, name: &str) -> Result<Tenant> {
        let row = sqlx::query(sql::TENANT_BY_NAME)
            .bind(name)
            .fetch_optional(&self.pools.read)
            .await
            .map_err(db)?
            .ok_or_else(|| Error::not_found(format!("tenant {name:?} does not exist")))?;
        let id: i64 = row.try_get(0).map_err(db)?;
        let raw: String = row.try_get(2).map_err(db)?;
        let mut tenant_rec = Tenant::default();
        tenant_rec.id = TenantId(id);
        tenant_rec.name = row.try_get(1).map_err(db)?;
        tenant_rec.settings = serde_json::from_str(&raw)
            .map_err(|e| corrupt(format!("settings of tenant {name:?}: {e}")))?;
        tenant_rec.created = row.try_get(3).map_err(db)?;
        Ok(tenant_rec)
    }

    pub(crate) async fn ensure_share_impl(
        &self,
        tenant: TenantId,
        spec: &ShareSpec,
    ) -> Result<Share> {
        if let Some(root) = &spec.root {
            alto_core::path::check_root(root)?;
        }
        let mut tx = self.write().await?;
        settings(&mut tx, tenant).await?;
        if let Some(mut s) = share_by_name(&mut tx, tenant, &spec.name).await? {
            // An existing share: found by its name as stored, whatever today's name rule says.
            let mut changed = false;
            if spec.mount_root.is_some() && spec.mount_root != s.mount_root {
                sqlx::query(sql::SHARE_SET_MOUNT_ROOT)
                    .bind(tenant.0)
                    .bind(s.id)
                    .bind(&spec.mount_root)
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?;
                s.mount_root = spec.mount_root.clone();
                changed = true;
            }
            // A root only for a share that has none: changing one is set_share_root.
            if s.root.is_none() && spec.root.is_some() {
                sqlx::query(sql::SHARE_FILL_ROOT)
                    .bind(tenant.0)
                    .bind(s.id)
                    .bind(&spec.root)
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?;
                s.root = spec.root.clone();
                changed = true;
            }
            if changed {
                tx.commit().await.map_err(db)?;
            }
            return Ok(s);
        }
        alto_core::names::check_name("share", &spec.name)?;
        let case_sensitive = spec.case_sensitive.unwrap_or(spec.kind.case_sensitive());
        let id: i64 = sqlx::query_scalar(sql::SHARE_INSERT)
            .bind(tenant.0)
            .bind(&spec.name)
            .bind(spec.kind.as_str())
            .bind(case_sensitive)
            .bind(&spec.mount_root)
            .bind(&spec.root)
            .bind(now_micros())
            .fetch_one(&mut *tx)
            .await
            .map_err(db_in(&format!("cannot create share {:?}", spec.name)))?;
        tx.commit().await.map_err(db)?;
        let mut share_rec = Share::default();
        share_rec.id = id;
        share_rec.tenant = tenant;
        share_rec.name = spec.name.clone();
        share_rec.kind = spec.kind;
        share_rec.case_sensitive = case_sensitive;
        share_rec.mount_root = spec.mount_root.clone();
        share_rec.root = spec.root.clone();
        Ok(share_rec)
    }

    pub(crate) async fn shares_impl(&self, tenant: TenantId) -> Result<Vec<Share>> {
        let mut conn = self.pools.read.acquire().await.map_err(db)?;
        settings(&mut conn, tenant).await?;
        let rows = sqlx::query(sql::SHARES_ALL)
            .bind(tenant.0)
            .fetch_all(&mut *conn)
            .await
            .map_err(db)?;
        rows.iter().map(|r| decode_share(r, tenant)).collect()
    }

    pub(crate) async fn set_share_root_impl(
        &self,
        tenant: TenantId,
        name: &str,
        root: Option<&str>,
    ) -> Result<Share> {
        if let Some(root) = root {
            alto_core::path::check_root(root)?;
        }
        let mut tx = self.write().await?;
        settings(&mut tx, tenant).await?;
        let row = sqlx::query(sql::SHARE_SET_ROOT)
            .bind(tenant.0)
            .bind(name)
            .bind(root)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_in(&format!("cannot set the root of share {name:?}")))?
            .ok_or_else(|| share_missing(name))?;
        let share = decode_share(&row, tenant)?;
        tx.commit().await.map_err(db)?;
        Ok(share)
    }
}
