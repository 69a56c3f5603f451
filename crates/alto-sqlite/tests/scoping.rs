//! Tenant scoping: SQLite has no row-level security, so the store API itself must make another
//! tenant's rows unreachable. Tenant B uses the same share name as A, and tries every method with
//! A's names, keys, scan ids, cursors and audit ids.

use alto_core::lifecycle::Action;
use alto_core::store::{
    FileQuery, IngestChunk, PlanInfo, ScanKind, ScanSpec, ShareSpec, TransitionRequest,
};
use alto_core::{ErrorKind, FileEntry, NewAuditEvent, ShareKind, Store, TenantSettings};
use alto_sqlite::SqliteStore;

fn entry(path: &str) -> FileEntry {
    FileEntry {
        path: path.into(),
        size: 10,
        ..Default::default()
    }
}

async fn scoping(store: &SqliteStore) {
    let a = store
        .create_tenant("a", &TenantSettings::default())
        .await
        .unwrap();
    let b = store
        .create_tenant("b", &TenantSettings::default())
        .await
        .unwrap();
    let spec = ShareSpec::new("data", ShareKind::Posix);
    let sa = store.ensure_share(a.id, &spec).await.unwrap();
    let sb = store.ensure_share(b.id, &spec).await.unwrap();
    assert_ne!(sa.id, sb.id, "same name, different shares");

    // A ingests two pages' worth of files and plans one.
    let scan = store
        .begin_scan(
            a.id,
            &ScanSpec {
                share: "data".into(),
                kind: ScanKind::Full,
                source: Some("inv".into()),
            },
        )
        .await
        .unwrap();
    let chunk = IngestChunk {
        id: "0".into(),
        entries: (0..5).map(|i| entry(&format!("/secret/{i}"))).collect(),
    };
    store.ingest_chunk(a.id, scan.id, &chunk).await.unwrap();
    let plan = TransitionRequest {
        share: "data".into(),
        path_key: "/secret/0".into(),
        action: Action::Plan,
        expected: None,
        stored: None,
        plan: Some(PlanInfo {
            rule: "r".into(),
            target_uri: "file:///t".into(),
        }),
        at: 1,
    };
    store.transition(a.id, &plan).await.unwrap();
    let parent = store
        .append_audit(
            a.id,
            &NewAuditEvent {
                kind: "k".into(),
                subject: "s".into(),
                detail: serde_json::json!({}),
                parent: None,
            },
        )
        .await
        .unwrap();
    let page = store
        .files(
            a.id,
            &FileQuery {
                limit: 2,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let cursor = page.next.clone().expect("A has a second page");

    // B: every read is empty or NotFound.
    let everything = FileQuery {
        include_missing: true,
        ..Default::default()
    };
    assert!(
        store
            .files(b.id, &everything)
            .await
            .unwrap()
            .items
            .is_empty()
    );
    let after_a = FileQuery {
        after: Some(cursor),
        include_missing: true,
        ..Default::default()
    };
    assert!(store.files(b.id, &after_a).await.unwrap().items.is_empty());
    let stubbed = FileQuery {
        state: Some(alto_core::TierState::Planned),
        ..Default::default()
    };
    assert!(store.files(b.id, &stubbed).await.unwrap().items.is_empty());
    assert_eq!(
        store
            .tier_object(b.id, "data", "/secret/0")
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );
    assert!(store.audit(b.id, None, 0).await.unwrap().items.is_empty());

    // B: every write aimed at A's rows is NotFound and changes nothing.
    let foreign_chunk = IngestChunk {
        id: "x".into(),
        entries: vec![entry("/secret/0")],
    };
    for e in [
        store
            .ingest_chunk(b.id, scan.id, &foreign_chunk)
            .await
            .unwrap_err(),
        store.finish_scan(b.id, scan.id).await.unwrap_err(),
        store
            .transition(
                b.id,
                &TransitionRequest {
                    action: Action::Withdraw,
                    expected: Some((alto_core::TierState::Planned, 1)),
                    stored: None,
                    plan: None,
                    ..plan.clone()
                },
            )
            .await
            .unwrap_err(),
        store
            .append_audit(
                b.id,
                &NewAuditEvent {
                    kind: "k".into(),
                    subject: "s".into(),
                    detail: serde_json::json!({}),
                    parent: Some(parent.id),
                },
            )
            .await
            .unwrap_err(),
    ] {
        assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    }
    // B's own full scan of its same-named share leaves A's files alone.
    let bscan = store
        .begin_scan(
            b.id,
            &ScanSpec {
                share: "data".into(),
                kind: ScanKind::Full,
                source: Some("inv".into()),
            },
        )
        .await
        .unwrap();
    assert_ne!(
        bscan.id, scan.id,
        "B does not resume A's scan of the same source"
    );
    assert!(!bscan.resumed);
    store
        .ingest_chunk(b.id, bscan.id, &foreign_chunk)
        .await
        .unwrap();
    assert_eq!(store.finish_scan(b.id, bscan.id).await.unwrap().missing, 0);

    // A still has exactly what it had.
    let mine = store.files(a.id, &everything).await.unwrap().items;
    assert_eq!(mine.len(), 5);
    assert!(
        mine.iter()
            .all(|f| f.missing_since.is_none() && f.last_seen_scan == scan.id)
    );
    assert_eq!(
        store
            .tier_object(a.id, "data", "/secret/0")
            .await
            .unwrap()
            .version,
        1
    );
    let theirs = store.files(b.id, &everything).await.unwrap().items;
    assert_eq!(theirs.len(), 1);
    assert_eq!(theirs[0].state, None, "A's tier object is not B's");

    // An unknown tenant id reaches nothing either.
    let ghost = alto_core::TenantId(i64::MAX);
    assert!(
        store
            .files(ghost, &everything)
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert_eq!(
        store.ensure_share(ghost, &spec).await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
}

#[tokio::test]
async fn a_tenant_sees_nothing_of_another_on_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("s.db").display().to_string())
        .await
        .unwrap();
    scoping(&store).await;
}

#[tokio::test]
async fn a_tenant_sees_nothing_of_another_in_memory() {
    scoping(&SqliteStore::open("sqlite::memory:").await.unwrap()).await;
}
