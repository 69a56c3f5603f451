//! The tiering part of the storage contract: committed plans and the job queue.
//!
//! A store that can drive workers implements [`Tiering`] and returns itself from
//! [`Store::tiering`](super::Store::tiering). Many workers (on many hosts, for stores whose
//! capabilities say `concurrent_workers`) claim jobs with a lease; the lease carries a fencing
//! token, and every write a worker makes under a lease names the token, so a worker whose lease
//! expired (and whose job was claimed again) can no longer change anything. The retry policy
//! lives in the core ([`next_attempt`]); stores persist its outcome.

use super::Page;
use crate::error::Result;
use crate::time::{MICROS_PER_SEC, Micros};
use crate::types::{Estimate, FileRecord, Job, JobState, Tenant, TenantId, TierObject};
use async_trait::async_trait;
use serde::Serialize;

/// The most claims of one job before it fails for good.
pub const MAX_ATTEMPTS: u32 = 3;

/// When a failed attempt may be retried: exponential backoff (30 s, 2 min, …), or `None` when
/// the job has had its [`MAX_ATTEMPTS`].
pub fn next_attempt(attempts: u32, now: Micros) -> Option<Micros> {
    if attempts >= MAX_ATTEMPTS {
        None
    } else {
        Some(now + 30 * MICROS_PER_SEC * 4i64.pow(attempts.saturating_sub(1)))
    }
}

/// One file of a plan to commit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlannedFile {
    /// Share name.
    pub share: String,
    /// Path key.
    pub path_key: String,
    /// Where its data goes: the rule's rendered target joined with the object key.
    pub target_uri: String,
}

/// One job of a plan to commit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlannedJobSpec {
    /// The rule.
    pub rule: String,
    /// The rendered target.
    pub target: String,
    /// Lower runs first.
    pub priority: i64,
    /// The planner's estimate.
    pub estimate: Estimate,
    /// Its files.
    pub files: Vec<PlannedFile>,
}

/// A plan to commit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanCommit {
    /// Planning time.
    pub at: Micros,
    /// The jobs.
    pub jobs: Vec<PlannedJobSpec>,
}

/// What committing did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct CommitOutcome {
    /// Jobs created (jobs left with no file are not created).
    pub jobs: u64,
    /// Files newly planned.
    pub planned: u64,
    /// Files already planned in a job that is still queued or running (not planned twice).
    pub already_planned: u64,
    /// Files already stubbed (skipped).
    pub already_stubbed: u64,
    /// Files still PLANNED whose job ended (done with failed files, failed after its last
    /// attempt, cancelled) or that have no job, moved into this plan's job: same incarnation,
    /// version bumped, rule, target and planning time the new plan's (audit `tier.requeue`).
    pub requeued: u64,
    /// Files PLANNED by the tenant's earlier plans that this plan does not list — in a queued job,
    /// in a job that ended, or in none — and so no longer qualify: plan withdrawn.
    pub withdrawn: u64,
}

/// A claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimRequest {
    /// Who claims (host and process).
    pub worker: String,
    /// Lease length.
    pub lease: Micros,
    /// The claim time.
    pub now: Micros,
}

/// A held lease.
#[derive(Debug, Clone, PartialEq)]
pub struct Lease {
    /// The job, as claimed.
    pub job: Job,
    /// The fencing token: every write under this lease must name it.
    pub token: i64,
}

/// What a lease is named by in writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Fence {
    /// The job.
    pub job: i64,
    /// Its token at claim time.
    pub token: i64,
}

/// How an attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobOutcome {
    /// Every file was handled (stubbed, skipped or failed individually).
    Done {
        /// Files stubbed.
        stubbed: u64,
        /// Files skipped (plan withdrawn).
        skipped: u64,
        /// Files that failed (left PLANNED).
        failed: u64,
        /// Bytes moved.
        bytes: u64,
    },
    /// The attempt failed as a whole.
    Failed {
        /// Why.
        error: String,
    },
}

/// Which jobs to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobQuery {
    /// Only this state.
    pub state: Option<JobState>,
    /// After this job id.
    pub after: Option<i64>,
    /// Page size (0: 1000).
    pub limit: usize,
}

/// What a retention sweep removes from the store (each `None`: nothing of that kind).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PruneRequest {
    /// REHYDRATED tier records whose last change is before this time.
    pub rehydrated_before: Option<Micros>,
    /// DELETED tier records whose last change is before this time.
    pub deleted_before: Option<Micros>,
    /// Finished jobs (done, failed, cancelled) that finished before this time and hold no file.
    pub jobs_before: Option<Micros>,
    /// Feed bookkeeping (applied event ids, staged events) recorded before this time.
    pub feed_before: Option<Micros>,
    /// Snapshot history: keep the snapshots of each share's newest this many scans and remove
    /// the older ones (`None`: keep all). Scans trim it as they finish too; a sweep applies a
    /// setting lowered since.
    pub history_scans: Option<u32>,
    /// Count what would go; remove nothing.
    pub dry_run: bool,
}

/// What a retention sweep removed (or, dry, would remove).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct PruneCounts {
    /// REHYDRATED records.
    pub rehydrated: u64,
    /// DELETED records.
    pub deleted: u64,
    /// Finished jobs.
    pub jobs: u64,
    /// Feed bookkeeping rows.
    pub feed_events: u64,
    /// Snapshot rows of scans past `history_scans`.
    pub snapshot_rows: u64,
}

/// Committed plans and the job queue. See the module docs.
#[async_trait]
pub trait Tiering: Send + Sync {
    /// Every tenant (workers serve them all).
    async fn tenants(&self) -> Result<Vec<Tenant>>;

