//! `RuleSet` (parse, evaluate and explain one file), `Plan` (what a plan would do) and
//! `plan_inventory` (the dry run of an inventory file, no store).

use crate::aio::Call;
use crate::convert::{inventory_options, opt_micros, path, py_to_json, to_py};
use crate::errors::OrRaise;
use alto::planner::{PlanOptions, PlanReport};
use alto::rules::FileFacts;
use alto::time::now_micros;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::collections::BTreeMap;

/// A parsed, validated and compiled rule set.
#[pyclass(module = "alto", frozen)]
pub(crate) struct RuleSet {
    pub(crate) rules: alto::RuleSet,
}

fn facts<'a>(
    path: &'a str,
    size: u64,
    modified: Option<&Bound<'_, PyAny>>,
    accessed: Option<&Bound<'_, PyAny>>,
) -> PyResult<FileFacts<'a>> {
    Ok(FileFacts {
        path,
        size,
        modified: opt_micros("modified", modified)?,
        accessed: opt_micros("accessed", accessed)?,
    })
}

fn now_or(now: Option<&Bound<'_, PyAny>>) -> PyResult<i64> {
    Ok(opt_micros("now", now)?.unwrap_or_else(now_micros))
}

#[pymethods]
impl RuleSet {
    /// Read a rule file (`.toml`, `.json`, `.yaml`/`.yml`; anything else is TOML).
    #[staticmethod]
    fn from_file(py: Python<'_>, path: &Bound<'_, PyAny>) -> PyResult<Self> {
        let p = crate::convert::path(path)?;
        let rules = alto::RuleSet::from_path(&p).or_raise(py)?;
        Ok(RuleSet { rules })
    }

    /// Parse TOML text.
    #[staticmethod]
    fn from_toml(py: Python<'_>, text: &str) -> PyResult<Self> {
        let rules = alto::RuleSet::from_toml(text).or_raise(py)?;
        Ok(RuleSet { rules })
    }

    /// Parse JSON text.
    #[staticmethod]
    fn from_json(py: Python<'_>, text: &str) -> PyResult<Self> {
        let rules = alto::RuleSet::from_json(text).or_raise(py)?;
        Ok(RuleSet { rules })
    }

    /// A rule set from a `dict` shaped like the JSON format (`{"rule": [{...}]}`).
    #[staticmethod]
    fn from_dict(d: &Bound<'_, PyAny>) -> PyResult<Self> {
        let value = py_to_json("the rule set", d)?;
        let rules = alto::RuleSet::from_json_value(&value).or_raise(d.py())?;
        Ok(RuleSet { rules })
    }

    /// The rules' names, in file order (disabled ones included).
    #[getter]
    fn names(&self) -> Vec<String> {
        self.rules.rules().iter().map(|r| r.name.clone()).collect()
    }

    /// The name of the first rule that matches the file, or `None`.
    #[pyo3(signature = (path, size, modified=None, accessed=None, now=None))]
    fn evaluate(
        &self,
        path: &str,
        size: u64,
        modified: Option<&Bound<'_, PyAny>>,
        accessed: Option<&Bound<'_, PyAny>>,
        now: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Option<String>> {
        let f = facts(path, size, modified, accessed)?;
        let now = now_or(now)?;
        let mut scratch = self.rules.scratch();
        let hit = self.rules.evaluate(&f, now, &mut scratch);
        Ok(hit.map(|i| self.rules.rules()[i].name.clone()))
    }

    /// The name of the first matching rule for every row of `data` (null where none), as a
    /// `pyarrow.DictionaryArray` (`dictionary<int32, utf8>`, one array even when the input has
    /// many batches). `data` is a `pyarrow.Table`, a `RecordBatchReader` or anything with
    /// `__arrow_c_stream__`; its columns `file_path`, `file_size`, `last_modified` and
    /// `last_accessed` (the last two optional) are read by name. Evaluates on `threads` threads
    /// (default: one per core). Needs pyarrow.
    #[pyo3(signature = (data, now=None, threads=None))]
    fn evaluate_arrow<'py>(
        &self,
        py: Python<'py>,
        data: &Bound<'py, PyAny>,
        now: Option<&Bound<'py, PyAny>>,
        threads: Option<usize>,
    ) -> PyResult<Bound<'py, PyAny>> {
        crate::arrow::evaluate(py, &self.rules, data, now_or(now)?, threads)
    }

    /// Why the file matches the rule it matches, or none: `{"matched": name or None,
    /// "tried": [{"rule", "failed", "detail"}, ...]}` (the rules tried before, each with the
    /// first condition that failed).
    #[pyo3(signature = (path, size, modified=None, accessed=None, now=None))]
    fn explain<'py>(
        &self,
        py: Python<'py>,
        path: &str,
        size: u64,
        modified: Option<&Bound<'py, PyAny>>,
        accessed: Option<&Bound<'py, PyAny>>,
        now: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let f = facts(path, size, modified, accessed)?;
        let x = self.rules.explain(&f, now_or(now)?);
        let name = |i: usize| self.rules.rules()[i].name.clone();
        let out = PyDict::new(py);
        out.set_item("matched", x.matched.map(name))?;
        let tried = x
            .tried
            .iter()
            .map(|t| {
                let d = PyDict::new(py);
                d.set_item("rule", name(t.rule))?;
                d.set_item("failed", t.failed.as_str())?;
                d.set_item("detail", &t.detail)?;
                Ok(d)
            })
            .collect::<PyResult<Vec<_>>>()?;
        out.set_item("tried", tried)?;
        Ok(out)
    }

    fn __repr__(&self) -> String {
        format!("RuleSet(names={:?})", self.names())
    }
}

