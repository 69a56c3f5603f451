//! `alto reconcile`: the catalogue against the tier targets and the shares' roots.

use crate::cmd_tier::host_alto;
use crate::store::{StoreArgs, runtime};
use crate::{CmdResult, Failure, fmt};
use alto::reconcile::{OrphanAction, ReconcileReport};
use alto::time::format_rfc3339;
use alto::{LostReason, ReconcileRequest};
use clap::{Args, ValueEnum};
use std::io::Write;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// A summary, then one line per finding.
    Table,
    /// The whole report as one JSON object.
    Json,
}

#[derive(Debug, Args)]
pub(crate) struct ReconcileArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// Tenant name.
    #[arg(long)]
    tenant: String,
    /// Only this share: its objects, its key prefix on the targets, its root.
    #[arg(long)]
    share: Option<String>,
    /// Delete the orphans that may be deleted (older than the grace period, a tier id the
    /// store gave this tenant, in a share whose root was walked and where no stub names them).
    /// Without it nothing is deleted.
    #[arg(long)]
    apply: bool,
    /// Keep orphans written less than this long ago (`7d`, `36h`; at least `1h`).
    #[arg(long, default_value = "7d", value_name = "DURATION")]
    grace: String,
    /// Re-read every stubbed object and compare its SHA-256 with the catalogue's (reads all of
    /// the tenant's tier-2 data; without it size and entity tag are compared).
    #[arg(long)]
    verify_content: bool,
    /// Also list this target root (repeatable), e.g. one whose objects' records are all gone.
    #[arg(long = "target", value_name = "URI")]
    targets: Vec<String>,
    /// Count the grace period back from this time (RFC 3339; default: now).
    #[arg(long)]
    now: Option<String>,
    /// A share mounted at DIR on this host instead of its recorded root (repeatable).
    #[arg(long = "share-root", value_name = "NAME=DIR", value_parser = crate::cmd_share::parse_share_root)]
    share_roots: Vec<(String, std::path::PathBuf)>,
    /// Use an SQLite store file another user owns, or one in a directory others may write.
    #[arg(long)]
    allow_shared_store: bool,
    /// Only tier targets under this prefix (repeatable): others are neither listed nor touched.
    #[arg(long = "allow-target", value_name = "PREFIX")]
    allow_targets: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

pub(crate) fn run(args: ReconcileArgs, quiet: bool) -> CmdResult {
    let grace = alto::rules::parse_duration(&args.grace)
        .map_err(|e| Failure::usage(format!("--grace {:?}: {e}", args.grace)))?;
    let now = crate::input::parse_now(args.now.as_deref())?;
    let report = runtime()?.block_on(async {
        let store = args
            .store
            .open_trusted(quiet, args.allow_shared_store)
            .await?;
        let alto = host_alto(store, &args.share_roots, &args.allow_targets).await?;
        let tenant = alto.tenant(&args.tenant).await?;
        let mut req = ReconcileRequest::default()
            .apply(args.apply)
            .grace(std::time::Duration::from_micros(grace.max(0) as u64))
            .verify_content(args.verify_content)
            .at(now);
        if let Some(s) = &args.share {
            req = req.share(s.clone());
        }
        for t in &args.targets {
            req = req.target(t.clone());
        }
        Ok::<_, Failure>(tenant.reconcile(&req).await?)
    })?;
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &report).map_err(std::io::Error::from)?;
            writeln!(out)?;
        }
        Format::Table => print_table(&mut out, &report)?,
    }
    for e in &report.errors {
        eprintln!("alto: {e}");
    }
    let failed = report
        .orphans
        .iter()
        .filter(|o| o.action == OrphanAction::Failed)
        .count();
    if failed > 0 {
        return Err(Failure {
            code: 1,
            message: format!("{failed} orphans could not be deleted"),
        });
    }
    Ok(())
}

fn reasons(report: &ReconcileReport) -> String {
    let mut parts = Vec::new();
    for r in LostReason::ALL {
        let n = report.lost.iter().filter(|l| l.reason == r).count();
        if n > 0 {
            parts.push(format!("{n} {}", r.as_str()));
        }
    }
    parts.join(", ")
}

