//! Workers: claim a job, re-check each file, copy it to its tier target, verify, stub, record.
//!
//! A worker runs as root over every user's files, so every path it is given is a claim, not a
//! fact. A file is acted on only beneath its share's root (a share without one is refused), its
//! path is resolved by file descriptor without following a symlink, and the file is hashed and
//! uploaded from the very handle that was checked (see [`StubDriver`]).
//!
//! No file is ever lost: each incarnation of each file has its own object key
//! ([`object_key_of`]), objects are written create-if-absent, the original is replaced only after
//! its copy is verified (size and SHA-256), the swap is atomic, and the state change — with the
//! catalogue's record of the object and of the original's owner, group and mode — is written
//! under the job's lease (a worker that lost its lease cannot record anything). A file that
//! changed or was accessed since it was planned is skipped and its plan withdrawn; a file that
//! failed for a reason that may pass (a target that did not answer) stays PLANNED and the job is
//! retried with backoff. A crash between the swap and the record is healed the next time the job
//! is claimed: the file is already a stub of this object, the object is verified, and the state
//! is recorded.

use crate::driver::{Attributes, Located, Opened, StubDriver, StubInfo, TierTarget};
use crate::error::{Error, ErrorKind, Result};
use crate::failpoint;
use crate::lifecycle::{Action, TierState};
use crate::path::{components_beneath, object_key};
use crate::store::tiering::{ClaimRequest, Fence, JobOutcome};
use crate::store::{Store, TransitionRequest};
use crate::time::{MICROS_PER_SEC, Micros, now_micros};
use crate::types::{FileRecord, NewAuditEvent, Share, StoredObject, Tenant, TierObject};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

/// Opens tier targets by URI.
pub type TargetOpener = dyn Fn(&str) -> Result<Arc<dyn TierTarget>> + Send + Sync;

/// Where shares are mounted on this host when not at their recorded root: share name to
/// directory (`alto run --share-root NAME=DIR`).
pub type ShareRoots = BTreeMap<String, PathBuf>;

/// How a worker behaves.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// Worker name (host and process) recorded on claims.
    pub name: String,
    /// Lease length; renewed between files once half of it has passed.
    pub lease: Micros,
    /// Shares mounted elsewhere on this host.
    pub share_roots: ShareRoots,
    /// Times a file is tried again, within the attempt, after a failure that may pass (the
    /// target did not answer); a file still failing then sends the job back to the queue.
    pub file_retries: u32,
    /// The first wait before trying a file again; doubled each time.
    pub retry_backoff: std::time::Duration,
    /// Target roots this host may write to (`alto run --allow-target PREFIX`): a tier object
    /// whose target is under none of them is refused. Rules are the tenant's, so on a host
    /// shared by tenants this is what keeps a rule from pointing root's uploads at any
    /// directory. Empty (the default): any target.
    pub allowed_targets: Vec<String>,
}

/// Refuse a target root outside `allowed` (prefixes; empty: everything allowed).
pub fn check_target(allowed: &[String], root: &str) -> Result<()> {
    if allowed.is_empty() || allowed.iter().any(|a| target_under(root, a)) {
        Ok(())
    } else {
        Err(Error::new(
            ErrorKind::PermissionDenied,
            format!(
                "target {root:?} is not under a target this host allows ({}): refusing to write \
                 or read it",
                allowed.join(", ")
            ),
        ))
    }
}

/// Whether `root` is `prefix` or lies beneath it, component-wise and without `..`.
fn target_under(root: &str, prefix: &str) -> bool {
    if root.split('/').any(|s| s == "..") {
        return false;
    }
    let p = prefix.trim_end_matches('/');
    root == p
        || root
            .strip_prefix(p)
            .is_some_and(|rest| rest.starts_with('/'))
}

impl Default for WorkerOptions {
    fn default() -> Self {
        WorkerOptions {
            name: format!("worker-{}", std::process::id()),
            lease: 300 * MICROS_PER_SEC,
            share_roots: ShareRoots::new(),
            file_retries: 3,
            retry_backoff: std::time::Duration::from_secs(1),
            allowed_targets: Vec::new(),
        }
    }
}

/// What one job run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct JobReport {
    /// The job.
    pub job: i64,
    /// Files stubbed.
    pub stubbed: u64,
    /// Files skipped (changed or accessed since planning, or gone): plan withdrawn.
    pub skipped: u64,
    /// Files that failed (left for a later plan).
    pub failed: u64,
    /// Bytes moved.
    pub bytes: u64,
    /// Per-file failures, for the log.
    pub errors: Vec<String>,
    /// What could not be applied in full (an owner a non-root worker cannot give back).
    pub notes: Vec<String>,
}

