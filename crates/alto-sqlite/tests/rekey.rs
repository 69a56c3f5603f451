//! Schema version 5 on a database created by version 4: opening it re-derives the path keys by
//! the share's rule (`alto_core::path::share_key`). Records whose new key is free move to it with
//! their name, directory and tier object; a record whose new key another record holds stays
//! beside it and is listed in `path_key_collision`; the outcome is in `alto_meta` (`path_keys`).
//! Opening again, and running the step again, changes nothing; an ingest of the same paths finds
//! the moved records.

use alto_core::path::{dir_hash64, object_key, split_dir};
use alto_core::store::{FileQuery, IngestChunk, ScanKind, ScanSpec};
use alto_core::worker::target_root;
use alto_core::{ErrorKind, FileEntry, Store, TierState};
use alto_sqlite::{SqliteStore, schema_version};
use sqlx::{ConnectOptions, SqliteConnection};
use std::path::Path;

const NFD: &str = "Cafe\u{301}";
const NFC: &str = "Caf\u{e9}";

/// (id, tenant, share, old key, full path) of every record of the version 4 database.
fn rows() -> Vec<(i64, i64, i64, String, String)> {
    let r = |id, t, s, k: &str, f: &str| (id, t, s, k.to_owned(), f.to_owned());
    vec![
        // Share 1, POSIX: `\` is no separator, `//` no single one, a trailing `/` stays.
        r(1, 1, 1, "/x/a/b", r"/x/a\b"),
        r(2, 1, 1, &format!("/n/{NFD}.txt"), &format!("/n/{NFD}.txt")),
        // The NFD spelling of a name whose NFC spelling is another record: a collision.
        r(3, 1, 1, &format!("/c/{NFD}"), &format!("/c/{NFD}")),
        r(4, 1, 1, &format!("/c/{NFC}"), &format!("/c/{NFC}")),
        r(5, 1, 1, "/x/plain", "/x/plain"),
        r(6, 1, 1, "/x/\u{fc}", "/x/\u{fc}"),
        r(7, 1, 1, "/x/y", "/x//y"),
        r(8, 1, 1, "/x/z", "/x/z/"),
        // A drive-letter path keeps the Windows normal form on any share.
        r(9, 1, 1, "C:/Data/f", r"C:\Data\f"),
        // 11 leaves `/q/é` (its `\` is a name's now) and 10, NFD, takes it: a wave later.
        r(10, 1, 1, "/q/e\u{301}", "/q/e\u{301}"),
        r(11, 1, 1, "/q/\u{e9}", "/q/\u{e9}\\"),
        // Share 2, NTFS, case-insensitive: `\` separates, keys are folded, and NFC now.
        r(12, 1, 2, "//fs/s/cafe\u{301}", &format!(r"\\fs\s\{NFD}")),
        r(13, 1, 2, "c:/data/x", r"C:\Data\X"),
        // Another tenant, the same path: re-keyed in its own share.
        r(14, 2, 3, "/x/a/b", r"/x/a\b"),
    ]
}

/// The new keys (`None`: unchanged).
fn new_key(id: i64) -> Option<String> {
    Some(match id {
        1 | 14 => r"/x/a\b".to_owned(),
        2 => format!("/n/{NFC}.txt"),
        7 => "/x//y".to_owned(),
        8 => "/x/z/".to_owned(),
        10 => "/q/\u{e9}".to_owned(),
        11 => "/q/\u{e9}\\".to_owned(),
        12 => "//fs/s/caf\u{e9}".to_owned(),
        _ => return None,
    })
}

async fn connect(db: &Path) -> SqliteConnection {
    sqlx::sqlite::SqliteConnectOptions::new()
        .filename(db)
        .create_if_missing(true)
        .foreign_keys(true)
        .connect()
        .await
        .unwrap()
}

