//! The `alto` command against the embedded SQLite store: ingest, find, plan, commit, run,
//! rehydrate, jobs, feeds — each a separate process sharing one database file, as a user runs them.

use std::path::{Path, PathBuf};
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

fn example(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(name)
        .display()
        .to_string()
}

#[test]
fn default_store_ingest_find_plan() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let o = alto_in(d, &["tenant", "create", "acme"]);
    ok(&o);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("using sqlite://alto.db"),
        "says which store once"
    );
    assert!(
        d.join("alto.db").exists(),
        "the default store is created on first use"
    );
    let first = ok(&alto_in(
        d,
        &[
            "ingest",
            "--tenant",
            "acme",
            "--share",
            "data",
            "--full-scan",
            &example("inventory.csv"),
        ],
    ));
    assert!(
        first.contains("accepted 19, rejected 0, new 19, changed 0, unchanged 0, missing 0"),
        "{first}"
    );
    let again = ok(&alto_in(
        d,
        &[
            "ingest",
            "--tenant",
            "acme",
            "--share",
            "data",
            "--full-scan",
            &example("inventory.csv"),
        ],
    ));
    assert!(
        again.contains("new 0, changed 0, unchanged 19, missing 0"),
        "{again}"
    );
    let found = ok(&alto_in(
        d,
        &[
            "find", "--tenant", "acme", "--glob", "*.mov", "--format", "json",
        ],
    ));
    let lines: Vec<serde_json::Value> = found
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3, "{found}");
    assert!(lines.iter().all(|l| l["accessed_source"] == "initial_scan"));
    // Planning from the store agrees with planning the inventory itself.
    let now = "2025-11-01T00:00:00Z";
    let from_store: serde_json::Value = serde_json::from_str(&ok(&alto_in(
        d,
        &[
            "plan",
            "--tenant",
            "acme",
            "--rules",
            &example("rules.toml"),
            "--now",
            now,
            "--format",
            "json",
        ],
    )))
    .unwrap();
    let from_file: serde_json::Value = serde_json::from_str(&ok(&alto_in(
        d,
        &[
            "plan",
            "--inventory",
            &example("inventory.csv"),
            "--rules",
            &example("rules.toml"),
            "--now",
            now,
            "--format",
            "json",
        ],
    )))
    .unwrap();
    assert_eq!(from_store["files_matched"], from_file["files_matched"]);
    assert_eq!(from_store["bytes_matched"], from_file["bytes_matched"]);
    // Unknown tenant: a clear message and exit 2.
    let o = alto_in(d, &["find", "--tenant", "nobody"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("nobody"));
}

fn write_tree(root: &Path, n: usize) -> (PathBuf, Vec<PathBuf>) {
    let mut csv = String::from("file_path,file_size,last_modified,last_accessed\n");
    let mut paths = Vec::new();
    for i in 0..n {
        let p = root.join(format!("media/clip {i}.mov"));
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, vec![i as u8; 10_000 + i]).unwrap();
        let m = std::fs::metadata(&p).unwrap();
        let mtime = m
            .modified()
            .unwrap()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        csv.push_str(&format!(
            "\"{}\",{},{mtime},1500000000\n",
            p.display(),
            m.len()
        ));
        paths.push(p);
    }
    let inv = root.join("inventory.csv");
    std::fs::write(&inv, csv).unwrap();
    (inv, paths)
}

