//! The handle's additions for the Node binding (issue 18): item-level cursors, a dry run over an
//! inventory file, and an agents' batch given as text.

use alto::planner::PlanOptions;
use alto::store::FileQuery;
use alto::{Alto, ErrorKind, FeedRequest, IngestRequest, RuleSet, TenantSettings};

const CSV: &str = "file_path,file_size,last_modified,last_accessed\n\
/m/a.mov,100,2020-01-01T00:00:00Z,2020-01-01T00:00:00Z\n\
/m/b.txt,5,2020-01-01T00:00:00Z,2020-01-01T00:00:00Z\n\
/m/c.mov,300,2020-01-01T00:00:00Z,2020-01-01T00:00:00Z\n";

async fn tenant_with_files(dir: &std::path::Path) -> alto::TenantHandle {
    let inventory = dir.join("inv.csv");
    std::fs::write(&inventory, CSV).unwrap();
    let url = format!("sqlite://{}", dir.join("alto.db").display());
    let alto = alto::connect(&url).await.unwrap();
    let t = alto
        .create_tenant("acme", &TenantSettings::default())
        .await
        .unwrap();
    t.ingest("media", &inventory, &IngestRequest::default())
        .await
        .unwrap();
    t
}

#[tokio::test]
async fn cursor_after_an_item_resumes_with_the_next_one() {
    let dir = tempfile::tempdir().unwrap();
    let t = tenant_with_files(dir.path()).await;

    let mut pages = t.files(FileQuery::default());
    let all = pages.next_page().await.unwrap().unwrap();
    assert_eq!(all.len(), 3);
    let cursor = pages.cursor_after(&all[0]);
    let mut rest = t.files(FileQuery::default()).resume(&cursor).unwrap();
    let paths: Vec<_> = rest
        .next_page()
        .await
        .unwrap()
        .unwrap()
        .into_iter()
        .map(|f| f.entry.path)
        .collect();
    assert_eq!(
        paths,
        [all[1].entry.path.clone(), all[2].entry.path.clone()]
    );

    // A committed plan writes audit events (one per planned file, and the plan's).
    let rules = RuleSet::from_toml(
        "[[rule]]\nname = \"video\"\nextensions = [\"mov\"]\ntarget = \"file:///t/\"\n",
    )
    .unwrap();
    t.plan(&rules, &alto::PlanRequest::default().commit(true))
        .await
        .unwrap();
    let mut audit = t.audit();
    let events = audit.next_page().await.unwrap().unwrap();
    assert!(events.len() >= 2, "{events:?}");
    let after_first = audit.cursor_after(&events[0]);
    let mut resumed = t.audit().resume(&after_first).unwrap();
    let again = resumed.next_page().await.unwrap().unwrap();
    assert_eq!(again.first().map(|e| e.id), Some(events[1].id));
    // A files cursor does not resume the audit trail.
    let err = t.audit().resume(&cursor).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
}

#[test]
fn plan_inventory_counts_matches_and_rejected_rows() {
    let dir = tempfile::tempdir().unwrap();
    let inventory = dir.path().join("inv.csv");
    std::fs::write(&inventory, format!("{CSV}/m/bad.mov,not-a-size,,\n")).unwrap();
    let rules = RuleSet::from_toml(
        "[[rule]]\nname = \"video\"\nextensions = [\"mov\"]\ntarget = \"file:///t/\"\n",
    )
    .unwrap();
    let report = Alto::plan_inventory(
        &rules,
        &inventory,
        &Default::default(),
        PlanOptions::at(1_700_000_000_000_000),
    )
    .unwrap();
    assert_eq!(report.files_scanned, 3);
    assert_eq!(report.rows_rejected, 1);
    assert_eq!(report.files_matched, 2);
    assert_eq!(report.bytes_matched, 400);

    let missing = Alto::plan_inventory(
        &rules,
        &dir.path().join("nope.csv"),
        &Default::default(),
        PlanOptions::at(0),
    )
    .unwrap_err();
    assert_eq!(missing.kind(), ErrorKind::Io);
}

#[tokio::test]
async fn apply_batch_counts_bad_updates_and_refuses_other_text() {
    let dir = tempfile::tempdir().unwrap();
    let t = tenant_with_files(dir.path()).await;
    let batch = r#"{"update_batch_id": "b-1", "updates": [
        {"file_path": "/m/a.mov", "last_accessed": "2024-06-01T00:00:00Z", "access_type": "read"},
        {"last_accessed": "2024-06-01T00:00:00Z"}]}"#;
    let report = t
        .apply_batch("media", batch, "test", &FeedRequest::default())
        .await
        .unwrap();
    assert_eq!((report.applied, report.malformed, report.read), (1, 1, 2));
    let err = t
        .apply_batch("media", "[1, 2]", "test", &FeedRequest::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.message().contains("test"), "{err}");
}
