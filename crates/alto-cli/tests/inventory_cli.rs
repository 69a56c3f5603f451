//! Inventories as they really come, through the `alto` command: reader flags, folder rows, full
//! scans with rejected rows, and exit code 2 when no row was accepted.

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

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn ok(o: &Output) -> String {
    assert!(
        o.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        o.status.code(),
        out(o),
        err(o)
    );
    out(o)
}

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../alto-core/tests/fixtures")
        .join(name)
        .display()
        .to_string()
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn ingest(d: &Path, inv: &Path, extra: &[&str]) -> Output {
    let inv = inv.display().to_string();
    let mut args = vec!["ingest", "--tenant", "acme", "--share", "fs", "--full-scan"];
    args.extend_from_slice(extra);
    args.push(&inv);
    alto_in(d, &args)
}

#[test]
fn full_scan_with_rejected_rows_marks_nothing_unless_told() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(&alto_in(d, &["tenant", "create", "acme"]));
    let all = write(
        d,
        "all.csv",
        "file_path,file_size\n/srv/a,1\n/srv/b,2\n/srv/c,3\n",
    );
    let first = ok(&ingest(d, &all, &[]));
    assert!(first.contains("accepted 3, rejected 0, new 3"), "{first}");
    // /c's row cannot be read: it must not go missing on that account, nor /b with it.
    let some = write(
        d,
        "some.csv",
        "file_path,file_size\n/srv/a,1\n/srv/c,many\n",
    );
    let o = ingest(d, &some, &[]);
    let stdout = ok(&o);
    assert!(
        stdout.contains("rejected 1") && stdout.contains("missing 0"),
        "{stdout}"
    );
    let e = err(&o);
    assert!(
        e.contains("marked nothing missing (it would have marked 2)"),
        "{e}"
    );
    assert!(e.contains("--missing-despite-rejects"), "{e}");
    let listed = ok(&alto_in(
        d,
        &["find", "--tenant", "acme", "--format", "json"],
    ));
    assert!(
        listed.contains("/srv/b") && listed.contains("/srv/c"),
        "{listed}"
    );
    // Every row rejected: exit 2, one summary line naming the column, reason and fix.
    let none = write(
        d,
        "none.csv",
        "file_path,file_size\n/srv/a,x\n/srv/b,y\n/srv/c,z\n",
    );
    let o = ingest(d, &none, &[]);
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    let e = err(&o);
    assert!(
        e.contains("every row (3) was rejected the same way: column file_size: bad size"),
        "{e}"
    );
    assert!(e.contains("likely fix"), "{e}");
    assert!(e.contains("no row of"), "{e}");
    // Told to: the unlisted files go missing despite the rejected row.
    let o = ingest(d, &some, &["--missing-despite-rejects"]);
    let stdout = ok(&o);
    assert!(stdout.contains("missing 2"), "{stdout}");
    // The flag means nothing without --full-scan.
    let inv = some.display().to_string();
    let o = alto_in(
        d,
        &[
            "ingest",
            "--tenant",
            "acme",
            "--share",
            "fs",
            "--missing-despite-rejects",
            &inv,
        ],
    );
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn plan_and_eval_read_tool_exports() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let rules = write(
        d,
        "r.toml",
        "[[rule]]\nname = \"all\"\ntarget = \"file:///t/\"\n",
    );
    let rules = rules.display().to_string();
    // WizTree, detected from its header: the folder rows (with their subtree sizes) are skipped.
    let o = alto_in(
        d,
        &[
            "plan",
            "--rules",
            &rules,
            "--inventory",
            &fixture("wiztree.csv"),
            "--format",
            "json",
        ],
    );
    let json = ok(&o);
    let e = err(&o);
    assert!(e.contains("--preset wiztree"), "{e}");
    assert!(e.contains("2 folder rows skipped"), "{e}");
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["files_matched"], 2, "{json}");
    assert_eq!(v["bytes_matched"], 1024, "{json}");
    // rules eval with the same flags: the PowerShell export's a/b/yyyy column, told month-first,
    // refuses the 20th month rather than guessing.
    let o = alto_in(
        d,
        &[
            "rules",
            "eval",
            "--rules",
            &rules,
            "--inventory",
            &fixture("powershell-en-gb.csv"),
            "--date-order",
            "mdy",
        ],
    );
    let lines = ok(&o);
    assert_eq!(lines.lines().count(), 2, "{lines}");
    // Headerless find output with --columns and a tab delimiter.
    let o = alto_in(
        d,
        &[
            "rules",
            "eval",
            "--rules",
            &rules,
            "--inventory",
            &fixture("find.tsv"),
            "--columns",
            "file_path,file_size,last_modified,last_accessed",
            "--delimiter",
            "tab",
        ],
    );
    let lines = ok(&o);
    assert_eq!(lines.lines().count(), 2, "{lines}");
    assert!(err(&o).contains("1 folder rows skipped"), "{}", err(&o));
    // Bad flag values are usage errors.
    for (flag, value) in [
        ("--timezone", "Mars/Olympus"),
        ("--date-order", "ymd"),
        ("--preset", "dir"),
        ("--encoding", "ebcdic"),
    ] {
        let o = alto_in(
            d,
            &[
                "plan",
                "--rules",
                &rules,
                "--inventory",
                &fixture("find.tsv"),
                flag,
                value,
            ],
        );
        assert_eq!(o.status.code(), Some(2), "{flag} {value}");
    }
    // No row accepted: plan exits 2 after printing its report.
    let bad = write(d, "bad.csv", "file_path,file_size\n/a,x\n");
    let o = alto_in(
        d,
        &[
            "plan",
            "--rules",
            &rules,
            "--inventory",
            &bad.display().to_string(),
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(out(&o).contains("0 files scanned"), "{}", out(&o));
}

#[test]
fn s3_inventory_lands_as_object_paths() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(&alto_in(d, &["tenant", "create", "acme"]));
    let data = std::fs::read(fixture("s3-inventory.csv")).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, &data).unwrap();
    let gzpath = d.join("inv.csv.gz");
    std::fs::write(&gzpath, gz.finish().unwrap()).unwrap();
    let o = alto_in(
        d,
        &[
            "ingest",
            "--tenant",
            "acme",
            "--share",
            "bucket",
            "--kind",
            "posix",
            "--manifest",
            &fixture("s3-manifest.json"),
            &gzpath.display().to_string(),
        ],
    );
    let stdout = ok(&o);
    assert!(
        stdout.contains("accepted 2, rejected 1"),
        "{stdout}\n{}",
        err(&o)
    );
    assert!(stdout.contains("folders skipped 1"), "{stdout}");
    assert!(
        err(&o).contains("2 rows were older versions or delete markers"),
        "{}",
        err(&o)
    );
    let listed = ok(&alto_in(
        d,
        &["find", "--tenant", "acme", "--format", "json"],
    ));
    assert!(
        listed.contains("s3://my-bucket/photos/2025/café au lait.jpg"),
        "{listed}"
    );
}

