//! The handle a service embeds: [`Alto`] from [`connect`](crate::connect()), a [`TenantHandle`]
//! per tenant, [`Pages`] with an opaque [`Cursor`] for every listing, and the worker pool
//! ([`Alto::run_workers`]).
//!
//! Everything here is owned (`Clone + Send + Sync + 'static`, no lifetimes), so a Python or Node
//! binding can hold it, and it is the whole journey: connect, tenant, shares, ingest, plan and
//! commit, run workers, rehydrate, feeds, the audit trail. The backend contract
//! ([`Store`], [`Tiering`](crate::store::Tiering), [`Feeds`](crate::store::Feeds)) stays reachable
//! through [`Alto::store`] for implementers and tests; users should not need it.

use alto_core::driver::{StubDriver, TierTarget};
use alto_core::feed::AccessEvent;
use alto_core::feed::apply::{FeedOptions, FeedReport, Rehydrator};
use alto_core::feed::lucid::Malformed;
use alto_core::planner::{PlanOptions, PlanReport, Planner};
use alto_core::reconcile::{ReconcileOptions, ReconcileReport};
use alto_core::store::tiering::{CommitOutcome, JobQuery};
use alto_core::store::{FileQuery, Page, ShareSpec};
use alto_core::time::now_micros;
use alto_core::worker::{
    FileProgress, JobReport, RehydrateReport, ShareRoots, TargetOpener, WorkerOptions,
    rehydrate_one_with, run_one_job_with_progress,
};
use alto_core::{
    AuditEvent, AuditQuery, Error, ErrorKind, FileRecord, Job, Result, RuleSet, Share, Store,
    Tenant, TenantSettings, TierState,
};
use futures::future::BoxFuture;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// A connected Alto: a store plus how this host reaches tier targets and primary storage.
///
/// Cheap to clone (one `Arc`). Made by [`connect`](crate::connect()) with the defaults, or by
/// [`Alto::builder`] where something is to be set.
#[derive(Clone)]
pub struct Alto {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Store>,
    targets: Arc<TargetOpener>,
    driver: Arc<dyn StubDriver>,
    share_roots: ShareRoots,
    allowed_targets: Vec<String>,
}

impl std::fmt::Debug for Alto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Alto")
            .field("backend", &self.inner.store.backend())
            .field("driver", &self.inner.driver)
            .field("share_roots", &self.inner.share_roots)
            .field("allowed_targets", &self.inner.allowed_targets)
            .finish_non_exhaustive()
    }
}

/// The tier targets every Alto opens by default: `file://`, `s3://` and `az://`
/// ([`alto_tier::ObjectTarget`]).
pub fn default_targets() -> Arc<TargetOpener> {
    Arc::new(|uri: &str| Ok(Arc::new(alto_tier::ObjectTarget::open(uri)?) as Arc<dyn TierTarget>))
}

/// Options of [`Alto`]: where the store is, and how this host reaches tier targets and primary
/// storage.
///
/// ```no_run
/// # async fn demo() -> alto::Result<()> {
/// let alto = alto::Alto::builder("sqlite://alto.db")
///     .share_root("media", "/mnt/media")
///     .allow_target("file:///srv/tier2/")
///     .connect()
///     .await?;
/// # Ok(()) }
/// ```
#[must_use]
pub struct AltoBuilder {
    url: String,
    store: Option<Arc<dyn Store>>,
    targets: Arc<TargetOpener>,
    driver: Arc<dyn StubDriver>,
    share_roots: ShareRoots,
    allowed_targets: Vec<String>,
}

impl Alto {
    /// A builder for the store at `url` (see [`connect`](crate::connect()) for the URLs).
    pub fn builder(url: impl Into<String>) -> AltoBuilder {
        AltoBuilder {
            url: url.into(),
            store: None,
            targets: default_targets(),
            driver: Arc::new(alto_tier::PosixStubDriver),
            share_roots: ShareRoots::new(),
            allowed_targets: Vec::new(),
        }
    }

    /// An Alto over a store already open (an implementer's own, or one shared with other code).
    pub fn with_store(store: Arc<dyn Store>) -> AltoBuilder {
        AltoBuilder {
            store: Some(store),
            ..Self::builder(String::new())
        }
    }

    /// The backend contract under the handle, for implementers and tests.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }

    /// Attribute the audit events this handle writes from now on to `source` (`cli:run`,
    /// `python`, a service's name…), with this process's user, host, program and pid
    /// ([`Actor::current`](alto_core::Actor::current)). Until set, the source is `sdk`.
    pub fn set_audit_source(&self, source: &str) {
        self.inner
            .store
            .set_actor(alto_core::Actor::current(source));
    }

