//! Conformance: git's wildmatch and globset's own tests, run through Alto's public matching API.
//!
//! - `GIT` is every case of git's `t/t3070-wildmatch.sh` (git commit
//!   1a3e64c6c4a623626ff0687008732a8e007e2a1c), columns "wildmatch" and "iwildmatch": matching
//!   with `WM_PATHNAME` (`*` and `?` never cross `/`), case-sensitive and with `WM_CASEFOLD`.
//! - `GLOBSET` is every `matches!`/`nmatches!` case of globset's `src/glob.rs` (ripgrep commit
//!   3fce3b5bb0236da2df6d99672afb8a719642eca7), with the options each was run with.
//!
//! Each case runs through [`PathGlob`] and through a one-rule [`RuleSet`] (compiled set, naive
//! evaluator and `explain`, see `common`), in both case modes. Where Alto's answer differs on
//! purpose, the case is listed in `GIT_DIFFERENCES` or `GLOBSET_DIFFERENCES` with Alto's answer
//! and the reason, and that answer is asserted instead; a listed case that does not differ fails
//! too, so the lists stay exact.

mod common;

use alto_rules::{PathGlob, RuleSet};
use common::{eval, file};
use serde_json::json;

/// The outcome of a glob on a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// Matches.
    M,
    /// Does not match.
    N,
    /// The glob is refused (bad glob).
    E,
}
use Outcome::*;

