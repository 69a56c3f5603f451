//! One rule as the user wrote it (after validation), and the target template it carries.
//!
//! [`Rule`] is plain data: the planner in `alto-core` reads its `name`, `priority` and `target`,
//! reports group by it, and the CLI prints it. Matching goes through the compiled
//! [`RuleSet`](crate::RuleSet), never through a `Rule` alone.

use std::fmt::Write as _;

use crate::Micros;
use crate::units::utc_date;

/// The placeholders a `target` may use.
pub(crate) const PLACEHOLDERS: &[&str] = &["tenant", "share", "rule", "yyyy", "mm", "dd"];

/// One validated rule, in the units the evaluator uses.
///
/// Every condition that is `None` or empty is not stated and always holds. Sizes are bytes,
/// durations are microseconds, extensions are folded to lower case without the dot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// Unique name of the rule in its set.
    pub name: String,
    /// Lower is tried first; default 100.
    pub priority: i64,
    /// A disabled rule is never tried; default `true`.
    pub enabled: bool,
    /// 0-based position in the file (ties in priority keep this order).
    pub position: usize,
    /// Globs as written; the file must match one of them. Empty: every path.
    pub include: Vec<String>,
    /// Globs as written; a file matching any of them is ruled out.
    pub exclude: Vec<String>,
    /// Regular expression searched (not anchored) in the path's normal form.
    pub regex: Option<String>,
    /// Smallest size that matches, inclusive.
    pub min_size: Option<u64>,
    /// Largest size that matches, inclusive.
    pub max_size: Option<u64>,
    /// Last accessed strictly before `now` minus this duration.
    pub accessed_before: Option<Micros>,
    /// Last accessed at or after `now` minus this duration.
    pub accessed_after: Option<Micros>,
    /// Last modified strictly before `now` minus this duration.
    pub modified_before: Option<Micros>,
    /// Last modified at or after `now` minus this duration.
    pub modified_after: Option<Micros>,
    /// Any of these extensions (lower case, no dot). Empty: any file.
    pub extensions: Vec<String>,
    /// None of these extensions (lower case, no dot).
    pub exclude_extensions: Vec<String>,
    /// Where matched files go; may hold the placeholders of [`TargetVars`].
    pub target: String,
}

/// The values substituted into a rule's `target`.
///
/// `{tenant}`, `{share}` and `{rule}` (the rule's name) are inserted as they are; `{yyyy}`, `{mm}`
/// and `{dd}` are the UTC date of `at`, zero-padded. `{{` and `}}` write a literal brace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TargetVars<'a> {
    /// The tenant's identifier.
    pub tenant: &'a str,
    /// The share's identifier.
    pub share: &'a str,
    /// The time whose UTC date fills `{yyyy}`, `{mm}` and `{dd}` (usually the planning time).
    pub at: Micros,
}

impl Rule {
    /// The rule's target with its placeholders filled in.
    ///
    /// ```
    /// use alto_rules::{RuleSet, TargetVars};
    /// let set = RuleSet::from_toml(r#"
    ///     [[rule]]
    ///     name = "old"
    ///     target = "file:///srv/tier2/{tenant}/{share}/{rule}/{yyyy}/{mm}/{dd}/"
    /// "#).unwrap();
    /// let vars = TargetVars { tenant: "acme", share: "media", at: 1_700_000_000_000_000 };
    /// assert_eq!(
    ///     set.rules()[0].render_target(&vars),
    ///     "file:///srv/tier2/acme/media/old/2023/11/14/"
    /// );
    /// ```
    ///
    /// Targets are checked when the set is parsed; on a hand-built `Rule`, an unknown placeholder
    /// or a lone brace is copied through unchanged.
    pub fn render_target(&self, vars: &TargetVars<'_>) -> String {
        let (y, m, d) = utc_date(vars.at);
        let mut out = String::with_capacity(self.target.len() + 32);
        let mut rest = self.target.as_str();
        while let Some(i) = rest.find(['{', '}']) {
            out.push_str(&rest[..i]);
            let tail = &rest[i..];
            if tail.starts_with("{{") || tail.starts_with("}}") {
                out.push_str(&tail[..1]);
                rest = &tail[2..];
                continue;
            }
            let closing = tail.find('}').filter(|_| tail.starts_with('{'));
            let Some(end) = closing else {
                out.push_str(&tail[..1]);
                rest = &tail[1..];
                continue;
            };
            match &tail[1..end] {
                "tenant" => out.push_str(vars.tenant),
                "share" => out.push_str(vars.share),
                "rule" => out.push_str(&self.name),
                // Writing to a String cannot fail.
                "yyyy" => {
                    let _ = write!(out, "{y:04}");
                }
                "mm" => {
                    let _ = write!(out, "{m:02}");
                }
                "dd" => {
                    let _ = write!(out, "{d:02}");
                }
                _ => out.push_str(&tail[..=end]),
            }
            rest = &tail[end + 1..];
        }
        out.push_str(rest);
        out
    }
}

