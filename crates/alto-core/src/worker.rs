//! Workers: claim a job, re-check each file, copy it to its tier target, verify, stub, record.
//!
//! No file is ever lost: the original is replaced only after its copy is verified (size and
//! SHA-256), the swap is atomic, and the state change is written under the job's lease (a worker
//! that lost its lease cannot record anything). A file that changed or was accessed since it was
//! planned is skipped and its plan withdrawn. A crash between the swap and the record is healed
//! the next time the job is claimed: the file is already a stub of this object, the object is
//! verified against the stub, and the state is recorded.

use crate::driver::{StubDriver, StubInfo, TierTarget};
use crate::error::{Error, ErrorKind, Result};
use crate::failpoint;
use crate::lifecycle::{Action, TierState};
use crate::path::object_key;
use crate::store::tiering::{ClaimRequest, Fence, JobOutcome};
use crate::store::{Store, TransitionRequest};
use crate::time::{MICROS_PER_SEC, Micros, now_micros};
use crate::types::{FileRecord, Tenant, TierObject};
use serde::Serialize;
use std::path::Path;
use std::sync::Arc;

/// Opens tier targets by URI.
pub type TargetOpener = dyn Fn(&str) -> Result<Arc<dyn TierTarget>> + Send + Sync;

/// How a worker behaves.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// Worker name (host and process) recorded on claims.
    pub name: String,
    /// Lease length; renewed between files once half of it has passed.
    pub lease: Micros,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        WorkerOptions {
            name: format!("worker-{}", std::process::id()),
            lease: 300 * MICROS_PER_SEC,
        }
    }
}

/// What one job run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
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
}

/// One file a worker has finished with, as it happens (for progress displays; the job's
/// [`JobReport`] has the same counts at its end).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
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

enum FileOutcome {
    Stubbed(u64),
    Skipped,
}