/// A version 4 database exactly as it shipped, with keys made by the older rule.
async fn version_4(dir: &Path) -> std::path::PathBuf {
    let db = dir.join("v4.db");
    let v4 = dir.join("migrations");
    std::fs::create_dir(&v4).unwrap();
    for m in [
        "0001_schema.sql",
        "0002_tiering_feeds.sql",
        "0003_seen_by_snapshot.sql",
        "0004_share_roots_stored_objects.sql",
    ] {
        std::fs::copy(
            format!("{}/migrations/{m}", env!("CARGO_MANIFEST_DIR")),
            v4.join(m),
        )
        .unwrap();
    }
    let mut conn = connect(&db).await;
    sqlx::migrate::Migrator::new(v4.as_path())
        .await
        .unwrap()
        .run(&mut conn)
        .await
        .unwrap();
    for stmt in [
        "INSERT INTO tenant VALUES (1, 'acme', '{}', 0), (2, 'other', '{}', 0)",
        "INSERT INTO share (share_id, tenant_id, name, kind, case_sensitive, created_utc) \
         VALUES (1, 1, 'p', 'posix', 1, 0), (2, 1, 'w', 'ntfs', 0, 0), \
         (3, 2, 'p', 'posix', 1, 0)",
        "INSERT INTO scan (scan_id, tenant_id, share_id, kind, source, started_utc, finished_utc) \
         VALUES (1, 1, 1, 'full', NULL, 0, 0), (2, 1, 2, 'full', NULL, 0, 0), \
         (3, 2, 3, 'full', NULL, 0, 0)",
    ] {
        sqlx::query(sqlx::AssertSqlSafe(stmt))
            .execute(&mut conn)
            .await
            .unwrap();
    }
    for (id, tenant, share, key, full) in rows() {
        let (dir, name) = split_dir(&key);
        sqlx::query(
            "INSERT OR IGNORE INTO dir (tenant_id, share_id, dir_path, dir_hash64) \
             VALUES (?1, ?2, ?3, ?4)",
        )
        .bind(tenant)
        .bind(share)
        .bind(dir)
        .bind(dir_hash64(dir))
        .execute(&mut conn)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO file_current (file_current_id, tenant_id, share_id, dir_id, name, \
             path_key, full_path, size_bytes, last_accessed_source, first_seen_scan_id, \
             last_seen_scan_id, updated_utc) \
             SELECT ?1, ?2, ?3, dir_id, ?4, ?5, ?6, ?1 * 10, 'initial_scan', ?3, ?3, 0 FROM dir \
             WHERE tenant_id = ?2 AND share_id = ?3 AND dir_path = ?7",
        )
        .bind(id)
        .bind(tenant)
        .bind(share)
        .bind(name)
        .bind(&key)
        .bind(&full)
        .bind(dir)
        .execute(&mut conn)
        .await
        .unwrap();
    }
    // Tier objects on moved records (one whose object key NFC changes), on the two records of
    // the wave, and on one that stays. A target URI ends in the object key of the path key.
    for (tier, file, state) in [
        (1, 1, "STUBBED"),
        (2, 10, "PLANNED"),
        (3, 11, "PLANNED"),
        (4, 5, "STUBBED"),
        (5, 2, "STUBBED"),
    ] {
        let key = &rows()[file - 1].3;
        sqlx::query(
            "INSERT INTO tier_object (tier_id, tenant_id, share_id, file_current_id, path_key, \
             full_path, state, version, incarnation, target_uri, planned_by, planned_utc) \
             SELECT ?1, tenant_id, share_id, file_current_id, path_key, full_path, ?3, 2, 1, \
             ?4, 'r', 10 FROM file_current WHERE file_current_id = ?2",
        )
        .bind(tier)
        .bind(file as i64)
        .bind(state)
        .bind(format!("file:///t/{}", object_key(key).unwrap()))
        .execute(&mut conn)
        .await
        .unwrap();
    }
    let version: i64 = sqlx::query_scalar("PRAGMA user_version")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(version, 4);
    drop(conn);
    db
}

