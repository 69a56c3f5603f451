//! What the handle returns, as read-only Python objects: files, jobs, audit events, shares and
//! the reports of ingest, workers, rehydration and feeds. Times are UTC `datetime`s, states the
//! strings the CLI prints, an audit event's detail a `dict` and its actor an [`Actor`].

use crate::convert::{datetime, json_to_py, opt_datetime, to_py};
use pyo3::prelude::*;

/// Add the record classes to the module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<File>()?;
    m.add_class::<Job>()?;
    m.add_class::<AuditEvent>()?;
    m.add_class::<Actor>()?;
    m.add_class::<Share>()?;
    m.add_class::<Rejection>()?;
    m.add_class::<IngestReport>()?;
    m.add_class::<RunReport>()?;
    m.add_class::<RehydrateReport>()?;
    m.add_class::<FeedReport>()?;
    Ok(())
}

/// A file the store knows (`Tenant.files()`).
#[pyclass(module = "alto", frozen, get_all)]
pub(crate) struct File {
    share: String,
    path: String,
    path_key: String,
    size: u64,
    modified: Option<Py<PyAny>>,
    accessed: Option<Py<PyAny>>,
    extension: Option<String>,
    owner: Option<String>,
    permissions: Option<String>,
    hash: Option<String>,
    accessed_source: String,
    missing_since: Option<Py<PyAny>>,
    state: Option<String>,
    lost: Option<String>,
    lost_at: Option<Py<PyAny>>,
}

impl File {
    pub(crate) fn new(py: Python<'_>, f: alto::FileRecord) -> PyResult<Self> {
        Ok(File {
            modified: opt_datetime(py, f.entry.modified)?,
            accessed: opt_datetime(py, f.entry.accessed)?,
            missing_since: opt_datetime(py, f.missing_since)?,
            accessed_source: f.accessed_source.as_str().to_owned(),
            state: f.state.map(|s| s.as_str().to_owned()),
            lost: f.lost.map(|l| l.reason.as_str().to_owned()),
            lost_at: opt_datetime(py, f.lost.map(|l| l.at))?,
            share: f.share,
            path: f.entry.path,
            path_key: f.path_key,
            size: f.entry.size,
            extension: f.entry.extension,
            owner: f.entry.owner,
            permissions: f.entry.permissions,
            hash: f.entry.hash,
        })
    }
}

#[pymethods]
impl File {
    fn __repr__(&self) -> String {
        format!(
            "File(share={:?}, path={:?}, size={}, state={:?})",
            self.share, self.path, self.size, self.state
        )
    }
}

/// A tiering job (`Tenant.jobs()`); `state` as `alto jobs` prints it (`"queued"`, `"done"`, …).
#[pyclass(module = "alto", frozen, get_all)]
pub(crate) struct Job {
    id: i64,
    rule: String,
    target: String,
    priority: i64,
    state: String,
    files: u64,
    bytes: u64,
    bytes_saved: u64,
    estimated_seconds: f64,
    attempts: u32,
    last_error: Option<String>,
    not_before: Option<Py<PyAny>>,
    worker: Option<String>,
    lease_expires: Option<Py<PyAny>>,
    files_stubbed: u64,
    files_skipped: u64,
    files_failed: u64,
    bytes_moved: u64,
    event: Option<i64>,
}

impl Job {
    pub(crate) fn new(py: Python<'_>, j: alto::Job) -> PyResult<Self> {
        Ok(Job {
            not_before: opt_datetime(py, j.not_before)?,
            lease_expires: opt_datetime(py, j.lease_expires)?,
            state: j.state.as_str().to_owned(),
            id: j.id,
            rule: j.rule,
            target: j.target,
            priority: j.priority,
            files: j.estimate.files,
            bytes: j.estimate.bytes,
            bytes_saved: j.estimate.bytes_saved,
            estimated_seconds: j.estimate.seconds,
            attempts: j.attempts,
            last_error: j.last_error,
            worker: j.worker,
            files_stubbed: j.files_stubbed,
            files_skipped: j.files_skipped,
            files_failed: j.files_failed,
            bytes_moved: j.bytes_moved,
            event: j.event,
        })
    }
}

#[pymethods]
impl Job {
    fn __repr__(&self) -> String {
        format!(
            "Job(id={}, rule={:?}, state={:?}, files={})",
            self.id, self.rule, self.state, self.files
        )
    }
}

