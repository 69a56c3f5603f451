//! `RuleSet::evaluate` allocates nothing once its scratch is warm.
//!
//! This file holds a single test because the counting allocator is global to the test binary:
//! another test running on a parallel thread would be counted too.

use std::alloc::System;

use alto_rules::{FileFacts, Micros, RuleSet};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const NOW: Micros = 1_767_225_600_000_000;
const DAY: Micros = 86_400_000_000;

const RULES: &str = r#"
case_sensitive = "auto"

[[rule]]
name = "huge"
min_size = "10GB"
target = "t"

[[rule]]
name = "video"
include = ["**/*.mov", 'C:\Media\**', "/srv/**/video/**"]
exclude = ["**/keep/**"]
regex = 'render_v\d+'
accessed_before = "30d"
target = "t"

[[rule]]
name = "docs"
include = ["*.pdf", "*.DOCX"]
extensions = ["pdf", "docx", "été"]
exclude_extensions = ["tmp"]
modified_after = "3650d"
target = "t"

[[rule]]
name = "brackets"
include = ["IMG[!_]*.jpg", "/scans/[[:digit:]][A-Z]*", "**/[Z-y]*.png", "**/y20??/*"]
exclude = ["**/[!a-z]tmp/**"]
target = "t"

[[rule]]
name = "names"
regex = '(?:report|budget)_\d{4}'
max_size = "1GiB"
target = "t"
"#;

#[test]
fn evaluate_does_not_allocate_after_warm_up() {
    let set = RuleSet::from_toml(RULES).unwrap();
    let paths = [
        r"C:\Media\shots\render_v12.mov",
        r"c:\media\keep\render_v3.MOV",
        r"\\nas01\share\Docs\Budget_2024.PDF",
        "/srv/a/video/render_v1.mov",
        "/home/u/notes/report_2020.txt",
        "/home/u/Été/x.ÉTÉ",
        "/home/u/.bashrc",
        "/photos/IMG0001.jpg",
        r"C:\Photos\img0002.JPG",
        "/scans/7Q.tif",
        "/home/u/y20é1/x",
        r"C:\Home\Y20É1\x",
        r"\\nas01\share\Scans\_x.png",
        "relative/path/without/ext",
        "/",
        "",
    ];
    let files: Vec<FileFacts<'_>> = paths
        .iter()
        .enumerate()
        .map(|(i, path)| FileFacts {
            path,
            size: 1 << (i * 3),
            accessed: if i % 3 == 0 {
                None
            } else {
                Some(NOW - (i as i64) * 20 * DAY)
            },
            modified: Some(NOW - 400 * DAY),
        })
        .collect();
    let mut scratch = set.scratch();
    let mut warm = Vec::new();
    for f in &files {
        warm.push(set.evaluate(f, NOW, &mut scratch));
    }
    assert!(
        warm.iter().any(Option::is_some) && warm.iter().any(Option::is_none),
        "{warm:?}"
    );

    let region = Region::new(GLOBAL);
    let mut hits = 0usize;
    for _ in 0..100 {
        for f in &files {
            hits += usize::from(set.evaluate(f, NOW, &mut scratch).is_some());
        }
    }
    let stats = region.change();
    assert_eq!(stats.allocations, 0, "{stats:?}");
    assert_eq!(stats.reallocations, 0, "{stats:?}");
    assert_eq!(hits, 100 * warm.iter().filter(|w| w.is_some()).count());
}
