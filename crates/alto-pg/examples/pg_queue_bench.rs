//! Job-queue benchmark: claiming and completing empty jobs with several workers, each with a
//! connection pool of its own (as separate processes would have), in a fresh database of the
//! server `DATABASE_URL` names.
//!
//! ```text
//! DATABASE_URL=postgres://postgres@127.0.0.1/postgres \
//!   cargo run --release -p alto-pg --example pg_queue_bench -- [JOBS] [WORKERS]
//! ```
//!
//! Commits one plan of JOBS jobs (default 10,000) of one file each (files that need not exist:
//! nothing is tiered), then WORKERS workers (default 4) loop `claim_job` → `finish_job(Done)`
//! until the queue is empty. A finished job writes `job.done` and leaves its file (not stubbed
//! here) PLANNED and linked to it for the next plan to re-queue, so each job is two short
//! transactions and the work a real job's bookkeeping costs. Prints the commit time, jobs/s, and
//! claim and finish latencies. (Measurements before re-queueing, in ADR 0004, also withdrew each
//! file's plan with a `tier.withdraw` event in the finish.)

mod support;

use alto_core::Store;
use alto_core::store::tiering::{
    ClaimRequest, Fence, JobOutcome, JobQuery, PlanCommit, PlannedFile, PlannedJobSpec,
};
use alto_core::store::{IngestChunk, ScanKind, ScanSpec, ShareSpec};
use alto_core::time::now_micros;
use alto_core::types::{Estimate, FileEntry, JobState, ShareKind, TenantSettings};
use alto_pg::PgStore;
use sqlx::{Connection, Executor, PgConnection};
use std::time::{Duration, Instant};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), BoxError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let jobs: usize = args.first().map_or(Ok(10_000), |a| a.parse())?;
    let workers: usize = args.get(1).map_or(Ok(4), |a| a.parse())?;
    let admin = std::env::var("DATABASE_URL")
        .map_err(|_| "set DATABASE_URL (or run scripts/pg-queue-bench.sh, which finds a server)")?;
    let db = format!("alto_queue_bench_{}", std::process::id());
    let owner_url = fresh_database(&admin, &db).await?;
    alto_pg::migrate(&owner_url).await?;
    // Run as a runtime login, as a deployment does (connect refuses the owner).
    let login = support::RuntimeLogin::create(&owner_url).await?;
    let url = login.url.clone();
    let store = PgStore::connect(&url).await?;
    let t = store
        .create_tenant("bench", &TenantSettings::default())
        .await?;
    store
        .ensure_share(t.id, &ShareSpec::new("data", ShareKind::Posix))
        .await?;
    let scan = store
        .begin_scan(t.id, &ScanSpec::new("data", ScanKind::Full))
        .await?;
    let entries = (0..jobs)
        .map(|i| FileEntry {
            path: format!("/bench/d{}/f{i}", i % 100),
            size: 1000,
            modified: Some(1_600_000_000_000_000),
            accessed: Some(1_600_000_000_000_000),
            ..Default::default()
        })
        .collect();
    store
        .ingest_chunk(
            t.id,
            scan.id,
            &IngestChunk {
                id: "0".into(),
                entries,
            },
        )
        .await?;
    store.finish_scan(t.id, scan.id).await?;
    let q = store.tiering();
    let plan = PlanCommit {
        at: now_micros(),
        jobs: (0..jobs)
            .map(|i| PlannedJobSpec {
                rule: "bench".into(),
                target: "file:///tier/".into(),
                priority: (i % 3) as i64,
                estimate: Estimate {
                    files: 1,
                    bytes: 1000,
                    bytes_saved: 1000,
                    seconds: 0.01,
                },
                files: vec![PlannedFile {
                    share: "data".into(),
                    path_key: format!("/bench/d{}/f{i}", i % 100),
                    target_uri: format!("file:///tier/bench/d{}/f{i}", i % 100),
                }],
            })
            .collect(),
    };
    let started = Instant::now();
    let out = q.commit_plan(t.id, &plan).await?;
    let commit_secs = started.elapsed().as_secs_f64();
    println!(
        "commit_plan: {} jobs, {} files in {commit_secs:.2} s (one transaction)",
        out.jobs, out.planned
    );
    assert_eq!(out.jobs as usize, jobs);

    let started = Instant::now();
    let mut handles = Vec::new();
    for w in 0..workers {
        let url = url.clone();
        let tenant = t.id;
        handles.push(tokio::spawn(async move {
            let store = PgStore::connect(&url).await?;
            let q = store.tiering();
            let mut claims = Vec::new();
            let mut finishes = Vec::new();
            loop {
                let t0 = Instant::now();
                let req = ClaimRequest {
                    worker: format!("w{w}"),
                    lease: 60_000_000,
                    now: now_micros(),
                };
                let Some(lease) = q.claim_job(tenant, &req).await? else {
                    break;
                };
                claims.push(t0.elapsed());
                let t1 = Instant::now();
                let fence = Fence {
                    job: lease.job.id,
                    token: lease.token,
                };
                let done = JobOutcome::Done {
                    stubbed: 0,
                    skipped: 0,
                    failed: 0,
                    bytes: 0,
                };
                q.finish_job(tenant, fence, &done, now_micros()).await?;
                finishes.push(t1.elapsed());
            }
            store.pool().close().await;
            Ok::<_, BoxError>((claims, finishes))
        }));
    }
    let mut claims = Vec::new();
    let mut finishes = Vec::new();
    let mut per_worker = Vec::new();
    for h in handles {
        let (c, f) = h.await??;
        per_worker.push(c.len());
        claims.extend(c);
        finishes.extend(f);
    }
    let secs = started.elapsed().as_secs_f64();
    let done = count_done(&store, t.id).await?;
    assert_eq!(done, jobs, "every job done exactly once");
    println!(
        "{workers} workers: {jobs} jobs claimed and finished in {secs:.2} s = {:.0} jobs/s \
         (per worker {per_worker:?})",
        jobs as f64 / secs
    );
    println!(
        "claim_job  latency: p50 {:.2} ms, p99 {:.2} ms",
        pct(&mut claims, 0.50),
        pct(&mut claims, 0.99)
    );
    println!(
        "finish_job latency: p50 {:.2} ms, p99 {:.2} ms",
        pct(&mut finishes, 0.50),
        pct(&mut finishes, 0.99)
    );
    store.pool().close().await;
    login.drop(&owner_url).await?;
    drop_database(&admin, &db).await?;
    Ok(())
}