    /// The store's backend: `memory`, `sqlite` or `postgres`.
    pub fn backend(&self) -> &'static str {
        self.inner.store.backend()
    }

    /// The tenant `name`. `NotFound` when there is none.
    pub async fn tenant(&self, name: &str) -> Result<TenantHandle> {
        let tenant = self.inner.store.tenant(name).await?;
        Ok(TenantHandle {
            alto: self.clone(),
            tenant,
        })
    }

    /// Create the tenant `name`. `AlreadyExists` when there is one.
    pub async fn create_tenant(
        &self,
        name: &str,
        settings: &TenantSettings,
    ) -> Result<TenantHandle> {
        let tenant = self.inner.store.create_tenant(name, settings).await?;
        Ok(TenantHandle {
            alto: self.clone(),
            tenant,
        })
    }

    /// Every tenant this login may act for (one, for a tenant-bound PostgreSQL login).
    pub async fn tenants(&self) -> Result<Vec<TenantHandle>> {
        let q = self.inner.store.as_ref().tiering();
        Ok(q.tenants()
            .await?
            .into_iter()
            .map(|tenant| TenantHandle {
                alto: self.clone(),
                tenant,
            })
            .collect())
    }

    /// Run tiering workers until the queue is empty (`once`) or `cancel` is cancelled.
    ///
    /// `opts.workers` jobs run at the same time (on a store without concurrent writers they
    /// take turns). Each worker claims a job of one of the served tenants, moves its files with
    /// this Alto's targets and stub driver, and records each file's outcome; a per-file failure
    /// is counted, not returned. An `Err` is a failure of the store itself.
    pub async fn run_workers(&self, opts: &RunOptions) -> Result<RunReport> {
        let tenants = self.served(opts.tenant.as_deref()).await?;
        let report = Arc::new(std::sync::Mutex::new(RunReport::default()));
        let mut handles = Vec::new();
        for w in 0..opts.workers.max(1) {
            let alto = self.clone();
            let opts = opts.clone();
            let report = report.clone();
            let mut tenants = tenants.clone();
            let wopts = WorkerOptions {
                name: format!("{}-{w}", opts.name),
                lease: opts.lease.as_micros().min(i64::MAX as u128) as i64,
                share_roots: self.inner.share_roots.clone(),
                allowed_targets: self.inner.allowed_targets.clone(),
                ..WorkerOptions::default()
            };
            handles.push(tokio::spawn(async move {
                let noop = |_: FileProgress| {};
                let on_file: &(dyn Fn(FileProgress) + Send + Sync) = match &opts.on_file {
                    Some(f) => f.as_ref(),
                    None => &noop,
                };
                loop {
                    let mut worked = false;
                    for t in &tenants {
                        if opts.cancel.is_cancelled() {
                            return Ok(());
                        }
                        let store = alto.inner.store.as_ref();
                        while let Some(r) = run_one_job_with_progress(
                            store,
                            &t.tenant,
                            alto.inner.targets.as_ref(),
                            alto.inner.driver.as_ref(),
                            &wopts,
                            on_file,
                        )
                        .await?
                        {
                            worked = true;
                            if let Some(f) = &opts.on_job {
                                f(&t.tenant.name, &r);
                            }
                            report
                                .lock()
                                .unwrap_or_else(|p| p.into_inner())
                                .add(&t.tenant.name, &r);
                            if opts.cancel.is_cancelled() {
                                return Ok(());
                            }
                        }
                    }
                    if !worked {
                        if opts.once {
                            return Ok::<_, Error>(());
                        }
                        opts.cancel.sleep(opts.poll).await;
                        if opts.cancel.is_cancelled() {
                            return Ok(());
                        }
                        if opts.tenant.is_none() {
                            tenants = alto.served(None).await?;
                        }
                    }
                }
            }));
        }
        for h in handles {
            h.await.map_err(|e| {
                Error::new(ErrorKind::Backend, format!("worker task failed: {e}"))
            })??;
        }
        let r = std::mem::take(&mut *report.lock().unwrap_or_else(|p| p.into_inner()));
        Ok(r)
    }

    async fn served(&self, only: Option<&str>) -> Result<Vec<TenantHandle>> {
        match only {
            Some(name) => Ok(vec![self.tenant(name).await?]),
            None => self.tenants().await,
        }
    }

    fn rehydrator(&self) -> Rehydrator {
        Rehydrator {
            targets: self.inner.targets.clone(),
            driver: self.inner.driver.clone(),
            share_roots: self.inner.share_roots.clone(),
        }
    }
}

impl AltoBuilder {
    /// Open tier targets with `opener` instead of [`default_targets`].
    pub fn targets(mut self, opener: Arc<TargetOpener>) -> Self {
        self.targets = opener;
        self
    }

    /// Restore and stub files on primary storage with `driver` instead of the POSIX driver.
    pub fn driver(mut self, driver: Arc<dyn StubDriver>) -> Self {
        self.driver = driver;
        self
    }

    /// The share `name` is mounted at `dir` on this host (instead of its recorded root).
    pub fn share_root(mut self, name: impl Into<String>, dir: impl Into<PathBuf>) -> Self {
        self.share_roots.insert(name.into(), dir.into());
        self
    }

    /// Tier targets under `prefix` only (repeatable): a rule's target elsewhere is refused by
    /// the workers and by rehydration. None given: any target.
    pub fn allow_target(mut self, prefix: impl Into<String>) -> Self {
        self.allowed_targets.push(prefix.into());
        self
    }

    /// Open (and, for embedded stores, create and migrate) the store.
    pub async fn connect(self) -> Result<Alto> {
        let store = match self.store {
            Some(s) => s,
            None => crate::url::open_store(&self.url).await?,
        };
        Ok(Alto {
            inner: Arc::new(Inner {
                store,
                targets: self.targets,
                driver: self.driver,
                share_roots: self.share_roots,
                allowed_targets: self.allowed_targets,
            }),
        })
    }
}

/// One tenant of an [`Alto`]: its shares, files, plans, jobs, feeds and audit trail.
#[derive(Clone, Debug)]
pub struct TenantHandle {
    alto: Alto,
    tenant: Tenant,
}

impl TenantHandle {
    /// The tenant's record (id, name, settings).
    pub fn record(&self) -> &Tenant {
        &self.tenant
    }

    /// The tenant's name.
    pub fn name(&self) -> &str {
        &self.tenant.name
    }

    /// The [`Alto`] it belongs to.
    pub fn alto(&self) -> &Alto {
        &self.alto
    }

    fn store(&self) -> &dyn Store {
        self.alto.inner.store.as_ref()
    }

    /// The tenant's shares.
    pub async fn shares(&self) -> Result<Vec<Share>> {
        self.store().shares(self.tenant.id).await
    }

    /// Create a share. `AlreadyExists` when the tenant has one of that name.
    pub async fn create_share(&self, spec: &ShareSpec) -> Result<Share> {
        self.store().create_share(self.tenant.id, spec).await
    }

    /// The share `spec.name`, created when missing (an existing share keeps its kind; a root is
    /// set when it has none).
    pub async fn ensure_share(&self, spec: &ShareSpec) -> Result<Share> {
        self.store().ensure_share(self.tenant.id, spec).await
    }

    /// Set (or clear) a share's root on the hosts the workers run on.
    pub async fn set_share_root(&self, share: &str, root: Option<&str>) -> Result<Share> {
        self.store()
            .set_share_root(self.tenant.id, share, root)
            .await
    }

    /// Ingest the inventory at `path` into `share` (created when missing, with `req.kind` or a
    /// kind guessed from the first row). Rejected rows go to `req.on_reject` and are counted;
    /// they never change what the store knows (a full scan with rejected rows marks nothing
    /// missing). A re-run after an interruption resumes where it stopped.
    ///
    /// The same as [`InventoryFile::open`] and then [`ingest_file`](Self::ingest_file).
    pub async fn ingest(
        &self,
        share: &str,
        path: &Path,
        req: &IngestRequest,
    ) -> Result<alto_core::ingest::IngestReport> {
        let file = InventoryFile::open(path, &req.inventory)?;
        self.ingest_file(share, file, req).await
    }