/// One file a worker has finished with, as it happens (for progress displays; the job's
/// [`JobReport`] has the same counts at its end).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum FileProgress {
    /// Stubbed, after moving this many bytes.
    Stubbed {
        /// Bytes moved.
        bytes: u64,
    },
    /// Skipped (changed or accessed since planning, or gone): plan withdrawn.
    Skipped,
    /// Failed (left for a later plan).
    Failed,
}

/// Whether two modification times are the same, at the precision the inventory gave (whole
/// seconds when it had no fraction).
fn same_mtime(inventory: Micros, local: Micros) -> bool {
    if inventory % MICROS_PER_SEC == 0 {
        inventory.div_euclid(MICROS_PER_SEC) == local.div_euclid(MICROS_PER_SEC)
    } else {
        inventory == local
    }
}

/// The target root of a tier object: its target URI without the legacy key the planner appends
/// (the path key's [`object_key`]).
pub fn target_root(obj: &TierObject) -> Result<&str> {
    let legacy = object_key(&obj.path_key)?;
    obj.target_uri.strip_suffix(legacy.as_str()).ok_or_else(|| {
        Error::invalid_input(format!(
            "target URI {:?} does not end with the object key {legacy:?}",
            obj.target_uri
        ))
    })
}

/// A name as one object-key segment: valid names as they are, names from before the naming rule
/// with every other byte percent-encoded (so `acme/tmp` cannot pose as tenant `acme`, share
/// `tmp`).
pub fn key_segment(name: &str) -> String {
    if crate::names::is_valid_name(name) {
        return name.to_owned();
    }
    let mut out = String::with_capacity(name.len() + 8);
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || (matches!(b, b'.' | b'_' | b'-') && !out.is_empty()) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The object key of one incarnation of a file:
/// `{tenant}/{share}/{path key}.~{object id}.{incarnation}` under the target. Unique per tenant,
/// share and incarnation, so no two files — two shares with the same paths, two spellings of a
/// path, a file tiered again — ever share an object.
pub fn object_key_of(tenant: &str, obj: &TierObject) -> Result<String> {
    Ok(format!(
        "{}/{}/{}.~{}.{}",
        key_segment(tenant),
        key_segment(&obj.share),
        object_key(&obj.path_key)?,
        obj.id,
        obj.incarnation
    ))
}

/// What an object key of [`object_key_of`]'s form says: `{tenant}/{share}/{path}.~{id}.{incarnation}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObjectKeyParts<'k> {
    /// The share's segment ([`key_segment`] of its name).
    pub share_segment: &'k str,
    /// The tier object's id.
    pub id: i64,
    /// The incarnation.
    pub incarnation: i32,
}

/// The parts of `key` when it has the form [`object_key_of`] gives `tenant`'s objects: the
/// tenant's segment, a share segment, a path that is not empty, and the marker `.~{id}.{n}`;
/// no empty, `.` or `..` segment. `None` for any other key (another tenant's, or anything not
/// written by Alto).
pub fn parse_object_key<'k>(tenant: &str, key: &'k str) -> Option<ObjectKeyParts<'k>> {
    let rest = key
        .strip_prefix(key_segment(tenant).as_str())?
        .strip_prefix('/')?;
    let (share_segment, path) = rest.split_once('/')?;
    if share_segment.is_empty()
        || key
            .split('/')
            .any(|s| s.is_empty() || s == "." || s == "..")
    {
        return None;
    }
    let (before, marker) = path.rsplit_once(".~")?;
    let (id, incarnation) = marker.split_once('.')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if before.is_empty() || before.ends_with('/') || !digits(id) || !digits(incarnation) {
        return None;
    }
    Some(ObjectKeyParts {
        share_segment,
        id: id.parse().ok()?,
        incarnation: incarnation.parse().ok()?,
    })
}

/// The target root and object key of a tier object: the key the catalogue recorded when it was
/// stubbed (after [`check_stored_key`]), else the key of its current incarnation.
///
/// # Errors
/// `InvalidInput` when the target URI does not end with the path's key, or when the recorded key
/// is not one this object's stub could have written.
pub fn split_target_uri<'o>(tenant: &str, obj: &'o TierObject) -> Result<(&'o str, String)> {
    let root = target_root(obj)?;
    let key = match &obj.stored {
        Some(s) => {
            check_stored_key(tenant, obj, &s.key)?;
            s.key.clone()
        }
        None => object_key_of(tenant, obj)?,
    };
    Ok((root, key))
}

