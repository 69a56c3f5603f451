//! Schema version 7 (share roots, stored objects) on a database at version 6: `migrate` adds the
//! columns in place, existing shares have no root and existing tier objects no stored object,
//! names stored before the name rule are still found, and the store records and refuses stored
//! objects as it should.

mod common;

use alto_core::lifecycle::Action;
use alto_core::store::{PlanInfo, ShareSpec, TransitionRequest};
use alto_core::{ErrorKind, ShareKind, Store, StoredObject, TierState};
use sqlx::{Connection, Executor};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_6_database_is_migrated() {
    let db = common::TestDb::empty("mig6").await;
    // Version 6 exactly as it shipped: the first six migrations, as `migrate` runs them.
    let tmp = tempfile::tempdir().unwrap();
    for m in [
        "0001_schema.sql",
        "0002_audit.sql",
        "0003_security.sql",
        "0004_tiering_feeds.sql",
        "0005_seen_by_snapshot.sql",
        "0006_seen_chunk.sql",
    ] {
        std::fs::copy(
            format!("{}/migrations/{m}", env!("CARGO_MANIFEST_DIR")),
            tmp.path().join(m),
        )
        .unwrap();
    }
    let mut c = db.owner().await;
    c.execute(
        "DO $$ BEGIN CREATE ROLE alto_app NOLOGIN NOSUPERUSER NOBYPASSRLS; \
         EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$",
    )
    .await
    .unwrap();
    sqlx::migrate::Migrator::new(tmp.path())
        .await
        .unwrap()
        .run(&mut c)
        .await
        .unwrap();
    // Rows of version 6, with names from before the name rule (a space in each).
    let tenant: i64 =
        sqlx::query_scalar("INSERT INTO tenant (name) VALUES ('acme corp') RETURNING tenant_id")
            .fetch_one(&mut c)
            .await
            .unwrap();
    let share: i64 = sqlx::query_scalar(
        "INSERT INTO share (tenant_id, name, kind, case_sensitive) \
         VALUES ($1, 'old data', 'posix', true) RETURNING share_id",
    )
    .bind(tenant)
    .fetch_one(&mut c)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO file_current (tenant_id, share_id, dir_id, size_bytes, first_seen_scan_id, \
         last_seen_scan_id, changed_chunk_id, path_key, full_path, last_accessed_source) \
         VALUES ($1, $2, 0, 5, 0, 0, 0, '/d/a', '/d/a', 'initial_scan')",
    )
    .bind(tenant)
    .bind(share)
    .execute(&mut c)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO tier_object (tenant_id, share_id, path_key, full_path, state, version, \
         incarnation, target_uri, planned_by, planned_utc, acted_utc) \
         VALUES ($1, $2, '/d/a', '/d/a', 'STUBBED', 2, 1, 'file:///t/d/a', 'old', now(), now())",
    )
    .bind(tenant)
    .bind(share)
    .execute(&mut c)
    .await
    .unwrap();
    c.close().await.unwrap();

    alto_pg::migrate(&db.url).await.expect("migrate 6 -> 7");
    let store = db.store().await;
    let t = store.tenant("acme corp").await.unwrap();
    let shares = store.shares(t.id).await.unwrap();
    assert_eq!(shares.len(), 1);
    assert_eq!(
        (shares[0].name.as_str(), shares[0].root.as_deref()),
        ("old data", None)
    );
    let a = store.tier_object(t.id, "old data", "/d/a").await.unwrap();
    assert_eq!(
        (a.state, a.version, a.stored.as_ref()),
        (TierState::Stubbed, 2, None),
        "a migrated object has no stored object"
    );
    // Version 12 records the ids present as their tenants' (and gives no id twice after them).
    assert_eq!(
        store.owned_tier_ids(t.id, &[a.id, a.id + 1]).await.unwrap(),
        [a.id]
    );
    assert!(a.lost.is_none());
    // ensure_share finds the share by its old name and gives it the root it lacks; a new share
    // of such a name is refused.
    let s = store
        .ensure_share(
            t.id,
            &ShareSpec::new("old data", ShareKind::Posix).with_root("/srv/old"),
        )
        .await
        .unwrap();
    assert_eq!((s.id, s.root.as_deref()), (share, Some("/srv/old")));
    let e = store
        .ensure_share(t.id, &ShareSpec::new("new data", ShareKind::Posix))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");

    let req = |action, expected, stored| TransitionRequest {
        share: "old data".into(),
        path_key: "/d/a".into(),
        action,
        expected,
        stored,
        plan: Some(PlanInfo {
            rule: "r".into(),
            target_uri: "file:///t/d/a".into(),
        }),
        at: 1_700_000_000_000_000,
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
    // What PostgreSQL cannot hold is refused, and nothing is written.
    let stored = StoredObject {
        key: alto_core::worker::object_key_of(&t.name, &a).unwrap(),
        size: u64::MAX,
        sha256: "ab".repeat(32),
        etag: Some("\"e\"".into()),
        uid: u32::MAX,
        gid: 0,
        mode: 0o4755,
        modified: -1,
    };
    let e = store
        .transition(
            t.id,
            &req(
                Action::Stub,
                Some((a.state, a.version)),
                Some(stored.clone()),
            ),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
    assert!(e.to_string().contains("size"), "{e}");
    let far = StoredObject {
        size: 1,
        modified: i64::MIN,
        ..stored.clone()
    };
    let e = store
        .transition(
            t.id,
            &req(Action::Stub, Some((a.state, a.version)), Some(far)),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
    assert_eq!(
        store.tier_object(t.id, "old data", "/d/a").await.unwrap(),
        a
    );
    let fits = StoredObject {
        size: i64::MAX as u64,
        ..stored
    };
    let a = store
        .transition(
            t.id,
            &req(Action::Stub, Some((a.state, a.version)), Some(fits.clone())),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!((a.incarnation, a.stored.as_ref()), (2, Some(&fits)));
    assert_eq!(
        store
            .tier_object(t.id, "old data", "/d/a")
            .await
            .unwrap()
            .stored,
        Some(fits)
    );
    store.pool().close().await;
    db.drop().await;
}
