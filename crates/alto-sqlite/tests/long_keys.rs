//! Schema version 6 on a database of version 5 that holds a path key longer than
//! `alto_core::path::MAX_KEY_BYTES` (written before inventories refused such paths): opening it
//! moves the record, with its directory, name and tier object, to its bounded key
//! (`alto_core::path::bound_key`), where an ingest of the same path finds it. A database without
//! such a key is not re-keyed.

use alto_core::path::{
    KeyRule, MAX_KEY_BYTES, dir_hash64, is_long_key_marker, object_key, share_key, split_dir,
};
use alto_core::store::{IngestChunk, ScanKind, ScanSpec};
use alto_core::worker::target_root;
use alto_core::{ErrorKind, FileEntry, ShareKind, Store, TierState};
use alto_sqlite::{SqliteStore, schema_version};
use sqlx::{ConnectOptions, SqliteConnection};
use std::path::Path;

async fn connect(db: &Path) -> SqliteConnection {
    sqlx::sqlite::SqliteConnectOptions::new()
        .filename(db)
        .create_if_missing(true)
        .foreign_keys(true)
        .connect()
        .await
        .unwrap()
}

/// A 4,000-byte path of 100-byte names.
fn long_path() -> String {
    let mut p = String::from("/srv");
    let mut i = 0;
    while p.len() < 4_000 {
        let seg = format!("/d{i:03}{}", "x".repeat(95));
        p.push_str(&seg[..seg.len().min(4_000 - p.len())]);
        i += 1;
    }
    p
}

/// A version 5 database whose key step has run, holding `rows` (id, key, full path), each key
/// as it was stored (unbounded), and a STUBBED tier object on record 1.
async fn version_5(dir: &Path, rows: &[(i64, String, String)]) -> std::path::PathBuf {
    let db = dir.join("v5.db");
    let v5 = dir.join("migrations");
    std::fs::create_dir(&v5).unwrap();
    for m in [
        "0001_schema.sql",
        "0002_tiering_feeds.sql",
        "0003_seen_by_snapshot.sql",
        "0004_share_roots_stored_objects.sql",
        "0005_path_key_collisions.sql",
    ] {
        std::fs::copy(
            format!("{}/migrations/{m}", env!("CARGO_MANIFEST_DIR")),
            v5.join(m),
        )
        .unwrap();
    }
    let mut conn = connect(&db).await;
    sqlx::migrate::Migrator::new(v5.as_path())
        .await
        .unwrap()
        .run(&mut conn)
        .await
        .unwrap();
    for stmt in [
        "UPDATE alto_meta SET value = '{\"rederived\":0}' WHERE key = 'path_keys'",
        "INSERT INTO tenant VALUES (1, 'acme', '{}', 0)",
        "INSERT INTO share (share_id, tenant_id, name, kind, case_sensitive, created_utc) \
         VALUES (1, 1, 'p', 'posix', 1, 0)",
        "INSERT INTO scan (scan_id, tenant_id, share_id, kind, source, started_utc, finished_utc) \
         VALUES (1, 1, 1, 'full', NULL, 0, 0)",
    ] {
        sqlx::query(sqlx::AssertSqlSafe(stmt))
            .execute(&mut conn)
            .await
            .unwrap();
    }
    for (id, key, full) in rows {
        let (dir, name) = split_dir(key);
        sqlx::query(
            "INSERT OR IGNORE INTO dir (tenant_id, share_id, dir_path, dir_hash64) \
             VALUES (1, 1, ?1, ?2)",
        )
        .bind(dir)
        .bind(dir_hash64(dir))
        .execute(&mut conn)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO file_current (file_current_id, tenant_id, share_id, dir_id, name, \
             path_key, full_path, size_bytes, last_accessed_source, first_seen_scan_id, \
             last_seen_scan_id, updated_utc) \
             SELECT ?1, 1, 1, dir_id, ?2, ?3, ?4, 7, 'initial_scan', 1, 1, 0 FROM dir \
             WHERE tenant_id = 1 AND share_id = 1 AND dir_path = ?5",
        )
        .bind(id)
        .bind(name)
        .bind(key)
        .bind(full)
        .bind(dir)
        .execute(&mut conn)
        .await
        .unwrap();
    }
    sqlx::query(
        "INSERT INTO tier_object (tier_id, tenant_id, share_id, file_current_id, path_key, \
         full_path, state, version, incarnation, target_uri, planned_by, planned_utc) \
         SELECT 1, tenant_id, share_id, file_current_id, path_key, full_path, 'STUBBED', 2, 1, \
         ?1, 'r', 10 FROM file_current WHERE file_current_id = 1",
    )
    .bind(format!("file:///t/{}", object_key(&rows[0].1).unwrap()))
    .execute(&mut conn)
    .await
    .unwrap();
    db
}

