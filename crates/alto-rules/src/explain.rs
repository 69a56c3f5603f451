//! Why a file matched the rule it matched, and why each earlier rule did not.
//!
//! [`RuleSet::explain`](crate::RuleSet::explain) walks the enabled rules in evaluation order
//! like [`RuleSet::evaluate`](crate::RuleSet::evaluate) does, and for each rule that does not
//! match records the *first* condition that failed, in the order of [`Condition`] (the order of
//! DESIGN §4), with a sentence for humans. It allocates freely: it serves the CLI's `explain`
//! command and what-if reports, not the planner's hot path.

use std::fmt;

use crate::compile::Matcher;
use crate::eval::bit;
use crate::path::{ext_matches, extension};
use crate::units::{format_duration, format_micros};
use crate::{FileFacts, Micros, Rule};

/// A condition of a rule, named by its field.
///
/// The declared order is the order in which [`RuleSet::explain`](crate::RuleSet::explain) checks
/// them: the first that fails is reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Condition {
    /// `include`: the path matches none of the include globs.
    Include,
    /// `exclude`: the path matches an exclude glob.
    Exclude,
    /// `regex`: the regex does not occur in the path.
    Regex,
    /// `min_size`: the file is smaller.
    MinSize,
    /// `max_size`: the file is larger.
    MaxSize,
    /// `accessed_before`: accessed too recently (or no time known).
    AccessedBefore,
    /// `accessed_after`: accessed too long ago (or no time known).
    AccessedAfter,
    /// `modified_before`: modified too recently (or no time known).
    ModifiedBefore,
    /// `modified_after`: modified too long ago (or no time known).
    ModifiedAfter,
    /// `extensions`: the extension is not listed (or there is none).
    Extensions,
    /// `exclude_extensions`: the extension is excluded.
    ExcludeExtensions,
}

impl Condition {
    /// The field name as written in a rule file, e.g. `"min_size"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Condition::Include => "include",
            Condition::Exclude => "exclude",
            Condition::Regex => "regex",
            Condition::MinSize => "min_size",
            Condition::MaxSize => "max_size",
            Condition::AccessedBefore => "accessed_before",
            Condition::AccessedAfter => "accessed_after",
            Condition::ModifiedBefore => "modified_before",
            Condition::ModifiedAfter => "modified_after",
            Condition::Extensions => "extensions",
            Condition::ExcludeExtensions => "exclude_extensions",
        }
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The outcome of [`RuleSet::explain`](crate::RuleSet::explain).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation {
    /// The matched rule (index into [`RuleSet::rules`](crate::RuleSet::rules)), as `evaluate`
    /// returns it.
    pub matched: Option<usize>,
    /// Every enabled rule tried before the match (all enabled rules when none matched), in
    /// evaluation order, with the first condition that failed.
    pub tried: Vec<Tried>,
}

/// One rule that did not match, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tried {
    /// Index into [`RuleSet::rules`](crate::RuleSet::rules).
    pub rule: usize,
    /// The first condition (in [`Condition`] order) that failed.
    pub failed: Condition,
    /// A sentence for humans, e.g. `size 512 is below min_size 1000`.
    pub detail: String,
}

/// Explains one file against a compiled set.
pub(crate) fn explain(
    matcher: &Matcher,
    rules: &[Rule],
    file: &FileFacts<'_>,
    now: Micros,
) -> Explanation {
    let mut s = matcher.scratch();
    let case = matcher.prepare(file.path, &mut s);
    matcher.match_all(case, &mut s);
    let mut tried = Vec::new();
    for &r in &*matcher.order {
        let r = r as usize;
        match first_failure(matcher, &rules[r], &s, file, now) {
            None => {
                return Explanation {
                    matched: Some(r),
                    tried,
                };
            }
            Some((failed, detail)) => tried.push(Tried {
                rule: r,
                failed,
                detail,
            }),
        }
    }
    Explanation {
        matched: None,
        tried,
    }
}

fn first_failure(
    matcher: &Matcher,
    rule: &Rule,
    s: &crate::Scratch,
    file: &FileFacts<'_>,
    now: Micros,
) -> Option<(Condition, String)> {
    // Bits are indexed by rank, the rule's place in evaluation order.
    let r = matcher.rank[rule.position] as usize;
    let path = s.path.as_str();
    if !rule.include.is_empty() && !bit(&s.globs.include, r) {
        return Some((
            Condition::Include,
            format!(
                "path {path:?} matches none of the include globs {:?}",
                rule.include
            ),
        ));
    }
    if !rule.exclude.is_empty() && bit(&s.globs.exclude, r) {
        let glob = s
            .globs
            .hits
            .iter()
            .map(|&g| matcher.glob_owner[g])
            .find(|o| o.exclude && o.rank as usize == r)
            .map_or("", |o| rule.exclude[o.nth as usize].as_str());
        return Some((
            Condition::Exclude,
            format!("path {path:?} matches exclude glob {glob:?}"),
        ));
    }
    if let Some(re) = &rule.regex
        && !bit(&s.regex.found, r)
    {
        return Some((
            Condition::Regex,
            format!("regex {re:?} does not occur in path {path:?}"),
        ));
    }
    if let Some(min) = rule.min_size
        && file.size < min
    {
        return Some((
            Condition::MinSize,
            format!("size {} is below min_size {min}", file.size),
        ));
    }
    if let Some(max) = rule.max_size
        && file.size > max
    {
        return Some((
            Condition::MaxSize,
            format!("size {} is above max_size {max}", file.size),
        ));
    }
    let accessed = file.accessed.or(file.modified);
    let what = if file.accessed.is_some() {
        "last accessed"
    } else {
        "last accessed unknown; last modified"
    };
    let ages = [
        (
            Condition::AccessedBefore,
            rule.accessed_before,
            accessed,
            what,
            true,
        ),
        (
            Condition::AccessedAfter,
            rule.accessed_after,
            accessed,
            what,
            false,
        ),
        (
            Condition::ModifiedBefore,
            rule.modified_before,
            file.modified,
            "last modified",
            true,
        ),
        (
            Condition::ModifiedAfter,
            rule.modified_after,
            file.modified,
            "last modified",
            false,
        ),
    ];
    for (cond, d, t, what, before) in ages {
        let Some(d) = d else { continue };
        let limit = now.saturating_sub(d);
        if t.is_some_and(|t| if before { t < limit } else { t >= limit }) {
            continue;
        }
        let bound = format!("{} (now - {})", format_micros(limit), format_duration(d));
        let detail = match t {
            None if cond == Condition::ModifiedBefore || cond == Condition::ModifiedAfter => {
                format!("no last-modified time, so {cond} cannot hold")
            }
            None => format!("no last-accessed or last-modified time, so {cond} cannot hold"),
            Some(t) if before => format!("{what} {} is not before {bound}", format_micros(t)),
            Some(t) => format!("{what} {} is before {bound}", format_micros(t)),
        };
        return Some((cond, detail));
    }
    let ext = extension(path);
    if !rule.extensions.is_empty()
        && !ext.is_some_and(|e| rule.extensions.iter().any(|x| ext_matches(e, x)))
    {
        let detail = match ext {
            Some(e) => format!(
                "extension {e:?} is not one of {}",
                rule.extensions.join(", ")
            ),
            None => format!("no extension (needs one of {})", rule.extensions.join(", ")),
        };
        return Some((Condition::Extensions, detail));
    }
    if let Some(e) = ext
        && rule.exclude_extensions.iter().any(|x| ext_matches(e, x))
    {
        return Some((
            Condition::ExcludeExtensions,
            format!("extension {e:?} is excluded"),
        ));
    }
    None
}
