//! Committed plans and the job queue: `alto_core::store::Tiering` on PostgreSQL.
//!
//! - **Claims** pick the lowest (priority, id) among queued jobs that are due and running jobs
//!   whose lease expired, with `FOR UPDATE SKIP LOCKED`, and claim it in the same statement: many
//!   workers never wait on each other and never take the same job.
//! - **Fencing**: `tier_job.token` is bumped by every claim, finish and cancel. A worker's writes
//!   name the token it claimed with and check it in the same transaction (`renew_lease` and
//!   `finish_job` in their `UPDATE … WHERE token = $n AND state = 'running'`, `transition_fenced`
//!   by locking the job row `FOR SHARE` before the transition), so a worker whose lease was taken
//!   over changes nothing: `Conflict`, not retryable.
//! - **Plans** are committed in one transaction, set-based: the listed files are staged in a
//!   session-private temporary table, checked, locked, and planned with a handful of statements
//!   whatever their number.
//! - A job that ends by itself (done, or failed for good) keeps the files it left PLANNED, linked
//!   to it, for the next plan to re-queue; the others forget the job. A cancelled job frees its
//!   files: PLANNED objects are withdrawn (audit `tier.withdraw` each) and the others forget it.
//! - A plan moves the listed files left PLANNED outside a queued or running job into its own job
//!   (`requeued`, audit `tier.requeue`) and withdraws the PLANNED files it does not list unless a
//!   running job holds them.
//!
//! Lock order, everywhere: the plan and feed advisory locks, then job rows, then `file_current`
//! rows, then `tier_object` rows.

use crate::PgStore;
use crate::audit;
use crate::error::db_err;
use crate::tier::{clear_stored, object, object_columns};
use crate::time::{PgTime, micros};
use alto_core::store::tiering::{
    ClaimRequest, CommitOutcome, Fence, JobOutcome, JobQuery, Lease, MAX_ATTEMPTS, PlanCommit,
    PruneCounts, PruneRequest, next_attempt,
};
use alto_core::store::{Page, TransitionRequest};
use alto_core::time::Micros;
use alto_core::types::{Estimate, Job, JobState, NewAuditEvent, TenantId, TierObject};
use alto_core::{Error, ErrorKind, Result, TierState};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};
use std::collections::HashMap;

/// The session's private plan staging table, created when a pooled connection opens.
pub(crate) const CREATE_PLAN_STAGING: &str = "CREATE TEMP TABLE IF NOT EXISTS alto_plan ( \
         ord bigint NOT NULL, job bigint NOT NULL, share_id bigint NOT NULL, \
         path_key text COLLATE \"C\" NOT NULL, target_uri text NOT NULL, rule text NOT NULL) \
     ON COMMIT DELETE ROWS";

macro_rules! job_columns {
    () => {
        "job_id, rule, target, priority, state, files, bytes, bytes_saved, seconds, attempts, \
         last_error, not_before, lease_owner, lease_until, files_stubbed, files_skipped, \
         files_failed, bytes_moved, created_utc, finished_utc, token, audit_event_id, \
         audit_event_date"
    };
}

fn job_from(row: &PgRow) -> Result<(Job, i64)> {
    let get = |name: &str| -> Result<i64> { row.try_get(name).map_err(db_err) };
    let time = |name: &str| -> Result<Option<Micros>> {
        Ok(micros(
            row.try_get::<Option<PgTime>, _>(name).map_err(db_err)?,
        ))
    };
    let state: String = row.try_get("state").map_err(db_err)?;
    let attempts: i32 = row.try_get("attempts").map_err(db_err)?;
    let created: PgTime = row.try_get("created_utc").map_err(db_err)?;
    let mut job = Job::default();
    job.id = get("job_id")?;
    job.rule = row.try_get("rule").map_err(db_err)?;
    job.target = row.try_get("target").map_err(db_err)?;
    job.priority = get("priority")?;
    job.state = JobState::parse(&state).ok_or_else(|| {
        Error::new(
            ErrorKind::Backend,
            format!("unknown job state {state:?} stored"),
        )
    })?;
    job.estimate = Estimate {
        files: get("files")? as u64,
        bytes: get("bytes")? as u64,
        bytes_saved: get("bytes_saved")? as u64,
        seconds: row.try_get("seconds").map_err(db_err)?,
    };
    job.attempts = attempts.max(0) as u32;
    job.last_error = row.try_get("last_error").map_err(db_err)?;
    job.not_before = time("not_before")?;
    job.worker = row.try_get("lease_owner").map_err(db_err)?;
    job.lease_expires = time("lease_until")?;
    job.files_stubbed = get("files_stubbed")? as u64;
    job.files_skipped = get("files_skipped")? as u64;
    job.files_failed = get("files_failed")? as u64;
    job.bytes_moved = get("bytes_moved")? as u64;
    job.created = created.0;
    job.finished = time("finished_utc")?;
    job.event = row.try_get("audit_event_id").map_err(db_err)?;
    Ok((job, get("token")?))
}

/// Serialise plan commits of one tenant.
async fn lock_plans(conn: &mut PgConnection, tenant: TenantId) -> Result<()> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('alto.plan', $1))")
        .bind(tenant.0)
        .execute(conn)
        .await
        .map_err(db_err)?;
    Ok(())
}

/// Take the feed lock of a share (see `feeds::apply_events`).
pub(crate) async fn lock_feed(conn: &mut PgConnection, tenant: TenantId, share: i64) -> Result<()> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('alto.feed', $1 # $2))")
        .bind(tenant.0)
        .bind(share)
        .execute(conn)
        .await
        .map_err(db_err)?;
    Ok(())
}

