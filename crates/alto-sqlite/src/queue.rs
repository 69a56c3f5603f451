//! Committed plans and the job queue ([`Tiering`]).
//!
//! Every method is one `BEGIN IMMEDIATE` transaction on the writer connection, so a claim, a
//! fenced transition or a finish is atomic and serialised with every other writer of the file,
//! other processes included. The behaviour is the memory store's, step by step (it is the
//! executable specification):
//! - a tier object names the job it is planned in (`tier_object.job_id`); a job that ends by
//!   itself (done, or failed for good) keeps the links of the files it left PLANNED and drops the
//!   others; a cancelled job withdraws its still-PLANNED files and drops every link;
//! - committing a plan moves the listed files left PLANNED outside a queued or running job into
//!   its own job (re-queued), withdraws the PLANNED files it does not list unless a running job
//!   holds them, and cancels queued jobs left without files;
//! - a claim bumps `attempts` and the fencing `token`; every write under a lease names the token,
//!   and a stale one is a non-retryable `Conflict` (a tier-object version mismatch stays a
//!   retryable one);
//! - a failed attempt is queued again with [`next_attempt`]'s backoff, or fails after
//!   [`MAX_ATTEMPTS`].
//!
//! Lifecycle transitions inside these transactions go through [`transition_in`] (`tier.rs`), the
//! one implementation of [`Store::transition`](alto_core::Store::transition)'s steps, on the
//! caller's connection.

use crate::error::{corrupt, db, db_in};
use crate::tenants::settings;
use crate::tier::{decode_object, object_in, transition_in, transition_under};
use crate::{SqliteStore, codec, sql};
use alto_core::lifecycle::Action;
use alto_core::store::tiering::{
    ClaimRequest, CommitOutcome, Fence, JobOutcome, JobQuery, Lease, MAX_ATTEMPTS, PlanCommit,
    PruneCounts, PruneRequest, Tiering, next_attempt,
};
use alto_core::store::{Page, PlanInfo, TransitionRequest};
use alto_core::time::Micros;
use alto_core::{
    Error, ErrorKind, Estimate, FileEntry, FileRecord, Job, JobState, Result, Tenant, TenantId,
    TierObject, TierState,
};
use async_trait::async_trait;
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};
use std::collections::HashSet;

/// Page size of [`Tiering::jobs`] when the query names none.
const DEFAULT_LIMIT: usize = 1000;

// ---- statements ---------------------------------------------------------------------------------
// Every statement names `tenant_id = ?1` in each table it touches (checked by a test below).

const TENANTS: &str =
    "SELECT tenant_id, name, settings, created_utc FROM tenant ORDER BY tenant_id";

const FILE_ONE: &str = concat!(
    "SELECT f.path_key, f.full_path, f.size_bytes, f.mtime_us, f.atime_us, \
     f.file_extension, f.permissions, f.owner, f.file_hash, f.last_accessed_source, \
     f.atime_updated_utc, f.first_seen_scan_id, ",
    sql::last_seen!(),
    ", f.missing_since_utc, t.state, t.lost_utc, t.lost_reason \
     FROM file_current AS f JOIN share AS h ON h.tenant_id = ?1 AND h.share_id = f.share_id \
     LEFT JOIN tier_object AS t ON t.tenant_id = ?1 AND t.file_current_id = f.file_current_id \
     WHERE f.tenant_id = ?1 AND h.name = ?2 AND f.path_key = ?3"
);

/// [`sql::OBJECT_COLUMNS`]' columns, for the objects of a job, in (share, key) order.
const JOB_OBJECTS: &str = concat!(
    "SELECT ",
    sql::object_columns!(),
    " FROM tier_object AS t JOIN share AS h ON h.tenant_id = ?1 AND h.share_id = t.share_id \
     WHERE t.tenant_id = ?1 AND t.job_id = ?2 ORDER BY h.name, t.path_key"
);

/// PLANNED objects planned before `?2` that no running job holds, oldest first, `?3` at most.
const EXPIRED_PLANNED: &str = concat!(
    "SELECT ",
    sql::object_columns!(),
    " FROM tier_object AS t JOIN share AS h ON h.tenant_id = ?1 AND h.share_id = t.share_id \
     WHERE t.tenant_id = ?1 AND t.state = 'PLANNED' AND t.planned_utc < ?2 \
     AND NOT EXISTS (SELECT 1 FROM tier_job AS j WHERE j.tenant_id = ?1 \
         AND j.job_id = t.job_id AND j.state = 'running') \
     ORDER BY t.planned_utc, t.tier_id LIMIT ?3"
);

/// The REHYDRATED (`?2` cutoff) and DELETED (`?3`) records a sweep removes; a NULL cutoff keeps
/// that state. The file's row keeps no reference to a tier record.
const PRUNE_OBJECTS_WHERE: &str = "FROM tier_object WHERE tenant_id = ?1 AND ( \
     (state = 'REHYDRATED' AND ?2 IS NOT NULL AND coalesce(acted_utc, planned_utc) < ?2) \
     OR (state = 'DELETED' AND ?3 IS NOT NULL AND coalesce(acted_utc, planned_utc) < ?3))";

/// Finished jobs that finished before `?2` and hold no file.
/// Snapshot rows of the scans past each share's newest `?2`.
const PRUNE_HISTORY_WHERE: &str = "FROM file WHERE tenant_id = ?1 AND scan_id IN \
     (SELECT scan_id FROM (SELECT scan_id, row_number() OVER \
         (PARTITION BY share_id ORDER BY scan_id DESC) AS n FROM scan WHERE tenant_id = ?1) \
      WHERE n > ?2)";

