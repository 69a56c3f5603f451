//! The reference stub driver for POSIX file systems.
//!
//! A stub is a small regular file:
//!
//! ```text
//! #ALTO-STUB v1
//! {"target_uri":"file:///srv/tier2/acme/fs/x.mov.~17.1","size":2400000000,"sha256":"…","modified":…,"accessed":…,"tenant":"acme"}
//! ```
//!
//! with the original's owner, group, permissions (never a set-id bit) and mtime, so listings
//! still show the original's owner and age. The driver is written for a worker that runs as root
//! among users who may be hostile (see [`crate::fsafe`]): paths are resolved beneath the share's
//! root by file descriptor without following symlinks; the file that is checked is the file that
//! is read, and the file that leaves its name in a swap must be that file; temporaries are
//! private and unpredictable; owner and mode are given back through the handle, owner first.
//! Both swaps write a temporary in the same directory, sync it, exchange it with the name and
//! sync the directory: after a crash at any point the name holds the original bytes or a valid
//! stub, never a mix. Temporaries a crash leaves are named `.alto-tmp-*`, private to the
//! worker's user, and removed the next time a worker works in that directory.

use crate::fsafe;
use alto_core::driver::{
    Attributes, FileStat, FoundStub, Located, Opened, Staged, StubDriver, StubInfo, StubScan,
};
use alto_core::path::components_beneath;
use alto_core::{Error, ErrorKind, Result};
use async_trait::async_trait;
use std::collections::HashSet;
use std::fs::File;
use std::io::Write;
use std::os::fd::OwnedFd;
use std::os::unix::fs::FileExt;
use std::sync::Mutex;

/// The first line of every stub.
pub const STUB_MAGIC: &str = "#ALTO-STUB v1\n";
/// A stub is never larger than this.
const STUB_MAX: u64 = 64 * 1024;

/// The POSIX stub driver.
#[derive(Debug, Clone, Default)]
pub struct PosixStubDriver;

/// The directory and name an [`Opened`] or [`Staged`] came from.
struct Place {
    dir: OwnedFd,
    name: String,
    shown: String,
}

/// A staged restore's temporary.
struct Staging {
    place: Place,
    tmp: fsafe::Temp,
}

/// A directory's identity: device, inode and birth time (inode numbers of removed directories
/// are reused; the birth time tells a new directory apart).
type DirId = (u64, u64, Option<std::time::SystemTime>);

/// Directories this process has already swept for leftovers.
static SWEPT: Mutex<Option<HashSet<DirId>>> = Mutex::new(None);

fn sweep_once(dir: &OwnedFd) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    let m = File::from(dir.try_clone()?).metadata()?;
    let id = (m.dev(), m.ino(), m.created().ok());
    let first = SWEPT
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get_or_insert_with(HashSet::new)
        .insert(id);
    if first {
        fsafe::sweep(dir)?;
    }
    Ok(())
}

/// Whether a stat is a regular file's.
fn is_regular(stat: &FileStat) -> bool {
    stat.mode & 0o170000 == 0o100000
}

/// Resolve `file` to its directory handle and name, beneath its root, without symlinks.
fn place(file: &Located) -> Result<Place> {
    let comps = components_beneath(&file.recorded_root, &file.path)?;
    let (name, dirs) = comps.split_last().expect("never empty");
    let root = fsafe::open_root(&file.root)?;
    let dir = fsafe::walk(root, dirs, &file.path)?;
    Ok(Place {
        dir,
        name: (*name).to_owned(),
        shown: file.path.clone(),
    })
}

/// Read a stub's record from an open regular file, or `None` when it is not a stub.
fn parse_stub(f: &File, stat: &FileStat, shown: &str) -> Result<Option<StubInfo>> {
    if stat.size > STUB_MAX || stat.size < STUB_MAGIC.len() as u64 {
        return Ok(None);
    }
    let mut buf = vec![0u8; stat.size as usize];
    let mut got = 0;
    while got < buf.len() {
        let n = f.read_at(&mut buf[got..], got as u64)?;
        if n == 0 {
            break;
        }
        got += n;
    }
    buf.truncate(got);
    let Ok(text) = std::str::from_utf8(&buf) else {
        return Ok(None); // not UTF-8: not ours
    };
    let Some(body) = text.strip_prefix(STUB_MAGIC) else {
        return Ok(None);
    };
    serde_json::from_str(body.trim_end())
        .map(Some)
        .map_err(|e| {
            Error::invalid_input(format!(
                "{shown} has an Alto stub header but a damaged record: {e}"
            ))
        })
}

