//! The two traits that reach the outside world: a tier target (where data goes) and a stub driver
//! (what replaces a file on primary storage).
//!
//! Implementations arrive with the tiering work: targets on the `object_store` crate (`file://`,
//! `s3://`, `az://`), the reference POSIX stub driver, and, outside this repository, a Windows
//! agent's driver (EaseFilter or Cloud Files placeholders). The contracts are fixed here so each
//! can be written and tested on its own.

use crate::error::Result;
use crate::time::Micros;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// What a target holds for one key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectInfo {
    /// The object key under the target.
    pub key: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the content, lower-case hex, when the target knows it.
    pub sha256: Option<String>,
}

/// Tier-2 storage.
#[async_trait]
pub trait TierTarget: Send + Sync + std::fmt::Debug {
    /// The target's URI (`file:///srv/tier2/`, `s3://bucket/prefix/`).
    fn uri(&self) -> &str;

    /// Stream a local file to `key`, hashing it on the way.
    ///
    /// # Behavior
    /// - Returns the size and SHA-256 of what was read; the object becomes visible only complete
    ///   (no reader ever sees a partial object under `key`).
    /// - `key` is relative; a key that would leave the target (`..`, absolute) is `InvalidInput`.
    async fn put_file(&self, key: &str, local: &Path) -> Result<ObjectInfo>;

    /// Size and hash of the stored object, recomputed from its bytes.
    ///
    /// # Behavior
    /// - `NotFound` when there is no object at `key`.
    async fn verify(&self, key: &str) -> Result<ObjectInfo>;

    /// Fetch `key` into a local file (created or truncated), returning size and hash.
    async fn get_file(&self, key: &str, local: &Path) -> Result<ObjectInfo>;

    /// Every object under `prefix` (for reconciliation).
    async fn list(&self, prefix: &str) -> Result<Vec<ObjectInfo>>;
}

/// What a stub records about the file it replaced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StubInfo {
    /// Where the data is.
    pub target_uri: String,
    /// Original size.
    pub size: u64,
    /// SHA-256 of the original content.
    pub sha256: String,
    /// Original last-modified time.
    pub modified: Micros,
    /// Original last-accessed time.
    pub accessed: Option<Micros>,
    /// Tenant name.
    pub tenant: String,
}

/// Replaces files with stubs and restores them, on one kind of file system.
#[async_trait]
pub trait StubDriver: Send + Sync + std::fmt::Debug {
    /// The driver's name (`posix`, `easefilter`, `cloudfiles`).
    fn name(&self) -> &'static str;

    /// Whether `path` is a stub of this driver.
    async fn is_stub(&self, path: &Path) -> Result<bool>;

    /// The stub's record.
    ///
    /// # Behavior
    /// - `InvalidInput` when `path` is a regular file, not a stub.
    async fn read_stub(&self, path: &Path) -> Result<StubInfo>;

    /// Atomically replace the regular file at `path` with a stub describing `info`.
    ///
    /// # Behavior
    /// - Called only after the copy is verified. The swap is atomic (rename over the original,
    ///   then fsync): after a crash the path holds either the original bytes or a valid stub.
    /// - Keeps the original permissions and mtime.
    /// - `InvalidTransition` when `path` is already a stub; `Conflict` when the file's size or
    ///   mtime no longer match `info` (it changed since it was copied).
    async fn stub(&self, path: &Path, info: &StubInfo) -> Result<()>;

    /// Atomically replace the stub at `path` with the verified content in `content`.
    ///
    /// # Behavior
    /// - `InvalidTransition` when `path` is not a stub; the content's hash must match the stub's
    ///   or nothing changes (`Conflict`).
    async fn restore(&self, path: &Path, content: &Path) -> Result<()>;
}
