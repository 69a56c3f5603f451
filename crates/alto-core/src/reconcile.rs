//! Reconciliation: the catalogue against what the tier targets and the shares really hold.
//!
//! [`reconcile`] lists every tier target the tenant's tier objects name (under the tenant's own
//! key prefix, `{tenant}/` or `{tenant}/{share}/`, page by page), walks every share that has a
//! root on this host for stubs, and compares:
//!
//! - **LOST**: a STUBBED object whose data the target no longer holds as recorded — no object at
//!   its key, another size, another entity tag than the one recorded when it was stubbed, or,
//!   with [`ReconcileOptions::verify_content`], another SHA-256 — is flagged
//!   ([`TierObject::lost`](crate::TierObject::lost), [`Store::mark_lost`]) and reported. A
//!   flagged object found whole again is cleared (`reconcile.recovered`).
//! - **Orphans**: objects under the tenant's prefix that no tier object of any state refers to
//!   (its recorded key, or the key of its current incarnation). They are reported, and deleted
//!   only with [`ReconcileOptions::apply`], and only when every one of these holds: the key has
//!   the form Alto writes for this tenant and one of its shares, and names a tier id the store
//!   gave this tenant ([`Store::owned_tier_ids`]) in an incarnation that is not its object's
//!   current one; that share's root was walked completely on this host and no stub there names
//!   the object; the target says when it was written, and that is longer ago than the grace
//!   period (at least [`MIN_GRACE`]); this host may reach the target
//!   ([`ReconcileOptions::allowed_targets`]). Anything else is kept, with the reason.
//! - **Unknown stubs**: stub files beneath a share's root whose path has no STUBBED tier object.
//!
//! Every finding writes an audit event under one `reconcile.run` event, which carries the
//! counts: `reconcile.lost`, `reconcile.recovered`, `reconcile.orphan`, `reconcile.orphan_deleted`,
//! `reconcile.unknown_stub`. See docs/adr/0015-reconciliation.md.
//!
//! The targets' listings give size, entity tag and time, not a SHA-256 (Alto's targets keep none
//! in object metadata: a multipart upload's digest is known only after its parts are sent, and S3
//! and Azure take metadata when an upload starts). Re-reading every stubbed object is what
//! [`ReconcileOptions::verify_content`] asks for.

use crate::driver::{StubDriver, TierTarget};
use crate::error::{Error, ErrorKind, Result};
use crate::lifecycle::TierState;
use crate::path::{KeyRule, components_beneath, object_key, share_key};
use crate::store::{LostRequest, Store, TierObjectQuery};
use crate::time::{MICROS_PER_SEC, Micros, now_micros};
use crate::types::{Lost, LostReason, NewAuditEvent, Share, Tenant, TierObject};
use crate::worker::{
    ShareRoots, TargetOpener, check_stored_key, check_target, key_segment, object_key_of,
    parse_object_key, target_root,
};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

/// The grace period when none is given: seven days.
pub const DEFAULT_GRACE: Micros = 7 * 86_400 * MICROS_PER_SEC;

/// The shortest grace period: an hour. An object younger than that may be a worker's upload
/// whose record or stub is still on its way.
pub const MIN_GRACE: Micros = 3_600 * MICROS_PER_SEC;

/// Objects asked about per [`Store::owned_tier_ids`] call.
const IDS_PER_CALL: usize = 1000;

/// How to reconcile.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ReconcileOptions {
    /// Only this share (its objects, its prefix `{tenant}/{share}/`, its root).
    pub share: Option<String>,
    /// Delete the orphans that may be deleted (otherwise they are only reported).
    pub apply: bool,
    /// Orphans written more recently than this are kept (at least [`MIN_GRACE`]).
    pub grace: Micros,
    /// Re-read every stubbed object and compare its SHA-256 with the catalogue's.
    pub verify_content: bool,
    /// Target roots to list besides those the tier objects name (a root whose objects' records
    /// are all gone).
    pub targets: Vec<String>,
    /// The time the grace period is counted back from, and the LOST flags' time.
    pub now: Micros,
    /// Shares mounted elsewhere on this host than at their recorded root.
    pub share_roots: ShareRoots,
    /// Target roots this host may reach (empty: any); others are neither listed nor touched.
    pub allowed_targets: Vec<String>,
    /// Objects per listing request (0: the target's default).
    pub page_size: usize,
}

