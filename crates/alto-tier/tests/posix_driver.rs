//! The POSIX stub driver on a real directory: stub, refuse, restore, keep attributes.

use alto_core::ErrorKind;
use alto_core::driver::{StubDriver, StubInfo};
use alto_tier::{PosixStubDriver, STUB_MAGIC, sha256_file};
use filetime::FileTime;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

fn mtime_micros(p: &Path) -> i64 {
    let t = FileTime::from_last_modification_time(&std::fs::metadata(p).unwrap());
    t.unix_seconds() * 1_000_000 + i64::from(t.nanoseconds() / 1000)
}

async fn original(dir: &Path, name: &str, bytes: &[u8]) -> (std::path::PathBuf, StubInfo) {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o640)).unwrap();
    filetime::set_file_mtime(&p, FileTime::from_unix_time(1_600_000_000, 123_456_000)).unwrap();
    let (size, sha256) = sha256_file(&p).await.unwrap();
    let info = StubInfo {
        target_uri: "file:///tier/x".into(),
        size,
        sha256,
        modified: mtime_micros(&p),
        accessed: Some(1_650_000_000_000_000),
        tenant: "acme".into(),
    };
    (p, info)
}

#[tokio::test]
async fn stub_and_restore_keep_bytes_permissions_and_mtime() {
    let dir = tempfile::tempdir().unwrap();
    let data: Vec<u8> = (0..100_000u32).flat_map(|i| i.to_le_bytes()).collect();
    let (p, info) = original(dir.path(), "clip \"1\",\n.mov", &data).await;
    let d = PosixStubDriver;
    assert!(!d.is_stub(&p).await.unwrap());
    let kept = dir.path().join("kept-copy");
    std::fs::copy(&p, &kept).unwrap();

    d.stub(&p, &info).await.unwrap();
    assert!(d.is_stub(&p).await.unwrap());
    let text = std::fs::read_to_string(&p).unwrap();
    assert!(text.starts_with(STUB_MAGIC));
    assert!(text.len() < 4096, "a stub is small");
    assert_eq!(d.read_stub(&p).await.unwrap(), info);
    let meta = std::fs::metadata(&p).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o640);
    assert_eq!(
        mtime_micros(&p),
        info.modified,
        "the stub keeps the original mtime"
    );

    // Tiering a stub is refused.
    assert_eq!(
        d.stub(&p, &info).await.unwrap_err().kind(),
        ErrorKind::InvalidTransition
    );

    // Wrong content: refused, stub kept.
    let wrong = dir.path().join("wrong");
    std::fs::write(&wrong, b"not the data").unwrap();
    let e = d.restore(&p, &wrong).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict, "{e}");
    assert!(d.is_stub(&p).await.unwrap());

    // Right content from another directory.
    let other = tempfile::tempdir().unwrap();
    let fetched = other.path().join("fetched");
    std::fs::copy(&kept, &fetched).unwrap();
    d.restore(&p, &fetched).await.unwrap();
    assert_eq!(std::fs::read(&p).unwrap(), data);
    assert_eq!(
        std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
        0o640
    );
    assert_eq!(mtime_micros(&p), info.modified);
    assert!(
        fetched.exists(),
        "content from another directory is copied, not moved"
    );

    // Rehydrating a regular file is refused.
    let e = d.restore(&p, &fetched).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidTransition, "{e}");
    // No temporary files are left behind.
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("alto-tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[tokio::test]
async fn a_changed_file_is_never_stubbed() {
    let dir = tempfile::tempdir().unwrap();
    let (p, info) = original(dir.path(), "doc.txt", b"version 1").await;
    std::fs::write(&p, b"version 2, longer").unwrap();
    let e = PosixStubDriver.stub(&p, &info).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict, "{e}");
    assert_eq!(std::fs::read(&p).unwrap(), b"version 2, longer");
}

#[tokio::test]
async fn regular_files_that_look_odd_are_not_stubs() {
    let dir = tempfile::tempdir().unwrap();
    let d = PosixStubDriver;
    let empty = dir.path().join("empty");
    std::fs::write(&empty, b"").unwrap();
    assert!(!d.is_stub(&empty).await.unwrap());
    let bin = dir.path().join("bin");
    std::fs::write(&bin, [0xff, 0xfe, 0, 1]).unwrap();
    assert!(!d.is_stub(&bin).await.unwrap());
    assert_eq!(
        d.read_stub(&bin).await.unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    let damaged = dir.path().join("damaged");
    std::fs::write(&damaged, format!("{STUB_MAGIC}{{not json")).unwrap();
    let e = d.is_stub(&damaged).await.unwrap_err();
    assert!(e.to_string().contains("damaged"), "{e}");
    assert_eq!(
        d.is_stub(dir.path()).await.unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
}
