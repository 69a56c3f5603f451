//! The planner: which files a rule set would tier, grouped into jobs, with estimates.
//!
//! Files stream through [`Planner::add`]; each is evaluated at the plan's `now` (first match wins),
//! files already stubbed are skipped before any rule (PLANNED ones are evaluated again, so that
//! committing keeps the plans that still qualify), and matches are grouped by rule
//! and target into jobs of at most `batch_size` files. [`Planner::finish`] returns the
//! [`PlanReport`]: totals, per-rule counts, rules that matched nothing, the jobs with their
//! estimates, and the largest matches. Planning itself writes nothing; committing a plan is the
//! store's business.
//!
//! Estimates: bytes saved is each file's size minus the stub size (never negative); transfer time
//! is bytes at the target's bandwidth plus a fixed overhead per file, jobs taken one after another.

use crate::error::{Error, Result};
use crate::lifecycle::TierState;
use crate::path::object_key;
use crate::store::tiering::{PlanCommit, PlannedFile, PlannedJobSpec};
use crate::time::{Micros, format_rfc3339};
use crate::types::FileRecord;
use alto_rules::{FileFacts, RuleSet, Scratch, TargetVars};
use serde::Serialize;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// How to plan and estimate.
#[derive(Debug, Clone)]
pub struct PlanOptions {
    /// The evaluation time.
    pub now: Micros,
    /// The most files in one job (default 1000).
    pub batch_size: usize,
    /// Bytes a stub still occupies (default 4096).
    pub stub_size: u64,
    /// Bandwidth to targets without their own, in bits per second (default 1 Gbit/s).
    pub bandwidth_bps: f64,
    /// Per-target bandwidth: the first entry whose prefix starts the rendered target wins.
    pub target_bandwidth: Vec<(String, f64)>,
    /// Fixed cost per file in seconds (open, hash, stub swap; default 0.005).
    pub per_file_overhead_secs: f64,
    /// How many of the largest matches to report (default 10).
    pub top_n: usize,
    /// Tenant name for target templates.
    pub tenant: String,
    /// Share name for target templates.
    pub share: String,
    /// Keep each job's files (for committing the plan); a dry run only counts.
    pub keep_files: bool,
}

impl PlanOptions {
    /// Defaults, evaluating at `now`.
    pub fn at(now: Micros) -> Self {
        PlanOptions {
            now,
            batch_size: 1000,
            stub_size: 4096,
            bandwidth_bps: 1e9,
            target_bandwidth: Vec::new(),
            per_file_overhead_secs: 0.005,
            top_n: 10,
            tenant: "default".into(),
            share: "default".into(),
            keep_files: false,
        }
    }

    fn bandwidth_for(&self, target: &str) -> f64 {
        self.target_bandwidth
            .iter()
            .find(|(prefix, _)| target.starts_with(prefix.as_str()))
            .map_or(self.bandwidth_bps, |(_, bps)| *bps)
    }
}

/// Parse a rate: `1Gbit/s`, `100Mbps`, `125MB/s`, `10MiB/s` (bits or bytes per second; k/M/G/T are
/// powers of 1000, Ki/Mi/Gi/Ti of 1024). Returns bits per second.
pub fn parse_rate(s: &str) -> Result<f64> {
    let bad = |why: &str| {
        Error::invalid_input(format!(
            "bad rate {s:?}: {why} (examples: 1Gbit/s, 100Mbps, 125MB/s, 10MiB/s)"
        ))
    };
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num.parse().map_err(|_| bad("no number"))?;
    let unit = unit.trim();
    let unit = unit
        .strip_suffix("/s")
        .or_else(|| unit.strip_suffix("ps"))
        .ok_or_else(|| bad("the unit must end in /s or ps"))?;
    let (scale, rest) = match unit.as_bytes().first() {
        Some(b'k' | b'K') if unit[1..].starts_with('i') => (1024f64, &unit[2..]),
        Some(b'M') if unit[1..].starts_with('i') => (1024f64.powi(2), &unit[2..]),
        Some(b'G') if unit[1..].starts_with('i') => (1024f64.powi(3), &unit[2..]),
        Some(b'T') if unit[1..].starts_with('i') => (1024f64.powi(4), &unit[2..]),
        Some(b'k' | b'K') => (1e3, &unit[1..]),
        Some(b'M') => (1e6, &unit[1..]),
        Some(b'G') => (1e9, &unit[1..]),
        Some(b'T') => (1e12, &unit[1..]),
        _ => (1.0, unit),
    };
    let bits = match rest {
        "bit" | "b" | "bits" => 1.0,
        "B" | "byte" | "bytes" => 8.0,
        _ => return Err(bad("unknown unit")),
    };
    let v = n * scale * bits;
    if v.is_finite() && v > 0.0 {
        Ok(v)
    } else {
        Err(bad("must be positive"))
    }
}

