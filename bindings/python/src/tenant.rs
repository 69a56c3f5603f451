//! `Tenant`: one tenant of an `Alto` (`alto::TenantHandle`): shares, ingest, plans, listings,
//! rehydration, feeds, and its upkeep: settings, retention sweeps, reconciliation and reports.

use crate::aio::{Call, on_own_thread};
use crate::convert::{datetime, duration, inventory_options, opt_micros, path, py_to_json};
use crate::errors::{OrRaise, invalid_input};
use crate::pages::{AuditIterator, FileIterator, JobIterator};
use crate::records::{FeedReport, IngestReport, Job, RehydrateReport, Rejection, Share};
use crate::rules::{Plan, RuleSet};
use crate::upkeep::{
    MaintainReport, ReconcileReport, Report, TenantSettings, merge_settings, settings_map,
};
use alto::store::tiering::JobQuery;
use alto::store::{FileQuery, ShareSpec};
use alto::time::now_micros;
use alto::{
    AuditQuery, FeedRequest, IngestRequest, PlanRequest, ReconcileRequest, ReportRequest,
    TenantHandle, TierState,
};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString, PyTuple};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, RwLock};

/// One tenant: its shares, files, plans, jobs, feeds, audit trail and upkeep.
#[pyclass(module = "alto", frozen)]
pub(crate) struct Tenant {
    /// The handle; `set_settings` replaces it with one that holds the new settings (the feeds
    /// read their policies from it).
    handle: Arc<RwLock<TenantHandle>>,
}

impl Tenant {
    pub(crate) fn new(handle: TenantHandle) -> Self {
        Tenant {
            handle: Arc::new(RwLock::new(handle)),
        }
    }

    fn handle(&self) -> TenantHandle {
        self.handle
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

/// `top=` of `Tenant.report`: the signature's default is the SDK's.
const _: () = assert!(alto::report::DEFAULT_TOP_N == 20);

/// `kind=` of `Tenant.audit`: one kind (or family) as a `str`, or a list or tuple of them.
fn kinds(kind: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<String>> {
    let Some(kind) = kind.filter(|k| !k.is_none()) else {
        return Ok(Vec::new());
    };
    if let Ok(k) = kind.cast::<PyString>() {
        return Ok(vec![k.to_cow()?.into_owned()]);
    }
    let not = |what: &Bound<'_, PyAny>, at: &str| -> PyResult<PyErr> {
        Ok(PyTypeError::new_err(format!(
            "kind must be a str or a list of str, not {}{at}",
            what.get_type().name()?
        )))
    };
    if !(kind.is_instance_of::<PyList>() || kind.is_instance_of::<PyTuple>()) {
        return Err(not(kind, "")?);
    }
    let mut kinds = Vec::new();
    for (i, k) in kind.try_iter()?.enumerate() {
        let k = k?;
        match k.cast::<PyString>() {
            Ok(s) => kinds.push(s.to_cow()?.into_owned()),
            Err(_) => return Err(not(&k, &format!(" (item {i})"))?),
        }
    }
    Ok(kinds)
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
    fn name(&self) -> String {
        self.handle().name().to_owned()
    }

    /// The tenant's id in the store.
    #[getter]
    fn id(&self) -> String {
        self.handle().record().id.to_string()
    }

    /// When the tenant was created.
    #[getter]
    fn created(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        datetime(py, self.handle().record().created)
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
        self.creating_share(py, name, root, kind, case_sensitive)?
            .wait(py)
    }

    /// [`create_share`](Self::create_share) as an awaitable.
    #[pyo3(signature = (name, root=None, kind="posix", case_sensitive=None))]
    fn create_share_async<'py>(
        &self,
        py: Python<'py>,
        name: &str,
        root: Option<String>,
        kind: &str,
        case_sensitive: Option<bool>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.creating_share(py, name, root, kind, case_sensitive)?
            .spawn(py)
    }

    /// The tenant's shares.
    fn shares(&self, py: Python<'_>) -> PyResult<Vec<Share>> {
        self.listing_shares().wait(py)
    }

    /// [`shares`](Self::shares) as an awaitable.
    fn shares_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.listing_shares().spawn(py)
    }

