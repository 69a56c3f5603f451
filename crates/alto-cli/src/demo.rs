//! `alto demo`: a realistic inventory generated on the spot, ingested into a store (by default a
//! temporary SQLite file: the embedded default, no server), and planned from the store with the
//! example rules.
//!
//! The generator mirrors `shared/bench/gen_inventory.py` (directory fan-out, log-normal sizes,
//! ages over eight years, a media/office extension mix) so the demo looks like a real share, and
//! it is deterministic: the same seed gives the same file.

use crate::cmd_ingest::ingest_with_progress;
use crate::cmd_plan::{Format, PlanFlags, print_report};
use crate::input::{InventoryArgs, open_inventory_file, print_notes};
use crate::store::runtime;
use crate::{CmdResult, Failure, fmt};
use alto::{ErrorKind, IngestRequest, ShareKind, TenantSettings};
use alto_core::time::{MICROS_PER_SEC, format_rfc3339, parse_timestamp};
use alto_rules::RuleSet;
use clap::Args;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

const EXAMPLE_RULES: &str = include_str!("../../../examples/rules.toml");
const DEMO_NOW: &str = "2025-11-01T00:00:00Z";

#[derive(Debug, Args)]
pub(crate) struct DemoArgs {
    /// How many files to generate.
    #[arg(long, default_value_t = 100_000)]
    files: u64,
    /// Seed of the generator.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Write the inventory here (default: a temporary file, removed afterwards).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Keep the demo's state in this store (`sqlite://PATH`, `postgres://…`); it ingests into the
    /// tenant `demo`, share `data`. Default: an SQLite file in the temporary directory, removed
    /// afterwards.
    #[arg(long, value_name = "URL")]
    store: Option<String>,
    /// Rule set to plan with (default: the built-in copy of examples/rules.toml).
    #[arg(long, value_name = "FILE")]
    rules: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
}

/// xorshift64*: small, fast, deterministic; statistical quality is plenty for fake inventories.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn normal(&mut self) -> f64 {
        let (u1, u2) = (self.unit().max(f64::MIN_POSITIVE), self.unit());
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
}

const EXTS: [(&str, u64); 15] = [
    (".pdf", 12),
    (".docx", 10),
    (".xlsx", 8),
    (".jpg", 14),
    (".png", 6),
    (".mov", 4),
    (".mp4", 6),
    (".mxf", 2),
    (".psd", 3),
    (".zip", 3),
    (".tmp", 2),
    (".txt", 8),
    (".wav", 3),
    (".exr", 2),
    ("", 1),
];

/// Write `rows` inventory rows in the agents' CSV format.
pub(crate) fn generate(path: &Path, rows: u64, seed: u64, now: i64) -> std::io::Result<()> {
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let total_weight: u64 = EXTS.iter().map(|e| e.1).sum();
    let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    writeln!(
        w,
        "file_path,file_size,last_modified,last_accessed,file_extension,permissions,owner,hash"
    )?;
    let day = 86_400 * MICROS_PER_SEC;
    for i in 0..rows {
        let (root, sep) = match i % 10 {
            0..=6 => (r"C:\Data", '\\'),
            7 | 8 => (r"\\fs01\share", '\\'),
            _ => ("/srv/data", '/'),
        };
        let mut pick = rng.below(total_weight);
        let ext = EXTS
            .iter()
            .find(|(_, wgt)| {
                let hit = pick < *wgt;
                pick = pick.saturating_sub(*wgt);
                hit
            })
            .map_or("", |e| e.0);
        let size = (12.0 + 2.5 * rng.normal()).exp().min(5e12) as u64;
        let mtime = now - (rng.unit() * (8 * 365) as f64 * day as f64) as i64;
        let atime = (mtime + (rng.unit() * 400.0 * day as f64) as i64).min(now);
        let kind = if rng.below(50) == 0 {
            "render_v"
        } else {
            "file_"
        };
        writeln!(
            w,
            "\"{root}{sep}dept{}{sep}proj{}{sep}y{}{sep}{kind}{i:08}{ext}\",{size},{},{},{ext},rw-r--r--,DOMAIN\\user{},sha256:{:016x}",
            i % 37,
            (i / 37) % 211,
            2015 + (i % 11),
            format_rfc3339(mtime - mtime % MICROS_PER_SEC),
            format_rfc3339(atime - atime % MICROS_PER_SEC),
            i % 97,
            rng.next(),
        )?;
    }
    w.flush()
}

