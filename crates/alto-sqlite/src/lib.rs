#![doc = include_str!("../README.md")]

mod audit;
mod batch;
mod chunk;
mod codec;
mod error;
mod feeds;
mod files;
mod ingest;
mod open;
mod queue;
mod rekey;
mod report;
mod sql;
mod tenants;
mod tier;

pub use open::{APPLICATION_ID, BUSY_TIMEOUT, database_file, schema_version};

use alto_core::store::{
    Capabilities, ChunkApply, ChunkOutcome, FileQuery, IngestChunk, LostRequest, Page, Scan,
    ScanSpec, ScanSummary, ShareSpec, Store, TierObjectQuery, TransitionRequest,
};
use alto_core::{
    Actor, AuditEvent, AuditQuery, Error, FileRecord, NewAuditEvent, Result, Share, Tenant,
    TenantId, TenantSettings, TierObject,
};
use async_trait::async_trait;
use sqlx::{Sqlite, Transaction};

/// The `sqlite://` store: Alto's embedded default backend.
///
/// Cheap to clone (the pools are shared). See the crate docs for URLs, the concurrency model and
/// durability.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pools: open::Pools,
    /// Directory ids already committed (see [`ingest::DirCache`]).
    dirs: std::sync::Arc<ingest::DirCache>,
    /// Who this store's audit events are attributed to.
    actor: std::sync::Arc<std::sync::RwLock<Actor>>,
}