    /// Set (or clear, with `None`) a share's root on the workers' hosts.
    #[pyo3(signature = (share, root))]
    fn set_share_root(
        &self,
        py: Python<'_>,
        share: String,
        root: Option<String>,
    ) -> PyResult<Share> {
        self.rooting(share, root).wait(py)
    }

    /// [`set_share_root`](Self::set_share_root) as an awaitable.
    #[pyo3(signature = (share, root))]
    fn set_share_root_async<'py>(
        &self,
        py: Python<'py>,
        share: String,
        root: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.rooting(share, root).spawn(py)
    }

    /// Ingest the inventory (CSV or Parquet) at `path` into `share` (created when missing).
    /// A full scan marks the share's files not in the inventory missing.
    #[pyo3(signature = (share, path, full_scan=false, column_map=None))]
    fn ingest(
        &self,
        py: Python<'_>,
        share: String,
        path: &Bound<'_, PyAny>,
        full_scan: bool,
        column_map: Option<BTreeMap<String, String>>,
    ) -> PyResult<IngestReport> {
        self.ingesting(py, share, path, full_scan, column_map)?
            .wait(py)
    }

    /// [`ingest`](Self::ingest) as an awaitable.
    #[pyo3(signature = (share, path, full_scan=false, column_map=None))]
    fn ingest_async<'py>(
        &self,
        py: Python<'py>,
        share: String,
        path: &Bound<'_, PyAny>,
        full_scan: bool,
        column_map: Option<BTreeMap<String, String>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.ingesting(py, share, path, full_scan, column_map)?
            .spawn(py)
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
        self.planning(&rules, now, commit)?.wait(py)
    }

    /// [`plan`](Self::plan) as an awaitable.
    #[pyo3(signature = (rules, now=None, commit=false))]
    fn plan_async<'py>(
        &self,
        py: Python<'py>,
        rules: PyRef<'_, RuleSet>,
        now: Option<&Bound<'_, PyAny>>,
        commit: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.planning(&rules, now, commit)?.spawn(py)
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
        FileIterator::new(py, self.handle().files(q), after)
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
        JobIterator::new(py, self.handle().jobs(q), after)
    }

    /// The tenant's audit trail in read order (commit order), optionally only the events of
    /// `kind` (a kind such as `"tier.stub"` or a family such as `"tier.*"`, or a list of them),
    /// about `subject` (exactly), at or after `since` and before `until` (timezone-aware
    /// `datetime`s), or the children of the event `children`; `after` resumes from a cursor.
    #[pyo3(signature = (after=None, kind=None, subject=None, since=None, until=None, children=None))]
    #[allow(clippy::too_many_arguments)]
    fn audit(
        &self,
        py: Python<'_>,
        after: Option<&str>,
        kind: Option<&Bound<'_, PyAny>>,
        subject: Option<String>,
        since: Option<&Bound<'_, PyAny>>,
        until: Option<&Bound<'_, PyAny>>,
        children: Option<i64>,
    ) -> PyResult<AuditIterator> {
        let q = AuditQuery {
            kinds: kinds(kind)?,
            subject,
            since: opt_micros("since", since)?,
            until: opt_micros("until", until)?,
            parent: children,
            ..AuditQuery::default()
        };
        AuditIterator::new(py, self.handle().audit_query(q), after)
    }

    /// Cancel a queued or running job.
    fn cancel_job(&self, py: Python<'_>, job: i64) -> PyResult<Job> {
        self.cancelling(job).wait(py)
    }

    /// [`cancel_job`](Self::cancel_job) as an awaitable.
    fn cancel_job_async<'py>(&self, py: Python<'py>, job: i64) -> PyResult<Bound<'py, PyAny>> {
        self.cancelling(job).spawn(py)
    }

    /// Bring the stubbed file at `path` of `share` back.
    fn rehydrate(&self, py: Python<'_>, share: String, path: String) -> PyResult<RehydrateReport> {
        self.rehydrating(share, path).wait(py)
    }

    /// [`rehydrate`](Self::rehydrate) as an awaitable.
    fn rehydrate_async<'py>(
        &self,
        py: Python<'py>,
        share: String,
        path: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.rehydrating(share, path).spawn(py)
    }

    /// Apply an access-event batch to `share`: a `dict` in the `alto feed events` format
    /// (`{"update_batch_id": ..., "updates": [...]}`), or the path of a file holding one.
    fn apply_events(
        &self,
        py: Python<'_>,
        share: String,
        batch: &Bound<'_, PyAny>,
    ) -> PyResult<FeedReport> {
        self.applying(share, batch)?.wait(py)
    }

    /// [`apply_events`](Self::apply_events) as an awaitable.
    fn apply_events_async<'py>(
        &self,
        py: Python<'py>,
        share: String,
        batch: &Bound<'_, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.applying(share, batch)?.spawn(py)
    }

    /// One pass over a LucidLink `.lucid_audit` tree at `root` for `share`, from where the
    /// last pass stopped.
    fn follow_lucid(
        &self,
        py: Python<'_>,
        share: String,
        root: &Bound<'_, PyAny>,
    ) -> PyResult<FeedReport> {
        self.following(share, root)?.wait(py)
    }

    /// [`follow_lucid`](Self::follow_lucid) as an awaitable.
    fn follow_lucid_async<'py>(
        &self,
        py: Python<'py>,
        share: String,
        root: &Bound<'_, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.following(share, root)?.spawn(py)
    }

    /// The tenant's settings, as this object last read or set them (`Alto.tenant(name)` reads
    /// them afresh).
    #[getter]
    fn settings(&self) -> TenantSettings {
        self.handle().record().settings.clone().into()
    }

    /// Change the settings named (`planned_retention_days=0`, `rehydrated_retention_days=None`
    /// to keep REHYDRATED records, …: `create_tenant`'s keywords); the others keep their stored
    /// values. Returns the settings now in force, which `settings` gives from then on.
    #[pyo3(signature = (**settings))]
    fn set_settings(
        &self,
        py: Python<'_>,
        settings: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<TenantSettings> {
        self.setting(py, settings)?.wait(py)
    }

    /// [`set_settings`](Self::set_settings) as an awaitable.
    #[pyo3(signature = (**settings))]
    fn set_settings_async<'py>(
        &self,
        py: Python<'py>,
        settings: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.setting(py, settings)?.spawn(py)
    }

    /// Apply the tenant's retention settings now (`alto maintain`): expire old plans, remove old
    /// REHYDRATED and DELETED records, finished jobs and feed bookkeeping. With `dry_run`,
    /// count only. Never touches a user file or a STUBBED record.
    #[pyo3(signature = (dry_run=false))]
    fn maintain(&self, py: Python<'_>, dry_run: bool) -> PyResult<MaintainReport> {
        self.maintaining(dry_run).wait(py)
    }

    /// [`maintain`](Self::maintain) as an awaitable.
    #[pyo3(signature = (dry_run=false))]
    fn maintain_async<'py>(&self, py: Python<'py>, dry_run: bool) -> PyResult<Bound<'py, PyAny>> {
        self.maintaining(dry_run).spawn(py)
    }

    /// Compare the catalogue with what the tier targets and the shares' roots hold
    /// (`alto reconcile`): flag stubbed files whose object is gone or not as recorded (LOST),
    /// report objects nothing refers to (orphans; deleted only with `apply`, when they may be)
    /// and stubs the catalogue does not know. `grace` (a `timedelta` or seconds; default 7
    /// days, at least an hour): orphans younger than that are kept, counted back from `now`.
    #[pyo3(signature = (share=None, apply=false, grace=None, verify_content=false, targets=None, now=None))]
    #[allow(clippy::too_many_arguments)]
    fn reconcile(
        &self,
        py: Python<'_>,
        share: Option<String>,
        apply: bool,
        grace: Option<&Bound<'_, PyAny>>,
        verify_content: bool,
        targets: Option<Vec<String>>,
        now: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<ReconcileReport> {
        self.reconciling(share, apply, grace, verify_content, targets, now)?
            .wait(py)
    }

    /// [`reconcile`](Self::reconcile) as an awaitable.
    #[pyo3(signature = (share=None, apply=false, grace=None, verify_content=false, targets=None, now=None))]
    #[allow(clippy::too_many_arguments)]
    fn reconcile_async<'py>(
        &self,
        py: Python<'py>,
        share: Option<String>,
        apply: bool,
        grace: Option<&Bound<'_, PyAny>>,
        verify_content: bool,
        targets: Option<Vec<String>>,
        now: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.reconciling(share, apply, grace, verify_content, targets, now)?
            .spawn(py)
    }

    /// A report on the tenant's files (of `share`), as `alto report` makes it: totals, space
    /// saved and planned, breakdowns, the `top` largest and oldest files, and with `rules`
    /// what that rule set would tier at `now` (`rules_source` names it). Writes nothing.
    #[pyo3(signature = (share=None, now=None, top=20, rules=None, rules_source=None))]
    fn report(
        &self,
        py: Python<'_>,
        share: Option<String>,
        now: Option<&Bound<'_, PyAny>>,
        top: usize,
        rules: Option<PyRef<'_, RuleSet>>,
        rules_source: Option<String>,
    ) -> PyResult<Report> {
        self.reporting(share, now, top, rules.as_deref(), rules_source)?
            .wait(py)
    }

    /// [`report`](Self::report) as an awaitable.
    #[pyo3(signature = (share=None, now=None, top=20, rules=None, rules_source=None))]
    fn report_async<'py>(
        &self,
        py: Python<'py>,
        share: Option<String>,
        now: Option<&Bound<'_, PyAny>>,
        top: usize,
        rules: Option<PyRef<'_, RuleSet>>,
        rules_source: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.reporting(share, now, top, rules.as_deref(), rules_source)?
            .spawn(py)
    }

    fn __repr__(&self) -> String {
        format!("Tenant(name={:?})", self.handle().name())
    }
}