/// The S3 Inventory report of alto-core's fixtures, as downloaded: `manifest.json` in its
/// timestamped folder, the data files in `data/` beside it.
fn s3_report(sub: &str) -> String {
    fixture(&format!("s3-report/media-archive/daily-full/{sub}"))
}

#[test]
fn s3_inventory_read_whole_through_its_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let manifest = s3_report("2025-11-20T01-00Z/manifest.json");
    let rules = write(
        d,
        "r.toml",
        "[[rule]]\nname = \"all\"\ntarget = \"file:///t/\"\n",
    );
    let rules = rules.display().to_string();
    // `--manifest` alone, or the manifest as the inventory: every data file, as one inventory.
    for flag in ["--manifest", "--inventory"] {
        let o = alto_in(
            d,
            &[
                "plan", "--rules", &rules, flag, &manifest, "--format", "json",
            ],
        );
        let json = ok(&o);
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["files_scanned"], 4, "{flag}: {json}");
        assert_eq!(v["rows_rejected"], 1, "{flag}: {json}");
        let e = err(&o);
        assert!(
            e.contains("a0b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d.csv.gz:3: column file_size"),
            "{flag}: {e}"
        );
        assert!(
            e.contains(
                "4 rows accepted, 1 rejected, 1 folder rows skipped, 2 non-current versions \
                 skipped"
            ),
            "{flag}: {e}"
        );
        assert!(e.contains("in 2 CSV data files, MD5 checked for 2"), "{e}");
    }
    // rules eval: one line per current object, keys decoded.
    let o = alto_in(
        d,
        &["rules", "eval", "--rules", &rules, "--manifest", &manifest],
    );
    let lines = ok(&o);
    assert_eq!(lines.lines().count(), 4, "{lines}");
    assert!(
        lines.contains("s3://media-archive/日本/写真 1.png"),
        "{lines}"
    );
    // ingest with no inventory file but the manifest.
    ok(&alto_in(d, &["tenant", "create", "acme"]));
    let o = alto_in(
        d,
        &[
            "ingest",
            "--tenant",
            "acme",
            "--share",
            "media",
            "--manifest",
            &manifest,
        ],
    );
    let stdout = ok(&o);
    assert!(
        stdout.contains("accepted 4, rejected 1"),
        "{stdout}\n{}",
        err(&o)
    );
    let listed = ok(&alto_in(
        d,
        &["find", "--tenant", "acme", "--format", "json"],
    ));
    for p in [
        "s3://media-archive/reports/Q3, final (v2).pdf",
        "s3://media-archive/video/clip 1.mov",
    ] {
        assert!(listed.contains(p), "{p}: {listed}");
    }
    // Neither an inventory nor a manifest: a usage error.
    let o = alto_in(d, &["rules", "eval", "--rules", &rules]);
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    // A data file missing: refused, naming it.
    let m = d.join("manifest.json");
    std::fs::copy(&manifest, &m).unwrap();
    let o = alto_in(
        d,
        &[
            "plan",
            "--rules",
            &rules,
            "--manifest",
            &m.display().to_string(),
        ],
    );
    assert!(!o.status.success());
    assert!(
        err(&o).contains(
            "data file inventory/media-archive/daily-full/data/6f1d2c3a-8b4e-4e0f-9a1b-2c3d4e5f6a7b.csv.gz not found"
        ),
        "{}",
        err(&o)
    );
}
