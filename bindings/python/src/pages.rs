//! The listings (`Tenant.files()`, `.jobs()`, `.audit()`) as Python iterators that fetch page
//! by page with the GIL released and hand out typed objects one by one; `next_async()` is the
//! same step as an awaitable (`alto.aio`'s async iterators).
//!
//! `.cursor` is the position after the last item handed out (`None` before the first): the
//! listing's `after=` takes it to resume here or in another process.

use crate::aio::Call;
use crate::errors::OrRaise;
use alto::{Cursor, Pages};
use pyo3::prelude::*;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

/// A listing's state, shared with the page fetch in flight: the pager and the rest of the page
/// being handed out.
struct State<T> {
    pages: Pages<T>,
    buf: VecDeque<T>,
}

/// A listing: its state, and the cursor after the last item handed out.
struct Lister<T> {
    state: Arc<tokio::sync::Mutex<State<T>>>,
    cursor: Arc<Mutex<Option<String>>>,
    after: fn(&T) -> Cursor,
}

impl<T: Send + 'static> Lister<T> {
    fn new(
        py: Python<'_>,
        pages: Pages<T>,
        after: Option<&str>,
        after_item: fn(&T) -> Cursor,
    ) -> PyResult<Self> {
        let pages = match after {
            Some(a) => pages.resume(&Cursor::parse(a).or_raise(py)?).or_raise(py)?,
            None => pages,
        };
        Ok(Lister {
            state: Arc::new(tokio::sync::Mutex::new(State {
                pages,
                buf: VecDeque::new(),
            })),
            cursor: Arc::new(Mutex::new(after.map(str::to_owned))),
            after: after_item,
        })
    }

    fn cursor(&self) -> Option<String> {
        self.cursor
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The next item, fetching a page when the current one is used up (`None` at the end).
    /// Cancelled while fetching, it leaves the listing where it was.
    fn next(&self) -> impl std::future::Future<Output = alto::Result<Option<T>>> + Send + 'static {
        let (state, cursor, after) = (self.state.clone(), self.cursor.clone(), self.after);
        async move {
            let mut s = state.lock().await;
            if s.buf.is_empty() {
                match s.pages.next_page().await? {
                    Some(items) => s.buf.extend(items),
                    None => return Ok(None),
                }
            }
            let item = s.buf.pop_front();
            if let Some(item) = &item {
                hand_out(&cursor, after, item);
            }
            Ok(item)
        }
    }

    /// The next item when the page being handed out has one and no fetch is in flight.
    fn next_buffered(&self) -> Option<T> {
        let item = self.state.try_lock().ok()?.buf.pop_front()?;
        hand_out(&self.cursor, self.after, &item);
        Some(item)
    }
}

/// Move the cursor after `item`, which is being handed out.
fn hand_out<T>(cursor: &Mutex<Option<String>>, after: fn(&T) -> Cursor, item: &T) {
    let c = after(item).as_str().to_owned();
    *cursor.lock().unwrap_or_else(|p| p.into_inner()) = Some(c);
}

/// An asyncio future of the running loop, already settled with `value`.
fn ready<'py>(py: Python<'py>, value: Py<PyAny>) -> PyResult<Bound<'py, PyAny>> {
    let fut = pyo3_async_runtimes::get_running_loop(py)?.call_method0("create_future")?;
    fut.call_method1("set_result", (value,))?;
    Ok(fut)
}

macro_rules! iterator {
    ($name:ident, $item:ty, $py:ty, $after:path, $doc:literal) => {
        #[doc = $doc]
        #[pyclass(module = "alto", frozen)]
        pub(crate) struct $name {
            lister: Lister<$item>,
        }

        impl $name {
            pub(crate) fn new(
                py: Python<'_>,
                pages: Pages<$item>,
                after: Option<&str>,
            ) -> PyResult<Self> {
                Ok($name {
                    lister: Lister::new(py, pages, after, $after)?,
                })
            }
        }

        #[pymethods]
        impl $name {
            fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
                slf
            }

            fn __next__(&self, py: Python<'_>) -> PyResult<Option<$py>> {
                if let Some(item) = self.lister.next_buffered() {
                    return <$py>::new(py, item).map(Some);
                }
                Call::new(self.lister.next(), |py, item: Option<$item>| {
                    item.map(|i| <$py>::new(py, i)).transpose()
                })
                .wait(py)
            }

            /// The next item as an awaitable of the running event loop, `None` at the end (what
            /// `alto.aio`'s async iterators await). A page is fetched on the runtime when the
            /// current one is used up; the rest of a page is handed out at once.
            fn next_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
                if let Some(item) = self.lister.next_buffered() {
                    let obj = Py::new(py, <$py>::new(py, item)?)?.into_any();
                    return ready(py, obj);
                }
                Call::new(self.lister.next(), |py, item: Option<$item>| {
                    item.map(|i| <$py>::new(py, i)).transpose()
                })
                .spawn(py)
            }

            /// The position after the last item handed out (`None` before the first).
            #[getter]
            fn cursor(&self) -> Option<String> {
                self.lister.cursor()
            }
        }
    };
}

iterator!(
    FileIterator,
    alto::FileRecord,
    crate::records::File,
    Cursor::after_file,
    "The files of a tenant, by share then path."
);
iterator!(
    JobIterator,
    alto::Job,
    crate::records::Job,
    Cursor::after_job,
    "The tiering jobs of a tenant, oldest first."
);
iterator!(
    AuditIterator,
    alto::AuditEvent,
    crate::records::AuditEvent,
    Cursor::after_audit,
    "The audit trail of a tenant, oldest first; events appended while iterating are seen."
);
