//! The storage contract: what every backend (memory, SQLite, PostgreSQL) provides.
//!
//! [`Store`] is small and async; every call but tenant creation and lookup names the tenant, and a
//! store never returns or touches another tenant's rows. Domain logic stays out of backends: the
//! lifecycle table lives in [`crate::lifecycle`], change detection in [`merge`], and backends only
//! persist the outcome. The conformance suite ([`crate::testkit`], feature `testkit`) checks every
//! `# Behavior` promise below against each backend.

pub mod feeds;
pub mod memory;
pub mod merge;
pub mod tiering;

pub use feeds::Feeds;
pub use tiering::Tiering;

use crate::error::Result;
use crate::lifecycle::{Action, TierState};
use crate::report::{ReportAggregates, ReportQuery};
use crate::time::Micros;
use crate::types::{
    AuditEvent, AuditPosition, AuditQuery, FileEntry, FileRecord, Lost, NewAuditEvent, Share,
    ShareKind, StoredObject, Tenant, TenantId, TenantSettings, TierObject,
};
use async_trait::async_trait;
use serde::Serialize;

/// What a backend can do beyond the contract's minimum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Capabilities {
    /// Many worker processes (on many hosts) may share the store.
    pub concurrent_workers: bool,
    /// Tenant isolation is also enforced by the database itself.
    pub row_level_security: bool,
    /// State survives the process.
    pub durable: bool,
}

/// A share to create or look up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShareSpec {
    /// Name, unique within the tenant.
    pub name: String,
    /// Kind of file system.
    pub kind: ShareKind,
    /// Case sensitivity of path keys; `None`: the kind's default.
    pub case_sensitive: Option<bool>,
    /// Feed prefix for the filespace root.
    pub mount_root: Option<String>,
    /// The share's directory on the workers' hosts (see [`Share::root`]).
    pub root: Option<String>,
}

impl ShareSpec {
    /// A share of `kind` with the kind's defaults.
    pub fn new(name: impl Into<String>, kind: ShareKind) -> Self {
        ShareSpec {
            name: name.into(),
            kind,
            case_sensitive: None,
            mount_root: None,
            root: None,
        }
    }

    /// The same share with its root on the workers' hosts.
    pub fn with_root(mut self, root: impl Into<String>) -> Self {
        self.root = Some(root.into());
        self
    }
}

/// Whether a scan saw the whole share.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ScanKind {
    /// The whole share: files it does not see are marked missing when it finishes.
    Full,
    /// Part of the share: nothing is marked missing.
    Partial,
}

impl ScanKind {
    /// The stored spelling: `full` or `partial`.
    pub fn as_str(self) -> &'static str {
        match self {
            ScanKind::Full => "full",
            ScanKind::Partial => "partial",
        }
    }
}

/// A scan to start (or resume).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanSpec {
    /// Share name.
    pub share: String,
    /// Kind.
    pub kind: ScanKind,
    /// Identity of the input (e.g. the inventory's name, size and a hash of its head). When an
    /// unfinished scan of the share has the same source, it is resumed instead of started, so
    /// re-running an interrupted ingest skips the chunks already applied.
    pub source: Option<String>,
}

impl ScanSpec {
    /// A scan of `share` with no source identity (never resumed).
    pub fn new(share: impl Into<String>, kind: ScanKind) -> Self {
        ScanSpec {
            share: share.into(),
            kind,
            source: None,
        }
    }
}

/// A scan in progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Scan {
    /// Store key.
    pub id: i64,
    /// Share name.
    pub share: String,
    /// Kind.
    pub kind: ScanKind,
    /// Start time.
    pub started: Micros,
    /// The input's identity, when given.
    pub source: Option<String>,
    /// True when an unfinished scan with the same source was resumed.
    pub resumed: bool,
}

/// One chunk of an ingest: applied entirely or not at all, and only once per scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngestChunk {
    /// Idempotency key within the scan (e.g. the inventory's byte offset of the chunk).
    pub id: String,
    /// The files.
    pub entries: Vec<FileEntry>,
}

