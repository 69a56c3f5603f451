//! Access-feed benchmark: a LucidLink audit tree of at least a million events applied end to end
//! (`alto_core::feed::apply::follow_lucid`: list, read, parse, order, apply in batches with
//! dedup, skew, moves, deletes, unknown paths and cursors) to a store holding a million-file
//! inventory, beside the seeds' baseline on the same events in the same run: the `UPDATE
//! file_current … FROM staging_lucid_audit` of seed 002 §"Database Update Logic", issued by
//! `psql` on the events staged into a plain table (`\copy`), on an identical copy of the database.
//!
//! ```text
//! DATABASE_URL=postgres://postgres@127.0.0.1/postgres \
//!   cargo run --release -p alto-pg --example pg_feed_bench -- bench-data/inv-1m-posix.csv
//! ```
//!
//! The inventory is a posix one under `/srv/data` (`gen_inventory.py … --style posix`); the
//! share maps the filespace root there. `ALTO_FEED_EVENTS` (default 1,016,000: at least a
//! million once the generator's events about the audit trail itself are skipped) and
//! `ALTO_FEED_BATCH` (events per transaction, default 100,000) tune it; `--keep` keeps the
//! databases and the tree.

mod support;

use alto_core::Store;
use alto_core::feed::apply::{FeedOptions, follow_lucid};
use alto_core::feed::generate::{TreeSpec, generate_tree};
use alto_core::feed::lucid::{Cursors, read_tree};
use alto_core::ingest::{IngestOptions, ingest, source_identity};
use alto_core::store::{ScanKind, ShareSpec};
use alto_core::time::{format_rfc3339, now_micros};
use alto_core::types::{ShareKind, TenantSettings};
use alto_pg::PgStore;
use sqlx::{Connection, Executor, PgConnection};
use std::io::Write;
use std::path::Path;
use std::time::Instant;

type BoxError = Box<dyn std::error::Error>;

const MOUNT_ROOT: &str = "/srv/data";
const NODES: u32 = 8;

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let keep = args.iter().any(|a| a == "--keep");
    let inventory = args
        .iter()
        .find(|a| !a.starts_with("--"))
        .ok_or("usage: pg_feed_bench [--keep] INVENTORY.csv (a posix inventory under /srv/data)")?;
    let env = |name: &str, default: u64| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let events = env("ALTO_FEED_EVENTS", 1_016_000);
    let batch = env("ALTO_FEED_BATCH", 100_000) as usize;
    let admin = std::env::var("DATABASE_URL")
        .map_err(|_| "set DATABASE_URL (or run scripts/pg-feed-bench.sh, which finds a server)")?;
    let pid = std::process::id();
    let alto_db = format!("alto_feed_bench_{pid}");
    let base_db = format!("alto_feed_bench_base_{pid}");
    let tree = Path::new("bench-data").join(format!("lucid-bench-{pid}"));
    let result = bench(
        &admin,
        Path::new(inventory),
        &alto_db,
        &base_db,
        &tree,
        events,
        batch,
    )
    .await;
    // Whatever happened: the databases and the tree are large.
    if !keep {
        let _ = std::fs::remove_dir_all(&tree);
        drop_database(&admin, &base_db).await?;
        drop_database(&admin, &alto_db).await?;
    }
    result
}

