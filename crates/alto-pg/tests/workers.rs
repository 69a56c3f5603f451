//! Workers on PostgreSQL, across processes, on real files: four worker processes share one
//! queue and tier every file exactly once; a worker killed at each crash point of tiering (and of
//! rehydration) leaves every file either its original bytes or a valid stub, and the next worker
//! (after the lease expires) finishes the job exactly once.
//!
//! Worker processes are this test binary again, running only `worker_child` (which does nothing
//! unless `ALTO_PG_WORKER_CHILD` says what to do).

mod common;

use alto_core::driver::{ObjectInfo, TierTarget};
use alto_core::planner::{PlanOptions, Planner};
use alto_core::store::tiering::JobQuery;
use alto_core::store::{FileQuery, IngestChunk, ScanKind, ScanSpec, ShareSpec};
use alto_core::worker::{TargetOpener, WorkerOptions, rehydrate_one, run_one_job};
use alto_core::{
    FileEntry, JobState, RuleSet, ShareKind, Store, Tenant, TenantSettings, TierState,
};
use alto_pg::PgStore;
use alto_tier::{ObjectTarget, PosixStubDriver};
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

const DAY: i64 = 86_400_000_000;
const CHILD_ENV: &str = "ALTO_PG_WORKER_CHILD";

fn entry_of(p: &Path, accessed: i64) -> FileEntry {
    let m = std::fs::metadata(p).unwrap();
    let mtime = m
        .modified()
        .unwrap()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_micros() as i64;
    FileEntry {
        path: p.display().to_string(),
        size: m.len(),
        modified: Some(mtime),
        accessed: Some(accessed),
        ..Default::default()
    }
}

fn content(i: usize, size: usize) -> Vec<u8> {
    (0..size + i).map(|j| ((i * 31 + j) % 251) as u8).collect()
}

/// A tenant with `n` real files under `primary`, all cold, planned in jobs of `batch` files
/// going to a `file://` target under `tier`.
async fn tenant_with_plan(
    store: &PgStore,
    name: &str,
    primary: &Path,
    tier: &Path,
    n: usize,
    size: usize,
    batch: usize,
) -> (Tenant, Vec<PathBuf>) {
    let t = store
        .create_tenant(name, &TenantSettings::default())
        .await
        .unwrap();
    store
        .ensure_share(
            t.id,
            &ShareSpec::new("data", ShareKind::Posix).with_root(primary.display().to_string()),
        )
        .await
        .unwrap();
    let now = alto_core::time::now_micros();
    let mut paths = Vec::new();
    let mut entries = Vec::new();
    for i in 0..n {
        let dir = primary.join(format!("d{}", i % 7));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join(format!("file {i} \"q\".bin"));
        std::fs::write(&p, content(i, size)).unwrap();
        entries.push(entry_of(&p, now - 400 * DAY));
        paths.push(p);
    }
    let scan = store
        .begin_scan(t.id, &ScanSpec::new("data", ScanKind::Full))
        .await
        .unwrap();
    store
        .ingest_chunk(
            t.id,
            scan.id,
            &IngestChunk {
                id: "0".into(),
                entries,
            },
        )
        .await
        .unwrap();
    store.finish_scan(t.id, scan.id).await.unwrap();
    let rules = RuleSet::from_toml(&format!(
        "[[rule]]\nname = \"cold\"\naccessed_before = \"30d\"\ntarget = \"file://{}/{{tenant}}/\"\n",
        tier.display()
    ))
    .unwrap();
    let mut opts = PlanOptions::at(now);
    opts.keep_files = true;
    opts.batch_size = batch;
    opts.tenant = t.name.clone();
    let mut planner = Planner::new(&rules, opts);
    let mut q = FileQuery::default();
    loop {
        let page = store.files(t.id, &q).await.unwrap();
        for f in &page.items {
            planner.add_record(f);
        }
        match page.next {
            Some(n) => q.after = Some(n),
            None => break,
        }
    }
    let out = store
        .tiering()
        .commit_plan(t.id, &planner.finish().to_commit(now))
        .await
        .unwrap();
    assert_eq!(out.planned, n as u64);
    (t, paths)
}

/// A target that appends every key it uploads to a log file (one per worker process).
#[derive(Debug)]
struct Logged {
    inner: ObjectTarget,
    log: PathBuf,
}

