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
//! let alto = alto::connect("sqlite://alto.db").await?;
//! let tenant = alto.tenant("acme").await?;
//! let mut audit = tenant.audit();
//! while let Some(page) = audit.next_page().await? {
//!     for event in page {
//!         println!("{} {} {}", event.id, event.kind, event.subject);
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! [`connect`] gives an [`Alto`]: the user-facing handle (owned, `Clone + Send + Sync`), with a
//! [`TenantHandle`] per tenant and [`Pages`] with an opaque [`Cursor`] for every listing. The
//! backend contract ([`Store`] and its `Tiering` and `Feeds` parts) is the implementers' side:
//! [`open_store`] and [`Alto::store`] reach it.

pub use alto_core::*;

/// Tier targets (`file://`, `s3://`, `az://`) and the POSIX stub driver.
pub use alto_tier as tier;

mod sdk;
mod url;

pub use sdk::{
    Alto, AltoBuilder, CancelToken, Cursor, FeedRequest, IngestRequest, InventoryFile, OnFile,
    OnJob, OnNote, OnProgress, OnReject, Pages, PlanOutcome, PlanRequest, RunOptions, RunReport,
    TenantHandle, default_targets,
};

#[cfg(feature = "postgres")]
pub use url::login;
pub use url::{DEFAULT_STORE, SCHEMES, StoreUrl, connect, migrate, open_store};

/// The database file of an SQLite store URL (`None` for in-memory SQLite), as the store opens it.
#[cfg(feature = "sqlite")]
pub use alto_sqlite::database_file as sqlite_database_file;
