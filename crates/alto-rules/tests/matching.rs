//! Globs, case rules and rule order (DESIGN §4).

mod common;

use common::{eval, file, hit, matches, toml};

fn glob(patterns: &str, path: &str) -> bool {
    matches(&format!("include = [{patterns}]"), &file(path, 1))
}

fn with_case(mode: &str, conditions: &str, path: &str) -> bool {
    let set = toml(&format!(
        "case_sensitive = {mode}\n[[rule]]\nname = \"r\"\ntarget = \"t\"\n{conditions}\n"
    ));
    eval(&set, &file(path, 1)).is_some()
}

#[test]
fn name_only_globs_match_the_file_name() {
    assert!(glob("'*.tmp'", "/a/b/c.tmp"));
    assert!(glob("'*.tmp'", "c.tmp"));
    assert!(glob("'*.tmp'", r"C:\a\b.tmp"));
    assert!(!glob("'*.tmp'", "/a/b.tmp/c"));
    assert!(glob("'Thumbs.db'", r"\\nas\share\photos\Thumbs.db"));
    assert!(!glob("'Thumbs.db'", "/photos/Thumbs.db.bak"));
    assert!(!glob("'Thumbs.db'", "/photos/NotThumbs.db"));
    assert!(glob("'?.txt'", "/x/a.txt"));
    assert!(!glob("'?.txt'", "/x/ab.txt"));
}

#[test]
fn path_globs_match_the_whole_path() {
    assert!(glob("'/data/*.pdf'", "/data/a.pdf"));
    assert!(
        !glob("'/data/*.pdf'", "/data/sub/a.pdf"),
        "* never crosses a separator"
    );
    assert!(
        !glob("'data/*.pdf'", "/data/a.pdf"),
        "a path glob is not a suffix match"
    );
    assert!(glob("'/data/?/x'", "/data/a/x"));
    assert!(!glob("'/data/?/x'", "/data//x"));
    assert!(!glob("'/d?ta'", "/d/ta"), "? never matches a separator");
}

#[test]
fn double_star_spans_segments() {
    assert!(glob("'/data/**'", "/data/a/b/c.pdf"));
    assert!(glob("'/data/**/*.pdf'", "/data/a.pdf"));
    assert!(glob("'/data/**/*.pdf'", "/data/a/b/c.pdf"));
    assert!(!glob("'/data/**/*.pdf'", "/other/a.pdf"));
    assert!(glob("'**/keep/**'", "/x/keep/y/z"));
    assert!(glob("'**/keep/**'", "keep/y"));
    assert!(!glob("'**/keep/**'", "/x/keeper/y"));
    assert!(glob("'**/*.mov'", "/a/b/c.mov"));
}

#[test]
fn alternatives_and_classes() {
    assert!(glob("'*.{mov,mp4}'", "/v/a.mp4"));
    assert!(glob("'*.{mov,mp4}'", "/v/a.mov"));
    assert!(!glob("'*.{mov,mp4}'", "/v/a.mkv"));
    assert!(glob("'/v/{a,b}/*'", "/v/b/x"));
    assert!(!glob("'/v/{a,b}/*'", "/v/c/x"));
    assert!(glob("'file[ab].txt'", "/d/filea.txt"));
    assert!(glob("'file[ab].txt'", "/d/fileb.txt"));
    assert!(!glob("'file[ab].txt'", "/d/filec.txt"));
    assert!(glob("'file[!ab].txt'", "/d/filec.txt"));
    assert!(glob("'file[0-9].txt'", "/d/file7.txt"));
}

#[test]
fn brackets_never_match_a_separator() {
    // Name-only globs: the bracket cannot reach into the directory part.
    assert!(!glob("'IMG[!_]*.jpg'", "/photos/IMG/0001.jpg"));
    assert!(glob("'IMG[!_]*.jpg'", "/photos/IMG0001.jpg"));
    assert!(!glob("'IMG[!_]*.jpg'", r"C:\photos\IMG\0001.jpg"));
    // Path globs.
    assert!(!glob("'x/foo[!a-z]bar'", "x/foo/bar"));
    assert!(glob("'x/foo[!a-z]bar'", "x/foo-bar"));
    assert!(!glob("'/d/a[+-3]b'", "/d/a/b"), "a range spanning `/`");
    assert!(glob("'/d/a[+-3]b'", "/d/a.b"));
    assert!(!glob("'/d/a[[:punct:]]b'", "/d/a/b"));
    assert!(!glob("'/d/a[[:punct:]]b'", r"C:\d\a\b"));
}

