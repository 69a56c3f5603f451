//! Benchmark: tier 10,000 files of 4 KiB and 10 files of 1 GiB to a `file://` target on the same
//! disk, beside `cp -r` and `rclone copy` (which verifies each copy with MD5) of the same tree in
//! the same run.
//!
//! ```sh
//! cargo run --release -p alto-tier --example tier_bench -- bench-data/tier [--small N] [--large N]
//! ```
//!
//! The source tree is generated once under DIR/src. Each run: `cp -r src copy` (the baseline; it
//! also makes the tree that gets tiered), then Alto tiers `copy` to `DIR/target` with the memory
//! store: every file uploaded while hashed, verified by reading it back, replaced by a stub, and
//! recorded. Prints files/s, MB/s and the ratio to `cp -r`.

use alto_core::driver::TierTarget;
use alto_core::planner::{PlanOptions, Planner};
use alto_core::store::{FileQuery, IngestChunk, ScanKind, ScanSpec, ShareSpec};
use alto_core::worker::{TargetOpener, WorkerOptions, run_one_job};
use alto_core::{FileEntry, MemoryStore, RuleSet, ShareKind, Store, TenantSettings};
use alto_tier::{ObjectTarget, PosixStubDriver};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn generate(src: &Path, small: u64, large: u64) -> std::io::Result<()> {
    let marker = src.join(format!(".complete-{small}-{large}"));
    if marker.exists() {
        return Ok(());
    }
    let _ = std::fs::remove_dir_all(src);
    for i in 0..small {
        let dir = src.join(format!("small/d{:03}", i % 100));
        std::fs::create_dir_all(&dir)?;
        let mut data = vec![0u8; 4096];
        data[..8].copy_from_slice(&i.to_le_bytes());
        std::fs::write(dir.join(format!("f{i:05}.dat")), &data)?;
    }
    std::fs::create_dir_all(src.join("large"))?;
    let block: Vec<u8> = (0..(8 << 20))
        .map(|i: u32| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    for i in 0..large {
        let mut f =
            std::io::BufWriter::new(std::fs::File::create(src.join(format!("large/g{i}.bin")))?);
        for _ in 0..128 {
            f.write_all(&block)?;
        }
        f.flush()?;
    }
    std::fs::write(marker, b"")?;
    Ok(())
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        if e.file_type()?.is_dir() {
            walk(&e.path(), out)?;
        } else if !e.file_name().to_string_lossy().starts_with('.') {
            out.push(e.path());
        }
    }
    Ok(())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .ok_or("usage: tier_bench DIR [--small N] [--large N]")?,
    );
    let (small, large) = (arg("--small", 10_000), arg("--large", 10));
    let dir = std::fs::canonicalize({
        std::fs::create_dir_all(&dir)?;
        &dir
    })?;
    let (src, copy, target) = (dir.join("src"), dir.join("copy"), dir.join("target"));
    let t = Instant::now();
    generate(&src, small, large)?;
    println!(
        "source tree: {small} x 4 KiB + {large} x 1 GiB (ready in {:.1?})",
        t.elapsed()
    );
    let _ = std::fs::remove_dir_all(&copy);
    let _ = std::fs::remove_dir_all(&target);
    let sync = || std::process::Command::new("sync").status().map(|_| ());
    sync()?;

    let t = Instant::now();
    let st = std::process::Command::new("cp")
        .arg("-r")
        .arg(&src)
        .arg(&copy)
        .status()?;
    if !st.success() {
        return Err("cp -r failed".into());
    }
    sync()?;
    let cp_secs = t.elapsed().as_secs_f64();

    let mut files = Vec::new();
    walk(&copy, &mut files)?;
    let bytes: u64 = files
        .iter()
        .map(|p| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0))
        .sum();
    let n = files.len() as f64;
    let mb = bytes as f64 / 1e6;
    println!(
        "baseline  cp -r                : {n} files, {mb:.0} MB in {cp_secs:.2}s = {:.0} files/s, {:.0} MB/s",
        n / cp_secs,
        mb / cp_secs
    );
    // rclone copy of the same tree (a peer that also verifies: MD5 after each transfer), when
    // rclone is installed.
    let rclone_dir = dir.join("rclone");
    let _ = std::fs::remove_dir_all(&rclone_dir);
    let t = Instant::now();
    let rclone = std::process::Command::new("rclone")
        .args(["copy", "--transfers", "2", "--checkers", "2"])
        .arg(&src)
        .arg(&rclone_dir)
        .status();
    let rclone_secs = match rclone {
        Ok(st) if st.success() => {
            sync()?;
            let secs = t.elapsed().as_secs_f64();
            println!(
                "baseline  rclone copy          : {n} files, {mb:.0} MB in {secs:.2}s = {:.0} files/s, {:.0} MB/s",
                n / secs,
                mb / secs
            );
            Some(secs)
        }
        _ => {
            println!("baseline  rclone copy          : rclone not available, skipped");
            None
        }
    };
    let _ = std::fs::remove_dir_all(&rclone_dir);

    let store = Arc::new(MemoryStore::new());
    let tenant = store
        .create_tenant("bench", &TenantSettings::default())
        .await?;
    store
        .ensure_share(
            tenant.id,
            &ShareSpec::new("data", ShareKind::Posix).with_root(copy.display().to_string()),
        )
        .await?;
    let entries: Vec<FileEntry> = files
        .iter()
        .map(|p| {
            let m = std::fs::metadata(p).unwrap();
            let mtime = m
                .modified()
                .unwrap()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_micros() as i64;
            FileEntry {
                path: p.display().to_string(),
                size: m.len(),
                modified: Some(mtime),
                accessed: Some(0),
                ..Default::default()
            }
        })
        .collect();
    let scan = store
        .begin_scan(tenant.id, &ScanSpec::new("data", ScanKind::Full))
        .await?;
    store
        .ingest_chunk(
            tenant.id,
            scan.id,
            &IngestChunk {
                id: "0".into(),
                entries,
            },
        )
        .await?;
    store.finish_scan(tenant.id, scan.id).await?;
    let rules = RuleSet::from_toml(&format!(
        "[[rule]]\nname = \"all\"\ntarget = \"file://{}/\"\n",
        target.display()
    ))?;
    let now = alto_core::time::now_micros();
    let mut opts = PlanOptions::at(now);
    opts.keep_files = true;
    opts.batch_size = 500;
    let mut planner = Planner::new(&rules, opts);
    let mut q = FileQuery {
        limit: 5000,
        ..Default::default()
    };
    loop {
        let page = store.files(tenant.id, &q).await?;
        for f in &page.items {
            planner.add_record(f);
        }
        match page.next {
            Some(n) => q.after = Some(n),
            None => break,
        }
    }
    let plan = planner.finish();
    store
        .tiering()
        .commit_plan(tenant.id, &plan.to_commit(now))
        .await?;

    let t = Instant::now();
    let mut handles = Vec::new();
    for w in 0..2 {
        let (store, tenant) = (store.clone(), tenant.clone());
        handles.push(tokio::spawn(async move {
            let targets: Box<TargetOpener> =
                Box::new(|u: &str| Ok(Arc::new(ObjectTarget::open(u)?) as Arc<dyn TierTarget>));
            let opts = WorkerOptions {
                name: format!("bench-{w}"),
                ..Default::default()
            };
            let (mut stubbed, mut moved) = (0u64, 0u64);
            while let Some(r) =
                run_one_job(store.as_ref(), &tenant, &targets, &PosixStubDriver, &opts).await?
            {
                assert!(r.errors.is_empty(), "{:?}", r.errors);
                stubbed += r.stubbed;
                moved += r.bytes;
            }
            Ok::<_, alto_core::Error>((stubbed, moved))
        }));
    }
    let (mut stubbed, mut moved) = (0, 0);
    for h in handles {
        let (s, m) = h.await??;
        stubbed += s;
        moved += m;
    }
    sync()?;
    let secs = t.elapsed().as_secs_f64();
    println!(
        "alto      tier (2 workers)     : {stubbed} files, {:.0} MB in {secs:.2}s = {:.0} files/s, {:.0} MB/s (upload + hash, verify by re-reading, stub swap + fsync, record)",
        moved as f64 / 1e6,
        stubbed as f64 / secs,
        moved as f64 / 1e6 / secs
    );
    println!("ratio     alto time / cp -r time: {:.2}", secs / cp_secs);
    if let Some(r) = rclone_secs {
        println!("ratio     alto time / rclone time: {:.2}", secs / r);
    }
    assert_eq!(stubbed as usize, files.len());
    let _ = std::fs::remove_dir_all(&copy);
    let _ = std::fs::remove_dir_all(&target);
    Ok(())
}
