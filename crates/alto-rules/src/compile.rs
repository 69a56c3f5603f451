//! The compiled form of a rule set: what [`RuleSet`](crate::RuleSet) builds once and evaluates
//! many times (the evaluation itself is in `eval.rs`).
//!
//! Enabled rules are numbered by *rank*, their place in evaluation order (priority, then
//! position), and every per-rule fact is a bitset over ranks, so "the first rule that matches" is
//! the lowest set bit of an AND of bitsets:
//!
//! - each scalar condition (`min_size`, `max_size`, the four ages) becomes a [`Steps`] table:
//!   the distinct thresholds, sorted, and for each gap between them the bitset of rules that
//!   pass — one binary search per file finds it, whatever the number of rules;
//! - extensions become a [`ExtMasks`] table from folded extension to the bitset of rules that
//!   list it;
//! - all globs of all enabled rules go into one [`GlobGroup`] and all regexes into one
//!   multi-pattern regex (a `RegexSet`, built with `regex-automata` so that its cache and pattern
//!   set can live in the caller's [`Scratch`](crate::Scratch)). With `case_sensitive = "auto"`
//!   a case-sensitive and a case-insensitive variant of each are built, and each path picks one.
//!
//! Memory: a `Steps` table holds one bitset per distinct threshold, so it grows as
//! rules × distinct thresholds / 8 bytes — 10 KB for 100 rules, about 2 MB per condition for
//! 4,096 rules that all use different thresholds.

use std::sync::atomic::{AtomicU64, Ordering};

use regex_automata::nfa::thompson::WhichCaptures;
use regex_automata::util::prefilter::Prefilter;
use regex_automata::util::syntax;
use regex_automata::{MatchKind, meta};

use crate::error::{RuleError, RuleErrorKind};
use crate::glob::GlobGroup;
use crate::parse::needed_cases;
use crate::{CaseMode, Micros, Rule};

/// Size limit of one compiled regex (NFA, one-pass DFA and lazy-DFA cache each).
pub(crate) const REGEX_SIZE_LIMIT: usize = 10 << 20;

/// Size limit of the regex set, which holds every rule's regex.
const REGEX_SET_SIZE_LIMIT: usize = 256 << 20;

/// Distinguishes matchers so that a scratch made for another set is noticed.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// Compiles one rule regex on its own, with the size limits (used to validate and by the naive
/// evaluator).
pub(crate) fn single_regex(pattern: &str, insensitive: bool) -> Result<regex::Regex, regex::Error> {
    regex::RegexBuilder::new(pattern)
        .case_insensitive(insensitive)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_SIZE_LIMIT)
        .build()
}

/// Which rule a glob of the set belongs to.
#[derive(Debug, Clone, Copy)]
pub(crate) struct GlobOwner {
    pub(crate) rank: u32,
    pub(crate) exclude: bool,
    /// Index in the rule's `include` or `exclude` list.
    pub(crate) nth: u32,
}

/// A scalar condition over all rules: sorted distinct thresholds and, for each of the
/// `keys.len() + 1` gaps, the bitset of rules that pass.
#[derive(Debug)]
pub(crate) struct Steps {
    keys: Box<[u64]>,
    masks: Box<[u64]>,
    words: usize,
    /// `false`: a rule passes when its threshold is `<= x`; `true`: when it is `>= x`.
    upper: bool,
}

impl Steps {
    /// `thresholds[rank]` is the rule's threshold, `None` when the rule states no condition.
    fn new(thresholds: &[Option<u64>], words: usize, upper: bool) -> Steps {
        let mut keys: Vec<u64> = thresholds.iter().flatten().copied().collect();
        keys.sort_unstable();
        keys.dedup();
        let mut masks = vec![0u64; (keys.len() + 1) * words];
        for (rank, t) in thresholds.iter().enumerate() {
            let (word, bit) = (rank / 64, 1u64 << (rank % 64));
            // The gaps in which this rule passes: all of them without a threshold, else those on
            // the passing side of its key.
            let gaps = match t {
                None => 0..=keys.len(),
                Some(t) => {
                    let i = keys.partition_point(|k| k < t);
                    if upper { 0..=i } else { i + 1..=keys.len() }
                }
            };
            for gap in gaps {
                masks[gap * words + word] |= bit;
            }
        }
        Steps {
            keys: keys.into(),
            masks: masks.into(),
            words,
            upper,
        }
    }

