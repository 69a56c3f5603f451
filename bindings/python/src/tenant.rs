//! `Tenant`: one tenant of an `Alto` (`alto::TenantHandle`): shares, ingest, plans, listings,
//! rehydration and feeds.

use crate::block_on;
use crate::convert::{datetime, inventory_options, opt_micros, path, py_to_json};
use crate::errors::{OrRaise, invalid_input};
use crate::pages::{AuditIterator, FileIterator, JobIterator};
use crate::records::{FeedReport, IngestReport, Job, RehydrateReport, Rejection, Share};
use crate::rules::{Plan, RuleSet};
use alto::store::tiering::JobQuery;
use alto::store::{FileQuery, ShareSpec};
use alto::{FeedRequest, IngestRequest, PlanRequest, TenantHandle, TierState};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// One tenant: its shares, files, plans, jobs, feeds and audit trail.
#[pyclass(module = "alto", frozen)]
pub(crate) struct Tenant {
    pub(crate) handle: TenantHandle,
}

fn share_kind(py: Python<'_>, kind: &str) -> PyResult<alto::ShareKind> {
    serde_json::from_value(serde_json::Value::String(kind.to_ascii_lowercase())).map_err(|_| {
        invalid_input(
            py,
            format!("unknown share kind {kind:?}: expected posix, ntfs, smb or lucidlink"),
        )
    })
}

#[pymethods]
impl Tenant {
    /// The tenant's name.
    #[getter]
    fn name(&self) -> &str {
        self.handle.name()
    }

    /// The tenant's id in the store.
    #[getter]
    fn id(&self) -> String {
        self.handle.record().id.to_string()
    }

    /// When the tenant was created.
    #[getter]
    fn created(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        datetime(py, self.handle.record().created)
    }

    /// Create a share; `root` is where the workers find it on their hosts.
    #[pyo3(signature = (name, root=None, kind="posix", case_sensitive=None))]
    fn create_share(
        &self,
        py: Python<'_>,
        name: &str,
        root: Option<String>,
        kind: &str,
        case_sensitive: Option<bool>,
    ) -> PyResult<Share> {
        let mut spec = ShareSpec::new(name, share_kind(py, kind)?);
        spec.root = root;
        spec.case_sensitive = case_sensitive;
        let s = block_on(py, || self.handle.create_share(&spec)).or_raise(py)?;
        Ok(s.into())
    }

    /// The tenant's shares.
    fn shares(&self, py: Python<'_>) -> PyResult<Vec<Share>> {
        let shares = block_on(py, || self.handle.shares()).or_raise(py)?;
        Ok(shares.into_iter().map(Share::from).collect())
    }

    /// Set (or clear, with `None`) a share's root on the workers' hosts.
    #[pyo3(signature = (share, root))]
    fn set_share_root(&self, py: Python<'_>, share: &str, root: Option<String>) -> PyResult<Share> {
        let s = block_on(py, || self.handle.set_share_root(share, root.as_deref())).or_raise(py)?;
        Ok(s.into())
    }

    /// Ingest the inventory (CSV or Parquet) at `path` into `share` (created when missing).
    /// A full scan marks the share's files not in the inventory missing.
    #[pyo3(signature = (share, path, full_scan=false, column_map=None))]
    fn ingest(
        &self,
        py: Python<'_>,
        share: &str,
        path: &Bound<'_, PyAny>,
        full_scan: bool,
        column_map: Option<BTreeMap<String, String>>,
    ) -> PyResult<IngestReport> {
        let p = self::path(path)?;
        let mut req = IngestRequest::default();
        req.inventory = inventory_options(py, column_map)?;
        if full_scan {
            req = req.full_scan();
        }
        let rejections = Arc::new(Mutex::new(Vec::new()));
        let sink = rejections.clone();
        req = req.on_reject(move |r| {
            sink.lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(Rejection::from(r));
        });
        let report = block_on(py, || self.handle.ingest(share, &p, &req)).or_raise(py)?;
        let rejections = std::mem::take(&mut *rejections.lock().unwrap_or_else(|p| p.into_inner()));
        IngestReport::new(py, report, rejections)
    }

