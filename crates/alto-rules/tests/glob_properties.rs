//! Property tests of brackets and case folding, through the public [`PathGlob`] (which the
//! conformance and rule tests show agrees with rule sets):
//!
//! - a bracket matches exactly the characters its members say, in both case modes, and never a
//!   separator — checked against a model built from the members, not from the glob's text;
//! - case-insensitive matching is case-sensitive matching up to case: a glob without negated
//!   brackets matches a path case-insensitively exactly when it matches, case-sensitively, some
//!   spelling of the path that differs only in case (each character replaced by one with the
//!   same fold); with negated brackets too, every such spelling gets the same case-insensitive
//!   answer. (A negated bracket is the complement of its case-insensitive set, so `[!a]` matches
//!   neither `a` nor `A`: the first property checks that.)

use std::collections::HashMap;
use std::sync::OnceLock;

use alto_rules::PathGlob;
use proptest::prelude::*;

/// The fold the documentation defines: lower case when that is one character, else unchanged.
fn fold(c: char) -> char {
    let mut lower = c.to_lowercase();
    match (lower.next(), lower.next()) {
        (Some(l), None) => l,
        _ => c,
    }
}

/// Every character, grouped by fold.
fn same_fold(c: char) -> &'static [char] {
    static CLASSES: OnceLock<HashMap<char, Vec<char>>> = OnceLock::new();
    let classes = CLASSES.get_or_init(|| {
        let mut m: HashMap<char, Vec<char>> = HashMap::new();
        for c in (0..=char::MAX as u32).filter_map(char::from_u32) {
            m.entry(fold(c)).or_default().push(c);
        }
        m
    });
    &classes[&fold(c)]
}

/// Characters a bracket member may be: no `]`, `-`, `[`, `!`, `^` or `\`, so that the written
/// bracket reads back as these members exactly; `/` included.
const MEMBER_CHARS: &[char] = &[
    'a', 'c', 'k', 'q', 'z', 'A', 'C', 'K', 'Z', '0', '5', '9', '_', '.', '/', '+', '~', ' ', 'é',
    'É', 'ß', 'İ', '\u{212a}', '☃', '{',
];

/// Characters tried against a bracket.
const PROBES: &[char] = &[
    'a', 'b', 'c', 'k', 'q', 'y', 'z', 'A', 'B', 'C', 'K', 'Q', 'Y', 'Z', '0', '5', '9', '_', '.',
    '/', '+', '-', ',', '~', ' ', '\t', '[', ']', '^', '`', '{', '!', ':', 'é', 'É', 'ß', 'ẞ', 'İ',
    'i', 'I', '\u{212a}', '☃', 'ü',
];

const CLASSES: &[&str] = &[
    "alnum", "alpha", "blank", "cntrl", "digit", "graph", "lower", "print", "punct", "space",
    "upper", "xdigit",
];

#[derive(Debug, Clone)]
enum Member {
    Char(char),
    Range(char, char),
    Class(&'static str),
}

impl Member {
    fn contains(&self, c: char) -> bool {
        match *self {
            Member::Char(m) => m == c,
            Member::Range(lo, hi) => lo <= c && c <= hi,
            // Independent of the crate's tables: the standard library's ASCII predicates.
            Member::Class(name) => match name {
                "alnum" => c.is_ascii_alphanumeric(),
                "alpha" => c.is_ascii_alphabetic(),
                "blank" => c == ' ' || c == '\t',
                "cntrl" => c.is_ascii_control(),
                "digit" => c.is_ascii_digit(),
                "graph" => c.is_ascii_graphic(),
                "lower" => c.is_ascii_lowercase(),
                "print" => c.is_ascii_graphic() || c == ' ',
                "punct" => c.is_ascii_punctuation(),
                "space" => c.is_ascii_whitespace() || c == '\x0b',
                "upper" => c.is_ascii_uppercase(),
                "xdigit" => c.is_ascii_hexdigit(),
                _ => unreachable!(),
            },
        }
    }

