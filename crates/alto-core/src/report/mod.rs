//! Reports: where a tenant's space is, what tiering has saved and what it has planned.
//!
//! This module holds the domain decisions every store follows, so that the memory store, SQLite
//! and PostgreSQL give the same numbers (the conformance suite checks it, with
//! [`Accumulator`] as the reference):
//!
//! - **What counts**: the tenant's file records (of one share, when asked) that no full scan has
//!   marked missing. Missing records are left out of every breakdown and counted apart
//!   ([`ReportAggregates::missing`]).
//! - **Saved** is the bytes of files in state STUBBED, **planned** of files in state PLANNED, each
//!   at the size the inventory last gave (REHYDRATED and DELETED files are in the state breakdown
//!   only).
//! - **Breakdowns**: every breakdown divides the same files, so each one sums to the totals. By
//!   tier state (`None`: no tier object), by rule (the `planned_by` of the file's tier object, in
//!   any state; `None`: no tier object), by extension (lower-cased in ASCII only, so `MOV` and
//!   `mov` are one, as every store's SQL can do it; `None`: no extension), by owner (exactly as the
//!   inventory gave it; `None`: not recorded), by share, by age and by size.
//! - **Age** is `now` minus the last access, or the last modification when no access time is
//!   known (as the rules judge `accessed_before`); `unknown` when neither is. A time in the future
//!   is younger than 30 days. Buckets ([`AGE_LABELS`]) include their lower bound: a file accessed
//!   exactly 30 days ago is in `30d-90d`. A year is 365 days.
//! - **Size** buckets ([`SIZE_LABELS`]) are powers of 16 from 4 KiB and include their lower bound:
//!   a file of exactly 4 KiB is in `4KiB-64KiB`.
//! - **Largest** and **oldest** list the top N files (default 20): by size, largest first, and by
//!   age as above, oldest first (files of unknown age are not listed); ties by share name, then
//!   path key, in byte order.
//!
//! A store computes the numbers in its own query language ([`Store::report_aggregates`], a
//! [`ReportAggregates`]); the user surface ([`Report`], built by [`Report::build`]) names the
//! buckets, orders the entries and adds the what-if of a rule set ([`WhatIf`], the planner's
//! dry run).
//!
//! [`Store::report_aggregates`]: crate::store::Store::report_aggregates

use crate::lifecycle::TierState;
use crate::time::{MICROS_PER_SEC, Micros};
use crate::types::FileRecord;
use serde::Serialize;
use std::cmp::Reverse;

/// Microseconds in a day.
pub const DAY: Micros = 86_400 * MICROS_PER_SEC;

/// How many files the largest and oldest lists hold unless asked otherwise.
pub const DEFAULT_TOP_N: usize = 20;

/// The lower bounds, in days, of the age buckets after the first (`30d-90d` … `>=5y`).
pub const AGE_BOUNDS_DAYS: [i64; 6] = [30, 90, 180, 365, 730, 1825];

/// The age buckets' names, youngest first, then `unknown` (no access or modification time).
pub const AGE_LABELS: [&str; 8] = [
    "<30d", "30d-90d", "90d-180d", "180d-1y", "1y-2y", "2y-5y", ">=5y", "unknown",
];

/// The index of the `unknown` age bucket.
pub const AGE_UNKNOWN: usize = AGE_LABELS.len() - 1;

const KIB: u64 = 1024;

/// The lower bounds, in bytes, of the size buckets after the first (`4KiB-64KiB` … `>=4GiB`).
pub const SIZE_BOUNDS: [u64; 6] = [
    4 * KIB,
    64 * KIB,
    KIB * KIB,
    16 * KIB * KIB,
    256 * KIB * KIB,
    4 * KIB * KIB * KIB,
];

/// The size buckets' names, smallest first.
pub const SIZE_LABELS: [&str; 7] = [
    "<4KiB",
    "4KiB-64KiB",
    "64KiB-1MiB",
    "1MiB-16MiB",
    "16MiB-256MiB",
    "256MiB-4GiB",
    ">=4GiB",
];

