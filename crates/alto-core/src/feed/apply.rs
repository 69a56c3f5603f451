//! Following a feed: read, apply through the store, then re-evaluate what the accesses touched.
//!
//! [`follow_lucid`] reads a `.lucid_audit` tree from the store's cursors and applies it in
//! batches; [`apply_batch_file`] applies a pushed JSON batch; [`apply_events`] is the library call
//! for agents that push events themselves. After each batch, accessed PLANNED files are
//! re-evaluated against the rules (a plan whose rule no longer matches is withdrawn) and accessed
//! STUBBED files follow the tenant's stub-access policy: an alert audit event (`alert`), nothing
//! (`ignore`), or, under `rehydrate`, a `feed.rehydrate_request` audit event and — when the
//! options carry a [`Rehydrator`] — the rehydration itself, through the same fetch, verify and
//! swap as `alto rehydrate` ([`rehydrate_one_with`](crate::worker::rehydrate_one_with)). A rehydration that fails is counted and reported,
//! never fatal to the feed: the file stays STUBBED, its request stays in the audit trail, and
//! `alto rehydrate` (or the next access) brings it back later.

use super::AccessEvent;
use super::lucid::{AuditReader, Malformed, list_audit_files};
use crate::driver::StubDriver;
use crate::error::{Error, ErrorKind, Result};
use crate::lifecycle::{Action, TierState};
use crate::store::feeds::{ApplyOutcome, EventBatch};
use crate::store::{Store, TransitionRequest};
use crate::time::{MICROS_PER_SEC, Micros};
use crate::types::{NewAuditEvent, StubAccessPolicy, Tenant};
use crate::worker::{TargetOpener, rehydrate_one_with};
use alto_rules::{FileFacts, RuleSet};
use serde::Serialize;
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

/// What a feed needs to bring stubbed files back itself (tenant policy `rehydrate`): the tier
/// targets and the stub driver of the primary storage, as `alto rehydrate` uses them.
#[derive(Clone)]
pub struct Rehydrator {
    /// Opens tier targets by URI.
    pub targets: Arc<TargetOpener>,
    /// Restores files on the primary storage.
    pub driver: Arc<dyn StubDriver>,
    /// Shares mounted elsewhere on this host (`--share-root NAME=DIR`).
    pub share_roots: crate::worker::ShareRoots,
}

impl std::fmt::Debug for Rehydrator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rehydrator")
            .field("driver", &self.driver)
            .finish_non_exhaustive()
    }
}

/// How to apply.
#[derive(Debug, Clone)]
pub struct FeedOptions {
    /// Application time.
    pub now: Micros,
    /// Events per store transaction (default 100,000).
    pub batch_events: usize,
    /// Rules to re-evaluate accessed PLANNED files with (none: plans are left to the workers'
    /// re-check).
    pub rules: Option<RuleSet>,
    /// Brings back accessed STUBBED files when the tenant's policy is `rehydrate` (none: the
    /// request is only recorded, audit `feed.rehydrate_request`, for `alto rehydrate`).
    pub rehydrate: Option<Rehydrator>,
}

/// What a pass did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct FeedReport {
    /// Audit files read.
    pub files: u64,
    /// Events read.
    pub read: u64,
    /// Events that changed a record.
    pub applied: u64,
    /// Events seen before.
    pub duplicate: u64,
    /// Events more than 7 days in the future.
    pub skewed: u64,
    /// Events for unknown paths.
    pub unknown: u64,
    /// Lines or updates that were not events.
    pub malformed: u64,
    /// Events older than the record (kept, nothing moved back).
    pub stale: u64,
    /// Plans withdrawn because the file no longer qualifies.
    pub withdrawn: u64,
    /// Accesses to stubbed files reported (alert events or rehydration requests).
    pub stub_accesses: u64,
    /// Stubbed files brought back under the `rehydrate` policy.
    pub rehydrated: u64,
    /// Rehydrations that failed (the file stays a stub; see `rehydrate_errors`).
    pub rehydrate_failed: u64,
    /// Why each failed rehydration failed (`path: error`).
    pub rehydrate_errors: Vec<String>,
    /// Seconds between the newest event and now.
    pub lag_secs: Option<f64>,
}

