//! The tenant's upkeep, as read-only Python objects: its settings (`Tenant.settings`), what a
//! retention sweep did (`Tenant.maintain`), what a reconciliation found (`Tenant.reconcile`) and
//! a report on its files (`Tenant.report`). Each has `to_dict()`: the JSON the `alto` command
//! prints for it. The attributes hold the same values, with times as UTC `datetime`s.

use crate::convert::{datetime, opt_datetime, to_py};
use crate::errors::invalid_input;
use alto::report::ReportFile;
use alto::time::Micros;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

/// Add the classes to the module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<TenantSettings>()?;
    m.add_class::<MaintainReport>()?;
    m.add_class::<ReconcileReport>()?;
    m.add_class::<Report>()?;
    Ok(())
}

/// The name serde gives a policy (`"queue"`, `"alert"`, …).
fn policy_name<T: serde::Serialize>(p: &T) -> String {
    serde_json::to_value(p)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// A tenant's settings (`Tenant.settings`, `Tenant.set_settings`): retention, feed policies and
/// snapshot history. The names are `create_tenant`'s and `set_settings`'s keywords.
#[pyclass(module = "alto", frozen)]
pub(crate) struct TenantSettings {
    #[pyo3(get)]
    keep_history: bool,
    #[pyo3(get)]
    history_scans: Option<u32>,
    #[pyo3(get)]
    planned_retention_days: u32,
    #[pyo3(get)]
    rehydrated_retention_days: Option<u32>,
    #[pyo3(get)]
    deleted_retention_days: Option<u32>,
    #[pyo3(get)]
    job_retention_days: Option<u32>,
    #[pyo3(get)]
    feed_staging_hours: u32,
    #[pyo3(get)]
    unknown_paths: String,
    #[pyo3(get)]
    stub_access: String,
    settings: alto::TenantSettings,
}

impl From<alto::TenantSettings> for TenantSettings {
    fn from(s: alto::TenantSettings) -> Self {
        TenantSettings {
            keep_history: s.keep_history,
            history_scans: s.history_scans,
            planned_retention_days: s.planned_retention_days,
            rehydrated_retention_days: s.rehydrated_retention_days,
            deleted_retention_days: s.deleted_retention_days,
            job_retention_days: s.job_retention_days,
            feed_staging_hours: s.feed_staging_hours,
            unknown_paths: policy_name(&s.unknown_paths),
            stub_access: policy_name(&s.stub_access),
            settings: s,
        }
    }
}

#[pymethods]
impl TenantSettings {
    /// Every setting by its keyword name (`set_settings(**s.to_dict())` sets them all).
    fn to_dict(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        to_py(py, &self.settings)
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other
            .cast::<TenantSettings>()
            .is_ok_and(|o| o.get().settings == self.settings)
    }

    fn __repr__(&self) -> String {
        let opt = |v: Option<u32>| v.map_or_else(|| "None".to_owned(), |d| d.to_string());
        format!(
            "TenantSettings(planned_retention_days={}, rehydrated_retention_days={}, \
             deleted_retention_days={}, job_retention_days={}, feed_staging_hours={}, \
             unknown_paths={:?}, stub_access={:?})",
            self.planned_retention_days,
            opt(self.rehydrated_retention_days),
            opt(self.deleted_retention_days),
            opt(self.job_retention_days),
            self.feed_staging_hours,
            self.unknown_paths,
            self.stub_access
        )
    }
}

/// The settings `base` with the keywords of `given` changed. Unknown names are refused, not
/// ignored: a misspelt setting would silently keep its value.
pub(crate) fn merge_settings(
    base: &alto::TenantSettings,
    given: &serde_json::Map<String, serde_json::Value>,
) -> alto::Result<alto::TenantSettings> {
    let mut value =
        serde_json::to_value(base).map_err(|e| alto::Error::invalid_input(e.to_string()))?;
    let known = value
        .as_object_mut()
        .ok_or_else(|| alto::Error::invalid_input("the tenant settings are not an object"))?;
    if let Some(k) = given.keys().find(|k| !known.contains_key(*k)) {
        let names: Vec<_> = known.keys().map(String::as_str).collect();
        return Err(alto::Error::invalid_input(format!(
            "unknown tenant setting {k:?} (settings: {})",
            names.join(", ")
        )));
    }
    for (k, v) in given {
        known.insert(k.clone(), v.clone());
    }
    serde_json::from_value(value)
        .map_err(|e| alto::Error::invalid_input(format!("tenant settings: {e}")))
}

/// The keywords of a `**settings` call as a JSON object.
pub(crate) fn settings_map(
    py: Python<'_>,
    settings: Option<&Bound<'_, PyDict>>,
) -> PyResult<serde_json::Map<String, serde_json::Value>> {
    match settings {
        Some(s) if !s.is_empty() => match crate::convert::py_to_json("the tenant settings", s)? {
            serde_json::Value::Object(m) => Ok(m),
            _ => Err(invalid_input(py, "the tenant settings are not keywords")),
        },
        _ => Ok(serde_json::Map::new()),
    }
}

/// What `Tenant.maintain` did (or, dry, would do).
#[pyclass(module = "alto", frozen)]
pub(crate) struct MaintainReport {
    report: alto::maintain::MaintainReport,
}

impl From<alto::maintain::MaintainReport> for MaintainReport {
    fn from(report: alto::maintain::MaintainReport) -> Self {
        MaintainReport { report }
    }
}

#[pymethods]
impl MaintainReport {
    /// The tenant.
    #[getter]
    fn tenant(&self) -> &str {
        &self.report.tenant
    }
    /// Whether it only counted.
    #[getter]
    fn dry_run(&self) -> bool {
        self.report.dry_run
    }
    /// PLANNED objects whose plans expired (withdrawn).
    #[getter]
    fn planned_expired(&self) -> u64 {
        self.report.planned_expired
    }
    /// Expired plans left alone because the file changed during the sweep.
    #[getter]
    fn planned_skipped(&self) -> u64 {
        self.report.planned_skipped
    }
    /// What the store removed: `{"rehydrated", "deleted", "jobs", "feed_events",
    /// "snapshot_rows"}`.
    #[getter]
    fn pruned(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        to_py(py, &self.report.pruned)
    }
    /// The sweep's `maintain.sweep` audit event (`None` when dry).
    #[getter]
    fn event(&self) -> Option<i64> {
        self.report.event
    }
    /// The report as `alto maintain --json` prints it.
    fn to_dict(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        to_py(py, &self.report)
    }
    fn __repr__(&self) -> String {
        let p = &self.report.pruned;
        format!(
            "MaintainReport(dry_run={}, planned_expired={}, planned_skipped={}, pruned=(rehydrated={}, \
             deleted={}, jobs={}, feed_events={}, snapshot_rows={}), event={:?})",
            if self.report.dry_run { "True" } else { "False" },
            self.report.planned_expired,
            self.report.planned_skipped,
            p.rehydrated,
            p.deleted,
            p.jobs,
            p.feed_events,
            p.snapshot_rows,
            self.report.event
        )
    }
}

/// `items` as a list of dicts (their JSON), the time of each under `key` as a `datetime`.
fn dicts_with_time<'py, T: serde::Serialize>(
    py: Python<'py>,
    items: &[T],
    key: &str,
    time: impl Fn(&T) -> Option<Micros>,
) -> PyResult<Bound<'py, PyList>> {
    let list = PyList::empty(py);
    for item in items {
        let d = to_py(py, item)?.into_bound(py);
        d.set_item(key, opt_datetime(py, time(item))?)?;
        list.append(d)?;
    }
    Ok(list)
}

