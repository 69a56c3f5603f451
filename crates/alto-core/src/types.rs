//! The domain: tenants, shares, file records, tier objects, jobs, estimates and audit events.
//!
//! These are plain data, shared by every store, the planner, the CLI and the bindings. Times are
//! [`Micros`] (microseconds since the Unix epoch, UTC). Identifiers are the store's 64-bit keys;
//! every one of them only means something within its tenant.

use crate::lifecycle::TierState;
use crate::time::Micros;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A tenant's identifier.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct TenantId(pub i64);

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// What to do with a feed event for a path the inventory does not know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum UnknownPathPolicy {
    /// Keep it in a queue for investigation (default).
    #[default]
    Queue,
    /// Drop it (counted).
    Ignore,
    /// Create a placeholder file record from what the event says.
    Placeholder,
}

/// What to do when a stubbed file is accessed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum StubAccessPolicy {
    /// Write an alert audit event (default).
    #[default]
    Alert,
    /// Write a `feed.rehydrate_request` audit event and bring the file back (the feed does it
    /// when given a [`Rehydrator`](crate::feed::apply::Rehydrator), as `alto feed` is; otherwise
    /// the request waits for `alto rehydrate`).
    Rehydrate,
    /// Only count it.
    Ignore,
}

/// Per-tenant settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct TenantSettings {
    /// Keep immutable per-scan snapshot rows (`file`) beside `file_current`.
    pub keep_history: bool,
    /// When keeping history, keep only the last N scans per share (`None`: all).
    pub history_scans: Option<u32>,
    /// PLANNED objects planned more than this many days ago expire at the next `maintain`
    /// (their plans are withdrawn); 0 expires every one then.
    pub planned_retention_days: u32,
    /// REHYDRATED records whose last change is older than this many days are removed by
    /// `maintain` (`None`: kept).
    pub rehydrated_retention_days: Option<u32>,
    /// DELETED records, the same (`None`: kept).
    pub deleted_retention_days: Option<u32>,
    /// Finished jobs (done, failed, cancelled) that hold no file are removed this many days after
    /// they finished (`None`: kept).
    pub job_retention_days: Option<u32>,
    /// Feed bookkeeping (the ids of applied events, staged events) is kept this many hours, then
    /// cleared by `maintain` (a re-read older than that is no longer recognised as a duplicate).
    pub feed_staging_hours: u32,
    /// Feed events for unknown paths.
    pub unknown_paths: UnknownPathPolicy,
    /// Access to a stubbed file.
    pub stub_access: StubAccessPolicy,
}

impl Default for TenantSettings {
    fn default() -> Self {
        TenantSettings {
            keep_history: true,
            history_scans: None,
            planned_retention_days: 365,
            rehydrated_retention_days: None,
            deleted_retention_days: None,
            job_retention_days: Some(90),
            feed_staging_hours: 24,
            unknown_paths: UnknownPathPolicy::default(),
            stub_access: StubAccessPolicy::default(),
        }
    }
}

/// Builders for settings made outside this crate (the struct is `#[non_exhaustive]`):
/// `TenantSettings::default().with_stub_access(StubAccessPolicy::Rehydrate)`.
impl TenantSettings {
    /// Keep (or not) per-scan snapshot rows.
    #[must_use]
    pub fn with_keep_history(mut self, keep: bool) -> Self {
        self.keep_history = keep;
        self
    }

    /// Keep only the last `scans` scans per share (`None`: all).
    #[must_use]
    pub fn with_history_scans(mut self, scans: Option<u32>) -> Self {
        self.history_scans = scans;
        self
    }

    /// PLANNED objects expire after `days`.
    #[must_use]
    pub fn with_planned_retention_days(mut self, days: u32) -> Self {
        self.planned_retention_days = days;
        self
    }

    /// REHYDRATED records are removed after `days` (`None`: kept).
    #[must_use]
    pub fn with_rehydrated_retention_days(mut self, days: Option<u32>) -> Self {
        self.rehydrated_retention_days = days;
        self
    }

    /// DELETED records are removed after `days` (`None`: kept).
    #[must_use]
    pub fn with_deleted_retention_days(mut self, days: Option<u32>) -> Self {
        self.deleted_retention_days = days;
        self
    }

