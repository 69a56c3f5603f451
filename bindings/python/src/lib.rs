//! `alto._alto`, the native half of the `alto` Python package: PyO3 classes over the `alto` SDK
//! handle. Conversion and error mapping only; every decision is the handle's.
//!
//! One file per concept, as in the handle: [`client`] (`connect`, `Alto`), [`tenant`]
//! (`Tenant`), [`pages`] (the resumable iterators), [`records`] (files, jobs, audit events,
//! reports), [`upkeep`] (tenant settings, retention sweeps, reconciliation, reports on the
//! files), [`rules`] (`RuleSet`, `Plan`, `plan_inventory`), [`arrow`] (Arrow in and out of
//! `RuleSet.evaluate_arrow`), [`errors`] (the one place Rust errors become Python exceptions)
//! and [`convert`] (times, JSON values, paths).
//!
//! Every call runs on the module's one Tokio runtime: a blocking call with the GIL released
//! until it is done, its `*_async` twin as an asyncio awaitable ([`aio`], through
//! pyo3-async-runtimes), which `alto.aio` wraps.

use pyo3::prelude::*;

mod aio;
mod arrow;
mod client;
mod convert;
mod errors;
mod pages;
mod records;
mod rules;
mod tenant;
mod upkeep;

/// The module's Tokio runtime, pyo3-async-runtimes' (made on first use with the builder set
/// when the module is imported; its threads serve every call, blocking or awaited).
pub(crate) fn runtime() -> &'static tokio::runtime::Runtime {
    pyo3_async_runtimes::tokio::get_runtime()
}

/// Run the future `make` makes to completion on the runtime with the GIL released. The future
/// is made on the detached thread, so it need not be `Send` (only what it borrows is shared).
pub(crate) fn block_on<M, F>(py: Python<'_>, make: M) -> F::Output
where
    M: FnOnce() -> F + Send,
    F: std::future::Future,
    F::Output: Send,
{
    py.detach(|| runtime().block_on(make()))
}

#[pymodule]
fn _alto(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let mut rt = tokio::runtime::Builder::new_multi_thread();
    rt.enable_all().thread_name("alto-python");
    pyo3_async_runtimes::tokio::init(rt);
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(client::connect, m)?)?;
    m.add_function(wrap_pyfunction!(client::connect_async, m)?)?;
    m.add_function(wrap_pyfunction!(client::migrate, m)?)?;
    m.add_function(wrap_pyfunction!(client::create_login, m)?)?;
    m.add_function(wrap_pyfunction!(client::drop_login, m)?)?;
    m.add_function(wrap_pyfunction!(rules::plan_inventory, m)?)?;
    m.add_function(wrap_pyfunction!(rules::plan_inventory_async, m)?)?;
    m.add_class::<client::Alto>()?;
    m.add_class::<tenant::Tenant>()?;
    m.add_class::<rules::RuleSet>()?;
    m.add_class::<rules::Plan>()?;
    m.add_class::<pages::FileIterator>()?;
    m.add_class::<pages::JobIterator>()?;
    m.add_class::<pages::AuditIterator>()?;
    records::register(m)?;
    upkeep::register(m)?;
    errors::register(m)?;
    Ok(())
}
