//! What a report says, for people and programs: the headline numbers, named and ordered
//! breakdowns, the largest and oldest files, and the what-if of a rule set. Built from a store's
//! [`ReportAggregates`] by [`Report::build`]; serialised as `alto report --format json` prints it.

use super::{AGE_LABELS, Group, ReportAggregates, ReportFile, ReportQuery, SIZE_LABELS, Tally};
use crate::lifecycle::TierState;
use crate::planner::{PlanReport, RuleTally};
use crate::time::format_rfc3339;
use serde::Serialize;
use std::cmp::Reverse;

/// Files and bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Amount {
    /// Files.
    pub files: u64,
    /// Bytes.
    pub bytes: u64,
}

/// The headline numbers of a report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ReportTotals {
    /// Every file counted (not missing).
    pub files: u64,
    /// Their bytes.
    pub bytes: u64,
    /// Space saved so far: files in state STUBBED.
    pub saved: Amount,
    /// Space planned: files in state PLANNED.
    pub planned: Amount,
    /// Files left out because a full scan no longer saw them.
    pub missing: Amount,
}

/// One entry of a breakdown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ReportEntry {
    /// The value (a state, rule, extension, owner, share or bucket name; `None`: files that
    /// have none).
    pub key: Option<String>,
    /// What to show: the key, or for `None` what it means (`(no tier object)`, `(none)`,
    /// `(not recorded)`).
    pub label: String,
    /// Its files, bytes, and of them those saved (STUBBED) and planned (PLANNED).
    #[serde(flatten)]
    pub tally: Tally,
}

impl ReportEntry {
    /// An entry (for a caller that draws its own breakdowns, such as the what-if's rules).
    pub fn new(key: Option<String>, label: String, tally: Tally) -> Self {
        ReportEntry { key, label, tally }
    }
}

/// The what-if of a rule set: what a plan would match and save now (the planner's dry run over
/// the same files).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct WhatIf {
    /// Where the rules came from (a file name), when the caller says.
    pub rules: Option<String>,
    /// Files evaluated.
    pub files_scanned: u64,
    /// Files skipped because they are already stubbed.
    pub files_skipped: u64,
    /// Files some rule would tier (those already PLANNED included).
    pub files_matched: u64,
    /// Their bytes.
    pub bytes_matched: u64,
    /// Bytes they would free (each file's size minus the stub's).
    pub bytes_saved: u64,
    /// Jobs the plan would make.
    pub jobs: u64,
    /// Transfer time estimate, jobs one after another.
    pub estimated_seconds: f64,
    /// Every rule in evaluation order, with what it would catch.
    pub by_rule: Vec<RuleTally>,
    /// Enabled rules that would catch nothing.
    pub unmatched_rules: Vec<String>,
    /// Rules switched off.
    pub disabled_rules: Vec<String>,
}

impl WhatIf {
    /// The what-if of a dry-run plan.
    pub fn of_plan(plan: &PlanReport, rules: Option<String>) -> Self {
        WhatIf {
            rules,
            files_scanned: plan.files_scanned,
            files_skipped: plan.files_skipped,
            files_matched: plan.files_matched,
            bytes_matched: plan.bytes_matched,
            bytes_saved: plan.bytes_saved,
            jobs: plan.jobs.len() as u64,
            estimated_seconds: plan.estimated_seconds,
            by_rule: plan.by_rule.clone(),
            unmatched_rules: plan.unmatched_rules.clone(),
            disabled_rules: plan.disabled_rules.clone(),
        }
    }
}

/// A report on a tenant's files: what `alto report` prints and the SDK's `TenantHandle::report`
/// returns.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Report {
    /// The tenant.
    pub tenant: String,
    /// The share reported on (`None`: all).
    pub share: Option<String>,
    /// When ages were measured (RFC 3339).
    pub now: String,
    /// The headline numbers.
    pub totals: ReportTotals,
    /// Whether any file counted has an owner recorded (inventories without an `owner` column
    /// have none; the owner breakdown is then one `(not recorded)` entry).
    pub owners_recorded: bool,
    /// By tier state, in lifecycle order, files without a tier object first.
    pub by_state: Vec<ReportEntry>,
    /// By the rule that planned the file, most bytes first.
    pub by_rule: Vec<ReportEntry>,
    /// By extension (lower-cased), most bytes first.
    pub by_extension: Vec<ReportEntry>,
    /// By owner, most bytes first.
    pub by_owner: Vec<ReportEntry>,
    /// By share, most bytes first.
    pub by_share: Vec<ReportEntry>,
    /// By age of last access, youngest first, every bucket.
    pub by_age: Vec<ReportEntry>,
    /// By size, smallest first, every bucket.
    pub by_size: Vec<ReportEntry>,
    /// The largest files, largest first.
    pub largest: Vec<ReportFile>,
    /// The oldest files, oldest first.
    pub oldest: Vec<ReportFile>,
    /// What a rule set would do now, when one was given.
    pub what_if: Option<WhatIf>,
}

