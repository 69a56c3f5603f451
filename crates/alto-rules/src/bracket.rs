//! Bracket expressions (`[abc]`, `[!a-z]`, `[[:digit:]]`) and the case folding of globs: how a
//! bracket is read, which characters it matches, and the regex class it becomes.
//!
//! Globset reads brackets byte by byte, lets them match `/`, and knows no POSIX classes, so
//! `glob.rs` hands every bracket to this module and splices the class built here into the
//! glob's regex. The reading follows git's `wildmatch` (and POSIX): `!` or `^` first negates;
//! a `]` first (after the negation) is a member; `-` makes a range between the characters on
//! either side unless it comes first, last or right after a range or a class; `[:name:]` is a
//! POSIX class (ASCII, as in git and the C locale) and an unknown name is an error; a `[:` that
//! does not end in `:]` leaves its `[` an ordinary member. Departures from git, by design: a
//! reversed range (`[z-a]`) and an unclosed bracket are errors rather than never matching, and
//! a bracket that could only ever match a separator (`[/]`) is refused.
//!
//! Every bracket excludes `/`: a bracket never matches a separator.
//!
//! Case-insensitive matching compares folded text: the path and the glob's literal parts go
//! through [`fold_char`], and a bracket matches a folded path character `x` when some member
//! `d` of its set has `fold_char(d) == x` (negated: when none has). So in a case-insensitive
//! glob a character `c` matches `[K]` exactly when it matches some member of `K` written as a
//! literal: `[A-Z]` matches `a`–`z` too, `[Z-y]` stays the code-point range it is (and matches
//! `z`, the fold of `Z`), and `[x]` always means the same as `x`.

use std::fmt::Write;
use std::sync::OnceLock;

/// The POSIX class names a bracket accepts, with their (ASCII) members.
const POSIX_CLASSES: &[(&str, &[(char, char)])] = &[
    ("alnum", &[('0', '9'), ('A', 'Z'), ('a', 'z')]),
    ("alpha", &[('A', 'Z'), ('a', 'z')]),
    ("blank", &[('\t', '\t'), (' ', ' ')]),
    ("cntrl", &[('\0', '\x1f'), ('\x7f', '\x7f')]),
    ("digit", &[('0', '9')]),
    ("graph", &[('!', '~')]),
    ("lower", &[('a', 'z')]),
    ("print", &[(' ', '~')]),
    ("punct", &[('!', '/'), (':', '@'), ('[', '`'), ('{', '~')]),
    ("space", &[('\t', '\r'), (' ', ' ')]),
    ("upper", &[('A', 'Z')]),
    ("xdigit", &[('0', '9'), ('A', 'F'), ('a', 'f')]),
];

/// The case fold of one character for case-insensitive glob matching: its lower case when that
/// is one character, else the character itself.
///
/// The same as [`fold_case`](crate::fold_case) on every character but `İ` (U+0130, whose lower
/// case is two characters): one character for one keeps `?` and brackets counting the same
/// characters in both case modes.
#[inline]
pub(crate) fn fold_char(c: char) -> char {
    if c.is_ascii() {
        return c.to_ascii_lowercase();
    }
    let mut lower = c.to_lowercase();
    match (lower.next(), lower.next()) {
        (Some(l), None) => l,
        _ => c,
    }
}

/// Writes `text` folded character by character with [`fold_char`] into `out` (cleared first).
/// Does not allocate once `out` has room.
#[inline]
pub(crate) fn fold_glob_into(text: &str, out: &mut String) {
    out.clear();
    if text.is_ascii() {
        out.push_str(text);
        out.make_ascii_lowercase();
    } else {
        out.extend(text.chars().map(fold_char));
    }
}

/// Every character that [`fold_char`] changes, with its fold, in code-point order.
fn folds() -> &'static [(char, char)] {
    static FOLDS: OnceLock<Vec<(char, char)>> = OnceLock::new();
    FOLDS.get_or_init(|| {
        (0..=char::MAX as u32)
            .filter_map(char::from_u32)
            .filter_map(|c| {
                let f = fold_char(c);
                (f != c).then_some((c, f))
            })
            .collect()
    })
}

/// One parsed bracket expression: what it matches, before separators are taken out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Bracket {
    pub(crate) negated: bool,
    /// Sorted, disjoint, non-adjacent inclusive ranges.
    pub(crate) ranges: Vec<(char, char)>,
}

/// Sorts and merges ranges.
fn canonical(mut ranges: Vec<(char, char)>) -> Vec<(char, char)> {
    ranges.sort_unstable();
    let mut out: Vec<(char, char)> = Vec::with_capacity(ranges.len());
    for (lo, hi) in ranges {
        match out.last_mut() {
            Some(last) if lo as u32 <= last.1 as u32 + 1 => last.1 = last.1.max(hi),
            _ => out.push((lo, hi)),
        }
    }
    out
}

