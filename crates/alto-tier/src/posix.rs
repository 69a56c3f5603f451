//! The reference stub driver for POSIX file systems.
//!
//! A stub is a small regular file:
//!
//! ```text
//! #ALTO-STUB v1
//! {"target_uri":"file:///srv/tier2/acme/x.mov","size":2400000000,"sha256":"…","modified":…,"accessed":…,"tenant":"acme"}
//! ```
//!
//! with the original's permissions and mtime, so listings still show the original's age. Both
//! swaps write a temporary file in the same directory, fsync it, rename it over the target path
//! and fsync the directory: after a crash at any point the path holds the original bytes or a
//! valid stub, never a mix. Temporary files left by a crash are named `.*.alto-tmp-*` and hold
//! nothing that is not also elsewhere.

use crate::hash::sha256_file;
use alto_core::driver::{StubDriver, StubInfo};
use alto_core::{Error, ErrorKind, Result};
use async_trait::async_trait;
use filetime::FileTime;
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// The first line of every stub.
pub const STUB_MAGIC: &str = "#ALTO-STUB v1\n";
/// A stub is never larger than this.
const STUB_MAX: u64 = 64 * 1024;

/// The POSIX stub driver.
#[derive(Debug, Clone, Default)]
pub struct PosixStubDriver;

fn micros(t: FileTime) -> i64 {
    t.unix_seconds() * 1_000_000 + i64::from(t.nanoseconds() / 1000)
}

fn filetime(m: i64) -> FileTime {
    FileTime::from_unix_time(
        m.div_euclid(1_000_000),
        (m.rem_euclid(1_000_000) * 1000) as u32,
    )
}

fn io(context: String) -> impl FnOnce(std::io::Error) -> Error {
    move |e| Error::from(e).prefixed(&context)
}

/// A temporary name next to `path`.
fn temp_next_to(path: &Path) -> Result<PathBuf> {
    let name = path
        .file_name()
        .ok_or_else(|| Error::invalid_input(format!("{} has no file name", path.display())))?;
    let tmp = format!(
        ".{}.alto-tmp-{}-{}",
        name.to_string_lossy(),
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    );
    Ok(path.with_file_name(tmp))
}

fn fsync_dir(path: &Path) -> Result<()> {
    if let Some(dir) = path.parent() {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io(format!("cannot fsync directory {}", dir.display())))?;
    }
    Ok(())
}

/// Read a stub's record, or `None` when `path` is a regular file that is not a stub.
fn parse_stub(path: &Path) -> Result<Option<StubInfo>> {
    let meta =
        std::fs::symlink_metadata(path).map_err(io(format!("cannot stat {}", path.display())))?;
    if !meta.file_type().is_file() {
        return Err(Error::invalid_input(format!(
            "{} is not a regular file",
            path.display()
        )));
    }
    if meta.len() > STUB_MAX || meta.len() < STUB_MAGIC.len() as u64 {
        return Ok(None);
    }
    let mut text = String::new();
    let mut f = std::fs::File::open(path).map_err(io(format!("cannot open {}", path.display())))?;
    if f.read_to_string(&mut text).is_err() {
        return Ok(None); // not UTF-8: not ours
    }
    let Some(body) = text.strip_prefix(STUB_MAGIC) else {
        return Ok(None);
    };
    serde_json::from_str(body.trim_end())
        .map(Some)
        .map_err(|e| {
            Error::invalid_input(format!(
                "{} has an Alto stub header but a damaged record: {e}",
                path.display()
            ))
        })
}

fn write_synced(path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(io(format!("cannot create {}", path.display())))?;
    f.write_all(bytes)?;
    f.set_permissions(std::fs::Permissions::from_mode(mode))?;
    f.sync_all()?;
    Ok(())
}

