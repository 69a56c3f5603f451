//! A plan read and evaluated on several threads is the plan of a one-thread read: the same
//! counts, jobs (batches fill in input order), largest matches (ties keep the earlier file) and
//! rejections in the same order.

use alto_core::inventory::InventoryOptions;
use alto_core::planner::{PlanEvent, PlanOptions, PlanReport, plan_inventory};
use alto_core::time::parse_timestamp;
use alto_rules::RuleSet;
use std::fmt::Write as _;

const RULES: &str = r#"
[[rule]]
name = "videos"
priority = 10
extensions = ["mov", "mp4"]
min_size = "1000"
accessed_before = "30d"
target = "file:///t/video/"

[[rule]]
name = "old"
priority = 20
include = ["/data/**/old/**"]
target = "file:///t/old/"

[[rule]]
name = "anything-big"
priority = 30
min_size = "5000"
target = "file:///t/big/"
"#;

fn inventory(rows: usize) -> String {
    let mut s = String::from("file_path,file_size,last_modified,last_accessed\n");
    for i in 0..rows {
        if i % 997 == 3 {
            writeln!(s, "/data/x{i}.mov,not-a-size,2020-01-01T00:00:00Z,").unwrap();
            continue;
        }
        let dir = if i % 7 == 0 { "old" } else { "new" };
        let ext = ["mov", "mp4", "txt", "bin"][i % 4];
        // Sizes repeat, so the largest matches tie often.
        let size = (i * 7919) % 10_000;
        writeln!(
            s,
            "/data/{dir}/{i}/f.{ext},{size},2020-01-01T00:00:00Z,2024-0{}-01T00:00:00Z",
            1 + i % 9
        )
        .unwrap();
    }
    s
}

fn plan(path: &std::path::Path, threads: usize) -> (PlanReport, Vec<String>) {
    let rules = RuleSet::from_toml(RULES).unwrap();
    let mut opts = PlanOptions::at(parse_timestamp("2025-01-01T00:00:00Z").unwrap());
    opts.batch_size = 97;
    opts.top_n = 25;
    let mut rejected = Vec::new();
    let (report, stats) =
        plan_inventory(&rules, path, &InventoryOptions::new(), opts, threads, |e| {
            if let PlanEvent::Rejected(r) = e {
                rejected.push(r.to_string());
            }
        })
        .unwrap();
    assert_eq!(stats.rejected as usize, rejected.len());
    (report, rejected)
}

#[test]
fn the_plan_is_the_same_on_any_number_of_threads() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("inv.csv");
    std::fs::write(&path, inventory(60_000)).unwrap();
    let (want, want_rejected) = plan(&path, 1);
    assert!(
        want.files_matched > 1000 && want.jobs.len() > 10,
        "{want:?}"
    );
    assert_eq!(want.largest.len(), 25);
    assert!(!want_rejected.is_empty());
    for threads in [2, 3, 8] {
        let (got, rejected) = plan(&path, threads);
        assert_eq!(got, want, "{threads} threads");
        assert_eq!(rejected, want_rejected, "{threads} threads");
    }
}
