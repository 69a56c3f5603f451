//! The in-process reference store (`memory://`): everything in one mutex, nothing on disk.
//!
//! It is the executable specification of [`Store`]: the simplest code that keeps every promise of
//! the contract, run through the same conformance suite as the SQL backends. Good for tests, dry
//! runs and embedding where nothing must persist.

use super::feeds::*;
use super::merge::{Change, merge};
use super::tiering::*;
use super::*;
use crate::error::{Error, ErrorKind};
use crate::feed::lucid::Cursors;
use crate::feed::{AccessEvent, FeedAction};
use crate::lifecycle::transition;
use crate::time::now_micros;
use crate::types::{AccessSource, Actor, UnknownPathPolicy};
use crate::types::{Job, JobState};
use std::collections::{BTreeMap, HashSet};
use std::sync::Mutex;

type Key = (TenantId, String, String);

#[derive(Debug, Default)]
struct Inner {
    tenants: Vec<Tenant>,
    shares: Vec<Share>,
    scans: Vec<(TenantId, Scan, bool)>,
    chunks: HashSet<(TenantId, i64, String)>,
    files: BTreeMap<Key, FileRecord>,
    snapshots: Vec<(TenantId, i64, FileRecord)>,
    objects: BTreeMap<Key, TierObject>,
    audit: Vec<(TenantId, AuditEvent)>,
    jobs: Vec<(TenantId, Job, i64)>,
    job_of: BTreeMap<Key, i64>,
    /// Applied feed event ids, with when.
    processed: BTreeMap<(TenantId, String, String), Micros>,
    cursors: BTreeMap<(TenantId, String, String), Cursors>,
    unknown: Vec<(TenantId, String, AccessEvent)>,
    /// Every tier object id ever given, and to whom (ids are never given twice).
    tier_ids: BTreeMap<i64, TenantId>,
    next_id: i64,
    actor: Option<Actor>,
    /// The parent of the tier events written now (a job's event while its files change).
    parent: Option<i64>,
}

impl Inner {
    fn id(&mut self) -> i64 {
        self.next_id += 1;
        self.next_id
    }

    fn tenant(&self, id: TenantId) -> Result<&Tenant> {
        self.tenants
            .iter()
            .find(|t| t.id == id)
            .ok_or_else(|| Error::not_found(format!("tenant {id} does not exist")))
    }

    /// `NotFound` unless `parent`, when given, is an audit event of `tenant`.
    fn check_parent(&self, tenant: TenantId, parent: Option<i64>) -> Result<()> {
        match parent {
            Some(p) if !self.audit.iter().any(|(t, e)| *t == tenant && e.id == p) => Err(
                Error::not_found(format!("parent audit event {p} does not exist")),
            ),
            _ => Ok(()),
        }
    }

    fn share(&self, tenant: TenantId, name: &str) -> Result<&Share> {
        self.shares
            .iter()
            .find(|s| s.tenant == tenant && s.name == name)
            .ok_or_else(|| Error::not_found(format!("share {name:?} does not exist")))
    }

    fn transition(
        &mut self,
        tenant: TenantId,
        req: &TransitionRequest,
    ) -> Result<Option<TierObject>> {
        let g = self;
        g.tenant(tenant)?;
        let k = (tenant, req.share.clone(), req.path_key.clone());
        let file = g.files.get(&k).cloned().ok_or_else(|| {
            Error::not_found(format!(
                "file {:?} in share {:?} does not exist",
                req.path_key, req.share
            ))
        })?;
        let current = g.objects.get(&k).cloned();
        let seen = current.as_ref().map(|o| (o.state, o.version));
        if seen != req.expected {
            return Err(Error::conflict(format!(
                "{:?} changed: expected {}, found {}",
                req.path_key,
                describe(req.expected),
                describe(seen)
            )));
        }
        let outcome = transition(current.as_ref().map(|o| o.state), req.action)?;
        let next = match (outcome.state, current) {
            (None, _) => None,
            (Some(state), Some(mut o)) => {
                o.state = state;
                o.version += 1;
                if req.action == crate::lifecycle::Action::Plan {
                    let plan = req.plan.as_ref().ok_or_else(|| {
                        Error::invalid_input("planning needs the rule and the target")
                    })?;
                    o.incarnation += i32::from(outcome.new_incarnation);
                    o.planned_by = plan.rule.clone();
                    o.target_uri = plan.target_uri.clone();
                    o.planned_at = req.at;
                    o.acted_at = None;
                    o.last_accessed = None;
                    o.access_count = 0;
                    o.stored = None;
                    o.lost = None;
                } else {
                    o.acted_at = Some(req.at);
                    if let Some(st) = req
                        .stored
                        .as_ref()
                        .filter(|_| req.action == crate::lifecycle::Action::Stub)
                    {
                        crate::worker::check_stored_key(&g.tenant(tenant)?.name, &o, &st.key)?;
                        o.stored = Some(st.clone());
                    }
                }
                Some(o)
            }
            (Some(state), None) => {
                let plan = req.plan.as_ref().ok_or_else(|| {
                    Error::invalid_input("planning needs the rule and the target")
                })?;
                let id = g.id();
                g.tier_ids.insert(id, tenant);
                Some(TierObject {
                    id,
                    share: req.share.clone(),
                    path_key: req.path_key.clone(),
                    path: file.entry.path.clone(),
                    state,
                    version: 1,
                    incarnation: 1,
                    target_uri: plan.target_uri.clone(),
                    planned_by: plan.rule.clone(),
                    planned_at: req.at,
                    acted_at: None,
                    last_accessed: None,
                    access_count: 0,
                    stored: None,
                    lost: None,
                })
            }
        };
        let ev = NewAuditEvent {
            kind: format!("tier.{}", req.action),
            subject: req.path_key.clone(),
            detail: serde_json::json!({
                "share": req.share,
                "from": seen.map(|s| s.0.as_str()),
                "to": next.as_ref().map(|o| o.state.as_str()),
            }),
            parent: g.parent,
        };
        g.push_audit(tenant, &ev, req.at);
        if let Some(f) = g.files.get_mut(&k) {
            f.state = next.as_ref().map(|o| o.state);
        }
        match &next {
            Some(o) => {
                g.objects.insert(k, o.clone());
            }
            None => {
                g.objects.remove(&k);
                g.job_of.remove(&k);
            }
        }
        Ok(next)
    }

