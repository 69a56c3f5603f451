//! The memory store runs the whole conformance suite.

#[tokio::test]
async fn memory_store_conformance() {
    let store = alto_core::MemoryStore::new();
    alto_core::testkit::run_all(&store).await;
}

#[tokio::test]
async fn memory_store_tiering_queue() {
    let store = alto_core::MemoryStore::new();
    alto_core::testkit::tiering_queue(&store).await;
}

#[tokio::test]
async fn memory_store_feeds() {
    let store = alto_core::MemoryStore::new();
    alto_core::testkit::feeds_apply(&store).await;
}

#[tokio::test]
async fn memory_store_reports_agree() {
    let (a, b) = (alto_core::MemoryStore::new(), alto_core::MemoryStore::new());
    for seed in [1, 7, 42] {
        alto_core::testkit::reports_agree(&[&a, &b], seed).await;
    }
}
