//! The conformance suite every store runs (feature `testkit`).
//!
//! Each function checks one group of `# Behavior` promises of [`Store`] and panics with a message
//! on the first broken one. They create tenants of their own under unique names, so they can run
//! against a shared database and in parallel. A backend's test file calls [`run_all`] (or each
//! function as its own test):
//!
//! ```text
//! #[tokio::test]
//! async fn conformance() {
//!     let store = MyStore::open(...).await.unwrap();
//!     alto_core::testkit::run_all(&store).await;
//! }
//! ```

use crate::error::ErrorKind;
use crate::lifecycle::{Action, TierState};
use crate::store::*;
use crate::types::*;
use std::sync::atomic::{AtomicU64, Ordering};

mod reports;
pub use reports::{reports, reports_agree};

/// Run every check.
pub async fn run_all(store: &dyn Store) {
    tenants(store).await;
    ingest_is_idempotent(store).await;
    scans_resume_by_source(store).await;
    ingest_survives_interruption(store).await;
    ingest_merges(store).await;
    full_scan_marks_missing(store).await;
    full_scan_with_rejects(store, false).await;
    full_scan_with_rejects(store, true).await;
    last_seen_follows_scans(store, true).await;
    last_seen_follows_scans(store, false).await;
    missing_keeps_the_scan_that_saw_it(store).await;
    older_scan_after_a_full_one(store).await;
    new_files_then_known_ones(store).await;
    later_chunk_undoes_an_earlier_one(store).await;
    staged_before_the_chunk_ahead_applies(store).await;
    listing_pages_and_filters(store).await;
    tenant_isolation(store).await;
    lifecycle_through_store(store).await;
    shares_and_roots(store).await;
    stored_object_kept(store).await;
    tier_objects_and_lost_flags(store).await;
    reconcile_with_the_store(store).await;
    audit_trail(store).await;
    long_paths(store).await;
    retention(store).await;
    history_sweep(store).await;
    reports(store).await;
}