    fn push_audit(&mut self, tenant: TenantId, ev: &NewAuditEvent, at: Micros) -> AuditEvent {
        let id = self.id();
        let event = AuditEvent {
            id,
            position: AuditPosition { commit: 0, id },
            at,
            kind: ev.kind.clone(),
            subject: ev.subject.clone(),
            detail: ev.detail.clone(),
            parent: ev.parent,
            actor: self
                .actor
                .get_or_insert_with(|| Actor::current("sdk"))
                .clone(),
        };
        self.audit.push((tenant, event.clone()));
        event
    }
}

/// The `memory://` store.
#[derive(Debug, Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave half-applied state: every method computes
        // its changes before writing them.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn cursor(share: &str, key: &str) -> String {
    format!("{share}\u{0}{key}")
}

#[async_trait]
impl Store for MemoryStore {
    fn backend(&self) -> &'static str {
        "memory"
    }

    fn tiering(&self) -> &dyn Tiering {
        self
    }

    fn feeds(&self) -> &dyn Feeds {
        self
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            concurrent_workers: false,
            row_level_security: false,
            durable: false,
        }
    }

    async fn create_tenant(&self, name: &str, settings: &TenantSettings) -> Result<Tenant> {
        crate::names::check_name("tenant", name)?;
        let mut g = self.lock();
        if g.tenants.iter().any(|t| t.name == name) {
            return Err(Error::new(
                ErrorKind::AlreadyExists,
                format!("tenant {name:?} already exists"),
            ));
        }
        let t = Tenant {
            id: TenantId(g.id()),
            name: name.to_owned(),
            settings: settings.clone(),
            created: now_micros(),
        };
        g.tenants.push(t.clone());
        Ok(t)
    }

    async fn set_tenant_settings(
        &self,
        tenant: TenantId,
        settings: &TenantSettings,
    ) -> Result<Tenant> {
        let mut g = self.lock();
        g.tenant(tenant)?;
        let t = g
            .tenants
            .iter_mut()
            .find(|t| t.id == tenant)
            .expect("checked above");
        t.settings = settings.clone();
        Ok(t.clone())
    }

    async fn tenant(&self, name: &str) -> Result<Tenant> {
        self.lock()
            .tenants
            .iter()
            .find(|t| t.name == name)
            .cloned()
            .ok_or_else(|| Error::not_found(format!("tenant {name:?} does not exist")))
    }

    async fn ensure_share(&self, tenant: TenantId, spec: &ShareSpec) -> Result<Share> {
        if let Some(root) = &spec.root {
            crate::path::check_root(root)?;
        }
        let mut g = self.lock();
        g.tenant(tenant)?;
        if let Some(s) = g
            .shares
            .iter_mut()
            .find(|s| s.tenant == tenant && s.name == spec.name)
        {
            if spec.mount_root.is_some() {
                s.mount_root = spec.mount_root.clone();
            }
            if s.root.is_none() {
                s.root = spec.root.clone();
            }
            return Ok(s.clone());
        }
        crate::names::check_name("share", &spec.name)?;
        let share = Share {
            id: g.id(),
            tenant,
            name: spec.name.clone(),
            kind: spec.kind,
            case_sensitive: spec.case_sensitive.unwrap_or(spec.kind.case_sensitive()),
            mount_root: spec.mount_root.clone(),
            root: spec.root.clone(),
        };
        g.shares.push(share.clone());
        Ok(share)
    }

    async fn shares(&self, tenant: TenantId) -> Result<Vec<Share>> {
        let g = self.lock();
        g.tenant(tenant)?;
        let mut out: Vec<Share> = g
            .shares
            .iter()
            .filter(|s| s.tenant == tenant)
            .cloned()
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    async fn set_share_root(
        &self,
        tenant: TenantId,
        share: &str,
        root: Option<&str>,
    ) -> Result<Share> {
        if let Some(root) = root {
            crate::path::check_root(root)?;
        }
        let mut g = self.lock();
        g.tenant(tenant)?;
        let s = g
            .shares
            .iter_mut()
            .find(|s| s.tenant == tenant && s.name == share)
            .ok_or_else(|| Error::not_found(format!("share {share:?} does not exist")))?;
        s.root = root.map(str::to_owned);
        Ok(s.clone())
    }

    async fn begin_scan(&self, tenant: TenantId, spec: &ScanSpec) -> Result<Scan> {
        let mut g = self.lock();
        g.share(tenant, &spec.share)?;
        if spec.source.is_some() {
            let open = g.scans.iter().rev().find(|(t, s, finished)| {
                *t == tenant
                    && !finished
                    && s.share == spec.share
                    && s.kind == spec.kind
                    && s.source == spec.source
            });
            if let Some((_, s, _)) = open {
                return Ok(Scan {
                    resumed: true,
                    ..s.clone()
                });
            }
        }
        let scan = Scan {
            id: g.id(),
            share: spec.share.clone(),
            kind: spec.kind,
            started: now_micros(),
            source: spec.source.clone(),
            resumed: false,
        };
        g.scans.push((tenant, scan.clone(), false));
        Ok(scan)
    }

    async fn ingest_chunk(
        &self,
        tenant: TenantId,
        scan: i64,
        chunk: &IngestChunk,
    ) -> Result<ChunkOutcome> {
        let mut g = self.lock();
        let keep_history = g.tenant(tenant)?.settings.keep_history;
        let s = g
            .scans
            .iter()
            .find(|(t, s, _)| *t == tenant && s.id == scan)
            .map(|(_, s, _)| s.clone())
            .ok_or_else(|| Error::not_found(format!("scan {scan} does not exist")))?;
        let share = g.share(tenant, &s.share)?.clone();
        let chunk_key = (tenant, scan, chunk.id.clone());
        if g.chunks.contains(&chunk_key) {
            return Ok(ChunkOutcome::default());
        }
        let now = now_micros();
        // Compute everything first, then write: all or nothing.
        let mut staged: BTreeMap<Key, (FileRecord, Change)> = BTreeMap::new();
        for e in &chunk.entries {
            let key = crate::path::share_key(crate::path::KeyRule::of(&share), &e.path);
            let k = (tenant, share.name.clone(), key);
            let existing = staged.get(&k).map(|(r, _)| r).or_else(|| g.files.get(&k));
            let (rec, change) = merge(existing, &share.name, &k.2, e, scan, now);
            // A duplicate within the chunk keeps the first sighting's classification.
            let change = staged.get(&k).map_or(change, |(_, c)| *c);
            staged.insert(k, (rec, change));
        }
        let mut out = ChunkOutcome {
            applied: true,
            ..Default::default()
        };
        for (k, (mut rec, change)) in staged {
            match change {
                Change::New => out.new += 1,
                Change::Changed => out.changed += 1,
                Change::Unchanged => out.unchanged += 1,
            }
            rec.state = g.objects.get(&k).map(|o| o.state);
            if keep_history {
                g.snapshots.push((tenant, scan, rec.clone()));
            }
            g.files.insert(k, rec);
        }
        g.chunks.insert(chunk_key);
        Ok(out)
    }

    async fn finish_scan(&self, tenant: TenantId, scan: i64) -> Result<ScanSummary> {
        let mut g = self.lock();
        let (s, finished) = g
            .scans
            .iter()
            .find(|(t, s, _)| *t == tenant && s.id == scan)
            .map(|(_, s, f)| (s.clone(), *f))
            .ok_or_else(|| Error::not_found(format!("scan {scan} does not exist")))?;
        if finished {
            // Finishing twice marks nothing new, even after later scans.
            return Ok(ScanSummary::default());
        }
        let mut missing = 0;
        if s.kind == ScanKind::Full {
            let now = now_micros();
            for ((t, share, _), rec) in g.files.iter_mut() {
                if *t == tenant
                    && *share == s.share
                    && rec.last_seen_scan != scan
                    && rec.missing_since.is_none()
                {
                    rec.missing_since = Some(now);
                    missing += 1;
                }
            }
        }
        if let Some(entry) = g
            .scans
            .iter_mut()
            .find(|(t, s, _)| *t == tenant && s.id == scan)
        {
            entry.2 = true;
        }
        Ok(ScanSummary { missing })
    }

    async fn report_aggregates(
        &self,
        tenant: TenantId,
        query: &ReportQuery,
    ) -> Result<ReportAggregates> {
        let g = self.lock();
        g.tenant(tenant)?;
        if let Some(s) = &query.share {
            g.share(tenant, s)?;
        }
        let mut acc = crate::report::Accumulator::new(query);
        for (k, rec) in g.files.range((tenant, String::new(), String::new())..) {
            if k.0 != tenant {
                break;
            }
            if query.share.as_deref().is_some_and(|s| s != k.1) {
                continue;
            }
            let rule = g.objects.get(k).map(|o| o.planned_by.as_str());
            acc.add(rec, rule);
        }
        Ok(acc.finish())
    }

    async fn count_unseen(&self, tenant: TenantId, scan: i64) -> Result<u64> {
        let g = self.lock();
        let (s, finished) = g
            .scans
            .iter()
            .find(|(t, s, _)| *t == tenant && s.id == scan)
            .map(|(_, s, f)| (s.clone(), *f))
            .ok_or_else(|| Error::not_found(format!("scan {scan} does not exist")))?;
        if finished || s.kind != ScanKind::Full {
            return Ok(0);
        }
        Ok(g.files
            .iter()
            .filter(|((t, share, _), rec)| {
                *t == tenant
                    && *share == s.share
                    && rec.last_seen_scan != scan
                    && rec.missing_since.is_none()
            })
            .count() as u64)
    }

    async fn files(&self, tenant: TenantId, query: &FileQuery) -> Result<Page<FileRecord>> {
        let g = self.lock();
        let limit = if query.limit == 0 { 1000 } else { query.limit };
        let glob = match &query.glob {
            Some(p) => Some(alto_rules::PathGlob::new(p).map_err(Error::invalid_input)?),
            None => None,
        };
        let share_sensitive = |name: &str| {
            g.shares
                .iter()
                .find(|s| s.tenant == tenant && s.name == name)
                .is_none_or(|s| s.case_sensitive)
        };
        let mut items = Vec::new();
        let mut next = None;
        for ((t, share, key), rec) in g.files.range((tenant, String::new(), String::new())..) {
            if *t != tenant {
                break;
            }
            if query
                .after
                .as_deref()
                .is_some_and(|a| cursor(share, key).as_str() <= a)
            {
                continue;
            }
            if query.share.as_deref().is_some_and(|s| s != share)
                || (!query.include_missing && rec.missing_since.is_some())
                || query.state.is_some_and(|st| rec.state != Some(st))
                || glob
                    .as_ref()
                    .is_some_and(|gl| !gl.is_match(&rec.entry.path, !share_sensitive(share)))
            {
                continue;
            }
            if items.len() == limit {
                next = items
                    .last()
                    .map(|r: &FileRecord| cursor(&r.share, &r.path_key));
                break;
            }
            let mut rec = rec.clone();
            rec.lost = g
                .objects
                .get(&(tenant, share.clone(), key.clone()))
                .and_then(|o| o.lost);
            items.push(rec);
        }
        Ok(Page { items, next })
    }

    async fn tier_object(
        &self,
        tenant: TenantId,
        share: &str,
        path_key: &str,
    ) -> Result<TierObject> {
        self.lock()
            .objects
            .get(&(tenant, share.to_owned(), path_key.to_owned()))
            .cloned()
            .ok_or_else(|| {
                Error::not_found(format!(
                    "{path_key:?} in share {share:?} has no tier object"
                ))
            })
    }

    async fn transition(
        &self,
        tenant: TenantId,
        req: &TransitionRequest,
    ) -> Result<Option<TierObject>> {
        self.lock().transition(tenant, req)
    }

    async fn tier_objects(
        &self,
        tenant: TenantId,
        query: &TierObjectQuery,
    ) -> Result<Page<TierObject>> {
        let g = self.lock();
        let limit = if query.limit == 0 { 1000 } else { query.limit };
        let mut items = Vec::new();
        let mut next = None;
        for ((t, share, key), o) in g.objects.range((tenant, String::new(), String::new())..) {
            if *t != tenant {
                break;
            }
            if query
                .after
                .as_deref()
                .is_some_and(|a| cursor(share, key).as_str() <= a)
                || query.share.as_deref().is_some_and(|s| s != share)
                || query.state.is_some_and(|st| o.state != st)
            {
                continue;
            }
            if items.len() == limit {
                next = items
                    .last()
                    .map(|o: &TierObject| cursor(&o.share, &o.path_key));
                break;
            }
            items.push(o.clone());
        }
        Ok(Page { items, next })
    }

    async fn mark_lost(&self, tenant: TenantId, req: &LostRequest) -> Result<TierObject> {
        let mut g = self.lock();
        g.tenant(tenant)?;
        let k = (tenant, req.share.clone(), req.path_key.clone());
        let o = g.objects.get(&k).cloned().ok_or_else(|| {
            Error::not_found(format!(
                "{:?} in share {:?} has no tier object",
                req.path_key, req.share
            ))
        })?;
        if (o.state, o.version) != req.expected {
            return Err(Error::conflict(format!(
                "{:?} changed: expected {}, found {}",
                req.path_key,
                describe(Some(req.expected)),
                describe(Some((o.state, o.version)))
            )));
        }
        crate::lifecycle::check_lost_flag(o.state)?;
        g.check_parent(tenant, req.event.parent)?;
        let o = g.objects.get_mut(&k).expect("read above");
        o.lost = req.lost;
        let o = o.clone();
        g.push_audit(tenant, &req.event, now_micros());
        Ok(o)
    }

    async fn owned_tier_ids(&self, tenant: TenantId, ids: &[i64]) -> Result<Vec<i64>> {
        let g = self.lock();
        let mut out: Vec<i64> = ids
            .iter()
            .copied()
            .filter(|id| g.tier_ids.get(id) == Some(&tenant))
            .collect();
        out.sort_unstable();
        out.dedup();
        Ok(out)
    }

    async fn append_audit(&self, tenant: TenantId, event: &NewAuditEvent) -> Result<AuditEvent> {
        let mut g = self.lock();
        g.tenant(tenant)?;
        g.check_parent(tenant, event.parent)?;
        Ok(g.push_audit(tenant, event, now_micros()))
    }

    async fn audit_query(&self, tenant: TenantId, query: &AuditQuery) -> Result<Page<AuditEvent>> {
        let g = self.lock();
        let limit = if query.limit == 0 { 1000 } else { query.limit };
        let mut it = g
            .audit
            .iter()
            .filter(|(t, e)| {
                *t == tenant && query.after.is_none_or(|a| e.position > a) && query.matches(e)
            })
            .map(|(_, e)| e.clone());
        let items: Vec<_> = it.by_ref().take(limit).collect();
        let next = if it.next().is_some() {
            items.last().map(|e| e.position.to_string())
        } else {
            None
        };
        Ok(Page { items, next })
    }

    fn set_actor(&self, actor: Actor) {
        self.lock().actor = Some(actor);
    }
}

