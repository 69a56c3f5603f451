//! The listings (`Tenant.files()`, `.jobs()`, `.audit()`) as Python iterators that fetch page
//! by page with the GIL released and hand out typed objects one by one.
//!
//! `.cursor` is the position after the last item handed out (`None` before the first): the
//! listing's `after=` takes it to resume here or in another process.

use crate::errors::OrRaise;
use alto::{Cursor, Pages};
use pyo3::prelude::*;
use std::collections::VecDeque;

macro_rules! iterator {
    ($name:ident, $item:ty, $py:ty, $after:path, $doc:literal) => {
        #[doc = $doc]
        #[pyclass(module = "alto")]
        pub(crate) struct $name {
            pages: Pages<$item>,
            buf: VecDeque<$item>,
            cursor: Option<String>,
        }

        impl $name {
            pub(crate) fn new(
                py: Python<'_>,
                pages: Pages<$item>,
                after: Option<&str>,
            ) -> PyResult<Self> {
                let pages = match after {
                    Some(a) => pages.resume(&Cursor::parse(a).or_raise(py)?).or_raise(py)?,
                    None => pages,
                };
                Ok($name {
                    pages,
                    buf: VecDeque::new(),
                    cursor: after.map(str::to_owned),
                })
            }
        }

        #[pymethods]
        impl $name {
            fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
                slf
            }

            fn __next__(&mut self, py: Python<'_>) -> PyResult<Option<$py>> {
                if self.buf.is_empty() {
                    let pages = &mut self.pages;
                    let page = crate::block_on(py, move || async move { pages.next_page().await })
                        .or_raise(py)?;
                    match page {
                        Some(items) => self.buf.extend(items),
                        None => return Ok(None),
                    }
                }
                let Some(item) = self.buf.pop_front() else {
                    return Ok(None);
                };
                self.cursor = Some($after(&item).as_str().to_owned());
                <$py>::new(py, item).map(Some)
            }

            /// The position after the last item handed out (`None` before the first).
            #[getter]
            fn cursor(&self) -> Option<String> {
                self.cursor.clone()
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
