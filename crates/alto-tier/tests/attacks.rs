//! A hostile local user against a worker running as root.
//!
//! The attacker is uid and gid 54321: it owns the share's root (`home`) and acts there through
//! child processes with its own credentials (`mv`, `ln -s`, writing files), before a run or, via
//! the failpoint hook, between the worker's check and its act. Root owns a private `vault/f`
//! beside it. Every test asserts that nothing outside the share's root is read, copied or
//! changed, and that nothing the attacker planted is followed or removed.
//!
//! The hook and the umask are process-wide, so every test holds [`hostile::serial`]. Two tests
//! run a worker in a fresh child process (this binary again, running only `attack_child`): one
//! as the attacker itself, and one as root where the attacker plants names with the child's pid
//! (and where the sweep of dead workers' temporaries is sure to run: it runs once per directory
//! per process).

#[path = "support/hostile.rs"]
mod hostile;

use alto_core::driver::TierTarget;
use alto_core::planner::{PlanOptions, Planner};
use alto_core::store::tiering::{PlanCommit, PlannedFile};
use alto_core::store::{FileQuery, IngestChunk, ScanKind, ScanSpec, ShareSpec};
use alto_core::worker::{
    JobReport, ShareRoots, TargetOpener, WorkerOptions, rehydrate_one, rehydrate_one_with,
    run_one_job, split_target_uri,
};
use alto_core::{
    ErrorKind, FileEntry, MemoryStore, RuleSet, ShareKind, Store, Tenant, TenantSettings,
    TierObject, TierState,
};
use alto_tier::{ObjectTarget, PosixStubDriver, read_stub_at};
use hostile::{
    GID, HookGuard, SECRET, UID, World, as_attacker, attacker_dir, attacker_file, dead_pid,
    files_under, owned_file, serial, set_mtime, snap, sq, temporaries, tree,
};
use std::io::{BufRead, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

const DAY: i64 = 86_400_000_000;
const CHILD_ENV: &str = "ALTO_ATTACKS_CHILD";
const WAIT_ENV: &str = "ALTO_ATTACKS_CHILD_WAIT";
const PID_MARK: &str = "ALTO-CHILD-PID ";

fn content(seed: u8, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

fn micros_of(t: std::time::SystemTime) -> i64 {
    t.duration_since(std::time::UNIX_EPOCH).unwrap().as_micros() as i64
}

/// What a scan would record for the file at `real`, under the path `path` (a hostile catalogue
/// row may name anything): last accessed long ago, so the rule takes it.
fn entry(path: &str, real: &Path) -> FileEntry {
    let m = std::fs::symlink_metadata(real).unwrap();
    FileEntry {
        path: path.to_owned(),
        size: m.len(),
        modified: Some(micros_of(m.modified().unwrap())),
        accessed: Some(alto_core::time::now_micros() - 400 * DAY),
        ..Default::default()
    }
}

fn at(p: &Path) -> FileEntry {
    entry(&p.display().to_string(), p)
}

fn key(path: &str) -> String {
    use alto_core::path::{KeyRule, share_key};
    share_key(KeyRule::new(ShareKind::Posix, true), path)
}

async fn tenant(store: &MemoryStore) -> Tenant {
    store
        .create_tenant("acme", &TenantSettings::default())
        .await
        .unwrap()
}

async fn share(store: &MemoryStore, t: &Tenant, name: &str, root: Option<&str>) {
    let mut spec = ShareSpec::new(name, ShareKind::Posix);
    if let Some(r) = root {
        spec = spec.with_root(r);
    }
    store.ensure_share(t.id, &spec).await.unwrap();
}

async fn ingest(store: &MemoryStore, t: &Tenant, share: &str, entries: Vec<FileEntry>) {
    let scan = store
        .begin_scan(t.id, &ScanSpec::new(share, ScanKind::Partial))
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

/// The plan a planner makes of every file of the tenant, to `file://{tier}/{tenant}/`.
async fn make_plan(store: &MemoryStore, t: &Tenant, tier: &Path) -> PlanCommit {
    let rules = RuleSet::from_toml(&format!(
        "[[rule]]\nname = \"cold\"\naccessed_before = \"30d\"\ntarget = \"file://{}/{{tenant}}/\"\n",
        tier.display()
    ))
    .unwrap();
    let now = alto_core::time::now_micros();
    let mut opts = PlanOptions::at(now);
    opts.keep_files = true;
    opts.batch_size = 100;
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
    planner.finish().to_commit(now)
}

async fn commit(store: &MemoryStore, t: &Tenant, plan: &PlanCommit) -> u64 {
    store
        .tiering()
        .commit_plan(t.id, plan)
        .await
        .unwrap()
        .planned
}

async fn plan(store: &MemoryStore, t: &Tenant, tier: &Path) -> u64 {
    let p = make_plan(store, t, tier).await;
    commit(store, t, &p).await
}

fn opener() -> Box<TargetOpener> {
    Box::new(|uri: &str| Ok(Arc::new(ObjectTarget::open(uri)?) as Arc<dyn TierTarget>))
}

/// Run jobs until none can be claimed; the reports summed.
async fn run_with(store: &MemoryStore, t: &Tenant, opts: &WorkerOptions) -> JobReport {
    let mut total = JobReport::default();
    for _ in 0..10 {
        let Some(r) = run_one_job(store, t, &opener(), &PosixStubDriver, opts)
            .await
            .unwrap()
        else {
            break;
        };
        total.stubbed += r.stubbed;
        total.skipped += r.skipped;
        total.failed += r.failed;
        total.bytes += r.bytes;
        total.errors.extend(r.errors);
        total.notes.extend(r.notes);
    }
    total
}

async fn run(store: &MemoryStore, t: &Tenant) -> JobReport {
    run_with(store, t, &WorkerOptions::default()).await
}

async fn object(store: &MemoryStore, t: &Tenant, share: &str, path: &str) -> TierObject {
    store.tier_object(t.id, share, &key(path)).await.unwrap()
}

async fn rehydrate(store: &MemoryStore, t: &Tenant, path: &Path) -> alto_core::Result<u64> {
    let obj = object(store, t, "home", &path.display().to_string()).await;
    rehydrate_one(store, t, &obj, &opener(), &PosixStubDriver).await
}

async fn audited_failures(store: &MemoryStore, t: &Tenant) -> Vec<serde_json::Value> {
    store
        .audit(t.id, None, 10_000)
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|e| e.kind == "tier.fail")
        .map(|e| e.detail)
        .collect()
}

/// A store with tenant `acme` and share `home` rooted at the attacker's home.
async fn home_share(w: &World) -> (MemoryStore, Tenant) {
    let store = MemoryStore::new();
    let t = tenant(&store).await;
    share(&store, &t, "home", Some(&w.home.display().to_string())).await;
    (store, t)
}

/// No object in the tier directory holds the root-only file's bytes.
fn no_copy_of_secret(w: &World) {
    for f in files_under(&w.tier) {
        assert_ne!(
            std::fs::read(&f).unwrap(),
            SECRET,
            "{} is a copy of the root-only file",
            f.display()
        );
    }
}

// 1. Paths outside the share's root.

#[tokio::test]
async fn a_path_outside_the_share_root_is_never_read() {
    let _g = serial().await;
    let w = World::new();
    let vault_before = tree(&w.vault);
    let (store, t) = home_share(&w).await;
    let abs = w.secret.display().to_string();
    // Relative: the same file without its leading `/`, as a worker resolving it from `/` (or
    // its working directory) would find it.
    let rel = abs.trim_start_matches('/').to_owned();
    let dotdot = format!("{}/../vault/f", w.home.display());
    ingest(
        &store,
        &t,
        "home",
        vec![
            entry(&abs, &w.secret),
            entry(&rel, &w.secret),
            entry(&dotdot, &w.secret),
        ],
    )
    .await;
    let mut p = make_plan(&store, &t, &w.tier).await;
    let kept: Vec<&PlannedFile> = p.jobs.iter().flat_map(|j| &j.files).collect();
    assert_eq!(kept.len(), 2, "the planner keeps no `..` path: {kept:?}");
    // A row with `..` that another planner wrote anyway: the worker is the last line.
    p.jobs[0].files.push(PlannedFile {
        share: "home".into(),
        path_key: key(&dotdot),
        target_uri: format!("file://{}/acme/x", w.tier.display()),
    });
    assert_eq!(commit(&store, &t, &p).await, 3);

    let r = run(&store, &t).await;
    assert_eq!((r.stubbed, r.skipped, r.failed), (0, 0, 3), "{r:?}");
    for path in [&abs, &rel, &dotdot] {
        let e = r
            .errors
            .iter()
            .find(|e| e.starts_with(&format!("{path}: ")))
            .unwrap_or_else(|| panic!("no error for {path}: {:?}", r.errors));
        assert!(e.contains("not beneath the share root"), "{e}");
        let obj = object(&store, &t, "home", path).await;
        assert_eq!(obj.state, TierState::Planned, "nothing recorded for {path}");
    }
    assert_eq!(audited_failures(&store, &t).await.len(), 3);
    assert_eq!(
        tree(&w.vault),
        vault_before,
        "the root-only file is untouched"
    );
    assert!(
        files_under(&w.tier).is_empty(),
        "nothing was copied: {:?}",
        files_under(&w.tier)
    );
}

// 2. A share without a root.

#[tokio::test]
async fn a_share_without_a_root_is_refused_by_name() {
    let _g = serial().await;
    let w = World::new();
    let store = MemoryStore::new();
    let t = tenant(&store).await;
    share(&store, &t, "rootless", None).await;
    let f = w.home.join("f");
    attacker_file(&f, &content(1, 700), 0o644);
    ingest(&store, &t, "rootless", vec![at(&f)]).await;
    assert_eq!(plan(&store, &t, &w.tier).await, 1);
    let before = tree(&w.base);

    let r = run(&store, &t).await;
    assert_eq!((r.stubbed, r.failed), (0, 1), "{r:?}");
    assert!(
        r.errors[0].contains("share \"rootless\"") && r.errors[0].contains("has no root"),
        "{:?}",
        r.errors
    );
    assert_eq!(tree(&w.base), before, "nothing changed on disk");
    let obj = object(&store, &t, "rootless", &f.display().to_string()).await;
    assert_eq!(obj.state, TierState::Planned);
}

// 3. A directory swapped for a symlink.

#[tokio::test]
async fn a_directory_swapped_for_a_symlink_before_the_run_is_refused() {
    let _g = serial().await;
    let w = World::new();
    let (store, t) = home_share(&w).await;
    let a = w.home.join("a");
    attacker_dir(&a);
    let f = a.join("f");
    attacker_file(&f, &content(2, 900), 0o644);
    // The catalogue row has the victim's size and mtime, as if `a/f` were it.
    ingest(
        &store,
        &t,
        "home",
        vec![entry(&f.display().to_string(), &w.secret)],
    )
    .await;
    assert_eq!(plan(&store, &t, &w.tier).await, 1);
    as_attacker(&format!(
        "cd {} && mv a a.moved && ln -s {} a",
        sq(&w.home),
        sq(&w.vault)
    ));
    let vault_before = tree(&w.vault);

    let r = run(&store, &t).await;
    assert_eq!((r.stubbed, r.failed), (0, 1), "{r:?}");
    assert!(r.errors[0].contains("symlink"), "{:?}", r.errors);
    assert_eq!(
        tree(&w.vault),
        vault_before,
        "the root-only file is untouched"
    );
    assert!(files_under(&w.tier).is_empty(), "nothing was copied");
    assert_eq!(
        snap(&a).kind,
        "symlink",
        "the attacker's symlink is left as it is"
    );
}

#[tokio::test]
async fn a_directory_swapped_after_the_file_was_opened_never_leads_outside() {
    let _g = serial().await;
    let w = World::new();
    let (store, t) = home_share(&w).await;
    let a = w.home.join("a");
    attacker_dir(&a);
    let f = a.join("f");
    let original = content(3, 1200);
    attacker_file(&f, &original, 0o644);
    ingest(&store, &t, "home", vec![at(&f)]).await;
    assert_eq!(plan(&store, &t, &w.tier).await, 1);
    let vault_before = tree(&w.vault);

    // Right after the driver opened and checked `a/f`: `a` becomes a symlink to the vault,
    // which holds a root-only `f` of its own.
    let swap = format!(
        "cd {} && mv a a.moved && ln -s {} a",
        sq(&w.home),
        sq(&w.vault)
    );
    let done = Arc::new(AtomicBool::new(false));
    let hook = {
        let done = done.clone();
        HookGuard::set(move |name| {
            if name == "stub_after_open" && !done.swap(true, Ordering::SeqCst) {
                as_attacker(&swap);
            }
        })
    };
    let r = run(&store, &t).await;
    drop(hook);
    assert!(done.load(Ordering::SeqCst), "the swap happened");

    assert_eq!(tree(&w.vault), vault_before, "nothing in the vault changed");
    no_copy_of_secret(&w);
    // The stub landed in the directory that was checked — the attacker's, now `a.moved` — and
    // its object holds the attacker's own bytes.
    assert_eq!((r.stubbed, r.failed), (1, 0), "{r:?}");
    let moved = w.home.join("a.moved/f");
    let info = read_stub_at(&moved)
        .unwrap()
        .expect("a.moved/f is the stub");
    let obj = object(&store, &t, "home", &f.display().to_string()).await;
    assert_eq!(obj.state, TierState::Stubbed);
    let (root, k) = split_target_uri(&t.name, &obj).unwrap();
    assert_eq!(info.target_uri, format!("{root}{k}"));
    let back = w.base.join("back");
    ObjectTarget::open(root)
        .unwrap()
        .get_file(&k, &back)
        .await
        .unwrap();
    assert_eq!(std::fs::read(&back).unwrap(), original);
    std::fs::remove_file(&back).unwrap();
    assert_eq!(snap(&a).kind, "symlink");

    // Rehydrating by the catalogue's path now meets the symlink: refused, vault untouched.
    let e = rehydrate(&store, &t, &f).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
    assert!(e.to_string().contains("symlink"), "{e}");
    assert_eq!(tree(&w.vault), vault_before);
    assert!(read_stub_at(&moved).unwrap().is_some(), "the stub stays");
}

// 4. The file itself swapped.

#[tokio::test]
async fn a_file_swapped_for_a_symlink_is_refused() {
    let _g = serial().await;
    let w = World::new();
    let (store, t) = home_share(&w).await;
    let f = w.home.join("f");
    attacker_file(&f, &content(4, SECRET.len()), 0o644);
    // Same size and mtime as the root-only file: a worker that followed the symlink would find
    // the catalogue's row still true.
    let secret_mtime = std::fs::metadata(&w.secret).unwrap().modified().unwrap();
    std::fs::File::options()
        .write(true)
        .open(&f)
        .unwrap()
        .set_modified(secret_mtime)
        .unwrap();
    ingest(&store, &t, "home", vec![at(&f)]).await;
    assert_eq!(plan(&store, &t, &w.tier).await, 1);
    as_attacker(&format!(
        "cd {} && rm f && ln -s {} f",
        sq(&w.home),
        sq(&w.secret)
    ));
    let vault_before = tree(&w.vault);

    let r = run(&store, &t).await;
    assert_eq!((r.stubbed, r.failed), (0, 1), "{r:?}");
    assert!(r.errors[0].contains("symlink"), "{:?}", r.errors);
    assert_eq!(tree(&w.vault), vault_before);
    assert!(files_under(&w.tier).is_empty(), "nothing was copied");
    assert_eq!(snap(&f).kind, "symlink", "the symlink is left as it is");
}

#[tokio::test]
async fn a_file_changed_after_its_upload_keeps_its_data() {
    let _g = serial().await;
    let w = World::new();
    let (store, t) = home_share(&w).await;
    let f = w.home.join("f");
    let original = content(5, 800);
    attacker_file(&f, &original, 0o644);
    ingest(&store, &t, "home", vec![at(&f)]).await;
    assert_eq!(plan(&store, &t, &w.tier).await, 1);
    let append = format!("printf more >> {}", sq(&f));
    let hook = HookGuard::set(move |name| {
        if name == "after_upload" {
            as_attacker(&append);
        }
    });
    let r = run(&store, &t).await;
    drop(hook);
    assert_eq!((r.stubbed, r.failed), (0, 1), "{r:?}");
    assert!(r.errors[0].contains("changed"), "{:?}", r.errors);
    let mut expected = original;
    expected.extend_from_slice(b"more");
    assert_eq!(std::fs::read(&f).unwrap(), expected, "the writes are kept");
    assert!(temporaries(&w.home).is_empty());
}

#[tokio::test]
async fn a_stub_replaced_during_rehydration_is_left_to_the_attacker() {
    let _g = serial().await;
    let w = World::new();
    let (store, t) = home_share(&w).await;
    let f = w.home.join("f");
    attacker_file(&f, &content(6, 1000), 0o644);
    ingest(&store, &t, "home", vec![at(&f)]).await;
    assert_eq!(plan(&store, &t, &w.tier).await, 1);
    assert_eq!(run(&store, &t).await.stubbed, 1);

    let replace = format!("cd {} && printf mine > .new && mv -f .new f", sq(&w.home));
    let hook = HookGuard::set(move |name| {
        if name == "restore_before_rename" {
            as_attacker(&replace);
        }
    });
    let e = rehydrate(&store, &t, &f).await.unwrap_err();
    drop(hook);
    assert_eq!(e.kind(), ErrorKind::Conflict, "{e}");
    assert_eq!(
        std::fs::read(&f).unwrap(),
        b"mine",
        "the attacker's file stays"
    );
    assert_eq!(snap(&f).uid, UID);
    assert!(
        temporaries(&w.home).is_empty(),
        "{:?}",
        temporaries(&w.home)
    );
    let obj = object(&store, &t, "home", &f.display().to_string()).await;
    assert_eq!(obj.state, TierState::Stubbed, "nothing recorded");
    let (root, k) = split_target_uri(&t.name, &obj).unwrap();
    let there = ObjectTarget::open(root).unwrap().verify(&k).await.unwrap();
    assert_eq!(there.size, 1000, "the object is kept");
}

#[tokio::test]
async fn a_file_with_two_names_is_not_stubbed() {
    let _g = serial().await;
    let w = World::new();
    let (store, t) = home_share(&w).await;
    let f = w.home.join("f");
    attacker_file(&f, &content(7, 500), 0o644);
    as_attacker(&format!("cd {} && ln f g", sq(&w.home)));
    ingest(&store, &t, "home", vec![at(&f)]).await;
    assert_eq!(plan(&store, &t, &w.tier).await, 1);
    let before = tree(&w.home);
    let r = run(&store, &t).await;
    assert_eq!((r.stubbed, r.failed), (0, 1), "{r:?}");
    assert!(r.errors[0].contains("hard links"), "{:?}", r.errors);
    assert_eq!(tree(&w.home), before);
}

// 5. Planted temporaries.

/// Stub and rehydrate every file of `dir/primary` (tier: `dir/tier`) with a fresh memory store,
/// in whatever process and as whatever user runs this; panics unless every file comes back
/// byte for byte with its owner, group, mode and mtime, and every stub was without set-id bits.
async fn cycle(dir: &Path) {
    let primary = dir.join("primary");
    let tier = dir.join("tier");
    let store = MemoryStore::new();
    let t = tenant(&store).await;
    share(&store, &t, "home", Some(&primary.display().to_string())).await;
    let mut files = Vec::new();
    for e in std::fs::read_dir(&primary).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if !name.starts_with('.') && snap(&p).kind == "file" {
            files.push((p.clone(), snap(&p)));
        }
    }
    assert!(!files.is_empty());
    ingest(
        &store,
        &t,
        "home",
        files.iter().map(|(p, _)| at(p)).collect(),
    )
    .await;
    assert_eq!(plan(&store, &t, &tier).await, files.len() as u64);
    let r = run(&store, &t).await;
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    assert!(r.notes.is_empty(), "{:?}", r.notes);
    assert_eq!(r.stubbed, files.len() as u64, "{r:?}");
    for (p, before) in &files {
        assert!(read_stub_at(p).unwrap().is_some(), "{}", p.display());
        let s = snap(p);
        assert_eq!(
            s.mode & 0o6000,
            0,
            "{}: a stub has no set-id bit",
            p.display()
        );
        assert_eq!(s.mode & 0o777, before.mode & 0o777, "{}", p.display());
        assert_eq!((s.uid, s.gid), (before.uid, before.gid), "{}", p.display());
        assert_eq!(s.mtime, before.mtime, "{}", p.display());
    }
    for (p, before) in &files {
        let n = rehydrate(&store, &t, p).await.unwrap();
        assert_eq!(n, before.content.len() as u64);
        let after = snap(p);
        assert_eq!(
            (
                &after.content,
                after.uid,
                after.gid,
                after.mode,
                after.mtime
            ),
            (
                &before.content,
                before.uid,
                before.gid,
                before.mode,
                before.mtime
            ),
            "{}",
            p.display()
        );
    }
    println!("cycle ok: {} files", files.len());
}

/// Not a test of its own: the worker process of the tests that need a fresh process (or another
/// user). Does nothing unless `ALTO_ATTACKS_CHILD` names a directory.
#[test]
fn attack_child() {
    let Ok(dir) = std::env::var(CHILD_ENV) else {
        return;
    };
    if std::env::var_os(WAIT_ENV).is_some() {
        println!("\n{PID_MARK}{}", std::process::id());
        std::io::stdout().flush().unwrap();
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).unwrap();
    }
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(cycle(Path::new(&dir)));
}