impl FeedReport {
    fn add(&mut self, o: &ApplyOutcome, now: Micros) {
        self.applied += o.applied;
        self.duplicate += o.duplicate;
        self.skewed += o.skewed;
        self.unknown += o.unknown;
        self.stale += o.stale;
        if let Some(n) = o.newest {
            let lag = (now - n) as f64 / MICROS_PER_SEC as f64;
            self.lag_secs = Some(self.lag_secs.map_or(lag, |l: f64| l.min(lag)));
        }
    }
}

fn feeds(store: &dyn Store) -> Result<&dyn crate::store::Feeds> {
    Ok(store.feeds())
}

/// Apply events pushed by an agent (`feed` names the source for idempotency, e.g. `batch`).
pub async fn apply_events(
    store: &dyn Store,
    tenant: &Tenant,
    share: &str,
    feed: &str,
    events: Vec<AccessEvent>,
    opts: &FeedOptions,
) -> Result<FeedReport> {
    let mut report = FeedReport {
        read: events.len() as u64,
        ..Default::default()
    };
    let parent = batch_event(store, tenant, share, feed, events.len()).await?;
    let batch = EventBatch {
        parent: Some(parent),
        feed: feed.to_owned(),
        events,
        cursors: Vec::new(),
        now: opts.now,
    };
    let out = feeds(store)?.apply_events(tenant.id, share, &batch).await?;
    report.add(&out, opts.now);
    applied_event(store, tenant, share, parent, &out, opts).await?;
    after_batch(store, tenant, &out, opts, parent, &mut report).await?;
    Ok(report)
}

/// Apply an access-event batch file in the seeds' JSON format.
pub async fn apply_batch_file(
    store: &dyn Store,
    tenant: &Tenant,
    share: &str,
    path: &Path,
    opts: &FeedOptions,
) -> Result<FeedReport> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::from(e).prefixed(&format!("cannot read {}", path.display())))?;
    let batch = super::batch::parse_batch(&text, &path.display().to_string())?;
    let malformed = batch.malformed.len() as u64;
    let mut report = apply_events(store, tenant, share, "batch", batch.events, opts).await?;
    report.read += malformed;
    report.malformed = malformed;
    Ok(report)
}