/// Checks a target template: every `{…}` names a known placeholder and every brace is balanced
/// (or doubled, for a literal brace). The error is a message without rule and field.
pub(crate) fn check_target(target: &str) -> Result<(), String> {
    let mut rest = target;
    while let Some(i) = rest.find(['{', '}']) {
        let tail = &rest[i..];
        if tail.starts_with("{{") || tail.starts_with("}}") {
            rest = &tail[2..];
            continue;
        }
        if tail.starts_with('}') {
            return Err(format!(
                "unmatched '}}' in {target:?} (write '}}}}' for a literal brace)"
            ));
        }
        let Some(end) = tail.find('}') else {
            return Err(format!(
                "unclosed '{{' in {target:?} (write '{{{{' for a literal brace)"
            ));
        };
        let name = &tail[1..end];
        if !PLACEHOLDERS.contains(&name) {
            return Err(format!(
                "unknown placeholder {{{name}}} in {target:?} (use {{tenant}}, {{share}}, \
                 {{rule}}, {{yyyy}}, {{mm}}, {{dd}})"
            ));
        }
        rest = &tail[end + 1..];
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(target: &str) -> Rule {
        Rule {
            name: "r1".into(),
            priority: 100,
            enabled: true,
            position: 0,
            include: vec![],
            exclude: vec![],
            regex: None,
            min_size: None,
            max_size: None,
            accessed_before: None,
            accessed_after: None,
            modified_before: None,
            modified_after: None,
            extensions: vec![],
            exclude_extensions: vec![],
            target: target.into(),
        }
    }

    const VARS: TargetVars<'static> = TargetVars {
        tenant: "t1",
        share: "s1",
        at: 1_709_208_000_000_000, // 2024-02-29T12:00:00Z
    };

    #[test]
    fn renders_all_placeholders() {
        let r = rule("s3://b/{tenant}/{share}/{rule}/{yyyy}-{mm}-{dd}/x");
        assert_eq!(r.render_target(&VARS), "s3://b/t1/s1/r1/2024-02-29/x");
    }

    #[test]
    fn literal_braces_and_unknowns() {
        assert_eq!(rule("a{{b}}c").render_target(&VARS), "a{b}c");
        assert_eq!(rule("a{nope}b").render_target(&VARS), "a{nope}b");
        assert_eq!(rule("a{b").render_target(&VARS), "a{b");
        assert_eq!(rule("a}b").render_target(&VARS), "a}b");
        assert_eq!(rule("").render_target(&VARS), "");
    }

    #[test]
    fn checks_targets() {
        assert!(check_target("file:///x/{tenant}/{yyyy}/{mm}/{dd}/").is_ok());
        assert!(check_target("x{{y}}").is_ok());
        let e = check_target("x/{month}/").unwrap_err();
        assert!(e.contains("unknown placeholder {month}"), "{e}");
        assert!(check_target("x/{tenant").unwrap_err().contains("unclosed"));
        assert!(check_target("x}").unwrap_err().contains("unmatched"));
        assert!(
            check_target("{}")
                .unwrap_err()
                .contains("unknown placeholder {}")
        );
    }

    #[test]
    fn dates_before_epoch() {
        let vars = TargetVars { at: -1, ..VARS };
        assert_eq!(rule("{yyyy}/{mm}/{dd}").render_target(&vars), "1969/12/31");
    }
}
