#![doc = include_str!("../README.md")]
//!
//! # Modules at a glance
//!
//! - parsing and validation (TOML, JSON, YAML → [`Rule`]s, every error naming rule and field);
//! - units ([`parse_size`], [`parse_duration`]);
//! - the path normal form ([`normalize_path`], [`extension`], [`is_windows_path`]);
//! - the compiled matcher behind [`RuleSet::evaluate`] and its [`Scratch`];
//! - [`RuleSet::explain`] with [`Explanation`];
//! - [`naive::NaiveEvaluator`], the one-rule-at-a-time reference.

mod bracket;
mod compile;
mod error;
mod eval;
mod explain;
mod glob;
pub mod naive;
mod parse;
mod path;
mod rule;
mod set;
mod strict;
mod units;

pub use error::{RuleError, RuleErrorKind};
pub use eval::Scratch;
pub use explain::{Condition, Explanation, Tried};
pub use glob::PathGlob;
pub use parse::DEFAULT_PRIORITY;
pub use path::{extension, fold_case, fold_case_into, is_windows_path, normalize_path, normalized};
pub use rule::{Rule, TargetVars};
pub use set::RuleSet;
pub use units::{parse_duration, parse_size};

/// Microseconds since the Unix epoch, UTC. All times in this crate are this.
///
/// Durations (in [`Rule`]) are microseconds too.
pub type Micros = i64;

/// The text formats of a rule set. They carry the same structure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// TOML: `[[rule]]` tables.
    Toml,
    /// JSON: `{"case_sensitive": "auto", "rule": [{…}]}`.
    Json,
    /// YAML: a `rule:` list of mappings.
    Yaml,
}

/// How paths are compared with globs and regexes (`case_sensitive` at the top of a rule set).
///
/// Case-insensitive matching is Unicode-aware: a glob's literal parts are compared in lower case
/// with the path in lower case (character by character, so `É` matches `é`), a bracket matches a
/// character when one of its members has the same lower case (so `[A-Z]` also matches `a`–`z`
/// and `[Z-y]` keeps its range; see the crate's "Globs" section), and the regex runs with `(?i)`
/// (Unicode simple case folding). Extensions always compare case-insensitively, whatever the mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum CaseMode {
    /// `"auto"` (the default): drive-letter (`C:\…`) and UNC (`\\server\share\…`) paths are
    /// case-insensitive, every other path is case-sensitive. See [`is_windows_path`].
    #[default]
    Auto,
    /// `true`: every path is case-sensitive.
    Sensitive,
    /// `false`: every path is case-insensitive.
    Insensitive,
}

/// What the rules know about one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileFacts<'a> {
    /// The path as received (either separator); it is normalised before matching.
    pub path: &'a str,
    /// Size in bytes.
    pub size: u64,
    /// Last access; when `None`, the `accessed_*` conditions use `modified` instead.
    pub accessed: Option<Micros>,
    /// Last modification; when both are `None`, no age condition holds.
    pub modified: Option<Micros>,
}