/// A staged chunk: awaiting it applies the chunk (see [`Store::stage_chunk`]).
pub type ChunkApply<'a> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<ChunkOutcome>> + Send + 'a>>;

/// What applying a chunk did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ChunkOutcome {
    /// False when the chunk had been applied before (and nothing changed now).
    pub applied: bool,
    /// Files seen for the first time.
    pub new: u64,
    /// Files whose size, times, hash or attributes changed.
    pub changed: u64,
    /// Files seen again as they were.
    pub unchanged: u64,
}

/// The result of a finished scan.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ScanSummary {
    /// Files newly marked missing (full scans only).
    pub missing: u64,
}

/// Which file records to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileQuery {
    /// Only this share.
    pub share: Option<String>,
    /// Only paths matching this glob (rule-language glob, matched on the path key's case rule).
    pub glob: Option<String>,
    /// Only files in this tier state.
    pub state: Option<TierState>,
    /// Include files a full scan no longer saw.
    pub include_missing: bool,
    /// Continue after this cursor (from [`Page::next`]).
    pub after: Option<String>,
    /// Page size (0: the store's default, 1000).
    pub limit: usize,
}

/// One page of a listing, and the cursor of the next.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Page<T> {
    /// Items, in key order.
    pub items: Vec<T>,
    /// Pass as `after` for the next page; `None` at the end.
    pub next: Option<String>,
}

/// A lifecycle change of one file's tier object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransitionRequest {
    /// Share name.
    pub share: String,
    /// The file's path key.
    pub path_key: String,
    /// What to do.
    pub action: Action,
    /// The state and version the caller read (`None`: the caller read no object). The store
    /// refuses with `Conflict` when the object is not in exactly this state and version.
    pub expected: Option<(TierState, i64)>,
    /// For [`Action::Plan`]: the rule and the target URI.
    pub plan: Option<PlanInfo>,
    /// For [`Action::Stub`]: what the worker stored and what it replaced (kept on the object as
    /// [`TierObject::stored`]; a new incarnation clears it).
    pub stored: Option<StoredObject>,
    /// When it happened.
    pub at: Micros,
}

/// Which tier objects to list ([`Store::tier_objects`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TierObjectQuery {
    /// Only this share.
    pub share: Option<String>,
    /// Only objects in this state.
    pub state: Option<TierState>,
    /// Continue after this cursor (from [`Page::next`]).
    pub after: Option<String>,
    /// Page size (0: the store's default, 1000).
    pub limit: usize,
}

/// Set or clear the LOST flag of a STUBBED tier object ([`Store::mark_lost`]).
#[derive(Debug, Clone, PartialEq)]
pub struct LostRequest {
    /// Share name.
    pub share: String,
    /// The file's path key.
    pub path_key: String,
    /// The state and version the caller read: `Conflict` when the object has moved on.
    pub expected: (TierState, i64),
    /// The flag to set, or `None` to clear it.
    pub lost: Option<Lost>,
    /// The audit event written with it, in the same transaction (reconciliation's
    /// `reconcile.lost` or `reconcile.recovered`, under its run).
    pub event: NewAuditEvent,
}

/// What planning records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanInfo {
    /// The rule.
    pub rule: String,
    /// Where the data goes.
    pub target_uri: String,
}

/// The storage contract. See the module docs.
#[async_trait]
pub trait Store: Send + Sync + std::fmt::Debug {
    /// The backend's name (`memory`, `sqlite`, `postgres`).
    fn backend(&self) -> &'static str;

    /// What this backend can do.
    fn capabilities(&self) -> Capabilities;

    /// Rows per ingest chunk this backend applies fastest: the ingest driver's chunk size when
    /// the caller sets none ([`crate::ingest::IngestOptions::chunk_rows`]).
    fn ingest_chunk_rows(&self) -> usize {
        crate::ingest::DEFAULT_CHUNK_ROWS
    }