/// A job that ended by itself (done, or failed for good): the files it left PLANNED stay so and
/// stay linked to it, for the next plan to re-queue; the others forget it.
async fn release_job(conn: &mut PgConnection, tenant: TenantId, job: i64) -> Result<()> {
    sqlx::query(
        "UPDATE tier_object SET job_id = NULL \
         WHERE tenant_id = $1 AND job_id = $2 AND state <> 'PLANNED'",
    )
    .bind(tenant.0)
    .bind(job)
    .execute(conn)
    .await
    .map_err(db_err)?;
    Ok(())
}

/// Withdraw the job's PLANNED objects (audit `tier.withdraw` each, in (share, key) order) and
/// unlink the rest from it: a cancelled job frees its files. Returns how many were withdrawn.
async fn withdraw_planned_of(
    conn: &mut PgConnection,
    tenant: TenantId,
    job: i64,
    at: Micros,
) -> Result<u64> {
    let n: i64 = sqlx::query_scalar(
        "WITH w AS ( \
             DELETE FROM tier_object WHERE tenant_id = $1 AND job_id = $2 AND state = 'PLANNED' \
             RETURNING share_id, path_key), \
         u AS ( \
             UPDATE tier_object SET job_id = NULL \
             WHERE tenant_id = $1 AND job_id = $2 AND state <> 'PLANNED' RETURNING 1), \
         a AS ( \
             INSERT INTO audit_event (tenant_id, event_utc, kind, subject, detail, \
                 parent_event_id, parent_event_date) \
             SELECT $1, $3, 'tier.withdraw', w.path_key, \
                 jsonb_build_object('share', s.name, 'from', 'PLANNED', 'to', NULL), \
                 j.audit_event_id, j.audit_event_date \
             FROM w JOIN share s ON s.tenant_id = $1 AND s.share_id = w.share_id \
             LEFT JOIN tier_job j ON j.tenant_id = $1 AND j.job_id = $2 \
             ORDER BY s.name, w.path_key \
             RETURNING 1) \
         SELECT count(*) FROM a",
    )
    .bind(tenant.0)
    .bind(job)
    .bind(PgTime(at))
    .fetch_one(conn)
    .await
    .map_err(db_err)?;
    Ok(n as u64)
}

fn lost_lease(fence: Fence) -> Error {
    Error::conflict(format!(
        "the lease on job {} was lost (token {} is stale): another worker owns it now",
        fence.job, fence.token
    ))
    .retryable(false)
}

fn no_job(job: i64) -> Error {
    Error::not_found(format!("job {job} does not exist"))
}

/// Why a fenced write matched no row: the job is not this tenant's, or the fence is stale.
async fn fence_error(conn: &mut PgConnection, tenant: TenantId, fence: Fence) -> Error {
    let exists =
        sqlx::query_scalar::<_, i32>("SELECT 1 FROM tier_job WHERE tenant_id = $1 AND job_id = $2")
            .bind(tenant.0)
            .bind(fence.job)
            .fetch_optional(conn)
            .await;
    match exists {
        Ok(Some(_)) => lost_lease(fence),
        Ok(None) => no_job(fence.job),
        Err(e) => db_err(e),
    }
}

