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
        Ok(alto::connect(&self.url(quiet)).await?)
    }
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
