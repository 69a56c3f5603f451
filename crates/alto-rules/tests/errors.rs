//! A bad rule set is refused whole, and the error names the rule and the field.

use alto_rules::{Format, RuleError, RuleErrorKind as K, RuleSet};

fn refuse(text: &str) -> RuleError {
    match RuleSet::from_toml(text) {
        Ok(set) => panic!("accepted: {set:?}"),
        Err(e) => e,
    }
}

/// A set whose second rule, named "bad", has the given extra lines.
fn refuse_rule(lines: &str) -> RuleError {
    refuse(&format!(
        "[[rule]]\nname = \"good\"\ntarget = \"t\"\n\n[[rule]]\nname = \"bad\"\ntarget = \"t\"\n{lines}\n"
    ))
}

#[track_caller]
fn check(e: &RuleError, kind: K, field: &str, words: &[&str]) {
    let text = e.to_string();
    assert_eq!(e.kind(), kind, "{text}");
    assert_eq!(e.field(), Some(field), "{text}");
    assert_eq!(e.rule(), Some("bad"), "{text}");
    assert_eq!(e.rule_index(), Some(1), "{text}");
    assert!(
        text.starts_with(&format!("rule \"bad\", field {field}: ")),
        "{text}"
    );
    for w in words {
        assert!(text.contains(w), "{text:?} lacks {w:?}");
    }
}

#[test]
fn bad_size_unit() {
    let e = refuse_rule("min_size = \"10XB\"");
    check(
        &e,
        K::BadUnit,
        "min_size",
        &["bad size unit \"10XB\"", "KiB"],
    );
    let e = refuse_rule("max_size = \"1 Gigabyte\"");
    check(&e, K::BadUnit, "max_size", &["bad size unit"]);
}

#[test]
fn bad_sizes() {
    check(
        &refuse_rule("min_size = -1"),
        K::InvalidValue,
        "min_size",
        &["negative"],
    );
    check(
        &refuse_rule("min_size = \"-1KB\""),
        K::InvalidValue,
        "min_size",
        &["negative"],
    );
    check(
        &refuse_rule("min_size = 1.5"),
        K::WrongType,
        "min_size",
        &["whole number"],
    );
    check(
        &refuse_rule("max_size = \"99999PiB\""),
        K::InvalidValue,
        "max_size",
        &["too large"],
    );
    check(
        &refuse_rule("max_size = true"),
        K::WrongType,
        "max_size",
        &["a boolean"],
    );
}

#[test]
fn bad_durations() {
    check(
        &refuse_rule("accessed_before = \"30\""),
        K::BadUnit,
        "accessed_before",
        &["needs a unit"],
    );
    check(
        &refuse_rule("accessed_after = 30"),
        K::BadUnit,
        "accessed_after",
        &["needs a unit", "\"30d\""],
    );
    check(
        &refuse_rule("modified_before = \"3 months\""),
        K::BadUnit,
        "modified_before",
        &["unit"],
    );
    check(
        &refuse_rule("modified_after = \"-3d\""),
        K::InvalidValue,
        "modified_after",
        &["negative"],
    );
    check(
        &refuse_rule("modified_after = []"),
        K::WrongType,
        "modified_after",
        &["an array"],
    );
}

#[test]
fn unknown_field() {
    let e = refuse_rule("includes = [\"*.mov\"]");
    check(
        &e,
        K::UnknownField,
        "includes",
        &["unknown field", "include, exclude"],
    );
}

#[test]
fn wrong_types() {
    check(
        &refuse_rule("priority = \"high\""),
        K::WrongType,
        "priority",
        &["an integer", "\"high\""],
    );
    check(
        &refuse_rule("priority = 1.5"),
        K::WrongType,
        "priority",
        &["an integer"],
    );
    check(
        &refuse_rule("enabled = \"yes\""),
        K::WrongType,
        "enabled",
        &["true or false"],
    );
    check(
        &refuse_rule("include = \"*.mov\""),
        K::WrongType,
        "include",
        &["an array of strings"],
    );
    check(
        &refuse_rule("exclude = [1]"),
        K::WrongType,
        "exclude",
        &["an array of strings"],
    );
    check(
        &refuse_rule("regex = 5"),
        K::WrongType,
        "regex",
        &["a string"],
    );
    check(
        &refuse_rule("extensions = \"mov\""),
        K::WrongType,
        "extensions",
        &["array"],
    );
}

#[test]
fn bad_glob() {
    let e = refuse_rule("include = [\"*.mov\", \"/data/[ab\"]");
    check(&e, K::BadGlob, "include", &["bad glob \"/data/[ab\""]);
    let e = refuse_rule("exclude = [\"{a,b\"]");
    check(&e, K::BadGlob, "exclude", &["bad glob \"{a,b\""]);
    check(
        &refuse_rule("include = [\"\"]"),
        K::BadGlob,
        "include",
        &["empty glob"],
    );
}

