//! The SQLite ingest against the reference store, on random scans: the same chunk outcomes, the
//! same scan summaries and the same file records (ids and wall-clock times aside). The inputs are
//! small and collide on purpose: duplicate keys within a chunk (also in other spellings on a
//! case-insensitive share), chunks applied twice, files that go missing and come back, last
//! access moving back and forth.

use alto_core::store::{FileQuery, IngestChunk, ScanKind, ScanSpec, ShareSpec};
use alto_core::{FileEntry, MemoryStore, ShareKind, Store, TenantSettings};
use alto_sqlite::SqliteStore;
use proptest::prelude::*;

#[derive(Debug, Clone)]
struct ScanPlan {
    full: bool,
    chunks: Vec<Vec<FileEntry>>,
    repeat_chunk: bool,
}

fn entry() -> impl Strategy<Value = FileEntry> {
    (
        prop::sample::select(vec!["/a", "/A", "/b", "/d/x", "/D/x"]),
        0u64..2,
        prop::option::weighted(0.8, Just(1i64)),
        prop::option::weighted(0.7, 0i64..3),
        prop::option::weighted(0.8, Just("u1")),
    )
        .prop_map(|(path, size, modified, accessed, owner)| FileEntry {
            path: path.into(),
            size,
            modified,
            accessed,
            owner: owner.map(str::to_owned),
            ..Default::default()
        })
}

fn scans() -> impl Strategy<Value = Vec<ScanPlan>> {
    prop::collection::vec(
        (
            any::<bool>(),
            prop::collection::vec(prop::collection::vec(entry(), 0..6), 1..4),
            any::<bool>(),
        )
            .prop_map(|(full, chunks, repeat_chunk)| ScanPlan {
                full,
                chunks,
                repeat_chunk,
            }),
        1..5,
    )
}

/// Everything observable, with scan ids replaced by their order and times by presence.
async fn run(store: &dyn Store, kind: ShareKind, plan: &[ScanPlan]) -> Vec<String> {
    let mut log = Vec::new();
    let t = store
        .create_tenant("t", &TenantSettings::default())
        .await
        .unwrap();
    store
        .ensure_share(t.id, &ShareSpec::new("s", kind))
        .await
        .unwrap();
    let mut scan_ids = Vec::new();
    for p in plan {
        let spec = ScanSpec {
            share: "s".into(),
            kind: if p.full {
                ScanKind::Full
            } else {
                ScanKind::Partial
            },
            source: None,
        };
        let scan = store.begin_scan(t.id, &spec).await.unwrap();
        scan_ids.push(scan.id);
        for (n, entries) in p.chunks.iter().enumerate() {
            let chunk = IngestChunk {
                id: n.to_string(),
                entries: entries.clone(),
            };
            log.push(format!(
                "{:?}",
                store.ingest_chunk(t.id, scan.id, &chunk).await.unwrap()
            ));
            if p.repeat_chunk {
                log.push(format!(
                    "{:?}",
                    store.ingest_chunk(t.id, scan.id, &chunk).await.unwrap()
                ));
            }
        }
        log.push(format!(
            "{:?}",
            store.finish_scan(t.id, scan.id).await.unwrap()
        ));
    }
    let order = |id: i64| scan_ids.iter().position(|s| *s == id);
    let files = store
        .files(
            t.id,
            &FileQuery {
                include_missing: true,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    for f in files.items {
        log.push(format!(
            "{} {:?} {:?} atime_updated={} first={:?} last={:?} missing={}",
            f.path_key,
            f.entry,
            f.accessed_source,
            f.atime_updated.is_some(),
            order(f.first_seen_scan),
            order(f.last_seen_scan),
            f.missing_since.is_some()
        ));
    }
    log
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn same_as_the_memory_store(plan in scans(), insensitive in any::<bool>()) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let kind = if insensitive { ShareKind::Ntfs } else { ShareKind::Posix };
        let (want, got) = rt.block_on(async {
            let memory = MemoryStore::new();
            let sqlite = SqliteStore::open("sqlite::memory:").await.unwrap();
            (run(&memory, kind, &plan).await, run(&sqlite, kind, &plan).await)
        });
        prop_assert_eq!(got, want);
    }
}
