//! A tier object's location cannot be redirected (issue 14, deliverable 3): the target URI and
//! the stored object's key are written only by planning and stubbing. Raw SQL as a tenant-bound
//! login and as the all-tenants service login tries every other write; each is refused by the
//! database, the row stays as it was, and the store's own flows (plan, stub, rehydrate, re-plan,
//! a move) still work through the guard.

mod common;

use alto_core::store::tiering::{PlanCommit, PlannedFile, PlannedJobSpec};
use alto_core::store::{IngestChunk, PlanInfo, ScanKind, ScanSpec, ShareSpec, TransitionRequest};
use alto_core::types::{FileEntry, ShareKind, StoredObject, TenantId, TenantSettings, TierObject};
use alto_core::worker::{object_key_of, split_target_uri};
use alto_core::{Action, TierState};
use alto_core::{ErrorKind, Store};
use alto_pg::PgStore;
use alto_pg::login;
use sqlx::{Connection, PgConnection};

const T0: i64 = 1_700_000_000_000_000;

async fn ingest(store: &PgStore, t: TenantId, paths: &[&str]) {
    store
        .ensure_share(t, &ShareSpec::new("data", ShareKind::Posix))
        .await
        .unwrap();
    let spec = ScanSpec {
        share: "data".into(),
        kind: ScanKind::Full,
        source: Some("inv".into()),
    };
    let scan = store.begin_scan(t, &spec).await.unwrap();
    let chunk = IngestChunk {
        id: "0".into(),
        entries: paths
            .iter()
            .map(|p| FileEntry {
                path: (*p).into(),
                size: 7,
                accessed: Some(T0),
                modified: Some(T0),
                ..Default::default()
            })
            .collect(),
    };
    store.ingest_chunk(t, scan.id, &chunk).await.unwrap();
    store.finish_scan(t, scan.id).await.unwrap();
}

async fn plan(store: &PgStore, t: TenantId, paths: &[&str]) {
    let plan = PlanCommit {
        at: T0,
        jobs: vec![PlannedJobSpec {
            rule: "cold".into(),
            target: "file:///tier/".into(),
            priority: 1,
            estimate: Default::default(),
            files: paths
                .iter()
                .map(|p| PlannedFile {
                    share: "data".into(),
                    path_key: (*p).into(),
                    target_uri: format!("file:///tier{p}"),
                })
                .collect(),
        }],
    };
    store.tiering().commit_plan(t, &plan).await.unwrap();
}

fn stored_for(tenant: &str, obj: &TierObject) -> StoredObject {
    StoredObject {
        key: object_key_of(tenant, obj).unwrap(),
        size: 7,
        sha256: "0".repeat(64),
        etag: None,
        uid: 1000,
        gid: 1000,
        mode: 0o640,
        modified: T0,
    }
}

async fn act(
    store: &PgStore,
    t: TenantId,
    obj: &TierObject,
    action: Action,
    stored: Option<StoredObject>,
) -> TierObject {
    let req = TransitionRequest {
        share: "data".into(),
        path_key: obj.path_key.clone(),
        action,
        expected: Some((obj.state, obj.version)),
        plan: (action == Action::Plan).then(|| PlanInfo {
            rule: "again".into(),
            target_uri: format!("file:///tier2{}", obj.path_key),
        }),
        stored,
        at: T0 + 1,
    };
    store.transition(t, &req).await.unwrap().unwrap()
}