impl SqliteStore {
    /// The actor audit events are stamped with now.
    pub(crate) fn actor(&self) -> Actor {
        self.actor.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Open (creating the file if needed) and migrate. Accepts `sqlite://PATH`, `sqlite:PATH`,
    /// `sqlite::memory:` and a plain path. Refuses, with a message naming the file: a file that
    /// is not SQLite, a SQLite database of another program (no Alto schema marker but other
    /// tables), and a schema version newer than this build.
    pub async fn open(url: &str) -> Result<SqliteStore> {
        Ok(SqliteStore {
            pools: open::open(url).await?,
            dirs: Default::default(),
            actor: std::sync::Arc::new(std::sync::RwLock::new(Actor::current("sdk"))),
        })
    }

    /// The pool of reader connections (for `sqlite::memory:`, the store's one connection).
    ///
    /// For inspection, reports and tests. Alto's own writes go through a separate single writer
    /// connection; a write through this pool waits for it (busy timeout) like any other process.
    pub fn pool(&self) -> &sqlx::SqlitePool {
        &self.pools.read
    }

    /// Close every connection (checkpointing the WAL when this is the last one).
    pub async fn close(&self) {
        self.pools.write.close().await;
        self.pools.read.close().await;
    }

    /// A write transaction on the writer connection. `BEGIN IMMEDIATE` takes SQLite's write lock
    /// up front, so a second writer (another process) waits for it within the busy timeout instead
    /// of failing halfway through with a stale snapshot.
    async fn write(&self) -> Result<Transaction<'static, Sqlite>> {
        if let Some(c) = &self.pools.checkpointer {
            c.wake();
        }
        let mut tx = self
            .pools
            .write
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(error::db_in("cannot start a write transaction"))?;
        // The actor audit events written in this transaction carry (`sql::AUDIT_INSERT` reads
        // it): a connection-local temporary table, as PostgreSQL uses a transaction setting.
        let actor = self.actor().to_json();
        sqlx::query(sql::ACTOR_TABLE)
            .execute(&mut *tx)
            .await
            .map_err(error::db)?;
        sqlx::query(sql::ACTOR_SET)
            .bind(actor)
            .execute(&mut *tx)
            .await
            .map_err(error::db)?;
        Ok(tx)
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            concurrent_workers: false,
            row_level_security: false,
            durable: self.pools.durable,
        }
    }

    /// 100,000: one writer applies the chunks, and each chunk dirties most of the path-key index
    /// wherever its keys fall, so fewer, larger chunks write that index fewer times. 1M new files
    /// went from 107,000 to 117,000 rows/s (16 KiB pages, interleaved runs); an unchanged
    /// re-ingest stayed at 195,000–205,000. Peak memory of the ingest grew from 390 to 480 MiB,
    /// most of it the writer's page cache.
    fn ingest_chunk_rows(&self) -> usize {
        100_000
    }

    fn tiering(&self) -> &dyn alto_core::store::Tiering {
        self
    }

    fn feeds(&self) -> &dyn alto_core::store::Feeds {
        self
    }

    async fn create_tenant(&self, name: &str, settings: &TenantSettings) -> Result<Tenant> {
        self.create_tenant_impl(name, settings).await
    }

    async fn tenant(&self, name: &str) -> Result<Tenant> {
        self.tenant_impl(name).await
    }

    async fn shares(&self, tenant: TenantId) -> Result<Vec<Share>> {
        self.shares_impl(tenant).await
    }

    async fn set_share_root(
        &self,
        tenant: TenantId,
        share: &str,
        root: Option<&str>,
    ) -> Result<Share> {
        self.set_share_root_impl(tenant, share, root).await
    }

    async fn ensure_share(&self, tenant: TenantId, spec: &ShareSpec) -> Result<Share> {
        self.ensure_share_impl(tenant, spec).await
    }

    async fn begin_scan(&self, tenant: TenantId, spec: &ScanSpec) -> Result<Scan> {
        self.begin_scan_impl(tenant, spec).await
    }

    async fn ingest_chunk(
        &self,
        tenant: TenantId,
        scan: i64,
        chunk: &IngestChunk,
    ) -> Result<ChunkOutcome> {
        self.ingest_chunk_impl(tenant, scan, chunk).await
    }

    /// Stages nothing; the chunk applies on a task of its own, so that the driver reads the next
    /// chunk of the inventory meanwhile (on a multi-threaded runtime).
    async fn stage_chunk<'s>(
        &'s self,
        tenant: TenantId,
        scan: i64,
        chunk: IngestChunk,
    ) -> Result<ChunkApply<'s>> {
        let store = self.clone();
        Ok(Box::pin(async move {
            let id = chunk.id.clone();
            tokio::spawn(async move { store.ingest_chunk_impl(tenant, scan, &chunk).await })
                .await
                .map_err(|e| {
                    Error::new(
                        alto_core::ErrorKind::Backend,
                        format!("applying chunk {id:?} failed: {e}"),
                    )
                })?
        }))
    }

    async fn finish_scan(&self, tenant: TenantId, scan: i64) -> Result<ScanSummary> {
        self.finish_scan_impl(tenant, scan).await
    }

    async fn count_unseen(&self, tenant: TenantId, scan: i64) -> Result<u64> {
        self.count_unseen_impl(tenant, scan).await
    }

    async fn report_aggregates(
        &self,
        tenant: TenantId,
        query: &alto_core::report::ReportQuery,
    ) -> Result<alto_core::report::ReportAggregates> {
        self.report_aggregates_impl(tenant, query).await
    }

    async fn files(&self, tenant: TenantId, query: &FileQuery) -> Result<Page<FileRecord>> {
        self.files_impl(tenant, query).await
    }

    async fn tier_object(
        &self,
        tenant: TenantId,
        share: &str,
        path_key: &str,
    ) -> Result<TierObject> {
        self.tier_object_impl(tenant, share, path_key).await
    }

    async fn transition(
        &self,
        tenant: TenantId,
        request: &TransitionRequest,
    ) -> Result<Option<TierObject>> {
        self.transition_impl(tenant, request).await
    }

    async fn tier_objects(
        &self,
        tenant: TenantId,
        query: &TierObjectQuery,
    ) -> Result<Page<TierObject>> {
        self.tier_objects_impl(tenant, query).await
    }

    async fn mark_lost(&self, tenant: TenantId, request: &LostRequest) -> Result<TierObject> {
        self.mark_lost_impl(tenant, request).await
    }

    async fn owned_tier_ids(&self, tenant: TenantId, ids: &[i64]) -> Result<Vec<i64>> {
        self.owned_tier_ids_impl(tenant, ids).await
    }

    async fn append_audit(&self, tenant: TenantId, event: &NewAuditEvent) -> Result<AuditEvent> {
        self.append_audit_impl(tenant, event).await
    }

    async fn set_tenant_settings(
        &self,
        tenant: TenantId,
        settings: &TenantSettings,
    ) -> Result<Tenant> {
        self.set_tenant_settings_impl(tenant, settings).await
    }

    async fn audit_query(&self, tenant: TenantId, query: &AuditQuery) -> Result<Page<AuditEvent>> {
        self.audit_impl(tenant, query).await
    }

    fn set_actor(&self, actor: Actor) {
        *self.actor.write().unwrap_or_else(|p| p.into_inner()) = actor;
    }
}
