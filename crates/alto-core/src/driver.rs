//! The two traits that reach the outside world: a tier target (where data goes) and a stub driver
//! (what replaces a file on primary storage).
//!
//! Implementations arrive with the tiering work: targets on the `object_store` crate (`file://`,
//! `s3://`, `az://`), the reference POSIX stub driver, and, outside this repository, a Windows
//! agent's driver (EaseFilter or Cloud Files placeholders). The contracts are fixed here so each
//! can be written and tested on its own.

use crate::error::Result;
use crate::time::Micros;
use crate::types::StoredObject;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// What a target holds for one key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectInfo {
    /// The object key under the target.
    pub key: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the content, lower-case hex, when the target knows it.
    pub sha256: Option<String>,
    /// The target's entity tag, when it gives one.
    #[serde(default)]
    pub etag: Option<String>,
    /// When the object was written, as a listing reports it (`None` from `put`, `verify` and
    /// `get`, and where the target does not say).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified: Option<Micros>,
}

/// One page of a target's listing ([`TierTarget::list_page`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectPage {
    /// The objects, in the target's order.
    pub objects: Vec<ObjectInfo>,
    /// Pass as `token` for the next page; `None` at the end.
    pub next: Option<String>,
}

/// Page size of [`TierTarget::list`] (S3 and Azure Blob return at most 1,000 and 5,000 per
/// request).
pub const LIST_PAGE: usize = 1000;

/// Tier-2 storage.
///
/// Objects are never overwritten: every write is create-if-absent, and keys are unique per
/// tenant, share and incarnation ([`crate::worker::object_key_of`]). Data moves through file
/// handles the stub driver opened and checked, never through a path the target would resolve.
#[async_trait]
pub trait TierTarget: Send + Sync + std::fmt::Debug {
    /// The target's URI (`file:///srv/tier2/`, `s3://bucket/prefix/`).
    fn uri(&self) -> &str;

    /// Stream the whole content of `file` (from its start) to a new object at `key`, hashing it
    /// on the way.
    ///
    /// # Behavior
    /// - Create-if-absent: an object already at `key` is `AlreadyExists` and stays as it was.
    /// - Returns the size and SHA-256 of what was read; the object becomes visible only complete
    ///   (no reader ever sees a partial object under `key`).
    /// - `key` is relative; a key that would leave the target (`..`, absolute) is `InvalidInput`.
    /// - Transient failures (network, 5xx, throttling) are retryable errors.
    async fn put(&self, key: &str, file: std::fs::File) -> Result<ObjectInfo>;

    /// Size and hash of the stored object, recomputed from its bytes.
    ///
    /// # Behavior
    /// - `NotFound` when there is no object at `key`.
    async fn verify(&self, key: &str) -> Result<ObjectInfo>;

    /// Write the object at `key` into `file` (an empty file the caller created), returning size
    /// and hash of what was written. The file is synced before this returns.
    async fn get(&self, key: &str, file: std::fs::File) -> Result<ObjectInfo>;

    /// One page of the objects whose keys lie under `prefix`, for reconciliation.
    ///
    /// # Behavior
    /// - `prefix` is whole key segments (`acme/` and `acme` both list `acme/…`, never `acmex/…`);
    ///   empty lists the whole target. A prefix with a `..` segment is `InvalidInput`.
    /// - Keys come back as they were given to [`put`](Self::put) (relative to the target, `/`
    ///   between segments), each with its size, entity tag and last-modified time where the
    ///   target gives them; never a temporary of an upload in progress.
    /// - At most `limit` objects (0: the target's default); `next` is the token of the following
    ///   page, opaque, or `None` at the end. Objects written or removed meanwhile may or may not
    ///   be listed; the others are listed exactly once.
    async fn list_page(
        &self,
        prefix: &str,
        token: Option<&str>,
        limit: usize,
    ) -> Result<ObjectPage>;

