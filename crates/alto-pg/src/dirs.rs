//! Directories of a share: the `dir` table, and the store's cache of their ids.
//!
//! Each chunk's distinct directories need ids before its rows are copied. Directories are never
//! deleted or re-keyed, so an id once committed stays right: the store keeps a bounded cache of
//! them and only upserts the directories it has not seen, in key order so that concurrent ingests
//! lock in the same order.

use crate::PgStore;
use crate::error::db_err;
use alto_core::path::dir_hash64;
use alto_core::types::TenantId;
use alto_core::{Error, Result};
use sqlx::{PgConnection, Row};
use std::collections::HashMap;
use std::sync::Mutex;

/// Directory ids by (tenant, share, directory key). Directories are never deleted or re-keyed,
/// so an id, once committed, stays right; only committed ids enter. Bounded: when full it starts
/// over, so memory does not grow with the inventory.
#[derive(Debug, Default)]
pub(crate) struct DirCache {
    inner: Mutex<DirMap>,
}

#[derive(Debug, Default)]
struct DirMap {
    len: usize,
    shares: HashMap<(i64, i64), HashMap<String, i64>>,
}

const DIR_CACHE_MAX: usize = 1 << 18;

impl DirCache {
    pub(crate) fn fill(&self, tenant: TenantId, share: i64, dirs: &mut [(&str, i64)]) {
        let g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(m) = g.shares.get(&(tenant.0, share)) {
            for (d, id) in dirs.iter_mut() {
                if let Some(v) = m.get(*d) {
                    *id = *v;
                }
            }
        }
    }

    pub(crate) fn remember(&self, tenant: TenantId, share: i64, dirs: &[(&str, i64)]) {
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if g.len + dirs.len() > DIR_CACHE_MAX {
            g.shares.clear();
            g.len = 0;
        }
        let mut added = 0;
        let m = g.shares.entry((tenant.0, share)).or_default();
        for (d, id) in dirs {
            if m.insert((*d).to_owned(), *id).is_none() {
                added += 1;
            }
        }
        g.len += added;
    }
}

/// Fill in every directory's id: from the cache, else upsert the missing ones (in key order, so
/// concurrent ingests lock in the same order) and read back those that existed. Returns whether
/// the cache lacked any.
pub(crate) async fn resolve(
    store: &PgStore,
    conn: &mut PgConnection,
    tenant: TenantId,
    share: i64,
    dirs: &mut [(&str, i64)],
) -> Result<bool> {
    store.dirs.fill(tenant, share, dirs);
    let mut missing: Vec<&str> = dirs
        .iter()
        .filter(|(_, id)| *id == 0)
        .map(|(d, _)| *d)
        .collect();
    if missing.is_empty() {
        return Ok(false);
    }
    missing.sort_unstable();
    let hashes: Vec<i64> = missing.iter().map(|d| dir_hash64(d)).collect();
    let mut found: HashMap<String, i64> = HashMap::with_capacity(missing.len());
    let rows = sqlx::query(
        "INSERT INTO dir (tenant_id, share_id, dir_path, dir_hash64) \
         SELECT $1, $2, d.p, d.h FROM unnest($3::text[], $4::bigint[]) AS d(p, h) \
         ON CONFLICT (tenant_id, share_id, dir_path) DO NOTHING \
         RETURNING dir_path, dir_id",
    )
    .bind(tenant.0)
    .bind(share)
    .bind(&missing)
    .bind(&hashes)
    .fetch_all(&mut *conn)
    .await
    .map_err(db_err)?;
    for r in rows {
        found.insert(r.try_get(0).map_err(db_err)?, r.try_get(1).map_err(db_err)?);
    }
    if found.len() < missing.len() {
        let rest: Vec<&str> = missing
            .iter()
            .copied()
            .filter(|d| !found.contains_key(*d))
            .collect();
        let rows = sqlx::query(
            "SELECT dir_path, dir_id FROM dir \
             WHERE tenant_id = $1 AND share_id = $2 AND dir_path = ANY($3::text[])",
        )
        .bind(tenant.0)
        .bind(share)
        .bind(&rest)
        .fetch_all(&mut *conn)
        .await
        .map_err(db_err)?;
        for r in rows {
            found.insert(r.try_get(0).map_err(db_err)?, r.try_get(1).map_err(db_err)?);
        }
    }
    for (d, id) in dirs.iter_mut() {
        if *id == 0 {
            *id = *found.get(*d).ok_or_else(|| {
                Error::new(
                    alto_core::ErrorKind::Backend,
                    format!("directory {d:?} vanished while ingesting"),
                )
            })?;
        }
    }
    Ok(true)
}
