//! `alto share create|list|set`: a tenant's shares and where their files are on the workers'
//! hosts.

use crate::store::{StoreArgs, runtime};
use crate::{CmdResult, Failure};
use alto::store::ShareSpec;
use alto::{Share, ShareKind};
use clap::{Args, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub(crate) enum ShareCommand {
    /// Create a share. Workers act only on shares with a root, and only beneath it.
    Create(ShareCreateArgs),
    /// List a tenant's shares.
    List(ShareListArgs),
    /// Change (or with `--clear-root`, remove) a share's root.
    Set(ShareSetArgs),
}

#[derive(Debug, Args)]
pub(crate) struct ShareCreateArgs {
    /// Share name: 1 to 64 letters, digits, `.`, `_` or `-`, starting with a letter or digit.
    name: String,
    /// Tenant name.
    #[arg(long)]
    tenant: String,
    /// The share's directory on the hosts the workers run on (absolute). Every file of the share
    /// lies beneath it; ingest rejects rows outside it.
    #[arg(long)]
    root: Option<String>,
    /// File system kind.
    #[arg(long, default_value = "posix", value_parser = ["posix", "ntfs", "smb", "lucidlink"])]
    kind: String,
    /// Whether path keys keep case (default: the kind's; NTFS and SMB fold case).
    #[arg(long)]
    case_sensitive: Option<bool>,
    #[command(flatten)]
    store: StoreArgs,
}

#[derive(Debug, Args)]
pub(crate) struct ShareListArgs {
    /// Tenant name.
    #[arg(long)]
    tenant: String,
    /// Print JSON lines.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    store: StoreArgs,
}

#[derive(Debug, Args)]
pub(crate) struct ShareSetArgs {
    /// Share name.
    name: String,
    /// Tenant name.
    #[arg(long)]
    tenant: String,
    /// The new root (absolute).
    #[arg(
        long,
        required_unless_present = "clear_root",
        conflicts_with = "clear_root"
    )]
    root: Option<String>,
    /// Remove the root: workers will refuse the share.
    #[arg(long)]
    clear_root: bool,
    #[command(flatten)]
    store: StoreArgs,
}

/// `NAME=DIR`: a share mounted at DIR on this host instead of its recorded root.
pub(crate) fn parse_share_root(s: &str) -> Result<(String, PathBuf), String> {
    let (name, dir) = s
        .split_once('=')
        .ok_or_else(|| format!("expected NAME=DIR, got {s:?}"))?;
    if name.is_empty() {
        return Err(format!("no share name in {s:?}"));
    }
    alto::path::check_root(dir).map_err(|e| e.to_string())?;
    Ok((name.to_owned(), PathBuf::from(dir)))
}

fn kind(s: &str) -> ShareKind {
    match s {
        "ntfs" => ShareKind::Ntfs,
        "smb" => ShareKind::Smb,
        "lucidlink" => ShareKind::Lucidlink,
        _ => ShareKind::Posix,
    }
}

fn line(s: &Share) -> String {
    format!(
        "{}\t{}\t{}\t{}",
        s.name,
        s.kind.as_str(),
        if s.case_sensitive {
            "case-sensitive"
        } else {
            "case-insensitive"
        },
        s.root.as_deref().unwrap_or("(no root: workers refuse it)")
    )
}

pub(crate) fn share(cmd: ShareCommand, quiet: bool) -> CmdResult {
    runtime()?.block_on(async {
        match cmd {
            ShareCommand::Create(a) => {
                let t = a.store.alto(quiet).await?.tenant(&a.tenant).await?;
                let spec = ShareSpec {
                    case_sensitive: a.case_sensitive,
                    root: a.root.clone(),
                    ..ShareSpec::new(a.name.clone(), kind(&a.kind))
                };
                let s = t.create_share(&spec).await?;
                println!("created share {}", line(&s));
            }
            ShareCommand::List(a) => {
                let t = a.store.alto(quiet).await?.tenant(&a.tenant).await?;
                for s in t.shares().await? {
                    if a.json {
                        println!(
                            "{}",
                            serde_json::to_string(&s).map_err(|e| Failure {
                                code: 1,
                                message: e.to_string()
                            })?
                        );
                    } else {
                        println!("{}", line(&s));
                    }
                }
            }
            ShareCommand::Set(a) => {
                let t = a.store.alto(quiet).await?.tenant(&a.tenant).await?;
                let root = if a.clear_root {
                    None
                } else {
                    a.root.as_deref()
                };
                let s = t.set_share_root(&a.name, root).await?;
                println!("share {}", line(&s));
            }
        }
        Ok::<_, Failure>(())
    })
}