const PRUNE_JOBS_WHERE: &str = "FROM tier_job WHERE tenant_id = ?1 \
     AND state IN ('done', 'failed', 'cancelled') AND finished_utc < ?2 \
     AND NOT EXISTS (SELECT 1 FROM tier_object AS o WHERE o.tenant_id = ?1 \
         AND o.job_id = tier_job.job_id)";

/// Applied feed event ids recorded before `?2`.
const PRUNE_FEED_WHERE: &str = "FROM feed_event WHERE tenant_id = ?1 AND applied_utc < ?2";

/// The (share, key, state, version) of every object linked to a job, in (share, key) order.
const JOB_LINKS: &str = "SELECT h.name, t.path_key, t.state, t.version \
     FROM tier_object AS t JOIN share AS h ON h.tenant_id = ?1 AND h.share_id = t.share_id \
     WHERE t.tenant_id = ?1 AND t.job_id = ?2 ORDER BY h.name, t.path_key";

const JOB_UNLINK: &str =
    "UPDATE tier_object SET job_id = NULL WHERE tenant_id = ?1 AND job_id = ?2";

/// A job that ended by itself keeps its PLANNED files linked (for the next plan to re-queue).
const JOB_RELEASE: &str = "UPDATE tier_object SET job_id = NULL \
     WHERE tenant_id = ?1 AND job_id = ?2 AND state <> 'PLANNED'";

/// `?3`: JSON array of tier ids.
const JOB_LINK: &str = "UPDATE tier_object SET job_id = ?2 \
     WHERE tenant_id = ?1 AND tier_id IN (SELECT value FROM json_each(?3))";

/// PLANNED objects no running job holds (in a queued job, a job that ended, or none), in
/// (share, key) order: what a new plan withdraws unless it lists them.
const STALE_PLANNED: &str = "SELECT h.name, t.path_key, t.version \
     FROM tier_object AS t JOIN share AS h ON h.tenant_id = ?1 AND h.share_id = t.share_id \
     WHERE t.tenant_id = ?1 AND t.state = 'PLANNED' AND NOT EXISTS \
     (SELECT 1 FROM tier_job AS j WHERE j.tenant_id = ?1 AND j.job_id = t.job_id \
     AND j.state = 'running') \
     ORDER BY h.name, t.path_key";

/// Whether a queued or running job holds the object of (`?2` share, `?3` key).
const IN_LIVE_JOB: &str = "SELECT EXISTS (SELECT 1 \
     FROM tier_object AS t JOIN share AS h ON h.tenant_id = ?1 AND h.share_id = t.share_id \
     JOIN tier_job AS j ON j.tenant_id = ?1 AND j.job_id = t.job_id \
     WHERE t.tenant_id = ?1 AND h.name = ?2 AND t.path_key = ?3 \
     AND j.state IN ('queued', 'running'))";

/// A PLANNED object into a new plan (its job is linked with the plan's): `?3` the version read,
/// `?4` rule, `?5` target URI, `?6` planning time.
const REQUEUE: &str = "UPDATE tier_object SET version = version + 1, planned_by = ?4, \
     target_uri = ?5, planned_utc = ?6 \
     WHERE tenant_id = ?1 AND tier_id = ?2 AND version = ?3 AND state = 'PLANNED'";

/// Queued jobs without a linked object are cancelled (`?2`: time).
const CANCEL_EMPTY: &str = "UPDATE tier_job SET state = 'cancelled', finished_utc = ?2, \
     token = token + 1, updated_utc = ?2 \
     WHERE tenant_id = ?1 AND state = 'queued' AND NOT EXISTS \
     (SELECT 1 FROM tier_object AS o WHERE o.tenant_id = ?1 AND o.job_id = tier_job.job_id)";

const JOB_INSERT: &str = "INSERT INTO tier_job (tenant_id, rule, target_uri, priority, state, \
     files, bytes, bytes_saved, seconds, attempts, created_utc, updated_utc) \
     VALUES (?1, ?2, ?3, ?4, 'queued', ?5, ?6, ?7, ?8, 0, ?9, ?9) RETURNING job_id";

const JOB_SET_EVENT: &str =
    "UPDATE tier_job SET event_id = ?3 WHERE tenant_id = ?1 AND job_id = ?2";

const JOB_EVENT: &str = "SELECT event_id FROM tier_job WHERE tenant_id = ?1 AND job_id = ?2";

const JOB_COLUMNS: &str = "SELECT job_id, rule, target_uri, priority, state, files, bytes, \
     bytes_saved, seconds, attempts, last_error, not_before_utc, lease_owner, lease_until_utc, \
     files_stubbed, files_skipped, files_failed, bytes_moved, created_utc, finished_utc, token, \
     event_id FROM tier_job WHERE tenant_id = ?1 AND job_id = ?2";

/// A page of jobs: `?2` state or NULL, `?3` after this id, `?4` limit.
const JOB_PAGE: &str = "SELECT job_id, rule, target_uri, priority, state, files, bytes, \
     bytes_saved, seconds, attempts, last_error, not_before_utc, lease_owner, lease_until_utc, \
     files_stubbed, files_skipped, files_failed, bytes_moved, created_utc, finished_utc, token, \
     event_id FROM tier_job WHERE tenant_id = ?1 AND (?2 IS NULL OR state = ?2) AND job_id > ?3 \
     ORDER BY job_id LIMIT ?4";