fn describe(s: Option<(TierState, i64)>) -> String {
    match s {
        Some((st, v)) => format!("{st} v{v}"),
        None => "no tier object".into(),
    }
}

impl Inner {
    fn job_mut(&mut self, tenant: TenantId, job: i64) -> Result<&mut (TenantId, Job, i64)> {
        self.jobs
            .iter_mut()
            .find(|(t, j, _)| *t == tenant && j.id == job)
            .ok_or_else(|| Error::not_found(format!("job {job} does not exist")))
    }

    fn check_fence(&mut self, tenant: TenantId, fence: Fence) -> Result<()> {
        let (_, job, token) = self.job_mut(tenant, fence.job)?;
        if *token != fence.token || job.state != JobState::Running {
            return Err(Error::conflict(format!(
                "the lease on job {} was lost (token {} is stale): another worker owns it now",
                fence.job, fence.token
            ))
            .retryable(false));
        }
        Ok(())
    }

    /// Whether a queued or running job holds the file (its plan is live).
    fn in_live_job(&self, k: &Key) -> bool {
        self.job_of.get(k).is_some_and(|job| {
            self.jobs.iter().any(|(t, j, _)| {
                *t == k.0 && j.id == *job && matches!(j.state, JobState::Queued | JobState::Running)
            })
        })
    }