/// Run `stmt` (with `$1` = the tenant id) in a transaction that is rolled back; the refusal's
/// message, or the rows it changed.
async fn run(conn: &mut PgConnection, t: TenantId, stmt: &str) -> Result<u64, String> {
    let mut tx = conn.begin().await.unwrap();
    let _ = sqlx::query("SELECT set_config('app.tenant_id', $1, true)")
        .bind(t.0.to_string())
        .execute(&mut *tx)
        .await;
    let r = sqlx::query(sqlx::AssertSqlSafe(stmt.to_owned()))
        .bind(t.0)
        .execute(&mut *tx)
        .await;
    let _ = tx.rollback().await;
    r.map(|r| r.rows_affected()).map_err(|e| e.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_sql_cannot_redirect_a_tier_object() {
    let db = common::TestDb::new("tier_guard").await;
    let store = db.store().await;
    let a = store
        .create_tenant("tenant-a", &TenantSettings::default())
        .await
        .unwrap();
    let b = store
        .create_tenant("tenant-b", &TenantSettings::default())
        .await
        .unwrap();
    for t in [a.id, b.id] {
        ingest(&store, t, &["/x/stubbed.bin", "/x/planned.bin"]).await;
        plan(&store, t, &["/x/stubbed.bin", "/x/planned.bin"]).await;
    }
    // Each tenant's /x/stubbed.bin is stubbed through the store, as a worker does it.
    let mut stubbed = Vec::new();
    for (t, name) in [(a.id, "tenant-a"), (b.id, "tenant-b")] {
        let o = store
            .tier_object(t, "data", "/x/stubbed.bin")
            .await
            .unwrap();
        let o = act(&store, t, &o, Action::Stub, Some(stored_for(name, &o))).await;
        assert_eq!(o.state, TierState::Stubbed);
        stubbed.push(o);
    }
    let b_key = stubbed[1].stored.as_ref().unwrap().key.clone();
    let a_obj = stubbed[0].clone();
    let a_planned = store
        .tier_object(a.id, "data", "/x/planned.bin")
        .await
        .unwrap();
    let a_planned_key = object_key_of("tenant-a", &a_planned).unwrap();

    let role = common::role_name("guard");
    login::create_login(&db.url, &role, Some("tenant-a"), None)
        .await
        .unwrap();
    let bound = common::with_user(&db.url, &role);
    let service = db.app_url();

    let stmts = [
        // Point A's stub at B's object, in full or by parts.
        format!("UPDATE tier_object SET object_key = '{b_key}' WHERE tenant_id = $1 AND path_key = '/x/stubbed.bin'"),
        "UPDATE tier_object SET object_key = object_key || 'x' WHERE tenant_id = $1 AND path_key = '/x/stubbed.bin'".to_owned(),
        "UPDATE tier_object SET object_sha256 = repeat('f', 64) WHERE tenant_id = $1 AND path_key = '/x/stubbed.bin'".to_owned(),
        "UPDATE tier_object SET file_mode = 2541 WHERE tenant_id = $1 AND path_key = '/x/stubbed.bin'".to_owned(),
        // Another target for a stub, with or without a new incarnation.
        "UPDATE tier_object SET target_uri = 'file:///etc/x/stubbed.bin' WHERE tenant_id = $1 AND path_key = '/x/stubbed.bin'".to_owned(),
        "UPDATE tier_object SET incarnation = incarnation + 1, state = 'PLANNED', target_uri = 'file:///etc/x/stubbed.bin', \
             object_key = NULL, object_size = NULL, object_sha256 = NULL, object_etag = NULL, owner_uid = NULL, \
             owner_gid = NULL, file_mode = NULL, original_mtime_utc = NULL \
         WHERE tenant_id = $1 AND path_key = '/x/stubbed.bin'".to_owned(),
        // States outside the lifecycle table; an incarnation going back.
        "UPDATE tier_object SET state = 'PLANNED' WHERE tenant_id = $1 AND path_key = '/x/stubbed.bin'".to_owned(),
        "UPDATE tier_object SET state = 'REHYDRATED' WHERE tenant_id = $1 AND path_key = '/x/planned.bin'".to_owned(),
        "UPDATE tier_object SET incarnation = 0 WHERE tenant_id = $1 AND path_key = '/x/stubbed.bin'".to_owned(),
        // Stubbing a planned object with a key that is not its own (B's; another id's).
        format!("UPDATE tier_object SET state = 'STUBBED', object_key = '{b_key}', object_size = 7, \
             object_sha256 = repeat('0', 64), owner_uid = 0, owner_gid = 0, file_mode = 420, original_mtime_utc = now() \
         WHERE tenant_id = $1 AND path_key = '/x/planned.bin'"),
        format!("UPDATE tier_object SET state = 'STUBBED', object_key = '{}', object_size = 7, \
             object_sha256 = repeat('0', 64), owner_uid = 0, owner_gid = 0, file_mode = 420, original_mtime_utc = now() \
         WHERE tenant_id = $1 AND path_key = '/x/planned.bin'", a_obj.stored.as_ref().unwrap().key),
        // Moving a row to another share or identity.
        "UPDATE tier_object SET share_id = share_id + 1 WHERE tenant_id = $1 AND path_key = '/x/stubbed.bin'".to_owned(),
        // A row born stubbed, with a stored object.
        format!("INSERT INTO tier_object (tenant_id, share_id, path_key, full_path, state, version, incarnation, \
             target_uri, planned_by, planned_utc, object_key, object_size, object_sha256, owner_uid, owner_gid, \
             file_mode, original_mtime_utc) \
         SELECT $1, share_id, '/x/new.bin', '/x/new.bin', 'STUBBED', 1, 1, 'file:///tier/x/new.bin', 'r', now(), \
             '{b_key}', 7, repeat('0', 64), 0, 0, 420, now() FROM share WHERE tenant_id = $1"),
    ];
    for (who, url) in [("bound", &bound), ("service", &service)] {
        let mut c = PgConnection::connect(url).await.unwrap();
        for stmt in &stmts {
            let e = run(&mut c, a.id, stmt)
                .await
                .expect_err(&format!("{who}: {stmt}"));
            assert!(
                e.contains("tier object") || e.contains("a new tier object"),
                "{who}: {stmt}: {e}"
            );
        }
        // What planning and stubbing write is still allowed to raw SQL: re-targeting a planned
        // object, and stubbing it with its own key.
        let ok = run(
            &mut c,
            a.id,
            "UPDATE tier_object SET target_uri = 'file:///tier3/x/planned.bin' WHERE tenant_id = $1 AND path_key = '/x/planned.bin'",
        )
        .await;
        assert_eq!(ok, Ok(1), "{who}");
        let ok = run(
            &mut c,
            a.id,
            &format!(
                "UPDATE tier_object SET state = 'STUBBED', object_key = '{a_planned_key}', object_size = 7, \
                 object_sha256 = repeat('0', 64), owner_uid = 0, owner_gid = 0, file_mode = 420, \
                 original_mtime_utc = now() WHERE tenant_id = $1 AND path_key = '/x/planned.bin'"
            ),
        )
        .await;
        assert_eq!(ok, Ok(1), "{who}");
        let _ = c.close().await;
    }
    // Nothing changed.
    let after = store
        .tier_object(a.id, "data", "/x/stubbed.bin")
        .await
        .unwrap();
    assert_eq!(after, a_obj);
    assert_eq!(
        store
            .tier_object(a.id, "data", "/x/planned.bin")
            .await
            .unwrap(),
        a_planned
    );

    // The store's own flows pass the guard: rehydrate, re-plan (a new incarnation, elsewhere),
    // stub it again with the new incarnation's key.
    let o = act(&store, a.id, &a_obj, Action::Rehydrate, None).await;
    assert_eq!(o.state, TierState::Rehydrated);
    let o = act(&store, a.id, &o, Action::Plan, None).await;
    assert_eq!((o.state, o.incarnation), (TierState::Planned, 2));
    assert!(o.stored.is_none());
    let o = act(
        &store,
        a.id,
        &o,
        Action::Stub,
        Some(stored_for("tenant-a", &o)),
    )
    .await;
    assert_eq!(o.state, TierState::Stubbed);
    assert!(o.stored.as_ref().unwrap().key.ends_with(".2"));
    let _ = split_target_uri("tenant-a", &o).unwrap();

    // A stub recorded with another object's key is refused by the store as well.
    let p = store
        .tier_object(a.id, "data", "/x/planned.bin")
        .await
        .unwrap();
    let mut bad = stored_for("tenant-a", &p);
    bad.key = b_key.clone();
    let req = TransitionRequest {
        share: "data".into(),
        path_key: p.path_key.clone(),
        action: Action::Stub,
        expected: Some((p.state, p.version)),
        plan: None,
        stored: Some(bad),
        at: T0 + 2,
    };
    let e = store.transition(a.id, &req).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::PermissionDenied, "{e}");
    db.drop().await;
}

/// Run `stmt` (with `$1` = the tenant id) in a transaction that is rolled back; the first column
/// of its first row as text, or the refusal's message.
async fn scalar(conn: &mut PgConnection, t: TenantId, stmt: &str) -> Result<String, String> {
    let mut tx = conn.begin().await.unwrap();
    let _ = sqlx::query("SELECT set_config('app.tenant_id', $1, true)")
        .bind(t.0.to_string())
        .execute(&mut *tx)
        .await;
    let r: Result<String, _> = sqlx::query_scalar(sqlx::AssertSqlSafe(stmt.to_owned()))
        .bind(t.0)
        .fetch_one(&mut *tx)
        .await;
    let _ = tx.rollback().await;
    r.map_err(|e| e.to_string())
}

/// Schema version 12: the LOST flag is written only on a STUBBED object that stays STUBBED, and
/// never with anything of its location; every new tier object gets an id from the database's
/// sequence, recorded for its tenant in a ledger no login writes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_sql_flags_lost_only_as_reconciliation_does_and_cannot_pick_tier_ids() {
    let db = common::TestDb::new("tier_guard_lost").await;
    let store = db.store().await;
    let a = store
        .create_tenant("tenant-a", &TenantSettings::default())
        .await
        .unwrap();
    let b = store
        .create_tenant("tenant-b", &TenantSettings::default())
        .await
        .unwrap();
    for t in [a.id, b.id] {
        ingest(
            &store,
            t,
            &["/x/stubbed.bin", "/x/planned.bin", "/x/new.bin"],
        )
        .await;
        plan(&store, t, &["/x/stubbed.bin", "/x/planned.bin"]).await;
    }
    let mut stubbed = Vec::new();
    for (t, name) in [(a.id, "tenant-a"), (b.id, "tenant-b")] {
        let o = store
            .tier_object(t, "data", "/x/stubbed.bin")
            .await
            .unwrap();
        stubbed.push(act(&store, t, &o, Action::Stub, Some(stored_for(name, &o))).await);
    }
    let b_id = stubbed[1].id;
    let b_key = stubbed[1].stored.as_ref().unwrap().key.clone();
    let a_obj = stubbed[0].clone();

    let role = common::role_name("guardlost");
    login::create_login(&db.url, &role, Some("tenant-a"), None)
        .await
        .unwrap();
    let bound = common::with_user(&db.url, &role);
    let service = db.app_url();
    let lost = "lost_utc = now(), lost_reason = 'missing'";
    let refused = [
        // The flag on an object that is not STUBBED, or with a state change.
        format!(
            "UPDATE tier_object SET {lost} WHERE tenant_id = $1 AND path_key = '/x/planned.bin'"
        ),
        format!(
            "UPDATE tier_object SET {lost}, state = 'REHYDRATED' WHERE tenant_id = $1 AND path_key = '/x/stubbed.bin'"
        ),
        // With the flag, a location: another stored key, another target.
        format!(
            "UPDATE tier_object SET {lost}, object_key = '{b_key}' WHERE tenant_id = $1 AND path_key = '/x/stubbed.bin'"
        ),
        format!(
            "UPDATE tier_object SET {lost}, target_uri = 'file:///etc/x/stubbed.bin' WHERE tenant_id = $1 AND path_key = '/x/stubbed.bin'"
        ),
        // A row born lost.
        "INSERT INTO tier_object (tenant_id, share_id, path_key, full_path, state, version, incarnation, \
             target_uri, planned_by, planned_utc, lost_utc, lost_reason) \
         SELECT $1, share_id, '/x/new.bin', '/x/new.bin', 'PLANNED', 1, 1, 'file:///tier/x/new.bin', 'r', now(), \
             now(), 'missing' FROM share WHERE tenant_id = $1"
            .to_owned(),
    ];
    for (who, url) in [("bound", &bound), ("service", &service)] {
        let mut c = PgConnection::connect(url).await.unwrap();
        for stmt in &refused {
            let e = run(&mut c, a.id, stmt)
                .await
                .expect_err(&format!("{who}: {stmt}"));
            assert!(e.contains("tier object"), "{who}: {stmt}: {e}");
        }
        // What reconciliation writes: the flag on a STUBBED object, and clearing it.
        for stmt in [
            format!("UPDATE tier_object SET {lost} WHERE tenant_id = $1 AND path_key = '/x/stubbed.bin'"),
            "UPDATE tier_object SET lost_utc = NULL, lost_reason = NULL WHERE tenant_id = $1 AND path_key = '/x/stubbed.bin'".to_owned(),
        ] {
            assert_eq!(run(&mut c, a.id, &stmt).await, Ok(1), "{who}: {stmt}");
        }
        // A half-set flag is refused by the table.
        let e = run(
            &mut c,
            a.id,
            "UPDATE tier_object SET lost_utc = now() WHERE tenant_id = $1 AND path_key = '/x/stubbed.bin'",
        )
        .await
        .unwrap_err();
        assert!(e.contains("tier_object_lost_whole"), "{who}: {e}");
        // An id of the statement's choosing is not taken: B's id, a future one.
        for want in [b_id, b_id + 1_000_000] {
            let got = scalar(
                &mut c,
                a.id,
                &format!(
                    "INSERT INTO tier_object (tenant_id, tier_id, share_id, path_key, full_path, state, \
                         version, incarnation, target_uri, planned_by, planned_utc) \
                     OVERRIDING SYSTEM VALUE \
                     SELECT $1, {want}, share_id, '/x/new.bin', '/x/new.bin', 'PLANNED', 1, 1, \
                         'file:///tier/x/new.bin', 'r', now() FROM share WHERE tenant_id = $1 \
                     RETURNING tier_id::text"
                ),
            )
            .await
            .unwrap_or_else(|e| panic!("{who}: {e}"));
            assert_ne!(got, want.to_string(), "{who}: the database gives the id");
            assert!(got.parse::<i64>().unwrap() > b_id, "{who}: {got}");
        }
        // The ledger is the owner's to write; its tenant's rows are all a login reads.
        for stmt in [
            format!("INSERT INTO tier_id_ledger (tenant_id, tier_id) VALUES ($1, {b_id})"),
            format!("UPDATE tier_id_ledger SET tenant_id = $1 WHERE tier_id = {b_id}"),
            "DELETE FROM tier_id_ledger WHERE tenant_id = $1".to_owned(),
            "SELECT alto_tier_id_ledger_add()".to_owned(),
        ] {
            let e = run(&mut c, a.id, &stmt).await.expect_err(&stmt);
            assert!(e.contains("permission denied"), "{who}: {stmt}: {e}");
        }
        let seen = scalar(
            &mut c,
            a.id,
            &format!(
                "SELECT count(*)::text FROM tier_id_ledger WHERE tier_id = {b_id} OR tenant_id <> $1"
            ),
        )
        .await;
        assert_eq!(seen, Ok("0".into()), "{who}");
        let _ = c.close().await;
    }
    assert_eq!(
        store
            .tier_object(a.id, "data", "/x/stubbed.bin")
            .await
            .unwrap(),
        a_obj,
        "nothing changed"
    );
    assert_eq!(
        store.owned_tier_ids(a.id, &[a_obj.id, b_id]).await.unwrap(),
        [a_obj.id]
    );
    assert_eq!(
        store.owned_tier_ids(b.id, &[a_obj.id, b_id]).await.unwrap(),
        [b_id]
    );
    db.drop().await;
}