impl PosixStubDriver {
    fn stub_blocking(path: &Path, info: &StubInfo) -> Result<()> {
        if parse_stub(path)?.is_some() {
            return Err(Error::new(
                ErrorKind::InvalidTransition,
                format!("{} is already a stub", path.display()),
            ));
        }
        let check_unchanged = || -> Result<std::fs::Metadata> {
            let meta =
                std::fs::metadata(path).map_err(io(format!("cannot stat {}", path.display())))?;
            let mtime = micros(FileTime::from_last_modification_time(&meta));
            if meta.len() != info.size || mtime != info.modified {
                return Err(Error::conflict(format!(
                    "{} changed since it was copied (size {} vs {}, mtime {} vs {}): keeping the original",
                    path.display(),
                    meta.len(),
                    info.size,
                    mtime,
                    info.modified
                )));
            }
            Ok(meta)
        };
        let meta = check_unchanged()?;
        let mut body = String::from(STUB_MAGIC);
        body.push_str(
            &serde_json::to_string(info)
                .map_err(|e| Error::new(ErrorKind::Backend, e.to_string()))?,
        );
        body.push('\n');
        let tmp = temp_next_to(path)?;
        let mode = meta.permissions().mode();
        let result = (|| {
            write_synced(&tmp, body.as_bytes(), mode)?;
            let atime = info
                .accessed
                .map_or_else(|| FileTime::from_last_access_time(&meta), filetime);
            filetime::set_file_times(&tmp, atime, filetime(info.modified))?;
            // Last look before the swap: a write since the copy must keep the original.
            check_unchanged()?;
            alto_core::failpoint::hit("stub_before_rename");
            std::fs::rename(&tmp, path)
                .map_err(io(format!("cannot replace {}", path.display())))?;
            fsync_dir(path)
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result
    }

    fn restore_blocking(path: &Path, content: &Path, info: &StubInfo) -> Result<()> {
        let meta =
            std::fs::metadata(path).map_err(io(format!("cannot stat {}", path.display())))?;
        let same_dir = content.parent() == path.parent();
        let staged = if same_dir {
            content.to_path_buf()
        } else {
            let tmp = temp_next_to(path)?;
            std::fs::copy(content, &tmp).map_err(io(format!(
                "cannot copy {} next to {}",
                content.display(),
                path.display()
            )))?;
            std::fs::File::open(&tmp).and_then(|f| f.sync_all())?;
            tmp
        };
        let result = (|| {
            std::fs::set_permissions(&staged, meta.permissions())?;
            let atime = info.accessed.map_or_else(FileTime::now, filetime);
            filetime::set_file_times(&staged, atime, filetime(info.modified))?;
            std::fs::File::open(&staged).and_then(|f| f.sync_all())?;
            alto_core::failpoint::hit("restore_before_rename");
            std::fs::rename(&staged, path)
                .map_err(io(format!("cannot restore {}", path.display())))?;
            fsync_dir(path)
        })();
        if result.is_err() && !same_dir {
            let _ = std::fs::remove_file(&staged);
        }
        result
    }
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

    async fn is_stub(&self, path: &Path) -> Result<bool> {
        let p = path.to_owned();
        blocking(move || parse_stub(&p).map(|s| s.is_some())).await
    }

    async fn read_stub(&self, path: &Path) -> Result<StubInfo> {
        let p = path.to_owned();
        blocking(move || {
            parse_stub(&p)?.ok_or_else(|| {
                Error::invalid_input(format!("{} is a regular file, not a stub", p.display()))
            })
        })
        .await
    }

    async fn stub(&self, path: &Path, info: &StubInfo) -> Result<()> {
        let (p, i) = (path.to_owned(), info.clone());
        blocking(move || Self::stub_blocking(&p, &i)).await
    }

    async fn restore(&self, path: &Path, content: &Path) -> Result<()> {
        let info = match self.read_stub(path).await {
            Ok(i) => i,
            Err(e) if e.kind() == ErrorKind::InvalidInput => {
                return Err(Error::new(
                    ErrorKind::InvalidTransition,
                    format!("{} is not a stub: nothing to rehydrate", path.display()),
                ));
            }
            Err(e) => return Err(e),
        };
        let (size, sha) = sha256_file(content).await?;
        if size != info.size || sha != info.sha256 {
            return Err(Error::conflict(format!(
                "content for {} does not match its stub (size {size} vs {}, sha256 {sha} vs {}): stub kept",
                path.display(),
                info.size,
                info.sha256
            ))
            .retryable(false));
        }
        let (p, c) = (path.to_owned(), content.to_owned());
        blocking(move || Self::restore_blocking(&p, &c, &info)).await
    }
}