/// Check that `key`, the object key a catalogue records for `obj`, is one its stub could have
/// written: `{tenant}/{share}/….~{object id}.{incarnation}` ([`object_key_of`]; the path part
/// may be an older path of the file, as moves keep the key). Object ids are unique in a
/// catalogue, so such a key names no other tier object's object: a record edited to point at
/// another tenant's object, or at anything else in the target, is refused before a worker
/// fetches or deletes it.
///
/// Every store refuses to record such a key with a stub, and the workers check again before
/// they fetch.
///
/// # Errors
/// `PermissionDenied` naming the object and the key.
pub fn check_stored_key(tenant: &str, obj: &TierObject, key: &str) -> Result<()> {
    let prefix = format!("{}/{}/", key_segment(tenant), key_segment(&obj.share));
    let suffix = format!(".~{}.{}", obj.id, obj.incarnation);
    let ok = key.len() > prefix.len() + suffix.len()
        && key.starts_with(&prefix)
        && key.ends_with(&suffix)
        && !key.split('/').any(|s| s == "..");
    if ok {
        Ok(())
    } else {
        Err(Error::new(
            crate::ErrorKind::PermissionDenied,
            format!(
                "tier object {} ({}): object key {key:?} is not this object's \
                 ({prefix}…{suffix}): refusing it",
                obj.id, obj.path,
            ),
        ))
    }
}

/// Where a share's file is on this host: beneath the share's root (or its override here).
///
/// # Errors
/// `InvalidInput` naming the share when it has no root, or when the path does not lie beneath it
/// (relative, `..`, elsewhere).
pub fn locate(share: &Share, roots: &ShareRoots, path: &str) -> Result<Located> {
    let recorded = share.root.as_deref().ok_or_else(|| {
        Error::invalid_input(format!(
            "share {:?} has no root on this host: set one with `alto share set {} --tenant … \
             --root DIR` before running workers on it",
            share.name, share.name
        ))
        .retryable(false)
    })?;
    components_beneath(recorded, path)?;
    let root = roots
        .get(&share.name)
        .cloned()
        .unwrap_or_else(|| PathBuf::from(recorded));
    Ok(Located {
        root,
        recorded_root: recorded.to_owned(),
        path: path.to_owned(),
    })
}

/// Shares by name, looked up once per job.
#[derive(Default)]
struct ShareCache(BTreeMap<String, Share>);

impl ShareCache {
    async fn get(&mut self, store: &dyn Store, tenant: &Tenant, name: &str) -> Result<&Share> {
        if !self.0.contains_key(name) {
            for s in store.shares(tenant.id).await? {
                self.0.insert(s.name.clone(), s);
            }
        }
        self.0
            .get(name)
            .ok_or_else(|| Error::not_found(format!("share {name:?} does not exist")))
    }
}

/// Record a per-file failure in the audit trail (best effort: the failure is reported either
/// way).
async fn audit_failure(
    store: &dyn Store,
    tenant: &Tenant,
    obj: &TierObject,
    job: Option<&crate::types::Job>,
    e: &Error,
) {
    let ev = NewAuditEvent {
        kind: "tier.fail".into(),
        subject: obj.path_key.clone(),
        detail: serde_json::json!({
            "share": obj.share,
            "job": job.map(|j| j.id),
            "state": obj.state.as_str(),
            "error": e.to_string(),
            "retryable": e.is_retryable(),
        }),
        // A job's failures sit under the job's event.
        parent: job.and_then(|j| j.event),
    };
    let _ = store.append_audit(tenant.id, &ev).await;
}

/// Claim and run at most one job of `tenant`. `Ok(None)` when there was nothing to claim.
pub async fn run_one_job(
    store: &dyn Store,
    tenant: &Tenant,
    targets: &TargetOpener,
    driver: &dyn StubDriver,
    opts: &WorkerOptions,
) -> Result<Option<JobReport>> {
    run_one_job_with_progress(store, tenant, targets, driver, opts, &|_| {}).await
}

