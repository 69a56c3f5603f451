//! The three formats, reading from files, and the example rule set of the README.

use std::path::Path;

use alto_rules::{CaseMode, Format, Rule, RuleErrorKind, RuleSet};

const TOML: &str = r#"
case_sensitive = "auto"

[[rule]]
name = "cold-video"
priority = 10
enabled = true
include = ["**/*.mov", 'C:\Media\**']
exclude = ["**/keep/**"]
regex = 'render_v\d+'
min_size = "100MB"
max_size = "10GiB"
accessed_before = "365d"
accessed_after = "30d"
modified_before = "2y"
modified_after = "7d"
extensions = ["mov", ".MP4"]
exclude_extensions = ["tmp"]
target = "file:///srv/tier2/{tenant}/{yyyy}/{mm}/{dd}/"

[[rule]]
name = "bytes"
min_size = 4096
enabled = false
target = "s3://b/{rule}"
"#;

const JSON: &str = r#"{
  "case_sensitive": "auto",
  "rule": [
    {
      "name": "cold-video",
      "priority": 10,
      "enabled": true,
      "include": ["**/*.mov", "C:\\Media\\**"],
      "exclude": ["**/keep/**"],
      "regex": "render_v\\d+",
      "min_size": "100MB",
      "max_size": "10GiB",
      "accessed_before": "365d",
      "accessed_after": "30d",
      "modified_before": "2y",
      "modified_after": "7d",
      "extensions": ["mov", ".MP4"],
      "exclude_extensions": ["tmp"],
      "target": "file:///srv/tier2/{tenant}/{yyyy}/{mm}/{dd}/"
    },
    { "name": "bytes", "min_size": 4096, "enabled": false, "target": "s3://b/{rule}", "regex": null }
  ]
}"#;

const YAML: &str = r#"
case_sensitive: auto
rule:
  - name: cold-video
    priority: 10
    enabled: true
    include: ["**/*.mov", 'C:\Media\**']
    exclude: ["**/keep/**"]
    regex: 'render_v\d+'
    min_size: 100MB
    max_size: 10GiB
    accessed_before: 365d
    accessed_after: 30d
    modified_before: 2y
    modified_after: 7d
    extensions: [mov, .MP4]
    exclude_extensions: [tmp]
    target: "file:///srv/tier2/{tenant}/{yyyy}/{mm}/{dd}/"
  - name: bytes
    min_size: 4096
    enabled: false
    target: "s3://b/{rule}"
"#;

const DAY: i64 = 86_400_000_000;

fn expected() -> Vec<Rule> {
    vec![
        Rule {
            name: "cold-video".into(),
            priority: 10,
            enabled: true,
            position: 0,
            include: vec!["**/*.mov".into(), r"C:\Media\**".into()],
            exclude: vec!["**/keep/**".into()],
            regex: Some(r"render_v\d+".into()),
            min_size: Some(100_000_000),
            max_size: Some(10 << 30),
            accessed_before: Some(365 * DAY),
            accessed_after: Some(30 * DAY),
            modified_before: Some(730 * DAY),
            modified_after: Some(7 * DAY),
            extensions: vec!["mov".into(), "mp4".into()],
            exclude_extensions: vec!["tmp".into()],
            target: "file:///srv/tier2/{tenant}/{yyyy}/{mm}/{dd}/".into(),
        },
        Rule {
            name: "bytes".into(),
            priority: 100,
            enabled: false,
            position: 1,
            include: vec![],
            exclude: vec![],
            regex: None,
            min_size: Some(4096),
            max_size: None,
            accessed_before: None,
            accessed_after: None,
            modified_before: None,
            modified_after: None,
            extensions: vec![],
            exclude_extensions: vec![],
            target: "s3://b/{rule}".into(),
        },
    ]
}

#[test]
fn three_formats_give_the_same_rule_set() {
    let want = expected();
    for (format, text) in [
        (Format::Toml, TOML),
        (Format::Json, JSON),
        (Format::Yaml, YAML),
    ] {
        let set = RuleSet::parse(text, format).unwrap_or_else(|e| panic!("{format:?}: {e}"));
        assert_eq!(set.rules(), want.as_slice(), "{format:?}");
        assert_eq!(set.case_mode(), CaseMode::Auto);
    }
    assert_eq!(RuleSet::from_toml(TOML).unwrap().rules(), want.as_slice());
    assert_eq!(RuleSet::from_json(JSON).unwrap().rules(), want.as_slice());
    assert_eq!(RuleSet::from_yaml(YAML).unwrap().rules(), want.as_slice());
}

#[test]
fn case_modes_in_each_format() {
    let cases = [
        (
            "case_sensitive = true",
            "{\"case_sensitive\": true}",
            "case_sensitive: true",
            CaseMode::Sensitive,
        ),
        (
            "case_sensitive = false",
            "{\"case_sensitive\": false}",
            "case_sensitive: false",
            CaseMode::Insensitive,
        ),
        ("", "{}", "", CaseMode::Auto),
    ];
    for (toml, json, yaml, want) in cases {
        assert_eq!(RuleSet::from_toml(toml).unwrap().case_mode(), want);
        assert_eq!(RuleSet::from_json(json).unwrap().case_mode(), want);
        assert_eq!(RuleSet::from_yaml(yaml).unwrap().case_mode(), want);
    }
}

#[test]
fn from_path_picks_the_format_by_extension() {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in [
        ("r.toml", TOML),
        ("r.json", JSON),
        ("r.yaml", YAML),
        ("r.YML", YAML),
        ("rules.conf", TOML),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let set = RuleSet::from_path(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(set.rules(), expected().as_slice(), "{name}");
    }
}

#[test]
fn from_path_errors_name_the_file() {
    let missing = Path::new("/nonexistent/alto/rules.toml");
    let e = RuleSet::from_path(missing).unwrap_err();
    assert_eq!(e.kind(), RuleErrorKind::Io);
    assert_eq!(e.path(), Some(missing));
    assert!(
        e.to_string().starts_with("/nonexistent/alto/rules.toml: "),
        "{e}"
    );

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.json");
    std::fs::write(
        &path,
        r#"{"rule": [{"name": "x", "target": "t", "min_size": "1XB"}]}"#,
    )
    .unwrap();
    let e = RuleSet::from_path(&path).unwrap_err();
    assert_eq!(e.kind(), RuleErrorKind::BadUnit);
    let text = e.to_string();
    assert!(text.contains("bad.json"), "{text}");
    assert!(text.contains("rule \"x\", field min_size"), "{text}");
}

#[test]
fn readme_rule_set_parses() {
    let readme = include_str!("../README.md");
    let start = readme.find("```toml\n").unwrap() + "```toml\n".len();
    let end = start + readme[start..].find("```").unwrap();
    let set = RuleSet::from_toml(&readme[start..end]).unwrap();
    assert_eq!(set.rules().len(), 2);
    assert!(!set.rules()[1].enabled);
}

#[test]
fn json_value_entry_point() {
    let value: serde_json::Value = serde_json::from_str(JSON).unwrap();
    let set = RuleSet::from_json_value(&value).unwrap();
    assert_eq!(set.rules(), expected().as_slice());
    assert_eq!(set.rule_by_name("bytes").map(|r| r.position), Some(1));
    assert!(set.rule_by_name("nope").is_none());
}
