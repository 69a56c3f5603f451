//! `alto ingest`: load an inventory into a store, resumably.

use crate::input::{
    InventoryArgs, ReadFlags, RejectPrinter, check_strict, open_inventory_file, print_notes,
    progress_bar,
};
use crate::store::{StoreArgs, runtime};
use crate::{CmdResult, Failure, fmt};
use alto::ingest::IngestReport;
use alto::{IngestRequest, InventoryFile, ShareKind, TenantHandle};
use clap::{Args, ValueEnum};
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Kind {
    Ntfs,
    Smb,
    Lucidlink,
    Posix,
}

impl From<Kind> for ShareKind {
    fn from(k: Kind) -> Self {
        match k {
            Kind::Ntfs => ShareKind::Ntfs,
            Kind::Smb => ShareKind::Smb,
            Kind::Lucidlink => ShareKind::Lucidlink,
            Kind::Posix => ShareKind::Posix,
        }
    }
}

#[derive(Debug, Args)]
pub(crate) struct IngestArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// Tenant name (create it with `alto tenant create`).
    #[arg(long)]
    tenant: String,
    /// Share name; created on first use.
    #[arg(long)]
    share: String,
    /// Kind of a new share (sets its case rule). Default: `ntfs` when the inventory's first path
    /// is a drive-letter or UNC path, else `posix`.
    #[arg(long, value_enum)]
    kind: Option<Kind>,
    /// The inventory covers the whole share: files it does not list are marked missing — unless
    /// a row was rejected (see --missing-despite-rejects).
    #[arg(long)]
    full_scan: bool,
    /// With --full-scan: mark unlisted files missing even when rows were rejected (a rejected
    /// row may be a file that still exists, so this is off by default).
    #[arg(long, requires = "full_scan")]
    missing_despite_rejects: bool,
    /// Rows per transaction. Default: the store's (PostgreSQL 50,000, SQLite 100,000).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    chunk_rows: Option<u64>,
    /// The inventory: CSV (any delimiter, UTF-8 or UTF-16, gzip or zstd), Parquet, or an S3
    /// Inventory's manifest.json (every data file it lists is read). Not needed with --manifest.
    #[arg(value_name = "INVENTORY", required_unless_present = "manifest")]
    inventory: Option<std::path::PathBuf>,
    /// Column names, when they differ from the agents' format.
    #[arg(long, value_name = "COLUMN=HEADER,…")]
    map: Option<String>,
    /// Exit with code 2 when any row is rejected (good rows still land).
    #[arg(long)]
    strict: bool,
    #[command(flatten)]
    read: ReadFlags,
}

pub(crate) fn run(args: IngestArgs, quiet: bool) -> CmdResult {
    let input = InventoryArgs {
        inventory: args.inventory.clone(),
        map: args.map.clone(),
        strict: args.strict,
        read: args.read.clone(),
    };
    // The inventory is opened (and a bad one refused) before the store is.
    let mut file = open_inventory_file(&input)?;
    let kind = match args.kind {
        Some(k) => k.into(),
        None => file.guess_kind()?,
    };
    print_notes(file.take_notes(), false);
    let mut req = IngestRequest::default()
        .kind(kind)
        .missing_despite_rejects(args.missing_despite_rejects);
    if args.full_scan {
        req = req.full_scan();
    }
    if let Some(n) = args.chunk_rows {
        req = req.chunk_rows(n as usize);
    }
    let started = std::time::Instant::now();
    let report = runtime()?.block_on(async {
        let alto = args.store.alto(quiet).await?;
        let tenant = alto.tenant(&args.tenant).await.map_err(|e| {
            Failure::usage(format!(
                "{e}: create it with `alto tenant create {}`",
                args.tenant
            ))
        })?;
        ingest_with_progress(&tenant, &args.share, file, req, quiet).await
    })?;
    let secs = started.elapsed().as_secs_f64();
    if !quiet || report.rejected > 0 {
        eprintln!(
            "alto: ingested {} into {}/{} in {secs:.1}s ({:.0} rows/s){}",
            input.path().display(),
            args.tenant,
            args.share,
            (report.accepted + report.rejected) as f64 / secs.max(1e-9),
            if report.resumed {
                format!(
                    "; resumed an interrupted run ({} chunks already applied)",
                    report.chunks_skipped
                )
            } else {
                String::new()
            }
        );
    }
    println!(
        "accepted {}, rejected {}, new {}, changed {}, unchanged {}, missing {}{}",
        fmt::count(report.accepted),
        fmt::count(report.rejected),
        fmt::count(report.new),
        fmt::count(report.changed),
        fmt::count(report.unchanged),
        fmt::count(report.missing),
        if report.folders > 0 {
            format!(", folders skipped {}", fmt::count(report.folders))
        } else {
            String::new()
        }
    );
    if report.skipped > 0 {
        eprintln!(
            "alto: {} rows were older versions or delete markers, not current files: skipped",
            fmt::count(report.skipped)
        );
    }
    if report.left_open {
        eprintln!(
            "alto: {} rows were rejected, so this full scan marked nothing missing (it would have \
             marked {}); fix the rows and ingest again, or pass --missing-despite-rejects",
            fmt::count(report.rejected),
            fmt::count(report.would_be_missing)
        );
    }
    if report.accepted == 0 {
        return Err(Failure::usage(format!(
            "no row of {} was accepted",
            input.path().display()
        )));
    }
    check_strict(
        &input,
        alto::inventory::ReadStats {
            accepted: report.accepted,
            rejected: report.rejected,
            ..Default::default()
        },
    )
}

/// The handle's ingest with a progress bar (unless `quiet`), printing rejected rows as they come
/// and, after the rejection summary, the reader's notes (unless `quiet`).
pub(crate) async fn ingest_with_progress(
    tenant: &TenantHandle,
    share: &str,
    file: InventoryFile,
    req: IngestRequest,
    quiet: bool,
) -> Result<IngestReport, Failure> {
    let bar = progress_bar(quiet, file.progress().total);
    let rejects = Arc::new(Mutex::new(RejectPrinter::default()));
    let notes = Arc::new(Mutex::new(Vec::new()));
    let (r, b, n) = (rejects.clone(), bar.clone(), notes.clone());
    let req = req
        .on_reject(move |x| lock(&r).print(x))
        .on_progress(move |p| b.set_position(p.done))
        .on_note(move |note| lock(&n).push(note.to_owned()));
    let report = tenant.ingest_file(share, file, &req).await?;
    bar.finish_and_clear();
    lock(&rejects).finish(report.accepted);
    print_notes(std::mem::take(&mut *lock(&notes)), quiet);
    Ok(report)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
