//! Report benchmark: `alto report` over an inventory's files on PostgreSQL and on SQLite, beside
//! hand-written SQL over the same tables, in one run (`scripts/report-bench.sh` builds it and the
//! `alto` binary in release and runs it).
//!
//! ```text
//! DATABASE_URL=postgres://postgres@127.0.0.1/postgres ALTO_BIN=target/release/alto \
//!   cargo run --release -p alto --example report_bench -- bench-data/inv-1m.csv
//! ```
//!
//! Each store gets the inventory ingested into tenant `bench` (share `data`), the example rules'
//! plan committed at the generator's `now` (PLANNED files) and some planned files stubbed through
//! the lifecycle (STUBBED files). Then, in rounds that interleave them (one warm-up round first,
//! not counted), it times:
//! - `alto`: the SDK's `TenantHandle::report` (totals, the seven breakdowns with saved and
//!   planned per entry, the 20 largest and 20 oldest files), in this process;
//! - `cli`: the `alto report --format json` command (`ALTO_BIN`), a process of its own, end to
//!   end (start, connect, report, JSON out);
//! - `hand`: the same numbers by hand-written SQL, one `GROUP BY` statement per breakdown plus the
//!   two top-N queries, on one connection (on PostgreSQL as the same login, under row-level
//!   security, and with the settings alto's report takes: `jit` off, `work_mem` 256MB; once
//!   more with the server's own settings, printed apart);
//! - `floor`: one `count(*), sum(size_bytes)` over the tenant's files: a single scan, the least
//!   any report can cost.
//!
//! and prints each one's median and the ratios to `hand`. The hand-written totals and breakdowns
//! are checked against alto's. `--rounds N` (default 5), `--pg-only`, `--sqlite-only`,
//! `--stub N` (files stubbed, default 20,000), `--keep` (keep the PostgreSQL database and the
//! SQLite file, `alto_report_bench` and `bench-data/report-bench.db`) and `--reuse` (use them as
//! kept, skipping the set-up).

use alto::{Alto, ReportRequest, TenantHandle};
use alto_core::TierState;
use alto_core::lifecycle::Action;
use alto_core::report::{AGE_LABELS, Report, SIZE_BOUNDS, age_thresholds};
use alto_core::store::{FileQuery, TransitionRequest};
use alto_core::time::{Micros, parse_timestamp};
use sqlx::{Connection, Executor, PgConnection, Row};
use std::path::Path;
use std::time::{Duration, Instant};

type BoxError = Box<dyn std::error::Error>;

const DB: &str = "alto_report_bench";
const LOGIN: &str = "alto_report_bench";
const NOW: &str = "2025-11-01T00:00:00Z";

struct Args {
    inventory: String,
    rounds: usize,
    pg: bool,
    sqlite: bool,
    stub: usize,
    keep: bool,
    reuse: bool,
}

fn args() -> Result<Args, BoxError> {
    let mut a = Args {
        inventory: String::new(),
        rounds: 5,
        pg: true,
        sqlite: true,
        stub: 20_000,
        keep: false,
        reuse: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(s) = it.next() {
        match s.as_str() {
            "--rounds" => a.rounds = it.next().ok_or("--rounds N")?.parse()?,
            "--stub" => a.stub = it.next().ok_or("--stub N")?.parse()?,
            "--pg-only" => a.sqlite = false,
            "--sqlite-only" => a.pg = false,
            "--keep" => a.keep = true,
            "--reuse" => a.reuse = true,
            _ if !s.starts_with("--") => a.inventory = s,
            _ => return Err(format!("unknown option {s}").into()),
        }
    }
    if a.inventory.is_empty() {
        return Err(
            "usage: report_bench [--rounds N] [--stub N] [--pg-only|--sqlite-only] \
                    [--keep] [--reuse] INVENTORY.csv"
                .into(),
        );
    }
    Ok(a)
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let a = args()?;
    let now = parse_timestamp(NOW)?;
    if a.pg {
        let admin = std::env::var("DATABASE_URL").map_err(
            |_| "set DATABASE_URL (or run scripts/report-bench.sh, which finds a server)",
        )?;
        let owner = with_database(&admin, DB);
        let exists = database_exists(&admin, DB).await?;
        if !(a.reuse && exists) {
            recreate_database(&admin, DB).await?;
            alto::migrate(&owner).await?;
        }
        let _ = alto::login::drop(&owner, LOGIN).await;
        let password = format!("rb{:x}", std::process::id());
        alto::login::create(&owner, LOGIN, None, Some(&password)).await?;
        let url = with_user(&owner, LOGIN, &password);
        let result = bench_store("PostgreSQL", &url, &a, now, Some(&owner)).await;
        alto::login::drop(&owner, LOGIN).await?;
        if !a.keep {
            drop_database(&admin, DB).await?;
        }
        result?;
    }
    if a.sqlite {
        let file = Path::new("bench-data/report-bench.db");
        if !a.reuse {
            for ext in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{ext}", file.display()));
            }
        }
        let url = format!("sqlite://{}", file.display());
        let result = bench_store("SQLite", &url, &a, now, None).await;
        if !a.keep {
            for ext in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{ext}", file.display()));
            }
        }
        result?;
    }
    Ok(())
}

