//! From text to validated [`Rule`]s.
//!
//! All three formats are first read into a `serde_json::Value`, then checked by hand, field by
//! field, so that every refusal names the rule and the field — something serde's derived errors
//! cannot do for a rule without a name, or for a unit inside a string. The checks, per rule:
//! `name` first (the other messages need it), then unknown fields, then each field in the order of
//! DESIGN §4, then `min_size` against `max_size`, then duplicate names. `null` (JSON, YAML) counts
//! as absent. The first problem found refuses the set. Globs and regexes are compiled here, in
//! each case variant the set's `case_sensitive` needs, so that a bad one is blamed on its rule.
//! A key written twice in one table is a syntax error in every format.

use std::collections::HashMap;

use serde_json::{Map, Value};

use crate::compile::single_regex;
use crate::error::{RuleError, RuleErrorKind as K};
use crate::glob;
use crate::path::fold_case;
use crate::rule::{Rule, check_target};
use crate::strict::StrictValue;
use crate::units::{parse_duration, size_from_text};
use crate::{CaseMode, Format, Micros};

/// The keys a rule may have, in the order they are checked and documented.
pub(crate) const RULE_FIELDS: &[&str] = &[
    "name",
    "priority",
    "enabled",
    "include",
    "exclude",
    "regex",
    "min_size",
    "max_size",
    "accessed_before",
    "accessed_after",
    "modified_before",
    "modified_after",
    "extensions",
    "exclude_extensions",
    "target",
];

/// Default `priority` of a rule that states none.
pub const DEFAULT_PRIORITY: i64 = 100;

/// Reads rule-set text of any format into a JSON value.
pub(crate) fn to_value(text: &str, format: Format) -> Result<Value, RuleError> {
    let syntax = |name: &str, e: &dyn std::fmt::Display| {
        RuleError::global(K::Syntax, None, format!("{name} syntax error: {e}"))
    };
    let value = match format {
        Format::Toml => toml::from_str::<StrictValue>(text).map_err(|e| syntax("TOML", &e)),
        Format::Json => serde_json::from_str::<StrictValue>(text).map_err(|e| syntax("JSON", &e)),
        Format::Yaml => serde_norway::from_str::<StrictValue>(text).map_err(|e| syntax("YAML", &e)),
    };
    value.map(|v| v.0)
}

/// Validates a whole rule set.
pub(crate) fn from_value(value: &Value) -> Result<(CaseMode, Vec<Rule>), RuleError> {
    let empty = Map::new();
    let top = match value {
        Value::Object(map) => map,
        Value::Null => &empty,
        other => {
            return Err(RuleError::global(
                K::WrongType,
                None,
                format!(
                    "a rule set must be a table with `case_sensitive` and `rule`, got {}",
                    describe(other)
                ),
            ));
        }
    };
    for key in top.keys() {
        if key != "case_sensitive" && key != "rule" {
            let hint = if key == "rules" {
                "; did you mean \"rule\"?"
            } else {
                ""
            };
            return Err(RuleError::global(
                K::UnknownField,
                Some(key),
                format!("unknown top-level key (expected case_sensitive or rule){hint}"),
            ));
        }
    }
    let case_mode = match top.get("case_sensitive") {
        None | Some(Value::Null) => CaseMode::Auto,
        Some(Value::Bool(true)) => CaseMode::Sensitive,
        Some(Value::Bool(false)) => CaseMode::Insensitive,
        Some(Value::String(s)) if s == "auto" => CaseMode::Auto,
        Some(other) => {
            let kind = if other.is_string() {
                K::InvalidValue
            } else {
                K::WrongType
            };
            return Err(RuleError::global(
                kind,
                Some("case_sensitive"),
                format!("expected \"auto\", true or false, got {}", describe(other)),
            ));
        }
    };
    let items: &[Value] = match top.get("rule") {
        None | Some(Value::Null) => &[],
        Some(Value::Array(items)) => items,
        Some(other) => {
            return Err(RuleError::global(
                K::WrongType,
                Some("rule"),
                format!(
                    "expected an array of rules ([[rule]] in TOML), got {}",
                    describe(other)
                ),
            ));
        }
    };
    let mut rules = Vec::with_capacity(items.len());
    let mut seen: HashMap<String, usize> = HashMap::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let rule = parse_rule(index, item, case_mode)?;
        if let Some(first) = seen.insert(rule.name.clone(), index) {
            return Err(RuleError::in_rule(
                K::DuplicateName,
                index,
                Some(&rule.name),
                "name",
                format!("duplicate rule name (also rule #{})", first + 1),
            ));
        }
        rules.push(rule);
    }
    Ok((case_mode, rules))
}