/// Counts of one rule.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RuleTally {
    /// Rule name.
    pub rule: String,
    /// Files it caught.
    pub files: u64,
    /// Their bytes.
    pub bytes: u64,
    /// Bytes they free.
    pub bytes_saved: u64,
}

/// One job of the plan.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PlannedJob {
    /// The rule.
    pub rule: String,
    /// The rendered target.
    pub target: String,
    /// The rule's priority (jobs of lower priority values run first).
    pub priority: i64,
    /// Files in the job.
    pub files: u64,
    /// Their bytes.
    pub bytes: u64,
    /// Bytes they free.
    pub bytes_saved: u64,
    /// Transfer time estimate.
    pub estimated_seconds: f64,
    /// The files, when the plan keeps them ([`PlanOptions::keep_files`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<PlannedFile>,
}

/// One of the largest matches.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct LargeMatch {
    /// Size in bytes.
    pub size: u64,
    /// Path as received.
    pub path: String,
    /// The rule that caught it.
    pub rule: String,
}

/// What a plan would do.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PlanReport {
    /// The evaluation time (RFC 3339).
    pub now: String,
    /// Files looked at (accepted rows).
    pub files_scanned: u64,
    /// Rows the inventory rejected (filled in by the caller that read it).
    pub rows_rejected: u64,
    /// Files skipped because they are already stubbed.
    pub files_skipped: u64,
    /// Files some rule caught.
    pub files_matched: u64,
    /// Their bytes.
    pub bytes_matched: u64,
    /// Bytes freed.
    pub bytes_saved: u64,
    /// Total transfer time estimate, jobs one after another.
    pub estimated_seconds: f64,
    /// Every rule in evaluation order, with what it caught.
    pub by_rule: Vec<RuleTally>,
    /// Enabled rules that caught nothing.
    pub unmatched_rules: Vec<String>,
    /// Rules switched off.
    pub disabled_rules: Vec<String>,
    /// The jobs, by priority then rule order.
    pub jobs: Vec<PlannedJob>,
    /// The largest matches, biggest first.
    pub largest: Vec<LargeMatch>,
}

struct Open {
    files: u64,
    bytes: u64,
    bytes_saved: u64,
    members: Vec<PlannedFile>,
}

/// Streams files through a rule set and builds a [`PlanReport`]. It owns a copy of its rules
/// (taken once, in [`Planner::new`]), so it can be kept, moved across threads and held by the
/// bindings without a lifetime.
pub struct Planner {
    rules: RuleSet,
    opts: PlanOptions,
    scratch: Scratch,
    targets: Vec<String>,
    tallies: Vec<(u64, u64, u64)>,
    open: Vec<Option<Open>>,
    jobs: Vec<(usize, PlannedJob)>,
    largest: BinaryHeap<Reverse<(u64, u64, String, usize)>>,
    seq: u64,
    scanned: u64,
    skipped: u64,
}

impl std::fmt::Debug for Planner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Planner")
            .field("scanned", &self.scanned)
            .finish_non_exhaustive()
    }
}

