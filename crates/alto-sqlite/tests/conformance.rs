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
