//! `alto report`: where a tenant's space is, what tiering saved and what it has planned, as a
//! table, JSON, CSV or one self-contained HTML page (the SDK's [`alto::report_csv`] and
//! [`alto::report_html`]).

use crate::input::parse_now;
use crate::store::{StoreArgs, runtime};
use crate::{CmdResult, Failure, fmt};
use alto::report::{Report, ReportFile};
use alto::time::format_rfc3339;
use clap::{Args, ValueEnum};
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// For people: totals, each breakdown, the largest and oldest files, the what-if.
    Table,
    /// The whole report as one JSON object.
    Json,
    /// One row per breakdown entry: `section,key,files,bytes,stubbed_files,stubbed_bytes,
    /// planned_files,planned_bytes` (and `totals`, and the what-if's rules as `what_if`).
    Csv,
    /// One self-contained page with charts (inline SVG, no script, nothing fetched).
    Html,
}

#[derive(Debug, Args)]
pub(crate) struct ReportArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// Tenant name.
    #[arg(long)]
    tenant: String,
    /// Only this share (default: all the tenant's shares).
    #[arg(long)]
    share: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Write the report to FILE instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Add what this rule set (TOML, JSON or YAML) would tier now: the planner's dry run over
    /// the same files.
    #[arg(long, short, value_name = "FILE")]
    rules: Option<PathBuf>,
    /// How many of the largest and of the oldest files to list.
    #[arg(long, default_value_t = alto::report::DEFAULT_TOP_N, value_name = "N")]
    top: usize,
    /// Measure ages (and evaluate the rules) at this time (RFC 3339); default now.
    #[arg(long, value_name = "TIME")]
    now: Option<String>,
}

pub(crate) fn run(args: ReportArgs, quiet: bool) -> CmdResult {
    let now = parse_now(args.now.as_deref())?;
    let mut req = alto::ReportRequest::default().at(now).top(args.top);
    if let Some(share) = &args.share {
        req = req.share(share);
    }
    if let Some(path) = &args.rules {
        let rules = alto::RuleSet::from_path(path)?;
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        req = req.what_if(rules, name);
    }
    let report = runtime()?.block_on(async {
        let t = args.store.alto(quiet).await?.tenant(&args.tenant).await?;
        Ok::<_, Failure>(t.report(&req).await?)
    })?;
    let text = match args.format {
        Format::Table => table(&report),
        Format::Json => {
            let mut s = serde_json::to_string_pretty(&report).map_err(std::io::Error::from)?;
            s.push('\n');
            s
        }
        Format::Csv => alto::report_csv(&report),
        Format::Html => alto::report_html(&report),
    };
    match &args.output {
        Some(path) => std::fs::write(path, text).map_err(|e| Failure {
            code: 1,
            message: format!("cannot write {}: {e}", path.display()),
        })?,
        None => std::io::stdout().lock().write_all(text.as_bytes())?,
    }
    Ok(())
}

/// Entries shown per breakdown in the table; the rest are summed on one line.
const TABLE_ROWS: usize = 15;

/// A label cut to `width` characters (with `…`).
fn cut(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        return s.to_owned();
    }
    let mut t: String = s.chars().take(width.saturating_sub(1)).collect();
    t.push('…');
    t
}

fn pct(part: u64, whole: u64) -> String {
    if whole == 0 {
        return "-".into();
    }
    format!("{:.1}%", part as f64 * 100.0 / whole as f64)
}

fn day(t: Option<i64>) -> String {
    t.map_or_else(|| "-".into(), |t| format_rfc3339(t)[..10].to_owned())
}

