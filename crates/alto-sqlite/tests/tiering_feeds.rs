//! The core suites for the job queue and access feeds, on a database file and in memory.

use alto_sqlite::SqliteStore;

async fn on_file() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("alto.db").display());
    let store = SqliteStore::open(&url).await.unwrap();
    (dir, store)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tiering_queue_on_a_file() {
    let (_dir, store) = on_file().await;
    alto_core::testkit::tiering_queue(&store).await;
}

#[tokio::test]
async fn tiering_queue_in_memory() {
    let store = SqliteStore::open("sqlite::memory:").await.unwrap();
    alto_core::testkit::tiering_queue(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feeds_apply_on_a_file() {
    let (_dir, store) = on_file().await;
    alto_core::testkit::feeds_apply(&store).await;
}

#[tokio::test]
async fn feeds_apply_in_memory() {
    let store = SqliteStore::open("sqlite::memory:").await.unwrap();
    alto_core::testkit::feeds_apply(&store).await;
}
