//! `alto find`: list what the store knows about files, like `rbh-find`.

use crate::store::{StoreArgs, runtime};
use crate::{CmdResult, Failure, fmt};
use alto::store::FileQuery;
use alto::time::format_rfc3339;
use alto::{FileRecord, TierState};
use clap::{Args, ValueEnum};
use serde::Serialize;
use std::io::Write;

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    /// Aligned columns.
    Table,
    /// One JSON object per line.
    Json,
}

#[derive(Debug, Args)]
pub(crate) struct FindArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// Tenant name.
    #[arg(long)]
    tenant: String,
    /// Only this share.
    #[arg(long)]
    share: Option<String>,
    /// Only paths matching this glob (rule syntax: `*.mov` matches names, `C:\Media\**` paths).
    #[arg(long)]
    glob: Option<String>,
    /// Only files in this tier state (PLANNED, STUBBED, REHYDRATED, DELETED).
    #[arg(long)]
    state: Option<String>,
    /// Include files a full scan no longer saw.
    #[arg(long)]
    missing: bool,
    /// Only stubbed files whose object `alto reconcile` found gone or changed (LOST).
    #[arg(long)]
    lost: bool,
    /// Stop after this many files.
    #[arg(long)]
    limit: Option<u64>,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
}

#[derive(Serialize)]
struct Line<'a> {
    share: &'a str,
    path: &'a str,
    path_key: &'a str,
    size: u64,
    modified: Option<String>,
    accessed: Option<String>,
    accessed_source: &'static str,
    atime_updated: Option<String>,
    state: Option<&'static str>,
    missing_since: Option<String>,
    /// `{"at": …, "reason": "missing" | "size" | "etag" | "digest"}` for a LOST stub.
    #[serde(skip_serializing_if = "Option::is_none")]
    lost: Option<LostLine>,
}

#[derive(Serialize)]
struct LostLine {
    at: String,
    reason: &'static str,
}

fn ts(t: Option<i64>) -> Option<String> {
    t.map(format_rfc3339)
}

pub(crate) fn run(args: FindArgs, quiet: bool) -> CmdResult {
    let state = args
        .state
        .as_deref()
        .map(str::parse::<TierState>)
        .transpose()?;
    runtime()?.block_on(async {
        let alto = args.store.alto(quiet).await?;
        let tenant = alto.tenant(&args.tenant).await?;
        let mut pages = tenant.files(FileQuery {
            share: args.share.clone(),
            glob: args.glob.clone(),
            state,
            include_missing: args.missing,
            after: None,
            limit: 1000,
        });
        let stdout = std::io::stdout();
        let mut out = std::io::BufWriter::new(stdout.lock());
        if matches!(args.format, Format::Table) {
            writeln!(
                out,
                "{:<10} {:>10}  {:<20}  {:<20}  {:<16}  PATH",
                "STATE", "SIZE", "MODIFIED", "ACCESSED", "ACCESS SOURCE"
            )?;
        }
        let mut shown = 0u64;
        'pages: while let Some(page) = pages.next_page().await? {
            for f in &page {
                if args.lost && f.lost.is_none() {
                    continue;
                }
                if args.limit.is_some_and(|l| shown >= l) {
                    break 'pages;
                }
                shown += 1;
                write_one(&mut out, f, args.format)?;
            }
        }
        out.flush()?;
        if !quiet {
            eprintln!("alto: {} files", fmt::count(shown));
        }
        Ok::<_, Failure>(())
    })
}

fn write_one(out: &mut impl Write, f: &FileRecord, format: Format) -> std::io::Result<()> {
    match format {
        Format::Json => {
            let line = Line {
                share: &f.share,
                path: &f.entry.path,
                path_key: &f.path_key,
                size: f.entry.size,
                modified: ts(f.entry.modified),
                accessed: ts(f.entry.accessed),
                accessed_source: f.accessed_source.as_str(),
                atime_updated: ts(f.atime_updated),
                state: f.state.map(TierState::as_str),
                missing_since: ts(f.missing_since),
                lost: f.lost.map(|l| LostLine {
                    at: format_rfc3339(l.at),
                    reason: l.reason.as_str(),
                }),
            };
            serde_json::to_writer(&mut *out, &line)?;
            writeln!(out)
        }
        Format::Table => {
            let t = |x: Option<i64>| ts(x).unwrap_or_else(|| "-".into());
            let state = match (f.state, f.missing_since) {
                (Some(_), _) if f.lost.is_some() => "LOST",
                (Some(s), _) => s.as_str(),
                (None, Some(_)) => "missing",
                (None, None) => "-",
            };
            writeln!(
                out,
                "{:<10} {:>10}  {:<20}  {:<20}  {:<16}  {}",
                state,
                fmt::bytes(f.entry.size),
                t(f.entry.modified),
                t(f.entry.accessed),
                f.accessed_source.as_str(),
                printable(&f.entry.path)
            )
        }
    }
}

/// The path with control characters escaped (a newline in a name must not break the table);
/// backslashes stay as they are.
fn printable(path: &str) -> std::borrow::Cow<'_, str> {
    if path.chars().any(char::is_control) {
        path.chars()
            .map(|c| {
                if c.is_control() {
                    c.escape_default().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect::<String>()
            .into()
    } else {
        path.into()
    }
}
