//! File handling for a worker that runs as root among users who may be hostile.
//!
//! Every path is resolved beneath a root directory by file descriptor, one component at a time
//! with `O_NOFOLLOW | O_DIRECTORY`, so no symlink is ever followed and nothing outside the root
//! is reached (the caller has already refused `..`). Files are opened once with `O_NOFOLLOW` and
//! everything after (stat, read, owner, mode, times, sync) goes through that handle. Temporaries
//! get unpredictable names and are created with `O_CREAT | O_EXCL | O_NOFOLLOW` and mode 0600.
//! Swaps are `renameat2(RENAME_EXCHANGE)` in one directory handle, checked afterwards: the file
//! that left the name must be the one that was checked, or the exchange is undone.

use alto_core::driver::{Attributes, FileStat};
use alto_core::time::Micros;
use alto_core::{Error, ErrorKind, Result};
use rustix::fs::{AtFlags, Mode, OFlags, RenameFlags, Timestamps};
use rustix::io::Errno;
use std::fs::File;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// The prefix of every temporary a driver or a local target creates.
pub(crate) const TEMP_PREFIX: &str = ".alto-tmp-";

fn errno_io(e: Errno) -> std::io::Error {
    std::io::Error::from_raw_os_error(e.raw_os_error())
}

/// An error about `what` from `e`, with the kind a worker acts on: `NotFound` for a name that is
/// gone, `InvalidInput` for a symlink or a non-directory in the way.
pub(crate) fn fs_err(what: &str, e: Errno) -> Error {
    match e {
        Errno::NOENT => Error::not_found(format!("{what}: no such file or directory")),
        Errno::LOOP | Errno::NOTDIR | Errno::MLINK => Error::invalid_input(format!(
            "{what}: a symlink or a non-directory is in the way; Alto never follows symlinks"
        )),
        e => Error::from(errno_io(e)).prefixed(what),
    }
}

/// Open a configured root directory (the administrator's path, followed as written).
pub(crate) fn open_root(root: &Path) -> Result<OwnedFd> {
    rustix::fs::open(
        root,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| fs_err(&format!("cannot open the root {}", root.display()), e))
}

/// Open directory `name` in `dir`, refusing a symlink.
pub(crate) fn open_dir_at(
    dir: impl AsFd,
    name: impl rustix::path::Arg,
) -> std::result::Result<OwnedFd, Errno> {
    rustix::fs::openat(
        dir,
        name,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )
}

/// Walk `dirs` beneath `root`, one component at a time, never following a symlink.
pub(crate) fn walk(root: OwnedFd, dirs: &[&str], shown: &str) -> Result<OwnedFd> {
    let mut dir = root;
    for d in dirs {
        dir = open_dir_at(&dir, *d).map_err(|e| fs_err(&format!("cannot open {shown}"), e))?;
    }
    Ok(dir)
}

/// Open regular file `name` in `dir` for reading, refusing a symlink and not blocking on a FIFO.
pub(crate) fn open_file_at(dir: impl AsFd, name: &str, shown: &str) -> Result<File> {
    let fd = rustix::fs::openat(
        dir,
        name,
        OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| fs_err(&format!("cannot open {shown}"), e))?;
    Ok(File::from(fd))
}

fn micros(secs: i64, nsecs: i64) -> Micros {
    secs * 1_000_000 + nsecs / 1000
}

/// What `fstat` says of an open file.
pub(crate) fn stat_of(file: &File) -> Result<FileStat> {
    let m = file.metadata()?;
    Ok(FileStat {
        dev: m.dev(),
        ino: m.ino(),
        size: m.size(),
        modified: micros(m.mtime(), m.mtime_nsec()),
        accessed: micros(m.atime(), m.atime_nsec()),
        uid: m.uid(),
        gid: m.gid(),
        mode: m.mode(),
        nlink: m.nlink(),
    })
}

