//! The `s3://` tier target against a real S3-compatible server on loopback (moto's server, which
//! `scripts/test.sh` installs from PyPI). The test starts its own server on a free port.

use alto_tier::ObjectTarget;
mod support;

use std::process::Command;
use std::time::Duration;
use support::moto::{Server, start_s3};

#[tokio::test]
async fn s3_put_verify_get_list() {
    let server = start_s3();
    // Passed as options rather than environment variables (setting the environment is unsafe).
    let vars = [
        ("AWS_ENDPOINT", format!("http://127.0.0.1:{}", server.port)),
        ("AWS_ALLOW_HTTP", "true".into()),
        ("AWS_ACCESS_KEY_ID", "test".into()),
        ("AWS_SECRET_ACCESS_KEY", "test".into()),
        ("AWS_REGION", "us-east-1".into()),
    ];
    let t = ObjectTarget::open_with("s3://tier2/acme/", &vars).unwrap();
    support::checks::put_verify_get_list(&t).await;
}

#[tokio::test]
async fn s3_list_pages_and_delete() {
    let server = start_s3();
    for uri in ["s3://tier2/", "s3://tier2/deep/er/"] {
        let t = ObjectTarget::open_with(uri, &server.options()).unwrap();
        support::checks::list_pages_and_delete(&t).await;
    }
}

fn options(port: u16) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ENDPOINT", format!("http://127.0.0.1:{port}")),
        ("AWS_ALLOW_HTTP", "true".into()),
        ("AWS_ACCESS_KEY_ID", "test".into()),
        ("AWS_SECRET_ACCESS_KEY", "test".into()),
        ("AWS_REGION", "us-east-1".into()),
        // A stopped server shows as a timeout after a second, and the client does not retry on
        // its own: the worker's retries are what is tested.
        ("AWS_TIMEOUT", "1s".into()),
        ("ALTO_MAX_RETRIES", "0".into()),
    ]
}