fn print_table(out: &mut impl Write, r: &ReconcileReport) -> std::io::Result<()> {
    let listed: u64 = r.targets.iter().map(|t| t.objects).sum();
    let bytes: u64 = r.targets.iter().map(|t| t.bytes).sum();
    writeln!(
        out,
        "Reconciled tenant {}{}: {} target{} listed ({} objects, {}), {} stubs checked, {} of {} \
         share{} walked{}",
        r.tenant,
        r.share
            .as_deref()
            .map_or_else(String::new, |s| format!(" (share {s})")),
        r.targets.len(),
        if r.targets.len() == 1 { "" } else { "s" },
        fmt::count(listed),
        fmt::bytes(bytes),
        fmt::count(r.stubs_checked),
        r.shares.iter().filter(|s| s.complete).count(),
        r.shares.len(),
        if r.shares.len() == 1 { "" } else { "s" },
        if r.apply {
            ""
        } else {
            " (dry run: nothing deleted)"
        },
    )?;
    for t in r.targets.iter().filter(|t| t.note.is_some()) {
        writeln!(
            out,
            "  target {}: {}",
            t.root,
            t.note.as_deref().unwrap_or("")
        )?;
    }
    for s in r.shares.iter().filter(|s| s.note.is_some()) {
        writeln!(
            out,
            "  share {}: {}",
            s.share,
            s.note.as_deref().unwrap_or("")
        )?;
    }
    if r.stubs_unchecked > 0 {
        writeln!(
            out,
            "  {} stubs not checked: their target was not listed to its end, or their object \
             was never recorded",
            fmt::count(r.stubs_unchecked)
        )?;
    }
    let count = |a: OrphanAction| r.orphans.iter().filter(|o| o.action == a).count();
    writeln!(
        out,
        "{:<14} {:>7}{}",
        "LOST",
        r.lost.len(),
        if r.lost.is_empty() {
            String::new()
        } else {
            format!("  ({})", reasons(r))
        }
    )?;
    writeln!(out, "{:<14} {:>7}", "RECOVERED", r.recovered.len())?;
    writeln!(
        out,
        "{:<14} {:>7}  ({}): {} deleted ({}), {} would be deleted, {} kept{}",
        "ORPHANS",
        r.orphans.len(),
        fmt::bytes(r.orphans.iter().map(|o| o.size).sum()),
        r.deleted,
        fmt::bytes(r.deleted_bytes),
        count(OrphanAction::WouldDelete),
        count(OrphanAction::Kept),
        match count(OrphanAction::Failed) {
            0 => String::new(),
            n => format!(", {n} failed"),
        }
    )?;
    writeln!(out, "{:<14} {:>7}", "UNKNOWN STUBS", r.unknown_stubs.len())?;
    if let Some(e) = r.event {
        writeln!(
            out,
            "audit event {e} (alto audit --tenant {} --children {e})",
            r.tenant
        )?;
    }
    let any = !(r.lost.is_empty()
        && r.recovered.is_empty()
        && r.orphans.is_empty()
        && r.unknown_stubs.is_empty());
    if !any {
        return Ok(());
    }
    writeln!(out)?;
    writeln!(
        out,
        "{:<13} {:<12} {:<60} DETAIL",
        "KIND", "SHARE", "PATH / OBJECT"
    )?;
    for l in &r.lost {
        writeln!(
            out,
            "{:<13} {:<12} {:<60} {}{}: {}",
            "lost",
            l.share,
            l.path,
            l.reason.as_str(),
            match (l.recorded_size, l.found_size) {
                (Some(a), Some(b)) if a != b => format!(" ({a} bytes recorded, {b} found)"),
                _ => String::new(),
            },
            l.object
        )?;
    }
    for v in &r.recovered {
        writeln!(
            out,
            "{:<13} {:<12} {:<60} {}",
            "recovered", v.share, v.path, v.object
        )?;
    }
    for o in &r.orphans {
        let when = o
            .modified
            .map_or_else(|| "time unknown".to_owned(), format_rfc3339);
        writeln!(
            out,
            "{:<13} {:<12} {:<60} {} ({}, {when}): {}",
            "orphan",
            o.share.as_deref().unwrap_or("-"),
            o.object,
            o.action.as_str().replace('_', " "),
            fmt::bytes(o.size),
            o.reason
        )?;
    }
    for u in &r.unknown_stubs {
        let what = match (&u.target_uri, &u.note) {
            (_, Some(n)) => n.clone(),
            (Some(t), None) => format!("names {t}"),
            (None, None) => String::new(),
        };
        writeln!(
            out,
            "{:<13} {:<12} {:<60} {}{}",
            "unknown-stub",
            u.share,
            u.path,
            what,
            u.state
                .map_or_else(String::new, |s| format!(" (catalogue: {s})"))
        )?;
    }
    Ok(())
}
