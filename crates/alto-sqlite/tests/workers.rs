//! Workers end to end on the SQLite store, on real files: 200 files are ingested from a temp
//! directory, planned and committed, and tiered to a `file://` target by
//! `alto_core::worker::run_one_job` until no job is left; and a worker process killed right after
//! its first stub swap leaves nothing lost: after its lease expires the next worker heals the
//! swapped file and finishes every job exactly once.
//!
//! The killed worker is this test binary again, running only `worker_child` (which does nothing
//! unless `ALTO_SQLITE_WORKER_CHILD` says what to do).

use alto_core::driver::TierTarget;
use alto_core::planner::{PlanOptions, Planner};
use alto_core::store::tiering::JobQuery;
use alto_core::store::{FileQuery, IngestChunk, ScanKind, ScanSpec, ShareSpec};
use alto_core::worker::{TargetOpener, WorkerOptions, run_one_job, split_target_uri};
use alto_core::{
    FileEntry, JobState, RuleSet, ShareKind, Store, Tenant, TenantSettings, TierState,
};
use alto_sqlite::SqliteStore;
use alto_tier::{ObjectTarget, PosixStubDriver};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;

const CHILD_ENV: &str = "ALTO_SQLITE_WORKER_CHILD";
const FILES: usize = 200;
const BATCH: usize = 25;
/// The lease of the killed worker: short, so the test waits little for it to expire.
const LEASE: i64 = 2_000_000;

fn content(i: usize) -> Vec<u8> {
    (0..100 + i).map(|j| ((i * 31 + j) % 251) as u8).collect()
}

/// What a scan would record: the file's metadata, its absolute path.
fn entry_of(p: &Path) -> FileEntry {
    let m = std::fs::metadata(p).unwrap();
    let micros = |t: std::io::Result<std::time::SystemTime>| {
        t.ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_micros() as i64)
    };
    FileEntry {
        path: p.display().to_string(),
        size: m.len(),
        modified: micros(m.modified()),
        accessed: micros(m.accessed()),
        ..Default::default()
    }
}

fn key_of(p: &Path) -> String {
    alto_core::path::path_key(&p.display().to_string(), false)
}

/// A tenant whose `FILES` real files under `primary` are ingested and planned, in jobs of
/// `BATCH`, to a `file://` target under `tier`.
async fn tenant_with_plan(
    store: &SqliteStore,
    primary: &Path,
    tier: &Path,
) -> (Tenant, Vec<PathBuf>) {
    let t = store
        .create_tenant("acme", &TenantSettings::default())
        .await
        .unwrap();
    store
        .ensure_share(
            t.id,
            &ShareSpec::new("data", ShareKind::Posix).with_root(primary.display().to_string()),
        )
        .await
        .unwrap();
    let mut paths = Vec::new();
    for i in 0..FILES {
        let dir = primary.join(format!("d{}", i % 7));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join(format!("file {i}.bin"));
        std::fs::write(&p, content(i)).unwrap();
        paths.push(p);
    }
    let scan = store
        .begin_scan(t.id, &ScanSpec::new("data", ScanKind::Full))
        .await
        .unwrap();
    let chunk = IngestChunk {
        id: "0".into(),
        entries: paths.iter().map(|p| entry_of(p)).collect(),
    };
    let out = store.ingest_chunk(t.id, scan.id, &chunk).await.unwrap();
    assert_eq!(out.new, FILES as u64);
    store.finish_scan(t.id, scan.id).await.unwrap();

    // One rule without conditions: every file qualifies.
    let rules = RuleSet::from_toml(&format!(
        "[[rule]]\nname = \"all\"\ntarget = \"file://{}/{{tenant}}/\"\n",
        tier.display()
    ))
    .unwrap();
    let now = alto_core::time::now_micros();
    let mut planner = Planner::new(
        &rules,
        PlanOptions {
            keep_files: true,
            batch_size: BATCH,
            tenant: t.name.clone(),
            share: "data".into(),
            ..PlanOptions::at(now)
        },
    );
    let mut q = FileQuery {
        limit: 64,
        ..Default::default()
    };
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
    let report = planner.finish();
    let out = store
        .tiering()
        .commit_plan(t.id, &report.to_commit(now))
        .await
        .unwrap();
    assert_eq!(
        (out.planned, out.jobs),
        (FILES as u64, FILES.div_ceil(BATCH) as u64)
    );
    (t, paths)
}

fn opener() -> Box<TargetOpener> {
    Box::new(|uri: &str| Ok(Arc::new(ObjectTarget::open(uri)?) as Arc<dyn TierTarget>))
}

/// Run jobs until none is left; returns how many ran.
async fn work(store: &SqliteStore, t: &Tenant, lease: i64) -> usize {
    let opts = WorkerOptions {
        name: format!("w{}", std::process::id()),
        lease,
        ..Default::default()
    };
    let targets = opener();
    let mut jobs = 0;
    while let Some(r) = run_one_job(store, t, &targets, &PosixStubDriver, &opts)
        .await
        .unwrap()
    {
        assert!(r.errors.is_empty(), "{:?}", r.errors);
        jobs += 1;
    }
    jobs
}

