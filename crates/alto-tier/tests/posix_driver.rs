//! The POSIX stub driver through the `StubDriver` trait: what `open` accepts and refuses, stubs,
//! staged restores, and the checks that keep a file that changed (or a name that now leads to
//! another file) as it is.

#[path = "support/hostile.rs"]
mod hostile;

use alto_core::ErrorKind;
use alto_core::driver::{Attributes, FileStat, Located, Opened, StubDriver, StubInfo};
use alto_tier::{PosixStubDriver, read_stub_at};
use hostile::{GID, UID, owned_file, set_mtime, snap, temporaries};
use std::io::{Read, Seek, Write};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

fn located(root: &Path, file: &Path) -> Located {
    Located {
        root: root.to_path_buf(),
        recorded_root: root.display().to_string(),
        path: file.display().to_string(),
    }
}

fn info_of(stat: &FileStat) -> StubInfo {
    StubInfo {
        target_uri: "file:///srv/tier2/acme/data/x.~1.1".into(),
        size: stat.size,
        sha256: "0".repeat(64),
        modified: stat.modified,
        accessed: Some(stat.accessed),
        tenant: "acme".into(),
    }
}

fn attrs_of(stat: &FileStat) -> Attributes {
    Attributes {
        uid: stat.uid,
        gid: stat.gid,
        mode: stat.mode & 0o777,
        modified: stat.modified,
        accessed: Some(stat.accessed),
    }
}

/// A directory with `f` (`bytes`, mode 0644, root's).
fn dir_with(bytes: &[u8]) -> (tempfile::TempDir, std::path::PathBuf) {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("f");
    owned_file(&f, bytes, 0, 0, 0o644);
    (d, f)
}

async fn open(root: &Path, file: &Path) -> alto_core::Result<Opened> {
    PosixStubDriver.open(&located(root, file)).await
}

/// Open `f` and stub it with its own owner, mode and times.
async fn stubbed(root: &Path, f: &Path) -> StubInfo {
    let o = open(root, f).await.unwrap();
    let info = info_of(&o.stat);
    let attrs = attrs_of(&o.stat);
    let notes = PosixStubDriver.stub(o, &info, &attrs).await.unwrap();
    assert!(notes.is_empty(), "{notes:?}");
    info
}

#[tokio::test]
async fn opens_a_regular_file_and_says_what_it_is() {
    let (d, f) = dir_with(b"hello, world");
    owned_file(&f, b"hello, world", UID, GID, 0o640);
    set_mtime(&f, 1_500_000_000, 123_456);
    let o = open(d.path(), &f).await.unwrap();
    let m = std::fs::metadata(&f).unwrap();
    let s = o.stat;
    assert_eq!((s.dev, s.ino, s.nlink), (m.dev(), m.ino(), 1));
    assert_eq!(s.size, 12);
    assert_eq!((s.uid, s.gid), (UID, GID));
    assert_eq!(s.mode & 0o170000, 0o100000, "a regular file");
    assert_eq!(s.mode & 0o7777, 0o640);
    assert_eq!(s.modified, 1_500_000_000_123_456);
    assert_eq!(s.accessed, m.atime() * 1_000_000 + m.atime_nsec() / 1000);
    assert!(o.stub.is_none());
    let mut buf = String::new();
    let mut file = o.file;
    file.rewind().unwrap();
    file.read_to_string(&mut buf).unwrap();
    assert_eq!(buf, "hello, world", "the handle is the file");
}

#[tokio::test]
async fn refuses_a_symlink() {
    let (d, f) = dir_with(b"target");
    let l = d.path().join("l");
    std::os::unix::fs::symlink(&f, &l).unwrap();
    let e = open(d.path(), &l).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
    assert!(e.to_string().contains("symlink"), "{e}");
}

#[tokio::test]
async fn refuses_a_symlink_on_the_way() {
    let (d, _) = dir_with(b"x");
    let real = d.path().join("real");
    std::fs::create_dir(&real).unwrap();
    owned_file(&real.join("g"), b"g", 0, 0, 0o644);
    std::os::unix::fs::symlink(&real, d.path().join("link")).unwrap();
    let e = open(d.path(), &d.path().join("link/g")).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
    assert!(e.to_string().contains("symlink"), "{e}");
}

#[tokio::test]
async fn refuses_a_directory() {
    let (d, _) = dir_with(b"x");
    let sub = d.path().join("sub");
    std::fs::create_dir(&sub).unwrap();
    let e = open(d.path(), &sub).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
    assert!(e.to_string().contains("not a regular file"), "{e}");
}

