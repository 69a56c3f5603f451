//! What listings and reports look like in JavaScript: files, jobs, audit events, shares and the
//! reports of ingest, workers, rehydration and feeds. Times are `Date`s (Alto's microseconds cut
//! to JavaScript's milliseconds); byte counts are a `number` when exact (below 2^53), else a
//! `bigint`; states are the CLI's strings (`'PLANNED'`, `'queued'`, …).

use alto::time::Micros;
use chrono::{DateTime, Utc};
use napi::bindgen_prelude::*;
use napi_derive::napi;
use serde::Serialize;

use crate::json;

/// A byte count: `number` below 2^53, `bigint` above.
#[napi]
pub type Size = Either<i64, BigInt>;

const EXACT: u64 = 1 << 53;

pub(crate) fn size(n: u64) -> Size {
    if n < EXACT {
        Either::A(n as i64)
    } else {
        Either::B(BigInt::from(n))
    }
}

/// A count (files, rows, jobs): always far below 2^53.
pub(crate) fn count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

pub(crate) fn size_in(v: &Size) -> alto::Result<u64> {
    match v {
        Either::A(n) if *n >= 0 => Ok(*n as u64),
        Either::B(b) => match b.get_u64() {
            (false, n, true) => Ok(n),
            _ => Err(crate::error::invalid(
                "size must be a non-negative integer below 2^64",
            )),
        },
        Either::A(_) => Err(crate::error::invalid("size must be a non-negative integer")),
    }
}

pub(crate) fn date(t: Micros) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(t).unwrap_or_default()
}

pub(crate) fn opt_date(t: Option<Micros>) -> Option<DateTime<Utc>> {
    t.map(date)
}

pub(crate) fn micros(d: &DateTime<Utc>) -> Micros {
    d.timestamp_micros()
}

// The records' fields that are always there come first, then the optional ones: napi sets
// the optional ones after the others, so this is the order of a record's properties in
// JavaScript, and `Serialize` writes them in the same order (`nextPageJson`).

/// One file as the store knows it (`tenant.files()`).
#[napi(object)]
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FileInfo {
    /// Share name.
    pub share: String,
    /// The path as the inventory gave it.
    pub path: String,
    /// Size in bytes.
    #[serde(serialize_with = "json::size")]
    pub size: Size,
    /// The path's key in its share (normalised; folded for case-insensitive shares).
    pub path_key: String,
    /// Where `accessed` came from: `initial_scan`, `incremental_scan`, `lucidlink_audit`, `manual`.
    pub accessed_source: String,
    /// The scan that first saw it.
    pub first_seen_scan: i64,
    /// The scan that last saw it.
    pub last_seen_scan: i64,
    /// Last modified.
    #[serde(
        serialize_with = "json::opt_date",
        skip_serializing_if = "Option::is_none"
    )]
    pub modified: Option<DateTime<Utc>>,
    /// Last accessed.
    #[serde(
        serialize_with = "json::opt_date",
        skip_serializing_if = "Option::is_none"
    )]
    pub accessed: Option<DateTime<Utc>>,
    /// Extension without the dot.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extension: Option<String>,
    /// Permissions as the agent wrote them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub permissions: Option<String>,
    /// Owner.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Content hash as the agent wrote it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
    /// When `accessed` last changed.
    #[serde(
        serialize_with = "json::opt_date",
        skip_serializing_if = "Option::is_none"
    )]
    pub atime_updated: Option<DateTime<Utc>>,
    /// Set when a full scan no longer saw the file.
    #[serde(
        serialize_with = "json::opt_date",
        skip_serializing_if = "Option::is_none"
    )]
    pub missing_since: Option<DateTime<Utc>>,
    /// Tier state: `PLANNED`, `STUBBED`, `REHYDRATED`, `DELETED`; absent when never planned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// Why `tenant.reconcile()` found the stubbed file's object lost (`missing`, `size`,
    /// `etag`, `digest`); absent when it is not flagged LOST.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lost: Option<String>,
    /// When it was found lost.
    #[serde(
        serialize_with = "json::opt_date",
        skip_serializing_if = "Option::is_none"
    )]
    pub lost_at: Option<DateTime<Utc>>,
}

