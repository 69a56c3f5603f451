//! `connect(url)` and `Alto`: the store, how this host reaches tier targets and share roots,
//! tenants, and the worker pool.

use crate::error::{invalid, js_error, on_own_thread, promise};
use crate::records::RunReport;
use crate::tenant::Tenant;
use napi::bindgen_prelude::*;
use napi_derive::napi;
use std::collections::HashMap;

/// How `connect()` connects.
#[napi(object)]
pub struct ConnectOptions {
    /// Where each share is mounted on this host, when not at its recorded root:
    /// `{ media: '/mnt/media' }`.
    pub share_roots: Option<HashMap<String, String>>,
    /// Tier targets under these prefixes only (a rule's target elsewhere is refused by the
    /// workers and by rehydration). Absent: any target.
    pub allowed_targets: Option<Vec<String>>,
    /// The source the audit events this connection writes name in their `actor` (default
    /// `'node'`): a service's name, say, to tell its events from others'.
    pub source: Option<String>,
}

/// Open the store at `url` (`sqlite://alto.db`, `postgres://user@host/db`, `memory://`).
/// Embedded stores are created and migrated on first use. The audit events the connection
/// writes name this process (user, host, program, pid) and the source `'node'` (or
/// `options.source`) as their actor.
#[napi]
pub fn connect<'env>(
    env: &'env Env,
    url: String,
    options: Option<ConnectOptions>,
) -> Result<PromiseRaw<'env, Alto>> {
    let mut builder = alto::Alto::builder(url);
    let mut source = String::from("node");
    if let Some(o) = options {
        for (share, dir) in o.share_roots.unwrap_or_default() {
            builder = builder.share_root(share, dir);
        }
        for prefix in o.allowed_targets.unwrap_or_default() {
            builder = builder.allow_target(prefix);
        }
        if let Some(s) = o.source {
            source = s;
        }
    }
    let connecting = on_own_thread(move || async move {
        let alto = builder.connect().await?;
        alto.set_audit_source(&source);
        Ok(alto)
    });
    promise(env, connecting, |inner| Ok(Alto { inner }))
}

/// A connected Alto. Cheap to share; every method returns a Promise.
#[napi]
pub struct Alto {
    inner: alto::Alto,
}

/// A tenant's settings (`alto.createTenant(name, settings)`, `tenant.setSettings(settings)`):
/// those given are set, the others keep their defaults (or, for `setSettings`, their stored
/// values). `null` for a retention (or `historyScans`) keeps forever (every scan).
#[napi(object, object_to_js = false)]
pub struct TenantSettings {
    /// Keep per-scan snapshot rows beside the current ones (default true).
    pub keep_history: Option<bool>,
    /// When keeping history, keep only the last N scans per share (default: every scan).
    #[napi(ts_type = "number | null")]
    pub history_scans: Option<Option<u32>>,
    /// PLANNED objects planned more than this many days ago expire at the next `maintain()`
    /// (default 365; 0 expires every one then).
    pub planned_retention_days: Option<u32>,
    /// REHYDRATED records are removed by `maintain()` this many days after their last change
    /// (default: kept).
    #[napi(ts_type = "number | null")]
    pub rehydrated_retention_days: Option<Option<u32>>,
    /// DELETED records, the same (default: kept).
    #[napi(ts_type = "number | null")]
    pub deleted_retention_days: Option<Option<u32>>,
    /// Finished jobs that hold no file are removed this many days after they finished
    /// (default 90).
    #[napi(ts_type = "number | null")]
    pub job_retention_days: Option<Option<u32>>,
    /// Feed bookkeeping is kept this many hours, then cleared by `maintain()` (default 24).
    pub feed_staging_hours: Option<u32>,
    /// Feed events for unknown paths: `queue` (default), `ignore` or `placeholder`.
    pub unknown_paths: Option<String>,
    /// Access to a stubbed file: `alert` (default), `rehydrate` or `ignore`.
    pub stub_access: Option<String>,
}