pub(crate) async fn commit_plan(
    store: &PgStore,
    tenant: TenantId,
    plan: &PlanCommit,
) -> Result<CommitOutcome> {
    let mut tx = store.begin(tenant).await?;
    crate::tenant::settings(&mut tx, tenant).await?;
    lock_plans(&mut tx, tenant).await?;
    // Feeds of the tenant's shares wait (and are waited for): a feed batch locks files and
    // objects in an order of its own.
    let shares: Vec<(i64, String)> =
        sqlx::query_as("SELECT share_id, name FROM share WHERE tenant_id = $1 ORDER BY share_id")
            .bind(tenant.0)
            .fetch_all(&mut *tx)
            .await
            .map_err(db_err)?;
    for (id, _) in &shares {
        lock_feed(&mut tx, tenant, *id).await?;
    }
    let share_ids: HashMap<&str, i64> = shares.iter().map(|(i, n)| (n.as_str(), *i)).collect();

    // Stage the listed files.
    let n: usize = plan.jobs.iter().map(|j| j.files.len()).sum();
    let (mut ords, mut jobs, mut sids, mut keys, mut targets, mut rules) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for (j, spec) in plan.jobs.iter().enumerate() {
        for f in &spec.files {
            let Some(sid) = share_ids.get(f.share.as_str()) else {
                return Err(no_such_file(&f.share, &f.path_key));
            };
            ords.push(ords.len() as i64);
            jobs.push(j as i64);
            sids.push(*sid);
            keys.push(f.path_key.as_str());
            targets.push(f.target_uri.as_str());
            rules.push(spec.rule.as_str());
        }
    }
    sqlx::query(
        "INSERT INTO pg_temp.alto_plan (ord, job, share_id, path_key, target_uri, rule) \
         SELECT * FROM unnest($1::int8[], $2::int8[], $3::int8[], $4::text[], $5::text[], \
             $6::text[])",
    )
    .bind(&ords)
    .bind(&jobs)
    .bind(&sids)
    .bind(&keys)
    .bind(&targets)
    .bind(&rules)
    .execute(&mut *tx)
    .await
    .map_err(db_err)?;
    // Every listed file must exist (missing ones too: they are still records).
    let unknown: Option<i64> = sqlx::query_scalar(
        "SELECT p.ord FROM pg_temp.alto_plan p WHERE NOT EXISTS ( \
             SELECT 1 FROM file_current fc WHERE fc.tenant_id = $1 \
             AND fc.share_id = p.share_id AND fc.path_key = p.path_key) \
         ORDER BY p.ord LIMIT 1",
    )
    .bind(tenant.0)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_err)?;
    if let Some(ord) = unknown {
        let ord = ord as usize;
        let share = shares
            .iter()
            .find(|(i, _)| *i == sids[ord])
            .map_or("", |(_, n)| n.as_str());
        return Err(no_such_file(share, keys[ord]));
    }
    // The queued jobs (a claim skips them meanwhile), then the listed files, in key order.
    sqlx::query(
        "SELECT job_id FROM tier_job WHERE tenant_id = $1 AND state = 'queued' \
         ORDER BY job_id FOR UPDATE",
    )
    .bind(tenant.0)
    .execute(&mut *tx)
    .await
    .map_err(db_err)?;
    sqlx::query(
        "SELECT 1 FROM file_current fc \
         JOIN (SELECT DISTINCT share_id, path_key FROM pg_temp.alto_plan) p \
             ON fc.tenant_id = $1 AND fc.share_id = p.share_id AND fc.path_key = p.path_key \
         ORDER BY fc.share_id, fc.path_key FOR NO KEY UPDATE OF fc",
    )
    .bind(tenant.0)
    .execute(&mut *tx)
    .await
    .map_err(db_err)?;

    let mut out = CommitOutcome::default();
    let at = PgTime(plan.at);
    // Earlier plans that this plan no longer lists — in queued jobs (locked above), in jobs that
    // ended, or in none: withdrawn, unless a running job holds them.
    let withdrawn: i64 = sqlx::query_scalar(
        "WITH w AS ( \
             DELETE FROM tier_object o \
             WHERE o.tenant_id = $1 AND o.state = 'PLANNED' \
               AND NOT EXISTS (SELECT 1 FROM tier_job j WHERE j.tenant_id = $1 \
                   AND j.job_id = o.job_id AND j.state = 'running') \
               AND NOT EXISTS (SELECT 1 FROM pg_temp.alto_plan p \
                   WHERE p.share_id = o.share_id AND p.path_key = o.path_key) \
             RETURNING o.share_id, o.path_key), \
         a AS ( \
             INSERT INTO audit_event (tenant_id, event_utc, kind, subject, detail) \
             SELECT $1, $2, 'tier.withdraw', w.path_key, \
                 jsonb_build_object('share', s.name, 'from', 'PLANNED', 'to', NULL) \
             FROM w JOIN share s ON s.tenant_id = $1 AND s.share_id = w.share_id \
             ORDER BY s.name, w.path_key \
             RETURNING 1) \
         SELECT count(*) FROM a",
    )
    .bind(tenant.0)
    .bind(at)
    .fetch_one(&mut *tx)
    .await
    .map_err(db_err)?;
    out.withdrawn = withdrawn as u64;
    // Queued jobs left without files are cancelled.
    sqlx::query(
        "UPDATE tier_job j SET state = 'cancelled', finished_utc = $2, token = token + 1, \
             updated_utc = now() \
         WHERE j.tenant_id = $1 AND j.state = 'queued' AND NOT EXISTS ( \
             SELECT 1 FROM tier_object o WHERE o.tenant_id = $1 AND o.job_id = j.job_id)",
    )
    .bind(tenant.0)
    .bind(at)
    .execute(&mut *tx)
    .await
    .map_err(db_err)?;

    // What each listed file is now, and whether a queued or running job holds it; a file listed
    // twice is planned once.
    let current: Vec<(i64, Option<String>, bool)> = sqlx::query_as(
        "SELECT p.ord, o.state, EXISTS (SELECT 1 FROM tier_job j WHERE j.tenant_id = $1 \
             AND j.job_id = o.job_id AND j.state IN ('queued', 'running')) \
         FROM pg_temp.alto_plan p \
         LEFT JOIN tier_object o ON o.tenant_id = $1 AND o.share_id = p.share_id \
             AND o.path_key = p.path_key \
         ORDER BY p.ord",
    )
    .bind(tenant.0)
    .fetch_all(&mut *tx)
    .await
    .map_err(db_err)?;
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); plan.jobs.len()];
    let mut from: Vec<Option<&'static str>> = vec![None; n];
    // Left PLANNED by a job that ended (or by none): moved into this plan's job.
    let mut requeue = vec![false; n];
    // The state of each listed file as this commit goes along, and whether a live job holds it.
    let mut now: HashMap<(i64, &str), (Option<TierState>, bool)> = HashMap::with_capacity(n);
    for (ord, state, live) in current {
        let ord = ord as usize;
        let state: Option<TierState> = state.as_deref().map(str::parse).transpose()?;
        let st = now.entry((sids[ord], keys[ord])).or_insert((state, live));
        match *st {
            (Some(TierState::Planned), true) => out.already_planned += 1,
            (Some(TierState::Planned), false) => {
                from[ord] = Some(TierState::Planned.as_str());
                requeue[ord] = true;
                members[jobs[ord] as usize].push(ord);
                *st = (Some(TierState::Planned), true);
            }
            (Some(TierState::Stubbed), _) => out.already_stubbed += 1,
            (prev, _) => {
                from[ord] = prev.map(TierState::as_str);
                members[jobs[ord] as usize].push(ord);
                *st = (Some(TierState::Planned), true);
            }
        }
    }

    // The jobs that got files, in plan order (ids increase in that order).
    let specs: Vec<usize> = (0..plan.jobs.len())
        .filter(|j| !members[*j].is_empty())
        .collect();
    let mut job_id = vec![0i64; plan.jobs.len()];
    if !specs.is_empty() {
        let pick = |f: &dyn Fn(&alto_core::store::tiering::PlannedJobSpec) -> i64| -> Vec<i64> {
            specs.iter().map(|&j| f(&plan.jobs[j])).collect()
        };
        let mut ids: Vec<i64> = sqlx::query_scalar(
            "INSERT INTO tier_job (tenant_id, rule, target, priority, files, bytes, bytes_saved, \
                 seconds, created_utc, updated_utc) \
             SELECT $1, u.rule, u.target, u.priority, u.files, u.bytes, u.saved, u.seconds, $9, \
                 now() \
             FROM unnest($2::text[], $3::text[], $4::int8[], $5::int8[], $6::int8[], $7::int8[], \
                 $8::float8[]) WITH ORDINALITY \
                 AS u(rule, target, priority, files, bytes, saved, seconds, ord) \
             ORDER BY u.ord \
             RETURNING job_id",
        )
        .bind(tenant.0)
        .bind(
            specs
                .iter()
                .map(|&j| plan.jobs[j].rule.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(
            specs
                .iter()
                .map(|&j| plan.jobs[j].target.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(pick(&|s| s.priority))
        .bind(pick(&|s| s.estimate.files as i64))
        .bind(pick(&|s| s.estimate.bytes as i64))
        .bind(pick(&|s| s.estimate.bytes_saved as i64))
        .bind(
            specs
                .iter()
                .map(|&j| plan.jobs[j].estimate.seconds)
                .collect::<Vec<_>>(),
        )
        .bind(at)
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?;
        ids.sort_unstable();
        // Each job's `job.create` event, before its files' events (its children).
        sqlx::query(
            "WITH ev AS ( \
                 INSERT INTO audit_event (tenant_id, event_utc, kind, subject, detail) \
                 SELECT $1, $2, 'job.create', j.job_id::text, jsonb_build_object('rule', j.rule, \
                     'target', j.target, 'files', j.files, 'bytes', j.bytes) \
                 FROM tier_job j WHERE j.tenant_id = $1 AND j.job_id = ANY($3) \
                 ORDER BY j.job_id \
                 RETURNING event_id, event_date, subject) \
             UPDATE tier_job j SET audit_event_id = ev.event_id, audit_event_date = ev.event_date \
             FROM ev WHERE j.tenant_id = $1 AND j.job_id = ev.subject::bigint",
        )
        .bind(tenant.0)
        .bind(PgTime(plan.at))
        .bind(&ids)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        for (&j, id) in specs.iter().zip(ids) {
            job_id[j] = id;
        }
        out.jobs = specs.len() as u64;
    }

    // The planned files: new objects, re-planned ones (a new incarnation), re-queued ones, and
    // their events.
    let mut all: Vec<usize> = members.iter().flatten().copied().collect();
    all.sort_unstable();
    let (requeued, planned): (Vec<usize>, Vec<usize>) =
        all.iter().copied().partition(|&o| requeue[o]);
    out.planned = planned.len() as u64;
    out.requeued = requeued.len() as u64;
    if !requeued.is_empty() {
        let r_ords: Vec<i64> = requeued.iter().map(|&o| o as i64).collect();
        let r_jobs: Vec<i64> = requeued.iter().map(|&o| job_id[jobs[o] as usize]).collect();
        let moved = sqlx::query(
            "UPDATE tier_object o SET version = o.version + 1, planned_by = p.rule, \
                 target_uri = p.target_uri, planned_utc = $2, job_id = m.job_id \
             FROM unnest($3::int8[], $4::int8[]) AS m(ord, job_id) \
             JOIN pg_temp.alto_plan p ON p.ord = m.ord \
             WHERE o.tenant_id = $1 AND o.share_id = p.share_id AND o.path_key = p.path_key \
                 AND o.state = 'PLANNED'",
        )
        .bind(tenant.0)
        .bind(at)
        .bind(&r_ords)
        .bind(&r_jobs)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?
        .rows_affected();
        if moved != requeued.len() as u64 {
            return Err(Error::conflict(format!(
                "{} of {} re-queued tier objects changed during the commit",
                requeued.len() as u64 - moved.min(requeued.len() as u64),
                requeued.len()
            )));
        }
    }
    if !all.is_empty() {
        let a_ords: Vec<i64> = all.iter().map(|&o| o as i64).collect();
        let a_from: Vec<Option<&str>> = all.iter().map(|&o| from[o]).collect();
        let a_kind: Vec<&str> = all
            .iter()
            .map(|&o| {
                if requeue[o] {
                    "tier.requeue"
                } else {
                    "tier.plan"
                }
            })
            .collect();
        let a_jobs: Vec<i64> = all.iter().map(|&o| job_id[jobs[o] as usize]).collect();
        sqlx::query(
            "INSERT INTO audit_event (tenant_id, event_utc, kind, subject, detail, \
                 parent_event_id, parent_event_date) \
             SELECT $1, $2, m.kind, p.path_key, \
                 jsonb_build_object('share', s.name, 'from', m.prev, 'to', 'PLANNED'), \
                 j.audit_event_id, j.audit_event_date \
             FROM unnest($3::int8[], $4::text[], $5::text[], $6::int8[]) AS m(ord, prev, kind, job) \
             JOIN pg_temp.alto_plan p ON p.ord = m.ord \
             JOIN share s ON s.tenant_id = $1 AND s.share_id = p.share_id \
             LEFT JOIN tier_job j ON j.tenant_id = $1 AND j.job_id = m.job \
             ORDER BY m.ord",
        )
        .bind(tenant.0)
        .bind(at)
        .bind(&a_ords)
        .bind(&a_from)
        .bind(&a_kind)
        .bind(&a_jobs)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    }
    if !planned.is_empty() {
        let p_ords: Vec<i64> = planned.iter().map(|&o| o as i64).collect();
        let p_jobs: Vec<i64> = planned.iter().map(|&o| job_id[jobs[o] as usize]).collect();
        let p_new: Vec<bool> = planned.iter().map(|&o| from[o].is_none()).collect();
        sqlx::query(
            "INSERT INTO tier_object (tenant_id, share_id, path_key, full_path, state, version, \
                 incarnation, target_uri, planned_by, planned_utc, job_id) \
             SELECT $1, p.share_id, p.path_key, fc.full_path, 'PLANNED', 1, 1, p.target_uri, \
                 p.rule, $2, m.job_id \
             FROM unnest($3::int8[], $4::int8[], $5::bool[]) AS m(ord, job_id, new) \
             JOIN pg_temp.alto_plan p ON p.ord = m.ord \
             JOIN file_current fc ON fc.tenant_id = $1 AND fc.share_id = p.share_id \
                 AND fc.path_key = p.path_key \
             WHERE m.new \
             ORDER BY m.ord",
        )
        .bind(tenant.0)
        .bind(at)
        .bind(&p_ords)
        .bind(&p_jobs)
        .bind(&p_new)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        if p_new.iter().any(|n| !n) {
            // A new incarnation: nothing of it is stored yet.
            sqlx::query(concat!(
                "UPDATE tier_object o SET state = 'PLANNED', version = o.version + 1, \
                     incarnation = o.incarnation + 1, planned_by = p.rule, \
                     target_uri = p.target_uri, planned_utc = $2, acted_utc = NULL, \
                     last_accessed_utc = NULL, access_count = 0, job_id = m.job_id, ",
                clear_stored!(),
                " FROM unnest($3::int8[], $4::int8[], $5::bool[]) AS m(ord, job_id, new) \
                 JOIN pg_temp.alto_plan p ON p.ord = m.ord \
                 WHERE NOT m.new AND o.tenant_id = $1 AND o.share_id = p.share_id \
                     AND o.path_key = p.path_key"
            ))
            .bind(tenant.0)
            .bind(at)
            .bind(&p_ords)
            .bind(&p_jobs)
            .bind(&p_new)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        }
    }
    tx.commit().await.map_err(db_err)?;
    Ok(out)
}

fn no_such_file(share: &str, key: &str) -> Error {
    Error::not_found(format!(
        "cannot plan {key:?} in share {share:?}: no such file"
    ))
}

/// Claim the next claimable job, in one statement: the first queued and due, or running with an
/// expired lease, by (priority, id), skipping jobs another transaction holds; unless that is a
/// job whose last attempt's lease expired (the caller fails it). Returns no row when there is
/// nothing to claim; `picked_*` and, when claimed, the job. $1 tenant, $2 now, $3 worker,
/// $4 lease end, $5 the most attempts.
const CLAIM: &str = concat!(
    "WITH q AS ( \
         SELECT job_id AS c_id, priority AS c_priority, state AS c_state, \
             attempts AS c_attempts FROM tier_job \
         WHERE tenant_id = $1 AND state = 'queued' AND (not_before IS NULL OR not_before <= $2) \
         ORDER BY priority, job_id LIMIT 1 FOR UPDATE SKIP LOCKED), \
     r AS ( \
         SELECT job_id AS c_id, priority AS c_priority, state AS c_state, \
             attempts AS c_attempts FROM tier_job \
         WHERE tenant_id = $1 AND state = 'running' AND lease_until < $2 \
         ORDER BY priority, job_id LIMIT 1 FOR UPDATE SKIP LOCKED), \
     c AS ( \
         SELECT * FROM (SELECT * FROM q UNION ALL SELECT * FROM r) x \
         ORDER BY c_priority, c_id LIMIT 1), \
     u AS ( \
         UPDATE tier_job j SET state = 'running', attempts = j.attempts + 1, lease_owner = $3, \
             lease_until = $4, token = j.token + 1, updated_utc = now() \
         FROM c WHERE j.tenant_id = $1 AND j.job_id = c.c_id \
             AND NOT (c.c_state = 'running' AND c.c_attempts >= $5) \
         RETURNING ",
    job_columns!(),
    ") \
     SELECT c.c_id AS picked_id, c.c_attempts AS picked_attempts, u.* \
     FROM c LEFT JOIN u ON true"
);

pub(crate) async fn claim_job(
    store: &PgStore,
    tenant: TenantId,
    req: &ClaimRequest,
) -> Result<Option<Lease>> {
    let mut tx = store.begin(tenant).await?;
    let now = PgTime(req.now);
    loop {
        let row = sqlx::query(CLAIM)
            .bind(tenant.0)
            .bind(now)
            .bind(&req.worker)
            .bind(PgTime(req.now.saturating_add(req.lease)))
            .bind(MAX_ATTEMPTS as i32)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?;
        let Some(row) = row else {
            // Nothing to claim; an unknown tenant is `NotFound`, as in the reference store.
            crate::tenant::settings(&mut tx, tenant).await?;
            tx.commit().await.map_err(db_err)?;
            return Ok(None);
        };
        let claimed: Option<i64> = row.try_get("job_id").map_err(db_err)?;
        if claimed.is_some() {
            let (job, token) = job_from(&row)?;
            tx.commit().await.map_err(db_err)?;
            return Ok(Some(Lease { job, token }));
        }
        // Its last attempt's lease expired: the job fails instead of being claimed again.
        let id: i64 = row.try_get("picked_id").map_err(db_err)?;
        let attempts: i32 = row.try_get("picked_attempts").map_err(db_err)?;
        sqlx::query(
            "UPDATE tier_job SET state = 'failed', last_error = $3, finished_utc = $4, \
                 lease_owner = NULL, token = token + 1, updated_utc = now() \
             WHERE tenant_id = $1 AND job_id = $2",
        )
        .bind(tenant.0)
        .bind(id)
        .bind(format!("lease expired on attempt {attempts}"))
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        release_job(&mut tx, tenant, id).await?;
    }
}

pub(crate) async fn renew_lease(
    store: &PgStore,
    tenant: TenantId,
    fence: Fence,
    until: Micros,
) -> Result<()> {
    let mut tx = store.begin(tenant).await?;
    let n = sqlx::query(
        "UPDATE tier_job SET lease_until = $4, updated_utc = now() \
         WHERE tenant_id = $1 AND job_id = $2 AND token = $3 AND state = 'running'",
    )
    .bind(tenant.0)
    .bind(fence.job)
    .bind(fence.token)
    .bind(PgTime(until))
    .execute(&mut *tx)
    .await
    .map_err(db_err)?
    .rows_affected();
    if n == 0 {
        return Err(fence_error(&mut tx, tenant, fence).await);
    }
    tx.commit().await.map_err(db_err)?;
    Ok(())
}

pub(crate) async fn expired_planned(
    store: &PgStore,
    tenant: TenantId,
    before: Micros,
    limit: usize,
) -> Result<Vec<TierObject>> {
    let mut tx = store.begin(tenant).await?;
    let rows = sqlx::query(concat!(
        "SELECT s.name AS share_name, ",
        object_columns!(),
        " FROM tier_object o JOIN share s ON s.tenant_id = o.tenant_id \
             AND s.share_id = o.share_id \
         WHERE o.tenant_id = $1 AND o.state = 'PLANNED' AND o.planned_utc < $2 \
           AND NOT EXISTS (SELECT 1 FROM tier_job j WHERE j.tenant_id = $1 \
               AND j.job_id = o.job_id AND j.state = 'running') \
         ORDER BY o.planned_utc, o.tier_id LIMIT $3"
    ))
    .bind(tenant.0)
    .bind(PgTime(before))
    .bind(i64::try_from(limit).unwrap_or(i64::MAX))
    .fetch_all(&mut *tx)
    .await
    .map_err(db_err)?;
    tx.commit().await.map_err(db_err)?;
    rows.iter()
        .map(|r| {
            let share: String = r.try_get("share_name").map_err(db_err)?;
            object(r, &share)
        })
        .collect()
}

/// The REHYDRATED (`$2` cutoff) and DELETED (`$3`) records a sweep removes; NULL keeps the state.
const PRUNE_OBJECTS_WHERE: &str = "FROM tier_object WHERE tenant_id = $1 AND ( \
     (state = 'REHYDRATED' AND coalesce(acted_utc, planned_utc) < $2) \
     OR (state = 'DELETED' AND coalesce(acted_utc, planned_utc) < $3))";

/// Finished jobs that finished before `$2` and hold no file.
/// Snapshot rows of the scans past each share's newest `$2`.
const PRUNE_HISTORY_WHERE: &str = "FROM file WHERE tenant_id = $1 AND scan_id IN \
     (SELECT scan_id FROM (SELECT scan_id, row_number() OVER \
         (PARTITION BY share_id ORDER BY scan_id DESC) AS n FROM scan WHERE tenant_id = $1) s \
      WHERE n > $2)";

const PRUNE_JOBS_WHERE: &str = "FROM tier_job j WHERE j.tenant_id = $1 \
     AND j.state IN ('done', 'failed', 'cancelled') AND j.finished_utc < $2 \
     AND NOT EXISTS (SELECT 1 FROM tier_object o WHERE o.tenant_id = $1 \
         AND o.job_id = j.job_id)";

/// Feed bookkeeping recorded before `$2`: the applied-event ranges (the feeds stage a batch in
/// a temporary table that commits with it, so nothing else is kept).
const PRUNE_FEED: [(&str, &str); 1] = [("feed_event_range", "processed_utc")];

pub(crate) async fn prune(
    store: &PgStore,
    tenant: TenantId,
    req: &PruneRequest,
) -> Result<PruneCounts> {
    let mut tx = store.begin(tenant).await?;
    crate::tenant::settings(&mut tx, tenant).await?;
    let mut counts = PruneCounts::default();
    let (verb, dry) = if req.dry_run {
        ("SELECT state, count(*)", true)
    } else {
        ("DELETE", false)
    };
    let time = |t: Option<Micros>| t.map(PgTime);
    if dry {
        let rows: Vec<(String, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{verb} {PRUNE_OBJECTS_WHERE} GROUP BY state"
        )))
        .bind(tenant.0)
        .bind(time(req.rehydrated_before))
        .bind(time(req.deleted_before))
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?;
        for (state, n) in rows {
            match state.as_str() {
                "REHYDRATED" => counts.rehydrated = n as u64,
                _ => counts.deleted = n as u64,
            }
        }
    } else {
        let rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "DELETE {PRUNE_OBJECTS_WHERE} RETURNING state"
        )))
        .bind(tenant.0)
        .bind(time(req.rehydrated_before))
        .bind(time(req.deleted_before))
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?;
        counts.rehydrated = rows.iter().filter(|s| *s == "REHYDRATED").count() as u64;
        counts.deleted = rows.len() as u64 - counts.rehydrated;
    }
    if let Some(before) = req.jobs_before {
        let n: i64 =
            sqlx::query_scalar(sqlx::AssertSqlSafe(count_or_delete(dry, PRUNE_JOBS_WHERE)))
                .bind(tenant.0)
                .bind(PgTime(before))
                .fetch_one(&mut *tx)
                .await
                .map_err(db_err)?;
        counts.jobs = n as u64;
    }
    if let Some(before) = req.feed_before {
        for (table, column) in PRUNE_FEED {
            let cond = format!("FROM {table} WHERE tenant_id = $1 AND {column} < $2");
            let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(count_or_delete(dry, &cond)))
                .bind(tenant.0)
                .bind(PgTime(before))
                .fetch_one(&mut *tx)
                .await
                .map_err(db_err)?;
            counts.feed_events += n as u64;
        }
    }
    if let Some(keep) = req.history_scans {
        let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(count_or_delete(
            dry,
            PRUNE_HISTORY_WHERE,
        )))
        .bind(tenant.0)
        .bind(i64::from(keep))
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        counts.snapshot_rows = n as u64;
    }
    tx.commit().await.map_err(db_err)?;
    Ok(counts)
}