    /// The rules that pass for value `x`.
    #[inline]
    pub(crate) fn at(&self, x: u64) -> &[u64] {
        // A short table is counted without branches (and vectorised); a long one is searched.
        let gap = match (self.upper, self.keys.len() <= 32) {
            (true, true) => self.keys.iter().filter(|&&k| k < x).count(),
            (false, true) => self.keys.iter().filter(|&&k| k <= x).count(),
            (true, false) => self.keys.partition_point(|&k| k < x),
            (false, false) => self.keys.partition_point(|&k| k <= x),
        };
        &self.masks[gap * self.words..(gap + 1) * self.words]
    }

    /// The rules that pass when the value is unknown: those without this condition.
    #[inline]
    pub(crate) fn unknown(&self) -> &[u64] {
        let gap = if self.upper { self.keys.len() } else { 0 };
        &self.masks[gap * self.words..(gap + 1) * self.words]
    }
}

/// Maps a duration or an age (microseconds, as i128 so that `now - t` is exact) onto the u64 keys
/// of the age [`Steps`], preserving every comparison between a duration (0 ..= `i64::MAX`) and
/// an age: ages below -1 compare like -1 and ages above `i64::MAX + 1` like `i64::MAX + 1`,
/// neither of which any duration can equal.
#[inline]
pub(crate) fn age_key(v: i128) -> u64 {
    (v.clamp(-1, i128::from(i64::MAX) + 1) + 1) as u64
}

/// The key of a short folded extension: up to 7 bytes and the length, in one integer.
#[inline]
pub(crate) fn ext_key(ext: &str) -> Option<u64> {
    let bytes = ext.as_bytes();
    if bytes.len() > 7 {
        return None;
    }
    let mut key = (bytes.len() as u64) << 56;
    for (i, &b) in bytes.iter().enumerate() {
        key |= u64::from(b) << (8 * i);
    }
    Some(key)
}

/// Folded extension → bitset of the rules that list it.
#[derive(Debug)]
pub(crate) struct ExtMasks {
    /// Sorted keys of extensions of up to 7 bytes, with their mask index.
    short: Box<[(u64, usize)]>,
    /// Longer extensions, with their mask index.
    long: Box<[(Box<str>, usize)]>,
    masks: Box<[u64]>,
    words: usize,
}

impl ExtMasks {
    fn new(lists: &[&[String]], words: usize) -> ExtMasks {
        let mut names: Vec<&str> = lists
            .iter()
            .flat_map(|l| l.iter().map(String::as_str))
            .collect();
        names.sort_unstable();
        names.dedup();
        let mut masks = vec![0u64; names.len() * words];
        for (rank, list) in lists.iter().enumerate() {
            for ext in *list {
                let i = names.binary_search(&ext.as_str()).unwrap_or_default();
                masks[i * words + rank / 64] |= 1 << (rank % 64);
            }
        }
        let mut short = Vec::new();
        let mut long = Vec::new();
        for (i, name) in names.iter().enumerate() {
            match ext_key(name) {
                Some(key) => short.push((key, i)),
                None => long.push((Box::from(*name), i)),
            }
        }
        short.sort_unstable();
        ExtMasks {
            short: short.into(),
            long: long.into(),
            masks: masks.into(),
            words,
        }
    }

    /// The rules listing this folded extension, if any.
    #[inline]
    pub(crate) fn get(&self, folded: &str, key: Option<u64>) -> Option<&[u64]> {
        let i = match key {
            Some(key) => {
                let at = self.short.binary_search_by_key(&key, |&(k, _)| k).ok()?;
                self.short[at].1
            }
            None => self.long.iter().find(|(name, _)| **name == *folded)?.1,
        };
        Some(&self.masks[i * self.words..(i + 1) * self.words])
    }
}