    /// One file's current record.
    ///
    /// # Behavior
    /// - `NotFound` when the tenant has no such file.
    async fn file(&self, tenant: TenantId, share: &str, path_key: &str) -> Result<FileRecord>;

    /// PLANNED tier objects planned before `before`, oldest first, at most `limit`, leaving out
    /// those a running job holds (its worker is acting on them).
    async fn expired_planned(
        &self,
        tenant: TenantId,
        before: Micros,
        limit: usize,
    ) -> Result<Vec<TierObject>>;

    /// Remove what `request` names, in one transaction.
    ///
    /// # Behavior
    /// - Never removes a PLANNED or STUBBED record, a job that is queued or running or holds a
    ///   file, or anything of another tenant.
    /// - With `dry_run`, counts and removes nothing.
    async fn prune(&self, tenant: TenantId, request: &PruneRequest) -> Result<PruneCounts>;

    /// Commit a plan: PLANNED tier objects and their jobs, in one transaction.
    ///
    /// # Behavior
    /// - A file already STUBBED, or PLANNED in a job still queued or running, is not planned again
    ///   (counted `already_stubbed`, `already_planned`); a REHYDRATED or DELETED one starts a new
    ///   incarnation; unknown files are `NotFound` and nothing is written.
    /// - A listed file still PLANNED whose job ended (done, failed or cancelled) or that has no job
    ///   is moved into the new plan's job (counted `requeued`, audit `tier.requeue`): it stays
    ///   PLANNED in the same incarnation, its version is bumped, its rule, target URI and planning
    ///   time become the new plan's, and nothing else of it changes.
    /// - Files PLANNED by this tenant's earlier plans that this plan does not list no longer
    ///   qualify, unless a running job holds them: in a queued job, in a job that ended, or in
    ///   none, their plans are withdrawn (audit `tier.withdraw`, counted `withdrawn`), and queued
    ///   jobs left empty are cancelled.
    /// - A file listed twice is planned or re-queued once; later listings count `already_planned`.
    /// - Every newly planned file gets an audit `tier.plan` event.
    async fn commit_plan(&self, tenant: TenantId, plan: &PlanCommit) -> Result<CommitOutcome>;

    /// Claim the next job: queued and due (`not_before` passed), or running with an expired lease;
    /// lowest priority value first, then oldest.
    ///
    /// # Behavior
    /// - At most one worker holds a job at a time (Postgres: `FOR UPDATE SKIP LOCKED`).
    /// - The claim bumps `attempts` and the fencing token; a job whose expired lease was its
    ///   [`MAX_ATTEMPTS`]th attempt becomes `failed` instead of being claimed (its files still
    ///   PLANNED stay so, as after [`finish_job`](Self::finish_job)).
    async fn claim_job(&self, tenant: TenantId, request: &ClaimRequest) -> Result<Option<Lease>>;

    /// Extend a lease to `until`.
    ///
    /// # Behavior
    /// - `Conflict` when the token is no longer the job's (the lease was lost).
    async fn renew_lease(&self, tenant: TenantId, fence: Fence, until: Micros) -> Result<()>;

    /// The tier objects of a job (all states).
    ///
    /// # Behavior
    /// - Once the job has ended, only the files it left PLANNED stay linked to it, until a
    ///   committed plan moves them into its own job or withdraws them; a cancelled job keeps none.
    async fn job_objects(&self, tenant: TenantId, job: i64) -> Result<Vec<TierObject>>;

    /// Apply a lifecycle action to one of the job's files under its lease.
    ///
    /// # Behavior
    /// - `Conflict` when the fence is stale; otherwise exactly [`Store::transition`](super::Store::transition).
    async fn transition_fenced(
        &self,
        tenant: TenantId,
        fence: Fence,
        request: &super::TransitionRequest,
    ) -> Result<Option<TierObject>>;

    /// End an attempt.
    ///
    /// # Behavior
    /// - `Conflict` when the fence is stale: a worker that lost its lease cannot complete the job.
    /// - `Done` → state done with the counts; `Failed` → queued again with the backoff of
    ///   [`next_attempt`], or failed with the error after [`MAX_ATTEMPTS`].
    /// - A job that ends (done, or failed for good) leaves the files it did not finish PLANNED
    ///   and linked to it (their tier objects unchanged, no audit event for them): the next
    ///   committed plan moves those it lists into its own job and withdraws the others
    ///   ([`commit_plan`](Self::commit_plan)). The job's other files are no longer linked to it.
    ///   The same holds for a job a claim fails because the lease of its last attempt expired.
    /// - Writes an audit `job.done` / `job.retry` / `job.failed` event.
    async fn finish_job(
        &self,
        tenant: TenantId,
        fence: Fence,
        outcome: &JobOutcome,
        now: Micros,
    ) -> Result<Job>;

    /// Cancel a job that is queued or running; its PLANNED files are withdrawn.
    ///
    /// # Behavior
    /// - An administrator's cancel means "don't": unlike a job that ends by itself
    ///   ([`finish_job`](Self::finish_job)), the job's still-PLANNED files have their plans
    ///   withdrawn (audit `tier.withdraw` each) and no file stays linked to it.
    /// - `InvalidTransition` for a job already done, failed or cancelled (the PLANNED files a done
    ///   or failed job left are re-queued or withdrawn by the next committed plan).
    async fn cancel_job(&self, tenant: TenantId, job: i64, now: Micros) -> Result<Job>;

    /// List jobs by id.
    async fn jobs(&self, tenant: TenantId, query: &JobQuery) -> Result<Page<Job>>;
}