    /// A job ended by itself (done, or failed for good): the files it left PLANNED stay so and
    /// stay linked to it, for the next plan to re-queue; the others forget it.
    fn release_job(&mut self, tenant: TenantId, job: i64) {
        let objects = &self.objects;
        self.job_of.retain(|k, j| {
            k.0 != tenant
                || *j != job
                || objects
                    .get(k)
                    .is_some_and(|o| o.state == TierState::Planned)
        });
    }

    /// Withdraw the job's PLANNED files and unlink the others (a cancelled job frees them).
    fn withdraw_planned_of(&mut self, tenant: TenantId, job: i64, at: Micros) -> u64 {
        let keys: Vec<Key> = self
            .job_of
            .iter()
            .filter(|(k, j)| k.0 == tenant && **j == job)
            .map(|(k, _)| k.clone())
            .collect();
        let mut n = 0;
        for k in keys {
            let Some(o) = self.objects.get(&k).cloned() else {
                continue;
            };
            if o.state == TierState::Planned {
                let req = TransitionRequest {
                    share: k.1.clone(),
                    path_key: k.2.clone(),
                    action: crate::lifecycle::Action::Withdraw,
                    expected: Some((o.state, o.version)),
                    stored: None,
                    plan: None,
                    at,
                };
                if self.transition(tenant, &req).is_ok() {
                    n += 1;
                }
            }
            self.job_of.remove(&k);
        }
        n
    }
}