fn signal(server: &Server, sig: &str) {
    let st = Command::new("kill")
        .args([sig, &server.child.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
}

/// Objects are never overwritten: S3's conditional put (`If-None-Match: *`) for one-part
/// uploads, a check of the key before multipart ones.
#[tokio::test]
async fn s3_objects_are_never_overwritten() {
    use alto_core::ErrorKind;
    use alto_core::driver::TierTarget;
    let server = start_s3();
    let t = ObjectTarget::open_with("s3://tier2/once/", &options(server.port)).unwrap();
    let src = tempfile::tempdir().unwrap();
    for (name, len) in [("small", 3000usize), ("large", 9 << 20)] {
        let (a, b) = (src.path().join("a"), src.path().join("b"));
        std::fs::write(&a, vec![1u8; len]).unwrap();
        std::fs::write(&b, vec![2u8; len]).unwrap();
        let first = t.put_file(name, &a).await.unwrap();
        let e = t.put_file(name, &b).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::AlreadyExists, "{name}: {e}");
        assert_eq!(
            t.verify(name).await.unwrap().sha256,
            first.sha256,
            "{name}: the first object is kept"
        );
    }
}

mod transient {
    use super::*;
    use alto_core::driver::TierTarget;
    use alto_core::planner::{PlanOptions, Planner};
    use alto_core::store::{FileQuery, IngestChunk, ScanKind, ScanSpec, ShareSpec};
    use alto_core::worker::{TargetOpener, WorkerOptions, run_one_job};
    use alto_core::{
        FileEntry, JobState, MemoryStore, RuleSet, ShareKind, Store, Tenant, TenantSettings,
        TierState,
    };
    use alto_tier::PosixStubDriver;
    use std::sync::Arc;

    const FILES: usize = 4;

    async fn planned(store: &MemoryStore, primary: &std::path::Path) -> Tenant {
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
        let mut entries = Vec::new();
        for i in 0..FILES {
            let p = primary.join(format!("f{i}"));
            std::fs::write(&p, vec![i as u8; 3000 + i]).unwrap();
            let m = std::fs::metadata(&p).unwrap();
            entries.push(FileEntry {
                path: p.display().to_string(),
                size: m.len(),
                modified: Some(
                    m.modified()
                        .unwrap()
                        .duration_since(std::time::UNIX_EPOCH)
                        .unwrap()
                        .as_micros() as i64,
                ),
                accessed: Some(0),
                ..Default::default()
            });
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
        let rules =
            RuleSet::from_toml("[[rule]]\nname = \"all\"\ntarget = \"s3://tier2/{tenant}/\"\n")
                .unwrap();
        let now = alto_core::time::now_micros();
        let mut opts = PlanOptions::at(now);
        opts.keep_files = true;
        opts.tenant = t.name.clone();
        let mut planner = Planner::new(&rules, opts);
        for f in store
            .files(t.id, &FileQuery::default())
            .await
            .unwrap()
            .items
        {
            planner.add_record(&f);
        }
        let out = store
            .tiering()
            .commit_plan(t.id, &planner.finish().to_commit(now))
            .await
            .unwrap();
        assert_eq!(out.planned, FILES as u64);
        t
    }

    fn opener(port: u16) -> Box<TargetOpener> {
        Box::new(move |uri: &str| {
            Ok(Arc::new(ObjectTarget::open_with(uri, &options(port))?) as Arc<dyn TierTarget>)
        })
    }

    async fn kinds(store: &MemoryStore, t: &Tenant, kind: &str) -> usize {
        store
            .audit(t.id, None, 10_000)
            .await
            .unwrap()
            .items
            .iter()
            .filter(|e| e.kind == kind)
            .count()
    }

    /// The server stops right after the first upload and comes back 2.5 s later: the worker
    /// tries the file again with backoff and the job completes in the same attempt; every file
    /// is stubbed once, nothing is withdrawn.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_worker_rides_out_a_stopped_s3_server() {
        let server = start_s3();
        let primary = tempfile::tempdir().unwrap();
        let store = MemoryStore::new();
        let t = planned(&store, primary.path()).await;
        let pid = server.child.id();
        let stopped = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let once = stopped.clone();
        alto_core::failpoint::set_hook(Some(Arc::new(move |name: &str| {
            if name == "after_upload" && !once.swap(true, std::sync::atomic::Ordering::SeqCst) {
                Command::new("kill")
                    .args(["-STOP", &pid.to_string()])
                    .status()
                    .unwrap();
                std::thread::spawn(move || {
                    std::thread::sleep(Duration::from_millis(2500));
                    let _ = Command::new("kill")
                        .args(["-CONT", &pid.to_string()])
                        .status();
                });
            }
        })));
        let opts = WorkerOptions {
            file_retries: 5,
            retry_backoff: Duration::from_millis(300),
            ..Default::default()
        };
        let r = run_one_job(&store, &t, &opener(server.port), &PosixStubDriver, &opts)
            .await
            .unwrap()
            .unwrap();
        alto_core::failpoint::set_hook(None);
        assert!(stopped.load(std::sync::atomic::Ordering::SeqCst));
        assert_eq!(
            (r.stubbed, r.failed, r.skipped),
            (FILES as u64, 0, 0),
            "{r:?}"
        );
        assert_eq!(kinds(&store, &t, "tier.stub").await, FILES);
        assert_eq!(kinds(&store, &t, "tier.withdraw").await, 0);
        for i in 0..FILES {
            assert!(
                alto_tier::read_stub_at(&primary.path().join(format!("f{i}")))
                    .unwrap()
                    .is_some()
            );
        }
    }

    /// The server stays stopped through the file's retries: the attempt ends early, the job goes
    /// back to the queue with backoff (30 s), every file stays PLANNED, nothing withdrawn; the
    /// server comes back and the next attempt, once due, tiers every file once.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_job_goes_back_to_the_queue_while_s3_is_down() {
        let server = start_s3();
        let primary = tempfile::tempdir().unwrap();
        let store = MemoryStore::new();
        let t = planned(&store, primary.path()).await;
        signal(&server, "-STOP");
        let opts = WorkerOptions {
            file_retries: 1,
            retry_backoff: Duration::from_millis(100),
            ..Default::default()
        };
        let r = run_one_job(&store, &t, &opener(server.port), &PosixStubDriver, &opts)
            .await
            .unwrap()
            .unwrap();
        signal(&server, "-CONT");
        assert_eq!(
            (r.stubbed, r.failed),
            (0, 1),
            "one file tried, then the attempt ends: {r:?}"
        );
        let q = store.tiering();
        let job = q.jobs(t.id, &Default::default()).await.unwrap().items[0].clone();
        assert_eq!(job.state, JobState::Queued, "{job:?}");
        assert_eq!(job.attempts, 1);
        assert!(job.not_before.is_some(), "retried with backoff: {job:?}");
        assert!(
            job.last_error.as_deref().unwrap_or("").contains("retried"),
            "{job:?}"
        );
        for f in store
            .files(t.id, &FileQuery::default())
            .await
            .unwrap()
            .items
        {
            assert_eq!(f.state, Some(TierState::Planned), "{}", f.entry.path);
        }
        assert_eq!(kinds(&store, &t, "tier.withdraw").await, 0);
        assert_eq!(kinds(&store, &t, "tier.fail").await, 1);

        // The next attempt, once due: every file tiered once, nothing withdrawn.
        let wait = job.not_before.unwrap() - alto_core::time::now_micros();
        if wait > 0 {
            tokio::time::sleep(Duration::from_micros(wait as u64 + 100_000)).await;
        }
        let r = run_one_job(&store, &t, &opener(server.port), &PosixStubDriver, &opts)
            .await
            .unwrap()
            .expect("the job is due again");
        assert_eq!((r.stubbed, r.failed), (FILES as u64, 0), "{r:?}");
        let job = q.jobs(t.id, &Default::default()).await.unwrap().items[0].clone();
        assert_eq!((job.state, job.attempts), (JobState::Done, 2), "{job:?}");
        assert_eq!(kinds(&store, &t, "tier.stub").await, FILES);
        assert_eq!(kinds(&store, &t, "tier.withdraw").await, 0);
    }
}