/// [`run_one_job`], calling `on_file` after each file of the job (the CLI's progress bar). The
/// callback runs on the worker's task: it must be quick and must not block.
pub async fn run_one_job_with_progress(
    store: &dyn Store,
    tenant: &Tenant,
    targets: &TargetOpener,
    driver: &dyn StubDriver,
    opts: &WorkerOptions,
    on_file: &(dyn Fn(FileProgress) + Send + Sync),
) -> Result<Option<JobReport>> {
    let q = store.tiering();
    let req = ClaimRequest {
        worker: opts.name.clone(),
        lease: opts.lease,
        now: now_micros(),
    };
    let Some(lease) = q.claim_job(tenant.id, &req).await? else {
        return Ok(None);
    };
    let fence = Fence {
        job: lease.job.id,
        token: lease.token,
    };
    let mut report = JobReport {
        job: lease.job.id,
        ..Default::default()
    };
    let mut renewed_at = req.now;
    let mut shares = ShareCache::default();
    let mut retry: Option<String> = None;
    let objects = q.job_objects(tenant.id, lease.job.id).await?;
    for obj in objects.iter().filter(|o| o.state == TierState::Planned) {
        let now = now_micros();
        if now - renewed_at > opts.lease / 2 {
            q.renew_lease(tenant.id, fence, now + opts.lease).await?;
            renewed_at = now;
        }
        let ctx = FileCtx {
            store,
            tenant,
            fence,
            targets,
            driver,
            roots: &opts.share_roots,
            allowed: &opts.allowed_targets,
        };
        let mut tries = 0;
        let result = loop {
            let r = tier_file(&ctx, &mut shares, obj).await;
            match &r {
                // A target that did not answer: wait and try the file again (each step of
                // `tier_file` is safe to repeat: an object already uploaded is kept if it holds
                // the file's content, and a stub already swapped in is healed).
                Err(e)
                    if e.kind() == ErrorKind::Backend
                        && e.is_retryable()
                        && tries < opts.file_retries =>
                {
                    tokio::time::sleep(opts.retry_backoff * 2u32.pow(tries)).await;
                    tries += 1;
                }
                _ => break r,
            }
        };
        match result {
            Ok(FileOutcome::Stubbed(bytes, notes)) => {
                report.stubbed += 1;
                report.bytes += bytes;
                crate::telemetry::file_stubbed(bytes);
                report
                    .notes
                    .extend(notes.into_iter().map(|n| format!("{}: {n}", obj.path)));
                on_file(FileProgress::Stubbed { bytes });
            }
            Ok(FileOutcome::Skipped) => {
                report.skipped += 1;
                crate::telemetry::file_skipped();
                on_file(FileProgress::Skipped);
            }
            // A lost lease ends the attempt: someone else owns the job now. A file's own
            // conflict (a stub of another object, a name swapped under the worker) has the same
            // kind, so ask the store whether the lease still holds: one user's file must not
            // stop everyone's job.
            Err(e)
                if e.kind() == ErrorKind::Conflict
                    && !e.is_retryable()
                    && lease_lost(q, tenant, fence, opts.lease).await =>
            {
                return Err(e);
            }
            Err(e) => {
                report.failed += 1;
                crate::telemetry::file_failed(e.kind());
                report.errors.push(format!("{}: {e}", obj.path));
                audit_failure(store, tenant, obj, Some(&lease.job), &e).await;
                let target_down = e.kind() == ErrorKind::Backend && e.is_retryable();
                if e.is_retryable() && retry.is_none() {
                    retry = Some(format!("{}: {e}", obj.path));
                }
                on_file(FileProgress::Failed);
                // The target still does not answer after the file's retries: the rest of the
                // job waits for the next attempt rather than each file waiting in turn.
                if target_down {
                    break;
                }
            }
        }
    }
    // A file that failed for a reason that may pass (a target that did not answer) keeps its
    // plan: the job goes back to the queue with backoff, and a later attempt takes the files
    // still PLANNED.
    let outcome = match retry {
        Some(first) => JobOutcome::Failed {
            error: format!(
                "{} of {} files failed and will be retried; first: {first}",
                report.failed,
                report.stubbed + report.skipped + report.failed
            ),
        },
        None => JobOutcome::Done {
            stubbed: report.stubbed,
            skipped: report.skipped,
            failed: report.failed,
            bytes: report.bytes,
        },
    };
    q.finish_job(tenant.id, fence, &outcome, now_micros())
        .await?;
    crate::telemetry::job_finished(match outcome {
        JobOutcome::Done { .. } => "done",
        _ => "retry",
    });
    Ok(Some(report))
}

