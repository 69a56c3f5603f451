//! # alto-tier
//!
//! Where tiered data goes and what stays behind:
//!
//! - [`ObjectTarget`]: a [`TierTarget`](alto_core::driver::TierTarget) on the `object_store`
//!   crate — `file://` (a local directory or a mounted share), `s3://` (any S3-compatible
//!   endpoint, configured by the usual `AWS_*` environment variables) and `az://` (Azure Blob,
//!   `AZURE_*` variables). Objects appear only complete; every transfer is hashed (SHA-256).
//! - [`PosixStubDriver`]: the reference [`StubDriver`](alto_core::driver::StubDriver). A stub is
//!   a small file with a recognisable header and the original's size, hash, times, target and
//!   tenant; swaps are atomic renames followed by fsync, so after a crash a path holds either the
//!   original bytes or a valid stub.
//! - [`object_key`]: the object key of a file, safe for any path (no `..` escapes, no absolute
//!   paths).

mod hash;
mod posix;
mod target;

pub use alto_core::path::object_key;
pub use hash::{Sha256Sink, sha256_file};
pub use posix::{PosixStubDriver, STUB_MAGIC};
pub use target::ObjectTarget;
