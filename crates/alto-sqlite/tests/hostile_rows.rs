//! Issue 14: limits are per-row rejects, the same in every store. The hostile rows shared with
//! `alto-pg/tests/hostile_rows.rs` go into SQLite and into the memory store through the ingest
//! driver, and both end the same (PostgreSQL is held to the same memory-store outcome there).

#[path = "../../alto-pg/tests/hostile/mod.rs"]
mod hostile;

use alto_sqlite::SqliteStore;

#[tokio::test]
async fn hostile_rows_match_the_memory_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("h.db").display().to_string())
        .await
        .unwrap();
    hostile::same_as_memory(&store).await;
}