    /// Ingest an inventory already open (see [`InventoryFile`]: a caller that reports its
    /// errors, notes or size before touching the store). `req.inventory` is not used: the file
    /// was opened with its own options. The reader's notes not yet taken go to `req.on_note`,
    /// those at the start before any row is read, the rest when the reading is done.
    pub async fn ingest_file(
        &self,
        share: &str,
        mut file: InventoryFile,
        req: &IngestRequest,
    ) -> Result<alto_core::ingest::IngestReport> {
        let mut opts = req.options.clone();
        if opts.source.is_none() {
            opts.source = Some(file.source.clone());
        }
        let kind = match req.kind {
            Some(k) => k,
            None => file.guess_kind()?,
        };
        let notes = |file: &mut InventoryFile| {
            for n in file.take_notes() {
                if let Some(f) = &req.on_note {
                    f(&n);
                }
            }
        };
        notes(&mut file);
        self.ensure_share(&ShareSpec::new(share, kind)).await?;
        let on_reject = req.on_reject.clone();
        let on_progress = req.on_progress.clone();
        let report = alto_core::ingest::ingest(
            self.store(),
            self.tenant.id,
            share,
            file.src.as_mut(),
            &opts,
            |r| {
                if let Some(f) = &on_reject {
                    f(r);
                }
            },
            |_, p| {
                if let Some(f) = &on_progress {
                    f(p);
                }
            },
        )
        .await;
        notes(&mut file);
        report
    }

    /// Evaluate `rules` over every file the store knows of this tenant (all shares), as of
    /// `opts.now`; commit the result as tiering jobs when `commit` (the report is the same
    /// either way).
    pub async fn plan(&self, rules: &RuleSet, opts: &PlanRequest) -> Result<PlanOutcome> {
        let mut popts = opts.options.clone();
        popts.keep_files = opts.commit;
        let now = popts.now;
        let report = self.plan_files(rules, popts, None).await?;
        let committed = if opts.commit {
            let q = self.store().tiering();
            Some(
                q.commit_plan(self.tenant.id, &report.to_commit(now))
                    .await?,
            )
        } else {
            None
        };
        Ok(PlanOutcome { report, committed })
    }

    /// The planner over the tenant's files (of `share`, when given), as of `opts.now`.
    pub(crate) async fn plan_files(
        &self,
        rules: &RuleSet,
        mut opts: PlanOptions,
        share: Option<&str>,
    ) -> Result<PlanReport> {
        opts.tenant = self.tenant.name.clone();
        let mut planner = Planner::new(rules, opts);
        let mut q = FileQuery {
            share: share.map(str::to_owned),
            limit: 5000,
            ..FileQuery::default()
        };
        loop {
            let page = self.store().files(self.tenant.id, &q).await?;
            for f in &page.items {
                planner.add_record(f);
            }
            match page.next {
                Some(n) => q.after = Some(n),
                None => break,
            }
        }
        Ok(planner.finish())
    }

    /// The tenant's files matching `query` (its `after` and `limit` are the pager's), page by
    /// page.
    pub fn files(&self, query: FileQuery) -> Pages<FileRecord> {
        let t = self.clone();
        let limit = query.limit;
        Pages::new(
            "files",
            limit,
            file_position,
            Arc::new(move |after: Option<String>, limit| {
                let t = t.clone();
                let mut q = query.clone();
                Box::pin(async move {
                    q.after = after;
                    q.limit = limit;
                    t.store().files(t.tenant.id, &q).await
                })
            }),
        )
    }

    /// The tenant's tiering jobs matching `query`, page by page.
    pub fn jobs(&self, query: JobQuery) -> Pages<Job> {
        let t = self.clone();
        let limit = query.limit;
        Pages::new(
            "jobs",
            limit,
            job_position,
            Arc::new(move |after: Option<String>, limit| {
                let t = t.clone();
                let mut q = query.clone();
                Box::pin(async move {
                    q.after = match after {
                        Some(a) => Some(a.parse().map_err(|_| bad_cursor())?),
                        None => None,
                    };
                    q.limit = limit;
                    t.store().tiering().jobs(t.tenant.id, &q).await
                })
            }),
        )
    }

    /// The tenant's audit trail, in read order, page by page. Events appended while paging are
    /// seen in order, none twice, none skipped (on PostgreSQL too: see [`AuditPosition`](alto_core::AuditPosition)).
    pub fn audit(&self) -> Pages<AuditEvent> {
        self.audit_query(AuditQuery::default())
    }

    /// The events of the tenant's audit trail that match `query`'s filters (kinds, subject, time
    /// range, children of an event), in read order, page by page. `query.after` and
    /// `query.limit` are ignored: resume with [`Pages::resume`], size pages with
    /// [`Pages::page_size`]. A cursor of a filtered listing is a position in the whole trail, so
    /// it may resume a listing with other filters.
    pub fn audit_query(&self, query: AuditQuery) -> Pages<AuditEvent> {
        let t = self.clone();
        let query = Arc::new(query);
        Pages::new(
            "audit",
            0,
            audit_position,
            Arc::new(move |after: Option<String>, limit| {
                let t = t.clone();
                let mut q = (*query).clone();
                Box::pin(async move {
                    q.after = match after {
                        Some(a) => Some(a.parse().map_err(|_| bad_cursor())?),
                        None => None,
                    };
                    q.limit = if limit == 0 { 1000 } else { limit };
                    t.store().audit_query(t.tenant.id, &q).await
                })
            }),
        )
    }

    /// Replace the tenant's settings (retention, feed policies, history). The handle keeps the
    /// settings it was made with; use the returned one.
    pub async fn set_settings(&self, settings: &TenantSettings) -> Result<TenantHandle> {
        let tenant = self
            .store()
            .set_tenant_settings(self.tenant.id, settings)
            .await?;
        Ok(TenantHandle {
            alto: self.alto.clone(),
            tenant,
        })
    }

    /// Apply the tenant's retention settings now ([`alto_core::maintain`]): expire old plans,
    /// remove old REHYDRATED/DELETED records, finished jobs and feed bookkeeping. With
    /// `dry_run`, count only. Never touches a user file or a STUBBED record.
    pub async fn maintain(&self, dry_run: bool) -> Result<alto_core::maintain::MaintainReport> {
        // Read the settings as stored now, not as this handle was made.
        let tenant = self.store().tenant(&self.tenant.name).await?;
        alto_core::maintain::maintain(self.store(), &tenant, now_micros(), dry_run).await
    }

