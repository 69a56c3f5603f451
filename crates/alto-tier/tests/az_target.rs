//! The `az://` tier target against a real Azure Blob emulator on loopback (Azurite, which
//! `scripts/test.sh` installs from the npm registry). Each test starts its own emulator on a free
//! port: the same put, verify, get and list checks as the S3 test, a copy that no longer matches
//! its stub, and a worker tiering real files to `az://` and bringing them back.

mod support;

use alto_core::driver::TierTarget;
use alto_core::planner::{PlanOptions, Planner};
use alto_core::store::{FileQuery, IngestChunk, ScanKind, ScanSpec, ShareSpec};
use alto_core::worker::{TargetOpener, WorkerOptions, rehydrate_one, run_one_job};
use alto_core::{
    ErrorKind, FileEntry, MemoryStore, RuleSet, ShareKind, Store, TenantSettings, TierState,
};
use alto_tier::{ObjectTarget, PosixStubDriver};
use std::sync::Arc;
use support::azurite::Azurite;

#[tokio::test]
async fn az_put_verify_get_list() {
    let server = Azurite::start("tier2");
    let t = ObjectTarget::open_with("az://tier2/acme/", &server.options()).unwrap();
    support::checks::put_verify_get_list(&t).await;
    let missing = t.verify("fs01/none.bin").await.unwrap_err();
    assert_eq!(missing.kind(), ErrorKind::NotFound, "{missing}");
    // A container that does not exist is an error, not an empty target.
    let other = ObjectTarget::open_with("az://nosuch/", &server.options()).unwrap();
    let src = tempfile::tempdir().unwrap();
    let p = src.path().join("a.bin");
    std::fs::write(&p, b"data").unwrap();
    assert!(other.put_file("x.bin", &p).await.is_err());
}

#[tokio::test]
async fn az_list_pages_and_delete() {
    let server = Azurite::start("tier2");
    for uri in ["az://tier2/", "az://tier2/deep/er/"] {
        let t = ObjectTarget::open_with(uri, &server.options()).unwrap();
        support::checks::list_pages_and_delete(&t).await;
    }
}

fn entry_of(p: &std::path::Path, accessed: i64) -> FileEntry {
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

#[tokio::test]
async fn worker_tiers_to_az_and_rehydrates() {
    let server = Azurite::start("tier2");
    let primary = tempfile::tempdir().unwrap();
    let store = MemoryStore::new();
    let t = store
        .create_tenant("acme", &TenantSettings::default())
        .await
        .unwrap();
    store
        .ensure_share(
            t.id,
            &ShareSpec::new("data", ShareKind::Posix)
                .with_root(primary.path().display().to_string()),
        )
        .await
        .unwrap();
    let now = alto_core::time::now_micros();
    let mut paths = Vec::new();
    let mut entries = Vec::new();
    for (i, len) in [3000usize, 9 << 20, 1].into_iter().enumerate() {
        let p = primary.path().join(format!("clip {i}.mov"));
        std::fs::write(&p, vec![(i * 7 + 1) as u8; len]).unwrap();
        entries.push(entry_of(&p, now - 400 * 86_400_000_000));
        paths.push(p);
    }
    let originals: Vec<Vec<u8>> = paths.iter().map(|p| std::fs::read(p).unwrap()).collect();
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
    let rules = RuleSet::from_toml(
        "[[rule]]\nname = \"cold\"\naccessed_before = \"30d\"\ntarget = \"az://tier2/{tenant}/\"\n",
    )
    .unwrap();
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
    let commit = planner.finish().to_commit(now);
    let out = store.tiering().commit_plan(t.id, &commit).await.unwrap();
    assert_eq!(out.planned, 3);

    let options = server.options();
    let targets: Box<TargetOpener> = Box::new(move |uri: &str| {
        Ok(Arc::new(ObjectTarget::open_with(uri, &options)?) as Arc<dyn TierTarget>)
    });
    let driver = PosixStubDriver;
    let r = run_one_job(&store, &t, &targets, &driver, &WorkerOptions::default())
        .await
        .unwrap()
        .unwrap();
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    assert_eq!((r.stubbed, r.skipped, r.failed), (3, 0, 0));
    assert_eq!(r.bytes, 3000 + (9 << 20) + 1);
    for p in &paths {
        assert!(
            alto_tier::read_stub_at(p).unwrap().is_some(),
            "{}",
            p.display()
        );
    }

    let obj_of = |p: &std::path::Path| alto_core::path::path_key(&p.display().to_string(), false);
    // The object in the container is what the stub says.
    let obj = store
        .tier_object(t.id, "data", &obj_of(&paths[1]))
        .await
        .unwrap();
    assert!(obj.target_uri.starts_with("az://tier2/acme/"), "{obj:?}");
    let (root, key) = alto_core::worker::split_target_uri(&t.name, &obj).unwrap();
    let target = targets(root).unwrap();
    let info = alto_tier::read_stub_at(&paths[1]).unwrap().unwrap();
    let stored = target.verify(&key).await.unwrap();
    assert_eq!(
        (stored.size, stored.sha256.as_deref()),
        (info.size, Some(info.sha256.as_str()))
    );

    // Rehydrate the large one: original bytes, REHYDRATED.
    let n = rehydrate_one(&store, &t, &obj, &targets, &driver)
        .await
        .unwrap();
    assert_eq!(n, 9 << 20);
    assert_eq!(std::fs::read(&paths[1]).unwrap(), originals[1]);
    let obj = store
        .tier_object(t.id, "data", &obj_of(&paths[1]))
        .await
        .unwrap();
    assert_eq!(obj.state, TierState::Rehydrated);

    // An object replaced behind Alto's back (other size, other hash) is refused: the stub stays.
    let obj = store
        .tier_object(t.id, "data", &obj_of(&paths[0]))
        .await
        .unwrap();
    let (root, key) = alto_core::worker::split_target_uri(&t.name, &obj).unwrap();
    let impostor = primary.path().join("impostor");
    std::fs::write(&impostor, b"not the original").unwrap();
    // Objects are never overwritten: replacing one takes a delete first.
    let direct = ObjectTarget::open_with(root, &server.options()).unwrap();
    direct.delete(&key).await.unwrap();
    direct.put_file(&key, &impostor).await.unwrap();
    let e = rehydrate_one(&store, &t, &obj, &targets, &driver)
        .await
        .unwrap_err();
    assert!(
        e.to_string().contains("does not match the catalogue"),
        "{e}"
    );
    assert!(
        alto_tier::read_stub_at(&paths[0]).unwrap().is_some(),
        "the stub is kept"
    );
    let obj = store
        .tier_object(t.id, "data", &obj_of(&paths[0]))
        .await
        .unwrap();
    assert_eq!(obj.state, TierState::Stubbed);
    // Same size, other bytes: the hash catches it.
    std::fs::write(&impostor, vec![0u8; 3000]).unwrap();
    // Objects are never overwritten: replacing one takes a delete first.
    let direct = ObjectTarget::open_with(root, &server.options()).unwrap();
    direct.delete(&key).await.unwrap();
    direct.put_file(&key, &impostor).await.unwrap();
    let e = rehydrate_one(&store, &t, &obj, &targets, &driver)
        .await
        .unwrap_err();
    assert!(
        e.to_string().contains("does not match the catalogue"),
        "{e}"
    );
    assert!(
        alto_tier::read_stub_at(&paths[0]).unwrap().is_some(),
        "the stub is kept"
    );
}