/// A compiled rule set.
#[derive(Debug)]
pub(crate) struct Matcher {
    pub(crate) id: u64,
    pub(crate) mode: CaseMode,
    /// Rank → rule position: the enabled rules, by priority then position.
    pub(crate) order: Box<[u32]>,
    /// Rule position → rank (`u32::MAX` for a disabled rule).
    pub(crate) rank: Box<[u32]>,
    /// Bitset words per bitset.
    pub(crate) words: usize,
    pub(crate) min_size: Steps,
    pub(crate) max_size: Steps,
    pub(crate) accessed_before: Steps,
    pub(crate) accessed_after: Steps,
    pub(crate) modified_before: Steps,
    pub(crate) modified_after: Steps,
    /// Rules without an `extensions` condition.
    pub(crate) any_extension: Box<[u64]>,
    pub(crate) extensions: ExtMasks,
    pub(crate) exclude_extensions: ExtMasks,
    /// Whether any rule has an extension condition (else extensions are not even looked at).
    pub(crate) uses_extensions: bool,
    /// Rules with globs (include or exclude).
    pub(crate) needs_globs: Box<[u64]>,
    /// Rules without include globs.
    pub(crate) no_include: Box<[u64]>,
    /// Rules without a regex.
    pub(crate) no_regex: Box<[u64]>,
    /// Rules with a regex.
    pub(crate) needs_regex: Box<[u64]>,
    /// Rules with neither globs nor regex: decided by the scalar conditions alone.
    pub(crate) plain: Box<[u64]>,
    pub(crate) glob_owner: Box<[GlobOwner]>,
    /// `[case-sensitive, case-insensitive]`; `None` when not needed or no globs.
    pub(crate) globs: [Option<GlobGroup>; 2],
    /// Rank of each pattern of the regex set.
    pub(crate) regex_owner: Box<[u32]>,
    pub(crate) regexes: [Option<meta::Regex>; 2],
    /// For the case-insensitive regex set: literals (ASCII, lower case) one of which every
    /// match contains ([`folded_prefilter`]), searched with SIMD in an ASCII path folded to
    /// lower case before the set runs. `None` when some regex has no such literal.
    pub(crate) folded_prefilter: Option<Prefilter>,
}

/// A bitset over ranks from a predicate.
fn bitset(n: usize, words: usize, f: impl Fn(usize) -> bool) -> Box<[u64]> {
    let mut bits = vec![0u64; words];
    for rank in (0..n).filter(|&r| f(r)) {
        bits[rank / 64] |= 1 << (rank % 64);
    }
    bits.into()
}