    /// Every object under `prefix`: [`list_page`](Self::list_page) to the end.
    async fn list(&self, prefix: &str) -> Result<Vec<ObjectInfo>> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = self.list_page(prefix, token.as_deref(), LIST_PAGE).await?;
            out.extend(page.objects);
            match page.next {
                Some(t) => token = Some(t),
                None => return Ok(out),
            }
        }
    }

    /// Remove the object at `key` (reconciliation's orphans).
    ///
    /// # Behavior
    /// - `NotFound` when there is no object at `key` (on targets that say so; S3 does not).
    /// - `key` is relative; a key that would leave the target is `InvalidInput`.
    async fn delete(&self, key: &str) -> Result<()>;
}

/// What a stub records about the file it replaced. The stub is a file its owner may rewrite:
/// rehydration trusts the catalogue's [`StoredObject`], never this.
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

/// A stub a driver found beneath a share's root ([`StubDriver::find_stubs`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FoundStub {
    /// Its path beneath the root: the components, joined with `/` (a name that is not UTF-8 is
    /// shown lossily, and so matches no catalogue path).
    pub relative: String,
    /// What it says — a claim, its owner may have written it — or `None` when it has the stub
    /// header but a damaged record.
    pub info: Option<StubInfo>,
    /// Its size in bytes.
    pub size: u64,
    /// Its owner.
    pub uid: u32,
}

/// What [`StubDriver::find_stubs`] found beneath a root.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StubScan {
    /// The stubs, in the order the walk met them.
    pub stubs: Vec<FoundStub>,
    /// Directories walked.
    pub directories: u64,
    /// Regular files looked at.
    pub files: u64,
    /// What could not be looked at (a directory that could not be opened or read, one too
    /// deep): the scan is then incomplete.
    pub problems: Vec<String>,
}

impl StubScan {
    /// Whether every directory beneath the root was walked.
    pub fn complete(&self) -> bool {
        self.problems.is_empty()
    }
}

/// A file a worker is to act on: the share's root on this host and the path as the catalogue
/// has it (which must lie beneath the root, see [`crate::path::components_beneath`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    /// The share's root directory on this host.
    pub root: PathBuf,
    /// The recorded root the path is written under (the share's root in the catalogue; differs
    /// from `root` when this host mounts the share elsewhere).
    pub recorded_root: String,
    /// The path as received.
    pub path: String,
}

/// What `fstat` said about an opened file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FileStat {
    /// Device.
    pub dev: u64,
    /// Inode.
    pub ino: u64,
    /// Size in bytes.
    pub size: u64,
    /// Last modified.
    pub modified: Micros,
    /// Last accessed.
    pub accessed: Micros,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
    /// Permission, set-id and sticky bits.
    pub mode: u32,
    /// Hard links.
    pub nlink: u64,
}

/// A file a driver opened and checked. The worker hashes and uploads from [`Opened::file`] and
/// hands the whole value back to [`StubDriver::stub`], which acts on the same file.
#[derive(Debug)]
pub struct Opened {
    /// What the file was when opened.
    pub stat: FileStat,
    /// The open file (read-only).
    pub file: std::fs::File,
    /// Set when the file is one of this driver's stubs.
    pub stub: Option<StubInfo>,
    /// The driver's own state (the directory handle and name).
    pub handle: Box<dyn std::any::Any + Send + Sync>,
}

/// A restore in progress: a private temporary beside a stub, for the worker to fill.
#[derive(Debug)]
pub struct Staged {
    /// The stub being replaced, as opened.
    pub stat: FileStat,
    /// The stub's record (for objects stubbed before the catalogue kept one).
    pub stub: StubInfo,
    /// The temporary, open for writing, empty.
    pub file: std::fs::File,
    /// The driver's own state.
    pub handle: Box<dyn std::any::Any + Send + Sync>,
}

