//! Paths are stored byte for byte: quotes, commas, newlines, control characters, backslashes and
//! non-ASCII survive the store, both through the API and through a CSV inventory, and a file seen
//! again with the same path is unchanged (the comparison is exact, not approximately equal).

use alto_core::ingest::{IngestOptions, ingest};
use alto_core::inventory::{ColumnMap, CsvInventory};
use alto_core::store::{FileQuery, IngestChunk, ScanKind, ScanSpec, ShareSpec};
use alto_core::{FileEntry, ShareKind, Store, TenantSettings};
use alto_sqlite::SqliteStore;

const PATHS: &[&str] = &[
    "/q/\"quoted\" name.txt",
    "/q/it's.txt",
    "/c/a,b,c.csv",
    "/n/line\nbreak.txt",
    "/n/carriage\rreturn",
    "/t/tab\there",
    "/ctl/\u{1}\u{1f}\u{7f}.bin",
    "/u/caf\u{e9}/na\u{ef}ve.txt",
    "/u/cafe\u{301}.txt",
    "/u/\u{65e5}\u{672c}\u{8a9e}/\u{1f600}.png",
    "/b/back\\slash\\dir",
    "/s/ space  and  spaces ",
    "/j/{\"json\": [1, 2]}",
    "/z/nul\u{0}inside",
];

fn entry(path: &str) -> FileEntry {
    FileEntry {
        path: path.into(),
        size: 7,
        modified: Some(1),
        accessed: Some(2),
        owner: Some("o\"w,n\ne\u{e9}".into()),
        hash: Some("sha256:\u{0}x".into()),
        ..Default::default()
    }
}

async fn round_trip(store: &SqliteStore) {
    let t = store
        .create_tenant("p", &TenantSettings::default())
        .await
        .unwrap();
    store
        .ensure_share(t.id, &ShareSpec::new("s", ShareKind::Posix))
        .await
        .unwrap();
    let entries: Vec<FileEntry> = PATHS.iter().map(|p| entry(p)).collect();
    for round in 0..2 {
        let scan = store
            .begin_scan(t.id, &ScanSpec::new("s", ScanKind::Full))
            .await
            .unwrap();
        let out = store
            .ingest_chunk(
                t.id,
                scan.id,
                &IngestChunk {
                    id: "0".into(),
                    entries: entries.clone(),
                },
            )
            .await
            .unwrap();
        store.finish_scan(t.id, scan.id).await.unwrap();
        if round == 0 {
            assert_eq!(out.new, PATHS.len() as u64);
        } else {
            assert_eq!(
                (out.unchanged, out.changed),
                (PATHS.len() as u64, 0),
                "the same bytes again are unchanged"
            );
        }
    }
    let files = store
        .files(t.id, &FileQuery::default())
        .await
        .unwrap()
        .items;
    assert_eq!(files.len(), PATHS.len());
    for p in PATHS {
        let f = files
            .iter()
            .find(|f| f.entry.path == *p)
            .unwrap_or_else(|| panic!("{p:?} not stored exactly"));
        assert_eq!(f.entry, entry(p));
    }
}

#[tokio::test]
async fn api_paths_are_byte_exact_on_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("p.db").display().to_string())
        .await
        .unwrap();
    round_trip(&store).await;
    // And after reopening (nothing was cached in the store).
    drop(store);
    let store = SqliteStore::open(&dir.path().join("p.db").display().to_string())
        .await
        .unwrap();
    let t = store.tenant("p").await.unwrap();
    let files = store
        .files(t.id, &FileQuery::default())
        .await
        .unwrap()
        .items;
    for p in PATHS {
        assert!(files.iter().any(|f| f.entry.path == *p), "{p:?}");
    }
}

#[tokio::test]
async fn api_paths_are_byte_exact_in_memory() {
    round_trip(&SqliteStore::open("sqlite::memory:").await.unwrap()).await;
}

#[tokio::test]
async fn csv_paths_are_byte_exact() {
    let dir = tempfile::tempdir().unwrap();
    let csv_paths: Vec<&str> = PATHS
        .iter()
        .copied()
        .filter(|p| !p.contains('\0'))
        .collect();
    let mut csv = String::from("file_path,file_size\n");
    for p in &csv_paths {
        csv.push_str(&format!("\"{}\",5\n", p.replace('"', "\"\"")));
    }
    let inv = dir.path().join("inv.csv");
    std::fs::write(&inv, csv).unwrap();
    let store = SqliteStore::open(&dir.path().join("c.db").display().to_string())
        .await
        .unwrap();
    let t = store
        .create_tenant("c", &TenantSettings::default())
        .await
        .unwrap();
    store
        .ensure_share(t.id, &ShareSpec::new("s", ShareKind::Ntfs))
        .await
        .unwrap();
    let opts = IngestOptions {
        kind: ScanKind::Full,
        chunk_rows: Some(4),
        source: None,
        path_prefix: None,
        ..IngestOptions::default()
    };
    for round in 0..2 {
        let mut src = CsvInventory::open(&inv, &ColumnMap::new()).unwrap();
        let r = ingest(&store, t.id, "s", &mut src, &opts, |_| {}, |_, _| {})
            .await
            .unwrap();
        assert_eq!(r.rejected, 0);
        if round == 1 {
            assert_eq!(r.unchanged, csv_paths.len() as u64);
        }
    }
    let files = store
        .files(t.id, &FileQuery::default())
        .await
        .unwrap()
        .items;
    let mut got: Vec<&str> = files.iter().map(|f| f.entry.path.as_str()).collect();
    let mut want = csv_paths.clone();
    got.sort();
    want.sort();
    assert_eq!(got, want);
}
