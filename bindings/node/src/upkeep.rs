//! A tenant's upkeep as JavaScript sees it: its settings (`tenant.settings`,
//! `tenant.setSettings()`), what a retention sweep did (`tenant.maintain()`), what a
//! reconciliation found (`tenant.reconcile()`) and a report on its files (`tenant.report()`).
//! Field names are those of the `alto` command's JSON in camelCase; times are `Date`s, byte
//! counts [`Size`]s, absent values left out.

use crate::plan::RuleTally;
use crate::records::{Size, count, date, opt_date, size};
use crate::rules::RuleSet;
use alto::time::Micros;
use chrono::{DateTime, Utc};
use napi::bindgen_prelude::*;
use napi_derive::napi;

/// A serde name (`"queue"`, `"alert"`, `"missing"`, `"would_delete"`, …).
fn name<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// A tenant's settings as they are (`tenant.settings`; what `tenant.setSettings()` resolves
/// to). An absent retention means kept forever; an absent `historyScans`, every scan.
#[napi(object, object_from_js = false)]
pub struct TenantSettingsInfo {
    /// Keep per-scan snapshot rows beside the current ones.
    pub keep_history: bool,
    /// PLANNED objects planned more than this many days ago expire at the next `maintain()`.
    pub planned_retention_days: u32,
    /// Feed bookkeeping is kept this many hours.
    pub feed_staging_hours: u32,
    /// Feed events for unknown paths: `queue`, `ignore` or `placeholder`.
    pub unknown_paths: String,
    /// Access to a stubbed file: `alert`, `rehydrate` or `ignore`.
    pub stub_access: String,
    /// When keeping history, only the last N scans per share.
    pub history_scans: Option<u32>,
    /// REHYDRATED records are removed after this many days.
    pub rehydrated_retention_days: Option<u32>,
    /// DELETED records are removed after this many days.
    pub deleted_retention_days: Option<u32>,
    /// Finished jobs that hold no file are removed this many days after they finished.
    pub job_retention_days: Option<u32>,
}

impl From<&alto::TenantSettings> for TenantSettingsInfo {
    fn from(s: &alto::TenantSettings) -> Self {
        TenantSettingsInfo {
            keep_history: s.keep_history,
            planned_retention_days: s.planned_retention_days,
            feed_staging_hours: s.feed_staging_hours,
            unknown_paths: name(&s.unknown_paths),
            stub_access: name(&s.stub_access),
            history_scans: s.history_scans,
            rehydrated_retention_days: s.rehydrated_retention_days,
            deleted_retention_days: s.deleted_retention_days,
            job_retention_days: s.job_retention_days,
        }
    }
}

/// What a retention sweep removed (or, dry, would remove).
#[napi(object, object_from_js = false)]
pub struct PruneCounts {
    /// REHYDRATED records.
    pub rehydrated: i64,
    /// DELETED records.
    pub deleted: i64,
    /// Finished jobs.
    pub jobs: i64,
    /// Feed bookkeeping rows.
    pub feed_events: i64,
    /// Snapshot rows of scans past `historyScans`.
    pub snapshot_rows: i64,
}

/// What `tenant.maintain()` did (or, dry, would do).
#[napi(object, object_from_js = false)]
pub struct MaintainReport {
    /// The tenant.
    pub tenant: String,
    /// Whether it only counted.
    pub dry_run: bool,
    /// PLANNED objects whose plans expired (withdrawn).
    pub planned_expired: i64,
    /// Expired plans left alone because the file changed during the sweep.
    pub planned_skipped: i64,
    /// What the store removed.
    pub pruned: PruneCounts,
    /// The sweep's `maintain.sweep` audit event (absent when dry).
    pub event: Option<i64>,
}

impl From<alto::maintain::MaintainReport> for MaintainReport {
    fn from(r: alto::maintain::MaintainReport) -> Self {
        MaintainReport {
            tenant: r.tenant,
            dry_run: r.dry_run,
            planned_expired: count(r.planned_expired),
            planned_skipped: count(r.planned_skipped),
            pruned: PruneCounts {
                rehydrated: count(r.pruned.rehydrated),
                deleted: count(r.pruned.deleted),
                jobs: count(r.pruned.jobs),
                feed_events: count(r.pruned.feed_events),
                snapshot_rows: count(r.pruned.snapshot_rows),
            },
            event: r.event,
        }
    }
}

