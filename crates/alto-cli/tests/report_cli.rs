//! `alto report` in every format against one SQLite store: the CSV and the HTML page carry the
//! JSON form's numbers. The HTML page is rendered in headless Chromium (`ALTO_CHROMIUM`, or
//! `chromium` on PATH; `scripts/test.sh` installs Debian's package when missing): the numbers the
//! charts carry in the rendered DOM must equal the JSON's, and a screenshot must not be empty.

use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const NOW: &str = "2025-11-01T00:00:00Z";

fn alto_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_alto"))
        .current_dir(dir)
        .env("ALTO_STORE", "sqlite://alto.db")
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

/// A tenant with the example inventory in share `data` and, in share `odd`, files of 25 owners
/// (more than a chart draws) with names that need escaping in CSV and HTML; the example rules'
/// plan committed.
fn store(dir: &Path) {
    ok(&alto_in(dir, &["tenant", "create", "acme"]));
    ok(&alto_in(
        dir,
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
    let mut csv = String::from(
        "file_path,file_size,last_modified,last_accessed,file_extension,permissions,owner,hash\n",
    );
    let owners = ["a<b>&\"c'", "Smith, J", "été"];
    for i in 0..40u64 {
        let owner = match i {
            0..3 => owners[i as usize].to_owned(),
            _ => format!("user{:02}", i % 25),
        };
        let ext = ["MOV", "mov", "Tmp", ""][(i % 4) as usize];
        let name = if ext.is_empty() {
            format!("f{i}")
        } else {
            format!("f{i}.{ext}")
        };
        csv.push_str(&format!(
            "\"/srv/odd/d{}/{name}\",{},2020-01-0{}T00:00:00Z,{},,rw-r--r--,\"{}\",\n",
            i % 3,
            (41 - i) * 77_777,
            1 + i % 9,
            if i % 5 == 0 {
                String::new()
            } else {
                format!("2025-0{}-01T00:00:00Z", 1 + i % 9)
            },
            owner.replace('"', "\"\"")
        ));
    }
    let inv = dir.join("odd.csv");
    std::fs::write(&inv, csv).unwrap();
    ok(&alto_in(
        dir,
        &[
            "ingest",
            "--tenant",
            "acme",
            "--share",
            "odd",
            "--full-scan",
            inv.to_str().unwrap(),
        ],
    ));
    ok(&alto_in(
        dir,
        &[
            "plan",
            "--tenant",
            "acme",
            "--rules",
            &example("rules.toml"),
            "--now",
            NOW,
            "--commit",
        ],
    ));
}

fn report(dir: &Path, format: &str, extra: &[&str]) -> String {
    let rules = example("rules.toml");
    let mut args = vec![
        "report", "--tenant", "acme", "--now", NOW, "--rules", &rules, "--format", format,
    ];
    args.extend_from_slice(extra);
    ok(&alto_in(dir, &args))
}

const SECTIONS: [&str; 7] = [
    "state",
    "rule",
    "extension",
    "owner",
    "share",
    "age",
    "size",
];
const NUMBERS: [&str; 6] = [
    "files",
    "bytes",
    "stubbed_files",
    "stubbed_bytes",
    "planned_files",
    "planned_bytes",
];

/// A CSV line's fields (RFC 4180 quoting).
fn fields(line: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                out.last_mut().unwrap().push('"');
            }
            ('"', _) => quoted = !quoted,
            (',', false) => out.push(String::new()),
            (c, _) => out.last_mut().unwrap().push(c),
        }
    }
    out
}

