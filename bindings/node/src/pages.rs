//! Listings as async iterables (`for await (const f of tenant.files())`), each with a `cursor`:
//! the position after the last item it yielded, which `after` of the same listing accepts, here
//! or in another process. Pages are fetched on napi's Tokio runtime as the loop asks for items.

use crate::error::{js_error, promise};
use crate::records::{AuditEvent, FileInfo, JobInfo};
use alto::{Cursor, Pages};
use napi::bindgen_prelude::*;
use napi_derive::napi;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

/// A listing's shared state: the pager, the page being yielded, and the cursor after the last
/// item yielded (read synchronously by the `cursor` getter).
pub(crate) struct Lister<T> {
    pages: Arc<tokio::sync::Mutex<(Pages<T>, VecDeque<T>)>>,
    cursor: Arc<Mutex<Option<String>>>,
}

impl<T> Clone for Lister<T> {
    fn clone(&self) -> Self {
        Lister {
            pages: self.pages.clone(),
            cursor: self.cursor.clone(),
        }
    }
}

impl<T: Send + 'static> Lister<T> {
    pub(crate) fn new(pages: Pages<T>, after: Option<&Cursor>) -> Self {
        Lister {
            pages: Arc::new(tokio::sync::Mutex::new((pages, VecDeque::new()))),
            cursor: Arc::new(Mutex::new(after.map(|c| c.as_str().to_owned()))),
        }
    }

    fn cursor(&self) -> Option<String> {
        self.cursor
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The next item, fetching a page when the current one is used up; `after` is the
    /// listing's cursor after one item. A failed fetch is yielded as a [`Yielded`] error, which
    /// becomes the `Error` (with `code`) a direct call rejects with once on the JS thread.
    async fn next<J>(
        &self,
        after: fn(&Pages<T>, &T) -> Cursor,
        js: fn(T) -> J,
    ) -> Result<Option<Yielded<J>>> {
        let mut guard = self.pages.lock().await;
        let (pages, buf) = &mut *guard;
        if buf.is_empty() {
            match pages.next_page().await {
                Ok(Some(items)) => buf.extend(items),
                Ok(None) => return Ok(None),
                Err(e) => return Ok(Some(Yielded(Err(e)))),
            }
        }
        let Some(item) = buf.pop_front() else {
            return Ok(None);
        };
        let c = after(pages, &item);
        *self.cursor.lock().unwrap_or_else(|p| p.into_inner()) = Some(c.as_str().to_owned());
        Ok(Some(Yielded(Ok(js(item)))))
    }

    /// The rest of the current page, or the next page (`None` at the end); the cursor moves
    /// after its last item. Errors keep their kind (the store's failure).
    async fn next_page<J>(
        &self,
        after: fn(&Pages<T>, &T) -> Cursor,
        js: fn(T) -> J,
    ) -> alto::Result<Option<Vec<J>>> {
        let mut guard = self.pages.lock().await;
        let (pages, buf) = &mut *guard;
        let items: Vec<T> = if buf.is_empty() {
            match pages.next_page().await? {
                Some(items) => items,
                None => return Ok(None),
            }
        } else {
            buf.drain(..).collect()
        };
        if let Some(last) = items.last() {
            let c = after(pages, last);
            *self.cursor.lock().unwrap_or_else(|p| p.into_inner()) = Some(c.as_str().to_owned());
        }
        Ok(Some(items.into_iter().map(js).collect()))
    }
}

impl<T: Send + 'static> Lister<T> {
    /// [`next_page`](Self::next_page) as JSON text ([`crate::json`]), serialised here, off
    /// the JS thread.
    async fn next_page_json<J: serde::Serialize>(
        &self,
        after: fn(&Pages<T>, &T) -> Cursor,
        js: fn(T) -> J,
    ) -> alto::Result<Option<String>> {
        match self.next_page(after, js).await? {
            Some(items) => crate::json::to_string(&items).map(Some),
            None => Ok(None),
        }
    }
}

/// What a listing's `next()` settles with: an item, or the failure of the page fetch behind it.
/// The generator glue gives no `Env` to `next()`, and a rejection made off the JS thread
/// carries only a message; so the failure travels as a value and is turned into the JS `Error`
/// (with `code`, see [`js_error`]) when napi converts the yielded value on the JS thread. That
/// conversion fails with that `Error`, which rejects `next()` exactly as a direct call rejects.
pub struct Yielded<J>(alto::Result<J>);