    /// The committed-plan and job-queue part of the contract (every backend has it; usually
    /// `self`).
    fn tiering(&self) -> &dyn Tiering;

    /// The access-feed part of the contract (every backend has it; usually `self`).
    fn feeds(&self) -> &dyn Feeds;

    /// Create a tenant.
    ///
    /// # Behavior
    /// - `AlreadyExists` when a tenant of that name exists; nothing changes then.
    /// - `InvalidInput` for an empty name.
    async fn create_tenant(&self, name: &str, settings: &TenantSettings) -> Result<Tenant>;

    /// Look a tenant up by name.
    ///
    /// # Behavior
    /// - `NotFound` naming the tenant when there is none.
    async fn tenant(&self, name: &str) -> Result<Tenant>;

    /// Create the share if it does not exist and return it.
    ///
    /// # Behavior
    /// - Idempotent: an existing share of that name is returned as it is (its kind and case rule
    ///   never change under existing path keys); a new `mount_root` is remembered, and a `root`
    ///   is taken only by a share that has none (changing a root is [`Store::set_share_root`]).
    /// - A new share's name must pass [`crate::names::check_name`] (`InvalidInput`); shares
    ///   created before that rule are still found by their names.
    async fn ensure_share(&self, tenant: TenantId, spec: &ShareSpec) -> Result<Share>;

    /// Create a share.
    ///
    /// # Behavior
    /// - `AlreadyExists` when the tenant has a share of that name; nothing changes then.
    /// - Otherwise as [`Store::ensure_share`].
    async fn create_share(&self, tenant: TenantId, spec: &ShareSpec) -> Result<Share> {
        if self
            .shares(tenant)
            .await?
            .iter()
            .any(|s| s.name == spec.name)
        {
            return Err(crate::Error::new(
                crate::ErrorKind::AlreadyExists,
                format!("share {:?} already exists", spec.name),
            ));
        }
        self.ensure_share(tenant, spec).await
    }

    /// The tenant's shares, by name.
    async fn shares(&self, tenant: TenantId) -> Result<Vec<Share>>;

    /// Set (or with `None` clear) a share's root on the workers' hosts.
    ///
    /// # Behavior
    /// - `NotFound` when the tenant has no such share.
    /// - The root must be an absolute path without `..` segments (`InvalidInput`, see
    ///   [`crate::path::check_root`]).
    async fn set_share_root(
        &self,
        tenant: TenantId,
        share: &str,
        root: Option<&str>,
    ) -> Result<Share>;

    /// Start a scan of a share, or resume an unfinished one of the same source.
    ///
    /// # Behavior
    /// - `NotFound` when the share does not exist for this tenant.
    /// - With `spec.source` set, an unfinished scan of the same share, kind and source is returned
    ///   with `resumed = true` (its applied chunks stay applied); otherwise a new scan starts.
    async fn begin_scan(&self, tenant: TenantId, spec: &ScanSpec) -> Result<Scan>;

    /// Apply one chunk of a scan.
    ///
    /// # Behavior
    /// - Atomic: all of the chunk's rows land, or none.
    /// - Idempotent: a chunk id already applied in this scan changes nothing and returns
    ///   `applied = false`.
    /// - Per file (keyed by share and path key; a later duplicate within the chunk wins): new files
    ///   are inserted; seen files get `last_seen_scan`, lose `missing_since`, and take the new
    ///   values only where they differ; last accessed never moves backwards, and when it moves its
    ///   source becomes `incremental_scan`.
    /// - With the tenant's `keep_history`, also keeps the per-scan snapshot.
    async fn ingest_chunk(
        &self,
        tenant: TenantId,
        scan: i64,
        chunk: &IngestChunk,
    ) -> Result<ChunkOutcome>;

