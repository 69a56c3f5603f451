//! Hostile paths end to end: quotes, commas, newlines, SQL, control characters, backslashes and
//! non-ASCII go through the core CSV reader, binary COPY and the merge byte-exact, and PostgreSQL
//! ends with exactly what the reference memory store ends with (the same rows rejected, the same
//! records, the same counts), on a case-insensitive and a case-sensitive share.

mod common;

use alto_core::Store;
use alto_core::ingest::{IngestOptions, IngestReport, ingest};
use alto_core::inventory::{ColumnMap, CsvInventory, Rejection};
use alto_core::store::{FileQuery, ScanKind, ShareSpec};
use alto_core::types::{ShareKind, TenantSettings};
use alto_core::{MemoryStore, TenantId};

const WEIRD: &[&str] = &[
    "/a/it's \"quoted\".txt",
    "/a/comma,separated,name.txt",
    "/a/new\nline.txt",
    "/a/crlf\r\nline.txt",
    "/a/'; DROP TABLE file_current; --",
    "/a/SELECT * FROM tenant WHERE 1=1",
    "/a/tab\there.txt",
    "/a/ctl\u{1}\u{2}\u{1b}[31m\u{7f}.bin",
    "/a/back\\slash\\N",
    "/a/\\N",
    "/a/\\.",
    "/a/é日本語🎉.txt",
    "/a/combining e\u{301} vs \u{e9}",
    "/a/rtl \u{202e}gpj.exe",
    "/a/zero\u{200b}width",
    "C:\\Data\\Mixed\\FILE.TXT",
    "c:/data/mixed/file.txt",
    "\\\\fs01\\Share\\Dept\\x.doc",
    "//fs01/share/dept/X.DOC",
    "/trailing/sep/",
    "/dup/x",
    "/dup/x",
    "/dup/X",
    "/a/%s%n%x$1::text",
    "/a/ space .txt ",
];