async fn bench(
    admin: &str,
    path: &Path,
    alto_db: &str,
    base_db: &str,
    tree: &Path,
    events: u64,
    batch: usize,
) -> Result<(), BoxError> {
    let inventory = path.display();

    // The inventory, in a tenant whose LucidLink share maps the filespace root to /srv/data.
    let alto_url = fresh_database(admin, alto_db).await?;
    alto_pg::migrate(&alto_url).await?;
    // Run as a runtime login, as a deployment does (connect refuses the owner).
    let login = support::RuntimeLogin::create(&alto_url).await?;
    let store = PgStore::connect(&login.url).await?;
    let tenant = store
        .create_tenant("bench", &TenantSettings::default())
        .await?;
    let mut share = ShareSpec::new("fs", ShareKind::Lucidlink);
    share.mount_root = Some(MOUNT_ROOT.into());
    store.ensure_share(tenant.id, &share).await?;
    let opts = IngestOptions {
        kind: ScanKind::Full,
        chunk_rows: None,
        source: Some(source_identity(path)?),
        path_prefix: None,
        ..IngestOptions::default()
    };
    let started = Instant::now();
    let mut src = alto_core::inventory::open(path, &Default::default())?;
    let r = ingest(&store, tenant.id, "fs", &mut *src, &opts, |_| {}, |_, _| {}).await?;
    println!(
        "inventory {inventory}: {} files ingested in {:.1} s",
        r.accepted,
        started.elapsed().as_secs_f64()
    );
    store.pool().close().await;
    // What autovacuum does after a bulk load, done now so that both runs plan with statistics
    // (the baseline's database is a copy of this one).
    let mut admin_conn = PgConnection::connect(&alto_url).await?;
    let started = Instant::now();
    admin_conn.execute("VACUUM ANALYZE").await?;
    println!(
        "VACUUM ANALYZE after the load: {:.1} s",
        started.elapsed().as_secs_f64()
    );

    // The audit tree: reads of those files (90 %), writes, prehydrates, moves, deletes, pins, NFD
    // names, events on the audit trail itself, half-written last lines; 8 nodes interleaved.
    let paths: Vec<String> = sqlx::query_scalar("SELECT full_path FROM file_current")
        .fetch_all(&mut admin_conn)
        .await?;
    admin_conn.close().await?;
    let feed_paths: Vec<String> = paths
        .iter()
        .filter_map(|p| p.strip_prefix(MOUNT_ROOT).map(str::to_owned))
        .collect();
    drop(paths);
    if feed_paths.is_empty() {
        return Err(format!("no inventory path is under {MOUNT_ROOT}: use --style posix").into());
    }
    let now = now_micros();
    let spec = TreeSpec::bench(feed_paths, NODES, events, now);
    let started = Instant::now();
    let generated = generate_tree(tree, &spec)?;
    println!(
        "audit tree: {} events ({} about the audit trail itself) in {} files, written in {:.1} s",
        generated.events,
        generated.audit_events,
        generated.files,
        started.elapsed().as_secs_f64()
    );
    drop(spec);

    // An identical copy of the database for the baseline.
    let mut conn = PgConnection::connect(admin).await?;
    conn.execute(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS \"{base_db}\" WITH (FORCE)"
    )))
    .await?;
    conn.execute(sqlx::AssertSqlSafe(format!(
        "CREATE DATABASE \"{base_db}\" TEMPLATE \"{alto_db}\""
    )))
    .await?;
    conn.close().await?;
    let base_url = with_database(admin, base_db);

    // Alto, end to end.
    let store = PgStore::connect(&login.url).await?;
    let feed_opts = FeedOptions {
        now,
        batch_events: batch,
        rules: None,
        rehydrate: None,
    };
    let mut malformed = 0u64;
    let started = Instant::now();
    let report = follow_lucid(&store, &tenant, "fs", tree, &feed_opts, &mut |_| {
        malformed += 1
    })
    .await?;
    let alto_secs = started.elapsed().as_secs_f64();
    println!(
        "alto follow_lucid: {} events read ({} files, {} malformed lines), {} applied, {} stale, \
         {} duplicate, {} skewed, {} unknown; batches of {batch}",
        report.read,
        report.files,
        report.malformed,
        report.applied,
        report.stale,
        report.duplicate,
        report.skewed,
        report.unknown
    );
    let started = Instant::now();
    let again = follow_lucid(&store, &tenant, "fs", tree, &feed_opts, &mut |_| {}).await?;
    println!(
        "second pass from the saved cursors: {} events read in {:.2} s",
        again.read,
        started.elapsed().as_secs_f64()
    );
    store.pool().close().await;
    login.drop(&alto_url).await?;

    // The baseline: the same events (read and parsed by the same reader), staged into a plain
    // table with psql \copy, then the seed's UPDATE.
    let csv = tree.join("staging_lucid_audit.csv");
    let started = Instant::now();
    let mut out = std::io::BufWriter::new(std::fs::File::create(&csv)?);
    let mut write_err = None;
    let mut staged = 0u64;
    read_tree(
        tree,
        &mut Cursors::new(),
        &mut |e| {
            let full = alto_core::path::join_under(MOUNT_ROOT, &e.path).unwrap_or(e.path);
            let line = format!(
                "{},\"{}\",{}\n",
                tenant.id.0,
                full.replace('"', "\"\""),
                format_rfc3339(e.at)
            );
            if let Err(err) = out.write_all(line.as_bytes()) {
                write_err = Some(err);
            }
            staged += 1;
        },
        &mut |_| {},
    )?;
    if let Some(e) = write_err {
        return Err(e.into());
    }
    out.flush()?;
    drop(out);
    let read_secs = started.elapsed().as_secs_f64();
    let csv_abs = std::fs::canonicalize(&csv)?;
    let csv_abs = csv_abs.to_str().ok_or("path is not UTF-8")?;
    let stage_secs = psql(
        &base_url,
        &format!(
            "CREATE UNLOGGED TABLE staging_lucid_audit (tenant_id bigint, file_path text, \
                 new_last_accessed timestamptz);\n\
             \\copy staging_lucid_audit FROM '{csv_abs}' WITH (FORMAT csv)\n"
        ),
    )?;
    let update_secs = psql(&base_url, BASELINE_UPDATE)?;

    let per_min = |n: u64, s: f64| n as f64 / s * 60.0;
    println!();
    println!(
        "{:<46}: {:>9} events in {alto_secs:>7.2} s = {:>10.0} events/min",
        "alto follow_lucid (read, parse, apply)",
        report.read,
        per_min(report.read, alto_secs)
    );
    println!(
        "{:<46}: {:>9} events in {read_secs:>7.2} s (the read-and-parse share)",
        "  of which: reading and parsing alone", staged
    );
    println!(
        "{:<46}: {:>9} events in {stage_secs:>7.2} s",
        "baseline psql \\copy into staging_lucid_audit", staged
    );
    println!(
        "{:<46}: {:>9} events in {update_secs:>7.2} s = {:>10.0} events/min",
        "baseline seed 002 UPDATE … FROM staging",
        staged,
        per_min(staged, update_secs)
    );
    println!(
        "{:<46}: {:.2}x the UPDATE's time; {:.2}x \\copy + UPDATE",
        "ratio alto / baseline",
        alto_secs / update_secs,
        alto_secs / (stage_secs + update_secs)
    );
    println!(
        "{:<46}: {}",
        "target: >= 1,000,000 events/min end to end",
        if per_min(report.read, alto_secs) >= 1_000_000.0 {
            "met"
        } else {
            "NOT met"
        }
    );
    Ok(())
}

/// Seed 002 §"Database Update Logic", with this schema's names (`accessed_utc` for
/// `atime_unix`; `file_current` has no `updated_utc`).
const BASELINE_UPDATE: &str = "\\timing on\n\
UPDATE file_current fc\n\
SET\n\
  accessed_utc = s.new_last_accessed,\n\
  last_accessed_source = 'lucidlink_audit',\n\
  atime_updated_utc = now()\n\
FROM staging_lucid_audit s\n\
WHERE\n\
  fc.tenant_id = s.tenant_id\n\
  AND fc.full_path = s.file_path\n\
  AND s.new_last_accessed > fc.accessed_utc;\n";

/// Run a psql script against `url`; returns wall seconds.
fn psql(url: &str, script: &str) -> Result<f64, BoxError> {
    let t = Instant::now();
    let mut child = std::process::Command::new("psql")
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-f", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()?;
    child
        .stdin
        .take()
        .ok_or("psql stdin")?
        .write_all(script.as_bytes())?;
    let status = child.wait()?;
    if !status.success() {
        return Err(format!("psql failed ({status})").into());
    }
    Ok(t.elapsed().as_secs_f64())
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
