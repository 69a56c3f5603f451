//! The read-only planner: grouping, batching, estimates, skips and the report.

use alto_core::planner::{PlanOptions, Planner, parse_rate};
use alto_core::{RuleSet, TierState};
use alto_rules::FileFacts;

const DAY: i64 = 86_400_000_000;
const NOW: i64 = 20_000 * DAY;

fn rules() -> RuleSet {
    RuleSet::from_toml(
        r#"
        [[rule]]
        name = "video"
        priority = 10
        extensions = ["mov"]
        target = "s3://bucket/{tenant}/{share}/video/{yyyy}-{mm}-{dd}/"

        [[rule]]
        name = "old"
        priority = 20
        accessed_before = "30d"
        target = "file:///tier/old/"

        [[rule]]
        name = "never"
        min_size = "1TB"
        target = "file:///tier/never/"

        [[rule]]
        name = "off"
        enabled = false
        target = "file:///tier/off/"
        "#,
    )
    .unwrap()
}

fn facts(path: &str, size: u64, age_days: i64) -> FileFacts<'_> {
    FileFacts {
        path,
        size,
        accessed: Some(NOW - age_days * DAY),
        modified: None,
    }
}

#[test]
fn groups_batches_and_estimates() {
    let rules = rules();
    let mut opts = PlanOptions::at(NOW);
    opts.batch_size = 2;
    opts.stub_size = 100;
    opts.bandwidth_bps = 8000.0; // 1000 bytes/s
    opts.per_file_overhead_secs = 0.5;
    opts.target_bandwidth = vec![("s3://".into(), 80_000.0)]; // 10,000 bytes/s
    opts.tenant = "acme".into();
    opts.share = "media".into();
    opts.top_n = 2;
    let mut p = Planner::new(&rules, opts);
    let files = [
        ("/a.mov", 1000, 1),
        ("/b.mov", 2000, 1),
        ("/c.mov", 50, 1),
        ("/old1", 3000, 40),
        ("/fresh", 10, 1),
    ];
    let got: Vec<_> = files
        .iter()
        .map(|(p_, s, a)| p.add(&facts(p_, *s, *a), None))
        .collect();
    assert_eq!(got, [Some(0), Some(0), Some(0), Some(1), None]);
    let r = p.finish();
    assert_eq!(r.files_scanned, 5);
    assert_eq!(r.files_matched, 4);
    assert_eq!(r.bytes_matched, 6050);
    assert_eq!(
        r.bytes_saved,
        900 + 1900 + 2900, // the 50-byte file saves nothing
        "size minus stub, never negative"
    );
    assert_eq!(r.unmatched_rules, ["never"]);
    assert_eq!(r.disabled_rules, ["off"]);
    let jobs: Vec<_> = r
        .jobs
        .iter()
        .map(|j| (j.rule.as_str(), j.files, j.bytes))
        .collect();
    assert_eq!(
        jobs,
        [("video", 2, 3000), ("video", 1, 50), ("old", 1, 3000)]
    );
    // 1970 + 20000 days = 2024-10-04.
    assert_eq!(r.jobs[0].target, "s3://bucket/acme/media/video/2024-10-04/");
    assert!((r.jobs[0].estimated_seconds - (3000.0 / 10_000.0 + 2.0 * 0.5)).abs() < 1e-9);
    assert!((r.jobs[2].estimated_seconds - (3000.0 / 1000.0 + 0.5)).abs() < 1e-9);
    let total: f64 = r.jobs.iter().map(|j| j.estimated_seconds).sum();
    assert!((r.estimated_seconds - total).abs() < 1e-9);
    let largest: Vec<_> = r
        .largest
        .iter()
        .map(|m| (m.path.as_str(), m.size, m.rule.as_str()))
        .collect();
    assert_eq!(largest, [("/old1", 3000, "old"), ("/b.mov", 2000, "video")]);
    let by_rule: Vec<_> = r
        .by_rule
        .iter()
        .map(|t| (t.rule.as_str(), t.files))
        .collect();
    assert_eq!(
        by_rule,
        [("video", 3), ("old", 1), ("never", 0), ("off", 0)]
    );
}

