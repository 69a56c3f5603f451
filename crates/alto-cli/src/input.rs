//! Arguments shared by the commands that read an inventory, and the read loop with its progress
//! bar and rejection report.

use crate::{CmdResult, Failure};
use alto_core::inventory::{
    self, ColumnMap, InventoryOptions, InventoryRow, InventorySource, Item, ReadStats, Rejection,
};
use alto_core::time::{Micros, now_micros, parse_timestamp};
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::path::PathBuf;

/// How many rejected rows are printed one by one before only counting.
const SHOW_REJECTED: u64 = 100;

#[derive(Debug, Args)]
pub(crate) struct InventoryArgs {
    /// The inventory: CSV with a header line, or Parquet.
    #[arg(long, short = 'i', value_name = "FILE")]
    pub(crate) inventory: PathBuf,
    /// Column names, when they differ from the agents' format:
    /// `file_path=FullName,file_size=Length,last_accessed=LastAccessTime`.
    #[arg(long, value_name = "COLUMN=HEADER,…")]
    pub(crate) map: Option<String>,
    /// Exit with code 2 when any row is rejected (the report is still printed).
    #[arg(long)]
    pub(crate) strict: bool,
}

/// `--now`: evaluation time (RFC 3339 or any accepted timestamp form); default the current time.
pub(crate) fn parse_now(now: Option<&str>) -> Result<Micros, Failure> {
    match now {
        Some(s) => parse_timestamp(s).map_err(|e| Failure::usage(format!("--now: {e}"))),
        None => Ok(now_micros()),
    }
}

/// Open the inventory named by the arguments.
pub(crate) fn open_inventory(args: &InventoryArgs) -> Result<Box<dyn InventorySource>, Failure> {
    let columns = match &args.map {
        Some(spec) => ColumnMap::parse(spec)?,
        None => ColumnMap::new(),
    };
    let opts = InventoryOptions::new().with_columns(columns);
    Ok(inventory::open(&args.inventory, &opts)?)
}

/// Prints rejected rows on stderr, the first [`SHOW_REJECTED`] one by one, then only counts.
#[derive(Debug, Default)]
pub(crate) struct RejectPrinter {
    seen: u64,
}

impl RejectPrinter {
    pub(crate) fn print(&mut self, r: &Rejection) {
        self.seen += 1;
        if self.seen <= SHOW_REJECTED {
            eprintln!("alto: rejected {r}");
        } else if self.seen == SHOW_REJECTED + 1 {
            eprintln!("alto: more rows rejected; only counting from here");
        }
    }
}

/// Read every row of the inventory, calling `on_row` for accepted ones; rejected rows are printed
/// to stderr with their line, column and reason. Returns the counts.
pub(crate) fn read_inventory(
    args: &InventoryArgs,
    quiet: bool,
    mut on_row: impl FnMut(&InventoryRow<'_>) -> CmdResult,
) -> Result<ReadStats, Failure> {
    let mut src = open_inventory(args)?;
    let bar = progress_bar(quiet, src.progress().total);
    let mut rejects = RejectPrinter::default();
    let mut n: u64 = 0;
    while let Some(item) = src.next_item()? {
        match item {
            Item::Row(row) => on_row(&row)?,
            Item::Rejected(r) => rejects.print(&r),
        }
        n += 1;
        if n % 65_536 == 0 {
            bar.set_position(src.progress().done);
        }
    }
    bar.finish_and_clear();
    let stats = src.stats();
    if !quiet || stats.rejected > 0 {
        eprintln!(
            "alto: read {}: {} rows accepted, {} rejected",
            args.inventory.display(),
            stats.accepted,
            stats.rejected
        );
    }
    Ok(stats)
}

/// Exit 2 under `--strict` when rows were rejected.
pub(crate) fn check_strict(args: &InventoryArgs, stats: ReadStats) -> CmdResult {
    if args.strict && stats.rejected > 0 {
        return Err(Failure::usage(format!(
            "{} rows rejected (--strict)",
            stats.rejected
        )));
    }
    Ok(())
}

pub(crate) fn progress_bar(quiet: bool, total: Option<u64>) -> ProgressBar {
    styled_bar(
        quiet,
        total,
        "reading {bar:40} {percent}% elapsed {elapsed} eta {eta}",
    )
}

/// A progress bar on stderr with an indicatif `template`; hidden under `--quiet` and when stderr
/// is not a terminal (pipes, logs and tests see only the summary lines).
pub(crate) fn styled_bar(quiet: bool, total: Option<u64>, template: &str) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(total, ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}
