//! [`RuleSet`]: a parsed, validated and compiled rule set — the crate's entry point.
//!
//! `alto-core`'s planner holds one per tenant, shares it across worker threads (it is `Send +
//! Sync`, and `Clone` is an `Arc` bump) and gives each thread its own [`Scratch`].

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use serde_json::Value;

use crate::compile::Matcher;
use crate::error::{RuleError, RuleErrorKind};
use crate::eval::Scratch;
use crate::explain::{Explanation, explain};
use crate::parse::{from_value, to_value};
use crate::{CaseMode, FileFacts, Format, Micros, Rule};

/// A compiled rule set; see the [crate docs](crate).
#[derive(Clone)]
pub struct RuleSet {
    inner: Arc<Inner>,
}

struct Inner {
    case_mode: CaseMode,
    rules: Vec<Rule>,
    matcher: Matcher,
}

impl fmt::Debug for RuleSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RuleSet")
            .field("case_mode", &self.inner.case_mode)
            .field("rules", &self.inner.rules)
            .finish_non_exhaustive()
    }
}

impl RuleSet {
    /// Parses, validates and compiles a rule set written in `format`.
    ///
    /// A bad rule set is refused whole; the error names the rule and the field.
    pub fn parse(text: &str, format: Format) -> Result<RuleSet, RuleError> {
        RuleSet::from_json_value(&to_value(text, format)?)
    }

    /// [`RuleSet::parse`] for TOML.
    pub fn from_toml(text: &str) -> Result<RuleSet, RuleError> {
        RuleSet::parse(text, Format::Toml)
    }

    /// [`RuleSet::parse`] for JSON.
    pub fn from_json(text: &str) -> Result<RuleSet, RuleError> {
        RuleSet::parse(text, Format::Json)
    }

    /// [`RuleSet::parse`] for YAML.
    pub fn from_yaml(text: &str) -> Result<RuleSet, RuleError> {
        RuleSet::parse(text, Format::Yaml)
    }

    /// Validates and compiles a rule set already read into a JSON value (for rules stored as JSON,
    /// e.g. in a database column). The value has the same shape as the JSON format.
    pub fn from_json_value(value: &Value) -> Result<RuleSet, RuleError> {
        let (case_mode, rules) = from_value(value)?;
        let matcher = Matcher::new(case_mode, &rules)?;
        Ok(RuleSet {
            inner: Arc::new(Inner {
                case_mode,
                rules,
                matcher,
            }),
        })
    }

    /// Reads a rule file; the format follows the extension (`.toml`, `.json`, `.yaml`, `.yml`,
    /// in any case; anything else is read as TOML). Every error names the file.
    pub fn from_path(path: &Path) -> Result<RuleSet, RuleError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            RuleError::global(
                RuleErrorKind::Io,
                None,
                format!("cannot read the rule file: {e}"),
            )
            .with_path(path)
        })?;
        RuleSet::parse(&text, Format::from_path(path)).map_err(|e| e.with_path(path))
    }

    /// Every rule, disabled ones included, in file order (`rules()[i].position == i`).
    pub fn rules(&self) -> &[Rule] {
        &self.inner.rules
    }

    /// The set's `case_sensitive` setting.
    pub fn case_mode(&self) -> CaseMode {
        self.inner.case_mode
    }

    /// Reusable buffers for [`RuleSet::evaluate`], sized for this set.
    pub fn scratch(&self) -> Scratch {
        self.inner.matcher.scratch()
    }

    /// The index (into [`RuleSet::rules`]) of the first enabled rule that `file` matches, by
    /// priority then position, or `None` when no rule matches.
    ///
    /// `now` is the evaluation time that the age conditions count back from. Does not allocate
    /// once `scratch` is warm (see [`Scratch`]).
    pub fn evaluate(
        &self,
        file: &FileFacts<'_>,
        now: Micros,
        scratch: &mut Scratch,
    ) -> Option<usize> {
        self.inner.matcher.evaluate(file, now, scratch)
    }

    /// [`RuleSet::evaluate`], plus for each enabled rule tried before the match the first
    /// condition that failed. Allocates; meant for humans, not for the planner's loop.
    pub fn explain(&self, file: &FileFacts<'_>, now: Micros) -> Explanation {
        explain(&self.inner.matcher, &self.inner.rules, file, now)
    }

    /// The rule with this name, if any.
    pub fn rule_by_name(&self, name: &str) -> Option<&Rule> {
        self.inner.rules.iter().find(|r| r.name == name)
    }
}

impl Format {
    /// The format a file's extension implies: `.json` is JSON, `.yaml`/`.yml` is YAML, anything
    /// else (`.toml` included) is TOML.
    pub fn from_path(path: &Path) -> Format {
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        if ext.eq_ignore_ascii_case("json") {
            Format::Json
        } else if ext.eq_ignore_ascii_case("yaml") || ext.eq_ignore_ascii_case("yml") {
            Format::Yaml
        } else {
            Format::Toml
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn send_sync_clone() {
        fn assert_send_sync<T: Send + Sync + Clone>() {}
        assert_send_sync::<RuleSet>();
        fn assert_send<T: Send>() {}
        assert_send::<Scratch>();
    }

    #[test]
    fn formats_from_paths() {
        assert_eq!(Format::from_path(Path::new("r.json")), Format::Json);
        assert_eq!(Format::from_path(Path::new("r.YML")), Format::Yaml);
        assert_eq!(Format::from_path(Path::new("r.yaml")), Format::Yaml);
        assert_eq!(Format::from_path(Path::new("r.toml")), Format::Toml);
        assert_eq!(Format::from_path(Path::new("rules")), Format::Toml);
    }
}
