//! Issue 14: limits are per-row rejects, the same in every store. The hostile rows of
//! `hostile/mod.rs` (size 2^63, times in year 10000 and before year 1, a NUL in a path, a
//! 4,000-byte path, newlines and tabs, weird UTF-8, paths at the limit) go into PostgreSQL and
//! into the memory store through the ingest driver, and both end the same. (`alto-sqlite`'s
//! `hostile_rows` runs the same rows against SQLite.)

mod common;
mod hostile;

use alto_core::inventory::MAX_PATH_BYTES;
use alto_core::store::{IngestChunk, ScanKind, ScanSpec};
use alto_core::{ErrorKind, FileEntry, Store};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_rows_match_the_memory_store() {
    let db = common::TestDb::new("hostile").await;
    let pg = db.store().await;
    let t = hostile::same_as_memory(&pg).await;

    // The rows at the limit are in the database itself, byte-exact.
    let mut c = db.owner().await;
    for p in hostile::legal_paths() {
        let n: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM file_current WHERE convert_to(full_path, 'UTF8') = $1",
        )
        .bind(p.as_bytes())
        .fetch_one(&mut c)
        .await
        .unwrap();
        assert_eq!(n, 1, "{} is not stored byte-exact", p.escape_debug());
    }

    // What the reader's limit protects from: a chunk handed to the store directly with a
    // 4,000-byte path (beyond the btree index entry limit) is refused as bad input, naming the
    // cause and the rows, not as a raw index error.
    let scan = pg
        .begin_scan(
            t,
            &ScanSpec {
                share: "s".into(),
                kind: ScanKind::Partial,
                source: None,
            },
        )
        .await
        .unwrap();
    let chunk = IngestChunk {
        id: "0+1".into(),
        entries: vec![FileEntry {
            path: hostile::long_path("/direct/", 4000, &hostile::ascii_alphabet()),
            size: 1,
            modified: None,
            accessed: None,
            extension: None,
            permissions: None,
            owner: None,
            hash: None,
        }],
    };
    assert!(chunk.entries[0].path.len() > MAX_PATH_BYTES);
    let e = pg.ingest_chunk(t, scan.id, &chunk).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
    let msg = e.to_string();
    assert!(msg.contains("too large for PostgreSQL to index"), "{msg}");
    assert!(msg.contains("inventory rows 0+1"), "{msg}");
    assert!(!e.is_retryable());

    pg.pool().close().await;
    db.drop().await;
}
