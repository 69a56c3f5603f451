//! The `file://` tier target: objects as private files under a local directory.
//!
//! Written here rather than through `object_store`'s `LocalFileSystem` because tier-2 copies of
//! users' files must be private whatever the process's umask: directories are made 0700, objects
//! are written to a 0600 temporary created exclusively, synced, and renamed into place with
//! `RENAME_NOREPLACE` (create-if-absent: an existing object is `AlreadyExists` and is kept).
//! Keys are resolved beneath the target directory by file descriptor, never through a symlink.

use crate::fsafe::{self, TEMP_PREFIX};
use crate::hash::Sha256Sink;
use alto_core::driver::{ObjectInfo, ObjectPage};
use alto_core::path::object_key;
use alto_core::{Error, ErrorKind, Result};
use rustix::fs::{Mode, RenameFlags};
use rustix::io::Errno;
use std::fs::File;
use std::io::{Read, Seek, Write};
use std::os::fd::OwnedFd;
use std::os::unix::fs::DirBuilderExt;
use std::path::PathBuf;

/// A local directory of objects.
#[derive(Debug)]
pub(crate) struct LocalDir {
    root: PathBuf,
}

const BUF: usize = 1 << 20;

fn copy_hashing(from: &mut File, to: Option<&mut File>) -> Result<(u64, String)> {
    let mut sink = Sha256Sink::default();
    let mut buf = vec![0u8; BUF];
    let mut to = to;
    loop {
        let n = from.read(&mut buf)?;
        if n == 0 {
            return Ok(sink.finish());
        }
        sink.update(&buf[..n]);
        if let Some(t) = to.as_deref_mut() {
            t.write_all(&buf[..n])?;
        }
    }
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::new(ErrorKind::Backend, format!("tier target task failed: {e}")))?
}

impl LocalDir {
    /// Open (and create, 0700) the directory.
    pub(crate) fn open(root: &str) -> Result<Self> {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(root)
            .map_err(|e| {
                Error::from(e).prefixed(&format!("cannot create tier directory {root}"))
            })?;
        Ok(LocalDir {
            root: PathBuf::from(root),
        })
    }

    /// The directory handle and file name of `key`, creating directories (0700) when `create`.
    fn place(&self, key: &str, create: bool) -> Result<(OwnedFd, String)> {
        let key = object_key(key)?;
        let comps: Vec<&str> = key.split('/').collect();
        let (name, dirs) = comps.split_last().expect("object keys are never empty");
        let mut dir = fsafe::open_root(&self.root)?;
        for d in dirs {
            if create {
                match rustix::fs::mkdirat(&dir, *d, Mode::RWXU) {
                    Ok(()) | Err(Errno::EXIST) => {}
                    Err(e) => return Err(fsafe::fs_err(&format!("cannot create {d:?}"), e)),
                }
            }
            dir = fsafe::open_dir_at(&dir, *d)
                .map_err(|e| fsafe::fs_err(&format!("cannot open object {key:?}"), e))?;
        }
        Ok((dir, (*name).to_owned()))
    }

    fn open_object(&self, key: &str) -> Result<File> {
        let (dir, name) = self.place(key, false)?;
        fsafe::open_file_at(&dir, &name, &format!("object {key:?}"))
    }

    pub(crate) async fn put(
        self: &std::sync::Arc<Self>,
        key: &str,
        file: File,
    ) -> Result<ObjectInfo> {
        let (me, key) = (self.clone(), key.to_owned());
        blocking(move || {
            let (dir, name) = me.place(&key, true)?;
            let (tmp, mut t) = fsafe::create_temp(&dir)?;
            let result = (|| {
                let mut from = file;
                from.seek(std::io::SeekFrom::Start(0))?;
                let (size, sha) = copy_hashing(&mut from, Some(&mut t))?;
                t.sync_all()?;
                create_if_absent(&dir, &tmp.name, &name, &key)?;
                fsafe::fsync_dir(&dir)?;
                Ok(ObjectInfo {
                    key: key.clone(),
                    size,
                    sha256: Some(sha),
                    etag: None,
                    modified: None,
                })
            })();
            if result.is_err() {
                let _ = tmp.remove(&dir);
            }
            result
        })
        .await
    }