/// How `tenant.reconcile()` reconciles. Every share, nothing deleted, a grace period of seven
/// days unless said otherwise.
#[napi(object, object_to_js = false)]
pub struct ReconcileOptions {
    /// Only this share (its objects, its key prefix on the targets, its root).
    pub share: Option<String>,
    /// Delete the orphans that may be deleted (default false: only report them).
    pub apply: Option<bool>,
    /// Keep orphans written less than this many seconds ago (default 7 days; at least 3600).
    pub grace_seconds: Option<f64>,
    /// Re-read every stubbed object and compare its SHA-256 with the catalogue's.
    pub verify_content: Option<bool>,
    /// Target roots to list besides those the tier objects name.
    pub targets: Option<Vec<String>>,
    /// The time the grace period counts back from (default: now).
    pub now: Option<DateTime<Utc>>,
}

impl ReconcileOptions {
    pub(crate) fn request(self) -> alto::Result<alto::ReconcileRequest> {
        let mut req = alto::ReconcileRequest::default()
            .apply(self.apply.unwrap_or(false))
            .verify_content(self.verify_content.unwrap_or(false));
        if let Some(s) = self.share {
            req = req.share(s);
        }
        if let Some(g) = self.grace_seconds {
            let grace = std::time::Duration::try_from_secs_f64(g).map_err(|_| {
                crate::error::invalid(format!(
                    "graceSeconds must be a positive number of seconds, not {g}"
                ))
            })?;
            req = req.grace(grace);
        }
        for t in self.targets.unwrap_or_default() {
            req = req.target(t);
        }
        if let Some(now) = &self.now {
            req = req.at(crate::records::micros(now));
        }
        Ok(req)
    }
}

/// One target root's listing.
#[napi(object, object_from_js = false)]
pub struct ReconcileTarget {
    /// The target root.
    pub root: String,
    /// The key prefix listed under it.
    pub prefix: String,
    /// Objects listed.
    pub objects: i64,
    /// Their bytes.
    pub bytes: Size,
    /// Whether the listing went to its end.
    pub complete: bool,
    /// Why not, or what else to know.
    pub note: Option<String>,
}

/// One share's walk for stubs.
#[napi(object, object_from_js = false)]
pub struct ReconcileShare {
    /// The share.
    pub share: String,
    /// Whether every directory beneath the root was walked.
    pub complete: bool,
    /// Directories walked.
    pub directories: i64,
    /// Regular files looked at.
    pub files: i64,
    /// Stubs found.
    pub stubs: i64,
    /// Where it was walked on this host.
    pub root: Option<String>,
    /// Why it was not walked, or not completely.
    pub note: Option<String>,
}

/// A stubbed file whose object the target no longer holds as recorded.
#[napi(object, object_from_js = false)]
pub struct LostObject {
    /// The share.
    pub share: String,
    /// The file's path.
    pub path: String,
    /// Its path key.
    pub path_key: String,
    /// The object's URI.
    pub object: String,
    /// What is wrong: `missing`, `size`, `etag` or `digest`.
    pub reason: String,
    /// Whether the LOST flag is now on the object (false when it changed meanwhile).
    pub flagged: bool,
    /// The recorded size.
    pub recorded_size: Option<Size>,
    /// The size found (absent: no object).
    pub found_size: Option<Size>,
}

/// A LOST object found whole again.
#[napi(object, object_from_js = false)]
pub struct RecoveredObject {
    /// The share.
    pub share: String,
    /// The file's path.
    pub path: String,
    /// The object's URI.
    pub object: String,
}