fn child(dir: &Path) -> Command {
    let mut c = Command::new(std::env::current_exe().unwrap());
    c.args(["--exact", "attack_child", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

#[tokio::test]
async fn planted_temporaries_are_neither_followed_nor_removed() {
    let _g = serial().await;
    let w = World::new();
    // The child works on `base/primary` (the attacker's) and `base/tier` (root's).
    let primary = w.base.join("primary");
    attacker_dir(&primary);
    let f = primary.join("f");
    let original = content(8, 1500);
    attacker_file(&f, &original, 0o640);
    set_mtime(&f, 1_300_000_000, 42);
    let vault_before = tree(&w.vault);
    let dead = dead_pid();
    // Left by a dead worker of root's: the sweep removes it (so it surely ran).
    let leftover = format!(".alto-tmp-{dead}-00000000000000000000000000000001");
    owned_file(&primary.join(&leftover), b"partial", 0, 0, 0o600);
    // Root's, but not private: not one of ours, kept.
    let public = format!(".alto-tmp-{dead}-00000000000000000000000000000002");
    owned_file(&primary.join(&public), b"public", 0, 0, 0o644);

    let mut c = child(&w.base)
        .env(WAIT_ENV, "1")
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = std::io::BufReader::new(c.stdout.take().unwrap());
    let pid: u32 = loop {
        let mut line = String::new();
        assert_ne!(
            out.read_line(&mut line).unwrap(),
            0,
            "the child said no pid"
        );
        if let Some(i) = line.find(PID_MARK) {
            break line[i + PID_MARK.len()..].trim().parse().unwrap();
        }
    };
    // Names the old code used (`.f.alto-fetch-<pid>`) and names like the new temporaries, of the
    // worker itself and of a dead one: symlinks to the root-only file, and the attacker's own
    // private regular file.
    let planted = [
        format!(".f.alto-fetch-{pid}"),
        format!(".alto-tmp-{pid}-0123456789abcdef0123456789abcdef"),
        format!(".alto-tmp-{pid}"),
        format!(".alto-tmp-{dead}-fedcba9876543210fedcba9876543210"),
    ];
    let mut script = format!("cd {}", sq(&primary));
    for n in &planted {
        script.push_str(&format!(" && ln -s {} {}", sq(&w.secret), sq(n)));
    }
    let own = format!(".alto-tmp-{dead}-00000000000000000000000000000003");
    script.push_str(&format!(
        " && printf mine > {o} && chmod 600 {o}",
        o = sq(&own)
    ));
    as_attacker(&script);
    let planted_before: Vec<_> = planted
        .iter()
        .chain([&own, &public])
        .map(|n| snap(&primary.join(n)))
        .collect();

    c.stdin.take().unwrap().write_all(b"go\n").unwrap();
    let status = c.wait().unwrap();
    let mut stdout = String::new();
    std::io::Read::read_to_string(&mut out, &mut stdout).unwrap();
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut c.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(status.success(), "the worker failed: {stdout}\n{stderr}");
    assert!(stdout.contains("cycle ok: 1 files"), "{stdout}");

    assert_eq!(
        tree(&w.vault),
        vault_before,
        "the root-only file is untouched"
    );
    let planted_after: Vec<_> = planted
        .iter()
        .chain([&own, &public])
        .map(|n| snap(&primary.join(n)))
        .collect();
    assert_eq!(
        planted_after, planted_before,
        "planted names are left alone"
    );
    assert!(
        !primary.join(&leftover).exists(),
        "a dead worker's own temporary is swept"
    );
    let mut expect: Vec<String> = planted
        .iter()
        .chain([&own, &public])
        .filter(|n| n.starts_with(".alto-tmp-"))
        .cloned()
        .collect();
    expect.sort();
    assert_eq!(
        temporaries(&primary),
        expect,
        "no temporary of the worker left"
    );
    assert_eq!(std::fs::read(&f).unwrap(), original);
    assert_eq!((snap(&f).uid, snap(&f).mode & 0o7777), (UID, 0o640));
    no_copy_of_secret(&w);
}

// 6. Set-user-ID files.

#[tokio::test]
async fn a_setuid_file_keeps_its_bit_for_its_own_owner_only() {
    let _g = serial().await;
    let w = World::new();
    let (store, t) = home_share(&w).await;
    let tool = w.home.join("tool");
    let bytes = content(9, 2000);
    attacker_file(&tool, &bytes, 0o4755);
    assert_eq!(snap(&tool).mode & 0o7777, 0o4755);
    ingest(&store, &t, "home", vec![at(&tool)]).await;
    assert_eq!(plan(&store, &t, &w.tier).await, 1);
    let r = run(&store, &t).await;
    assert_eq!(r.stubbed, 1, "{r:?}");

    let s = snap(&tool);
    assert!(read_stub_at(&tool).unwrap().is_some());
    assert_eq!(
        s.mode & 0o6000,
        0,
        "the stub has no set-id bit: {:o}",
        s.mode
    );
    assert_eq!(s.mode & 0o777, 0o755);
    assert_eq!((s.uid, s.gid), (UID, GID), "the stub is the owner's");
    let obj = object(&store, &t, "home", &tool.display().to_string()).await;
    let stored = obj.stored.clone().unwrap();
    assert_eq!(
        (stored.uid, stored.gid, stored.mode),
        (UID, GID, 0o4755),
        "the catalogue keeps owner and mode"
    );

    rehydrate(&store, &t, &tool).await.unwrap();
    let s = snap(&tool);
    assert_eq!(s.content, bytes);
    assert_eq!((s.uid, s.gid, s.mode & 0o7777), (UID, GID, 0o4755));
}

#[tokio::test]
async fn a_forged_stub_restores_what_the_catalogue_says() {
    let _g = serial().await;
    let w = World::new();
    let (store, t) = home_share(&w).await;
    // The attacker's set-user-ID tool, and root's private file in a directory of root's inside
    // the share.
    let tool = w.home.join("tool");
    let bytes = content(10, 2000);
    attacker_file(&tool, &bytes, 0o4755);
    let rootdir = w.home.join("rootdir");
    std::fs::create_dir(&rootdir).unwrap();
    std::fs::set_permissions(&rootdir, std::fs::Permissions::from_mode(0o700)).unwrap();
    let private = rootdir.join("private");
    owned_file(&private, SECRET, 0, 0, 0o600);
    ingest(&store, &t, "home", vec![at(&tool), at(&private)]).await;
    assert_eq!(plan(&store, &t, &w.tier).await, 2);
    assert_eq!(run(&store, &t).await.stubbed, 2);
    let theirs = read_stub_at(&private).unwrap().unwrap();

    // The attacker replaces its stub with one that claims root's object, size and hash.
    let mut forged = String::from(alto_tier::STUB_MAGIC);
    forged.push_str(&serde_json::to_string(&theirs).unwrap());
    forged.push('\n');
    let forged_path = w.base.join("forged");
    std::fs::write(&forged_path, forged).unwrap();
    std::fs::set_permissions(&forged_path, std::fs::Permissions::from_mode(0o644)).unwrap();
    as_attacker(&format!(
        "cd {} && cp {} .x && mv -f .x tool",
        sq(&w.home),
        sq(&forged_path)
    ));
    assert_eq!(read_stub_at(&tool).unwrap().unwrap(), theirs);

    // Rehydration reads the object the catalogue recorded for this file and checks it against
    // the catalogue, never the stub's claims: the attacker gets back its own bytes, with its own
    // owner and mode.
    rehydrate(&store, &t, &tool).await.unwrap();
    let s = snap(&tool);
    assert_ne!(
        s.content, SECRET,
        "root's file was not handed to the attacker"
    );
    assert_eq!(s.content, bytes);
    assert_eq!((s.uid, s.gid, s.mode & 0o7777), (UID, GID, 0o4755));
    assert!(temporaries(&w.home).is_empty());
    // Root's file is still a stub and comes back as root's.
    rehydrate(&store, &t, &private).await.unwrap();
    let s = snap(&private);
    assert_eq!(
        (s.content.as_slice(), s.uid, s.gid, s.mode & 0o7777),
        (SECRET, 0, 0, 0o600)
    );
}

#[tokio::test]
async fn a_stub_replaced_by_plain_data_is_not_rehydrated_over() {
    let _g = serial().await;
    let w = World::new();
    let (store, t) = home_share(&w).await;
    let f = w.home.join("f");
    attacker_file(&f, &content(11, 600), 0o4755);
    ingest(&store, &t, "home", vec![at(&f)]).await;
    assert_eq!(plan(&store, &t, &w.tier).await, 1);
    assert_eq!(run(&store, &t).await.stubbed, 1);
    as_attacker(&format!(
        "cd {} && printf 'not a stub' > .x && mv -f .x f",
        sq(&w.home)
    ));
    let before = tree(&w.home);
    let e = rehydrate(&store, &t, &f).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidTransition, "{e}");
    assert_eq!(tree(&w.home), before, "the attacker's file stays as it is");
}

// 7. Two files, one path.

#[tokio::test]
async fn two_shares_with_the_same_paths_never_share_an_object() {
    let _g = serial().await;
    let w = World::new();
    let store = MemoryStore::new();
    let t = tenant(&store).await;
    // Both shares are recorded at the same root; this host mounts them at two directories.
    let recorded = "/srv/alto-attacks/data";
    share(&store, &t, "one", Some(recorded)).await;
    share(&store, &t, "two", Some(recorded)).await;
    let (d1, d2) = (w.base.join("one"), w.base.join("two"));
    std::fs::create_dir(&d1).unwrap();
    std::fs::create_dir(&d2).unwrap();
    let (b1, b2) = (content(12, 1024), content(13, 1024));
    let (f1, f2) = (d1.join("x.bin"), d2.join("x.bin"));
    std::fs::write(&f1, &b1).unwrap();
    std::fs::write(&f2, &b2).unwrap();
    set_mtime(&f1, 1_600_000_000, 0);
    set_mtime(&f2, 1_600_000_000, 0);
    let path = format!("{recorded}/x.bin");
    ingest(&store, &t, "one", vec![entry(&path, &f1)]).await;
    ingest(&store, &t, "two", vec![entry(&path, &f2)]).await;
    assert_eq!(plan(&store, &t, &w.tier).await, 2);
    let roots: ShareRoots = [
        ("one".to_owned(), d1.clone()),
        ("two".to_owned(), d2.clone()),
    ]
    .into_iter()
    .collect();
    let opts = WorkerOptions {
        share_roots: roots.clone(),
        ..Default::default()
    };
    let r = run_with(&store, &t, &opts).await;
    assert_eq!(r.stubbed, 2, "{r:?}");

    let o1 = object(&store, &t, "one", &path).await;
    let o2 = object(&store, &t, "two", &path).await;
    let (root1, k1) = split_target_uri(&t.name, &o1).unwrap();
    let (root2, k2) = split_target_uri(&t.name, &o2).unwrap();
    assert_eq!(root1, root2);
    assert_ne!(k1, k2, "one object per share");
    let target = ObjectTarget::open(root1).unwrap();
    let sha = |b: &[u8]| {
        use sha2::Digest;
        format!("{:x}", sha2::Sha256::digest(b))
    };
    assert_eq!(target.verify(&k1).await.unwrap().sha256, Some(sha(&b1)));
    assert_eq!(target.verify(&k2).await.unwrap().sha256, Some(sha(&b2)));
    assert_ne!(
        read_stub_at(&f1).unwrap().unwrap().target_uri,
        read_stub_at(&f2).unwrap().unwrap().target_uri
    );
    for (o, f, b) in [(&o1, &f1, &b1), (&o2, &f2, &b2)] {
        rehydrate_one_with(&store, &t, o, &opener(), &PosixStubDriver, &roots)
            .await
            .unwrap();
        assert_eq!(&std::fs::read(f).unwrap(), b);
    }
}

// 8. Names.

#[tokio::test]
async fn names_that_could_pose_as_paths_are_refused() {
    let _g = serial().await;
    let store = MemoryStore::new();
    for bad in ["acme/tmp", "..", "a\\b", "/acme"] {
        let e = store
            .create_tenant(bad, &TenantSettings::default())
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{bad:?}: {e}");
        assert_eq!(
            store.tenant(bad).await.unwrap_err().kind(),
            ErrorKind::NotFound,
            "{bad:?} was not created"
        );
    }
    let t = tenant(&store).await;
    let e = store
        .ensure_share(t.id, &ShareSpec::new("data/tmp", ShareKind::Posix))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
    for root in ["srv/data", "/srv/../etc"] {
        let e = store
            .ensure_share(
                t.id,
                &ShareSpec::new("data", ShareKind::Posix).with_root(root),
            )
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{root:?}: {e}");
    }
    assert!(store.shares(t.id).await.unwrap().is_empty());
}

// 9. Private tier copies.

/// Restores the umask when dropped.
struct Umask(rustix::fs::Mode);

impl Drop for Umask {
    fn drop(&mut self) {
        rustix::process::umask(self.0);
    }
}

#[tokio::test]
async fn file_tier_copies_are_private_whatever_the_umask() {
    let _g = serial().await;
    let w = World::new();
    let (store, t) = home_share(&w).await;
    let sub = w.home.join("sub");
    attacker_dir(&sub);
    let files = [w.home.join("a"), sub.join("b")];
    for (i, f) in files.iter().enumerate() {
        attacker_file(f, &content(14 + i as u8, 300), 0o644);
    }
    ingest(&store, &t, "home", files.iter().map(|f| at(f)).collect()).await;
    assert_eq!(plan(&store, &t, &w.tier).await, 2);
    let r = {
        let _mask = Umask(rustix::process::umask(rustix::fs::Mode::empty()));
        run(&store, &t).await
    };
    assert_eq!(r.stubbed, 2, "{r:?}");
    let all = tree(&w.tier);
    let objects: Vec<_> = all.iter().filter(|(_, s)| s.kind == "file").collect();
    assert_eq!(objects.len(), 2, "{all:?}");
    for (p, s) in &all {
        match s.kind {
            "file" => assert_eq!(s.mode & 0o7777, 0o600, "{}", p.display()),
            "dir" => assert_eq!(s.mode & 0o7777, 0o700, "{}", p.display()),
            k => panic!("{}: a {k} in the tier directory", p.display()),
        }
        assert_eq!(s.uid, 0, "{}", p.display());
    }
    assert!(
        all.keys().all(|p| !p
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with(".alto-tmp-")),
        "no temporary left: {all:?}"
    );
}

// 10. Exact round trip of another user's files.

#[tokio::test]
async fn another_users_files_come_back_exactly() {
    let _g = serial().await;
    let w = World::new();
    let (store, t) = home_share(&w).await;
    let cases = [
        ("group-readable", 0o640, 1_500_000_000u64, 250_000u32),
        ("private", 0o600, 1_234_567_890, 987_654),
    ];
    let mut before = Vec::new();
    for (i, (name, mode, secs, micros)) in cases.iter().enumerate() {
        let p = w.home.join(name);
        attacker_file(&p, &content(20 + i as u8, 3000 + i), *mode);
        set_mtime(&p, *secs, *micros);
        before.push((p.clone(), snap(&p)));
    }
    ingest(
        &store,
        &t,
        "home",
        before.iter().map(|(p, _)| at(p)).collect(),
    )
    .await;
    assert_eq!(plan(&store, &t, &w.tier).await, 2);
    let r = run(&store, &t).await;
    assert_eq!(r.stubbed, 2, "{r:?}");
    assert!(r.notes.is_empty(), "{:?}", r.notes);
    for (p, b) in &before {
        let s = snap(p);
        assert!(read_stub_at(p).unwrap().is_some());
        assert_eq!(
            (s.uid, s.gid, s.mode, s.mtime),
            (b.uid, b.gid, b.mode, b.mtime),
            "the stub looks like the original: {}",
            p.display()
        );
    }
    for (p, b) in &before {
        rehydrate(&store, &t, p).await.unwrap();
        let s = snap(p);
        assert_eq!(
            (&s.content, s.uid, s.gid, s.mode, s.mtime, s.nlink),
            (&b.content, UID, GID, b.mode, b.mtime, 1),
            "{}",
            p.display()
        );
    }
    // Whole microseconds came back exactly.
    let m = std::fs::metadata(w.home.join("private")).unwrap();
    assert_eq!((m.mtime(), m.mtime_nsec()), (1_234_567_890, 987_654_000));
}

// 11. An ordinary user's worker.

#[tokio::test]
async fn an_ordinary_user_runs_the_whole_cycle_over_its_own_files() {
    let _g = serial().await;
    let base = tempfile::tempdir().unwrap();
    std::fs::set_permissions(base.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let primary = base.path().join("primary");
    attacker_dir(&primary);
    let tier = base.path().join("tier");
    attacker_dir(&tier);
    std::fs::set_permissions(&tier, std::fs::Permissions::from_mode(0o700)).unwrap();
    for (i, (name, mode)) in [("a", 0o640), ("b", 0o600), ("c", 0o755)]
        .into_iter()
        .enumerate()
    {
        let p = primary.join(name);
        attacker_file(&p, &content(30 + i as u8, 1000 + 7 * i), mode);
        set_mtime(&p, 1_400_000_000 + i as u64, 500_000);
    }
    let out = child(base.path()).uid(UID).gid(GID).output().unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(
        out.status.success(),
        "the user's worker failed: {stdout}\n{stderr}"
    );
    assert!(stdout.contains("cycle ok: 3 files"), "{stdout}");
    for (p, s) in tree(&primary) {
        assert_eq!((s.uid, s.gid), (UID, GID), "{}", p.display());
    }
    assert_eq!(temporaries(&primary), Vec::<String>::new());
    let objects: Vec<_> = tree(&tier)
        .into_iter()
        .filter(|(_, s)| s.kind == "file")
        .collect();
    assert_eq!(objects.len(), 3, "{objects:?}");
    for (p, s) in objects {
        assert_eq!((s.uid, s.mode & 0o7777), (UID, 0o600), "{}", p.display());
    }
}

// 4b. One user's file cannot stop everyone's job.

#[tokio::test]
async fn a_file_swapped_before_the_stub_rename_fails_alone() {
    let _g = serial().await;
    let w = World::new();
    let (store, t) = home_share(&w).await;
    let (f, g) = (w.home.join("f"), w.home.join("g"));
    attacker_file(&f, &content(7, 700), 0o644);
    attacker_file(&g, &content(8, 900), 0o644);
    ingest(&store, &t, "home", vec![at(&f), at(&g)]).await;
    assert_eq!(plan(&store, &t, &w.tier).await, 2);
    let swap = format!(
        "printf mine > {tmp} && mv -f {tmp} {f}",
        tmp = sq(w.home.join("new")),
        f = sq(&f)
    );
    let swapped = Arc::new(AtomicBool::new(false));
    let once = swapped.clone();
    let hook = HookGuard::set(move |name| {
        if name == "stub_before_rename" && !once.swap(true, Ordering::SeqCst) {
            as_attacker(&swap);
        }
    });
    let r = run(&store, &t).await;
    drop(hook);
    assert!(swapped.load(Ordering::SeqCst));
    // The swapped file fails on its own; the job goes on and `g` is stubbed.
    assert_eq!((r.stubbed, r.failed), (1, 1), "{r:?}");
    assert!(
        r.errors[0].contains("replaced by another file"),
        "{:?}",
        r.errors
    );
    assert_eq!(
        std::fs::read(&f).unwrap(),
        b"mine",
        "the attacker's file is left as it is"
    );
    let stubbed = [&f, &g]
        .iter()
        .filter(|p| read_stub_at(p).unwrap().is_some())
        .count();
    assert_eq!(stubbed, 1);
    assert_eq!(audited_failures(&store, &t).await.len(), 1);
    let jobs = store
        .tiering()
        .jobs(t.id, &Default::default())
        .await
        .unwrap()
        .items;
    assert!(
        jobs.iter().all(|j| j.state != alto_core::JobState::Running),
        "no job is left running: {jobs:?}"
    );
    assert!(temporaries(&w.home).is_empty());
}

#[tokio::test]
async fn a_forged_stub_of_another_object_fails_alone() {
    let _g = serial().await;
    let w = World::new();
    let (store, t) = home_share(&w).await;
    let (f, g) = (w.home.join("f"), w.home.join("g"));
    attacker_file(&f, &content(3, 600), 0o644);
    attacker_file(&g, &content(4, 650), 0o644);
    ingest(&store, &t, "home", vec![at(&f), at(&g)]).await;
    assert_eq!(plan(&store, &t, &w.tier).await, 2);
    // The attacker turns `f` into text that looks like a stub of someone else's object.
    let forged = format!(
        "{}{{\"target_uri\":\"file:///elsewhere/x\",\"size\":600,\"sha256\":\"00\",\"modified\":0,\"accessed\":null,\"tenant\":\"other\"}}\n",
        alto_tier::STUB_MAGIC
    );
    let script = format!("printf '%s' {} > {}", sq(Path::new(&forged)), sq(&f));
    as_attacker(&script);
    let r = run(&store, &t).await;
    assert_eq!((r.stubbed, r.failed), (1, 1), "{r:?}");
    assert!(
        r.errors[0].contains("stub of another object"),
        "{:?}",
        r.errors
    );
    assert!(
        read_stub_at(&g).unwrap().is_some(),
        "the other file is tiered"
    );
    let jobs = store
        .tiering()
        .jobs(t.id, &Default::default())
        .await
        .unwrap()
        .items;
    assert!(
        jobs.iter().all(|j| j.state != alto_core::JobState::Running),
        "no job is left running: {jobs:?}"
    );
}

// 7b. On a POSIX share `\\` is an ordinary character: `a\\b` and `a/b` are two files.

#[tokio::test]
async fn a_backslash_name_beside_a_directory_stays_a_separate_file() {
    let _g = serial().await;
    let w = World::new();
    let (store, t) = home_share(&w).await;
    attacker_dir(&w.home.join("a"));
    let (slash, back) = (w.home.join("a").join("b"), w.home.join("a\\b"));
    attacker_file(&slash, &content(1, 500), 0o644);
    attacker_file(&back, &content(2, 500), 0o644);
    ingest(&store, &t, "home", vec![at(&slash), at(&back)]).await;
    let files = store
        .files(t.id, &FileQuery::default())
        .await
        .unwrap()
        .items;
    assert_eq!(files.len(), 2, "two files, two records: {files:?}");
    assert_eq!(plan(&store, &t, &w.tier).await, 2);
    let r = run(&store, &t).await;
    assert_eq!(r.stubbed, 2, "{r:?}");
    let o1 = object(&store, &t, "home", &slash.display().to_string()).await;
    let o2 = object(&store, &t, "home", &back.display().to_string()).await;
    let (k1, k2) = (o1.stored.unwrap().key, o2.stored.unwrap().key);
    assert_ne!(k1, k2);
    rehydrate(&store, &t, &slash).await.unwrap();
    rehydrate(&store, &t, &back).await.unwrap();
    assert_eq!(std::fs::read(&slash).unwrap(), content(1, 500));
    assert_eq!(std::fs::read(&back).unwrap(), content(2, 500));
}

/// A write that reaches the original after the exchange (through its temporary name, or a
/// handle held open) is caught: the exchange is undone and the data kept.
#[tokio::test]
async fn a_write_after_the_exchange_undoes_it() {
    let _g = serial().await;
    let w = World::new();
    let (store, t) = home_share(&w).await;
    let f = w.home.join("f");
    let original = content(9, 900);
    attacker_file(&f, &original, 0o644);
    ingest(&store, &t, "home", vec![at(&f)]).await;
    assert_eq!(plan(&store, &t, &w.tier).await, 1);
    let append = format!(
        "cd {} && for t in .alto-tmp-*; do printf late >> \"$t\"; done",
        sq(&w.home)
    );
    let hook = HookGuard::set(move |name| {
        if name == "swap_after_exchange" {
            as_attacker(&append);
        }
    });
    let r = run(&store, &t).await;
    drop(hook);
    assert_eq!((r.stubbed, r.failed), (0, 1), "{r:?}");
    assert!(r.errors[0].contains("changed"), "{:?}", r.errors);
    let mut expected = original;
    expected.extend_from_slice(b"late");
    assert_eq!(
        std::fs::read(&f).unwrap(),
        expected,
        "the late write is kept"
    );
    assert!(read_stub_at(&f).unwrap().is_none());
    assert!(temporaries(&w.home).is_empty());
}

/// A tenant's rules choose targets; a host that allows only some target roots refuses the rest,
/// so a rule cannot point root's uploads at any directory.
#[tokio::test]
async fn a_target_outside_the_allowed_roots_is_refused() {
    let _g = serial().await;
    let w = World::new();
    let (store, t) = home_share(&w).await;
    let f = w.home.join("f");
    attacker_file(&f, &content(6, 400), 0o644);
    ingest(&store, &t, "home", vec![at(&f)]).await;
    assert_eq!(plan(&store, &t, &w.tier).await, 1);
    let allowed = tempfile::tempdir().unwrap();
    let opts = WorkerOptions {
        allowed_targets: vec![format!("file://{}/", allowed.path().display())],
        ..Default::default()
    };
    let r = run_with(&store, &t, &opts).await;
    assert_eq!((r.stubbed, r.failed), (0, 1), "{r:?}");
    assert!(
        r.errors[0].contains("not under a target this host allows"),
        "{:?}",
        r.errors
    );
    assert!(
        files_under(&w.tier).is_empty(),
        "nothing written to the refused target"
    );
    assert_eq!(std::fs::read(&f).unwrap(), content(6, 400));
    // The same plan, with its target allowed, goes through.
    let opts = WorkerOptions {
        allowed_targets: vec![format!("file://{}", w.tier.display())],
        ..Default::default()
    };
    // The failed job ended; a new plan picks the file up again.
    assert_eq!(
        plan(&store, &t, &w.tier).await,
        0,
        "requeued, not planned anew"
    );
    let r = run_with(&store, &t, &opts).await;
    assert_eq!(r.stubbed, 1, "{r:?}");
}

/// The attacker swaps the worker's own temporary (a stub written beside the file) for a file of
/// theirs just before the exchange: the swap is refused, the original and the attacker's file
/// stay, and the worker removes nothing it did not create.
#[tokio::test]
async fn a_temporary_swapped_by_the_directory_owner_is_not_used() {
    let _g = serial().await;
    let w = World::new();
    let (store, t) = home_share(&w).await;
    let f = w.home.join("f");
    let original = content(4, 700);
    attacker_file(&f, &original, 0o644);
    ingest(&store, &t, "home", vec![at(&f)]).await;
    assert_eq!(plan(&store, &t, &w.tier).await, 1);
    let swap = format!(
        "cd {} && for t in .alto-tmp-*; do mv \"$t\" moved && printf mine > \"$t\"; done",
        sq(&w.home)
    );
    let hook = HookGuard::set(move |name| {
        if name == "stub_before_rename" {
            as_attacker(&swap);
        }
    });
    let r = run(&store, &t).await;
    drop(hook);
    assert_eq!((r.stubbed, r.failed), (0, 1), "{r:?}");
    assert!(r.errors[0].contains("temporary"), "{:?}", r.errors);
    assert_eq!(std::fs::read(&f).unwrap(), original, "the original stays");
    let planted = temporaries(&w.home);
    assert_eq!(
        planted.len(),
        1,
        "the attacker's file is not removed: {planted:?}"
    );
    assert_eq!(std::fs::read(w.home.join(&planted[0])).unwrap(), b"mine");
}