/// One entry of a tenant's audit trail (`Tenant.audit()`).
#[pyclass(module = "alto", frozen, get_all)]
pub(crate) struct AuditEvent {
    id: i64,
    at: Py<PyAny>,
    kind: String,
    subject: String,
    detail: Py<PyAny>,
    parent: Option<i64>,
    actor: Py<Actor>,
}

impl AuditEvent {
    pub(crate) fn new(py: Python<'_>, e: alto::AuditEvent) -> PyResult<Self> {
        Ok(AuditEvent {
            at: datetime(py, e.at)?,
            detail: json_to_py(py, &e.detail)?,
            actor: Py::new(py, Actor::from(e.actor))?,
            id: e.id,
            kind: e.kind,
            subject: e.subject,
            parent: e.parent,
        })
    }
}

#[pymethods]
impl AuditEvent {
    fn __repr__(&self) -> String {
        format!(
            "AuditEvent(id={}, kind={:?}, subject={:?})",
            self.id, self.kind, self.subject
        )
    }
}

/// Who wrote an audit event: the writing process's account of itself (OS user and uid, host,
/// program and pid; empty or `None` when unknown), the interface it wrote through (`source`:
/// `"python"`, `"node"`, `"sdk"`, `"cli:run"`, …) and on PostgreSQL the database login
/// (`db_user`), which the database fills in.
#[pyclass(module = "alto", frozen)]
pub(crate) struct Actor {
    actor: alto::Actor,
}

impl From<alto::Actor> for Actor {
    fn from(actor: alto::Actor) -> Self {
        Actor { actor }
    }
}

#[pymethods]
impl Actor {
    /// The operating-system user name (`""` when unknown).
    #[getter]
    fn user(&self) -> &str {
        &self.actor.user
    }

    /// The operating-system user id.
    #[getter]
    fn uid(&self) -> Option<u32> {
        self.actor.uid
    }

    /// The host name (`""` when unknown).
    #[getter]
    fn host(&self) -> &str {
        &self.actor.host
    }

    /// The program (`python3.12`, `node`, `alto`…; `""` when unknown).
    #[getter]
    fn process(&self) -> &str {
        &self.actor.process
    }

    /// The process id.
    #[getter]
    fn pid(&self) -> Option<u32> {
        self.actor.pid
    }

    /// The interface the event was written through: `"python"`, `"node"`, `"sdk"`,
    /// `"cli:<command>"`, or what `connect(source=...)` named (`""` when unknown).
    #[getter]
    fn source(&self) -> &str {
        &self.actor.source
    }

    /// PostgreSQL only: the database login that wrote it (filled in by the database).
    #[getter]
    fn db_user(&self) -> Option<&str> {
        self.actor.db_user.as_deref()
    }

    /// The fields that are known, as `alto audit --format json` prints the actor.
    fn to_dict(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        to_py(py, &self.actor)
    }

    fn __repr__(&self) -> String {
        let a = &self.actor;
        let pid = a.pid.map_or_else(|| "None".to_owned(), |p| p.to_string());
        let db_user = a
            .db_user
            .as_ref()
            .map_or_else(|| "None".to_owned(), |u| format!("{u:?}"));
        format!(
            "Actor(user={:?}, host={:?}, pid={pid}, source={:?}, db_user={db_user})",
            a.user, a.host, a.source
        )
    }
}

/// A share of a tenant: a volume whose files Alto tiers.
#[pyclass(module = "alto", frozen, get_all)]
pub(crate) struct Share {
    id: i64,
    name: String,
    kind: String,
    case_sensitive: bool,
    root: Option<String>,
    mount_root: Option<String>,
}

impl From<alto::Share> for Share {
    fn from(s: alto::Share) -> Self {
        Share {
            id: s.id,
            kind: s.kind.as_str().to_owned(),
            name: s.name,
            case_sensitive: s.case_sensitive,
            root: s.root,
            mount_root: s.mount_root,
        }
    }
}

#[pymethods]
impl Share {
    fn __repr__(&self) -> String {
        format!(
            "Share(name={:?}, kind={:?}, root={:?})",
            self.name, self.kind, self.root
        )
    }
}

/// An inventory row that was not accepted.
#[pyclass(module = "alto", frozen, get_all)]
pub(crate) struct Rejection {
    file: String,
    line: u64,
    column: Option<String>,
    reason: String,
}

impl From<&alto::inventory::Rejection> for Rejection {
    fn from(r: &alto::inventory::Rejection) -> Self {
        Rejection {
            file: r.source.clone(),
            line: r.line,
            column: r.column.map(str::to_owned),
            reason: r.reason.clone(),
        }
    }
}

