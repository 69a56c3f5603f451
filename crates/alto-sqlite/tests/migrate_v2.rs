//! Schema versions 2 (the job queue and access feeds) and 3 (unchanged files left unwritten) on a
//! database created by version 1: opening it migrates in place, keeps its tier objects and files,
//! and the queue, feeds and scans work on it.

use alto_core::store::tiering::{ClaimRequest, PlanCommit, PlannedFile, PlannedJobSpec};
use alto_core::store::{FileQuery, IngestChunk, ScanKind, ScanSpec};
use alto_core::{Estimate, FileEntry, Store, TierState};
use alto_sqlite::{SqliteStore, schema_version};
use sqlx::ConnectOptions;

#[tokio::test]
async fn a_version_1_database_is_migrated() {
    assert!(schema_version() >= 2);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("v1.db");
    // Version 1 exactly as it shipped: only the first migration.
    let v1 = dir.path().join("migrations");
    std::fs::create_dir(&v1).unwrap();
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/0001_schema.sql"),
        v1.join("0001_schema.sql"),
    )
    .unwrap();
    let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(&db)
        .create_if_missing(true)
        .foreign_keys(true)
        .connect()
        .await
        .unwrap();
    sqlx::migrate::Migrator::new(v1.as_path())
        .await
        .unwrap()
        .run(&mut conn)
        .await
        .unwrap();
    for stmt in [
        "INSERT INTO tenant VALUES (1, 'acme', '{}', 0)",
        "INSERT INTO share VALUES (1, 1, 'data', 'posix', 1, NULL, 0)",
        "INSERT INTO scan VALUES (1, 1, 1, 'full', NULL, 0, 0)",
        "INSERT INTO dir VALUES (1, 1, 1, '/d', 0)",
        "INSERT INTO file_current (file_current_id, tenant_id, share_id, dir_id, name, path_key, \
         full_path, size_bytes, last_accessed_source, first_seen_scan_id, last_seen_scan_id, \
         updated_utc) VALUES (1, 1, 1, 1, 'a', '/d/a', '/d/a', 5, 'initial_scan', 1, 1, 0), \
         (2, 1, 1, 1, 'b', '/d/b', '/d/b', 7, 'initial_scan', 1, 1, 0)",
        "INSERT INTO tier_object VALUES (1, 1, 1, 1, '/d/a', '/d/a', 'STUBBED', 2, 1, \
         'file:///t/d/a', 'old', 10, 20, NULL, 0)",
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
    assert_eq!(version, 1);
    drop(conn);

    let store = SqliteStore::open(&db.display().to_string()).await.unwrap();
    let version: i64 = sqlx::query_scalar("PRAGMA user_version")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(version, schema_version());
    let t = store.tenant("acme").await.unwrap();
    let a = store.tier_object(t.id, "data", "/d/a").await.unwrap();
    assert_eq!(
        (a.state, a.version, a.target_uri.as_str(), a.acted_at),
        (TierState::Stubbed, 2, "file:///t/d/a", Some(20)),
        "tier objects survive the rebuild"
    );
    let q = store.tiering();
    let plan = PlanCommit {
        at: 30,
        jobs: vec![PlannedJobSpec {
            rule: "r".into(),
            target: "file:///t/".into(),
            priority: 1,
            estimate: Estimate::default(),
            files: ["/d/a", "/d/b"]
                .iter()
                .map(|k| PlannedFile {
                    share: "data".into(),
                    path_key: (*k).into(),
                    target_uri: format!("file:///t{k}"),
                })
                .collect(),
        }],
    };
    let out = q.commit_plan(t.id, &plan).await.unwrap();
    assert_eq!((out.planned, out.already_stubbed, out.jobs), (1, 1, 1));
    let lease = q
        .claim_job(
            t.id,
            &ClaimRequest {
                worker: "w".into(),
                lease: 1_000,
                now: 40,
            },
        )
        .await
        .unwrap()
        .unwrap();
    let objs = q.job_objects(t.id, lease.job.id).await.unwrap();
    assert_eq!(
        objs.iter().map(|o| o.path_key.as_str()).collect::<Vec<_>>(),
        ["/d/b"]
    );
    store.close().await;

    // Opening again changes nothing.
    let store = SqliteStore::open(&db.display().to_string()).await.unwrap();
    let t = store.tenant("acme").await.unwrap();
    assert_eq!(
        store.tier_object(t.id, "data", "/d/b").await.unwrap().state,
        TierState::Planned
    );

    // Version 3: the migrated files keep the scan that last saw them; a full scan with history
    // that finds /d/a unchanged and not /d/b names itself for /d/a, and /d/b keeps scan 1.
    let seen = async |store: &SqliteStore| {
        let q = FileQuery {
            include_missing: true,
            ..Default::default()
        };
        let page = store.files(t.id, &q).await.unwrap();
        page.items
            .into_iter()
            .map(|f| (f.path_key, f.last_seen_scan, f.missing_since.is_some()))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        seen(&store).await,
        [("/d/a".into(), 1, false), ("/d/b".into(), 1, false)]
    );
    let scan = store
        .begin_scan(t.id, &ScanSpec::new("data", ScanKind::Full))
        .await
        .unwrap();
    let chunk = IngestChunk {
        id: "0".into(),
        entries: vec![FileEntry {
            path: "/d/a".into(),
            size: 5,
            ..Default::default()
        }],
    };
    let out = store.ingest_chunk(t.id, scan.id, &chunk).await.unwrap();
    assert_eq!((out.new, out.changed, out.unchanged), (0, 0, 1));
    assert_eq!(store.finish_scan(t.id, scan.id).await.unwrap().missing, 1);
    assert_eq!(
        seen(&store).await,
        [("/d/a".into(), scan.id, false), ("/d/b".into(), 1, true)]
    );
    store.close().await;
}