    /// Finished jobs are removed after `days` (`None`: kept).
    #[must_use]
    pub fn with_job_retention_days(mut self, days: Option<u32>) -> Self {
        self.job_retention_days = days;
        self
    }

    /// Feed bookkeeping is kept `hours`.
    #[must_use]
    pub fn with_feed_staging_hours(mut self, hours: u32) -> Self {
        self.feed_staging_hours = hours;
        self
    }

    /// What feed events for unknown paths do.
    #[must_use]
    pub fn with_unknown_paths(mut self, policy: UnknownPathPolicy) -> Self {
        self.unknown_paths = policy;
        self
    }

    /// What an access to a stubbed file does.
    #[must_use]
    pub fn with_stub_access(mut self, policy: StubAccessPolicy) -> Self {
        self.stub_access = policy;
        self
    }
}

/// A tenant: one customer, whose rows no other tenant can see.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Tenant {
    /// Store key.
    pub id: TenantId,
    /// Unique name.
    pub name: String,
    /// Settings.
    pub settings: TenantSettings,
    /// When it was created.
    pub created: Micros,
}

/// The kind of file system a share is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ShareKind {
    /// Windows NTFS volume (case-insensitive).
    #[default]
    Ntfs,
    /// SMB share (case-insensitive).
    Smb,
    /// LucidLink filespace (case-sensitive; has an access feed).
    Lucidlink,
    /// POSIX file system (case-sensitive).
    Posix,
}

impl ShareKind {
    /// The default case sensitivity of this kind of share.
    pub fn case_sensitive(self) -> bool {
        matches!(self, ShareKind::Lucidlink | ShareKind::Posix)
    }

    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ShareKind::Ntfs => "ntfs",
            ShareKind::Smb => "smb",
            ShareKind::Lucidlink => "lucidlink",
            ShareKind::Posix => "posix",
        }
    }
}

/// A share: one file system (or part of one) of a tenant, scanned as a unit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Share {
    /// Store key.
    pub id: i64,
    /// Owning tenant.
    pub tenant: TenantId,
    /// Name, unique within the tenant.
    pub name: String,
    /// File system kind.
    pub kind: ShareKind,
    /// Whether path keys keep case.
    pub case_sensitive: bool,
    /// For feeds: the prefix the inventory uses for the filespace root (`L:\`, `/Volumes/fs`).
    pub mount_root: Option<String>,
    /// Where the share's files are on the hosts the workers run on (an absolute directory). Every
    /// file of the share lies beneath it; workers resolve paths beneath it by file descriptor and
    /// refuse to act on a share that has none (`None`: a catalogue-only share).
    #[serde(default)]
    pub root: Option<String>,
}

/// Where a file record's last-accessed time came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum AccessSource {
    /// The first scan that saw the file.
    #[default]
    InitialScan,
    /// A later scan.
    IncrementalScan,
    /// The LucidLink audit trail.
    LucidlinkAudit,
    /// Set by hand.
    Manual,
}

impl AccessSource {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            AccessSource::InitialScan => "initial_scan",
            AccessSource::IncrementalScan => "incremental_scan",
            AccessSource::LucidlinkAudit => "lucidlink_audit",
            AccessSource::Manual => "manual",
        }
    }
}

/// One file as an inventory or scan describes it, owned. Readers hand out borrowed
/// [`InventoryRow`](crate::inventory::InventoryRow)s; this is what crosses API boundaries.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct FileEntry {
    /// The path exactly as received.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// Last modified.
    pub modified: Option<Micros>,
    /// Last accessed.
    pub accessed: Option<Micros>,
    /// Extension without the dot, as given or derived from the path.
    pub extension: Option<String>,
    /// Permissions as the agent wrote them.
    pub permissions: Option<String>,
    /// Owner.
    pub owner: Option<String>,
    /// Content hash as the agent wrote it (`sha256:…`).
    pub hash: Option<String>,
}