/// The breakdown sections of a report, in the order they are printed: `(name, title)`.
pub const SECTIONS: [(&str, &str); 7] = [
    ("state", "Tier state"),
    ("rule", "Rule"),
    ("extension", "Extension"),
    ("owner", "Owner"),
    ("share", "Share"),
    ("age", "Age of last access"),
    ("size", "Size"),
];

impl Report {
    /// The report of a store's aggregates for `tenant` and `query`.
    pub fn build(tenant: &str, query: &ReportQuery, aggs: ReportAggregates) -> Report {
        let entries = |groups: Vec<Group>, none: &str| {
            let mut v: Vec<ReportEntry> = groups
                .into_iter()
                .map(|g| ReportEntry {
                    label: g.key.clone().unwrap_or_else(|| none.to_owned()),
                    key: g.key,
                    tally: g.tally,
                })
                .collect();
            // Most bytes first; then most files; then by key (`None` last).
            v.sort_by(|a, b| {
                (
                    Reverse(a.tally.bytes),
                    Reverse(a.tally.files),
                    a.key.is_none(),
                )
                    .cmp(&(
                        Reverse(b.tally.bytes),
                        Reverse(b.tally.files),
                        b.key.is_none(),
                    ))
                    .then_with(|| a.key.cmp(&b.key))
            });
            v
        };
        let buckets = |tallies: Vec<Tally>, labels: &[&str]| {
            labels
                .iter()
                .enumerate()
                .map(|(i, l)| ReportEntry {
                    key: Some((*l).to_owned()),
                    label: (*l).to_owned(),
                    tally: tallies.get(i).copied().unwrap_or_default(),
                })
                .collect::<Vec<_>>()
        };
        let rank = |k: &Option<String>| match k {
            None => 0,
            Some(s) => s
                .parse::<TierState>()
                .ok()
                .and_then(|st| TierState::ALL.iter().position(|x| *x == st))
                .map_or(usize::MAX, |p| p + 1),
        };
        let mut by_state = entries(aggs.by_state, "(no tier object)");
        by_state.sort_by(|a, b| rank(&a.key).cmp(&rank(&b.key)).then(a.key.cmp(&b.key)));
        let t = aggs.totals;
        let owners_recorded = aggs.by_owner.iter().any(|g| g.key.is_some());
        Report {
            tenant: tenant.to_owned(),
            share: query.share.clone(),
            now: format_rfc3339(query.now),
            totals: ReportTotals {
                files: t.files,
                bytes: t.bytes,
                saved: Amount {
                    files: t.stubbed_files,
                    bytes: t.stubbed_bytes,
                },
                planned: Amount {
                    files: t.planned_files,
                    bytes: t.planned_bytes,
                },
                missing: Amount {
                    files: aggs.missing.files,
                    bytes: aggs.missing.bytes,
                },
            },
            owners_recorded,
            by_state,
            by_rule: entries(aggs.by_rule, "(no tier object)"),
            by_extension: entries(aggs.by_extension, "(none)"),
            by_owner: entries(aggs.by_owner, "(not recorded)"),
            by_share: entries(aggs.by_share, "(none)"),
            by_age: buckets(aggs.by_age, &AGE_LABELS),
            by_size: buckets(aggs.by_size, &SIZE_LABELS),
            largest: aggs.largest,
            oldest: aggs.oldest,
            what_if: None,
        }
    }

    /// The same report with a what-if.
    pub fn with_what_if(mut self, what_if: WhatIf) -> Report {
        self.what_if = Some(what_if);
        self
    }

    /// The breakdowns in [`SECTIONS`] order: `(name, title, entries)`.
    pub fn sections(&self) -> [(&'static str, &'static str, &[ReportEntry]); 7] {
        let e = [
            &self.by_state,
            &self.by_rule,
            &self.by_extension,
            &self.by_owner,
            &self.by_share,
            &self.by_age,
            &self.by_size,
        ];
        std::array::from_fn(|i| (SECTIONS[i].0, SECTIONS[i].1, e[i].as_slice()))
    }
}