    pub(crate) async fn verify(self: &std::sync::Arc<Self>, key: &str) -> Result<ObjectInfo> {
        let (me, key) = (self.clone(), key.to_owned());
        blocking(move || {
            let mut f = me.open_object(&key)?;
            let (size, sha) = copy_hashing(&mut f, None)?;
            Ok(ObjectInfo {
                key,
                size,
                sha256: Some(sha),
                etag: None,
                modified: None,
            })
        })
        .await
    }

    pub(crate) async fn get(
        self: &std::sync::Arc<Self>,
        key: &str,
        into: File,
    ) -> Result<ObjectInfo> {
        let (me, key) = (self.clone(), key.to_owned());
        blocking(move || {
            let mut f = me.open_object(&key)?;
            let mut into = into;
            let (size, sha) = copy_hashing(&mut f, Some(&mut into))?;
            into.sync_all()?;
            Ok(ObjectInfo {
                key,
                size,
                sha256: Some(sha),
                etag: None,
                modified: None,
            })
        })
        .await
    }

    pub(crate) async fn delete(self: &std::sync::Arc<Self>, key: &str) -> Result<()> {
        let (me, key) = (self.clone(), key.to_owned());
        blocking(move || {
            let (dir, name) = me.place(&key, false)?;
            match rustix::fs::unlinkat(&dir, name.as_str(), rustix::fs::AtFlags::empty()) {
                Ok(()) => Ok(()),
                Err(e) => Err(fsafe::fs_err(&format!("cannot delete object {key:?}"), e)),
            }
        })
        .await
    }

    /// One page of the objects under `prefix`, in key order, after the key `token`.
    pub(crate) async fn list_page(
        self: &std::sync::Arc<Self>,
        prefix: &str,
        token: Option<&str>,
        limit: usize,
    ) -> Result<ObjectPage> {
        let (me, prefix, token) = (self.clone(), prefix.to_owned(), token.map(str::to_owned));
        blocking(move || {
            let mut dir = fsafe::open_root(&me.root)?;
            let mut key_base = String::new();
            for seg in prefix
                .split(['/', '\\'])
                .filter(|s| !s.is_empty() && *s != ".")
            {
                if seg == ".." {
                    return Err(Error::invalid_input(format!(
                        "prefix {prefix:?} has a `..` segment"
                    )));
                }
                dir = match fsafe::open_dir_at(&dir, seg) {
                    Ok(d) => d,
                    // Nothing there (or a symlink, never followed): nothing under the prefix.
                    Err(Errno::NOENT | Errno::NOTDIR | Errno::LOOP) => {
                        return Ok(ObjectPage::default());
                    }
                    Err(e) => {
                        return Err(fsafe::fs_err(&format!("cannot list {prefix:?}"), e));
                    }
                };
                key_base.push_str(seg);
                key_base.push('/');
            }
            let mut out = Vec::new();
            list_sorted(&dir, &key_base, token.as_deref(), limit + 1, &mut out)?;
            let next = if out.len() > limit {
                out.truncate(limit);
                out.last().map(|o| o.key.clone())
            } else {
                None
            };
            Ok(ObjectPage { objects: out, next })
        })
        .await
    }
}