/// The time a file's age is measured from: its last access, else its last modification.
pub fn age_time(accessed: Option<Micros>, modified: Option<Micros>) -> Option<Micros> {
    accessed.or(modified)
}

/// The age thresholds at `now`, oldest first, for SQL: a file of age time `t` is in the age
/// bucket [`age_bucket_from_count`] of the number of thresholds `<= t` (PostgreSQL's
/// `width_bucket(t, thresholds)`, or a sum of comparisons). Threshold `i` is one microsecond
/// after `now` minus the `5 - i`th bound, so that an age of exactly a bound falls in the older
/// bucket.
pub fn age_thresholds(now: Micros) -> [Micros; 6] {
    let mut t = [0; 6];
    for (i, days) in AGE_BOUNDS_DAYS.iter().rev().enumerate() {
        t[i] = now.saturating_sub(days * DAY).saturating_add(1);
    }
    t
}

/// The age bucket (an index into [`AGE_LABELS`]) of a file whose age time reaches `count` of
/// the [`age_thresholds`] (`None`: no age time).
pub fn age_bucket_from_count(count: Option<i64>) -> usize {
    match count {
        None => AGE_UNKNOWN,
        Some(c) => AGE_BOUNDS_DAYS.len() - (c.clamp(0, AGE_BOUNDS_DAYS.len() as i64) as usize),
    }
}

/// The age bucket (an index into [`AGE_LABELS`]) of a file with age time `t` at `now`.
pub fn age_bucket(now: Micros, t: Option<Micros>) -> usize {
    age_bucket_from_count(
        t.map(|t| age_thresholds(now).iter().filter(|&&th| th <= t).count() as i64),
    )
}

/// The size bucket (an index into [`SIZE_LABELS`]) of `size` bytes: how many of
/// [`SIZE_BOUNDS`] it reaches.
pub fn size_bucket(size: u64) -> usize {
    SIZE_BOUNDS.iter().filter(|&&b| b <= size).count()
}

/// The extension a report groups by: lower-cased in ASCII, `None` when absent or empty.
pub fn extension_key(ext: Option<&str>) -> Option<String> {
    ext.filter(|e| !e.is_empty()).map(str::to_ascii_lowercase)
}

/// The owner a report groups by: as recorded, `None` when absent or empty.
pub fn owner_key(owner: Option<&str>) -> Option<String> {
    owner.filter(|o| !o.is_empty()).map(str::to_owned)
}

/// What a report covers and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportQuery {
    /// Only this share (`None`: all the tenant's shares).
    pub share: Option<String>,
    /// The time ages are measured at.
    pub now: Micros,
    /// How many files the largest and oldest lists hold (0: none).
    pub top_n: usize,
}

impl ReportQuery {
    /// All shares at `now`, with the default lists of [`DEFAULT_TOP_N`] files.
    pub fn at(now: Micros) -> Self {
        ReportQuery {
            share: None,
            now,
            top_n: DEFAULT_TOP_N,
        }
    }
}

/// Files and bytes of some set of files, and of those of them that are STUBBED (saved) and
/// PLANNED.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    /// Files.
    pub files: u64,
    /// Their bytes.
    pub bytes: u64,
    /// Of them, files in state STUBBED.
    pub stubbed_files: u64,
    /// Their bytes: space saved.
    pub stubbed_bytes: u64,
    /// Of them, files in state PLANNED.
    pub planned_files: u64,
    /// Their bytes: space planned.
    pub planned_bytes: u64,
}

impl Tally {
    /// Count one file of `size` bytes in `state`.
    pub fn add(&mut self, size: u64, state: Option<TierState>) {
        self.files += 1;
        self.bytes = self.bytes.saturating_add(size);
        match state {
            Some(TierState::Stubbed) => {
                self.stubbed_files += 1;
                self.stubbed_bytes = self.stubbed_bytes.saturating_add(size);
            }
            Some(TierState::Planned) => {
                self.planned_files += 1;
                self.planned_bytes = self.planned_bytes.saturating_add(size);
            }
            _ => {}
        }
    }