/// The current state of one file (`file_current`): what the planner reads.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FileRecord {
    /// Share name.
    pub share: String,
    /// The file as last seen.
    #[serde(flatten)]
    pub entry: FileEntry,
    /// Path key (unique per tenant and share).
    pub path_key: String,
    /// Where `accessed` came from.
    pub accessed_source: AccessSource,
    /// When `accessed` last changed.
    pub atime_updated: Option<Micros>,
    /// Scan that first saw it.
    pub first_seen_scan: i64,
    /// Scan that last saw it.
    pub last_seen_scan: i64,
    /// Set when a full scan no longer saw the file (soft delete).
    pub missing_since: Option<Micros>,
    /// Tier state, if the file has a tier object.
    pub state: Option<TierState>,
    /// The LOST flag of its tier object, when reconciliation found the stubbed file's object
    /// gone or not as recorded (see [`TierObject::lost`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lost: Option<Lost>,
}

/// The tier-2 record of one file (`tier_object`): its lifecycle state and where its data went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TierObject {
    /// Store key.
    pub id: i64,
    /// Share name.
    pub share: String,
    /// Path key of the file.
    pub path_key: String,
    /// Path as received.
    pub path: String,
    /// Lifecycle state.
    pub state: TierState,
    /// Optimistic-concurrency version: bumped by every change.
    pub version: i64,
    /// 1 for the first time the file was planned, +1 for each re-planning.
    pub incarnation: i32,
    /// Where the data goes (rendered target URI joined with the key).
    pub target_uri: String,
    /// The rule that planned it.
    pub planned_by: String,
    /// When it was planned.
    pub planned_at: Micros,
    /// When it was last acted upon (stubbed, rehydrated, deleted).
    pub acted_at: Option<Micros>,
    /// Last access seen after planning (warming).
    pub last_accessed: Option<Micros>,
    /// Accesses seen after planning.
    pub access_count: i64,
    /// What the worker stored and what it replaced, recorded with the stub (`None` before the
    /// file is first stubbed in this incarnation, and for objects stubbed before Alto recorded
    /// it).
    #[serde(default)]
    pub stored: Option<StoredObject>,
    /// Set by reconciliation when the tier target no longer holds the stored object as recorded
    /// (a flag, not a state: see [`crate::lifecycle`]). Only a STUBBED object gets it; the
    /// transitions out of STUBBED keep it; a new incarnation clears it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lost: Option<Lost>,
}

/// Why and when reconciliation found a stubbed file's object lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lost {
    /// When it was found.
    pub at: Micros,
    /// What was wrong.
    pub reason: LostReason,
}

/// What reconciliation found wrong with a stubbed file's object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum LostReason {
    /// No object at the recorded key.
    Missing,
    /// An object of another size.
    Size,
    /// An object with another entity tag than the one recorded (it was written again).
    Etag,
    /// An object whose SHA-256 is not the recorded one (`--verify-content`).
    Digest,
}

impl LostReason {
    /// Every reason.
    pub const ALL: [LostReason; 4] = [
        LostReason::Missing,
        LostReason::Size,
        LostReason::Etag,
        LostReason::Digest,
    ];

    /// The stored spelling: `missing`, `size`, `etag`, `digest`.
    pub fn as_str(self) -> &'static str {
        match self {
            LostReason::Missing => "missing",
            LostReason::Size => "size",
            LostReason::Etag => "etag",
            LostReason::Digest => "digest",
        }
    }

    /// Parse the stored spelling.
    pub fn parse(s: &str) -> Option<LostReason> {
        LostReason::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

impl fmt::Display for LostReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The catalogue's record of a stubbed file's object and of the file it replaced.
///
/// Rehydration verifies the fetched bytes against this record, never against the stub (a stub is
/// a file its owner can rewrite), and gives the restored file this owner, group and mode back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredObject {
    /// The object's key under the target root (unique per tenant, share and incarnation).
    pub key: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the content, lower-case hex.
    pub sha256: String,
    /// The target's entity tag, where it gives one.
    pub etag: Option<String>,
    /// Owner of the original file.
    pub uid: u32,
    /// Group of the original file.
    pub gid: u32,
    /// Mode of the original file (permission bits, set-id and sticky bits; no file type).
    pub mode: u32,
    /// Last-modified time of the original.
    pub modified: Micros,
}

/// An estimate of the work and the gain of moving some files.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Estimate {
    /// Number of files.
    pub files: u64,
    /// Their total size.
    pub bytes: u64,
    /// Bytes freed on primary storage (size minus stub size, per file, never negative).
    pub bytes_saved: u64,
    /// Transfer time at the target's bandwidth plus the per-file overhead.
    pub seconds: f64,
}

