//! Schema version 4 (share roots, stored objects) on a database created by version 3: opening it
//! migrates in place, its shares have no root and its tier objects no stored object, and names
//! stored before the name rule are still found.

use alto_core::lifecycle::Action;
use alto_core::store::{ShareSpec, TransitionRequest};
use alto_core::{ShareKind, Store, StoredObject, TierState};
use alto_sqlite::{SqliteStore, schema_version};
use sqlx::ConnectOptions;

#[tokio::test]
async fn a_version_3_database_is_migrated() {
    assert!(schema_version() >= 4);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("v3.db");
    // Version 3 exactly as it shipped: the first three migrations.
    let v3 = dir.path().join("migrations");
    std::fs::create_dir(&v3).unwrap();
    for m in [
        "0001_schema.sql",
        "0002_tiering_feeds.sql",
        "0003_seen_by_snapshot.sql",
    ] {
        std::fs::copy(
            format!("{}/migrations/{m}", env!("CARGO_MANIFEST_DIR")),
            v3.join(m),
        )
        .unwrap();
    }
    let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(&db)
        .create_if_missing(true)
        .foreign_keys(true)
        .connect()
        .await
        .unwrap();
    sqlx::migrate::Migrator::new(v3.as_path())
        .await
        .unwrap()
        .run(&mut conn)
        .await
        .unwrap();
    // Names from before the name rule: a space in both.
    for stmt in [
        "INSERT INTO tenant VALUES (1, 'acme corp', '{}', 0)",
        "INSERT INTO share (share_id, tenant_id, name, kind, case_sensitive, mount_root, \
         created_utc) VALUES (1, 1, 'old data', 'posix', 1, NULL, 0)",
        "INSERT INTO scan (scan_id, tenant_id, share_id, kind, source, started_utc, finished_utc) \
         VALUES (1, 1, 1, 'full', NULL, 0, 0)",
        "INSERT INTO dir VALUES (1, 1, 1, '/d', 0)",
        "INSERT INTO file_current (file_current_id, tenant_id, share_id, dir_id, name, path_key, \
         full_path, size_bytes, last_accessed_source, first_seen_scan_id, last_seen_scan_id, \
         updated_utc) VALUES (1, 1, 1, 1, 'a', '/d/a', '/d/a', 5, 'initial_scan', 1, 1, 0)",
        "INSERT INTO tier_object (tier_id, tenant_id, share_id, file_current_id, path_key, \
         full_path, state, version, incarnation, target_uri, planned_by, planned_utc, acted_utc) \
         VALUES (1, 1, 1, 1, '/d/a', '/d/a', 'STUBBED', 2, 1, 'file:///t/d/a', 'old', 10, 20)",
    ] {
        sqlx::query(sqlx::AssertSqlSafe(stmt))
            .execute(&mut conn)
            .await
            .unwrap();
    }
    let version: i64 = sqlx::query_scalar("PRAGMA user_version")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(version, 3);
    drop(conn);

    let store = SqliteStore::open(&db.display().to_string()).await.unwrap();
    let version: i64 = sqlx::query_scalar("PRAGMA user_version")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(version, schema_version());
    let meta: String =
        sqlx::query_scalar("SELECT value FROM alto_meta WHERE key = 'schema_version'")
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert_eq!(meta, schema_version().to_string());

    // The old names still work; the rows read as before, with nothing new recorded.
    let t = store.tenant("acme corp").await.unwrap();
    let shares = store.shares(t.id).await.unwrap();
    assert_eq!(shares.len(), 1);
    assert_eq!(
        (shares[0].name.as_str(), shares[0].root.as_deref()),
        ("old data", None)
    );
    let a = store.tier_object(t.id, "old data", "/d/a").await.unwrap();
    assert_eq!(
        (a.state, a.version, a.acted_at, a.stored.as_ref()),
        (TierState::Stubbed, 2, Some(20), None),
        "a migrated object has no stored object"
    );
    // ensure_share finds the share by its old name (no name check for an existing share) and
    // gives it the root it lacks.
    let s = store
        .ensure_share(
            t.id,
            &ShareSpec::new("old data", ShareKind::Posix).with_root("/srv/old"),
        )
        .await
        .unwrap();
    assert_eq!((s.id, s.root.as_deref()), (1, Some("/srv/old")));
    // A new share of an invalid name is still refused.
    let e = store
        .ensure_share(t.id, &ShareSpec::new("new data", ShareKind::Posix))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), alto_core::ErrorKind::InvalidInput, "{e}");
    // Rehydrating the old stub keeps "nothing recorded"; planning and stubbing again records.
    let req = |action, expected, stored| TransitionRequest {
        share: "old data".into(),
        path_key: "/d/a".into(),
        action,
        expected,
        stored,
        plan: Some(alto_core::store::PlanInfo {
            rule: "r".into(),
            target_uri: "file:///t/d/a".into(),
        }),
        at: 30,
    };
    let a = store
        .transition(
            t.id,
            &req(Action::Rehydrate, Some((a.state, a.version)), None),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(a.stored, None);
    let a = store
        .transition(t.id, &req(Action::Plan, Some((a.state, a.version)), None))
        .await
        .unwrap()
        .unwrap();
    let stored = StoredObject {
        key: alto_core::worker::object_key_of(&t.name, &a).unwrap(),
        size: 5,
        sha256: "ab".repeat(32),
        etag: None,
        uid: 1,
        gid: 2,
        mode: 0o640,
        modified: 7,
    };
    let a = store
        .transition(
            t.id,
            &req(
                Action::Stub,
                Some((a.state, a.version)),
                Some(stored.clone()),
            ),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(a.stored.as_ref(), Some(&stored));
    store.close().await;

    // Opening again changes nothing.
    let store = SqliteStore::open(&db.display().to_string()).await.unwrap();
    let t = store.tenant("acme corp").await.unwrap();
    let a = store.tier_object(t.id, "old data", "/d/a").await.unwrap();
    assert_eq!((a.incarnation, a.stored), (2, Some(stored)));
    assert_eq!(
        store.shares(t.id).await.unwrap()[0].root.as_deref(),
        Some("/srv/old")
    );
    store.close().await;
}