    /// Add another tally.
    pub fn merge(&mut self, o: &Tally) {
        self.files += o.files;
        self.bytes = self.bytes.saturating_add(o.bytes);
        self.stubbed_files += o.stubbed_files;
        self.stubbed_bytes = self.stubbed_bytes.saturating_add(o.stubbed_bytes);
        self.planned_files += o.planned_files;
        self.planned_bytes = self.planned_bytes.saturating_add(o.planned_bytes);
    }
}

/// One group of a breakdown as a store computes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Group {
    /// The value grouped by (`None`: the files that have none).
    pub key: Option<String>,
    /// Its files.
    #[serde(flatten)]
    pub tally: Tally,
}

/// One file of the largest or oldest list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReportFile {
    /// Share name.
    pub share: String,
    /// Path as received.
    pub path: String,
    /// Path key (the order of ties).
    #[serde(skip)]
    pub path_key: String,
    /// Size in bytes.
    pub size: u64,
    /// Last accessed.
    pub accessed: Option<Micros>,
    /// Last modified.
    pub modified: Option<Micros>,
    /// Owner as recorded.
    pub owner: Option<String>,
    /// Tier state.
    pub state: Option<TierState>,
}

impl ReportFile {
    /// The file of a record.
    pub fn of(rec: &FileRecord) -> Self {
        ReportFile {
            share: rec.share.clone(),
            path: rec.entry.path.clone(),
            path_key: rec.path_key.clone(),
            size: rec.entry.size,
            accessed: rec.entry.accessed,
            modified: rec.entry.modified,
            owner: rec.entry.owner.clone(),
            state: rec.state,
        }
    }

    fn largest_order(&self) -> (Reverse<u64>, &str, &str) {
        (Reverse(self.size), &self.share, &self.path_key)
    }

    fn oldest_order(&self) -> (Option<Micros>, &str, &str) {
        (
            age_time(self.accessed, self.modified),
            &self.share,
            &self.path_key,
        )
    }
}

/// What a store computes for a report ([`Store::report_aggregates`]): the SPI's exchange type.
///
/// Groups may come in any order ([`ReportAggregates::normalize`] sorts them by key); the age
/// and size breakdowns have one tally per bucket, in the order of [`AGE_LABELS`] and
/// [`SIZE_LABELS`], empty buckets included.
///
/// [`Store::report_aggregates`]: crate::store::Store::report_aggregates
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReportAggregates {
    /// Every file counted.
    pub totals: Tally,
    /// Files left out because a full scan no longer saw them.
    pub missing: Tally,
    /// By tier state (`PLANNED`, …; `None`: no tier object).
    pub by_state: Vec<Group>,
    /// By the rule that planned the file's tier object (`None`: no tier object).
    pub by_rule: Vec<Group>,
    /// By extension ([`extension_key`]).
    pub by_extension: Vec<Group>,
    /// By owner ([`owner_key`]).
    pub by_owner: Vec<Group>,
    /// By share name.
    pub by_share: Vec<Group>,
    /// By age bucket, one per [`AGE_LABELS`].
    pub by_age: Vec<Tally>,
    /// By size bucket, one per [`SIZE_LABELS`].
    pub by_size: Vec<Tally>,
    /// The largest files, largest first.
    pub largest: Vec<ReportFile>,
    /// The oldest files (by age time), oldest first.
    pub oldest: Vec<ReportFile>,
}

impl Default for ReportAggregates {
    fn default() -> Self {
        ReportAggregates {
            totals: Tally::default(),
            missing: Tally::default(),
            by_state: Vec::new(),
            by_rule: Vec::new(),
            by_extension: Vec::new(),
            by_owner: Vec::new(),
            by_share: Vec::new(),
            by_age: vec![Tally::default(); AGE_LABELS.len()],
            by_size: vec![Tally::default(); SIZE_LABELS.len()],
            largest: Vec::new(),
            oldest: Vec::new(),
        }
    }
}

