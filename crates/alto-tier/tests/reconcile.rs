//! Reconciliation end to end: real files stubbed by the worker to `file://`, `s3://` (moto) and
//! `az://` (Azurite) targets, then objects lost, replaced and left behind, stubs copied and
//! forged on disk; `alto_core::reconcile` must flag, report, keep and delete exactly what it
//! should, and write the trail. A hostile tenant sharing the target cannot make it delete
//! another tenant's objects.

mod support;

use alto_core::driver::TierTarget;
use alto_core::reconcile::{OrphanAction, ReconcileOptions, ReconcileReport, reconcile};
use alto_core::store::tiering::{PlanCommit, PlannedFile, PlannedJobSpec};
use alto_core::store::{
    IngestChunk, PlanInfo, ScanKind, ScanSpec, ShareSpec, TierObjectQuery, TransitionRequest,
};
use alto_core::worker::{
    TargetOpener, WorkerOptions, rehydrate_one, run_one_job, split_target_uri,
};
use alto_core::{
    Action, AuditQuery, FileEntry, LostReason, MemoryStore, ShareKind, Store, Tenant,
    TenantSettings, TierObject, TierState,
};
use alto_tier::{ObjectTarget, PosixStubDriver};
use std::path::Path;
use std::sync::Arc;

const DAY: i64 = 86_400_000_000;

fn opener(options: Vec<(&'static str, String)>) -> Box<TargetOpener> {
    Box::new(move |uri: &str| {
        Ok(Arc::new(ObjectTarget::open_with(uri, &options)?) as Arc<dyn TierTarget>)
    })
}

fn entry_of(p: &Path) -> FileEntry {
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
        accessed: Some(alto_core::time::now_micros() - 400 * DAY),
        ..Default::default()
    }
}

/// A tenant with one share rooted at `primary`, whose `files` (name, bytes) are ingested.
async fn tenant_with_files(
    store: &MemoryStore,
    name: &str,
    primary: &Path,
    files: &[(&str, Vec<u8>)],
) -> Tenant {
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
    ingest(store, &t, primary, files).await;
    t
}

async fn ingest(store: &MemoryStore, t: &Tenant, primary: &Path, files: &[(&str, Vec<u8>)]) {
    let mut entries = Vec::new();
    for (name, bytes) in files {
        let p = primary.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, bytes).unwrap();
        entries.push(entry_of(&p));
    }
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
                entries,
            },
        )
        .await
        .unwrap();
    store.finish_scan(t.id, scan.id).await.unwrap();
}

fn key_of(p: &Path) -> String {
    alto_core::path::path_key(&p.display().to_string(), false)
}

/// Commit a plan of `paths` (under `primary`) to the target root `root`.
async fn plan(store: &MemoryStore, t: &Tenant, root: &str, primary: &Path, paths: &[&str]) {
    let files = paths
        .iter()
        .map(|p| {
            let key = key_of(&primary.join(p));
            PlannedFile {
                share: "data".into(),
                target_uri: format!("{root}{}", alto_core::path::object_key(&key).unwrap()),
                path_key: key,
            }
        })
        .collect();
    let commit = PlanCommit {
        at: alto_core::time::now_micros(),
        jobs: vec![PlannedJobSpec {
            rule: "cold".into(),
            target: root.into(),
            priority: 1,
            estimate: Default::default(),
            files,
        }],
    };
    store.tiering().commit_plan(t.id, &commit).await.unwrap();
}

async fn work(store: &MemoryStore, t: &Tenant, targets: &TargetOpener) {
    while let Some(r) = run_one_job(
        store,
        t,
        targets,
        &PosixStubDriver,
        &WorkerOptions::default(),
    )
    .await
    .unwrap()
    {
        assert!(r.errors.is_empty(), "{:?}", r.errors);
    }
}

async fn object(store: &MemoryStore, t: &Tenant, p: &Path) -> TierObject {
    store.tier_object(t.id, "data", &key_of(p)).await.unwrap()
}

fn opts(now: i64, apply: bool) -> ReconcileOptions {
    let mut o = ReconcileOptions::default();
    o.now = now;
    o.apply = apply;
    o.page_size = 2;
    o
}

async fn run(
    store: &MemoryStore,
    t: &Tenant,
    targets: &TargetOpener,
    o: &ReconcileOptions,
) -> ReconcileReport {
    reconcile(store, t, targets, &PosixStubDriver, o)
        .await
        .unwrap()
}

