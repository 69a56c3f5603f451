//! `explain`: for each rule tried, the first condition that failed; and target rendering.

mod common;

use alto_rules::{Condition, FileFacts, TargetVars};
use common::{DAY, NOW, file, toml};

fn one_condition(cond: &str, f: &FileFacts<'_>) -> (Condition, String) {
    let set = toml(&format!("[[rule]]\nname = \"r\"\ntarget = \"t\"\n{cond}\n"));
    let why = set.explain(f, NOW);
    assert_eq!(why.matched, None, "{cond}");
    assert_eq!(why.tried.len(), 1);
    assert_eq!(why.tried[0].rule, 0);
    (why.tried[0].failed, why.tried[0].detail.clone())
}

#[test]
fn each_condition_reports_itself() {
    let f = FileFacts {
        path: r"C:\Data\keep\clip.tmp",
        size: 512,
        accessed: Some(NOW - 10 * DAY),
        modified: Some(NOW - 10 * DAY),
    };
    let cases: &[(&str, Condition, &str)] = &[
        (
            "include = ['*.mov']",
            Condition::Include,
            "matches none of the include globs",
        ),
        (
            "exclude = ['*.txt', '**/keep/**']",
            Condition::Exclude,
            "matches exclude glob \"**/keep/**\"",
        ),
        (
            "regex = 'render'",
            Condition::Regex,
            "regex \"render\" does not occur in path \"C:/Data/keep/clip.tmp\"",
        ),
        (
            "min_size = 1000",
            Condition::MinSize,
            "size 512 is below min_size 1000",
        ),
        (
            "max_size = 500",
            Condition::MaxSize,
            "size 512 is above max_size 500",
        ),
        (
            "accessed_before = \"30d\"",
            Condition::AccessedBefore,
            "is not before",
        ),
        (
            "accessed_after = \"1d\"",
            Condition::AccessedAfter,
            "is before",
        ),
        (
            "modified_before = \"30d\"",
            Condition::ModifiedBefore,
            "last modified",
        ),
        (
            "modified_after = \"1d\"",
            Condition::ModifiedAfter,
            "last modified",
        ),
        (
            "extensions = ['mov', 'mp4']",
            Condition::Extensions,
            "extension \"tmp\" is not one of mov, mp4",
        ),
        (
            "exclude_extensions = ['TMP']",
            Condition::ExcludeExtensions,
            "extension \"tmp\" is excluded",
        ),
    ];
    for (cond, want, words) in cases {
        let (got, detail) = one_condition(cond, &f);
        assert_eq!(got, *want, "{cond}: {detail}");
        assert!(detail.contains(words), "{cond}: {detail:?} lacks {words:?}");
    }
}

#[test]
fn the_first_failing_condition_is_reported_in_declared_order() {
    let f = FileFacts {
        path: "/a/b.txt",
        size: 10,
        accessed: None,
        modified: None,
    };
    let all = "include = ['*.mov']\nexclude = ['*.txt']\nmin_size = 100\nextensions = ['mov']";
    assert_eq!(one_condition(all, &f).0, Condition::Include);
    let no_include = "exclude = ['*.txt']\nmin_size = 100\nextensions = ['mov']";
    assert_eq!(one_condition(no_include, &f).0, Condition::Exclude);
    assert_eq!(
        one_condition("max_size = 1\nmin_size = 0\naccessed_before = '1d'", &f).0,
        Condition::MaxSize
    );
    assert_eq!(
        one_condition("accessed_after = '1d'\nmodified_after = '1d'", &f).0,
        Condition::AccessedAfter
    );
    let order = [
        Condition::Include,
        Condition::Exclude,
        Condition::Regex,
        Condition::MinSize,
        Condition::MaxSize,
        Condition::AccessedBefore,
        Condition::AccessedAfter,
        Condition::ModifiedBefore,
        Condition::ModifiedAfter,
        Condition::Extensions,
        Condition::ExcludeExtensions,
    ];
    assert!(order.windows(2).all(|w| w[0] < w[1]));
}

