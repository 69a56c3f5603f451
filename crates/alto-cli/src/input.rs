//! Arguments shared by the commands that read an inventory, and the read loop with its progress
//! bar and rejection report.

use crate::{CmdResult, Failure};
use alto_core::inventory::{
    self, ColumnMap, DateOrder, Encoding, InventoryOptions, InventoryRow, InventorySource, Item,
    Preset, ReadStats, RejectTally, Rejection, Zone,
};
use alto_core::time::{Micros, now_micros, parse_timestamp};
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

/// How many rejected rows are printed one by one before only counting.
const SHOW_REJECTED: u64 = 100;

#[derive(Debug, Args)]
pub(crate) struct InventoryArgs {
    /// The inventory: CSV (any delimiter, UTF-8 or UTF-16, gzip or zstd), Parquet, or an S3
    /// Inventory's manifest.json (every data file it lists is read). Not needed with --manifest.
    #[arg(
        long,
        short = 'i',
        value_name = "FILE",
        required_unless_present = "manifest"
    )]
    pub(crate) inventory: Option<PathBuf>,
    /// Column names, when they differ from the agents' format:
    /// `file_path=FullName,file_size=Length,last_accessed=LastAccessTime`.
    #[arg(long, value_name = "COLUMN=HEADER,…")]
    pub(crate) map: Option<String>,
    /// Exit with code 2 when any row is rejected (the report is still printed).
    #[arg(long)]
    pub(crate) strict: bool,
    #[command(flatten)]
    pub(crate) read: ReadFlags,
}

/// How to read an inventory: the flags every command that reads one shares (they map onto
/// alto-core's `InventoryOptions`).
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct ReadFlags {
    /// The tool that wrote the inventory (its column names, date form, folder marker and quirks);
    /// detected from the header where only one tool writes it.
    #[arg(long, value_name = "TOOL", value_parser = parse_preset)]
    pub(crate) preset: Option<Preset>,
    /// Field delimiter: `,` `;` `tab` `|` (default: guessed from the header line).
    #[arg(long, value_name = "CHAR", value_parser = parse_delimiter)]
    pub(crate) delimiter: Option<u8>,
    /// Lines to skip before the header (default: the header is found past `#` lines and a
    /// preamble).
    #[arg(long, value_name = "N")]
    pub(crate) skip_lines: Option<usize>,
    /// Encoding of a file without a byte-order mark: utf-8 (default), utf-16le, utf-16be,
    /// windows-1252, latin1.
    #[arg(long, value_name = "NAME", value_parser = parse_encoding)]
    pub(crate) encoding: Option<Encoding>,
    /// A headerless file's fields, in order: `file_path,file_size,last_modified`.
    #[arg(long, value_name = "NAME,…", value_delimiter = ',')]
    pub(crate) columns: Option<Vec<String>>,
    /// An S3 Inventory's manifest.json. Alone, the inventory is every data file it lists, in
    /// order, looked for beside it as a download of the report leaves them (the key below the
    /// manifest's folder, then ../data/, data/, the folder itself), each checked against the
    /// manifest's size and MD5 (CSV or Parquet; ORC is not read). With an inventory file, its
    /// fileSchema names that one data file's columns. Implies --preset s3-inventory.
    #[arg(long, value_name = "FILE")]
    pub(crate) manifest: Option<PathBuf>,
    /// Day order of a/b/yyyy dates: dmy or mdy (default: decided from the whole column; refused
    /// when every date fits both).
    #[arg(long, value_name = "dmy|mdy", value_parser = parse_date_order)]
    pub(crate) date_order: Option<DateOrder>,
    /// IANA time zone of times written without one (default UTC): `Europe/London`.
    #[arg(long, value_name = "ZONE", value_parser = parse_zone)]
    pub(crate) timezone: Option<Zone>,
    /// Put this in front of relative paths (`s3://bucket`, `/mnt/share`); without it a relative
    /// path is rejected by ingest.
    #[arg(long, value_name = "PREFIX")]
    pub(crate) path_prefix: Option<String>,
}

fn parse_preset(s: &str) -> Result<Preset, String> {
    Preset::parse(s).map_err(|e| e.message().to_owned())
}

fn parse_encoding(s: &str) -> Result<Encoding, String> {
    Encoding::parse(s).map_err(|e| e.message().to_owned())
}

fn parse_date_order(s: &str) -> Result<DateOrder, String> {
    DateOrder::parse(s)
}

fn parse_zone(s: &str) -> Result<Zone, String> {
    Zone::named(s)
}

fn parse_delimiter(s: &str) -> Result<u8, String> {
    match s {
        "tab" | "\\t" | "\t" => Ok(b'\t'),
        "comma" => Ok(b','),
        "semicolon" => Ok(b';'),
        "pipe" => Ok(b'|'),
        _ if s.len() == 1 && s.is_ascii() => Ok(s.as_bytes()[0]),
        _ => Err(format!("bad delimiter {s:?}: one ASCII character, or tab")),
    }
}

