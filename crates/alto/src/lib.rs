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
//!
//! ## Ingest, reporting as it goes
//!
//! [`TenantHandle::ingest`] reads an inventory into a share. An [`IngestRequest`] carries the
//! reader's options and callbacks for rejected rows, progress and the reader's notes; open the
//! file first with [`InventoryFile::open`] (then [`TenantHandle::ingest_file`]) to refuse a bad
//! file or size a progress bar before touching the store, as `alto ingest` does.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> alto::Result<()> {
//! use alto::{IngestRequest, InventoryFile};
//! use std::sync::{Arc, Mutex};
//!
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("inventory.csv");
//! std::fs::write(
//!     &path,
//!     "file_path,file_size,last_modified\n/srv/a.mov,10,2024-01-01T00:00:00Z\n/srv/b.mov,x,\n",
//! )?;
//! let alto = alto::connect("memory://").await?;
//! let tenant = alto.create_tenant("acme", &Default::default()).await?;
//!
//! let file = InventoryFile::open(&path, &Default::default())?;
//! println!("{:?} bytes to read", file.progress().total);
//! let rejected = Arc::new(Mutex::new(Vec::new()));
//! let r = rejected.clone();
//! let req = IngestRequest::default()
//!     .full_scan()
//!     .on_reject(move |row| r.lock().unwrap().push(row.to_string()))
//!     .on_progress(|p| eprintln!("read {} of {:?}", p.done, p.total))
//!     .on_note(|note| eprintln!("note: {note}"));
//! let report = tenant.ingest_file("media", file, &req).await?;
//! assert_eq!((report.accepted, report.rejected), (1, 1));
//! assert!(rejected.lock().unwrap()[0].contains("file_size"));
//! # Ok(()) }
//! ```
//!
//! ## Reconciliation
//!
//! [`TenantHandle::reconcile`] compares the catalogue with what the tier targets hold (under the
//! tenant's own key prefix) and with the stubs beneath the shares' roots: stubbed files whose
//! object is gone or not as recorded are flagged LOST, objects no tier object refers to are
//! reported as orphans and, with [`ReconcileRequest::apply`], deleted when they may be (older
//! than the grace period, a tier id the store gave this tenant, no stub on disk naming them),
//! and stubs the catalogue does not know are reported; each finding is an audit event under one
//! `reconcile.run`. The [`ReconcileReport`] lists them (`alto reconcile --format json` prints
//! it).
//!
//! ## Reports
//!
//! [`TenantHandle::report`] gives a [`report::Report`] of a tenant's files (totals, breakdowns,
//! the largest and oldest files, a rule set's what-if; `alto report --format json` prints it);
//! [`report_html`] and [`report_csv`] write it as `alto report --format html` and `csv` do.
//!
//! ## Stability
//!
//! What the handle returns (reports, outcomes, records such as [`FileRecord`], [`Job`] and
//! [`AuditEvent`]) and the enums it hands out ([`TierState`], [`JobState`], [`ShareKind`],
//! [`ErrorKind`], the tenant policies, …) are `#[non_exhaustive]`: fields and variants may be
//! added in minor releases, so read fields by name and give a `match` a `_` arm. Inputs are
//! built from `Default` with builder methods ([`IngestRequest`], [`PlanRequest`],
//! [`RunOptions`], [`TenantSettings`]). A rule set refused on the way keeps its
//! [`rules::RuleError`] as the [`Error`]'s source ([`Error::rule_error`]): the rule and field at
//! fault stay readable.

pub use alto_core::*;

/// Tier targets (`file://`, `s3://`, `az://`) and the POSIX stub driver.
pub use alto_tier as tier;

pub mod human;
mod report_html;
mod reports;
mod sdk;
mod url;

pub use alto_core::reconcile::ReconcileReport;
pub use report_html::report_html;
pub use reports::{ReportRequest, report_csv};
pub use sdk::{
    Alto, AltoBuilder, CancelToken, Cursor, FeedRequest, IngestRequest, InventoryFile, OnFile,
    OnJob, OnNote, OnProgress, OnReject, Pages, PlanOutcome, PlanRequest, ReconcileRequest,
    RunOptions, RunReport, TenantHandle, default_targets,
};

#[cfg(feature = "postgres")]
pub use url::login;
pub use url::{DEFAULT_STORE, SCHEMES, StoreUrl, connect, migrate, open_store};

/// The database file of an SQLite store URL (`None` for in-memory SQLite), as the store opens it.
#[cfg(feature = "sqlite")]
pub use alto_sqlite::database_file as sqlite_database_file;