#[test]
fn brackets_match_characters_not_bytes() {
    assert!(glob("'/d/x[!a]y'", "/d/xéy"));
    assert!(glob("'/d/x[é]y'", "/d/xéy"));
    assert!(glob("'/d/x[à-ÿ]y'", "/d/xüy"));
    assert!(!glob("'/d/x[à-ÿ]y'", "/d/xuy"));
    assert!(glob("'/d/x[!é]y'", "/d/x☃y"));
}

#[test]
fn question_mark_matches_one_character_not_one_byte() {
    for (glob_, path, want) in [
        ("'caf?.txt'", "/d/café.txt", true),
        ("'caf?.txt'", "/d/cafe.txt", true),
        ("'caf??.txt'", "/d/café.txt", false),
        ("'/d/?'", "/d/☃", true),
        ("'/d/?'", "/d/😀", true),
        ("'/d/?x'", "/d/😀x", true),
        ("'/d/?[!a]'", "/d/éé", true),
        ("'?'", "/d/é", true),
    ] {
        assert_eq!(glob(glob_, path), want, "{glob_} {path}");
        let rule = format!("include = [{glob_}]");
        assert_eq!(
            with_case("false", &rule, &path.to_uppercase()),
            want,
            "{glob_} {path}"
        );
    }
}

#[test]
fn posix_classes() {
    assert!(glob("'[[:digit:]]*'", "/scans/2024.pdf"));
    assert!(!glob("'[[:digit:]]*'", "/scans/a2024.pdf"));
    assert!(glob("'[![:digit:]]*'", "/scans/a2024.pdf"));
    assert!(glob("'x[[:digit:]a-f]'", "/d/xe"));
    assert!(glob("'x[[:digit:]a-f]'", "/d/x7"));
    assert!(!glob("'x[[:digit:]a-f]'", "/d/xg"));
    assert!(glob(
        "'[[:upper:]][[:lower:]][[:alnum:]][[:space:]][[:punct:]]'",
        "/d/Ab1 !"
    ));
    assert!(glob("'[[:alpha:]]'", "/d/q"));
    assert!(!glob("'[[:alpha:]]'", "/d/é"), "POSIX classes are ASCII");
    assert!(glob(
        "'[[:xdigit:]][[:blank:]][[:graph:]][[:print:]]'",
        "/d/F\t~ "
    ));
    assert!(glob("'[[:cntrl:]]'", "/d/\u{7}"));
}

#[test]
fn case_insensitive_brackets_keep_their_ranges() {
    // `[A-Z]` also matches lower case letters; `[Z-y]` is the range it is (`Z`, `[`, …, `y`)
    // plus the folds of its members (`z`), and `[A-z]` keeps the six characters between.
    for (glob, name, want) in [
        ("[A-Z].txt", "q.txt", true),
        ("[A-Z].txt", "Q.txt", true),
        ("[a-z].txt", "Q.txt", true),
        ("[Z-y].txt", "z.txt", true),
        ("[Z-y].txt", "_.txt", true),
        ("[Z-y].txt", "B.txt", true),
        ("[A-z].txt", "^.txt", true),
        ("[A-z].txt", "{.txt", false),
        ("[!A-Z].txt", "q.txt", false),
        ("[!A-Z].txt", "7.txt", true),
        ("[É].txt", "é.txt", true),
        ("[[:upper:]].txt", "m.txt", true),
        ("[[:lower:]].txt", "M.txt", true),
    ] {
        let rule = format!("include = ['{glob}']");
        let windows = format!(r"C:\d\{name}");
        assert_eq!(
            with_case("\"auto\"", &rule, &windows),
            want,
            "{glob} {windows}"
        );
        let posix = format!("/d/{name}");
        assert_eq!(with_case("false", &rule, &posix), want, "{glob} {posix}");
    }
    // Case-sensitive paths keep exact ranges, and the ranges are valid there too.
    assert!(!with_case(
        "\"auto\"",
        "include = ['/d/[A-Z].txt']",
        "/d/q.txt"
    ));
    assert!(!with_case("true", "include = ['/d/[Z-y].txt']", "/d/z.txt"));
    assert!(with_case("true", "include = ['/d/[Z-y].txt']", "/d/_.txt"));
}

