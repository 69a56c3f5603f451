//! Audit reading benchmark on the embedded store: one page of 1,000 events of a
//! 10,000,000-event trail, through the store, with and without filters, beside a plain id-order
//! read of the same table (no filter) in the same run.
//!
//! ```text
//! cargo run --release -p alto-sqlite --example sqlite_audit_bench -- [EVENTS]
//! ```
//!
//! The trail is written in SQL through the real table, its trigger and indexes (one transaction
//! per 100,000 events): kinds in a busy tenant's proportions, 100,000 subjects, one event a
//! millisecond up to now. Each query runs 21 times; the median is printed (target: under 20 ms).

use alto_core::Store;
use alto_core::types::{AuditQuery, TenantSettings};
use alto_sqlite::SqliteStore;
use sqlx::{ConnectOptions, Connection};
use std::time::{Duration, Instant};

type BoxError = Box<dyn std::error::Error>;

const RUNS: usize = 21;

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let events: i64 = std::env::args()
        .nth(1)
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(10_000_000);
    let dir = tempfile_dir()?;
    let db = dir.join("audit-bench.db");
    let store = SqliteStore::open(&db.display().to_string()).await?;
    let t = store
        .create_tenant("bench", &TenantSettings::default())
        .await?
        .id;
    let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(&db)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(60))
        .connect()
        .await?;
    let now = alto_core::time::now_micros();
    let started = Instant::now();
    let step = 100_000i64;
    let mut from = 0;
    while from < events {
        let to = (from + step).min(events);
        sqlx::query(
            "WITH RECURSIVE g(n) AS (SELECT ?2 UNION ALL SELECT n + 1 FROM g WHERE n + 1 < ?3) \
             INSERT INTO audit_event (tenant_id, at_utc, kind, subject, detail, actor) \
             SELECT ?1, ?4 - (?5 - n) * 1000, \
                 CASE WHEN n % 1000 = 1 THEN 'job.create' \
                      WHEN n % 1000 = 500 THEN 'tier.fail' \
                      WHEN n % 10 < 4 THEN 'tier.plan' \
                      WHEN n % 10 < 8 THEN 'tier.stub' \
                      WHEN n % 10 = 8 THEN 'feed.batch' ELSE 'ingest.chunk' END, \
                 '/data/d' || (n % 1000) || '/f' || (n % 100000), \
                 json_object('share', 'data', 'n', n), '{}' \
             FROM g",
        )
        .bind(t.0)
        .bind(from)
        .bind(to)
        .bind(now)
        .bind(events)
        .execute(&mut conn)
        .await?;
        from = to;
        eprint!("\r{from} events …");
    }
    eprintln!(
        "\r{events} events written in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    let middle: i64 = sqlx::query_scalar(
        "SELECT event_id FROM audit_event WHERE tenant_id = ?1 LIMIT 1 OFFSET ?2",
    )
    .bind(t.0)
    .bind(events / 2)
    .fetch_one(&mut conn)
    .await?;

    // The plain read: one page by id, no filter.
    let mut times = Vec::with_capacity(RUNS);
    let mut rows = 0;
    for _ in 0..RUNS {
        let s = Instant::now();
        rows = sqlx::query(
            "SELECT event_id, at_utc, kind, subject, detail, parent_id, actor FROM audit_event \
             WHERE tenant_id = ?1 AND event_id > ?2 ORDER BY event_id LIMIT 1001",
        )
        .bind(t.0)
        .bind(middle)
        .fetch_all(&mut conn)
        .await?
        .len();
        times.push(s.elapsed());
    }
    times.sort();
    let baseline = times[RUNS / 2];
    conn.close().await?;

    let since = now - 3_600_000_000;
    let q = |f: &dyn Fn(&mut AuditQuery)| {
        let mut q = AuditQuery {
            limit: 1000,
            ..Default::default()
        };
        f(&mut q);
        q
    };
    let cases: Vec<(&str, AuditQuery)> = vec![
        ("no filter, from the start", q(&|_| {})),
        (
            "kind tier.stub (40%)",
            q(&|q| q.kinds = vec!["tier.stub".into()]),
        ),
        (
            "kind tier.fail (0.1%)",
            q(&|q| q.kinds = vec!["tier.fail".into()]),
        ),
        (
            "family tier.* (80%)",
            q(&|q| q.kinds = vec!["tier.*".into()]),
        ),
        (
            "subject (100 events)",
            q(&|q| q.subject = Some("/data/d7/f4007".into())),
        ),
        ("since an hour ago", q(&|q| q.since = Some(since))),
        (
            "kind tier.stub + since an hour ago",
            q(&|q| {
                q.kinds = vec!["tier.stub".into()];
                q.since = Some(since);
            }),
        ),
    ];
    println!(
        "## SQLite: one page of 1,000 audit events of {events} (median of {RUNS}; target < 20 ms)"
    );
    println!(
        "{:<40} {:>9} {:>7}  (plain id order, no filter)",
        "id order from the middle (baseline)",
        ms(baseline),
        rows
    );
    for (name, query) in &cases {
        let mut times = Vec::with_capacity(RUNS);
        let mut n = 0;
        for _ in 0..RUNS {
            let s = Instant::now();
            n = store.audit_query(t, query).await?.items.len();
            times.push(s.elapsed());
        }
        times.sort();
        let d = times[RUNS / 2];
        println!(
            "{:<40} {:>9} {:>7}  {:.2}x the baseline",
            name,
            ms(d),
            n,
            d.as_secs_f64() / baseline.as_secs_f64()
        );
    }
    store.close().await;
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// A fresh directory under the system's temporary directory.
fn tempfile_dir() -> Result<std::path::PathBuf, BoxError> {
    let dir = std::env::temp_dir().join(format!("alto-audit-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