/// git's cases: (case-sensitive, case-insensitive, text, pattern).
#[rustfmt::skip]
const GIT: &[(Outcome, Outcome, &str, &str)] = &[
    (M, M, "foo", "foo"),
    (N, N, "foo", "bar"),
    (M, M, "", ""),
    (M, M, "foo", "???"),
    (N, N, "foo", "??"),
    (M, M, "foo", "*"),
    (M, M, "foo", "f*"),
    (N, N, "foo", "*f"),
    (M, M, "foo", "*foo*"),
    (M, M, "foobar", "*ob*a*r*"),
    (M, M, "aaaaaaabababab", "*ab"),
    (M, M, "foo*", r#"foo\*"#),
    (N, N, "foobar", r#"foo\*bar"#),
    (M, M, r#"f\oo"#, r#"f\\oo"#),
    (N, N, r#"foo\"#, r#"foo\"#),
    (M, M, "ball", "*[al]?"),
    (N, N, "ten", "[ten]"),
    (M, M, "ten", "**[!te]"),
    (N, N, "ten", "**[!ten]"),
    (M, M, "ten", "t[a-g]n"),
    (N, N, "ten", "t[!a-g]n"),
    (M, M, "ton", "t[!a-g]n"),
    (M, M, "ton", "t[^a-g]n"),
    (M, M, "a]b", "a[]]b"),
    (M, M, "a-b", "a[]-]b"),
    (M, M, "a]b", "a[]-]b"),
    (N, N, "aab", "a[]-]b"),
    (M, M, "aab", "a[]a-]b"),
    (M, M, "]", "]"),
    (N, N, "foo/baz/bar", "foo*bar"),
    (N, N, "foo/baz/bar", "foo**bar"),
    (M, M, "foobazbar", "foo**bar"),
    (M, M, "foo/baz/bar", "foo/**/bar"),
    (M, M, "foo/baz/bar", "foo/**/**/bar"),
    (M, M, "foo/b/a/z/bar", "foo/**/bar"),
    (M, M, "foo/b/a/z/bar", "foo/**/**/bar"),
    (M, M, "foo/bar", "foo/**/bar"),
    (M, M, "foo/bar", "foo/**/**/bar"),
    (N, N, "foo/bar", "foo?bar"),
    (N, N, "foo/bar", "foo[/]bar"),
    (N, N, "foo/bar", "foo[^a-z]bar"),
    (N, N, "foo/bar", "f[^eiu][^eiu][^eiu][^eiu][^eiu]r"),
    (M, M, "foo-bar", "f[^eiu][^eiu][^eiu][^eiu][^eiu]r"),
    (M, M, "foo", "**/foo"),
    (M, M, "XXX/foo", "**/foo"),
    (M, M, "bar/baz/foo", "**/foo"),
    (N, N, "bar/baz/foo", "*/foo"),
    (N, N, "foo/bar/baz", "**/bar*"),
    (M, M, "deep/foo/bar/baz", "**/bar/*"),
    (N, N, "deep/foo/bar/baz/", "**/bar/*"),
    (M, M, "deep/foo/bar/baz/", "**/bar/**"),
    (N, N, "deep/foo/bar", "**/bar/*"),
    (M, M, "deep/foo/bar/", "**/bar/**"),
    (N, N, "foo/bar/baz", "**/bar**"),
    (M, M, "foo/bar/baz/x", "*/bar/**"),
    (N, N, "deep/foo/bar/baz/x", "*/bar/**"),
    (M, M, "deep/foo/bar/baz/x", "**/bar/*/*"),
    (N, N, "acrt", "a[c-c]st"),
    (M, M, "acrt", "a[c-c]rt"),
    (N, N, "]", "[!]-]"),
    (M, M, "a", "[!]-]"),
    (N, N, "", r#"\"#),
    (N, N, r#"\"#, r#"\"#),
    (N, N, r#"XXX/\"#, r#"*/\"#),
    (M, M, r#"XXX/\"#, r#"*/\\"#),
    (M, M, "foo", "foo"),
    (M, M, "@foo", "@foo"),
    (N, N, "foo", "@foo"),
    (M, M, "[ab]", r#"\[ab]"#),
    (M, M, "[ab]", "[[]ab]"),
    (M, M, "[ab]", "[[:]ab]"),
    (N, N, "[ab]", "[[::]ab]"),
    (M, M, "[ab]", "[[:digit]ab]"),
    (M, M, "[ab]", r#"[\[:]ab]"#),
    (M, M, "?a?b", r#"\??\?b"#),
    (M, M, "abc", r#"\a\b\c"#),
    (N, N, "foo", ""),
    (M, M, "foo/bar/baz/to", "**/t[o]"),
    (M, M, "a1B", "[[:alpha:]][[:digit:]][[:upper:]]"),
    (N, M, "a", "[[:digit:][:upper:][:space:]]"),
    (M, M, "A", "[[:digit:][:upper:][:space:]]"),
    (M, M, "1", "[[:digit:][:upper:][:space:]]"),
    (N, N, "1", "[[:digit:][:upper:][:spaci:]]"),
    (M, M, " ", "[[:digit:][:upper:][:space:]]"),
    (N, N, ".", "[[:digit:][:upper:][:space:]]"),
    (M, M, ".", "[[:digit:][:punct:][:space:]]"),
    (M, M, "5", "[[:xdigit:]]"),
    (M, M, "f", "[[:xdigit:]]"),
    (M, M, "D", "[[:xdigit:]]"),
    (M, M, "_", "[[:alnum:][:alpha:][:blank:][:cntrl:][:digit:][:graph:][:lower:][:print:][:punct:][:space:][:upper:][:xdigit:]]"),
    (M, M, ".", "[^[:alnum:][:alpha:][:blank:][:cntrl:][:digit:][:lower:][:space:][:upper:][:xdigit:]]"),
    (M, M, "5", "[a-c[:digit:]x-z]"),
    (M, M, "b", "[a-c[:digit:]x-z]"),
    (M, M, "y", "[a-c[:digit:]x-z]"),
    (N, N, "q", "[a-c[:digit:]x-z]"),
    (M, M, "]", r#"[\\-^]"#),
    (N, N, "[", r#"[\\-^]"#),
    (M, M, "-", r#"[\-_]"#),
    (M, M, "]", r#"[\]]"#),
    (N, N, r#"\]"#, r#"[\]]"#),
    (N, N, r#"\"#, r#"[\]]"#),
    (N, N, "ab", "a[]b"),
    (N, N, "a[]b", "a[]b"),
    (N, N, "ab[", "ab["),
    (N, N, "ab", "[!"),
    (N, N, "ab", "[-"),
    (M, M, "-", "[-]"),
    (N, N, "-", "[a-"),
    (N, N, "-", "[!a-"),
    (M, M, "-", "[--A]"),
    (M, M, "5", "[--A]"),
    (M, M, " ", "[ --]"),
    (M, M, "$", "[ --]"),
    (M, M, "-", "[ --]"),
    (N, N, "0", "[ --]"),
    (M, M, "-", "[---]"),
    (M, M, "-", "[------]"),
    (N, N, "j", "[a-e-n]"),
    (M, M, "-", "[a-e-n]"),
    (M, M, "a", "[!------]"),
    (N, N, "[", "[]-a]"),
    (M, M, "^", "[]-a]"),
    (N, N, "^", "[!]-a]"),
    (M, M, "[", "[!]-a]"),
    (M, M, "^", "[a^bc]"),
    (M, M, "-b]", "[a-]b]"),
    (N, N, r#"\"#, r#"[\]"#),
    (M, M, r#"\"#, r#"[\\]"#),
    (N, N, r#"\"#, r#"[!\\]"#),
    (M, M, "G", r#"[A-\\]"#),
    (N, N, "aaabbb", "b*a"),
    (N, N, "aabcaa", "*ba*"),
    (M, M, ",", "[,]"),
    (M, M, ",", r#"[\\,]"#),
    (M, M, r#"\"#, r#"[\\,]"#),
    (M, M, "-", "[,-.]"),
    (N, N, "+", "[,-.]"),
    (N, N, "-.]", "[,-.]"),
    (M, M, "2", r#"[\1-\3]"#),
    (M, M, "3", r#"[\1-\3]"#),
    (N, N, "4", r#"[\1-\3]"#),
    (M, M, r#"\"#, r#"[[-\]]"#),
    (M, M, "[", r#"[[-\]]"#),
    (M, M, "]", r#"[[-\]]"#),
    (N, N, "-", r#"[[-\]]"#),
    (M, M, "-adobe-courier-bold-o-normal--12-120-75-75-m-70-iso8859-1", "-*-*-*-*-*-*-12-*-*-*-m-*-*-*"),
    (N, N, "-adobe-courier-bold-o-normal--12-120-75-75-X-70-iso8859-1", "-*-*-*-*-*-*-12-*-*-*-m-*-*-*"),
    (N, N, "-adobe-courier-bold-o-normal--12-120-75-75-/-70-iso8859-1", "-*-*-*-*-*-*-12-*-*-*-m-*-*-*"),
    (M, M, "XXX/adobe/courier/bold/o/normal//12/120/75/75/m/70/iso8859/1", "XXX/*/*/*/*/*/*/12/*/*/*/m/*/*/*"),
    (N, N, "XXX/adobe/courier/bold/o/normal//12/120/75/75/X/70/iso8859/1", "XXX/*/*/*/*/*/*/12/*/*/*/m/*/*/*"),
    (M, M, "abcd/abcdefg/abcdefghijk/abcdefghijklmnop.txt", "**/*a*b*g*n*t"),
    (N, N, "abcd/abcdefg/abcdefghijk/abcdefghijklmnop.txtz", "**/*a*b*g*n*t"),
    (N, N, "foo", "*/*/*"),
    (N, N, "foo/bar", "*/*/*"),
    (M, M, "foo/bba/arr", "*/*/*"),
    (N, N, "foo/bb/aa/rr", "*/*/*"),
    (M, M, "foo/bb/aa/rr", "**/**/**"),
    (M, M, "abcXdefXghi", "*X*i"),
    (N, N, "ab/cXd/efXg/hi", "*X*i"),
    (M, M, "ab/cXd/efXg/hi", "*/*X*/*/*i"),
    (M, M, "ab/cXd/efXg/hi", "**/*X*/**/*i"),
    (N, N, "foo", "fo"),
    (M, M, "foo/bar", "foo/bar"),
    (M, M, "foo/bar", "foo/*"),
    (N, N, "foo/bba/arr", "foo/*"),
    (M, M, "foo/bba/arr", "foo/**"),
    (N, N, "foo/bba/arr", "foo*"),
    (N, N, "foo/bba/arr", "foo**"),
    (N, N, "foo/bba/arr", "foo/*arr"),
    (N, N, "foo/bba/arr", "foo/**arr"),
    (N, N, "foo/bba/arr", "foo/*z"),
    (N, N, "foo/bba/arr", "foo/**z"),
    (N, N, "foo/bar", "foo?bar"),
    (N, N, "foo/bar", "foo[/]bar"),
    (N, N, "foo/bar", "foo[^a-z]bar"),
    (N, N, "ab/cXd/efXg/hi", "*Xg*i"),
    (N, M, "a", "[A-Z]"),
    (M, M, "A", "[A-Z]"),
    (N, M, "A", "[a-z]"),
    (M, M, "a", "[a-z]"),
    (N, M, "a", "[[:upper:]]"),
    (M, M, "A", "[[:upper:]]"),
    (N, M, "A", "[[:lower:]]"),
    (M, M, "a", "[[:lower:]]"),
    (N, M, "A", "[B-Za]"),
    (M, M, "a", "[B-Za]"),
    (N, M, "A", "[B-a]"),
    (M, M, "a", "[B-a]"),
    (N, M, "z", "[Z-y]"),
    (M, M, "Z", "[Z-y]"),
];

/// The options a globset case was run with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Options {
    /// `*` and `?` cross `/`.
    Default,
    /// Case-insensitive (and `*` crosses `/`).
    CaseInsensitive,
    /// `literal_separator(true)`: `*` and `?` do not cross `/`, Alto's reading.
    LiteralSeparator,
    /// `backslash_escape(true)`.
    BackslashEscape,
    /// `backslash_escape(false)`, `\` an ordinary character.
    NoBackslashEscape,
    /// `empty_alternates(true)` with `backslash_escape(true)`.
    EmptyAlternates,
}
use Options::*;

/// globset's cases: (outcome, test name, pattern, path, options).
#[rustfmt::skip]
const GLOBSET: &[(Outcome, &str, &str, &str, Options)] = &[
    (M, "match1", "a", "a", Default),
    (M, "match2", "a*b", "a_b", Default),
    (M, "match3", "a*b*c", "abc", Default),
    (M, "match4", "a*b*c", "a_b_c", Default),
    (M, "match5", "a*b*c", "a___b___c", Default),
    (M, "match6", "abc*abc*abc", "abcabcabcabcabcabcabc", Default),
    (M, "match7", "a*a*a*a*a*a*a*a*a", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", Default),
    (M, "match8", "a*b[xyz]c*d", "abxcdbxcddd", Default),
    (M, "match9", "*.rs", ".rs", Default),
    (M, "match10", "☃", "☃", Default),
    (M, "matchrec1", "some/**/needle.txt", "some/needle.txt", Default),
    (M, "matchrec2", "some/**/needle.txt", "some/one/needle.txt", Default),
    (M, "matchrec3", "some/**/needle.txt", "some/one/two/needle.txt", Default),
    (M, "matchrec4", "some/**/needle.txt", "some/other/needle.txt", Default),
    (M, "matchrec5", "**", "abcde", Default),
    (M, "matchrec6", "**", "", Default),
    (M, "matchrec7", "**", ".asdf", Default),
    (M, "matchrec8", "**", "/x/.asdf", Default),
    (M, "matchrec9", "some/**/**/needle.txt", "some/needle.txt", Default),
    (M, "matchrec10", "some/**/**/needle.txt", "some/one/needle.txt", Default),
    (M, "matchrec11", "some/**/**/needle.txt", "some/one/two/needle.txt", Default),
    (M, "matchrec12", "some/**/**/needle.txt", "some/other/needle.txt", Default),
    (M, "matchrec13", "**/test", "one/two/test", Default),
    (M, "matchrec14", "**/test", "one/test", Default),
    (M, "matchrec15", "**/test", "test", Default),
    (M, "matchrec16", "/**/test", "/one/two/test", Default),
    (M, "matchrec17", "/**/test", "/one/test", Default),
    (M, "matchrec18", "/**/test", "/test", Default),
    (M, "matchrec19", "**/.*", ".abc", Default),
    (M, "matchrec20", "**/.*", "abc/.abc", Default),
    (M, "matchrec21", "**/foo/bar", "foo/bar", Default),
    (M, "matchrec22", ".*/**", ".abc/abc", Default),
    (M, "matchrec23", "test/**", "test/", Default),
    (M, "matchrec24", "test/**", "test/one", Default),
    (M, "matchrec25", "test/**", "test/one/two", Default),
    (M, "matchrec26", "some/*/needle.txt", "some/one/needle.txt", Default),
    (M, "matchrange1", "a[0-9]b", "a0b", Default),
    (M, "matchrange2", "a[0-9]b", "a9b", Default),
    (M, "matchrange3", "a[!0-9]b", "a_b", Default),
    (M, "matchrange4", "[a-z123]", "1", Default),
    (M, "matchrange5", "[1a-z23]", "1", Default),
    (M, "matchrange6", "[123a-z]", "1", Default),
    (M, "matchrange7", "[abc-]", "-", Default),
    (M, "matchrange8", "[-abc]", "-", Default),
    (M, "matchrange9", "[-a-c]", "b", Default),
    (M, "matchrange10", "[a-c-]", "b", Default),
    (M, "matchrange11", "[-]", "-", Default),
    (M, "matchrange12", "a[^0-9]b", "a_b", Default),
    (M, "matchpat1", "*hello.txt", "hello.txt", Default),
    (M, "matchpat2", "*hello.txt", "gareth_says_hello.txt", Default),
    (M, "matchpat3", "*hello.txt", "some/path/to/hello.txt", Default),
    (M, "matchpat4", "*hello.txt", "some\\path\\to\\hello.txt", Default),
    (M, "matchpat5", "*hello.txt", "/an/absolute/path/to/hello.txt", Default),
    (M, "matchpat6", "*some/path/to/hello.txt", "some/path/to/hello.txt", Default),
    (M, "matchpat7", "*some/path/to/hello.txt", "a/bigger/some/path/to/hello.txt", Default),
    (M, "matchescape", "_[[]_[]]_[?]_[*]_!_", "_[_]_?_*_!_", Default),
    (M, "matchcasei1", "aBcDeFg", "aBcDeFg", CaseInsensitive),
    (M, "matchcasei2", "aBcDeFg", "abcdefg", CaseInsensitive),
    (M, "matchcasei3", "aBcDeFg", "ABCDEFG", CaseInsensitive),
    (M, "matchcasei4", "aBcDeFg", "AbCdEfG", CaseInsensitive),
    (M, "matchalt1", "a,b", "a,b", Default),
    (M, "matchalt2", ",", ",", Default),
    (M, "matchalt3", "{a,b}", "a", Default),
    (M, "matchalt4", "{a,b}", "b", Default),
    (M, "matchalt5", "{**/src/**,foo}", "abc/src/bar", Default),
    (M, "matchalt6", "{**/src/**,foo}", "foo", Default),
    (M, "matchalt7", "{[}],foo}", "}", Default),
    (M, "matchalt8", "{foo}", "foo", Default),
    (M, "matchalt9", "{}", "", Default),
    (M, "matchalt10", "{,}", "", Default),
    (M, "matchalt11", "{*.foo,*.bar,*.wat}", "test.foo", Default),
    (M, "matchalt12", "{*.foo,*.bar,*.wat}", "test.bar", Default),
    (M, "matchalt13", "{*.foo,*.bar,*.wat}", "test.wat", Default),
    (M, "matchalt14", "foo{,.txt}", "foo.txt", Default),
    (N, "matchalt15", "foo{,.txt}", "foo", Default),
    (M, "matchalt16", "foo{,.txt}", "foo", EmptyAlternates),
    (M, "matchalt17", "{a,b{c,d}}", "bc", Default),
    (M, "matchalt18", "{a,b{c,d}}", "bd", Default),
    (M, "matchalt19", "{a,b{c,d}}", "a", Default),
    (M, "matchslash1", "abc/def", "abc/def", LiteralSeparator),
    (N, "matchslash2", "abc?def", "abc/def", LiteralSeparator),
    (N, "matchslash3", "abc*def", "abc/def", LiteralSeparator),
    (M, "matchslash4", "abc[/]def", "abc/def", LiteralSeparator),
    (N, "matchslash5", "abc\\def", "abc/def", LiteralSeparator),
    (M, "matchbackslash1", "\\[", "[", BackslashEscape),
    (M, "matchbackslash2", "\\?", "?", BackslashEscape),
    (M, "matchbackslash3", "\\*", "*", BackslashEscape),
    (M, "matchbackslash4", "\\[a-z]", "\\a", NoBackslashEscape),
    (M, "matchbackslash5", "\\?", "\\a", NoBackslashEscape),
    (M, "matchbackslash6", "\\*", "\\\\", NoBackslashEscape),
    (M, "matchbackslash7", "\\a", "a", Default),
    (N, "matchnot1", "a*b*c", "abcd", Default),
    (N, "matchnot2", "abc*abc*abc", "abcabcabcabcabcabcabca", Default),
    (N, "matchnot3", "some/**/needle.txt", "some/other/notthis.txt", Default),
    (N, "matchnot4", "some/**/**/needle.txt", "some/other/notthis.txt", Default),
    (N, "matchnot5", "/**/test", "test", Default),
    (N, "matchnot6", "/**/test", "/one/notthis", Default),
    (N, "matchnot7", "/**/test", "/notthis", Default),
    (N, "matchnot8", "**/.*", "ab.c", Default),
    (N, "matchnot9", "**/.*", "abc/ab.c", Default),
    (N, "matchnot10", ".*/**", "a.bc", Default),
    (N, "matchnot11", ".*/**", "abc/a.bc", Default),
    (N, "matchnot12", "a[0-9]b", "a_b", Default),
    (N, "matchnot13", "a[!0-9]b", "a0b", Default),
    (N, "matchnot14", "a[!0-9]b", "a9b", Default),
    (N, "matchnot15", "[!-]", "-", Default),
    (N, "matchnot16", "*hello.txt", "hello.txt-and-then-some", Default),
    (N, "matchnot17", "*hello.txt", "goodbye.txt", Default),
    (N, "matchnot18", "*some/path/to/hello.txt", "some/path/to/hello.txt-and-then-some", Default),
    (N, "matchnot19", "*some/path/to/hello.txt", "some/other/path/to/hello.txt", Default),
    (N, "matchnot20", "a", "foo/a", Default),
    (N, "matchnot21", "./foo", "foo", Default),
    (N, "matchnot22", "**/foo", "foofoo", Default),
    (N, "matchnot23", "**/foo/bar", "foofoo/bar", Default),
    (N, "matchnot24", "/*.c", "mozilla-sha1/sha1.c", Default),
    (N, "matchnot25", "*.c", "mozilla-sha1/sha1.c", LiteralSeparator),
    (N, "matchnot26", "**/m4/ltoptions.m4", "csharp/src/packages/repositories.config", LiteralSeparator),
    (N, "matchnot27", "a[^0-9]b", "a0b", Default),
    (N, "matchnot28", "a[^0-9]b", "a9b", Default),
    (N, "matchnot29", "[^-]", "-", Default),
    (N, "matchnot30", "some/*/needle.txt", "some/needle.txt", Default),
    (N, "matchrec31", "some/*/needle.txt", "some/one/two/needle.txt", LiteralSeparator),
    (N, "matchrec32", "some/*/needle.txt", "some/one/two/three/needle.txt", LiteralSeparator),
    (N, "matchrec33", ".*/**", ".abc", Default),
    (N, "matchrec34", "foo/**", "foo", Default),
];

/// Reasons for the differences.
const BACKSLASH: &str = "`\\` is a path separator in Alto (globs and paths are normalised, `\\` to `/`), never an escape";
const MALFORMED: &str =
    "a malformed glob is refused (naming the rule and field) instead of never matching";
const SEPARATOR_ONLY: &str = "a bracket never matches a separator, so one that could only match `/` is refused instead of never matching";
const EMPTY: &str = "an empty glob is refused";
const TRAILING: &str = "paths are normalised: a trailing separator is dropped";
const REPEATED: &str = "paths are normalised: repeated separators collapse into one";

/// Where Alto differs from git on purpose: (text, pattern, Alto case-sensitive, Alto
/// case-insensitive, reason).
#[rustfmt::skip]
const GIT_DIFFERENCES: &[(&str, &str, Outcome, Outcome, &str)] = &[
    ("", "", E, E, EMPTY),
    ("foo", "", E, E, EMPTY),
    ("deep/foo/bar/baz/", "**/bar/*", M, M, TRAILING),
    ("deep/foo/bar/", "**/bar/**", N, N, TRAILING),
    ("XXX/adobe/courier/bold/o/normal//12/120/75/75/m/70/iso8859/1", "XXX/*/*/*/*/*/*/12/*/*/*/m/*/*/*", N, N, REPEATED),
    ("foo/bar", "foo[/]bar", E, E, SEPARATOR_ONLY),
    ("[ab]", "[[::]ab]", E, E, MALFORMED),
    ("1", "[[:digit:][:upper:][:spaci:]]", E, E, MALFORMED),
    ("ab", "a[]b", E, E, MALFORMED),
    ("a[]b", "a[]b", E, E, MALFORMED),
    ("ab[", "ab[", E, E, MALFORMED),
    ("ab", "[!", E, E, MALFORMED),
    ("ab", "[-", E, E, MALFORMED),
    ("-", "[a-", E, E, MALFORMED),
    ("-", "[!a-", E, E, MALFORMED),
    ("foo*", r"foo\*", N, N, BACKSLASH),
    (r"foo\", r"foo\", M, M, BACKSLASH),
    (r"\", r"\", M, M, BACKSLASH),
    (r"XXX/\", r"*/\", M, M, BACKSLASH),
    ("[ab]", r"\[ab]", N, N, BACKSLASH),
    ("?a?b", r"\??\?b", N, N, BACKSLASH),
    ("abc", r"\a\b\c", N, N, BACKSLASH),
    ("[", r"[\\-^]", M, M, BACKSLASH),
    ("-", r"[\-_]", N, N, BACKSLASH),
    ("]", r"[\]]", E, E, BACKSLASH),
    (r"\]", r"[\]]", E, E, BACKSLASH),
    (r"\", r"[\]]", E, E, BACKSLASH),
    (r"\", r"[\]", E, E, BACKSLASH),
    (r"\", r"[\\]", E, E, BACKSLASH),
    ("G", r"[A-\\]", E, E, BACKSLASH),
    (r"\", r"[\\,]", N, N, BACKSLASH),
    ("2", r"[\1-\3]", E, E, BACKSLASH),
    ("3", r"[\1-\3]", E, E, BACKSLASH),
    ("4", r"[\1-\3]", E, E, BACKSLASH),
    (r"\", r"[[-\]]", E, E, BACKSLASH),
    ("[", r"[[-\]]", E, E, BACKSLASH),
    ("]", r"[[-\]]", E, E, BACKSLASH),
    ("-", r"[[-\]]", E, E, BACKSLASH),
];

/// Where Alto differs from globset on purpose: (test name, Alto's outcome, reason).
#[rustfmt::skip]
const GLOBSET_DIFFERENCES: &[(&str, Outcome, &str)] = &[
    ("matchpat7", N, "`*` never crosses a separator (globset's default lets it)"),
    ("matchrec23", N, TRAILING),
    ("matchnot20", M, "a glob without a separator matches the file name alone, as in .gitignore"),
    ("matchnot25", M, "a glob without a separator matches the file name alone, as in .gitignore"),
    ("matchalt16", N, "no empty_alternates option: an empty alternative matches nothing"),
    ("matchslash4", E, SEPARATOR_ONLY),
    ("matchslash5", M, BACKSLASH),
    ("matchbackslash1", E, BACKSLASH),
    ("matchbackslash2", N, BACKSLASH),
    ("matchbackslash3", N, BACKSLASH),
    ("matchbackslash6", N, BACKSLASH),
    ("matchbackslash7", N, BACKSLASH),
];

/// Alto's outcome for `pattern` on `text`, through `PathGlob` and through a one-rule set (which
/// must agree).
fn alto(pattern: &str, text: &str, insensitive: bool) -> Outcome {
    let single = match PathGlob::new(pattern) {
        Err(_) => E,
        Ok(g) if g.is_match(text, insensitive) => M,
        Ok(_) => N,
    };
    let rules = json!({
        "case_sensitive": !insensitive,
        "rule": [{"name": "r", "include": [pattern], "target": "t"}],
    });
    let in_set = match RuleSet::from_json(&rules.to_string()) {
        Err(_) => E,
        Ok(set) if eval(&set, &file(text, 1)).is_some() => M,
        Ok(_) => N,
    };
    assert_eq!(
        single, in_set,
        "PathGlob and RuleSet disagree on {pattern:?} / {text:?} (case-insensitive: {insensitive})"
    );
    single
}

#[test]
fn git_wildmatch_with_pathname() {
    let mut wrong = Vec::new();
    for &(cs, ci, text, pattern) in GIT {
        let listed = GIT_DIFFERENCES
            .iter()
            .find(|d| d.0 == text && d.1 == pattern);
        let (want_cs, want_ci) = listed.map_or((cs, ci), |d| (d.2, d.3));
        if listed.is_some() && (want_cs, want_ci) == (cs, ci) {
            wrong.push(format!(
                "listed as a difference but git agrees: {text:?} {pattern:?}"
            ));
        }
        let got = (alto(pattern, text, false), alto(pattern, text, true));
        if got != (want_cs, want_ci) {
            wrong.push(format!(
                "{text:?} {pattern:?}: Alto {got:?}, expected {:?} (git {:?})",
                (want_cs, want_ci),
                (cs, ci)
            ));
        }
    }
    for d in GIT_DIFFERENCES {
        if !GIT.iter().any(|g| g.2 == d.0 && g.3 == d.1) {
            wrong.push(format!("listed difference not among git's cases: {d:?}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} cases:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

#[test]
fn globset_cases() {
    let mut wrong = Vec::new();
    for &(want, name, pattern, path, options) in GLOBSET {
        let listed = GLOBSET_DIFFERENCES.iter().find(|d| d.0 == name);
        let expected = listed.map_or(want, |d| d.1);
        if listed.is_some() && expected == want {
            wrong.push(format!("{name}: listed as a difference but globset agrees"));
        }
        let got = alto(pattern, path, options == CaseInsensitive);
        if got != expected {
            wrong.push(format!(
                "{name}: {pattern:?} {path:?} {options:?}: Alto {got:?}, expected {expected:?} (globset {want:?})"
            ));
        }
    }
    for d in GLOBSET_DIFFERENCES {
        if !GLOBSET.iter().any(|g| g.1 == d.0) {
            wrong.push(format!(
                "listed difference not among globset's cases: {d:?}"
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} cases:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}
