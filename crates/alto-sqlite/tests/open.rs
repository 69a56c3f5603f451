//! Opening: URL forms, reopening, and refusing files that are not Alto databases.

use alto_core::store::{FileQuery, IngestChunk, ScanKind, ScanSpec, ShareSpec};
use alto_core::{ErrorKind, FileEntry, ShareKind, Store, TenantSettings};
use alto_sqlite::{APPLICATION_ID, SqliteStore, schema_version};
use sqlx::{ConnectOptions, Connection};
use std::path::Path;

async fn raw(path: &Path) -> sqlx::SqliteConnection {
    sqlx::sqlite::SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .connect()
        .await
        .unwrap()
}

#[tokio::test]
async fn every_url_form_opens_the_same_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("alto.db");
    let p = path.display().to_string();
    let store = SqliteStore::open(&format!("sqlite://{p}")).await.unwrap();
    let t = store
        .create_tenant("acme", &TenantSettings::default())
        .await
        .unwrap();
    store.close().await;
    for url in [format!("sqlite:{p}"), p.clone(), format!("sqlite://{p}")] {
        let s = SqliteStore::open(&url).await.unwrap();
        assert_eq!(s.tenant("acme").await.unwrap().id, t.id, "{url}");
        s.close().await;
    }
    let app: i32 = sqlx::query_scalar("PRAGMA application_id")
        .fetch_one(&mut raw(&path).await)
        .await
        .unwrap();
    assert_eq!(app, APPLICATION_ID);
}

#[tokio::test]
async fn reopening_keeps_the_state_and_wal_mode() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("a.db").display());
    let store = SqliteStore::open(&url).await.unwrap();
    let t = store
        .create_tenant("t", &TenantSettings::default())
        .await
        .unwrap();
    store
        .ensure_share(t.id, &ShareSpec::new("s", ShareKind::Posix))
        .await
        .unwrap();
    let scan = store
        .begin_scan(
            t.id,
            &ScanSpec {
                share: "s".into(),
                kind: ScanKind::Full,
                source: Some("inv".into()),
            },
        )
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
    drop(store);

    let again = SqliteStore::open(&url).await.unwrap();
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(again.pool())
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    let page: i64 = sqlx::query_scalar("PRAGMA page_size")
        .fetch_one(again.pool())
        .await
        .unwrap();
    assert_eq!(page, 16384, "a new database gets 16 KiB pages");
    let t2 = again.tenant("t").await.unwrap();
    assert_eq!(t2.id, t.id);
    let files = again.files(t.id, &FileQuery::default()).await.unwrap();
    assert_eq!(files.items.len(), 1);
    // The unfinished scan resumes, and its chunk stays applied.
    let resumed = again
        .begin_scan(
            t.id,
            &ScanSpec {
                share: "s".into(),
                kind: ScanKind::Full,
                source: Some("inv".into()),
            },
        )
        .await
        .unwrap();
    assert!(resumed.resumed);
    assert!(
        !again
            .ingest_chunk(t.id, resumed.id, &chunk)
            .await
            .unwrap()
            .applied
    );
}

#[tokio::test]
async fn an_empty_file_becomes_a_new_database() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.db");
    std::fs::write(&path, b"").unwrap();
    let store = SqliteStore::open(&path.display().to_string())
        .await
        .unwrap();
    store
        .create_tenant("x", &TenantSettings::default())
        .await
        .unwrap();
}

#[tokio::test]
async fn a_text_file_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.db");
    let text = b"file_path,file_size\n/a,1\n";
    std::fs::write(&path, text).unwrap();
    let e = SqliteStore::open(&format!("sqlite://{}", path.display()))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    let m = e.to_string();
    assert!(m.contains(&path.display().to_string()), "{m}");
    assert!(m.contains("is not an SQLite database"), "{m}");
    assert_eq!(std::fs::read(&path).unwrap(), text);
}