/// Owner, mode and times a driver gives a file it writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attributes {
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
    /// Permission, set-id and sticky bits. Set-id bits are given only when the file really
    /// ends up owned by `uid` (and `gid` for set-group-ID).
    pub mode: u32,
    /// Last modified.
    pub modified: Micros,
    /// Last accessed (`None`: now).
    pub accessed: Option<Micros>,
}

impl Attributes {
    /// The attributes a catalogue record restores.
    pub fn of(stored: &StoredObject, accessed: Option<Micros>) -> Self {
        Attributes {
            uid: stored.uid,
            gid: stored.gid,
            mode: stored.mode,
            modified: stored.modified,
            accessed,
        }
    }
}

/// Replaces files with stubs and restores them, on one kind of file system.
///
/// Every call resolves a [`Located`] beneath its root without following a symlink, acts on the
/// file handle it checked, and writes temporaries with unpredictable names, created exclusively
/// and private. What could not be done fully (a non-root worker cannot give a file away) comes
/// back as notes, not as silence.
#[async_trait]
pub trait StubDriver: Send + Sync + std::fmt::Debug {
    /// The driver's name (`posix`, `easefilter`, `cloudfiles`).
    fn name(&self) -> &'static str;

    /// Open the file at `file` and say what it is.
    ///
    /// # Behavior
    /// - `NotFound` when it is gone; `InvalidInput` when it is not a regular file (a symlink, a
    ///   directory, a device) or a path component is a symlink or lies outside the root.
    /// - A stub of this driver comes back with [`Opened::stub`] set.
    async fn open(&self, file: &Located) -> Result<Opened>;

    /// Replace the opened regular file with a stub describing `info`, with `attrs`.
    ///
    /// # Behavior
    /// - Called only after the copy is verified. The swap is atomic: after a crash the name holds
    ///   the original bytes or a valid stub.
    /// - `Conflict` when the file changed since it was opened (size, mtime) or its name no longer
    ///   leads to it (device and inode); the original is kept.
    /// - Returns notes on what could not be applied (owner, as a non-root worker).
    async fn stub(
        &self,
        opened: Opened,
        info: &StubInfo,
        attrs: &Attributes,
    ) -> Result<Vec<String>>;

    /// Open the stub at `file` and create a private temporary beside it.
    ///
    /// # Behavior
    /// - `InvalidTransition` when `file` is not a stub.
    /// - Removes temporaries of this driver that a crash left in that directory.
    async fn stage_restore(&self, file: &Located) -> Result<Staged>;

    /// Give the filled temporary `attrs` and swap it in for the stub.
    ///
    /// # Behavior
    /// - `Conflict` when the name no longer leads to the stub that was staged; nothing changes.
    /// - The temporary is removed on every failure.
    async fn finish_restore(&self, staged: Staged, attrs: &Attributes) -> Result<Vec<String>>;

    /// Remove a staged temporary.
    async fn abort_restore(&self, staged: Staged) -> Result<()>;

    /// Every stub of this driver beneath `root`, a share's root on this host (reconciliation's
    /// stubs the catalogue does not know).
    ///
    /// # Behavior
    /// - `root` is opened as written (the administrator's path); everything beneath it is
    ///   reached by file descriptor, one directory at a time, never through a symlink, and the
    ///   directories in `skip` (the roots of other shares beneath this one, on this host) are
    ///   not entered.
    /// - Only regular files are read, and only as much as tells a stub; no file is changed (nor
    ///   its access time, where the process may say so).
    /// - What cannot be looked at goes to [`StubScan::problems`]; `Err` only when the root
    ///   itself cannot be opened.
    /// - The default is `Unsupported`.
    async fn find_stubs(&self, root: &std::path::Path, skip: &[PathBuf]) -> Result<StubScan> {
        let _ = (root, skip);
        Err(crate::Error::new(
            crate::ErrorKind::Unsupported,
            format!("the {} stub driver cannot look for stubs", self.name()),
        ))
    }
}