/// Where a field is, for error messages.
struct Ctx<'a> {
    index: usize,
    name: Option<&'a str>,
}

impl Ctx<'_> {
    fn err(&self, kind: K, field: &str, message: String) -> RuleError {
        RuleError::in_rule(kind, self.index, self.name, field, message)
    }

    fn wrong_type(&self, field: &str, expected: &str, got: &Value) -> RuleError {
        self.err(
            K::WrongType,
            field,
            format!("expected {expected}, got {}", describe(got)),
        )
    }
}

fn parse_rule(index: usize, item: &Value, case_mode: CaseMode) -> Result<Rule, RuleError> {
    let Value::Object(map) = item else {
        return Err(RuleError::rule_level(
            K::WrongType,
            index,
            format!("expected a table, got {}", describe(item)),
        ));
    };
    let get = |field: &str| map.get(field).filter(|v| !v.is_null());
    let mut cx = Ctx { index, name: None };
    let name = match get("name") {
        None => {
            return Err(cx.err(
                K::Missing,
                "name",
                "missing (every rule needs a unique name)".into(),
            ));
        }
        Some(Value::String(s)) if s.trim().is_empty() => {
            return Err(cx.err(K::InvalidValue, "name", "empty name".into()));
        }
        Some(Value::String(s)) => s.as_str(),
        Some(other) => return Err(cx.wrong_type("name", "a string", other)),
    };
    cx.name = Some(name);
    for key in map.keys() {
        if !RULE_FIELDS.contains(&key.as_str()) {
            return Err(cx.err(
                K::UnknownField,
                key,
                format!("unknown field (expected one of {})", RULE_FIELDS.join(", ")),
            ));
        }
    }
    let priority = match get("priority") {
        None => DEFAULT_PRIORITY,
        Some(Value::Number(n)) if n.is_i64() => n.as_i64().unwrap_or(DEFAULT_PRIORITY),
        Some(Value::Number(n)) if n.is_u64() => {
            return Err(cx.err(K::InvalidValue, "priority", format!("{n} is too large")));
        }
        Some(other) => return Err(cx.wrong_type("priority", "an integer", other)),
    };
    let enabled = match get("enabled") {
        None => true,
        Some(Value::Bool(b)) => *b,
        Some(other) => return Err(cx.wrong_type("enabled", "true or false", other)),
    };
    let include = globs(&cx, "include", get("include"), case_mode)?;
    let exclude = globs(&cx, "exclude", get("exclude"), case_mode)?;
    let regex = match get("regex") {
        None => None,
        Some(Value::String(s)) if s.is_empty() => {
            return Err(cx.err(
                K::InvalidValue,
                "regex",
                "empty regex (leave the field out to match every path)".into(),
            ));
        }
        Some(Value::String(s)) => {
            for insensitive in needed_cases(case_mode) {
                single_regex(s, *insensitive)
                    .map_err(|e| cx.err(K::BadRegex, "regex", format!("bad regex: {e}")))?;
            }
            Some(s.clone())
        }
        Some(other) => return Err(cx.wrong_type("regex", "a string", other)),
    };
    let min_size = size(&cx, "min_size", get("min_size"))?;
    let max_size = size(&cx, "max_size", get("max_size"))?;
    let accessed_before = duration(&cx, "accessed_before", get("accessed_before"))?;
    let accessed_after = duration(&cx, "accessed_after", get("accessed_after"))?;
    let modified_before = duration(&cx, "modified_before", get("modified_before"))?;
    let modified_after = duration(&cx, "modified_after", get("modified_after"))?;
    let extensions = ext_list(&cx, "extensions", get("extensions"))?;
    let exclude_extensions = ext_list(&cx, "exclude_extensions", get("exclude_extensions"))?;
    let target = match get("target") {
        None => {
            return Err(cx.err(
                K::Missing,
                "target",
                "missing (where should matched files go?)".into(),
            ));
        }
        Some(Value::String(s)) if s.trim().is_empty() => {
            return Err(cx.err(K::InvalidValue, "target", "empty target".into()));
        }
        Some(Value::String(s)) => {
            check_target(s).map_err(|m| cx.err(K::BadTarget, "target", m))?;
            s.clone()
        }
        Some(other) => return Err(cx.wrong_type("target", "a string", other)),
    };
    if let (Some(min), Some(max)) = (min_size, max_size)
        && min > max
    {
        return Err(cx.err(
            K::MinAboveMax,
            "min_size",
            format!(
                "min_size {} ({min} bytes) is above max_size {} ({max} bytes)",
                get("min_size").map_or_else(String::new, Value::to_string),
                get("max_size").map_or_else(String::new, Value::to_string),
            ),
        ));
    }
    Ok(Rule {
        name: name.to_owned(),
        priority,
        enabled,
        position: index,
        include,
        exclude,
        regex,
        min_size,
        max_size,
        accessed_before,
        accessed_after,
        modified_before,
        modified_after,
        extensions,
        exclude_extensions,
        target,
    })
}