/// The next claimable job at `?2`: queued and due, or running with an expired lease.
const CLAIMABLE: &str = "SELECT job_id, state, attempts FROM tier_job \
     WHERE tenant_id = ?1 AND ((state = 'queued' AND (not_before_utc IS NULL OR not_before_utc <= ?2)) \
     OR (state = 'running' AND lease_until_utc < ?2)) \
     ORDER BY priority, job_id LIMIT 1";

/// `?2` job, `?3` worker, `?4` lease end, `?5` now.
const CLAIM: &str = "UPDATE tier_job SET state = 'running', attempts = attempts + 1, \
     lease_owner = ?3, lease_until_utc = ?4, token = token + 1, updated_utc = ?5 \
     WHERE tenant_id = ?1 AND job_id = ?2";

/// A running job whose last attempt's lease expired: `?3` error, `?4` now.
const EXPIRE_FAILED: &str = "UPDATE tier_job SET state = 'failed', last_error = ?3, \
     finished_utc = ?4, lease_owner = NULL, token = token + 1, updated_utc = ?4 \
     WHERE tenant_id = ?1 AND job_id = ?2";

const RENEW: &str = "UPDATE tier_job SET lease_until_utc = ?3 WHERE tenant_id = ?1 AND job_id = ?2";

/// `?3` stubbed, `?4` skipped, `?5` failed, `?6` bytes, `?7` now.
const FINISH_DONE: &str = "UPDATE tier_job SET state = 'done', files_stubbed = ?3, \
     files_skipped = ?4, files_failed = ?5, bytes_moved = ?6, finished_utc = ?7, \
     lease_owner = NULL, lease_until_utc = NULL, token = token + 1, updated_utc = ?7 \
     WHERE tenant_id = ?1 AND job_id = ?2";

/// `?3` error, `?4` not before, `?5` now.
const FINISH_RETRY: &str = "UPDATE tier_job SET state = 'queued', last_error = ?3, \
     not_before_utc = ?4, lease_owner = NULL, lease_until_utc = NULL, token = token + 1, \
     updated_utc = ?5 WHERE tenant_id = ?1 AND job_id = ?2";

/// `?3` error, `?4` now.
const FINISH_FAILED: &str = "UPDATE tier_job SET state = 'failed', last_error = ?3, \
     finished_utc = ?4, lease_owner = NULL, lease_until_utc = NULL, token = token + 1, \
     updated_utc = ?4 WHERE tenant_id = ?1 AND job_id = ?2";

const CANCEL: &str = "UPDATE tier_job SET state = 'cancelled', finished_utc = ?3, \
     lease_owner = NULL, lease_until_utc = NULL, token = token + 1, updated_utc = ?3 \
     WHERE tenant_id = ?1 AND job_id = ?2";

/// Every statement of this module, for the scoping test.
#[cfg(test)]
pub(crate) const STATEMENTS: &[(&str, &str)] = &[
    ("FILE_ONE", FILE_ONE),
    ("JOB_OBJECTS", JOB_OBJECTS),
    ("JOB_LINKS", JOB_LINKS),
    ("JOB_UNLINK", JOB_UNLINK),
    ("JOB_RELEASE", JOB_RELEASE),
    ("JOB_LINK", JOB_LINK),
    ("STALE_PLANNED", STALE_PLANNED),
    ("IN_LIVE_JOB", IN_LIVE_JOB),
    ("REQUEUE", REQUEUE),
    ("CANCEL_EMPTY", CANCEL_EMPTY),
    ("JOB_INSERT", JOB_INSERT),
    ("JOB_COLUMNS", JOB_COLUMNS),
    ("JOB_PAGE", JOB_PAGE),
    ("CLAIMABLE", CLAIMABLE),
    ("CLAIM", CLAIM),
    ("EXPIRE_FAILED", EXPIRE_FAILED),
    ("RENEW", RENEW),
    ("FINISH_DONE", FINISH_DONE),
    ("FINISH_RETRY", FINISH_RETRY),
    ("FINISH_FAILED", FINISH_FAILED),
    ("CANCEL", CANCEL),
];

/// Create a queued job for `spec` and its `job.create` audit event: (job id, event id).
async fn create_job(
    conn: &mut SqliteConnection,
    tenant: TenantId,
    spec: &alto_core::store::tiering::PlannedJobSpec,
    at: Micros,
) -> Result<(i64, i64)> {
    let e = &spec.estimate;
    let job: i64 = sqlx::query_scalar(JOB_INSERT)
        .bind(tenant.0)
        .bind(&spec.rule)
        .bind(&spec.target)
        .bind(spec.priority)
        .bind(count_in(e.files, "estimated files")?)
        .bind(count_in(e.bytes, "estimated bytes")?)
        .bind(count_in(e.bytes_saved, "estimated bytes saved")?)
        .bind(e.seconds)
        .bind(at)
        .fetch_one(&mut *conn)
        .await
        .map_err(db_in("cannot create a tiering job"))?;
    let detail = alto_core::types::job_create_detail(&spec.rule, &spec.target, e);
    let event = crate::audit::insert(
        conn,
        tenant,
        at,
        "job.create",
        &job.to_string(),
        &detail,
        None,
    )
    .await?
    .id;
    sqlx::query(JOB_SET_EVENT)
        .bind(tenant.0)
        .bind(job)
        .bind(event)
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    Ok((job, event))
}

// ---- decoding -----------------------------------------------------------------------------------

fn count(v: i64, what: &str) -> Result<u64> {
    u64::try_from(v).map_err(|_| corrupt(format!("negative {what} {v}")))
}