/// One pass over a `.lucid_audit` tree, from the store's cursors, in bounded memory.
///
/// Each audit file is in time order (a client node appends its events as they happen); the files
/// are merged by time (then id) as they are read, one pending event per file, into batches of
/// `opts.batch_events`, so moves and accesses of different nodes meet the same way on every pass.
/// Each batch carries the cursors of the files it consumed, stored with it in one transaction: a
/// crash between batches resumes after the last one applied. Memory holds one batch, one event
/// and one read buffer per file with new lines, whatever the length of the history.
pub async fn follow_lucid(
    store: &dyn Store,
    tenant: &Tenant,
    share: &str,
    root: &Path,
    opts: &FeedOptions,
    on_malformed: &mut dyn FnMut(Malformed),
) -> Result<FeedReport> {
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;
    let f = feeds(store)?;
    let cursors = f.feed_cursors(tenant.id, share, "lucid").await?;
    let mut report = FeedReport::default();
    let mut stats = super::FeedReadStats::default();
    // Per file: its reader, its key, the cursor stored, the cursor to store next.
    let mut readers = Vec::new();
    let mut keys = Vec::new();
    let mut saved = Vec::new();
    let mut consumed = Vec::new();
    let mut pending: Vec<Option<AccessEvent>> = Vec::new();
    let mut heap: BinaryHeap<Reverse<(Micros, String, usize)>> = BinaryHeap::new();
    for file in list_audit_files(root)? {
        let key = (file.node.clone(), file.stem.clone());
        let from = cursors.get(&key).copied().unwrap_or_default();
        let mut r = AuditReader::open(file, from, &mut stats)?;
        let idx = readers.len();
        match r.next_event(&mut stats, on_malformed)? {
            Some((ev, _)) => {
                heap.push(Reverse((ev.at, ev.id.clone(), idx)));
                pending.push(Some(ev));
                consumed.push(from);
            }
            // Nothing new but maybe skipped or malformed lines: the cursor moves past them.
            None => {
                pending.push(None);
                consumed.push(r.cursor());
            }
        }
        readers.push(r);
        keys.push(key);
        saved.push(from);
    }
    let size = opts.batch_events.max(1);
    loop {
        let mut events = Vec::with_capacity(size.min(heap.len().max(1) * 64));
        while events.len() < size {
            let Some(Reverse((_, _, idx))) = heap.pop() else {
                break;
            };
            let ev = pending[idx].take().expect("a pending event per heap entry");
            let r = &mut readers[idx];
            match r.next_event(&mut stats, on_malformed)? {
                Some((next, before)) => {
                    // Consumed up to the next event's line (its own line once it is taken).
                    consumed[idx] = before;
                    heap.push(Reverse((next.at, next.id.clone(), idx)));
                    pending[idx] = Some(next);
                }
                None => consumed[idx] = r.cursor(),
            }
            events.push(ev);
        }
        let moved: Vec<_> = (0..readers.len())
            .filter(|&i| consumed[i] != saved[i])
            .map(|i| (keys[i].clone(), consumed[i]))
            .collect();
        if events.is_empty() && moved.is_empty() {
            break;
        }
        for (i, c) in consumed.iter().enumerate() {
            saved[i] = *c;
        }
        let mut batch = EventBatch {
            parent: None,
            feed: "lucid".into(),
            events,
            cursors: moved,
            now: opts.now,
        };
        flush(store, tenant, share, &mut batch, opts, &mut report).await?;
        if heap.is_empty() {
            break;
        }
    }
    report.files = stats.files;
    report.read = stats.read;
    report.malformed = stats.malformed;
    Ok(report)
}

async fn flush(
    store: &dyn Store,
    tenant: &Tenant,
    share: &str,
    pending: &mut EventBatch,
    opts: &FeedOptions,
    report: &mut FeedReport,
) -> Result<()> {
    let parent = batch_event(store, tenant, share, &pending.feed, pending.events.len()).await?;
    pending.parent = Some(parent);
    let out = feeds(store)?
        .apply_events(tenant.id, share, pending)
        .await?;
    pending.events.clear();
    pending.cursors.clear();
    report.add(&out, opts.now);
    applied_event(store, tenant, share, parent, &out, opts).await?;
    after_batch(store, tenant, &out, opts, parent, report).await
}

/// The trail's `feed.batch` event, written before the batch is applied: the parent of what the
/// batch does (the DELETED transitions the store writes, the outcome, the stub-access alerts).
/// A batch whose application fails keeps its `feed.batch` event with no outcome under it.
async fn batch_event(
    store: &dyn Store,
    tenant: &Tenant,
    share: &str,
    feed: &str,
    events: usize,
) -> Result<i64> {
    let e = store
        .append_audit(
            tenant.id,
            &NewAuditEvent {
                kind: "feed.batch".into(),
                subject: share.to_owned(),
                detail: serde_json::json!({"feed": feed, "events": events}),
                parent: None,
            },
        )
        .await?;
    Ok(e.id)
}

/// The batch's `feed.applied` event, under its `feed.batch`: the counts by outcome and the lag
/// (how far behind the newest applied event is).
async fn applied_event(
    store: &dyn Store,
    tenant: &Tenant,
    share: &str,
    batch: i64,
    out: &ApplyOutcome,
    opts: &FeedOptions,
) -> Result<()> {
    let lag = out
        .newest
        .map(|n| (opts.now - n) as f64 / MICROS_PER_SEC as f64);
    crate::telemetry::feed_batch(out, lag);
    store
        .append_audit(
            tenant.id,
            &NewAuditEvent {
                kind: "feed.applied".into(),
                subject: share.to_owned(),
                detail: serde_json::json!({
                    "applied": out.applied,
                    "duplicate": out.duplicate,
                    "skewed": out.skewed,
                    "unknown": out.unknown,
                    "stale": out.stale,
                    "other": out.other,
                    "moved": out.moved,
                    "deleted": out.deleted,
                    "lag_secs": lag,
                }),
                parent: Some(batch),
            },
        )
        .await?;
    Ok(())
}

