//! Opening a store: the URL, the checks that refuse a foreign file, migrations, and the pools.
//!
//! Order matters, because nothing may be written into a file before it is known to be ours:
//! 1. a file that exists must start with the SQLite header (an empty file is a new database); a
//!    file that does not is created empty with mode 0600 (its `-wal` and `-shm` files follow);
//! 2. one connection reads `PRAGMA application_id`, `PRAGMA user_version` and the table list, and
//!    refuses another program's database and a schema newer than this build;
//! 3. only then are migrations applied, inside one `BEGIN IMMEDIATE` transaction that re-checks
//!    the marker, so two processes opening a new file at once migrate it once; the same
//!    transaction re-derives the path keys of a database older than version 5 ([`rekey`]);
//! 4. WAL is switched on (a file setting; it cannot change inside a transaction) and the pools
//!    are built: one writer connection, and reader connections that never block it.

use crate::error::{db, db_in};
use crate::rekey;
use alto_core::{Error, ErrorKind, Result};
use sqlx::migrate::Migrator;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{ConnectOptions, Connection};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// `PRAGMA application_id` of every Alto database: "Alto" in ASCII.
pub const APPLICATION_ID: i32 = 0x416C_746F;

/// How long a statement waits for another process's write lock before failing with a retryable
/// `Backend` error.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// Reader connections per store (file databases).
const READERS: u32 = 4;

/// Page cache of the writer connection, in KiB (negative `cache_size`): large, because ingest
/// probes the `file_current` key index once per row.
const WRITER_CACHE_KIB: i64 = 256 * 1024;

/// Page cache of each reader connection, in KiB.
const READER_CACHE_KIB: i64 = 32 * 1024;

/// Page size of new databases. 16 KiB pages made a first ingest of 1M files about 7 % faster than
/// 8 KiB (interleaved runs: 102,400–102,800 against 107,600–108,600 rows/s), and 8 KiB had been
/// about a tenth faster than SQLite's 4 KiB: shallower b-trees for the long path keys, fewer pages
/// per chunk. 32 KiB was within noise of 16 KiB; larger pages cost more per scattered write (a
/// feed batch rewrites whole pages into the WAL), so 16 KiB. An existing database keeps its size.
const PAGE_SIZE_PRAGMA: &str = "PRAGMA page_size = 16384";

/// WAL size (256 MiB) after which a commit checkpoints on the writer (SQLite's default is 1000
/// pages; the limit is set in pages of the file's own size). The [`Checkpointer`], woken after
/// every ingest commit, copies the WAL into the database beside the writer; the writer's own
/// checkpoint, on the ingest's critical path, is only the bound for when it falls behind. At 64 MiB the writer checkpointed after nearly every chunk
/// (a 50,000-file chunk dirties that much of the key index): 1M new files took 8% longer. A
/// longer WAL makes page lookups slower (its index is searched page by page: at 512 MiB ingest
/// took twice the CPU). The WAL file is truncated back to this size after a checkpoint.
const WAL_CHECKPOINT_BYTES: u64 = 256 << 20;

/// The embedded migrations (`crates/alto-sqlite/migrations`).
pub(crate) static MIGRATOR: Migrator = sqlx::migrate!();

/// The schema version this build writes and understands (the newest migration).
pub fn schema_version() -> i64 {
    MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0)
}

/// Where the database lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Location {
    /// `sqlite::memory:`: private to this store and its clones, gone when the last is dropped.
    Memory,
    /// A database file.
    File(PathBuf),
}

/// Parse `sqlite://PATH`, `sqlite:PATH`, `sqlite::memory:` or a plain path.
pub(crate) fn parse_url(url: &str) -> Result<Location> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"));
    let path = match rest {
        Some(r) => {
            if r.contains('?') {
                return Err(Error::invalid_input(format!(
                    "store URL {url:?}: query parameters are not supported by the sqlite store"
                )));
            }
            r
        }
        None => url,
    };
    if path == ":memory:" {
        return Ok(Location::Memory);
    }
    if path.is_empty() {
        return Err(Error::invalid_input(format!(
            "store URL {url:?} names no database file (e.g. sqlite://alto.db)"
        )));
    }
    // sqlx opens with SQLITE_OPEN_URI: keep a path that looks like a URI a path.
    if path.starts_with("file:") {
        return Ok(Location::File(Path::new(".").join(path)));
    }
    Ok(Location::File(PathBuf::from(path)))
}

