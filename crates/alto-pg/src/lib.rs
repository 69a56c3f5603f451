#![doc = include_str!("../README.md")]

mod audit;
mod copy;
mod dirs;
mod error;
mod feeds;
mod files;
mod ingest;
pub mod login;
mod queue;
mod rekey;
mod report;
mod schema;
mod tenant;
mod tier;
mod time;

use alto_core::feed::AccessEvent;
use alto_core::feed::lucid::Cursors;
use alto_core::store::feeds::{ApplyOutcome, EventBatch};
use alto_core::store::tiering::{
    ClaimRequest, CommitOutcome, Fence, JobOutcome, JobQuery, Lease, PlanCommit, PruneCounts,
    PruneRequest,
};
use alto_core::store::{
    Capabilities, ChunkApply, ChunkOutcome, Feeds, FileQuery, IngestChunk, LostRequest, Page, Scan,
    ScanSpec, ScanSummary, ShareSpec, Store, TierObjectQuery, Tiering, TransitionRequest,
};
use alto_core::time::Micros;
use alto_core::types::{
    AuditEvent, AuditQuery, FileRecord, Job, NewAuditEvent, Share, Tenant, TenantId,
    TenantSettings, TierObject,
};
use alto_core::{Error, Result};
use async_trait::async_trait;
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::{Postgres, Transaction};
use std::sync::Arc;

pub use rekey::PathKeyReport;
pub use schema::{
    ALLOW_OWNER_LOGIN_ENV, APP_ROLE, BOUND_ROLE, MigrateReport, SCHEMA_VERSION, migrate,
    migrate_report,
};

use error::db_err;

/// Options of [`PgStore::connect_with`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConnectOptions {
    allow_owner_login: bool,
}

impl ConnectOptions {
    /// The defaults: a login with the owner's powers is refused.
    pub fn new() -> ConnectOptions {
        ConnectOptions::default()
    }

    /// The defaults, with `allow_owner_login` set when the environment variable
    /// `ALTO_ALLOW_OWNER_LOGIN` is set to anything but `0` or empty.
    pub fn from_env() -> ConnectOptions {
        let allow =
            std::env::var_os(ALLOW_OWNER_LOGIN_ENV).is_some_and(|v| !v.is_empty() && v != "0");
        ConnectOptions {
            allow_owner_login: allow,
        }
    }

    /// Run even as a login with the owner's powers (superuser, BYPASSRLS, or the schema's
    /// owner), with a warning on stderr. For development and tests that need the owner; a
    /// deployment connects as a runtime login (see [`login`]).
    pub fn allow_owner_login(mut self, allow: bool) -> ConnectOptions {
        self.allow_owner_login = allow;
        self
    }
}

/// The PostgreSQL store (`postgres://…`). Cheap to clone: the connection pool is shared.
///
/// Every pooled connection runs as the application role [`APP_ROLE`], and every call runs in a
/// transaction scoped to its tenant (see the crate docs), so row-level security backs up every
/// `WHERE tenant_id = …` the queries carry.
#[derive(Clone)]
pub struct PgStore {
    pool: PgPool,
    dirs: Arc<dirs::DirCache>,
    /// The login (`session_user`).
    login: Arc<str>,
    /// The tenant the login is bound to, if it is a tenant-bound login (see [`login`]).
    bound: Option<TenantId>,
    /// The actor of this store's audit events, as `alto.actor` takes it: the JSON, hex-encoded
    /// (so that the one simple query of [`PgStore::begin`] carries no text from outside).
    actor_hex: Arc<std::sync::RwLock<String>>,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("connections", &self.pool.size())
            .field("idle", &self.pool.num_idle())
            .finish_non_exhaustive()
    }
}

impl PgStore {
    /// Connect for normal use, as a runtime login (see [`login`]).
    ///
    /// Every pooled connection runs as the application role `alto_app`: the URL's user if it is
    /// that role, else `SET ROLE alto_app` right after connecting (the login must be a member of
    /// it, as every login from [`login::create_login`] is).
    ///
    /// Refuses with `PermissionDenied` a login (`session_user`, whatever role it would `SET
    /// ROLE` to) that is a superuser, has BYPASSRLS, or owns the schema's tables or is a member
    /// of their owner — row-level security would not bind it, and code on a pooled connection
    /// can `RESET ROLE` — unless the environment variable `ALTO_ALLOW_OWNER_LOGIN` is set (to
    /// anything but `0` or empty; for development: a warning goes to stderr). Errors clearly
    /// when the schema is missing ("run `alto migrate --store URL`") or newer than this build.
    pub async fn connect(url: &str) -> Result<PgStore> {
        Self::connect_with(url, &ConnectOptions::from_env()).await
    }