    /// Cancel a queued or running job (its files not yet stubbed stay PLANNED for a later
    /// plan).
    pub async fn cancel_job(&self, job: i64) -> Result<Job> {
        self.store()
            .tiering()
            .cancel_job(self.tenant.id, job, now_micros())
            .await
    }

    /// Bring the stubbed file at `path` of `share` back.
    pub async fn rehydrate(&self, share: &str, path: &str) -> Result<RehydrateReport> {
        let s = self
            .shares()
            .await?
            .into_iter()
            .find(|s| s.name == share)
            .ok_or_else(|| Error::not_found(format!("share {share:?} does not exist")))?;
        let key = alto_core::path::share_key(alto_core::path::KeyRule::of(&s), path);
        let obj = self
            .store()
            .tier_object(self.tenant.id, share, &key)
            .await?;
        if obj.state != TierState::Stubbed {
            return Err(Error::new(
                ErrorKind::InvalidTransition,
                format!("{path} is {}, not STUBBED", obj.state.as_str()),
            ));
        }
        let mut report = RehydrateReport::default();
        self.rehydrate_object(&obj, &mut report).await?;
        Ok(report)
    }

    /// Bring back every stubbed file whose path matches `glob` (all of them when `None`). A
    /// file that fails is counted in the report's errors; the others go on.
    pub async fn rehydrate_matching(&self, glob: Option<&str>) -> Result<RehydrateReport> {
        let mut pages = self.files(FileQuery {
            glob: glob.map(str::to_owned),
            state: Some(TierState::Stubbed),
            ..Default::default()
        });
        let mut files = Vec::new();
        while let Some(page) = pages.next_page().await? {
            files.extend(page);
        }
        let mut report = RehydrateReport::default();
        for f in &files {
            match self.rehydrate_file(f).await {
                Ok(n) => {
                    report.rehydrated += 1;
                    report.bytes += n;
                }
                Err(e) => report.errors.push(format!("{}: {e}", f.entry.path)),
            }
        }
        Ok(report)
    }

    /// Bring back one stubbed file of a listing ([`files`](Self::files)); the bytes fetched.
    pub async fn rehydrate_file(&self, file: &FileRecord) -> Result<u64> {
        let obj = self
            .store()
            .tier_object(self.tenant.id, &file.share, &file.path_key)
            .await?;
        let mut report = RehydrateReport::default();
        self.rehydrate_object(&obj, &mut report).await?;
        Ok(report.bytes)
    }

    async fn rehydrate_object(
        &self,
        obj: &alto_core::TierObject,
        report: &mut RehydrateReport,
    ) -> Result<()> {
        let inner = &self.alto.inner;
        alto_core::worker::target_root(obj)
            .and_then(|root| alto_core::worker::check_target(&inner.allowed_targets, root))?;
        let n = rehydrate_one_with(
            inner.store.as_ref(),
            &self.tenant,
            obj,
            inner.targets.as_ref(),
            inner.driver.as_ref(),
            &inner.share_roots,
        )
        .await?;
        report.rehydrated += 1;
        report.bytes += n;
        Ok(())
    }

    /// Compare the tenant's catalogue with what its tier targets and its shares hold: flag
    /// stubbed files whose object is missing or not as recorded (LOST), report objects no tier
    /// object refers to (orphans, deleted with [`ReconcileRequest::apply`] when they may be) and
    /// stubs on disk the catalogue does not know, with an audit event for each under one
    /// `reconcile.run` event. Uses this Alto's targets, stub driver, share roots and allowed
    /// targets. See [`alto_core::reconcile`] for what is kept and why.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> alto::Result<()> {
    /// let alto = alto::connect("memory://").await?;
    /// let tenant = alto.create_tenant("acme", &Default::default()).await?;
    /// let report = tenant
    ///     .reconcile(&alto::ReconcileRequest::default().grace(std::time::Duration::from_secs(86_400)))
    ///     .await?;
    /// assert!(report.lost.is_empty() && report.orphans.is_empty());
    /// # Ok(()) }
    /// ```
    pub async fn reconcile(&self, req: &ReconcileRequest) -> Result<ReconcileReport> {
        let inner = &self.alto.inner;
        let mut opts = ReconcileOptions::default();
        opts.share = req.share.clone();
        opts.apply = req.apply;
        opts.grace = i64::try_from(req.grace.as_micros()).unwrap_or(i64::MAX);
        opts.verify_content = req.verify_content;
        opts.targets = req.targets.clone();
        opts.now = req.now.unwrap_or_else(now_micros);
        opts.share_roots = inner.share_roots.clone();
        opts.allowed_targets = inner.allowed_targets.clone();
        alto_core::reconcile::reconcile(
            inner.store.as_ref(),
            &self.tenant,
            inner.targets.as_ref(),
            inner.driver.as_ref(),
            &opts,
        )
        .await
    }

    fn feed_options(&self, opts: &FeedRequest) -> FeedOptions {
        FeedOptions {
            now: opts.now.unwrap_or_else(now_micros),
            batch_events: opts.batch_events.max(1),
            rules: opts.rules.clone(),
            rehydrate: Some(self.alto.rehydrator()),
        }
    }

    /// Apply a batch of access events (from any feed named `feed`) to `share`: last-access
    /// times move forward, moves and deletes follow the files, duplicates are recognised.
    pub async fn apply_events(
        &self,
        share: &str,
        feed: &str,
        events: Vec<AccessEvent>,
        opts: &FeedRequest,
    ) -> Result<FeedReport> {
        alto_core::feed::apply::apply_events(
            self.store(),
            &self.tenant,
            share,
            feed,
            events,
            &self.feed_options(opts),
        )
        .await
    }

    /// Apply a batch file of access events (JSON lines, the `alto feed events` format) to
    /// `share`; malformed lines are counted in the report.
    pub async fn apply_batch_file(
        &self,
        share: &str,
        path: &Path,
        opts: &FeedRequest,
    ) -> Result<FeedReport> {
        alto_core::feed::apply::apply_batch_file(
            self.store(),
            &self.tenant,
            share,
            path,
            &self.feed_options(opts),
        )
        .await
    }

    /// One pass over a LucidLink `.lucid_audit` tree at `root` for `share`, from where the last
    /// pass stopped. Malformed lines are counted in the report and passed to `on_malformed`.
    pub async fn follow_lucid(
        &self,
        share: &str,
        root: &Path,
        opts: &FeedRequest,
        on_malformed: &mut (dyn FnMut(Malformed) + Send),
    ) -> Result<FeedReport> {
        alto_core::feed::apply::follow_lucid(
            self.store(),
            &self.tenant,
            share,
            root,
            &self.feed_options(opts),
            on_malformed,
        )
        .await
    }
}

