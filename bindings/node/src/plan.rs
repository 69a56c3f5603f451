//! `Plan`: what a plan would do (or did, when committed), with the fields of `alto plan --format
//! json` in camelCase, and `toJSON()` so `JSON.stringify(plan)` writes them all.

use crate::records::{Size, count, date, size};
use alto::planner::PlanReport;
use alto::store::tiering::CommitOutcome;
use alto::time::Micros;
use chrono::{DateTime, Utc};
use napi_derive::napi;

/// What one rule caught.
#[napi(object)]
pub struct RuleTally {
    /// Rule name.
    pub rule: String,
    /// Files it caught.
    pub files: i64,
    /// Their bytes.
    pub bytes: Size,
    /// Bytes they free.
    pub bytes_saved: Size,
}

/// One job of a plan.
#[napi(object)]
pub struct PlannedJob {
    /// The rule.
    pub rule: String,
    /// The rendered target.
    pub target: String,
    /// Lower runs first.
    pub priority: i64,
    /// Files in the job.
    pub files: i64,
    /// Their bytes.
    pub bytes: Size,
    /// Bytes they free.
    pub bytes_saved: Size,
    /// Transfer time estimate in seconds.
    pub estimated_seconds: f64,
}

/// One of the largest matches.
#[napi(object)]
pub struct LargeMatch {
    /// Size in bytes.
    pub size: Size,
    /// Path as received.
    pub path: String,
    /// The rule that caught it.
    pub rule: String,
}

/// What committing the plan did (`tenant.plan(rules, { commit: true })`).
#[napi(object)]
pub struct Committed {
    /// Jobs created.
    pub jobs: i64,
    /// Files newly planned.
    pub planned: i64,
    /// Files already planned in a live job.
    pub already_planned: i64,
    /// Files already stubbed.
    pub already_stubbed: i64,
    /// Files moved from an ended job into this plan's.
    pub requeued: i64,
    /// Earlier plans this plan no longer lists.
    pub withdrawn: i64,
}

/// A plan as a plain object: what `toJSON()` returns.
#[napi(object)]
pub struct PlanJson {
    /// The evaluation time.
    pub now: DateTime<Utc>,
    /// Files looked at.
    pub files_scanned: i64,
    /// Inventory rows rejected.
    pub rows_rejected: i64,
    /// Files skipped because already stubbed.
    pub files_skipped: i64,
    /// Files some rule caught.
    pub files_matched: i64,
    /// Their bytes.
    pub bytes_matched: Size,
    /// Bytes freed.
    pub bytes_saved: Size,
    /// Total transfer time estimate in seconds.
    pub estimated_seconds: f64,
    /// Every rule in evaluation order.
    pub by_rule: Vec<RuleTally>,
    /// Enabled rules that caught nothing.
    pub unmatched_rules: Vec<String>,
    /// Rules switched off.
    pub disabled_rules: Vec<String>,
    /// The jobs, by priority then rule order.
    pub jobs: Vec<PlannedJob>,
    /// The largest matches, biggest first.
    pub largest: Vec<LargeMatch>,
    /// What the commit did, when committed.
    pub committed: Option<Committed>,
}

/// What a plan would do: `tenant.plan()` and `planInventory()` return one.
#[napi]
pub struct Plan {
    report: PlanReport,
    now: Micros,
    committed: Option<CommitOutcome>,
}

impl Plan {
    pub(crate) fn new(report: PlanReport, now: Micros, committed: Option<CommitOutcome>) -> Self {
        Plan {
            report,
            now,
            committed,
        }
    }
}

#[napi]
impl Plan {
    /// The evaluation time.
    #[napi(getter)]
    pub fn now(&self) -> DateTime<Utc> {
        date(self.now)
    }

    /// Files looked at.
    #[napi(getter)]
    pub fn files_scanned(&self) -> i64 {
        count(self.report.files_scanned)
    }

    /// Inventory rows rejected.
    #[napi(getter)]
    pub fn rows_rejected(&self) -> i64 {
        count(self.report.rows_rejected)
    }

    /// Files skipped because already stubbed.
    #[napi(getter)]
    pub fn files_skipped(&self) -> i64 {
        count(self.report.files_skipped)
    }

    /// Files some rule caught.
    #[napi(getter)]
    pub fn files_matched(&self) -> i64 {
        count(self.report.files_matched)
    }

    /// Their bytes.
    #[napi(getter)]
    pub fn bytes_matched(&self) -> Size {
        size(self.report.bytes_matched)
    }

    /// Bytes freed.
    #[napi(getter)]
    pub fn bytes_saved(&self) -> Size {
        size(self.report.bytes_saved)
    }

    /// Total transfer time estimate in seconds.
    #[napi(getter)]
    pub fn estimated_seconds(&self) -> f64 {
        self.report.estimated_seconds
    }

    /// Every rule in evaluation order, with what it caught.
    #[napi(getter)]
    pub fn by_rule(&self) -> Vec<RuleTally> {
        self.report
            .by_rule
            .iter()
            .map(|t| RuleTally {
                rule: t.rule.clone(),
                files: count(t.files),
                bytes: size(t.bytes),
                bytes_saved: size(t.bytes_saved),
            })
            .collect()
    }

    /// Enabled rules that caught nothing.
    #[napi(getter)]
    pub fn unmatched_rules(&self) -> Vec<String> {
        self.report.unmatched_rules.clone()
    }

    /// Rules switched off.
    #[napi(getter)]
    pub fn disabled_rules(&self) -> Vec<String> {
        self.report.disabled_rules.clone()
    }

    /// The jobs, by priority then rule order.
    #[napi(getter)]
    pub fn jobs(&self) -> Vec<PlannedJob> {
        self.report
            .jobs
            .iter()
            .map(|j| PlannedJob {
                rule: j.rule.clone(),
                target: j.target.clone(),
                priority: j.priority,
                files: count(j.files),
                bytes: size(j.bytes),
                bytes_saved: size(j.bytes_saved),
                estimated_seconds: j.estimated_seconds,
            })
            .collect()
    }

    /// The largest matches, biggest first.
    #[napi(getter)]
    pub fn largest(&self) -> Vec<LargeMatch> {
        self.report
            .largest
            .iter()
            .map(|m| LargeMatch {
                size: size(m.size),
                path: m.path.clone(),
                rule: m.rule.clone(),
            })
            .collect()
    }

    /// What the commit did (absent for a dry run).
    #[napi(getter)]
    pub fn committed(&self) -> Option<Committed> {
        self.committed.as_ref().map(|c| Committed {
            jobs: count(c.jobs),
            planned: count(c.planned),
            already_planned: count(c.already_planned),
            already_stubbed: count(c.already_stubbed),
            requeued: count(c.requeued),
            withdrawn: count(c.withdrawn),
        })
    }

    /// Every field as a plain object (what `JSON.stringify` writes; bigints must be handled by
    /// the caller's replacer, as for any bigint).
    #[napi(js_name = "toJSON")]
    pub fn to_json(&self) -> PlanJson {
        PlanJson {
            now: self.now(),
            files_scanned: self.files_scanned(),
            rows_rejected: self.rows_rejected(),
            files_skipped: self.files_skipped(),
            files_matched: self.files_matched(),
            bytes_matched: self.bytes_matched(),
            bytes_saved: self.bytes_saved(),
            estimated_seconds: self.estimated_seconds(),
            by_rule: self.by_rule(),
            unmatched_rules: self.unmatched_rules(),
            disabled_rules: self.disabled_rules(),
            jobs: self.jobs(),
            largest: self.largest(),
            committed: self.committed(),
        }
    }
}