impl ReadFlags {
    /// The reader options these flags and `--map` say.
    pub(crate) fn options(&self, map: Option<&str>) -> Result<InventoryOptions, Failure> {
        let columns = match map {
            Some(spec) => ColumnMap::parse(spec)?,
            None => ColumnMap::new(),
        };
        let mut o = InventoryOptions::new().with_columns(columns);
        if let Some(m) = &self.manifest {
            let text = std::fs::read_to_string(m)
                .map_err(|e| Failure::usage(format!("--manifest {}: {e}", m.display())))?;
            o = o.with_s3_manifest(&text).map_err(|e| {
                Failure::usage(format!("--manifest {}: {}", m.display(), e.message()))
            })?;
        }
        o.preset = self.preset.or(o.preset);
        o.delimiter = self.delimiter;
        o.skip_lines = self.skip_lines;
        o.encoding = self.encoding;
        if let Some(c) = &self.columns {
            o.headerless = Some(c.iter().map(|s| s.trim().to_owned()).collect());
        }
        o.date_order = self.date_order;
        o.zone = self.timezone.clone();
        o.path_prefix = self.path_prefix.clone();
        Ok(o)
    }
}

/// `--now`: evaluation time (RFC 3339 or any accepted timestamp form); default the current time.
pub(crate) fn parse_now(now: Option<&str>) -> Result<Micros, Failure> {
    match now {
        Some(s) => parse_timestamp(s).map_err(|e| Failure::usage(format!("--now: {e}"))),
        None => Ok(now_micros()),
    }
}

impl InventoryArgs {
    /// The file to open: the inventory, else the manifest (read whole).
    pub(crate) fn path(&self) -> &Path {
        inventory_path(self.inventory.as_deref(), &self.read)
    }
}

/// The file to open: `inventory`, else `--manifest` (an S3 Inventory read whole through it).
pub(crate) fn inventory_path<'a>(inventory: Option<&'a Path>, read: &'a ReadFlags) -> &'a Path {
    inventory
        .or(read.manifest.as_deref())
        .unwrap_or(Path::new(""))
}

/// Open the inventory named by the arguments.
pub(crate) fn open_inventory(args: &InventoryArgs) -> Result<Box<dyn InventorySource>, Failure> {
    let opts = args.read.options(args.map.as_deref())?;
    let mut src = inventory::open(args.path(), &opts)?;
    print_notes(src.take_notes(), false);
    Ok(src)
}

/// Open the inventory named by the arguments for the library's ingest (its notes not printed
/// yet: [`print_notes`]).
pub(crate) fn open_inventory_file(args: &InventoryArgs) -> Result<alto::InventoryFile, Failure> {
    let opts = args.read.options(args.map.as_deref())?;
    Ok(alto::InventoryFile::open(args.path(), &opts)?)
}

/// Print the reader's notes (a detected preset, a skipped preamble, times read as UTC) on stderr.
pub(crate) fn print_notes(notes: Vec<String>, quiet: bool) {
    for n in notes {
        if !quiet {
            eprintln!("alto: note: {n}");
        }
    }
}

/// Prints rejected rows on stderr, the first [`SHOW_REJECTED`] one by one, then only counts.
#[derive(Debug, Default)]
pub(crate) struct RejectPrinter {
    seen: u64,
    tally: RejectTally,
}

impl RejectPrinter {
    /// After the run: when no row was accepted and every rejection was alike, one line naming
    /// the column, the reason and a likely fix.
    pub(crate) fn finish(&self, accepted: u64) {
        if let Some(line) = self.tally.summary(accepted) {
            eprintln!("alto: {line}");
        }
    }

    pub(crate) fn print(&mut self, r: &Rejection) {
        self.tally.add(r);
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
    print_notes(src.take_notes(), quiet);
    let stats = src.stats();
    finish_read(args, quiet, stats, &rejects);
    Ok(stats)
}

/// After reading: the counts on stderr (unless quiet and nothing was rejected), and the one-line
/// summary when every row failed alike.
pub(crate) fn finish_read(
    args: &InventoryArgs,
    quiet: bool,
    stats: ReadStats,
    rejects: &RejectPrinter,
) {
    if !quiet || stats.rejected > 0 {
        eprintln!(
            "alto: read {}: {} rows accepted, {} rejected{}{}",
            args.path().display(),
            stats.accepted,
            stats.rejected,
            if stats.folders > 0 {
                format!(", {} folder rows skipped", stats.folders)
            } else {
                String::new()
            },
            if stats.skipped > 0 {
                format!(", {} non-current versions skipped", stats.skipped)
            } else {
                String::new()
            }
        );
    }
    rejects.finish(stats.accepted);
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
