//! Ingest: stream an inventory into a store in idempotent chunks.
//!
//! Rows are read in file order and cut into chunks of a fixed number of rows. A chunk's id is the
//! range of rows it holds (`first+count`, counting rejected rows too), so the same rows always get
//! the same id, and a rerun with another chunk size applies its chunks again instead of skipping
//! rows that never landed (applying a chunk again changes nothing). The scan is keyed by the
//! input's identity ([`source_identity`]): re-running an interrupted ingest of the same file
//! resumes the unfinished scan and skips the chunks that already landed, so a crash at any point
//! loses and doubles nothing. Bad rows are handed to the caller and skipped; good rows land.
//!
//! A full scan with rejected rows marks nothing missing: it is left unfinished
//! ([`IngestReport::left_open`]), since a row that could not be read is not a file that is gone.
//! The report says how many files it would have marked ([`IngestReport::would_be_missing`]);
//! [`IngestOptions::missing_despite_rejects`] finishes it anyway.
//!
//! While one chunk applies, the next is read and staged ([`Store::stage_chunk`]); chunks still
//! apply one after the other, in order. Two chunks are in memory at a time, whatever the input's
//! size.

use crate::error::{Error, Result};
use crate::inventory::{InventorySource, Item, Progress, Rejection};
use crate::store::{ChunkApply, IngestChunk, ScanKind, ScanSpec, Store};
use crate::types::{NewAuditEvent, TenantId};
use serde::Serialize;
use std::io::Read;
use std::path::Path;

/// Rows per chunk unless the store or the caller says otherwise ([`Store::ingest_chunk_rows`]).
pub const DEFAULT_CHUNK_ROWS: usize = 50_000;

/// How to ingest.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// Full scans mark the share's unseen files missing at the end.
    pub kind: ScanKind,
    /// Rows (accepted or rejected) per chunk; `None` (the default): the store's
    /// [`Store::ingest_chunk_rows`]. A chunk is one transaction, and the driver holds two in
    /// memory (one applying, one staged).
    pub chunk_rows: Option<usize>,
    /// The input's identity for resuming (see [`source_identity`]); `None`: never resume.
    pub source: Option<String>,
    /// Put in front of relative paths to make them absolute (object-store inventories list
    /// relative keys). Without it a relative path is rejected.
    pub path_prefix: Option<String>,
    /// Finish a full scan (marking unseen files missing) even when rows were rejected. Off by
    /// default: a rejected row may be a file that still exists.
    pub missing_despite_rejects: bool,
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            kind: ScanKind::Partial,
            chunk_rows: None,
            source: None,
            path_prefix: None,
            missing_despite_rejects: false,
        }
    }
}

/// What an ingest did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct IngestReport {
    /// The scan.
    pub scan: i64,
    /// Whether an interrupted scan of the same input was resumed.
    pub resumed: bool,
    /// Rows accepted by the reader.
    pub accepted: u64,
    /// Rows rejected by the reader.
    pub rejected: u64,
    /// Files seen for the first time.
    pub new: u64,
    /// Files that changed.
    pub changed: u64,
    /// Files seen again unchanged.
    pub unchanged: u64,
    /// Files marked missing by a full scan.
    pub missing: u64,
    /// Files a full scan left open ([`IngestReport::left_open`]) would have marked missing.
    pub would_be_missing: u64,
    /// Chunks applied now.
    pub chunks_applied: u64,
    /// Chunks skipped because an earlier run applied them.
    pub chunks_skipped: u64,
    /// Folder rows (a path ending in a separator, or the preset's folder marker): skipped, not
    /// files.
    pub folders: u64,
    /// Rows that are not current files (an S3 inventory's older versions and delete markers).
    pub skipped: u64,
    /// A full scan with rejected rows is left unfinished: it marks nothing missing (a row that
    /// could not be read is not a file that is gone). Fix the rows and ingest again.
    pub left_open: bool,
}

