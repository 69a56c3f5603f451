//! The core conformance suite, on a database file and in memory.

use alto_core::Store;
use alto_sqlite::SqliteStore;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_on_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("alto.db").display());
    let store = SqliteStore::open(&url).await.unwrap();
    assert_eq!(store.backend(), "sqlite");
    let caps = store.capabilities();
    assert!(caps.durable && !caps.concurrent_workers && !caps.row_level_security);
    alto_core::testkit::run_all(&store).await;
}

#[tokio::test]
async fn conformance_in_memory() {
    let store = SqliteStore::open("sqlite::memory:").await.unwrap();
    assert!(!store.capabilities().durable);
    alto_core::testkit::run_all(&store).await;
}

/// Reports on random data: SQLite (a file, and in memory) and the memory store agree.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_agree_with_memory() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("alto.db").display());
    let file = SqliteStore::open(&url).await.unwrap();
    let mem = SqliteStore::open("sqlite::memory:").await.unwrap();
    let reference = alto_core::MemoryStore::new();
    for seed in [1, 7, 42] {
        alto_core::testkit::reports_agree(&[&reference, &file, &mem], seed).await;
    }
}