/// A callback per rejected inventory row (FILE:LINE, column and reason in its `Display`).
pub type OnReject = Arc<dyn Fn(&alto_core::inventory::Rejection) + Send + Sync>;
/// A callback after each ingested chunk (rows and bytes read so far).
pub type OnProgress = Arc<dyn Fn(alto_core::inventory::Progress) + Send + Sync>;
/// A callback per note of the inventory reader (a detected preset, a skipped preamble, times
/// read as UTC, a lossy export): things the user should know that are not errors.
pub type OnNote = Arc<dyn Fn(&str) + Send + Sync>;

/// How [`TenantHandle::ingest`] reads and ingests.
#[derive(Clone, Default)]
#[non_exhaustive]
pub struct IngestRequest {
    /// How the inventory is read (column map, format).
    pub inventory: alto_core::inventory::InventoryOptions,
    /// Full scan or partial, chunk size, resume identity, path prefix.
    pub options: alto_core::ingest::IngestOptions,
    /// The share's kind when it is created (default: NTFS when the first row's path is a
    /// Windows path, else POSIX).
    pub kind: Option<alto_core::ShareKind>,
    /// Called per rejected row.
    pub on_reject: Option<OnReject>,
    /// Called after each chunk.
    pub on_progress: Option<OnProgress>,
    /// Called per note of the reader.
    pub on_note: Option<OnNote>,
}

impl std::fmt::Debug for IngestRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IngestRequest")
            .field("inventory", &self.inventory)
            .field("options", &self.options)
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

impl IngestRequest {
    /// Read the inventory as `opts` says (column map, delimiter, preset, …).
    pub fn inventory(mut self, opts: alto_core::inventory::InventoryOptions) -> Self {
        self.inventory = opts;
        self
    }

    /// A full scan: files of the share not in the inventory are marked missing (unless a row
    /// was rejected).
    pub fn full_scan(mut self) -> Self {
        self.options.kind = alto_core::store::ScanKind::Full;
        self
    }

    /// With a full scan: mark unlisted files missing even when rows were rejected.
    pub fn missing_despite_rejects(mut self, yes: bool) -> Self {
        self.options.missing_despite_rejects = yes;
        self
    }

    /// Rows per transaction (default: the store's).
    pub fn chunk_rows(mut self, rows: usize) -> Self {
        self.options.chunk_rows = Some(rows);
        self
    }

    /// The kind of the share when the ingest creates it.
    pub fn kind(mut self, kind: alto_core::ShareKind) -> Self {
        self.kind = Some(kind);
        self
    }

    /// Call `f` per rejected row.
    pub fn on_reject(
        mut self,
        f: impl Fn(&alto_core::inventory::Rejection) + Send + Sync + 'static,
    ) -> Self {
        self.on_reject = Some(Arc::new(f));
        self
    }

    /// Call `f` after each chunk.
    pub fn on_progress(
        mut self,
        f: impl Fn(alto_core::inventory::Progress) + Send + Sync + 'static,
    ) -> Self {
        self.on_progress = Some(Arc::new(f));
        self
    }

    /// Call `f` per note of the reader.
    pub fn on_note(mut self, f: impl Fn(&str) + Send + Sync + 'static) -> Self {
        self.on_note = Some(Arc::new(f));
        self
    }
}

/// An inventory file opened for [`TenantHandle::ingest_file`]: its header read, nothing
/// written anywhere yet. For callers that report a bad file, the reader's notes or the size
/// of what is to come (a progress bar's length) before they open a store.
///
/// Owned and `Send`, not `Clone` (a reader has one position).
#[derive(Debug)]
pub struct InventoryFile {
    path: PathBuf,
    opts: alto_core::inventory::InventoryOptions,
    source: String,
    src: Box<dyn alto_core::inventory::InventorySource>,
}

impl InventoryFile {
    /// Open the inventory at `path` (CSV in any delimiter and encoding, compressed or not, or
    /// Parquet), read as `opts` says. Errors: the file cannot be read, or is not an inventory.
    pub fn open(
        path: impl AsRef<Path>,
        opts: &alto_core::inventory::InventoryOptions,
    ) -> Result<InventoryFile> {
        let path = path.as_ref();
        let src = alto_core::inventory::open(path, opts)?;
        let source = alto_core::ingest::source_identity(path)?;
        Ok(InventoryFile {
            path: path.to_owned(),
            opts: opts.clone(),
            source,
            src,
        })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// How far the reading is (bytes of a CSV, rows of Parquet) and the total when known.
    pub fn progress(&self) -> alto_core::inventory::Progress {
        self.src.progress()
    }

    /// The reader's notes so far (each once; taking them empties the list).
    pub fn take_notes(&mut self) -> Vec<String> {
        self.src.take_notes()
    }

    /// The kind of a new share from the first row: NTFS for a Windows path, else POSIX (the
    /// file is read again from its start; this one keeps its position).
    pub fn guess_kind(&self) -> Result<alto_core::ShareKind> {
        guess_kind(&self.path, &self.opts)
    }
}

/// The kind of a new share from an inventory's first row: NTFS for a Windows path, else POSIX.
fn guess_kind(
    path: &Path,
    opts: &alto_core::inventory::InventoryOptions,
) -> Result<alto_core::ShareKind> {
    let mut src = alto_core::inventory::open(path, opts)?;
    while let Some(item) = src.next_item()? {
        if let alto_core::inventory::Item::Row(r) = item {
            return Ok(if alto_core::path::is_windows_path(r.path) {
                alto_core::ShareKind::Ntfs
            } else {
                alto_core::ShareKind::Posix
            });
        }
    }
    Ok(alto_core::ShareKind::Posix)
}

/// How [`TenantHandle::plan`] plans.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PlanRequest {
    /// The planner's options (`now`, batch size, bandwidths, stub size, …). The tenant is the
    /// handle's.
    pub options: PlanOptions,
    /// Commit the plan as tiering jobs (default: a dry run).
    pub commit: bool,
}

impl Default for PlanRequest {
    fn default() -> Self {
        PlanRequest {
            options: PlanOptions::at(now_micros()),
            commit: false,
        }
    }
}

impl PlanRequest {
    /// A dry run as of `now` (microseconds since the epoch).
    pub fn at(now: alto_core::time::Micros) -> Self {
        PlanRequest {
            options: PlanOptions::at(now),
            commit: false,
        }
    }