impl ReportAggregates {
    /// The groups in key order (`None` first, then byte order), so that two stores' answers
    /// compare equal.
    pub fn normalize(mut self) -> Self {
        for g in [
            &mut self.by_state,
            &mut self.by_rule,
            &mut self.by_extension,
            &mut self.by_owner,
            &mut self.by_share,
        ] {
            g.sort_by(|a, b| a.key.cmp(&b.key));
        }
        self
    }

    /// Combine a store's two reads of a report: `all` counts every file (files and bytes of the
    /// totals, the missing files, and the extension, owner, share, age and size breakdowns;
    /// nothing else), `tiered` the files that have a tier object (the same breakdowns with their
    /// STUBBED and PLANNED sums, the state and rule breakdowns, and in `missing` the STUBBED and
    /// PLANNED sums of the missing ones; its totals are not read). The files without a tier
    /// object are the difference: the read of every file needs no join.
    pub fn combine(all: ReportAggregates, tiered: ReportAggregates) -> ReportAggregates {
        let mut out = all;
        let mut tiered_total = Tally::default();
        for g in &tiered.by_state {
            tiered_total.merge(&g.tally);
        }
        let saved_planned = |into: &mut Tally, from: &Tally| {
            into.stubbed_files += from.stubbed_files;
            into.stubbed_bytes = into.stubbed_bytes.saturating_add(from.stubbed_bytes);
            into.planned_files += from.planned_files;
            into.planned_bytes = into.planned_bytes.saturating_add(from.planned_bytes);
        };
        saved_planned(&mut out.totals, &tiered_total);
        saved_planned(&mut out.missing, &tiered.missing);
        let untiered = Tally {
            files: out.totals.files.saturating_sub(tiered_total.files),
            bytes: out.totals.bytes.saturating_sub(tiered_total.bytes),
            ..Tally::default()
        };
        out.by_state = tiered.by_state;
        out.by_rule = tiered.by_rule;
        if untiered.files > 0 {
            out.by_state.push(Group {
                key: None,
                tally: untiered,
            });
            out.by_rule.push(Group {
                key: None,
                tally: untiered,
            });
        }
        for (into, from) in [
            (&mut out.by_extension, &tiered.by_extension),
            (&mut out.by_owner, &tiered.by_owner),
            (&mut out.by_share, &tiered.by_share),
        ] {
            for g in from {
                if let Some(o) = into.iter_mut().find(|o| o.key == g.key) {
                    saved_planned(&mut o.tally, &g.tally);
                }
            }
        }
        for (into, from) in [
            (&mut out.by_age, &tiered.by_age),
            (&mut out.by_size, &tiered.by_size),
        ] {
            for (o, t) in into.iter_mut().zip(from) {
                saved_planned(o, t);
            }
        }
        out.normalize()
    }

    /// Add a tally to the group `key` of `groups` (a store folding its rows).
    pub fn add_to(groups: &mut Vec<Group>, key: Option<String>, tally: &Tally) {
        match groups.iter_mut().find(|g| g.key == key) {
            Some(g) => g.tally.merge(tally),
            None => groups.push(Group { key, tally: *tally }),
        }
    }
}

/// The reference computation of a report: files in, [`ReportAggregates`] out. The memory store
/// uses it, and the conformance suite checks the SQL stores against it.
#[derive(Debug)]
pub struct Accumulator {
    query: ReportQuery,
    out: ReportAggregates,
    by_state: std::collections::BTreeMap<Option<TierState>, Tally>,
    by_rule: std::collections::BTreeMap<Option<String>, Tally>,
    by_extension: std::collections::BTreeMap<Option<String>, Tally>,
    by_owner: std::collections::BTreeMap<Option<String>, Tally>,
    by_share: std::collections::BTreeMap<Option<String>, Tally>,
}

impl Accumulator {
    /// An empty report of `query` (its share filter is the caller's to apply).
    pub fn new(query: &ReportQuery) -> Self {
        Accumulator {
            query: query.clone(),
            out: ReportAggregates::default(),
            by_state: Default::default(),
            by_rule: Default::default(),
            by_extension: Default::default(),
            by_owner: Default::default(),
            by_share: Default::default(),
        }
    }

