//! Case-insensitive regexes are first screened by a literal search in the path folded to ASCII
//! lower case. The screen must never change a verdict: each rule here has only a regex, and the
//! rule set's answer is compared with the `regex` crate's own case-insensitive search of the
//! normalised path, for paths that are ASCII, non-ASCII, in odd cases, or hold the characters
//! whose Unicode case folding reaches ASCII letters (KELVIN SIGN, LONG S).

use alto_rules::{FileFacts, RuleSet, normalized};
use regex::RegexBuilder;

/// Every pattern has ASCII literals: the screen is on.
const SCREENED: &[&str] = &[
    r"render_v\d+",
    r"(final|FINAL)_cut",
    r"(?-i)Exact",
    r"\.bak$",
    r"ks",
    r"^c:/data/x",
    r"(?i)MiXeD",
];

/// Some pattern has none (a class, a non-ASCII literal): the set runs on every path.
const UNSCREENED: &[&str] = &[r"render_v\d+", r"caf[eé]", r"\d{4}-\d{2}", r"ks", r"résumé"];

fn rule_set(patterns: &[&str]) -> RuleSet {
    let mut toml = String::from("case_sensitive = \"auto\"\n");
    for (i, p) in patterns.iter().enumerate() {
        toml.push_str(&format!(
            "[[rule]]\nname = \"r{i}\"\npriority = {i}\nregex = '{p}'\ntarget = \"file:///t/\"\n"
        ));
    }
    RuleSet::from_toml(&toml).unwrap()
}

fn oracle(patterns: &[&str], path: &str) -> Option<usize> {
    let norm = normalized(path);
    patterns.iter().position(|p| {
        RegexBuilder::new(p)
            .case_insensitive(true)
            .build()
            .unwrap()
            .is_match(&norm)
    })
}

#[test]
fn the_literal_screen_never_changes_a_verdict() {
    check(SCREENED);
    check(UNSCREENED);
}

fn check(patterns: &[&str]) {
    let rules = rule_set(patterns);
    let mut scratch = rules.scratch();
    let names = [
        "RENDER_V12.exr",
        "render_v.exr",
        "Render_V0",
        "final_cut.mov",
        "Final_Cut.mov",
        "exact",
        "EXACT",
        "Exact",
        "old.BAK",
        "old.bak.txt",
        "CAFÉ",
        "cafe",
        "CAFE",
        "2024-01",
        "KS",
        "\u{212a}s",
        "k\u{17f}",
        "\u{212a}\u{17f}",
        "RÉSUMÉ",
        "résumé",
        "RESUME",
        "mixed",
        "MIXED",
        "nothing",
    ];
    let mut checked = 0;
    for dir in [r"C:\Data\x", r"C:\data\X\", r"\\nas\share\Ünïcode", r"D:\"] {
        for name in names {
            let path = format!(r"{dir}\{name}");
            let facts = FileFacts {
                path: &path,
                size: 1,
                accessed: None,
                modified: None,
            };
            assert_eq!(
                rules.evaluate(&facts, 0, &mut scratch),
                oracle(patterns, &path),
                "{path:?}"
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 4 * names.len());
}