impl<J: ToNapiValue> ToNapiValue for Yielded<J> {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> Result<sys::napi_value> {
        match val.0 {
            // SAFETY: napi calls this on the JS thread with its live `env`, as `J`'s own
            // conversion expects.
            Ok(item) => unsafe { J::to_napi_value(env, item) },
            Err(e) => Err(js_error(&Env::from_raw(env), &e)),
        }
    }
}

/// The listings' `Yield` types, named like the items so the generated `index.d.ts` declares
/// `AsyncGenerator<FileInfo, …>` (the type generator reads a type's last path segment).
mod yielded {
    use super::Yielded;
    /// A file, or the failure of the page fetch behind it.
    pub type FileInfo = Yielded<crate::records::FileInfo>;
    /// A job, or the failure of the page fetch behind it.
    pub type JobInfo = Yielded<crate::records::JobInfo>;
    /// An audit event, or the failure of the page fetch behind it.
    pub type AuditEvent = Yielded<crate::records::AuditEvent>;
}

/// The tenant's files, as an async iterable (`tenant.files()`).
#[napi(async_iterator)]
pub struct FileList {
    lister: Lister<alto::FileRecord>,
}

impl FileList {
    pub(crate) fn new(lister: Lister<alto::FileRecord>) -> Self {
        FileList { lister }
    }
}

#[napi]
impl AsyncGenerator for FileList {
    type Yield = yielded::FileInfo;
    type Next = ();
    type Return = ();

    fn next(
        &mut self,
        _value: Option<Self::Next>,
    ) -> impl std::future::Future<Output = Result<Option<Self::Yield>>> + Send + 'static {
        let lister = self.lister.clone();
        async move {
            lister
                .next(Pages::<alto::FileRecord>::cursor_after, FileInfo::from)
                .await
        }
    }
}

#[napi]
impl FileList {
    /// The next page of items (the rest of the current one when iteration stopped inside it),
    /// or `null` at the end. Faster than item-by-item iteration for pages served whole; rejects
    /// with the failure's `code`. The `cursor` moves after the page's last item.
    #[napi]
    pub fn next_page<'env>(
        &self,
        env: &'env Env,
    ) -> Result<PromiseRaw<'env, Option<Vec<FileInfo>>>> {
        let lister = self.lister.clone();
        promise(
            env,
            async move {
                lister
                    .next_page(Pages::<alto::FileRecord>::cursor_after, FileInfo::from)
                    .await
            },
            Ok,
        )
    }

    /// The next page as JSON text, or `null` at the end: the array `nextPage()` would resolve
    /// to, as `JSON.stringify` writes it (times as ISO 8601 strings, absent fields left out),
    /// made on the addon's threads so that serving a page costs the event loop one string.
    /// Sizes of 2^53 and more (a `bigint` from `nextPage()`) are exact JSON numbers, which
    /// `JSON.parse` rounds: read them with a parser that keeps a number's text (Node 21+:
    /// `JSON.parse(text, (key, value, { source }) => …)`). The `cursor` moves as with
    /// `nextPage()`.
    #[napi]
    pub fn next_page_json<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, Option<String>>> {
        let lister = self.lister.clone();
        promise(
            env,
            async move {
                lister
                    .next_page_json(Pages::<alto::FileRecord>::cursor_after, FileInfo::from)
                    .await
            },
            Ok,
        )
    }

    /// Where the listing stands: after the last item yielded (`null` before the first one,
    /// unless it was resumed). Pass it as `after` to resume.
    #[napi(getter)]
    pub fn cursor(&self) -> Option<String> {
        self.lister.cursor()
    }
}

/// The tenant's tiering jobs, as an async iterable (`tenant.jobs()`).
#[napi(async_iterator)]
pub struct JobList {
    lister: Lister<alto::Job>,
}

impl JobList {
    pub(crate) fn new(lister: Lister<alto::Job>) -> Self {
        JobList { lister }
    }
}

#[napi]
impl AsyncGenerator for JobList {
    type Yield = yielded::JobInfo;
    type Next = ();
    type Return = ();

    fn next(
        &mut self,
        _value: Option<Self::Next>,
    ) -> impl std::future::Future<Output = Result<Option<Self::Yield>>> + Send + 'static {
        let lister = self.lister.clone();
        async move {
            lister
                .next(Pages::<alto::Job>::cursor_after, JobInfo::from)
                .await
        }
    }
}

