//! `--metrics-addr`: a Prometheus endpoint for long-running commands (the metrics are listed in
//! `alto_core::telemetry`).

use crate::Failure;
use std::net::SocketAddr;

/// Serve `/metrics` (any path answers) at `addr` from now on, on the current Tokio runtime.
pub(crate) fn serve(addr: SocketAddr, quiet: bool) -> Result<(), Failure> {
    metrics_exporter_prometheus::PrometheusBuilder::new()
        .with_http_listener(addr)
        .install()
        .map_err(|e| Failure {
            code: 1,
            message: format!("cannot serve metrics at {addr}: {e}"),
        })?;
    if !quiet {
        eprintln!("alto: metrics at http://{addr}/metrics");
    }
    Ok(())
}
