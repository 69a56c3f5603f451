//! `alto rules check` and `alto rules eval`.

use crate::input::{InventoryArgs, check_strict, parse_now, read_inventory};
use crate::{CmdResult, fmt};
use alto_rules::{CaseMode, RuleSet};
use clap::{Args, Subcommand};
use serde::Serialize;
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub(crate) enum RulesCommand {
    /// Validate a rule set (TOML, JSON or YAML) and summarise it. Exit 2 with the message on error.
    Check {
        /// The rule set.
        file: PathBuf,
    },
    /// For every inventory row, which rule catches it: JSON Lines on stdout, in input order.
    Eval(Box<EvalArgs>),
}

#[derive(Debug, Args)]
pub(crate) struct EvalArgs {
    /// The rule set.
    #[arg(long, short, value_name = "FILE")]
    rules: PathBuf,
    #[command(flatten)]
    input: InventoryArgs,
    /// Evaluation time (RFC 3339); default now.
    #[arg(long, value_name = "TIME")]
    now: Option<String>,
    /// Add, for each rule tried before the match, the first condition that failed.
    #[arg(long)]
    explain: bool,
}

pub(crate) fn run(cmd: RulesCommand, quiet: bool) -> CmdResult {
    match cmd {
        RulesCommand::Check { file } => check(&file),
        RulesCommand::Eval(args) => eval(&args, quiet),
    }
}

fn check(file: &std::path::Path) -> CmdResult {
    let rules = RuleSet::from_path(file)?;
    let enabled = rules.rules().iter().filter(|r| r.enabled).count();
    let case = match rules.case_mode() {
        CaseMode::Auto => "auto (drive-letter and UNC paths insensitive)",
        CaseMode::Sensitive => "sensitive",
        CaseMode::Insensitive => "insensitive",
    };
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{}: {} rules ({} enabled), case {}",
        file.display(),
        rules.rules().len(),
        enabled,
        case
    )?;
    for idx in alto_core::planner::evaluation_order(&rules) {
        let r = &rules.rules()[idx];
        writeln!(
            out,
            "  {:>5}  {:<24} {}{}",
            r.priority,
            r.name,
            fmt::conditions(r),
            if r.enabled { "" } else { "  [disabled]" }
        )?;
        writeln!(out, "         {:<24} -> {}", "", r.target)?;
    }
    Ok(())
}

#[derive(Serialize)]
struct EvalLine<'a> {
    path: &'a str,
    rule: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    explain: Option<Vec<ExplainEntry<'a>>>,
}

#[derive(Serialize)]
struct ExplainEntry<'a> {
    rule: &'a str,
    failed: &'static str,
    detail: String,
}

fn eval(args: &EvalArgs, quiet: bool) -> CmdResult {
    let rules = RuleSet::from_path(&args.rules)?;
    let now = parse_now(args.now.as_deref())?;
    let mut scratch = rules.scratch();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let stats = read_inventory(&args.input, quiet, |row| {
        let facts = row.facts();
        let line = if args.explain {
            let ex = rules.explain(&facts, now);
            let tried = ex
                .tried
                .iter()
                .map(|t| ExplainEntry {
                    rule: &rules.rules()[t.rule].name,
                    failed: t.failed.as_str(),
                    detail: t.detail.clone(),
                })
                .collect();
            EvalLine {
                path: row.path,
                rule: ex.matched.map(|i| rules.rules()[i].name.as_str()),
                explain: Some(tried),
            }
        } else {
            let m = rules.evaluate(&facts, now, &mut scratch);
            EvalLine {
                path: row.path,
                rule: m.map(|i| rules.rules()[i].name.as_str()),
                explain: None,
            }
        };
        serde_json::to_writer(&mut out, &line).map_err(std::io::Error::from)?;
        out.write_all(b"\n")?;
        Ok(())
    })?;
    out.flush()?;
    check_strict(&args.input, stats)
}
