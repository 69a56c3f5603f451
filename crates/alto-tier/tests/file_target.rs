//! The `file://` tier target on a real directory.

use alto_core::ErrorKind;
use alto_core::driver::TierTarget;
use alto_tier::{ObjectTarget, sha256_file};

mod support;

#[tokio::test]
async fn put_verify_get_list_small_and_large() {
    let tier = tempfile::tempdir().unwrap();
    let src = tempfile::tempdir().unwrap();
    let uri = format!("file://{}/acme/video/", tier.path().display());
    let t = ObjectTarget::open(&uri).unwrap();
    assert_eq!(t.uri(), uri);
    for (name, len) in [("small.bin", 1000usize), ("large.bin", 20 << 20)] {
        let p = src.path().join(name);
        let data: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
        std::fs::write(&p, &data).unwrap();
        let key = format!("c:/data/projects/{name}");
        let put = t.put_file(&key, &p).await.unwrap();
        let (size, sha) = sha256_file(&p).await.unwrap();
        assert_eq!(
            (put.size, put.sha256.as_deref()),
            (size, Some(sha.as_str()))
        );
        let v = t.verify(&key).await.unwrap();
        assert_eq!(v, put);
        let back = src.path().join(format!("{name}.back"));
        let got = t.get_file(&key, &back).await.unwrap();
        assert_eq!(got, put);
        assert_eq!(std::fs::read(&back).unwrap(), data);
        // Stored as a plain file under the target directory.
        let stored = tier.path().join("acme/video/c:/data/projects").join(name);
        assert_eq!(std::fs::metadata(stored).unwrap().len(), len as u64);
    }
    let mut listed: Vec<_> = t
        .list("c:/data")
        .await
        .unwrap()
        .into_iter()
        .map(|o| (o.key, o.size))
        .collect();
    listed.sort();
    assert_eq!(
        listed,
        [
            ("c:/data/projects/large.bin".to_string(), 20 << 20),
            ("c:/data/projects/small.bin".to_string(), 1000)
        ]
    );
    assert_eq!(
        t.verify("c:/nope").await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
}

#[tokio::test]
async fn file_list_pages_and_delete() {
    let tier = tempfile::tempdir().unwrap();
    let t = ObjectTarget::open(&format!("file://{}/t/", tier.path().display())).unwrap();
    support::checks::list_pages_and_delete(&t).await;
}

/// A listing never follows a symlink out of the target, and never lists temporaries or
/// anything that is not a regular file.
#[tokio::test]
async fn file_listing_stays_in_the_target() {
    let tier = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret"), b"s").unwrap();
    std::fs::create_dir_all(outside.path().join("d")).unwrap();
    std::fs::write(outside.path().join("d/x"), b"x").unwrap();
    let root = tier.path().join("t");
    let t = ObjectTarget::open(&format!("file://{}/", root.display())).unwrap();
    let src = tier.path().join("src");
    std::fs::write(&src, b"data").unwrap();
    t.put_file("acme/s/a.~1.1", &src).await.unwrap();
    std::os::unix::fs::symlink(outside.path().join("secret"), root.join("acme/s/link")).unwrap();
    std::os::unix::fs::symlink(outside.path().join("d"), root.join("acme/s/dirlink")).unwrap();
    std::os::unix::fs::symlink(outside.path(), root.join("acme/linked")).unwrap();
    std::fs::write(root.join("acme/s/.alto-tmp-1-x"), b"t").unwrap();
    let keys: Vec<String> = t
        .list("acme")
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.key)
        .collect();
    assert_eq!(keys, ["acme/s/a.~1.1"]);
    assert!(t.list("acme/linked").await.unwrap().is_empty());
    assert!(t.list("acme/s/dirlink").await.unwrap().is_empty());
}

#[tokio::test]
async fn keys_never_escape_the_target() {
    let tier = tempfile::tempdir().unwrap();
    let src = tempfile::NamedTempFile::new().unwrap();
    let t = ObjectTarget::open(&format!("file://{}/t/", tier.path().display())).unwrap();
    let e = t.put_file("/a/../../escape", src.path()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
    // An absolute key lands under the target, not at the root.
    t.put_file("/etc/alto-test", src.path()).await.unwrap();
    assert!(tier.path().join("t/etc/alto-test").exists());
}

#[test]
fn bad_target_uris() {
    for (uri, kind) in [
        ("ftp://x/", ErrorKind::Unsupported),
        ("no-scheme", ErrorKind::InvalidInput),
        ("file://relative/dir", ErrorKind::InvalidInput),
        ("file:///tmp/../etc", ErrorKind::InvalidInput),
        ("s3:///prefix", ErrorKind::InvalidInput),
    ] {
        let e = ObjectTarget::open(uri).unwrap_err();
        assert_eq!(e.kind(), kind, "{uri}: {e}");
        assert!(e.to_string().contains(uri), "{e}");
    }
}

#[tokio::test]
async fn path_helpers_never_follow_a_symlink() {
    let tier = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let t = ObjectTarget::open(&format!("file://{}/t/", tier.path().display())).unwrap();
    let src = work.path().join("src");
    std::fs::write(&src, b"data").unwrap();
    t.put_file("k", &src).await.unwrap();
    let victim = work.path().join("victim");
    std::fs::write(&victim, b"keep").unwrap();
    let link = work.path().join("link");
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    assert!(
        t.get_file("k", &link).await.is_err(),
        "fetch through a symlink"
    );
    assert_eq!(std::fs::read(&victim).unwrap(), b"keep");
    assert!(
        t.put_file("k2", &link).await.is_err(),
        "upload through a symlink"
    );
}
