//! Property tests: the path normaliser is idempotent, both spellings of a path give the same
//! results, and the compiled set agrees with the naive one-rule-at-a-time evaluator.

use alto_rules::naive::NaiveEvaluator;
use alto_rules::{FileFacts, Micros, RuleSet, extension, normalized};
use proptest::prelude::*;
use serde_json::{Value, json};

const NOW: Micros = 1_767_225_600_000_000;
const SECOND: Micros = 1_000_000;

fn prefix() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "",
        "",
        "/",
        "/",
        "//",
        "\\\\",
        "C:\\",
        "c:/",
        "D:",
        "//nas/",
        "\\\\NAS\\",
        "C:",
        "///",
    ])
}

fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "a",
            "b",
            "A",
            "ab",
            "keep",
            "Keep",
            "x.txt",
            "X.TXT",
            "y.tmp",
            "Thumbs.db",
            "thumbs.DB",
            ".bashrc",
            "a.",
            "é.PDF",
            "É.pdf",
            "render_v12.mov",
            "a*b",
            "axb",
            "file7.txt",
            "nas",
            "Data",
            "data",
            "C:",
            "..",
            ".",
        ])
        .prop_map(str::to_owned),
        "[abAB.é*:]{0,5}",
    ]
}

fn separator() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec!["/", "/", "\\", "//", "\\/", "\\\\"])
}

/// Paths of every shape: POSIX, relative, drive-letter, UNC, odd separators.
fn path() -> impl Strategy<Value = String> {
    (
        prefix(),
        prop::collection::vec((segment(), separator()), 0..5),
        segment(),
        prop::option::of(separator()),
    )
        .prop_map(|(prefix, middle, last, trailing)| {
            let mut p = prefix.to_owned();
            for (seg, sep) in middle {
                p.push_str(&seg);
                p.push_str(sep);
            }
            p.push_str(&last);
            p.push_str(trailing.unwrap_or(""));
            p
        })
}

fn glob() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "*.txt",
        "*.TXT",
        "**/keep/**",
        "/a/**",
        "a/**",
        "C:\\Data\\**",
        "c:/data/*",
        "{a,b}",
        "[ab]*",
        "a[*]b",
        "**/*.{tmp,pdf}",
        "?",
        "**",
        "//nas/**",
        "\\\\NAS\\**",
        "x.txt",
        "*/*",
        "**/b/*.txt",
        "Thumbs.db",
        "*.é*",
        "**/A/**",
        "[!a]*",
        "*",
        "/**/x.txt",
        "[[:upper:]]*",
        "**/[A-Z]/**",
        "[Z-y]*.txt",
        "[!.]*.{tmp,pdf}",
        "**/[é]*",
        "C:/[D-d]ata/**",
    ])
}

fn regex() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "a",
        "^/a",
        "b$",
        "[.]txt$",
        "(?i)thumbs",
        "keep/",
        "é",
        r"\d",
        "A.*b",
        "^C:/",
        "^//",
        "(?-i)Data",
        "x|y",
    ])
}

fn extension_name() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "txt", "TXT", ".pdf", "tmp", "É", "mov", "db", "bashrc",
    ])
}

fn duration() -> impl Strategy<Value = Option<String>> {
    prop::option::weighted(0.3, (0..400u32).prop_map(|s| format!("{s}s")))
}

fn rule(i: usize) -> impl Strategy<Value = Value> {
    (
        (0..3i64, prop::bool::weighted(0.85)),
        (
            prop::option::weighted(0.5, prop::collection::vec(glob(), 0..3)),
            prop::option::weighted(0.3, prop::collection::vec(glob(), 1..3)),
            prop::option::weighted(0.3, regex()),
        ),
        (
            prop::option::weighted(0.3, 0..1500u64),
            prop::option::weighted(0.3, 0..1500u64),
        ),
        (duration(), duration(), duration(), duration()),
        (
            prop::option::weighted(0.3, prop::collection::vec(extension_name(), 1..3)),
            prop::option::weighted(0.2, prop::collection::vec(extension_name(), 1..3)),
        ),
    )
        .prop_map(
            move |((priority, enabled), (inc, exc, re), (a, b), ages, (ext, xext))| {
                let mut r = json!({"name": format!("r{i}"), "target": "t", "priority": priority,
                               "enabled": enabled});
                let o = r.as_object_mut().expect("object");
                let mut put = |k: &str, v: Option<Value>| {
                    if let Some(v) = v {
                        o.insert(k.to_owned(), v);
                    }
                };
                put("include", inc.map(|v| json!(v)));
                put("exclude", exc.map(|v| json!(v)));
                put("regex", re.map(|v| json!(v)));
                let (min, max) = match (a, b) {
                    (Some(a), Some(b)) => (Some(a.min(b)), Some(a.max(b))),
                    other => other,
                };
                put("min_size", min.map(|v| json!(v)));
                put("max_size", max.map(|v| json!(format!("{v}B"))));
                put("accessed_before", ages.0.map(|v| json!(v)));
                put("accessed_after", ages.1.map(|v| json!(v)));
                put("modified_before", ages.2.map(|v| json!(v)));
                put("modified_after", ages.3.map(|v| json!(v)));
                put("extensions", ext.map(|v| json!(v)));
                put("exclude_extensions", xext.map(|v| json!(v)));
                r
            },
        )
}