/// Whether the job's lease is gone (renewing it is refused); renews it otherwise.
async fn lease_lost(
    q: &dyn crate::store::Tiering,
    tenant: &Tenant,
    fence: Fence,
    lease: Micros,
) -> bool {
    match q.renew_lease(tenant.id, fence, now_micros() + lease).await {
        Ok(()) => false,
        Err(e) => e.kind() == ErrorKind::Conflict,
    }
}

enum FileOutcome {
    Stubbed(u64, Vec<String>),
    Skipped,
}

/// What every file of a job shares.
struct FileCtx<'a> {
    store: &'a dyn Store,
    tenant: &'a Tenant,
    fence: Fence,
    targets: &'a TargetOpener,
    driver: &'a dyn StubDriver,
    roots: &'a ShareRoots,
    allowed: &'a [String],
}

async fn withdraw(ctx: &FileCtx<'_>, obj: &TierObject) -> Result<FileOutcome> {
    let q = ctx.store.tiering();
    let req = TransitionRequest {
        share: obj.share.clone(),
        path_key: obj.path_key.clone(),
        action: Action::Withdraw,
        expected: Some((obj.state, obj.version)),
        stored: None,
        plan: None,
        at: now_micros(),
    };
    q.transition_fenced(ctx.tenant.id, ctx.fence, &req).await?;
    Ok(FileOutcome::Skipped)
}

/// Mode bits a file keeps: permissions, set-id and sticky (no file type).
const MODE_BITS: u32 = 0o7777;

