//! What the bindings need from the handle beyond the Rust journey: a cursor after any item
//! (iterators hand out items one by one, not pages), a feed batch given as text, and the
//! store-less dry run of an inventory file.

use alto::inventory::InventoryOptions;
use alto::planner::PlanOptions;
use alto::store::tiering::JobQuery;
use alto::store::{FileQuery, ShareSpec};
use alto::{
    Alto, AuditQuery, Cursor, ErrorKind, FeedRequest, IngestRequest, PlanRequest, RuleSet,
    ShareKind,
};
use std::path::Path;

const DAY: i64 = 86_400_000_000;
const NOW: i64 = 1_750_000_000_000_000;

fn inventory(dir: &Path, rows: &[(&str, u64, i64)], extra: &str) -> std::path::PathBuf {
    let mut csv = String::from("file_path,file_size,last_modified,last_accessed\n");
    for (path, size, at) in rows {
        let t = alto::time::format_rfc3339(*at);
        csv.push_str(&format!("{path},{size},{t},{t}\n"));
    }
    csv.push_str(extra);
    let p = dir.join("inventory.csv");
    std::fs::write(&p, csv).unwrap();
    p
}

async fn tenant_with_files(dir: &Path) -> alto::TenantHandle {
    let alto = alto::connect("memory://").await.unwrap();
    let t = alto
        .create_tenant("acme", &Default::default())
        .await
        .unwrap();
    t.create_share(&ShareSpec::new("media", ShareKind::Posix))
        .await
        .unwrap();
    let rows: Vec<(String, u64, i64)> = (0..5)
        .map(|i| (format!("/m/f{i}.mov"), 1000 + i, NOW - 400 * DAY))
        .collect();
    let rows: Vec<(&str, u64, i64)> = rows.iter().map(|(p, s, t)| (p.as_str(), *s, *t)).collect();
    let inv = inventory(dir, &rows, "");
    t.ingest("media", &inv, &IngestRequest::default())
        .await
        .unwrap();
    t
}

async fn drain<T: Send + 'static>(mut pages: alto::Pages<T>) -> Vec<T> {
    let mut all = Vec::new();
    while let Some(p) = pages.next_page().await.unwrap() {
        all.extend(p);
    }
    all
}

#[tokio::test]
async fn a_cursor_after_an_item_in_the_middle_of_a_page_resumes_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let t = tenant_with_files(dir.path()).await;
    let q = || FileQuery {
        limit: 2,
        ..FileQuery::default()
    };
    let all = drain(t.files(q())).await;
    assert_eq!(all.len(), 5);
    // The third file is the first of the second page: resume after it.
    let c = Cursor::parse(Cursor::after_file(&all[2]).as_str()).unwrap();
    let rest = drain(t.files(q()).resume(&c).unwrap()).await;
    let paths: Vec<_> = rest.iter().map(|f| f.entry.path.as_str()).collect();
    assert_eq!(paths, ["/m/f3.mov", "/m/f4.mov"]);

    let rules = RuleSet::from_toml(
        "[[rule]]\nname = \"big\"\nmin_size = \"1003\"\ntarget = \"file:///t/a/\"\n\
         [[rule]]\nname = \"rest\"\ntarget = \"file:///t/b/\"\n",
    )
    .unwrap();
    t.plan(&rules, &PlanRequest::at(NOW).commit(true))
        .await
        .unwrap();
    let jobs = drain(t.jobs(JobQuery::default())).await;
    assert_eq!(jobs.len(), 2);
    let rest = drain(
        t.jobs(JobQuery::default())
            .resume(&Cursor::after_job(&jobs[0]))
            .unwrap(),
    )
    .await;
    assert_eq!(rest, jobs[1..].to_vec());

    // The ingest wrote its scan, chunk and finish events; committing, an event per job and,
    // under it, one per file.
    let events = drain(t.audit()).await;
    let kinds: Vec<_> = events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds[..3],
        ["ingest.scan", "ingest.chunk", "ingest.finish"],
        "{events:?}"
    );
    assert_eq!(kinds.iter().filter(|k| **k == "job.create").count(), 2);
    assert_eq!(kinds.iter().filter(|k| **k == "tier.plan").count(), 5);
    assert_eq!(events.len(), 10);
    for e in events.iter().filter(|e| e.kind == "tier.plan") {
        let parent = events.iter().find(|p| Some(p.id) == e.parent).unwrap();
        assert_eq!(parent.kind, "job.create");
        assert!(parent.position < e.position);
    }
    assert_eq!(
        events[1].parent,
        Some(events[0].id),
        "a chunk under its scan"
    );
    assert_eq!(events[2].parent, Some(events[0].id));
    assert_eq!(events[2].detail["accepted"], 5);
    assert_eq!(events[3].actor.source, "sdk");
    assert_eq!(events[3].actor.pid, Some(std::process::id()));
    let plans = drain(t.audit_query(AuditQuery {
        kinds: vec!["tier.*".into()],
        ..Default::default()
    }))
    .await;
    let expected: Vec<_> = events
        .iter()
        .filter(|e| e.kind.starts_with("tier."))
        .cloned()
        .collect();
    assert_eq!(plans, expected);
    let children = drain(t.audit_query(AuditQuery {
        parent: Some(events[0].id),
        ..Default::default()
    }))
    .await;
    assert_eq!(children, events[1..3].to_vec());
    let c = Cursor::after_audit(&events[0]);
    let rest = drain(t.audit().page_size(1).resume(&c).unwrap()).await;
    assert_eq!(rest, events[1..].to_vec());
    // A cursor of one listing does not resume another.
    let err = t.files(q()).resume(&c).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
}