#[test]
fn bad_brackets() {
    // Never misread: an unknown POSIX class, a reversed range, an unclosed bracket and a bracket
    // that could only match a separator are refused, in every case mode.
    for mode in ["\"auto\"", "true", "false"] {
        let refuse_glob = |field: &str, glob: &str| {
            refuse(&format!(
                "case_sensitive = {mode}\n[[rule]]\nname = \"good\"\ntarget = \"t\"\n\n\
                 [[rule]]\nname = \"bad\"\ntarget = \"t\"\n{field} = ['{glob}']\n"
            ))
        };
        let e = refuse_glob("include", "[[:foo:]]*.jpg");
        check(
            &e,
            K::BadGlob,
            "include",
            &[
                "bad glob \"[[:foo:]]*.jpg\"",
                "unknown character class \"[:foo:]\"",
                "digit",
            ],
        );
        let e = refuse_glob("exclude", "/data/[z-a]");
        check(&e, K::BadGlob, "exclude", &["reversed range \"z-a\""]);
        let e = refuse_glob("include", "/data/IMG[!_");
        check(&e, K::BadGlob, "include", &["unclosed bracket"]);
        let e = refuse_glob("include", "a[/]b");
        check(&e, K::BadGlob, "include", &["never matches a separator"]);
        let e = refuse_glob("include", "a[\\]b");
        check(&e, K::BadGlob, "include", &["never matches a separator"]);
    }
    // A range that is valid as written stays valid whatever the case mode.
    for mode in ["\"auto\"", "true", "false"] {
        let text = format!(
            "case_sensitive = {mode}\n[[rule]]\nname = \"r\"\ntarget = \"t\"\ninclude = ['[Z-y]*', '[A-z]']\n"
        );
        assert!(RuleSet::from_toml(&text).is_ok(), "{mode}");
    }
}

#[test]
fn bad_regex() {
    let e = refuse_rule("regex = 'render_v(\\d+'");
    check(&e, K::BadRegex, "regex", &["bad regex", "unclosed group"]);
    // Too big for the size limit.
    let e = refuse_rule("regex = '\\w{1000}\\w{1000}\\w{1000}'");
    check(&e, K::BadRegex, "regex", &["bad regex"]);
    check(
        &refuse_rule("regex = ''"),
        K::InvalidValue,
        "regex",
        &["empty regex"],
    );
}

#[test]
fn duplicate_name() {
    let e = refuse(
        "[[rule]]\nname = \"a\"\ntarget = \"t\"\n[[rule]]\nname = \"bad\"\ntarget = \"t\"\n[[rule]]\nname = \"bad\"\ntarget = \"t\"",
    );
    assert_eq!(e.kind(), K::DuplicateName);
    assert_eq!(e.rule(), Some("bad"));
    assert_eq!(e.rule_index(), Some(2), "the second occurrence is at fault");
    assert_eq!(e.field(), Some("name"));
    assert!(e.to_string().contains("also rule #2"), "{e}");
}

#[test]
fn missing_or_empty_name() {
    let e = refuse(
        "[[rule]]\nname = \"a\"\ntarget = \"t\"\n[[rule]]\nname = \"b\"\ntarget = \"t\"\n[[rule]]\ntarget = \"t\"",
    );
    assert_eq!(e.kind(), K::Missing);
    assert_eq!(e.rule(), None);
    assert_eq!(e.field(), Some("name"));
    assert!(
        e.to_string().starts_with("rule #3, field name: missing"),
        "{e}"
    );
    let e = refuse("[[rule]]\nname = \"\"\ntarget = \"t\"");
    assert_eq!(e.kind(), K::InvalidValue);
    assert!(e.to_string().starts_with("rule #1, field name: "), "{e}");
    let e = refuse("[[rule]]\nname = 7\ntarget = \"t\"");
    assert_eq!(e.kind(), K::WrongType);
    assert!(e.to_string().starts_with("rule #1, field name: "), "{e}");
}

#[test]
fn missing_target_and_bad_target() {
    let e = refuse("[[rule]]\nname = \"bad\"");
    assert_eq!(e.kind(), K::Missing);
    assert_eq!(e.field(), Some("target"));
    assert!(
        e.to_string()
            .starts_with("rule \"bad\", field target: missing"),
        "{e}"
    );
    let e = refuse("[[rule]]\nname = \"bad\"\ntarget = \"s3://x/{tenant}/{month}/\"");
    assert_eq!(e.kind(), K::BadTarget);
    assert_eq!(e.field(), Some("target"));
    let text = e.to_string();
    assert!(text.contains("unknown placeholder {month}"), "{text}");
    assert!(
        text.contains("{tenant}, {share}, {rule}, {yyyy}, {mm}, {dd}"),
        "{text}"
    );
    let e = refuse("[[rule]]\nname = \"bad\"\ntarget = \"s3://x/{tenant\"");
    assert_eq!(e.kind(), K::BadTarget);
    let e = refuse("[[rule]]\nname = \"bad\"\ntarget = \" \"");
    assert_eq!(e.kind(), K::InvalidValue);
}

