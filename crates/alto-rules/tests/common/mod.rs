//! Helpers shared by the integration tests: every evaluation is cross-checked against the naive
//! evaluator and against `explain`, so each behavioural test also tests their agreement.

#![allow(dead_code, unreachable_pub)]

use alto_rules::naive::NaiveEvaluator;
use alto_rules::{FileFacts, Micros, RuleSet};

/// 2026-01-01T00:00:00Z.
pub const NOW: Micros = 1_767_225_600_000_000;
pub const SECOND: Micros = 1_000_000;
pub const DAY: Micros = 86_400 * SECOND;

pub fn toml(text: &str) -> RuleSet {
    match RuleSet::from_toml(text) {
        Ok(set) => set,
        Err(e) => panic!("rule set refused: {e}\n{text}"),
    }
}

/// A file with a path and size, accessed and modified `age` ago.
pub fn file(path: &str, size: u64) -> FileFacts<'_> {
    FileFacts {
        path,
        size,
        accessed: Some(NOW),
        modified: Some(NOW),
    }
}

/// Evaluates with the compiled set, and checks the naive evaluator and `explain` agree.
pub fn eval(set: &RuleSet, f: &FileFacts<'_>) -> Option<usize> {
    eval_at(set, f, NOW)
}

pub fn eval_at(set: &RuleSet, f: &FileFacts<'_>, now: Micros) -> Option<usize> {
    let mut scratch = set.scratch();
    let got = set.evaluate(f, now, &mut scratch);
    assert_eq!(
        got,
        NaiveEvaluator::new(set).evaluate(f, now),
        "naive disagrees on {f:?}"
    );
    let explained = set.explain(f, now);
    assert_eq!(
        got, explained.matched,
        "explain disagrees on {f:?}: {explained:?}"
    );
    // Evaluating twice with the same scratch gives the same answer.
    assert_eq!(got, set.evaluate(f, now, &mut scratch));
    got
}

/// The name of the matched rule.
pub fn hit<'s>(set: &'s RuleSet, f: &FileFacts<'_>) -> Option<&'s str> {
    eval(set, f).map(|i| set.rules()[i].name.as_str())
}

/// Whether a one-rule set made of `conditions` matches the file.
pub fn matches(conditions: &str, f: &FileFacts<'_>) -> bool {
    let set = toml(&format!(
        "[[rule]]\nname = \"r\"\ntarget = \"t\"\n{conditions}\n"
    ));
    eval(&set, f).is_some()
}