/// (kind, subject) of the run's children, sorted.
async fn children(store: &MemoryStore, t: &Tenant, run: i64) -> Vec<(String, String)> {
    let q = AuditQuery {
        parent: Some(run),
        limit: 1000,
        ..Default::default()
    };
    let mut v: Vec<(String, String)> = store
        .audit_query(t.id, &q)
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|e| (e.kind, e.subject))
        .collect();
    v.sort();
    v
}

fn orphan<'r>(r: &'r ReconcileReport, key_part: &str) -> &'r alto_core::reconcile::Orphan {
    r.orphans
        .iter()
        .find(|o| o.key.contains(key_part))
        .unwrap_or_else(|| panic!("no orphan {key_part}: {:#?}", r.orphans))
}

/// Replace the object at `key` under `root` with `bytes` (objects are never overwritten: a
/// delete first).
async fn replace(targets: &TargetOpener, root: &str, key: &str, bytes: &[u8]) {
    let t = targets(root).unwrap();
    t.delete(key).await.unwrap();
    let tmp = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(tmp.path(), bytes).unwrap();
    t.put(key, std::fs::File::open(tmp.path()).unwrap())
        .await
        .unwrap();
}

async fn exists(targets: &TargetOpener, root: &str, key: &str) -> bool {
    match targets(root).unwrap().verify(key).await {
        Ok(_) => true,
        Err(e) if e.kind() == alto_core::ErrorKind::NotFound => false,
        Err(e) => panic!("{e}"),
    }
}