    /// Evaluate `rules` over every file of the tenant as of `now` (default: now); commit the
    /// plan as tiering jobs when `commit`.
    #[pyo3(signature = (rules, now=None, commit=false))]
    fn plan(
        &self,
        py: Python<'_>,
        rules: PyRef<'_, RuleSet>,
        now: Option<&Bound<'_, PyAny>>,
        commit: bool,
    ) -> PyResult<Plan> {
        let req = match opt_micros("now", now)? {
            Some(t) => PlanRequest::at(t),
            None => PlanRequest::default(),
        }
        .commit(commit);
        let set = rules.rules.clone();
        let out = block_on(py, || self.handle.plan(&set, &req)).or_raise(py)?;
        Ok(Plan::new(out.report, out.committed))
    }

    /// The tenant's files (by share, then path), optionally only those matching `glob`, in
    /// tier `state` (`"PLANNED"`, `"STUBBED"`, …) or of `share`; `after` resumes from a cursor.
    #[pyo3(signature = (glob=None, state=None, share=None, after=None, include_missing=false))]
    fn files(
        &self,
        py: Python<'_>,
        glob: Option<String>,
        state: Option<&str>,
        share: Option<String>,
        after: Option<&str>,
        include_missing: bool,
    ) -> PyResult<FileIterator> {
        let state = state
            .map(str::parse::<TierState>)
            .transpose()
            .or_raise(py)?;
        let q = FileQuery {
            share,
            glob,
            state,
            include_missing,
            ..FileQuery::default()
        };
        FileIterator::new(py, self.handle.files(q), after)
    }

    /// The tenant's tiering jobs, optionally only those in `state` (`"queued"`, `"running"`,
    /// `"done"`, `"failed"`, `"cancelled"`); `after` resumes from a cursor.
    #[pyo3(signature = (state=None, after=None))]
    fn jobs(
        &self,
        py: Python<'_>,
        state: Option<&str>,
        after: Option<&str>,
    ) -> PyResult<JobIterator> {
        let state = match state {
            Some(s) => Some(alto::JobState::parse(s).ok_or_else(|| {
                invalid_input(
                    py,
                    format!(
                        "unknown job state {s:?}: expected queued, running, done, failed or cancelled"
                    ),
                )
            })?),
            None => None,
        };
        let q = JobQuery {
            state,
            ..JobQuery::default()
        };
        JobIterator::new(py, self.handle.jobs(q), after)
    }

    /// The tenant's audit trail, oldest first; `after` resumes from a cursor.
    #[pyo3(signature = (after=None))]
    fn audit(&self, py: Python<'_>, after: Option<&str>) -> PyResult<AuditIterator> {
        AuditIterator::new(py, self.handle.audit(), after)
    }

    /// Cancel a queued or running job.
    fn cancel_job(&self, py: Python<'_>, job: i64) -> PyResult<Job> {
        let j = block_on(py, || self.handle.cancel_job(job)).or_raise(py)?;
        Job::new(py, j)
    }

    /// Bring the stubbed file at `path` of `share` back.
    fn rehydrate(&self, py: Python<'_>, share: &str, path: &str) -> PyResult<RehydrateReport> {
        let r = block_on(py, || self.handle.rehydrate(share, path)).or_raise(py)?;
        Ok(r.into())
    }

    /// Apply an access-event batch to `share`: a `dict` in the `alto feed events` format
    /// (`{"update_batch_id": ..., "updates": [...]}`), or the path of a file holding one.
    fn apply_events(
        &self,
        py: Python<'_>,
        share: &str,
        batch: &Bound<'_, PyAny>,
    ) -> PyResult<FeedReport> {
        let opts = FeedRequest::default();
        let r = if batch.is_instance_of::<PyDict>() {
            let text = py_to_json("the batch", batch)?.to_string();
            block_on(py, || self.handle.apply_batch(share, &text, "batch", &opts))
        } else {
            let p = self::path(batch)?;
            block_on(py, || self.handle.apply_batch_file(share, &p, &opts))
        };
        Ok(r.or_raise(py)?.into())
    }

    /// One pass over a LucidLink `.lucid_audit` tree at `root` for `share`, from where the
    /// last pass stopped.
    fn follow_lucid(
        &self,
        py: Python<'_>,
        share: &str,
        root: &Bound<'_, PyAny>,
    ) -> PyResult<FeedReport> {
        let p = self::path(root)?;
        let opts = FeedRequest::default();
        let (h, p, opts) = (&self.handle, &p, &opts);
        let r = block_on(py, move || async move {
            h.follow_lucid(share, p, opts, &mut |_| {}).await
        })
        .or_raise(py)?;
        Ok(r.into())
    }

    fn __repr__(&self) -> String {
        format!("Tenant(name={:?})", self.handle.name())
    }
}
