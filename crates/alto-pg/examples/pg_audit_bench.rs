//! Audit reading benchmark: one page of 1,000 events of a 10,000,000-event trail, through the
//! store's commit-ordered reader, with and without filters, beside the id-order read the store
//! used before (no horizon, no filters) in the same run, on the same table.
//!
//! ```text
//! DATABASE_URL=postgres://postgres@127.0.0.1/postgres \
//!   cargo run --release -p alto-pg --example pg_audit_bench -- [EVENTS] [--keep]
//! ```
//!
//! The trail is made in SQL (through the real table, its trigger and indexes), one transaction per
//! 1,000 events (as a plan commit writes a job): a `job.create` first, the 999 others under it; 100,000
//! subjects of about 100 events each, kinds in the proportions a busy tenant has (a failure in
//! a thousand), one event a millisecond up to now. Each query runs 21 times; the median is
//! printed (target: under 20 ms).

mod support;

use alto_core::Store;
use alto_core::types::{AuditPosition, AuditQuery, TenantSettings};
use alto_pg::PgStore;
use sqlx::{Connection, Executor, PgConnection};
use std::time::{Duration, Instant};

type BoxError = Box<dyn std::error::Error>;

const RUNS: usize = 21;

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let keep = args.iter().any(|a| a == "--keep");
    let events: i64 = args
        .iter()
        .find(|a| !a.starts_with("--"))
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(10_000_000);
    let admin = std::env::var("DATABASE_URL")
        .map_err(|_| "set DATABASE_URL (or run scripts/audit-bench.sh, which finds a server)")?;
    let db = format!("alto_audit_bench_{}", std::process::id());
    let url = fresh_database(&admin, &db).await?;
    alto_pg::migrate(&url).await?;
    let login = support::RuntimeLogin::create(&url).await?;
    let store = PgStore::connect(&login.url).await?;
    let t = store
        .create_tenant("bench", &TenantSettings::default())
        .await?
        .id;

    let started = Instant::now();
    let mut owner = PgConnection::connect(&url).await?;
    let step = 1_000i64;
    let mut from = 1;
    while from <= events {
        let to = (from + step - 1).min(events);
        owner.execute("BEGIN").await?;
        sqlx::query("SELECT set_config('app.tenant_id', $1, true)")
            .bind(t.0.to_string())
            .execute(&mut owner)
            .await?;
        sqlx::query(
            "INSERT INTO audit_event (tenant_id, event_id, event_utc, kind, subject, detail, \
                 parent_event_id, parent_event_date) \
             SELECT $1, g, now() - ($3 - g) * interval '1 millisecond', \
                 CASE WHEN g % 1000 = 1 THEN 'job.create' \
                      WHEN g % 1000 = 500 THEN 'tier.fail' \
                      WHEN g % 10 < 4 THEN 'tier.plan' \
                      WHEN g % 10 < 8 THEN 'tier.stub' \
                      WHEN g % 10 = 8 THEN 'feed.batch' ELSE 'ingest.chunk' END, \
                 '/data/d' || (g % 1000) || '/f' || (g % 100000), \
                 jsonb_build_object('share', 'data', 'n', g), \
                 CASE WHEN g % 1000 <> 1 THEN g - ((g - 1) % 1000) END, \
                 CASE WHEN g % 1000 <> 1 THEN (now() AT TIME ZONE 'UTC')::date END \
             FROM generate_series($2::bigint, $4::bigint) AS g ORDER BY g",
        )
        .bind(t.0)
        .bind(from)
        .bind(events)
        .bind(to)
        .execute(&mut owner)
        .await?;
        owner.execute("COMMIT").await?;
        from = to + 1;
        eprint!("\r{} events …", to);
    }
    owner
        .execute(sqlx::AssertSqlSafe(format!(
            "SELECT setval('audit_event_id_seq', {events}); ANALYZE audit_event"
        )))
        .await?;
    eprintln!(
        "\r{events} events written in {:.0} s",
        started.elapsed().as_secs_f64()
    );

    // A position in the middle, to read from.
    owner.execute("BEGIN").await?;
    sqlx::query("SELECT set_config('app.tenant_id', $1, true)")
        .bind(t.0.to_string())
        .execute(&mut owner)
        .await?;
    let commit: i64 = sqlx::query_scalar(
        "SELECT writer_xid FROM audit_event WHERE tenant_id = $1 AND event_id = $2",
    )
    .bind(t.0)
    .bind(events / 2)
    .fetch_one(&mut owner)
    .await?;
    owner.execute("COMMIT").await?;
    let middle = Some(AuditPosition {
        commit,
        id: events / 2,
    });
    let job = events / 2 / 1000 * 1000 + 1;
    let since = alto_core::time::now_micros() - 3_600_000_000;
    let query = |f: &dyn Fn(&mut AuditQuery)| {
        let mut q = AuditQuery {
            limit: 1000,
            ..Default::default()
        };
        f(&mut q);
        q
    };
    let cases: Vec<(&str, AuditQuery)> = vec![
        ("no filter, from the start", query(&|_| {})),
        ("no filter, from the middle", query(&|q| q.after = middle)),
        (
            "kind tier.stub (40%)",
            query(&|q| q.kinds = vec!["tier.stub".into()]),
        ),
        (
            "kind tier.fail (0.1%)",
            query(&|q| q.kinds = vec!["tier.fail".into()]),
        ),
        (
            "family tier.* (80%)",
            query(&|q| q.kinds = vec!["tier.*".into()]),
        ),
        (
            "subject (100 events)",
            query(&|q| q.subject = Some("/data/d7/f4007".into())),
        ),
        ("children of a job", query(&|q| q.parent = Some(job))),
        ("since an hour ago", query(&|q| q.since = Some(since))),
        (
            "kind tier.stub + since an hour ago",
            query(&|q| {
                q.kinds = vec!["tier.stub".into()];
                q.since = Some(since);
            }),
        ),
    ];

    // The read before this issue: by id, no horizon, no filter.
    let mut app = PgConnection::connect(&login.url).await?;
    let mut times = Vec::with_capacity(RUNS);
    let mut rows = 0;
    for _ in 0..RUNS {
        let started = Instant::now();
        app.execute("BEGIN").await?;
        sqlx::query("SELECT set_config('app.tenant_id', $1, true)")
            .bind(t.0.to_string())
            .execute(&mut app)
            .await?;
        rows = sqlx::query(
            "SELECT event_id, event_utc, kind, subject, detail, parent_event_id \
             FROM audit_event WHERE tenant_id = $1 AND event_id > $2 \
             ORDER BY event_id LIMIT 1001",
        )
        .bind(t.0)
        .bind(events / 2)
        .fetch_all(&mut app)
        .await?
        .len();
        app.execute("COMMIT").await?;
        times.push(started.elapsed());
    }
    times.sort();
    let baseline = (times[RUNS / 2], rows);
    println!("## One page of 1,000 audit events of {events} (median of {RUNS}; target < 20 ms)");
    println!(
        "{:<40} {:>9} {:>7}  (before: id order, no horizon, no filter)",
        "id order from the middle (baseline)",
        ms(baseline.0),
        baseline.1
    );
    // The first read with a time window makes the trail's zones (migration 0013), once; later
    // reads only make those of events written since.
    let started = Instant::now();
    let first = store
        .audit_query(t, &query(&|q| q.since = Some(since)))
        .await?
        .items
        .len();
    println!(
        "{:<40} {:>9} {:>7}  (once: makes the zones of the whole trail)",
        "first time window read",
        ms(started.elapsed()),
        first
    );
    for (name, q) in &cases {
        let store = &store;
        let (d, n) = median(RUNS, || async move {
            store.audit_query(t, q).await.unwrap().items.len()
        })
        .await;
        println!(
            "{:<40} {:>9} {:>7}  {:.2}x the baseline",
            name,
            ms(d),
            n,
            d.as_secs_f64() / baseline.0.as_secs_f64()
        );
    }
    app.close().await?;
    owner.close().await?;
    drop(store);
    login.drop(&url).await?;
    if !keep {
        drop_database(&admin, &db).await?;
    }
    Ok(())
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// The median time of `runs` calls and the last call's item count.
async fn median<F, Fut>(runs: usize, mut f: F) -> (Duration, usize)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = usize>,
{
    let mut times = Vec::with_capacity(runs);
    let mut n = 0;
    for _ in 0..runs {
        let t = Instant::now();
        n = f().await;
        times.push(t.elapsed());
    }
    times.sort();
    (times[runs / 2], n)
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
