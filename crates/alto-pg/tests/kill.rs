//! Crash safety: an ingest killed with SIGKILL at 20 random points and run again each time ends
//! with exactly the tables of an uninterrupted run (file_current, the snapshots, directories and
//! chunks): no row lost, none doubled, one scan resumed throughout.
//!
//! Small by default; `scripts/pg-kill.sh` runs the large version (`ALTO_KILL_ROWS`,
//! `ALTO_KILL_CHUNK`, `ALTO_KILL_SEED` tune it).

mod common;

use alto_core::Store;
use alto_core::ingest::{IngestOptions, ingest};
use alto_core::store::{ScanKind, ShareSpec};
use alto_core::types::{ShareKind, TenantSettings};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// xorshift64*: reproducible from the printed seed.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// The inventory: plain rows, hostile paths, keys repeated within a chunk and across chunks,
/// and rejected rows.
fn write_inventory(path: &Path, rows: u64) {
    let mut s = String::from(
        "file_path,file_size,last_modified,last_accessed,file_extension,permissions,owner,hash\n",
    );
    for i in 0..rows {
        let p = match i % 10 {
            0 => format!("C:\\Data\\d{}\\it's, \"odd\"\n{i}.TXT", i % 7),
            1 => format!("C:\\Data\\d{}\\日本\t{i}.bin", i % 7),
            _ => format!("C:\\Data\\d{}\\sub{}\\f{i}.dat", i % 7, i % 13),
        };
        let quoted = format!("\"{}\"", p.replace('"', "\"\""));
        s.push_str(&format!(
            "{quoted},{},2024-02-03T04:05:06Z,{},,rw-r--r--,DOM\\u{},sha256:{i:016x}\n",
            i * 3,
            1_700_000_000 + i,
            i % 5
        ));
        if i % 97 == 5 {
            // The same file again in the same chunk, later access, other case.
            s.push_str(&format!(
                "{},{},,{},,,,\n",
                quoted.to_lowercase(),
                i * 3 + 1,
                1_800_000_000 + i
            ));
        }
        if i % 331 == 9 {
            // An earlier file again, chunks later.
            s.push_str(&format!(
                "\"C:\\Data\\d{}\\sub{}\\f{}.dat\",42,,,,,,\n",
                (i - 7) % 7,
                (i - 7) % 13,
                i - 7
            ));
        }
        if i % 151 == 3 {
            s.push_str("\"/bad\",notasize,,,,,,\n");
        }
    }
    std::fs::write(path, s).unwrap();
}

/// The ingest process to kill: this test binary again, running only `ingest_child`.
fn child(url: &str, tenant: &str, inv: &Path, chunk: u64) -> Command {
    let mut c = Command::new(std::env::current_exe().unwrap());
    c.args(["--exact", "ingest_child", "--nocapture", "--test-threads=1"])
        .env(
            CHILD_ENV,
            format!("{url}\t{tenant}\t{}\t{chunk}", inv.display()),
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

const CHILD_ENV: &str = "ALTO_KILL_CHILD";

/// Not a test of its own: the ingest the crash test runs in a child process and kills. It does
/// nothing unless `ALTO_KILL_CHILD` says what to ingest.
#[test]
fn ingest_child() {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return;
    };
    let [url, tenant, inv, chunk] = spec.split('\t').collect::<Vec<_>>()[..] else {
        panic!("bad {CHILD_ENV}");
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let store = alto_pg::PgStore::connect(url).await.unwrap();
        let t = store.tenant(tenant).await.unwrap();
        let path = Path::new(inv);
        let opts = IngestOptions {
            kind: ScanKind::Full,
            chunk_rows: Some(chunk.parse().unwrap()),
            source: Some(alto_core::ingest::source_identity(path).unwrap()),
            path_prefix: None,
            ..IngestOptions::default()
        };
        let mut src = alto_core::inventory::open(path, &Default::default()).unwrap();
        let report = ingest(
            &store,
            t.id,
            "data",
            &mut *src,
            &opts,
            |_| {},
            |r, _| {
                use std::io::Write;
                println!("chunk {} {}", r.chunks_applied, r.chunks_skipped);
                let _ = std::io::stdout().flush();
            },
        )
        .await
        .unwrap();
        println!("report {}", serde_json::to_string(&report).unwrap());
    });
}