/// Append to `out`, in key order, the objects beneath `dir` (whose keys start with `key`) that
/// come after `after`, until it holds `want`. Directories are opened without following a
/// symlink; symlinks, devices and temporaries are never listed; names that are not UTF-8 are
/// not Alto's keys and are left out. Entries are ordered by name, a directory's as `name/`, so
/// that the walk meets keys in their lexicographic order, and a directory whose keys all come
/// before `after` is not entered.
fn list_sorted(
    dir: &OwnedFd,
    key: &str,
    after: Option<&str>,
    want: usize,
    out: &mut Vec<ObjectInfo>,
) -> Result<()> {
    use rustix::fs::{AtFlags, FileType};
    let mut entries: Vec<(String, bool)> = Vec::new();
    let mut names = rustix::fs::Dir::new(dir.try_clone()?)
        .map_err(|e| fsafe::fs_err(&format!("cannot list {key:?}"), e))?;
    while let Some(e) = names.read() {
        let e = e.map_err(|e| fsafe::fs_err(&format!("cannot list {key:?}"), e))?;
        let Ok(name) = e.file_name().to_str() else {
            continue;
        };
        if name == "." || name == ".." || name.starts_with(TEMP_PREFIX) {
            continue;
        }
        let kind = match e.file_type() {
            FileType::Unknown => match rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW) {
                Ok(st) => FileType::from_raw_mode(st.st_mode),
                Err(Errno::NOENT) => continue,
                Err(e) => return Err(fsafe::fs_err(&format!("cannot list {key}{name}"), e)),
            },
            k => k,
        };
        match kind {
            FileType::Directory => entries.push((format!("{name}/"), true)),
            FileType::RegularFile => entries.push((name.to_owned(), false)),
            _ => {}
        }
    }
    entries.sort_unstable();
    for (sort_name, is_dir) in entries {
        if out.len() >= want {
            return Ok(());
        }
        let full = format!("{key}{sort_name}");
        if is_dir {
            let inner = match after {
                Some(a) if a.starts_with(&full) => Some(a),
                Some(a) if full.as_str() < a => continue,
                _ => None,
            };
            let name = &sort_name[..sort_name.len() - 1];
            let sub = match fsafe::open_dir_at(dir, name) {
                Ok(d) => d,
                Err(Errno::NOENT | Errno::NOTDIR | Errno::LOOP) => continue,
                Err(e) => return Err(fsafe::fs_err(&format!("cannot list {full:?}"), e)),
            };
            list_sorted(&sub, &full, inner, want, out)?;
        } else {
            if after.is_some_and(|a| full.as_str() <= a) {
                continue;
            }
            let st = match rustix::fs::statat(dir, sort_name.as_str(), AtFlags::SYMLINK_NOFOLLOW) {
                Ok(st) => st,
                Err(Errno::NOENT) => continue,
                Err(e) => return Err(fsafe::fs_err(&format!("cannot list {full:?}"), e)),
            };
            if FileType::from_raw_mode(st.st_mode) != FileType::RegularFile {
                continue;
            }
            out.push(ObjectInfo {
                key: full,
                size: st.st_size as u64,
                sha256: None,
                etag: None,
                modified: Some(st.st_mtime as i64 * 1_000_000 + st.st_mtime_nsec as i64 / 1000),
            });
        }
    }
    Ok(())
}

/// Give `tmp` the name `name` only if nothing has it.
fn create_if_absent(dir: &OwnedFd, tmp: &str, name: &str, key: &str) -> Result<()> {
    let exists = || {
        Error::new(
            ErrorKind::AlreadyExists,
            format!("object {key:?} already exists: objects are never overwritten"),
        )
    };
    match rustix::fs::renameat_with(dir, tmp, dir, name, RenameFlags::NOREPLACE) {
        Ok(()) => Ok(()),
        Err(Errno::EXIST) => Err(exists()),
        // No RENAME_NOREPLACE here: a hard link is create-if-absent too.
        Err(Errno::INVAL | Errno::NOSYS | Errno::OPNOTSUPP) => {
            match rustix::fs::linkat(dir, tmp, dir, name, rustix::fs::AtFlags::empty()) {
                Ok(()) => fsafe::unlink(dir, tmp),
                Err(Errno::EXIST) => Err(exists()),
                Err(e) => Err(fsafe::fs_err(&format!("cannot store object {key:?}"), e)),
            }
        }
        Err(e) => Err(fsafe::fs_err(&format!("cannot store object {key:?}"), e)),
    }
}