#[async_trait]
impl Tiering for MemoryStore {
    async fn tenants(&self) -> Result<Vec<Tenant>> {
        Ok(self.lock().tenants.clone())
    }

    async fn file(&self, tenant: TenantId, share: &str, path_key: &str) -> Result<FileRecord> {
        let g = self.lock();
        let k = (tenant, share.to_owned(), path_key.to_owned());
        let mut rec = g.files.get(&k).cloned().ok_or_else(|| {
            Error::not_found(format!(
                "file {path_key:?} in share {share:?} does not exist"
            ))
        })?;
        rec.lost = g.objects.get(&k).and_then(|o| o.lost);
        Ok(rec)
    }

    async fn commit_plan(&self, tenant: TenantId, plan: &PlanCommit) -> Result<CommitOutcome> {
        let mut g = self.lock();
        g.tenant(tenant)?;
        let mut listed = HashSet::new();
        for f in plan.jobs.iter().flat_map(|j| &j.files) {
            let k = (tenant, f.share.clone(), f.path_key.clone());
            if !g.files.contains_key(&k) {
                return Err(Error::not_found(format!(
                    "cannot plan {:?} in share {:?}: no such file",
                    f.path_key, f.share
                )));
            }
            listed.insert(k);
        }
        let mut out = CommitOutcome::default();
        // Earlier plans that this plan no longer lists: withdrawn unless a running job holds them
        // (queued jobs, jobs that ended, no job), in (share, key) order.
        let stale: Vec<(Key, TierObject)> = g
            .objects
            .iter()
            .filter(|(k, o)| k.0 == tenant && o.state == TierState::Planned && !listed.contains(*k))
            .map(|(k, o)| (k.clone(), o.clone()))
            .collect();
        for (k, o) in stale {
            let running = g.job_of.get(&k).is_some_and(|job| {
                g.jobs
                    .iter()
                    .any(|(t, j, _)| *t == tenant && j.id == *job && j.state == JobState::Running)
            });
            if !running {
                let req = TransitionRequest {
                    share: k.1.clone(),
                    path_key: k.2.clone(),
                    action: crate::lifecycle::Action::Withdraw,
                    expected: Some((o.state, o.version)),
                    stored: None,
                    plan: None,
                    at: plan.at,
                };
                g.transition(tenant, &req)?;
                out.withdrawn += 1;
            }
        }
        // Queued jobs left without files are cancelled.
        let live: HashSet<i64> = g.job_of.values().copied().collect();
        for (t, j, token) in g.jobs.iter_mut() {
            if *t == tenant && j.state == JobState::Queued && !live.contains(&j.id) {
                j.state = JobState::Cancelled;
                j.finished = Some(plan.at);
                *token += 1;
            }
        }
        // Files this commit planned or re-queued: listed again, they are already planned.
        let mut handled: HashSet<Key> = HashSet::new();
        for spec in &plan.jobs {
            let mut members = Vec::new();
            let mut planned = 0;
            // The job's id and `job.create` event, made before its first file's event (the
            // files' events are its children); a spec that plans no file makes neither.
            let mut job: Option<(i64, i64)> = None;
            for f in &spec.files {
                let k = (tenant, f.share.clone(), f.path_key.clone());
                let current = g.objects.get(&k).map(|o| (o.state, o.version));
                let joins = match current {
                    Some((TierState::Planned, _)) => !(handled.contains(&k) || g.in_live_job(&k)),
                    Some((TierState::Stubbed, _)) => false,
                    _ => true,
                };
                if joins && job.is_none() {
                    let id = g.id();
                    let ev = NewAuditEvent {
                        kind: "job.create".into(),
                        subject: id.to_string(),
                        detail: crate::types::job_create_detail(
                            &spec.rule,
                            &spec.target,
                            &spec.estimate,
                        ),
                        parent: None,
                    };
                    let e = g.push_audit(tenant, &ev, plan.at);
                    job = Some((id, e.id));
                    g.parent = Some(e.id);
                }
                match current {
                    Some((TierState::Planned, _)) if handled.contains(&k) || g.in_live_job(&k) => {
                        out.already_planned += 1
                    }
                    Some((TierState::Planned, _)) => {
                        // Left PLANNED by a job that ended (or by none): into this plan's job.
                        let o = g.objects.get_mut(&k).expect("just read");
                        o.version += 1;
                        o.planned_by = spec.rule.clone();
                        o.target_uri = f.target_uri.clone();
                        o.planned_at = plan.at;
                        let ev = NewAuditEvent {
                            kind: "tier.requeue".into(),
                            subject: f.path_key.clone(),
                            detail: serde_json::json!({
                                "share": f.share,
                                "from": TierState::Planned.as_str(),
                                "to": TierState::Planned.as_str(),
                            }),
                            parent: g.parent,
                        };
                        g.push_audit(tenant, &ev, plan.at);
                        out.requeued += 1;
                        handled.insert(k.clone());
                        members.push(k);
                    }
                    Some((TierState::Stubbed, _)) => out.already_stubbed += 1,
                    _ => {
                        let req = TransitionRequest {
                            share: f.share.clone(),
                            path_key: f.path_key.clone(),
                            action: crate::lifecycle::Action::Plan,
                            expected: current,
                            stored: None,
                            plan: Some(PlanInfo {
                                rule: spec.rule.clone(),
                                target_uri: f.target_uri.clone(),
                            }),
                            at: plan.at,
                        };
                        let done = g.transition(tenant, &req);
                        if done.is_err() {
                            g.parent = None;
                        }
                        done?;
                        planned += 1;
                        handled.insert(k.clone());
                        members.push(k);
                    }
                }
            }
            g.parent = None;
            let Some((id, event)) = job.filter(|_| !members.is_empty()) else {
                continue;
            };
            out.jobs += 1;
            out.planned += planned;
            for k in members {
                g.job_of.insert(k, id);
            }
            g.jobs.push((
                tenant,
                Job {
                    id,
                    rule: spec.rule.clone(),
                    target: spec.target.clone(),
                    priority: spec.priority,
                    state: JobState::Queued,
                    estimate: spec.estimate,
                    attempts: 0,
                    last_error: None,
                    not_before: None,
                    worker: None,
                    lease_expires: None,
                    files_stubbed: 0,
                    files_skipped: 0,
                    files_failed: 0,
                    bytes_moved: 0,
                    created: plan.at,
                    finished: None,
                    event: Some(event),
                },
                0,
            ));
        }
        Ok(out)
    }