/// Everything the two tenants must agree on, as text rows in a stable order.
async fn tables(conn: &mut sqlx::PgConnection, tenant: i64) -> Vec<(&'static str, Vec<String>)> {
    let queries: [(&'static str, &'static str); 5] = [
        (
            "file_current",
            "WITH s AS (SELECT scan_id, rank() OVER (ORDER BY scan_id) AS r FROM scan \
                 WHERE tenant_id = $1) \
             SELECT (fc.path_key, fc.full_path, fc.size_bytes, alto_micros(fc.modified_utc), \
                 alto_micros(fc.accessed_utc), fc.extension, fc.permissions, fc.owner, \
                 fc.file_hash, fc.last_accessed_source, fc.missing_since IS NULL, \
                 fc.atime_updated_utc IS NULL, f.r, l.r)::text \
             FROM file_current fc JOIN s f ON f.scan_id = fc.first_seen_scan_id \
             JOIN s l ON l.scan_id = fc.last_seen_scan_id WHERE fc.tenant_id = $1 ORDER BY 1",
        ),
        (
            "file (snapshots)",
            "WITH s AS (SELECT scan_id, rank() OVER (ORDER BY scan_id) AS r FROM scan \
                 WHERE tenant_id = $1) \
             SELECT (s.r, f.path_key, f.full_path, f.size_bytes, alto_micros(f.modified_utc), \
                 alto_micros(f.accessed_utc), f.extension, f.permissions, f.owner, \
                 f.file_hash)::text \
             FROM file f JOIN s ON s.scan_id = f.scan_id WHERE f.tenant_id = $1 ORDER BY 1",
        ),
        (
            "dir",
            "SELECT (dir_path, dir_hash64)::text FROM dir WHERE tenant_id = $1 ORDER BY 1",
        ),
        (
            "ingest_chunk",
            "SELECT (c.chunk_key, c.rows, c.new, c.changed, c.unchanged)::text \
             FROM ingest_chunk c WHERE c.tenant_id = $1 ORDER BY 1",
        ),
        (
            "scan",
            "SELECT (kind, source IS NULL, finished_utc IS NULL, missing)::text FROM scan \
             WHERE tenant_id = $1 ORDER BY scan_id",
        ),
    ];
    let mut out = Vec::new();
    for (name, q) in queries {
        let rows: Vec<String> = sqlx::query_scalar(q)
            .bind(tenant)
            .fetch_all(&mut *conn)
            .await
            .unwrap();
        out.push((name, rows));
    }
    out
}

