//! Checks every object-store tier target must pass, whatever the service behind it.

use alto_core::driver::TierTarget;
use alto_tier::{ObjectTarget, sha256_file};

/// Put two files (one past the multipart threshold) under a key with quotes, commas and a UNC
/// prefix; each is hashed on the way, verifies, and comes back byte for byte; both are listed.
pub async fn put_verify_get_list(t: &ObjectTarget) {
    let src = tempfile::tempdir().unwrap();
    for (name, len) in [("a.bin", 5000usize), ("big.bin", 12 << 20)] {
        let p = src.path().join(name);
        let data: Vec<u8> = (0..len).map(|i| (i % 253) as u8).collect();
        std::fs::write(&p, &data).unwrap();
        let key = format!("//fs01/share/q \"x\",y/{name}");
        let put = t.put_file(&key, &p).await.unwrap();
        assert_eq!(
            Some(put.sha256.clone().unwrap()),
            Some(sha256_file(&p).await.unwrap().1)
        );
        assert_eq!(t.verify(&key).await.unwrap(), put);
        let back = src.path().join("back");
        t.get_file(&key, &back).await.unwrap();
        assert_eq!(std::fs::read(&back).unwrap(), data);
    }
    let listed = t.list("fs01").await.unwrap();
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert!(
        listed
            .iter()
            .any(|o| o.key == "fs01/share/q \"x\",y/big.bin" && o.size == 12 << 20),
        "{listed:?}"
    );
}

/// An entity tag without its quotes (S3 quotes them, Azure lists them bare).
fn bare(etag: &str) -> &str {
    etag.trim_start_matches("W/").trim_matches('"')
}

/// Listing page by page under a prefix of whole segments, with sizes, times and entity tags, and
/// deleting: what reconciliation asks of every target.
pub async fn list_pages_and_delete(t: &ObjectTarget) {
    use alto_core::ErrorKind;
    let src = tempfile::tempdir().unwrap();
    let before = alto_core::time::now_micros() - 120_000_000;
    let keys = [
        "acme/data/a.~1.1",
        "acme/data/b/c.~2.1",
        "acme/data/b.x.~3.1",
        "acme/data/q \"x\",y/%41~[1].~6.1",
        "acme/data/z/y/x.~7.1",
        "acme/other/d.~4.1",
        "acmex/e.~5.1",
    ];
    let mut put = std::collections::BTreeMap::new();
    for (i, key) in keys.iter().enumerate() {
        let p = src.path().join(format!("f{i}"));
        std::fs::write(&p, vec![b'x'; 10 + i]).unwrap();
        put.insert(key.to_string(), t.put_file(key, &p).await.unwrap());
    }
    let all = |prefix: &'static str, limit: usize| async move {
        let mut token: Option<String> = None;
        let mut out = Vec::new();
        loop {
            let page = t.list_page(prefix, token.as_deref(), limit).await.unwrap();
            assert!(page.objects.len() <= limit, "{prefix}: {page:?}");
            out.extend(page.objects);
            match page.next {
                Some(n) => token = Some(n),
                None => return out,
            }
        }
    };
    for (prefix, want) in [("acme/", 6), ("acme", 6), ("acme/data", 5), ("", 7)] {
        for limit in [1, 2, 1000] {
            let listed = all(prefix, limit).await;
            let mut got: Vec<&str> = listed.iter().map(|o| o.key.as_str()).collect();
            got.sort_unstable();
            let mut expect: Vec<&str> = keys
                .iter()
                .copied()
                .filter(|k| {
                    prefix.is_empty()
                        || k.starts_with(&format!("{}/", prefix.trim_end_matches('/')))
                })
                .collect();
            expect.sort_unstable();
            assert_eq!(got.len(), want, "{prefix:?} by {limit}: {got:?}");
            assert_eq!(got, expect, "{prefix:?} by {limit}: each once");
            for o in &listed {
                let p = &put[&o.key];
                assert_eq!(o.size, p.size, "{}", o.key);
                let m = o.modified.expect("a listing gives times");
                assert!(
                    m > before && m < alto_core::time::now_micros() + 120_000_000,
                    "{m}"
                );
                if let (Some(a), Some(b)) = (&o.etag, &p.etag) {
                    assert_eq!(bare(a), bare(b), "{}: listed and stored entity tags", o.key);
                }
            }
        }
    }
    assert!(all("nothing/here", 10).await.is_empty());
    let e = t.list_page("acme/../x", None, 10).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
    // Deleting one object leaves the others.
    t.delete("acme/data/a.~1.1").await.unwrap();
    assert_eq!(
        t.verify("acme/data/a.~1.1").await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
    assert_eq!(all("acme/data", 3).await.len(), 4);
    match t.delete("acme/data/a.~1.1").await {
        Ok(()) => {}
        Err(e) => assert_eq!(e.kind(), ErrorKind::NotFound, "{e}"),
    }
    assert!(t.delete("../x").await.is_err());
}