/// Device and inode of whatever `name` in `dir` is now (a symlink itself, not its target), or
/// `None` when the name is gone.
pub(crate) fn identity_at(dir: impl AsFd, name: &str) -> Result<Option<(u64, u64)>> {
    match rustix::fs::openat(
        dir,
        name,
        OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    ) {
        Ok(fd) => {
            let m = File::from(fd).metadata()?;
            Ok(Some((m.dev(), m.ino())))
        }
        Err(Errno::NOENT) => Ok(None),
        Err(e) => Err(fs_err(&format!("cannot look at {name:?}"), e)),
    }
}

/// An unpredictable temporary name.
fn temp_name() -> String {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    // RandomState is seeded from the OS's randomness; the counter and time make each call's
    // input distinct.
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(N.fetch_add(1, Ordering::Relaxed));
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    let a = h.finish();
    h.write_u32(std::process::id());
    format!(
        "{TEMP_PREFIX}{}-{a:016x}{:016x}",
        std::process::id(),
        h.finish()
    )
}

/// Whether a temporary named by [`temp_name`] belongs to a process that is gone: its process id
/// is not running on this host, or it was last changed more than a day ago (another host's, or
/// a recycled process id). Its status-change time cannot be set by anyone.
fn abandoned(name: &str, ctime: i64) -> bool {
    let stale = ctime < alto_core::time::now_micros() / 1_000_000 - 86_400;
    let pid = name
        .strip_prefix(TEMP_PREFIX)
        .and_then(|r| r.split_once('-'))
        .and_then(|(p, _)| p.parse::<i32>().ok())
        .and_then(rustix::process::Pid::from_raw);
    let gone = match pid {
        Some(p) => {
            p != rustix::process::getpid()
                && rustix::process::test_kill_process(p) == Err(Errno::SRCH)
        }
        None => true,
    };
    stale || gone
}

/// A temporary's name and the identity (device, inode) of the file created under it.
#[derive(Debug, Clone)]
pub(crate) struct Temp {
    pub(crate) name: String,
    pub(crate) id: (u64, u64),
}

impl Temp {
    /// Remove the temporary if its name still leads to the file created under it (a name the
    /// directory's owner has pointed at something else is left alone).
    pub(crate) fn remove(&self, dir: impl AsFd) -> Result<()> {
        if identity_at(dir.as_fd(), &self.name)? == Some(self.id) {
            unlink(dir, &self.name)?;
        }
        Ok(())
    }
}

/// Create a private temporary in `dir`: a new name, exclusive, never through a symlink, 0600.
pub(crate) fn create_temp(dir: impl AsFd) -> Result<(Temp, File)> {
    for _ in 0..16 {
        let name = temp_name();
        match rustix::fs::openat(
            dir.as_fd(),
            name.as_str(),
            OFlags::RDWR | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::RUSR | Mode::WUSR,
        ) {
            Ok(fd) => {
                let f = File::from(fd);
                // The umask may only have taken bits away; say exactly 0600.
                rustix::fs::fchmod(&f, Mode::RUSR | Mode::WUSR).map_err(errno_io)?;
                let m = f.metadata()?;
                let id = (m.dev(), m.ino());
                return Ok((Temp { name, id }, f));
            }
            Err(Errno::EXIST) => continue,
            Err(e) => return Err(fs_err("cannot create a temporary file", e)),
        }
    }
    Err(Error::new(
        ErrorKind::Conflict,
        "cannot create a temporary file: 16 random names were all taken",
    ))
}

/// Remove `name` from `dir`.
pub(crate) fn unlink(dir: impl AsFd, name: &str) -> Result<()> {
    match rustix::fs::unlinkat(dir, name, AtFlags::empty()) {
        Ok(()) | Err(Errno::NOENT) => Ok(()),
        Err(e) => Err(fs_err(&format!("cannot remove {name:?}"), e)),
    }
}

