//! The core's conformance suite against PostgreSQL, as the application role: the same promises
//! the memory store keeps, including the optional parts (job queue, access feeds).

mod common;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance() {
    let db = common::TestDb::new("conformance").await;
    let store = db.store().await;
    alto_core::testkit::run_all(&store).await;
    store.pool().close().await;
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tiering_queue() {
    let db = common::TestDb::new("tiering").await;
    let store = db.store().await;
    alto_core::testkit::tiering_queue(&store).await;
    store.pool().close().await;
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feeds_apply() {
    let db = common::TestDb::new("feeds").await;
    let store = db.store().await;
    alto_core::testkit::feeds_apply(&store).await;
    store.pool().close().await;
    db.drop().await;
}
