//! `alto`: plan, evaluate and (in later versions) execute tiering from the command line.
//!
//! Exit codes: 0 success, 2 bad input or usage (a bad rule set, a file that is not an inventory,
//! rejected rows under `--strict`), 1 internal error.

mod cmd_admin;
mod cmd_audit;
mod cmd_feed;
mod cmd_find;
mod cmd_ingest;
mod cmd_login;
mod cmd_plan;
mod cmd_reconcile;
mod cmd_report;
mod cmd_rules;
mod cmd_share;
mod cmd_tier;
mod demo;
mod fmt;
mod input;
mod metrics;
mod store;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Alto: tiered storage management. Decide which cold files move to tier-2 storage, and why.
#[derive(Debug, Parser)]
#[command(name = "alto", version, about, long_about = None)]
struct Cli {
    /// No progress bars and no summaries on stderr (errors are still printed).
    #[arg(long, short, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Validate and evaluate rule sets.
    #[command(subcommand)]
    Rules(cmd_rules::RulesCommand),
    /// Show what a rule set would tier — from an inventory file or from a tenant's files in the
    /// store: files, bytes, jobs and transfer time. Writes nothing.
    Plan(cmd_plan::PlanArgs),
    /// Create or upgrade the store's schema (PostgreSQL: run as the owner role).
    Migrate(cmd_admin::MigrateArgs),
    /// Manage tenants.
    #[command(subcommand)]
    Tenant(cmd_admin::TenantCommand),
    /// Manage the PostgreSQL logins services run as (as the owner): tenant-bound or all-tenants.
    #[command(subcommand)]
    Login(cmd_login::LoginCommand),
    /// Manage a tenant's shares and their roots on the workers' hosts.
    #[command(subcommand)]
    Share(cmd_share::ShareCommand),
    /// Load an inventory (CSV or Parquet) into a share of a tenant. Re-running an interrupted
    /// ingest of the same file resumes it.
    Ingest(cmd_ingest::IngestArgs),
    /// List the files the store knows, with sizes, times, their sources and tier states.
    Find(cmd_find::FindArgs),
    /// Work the job queue: copy planned files to their targets, verify, replace them with stubs.
    Run(cmd_tier::RunArgs),
    /// Bring stubbed files back from tier 2.
    Rehydrate(cmd_tier::RehydrateArgs),
    /// List tiering jobs and their state.
    Jobs(cmd_tier::JobsArgs),
    /// Cancel a queued or running job (its planned files are withdrawn).
    Cancel(cmd_tier::CancelArgs),
    /// Keep last-access times current from access feeds (LucidLink audit trail, event batches).
    #[command(subcommand)]
    Feed(cmd_feed::FeedCommand),
    /// Apply retention: expire old plans, remove old REHYDRATED/DELETED records, finished jobs
    /// and feed bookkeeping, per each tenant's settings (`alto tenant set`). Never touches a
    /// user file or a STUBBED record.
    Maintain(cmd_admin::MaintainArgs),
    /// Report where a tenant's space is: totals, space saved (stubbed) and planned, breakdowns
    /// by tier state, rule, extension, owner, share, age and size, the largest and oldest files,
    /// and what a rule set would tier now. As a table, JSON, CSV or one self-contained HTML page.
    Report(cmd_report::ReportArgs),
    /// Read a tenant's audit trail: filter by kind, subject, time or parent, resume from a
    /// cursor, or follow it as events are committed.
    Audit(cmd_audit::AuditArgs),
    /// Compare the catalogue with the tier targets and the shares: flag stubbed files whose
    /// object is gone or changed (LOST), report objects no record claims (orphans; deleted with
    /// --apply when older than the grace period) and stubs on disk the catalogue does not know.
    Reconcile(cmd_reconcile::ReconcileArgs),
    /// Generate a realistic inventory of 100,000 files, ingest it into a store (default: a
    /// temporary SQLite file), plan from the store with the example rules, and print the report.
    /// Needs nothing but this binary.
    Demo(demo::DemoArgs),
}

/// An error with the exit code it deserves.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) code: u8,
    pub(crate) message: String,
}

impl Failure {
    pub(crate) fn usage(message: impl Into<String>) -> Self {
        Failure {
            code: 2,
            message: message.into(),
        }
    }
}

impl From<alto_core::Error> for Failure {
    fn from(e: alto_core::Error) -> Self {
        use alto_core::ErrorKind::*;
        let code = match e.kind() {
            InvalidInput | InvalidRule | NotFound | AlreadyExists | InvalidTransition
            | Unsupported | PermissionDenied => 2,
            _ => 1,
        };
        Failure {
            code,
            message: e.to_string(),
        }
    }
}

impl From<alto_rules::RuleError> for Failure {
    fn from(e: alto_rules::RuleError) -> Self {
        Failure::usage(e.to_string())
    }
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Self {
        // A closed pipe (`alto rules eval … | head`) is not an error worth a message.
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            return Failure {
                code: 0,
                message: String::new(),
            };
        }
        Failure {
            code: 1,
            message: format!("I/O error: {e}"),
        }
    }
}

pub(crate) type CmdResult = Result<(), Failure>;

fn main() -> ExitCode {
    use clap::{CommandFactory, FromArgMatches};
    let matches = Cli::command().get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    // Audit events this run writes say which command wrote them (`cli:run`, `cli:ingest`).
    store::set_source(&format!(
        "cli:{}",
        matches.subcommand_name().unwrap_or_default()
    ));
    let result = match cli.command {
        Command::Audit(args) => cmd_audit::run(args, cli.quiet),
        Command::Maintain(args) => cmd_admin::maintain(args, cli.quiet),
        Command::Report(args) => cmd_report::run(args, cli.quiet),
        Command::Rules(cmd) => cmd_rules::run(cmd, cli.quiet),
        Command::Plan(args) => cmd_plan::run(args, cli.quiet),
        Command::Demo(args) => demo::run(args, cli.quiet),
        Command::Migrate(args) => cmd_admin::migrate(args, cli.quiet),
        Command::Tenant(cmd) => cmd_admin::tenant(cmd, cli.quiet),
        Command::Login(cmd) => cmd_login::run(cmd, cli.quiet),
        Command::Share(cmd) => cmd_share::share(cmd, cli.quiet),
        Command::Ingest(args) => cmd_ingest::run(args, cli.quiet),
        Command::Find(args) => cmd_find::run(args, cli.quiet),
        Command::Run(args) => cmd_tier::run(args, cli.quiet),
        Command::Rehydrate(args) => cmd_tier::rehydrate(args, cli.quiet),
        Command::Jobs(args) => cmd_tier::jobs(args, cli.quiet),
        Command::Cancel(args) => cmd_tier::cancel(args, cli.quiet),
        Command::Feed(cmd) => cmd_feed::run(cmd, cli.quiet),
        Command::Reconcile(args) => cmd_reconcile::run(args, cli.quiet),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            if !f.message.is_empty() {
                eprintln!("alto: error: {}", f.message);
            }
            ExitCode::from(f.code)
        }
    }
}