    /// Stage a chunk of a scan; awaiting the returned future applies it.
    ///
    /// The ingest driver stages chunk `n + 1` while chunk `n`'s future runs (a store must also
    /// accept it before that future's first poll), and never polls a chunk's future before the
    /// previous one's has finished. A store may therefore do here the
    /// work that does not depend on the chunks before (path keys, directories, sending the rows)
    /// and leave only the merge to the future, so that the two overlap.
    ///
    /// # Behavior
    /// - The outcome equals [`Store::ingest_chunk`] of the same chunks one after the other.
    /// - A future dropped before its first poll applies nothing of its chunk (work that is
    ///   idempotent anyway, such as recording directories, may have been committed); once polled,
    ///   a store may finish applying the chunk even if the future is then dropped.
    /// - The default stages nothing: its future is `ingest_chunk`.
    async fn stage_chunk<'s>(
        &'s self,
        tenant: TenantId,
        scan: i64,
        chunk: IngestChunk,
    ) -> Result<ChunkApply<'s>> {
        Ok(Box::pin(async move {
            self.ingest_chunk(tenant, scan, &chunk).await
        }))
    }

    /// Finish a scan.
    ///
    /// # Behavior
    /// - For a full scan, files of the share not seen by it are marked missing (soft delete: the
    ///   rows stay); for a partial scan nothing is marked.
    /// - Finishing twice is harmless (the second marks nothing new).
    async fn finish_scan(&self, tenant: TenantId, scan: i64) -> Result<ScanSummary>;

    /// How many files [`Store::finish_scan`] would mark missing if the scan finished now.
    ///
    /// The ingest driver asks this instead of finishing a full scan that rejected rows, so its
    /// report can say how many files that scan would have marked missing.
    ///
    /// # Behavior
    /// - Writes nothing.
    /// - 0 for a partial scan and for a finished one.
    /// - `NotFound` when the scan does not exist for this tenant.
    /// - The default is `Unsupported`.
    async fn count_unseen(&self, tenant: TenantId, scan: i64) -> Result<u64> {
        let _ = (tenant, scan);
        Err(crate::Error::unsupported(
            "counting unseen files",
            self.backend(),
        ))
    }

    /// List file records in (share, path key) order, one page at a time.
    ///
    /// # Behavior
    /// - Only this tenant's rows; missing files only when asked.
    /// - Cursor paging: concurrent inserts never make a page repeat or skip an existing row.
    async fn files(&self, tenant: TenantId, query: &FileQuery) -> Result<Page<FileRecord>>;

    /// The tier object of a file.
    ///
    /// # Behavior
    /// - `NotFound` when the file has none (for this tenant).
    async fn tier_object(
        &self,
        tenant: TenantId,
        share: &str,
        path_key: &str,
    ) -> Result<TierObject>;

    /// The numbers of a report on the tenant's files (of `query.share`, when given): totals,
    /// breakdowns, and the largest and oldest files, as [`crate::report`] defines them.
    ///
    /// # Behavior
    /// - Writes nothing.
    /// - Equal, once [`normalize`](ReportAggregates::normalize)d, to the reference
    ///   [`Accumulator`](crate::report::Accumulator) over the same file records and the
    ///   `planned_by` of their tier objects (missing records counted apart, every breakdown
    ///   summing to the totals, ties of the largest and oldest lists by share name and path key).
    /// - `NotFound` when `query.share` is not a share of the tenant.
    /// - The default is `Unsupported`.
    async fn report_aggregates(
        &self,
        tenant: TenantId,
        query: &ReportQuery,
    ) -> Result<ReportAggregates> {
        let _ = (tenant, query);
        Err(crate::Error::unsupported("reports", self.backend()))
    }

    /// Apply a lifecycle action to one file's tier object, with optimistic concurrency.
    ///
    /// # Behavior
    /// - The action goes through [`crate::lifecycle::transition`]; a refused transition is
    ///   `InvalidTransition` and writes nothing.
    /// - `Conflict` (retryable) when the object's state or version is not `expected`.
    /// - `NotFound` when the file itself is unknown for this tenant.
    /// - On success the version is bumped, `acted_at` (or `planned_at` for a plan) is set, an
    ///   audit event `tier.<action>` is written in the same transaction, and the new object is
    ///   returned; a withdrawn plan removes the object and returns `None`.
    async fn transition(
        &self,
        tenant: TenantId,
        request: &TransitionRequest,
    ) -> Result<Option<TierObject>>;

    /// Replace a tenant's settings; returns the tenant as stored.
    ///
    /// # Behavior
    /// - `NotFound` when the tenant does not exist.
    async fn set_tenant_settings(
        &self,
        tenant: TenantId,
        settings: &TenantSettings,
    ) -> Result<Tenant>;

    /// List the tenant's tier objects in (share, path key) order, one page at a time.
    ///
    /// # Behavior
    /// - Only this tenant's objects, every state unless `query.state` says one; what
    ///   [`Store::tier_object`] returns for each.
    /// - Cursor paging: concurrent inserts never make a page repeat or skip an existing object.
    async fn tier_objects(
        &self,
        tenant: TenantId,
        query: &TierObjectQuery,
    ) -> Result<Page<TierObject>>;

    /// Set or clear the LOST flag of a file's tier object ([`TierObject::lost`]), and write
    /// `request.event` in the same transaction.
    ///
    /// # Behavior
    /// - `NotFound` when the file has no tier object; `Conflict` (retryable) when its state or
    ///   version is not `request.expected`.
    /// - `InvalidTransition` unless the object is STUBBED
    ///   ([`lifecycle::check_lost_flag`](crate::lifecycle::check_lost_flag)); nothing is written.
    /// - The flag is not a state: the version stays (like warming), the rest of the object
    ///   (its target, its stored object) is untouched.
    /// - `NotFound` when the event's parent is not an event of this tenant; nothing is written.
    async fn mark_lost(&self, tenant: TenantId, request: &LostRequest) -> Result<TierObject>;

    /// Which of `ids` are tier object ids this tenant was given: its objects' ids now, and the
    /// ids of its objects since removed (a withdrawn plan, a pruned record). Object keys end
    /// with their object's id ([`worker::object_key_of`](crate::worker::object_key_of)), so this
    /// is how reconciliation knows that an object no record claims any more was this tenant's.
    ///
    /// # Behavior
    /// - An id is given to one tenant only, once, and stays its own; ids of other tenants are
    ///   never returned.
    /// - The result is sorted and without duplicates.
    async fn owned_tier_ids(&self, tenant: TenantId, ids: &[i64]) -> Result<Vec<i64>>;

    /// Append an audit event, stamped with the store's [`Actor`](crate::Actor).
    ///
    /// # Behavior
    /// - `NotFound` when `parent` is not an event of this tenant.
    /// - Ids increase in append order.
    async fn append_audit(&self, tenant: TenantId, event: &NewAuditEvent) -> Result<AuditEvent>;

    /// Audit events matching `query`, in read order (by [`AuditPosition`](crate::AuditPosition)),
    /// after `query.after`.
    ///
    /// # Behavior
    /// - Complete under concurrent writers: an event that becomes visible after a reader passed
    ///   its position is never skipped (on PostgreSQL, only events below the database's oldest transaction
    ///   still running are returned; the rest come on a later read).
    /// - `next` is the last item's position when more may match, `None` at the end.
    async fn audit_query(&self, tenant: TenantId, query: &AuditQuery) -> Result<Page<AuditEvent>>;

    /// Every audit event after `after`, at most `limit` (0: 1,000).
    async fn audit(
        &self,
        tenant: TenantId,
        after: Option<AuditPosition>,
        limit: usize,
    ) -> Result<Page<AuditEvent>> {
        let q = AuditQuery {
            after,
            limit,
            ..AuditQuery::default()
        };
        self.audit_query(tenant, &q).await
    }

    /// Who the events this store writes from now on are attributed to ([`Actor::current`]
    /// (crate::Actor::current) with source `sdk` until set).
    fn set_actor(&self, actor: crate::Actor);
}
