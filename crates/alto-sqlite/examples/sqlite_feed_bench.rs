//! Access-feed benchmark on SQLite: a posix inventory ingested into a new store, then a LucidLink
//! audit tree generated over its paths (reads, writes, moves, deletes, NFD names, events on the
//! audit trail itself; 8 nodes interleaved) applied end to end with
//! `alto_core::feed::apply::follow_lucid`. Prints events per minute. Not a test, and not run in CI.
//!
//! ```text
//! python3 ../shared/bench/gen_inventory.py 1000000 bench-data/inv-1m-posix.csv --style posix
//! cargo run --release -p alto-sqlite --example sqlite_feed_bench -- bench-data/inv-1m-posix.csv
//! ```
//!
//! `ALTO_FEED_EVENTS` (default 1,016,000) and `ALTO_FEED_BATCH` (events per transaction, default
//! 100,000) tune it. The database and the tree go into `bench-data/` and are removed afterwards.

use alto_core::Store;
use alto_core::feed::apply::{FeedOptions, follow_lucid};
use alto_core::feed::generate::{TreeSpec, generate_tree};
use alto_core::ingest::{IngestOptions, ingest};
use alto_core::store::{FileQuery, ScanKind, ShareSpec};
use alto_core::time::now_micros;
use alto_core::types::{ShareKind, TenantSettings};
use alto_sqlite::SqliteStore;
use std::path::{Path, PathBuf};
use std::time::Instant;

type BoxError = Box<dyn std::error::Error>;

const MOUNT_ROOT: &str = "/srv/data";
const NODES: u32 = 8;

/// Removes the benchmark's files, whatever happens.
struct Scratch(PathBuf, PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.1);
        for ext in ["", "-wal", "-shm"] {
            let mut p = self.0.clone().into_os_string();
            p.push(ext);
            let _ = std::fs::remove_file(p);
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let inventory = std::env::args()
        .nth(1)
        .ok_or("usage: sqlite_feed_bench INVENTORY.csv (a posix inventory under /srv/data)")?;
    let env = |name: &str, default: u64| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let events = env("ALTO_FEED_EVENTS", 1_016_000);
    let batch = env("ALTO_FEED_BATCH", 100_000) as usize;
    let pid = std::process::id();
    std::fs::create_dir_all("bench-data")?;
    let scratch = Scratch(
        Path::new("bench-data").join(format!("feed-bench-{pid}.db")),
        Path::new("bench-data").join(format!("lucid-bench-{pid}")),
    );

    let store = SqliteStore::open(&format!("sqlite://{}", scratch.0.display())).await?;
    let tenant = store
        .create_tenant("bench", &TenantSettings::default())
        .await?;
    let mut share = ShareSpec::new("fs", ShareKind::Lucidlink);
    share.mount_root = Some(MOUNT_ROOT.into());
    store.ensure_share(tenant.id, &share).await?;
    let opts = IngestOptions {
        kind: ScanKind::Full,
        ..IngestOptions::default()
    };
    let started = Instant::now();
    let mut src = alto_core::inventory::open(Path::new(&inventory), &Default::default())?;
    let r = ingest(&store, tenant.id, "fs", &mut *src, &opts, |_| {}, |_, _| {}).await?;
    println!(
        "inventory {inventory}: {} files ingested in {:.1} s",
        r.accepted,
        started.elapsed().as_secs_f64()
    );

    // The feed's paths: the files under the filespace root, relative to it.
    let mut paths = Vec::new();
    let mut q = FileQuery {
        limit: 10_000,
        ..FileQuery::default()
    };
    loop {
        let page = store.files(tenant.id, &q).await?;
        paths.extend(
            page.items
                .iter()
                .filter_map(|f| f.entry.path.strip_prefix(MOUNT_ROOT).map(str::to_owned)),
        );
        match page.next {
            Some(n) => q.after = Some(n),
            None => break,
        }
    }
    if paths.is_empty() {
        return Err(format!("no inventory path is under {MOUNT_ROOT}: use --style posix").into());
    }
    let now = now_micros();
    let spec = TreeSpec::bench(paths, NODES, events, now);
    let generated = generate_tree(&scratch.1, &spec)?;
    drop(spec);

    let feed_opts = FeedOptions {
        now,
        batch_events: batch,
        rules: None,
        rehydrate: None,
    };
    let rss_before = reset_peak_rss();
    let started = Instant::now();
    let report = follow_lucid(&store, &tenant, "fs", &scratch.1, &feed_opts, &mut |_| {}).await?;
    let secs = started.elapsed().as_secs_f64();
    let rss_pass = peak_rss();
    // Beside it: the memory a pass needed when it held every new event to sort them (before
    // issue 19), measured by reading the same tree into one vector.
    reset_peak_rss();
    let mut held = Vec::new();
    let mut cursors = alto_core::feed::lucid::Cursors::default();
    alto_core::feed::lucid::read_tree(
        &scratch.1,
        &mut cursors,
        &mut |e| held.push(e),
        &mut |_| {},
    )?;
    let held_len = held.len();
    drop(held);
    let rss_held = peak_rss();
    println!(
        "follow_lucid: {} events in {} files, {} applied, {} stale, {} duplicate, {} skewed, \
         {} unknown; batches of {batch}",
        generated.events,
        generated.files,
        report.applied,
        report.stale,
        report.duplicate,
        report.skewed,
        report.unknown
    );
    println!(
        "alto feed: {:.1} s = {:.0} events/min",
        secs,
        report.read as f64 / secs * 60.0
    );
    println!(
        "peak RSS of the pass: {} MiB (before it: {} MiB); holding the pass's {held_len} events \
         instead: {} MiB",
        rss_pass / 1024,
        rss_before / 1024,
        rss_held / 1024
    );
    Ok(())
}

/// This process's peak resident set (KiB, `VmHWM`), 0 where /proc has none.
fn peak_rss() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// Reset the peak to the current resident set (Linux `clear_refs` 5) and return it.
fn reset_peak_rss() -> u64 {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    peak_rss()
}