/// Every file is a valid stub of its STUBBED object, and the object verifies and holds the
/// original bytes.
async fn all_stubbed(store: &SqliteStore, t: &Tenant, paths: &[PathBuf]) {
    for (i, p) in paths.iter().enumerate() {
        assert!(
            alto_tier::read_stub_at(p).unwrap().is_some(),
            "{} is a stub",
            p.display()
        );
        let info = alto_tier::read_stub_at(p).unwrap().unwrap();
        let obj = store.tier_object(t.id, "data", &key_of(p)).await.unwrap();
        assert_eq!(obj.state, TierState::Stubbed, "{}", p.display());
        assert_eq!(info.size, content(i).len() as u64);
        let (root, key) = split_target_uri(&t.name, &obj).unwrap();
        assert_eq!(info.target_uri, format!("{root}{key}"));
        let target = ObjectTarget::open(root).unwrap();
        let stored = target.verify(&key).await.unwrap();
        assert_eq!(
            (stored.size, stored.sha256.as_deref()),
            (info.size, Some(info.sha256.as_str())),
            "{}",
            p.display()
        );
        let fetched = tempfile::NamedTempFile::new().unwrap();
        target.get_file(&key, fetched.path()).await.unwrap();
        assert_eq!(std::fs::read(fetched.path()).unwrap(), content(i));
    }
}

async fn audit_kinds(store: &SqliteStore, t: &Tenant) -> HashMap<String, usize> {
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

async fn jobs(store: &SqliteStore, t: &Tenant) -> Vec<alto_core::Job> {
    store
        .tiering()
        .jobs(t.id, &JobQuery::default())
        .await
        .unwrap()
        .items
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_tiers_every_file() {
    let dir = tempfile::tempdir().unwrap();
    let (primary, tier) = (dir.path().join("primary"), dir.path().join("tier"));
    let url = format!("sqlite://{}", dir.path().join("alto.db").display());
    let store = SqliteStore::open(&url).await.unwrap();
    let (t, paths) = tenant_with_plan(&store, &primary, &tier).await;

    assert_eq!(work(&store, &t, WorkerOptions::default().lease).await, 8);
    all_stubbed(&store, &t, &paths).await;
    let kinds = audit_kinds(&store, &t).await;
    assert_eq!(kinds.get("tier.plan"), Some(&FILES), "{kinds:?}");
    assert_eq!(kinds.get("tier.stub"), Some(&FILES), "{kinds:?}");
    assert_eq!(kinds.get("job.done"), Some(&8), "{kinds:?}");
    for j in jobs(&store, &t).await {
        assert_eq!(
            (j.state, j.attempts, j.files_stubbed, j.files_failed),
            (JobState::Done, 1, BATCH as u64, 0)
        );
        assert!(
            store
                .tiering()
                .job_objects(t.id, j.id)
                .await
                .unwrap()
                .is_empty(),
            "a finished job keeps no links"
        );
    }
    let stubbed = store
        .files(
            t.id,
            &FileQuery {
                state: Some(TierState::Stubbed),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(stubbed.items.len(), FILES);
    store.close().await;
}

/// Not a test of its own: the worker process `a_killed_worker_loses_nothing` starts.
#[test]
fn worker_child() {
    let Ok(url) = std::env::var(CHILD_ENV) else {
        return;
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let store = SqliteStore::open(&url).await.unwrap();
        let t = store.tenant("acme").await.unwrap();
        let jobs = work(&store, &t, LEASE).await;
        println!("worker-jobs {jobs}");
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_worker_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (primary, tier) = (dir.path().join("primary"), dir.path().join("tier"));
    let url = format!("sqlite://{}", dir.path().join("alto.db").display());
    let store = SqliteStore::open(&url).await.unwrap();
    let (t, paths) = tenant_with_plan(&store, &primary, &tier).await;

    // The child aborts (like kill -9) right after its first stub swap: the file is a stub on
    // disk, the store still says PLANNED, and the child's lease is left to expire.
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "worker_child", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, &url)
        .env("ALTO_FAILPOINT", "after_stub_swap")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "the child was killed: {stderr}");
    assert!(
        stderr.contains("failpoint after_stub_swap"),
        "the child died at the failpoint: {stderr}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(out.status.signal(), Some(6), "SIGABRT, no clean exit");
    }
    let swapped: Vec<&PathBuf> = {
        let mut v = Vec::new();
        for p in &paths {
            if alto_tier::read_stub_at(p).unwrap().is_some() {
                v.push(p);
            }
        }
        v
    };
    assert_eq!(swapped.len(), 1, "exactly one file was swapped");
    let obj = store
        .tier_object(t.id, "data", &key_of(swapped[0]))
        .await
        .unwrap();
    assert_eq!(obj.state, TierState::Planned, "the swap was never recorded");
    let running: Vec<_> = jobs(&store, &t)
        .await
        .into_iter()
        .filter(|j| j.state == JobState::Running)
        .collect();
    assert_eq!(running.len(), 1, "the child held one job");
    // After the lease expired, a normal worker takes the job over and heals the swapped file.
    let wait = running[0].lease_expires.unwrap() - alto_core::time::now_micros();
    tokio::time::sleep(std::time::Duration::from_micros(
        wait.max(0) as u64 + 100_000,
    ))
    .await;
    assert_eq!(work(&store, &t, LEASE * 30).await, 8);
    all_stubbed(&store, &t, &paths).await;

    let kinds = audit_kinds(&store, &t).await;
    assert_eq!(
        kinds.get("tier.stub"),
        Some(&FILES),
        "one record per file: {kinds:?}"
    );
    assert_eq!(
        kinds.get("job.done"),
        Some(&8),
        "each job done once: {kinds:?}"
    );
    assert_eq!(kinds.get("job.retry"), None, "{kinds:?}");
    let all = jobs(&store, &t).await;
    let mut stubbed = 0;
    for j in &all {
        assert_eq!(j.state, JobState::Done, "{j:?}");
        assert_eq!(j.files_failed, 0, "{j:?}");
        stubbed += j.files_stubbed;
        let attempts = if j.id == running[0].id { 2 } else { 1 };
        assert_eq!(
            j.attempts, attempts,
            "only the killed job was claimed twice: {j:?}"
        );
    }
    assert_eq!(stubbed, FILES as u64);
    store.close().await;
}
