//! The core's conformance suite against PostgreSQL, as the application role: the same promises
//! the memory store keeps, including the optional parts (job queue, access feeds).

mod common;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance() {
    let db = common::TestDb::new("conformance").await;
    let store = db.store().await;
    alto_core::testkit::run_all(&store).await;
    store.pool().close().await;
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tiering_queue() {
    let db = common::TestDb::new("tiering").await;
    let store = db.store().await;
    alto_core::testkit::tiering_queue(&store).await;
    store.pool().close().await;
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feeds_apply() {
    let db = common::TestDb::new("feeds").await;
    let store = db.store().await;
    alto_core::testkit::feeds_apply(&store).await;
    store.pool().close().await;
    db.drop().await;
}

/// One file looked up by key (`Tiering::file`, what workers re-check) reports the same last seen
/// scan as the listing: a full scan with history leaves unchanged rows alone, and both read it
/// through the share.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn last_seen_of_one_file() {
    use alto_core::store::{IngestChunk, ScanKind, ScanSpec, ShareSpec, Tiering};
    use alto_core::{FileEntry, ShareKind, Store, TenantSettings};
    let db = common::TestDb::new("lastseen").await;
    let store = db.store().await;
    let t = store
        .create_tenant("seen", &TenantSettings::default())
        .await
        .unwrap();
    store
        .ensure_share(t.id, &ShareSpec::new("data", ShareKind::Posix))
        .await
        .unwrap();
    let mut scans = Vec::new();
    for _ in 0..2 {
        let spec = ScanSpec::new("data", ScanKind::Full);
        let scan = store.begin_scan(t.id, &spec).await.unwrap();
        let chunk = IngestChunk {
            id: "0".into(),
            entries: vec![FileEntry {
                path: "/a".into(),
                size: 1,
                ..Default::default()
            }],
        };
        let out = store.ingest_chunk(t.id, scan.id, &chunk).await.unwrap();
        store.finish_scan(t.id, scan.id).await.unwrap();
        scans.push((scan.id, out.unchanged));
    }
    assert_eq!(scans[1].1, 1, "the second scan found /a unchanged");
    let one = store.file(t.id, "data", "/a").await.unwrap();
    assert_eq!(one.last_seen_scan, scans[1].0);
    assert_eq!(one.first_seen_scan, scans[0].0);
    store.pool().close().await;
    db.drop().await;
}

/// Reports on random data: PostgreSQL and the memory store agree.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_agree_with_memory() {
    let db = common::TestDb::new("reports").await;
    let store = db.store().await;
    let reference = alto_core::MemoryStore::new();
    for seed in [1, 7, 42] {
        alto_core::testkit::reports_agree(&[&reference, &store], seed).await;
    }
    alto_core::testkit::reports(&store).await;
    store.pool().close().await;
    db.drop().await;
}