fn rule_set() -> impl Strategy<Value = RuleSet> {
    let mode = prop::sample::select(vec![json!("auto"), json!(true), json!(false)]);
    let rules = (1..8usize).prop_flat_map(|n| (0..n).map(rule).collect::<Vec<_>>());
    (mode, rules).prop_map(|(mode, rules)| {
        let value = json!({"case_sensitive": mode, "rule": rules});
        RuleSet::from_json_value(&value).unwrap_or_else(|e| panic!("{e}: {value}"))
    })
}

/// A time a few hundred seconds around the durations' boundaries (or none).
fn time() -> impl Strategy<Value = Option<Micros>> {
    prop::option::weighted(0.8, (-20..450i64).prop_map(|s| NOW - s * SECOND))
}

#[derive(Debug, Clone)]
struct File {
    path: String,
    size: u64,
    accessed: Option<Micros>,
    modified: Option<Micros>,
}

impl File {
    fn facts(&self) -> FileFacts<'_> {
        FileFacts {
            path: &self.path,
            size: self.size,
            accessed: self.accessed,
            modified: self.modified,
        }
    }
}

fn files() -> impl Strategy<Value = Vec<File>> {
    prop::collection::vec(
        (path(), 0..1600u64, time(), time()).prop_map(|(path, size, accessed, modified)| File {
            path,
            size,
            accessed,
            modified,
        }),
        1..24,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn normaliser_is_idempotent(p in prop_oneof![path(), r"[ab/\\.:é]{0,16}", any::<String>()]) {
        let once = normalized(&p);
        prop_assert_eq!(normalized(&once), once.clone());
        prop_assert!(!once.contains('\\'));
        prop_assert!(!once.contains("//") || (once.starts_with("//") && !once[1..].contains("//")));
        prop_assert_eq!(extension(&p), extension(&once));
    }

    #[test]
    fn both_spellings_normalise_alike(p in prop_oneof![path(), r"[ab/\\.:é]{0,16}"]) {
        let slashes = p.replace('\\', "/");
        let backslashes = p.replace('/', "\\");
        prop_assert_eq!(normalized(&slashes), normalized(&p));
        prop_assert_eq!(normalized(&backslashes), normalized(&p));
    }

    #[test]
    fn compiled_set_agrees_with_naive(set in rule_set(), files in files(), now_shift in -5..5i64) {
        let naive = NaiveEvaluator::new(&set);
        let mut scratch = set.scratch();
        let now = NOW + now_shift * SECOND;
        for f in &files {
            let facts = f.facts();
            let got = set.evaluate(&facts, now, &mut scratch);
            prop_assert_eq!(got, naive.evaluate(&facts, now), "file {:?}, rules {:#?}", f, set.rules());
            let why = set.explain(&facts, now);
            prop_assert_eq!(got, why.matched);
            // Every tried rule really fails, and comes before the match in evaluation order.
            for t in &why.tried {
                prop_assert!(set.rules()[t.rule].enabled);
            }
        }
    }

    #[test]
    fn both_spellings_evaluate_alike(set in rule_set(), files in files()) {
        let mut scratch = set.scratch();
        for f in &files {
            let got = set.evaluate(&f.facts(), NOW, &mut scratch);
            for spelled in [f.path.replace('\\', "/"), f.path.replace('/', "\\")] {
                let other = FileFacts { path: &spelled, ..f.facts() };
                prop_assert_eq!(set.evaluate(&other, NOW, &mut scratch), got, "{:?} vs {:?}", f.path, spelled);
            }
        }
    }
}