#[async_trait::async_trait]
impl TierTarget for Logged {
    fn uri(&self) -> &str {
        self.inner.uri()
    }
    async fn put(&self, key: &str, file: std::fs::File) -> alto_core::Result<ObjectInfo> {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)?;
        writeln!(f, "{key}")?;
        f.sync_data()?;
        self.inner.put(key, file).await
    }
    async fn verify(&self, key: &str) -> alto_core::Result<ObjectInfo> {
        self.inner.verify(key).await
    }
    async fn get(&self, key: &str, file: std::fs::File) -> alto_core::Result<ObjectInfo> {
        self.inner.get(key, file).await
    }
    async fn list_page(
        &self,
        prefix: &str,
        token: Option<&str>,
        limit: usize,
    ) -> alto_core::Result<alto_core::driver::ObjectPage> {
        self.inner.list_page(prefix, token, limit).await
    }
    async fn delete(&self, key: &str) -> alto_core::Result<()> {
        self.inner.delete(key).await
    }
}

fn opener(log: Option<PathBuf>) -> Box<TargetOpener> {
    Box::new(move |uri: &str| {
        let inner = ObjectTarget::open(uri)?;
        Ok(match &log {
            Some(log) => Arc::new(Logged {
                inner,
                log: log.clone(),
            }) as Arc<dyn TierTarget>,
            None => Arc::new(inner) as Arc<dyn TierTarget>,
        })
    })
}

/// Run jobs of `tenant` until none is left; returns how many.
async fn work(
    store: &PgStore,
    tenant: &Tenant,
    log: Option<PathBuf>,
    lease: i64,
    name: &str,
) -> u64 {
    let targets = opener(log);
    let opts = WorkerOptions {
        name: name.into(),
        lease,
        ..Default::default()
    };
    let mut jobs = 0;
    while let Some(r) = run_one_job(store, tenant, &targets, &PosixStubDriver, &opts)
        .await
        .unwrap()
    {
        assert!(r.errors.is_empty(), "{:?}", r.errors);
        jobs += 1;
    }
    jobs
}

/// A worker process: `work URL TENANT LOG LEASE` or `rehydrate URL TENANT KEY`.
fn child(args: &[&str], failpoint: Option<&str>) -> Command {
    let mut c = Command::new(std::env::current_exe().unwrap());
    c.args(["--exact", "worker_child", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, args.join("\t"))
        .env_remove("ALTO_FAILPOINT")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(fp) = failpoint {
        c.env("ALTO_FAILPOINT", fp);
    }
    c
}

/// Not a test of its own: the worker process the tests start.
#[test]
fn worker_child() {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return;
    };
    let args: Vec<&str> = spec.split('\t').collect();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let store = PgStore::connect(args[1]).await.unwrap();
        let t = store.tenant(args[2]).await.unwrap();
        match args[0] {
            "work" => {
                let lease: i64 = args[4].parse().unwrap();
                let name = format!("w{}", std::process::id());
                let jobs = work(&store, &t, Some(PathBuf::from(args[3])), lease, &name).await;
                println!("\nworker-jobs {jobs}");
            }
            "rehydrate" => {
                let obj = store.tier_object(t.id, "data", args[3]).await.unwrap();
                rehydrate_one(&store, &t, &obj, &opener(None), &PosixStubDriver)
                    .await
                    .unwrap();
            }
            other => panic!("unknown child mode {other}"),
        }
    });
}

fn key_of(p: &Path) -> String {
    alto_core::path::path_key(&p.display().to_string(), false)
}

/// The file is its original bytes, or a valid stub whose object exists and verifies. Returns
/// whether it is a stub.
async fn intact(store: &PgStore, t: &Tenant, p: &Path, original: &[u8]) -> bool {
    if alto_tier::read_stub_at(p).unwrap().is_none() {
        assert_eq!(std::fs::read(p).unwrap(), original, "{}", p.display());
        return false;
    }
    let info = alto_tier::read_stub_at(p).unwrap().unwrap();
    let obj = store.tier_object(t.id, "data", &key_of(p)).await.unwrap();
    assert_eq!(info.size, original.len() as u64);
    let (root, key) = alto_core::worker::split_target_uri(&t.name, &obj).unwrap();
    assert_eq!(info.target_uri, format!("{root}{key}"));
    let stored = ObjectTarget::open(root)
        .unwrap()
        .verify(&key)
        .await
        .unwrap();
    assert_eq!(
        (stored.size, stored.sha256.as_deref()),
        (info.size, Some(info.sha256.as_str())),
        "{}",
        p.display()
    );
    let mut fetched = tempfile::NamedTempFile::new().unwrap();
    ObjectTarget::open(root)
        .unwrap()
        .get_file(&key, fetched.path())
        .await
        .unwrap();
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(fetched.as_file_mut(), &mut bytes).unwrap();
    assert_eq!(bytes, original, "the object holds the original bytes");
    true
}

