//! `alto migrate`, `alto tenant create|set|show` and `alto maintain`.

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
    /// Change a tenant's settings (only those given).
    Set(TenantSetArgs),
    /// Print a tenant's settings (JSON).
    Show(TenantShowArgs),
}

/// A count, or none (`never`, `all`): a flag's value that may turn a setting off.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OrNone(Option<u32>);

/// A number of days, or `never`.
fn days_or_never(s: &str) -> Result<OrNone, String> {
    if s.eq_ignore_ascii_case("never") {
        return Ok(OrNone(None));
    }
    s.parse()
        .map(|d| OrNone(Some(d)))
        .map_err(|_| format!("{s:?}: a number of days, or `never`"))
}

#[derive(Debug, Args)]
pub(crate) struct TenantSetArgs {
    /// Tenant name.
    name: String,
    #[command(flatten)]
    store: StoreArgs,
    /// PLANNED objects planned more than this many days ago expire at the next `alto maintain`
    /// (0: every plan made before it).
    #[arg(long, value_name = "DAYS")]
    planned_retention_days: Option<u32>,
    /// REHYDRATED records are removed this many days after their last change (`never`: kept).
    #[arg(long, value_name = "DAYS|never", value_parser = days_or_never)]
    rehydrated_retention_days: Option<OrNone>,
    /// DELETED records, the same (`never`: kept).
    #[arg(long, value_name = "DAYS|never", value_parser = days_or_never)]
    deleted_retention_days: Option<OrNone>,
    /// Finished jobs that hold no file are removed this many days after they finished.
    #[arg(long, value_name = "DAYS|never", value_parser = days_or_never)]
    job_retention_days: Option<OrNone>,
    /// Feed bookkeeping (applied event ids) is kept this many hours.
    #[arg(long, value_name = "HOURS")]
    feed_staging_hours: Option<u32>,
    /// Keep only the last N scans' snapshots per share (`all`: every scan).
    #[arg(long, value_name = "N|all", value_parser = scans_or_all)]
    history_scans: Option<OrNone>,
    /// `alert`, `rehydrate` or `ignore` (see `tenant create`).
    #[arg(long, value_parser = ["alert", "rehydrate", "ignore"])]
    stub_access: Option<String>,
    /// `queue`, `ignore` or `placeholder` (see `tenant create`).
    #[arg(long, value_parser = ["queue", "ignore", "placeholder"])]
    unknown_paths: Option<String>,
}

fn scans_or_all(s: &str) -> Result<OrNone, String> {
    if s.eq_ignore_ascii_case("all") {
        return Ok(OrNone(None));
    }
    match s.parse() {
        Ok(0) | Err(_) => Err(format!("{s:?}: a number of scans (at least 1), or `all`")),
        Ok(n) => Ok(OrNone(Some(n))),
    }
}

#[derive(Debug, Args)]
pub(crate) struct TenantShowArgs {
    /// Tenant name.
    name: String,
    #[command(flatten)]
    store: StoreArgs,
}

#[derive(Debug, Args)]
pub(crate) struct MaintainArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// Only this tenant (default: every tenant).
    #[arg(long)]
    tenant: Option<String>,
    /// Count what would go; change nothing.
    #[arg(long)]
    dry_run: bool,
    /// One JSON report per tenant, one per line.
    #[arg(long)]
    json: bool,
}

pub(crate) fn maintain(args: MaintainArgs, quiet: bool) -> CmdResult {
    runtime()?.block_on(async {
        let alto = args.store.alto(quiet).await?;
        let tenants = match &args.tenant {
            Some(t) => vec![alto.tenant(t).await?],
            None => alto.tenants().await?,
        };
        for t in tenants {
            let r = t.maintain(args.dry_run).await?;
            if args.json {
                println!(
                    "{}",
                    serde_json::to_string(&r).map_err(std::io::Error::from)?
                );
            } else {
                let verb = if r.dry_run { "would expire" } else { "expired" };
                println!(
                    "{}: {verb} {} plans ({} changed meanwhile, left); removed {} rehydrated and {} \
                     deleted records, {} finished jobs, {} feed bookkeeping rows, {} snapshot rows \
                     of old scans{}",
                    r.tenant,
                    r.planned_expired,
                    r.planned_skipped,
                    r.pruned.rehydrated,
                    r.pruned.deleted,
                    r.pruned.jobs,
                    r.pruned.feed_events,
                    r.pruned.snapshot_rows,
                    if r.dry_run { " (dry run: nothing changed)" } else { "" }
                );
            }
        }
        Ok(())
    })
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
    /// PLANNED objects planned more than this many days ago expire at the next `alto maintain`
    /// (0: every plan made before it). `alto tenant set` changes this and the other retention
    /// settings later.
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
        TenantCommand::Set(a) => runtime()?.block_on(async {
            let alto = a.store.alto(quiet).await?;
            let t = alto.tenant(&a.name).await?;
            let mut s = t.record().settings.clone();
            if let Some(d) = a.planned_retention_days {
                s.planned_retention_days = d;
            }
            if let Some(OrNone(d)) = a.rehydrated_retention_days {
                s.rehydrated_retention_days = d;
            }
            if let Some(OrNone(d)) = a.deleted_retention_days {
                s.deleted_retention_days = d;
            }
            if let Some(OrNone(d)) = a.job_retention_days {
                s.job_retention_days = d;
            }
            if let Some(h) = a.feed_staging_hours {
                s.feed_staging_hours = h;
            }
            if let Some(OrNone(n)) = a.history_scans {
                s.history_scans = n;
            }
            if let Some(p) = &a.stub_access {
                s.stub_access = match p.as_str() {
                    "rehydrate" => StubAccessPolicy::Rehydrate,
                    "ignore" => StubAccessPolicy::Ignore,
                    _ => StubAccessPolicy::Alert,
                };
            }
            if let Some(p) = &a.unknown_paths {
                s.unknown_paths = match p.as_str() {
                    "ignore" => UnknownPathPolicy::Ignore,
                    "placeholder" => UnknownPathPolicy::Placeholder,
                    _ => UnknownPathPolicy::Queue,
                };
            }
            let t = t.set_settings(&s).await?;
            println!(
                "{}",
                serde_json::to_string(&t.record().settings).map_err(std::io::Error::from)?
            );
            Ok::<_, Failure>(())
        }),
        TenantCommand::Show(a) => runtime()?.block_on(async {
            let alto = a.store.alto(quiet).await?;
            let t = alto.tenant(&a.name).await?;
            println!(
                "{}",
                serde_json::to_string(&t.record().settings).map_err(std::io::Error::from)?
            );
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