pub(crate) fn run(args: DemoArgs, quiet: bool) -> CmdResult {
    let now = parse_timestamp(DEMO_NOW).map_err(Failure::usage)?;
    let rules = match &args.rules {
        Some(p) => RuleSet::from_path(p)?,
        None => RuleSet::from_toml(EXAMPLE_RULES)?,
    };
    let tmp;
    let path = match &args.out {
        Some(p) => p.clone(),
        None => {
            tmp = TempFile::new("alto-demo-inventory.csv");
            tmp.0.clone()
        }
    };
    let started = std::time::Instant::now();
    generate(&path, args.files, args.seed, now)?;
    if !quiet {
        eprintln!(
            "alto demo: generated {} files in {:.2?} ({}); ingesting, then planning at {DEMO_NOW}",
            args.files,
            started.elapsed(),
            path.display()
        );
    }
    let flags = PlanFlags {
        now: Some(DEMO_NOW.into()),
        batch_size: 1000,
        bandwidth: "1Gbit/s".into(),
        target_bandwidth: Vec::new(),
        per_file_overhead: 0.005,
        stub_size: "4KiB".into(),
        top: 10,
        tenant: Some("demo".into()),
        share: "data".into(),
    };
    let input = InventoryArgs {
        inventory: Some(path.clone()),
        map: None,
        strict: false,
        read: Default::default(),
    };
    let db;
    let url = match &args.store {
        Some(u) => u.clone(),
        None => {
            db = TempFile::new("alto-demo.db");
            format!("sqlite://{}", db.0.display())
        }
    };
    let plan_opts = flags.options()?;
    let (ingested, took, mut report) = runtime()?.block_on(async {
        let alto = alto::connect(&url).await?;
        let tenant = match alto.tenant("demo").await {
            Ok(t) => t,
            Err(e) if e.kind() == ErrorKind::NotFound => {
                alto.create_tenant("demo", &TenantSettings::default())
                    .await?
            }
            Err(e) => return Err(Failure::from(e)),
        };
        let mut file = open_inventory_file(&input)?;
        print_notes(file.take_notes(), false);
        let req = IngestRequest::default().kind(ShareKind::Ntfs).full_scan();
        let started = std::time::Instant::now();
        let ingested = ingest_with_progress(&tenant, "data", file, req, quiet).await?;
        let took = started.elapsed();
        if !quiet {
            eprintln!(
                "alto demo: ingested into {url} (tenant demo, share data) in {took:.2?}: new {}, \
                 changed {}, unchanged {}, missing {}",
                fmt::count(ingested.new),
                fmt::count(ingested.changed),
                fmt::count(ingested.unchanged),
                fmt::count(ingested.missing)
            );
        }
        let started = std::time::Instant::now();
        let mut req = alto::PlanRequest::at(plan_opts.now);
        req.options = plan_opts;
        let planned = tenant.plan(&rules, &req).await?;
        Ok::<_, Failure>((ingested, started.elapsed(), planned.report))
    })?;
    report.rows_rejected = ingested.rejected;
    print_report(&report, args.format, &flags.bandwidth)?;
    if !quiet {
        eprintln!(
            "alto demo: planned {} files from the store in {took:.2?}",
            fmt::count(report.files_scanned)
        );
    }
    Ok(())
}

/// A file in the temporary directory, removed on drop.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str) -> Self {
        TempFile(std::env::temp_dir().join(format!("{}-{name}", std::process::id())))
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
        // An SQLite database's write-ahead log and its index, when there are any.
        for ext in ["-wal", "-shm"] {
            let mut p = self.0.clone().into_os_string();
            p.push(ext);
            let _ = std::fs::remove_file(p);
        }
    }
}