/// The state of a tiering job.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum JobState {
    /// Waiting for a worker.
    #[default]
    Queued,
    /// Claimed by a worker holding a lease.
    Running,
    /// Finished.
    Done,
    /// Gave up after the last attempt.
    Failed,
    /// Cancelled by an admin.
    Cancelled,
}

/// A batch of files of one rule going to one target.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Job {
    /// Store key (0 for a dry-run plan's jobs).
    pub id: i64,
    /// The rule.
    pub rule: String,
    /// The rendered target URI.
    pub target: String,
    /// Lower runs first (the rule's priority).
    pub priority: i64,
    /// State.
    pub state: JobState,
    /// What it moves.
    pub estimate: Estimate,
    /// Claims so far (at most 3 before the job fails).
    pub attempts: u32,
    /// The last error, when an attempt failed.
    pub last_error: Option<String>,
    /// Not to be claimed before this time (backoff after a failure).
    pub not_before: Option<Micros>,
    /// Who holds the lease (when running).
    pub worker: Option<String>,
    /// When the lease expires (when running).
    pub lease_expires: Option<Micros>,
    /// Files stubbed, skipped and failed by the attempt that finished it.
    pub files_stubbed: u64,
    /// Files skipped (changed or accessed since planning; plan withdrawn).
    pub files_skipped: u64,
    /// Files that failed.
    pub files_failed: u64,
    /// Bytes moved.
    pub bytes_moved: u64,
    /// When it was created.
    pub created: Micros,
    /// When it finished (done, failed or cancelled).
    pub finished: Option<Micros>,
    /// Its `job.create` audit event: the parent of its files' events and of its outcome
    /// (`None` for jobs of a store written before the trail chained them).
    pub event: Option<i64>,
}

/// The detail of a `job.create` audit event.
pub fn job_create_detail(rule: &str, target: &str, estimate: &Estimate) -> serde_json::Value {
    serde_json::json!({
        "rule": rule,
        "target": target,
        "files": estimate.files,
        "bytes": estimate.bytes,
    })
}

impl JobState {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Failed => "failed",
            JobState::Cancelled => "cancelled",
        }
    }

    /// Parse the stored spelling.
    pub fn parse(s: &str) -> Option<JobState> {
        [
            JobState::Queued,
            JobState::Running,
            JobState::Done,
            JobState::Failed,
            JobState::Cancelled,
        ]
        .into_iter()
        .find(|j| j.as_str().eq_ignore_ascii_case(s))
    }
}

/// One entry of the audit trail.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AuditEvent {
    /// Store key, unique within the store; increases in append order within one writer.
    pub id: i64,
    /// Where the event sits in the trail's read order (see [`AuditPosition`]).
    pub position: AuditPosition,
    /// When.
    pub at: Micros,
    /// What happened (`tier.plan`, `tier.stub`, `ingest.chunk`, `feed.batch`, `job.done`…).
    pub kind: String,
    /// What it happened to (a path key, a job id, a scan id).
    pub subject: String,
    /// Details.
    pub detail: serde_json::Value,
    /// The event this one belongs to (a job's events under the job's event).
    pub parent: Option<i64>,
    /// Who wrote it: the process's user, host and program as it reported them, its source, and
    /// on PostgreSQL the database login (which the database, not the client, fills in).
    pub actor: Actor,
}

/// Where an event sits in the audit trail's read order: `(commit, id)`, compared in that order.
///
/// A reader that resumes after a position sees every event committed later, none twice. On
/// PostgreSQL `commit` is the writing transaction's id, and readers only see events below the
/// oldest transaction of the database still running, so an event that commits late is never skipped; on SQLite
/// and in memory, writers are serialised and `commit` is 0. Its text (`commit.id`) is what the
/// SDK's opaque cursors carry.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
pub struct AuditPosition {
    /// The writer's commit order (0 where writers are serialised).
    pub commit: i64,
    /// The event id, ordering events of one writer.
    pub id: i64,
}

impl fmt::Display for AuditPosition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.commit, self.id)
    }
}

impl std::str::FromStr for AuditPosition {
    type Err = crate::Error;
    fn from_str(s: &str) -> crate::Result<Self> {
        let bad = || crate::Error::invalid_input(format!("not an audit position: {s:?}"));
        let (c, i) = s.split_once('.').ok_or_else(bad)?;
        Ok(AuditPosition {
            commit: c.parse().map_err(|_| bad())?,
            id: i.parse().map_err(|_| bad())?,
        })
    }
}

