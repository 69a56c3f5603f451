//! # alto-core
//!
//! The heart of Alto: domain types, the lifecycle state machine, the storage and driver traits,
//! the inventory readers, the planner, reports (what counts and the buckets, [`report`]), and the
//! in-process reference store. Backends (`alto-sqlite`, `alto-pg`) implement [`Store`]; the CLI
//! and the bindings are built on this crate. It never names a backend.
//!
//! ```no_run
//! use alto_core::{inventory, planner::{PlanOptions, Planner}, RuleSet};
//! # fn main() -> alto_core::Result<()> {
//! let rules = RuleSet::from_path("rules.toml".as_ref())?;
//! let mut src = inventory::open("scan.csv".as_ref(), &Default::default())?;
//! let mut planner = Planner::new(&rules, PlanOptions::at(alto_core::time::now_micros()));
//! while let Some(item) = src.next_item()? {
//!     if let inventory::Item::Row(row) = item {
//!         planner.add(&row.facts(), None);
//!     }
//! }
//! let report = planner.finish();
//! println!("{} files, {} bytes would be tiered", report.files_matched, report.bytes_matched);
//! # Ok(()) }
//! ```

pub mod driver;
pub mod error;
pub mod failpoint;
pub mod feed;
pub mod ingest;
pub mod inventory;
pub mod lifecycle;
pub mod maintain;
pub mod names;
pub mod path;
pub mod planner;
pub mod reconcile;
pub mod report;
pub mod store;
pub mod telemetry;
#[cfg(feature = "testkit")]
pub mod testkit;
pub mod time;
pub mod types;
pub mod worker;

pub use alto_rules::{self as rules, RuleSet};
pub use error::{Error, ErrorKind, Result};
pub use lifecycle::{Action, TierState};
pub use store::Store;
pub use store::memory::MemoryStore;
pub use types::*;