#[pymethods]
impl Rejection {
    fn __repr__(&self) -> String {
        format!(
            "Rejection(file={:?}, line={}, column={:?}, reason={:?})",
            self.file, self.line, self.column, self.reason
        )
    }
}

/// What `Tenant.ingest` did.
#[pyclass(module = "alto", frozen, get_all)]
pub(crate) struct IngestReport {
    scan: i64,
    resumed: bool,
    accepted: u64,
    rejected: u64,
    new: u64,
    changed: u64,
    unchanged: u64,
    missing: u64,
    rejections: Vec<Py<Rejection>>,
}

impl IngestReport {
    pub(crate) fn new(
        py: Python<'_>,
        r: alto::ingest::IngestReport,
        rejections: Vec<Rejection>,
    ) -> PyResult<Self> {
        Ok(IngestReport {
            scan: r.scan,
            resumed: r.resumed,
            accepted: r.accepted,
            rejected: r.rejected,
            new: r.new,
            changed: r.changed,
            unchanged: r.unchanged,
            missing: r.missing,
            rejections: rejections
                .into_iter()
                .map(|x| Py::new(py, x))
                .collect::<PyResult<_>>()?,
        })
    }
}

#[pymethods]
impl IngestReport {
    fn __repr__(&self) -> String {
        format!(
            "IngestReport(accepted={}, rejected={}, new={}, changed={}, unchanged={}, missing={})",
            self.accepted, self.rejected, self.new, self.changed, self.unchanged, self.missing
        )
    }
}

/// What `Alto.run_workers` did.
#[pyclass(module = "alto", frozen, get_all)]
pub(crate) struct RunReport {
    jobs: u64,
    stubbed: u64,
    skipped: u64,
    failed: u64,
    bytes: u64,
    errors: Vec<String>,
}

impl From<alto::RunReport> for RunReport {
    fn from(r: alto::RunReport) -> Self {
        RunReport {
            jobs: r.jobs,
            stubbed: r.stubbed,
            skipped: r.skipped,
            failed: r.failed,
            bytes: r.bytes,
            errors: r.errors,
        }
    }
}

#[pymethods]
impl RunReport {
    fn __repr__(&self) -> String {
        format!(
            "RunReport(jobs={}, stubbed={}, skipped={}, failed={}, bytes={})",
            self.jobs, self.stubbed, self.skipped, self.failed, self.bytes
        )
    }
}

/// What `Tenant.rehydrate` did.
#[pyclass(module = "alto", frozen, get_all)]
pub(crate) struct RehydrateReport {
    rehydrated: u64,
    bytes: u64,
    errors: Vec<String>,
}

impl From<alto::worker::RehydrateReport> for RehydrateReport {
    fn from(r: alto::worker::RehydrateReport) -> Self {
        RehydrateReport {
            rehydrated: r.rehydrated,
            bytes: r.bytes,
            errors: r.errors,
        }
    }
}

#[pymethods]
impl RehydrateReport {
    fn __repr__(&self) -> String {
        format!(
            "RehydrateReport(rehydrated={}, bytes={})",
            self.rehydrated, self.bytes
        )
    }
}

/// What `Tenant.apply_events` or `Tenant.follow_lucid` did (`to_dict()` has every counter).
#[pyclass(module = "alto", frozen)]
pub(crate) struct FeedReport {
    #[pyo3(get)]
    read: u64,
    #[pyo3(get)]
    applied: u64,
    #[pyo3(get)]
    duplicate: u64,
    #[pyo3(get)]
    unknown: u64,
    #[pyo3(get)]
    malformed: u64,
    #[pyo3(get)]
    rehydrated: u64,
    report: alto::feed::apply::FeedReport,
}

impl From<alto::feed::apply::FeedReport> for FeedReport {
    fn from(r: alto::feed::apply::FeedReport) -> Self {
        FeedReport {
            read: r.read,
            applied: r.applied,
            duplicate: r.duplicate,
            unknown: r.unknown,
            malformed: r.malformed,
            rehydrated: r.rehydrated,
            report: r,
        }
    }
}

#[pymethods]
impl FeedReport {
    /// Every counter, as `alto feed` prints them in JSON.
    fn to_dict(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        to_py(py, &self.report)
    }

    fn __repr__(&self) -> String {
        format!(
            "FeedReport(read={}, applied={}, duplicate={}, unknown={}, malformed={})",
            self.read, self.applied, self.duplicate, self.unknown, self.malformed
        )
    }
}