/// The whole story on one target: `root` (ending in `/`), opened with `options`.
async fn story(root: &str, options: Vec<(&'static str, String)>, etags: bool) {
    let primary = tempfile::tempdir().unwrap();
    let p = primary.path();
    let store = MemoryStore::new();
    let targets = opener(options);
    let files: Vec<(&str, Vec<u8>)> = vec![
        ("a.mov", vec![1; 3000]),
        ("b.mov", vec![2; 3000]),
        ("c.mov", vec![3; 3000]),
        ("d.mov", vec![4; 3000]),
        ("sub/e.mov", vec![5; 3000]),
        ("keep.mov", vec![6; 10]),
    ];
    let t = tenant_with_files(&store, "acme", p, &files).await;
    let names: Vec<&str> = files.iter().map(|(n, _)| *n).collect();
    plan(&store, &t, root, p, &names).await;
    work(&store, &t, &targets).await;
    for n in &names {
        assert_eq!(
            object(&store, &t, &p.join(n)).await.state,
            TierState::Stubbed
        );
    }
    let now = alto_core::time::now_micros();
    let later = now + 8 * DAY;

    // A clean catalogue: nothing found, nothing written but the run.
    let r = run(&store, &t, &targets, &opts(later, true)).await;
    assert_eq!(r.stubs_checked, 6);
    assert!(
        r.lost.is_empty() && r.orphans.is_empty() && r.unknown_stubs.is_empty(),
        "{r:#?}"
    );
    assert!(r.targets.iter().all(|s| s.complete), "{:?}", r.targets);
    assert!(r.shares.iter().all(|s| s.complete), "{:?}", r.shares);
    assert!(children(&store, &t, r.event.unwrap()).await.is_empty());

    // a: its object is gone. b: another size. c: the same size, other bytes.
    let obj_a = object(&store, &t, &p.join("a.mov")).await;
    let (ra, ka) = split_target_uri("acme", &obj_a).unwrap();
    targets(ra).unwrap().delete(&ka).await.unwrap();
    let obj_b = object(&store, &t, &p.join("b.mov")).await;
    let (rb, kb) = split_target_uri("acme", &obj_b).unwrap();
    replace(&targets, rb, &kb, &[9; 10]).await;
    let obj_c = object(&store, &t, &p.join("c.mov")).await;
    let (rc, kc) = split_target_uri("acme", &obj_c).unwrap();
    replace(&targets, rc, &kc, &[9; 3000]).await;

    // d: brought back and tiered again: its first incarnation's object is left behind.
    let obj_d = object(&store, &t, &p.join("d.mov")).await;
    let (rd, kd1) = split_target_uri("acme", &obj_d).unwrap();
    let (rd, kd1) = (rd.to_owned(), kd1);
    rehydrate_one(&store, &t, &obj_d, &targets, &PosixStubDriver)
        .await
        .unwrap();
    plan(&store, &t, root, p, &["d.mov"]).await;
    work(&store, &t, &targets).await;
    let obj_d = object(&store, &t, &p.join("d.mov")).await;
    assert_eq!((obj_d.state, obj_d.incarnation), (TierState::Stubbed, 2));

    // f, g: uploaded, then the plan withdrawn before the stub: objects no record claims. A stub
    // on disk names g's (a crash between the swap and the record, then the withdrawal).
    ingest(
        &store,
        &t,
        p,
        &[("f.mov", vec![7; 100]), ("g.mov", vec![8; 100])],
    )
    .await;
    plan(&store, &t, root, p, &["f.mov", "g.mov"]).await;
    let mut left = Vec::new();
    for n in ["f.mov", "g.mov"] {
        let o = object(&store, &t, &p.join(n)).await;
        let (r, k) = split_target_uri("acme", &o).unwrap();
        targets(r)
            .unwrap()
            .put(k.as_str(), std::fs::File::open(p.join(n)).unwrap())
            .await
            .unwrap();
        left.push((r.to_owned(), k, o));
    }
    // A plan that lists neither withdraws both.
    plan(&store, &t, root, p, &[]).await;
    for (_, _, o) in &left {
        let e = store.tier_object(t.id, "data", &o.path_key).await;
        assert!(e.is_err(), "withdrawn");
    }
    let e_stub = std::fs::read_to_string(p.join("sub/e.mov")).unwrap();
    let g_uri = format!("{}{}", left[1].0, left[1].1);
    let e_uri = format!(
        "{root}{}",
        split_target_uri("acme", &object(&store, &t, &p.join("sub/e.mov")).await)
            .unwrap()
            .1
    );
    std::fs::write(p.join("sub/g-stub.mov"), e_stub.replace(&e_uri, &g_uri)).unwrap();
    // An unknown stub: a copy of e's.
    std::fs::write(p.join("copy-of-e.mov"), &e_stub).unwrap();
    // Objects Alto did not write: no marker, an id never this tenant's, another tenant's
    // prefix (never listed).
    let raw = targets(root).unwrap();
    let junk = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(junk.path(), b"junk").unwrap();
    for k in [
        "acme/data/stray.txt",
        "acme/data/x.mov.~999999.1",
        "acme/nosuchshare/x.mov.~1.1",
        "other/data/y.mov.~1.1",
    ] {
        raw.put(k, std::fs::File::open(junk.path()).unwrap())
            .await
            .unwrap();
    }

    // Dry run, as if eight days had passed.
    let r = run(&store, &t, &targets, &opts(later, false)).await;
    let mut lost: Vec<(String, LostReason)> = r
        .lost
        .iter()
        .map(|l| (l.path.rsplit('/').next().unwrap().to_owned(), l.reason))
        .collect();
    lost.sort();
    let mut want = vec![
        ("a.mov".to_string(), LostReason::Missing),
        ("b.mov".to_string(), LostReason::Size),
    ];
    if etags {
        want.push(("c.mov".to_string(), LostReason::Etag));
    }
    assert_eq!(lost, want, "{r:#?}");
    assert!(r.lost.iter().all(|l| l.flagged));
    let a = object(&store, &t, &p.join("a.mov")).await;
    assert_eq!(a.lost.map(|l| l.reason), Some(LostReason::Missing));
    assert_eq!(a.version, obj_a.version, "the flag is not a state change");
    let actions: Vec<(&str, OrphanAction)> = [
        (kd1.as_str(), OrphanAction::WouldDelete),
        (left[0].1.as_str(), OrphanAction::WouldDelete),
        (left[1].1.as_str(), OrphanAction::Kept),
        ("stray.txt", OrphanAction::Kept),
        ("x.mov.~999999.1", OrphanAction::Kept),
        ("nosuchshare", OrphanAction::Kept),
    ]
    .into();
    for (k, action) in &actions {
        assert_eq!(orphan(&r, k).action, *action, "{k}: {:?}", orphan(&r, k));
    }
    assert_eq!(r.orphans.len(), actions.len(), "{:#?}", r.orphans);
    assert!(orphan(&r, &left[1].1).reason.contains("stub on disk"));
    assert!(orphan(&r, "999999").reason.contains("never this tenant's"));
    assert!(orphan(&r, &kd1).reason.contains("earlier incarnation"));
    let mut unknown: Vec<&str> = r
        .unknown_stubs
        .iter()
        .map(|u| u.path.rsplit('/').next().unwrap())
        .collect();
    unknown.sort();
    assert_eq!(unknown, ["copy-of-e.mov", "g-stub.mov"]);
    let run_ev = r.event.unwrap();
    let kids = children(&store, &t, run_ev).await;
    let count = |k: &str| kids.iter().filter(|(kind, _)| kind == k).count();
    assert_eq!(count("reconcile.lost"), want.len());
    assert_eq!(count("reconcile.orphan"), 6);
    assert_eq!(count("reconcile.orphan_deleted"), 0);
    assert_eq!(count("reconcile.unknown_stub"), 2);
    let ev = store
        .audit_query(
            t.id,
            &AuditQuery {
                kinds: vec!["reconcile.run".into()],
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .items
        .into_iter()
        .find(|e| e.id == run_ev)
        .unwrap();
    assert_eq!(ev.detail["lost"], want.len());
    assert_eq!(ev.detail["orphans"], 6);
    assert_eq!(ev.detail["orphans_deletable"], 2);
    assert_eq!(ev.detail["orphans_to_delete"], 0);
    assert_eq!(ev.detail["unknown_stubs"], 2);
    assert!(
        exists(&targets, &rd, &kd1).await,
        "a dry run deletes nothing"
    );

    // Within the grace period nothing is deleted, even with apply.
    let r = run(&store, &t, &targets, &opts(now, true)).await;
    assert_eq!(r.deleted, 0);
    assert!(orphan(&r, &kd1).reason.contains("grace"));
    // The grace period has a floor.
    let mut short = opts(later, true);
    short.grace = 60_000_000;
    let e = reconcile(&store, &t, &targets, &PosixStubDriver, &short)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), alto_core::ErrorKind::InvalidInput, "{e}");

    // Applied: the two that may go, go; nothing else.
    let r = run(&store, &t, &targets, &opts(later, true)).await;
    assert_eq!(r.deleted, 2, "{:#?}", r.orphans);
    assert_eq!(orphan(&r, &kd1).action, OrphanAction::Deleted);
    assert_eq!(orphan(&r, &left[0].1).action, OrphanAction::Deleted);
    assert!(!exists(&targets, &rd, &kd1).await);
    assert!(!exists(&targets, &left[0].0, &left[0].1).await);
    assert!(
        exists(&targets, &left[1].0, &left[1].1).await,
        "a stub names it"
    );
    for k in [
        "acme/data/stray.txt",
        "acme/data/x.mov.~999999.1",
        "other/data/y.mov.~1.1",
    ] {
        assert!(exists(&targets, root, k).await, "{k}");
    }
    for n in &names {
        let o = object(&store, &t, &p.join(n)).await;
        let (r, k) = split_target_uri("acme", &o).unwrap();
        if *n != "a.mov" {
            assert!(
                exists(&targets, r, &k).await,
                "{n}: a recorded object is never deleted"
            );
        }
    }
    let kids = children(&store, &t, r.event.unwrap()).await;
    let deleted: Vec<&str> = kids
        .iter()
        .filter(|(k, _)| k == "reconcile.orphan_deleted")
        .map(|(_, s)| s.as_str())
        .collect();
    assert_eq!(deleted.len(), 2);
    assert!(deleted.iter().any(|s| s.ends_with(&kd1)), "{deleted:?}");

    // a's object comes back whole: the flag is cleared.
    targets(ra)
        .unwrap()
        .put(&ka, {
            let tmp = tempfile::NamedTempFile::new().unwrap();
            std::fs::write(tmp.path(), vec![1u8; 3000]).unwrap();
            std::fs::File::open(tmp.path()).unwrap()
        })
        .await
        .unwrap();
    // Re-reading the content: a's is the recorded one again (whatever its new entity tag), so
    // its flag is cleared; c's is not, on every target.
    let mut o = opts(later, false);
    o.verify_content = true;
    let r = run(&store, &t, &targets, &o).await;
    assert_eq!(r.recovered.len(), 1, "{r:#?}");
    assert_eq!(object(&store, &t, &p.join("a.mov")).await.lost, None);
    let kids = children(&store, &t, r.event.unwrap()).await;
    assert!(kids.contains(&("reconcile.recovered".into(), key_of(&p.join("a.mov")))));
    let mut lost: Vec<(String, LostReason)> = r
        .lost
        .iter()
        .map(|l| (l.path.rsplit('/').next().unwrap().to_owned(), l.reason))
        .collect();
    lost.sort();
    assert_eq!(
        lost,
        [
            ("b.mov".to_string(), LostReason::Size),
            ("c.mov".to_string(), LostReason::Digest)
        ]
    );
    assert_eq!(
        object(&store, &t, &p.join("c.mov"))
            .await
            .lost
            .map(|l| l.reason),
        Some(LostReason::Digest)
    );

    // One share: its prefix only; a share without a root keeps its orphans.
    store.set_share_root(t.id, "data", None).await.unwrap();
    let mut o = opts(later, true);
    o.share = Some("data".into());
    let r = run(&store, &t, &targets, &o).await;
    assert!(r.unknown_stubs.is_empty());
    assert_eq!(r.deleted, 0);
    assert!(
        r.orphans
            .iter()
            .all(|o| o.action == OrphanAction::Kept && o.key.starts_with("acme/data/")),
        "{:#?}",
        r.orphans
    );
    o.share = Some("nope".into());
    let e = reconcile(&store, &t, &targets, &PosixStubDriver, &o)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), alto_core::ErrorKind::NotFound);
}