impl Planner {
    /// A planner for `rules` (copied) with `opts`.
    pub fn new(rules: &RuleSet, opts: PlanOptions) -> Self {
        let n = rules.rules().len();
        let vars = TargetVars {
            tenant: &opts.tenant,
            share: &opts.share,
            at: opts.now,
        };
        let targets = rules
            .rules()
            .iter()
            .map(|r| r.render_target(&vars))
            .collect();
        Planner {
            rules: rules.clone(),
            scratch: rules.scratch(),
            targets,
            tallies: vec![(0, 0, 0); n],
            open: (0..n).map(|_| None).collect(),
            jobs: Vec::new(),
            largest: BinaryHeap::new(),
            seq: 0,
            scanned: 0,
            skipped: 0,
            opts,
        }
    }

    /// Files from here on belong to `share` (for the `{share}` target placeholder). Open batches
    /// are closed when the share changes, so a job never mixes targets. Feed files share by share.
    pub fn set_share(&mut self, share: &str) {
        if share == self.opts.share {
            return;
        }
        for idx in 0..self.open.len() {
            self.close(idx);
        }
        self.opts.share = share.to_owned();
        let vars = TargetVars {
            tenant: &self.opts.tenant,
            share: &self.opts.share,
            at: self.opts.now,
        };
        self.targets = self
            .rules
            .rules()
            .iter()
            .map(|r| r.render_target(&vars))
            .collect();
    }

    /// The rendered target of rule `index` in this plan.
    pub fn target(&self, index: usize) -> &str {
        &self.targets[index]
    }

    /// Evaluate one file. Returns the index of the rule that caught it, if any. A file whose tier
    /// state blocks planning (STUBBED) is counted as skipped and not evaluated; a PLANNED one is
    /// evaluated again (committing decides: already planned, requeued, or withdrawn).
    pub fn add(&mut self, file: &FileFacts<'_>, state: Option<TierState>) -> Option<usize> {
        self.add_inner(file, state, None)
    }

    fn add_inner(
        &mut self,
        file: &FileFacts<'_>,
        state: Option<TierState>,
        key: Option<(&str, &str)>,
    ) -> Option<usize> {
        self.scanned += 1;
        if state.is_some_and(TierState::blocks_planning) {
            self.skipped += 1;
            return None;
        }
        let idx = self
            .rules
            .evaluate(file, self.opts.now, &mut self.scratch)?;
        self.tally(idx, file.size, file.path, key);
        Some(idx)
    }

    /// Count a file whose rule was found elsewhere ([`plan_inventory`] evaluates on several
    /// threads): `idx` is the rule that caught it (`None`: no rule did). The same as
    /// [`add`](Self::add) of an inventory file with that outcome.
    pub fn add_evaluated(&mut self, idx: Option<usize>, size: u64, path: &str) {
        self.scanned += 1;
        if let Some(idx) = idx {
            self.tally(idx, size, path, None);
        }
    }

    /// Whether a match of `size` bytes would be among the largest so far (so its path is
    /// needed).
    fn could_be_largest(&self, size: u64) -> bool {
        self.opts.top_n > 0
            && (self.largest.len() < self.opts.top_n
                || self.largest.peek().is_some_and(|Reverse(t)| size > t.0))
    }

    fn tally(&mut self, idx: usize, size: u64, path: &str, key: Option<(&str, &str)>) {
        let saved = size.saturating_sub(self.opts.stub_size);
        let t = &mut self.tallies[idx];
        t.0 += 1;
        t.1 += size;
        t.2 += saved;
        let open = self.open[idx].get_or_insert(Open {
            files: 0,
            bytes: 0,
            bytes_saved: 0,
            members: Vec::new(),
        });
        open.files += 1;
        open.bytes += size;
        open.bytes_saved += saved;
        if let (true, Some((share, path_key))) = (self.opts.keep_files, key) {
            if let Ok(k) = object_key(path_key) {
                open.members.push(PlannedFile {
                    share: share.to_owned(),
                    path_key: path_key.to_owned(),
                    target_uri: join_target(&self.targets[idx], &k),
                });
            }
        }
        if open.files as usize >= self.opts.batch_size {
            self.close(idx);
        }
        if self.could_be_largest(size) {
            self.seq += 1;
            // Ties keep the earlier file: a later sequence number sorts first for removal.
            self.largest
                .push(Reverse((size, u64::MAX - self.seq, path.to_owned(), idx)));
            if self.largest.len() > self.opts.top_n {
                self.largest.pop();
            }
        }
    }

