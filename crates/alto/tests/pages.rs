//! Listings through the handle under concurrent writers: the audit trail read page by page —
//! each page resumed from the printed cursor, as a process that stops and starts again would —
//! sees every event exactly once and in order while writers append; a file listing sees every
//! file that existed throughout exactly once while other files are ingested. Memory, SQLite and
//! PostgreSQL (whose trail is read in commit order, not id order).

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
                seen.extend(page.into_iter().map(|e| (e.position, e.subject)));
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

/// A database of its own on the server `DATABASE_URL` names, migrated; dropped by the guard.
struct PgDb {
    admin: String,
    name: String,
    url: String,
}

impl PgDb {
    async fn new(tag: &str) -> PgDb {
        let admin = std::env::var("DATABASE_URL").expect(
            "DATABASE_URL is not set: run scripts/test.sh, which finds or starts a PostgreSQL server",
        );
        let name = format!("alto_pages_{tag}_{}", std::process::id());
        psql(
            &admin,
            &format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
        );
        psql(&admin, &format!("CREATE DATABASE \"{name}\""));
        let owner = with(&admin, None, Some(&name));
        alto::migrate(&owner).await.unwrap();
        let role = name.clone();
        let _ = alto::login::drop(&owner, &role).await;
        alto::login::create(&owner, &role, None, Some("pages-secret"))
            .await
            .unwrap();
        let url = with(&owner, Some(&format!("{role}:pages-secret")), None);
        PgDb { admin, name, url }
    }
}

/// `url` with another user (`user[:password]`) or database.
fn with(url: &str, user: Option<&str>, db: Option<&str>) -> String {
    let (scheme, rest) = url.split_once("://").expect("a postgres:// URL");
    let (auth_host, tail) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let query = tail.find('?').map_or("", |i| &tail[i..]);
    let path = tail.split('?').next().unwrap_or("");
    let (auth, host) = match auth_host.rsplit_once('@') {
        Some((a, h)) => (Some(a), h),
        None => (None, auth_host),
    };
    let auth = match user.or(auth) {
        Some(u) => format!("{u}@"),
        None => String::new(),
    };
    let path = db.map_or_else(|| path.to_owned(), |d| format!("/{d}"));
    format!("{scheme}://{auth}{host}{path}{query}")
}

impl Drop for PgDb {
    fn drop(&mut self) {
        psql(
            &self.admin,
            &format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name),
        );
        // The login is cluster-wide.
        psql(
            &self.admin,
            &format!("DROP ROLE IF EXISTS \"{}\"", self.name),
        );
    }
}

fn psql(url: &str, sql: &str) {
    let out = std::process::Command::new("psql")
        .args([url, "-v", "ON_ERROR_STOP=1", "-qc", sql])
        .output()
        .expect("psql (PostgreSQL's client) on PATH");
    assert!(
        out.status.success(),
        "{sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn audit_paging_under_writers_postgres() {
    let db = PgDb::new("audit").await;
    audit_under_writers(alto::connect(&db.url).await.unwrap()).await;
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
