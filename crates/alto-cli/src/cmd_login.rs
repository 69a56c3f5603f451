//! `alto login create|list|drop`: the PostgreSQL logins services run as, managed by the owner.
//!
//! A login bound to a tenant (`--tenant`) sees and changes that tenant alone, whatever SQL it
//! runs; one created with `--all-tenants` acts for every tenant (workers, operators). Neither has
//! the owner's powers.

use crate::store::runtime;
use crate::{CmdResult, Failure};
use clap::{Args, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub(crate) enum LoginCommand {
    /// Create a login role: bound to one tenant (`--tenant`), or for every tenant
    /// (`--all-tenants`).
    Create(LoginCreateArgs),
    /// List the runtime logins and their tenants.
    List(LoginListArgs),
    /// Drop a runtime login.
    Drop(LoginDropArgs),
}

/// The owner's store URL (the user that ran `alto migrate`).
#[derive(Debug, Args)]
pub(crate) struct OwnerStore {
    /// The owner's `postgres://` URL.
    #[arg(long, env = "ALTO_OWNER_STORE", value_name = "OWNER_URL")]
    store: String,
}

#[derive(Debug, Args)]
pub(crate) struct LoginCreateArgs {
    /// Role name: 1 to 63 letters, digits, `.`, `_` or `-`, starting with a letter or digit.
    role: String,
    /// The tenant the login is bound to.
    #[arg(
        long,
        required_unless_present = "all_tenants",
        conflicts_with = "all_tenants"
    )]
    tenant: Option<String>,
    /// A login that acts for every tenant (workers, operators).
    #[arg(long)]
    all_tenants: bool,
    /// Read the login's password from this file (its first line). Without it the role has no
    /// password: it logs in only where the server trusts it, or once one is set.
    #[arg(long, value_name = "FILE")]
    password_file: Option<PathBuf>,
    #[command(flatten)]
    store: OwnerStore,
}

#[derive(Debug, Args)]
pub(crate) struct LoginListArgs {
    /// Print JSON lines.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    store: OwnerStore,
}

#[derive(Debug, Args)]
pub(crate) struct LoginDropArgs {
    /// Role name.
    role: String,
    #[command(flatten)]
    store: OwnerStore,
}

fn read_password(path: &PathBuf) -> Result<String, Failure> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Failure::usage(format!(
            "cannot read the password file {}: {e}",
            path.display()
        ))
    })?;
    let line = text.lines().next().unwrap_or("");
    if line.is_empty() {
        return Err(Failure::usage(format!(
            "the password file {} is empty",
            path.display()
        )));
    }
    Ok(line.to_owned())
}

/// `url` with `role` as its user and no password (give the login's own password, if it has one,
/// in `PGPASSWORD`, a `.pgpass` file or the URL).
pub(crate) fn login_url(url: &str, role: &str) -> String {
    let scheme_end = url.find("://").map_or(0, |i| i + 3);
    let rest = &url[scheme_end..];
    let host = match rest.find('@') {
        Some(at) if rest.find('/').is_none_or(|slash| at < slash) => &rest[at + 1..],
        _ => rest,
    };
    format!("{}{role}@{host}", &url[..scheme_end])
}

pub(crate) fn run(cmd: LoginCommand, quiet: bool) -> CmdResult {
    match cmd {
        LoginCommand::Create(a) => {
            alto::login::check_role_name(&a.role)?;
            let password = a.password_file.as_ref().map(read_password).transpose()?;
            let login = runtime()?.block_on(alto::login::create(
                &a.store.store,
                &a.role,
                a.tenant.as_deref(),
                password.as_deref(),
            ))?;
            if !quiet {
                match &login.tenant_name {
                    Some(t) => eprintln!(
                        "alto: created the login {} bound to tenant {t}: that tenant's services \
                         use --store {}",
                        login.role,
                        login_url(&a.store.store, &login.role)
                    ),
                    None => eprintln!(
                        "alto: created the login {} for every tenant: workers and operators use \
                         --store {}",
                        login.role,
                        login_url(&a.store.store, &login.role)
                    ),
                }
            }
            Ok(())
        }
        LoginCommand::List(a) => {
            let logins = runtime()?.block_on(alto::login::list(&a.store.store))?;
            for l in logins {
                if a.json {
                    println!(
                        "{}",
                        serde_json::json!({
                            "role": l.role,
                            "tenant": l.tenant_name,
                            "tenant_id": l.tenant.map(|t| t.0),
                        })
                    );
                } else {
                    println!(
                        "{}\t{}",
                        l.role,
                        l.tenant_name.as_deref().unwrap_or("(all tenants)")
                    );
                }
            }
            Ok(())
        }
        LoginCommand::Drop(a) => {
            runtime()?.block_on(alto::login::drop(&a.store.store, &a.role))?;
            if !quiet {
                eprintln!("alto: dropped the login {}", a.role);
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod login_url_tests {
    #[test]
    fn login_url_replaces_the_user_and_drops_the_password() {
        assert_eq!(
            super::login_url(
                "postgres://owner:secret@db:5432/alto?sslmode=require",
                "svc"
            ),
            "postgres://svc@db:5432/alto?sslmode=require"
        );
        assert_eq!(
            super::login_url("postgres://db/alto", "svc"),
            "postgres://svc@db/alto"
        );
    }
}
