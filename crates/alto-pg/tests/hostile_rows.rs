//! Issue 14: limits are per-row rejects, the same in every store. The hostile rows of
//! `hostile/mod.rs` (size 2^63, times in year 10000 and before year 1, a NUL in a path, a
//! path over the limit, newlines and tabs, weird UTF-8, 4,000-byte paths and paths at the limits)
//! go into PostgreSQL and into the memory store through the ingest driver, and both end the same. (`alto-sqlite`'s
//! `hostile_rows` runs the same rows against SQLite.)

mod common;
mod hostile;

use alto_core::path::{KeyRule, MAX_KEY_BYTES, share_key};
use alto_core::store::{IngestChunk, ScanKind, ScanSpec};
use alto_core::{FileEntry, ShareKind, Store};

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

    // Long paths are stored under keys PostgreSQL indexes: none is longer than the bound.
    let longest: i32 = sqlx::query_scalar("SELECT max(octet_length(path_key)) FROM file_current")
        .fetch_one(&mut c)
        .await
        .unwrap();
    assert!(longest as usize <= MAX_KEY_BYTES, "{longest}");

    // A chunk handed to the store directly, past the reader, with a 4,000-byte path: stored
    // too, under its bounded key, and found by it.
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
    let path = hostile::long_path("/direct/", 4000, &hostile::ascii_alphabet());
    let chunk = IngestChunk {
        id: "0+1".into(),
        entries: vec![FileEntry {
            path: path.clone(),
            size: 1,
            ..Default::default()
        }],
    };
    let out = pg.ingest_chunk(t, scan.id, &chunk).await.unwrap();
    assert_eq!(out.new, 1);
    let key = share_key(KeyRule::new(ShareKind::Posix, true), &path);
    let rec = pg.tiering().file(t, "s", &key).await.unwrap();
    assert_eq!(rec.entry.path, path);

    pg.pool().close().await;
    db.drop().await;
}
