//! `alto run`, `alto rehydrate`, `alto jobs`, `alto cancel`: executing committed plans.

use crate::store::{StoreArgs, runtime};
use crate::{CmdResult, Failure, fmt};
use alto::store::FileQuery;
use alto::store::tiering::JobQuery;
use alto::time::format_rfc3339;
use alto::worker::FileProgress;
use alto::{Alto, JobState, RunOptions, TenantHandle, TierState};
use clap::Args;
use indicatif::ProgressBar;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// This host's Alto over an open store: shares mounted elsewhere, targets allowed.
pub(crate) async fn host_alto(
    store: Arc<dyn alto::Store>,
    share_roots: &[(String, std::path::PathBuf)],
    allow_targets: &[String],
) -> Result<Alto, Failure> {
    let mut b = Alto::with_store(store);
    for (name, dir) in share_roots {
        b = b.share_root(name.clone(), dir.clone());
    }
    for p in allow_targets {
        b = b.allow_target(p.clone());
    }
    Ok(b.connect().await?)
}

async fn tenants(alto: &Alto, only: Option<&str>) -> Result<Vec<TenantHandle>, Failure> {
    match only {
        Some(name) => Ok(vec![alto.tenant(name).await?]),
        None => Ok(alto.tenants().await?),
    }
}

#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// Only this tenant's jobs (default: every tenant's).
    #[arg(long)]
    tenant: Option<String>,
    /// Jobs run at the same time in this process.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=64))]
    workers: u64,
    /// Stop when no job is left instead of waiting for more.
    #[arg(long)]
    once: bool,
    /// Lease length in seconds (renewed while working).
    #[arg(long, default_value_t = 300)]
    lease_secs: i64,
    /// Seconds between polls when the queue is empty.
    #[arg(long, default_value_t = 5)]
    poll_secs: u64,
    /// A share mounted at DIR on this host instead of its recorded root (repeatable).
    #[arg(long = "share-root", value_name = "NAME=DIR", value_parser = crate::cmd_share::parse_share_root)]
    share_roots: Vec<(String, std::path::PathBuf)>,
    /// Use an SQLite store file another user owns, or one in a directory others may write.
    #[arg(long)]
    allow_shared_store: bool,
    /// Only tier targets under this prefix (repeatable; e.g. `file:///srv/tier2/`,
    /// `s3://bucket/`): a rule's target elsewhere is refused. Default: any target.
    #[arg(long = "allow-target", value_name = "PREFIX")]
    allow_targets: Vec<String>,
    /// Serve Prometheus metrics at this address (`127.0.0.1:9464`) while running.
    #[arg(long, value_name = "ADDR")]
    metrics_addr: Option<std::net::SocketAddr>,
}

/// The live view of `alto run`: files done out of the files of the jobs queued or running at the
/// start (the length grows when more jobs arrive), and bytes moved so far. Fed per file by the
/// workers; the summary line is computed from the job reports, not from this.
struct RunProgress {
    bar: ProgressBar,
    skipped: AtomicU64,
    failed: AtomicU64,
    bytes: AtomicU64,
}

impl RunProgress {
    fn new(quiet: bool, files: u64) -> Self {
        let bar = crate::input::styled_bar(
            quiet,
            Some(files),
            "{bar:20} {pos}/{len} files, {msg}, eta {eta}",
        );
        let p = RunProgress {
            bar,
            skipped: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
        };
        p.bar.set_message(p.message());
        p
    }

    fn message(&self) -> String {
        format!(
            "{} moved, {} skipped, {} failed",
            fmt::bytes(self.bytes.load(Ordering::Relaxed)),
            self.skipped.load(Ordering::Relaxed),
            self.failed.load(Ordering::Relaxed)
        )
    }

    fn file(&self, f: FileProgress) {
        match f {
            FileProgress::Stubbed { bytes } => {
                self.bytes.fetch_add(bytes, Ordering::Relaxed);
            }
            FileProgress::Skipped => {
                self.skipped.fetch_add(1, Ordering::Relaxed);
            }
            FileProgress::Failed => {
                self.failed.fetch_add(1, Ordering::Relaxed);
            }
            // A kind of outcome this CLI does not know yet: counted as done, nothing more.
            _ => {}
        }
        if self.bar.position() >= self.bar.length().unwrap_or(0) {
            self.bar.inc_length(1);
        }
        self.bar.set_message(self.message());
        self.bar.inc(1);
    }