impl From<alto::FileRecord> for FileInfo {
    fn from(f: alto::FileRecord) -> Self {
        FileInfo {
            share: f.share,
            path: f.entry.path,
            size: size(f.entry.size),
            modified: opt_date(f.entry.modified),
            accessed: opt_date(f.entry.accessed),
            extension: f.entry.extension,
            permissions: f.entry.permissions,
            owner: f.entry.owner,
            hash: f.entry.hash,
            path_key: f.path_key,
            accessed_source: f.accessed_source.as_str().to_owned(),
            atime_updated: opt_date(f.atime_updated),
            first_seen_scan: f.first_seen_scan,
            last_seen_scan: f.last_seen_scan,
            missing_since: opt_date(f.missing_since),
            state: f.state.map(|s| s.as_str().to_owned()),
            lost: f.lost.map(|l| l.reason.as_str().to_owned()),
            lost_at: opt_date(f.lost.map(|l| l.at)),
        }
    }
}

/// An estimate of moving some files.
#[napi(object)]
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Estimate {
    /// Files.
    pub files: i64,
    /// Their bytes.
    #[serde(serialize_with = "json::size")]
    pub bytes: Size,
    /// Bytes freed on primary storage.
    #[serde(serialize_with = "json::size")]
    pub bytes_saved: Size,
    /// Transfer time in seconds.
    pub seconds: f64,
}

/// A tiering job (`tenant.jobs()`).
#[napi(object)]
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JobInfo {
    /// Job id.
    pub id: i64,
    /// The rule.
    pub rule: String,
    /// The rendered target URI.
    pub target: String,
    /// Lower runs first.
    pub priority: i64,
    /// `queued`, `running`, `done`, `failed` or `cancelled`.
    pub state: String,
    /// What it moves.
    pub estimate: Estimate,
    /// Claims so far.
    pub attempts: u32,
    /// Files stubbed.
    pub files_stubbed: i64,
    /// Files skipped.
    pub files_skipped: i64,
    /// Files failed.
    pub files_failed: i64,
    /// Bytes moved.
    #[serde(serialize_with = "json::size")]
    pub bytes_moved: Size,
    /// When it was created.
    #[serde(serialize_with = "json::date")]
    pub created: DateTime<Utc>,
    /// The last error, when an attempt failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// Not claimed before this time.
    #[serde(
        serialize_with = "json::opt_date",
        skip_serializing_if = "Option::is_none"
    )]
    pub not_before: Option<DateTime<Utc>>,
    /// Who holds the lease.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub worker: Option<String>,
    /// When the lease expires.
    #[serde(
        serialize_with = "json::opt_date",
        skip_serializing_if = "Option::is_none"
    )]
    pub lease_expires: Option<DateTime<Utc>>,
    /// When it finished.
    #[serde(
        serialize_with = "json::opt_date",
        skip_serializing_if = "Option::is_none"
    )]
    pub finished: Option<DateTime<Utc>>,
    /// The id of its `job.create` audit event, the parent of its files' events and of its
    /// outcome: `tenant.audit({ children: job.event })` lists them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event: Option<i64>,
}

impl From<alto::Job> for JobInfo {
    fn from(j: alto::Job) -> Self {
        JobInfo {
            id: j.id,
            rule: j.rule,
            target: j.target,
            priority: j.priority,
            state: j.state.as_str().to_owned(),
            estimate: Estimate {
                files: count(j.estimate.files),
                bytes: size(j.estimate.bytes),
                bytes_saved: size(j.estimate.bytes_saved),
                seconds: j.estimate.seconds,
            },
            attempts: j.attempts,
            last_error: j.last_error,
            not_before: opt_date(j.not_before),
            worker: j.worker,
            lease_expires: opt_date(j.lease_expires),
            files_stubbed: count(j.files_stubbed),
            files_skipped: count(j.files_skipped),
            files_failed: count(j.files_failed),
            bytes_moved: size(j.bytes_moved),
            created: date(j.created),
            finished: opt_date(j.finished),
            event: j.event,
        }
    }
}