#[tokio::test]
async fn refuses_a_fifo_without_blocking_on_it() {
    let (d, _) = dir_with(b"x");
    let fifo = d.path().join("fifo");
    let st = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(st.success());
    let e = tokio::time::timeout(std::time::Duration::from_secs(10), open(d.path(), &fifo))
        .await
        .expect("open does not wait for a writer")
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
}

#[tokio::test]
async fn a_missing_file_is_not_found() {
    let (d, _) = dir_with(b"x");
    let e = open(d.path(), &d.path().join("gone")).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    let e = open(d.path(), &d.path().join("no/dir/f"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
}

#[tokio::test]
async fn refuses_paths_that_are_not_beneath_the_root() {
    let (d, f) = dir_with(b"x");
    let root = d.path().join("root");
    std::fs::create_dir(&root).unwrap();
    let r = root.display().to_string();
    for path in [
        f.display().to_string(), // beside the root
        format!("{r}/../f"),     // climbing out
        "f".to_owned(),          // relative
        format!("{r}x/f"),       // a sibling sharing a prefix
        r.clone(),               // the root itself
    ] {
        let l = Located {
            root: root.clone(),
            recorded_root: r.clone(),
            path: path.clone(),
        };
        let e = PosixStubDriver.open(&l).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{path}: {e}");
        assert!(
            e.to_string().contains("not beneath the share root"),
            "{path}: {e}"
        );
    }
}

#[tokio::test]
async fn a_file_mounted_elsewhere_is_found_beneath_this_hosts_root() {
    let (d, f) = dir_with(b"mounted");
    let l = Located {
        root: d.path().to_path_buf(),
        recorded_root: "/srv/recorded".into(),
        path: "/srv/recorded/f".into(),
    };
    let o = PosixStubDriver.open(&l).await.unwrap();
    assert_eq!(o.stat.ino, std::fs::metadata(&f).unwrap().ino());
}

#[tokio::test]
async fn a_stub_opens_as_a_stub_with_the_originals_attributes() {
    let (d, f) = dir_with(&[7u8; 5000]);
    owned_file(&f, &[7u8; 5000], UID, GID, 0o640);
    set_mtime(&f, 1_400_000_000, 1);
    let info = stubbed(d.path(), &f).await;
    assert!(temporaries(d.path()).is_empty());
    let o = open(d.path(), &f).await.unwrap();
    assert_eq!(o.stub.as_ref(), Some(&info));
    assert_eq!(read_stub_at(&f).unwrap(), Some(info));
    let s = snap(&f);
    assert_eq!((s.uid, s.gid, s.mode & 0o7777), (UID, GID, 0o640));
    assert_eq!(s.mtime, (1_400_000_000, 1000));
    assert!(s.content.starts_with(alto_tier::STUB_MAGIC.as_bytes()));
    assert!(s.content.len() < 5000);
    // Stubbing a stub is refused.
    let again = info_of(&o.stat);
    let attrs = attrs_of(&o.stat);
    let e = PosixStubDriver.stub(o, &again, &attrs).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidTransition, "{e}");
}

#[tokio::test]
async fn a_file_written_after_it_was_opened_is_not_stubbed() {
    let (d, f) = dir_with(b"original");
    let o = open(d.path(), &f).await.unwrap();
    let (info, attrs) = (info_of(&o.stat), attrs_of(&o.stat));
    std::fs::OpenOptions::new()
        .append(true)
        .open(&f)
        .unwrap()
        .write_all(b" and more")
        .unwrap();
    let e = PosixStubDriver.stub(o, &info, &attrs).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict, "{e}");
    assert_eq!(std::fs::read(&f).unwrap(), b"original and more");
    assert!(temporaries(d.path()).is_empty());
}

#[tokio::test]
async fn a_name_that_now_leads_to_another_file_is_not_stubbed() {
    let (d, f) = dir_with(b"original");
    let o = open(d.path(), &f).await.unwrap();
    let (info, attrs) = (info_of(&o.stat), attrs_of(&o.stat));
    // Someone puts another file at the name (the opened one is unchanged).
    let other = d.path().join("other");
    owned_file(&other, b"someone else's", UID, GID, 0o600);
    std::fs::rename(&other, &f).unwrap();
    let before = snap(&f);
    let e = PosixStubDriver.stub(o, &info, &attrs).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict, "{e}");
    assert_eq!(snap(&f), before, "the new file is left as it is");
    assert!(temporaries(d.path()).is_empty());
}