fn count_in(v: u64, what: &str) -> Result<i64> {
    i64::try_from(v).map_err(|_| Error::invalid_input(format!("{what} {v} is too large")))
}

fn decode_job(r: &SqliteRow) -> Result<(Job, i64)> {
    let state: String = r.try_get(4).map_err(db)?;
    let attempts: i64 = r.try_get(9).map_err(db)?;
    let mut job = Job::default();
    job.id = r.try_get(0).map_err(db)?;
    job.rule = r.try_get(1).map_err(db)?;
    job.target = r.try_get(2).map_err(db)?;
    job.priority = r.try_get(3).map_err(db)?;
    job.state = JobState::parse(&state).ok_or_else(|| corrupt(format!("job state {state:?}")))?;
    job.estimate = Estimate {
        files: count(r.try_get(5).map_err(db)?, "file count")?,
        bytes: count(r.try_get(6).map_err(db)?, "byte count")?,
        bytes_saved: count(r.try_get(7).map_err(db)?, "byte count")?,
        seconds: r.try_get(8).map_err(db)?,
    };
    job.attempts =
        u32::try_from(attempts).map_err(|_| corrupt(format!("job attempts {attempts}")))?;
    job.last_error = r.try_get(10).map_err(db)?;
    job.not_before = r.try_get(11).map_err(db)?;
    job.worker = r.try_get(12).map_err(db)?;
    job.lease_expires = r.try_get(13).map_err(db)?;
    job.files_stubbed = count(r.try_get(14).map_err(db)?, "file count")?;
    job.files_skipped = count(r.try_get(15).map_err(db)?, "file count")?;
    job.files_failed = count(r.try_get(16).map_err(db)?, "file count")?;
    job.bytes_moved = count(r.try_get(17).map_err(db)?, "byte count")?;
    job.created = r.try_get(18).map_err(db)?;
    job.finished = r.try_get(19).map_err(db)?;
    job.event = r.try_get(21).map_err(db)?;
    Ok((job, r.try_get(20).map_err(db)?))
}

fn decode_file(share: &str, r: &SqliteRow) -> Result<FileRecord> {
    let state: Option<String> = r.try_get(14).map_err(db)?;
    let mut file = FileRecord::default();
    file.share = share.to_owned();
    file.path_key = r.try_get(0).map_err(db)?;
    file.entry = FileEntry {
        path: r.try_get(1).map_err(db)?,
        size: codec::size_out(r.try_get(2).map_err(db)?)?,
        modified: r.try_get(3).map_err(db)?,
        accessed: r.try_get(4).map_err(db)?,
        extension: r.try_get(5).map_err(db)?,
        permissions: r.try_get(6).map_err(db)?,
        owner: r.try_get(7).map_err(db)?,
        hash: r.try_get(8).map_err(db)?,
    };
    file.accessed_source = codec::access_source(r.try_get(9).map_err(db)?)?;
    file.atime_updated = r.try_get(10).map_err(db)?;
    file.first_seen_scan = r.try_get(11).map_err(db)?;
    file.last_seen_scan = r.try_get(12).map_err(db)?;
    file.missing_since = r.try_get(13).map_err(db)?;
    file.state = state.as_deref().map(codec::tier_state).transpose()?;
    file.lost = crate::tier::decode_lost(r, 15)?;
    Ok(file)
}

// ---- building blocks (inside the caller's transaction) ------------------------------------------

/// A job of the tenant with its fencing token, or `NotFound`.
async fn job_in(conn: &mut SqliteConnection, tenant: TenantId, job: i64) -> Result<(Job, i64)> {
    let row = sqlx::query(JOB_COLUMNS)
        .bind(tenant.0)
        .bind(job)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db)?
        .ok_or_else(|| Error::not_found(format!("job {job} does not exist")))?;
    decode_job(&row)
}

/// The lease named by `fence` is the job's current one: `NotFound` for an unknown job, a
/// non-retryable `Conflict` for a stale token or a job no longer running.
async fn check_fence(conn: &mut SqliteConnection, tenant: TenantId, fence: Fence) -> Result<Job> {
    let (job, token) = job_in(conn, tenant, fence.job).await?;
    if token != fence.token || job.state != JobState::Running {
        return Err(Error::conflict(format!(
            "the lease on job {} was lost (token {} is stale): another worker owns it now",
            fence.job, fence.token
        ))
        .retryable(false));
    }
    Ok(job)
}

/// A job that ended by itself (done, or failed for good): the files it left PLANNED stay so and
/// stay linked to it, for the next plan to re-queue; the others forget it.
async fn release_job(conn: &mut SqliteConnection, tenant: TenantId, job: i64) -> Result<()> {
    sqlx::query(JOB_RELEASE)
        .bind(tenant.0)
        .bind(job)
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    Ok(())
}

/// Withdraw the job's PLANNED files and drop every link to the job (a cancelled job frees
/// them). Returns how many plans were withdrawn.
async fn withdraw_planned_of(
    conn: &mut SqliteConnection,
    tenant: TenantId,
    job: i64,
    at: Micros,
) -> Result<u64> {
    let rows = sqlx::query(JOB_LINKS)
        .bind(tenant.0)
        .bind(job)
        .fetch_all(&mut *conn)
        .await
        .map_err(db)?;
    let parent = job_event(conn, tenant, job).await?;
    let mut n = 0;
    for r in &rows {
        let state = codec::tier_state(r.try_get(2).map_err(db)?)?;
        if state != TierState::Planned {
            continue;
        }
        let req = TransitionRequest {
            share: r.try_get(0).map_err(db)?,
            path_key: r.try_get(1).map_err(db)?,
            action: Action::Withdraw,
            expected: Some((state, r.try_get(3).map_err(db)?)),
            stored: None,
            plan: None,
            at,
        };
        transition_under(conn, tenant, &req, parent).await?;
        n += 1;
    }
    sqlx::query(JOB_UNLINK)
        .bind(tenant.0)
        .bind(job)
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    Ok(n)
}

