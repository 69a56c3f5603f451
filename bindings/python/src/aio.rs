//! How a call runs: a [`Call`] is the future that does the work on the module's Tokio runtime
//! and how its result becomes Python objects. [`Call::wait`] runs it to completion on the
//! calling thread with the GIL released (the synchronous API); [`Call::spawn`] hands it to the
//! runtime and returns an asyncio awaitable of the running event loop (the `*_async` methods
//! behind `alto.aio`), through pyo3-async-runtimes.
//!
//! Awaited, the work runs on the runtime's threads, which never hold the GIL while it runs; the
//! result is made into Python objects (and an error into its `alto.*Error`) on a blocking
//! thread of the runtime that takes the GIL for that alone, then handed to the event loop
//! (`call_soon_threadsafe`). Cancelling the awaitable (`task.cancel()`, a timeout) drops the
//! future: what it had done stays done, as when a process stops in the middle of a call (an
//! ingest resumes; a store transaction in flight is rolled back). `run_workers_async` is the
//! exception: cancelling it cancels the workers as Ctrl-C does (each finishes its file).

use crate::errors::{OrRaise, to_py};
use pyo3::BoundObject;
use pyo3::prelude::*;
use std::future::Future;
use std::pin::Pin;

type BoxFuture<T> = Pin<Box<dyn Future<Output = alto::Result<T>> + Send>>;
type Finish<T, R> = Box<dyn FnOnce(Python<'_>, T) -> PyResult<R> + Send>;

/// One call of the handle: its work and how its value becomes `R`.
pub(crate) struct Call<T, R> {
    work: BoxFuture<T>,
    finish: Finish<T, R>,
}

impl<T: Send + 'static, R: 'static> Call<T, R> {
    /// The work `work` (a `Send` future: it may run on any of the runtime's threads), whose
    /// value `finish` converts with the GIL held.
    pub(crate) fn new(
        work: impl Future<Output = alto::Result<T>> + Send + 'static,
        finish: impl FnOnce(Python<'_>, T) -> PyResult<R> + Send + 'static,
    ) -> Self {
        Call {
            work: Box::pin(work),
            finish: Box::new(finish),
        }
    }

    /// Run to completion on this thread, the GIL released meanwhile.
    pub(crate) fn wait(self, py: Python<'_>) -> PyResult<R> {
        let work = self.work;
        let value = py.detach(|| crate::runtime().block_on(work)).or_raise(py)?;
        (self.finish)(py, value)
    }

    /// An awaitable of the running event loop (`RuntimeError` when there is none) that the
    /// runtime settles.
    pub(crate) fn spawn<'py>(self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>>
    where
        R: for<'a> IntoPyObject<'a> + Send,
    {
        let Call { work, finish } = self;
        pyo3_async_runtimes::tokio::future_into_py(py, async move {
            Ok(Settled {
                value: work.await,
                finish,
            })
        })
    }
}

/// A call's outcome on its way to the event loop: made into Python objects (or an exception)
/// where pyo3-async-runtimes holds the GIL to settle the asyncio future, not on a runtime
/// worker.
struct Settled<T, R> {
    value: alto::Result<T>,
    finish: Finish<T, R>,
}

impl<'py, T, R: IntoPyObject<'py>> IntoPyObject<'py> for Settled<T, R> {
    type Target = PyAny;
    type Output = Bound<'py, PyAny>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        match self.value {
            Ok(v) => (self.finish)(py, v)?
                .into_pyobject(py)
                .map(|o| o.into_any().into_bound())
                .map_err(Into::into),
            Err(e) => Err(to_py(py, e)),
        }
    }
}

/// Run a future that is not `Send` (some store openers hold a borrowed connection across an
/// await; rust-lang/rust#102211) on a blocking thread of the runtime, as a `Send` future. For
/// calls made once (connecting), not per item.
pub(crate) async fn on_own_thread<T, F>(
    make: impl FnOnce() -> F + Send + 'static,
) -> alto::Result<T>
where
    T: Send + 'static,
    F: Future<Output = alto::Result<T>>,
{
    tokio::task::spawn_blocking(move || tokio::runtime::Handle::current().block_on(make()))
        .await
        .map_err(|e| alto::Error::new(alto::ErrorKind::Backend, format!("task failed: {e}")))?
}
