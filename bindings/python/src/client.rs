//! `alto.connect` and `Alto`: a connected store (`alto::Alto`), its tenants and its workers.

use crate::aio::{Call, on_own_thread};
use crate::block_on;
use crate::errors::OrRaise;
use crate::records::RunReport;
use crate::tenant::Tenant;
use alto::{CancelToken, RunOptions, TenantSettings};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::collections::BTreeMap;
use std::time::Duration;

/// A connected Alto: a store plus how this host reaches tier targets and primary storage.
#[pyclass(module = "alto", frozen)]
pub(crate) struct Alto {
    alto: alto::Alto,
}

fn connecting(
    url: &str,
    share_roots: Option<BTreeMap<String, std::path::PathBuf>>,
    allow_targets: Option<Vec<String>>,
    source: String,
) -> Call<alto::Alto, Alto> {
    let mut b = alto::Alto::builder(url);
    for (name, dir) in share_roots.unwrap_or_default() {
        b = b.share_root(name, dir);
    }
    for prefix in allow_targets.unwrap_or_default() {
        b = b.allow_target(prefix);
    }
    let connected = on_own_thread(move || async move {
        let alto = b.connect().await?;
        alto.set_audit_source(&source);
        Ok(alto)
    });
    Call::new(connected, |_, alto| Ok(Alto { alto }))
}

/// Connect to the store at `url` (`sqlite://FILE`, `postgres://…`, `memory://`); embedded
/// stores are created and migrated on first use. `share_roots` maps share names to where they
/// are mounted on this host; `allow_targets` limits the tier targets to these prefixes; the
/// audit events this connection writes name `source` (default `"python"`) as their actor's
/// source, beside this process's user, host, program and pid.
#[pyfunction]
#[pyo3(signature = (url, share_roots=None, allow_targets=None, source="python"))]
pub(crate) fn connect(
    py: Python<'_>,
    url: &str,
    share_roots: Option<BTreeMap<String, std::path::PathBuf>>,
    allow_targets: Option<Vec<String>>,
    source: &str,
) -> PyResult<Alto> {
    connecting(url, share_roots, allow_targets, source.to_owned()).wait(py)
}

/// [`connect`] as an awaitable (`alto.aio.connect`).
#[pyfunction]
#[pyo3(signature = (url, share_roots=None, allow_targets=None, source="python"))]
pub(crate) fn connect_async<'py>(
    py: Python<'py>,
    url: &str,
    share_roots: Option<BTreeMap<String, std::path::PathBuf>>,
    allow_targets: Option<Vec<String>>,
    source: &str,
) -> PyResult<Bound<'py, PyAny>> {
    connecting(url, share_roots, allow_targets, source.to_owned()).spawn(py)
}

fn tenant(handle: alto::TenantHandle) -> Tenant {
    Tenant::new(handle)
}

/// A run of the workers and the token that stops it.
fn workers(
    alto: &alto::Alto,
    tenant: Option<String>,
    once: bool,
    workers: usize,
) -> (
    CancelToken,
    tokio::task::JoinHandle<alto::Result<alto::RunReport>>,
) {
    let cancel = CancelToken::new();
    let mut opts = RunOptions::default()
        .workers(workers)
        .once(once)
        .cancel(cancel.clone());
    if let Some(t) = tenant {
        opts = opts.tenant(t);
    }
    let alto = alto.clone();
    let task = crate::runtime().spawn(async move { alto.run_workers(&opts).await });
    (cancel, task)
}

fn joined(
    r: Result<alto::Result<alto::RunReport>, tokio::task::JoinError>,
) -> alto::Result<alto::RunReport> {
    r.map_err(|e| alto::Error::new(alto::ErrorKind::Backend, format!("workers failed: {e}")))?
}

/// Cancels the workers when dropped before [`disarm`](Self::disarm): an awaited run that is
/// cancelled drops its future, and with it this.
struct CancelOnDrop(Option<CancelToken>);

impl CancelOnDrop {
    fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if let Some(c) = &self.0 {
            c.cancel();
        }
    }
}

