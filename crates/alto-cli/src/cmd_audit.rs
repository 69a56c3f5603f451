//! `alto audit`: read a tenant's audit trail, filtered, page by page or following it.

use crate::store::{StoreArgs, runtime};
use crate::{CmdResult, Failure};
use alto::time::{Micros, format_rfc3339, now_micros, parse_timestamp};
use alto::{AuditEvent, AuditQuery, Cursor};
use clap::{Args, ValueEnum};
use std::io::Write;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// One line per event.
    Table,
    /// `{"events": [...], "next_cursor": "…" | null}`; with `--follow`, one such object per
    /// batch, each on one line.
    Json,
}

#[derive(Debug, Args)]
pub(crate) struct AuditArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// Tenant name.
    #[arg(long)]
    tenant: String,
    /// Only events of this kind (`tier.stub`) or family (`tier.*`); repeat or separate with
    /// commas for several.
    #[arg(long, value_delimiter = ',')]
    kind: Vec<String>,
    /// Only events about this subject: a path key, an object key, a job or scan id (exactly).
    #[arg(long)]
    subject: Option<String>,
    /// Only events at or after this time: RFC 3339 (`2026-12-01T00:00:00Z`) or an age (`7d`,
    /// `12h`: that long ago).
    #[arg(long)]
    since: Option<String>,
    /// Only events before this time (as `--since`).
    #[arg(long)]
    until: Option<String>,
    /// Only the children of this event (a job's file events, a scan's chunks, a batch's
    /// effects).
    #[arg(long, value_name = "EVENT_ID")]
    children: Option<i64>,
    /// At most this many events (default: all; with `--follow`, per batch).
    #[arg(long)]
    limit: Option<usize>,
    /// Start after this cursor (the `next_cursor` a previous run printed).
    #[arg(long, value_name = "CURSOR")]
    after: Option<String>,
    /// Keep reading: print new events as they are committed, until interrupted.
    #[arg(long)]
    follow: bool,
    /// How often `--follow` looks for new events.
    #[arg(long, default_value = "1s", value_name = "DURATION")]
    poll: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

/// `--since`/`--until`: an RFC 3339 time or an age.
fn parse_when(flag: &str, s: &str, now: Micros) -> Result<Micros, Failure> {
    if let Ok(age) = alto::rules::parse_duration(s) {
        return Ok(now - age);
    }
    parse_timestamp(s).map_err(|e| {
        Failure::usage(format!(
            "--{flag} {s:?}: neither an age (7d, 12h) nor a time ({e})"
        ))
    })
}

fn event_json(e: &AuditEvent) -> serde_json::Value {
    serde_json::json!({
        "id": e.id,
        "time": format_rfc3339(e.at),
        "kind": e.kind,
        "subject": e.subject,
        "actor": e.actor,
        "parent": e.parent,
        "detail": e.detail,
    })
}

fn print_table(out: &mut impl Write, events: &[AuditEvent]) -> std::io::Result<()> {
    for e in events {
        let who = match (&e.actor.user, &e.actor.host) {
            (u, h) if u.is_empty() && h.is_empty() => e.actor.db_user.clone().unwrap_or_default(),
            (u, h) => format!("{u}@{h}"),
        };
        let parent = e.parent.map_or_else(|| "-".to_owned(), |p| p.to_string());
        writeln!(
            out,
            "{:>8} {} {:<22} {:<8} {:<16} {} {}",
            e.id,
            format_rfc3339(e.at),
            e.kind,
            parent,
            who,
            e.subject,
            e.detail
        )?;
    }
    Ok(())
}

pub(crate) fn run(args: AuditArgs, quiet: bool) -> CmdResult {
    let now = now_micros();
    let since = args
        .since
        .as_deref()
        .map(|s| parse_when("since", s, now))
        .transpose()?;
    let until = args
        .until
        .as_deref()
        .map(|s| parse_when("until", s, now))
        .transpose()?;
    let poll = alto::rules::parse_duration(&args.poll)
        .map_err(|e| Failure::usage(format!("--poll: {e}")))?;
    let after = args
        .after
        .as_deref()
        .map(Cursor::parse)
        .transpose()
        .map_err(|e| Failure::usage(format!("--after: {e}")))?;
    if args.limit == Some(0) {
        return Err(Failure::usage("--limit must be at least 1"));
    }
    let query = AuditQuery {
        kinds: args.kind.clone(),
        subject: args.subject.clone(),
        since,
        until,
        parent: args.children,
        ..Default::default()
    };
    runtime()?.block_on(async {
        let alto = args.store.alto(quiet).await?;
        let tenant = alto.tenant(&args.tenant).await?;
        let mut cursor = after;
        let stdout = std::io::stdout();
        if matches!(args.format, Format::Table) {
            println!(
                "{:>8} {:<27} {:<22} {:<8} {:<16} SUBJECT DETAIL",
                "ID", "TIME", "KIND", "PARENT", "ACTOR"
            );
        }
        loop {
            let mut pages = tenant
                .audit_query(query.clone())
                .page_size(args.limit.unwrap_or(1000).min(1000));
            if let Some(c) = &cursor {
                pages = pages.resume(c)?;
            }
            let mut batch = Vec::new();
            let mut more = false;
            while let Some(page) = pages.next_page().await? {
                batch.extend(page);
                if let Some(limit) = args.limit {
                    if batch.len() >= limit {
                        batch.truncate(limit);
                        more = true;
                        break;
                    }
                }
            }
            if let Some(last) = batch.last() {
                cursor = Some(pages.cursor_after(last));
            }
            let mut out = stdout.lock();
            match args.format {
                Format::Table => print_table(&mut out, &batch)?,
                Format::Json => {
                    if !batch.is_empty() || !args.follow {
                        let doc = serde_json::json!({
                            "events": batch.iter().map(event_json).collect::<Vec<_>>(),
                            // The cursor to resume from: after the last event printed, or
                            // where this run started when it printed none; null when the
                            // trail was read to its end and nothing was printed from a cursor.
                            "next_cursor": cursor.as_ref().map(|c| c.to_string()),
                        });
                        writeln!(out, "{doc}")?;
                    }
                }
            }
            out.flush()?;
            drop(out);
            if !args.follow {
                if more && !quiet && matches!(args.format, Format::Table) {
                    if let Some(c) = &cursor {
                        eprintln!("alto: more events: --after {c}");
                    }
                }
                return Ok(());
            }
            if !more {
                tokio::time::sleep(std::time::Duration::from_micros(
                    u64::try_from(poll).unwrap_or(1_000_000),
                ))
                .await;
            }
        }
    })
}