/// What a share allows of the paths an inventory lists: see [`check_path`].
#[derive(Debug, Clone, Default)]
pub struct PathRules {
    /// The share's root: every path must lie beneath it.
    pub root: Option<String>,
    /// Whether `\` separates too (NTFS and SMB shares, drive-letter and UNC paths).
    pub windows: bool,
    /// Put in front of relative paths.
    pub prefix: Option<String>,
}

/// What to do with one inventory path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathVerdict {
    /// Keep it (with the prefix applied when it was relative).
    Keep(Option<String>),
    /// A folder row: skip it.
    Folder,
    /// Refuse the row, for this reason.
    Reject(String),
}

/// Decide on one inventory path: a folder row (ending in a separator) is skipped; a path with a
/// `..` segment is refused; a relative path is refused unless a prefix makes it absolute; with a
/// share root, a path outside it is refused. Workers check all of this again.
pub fn check_path(rules: &PathRules, path: &str) -> PathVerdict {
    let windows = rules.windows || crate::path::is_windows_path(path);
    if path.ends_with('/') || (windows && path.ends_with('\\')) {
        return PathVerdict::Folder;
    }
    let segs = |p: &str| -> bool {
        if windows {
            p.split(['/', '\\']).any(|s| s == "..")
        } else {
            p.split('/').any(|s| s == "..")
        }
    };
    if segs(path) {
        return PathVerdict::Reject(format!("path {path:?} has a `..` segment"));
    }
    // `s3://bucket/key` and `az://container/name` name objects, not local files: absolute.
    let url = crate::path::is_url_path(path);
    let absolute = path.starts_with('/') || crate::path::is_windows_path(path) || url;
    let full = if absolute {
        None
    } else {
        match &rules.prefix {
            Some(p) => Some(if p.ends_with('/') || p.ends_with('\\') {
                format!("{p}{path}")
            } else {
                format!("{p}/{path}")
            }),
            None => {
                return PathVerdict::Reject(format!(
                    "path {path:?} is relative: give a prefix that makes it absolute (--path-prefix)"
                ));
            }
        }
    };
    if let Some(root) = &rules.root {
        let p = full.as_deref().unwrap_or(path);
        if url || crate::path::is_url_path(p) {
            // An object path lies beneath a root only when the root is its bucket or container
            // (or a prefix within it) on a segment boundary.
            let r = root.trim_end_matches('/');
            let beneath =
                p.len() > r.len() + 1 && p.starts_with(r) && p.as_bytes()[r.len()] == b'/';
            if !beneath {
                return PathVerdict::Reject(format!(
                    "path {p:?} is not beneath the share root {root:?}"
                ));
            }
        } else if !windows {
            if let Err(e) = crate::path::components_beneath(root, p) {
                return PathVerdict::Reject(e.message().to_owned());
            }
        }
    }
    PathVerdict::Keep(full)
}

/// The next chunk of `src`: `chunk_rows` rows, accepted or rejected (rejected ones go to
/// `on_reject`), or fewer at the end; `None` when nothing is left.
/// Rows the driver itself refused or skipped (beyond the reader's own counts).
#[derive(Debug, Default)]
struct Refused {
    rejected: u64,
    folders: u64,
}

fn read_chunk(
    src: &mut dyn InventorySource,
    chunk_rows: usize,
    first_row: &mut u64,
    rules: &PathRules,
    refused: &mut Refused,
    on_reject: &mut impl FnMut(&Rejection),
) -> Result<Option<IngestChunk>> {
    let mut entries = Vec::with_capacity(chunk_rows.min(1 << 16));
    let mut rows = 0usize;
    while rows < chunk_rows {
        let verdict = match src.next_item()? {
            Some(Item::Row(r)) => match check_path(rules, r.path) {
                PathVerdict::Keep(full) => {
                    let mut e = r.to_entry();
                    if let Some(f) = full {
                        e.path = f;
                    }
                    entries.push(e);
                    None
                }
                PathVerdict::Folder => {
                    refused.folders += 1;
                    None
                }
                PathVerdict::Reject(reason) => Some((r.line, reason)),
            },
            Some(Item::Rejected(r)) => {
                on_reject(&r);
                None
            }
            None => break,
        };
        if let Some((line, reason)) = verdict {
            refused.rejected += 1;
            on_reject(&Rejection {
                source: src.source().to_owned(),
                line,
                column: Some("file_path"),
                reason,
            });
        }
        rows += 1;
    }
    if rows == 0 {
        return Ok(None);
    }
    let chunk = IngestChunk {
        id: format!("{first_row}+{rows}"),
        entries,
    };
    *first_row += rows as u64;
    Ok(Some(chunk))
}