    async fn claim_job(&self, tenant: TenantId, request: &ClaimRequest) -> Result<Option<Lease>> {
        let mut g = self.lock();
        g.tenant(tenant)?;
        let now = request.now;
        loop {
            let pick = g
                .jobs
                .iter()
                .enumerate()
                .filter(|(_, (t, j, _))| {
                    *t == tenant
                        && match j.state {
                            JobState::Queued => j.not_before.is_none_or(|nb| nb <= now),
                            JobState::Running => j.lease_expires.is_some_and(|e| e < now),
                            _ => false,
                        }
                })
                .min_by_key(|(_, (_, j, _))| (j.priority, j.id))
                .map(|(i, _)| i);
            let Some(i) = pick else { return Ok(None) };
            let (_, job, token) = &mut g.jobs[i];
            if job.state == JobState::Running && job.attempts >= MAX_ATTEMPTS {
                job.state = JobState::Failed;
                job.last_error = Some(format!("lease expired on attempt {}", job.attempts));
                job.finished = Some(now);
                job.worker = None;
                *token += 1;
                let id = job.id;
                g.release_job(tenant, id);
                continue;
            }
            job.state = JobState::Running;
            job.attempts += 1;
            job.worker = Some(request.worker.clone());
            job.lease_expires = Some(now + request.lease);
            *token += 1;
            return Ok(Some(Lease {
                job: job.clone(),
                token: *token,
            }));
        }
    }

    async fn renew_lease(&self, tenant: TenantId, fence: Fence, until: Micros) -> Result<()> {
        let mut g = self.lock();
        g.check_fence(tenant, fence)?;
        g.job_mut(tenant, fence.job)?.1.lease_expires = Some(until);
        Ok(())
    }

    async fn expired_planned(
        &self,
        tenant: TenantId,
        before: Micros,
        limit: usize,
    ) -> Result<Vec<TierObject>> {
        let g = self.lock();
        g.tenant(tenant)?;
        let running = |k: &Key| {
            g.job_of.get(k).is_some_and(|job| {
                g.jobs
                    .iter()
                    .any(|(t, j, _)| *t == tenant && j.id == *job && j.state == JobState::Running)
            })
        };
        let mut out: Vec<TierObject> = g
            .objects
            .iter()
            .filter(|(k, o)| {
                k.0 == tenant
                    && o.state == TierState::Planned
                    && o.planned_at < before
                    && !running(k)
            })
            .map(|(_, o)| o.clone())
            .collect();
        out.sort_by(|a, b| a.planned_at.cmp(&b.planned_at).then(a.id.cmp(&b.id)));
        out.truncate(limit);
        Ok(out)
    }

    async fn prune(&self, tenant: TenantId, req: &PruneRequest) -> Result<PruneCounts> {
        let mut g = self.lock();
        g.tenant(tenant)?;
        let mut counts = PruneCounts::default();
        let old = |o: &TierObject, state: TierState, before: Option<Micros>| {
            o.state == state && before.is_some_and(|b| o.acted_at.unwrap_or(o.planned_at) < b)
        };
        let gone: Vec<Key> = g
            .objects
            .iter()
            .filter(|(k, o)| {
                k.0 == tenant
                    && (old(o, TierState::Rehydrated, req.rehydrated_before)
                        || old(o, TierState::Deleted, req.deleted_before))
            })
            .map(|(k, _)| k.clone())
            .collect();
        for k in &gone {
            match g.objects[k].state {
                TierState::Rehydrated => counts.rehydrated += 1,
                _ => counts.deleted += 1,
            }
        }
        let held: HashSet<i64> = g.job_of.values().copied().collect();
        let jobs: Vec<i64> = g
            .jobs
            .iter()
            .filter(|(t, j, _)| {
                *t == tenant
                    && matches!(
                        j.state,
                        JobState::Done | JobState::Failed | JobState::Cancelled
                    )
                    && !held.contains(&j.id)
                    && req
                        .jobs_before
                        .is_some_and(|b| j.finished.is_some_and(|f| f < b))
            })
            .map(|(_, j, _)| j.id)
            .collect();
        counts.jobs = jobs.len() as u64;
        let feed: Vec<_> = g
            .processed
            .iter()
            .filter(|(k, at)| k.0 == tenant && req.feed_before.is_some_and(|b| **at < b))
            .map(|(k, _)| k.clone())
            .collect();
        counts.feed_events = feed.len() as u64;
        // Scans past each share's newest `history_scans`, and their snapshot rows.
        let mut old_scans = HashSet::new();
        if let Some(keep) = req.history_scans {
            let mut by_share: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
            for (t, s, _) in &g.scans {
                if *t == tenant {
                    by_share.entry(&s.share).or_default().push(s.id);
                }
            }
            for mut ids in by_share.into_values() {
                ids.sort_unstable_by(|a, b| b.cmp(a));
                old_scans.extend(ids.into_iter().skip(keep as usize));
            }
        }
        counts.snapshot_rows = g
            .snapshots
            .iter()
            .filter(|(t, scan, _)| *t == tenant && old_scans.contains(scan))
            .count() as u64;
        if !req.dry_run {
            g.snapshots
                .retain(|(t, scan, _)| !(*t == tenant && old_scans.contains(scan)));
            for k in gone {
                g.objects.remove(&k);
                g.job_of.remove(&k);
                if let Some(f) = g.files.get_mut(&k) {
                    f.state = None;
                }
            }
            g.jobs
                .retain(|(t, j, _)| !(*t == tenant && jobs.contains(&j.id)));
            for k in feed {
                g.processed.remove(&k);
            }
        }
        Ok(counts)
    }