async fn audit(
    conn: &mut SqliteConnection,
    tenant: TenantId,
    at: Micros,
    kind: &str,
    job: i64,
    detail: serde_json::Value,
) -> Result<()> {
    let parent = job_event(conn, tenant, job).await?;
    crate::audit::insert(conn, tenant, at, kind, &job.to_string(), &detail, parent).await?;
    Ok(())
}

/// A job's `job.create` event (`None` for a job committed before jobs had one).
async fn job_event(conn: &mut SqliteConnection, tenant: TenantId, job: i64) -> Result<Option<i64>> {
    let e: Option<Option<i64>> = sqlx::query_scalar(JOB_EVENT)
        .bind(tenant.0)
        .bind(job)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db)?;
    Ok(e.flatten())
}

// ---- the trait ----------------------------------------------------------------------------------

#[async_trait]
impl Tiering for SqliteStore {
    async fn tenants(&self) -> Result<Vec<Tenant>> {
        let rows = sqlx::query(TENANTS)
            .fetch_all(&self.pools.read)
            .await
            .map_err(db)?;
        rows.iter()
            .map(|r| {
                let name: String = r.try_get(1).map_err(db)?;
                let raw: String = r.try_get(2).map_err(db)?;
                let mut tenant_rec = Tenant::default();
                tenant_rec.id = TenantId(r.try_get(0).map_err(db)?);
                tenant_rec.settings = serde_json::from_str(&raw)
                    .map_err(|e| corrupt(format!("settings of tenant {name:?}: {e}")))?;
                tenant_rec.name = name;
                tenant_rec.created = r.try_get(3).map_err(db)?;
                Ok(tenant_rec)
            })
            .collect()
    }

    async fn file(&self, tenant: TenantId, share: &str, path_key: &str) -> Result<FileRecord> {
        let row = sqlx::query(FILE_ONE)
            .bind(tenant.0)
            .bind(share)
            .bind(path_key)
            .fetch_optional(&self.pools.read)
            .await
            .map_err(db)?
            .ok_or_else(|| {
                Error::not_found(format!(
                    "file {path_key:?} in share {share:?} does not exist"
                ))
            })?;
        decode_file(share, &row)
    }