#[test]
fn missing_times_are_explained() {
    let f = FileFacts {
        path: "/a",
        size: 1,
        accessed: None,
        modified: None,
    };
    let (c, d) = one_condition("accessed_before = '1d'", &f);
    assert_eq!(c, Condition::AccessedBefore);
    assert!(d.contains("no last-accessed or last-modified time"), "{d}");
    let (_, d) = one_condition("modified_after = '1d'", &f);
    assert!(d.contains("no last-modified time"), "{d}");
    let g = FileFacts {
        modified: Some(NOW),
        ..f
    };
    let (_, d) = one_condition("accessed_before = '1d'", &g);
    assert!(
        d.contains("last accessed unknown; last modified 2026-01-01T00:00:00Z"),
        "{d}"
    );
    assert!(d.contains("2025-12-31T00:00:00Z (now - 1d)"), "{d}");
}

#[test]
fn tried_lists_enabled_rules_in_evaluation_order_up_to_the_match() {
    let set = toml(
        r#"
        [[rule]]
        name = "big"
        min_size = "1GB"
        target = "t"

        [[rule]]
        name = "off"
        enabled = false
        target = "t"

        [[rule]]
        name = "first"
        priority = 1
        include = ["*.mov"]
        target = "t"

        [[rule]]
        name = "pdf"
        extensions = ["pdf"]
        target = "t"

        [[rule]]
        name = "never-reached"
        target = "t"
        "#,
    );
    let why = set.explain(&file("/x/report.pdf", 10), NOW);
    assert_eq!(why.matched, Some(3));
    let tried: Vec<(usize, Condition)> = why.tried.iter().map(|t| (t.rule, t.failed)).collect();
    assert_eq!(
        tried,
        vec![(2, Condition::Include), (0, Condition::MinSize)]
    );

    let why = set.explain(&file("/x/a.mov", 10), NOW);
    assert_eq!(why.matched, Some(2));
    assert!(why.tried.is_empty());

    // Without a match every enabled rule is listed.
    let strict = toml(
        "[[rule]]\nname = \"a\"\nmin_size = 5\ntarget = \"t\"\n[[rule]]\nname = \"b\"\nmax_size = 1\ntarget = \"t\"",
    );
    let why = strict.explain(&file("/x", 3), NOW);
    assert_eq!(why.matched, None);
    assert_eq!(why.tried.len(), 2);
    assert_eq!(why.tried[1].detail, "size 3 is above max_size 1");
}

#[test]
fn condition_names() {
    assert_eq!(Condition::MinSize.to_string(), "min_size");
    assert_eq!(Condition::ExcludeExtensions.as_str(), "exclude_extensions");
    assert_eq!(Condition::AccessedBefore.to_string(), "accessed_before");
}

#[test]
fn target_rendering() {
    let set = toml(
        "[[rule]]\nname = \"cold\"\ntarget = \"file:///srv/tier2/{tenant}/{share}/{rule}/{yyyy}/{mm}/{dd}/{{raw}}\"",
    );
    let vars = TargetVars {
        tenant: "acme",
        share: "media",
        at: NOW + 40 * DAY + 5,
    };
    assert_eq!(
        set.rules()[0].render_target(&vars),
        "file:///srv/tier2/acme/media/cold/2026/02/10/{raw}"
    );
}

#[test]
fn unknown_placeholder_is_refused_at_parse_time() {
    let e =
        alto_rules::RuleSet::from_toml("[[rule]]\nname = \"cold\"\ntarget = \"s3://b/{bucket}/\"")
            .unwrap_err();
    assert_eq!(e.rule(), Some("cold"));
    assert_eq!(e.field(), Some("target"));
    assert!(
        e.to_string().contains("unknown placeholder {bucket}"),
        "{e}"
    );
}