impl Default for ReconcileOptions {
    fn default() -> Self {
        ReconcileOptions {
            share: None,
            apply: false,
            grace: DEFAULT_GRACE,
            verify_content: false,
            targets: Vec::new(),
            now: now_micros(),
            share_roots: ShareRoots::new(),
            allowed_targets: Vec::new(),
            page_size: 0,
        }
    }
}

/// What a reconciliation found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ReconcileReport {
    /// The tenant.
    pub tenant: String,
    /// The share, when one was chosen.
    pub share: Option<String>,
    /// Whether orphans were deleted.
    pub apply: bool,
    /// The grace period, in seconds.
    pub grace_seconds: i64,
    /// Whether stubbed objects were re-read.
    pub verify_content: bool,
    /// The `reconcile.run` audit event, parent of every finding's.
    pub event: Option<i64>,
    /// Tier objects read.
    pub tier_objects: u64,
    /// STUBBED objects compared with their target.
    pub stubs_checked: u64,
    /// STUBBED objects that could not be compared: their target could not be listed, or the
    /// catalogue has no record of their stored object (stubbed before it kept one).
    pub stubs_unchecked: u64,
    /// The targets listed.
    pub targets: Vec<TargetScan>,
    /// The shares whose roots were (or could not be) walked.
    pub shares: Vec<ShareScan>,
    /// STUBBED objects whose data is gone or not as recorded.
    pub lost: Vec<LostObject>,
    /// Objects flagged LOST before and found whole now (flag cleared).
    pub recovered: Vec<RecoveredObject>,
    /// Objects no tier object refers to.
    pub orphans: Vec<Orphan>,
    /// Stubs on disk the catalogue has no STUBBED object for.
    pub unknown_stubs: Vec<UnknownStub>,
    /// Orphans deleted.
    pub deleted: u64,
    /// Their bytes.
    pub deleted_bytes: u64,
    /// What went wrong without stopping the run (an orphan that could not be deleted, a flag
    /// that could not be written because the object changed meanwhile).
    pub errors: Vec<String>,
}

/// One target root's listing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct TargetScan {
    /// The target root.
    pub root: String,
    /// The key prefix listed under it.
    pub prefix: String,
    /// Objects listed.
    pub objects: u64,
    /// Their bytes.
    pub bytes: u64,
    /// Whether the listing went to its end.
    pub complete: bool,
    /// Why not, or what else to know.
    pub note: Option<String>,
}

/// One share's walk for stubs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ShareScan {
    /// The share.
    pub share: String,
    /// Where it was walked on this host.
    pub root: Option<String>,
    /// Whether every directory beneath the root was walked.
    pub complete: bool,
    /// Directories walked.
    pub directories: u64,
    /// Regular files looked at.
    pub files: u64,
    /// Stubs found.
    pub stubs: u64,
    /// Why it was not walked, or not completely.
    pub note: Option<String>,
}

/// A STUBBED object whose data the target no longer holds as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct LostObject {
    /// The share.
    pub share: String,
    /// The file's path.
    pub path: String,
    /// Its path key.
    pub path_key: String,
    /// The object's URI.
    pub object: String,
    /// What is wrong.
    pub reason: LostReason,
    /// The recorded size.
    pub recorded_size: Option<u64>,
    /// The size found (`None`: no object).
    pub found_size: Option<u64>,
    /// Whether the flag is now on the object (false when the object changed meanwhile).
    pub flagged: bool,
}

/// A LOST object found whole again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct RecoveredObject {
    /// The share.
    pub share: String,
    /// The file's path.
    pub path: String,
    /// The object's URI.
    pub object: String,
}

/// What became of an orphan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum OrphanAction {
    /// Kept (see the reason).
    Kept,
    /// Would be deleted with `apply`.
    WouldDelete,
    /// Deleted.
    Deleted,
    /// Its deletion failed (see the error).
    Failed,
}

impl OrphanAction {
    /// `kept`, `would_delete`, `deleted`, `failed`.
    pub fn as_str(self) -> &'static str {
        match self {
            OrphanAction::Kept => "kept",
            OrphanAction::WouldDelete => "would_delete",
            OrphanAction::Deleted => "deleted",
            OrphanAction::Failed => "failed",
        }
    }
}