/// A stable identity of an inventory file: its name, size, and a hash of its first MiB. Two runs
/// over the same unchanged file agree; a re-exported inventory does not.
pub fn source_identity(path: &Path) -> Result<String> {
    let mut f = std::fs::File::open(path)
        .map_err(|e| Error::from(e).prefixed(&format!("cannot open {}", path.display())))?;
    let len = f.metadata()?.len();
    let mut head = Vec::with_capacity(1 << 20);
    f.by_ref().take(1 << 20).read_to_end(&mut head)?;
    let name = path
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    Ok(format!(
        "{name}:{len}:{:016x}",
        crate::path::dir_hash64_bytes(&head)
    ))
}

/// Ingest everything `src` yields into `share` of `tenant`.
///
/// `on_reject` sees each rejected row; `on_progress` is called after each chunk.
pub async fn ingest(
    store: &dyn Store,
    tenant: TenantId,
    share: &str,
    src: &mut dyn InventorySource,
    opts: &IngestOptions,
    mut on_reject: impl FnMut(&Rejection),
    mut on_progress: impl FnMut(&IngestReport, Progress),
) -> Result<IngestReport> {
    let chunk_rows = opts.chunk_rows.unwrap_or_else(|| store.ingest_chunk_rows());
    if chunk_rows == 0 {
        return Err(Error::invalid_input("chunk size must be at least 1 row"));
    }
    let spec = ScanSpec {
        share: share.to_owned(),
        kind: opts.kind,
        source: opts.source.clone(),
    };
    let share_rec = store
        .shares(tenant)
        .await?
        .into_iter()
        .find(|s| s.name == share)
        .ok_or_else(|| Error::not_found(format!("share {share:?} does not exist")))?;
    let rules = PathRules {
        root: share_rec.root.clone(),
        windows: matches!(
            share_rec.kind,
            crate::types::ShareKind::Ntfs | crate::types::ShareKind::Smb
        ),
        prefix: opts.path_prefix.clone(),
    };
    let mut refused = Refused::default();
    let scan = store.begin_scan(tenant, &spec).await?;
    // The trail: the scan, each chunk under it (with its counts), and the outcome under it.
    let scan_event = store
        .append_audit(
            tenant,
            &NewAuditEvent {
                kind: "ingest.scan".into(),
                subject: scan.id.to_string(),
                detail: serde_json::json!({
                    "share": share,
                    "kind": format!("{:?}", opts.kind).to_lowercase(),
                    "source": opts.source,
                    "resumed": scan.resumed,
                }),
                parent: None,
            },
        )
        .await?
        .id;
    let mut report = IngestReport {
        scan: scan.id,
        resumed: scan.resumed,
        ..Default::default()
    };
    let mut first_row: u64 = 0;
    // Chunk n applies while chunk n + 1 is read and staged (`Store::stage_chunk`); chunk n + 1
    // applies only once chunk n has.
    let mut applying: Option<ChunkApply<'_>> = None;
    loop {
        let next = async {
            match read_chunk(
                src,
                chunk_rows,
                &mut first_row,
                &rules,
                &mut refused,
                &mut on_reject,
            )? {
                Some(chunk) => Ok(Some(store.stage_chunk(tenant, scan.id, chunk).await?)),
                None => Ok::<_, Error>(None),
            }
        };
        let (applied, next) = match applying.take() {
            Some(apply) => {
                let (a, n) = futures::future::join(apply, next).await;
                (Some(a), n)
            }
            None => (None, next.await),
        };
        if let Some(out) = applied {
            let out = out?;
            store
                .append_audit(
                    tenant,
                    &NewAuditEvent {
                        kind: "ingest.chunk".into(),
                        subject: scan.id.to_string(),
                        detail: serde_json::json!({
                            "chunk": report.chunks_applied + report.chunks_skipped,
                            // A chunk a resumed scan had already applied is skipped.
                            "applied": out.applied,
                            "new": out.new,
                            "changed": out.changed,
                            "unchanged": out.unchanged,
                        }),
                        parent: Some(scan_event),
                    },
                )
                .await?;
            if out.applied {
                report.chunks_applied += 1;
                report.new += out.new;
                report.changed += out.changed;
                report.unchanged += out.unchanged;
            } else {
                report.chunks_skipped += 1;
            }
            let stats = src.stats();
            report.accepted = stats.accepted - refused.rejected - refused.folders;
            report.rejected = stats.rejected + refused.rejected;
            report.folders = stats.folders + refused.folders;
            report.skipped = stats.skipped;
            on_progress(&report, src.progress());
        }
        match next? {
            Some(apply) => applying = Some(apply),
            None => break,
        }
    }
    let stats = src.stats();
    report.accepted = stats.accepted - refused.rejected - refused.folders;
    report.rejected = stats.rejected + refused.rejected;
    report.folders = stats.folders + refused.folders;
    report.skipped = stats.skipped;
    if opts.kind == ScanKind::Full && report.rejected > 0 && !opts.missing_despite_rejects {
        report.left_open = true;
        report.would_be_missing = store.count_unseen(tenant, scan.id).await?;
    } else {
        report.missing = store.finish_scan(tenant, scan.id).await?.missing;
    }
    crate::telemetry::ingest_rows(report.accepted, report.rejected, report.folders);
    store
        .append_audit(
            tenant,
            &NewAuditEvent {
                kind: "ingest.finish".into(),
                subject: scan.id.to_string(),
                detail: serde_json::json!({
                    "accepted": report.accepted,
                    "rejected": report.rejected,
                    "folders": report.folders,
                    "new": report.new,
                    "changed": report.changed,
                    "unchanged": report.unchanged,
                    "missing": report.missing,
                    "left_open": report.left_open,
                    "would_be_missing": report.would_be_missing,
                    "chunks_applied": report.chunks_applied,
                    "chunks_skipped": report.chunks_skipped,
                }),
                parent: Some(scan_event),
            },
        )
        .await?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::{PathRules, PathVerdict, check_path};

    fn rules(root: Option<&str>, windows: bool, prefix: Option<&str>) -> PathRules {
        PathRules {
            root: root.map(str::to_owned),
            windows,
            prefix: prefix.map(str::to_owned),
        }
    }

    #[test]
    fn paths_against_a_share() {
        let posix = rules(Some("/srv/data"), false, None);
        assert_eq!(check_path(&posix, "/srv/data/a/b"), PathVerdict::Keep(None));
        assert_eq!(
            check_path(&posix, "/srv/data/a\\b"),
            PathVerdict::Keep(None)
        );
        assert_eq!(check_path(&posix, "/srv/data/dir/"), PathVerdict::Folder);
        for bad in [
            "/etc/shadow",
            "/srv/database/x",
            "/srv/data/../etc/shadow",
            "relative/x",
            "/srv/data",
        ] {
            assert!(
                matches!(check_path(&posix, bad), PathVerdict::Reject(_)),
                "{bad}"
            );
        }
        // A POSIX `\` is an ordinary character: a trailing one is not a folder.
        assert_eq!(check_path(&posix, "/srv/data/x\\"), PathVerdict::Keep(None));
        // On Windows shares both separators count.
        let win = rules(None, true, None);
        assert_eq!(check_path(&win, "C:\\Data\\dir\\"), PathVerdict::Folder);
        assert!(matches!(
            check_path(&win, "C:\\Data\\..\\Windows\\x"),
            PathVerdict::Reject(_)
        ));
        // A prefix makes relative keys absolute, and they are checked after.
        let s3 = rules(Some("/mnt/bucket"), false, Some("/mnt/bucket"));
        assert_eq!(
            check_path(&s3, "photos/a.jpg"),
            PathVerdict::Keep(Some("/mnt/bucket/photos/a.jpg".into()))
        );
        assert!(matches!(check_path(&s3, "../x"), PathVerdict::Reject(_)));
        // Object paths are absolute; under a root they must lie in its bucket or container.
        let none = rules(None, false, None);
        assert_eq!(check_path(&none, "s3://b/k/x.jpg"), PathVerdict::Keep(None));
        assert_eq!(check_path(&none, "az://c/n.txt"), PathVerdict::Keep(None));
        let bucket = rules(Some("s3://b"), false, None);
        assert_eq!(check_path(&bucket, "s3://b/k"), PathVerdict::Keep(None));
        for bad in ["s3://bx/k", "s3://other/k", "s3://b", "s3://b/../x"] {
            assert!(
                matches!(check_path(&bucket, bad), PathVerdict::Reject(_)),
                "{bad}"
            );
        }
        // No root: only `..`, relative paths and folders are decided.
        let none = rules(None, false, None);
        assert_eq!(check_path(&none, "/anywhere/x"), PathVerdict::Keep(None));
        assert!(matches!(check_path(&none, "x"), PathVerdict::Reject(_)));
    }
}