    /// Count one file record; `planned_by` is the rule of its tier object, if it has one.
    pub fn add(&mut self, rec: &FileRecord, planned_by: Option<&str>) {
        let size = rec.entry.size;
        let state = rec.state;
        if rec.missing_since.is_some() {
            self.out.missing.add(size, state);
            return;
        }
        self.out.totals.add(size, state);
        self.by_state.entry(state).or_default().add(size, state);
        self.by_rule
            .entry(planned_by.map(str::to_owned))
            .or_default()
            .add(size, state);
        self.by_extension
            .entry(extension_key(rec.entry.extension.as_deref()))
            .or_default()
            .add(size, state);
        self.by_owner
            .entry(owner_key(rec.entry.owner.as_deref()))
            .or_default()
            .add(size, state);
        self.by_share
            .entry(Some(rec.share.clone()))
            .or_default()
            .add(size, state);
        let t = age_time(rec.entry.accessed, rec.entry.modified);
        self.out.by_age[age_bucket(self.query.now, t)].add(size, state);
        self.out.by_size[size_bucket(size)].add(size, state);
        let n = self.query.top_n;
        if n > 0 {
            let f = ReportFile::of(rec);
            if t.is_some() {
                self.out.oldest.push(f.clone());
                if self.out.oldest.len() >= 2 * n {
                    self.out
                        .oldest
                        .sort_by(|a, b| a.oldest_order().cmp(&b.oldest_order()));
                    self.out.oldest.truncate(n);
                }
            }
            self.out.largest.push(f);
            if self.out.largest.len() >= 2 * n {
                self.out
                    .largest
                    .sort_by(|a, b| a.largest_order().cmp(&b.largest_order()));
                self.out.largest.truncate(n);
            }
        }
    }

    /// The aggregates, normalized.
    pub fn finish(mut self) -> ReportAggregates {
        let groups = |m: std::collections::BTreeMap<Option<String>, Tally>| {
            m.into_iter()
                .map(|(key, tally)| Group { key, tally })
                .collect::<Vec<_>>()
        };
        self.out.by_state = self
            .by_state
            .into_iter()
            .map(|(s, tally)| Group {
                key: s.map(|s| s.as_str().to_owned()),
                tally,
            })
            .collect();
        self.out.by_rule = groups(self.by_rule);
        self.out.by_extension = groups(self.by_extension);
        self.out.by_owner = groups(self.by_owner);
        self.out.by_share = groups(self.by_share);
        let n = self.query.top_n;
        self.out
            .largest
            .sort_by(|a, b| a.largest_order().cmp(&b.largest_order()));
        self.out.largest.truncate(n);
        self.out
            .oldest
            .sort_by(|a, b| a.oldest_order().cmp(&b.oldest_order()));
        self.out.oldest.truncate(n);
        self.out.normalize()
    }
}