#[test]
fn commit_run_rehydrate_through_the_command() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let store = format!("sqlite://{}/alto.db", d.display());
    let (inv, paths) = write_tree(&d.join("primary"), 6);
    let rules = d.join("rules.toml");
    std::fs::write(&rules, format!("[[rule]]\nname = \"cold\"\naccessed_before = \"30d\"\ntarget = \"file://{}/tier/{{tenant}}/\"\n", d.display())).unwrap();
    let s = ["--store", store.as_str()];
    ok(&alto_in(
        d,
        &[&["tenant", "create", "acme"][..], &s].concat(),
    ));
    let primary = d.join("primary").display().to_string();
    ok(&alto_in(
        d,
        &[
            &[
                "share", "create", "media", "--tenant", "acme", "--root", &primary,
            ][..],
            &s,
        ]
        .concat(),
    ));
    ok(&alto_in(
        d,
        &[
            &[
                "ingest",
                "--tenant",
                "acme",
                "--share",
                "media",
                inv.to_str().unwrap(),
            ][..],
            &s,
        ]
        .concat(),
    ));
    let o = alto_in(
        d,
        &[
            &[
                "plan",
                "--tenant",
                "acme",
                "--rules",
                rules.to_str().unwrap(),
                "--commit",
                "--batch-size",
                "4",
            ][..],
            &s,
        ]
        .concat(),
    );
    ok(&o);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("committed: 2 jobs, 6 files planned"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let jobs = ok(&alto_in(d, &[&["jobs", "--json"][..], &s].concat()));
    assert_eq!(
        jobs.lines().filter(|l| l.contains("\"queued\"")).count(),
        2,
        "{jobs}"
    );
    let run = ok(&alto_in(d, &[&["run", "--once"][..], &s].concat()));
    assert!(
        run.contains("2 jobs: 6 files stubbed, 0 skipped, 0 failed; 60.0 KB moved in "),
        "the summary counts every file and byte (6 files of 10,000 to 10,005 bytes): {run}"
    );
    for p in &paths {
        assert!(
            std::fs::read(p).unwrap().starts_with(b"#ALTO-STUB v1\n"),
            "{} is a stub",
            p.display()
        );
    }
    let stubbed = ok(&alto_in(
        d,
        &[
            &[
                "find", "--tenant", "acme", "--state", "stubbed", "--format", "json",
            ][..],
            &s,
        ]
        .concat(),
    ));
    assert_eq!(stubbed.lines().count(), 6);
    let again = ok(&alto_in(
        d,
        &[
            &[
                "plan",
                "--tenant",
                "acme",
                "--rules",
                rules.to_str().unwrap(),
                "--commit",
            ][..],
            &s,
        ]
        .concat(),
    ));
    assert!(again.contains("0 skipped") || !again.is_empty());
    let back = ok(&alto_in(
        d,
        &[
            &["rehydrate", "--tenant", "acme", paths[0].to_str().unwrap()][..],
            &s,
        ]
        .concat(),
    ));
    assert!(back.contains("1 files rehydrated"), "{back}");
    assert_eq!(std::fs::read(&paths[0]).unwrap(), vec![0u8; 10_000]);
    let done = ok(&alto_in(
        d,
        &[&["jobs", "--state", "done", "--json"][..], &s].concat(),
    ));
    assert_eq!(done.lines().count(), 2, "{done}");

    // The trail: what each command wrote, with the command as the source.
    let audit = |extra: &[&str]| -> serde_json::Value {
        let out = ok(&alto_in(
            d,
            &[
                &["audit", "--tenant", "acme", "--format", "json"][..],
                extra,
                &s,
            ]
            .concat(),
        ));
        serde_json::from_str(&out).unwrap()
    };
    let all = audit(&[]);
    let events = all["events"].as_array().unwrap();
    let count = |kind: &str| events.iter().filter(|e| e["kind"] == kind).count();
    assert_eq!(count("ingest.scan"), 1);
    assert_eq!(count("tier.plan"), 6);
    assert_eq!(count("tier.stub"), 6);
    assert_eq!(count("tier.rehydrate"), 1);
    assert_eq!(count("job.done"), 2);
    for e in events {
        for field in ["id", "time", "kind", "subject", "actor", "parent", "detail"] {
            assert!(e.get(field).is_some(), "{field} in {e}");
        }
    }
    let source = |kind: &str| {
        events.iter().find(|e| e["kind"] == kind).unwrap()["actor"]["source"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(source("ingest.scan"), "cli:ingest");
    assert_eq!(source("tier.plan"), "cli:plan");
    assert_eq!(source("tier.stub"), "cli:run");
    assert_eq!(source("tier.rehydrate"), "cli:rehydrate");
    // Filters, a page and the rest from its cursor.
    let stubs = audit(&["--kind", "tier.stub"]);
    assert_eq!(stubs["events"].as_array().unwrap().len(), 6);
    let tier = audit(&["--kind", "tier.*", "--limit", "4"]);
    assert_eq!(tier["events"].as_array().unwrap().len(), 4);
    let cursor = tier["next_cursor"].as_str().unwrap().to_owned();
    let rest = audit(&["--kind", "tier.*", "--after", &cursor]);
    assert_eq!(
        rest["events"].as_array().unwrap().len(),
        count("tier.plan") + count("tier.stub") + count("tier.rehydrate") - 4
    );
    let scan = events.iter().find(|e| e["kind"] == "ingest.scan").unwrap();
    let children = audit(&["--children", &scan["id"].to_string()]);
    let kinds: Vec<_> = children["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(kinds, ["ingest.chunk", "ingest.finish"]);
    let subject = events
        .iter()
        .find(|e| e["kind"] == "tier.rehydrate")
        .unwrap()["subject"]
        .as_str()
        .unwrap()
        .to_owned();
    let about = audit(&["--subject", &subject]);
    let kinds: Vec<_> = about["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(kinds, ["tier.plan", "tier.stub", "tier.rehydrate"]);
    assert_eq!(audit(&["--since", "1h"])["events"], all["events"]);
    assert!(
        audit(&["--until", "1h"])["events"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    // A bad cursor or time is a usage error, not an empty answer.
    let bad = alto_in(
        d,
        &[&["audit", "--tenant", "acme", "--after", "nope"][..], &s].concat(),
    );
    assert_eq!(bad.status.code(), Some(2));
    let bad = alto_in(
        d,
        &[
            &["audit", "--tenant", "acme", "--since", "yesterday"][..],
            &s,
        ]
        .concat(),
    );
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn feed_lucid_and_events() {
    use alto_core::feed::generate::{TreeSpec, generate_tree};
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let store = format!("sqlite://{}/alto.db", d.display());
    let s = ["--store", store.as_str()];
    let paths: Vec<String> = (0..20).map(|i| format!("/Projects/shot_{i}.mov")).collect();
    let mut csv = String::from("file_path,file_size,last_accessed\n");
    for p in &paths {
        csv.push_str(&format!("/Volumes/fs{p},100,1500000000\n"));
    }
    std::fs::write(d.join("inv.csv"), csv).unwrap();
    let spec = TreeSpec {
        nodes: 2,
        events_per_node: 100,
        events_per_file: 30,
        start: 1_779_900_000_000_000,
        step: 1_000_000,
        paths,
        seed: 3,
    };
    let g = generate_tree(&d.join("filespace"), &spec).unwrap();
    ok(&alto_in(
        d,
        &[&["tenant", "create", "acme"][..], &s].concat(),
    ));
    let primary = d.join("primary").display().to_string();
    ok(&alto_in(
        d,
        &[
            &[
                "share", "create", "media", "--tenant", "acme", "--root", &primary,
            ][..],
            &s,
        ]
        .concat(),
    ));
    ok(&alto_in(
        d,
        &[
            &[
                "ingest",
                "--tenant",
                "acme",
                "--share",
                "fs",
                "--kind",
                "lucidlink",
                d.join("inv.csv").to_str().unwrap(),
            ][..],
            &s,
        ]
        .concat(),
    ));
    let first = ok(&alto_in(
        d,
        &[
            &[
                "feed",
                "lucid",
                "--tenant",
                "acme",
                "--share",
                "fs",
                "--mount-root",
                "/Volumes/fs",
                d.join("filespace").to_str().unwrap(),
            ][..],
            &s,
        ]
        .concat(),
    ));
    assert!(
        first.starts_with(&format!("read {}, ", g.events - g.audit_events)),
        "{first}"
    );
    assert!(first.contains("malformed 0"), "{first}");
    let second = ok(&alto_in(
        d,
        &[
            &[
                "feed",
                "lucid",
                "--tenant",
                "acme",
                "--share",
                "fs",
                d.join("filespace").to_str().unwrap(),
            ][..],
            &s,
        ]
        .concat(),
    ));
    assert!(
        second.starts_with("read 0, applied 0"),
        "the cursors survive between runs: {second}"
    );
    let found = ok(&alto_in(
        d,
        &[&["find", "--tenant", "acme", "--format", "json"][..], &s].concat(),
    ));
    assert!(found.contains("lucidlink_audit"), "{found}");
    let batch = d.join("batch.json");
    std::fs::write(&batch, r#"{"update_batch_id":"b1","updates":[{"file_path":"/Projects/shot_1.mov","last_accessed":"2026-01-01T00:00:00Z"},{"file_path":"/nope","last_accessed":"2020-01-01T00:00:00Z"},{"last_accessed":"x"}]}"#).unwrap();
    let out = ok(&alto_in(
        d,
        &[
            &[
                "feed",
                "events",
                "--tenant",
                "acme",
                "--share",
                "fs",
                batch.to_str().unwrap(),
            ][..],
            &s,
        ]
        .concat(),
    ));
    assert!(
        out.contains("read 3") && out.contains("unknown 1") && out.contains("malformed 1"),
        "{out}"
    );
    let again = ok(&alto_in(
        d,
        &[
            &[
                "feed",
                "events",
                "--tenant",
                "acme",
                "--share",
                "fs",
                batch.to_str().unwrap(),
            ][..],
            &s,
        ]
        .concat(),
    ));
    assert!(again.contains("duplicate 2"), "{again}");
}

#[test]
fn feed_rehydrates_accessed_stubs_under_the_rehydrate_policy() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let store = format!("sqlite://{}/alto.db", d.display());
    let s = ["--store", store.as_str()];
    let (inv, paths) = write_tree(&d.join("primary"), 3);
    let rules = d.join("rules.toml");
    std::fs::write(&rules, format!("[[rule]]\nname = \"cold\"\naccessed_before = \"30d\"\ntarget = \"file://{}/tier/{{tenant}}/\"\n", d.display())).unwrap();
    ok(&alto_in(
        d,
        &[
            &["tenant", "create", "acme", "--stub-access", "rehydrate"][..],
            &s,
        ]
        .concat(),
    ));
    let primary = d.join("primary").display().to_string();
    ok(&alto_in(
        d,
        &[
            &[
                "share", "create", "media", "--tenant", "acme", "--root", &primary,
            ][..],
            &s,
        ]
        .concat(),
    ));
    ok(&alto_in(
        d,
        &[
            &[
                "ingest",
                "--tenant",
                "acme",
                "--share",
                "media",
                inv.to_str().unwrap(),
            ][..],
            &s,
        ]
        .concat(),
    ));
    ok(&alto_in(
        d,
        &[
            &[
                "plan",
                "--tenant",
                "acme",
                "--rules",
                rules.to_str().unwrap(),
                "--commit",
            ][..],
            &s,
        ]
        .concat(),
    ));
    let run = ok(&alto_in(d, &[&["run", "--once"][..], &s].concat()));
    assert!(run.contains("3 files stubbed"), "{run}");
    assert!(
        std::fs::read(&paths[0])
            .unwrap()
            .starts_with(b"#ALTO-STUB v1\n")
    );
    // Someone opens the first file; the agent pushes the access.
    let now = alto_core::time::format_rfc3339(alto_core::time::now_micros());
    let batch = d.join("batch.json");
    std::fs::write(
        &batch,
        serde_json::json!({
            "update_batch_id": "b1",
            "updates": [{"file_path": paths[0].display().to_string(), "last_accessed": now}]
        })
        .to_string(),
    )
    .unwrap();
    let out = ok(&alto_in(
        d,
        &[
            &[
                "feed",
                "events",
                "--tenant",
                "acme",
                "--share",
                "media",
                batch.to_str().unwrap(),
            ][..],
            &s,
        ]
        .concat(),
    ));
    assert!(
        out.contains("stub accesses 1, rehydrated 1, rehydrate failed 0"),
        "{out}"
    );
    assert_eq!(std::fs::read(&paths[0]).unwrap(), vec![0u8; 10_000]);
    for p in &paths[1..] {
        assert!(
            std::fs::read(p).unwrap().starts_with(b"#ALTO-STUB v1\n"),
            "not accessed: {} stays a stub",
            p.display()
        );
    }
    let back = ok(&alto_in(
        d,
        &[
            &[
                "find",
                "--tenant",
                "acme",
                "--state",
                "rehydrated",
                "--format",
                "json",
            ][..],
            &s,
        ]
        .concat(),
    ));
    assert_eq!(back.lines().count(), 1, "{back}");
    assert!(back.contains("clip 0.mov"), "{back}");
}

/// Root must not act on a catalogue someone else could have planted: `run`, `rehydrate` and
/// `feed` refuse an SQLite store in a directory others may write, or a file another user owns.
#[test]
fn run_refuses_a_store_others_could_plant() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let shared = dir.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o777)).unwrap();
    let store = format!("sqlite://{}/alto.db", shared.display());
    ok(&alto_in(
        dir.path(),
        &["tenant", "create", "acme", "--store", &store],
    ));
    let o = alto_in(dir.path(), &["run", "--once", "--store", &store]);
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("writable by group or others"), "{err}");
    let o = alto_in(
        dir.path(),
        &[
            "rehydrate",
            "--tenant",
            "acme",
            "--glob",
            "**",
            "--store",
            &store,
        ],
    );
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("writable by group or others"),
        "{o:?}"
    );
    // With the override it runs, and says why it should not.
    let o = alto_in(
        dir.path(),
        &["run", "--once", "--allow-shared-store", "--store", &store],
    );
    ok(&o);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("warning"),
        "{o:?}"
    );

    // A private directory, but a store file another user owns.
    let private = dir.path().join("private");
    std::fs::create_dir(&private).unwrap();
    std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o700)).unwrap();
    let store = format!("sqlite://{}/alto.db", private.display());
    ok(&alto_in(
        dir.path(),
        &["tenant", "create", "acme", "--store", &store],
    ));
    let db = private.join("alto.db");
    assert_eq!(
        std::fs::metadata(&db).unwrap().permissions().mode() & 0o777,
        0o600,
        "a new store file is private"
    );
    if running_as_root() {
        std::os::unix::fs::chown(&db, Some(54321), Some(54321)).unwrap();
        let o = alto_in(dir.path(), &["run", "--once", "--store", &store]);
        assert_eq!(o.status.code(), Some(2), "{o:?}");
        assert!(
            String::from_utf8_lossy(&o.stderr).contains("owned by uid 54321"),
            "{o:?}"
        );
    }
}

