//! Several processes on one database file: readers never block or fail while writers ingest, and
//! writers take turns (one at a time, waiting within the busy timeout). Two writer processes start
//! together on a new file (racing to create and migrate it), a third writer works in this process,
//! and this process reads all along.

use alto_core::store::{FileQuery, IngestChunk, ScanKind, ScanSpec, ShareSpec};
use alto_core::{FileEntry, ShareKind, Store, TenantSettings};
use alto_sqlite::SqliteStore;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

fn example() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(Path::parent).unwrap();
    let bin = dir.join("examples").join("sqlite_ingest");
    assert!(
        bin.exists(),
        "{} is missing: run `cargo test -p alto-sqlite` (it builds the examples)",
        bin.display()
    );
    bin
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readers_and_writers_across_processes() {
    let dir = tempfile::tempdir().unwrap();
    let inv = dir.path().join("inv.csv");
    let mut csv = String::from("file_path,file_size\n");
    for i in 0..6000 {
        csv.push_str(&format!("/p{}/f{i}.dat,{i}\n", i % 50));
    }
    std::fs::write(&inv, csv).unwrap();
    let db = dir.path().join("shared.db");
    let spawn = |tenant: &str| {
        Command::new(example())
            .arg(&db)
            .arg(&inv)
            .args(["--tenant", tenant, "--kind", "posix", "--chunk-rows", "50"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    // Two writer processes race to create and migrate the new file.
    let w1 = spawn("w1");
    let w2 = spawn("w2");

    // Open here too (migrated by whoever came first), and write from this process as well.
    let store = SqliteStore::open(&db.display().to_string())
        .await
        .expect("open while other processes create and migrate the file");
    let local = store
        .create_tenant("local", &TenantSettings::default())
        .await
        .unwrap();
    store
        .ensure_share(local.id, &ShareSpec::new("s", ShareKind::Posix))
        .await
        .unwrap();
    let writer = {
        let store = store.clone();
        tokio::spawn(async move {
            let scan = store
                .begin_scan(local.id, &ScanSpec::new("s", ScanKind::Full))
                .await
                .unwrap();
            for c in 0..40 {
                let entries = (0..50)
                    .map(|i| FileEntry {
                        path: format!("/local/{c}/{i}"),
                        size: 1,
                        ..Default::default()
                    })
                    .collect();
                let chunk = IngestChunk {
                    id: c.to_string(),
                    entries,
                };
                store.ingest_chunk(local.id, scan.id, &chunk).await.unwrap();
            }
            store.finish_scan(local.id, scan.id).await.unwrap();
        })
    };

    // Read all along: every read sees one committed state, in which the files equal the new files
    // the applied chunks counted, and the counts never go back.
    let mut last = 0i64;
    let mut reads = 0;
    let mut procs = [Some(w1), Some(w2)];
    loop {
        let (files, counted): (i64, i64) = sqlx::query_as(
            "SELECT (SELECT count(*) FROM file_current), \
             (SELECT coalesce(sum(new_files), 0) FROM ingest_chunk)",
        )
        .fetch_one(store.pool())
        .await
        .expect("a reader never fails while writers work");
        assert_eq!(files, counted, "a read sees a whole number of chunks");
        assert!(files >= last, "counts never go back");
        last = files;
        let page = store
            .files(
                local.id,
                &FileQuery {
                    limit: 10,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert!(page.items.len() <= 10);
        reads += 1;
        for p in procs.iter_mut() {
            if let Some(child) = p {
                if child.try_wait().unwrap().is_some() {
                    let out = p.take().unwrap().wait_with_output().unwrap();
                    assert!(
                        out.status.success(),
                        "writer process failed: {}",
                        String::from_utf8_lossy(&out.stderr)
                    );
                }
            }
        }
        if procs.iter().all(Option::is_none) && writer.is_finished() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    writer.await.unwrap();
    assert!(reads > 3, "the reads overlapped the writes ({reads} reads)");
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM file_current")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(total, 6000 + 6000 + 2000);
    for t in ["w1", "w2"] {
        let id = store.tenant(t).await.unwrap().id;
        let mut q = FileQuery {
            limit: 1000,
            ..Default::default()
        };
        let mut n = 0;
        loop {
            let page = store.files(id, &q).await.unwrap();
            n += page.items.len();
            match page.next {
                Some(c) => q.after = Some(c),
                None => break,
            }
        }
        assert_eq!(n, 6000, "tenant {t}");
    }
}