/// A retention sweep trims snapshot history to a `history_scans` lowered after the scans (each
/// scan trims it as it finishes too); without history kept there is nothing to trim.
pub async fn history_sweep(store: &dyn Store) {
    use crate::maintain::maintain;
    let t = store
        .create_tenant(
            &unique_name("history"),
            &TenantSettings {
                keep_history: true,
                history_scans: None,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    for share in ["one", "two"] {
        store
            .ensure_share(t.id, &ShareSpec::new(share, ShareKind::Posix))
            .await
            .unwrap();
        // Three full scans, each changing both files: two snapshot rows a scan.
        for n in 1..=3u64 {
            ingest_scan(
                store,
                t.id,
                share,
                ScanKind::Full,
                &[("0", vec![entry("/a", n, None), entry("/b", 10 * n, None)])],
            )
            .await;
        }
    }
    let now = crate::time::now_micros();
    let all = maintain(store, &t, now, true).await.unwrap();
    assert_eq!(all.pruned.snapshot_rows, 0, "history_scans unset keeps all");
    let t = store
        .set_tenant_settings(
            t.id,
            &TenantSettings {
                history_scans: Some(1),
                ..t.settings.clone()
            },
        )
        .await
        .unwrap();
    let dry = maintain(store, &t, now, true).await.unwrap();
    // Two older scans of two shares, two rows each.
    assert_eq!(dry.pruned.snapshot_rows, 8, "{dry:?}");
    let done = maintain(store, &t, now, false).await.unwrap();
    assert_eq!(done.pruned.snapshot_rows, 8, "{done:?}");
    let again = maintain(store, &t, now, false).await.unwrap();
    assert_eq!(again.pruned.snapshot_rows, 0, "nothing left to trim");
    // The current records are untouched.
    let files = all_files(store, t.id, FileQuery::default()).await;
    let mut sizes: Vec<(String, String, u64)> = files
        .into_iter()
        .map(|f| (f.share, f.path_key, f.entry.size))
        .collect();
    sizes.sort();
    assert_eq!(
        sizes,
        [
            ("one".into(), "/a".into(), 3),
            ("one".into(), "/b".into(), 30),
            ("two".into(), "/a".into(), 3),
            ("two".into(), "/b".into(), 30)
        ]
    );
    // Without history kept, a sweep has no snapshots to count.
    let plain = store
        .set_tenant_settings(
            t.id,
            &TenantSettings {
                keep_history: false,
                history_scans: Some(0),
                ..t.settings.clone()
            },
        )
        .await
        .unwrap();
    let none = maintain(store, &plain, now, true).await.unwrap();
    assert_eq!(none.pruned.snapshot_rows, 0);
}

/// A tenant name no other run uses.
pub fn unique_name(prefix: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    format!(
        "{prefix}-{t:x}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

fn entry(path: &str, size: u64, accessed: Option<i64>) -> FileEntry {
    FileEntry {
        path: path.into(),
        size,
        modified: Some(1_000_000),
        accessed,
        extension: crate::path::extension(path).map(str::to_owned),
        ..Default::default()
    }
}

async fn tenant_with_share(store: &dyn Store, kind: ShareKind) -> (Tenant, Share) {
    let t = store
        .create_tenant(&unique_name("tk"), &TenantSettings::default())
        .await
        .expect("create tenant");
    let s = store
        .ensure_share(t.id, &ShareSpec::new("share1", kind))
        .await
        .expect("ensure share");
    (t, s)
}

async fn ingest(
    store: &dyn Store,
    t: TenantId,
    share: &str,
    kind: ScanKind,
    chunks: &[(&str, Vec<FileEntry>)],
) -> (Vec<ChunkOutcome>, ScanSummary) {
    let (_, outs, sum) = ingest_scan(store, t, share, kind, chunks).await;
    (outs, sum)
}

/// [`ingest`], also naming the scan.
async fn ingest_scan(
    store: &dyn Store,
    t: TenantId,
    share: &str,
    kind: ScanKind,
    chunks: &[(&str, Vec<FileEntry>)],
) -> (i64, Vec<ChunkOutcome>, ScanSummary) {
    let spec = ScanSpec::new(share, kind);
    let scan = store.begin_scan(t, &spec).await.expect("begin scan");
    // As the ingest driver does: chunk n + 1 is staged while chunk n applies, so every check
    // here also holds for a store that overlaps the two (`Store::stage_chunk`).
    let mut outs = Vec::new();
    let mut applying: Option<ChunkApply<'_>> = None;
    for item in chunks.iter().map(Some).chain([None]) {
        let stage = async {
            match item {
                Some((id, entries)) => {
                    let chunk = IngestChunk {
                        id: (*id).into(),
                        entries: entries.clone(),
                    };
                    Some(
                        store
                            .stage_chunk(t, scan.id, chunk)
                            .await
                            .expect("stage chunk"),
                    )
                }
                None => None,
            }
        };
        let next = match applying.take() {
            Some(apply) => {
                let (out, next) = futures::future::join(apply, stage).await;
                outs.push(out.expect("apply chunk"));
                next
            }
            None => stage.await,
        };
        applying = next;
    }
    let sum = store.finish_scan(t, scan.id).await.expect("finish scan");
    (scan.id, outs, sum)
}

/// (new, changed, unchanged) of each chunk.
fn counts(outs: &[ChunkOutcome]) -> Vec<(u64, u64, u64)> {
    outs.iter()
        .map(|o| (o.new, o.changed, o.unchanged))
        .collect()
}

async fn all_files(store: &dyn Store, t: TenantId, mut q: FileQuery) -> Vec<FileRecord> {
    let mut out = Vec::new();
    loop {
        let page = store.files(t, &q).await.expect("list files");
        out.extend(page.items);
        match page.next {
            Some(n) => q.after = Some(n),
            None => return out,
        }
    }
}

/// Tenants: create, look up, duplicates and unknown names.
pub async fn tenants(store: &dyn Store) {
    let name = unique_name("tenant");
    let t = store
        .create_tenant(&name, &TenantSettings::default())
        .await
        .expect("create");
    assert_eq!(t.name, name);
    let again = store.tenant(&name).await.expect("lookup");
    assert_eq!(again.id, t.id);
    assert_eq!(again.settings, TenantSettings::default());
    let dup = store
        .create_tenant(&name, &TenantSettings::default())
        .await
        .unwrap_err();
    assert_eq!(dup.kind(), ErrorKind::AlreadyExists, "{dup}");
    let missing = store.tenant(&unique_name("nobody")).await.unwrap_err();
    assert_eq!(missing.kind(), ErrorKind::NotFound, "{missing}");
    let empty = store
        .create_tenant("", &TenantSettings::default())
        .await
        .unwrap_err();
    assert_eq!(empty.kind(), ErrorKind::InvalidInput);
    // ensure_share is idempotent and keeps the kind's case rule.
    let s1 = store
        .ensure_share(t.id, &ShareSpec::new("data", ShareKind::Ntfs))
        .await
        .unwrap();
    let s2 = store
        .ensure_share(t.id, &ShareSpec::new("data", ShareKind::Ntfs))
        .await
        .unwrap();
    assert_eq!(s1.id, s2.id);
    assert!(!s1.case_sensitive);
    let lucid = store
        .ensure_share(t.id, &ShareSpec::new("lucid", ShareKind::Lucidlink))
        .await
        .unwrap();
    assert!(lucid.case_sensitive);
}

/// A chunk applied twice changes nothing the second time.
pub async fn ingest_is_idempotent(store: &dyn Store) {
    let (t, s) = tenant_with_share(store, ShareKind::Posix).await;
    let rows = vec![entry("/d/a.txt", 1, None), entry("/d/b.txt", 2, None)];
    let spec = ScanSpec::new(s.name.clone(), ScanKind::Partial);
    let scan = store.begin_scan(t.id, &spec).await.unwrap();
    let chunk = IngestChunk {
        id: "0".into(),
        entries: rows,
    };
    let first = store.ingest_chunk(t.id, scan.id, &chunk).await.unwrap();
    assert_eq!((first.applied, first.new), (true, 2));
    let second = store.ingest_chunk(t.id, scan.id, &chunk).await.unwrap();
    assert!(
        !second.applied,
        "a chunk applied twice must report applied = false"
    );
    assert_eq!((second.new, second.changed, second.unchanged), (0, 0, 0));
    assert_eq!(all_files(store, t.id, FileQuery::default()).await.len(), 2);
    let bad = store
        .ingest_chunk(t.id, 999_999_999, &chunk)
        .await
        .unwrap_err();
    assert_eq!(bad.kind(), ErrorKind::NotFound);
}

/// An unfinished scan of the same source is resumed; a finished one is not.
pub async fn scans_resume_by_source(store: &dyn Store) {
    let (t, s) = tenant_with_share(store, ShareKind::Posix).await;
    let spec = ScanSpec {
        share: s.name.clone(),
        kind: ScanKind::Full,
        source: Some("inv.csv:123".into()),
    };
    let first = store.begin_scan(t.id, &spec).await.unwrap();
    assert!(!first.resumed);
    let chunk = IngestChunk {
        id: "0".into(),
        entries: vec![entry("/a", 1, None)],
    };
    assert!(
        store
            .ingest_chunk(t.id, first.id, &chunk)
            .await
            .unwrap()
            .applied
    );
    // The process dies here; the rerun resumes the same scan and skips the applied chunk.
    let again = store.begin_scan(t.id, &spec).await.unwrap();
    assert_eq!((again.id, again.resumed), (first.id, true));
    assert!(
        !store
            .ingest_chunk(t.id, again.id, &chunk)
            .await
            .unwrap()
            .applied
    );
    let other = ScanSpec {
        source: Some("other.csv:1".into()),
        ..spec.clone()
    };
    assert_ne!(store.begin_scan(t.id, &other).await.unwrap().id, first.id);
    store.finish_scan(t.id, again.id).await.unwrap();
    let after = store.begin_scan(t.id, &spec).await.unwrap();
    assert!(!after.resumed, "a finished scan is never resumed");
    assert_ne!(after.id, first.id);
    let missing = store
        .begin_scan(
            t.id,
            &ScanSpec {
                share: "nope".into(),
                ..spec
            },
        )
        .await
        .unwrap_err();
    assert_eq!(missing.kind(), ErrorKind::NotFound);
}

/// New, changed and unchanged files; case folding on insensitive shares; access never backwards.
pub async fn ingest_merges(store: &dyn Store) {
    let (t, s) = tenant_with_share(store, ShareKind::Ntfs).await;
    let (o, _) = ingest(
        store,
        t.id,
        &s.name,
        ScanKind::Partial,
        &[(
            "c0",
            vec![
                entry(r"C:\Data\A.txt", 10, Some(5_000_000)),
                entry(r"C:\Data\b.txt", 20, None),
            ],
        )],
    )
    .await;
    assert_eq!((o[0].new, o[0].changed, o[0].unchanged), (2, 0, 0));
    // Same key in another spelling (case-insensitive share), size changed; b unchanged.
    let (o, _) = ingest(
        store,
        t.id,
        &s.name,
        ScanKind::Partial,
        &[(
            "c0",
            vec![
                entry("c:/data/a.TXT", 11, Some(4_000_000)),
                entry(r"C:\Data\b.txt", 20, None),
            ],
        )],
    )
    .await;
    assert_eq!((o[0].new, o[0].changed, o[0].unchanged), (0, 1, 1));
    let files = all_files(store, t.id, FileQuery::default()).await;
    assert_eq!(files.len(), 2);
    let a = files
        .iter()
        .find(|f| f.path_key == "c:/data/a.txt")
        .expect("a.txt by its key");
    assert_eq!(a.entry.size, 11);
    assert_eq!(
        a.entry.path, "c:/data/a.TXT",
        "the path as last received is kept"
    );
    assert_eq!(
        a.entry.accessed,
        Some(5_000_000),
        "last accessed never moves backwards"
    );
    assert_eq!(a.accessed_source, AccessSource::InitialScan);
    let (o, _) = ingest(
        store,
        t.id,
        &s.name,
        ScanKind::Partial,
        &[("c0", vec![entry(r"C:\Data\A.txt", 11, Some(9_000_000))])],
    )
    .await;
    assert_eq!(o[0].changed, 1);
    let files = all_files(store, t.id, FileQuery::default()).await;
    let a = files
        .iter()
        .find(|f| f.path_key == "c:/data/a.txt")
        .unwrap();
    assert_eq!(a.entry.accessed, Some(9_000_000));
    assert_eq!(a.accessed_source, AccessSource::IncrementalScan);
    assert!(a.atime_updated.is_some());
    assert!(a.last_seen_scan > a.first_seen_scan);
}

/// Every file's `last_seen_scan` names the last scan that listed it, changed or not, in full and
/// partial scans, with snapshot history on or off; a missing file keeps the scan that last saw it.
pub async fn last_seen_follows_scans(store: &dyn Store, keep_history: bool) {
    let settings = TenantSettings {
        keep_history,
        ..Default::default()
    };
    let t = store
        .create_tenant(&unique_name("seen"), &settings)
        .await
        .unwrap();
    let s = store
        .ensure_share(t.id, &ShareSpec::new("data", ShareKind::Posix))
        .await
        .unwrap();
    let scan = |kind: ScanKind, entries: Vec<FileEntry>| {
        let name = s.name.clone();
        async move {
            let (id, _, sum) = ingest_scan(store, t.id, &name, kind, &[("0", entries)]).await;
            (id, sum.missing)
        }
    };
    let seen = |files: &[FileRecord]| {
        let mut v: Vec<(String, i64, bool)> = files
            .iter()
            .map(|f| {
                (
                    f.path_key.clone(),
                    f.last_seen_scan,
                    f.missing_since.is_some(),
                )
            })
            .collect();
        v.sort();
        v
    };
    let q = FileQuery {
        include_missing: true,
        ..Default::default()
    };
    let abc = || {
        vec![
            entry("/a", 1, None),
            entry("/b", 2, None),
            entry("/c", 3, None),
        ]
    };
    let (s1, _) = scan(ScanKind::Full, abc()).await;
    // Unchanged, changed, and not listed.
    let (s2, missing) = scan(
        ScanKind::Full,
        vec![entry("/a", 1, None), entry("/b", 20, None)],
    )
    .await;
    assert_eq!(missing, 1);
    let files = all_files(store, t.id, q.clone()).await;
    assert_eq!(
        seen(&files),
        [
            ("/a".to_owned(), s2, false),
            ("/b".to_owned(), s2, false),
            ("/c".to_owned(), s1, true),
        ],
        "history {keep_history}"
    );
    // A partial scan sees /c again (and only it); a full scan then lists all three unchanged.
    let (s3, _) = scan(ScanKind::Partial, vec![entry("/c", 3, None)]).await;
    let files = all_files(store, t.id, q.clone()).await;
    assert_eq!(
        seen(&files),
        [
            ("/a".to_owned(), s2, false),
            ("/b".to_owned(), s2, false),
            ("/c".to_owned(), s3, false),
        ],
        "history {keep_history}"
    );
    let (s4, missing) = scan(
        ScanKind::Full,
        vec![
            entry("/a", 1, None),
            entry("/b", 20, None),
            entry("/c", 3, None),
        ],
    )
    .await;
    assert_eq!(missing, 0);
    let files = all_files(store, t.id, q.clone()).await;
    assert!(
        files.iter().all(|f| f.last_seen_scan == s4),
        "history {keep_history}: {:?}",
        seen(&files)
    );
    // A partial scan after it: the file it lists is seen by it, the others by the full scan.
    let (s5, _) = scan(ScanKind::Partial, vec![entry("/b", 20, None)]).await;
    let files = all_files(store, t.id, q).await;
    assert_eq!(
        seen(&files),
        [
            ("/a".to_owned(), s4, false),
            ("/b".to_owned(), s5, false),
            ("/c".to_owned(), s4, false),
        ],
        "history {keep_history}"
    );
}

/// A file that goes missing keeps the last scan that saw it, also when that scan saw it unchanged
/// (stores may leave such rows unwritten during a full scan with history): missing because a
/// later full scan did not list it, or (on a store with feeds) because a feed reported it deleted.
pub async fn missing_keeps_the_scan_that_saw_it(store: &dyn Store) {
    use crate::feed::{AccessEvent, FeedAction};
    use crate::store::feeds::EventBatch;
    let t = store
        .create_tenant(&unique_name("gone"), &TenantSettings::default())
        .await
        .unwrap();
    let mut spec = ShareSpec::new("fs", ShareKind::Lucidlink);
    spec.mount_root = Some("/m".into());
    let s = store.ensure_share(t.id, &spec).await.unwrap();
    let abc = || {
        vec![
            entry("/m/a", 1, None),
            entry("/m/b", 2, None),
            entry("/m/c", 3, None),
        ]
    };
    ingest_scan(store, t.id, &s.name, ScanKind::Full, &[("0", abc())]).await;
    let (s2, _, _) = ingest_scan(store, t.id, &s.name, ScanKind::Full, &[("0", abc())]).await;
    let bc = vec![entry("/m/b", 2, None), entry("/m/c", 3, None)];
    let (s3, _, sum) = ingest_scan(store, t.id, &s.name, ScanKind::Full, &[("0", bc)]).await;
    assert_eq!(sum.missing, 1);
    let q = FileQuery {
        include_missing: true,
        ..Default::default()
    };
    let seen = |files: Vec<FileRecord>| {
        files
            .into_iter()
            .map(|f| (f.path_key, f.last_seen_scan, f.missing_since.is_some()))
            .collect::<Vec<_>>()
    };
    let after_s3 = [
        ("/m/a".to_owned(), s2, true),
        ("/m/b".to_owned(), s3, false),
        ("/m/c".to_owned(), s3, false),
    ];
    assert_eq!(seen(all_files(store, t.id, q.clone()).await), after_s3);
    // Finishing an earlier scan again, after later ones, changes nothing.
    let again = store.finish_scan(t.id, s2).await.unwrap();
    assert_eq!(again.missing, 0);
    assert_eq!(seen(all_files(store, t.id, q.clone()).await), after_s3);
    let feeds = store.feeds();
    let now = 2_000_000_000_000_000;
    let batch = EventBatch {
        parent: None,
        feed: "lucid".into(),
        events: vec![AccessEvent {
            id: "n/s/0".into(),
            at: now - 10,
            action: FeedAction::FileDelete,
            path: "/b".into(),
            target_path: None,
            user: None,
        }],
        cursors: Vec::new(),
        now,
    };
    let out = feeds.apply_events(t.id, &s.name, &batch).await.unwrap();
    assert_eq!(out.deleted, 1, "{out:?}");
    assert_eq!(
        seen(all_files(store, t.id, q).await),
        [
            ("/m/a".to_owned(), s2, true),
            ("/m/b".to_owned(), s3, true),
            ("/m/c".to_owned(), s3, false),
        ]
    );
}

/// A scan that began before a full scan but applies its chunk after that full scan finished: the
/// files it lists were last seen by it, as chunks applied one after the other say, even when it
/// found them unchanged (stores that derive "seen by the last full scan" must not override it).
pub async fn older_scan_after_a_full_one(store: &dyn Store) {
    let (t, s) = tenant_with_share(store, ShareKind::Posix).await;
    let spec = |kind: ScanKind| ScanSpec::new(s.name.clone(), kind);
    let chunk = |id: &str| IngestChunk {
        id: id.into(),
        entries: vec![entry("/x", 1, None), entry("/y", 2, None)],
    };
    let first = store.begin_scan(t.id, &spec(ScanKind::Full)).await.unwrap();
    store
        .ingest_chunk(t.id, first.id, &chunk("0"))
        .await
        .unwrap();
    store.finish_scan(t.id, first.id).await.unwrap();
    let partial = store
        .begin_scan(t.id, &spec(ScanKind::Partial))
        .await
        .unwrap();
    let full = store.begin_scan(t.id, &spec(ScanKind::Full)).await.unwrap();
    assert!(partial.id < full.id);
    let out = store
        .ingest_chunk(t.id, full.id, &chunk("0"))
        .await
        .unwrap();
    assert_eq!(out.unchanged, 2);
    store.finish_scan(t.id, full.id).await.unwrap();
    let only_x = IngestChunk {
        id: "0".into(),
        entries: vec![entry("/x", 1, None)],
    };
    let out = store.ingest_chunk(t.id, partial.id, &only_x).await.unwrap();
    assert_eq!(out.unchanged, 1);
    store.finish_scan(t.id, partial.id).await.unwrap();
    let seen: Vec<(String, i64)> = all_files(store, t.id, FileQuery::default())
        .await
        .into_iter()
        .map(|f| (f.path_key, f.last_seen_scan))
        .collect();
    assert_eq!(
        seen,
        [("/x".to_owned(), partial.id), ("/y".to_owned(), full.id)]
    );
}

/// Chunks of only new files followed, in the same scan and the next, by chunks that list known
/// files too (a store may take a faster path while a scan has met only new files): every count
/// and value is the merge's.
pub async fn new_files_then_known_ones(store: &dyn Store) {
    let (t, s) = tenant_with_share(store, ShareKind::Posix).await;
    let (outs, _) = ingest(
        store,
        t.id,
        &s.name,
        ScanKind::Full,
        &[
            ("0", vec![entry("/a", 1, None), entry("/b", 2, None)]),
            // /b is known by now and changes; /z, last in key order, is new.
            ("1", vec![entry("/z", 26, None), entry("/b", 20, None)]),
            ("2", vec![entry("/d", 4, None)]),
        ],
    )
    .await;
    assert_eq!(counts(&outs), [(2, 0, 0), (1, 1, 0), (1, 0, 0)]);
    // A second scan: its first chunk lists a known file first in key order, then a new one.
    let (outs, sum) = ingest(
        store,
        t.id,
        &s.name,
        ScanKind::Full,
        &[
            ("0", vec![entry("/e", 5, None), entry("/a", 1, None)]),
            ("1", vec![entry("/zz", 1, None)]),
        ],
    )
    .await;
    assert_eq!(counts(&outs), [(1, 0, 1), (1, 0, 0)]);
    assert_eq!(sum.missing, 3, "/b, /d and /z were not listed");
    let files = all_files(
        store,
        t.id,
        FileQuery {
            include_missing: true,
            ..Default::default()
        },
    )
    .await;
    let got: Vec<(&str, u64, bool)> = files
        .iter()
        .map(|f| (f.path_key.as_str(), f.entry.size, f.missing_since.is_some()))
        .collect();
    assert_eq!(
        got,
        [
            ("/a", 1, false),
            ("/b", 20, true),
            ("/d", 4, true),
            ("/e", 5, false),
            ("/z", 26, true),
            ("/zz", 1, false),
        ]
    );
    // A third: unchanged (/a, /e), back from missing with equal values (/b), a newer access
    // (/zz); then a fourth, where an older access of /zz changes nothing.
    let listing = |zz_accessed: i64| {
        vec![
            entry("/a", 1, None),
            entry("/b", 20, None),
            entry("/e", 5, None),
            entry("/zz", 1, Some(zz_accessed)),
        ]
    };
    let (outs, sum) = ingest(
        store,
        t.id,
        &s.name,
        ScanKind::Full,
        &[("0", listing(7_000_000))],
    )
    .await;
    assert_eq!(counts(&outs), [(0, 2, 2)], "/b and /zz changed");
    assert_eq!(sum.missing, 0);
    let (outs, _) = ingest(
        store,
        t.id,
        &s.name,
        ScanKind::Full,
        &[("0", listing(6_000_000))],
    )
    .await;
    assert_eq!(
        counts(&outs),
        [(0, 0, 4)],
        "an older access changes nothing"
    );
    let files = all_files(store, t.id, FileQuery::default()).await;
    let zz = files.iter().find(|f| f.path_key == "/zz").unwrap();
    assert_eq!(
        zz.entry.accessed,
        Some(7_000_000),
        "last access never moves back"
    );
    assert_eq!(files.len(), 4);
}

/// `/k` of `size` beside two files that never change.
fn k_listing(size: u64) -> Vec<FileEntry> {
    vec![
        entry("/k", size, None),
        entry("/other", 1, None),
        entry("/third", 2, None),
    ]
}

/// A tenant whose share holds [`k_listing`]`(1)` after one full scan.
async fn share_with_k(store: &dyn Store) -> (Tenant, Share) {
    let (t, s) = tenant_with_share(store, ShareKind::Posix).await;
    ingest(store, t.id, &s.name, ScanKind::Full, &[("0", k_listing(1))]).await;
    (t, s)
}

/// The size stored for `/k`.
async fn size_of_k(store: &dyn Store, t: TenantId) -> u64 {
    let files = all_files(store, t, FileQuery::default()).await;
    files
        .iter()
        .find(|f| f.path_key == "/k")
        .expect("/k")
        .entry
        .size
}

/// Within one full scan, a chunk that changes a file and a later chunk that lists the file as it
/// was before: the later sighting wins, as if the chunks had applied one after the other — also
/// for a store that prepares a chunk while the one before still applies.
pub async fn later_chunk_undoes_an_earlier_one(store: &dyn Store) {
    let (t, s) = share_with_k(store).await;
    let (outs, sum) = ingest(
        store,
        t.id,
        &s.name,
        ScanKind::Full,
        &[
            ("0", k_listing(2)),
            ("1", k_listing(1)),
            ("2", k_listing(1)),
        ],
    )
    .await;
    assert_eq!(
        counts(&outs),
        [(0, 1, 2), (0, 1, 2), (0, 0, 3)],
        "/k changes in chunk 0, changes back in chunk 1, stays in chunk 2"
    );
    assert_eq!(sum.missing, 0);
    assert_eq!(size_of_k(store, t.id).await, 1, "the last sighting wins");
    assert_eq!(all_files(store, t.id, FileQuery::default()).await.len(), 3);
}

/// The same as [`later_chunk_undoes_an_earlier_one`], with the later chunk staged before the
/// earlier one applies (the driver may stage chunk n + 1 at any time before chunk n's future
/// finishes): a store that compares while staging must still let the later sighting win.
pub async fn staged_before_the_chunk_ahead_applies(store: &dyn Store) {
    let (t, s) = share_with_k(store).await;
    let spec = ScanSpec::new(s.name.clone(), ScanKind::Full);
    let scan = store.begin_scan(t.id, &spec).await.expect("begin scan");
    let stage = |id: &str, entries: Vec<FileEntry>| {
        store.stage_chunk(
            t.id,
            scan.id,
            IngestChunk {
                id: id.into(),
                entries,
            },
        )
    };
    let first = stage("0", k_listing(1))
        .await
        .expect("stage")
        .await
        .expect("apply");
    let change = stage("1", k_listing(2)).await.expect("stage");
    let back = stage("2", k_listing(1)).await.expect("stage");
    let changed = change.await.expect("apply");
    let back = back.await.expect("apply");
    store.finish_scan(t.id, scan.id).await.expect("finish scan");
    assert_eq!(
        counts(&[first, changed, back]),
        [(0, 0, 3), (0, 1, 2), (0, 1, 2)],
        "/k changes in chunk 1 and back in chunk 2"
    );
    assert_eq!(size_of_k(store, t.id).await, 1, "the last sighting wins");
}

/// A full scan marks the share's unseen files missing; they come back when seen again.
pub async fn full_scan_marks_missing(store: &dyn Store) {
    let (t, s) = tenant_with_share(store, ShareKind::Posix).await;
    let other = store
        .ensure_share(t.id, &ShareSpec::new("other", ShareKind::Posix))
        .await
        .unwrap();
    ingest(
        store,
        t.id,
        &other.name,
        ScanKind::Full,
        &[("x", vec![entry("/o/keep", 1, None)])],
    )
    .await;
    let (_, sum) = ingest(
        store,
        t.id,
        &s.name,
        ScanKind::Full,
        &[(
            "x",
            vec![
                entry("/a", 1, None),
                entry("/b", 1, None),
                entry("/c", 1, None),
            ],
        )],
    )
    .await;
    assert_eq!(sum.missing, 0);
    let (_, sum) = ingest(
        store,
        t.id,
        &s.name,
        ScanKind::Partial,
        &[("x", vec![entry("/a", 1, None)])],
    )
    .await;
    assert_eq!(sum.missing, 0, "a partial scan marks nothing missing");
    let (_, sum) = ingest(
        store,
        t.id,
        &s.name,
        ScanKind::Full,
        &[("x", vec![entry("/a", 1, None)])],
    )
    .await;
    assert_eq!(sum.missing, 2);
    let visible = all_files(
        store,
        t.id,
        FileQuery {
            share: Some(s.name.clone()),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(
        visible
            .iter()
            .map(|f| f.path_key.as_str())
            .collect::<Vec<_>>(),
        ["/a"]
    );
    let all = all_files(
        store,
        t.id,
        FileQuery {
            include_missing: true,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(
        all.len(),
        4,
        "missing files are kept (soft delete), the other share untouched"
    );
    let (o, _) = ingest(
        store,
        t.id,
        &s.name,
        ScanKind::Full,
        &[("x", vec![entry("/a", 1, None), entry("/b", 1, None)])],
    )
    .await;
    assert_eq!(
        (o[0].changed, o[0].unchanged),
        (1, 1),
        "a file seen again is a change"
    );
    let visible = all_files(
        store,
        t.id,
        FileQuery {
            share: Some(s.name.clone()),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(visible.len(), 2);
}

/// Cursor paging covers every row once; glob and state filters.
pub async fn listing_pages_and_filters(store: &dyn Store) {
    let (t, s) = tenant_with_share(store, ShareKind::Posix).await;
    let rows: Vec<_> = (0..25)
        .map(|i| {
            entry(
                &format!("/p/f{i:02}.{}", if i % 2 == 0 { "mov" } else { "txt" }),
                i,
                None,
            )
        })
        .collect();
    ingest(store, t.id, &s.name, ScanKind::Partial, &[("x", rows)]).await;
    let mut q = FileQuery {
        limit: 7,
        ..Default::default()
    };
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let page = store.files(t.id, &q).await.unwrap();
        assert!(page.items.len() <= 7);
        pages += 1;
        seen.extend(page.items.into_iter().map(|f| f.path_key));
        match page.next {
            Some(n) => q.after = Some(n),
            None => break,
        }
    }
    assert_eq!(pages, 4);
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), 25);
    assert_eq!(seen, sorted, "pages come in key order without repeats");
    let movs = all_files(
        store,
        t.id,
        FileQuery {
            glob: Some("*.mov".into()),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(movs.len(), 13);
    let bad = store
        .files(
            t.id,
            &FileQuery {
                glob: Some("[".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(bad.kind(), ErrorKind::InvalidInput);
    let stubbed = all_files(
        store,
        t.id,
        FileQuery {
            state: Some(TierState::Stubbed),
            ..Default::default()
        },
    )
    .await;
    assert!(stubbed.is_empty());
}

/// One tenant never sees or changes another's rows through the store API.
pub async fn tenant_isolation(store: &dyn Store) {
    let (a, sa) = tenant_with_share(store, ShareKind::Posix).await;
    let (b, sb) = tenant_with_share(store, ShareKind::Posix).await;
    assert_eq!(
        sa.name, sb.name,
        "both tenants have a share of the same name"
    );
    ingest(
        store,
        a.id,
        &sa.name,
        ScanKind::Full,
        &[("x", vec![entry("/secret", 1, None)])],
    )
    .await;
    assert!(
        all_files(
            store,
            b.id,
            FileQuery {
                include_missing: true,
                ..Default::default()
            }
        )
        .await
        .is_empty()
    );
    // B's full scan of its same-named share must not mark A's file missing.
    ingest(
        store,
        b.id,
        &sb.name,
        ScanKind::Full,
        &[("x", vec![entry("/other", 1, None)])],
    )
    .await;
    let a_files = all_files(store, a.id, FileQuery::default()).await;
    assert_eq!(a_files.len(), 1);
    let req = TransitionRequest {
        share: sa.name.clone(),
        path_key: "/secret".into(),
        action: Action::Plan,
        expected: None,
        stored: None,
        plan: Some(PlanInfo {
            rule: "r".into(),
            target_uri: "file:///t/".into(),
        }),
        at: 1,
    };
    let e = store.transition(b.id, &req).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "B cannot plan A's file: {e}");
    assert_eq!(
        store
            .tier_object(a.id, &sa.name, "/secret")
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );
    store.transition(a.id, &req).await.unwrap();
    assert_eq!(
        store
            .tier_object(b.id, &sa.name, "/secret")
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );
    assert!(store.audit(b.id, None, 100).await.unwrap().items.is_empty());
    let ev = store.audit(a.id, None, 100).await.unwrap().items;
    let foreign_parent = NewAuditEvent {
        kind: "x".into(),
        subject: "y".into(),
        detail: serde_json::json!({}),
        parent: Some(ev[0].id),
    };
    assert_eq!(
        store
            .append_audit(b.id, &foreign_parent)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );
}

/// Lifecycle through the store: allowed path, refused transitions, optimistic concurrency.
pub async fn lifecycle_through_store(store: &dyn Store) {
    let (t, s) = tenant_with_share(store, ShareKind::Posix).await;
    ingest(
        store,
        t.id,
        &s.name,
        ScanKind::Full,
        &[("x", vec![entry("/f", 100, None)])],
    )
    .await;
    let plan = Some(PlanInfo {
        rule: "cold".into(),
        target_uri: "file:///tier/f".into(),
    });
    let req = |action, expected, plan: Option<PlanInfo>| TransitionRequest {
        share: s.name.clone(),
        path_key: "/f".into(),
        action,
        expected,
        stored: None,
        plan,
        at: 42,
    };
    // Nothing to stub yet.
    let e = store
        .transition(t.id, &req(Action::Stub, None, None))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidTransition, "{e}");
    let o = store
        .transition(t.id, &req(Action::Plan, None, plan.clone()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (o.state, o.version, o.incarnation),
        (TierState::Planned, 1, 1)
    );
    assert_eq!(o.planned_by, "cold");
    // Planning again from a stale read is a conflict, not a duplicate.
    let e = store
        .transition(t.id, &req(Action::Plan, None, plan.clone()))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict, "{e}");
    assert!(e.is_retryable());
    // Refused transition writes nothing.
    let e = store
        .transition(
            t.id,
            &req(Action::Rehydrate, Some((TierState::Planned, 1)), None),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidTransition);
    let now = store.tier_object(t.id, &s.name, "/f").await.unwrap();
    assert_eq!((now.state, now.version), (TierState::Planned, 1));
    // Stale version.
    let e = store
        .transition(
            t.id,
            &req(Action::Stub, Some((TierState::Planned, 7)), None),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict);
    let o = store
        .transition(
            t.id,
            &req(Action::Stub, Some((TierState::Planned, 1)), None),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (o.state, o.version, o.acted_at),
        (TierState::Stubbed, 2, Some(42))
    );
    let files = all_files(
        store,
        t.id,
        FileQuery {
            state: Some(TierState::Stubbed),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(files.len(), 1, "file records show their tier state");
    let o = store
        .transition(
            t.id,
            &req(Action::Rehydrate, Some((TierState::Stubbed, 2)), None),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(o.state, TierState::Rehydrated);
    let o = store
        .transition(
            t.id,
            &req(Action::Plan, Some((TierState::Rehydrated, 3)), plan.clone()),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (o.state, o.incarnation, o.version),
        (TierState::Planned, 2, 4),
        "re-planning counts an incarnation"
    );
    let gone = store
        .transition(
            t.id,
            &req(Action::Withdraw, Some((TierState::Planned, 4)), None),
        )
        .await
        .unwrap();
    assert!(gone.is_none());
    assert_eq!(
        store
            .tier_object(t.id, &s.name, "/f")
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );
    let e = store
        .transition(
            t.id,
            &TransitionRequest {
                path_key: "/nope".into(),
                ..req(Action::Plan, None, plan)
            },
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    let kinds: Vec<String> = store
        .audit(t.id, None, 100)
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(
        kinds,
        [
            "tier.plan",
            "tier.stub",
            "tier.rehydrate",
            "tier.plan",
            "tier.withdraw"
        ],
        "one audit event per applied transition, none for refused ones"
    );
}

/// Shares: [`Store::create_share`], [`Store::shares`] (by name, per tenant), roots
/// ([`Store::set_share_root`], and [`Store::ensure_share`] filling only a missing one), and what a
/// new tenant or share name may be ([`crate::names::check_name`]).
pub async fn shares_and_roots(store: &dyn Store) {
    let t = store
        .create_tenant(&unique_name("roots"), &TenantSettings::default())
        .await
        .expect("create tenant");
    let other = store
        .create_tenant(&unique_name("roots"), &TenantSettings::default())
        .await
        .expect("create tenant");
    let names = async |t: TenantId| -> Vec<(String, Option<String>)> {
        store
            .shares(t)
            .await
            .expect("list shares")
            .into_iter()
            .map(|s| (s.name, s.root))
            .collect()
    };
    assert!(names(t.id).await.is_empty(), "a new tenant has no shares");

    // create_share: new, then AlreadyExists without changing anything.
    let beta = store
        .create_share(
            t.id,
            &ShareSpec::new("beta", ShareKind::Posix).with_root("/srv/beta"),
        )
        .await
        .expect("create share");
    assert_eq!(
        (beta.name.as_str(), beta.root.as_deref()),
        ("beta", Some("/srv/beta"))
    );
    let dup = store
        .create_share(
            t.id,
            &ShareSpec::new("beta", ShareKind::Posix).with_root("/srv/other"),
        )
        .await
        .unwrap_err();
    assert_eq!(dup.kind(), ErrorKind::AlreadyExists, "{dup}");
    let alpha = store
        .ensure_share(t.id, &ShareSpec::new("alpha", ShareKind::Ntfs))
        .await
        .expect("ensure share");
    assert_eq!(alpha.root, None);
    store
        .create_share(t.id, &ShareSpec::new("Gamma", ShareKind::Posix))
        .await
        .expect("create share");
    // By name, byte-wise (as the memory store sorts strings): upper case first.
    assert_eq!(
        names(t.id).await,
        [
            ("Gamma".to_string(), None),
            ("alpha".to_string(), None),
            ("beta".to_string(), Some("/srv/beta".to_string())),
        ]
    );
    // Another tenant sees none of them, and cannot change them.
    assert!(names(other.id).await.is_empty(), "shares are per tenant");
    let e = store
        .set_share_root(other.id, "beta", Some("/srv/x"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    let mine = store
        .create_share(other.id, &ShareSpec::new("beta", ShareKind::Posix))
        .await
        .expect("another tenant's share of the same name");
    assert_ne!(mine.id, beta.id);
    assert_eq!(mine.root, None);

    // set_share_root: NotFound naming the share, InvalidInput for a bad root, set and clear.
    let e = store
        .set_share_root(t.id, "nosuch", Some("/srv/x"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    assert!(e.to_string().contains("nosuch"), "{e}");
    for bad in ["relative/dir", "/srv/../etc", "", "/srv/a\0b"] {
        let e = store
            .set_share_root(t.id, "beta", Some(bad))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{bad:?}: {e}");
    }
    let s = store
        .set_share_root(t.id, "alpha", Some("/srv/alpha"))
        .await
        .expect("set root");
    assert_eq!((s.id, s.root.as_deref()), (alpha.id, Some("/srv/alpha")));
    let s = store
        .set_share_root(t.id, "beta", None)
        .await
        .expect("clear root");
    assert_eq!((s.id, s.root), (beta.id, None));
    assert_eq!(
        names(t.id).await,
        [
            ("Gamma".to_string(), None),
            ("alpha".to_string(), Some("/srv/alpha".to_string())),
            ("beta".to_string(), None),
        ]
    );

    // ensure_share never replaces a root, fills a missing one, and checks the one it is given.
    let s = store
        .ensure_share(
            t.id,
            &ShareSpec::new("alpha", ShareKind::Ntfs).with_root("/elsewhere"),
        )
        .await
        .unwrap();
    assert_eq!(
        s.root.as_deref(),
        Some("/srv/alpha"),
        "an existing root stays"
    );
    let s = store
        .ensure_share(
            t.id,
            &ShareSpec::new("beta", ShareKind::Posix).with_root("/srv/beta2"),
        )
        .await
        .unwrap();
    assert_eq!(
        s.root.as_deref(),
        Some("/srv/beta2"),
        "a missing root is filled"
    );
    let s = store
        .ensure_share(t.id, &ShareSpec::new("beta", ShareKind::Posix))
        .await
        .unwrap();
    assert_eq!(s.root.as_deref(), Some("/srv/beta2"), "no root given: kept");
    let e = store
        .ensure_share(
            t.id,
            &ShareSpec::new("Gamma", ShareKind::Posix).with_root("srv/gamma"),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
    let e = store
        .ensure_share(
            t.id,
            &ShareSpec::new("delta", ShareKind::Posix).with_root("/srv/../delta"),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
    let d = store
        .ensure_share(
            t.id,
            &ShareSpec::new("delta", ShareKind::Posix).with_root("/srv/delta"),
        )
        .await
        .unwrap();
    assert_eq!(
        d.root.as_deref(),
        Some("/srv/delta"),
        "a new share takes its root"
    );
    let mut mounted = ShareSpec::new("delta", ShareKind::Posix);
    mounted.mount_root = Some("/Volumes/delta".into());
    let d = store.ensure_share(t.id, &mounted).await.unwrap();
    assert_eq!(
        (d.mount_root.as_deref(), d.root.as_deref()),
        (Some("/Volumes/delta"), Some("/srv/delta")),
        "a mount root is still remembered"
    );
    let listed = store.shares(t.id).await.unwrap();
    let d2 = listed.iter().find(|s| s.name == "delta").unwrap();
    assert_eq!(d2, &d, "shares() returns what ensure_share did");

    // New names are one safe path segment.
    for bad in ["acme/tmp", "..", "a b", ""] {
        let e = store
            .create_tenant(bad, &TenantSettings::default())
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "tenant {bad:?}: {e}");
        let e = store
            .ensure_share(t.id, &ShareSpec::new(bad, ShareKind::Posix))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "share {bad:?}: {e}");
        let e = store
            .create_share(t.id, &ShareSpec::new(bad, ShareKind::Posix))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "share {bad:?}: {e}");
    }
    assert_eq!(
        store.shares(t.id).await.unwrap().len(),
        4,
        "no share was created"
    );
}

/// The stored object recorded with a stub ([`TierObject::stored`]): returned by the transition and
/// by every read of the object, kept by rehydration and deletion, cleared by a new incarnation;
/// through the job queue too, where the store has one.
pub async fn stored_object_kept(store: &dyn Store) {
    let (t, s) = tenant_with_share(store, ShareKind::Posix).await;
    ingest(
        store,
        t.id,
        &s.name,
        ScanKind::Full,
        &[("x", vec![entry("/s/a", 100, None), entry("/s/b", 7, None)])],
    )
    .await;
    let first = StoredObject {
        key: String::new(),
        size: 5 << 40,
        sha256: "0123456789abcdef".repeat(4),
        etag: Some("\"e-1\"".into()),
        uid: 1000,
        gid: u32::MAX,
        mode: 0o4755,
        modified: 1_000_000,
    };
    let second = StoredObject {
        key: String::new(),
        size: 0,
        sha256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855".into(),
        etag: None,
        uid: 0,
        gid: 0,
        mode: 0o7777,
        modified: -1,
    };
    let req = |action, expected, stored: Option<StoredObject>| TransitionRequest {
        share: s.name.clone(),
        path_key: "/s/a".into(),
        action,
        expected,
        stored,
        plan: (action == Action::Plan).then(|| PlanInfo {
            rule: "cold".into(),
            target_uri: "file:///tier/s/a".into(),
        }),
        at: 50,
    };
    let go = async |r: TransitionRequest| -> TierObject {
        let o = store
            .transition(t.id, &r)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", r.action))
            .expect("an object");
        let read = store.tier_object(t.id, &s.name, "/s/a").await.unwrap();
        assert_eq!(
            read, o,
            "{}: tier_object reads what the transition returned",
            r.action
        );
        o
    };
    // A plan ignores a stored object (nothing was stored yet).
    let o = go(req(Action::Plan, None, Some(first.clone()))).await;
    assert_eq!(o.stored, None, "planned: nothing stored");
    // A stub records only a key its object could have written (its tenant, share, id and
    // incarnation): not another tenant's, not another object's, not another incarnation's.
    let first = StoredObject {
        key: crate::worker::object_key_of(&t.name, &o).unwrap(),
        ..first
    };
    for bad in [
        format!("other/{}/s/a.~{}.1", s.name, o.id),
        format!("{}/{}/s/a.~{}.1", t.name, s.name, o.id + 1),
        format!("{}/{}/s/a.~{}.2", t.name, s.name, o.id),
        format!("{}/{}/../x/s/a.~{}.1", t.name, s.name, o.id),
        format!("{}/{}/.~{}.1", t.name, s.name, o.id),
    ] {
        let e = store
            .transition(
                t.id,
                &req(
                    Action::Stub,
                    Some((o.state, o.version)),
                    Some(StoredObject {
                        key: bad.clone(),
                        ..first.clone()
                    }),
                ),
            )
            .await
            .expect_err(&bad);
        assert_eq!(e.kind(), ErrorKind::PermissionDenied, "{bad}: {e}");
        let read = store.tier_object(t.id, &s.name, "/s/a").await.unwrap();
        assert_eq!(read, o, "{bad}: a refused stub writes nothing");
    }
    let o = go(req(
        Action::Stub,
        Some((o.state, o.version)),
        Some(first.clone()),
    ))
    .await;
    assert_eq!(o.stored.as_ref(), Some(&first), "the stub records it");
    let o = go(req(Action::Rehydrate, Some((o.state, o.version)), None)).await;
    assert_eq!(o.stored.as_ref(), Some(&first), "rehydration keeps it");
    let o = go(req(Action::Plan, Some((o.state, o.version)), None)).await;
    assert_eq!(
        (o.incarnation, o.stored.as_ref()),
        (2, None),
        "a new incarnation clears it"
    );
    let second = StoredObject {
        key: crate::worker::object_key_of(&t.name, &o).unwrap(),
        ..second
    };
    let o = go(req(
        Action::Stub,
        Some((o.state, o.version)),
        Some(second.clone()),
    ))
    .await;
    assert_eq!(o.stored.as_ref(), Some(&second));
    let o = go(req(Action::Delete, Some((o.state, o.version)), None)).await;
    assert_eq!(
        (o.state, o.stored.as_ref()),
        (TierState::Deleted, Some(&second)),
        "deletion keeps it"
    );
    let o = go(req(Action::Plan, Some((o.state, o.version)), None)).await;
    assert_eq!((o.incarnation, o.stored), (3, None));
    let o = go(req(Action::Stub, Some((o.state, o.version)), None)).await;
    assert_eq!(o.stored, None, "a stub without a record records none");

    // Through the job queue: the fenced stub, the job's objects, and a committed re-plan.
    let q = store.tiering();
    use crate::store::tiering::*;
    let commit = |at| PlanCommit {
        at,
        jobs: vec![PlannedJobSpec {
            rule: "cold".into(),
            target: "file:///tier/".into(),
            priority: 1,
            estimate: Estimate::default(),
            files: vec![PlannedFile {
                share: s.name.clone(),
                path_key: "/s/b".into(),
                target_uri: "file:///tier/s/b".into(),
            }],
        }],
    };
    let claim = |now| ClaimRequest {
        worker: "w".into(),
        lease: 60_000_000,
        now,
    };
    assert_eq!(q.commit_plan(t.id, &commit(100)).await.unwrap().planned, 1);
    let lease = q
        .claim_job(t.id, &claim(200))
        .await
        .unwrap()
        .expect("a job");
    let fence = Fence {
        job: lease.job.id,
        token: lease.token,
    };
    let objs = q.job_objects(t.id, lease.job.id).await.unwrap();
    assert_eq!(objs.len(), 1);
    assert_eq!(objs[0].stored, None);
    let third = StoredObject {
        key: crate::worker::object_key_of(&t.name, &objs[0]).unwrap(),
        size: 7,
        ..first.clone()
    };
    let stub = TransitionRequest {
        share: s.name.clone(),
        path_key: "/s/b".into(),
        action: Action::Stub,
        expected: Some((objs[0].state, objs[0].version)),
        stored: Some(third.clone()),
        plan: None,
        at: 300,
    };
    let o = q
        .transition_fenced(t.id, fence, &stub)
        .await
        .unwrap()
        .expect("stubbed");
    assert_eq!(
        o.stored.as_ref(),
        Some(&third),
        "the fenced stub records it"
    );
    let objs = q.job_objects(t.id, lease.job.id).await.unwrap();
    assert_eq!(
        objs[0].stored.as_ref(),
        Some(&third),
        "job_objects returns it"
    );
    q.finish_job(
        t.id,
        fence,
        &JobOutcome::Done {
            stubbed: 1,
            skipped: 0,
            failed: 0,
            bytes: 7,
        },
        400,
    )
    .await
    .unwrap();
    let o = store
        .transition(
            t.id,
            &TransitionRequest {
                action: Action::Rehydrate,
                expected: Some((o.state, o.version)),
                stored: None,
                at: 500,
                ..stub.clone()
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(o.stored.as_ref(), Some(&third));
    let out = q.commit_plan(t.id, &commit(600)).await.unwrap();
    assert_eq!(out.planned, 1, "a rehydrated file is planned again");
    let o = store.tier_object(t.id, &s.name, "/s/b").await.unwrap();
    assert_eq!(
        (o.state, o.incarnation, o.stored),
        (TierState::Planned, 2, None),
        "a committed re-plan clears it"
    );
}

/// Listing tier objects, the LOST flag reconciliation sets on STUBBED objects, and the tier ids a
/// tenant was given (reconciliation's contract with the stores).
pub async fn tier_objects_and_lost_flags(store: &dyn Store) {
    let (t, s) = tenant_with_share(store, ShareKind::Posix).await;
    let s2 = store
        .ensure_share(t.id, &ShareSpec::new("share2", ShareKind::Posix))
        .await
        .unwrap();
    let files: Vec<FileEntry> = ["/s/a", "/s/b", "/s/c", "/s/d"]
        .into_iter()
        .map(|p| entry(p, 10, None))
        .collect();
    ingest(store, t.id, &s.name, ScanKind::Full, &[("x", files)]).await;
    ingest(
        store,
        t.id,
        &s2.name,
        ScanKind::Full,
        &[("x", vec![entry("/t/x", 5, None)])],
    )
    .await;
    let req = |share: &str, key: &str, action, expected, stored| TransitionRequest {
        share: share.into(),
        path_key: key.into(),
        action,
        expected,
        stored,
        plan: (action == Action::Plan).then(|| PlanInfo {
            rule: "cold".into(),
            target_uri: format!("file:///tier/{}", key.trim_start_matches('/')),
        }),
        at: 50,
    };
    let go = async |r: TransitionRequest| -> Option<TierObject> {
        store
            .transition(t.id, &r)
            .await
            .unwrap_or_else(|e| panic!("{} {}: {e}", r.action, r.path_key))
    };
    let mut objs = std::collections::BTreeMap::new();
    for (share, key) in [
        (&s.name, "/s/a"),
        (&s.name, "/s/b"),
        (&s.name, "/s/c"),
        (&s2.name, "/t/x"),
    ] {
        let o = go(req(share, key, Action::Plan, None, None)).await.unwrap();
        objs.insert(key, o);
    }
    let stored_of = |o: &TierObject| StoredObject {
        key: crate::worker::object_key_of(&t.name, o).unwrap(),
        size: 10,
        sha256: "ab".repeat(32),
        etag: Some("\"e\"".into()),
        uid: 1,
        gid: 2,
        mode: 0o640,
        modified: 1_000_000,
    };
    let a = &objs["/s/a"];
    let a = go(req(
        &s.name,
        "/s/a",
        Action::Stub,
        Some((a.state, a.version)),
        Some(stored_of(a)),
    ))
    .await
    .unwrap();
    // A withdrawn plan takes its object away, never its id.
    let c = &objs["/s/c"];
    let withdrawn_id = c.id;
    assert!(
        go(req(
            &s.name,
            "/s/c",
            Action::Withdraw,
            Some((c.state, c.version)),
            None
        ))
        .await
        .is_none()
    );

    // Ids are never given twice: not even the highest, once its object is gone.
    let d = go(req(&s.name, "/s/d", Action::Plan, None, None))
        .await
        .unwrap();
    assert!(objs.values().all(|o| o.id < d.id));
    go(req(
        &s.name,
        "/s/d",
        Action::Withdraw,
        Some((d.state, d.version)),
        None,
    ))
    .await;
    let d2 = go(req(&s.name, "/s/d", Action::Plan, None, None))
        .await
        .unwrap();
    assert!(
        d2.id > d.id,
        "a new object gets a new id ({} after {})",
        d2.id,
        d.id
    );
    go(req(
        &s.name,
        "/s/d",
        Action::Withdraw,
        Some((d2.state, d2.version)),
        None,
    ))
    .await;
    objs.insert("/s/d", d);
    objs.insert("/s/d2", d2);

    // Listing: (share, path key) order, every state, what tier_object reads; pages and filters.
    let list = async |q: TierObjectQuery| -> Vec<TierObject> {
        let mut q = q;
        let mut out = Vec::new();
        loop {
            let page = store
                .tier_objects(t.id, &q)
                .await
                .expect("list tier objects");
            assert!(q.limit == 0 || page.items.len() <= q.limit);
            out.extend(page.items);
            match page.next {
                Some(n) => q.after = Some(n),
                None => return out,
            }
        }
    };
    let keys = |v: &[TierObject]| -> Vec<String> {
        v.iter()
            .map(|o| format!("{} {}", o.share, o.path_key))
            .collect()
    };
    let all = list(TierObjectQuery::default()).await;
    assert_eq!(
        keys(&all),
        [
            format!("{} /s/a", s.name),
            format!("{} /s/b", s.name),
            format!("{} /t/x", s2.name)
        ]
    );
    for o in &all {
        let read = store
            .tier_object(t.id, &o.share, &o.path_key)
            .await
            .unwrap();
        assert_eq!(&read, o, "the listing returns what tier_object reads");
    }
    assert_eq!(all[0], a);
    for limit in [1, 2] {
        let paged = list(TierObjectQuery {
            limit,
            ..Default::default()
        })
        .await;
        assert_eq!(paged, all, "pages of {limit}");
    }
    let only = list(TierObjectQuery {
        share: Some(s2.name.clone()),
        ..Default::default()
    })
    .await;
    assert_eq!(keys(&only), [format!("{} /t/x", s2.name)]);
    let stubbed = list(TierObjectQuery {
        state: Some(TierState::Stubbed),
        limit: 1,
        ..Default::default()
    })
    .await;
    assert_eq!(keys(&stubbed), [format!("{} /s/a", s.name)]);

    // The LOST flag: STUBBED objects only, with its event, nothing else of the object changes.
    let run = store
        .append_audit(
            t.id,
            &NewAuditEvent {
                kind: "reconcile.run".into(),
                subject: t.name.clone(),
                detail: serde_json::json!({}),
                parent: None,
            },
        )
        .await
        .unwrap();
    let lost = Lost {
        at: 7_000_000,
        reason: LostReason::Missing,
    };
    let flag = |key: &str, expected, lost: Option<Lost>, parent| LostRequest {
        share: s.name.clone(),
        path_key: key.into(),
        expected,
        lost,
        event: NewAuditEvent {
            kind: if lost.is_some() {
                "reconcile.lost"
            } else {
                "reconcile.recovered"
            }
            .into(),
            subject: key.into(),
            detail: serde_json::json!({"share": s.name}),
            parent,
        },
    };
    let events = async || -> Vec<(String, String)> {
        let q = AuditQuery {
            parent: Some(run.id),
            ..AuditQuery::default()
        };
        let page = store.audit_query(t.id, &q).await.unwrap();
        page.items
            .into_iter()
            .map(|e| (e.kind, e.subject))
            .collect()
    };
    let b = &objs["/s/b"];
    let e = store
        .mark_lost(
            t.id,
            &flag("/s/b", (b.state, b.version), Some(lost), Some(run.id)),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidTransition, "PLANNED: {e}");
    let e = store
        .mark_lost(
            t.id,
            &flag("/s/a", (a.state, a.version + 1), Some(lost), Some(run.id)),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict, "stale version: {e}");
    let e = store
        .mark_lost(
            t.id,
            &flag("/s/a", (a.state, a.version), Some(lost), Some(i64::MAX)),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "unknown parent: {e}");
    let e = store
        .mark_lost(
            t.id,
            &flag("/s/zz", (a.state, a.version), Some(lost), Some(run.id)),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "no such object: {e}");
    assert_eq!(
        store.tier_object(t.id, &s.name, "/s/a").await.unwrap(),
        a,
        "refused flags write nothing"
    );
    assert_eq!(events().await, Vec::<(String, String)>::new());
    let flagged = store
        .mark_lost(
            t.id,
            &flag("/s/a", (a.state, a.version), Some(lost), Some(run.id)),
        )
        .await
        .unwrap();
    assert_eq!(
        flagged,
        TierObject {
            lost: Some(lost),
            ..a.clone()
        },
        "the flag, and nothing else (the version stays)"
    );
    assert_eq!(
        store.tier_object(t.id, &s.name, "/s/a").await.unwrap(),
        flagged
    );
    // The file records carry the flag: one by one and in listings.
    assert_eq!(
        store
            .tiering()
            .file(t.id, &s.name, "/s/a")
            .await
            .unwrap()
            .lost,
        Some(lost)
    );
    let listed: Vec<(String, Option<Lost>)> = all_files(store, t.id, FileQuery::default())
        .await
        .into_iter()
        .filter(|f| f.state.is_some())
        .map(|f| (f.path_key, f.lost))
        .collect();
    assert!(
        listed.contains(&("/s/a".to_string(), Some(lost))),
        "{listed:?}"
    );
    assert!(
        listed.iter().filter(|(_, l)| l.is_some()).count() == 1,
        "{listed:?}"
    );
    let cleared = store
        .mark_lost(
            t.id,
            &flag("/s/a", (a.state, a.version), None, Some(run.id)),
        )
        .await
        .unwrap();
    assert_eq!(cleared, a, "cleared");
    assert_eq!(
        events().await,
        [
            ("reconcile.lost".to_string(), "/s/a".to_string()),
            ("reconcile.recovered".to_string(), "/s/a".to_string())
        ]
    );
    // Kept by the transitions out of STUBBED, cleared by a new incarnation.
    let digest = Lost {
        at: 8_000_000,
        reason: LostReason::Digest,
    };
    store
        .mark_lost(
            t.id,
            &flag("/s/a", (a.state, a.version), Some(digest), None),
        )
        .await
        .unwrap();
    let o = go(req(
        &s.name,
        "/s/a",
        Action::Rehydrate,
        Some((a.state, a.version)),
        None,
    ))
    .await
    .unwrap();
    assert_eq!(o.lost, Some(digest), "rehydration keeps the flag");
    let e = store
        .mark_lost(t.id, &flag("/s/a", (o.state, o.version), None, None))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidTransition, "REHYDRATED: {e}");
    let o = go(req(
        &s.name,
        "/s/a",
        Action::Delete,
        Some((o.state, o.version)),
        None,
    ))
    .await
    .unwrap();
    assert_eq!(o.lost, Some(digest), "deletion keeps the flag");
    let o = go(req(
        &s.name,
        "/s/a",
        Action::Plan,
        Some((o.state, o.version)),
        None,
    ))
    .await
    .unwrap();
    assert_eq!(
        (o.incarnation, o.lost, o.stored),
        (2, None, None),
        "a new incarnation clears it"
    );
    assert_eq!(o.id, a.id, "the same object");

    // Tier ids: the tenant's own, present or withdrawn; never another tenant's.
    let (other, os) = tenant_with_share(store, ShareKind::Posix).await;
    ingest(
        store,
        other.id,
        &os.name,
        ScanKind::Full,
        &[("x", vec![entry("/s/a", 1, None)])],
    )
    .await;
    let theirs = store
        .transition(
            other.id,
            &TransitionRequest {
                share: os.name.clone(),
                ..req(&s.name, "/s/a", Action::Plan, None, None)
            },
        )
        .await
        .unwrap()
        .unwrap();
    let mine: Vec<i64> = {
        let mut v: Vec<i64> = objs.values().map(|o| o.id).collect();
        v.sort_unstable();
        v
    };
    assert!(mine.contains(&withdrawn_id));
    let mut ask = mine.clone();
    ask.extend([theirs.id, i64::MAX, -1, mine[0], 0]);
    ask.reverse();
    assert_eq!(store.owned_tier_ids(t.id, &ask).await.unwrap(), mine);
    assert_eq!(
        store.owned_tier_ids(other.id, &ask).await.unwrap(),
        [theirs.id]
    );
    assert!(store.owned_tier_ids(t.id, &[]).await.unwrap().is_empty());
    // Isolation: another tenant sees none of it and flags nothing of it.
    let theirs_list = store
        .tier_objects(other.id, &TierObjectQuery::default())
        .await
        .unwrap();
    assert_eq!(theirs_list.items, [theirs]);
    let e = store
        .mark_lost(
            other.id,
            &LostRequest {
                share: s2.name.clone(),
                ..flag("/t/x", (TierState::Planned, 1), None, None)
            },
        )
        .await
        .unwrap_err();
    assert!(
        matches!(e.kind(), ErrorKind::NotFound),
        "another tenant's object: {e}"
    );
}

/// Audit events: parents, increasing ids, cursor paging.
pub async fn audit_trail(store: &dyn Store) {
    let (t, _) = tenant_with_share(store, ShareKind::Posix).await;
    let root = store
        .append_audit(
            t.id,
            &NewAuditEvent {
                kind: "job.start".into(),
                subject: "1".into(),
                detail: serde_json::json!({"n": 1}),
                parent: None,
            },
        )
        .await
        .unwrap();
    let mut ids = vec![root.id];
    for i in 0..9 {
        let e = store
            .append_audit(
                t.id,
                &NewAuditEvent {
                    kind: "job.file".into(),
                    subject: format!("f{i}"),
                    detail: serde_json::json!({}),
                    parent: Some(root.id),
                },
            )
            .await
            .unwrap();
        assert_eq!(e.parent, Some(root.id));
        ids.push(e.id);
    }
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids increase");
    let bad = store
        .append_audit(
            t.id,
            &NewAuditEvent {
                kind: "x".into(),
                subject: "y".into(),
                detail: serde_json::json!({}),
                parent: Some(i64::MAX),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(bad.kind(), ErrorKind::NotFound);
    let mut after = None;
    let mut got = Vec::new();
    loop {
        let page = store.audit(t.id, after, 4).await.unwrap();
        got.extend(page.items.iter().map(|e| e.id));
        match page.next {
            Some(n) => after = Some(n.parse().unwrap()),
            None => break,
        }
    }
    assert_eq!(got, ids);
    let first = store.audit(t.id, None, 1).await.unwrap();
    assert_eq!(first.items[0].detail, serde_json::json!({"n": 1}));
}

/// A store that fails every `ingest_chunk` after the first `budget` ones: a crash mid-ingest.
/// With `chunk_rows`, it asks for chunks of that size instead of the inner store's.
#[derive(Debug)]
struct Interrupting<'a> {
    inner: &'a dyn Store,
    budget: std::sync::atomic::AtomicI64,
    chunk_rows: Option<usize>,
}

#[async_trait::async_trait]
impl Store for Interrupting<'_> {
    fn backend(&self) -> &'static str {
        self.inner.backend()
    }
    fn tiering(&self) -> &dyn crate::store::Tiering {
        self.inner.tiering()
    }
    fn feeds(&self) -> &dyn crate::store::Feeds {
        self.inner.feeds()
    }
    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }
    fn ingest_chunk_rows(&self) -> usize {
        self.chunk_rows
            .unwrap_or_else(|| self.inner.ingest_chunk_rows())
    }
    async fn create_tenant(&self, n: &str, s: &TenantSettings) -> crate::Result<Tenant> {
        self.inner.create_tenant(n, s).await
    }
    async fn tenant(&self, n: &str) -> crate::Result<Tenant> {
        self.inner.tenant(n).await
    }
    async fn ensure_share(&self, t: TenantId, s: &ShareSpec) -> crate::Result<Share> {
        self.inner.ensure_share(t, s).await
    }
    async fn shares(&self, t: TenantId) -> crate::Result<Vec<Share>> {
        self.inner.shares(t).await
    }
    async fn set_share_root(&self, t: TenantId, s: &str, r: Option<&str>) -> crate::Result<Share> {
        self.inner.set_share_root(t, s, r).await
    }
    async fn begin_scan(&self, t: TenantId, s: &ScanSpec) -> crate::Result<Scan> {
        self.inner.begin_scan(t, s).await
    }
    async fn ingest_chunk(
        &self,
        t: TenantId,
        scan: i64,
        c: &IngestChunk,
    ) -> crate::Result<ChunkOutcome> {
        if self.budget.fetch_sub(1, Ordering::SeqCst) <= 0 {
            return Err(crate::Error::new(ErrorKind::Backend, "killed"));
        }
        self.inner.ingest_chunk(t, scan, c).await
    }
    async fn finish_scan(&self, t: TenantId, scan: i64) -> crate::Result<ScanSummary> {
        self.inner.finish_scan(t, scan).await
    }
    async fn count_unseen(&self, t: TenantId, scan: i64) -> crate::Result<u64> {
        self.inner.count_unseen(t, scan).await
    }
    async fn files(&self, t: TenantId, q: &FileQuery) -> crate::Result<Page<FileRecord>> {
        self.inner.files(t, q).await
    }
    async fn tier_object(&self, t: TenantId, s: &str, k: &str) -> crate::Result<TierObject> {
        self.inner.tier_object(t, s, k).await
    }
    async fn transition(
        &self,
        t: TenantId,
        r: &TransitionRequest,
    ) -> crate::Result<Option<TierObject>> {
        self.inner.transition(t, r).await
    }
    async fn set_tenant_settings(
        &self,
        t: TenantId,
        settings: &TenantSettings,
    ) -> crate::Result<Tenant> {
        self.inner.set_tenant_settings(t, settings).await
    }
    async fn tier_objects(
        &self,
        t: TenantId,
        q: &TierObjectQuery,
    ) -> crate::Result<Page<TierObject>> {
        self.inner.tier_objects(t, q).await
    }
    async fn mark_lost(&self, t: TenantId, r: &LostRequest) -> crate::Result<TierObject> {
        self.inner.mark_lost(t, r).await
    }
    async fn owned_tier_ids(&self, t: TenantId, ids: &[i64]) -> crate::Result<Vec<i64>> {
        self.inner.owned_tier_ids(t, ids).await
    }
    async fn append_audit(&self, t: TenantId, e: &NewAuditEvent) -> crate::Result<AuditEvent> {
        self.inner.append_audit(t, e).await
    }
    async fn audit_query(
        &self,
        t: TenantId,
        q: &crate::types::AuditQuery,
    ) -> crate::Result<Page<AuditEvent>> {
        self.inner.audit_query(t, q).await
    }
    fn set_actor(&self, actor: crate::types::Actor) {
        self.inner.set_actor(actor)
    }
}

/// A full scan whose inventory had rejected rows marks nothing missing, and its report says how
/// many files it would have marked; with `missing_despite_rejects` it marks them. An inventory
/// whose every row is rejected leaves the share as it was. With `keep_history` or without (stores
/// may track "seen" differently then), the count is the one finishing the scan would mark.
pub async fn full_scan_with_rejects(store: &dyn Store, keep_history: bool) {
    use crate::ingest::{IngestOptions, ingest};
    use crate::inventory::{ColumnMap, CsvInventory};
    let t = store
        .create_tenant(
            &unique_name("rejects"),
            &TenantSettings {
                keep_history,
                ..TenantSettings::default()
            },
        )
        .await
        .unwrap();
    let s = store
        .ensure_share(t.id, &ShareSpec::new("fs", ShareKind::Posix))
        .await
        .unwrap();
    let dir = std::env::temp_dir().join(unique_name("alto-testkit-rejects"));
    std::fs::create_dir_all(&dir).unwrap();
    let write = |name: &str, rows: &[&str]| {
        let mut csv = String::from("file_path,file_size,last_modified\n");
        for r in rows {
            csv.push_str(r);
            csv.push('\n');
        }
        let p = dir.join(name);
        std::fs::write(&p, csv).unwrap();
        p
    };
    let (tid, share) = (t.id, s.name.clone());
    let run = |path: std::path::PathBuf, despite: bool| {
        let share = share.clone();
        async move {
            let opts = IngestOptions {
                kind: ScanKind::Full,
                chunk_rows: Some(2),
                missing_despite_rejects: despite,
                ..IngestOptions::default()
            };
            let mut src = CsvInventory::open(&path, &ColumnMap::new()).unwrap();
            ingest(store, tid, &share, &mut src, &opts, |_| {}, |_, _| {})
                .await
                .unwrap()
        }
    };
    let missing = || async {
        let q = FileQuery {
            include_missing: true,
            ..Default::default()
        };
        all_files(store, t.id, q)
            .await
            .into_iter()
            .filter(|f| f.missing_since.is_some())
            .map(|f| f.path_key)
            .collect::<Vec<_>>()
    };
    let all = write(
        "all.csv",
        &[
            "/a,1,1700000000",
            "/b,2,1700000000",
            "/c,3,1700000000",
            "/d,4,1700000000",
        ],
    );
    let r = run(all.clone(), false).await;
    assert_eq!((r.new, r.missing, r.left_open), (4, 0, false), "{r:?}");
    // The same export again, unchanged, so that a store which leaves unchanged rows unwritten
    // (history kept) has to count them as seen all the same.
    let r = run(all, false).await;
    assert_eq!(
        (r.unchanged, r.missing, r.left_open),
        (4, 0, false),
        "{r:?}"
    );
    // /a seen unchanged, /b changed, one row rejected, /c and /d unlisted.
    let some = write(
        "some.csv",
        &["/a,1,1700000000", "/b,20,1700000000", "/c,many,1700000000"],
    );
    let r = run(some.clone(), false).await;
    assert_eq!(
        (
            r.accepted,
            r.rejected,
            r.missing,
            r.would_be_missing,
            r.left_open
        ),
        (2, 1, 0, 2, true),
        "{r:?}"
    );
    assert_eq!(missing().await, Vec::<String>::new(), "nothing marked");
    // Every row rejected: nothing marked, and all four would have been.
    let none = write("none.csv", &["/a,x,1700000000", "relative,1,1700000000"]);
    let r = run(none, false).await;
    assert_eq!(
        (
            r.accepted,
            r.rejected,
            r.missing,
            r.would_be_missing,
            r.left_open
        ),
        (0, 2, 0, 4, true),
        "{r:?}"
    );
    assert_eq!(missing().await, Vec::<String>::new(), "nothing marked");
    // Told to: the unlisted files go missing despite the rejected row.
    let r = run(some, true).await;
    assert_eq!(
        (
            r.accepted,
            r.rejected,
            r.missing,
            r.would_be_missing,
            r.left_open
        ),
        (2, 1, 2, 0, false),
        "{r:?}"
    );
    assert_eq!(missing().await, ["/c".to_owned(), "/d".to_owned()]);
    let _ = std::fs::remove_dir_all(&dir);
}

/// An ingest interrupted after any chunk and run again ends in the same state as one that ran
/// through, and the rerun resumes the scan instead of re-applying landed chunks.
pub async fn ingest_survives_interruption(store: &dyn Store) {
    use crate::ingest::{IngestOptions, ingest};
    use crate::inventory::{ColumnMap, CsvInventory};
    let mut csv = String::from("file_path,file_size,last_accessed\n");
    for i in 0..50 {
        csv.push_str(&format!("/d{}/f{i}.bin,{i},{}\n", i % 4, 1_600_000_000 + i));
        if i % 13 == 0 {
            csv.push_str("/bad,notasize,\n");
        }
    }
    let dir = std::env::temp_dir().join(unique_name("alto-testkit"));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("inv.csv");
    std::fs::write(&path, csv).unwrap();
    let opts = IngestOptions {
        kind: ScanKind::Full,
        chunk_rows: Some(7),
        source: Some(crate::ingest::source_identity(&path).unwrap()),
        ..IngestOptions::default()
    };
    // What must match: each file's key, values and whether it is missing (not the wall-clock
    // dependent times).
    let snapshot = |t: TenantId| async move {
        all_files(
            store,
            t,
            FileQuery {
                include_missing: true,
                ..Default::default()
            },
        )
        .await
        .into_iter()
        .map(|f| (f.path_key, f.entry, f.missing_since.is_some()))
        .collect::<Vec<_>>()
    };
    // Reference: one uninterrupted run.
    let (reference, rs) = tenant_with_share(store, ShareKind::Posix).await;
    let mut src = CsvInventory::open(&path, &ColumnMap::new()).unwrap();
    let full = ingest(
        store,
        reference.id,
        &rs.name,
        &mut src,
        &opts,
        |_| {},
        |_, _| {},
    )
    .await
    .unwrap();
    assert_eq!(
        (full.accepted, full.rejected, full.new, full.missing),
        (50, 4, 50, 0)
    );
    let want: Vec<_> = snapshot(reference.id).await;
    for cut in [0, 1, 3, 7] {
        let (t, s) = tenant_with_share(store, ShareKind::Posix).await;
        let dying = Interrupting {
            inner: store,
            budget: std::sync::atomic::AtomicI64::new(cut),
            chunk_rows: None,
        };
        let mut src = CsvInventory::open(&path, &ColumnMap::new()).unwrap();
        let e = ingest(&dying, t.id, &s.name, &mut src, &opts, |_| {}, |_, _| {})
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Backend);
        let mut src = CsvInventory::open(&path, &ColumnMap::new()).unwrap();
        let again = ingest(store, t.id, &s.name, &mut src, &opts, |_| {}, |_, _| {})
            .await
            .unwrap();
        assert!(
            again.resumed,
            "cut {cut}: the rerun resumes the interrupted scan"
        );
        assert_eq!(
            again.chunks_skipped, cut as u64,
            "cut {cut}: landed chunks are not applied twice"
        );
        let got: Vec<_> = snapshot(t.id).await;
        assert_eq!(
            got, want,
            "cut {cut}: same final state as an uninterrupted run"
        );
    }
    // A rerun with larger chunks: its first chunk holds rows the interrupted run never applied,
    // so it must not be skipped as "already applied". The rerun sets no chunk size, so the
    // driver takes the store's (11 rows here).
    let (t, s) = tenant_with_share(store, ShareKind::Posix).await;
    let dying = Interrupting {
        inner: store,
        budget: std::sync::atomic::AtomicI64::new(1),
        chunk_rows: None,
    };
    let mut src = CsvInventory::open(&path, &ColumnMap::new()).unwrap();
    ingest(&dying, t.id, &s.name, &mut src, &opts, |_| {}, |_, _| {})
        .await
        .unwrap_err();
    let larger = Interrupting {
        inner: store,
        budget: std::sync::atomic::AtomicI64::new(i64::MAX),
        chunk_rows: Some(11),
    };
    let store_sized = IngestOptions {
        chunk_rows: None,
        ..opts.clone()
    };
    let mut src = CsvInventory::open(&path, &ColumnMap::new()).unwrap();
    let again = ingest(
        &larger,
        t.id,
        &s.name,
        &mut src,
        &store_sized,
        |_| {},
        |_, _| {},
    )
    .await
    .unwrap();
    assert!(again.resumed, "another chunk size resumes the same scan");
    assert_eq!(
        (again.chunks_applied, again.chunks_skipped, again.missing),
        (5, 0, 0),
        "54 rows in the store's chunks of 11; no chunk of other rows counts as applied, and no \
         file goes missing"
    );
    let got: Vec<_> = snapshot(t.id).await;
    assert_eq!(got, want, "another chunk size: the same final state");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Committed plans and the job queue ([`Tiering`]): no double planning, withdrawal, claims with
/// leases and fencing, retries with backoff, failure after the last attempt, cancel, isolation;
/// then [`unfinished_files_stay_planned`].
pub async fn tiering_queue(store: &dyn Store) {
    use crate::store::tiering::*;
    let q = store.tiering();
    let (t, s) = tenant_with_share(store, ShareKind::Posix).await;
    let files: Vec<_> = (0..6)
        .map(|i| entry(&format!("/q/f{i}"), 100 + i, None))
        .collect();
    ingest(store, t.id, &s.name, ScanKind::Full, &[("x", files)]).await;
    let pf = |i: usize| PlannedFile {
        share: s.name.clone(),
        path_key: format!("/q/f{i}"),
        target_uri: format!("file:///tier/q/f{i}"),
    };
    let job = |rule: &str, prio: i64, idx: &[usize]| PlannedJobSpec {
        rule: rule.into(),
        target: "file:///tier/".into(),
        priority: prio,
        estimate: Estimate {
            files: idx.len() as u64,
            ..Default::default()
        },
        files: idx.iter().map(|&i| pf(i)).collect(),
    };
    let plan = PlanCommit {
        at: 1_000,
        jobs: vec![job("b", 20, &[3, 4, 5]), job("a", 10, &[0, 1, 2])],
    };
    let out = q.commit_plan(t.id, &plan).await.unwrap();
    assert_eq!((out.jobs, out.planned), (2, 6));
    let again = q.commit_plan(t.id, &plan).await.unwrap();
    assert_eq!(
        (again.jobs, again.planned, again.already_planned),
        (0, 0, 6),
        "re-planning never duplicates"
    );
    let fewer = PlanCommit {
        at: 2_000,
        jobs: vec![job("a", 10, &[0, 1, 2, 3])],
    };
    let out = q.commit_plan(t.id, &fewer).await.unwrap();
    assert_eq!(
        (out.withdrawn, out.already_planned, out.jobs),
        (2, 4, 0),
        "f4, f5 no longer qualify"
    );
    assert_eq!(
        store
            .tier_object(t.id, &s.name, "/q/f4")
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );
    let unknown = PlanCommit {
        at: 1,
        jobs: vec![PlannedJobSpec {
            files: vec![PlannedFile {
                path_key: "/nope".into(),
                ..pf(0)
            }],
            ..job("a", 1, &[])
        }],
    };
    assert_eq!(
        q.commit_plan(t.id, &unknown).await.unwrap_err().kind(),
        ErrorKind::NotFound
    );

    // Claims: priority order, one holder at a time.
    let claim = |w: &str, now: i64| ClaimRequest {
        worker: w.into(),
        lease: 60_000_000,
        now,
    };
    let a = q
        .claim_job(t.id, &claim("w1", 10_000))
        .await
        .unwrap()
        .expect("job a");
    assert_eq!(
        (a.job.rule.as_str(), a.job.attempts, a.job.state),
        ("a", 1, JobState::Running)
    );
    let b = q
        .claim_job(t.id, &claim("w2", 10_000))
        .await
        .unwrap()
        .expect("job b");
    assert_eq!(b.job.rule, "b");
    assert!(
        q.claim_job(t.id, &claim("w3", 10_000))
            .await
            .unwrap()
            .is_none(),
        "nothing left to claim"
    );
    let fa = Fence {
        job: a.job.id,
        token: a.token,
    };
    let objs = q.job_objects(t.id, a.job.id).await.unwrap();
    assert_eq!(objs.len(), 3);
    let f0 = objs.iter().find(|o| o.path_key == "/q/f0").unwrap();
    let stub = TransitionRequest {
        share: s.name.clone(),
        path_key: "/q/f0".into(),
        action: Action::Stub,
        expected: Some((f0.state, f0.version)),
        stored: None,
        plan: None,
        at: 11_000,
    };
    let stale = Fence {
        token: a.token - 1,
        ..fa
    };
    assert_eq!(
        q.transition_fenced(t.id, stale, &stub)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::Conflict
    );
    q.transition_fenced(t.id, fa, &stub).await.unwrap();
    q.renew_lease(t.id, fa, 200_000_000).await.unwrap();
    let done = q
        .finish_job(
            t.id,
            fa,
            &JobOutcome::Done {
                stubbed: 1,
                skipped: 0,
                failed: 2,
                bytes: 100,
            },
            12_000,
        )
        .await
        .unwrap();
    assert_eq!(
        (done.state, done.files_stubbed, done.files_failed),
        (JobState::Done, 1, 2)
    );
    assert_eq!(
        store
            .tier_object(t.id, &s.name, "/q/f0")
            .await
            .unwrap()
            .state,
        TierState::Stubbed
    );
    assert_eq!(
        store
            .tier_object(t.id, &s.name, "/q/f1")
            .await
            .unwrap()
            .state,
        TierState::Planned,
        "a finished job leaves the files it did not finish PLANNED"
    );
    let left: Vec<_> = q
        .job_objects(t.id, a.job.id)
        .await
        .unwrap()
        .into_iter()
        .map(|o| (o.path_key, o.state))
        .collect();
    assert_eq!(
        left,
        [
            ("/q/f1".to_owned(), TierState::Planned),
            ("/q/f2".to_owned(), TierState::Planned)
        ],
        "only the files left PLANNED stay linked to a finished job"
    );
    assert_eq!(
        q.finish_job(t.id, fa, &JobOutcome::Failed { error: "x".into() }, 13_000)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::Conflict,
        "a finished lease cannot finish again"
    );

    // Lease expiry: another worker takes job b over; the first can no longer write.
    let fb = Fence {
        job: b.job.id,
        token: b.token,
    };
    let taken = q
        .claim_job(t.id, &claim("w4", 10_000 + 60_000_000 + 1))
        .await
        .unwrap()
        .expect("expired lease is reclaimed");
    assert_eq!((taken.job.id, taken.job.attempts), (b.job.id, 2));
    assert_eq!(
        q.renew_lease(t.id, fb, 1).await.unwrap_err().kind(),
        ErrorKind::Conflict
    );
    assert_eq!(
        q.finish_job(
            t.id,
            fb,
            &JobOutcome::Done {
                stubbed: 0,
                skipped: 0,
                failed: 0,
                bytes: 0
            },
            1
        )
        .await
        .unwrap_err()
        .kind(),
        ErrorKind::Conflict,
        "a worker whose lease expired cannot complete the job"
    );
    let ft = Fence {
        job: taken.job.id,
        token: taken.token,
    };
    let retry = q
        .finish_job(
            t.id,
            ft,
            &JobOutcome::Failed {
                error: "target down".into(),
            },
            100_000_000,
        )
        .await
        .unwrap();
    assert_eq!(retry.state, JobState::Queued);
    let due = retry.not_before.expect("backoff");
    assert!(due > 100_000_000);
    assert!(
        q.claim_job(t.id, &claim("w5", due - 1))
            .await
            .unwrap()
            .is_none(),
        "not before the backoff"
    );
    let third = q.claim_job(t.id, &claim("w5", due)).await.unwrap().unwrap();
    assert_eq!(third.job.attempts, 3);
    let failed = q
        .finish_job(
            t.id,
            Fence {
                job: third.job.id,
                token: third.token,
            },
            &JobOutcome::Failed {
                error: "target down".into(),
            },
            due + 1,
        )
        .await
        .unwrap();
    assert_eq!(
        (failed.state, failed.last_error.as_deref()),
        (JobState::Failed, Some("target down"))
    );
    assert_eq!(
        store
            .tier_object(t.id, &s.name, "/q/f3")
            .await
            .unwrap()
            .state,
        TierState::Planned,
        "a job failed for good leaves its files PLANNED"
    );

    // Cancel (the plan does not list f1, f2, f3, left PLANNED by jobs that ended: withdrawn).
    let out = q
        .commit_plan(
            t.id,
            &PlanCommit {
                at: 3_000,
                jobs: vec![job("c", 5, &[4, 5])],
            },
        )
        .await
        .unwrap();
    assert_eq!((out.planned, out.withdrawn), (2, 3));
    for f in ["/q/f1", "/q/f2", "/q/f3"] {
        assert_eq!(
            store
                .tier_object(t.id, &s.name, f)
                .await
                .unwrap_err()
                .kind(),
            ErrorKind::NotFound,
            "{f} no longer qualifies"
        );
    }
    let c = q
        .jobs(
            t.id,
            &JobQuery {
                state: Some(JobState::Queued),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .items;
    assert_eq!(c.len(), 1);
    let cancelled = q.cancel_job(t.id, c[0].id, 4_000).await.unwrap();
    assert_eq!(cancelled.state, JobState::Cancelled);
    assert_eq!(
        store
            .tier_object(t.id, &s.name, "/q/f4")
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );
    assert_eq!(
        q.cancel_job(t.id, c[0].id, 5_000).await.unwrap_err().kind(),
        ErrorKind::InvalidTransition
    );
    // By id: job b was committed first (the plan listed it first).
    let all = q.jobs(t.id, &JobQuery::default()).await.unwrap().items;
    assert_eq!(
        all.iter().map(|j| j.state).collect::<Vec<_>>(),
        [JobState::Failed, JobState::Done, JobState::Cancelled]
    );
    assert!(q.file(t.id, &s.name, "/q/f0").await.unwrap().state == Some(TierState::Stubbed));

    // Isolation.
    let (other, _) = tenant_with_share(store, ShareKind::Posix).await;
    assert!(
        q.jobs(other.id, &JobQuery::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert!(
        q.claim_job(other.id, &claim("w", i64::MAX / 2))
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        q.cancel_job(other.id, c[0].id, 1).await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
    assert_eq!(
        q.file(other.id, &s.name, "/q/f0").await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
    let names: Vec<_> = q
        .tenants()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert!(names.contains(&t.name) && names.contains(&other.name));

    unfinished_files_stay_planned(store).await;
}

/// (kind, subject) of the tenant's audit events after `after`, but `job.create`; moves `after`
/// past them.
async fn events_since(
    store: &dyn Store,
    t: TenantId,
    after: &mut Option<crate::types::AuditPosition>,
) -> Vec<String> {
    let mut out = Vec::new();
    loop {
        let page = store.audit(t, *after, 100).await.expect("audit");
        for e in &page.items {
            *after = Some(e.position);
            // A commit's `job.create` events are checked with the chain they head.
            if e.kind != "job.create" {
                out.push(format!("{} {}", e.kind, e.subject));
            }
        }
        if page.next.is_none() {
            return out;
        }
    }
}

/// What a job that ends leaves for the next plan ([`Tiering::finish_job`],
/// [`Tiering::commit_plan`], [`Tiering::cancel_job`]): files a `Done` attempt did not finish, and
/// the files of a job failed after its last attempt (by `finish_job` or by an expired lease), stay
/// PLANNED and unchanged; a committed plan that lists them moves them into its job (`requeued`,
/// claimable again), one that does not withdraws them; a running job keeps its files; a cancel
/// still withdraws.
pub async fn unfinished_files_stay_planned(store: &dyn Store) {
    use crate::store::tiering::*;
    let q = store.tiering();
    let (t, s) = tenant_with_share(store, ShareKind::Posix).await;
    let files: Vec<_> = (0..6)
        .map(|i| entry(&format!("/r/f{i}"), 100 + i, None))
        .collect();
    ingest(store, t.id, &s.name, ScanKind::Full, &[("x", files)]).await;
    let job = |rule: &str, prio: i64, idx: &[usize]| PlannedJobSpec {
        rule: rule.into(),
        target: format!("file:///{rule}/"),
        priority: prio,
        estimate: Estimate::default(),
        files: idx
            .iter()
            .map(|&i| PlannedFile {
                share: s.name.clone(),
                path_key: format!("/r/f{i}"),
                target_uri: format!("file:///{rule}/r/f{i}"),
            })
            .collect(),
    };
    let obj = async |i: usize| store.tier_object(t.id, &s.name, &format!("/r/f{i}")).await;
    let linked = async |job: i64| -> Vec<String> {
        q.job_objects(t.id, job)
            .await
            .unwrap()
            .into_iter()
            .map(|o| format!("{} {}", o.path_key, o.state))
            .collect()
    };
    let claim = |now: i64| ClaimRequest {
        worker: "w".into(),
        lease: 60_000_000,
        now,
    };
    let fence = |l: &Lease| Fence {
        job: l.job.id,
        token: l.token,
    };
    let outcome = |o: &CommitOutcome| {
        (
            o.jobs,
            o.planned,
            o.requeued,
            o.already_planned,
            o.already_stubbed,
            o.withdrawn,
        )
    };
    let mut seen = None;

    let first = PlanCommit {
        at: 1_000,
        jobs: vec![
            job("a", 1, &[0, 1, 2]),
            job("b", 2, &[3, 4]),
            job("c", 3, &[5]),
        ],
    };
    let out = q.commit_plan(t.id, &first).await.unwrap();
    assert_eq!(outcome(&out), (3, 6, 0, 0, 0, 0));
    let before: Vec<TierObject> = {
        let mut v = Vec::new();
        for i in 0..6 {
            v.push(obj(i).await.unwrap());
        }
        v
    };
    events_since(store, t.id, &mut seen).await;

    // Done with failed files: they stay PLANNED, unchanged, linked to the job.
    let a = q.claim_job(t.id, &claim(10_000)).await.unwrap().unwrap();
    assert_eq!(a.job.rule, "a");
    let stub = TransitionRequest {
        share: s.name.clone(),
        path_key: "/r/f0".into(),
        action: Action::Stub,
        expected: Some((TierState::Planned, before[0].version)),
        stored: None,
        plan: None,
        at: 10_500,
    };
    q.transition_fenced(t.id, fence(&a), &stub).await.unwrap();
    events_since(store, t.id, &mut seen).await;
    let done = JobOutcome::Done {
        stubbed: 1,
        skipped: 0,
        failed: 2,
        bytes: 100,
    };
    let ended = q.finish_job(t.id, fence(&a), &done, 11_000).await.unwrap();
    assert_eq!((ended.state, ended.files_failed), (JobState::Done, 2));
    for i in [1, 2] {
        assert_eq!(
            obj(i).await.unwrap(),
            before[i],
            "f{i}: failed in a done job, left PLANNED as it was"
        );
    }
    assert_eq!(linked(a.job.id).await, ["/r/f1 PLANNED", "/r/f2 PLANNED"]);
    assert_eq!(
        events_since(store, t.id, &mut seen).await,
        [format!("job.done {}", a.job.id)],
        "no plan withdrawn"
    );
    // The chain: the job's event, then its files' plans, its stub and its outcome under it.
    let job_event = a
        .job
        .event
        .expect("a committed job has its job.create event");
    let trail = store.audit(t.id, None, 1000).await.unwrap().items;
    let created = trail.iter().find(|e| e.id == job_event).unwrap();
    assert_eq!(
        (created.kind.as_str(), created.subject.clone()),
        ("job.create", a.job.id.to_string())
    );
    assert_eq!(created.detail["rule"], "a");
    let children = store
        .audit_query(
            t.id,
            &crate::types::AuditQuery {
                parent: Some(job_event),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .items;
    let chain: Vec<String> = children
        .iter()
        .map(|e| format!("{} {}", e.kind, e.subject))
        .collect();
    assert_eq!(
        chain,
        [
            "tier.plan /r/f0".to_owned(),
            "tier.plan /r/f1".to_owned(),
            "tier.plan /r/f2".to_owned(),
            "tier.stub /r/f0".to_owned(),
            format!("job.done {}", a.job.id),
        ]
    );
    assert!(
        children.iter().all(|e| e.position > created.position),
        "children after their parent in read order"
    );

    // Failed after its last attempt: its files stay PLANNED too.
    let mut now = 20_000;
    let mut b = q.claim_job(t.id, &claim(now)).await.unwrap().unwrap();
    assert_eq!(b.job.rule, "b");
    for attempt in 1..=MAX_ATTEMPTS {
        assert_eq!(b.job.attempts, attempt);
        let err = JobOutcome::Failed {
            error: "target down".into(),
        };
        let j = q.finish_job(t.id, fence(&b), &err, now + 1).await.unwrap();
        if attempt == MAX_ATTEMPTS {
            assert_eq!(j.state, JobState::Failed);
            break;
        }
        assert_eq!(j.state, JobState::Queued);
        now = j.not_before.expect("a backoff");
        b = q.claim_job(t.id, &claim(now)).await.unwrap().unwrap();
        assert_eq!(b.job.id, j.id, "job b again, before c");
    }
    for i in [3, 4] {
        assert_eq!(
            obj(i).await.unwrap(),
            before[i],
            "f{i}: its job failed for good, left PLANNED as it was"
        );
    }
    assert_eq!(linked(b.job.id).await, ["/r/f3 PLANNED", "/r/f4 PLANNED"]);
    let id = b.job.id;
    assert_eq!(
        events_since(store, t.id, &mut seen).await,
        [
            format!("job.retry {id}"),
            format!("job.retry {id}"),
            format!("job.failed {id}")
        ],
        "no plan withdrawn"
    );

    // Failed because the lease of its last attempt expired: the same.
    let mut now = now + 1_000;
    let c = q.claim_job(t.id, &claim(now)).await.unwrap().unwrap();
    assert_eq!(c.job.rule, "c");
    for _ in 1..MAX_ATTEMPTS {
        now += 60_000_000 + 1;
        let again = q.claim_job(t.id, &claim(now)).await.unwrap().unwrap();
        assert_eq!(again.job.id, c.job.id);
    }
    now += 60_000_000 + 1;
    assert!(q.claim_job(t.id, &claim(now)).await.unwrap().is_none());
    let jobs = q.jobs(t.id, &JobQuery::default()).await.unwrap().items;
    assert_eq!(
        jobs.iter().map(|j| j.state).collect::<Vec<_>>(),
        [JobState::Done, JobState::Failed, JobState::Failed]
    );
    assert_eq!(obj(5).await.unwrap(), before[5]);
    assert_eq!(linked(c.job.id).await, ["/r/f5 PLANNED"]);
    assert!(events_since(store, t.id, &mut seen).await.is_empty());

    // A plan that lists them moves them into its jobs; those it does not list are withdrawn.
    let second = PlanCommit {
        at: 50_000,
        jobs: vec![job("n", 1, &[1, 3, 0]), job("m", 2, &[5])],
    };
    let out = q.commit_plan(t.id, &second).await.unwrap();
    assert_eq!(
        outcome(&out),
        (2, 0, 3, 0, 1, 2),
        "f1, f3, f5 re-queued, f0 stubbed, f2 and f4 withdrawn: {out:?}"
    );
    for i in [1, 3, 5] {
        let o = obj(i).await.unwrap();
        let rule = if i == 5 { "m" } else { "n" };
        let want = TierObject {
            version: before[i].version + 1,
            planned_by: rule.into(),
            target_uri: format!("file:///{rule}/r/f{i}"),
            planned_at: 50_000,
            ..before[i].clone()
        };
        assert_eq!(o, want, "f{i}: re-queued, same incarnation");
    }
    for i in [2, 4] {
        assert_eq!(obj(i).await.unwrap_err().kind(), ErrorKind::NotFound);
    }
    let jobs = q.jobs(t.id, &JobQuery::default()).await.unwrap().items;
    let (n, m) = (jobs[3].id, jobs[4].id);
    assert_eq!(
        (jobs[3].rule.as_str(), jobs[3].state, jobs[4].rule.as_str()),
        ("n", JobState::Queued, "m")
    );
    assert_eq!(linked(n).await, ["/r/f1 PLANNED", "/r/f3 PLANNED"]);
    assert_eq!(linked(m).await, ["/r/f5 PLANNED"]);
    for j in [a.job.id, b.job.id, c.job.id] {
        assert!(linked(j).await.is_empty(), "job {j} keeps nothing");
    }
    assert_eq!(
        events_since(store, t.id, &mut seen).await,
        [
            "tier.withdraw /r/f2",
            "tier.withdraw /r/f4",
            "tier.requeue /r/f1",
            "tier.requeue /r/f3",
            "tier.requeue /r/f5"
        ]
    );
    let again = q
        .commit_plan(
            t.id,
            &PlanCommit {
                at: 51_000,
                ..second.clone()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        outcome(&again),
        (0, 0, 0, 3, 1, 0),
        "in queued jobs now: already planned"
    );

    // The re-queued job is claimed; while it runs, its files are neither withdrawn nor moved.
    let l = q.claim_job(t.id, &claim(60_000)).await.unwrap().unwrap();
    assert_eq!((l.job.id, l.job.attempts), (n, 1));
    let objs = q.job_objects(t.id, n).await.unwrap();
    assert!(objs.iter().all(|o| o.state == TierState::Planned));
    let empty = PlanCommit {
        at: 61_000,
        jobs: vec![],
    };
    let out = q.commit_plan(t.id, &empty).await.unwrap();
    assert_eq!(outcome(&out), (0, 0, 0, 0, 0, 1), "f5 of queued job m");
    let out = q
        .commit_plan(
            t.id,
            &PlanCommit {
                at: 61_500,
                jobs: vec![job("x", 1, &[1])],
            },
        )
        .await
        .unwrap();
    assert_eq!(outcome(&out), (0, 0, 0, 1, 0, 0), "f1 is in a running job");
    assert_eq!(linked(n).await, ["/r/f1 PLANNED", "/r/f3 PLANNED"]);
    let done = JobOutcome::Done {
        stubbed: 0,
        skipped: 0,
        failed: 2,
        bytes: 0,
    };
    q.finish_job(t.id, fence(&l), &done, 62_000).await.unwrap();
    assert_eq!(linked(n).await, ["/r/f1 PLANNED", "/r/f3 PLANNED"]);

    // Listed twice: re-queued once.
    let third = PlanCommit {
        at: 70_000,
        jobs: vec![job("k", 1, &[1, 1])],
    };
    let out = q.commit_plan(t.id, &third).await.unwrap();
    assert_eq!(outcome(&out), (1, 0, 1, 1, 0, 1), "f1 once, f3 withdrawn");
    let jobs = q.jobs(t.id, &JobQuery::default()).await.unwrap().items;
    let k = jobs.last().unwrap().id;
    assert_eq!(linked(k).await, ["/r/f1 PLANNED"]);
    assert_eq!(obj(1).await.unwrap().version, before[1].version + 2);

    // A cancel still withdraws.
    events_since(store, t.id, &mut seen).await;
    let cancelled = q.cancel_job(t.id, k, 71_000).await.unwrap();
    assert_eq!(cancelled.state, JobState::Cancelled);
    assert_eq!(obj(1).await.unwrap_err().kind(), ErrorKind::NotFound);
    assert!(linked(k).await.is_empty());
    assert_eq!(
        events_since(store, t.id, &mut seen).await,
        ["tier.withdraw /r/f1".to_owned(), format!("job.cancel {k}")]
    );
    let jobs = q.jobs(t.id, &JobQuery::default()).await.unwrap().items;
    assert_eq!(
        jobs.iter()
            .map(|j| (j.rule.as_str(), j.state))
            .collect::<Vec<_>>(),
        [
            ("a", JobState::Done),
            ("b", JobState::Failed),
            ("c", JobState::Failed),
            ("n", JobState::Done),
            ("m", JobState::Cancelled),
            ("k", JobState::Cancelled)
        ]
    );
}

/// Access feeds ([`Feeds`](crate::store::Feeds)): mount-root mapping, forward-only access times,
/// duplicates, clock skew, unknown paths, moves, deletes, warming, cursors, isolation.
pub async fn feeds_apply(store: &dyn Store) {
    use crate::feed::lucid::Cursor;
    use crate::feed::{AccessEvent, FeedAction};
    use crate::store::feeds::*;
    let f = store.feeds();
    let (t, _) = tenant_with_share(store, ShareKind::Posix).await;
    let mut spec = ShareSpec::new("fs", ShareKind::Lucidlink);
    spec.mount_root = Some("/Volumes/fs".into());
    let share = store.ensure_share(t.id, &spec).await.unwrap();
    assert_eq!(share.mount_root.as_deref(), Some("/Volumes/fs"));
    let old = 1_000_000_000_000_000;
    let files: Vec<_> = ["a.mov", "b.mov", "c.mov", "d.mov"]
        .iter()
        .map(|n| entry(&format!("/Volumes/fs/P/{n}"), 10, Some(old)))
        .collect();
    ingest(store, t.id, "fs", ScanKind::Full, &[("x", files)]).await;
    let now = 2_000_000_000_000_000;
    let ev =
        |id: &str, at: i64, action: FeedAction, path: &str, target: Option<&str>| AccessEvent {
            id: id.into(),
            at,
            action,
            path: path.into(),
            target_path: target.map(str::to_owned),
            user: None,
        };
    let batch = EventBatch {
        parent: None,
        feed: "lucid".into(),
        events: vec![
            ev("n/s/0", now - 100, FeedAction::FileRead, "/P/a.mov", None),
            ev("n/s/1", old - 5, FeedAction::FileRead, "/P/d.mov", None),
            ev(
                "n/s/2",
                now + 8 * 86_400_000_000,
                FeedAction::FileRead,
                "/P/a.mov",
                None,
            ),
            ev(
                "n/s/3",
                now - 50,
                FeedAction::FileRead,
                "/P/unknown.mov",
                None,
            ),
            ev(
                "n/s/4",
                now - 40,
                FeedAction::Move,
                "/P/b.mov",
                Some("/Q/b2.mov"),
            ),
            ev("n/s/5", now - 30, FeedAction::FileDelete, "/P/c.mov", None),
            ev("n/s/6", now - 20, FeedAction::FileWritten, "/P/d.mov", None),
            ev(
                "n/s/7",
                now - 10,
                FeedAction::DirectoryCreate,
                "/P/newdir",
                None,
            ),
        ],
        cursors: vec![(
            ("n".into(), "s".into()),
            Cursor {
                offset: 800,
                line: 8,
            },
        )],
        now,
    };
    let out = f.apply_events(t.id, "fs", &batch).await.unwrap();
    assert_eq!(
        (
            out.applied,
            out.duplicate,
            out.skewed,
            out.unknown,
            out.stale
        ),
        (4, 0, 1, 1, 1),
        "{out:?}"
    );
    assert_eq!((out.moved, out.deleted, out.newest), (1, 1, Some(now - 10)));
    let q = store.tiering();
    let a = q.file(t.id, "fs", "/Volumes/fs/P/a.mov").await.unwrap();
    assert_eq!(
        (a.entry.accessed, a.accessed_source, a.atime_updated),
        (Some(now - 100), AccessSource::LucidlinkAudit, Some(now))
    );
    assert!(q.file(t.id, "fs", "/Volumes/fs/P/b.mov").await.is_err());
    let b2 = q.file(t.id, "fs", "/Volumes/fs/Q/b2.mov").await.unwrap();
    assert_eq!(b2.entry.path, "/Volumes/fs/Q/b2.mov");
    assert!(
        q.file(t.id, "fs", "/Volumes/fs/P/c.mov")
            .await
            .unwrap()
            .missing_since
            .is_some()
    );
    let d = q.file(t.id, "fs", "/Volumes/fs/P/d.mov").await.unwrap();
    assert_eq!(
        (d.entry.accessed, d.entry.modified),
        (Some(now - 20), Some(now - 20)),
        "a write is an access and a modification"
    );
    let unknown = f.unknown_events(t.id, "fs", 10).await.unwrap();
    assert_eq!(
        unknown.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(),
        ["n/s/3"]
    );
    assert_eq!(
        f.feed_cursors(t.id, "fs", "lucid")
            .await
            .unwrap()
            .get(&("n".into(), "s".into())),
        Some(&Cursor {
            offset: 800,
            line: 8
        })
    );
    // The same batch again: every event a duplicate, nothing changes.
    let again = f.apply_events(t.id, "fs", &batch).await.unwrap();
    assert_eq!((again.duplicate, again.applied, again.unknown), (8, 0, 0));
    assert_eq!(q.file(t.id, "fs", "/Volumes/fs/P/a.mov").await.unwrap(), a);

    // Warming: a planned and a stubbed file are accessed.
    let plan = PlanCommit {
        at: now,
        jobs: vec![PlannedJobSpec {
            rule: "r".into(),
            target: "file:///t/".into(),
            priority: 1,
            estimate: Estimate::default(),
            files: ["a.mov", "d.mov"]
                .iter()
                .map(|n| PlannedFile {
                    share: "fs".into(),
                    path_key: format!("/Volumes/fs/P/{n}"),
                    target_uri: format!("file:///t/{n}"),
                })
                .collect(),
        }],
    };
    use crate::store::tiering::*;
    q.commit_plan(t.id, &plan).await.unwrap();
    let lease = q
        .claim_job(
            t.id,
            &ClaimRequest {
                worker: "w".into(),
                lease: 1_000_000_000,
                now,
            },
        )
        .await
        .unwrap()
        .unwrap();
    let d_obj = store
        .tier_object(t.id, "fs", "/Volumes/fs/P/d.mov")
        .await
        .unwrap();
    let stub = TransitionRequest {
        share: "fs".into(),
        path_key: d_obj.path_key.clone(),
        action: Action::Stub,
        expected: Some((d_obj.state, d_obj.version)),
        stored: None,
        plan: None,
        at: now,
    };
    q.transition_fenced(
        t.id,
        Fence {
            job: lease.job.id,
            token: lease.token,
        },
        &stub,
    )
    .await
    .unwrap();
    let warm = EventBatch {
        parent: None,
        feed: "lucid".into(),
        events: vec![
            ev("n/s/8", now + 5, FeedAction::FileRead, "/P/a.mov", None),
            ev("n/s/9", now + 6, FeedAction::PreHydrate, "/P/d.mov", None),
        ],
        cursors: vec![],
        now: now + 10,
    };
    let out = f.apply_events(t.id, "fs", &warm).await.unwrap();
    let mut warmed: Vec<_> = out
        .warmed
        .iter()
        .map(|w| (w.path_key.as_str(), w.state))
        .collect();
    warmed.sort();
    assert_eq!(
        warmed,
        [
            ("/Volumes/fs/P/a.mov", TierState::Planned),
            ("/Volumes/fs/P/d.mov", TierState::Stubbed)
        ]
    );
    let a_obj = store
        .tier_object(t.id, "fs", "/Volumes/fs/P/a.mov")
        .await
        .unwrap();
    assert_eq!(
        (a_obj.last_accessed, a_obj.access_count),
        (Some(now + 5), 1)
    );
    assert_eq!(
        a_obj.version, 1,
        "warming counts, it does not change state or version"
    );
    // A delete of a stubbed file marks its object DELETED, its event under the batch's.
    let batch_event = store
        .append_audit(
            t.id,
            &NewAuditEvent {
                kind: "feed.batch".into(),
                subject: "fs".into(),
                detail: serde_json::json!({}),
                parent: None,
            },
        )
        .await
        .unwrap();
    let del = EventBatch {
        parent: Some(batch_event.id),
        feed: "lucid".into(),
        events: vec![ev(
            "n/s/10",
            now + 7,
            FeedAction::FileDelete,
            "/P/d.mov",
            None,
        )],
        cursors: vec![],
        now: now + 10,
    };
    // A parent the tenant does not have is refused, and nothing is applied.
    let stray = EventBatch {
        parent: Some(i64::MAX),
        ..del.clone()
    };
    assert_eq!(
        f.apply_events(t.id, "fs", &stray).await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
    f.apply_events(t.id, "fs", &del).await.unwrap();
    assert_eq!(
        store
            .tier_object(t.id, "fs", "/Volumes/fs/P/d.mov")
            .await
            .unwrap()
            .state,
        TierState::Deleted
    );
    let children = store
        .audit_query(
            t.id,
            &AuditQuery {
                parent: Some(batch_event.id),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .items;
    assert_eq!(
        children
            .iter()
            .map(|e| (e.kind.as_str(), e.subject.as_str()))
            .collect::<Vec<_>>(),
        [("tier.delete", "/Volumes/fs/P/d.mov")]
    );

    // Another tenant's share of the same name sees none of it.
    let (other, _) = tenant_with_share(store, ShareKind::Posix).await;
    store.ensure_share(other.id, &spec).await.unwrap();
    assert!(
        f.feed_cursors(other.id, "fs", "lucid")
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        f.unknown_events(other.id, "fs", 10)
            .await
            .unwrap()
            .is_empty()
    );
    let o = f.apply_events(other.id, "fs", &batch).await.unwrap();
    assert_eq!(
        (o.duplicate, o.unknown),
        (0, 6),
        "event ids are per tenant and share; its inventory is empty (one skewed, one directory)"
    );
    assert_eq!(
        f.apply_events(other.id, "nope", &batch)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );
    feed_moves_keep_target_roots(store).await;
}

/// A feed's move re-keys a tier object, and its target URI with it: the URI keeps its target root
/// ([`worker::target_root`](crate::worker::target_root) still finds it, so a worker can tier and
/// rehydrate the file) and ends with the new key's [`object_key`](crate::path::object_key),
/// through chains of moves in one batch and across batches; a stubbed object's stored object stays
/// as it was (the object itself does not move, [`StoredObject::key`] is its real key). A URI that
/// does not end with the old key's object key stays as it is. Run by [`feeds_apply`].
pub async fn feed_moves_keep_target_roots(store: &dyn Store) {
    use crate::feed::{AccessEvent, FeedAction};
    use crate::path::object_key;
    use crate::store::feeds::*;
    use crate::worker::{object_key_of, split_target_uri, target_root};
    let f = store.feeds();
    let (t, _) = tenant_with_share(store, ShareKind::Posix).await;
    let mut spec = ShareSpec::new("lf", ShareKind::Lucidlink);
    spec.mount_root = Some("/Volumes/lf".into());
    store.ensure_share(t.id, &spec).await.unwrap();
    let key = |p: &str| format!("/Volumes/lf{p}");
    let names = ["planned", "stubbed", "chained", "odd"];
    let files: Vec<_> = names
        .iter()
        .map(|n| entry(&key(&format!("/P/{n}.mov")), 10, None))
        .collect();
    ingest(store, t.id, "lf", ScanKind::Full, &[("x", files)]).await;
    let root = "s3://tier-bucket/cold/";
    let uri_of = |k: &str| format!("{root}{}", object_key(k).unwrap());
    let go = async |r: TransitionRequest| -> TierObject {
        store
            .transition(t.id, &r)
            .await
            .unwrap_or_else(|e| panic!("{} {}: {e}", r.action, r.path_key))
            .expect("an object")
    };
    let plan = |n: &str, target_uri: String| TransitionRequest {
        share: "lf".into(),
        path_key: key(&format!("/P/{n}.mov")),
        action: Action::Plan,
        expected: None,
        stored: None,
        plan: Some(PlanInfo {
            rule: "cold".into(),
            target_uri,
        }),
        at: 10,
    };
    let mut before = Vec::new();
    for n in names {
        let k = key(&format!("/P/{n}.mov"));
        let target = if n == "odd" {
            "s3://tier-bucket/elsewhere/odd".to_owned()
        } else {
            uri_of(&k)
        };
        let o = go(plan(n, target)).await;
        if n != "odd" {
            assert_eq!(
                target_root(&o).unwrap(),
                root,
                "{k}: planned under the root"
            );
        }
        before.push(o);
    }
    // Stub one, recording its object under the key of its incarnation (by its old path key).
    let stored = StoredObject {
        key: object_key_of(&t.name, &before[1]).unwrap(),
        size: 10,
        sha256: "ab".repeat(32),
        etag: Some("\"e-9\"".into()),
        uid: 1000,
        gid: 1000,
        mode: 0o640,
        modified: 1_000_000,
    };
    before[1] = go(TransitionRequest {
        share: "lf".into(),
        path_key: before[1].path_key.clone(),
        action: Action::Stub,
        expected: Some((before[1].state, before[1].version)),
        stored: Some(stored.clone()),
        plan: None,
        at: 20,
    })
    .await;
    assert_eq!(before[1].stored.as_ref(), Some(&stored));

    let now = 2_000_000_000_000_000;
    let mv = |id: &str, at: i64, from: &str, to: &str| AccessEvent {
        id: id.into(),
        at,
        action: FeedAction::Move,
        path: from.into(),
        target_path: Some(to.into()),
        user: None,
    };
    let batch = |events: Vec<AccessEvent>, now: i64| EventBatch {
        parent: None,
        feed: "lucid".into(),
        events,
        cursors: vec![],
        now,
    };
    let out = f
        .apply_events(
            t.id,
            "lf",
            &batch(
                vec![
                    mv("m/s/0", now - 50, "/P/planned.mov", "/Q/planned2.mov"),
                    mv("m/s/1", now - 40, "/P/stubbed.mov", "/Q/R/stubbed2.mov"),
                    mv("m/s/2", now - 30, "/P/chained.mov", "/Q/c1.mov"),
                    mv("m/s/3", now - 20, "/Q/c1.mov", "/S/c2.mov"),
                    mv("m/s/4", now - 10, "/P/odd.mov", "/Q/odd.mov"),
                ],
                now,
            ),
        )
        .await
        .unwrap();
    assert_eq!((out.moved, out.applied), (5, 5), "{out:?}");
    let out = f
        .apply_events(
            t.id,
            "lf",
            &batch(
                vec![mv("m/s/5", now + 10, "/Q/planned2.mov", "/T/planned3.mov")],
                now + 20,
            ),
        )
        .await
        .unwrap();
    assert_eq!(out.moved, 1, "{out:?}");

    // (index in `before`, where it is now, moves)
    for (i, now_at, moves) in [
        (0, "/T/planned3.mov", 2),
        (1, "/Q/R/stubbed2.mov", 1),
        (2, "/S/c2.mov", 2),
        (3, "/Q/odd.mov", 1),
    ] {
        let b = &before[i];
        let k = key(now_at);
        assert!(
            store.tier_object(t.id, "lf", &b.path_key).await.is_err(),
            "{}: no object left at the old key",
            b.path_key
        );
        let o = store
            .tier_object(t.id, "lf", &k)
            .await
            .unwrap_or_else(|e| panic!("{k}: the object moved here: {e}"));
        assert_eq!(
            (
                o.id,
                o.path_key.as_str(),
                o.path.as_str(),
                o.state,
                o.incarnation,
                o.version
            ),
            (
                b.id,
                k.as_str(),
                k.as_str(),
                b.state,
                b.incarnation,
                b.version + moves
            ),
            "{k}: the object moved with its file"
        );
        assert_eq!(o.stored, b.stored, "{k}: a move keeps the stored object");
        if i == 3 {
            assert_eq!(
                o.target_uri, b.target_uri,
                "{k}: a target URI that does not end with the old key's object key stays"
            );
            continue;
        }
        assert_eq!(
            target_root(&o).unwrap_or_else(|e| panic!("{k}: {e}")),
            root,
            "{k}: the target root survives the move"
        );
        assert_eq!(
            o.target_uri,
            uri_of(&k),
            "{k}: the target URI ends with the new key's object key"
        );
        assert!(o.target_uri.ends_with(&object_key(&k).unwrap()));
        let (r, object) = split_target_uri(&t.name, &o).unwrap();
        assert_eq!(r, root);
        if o.stored.is_some() {
            assert_eq!(
                object, stored.key,
                "{k}: a stub's object is still found under the key it was stored by"
            );
        }
    }
}

/// `start`, then 100-byte segments (`/`, `tag`, `y`…) up to `len` bytes.
fn deep_path(start: &str, len: usize, tag: char) -> String {
    let mut p = start.to_owned();
    while p.len() < len {
        let seg = format!("/{tag}{}", "y".repeat(98));
        p.push_str(&seg[..seg.len().min(len - p.len())]);
    }
    p
}

/// Long paths: a 4,000-byte path and another sharing its first 3,000 bytes are stored (under
/// bounded keys, [`crate::path::bound_key`], the same in every store), each is found by its path
/// — listed byte-exact, matched by a glob on the path, looked up by its key, planned as a tier
/// object, touched and moved by feed events when the store has feeds — and a re-ingest leaves
/// them unchanged.
pub async fn long_paths(store: &dyn Store) {
    use crate::path::{KeyRule, MAX_KEY_BYTES, object_key, share_key};
    let (t, _) = tenant_with_share(store, ShareKind::Posix).await;
    let mut spec = ShareSpec::new("long", ShareKind::Lucidlink);
    spec.mount_root = Some("/Volumes/fs".into());
    let share = store.ensure_share(t.id, &spec).await.unwrap();
    let rule = KeyRule::of(&share);
    let common = deep_path("/Volumes/fs/long", 3_000, 'd');
    let a = deep_path(&common, 3_996, 'a') + ".mov";
    let b = deep_path(&common, 3_996, 'b') + ".txt";
    assert_eq!((a.len(), b.len(), &a[..3_000]), (4_000, 4_000, &b[..3_000]));
    let (ka, kb) = (share_key(rule, &a), share_key(rule, &b));
    assert!(ka != kb && ka.len() <= MAX_KEY_BYTES && kb.len() <= MAX_KEY_BYTES);
    let old = 1_000_000_000_000_000;
    let listing = vec![
        entry(&a, 10, Some(old)),
        entry(&b, 20, Some(old)),
        entry("/Volumes/fs/short", 30, Some(old)),
    ];
    let (outs, _) = ingest(
        store,
        t.id,
        "long",
        ScanKind::Full,
        &[("x", listing.clone())],
    )
    .await;
    assert_eq!(counts(&outs), [(3, 0, 0)], "long paths are stored");
    let q = FileQuery {
        share: Some("long".into()),
        ..Default::default()
    };
    let found = |recs: &[FileRecord], path: &str| -> FileRecord {
        recs.iter()
            .find(|r| r.entry.path == path)
            .cloned()
            .unwrap_or_else(|| panic!("no record of the {}-byte path", path.len()))
    };
    let files = all_files(store, t.id, q.clone()).await;
    assert_eq!(files.len(), 3);
    let (ra, rb) = (found(&files, &a), found(&files, &b));
    assert_eq!((ra.path_key.as_str(), ra.entry.size), (ka.as_str(), 10));
    assert_eq!((rb.path_key.as_str(), rb.entry.size), (kb.as_str(), 20));
    // Globs match the path, not the bounded key (which ends in its marker).
    let mov = all_files(
        store,
        t.id,
        FileQuery {
            glob: Some("*.mov".into()),
            ..q.clone()
        },
    )
    .await;
    assert_eq!(
        mov.iter()
            .map(|r| r.entry.path.as_str())
            .collect::<Vec<_>>(),
        [a.as_str()]
    );
    // Again: nothing changes, nothing is added.
    let (outs, _) = ingest(store, t.id, "long", ScanKind::Full, &[("x", listing)]).await;
    assert_eq!(
        counts(&outs),
        [(0, 0, 3)],
        "a re-ingest leaves them unchanged"
    );
    let again = all_files(store, t.id, q.clone()).await;
    assert_eq!(
        again.iter().map(|r| &r.path_key).collect::<Vec<_>>(),
        files.iter().map(|r| &r.path_key).collect::<Vec<_>>()
    );
    // A tier object, as the planner makes it.
    let target_uri = crate::planner::join_target("file:///tier", &object_key(&ka).unwrap());
    let o = store
        .transition(
            t.id,
            &TransitionRequest {
                share: "long".into(),
                path_key: ka.clone(),
                action: Action::Plan,
                expected: None,
                stored: None,
                plan: Some(PlanInfo {
                    rule: "cold".into(),
                    target_uri: target_uri.clone(),
                }),
                at: 42,
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!((o.state, o.path.as_str()), (TierState::Planned, a.as_str()));
    let o = store.tier_object(t.id, "long", &ka).await.unwrap();
    assert_eq!(
        (o.path.as_str(), o.target_uri.as_str()),
        (a.as_str(), target_uri.as_str())
    );
    assert_eq!(crate::worker::target_root(&o).unwrap(), "file:///tier/");
    let tq = store.tiering();
    assert_eq!(tq.file(t.id, "long", &kb).await.unwrap().entry.path, b);
    let f = store.feeds();
    use crate::feed::{AccessEvent, FeedAction};
    use crate::store::feeds::EventBatch;
    let rel = |p: &str| p["/Volumes/fs".len()..].to_owned();
    let b2 = format!("{b}.moved");
    let kb2 = share_key(rule, &b2);
    let now = 2_000_000_000_000_000;
    let ev = |id: &str, action, path: &str, target: Option<String>| AccessEvent {
        id: id.into(),
        at: now - 100,
        action,
        path: rel(path),
        target_path: target,
        user: None,
    };
    let batch = EventBatch {
        parent: None,
        feed: "lucid".into(),
        events: vec![
            ev("n/s/0", FeedAction::FileRead, &a, None),
            ev("n/s/1", FeedAction::Move, &b, Some(rel(&b2))),
        ],
        cursors: vec![],
        now,
    };
    let out = f.apply_events(t.id, "long", &batch).await.unwrap();
    assert_eq!((out.applied, out.moved, out.unknown), (2, 1, 0), "{out:?}");
    assert_eq!(
        out.warmed.iter().map(|w| &w.path_key).collect::<Vec<_>>(),
        [&ka]
    );
    let ra = tq.file(t.id, "long", &ka).await.unwrap();
    assert_eq!(
        (ra.entry.path.as_str(), ra.entry.accessed),
        (a.as_str(), Some(now - 100))
    );
    let e = tq.file(t.id, "long", &kb).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    let rb2 = tq.file(t.id, "long", &kb2).await.unwrap();
    assert_eq!((rb2.entry.path.as_str(), rb2.entry.size), (b2.as_str(), 20));
}

/// Retention (`maintain`): settings can be changed; expired plans are withdrawn through the
/// lifecycle table, REHYDRATED/DELETED records, finished jobs that hold no file and old feed
/// bookkeeping are removed per setting; a dry sweep counts and changes nothing; no STUBBED record
/// and no plan a running job holds is touched; a sweep writes one event with its counts.
pub async fn retention(store: &dyn Store) {
    use crate::feed::{AccessEvent, FeedAction};
    use crate::maintain::maintain;
    use crate::store::feeds::EventBatch;
    use crate::store::tiering::*;
    const DAY: i64 = 86_400_000_000;
    let q = store.tiering();
    let (t, s) = tenant_with_share(store, ShareKind::Posix).await;
    let files: Vec<_> = (0..6)
        .map(|i| entry(&format!("/r/f{i}"), 100 + i, None))
        .collect();
    ingest(store, t.id, &s.name, ScanKind::Full, &[("x", files)]).await;
    let t0 = 1_000 * DAY;
    let req = |i: usize, action, expected, plan: Option<PlanInfo>, at| TransitionRequest {
        share: s.name.clone(),
        path_key: format!("/r/f{i}"),
        action,
        expected,
        stored: None,
        plan,
        at,
    };
    let plan = |i: usize| {
        Some(PlanInfo {
            rule: "cold".into(),
            target_uri: format!("file:///tier/f{i}"),
        })
    };
    // f0, f1: planned long ago; f2 stubbed then rehydrated; f3 stubbed then deleted; f4
    // stubbed; f5 planned in a job a worker is running.
    for i in 0..5 {
        store
            .transition(t.id, &req(i, Action::Plan, None, plan(i), t0))
            .await
            .unwrap();
    }
    for i in 2..5 {
        store
            .transition(
                t.id,
                &req(i, Action::Stub, Some((TierState::Planned, 1)), None, t0 + 1),
            )
            .await
            .unwrap();
    }
    store
        .transition(
            t.id,
            &req(
                2,
                Action::Rehydrate,
                Some((TierState::Stubbed, 2)),
                None,
                t0 + 2,
            ),
        )
        .await
        .unwrap();
    store
        .transition(
            t.id,
            &req(
                3,
                Action::Delete,
                Some((TierState::Stubbed, 2)),
                None,
                t0 + 2,
            ),
        )
        .await
        .unwrap();
    let job = PlanCommit {
        at: t0,
        jobs: vec![PlannedJobSpec {
            rule: "cold".into(),
            target: "file:///tier/".into(),
            priority: 1,
            estimate: Estimate::default(),
            files: vec![PlannedFile {
                share: s.name.clone(),
                path_key: "/r/f5".into(),
                target_uri: "file:///tier/f5".into(),
            }],
        }],
    };
    // The commit lists f5 only: it withdraws the plans of f0 and f1, so plan them again after.
    q.commit_plan(t.id, &job).await.unwrap();
    for i in 0..2 {
        store
            .transition(t.id, &req(i, Action::Plan, None, plan(i), t0))
            .await
            .unwrap();
    }
    let lease = q
        .claim_job(
            t.id,
            &ClaimRequest {
                worker: "w".into(),
                lease: 365 * DAY,
                now: t0 + 3,
            },
        )
        .await
        .unwrap()
        .unwrap();
    // Feed bookkeeping, applied at t0.
    let batch = EventBatch {
        parent: None,
        feed: "lucid".into(),
        events: vec![AccessEvent {
            id: "n/s/1".into(),
            at: t0 - 10,
            action: FeedAction::FileRead,
            path: "/r/f4".into(),
            target_path: None,
            user: None,
        }],
        cursors: Vec::new(),
        now: t0,
    };
    store
        .feeds()
        .apply_events(t.id, &s.name, &batch)
        .await
        .unwrap();

    let settings = TenantSettings::default()
        .with_planned_retention_days(30)
        .with_rehydrated_retention_days(Some(7))
        .with_deleted_retention_days(None)
        .with_job_retention_days(Some(0))
        .with_feed_staging_hours(24);
    let t = store.set_tenant_settings(t.id, &settings).await.unwrap();
    assert_eq!(t.settings, settings);
    assert_eq!(store.tenant(&t.name).await.unwrap().settings, settings);
    let unknown = store
        .set_tenant_settings(TenantId(i64::MAX), &settings)
        .await
        .unwrap_err();
    assert!(
        matches!(
            unknown.kind(),
            ErrorKind::NotFound | ErrorKind::PermissionDenied
        ),
        "{unknown}"
    );

    let state = async |i: usize| {
        store
            .tier_object(t.id, &s.name, &format!("/r/f{i}"))
            .await
            .ok()
            .map(|o| o.state)
    };
    let before: Vec<_> = {
        let mut v = Vec::new();
        for i in 0..6 {
            v.push(state(i).await);
        }
        v
    };
    let now = t0 + 40 * DAY;
    let dry = maintain(store, &t, now, true).await.unwrap();
    assert_eq!(
        (
            dry.planned_expired,
            dry.pruned.rehydrated,
            dry.pruned.deleted,
            dry.pruned.jobs,
            dry.pruned.feed_events
        ),
        (2, 1, 0, 0, 1),
        "{dry:?}"
    );
    assert_eq!(dry.event, None);
    for (i, b) in before.iter().enumerate() {
        assert_eq!(&state(i).await, b, "a dry sweep changed f{i}");
    }
    let done = maintain(store, &t, now, false).await.unwrap();
    assert_eq!(
        (
            done.planned_expired,
            done.pruned.rehydrated,
            done.pruned.deleted,
            done.pruned.jobs,
            done.pruned.feed_events
        ),
        (2, 1, 0, 0, 1),
        "{done:?}"
    );
    assert_eq!(state(0).await, None, "expired plan withdrawn");
    assert_eq!(state(1).await, None);
    assert_eq!(state(2).await, None, "old REHYDRATED record removed");
    assert_eq!(
        state(3).await,
        Some(TierState::Deleted),
        "DELETED kept (no setting)"
    );
    assert_eq!(
        state(4).await,
        Some(TierState::Stubbed),
        "STUBBED never touched"
    );
    assert_eq!(
        state(5).await,
        Some(TierState::Planned),
        "a running job's file kept"
    );
    let trail = store.audit(t.id, None, 10_000).await.unwrap().items;
    let sweep = trail.iter().find(|e| e.kind == "maintain.sweep").unwrap();
    assert_eq!(Some(sweep.id), done.event);
    assert_eq!(sweep.detail["planned_expired"], 2);
    assert_eq!(sweep.detail["rehydrated_pruned"], 1);
    assert_eq!(
        trail
            .iter()
            .filter(|e| e.kind == "tier.withdraw" && e.at == now)
            .count(),
        2
    );
    // The job finishes: a later sweep removes it (0 days), nothing else.
    q.finish_job(
        t.id,
        Fence {
            job: lease.job.id,
            token: lease.token,
        },
        &JobOutcome::Done {
            stubbed: 0,
            skipped: 0,
            failed: 1,
            bytes: 0,
        },
        now + 1,
    )
    .await
    .unwrap();
    let t = store
        .set_tenant_settings(t.id, &settings.clone().with_planned_retention_days(365))
        .await
        .unwrap();
    let again = maintain(store, &t, now + 2, false).await.unwrap();
    assert_eq!(
        (again.planned_expired, again.pruned.jobs),
        (0, 0),
        "the job still holds f5 (PLANNED, failed in a done job): kept"
    );
    // 0 days means expire now: f5's plan goes, and with it its job, in the same sweep.
    let t = store
        .set_tenant_settings(t.id, &settings.clone().with_planned_retention_days(0))
        .await
        .unwrap();
    let now_expired = maintain(store, &t, now + 3, false).await.unwrap();
    assert_eq!(
        (now_expired.planned_expired, now_expired.pruned.jobs),
        (1, 1),
        "{now_expired:?}"
    );
    assert_eq!(state(5).await, None);
    assert!(
        q.jobs(t.id, &JobQuery::default())
            .await
            .unwrap()
            .items
            .iter()
            .all(|j| j.id != lease.job.id)
    );
    let last = maintain(store, &t, now + 4, false).await.unwrap();
    assert_eq!(
        (
            last.planned_expired,
            last.pruned.jobs,
            last.pruned.rehydrated
        ),
        (0, 0, 0)
    );
    assert_eq!(state(4).await, Some(TierState::Stubbed));
}

/// An in-memory tier target for [`reconcile_with_the_store`]: objects with their bytes and the
/// time they were written; listed in key order, a page after the last key of the one before.
#[derive(Debug, Default)]
struct MemTarget {
    objects: std::sync::Mutex<std::collections::BTreeMap<String, (Vec<u8>, i64)>>,
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    format!("{:x}", sha2::Sha256::digest(bytes))
}

impl MemTarget {
    fn put_bytes(&self, key: &str, bytes: &[u8]) -> StoredObject {
        self.objects
            .lock()
            .unwrap()
            .insert(key.to_owned(), (bytes.to_vec(), crate::time::now_micros()));
        StoredObject {
            key: key.to_owned(),
            size: bytes.len() as u64,
            sha256: sha256_hex(bytes),
            etag: Some(format!("\"{}\"", &sha256_hex(bytes)[..8])),
            uid: 0,
            gid: 0,
            mode: 0o600,
            modified: 1_000_000,
        }
    }

    fn has(&self, key: &str) -> bool {
        self.objects.lock().unwrap().contains_key(key)
    }

    fn info(&self, key: &str) -> crate::Result<crate::driver::ObjectInfo> {
        let g = self.objects.lock().unwrap();
        let (b, at) = g
            .get(key)
            .ok_or_else(|| crate::Error::not_found(format!("no object {key:?}")))?;
        Ok(crate::driver::ObjectInfo {
            key: key.to_owned(),
            size: b.len() as u64,
            sha256: Some(sha256_hex(b)),
            etag: Some(format!("\"{}\"", &sha256_hex(b)[..8])),
            modified: Some(*at),
        })
    }
}

#[async_trait::async_trait]
impl crate::driver::TierTarget for MemTarget {
    fn uri(&self) -> &str {
        "mem://t/"
    }
    async fn put(&self, _: &str, _: std::fs::File) -> crate::Result<crate::driver::ObjectInfo> {
        Err(crate::Error::new(ErrorKind::Unsupported, "not here"))
    }
    async fn verify(&self, key: &str) -> crate::Result<crate::driver::ObjectInfo> {
        self.info(key).map(|i| crate::driver::ObjectInfo {
            modified: None,
            ..i
        })
    }
    async fn get(&self, _: &str, _: std::fs::File) -> crate::Result<crate::driver::ObjectInfo> {
        Err(crate::Error::new(ErrorKind::Unsupported, "not here"))
    }
    async fn list_page(
        &self,
        prefix: &str,
        token: Option<&str>,
        limit: usize,
    ) -> crate::Result<crate::driver::ObjectPage> {
        let keys: Vec<String> = {
            let g = self.objects.lock().unwrap();
            let p = format!("{}/", prefix.trim_end_matches('/'));
            g.keys()
                .filter(|k| prefix.is_empty() || k.starts_with(&p))
                .filter(|k| token.is_none_or(|t| k.as_str() > t))
                .take(limit.max(1) + 1)
                .cloned()
                .collect()
        };
        let mut objects = Vec::new();
        for k in keys.iter().take(limit.max(1)) {
            objects.push(self.info(k)?);
        }
        let next = (keys.len() > limit.max(1)).then(|| objects.last().unwrap().key.clone());
        Ok(crate::driver::ObjectPage { objects, next })
    }
    async fn delete(&self, key: &str) -> crate::Result<()> {
        match self.objects.lock().unwrap().remove(key) {
            Some(_) => Ok(()),
            None => Err(crate::Error::not_found(format!("no object {key:?}"))),
        }
    }
}

/// A stub driver that only "finds" the stubs it is given.
#[derive(Debug, Default)]
struct FoundStubs(Vec<crate::driver::FoundStub>);

#[async_trait::async_trait]
impl crate::driver::StubDriver for FoundStubs {
    fn name(&self) -> &'static str {
        "found"
    }
    async fn open(&self, _: &crate::driver::Located) -> crate::Result<crate::driver::Opened> {
        Err(crate::Error::new(ErrorKind::Unsupported, "not here"))
    }
    async fn stub(
        &self,
        _: crate::driver::Opened,
        _: &crate::driver::StubInfo,
        _: &crate::driver::Attributes,
    ) -> crate::Result<Vec<String>> {
        Err(crate::Error::new(ErrorKind::Unsupported, "not here"))
    }
    async fn stage_restore(
        &self,
        _: &crate::driver::Located,
    ) -> crate::Result<crate::driver::Staged> {
        Err(crate::Error::new(ErrorKind::Unsupported, "not here"))
    }
    async fn finish_restore(
        &self,
        _: crate::driver::Staged,
        _: &crate::driver::Attributes,
    ) -> crate::Result<Vec<String>> {
        Err(crate::Error::new(ErrorKind::Unsupported, "not here"))
    }
    async fn abort_restore(&self, _: crate::driver::Staged) -> crate::Result<()> {
        Ok(())
    }
    async fn find_stubs(
        &self,
        _: &std::path::Path,
        _: &[std::path::PathBuf],
    ) -> crate::Result<crate::driver::StubScan> {
        Ok(crate::driver::StubScan {
            stubs: self.0.clone(),
            directories: 1,
            files: self.0.len() as u64,
            problems: Vec::new(),
        })
    }
}

/// Reconciliation through the store: LOST flags written and cleared, orphans judged by the tier
/// ids the store gave the tenant (an earlier incarnation's and a withdrawn plan's objects go,
/// an id never the tenant's stays), stubs on disk the store does not know, and the trail.
pub async fn reconcile_with_the_store(store: &dyn Store) {
    use crate::reconcile::{OrphanAction, ReconcileOptions, reconcile};
    let (t, s) = tenant_with_share(store, ShareKind::Posix).await;
    store
        .set_share_root(t.id, &s.name, Some("/srv/share"))
        .await
        .unwrap();
    let paths = [
        "/srv/share/a",
        "/srv/share/b",
        "/srv/share/c",
        "/srv/share/e",
        "/srv/share/f",
    ];
    let files: Vec<FileEntry> = paths.iter().map(|p| entry(p, 5, None)).collect();
    ingest(store, t.id, &s.name, ScanKind::Full, &[("x", files)]).await;
    let target = std::sync::Arc::new(MemTarget::default());
    let opener = {
        let target = target.clone();
        move |uri: &str| -> crate::Result<std::sync::Arc<dyn crate::driver::TierTarget>> {
            assert_eq!(uri, "mem://t/");
            Ok(target.clone())
        }
    };
    let act = async |key: &str, action, expected, stored| -> Option<TierObject> {
        store
            .transition(
                t.id,
                &TransitionRequest {
                    share: s.name.clone(),
                    path_key: key.into(),
                    action,
                    expected,
                    stored,
                    plan: (action == Action::Plan).then(|| PlanInfo {
                        rule: "cold".into(),
                        target_uri: format!("mem://t/{}", crate::path::object_key(key).unwrap()),
                    }),
                    at: 10,
                },
            )
            .await
            .unwrap_or_else(|e| panic!("{action} {key}: {e}"))
    };
    // a, b, c stubbed.
    let mut objs = std::collections::BTreeMap::new();
    for p in &paths[..3] {
        let o = act(p, Action::Plan, None, None).await.unwrap();
        let key = crate::worker::object_key_of(&t.name, &o).unwrap();
        let stored = target.put_bytes(&key, format!("data of {p}").as_bytes());
        let o = act(p, Action::Stub, Some((o.state, o.version)), Some(stored))
            .await
            .unwrap();
        objs.insert(*p, o);
    }
    // b rehydrated and stubbed again: its first incarnation's object stays behind.
    let b = &objs["/srv/share/b"];
    let b1 = b.stored.clone().unwrap().key;
    let o = act(
        b.path_key.as_str(),
        Action::Rehydrate,
        Some((b.state, b.version)),
        None,
    )
    .await
    .unwrap();
    let o = act(&o.path_key, Action::Plan, Some((o.state, o.version)), None)
        .await
        .unwrap();
    let key = crate::worker::object_key_of(&t.name, &o).unwrap();
    let stored = target.put_bytes(&key, b"b again");
    let b = act(
        &o.path_key,
        Action::Stub,
        Some((o.state, o.version)),
        Some(stored),
    )
    .await
    .unwrap();
    // e uploaded, then its plan withdrawn.
    let e = act("/srv/share/e", Action::Plan, None, None).await.unwrap();
    let e_key = crate::worker::object_key_of(&t.name, &e).unwrap();
    target.put_bytes(&e_key, b"e");
    act(
        "/srv/share/e",
        Action::Withdraw,
        Some((e.state, e.version)),
        None,
    )
    .await;
    // f stubbed without a record of its object (as before the catalogue kept one): nothing to
    // compare it with, so it is not judged (its object is nowhere here).
    let f = act("/srv/share/f", Action::Plan, None, None).await.unwrap();
    act(
        "/srv/share/f",
        Action::Stub,
        Some((f.state, f.version)),
        None,
    )
    .await;
    // a's object lost; an object with an id never the tenant's.
    let a = objs["/srv/share/a"].clone();
    let a_stored = a.stored.clone().unwrap();
    crate::driver::TierTarget::delete(target.as_ref(), &a_stored.key)
        .await
        .unwrap();
    let foreign = format!("{}/{}/z.~{}.1", t.name, s.name, i64::MAX - 7);
    target.put_bytes(&foreign, b"?");
    // On disk: the stubs of b and c, and one the store does not know.
    let stub = |rel: &str| crate::driver::FoundStub {
        relative: rel.into(),
        info: Some(crate::driver::StubInfo {
            target_uri: format!("mem://t/{rel}"),
            size: 1,
            sha256: String::new(),
            modified: 0,
            accessed: None,
            tenant: t.name.clone(),
        }),
        size: 200,
        uid: 0,
    };
    let driver = FoundStubs(vec![stub("b"), stub("c"), stub("x")]);
    let opts = ReconcileOptions {
        now: crate::time::now_micros() + 8 * 86_400_000_000,
        apply: true,
        page_size: 1,
        ..Default::default()
    };
    let r = reconcile(store, &t, &opener, &driver, &opts).await.unwrap();
    assert_eq!((r.stubs_checked, r.stubs_unchecked), (3, 1), "{r:#?}");
    assert_eq!(
        r.lost
            .iter()
            .map(|l| (l.path_key.as_str(), l.reason, l.flagged))
            .collect::<Vec<_>>(),
        [("/srv/share/a", LostReason::Missing, true)]
    );
    let read = store
        .tier_object(t.id, &s.name, "/srv/share/a")
        .await
        .unwrap();
    assert_eq!(read.lost.map(|l| l.reason), Some(LostReason::Missing));
    assert_eq!(read.version, a.version);
    let mut orphans: Vec<(&str, OrphanAction)> = r
        .orphans
        .iter()
        .map(|o| (o.key.as_str(), o.action))
        .collect();
    orphans.sort();
    let mut want = vec![
        (b1.as_str(), OrphanAction::Deleted),
        (e_key.as_str(), OrphanAction::Deleted),
        (foreign.as_str(), OrphanAction::Kept),
    ];
    want.sort();
    assert_eq!(orphans, want, "{:#?}", r.orphans);
    assert_eq!(r.deleted, 2);
    assert!(!target.has(&b1) && !target.has(&e_key) && target.has(&foreign));
    assert!(
        target.has(&b.stored.unwrap().key),
        "the current stub's object stays"
    );
    assert_eq!(
        r.unknown_stubs
            .iter()
            .map(|u| u.path.as_str())
            .collect::<Vec<_>>(),
        ["/srv/share/x"]
    );
    let q = AuditQuery {
        parent: r.event,
        ..AuditQuery::default()
    };
    let mut kinds: Vec<String> = store
        .audit_query(t.id, &q)
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|e| e.kind)
        .collect();
    kinds.sort();
    assert_eq!(
        kinds,
        [
            "reconcile.lost",
            "reconcile.orphan",
            "reconcile.orphan",
            "reconcile.orphan",
            "reconcile.orphan_deleted",
            "reconcile.orphan_deleted",
            "reconcile.unknown_stub"
        ]
    );
    // a's object back as it was: the flag is cleared.
    target.put_bytes(&a_stored.key, b"data of /srv/share/a");
    let r = reconcile(store, &t, &opener, &driver, &opts).await.unwrap();
    assert_eq!(r.recovered.len(), 1, "{r:#?}");
    assert!(r.lost.is_empty());
    let read = store
        .tier_object(t.id, &s.name, "/srv/share/a")
        .await
        .unwrap();
    assert_eq!(read, a, "as it was before it was lost");
}