    async fn commit_plan(&self, tenant: TenantId, plan: &PlanCommit) -> Result<CommitOutcome> {
        let mut tx = self.write().await?;
        settings(&mut tx, tenant).await?;
        // Every listed file must exist before anything is written.
        let mut listed: HashSet<(&str, &str)> = HashSet::new();
        for f in plan.jobs.iter().flat_map(|j| &j.files) {
            if !listed.insert((f.share.as_str(), f.path_key.as_str())) {
                continue;
            }
            let found = sqlx::query(sql::FILE_FOR_OBJECT)
                .bind(tenant.0)
                .bind(&f.share)
                .bind(&f.path_key)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db)?;
            if found.is_none() {
                return Err(Error::not_found(format!(
                    "cannot plan {:?} in share {:?}: no such file",
                    f.path_key, f.share
                )));
            }
        }
        let mut out = CommitOutcome::default();
        // Earlier plans that this plan no longer lists: withdrawn unless a running job holds them.
        let stale = sqlx::query(STALE_PLANNED)
            .bind(tenant.0)
            .fetch_all(&mut *tx)
            .await
            .map_err(db)?;
        for r in &stale {
            let share: String = r.try_get(0).map_err(db)?;
            let key: String = r.try_get(1).map_err(db)?;
            if listed.contains(&(share.as_str(), key.as_str())) {
                continue;
            }
            let req = TransitionRequest {
                share,
                path_key: key,
                action: Action::Withdraw,
                expected: Some((TierState::Planned, r.try_get(2).map_err(db)?)),
                stored: None,
                plan: None,
                at: plan.at,
            };
            transition_in(&mut tx, tenant, &req).await?;
            out.withdrawn += 1;
        }
        // Queued jobs left without files are cancelled.
        sqlx::query(CANCEL_EMPTY)
            .bind(tenant.0)
            .bind(plan.at)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        // Files this commit planned or re-queued: listed again, they are already planned.
        let mut handled: HashSet<(&str, &str)> = HashSet::new();
        for spec in &plan.jobs {
            let mut members: Vec<i64> = Vec::new();
            let mut planned = 0;
            // The job and its `job.create` event, made at its first file (whose events are the
            // event's children); a spec that plans no file makes neither.
            let mut job: Option<(i64, i64)> = None;
            for f in &spec.files {
                let key = (f.share.as_str(), f.path_key.as_str());
                let obj = object_in(&mut tx, tenant, &f.share, &f.path_key).await?;
                let current = obj.as_ref().map(|o| (o.state, o.version));
                let live = match current {
                    Some((TierState::Planned, _)) if !handled.contains(&key) => {
                        sqlx::query_scalar::<_, bool>(IN_LIVE_JOB)
                            .bind(tenant.0)
                            .bind(&f.share)
                            .bind(&f.path_key)
                            .fetch_one(&mut *tx)
                            .await
                            .map_err(db)?
                    }
                    _ => true,
                };
                let joins = match current {
                    Some((TierState::Planned, _)) => !live,
                    Some((TierState::Stubbed, _)) => false,
                    _ => true,
                };
                if joins && job.is_none() {
                    job = Some(create_job(&mut tx, tenant, spec, plan.at).await?);
                }
                let parent = job.map(|j| j.1);
                match (current, obj) {
                    (Some((TierState::Planned, _)), _) if live => out.already_planned += 1,
                    (Some((TierState::Planned, version)), Some(o)) => {
                        // Left PLANNED by a job that ended (or by none): into this plan's job.
                        let n = sqlx::query(REQUEUE)
                            .bind(tenant.0)
                            .bind(o.id)
                            .bind(version)
                            .bind(&spec.rule)
                            .bind(&f.target_uri)
                            .bind(plan.at)
                            .execute(&mut *tx)
                            .await
                            .map_err(db)?
                            .rows_affected();
                        if n != 1 {
                            return Err(corrupt("a re-queued tier object changed under the plan"));
                        }
                        let detail = serde_json::json!({
                            "share": f.share,
                            "from": TierState::Planned.as_str(),
                            "to": TierState::Planned.as_str(),
                        });
                        crate::audit::insert(
                            &mut tx,
                            tenant,
                            plan.at,
                            "tier.requeue",
                            &f.path_key,
                            &detail,
                            parent,
                        )
                        .await?;
                        out.requeued += 1;
                        handled.insert(key);
                        members.push(o.id);
                    }
                    (Some((TierState::Stubbed, _)), _) => out.already_stubbed += 1,
                    _ => {
                        let req = TransitionRequest {
                            share: f.share.clone(),
                            path_key: f.path_key.clone(),
                            action: Action::Plan,
                            expected: current,
                            stored: None,
                            plan: Some(PlanInfo {
                                rule: spec.rule.clone(),
                                target_uri: f.target_uri.clone(),
                            }),
                            at: plan.at,
                        };
                        let o = transition_under(&mut tx, tenant, &req, parent)
                            .await?
                            .ok_or_else(|| corrupt("planning left no tier object"))?;
                        planned += 1;
                        handled.insert(key);
                        members.push(o.id);
                    }
                }
            }
            let Some((job, _)) = job.filter(|_| !members.is_empty()) else {
                continue;
            };
            let ids = serde_json::to_string(&members)
                .map_err(|e| corrupt(format!("cannot encode tier ids: {e}")))?;
            let n = sqlx::query(JOB_LINK)
                .bind(tenant.0)
                .bind(job)
                .bind(ids)
                .execute(&mut *tx)
                .await
                .map_err(db)?
                .rows_affected();
            if n != members.len() as u64 {
                return Err(corrupt(format!(
                    "job {job}: linked {n} tier objects, expected {}",
                    members.len()
                )));
            }
            out.jobs += 1;
            out.planned += planned;
        }
        tx.commit().await.map_err(db_in("cannot commit the plan"))?;
        Ok(out)
    }

    async fn claim_job(&self, tenant: TenantId, request: &ClaimRequest) -> Result<Option<Lease>> {
        let now = request.now;
        let mut tx = self.write().await?;
        settings(&mut tx, tenant).await?;
        loop {
            let Some(row) = sqlx::query(CLAIMABLE)
                .bind(tenant.0)
                .bind(now)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db)?
            else {
                // Jobs failed on the way (expired last attempts) stay failed.
                tx.commit()
                    .await
                    .map_err(db_in("cannot commit the claim"))?;
                return Ok(None);
            };
            let id: i64 = row.try_get(0).map_err(db)?;
            let state: String = row.try_get(1).map_err(db)?;
            let attempts: i64 = row.try_get(2).map_err(db)?;
            if state == JobState::Running.as_str() && attempts >= i64::from(MAX_ATTEMPTS) {
                sqlx::query(EXPIRE_FAILED)
                    .bind(tenant.0)
                    .bind(id)
                    .bind(format!("lease expired on attempt {attempts}"))
                    .bind(now)
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?;
                release_job(&mut tx, tenant, id).await?;
                continue;
            }
            sqlx::query(CLAIM)
                .bind(tenant.0)
                .bind(id)
                .bind(&request.worker)
                .bind(now.saturating_add(request.lease))
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
            let (job, token) = job_in(&mut tx, tenant, id).await?;
            tx.commit()
                .await
                .map_err(db_in("cannot commit the claim"))?;
            return Ok(Some(Lease { job, token }));
        }
    }

    async fn renew_lease(&self, tenant: TenantId, fence: Fence, until: Micros) -> Result<()> {
        let mut tx = self.write().await?;
        check_fence(&mut tx, tenant, fence).await?;
        sqlx::query(RENEW)
            .bind(tenant.0)
            .bind(fence.job)
            .bind(until)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        tx.commit()
            .await
            .map_err(db_in("cannot commit the lease renewal"))
    }

    async fn expired_planned(
        &self,
        tenant: TenantId,
        before: Micros,
        limit: usize,
    ) -> Result<Vec<TierObject>> {
        let rows = sqlx::query(EXPIRED_PLANNED)
            .bind(tenant.0)
            .bind(before)
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .fetch_all(&self.pools.read)
            .await
            .map_err(db)?;
        rows.iter().map(decode_object).collect()
    }

    async fn prune(&self, tenant: TenantId, req: &PruneRequest) -> Result<PruneCounts> {
        let mut tx = self.write().await?;
        settings(&mut tx, tenant).await?;
        let mut counts = PruneCounts::default();
        let count = |sql: String| sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql));
        let states: Vec<(String, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT state, count(*) {PRUNE_OBJECTS_WHERE} GROUP BY state"
        )))
        .bind(tenant.0)
        .bind(req.rehydrated_before)
        .bind(req.deleted_before)
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?;
        for (state, n) in states {
            match state.as_str() {
                "REHYDRATED" => counts.rehydrated = n as u64,
                _ => counts.deleted = n as u64,
            }
        }
        if let Some(before) = req.jobs_before {
            counts.jobs = count(format!("SELECT count(*) {PRUNE_JOBS_WHERE}"))
                .bind(tenant.0)
                .bind(before)
                .fetch_one(&mut *tx)
                .await
                .map_err(db)? as u64;
        }
        if let Some(before) = req.feed_before {
            counts.feed_events = count(format!("SELECT count(*) {PRUNE_FEED_WHERE}"))
                .bind(tenant.0)
                .bind(before)
                .fetch_one(&mut *tx)
                .await
                .map_err(db)? as u64;
        }
        if let Some(keep) = req.history_scans {
            counts.snapshot_rows = count(format!("SELECT count(*) {PRUNE_HISTORY_WHERE}"))
                .bind(tenant.0)
                .bind(i64::from(keep))
                .fetch_one(&mut *tx)
                .await
                .map_err(db)? as u64;
        }
        if req.dry_run {
            return Ok(counts);
        }
        if let Some(keep) = req.history_scans {
            sqlx::query(sqlx::AssertSqlSafe(format!("DELETE {PRUNE_HISTORY_WHERE}")))
                .bind(tenant.0)
                .bind(i64::from(keep))
                .execute(&mut *tx)
                .await
                .map_err(db_in("cannot prune old snapshots"))?;
        }
        sqlx::query(sqlx::AssertSqlSafe(format!("DELETE {PRUNE_OBJECTS_WHERE}")))
            .bind(tenant.0)
            .bind(req.rehydrated_before)
            .bind(req.deleted_before)
            .execute(&mut *tx)
            .await
            .map_err(db_in("cannot remove expired tier records"))?;
        if let Some(before) = req.jobs_before {
            sqlx::query(sqlx::AssertSqlSafe(format!("DELETE {PRUNE_JOBS_WHERE}")))
                .bind(tenant.0)
                .bind(before)
                .execute(&mut *tx)
                .await
                .map_err(db_in("cannot remove finished jobs"))?;
        }
        if let Some(before) = req.feed_before {
            sqlx::query(sqlx::AssertSqlSafe(format!("DELETE {PRUNE_FEED_WHERE}")))
                .bind(tenant.0)
                .bind(before)
                .execute(&mut *tx)
                .await
                .map_err(db_in("cannot clear feed bookkeeping"))?;
        }
        tx.commit()
            .await
            .map_err(db_in("cannot commit the sweep"))?;
        Ok(counts)
    }

    async fn job_objects(&self, tenant: TenantId, job: i64) -> Result<Vec<TierObject>> {
        let rows = sqlx::query(JOB_OBJECTS)
            .bind(tenant.0)
            .bind(job)
            .fetch_all(&self.pools.read)
            .await
            .map_err(db)?;
        rows.iter().map(decode_object).collect()
    }

    async fn transition_fenced(
        &self,
        tenant: TenantId,
        fence: Fence,
        request: &TransitionRequest,
    ) -> Result<Option<TierObject>> {
        let mut tx = self.write().await?;
        check_fence(&mut tx, tenant, fence).await?;
        let parent = job_event(&mut tx, tenant, fence.job).await?;
        let next = transition_under(&mut tx, tenant, request, parent).await?;
        tx.commit()
            .await
            .map_err(db_in("cannot commit the transition"))?;
        Ok(next)
    }

    async fn finish_job(
        &self,
        tenant: TenantId,
        fence: Fence,
        outcome: &JobOutcome,
        now: Micros,
    ) -> Result<Job> {
        let mut tx = self.write().await?;
        let job = check_fence(&mut tx, tenant, fence).await?;
        let ends = match outcome {
            JobOutcome::Done {
                stubbed,
                skipped,
                failed,
                bytes,
            } => {
                sqlx::query(FINISH_DONE)
                    .bind(tenant.0)
                    .bind(fence.job)
                    .bind(count_in(*stubbed, "stubbed files")?)
                    .bind(count_in(*skipped, "skipped files")?)
                    .bind(count_in(*failed, "failed files")?)
                    .bind(count_in(*bytes, "bytes moved")?)
                    .bind(now)
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?;
                let detail = serde_json::json!({
                    "stubbed": stubbed, "skipped": skipped, "failed": failed, "bytes": bytes
                });
                audit(&mut tx, tenant, now, "job.done", fence.job, detail).await?;
                true
            }
            JobOutcome::Failed { error } => match next_attempt(job.attempts, now) {
                Some(at) => {
                    sqlx::query(FINISH_RETRY)
                        .bind(tenant.0)
                        .bind(fence.job)
                        .bind(error)
                        .bind(at)
                        .bind(now)
                        .execute(&mut *tx)
                        .await
                        .map_err(db)?;
                    let detail = serde_json::json!({
                        "error": error, "attempt": job.attempts, "not_before": at
                    });
                    audit(&mut tx, tenant, now, "job.retry", fence.job, detail).await?;
                    false
                }
                None => {
                    sqlx::query(FINISH_FAILED)
                        .bind(tenant.0)
                        .bind(fence.job)
                        .bind(error)
                        .bind(now)
                        .execute(&mut *tx)
                        .await
                        .map_err(db)?;
                    let detail = serde_json::json!({"error": error, "attempts": job.attempts});
                    audit(&mut tx, tenant, now, "job.failed", fence.job, detail).await?;
                    true
                }
            },
        };
        if ends {
            release_job(&mut tx, tenant, fence.job).await?;
        }
        let (job, _) = job_in(&mut tx, tenant, fence.job).await?;
        tx.commit()
            .await
            .map_err(db_in("cannot commit the job's end"))?;
        Ok(job)
    }

    async fn cancel_job(&self, tenant: TenantId, job: i64, now: Micros) -> Result<Job> {
        let mut tx = self.write().await?;
        let (j, _) = job_in(&mut tx, tenant, job).await?;
        if !matches!(j.state, JobState::Queued | JobState::Running) {
            return Err(Error::new(
                ErrorKind::InvalidTransition,
                format!("cannot cancel job {job}: it is {}", j.state.as_str()),
            ));
        }
        sqlx::query(CANCEL)
            .bind(tenant.0)
            .bind(job)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        withdraw_planned_of(&mut tx, tenant, job, now).await?;
        audit(
            &mut tx,
            tenant,
            now,
            "job.cancel",
            job,
            serde_json::json!({}),
        )
        .await?;
        let (j, _) = job_in(&mut tx, tenant, job).await?;
        tx.commit()
            .await
            .map_err(db_in("cannot commit the cancellation"))?;
        Ok(j)
    }

    async fn jobs(&self, tenant: TenantId, query: &JobQuery) -> Result<Page<Job>> {
        let limit = if query.limit == 0 {
            DEFAULT_LIMIT
        } else {
            query.limit
        };
        let rows = sqlx::query(JOB_PAGE)
            .bind(tenant.0)
            .bind(query.state.map(JobState::as_str))
            .bind(query.after.unwrap_or(i64::MIN))
            .bind(i64::try_from(limit).unwrap_or(i64::MAX - 1) + 1)
            .fetch_all(&self.pools.read)
            .await
            .map_err(db)?;
        let mut items = rows
            .iter()
            .map(|r| decode_job(r).map(|(j, _)| j))
            .collect::<Result<Vec<_>>>()?;
        let next = if items.len() > limit {
            items.truncate(limit);
            items.last().map(|j| j.id.to_string())
        } else {
            None
        };
        Ok(Page { items, next })
    }
}

