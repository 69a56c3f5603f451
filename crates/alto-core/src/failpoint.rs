//! Deterministic crash points for the kill tests, and a hook for the attack tests.
//!
//! `ALTO_FAILPOINT=after_upload` (or another name below) makes the process abort — as abruptly as
//! `kill -9` — when it reaches that point. Names: `after_upload`, `after_verify`,
//! `stub_before_rename`, `after_stub_swap`, `rehydrate_after_fetch`, `restore_before_rename`,
//! and the drivers' `stub_after_open`, `restore_after_stage` and `swap_after_exchange`. Unset in normal use; checking
//! costs one environment lookup.
//!
//! Compiled in with the `failpoint` feature only (the test suites turn it on); without it
//! [`hit`] is an empty inline function and a release build has no crash points.
//!
//! [`set_hook`] runs a function at every point instead (tests that play a hostile user swap a
//! directory for a symlink there, between the worker's check and its act).

#[cfg(feature = "failpoint")]
use std::sync::{Arc, RwLock};

/// A function run at every failpoint, with its name.
#[cfg(feature = "failpoint")]
pub type Hook = Arc<dyn Fn(&str) + Send + Sync>;

#[cfg(feature = "failpoint")]
static HOOK: RwLock<Option<Hook>> = RwLock::new(None);

/// Run `hook` at every failpoint of this process from now on (`None`: stop). For tests.
#[cfg(feature = "failpoint")]
pub fn set_hook(hook: Option<Hook>) {
    *HOOK.write().unwrap_or_else(|e| e.into_inner()) = hook;
}

/// A failpoint: nothing, in a build without the `failpoint` feature.
#[cfg(not(feature = "failpoint"))]
#[inline(always)]
pub fn hit(_name: &str) {}

/// Abort the process here if `ALTO_FAILPOINT` names this point; run the hook if one is set.
#[cfg(feature = "failpoint")]
pub fn hit(name: &str) {
    let hook = HOOK.read().unwrap_or_else(|e| e.into_inner()).clone();
    if let Some(h) = hook {
        h(name);
    }
    if std::env::var_os("ALTO_FAILPOINT").is_some_and(|v| v == name) {
        eprintln!("alto: failpoint {name}: aborting");
        std::process::abort();
    }
}