mod output;
pub use output::*;

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Micros = 1_800_000_000 * MICROS_PER_SEC;

    #[test]
    fn age_buckets_include_their_lower_bound() {
        let at = |days: i64| age_bucket(NOW, Some(NOW - days * DAY));
        assert_eq!(at(0), 0);
        assert_eq!(age_bucket(NOW, Some(NOW + DAY)), 0, "the future is young");
        assert_eq!(age_bucket(NOW, Some(NOW - 30 * DAY + 1)), 0);
        assert_eq!(at(30), 1);
        assert_eq!(at(89), 1);
        assert_eq!(at(90), 2);
        assert_eq!(at(180), 3);
        assert_eq!(at(364), 3);
        assert_eq!(at(365), 4);
        assert_eq!(at(730), 5);
        assert_eq!(at(1824), 5);
        assert_eq!(at(1825), 6);
        assert_eq!(at(100_000), 6);
        assert_eq!(age_bucket(NOW, None), AGE_UNKNOWN);
        assert_eq!(AGE_LABELS[AGE_UNKNOWN], "unknown");
    }

    #[test]
    fn size_buckets_include_their_lower_bound() {
        assert_eq!(size_bucket(0), 0);
        assert_eq!(size_bucket(4095), 0);
        assert_eq!(size_bucket(4096), 1);
        assert_eq!(size_bucket(65_535), 1);
        assert_eq!(size_bucket(65_536), 2);
        assert_eq!(size_bucket(1 << 20), 3);
        assert_eq!(size_bucket((1 << 32) - 1), 5);
        assert_eq!(size_bucket(1 << 32), 6);
        assert_eq!(size_bucket(u64::MAX), 6);
        assert_eq!(SIZE_LABELS.len(), SIZE_BOUNDS.len() + 1);
        assert_eq!(AGE_LABELS.len(), AGE_BOUNDS_DAYS.len() + 2);
    }

    #[test]
    fn keys() {
        assert_eq!(extension_key(Some("MOV")), Some("mov".into()));
        assert_eq!(extension_key(Some("ÉTÉ")), Some("ÉtÉ".into()), "ASCII only");
        assert_eq!(extension_key(Some("")), None);
        assert_eq!(owner_key(Some("")), None);
        assert_eq!(owner_key(Some("DOMAIN\\Ann")), Some("DOMAIN\\Ann".into()));
    }

    fn rec(share: &str, key: &str, size: u64, at: Option<Micros>) -> FileRecord {
        FileRecord {
            share: share.into(),
            path_key: key.into(),
            entry: crate::types::FileEntry {
                path: key.into(),
                size,
                accessed: at,
                ..Default::default()
            },
            ..Default::default()
        }
    }

    #[test]
    fn accumulator_and_report() {
        let q = ReportQuery {
            top_n: 2,
            ..ReportQuery::at(NOW)
        };
        let mut acc = Accumulator::new(&q);
        let mut a = rec("s", "/a", 10, Some(NOW));
        a.state = Some(TierState::Stubbed);
        acc.add(&a, Some("r1"));
        let mut b = rec("s", "/b", 10, Some(NOW - 400 * DAY));
        b.state = Some(TierState::Planned);
        b.entry.owner = Some("ann".into());
        acc.add(&b, Some("r2"));
        acc.add(&rec("t", "/c", 5000, None), None);
        let mut gone = rec("s", "/d", 7, None);
        gone.missing_since = Some(1);
        acc.add(&gone, None);
        let aggs = acc.finish();
        assert_eq!(aggs.totals.files, 3);
        assert_eq!(aggs.totals.bytes, 5020);
        assert_eq!((aggs.missing.files, aggs.missing.bytes), (1, 7));
        assert_eq!(
            aggs.largest.iter().map(|f| &*f.path).collect::<Vec<_>>(),
            ["/c", "/a"],
            "ties by share, then key"
        );
        assert_eq!(
            aggs.oldest.iter().map(|f| &*f.path).collect::<Vec<_>>(),
            ["/b", "/a"]
        );
        let r = Report::build("t1", &q, aggs);
        assert_eq!(
            r.totals.saved,
            Amount {
                files: 1,
                bytes: 10
            }
        );
        assert_eq!(
            r.totals.planned,
            Amount {
                files: 1,
                bytes: 10
            }
        );
        assert!(r.owners_recorded);
        let labels = |e: &[ReportEntry]| e.iter().map(|e| e.label.clone()).collect::<Vec<_>>();
        assert_eq!(
            labels(&r.by_state),
            ["(no tier object)", "PLANNED", "STUBBED"]
        );
        assert_eq!(labels(&r.by_rule)[0], "(no tier object)");
        assert_eq!(r.by_age.len(), 8);
        assert_eq!(r.by_age[0].tally.files, 1);
        assert_eq!(r.by_age[4].tally.files, 1);
        assert_eq!(r.by_age[7].tally.files, 1);
        for (_, _, entries) in r.sections() {
            let files: u64 = entries.iter().map(|e| e.tally.files).sum();
            let bytes: u64 = entries.iter().map(|e| e.tally.bytes).sum();
            assert_eq!(
                (files, bytes),
                (3, 5020),
                "every breakdown sums to the totals"
            );
        }
    }
}