/// An object no tier object refers to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Orphan {
    /// Its URI.
    pub object: String,
    /// The target root it was listed under.
    pub root: String,
    /// Its key under that root.
    pub key: String,
    /// The share its key names, when it names one of the tenant's.
    pub share: Option<String>,
    /// Its size.
    pub size: u64,
    /// When it was written, as the target says.
    pub modified: Option<Micros>,
    /// What became of it.
    pub action: OrphanAction,
    /// Why it was kept, or why it could be deleted.
    pub reason: String,
}

/// A stub file whose path has no STUBBED tier object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct UnknownStub {
    /// The share walked.
    pub share: String,
    /// The stub's path, as the catalogue would write it.
    pub path: String,
    /// The state of the path's tier object, if it has one.
    pub state: Option<TierState>,
    /// The object the stub names (its owner may have written anything).
    pub target_uri: Option<String>,
    /// The tenant the stub names.
    pub tenant: Option<String>,
    /// The stub's size.
    pub size: u64,
    /// The stub's owner.
    pub uid: u32,
    /// `damaged record` when the header is there but the record cannot be read.
    pub note: Option<String>,
}

/// A URI for comparison: scheme, then the path's segments without empty and `.` ones.
fn norm_uri(root: &str, key: &str) -> String {
    let (scheme, rest) = root.split_once("://").unwrap_or(("", root));
    let mut out = String::with_capacity(root.len() + key.len() + 4);
    out.push_str(scheme);
    out.push_str("://");
    let mut first = true;
    for seg in rest
        .split('/')
        .chain(key.split('/'))
        .filter(|s| !s.is_empty() && *s != ".")
    {
        if !first {
            out.push('/');
        }
        out.push_str(seg);
        first = false;
    }
    out
}

/// An entity tag without `W/` and quotes (S3 quotes them, Azure lists them bare).
fn bare_etag(e: &str) -> &str {
    e.trim_start_matches("W/").trim_matches('"')
}

/// The display URI of `key` under `root`.
fn join_uri(root: &str, key: &str) -> String {
    if root.ends_with('/') {
        format!("{root}{key}")
    } else {
        format!("{root}/{key}")
    }
}

/// Every tier object of the tenant (of `share`, when given).
async fn all_objects(
    store: &dyn Store,
    tenant: &Tenant,
    share: Option<&str>,
) -> Result<Vec<TierObject>> {
    let mut q = TierObjectQuery {
        share: share.map(str::to_owned),
        limit: 5000,
        ..Default::default()
    };
    let mut out = Vec::new();
    loop {
        let page = store.tier_objects(tenant.id, &q).await?;
        out.extend(page.items);
        match page.next {
            Some(n) => q.after = Some(n),
            None => return Ok(out),
        }
    }
}

/// The object key the catalogue recorded for a tier object, when it recorded one whose form is
/// the object's own.
fn recorded_key(tenant: &str, o: &TierObject) -> Option<String> {
    let s = o.stored.as_ref()?;
    check_stored_key(tenant, o, &s.key).ok()?;
    object_key(&s.key).ok()
}

/// One listed object.
struct Listed {
    root: usize,
    key: String,
    size: u64,
    etag: Option<String>,
    modified: Option<Micros>,
}