/// An object no tier object refers to.
#[napi(object, object_from_js = false)]
pub struct OrphanObject {
    /// Its URI.
    pub object: String,
    /// The target root it was listed under.
    pub root: String,
    /// Its key under that root.
    pub key: String,
    /// Its size.
    pub size: Size,
    /// What became of it: `kept`, `would_delete` (with `apply`), `deleted` or `failed`.
    pub action: String,
    /// Why it was kept, or why it could be deleted.
    pub reason: String,
    /// The share its key names, when it names one of the tenant's.
    pub share: Option<String>,
    /// When it was written, as the target says.
    pub modified: Option<DateTime<Utc>>,
}

/// A stub file whose path has no STUBBED tier object.
#[napi(object, object_from_js = false)]
pub struct UnknownStub {
    /// The share walked.
    pub share: String,
    /// The stub's path, as the catalogue would write it.
    pub path: String,
    /// The stub's size.
    pub size: Size,
    /// The stub's owner.
    pub uid: u32,
    /// The state of the path's tier object, if it has one.
    pub state: Option<String>,
    /// The object the stub names.
    pub target_uri: Option<String>,
    /// The tenant the stub names.
    pub tenant: Option<String>,
    /// `damaged record` when the header is there but the record cannot be read.
    pub note: Option<String>,
}

/// What `tenant.reconcile()` found and did (`alto reconcile --format json` in camelCase).
#[napi(object, object_from_js = false)]
pub struct ReconcileReport {
    /// The tenant.
    pub tenant: String,
    /// Whether orphans were deleted.
    pub apply: bool,
    /// The grace period, in seconds.
    pub grace_seconds: i64,
    /// Whether stubbed objects were re-read.
    pub verify_content: bool,
    /// Tier objects read.
    pub tier_objects: i64,
    /// STUBBED objects compared with their target.
    pub stubs_checked: i64,
    /// STUBBED objects that could not be compared.
    pub stubs_unchecked: i64,
    /// The targets listed.
    pub targets: Vec<ReconcileTarget>,
    /// The shares walked for stubs.
    pub shares: Vec<ReconcileShare>,
    /// Stubbed files whose object is gone or not as recorded (flagged LOST).
    pub lost: Vec<LostObject>,
    /// Objects flagged LOST before and found whole now.
    pub recovered: Vec<RecoveredObject>,
    /// Objects no tier object refers to.
    pub orphans: Vec<OrphanObject>,
    /// Stubs on disk the catalogue has no STUBBED object for.
    pub unknown_stubs: Vec<UnknownStub>,
    /// Orphans deleted.
    pub deleted: i64,
    /// Their bytes.
    pub deleted_bytes: Size,
    /// What went wrong without stopping the run.
    pub errors: Vec<String>,
    /// The share, when one was chosen.
    pub share: Option<String>,
    /// The `reconcile.run` audit event, parent of every finding's.
    pub event: Option<i64>,
}

impl From<alto::ReconcileReport> for ReconcileReport {
    fn from(r: alto::ReconcileReport) -> Self {
        ReconcileReport {
            tenant: r.tenant,
            apply: r.apply,
            grace_seconds: r.grace_seconds,
            verify_content: r.verify_content,
            tier_objects: count(r.tier_objects),
            stubs_checked: count(r.stubs_checked),
            stubs_unchecked: count(r.stubs_unchecked),
            targets: r
                .targets
                .into_iter()
                .map(|t| ReconcileTarget {
                    root: t.root,
                    prefix: t.prefix,
                    objects: count(t.objects),
                    bytes: size(t.bytes),
                    complete: t.complete,
                    note: t.note,
                })
                .collect(),
            shares: r
                .shares
                .into_iter()
                .map(|s| ReconcileShare {
                    share: s.share,
                    complete: s.complete,
                    directories: count(s.directories),
                    files: count(s.files),
                    stubs: count(s.stubs),
                    root: s.root,
                    note: s.note,
                })
                .collect(),
            lost: r
                .lost
                .into_iter()
                .map(|l| LostObject {
                    reason: name(&l.reason),
                    share: l.share,
                    path: l.path,
                    path_key: l.path_key,
                    object: l.object,
                    flagged: l.flagged,
                    recorded_size: l.recorded_size.map(size),
                    found_size: l.found_size.map(size),
                })
                .collect(),
            recovered: r
                .recovered
                .into_iter()
                .map(|o| RecoveredObject {
                    share: o.share,
                    path: o.path,
                    object: o.object,
                })
                .collect(),
            orphans: r
                .orphans
                .into_iter()
                .map(|o| OrphanObject {
                    action: o.action.as_str().to_owned(),
                    object: o.object,
                    root: o.root,
                    key: o.key,
                    size: size(o.size),
                    reason: o.reason,
                    share: o.share,
                    modified: opt_date(o.modified),
                })
                .collect(),
            unknown_stubs: r
                .unknown_stubs
                .into_iter()
                .map(|u| UnknownStub {
                    share: u.share,
                    path: u.path,
                    size: size(u.size),
                    uid: u.uid,
                    state: u.state.map(|s| s.as_str().to_owned()),
                    target_uri: u.target_uri,
                    tenant: u.tenant,
                    note: u.note,
                })
                .collect(),
            deleted: count(r.deleted),
            deleted_bytes: size(r.deleted_bytes),
            errors: r.errors,
            share: r.share,
            event: r.event,
        }
    }
}