fn open_blocking(file: &Located) -> Result<Opened> {
    let p = place(file)?;
    sweep_once(&p.dir)?;
    let f = fsafe::open_file_at(&p.dir, &p.name, &p.shown)?;
    let stat = fsafe::stat_of(&f)?;
    if !is_regular(&stat) {
        return Err(Error::invalid_input(format!(
            "{} is not a regular file",
            p.shown
        )));
    }
    let stub = parse_stub(&f, &stat, &p.shown)?;
    // A file a writer holds locked is being written: try it again later, never copy it now.
    if stub.is_none() && fsafe::locked_for_writing(&f)? {
        return Err(Error::conflict(format!(
            "{} is locked by a writer: it will be tried again",
            p.shown
        )));
    }
    alto_core::failpoint::hit("stub_after_open");
    Ok(Opened {
        stat,
        file: f,
        stub,
        handle: Box::new(p),
    })
}

fn stub_blocking(opened: Opened, info: &StubInfo, attrs: &Attributes) -> Result<Vec<String>> {
    let p: Box<Place> = opened
        .handle
        .downcast()
        .map_err(|_| Error::invalid_input("a file opened by another driver"))?;
    if opened.stub.is_some() {
        return Err(Error::new(
            ErrorKind::InvalidTransition,
            format!("{} is already a stub", p.shown),
        ));
    }
    let before = opened.stat;
    let unchanged = |f: &File| -> Result<()> {
        let now = fsafe::stat_of(f)?;
        if now.size != before.size
            || now.modified != before.modified
            || now.size != info.size
            || now.modified != info.modified
        {
            return Err(Error::conflict(format!(
                "{} changed since it was copied (size {} vs {}, mtime {} vs {}): keeping the original",
                p.shown, now.size, info.size, now.modified, info.modified
            )));
        }
        Ok(())
    };
    unchanged(&opened.file)?;
    let mut body = String::from(STUB_MAGIC);
    body.push_str(
        &serde_json::to_string(info).map_err(|e| Error::new(ErrorKind::Backend, e.to_string()))?,
    );
    body.push('\n');
    let (tmp, mut t) = fsafe::create_temp(&p.dir)?;
    let result = (|| {
        t.write_all(body.as_bytes())?;
        let notes = fsafe::apply_attrs(&t, attrs)?;
        t.sync_all()?;
        alto_core::failpoint::hit("stub_before_rename");
        // Last look before the swap: a write since the copy must keep the original.
        unchanged(&opened.file)?;
        fsafe::swap_in(
            &p.dir,
            &tmp,
            &p.name,
            (before.dev, before.ino),
            &p.shown,
            || unchanged(&opened.file),
        )?;
        fsafe::fsync_dir(&p.dir)?;
        Ok(notes)
    })();
    if result.is_err() {
        let _ = tmp.remove(&p.dir);
    }
    result
}

fn stage_blocking(file: &Located) -> Result<Staged> {
    let p = place(file)?;
    sweep_once(&p.dir)?;
    let not_stub = || {
        Error::new(
            ErrorKind::InvalidTransition,
            format!("{} is not a stub: nothing to rehydrate", file.path),
        )
    };
    let f = match fsafe::open_file_at(&p.dir, &p.name, &p.shown) {
        Ok(f) => f,
        Err(e) if e.kind() == ErrorKind::InvalidInput => return Err(not_stub()),
        Err(e) => return Err(e),
    };
    let stat = fsafe::stat_of(&f)?;
    if !is_regular(&stat) {
        return Err(not_stub());
    }
    let stub = parse_stub(&f, &stat, &p.shown)?.ok_or_else(not_stub)?;
    let (tmp, t) = fsafe::create_temp(&p.dir)?;
    alto_core::failpoint::hit("restore_after_stage");
    Ok(Staged {
        stat,
        stub,
        file: t,
        handle: Box::new(Staging { place: p, tmp }),
    })
}

fn finish_blocking(staged: Staged, attrs: &Attributes) -> Result<Vec<String>> {
    let t: Box<Staging> = staged
        .handle
        .downcast()
        .map_err(|_| Error::invalid_input("a restore staged by another driver"))?;
    let p = &t.place;
    let result = (|| {
        staged.file.sync_all()?;
        let notes = fsafe::apply_attrs(&staged.file, attrs)?;
        staged.file.sync_all()?;
        alto_core::failpoint::hit("restore_before_rename");
        fsafe::swap_in(
            &p.dir,
            &t.tmp,
            &p.name,
            (staged.stat.dev, staged.stat.ino),
            &p.shown,
            || Ok(()),
        )?;
        fsafe::fsync_dir(&p.dir)?;
        Ok(notes)
    })();
    if result.is_err() {
        let _ = t.tmp.remove(&p.dir);
    }
    result
}