async fn count_done(store: &PgStore, tenant: alto_core::TenantId) -> Result<usize, BoxError> {
    let q = store.tiering();
    let mut n = 0;
    let mut query = JobQuery {
        state: Some(JobState::Done),
        limit: 10_000,
        ..Default::default()
    };
    loop {
        let page = q.jobs(tenant, &query).await?;
        n += page.items.len();
        match page.next {
            Some(next) => query.after = Some(next.parse()?),
            None => return Ok(n),
        }
    }
}

fn pct(v: &mut [Duration], p: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_unstable();
    let i = ((v.len() - 1) as f64 * p).round() as usize;
    v[i].as_secs_f64() * 1000.0
}

async fn fresh_database(admin: &str, name: &str) -> Result<String, BoxError> {
    let mut conn = PgConnection::connect(admin).await?;
    conn.execute(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
    )))
    .await?;
    conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
        .await?;
    conn.close().await?;
    Ok(with_database(admin, name))
}

async fn drop_database(admin: &str, name: &str) -> Result<(), BoxError> {
    let mut conn = PgConnection::connect(admin).await?;
    conn.execute(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
    )))
    .await?;
    conn.close().await?;
    Ok(())
}

fn with_database(url: &str, db: &str) -> String {
    let scheme_end = url.find("://").map_or(0, |i| i + 3);
    let (base, query) = url.split_at(url.find('?').unwrap_or(url.len()));
    let host_end = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    format!("{}/{db}{query}", &base[..host_end])
}