    /// Print a line above the bar (or plainly when it is hidden).
    fn line(&self, s: &str) {
        self.bar.suspend(|| eprintln!("{s}"));
    }
}

/// Files of the jobs queued or running now, for the bar's length.
async fn pending_files(tenants: &[TenantHandle]) -> Result<u64, Failure> {
    let mut files = 0;
    for t in tenants {
        for state in [JobState::Queued, JobState::Running] {
            let mut pages = t.jobs(JobQuery {
                state: Some(state),
                ..Default::default()
            });
            while let Some(page) = pages.next_page().await? {
                files += page.iter().map(|j| j.estimate.files).sum::<u64>();
            }
        }
    }
    Ok(files)
}

pub(crate) fn run(args: RunArgs, quiet: bool) -> CmdResult {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.workers.clamp(1, 8) as usize)
        .enable_all()
        .build()
        .map_err(|e| Failure {
            code: 1,
            message: format!("cannot start the runtime: {e}"),
        })?;
    let started = std::time::Instant::now();
    let totals = rt.block_on(async {
        if let Some(addr) = args.metrics_addr {
            crate::metrics::serve(addr, quiet)?;
        }
        let store = args
            .store
            .open_trusted(quiet, args.allow_shared_store)
            .await?;
        if args.workers > 1 && !store.capabilities().concurrent_workers && !quiet {
            eprintln!(
                "alto: the {} store runs one writer at a time; {} workers will take turns",
                store.backend(),
                args.workers
            );
        }
        let alto = host_alto(store, &args.share_roots, &args.allow_targets).await?;
        let served = tenants(&alto, args.tenant.as_deref()).await?;
        let progress = Arc::new(RunProgress::new(quiet, pending_files(&served).await?));
        let mut opts = RunOptions::default()
            .workers(args.workers as usize)
            .once(args.once)
            .lease(std::time::Duration::from_secs(
                args.lease_secs.max(10) as u64
            ))
            .poll(std::time::Duration::from_secs(args.poll_secs));
        if let Some(t) = &args.tenant {
            opts = opts.tenant(t.clone());
        }
        let p = progress.clone();
        let opts = opts.on_file(move |f| p.file(f));
        let p = progress.clone();
        let opts = opts.on_job(move |tenant, r| {
            for e in &r.errors {
                p.line(&format!("alto: job {}: {e}", r.job));
            }
            if !quiet {
                p.line(&format!(
                    "alto: {tenant} job {}: {} stubbed, {} skipped, {} failed, {}",
                    r.job,
                    r.stubbed,
                    r.skipped,
                    r.failed,
                    fmt::bytes(r.bytes)
                ));
            }
        });
        let report = alto.run_workers(&opts).await;
        progress.bar.finish_and_clear();
        Ok::<_, Failure>(report?)
    })?;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{} jobs: {} files stubbed, {} skipped, {} failed; {} moved in {secs:.1}s ({}/s)",
        totals.jobs,
        fmt::count(totals.stubbed),
        fmt::count(totals.skipped),
        fmt::count(totals.failed),
        fmt::bytes(totals.bytes),
        fmt::bytes((totals.bytes as f64 / secs.max(1e-9)) as u64)
    );
    if totals.failed > 0 {
        return Err(Failure {
            code: 1,
            message: format!("{} files failed", totals.failed),
        });
    }
    Ok(())
}

#[derive(Debug, Args)]
pub(crate) struct RehydrateArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// Tenant name.
    #[arg(long)]
    tenant: String,
    /// Stubbed files whose paths match this glob.
    #[arg(long, conflicts_with = "paths")]
    glob: Option<String>,
    /// Paths, as in the inventory.
    #[arg(required_unless_present = "glob")]
    paths: Vec<String>,
    /// A share mounted at DIR on this host instead of its recorded root (repeatable).
    #[arg(long = "share-root", value_name = "NAME=DIR", value_parser = crate::cmd_share::parse_share_root)]
    share_roots: Vec<(String, std::path::PathBuf)>,
    /// Use an SQLite store file another user owns, or one in a directory others may write.
    #[arg(long)]
    allow_shared_store: bool,
    /// Only tier targets under this prefix (repeatable; e.g. `file:///srv/tier2/`,
    /// `s3://bucket/`): a rule's target elsewhere is refused. Default: any target.
    #[arg(long = "allow-target", value_name = "PREFIX")]
    allow_targets: Vec<String>,
}