/// Directories deeper than this beneath a share's root are not walked (each level holds a
/// descriptor while its subdirectories wait).
const MAX_DEPTH: usize = 512;

/// A directory waiting to be walked: its parent's handle, its name there, its path beneath the
/// root, its depth.
struct Pending {
    parent: std::sync::Arc<OwnedFd>,
    name: std::ffi::OsString,
    relative: String,
    depth: usize,
}

/// Open a file to look at it, without changing its access time where this process may say so
/// (root, or the file's owner): a reconciliation must not make cold files look used.
fn open_quietly(dir: &OwnedFd, name: &std::ffi::OsStr) -> rustix::io::Result<File> {
    use rustix::fs::{Mode, OFlags};
    let flags =
        OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC;
    match rustix::fs::openat(dir, name, flags | OFlags::NOATIME, Mode::empty()) {
        Err(rustix::io::Errno::PERM) => rustix::fs::openat(dir, name, flags, Mode::empty()),
        r => r,
    }
    .map(File::from)
}

fn find_blocking(root: &std::path::Path, skip: &[std::path::PathBuf]) -> Result<StubScan> {
    use rustix::fs::{AtFlags, FileType};
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::MetadataExt;
    let id_of = |fd: &OwnedFd| -> Option<(u64, u64)> {
        let m = File::from(fd.try_clone().ok()?).metadata().ok()?;
        Some((m.dev(), m.ino()))
    };
    let skip: HashSet<(u64, u64)> = skip
        .iter()
        .filter_map(|p| fsafe::open_root(p).ok())
        .filter_map(|fd| id_of(&fd))
        .collect();
    let top = fsafe::open_root(root)?;
    let mut scan = StubScan::default();
    let mut stack: Vec<(OwnedFd, String, usize)> = vec![(top, String::new(), 0)];
    let mut pending: Vec<Pending> = Vec::new();
    let shown = |rel: &str| {
        if rel.is_empty() {
            root.display().to_string()
        } else {
            format!("{}/{rel}", root.display())
        }
    };
    loop {
        let (dir, rel, depth) = match stack.pop() {
            Some(d) => d,
            None => match pending.pop() {
                Some(p) => match fsafe::open_dir_at(&*p.parent, &p.name) {
                    Ok(fd) => {
                        if id_of(&fd).is_some_and(|id| skip.contains(&id)) {
                            continue;
                        }
                        (fd, p.relative, p.depth)
                    }
                    // Gone, or replaced by a symlink or a file since it was listed.
                    Err(
                        rustix::io::Errno::NOENT
                        | rustix::io::Errno::NOTDIR
                        | rustix::io::Errno::LOOP,
                    ) => continue,
                    Err(e) => {
                        scan.problems.push(format!(
                            "{}: {}",
                            shown(&p.relative),
                            std::io::Error::from(e)
                        ));
                        continue;
                    }
                },
                None => break,
            },
        };
        scan.directories += 1;
        let dir = std::sync::Arc::new(dir);
        let mut entries = match rustix::fs::Dir::new(dir.try_clone()?) {
            Ok(d) => d,
            Err(e) => {
                scan.problems
                    .push(format!("{}: {}", shown(&rel), std::io::Error::from(e)));
                continue;
            }
        };
        while let Some(e) = entries.read() {
            let e = match e {
                Ok(e) => e,
                Err(e) => {
                    scan.problems
                        .push(format!("{}: {}", shown(&rel), std::io::Error::from(e)));
                    break;
                }
            };
            let name = std::ffi::OsStr::from_bytes(e.file_name().to_bytes()).to_owned();
            let bytes = name.as_bytes();
            if bytes == b"." || bytes == b".." || bytes.starts_with(fsafe::TEMP_PREFIX.as_bytes()) {
                continue;
            }
            let child = if rel.is_empty() {
                name.to_string_lossy().into_owned()
            } else {
                format!("{rel}/{}", name.to_string_lossy())
            };
            let kind = match e.file_type() {
                FileType::Unknown => {
                    match rustix::fs::statat(&*dir, &name, AtFlags::SYMLINK_NOFOLLOW) {
                        Ok(st) => FileType::from_raw_mode(st.st_mode),
                        Err(_) => continue,
                    }
                }
                k => k,
            };
            match kind {
                FileType::Directory if depth + 1 > MAX_DEPTH => {
                    scan.problems.push(format!(
                        "{}: deeper than {MAX_DEPTH} directories beneath the root, not walked",
                        shown(&child)
                    ));
                }
                FileType::Directory => pending.push(Pending {
                    parent: dir.clone(),
                    name,
                    relative: child,
                    depth: depth + 1,
                }),
                FileType::RegularFile => {
                    scan.files += 1;
                    if let Some(found) =
                        look_at(&dir, &name, &child, &shown(&child), &mut scan.problems)
                    {
                        scan.stubs.push(found);
                    }
                }
                _ => {}
            }
        }
    }
    Ok(scan)
}

