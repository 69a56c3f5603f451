//! A deliberately simple evaluator: one rule at a time, every condition in declared order, each
//! glob and regex compiled on its own.
//!
//! It is the reference that the property tests hold [`RuleSet::evaluate`] to, and the baseline of
//! the `rules_bench` example. It shares with the compiled path only what defines the language
//! (the path normal form, how one glob or regex is compiled, the extension rule), not how sets of
//! them are matched. It allocates per file; do not use it in production code.

use crate::bracket::fold_glob_into;
use crate::compile::single_regex;
use crate::glob::SingleGlob;
use crate::parse::needed_cases;
use crate::path::{extension, is_windows_path, normalized};
use crate::{CaseMode, FileFacts, Micros, RuleSet};

/// The matchers of one rule for one case variant.
#[derive(Debug)]
struct Matchers {
    include: Vec<SingleGlob>,
    exclude: Vec<SingleGlob>,
    regex: Option<regex::Regex>,
}

/// Evaluates a [`RuleSet`] one rule at a time; see the [module docs](self).
#[derive(Debug)]
pub struct NaiveEvaluator {
    set: RuleSet,
    /// Enabled rules in evaluation order.
    order: Vec<usize>,
    /// Per rule: `[case-sensitive, case-insensitive]` matchers (only those the case mode needs).
    matchers: Vec<[Option<Matchers>; 2]>,
}

impl NaiveEvaluator {
    /// Compiles every glob and regex of `set` individually.
    pub fn new(set: &RuleSet) -> Self {
        let rules = set.rules();
        let mut order: Vec<usize> = (0..rules.len()).filter(|&i| rules[i].enabled).collect();
        order.sort_by(|&a, &b| {
            (rules[a].priority, rules[a].position).cmp(&(rules[b].priority, rules[b].position))
        });
        let matchers = rules
            .iter()
            .map(|rule| {
                let mut pair = [None, None];
                for &insensitive in needed_cases(set.case_mode()) {
                    // The set was validated when parsed: every glob and regex compiles.
                    let glob =
                        |g: &String| SingleGlob::new(g, insensitive).expect("validated glob");
                    pair[usize::from(insensitive)] = Some(Matchers {
                        include: rule.include.iter().map(glob).collect(),
                        exclude: rule.exclude.iter().map(glob).collect(),
                        regex: rule
                            .regex
                            .as_ref()
                            .map(|re| single_regex(re, insensitive).expect("validated regex")),
                    });
                }
                pair
            })
            .collect();
        NaiveEvaluator {
            set: set.clone(),
            order,
            matchers,
        }
    }

    /// The first enabled rule, by priority then position, whose every condition holds.
    pub fn evaluate(&self, file: &FileFacts<'_>, now: Micros) -> Option<usize> {
        let path = normalized(file.path);
        let insensitive = match self.set.case_mode() {
            CaseMode::Auto => is_windows_path(&path),
            CaseMode::Sensitive => false,
            CaseMode::Insensitive => true,
        };
        // Case-insensitive globs are compiled folded, to match the folded path.
        let glob_path = if insensitive {
            let mut folded = String::new();
            fold_glob_into(&path, &mut folded);
            folded
        } else {
            path.clone()
        };
        let ext: Option<String> = extension(&path).map(|e| e.to_string());
        self.order.iter().copied().find(|&i| {
            let rule = &self.set.rules()[i];
            let m = self.matchers[i][usize::from(insensitive)]
                .as_ref()
                .expect("matchers for the needed case");
            let accessed = file.accessed.or(file.modified);
            let before = |t: Option<Micros>, d: Option<Micros>| match (t, d) {
                (_, None) => true,
                (None, Some(_)) => false,
                (Some(t), Some(d)) => t < now.saturating_sub(d),
            };
            let after = |t: Option<Micros>, d: Option<Micros>| match (t, d) {
                (_, None) => true,
                (None, Some(_)) => false,
                (Some(t), Some(d)) => t >= now.saturating_sub(d),
            };
            let same_ext = |list: &Vec<String>| {
                ext.as_ref().is_some_and(|e| {
                    list.iter()
                        .any(|x| e.chars().flat_map(char::to_lowercase).eq(x.chars()))
                })
            };
            (m.include.is_empty() || m.include.iter().any(|g| g.is_match(&glob_path)))
                && !m.exclude.iter().any(|g| g.is_match(&glob_path))
                && m.regex.as_ref().is_none_or(|re| re.is_match(&path))
                && rule.min_size.is_none_or(|min| file.size >= min)
                && rule.max_size.is_none_or(|max| file.size <= max)
                && before(accessed, rule.accessed_before)
                && after(accessed, rule.accessed_after)
                && before(file.modified, rule.modified_before)
                && after(file.modified, rule.modified_after)
                && (rule.extensions.is_empty() || same_ext(&rule.extensions))
                && !same_ext(&rule.exclude_extensions)
        })
    }
}
