//! Ingest benchmark: Alto's chunked COPY-and-merge ingest beside a hand-written psql baseline, in
//! one run, on the same schema (each in a fresh database of the server `DATABASE_URL` names).
//!
//! ```text
//! DATABASE_URL=postgres://postgres@127.0.0.1/postgres \
//!   cargo run --release -p alto-pg --example pg_ingest_bench -- bench-data/inv-1m.csv
//! ```
//!
//! Prints, for the inventory: Alto's rows/s into an empty tenant with snapshot history on, the
//! baseline's rows/s (`psql \copy` into an unlogged staging table, then plain `INSERT … SELECT`
//! and `INSERT … ON CONFLICT` into the same tables, path keys computed in SQL), the ratio of the
//! two times, the rows/s of re-ingesting the same unchanged inventory, and this process's peak
//! RSS. `--alto-only` skips the baseline and the re-ingest (for comparing peak memory across
//! inventory sizes); `--no-baseline` skips only the baseline (for comparing builds quickly);
//! `--keep` keeps the databases.

mod support;

use alto_core::Store;
use alto_core::ingest::{IngestOptions, ingest, source_identity};
use alto_core::store::{ScanKind, ShareSpec};
use alto_core::types::{ShareKind, TenantSettings};
use alto_pg::PgStore;
use sqlx::{Connection, Executor, PgConnection};
use std::path::Path;
use std::time::Instant;

type BoxError = Box<dyn std::error::Error>;

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let alto_only = args.iter().any(|a| a == "--alto-only");
    let keep = args.iter().any(|a| a == "--keep");
    let no_baseline = args.iter().any(|a| a == "--no-baseline");
    let inventory = args
        .iter()
        .find(|a| !a.starts_with("--"))
        .ok_or("usage: pg_ingest_bench [--alto-only|--no-baseline] [--keep] INVENTORY.csv")?;
    let chunk_rows: Option<usize> = std::env::var("ALTO_CHUNK_ROWS")
        .ok()
        .and_then(|v| v.parse().ok());
    let admin = std::env::var("DATABASE_URL")
        .map_err(|_| "set DATABASE_URL (or run scripts/pg-bench.sh, which finds a server)")?;
    let path = Path::new(inventory);

    let alto_db = format!("alto_bench_{}", std::process::id());
    let alto_url = fresh_database(&admin, &alto_db).await?;
    alto_pg::migrate(&alto_url).await?;
    // Run as a runtime login, as a deployment does (connect refuses the owner).
    let login = support::RuntimeLogin::create(&alto_url).await?;
    let store = PgStore::connect(&login.url).await?;
    let tenant = store
        .create_tenant("bench", &TenantSettings::default())
        .await?;
    store
        .ensure_share(tenant.id, &ShareSpec::new("data", ShareKind::Ntfs))
        .await?;
    let opts = IngestOptions {
        kind: ScanKind::Full,
        chunk_rows,
        source: Some(source_identity(path)?),
        path_prefix: None,
        ..IngestOptions::default()
    };
    println!(
        "inventory {inventory}, {} rows per chunk, snapshot history on",
        chunk_rows.unwrap_or_else(|| store.ingest_chunk_rows())
    );

    let run = |label: &'static str| {
        let store = store.clone();
        let opts = opts.clone();
        async move {
            let mut src = alto_core::inventory::open(path, &Default::default())?;
            let t = Instant::now();
            let r = ingest(
                &store,
                tenant.id,
                "data",
                &mut *src,
                &opts,
                |_| {},
                |_, _| {},
            )
            .await?;
            let secs = t.elapsed().as_secs_f64();
            println!(
                "{label:<34}: {:>9} rows in {secs:>7.2} s = {:>9.0} rows/s  \
                 (new {}, changed {}, unchanged {}, rejected {})",
                r.accepted,
                r.accepted as f64 / secs,
                r.new,
                r.changed,
                r.unchanged,
                r.rejected
            );
            Ok::<_, BoxError>((r.accepted, secs))
        }
    };

    let (rows, alto_secs) = run("alto ingest (empty tenant)").await?;
    if !alto_only && !no_baseline {
        let base_db = format!("alto_bench_base_{}", std::process::id());
        let base_url = fresh_database(&admin, &base_db).await?;
        alto_pg::migrate(&base_url).await?;
        let base_secs = baseline(&base_url, path)?;
        println!(
            "{:<34}: {rows:>9} rows in {base_secs:>7.2} s = {:>9.0} rows/s",
            "baseline psql \\copy + INSERT…SELECT",
            rows as f64 / base_secs
        );
        println!(
            "{:<34}: {:.2}x the baseline's time (target: at most 0.60x)",
            "ratio alto / baseline",
            alto_secs / base_secs
        );
        if !keep {
            drop_database(&admin, &base_db).await?;
        }
    }
    if !alto_only {
        run("alto re-ingest (unchanged)").await?;
    }
    println!("{:<34}: {} KiB", "peak RSS (this process)", peak_rss_kib());
    store.pool().close().await;
    login.drop(&alto_url).await?;
    if !keep {
        drop_database(&admin, &alto_db).await?;
    }
    Ok(())
}