fn q(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// The inventory: weird paths with weird owners, bad rows of every kind, and enough padding that
/// a NUL byte sits past the reader's binary sniff.
fn inventory(version: u32) -> Vec<u8> {
    let mut out: Vec<u8> =
        b"file_path,file_size,last_modified,last_accessed,file_extension,permissions,owner,hash\n"
            .to_vec();
    for (i, p) in WEIRD.iter().enumerate() {
        let size = if version > 1 && i % 3 == 0 {
            1000 + i
        } else {
            i
        };
        let atime = 1_600_000_000 + (i as u64 % 5) * 1000 + u64::from(version) * (i as u64 % 2);
        let owner = format!("DOMAIN\\ü\"ser{i}, ok");
        out.extend_from_slice(
            format!(
                "{},{size},2024-01-0{}T00:00:00Z,{atime},,rw-r--r--,{},sha256:{i:064x}\n",
                q(p),
                1 + i % 9,
                q(&owner)
            )
            .as_bytes(),
        );
    }
    // Bad rows, each in its place.
    out.extend_from_slice(b"\"/bad/size\",12x,,,,,,\n");
    out.extend_from_slice(b"\"/bad/time\",1,yesterday,,,,,\n");
    out.extend_from_slice(b"\"/bad/fields\",1\n");
    out.extend_from_slice(b"\"\",1,,,,,,\n");
    out.extend_from_slice(b"\"/bad/utf8/\xff\xfe\",1,,,,,,\n");
    for i in 0..200 {
        out.extend_from_slice(format!("\"/pad/file{i:04}.dat\",{i},,,,,,\n").as_bytes());
    }
    out.extend_from_slice(b"\"/bad/nul\x00byte\",1,,,,,,\n");
    out.extend_from_slice(b"\"/after/nul.txt\",5,,,,,,\n");
    out
}

async fn run(
    store: &dyn Store,
    t: TenantId,
    share: &str,
    path: &std::path::Path,
) -> (IngestReport, Vec<Rejection>) {
    let mut src = CsvInventory::open(path, &ColumnMap::new()).unwrap();
    let opts = IngestOptions {
        kind: ScanKind::Full,
        chunk_rows: Some(5),
        source: None,
        path_prefix: None,
        ..IngestOptions::default()
    };
    let mut rejected = Vec::new();
    let report = ingest(
        store,
        t,
        share,
        &mut src,
        &opts,
        |r| rejected.push(r.clone()),
        |_, _| {},
    )
    .await
    .unwrap_or_else(|e| panic!("{} ingest failed: {e}", store.backend()));
    (report, rejected)
}

type Seen = Vec<(String, alto_core::FileEntry, alto_core::AccessSource, bool)>;

async fn records(store: &dyn Store, t: TenantId) -> Seen {
    let q = FileQuery {
        include_missing: true,
        limit: 7,
        ..Default::default()
    };
    let mut q = q;
    let mut out = Vec::new();
    loop {
        let page = store.files(t, &q).await.unwrap();
        out.extend(page.items.into_iter().map(|f| {
            (
                format!("{}|{}", f.share, f.path_key),
                f.entry,
                f.accessed_source,
                f.missing_since.is_some(),
            )
        }));
        match page.next {
            Some(n) => q.after = Some(n),
            None => return out,
        }
    }
}

fn counts(r: &IngestReport) -> [u64; 8] {
    [
        r.accepted,
        r.rejected,
        r.new,
        r.changed,
        r.unchanged,
        r.missing,
        r.chunks_applied,
        r.chunks_skipped,
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weird_paths_match_the_memory_store() {
    let db = common::TestDb::new("paths").await;
    let pg = db.store().await;
    let mem = MemoryStore::new();
    let dir = tempfile::tempdir().unwrap();
    let v1 = dir.path().join("v1.csv");
    let v2 = dir.path().join("v2.csv");
    std::fs::write(&v1, inventory(1)).unwrap();
    std::fs::write(&v2, inventory(2)).unwrap();

    let mut tenants = Vec::new();
    for store in [&pg as &dyn Store, &mem as &dyn Store] {
        let t = store
            .create_tenant("weird", &TenantSettings::default())
            .await
            .unwrap();
        for (name, kind) in [("ntfs", ShareKind::Ntfs), ("posix", ShareKind::Posix)] {
            store
                .ensure_share(t.id, &ShareSpec::new(name, kind))
                .await
                .unwrap();
        }
        tenants.push(t.id);
    }
    for share in ["ntfs", "posix"] {
        for file in [&v1, &v2, &v2] {
            let (pr, prej) = run(&pg, tenants[0], share, file).await;
            let (mr, mrej) = run(&mem, tenants[1], share, file).await;
            assert_eq!(
                counts(&pr),
                counts(&mr),
                "{share} {}: reports",
                file.display()
            );
            assert_eq!(prej, mrej, "the same rows are rejected");
            assert_eq!(prej.len(), 6, "{prej:#?}");
            let (p, m) = (
                records(&pg, tenants[0]).await,
                records(&mem, tenants[1]).await,
            );
            assert_eq!(p.len(), m.len());
            for (a, b) in p.iter().zip(&m) {
                assert_eq!(a, b, "{share}: a record differs from the memory store's");
            }
        }
    }
    // Byte-exact in the database itself, not only through the store.
    let mut c = db.owner().await;
    for w in WEIRD {
        let n: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM file_current WHERE convert_to(full_path, 'UTF8') = $1",
        )
        .bind(w.as_bytes())
        .fetch_one(&mut c)
        .await
        .unwrap();
        if w.ends_with('/') {
            // A trailing separator marks a folder row: skipped by the ingest, not a file.
            assert_eq!(n, 0, "{w:?} is a folder row, not a file");
        } else {
            assert!(n >= 1, "{w:?} is not stored byte-exact");
        }
    }
    let nul: i64 =
        sqlx::query_scalar("SELECT count(*) FROM file_current WHERE full_path LIKE '/bad/%'")
            .fetch_one(&mut c)
            .await
            .unwrap();
    assert_eq!(nul, 0);
    pg.pool().close().await;
    db.drop().await;
}
