//! `alto plan`: a dry run of a rule set over an inventory. Writes nothing anywhere.

use crate::input::{InventoryArgs, check_strict, parse_now, read_inventory};
use crate::{CmdResult, Failure, fmt};
use alto_core::planner::{PlanOptions, PlanReport, Planner, parse_rate};
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
    #[command(flatten)]
    pub(crate) input: InventoryArgs,
    #[command(flatten)]
    pub(crate) plan: PlanFlags,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub(crate) format: Format,
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
    /// Tenant name for target templates.
    #[arg(long, default_value = "default")]
    pub(crate) tenant: String,
    /// Share name for target templates.
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
        o.tenant = self.tenant.clone();
        o.share = self.share.clone();
        Ok(o)
    }
}

pub(crate) fn run(args: PlanArgs, quiet: bool) -> CmdResult {
    let rules = RuleSet::from_path(&args.rules)?;
    let opts = args.plan.options()?;
    let bandwidth = args.plan.bandwidth.clone();
    let mut planner = Planner::new(&rules, opts);
    let stats = read_inventory(&args.input, quiet, |row| {
        planner.add(&row.facts(), None);
        Ok(())
    })?;
    let mut report = planner.finish();
    report.rows_rejected = stats.rejected;
    print_report(&report, args.format, &bandwidth)?;
    check_strict(&args.input, stats)
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
        "Plan at {}: {} files scanned, {} rows rejected, {} skipped (already stubbed or in flight)",
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
    for t in &r.by_rule {
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