    /// Evaluate a file record of the store (its own share and tier state), keeping it in its job
    /// when the plan keeps files. A path key that cannot be an object key (a `..` segment) is
    /// counted but not kept.
    pub fn add_record(&mut self, rec: &FileRecord) -> Option<usize> {
        self.set_share(&rec.share);
        let facts = FileFacts {
            path: &rec.entry.path,
            size: rec.entry.size,
            accessed: rec.entry.accessed,
            modified: rec.entry.modified,
        };
        self.add_inner(&facts, rec.state, Some((&rec.share, &rec.path_key)))
    }

    fn close(&mut self, idx: usize) {
        if let Some(open) = self.open[idx].take() {
            let rule = &self.rules.rules()[idx];
            let target = self.targets[idx].clone();
            let bps = self.opts.bandwidth_for(&target);
            let secs = open.bytes as f64 * 8.0 / bps
                + open.files as f64 * self.opts.per_file_overhead_secs;
            self.jobs.push((
                idx,
                PlannedJob {
                    rule: rule.name.clone(),
                    target,
                    priority: rule.priority,
                    files: open.files,
                    bytes: open.bytes,
                    bytes_saved: open.bytes_saved,
                    estimated_seconds: secs,
                    members: open.members,
                },
            ));
        }
    }

    /// Close the open batches and build the report.
    pub fn finish(mut self) -> PlanReport {
        for idx in 0..self.open.len() {
            self.close(idx);
        }
        let order = evaluation_order(&self.rules);
        let rank: Vec<usize> = {
            let mut r = vec![0; order.len()];
            for (pos, &i) in order.iter().enumerate() {
                r[i] = pos;
            }
            r
        };
        // Stable: batches of one rule stay in the order they filled.
        self.jobs.sort_by_key(|(idx, _)| rank[*idx]);
        let rules = self.rules.rules();
        let by_rule: Vec<RuleTally> = order
            .iter()
            .map(|&i| RuleTally {
                rule: rules[i].name.clone(),
                files: self.tallies[i].0,
                bytes: self.tallies[i].1,
                bytes_saved: self.tallies[i].2,
            })
            .collect();
        let unmatched_rules = order
            .iter()
            .filter(|&&i| rules[i].enabled && self.tallies[i].0 == 0)
            .map(|&i| rules[i].name.clone())
            .collect();
        let disabled_rules = rules
            .iter()
            .filter(|r| !r.enabled)
            .map(|r| r.name.clone())
            .collect();
        let jobs: Vec<PlannedJob> = self.jobs.into_iter().map(|(_, j)| j).collect();
        let mut largest: Vec<_> = self.largest.into_iter().map(|Reverse(t)| t).collect();
        largest.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)));
        PlanReport {
            now: format_rfc3339(self.opts.now),
            files_scanned: self.scanned,
            rows_rejected: 0,
            files_skipped: self.skipped,
            files_matched: by_rule.iter().map(|t| t.files).sum(),
            bytes_matched: by_rule.iter().map(|t| t.bytes).sum(),
            bytes_saved: by_rule.iter().map(|t| t.bytes_saved).sum(),
            estimated_seconds: jobs.iter().map(|j| j.estimated_seconds).sum(),
            by_rule,
            unmatched_rules,
            disabled_rules,
            jobs,
            largest: largest
                .into_iter()
                .map(|(size, _, path, idx)| LargeMatch {
                    size,
                    path,
                    rule: rules[idx].name.clone(),
                })
                .collect(),
        }
    }
}

/// A target URI and an object key joined with exactly one `/`.
pub fn join_target(target: &str, key: &str) -> String {
    if target.ends_with('/') {
        format!("{target}{key}")
    } else {
        format!("{target}/{key}")
    }
}