/// What `tenant.report()` reports on. Every share, measured now, 20 files in the largest and
/// oldest lists, no what-if, unless said otherwise.
#[napi(object, object_to_js = false)]
pub struct ReportOptions {
    /// Only this share.
    pub share: Option<String>,
    /// When ages are measured and the what-if evaluated (default: now).
    pub now: Option<DateTime<Utc>>,
    /// Files in the largest and oldest lists (default 20; 0: none).
    pub top: Option<u32>,
    /// A rule set whose dry run the report adds as its `whatIf`.
    pub rules: Option<Reference<RuleSet>>,
    /// Where the rules came from (a file name), shown with the what-if.
    pub rules_source: Option<String>,
}

/// Files and bytes.
#[napi(object, object_from_js = false)]
pub struct ReportAmount {
    /// Files.
    pub files: i64,
    /// Bytes.
    pub bytes: Size,
}

fn amount(a: alto::report::Amount) -> ReportAmount {
    ReportAmount {
        files: count(a.files),
        bytes: size(a.bytes),
    }
}

/// A report's headline numbers.
#[napi(object, object_from_js = false)]
pub struct ReportTotals {
    /// Every file counted (not missing).
    pub files: i64,
    /// Their bytes.
    pub bytes: Size,
    /// Space saved so far: files in state STUBBED.
    pub saved: ReportAmount,
    /// Space planned: files in state PLANNED.
    pub planned: ReportAmount,
    /// Files left out because a full scan no longer saw them.
    pub missing: ReportAmount,
}

/// One entry of a report's breakdown.
#[napi(object, object_from_js = false)]
pub struct ReportEntry {
    /// What to show: the key, or for none what that means (`(no tier object)`, `(none)`,
    /// `(not recorded)`).
    pub label: String,
    /// Files.
    pub files: i64,
    /// Their bytes.
    pub bytes: Size,
    /// Of them, files in state STUBBED.
    pub stubbed_files: i64,
    /// Their bytes: space saved.
    pub stubbed_bytes: Size,
    /// Of them, files in state PLANNED.
    pub planned_files: i64,
    /// Their bytes: space planned.
    pub planned_bytes: Size,
    /// The value (a state, rule, extension, owner, share or bucket name); absent for the
    /// files that have none.
    pub key: Option<String>,
}

fn entries(v: &[alto::report::ReportEntry]) -> Vec<ReportEntry> {
    v.iter()
        .map(|e| ReportEntry {
            label: e.label.clone(),
            files: count(e.tally.files),
            bytes: size(e.tally.bytes),
            stubbed_files: count(e.tally.stubbed_files),
            stubbed_bytes: size(e.tally.stubbed_bytes),
            planned_files: count(e.tally.planned_files),
            planned_bytes: size(e.tally.planned_bytes),
            key: e.key.clone(),
        })
        .collect()
}