/// The database file an SQLite store URL opens (`None` for `sqlite::memory:`): the path the
/// store itself will open, for callers that check it first (`alto run` refuses a store file
/// another user could have planted).
pub fn database_file(url: &str) -> Result<Option<PathBuf>> {
    Ok(match parse_url(url)? {
        Location::Memory => None,
        Location::File(p) => Some(p),
    })
}

/// The pools of an open store.
#[derive(Debug, Clone)]
pub(crate) struct Pools {
    /// Readers (and, for `:memory:`, the one connection).
    pub read: SqlitePool,
    /// The single writer connection.
    pub write: SqlitePool,
    /// False for `:memory:`.
    pub durable: bool,
    /// Background WAL checkpoints (file databases).
    pub checkpointer: Option<std::sync::Arc<Checkpointer>>,
}

/// Checkpoints the WAL on its own connection, beside the writer.
///
/// A checkpoint copies committed pages from the WAL into the database file and syncs both. Done by
/// the writer at commit (SQLite's default), it stalls ingest on disk syncs; here a task woken at
/// the start of every write transaction and after every ingest commit runs
/// `PRAGMA wal_checkpoint(PASSIVE)` on another connection, which never blocks the writer or
/// readers (a passive checkpoint takes what it can).
/// The task ends when the last clone of the store is dropped.
#[derive(Debug)]
pub(crate) struct Checkpointer {
    wake: std::sync::Arc<tokio::sync::Notify>,
    task: tokio::task::JoinHandle<()>,
}

impl Checkpointer {
    fn start(conn: SqliteConnection) -> Self {
        let wake = std::sync::Arc::new(tokio::sync::Notify::new());
        let signal = wake.clone();
        let task = tokio::spawn(async move {
            let mut conn = conn;
            loop {
                signal.notified().await;
                // A failure (a busy file, a full disk) only delays the checkpoint: the writer's
                // own automatic checkpoint still bounds the WAL.
                let _ = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                    .execute(&mut conn)
                    .await;
            }
        });
        Checkpointer { wake, task }
    }