/// One entry of the audit trail (`tenant.audit()`).
#[napi(object)]
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEvent {
    /// Event id, unique in the store.
    pub id: i64,
    /// When.
    #[serde(serialize_with = "json::date")]
    pub at: DateTime<Utc>,
    /// What happened: `tier.plan`, `tier.stub`, `job.create`, `job.done`, `ingest.chunk`, …
    pub kind: String,
    /// What it happened to (a path key, an object key, a job or scan id).
    pub subject: String,
    /// Details (JSON).
    pub detail: serde_json::Value,
    /// Who wrote it.
    pub actor: Actor,
    /// The event this one belongs to (a job's file events and outcome under its `job.create`,
    /// a scan's chunks under its `ingest.scan`, a feed batch's effects under its `feed.batch`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<i64>,
}

impl From<alto::AuditEvent> for AuditEvent {
    fn from(e: alto::AuditEvent) -> Self {
        AuditEvent {
            id: e.id,
            at: date(e.at),
            kind: e.kind,
            subject: e.subject,
            detail: e.detail,
            actor: e.actor.into(),
            parent: e.parent,
        }
    }
}

/// Who wrote an audit event: what the writing process said of itself (a claim; empty strings
/// and absent numbers when unknown), the interface it wrote through, and on PostgreSQL the
/// database login, which the database fills in.
#[napi(object)]
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Actor {
    /// The operating-system user name.
    pub user: String,
    /// The host name.
    pub host: String,
    /// The program (`node`, `alto`, `python3.12`, …).
    pub process: String,
    /// The interface: `node` (or what `connect(url, { source })` named), `python`, `sdk`,
    /// `cli:<command>`.
    pub source: String,
    /// The operating-system user id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uid: Option<u32>,
    /// The process id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    /// PostgreSQL only: the database login that wrote it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub db_user: Option<String>,
}

impl From<alto::Actor> for Actor {
    fn from(a: alto::Actor) -> Self {
        Actor {
            user: a.user,
            host: a.host,
            process: a.process,
            source: a.source,
            uid: a.uid,
            pid: a.pid,
            db_user: a.db_user,
        }
    }
}

/// A share of a tenant.
#[napi(object)]
pub struct ShareInfo {
    /// Name, unique within the tenant.
    pub name: String,
    /// `posix`, `ntfs`, `smb` or `lucidlink`.
    pub kind: String,
    /// Whether path keys keep case.
    pub case_sensitive: bool,
    /// The feed prefix of the filespace root.
    pub mount_root: Option<String>,
    /// The share's directory on the workers' hosts.
    pub root: Option<String>,
}

impl From<alto::Share> for ShareInfo {
    fn from(s: alto::Share) -> Self {
        ShareInfo {
            name: s.name,
            kind: s.kind.as_str().to_owned(),
            case_sensitive: s.case_sensitive,
            mount_root: s.mount_root,
            root: s.root,
        }
    }
}

/// What `tenant.ingest()` did.
#[napi(object)]
pub struct IngestReport {
    /// The scan's id.
    pub scan: i64,
    /// Whether an interrupted scan of the same input was resumed.
    pub resumed: bool,
    /// Rows accepted.
    pub accepted: i64,
    /// Rows rejected.
    pub rejected: i64,
    /// Files seen for the first time.
    pub new: i64,
    /// Files that changed.
    pub changed: i64,
    /// Files seen again unchanged.
    pub unchanged: i64,
    /// Files marked missing by a full scan.
    pub missing: i64,
    /// Chunks applied now.
    pub chunks_applied: i64,
    /// Chunks an earlier run applied.
    pub chunks_skipped: i64,
    /// Folder rows skipped.
    pub folders: i64,
    /// A full scan with rejected rows marks nothing missing and stays open.
    pub left_open: bool,
}

