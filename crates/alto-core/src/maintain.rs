//! Retention: what `alto maintain` does for one tenant, by its settings.
//!
//! - PLANNED objects planned more than `planned_retention_days` ago expire: each plan is
//!   withdrawn through the lifecycle table ([`Action::Withdraw`], audit `tier.withdraw`), one
//!   file at a time, expecting the version read (a file that changed meanwhile is left to the
//!   next sweep). 0 days expires every plan made before the sweep. A file a running job holds
//!   is left to its worker.
//! - REHYDRATED and DELETED records, finished jobs that hold no file, and feed bookkeeping
//!   older than their settings are removed by the store ([`Tiering::prune`]).
//! - No user file and no STUBBED record is touched; nothing at all with `dry_run`, which counts.
//! - A sweep that is not dry writes one `maintain.sweep` audit event with its counts.
//!
//! - Snapshot history (with `keep_history`) is trimmed to each share's newest `history_scans`
//!   scans: the stores do it as each scan finishes, and the sweep applies a setting lowered
//!   since.
//!
//! [`Tiering::prune`]: crate::store::tiering::Tiering::prune

use crate::error::{ErrorKind, Result};
use crate::lifecycle::{Action, TierState};
use crate::store::tiering::{PruneCounts, PruneRequest};
use crate::store::{Store, TransitionRequest};
use crate::time::{MICROS_PER_SEC, Micros};
use crate::types::{NewAuditEvent, Tenant};
use serde::Serialize;

const DAY: Micros = 86_400 * MICROS_PER_SEC;
const HOUR: Micros = 3_600 * MICROS_PER_SEC;

/// Plans withdrawn per store round trip.
const BATCH: usize = 1000;

/// What a sweep did (or, dry, would do).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct MaintainReport {
    /// The tenant.
    pub tenant: String,
    /// Whether it only counted.
    pub dry_run: bool,
    /// PLANNED objects whose plans expired (withdrawn).
    pub planned_expired: u64,
    /// Expired plans left alone because the file changed during the sweep.
    pub planned_skipped: u64,
    /// What the store removed.
    pub pruned: PruneCounts,
    /// The sweep's audit event (`None` when dry).
    pub event: Option<i64>,
}

/// The cutoffs `tenant`'s settings give at `now`.
pub fn prune_request(tenant: &Tenant, now: Micros, dry_run: bool) -> PruneRequest {
    let s = &tenant.settings;
    let days = |d: Option<u32>| d.map(|d| now - i64::from(d) * DAY);
    PruneRequest {
        rehydrated_before: days(s.rehydrated_retention_days),
        deleted_before: days(s.deleted_retention_days),
        jobs_before: days(s.job_retention_days),
        feed_before: Some(now - i64::from(s.feed_staging_hours) * HOUR),
        history_scans: s.history_scans.filter(|_| s.keep_history),
        dry_run,
    }
}

/// Sweep `tenant` at `now`.
pub async fn maintain(
    store: &dyn Store,
    tenant: &Tenant,
    now: Micros,
    dry_run: bool,
) -> Result<MaintainReport> {
    let q = store.tiering();
    let mut report = MaintainReport {
        tenant: tenant.name.clone(),
        dry_run,
        ..Default::default()
    };
    // Planned at or after `now` is never expired, even with 0 days: a plan made during the
    // sweep is not the sweep's to withdraw.
    let cutoff = now - i64::from(tenant.settings.planned_retention_days) * DAY;
    let mut seen = std::collections::HashSet::new();
    loop {
        // A dry sweep withdraws nothing, so the store would list the same batch again: it
        // takes them all at once.
        let limit = if dry_run { usize::MAX } else { BATCH };
        let expired = q.expired_planned(tenant.id, cutoff, limit).await?;
        let fresh: Vec<_> = expired
            .into_iter()
            .filter(|o| seen.insert((o.share.clone(), o.path_key.clone())))
            .collect();
        if fresh.is_empty() {
            break;
        }
        for o in &fresh {
            if dry_run {
                report.planned_expired += 1;
                continue;
            }
            let req = TransitionRequest {
                share: o.share.clone(),
                path_key: o.path_key.clone(),
                action: Action::Withdraw,
                expected: Some((TierState::Planned, o.version)),
                stored: None,
                plan: None,
                at: now,
            };
            match store.transition(tenant.id, &req).await {
                Ok(_) => report.planned_expired += 1,
                Err(e) if matches!(e.kind(), ErrorKind::Conflict | ErrorKind::NotFound) => {
                    report.planned_skipped += 1
                }
                Err(e) => return Err(e),
            }
        }
    }
    report.pruned = q
        .prune(tenant.id, &prune_request(tenant, now, dry_run))
        .await?;
    if !dry_run {
        let e = store
            .append_audit(
                tenant.id,
                &NewAuditEvent {
                    kind: "maintain.sweep".into(),
                    subject: tenant.name.clone(),
                    detail: serde_json::json!({
                        "planned_expired": report.planned_expired,
                        "planned_skipped": report.planned_skipped,
                        "rehydrated_pruned": report.pruned.rehydrated,
                        "deleted_pruned": report.pruned.deleted,
                        "jobs_pruned": report.pruned.jobs,
                        "feed_events_pruned": report.pruned.feed_events,
                        "snapshot_rows_pruned": report.pruned.snapshot_rows,
                        "planned_retention_days": tenant.settings.planned_retention_days,
                        "rehydrated_retention_days": tenant.settings.rehydrated_retention_days,
                        "deleted_retention_days": tenant.settings.deleted_retention_days,
                        "job_retention_days": tenant.settings.job_retention_days,
                        "feed_staging_hours": tenant.settings.feed_staging_hours,
                        "history_scans": tenant.settings.history_scans,
                    }),
                    parent: None,
                },
            )
            .await?;
        report.event = Some(e.id);
    }
    Ok(report)
}