impl PlanReport {
    /// The plan as the store commits it (needs [`PlanOptions::keep_files`]).
    pub fn to_commit(&self, at: Micros) -> PlanCommit {
        PlanCommit {
            at,
            jobs: self
                .jobs
                .iter()
                .map(|j| PlannedJobSpec {
                    rule: j.rule.clone(),
                    target: j.target.clone(),
                    priority: j.priority,
                    estimate: crate::types::Estimate {
                        files: j.files,
                        bytes: j.bytes,
                        bytes_saved: j.bytes_saved,
                        seconds: j.estimated_seconds,
                    },
                    files: j.members.clone(),
                })
                .collect(),
        }
    }
}

/// Rule indices in evaluation order: priority, then position.
pub fn evaluation_order(rules: &RuleSet) -> Vec<usize> {
    let mut order: Vec<usize> = (0..rules.rules().len()).collect();
    order.sort_by_key(|&i| (rules.rules()[i].priority, i));
    order
}

/// What [`plan_inventory`] hands its caller besides the report: each rejection and note, in
/// input order, and the read's progress.
#[derive(Debug)]
pub enum PlanEvent<'a> {
    /// A rejected row.
    Rejected(&'a crate::inventory::Rejection),
    /// A note of the reader (see [`crate::inventory::Mapped::Note`]).
    Note(&'a str),
    /// Bytes of the inventory read so far (after a row, when it changed; never before the
    /// first row, so a note before any progress is one of the file's).
    Progress(crate::inventory::Progress),
}

/// A dry run of `rules` over the inventory file at `path`, read and evaluated on `threads`
/// threads ([`crate::inventory::map_rows`]; [`crate::inventory::default_threads`] is the
/// machine's cores): the report is exactly the one a one-thread read gives, since results go
/// into the [`Planner`] in input order. Nothing is read from or written to any store.
/// `on_event` sees each rejection and note in input order, and the progress. Returns the report
/// (its `rows_rejected` filled in) and the read's counts.
pub fn plan_inventory(
    rules: &RuleSet,
    path: &std::path::Path,
    inventory: &crate::inventory::InventoryOptions,
    opts: PlanOptions,
    threads: usize,
    mut on_event: impl FnMut(PlanEvent<'_>),
) -> Result<(PlanReport, crate::inventory::ReadStats)> {
    use crate::inventory::Mapped;
    let now = opts.now;
    let top_n = opts.top_n;
    let mut planner = Planner::new(rules, opts);
    let mut last_done = None;
    // Each thread keeps the sizes of its own largest matches: a match that is not among them
    // cannot be among the plan's largest, so only those carry their path back.
    let stats = crate::inventory::map_rows(
        path,
        inventory,
        threads,
        || (rules.scratch(), BinaryHeap::<Reverse<u64>>::new()),
        |(scratch, largest), row| {
            let idx = rules.evaluate(&row.facts(), now, scratch);
            let keep_path = idx.is_some()
                && top_n > 0
                && (largest.len() < top_n || largest.peek().is_some_and(|m| row.size > m.0));
            if keep_path {
                largest.push(Reverse(row.size));
                if largest.len() > top_n {
                    largest.pop();
                }
            }
            (idx, row.size, keep_path.then(|| row.path.to_owned()))
        },
        |item, progress| {
            match item {
                Mapped::Row((idx, size, path)) => {
                    planner.add_evaluated(idx, size, path.as_deref().unwrap_or_default());
                }
                Mapped::Rejected(r) => on_event(PlanEvent::Rejected(&r)),
                Mapped::Note(n) => {
                    on_event(PlanEvent::Note(&n));
                    return Ok(());
                }
            }
            if last_done != Some(progress.done) {
                last_done = Some(progress.done);
                on_event(PlanEvent::Progress(progress));
            }
            Ok(())
        },
    )?;
    let mut report = planner.finish();
    report.rows_rejected = stats.rejected;
    Ok((report, stats))
}