/// The statement that counts the rows of `cond` (`FROM … WHERE …`), or, not `dry`, deletes them
/// and counts what it deleted.
fn count_or_delete(dry: bool, cond: &str) -> String {
    if dry {
        format!("SELECT count(*) {cond}")
    } else {
        format!("WITH d AS (DELETE {cond} RETURNING 1) SELECT count(*) FROM d")
    }
}

pub(crate) async fn job_objects(
    store: &PgStore,
    tenant: TenantId,
    job: i64,
) -> Result<Vec<TierObject>> {
    let mut tx = store.begin(tenant).await?;
    let rows = sqlx::query(concat!(
        "SELECT s.name AS share_name, ",
        object_columns!(),
        " FROM tier_object o JOIN share s ON s.tenant_id = o.tenant_id \
             AND s.share_id = o.share_id \
         WHERE o.tenant_id = $1 AND o.job_id = $2 ORDER BY s.name, o.path_key"
    ))
    .bind(tenant.0)
    .bind(job)
    .fetch_all(&mut *tx)
    .await
    .map_err(db_err)?;
    tx.commit().await.map_err(db_err)?;
    rows.iter()
        .map(|r| {
            let share: String = r.try_get("share_name").map_err(db_err)?;
            object(r, &share)
        })
        .collect()
}