/// What a plan would do (or did, when committed).
#[pyclass(module = "alto", frozen)]
pub(crate) struct Plan {
    report: PlanReport,
    committed: Option<alto::store::tiering::CommitOutcome>,
}

impl Plan {
    pub(crate) fn new(
        report: PlanReport,
        committed: Option<alto::store::tiering::CommitOutcome>,
    ) -> Self {
        Plan { report, committed }
    }
}

#[pymethods]
impl Plan {
    /// Files looked at.
    #[getter]
    fn files_scanned(&self) -> u64 {
        self.report.files_scanned
    }
    /// Inventory rows rejected (`plan_inventory`).
    #[getter]
    fn rows_rejected(&self) -> u64 {
        self.report.rows_rejected
    }
    /// Files a rule matched.
    #[getter]
    fn files_matched(&self) -> u64 {
        self.report.files_matched
    }
    /// Their bytes.
    #[getter]
    fn bytes_matched(&self) -> u64 {
        self.report.bytes_matched
    }
    /// Bytes freed on primary storage.
    #[getter]
    fn bytes_saved(&self) -> u64 {
        self.report.bytes_saved
    }
    /// The transfer time estimate.
    #[getter]
    fn estimated_seconds(&self) -> f64 {
        self.report.estimated_seconds
    }
    /// Per rule: `{"rule", "files", "bytes", "bytes_saved"}`.
    #[getter]
    fn by_rule(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        to_py(py, &self.report.by_rule)
    }
    /// The jobs the plan makes (per rule and target), as in `to_dict()`.
    #[getter]
    fn jobs(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        to_py(py, &self.report.jobs)
    }
    /// What committing did (`None` for a dry run): `{"jobs", "planned", ...}`.
    #[getter]
    fn committed(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        self.committed.as_ref().map(|c| to_py(py, c)).transpose()
    }
    /// The plan as `alto plan --format json` prints it.
    fn to_dict(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        to_py(py, &self.report)
    }
    fn __repr__(&self) -> String {
        format!(
            "Plan(files_scanned={}, files_matched={}, bytes_matched={}, jobs={})",
            self.report.files_scanned,
            self.report.files_matched,
            self.report.bytes_matched,
            self.report.jobs.len()
        )
    }
}

/// The dry run of `rules` over the inventory at `path` (CSV or Parquet), without a store.
#[pyfunction]
#[pyo3(signature = (rules, path, now=None, column_map=None))]
pub(crate) fn plan_inventory(
    py: Python<'_>,
    rules: PyRef<'_, RuleSet>,
    path: &Bound<'_, PyAny>,
    now: Option<&Bound<'_, PyAny>>,
    column_map: Option<BTreeMap<String, String>>,
) -> PyResult<Plan> {
    let (set, p, inv, opts) = inventory_plan(py, &rules, path, now, column_map)?;
    let report = py
        .detach(|| alto::Alto::plan_inventory(&set, &p, &inv, opts))
        .or_raise(py)?;
    Ok(Plan::new(report, None))
}

/// [`plan_inventory`] as an awaitable: the planning runs on a blocking thread of the module's
/// runtime.
#[pyfunction]
#[pyo3(signature = (rules, path, now=None, column_map=None))]
pub(crate) fn plan_inventory_async<'py>(
    py: Python<'py>,
    rules: PyRef<'_, RuleSet>,
    path: &Bound<'_, PyAny>,
    now: Option<&Bound<'_, PyAny>>,
    column_map: Option<BTreeMap<String, String>>,
) -> PyResult<Bound<'py, PyAny>> {
    let (set, p, inv, opts) = inventory_plan(py, &rules, path, now, column_map)?;
    let work = async move {
        tokio::task::spawn_blocking(move || alto::Alto::plan_inventory(&set, &p, &inv, opts))
            .await
            .map_err(|e| alto::Error::new(alto::ErrorKind::Backend, format!("plan failed: {e}")))?
    };
    Call::new(work, |_, report| Ok(Plan::new(report, None))).spawn(py)
}

type InventoryPlan = (
    alto::RuleSet,
    std::path::PathBuf,
    alto::inventory::InventoryOptions,
    PlanOptions,
);

fn inventory_plan(
    py: Python<'_>,
    rules: &RuleSet,
    path: &Bound<'_, PyAny>,
    now: Option<&Bound<'_, PyAny>>,
    column_map: Option<BTreeMap<String, String>>,
) -> PyResult<InventoryPlan> {
    let p = self::path(path)?;
    let opts = PlanOptions::at(now_or(now)?);
    let inv = inventory_options(py, column_map)?;
    Ok((rules.rules.clone(), p, inv, opts))
}
