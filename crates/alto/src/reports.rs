//! [`TenantHandle::report`]: where a tenant's space is, what tiering saved and what it has
//! planned, and what a rule set would do now.
//!
//! The store computes the numbers ([`Store::report_aggregates`](crate::Store::report_aggregates),
//! in SQL on SQLite and PostgreSQL); [`alto_core::report`] defines what counts and the buckets;
//! the what-if is the planner's dry run ([`TenantHandle::plan`]) over the same files.

use crate::TenantHandle;
use alto_core::planner::PlanOptions;
use alto_core::report::{DEFAULT_TOP_N, Report, ReportEntry, ReportQuery, WhatIf};
use alto_core::time::{Micros, now_micros};
use alto_core::{Result, RuleSet};

/// What [`TenantHandle::report`] reports on.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let rules = alto::RuleSet::from_toml(
///     "[[rule]]\nname = \"old\"\naccessed_before = \"1y\"\ntarget = \"file:///t/\"\n",
/// )?;
/// let req = alto::ReportRequest::default()
///     .share("data")
///     .top(10)
///     .what_if(rules, Some("rules.toml".into()));
/// # let _ = req; Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ReportRequest {
    /// Only this share (default: every share of the tenant).
    pub share: Option<String>,
    /// When ages are measured and the what-if evaluated (default: now).
    pub now: Option<Micros>,
    /// Files in the largest and oldest lists (default 20; 0: none).
    pub top_n: usize,
    /// A rule set whose dry run the report adds as its what-if (default: none).
    pub rules: Option<RuleSet>,
    /// Where the rules came from (a file name), shown with the what-if.
    pub rules_source: Option<String>,
    /// The planner's options for the what-if (batch size, stub size, bandwidths; default: the
    /// planner's). Its `now` is replaced by the report's.
    pub plan: Option<PlanOptions>,
}

impl Default for ReportRequest {
    fn default() -> Self {
        ReportRequest {
            share: None,
            now: None,
            top_n: DEFAULT_TOP_N,
            rules: None,
            rules_source: None,
            plan: None,
        }
    }
}

impl ReportRequest {
    /// Only the share `name`.
    #[must_use]
    pub fn share(mut self, name: impl Into<String>) -> Self {
        self.share = Some(name.into());
        self
    }

    /// Measure ages at `now` (microseconds since the epoch).
    #[must_use]
    pub fn at(mut self, now: Micros) -> Self {
        self.now = Some(now);
        self
    }

    /// `n` files in the largest and oldest lists.
    #[must_use]
    pub fn top(mut self, n: usize) -> Self {
        self.top_n = n;
        self
    }

    /// Add the what-if of `rules` (from `source`, a name to show).
    #[must_use]
    pub fn what_if(mut self, rules: RuleSet, source: Option<String>) -> Self {
        self.rules = Some(rules);
        self.rules_source = source;
        self
    }

    /// The planner's options for the what-if.
    #[must_use]
    pub fn plan_options(mut self, opts: PlanOptions) -> Self {
        self.plan = Some(opts);
        self
    }
}

impl TenantHandle {
    /// A report on the tenant's files (of `req.share`): totals, space saved (STUBBED) and planned
    /// (PLANNED), breakdowns by tier state, rule, extension, owner, share, age of last access and
    /// size, the largest and oldest files, and with `req.rules` what that rule set would tier
    /// now. Writes nothing. `NotFound` when the share does not exist.
    pub async fn report(&self, req: &ReportRequest) -> Result<Report> {
        let now = req.now.unwrap_or_else(now_micros);
        let query = ReportQuery {
            share: req.share.clone(),
            now,
            top_n: req.top_n,
        };
        let store = self.alto().store();
        let aggs = store.report_aggregates(self.record().id, &query).await?;
        let report = Report::build(self.name(), &query, aggs);
        Ok(match &req.rules {
            Some(rules) => {
                let mut opts = req.plan.clone().unwrap_or_else(|| PlanOptions::at(now));
                opts.now = now;
                opts.keep_files = false;
                let plan = self.plan_files(rules, opts, req.share.as_deref()).await?;
                report.with_what_if(WhatIf::of_plan(&plan, req.rules_source.clone()))
            }
            None => report,
        })
    }
}

/// A CSV field: quoted when it holds a comma, a quote or a line break (RFC 4180).
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// The report as CSV, as `alto report --format csv` writes it: one row per breakdown entry,
/// `section,key,files,bytes,stubbed_files,stubbed_bytes,planned_files,planned_bytes` (the key is
/// the entry's label), after a `totals,all,…` row; with a what-if, one `what_if,RULE,files,bytes`
/// row per rule.
pub fn report_csv(r: &Report) -> String {
    use std::fmt::Write as _;
    let mut o = String::from(
        "section,key,files,bytes,stubbed_files,stubbed_bytes,planned_files,planned_bytes\n",
    );
    let row = |o: &mut String, section: &str, e: &ReportEntry| {
        let t = &e.tally;
        let _ = writeln!(
            o,
            "{section},{},{},{},{},{},{},{}",
            field(&e.label),
            t.files,
            t.bytes,
            t.stubbed_files,
            t.stubbed_bytes,
            t.planned_files,
            t.planned_bytes
        );
    };
    let t = &r.totals;
    let _ = writeln!(
        o,
        "totals,all,{},{},{},{},{},{}",
        t.files, t.bytes, t.saved.files, t.saved.bytes, t.planned.files, t.planned.bytes
    );
    for (name, _, entries) in r.sections() {
        for e in entries {
            row(&mut o, name, e);
        }
    }
    if let Some(w) = &r.what_if {
        for rt in &w.by_rule {
            let _ = writeln!(
                o,
                "what_if,{},{},{},,,,",
                field(&rt.rule),
                rt.files,
                rt.bytes
            );
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field(r"DOMAIN\ann"), r"DOMAIN\ann");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("two\nlines"), "\"two\nlines\"");
    }
}
