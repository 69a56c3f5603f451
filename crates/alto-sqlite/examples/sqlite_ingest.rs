//! Ingest an inventory into an SQLite store: the benchmark's and the kill test's driver.
//!
//! ```sh
//! cargo run --release -p alto-sqlite --example sqlite_ingest -- alto.db inventory.csv
//! ```
//!
//! Options: `--tenant NAME` (default `bench`, created when missing), `--share NAME` (default
//! `data`), `--kind ntfs|smb|lucidlink|posix` (default `ntfs`), `--chunk-rows N` (default: the
//! store's, 100,000), `--full` (a full scan: unseen files are marked missing), `--no-history` (a new tenant keeps no
//! per-scan snapshots), `--once` (do nothing when this inventory was already ingested to the end:
//! a rerun after a kill that came just after the last commit must not start a second scan).
//!
//! The scan is keyed by the inventory's identity, so a run killed at any point and started again
//! resumes the scan and skips the chunks that landed. Prints one `key=value` line.

use alto_core::ingest::{IngestOptions, ingest, source_identity};
use alto_core::inventory::{self, InventoryOptions};
use alto_core::store::{ScanKind, ShareSpec};
use alto_core::{ErrorKind, ShareKind, Store, TenantSettings};
use alto_sqlite::SqliteStore;
use std::path::PathBuf;
use std::time::Instant;

/// User plus system CPU seconds of this process so far (Linux; 0 elsewhere).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name; 100 ticks/s.
    (ticks(11) + ticks(12)) / 100.0
}

struct Args {
    db: String,
    inventory: PathBuf,
    tenant: String,
    share: String,
    kind: ShareKind,
    chunk_rows: Option<usize>,
    full: bool,
    history: bool,
    once: bool,
}

fn parse() -> Result<Args, String> {
    let usage = "usage: sqlite_ingest DB INVENTORY [--tenant NAME] [--share NAME] [--kind KIND] \
                 [--chunk-rows N] [--full] [--no-history] [--once]";
    let mut it = std::env::args().skip(1);
    let mut pos = Vec::new();
    let mut a = Args {
        db: String::new(),
        inventory: PathBuf::new(),
        tenant: "bench".into(),
        share: "data".into(),
        kind: ShareKind::Ntfs,
        chunk_rows: None,
        full: false,
        history: true,
        once: false,
    };
    while let Some(arg) = it.next() {
        let mut value = || it.next().ok_or(format!("{arg} needs a value; {usage}"));
        match arg.as_str() {
            "--tenant" => a.tenant = value()?,
            "--share" => a.share = value()?,
            "--kind" => {
                a.kind = match value()?.as_str() {
                    "ntfs" => ShareKind::Ntfs,
                    "smb" => ShareKind::Smb,
                    "lucidlink" => ShareKind::Lucidlink,
                    "posix" => ShareKind::Posix,
                    k => return Err(format!("unknown share kind {k:?}")),
                }
            }
            "--chunk-rows" => {
                a.chunk_rows = Some(value()?.parse().map_err(|e| format!("--chunk-rows: {e}"))?)
            }
            "--full" => a.full = true,
            "--no-history" => a.history = false,
            "--once" => a.once = true,
            s if s.starts_with("--") => return Err(format!("unknown option {s}; {usage}")),
            _ => pos.push(arg),
        }
    }
    let [db, inv] = <[String; 2]>::try_from(pos).map_err(|_| usage.to_string())?;
    a.db = db;
    a.inventory = inv.into();
    Ok(a)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let a = parse()?;
    let store = SqliteStore::open(&a.db).await?;
    let settings = TenantSettings::default().with_keep_history(a.history);
    let tenant = match store.tenant(&a.tenant).await {
        Ok(t) => t,
        Err(e) if e.kind() == ErrorKind::NotFound => {
            match store.create_tenant(&a.tenant, &settings).await {
                Ok(t) => t,
                Err(e) if e.kind() == ErrorKind::AlreadyExists => store.tenant(&a.tenant).await?,
                Err(e) => return Err(e.into()),
            }
        }
        Err(e) => return Err(e.into()),
    };
    store
        .ensure_share(tenant.id, &ShareSpec::new(a.share.clone(), a.kind))
        .await?;
    let source = source_identity(&a.inventory)?;
    if a.once {
        let done: Option<i64> = sqlx::query_scalar(
            "SELECT scan_id FROM scan WHERE tenant_id = ?1 AND source = ?2 \
             AND finished_utc IS NOT NULL",
        )
        .bind(tenant.id.0)
        .bind(&source)
        .fetch_optional(store.pool())
        .await?;
        if let Some(scan) = done {
            println!("already_ingested=1 scan={scan}");
            return Ok(());
        }
    }
    let opts = IngestOptions {
        kind: if a.full {
            ScanKind::Full
        } else {
            ScanKind::Partial
        },
        chunk_rows: a.chunk_rows,
        source: Some(source),
        path_prefix: None,
        ..IngestOptions::default()
    };
    let mut src = inventory::open(&a.inventory, &InventoryOptions::default())?;
    let t = Instant::now();
    let cpu = cpu_seconds();
    let r = ingest(
        &store,
        tenant.id,
        &a.share,
        src.as_mut(),
        &opts,
        |_| {},
        |_, _| {},
    )
    .await?;
    let secs = t.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu;
    let rows = r.accepted + r.rejected;
    println!(
        "rows={rows} seconds={secs:.3} rows_per_s={:.0} cpu_seconds={cpu:.2} accepted={} rejected={} new={} \
         changed={} unchanged={} missing={} chunks_applied={} chunks_skipped={} resumed={} scan={}",
        rows as f64 / secs,
        r.accepted,
        r.rejected,
        r.new,
        r.changed,
        r.unchanged,
        r.missing,
        r.chunks_applied,
        r.chunks_skipped,
        u8::from(r.resumed),
        r.scan
    );
    store.close().await;
    Ok(())
}