impl Matcher {
    /// Compiles validated rules.
    pub(crate) fn new(mode: CaseMode, all_rules: &[Rule]) -> Result<Matcher, RuleError> {
        let mut order: Vec<u32> = (0..all_rules.len() as u32)
            .filter(|&i| all_rules[i as usize].enabled)
            .collect();
        // Stable: ties in priority keep file order.
        order.sort_by_key(|&i| all_rules[i as usize].priority);
        let mut rank = vec![u32::MAX; all_rules.len()];
        for (r, &i) in order.iter().enumerate() {
            rank[i as usize] = r as u32;
        }
        let rules: Vec<&Rule> = order.iter().map(|&i| &all_rules[i as usize]).collect();
        let (n, words) = (rules.len(), rules.len().div_ceil(64));

        let steps = |f: &dyn Fn(&Rule) -> Option<u64>, upper| {
            let thresholds: Vec<Option<u64>> = rules.iter().map(|r| f(r)).collect();
            Steps::new(&thresholds, words, upper)
        };
        // Sizes: min <= size; max >= size. Ages, with age = now - t: before d holds when
        // t < now - d, i.e. d <= age - 1; after d when t >= now - d, i.e. d >= age. Durations
        // are keyed by `age_key` so that one u64 table serves every age, see there.
        let min_size = steps(&|r| r.min_size, false);
        let max_size = steps(&|r| r.max_size, true);
        let age = |d: Option<Micros>| d.map(|d| age_key(i128::from(d)));
        let accessed_before = steps(&|r| age(r.accessed_before), false);
        let accessed_after = steps(&|r| age(r.accessed_after), true);
        let modified_before = steps(&|r| age(r.modified_before), false);
        let modified_after = steps(&|r| age(r.modified_after), true);

        let ext_lists: Vec<&[String]> = rules.iter().map(|r| r.extensions.as_slice()).collect();
        let excl_lists: Vec<&[String]> = rules
            .iter()
            .map(|r| r.exclude_extensions.as_slice())
            .collect();

        let mut glob_owner = Vec::new();
        let mut glob_patterns = Vec::new();
        let mut regex_owner = Vec::new();
        let mut regex_patterns = Vec::new();
        for (r, rule) in rules.iter().enumerate() {
            for (exclude, list) in [(false, &rule.include), (true, &rule.exclude)] {
                for (nth, glob) in list.iter().enumerate() {
                    glob_owner.push(GlobOwner {
                        rank: r as u32,
                        exclude,
                        nth: nth as u32,
                    });
                    glob_patterns.push(glob.as_str());
                }
            }
            if let Some(re) = &rule.regex {
                regex_owner.push(r as u32);
                regex_patterns.push(re.as_str());
            }
        }
        let mut globs = [None, None];
        let mut regexes = [None, None];
        let mut folded = None;
        for &insensitive in needed_cases(mode) {
            let slot = usize::from(insensitive);
            if !glob_patterns.is_empty() {
                globs[slot] = Some(glob_set(&glob_patterns, insensitive)?);
            }
            if !regex_patterns.is_empty() {
                regexes[slot] = Some(regex_set(&regex_patterns, insensitive)?);
                if insensitive {
                    folded = folded_prefilter(&regex_patterns);
                }
            }
        }

        let has_globs = |r: usize| !rules[r].include.is_empty() || !rules[r].exclude.is_empty();
        Ok(Matcher {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            mode,
            words,
            min_size,
            max_size,
            accessed_before,
            accessed_after,
            modified_before,
            modified_after,
            any_extension: bitset(n, words, |r| rules[r].extensions.is_empty()),
            extensions: ExtMasks::new(&ext_lists, words),
            exclude_extensions: ExtMasks::new(&excl_lists, words),
            uses_extensions: rules
                .iter()
                .any(|r| !r.extensions.is_empty() || !r.exclude_extensions.is_empty()),
            needs_globs: bitset(n, words, has_globs),
            no_include: bitset(n, words, |r| rules[r].include.is_empty()),
            no_regex: bitset(n, words, |r| rules[r].regex.is_none()),
            needs_regex: bitset(n, words, |r| rules[r].regex.is_some()),
            plain: bitset(n, words, |r| !has_globs(r) && rules[r].regex.is_none()),
            glob_owner: glob_owner.into(),
            globs,
            regex_owner: regex_owner.into(),
            regexes,
            folded_prefilter: folded,
            order: order.into(),
            rank: rank.into(),
        })
    }
}

fn glob_set(patterns: &[&str], insensitive: bool) -> Result<GlobGroup, RuleError> {
    // Every glob compiled on its own when the set was parsed: this should not fail.
    GlobGroup::new(patterns, insensitive)
        .map_err(|message| RuleError::global(RuleErrorKind::BadGlob, None, message))
}

/// Literals one of which every match of every pattern contains, ASCII and in lower case: each
/// pattern's prefix literals (`regex-syntax`'s extractor, on the pattern as written), folded.
/// A case-insensitive match of a literal in an ASCII path is the literal itself in the path
/// folded to ASCII lower case, so when none of them occurs there no pattern can match. `None`
/// when a pattern has no finite, non-empty, ASCII set of prefixes (then the set runs on every
/// path, as before). The regex crates' own prefilter cannot help here: a case-insensitive
/// literal is hundreds of case variants, which leave it a byte-at-a-time automaton.
fn folded_prefilter(patterns: &[&str]) -> Option<Prefilter> {
    use regex_syntax::hir::literal::Extractor;
    let mut needles: Vec<Vec<u8>> = Vec::new();
    for pattern in patterns {
        let hir = regex_syntax::ParserBuilder::new()
            .utf8(true)
            .build()
            .parse(pattern)
            .ok()?;
        let seq = Extractor::new().extract(&hir);
        let literals = seq.literals()?;
        if literals.is_empty() {
            return None;
        }
        for lit in literals {
            let b = lit.as_bytes();
            if b.is_empty() || !b.is_ascii() {
                return None;
            }
            needles.push(b.to_ascii_lowercase());
        }
    }
    needles.sort();
    needles.dedup();
    Prefilter::new(MatchKind::LeftmostFirst, &needles)
}