pub(crate) fn rehydrate(args: RehydrateArgs, quiet: bool) -> CmdResult {
    runtime()?.block_on(async {
        let store = args
            .store
            .open_trusted(quiet, args.allow_shared_store)
            .await?;
        let alto = host_alto(store, &args.share_roots, &args.allow_targets).await?;
        let tenant = alto.tenant(&args.tenant).await?;
        let mut pages = tenant.files(FileQuery {
            glob: args.glob.clone(),
            state: Some(TierState::Stubbed),
            ..Default::default()
        });
        let mut files = Vec::new();
        while let Some(page) = pages.next_page().await? {
            files.extend(page.into_iter().filter(|f| {
                args.paths.is_empty()
                    || args.paths.iter().any(|p| {
                        p == &f.entry.path
                            || alto::path::normalized(p) == alto::path::normalized(&f.entry.path)
                    })
            }));
        }
        if files.is_empty() {
            return Err(Failure::usage("no stubbed file matches"));
        }
        let (mut ok, mut bytes, mut failed) = (0u64, 0u64, 0u64);
        for f in &files {
            match tenant.rehydrate_file(f).await {
                Ok(n) => {
                    ok += 1;
                    bytes += n;
                }
                Err(e) => {
                    failed += 1;
                    eprintln!("alto: cannot rehydrate {}: {e}", f.entry.path);
                }
            }
        }
        println!(
            "{ok} files rehydrated ({}), {failed} failed",
            fmt::bytes(bytes)
        );
        if failed > 0 {
            return Err(Failure {
                code: 1,
                message: format!("{failed} files failed"),
            });
        }
        Ok(())
    })
}

#[derive(Debug, Args)]
pub(crate) struct JobsArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// Only this tenant (default: all).
    #[arg(long)]
    tenant: Option<String>,
    /// Only jobs in this state: queued, running, done, failed, cancelled.
    #[arg(long)]
    state: Option<String>,
    /// One JSON object per line instead of a table.
    #[arg(long)]
    json: bool,
}

pub(crate) fn jobs(args: JobsArgs, quiet: bool) -> CmdResult {
    let state = match &args.state {
        Some(s) => Some(JobState::parse(s).ok_or_else(|| {
            Failure::usage(format!(
                "unknown job state {s:?}: queued, running, done, failed or cancelled"
            ))
        })?),
        None => None,
    };
    runtime()?.block_on(async {
        let alto = args.store.alto(quiet).await?;
        if !args.json {
            println!(
                "{:<12} {:>7} {:<10} {:<16} {:>8} {:>10} {:>8} {:>8} {:>7}  TARGET / LAST ERROR",
                "TENANT", "JOB", "STATE", "RULE", "FILES", "BYTES", "STUBBED", "SKIPPED", "TRIES"
            );
        }
        for t in tenants(&alto, args.tenant.as_deref()).await? {
            let mut pages = t.jobs(JobQuery {
                state,
                ..Default::default()
            });
            while let Some(page) = pages.next_page().await? {
                for j in &page {
                    if args.json {
                        let mut v = serde_json::to_value(j).map_err(std::io::Error::from)?;
                        v["tenant"] = t.name().into();
                        println!("{v}");
                    } else {
                        let note = j
                            .last_error
                            .clone()
                            .map_or_else(|| j.target.clone(), |e| format!("{} ({e})", j.target));
                        println!(
                            "{:<12} {:>7} {:<10} {:<16} {:>8} {:>10} {:>8} {:>8} {:>7}  {}",
                            t.name(),
                            j.id,
                            j.state.as_str(),
                            j.rule,
                            fmt::count(j.estimate.files),
                            fmt::bytes(j.estimate.bytes),
                            j.files_stubbed,
                            j.files_skipped,
                            j.attempts,
                            note
                        );
                    }
                }
            }
        }
        Ok(())
    })
}

#[derive(Debug, Args)]
pub(crate) struct CancelArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// Tenant name.
    #[arg(long)]
    tenant: String,
    /// Job id.
    job: i64,
}

pub(crate) fn cancel(args: CancelArgs, quiet: bool) -> CmdResult {
    runtime()?.block_on(async {
        let alto = args.store.alto(quiet).await?;
        let j = alto
            .tenant(&args.tenant)
            .await?
            .cancel_job(args.job)
            .await?;
        println!(
            "job {} cancelled at {}",
            j.id,
            format_rfc3339(j.finished.unwrap_or_default())
        );
        Ok(())
    })
}