    /// [`connect`](Self::connect) with explicit options; the environment is not read.
    pub async fn connect_with(url: &str, opts: &ConnectOptions) -> Result<PgStore> {
        let options = schema::options(url)?;
        let session = schema::check_before_use(&options, opts.allow_owner_login).await?;
        let pool = pool_options(session.set_role)
            .connect_with(options)
            .await
            .map_err(|e| db_err(e).prefixed("cannot connect to PostgreSQL"))?;
        Ok(PgStore {
            pool,
            dirs: Arc::default(),
            login: session.login.into(),
            bound: session.bound,
            actor_hex: Arc::new(std::sync::RwLock::new(hex(&alto_core::Actor::current(
                "sdk",
            )
            .to_json()))),
        })
    }

    /// The tenant this store's login is bound to (a tenant-bound login, see [`login`]), or
    /// `None` for a login that may act for every tenant.
    pub fn bound_tenant(&self) -> Option<TenantId> {
        self.bound
    }

    /// `PermissionDenied` unless the login may act for `tenant`. The database checks the same
    /// (every policy compares with the login's tenant); this says so clearly, before any SQL.
    pub(crate) fn check_tenant(&self, tenant: TenantId) -> Result<()> {
        match self.bound {
            Some(b) if b != tenant => Err(self.denied(&format!("act for tenant {tenant}"))),
            _ => Ok(()),
        }
    }

    /// `PermissionDenied`: this (bound) login cannot `what`.
    pub(crate) fn denied(&self, what: &str) -> Error {
        let bound = self
            .bound
            .map_or_else(String::new, |b| format!(" to tenant {b}"));
        Error::new(
            alto_core::ErrorKind::PermissionDenied,
            format!(
                "the login {:?} is bound{bound}: it cannot {what}",
                &*self.login
            ),
        )
    }

    /// The connection pool (every connection already runs as `alto_app`; no tenant is set).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// A transaction whose row-level security admits `tenant` alone (until it ends).
    pub(crate) async fn begin(&self, tenant: TenantId) -> Result<Transaction<'static, Postgres>> {
        self.begin_as(tenant, "BEGIN").await
    }

    /// [`PgStore::begin`] of a read-only transaction whose statements all see one snapshot: a
    /// new one, or `snapshot`, exported by another transaction (`pg_export_snapshot()`, still
    /// open) that reads with it in parallel (reports).
    pub(crate) async fn begin_snapshot(
        &self,
        tenant: TenantId,
        snapshot: Option<&str>,
    ) -> Result<Transaction<'static, Postgres>> {
        let mut begin = String::from("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
        if let Some(id) = snapshot {
            // `SET TRANSACTION SNAPSHOT` takes no parameters: the id the server gave (hex digits
            // and dashes) is checked before it is written into the statement.
            if id.is_empty() || !id.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-') {
                return Err(Error::new(
                    alto_core::ErrorKind::Backend,
                    format!("unexpected snapshot id {id:?}"),
                ));
            }
            begin.push_str(&format!("; SET TRANSACTION SNAPSHOT '{id}'"));
        }
        self.begin_as(tenant, &begin).await
    }

    async fn begin_as(
        &self,
        tenant: TenantId,
        begin: &str,
    ) -> Result<Transaction<'static, Postgres>> {
        self.check_tenant(tenant)?;
        // One round trip: `BEGIN` and the setting go as one simple query. The id is an integer
        // formatted here, never text from outside.
        // The actor is hex digits (see `actor_hex`), decoded by the server.
        let begin = format!(
            "{begin}; SELECT set_config('app.tenant_id', '{}', true), set_config('alto.actor', \
             convert_from(decode('{}', 'hex'), 'UTF8'), true)",
            tenant.0,
            self.actor_hex.read().unwrap_or_else(|p| p.into_inner())
        );
        self.pool
            .begin_with(sqlx::AssertSqlSafe(begin))
            .await
            .map_err(db_err)
    }
}