/// The stub at `name` in `dir`, if it is one.
fn look_at(
    dir: &OwnedFd,
    name: &std::ffi::OsStr,
    relative: &str,
    shown: &str,
    problems: &mut Vec<String>,
) -> Option<FoundStub> {
    let f = match open_quietly(dir, name) {
        Ok(f) => f,
        Err(rustix::io::Errno::NOENT | rustix::io::Errno::LOOP) => return None,
        Err(e) => {
            problems.push(format!("{shown}: {}", std::io::Error::from(e)));
            return None;
        }
    };
    let stat = match fsafe::stat_of(&f) {
        Ok(s) => s,
        Err(e) => {
            problems.push(format!("{shown}: {e}"));
            return None;
        }
    };
    if !is_regular(&stat) || stat.size > STUB_MAX || stat.size < STUB_MAGIC.len() as u64 {
        return None;
    }
    let mut head = [0u8; STUB_MAGIC.len()];
    if f.read_exact_at(&mut head, 0).is_err() || head != *STUB_MAGIC.as_bytes() {
        return None;
    }
    let info = match parse_stub(&f, &stat, shown) {
        Ok(Some(info)) => Some(info),
        Ok(None) | Err(_) => None,
    };
    Some(FoundStub {
        relative: relative.to_owned(),
        info,
        size: stat.size,
        uid: stat.uid,
    })
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::new(ErrorKind::Backend, format!("stub driver task failed: {e}")))?
}

#[async_trait]
impl StubDriver for PosixStubDriver {
    fn name(&self) -> &'static str {
        "posix"
    }

    async fn open(&self, file: &Located) -> Result<Opened> {
        let f = file.clone();
        blocking(move || open_blocking(&f)).await
    }

    async fn stub(
        &self,
        opened: Opened,
        info: &StubInfo,
        attrs: &Attributes,
    ) -> Result<Vec<String>> {
        let (i, a) = (info.clone(), *attrs);
        blocking(move || stub_blocking(opened, &i, &a)).await
    }

    async fn stage_restore(&self, file: &Located) -> Result<Staged> {
        let f = file.clone();
        blocking(move || stage_blocking(&f)).await
    }

    async fn finish_restore(&self, staged: Staged, attrs: &Attributes) -> Result<Vec<String>> {
        let a = *attrs;
        blocking(move || finish_blocking(staged, &a)).await
    }

    async fn find_stubs(
        &self,
        root: &std::path::Path,
        skip: &[std::path::PathBuf],
    ) -> Result<StubScan> {
        let (root, skip) = (root.to_owned(), skip.to_vec());
        blocking(move || find_blocking(&root, &skip)).await
    }

    async fn abort_restore(&self, staged: Staged) -> Result<()> {
        blocking(move || {
            let t: Box<Staging> = staged
                .handle
                .downcast()
                .map_err(|_| Error::invalid_input("a restore staged by another driver"))?;
            t.tmp.remove(&t.place.dir)
        })
        .await
    }
}

/// Read the stub at `file` (for tools and tests), resolved as the driver resolves it: `None`
/// when it is a regular file that is not a stub.
pub fn read_stub(file: &Located) -> Result<Option<StubInfo>> {
    let p = place(file)?;
    let f = fsafe::open_file_at(&p.dir, &p.name, &p.shown)?;
    let stat = fsafe::stat_of(&f)?;
    parse_stub(&f, &stat, &p.shown)
}

/// Read the stub at an absolute `path` (tools and tests), resolved from `/` without following a
/// symlink: `None` when it is a regular file that is not a stub.
pub fn read_stub_at(path: &std::path::Path) -> Result<Option<StubInfo>> {
    read_stub(&Located {
        root: "/".into(),
        recorded_root: "/".into(),
        path: path.display().to_string(),
    })
}