#[tokio::test]
async fn staging_a_restore_needs_a_stub() {
    let (d, f) = dir_with(b"not a stub");
    let e = PosixStubDriver
        .stage_restore(&located(d.path(), &f))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidTransition, "{e}");
    let l = d.path().join("l");
    std::os::unix::fs::symlink(&f, &l).unwrap();
    let e = PosixStubDriver
        .stage_restore(&located(d.path(), &l))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidTransition, "{e}");
    assert_eq!(std::fs::read(&f).unwrap(), b"not a stub");
    assert!(temporaries(d.path()).is_empty());
}

#[tokio::test]
async fn an_aborted_restore_leaves_no_temporary() {
    let (d, f) = dir_with(&[1u8; 3000]);
    let info = stubbed(d.path(), &f).await;
    let stub_before = snap(&f);
    let staged = PosixStubDriver
        .stage_restore(&located(d.path(), &f))
        .await
        .unwrap();
    assert_eq!(staged.stub, info);
    assert_eq!(staged.stat.ino, stub_before.ino);
    let tmps = temporaries(d.path());
    assert_eq!(tmps.len(), 1, "{tmps:?}");
    let t = snap(&d.path().join(&tmps[0]));
    assert_eq!(
        (t.kind, t.uid, t.mode & 0o7777),
        ("file", 0, 0o600),
        "private"
    );
    PosixStubDriver.abort_restore(staged).await.unwrap();
    assert!(temporaries(d.path()).is_empty());
    assert_eq!(snap(&f), stub_before, "the stub stays");
}

#[tokio::test]
async fn a_finished_restore_has_the_given_owner_mode_and_time() {
    let (d, f) = dir_with(&[2u8; 3000]);
    stubbed(d.path(), &f).await;
    let mut staged = PosixStubDriver
        .stage_restore(&located(d.path(), &f))
        .await
        .unwrap();
    staged.file.write_all(&[2u8; 3000]).unwrap();
    let attrs = Attributes {
        uid: UID,
        gid: GID,
        mode: 0o4750,
        modified: 1_300_000_000_000_007,
        accessed: Some(1_300_000_001_000_000),
    };
    let notes = PosixStubDriver
        .finish_restore(staged, &attrs)
        .await
        .unwrap();
    assert!(notes.is_empty(), "{notes:?}");
    let s = snap(&f);
    assert_eq!(s.content, vec![2u8; 3000]);
    assert_eq!(
        (s.uid, s.gid, s.mode & 0o7777),
        (UID, GID, 0o4750),
        "set-user-ID kept: the file is its recorded owner's"
    );
    assert_eq!(s.mtime, (1_300_000_000, 7000));
    assert!(temporaries(d.path()).is_empty());
    assert!(read_stub_at(&f).unwrap().is_none());
}

#[tokio::test]
async fn a_restore_over_a_replaced_stub_is_refused() {
    let (d, f) = dir_with(&[3u8; 3000]);
    stubbed(d.path(), &f).await;
    let mut staged = PosixStubDriver
        .stage_restore(&located(d.path(), &f))
        .await
        .unwrap();
    staged.file.write_all(&[3u8; 3000]).unwrap();
    let other = d.path().join("other");
    owned_file(&other, b"new data", UID, GID, 0o644);
    std::fs::rename(&other, &f).unwrap();
    let before = snap(&f);
    let attrs = attrs_of(&staged.stat);
    let e = PosixStubDriver
        .finish_restore(staged, &attrs)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict, "{e}");
    assert_eq!(snap(&f), before, "the new file is left as it is");
    assert!(temporaries(d.path()).is_empty());
}

/// Hold `f` locked in another process (`how`: a command that takes the lock and then prints
/// `locked` and sleeps) until the returned child is killed.
fn hold_lock(script: &str) -> std::process::Child {
    let mut child = std::process::Command::new("/bin/sh")
        .arg("-c")
        .arg(script)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut buf = [0u8; 6];
    out.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"locked");
    child
}

#[tokio::test]
async fn a_file_locked_by_a_writer_is_tried_again_later() {
    let (d, f) = dir_with(b"being written");
    let q = |p: &Path| format!("'{}'", p.display());
    for script in [
        // flock(2), exclusive, as `flock` takes it.
        format!("exec flock -x -o {} sh -c 'echo locked; sleep 30'", q(&f)),
        // A POSIX (fcntl) write lock, as lockf(3) and most databases take it.
        format!(
            "exec python3 -c \"import fcntl,sys,time; f=open({}, 'r+'); fcntl.lockf(f, fcntl.LOCK_EX); print('locked', flush=True); time.sleep(30)\"",
            q(&f)
        ),
    ] {
        let mut child = hold_lock(&script);
        let e = open(d.path(), &f).await.unwrap_err();
        child.kill().unwrap();
        child.wait().unwrap();
        assert_eq!(e.kind(), ErrorKind::Conflict, "{script}: {e}");
        assert!(e.is_retryable(), "{e}");
        assert!(e.to_string().contains("locked by a writer"), "{e}");
        // Once the writer is gone, the file opens.
        open(d.path(), &f).await.unwrap();
    }
}