#[test]
fn bracketed_star_is_literal() {
    assert!(glob("'a[*]b'", "/d/a*b"));
    assert!(!glob("'a[*]b'", "/d/axb"));
    assert!(glob("'a[?]b'", "/d/a?b"));
    assert!(!glob("'a[?]b'", "/d/axb"));
}

#[test]
fn backslash_is_a_separator_in_globs() {
    assert!(glob(r"'C:\Data\**'", "C:/Data/x/y.pdf"));
    assert!(glob(r"'C:\Data\**'", r"C:\Data\x\y.pdf"));
    assert!(glob(r"'C:\Data\*.pdf'", r"C:\\Data\y.pdf"));
    assert!(glob(r"'\\nas\share\**'", r"\\nas\share\x"));
    assert!(glob(r"'\\nas\share\**'", "//nas/share/x"));
    assert!(
        !glob(r"'\\nas\share\**'", "/nas/share/x"),
        "a UNC glob keeps its //"
    );
    // `\*` is two things: a separator and a star, never an escaped star.
    assert!(glob(r"'/d\*'", "/d/anything"));
    assert!(glob(r"'/data\\\**\*.pdf'", "/data/a/b.pdf"));
}

#[test]
fn include_is_any_of_and_exclude_rules_out() {
    let c = "include = ['*.mov', '/keep/**']\nexclude = ['**/tmp/**', '*.bak']";
    assert!(matches(c, &file("/a/x.mov", 1)));
    assert!(matches(c, &file("/keep/x.txt", 1)));
    assert!(!matches(c, &file("/a/x.txt", 1)));
    assert!(!matches(c, &file("/a/tmp/x.mov", 1)));
    assert!(!matches(c, &file("/keep/x.bak", 1)));
    assert!(matches("exclude = ['*.bak']", &file("/a/x.txt", 1)));
    assert!(!matches("exclude = ['*.bak']", &file("/a/x.bak", 1)));
    assert!(
        matches("include = []", &file("/a/x", 1)),
        "empty include: every path"
    );
}

#[test]
fn auto_case_follows_the_path() {
    let c = "include = ['**/*.MOV', 'C:/Media/**']";
    // Drive-letter and UNC paths ignore case.
    assert!(with_case("\"auto\"", c, r"c:\media\a.txt"));
    assert!(with_case("\"auto\"", c, r"D:\x\a.mov"));
    assert!(with_case("\"auto\"", c, r"\\nas\share\a.mov"));
    assert!(with_case("\"auto\"", c, "//nas/share/a.Mov"));
    // POSIX paths do not.
    assert!(!with_case("\"auto\"", c, "/x/a.mov"));
    assert!(with_case("\"auto\"", c, "/x/a.MOV"));
    assert!(!with_case("\"auto\"", c, "relative/a.mov"));
    assert!(
        !with_case("\"auto\"", c, "C:relative/a.mov"),
        "C: must be followed by a separator"
    );
    // The regex follows the same rule.
    let r = "regex = 'Render'";
    assert!(with_case("\"auto\"", r, r"C:\x\render.mov"));
    assert!(!with_case("\"auto\"", r, "/x/render.mov"));
    assert!(with_case("\"auto\"", r, "/x/Render.mov"));
}

#[test]
fn forced_case_modes() {
    let c = "include = ['/Media/**']\nregex = 'Clip'";
    assert!(with_case("true", c, "/Media/Clip1"));
    assert!(!with_case("true", c, "/media/Clip1"));
    assert!(!with_case("true", c, "/Media/clip1"));
    assert!(with_case("false", c, "/media/clip1"));
    assert!(with_case("false", c, "/MEDIA/CLIP1"));
    let w = r"include = ['C:\Data\**']";
    assert!(!with_case("true", w, r"c:\data\x"));
    assert!(with_case("true", w, r"C:\Data\x"));
    assert!(with_case("false", w, r"c:\DATA\x"));
    // Extensions ignore case in every mode.
    assert!(with_case("true", "extensions = ['mov']", "/x/A.MOV"));
}

