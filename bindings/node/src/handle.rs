//! `connect(url)` and `Alto`: the store, how this host reaches tier targets and share roots,
//! tenants, and the worker pool.

use crate::error::{invalid, on_own_thread, promise};
use crate::records::RunReport;
use crate::tenant::Tenant;
use napi::bindgen_prelude::*;
use napi_derive::napi;
use std::collections::HashMap;

/// How `connect()` connects.
#[napi(object)]
pub struct ConnectOptions {
    /// Where each share is mounted on this host, when not at its recorded root:
    /// `{ media: '/mnt/media' }`.
    pub share_roots: Option<HashMap<String, String>>,
    /// Tier targets under these prefixes only (a rule's target elsewhere is refused by the
    /// workers and by rehydration). Absent: any target.
    pub allowed_targets: Option<Vec<String>>,
}

/// Open the store at `url` (`sqlite://alto.db`, `postgres://user@host/db`, `memory://`).
/// Embedded stores are created and migrated on first use.
#[napi]
pub fn connect<'env>(
    env: &'env Env,
    url: String,
    options: Option<ConnectOptions>,
) -> Result<PromiseRaw<'env, Alto>> {
    let mut builder = alto::Alto::builder(url);
    if let Some(o) = options {
        for (share, dir) in o.share_roots.unwrap_or_default() {
            builder = builder.share_root(share, dir);
        }
        for prefix in o.allowed_targets.unwrap_or_default() {
            builder = builder.allow_target(prefix);
        }
    }
    let connecting = on_own_thread(move || builder.connect());
    promise(env, connecting, |inner| Ok(Alto { inner }))
}

/// A connected Alto. Cheap to share; every method returns a Promise.
#[napi]
pub struct Alto {
    inner: alto::Alto,
}

/// A tenant's settings (`alto.createTenant(name, settings)`).
#[napi(object)]
pub struct TenantSettings {
    /// Keep per-scan snapshot rows beside the current ones (default true).
    pub keep_history: Option<bool>,
    /// When keeping history, keep only the last N scans per share.
    pub history_scans: Option<u32>,
    /// PLANNED objects older than this many days expire (default 365).
    pub planned_retention_days: Option<u32>,
    /// Feed events for unknown paths: `queue` (default), `ignore` or `placeholder`.
    pub unknown_paths: Option<String>,
    /// Access to a stubbed file: `alert` (default), `rehydrate` or `ignore`.
    pub stub_access: Option<String>,
}

/// A snake_case policy name into its Rust enum (as the store spells it).
fn policy<T: serde::de::DeserializeOwned>(what: &str, name: &str) -> alto::Result<T> {
    serde_json::from_value(serde_json::Value::String(name.to_owned()))
        .map_err(|_| invalid(format!("{what}: unknown value {name:?}")))
}

fn settings(s: Option<TenantSettings>) -> alto::Result<alto::TenantSettings> {
    let mut out = alto::TenantSettings::default();
    let Some(s) = s else { return Ok(out) };
    if let Some(v) = s.keep_history {
        out.keep_history = v;
    }
    if s.history_scans.is_some() {
        out.history_scans = s.history_scans;
    }
    if let Some(v) = s.planned_retention_days {
        out.planned_retention_days = v;
    }
    if let Some(v) = &s.unknown_paths {
        out.unknown_paths = policy("unknownPaths", v)?;
    }
    if let Some(v) = &s.stub_access {
        out.stub_access = policy("stubAccess", v)?;
    }
    Ok(out)
}

/// How `alto.runWorkers()` runs.
#[napi(object)]
pub struct RunWorkersOptions {
    /// Only this tenant's jobs (default: every tenant the login may act for).
    pub tenant: Option<String>,
    /// Stop when no job is left (default true). `false` polls for more jobs until the process
    /// ends.
    pub once: Option<bool>,
    /// Jobs run at the same time (default 1).
    pub workers: Option<u32>,
}

#[napi]
impl Alto {
    /// The store's backend: `memory`, `sqlite` or `postgres`.
    #[napi(getter)]
    pub fn backend(&self) -> &'static str {
        self.inner.backend()
    }

    /// The tenant `name`; rejects with `code` `'NotFound'` when there is none.
    #[napi]
    pub fn tenant<'env>(&self, env: &'env Env, name: String) -> Result<PromiseRaw<'env, Tenant>> {
        let alto = self.inner.clone();
        promise(env, async move { alto.tenant(&name).await }, |t| {
            Ok(Tenant::new(t))
        })
    }

    /// Create the tenant `name`; rejects with `'AlreadyExists'` when there is one.
    #[napi]
    pub fn create_tenant<'env>(
        &self,
        env: &'env Env,
        name: String,
        settings: Option<TenantSettings>,
    ) -> Result<PromiseRaw<'env, Tenant>> {
        let alto = self.inner.clone();
        let settings = self::settings(settings);
        promise(
            env,
            async move { alto.create_tenant(&name, &settings?).await },
            |t| Ok(Tenant::new(t)),
        )
    }

    /// Every tenant this login may act for.
    #[napi]
    pub fn tenants<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, Vec<Tenant>>> {
        let alto = self.inner.clone();
        promise(env, async move { alto.tenants().await }, |ts| {
            Ok(ts.into_iter().map(Tenant::new).collect())
        })
    }

    /// Run tiering workers until the queue is empty (or, with `once: false`, for good). A file
    /// that fails is counted in the report; a store failure rejects.
    #[napi]
    pub fn run_workers<'env>(
        &self,
        env: &'env Env,
        options: Option<RunWorkersOptions>,
    ) -> Result<PromiseRaw<'env, RunReport>> {
        let alto = self.inner.clone();
        let mut run = alto::RunOptions::default();
        if let Some(o) = options {
            if let Some(t) = o.tenant {
                run = run.tenant(t);
            }
            if let Some(once) = o.once {
                run = run.once(once);
            }
            if let Some(n) = o.workers {
                run = run.workers(n as usize);
            }
        }
        promise(env, async move { alto.run_workers(&run).await }, |r| {
            Ok(RunReport::from(r))
        })
    }
}