/// Re-evaluate accessed PLANNED files; report accessed STUBBED ones by policy.
async fn after_batch(
    store: &dyn Store,
    tenant: &Tenant,
    out: &ApplyOutcome,
    opts: &FeedOptions,
    batch_event: i64,
    report: &mut FeedReport,
) -> Result<()> {
    let q = store.tiering();
    let mut seen = BTreeSet::new();
    for w in out.warmed.iter().rev() {
        if !seen.insert((w.share.clone(), w.path_key.clone())) {
            continue;
        }
        let mut state = w.state;
        if state == TierState::Planned {
            let Some(rules) = &opts.rules else {
                continue;
            };
            let rec = q.file(tenant.id, &w.share, &w.path_key).await?;
            let obj = store.tier_object(tenant.id, &w.share, &w.path_key).await?;
            let facts = FileFacts {
                path: &rec.entry.path,
                size: rec.entry.size,
                accessed: rec.entry.accessed,
                modified: rec.entry.modified,
            };
            let mut scratch = rules.scratch();
            let still = rules
                .evaluate(&facts, opts.now, &mut scratch)
                .is_some_and(|i| rules.rules()[i].name == obj.planned_by);
            if still || obj.state != TierState::Planned {
                state = obj.state;
            } else {
                let req = TransitionRequest {
                    share: w.share.clone(),
                    path_key: w.path_key.clone(),
                    action: Action::Withdraw,
                    expected: Some((obj.state, obj.version)),
                    stored: None,
                    plan: None,
                    at: opts.now,
                };
                match store.transition(tenant.id, &req).await {
                    Ok(_) => {
                        report.withdrawn += 1;
                        continue;
                    }
                    // A worker got there first: the file is a stub now.
                    Err(e) if e.kind() == ErrorKind::Conflict => {
                        state = store
                            .tier_object(tenant.id, &w.share, &w.path_key)
                            .await?
                            .state;
                    }
                    Err(e) => return Err(e),
                }
            }
        }
        if state == TierState::Stubbed {
            let kind = match tenant.settings.stub_access {
                StubAccessPolicy::Alert => "feed.stub_access",
                StubAccessPolicy::Rehydrate => "feed.rehydrate_request",
                StubAccessPolicy::Ignore => continue,
            };
            store
                .append_audit(
                    tenant.id,
                    &NewAuditEvent {
                        kind: kind.into(),
                        subject: w.path_key.clone(),
                        detail: serde_json::json!({"share": w.share, "accessed": w.at}),
                        parent: Some(batch_event),
                    },
                )
                .await?;
            report.stub_accesses += 1;
            if let (StubAccessPolicy::Rehydrate, Some(r)) =
                (tenant.settings.stub_access, &opts.rehydrate)
            {
                rehydrate(store, tenant, &w.share, &w.path_key, r, report).await?;
            }
        }
    }
    Ok(())
}

/// Bring one accessed stub back, as `alto rehydrate` does; a failure is counted, not returned.
async fn rehydrate(
    store: &dyn Store,
    tenant: &Tenant,
    share: &str,
    path_key: &str,
    r: &Rehydrator,
    report: &mut FeedReport,
) -> Result<()> {
    let obj = store.tier_object(tenant.id, share, path_key).await?;
    // Someone else (`alto rehydrate`, another feed pass) got there first.
    if obj.state != TierState::Stubbed {
        return Ok(());
    }
    match rehydrate_one_with(
        store,
        tenant,
        &obj,
        r.targets.as_ref(),
        r.driver.as_ref(),
        &r.share_roots,
    )
    .await
    {
        Ok(_) => report.rehydrated += 1,
        Err(e) => {
            report.rehydrate_failed += 1;
            report.rehydrate_errors.push(format!("{}: {e}", obj.path));
        }
    }
    Ok(())
}
