//! `Tenant`: one tenant's shares, inventories, plans, jobs, files, audit trail, rehydration,
//! feeds and upkeep (settings, retention sweeps, reconciliation, reports: [`crate::upkeep`]). I/O
//! methods return Promises; listings are async iterables ([`crate::pages`]).

use crate::error::{invalid, promise, sync};
use crate::pages::{AuditList, FileList, JobList, Lister};
use crate::plan::Plan;
use crate::records::{FeedReport, IngestReport, JobInfo, RehydrateReport, ShareInfo, micros};
use crate::rules::{RuleSet, inventory_options};
use crate::upkeep::{
    MaintainReport, ReconcileOptions, ReconcileReport, Report, ReportOptions, TenantSettingsInfo,
};
use alto::store::tiering::JobQuery;
use alto::store::{FileQuery, ShareSpec};
use alto::{Cursor, FeedRequest, IngestRequest, PlanRequest, ShareKind, TierState};
use chrono::{DateTime, Utc};
use napi::bindgen_prelude::*;
use napi_derive::napi;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

/// One tenant of an `Alto`.
#[napi]
pub struct Tenant {
    /// The handle; `setSettings()` replaces it with one that holds the new settings (the feeds
    /// read their policies from it).
    inner: Arc<RwLock<alto::TenantHandle>>,
}

impl Tenant {
    pub(crate) fn new(inner: alto::TenantHandle) -> Self {
        Tenant {
            inner: Arc::new(RwLock::new(inner)),
        }
    }

    fn handle(&self) -> alto::TenantHandle {
        self.inner.read().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// How `tenant.createShare()` makes a share.
#[napi(object)]
pub struct ShareOptions {
    /// The share's directory on the hosts the workers run on (absolute).
    pub root: Option<String>,
    /// `posix` (default), `ntfs`, `smb` or `lucidlink`.
    pub kind: Option<String>,
    /// Whether path keys keep case (default: the kind's; NTFS and SMB fold case).
    pub case_sensitive: Option<bool>,
    /// For feeds: the prefix the inventory uses for the filespace root.
    pub mount_root: Option<String>,
}

/// How `tenant.ingest()` reads an inventory.
#[napi(object)]
pub struct IngestOptions {
    /// A full scan: the share's files not in the inventory are marked missing.
    pub full_scan: Option<bool>,
    /// Header names for columns that differ from the agents' format, by canonical column name:
    /// `{ file_path: 'FullName', file_size: 'Length' }`.
    pub column_map: Option<HashMap<String, String>>,
    /// The share's kind when ingest creates it (default: guessed from the first path).
    pub kind: Option<String>,
}

/// How `tenant.plan()` plans.
#[napi(object)]
pub struct PlanOptions {
    /// The evaluation time (default: now).
    pub now: Option<DateTime<Utc>>,
    /// Commit the plan as tiering jobs (default: a dry run).
    pub commit: Option<bool>,
}

/// Which files `tenant.files()` lists.
#[napi(object)]
pub struct FileQueryOptions {
    /// Only paths matching this glob (the rule language's globs).
    pub glob: Option<String>,
    /// Only files in this tier state: `PLANNED`, `STUBBED`, `REHYDRATED`, `DELETED`.
    pub state: Option<String>,
    /// Only this share.
    pub share: Option<String>,
    /// Include files a full scan no longer saw.
    pub include_missing: Option<bool>,
    /// Resume after this cursor (a `cursor` of an earlier `files()` listing).
    pub after: Option<String>,
    /// Items fetched per page (default: the store's, 1000).
    pub page_size: Option<u32>,
}

/// Which jobs `tenant.jobs()` lists.
#[napi(object)]
pub struct JobQueryOptions {
    /// Only jobs in this state: `queued`, `running`, `done`, `failed`, `cancelled`.
    pub state: Option<String>,
    /// Resume after this cursor (a `cursor` of an earlier `jobs()` listing).
    pub after: Option<String>,
    /// Items fetched per page (default 1000).
    pub page_size: Option<u32>,
}

/// Which events `tenant.audit()` lists, and where it starts. Every filter given narrows.
#[napi(object)]
#[derive(Default)]
pub struct AuditQueryOptions {
    /// Resume after this cursor (a `cursor` of an earlier `audit()` listing, filtered or not).
    pub after: Option<String>,
    /// Items fetched per page (default 1000).
    pub page_size: Option<u32>,
    /// Only events of this kind (`'tier.stub'`) or family (`'tier.*'`: every `tier.…` kind),
    /// or of any of several (`['job.*', 'tier.fail']`).
    pub kind: Option<Either<String, Vec<String>>>,
    /// Only events about this subject (a path key, an object key, a job or scan id), exactly.
    pub subject: Option<String>,
    /// Only events at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Only events before this time.
    pub until: Option<DateTime<Utc>>,
    /// Only the children of this event (`job.event`: a job's file events and outcome; an
    /// `ingest.scan` event: its chunks).
    pub children: Option<i64>,
}

/// How `tenant.maintain()` sweeps.
#[napi(object, object_to_js = false)]
pub struct MaintainOptions {
    /// Count only: change nothing (default false).
    pub dry_run: Option<bool>,
}

fn share_kind(name: &str) -> alto::Result<ShareKind> {
    match name {
        "posix" => Ok(ShareKind::Posix),
        "ntfs" => Ok(ShareKind::Ntfs),
        "smb" => Ok(ShareKind::Smb),
        "lucidlink" => Ok(ShareKind::Lucidlink),
        _ => Err(invalid(format!(
            "unknown share kind {name:?}: expected posix, ntfs, smb or lucidlink"
        ))),
    }
}

fn resume<T: Send + 'static>(
    pages: alto::Pages<T>,
    after: Option<&str>,
    page_size: Option<u32>,
) -> alto::Result<Lister<T>> {
    let mut pages = pages.page_size(page_size.unwrap_or(0) as usize);
    let cursor = after.map(Cursor::parse).transpose()?;
    if let Some(c) = &cursor {
        pages = pages.resume(c)?;
    }
    Ok(Lister::new(pages, cursor.as_ref()))
}

#[napi]
impl Tenant {
    /// The tenant's name.
    #[napi(getter)]
    pub fn name(&self) -> String {
        self.handle().name().to_owned()
    }