    /// There are (or soon will be) commits to checkpoint.
    pub(crate) fn wake(&self) {
        self.wake.notify_one();
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn base_options() -> SqliteConnectOptions {
    SqliteConnectOptions::new()
        .foreign_keys(true)
        .busy_timeout(BUSY_TIMEOUT)
        // Durable against a crashed or killed process in WAL mode; only an OS crash or power loss
        // can lose the last commits (never corrupt the file). See the README.
        .synchronous(SqliteSynchronous::Normal)
        .pragma("temp_store", "memory")
        .statement_cache_capacity(64)
}

/// Open and migrate.
pub(crate) async fn open(url: &str) -> Result<Pools> {
    match parse_url(url)? {
        Location::Memory => open_memory().await,
        Location::File(path) => open_file(&path).await,
    }
}

async fn open_memory() -> Result<Pools> {
    // One connection holds the database: every clone of the store shares it, and it lives until
    // the pool is dropped (no idle timeout, no maximum lifetime).
    let opts = base_options()
        .in_memory(true)
        .pragma("cache_size", format!("-{WRITER_CACHE_KIB}"));
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .min_connections(1)
        .idle_timeout(None)
        .max_lifetime(None)
        .test_before_acquire(false)
        .connect_with(opts)
        .await
        .map_err(db_in("cannot open an in-memory SQLite database"))?;
    let mut conn = pool.acquire().await.map_err(db)?;
    migrate(&mut conn, ":memory:", false).await?;
    drop(conn);
    Ok(Pools {
        read: pool.clone(),
        write: pool,
        durable: false,
        checkpointer: None,
    })
}

async fn open_file(path: &Path) -> Result<Pools> {
    let name = path.display().to_string();
    check_header(path)?;
    create_private(path)?;
    let opts = base_options().filename(path);
    let mut conn = opts
        .clone()
        .create_if_missing(true)
        .connect()
        .await
        .map_err(|e| db(e).prefixed(&format!("cannot open SQLite database {name}")))?;
    let result = async {
        migrate(&mut conn, &name, true).await?;
        ensure_wal(&mut conn, &name).await?;
        sqlx::query_scalar::<_, i64>("PRAGMA page_size")
            .fetch_one(&mut conn)
            .await
            .map_err(db)
    }
    .await;
    let page_size = match result {
        Ok(size) => u64::try_from(size).unwrap_or(0).max(512),
        Err(e) => {
            let _ = conn.close().await;
            return Err(e);
        }
    };
    // The opening connection goes on as the checkpointer's.
    let checkpointer = Some(std::sync::Arc::new(Checkpointer::start(conn)));
    let write = SqlitePoolOptions::new()
        .max_connections(1)
        .min_connections(1)
        .idle_timeout(None)
        .max_lifetime(None)
        .test_before_acquire(false)
        .acquire_timeout(BUSY_TIMEOUT * 2)
        .connect_with(
            opts.clone()
                .pragma("cache_size", format!("-{WRITER_CACHE_KIB}"))
                .pragma(
                    "wal_autocheckpoint",
                    (WAL_CHECKPOINT_BYTES / page_size).to_string(),
                )
                .pragma("journal_size_limit", WAL_CHECKPOINT_BYTES.to_string()),
        )
        .await
        .map_err(db_in(&format!("cannot open SQLite database {name}")))?;
    let read = SqlitePoolOptions::new()
        .max_connections(READERS)
        .test_before_acquire(false)
        .connect_with(opts.pragma("cache_size", format!("-{READER_CACHE_KIB}")))
        .await
        .map_err(db_in(&format!("cannot open SQLite database {name}")))?;
    Ok(Pools {
        read,
        write,
        durable: true,
        checkpointer,
    })
}

/// Switch the file to WAL (a setting of the file). The switch needs a moment alone with the file
/// and SQLite does not wait for that (no busy handler), so it is retried until [`BUSY_TIMEOUT`].
async fn ensure_wal(conn: &mut SqliteConnection, name: &str) -> Result<()> {
    let deadline = std::time::Instant::now() + BUSY_TIMEOUT;
    loop {
        let mode: std::result::Result<String, _> = sqlx::query_scalar("PRAGMA journal_mode = WAL")
            .fetch_one(&mut *conn)
            .await;
        match mode {
            Ok(m) if m.eq_ignore_ascii_case("wal") => return Ok(()),
            Ok(m) if std::time::Instant::now() >= deadline => {
                return Err(Error::new(
                    ErrorKind::Backend,
                    format!("cannot switch {name} to WAL mode: it stays in {m} mode"),
                ));
            }
            Err(e) => {
                let e = db(e);
                if !e.is_retryable() || std::time::Instant::now() >= deadline {
                    return Err(e.prefixed(&format!("cannot switch {name} to WAL mode")));
                }
            }
            Ok(_) => {}
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Create a missing database file, empty and readable by its owner only (mode 0600 on Unix),
/// before SQLite opens it: the catalogue names every file of every tenant, and SQLite gives the
/// `-wal` and `-shm` files it creates beside a database the database file's permissions. The mode
/// is set on the new file's descriptor, whatever the umask. An existing file (even an empty one)
/// is left as it is.
fn create_private(path: &Path) -> Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    match opts.open(path) {
        Ok(f) => {
            #[cfg(unix)]
            f.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))
                .map_err(|e| {
                    Error::from(e).prefixed(&format!("cannot make {} private", path.display()))
                })?;
            drop(f);
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => {
            Err(Error::from(e)
                .prefixed(&format!("cannot create SQLite database {}", path.display())))
        }
    }
}

/// Refuse a file that is not SQLite before SQLite touches it.
fn check_header(path: &Path) -> Result<()> {
    let name = path.display();
    let mut f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::from(e).prefixed(&format!("cannot open {name}"))),
    };
    if f.metadata()?.is_dir() {
        return Err(Error::invalid_input(format!(
            "{name} is a directory, not an SQLite database file"
        )));
    }
    let mut head = Vec::with_capacity(16);
    f.by_ref().take(16).read_to_end(&mut head)?;
    if !head.is_empty() && head != b"SQLite format 3\0" {
        return Err(Error::invalid_input(format!(
            "{name} is not an SQLite database (it does not start with the SQLite header); \
             Alto will not open it"
        )));
    }
    Ok(())
}

/// What a database file holds, as far as Alto is concerned.
#[derive(Debug, PartialEq, Eq)]
enum Identity {
    /// No tables and no marker: a new database.
    Empty,
    /// An Alto database of this schema version.
    Alto(i64),
    /// Another program's database.
    Foreign {
        application_id: i32,
        tables: Vec<String>,
    },
}

async fn identify(conn: &mut SqliteConnection) -> Result<Identity> {
    let app: i32 = sqlx::query_scalar("PRAGMA application_id")
        .fetch_one(&mut *conn)
        .await
        .map_err(db)?;
    let version: i64 = sqlx::query_scalar("PRAGMA user_version")
        .fetch_one(&mut *conn)
        .await
        .map_err(db)?;
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(db)?;
    Ok(match app {
        APPLICATION_ID => Identity::Alto(version),
        0 if tables.is_empty() => Identity::Empty,
        _ => Identity::Foreign {
            application_id: app,
            tables,
        },
    })
}

fn refuse(name: &str, id: &Identity) -> Option<Error> {
    match id {
        Identity::Empty => None,
        Identity::Alto(v) if *v <= schema_version() => None,
        Identity::Alto(v) => Some(Error::new(
            ErrorKind::Unsupported,
            format!(
                "{name} has Alto schema version {v}, newer than this build of alto-sqlite {} \
                 understands (version {}); upgrade Alto to open it",
                env!("CARGO_PKG_VERSION"),
                schema_version()
            ),
        )),
        Identity::Foreign {
            application_id,
            tables,
        } => {
            let mut list = tables
                .iter()
                .take(5)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ");
            if tables.len() > 5 {
                list.push_str(", …");
            }
            Some(Error::invalid_input(format!(
                "{name} is an SQLite database of another program (application_id \
                 {application_id:#010x}, tables: {list}), not an Alto database; Alto will not \
                 write into it: use a new file"
            )))
        }
    }
}

/// Check the file's identity and bring its schema up to date.
async fn migrate(conn: &mut SqliteConnection, name: &str, wal: bool) -> Result<()> {
    let id = identify(conn).await?;
    if id == Identity::Empty {
        // Only takes effect while the file is still empty (before the first table exists).
        sqlx::query(PAGE_SIZE_PRAGMA)
            .execute(&mut *conn)
            .await
            .map_err(db)?;
        // WAL from the start, so other processes can read while this one migrates.
        if wal {
            ensure_wal(conn, name).await?;
        }
    }
    if let Some(e) = refuse(name, &id) {
        return Err(e);
    }
    if id == Identity::Alto(schema_version()) && !rekey::pending(conn).await? {
        return Ok(());
    }
    // Re-check under the write lock: another process may have migrated in between.
    let mut tx = conn
        .begin_with("BEGIN IMMEDIATE")
        .await
        .map_err(db_in(&format!("cannot lock {name} to migrate it")))?;
    let id = identify(&mut tx).await?;
    if let Some(e) = refuse(name, &id) {
        return Err(e);
    }
    if id != Identity::Alto(schema_version()) {
        // `run_direct` on the connection, not `run` through `Acquire`: the latter's
        // higher-ranked bound makes the compiler fail to prove `alto::connect`'s future `Send`
        // (rust-lang/rust#102211), and a service could not spawn it.
        MIGRATOR
            .run_direct(None, &mut *tx, false)
            .await
            .map_err(|e| {
                Error::new(
                    ErrorKind::Backend,
                    format!(
                        "cannot migrate {name} to Alto schema version {}",
                        schema_version()
                    ),
                )
                .with_source(e)
            })?;
    }
    // Version 5's step in Rust (again after version 6 when a key is too long), in the same
    // transaction: the keys SQL cannot derive.
    if rekey::pending(&mut tx).await? {
        rekey::run(&mut tx, alto_core::time::now_micros())
            .await
            .map_err(|e| e.prefixed(&format!("cannot re-derive the path keys of {name}")))?;
    }
    tx.commit()
        .await
        .map_err(db_in(&format!("cannot migrate {name}")))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let f = |p: &str| Location::File(PathBuf::from(p));
        assert_eq!(parse_url("sqlite://alto.db").unwrap(), f("alto.db"));
        assert_eq!(parse_url("sqlite:alto.db").unwrap(), f("alto.db"));
        assert_eq!(
            parse_url("sqlite:///var/alto.db").unwrap(),
            f("/var/alto.db")
        );
        assert_eq!(parse_url("/var/alto.db").unwrap(), f("/var/alto.db"));
        assert_eq!(parse_url("data/a b.db").unwrap(), f("data/a b.db"));
        assert_eq!(parse_url("sqlite::memory:").unwrap(), Location::Memory);
        assert_eq!(parse_url(":memory:").unwrap(), Location::Memory);
        assert_eq!(parse_url("file:x.db").unwrap(), f("./file:x.db"));
        assert!(parse_url("sqlite://").is_err());
        assert!(parse_url("sqlite://a.db?mode=ro").is_err());
    }

    #[test]
    fn schema_version_is_the_newest_migration() {
        assert_eq!(schema_version(), 9);
    }
}