/// A snake_case policy name into its Rust enum (as the store spells it).
fn policy<T: serde::de::DeserializeOwned>(what: &str, name: &str) -> alto::Result<T> {
    serde_json::from_value(serde_json::Value::String(name.to_owned()))
        .map_err(|_| invalid(format!("{what}: unknown value {name:?}")))
}

/// `base` with the settings `s` gives.
pub(crate) fn apply_settings(
    base: alto::TenantSettings,
    s: Option<TenantSettings>,
) -> alto::Result<alto::TenantSettings> {
    let mut out = base;
    let Some(s) = s else { return Ok(out) };
    if let Some(v) = s.keep_history {
        out.keep_history = v;
    }
    if let Some(v) = s.history_scans {
        out.history_scans = v;
    }
    if let Some(v) = s.planned_retention_days {
        out.planned_retention_days = v;
    }
    if let Some(v) = s.rehydrated_retention_days {
        out.rehydrated_retention_days = v;
    }
    if let Some(v) = s.deleted_retention_days {
        out.deleted_retention_days = v;
    }
    if let Some(v) = s.job_retention_days {
        out.job_retention_days = v;
    }
    if let Some(v) = s.feed_staging_hours {
        out.feed_staging_hours = v;
    }
    if let Some(v) = &s.unknown_paths {
        out.unknown_paths = policy("unknownPaths", v)?;
    }
    if let Some(v) = &s.stub_access {
        out.stub_access = policy("stubAccess", v)?;
    }
    Ok(out)
}

/// How `alto.runWorkers()` runs.
#[napi(object, object_to_js = false)]
pub struct RunWorkersOptions {
    /// Only this tenant's jobs (default: every tenant the login may act for).
    pub tenant: Option<String>,
    /// Stop when no job is left (default true). `false` polls for more jobs until `signal`
    /// aborts (or the process ends).
    pub once: Option<bool>,
    /// Jobs run at the same time (default 1).
    pub workers: Option<u32>,
    /// Stops the run when aborted (an `AbortController`'s signal): each worker finishes the job
    /// it is running, an idle one stops at once, and the Promise resolves with the report of
    /// what was done. Cancelling is not an error, as with the Rust handle's `CancelToken`; an
    /// already aborted signal runs no job and resolves with an empty report.
    #[napi(ts_type = "AbortSignal")]
    pub signal: Option<ObjectRef<false>>,
}

/// An `abort` listener on a `runWorkers` signal that cancels the run; removed when the run
/// settles, so a long-lived signal does not collect listeners.
struct AbortListener {
    signal: ObjectRef<false>,
    listener: FunctionRef<(), ()>,
}

type EventListenerMethod<'env> =
    Function<'env, FnArgs<(&'static str, Unknown<'env>)>, Unknown<'env>>;

impl AbortListener {
    /// Cancel `token` when `signal` aborts (at once if it already has). `Ok(None)` when there
    /// is nothing to remove later; the inner `Err` (`InvalidInput`) when `signal` is not an
    /// `AbortSignal`, for the Promise to reject with.
    fn listen(
        env: &Env,
        signal: ObjectRef<false>,
        token: &alto::CancelToken,
    ) -> Result<alto::Result<Option<AbortListener>>> {
        let listening = (|| {
            let obj = signal.get_value(env)?;
            let not_a_signal = || invalid("runWorkers: `signal` must be an AbortSignal");
            let (Ok(add), Ok(aborted)) = (
                obj.get_named_property::<EventListenerMethod>("addEventListener"),
                obj.get_named_property::<bool>("aborted"),
            ) else {
                return Ok(Err(not_a_signal()));
            };
            if aborted {
                token.cancel();
                return Ok(Ok(None));
            }
            let token = token.clone();
            let listener =
                env.create_function_from_closure::<(), (), _>("cancelRun", move |_| {
                    token.cancel();
                    Ok(())
                })?;
            add.apply(obj, FnArgs::from(("abort", listener.to_unknown())))?;
            Ok(Ok(Some(listener.create_ref()?)))
        })();
        match listening {
            Ok(Ok(Some(listener))) => Ok(Ok(Some(AbortListener { signal, listener }))),
            Ok(other) => signal.unref(env).map(|()| other.map(|_| None)),
            Err(e) => {
                signal.unref(env)?;
                Err(e)
            }
        }
    }