/// Set the tenant up (unless it is there), then time the four ways. `owner`: the PostgreSQL
/// owner's URL, to refresh the planner's statistics after the set-up, as autovacuum would.
async fn bench_store(
    name: &str,
    url: &str,
    a: &Args,
    now: Micros,
    owner: Option<&str>,
) -> Result<(), BoxError> {
    let alto = alto::connect(url).await?;
    let t = match alto.tenant("bench").await {
        Ok(t) if a.reuse => t,
        _ => setup(&alto, a, now).await?,
    };
    if let Some(owner) = owner {
        let mut conn = PgConnection::connect(owner).await?;
        conn.execute("ANALYZE file_current; ANALYZE tier_object")
            .await?;
        conn.close().await?;
    }
    let req = ReportRequest::default().at(now);
    let report = t.report(&req).await?;
    println!(
        "\n## {name}: {} files, {} bytes; {} STUBBED ({} bytes), {} PLANNED ({} bytes)",
        report.totals.files,
        report.totals.bytes,
        report.totals.saved.files,
        report.totals.saved.bytes,
        report.totals.planned.files,
        report.totals.planned.bytes
    );
    let hand = Hand::new(url, t.record().id.0, now).await?;
    hand.check(&report).await?;
    let defaults = if url.starts_with("postgres") {
        let s = Instant::now();
        hand.run(true).await?;
        let d = s.elapsed().as_secs_f64();
        println!(
            "hand-written GROUP BYs with the server's settings (jit, work_mem): {d:.3}s, once"
        );
        Some(d)
    } else {
        None
    };
    let bin = std::env::var("ALTO_BIN").ok();
    let mut times: [Vec<Duration>; 4] = Default::default();
    for round in 0..=a.rounds {
        let mut took = [Duration::ZERO; 4];
        let s = Instant::now();
        t.report(&req).await?;
        took[0] = s.elapsed();
        if let Some(bin) = &bin {
            let s = Instant::now();
            let out = std::process::Command::new(bin)
                .args([
                    "report",
                    "--quiet",
                    "--tenant",
                    "bench",
                    "--now",
                    NOW,
                    "--format",
                    "json",
                    "-o",
                    "/dev/null",
                ])
                .env("ALTO_STORE", url)
                .output()?;
            took[1] = s.elapsed();
            if !out.status.success() {
                return Err(format!(
                    "alto report failed: {}",
                    String::from_utf8_lossy(&out.stderr)
                )
                .into());
            }
        }
        let s = Instant::now();
        hand.run(false).await?;
        took[2] = s.elapsed();
        let s = Instant::now();
        hand.floor().await?;
        took[3] = s.elapsed();
        if round > 0 {
            for (v, d) in times.iter_mut().zip(took) {
                v.push(d);
            }
        }
        println!(
            "round {round}{}: alto {:.3}s, cli {:.3}s, hand {:.3}s, floor {:.3}s",
            if round == 0 { " (warm-up)" } else { "" },
            took[0].as_secs_f64(),
            took[1].as_secs_f64(),
            took[2].as_secs_f64(),
            took[3].as_secs_f64()
        );
    }
    let med = |v: &mut Vec<Duration>| {
        v.sort();
        v.get(v.len() / 2)
            .copied()
            .unwrap_or_default()
            .as_secs_f64()
    };
    let [mut al, mut cl, mut ha, mut fl] = times;
    let (al, cl, ha, fl) = (med(&mut al), med(&mut cl), med(&mut ha), med(&mut fl));
    println!("{name}, median of {} rounds:", a.rounds);
    println!(
        "  alto report (SDK, in process)   {al:>7.3} s   {:.2}x hand",
        al / ha
    );
    if bin.is_some() {
        println!(
            "  alto report (CLI, JSON out)     {cl:>7.3} s   {:.2}x hand",
            cl / ha
        );
    }
    println!("  hand-written GROUP BYs          {ha:>7.3} s   1.00x");
    println!(
        "  one scan (count, sum)           {fl:>7.3} s   {:.2}x hand",
        fl / ha
    );
    if let Some(d) = defaults {
        println!(
            "  hand-written, server settings   {d:>7.3} s   {:.2}x hand (once)",
            d / ha
        );
    }
    Ok(())
}