#[test]
fn stubbed_files_are_skipped_before_rules_and_planned_ones_evaluated_again() {
    let rules = rules();
    let mut p = Planner::new(&rules, PlanOptions::at(NOW));
    assert_eq!(
        p.add(&facts("/a.mov", 1, 1), Some(TierState::Stubbed)),
        None
    );
    // Listed again while it qualifies: committing keeps its plan (already planned, or
    // requeued when its job ended) rather than withdrawing it.
    assert_eq!(
        p.add(&facts("/b.mov", 1, 1), Some(TierState::Planned)),
        Some(0)
    );
    assert_eq!(
        p.add(&facts("/c.mov", 1, 1), Some(TierState::Rehydrated)),
        Some(0)
    );
    assert_eq!(
        p.add(&facts("/d.mov", 1, 1), Some(TierState::Deleted)),
        Some(0)
    );
    let r = p.finish();
    assert_eq!(
        (r.files_scanned, r.files_skipped, r.files_matched),
        (4, 1, 3)
    );
}

#[test]
fn largest_ties_keep_first_seen() {
    let rules = rules();
    let mut opts = PlanOptions::at(NOW);
    opts.top_n = 2;
    let mut p = Planner::new(&rules, opts);
    for name in ["/1.mov", "/2.mov", "/3.mov"] {
        p.add(&facts(name, 5, 1), None);
    }
    let r = p.finish();
    let names: Vec<_> = r.largest.iter().map(|m| m.path.as_str()).collect();
    assert_eq!(names, ["/1.mov", "/2.mov"]);
}

#[test]
fn rates() {
    assert_eq!(parse_rate("1Gbit/s").unwrap(), 1e9);
    assert_eq!(parse_rate("100Mbps").unwrap(), 1e8);
    assert_eq!(parse_rate("125MB/s").unwrap(), 1e9);
    assert_eq!(parse_rate("1MiB/s").unwrap(), 8.0 * 1024.0 * 1024.0);
    assert_eq!(parse_rate("10 kbit/s").unwrap(), 1e4);
    for bad in ["fast", "10", "10Gb", "0Mbps", "5 furlongs/s"] {
        let e = parse_rate(bad).unwrap_err();
        assert!(e.to_string().contains("bad rate"), "{bad}: {e}");
    }
}

#[test]
fn share_changes_close_batches_and_rerender_targets() {
    let rules = rules();
    let mut opts = PlanOptions::at(NOW);
    opts.share = "one".into();
    let mut p = Planner::new(&rules, opts);
    p.add(&facts("/a.mov", 1, 1), None);
    p.set_share("two");
    p.add(&facts("/b.mov", 1, 1), None);
    p.add(&facts("/c.mov", 1, 1), None);
    let r = p.finish();
    let jobs: Vec<_> = r
        .jobs
        .iter()
        .map(|j| (j.target.as_str(), j.files))
        .collect();
    assert_eq!(
        jobs,
        [
            ("s3://bucket/default/one/video/2024-10-04/", 1),
            ("s3://bucket/default/two/video/2024-10-04/", 2)
        ]
    );
}

#[test]
fn a_planner_owns_its_rules() {
    // No lifetime: a planner can outlive the rule set it was made from, and move to a thread.
    fn owned<T: Send + 'static>(_: &T) {}
    let planner = {
        let rules =
            RuleSet::from_toml("[[rule]]\nname = \"all\"\ntarget = \"file:///t/\"\n").unwrap();
        Planner::new(&rules, PlanOptions::at(NOW))
    };
    owned(&planner);
    let report = std::thread::spawn(move || {
        let mut p = planner;
        p.add_evaluated(Some(0), 10, "/a");
        p.finish()
    })
    .join()
    .unwrap();
    assert_eq!(report.files_matched, 1);
}