/// Make a directory's entries durable.
pub(crate) fn fsync_dir(dir: impl AsFd) -> Result<()> {
    rustix::fs::fsync(dir).map_err(|e| fs_err("cannot sync a directory", e))
}

fn timespec(m: Micros) -> rustix::fs::Timespec {
    rustix::fs::Timespec {
        tv_sec: m.div_euclid(1_000_000),
        tv_nsec: (m.rem_euclid(1_000_000) * 1000) as _,
    }
}

/// Give `file` the owner, group, mode and times of `attrs`, through its handle: owner first
/// (changing it clears set-id bits), then the mode, whose set-user-ID bit is kept only when the
/// file really is owned by `attrs.uid` and whose set-group-ID bit only when its group is
/// `attrs.gid`. Returns notes on what could not be done (a non-root worker cannot give a file
/// away).
pub(crate) fn apply_attrs(file: &File, attrs: &Attributes) -> Result<Vec<String>> {
    let mut notes = Vec::new();
    let now = stat_of(file)?;
    if (now.uid, now.gid) != (attrs.uid, attrs.gid) {
        let uid = rustix::fs::Uid::from_raw(attrs.uid);
        let gid = rustix::fs::Gid::from_raw(attrs.gid);
        match rustix::fs::fchown(file, Some(uid), Some(gid)) {
            Ok(()) => {}
            Err(Errno::PERM) => {
                // Try the group alone (a user may give a file to a group they are in).
                let _ = rustix::fs::fchown(file, None, Some(gid));
                notes.push(format!(
                    "owner {}:{} not restored (this worker may not give files away)",
                    attrs.uid, attrs.gid
                ));
            }
            Err(e) => return Err(Error::from(errno_io(e)).prefixed("cannot set the owner")),
        }
    }
    let now = stat_of(file)?;
    let mut mode = attrs.mode & 0o7777;
    if now.uid != attrs.uid && mode & 0o4000 != 0 {
        mode &= !0o4000;
        notes.push("set-user-ID bit not given: the file is not owned by its recorded owner".into());
    }
    if now.gid != attrs.gid && mode & 0o2000 != 0 {
        mode &= !0o2000;
        notes.push("set-group-ID bit not given: the file is not in its recorded group".into());
    }
    rustix::fs::fchmod(file, Mode::from_bits_truncate(mode))
        .map_err(|e| Error::from(errno_io(e)).prefixed("cannot set the mode"))?;
    let atime = attrs.accessed.unwrap_or_else(alto_core::time::now_micros);
    rustix::fs::futimens(
        file,
        &Timestamps {
            last_access: timespec(atime),
            last_modification: timespec(attrs.modified),
        },
    )
    .map_err(|e| Error::from(errno_io(e)).prefixed("cannot set the times"))?;
    Ok(notes)
}

