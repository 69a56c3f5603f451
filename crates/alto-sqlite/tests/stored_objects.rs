//! What the SQLite store records of a stubbed file's stored object, column by column, and what it
//! refuses to record.

use alto_core::lifecycle::Action;
use alto_core::store::{IngestChunk, PlanInfo, ScanKind, ScanSpec, ShareSpec, TransitionRequest};
use alto_core::{ErrorKind, FileEntry, ShareKind, Store, StoredObject, TenantSettings};
use alto_sqlite::SqliteStore;

#[tokio::test]
async fn stored_objects_round_trip_and_oversize_is_refused() {
    let store = SqliteStore::open("sqlite::memory:").await.unwrap();
    let t = store
        .create_tenant("acme", &TenantSettings::default())
        .await
        .unwrap();
    store
        .ensure_share(t.id, &ShareSpec::new("data", ShareKind::Posix))
        .await
        .unwrap();
    let scan = store
        .begin_scan(t.id, &ScanSpec::new("data", ScanKind::Full))
        .await
        .unwrap();
    let chunk = IngestChunk {
        id: "0".into(),
        entries: vec![FileEntry {
            path: "/a".into(),
            size: 1,
            ..Default::default()
        }],
    };
    store.ingest_chunk(t.id, scan.id, &chunk).await.unwrap();
    store.finish_scan(t.id, scan.id).await.unwrap();
    let req = |action, expected, stored| TransitionRequest {
        share: "data".into(),
        path_key: "/a".into(),
        action,
        expected,
        stored,
        plan: Some(PlanInfo {
            rule: "r".into(),
            target_uri: "file:///t/a".into(),
        }),
        at: 1,
    };
    let o = store
        .transition(t.id, &req(Action::Plan, None, None))
        .await
        .unwrap()
        .unwrap();
    let big = StoredObject {
        key: alto_core::worker::object_key_of(&t.name, &o).unwrap(),
        size: u64::MAX,
        sha256: "00".repeat(32),
        etag: Some("e".into()),
        uid: u32::MAX,
        gid: 0,
        mode: 0o600,
        modified: i64::MIN,
    };
    let e = store
        .transition(
            t.id,
            &req(Action::Stub, Some((o.state, o.version)), Some(big.clone())),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
    assert!(e.to_string().contains("size"), "{e}");
    let still = store.tier_object(t.id, "data", "/a").await.unwrap();
    assert_eq!(still, o, "a refused stub writes nothing");

    let fits = StoredObject {
        size: i64::MAX as u64,
        ..big
    };
    let o = store
        .transition(
            t.id,
            &req(Action::Stub, Some((o.state, o.version)), Some(fits.clone())),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(o.stored.as_ref(), Some(&fits));
    let row: (String, i64, String, Option<String>, i64, i64, i64, i64) = sqlx::query_as(
        "SELECT object_key, object_size, object_sha256, object_etag, owner_uid, owner_gid, \
         file_mode, original_mtime_utc FROM tier_object",
    )
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert_eq!(
        row,
        (
            fits.key.clone(),
            i64::MAX,
            "00".repeat(32),
            Some("e".into()),
            i64::from(u32::MAX),
            0,
            0o600,
            i64::MIN
        )
    );
}