#[test]
fn min_above_max() {
    let e = refuse_rule("min_size = \"10GB\"\nmax_size = \"1GB\"");
    check(
        &e,
        K::MinAboveMax,
        "min_size",
        &["above max_size", "10000000000 bytes"],
    );
    // Equal is fine.
    RuleSet::from_toml(
        "[[rule]]\nname = \"r\"\ntarget = \"t\"\nmin_size = \"1KB\"\nmax_size = 1000",
    )
    .unwrap();
}

#[test]
fn bad_extensions() {
    check(
        &refuse_rule("extensions = [\"\"]"),
        K::InvalidValue,
        "extensions",
        &["bad extension"],
    );
    check(
        &refuse_rule("extensions = [\".\"]"),
        K::InvalidValue,
        "extensions",
        &["bad extension"],
    );
    check(
        &refuse_rule("exclude_extensions = [\"tar.gz\"]"),
        K::InvalidValue,
        "exclude_extensions",
        &["tar.gz"],
    );
    check(
        &refuse_rule("extensions = [\"a/b\"]"),
        K::InvalidValue,
        "extensions",
        &["bad extension"],
    );
}

#[test]
fn top_level_errors() {
    let e = refuse("rules = []");
    assert_eq!(e.kind(), K::UnknownField);
    assert_eq!(e.field(), Some("rules"));
    assert_eq!(e.rule(), None);
    assert!(e.to_string().contains("did you mean \"rule\""), "{e}");
    let e = refuse("case_sensitive = \"yes\"");
    assert_eq!(e.kind(), K::InvalidValue);
    assert_eq!(e.field(), Some("case_sensitive"));
    let e = refuse("case_sensitive = 1");
    assert_eq!(e.kind(), K::WrongType);
    let e = refuse("[rule]\nname = \"x\"");
    assert_eq!(e.kind(), K::WrongType);
    assert_eq!(e.field(), Some("rule"));
    let e = RuleSet::from_json(r#"{"rule": [5]}"#).unwrap_err();
    assert_eq!(e.kind(), K::WrongType);
    assert!(
        e.to_string().starts_with("rule #1: expected a table"),
        "{e}"
    );
    let e = RuleSet::from_json("[1, 2]").unwrap_err();
    assert_eq!(e.kind(), K::WrongType);
}

#[test]
fn syntax_errors_name_the_format() {
    for (format, text, name) in [
        (Format::Toml, "[[rule]\nname = ", "TOML"),
        (Format::Json, "{\"rule\": [", "JSON"),
        (Format::Yaml, "rule: [a, b\n  - c: d: e", "YAML"),
    ] {
        let e = RuleSet::parse(text, format).unwrap_err();
        assert_eq!(e.kind(), K::Syntax, "{e}");
        assert!(
            e.to_string().starts_with(&format!("{name} syntax error")),
            "{e}"
        );
    }
}

#[test]
fn errors_in_any_format_name_rule_and_field() {
    let json = r#"{"rule": [{"name": "bad", "target": "t", "min_size": "10XB"}]}"#;
    let yaml = "rule:\n  - name: bad\n    target: t\n    min_size: 10XB\n";
    for e in [
        RuleSet::from_json(json).unwrap_err(),
        RuleSet::from_yaml(yaml).unwrap_err(),
    ] {
        assert_eq!(e.kind(), K::BadUnit);
        assert!(
            e.to_string()
                .starts_with("rule \"bad\", field min_size: bad size unit \"10XB\""),
            "{e}"
        );
    }
}

#[test]
fn the_first_rules_are_not_kept_when_a_later_one_is_bad() {
    // Refused whole: there is no partial RuleSet to get at.
    let e = refuse_rule("regex = '('");
    assert_eq!(e.rule_index(), Some(1));
}

#[test]
fn duplicate_keys_are_syntax_errors_in_every_format() {
    let e = RuleSet::from_toml("[[rule]]\nname = \"a\"\nname = \"b\"\ntarget = \"t\"").unwrap_err();
    assert_eq!(e.kind(), K::Syntax, "{e}");
    let e = RuleSet::from_yaml("rule:\n  - name: a\n    name: b\n    target: t\n").unwrap_err();
    assert_eq!(e.kind(), K::Syntax, "{e}");
    assert!(e.to_string().contains("duplicate key `name`"), "{e}");
    let e = RuleSet::from_json(r#"{"rule": [{"name": "a", "target": "t", "target": "u"}]}"#)
        .unwrap_err();
    assert_eq!(e.kind(), K::Syntax, "{e}");
    assert!(e.to_string().contains("duplicate key `target`"), "{e}");
}