async fn path_keys(conn: &mut SqliteConnection) -> String {
    sqlx::query_scalar("SELECT value FROM alto_meta WHERE key = 'path_keys'")
        .fetch_one(&mut *conn)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_key_stored_unbounded_is_bounded() {
    assert!(schema_version() >= 6);
    let long = long_path();
    let rows = [
        (1, long.clone(), long.clone()),
        (2, "/srv/short".to_owned(), "/srv/short".to_owned()),
    ];
    let dir = tempfile::tempdir().unwrap();
    let db = version_5(dir.path(), &rows).await;
    let url = db.display().to_string();
    let store = SqliteStore::open(&url).await.unwrap();

    let bounded = share_key(KeyRule::new(ShareKind::Posix, true), &long);
    assert!(bounded.len() <= MAX_KEY_BYTES && bounded != long);
    let t = store.tenant("acme").await.unwrap();
    let o = store.tier_object(t.id, "p", &bounded).await.unwrap();
    let uri = format!("file:///t/{}", object_key(&bounded).unwrap());
    assert_eq!(
        (o.state, o.version, o.path.as_str(), o.target_uri.as_str()),
        (TierState::Stubbed, 3, long.as_str(), uri.as_str())
    );
    assert_eq!(target_root(&o).unwrap(), "file:///t/");
    let e = store.tier_object(t.id, "p", &long).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");

    // An ingest of the same paths finds both records.
    let scan = store
        .begin_scan(t.id, &ScanSpec::new("p", ScanKind::Full))
        .await
        .unwrap();
    let chunk = IngestChunk {
        id: "0".into(),
        entries: rows
            .iter()
            .map(|(_, _, full)| FileEntry {
                path: full.clone(),
                size: 7,
                ..Default::default()
            })
            .collect(),
    };
    let out = store.ingest_chunk(t.id, scan.id, &chunk).await.unwrap();
    assert_eq!((out.new, out.changed, out.unchanged), (0, 0, 2));
    store.finish_scan(t.id, scan.id).await.unwrap();
    store.close().await;

    let mut conn = connect(&db).await;
    let got: Vec<(i64, String, String, String)> = sqlx::query_as(
        "SELECT f.file_current_id, f.path_key, f.name, d.dir_path FROM file_current AS f \
         JOIN dir AS d ON d.dir_id = f.dir_id ORDER BY 1",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let (bdir, bname) = split_dir(&bounded);
    assert!(is_long_key_marker(bname));
    assert_eq!(
        got,
        [
            (1, bounded.clone(), bname.to_owned(), bdir.to_owned()),
            (2, "/srv/short".into(), "short".into(), "/srv".into()),
        ]
    );
    let report: serde_json::Value = serde_json::from_str(&path_keys(&mut conn).await).unwrap();
    assert_eq!(report["rederived"], 1, "{report}");
    let version: i64 = sqlx::query_scalar("PRAGMA user_version")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(version, schema_version());
}

#[tokio::test]
async fn short_keys_are_not_re_keyed() {
    let rows = [(1, "/srv/a".to_owned(), "/srv/a".to_owned())];
    let dir = tempfile::tempdir().unwrap();
    let db = version_5(dir.path(), &rows).await;
    SqliteStore::open(&db.display().to_string())
        .await
        .unwrap()
        .close()
        .await;
    let mut conn = connect(&db).await;
    assert_eq!(path_keys(&mut conn).await, "{\"rederived\":0}");
    let version: i64 = sqlx::query_scalar("PRAGMA user_version")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(version, schema_version());
}