#[cfg(test)]
mod tests {
    use super::STATEMENTS;

    /// Every table a statement names (after FROM, JOIN, INTO or UPDATE), with its alias.
    fn tables(sql: &str) -> Vec<(String, Option<String>)> {
        let words: Vec<&str> = sql
            .split(|c: char| c.is_whitespace() || c == '(' || c == ')' || c == ',')
            .filter(|w| !w.is_empty())
            .collect();
        let mut out = Vec::new();
        for (i, w) in words.iter().enumerate() {
            if !matches!(
                w.to_ascii_uppercase().as_str(),
                "FROM" | "JOIN" | "INTO" | "UPDATE"
            ) {
                continue;
            }
            let Some(t) = words.get(i + 1) else { continue };
            if t.starts_with("json_each") || t.eq_ignore_ascii_case("SELECT") {
                continue;
            }
            let alias = match words.get(i + 2) {
                Some(a) if a.eq_ignore_ascii_case("AS") => words.get(i + 3).map(|a| a.to_string()),
                _ => None,
            };
            out.push((t.to_string(), alias));
        }
        out
    }

    /// Why `sql` does not scope a table it names by `tenant_id = ?1`, if it does not.
    fn unscoped(sql: &str) -> Option<String> {
        for (table, alias) in tables(sql) {
            let scoped = match &alias {
                Some(a) => sql.contains(&format!("{a}.tenant_id = ?1")),
                None if sql.starts_with("INSERT") => {
                    // `INSERT INTO t (tenant_id, …) VALUES (?1, …)`
                    let cols = sql.split_once('(').and_then(|(_, r)| r.split_once(')'));
                    cols.is_some_and(|(c, rest)| {
                        c.split(',').next().is_some_and(|c| c.trim() == "tenant_id")
                            && rest.trim_start().starts_with("VALUES (?1")
                    })
                }
                None => sql.contains("WHERE tenant_id = ?1"),
            };
            if !scoped {
                return Some(format!("{table} is not filtered by `tenant_id = ?1`"));
            }
        }
        None
    }

    #[test]
    fn every_statement_is_tenant_scoped() {
        let all = STATEMENTS.iter().chain(crate::feeds::STATEMENTS);
        let mut n = 0;
        for (name, sql) in all {
            n += 1;
            if let Some(why) = unscoped(sql) {
                panic!("{name}: {why}: {sql}");
            }
        }
        assert!(n > 25);
    }

    #[test]
    fn the_check_catches_a_missing_filter() {
        assert!(unscoped("SELECT a FROM tier_job WHERE job_id = ?2").is_some());
        assert!(
            unscoped("SELECT a FROM x AS f JOIN y AS t ON t.k = f.k WHERE f.tenant_id = ?1")
                .is_some()
        );
        assert!(unscoped("INSERT INTO t (share_id, tenant_id) VALUES (?1, ?2)").is_some());
        assert!(unscoped("INSERT INTO t (tenant_id, share_id) VALUES (?1, ?2)").is_none());
        assert!(unscoped("UPDATE t SET a = 1 WHERE tenant_id = ?1 AND b = 2").is_none());
    }
}