fn running_as_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    // A file this process creates is owned by its effective uid.
    let f = tempfile::NamedTempFile::new().unwrap();
    std::fs::metadata(f.path()).unwrap().uid() == 0
}

#[test]
fn shares_have_roots() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let store = format!("sqlite://{}/alto.db", d.display());
    let s = ["--store", store.as_str()];
    ok(&alto_in(
        d,
        &[&["tenant", "create", "acme"][..], &s].concat(),
    ));
    // Names are one safe path segment; roots are absolute.
    for bad in [
        &["share", "create", "a/b", "--tenant", "acme"][..],
        &["share", "create", "..", "--tenant", "acme"][..],
        &[
            "share",
            "create",
            "x",
            "--tenant",
            "acme",
            "--root",
            "relative/dir",
        ][..],
    ] {
        let o = alto_in(d, &[bad, &s].concat());
        assert_eq!(o.status.code(), Some(2), "{bad:?}: {o:?}");
    }
    ok(&alto_in(
        d,
        &[
            &[
                "share",
                "create",
                "media",
                "--tenant",
                "acme",
                "--root",
                "/srv/media",
            ][..],
            &s,
        ]
        .concat(),
    ));
    let again = alto_in(
        d,
        &[&["share", "create", "media", "--tenant", "acme"][..], &s].concat(),
    );
    assert_eq!(again.status.code(), Some(2), "{again:?}");
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
    let list = ok(&alto_in(
        d,
        &[&["share", "list", "--tenant", "acme"][..], &s].concat(),
    ));
    assert!(
        list.contains("media\tposix\tcase-sensitive\t/srv/media"),
        "{list}"
    );
    ok(&alto_in(
        d,
        &[
            &[
                "share",
                "set",
                "media",
                "--tenant",
                "acme",
                "--root",
                "/mnt/media",
            ][..],
            &s,
        ]
        .concat(),
    ));
    let list = ok(&alto_in(
        d,
        &[&["share", "list", "--tenant", "acme", "--json"][..], &s].concat(),
    ));
    let v: serde_json::Value = serde_json::from_str(list.trim()).unwrap();
    assert_eq!(v["root"], "/mnt/media");
    ok(&alto_in(
        d,
        &[
            &["share", "set", "media", "--tenant", "acme", "--clear-root"][..],
            &s,
        ]
        .concat(),
    ));
    let list = ok(&alto_in(
        d,
        &[&["share", "list", "--tenant", "acme"][..], &s].concat(),
    ));
    assert!(list.contains("no root"), "{list}");
    let o = alto_in(
        d,
        &[
            &["share", "set", "nope", "--tenant", "acme", "--root", "/x"][..],
            &s,
        ]
        .concat(),
    );
    assert_eq!(o.status.code(), Some(2), "{o:?}");
}

