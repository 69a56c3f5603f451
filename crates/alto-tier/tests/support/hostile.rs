//! Test support: a hostile local user, uid and gid 54321 (no account needed), and a root-only
//! victim beside the directories that user owns.
//!
//! The attacker's filesystem actions (`mv`, `ln -s`, writing files) run in a child process with
//! that uid and gid, so the kernel checks them as it would a real user's. What the attacker may
//! not touch is created by the test (root) with private modes, and is compared before and after
//! with [`tree`].

#![allow(dead_code, unreachable_pub)]

use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The attacker's uid.
pub const UID: u32 = 54321;
/// The attacker's gid.
pub const GID: u32 = 54321;

static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Hold this for the whole test: the failpoint hook and the umask are process-wide. (A tokio
/// mutex: it is held across awaits, and a failed test does not poison it for the others.)
pub async fn serial() -> tokio::sync::MutexGuard<'static, ()> {
    SERIAL.lock().await
}

/// Quote `s` for `sh`.
pub fn sq(s: impl AsRef<Path>) -> String {
    format!(
        "'{}'",
        s.as_ref().display().to_string().replace('\'', "'\\''")
    )
}

/// Run `script` with `sh -c` as the attacker (uid and gid 54321, no supplementary groups);
/// panics with its stderr when it fails.
pub fn as_attacker(script: &str) {
    let out = Command::new("/bin/sh")
        .arg("-c")
        .arg(script)
        .current_dir("/")
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .uid(UID)
        .gid(GID)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the attacker's {script:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Make `p` a directory the attacker owns, mode 0755.
pub fn attacker_dir(p: &Path) {
    std::fs::create_dir(p).unwrap();
    std::os::unix::fs::chown(p, Some(UID), Some(GID)).unwrap();
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// Write `bytes` to `p`, give it to `uid:gid`, then set `mode` (after the owner, which would
/// clear set-id bits).
pub fn owned_file(p: &Path, bytes: &[u8], uid: u32, gid: u32, mode: u32) {
    std::fs::write(p, bytes).unwrap();
    std::os::unix::fs::chown(p, Some(uid), Some(gid)).unwrap();
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// A file the attacker owns.
pub fn attacker_file(p: &Path, bytes: &[u8], mode: u32) {
    owned_file(p, bytes, UID, GID, mode);
}

/// Set a file's modification time (whole microseconds, as the catalogue keeps them).
pub fn set_mtime(p: &Path, secs: u64, micros: u32) {
    let t = std::time::UNIX_EPOCH + std::time::Duration::new(secs, micros * 1000);
    std::fs::File::options()
        .write(true)
        .open(p)
        .unwrap()
        .set_modified(t)
        .unwrap();
}

/// Everything about one directory entry that an attack could change (symlinks not followed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snap {
    /// `file`, `dir`, `symlink` or `other`.
    pub kind: &'static str,
    /// Content of a file, target of a symlink.
    pub content: Vec<u8>,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
    /// Mode with type bits.
    pub mode: u32,
    /// Modification time, nanoseconds.
    pub mtime: (i64, i64),
    /// Inode.
    pub ino: u64,
    /// Links.
    pub nlink: u64,
}

/// Snapshot one entry.
pub fn snap(p: &Path) -> Snap {
    let m = std::fs::symlink_metadata(p).unwrap();
    let ft = m.file_type();
    let (kind, content) = if ft.is_symlink() {
        (
            "symlink",
            std::fs::read_link(p)
                .unwrap()
                .into_os_string()
                .into_encoded_bytes(),
        )
    } else if ft.is_file() {
        ("file", std::fs::read(p).unwrap())
    } else if ft.is_dir() {
        ("dir", Vec::new())
    } else {
        ("other", Vec::new())
    };
    Snap {
        kind,
        content,
        uid: m.uid(),
        gid: m.gid(),
        mode: m.mode(),
        mtime: (m.mtime(), m.mtime_nsec()),
        ino: m.ino(),
        nlink: m.nlink(),
    }
}

/// Snapshot `dir` and everything beneath it (symlinks not followed), by path.
pub fn tree(dir: &Path) -> BTreeMap<PathBuf, Snap> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(p) = stack.pop() {
        let s = snap(&p);
        if s.kind == "dir" {
            for e in std::fs::read_dir(&p).unwrap() {
                stack.push(e.unwrap().path());
            }
        }
        out.insert(p, s);
    }
    out
}

/// Every regular file beneath `dir` (none when it does not exist).
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    if !dir.exists() {
        return Vec::new();
    }
    tree(dir)
        .into_iter()
        .filter(|(_, s)| s.kind == "file")
        .map(|(p, _)| p)
        .collect()
}

/// Names in `dir` starting with `.alto-tmp-`.
pub fn temporaries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".alto-tmp-"))
        .collect();
    v.sort();
    v
}

/// The id of a process that has exited (for names of dead workers' temporaries).
pub fn dead_pid() -> u32 {
    let mut c = Command::new("/bin/true").spawn().unwrap();
    let pid = c.id();
    c.wait().unwrap();
    pid
}

/// Runs a function at every failpoint while alive (see `alto_core::failpoint::set_hook`).
pub struct HookGuard;

impl HookGuard {
    /// Install `f` as the failpoint hook.
    pub fn set(f: impl Fn(&str) + Send + Sync + 'static) -> HookGuard {
        alto_core::failpoint::set_hook(Some(std::sync::Arc::new(f)));
        HookGuard
    }
}

impl Drop for HookGuard {
    fn drop(&mut self) {
        alto_core::failpoint::set_hook(None);
    }
}

/// A base directory others may enter (0755, root's), holding `home` (the attacker's, 0755, the
/// share's root), `vault` (root's, 0700) with `vault/f` (root's, 0600) and `tier` (root's, 0700,
/// where `file://` objects go).
pub struct World {
    _base: tempfile::TempDir,
    /// The base directory.
    pub base: PathBuf,
    /// The attacker's home: the share's root.
    pub home: PathBuf,
    /// A root-only directory.
    pub vault: PathBuf,
    /// A root-only file in it.
    pub secret: PathBuf,
    /// The tier directory.
    pub tier: PathBuf,
}

/// The content of the root-only file.
pub const SECRET: &[u8] = b"root:$6$do-not-copy-me$...:19000:0:99999:7:::\n";

impl World {
    /// Make one.
    pub fn new() -> World {
        let base = tempfile::tempdir().unwrap();
        let b = base.path().to_path_buf();
        std::fs::set_permissions(&b, std::fs::Permissions::from_mode(0o755)).unwrap();
        let home = b.join("home");
        attacker_dir(&home);
        let vault = b.join("vault");
        std::fs::create_dir(&vault).unwrap();
        std::fs::set_permissions(&vault, std::fs::Permissions::from_mode(0o700)).unwrap();
        let secret = vault.join("f");
        owned_file(&secret, SECRET, 0, 0, 0o600);
        let tier = b.join("tier");
        std::fs::create_dir(&tier).unwrap();
        std::fs::set_permissions(&tier, std::fs::Permissions::from_mode(0o700)).unwrap();
        World {
            _base: base,
            base: b,
            home,
            vault,
            secret,
            tier,
        }
    }
}