/// Each call's work and result, shared by the blocking method and its `*_async` twin.
impl Tenant {
    fn creating_share(
        &self,
        py: Python<'_>,
        name: &str,
        root: Option<String>,
        kind: &str,
        case_sensitive: Option<bool>,
    ) -> PyResult<Call<alto::Share, Share>> {
        let mut spec = ShareSpec::new(name, share_kind(py, kind)?);
        spec.root = root;
        spec.case_sensitive = case_sensitive;
        let h = self.handle();
        Ok(Call::new(
            async move { h.create_share(&spec).await },
            |_, s| Ok(s.into()),
        ))
    }

    fn listing_shares(&self) -> Call<Vec<alto::Share>, Vec<Share>> {
        let h = self.handle();
        Call::new(async move { h.shares().await }, |_, shares| {
            Ok(shares.into_iter().map(Share::from).collect())
        })
    }

    fn rooting(&self, share: String, root: Option<String>) -> Call<alto::Share, Share> {
        let h = self.handle();
        Call::new(
            async move { h.set_share_root(&share, root.as_deref()).await },
            |_, s| Ok(s.into()),
        )
    }

    fn ingesting(
        &self,
        py: Python<'_>,
        share: String,
        path: &Bound<'_, PyAny>,
        full_scan: bool,
        column_map: Option<BTreeMap<String, String>>,
    ) -> PyResult<Call<alto::ingest::IngestReport, IngestReport>> {
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
        let h = self.handle();
        Ok(Call::new(
            async move { h.ingest(&share, &p, &req).await },
            move |py, report| {
                let rejections =
                    std::mem::take(&mut *rejections.lock().unwrap_or_else(|p| p.into_inner()));
                IngestReport::new(py, report, rejections)
            },
        ))
    }