/// `s` as lower-case hex digits.
fn hex(s: &str) -> String {
    use std::fmt::Write;
    s.bytes()
        .fold(String::with_capacity(2 * s.len()), |mut h, b| {
            let _ = write!(h, "{b:02x}");
            h
        })
}

fn pool_options(set_role: bool) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(10)
        .acquire_timeout(std::time::Duration::from_secs(30))
        .after_connect(move |conn, _meta| {
            Box::pin(async move {
                use sqlx::Executor;
                if set_role {
                    conn.execute(schema::SET_ROLE).await?;
                }
                // Before the session's first temporary table: a chunk's staging rows (about
                // 15 MB for 50,000 files) then stay in memory instead of the default 8 MB
                // spilling to temporary files.
                conn.execute(ingest::SET_TEMP_BUFFERS).await?;
                conn.execute(ingest::CREATE_STAGING).await?;
                conn.execute(queue::CREATE_PLAN_STAGING).await?;
                for sql in feeds::CREATE_STAGING {
                    conn.execute(sql).await?;
                }
                Ok(())
            })
        })
}

#[async_trait]
impl Store for PgStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    fn tiering(&self) -> &dyn Tiering {
        self
    }

    fn feeds(&self) -> &dyn Feeds {
        self
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            concurrent_workers: true,
            row_level_security: true,
            durable: true,
        }
    }

    async fn create_tenant(&self, name: &str, settings: &TenantSettings) -> Result<Tenant> {
        tenant::create_tenant(self, name, settings).await
    }

    async fn tenant(&self, name: &str) -> Result<Tenant> {
        tenant::tenant(self, name).await
    }

    async fn shares(&self, tenant: TenantId) -> Result<Vec<Share>> {
        tenant::shares(self, tenant).await
    }

    async fn set_share_root(
        &self,
        tenant: TenantId,
        share: &str,
        root: Option<&str>,
    ) -> Result<Share> {
        tenant::set_share_root(self, tenant, share, root).await
    }

    async fn ensure_share(&self, tenant: TenantId, spec: &ShareSpec) -> Result<Share> {
        tenant::ensure_share(self, tenant, spec).await
    }

    async fn begin_scan(&self, tenant: TenantId, spec: &ScanSpec) -> Result<Scan> {
        tenant::begin_scan(self, tenant, spec).await
    }

    async fn ingest_chunk(
        &self,
        tenant: TenantId,
        scan: i64,
        chunk: &IngestChunk,
    ) -> Result<ChunkOutcome> {
        ingest::ingest_chunk(self, tenant, scan, chunk).await
    }

    /// Keys, directories and the COPY happen here, while the chunk before merges on another
    /// connection; the returned future merges on its own task, so reading the next chunk of the
    /// inventory does not hold it up.
    async fn stage_chunk<'s>(
        &'s self,
        tenant: TenantId,
        scan: i64,
        chunk: IngestChunk,
    ) -> Result<ChunkApply<'s>> {
        let prepared = ingest::prepare(self, tenant, scan, &chunk).await?;
        // The rows are in staging now: the future keeps only the chunk's id.
        let id = chunk.id;
        Ok(Box::pin(async move {
            match prepared {
                Some(p) => tokio::spawn(ingest::apply(p)).await.map_err(|e| {
                    Error::new(
                        alto_core::ErrorKind::Backend,
                        format!("applying chunk {id:?} failed: {e}"),
                    )
                })?,
                None => Ok(ChunkOutcome::default()),
            }
        }))
    }

    async fn finish_scan(&self, tenant: TenantId, scan: i64) -> Result<ScanSummary> {
        ingest::finish_scan(self, tenant, scan).await
    }

    async fn count_unseen(&self, tenant: TenantId, scan: i64) -> Result<u64> {
        ingest::count_unseen(self, tenant, scan).await
    }

    async fn report_aggregates(
        &self,
        tenant: TenantId,
        query: &alto_core::report::ReportQuery,
    ) -> Result<alto_core::report::ReportAggregates> {
        report::report_aggregates(self, tenant, query).await
    }

    async fn files(&self, tenant: TenantId, query: &FileQuery) -> Result<Page<FileRecord>> {
        files::files(self, tenant, query).await
    }

    async fn tier_object(
        &self,
        tenant: TenantId,
        share: &str,
        path_key: &str,
    ) -> Result<TierObject> {
        tier::tier_object(self, tenant, share, path_key).await
    }

    async fn transition(
        &self,
        tenant: TenantId,
        request: &TransitionRequest,
    ) -> Result<Option<TierObject>> {
        tier::transition(self, tenant, request).await
    }

    async fn tier_objects(
        &self,
        tenant: TenantId,
        query: &TierObjectQuery,
    ) -> Result<Page<TierObject>> {
        tier::tier_objects(self, tenant, query).await
    }

    async fn mark_lost(&self, tenant: TenantId, request: &LostRequest) -> Result<TierObject> {
        tier::mark_lost(self, tenant, request).await
    }

    async fn owned_tier_ids(&self, tenant: TenantId, ids: &[i64]) -> Result<Vec<i64>> {
        tier::owned_tier_ids(self, tenant, ids).await
    }

    async fn append_audit(&self, tenant: TenantId, event: &NewAuditEvent) -> Result<AuditEvent> {
        audit::append_audit(self, tenant, event).await
    }

    async fn set_tenant_settings(
        &self,
        tenant: TenantId,
        settings: &TenantSettings,
    ) -> Result<Tenant> {
        tenant::set_settings(self, tenant, settings).await
    }

    async fn audit_query(&self, tenant: TenantId, query: &AuditQuery) -> Result<Page<AuditEvent>> {
        audit::audit(self, tenant, query).await
    }

    fn set_actor(&self, actor: alto_core::Actor) {
        *self.actor_hex.write().unwrap_or_else(|p| p.into_inner()) = hex(&actor.to_json());
    }
}

