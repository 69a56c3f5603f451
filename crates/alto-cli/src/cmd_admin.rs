//! `alto migrate` and `alto tenant create`.

use crate::store::{StoreArgs, runtime};
use crate::{CmdResult, Failure};
use alto::TenantSettings;
use clap::{Args, Subcommand};

#[derive(Debug, Args)]
pub(crate) struct MigrateArgs {
    #[command(flatten)]
    store: StoreArgs,
}

pub(crate) fn migrate(args: MigrateArgs, quiet: bool) -> CmdResult {
    let url = args.store.url(quiet);
    runtime()?.block_on(alto::migrate(&url))?;
    if !quiet {
        eprintln!("alto: {} is migrated", redact(&url));
    }
    Ok(())
}

#[derive(Debug, Subcommand)]
pub(crate) enum TenantCommand {
    /// Create a tenant.
    Create(TenantCreateArgs),
}

#[derive(Debug, Args)]
pub(crate) struct TenantCreateArgs {
    /// Tenant name.
    name: String,
    #[command(flatten)]
    store: StoreArgs,
    /// Do not keep per-scan snapshot rows (only the current state of each file).
    #[arg(long)]
    no_history: bool,
    /// PLANNED objects expire after this many days.
    #[arg(long, default_value_t = 365)]
    planned_retention_days: u32,
}

pub(crate) fn tenant(cmd: TenantCommand, quiet: bool) -> CmdResult {
    match cmd {
        TenantCommand::Create(a) => runtime()?.block_on(async {
            let store = a.store.open(quiet).await?;
            let settings = TenantSettings {
                keep_history: !a.no_history,
                planned_retention_days: a.planned_retention_days,
                ..TenantSettings::default()
            };
            let t = store.create_tenant(&a.name, &settings).await?;
            println!("created tenant {:?} (id {})", t.name, t.id);
            Ok::<_, Failure>(())
        }),
    }
}

/// The URL without a password, for messages.
pub(crate) fn redact(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(s), Some(at)) if at > s => {
            let cred = &url[s + 3..at];
            match cred.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            super::redact("postgres://u:secret@h/db"),
            "postgres://u:***@h/db"
        );
        assert_eq!(super::redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(super::redact("sqlite://alto.db"), "sqlite://alto.db");
    }
}