/// Swap `tmp` in for `name` in `dir`, atomically, where the file that leaves `name` must be
/// `expected` (device, inode) and must still pass `still_ok` once it has left (a writer that
/// held it open can no longer reach it by name). On a file system without `RENAME_EXCHANGE`, the
/// name and `still_ok` are checked just before a plain rename. After this returns `Ok`, `tmp`
/// holds nothing that is needed (it is removed). On a mismatch nothing changes and the error is
/// `Conflict` (or `still_ok`'s).
pub(crate) fn swap_in(
    dir: &OwnedFd,
    tmp: &Temp,
    name: &str,
    expected: (u64, u64),
    shown: &str,
    still_ok: impl Fn() -> Result<()>,
) -> Result<()> {
    // The temporary must still be the file written through its handle: the directory may be
    // a user's, who can rename names in it.
    if identity_at(dir, &tmp.name)? != Some(tmp.id) {
        return Err(Error::conflict(format!(
            "the temporary beside {shown} was replaced: left as it is"
        ))
        .retryable(false));
    }
    let tmp = tmp.name.as_str();
    let moved = || {
        Error::conflict(format!(
            "{shown} was replaced by another file while Alto worked on it: left as it is"
        ))
        .retryable(false)
    };
    match rustix::fs::renameat_with(dir, tmp, dir, name, RenameFlags::EXCHANGE) {
        Ok(()) => {
            alto_core::failpoint::hit("swap_after_exchange");
            let check = if identity_at(dir, tmp)? != Some(expected) {
                Err(moved())
            } else {
                still_ok()
            };
            if let Err(e) = check {
                // Put back whatever was there.
                rustix::fs::renameat_with(dir, tmp, dir, name, RenameFlags::EXCHANGE)
                    .map_err(|e| fs_err(&format!("cannot undo a swap of {shown}"), e))?;
                return Err(e);
            }
            unlink(dir, tmp)
        }
        Err(Errno::INVAL | Errno::NOSYS | Errno::OPNOTSUPP) => {
            if identity_at(dir, name)? != Some(expected) {
                return Err(moved());
            }
            still_ok()?;
            rustix::fs::renameat(dir, tmp, dir, name)
                .map_err(|e| fs_err(&format!("cannot replace {shown}"), e))
        }
        Err(e) => Err(fs_err(&format!("cannot replace {shown}"), e)),
    }
}

/// Remove temporaries a crash left in `dir`: our prefix, regular, one link, owned by this
/// process's user and private (a user's own file of that name is left alone), of a process that
/// is gone (a running worker's are its own).
pub(crate) fn sweep(dir: &OwnedFd) -> Result<u64> {
    let me = rustix::process::geteuid().as_raw();
    let mut names = Vec::new();
    let mut entries = rustix::fs::Dir::new(dir.try_clone()?).map_err(errno_io)?;
    while let Some(e) = entries.read() {
        let e = e.map_err(errno_io)?;
        if let Ok(n) = e.file_name().to_str() {
            if n.starts_with(TEMP_PREFIX) {
                names.push(n.to_owned());
            }
        }
    }
    let mut removed = 0;
    for n in names {
        let Ok(fd) = rustix::fs::openat(
            dir,
            n.as_str(),
            OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        ) else {
            continue;
        };
        let m = File::from(fd).metadata()?;
        if m.file_type().is_file()
            && m.nlink() == 1
            && m.uid() == me
            && m.mode() & 0o077 == 0
            && abandoned(&n, m.ctime())
        {
            unlink(dir, &n)?;
            removed += 1;
        }
    }
    Ok(removed)
}

/// Whether another process holds a lock on the open file that a writer would hold: a POSIX
/// (`fcntl`/`lockf`) write lock or an exclusive `flock`. Probed with non-blocking shared locks
/// that are released at once (this process holds no other lock on the file).
pub(crate) fn locked_for_writing(file: &File) -> Result<bool> {
    use rustix::fs::FlockOperation::{NonBlockingLockShared, Unlock};
    let busy = |e: Errno| matches!(e, Errno::AGAIN | Errno::ACCESS);
    match rustix::fs::fcntl_lock(file, NonBlockingLockShared) {
        Ok(()) => {
            let _ = rustix::fs::fcntl_lock(file, Unlock);
        }
        Err(e) if busy(e) => return Ok(true),
        // A file system without POSIX locks (some network mounts): nothing to learn here.
        Err(Errno::NOLCK | Errno::OPNOTSUPP | Errno::INVAL) => {}
        Err(e) => return Err(Error::from(errno_io(e)).prefixed("cannot probe the file's locks")),
    }
    match rustix::fs::flock(file, NonBlockingLockShared) {
        Ok(()) => {
            let _ = rustix::fs::flock(file, Unlock);
            Ok(false)
        }
        Err(e) if busy(e) => Ok(true),
        Err(Errno::NOLCK | Errno::OPNOTSUPP | Errno::INVAL) => Ok(false),
        Err(e) => Err(Error::from(errno_io(e)).prefixed("cannot probe the file's locks")),
    }
}