/// Ingest, commit the example rules' plan, stub some planned files.
async fn setup(alto: &Alto, a: &Args, now: Micros) -> Result<TenantHandle, BoxError> {
    let t = alto
        .create_tenant("bench", &alto::TenantSettings::default())
        .await?;
    let s = Instant::now();
    let ing = t
        .ingest(
            "data",
            Path::new(&a.inventory),
            &alto::IngestRequest::default().full_scan(),
        )
        .await?;
    println!(
        "set-up: ingested {} files in {:.1}s",
        ing.accepted,
        s.elapsed().as_secs_f64()
    );
    let rules_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/rules.toml");
    let rules = alto::RuleSet::from_path(&rules_path)?;
    let s = Instant::now();
    let out = t
        .plan(&rules, &alto::PlanRequest::at(now).commit(true))
        .await?;
    println!(
        "set-up: planned {} files in {:.1}s",
        out.report.files_matched,
        s.elapsed().as_secs_f64()
    );
    let s = Instant::now();
    let store = alto.store();
    let mut q = FileQuery {
        state: Some(TierState::Planned),
        limit: 1000,
        ..FileQuery::default()
    };
    let mut stubbed = 0;
    'pages: while stubbed < a.stub {
        let page = store.files(t.record().id, &q).await?;
        for f in &page.items {
            if stubbed == a.stub {
                break 'pages;
            }
            let o = store
                .tier_object(t.record().id, &f.share, &f.path_key)
                .await?;
            let req = TransitionRequest {
                share: f.share.clone(),
                path_key: f.path_key.clone(),
                action: Action::Stub,
                expected: Some((o.state, o.version)),
                plan: None,
                stored: None,
                at: now,
            };
            store.transition(t.record().id, &req).await?;
            stubbed += 1;
        }
        match page.next {
            Some(n) => q.after = Some(n),
            None => break,
        }
    }
    println!(
        "set-up: stubbed {stubbed} files in {:.1}s",
        s.elapsed().as_secs_f64()
    );
    Ok(t)
}

/// The hand-written SQL: what a DBA would write for the same numbers, one statement each.
enum Hand {
    Pg {
        pool: sqlx::PgPool,
        tenant: i64,
        now: Micros,
    },
    Sqlite {
        pool: sqlx::SqlitePool,
        tenant: i64,
        now: Micros,
    },
}

