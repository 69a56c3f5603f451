//! `alto plan`: a dry run of a rule set over an inventory. Writes nothing anywhere.

use crate::input::{InventoryArgs, ReadFlags, RejectPrinter, finish_read, parse_now, progress_bar};
use crate::store::{StoreArgs, runtime};
use crate::{CmdResult, Failure, fmt};
use alto_core::planner::{PlanEvent, PlanOptions, PlanReport, parse_rate};
use alto_rules::RuleSet;
use clap::{Args, ValueEnum};
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum Format {
    Table,
    Json,
}

#[derive(Debug, Args)]
pub(crate) struct PlanArgs {
    /// The rule set (TOML, JSON or YAML).
    #[arg(long, short, value_name = "FILE")]
    pub(crate) rules: PathBuf,
    /// Plan from this inventory (CSV, Parquet, or an S3 Inventory's manifest.json). Without it
    /// (or --manifest), plan from the store's current file records of `--tenant`.
    #[arg(long, short = 'i', value_name = "FILE")]
    pub(crate) inventory: Option<PathBuf>,
    /// Column names, when they differ from the agents' format (inventory only).
    #[arg(long, value_name = "COLUMN=HEADER,…")]
    pub(crate) map: Option<String>,
    /// Exit with code 2 when any inventory row is rejected.
    #[arg(long)]
    pub(crate) strict: bool,
    /// Threads reading and evaluating an inventory (default 0: one per core). The plan is the
    /// same with any number.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub(crate) threads: usize,
    #[command(flatten)]
    pub(crate) read: ReadFlags,
    #[command(flatten)]
    pub(crate) store: StoreArgs,
    #[command(flatten)]
    pub(crate) plan: PlanFlags,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub(crate) format: Format,
    /// Commit the plan (store only): PLANNED tier objects and queued jobs for `alto run`.
    #[arg(long, conflicts_with_all = ["inventory", "manifest"])]
    pub(crate) commit: bool,
}

/// Flags that shape a plan, shared with `alto demo`.
#[derive(Debug, Args)]
pub(crate) struct PlanFlags {
    /// Evaluation time (RFC 3339); default now.
    #[arg(long, value_name = "TIME")]
    pub(crate) now: Option<String>,
    /// Most files in one job.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) batch_size: u64,
    /// Bandwidth to tier-2 storage: 1Gbit/s, 100Mbps, 125MB/s.
    #[arg(long, default_value = "1Gbit/s", value_name = "RATE")]
    pub(crate) bandwidth: String,
    /// Bandwidth of targets starting with PREFIX (repeatable): `s3://archive=200Mbit/s`.
    #[arg(long, value_name = "PREFIX=RATE")]
    pub(crate) target_bandwidth: Vec<String>,
    /// Fixed cost per file, in seconds.
    #[arg(long, default_value_t = 0.005, value_name = "SECS")]
    pub(crate) per_file_overhead: f64,
    /// Bytes a stub still occupies (size units allowed: 4KiB).
    #[arg(long, default_value = "4KiB", value_name = "SIZE")]
    pub(crate) stub_size: String,
    /// How many of the largest matches to list.
    #[arg(long, default_value_t = 10)]
    pub(crate) top: usize,
    /// Tenant: whose files to plan from the store, and the `{tenant}` of target templates.
    #[arg(long)]
    pub(crate) tenant: Option<String>,
    /// The `{share}` of target templates when planning an inventory (from the store, each file's
    /// own share).
    #[arg(long, default_value = "default")]
    pub(crate) share: String,
}

impl PlanFlags {
    pub(crate) fn options(&self) -> Result<PlanOptions, Failure> {
        let mut o = PlanOptions::at(parse_now(self.now.as_deref())?);
        o.batch_size = self.batch_size as usize;
        o.bandwidth_bps = parse_rate(&self.bandwidth)?;
        for spec in &self.target_bandwidth {
            let (prefix, rate) = spec.rsplit_once('=').ok_or_else(|| {
                Failure::usage(format!("--target-bandwidth {spec:?}: expected PREFIX=RATE"))
            })?;
            o.target_bandwidth
                .push((prefix.to_owned(), parse_rate(rate)?));
        }
        if !(self.per_file_overhead >= 0.0 && self.per_file_overhead.is_finite()) {
            return Err(Failure::usage(
                "--per-file-overhead must be 0 or more seconds",
            ));
        }
        o.per_file_overhead_secs = self.per_file_overhead;
        o.stub_size = alto_rules::parse_size(&self.stub_size)
            .map_err(|e| Failure::usage(format!("--stub-size: {e}")))?;
        o.top_n = self.top;
        o.tenant = self.tenant.clone().unwrap_or_else(|| "default".into());
        o.share = self.share.clone();
        Ok(o)
    }
}

