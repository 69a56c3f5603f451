//! SIGKILL during ingest, at random points, then a rerun: the database ends exactly as after one
//! uninterrupted run — same files, snapshots, chunk rows, scans and directories, ids included.
//!
//! The ingest runs in a child process: the `sqlite_ingest` example, which `cargo test` builds
//! next to this test (`target/<profile>/examples/`).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The `sqlite_ingest` example binary next to this test.
fn example() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(Path::parent).unwrap();
    let bin = dir.join("examples").join("sqlite_ingest");
    assert!(
        bin.exists(),
        "{} is missing: run `cargo test -p alto-sqlite` (it builds the examples) or \
         `cargo build -p alto-sqlite --example sqlite_ingest`",
        bin.display()
    );
    bin
}

/// A small deterministic generator (no dependency): xorshift64*.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n
    }
}

fn inventory(path: &Path) {
    let mut csv = String::from("file_path,file_size,last_modified,last_accessed,owner\n");
    for i in 0..1500 {
        csv.push_str(&format!(
            "\"/d{}/s{}/f{i}, \"\"x\"\".bin\",{},{},{},u{}\n",
            i % 7,
            i % 13,
            i * 3,
            1_600_000_000 + i,
            1_650_000_000 + i,
            i % 5
        ));
        if i % 97 == 0 {
            csv.push_str("/bad,notasize,,,\n");
        }
    }
    std::fs::write(path, csv).unwrap();
}

fn run(db: &Path, inv: &Path) -> Command {
    let mut c = Command::new(example());
    c.arg(db)
        .arg(inv)
        .args(["--kind", "posix", "--chunk-rows", "20", "--full", "--once"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

/// Chunks applied so far (0 while the database or its schema does not exist yet).
async fn chunks_applied(db: &Path) -> i64 {
    use sqlx::{ConnectOptions, Connection};
    let Ok(mut c) = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(db)
        .read_only(true)
        .connect()
        .await
    else {
        return 0;
    };
    let n = sqlx::query_scalar("SELECT count(*) FROM ingest_chunk")
        .fetch_one(&mut c)
        .await
        .unwrap_or(0);
    let _ = c.close().await;
    n
}

/// Everything an ingest writes, minus wall-clock times, as text.
async fn dump(db: &Path) -> String {
    use sqlx::{ConnectOptions, Connection};
    let mut c = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(db)
        .read_only(true)
        .connect()
        .await
        .unwrap();
    let ok: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&mut c)
        .await
        .unwrap();
    assert_eq!(ok, "ok");
    let mut out = String::new();
    for q in [
        "SELECT tenant_id, name, settings FROM tenant ORDER BY 1",
        "SELECT share_id, tenant_id, name, kind, case_sensitive FROM share ORDER BY 1",
        "SELECT scan_id, tenant_id, share_id, kind, source, finished_utc IS NOT NULL \
         FROM scan ORDER BY 1",
        "SELECT dir_id, tenant_id, share_id, dir_path, dir_hash64 FROM dir ORDER BY 1",
        "SELECT file_current_id, tenant_id, share_id, dir_id, name, path_key, full_path, \
         size_bytes, mtime_us, atime_us, file_extension, permissions, owner, file_hash, \
         last_accessed_source, atime_updated_utc IS NOT NULL, first_seen_scan_id, \
         last_seen_scan_id, missing_since_utc IS NOT NULL FROM file_current ORDER BY 1",
        "SELECT * FROM file ORDER BY 1, 2, 3",
        "SELECT tenant_id, scan_id, chunk_id, rows, new_files, changed_files, unchanged_files \
         FROM ingest_chunk ORDER BY 1, 2, 3",
    ] {
        let rows: Vec<String> = sqlx::query(q)
            .fetch_all(&mut c)
            .await
            .unwrap_or_else(|e| panic!("{q}: {e}"))
            .iter()
            .map(|r| {
                use sqlx::Row;
                (0..r.len())
                    .map(|i| match r.try_get::<Option<i64>, _>(i) {
                        Ok(v) => format!("{v:?}"),
                        Err(_) => format!("{:?}", r.try_get::<Option<String>, _>(i).unwrap()),
                    })
                    .collect::<Vec<_>>()
                    .join("|")
            })
            .collect();
        out.push_str(&format!("-- {q}: {} rows\n", rows.len()));
        for r in rows {
            out.push_str(&r);
            out.push('\n');
        }
    }
    c.close().await.unwrap();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_ingest_reruns_to_the_same_state() {
    let dir = tempfile::tempdir().unwrap();
    let inv = dir.path().join("inventory.csv");
    inventory(&inv);

    let reference = dir.path().join("reference.db");
    let t = Instant::now();
    let out = run(&reference, &inv).output().unwrap();
    let full = t.elapsed();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(line.contains("accepted=1500 rejected=16"), "{line}");
    let want = dump(&reference).await;
    assert!(
        want.contains("FROM file_current ORDER BY 1: 1500 rows"),
        "{want}"
    );

    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    let mut rng = Rng(seed);
    let victim = dir.path().join("victim.db");
    // Each run gets a random slice of at most a fifth of a full run (process start included), so
    // most runs die somewhere in the middle: at start-up, while migrating, mid-chunk, between
    // chunks, while finishing.
    let window = (full.as_millis() as u64 / 5).max(20);
    let mut kills = 0;
    let mut progress = Vec::new();
    for _ in 0..20 {
        let mut child = run(&victim, &inv).spawn().unwrap();
        std::thread::sleep(Duration::from_millis(rng.below(window)));
        match child.try_wait().unwrap() {
            Some(status) => {
                assert!(status.success(), "seed {seed}: a run failed on its own");
                break; // finished before the kill: nothing left to interrupt
            }
            None => {
                child.kill().unwrap(); // SIGKILL
                child.wait().unwrap();
                kills += 1;
                progress.push(chunks_applied(&victim).await);
            }
        }
    }
    let out = run(&victim, &inv).output().unwrap();
    assert!(
        out.status.success(),
        "seed {seed}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        kills >= 5,
        "seed {seed}: only {kills} kills; the runs finished too soon"
    );
    let total = 1516_usize.div_ceil(20) as i64;
    let mid: std::collections::BTreeSet<i64> = progress
        .iter()
        .copied()
        .filter(|&n| n > 0 && n < total)
        .collect();
    assert!(
        mid.len() >= 2,
        "seed {seed}: kills should land mid-ingest; chunks applied after each kill: {progress:?}"
    );
    let got = dump(&victim).await;
    if got != want {
        let diff = want
            .lines()
            .zip(got.lines())
            .find(|(a, b)| a != b)
            .map(|(a, b)| format!("want {a}\n got {b}"));
        panic!("seed {seed}, {kills} kills: the rerun differs from an uninterrupted run: {diff:?}");
    }
    eprintln!(
        "seed {seed}: {kills} kills (chunks applied after each: {progress:?}), same final state"
    );
}