#[napi]
impl JobList {
    /// The next page of items (the rest of the current one when iteration stopped inside it),
    /// or `null` at the end. Faster than item-by-item iteration for pages served whole; rejects
    /// with the failure's `code`. The `cursor` moves after the page's last item.
    #[napi]
    pub fn next_page<'env>(
        &self,
        env: &'env Env,
    ) -> Result<PromiseRaw<'env, Option<Vec<JobInfo>>>> {
        let lister = self.lister.clone();
        promise(
            env,
            async move {
                lister
                    .next_page(Pages::<alto::Job>::cursor_after, JobInfo::from)
                    .await
            },
            Ok,
        )
    }

    /// The next page as JSON text, or `null` at the end: the array `nextPage()` would resolve
    /// to, as `JSON.stringify` writes it (times as ISO 8601 strings, absent fields left out),
    /// made on the addon's threads so that serving a page costs the event loop one string.
    /// Sizes of 2^53 and more (a `bigint` from `nextPage()`) are exact JSON numbers, which
    /// `JSON.parse` rounds: read them with a parser that keeps a number's text (Node 21+:
    /// `JSON.parse(text, (key, value, { source }) => …)`). The `cursor` moves as with
    /// `nextPage()`.
    #[napi]
    pub fn next_page_json<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, Option<String>>> {
        let lister = self.lister.clone();
        promise(
            env,
            async move {
                lister
                    .next_page_json(Pages::<alto::Job>::cursor_after, JobInfo::from)
                    .await
            },
            Ok,
        )
    }

    /// Where the listing stands: after the last item yielded (`null` before the first one,
    /// unless it was resumed). Pass it as `after` to resume.
    #[napi(getter)]
    pub fn cursor(&self) -> Option<String> {
        self.lister.cursor()
    }
}

/// The tenant's audit trail, oldest first, as an async iterable (`tenant.audit()`).
#[napi(async_iterator)]
pub struct AuditList {
    lister: Lister<alto::AuditEvent>,
}

impl AuditList {
    pub(crate) fn new(lister: Lister<alto::AuditEvent>) -> Self {
        AuditList { lister }
    }
}

#[napi]
impl AsyncGenerator for AuditList {
    type Yield = yielded::AuditEvent;
    type Next = ();
    type Return = ();

    fn next(
        &mut self,
        _value: Option<Self::Next>,
    ) -> impl std::future::Future<Output = Result<Option<Self::Yield>>> + Send + 'static {
        let lister = self.lister.clone();
        async move {
            lister
                .next(Pages::<alto::AuditEvent>::cursor_after, AuditEvent::from)
                .await
        }
    }
}

#[napi]
impl AuditList {
    /// The next page of items (the rest of the current one when iteration stopped inside it),
    /// or `null` at the end. Faster than item-by-item iteration for pages served whole; rejects
    /// with the failure's `code`. The `cursor` moves after the page's last item.
    #[napi]
    pub fn next_page<'env>(
        &self,
        env: &'env Env,
    ) -> Result<PromiseRaw<'env, Option<Vec<AuditEvent>>>> {
        let lister = self.lister.clone();
        promise(
            env,
            async move {
                lister
                    .next_page(Pages::<alto::AuditEvent>::cursor_after, AuditEvent::from)
                    .await
            },
            Ok,
        )
    }

    /// The next page as JSON text, or `null` at the end: the array `nextPage()` would resolve
    /// to, as `JSON.stringify` writes it (times as ISO 8601 strings, absent fields left out),
    /// made on the addon's threads so that serving a page costs the event loop one string.
    /// Sizes of 2^53 and more (a `bigint` from `nextPage()`) are exact JSON numbers, which
    /// `JSON.parse` rounds: read them with a parser that keeps a number's text (Node 21+:
    /// `JSON.parse(text, (key, value, { source }) => …)`). The `cursor` moves as with
    /// `nextPage()`.
    #[napi]
    pub fn next_page_json<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, Option<String>>> {
        let lister = self.lister.clone();
        promise(
            env,
            async move {
                lister
                    .next_page_json(Pages::<alto::AuditEvent>::cursor_after, AuditEvent::from)
                    .await
            },
            Ok,
        )
    }

    /// Where the listing stands: after the last item yielded (`null` before the first one,
    /// unless it was resumed). Pass it as `after` to resume.
    #[napi(getter)]
    pub fn cursor(&self) -> Option<String> {
        self.lister.cursor()
    }
}