#[test]
fn csv_and_table_carry_the_json_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    store(d);
    let json: Value = serde_json::from_str(&report(d, "json", &[])).unwrap();
    assert_eq!(json["tenant"], "acme");
    assert_eq!(json["now"], NOW);
    assert_eq!(json["totals"]["files"], 19 + 40);
    assert!(json["totals"]["planned"]["files"].as_u64().unwrap() > 0);
    assert_eq!(json["owners_recorded"], true);
    assert_eq!(json["largest"].as_array().unwrap().len(), 20);
    assert_eq!(json["what_if"]["rules"], "rules.toml");
    let by_ext: Vec<&str> = json["by_extension"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["label"].as_str().unwrap())
        .collect();
    assert!(
        by_ext.contains(&"mov") && !by_ext.contains(&"MOV"),
        "{by_ext:?}"
    );
    assert!(by_ext.contains(&"(none)"), "{by_ext:?}");

    // CSV: one row per breakdown entry, the same numbers.
    let csv = report(d, "csv", &[]);
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap(),
        "section,key,files,bytes,stubbed_files,stubbed_bytes,planned_files,planned_bytes"
    );
    let rows: Vec<Vec<String>> = csv.lines().skip(1).map(fields).collect();
    let totals = &rows[0];
    assert_eq!(totals[0], "totals");
    assert_eq!(totals[2], json["totals"]["files"].to_string());
    assert_eq!(totals[3], json["totals"]["bytes"].to_string());
    for section in SECTIONS {
        let entries = json[format!("by_{section}")].as_array().unwrap();
        let mine: Vec<&Vec<String>> = rows.iter().filter(|r| r[0] == section).collect();
        assert_eq!(mine.len(), entries.len(), "{section}");
        for (row, e) in mine.iter().zip(entries) {
            assert_eq!(row.len(), 8, "{row:?}");
            assert_eq!(row[1], e["label"].as_str().unwrap(), "{section}");
            for (i, n) in NUMBERS.iter().enumerate() {
                assert_eq!(row[2 + i], e[n].to_string(), "{section} {} {n}", row[1]);
            }
        }
    }
    assert!(
        rows.iter().any(|r| r[0] == "owner" && r[1] == "Smith, J"),
        "a comma in a key is quoted"
    );
    let what_if: Vec<&Vec<String>> = rows.iter().filter(|r| r[0] == "what_if").collect();
    assert_eq!(
        what_if.len(),
        json["what_if"]["by_rule"].as_array().unwrap().len()
    );

    // The table, for people.
    let table = report(d, "table", &["--top", "3"]);
    assert!(table.starts_with(&format!(
        "Report on tenant acme (all shares) at {NOW}\n59 files,"
    )));
    for title in [
        "TIER STATE",
        "RULE",
        "EXTENSION",
        "OWNER",
        "SHARE",
        "AGE OF LAST ACCESS",
        "SIZE",
        "Largest files:",
        "Oldest files (by last access):",
        "What-if (rules.toml): would tier",
    ] {
        assert!(table.contains(title), "{title} in\n{table}");
    }
    let owners = json["by_owner"].as_array().unwrap().len();
    assert!(owners > 15);
    assert!(
        table.contains(&format!("({} more)", owners - 15)),
        "owners past 15 summed:\n{table}"
    );

    // One share, to a file; errors.
    let out = d.join("odd.json");
    report(d, "json", &["--share", "odd", "-o", out.to_str().unwrap()]);
    let odd: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(odd["share"], "odd");
    assert_eq!(odd["totals"]["files"], 40);
    assert_eq!(odd["what_if"]["files_scanned"], 40);
    let o = alto_in(d, &["report", "--tenant", "acme", "--share", "nope"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("share \"nope\" does not exist"));
    let o = alto_in(d, &["report", "--tenant", "nobody"]);
    assert_eq!(o.status.code(), Some(2));
}

/// The attributes of every element the DOM opens with `open` (`<g `), unescaped.
fn elements(dom: &str, open: &str) -> Vec<HashMap<String, String>> {
    let unescape = |s: &str| {
        s.replace("&quot;", "\"")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&#39;", "'")
            .replace("&nbsp;", "\u{a0}")
            .replace("&amp;", "&")
    };
    let mut out = Vec::new();
    let mut rest = dom;
    while let Some(at) = rest.find(open) {
        let tag = &rest[at + open.len()..];
        let mut attrs = HashMap::new();
        let mut s = tag;
        loop {
            s = s.trim_start();
            if s.starts_with('>') || s.starts_with("/>") || s.is_empty() {
                break;
            }
            let end = s.find(['=', ' ', '>']).unwrap_or(s.len());
            let name = s[..end].to_owned();
            s = &s[end..];
            if let Some(v) = s.strip_prefix("=\"") {
                let close = v.find('"').expect("a closed attribute");
                attrs.insert(name, unescape(&v[..close]));
                s = &v[close + 1..];
            } else {
                attrs.insert(name, String::new());
            }
        }
        out.push(attrs);
        rest = &tag[1..];
    }
    out
}

fn chromium() -> String {
    std::env::var("ALTO_CHROMIUM").unwrap_or_else(|_| "chromium".into())
}

/// Run headless Chromium on `page` with `args`; its own profile directory.
fn headless(page: &Path, profile: &Path, args: &[&str]) -> Output {
    let bin = chromium();
    Command::new(&bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run headless Chromium `{bin}` ({e}): run scripts/test.sh, which installs \
                 Debian's chromium package, or set ALTO_CHROMIUM"
            )
        })
}

fn num(v: &Value) -> String {
    v.as_u64().expect("a count").to_string()
}

