//! The `alto` binary end to end: outputs, exit codes and messages.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn alto(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_alto"))
        .args(args)
        .output()
        .expect("run alto")
}

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

fn ex(name: &str) -> String {
    examples().join(name).display().to_string()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let p = dir.path().join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

const NOW: &str = "2025-11-01T00:00:00Z";

#[test]
fn rules_check_summarises_and_refuses() {
    let o = alto(&["rules", "check", &ex("rules.toml")]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("6 rules (5 enabled)"), "{out}");
    assert!(out.contains("cold-video"));
    let dir = tempfile::tempdir().unwrap();
    let bad = write(
        &dir,
        "bad.toml",
        "[[rule]]\nname = \"x\"\nmin_size = \"10XB\"\ntarget = \"file:///t/\"\n",
    );
    let o = alto(&["rules", "check", &bad]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("\"x\"") && err.contains("min_size"), "{err}");
    let o = alto(&["rules", "check", "/no/such/rules.toml"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("/no/such/rules.toml"));
}

#[test]
fn eval_gives_one_json_line_per_row_in_order() {
    let o = alto(&[
        "rules",
        "eval",
        "--rules",
        &ex("rules.toml"),
        "--inventory",
        &ex("inventory.csv"),
        "--now",
        NOW,
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let lines: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let csv = std::fs::read_to_string(examples().join("inventory.csv")).unwrap();
    assert_eq!(lines.len(), csv.lines().count() - 1);
    assert_eq!(
        lines[0]["path"], r"C:\Data\media\launch\final_cut.mov",
        "path exactly as in the inventory"
    );
    assert_eq!(lines[0]["rule"], "cold-video");
    assert_eq!(
        lines[1]["rule"], "big-and-cold",
        "keep/ excluded from cold-video, caught later"
    );
    assert_eq!(
        lines[2]["rule"],
        serde_json::Value::Null,
        "recently used file stays"
    );
    assert!(lines[0].get("explain").is_none());
}

#[test]
fn eval_explain_names_failed_conditions() {
    let o = alto(&[
        "rules",
        "eval",
        "--rules",
        &ex("rules.toml"),
        "--inventory",
        &ex("inventory.csv"),
        "--now",
        NOW,
        "--explain",
    ]);
    assert!(o.status.success());
    let first_two: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .take(2)
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // The first file matched the first enabled rule: nothing failed before it.
    assert_eq!(first_two[0]["explain"], serde_json::json!([]));
    let ex1 = first_two[1]["explain"].as_array().unwrap();
    assert_eq!(ex1[0]["rule"], "cold-video");
    assert_eq!(ex1[0]["failed"], "exclude");
    assert!(
        ex1.iter().all(|e| e["rule"] != "pilot-everything-old"),
        "disabled rules are not tried"
    );
}

#[test]
fn plan_json_has_the_documented_fields() {
    let o = alto(&[
        "plan",
        "--rules",
        &ex("rules.toml"),
        "--inventory",
        &ex("inventory.csv"),
        "--now",
        NOW,
        "--format",
        "json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    for key in [
        "files_scanned",
        "files_matched",
        "bytes_matched",
        "bytes_saved",
        "estimated_seconds",
        "by_rule",
        "unmatched_rules",
        "jobs",
    ] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    assert_eq!(v["files_scanned"], 19);
    let job = &v["jobs"][0];
    for key in ["rule", "target", "files", "bytes", "estimated_seconds"] {
        assert!(job.get(key).is_some(), "job missing {key}");
    }
    let matched: u64 = v["by_rule"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["files"].as_u64().unwrap())
        .sum();
    assert_eq!(v["files_matched"].as_u64().unwrap(), matched);
}

#[test]
fn plan_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_alto"))
        .current_dir(dir.path())
        .args([
            "plan",
            "--rules",
            &ex("rules.toml"),
            "--inventory",
            &ex("inventory.csv"),
            "--now",
            NOW,
        ])
        .output()
        .unwrap();
    assert!(o.status.success());
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "a dry run leaves no file behind"
    );
}

#[test]
fn rejected_rows_exit_zero_unless_strict() {
    let dir = tempfile::tempdir().unwrap();
    let inv = write(
        &dir,
        "inv.csv",
        "file_path,file_size\n/a.mov,1\n/b,notanumber\n/c,3\n",
    );
    let rules = write(
        &dir,
        "r.toml",
        "[[rule]]\nname = \"all\"\ntarget = \"file:///t/\"\n",
    );
    let o = alto(&["rules", "eval", "--rules", &rules, "--inventory", &inv]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(stdout(&o).lines().count(), 2, "good rows still come out");
    let err = stderr(&o);
    assert!(
        err.contains("inv.csv:3: column file_size: bad size"),
        "{err}"
    );
    assert!(err.contains("2 rows accepted, 1 rejected"), "{err}");
    let o = alto(&[
        "rules",
        "eval",
        "--strict",
        "--rules",
        &rules,
        "--inventory",
        &inv,
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(stdout(&o).lines().count(), 2);
    let o = alto(&["plan", "--strict", "--rules", &rules, "--inventory", &inv]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn not_an_inventory_exits_two() {
    let dir = tempfile::tempdir().unwrap();
    let rules = write(
        &dir,
        "r.toml",
        "[[rule]]\nname = \"all\"\ntarget = \"file:///t/\"\n",
    );
    let bin = dir.path().join("x.bin");
    std::fs::write(&bin, [0u8, 159, 146, 150, 0, 1, 2]).unwrap();
    let o = alto(&[
        "plan",
        "--rules",
        &rules,
        "--inventory",
        &bin.display().to_string(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("not an inventory: binary data"),
        "{}",
        stderr(&o)
    );
    let inv = write(&dir, "inv.csv", "name,size\n/a,1\n");
    let o = alto(&["plan", "--rules", &rules, "--inventory", &inv]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("--map file_path=HEADER"),
        "{}",
        stderr(&o)
    );
    let o = alto(&[
        "plan",
        "--rules",
        &rules,
        "--inventory",
        &inv,
        "--map",
        "file_path=name,file_size=size",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn usage_errors_exit_two() {
    assert_eq!(alto(&["plan"]).status.code(), Some(2));
    let o = alto(&[
        "plan",
        "--rules",
        &ex("rules.toml"),
        "--inventory",
        &ex("inventory.csv"),
        "--now",
        "tomorrow",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--now"));
    let o = alto(&[
        "plan",
        "--rules",
        &ex("rules.toml"),
        "--inventory",
        &ex("inventory.csv"),
        "--bandwidth",
        "fast",
    ]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn demo_plans_a_generated_inventory() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo.csv");
    let o = alto(&[
        "demo",
        "--files",
        "5000",
        "--format",
        "json",
        "--out",
        &out.display().to_string(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["files_scanned"], 5000);
    assert_eq!(v["rows_rejected"], 0);
    let matched = v["files_matched"].as_u64().unwrap();
    assert!(
        matched > 100 && matched < 5000,
        "a realistic share has some but not all files cold: {matched}"
    );
    // Deterministic: the same seed gives the same inventory.
    let first = std::fs::read(&out).unwrap();
    let o = alto(&[
        "demo",
        "--files",
        "5000",
        "--quiet",
        "--out",
        &out.display().to_string(),
    ]);
    assert!(o.status.success());
    assert_eq!(std::fs::read(&out).unwrap(), first);
}

#[test]
fn demo_keeps_its_state_in_the_store_it_is_given() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("demo.db").display());
    let demo = |format: &str| {
        let o = alto(&[
            "demo", "--files", "3000", "--format", format, "--store", &url,
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        o
    };
    let o = demo("json");
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["files_scanned"], 3000, "planned from the store's records");
    assert!(
        stderr(&o).contains("new 3,000, changed 0, unchanged 0, missing 0"),
        "{}",
        stderr(&o)
    );
    // The files are in the store for the other commands, and a second demo finds them unchanged.
    let o = alto(&[
        "find", "--store", &url, "--tenant", "demo", "--format", "json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o).lines().count(), 3000);
    let o = demo("table");
    assert!(
        stderr(&o).contains("new 0, changed 0, unchanged 3,000, missing 0"),
        "{}",
        stderr(&o)
    );
}