/// The baseline: what a hand-written load into the same schema does. Returns wall seconds.
fn baseline(url: &str, inventory: &Path) -> Result<f64, BoxError> {
    let file = std::fs::canonicalize(inventory)?;
    let file = file.to_str().ok_or("inventory path is not UTF-8")?;
    if file.contains('\'') {
        return Err("inventory path must not contain a quote".into());
    }
    let script = BASELINE_SQL.replace("@FILE@", file);
    let t = Instant::now();
    let out = std::process::Command::new("psql")
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-c"])
        .arg("SET client_min_messages = warning")
        .args(["-f", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child
                .stdin
                .take()
                .expect("stdin")
                .write_all(script.as_bytes())?;
            child.wait()
        })?;
    if !out.success() {
        return Err(format!("the psql baseline failed ({out})").into());
    }
    Ok(t.elapsed().as_secs_f64())
}

const BASELINE_SQL: &str = r#"
BEGIN;
INSERT INTO tenant (name, settings) VALUES ('baseline', '{"keep_history": true}')
    RETURNING tenant_id AS t \gset
INSERT INTO share (tenant_id, name, kind, case_sensitive) VALUES (:t, 'data', 'ntfs', false)
    RETURNING share_id AS s \gset
INSERT INTO scan (tenant_id, share_id, kind) VALUES (:t, :s, 'full') RETURNING scan_id AS sc \gset
COMMIT;
CREATE UNLOGGED TABLE baseline_staging (file_path text, file_size text, last_modified text,
    last_accessed text, file_extension text, permissions text, owner text, hash text);
\copy baseline_staging FROM '@FILE@' WITH (FORMAT csv, HEADER true)
BEGIN;
CREATE TEMP TABLE keyed ON COMMIT DROP AS
    SELECT s.*, k.key, regexp_replace(k.key, '/[^/]*$', '') AS dir
    FROM baseline_staging s,
         LATERAL (SELECT lower(regexp_replace(s.file_path, '[\\/]+', '/', 'g')) AS key) k;
INSERT INTO dir (tenant_id, share_id, dir_path, dir_hash64)
    SELECT DISTINCT :t, :s, dir, hashtextextended(dir, 0) FROM keyed
    ON CONFLICT DO NOTHING;
INSERT INTO file_current AS fc (tenant_id, share_id, dir_id, size_bytes, modified_utc,
    accessed_utc, atime_updated_utc, first_seen_scan_id, last_seen_scan_id, changed_chunk_id,
    path_key, full_path, extension, permissions, owner, file_hash, last_accessed_source)
SELECT :t, :s, d.dir_id, k.file_size::bigint, nullif(k.last_modified, '')::timestamptz,
    nullif(k.last_accessed, '')::timestamptz, now(), :sc, :sc, 0, k.key, k.file_path,
    nullif(ltrim(k.file_extension, '.'), ''), nullif(k.permissions, ''), nullif(k.owner, ''),
    nullif(k.hash, ''), 'initial_scan'
FROM keyed k JOIN dir d ON d.tenant_id = :t AND d.share_id = :s AND d.dir_path = k.dir
ON CONFLICT (tenant_id, share_id, path_key) DO UPDATE SET
    size_bytes = excluded.size_bytes, modified_utc = excluded.modified_utc,
    accessed_utc = greatest(fc.accessed_utc, excluded.accessed_utc),
    full_path = excluded.full_path, extension = excluded.extension,
    permissions = excluded.permissions, owner = excluded.owner, file_hash = excluded.file_hash,
    last_seen_scan_id = excluded.last_seen_scan_id, missing_since = NULL;
INSERT INTO file (tenant_id, scan_id, share_id, size_bytes, modified_utc, accessed_utc, path_key,
    full_path, extension, permissions, owner, file_hash)
SELECT :t, :sc, :s, k.file_size::bigint, nullif(k.last_modified, '')::timestamptz,
    nullif(k.last_accessed, '')::timestamptz, k.key, k.file_path,
    nullif(ltrim(k.file_extension, '.'), ''), nullif(k.permissions, ''), nullif(k.owner, ''),
    nullif(k.hash, '')
FROM keyed k;
UPDATE scan SET finished_utc = now() WHERE tenant_id = :t AND scan_id = :sc;
COMMIT;
"#;

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

/// Peak resident set size of this process (Linux `VmHWM`), in KiB.
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}
