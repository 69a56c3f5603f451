//! File ids are never reused: a file record deleted (a feed's move replaces one) leaves its id to
//! its snapshots, and the next new file gets a fresh one.

use alto_core::store::{IngestChunk, ScanKind, ScanSpec, ShareSpec};
use alto_core::{FileEntry, ShareKind, Store, TenantSettings};
use alto_sqlite::SqliteStore;

#[tokio::test]
async fn ids_are_never_reused() {
    let store = SqliteStore::open("sqlite::memory:").await.unwrap();
    let t = store
        .create_tenant("t", &TenantSettings::default())
        .await
        .unwrap();
    store
        .ensure_share(t.id, &ShareSpec::new("s", ShareKind::Posix))
        .await
        .unwrap();
    let mut max_seen = 0;
    for (n, path) in ["/a", "/b"].into_iter().enumerate() {
        let scan = store
            .begin_scan(t.id, &ScanSpec::new("s", ScanKind::Partial))
            .await
            .unwrap();
        let chunk = IngestChunk {
            id: "0".into(),
            entries: vec![FileEntry {
                path: path.into(),
                size: 1,
                ..Default::default()
            }],
        };
        store.ingest_chunk(t.id, scan.id, &chunk).await.unwrap();
        let id: i64 =
            sqlx::query_scalar("SELECT file_current_id FROM file_current WHERE path_key = ?1")
                .bind(path)
                .fetch_one(store.pool())
                .await
                .unwrap();
        assert!(id > max_seen, "file {n} got id {id}, not above {max_seen}");
        max_seen = id;
        // Delete the newest record, as a feed's move onto an existing file does.
        sqlx::query("DELETE FROM file_current WHERE file_current_id = ?1")
            .bind(id)
            .execute(store.pool())
            .await
            .unwrap();
    }
}