/// Which audit events to read, and from where.
///
/// Every filter narrows: an event is listed when it matches all of those given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    /// Resume after this position (`None`: from the start).
    pub after: Option<AuditPosition>,
    /// At most this many events (0: the store's default, 1,000).
    pub limit: usize,
    /// Kinds: an entry is a kind (`tier.stub`) or a family ending in `.*` (`tier.*`: every
    /// `tier.…` kind). An event matches when it matches any entry.
    pub kinds: Vec<String>,
    /// Only events about this subject (a path key, an object key, a job or scan id), exactly.
    pub subject: Option<String>,
    /// Only events at or after this time.
    pub since: Option<Micros>,
    /// Only events before this time.
    pub until: Option<Micros>,
    /// Only the children of this event.
    pub parent: Option<i64>,
}

impl AuditQuery {
    /// Whether `e` passes the filters (not the position or the limit). The stores that filter in
    /// SQL must agree with this; the memory store uses it.
    pub fn matches(&self, e: &AuditEvent) -> bool {
        (self.kinds.is_empty() || self.kinds.iter().any(|k| kind_matches(k, &e.kind)))
            && self.subject.as_deref().is_none_or(|s| s == e.subject)
            && self.since.is_none_or(|t| e.at >= t)
            && self.until.is_none_or(|t| e.at < t)
            && self.parent.is_none_or(|p| e.parent == Some(p))
    }
}

/// Whether the kind filter `filter` selects `kind`: the same kind, or for a family `f.*` a kind
/// that starts with `f.` (`tier.*` selects `tier.stub`, not `tiers.x`).
pub fn kind_matches(filter: &str, kind: &str) -> bool {
    match filter.strip_suffix('*') {
        Some(family) if family.ends_with('.') => kind.starts_with(family),
        _ => filter == kind,
    }
}

/// Who wrote an audit event.
///
/// The user, host and process are what the writing process reports about itself (see
/// [`Actor::current`]); a store cannot check them. PostgreSQL adds `db_user`, the login the
/// database authenticated, which the client cannot set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Actor {
    /// The operating-system user name (empty when unknown).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub user: String,
    /// The operating-system user id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<u32>,
    /// The host name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub host: String,
    /// The program (`alto`, `python`, `node`…).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub process: String,
    /// The process id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    /// Which interface wrote it: `cli` (with the command, `cli:run`), `sdk`, `python`, `node`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub source: String,
    /// PostgreSQL only: the database login, filled in by the database.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub db_user: Option<String>,
}

impl Actor {
    /// The calling process: its user (by uid, from the password database), host name, program
    /// name and pid, with `source`.
    pub fn current(source: &str) -> Actor {
        let uid = rustix::process::getuid().as_raw();
        Actor {
            user: user_name(uid).unwrap_or_default(),
            uid: Some(uid),
            host: rustix::system::uname()
                .nodename()
                .to_string_lossy()
                .into_owned(),
            process: std::env::current_exe()
                .ok()
                .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
                .unwrap_or_default(),
            pid: Some(std::process::id()),
            source: source.to_owned(),
            db_user: None,
        }
    }

    /// The same actor with another source.
    pub fn with_source(mut self, source: &str) -> Actor {
        self.source = source.to_owned();
        self
    }

    /// The JSON a store keeps (without `db_user`, which only a database may set).
    pub fn to_json(&self) -> String {
        let mut a = self.clone();
        a.db_user = None;
        serde_json::to_string(&a).unwrap_or_else(|_| "{}".into())
    }
}

/// The name of `uid` in `/etc/passwd`, if it is there.
fn user_name(uid: u32) -> Option<String> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|l| {
        let mut f = l.split(':');
        let name = f.next()?;
        let id = f.nth(1)?;
        (id.parse() == Ok(uid)).then(|| name.to_owned())
    })
}

/// A new audit event, before the store gives it an id and time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewAuditEvent {
    /// What happened.
    pub kind: String,
    /// What it happened to.
    pub subject: String,
    /// Details.
    pub detail: serde_json::Value,
    /// Parent event; must exist for this tenant.
    pub parent: Option<i64>,
}