    fn write(&self, out: &mut String) {
        match *self {
            Member::Char(c) => out.push(c),
            Member::Range(lo, hi) => {
                out.push(lo);
                out.push('-');
                out.push(hi);
            }
            Member::Class(name) => {
                out.push_str("[:");
                out.push_str(name);
                out.push_str(":]");
            }
        }
    }
}

fn member() -> impl Strategy<Value = Member> {
    let c = || prop::sample::select(MEMBER_CHARS);
    prop_oneof![
        c().prop_map(Member::Char),
        (c(), c()).prop_map(|(a, b)| Member::Range(a.min(b), a.max(b))),
        prop::sample::select(CLASSES).prop_map(Member::Class),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn brackets_match_their_members_and_never_a_separator(
        negated in any::<bool>(),
        members in prop::collection::vec(member(), 1..4),
    ) {
        let mut glob = String::from("/d/x[");
        if negated {
            glob.push('!');
        }
        for m in &members {
            m.write(&mut glob);
        }
        glob.push_str("]y");
        let in_set = |c: char| members.iter().any(|m| m.contains(c));
        let Ok(g) = PathGlob::new(&glob) else {
            // Refused only when the bracket could match nothing but a separator.
            prop_assert!(!negated, "{} refused", glob);
            prop_assert!(PROBES.iter().chain(MEMBER_CHARS).all(|&c| c == '/' || !in_set(c)), "{}", glob);
            return Ok(());
        };
        for &c in PROBES {
            let path = format!("/d/x{c}y");
            let sensitive = c != '/' && in_set(c) != negated;
            prop_assert_eq!(g.is_match(&path, false), sensitive, "{} on {:?}", glob, path);
            let insensitive = c != '/' && same_fold(c).iter().any(|&d| in_set(d)) != negated;
            prop_assert_eq!(g.is_match(&path, true), insensitive, "{} on {:?} (case-insensitive)", glob, path);
        }
        // Nor in a name-only glob, where the name cannot hold a separator anyway.
        let name_glob = &glob["/d/".len()..];
        let name_only = PathGlob::new(name_glob).unwrap();
        prop_assert!(!name_only.is_match("/d/x/y", false) && !name_only.is_match("/d/x/y", true));
    }

    #[test]
    fn case_insensitive_is_sensitive_up_to_case(
        pieces in prop::collection::vec(prop::sample::select(vec![
            "a", "A", "k", "K", "é", "É", "İ", "i", "_", "?", "*", "[A-Z]", "[Z-y]", "[!a-c]",
            "[[:upper:]]", "[[:lower:]]", "[k]", "[\u{212a}]", "[é]", "[!É]", "[a-zA-Z]", "[!_]",
            "{a,K}", "[!y]",
        ]), 1..5),
        name in prop::collection::vec(prop::sample::select(vec![
            'a', 'A', 'b', 'k', 'K', '\u{212a}', 'é', 'É', 'İ', 'i', 'I', '_', '^', '0',
        ]), 0..5),
    ) {
        let glob = format!("/d/{}", pieces.concat());
        let g = PathGlob::new(&glob).unwrap();
        let path: String = format!("/d/{}", name.iter().collect::<String>());
        // Every spelling of the name that differs only in case.
        let mut spellings = vec![String::from("/d/")];
        for &c in &name {
            spellings = spellings
                .iter()
                .flat_map(|s| same_fold(c).iter().map(move |&d| format!("{s}{d}")))
                .collect();
        }
        let insensitive = g.is_match(&path, true);
        for s in &spellings {
            prop_assert_eq!(g.is_match(s, true), insensitive, "{} on {:?} and {:?}", glob, path, s);
        }
        if !glob.contains("[!") {
            let some_spelling = spellings.iter().any(|s| g.is_match(s, false));
            prop_assert_eq!(insensitive, some_spelling, "{} on {:?}", glob, path);
        }
    }
}