    /// Take the listener off the signal (on the JS thread, when the run settles).
    fn remove(self, env: &Env) -> Result<()> {
        let removed = (|| {
            let obj = self.signal.get_value(env)?;
            let remove: EventListenerMethod = obj.get_named_property("removeEventListener")?;
            let listener = self.listener.borrow_back(env)?;
            remove.apply(obj, FnArgs::from(("abort", listener.to_unknown())))?;
            Ok::<_, Error>(())
        })();
        self.signal.unref(env)?;
        removed
    }
}

#[napi]
impl Alto {
    /// The store's backend: `memory`, `sqlite` or `postgres`.
    #[napi(getter)]
    pub fn backend(&self) -> &'static str {
        self.inner.backend()
    }

    /// The tenant `name`; rejects with `code` `'NotFound'` when there is none.
    #[napi]
    pub fn tenant<'env>(&self, env: &'env Env, name: String) -> Result<PromiseRaw<'env, Tenant>> {
        let alto = self.inner.clone();
        promise(env, async move { alto.tenant(&name).await }, |t| {
            Ok(Tenant::new(t))
        })
    }

    /// Create the tenant `name`; rejects with `'AlreadyExists'` when there is one.
    #[napi]
    pub fn create_tenant<'env>(
        &self,
        env: &'env Env,
        name: String,
        settings: Option<TenantSettings>,
    ) -> Result<PromiseRaw<'env, Tenant>> {
        let alto = self.inner.clone();
        let settings = apply_settings(alto::TenantSettings::default(), settings);
        promise(
            env,
            async move { alto.create_tenant(&name, &settings?).await },
            |t| Ok(Tenant::new(t)),
        )
    }

    /// Every tenant this login may act for.
    #[napi]
    pub fn tenants<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, Vec<Tenant>>> {
        let alto = self.inner.clone();
        promise(env, async move { alto.tenants().await }, |ts| {
            Ok(ts.into_iter().map(Tenant::new).collect())
        })
    }

    /// Run tiering workers until the queue is empty (or, with `once: false`, until `signal`
    /// aborts). A file that fails is counted in the report; a store failure rejects. Aborting
    /// `signal` resolves with the report of what was done (it does not reject).
    #[napi]
    pub fn run_workers<'env>(
        &self,
        env: &'env Env,
        options: Option<RunWorkersOptions>,
    ) -> Result<PromiseRaw<'env, RunReport>> {
        let alto = self.inner.clone();
        let cancel = alto::CancelToken::new();
        let mut run = alto::RunOptions::default().cancel(cancel.clone());
        let mut listener = None;
        let mut refused = None;
        if let Some(o) = options {
            if let Some(t) = o.tenant {
                run = run.tenant(t);
            }
            if let Some(once) = o.once {
                run = run.once(once);
            }
            if let Some(n) = o.workers {
                run = run.workers(n as usize);
            }
            if let Some(signal) = o.signal {
                match AbortListener::listen(env, signal, &cancel)? {
                    Ok(l) => listener = l,
                    Err(e) => refused = Some(e),
                }
            }
        }
        env.spawn_future_with_callback(
            async move {
                Ok(match refused {
                    Some(e) => Err(e),
                    None => alto.run_workers(&run).await,
                })
            },
            move |env, r| {
                if let Some(l) = listener {
                    l.remove(env)?;
                }
                r.map(RunReport::from).map_err(|e| js_error(env, &e))
            },
        )
    }
}
