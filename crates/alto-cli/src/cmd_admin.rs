//! `alto migrate` and `alto tenant create`.

use crate::store::{StoreArgs, runtime};
use crate::{CmdResult, Failure};
use alto::{StubAccessPolicy, TenantSettings, UnknownPathPolicy};
use clap::{Args, Subcommand};

#[derive(Debug, Args)]
pub(crate) struct MigrateArgs {
    #[command(flatten)]
    store: StoreArgs,
}

pub(crate) fn migrate(args: MigrateArgs, quiet: bool) -> CmdResult {
    let url = args.store.url(quiet);
    let rt = runtime()?;
    rt.block_on(alto::migrate(&url))?;
    if !quiet {
        eprintln!("alto: {} is migrated", redact(&url));
    }
    if !quiet && matches!(alto::StoreUrl::parse(&url), Ok(alto::StoreUrl::Postgres(_))) {
        // The owner migrates; services run as runtime logins (connecting as the owner is
        // refused). Name the ones that exist, or say how to make one.
        let logins = rt.block_on(alto::login::list(&url))?;
        if logins.is_empty() {
            eprintln!(
                "alto: next, create a runtime login and run every other command as it (the \
                 owner is refused at run time):\n  \
                 alto login create alto_svc --all-tenants --store {owner}   # or --tenant T; \
                 --password-file F\n  \
                 then use --store {run}",
                owner = redact(&url),
                run = crate::cmd_login::login_url(&url, "alto_svc"),
            );
        } else {
            eprintln!(
                "alto: run as a runtime login (the owner is refused at run time; `alto login \
                 create` makes more):"
            );
            for l in logins {
                eprintln!(
                    "  --store {}   ({})",
                    crate::cmd_login::login_url(&url, &l.role),
                    l.tenant_name
                        .map_or_else(|| "all tenants".to_owned(), |t| format!("tenant {t}"))
                );
            }
        }
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
    /// When a feed sees a stubbed file accessed: `alert` (an audit event), `rehydrate` (bring it
    /// back, and record the request), or `ignore`.
    #[arg(long, default_value = "alert", value_parser = ["alert", "rehydrate", "ignore"])]
    stub_access: String,
    /// Feed events for paths no scan has seen: `queue` (kept for investigation), `ignore`, or
    /// `placeholder` (a file record from what the event says).
    #[arg(long, default_value = "queue", value_parser = ["queue", "ignore", "placeholder"])]
    unknown_paths: String,
}

pub(crate) fn tenant(cmd: TenantCommand, quiet: bool) -> CmdResult {
    match cmd {
        TenantCommand::Create(a) => runtime()?.block_on(async {
            let alto = a.store.alto(quiet).await?;
            let mut settings = TenantSettings::default();
            settings.keep_history = !a.no_history;
            settings.planned_retention_days = a.planned_retention_days;
            settings.stub_access = match a.stub_access.as_str() {
                "rehydrate" => StubAccessPolicy::Rehydrate,
                "ignore" => StubAccessPolicy::Ignore,
                _ => StubAccessPolicy::Alert,
            };
            settings.unknown_paths = match a.unknown_paths.as_str() {
                "ignore" => UnknownPathPolicy::Ignore,
                "placeholder" => UnknownPathPolicy::Placeholder,
                _ => UnknownPathPolicy::Queue,
            };
            let t = alto.create_tenant(&a.name, &settings).await?;
            println!("created tenant {:?} (id {})", t.name(), t.record().id);
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
