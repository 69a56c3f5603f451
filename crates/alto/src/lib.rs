//! # alto
//!
//! Tiered storage management, embeddable: open a store by URL and use the core's types, planner
//! and readers through one crate. This is what the `alto` command and the Python and Node
//! bindings build on.
//!
//! | URL | store | feature |
//! |---|---|---|
//! | `sqlite://alto.db` (the default) | embedded SQLite file, created and migrated on first use | `sqlite` |
//! | `postgres://user@host/db` | PostgreSQL with row-level security (run [`migrate`] once) | `postgres` |
//! | `memory://` | in-process, nothing persists | always |
//!
//! ```no_run
//! # async fn demo() -> alto::Result<()> {
//! let store = alto::connect("sqlite://alto.db").await?;
//! let tenant = store.tenant("acme").await?;
//! # Ok(()) }
//! ```

pub use alto_core::*;

/// Tier targets (`file://`, `s3://`, `az://`) and the POSIX stub driver.
pub use alto_tier as tier;

mod url;

#[cfg(feature = "postgres")]
pub use url::login;
pub use url::{DEFAULT_STORE, SCHEMES, StoreUrl, connect, migrate};

/// The database file of an SQLite store URL (`None` for in-memory SQLite), as the store opens it.
#[cfg(feature = "sqlite")]
pub use alto_sqlite::database_file as sqlite_database_file;
