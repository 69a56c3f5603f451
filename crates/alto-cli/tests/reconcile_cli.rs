//! `alto reconcile` against the embedded SQLite store and a `file://` target: files tiered by
//! `alto run`, one brought back and tiered again (its first object left behind), one object
//! lost, a stub copied; the table, the JSON, `--apply`, `--grace` and the audit trail.

use std::path::Path;
use std::process::{Command, Output};

fn alto_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_alto"))
        .current_dir(dir)
        .env_remove("ALTO_STORE")
        .args(args)
        .output()
        .expect("run alto")
}

fn ok(o: &Output) -> String {
    assert!(
        o.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout.clone()).unwrap()
}

/// Every regular file beneath `dir`.
fn files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else {
                out.push(e.path());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn reconcile_through_the_command() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let store = format!("sqlite://{}/alto.db", d.display());
    let s = ["--store", store.as_str()];
    let alto = |args: &[&str]| alto_in(d, &[args, &s].concat());
    let primary = d.join("primary");
    std::fs::create_dir_all(&primary).unwrap();
    let mut csv = String::from("file_path,file_size,last_modified,last_accessed\n");
    for name in ["a.mov", "b.mov", "c.mov"] {
        let p = primary.join(name);
        std::fs::write(&p, vec![7u8; 5000]).unwrap();
        let mtime = std::fs::metadata(&p)
            .unwrap()
            .modified()
            .unwrap()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        csv.push_str(&format!("{},5000,{mtime},1500000000\n", p.display()));
    }
    let inv = d.join("inventory.csv");
    std::fs::write(&inv, csv).unwrap();
    let rules = d.join("rules.toml");
    std::fs::write(
        &rules,
        format!(
            "[[rule]]\nname = \"cold\"\naccessed_before = \"30d\"\ntarget = \"file://{}/tier/\"\n",
            d.display()
        ),
    )
    .unwrap();
    ok(&alto(&["tenant", "create", "acme"]));
    ok(&alto(&[
        "share",
        "create",
        "media",
        "--tenant",
        "acme",
        "--root",
        primary.to_str().unwrap(),
    ]));
    ok(&alto(&[
        "ingest",
        "--tenant",
        "acme",
        "--share",
        "media",
        inv.to_str().unwrap(),
    ]));
    let tier = || {
        ok(&alto(&[
            "plan",
            "--tenant",
            "acme",
            "--rules",
            rules.to_str().unwrap(),
            "--commit",
        ]));
        ok(&alto(&["run", "--once", "--quiet"]))
    };
    assert!(tier().contains("3 files stubbed"));
    // Nothing to find yet.
    let clean = ok(&alto(&["reconcile", "--tenant", "acme"]));
    assert!(clean.contains("3 stubs checked"), "{clean}");
    assert!(clean.contains("LOST                 0"), "{clean}");
    // b back and tiered again; a's object lost; a copy of c's stub.
    ok(&alto(&[
        "rehydrate",
        "--tenant",
        "acme",
        primary.join("b.mov").to_str().unwrap(),
    ]));
    assert!(tier().contains("1 files stubbed"));
    let objects = files(&d.join("tier"));
    assert_eq!(objects.len(), 4, "{objects:?}");
    let a = objects
        .iter()
        .find(|p| p.to_string_lossy().contains("a.mov"))
        .unwrap();
    std::fs::remove_file(a).unwrap();
    std::fs::copy(primary.join("c.mov"), primary.join("copy.mov")).unwrap();

    let later = ["--now", "2100-01-01T00:00:00Z"];
    let json = ok(&alto(
        &[
            &["reconcile", "--tenant", "acme", "--format", "json"][..],
            &later,
        ]
        .concat(),
    ));
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["lost"].as_array().unwrap().len(), 1, "{v}");
    assert_eq!(v["lost"][0]["reason"], "missing");
    assert!(v["lost"][0]["path"].as_str().unwrap().ends_with("a.mov"));
    assert_eq!(v["orphans"].as_array().unwrap().len(), 1, "{v}");
    assert_eq!(v["orphans"][0]["action"], "would_delete");
    assert_eq!(v["unknown_stubs"].as_array().unwrap().len(), 1);
    assert!(
        v["unknown_stubs"][0]["path"]
            .as_str()
            .unwrap()
            .ends_with("copy.mov")
    );
    assert_eq!(v["deleted"], 0);
    assert_eq!(files(&d.join("tier")).len(), 3, "a dry run deletes nothing");
    // The flag is on the file record: `alto find` shows it, `--lost` lists only such files.
    let lost = ok(&alto(&[
        "find", "--tenant", "acme", "--lost", "--format", "json",
    ]));
    let lines: Vec<serde_json::Value> = lost
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1, "{lost}");
    assert!(lines[0]["path"].as_str().unwrap().ends_with("a.mov"));
    assert_eq!(lines[0]["state"], "STUBBED");
    assert_eq!(lines[0]["lost"]["reason"], "missing");
    let table = ok(&alto(&["find", "--tenant", "acme"]));
    let a_line = table.lines().find(|l| l.ends_with("a.mov")).unwrap();
    assert!(a_line.starts_with("LOST "), "{table}");
    let c_line = table.lines().find(|l| l.ends_with("c.mov")).unwrap();
    assert!(c_line.starts_with("STUBBED "), "{table}");

    let table = ok(&alto(
        &[&["reconcile", "--tenant", "acme"][..], &later].concat(),
    ));
    for want in [
        "LOST                 1  (1 missing)",
        "ORPHANS              1",
        "1 would be deleted",
        "UNKNOWN STUBS        1",
        "unknown-stub",
        "copy.mov",
        "(dry run: nothing deleted)",
    ] {
        assert!(table.contains(want), "{want:?} in:\n{table}");
    }

    // A grace period under an hour is refused; a bad one too.
    for grace in ["10m", "soon"] {
        let o = alto(&["reconcile", "--tenant", "acme", "--grace", grace]);
        assert_eq!(o.status.code(), Some(2), "{grace}: {o:?}");
    }
    // Within the grace period nothing goes, even with --apply.
    let now = ok(&alto(&["reconcile", "--tenant", "acme", "--apply"]));
    assert!(now.contains("0 deleted"), "{now}");
    assert_eq!(files(&d.join("tier")).len(), 3);
    // Applied, later: the first incarnation of b goes.
    let applied = ok(&alto(
        &[&["reconcile", "--tenant", "acme", "--apply"][..], &later].concat(),
    ));
    assert!(applied.contains("1 deleted"), "{applied}");
    assert_eq!(
        files(&d.join("tier")).len(),
        2,
        "b's current object and c's"
    );

    let trail = ok(&alto(&[
        "audit",
        "--tenant",
        "acme",
        "--kind",
        "reconcile.*",
        "--format",
        "json",
    ]));
    let t: serde_json::Value = serde_json::from_str(&trail).unwrap();
    let kinds: Vec<&str> = t["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    for k in [
        "reconcile.run",
        "reconcile.lost",
        "reconcile.orphan",
        "reconcile.orphan_deleted",
        "reconcile.unknown_stub",
    ] {
        assert!(kinds.contains(&k), "{k} in {kinds:?}");
    }
    let deleted = t["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "reconcile.orphan_deleted")
        .unwrap();
    assert!(deleted["parent"].is_i64(), "under its run: {deleted}");
    assert_eq!(deleted["actor"]["source"], "cli:reconcile");
}