pub(crate) fn run(args: PlanArgs, quiet: bool) -> CmdResult {
    let rules = RuleSet::from_path(&args.rules)?;
    let mut opts = args.plan.options()?;
    opts.keep_files = args.commit;
    let now = opts.now;
    let bandwidth = args.plan.bandwidth.clone();
    let mut rejected = 0;
    let mut no_rows = false;
    let mut committed = None;
    let inventory = args.inventory.as_ref().or(args.read.manifest.as_ref());
    let report = match inventory {
        Some(inventory) => {
            let input = InventoryArgs {
                inventory: Some(inventory.clone()),
                map: args.map.clone(),
                strict: args.strict,
                read: args.read.clone(),
            };
            let (report, stats) = plan_file(&rules, &input, opts, args.threads, quiet)?;
            rejected = stats.rejected;
            no_rows = stats.accepted == 0;
            report
        }
        None => {
            let Some(tenant) = &args.plan.tenant else {
                return Err(Failure::usage(
                    "give --inventory FILE, or --tenant NAME to plan from the store",
                ));
            };
            // The handle plans from the store and, with --commit, commits before anything is
            // printed: a report that cannot be written (a closed stdout) must not hide whether
            // the plan was committed, and a failed commit prints no report that looks final.
            let mut req = alto::PlanRequest::at(now).commit(args.commit);
            req.options = opts;
            let out = runtime()?.block_on(async {
                let t = args.store.alto(quiet).await?.tenant(tenant).await?;
                Ok::<_, Failure>(t.plan(&rules, &req).await?)
            })?;
            committed = out.committed;
            out.report
        }
    };
    if let Some(out) = committed {
        eprintln!(
            "alto: committed: {} jobs, {} files planned, {} requeued, {} already planned, {} already stubbed, {} plans withdrawn",
            out.jobs,
            out.planned,
            out.requeued,
            out.already_planned,
            out.already_stubbed,
            out.withdrawn
        );
    }
    print_report(&report, args.format, &bandwidth)?;
    // The report is printed either way: --strict and an empty inventory only change the exit
    // code.
    if no_rows {
        return Err(Failure::usage(format!(
            "no row of {} was accepted",
            inventory
                .map(PathBuf::as_path)
                .unwrap_or(std::path::Path::new(""))
                .display()
        )));
    }
    if args.strict && rejected > 0 {
        return Err(Failure::usage(format!(
            "{rejected} rows rejected (--strict)"
        )));
    }
    Ok(())
}

/// Plan an inventory file on `threads` threads (0: one per core), printing notes, rejections
/// and progress as the one-thread read did.
fn plan_file(
    rules: &RuleSet,
    input: &InventoryArgs,
    opts: alto_core::planner::PlanOptions,
    threads: usize,
    quiet: bool,
) -> Result<(PlanReport, alto_core::inventory::ReadStats), Failure> {
    let options = input.read.options(input.map.as_deref())?;
    let threads = if threads == 0 {
        alto_core::inventory::default_threads()
    } else {
        threads
    };
    let total = std::fs::metadata(input.path()).ok().map(|m| m.len());
    let bar = progress_bar(quiet, total);
    let mut rejects = RejectPrinter::default();
    let mut rows_seen = false;
    let (report, stats) = alto_core::planner::plan_inventory(
        rules,
        input.path(),
        &options,
        opts,
        threads,
        |event| match event {
            PlanEvent::Rejected(r) => {
                rows_seen = true;
                rejects.print(r);
            }
            // The file's notes (before any row) are printed even when quiet, as they always
            // were; the rows' notes only when not.
            PlanEvent::Note(n) => {
                if !quiet || !rows_seen {
                    bar.suspend(|| eprintln!("alto: note: {n}"));
                }
            }
            PlanEvent::Progress(p) => {
                rows_seen = true;
                bar.set_position(p.done);
            }
        },
    )?;
    bar.finish_and_clear();
    finish_read(input, quiet, stats, &rejects);
    Ok((report, stats))
}

pub(crate) fn print_report(report: &PlanReport, format: Format, bandwidth: &str) -> CmdResult {
    let mut out = std::io::stdout().lock();
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, report).map_err(std::io::Error::from)?;
            writeln!(out)?;
        }
        Format::Table => write_table(&mut out, report, bandwidth)?,
    }
    Ok(())
}

fn write_table(out: &mut impl Write, r: &PlanReport, bandwidth: &str) -> std::io::Result<()> {
    writeln!(
        out,
        "Plan at {}: {} files scanned, {} rows rejected, {} skipped (already stubbed)",
        r.now,
        fmt::count(r.files_scanned),
        fmt::count(r.rows_rejected),
        fmt::count(r.files_skipped)
    )?;
    writeln!(
        out,
        "Would tier {} files, {} (frees {}), in {} jobs; transfer about {} at {bandwidth}",
        fmt::count(r.files_matched),
        fmt::bytes(r.bytes_matched),
        fmt::bytes(r.bytes_saved),
        fmt::count(r.jobs.len() as u64),
        fmt::duration(r.estimated_seconds),
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "{:<24} {:>12} {:>10} {:>10} {:>6} {:>10}  TARGET",
        "RULE", "FILES", "BYTES", "FREES", "JOBS", "TIME"
    )?;
    for t in r
        .by_rule
        .iter()
        .filter(|t| !r.disabled_rules.contains(&t.rule))
    {
        let jobs: Vec<_> = r.jobs.iter().filter(|j| j.rule == t.rule).collect();
        let secs: f64 = jobs.iter().map(|j| j.estimated_seconds).sum();
        let target = jobs.first().map_or("", |j| j.target.as_str());
        writeln!(
            out,
            "{:<24} {:>12} {:>10} {:>10} {:>6} {:>10}  {}",
            t.rule,
            fmt::count(t.files),
            fmt::bytes(t.bytes),
            fmt::bytes(t.bytes_saved),
            jobs.len(),
            fmt::duration(secs),
            target
        )?;
    }
    if !r.unmatched_rules.is_empty() {
        writeln!(
            out,
            "\nRules that matched nothing: {}",
            r.unmatched_rules.join(", ")
        )?;
    }
    if !r.disabled_rules.is_empty() {
        writeln!(out, "Disabled rules: {}", r.disabled_rules.join(", "))?;
    }
    if !r.largest.is_empty() {
        writeln!(out, "\nLargest matches:")?;
        for m in &r.largest {
            writeln!(
                out,
                "  {:>10}  {}  ({})",
                fmt::bytes(m.size),
                m.path,
                m.rule
            )?;
        }
    }
    Ok(())
}