fn regex_set(patterns: &[&str], insensitive: bool) -> Result<meta::Regex, RuleError> {
    let config = meta::Config::new()
        .match_kind(MatchKind::All)
        .which_captures(WhichCaptures::None)
        .utf8_empty(true)
        .nfa_size_limit(Some(REGEX_SET_SIZE_LIMIT))
        .onepass_size_limit(Some(REGEX_SIZE_LIMIT))
        .hybrid_cache_capacity(REGEX_SIZE_LIMIT)
        .dfa_size_limit(Some(REGEX_SIZE_LIMIT));
    let syntax = syntax::Config::new()
        .case_insensitive(insensitive)
        .utf8(true);
    meta::Builder::new()
        .configure(config)
        .syntax(syntax)
        .build_many(patterns)
        .map_err(|e| {
            let message = format!("the rules' regexes do not compile together: {e}");
            RuleError::global(RuleErrorKind::BadRegex, Some("regex"), message)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_lower_bound() {
        // Rules 0..3 with thresholds 10, none, 5, 10: pass when threshold <= x.
        let s = Steps::new(&[Some(10), None, Some(5), Some(10)], 1, false);
        assert_eq!(s.at(4), &[0b0010]);
        assert_eq!(s.at(5), &[0b0110]);
        assert_eq!(s.at(9), &[0b0110]);
        assert_eq!(s.at(10), &[0b1111]);
        assert_eq!(s.at(u64::MAX), &[0b1111]);
        assert_eq!(s.unknown(), &[0b0010]);
    }

    #[test]
    fn steps_upper_bound() {
        // Pass when threshold >= x.
        let s = Steps::new(&[Some(10), None, Some(5), Some(10)], 1, true);
        assert_eq!(s.at(0), &[0b1111]);
        assert_eq!(s.at(5), &[0b1111]);
        assert_eq!(s.at(6), &[0b1011]);
        assert_eq!(s.at(10), &[0b1011]);
        assert_eq!(s.at(11), &[0b0010]);
        assert_eq!(s.unknown(), &[0b0010]);
    }

    #[test]
    fn steps_across_words() {
        let thresholds: Vec<Option<u64>> = (0..130).map(Some).collect();
        let s = Steps::new(&thresholds, 3, false);
        let m = s.at(100);
        assert_eq!(m[0], u64::MAX);
        assert_eq!(m[1], (1u64 << 37) - 1);
        assert_eq!(m[2], 0);
    }

    #[test]
    fn age_keys_keep_order() {
        let max = i128::from(i64::MAX);
        let values = [
            i128::MIN,
            -max * 2,
            -2,
            -1,
            0,
            1,
            5,
            max - 1,
            max,
            max + 1,
            max * 3,
        ];
        let durations = [0, 1, 5, max - 1, max];
        for &v in &values {
            for &d in &durations {
                assert_eq!(d <= v, age_key(d) <= age_key(v), "{d} <= {v}");
                assert_eq!(d >= v, age_key(d) >= age_key(v), "{d} >= {v}");
            }
        }
    }

    #[test]
    fn extension_keys() {
        assert_eq!(ext_key(""), Some(0));
        assert_ne!(ext_key("a"), ext_key("a\0"));
        assert!(ext_key("1234567").is_some());
        assert!(ext_key("12345678").is_none());
        let lists: [&[String]; 3] = [
            &["pdf".into(), "longextension".into()],
            &[],
            &["pdf".into()],
        ];
        let m = ExtMasks::new(&lists, 1);
        assert_eq!(m.get("pdf", ext_key("pdf")), Some(&[0b101u64][..]));
        assert_eq!(m.get("longextension", None), Some(&[0b001u64][..]));
        assert_eq!(m.get("doc", ext_key("doc")), None);
    }
}