#[tokio::test]
async fn another_programs_database_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.db");
    {
        let mut c = raw(&path).await;
        sqlx::query("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
            .execute(&mut c)
            .await
            .unwrap();
        c.close().await.unwrap();
    }
    let before = std::fs::read(&path).unwrap();
    let e = SqliteStore::open(&path.display().to_string())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    let m = e.to_string();
    assert!(m.contains(&path.display().to_string()), "{m}");
    assert!(m.contains("another program"), "{m}");
    assert!(m.contains("customers"), "the message lists its tables: {m}");
    assert_eq!(std::fs::read(&path).unwrap(), before, "nothing written");
    assert!(!dir.path().join("other.db-wal").exists());

    // A marker of another application is refused even without tables.
    let path = dir.path().join("marked.db");
    {
        let mut c = raw(&path).await;
        sqlx::query("PRAGMA application_id = 42")
            .execute(&mut c)
            .await
            .unwrap();
        c.close().await.unwrap();
    }
    let e = SqliteStore::open(&path.display().to_string())
        .await
        .unwrap_err();
    assert!(e.to_string().contains("application_id 0x0000002a"), "{e}");
}

#[tokio::test]
async fn a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("future.db");
    let url = path.display().to_string();
    SqliteStore::open(&url).await.unwrap().close().await;
    {
        let mut c = raw(&path).await;
        sqlx::query("PRAGMA user_version = 99")
            .execute(&mut c)
            .await
            .unwrap();
        c.close().await.unwrap();
    }
    let e = SqliteStore::open(&url).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported);
    let m = e.to_string();
    assert!(m.contains(&url), "{m}");
    assert!(
        m.contains("schema version 99, newer than this build of alto-sqlite")
            && m.contains(&format!("(version {})", schema_version())),
        "{m}"
    );
    assert!(m.contains("upgrade Alto"), "{m}");
}

#[tokio::test]
async fn a_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let e = SqliteStore::open(&dir.path().display().to_string())
        .await
        .unwrap_err();
    assert!(e.to_string().contains("is a directory"), "{e}");
}

#[tokio::test]
async fn memory_stores_are_private() {
    let a = SqliteStore::open("sqlite::memory:").await.unwrap();
    let b = SqliteStore::open("sqlite::memory:").await.unwrap();
    a.create_tenant("only-a", &TenantSettings::default())
        .await
        .unwrap();
    assert_eq!(
        b.tenant("only-a").await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
    // Clones share the database.
    let a2 = a.clone();
    assert!(a2.tenant("only-a").await.is_ok());
}

#[cfg(unix)]
#[tokio::test]
async fn a_new_database_file_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o7777;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("private.db");
    let store = SqliteStore::open(&path.display().to_string())
        .await
        .unwrap();
    store
        .create_tenant("x", &TenantSettings::default())
        .await
        .unwrap();
    assert_eq!(mode(&path), 0o600, "the database file");
    for side in ["private.db-wal", "private.db-shm"] {
        let p = dir.path().join(side);
        assert!(p.exists(), "{side} exists while the store is open");
        assert_eq!(mode(&p), 0o600, "{side} follows the database file");
    }
    store.close().await;

    // An existing file keeps its mode, empty (a new database) or not.
    let shared = dir.path().join("shared.db");
    std::fs::write(&shared, b"").unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o640)).unwrap();
    let store = SqliteStore::open(&shared.display().to_string())
        .await
        .unwrap();
    store.close().await;
    assert_eq!(mode(&shared), 0o640);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let store = SqliteStore::open(&path.display().to_string())
        .await
        .unwrap();
    assert!(store.tenant("x").await.is_ok());
    store.close().await;
    assert_eq!(mode(&path), 0o644, "reopening changes no mode");

    // A file in a directory that does not exist: an error naming it, nothing created.
    let missing = dir.path().join("no/such/dir/a.db");
    let e = SqliteStore::open(&missing.display().to_string())
        .await
        .unwrap_err();
    assert!(e.to_string().contains("no/such/dir/a.db"), "{e}");
}