/// Whether `c` is in the canonical `ranges`.
fn contains(ranges: &[(char, char)], c: char) -> bool {
    let i = ranges.partition_point(|r| r.1 < c);
    ranges.get(i).is_some_and(|r| r.0 <= c)
}

/// Parses the bracket expression starting at `glob[start] == '['`; returns it and the index
/// just past its closing `]`. The error says what is wrong (to follow "bad glob …: ").
pub(crate) fn parse(glob: &[char], start: usize) -> Result<(Bracket, usize), String> {
    debug_assert_eq!(glob[start], '[');
    let unclosed = || {
        let text: String = glob[start..].iter().collect();
        format!("unclosed bracket {text:?} (write `[[]` for a literal `[`)")
    };
    let mut i = start + 1;
    let negated = matches!(glob.get(i), Some('!' | '^'));
    if negated {
        i += 1;
    }
    let mut ranges = Vec::new();
    // The last single member, which a following `-` may turn into a range's start.
    let mut prev: Option<char> = None;
    let mut first = true;
    loop {
        let Some(&c) = glob.get(i) else {
            return Err(unclosed());
        };
        if c == ']' && !first {
            i += 1;
            break;
        }
        first = false;
        if c == '[' && glob.get(i + 1) == Some(&':') {
            // `[:name:]` when the first `]` after `[:` follows a `:` of its own.
            let Some(close) = glob[i + 2..]
                .iter()
                .position(|&c| c == ']')
                .map(|p| p + i + 2)
            else {
                return Err(unclosed());
            };
            if close >= i + 3 && glob[close - 1] == ':' {
                let name: String = glob[i + 2..close - 1].iter().collect();
                let Some((_, members)) = POSIX_CLASSES.iter().find(|(n, _)| *n == name) else {
                    let known: Vec<&str> = POSIX_CLASSES.iter().map(|(n, _)| *n).collect();
                    return Err(format!(
                        "unknown character class \"[:{name}:]\" (known: {})",
                        known.join(", ")
                    ));
                };
                ranges.extend_from_slice(members);
                prev = None;
                i = close + 1;
                continue;
            }
        }
        match (c, prev, glob.get(i + 1)) {
            ('-', Some(lo), Some(&hi)) if hi != ']' => {
                if hi < lo {
                    return Err(format!(
                        "reversed range \"{lo}-{hi}\" in a bracket (ranges go up in code-point order)"
                    ));
                }
                ranges.push((lo, hi));
                prev = None;
                i += 2;
            }
            _ => {
                ranges.push((c, c));
                prev = Some(c);
                i += 1;
            }
        }
    }
    Ok((
        Bracket {
            negated,
            ranges: canonical(ranges),
        },
        i,
    ))
}

impl Bracket {
    /// The characters a (folded, when `insensitive`) path character is tested against: the
    /// members, plus their folds when `insensitive`; a separator is never in a positive set and
    /// always in a negated one. Errors when a positive set could match nothing.
    pub(crate) fn effective(&self, insensitive: bool) -> Result<Bracket, String> {
        let mut ranges = self.ranges.clone();
        if insensitive {
            ranges.extend(
                folds()
                    .iter()
                    .filter(|&&(c, _)| contains(&self.ranges, c))
                    .map(|&(_, f)| (f, f)),
            );
        }
        let mut ranges = canonical(ranges);
        if self.negated {
            ranges = canonical([ranges, vec![('/', '/')]].concat());
        } else {
            ranges = ranges
                .into_iter()
                .flat_map(|(lo, hi)| {
                    if lo <= '/' && '/' <= hi {
                        [('\0', '.'), ('0', char::MAX)]
                            .map(|(a, b)| (lo.max(a), hi.min(b)))
                            .into_iter()
                            .filter(|(a, b)| a <= b)
                            .collect()
                    } else {
                        vec![(lo, hi)]
                    }
                })
                .collect();
            if ranges.is_empty() {
                return Err(
                    "a bracket that can only match a separator never matches (a bracket never \
                     matches a separator)"
                        .into(),
                );
            }
        }
        Ok(Bracket {
            negated: self.negated,
            ranges,
        })
    }

    /// The regex of this (effective) set, matching one whole character in a byte-oriented regex.
    pub(crate) fn to_regex(&self) -> String {
        let mut re = String::from("(?u:[");
        if self.negated {
            re.push('^');
        }
        for &(lo, hi) in &self.ranges {
            let _ = write!(re, "\\x{{{:x}}}", lo as u32);
            if hi != lo {
                let _ = write!(re, "-\\x{{{:x}}}", hi as u32);
            }
        }
        re.push_str("])");
        re
    }

