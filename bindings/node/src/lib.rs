//! Alto for Node.js: the napi-rs addon behind `bindings/node` (issue 18).
//!
//! A thin layer over the Rust SDK handle ([`alto::Alto`]): every module converts values and maps
//! errors, nothing else. I/O returns Promises that run on napi's Tokio runtime; CPU work
//! ([`rules::plan_inventory`]) runs as an `AsyncTask` on libuv's thread pool, so the event loop
//! never blocks. Listings are async iterables with a resumable `cursor`.
//!
//! Module map (one file per concept, as in the Rust crate): [`handle`] (`connect`, `Alto`),
//! [`admin`] (`migrate`, PostgreSQL logins),
//! [`tenant`], [`upkeep`] (tenant settings, `maintain`, `reconcile`, `report`), [`pages`] (async
//! iterables), [`rules`] (`RuleSet`, `planInventory`), [`plan`],
//! [`records`] (files, jobs, audit events, reports), `json` (pages as JSON text, written off the
//! JS thread) and [`error`] (`err.code`).

pub mod admin;
pub mod error;
pub mod handle;
mod json;
pub mod pages;
pub mod plan;
pub mod records;
pub mod rules;
pub mod tenant;
pub mod upkeep;
