//! Workers end to end on real files with the memory store: plan, commit, tier, re-check,
//! rehydrate, re-plan; and four workers racing over one queue.

use alto_core::driver::{Attributes, Located, ObjectInfo, Opened, Staged, StubDriver, TierTarget};
use alto_core::planner::{PlanOptions, Planner};
use alto_core::store::{FileQuery, IngestChunk, ScanKind, ScanSpec, ShareSpec};
use alto_core::worker::{
    FileProgress, TargetOpener, WorkerOptions, rehydrate_one, run_one_job,
    run_one_job_with_progress,
};
use alto_core::{
    FileEntry, MemoryStore, RuleSet, ShareKind, Store, Tenant, TenantSettings, TierState,
};
use alto_tier::{ObjectTarget, PosixStubDriver};
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

const DAY: i64 = 86_400_000_000;

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

async fn setup(
    store: &MemoryStore,
    primary: &Path,
    n: usize,
    size: usize,
) -> (Tenant, Vec<std::path::PathBuf>) {
    setup_with(store, primary, n, size, TenantSettings::default()).await
}

async fn setup_with(
    store: &MemoryStore,
    primary: &Path,
    n: usize,
    size: usize,
    settings: TenantSettings,
) -> (Tenant, Vec<std::path::PathBuf>) {
    let t = store.create_tenant("acme", &settings).await.unwrap();
    store
        .ensure_share(
            t.id,
            &ShareSpec::new("data", ShareKind::Posix).with_root(primary.display().to_string()),
        )
        .await
        .unwrap();
    let mut paths = Vec::new();
    let mut entries = Vec::new();
    let now = alto_core::time::now_micros();
    for i in 0..n {
        let dir = primary.join(format!("d{}", i % 7));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join(format!("file {i} \"q\".bin"));
        std::fs::write(&p, vec![(i % 251) as u8; size + i]).unwrap();
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
    (t, paths)
}

async fn plan_and_commit(
    store: &MemoryStore,
    t: &Tenant,
    tier: &Path,
    batch: usize,
) -> alto_core::store::tiering::CommitOutcome {
    let rules = RuleSet::from_toml(&format!(
        "[[rule]]\nname = \"cold\"\naccessed_before = \"30d\"\ntarget = \"file://{}/{{tenant}}/\"\n",
        tier.display()
    ))
    .unwrap();
    let now = alto_core::time::now_micros();
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
    let report = planner.finish();
    store
        .tiering()
        .commit_plan(t.id, &report.to_commit(now))
        .await
        .unwrap()
}

fn opener() -> Box<TargetOpener> {
    Box::new(|uri: &str| Ok(Arc::new(ObjectTarget::open(uri)?) as Arc<dyn TierTarget>))
}

#[tokio::test]
async fn tier_recheck_rehydrate_replan() {
    let primary = tempfile::tempdir().unwrap();
    let tier = tempfile::tempdir().unwrap();
    let store = MemoryStore::new();
    let (t, paths) = setup(&store, primary.path(), 12, 3000).await;
    let out = plan_and_commit(&store, &t, tier.path(), 5).await;
    assert_eq!((out.planned, out.jobs), (12, 3));
    // After planning: one file changes, one is accessed (a newer scan says so), one disappears.
    std::fs::write(&paths[0], b"changed since planning").unwrap();
    let later = alto_core::time::now_micros() + 1_000_000;
    let scan = store
        .begin_scan(t.id, &ScanSpec::new("data", ScanKind::Partial))
        .await
        .unwrap();
    store
        .ingest_chunk(
            t.id,
            scan.id,
            &IngestChunk {
                id: "0".into(),
                entries: vec![entry_of(&paths[1], later)],
            },
        )
        .await
        .unwrap();
    std::fs::remove_file(&paths[2]).unwrap();

    let driver = PosixStubDriver;
    let targets = opener();
    let opts = WorkerOptions::default();
    let mut total = alto_core::worker::JobReport::default();
    // The per-file progress calls add up to the job reports.
    let seen = Mutex::new(alto_core::worker::JobReport::default());
    let on_file = |f| {
        let mut s = seen.lock().unwrap();
        match f {
            FileProgress::Stubbed { bytes } => {
                s.stubbed += 1;
                s.bytes += bytes;
            }
            FileProgress::Skipped => s.skipped += 1,
            FileProgress::Failed => s.failed += 1,
            other => panic!("a file outcome this test does not know: {other:?}"),
        }
    };
    while let Some(r) = run_one_job_with_progress(&store, &t, &targets, &driver, &opts, &on_file)
        .await
        .unwrap()
    {
        assert!(r.errors.is_empty(), "{:?}", r.errors);
        total.stubbed += r.stubbed;
        total.skipped += r.skipped;
        total.bytes += r.bytes;
    }
    assert_eq!((total.stubbed, total.skipped), (9, 3));
    assert_eq!(total.bytes, (3..12).map(|i| 3000 + i).sum::<u64>());
    assert_eq!(*seen.lock().unwrap(), total);
    assert!(
        alto_tier::read_stub_at(&paths[0]).unwrap().is_none(),
        "a changed file keeps its data"
    );
    assert!(
        alto_tier::read_stub_at(&paths[1]).unwrap().is_none(),
        "a file accessed since planning stays"
    );
    for p in &paths[3..] {
        assert!(
            alto_tier::read_stub_at(p).unwrap().is_some(),
            "{}",
            p.display()
        );
        let key = alto_core::path::path_key(&p.display().to_string(), false);
        let obj = store.tier_object(t.id, "data", &key).await.unwrap();
        assert_eq!(obj.state, TierState::Stubbed);
        let info = alto_tier::read_stub_at(p).unwrap().unwrap();
        let (root, k) = alto_core::worker::split_target_uri(&t.name, &obj).unwrap();
        // Each incarnation of each file has its own object, and the catalogue records it with
        // the original's owner and mode.
        assert_eq!(info.target_uri, format!("{root}{k}"));
        assert!(k.starts_with("acme/data/"), "{k}");
        assert!(k.ends_with(&format!(".~{}.1", obj.id)), "{k}");
        let stored = obj
            .stored
            .as_ref()
            .expect("the catalogue records the object");
        assert_eq!(
            (stored.key.as_str(), stored.size, stored.sha256.as_str()),
            (k.as_str(), info.size, info.sha256.as_str())
        );
        let meta = std::fs::metadata(p).unwrap();
        use std::os::unix::fs::MetadataExt;
        assert_eq!((meta.uid(), meta.gid()), (stored.uid, stored.gid));
        let stored = ObjectTarget::open(root).unwrap().verify(&k).await.unwrap();
        assert_eq!(
            (stored.size, stored.sha256.as_deref()),
            (info.size, Some(info.sha256.as_str()))
        );
    }
    let key0 = alto_core::path::path_key(&paths[0].display().to_string(), false);
    assert!(
        store.tier_object(t.id, "data", &key0).await.is_err(),
        "skipped files have their plan withdrawn"
    );

    // Rehydrate one and plan it again: a new incarnation.
    let p = &paths[5];
    let key = alto_core::path::path_key(&p.display().to_string(), false);
    let obj = store.tier_object(t.id, "data", &key).await.unwrap();
    let bytes = rehydrate_one(&store, &t, &obj, &targets, &driver)
        .await
        .unwrap();
    assert_eq!(std::fs::read(p).unwrap(), vec![5u8; 3005]);
    assert_eq!(bytes, 3005);
    let obj = store.tier_object(t.id, "data", &key).await.unwrap();
    assert_eq!(obj.state, TierState::Rehydrated);
    let again = rehydrate_one(&store, &t, &obj, &targets, &driver)
        .await
        .unwrap_err();
    assert_eq!(again.kind(), alto_core::ErrorKind::InvalidTransition);
    let out = plan_and_commit(&store, &t, tier.path(), 100).await;
    // The rehydrated file, plus the changed and the deleted file (the store has not seen a new
    // scan, so they still qualify; a worker would skip them again). Stubbed files never reach the
    // commit: the planner skips them before any rule.
    assert_eq!((out.planned, out.already_stubbed), (3, 0), "{out:?}");
    let obj = store.tier_object(t.id, "data", &key).await.unwrap();
    assert_eq!((obj.state, obj.incarnation), (TierState::Planned, 2));
}

/// Counts uploads per key.
#[derive(Debug)]
struct Counting {
    inner: ObjectTarget,
    puts: Arc<Mutex<HashMap<String, u32>>>,
}

#[async_trait::async_trait]
impl TierTarget for Counting {
    fn uri(&self) -> &str {
        self.inner.uri()
    }
    async fn put(&self, key: &str, file: std::fs::File) -> alto_core::Result<ObjectInfo> {
        *self.puts.lock().unwrap().entry(key.to_owned()).or_default() += 1;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn four_workers_never_tier_a_file_twice() {
    let primary = tempfile::tempdir().unwrap();
    let tier = tempfile::tempdir().unwrap();
    let store = Arc::new(MemoryStore::new());
    let (t, paths) = setup(&store, primary.path(), 1000, 64).await;
    let out = plan_and_commit(&store, &t, tier.path(), 25).await;
    assert_eq!((out.planned, out.jobs), (1000, 40));
    let puts = Arc::new(Mutex::new(HashMap::new()));
    let mut handles = Vec::new();
    for w in 0..4 {
        let (store, t, puts) = (store.clone(), t.clone(), puts.clone());
        handles.push(tokio::spawn(async move {
            let targets: Box<TargetOpener> = Box::new(move |uri: &str| {
                Ok(Arc::new(Counting {
                    inner: ObjectTarget::open(uri)?,
                    puts: puts.clone(),
                }) as Arc<dyn TierTarget>)
            });
            let opts = WorkerOptions {
                name: format!("w{w}"),
                ..Default::default()
            };
            let mut jobs = 0;
            while let Some(r) = run_one_job(store.as_ref(), &t, &targets, &PosixStubDriver, &opts)
                .await
                .unwrap()
            {
                assert!(r.errors.is_empty(), "{:?}", r.errors);
                jobs += 1;
            }
            jobs
        }));
    }
    let mut jobs = 0;
    for h in handles {
        jobs += h.await.unwrap();
    }
    assert_eq!(jobs, 40);
    let puts = puts.lock().unwrap().clone();
    assert_eq!(puts.len(), 1000);
    assert!(
        puts.values().all(|&n| n == 1),
        "every file uploaded exactly once"
    );
    for p in &paths {
        assert!(alto_tier::read_stub_at(p).unwrap().is_some());
    }
    let stub_events = {
        let mut n = 0;
        let mut after = None;
        loop {
            let page = store.audit(t.id, after, 1000).await.unwrap();
            n += page.items.iter().filter(|e| e.kind == "tier.stub").count();
            match page.next {
                Some(x) => after = Some(x.parse().unwrap()),
                None => break,
            }
        }
        n
    };
    assert_eq!(stub_events, 1000, "one STUBBED record per file");
}

/// A stub driver that lets an access feed run right after the swap: the race between a worker
/// and the feed, made deterministic.
#[derive(Debug)]
struct FeedRacesSwap {
    store: Arc<MemoryStore>,
    tenant: Tenant,
    path: String,
}

#[async_trait::async_trait]
impl StubDriver for FeedRacesSwap {
    fn name(&self) -> &'static str {
        "racing"
    }
    async fn open(&self, f: &Located) -> alto_core::Result<Opened> {
        PosixStubDriver.open(f).await
    }
    async fn stub(
        &self,
        o: Opened,
        info: &alto_core::driver::StubInfo,
        a: &Attributes,
    ) -> alto_core::Result<Vec<String>> {
        let notes = PosixStubDriver.stub(o, info, a).await?;
        // Someone opens the file now; the feed sees it and re-evaluates the plan.
        let rules = RuleSet::from_toml(
            "[[rule]]\nname = \"cold\"\naccessed_before = \"30d\"\ntarget = \"file:///x/\"\n",
        )
        .unwrap();
        let now = alto_core::time::now_micros();
        let ev = alto_core::feed::AccessEvent {
            id: "race/1".into(),
            at: now,
            action: alto_core::feed::FeedAction::FileRead,
            path: self.path.clone(),
            target_path: None,
            user: None,
        };
        let opts = alto_core::feed::apply::FeedOptions {
            now,
            batch_events: 10,
            rules: Some(rules),
            rehydrate: None,
        };
        let r = alto_core::feed::apply::apply_events(
            self.store.as_ref(),
            &self.tenant,
            "data",
            "batch",
            vec![ev],
            &opts,
        )
        .await?;
        assert_eq!(r.withdrawn, 1, "the feed withdrew the plan: {r:?}");
        Ok(notes)
    }
    async fn stage_restore(&self, f: &Located) -> alto_core::Result<Staged> {
        PosixStubDriver.stage_restore(f).await
    }
    async fn finish_restore(&self, s: Staged, a: &Attributes) -> alto_core::Result<Vec<String>> {
        PosixStubDriver.finish_restore(s, a).await
    }
    async fn abort_restore(&self, s: Staged) -> alto_core::Result<()> {
        PosixStubDriver.abort_restore(s).await
    }
}

#[tokio::test]
async fn a_feed_racing_a_worker_loses_nothing() {
    let primary = tempfile::tempdir().unwrap();
    let tier = tempfile::tempdir().unwrap();
    let store = Arc::new(MemoryStore::new());
    let (t, paths) = setup(&store, primary.path(), 1, 5000).await;
    let original = std::fs::read(&paths[0]).unwrap();
    assert_eq!(
        plan_and_commit(&store, &t, tier.path(), 10).await.planned,
        1
    );
    let driver = FeedRacesSwap {
        store: store.clone(),
        tenant: t.clone(),
        path: paths[0].display().to_string(),
    };
    let r = run_one_job(
        store.as_ref(),
        &t,
        &opener(),
        &driver,
        &WorkerOptions::default(),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!((r.stubbed, r.skipped, r.failed), (0, 1, 0), "{r:?}");
    assert_eq!(
        std::fs::read(&paths[0]).unwrap(),
        original,
        "the data is back in place"
    );
    let key = alto_core::path::path_key(&paths[0].display().to_string(), false);
    assert!(
        store.tier_object(t.id, "data", &key).await.is_err(),
        "the plan stays withdrawn"
    );
    let rec = store.tiering().file(t.id, "data", &key).await.unwrap();
    assert_eq!(
        rec.accessed_source,
        alto_core::AccessSource::LucidlinkAudit,
        "the access is kept"
    );
}

fn read_event(id: &str, path: &Path) -> alto_core::feed::AccessEvent {
    alto_core::feed::AccessEvent {
        id: id.into(),
        at: alto_core::time::now_micros(),
        action: alto_core::feed::FeedAction::FileRead,
        path: path.display().to_string(),
        target_path: None,
        user: None,
    }
}

#[tokio::test]
async fn a_feed_rehydrates_accessed_stubs_under_the_rehydrate_policy() {
    use alto_core::feed::apply::{FeedOptions, Rehydrator, apply_events};
    let primary = tempfile::tempdir().unwrap();
    let tier = tempfile::tempdir().unwrap();
    let store = MemoryStore::new();
    let settings =
        TenantSettings::default().with_stub_access(alto_core::StubAccessPolicy::Rehydrate);
    let (t, paths) = setup_with(&store, primary.path(), 3, 4000, settings).await;
    let originals: Vec<Vec<u8>> = paths.iter().map(|p| std::fs::read(p).unwrap()).collect();
    assert_eq!(
        plan_and_commit(&store, &t, tier.path(), 10).await.planned,
        3
    );
    let driver = PosixStubDriver;
    let r = run_one_job(&store, &t, &opener(), &driver, &WorkerOptions::default())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(r.stubbed, 3, "{r:?}");
    let key = |p: &Path| alto_core::path::path_key(&p.display().to_string(), false);
    let opts = |rehydrate| FeedOptions {
        now: alto_core::time::now_micros(),
        batch_events: 100,
        rules: None,
        rehydrate,
    };
    let rehydrator = Rehydrator {
        targets: Arc::from(opener()),
        driver: Arc::new(PosixStubDriver),
        share_roots: Default::default(),
    };

    // Without a rehydrator the request is only recorded: the file stays a stub.
    let r = apply_events(
        &store,
        &t,
        "data",
        "batch",
        vec![read_event("b0/0", &paths[0])],
        &opts(None),
    )
    .await
    .unwrap();
    assert_eq!((r.stub_accesses, r.rehydrated), (1, 0), "{r:?}");
    assert!(alto_tier::read_stub_at(&paths[0]).unwrap().is_some());

    // With one, the accessed stubs come back; the others stay stubs.
    let r = apply_events(
        &store,
        &t,
        "data",
        "batch",
        vec![read_event("b1/0", &paths[0]), read_event("b1/1", &paths[1])],
        &opts(Some(rehydrator.clone())),
    )
    .await
    .unwrap();
    assert_eq!(
        (r.stub_accesses, r.rehydrated, r.rehydrate_failed),
        (2, 2, 0),
        "{r:?}"
    );
    for i in 0..2 {
        assert_eq!(std::fs::read(&paths[i]).unwrap(), originals[i]);
        let obj = store
            .tier_object(t.id, "data", &key(&paths[i]))
            .await
            .unwrap();
        assert_eq!(obj.state, TierState::Rehydrated);
    }
    assert!(
        alto_tier::read_stub_at(&paths[2]).unwrap().is_some(),
        "not accessed: still a stub"
    );
    let audit = store.audit(t.id, None, 10_000).await.unwrap().items;
    assert_eq!(
        audit
            .iter()
            .filter(|e| e.kind == "feed.rehydrate_request")
            .count(),
        3,
        "every request is recorded, served or not"
    );

    // A stub whose object is gone: counted and reported, the feed goes on, the stub stays.
    let obj = store
        .tier_object(t.id, "data", &key(&paths[2]))
        .await
        .unwrap();
    let (root, k) = alto_core::worker::split_target_uri(&t.name, &obj).unwrap();
    ObjectTarget::open(root).unwrap().delete(&k).await.unwrap();
    let r = apply_events(
        &store,
        &t,
        "data",
        "batch",
        vec![read_event("b2/0", &paths[2])],
        &opts(Some(rehydrator)),
    )
    .await
    .unwrap();
    assert_eq!((r.rehydrated, r.rehydrate_failed), (0, 1), "{r:?}");
    assert_eq!(r.rehydrate_errors.len(), 1, "{r:?}");
    assert!(alto_tier::read_stub_at(&paths[2]).unwrap().is_some());
    let obj = store
        .tier_object(t.id, "data", &key(&paths[2]))
        .await
        .unwrap();
    assert_eq!(obj.state, TierState::Stubbed);
}

/// A share with a file at a path of about 4,050 bytes (directories of 200-byte names; its key is
/// bounded) and a short one, both cold.
async fn long_setup(store: &MemoryStore, primary: &Path) -> (Tenant, std::path::PathBuf) {
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
    let mut deep = primary.to_path_buf();
    while deep.as_os_str().len() < 3_800 {
        deep.push("d".repeat(200));
    }
    std::fs::create_dir_all(&deep).unwrap();
    let long = deep.join("f".repeat(4_050 - deep.as_os_str().len()));
    assert!(long.as_os_str().len() >= 4_000);
    std::fs::write(&long, b"long path's data").unwrap();
    let short = primary.join("short.bin");
    std::fs::write(&short, b"short").unwrap();
    let now = alto_core::time::now_micros();
    let scan = store
        .begin_scan(t.id, &ScanSpec::new("data", ScanKind::Full))
        .await
        .unwrap();
    let entries = vec![
        entry_of(&long, now - 400 * DAY),
        entry_of(&short, now - 400 * DAY),
    ];
    let chunk = IngestChunk {
        id: "0".into(),
        entries,
    };
    store.ingest_chunk(t.id, scan.id, &chunk).await.unwrap();
    store.finish_scan(t.id, scan.id).await.unwrap();
    (t, long)
}

/// A long path is tiered to a file:// target and rehydrated by its bounded key; a cloud target
/// refuses its object key (over the 1,024 bytes S3 and Azure accept) for that file alone, and
/// the rest of the job goes on.
#[tokio::test]
async fn long_paths_tier_to_files_and_fail_alone_on_clouds() {
    use alto_core::path::{KeyRule, share_key};
    let driver = PosixStubDriver;
    let opts = WorkerOptions::default();
    let key_of = |p: &Path| {
        share_key(
            KeyRule::new(ShareKind::Posix, true),
            &p.display().to_string(),
        )
    };

    let (primary, tier) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let store = MemoryStore::new();
    let (t, long) = long_setup(&store, primary.path()).await;
    assert_eq!(
        plan_and_commit(&store, &t, tier.path(), 10).await.planned,
        2
    );
    let targets = opener();
    let r = run_one_job(&store, &t, &targets, &driver, &opts)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((r.stubbed, r.failed), (2, 0), "{:?}", r.errors);
    assert!(alto_tier::read_stub_at(&long).unwrap().is_some());
    let obj = store
        .tier_object(t.id, "data", &key_of(&long))
        .await
        .unwrap();
    assert_eq!(
        (obj.state, &obj.path),
        (TierState::Stubbed, &long.display().to_string())
    );
    rehydrate_one(&store, &t, &obj, &targets, &driver)
        .await
        .unwrap();
    assert_eq!(std::fs::read(&long).unwrap(), b"long path's data");

    let (primary, tier) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let store = MemoryStore::new();
    let (t, long) = long_setup(&store, primary.path()).await;
    plan_and_commit(&store, &t, tier.path(), 10).await;
    let cloud: Box<TargetOpener> = Box::new(|uri: &str| {
        let mem = Arc::new(object_store::memory::InMemory::new());
        Ok(Arc::new(ObjectTarget::with_store(uri, mem)) as Arc<dyn TierTarget>)
    });
    let r = run_one_job(&store, &t, &cloud, &driver, &opts)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((r.stubbed, r.failed), (1, 1), "{:?}", r.errors);
    assert!(
        r.errors[0].contains("cloud object stores"),
        "{:?}",
        r.errors
    );
    assert!(
        alto_tier::read_stub_at(&long).unwrap().is_none(),
        "the file keeps its data"
    );
    assert!(
        run_one_job(&store, &t, &cloud, &driver, &opts)
            .await
            .unwrap()
            .is_none(),
        "the job is finished, not queued again"
    );
}
