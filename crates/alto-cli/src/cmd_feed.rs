//! `alto feed lucid` and `alto feed events`: keep last-access times current from access feeds.

use crate::store::{StoreArgs, runtime};
use crate::{CmdResult, Failure};
use alto::feed::apply::FeedReport;
use alto::store::ShareSpec;
use alto::{FeedRequest, RuleSet, ShareKind, TenantHandle};
use clap::{Args, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub(crate) enum FeedCommand {
    /// Follow a LucidLink filespace's `.lucid_audit` trail (cursors are kept in the store).
    Lucid(LucidArgs),
    /// Apply an access-event batch file (the agents' JSON format).
    Events(EventsArgs),
}

#[derive(Debug, Args)]
pub(crate) struct Common {
    #[command(flatten)]
    store: StoreArgs,
    /// Tenant name.
    #[arg(long)]
    tenant: String,
    /// Share the events belong to.
    #[arg(long)]
    share: String,
    /// Rules to re-evaluate accessed PLANNED files with (plans that no longer match are withdrawn).
    #[arg(long, value_name = "FILE")]
    rules: Option<PathBuf>,
    /// Use an SQLite store file another user owns, or one in a directory others may write.
    #[arg(long)]
    allow_shared_store: bool,
    /// A share mounted at DIR on this host instead of its recorded root, for rehydrations under
    /// the `rehydrate` policy (repeatable).
    #[arg(long = "share-root", value_name = "NAME=DIR", value_parser = crate::cmd_share::parse_share_root)]
    share_roots: Vec<(String, std::path::PathBuf)>,
}

#[derive(Debug, Args)]
pub(crate) struct LucidArgs {
    #[command(flatten)]
    common: Common,
    /// The prefix the share's inventory uses for the filespace root (`L:\`, `/Volumes/fs`);
    /// remembered on the share.
    #[arg(long, value_name = "PREFIX")]
    mount_root: Option<String>,
    /// The filespace root (or its `.lucid_audit` folder).
    root: PathBuf,
    /// Keep following: a pass every `--interval`.
    #[arg(long)]
    follow: bool,
    /// Time between passes with `--follow`: 30s, 5m, 1h.
    #[arg(long, default_value = "5m")]
    interval: String,
    /// Serve Prometheus metrics at this address (`127.0.0.1:9464`) while following.
    #[arg(long, value_name = "ADDR")]
    metrics_addr: Option<std::net::SocketAddr>,
}

#[derive(Debug, Args)]
pub(crate) struct EventsArgs {
    #[command(flatten)]
    common: Common,
    /// The batch file.
    file: PathBuf,
}

fn options(common: &Common) -> Result<FeedRequest, Failure> {
    let mut r = FeedRequest::default();
    r.rules = common
        .rules
        .as_deref()
        .map(RuleSet::from_path)
        .transpose()?;
    Ok(r)
}

/// The tenant's handle on this host (under the tenant's `rehydrate` policy, accessed stubs come
/// back as with `alto rehydrate`, through the shares' roots here).
async fn tenant(common: &Common, quiet: bool) -> Result<TenantHandle, Failure> {
    let store = common
        .store
        .open_trusted(quiet, common.allow_shared_store)
        .await?;
    let alto = crate::cmd_tier::host_alto(store, &common.share_roots, &[]).await?;
    Ok(alto.tenant(&common.tenant).await?)
}

fn print(r: &FeedReport) {
    for e in &r.rehydrate_errors {
        eprintln!("alto: cannot rehydrate {e}");
    }
    println!(
        "read {}, applied {}, duplicate {}, skewed {}, unknown {}, malformed {}, stale {}, withdrawn {}, stub accesses {}, rehydrated {}, rehydrate failed {}, lag {}",
        r.read,
        r.applied,
        r.duplicate,
        r.skewed,
        r.unknown,
        r.malformed,
        r.stale,
        r.withdrawn,
        r.stub_accesses,
        r.rehydrated,
        r.rehydrate_failed,
        r.lag_secs
            .map_or_else(|| "-".into(), |s| crate::fmt::duration(s.max(0.0)))
    );
}

pub(crate) fn run(cmd: FeedCommand, quiet: bool) -> CmdResult {
    match cmd {
        FeedCommand::Lucid(a) => lucid(a, quiet),
        FeedCommand::Events(a) => events(a, quiet),
    }
}

fn lucid(a: LucidArgs, quiet: bool) -> CmdResult {
    let interval = alto_rules::parse_duration(&a.interval)
        .map_err(|e| Failure::usage(format!("--interval: {e}")))?;
    runtime()?.block_on(async {
        if let Some(addr) = a.metrics_addr {
            crate::metrics::serve(addr, quiet)?;
        }
        let tenant = tenant(&a.common, quiet).await?;
        let mut spec = ShareSpec::new(a.common.share.clone(), ShareKind::Lucidlink);
        spec.mount_root = a.mount_root.clone();
        tenant.ensure_share(&spec).await?;
        let interval = std::time::Duration::from_micros(interval.max(1_000_000) as u64);
        let mut backoff = std::time::Duration::ZERO;
        loop {
            let opts = options(&a.common)?;
            let pass = tenant
                .follow_lucid(&a.common.share, &a.root, &opts, &mut |m| {
                    eprintln!("alto: malformed audit line {m}");
                })
                .await;
            let wait = match pass {
                Ok(r) => {
                    print(&r);
                    if !a.follow {
                        return Ok(());
                    }
                    backoff = std::time::Duration::ZERO;
                    interval
                }
                Err(e) if !a.follow => return Err(e.into()),
                // Following, a failed pass (the store restarting, the filespace unmounted) is
                // logged and tried again, sooner at first, then at most every interval. The
                // cursors only move with applied batches, so nothing is lost or applied twice.
                Err(e) => {
                    backoff = (backoff * 2)
                        .max(std::time::Duration::from_secs(1))
                        .min(interval);
                    eprintln!(
                        "alto: feed pass failed: {e}; trying again in {}",
                        crate::fmt::duration(backoff.as_secs_f64())
                    );
                    backoff
                }
            };
            tokio::time::sleep(wait).await;
        }
    })
}

fn events(a: EventsArgs, quiet: bool) -> CmdResult {
    runtime()?.block_on(async {
        let tenant = tenant(&a.common, quiet).await?;
        let opts = options(&a.common)?;
        let r = tenant
            .apply_batch_file(&a.common.share, &a.file, &opts)
            .await?;
        print(&r);
        Ok(())
    })
}
