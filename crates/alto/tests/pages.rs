//! Listings through the handle under concurrent writers: the audit trail read page by page —
//! each page resumed from the printed cursor, as a process that stops and starts again would —
//! sees every event exactly once and in order while writers append; a file listing sees every
//! file that existed throughout exactly once while other files are ingested. Memory and SQLite
//! (PostgreSQL's commit-ordered audit reading is issue 19's).

use alto::store::{FileQuery, IngestChunk, ScanKind, ScanSpec, ShareSpec};
use alto::{Alto, Cursor, FileEntry, NewAuditEvent, ShareKind, TenantSettings};
use std::collections::BTreeSet;

const WRITERS: usize = 4;
const EVENTS: usize = 150;

async fn audit_under_writers(alto: Alto) {
    let tenant = alto
        .create_tenant("acme", &TenantSettings::default())
        .await
        .unwrap();
    let id = tenant.record().id;
    let mut writers = Vec::new();
    for w in 0..WRITERS {
        let store = alto.store().clone();
        writers.push(tokio::spawn(async move {
            for i in 0..EVENTS {
                let ev = NewAuditEvent {
                    kind: "test.write".into(),
                    subject: format!("w{w}/{i:04}"),
                    detail: serde_json::Value::Null,
                    parent: None,
                };
                store.append_audit(id, &ev).await.unwrap();
                if i % 16 == 0 {
                    tokio::task::yield_now().await;
                }
            }
        }));
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut idle = 0;
    while seen.len() < WRITERS * EVENTS {
        let mut pages = tenant.audit().page_size(7);
        if let Some(c) = &cursor {
            pages = pages.resume(&Cursor::parse(c).unwrap()).unwrap();
        }
        match pages.next_page().await.unwrap() {
            Some(page) => {
                seen.extend(page.into_iter().map(|e| (e.id, e.subject)));
                cursor = Some(pages.cursor().expect("a cursor after a page").to_string());
                idle = 0;
            }
            None => {
                idle += 1;
                assert!(idle < 10_000, "the trail stopped at {} events", seen.len());
                tokio::task::yield_now().await;
            }
        }
    }
    for w in writers {
        w.await.unwrap();
    }
    assert_eq!(seen.len(), WRITERS * EVENTS, "nothing read twice");
    assert!(seen.windows(2).all(|p| p[0].0 < p[1].0), "in order");
    let subjects: BTreeSet<_> = seen.iter().map(|s| s.1.clone()).collect();
    assert_eq!(subjects.len(), WRITERS * EVENTS, "every event once");
    // Past the end: nothing more, and the cursor stays usable.
    let mut pages = tenant
        .audit()
        .resume(&Cursor::parse(cursor.as_deref().unwrap()).unwrap())
        .unwrap();
    assert!(pages.next_page().await.unwrap().is_none());
    // A cursor of another listing is refused.
    let files_cursor = {
        let mut p = tenant.files(FileQuery::default());
        let _ = p.next_page().await.unwrap();
        p.cursor()
    };
    if let Some(c) = files_cursor {
        assert!(tenant.audit().resume(&c).is_err());
    }
    assert!(Cursor::parse("not a cursor").is_err());
}

fn entry(path: String) -> FileEntry {
    FileEntry {
        path,
        size: 1,
        modified: Some(1_700_000_000_000_000),
        ..Default::default()
    }
}

async fn files_under_writers(alto: Alto) {
    let tenant = alto
        .create_tenant("files", &TenantSettings::default())
        .await
        .unwrap();
    tenant
        .ensure_share(&ShareSpec::new("s", ShareKind::Posix))
        .await
        .unwrap();
    let id = tenant.record().id;
    let store = alto.store().clone();
    let ingest = |paths: Vec<String>| {
        let store = store.clone();
        async move {
            let scan = store
                .begin_scan(id, &ScanSpec::new("s", ScanKind::Partial))
                .await
                .unwrap();
            let chunk = IngestChunk {
                id: "0".into(),
                entries: paths.into_iter().map(entry).collect(),
            };
            store.ingest_chunk(id, scan.id, &chunk).await.unwrap();
            store.finish_scan(id, scan.id).await.unwrap();
        }
    };
    let before: Vec<String> = (0..300).map(|i| format!("/d/{i:04}/f")).collect();
    ingest(before.clone()).await;
    let writer = tokio::spawn(ingest((0..300).map(|i| format!("/d/{i:04}/g")).collect()));
    let mut pages = tenant.files(FileQuery::default()).page_size(11);
    let mut seen = Vec::new();
    while let Some(page) = pages.next_page().await.unwrap() {
        seen.extend(page.into_iter().map(|f| f.entry.path));
        // Start again from the printed cursor now and then.
        if seen.len() % 3 == 0 {
            let c = pages.cursor().unwrap().to_string();
            pages = tenant
                .files(FileQuery::default())
                .page_size(11)
                .resume(&Cursor::parse(&c).unwrap())
                .unwrap();
        }
    }
    writer.await.unwrap();
    let unique: BTreeSet<_> = seen.iter().cloned().collect();
    assert_eq!(unique.len(), seen.len(), "no file listed twice");
    for p in &before {
        assert!(
            unique.contains(p),
            "{p} was there throughout and was not listed"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn audit_paging_under_writers_memory() {
    audit_under_writers(alto::connect("memory://").await.unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn audit_paging_under_writers_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("a.db").display());
    audit_under_writers(alto::connect(&url).await.unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn file_paging_under_writers_memory() {
    files_under_writers(alto::connect("memory://").await.unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn file_paging_under_writers_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("f.db").display());
    files_under_writers(alto::connect(&url).await.unwrap()).await;
}