#[cfg(test)]
mod full_scan_tests {
    use super::{IngestOptions, ingest};
    use crate::MemoryStore;
    use crate::inventory::open;
    use crate::store::{ScanKind, ShareSpec, Store};
    use crate::types::{ShareKind, TenantSettings};

    fn csv(rows: &[&str]) -> Vec<u8> {
        let mut s = String::from("file_path,file_size,last_modified\n");
        for r in rows {
            s.push_str(r);
            s.push('\n');
        }
        s.into_bytes()
    }

    #[tokio::test]
    async fn a_full_scan_with_rejected_rows_marks_nothing_missing() {
        let store = MemoryStore::new();
        let t = store
            .create_tenant("acme", &TenantSettings::default())
            .await
            .unwrap();
        store
            .ensure_share(
                t.id,
                &ShareSpec::new("s", ShareKind::Posix).with_root("/srv"),
            )
            .await
            .unwrap();
        let full = IngestOptions {
            kind: ScanKind::Full,
            ..IngestOptions::default()
        };
        let dir = tempfile::tempdir().unwrap();
        let (one, two) = (dir.path().join("one.csv"), dir.path().join("two.csv"));
        std::fs::write(
            &one,
            csv(&[
                "/srv/a,1,2024-01-01T00:00:00Z",
                "/srv/b,1,2024-01-01T00:00:00Z",
            ]),
        )
        .unwrap();
        let mut src = open(&one, &Default::default()).unwrap();
        let r = ingest(&store, t.id, "s", src.as_mut(), &full, |_| {}, |_, _| {})
            .await
            .unwrap();
        assert_eq!((r.new, r.missing, r.left_open), (2, 0, false));
        // Every row of the next export is refused (outside the root, relative): nothing known
        // goes missing.
        std::fs::write(
            &two,
            csv(&[
                "/etc/shadow,1,2024-01-01T00:00:00Z",
                "srv/a,1,2024-01-01T00:00:00Z",
            ]),
        )
        .unwrap();
        let mut rejected = Vec::new();
        let mut src = open(&two, &Default::default()).unwrap();
        let r = ingest(
            &store,
            t.id,
            "s",
            src.as_mut(),
            &full,
            |r| rejected.push(r.to_string()),
            |_, _| {},
        )
        .await
        .unwrap();
        assert_eq!(
            (r.accepted, r.rejected, r.missing, r.left_open),
            (0, 2, 0, true)
        );
        assert!(
            rejected[0].contains("two.csv:2: column file_path: "),
            "{rejected:?}"
        );
        assert!(
            rejected[0].contains("not beneath the share root"),
            "{rejected:?}"
        );
        assert!(rejected[1].contains("two.csv:3: "), "{rejected:?}");
        assert!(rejected[1].contains("relative"), "{rejected:?}");
        let files = store.files(t.id, &Default::default()).await.unwrap().items;
        assert!(files.iter().all(|f| f.missing_since.is_none()), "{files:?}");
    }
}