#[tokio::test]
async fn a_batch_as_text_is_applied_and_its_bad_updates_counted() {
    let dir = tempfile::tempdir().unwrap();
    let t = tenant_with_files(dir.path()).await;
    let text = r#"{"update_batch_id": "b-1", "updates": [
        {"file_path": "/m/f1.mov", "last_accessed": "2025-06-15T00:00:00Z", "access_type": "read"},
        {"last_accessed": "2025-06-15T00:00:00Z"}]}"#;
    let r = t
        .apply_batch("media", text, "test", &FeedRequest::default())
        .await
        .unwrap();
    assert_eq!((r.applied, r.malformed, r.read), (1, 1, 2), "{r:?}");
    let f = drain(t.files(FileQuery {
        glob: Some("**/f1.mov".into()),
        ..FileQuery::default()
    }))
    .await;
    assert_eq!(
        f[0].entry.accessed,
        Some(alto::time::parse_timestamp("2025-06-15T00:00:00Z").unwrap())
    );
    // The trail: `feed.batch` (what came in), its outcome under it (counts and lag).
    let batches = drain(t.audit_query(AuditQuery {
        kinds: vec!["feed.batch".into()],
        ..AuditQuery::default()
    }))
    .await;
    assert_eq!(batches.len(), 1);
    assert_eq!(batches[0].detail["events"], 1, "{:?}", batches[0].detail);
    let under = drain(t.audit_query(AuditQuery {
        parent: Some(batches[0].id),
        ..AuditQuery::default()
    }))
    .await;
    assert_eq!(under.len(), 1, "{under:?}");
    assert_eq!(under[0].kind, "feed.applied");
    assert_eq!(under[0].detail["applied"], 1);
    assert!(under[0].detail["lag_secs"].as_f64().is_some());
    let err = t
        .apply_batch("media", "{}", "test", &FeedRequest::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains("test"), "{err}");
}

#[test]
fn an_inventory_is_planned_without_a_store() {
    let dir = tempfile::tempdir().unwrap();
    let inv = inventory(
        dir.path(),
        &[
            ("/m/old.mov", 5000, NOW - 400 * DAY),
            ("/m/new.mov", 7000, NOW - DAY),
        ],
        "/m/bad.mov,lots,,\n",
    );
    let rules = RuleSet::from_toml(
        "[[rule]]\nname = \"cold\"\naccessed_before = \"180d\"\ntarget = \"file:///t/\"\n",
    )
    .unwrap();
    let r = Alto::plan_inventory(
        &rules,
        &inv,
        &InventoryOptions::default(),
        PlanOptions::at(NOW),
    )
    .unwrap();
    assert_eq!(
        (
            r.files_scanned,
            r.files_matched,
            r.bytes_matched,
            r.rows_rejected
        ),
        (2, 1, 5000, 1)
    );
    let err = Alto::plan_inventory(
        &rules,
        &dir.path().join("absent.csv"),
        &InventoryOptions::default(),
        PlanOptions::at(NOW),
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Io);
}