impl From<alto::ingest::IngestReport> for IngestReport {
    fn from(r: alto::ingest::IngestReport) -> Self {
        IngestReport {
            scan: r.scan,
            resumed: r.resumed,
            accepted: count(r.accepted),
            rejected: count(r.rejected),
            new: count(r.new),
            changed: count(r.changed),
            unchanged: count(r.unchanged),
            missing: count(r.missing),
            chunks_applied: count(r.chunks_applied),
            chunks_skipped: count(r.chunks_skipped),
            folders: count(r.folders),
            left_open: r.left_open,
        }
    }
}

/// What `alto.runWorkers()` did.
#[napi(object)]
pub struct RunReport {
    /// Jobs run.
    pub jobs: i64,
    /// Files stubbed.
    pub stubbed: i64,
    /// Files skipped (changed or accessed since planning, or gone).
    pub skipped: i64,
    /// Files that failed.
    pub failed: i64,
    /// Bytes moved.
    pub bytes: Size,
    /// Per-file failures, `tenant: job N: error`.
    pub errors: Vec<String>,
}

impl From<alto::RunReport> for RunReport {
    fn from(r: alto::RunReport) -> Self {
        RunReport {
            jobs: count(r.jobs),
            stubbed: count(r.stubbed),
            skipped: count(r.skipped),
            failed: count(r.failed),
            bytes: size(r.bytes),
            errors: r.errors,
        }
    }
}

/// What `tenant.rehydrate()` did.
#[napi(object)]
pub struct RehydrateReport {
    /// Files brought back.
    pub rehydrated: i64,
    /// Bytes fetched.
    pub bytes: Size,
    /// Failures, per file.
    pub errors: Vec<String>,
}

impl From<alto::worker::RehydrateReport> for RehydrateReport {
    fn from(r: alto::worker::RehydrateReport) -> Self {
        RehydrateReport {
            rehydrated: count(r.rehydrated),
            bytes: size(r.bytes),
            errors: r.errors,
        }
    }
}

/// What `tenant.applyEvents()` did.
#[napi(object)]
pub struct FeedReport {
    /// Events read (malformed ones included).
    pub read: i64,
    /// Events that changed a record.
    pub applied: i64,
    /// Events seen before.
    pub duplicate: i64,
    /// Events more than 7 days in the future.
    pub skewed: i64,
    /// Events for unknown paths.
    pub unknown: i64,
    /// Updates that were not events.
    pub malformed: i64,
    /// Events older than the record.
    pub stale: i64,
    /// Plans withdrawn because the file no longer qualifies.
    pub withdrawn: i64,
    /// Accesses to stubbed files reported.
    pub stub_accesses: i64,
    /// Stubbed files brought back under the `rehydrate` policy.
    pub rehydrated: i64,
    /// Rehydrations that failed.
    pub rehydrate_failed: i64,
    /// Why each failed rehydration failed.
    pub rehydrate_errors: Vec<String>,
    /// Seconds between the newest event and now.
    pub lag_secs: Option<f64>,
}

impl From<alto::feed::apply::FeedReport> for FeedReport {
    fn from(r: alto::feed::apply::FeedReport) -> Self {
        FeedReport {
            read: count(r.read),
            applied: count(r.applied),
            duplicate: count(r.duplicate),
            skewed: count(r.skewed),
            unknown: count(r.unknown),
            malformed: count(r.malformed),
            stale: count(r.stale),
            withdrawn: count(r.withdrawn),
            stub_accesses: count(r.stub_accesses),
            rehydrated: count(r.rehydrated),
            rehydrate_failed: count(r.rehydrate_failed),
            rehydrate_errors: r.rehydrate_errors,
            lag_secs: r.lag_secs,
        }
    }
}