#[test]
fn sigkill_at_random_points_loses_and_doubles_nothing() {
    let rows = env_or("ALTO_KILL_ROWS", 3000);
    let chunk = env_or("ALTO_KILL_CHUNK", 40);
    let kills = env_or("ALTO_KILL_COUNT", 20);
    let seed = env_or(
        "ALTO_KILL_SEED",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64
            | 1,
    );
    eprintln!(
        "kill test: {rows} rows, {chunk} rows per chunk, {kills} kills, ALTO_KILL_SEED={seed}"
    );
    let mut rng = Rng(seed);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let db = rt.block_on(common::TestDb::new("kill"));
    let dir = tempfile::tempdir().unwrap();
    let previous = dir.path().join("previous.csv");
    let inv = dir.path().join("inventory.csv");
    write_inventory(&previous, rows / 3);
    std::fs::write(
        &previous,
        std::fs::read_to_string(&previous).unwrap() + "\"C:\\Data\\gone\\old.txt\",1,,,,,,\n",
    )
    .unwrap();
    write_inventory(&inv, rows);

    // Two tenants with the same history: a previous full scan (with a file the next one lacks).
    let ids = rt.block_on(async {
        let store = db.store().await;
        let mut ids = Vec::new();
        for name in ["reference", "victim"] {
            let t = store
                .create_tenant(name, &TenantSettings::default())
                .await
                .unwrap();
            store
                .ensure_share(t.id, &ShareSpec::new("data", ShareKind::Ntfs))
                .await
                .unwrap();
            let mut src = alto_core::inventory::open(&previous, &Default::default()).unwrap();
            let opts = IngestOptions {
                kind: ScanKind::Full,
                chunk_rows: Some(chunk as usize),
                source: None,
                path_prefix: None,
                ..IngestOptions::default()
            };
            ingest(&store, t.id, "data", &mut *src, &opts, |_| {}, |_, _| {})
                .await
                .unwrap();
            ids.push(t.id.0);
        }
        store.pool().close().await;
        ids
    });

    let status = child(&db.app_url(), "reference", &inv, chunk)
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "reference run failed: {}",
        String::from_utf8_lossy(&status.stderr)
    );

    for k in 0..kills {
        let mut c = child(&db.app_url(), "victim", &inv, chunk).spawn().unwrap();
        let out = c.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if line.starts_with("chunk ") && tx.send(line).is_err() {
                    break;
                }
            }
        });
        // Let it apply 1-2 more chunks, then kill it somewhere inside the next one.
        let wait_chunks = 1 + rng.below(2);
        let mut last = std::time::Instant::now();
        let mut chunk_time = Duration::from_millis(8);
        for i in 0..wait_chunks {
            rx.recv_timeout(Duration::from_secs(120))
                .unwrap_or_else(|_| panic!("kill {k}: no progress from the ingest"));
            if i > 0 {
                chunk_time = last.elapsed();
            }
            last = std::time::Instant::now();
        }
        let micros = u64::try_from(chunk_time.as_micros()).unwrap_or(u64::MAX);
        std::thread::sleep(Duration::from_micros(rng.below(micros)));
        let finished = matches!(c.try_wait(), Ok(Some(_)));
        c.kill().unwrap();
        let st = c.wait().unwrap();
        assert!(
            !finished || !st.success(),
            "kill {k}: the ingest finished before it could be killed; raise ALTO_KILL_ROWS"
        );
    }
    let status = child(&db.app_url(), "victim", &inv, chunk)
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "final run failed: {}",
        String::from_utf8_lossy(&status.stderr)
    );
    let report: serde_json::Value = serde_json::from_str(
        String::from_utf8_lossy(&status.stdout)
            .lines()
            .find_map(|l| l.strip_prefix("report "))
            .expect("a report line"),
    )
    .unwrap();
    assert_eq!(
        report["resumed"], true,
        "the final run resumed the scan: {report}"
    );

    rt.block_on(async {
        let mut c = db.owner().await;
        let want = tables(&mut c, ids[0]).await;
        let got = tables(&mut c, ids[1]).await;
        for ((name, w), (_, g)) in want.iter().zip(&got) {
            assert!(!w.is_empty(), "{name} is empty");
            if w != g {
                let missing: Vec<_> = w.iter().filter(|r| !g.contains(r)).take(5).collect();
                let extra: Vec<_> = g.iter().filter(|r| !w.contains(r)).take(5).collect();
                panic!(
                    "{name}: {} rows after the kills, {} uninterrupted; lost {missing:?}, \
                     extra {extra:?} (ALTO_KILL_SEED={seed})",
                    g.len(),
                    w.len()
                );
            }
        }
        let missing = &want[0].1.iter().filter(|r| r.contains(",f,")).count();
        assert!(
            *missing >= 1,
            "the full scan marked the vanished file missing"
        );
    });
    rt.block_on(db.drop());
}