    fn planning(
        &self,
        rules: &RuleSet,
        now: Option<&Bound<'_, PyAny>>,
        commit: bool,
    ) -> PyResult<Call<alto::PlanOutcome, Plan>> {
        let req = match opt_micros("now", now)? {
            Some(t) => PlanRequest::at(t),
            None => PlanRequest::default(),
        }
        .commit(commit);
        let set = rules.rules.clone();
        let h = self.handle();
        Ok(Call::new(
            async move { h.plan(&set, &req).await },
            |_, out| Ok(Plan::new(out.report, out.committed)),
        ))
    }

    fn cancelling(&self, job: i64) -> Call<alto::Job, Job> {
        let h = self.handle();
        Call::new(async move { h.cancel_job(job).await }, Job::new)
    }

    fn rehydrating(
        &self,
        share: String,
        path: String,
    ) -> Call<alto::worker::RehydrateReport, RehydrateReport> {
        let h = self.handle();
        Call::new(async move { h.rehydrate(&share, &path).await }, |_, r| {
            Ok(r.into())
        })
    }

    fn applying(
        &self,
        share: String,
        batch: &Bound<'_, PyAny>,
    ) -> PyResult<Call<alto::feed::apply::FeedReport, FeedReport>> {
        let opts = FeedRequest::default();
        let h = self.handle();
        let finish = |_: Python<'_>, r: alto::feed::apply::FeedReport| Ok(r.into());
        Ok(if batch.is_instance_of::<PyDict>() {
            let text = py_to_json("the batch", batch)?.to_string();
            Call::new(
                async move { h.apply_batch(&share, &text, "batch", &opts).await },
                finish,
            )
        } else {
            let p = self::path(batch)?;
            Call::new(
                async move { h.apply_batch_file(&share, &p, &opts).await },
                finish,
            )
        })
    }