    /// Commit the plan too.
    pub fn commit(mut self, commit: bool) -> Self {
        self.commit = commit;
        self
    }
}

/// What [`TenantHandle::plan`] did.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PlanOutcome {
    /// The plan (as `alto plan --format json` prints it).
    pub report: PlanReport,
    /// What the commit did (when asked).
    pub committed: Option<CommitOutcome>,
}

/// How [`TenantHandle::reconcile`] reconciles. A dry run of every share with a grace period of
/// seven days unless said otherwise.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ReconcileRequest {
    /// Only this share.
    pub share: Option<String>,
    /// Delete the orphans that may be deleted.
    pub apply: bool,
    /// Orphans written more recently are kept (default 7 days; at least an hour).
    pub grace: Duration,
    /// Re-read every stubbed object and compare its SHA-256 with the catalogue's.
    pub verify_content: bool,
    /// Target roots to list besides those the tier objects name.
    pub targets: Vec<String>,
    /// The time the grace period counts back from (default: now).
    pub now: Option<alto_core::time::Micros>,
}

impl Default for ReconcileRequest {
    fn default() -> Self {
        ReconcileRequest {
            share: None,
            apply: false,
            grace: Duration::from_micros(alto_core::reconcile::DEFAULT_GRACE as u64),
            verify_content: false,
            targets: Vec::new(),
            now: None,
        }
    }
}

impl ReconcileRequest {
    /// Only `share`.
    pub fn share(mut self, share: impl Into<String>) -> Self {
        self.share = Some(share.into());
        self
    }

    /// Delete the orphans that may be deleted (`true`), or only report them.
    pub fn apply(mut self, apply: bool) -> Self {
        self.apply = apply;
        self
    }

    /// Keep orphans written less than `grace` ago.
    pub fn grace(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }

    /// Re-read every stubbed object (`true`).
    pub fn verify_content(mut self, yes: bool) -> Self {
        self.verify_content = yes;
        self
    }

    /// List the target root `uri` too.
    pub fn target(mut self, uri: impl Into<String>) -> Self {
        self.targets.push(uri.into());
        self
    }

    /// Count the grace period back from `now` (microseconds since the epoch).
    pub fn at(mut self, now: alto_core::time::Micros) -> Self {
        self.now = Some(now);
        self
    }
}

/// How feeds are applied ([`TenantHandle::apply_events`], [`TenantHandle::follow_lucid`]).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct FeedRequest {
    /// Application time (default: now).
    pub now: Option<alto_core::time::Micros>,
    /// Events per store transaction.
    pub batch_events: usize,
    /// Rules to re-evaluate accessed PLANNED files with.
    pub rules: Option<RuleSet>,
}

impl Default for FeedRequest {
    fn default() -> Self {
        FeedRequest {
            now: None,
            batch_events: 100_000,
            rules: None,
        }
    }
}

/// A cancellation token for [`Alto::run_workers`]: cancelling it stops the workers after the
/// job each one is running (a job in the middle of a file finishes that file first).
#[derive(Clone, Debug, Default)]
pub struct CancelToken(Arc<CancelState>);

#[derive(Debug, Default)]
struct CancelState {
    cancelled: AtomicBool,
    notify: tokio::sync::Notify,
}

impl CancelToken {
    /// A token not cancelled yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Cancel: every holder sees it.
    pub fn cancel(&self) {
        self.0.cancelled.store(true, Ordering::SeqCst);
        self.0.notify.notify_waiters();
    }

    /// Whether [`cancel`](Self::cancel) was called.
    pub fn is_cancelled(&self) -> bool {
        self.0.cancelled.load(Ordering::SeqCst)
    }

    async fn sleep(&self, d: Duration) {
        let notified = self.0.notify.notified();
        if self.is_cancelled() {
            return;
        }
        tokio::select! {
            () = tokio::time::sleep(d) => {}
            () = notified => {}
        }
    }
}

/// A callback per finished file of a worker (progress displays; quick, non-blocking).
pub type OnFile = Arc<dyn Fn(FileProgress) + Send + Sync>;
/// A callback per finished job: the tenant's name and the job's report.
pub type OnJob = Arc<dyn Fn(&str, &JobReport) + Send + Sync>;

/// How [`Alto::run_workers`] runs.
#[derive(Clone)]
#[non_exhaustive]
pub struct RunOptions {
    /// Only this tenant's jobs (default: every tenant the login may act for).
    pub tenant: Option<String>,
    /// Jobs run at the same time (default 1).
    pub workers: usize,
    /// Stop when no job is left (default) instead of polling for more.
    pub once: bool,
    /// Lease length, renewed while working (default 300 s).
    pub lease: Duration,
    /// Time between polls when the queue is empty (default 5 s).
    pub poll: Duration,
    /// The workers' name on their claims (default: host and process id).
    pub name: String,
    /// Called after each file.
    pub on_file: Option<OnFile>,
    /// Called after each job.
    pub on_job: Option<OnJob>,
    /// Stops the workers.
    pub cancel: CancelToken,
}

impl std::fmt::Debug for RunOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunOptions")
            .field("tenant", &self.tenant)
            .field("workers", &self.workers)
            .field("once", &self.once)
            .field("lease", &self.lease)
            .field("poll", &self.poll)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            tenant: None,
            workers: 1,
            once: true,
            lease: Duration::from_secs(300),
            poll: Duration::from_secs(5),
            name: format!("{}-{}", host(), std::process::id()),
            on_file: None,
            on_job: None,
            cancel: CancelToken::new(),
        }
    }
}

impl RunOptions {
    /// Only `tenant`'s jobs.
    pub fn tenant(mut self, tenant: impl Into<String>) -> Self {
        self.tenant = Some(tenant.into());
        self
    }

    /// `n` jobs at the same time.
    pub fn workers(mut self, n: usize) -> Self {
        self.workers = n.max(1);
        self
    }

    /// Stop when the queue is empty (`true`) or poll for more until cancelled (`false`).
    pub fn once(mut self, once: bool) -> Self {
        self.once = once;
        self
    }

