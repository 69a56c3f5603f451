//! Metrics, through the [`metrics`] facade: nothing is recorded until the application installs a
//! recorder (the `alto` command's `--metrics-addr` installs a Prometheus exporter).
//!
//! | name | kind | labels | what |
//! |---|---|---|---|
//! | `alto_ingest_rows_total` | counter | `result` = `accepted`, `rejected`, `folder` | inventory rows read by ingests |
//! | `alto_feed_events_total` | counter | `outcome` = `applied`, `duplicate`, `skewed`, `unknown`, `stale`, `other` | access-feed events |
//! | `alto_feed_lag_seconds` | gauge | | how far the newest applied feed event is behind the clock |
//! | `alto_jobs_total` | counter | `outcome` = `done`, `retry` | job attempts finished by this process's workers |
//! | `alto_files_total` | counter | `outcome` = `stubbed`, `skipped`, `failed` | files the workers handled |
//! | `alto_bytes_moved_total` | counter | | bytes copied to tier 2 by the workers |
//! | `alto_failures_total` | counter | `kind` = the error kind (`Backend`, `Conflict`, `PermissionDenied`, …) | per-file failures |

use crate::error::ErrorKind;

/// Rows an ingest read.
pub fn ingest_rows(accepted: u64, rejected: u64, folders: u64) {
    metrics::counter!("alto_ingest_rows_total", "result" => "accepted").increment(accepted);
    metrics::counter!("alto_ingest_rows_total", "result" => "rejected").increment(rejected);
    metrics::counter!("alto_ingest_rows_total", "result" => "folder").increment(folders);
}

/// A feed batch's events, by outcome, and its lag.
pub fn feed_batch(out: &crate::store::feeds::ApplyOutcome, lag_secs: Option<f64>) {
    for (outcome, n) in [
        ("applied", out.applied),
        ("duplicate", out.duplicate),
        ("skewed", out.skewed),
        ("unknown", out.unknown),
        ("stale", out.stale),
        ("other", out.other),
    ] {
        metrics::counter!("alto_feed_events_total", "outcome" => outcome).increment(n);
    }
    if let Some(lag) = lag_secs {
        metrics::gauge!("alto_feed_lag_seconds").set(lag.max(0.0));
    }
}

/// A file a worker stubbed (with its bytes), skipped, or failed (with the error's kind).
pub fn file_stubbed(bytes: u64) {
    metrics::counter!("alto_files_total", "outcome" => "stubbed").increment(1);
    metrics::counter!("alto_bytes_moved_total").increment(bytes);
}

/// A file a worker skipped (changed or accessed since planning).
pub fn file_skipped() {
    metrics::counter!("alto_files_total", "outcome" => "skipped").increment(1);
}

/// A file a worker could not tier.
pub fn file_failed(kind: ErrorKind) {
    metrics::counter!("alto_files_total", "outcome" => "failed").increment(1);
    metrics::counter!("alto_failures_total", "kind" => kind.as_str()).increment(1);
}

/// A job attempt a worker finished: `done`, or `retry` (queued again, or failed for good).
pub fn job_finished(outcome: &'static str) {
    metrics::counter!("alto_jobs_total", "outcome" => outcome).increment(1);
}