    async fn job_objects(&self, tenant: TenantId, job: i64) -> Result<Vec<TierObject>> {
        let g = self.lock();
        Ok(g.job_of
            .iter()
            .filter(|(k, j)| k.0 == tenant && **j == job)
            .filter_map(|(k, _)| g.objects.get(k).cloned())
            .collect())
    }

    async fn transition_fenced(
        &self,
        tenant: TenantId,
        fence: Fence,
        request: &TransitionRequest,
    ) -> Result<Option<TierObject>> {
        let mut g = self.lock();
        g.check_fence(tenant, fence)?;
        g.parent = g.job_mut(tenant, fence.job)?.1.event;
        let out = g.transition(tenant, request);
        g.parent = None;
        out
    }

    async fn finish_job(
        &self,
        tenant: TenantId,
        fence: Fence,
        outcome: &JobOutcome,
        now: Micros,
    ) -> Result<Job> {
        let mut g = self.lock();
        g.check_fence(tenant, fence)?;
        let (kind, detail) = {
            let (_, job, token) = g.job_mut(tenant, fence.job)?;
            job.worker = None;
            job.lease_expires = None;
            *token += 1;
            match outcome {
                JobOutcome::Done {
                    stubbed,
                    skipped,
                    failed,
                    bytes,
                } => {
                    job.state = JobState::Done;
                    job.files_stubbed = *stubbed;
                    job.files_skipped = *skipped;
                    job.files_failed = *failed;
                    job.bytes_moved = *bytes;
                    job.finished = Some(now);
                    (
                        "job.done",
                        serde_json::json!({"stubbed": stubbed, "skipped": skipped, "failed": failed, "bytes": bytes}),
                    )
                }
                JobOutcome::Failed { error } => {
                    job.last_error = Some(error.clone());
                    match next_attempt(job.attempts, now) {
                        Some(at) => {
                            job.state = JobState::Queued;
                            job.not_before = Some(at);
                            (
                                "job.retry",
                                serde_json::json!({"error": error, "attempt": job.attempts, "not_before": at}),
                            )
                        }
                        None => {
                            job.state = JobState::Failed;
                            job.finished = Some(now);
                            (
                                "job.failed",
                                serde_json::json!({"error": error, "attempts": job.attempts}),
                            )
                        }
                    }
                }
            }
        };
        let ev = NewAuditEvent {
            kind: kind.into(),
            subject: fence.job.to_string(),
            detail,
            parent: g.job_mut(tenant, fence.job)?.1.event,
        };
        g.push_audit(tenant, &ev, now);
        let state = g.job_mut(tenant, fence.job)?.1.state;
        if matches!(state, JobState::Done | JobState::Failed) {
            g.release_job(tenant, fence.job);
        }
        Ok(g.job_mut(tenant, fence.job)?.1.clone())
    }

    async fn cancel_job(&self, tenant: TenantId, job: i64, now: Micros) -> Result<Job> {
        let mut g = self.lock();
        let (_, j, token) = g.job_mut(tenant, job)?;
        if !matches!(j.state, JobState::Queued | JobState::Running) {
            return Err(Error::new(
                ErrorKind::InvalidTransition,
                format!("cannot cancel job {job}: it is {}", j.state.as_str()),
            ));
        }
        j.state = JobState::Cancelled;
        j.finished = Some(now);
        j.worker = None;
        j.lease_expires = None;
        *token += 1;
        let event = j.event;
        g.parent = event;
        g.withdraw_planned_of(tenant, job, now);
        g.parent = None;
        let ev = NewAuditEvent {
            kind: "job.cancel".into(),
            subject: job.to_string(),
            detail: serde_json::json!({}),
            parent: event,
        };
        g.push_audit(tenant, &ev, now);
        Ok(g.job_mut(tenant, job)?.1.clone())
    }

    async fn jobs(&self, tenant: TenantId, query: &JobQuery) -> Result<Page<Job>> {
        let g = self.lock();
        let limit = if query.limit == 0 { 1000 } else { query.limit };
        let mut it = g
            .jobs
            .iter()
            .filter(|(t, j, _)| {
                *t == tenant
                    && query.state.is_none_or(|s| j.state == s)
                    && query.after.is_none_or(|a| j.id > a)
            })
            .map(|(_, j, _)| j.clone());
        let items: Vec<Job> = it.by_ref().take(limit).collect();
        let next = if it.next().is_some() {
            items.last().map(|j| j.id.to_string())
        } else {
            None
        };
        Ok(Page { items, next })
    }
}

/// The share's path for a feed path: the mount root joined with it (or the path itself).
pub(crate) fn feed_path(share: &Share, feed_path: &str) -> Result<String> {
    match &share.mount_root {
        Some(root) => crate::path::join_under(root, feed_path).map_err(Error::invalid_input),
        None => Ok(feed_path.to_owned()),
    }
}

/// A tier object's target URI after a feed moves it from path key `old` to `new`: the target
/// root (the URI without the old key's [`object_key`](crate::path::object_key), as
/// [`worker::target_root`](crate::worker::target_root) finds it) joined with the new key's. A URI
/// that does not end with the old key's (or a key without one) stays as it is. The stored object
/// ([`TierObject::stored`]) does not move: its key is the object's real key.
fn moved_target_uri(uri: &str, old: &str, new: &str) -> String {
    use crate::path::object_key;
    match (object_key(old), object_key(new)) {
        (Ok(old), Ok(new)) => match uri.strip_suffix(old.as_str()) {
            Some(root) => format!("{root}{new}"),
            None => uri.to_owned(),
        },
        _ => uri.to_owned(),
    }
}

#[async_trait]
impl Feeds for MemoryStore {
    async fn feed_cursors(&self, tenant: TenantId, share: &str, feed: &str) -> Result<Cursors> {
        let g = self.lock();
        g.share(tenant, share)?;
        Ok(g.cursors
            .get(&(tenant, share.to_owned(), feed.to_owned()))
            .cloned()
            .unwrap_or_default())
    }

