//! `RuleSet` (parse, validate, evaluate one file) and `planInventory` (a dry run over an
//! inventory file, on libuv's thread pool). A refused rule set throws an `Error` with `code`
//! `'InvalidRule'` and the `rule`, `ruleIndex` and `field` at fault.

use crate::error::{js_error, rule_error};
use crate::plan::Plan;
use crate::records::{Size, micros, size_in};
use alto::planner::{PlanOptions, PlanReport};
use alto::rules::FileFacts;
use alto::time::{Micros, now_micros};
use chrono::{DateTime, Utc};
use napi::bindgen_prelude::*;
use napi::{Env, Task};
use napi_derive::napi;
use std::collections::HashMap;
use std::path::PathBuf;

/// A compiled rule set (TOML, JSON or YAML).
#[napi]
pub struct RuleSet {
    pub(crate) inner: alto::RuleSet,
}

/// One file for `ruleSet.evaluate()`.
#[napi(object)]
pub struct FileFactsInput {
    /// The path (either separator).
    pub path: String,
    /// Size in bytes.
    pub size: Size,
    /// Last modified.
    pub modified: Option<DateTime<Utc>>,
    /// Last accessed; when absent, the `accessed_*` conditions use `modified`.
    pub accessed: Option<DateTime<Utc>>,
}

#[napi]
impl RuleSet {
    /// Read a rule file; the format follows the extension (`.toml`, `.json`, `.yaml`/`.yml`).
    #[napi(factory)]
    pub fn from_file(env: &Env, path: String) -> Result<RuleSet> {
        alto::RuleSet::from_path(path.as_ref())
            .map(|inner| RuleSet { inner })
            .map_err(|e| rule_error(env, &e))
    }

    /// Parse a rule set written in TOML.
    #[napi(factory)]
    pub fn from_toml(env: &Env, text: String) -> Result<RuleSet> {
        alto::RuleSet::from_toml(&text)
            .map(|inner| RuleSet { inner })
            .map_err(|e| rule_error(env, &e))
    }

    /// Parse a rule set written in JSON.
    #[napi(factory)]
    pub fn from_json(env: &Env, text: String) -> Result<RuleSet> {
        alto::RuleSet::from_json(&text)
            .map(|inner| RuleSet { inner })
            .map_err(|e| rule_error(env, &e))
    }

    /// The rules' names, in file order (disabled ones included).
    #[napi(getter)]
    pub fn names(&self) -> Vec<String> {
        self.inner.rules().iter().map(|r| r.name.clone()).collect()
    }

    /// The name of the first enabled rule that `file` matches as of `now` (default: now), or
    /// `null`. Synchronous: one file is little work.
    #[napi]
    pub fn evaluate(
        &self,
        env: &Env,
        file: FileFactsInput,
        now: Option<DateTime<Utc>>,
    ) -> Result<Option<String>> {
        let size = size_in(&file.size).map_err(|e| js_error(env, &e))?;
        let facts = FileFacts {
            path: &file.path,
            size,
            accessed: file.accessed.as_ref().map(micros),
            modified: file.modified.as_ref().map(micros),
        };
        let now = now.as_ref().map_or_else(now_micros, micros);
        let mut scratch = self.inner.scratch();
        Ok(self
            .inner
            .evaluate(&facts, now, &mut scratch)
            .map(|i| self.inner.rules()[i].name.clone()))
    }
}

/// How `planInventory()` plans.
#[napi(object)]
pub struct PlanInventoryOptions {
    /// The evaluation time (default: now).
    pub now: Option<DateTime<Utc>>,
    /// Header names for columns that differ from the agents' format, by canonical column name:
    /// `{ file_path: 'FullName', file_size: 'Length' }`.
    pub column_map: Option<HashMap<String, String>>,
    /// The `{tenant}` of target templates (default `default`).
    pub tenant: Option<String>,
    /// The `{share}` of target templates (default `default`).
    pub share: Option<String>,
}

/// The column renames of an inventory from `{ column: header }`.
pub(crate) fn inventory_options(
    map: Option<&HashMap<String, String>>,
) -> alto::Result<alto::inventory::InventoryOptions> {
    let mut opts = alto::inventory::InventoryOptions::default();
    if let Some(map) = map {
        let spec: Vec<String> = map.iter().map(|(c, h)| format!("{c}={h}")).collect();
        opts.columns = alto::inventory::ColumnMap::parse(&spec.join(","))?;
    }
    Ok(opts)
}

/// The dry run behind `planInventory()`, run on libuv's thread pool.
pub struct PlanInventory {
    rules: alto::RuleSet,
    path: PathBuf,
    options: Option<PlanInventoryOptions>,
}

impl Task for PlanInventory {
    type Output = alto::Result<(PlanReport, Micros)>;
    type JsValue = Plan;

    fn compute(&mut self) -> Result<Self::Output> {
        let run = || {
            let o = self.options.as_ref();
            let now = o
                .and_then(|o| o.now.as_ref())
                .map_or_else(now_micros, micros);
            let mut popts = PlanOptions::at(now);
            if let Some(t) = o.and_then(|o| o.tenant.clone()) {
                popts.tenant = t;
            }
            if let Some(s) = o.and_then(|o| o.share.clone()) {
                popts.share = s;
            }
            let inv = inventory_options(o.and_then(|o| o.column_map.as_ref()))?;
            let report = alto::Alto::plan_inventory(&self.rules, &self.path, &inv, popts)?;
            Ok((report, now))
        };
        Ok(run())
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> Result<Plan> {
        match output {
            Ok((report, now)) => Ok(Plan::new(report, now, None)),
            Err(e) => Err(js_error(&env, &e)),
        }
    }
}

/// A dry run of `rules` over the inventory file at `path` (CSV or Parquet), as `alto plan
/// --inventory` does: no store is involved. Runs off the event loop.
#[napi(ts_return_type = "Promise<Plan>")]
pub fn plan_inventory(
    rules: &RuleSet,
    path: String,
    options: Option<PlanInventoryOptions>,
) -> AsyncTask<PlanInventory> {
    AsyncTask::new(PlanInventory {
        rules: rules.inner.clone(),
        path: PathBuf::from(path),
        options,
    })
}
