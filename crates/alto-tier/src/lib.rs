//! # alto-tier
//!
//! Where tiered data goes and what stays behind:
//!
//! - [`ObjectTarget`]: a [`TierTarget`](alto_core::driver::TierTarget) — `file://` (a local
//!   directory or a mounted share; objects 0600 in 0700 directories), `s3://` (any
//!   S3-compatible endpoint, configured by the usual `AWS_*` environment variables) and `az://`
//!   (Azure Blob, `AZURE_*` variables) on the `object_store` crate. Objects are never
//!   overwritten (create-if-absent) and appear only complete; every transfer is hashed
//!   (SHA-256). For reconciliation, targets list page by page under a prefix of whole key
//!   segments (S3 and Azure through their paged listings; `file://` in key order, by
//!   descriptor, never through a symlink), with sizes, entity tags and times, and delete.
//! - [`PosixStubDriver`]: the reference [`StubDriver`](alto_core::driver::StubDriver), safe for a
//!   worker running as root among hostile users: paths resolved beneath the share's root by file
//!   descriptor without following symlinks, the checked file handle is the one copied, swaps are
//!   checked exchanges followed by fsync, owner and mode come back from the catalogue, set-id
//!   bits never go to another owner. After a crash a path holds either the original bytes or a
//!   valid stub. [`find_stubs`](alto_core::driver::StubDriver::find_stubs) walks a share's root
//!   the same way for the stubs beneath it, without moving access times.
//! - [`object_key`]: the object key of a file, safe for any path (no `..` escapes, no absolute
//!   paths).

mod fsafe;
mod hash;
mod local;
mod posix;
mod target;

pub use alto_core::path::object_key;
pub use hash::{Sha256Sink, sha256_file};
pub use posix::{PosixStubDriver, STUB_MAGIC, read_stub, read_stub_at};
pub use target::ObjectTarget;