/// Reconcile `tenant`'s catalogue with its tier targets and its shares' roots. See the module
/// docs.
///
/// # Errors
/// A store error ends the run (what was written before stays written, under the run's event);
/// a target or a share that cannot be read is reported in its [`TargetScan`] or [`ShareScan`]
/// and keeps whatever depends on it from being judged: no LOST flag for objects of a target that
/// was not listed to its end, no deletion under a share whose root was not walked completely.
/// `InvalidInput` for a grace period under [`MIN_GRACE`]; `NotFound` for an unknown share.
pub async fn reconcile(
    store: &dyn Store,
    tenant: &Tenant,
    targets: &TargetOpener,
    driver: &dyn StubDriver,
    opts: &ReconcileOptions,
) -> Result<ReconcileReport> {
    if opts.grace < MIN_GRACE {
        return Err(Error::invalid_input(format!(
            "a grace period of {}s is shorter than the shortest, {}s: an object that young may \
             be an upload whose record or stub is on its way",
            opts.grace / MICROS_PER_SEC,
            MIN_GRACE / MICROS_PER_SEC
        )));
    }
    let all_shares = store.shares(tenant.id).await?;
    let shares: Vec<&Share> = match &opts.share {
        Some(name) => vec![
            all_shares
                .iter()
                .find(|s| &s.name == name)
                .ok_or_else(|| Error::not_found(format!("share {name:?} does not exist")))?,
        ],
        None => all_shares.iter().collect(),
    };
    let selected: HashSet<&str> = shares.iter().map(|s| s.name.as_str()).collect();
    let mut report = ReconcileReport {
        tenant: tenant.name.clone(),
        share: opts.share.clone(),
        apply: opts.apply,
        grace_seconds: opts.grace / MICROS_PER_SEC,
        verify_content: opts.verify_content,
        ..Default::default()
    };

    // 1. The tier objects as they are before anything is listed: the roots to list, and the
    //    STUBBED objects to compare (of the chosen shares; the others' say which stubs on disk
    //    are known where shares overlap).
    let before = all_objects(store, tenant, None).await?;
    report.tier_objects = before
        .iter()
        .filter(|o| selected.contains(o.share.as_str()))
        .count() as u64;
    let tseg = key_segment(&tenant.name);
    let prefix = match &opts.share {
        Some(s) => format!("{tseg}/{}/", key_segment(s)),
        None => format!("{tseg}/"),
    };
    let mut roots: Vec<String> = Vec::new();
    let mut root_index: HashMap<String, usize> = HashMap::new();
    let mut add_root = |root: &str, roots: &mut Vec<String>| -> usize {
        let n = norm_uri(root, "");
        *root_index.entry(n).or_insert_with(|| {
            roots.push(root.to_owned());
            roots.len() - 1
        })
    };
    let mut unreadable_uri = 0u64;
    for o in before
        .iter()
        .filter(|o| selected.contains(o.share.as_str()))
    {
        match target_root(o) {
            Ok(r) => {
                add_root(r, &mut roots);
            }
            Err(_) => unreadable_uri += 1,
        }
    }
    for r in &opts.targets {
        add_root(r, &mut roots);
    }

    // 2. The shares' roots on this host, for stubs the catalogue does not know (and for the
    //    objects stubs name, which are never deleted).
    let stubbed_paths: HashMap<(&str, &str), TierState> = before
        .iter()
        .map(|o| ((o.share.as_str(), o.path_key.as_str()), o.state))
        .collect();
    let mut disk_refs: HashSet<String> = HashSet::new();
    let mut walked: HashMap<String, Option<String>> = HashMap::new();
    let host_root = |s: &Share| -> Option<PathBuf> {
        let recorded = s.root.as_deref()?;
        Some(
            opts.share_roots
                .get(&s.name)
                .cloned()
                .unwrap_or_else(|| PathBuf::from(recorded)),
        )
    };
    for s in &shares {
        let mut scan = ShareScan {
            share: s.name.clone(),
            ..Default::default()
        };
        let (Some(recorded), Some(host)) = (s.root.as_deref(), host_root(s)) else {
            scan.note = Some("no root: catalogue only, nothing to walk".into());
            walked.insert(s.name.clone(), scan.note.clone());
            report.shares.push(scan);
            continue;
        };
        scan.root = Some(host.display().to_string());
        if !recorded.starts_with('/') {
            scan.note = Some(format!(
                "root {recorded:?} is not a POSIX path on this host"
            ));
            walked.insert(s.name.clone(), scan.note.clone());
            report.shares.push(scan);
            continue;
        }
        let skip: Vec<PathBuf> = all_shares
            .iter()
            .filter(|o| o.name != s.name)
            .filter_map(host_root)
            .filter(|p| p != &host)
            .collect();
        match driver.find_stubs(&host, &skip).await {
            Err(e) => {
                scan.note = Some(format!("not walked: {e}"));
            }
            Ok(found) => {
                scan.complete = found.complete();
                scan.directories = found.directories;
                scan.files = found.files;
                scan.stubs = found.stubs.len() as u64;
                if !found.problems.is_empty() {
                    let n = found.problems.len();
                    scan.note = Some(format!(
                        "{n} part{} not walked, first: {}",
                        if n == 1 { "" } else { "s" },
                        found.problems[0]
                    ));
                }
                let rule = KeyRule::of(s);
                let base = recorded.trim_end_matches('/');
                for f in found.stubs {
                    let path = format!("{base}/{}", f.relative);
                    if let Some(i) = &f.info {
                        disk_refs.insert(norm_uri(&i.target_uri, ""));
                    }
                    let key = share_key(rule, &path);
                    // Known when some share whose root holds the path has it STUBBED.
                    let state = stubbed_paths.get(&(s.name.as_str(), key.as_str())).copied();
                    let known = state == Some(TierState::Stubbed)
                        || all_shares.iter().any(|o| {
                            o.name != s.name
                                && o.root
                                    .as_deref()
                                    .is_some_and(|r| components_beneath(r, &path).is_ok())
                                && stubbed_paths.get(&(
                                    o.name.as_str(),
                                    share_key(KeyRule::of(o), &path).as_str(),
                                )) == Some(&TierState::Stubbed)
                        });
                    if !known {
                        report.unknown_stubs.push(UnknownStub {
                            share: s.name.clone(),
                            path,
                            state,
                            target_uri: f.info.as_ref().map(|i| i.target_uri.clone()),
                            tenant: f.info.as_ref().map(|i| i.tenant.clone()),
                            size: f.size,
                            uid: f.uid,
                            note: f.info.is_none().then(|| "damaged record".to_owned()),
                        });
                    }
                }
            }
        }
        walked.insert(
            s.name.clone(),
            if scan.complete {
                None
            } else {
                Some(scan.note.clone().unwrap_or_else(|| "not walked".into()))
            },
        );
        report.shares.push(scan);
    }

    // 3. The targets, under the tenant's prefix.
    let mut listed: BTreeMap<String, Listed> = BTreeMap::new();
    let mut opened: Vec<Option<Arc<dyn TierTarget>>> = Vec::new();
    for (i, root) in roots.iter().enumerate() {
        let mut scan = TargetScan {
            root: root.clone(),
            prefix: prefix.clone(),
            ..Default::default()
        };
        let target = match check_target(&opts.allowed_targets, root).and_then(|()| targets(root)) {
            Ok(t) => t,
            Err(e) => {
                scan.note = Some(format!("not listed: {e}"));
                report.targets.push(scan);
                opened.push(None);
                continue;
            }
        };
        let mut token: Option<String> = None;
        loop {
            match target
                .list_page(&prefix, token.as_deref(), opts.page_size)
                .await
            {
                Ok(page) => {
                    for o in page.objects {
                        scan.objects += 1;
                        scan.bytes += o.size;
                        let full = norm_uri(root, &o.key);
                        // Roots within roots: an object is listed once.
                        listed.entry(full).or_insert(Listed {
                            root: i,
                            key: o.key,
                            size: o.size,
                            etag: o.etag,
                            modified: o.modified,
                        });
                    }
                    match page.next {
                        Some(t) => token = Some(t),
                        None => {
                            scan.complete = true;
                            break;
                        }
                    }
                }
                Err(e) => {
                    scan.note = Some(format!("listing stopped: {e}"));
                    break;
                }
            }
        }
        report.targets.push(scan);
        opened.push(Some(target));
    }
    let complete_root = |uri_root: &str| -> Option<usize> {
        root_index
            .get(&norm_uri(uri_root, ""))
            .copied()
            .filter(|&i| report.targets[i].complete)
    };

    // 4. LOST: each STUBBED object of the chosen shares against its target.
    struct Flag {
        obj: usize,
        lost: Option<Lost>,
        detail: serde_json::Value,
    }
    let mut flags: Vec<Flag> = Vec::new();
    let mut matched: HashSet<String> = HashSet::new();
    for (n, o) in before.iter().enumerate() {
        if o.state != TierState::Stubbed || !selected.contains(o.share.as_str()) {
            continue;
        }
        // Stubbed before the catalogue recorded its object (or with a record whose key is not
        // its own): nothing recorded to compare with.
        let (Ok(root), Some(key)) = (target_root(o), recorded_key(&tenant.name, o)) else {
            report.stubs_unchecked += 1;
            continue;
        };
        let Some(ri) = complete_root(root) else {
            report.stubs_unchecked += 1;
            continue;
        };
        report.stubs_checked += 1;
        let full = norm_uri(root, &key);
        matched.insert(full.clone());
        let recorded = o.stored.as_ref();
        let found = listed.get(&full);
        let mut reason = match found {
            None => Some(LostReason::Missing),
            Some(l) if recorded.is_some_and(|r| r.size != l.size) => Some(LostReason::Size),
            // Another entity tag: written again since it was stubbed. Re-reading it (below)
            // says whether its content is still the recorded one.
            Some(l) if !opts.verify_content => {
                match (recorded.and_then(|r| r.etag.as_deref()), l.etag.as_deref()) {
                    (Some(a), Some(b)) if bare_etag(a) != bare_etag(b) => Some(LostReason::Etag),
                    _ => None,
                }
            }
            Some(_) => None,
        };
        let mut found_size = found.map(|l| l.size);
        if reason.is_none() && opts.verify_content {
            if let (Some(r), Some(t)) = (recorded, opened[ri].as_ref()) {
                match t.verify(&key).await {
                    Ok(v) => {
                        found_size = Some(v.size);
                        if v.size != r.size {
                            reason = Some(LostReason::Size);
                        } else if v.sha256.as_deref() != Some(r.sha256.as_str()) {
                            reason = Some(LostReason::Digest);
                        }
                    }
                    Err(e) if e.kind() == ErrorKind::NotFound => {
                        found_size = None;
                        reason = Some(LostReason::Missing);
                    }
                    Err(e) => report.errors.push(format!(
                        "{}: cannot re-read {}: {e}",
                        o.path,
                        join_uri(root, &key)
                    )),
                }
            }
        }
        let object = join_uri(root, &key);
        match reason {
            Some(reason) => {
                let lost = match o.lost {
                    Some(l) if l.reason == reason => l,
                    _ => Lost {
                        at: opts.now,
                        reason,
                    },
                };
                flags.push(Flag {
                    obj: n,
                    lost: Some(lost),
                    detail: serde_json::json!({
                        "share": o.share,
                        "path": o.path,
                        "object": object,
                        "reason": reason.as_str(),
                        "recorded_size": recorded.map(|r| r.size),
                        "found_size": found_size,
                        "recorded_etag": recorded.and_then(|r| r.etag.clone()),
                        "found_etag": found.and_then(|l| l.etag.clone()),
                        "already_flagged": o.lost.is_some(),
                    }),
                });
                report.lost.push(LostObject {
                    share: o.share.clone(),
                    path: o.path.clone(),
                    path_key: o.path_key.clone(),
                    object,
                    reason,
                    recorded_size: recorded.map(|r| r.size),
                    found_size,
                    flagged: false,
                });
            }
            None if o.lost.is_some() => {
                flags.push(Flag {
                    obj: n,
                    lost: None,
                    detail: serde_json::json!({
                        "share": o.share,
                        "path": o.path,
                        "object": object,
                        "was": o.lost.map(|l| l.reason.as_str()),
                    }),
                });
                report.recovered.push(RecoveredObject {
                    share: o.share.clone(),
                    path: o.path.clone(),
                    object,
                });
            }
            None => {}
        }
    }

    // 5. Orphans, judged against the tier objects as they are now (an object listed above was
    //    uploaded before this read, so the object that uploaded it is in it unless it is gone).
    let now_objects = all_objects(store, tenant, None).await?;
    let mut referenced: HashSet<String> = HashSet::new();
    let mut live: HashMap<i64, i32> = HashMap::new();
    for o in &now_objects {
        live.insert(o.id, o.incarnation);
        let Ok(root) = target_root(o) else { continue };
        if let Some(s) = &o.stored {
            if let Ok(k) = object_key(&s.key) {
                referenced.insert(norm_uri(root, &k));
            }
        }
        if let Ok(k) = object_key_of(&tenant.name, o) {
            referenced.insert(norm_uri(root, &k));
        }
    }
    let segments: HashMap<String, &str> = all_shares
        .iter()
        .map(|s| (key_segment(&s.name), s.name.as_str()))
        .collect();
    let mut orphans: Vec<(Orphan, String)> = Vec::new();
    let mut ask_ids: Vec<i64> = Vec::new();
    for (full, l) in &listed {
        if referenced.contains(full) || matched.contains(full) {
            continue;
        }
        let root = &roots[l.root];
        let parts = parse_object_key(&tenant.name, &l.key);
        let share = parts.and_then(|p| segments.get(p.share_segment).map(|s| (*s).to_owned()));
        let kept = |why: String| (OrphanAction::Kept, why);
        let canonical = object_key(&l.key).is_ok_and(|k| k == l.key);
        let (action, reason) = match (parts, &share) {
            (None, _) => kept("not an object key Alto writes for this tenant".into()),
            (Some(_), _) if !canonical => kept("not in the form Alto writes keys in".into()),
            (Some(p), None) => kept(format!(
                "its share segment {:?} is none of the tenant's shares",
                p.share_segment
            )),
            (Some(p), Some(share)) => {
                if live.get(&p.id).is_some_and(|&inc| p.incarnation >= inc) {
                    kept(format!(
                        "tier object {} is in incarnation {}: an upload of it may be under way",
                        p.id, live[&p.id]
                    ))
                } else if let Some(why) = walked
                    .get(share.as_str())
                    .cloned()
                    .unwrap_or_else(|| Some(format!("share {share:?} was not walked in this run")))
                {
                    kept(format!(
                        "stubs beneath share {share:?} are not all known: {why}"
                    ))
                } else if disk_refs.contains(full) {
                    kept("a stub on disk names it".into())
                } else {
                    match l.modified {
                        None => kept("the target does not say when it was written".into()),
                        Some(m) if m > opts.now - opts.grace => {
                            kept("younger than the grace period".into())
                        }
                        Some(_) => {
                            ask_ids.push(p.id);
                            // Pending the tier-id check below.
                            (
                                if opts.apply {
                                    OrphanAction::Deleted
                                } else {
                                    OrphanAction::WouldDelete
                                },
                                String::new(),
                            )
                        }
                    }
                }
            }
        };
        orphans.push((
            Orphan {
                object: join_uri(root, &l.key),
                root: root.clone(),
                key: l.key.clone(),
                share,
                size: l.size,
                modified: l.modified,
                action,
                reason,
            },
            full.clone(),
        ));
    }
    ask_ids.sort_unstable();
    ask_ids.dedup();
    let mut owned: HashSet<i64> = HashSet::new();
    for chunk in ask_ids.chunks(IDS_PER_CALL) {
        owned.extend(store.owned_tier_ids(tenant.id, chunk).await?);
    }
    for (o, _) in orphans.iter_mut() {
        if o.action == OrphanAction::Kept {
            continue;
        }
        let p = parse_object_key(&tenant.name, &o.key).expect("parsed above");
        if owned.contains(&p.id) {
            o.reason = if live.contains_key(&p.id) {
                format!(
                    "an earlier incarnation of tier object {}, older than the grace period",
                    p.id
                )
            } else {
                format!(
                    "tier object {} is gone (withdrawn or pruned); older than the grace period",
                    p.id
                )
            };
        } else {
            o.action = OrphanAction::Kept;
            o.reason = format!("tier id {} was never this tenant's", p.id);
        }
    }
    let deletable = orphans
        .iter()
        .filter(|(o, _)| o.action != OrphanAction::Kept)
        .count();

    // 6. The trail: the run with its counts, then each finding under it; then the deletions.
    let count_lost = |r: LostReason| report.lost.iter().filter(|l| l.reason == r).count();
    let run = store
        .append_audit(
            tenant.id,
            &NewAuditEvent {
                kind: "reconcile.run".into(),
                subject: tenant.name.clone(),
                detail: serde_json::json!({
                    "share": opts.share,
                    "apply": opts.apply,
                    "grace_seconds": opts.grace / MICROS_PER_SEC,
                    "verify_content": opts.verify_content,
                    "targets": report.targets.iter().map(|t| serde_json::json!({
                        "root": t.root,
                        "prefix": t.prefix,
                        "objects": t.objects,
                        "complete": t.complete,
                    })).collect::<Vec<_>>(),
                    "tier_objects": report.tier_objects,
                    "stubs_checked": report.stubs_checked,
                    "stubs_unchecked": report.stubs_unchecked,
                    "unreadable_target_uris": unreadable_uri,
                    "lost": report.lost.len(),
                    "lost_missing": count_lost(LostReason::Missing),
                    "lost_size": count_lost(LostReason::Size),
                    "lost_etag": count_lost(LostReason::Etag),
                    "lost_digest": count_lost(LostReason::Digest),
                    "recovered": report.recovered.len(),
                    "orphans": orphans.len(),
                    "orphan_bytes": orphans.iter().map(|(o, _)| o.size).sum::<u64>(),
                    "orphans_to_delete": if opts.apply { deletable } else { 0 },
                    "orphans_deletable": deletable,
                    "unknown_stubs": report.unknown_stubs.len(),
                    "shares_walked": report.shares.iter().filter(|s| s.complete).count(),
                    "shares_not_walked": report.shares.iter().filter(|s| !s.complete).count(),
                }),
                parent: None,
            },
        )
        .await?;
    report.event = Some(run.id);
    for f in &flags {
        let o = &before[f.obj];
        let req = LostRequest {
            share: o.share.clone(),
            path_key: o.path_key.clone(),
            expected: (o.state, o.version),
            lost: f.lost,
            event: NewAuditEvent {
                kind: if f.lost.is_some() {
                    "reconcile.lost"
                } else {
                    "reconcile.recovered"
                }
                .into(),
                subject: o.path_key.clone(),
                detail: f.detail.clone(),
                parent: Some(run.id),
            },
        };
        match store.mark_lost(tenant.id, &req).await {
            Ok(_) => {
                if f.lost.is_some() {
                    if let Some(l) = report
                        .lost
                        .iter_mut()
                        .find(|l| l.share == o.share && l.path_key == o.path_key)
                    {
                        l.flagged = true;
                    }
                }
            }
            // It moved on meanwhile (rehydrated, deleted, planned again): its event says so.
            Err(e) if matches!(e.kind(), ErrorKind::Conflict | ErrorKind::NotFound) => {
                report.errors.push(format!(
                    "{}: not flagged, it changed during the run: {e}",
                    o.path
                ));
                let mut detail = f.detail.clone();
                detail["not_flagged"] = serde_json::json!(e.to_string());
                store
                    .append_audit(
                        tenant.id,
                        &NewAuditEvent {
                            detail,
                            ..req.event.clone()
                        },
                    )
                    .await?;
            }
            Err(e) => return Err(e),
        }
    }
    for u in &report.unknown_stubs {
        store
            .append_audit(
                tenant.id,
                &NewAuditEvent {
                    kind: "reconcile.unknown_stub".into(),
                    subject: u.path.clone(),
                    detail: serde_json::json!({
                        "share": u.share,
                        "state": u.state.map(TierState::as_str),
                        "target_uri": u.target_uri,
                        "tenant": u.tenant,
                        "size": u.size,
                        "uid": u.uid,
                        "note": u.note,
                    }),
                    parent: Some(run.id),
                },
            )
            .await?;
    }
    for (o, _) in orphans.iter_mut() {
        let event = |kind: &str, o: &Orphan| NewAuditEvent {
            kind: kind.into(),
            subject: o.object.clone(),
            detail: serde_json::json!({
                "root": o.root,
                "key": o.key,
                "share": o.share,
                "size": o.size,
                "modified": o.modified,
                "action": o.action.as_str(),
                "reason": o.reason,
            }),
            parent: Some(run.id),
        };
        store
            .append_audit(tenant.id, &event("reconcile.orphan", o))
            .await?;
        if o.action != OrphanAction::Deleted {
            continue;
        }
        let ri = roots
            .iter()
            .position(|r| r == &o.root)
            .expect("listed root");
        let target = opened[ri].as_ref().expect("a listed target was opened");
        match target.delete(&o.key).await {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => {
                o.action = OrphanAction::Failed;
                report
                    .errors
                    .push(format!("{}: cannot delete: {e}", o.object));
                continue;
            }
        }
        report.deleted += 1;
        report.deleted_bytes += o.size;
        store
            .append_audit(tenant.id, &event("reconcile.orphan_deleted", o))
            .await?;
    }
    report.orphans = orphans.into_iter().map(|(o, _)| o).collect();
    Ok(report)
}