/// PostgreSQL: per breakdown `GROUP BY` of the files joined to their tier objects, with the
/// saved and planned sums. `{k}` is the key expression.
const PG_SUMS: &str = "count(*), sum(fc.size_bytes)::bigint, \
     count(*) FILTER (WHERE t.state = 'STUBBED'), \
     coalesce(sum(fc.size_bytes) FILTER (WHERE t.state = 'STUBBED'), 0)::bigint, \
     count(*) FILTER (WHERE t.state = 'PLANNED'), \
     coalesce(sum(fc.size_bytes) FILTER (WHERE t.state = 'PLANNED'), 0)::bigint \
     FROM file_current fc LEFT JOIN tier_object t ON t.tenant_id = fc.tenant_id \
     AND t.share_id = fc.share_id AND t.path_key = fc.path_key \
     WHERE fc.tenant_id = $1 AND fc.missing_since IS NULL";

const PG_KEYS: [&str; 7] = [
    "t.state",
    "t.planned_by",
    "lower(fc.extension)",
    "fc.owner",
    "fc.share_id::text",
    "width_bucket(coalesce(fc.accessed_utc, fc.modified_utc), $2::timestamptz[])::text",
    "width_bucket(fc.size_bytes, $2::bigint[])::text",
];

const PG_TOP: [&str; 2] = [
    "SELECT fc.full_path, fc.size_bytes, t.state FROM file_current fc \
     LEFT JOIN tier_object t ON t.tenant_id = fc.tenant_id AND t.share_id = fc.share_id \
     AND t.path_key = fc.path_key WHERE fc.tenant_id = $1 AND fc.missing_since IS NULL \
     ORDER BY fc.size_bytes DESC LIMIT 20",
    "SELECT fc.full_path, fc.size_bytes, t.state FROM file_current fc \
     LEFT JOIN tier_object t ON t.tenant_id = fc.tenant_id AND t.share_id = fc.share_id \
     AND t.path_key = fc.path_key WHERE fc.tenant_id = $1 AND fc.missing_since IS NULL \
     AND coalesce(fc.accessed_utc, fc.modified_utc) IS NOT NULL \
     ORDER BY coalesce(fc.accessed_utc, fc.modified_utc) LIMIT 20",
];

const SQLITE_SUMS: &str = "count(*), sum(f.size_bytes), \
     count(*) FILTER (WHERE t.state = 'STUBBED'), \
     coalesce(sum(f.size_bytes) FILTER (WHERE t.state = 'STUBBED'), 0), \
     count(*) FILTER (WHERE t.state = 'PLANNED'), \
     coalesce(sum(f.size_bytes) FILTER (WHERE t.state = 'PLANNED'), 0) \
     FROM file_current f LEFT JOIN tier_object t ON t.file_current_id = f.file_current_id \
     WHERE f.tenant_id = ?1 AND f.missing_since_utc IS NULL";

const SQLITE_KEYS: [&str; 7] = [
    "t.state",
    "t.planned_by",
    "lower(f.file_extension)",
    "f.owner",
    "CAST(f.share_id AS TEXT)",
    "CAST(CASE WHEN coalesce(f.atime_us, f.mtime_us) IS NULL THEN NULL \
     WHEN coalesce(f.atime_us, f.mtime_us) < ?2 THEN 0 WHEN coalesce(f.atime_us, f.mtime_us) < ?3 THEN 1 \
     WHEN coalesce(f.atime_us, f.mtime_us) < ?4 THEN 2 WHEN coalesce(f.atime_us, f.mtime_us) < ?5 THEN 3 \
     WHEN coalesce(f.atime_us, f.mtime_us) < ?6 THEN 4 WHEN coalesce(f.atime_us, f.mtime_us) < ?7 THEN 5 \
     ELSE 6 END AS TEXT)",
    "CAST(CASE WHEN f.size_bytes < ?8 THEN 0 WHEN f.size_bytes < ?9 THEN 1 \
     WHEN f.size_bytes < ?10 THEN 2 WHEN f.size_bytes < ?11 THEN 3 WHEN f.size_bytes < ?12 THEN 4 \
     WHEN f.size_bytes < ?13 THEN 5 ELSE 6 END AS TEXT)",
];