#[tokio::test]
async fn reconciles_a_file_target() {
    let tier = tempfile::tempdir().unwrap();
    let root = format!("file://{}/tier/", tier.path().display());
    story(&root, Vec::new(), false).await;
}

#[tokio::test]
async fn reconciles_an_s3_target() {
    let server = support::moto::start_s3();
    story("s3://tier2/pool/", server.options(), true).await;
}

#[tokio::test]
async fn reconciles_an_az_target() {
    let server = support::azurite::Azurite::start("tier2");
    story("az://tier2/pool/", server.options(), true).await;
}

/// Tenants sharing one target: each lists its own prefix; a hostile tenant whose rule points
/// its target inside the other's keys sees the other's objects under its own prefix, and still
/// cannot make reconciliation delete them (their tier ids were never its own).
#[tokio::test]
async fn a_hostile_tenant_cannot_delete_another_tenants_objects() {
    let tier = tempfile::tempdir().unwrap();
    let root = format!("file://{}/shared/", tier.path().display());
    let primary = tempfile::tempdir().unwrap();
    let evil_primary = tempfile::tempdir().unwrap();
    let store = MemoryStore::new();
    let targets = opener(Vec::new());
    // acme has a file whose object key, seen from deeper in the target, reads like evil's.
    let acme = tenant_with_files(
        &store,
        "acme",
        primary.path(),
        &[("evil/data/y.mov", vec![1; 50]), ("z.mov", vec![2; 50])],
    )
    .await;
    plan(
        &store,
        &acme,
        &root,
        primary.path(),
        &["evil/data/y.mov", "z.mov"],
    )
    .await;
    work(&store, &acme, &targets).await;
    let y = object(&store, &acme, &primary.path().join("evil/data/y.mov")).await;
    let (_, y_key) = split_target_uri("acme", &y).unwrap();
    // acme/data/<primary>/evil/data/y.mov.~N.1: under root `acme/data/<primary>/`, it is
    // `evil/data/y.mov.~N.1`.
    let deep_root = format!("{root}{}", y_key.split("evil/data/y.mov").next().unwrap());
    let evil = tenant_with_files(
        &store,
        "evil",
        evil_primary.path(),
        &[("w.mov", vec![3; 5])],
    )
    .await;
    // evil's rule: its target inside acme's keys (planned as a rule would, then withdrawn so no
    // record of evil's claims anything there).
    let w_key = key_of(&evil_primary.path().join("w.mov"));
    for root in [&deep_root, &root] {
        let planned = store
            .transition(
                evil.id,
                &TransitionRequest {
                    share: "data".into(),
                    path_key: w_key.clone(),
                    action: Action::Plan,
                    expected: None,
                    plan: Some(PlanInfo {
                        rule: "mine".into(),
                        target_uri: format!(
                            "{root}{}",
                            alto_core::path::object_key(&w_key).unwrap()
                        ),
                    }),
                    stored: None,
                    at: 1,
                },
            )
            .await
            .unwrap()
            .unwrap();
        let mut o = opts(alto_core::time::now_micros() + 30 * DAY, true);
        o.targets = vec![deep_root.clone(), root.clone()];
        let r = run(&store, &evil, &targets, &o).await;
        assert_eq!(r.deleted, 0, "{r:#?}");
        let seen = orphan(&r, "evil/data/y.mov");
        assert_eq!(seen.action, OrphanAction::Kept);
        assert!(seen.reason.contains("never this tenant's"), "{seen:?}");
        assert!(
            r.orphans.iter().all(|o| !o.key.starts_with("acme/")),
            "acme's prefix is never listed: {:#?}",
            r.orphans
        );
        store
            .transition(
                evil.id,
                &TransitionRequest {
                    share: "data".into(),
                    path_key: w_key.clone(),
                    action: Action::Withdraw,
                    expected: Some((planned.state, planned.version)),
                    plan: None,
                    stored: None,
                    at: 2,
                },
            )
            .await
            .unwrap();
    }
    for o in store
        .tier_objects(acme.id, &TierObjectQuery::default())
        .await
        .unwrap()
        .items
    {
        let (r, k) = split_target_uri("acme", &o).unwrap();
        assert!(exists(&targets, r, &k).await, "{k} is still there");
    }
}