    /// Lease length (at least 10 s).
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease.max(Duration::from_secs(10));
        self
    }

    /// Time between polls when the queue is empty.
    pub fn poll(mut self, poll: Duration) -> Self {
        self.poll = poll;
        self
    }

    /// Call `f` after each file.
    pub fn on_file(mut self, f: impl Fn(FileProgress) + Send + Sync + 'static) -> Self {
        self.on_file = Some(Arc::new(f));
        self
    }

    /// Call `f` after each job.
    pub fn on_job(mut self, f: impl Fn(&str, &JobReport) + Send + Sync + 'static) -> Self {
        self.on_job = Some(Arc::new(f));
        self
    }

    /// Stop when `token` is cancelled.
    pub fn cancel(mut self, token: CancelToken) -> Self {
        self.cancel = token;
        self
    }
}

/// What [`Alto::run_workers`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct RunReport {
    /// Jobs run.
    pub jobs: u64,
    /// Files stubbed.
    pub stubbed: u64,
    /// Files skipped (changed or accessed since planning, or gone).
    pub skipped: u64,
    /// Files that failed.
    pub failed: u64,
    /// Bytes moved.
    pub bytes: u64,
    /// Per-file failures, `tenant: job N: error`.
    pub errors: Vec<String>,
}

impl RunReport {
    fn add(&mut self, tenant: &str, r: &JobReport) {
        self.jobs += 1;
        self.stubbed += r.stubbed;
        self.skipped += r.skipped;
        self.failed += r.failed;
        self.bytes += r.bytes;
        self.errors.extend(
            r.errors
                .iter()
                .map(|e| format!("{tenant}: job {}: {e}", r.job)),
        );
    }
}

fn host() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "host".into())
}

/// Where a listing stopped: opaque, printable and parseable ([`Cursor::parse`]), so a
/// listing can resume in another process ([`Pages::resume`]). It names the listing it belongs
/// to; resuming another listing with it is refused.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Cursor(String);

const CURSOR_PREFIX: &str = "ac2";

impl Cursor {
    fn new(kind: &str, after: &str) -> Self {
        let mut raw = Vec::with_capacity(kind.len() + after.len() + 1);
        raw.extend_from_slice(kind.as_bytes());
        raw.push(0);
        raw.extend_from_slice(after.as_bytes());
        Cursor(format!("{CURSOR_PREFIX}{}", base64url::encode(&raw)))
    }

    /// A cursor from its text ([`Cursor::as_str`]). `InvalidInput` for anything else.
    pub fn parse(s: &str) -> Result<Cursor> {
        Self::decode(s)?;
        Ok(Cursor(s.to_owned()))
    }

    /// The cursor's text: `ac2` and the base64url (unpadded) of the listing's kind and the
    /// position after which it resumes. Opaque: compare and store it, do not build one.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn decode(s: &str) -> Result<(String, String)> {
        let text = s.strip_prefix(CURSOR_PREFIX).ok_or_else(bad_cursor)?;
        let bytes = base64url::decode(text).ok_or_else(bad_cursor)?;
        let text = String::from_utf8(bytes).map_err(|_| bad_cursor())?;
        let (kind, after) = text.split_once('\0').ok_or_else(bad_cursor)?;
        Ok((kind.to_owned(), after.to_owned()))
    }
}

/// Unpadded base64url (RFC 4648 §5), for cursors.
mod base64url {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    pub(super) fn encode(bytes: &[u8]) -> String {
        let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
        for chunk in bytes.chunks(3) {
            let n = chunk
                .iter()
                .enumerate()
                .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
            for i in 0..=chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
            }
        }
        out
    }

    /// `None` for a character outside the alphabet, a length no encoding has, or stray bits.
    pub(super) fn decode(text: &str) -> Option<Vec<u8>> {
        if text.len() % 4 == 1 {
            return None;
        }
        let mut out = Vec::with_capacity(text.len() * 3 / 4);
        for chunk in text.as_bytes().chunks(4) {
            let mut n = 0u32;
            for (i, c) in chunk.iter().enumerate() {
                let v = ALPHABET.iter().position(|a| a == c)? as u32;
                n |= v << (18 - 6 * i);
            }
            let bytes = chunk.len() - 1;
            // The bits below the last whole byte must be zero (one text per value).
            if n & ((1 << (24 - 8 * bytes)) - 1) != 0 {
                return None;
            }
            out.extend((0..bytes).map(|i| (n >> (16 - 8 * i)) as u8));
        }
        Some(out)
    }
}

impl std::fmt::Display for Cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for Cursor {
    type Err = Error;
    fn from_str(s: &str) -> Result<Cursor> {
        Cursor::parse(s)
    }
}

fn bad_cursor() -> Error {
    Error::invalid_input(
        "not a cursor of this listing (give one that a listing's `cursor()` returned)",
    )
}

type Fetch<T> =
    Arc<dyn Fn(Option<String>, usize) -> BoxFuture<'static, Result<Page<T>>> + Send + Sync>;

/// A listing read page by page: [`next_page`](Self::next_page) until `None`, or
/// [`into_stream`](Self::into_stream) item by item. [`cursor`](Self::cursor) is where it
/// stands, to [`resume`](Self::resume) later, here or elsewhere.
pub struct Pages<T> {
    kind: &'static str,
    limit: usize,
    fetch: Fetch<T>,
    position: fn(&T) -> String,
    after: Option<String>,
    done: bool,
}