pub(crate) async fn transition_fenced(
    store: &PgStore,
    tenant: TenantId,
    fence: Fence,
    req: &TransitionRequest,
) -> Result<Option<TierObject>> {
    let mut tx = store.begin(tenant).await?;
    // Hold the job as it is (a claim or finish waits) while the file changes.
    let held: Option<Option<i64>> = sqlx::query_scalar(
        "SELECT audit_event_id FROM tier_job WHERE tenant_id = $1 AND job_id = $2 \
             AND token = $3 AND state = 'running' FOR SHARE",
    )
    .bind(tenant.0)
    .bind(fence.job)
    .bind(fence.token)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_err)?;
    let Some(parent) = held else {
        return Err(fence_error(&mut tx, tenant, fence).await);
    };
    let next = crate::tier::transition_under(&mut tx, tenant, req, parent).await?;
    tx.commit().await.map_err(db_err)?;
    Ok(next)
}

pub(crate) async fn finish_job(
    store: &PgStore,
    tenant: TenantId,
    fence: Fence,
    outcome: &JobOutcome,
    now: Micros,
) -> Result<Job> {
    let mut tx = store.begin(tenant).await?;
    let error = match outcome {
        JobOutcome::Done {
            stubbed,
            skipped,
            failed,
            bytes,
        } => {
            // One statement: the fenced update and its audit event.
            let detail = serde_json::json!({
                "stubbed": stubbed, "skipped": skipped, "failed": failed, "bytes": bytes
            });
            let row = sqlx::query(concat!(
                "WITH j AS ( \
                 UPDATE tier_job SET state = 'done', lease_owner = NULL, lease_until = NULL, \
                     token = token + 1, updated_utc = now(), finished_utc = $4, \
                     files_stubbed = $5, files_skipped = $6, files_failed = $7, bytes_moved = $8 \
                 WHERE tenant_id = $1 AND job_id = $2 AND token = $3 AND state = 'running' \
                 RETURNING ",
                job_columns!(),
                "), a AS ( \
                 INSERT INTO audit_event (tenant_id, event_utc, kind, subject, detail, \
                     parent_event_id, parent_event_date) \
                 SELECT $1, $4, 'job.done', j.job_id::text, $9, j.audit_event_id, \
                     j.audit_event_date FROM j) \
             SELECT * FROM j"
            ))
            .bind(tenant.0)
            .bind(fence.job)
            .bind(fence.token)
            .bind(PgTime(now))
            .bind(*stubbed as i64)
            .bind(*skipped as i64)
            .bind(*failed as i64)
            .bind(*bytes as i64)
            .bind(sqlx::types::Json(&detail))
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?;
            let Some(row) = row else {
                return Err(fence_error(&mut tx, tenant, fence).await);
            };
            let (job, _) = job_from(&row)?;
            release_job(&mut tx, tenant, fence.job).await?;
            tx.commit().await.map_err(db_err)?;
            return Ok(job);
        }
        JobOutcome::Failed { error } => error,
    };
    let row: Option<(i32, i64, String)> = sqlx::query_as(
        "SELECT attempts, token, state FROM tier_job WHERE tenant_id = $1 AND job_id = $2 \
         FOR UPDATE",
    )
    .bind(tenant.0)
    .bind(fence.job)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_err)?;
    let Some((attempts, token, state)) = row else {
        return Err(no_job(fence.job));
    };
    if token != fence.token || state != JobState::Running.as_str() {
        return Err(lost_lease(fence));
    }
    let attempts = attempts.max(0) as u32;
    // Queued again after the backoff, or failed for good.
    let (state, not_before, kind, detail) = match next_attempt(attempts, now) {
        Some(at) => (
            JobState::Queued,
            Some(PgTime(at)),
            "job.retry",
            serde_json::json!({"error": error, "attempt": attempts, "not_before": at}),
        ),
        None => (
            JobState::Failed,
            None,
            "job.failed",
            serde_json::json!({"error": error, "attempts": attempts}),
        ),
    };
    let finished = (state == JobState::Failed).then_some(PgTime(now));
    let row = sqlx::query(concat!(
        "UPDATE tier_job SET state = $3, lease_owner = NULL, lease_until = NULL, \
             token = token + 1, updated_utc = now(), not_before = coalesce($4, not_before), \
             last_error = $5, finished_utc = $6 \
         WHERE tenant_id = $1 AND job_id = $2 RETURNING ",
        job_columns!()
    ))
    .bind(tenant.0)
    .bind(fence.job)
    .bind(state.as_str())
    .bind(not_before)
    .bind(error)
    .bind(finished)
    .fetch_one(&mut *tx)
    .await
    .map_err(db_err)?;
    let (job, _) = job_from(&row)?;
    let event = NewAuditEvent {
        kind: kind.into(),
        subject: fence.job.to_string(),
        detail,
        parent: job.event,
    };
    audit::insert(&mut tx, tenant, &event, Some(now)).await?;
    if state == JobState::Failed {
        release_job(&mut tx, tenant, fence.job).await?;
    }
    tx.commit().await.map_err(db_err)?;
    Ok(job)
}

