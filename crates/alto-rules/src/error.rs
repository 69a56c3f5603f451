//! The one error type of this crate: why a rule set was refused.
//!
//! A rule set is refused whole. The error says what was wrong and where: the rule (by name, or by
//! its 1-based position when it has no usable name), the field, and — when the rules came from
//! [`RuleSet::from_path`](crate::RuleSet::from_path) — the file. `alto-core` maps every
//! [`RuleError`] to its `InvalidRule` error kind.

use std::fmt;
use std::path::{Path, PathBuf};

/// What kind of mistake a [`RuleError`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RuleErrorKind {
    /// The rule file could not be read.
    Io,
    /// The text is not valid TOML, JSON or YAML.
    Syntax,
    /// A key that the rule language does not know (in a rule or at the top level).
    UnknownField,
    /// A value of the wrong type (a number where a string was expected, …).
    WrongType,
    /// A required field (`name`, `target`) is absent.
    Missing,
    /// A size or duration with a unit that does not exist, or a duration without a unit.
    BadUnit,
    /// A value of the right type that is not allowed (empty name, negative size, bad extension, …).
    InvalidValue,
    /// A glob in `include` or `exclude` that does not compile.
    BadGlob,
    /// A `regex` that does not compile (or exceeds the size limits).
    BadRegex,
    /// Two rules with the same name.
    DuplicateName,
    /// `min_size` above `max_size`.
    MinAboveMax,
    /// A `target` with an unknown placeholder or an unbalanced brace.
    BadTarget,
}

/// A rule set that was refused, with the rule and field at fault.
///
/// `Display` reads like
/// `rule "cold-video", field min_size: bad size unit "10XB" (use B, KB, …)`; an unnamed rule is
/// written `rule #3` (1-based position in the file), and errors from
/// [`RuleSet::from_path`](crate::RuleSet::from_path) start with the file's path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub struct RuleError {
    kind: RuleErrorKind,
    rule: Option<String>,
    rule_index: Option<usize>,
    field: Option<String>,
    message: String,
    path: Option<PathBuf>,
}

impl RuleError {
    /// An error that concerns no particular rule (syntax, top-level keys, I/O).
    pub(crate) fn global(kind: RuleErrorKind, field: Option<&str>, message: String) -> Self {
        RuleError {
            kind,
            rule: None,
            rule_index: None,
            field: field.map(str::to_owned),
            message,
            path: None,
        }
    }

    /// An error in the rule at `index` (0-based), named `name` if it has a name.
    pub(crate) fn in_rule(
        kind: RuleErrorKind,
        index: usize,
        name: Option<&str>,
        field: &str,
        message: String,
    ) -> Self {
        RuleError {
            kind,
            rule: name.map(str::to_owned),
            rule_index: Some(index),
            field: Some(field.to_owned()),
            message,
            path: None,
        }
    }

    /// An error about a rule as a whole (not one of its fields).
    pub(crate) fn rule_level(kind: RuleErrorKind, index: usize, message: String) -> Self {
        RuleError {
            kind,
            rule: None,
            rule_index: Some(index),
            field: None,
            message,
            path: None,
        }
    }

    /// Attaches the file the rules came from.
    pub(crate) fn with_path(mut self, path: &Path) -> Self {
        self.path = Some(path.to_owned());
        self
    }

    /// What kind of mistake this is.
    pub fn kind(&self) -> RuleErrorKind {
        self.kind
    }

    /// The name of the rule at fault, when it has one.
    pub fn rule(&self) -> Option<&str> {
        self.rule.as_deref()
    }

    /// The 0-based position (in file order) of the rule at fault, for any error inside a rule.
    pub fn rule_index(&self) -> Option<usize> {
        self.rule_index
    }

    /// The field (or top-level key) at fault, e.g. `"min_size"`.
    pub fn field(&self) -> Option<&str> {
        self.field.as_deref()
    }

    /// The reason alone, without the rule, field and path.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The rule file, for errors from [`RuleSet::from_path`](crate::RuleSet::from_path).
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(path) = &self.path {
            write!(f, "{}: ", path.display())?;
        }
        let mut wrote_place = false;
        match (&self.rule, self.rule_index) {
            (Some(name), _) => {
                write!(f, "rule {name:?}")?;
                wrote_place = true;
            }
            (None, Some(index)) => {
                write!(f, "rule #{}", index + 1)?;
                wrote_place = true;
            }
            (None, None) => {}
        }
        if let Some(field) = &self.field {
            if wrote_place {
                f.write_str(", ")?;
            }
            write!(f, "field {field}")?;
            wrote_place = true;
        }
        if wrote_place {
            f.write_str(": ")?;
        }
        f.write_str(&self.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_rule_and_field() {
        let e = RuleError::in_rule(
            RuleErrorKind::BadUnit,
            0,
            Some("cold-video"),
            "min_size",
            "bad size unit \"10XB\"".into(),
        );
        assert_eq!(
            e.to_string(),
            "rule \"cold-video\", field min_size: bad size unit \"10XB\""
        );
        assert_eq!(e.rule(), Some("cold-video"));
        assert_eq!(e.field(), Some("min_size"));
        assert_eq!(e.kind(), RuleErrorKind::BadUnit);
    }

    #[test]
    fn unnamed_rule_is_numbered_from_one() {
        let e = RuleError::in_rule(RuleErrorKind::Missing, 2, None, "name", "missing".into());
        assert_eq!(e.to_string(), "rule #3, field name: missing");
        assert_eq!(e.rule(), None);
        assert_eq!(e.rule_index(), Some(2));
    }

    #[test]
    fn global_errors_and_paths() {
        let e = RuleError::global(RuleErrorKind::Syntax, None, "TOML syntax error".into())
            .with_path(Path::new("/etc/alto/rules.toml"));
        assert_eq!(e.to_string(), "/etc/alto/rules.toml: TOML syntax error");
        let e = RuleError::global(RuleErrorKind::UnknownField, Some("rules"), "unknown".into());
        assert_eq!(e.to_string(), "field rules: unknown");
    }
}