async fn tier_file(
    ctx: &FileCtx<'_>,
    shares: &mut ShareCache,
    obj: &TierObject,
) -> Result<FileOutcome> {
    let (store, tenant) = (ctx.store, ctx.tenant);
    let q = store.tiering();
    let rec: FileRecord = q.file(tenant.id, &obj.share, &obj.path_key).await?;
    let share = shares.get(store, tenant, &obj.share).await?;
    let located = locate(share, ctx.roots, &rec.entry.path)?;
    let (root, key) = split_target_uri(&tenant.name, obj)?;
    let object_uri = format!("{root}{key}");
    check_target(ctx.allowed, root)?;
    let target = (ctx.targets)(root)?;
    let record_stub = |at, stored: StoredObject| TransitionRequest {
        share: obj.share.clone(),
        path_key: obj.path_key.clone(),
        action: Action::Stub,
        expected: Some((obj.state, obj.version)),
        plan: None,
        stored: Some(stored),
        at,
    };
    let opened: Opened = match ctx.driver.open(&located).await {
        Ok(o) => o,
        Err(e) if e.kind() == ErrorKind::NotFound => return withdraw(ctx, obj).await,
        Err(e) => return Err(e),
    };
    // Healing a crash between the swap and the record: already a stub of this very object.
    if let Some(info) = &opened.stub {
        if info.target_uri != object_uri {
            return Err(Error::conflict(format!(
                "{} is a stub of another object ({})",
                located.path, info.target_uri
            ))
            .retryable(false));
        }
        let there = target.verify(&key).await?;
        if there.size != info.size || there.sha256.as_deref() != Some(info.sha256.as_str()) {
            return Err(Error::conflict(format!(
                "{} is a stub but its object {key:?} does not verify",
                located.path
            ))
            .retryable(false));
        }
        // Owner and mode from what the file system says of the stub (the worker wrote it with
        // the original's), never from the stub's text, which its owner may rewrite.
        let record = StoredObject {
            key: key.clone(),
            size: there.size,
            sha256: info.sha256.clone(),
            etag: there.etag,
            uid: opened.stat.uid,
            gid: opened.stat.gid,
            mode: opened.stat.mode & 0o777,
            modified: info.modified,
        };
        q.transition_fenced(tenant.id, ctx.fence, &record_stub(now_micros(), record))
            .await?;
        return Ok(FileOutcome::Stubbed(info.size, Vec::new()));
    }
    let stat = opened.stat;
    if stat.nlink > 1 {
        return Err(Error::new(
            ErrorKind::Unsupported,
            format!(
                "{} has {} hard links: stubbing one name would free nothing and split the file",
                located.path, stat.nlink
            ),
        ));
    }
    // Re-check just before acting, on the handle that will be copied.
    let changed = stat.size != rec.entry.size
        || rec
            .entry
            .modified
            .is_some_and(|m| !same_mtime(m, stat.modified));
    let accessed = rec.entry.accessed.is_some_and(|a| a > obj.planned_at)
        || obj.last_accessed.is_some_and(|a| a > obj.planned_at);
    if changed || accessed {
        return withdraw(ctx, obj).await;
    }
    let put = match target.put(&key, opened.file.try_clone()?).await {
        Ok(p) => p,
        // An earlier attempt uploaded this incarnation and stopped before the swap: the object
        // is kept if it holds this file's content, and is never overwritten.
        Err(e) if e.kind() == ErrorKind::AlreadyExists => {
            let (size, sha) = hash_file(opened.file.try_clone()?).await?;
            let there = target.verify(&key).await?;
            if there.size != size || there.sha256.as_deref() != Some(sha.as_str()) {
                return Err(Error::conflict(format!(
                    "object {key:?} already exists with other content: refusing to overwrite it \
                     ({} keeps its data)",
                    located.path
                ))
                .retryable(false));
            }
            there
        }
        Err(e) => return Err(e),
    };
    failpoint::hit("after_upload");
    let there = target.verify(&key).await?;
    if there.size != put.size || there.sha256 != put.sha256 || put.size != stat.size {
        return Err(Error::conflict(format!(
            "copy of {} does not verify (size {} / {}, hash {:?} / {:?}): original kept",
            located.path, there.size, put.size, there.sha256, put.sha256
        )));
    }
    failpoint::hit("after_verify");
    let sha256 = put.sha256.clone().unwrap_or_default();
    let info = StubInfo {
        target_uri: object_uri,
        size: put.size,
        sha256: sha256.clone(),
        modified: stat.modified,
        accessed: rec.entry.accessed,
        tenant: tenant.name.clone(),
    };
    let record = StoredObject {
        key: key.clone(),
        size: put.size,
        sha256,
        etag: put.etag.clone().or(there.etag),
        uid: stat.uid,
        gid: stat.gid,
        mode: stat.mode & MODE_BITS,
        modified: stat.modified,
    };
    // The stub keeps the original's owner and permissions, never its set-id bits.
    let stub_attrs = Attributes {
        mode: stat.mode & 0o777,
        ..Attributes::of(&record, Some(stat.accessed))
    };
    let notes = ctx.driver.stub(opened, &info, &stub_attrs).await?;
    failpoint::hit("after_stub_swap");
    match q
        .transition_fenced(
            tenant.id,
            ctx.fence,
            &record_stub(now_micros(), record.clone()),
        )
        .await
    {
        Ok(_) => Ok(FileOutcome::Stubbed(put.size, notes)),
        // The plan changed under us after the swap (an access feed withdrew it): put the data
        // back so disk and store agree, and count the file as skipped.
        Err(e) if e.kind() == ErrorKind::Conflict && e.is_retryable() => {
            restore_file(
                ctx.driver,
                target.as_ref(),
                &located,
                &key,
                Some(&record),
                rec.entry.accessed,
            )
            .await?;
            Ok(FileOutcome::Skipped)
        }
        Err(e) => Err(e),
    }
}

/// Size and SHA-256 of a file's whole content, read from its start.
pub async fn hash_file(file: std::fs::File) -> Result<(u64, String)> {
    tokio::task::spawn_blocking(move || {
        use sha2::Digest;
        use std::io::{Read, Seek};
        let mut f = file;
        f.seek(std::io::SeekFrom::Start(0))?;
        let mut h = sha2::Sha256::new();
        let mut buf = vec![0u8; 1 << 20];
        let mut n = 0u64;
        loop {
            let k = f.read(&mut buf)?;
            if k == 0 {
                break;
            }
            h.update(&buf[..k]);
            n += k as u64;
        }
        Ok((n, format!("{:x}", h.finalize())))
    })
    .await
    .map_err(|e| Error::new(ErrorKind::Backend, format!("hashing task failed: {e}")))?
}