fn mtime_micros(meta: &std::fs::Metadata) -> Option<Micros> {
    let d = meta
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?;
    Some(d.as_micros() as Micros)
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

/// The target root and object key of a tier object's URI.
pub fn split_target_uri(obj: &TierObject) -> Result<(&str, String)> {
    let key = object_key(&obj.path_key)?;
    let root = obj.target_uri.strip_suffix(key.as_str()).ok_or_else(|| {
        Error::invalid_input(format!(
            "target URI {:?} does not end with the object key {key:?}",
            obj.target_uri
        ))
    })?;
    Ok((root, key))
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
    let q = store
        .tiering()
        .ok_or_else(|| Error::unsupported("running tiering jobs", store.backend()))?;
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
    let objects = q.job_objects(tenant.id, lease.job.id).await?;
    for obj in objects.iter().filter(|o| o.state == TierState::Planned) {
        let now = now_micros();
        if now - renewed_at > opts.lease / 2 {
            q.renew_lease(tenant.id, fence, now + opts.lease).await?;
            renewed_at = now;
        }
        match tier_file(store, tenant, fence, obj, targets, driver).await {
            Ok(FileOutcome::Stubbed(bytes)) => {
                report.stubbed += 1;
                report.bytes += bytes;
                on_file(FileProgress::Stubbed { bytes });
            }
            Ok(FileOutcome::Skipped) => {
                report.skipped += 1;
                on_file(FileProgress::Skipped);
            }
            // A lost lease ends the attempt: someone else owns the job now.
            Err(e) if e.kind() == ErrorKind::Conflict && !e.is_retryable() => return Err(e),
            Err(e) => {
                report.failed += 1;
                report.errors.push(format!("{}: {e}", obj.path));
                on_file(FileProgress::Failed);
            }
        }
    }
    let outcome = JobOutcome::Done {
        stubbed: report.stubbed,
        skipped: report.skipped,
        failed: report.failed,
        bytes: report.bytes,
    };
    q.finish_job(tenant.id, fence, &outcome, now_micros())
        .await?;
    Ok(Some(report))
}

async fn withdraw(
    store: &dyn Store,
    tenant: &Tenant,
    fence: Fence,
    obj: &TierObject,
) -> Result<FileOutcome> {
    let q = store.tiering().expect("checked by the caller");
    let req = TransitionRequest {
        share: obj.share.clone(),
        path_key: obj.path_key.clone(),
        action: Action::Withdraw,
        expected: Some((obj.state, obj.version)),
        stored: None,
        plan: None,
        at: now_micros(),
    };
    q.transition_fenced(tenant.id, fence, &req).await?;
    Ok(FileOutcome::Skipped)
}

async fn tier_file(
    store: &dyn Store,
    tenant: &Tenant,
    fence: Fence,
    obj: &TierObject,
    targets: &TargetOpener,
    driver: &dyn StubDriver,
) -> Result<FileOutcome> {
    let q = store.tiering().expect("checked by the caller");
    let rec: FileRecord = q.file(tenant.id, &obj.share, &obj.path_key).await?;
    let path = Path::new(&rec.entry.path);
    let (root, key) = split_target_uri(obj)?;
    let target = targets(root)?;
    let record_stub = |at| TransitionRequest {
        share: obj.share.clone(),
        path_key: obj.path_key.clone(),
        action: Action::Stub,
        expected: Some((obj.state, obj.version)),
        stored: None,
        plan: None,
        at,
    };
    // Healing a crash between the swap and the record: already a stub of this very object.
    if driver.is_stub(path).await.unwrap_or(false) {
        let info = driver.read_stub(path).await?;
        if info.target_uri != obj.target_uri {
            return Err(Error::conflict(format!(
                "{} is a stub of another object ({})",
                path.display(),
                info.target_uri
            )));
        }
        let stored = target.verify(&key).await?;
        if stored.size != info.size || stored.sha256.as_deref() != Some(info.sha256.as_str()) {
            return Err(Error::conflict(format!(
                "{} is a stub but its object {key:?} does not verify",
                path.display()
            )));
        }
        q.transition_fenced(tenant.id, fence, &record_stub(now_micros()))
            .await?;
        return Ok(FileOutcome::Stubbed(info.size));
    }
    // Re-check just before acting.
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return withdraw(store, tenant, fence, obj).await;
        }
        Err(e) => return Err(Error::from(e).prefixed(&format!("cannot stat {}", path.display()))),
    };
    let mtime = mtime_micros(&meta).unwrap_or_default();
    let changed =
        meta.len() != rec.entry.size || rec.entry.modified.is_some_and(|m| !same_mtime(m, mtime));
    let accessed = rec.entry.accessed.is_some_and(|a| a > obj.planned_at)
        || obj.last_accessed.is_some_and(|a| a > obj.planned_at);
    if changed || accessed {
        return withdraw(store, tenant, fence, obj).await;
    }
    let put = target.put_file(&key, path).await?;
    failpoint::hit("after_upload");
    let stored = target.verify(&key).await?;
    if stored.size != put.size || stored.sha256 != put.sha256 || put.size != meta.len() {
        return Err(Error::conflict(format!(
            "copy of {} does not verify (size {} / {}, hash {:?} / {:?}): original kept",
            path.display(),
            stored.size,
            put.size,
            stored.sha256,
            put.sha256
        )));
    }
    failpoint::hit("after_verify");
    let info = StubInfo {
        target_uri: obj.target_uri.clone(),
        size: put.size,
        sha256: put.sha256.clone().unwrap_or_default(),
        modified: mtime,
        accessed: rec.entry.accessed,
        tenant: tenant.name.clone(),
    };
    driver.stub(path, &info).await?;
    failpoint::hit("after_stub_swap");
    match q
        .transition_fenced(tenant.id, fence, &record_stub(now_micros()))
        .await
    {
        Ok(_) => Ok(FileOutcome::Stubbed(put.size)),
        // The plan changed under us after the swap (an access feed withdrew it): put the data
        // back so disk and store agree, and count the file as skipped.
        Err(e) if e.kind() == ErrorKind::Conflict && e.is_retryable() => {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let tmp = path.with_file_name(format!(".{name}.alto-fetch-{}", std::process::id()));
            let restored = async {
                target.get_file(&key, &tmp).await?;
                driver.restore(path, &tmp).await
            }
            .await;
            let _ = std::fs::remove_file(&tmp);
            restored?;
            Ok(FileOutcome::Skipped)
        }
        Err(e) => Err(e),
    }
}

/// What a rehydration did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RehydrateReport {
    /// Files brought back.
    pub rehydrated: u64,
    /// Bytes fetched.
    pub bytes: u64,
    /// Failures, per file.
    pub errors: Vec<String>,
}

/// Bring one STUBBED file back: fetch next to it, verify against the stub, swap atomically,
/// record REHYDRATED.
pub async fn rehydrate_one(
    store: &dyn Store,
    tenant: &Tenant,
    obj: &TierObject,
    targets: &TargetOpener,
    driver: &dyn StubDriver,
) -> Result<u64> {
    let q = store
        .tiering()
        .ok_or_else(|| Error::unsupported("rehydration", store.backend()))?;
    if obj.state != TierState::Stubbed {
        return Err(Error::new(
            ErrorKind::InvalidTransition,
            format!("cannot rehydrate {}: it is {}", obj.path, obj.state),
        ));
    }
    let rec = q.file(tenant.id, &obj.share, &obj.path_key).await?;
    let path = Path::new(&rec.entry.path);
    let info = driver.read_stub(path).await?;
    let (root, key) = split_target_uri(obj)?;
    let target = targets(root)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.alto-fetch-{}", std::process::id()));
    let fetched = target.get_file(&key, &tmp).await;
    let result = async {
        let got = fetched?;
        if got.size != info.size || got.sha256.as_deref() != Some(info.sha256.as_str()) {
            return Err(Error::conflict(format!(
                "object {key:?} for {} does not match its stub: stub kept",
                path.display()
            )));
        }
        failpoint::hit("rehydrate_after_fetch");
        driver.restore(path, &tmp).await?;
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
        Ok(got.size)
    }
    .await;
    let _ = std::fs::remove_file(&tmp);
    result
}
