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