    // The unknown-path branch reads other fields of the store between the lookup and the insert.
    #[allow(clippy::map_entry)]
    async fn apply_events(
        &self,
        tenant: TenantId,
        share_name: &str,
        batch: &EventBatch,
    ) -> Result<ApplyOutcome> {
        let mut g = self.lock();
        let policy = g.tenant(tenant)?.settings.unknown_paths;
        let share = g.share(tenant, share_name)?.clone();
        g.check_parent(tenant, batch.parent)?;
        let mut events: Vec<&AccessEvent> = batch.events.iter().collect();
        events.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.id.cmp(&b.id)));
        let mut out = ApplyOutcome::default();
        let key_of = |p: &str| -> Result<(String, String)> {
            let full = feed_path(&share, p)?;
            let key = crate::path::share_key(crate::path::KeyRule::of(&share), &full);
            Ok((full, key))
        };
        for ev in events {
            let pid = (tenant, share.name.clone(), ev.id.clone());
            if g.processed.contains_key(&pid) {
                out.duplicate += 1;
                continue;
            }
            g.processed.insert(pid, batch.now);
            if ev.at > batch.now + MAX_FUTURE {
                out.skewed += 1;
                continue;
            }
            out.newest = Some(out.newest.map_or(ev.at, |n| n.max(ev.at)));
            let (full, key) = key_of(&ev.path)?;
            let k = (tenant, share.name.clone(), key);
            if !g.files.contains_key(&k) {
                if matches!(
                    ev.action,
                    FeedAction::DirectoryCreate | FeedAction::DirectoryDelete
                ) {
                    out.other += 1;
                    continue;
                }
                out.unknown += 1;
                match policy {
                    UnknownPathPolicy::Queue => {
                        g.unknown.push((tenant, share.name.clone(), ev.clone()))
                    }
                    UnknownPathPolicy::Ignore => {}
                    UnknownPathPolicy::Placeholder => {
                        let entry = crate::types::FileEntry {
                            path: full,
                            accessed: ev.action.is_access().then_some(ev.at),
                            extension: crate::path::extension(&ev.path).map(str::to_owned),
                            ..Default::default()
                        };
                        let (mut rec, _) = merge(None, &share.name, &k.2, &entry, 0, batch.now);
                        rec.accessed_source = AccessSource::LucidlinkAudit;
                        g.files.insert(k, rec);
                    }
                }
                continue;
            }
            match ev.action {
                a if a.is_access() => {
                    let rec = g.files.get_mut(&k).expect("checked above");
                    let mut moved = false;
                    if rec.entry.accessed.is_none_or(|old| ev.at > old) {
                        rec.entry.accessed = Some(ev.at);
                        rec.accessed_source = AccessSource::LucidlinkAudit;
                        rec.atime_updated = Some(batch.now);
                        moved = true;
                    }
                    if a == FeedAction::FileWritten && rec.entry.modified.is_none_or(|m| ev.at > m)
                    {
                        rec.entry.modified = Some(ev.at);
                        moved = true;
                    }
                    if moved {
                        out.applied += 1
                    } else {
                        out.stale += 1
                    }
                    if let Some(o) = g.objects.get_mut(&k) {
                        if matches!(o.state, TierState::Planned | TierState::Stubbed) {
                            o.last_accessed = Some(o.last_accessed.map_or(ev.at, |l| l.max(ev.at)));
                            // Counters, not state: the version (which guards state changes) stays.
                            o.access_count += 1;
                            out.warmed.push(Warmed {
                                share: share.name.clone(),
                                path_key: k.2.clone(),
                                state: o.state,
                                at: ev.at,
                            });
                        }
                    }
                }
                FeedAction::Move => {
                    let Some(target) = &ev.target_path else {
                        out.other += 1;
                        continue;
                    };
                    let (tfull, tkey) = key_of(target)?;
                    let tk = (tenant, share.name.clone(), tkey);
                    if let Some(mut rec) = g.files.remove(&k) {
                        rec.entry.path = tfull.clone();
                        rec.path_key = tk.2.clone();
                        g.files.insert(tk.clone(), rec);
                    }
                    if let Some(mut o) = g.objects.remove(&k) {
                        o.target_uri = moved_target_uri(&o.target_uri, &o.path_key, &tk.2);
                        o.path = tfull;
                        o.path_key = tk.2.clone();
                        o.version += 1;
                        g.objects.insert(tk.clone(), o);
                    }
                    if let Some(j) = g.job_of.remove(&k) {
                        g.job_of.insert(tk, j);
                    }
                    out.moved += 1;
                    out.applied += 1;
                }
                FeedAction::FileDelete => {
                    if let Some(rec) = g.files.get_mut(&k) {
                        rec.missing_since.get_or_insert(ev.at);
                    }
                    if let Some(o) = g.objects.get(&k).cloned() {
                        if o.state == TierState::Stubbed {
                            let req = TransitionRequest {
                                share: share.name.clone(),
                                path_key: k.2.clone(),
                                action: crate::lifecycle::Action::Delete,
                                expected: Some((o.state, o.version)),
                                stored: None,
                                plan: None,
                                at: ev.at,
                            };
                            g.parent = batch.parent;
                            let done = g.transition(tenant, &req);
                            g.parent = None;
                            done?;
                        }
                    }
                    out.deleted += 1;
                    out.applied += 1;
                }
                _ => out.other += 1,
            }
        }
        let ck = (tenant, share.name.clone(), batch.feed.clone());
        let saved = g.cursors.entry(ck).or_default();
        for (key, c) in &batch.cursors {
            saved.insert(key.clone(), *c);
        }
        Ok(out)
    }

    async fn unknown_events(
        &self,
        tenant: TenantId,
        share: &str,
        limit: usize,
    ) -> Result<Vec<AccessEvent>> {
        let g = self.lock();
        Ok(g.unknown
            .iter()
            .filter(|(t, s, _)| *t == tenant && s == share)
            .take(if limit == 0 { 1000 } else { limit })
            .map(|(_, _, e)| e.clone())
            .collect())
    }
}