/// Everything the step may touch, as text rows.
async fn state(conn: &mut SqliteConnection) -> Vec<String> {
    let mut out: Vec<String> = sqlx::query_scalar(
        "SELECT 'file ' || f.file_current_id || ' ' || f.tenant_id || ' ' || f.share_id || ' ' \
         || f.path_key || ' | ' || f.name || ' | ' || d.dir_path || ' | ' || f.full_path || ' ' \
         || f.updated_utc FROM file_current AS f JOIN dir AS d ON d.dir_id = f.dir_id \
         ORDER BY f.file_current_id",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    out.extend(
        sqlx::query_scalar::<_, String>(
            "SELECT 'object ' || tier_id || ' ' || file_current_id || ' ' || path_key || ' ' || \
             version FROM tier_object ORDER BY tier_id",
        )
        .fetch_all(&mut *conn)
        .await
        .unwrap(),
    );
    out.extend(
        sqlx::query_scalar::<_, String>(
            "SELECT 'collision ' || collision_id || ' ' || tenant_id || ' ' || share_id || ' ' || \
             file_current_id || ' ' || old_key || ' | ' || full_path || ' | ' || new_key || ' ' \
             || other_id || ' ' || recorded_utc FROM path_key_collision ORDER BY collision_id",
        )
        .fetch_all(&mut *conn)
        .await
        .unwrap(),
    );
    out.push(
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM dir")
            .fetch_one(&mut *conn)
            .await
            .unwrap()
            .to_string(),
    );
    out
}

async fn outcome(conn: &mut SqliteConnection) -> serde_json::Value {
    let v: String = sqlx::query_scalar("SELECT value FROM alto_meta WHERE key = 'path_keys'")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    serde_json::from_str(&v).unwrap()
}

#[tokio::test]
async fn a_version_4_database_gets_the_shares_keys() {
    assert!(schema_version() >= 5);
    let dir = tempfile::tempdir().unwrap();
    let db = version_4(dir.path()).await;
    let url = db.display().to_string();

    let store = SqliteStore::open(&url).await.unwrap();
    store.close().await;
    let mut conn = connect(&db).await;
    let version: i64 = sqlx::query_scalar("PRAGMA user_version")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(version, schema_version());

    // Every record is where the new rule puts it, with the name and directory of its key.
    let keys: Vec<(i64, String, String, String, String)> = sqlx::query_as(
        "SELECT f.file_current_id, f.path_key, f.name, d.dir_path, f.full_path \
         FROM file_current AS f JOIN dir AS d ON d.dir_id = f.dir_id \
         AND d.tenant_id = f.tenant_id AND d.share_id = f.share_id ORDER BY 1",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert_eq!(keys.len(), rows().len());
    for ((id, key, name, dir, full), (id0, _, _, old, full0)) in keys.iter().zip(rows()) {
        assert_eq!((*id, full), (id0, &full0), "the path is kept as received");
        let want = new_key(*id).unwrap_or(old);
        assert_eq!(key, &want, "record {id}");
        assert_eq!(
            (dir.as_str(), name.as_str()),
            split_dir(&want),
            "record {id}"
        );
    }

    // The collision: both records kept, listed once.
    let collisions: Vec<(i64, i64, i64, String, String, String, i64)> = sqlx::query_as(
        "SELECT tenant_id, share_id, file_current_id, old_key, full_path, new_key, other_id \
         FROM path_key_collision",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert_eq!(
        collisions,
        [(
            1,
            1,
            3,
            format!("/c/{NFD}"),
            format!("/c/{NFD}"),
            format!("/c/{NFC}"),
            4
        )]
    );
    let report = outcome(&mut conn).await;
    assert_eq!(
        (
            &report["rederived"],
            &report["collisions"],
            &report["recorded"]
        ),
        (&8.into(), &1.into(), &1.into()),
        "{report}"
    );
    let before = state(&mut conn).await;
    drop(conn);

    // Tier objects followed their records (one version on), and are found by the new keys.
    let store = SqliteStore::open(&url).await.unwrap();
    let t = store.tenant("acme").await.unwrap();
    let o = store.tier_object(t.id, "p", r"/x/a\b").await.unwrap();
    assert_eq!(
        (o.state, o.version, o.path.as_str(), o.target_uri.as_str()),
        (TierState::Stubbed, 3, r"/x/a\b", "file:///t/x/a/b")
    );
    assert_eq!(target_root(&o).unwrap(), "file:///t/");
    // NFC changes the object key too: the target URI's end follows it.
    let o = store
        .tier_object(t.id, "p", &format!("/n/{NFC}.txt"))
        .await
        .unwrap();
    assert_eq!(
        (o.version, o.target_uri.as_str()),
        (3, &*format!("file:///t/n/{NFC}.txt"))
    );
    assert_eq!(target_root(&o).unwrap(), "file:///t/");
    let e = store.tier_object(t.id, "p", "/x/a/b").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    for k in ["/q/\u{e9}", "/q/\u{e9}\\"] {
        let o = store.tier_object(t.id, "p", k).await.unwrap();
        assert_eq!((o.state, o.version), (TierState::Planned, 3), "{k}");
    }
    assert_eq!(
        store
            .tier_object(t.id, "p", "/x/plain")
            .await
            .unwrap()
            .version,
        2,
        "an object whose record stays is untouched"
    );
    store.close().await;

    // Opening again changes nothing; nor does the step itself, run again.
    let store = SqliteStore::open(&url).await.unwrap();
    store.close().await;
    let mut conn = connect(&db).await;
    assert_eq!(state(&mut conn).await, before);
    sqlx::query("UPDATE alto_meta SET value = 'pending' WHERE key = 'path_keys'")
        .execute(&mut conn)
        .await
        .unwrap();
    drop(conn);
    let store = SqliteStore::open(&url).await.unwrap();
    store.close().await;
    let mut conn = connect(&db).await;
    assert_eq!(state(&mut conn).await, before, "a re-run changes nothing");
    let report = outcome(&mut conn).await;
    assert_eq!(
        (
            &report["rederived"],
            &report["collisions"],
            &report["recorded"]
        ),
        (&0.into(), &1.into(), &0.into()),
        "{report}"
    );
    drop(conn);

    // An ingest of the same paths finds the moved records: nothing new, nothing changed. (The
    // folder row `/x/z/` is an inventory's to skip; the NFD spelling of `/c/Café` is left out.)
    let store = SqliteStore::open(&url).await.unwrap();
    let entries: Vec<FileEntry> = rows()
        .into_iter()
        .filter(|(id, tenant, share, ..)| (*tenant, *share) == (1, 1) && ![3, 8].contains(id))
        .map(|(id, _, _, _, full)| FileEntry {
            path: full,
            size: id as u64 * 10,
            ..Default::default()
        })
        .collect();
    let n = entries.len() as u64;
    let scan = store
        .begin_scan(t.id, &ScanSpec::new("p", ScanKind::Full))
        .await
        .unwrap();
    let out = store
        .ingest_chunk(
            t.id,
            scan.id,
            &IngestChunk {
                id: "0".into(),
                entries,
            },
        )
        .await
        .unwrap();
    assert_eq!((out.new, out.changed, out.unchanged), (0, 0, n));
    let summary = store.finish_scan(t.id, scan.id).await.unwrap();
    assert_eq!(summary.missing, 2, "the NFD record and the folder row");
    let files = store
        .files(
            t.id,
            &FileQuery {
                share: Some("p".into()),
                include_missing: true,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(files.items.len(), 11, "no new records");
    store.close().await;
}

/// How long the step takes on a large version 4 database (`ALTO_REKEY_ROWS` records, default a
/// million; one in 50 has a `\` and one in 100 an NFD name, so 3% move): run with `--ignored`.
#[tokio::test]
#[ignore = "a benchmark: cargo test --release -p alto-sqlite --test rekey -- --ignored"]
async fn rekey_a_large_database() {
    let n: i64 = std::env::var("ALTO_REKEY_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().unwrap();
    let db = version_4(dir.path()).await;
    let mut conn = connect(&db).await;
    let t = std::time::Instant::now();
    sqlx::query(
        "WITH RECURSIVE n (i) AS (SELECT 100 UNION ALL SELECT i + 1 FROM n WHERE i < ?1 + 99), \
         p (i, key, full) AS (SELECT i, \
             CASE WHEN i % 50 = 0 THEN '/big/d' || (i % 1000) || '/a/f' || i \
                  WHEN i % 100 = 1 THEN '/big/d' || (i % 1000) || '/Cafe' || char(769) || i \
                  ELSE '/big/d' || (i % 1000) || '/f' || i END, \
             CASE WHEN i % 50 = 0 THEN '/big/d' || (i % 1000) || '/a\\f' || i \
                  WHEN i % 100 = 1 THEN '/big/d' || (i % 1000) || '/Cafe' || char(769) || i \
                  ELSE '/big/d' || (i % 1000) || '/f' || i END FROM n) \
         INSERT INTO file_current (file_current_id, tenant_id, share_id, dir_id, name, path_key, \
             full_path, size_bytes, last_accessed_source, first_seen_scan_id, \
             last_seen_scan_id, updated_utc) \
         SELECT i, 1, 1, 1, 'f', key, full, i, 'initial_scan', 1, 1, 0 FROM p",
    )
    .bind(n)
    .execute(&mut conn)
    .await
    .unwrap();
    drop(conn);
    eprintln!("{n} records written in {:.1?}", t.elapsed());
    let t = std::time::Instant::now();
    let store = SqliteStore::open(&db.display().to_string()).await.unwrap();
    eprintln!("opened (re-keyed) in {:.1?}", t.elapsed());
    store.close().await;
    let mut conn = connect(&db).await;
    let report = outcome(&mut conn).await;
    eprintln!("{report}");
    let moved = (100..n + 100)
        .filter(|i| i % 50 == 0 || i % 100 == 1)
        .count() as u64;
    assert_eq!(report["rederived"], serde_json::Value::from(moved + 8));
}