fn table(r: &Report) -> String {
    use std::fmt::Write as _;
    let mut o = String::new();
    let t = &r.totals;
    let scope = r
        .share
        .as_ref()
        .map_or_else(|| "all shares".to_owned(), |s| format!("share {s}"));
    let _ = writeln!(o, "Report on tenant {} ({scope}) at {}", r.tenant, r.now);
    let _ = writeln!(
        o,
        "{} files, {}; saved {} ({} files stubbed); planned {} ({} files)",
        fmt::count(t.files),
        fmt::bytes(t.bytes),
        fmt::bytes(t.saved.bytes),
        fmt::count(t.saved.files),
        fmt::bytes(t.planned.bytes),
        fmt::count(t.planned.files),
    );
    if t.missing.files > 0 {
        let _ = writeln!(
            o,
            "{} files ({}) no longer seen by a full scan are left out",
            fmt::count(t.missing.files),
            fmt::bytes(t.missing.bytes)
        );
    }
    for (name, title, entries) in r.sections() {
        let _ = writeln!(o);
        if name == "owner" && !r.owners_recorded {
            let _ = writeln!(o, "{title}: the inventory records no owners");
            continue;
        }
        let _ = writeln!(
            o,
            "{:<32} {:>12} {:>10} {:>7} {:>10} {:>10}",
            title.to_uppercase(),
            "FILES",
            "BYTES",
            "%BYTES",
            "SAVED",
            "PLANNED"
        );
        let bucketed = matches!(name, "age" | "size" | "state");
        let shown = if bucketed { entries.len() } else { TABLE_ROWS };
        for e in entries.iter().take(shown) {
            let _ = writeln!(
                o,
                "{:<32} {:>12} {:>10} {:>7} {:>10} {:>10}",
                cut(&e.label, 32),
                fmt::count(e.tally.files),
                fmt::bytes(e.tally.bytes),
                pct(e.tally.bytes, t.bytes),
                fmt::bytes(e.tally.stubbed_bytes),
                fmt::bytes(e.tally.planned_bytes),
            );
        }
        if entries.len() > shown {
            let rest = &entries[shown..];
            let files: u64 = rest.iter().map(|e| e.tally.files).sum();
            let bytes: u64 = rest.iter().map(|e| e.tally.bytes).sum();
            let _ = writeln!(
                o,
                "{:<32} {:>12} {:>10} {:>7}",
                format!("({} more)", rest.len()),
                fmt::count(files),
                fmt::bytes(bytes),
                pct(bytes, t.bytes)
            );
        }
    }
    for (title, files) in [
        ("Largest files", &r.largest),
        ("Oldest files (by last access)", &r.oldest),
    ] {
        if files.is_empty() {
            continue;
        }
        let _ = writeln!(o, "\n{title}:");
        for f in files {
            let _ = writeln!(o, "  {}", file_line(f));
        }
    }
    if let Some(w) = &r.what_if {
        let _ = writeln!(o);
        let from = w
            .rules
            .as_ref()
            .map_or_else(String::new, |n| format!(" ({n})"));
        let _ = writeln!(
            o,
            "What-if{from}: would tier {} files, {} (frees {}), in {} jobs, about {}; {} of {} files \
             skipped as already stubbed",
            fmt::count(w.files_matched),
            fmt::bytes(w.bytes_matched),
            fmt::bytes(w.bytes_saved),
            fmt::count(w.jobs),
            fmt::duration(w.estimated_seconds),
            fmt::count(w.files_skipped),
            fmt::count(w.files_scanned),
        );
        let _ = writeln!(
            o,
            "{:<32} {:>12} {:>10} {:>10}",
            "RULE", "FILES", "BYTES", "FREES"
        );
        for rt in w
            .by_rule
            .iter()
            .filter(|rt| !w.disabled_rules.contains(&rt.rule))
        {
            let _ = writeln!(
                o,
                "{:<32} {:>12} {:>10} {:>10}",
                cut(&rt.rule, 32),
                fmt::count(rt.files),
                fmt::bytes(rt.bytes),
                fmt::bytes(rt.bytes_saved)
            );
        }
        if !w.disabled_rules.is_empty() {
            let _ = writeln!(o, "Disabled rules: {}", w.disabled_rules.join(", "));
        }
    }
    o
}

fn file_line(f: &ReportFile) -> String {
    format!(
        "{:>10}  accessed {}  modified {}  {:<10}  {}:{}",
        fmt::bytes(f.size),
        day(f.accessed),
        day(f.modified),
        f.state.map_or("-", |s| s.as_str()),
        f.share,
        f.path
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts() {
        assert_eq!(cut("short", 10), "short");
        assert_eq!(cut("abcdefghij", 5), "abcd…");
    }
}