/// One file of a report's largest or oldest list.
#[napi(object, object_from_js = false)]
pub struct ReportFile {
    /// Share name.
    pub share: String,
    /// Path as received.
    pub path: String,
    /// Size in bytes.
    pub size: Size,
    /// Last accessed.
    pub accessed: Option<DateTime<Utc>>,
    /// Last modified.
    pub modified: Option<DateTime<Utc>>,
    /// Owner as recorded.
    pub owner: Option<String>,
    /// Tier state.
    pub state: Option<String>,
}

fn report_files(v: &[alto::report::ReportFile]) -> Vec<ReportFile> {
    v.iter()
        .map(|f| ReportFile {
            share: f.share.clone(),
            path: f.path.clone(),
            size: size(f.size),
            accessed: opt_date(f.accessed),
            modified: opt_date(f.modified),
            owner: f.owner.clone(),
            state: f.state.map(|s| s.as_str().to_owned()),
        })
        .collect()
}

/// What a rule set would tier now: the planner's dry run over the report's files.
#[napi(object, object_from_js = false)]
pub struct WhatIf {
    /// Files evaluated.
    pub files_scanned: i64,
    /// Files skipped because they are already stubbed.
    pub files_skipped: i64,
    /// Files some rule would tier (those already PLANNED included).
    pub files_matched: i64,
    /// Their bytes.
    pub bytes_matched: Size,
    /// Bytes they would free.
    pub bytes_saved: Size,
    /// Jobs the plan would make.
    pub jobs: i64,
    /// Transfer time estimate in seconds, jobs one after another.
    pub estimated_seconds: f64,
    /// Every rule in evaluation order, with what it would catch.
    pub by_rule: Vec<RuleTally>,
    /// Enabled rules that would catch nothing.
    pub unmatched_rules: Vec<String>,
    /// Rules switched off.
    pub disabled_rules: Vec<String>,
    /// Where the rules came from (`rulesSource`).
    pub rules: Option<String>,
}

/// A report as a plain object: what `report.toJSON()` returns.
#[napi(object, object_from_js = false)]
pub struct ReportJson {
    /// The tenant.
    pub tenant: String,
    /// When ages were measured.
    pub now: DateTime<Utc>,
    /// The headline numbers.
    pub totals: ReportTotals,
    /// Whether any file counted has an owner recorded.
    pub owners_recorded: bool,
    /// By tier state.
    pub by_state: Vec<ReportEntry>,
    /// By the rule that planned the file.
    pub by_rule: Vec<ReportEntry>,
    /// By extension.
    pub by_extension: Vec<ReportEntry>,
    /// By owner.
    pub by_owner: Vec<ReportEntry>,
    /// By share.
    pub by_share: Vec<ReportEntry>,
    /// By age of last access.
    pub by_age: Vec<ReportEntry>,
    /// By size.
    pub by_size: Vec<ReportEntry>,
    /// The largest files.
    pub largest: Vec<ReportFile>,
    /// The oldest files.
    pub oldest: Vec<ReportFile>,
    /// The share reported on (absent: all).
    pub share: Option<String>,
    /// The what-if, when rules were given.
    pub what_if: Option<WhatIf>,
}

/// A report on a tenant's files (`tenant.report()`): the fields of `alto report --format json`
/// in camelCase, `toJSON()`, and the command's HTML and CSV renderings.
#[napi]
pub struct Report {
    report: alto::report::Report,
    now: Micros,
}

impl Report {
    pub(crate) fn new(report: alto::report::Report, now: Micros) -> Self {
        Report { report, now }
    }
}

#[napi]
impl Report {
    /// The tenant.
    #[napi(getter)]
    pub fn tenant(&self) -> String {
        self.report.tenant.clone()
    }

    /// The share reported on (null: all).
    #[napi(getter)]
    pub fn share(&self) -> Option<String> {
        self.report.share.clone()
    }

    /// When ages were measured and the what-if evaluated.
    #[napi(getter)]
    pub fn now(&self) -> DateTime<Utc> {
        date(self.now)
    }

    /// The headline numbers: all files, saved (STUBBED), planned (PLANNED), missing.
    #[napi(getter)]
    pub fn totals(&self) -> ReportTotals {
        let t = &self.report.totals;
        ReportTotals {
            files: count(t.files),
            bytes: size(t.bytes),
            saved: amount(t.saved),
            planned: amount(t.planned),
            missing: amount(t.missing),
        }
    }