/// What `Tenant.reconcile` found and did.
#[pyclass(module = "alto", frozen)]
pub(crate) struct ReconcileReport {
    report: alto::ReconcileReport,
}

impl From<alto::ReconcileReport> for ReconcileReport {
    fn from(report: alto::ReconcileReport) -> Self {
        ReconcileReport { report }
    }
}

#[pymethods]
impl ReconcileReport {
    /// The tenant.
    #[getter]
    fn tenant(&self) -> &str {
        &self.report.tenant
    }
    /// The share, when one was chosen.
    #[getter]
    fn share(&self) -> Option<&str> {
        self.report.share.as_deref()
    }
    /// Whether orphans were deleted.
    #[getter]
    fn apply(&self) -> bool {
        self.report.apply
    }
    /// The grace period, in seconds.
    #[getter]
    fn grace_seconds(&self) -> i64 {
        self.report.grace_seconds
    }
    /// Whether stubbed objects were re-read.
    #[getter]
    fn verify_content(&self) -> bool {
        self.report.verify_content
    }
    /// The `reconcile.run` audit event, parent of every finding's.
    #[getter]
    fn event(&self) -> Option<i64> {
        self.report.event
    }
    /// Tier objects read.
    #[getter]
    fn tier_objects(&self) -> u64 {
        self.report.tier_objects
    }
    /// STUBBED objects compared with their target.
    #[getter]
    fn stubs_checked(&self) -> u64 {
        self.report.stubs_checked
    }
    /// STUBBED objects that could not be compared.
    #[getter]
    fn stubs_unchecked(&self) -> u64 {
        self.report.stubs_unchecked
    }
    /// The targets listed: `{"root", "prefix", "objects", "bytes", "complete", "note"}`.
    #[getter]
    fn targets(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        to_py(py, &self.report.targets)
    }
    /// The shares walked for stubs: `{"share", "root", "complete", "directories", "files",
    /// "stubs", "note"}`.
    #[getter]
    fn shares(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        to_py(py, &self.report.shares)
    }
    /// STUBBED files whose object is gone or not as recorded: `{"share", "path", "path_key",
    /// "object", "reason", "recorded_size", "found_size", "flagged"}`; `reason` is `"missing"`,
    /// `"size"`, `"etag"` or `"digest"`.
    #[getter]
    fn lost(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        to_py(py, &self.report.lost)
    }
    /// Objects flagged LOST before and found whole now: `{"share", "path", "object"}`.
    #[getter]
    fn recovered(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        to_py(py, &self.report.recovered)
    }
    /// Objects no tier object refers to: `{"object", "root", "key", "share", "size",
    /// "modified", "action", "reason"}`; `action` is `"kept"`, `"would_delete"`, `"deleted"` or
    /// `"failed"`, `modified` a `datetime` (or `None`).
    #[getter]
    fn orphans<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        dicts_with_time(py, &self.report.orphans, "modified", |o| o.modified)
    }
    /// Stubs on disk the catalogue has no STUBBED object for: `{"share", "path", "state",
    /// "target_uri", "tenant", "size", "uid", "note"}`.
    #[getter]
    fn unknown_stubs(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        to_py(py, &self.report.unknown_stubs)
    }
    /// Orphans deleted.
    #[getter]
    fn deleted(&self) -> u64 {
        self.report.deleted
    }
    /// Their bytes.
    #[getter]
    fn deleted_bytes(&self) -> u64 {
        self.report.deleted_bytes
    }
    /// What went wrong without stopping the run.
    #[getter]
    fn errors(&self) -> Vec<String> {
        self.report.errors.clone()
    }
    /// The report as `alto reconcile --format json` prints it (`modified` in microseconds).
    fn to_dict(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        to_py(py, &self.report)
    }
    fn __repr__(&self) -> String {
        let r = &self.report;
        format!(
            "ReconcileReport(tier_objects={}, stubs_checked={}, lost={}, recovered={}, orphans={}, \
             unknown_stubs={}, deleted={})",
            r.tier_objects,
            r.stubs_checked,
            r.lost.len(),
            r.recovered.len(),
            r.orphans.len(),
            r.unknown_stubs.len(),
            r.deleted
        )
    }
}

