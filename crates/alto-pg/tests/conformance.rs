//! The core's conformance suite against PostgreSQL: the same promises the memory store keeps.

mod common;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance() {
    let db = common::TestDb::new("conformance").await;
    let store = db.store().await;
    alto_core::testkit::run_all(&store).await;
    store.pool().close().await;
    db.drop().await;
}