    /// Whether any file counted has an owner recorded.
    #[napi(getter)]
    pub fn owners_recorded(&self) -> bool {
        self.report.owners_recorded
    }

    /// By tier state, in lifecycle order, files without a tier object (no `key`) first.
    #[napi(getter)]
    pub fn by_state(&self) -> Vec<ReportEntry> {
        entries(&self.report.by_state)
    }

    /// By the rule that planned the file, most bytes first.
    #[napi(getter)]
    pub fn by_rule(&self) -> Vec<ReportEntry> {
        entries(&self.report.by_rule)
    }

    /// By extension (lower-cased), most bytes first.
    #[napi(getter)]
    pub fn by_extension(&self) -> Vec<ReportEntry> {
        entries(&self.report.by_extension)
    }

    /// By owner, most bytes first.
    #[napi(getter)]
    pub fn by_owner(&self) -> Vec<ReportEntry> {
        entries(&self.report.by_owner)
    }

    /// By share, most bytes first.
    #[napi(getter)]
    pub fn by_share(&self) -> Vec<ReportEntry> {
        entries(&self.report.by_share)
    }

    /// By age of last access, youngest first, every bucket.
    #[napi(getter)]
    pub fn by_age(&self) -> Vec<ReportEntry> {
        entries(&self.report.by_age)
    }

    /// By size, smallest first, every bucket.
    #[napi(getter)]
    pub fn by_size(&self) -> Vec<ReportEntry> {
        entries(&self.report.by_size)
    }

    /// The largest files, largest first.
    #[napi(getter)]
    pub fn largest(&self) -> Vec<ReportFile> {
        report_files(&self.report.largest)
    }

    /// The oldest files by last access, oldest first.
    #[napi(getter)]
    pub fn oldest(&self) -> Vec<ReportFile> {
        report_files(&self.report.oldest)
    }

    /// What the rule set given as `rules` would tier now (null without one).
    #[napi(getter)]
    pub fn what_if(&self) -> Option<WhatIf> {
        self.report.what_if.as_ref().map(|w| WhatIf {
            files_scanned: count(w.files_scanned),
            files_skipped: count(w.files_skipped),
            files_matched: count(w.files_matched),
            bytes_matched: size(w.bytes_matched),
            bytes_saved: size(w.bytes_saved),
            jobs: count(w.jobs),
            estimated_seconds: w.estimated_seconds,
            by_rule: w
                .by_rule
                .iter()
                .map(|t| RuleTally {
                    rule: t.rule.clone(),
                    files: count(t.files),
                    bytes: size(t.bytes),
                    bytes_saved: size(t.bytes_saved),
                })
                .collect(),
            unmatched_rules: w.unmatched_rules.clone(),
            disabled_rules: w.disabled_rules.clone(),
            rules: w.rules.clone(),
        })
    }

    /// Every field as a plain object (what `JSON.stringify` writes; bigints must be handled by
    /// the caller's replacer, as for any bigint).
    #[napi(js_name = "toJSON")]
    pub fn to_json(&self) -> ReportJson {
        ReportJson {
            tenant: self.tenant(),
            now: self.now(),
            totals: self.totals(),
            owners_recorded: self.owners_recorded(),
            by_state: self.by_state(),
            by_rule: self.by_rule(),
            by_extension: self.by_extension(),
            by_owner: self.by_owner(),
            by_share: self.by_share(),
            by_age: self.by_age(),
            by_size: self.by_size(),
            largest: self.largest(),
            oldest: self.oldest(),
            share: self.share(),
            what_if: self.what_if(),
        }
    }

    /// The report as one self-contained HTML page, as `alto report --format html` writes it.
    #[napi]
    pub fn to_html(&self) -> String {
        alto::report_html(&self.report)
    }

    /// The report as CSV, as `alto report --format csv` writes it.
    #[napi]
    pub fn to_csv(&self) -> String {
        alto::report_csv(&self.report)
    }
}