/// A report on a tenant's files (`Tenant.report`): what `alto report` prints.
#[pyclass(module = "alto", frozen)]
pub(crate) struct Report {
    report: alto::report::Report,
    now: Micros,
}

impl Report {
    pub(crate) fn new(report: alto::report::Report, now: Micros) -> Self {
        Report { report, now }
    }
}

fn files<'py>(py: Python<'py>, files: &[ReportFile]) -> PyResult<Bound<'py, PyList>> {
    let list = dicts_with_time(py, files, "accessed", |f| f.accessed)?;
    for (d, f) in list.iter().zip(files) {
        d.set_item("modified", opt_datetime(py, f.modified)?)?;
    }
    Ok(list)
}

#[pymethods]
impl Report {
    /// The tenant.
    #[getter]
    fn tenant(&self) -> &str {
        &self.report.tenant
    }
    /// The share reported on (`None`: all).
    #[getter]
    fn share(&self) -> Option<&str> {
        self.report.share.as_deref()
    }
    /// When ages were measured (and the what-if evaluated).
    #[getter]
    fn now(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        datetime(py, self.now)
    }
    /// The headline numbers: `{"files", "bytes", "saved": {"files", "bytes"}, "planned": {...},
    /// "missing": {...}}` (saved: STUBBED; missing: left out, no longer seen by a full scan).
    #[getter]
    fn totals(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        to_py(py, &self.report.totals)
    }
    /// Whether any file counted has an owner recorded.
    #[getter]
    fn owners_recorded(&self) -> bool {
        self.report.owners_recorded
    }
    /// By tier state (`key` `None`: files without a tier object, first), in lifecycle order.
    /// Each entry: `{"key", "label", "files", "bytes", "stubbed_files", "stubbed_bytes",
    /// "planned_files", "planned_bytes"}`, as in every breakdown.
    #[getter]
    fn by_state(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        to_py(py, &self.report.by_state)
    }
    /// By the rule that planned the file, most bytes first.
    #[getter]
    fn by_rule(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        to_py(py, &self.report.by_rule)
    }
    /// By extension (lower-cased), most bytes first.
    #[getter]
    fn by_extension(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        to_py(py, &self.report.by_extension)
    }
    /// By owner, most bytes first.
    #[getter]
    fn by_owner(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        to_py(py, &self.report.by_owner)
    }
    /// By share, most bytes first.
    #[getter]
    fn by_share(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        to_py(py, &self.report.by_share)
    }
    /// By age of last access, youngest first, every bucket.
    #[getter]
    fn by_age(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        to_py(py, &self.report.by_age)
    }
    /// By size, smallest first, every bucket.
    #[getter]
    fn by_size(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        to_py(py, &self.report.by_size)
    }
    /// The largest files, largest first: `{"share", "path", "size", "accessed", "modified",
    /// "owner", "state"}` (times as `datetime`s).
    #[getter]
    fn largest<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        files(py, &self.report.largest)
    }
    /// The oldest files by last access, oldest first (as `largest`).
    #[getter]
    fn oldest<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        files(py, &self.report.oldest)
    }
    /// What the rule set given as `rules` would tier now (`None` without one):
    /// `{"rules", "files_scanned", "files_skipped", "files_matched", "bytes_matched",
    /// "bytes_saved", "jobs", "estimated_seconds", "by_rule", "unmatched_rules",
    /// "disabled_rules"}`.
    #[getter]
    fn what_if(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        to_py(py, &self.report.what_if)
    }
    /// The report as `alto report --format json` prints it (`now` as RFC 3339 text, file times
    /// in microseconds since the epoch).
    fn to_dict(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        to_py(py, &self.report)
    }
    /// The report as one self-contained HTML page, as `alto report --format html` writes it.
    fn to_html(&self) -> String {
        alto::report_html(&self.report)
    }
    /// The report as CSV, as `alto report --format csv` writes it.
    fn to_csv(&self) -> String {
        alto::report_csv(&self.report)
    }
    fn __repr__(&self) -> String {
        let t = &self.report.totals;
        format!(
            "Report(tenant={:?}, files={}, bytes={}, saved_bytes={}, planned_bytes={})",
            self.report.tenant, t.files, t.bytes, t.saved.bytes, t.planned.bytes
        )
    }
}