    /// The tenant's shares.
    #[napi]
    pub fn shares<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, Vec<ShareInfo>>> {
        let t = self.handle();
        promise(env, async move { t.shares().await }, |s| {
            Ok(s.into_iter().map(ShareInfo::from).collect())
        })
    }

    /// Create a share; rejects with `'AlreadyExists'` when the tenant has one of that name.
    #[napi]
    pub fn create_share<'env>(
        &self,
        env: &'env Env,
        name: String,
        options: Option<ShareOptions>,
    ) -> Result<PromiseRaw<'env, ShareInfo>> {
        let t = self.handle();
        let spec = (|| {
            let o = options.unwrap_or(ShareOptions {
                root: None,
                kind: None,
                case_sensitive: None,
                mount_root: None,
            });
            let kind = o.kind.as_deref().map_or(Ok(ShareKind::Posix), share_kind)?;
            let mut spec = ShareSpec::new(name, kind);
            spec.root = o.root;
            spec.case_sensitive = o.case_sensitive;
            spec.mount_root = o.mount_root;
            Ok::<_, alto::Error>(spec)
        })();
        promise(env, async move { t.create_share(&spec?).await }, |s| {
            Ok(ShareInfo::from(s))
        })
    }

    /// Ingest the inventory (CSV or Parquet) at `path` into `share` (created when missing).
    /// Rejected rows are counted in the report.
    #[napi]
    pub fn ingest<'env>(
        &self,
        env: &'env Env,
        share: String,
        path: String,
        options: Option<IngestOptions>,
    ) -> Result<PromiseRaw<'env, IngestReport>> {
        let t = self.handle();
        let req = (|| {
            let mut req = IngestRequest::default();
            if let Some(o) = options {
                req.inventory = inventory_options(o.column_map.as_ref())?;
                if o.full_scan.unwrap_or(false) {
                    req = req.full_scan();
                }
                req.kind = o.kind.as_deref().map(share_kind).transpose()?;
            }
            Ok::<_, alto::Error>(req)
        })();
        promise(
            env,
            async move { t.ingest(&share, &PathBuf::from(path), &req?).await },
            |r| Ok(IngestReport::from(r)),
        )
    }

    /// Evaluate `rules` over every file of the tenant; with `commit: true`, commit the result as
    /// tiering jobs for `alto.runWorkers()`.
    #[napi]
    pub fn plan<'env>(
        &self,
        env: &'env Env,
        rules: &RuleSet,
        options: Option<PlanOptions>,
    ) -> Result<PromiseRaw<'env, Plan>> {
        let t = self.handle();
        let rules = rules.inner.clone();
        let mut req = PlanRequest::default();
        if let Some(o) = options {
            if let Some(now) = &o.now {
                req = PlanRequest::at(micros(now));
            }
            req = req.commit(o.commit.unwrap_or(false));
        }
        let now = req.options.now;
        promise(env, async move { t.plan(&rules, &req).await }, move |o| {
            Ok(Plan::new(o.report, now, o.committed))
        })
    }

    /// The tenant's files, an async iterable with a resumable `cursor`. Throws `'InvalidInput'`
    /// for a bad state or a cursor of another listing.
    #[napi]
    pub fn files(&self, env: &Env, query: Option<FileQueryOptions>) -> Result<FileList> {
        let q = query.unwrap_or(FileQueryOptions {
            glob: None,
            state: None,
            share: None,
            include_missing: None,
            after: None,
            page_size: None,
        });
        let lister = (|| {
            let state = q
                .state
                .as_deref()
                .map(str::parse::<TierState>)
                .transpose()?;
            let pages = self.handle().files(FileQuery {
                share: q.share.clone(),
                glob: q.glob.clone(),
                state,
                include_missing: q.include_missing.unwrap_or(false),
                ..FileQuery::default()
            });
            resume(pages, q.after.as_deref(), q.page_size)
        })();
        sync(env, lister).map(FileList::new)
    }

    /// The tenant's tiering jobs, an async iterable with a resumable `cursor`.
    #[napi]
    pub fn jobs(&self, env: &Env, query: Option<JobQueryOptions>) -> Result<JobList> {
        let (state, after, page_size) = match query {
            Some(q) => (q.state, q.after, q.page_size),
            None => (None, None, None),
        };
        let lister = (|| {
            let state = state
                .as_deref()
                .map(|s| {
                    alto::JobState::parse(s).ok_or_else(|| {
                        invalid(format!(
                            "unknown job state {s:?}: expected queued, running, done, failed or cancelled"
                        ))
                    })
                })
                .transpose()?;
            let pages = self.handle().jobs(JobQuery {
                state,
                ..JobQuery::default()
            });
            resume(pages, after.as_deref(), page_size)
        })();
        sync(env, lister).map(JobList::new)
    }

    /// The tenant's audit trail in read order (commit order), optionally filtered by kind,
    /// subject, time and parent: an async iterable with a resumable `cursor`.
    #[napi]
    pub fn audit(&self, env: &Env, query: Option<AuditQueryOptions>) -> Result<AuditList> {
        let q = query.unwrap_or_default();
        let pages = self.handle().audit_query(alto::AuditQuery {
            kinds: match q.kind {
                Some(Either::A(kind)) => vec![kind],
                Some(Either::B(kinds)) => kinds,
                None => Vec::new(),
            },
            subject: q.subject,
            since: q.since.as_ref().map(micros),
            until: q.until.as_ref().map(micros),
            parent: q.children,
            ..alto::AuditQuery::default()
        });
        let lister = resume(pages, q.after.as_deref(), q.page_size);
        sync(env, lister).map(AuditList::new)
    }

    /// Bring the stubbed file at `path` of `share` back; rejects with `'InvalidTransition'` when
    /// it is not stubbed.
    #[napi]
    pub fn rehydrate<'env>(
        &self,
        env: &'env Env,
        share: String,
        path: String,
    ) -> Result<PromiseRaw<'env, RehydrateReport>> {
        let t = self.handle();
        promise(env, async move { t.rehydrate(&share, &path).await }, |r| {
            Ok(RehydrateReport::from(r))
        })
    }

    /// Apply an access-event batch in the agents' format (`{ update_batch_id, updates: [{
    /// file_path, last_accessed, access_type }] }`, as an object or JSON text) to `share`.
    /// Bad updates are counted as malformed.
    #[napi]
    pub fn apply_events<'env>(
        &self,
        env: &'env Env,
        share: String,
        batch: serde_json::Value,
    ) -> Result<PromiseRaw<'env, FeedReport>> {
        let t = self.handle();
        let text = match batch {
            serde_json::Value::String(s) => s,
            other => other.to_string(),
        };
        promise(
            env,
            async move {
                t.apply_batch(&share, &text, "batch", &FeedRequest::default())
                    .await
            },
            |r| Ok(FeedReport::from(r)),
        )
    }

    /// The tenant's settings, as this object last read or set them (`alto.tenant(name)` reads
    /// them afresh).
    #[napi(getter)]
    pub fn settings(&self) -> TenantSettingsInfo {
        TenantSettingsInfo::from(&self.handle().record().settings)
    }

    /// Change the settings given (`null` for a retention: keep forever; `createTenant`'s
    /// names); the others keep their stored values. Resolves to the settings now in force,
    /// which `settings` gives from then on.
    #[napi]
    pub fn set_settings<'env>(
        &self,
        env: &'env Env,
        settings: crate::handle::TenantSettings,
    ) -> Result<PromiseRaw<'env, TenantSettingsInfo>> {
        let t = self.handle();
        let slot = self.inner.clone();
        promise(
            env,
            async move {
                // Over the settings as stored now, not as this handle was made: another
                // process may have changed some since.
                let current = t.alto().tenant(t.name()).await?;
                let merged = crate::handle::apply_settings(
                    current.record().settings.clone(),
                    Some(settings),
                )?;
                let updated = current.set_settings(&merged).await?;
                let info = TenantSettingsInfo::from(&updated.record().settings);
                *slot.write().unwrap_or_else(|p| p.into_inner()) = updated;
                Ok(info)
            },
            Ok,
        )
    }

    /// Apply the tenant's retention settings now (`alto maintain`): expire old plans, remove old
    /// REHYDRATED and DELETED records, finished jobs and feed bookkeeping. With `dryRun: true`,
    /// count only. Never touches a user file or a STUBBED record.
    #[napi]
    pub fn maintain<'env>(
        &self,
        env: &'env Env,
        options: Option<MaintainOptions>,
    ) -> Result<PromiseRaw<'env, MaintainReport>> {
        let t = self.handle();
        let dry_run = options.and_then(|o| o.dry_run).unwrap_or(false);
        promise(env, async move { t.maintain(dry_run).await }, |r| {
            Ok(MaintainReport::from(r))
        })
    }

    /// Compare the catalogue with what the tier targets and the shares' roots hold
    /// (`alto reconcile`): flag stubbed files whose object is gone or not as recorded (LOST),
    /// report objects nothing refers to (orphans; deleted only with `apply: true`, when they
    /// may be) and stubs the catalogue does not know.
    #[napi]
    pub fn reconcile<'env>(
        &self,
        env: &'env Env,
        options: Option<ReconcileOptions>,
    ) -> Result<PromiseRaw<'env, ReconcileReport>> {
        let t = self.handle();
        let req = match options {
            Some(o) => o.request(),
            None => Ok(alto::ReconcileRequest::default()),
        };
        promise(env, async move { t.reconcile(&req?).await }, |r| {
            Ok(ReconcileReport::from(r))
        })
    }

    /// A report on the tenant's files (`alto report`): totals, space saved and planned,
    /// breakdowns, the largest and oldest files, and with `rules` what that rule set would tier
    /// now. Writes nothing; rejects with `'NotFound'` for an unknown share.
    #[napi]
    pub fn report<'env>(
        &self,
        env: &'env Env,
        options: Option<ReportOptions>,
    ) -> Result<PromiseRaw<'env, Report>> {
        let t = self.handle();
        let mut req = alto::ReportRequest::default();
        let mut now = alto::time::now_micros();
        if let Some(o) = options {
            if let Some(d) = &o.now {
                now = micros(d);
            }
            if let Some(s) = o.share {
                req = req.share(s);
            }
            if let Some(n) = o.top {
                req = req.top(n as usize);
            }
            if let Some(rules) = &o.rules {
                req = req.what_if(rules.inner.clone(), o.rules_source);
            }
        }
        let req = req.at(now);
        promise(env, async move { t.report(&req).await }, move |r| {
            Ok(Report::new(r, now))
        })
    }

    /// Cancel a queued or running job.
    #[napi]
    pub fn cancel_job<'env>(&self, env: &'env Env, job: i64) -> Result<PromiseRaw<'env, JobInfo>> {
        let t = self.handle();
        promise(env, async move { t.cancel_job(job).await }, |j| {
            Ok(JobInfo::from(j))
        })
    }
}