async fn audit_kinds(store: &PgStore, t: &Tenant) -> HashMap<String, usize> {
    let mut kinds = HashMap::new();
    let mut after = None;
    loop {
        let page = store.audit(t.id, after, 1000).await.unwrap();
        for e in &page.items {
            *kinds.entry(e.kind.clone()).or_default() += 1;
        }
        match page.next {
            Some(n) => after = Some(n.parse().unwrap()),
            None => break,
        }
    }
    kinds
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_worker_processes_tier_every_file_once() {
    let db = common::TestDb::new("workers").await;
    let store = db.store().await;
    let primary = tempfile::tempdir().unwrap();
    let tier = tempfile::tempdir().unwrap();
    let logs = tempfile::tempdir().unwrap();
    let (t, paths) =
        tenant_with_plan(&store, "acme", primary.path(), tier.path(), 1000, 64, 25).await;
    let originals: Vec<Vec<u8>> = (0..paths.len()).map(|i| content(i, 64)).collect();
    let started = std::time::Instant::now();
    let children: Vec<_> = (0..4)
        .map(|w| {
            let log = logs.path().join(format!("uploads-{w}.log"));
            let log = log.display().to_string();
            child(&["work", &db.app_url(), "acme", &log, "300000000"], None)
                .spawn()
                .unwrap()
        })
        .collect();
    let mut per_worker = Vec::new();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "worker failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        per_worker.push(
            stdout
                .lines()
                .find_map(|l| l.split("worker-jobs ").nth(1))
                .unwrap_or("?")
                .to_owned(),
        );
    }
    eprintln!(
        "4 worker processes: 1000 files in 40 jobs in {:.1} s; jobs per worker {per_worker:?}",
        started.elapsed().as_secs_f64()
    );

    // Every file is a stub of an object that verifies and holds its bytes.
    for (p, original) in paths.iter().zip(&originals) {
        assert!(
            intact(&store, &t, p, original).await,
            "{} is a stub",
            p.display()
        );
        let obj = store.tier_object(t.id, "data", &key_of(p)).await.unwrap();
        assert_eq!(obj.state, TierState::Stubbed);
    }
    // No object uploaded twice.
    let mut uploads: HashMap<String, usize> = HashMap::new();
    for w in 0..4 {
        let log = logs.path().join(format!("uploads-{w}.log"));
        for key in std::fs::read_to_string(&log).unwrap_or_default().lines() {
            *uploads.entry(key.to_owned()).or_default() += 1;
        }
    }
    assert_eq!(uploads.len(), 1000);
    let twice: Vec<_> = uploads.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "uploaded more than once: {twice:?}");
    // One STUBBED record per file, every job done on its first attempt.
    let kinds = audit_kinds(&store, &t).await;
    assert_eq!(kinds.get("tier.stub"), Some(&1000), "{kinds:?}");
    assert_eq!(kinds.get("job.done"), Some(&40), "{kinds:?}");
    let jobs = store
        .tiering()
        .jobs(t.id, &JobQuery::default())
        .await
        .unwrap()
        .items;
    assert_eq!(jobs.len(), 40);
    for j in &jobs {
        assert_eq!(
            (j.state, j.attempts, j.files_stubbed),
            (JobState::Done, 1, 25)
        );
    }
    store.pool().close().await;
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_at_any_crash_point_loses_nothing() {
    const POINTS: [&str; 4] = [
        "after_upload",
        "after_verify",
        "stub_before_rename",
        "after_stub_swap",
    ];
    const LEASE: i64 = 2_000_000;
    let db = common::TestDb::new("crash").await;
    let store = db.store().await;
    let primary = tempfile::tempdir().unwrap();
    let tier = tempfile::tempdir().unwrap();
    let logs = tempfile::tempdir().unwrap();
    let mut tenants = Vec::new();
    for point in POINTS {
        let dir = primary.path().join(point);
        let (t, paths) = tenant_with_plan(&store, point, &dir, tier.path(), 3, 5000, 10).await;
        tenants.push((point, t, paths));
    }
    // A worker per crash point, each killed (abort) at its point on the first file.
    let children: Vec<_> = POINTS
        .iter()
        .map(|point| {
            let log = logs
                .path()
                .join(format!("{point}.log"))
                .display()
                .to_string();
            child(
                &["work", &db.app_url(), point, &log, &LEASE.to_string()],
                Some(point),
            )
            .spawn()
            .unwrap()
        })
        .collect();
    for (c, point) in children.into_iter().zip(POINTS) {
        let out = c.wait_with_output().unwrap();
        assert!(!out.status.success(), "{point}: the worker was not killed");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(&format!("failpoint {point}")),
            "{point}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // Right after the crash: originals or valid stubs, and the job still held by the dead
    // worker's lease.
    for (point, t, paths) in &tenants {
        for (i, p) in paths.iter().enumerate() {
            intact(&store, t, p, &content(i, 5000)).await;
        }
        let jobs = store
            .tiering()
            .jobs(t.id, &JobQuery::default())
            .await
            .unwrap()
            .items;
        assert_eq!(
            (jobs.len(), jobs[0].state, jobs[0].attempts),
            (1, JobState::Running, 1),
            "{point}"
        );
        let nobody = run_one_job(
            &store,
            t,
            &opener(None),
            &PosixStubDriver,
            &WorkerOptions::default(),
        )
        .await
        .unwrap();
        assert!(nobody.is_none(), "{point}: the lease still holds");
    }
    tokio::time::sleep(Duration::from_micros(LEASE as u64 + 300_000)).await;
    // A normal worker takes the job over and finishes it, exactly once.
    for (point, t, paths) in &tenants {
        let jobs = work(&store, t, None, LEASE, "recovery").await;
        assert_eq!(jobs, 1, "{point}");
        for (i, p) in paths.iter().enumerate() {
            assert!(
                intact(&store, t, p, &content(i, 5000)).await,
                "{point}: {} is a stub",
                p.display()
            );
        }
        let jobs = store
            .tiering()
            .jobs(t.id, &JobQuery::default())
            .await
            .unwrap()
            .items;
        assert_eq!(
            (jobs[0].state, jobs[0].attempts, jobs[0].files_stubbed),
            (JobState::Done, 2, 3),
            "{point}"
        );
        let kinds = audit_kinds(&store, t).await;
        assert_eq!(kinds.get("tier.stub"), Some(&3), "{point}: {kinds:?}");
        assert_eq!(kinds.get("job.done"), Some(&1), "{point}: {kinds:?}");
    }

    // Rehydration killed after the fetch and before the swap: the stub stays valid; a rerun
    // brings the file back.
    let (_, t, paths) = &tenants[0];
    for (i, point) in ["rehydrate_after_fetch", "restore_before_rename"]
        .iter()
        .enumerate()
    {
        let p = &paths[i];
        let key = key_of(p);
        let out = child(&["rehydrate", &db.app_url(), &t.name, &key], Some(point))
            .output()
            .unwrap();
        assert!(
            !out.status.success(),
            "{point}: the rehydration was not killed"
        );
        assert!(
            intact(&store, t, p, &content(i, 5000)).await,
            "{point}: still a stub"
        );
        let obj = store.tier_object(t.id, "data", &key).await.unwrap();
        assert_eq!(obj.state, TierState::Stubbed, "{point}");
        let bytes = rehydrate_one(&store, t, &obj, &opener(None), &PosixStubDriver)
            .await
            .unwrap();
        assert_eq!(bytes, content(i, 5000).len() as u64);
        assert_eq!(std::fs::read(p).unwrap(), content(i, 5000), "{point}");
        let obj = store.tier_object(t.id, "data", &key).await.unwrap();
        assert_eq!(obj.state, TierState::Rehydrated, "{point}");
    }
    store.pool().close().await;
    db.drop().await;
}