/// Fetch an object into a private temporary beside the stub, verify it against the catalogue's
/// record (or, for objects stubbed before the catalogue kept one, the stub's), and swap it in
/// with the recorded owner, group and mode. Returns the bytes and the driver's notes.
async fn restore_file(
    driver: &dyn StubDriver,
    target: &dyn TierTarget,
    located: &Located,
    key: &str,
    record: Option<&StoredObject>,
    accessed: Option<Micros>,
) -> Result<(u64, Vec<String>)> {
    let staged = driver.stage_restore(located).await?;
    let writer = match staged.file.try_clone() {
        Ok(w) => w,
        Err(e) => {
            driver.abort_restore(staged).await?;
            return Err(e.into());
        }
    };
    let got = match target.get(key, writer).await {
        Ok(g) => g,
        Err(e) => {
            driver.abort_restore(staged).await?;
            return Err(e);
        }
    };
    let (size, sha, attrs) = match record {
        Some(r) => (r.size, r.sha256.clone(), Attributes::of(r, accessed)),
        None => (
            staged.stub.size,
            staged.stub.sha256.clone(),
            // Stubbed before the catalogue kept owner and mode: the stub's, as the file system
            // has them, and never a set-id bit.
            Attributes {
                uid: staged.stat.uid,
                gid: staged.stat.gid,
                mode: staged.stat.mode & 0o777,
                modified: staged.stub.modified,
                accessed,
            },
        ),
    };
    if got.size != size || got.sha256.as_deref() != Some(sha.as_str()) {
        driver.abort_restore(staged).await?;
        return Err(Error::conflict(format!(
            "object {key:?} for {} does not match the catalogue (size {} vs {size}, sha256 {:?} \
             vs {sha}): stub kept",
            located.path, got.size, got.sha256
        ))
        .retryable(false));
    }
    failpoint::hit("rehydrate_after_fetch");
    let notes = driver.finish_restore(staged, &attrs).await?;
    Ok((got.size, notes))
}

/// What a rehydration did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct RehydrateReport {
    /// Files brought back.
    pub rehydrated: u64,
    /// Bytes fetched.
    pub bytes: u64,
    /// Failures, per file.
    pub errors: Vec<String>,
}

/// Bring one STUBBED file back: fetch into a private temporary beside it, verify against the
/// catalogue, give it its recorded owner, group and mode, swap atomically, record REHYDRATED.
/// The share's root is the recorded one; [`rehydrate_one_with`] takes this host's overrides.
pub async fn rehydrate_one(
    store: &dyn Store,
    tenant: &Tenant,
    obj: &TierObject,
    targets: &TargetOpener,
    driver: &dyn StubDriver,
) -> Result<u64> {
    rehydrate_one_with(store, tenant, obj, targets, driver, &ShareRoots::new()).await
}

/// [`rehydrate_one`] with shares mounted elsewhere on this host.
pub async fn rehydrate_one_with(
    store: &dyn Store,
    tenant: &Tenant,
    obj: &TierObject,
    targets: &TargetOpener,
    driver: &dyn StubDriver,
    roots: &ShareRoots,
) -> Result<u64> {
    let result = rehydrate_inner(store, tenant, obj, targets, driver, roots).await;
    if let Err(e) = &result {
        audit_failure(store, tenant, obj, None, e).await;
    }
    result
}

async fn rehydrate_inner(
    store: &dyn Store,
    tenant: &Tenant,
    obj: &TierObject,
    targets: &TargetOpener,
    driver: &dyn StubDriver,
    roots: &ShareRoots,
) -> Result<u64> {
    let q = store.tiering();
    if obj.state != TierState::Stubbed {
        return Err(Error::new(
            ErrorKind::InvalidTransition,
            format!("cannot rehydrate {}: it is {}", obj.path, obj.state),
        ));
    }
    let rec = q.file(tenant.id, &obj.share, &obj.path_key).await?;
    let share = ShareCache::default()
        .get(store, tenant, &obj.share)
        .await?
        .clone();
    let located = locate(&share, roots, &rec.entry.path)?;
    let (root, key) = split_target_uri(&tenant.name, obj)?;
    let target = targets(root)?;
    let (size, _notes) = restore_file(
        driver,
        target.as_ref(),
        &located,
        &key,
        obj.stored.as_ref(),
        rec.entry.accessed,
    )
    .await?;
    let req = TransitionRequest {
        share: obj.share.clone(),
        path_key: obj.path_key.clone(),
        action: Action::Rehydrate,
        expected: Some((obj.state, obj.version)),
        stored: None,
        plan: None,
        at: now_micros(),
    };
    store.transition(tenant.id, &req).await?;
    Ok(size)
}

#[cfg(test)]
mod target_tests {
    use super::check_target;