#[pymethods]
impl Alto {
    /// The store's backend: `"memory"`, `"sqlite"` or `"postgres"`.
    #[getter]
    fn backend(&self) -> &'static str {
        self.alto.backend()
    }

    /// Create the tenant `name`; `settings` are the tenant settings (`keep_history`,
    /// `history_scans`, `planned_retention_days`, `rehydrated_retention_days`,
    /// `deleted_retention_days`, `job_retention_days`, `feed_staging_hours`, `unknown_paths`,
    /// `stub_access`); the others keep their defaults.
    #[pyo3(signature = (name, **settings))]
    fn create_tenant(
        &self,
        py: Python<'_>,
        name: String,
        settings: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Tenant> {
        self.creating(py, name, settings)?.wait(py)
    }

    /// [`create_tenant`](Self::create_tenant) as an awaitable.
    #[pyo3(signature = (name, **settings))]
    fn create_tenant_async<'py>(
        &self,
        py: Python<'py>,
        name: String,
        settings: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.creating(py, name, settings)?.spawn(py)
    }

    /// The tenant `name` (`NotFoundError` when there is none).
    fn tenant(&self, py: Python<'_>, name: String) -> PyResult<Tenant> {
        self.opening(name).wait(py)
    }

    /// [`tenant`](Self::tenant) as an awaitable.
    fn tenant_async<'py>(&self, py: Python<'py>, name: String) -> PyResult<Bound<'py, PyAny>> {
        self.opening(name).spawn(py)
    }

    /// Every tenant this login may act for.
    fn tenants(&self, py: Python<'_>) -> PyResult<Vec<Tenant>> {
        self.listing().wait(py)
    }

    /// [`tenants`](Self::tenants) as an awaitable.
    fn tenants_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.listing().spawn(py)
    }

    /// Run tiering workers (of one tenant, or all) until the queue is empty (`once`), or until
    /// interrupted (Ctrl-C stops them after the file each one is on).
    #[pyo3(signature = (tenant=None, once=true, workers=1))]
    fn run_workers(
        &self,
        py: Python<'_>,
        tenant: Option<String>,
        once: bool,
        workers: usize,
    ) -> PyResult<RunReport> {
        let (cancel, task) = self::workers(&self.alto, tenant, once, workers);
        let mut task = std::pin::pin!(task);
        // Wait in slices, checking for Python signals between them, so Ctrl-C reaches a
        // long run: it cancels the workers, then waits for them to stop.
        loop {
            let done = py.detach(|| {
                crate::runtime().block_on(async {
                    tokio::time::timeout(Duration::from_millis(200), &mut task)
                        .await
                        .ok()
                })
            });
            if let Some(r) = done {
                return Ok(joined(r).or_raise(py)?.into());
            }
            if let Err(e) = py.check_signals() {
                cancel.cancel();
                let _ = py.detach(|| crate::runtime().block_on(&mut task));
                return Err(e);
            }
        }
    }

    /// [`run_workers`](Self::run_workers) as an awaitable. Cancelling it cancels the workers:
    /// each finishes the file it is on, in the background.
    #[pyo3(signature = (tenant=None, once=true, workers=1))]
    fn run_workers_async<'py>(
        &self,
        py: Python<'py>,
        tenant: Option<String>,
        once: bool,
        workers: usize,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (cancel, task) = self::workers(&self.alto, tenant, once, workers);
        let guard = CancelOnDrop(Some(cancel));
        Call::new(
            async move {
                let r = task.await;
                guard.disarm();
                joined(r)
            },
            |_, r| Ok(RunReport::from(r)),
        )
        .spawn(py)
    }

    fn __repr__(&self) -> String {
        format!("Alto(backend={:?})", self.alto.backend())
    }
}

impl Alto {
    fn creating(
        &self,
        py: Python<'_>,
        name: String,
        settings: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Call<alto::TenantHandle, Tenant>> {
        let settings = match settings {
            Some(s) if !s.is_empty() => tenant_settings(py, s)?,
            _ => TenantSettings::default(),
        };
        let alto = self.alto.clone();
        Ok(Call::new(
            async move { alto.create_tenant(&name, &settings).await },
            |_, t| Ok(tenant(t)),
        ))
    }

    fn opening(&self, name: String) -> Call<alto::TenantHandle, Tenant> {
        let alto = self.alto.clone();
        Call::new(async move { alto.tenant(&name).await }, |_, t| {
            Ok(tenant(t))
        })
    }

    fn listing(&self) -> Call<Vec<alto::TenantHandle>, Vec<Tenant>> {
        let alto = self.alto.clone();
        Call::new(async move { alto.tenants().await }, |_, ts| {
            Ok(ts.into_iter().map(tenant).collect())
        })
    }
}

fn tenant_settings(py: Python<'_>, s: &Bound<'_, PyDict>) -> PyResult<TenantSettings> {
    let given = crate::upkeep::settings_map(py, Some(s))?;
    crate::upkeep::merge_settings(&TenantSettings::default(), &given).or_raise(py)
}

/// Create or upgrade the store's schema at `url` (PostgreSQL: as the database's owner; embedded
/// stores migrate themselves on connect).
#[pyfunction]
pub(crate) fn migrate(py: Python<'_>, url: &str) -> PyResult<()> {
    block_on(py, || alto::migrate(url)).or_raise(py)
}

/// PostgreSQL: create the runtime login `role` as the owner (`owner_url`), bound to the tenant
/// named `tenant`, or acting for every tenant when `None`.
#[pyfunction]
#[pyo3(signature = (owner_url, role, tenant=None, password=None))]
pub(crate) fn create_login(
    py: Python<'_>,
    owner_url: &str,
    role: &str,
    tenant: Option<&str>,
    password: Option<&str>,
) -> PyResult<()> {
    block_on(py, || {
        alto::login::create(owner_url, role, tenant, password)
    })
    .or_raise(py)?;
    Ok(())
}

/// PostgreSQL: drop the runtime login `role` as the owner.
#[pyfunction]
pub(crate) fn drop_login(py: Python<'_>, owner_url: &str, role: &str) -> PyResult<()> {
    block_on(py, || alto::login::drop(owner_url, role)).or_raise(py)
}