pub(crate) async fn cancel_job(
    store: &PgStore,
    tenant: TenantId,
    job: i64,
    now: Micros,
) -> Result<Job> {
    let mut tx = store.begin(tenant).await?;
    let state: Option<String> = sqlx::query_scalar(
        "SELECT state FROM tier_job WHERE tenant_id = $1 AND job_id = $2 FOR UPDATE",
    )
    .bind(tenant.0)
    .bind(job)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_err)?;
    let state = state.ok_or_else(|| no_job(job))?;
    if state != JobState::Queued.as_str() && state != JobState::Running.as_str() {
        return Err(Error::new(
            ErrorKind::InvalidTransition,
            format!("cannot cancel job {job}: it is {state}"),
        ));
    }
    let row = sqlx::query(concat!(
        "UPDATE tier_job SET state = 'cancelled', finished_utc = $3, lease_owner = NULL, \
             lease_until = NULL, token = token + 1, updated_utc = now() \
         WHERE tenant_id = $1 AND job_id = $2 RETURNING ",
        job_columns!()
    ))
    .bind(tenant.0)
    .bind(job)
    .bind(PgTime(now))
    .fetch_one(&mut *tx)
    .await
    .map_err(db_err)?;
    let (cancelled, _) = job_from(&row)?;
    withdraw_planned_of(&mut tx, tenant, job, now).await?;
    let event = NewAuditEvent {
        kind: "job.cancel".into(),
        subject: job.to_string(),
        detail: serde_json::json!({}),
        parent: cancelled.event,
    };
    audit::insert(&mut tx, tenant, &event, Some(now)).await?;
    tx.commit().await.map_err(db_err)?;
    Ok(cancelled)
}

pub(crate) async fn jobs(store: &PgStore, tenant: TenantId, query: &JobQuery) -> Result<Page<Job>> {
    let limit = if query.limit == 0 { 1000 } else { query.limit };
    let mut tx = store.begin(tenant).await?;
    let rows = sqlx::query(concat!(
        "SELECT ",
        job_columns!(),
        " FROM tier_job WHERE tenant_id = $1 AND ($2::text IS NULL OR state = $2::text) \
           AND ($3::int8 IS NULL OR job_id > $3::int8) \
         ORDER BY job_id LIMIT $4"
    ))
    .bind(tenant.0)
    .bind(query.state.map(JobState::as_str))
    .bind(query.after)
    .bind(i64::try_from(limit).unwrap_or(i64::MAX).saturating_add(1))
    .fetch_all(&mut *tx)
    .await
    .map_err(db_err)?;
    tx.commit().await.map_err(db_err)?;
    let mut items = rows
        .iter()
        .map(|r| job_from(r).map(|(j, _)| j))
        .collect::<Result<Vec<_>>>()?;
    let next = if items.len() > limit {
        items.truncate(limit);
        items.last().map(|j| j.id.to_string())
    } else {
        None
    };
    Ok(Page { items, next })
}