    #[test]
    fn targets_under_allowed_prefixes() {
        let allowed = vec![
            "file:///srv/tier2/".to_string(),
            "s3://bucket/acme".to_string(),
        ];
        for ok in [
            "file:///srv/tier2/",
            "file:///srv/tier2/acme/video/",
            "s3://bucket/acme/",
            "s3://bucket/acme",
        ] {
            assert!(check_target(&allowed, ok).is_ok(), "{ok}");
        }
        for bad in [
            "file:///etc/",
            "file:///srv/tier2-other/",
            "file:///srv/tier2/../../etc/",
            "s3://bucket/acmex/",
            "s3://other/acme/",
        ] {
            let e = check_target(&allowed, bad).unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::PermissionDenied, "{bad}");
        }
        assert!(check_target(&[], "file:///anywhere/").is_ok());
    }
}

#[cfg(test)]
mod parse_key_tests {
    use super::{ObjectKeyParts, parse_object_key};

    #[test]
    fn parses_the_keys_alto_writes_and_nothing_else() {
        let p = |share_segment, id, incarnation| {
            Some(ObjectKeyParts {
                share_segment,
                id,
                incarnation,
            })
        };
        assert_eq!(
            parse_object_key("acme", "acme/media/v/a.mov.~41.3"),
            p("media", 41, 3)
        );
        assert_eq!(parse_object_key("acme", "acme/m/a.~1.1"), p("m", 1, 1));
        assert_eq!(
            parse_object_key("acme", "acme/m/x.~2.1/y.~7.2"),
            p("m", 7, 2),
            "the last marker"
        );
        assert_eq!(
            parse_object_key("acme/x", "acme%2Fx/m/a.~1.1"),
            p("m", 1, 1),
            "a name from before the naming rule"
        );
        for bad in [
            "acme/media/.~41.3",
            "acme/media/v/.~41.3",
            "acme/media/v/a.mov",
            "acme/media/v/a.mov.~41",
            "acme/media/v/a.mov.~x.3",
            "acme/media/v/a.mov.~41.3x",
            "acme/media/v/a.mov.~-1.3",
            "acme/media/v/a.mov.~41.99999999999",
            "acme//v/a.~1.1",
            "acme/media//a.~1.1",
            "acme/media/../a.~1.1",
            "acme/media/./a.~1.1",
            "acmex/media/a.~1.1",
            "other/media/a.~1.1",
            "acme/a.~1.1",
            "/acme/media/a.~1.1",
            "acme/x/m/a.~1.1/",
        ] {
            assert_eq!(parse_object_key("acme", bad), None, "{bad}");
        }
        assert_eq!(parse_object_key("acme/x", "acme/x/m/a.~1.1"), None);
    }
}

#[cfg(test)]
mod stored_key_tests {
    use super::{object_key_of, split_target_uri};
    use crate::types::{StoredObject, TierObject};
    use crate::{ErrorKind, TierState};

    #[test]
    fn a_recorded_key_must_be_the_objects_own() {
        let mut obj = TierObject {
            id: 41,
            share: "media".into(),
            path_key: "/v/a.mov".into(),
            path: "/v/a.mov".into(),
            state: TierState::Stubbed,
            version: 2,
            incarnation: 3,
            target_uri: "s3://b/p/v/a.mov".into(),
            planned_by: "cold".into(),
            planned_at: 0,
            acted_at: None,
            last_accessed: None,
            access_count: 0,
            stored: None,
            lost: None,
        };
        let own = object_key_of("acme", &obj).unwrap();
        assert_eq!(own, "acme/media/v/a.mov.~41.3");
        let stored = |key: &str| StoredObject {
            key: key.into(),
            size: 1,
            sha256: String::new(),
            etag: None,
            uid: 0,
            gid: 0,
            mode: 0o600,
            modified: 0,
        };
        // The key of an older path (a move keeps it) is the object's own.
        for ok in [own.as_str(), "acme/media/old/name.mov.~41.3"] {
            obj.stored = Some(stored(ok));
            assert_eq!(
                split_target_uri("acme", &obj).unwrap(),
                ("s3://b/p/", ok.into())
            );
        }
        for bad in [
            "other/media/v/a.mov.~41.3",
            "acme/photos/v/a.mov.~41.3",
            "acme/media/v/a.mov.~42.3",
            "acme/media/v/a.mov.~41.2",
            "acme/media/v/a.mov.~41.31",
            "acme/media/.~41.3",
            "acme/media/../other/media/v/a.mov.~41.3",
            "acmex/media/v/a.mov.~41.3",
        ] {
            obj.stored = Some(stored(bad));
            let e = split_target_uri("acme", &obj).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::PermissionDenied, "{bad}");
            assert!(e.to_string().contains(bad), "{e}");
        }
    }
}