const SQLITE_TOP: [&str; 2] = [
    "SELECT f.full_path, f.size_bytes, t.state FROM file_current f \
     LEFT JOIN tier_object t ON t.file_current_id = f.file_current_id \
     WHERE f.tenant_id = ?1 AND f.missing_since_utc IS NULL ORDER BY f.size_bytes DESC LIMIT 20",
    "SELECT f.full_path, f.size_bytes, t.state FROM file_current f \
     LEFT JOIN tier_object t ON t.file_current_id = f.file_current_id \
     WHERE f.tenant_id = ?1 AND f.missing_since_utc IS NULL \
     AND coalesce(f.atime_us, f.mtime_us) IS NOT NULL \
     ORDER BY coalesce(f.atime_us, f.mtime_us) LIMIT 20",
];

/// One breakdown's rows: key and six numbers.
type Rows = Vec<(Option<String>, [i64; 6])>;

impl Hand {
    async fn new(url: &str, tenant: i64, now: Micros) -> Result<Hand, BoxError> {
        Ok(if url.starts_with("postgres") {
            let pool = sqlx::postgres::PgPoolOptions::new()
                .max_connections(1)
                .connect(url)
                .await?;
            Hand::Pg { pool, tenant, now }
        } else {
            let file = url.trim_start_matches("sqlite://");
            let opts = sqlx::sqlite::SqliteConnectOptions::new()
                .filename(file)
                .read_only(true);
            let pool = sqlx::sqlite::SqlitePoolOptions::new()
                .max_connections(1)
                .connect_with(opts)
                .await?;
            Hand::Sqlite { pool, tenant, now }
        })
    }

    /// Every breakdown (in `alto_core::report::SECTIONS` order) and the two lists. On
    /// PostgreSQL with the settings alto's report takes (`jit` off, `work_mem` 256MB), or the
    /// server's own.
    async fn run(&self, server_defaults: bool) -> Result<Vec<Rows>, BoxError> {
        let mut out = Vec::new();
        match self {
            Hand::Pg { pool, tenant, now } => {
                let mut tx = pool.begin().await?;
                sqlx::query("SELECT set_config('app.tenant_id', $1, true)")
                    .bind(tenant.to_string())
                    .execute(&mut *tx)
                    .await?;
                if !server_defaults {
                    // The settings alto's report takes for its transaction.
                    sqlx::query(
                        "SELECT set_config('jit', 'off', true), \
                         set_config('work_mem', '256MB', true)",
                    )
                    .execute(&mut *tx)
                    .await?;
                }
                let ages: Vec<String> = age_thresholds(*now)
                    .iter()
                    .map(|t| alto_core::time::format_rfc3339(*t))
                    .collect();
                let sizes: Vec<i64> = SIZE_BOUNDS.iter().map(|&b| b as i64).collect();
                for k in PG_KEYS {
                    let sql = format!("SELECT {k}, {PG_SUMS} GROUP BY 1");
                    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(tenant);
                    if k.contains("timestamptz[]") {
                        q = q.bind(&ages);
                    }
                    if k.contains("bigint[]") {
                        q = q.bind(&sizes);
                    }
                    let rows = q.fetch_all(&mut *tx).await?;
                    out.push(
                        rows.iter()
                            .map(|r| {
                                let n = |i| r.get::<Option<i64>, _>(i).unwrap_or(0);
                                (r.get(0), [n(1), n(2), n(3), n(4), n(5), n(6)])
                            })
                            .collect(),
                    );
                }
                for sql in PG_TOP {
                    sqlx::query(sql).bind(tenant).fetch_all(&mut *tx).await?;
                }
                tx.commit().await?;
            }
            Hand::Sqlite { pool, tenant, now } => {
                let mut tx = pool.begin().await?;
                for k in SQLITE_KEYS {
                    let sql = format!("SELECT {k}, {SQLITE_SUMS} GROUP BY 1");
                    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(tenant);
                    if k.contains("?2") {
                        // `t < threshold`: the older side, youngest threshold last.
                        for t in age_thresholds(*now) {
                            q = q.bind(t);
                        }
                    }
                    if k.contains("?8") {
                        for _ in 0..6 {
                            q = q.bind(0i64);
                        }
                        for b in SIZE_BOUNDS {
                            q = q.bind(b as i64);
                        }
                    }
                    let rows = q.fetch_all(&mut *tx).await?;
                    out.push(
                        rows.iter()
                            .map(|r| {
                                let n = |i| r.get::<Option<i64>, _>(i).unwrap_or(0);
                                (r.get(0), [n(1), n(2), n(3), n(4), n(5), n(6)])
                            })
                            .collect(),
                    );
                }
                for sql in SQLITE_TOP {
                    sqlx::query(sql).bind(tenant).fetch_all(&mut *tx).await?;
                }
                tx.commit().await?;
            }
        }
        Ok(out)
    }

