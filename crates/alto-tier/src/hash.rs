//! SHA-256 while bytes stream past.

use alto_core::{Error, Result};
use sha2::{Digest, Sha256};
use std::path::Path;
use tokio::io::AsyncReadExt;

/// Counts and hashes bytes.
#[derive(Debug, Default, Clone)]
pub struct Sha256Sink {
    hasher: Sha256,
    len: u64,
}

impl Sha256Sink {
    /// Feed bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        self.hasher.update(bytes);
        self.len += bytes.len() as u64;
    }

    /// Bytes seen and the lower-case hex digest.
    pub fn finish(self) -> (u64, String) {
        let digest = self.hasher.finalize();
        let mut hex = String::with_capacity(64);
        for b in digest {
            hex.push_str(&format!("{b:02x}"));
        }
        (self.len, hex)
    }
}

/// Size and SHA-256 of a local file.
pub async fn sha256_file(path: &Path) -> Result<(u64, String)> {
    let mut f = tokio::fs::File::open(path)
        .await
        .map_err(|e| Error::from(e).prefixed(&format!("cannot open {}", path.display())))?;
    let mut buf = vec![0u8; 1 << 20];
    let mut sink = Sha256Sink::default();
    loop {
        let n = f.read(&mut buf).await?;
        if n == 0 {
            return Ok(sink.finish());
        }
        sink.update(&buf[..n]);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn known_digest() {
        let mut s = super::Sha256Sink::default();
        s.update(b"ab");
        s.update(b"c");
        assert_eq!(
            s.finish(),
            (
                3,
                "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad".to_string()
            )
        );
    }
}