    /// Whether this (effective) set matches `c`.
    #[cfg(test)]
    fn matches(&self, c: char) -> bool {
        contains(&self.ranges, c) != self.negated
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bracket(s: &str) -> Result<Bracket, String> {
        let chars: Vec<char> = s.chars().collect();
        let (b, end) = parse(&chars, 0)?;
        assert_eq!(end, chars.len(), "{s:?} ends at its last character");
        Ok(b)
    }

    fn set(s: &str, insensitive: bool) -> Bracket {
        bracket(s).unwrap().effective(insensitive).unwrap()
    }

    #[test]
    fn reads_like_wildmatch() {
        let b = |s| bracket(s).unwrap().ranges;
        assert_eq!(b("[]]"), [(']', ']')]);
        assert_eq!(b("[]-]"), [('-', '-'), (']', ']')]);
        assert_eq!(b("[!]-a]"), [(']', 'a')]);
        assert_eq!(b("[a-e-n]"), [('-', '-'), ('a', 'e'), ('n', 'n')]);
        assert_eq!(b("[--A]"), [('-', 'A')]);
        assert_eq!(b("[------]"), [('-', '-')]);
        assert_eq!(b("[[:]"), [(':', ':'), ('[', '[')]);
        assert_eq!(
            b("[[:digit]"),
            [
                (':', ':'),
                ('[', '['),
                ('d', 'd'),
                ('g', 'g'),
                ('i', 'i'),
                ('t', 't')
            ]
        );
        assert_eq!(b("[[:digit:]-z]"), [('-', '-'), ('0', '9'), ('z', 'z')]);
        assert_eq!(b("[a-c[:digit:]x-z]"), [('0', '9'), ('a', 'c'), ('x', 'z')]);
        assert!(bracket("[!a]").unwrap().negated);
        assert!(bracket("[^a]").unwrap().negated);
        assert!(!bracket("[a^]").unwrap().negated);
    }

    #[test]
    fn refusals_say_why() {
        for (glob, why) in [
            ("[", "unclosed"),
            ("[!", "unclosed"),
            ("[]", "unclosed"),
            ("[a-", "unclosed"),
            ("[[:alpha:]", "unclosed"),
            ("[[:alpha", "unclosed"),
            ("[z-a]", "reversed range \"z-a\""),
            ("[[:foo:]]", "unknown character class \"[:foo:]\""),
            ("[[::]]", "unknown character class \"[::]\""),
        ] {
            let e = bracket(glob).unwrap_err();
            assert!(e.contains(why), "{glob:?}: {e}");
        }
        let e = bracket("[/]").unwrap().effective(false).unwrap_err();
        assert!(e.contains("never matches a separator"), "{e}");
    }

    #[test]
    fn posix_classes_are_ascii() {
        let s = set("[[:alpha:]]", false);
        assert!(s.matches('a') && s.matches('Z') && !s.matches('é') && !s.matches('1'));
        let s = set("[[:punct:]]", false);
        assert!(s.matches('!') && s.matches('_') && s.matches('~') && !s.matches('/'));
        let s = set("[[:space:]]", false);
        assert!(s.matches(' ') && s.matches('\t') && s.matches('\r') && !s.matches('x'));
        let s = set("[![:digit:]]", false);
        assert!(s.matches('a') && !s.matches('5') && !s.matches('/'));
    }

    #[test]
    fn separators_never_match() {
        for glob in [
            "[!a]",
            "[^a-z]",
            "[+-3]",
            "[[:punct:]]",
            "[[:graph:]]",
            "[!/]",
            "[a/]",
        ] {
            for insensitive in [false, true] {
                assert!(!set(glob, insensitive).matches('/'), "{glob:?}");
            }
        }
        let s = set("[+-3]", false);
        assert!(s.matches('+') && s.matches('.') && s.matches('0') && s.matches('3'));
    }

    #[test]
    fn case_insensitive_sets_keep_ranges() {
        // Folded path characters are lower case.
        let s = set("[A-Z]", true);
        assert!(s.matches('a') && s.matches('z') && !s.matches('0'));
        let s = set("[Z-y]", true);
        assert!(s.matches('z') && s.matches('_') && s.matches('a') && s.matches('y'));
        let s = set("[A-z]", true);
        assert!(s.matches('[') && s.matches('a') && !s.matches('{'));
        let s = set("[!A-Z]", true);
        assert!(!s.matches('q') && s.matches('0'));
        let s = set("[É]", true);
        assert!(s.matches('é'));
        let s = set("[[:upper:]]", true);
        assert!(s.matches('m'));
        // The Kelvin sign folds to `k`.
        assert!(set("[\u{212a}]", true).matches('k'));
        assert!(!set("[\u{212a}]", false).matches('k'));
    }

    #[test]
    fn folding_is_idempotent_and_one_to_one() {
        for &(c, f) in folds() {
            assert_eq!(fold_char(f), f, "{c:?}");
        }
        assert_eq!(fold_char('İ'), 'İ');
        assert_eq!(fold_char('É'), 'é');
        let mut out = String::new();
        fold_glob_into("ÉtÉ/İ/ABC", &mut out);
        assert_eq!(out, "été/İ/abc");
    }

    #[test]
    fn regex_classes() {
        assert_eq!(set("[!a]", false).to_regex(), r"(?u:[^\x{2f}\x{61}])");
        assert_eq!(set("[a-c]", false).to_regex(), r"(?u:[\x{61}-\x{63}])");
    }
}
