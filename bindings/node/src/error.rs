//! Errors as JavaScript sees them: an `Error` whose `code` is the [`alto::ErrorKind`] name
//! (`'NotFound'`, `'InvalidRule'`, …), with `retryable`, and for rule errors `rule`, `ruleIndex`
//! and `field`. Every binding call converts its failures here, in one place.

use napi::bindgen_prelude::*;
use std::future::Future;

/// A JavaScript `Error` for an Alto error (made on the JS thread, so it can carry properties).
pub(crate) fn js_error(env: &Env, e: &alto::Error) -> Error {
    if let Some(r) = e.rule_error() {
        // A rule set refused on the way: `rule`, `ruleIndex` and `field` too.
        return rule_error(env, r);
    }
    build(
        env,
        e.kind().as_str(),
        &e.to_string(),
        e.is_retryable(),
        |_| Ok(()),
    )
}

/// A JavaScript `Error` for a refused rule set: code `InvalidRule`, plus where.
pub(crate) fn rule_error(env: &Env, e: &alto::rules::RuleError) -> Error {
    build(env, "InvalidRule", &e.to_string(), false, |obj| {
        if let Some(rule) = e.rule() {
            obj.set("rule", rule)?;
        }
        if let Some(i) = e.rule_index() {
            obj.set("ruleIndex", i as u32)?;
        }
        if let Some(field) = e.field() {
            obj.set("field", field)?;
        }
        Ok(())
    })
}

/// An `InvalidInput` error for a bad argument.
pub(crate) fn invalid(message: impl Into<String>) -> alto::Error {
    alto::Error::invalid_input(message)
}

fn build(
    env: &Env,
    code: &str,
    message: &str,
    retryable: bool,
    extra: impl FnOnce(&mut Object<'_>) -> Result<()>,
) -> Error {
    let made = (|| {
        let mut obj = env.create_error(Error::new(Status::GenericFailure, message))?;
        obj.set("code", code)?;
        obj.set("retryable", retryable)?;
        extra(&mut obj)?;
        Ok::<_, Error>(Error::from(obj.to_unknown()))
    })();
    made.unwrap_or_else(|e| e)
}

/// Run `fut` on napi's Tokio runtime and settle a Promise on the JS thread: `convert` makes the
/// value, an Alto error rejects with [`js_error`].
pub(crate) fn promise<'env, T, V, F, C>(
    env: &'env Env,
    fut: F,
    convert: C,
) -> Result<PromiseRaw<'env, V>>
where
    T: Send + 'static,
    V: ToNapiValue,
    F: Future<Output = alto::Result<T>> + Send + 'static,
    C: FnOnce(T) -> Result<V> + 'static,
{
    env.spawn_future_with_callback(async move { Ok(fut.await) }, move |env, r| match r {
        Ok(v) => convert(v),
        Err(e) => Err(js_error(env, &e)),
    })
}

/// A synchronous call's result: an Alto error is thrown with [`js_error`].
pub(crate) fn sync<T>(env: &Env, r: alto::Result<T>) -> Result<T> {
    r.map_err(|e| js_error(env, &e))
}

/// Run a future that is not `Send` (some of the store openers hold a borrowed connection across
/// an await; rust-lang/rust#102211) on a blocking thread of napi's runtime, as a `Send` future.
/// For calls made once (connecting, migrating, managing logins), not per request.
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
