//! `--store URL`: which store a command uses, and opening it.

use crate::Failure;
use alto::{DEFAULT_STORE, Store};
use clap::Args;
use std::sync::Arc;

#[derive(Debug, Args, Clone)]
pub(crate) struct StoreArgs {
    /// The store: `sqlite://PATH`, `postgres://…` or `memory://`. Default: `sqlite://alto.db` in the
    /// current directory.
    #[arg(long, env = "ALTO_STORE", value_name = "URL")]
    pub(crate) store: Option<String>,
}

impl StoreArgs {
    /// The URL to use; says once on stderr when it is the default.
    pub(crate) fn url(&self, quiet: bool) -> String {
        match &self.store {
            Some(u) => u.clone(),
            None => {
                if !quiet {
                    eprintln!(
                        "alto: no --store or ALTO_STORE given; using {DEFAULT_STORE} in the current directory"
                    );
                }
                DEFAULT_STORE.to_owned()
            }
        }
    }

    pub(crate) async fn open(&self, quiet: bool) -> Result<Arc<dyn Store>, Failure> {
        let store = alto::open_store(&self.url(quiet)).await?;
        store.set_actor(alto::Actor::current(source()));
        Ok(store)
    }

    /// The library's handle on the store (what every command goes through).
    pub(crate) async fn alto(&self, quiet: bool) -> Result<alto::Alto, Failure> {
        Ok(alto::Alto::with_store(self.open(quiet).await?)
            .connect()
            .await?)
    }

    /// Open a store that a command acting on files (`run`, `rehydrate`, `feed`) may trust: an
    /// SQLite file must be owned by the user running the command, and its directory must not be
    /// writable by group or others — root acting on a catalogue another user planted would tier
    /// whatever that catalogue names. `allow_shared` skips the check with a warning.
    pub(crate) async fn open_trusted(
        &self,
        quiet: bool,
        allow_shared: bool,
    ) -> Result<Arc<dyn Store>, Failure> {
        let url = self.url(quiet);
        if let Some(path) = sqlite_path(&url)? {
            if let Err(why) = check_private(&path) {
                let path = path.display();
                if !allow_shared {
                    return Err(Failure::usage(format!(
                        "refusing the store {path}: {why} (--allow-shared-store to use it anyway)"
                    )));
                }
                eprintln!("alto: warning: using the store {path} although {why}");
            }
        }
        let store = alto::open_store(&url).await?;
        store.set_actor(alto::Actor::current(source()));
        Ok(store)
    }
}

static SOURCE: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Name the command this process runs, for the audit events it writes.
pub(crate) fn set_source(source: &str) {
    let _ = SOURCE.set(source.to_owned());
}

fn source() -> &'static str {
    SOURCE.get().map_or("cli", String::as_str)
}

/// The file of an SQLite store URL, as the store itself parses it (`None` for other stores
/// and in-memory SQLite).
fn sqlite_path(url: &str) -> Result<Option<std::path::PathBuf>, Failure> {
    match alto::StoreUrl::parse(url)? {
        alto::StoreUrl::Sqlite(u) => Ok(alto::sqlite_database_file(&u)?),
        _ => Ok(None),
    }
}

/// Why a store file may not be trusted, if it may not.
fn check_private(path: &std::path::Path) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    let me = rustix::process::geteuid().as_raw();
    match std::fs::symlink_metadata(path) {
        Ok(m) => {
            if !m.file_type().is_file() {
                return Err("it is not a regular file".into());
            }
            if m.uid() != me {
                return Err(format!("it is owned by uid {}, not by uid {me}", m.uid()));
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(format!("it cannot be examined: {e}")),
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let m =
        std::fs::metadata(&dir).map_err(|e| format!("its directory cannot be examined: {e}"))?;
    if m.mode() & 0o022 != 0 {
        return Err(format!(
            "its directory {} is writable by group or others (mode {:o})",
            dir.display(),
            m.mode() & 0o7777
        ));
    }
    Ok(())
}

/// A multi-threaded runtime with two workers: an ingest applies one chunk on a task of its own
/// while the command's thread reads the next (`Store::stage_chunk`).
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Failure {
            code: 1,
            message: format!("cannot start the async runtime: {e}"),
        })
}

#[cfg(test)]
mod tests {
    #[test]
    fn sqlite_paths() {
        let p = |u: &str| super::sqlite_path(u).ok().flatten();
        assert_eq!(p("sqlite://alto.db"), Some("alto.db".into()));
        assert_eq!(p("sqlite:/x/a.db"), Some("/x/a.db".into()));
        assert_eq!(p("sqlite::memory:"), None);
        assert_eq!(p("postgres://h/db"), None);
        // What the store refuses to open is refused here too, not checked as another file.
        assert!(super::sqlite_path("sqlite:/x/a.db?mode=rwc").is_err());
    }
}