    fn following(
        &self,
        share: String,
        root: &Bound<'_, PyAny>,
    ) -> PyResult<Call<alto::feed::apply::FeedReport, FeedReport>> {
        let p = self::path(root)?;
        let opts = FeedRequest::default();
        let h = self.handle();
        // The pass holds its callback as a `dyn FnMut` that is not `Send`: it runs on a thread
        // of its own.
        let pass =
            on_own_thread(
                move || async move { h.follow_lucid(&share, &p, &opts, &mut |_| {}).await },
            );
        Ok(Call::new(pass, |_, r| Ok(r.into())))
    }

    fn setting(
        &self,
        py: Python<'_>,
        settings: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Call<TenantSettings, TenantSettings>> {
        let given = settings_map(py, settings)?;
        let h = self.handle();
        let slot = self.handle.clone();
        Ok(Call::new(
            async move {
                // Over the settings as stored now, not as this handle was made: another
                // process may have changed some since.
                let current = h.alto().tenant(h.name()).await?;
                let settings = merge_settings(&current.record().settings, &given)?;
                let updated = current.set_settings(&settings).await?;
                let settings = updated.record().settings.clone();
                *slot.write().unwrap_or_else(|p| p.into_inner()) = updated;
                Ok(settings.into())
            },
            |_, s| Ok(s),
        ))
    }

    fn maintaining(&self, dry_run: bool) -> Call<alto::maintain::MaintainReport, MaintainReport> {
        let h = self.handle();
        Call::new(
            async move { h.maintain(dry_run).await },
            |_, r| Ok(r.into()),
        )
    }

    fn reconciling(
        &self,
        share: Option<String>,
        apply: bool,
        grace: Option<&Bound<'_, PyAny>>,
        verify_content: bool,
        targets: Option<Vec<String>>,
        now: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Call<alto::ReconcileReport, ReconcileReport>> {
        let mut req = ReconcileRequest::default()
            .apply(apply)
            .verify_content(verify_content);
        if let Some(s) = share {
            req = req.share(s);
        }
        if let Some(g) = grace.filter(|g| !g.is_none()) {
            req = req.grace(duration("grace", g)?);
        }
        for t in targets.unwrap_or_default() {
            req = req.target(t);
        }
        if let Some(t) = opt_micros("now", now)? {
            req = req.at(t);
        }
        let h = self.handle();
        Ok(Call::new(async move { h.reconcile(&req).await }, |_, r| {
            Ok(r.into())
        }))
    }

    fn reporting(
        &self,
        share: Option<String>,
        now: Option<&Bound<'_, PyAny>>,
        top: usize,
        rules: Option<&RuleSet>,
        rules_source: Option<String>,
    ) -> PyResult<Call<alto::report::Report, Report>> {
        let now = opt_micros("now", now)?.unwrap_or_else(now_micros);
        let mut req = ReportRequest::default().at(now).top(top);
        if let Some(s) = share {
            req = req.share(s);
        }
        if let Some(r) = rules {
            req = req.what_if(r.rules.clone(), rules_source);
        }
        let h = self.handle();
        Ok(Call::new(
            async move { h.report(&req).await },
            move |_, r| Ok(Report::new(r, now)),
        ))
    }
}
