//! Deterministic crash points for the kill tests.
//!
//! `ALTO_FAILPOINT=after_upload` (or another name below) makes the process abort — as abruptly as
//! `kill -9` — when it reaches that point. Names: `after_upload`, `after_verify`,
//! `stub_before_rename`, `after_stub_swap`, `rehydrate_after_fetch`, `restore_before_rename`.
//! Unset in normal use; checking costs one environment lookup.

/// Abort the process here if `ALTO_FAILPOINT` names this point.
pub fn hit(name: &str) {
    if std::env::var_os("ALTO_FAILPOINT").is_some_and(|v| v == name) {
        eprintln!("alto: failpoint {name}: aborting");
        std::process::abort();
    }
}
