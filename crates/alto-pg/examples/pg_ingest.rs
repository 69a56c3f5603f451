//! Ingest one inventory into a PostgreSQL store through the core's chunked driver, printing a
//! line per chunk. The crash test kills it with SIGKILL at random points and runs it again.
//!
//! ```text
//! pg_ingest URL TENANT SHARE INVENTORY [CHUNK_ROWS] [full|partial]
//! ```
//!
//! URL is a runtime login's (`alto login create`): `PgStore::connect` refuses the owner unless
//! `ALTO_ALLOW_OWNER_LOGIN=1`. The tenant and share must exist. The scan is keyed by the inventory's identity, so a rerun
//! after a crash resumes it and skips the chunks that landed.

use alto_core::Store;
use alto_core::ingest::{IngestOptions, ingest, source_identity};
use alto_core::store::ScanKind;
use std::io::Write;
use std::path::Path;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [url, tenant, share, inventory, rest @ ..] = args.as_slice() else {
        return Err(
            "usage: pg_ingest URL TENANT SHARE INVENTORY [CHUNK_ROWS] [full|partial]".into(),
        );
    };
    let chunk_rows = rest.first().map(|c| c.parse()).transpose()?;
    let kind = match rest.get(1).map(String::as_str) {
        None | Some("full") => ScanKind::Full,
        Some("partial") => ScanKind::Partial,
        Some(other) => return Err(format!("unknown scan kind {other:?}").into()),
    };
    let store = alto_pg::PgStore::connect(url).await?;
    let tenant = store.tenant(tenant).await?;
    let path = Path::new(inventory);
    let opts = IngestOptions {
        kind,
        chunk_rows,
        source: Some(source_identity(path)?),
        path_prefix: None,
        ..IngestOptions::default()
    };
    let mut src = alto_core::inventory::open(path, &Default::default())?;
    let mut out = std::io::stdout();
    let report = ingest(
        &store,
        tenant.id,
        share,
        &mut *src,
        &opts,
        |_| {},
        |r, _| {
            let _ = writeln!(out, "chunk {} {}", r.chunks_applied, r.chunks_skipped);
            let _ = out.flush();
        },
    )
    .await?;
    println!("{}", serde_json::to_string(&report)?);
    Ok(())
}