#[test]
fn html_report_renders_in_chromium_with_the_json_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    store(d);
    let json: Value = serde_json::from_str(&report(d, "json", &[])).unwrap();
    let page: PathBuf = d.join("report.html");
    report(d, "html", &["-o", page.to_str().unwrap()]);
    let html = std::fs::read_to_string(&page).unwrap();
    // Self-contained: no script, nothing to fetch.
    for banned in [
        "<script", "<link", "<img", "@import", "url(", "src=", "href=",
    ] {
        assert!(!html.contains(banned), "{banned} in the page");
    }
    assert!(html.contains("Content-Security-Policy\" content=\"default-src 'none'"));

    let profile = tempfile::tempdir().unwrap();
    let o = headless(&page, profile.path(), &["--dump-dom"]);
    assert!(
        o.status.success(),
        "chromium --dump-dom: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let dom = String::from_utf8(o.stdout).unwrap();
    assert!(
        dom.contains("<svg"),
        "rendered DOM: {}",
        &dom[..dom.len().min(500)]
    );

    // The cards.
    let cards = elements(&dom, "<div class=\"card\" ");
    let card = |k: &str| cards.iter().find(|c| c["data-total"] == k).unwrap();
    let t = &json["totals"];
    assert_eq!(card("all")["data-files"], num(&t["files"]));
    assert_eq!(card("all")["data-bytes"], num(&t["bytes"]));
    assert_eq!(card("saved")["data-bytes"], num(&t["saved"]["bytes"]));
    assert_eq!(card("planned")["data-files"], num(&t["planned"]["files"]));
    assert_eq!(card("planned")["data-bytes"], num(&t["planned"]["bytes"]));
    assert_eq!(card("missing")["data-files"], num(&t["missing"]["files"]));

    // Every chart's bars: each drawn entry with its numbers, the rest summed in one bar.
    let bars = elements(&dom, "<g class=\"bar\" ");
    let attr = |n: &str| format!("data-{}", n.replace('_', "-"));
    let mut checked = 0;
    for section in SECTIONS {
        let entries = json[format!("by_{section}")].as_array().unwrap();
        let mine: Vec<_> = bars
            .iter()
            .filter(|b| b["data-section"] == section)
            .collect();
        let mut drawn = 0;
        for b in &mine {
            if let Some(rest) = b.get("data-rest") {
                let n: usize = rest.parse().unwrap();
                assert_eq!(drawn + n, entries.len(), "{section}: drawn and summed");
                for key in NUMBERS {
                    let sum: u64 = entries[drawn..]
                        .iter()
                        .map(|e| e[key].as_u64().unwrap())
                        .sum();
                    assert_eq!(b[&attr(key)], sum.to_string(), "{section} rest {key}");
                }
                continue;
            }
            let e = entries
                .iter()
                .find(|e| e["label"].as_str() == Some(b["data-label"].as_str()))
                .unwrap_or_else(|| panic!("{section}: no entry {:?}", b["data-label"]));
            assert_eq!(
                b.get("data-key").map(String::as_str),
                e["key"].as_str(),
                "{section} key"
            );
            for key in NUMBERS {
                assert_eq!(
                    b[&attr(key)],
                    num(&e[key]),
                    "{section} {} {key}",
                    e["label"]
                );
                checked += 1;
            }
            drawn += 1;
        }
        assert!(drawn > 0, "{section} has bars");
        if section == "owner" {
            assert!(
                mine.iter().any(|b| b.contains_key("data-rest")),
                "owners past 20 are summed in one bar"
            );
            assert!(
                mine.iter()
                    .any(|b| b.get("data-label").map(String::as_str) == Some("a<b>&\"c'")),
                "an owner that needs escaping keeps its name"
            );
        }
    }
    assert!(checked > 100, "{checked} numbers compared");
    // The what-if's rules.
    let rules: Vec<_> = bars
        .iter()
        .filter(|b| b["data-section"] == "what_if")
        .collect();
    let w = &json["what_if"];
    let disabled: Vec<&str> = w["disabled_rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let enabled: Vec<&Value> = w["by_rule"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| !disabled.contains(&r["rule"].as_str().unwrap()))
        .collect();
    assert_eq!(rules.len(), enabled.len());
    for (b, r) in rules.iter().zip(&enabled) {
        assert_eq!(b["data-label"], r["rule"].as_str().unwrap());
        assert_eq!(b["data-files"], num(&r["files"]));
        assert_eq!(b["data-bytes"], num(&r["bytes"]));
    }
    let sections = elements(&dom, "<section data-chart=\"what_if\" ");
    assert_eq!(sections[0]["data-files"], num(&w["files_matched"]));
    assert_eq!(sections[0]["data-bytes-saved"], num(&w["bytes_saved"]));
    // The largest files, in order.
    let rows = elements(&dom, "<tr data-size");
    let sizes: Vec<String> = json["largest"]
        .as_array()
        .unwrap()
        .iter()
        .chain(json["oldest"].as_array().unwrap())
        .map(|f| num(&f["size"]))
        .collect();
    assert_eq!(rows.len(), sizes.len());

    // A screenshot of the page, not empty.
    let shot = d.join("report.png");
    let o = headless(
        &page,
        profile.path(),
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1000,3000",
        ],
    );
    assert!(
        o.status.success(),
        "chromium --screenshot: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let png = std::fs::read(&shot).expect("a screenshot");
    assert!(png.len() > 10_000, "{} bytes", png.len());
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
}