    /// One scan: count and sum of the tenant's files.
    async fn floor(&self) -> Result<(), BoxError> {
        match self {
            Hand::Pg { pool, tenant, .. } => {
                let mut tx = pool.begin().await?;
                sqlx::query("SELECT set_config('app.tenant_id', $1, true)")
                    .bind(tenant.to_string())
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(
                    "SELECT count(*), sum(size_bytes) FROM file_current WHERE tenant_id = $1",
                )
                .bind(tenant)
                .fetch_one(&mut *tx)
                .await?;
                tx.commit().await?;
            }
            Hand::Sqlite { pool, tenant, .. } => {
                sqlx::query(
                    "SELECT count(*), sum(size_bytes) FROM file_current WHERE tenant_id = ?1",
                )
                .bind(tenant)
                .fetch_one(pool)
                .await?;
            }
        }
        Ok(())
    }

    /// The hand-written numbers equal alto's (files and bytes of each breakdown's entries).
    async fn check(&self, r: &Report) -> Result<(), BoxError> {
        let hand = self.run(false).await?;
        let sum = |rows: &Rows, i: usize| rows.iter().map(|(_, n)| n[i]).sum::<i64>();
        for ((name, _, entries), rows) in r.sections().iter().zip(&hand) {
            let files: u64 = entries.iter().map(|e| e.tally.files).sum();
            let stubbed: u64 = entries.iter().map(|e| e.tally.stubbed_bytes).sum();
            if sum(rows, 0) as u64 != files || sum(rows, 3) as u64 != stubbed {
                return Err(format!("{name}: the hand-written SQL disagrees with alto").into());
            }
            // Buckets and keys agree too where they need no mapping.
            if *name == "size" || *name == "age" {
                let mut by: Vec<i64> = vec![0; entries.len()];
                for (k, n) in rows {
                    let i = match (name, k.as_deref().map(str::parse::<usize>)) {
                        (&"age", None) => AGE_LABELS.len() - 1,
                        (&"age", Some(Ok(c))) => 6 - c,
                        (_, Some(Ok(c))) => c,
                        _ => return Err(format!("{name}: bad key {k:?}").into()),
                    };
                    by[i] += n[0];
                }
                let alto: Vec<i64> = entries.iter().map(|e| e.tally.files as i64).collect();
                if by != alto {
                    return Err(format!("{name}: {by:?} by hand, {alto:?} by alto").into());
                }
            }
        }
        Ok(())
    }
}

async fn database_exists(admin: &str, name: &str) -> Result<bool, BoxError> {
    let mut conn = PgConnection::connect(admin).await?;
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_database WHERE datname = $1")
        .bind(name)
        .fetch_one(&mut conn)
        .await?;
    conn.close().await?;
    Ok(n > 0)
}

async fn recreate_database(admin: &str, name: &str) -> Result<(), BoxError> {
    drop_database(admin, name).await?;
    let mut conn = PgConnection::connect(admin).await?;
    conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
        .await?;
    conn.close().await?;
    Ok(())
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

fn with_user(url: &str, user: &str, password: &str) -> String {
    let scheme_end = url.find("://").map_or(0, |i| i + 3);
    let rest = &url[scheme_end..];
    let host = match rest.find('@') {
        Some(at) if rest.find('/').is_none_or(|slash| at < slash) => &rest[at + 1..],
        _ => rest,
    };
    format!("{}{user}:{password}@{host}", &url[..scheme_end])
}