/// A stub file as the driver writes one, with `body` as its record.
fn stub_text(target: &str) -> String {
    format!(
        "{}{}\n",
        alto_tier::STUB_MAGIC,
        serde_json::json!({
            "target_uri": target,
            "size": 5,
            "sha256": "0".repeat(64),
            "modified": 1,
            "accessed": null,
            "tenant": "acme",
        })
    )
}

/// Looking for stubs beneath a share's root: every stub (and a damaged one) is found, nothing is
/// followed through a symlink, other shares' roots and temporaries are left out, a FIFO does not
/// block the walk, and no file's access time moves.
#[tokio::test]
async fn finds_the_stubs_beneath_a_root_and_follows_no_symlink() {
    let root = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let r = root.path();
    std::fs::create_dir_all(r.join("a/b/c")).unwrap();
    std::fs::create_dir_all(r.join("other")).unwrap();
    std::fs::write(
        r.join("a/one.mov"),
        stub_text("file:///t/acme/data/a/one.mov.~1.1"),
    )
    .unwrap();
    std::fs::write(
        r.join("a/b/c/two.mov"),
        stub_text("file:///t/acme/data/a/b/c/two.mov.~2.1"),
    )
    .unwrap();
    std::fs::write(r.join("a/plain.txt"), b"#ALTO-STUB v0\nnot one").unwrap();
    std::fs::write(r.join("a/big.bin"), vec![b'#'; 100_000]).unwrap();
    std::fs::write(r.join("a/tiny"), b"#").unwrap();
    std::fs::write(
        r.join("damaged"),
        format!("{}{{\"target_uri\": 3", alto_tier::STUB_MAGIC),
    )
    .unwrap();
    std::fs::write(r.join("other/three.mov"), stub_text("file:///t/x")).unwrap();
    std::fs::write(r.join("a/.alto-tmp-1-x"), stub_text("file:///t/tmp")).unwrap();
    std::fs::write(outside.path().join("far.mov"), stub_text("file:///t/far")).unwrap();
    std::os::unix::fs::symlink(outside.path(), r.join("a/dirlink")).unwrap();
    std::os::unix::fs::symlink(outside.path().join("far.mov"), r.join("a/filelink.mov")).unwrap();
    let st = std::process::Command::new("mkfifo")
        .arg(r.join("a/fifo"))
        .status()
        .unwrap();
    assert!(st.success());
    // Old access times, which looking must not move.
    let old = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000_000);
    for f in ["a/one.mov", "a/plain.txt", "a/tiny"] {
        let f = std::fs::File::options()
            .write(true)
            .open(r.join(f))
            .unwrap();
        f.set_times(std::fs::FileTimes::new().set_accessed(old))
            .unwrap();
    }
    let scan = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        PosixStubDriver.find_stubs(r, &[r.join("other"), r.join("nowhere")]),
    )
    .await
    .expect("a FIFO does not block the walk")
    .unwrap();
    assert!(scan.complete(), "{:?}", scan.problems);
    let mut found: Vec<(String, Option<String>)> = scan
        .stubs
        .iter()
        .map(|s| {
            (
                s.relative.clone(),
                s.info.as_ref().map(|i| i.target_uri.clone()),
            )
        })
        .collect();
    found.sort();
    assert_eq!(
        found,
        [
            (
                "a/b/c/two.mov".to_string(),
                Some("file:///t/acme/data/a/b/c/two.mov.~2.1".to_string())
            ),
            (
                "a/one.mov".to_string(),
                Some("file:///t/acme/data/a/one.mov.~1.1".to_string())
            ),
            ("damaged".to_string(), None),
        ]
    );
    assert_eq!(scan.directories, 4, "root, a, a/b, a/b/c");
    for f in ["a/one.mov", "a/plain.txt", "a/tiny"] {
        let m = std::fs::metadata(r.join(f)).unwrap();
        assert_eq!(m.accessed().unwrap(), old, "{f}: access time kept");
    }
    // A root that is not there is an error of the whole walk.
    let e = PosixStubDriver
        .find_stubs(&r.join("nowhere"), &[])
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
}