#[async_trait]
impl Tiering for PgStore {
    async fn tenants(&self) -> Result<Vec<Tenant>> {
        tenant::tenants(self).await
    }

    async fn file(&self, tenant: TenantId, share: &str, path_key: &str) -> Result<FileRecord> {
        files::file(self, tenant, share, path_key).await
    }

    async fn commit_plan(&self, tenant: TenantId, plan: &PlanCommit) -> Result<CommitOutcome> {
        queue::commit_plan(self, tenant, plan).await
    }

    async fn claim_job(&self, tenant: TenantId, request: &ClaimRequest) -> Result<Option<Lease>> {
        queue::claim_job(self, tenant, request).await
    }

    async fn renew_lease(&self, tenant: TenantId, fence: Fence, until: Micros) -> Result<()> {
        queue::renew_lease(self, tenant, fence, until).await
    }

    async fn expired_planned(
        &self,
        tenant: TenantId,
        before: Micros,
        limit: usize,
    ) -> Result<Vec<TierObject>> {
        queue::expired_planned(self, tenant, before, limit).await
    }

    async fn prune(&self, tenant: TenantId, request: &PruneRequest) -> Result<PruneCounts> {
        queue::prune(self, tenant, request).await
    }

    async fn job_objects(&self, tenant: TenantId, job: i64) -> Result<Vec<TierObject>> {
        queue::job_objects(self, tenant, job).await
    }

    async fn transition_fenced(
        &self,
        tenant: TenantId,
        fence: Fence,
        request: &TransitionRequest,
    ) -> Result<Option<TierObject>> {
        queue::transition_fenced(self, tenant, fence, request).await
    }

    async fn finish_job(
        &self,
        tenant: TenantId,
        fence: Fence,
        outcome: &JobOutcome,
        now: Micros,
    ) -> Result<Job> {
        queue::finish_job(self, tenant, fence, outcome, now).await
    }

    async fn cancel_job(&self, tenant: TenantId, job: i64, now: Micros) -> Result<Job> {
        queue::cancel_job(self, tenant, job, now).await
    }

    async fn jobs(&self, tenant: TenantId, query: &JobQuery) -> Result<Page<Job>> {
        queue::jobs(self, tenant, query).await
    }
}

#[async_trait]
impl Feeds for PgStore {
    async fn feed_cursors(&self, tenant: TenantId, share: &str, feed: &str) -> Result<Cursors> {
        feeds::feed_cursors(self, tenant, share, feed).await
    }

    async fn apply_events(
        &self,
        tenant: TenantId,
        share: &str,
        batch: &EventBatch,
    ) -> Result<ApplyOutcome> {
        feeds::apply_events(self, tenant, share, batch).await
    }

    async fn unknown_events(
        &self,
        tenant: TenantId,
        share: &str,
        limit: usize,
    ) -> Result<Vec<AccessEvent>> {
        feeds::unknown_events(self, tenant, share, limit).await
    }
}