#[test]
fn tenant_settings_and_maintain() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let store = format!("sqlite://{}/alto.db", d.display());
    let s = ["--store", store.as_str()];
    let run = |args: &[&str]| alto_in(d, &[args, &s[..]].concat());
    let (inv, _) = write_tree(&d.join("primary"), 4);
    let rules = d.join("rules.toml");
    std::fs::write(
        &rules,
        format!(
            "[[rule]]\nname = \"cold\"\naccessed_before = \"30d\"\ntarget = \"file://{}/tier/\"\n",
            d.display()
        ),
    )
    .unwrap();
    ok(&run(&["tenant", "create", "acme"]));
    let primary = d.join("primary").display().to_string();
    ok(&run(&[
        "share", "create", "media", "--tenant", "acme", "--root", &primary,
    ]));
    ok(&run(&[
        "ingest",
        "--tenant",
        "acme",
        "--share",
        "media",
        inv.to_str().unwrap(),
    ]));
    ok(&run(&[
        "plan",
        "--tenant",
        "acme",
        "--rules",
        rules.to_str().unwrap(),
        "--commit",
    ]));
    let shown: serde_json::Value =
        serde_json::from_str(&ok(&run(&["tenant", "show", "acme"]))).unwrap();
    assert_eq!(shown["planned_retention_days"], 365);
    assert_eq!(shown["feed_staging_hours"], 24);
    // Nothing is old enough under the defaults.
    let r: serde_json::Value =
        serde_json::from_str(&ok(&run(&["maintain", "--tenant", "acme", "--json"]))).unwrap();
    assert_eq!(r["planned_expired"], 0);
    let set: serde_json::Value = serde_json::from_str(&ok(&run(&[
        "tenant",
        "set",
        "acme",
        "--planned-retention-days",
        "0",
        "--rehydrated-retention-days",
        "never",
        "--deleted-retention-days",
        "30",
    ])))
    .unwrap();
    assert_eq!(set["planned_retention_days"], 0);
    assert_eq!(set["rehydrated_retention_days"], serde_json::Value::Null);
    assert_eq!(set["deleted_retention_days"], 30);
    assert_eq!(set["feed_staging_hours"], 24, "settings not given are kept");
    // 0 days is "expire now": a dry run counts the 4 plans and changes nothing.
    let dry: serde_json::Value = serde_json::from_str(&ok(&run(&[
        "maintain",
        "--tenant",
        "acme",
        "--dry-run",
        "--json",
    ])))
    .unwrap();
    assert_eq!(
        (dry["planned_expired"].as_u64(), dry["dry_run"].as_bool()),
        (Some(4), Some(true))
    );
    let planned = ok(&run(&[
        "find", "--tenant", "acme", "--state", "planned", "--format", "json",
    ]));
    assert_eq!(planned.lines().count(), 4);
    let text = ok(&run(&["maintain", "--tenant", "acme"]));
    assert!(text.contains("acme: expired 4 plans"), "{text}");
    let planned = ok(&run(&[
        "find", "--tenant", "acme", "--state", "planned", "--format", "json",
    ]));
    assert_eq!(planned.lines().count(), 0);
    let sweeps: serde_json::Value = serde_json::from_str(&ok(&run(&[
        "audit",
        "--tenant",
        "acme",
        "--kind",
        "maintain.sweep",
        "--format",
        "json",
    ])))
    .unwrap();
    let sweeps = sweeps["events"].as_array().unwrap();
    assert_eq!(sweeps.len(), 2, "one event per sweep that was not dry");
    assert_eq!(sweeps[0]["detail"]["planned_expired"], 0);
    assert_eq!(sweeps[1]["detail"]["planned_expired"], 4);
    assert_eq!(sweeps[1]["actor"]["source"], "cli:maintain");
    // A bad value is a usage error that changes nothing.
    let bad = run(&["tenant", "set", "acme", "--deleted-retention-days", "soon"]);
    assert_eq!(bad.status.code(), Some(2));
    let shown: serde_json::Value =
        serde_json::from_str(&ok(&run(&["tenant", "show", "acme"]))).unwrap();
    assert_eq!(shown["deleted_retention_days"], 30);
}