impl<T> std::fmt::Debug for Pages<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pages")
            .field("kind", &self.kind)
            .field("after", &self.after)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl<T: Send + 'static> Pages<T> {
    fn new(kind: &'static str, limit: usize, position: fn(&T) -> String, fetch: Fetch<T>) -> Self {
        Pages {
            kind,
            limit,
            fetch,
            position,
            after: None,
            done: false,
        }
    }

    /// Items per page (0: the store's default).
    pub fn page_size(mut self, limit: usize) -> Self {
        self.limit = limit;
        self
    }

    /// Start after `cursor` (from [`cursor`](Self::cursor) of the same listing).
    ///
    /// # Errors
    /// `InvalidInput` when the cursor belongs to another kind of listing.
    pub fn resume(mut self, cursor: &Cursor) -> Result<Self> {
        let (kind, after) = Cursor::decode(cursor.as_str())?;
        if kind != self.kind {
            return Err(Error::invalid_input(format!(
                "a cursor of the {kind} listing cannot resume the {} listing",
                self.kind
            )));
        }
        self.after = Some(after);
        self.done = false;
        Ok(self)
    }

    /// Where the listing stands: after the last item of the last page returned (`None` before
    /// the first page). A listing resumed from it returns what was not returned yet, including
    /// items appended since.
    pub fn cursor(&self) -> Option<Cursor> {
        self.after.as_deref().map(|a| Cursor::new(self.kind, a))
    }

    /// The cursor right after `item` (one this listing returned): a listing resumed from it
    /// starts with the item after it. For iterators that stop in the middle of a page.
    pub fn cursor_after(&self, item: &T) -> Cursor {
        Cursor::new(self.kind, &(self.position)(item))
    }

    /// The next page, or `None` at the end.
    pub async fn next_page(&mut self) -> Result<Option<Vec<T>>> {
        if self.done {
            return Ok(None);
        }
        let page = (self.fetch)(self.after.clone(), self.limit).await?;
        // The cursor is the last item's position, whether or not the store says there is more:
        // a listing resumed from the end returns what was appended since.
        match page.items.last() {
            Some(last) => self.after = Some((self.position)(last)),
            None => {
                self.done = true;
                return Ok(None);
            }
        }
        if page.next.is_none() {
            self.done = true;
        }
        Ok(Some(page.items))
    }

    /// Item by item.
    pub fn into_stream(self) -> impl futures::Stream<Item = Result<T>> + Send + 'static {
        futures::stream::unfold(
            (self, std::collections::VecDeque::new()),
            |(mut pages, mut buf)| async move {
                loop {
                    if let Some(item) = buf.pop_front() {
                        return Some((Ok(item), (pages, buf)));
                    }
                    match pages.next_page().await {
                        Ok(Some(items)) => buf.extend(items),
                        Ok(None) => return None,
                        Err(e) => {
                            pages.done = true;
                            return Some((Err(e), (pages, buf)));
                        }
                    }
                }
            },
        )
    }
}

/// Cursors at one item, for callers that hand a listing out item by item (the Python and Node
/// bindings' iterators): resuming from the cursor of the last item handed out returns what
/// follows it, even in the middle of a page.
impl Cursor {
    /// The position just after `file` in a [`TenantHandle::files`] listing.
    pub fn after_file(file: &FileRecord) -> Cursor {
        Cursor::new("files", &file_position(file))
    }

    /// The position just after `job` in a [`TenantHandle::jobs`] listing.
    pub fn after_job(job: &Job) -> Cursor {
        Cursor::new("jobs", &job_position(job))
    }

    /// The position just after `event` in a [`TenantHandle::audit`] listing.
    pub fn after_audit(event: &AuditEvent) -> Cursor {
        Cursor::new("audit", &audit_position(event))
    }
}

/// A file's position in the stores' file order: share name, then path key (`share NUL key`).
fn file_position(f: &FileRecord) -> String {
    format!("{}\u{0}{}", f.share, f.path_key)
}

/// A job's position: its id.
fn job_position(j: &Job) -> String {
    j.id.to_string()
}

/// An audit event's position in read order ([`AuditPosition`]).
fn audit_position(e: &AuditEvent) -> String {
    e.position.to_string()
}

// The bindings append their additions after this module, apart from the handle above.
#[allow(clippy::items_after_test_module)]
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_strangers() {
        for (kind, after) in [("files", "7\u{0}/a,b"), ("audit", "42"), ("jobs", "")] {
            let c = Cursor::new(kind, after);
            let parsed = Cursor::parse(&c.to_string()).unwrap();
            assert_eq!(parsed, c);
            assert_eq!(
                Cursor::decode(parsed.as_str()).unwrap(),
                (kind.to_owned(), after.to_owned())
            );
        }
        // Not ac2; empty; a character outside the alphabet; a length no encoding has; stray
        // bits; no separator ("audit"); the hex cursors of before.
        for bad in [
            "",
            "ac2",
            "ac2YXVk!XQ",
            "ac2A",
            "ac2YR",
            "ac2YXVkaXQ",
            "ac16175646974003432",
            "xx2YXVkaXQANDI",
        ] {
            assert!(Cursor::parse(bad).is_err(), "{bad}");
        }
        assert!(Cursor::parse("ac2YXVkaXQANDI").is_ok());
    }

    #[test]
    fn base64url_round_trips_every_length_and_matches_rfc4648() {
        for (raw, text) in [
            (&b""[..], ""),
            (b"f", "Zg"),
            (b"fo", "Zm8"),
            (b"foo", "Zm9v"),
            (b"foob", "Zm9vYg"),
            (b"fooba", "Zm9vYmE"),
            (b"foobar", "Zm9vYmFy"),
            (b"\xfb\xff", "-_8"),
        ] {
            assert_eq!(base64url::encode(raw), text);
            assert_eq!(base64url::decode(text).as_deref(), Some(raw));
        }
        let bytes: Vec<u8> = (0..=255).collect();
        for n in 0..40 {
            let raw = &bytes[n * 5..n * 5 + n];
            assert_eq!(base64url::decode(&base64url::encode(raw)).unwrap(), raw);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Additions for the bindings (issues 17 and 18): a dry run over an inventory file, and an
// agents' batch given as text. Kept apart from the handle above.
// ---------------------------------------------------------------------------------------------

impl Alto {
    /// A dry run of `rules` over the inventory file at `path` (CSV or Parquet), as `alto plan
    /// --inventory` does: nothing is read from or written to any store. Rejected rows are
    /// counted in the report's `rows_rejected`. A CSV inventory is read and evaluated on one
    /// thread per core (the plan is the same as on one). CPU and file work: call it off an async
    /// executor's threads (`spawn_blocking`) for large inventories.
    pub fn plan_inventory(
        rules: &RuleSet,
        path: &Path,
        inventory: &alto_core::inventory::InventoryOptions,
        options: PlanOptions,
    ) -> Result<PlanReport> {
        let (report, _) = alto_core::planner::plan_inventory(
            rules,
            path,
            inventory,
            options,
            alto_core::inventory::default_threads(),
            |_| {},
        )?;
        Ok(report)
    }
}

impl TenantHandle {
    /// Apply an access-event batch in the agents' JSON format (the `alto feed events` file
    /// format, given as text) to `share`; `source` names it in errors. Bad updates are counted
    /// as malformed; a text that is not a batch at all is `InvalidInput`.
    pub async fn apply_batch(
        &self,
        share: &str,
        batch: &str,
        source: &str,
        opts: &FeedRequest,
    ) -> Result<FeedReport> {
        let batch = alto_core::feed::batch::parse_batch(batch, source)?;
        let malformed = batch.malformed.len() as u64;
        let mut report = self
            .apply_events(share, "batch", batch.events, opts)
            .await?;
        report.read += malformed;
        report.malformed = malformed;
        Ok(report)
    }
}