/// The case variants (`false` = sensitive) that a case mode compiles.
pub(crate) fn needed_cases(mode: CaseMode) -> &'static [bool] {
    match mode {
        CaseMode::Auto => &[false, true],
        CaseMode::Sensitive => &[false],
        CaseMode::Insensitive => &[true],
    }
}

fn strings<'v>(cx: &Ctx<'_>, field: &str, value: &'v Value) -> Result<Vec<&'v str>, RuleError> {
    let Value::Array(items) = value else {
        return Err(cx.wrong_type(field, "an array of strings", value));
    };
    items
        .iter()
        .map(|item| match item {
            Value::String(s) => Ok(s.as_str()),
            other => Err(cx.wrong_type(field, "an array of strings", other)),
        })
        .collect()
}

fn globs(
    cx: &Ctx<'_>,
    field: &str,
    value: Option<&Value>,
    case_mode: CaseMode,
) -> Result<Vec<String>, RuleError> {
    let Some(value) = value else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for glob in strings(cx, field, value)? {
        if glob.is_empty() {
            return Err(cx.err(K::BadGlob, field, "empty glob".into()));
        }
        for &insensitive in needed_cases(case_mode) {
            glob::compile(glob, insensitive, false)
                .map_err(|e| cx.err(K::BadGlob, field, format!("bad glob {glob:?}: {e}")))?;
        }
        out.push(glob.to_owned());
    }
    Ok(out)
}

fn size(cx: &Ctx<'_>, field: &str, value: Option<&Value>) -> Result<Option<u64>, RuleError> {
    match value {
        None => Ok(None),
        Some(Value::String(s)) => size_from_text(s)
            .map(Some)
            .map_err(|(kind, m)| cx.err(kind, field, m)),
        Some(Value::Number(n)) => match n.as_u64() {
            Some(bytes) => Ok(Some(bytes)),
            None if n.as_i64().is_some() => {
                Err(cx.err(K::InvalidValue, field, format!("size {n} is negative")))
            }
            None => Err(cx.err(
                K::WrongType,
                field,
                format!(
                    "size {n} is not a whole number of bytes (write a string such as \"1.5GB\")"
                ),
            )),
        },
        Some(other) => Err(cx.wrong_type(
            field,
            "a size such as \"100MB\" or a number of bytes",
            other,
        )),
    }
}

fn duration(cx: &Ctx<'_>, field: &str, value: Option<&Value>) -> Result<Option<Micros>, RuleError> {
    match value {
        None => Ok(None),
        Some(Value::String(s)) => parse_duration(s).map(Some).map_err(|m| {
            let kind = if m.contains("unit") {
                K::BadUnit
            } else {
                K::InvalidValue
            };
            cx.err(kind, field, m)
        }),
        Some(Value::Number(n)) => Err(cx.err(
            K::BadUnit,
            field,
            format!("duration {n} needs a unit (use s, m, h, d, w or y, e.g. \"{n}d\")"),
        )),
        Some(other) => Err(cx.wrong_type(field, "a duration such as \"30d\"", other)),
    }
}

fn ext_list(cx: &Ctx<'_>, field: &str, value: Option<&Value>) -> Result<Vec<String>, RuleError> {
    let Some(value) = value else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for ext in strings(cx, field, value)? {
        let bare = ext.strip_prefix('.').unwrap_or(ext);
        if bare.is_empty() || bare.contains(['.', '/', '\\']) {
            return Err(cx.err(
                K::InvalidValue,
                field,
                format!(
                    "bad extension {ext:?}: an extension is what follows the last dot of a file \
                     name, e.g. \"mov\" or \".mov\""
                ),
            ));
        }
        out.push(fold_case(bare));
    }
    Ok(out)
}

/// A value's type, and the value itself when it is short, for messages.
fn describe(value: &Value) -> String {
    match value {
        Value::Null => "nothing (null)".into(),
        Value::Bool(b) => format!("a boolean ({b})"),
        Value::Number(n) if n.is_f64() => format!("a number ({n})"),
        Value::Number(n) => format!("an integer ({n})"),
        Value::String(s) => format!("a string ({s:?})"),
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "a table".into(),
    }
}
