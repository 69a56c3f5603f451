//! The access-feed part of the storage contract: cursors and applying events.
//!
//! A store that can follow access feeds implements [`Feeds`] and returns itself from
//! [`Store::feeds`](super::Store::feeds). Reading and parsing feeds is the core's work
//! ([`crate::feed`]); the store applies a batch in one transaction together with the cursors that
//! produced it, so a crash at any point neither loses nor doubles an event.

use crate::error::Result;
use crate::feed::AccessEvent;
use crate::feed::lucid::{Cursor, Cursors};
use crate::lifecycle::TierState;
use crate::time::{MICROS_PER_SEC, Micros};
use async_trait::async_trait;
use serde::Serialize;

/// Events more than this far in the future are refused as clock skew.
pub const MAX_FUTURE: Micros = 7 * 86_400 * MICROS_PER_SEC;

/// Events to apply to one share, with the cursors to save with them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventBatch {
    /// The feed the events came from (`lucid`, or `batch` for pushed batches).
    pub feed: String,
    /// The events; applied in time order.
    pub events: Vec<AccessEvent>,
    /// Cursors (node, stem) → position, saved in the same transaction.
    pub cursors: Vec<((String, String), Cursor)>,
    /// The application time (clock-skew reference and `atime_updated`).
    pub now: Micros,
    /// The audit event the batch's lifecycle events (a delete's `tier.delete`) are written
    /// under: the feed's `feed.batch` event. `None` writes them without a parent.
    pub parent: Option<i64>,
}

/// A PLANNED or STUBBED file that an access touched (to re-evaluate or alert on).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Warmed {
    /// Share name.
    pub share: String,
    /// Path key.
    pub path_key: String,
    /// State of its tier object.
    pub state: TierState,
    /// The access time.
    pub at: Micros,
}

/// What applying a batch did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ApplyOutcome {
    /// Events that changed a record (access moved forward, moved, deleted, placeholder).
    pub applied: u64,
    /// Events already applied before (same event id).
    pub duplicate: u64,
    /// Events more than 7 days in the future: refused, counted.
    pub skewed: u64,
    /// Events for paths the inventory does not know (handled by the tenant's policy).
    pub unknown: u64,
    /// Events older than what the record has (kept for the record, nothing moved back).
    pub stale: u64,
    /// Events that change nothing tracked (directory events, pins, attributes).
    pub other: u64,
    /// Files moved to a new path.
    pub moved: u64,
    /// Files deleted (and their STUBBED objects marked DELETED).
    pub deleted: u64,
    /// The newest event time of the batch.
    pub newest: Option<Micros>,
    /// PLANNED and STUBBED files that were accessed.
    pub warmed: Vec<Warmed>,
}

/// Access feeds. See the module docs.
#[async_trait]
pub trait Feeds: Send + Sync {
    /// The saved cursors of a feed of a share.
    async fn feed_cursors(
        &self,
        tenant: crate::TenantId,
        share: &str,
        feed: &str,
    ) -> Result<Cursors>;

    /// Apply a batch to `share`, in one transaction with its cursors.
    ///
    /// # Behavior
    /// - Feed paths are mapped onto the share's `mount_root` (a LucidLink path `/a/b` with mount
    ///   root `L:\` is the inventory's `L:\a\b`) and keyed with the share's case rule.
    /// - An event id already applied for the share is a duplicate and changes nothing.
    /// - An event more than [`MAX_FUTURE`] after `now` is skewed: counted, recorded, not applied.
    /// - Accesses (`FileRead`, `PreHydrate`, `FileWritten`) move last accessed forward only, with
    ///   source `lucidlink_audit` and `atime_updated = now`; `FileWritten` also moves last modified
    ///   forward. An accessed PLANNED or STUBBED object gets `last_accessed` (forward only) and
    ///   `access_count + 1`, and is reported in `warmed`.
    /// - `Move` re-keys the file record and its tier object to the target path; `FileDelete` marks
    ///   the file missing and a STUBBED object DELETED.
    /// - Unknown paths follow the tenant's `unknown_paths` policy: queued for investigation,
    ///   ignored, or a placeholder record is created.
    async fn apply_events(
        &self,
        tenant: crate::TenantId,
        share: &str,
        batch: &EventBatch,
    ) -> Result<ApplyOutcome>;

    /// Events queued for investigation (unknown paths), oldest first.
    async fn unknown_events(
        &self,
        tenant: crate::TenantId,
        share: &str,
        limit: usize,
    ) -> Result<Vec<AccessEvent>>;
}