#[test]
fn unicode_case_folding() {
    let c = "include = ['**/Été/**']";
    assert!(with_case("false", c, "/x/ÉTÉ/y"));
    assert!(!with_case("true", c, "/x/ÉTÉ/y"));
}

const ORDERED: &str = r#"
[[rule]]
name = "late"
priority = 200
target = "t"

[[rule]]
name = "first-default"
include = ["*.mov"]
target = "t"

[[rule]]
name = "early"
priority = 10
include = ["/media/**"]
target = "t"

[[rule]]
name = "second-default"
include = ["*.mov", "*.mp4"]
target = "t"

[[rule]]
name = "negative"
priority = -5
enabled = false
target = "t"
"#;

#[test]
fn priority_then_position() {
    let set = toml(ORDERED);
    assert_eq!(set.rules().len(), 5);
    assert_eq!(set.rules()[1].priority, 100, "default priority");
    assert_eq!(hit(&set, &file("/media/a.mov", 1)), Some("early"));
    assert_eq!(
        hit(&set, &file("/other/a.mov", 1)),
        Some("first-default"),
        "ties keep file order"
    );
    assert_eq!(hit(&set, &file("/other/a.mp4", 1)), Some("second-default"));
    assert_eq!(hit(&set, &file("/other/a.txt", 1)), Some("late"));
}

#[test]
fn disabled_rules_are_never_tried() {
    let set = toml(ORDERED);
    assert!(!set.rules()[4].enabled);
    // "negative" would match everything first if it were enabled.
    assert_eq!(hit(&set, &file("/any", 1)), Some("late"));
    let all_off = toml("[[rule]]\nname = \"a\"\nenabled = false\ntarget = \"t\"");
    assert_eq!(eval(&all_off, &file("/any", 1)), None);
    assert!(
        all_off
            .explain(&file("/any", 1), common::NOW)
            .tried
            .is_empty()
    );
}

#[test]
fn empty_rule_set_matches_nothing() {
    let set = toml("");
    assert!(set.rules().is_empty());
    assert_eq!(eval(&set, &file("/x", 1)), None);
    let set = toml("case_sensitive = false");
    assert_eq!(eval(&set, &file("/x", 1)), None);
}

#[test]
fn many_rules_cross_word_boundaries() {
    // More than 64 rules exercises the per-rule bitsets past their first word.
    let mut text = String::new();
    for i in 0..150 {
        text.push_str(&format!(
            "[[rule]]\nname = \"r{i}\"\ninclude = ['/d{i}/**']\nregex = 'f{i}$'\ntarget = \"t\"\n"
        ));
    }
    let set = toml(&text);
    for i in [0, 63, 64, 65, 127, 128, 149] {
        let path = format!("/d{i}/f{i}");
        assert_eq!(eval(&set, &file(&path, 1)), Some(i));
        let miss = format!("/d{i}/f{}", i + 1);
        assert_eq!(eval(&set, &file(&miss, 1)), None);
    }
}

#[test]
fn a_scratch_from_another_set_is_rebuilt() {
    let a = toml("[[rule]]\nname = \"a\"\nregex = 'x'\ntarget = \"t\"");
    let b = toml("[[rule]]\nname = \"b\"\ninclude = ['*.y']\ntarget = \"t\"");
    let mut scratch = a.scratch();
    assert_eq!(
        b.evaluate(&file("/q.y", 1), common::NOW, &mut scratch),
        Some(0)
    );
    assert_eq!(
        a.evaluate(&file("/x", 1), common::NOW, &mut scratch),
        Some(0)
    );
    // A clone shares the compiled matcher, and so the scratch.
    let a2 = a.clone();
    assert_eq!(a2.evaluate(&file("/z", 1), common::NOW, &mut scratch), None);
}
