//! How a scanned file changes the current record: the rule every backend implements.
//!
//! The memory store calls [`merge`] directly; the SQL backends express the same rule set-based
//! (one `INSERT … ON CONFLICT` per chunk) and the conformance suite checks they agree.

use crate::time::Micros;
use crate::types::{AccessSource, FileEntry, FileRecord};

/// What a merge did to one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// First time seen.
    New,
    /// Something differed (or the file was missing and is back).
    Changed,
    /// Seen again exactly as it was.
    Unchanged,
}

/// Merge a scanned `entry` into the `existing` record of the same key (if any).
///
/// - A new file's last access comes from the initial scan.
/// - An existing file takes the scan's size, times and attributes where they differ, except that
///   last accessed never moves backwards; when it moves forward its source becomes
///   `incremental_scan` and `atime_updated` is `now`.
/// - Seeing a file clears `missing_since` and sets `last_seen_scan`.
pub fn merge(
    existing: Option<&FileRecord>,
    share: &str,
    path_key: &str,
    entry: &FileEntry,
    scan: i64,
    now: Micros,
) -> (FileRecord, Change) {
    let Some(old) = existing else {
        let rec = FileRecord {
            share: share.to_owned(),
            entry: entry.clone(),
            path_key: path_key.to_owned(),
            accessed_source: AccessSource::InitialScan,
            atime_updated: entry.accessed.map(|_| now),
            first_seen_scan: scan,
            last_seen_scan: scan,
            missing_since: None,
            state: None,
            lost: None,
        };
        return (rec, Change::New);
    };
    let mut rec = old.clone();
    rec.last_seen_scan = scan;
    let mut changed = rec.missing_since.take().is_some();
    let e = &mut rec.entry;
    macro_rules! take {
        ($field:ident) => {
            if e.$field != entry.$field {
                e.$field = entry.$field.clone();
                changed = true;
            }
        };
    }
    take!(path);
    take!(size);
    take!(modified);
    take!(extension);
    take!(permissions);
    take!(owner);
    take!(hash);
    if let Some(new) = entry.accessed {
        if e.accessed.is_none_or(|old| new > old) {
            e.accessed = Some(new);
            rec.accessed_source = AccessSource::IncrementalScan;
            rec.atime_updated = Some(now);
            changed = true;
        }
    }
    let change = if changed {
        Change::Changed
    } else {
        Change::Unchanged
    };
    (rec, change)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(size: u64, accessed: Option<i64>) -> FileEntry {
        FileEntry {
            path: "/a".into(),
            size,
            accessed,
            ..Default::default()
        }
    }

    #[test]
    fn new_then_unchanged_then_changed() {
        let (r, c) = merge(None, "s", "/a", &entry(1, Some(10)), 1, 100);
        assert_eq!(c, Change::New);
        assert_eq!(r.accessed_source, AccessSource::InitialScan);
        let (r2, c) = merge(Some(&r), "s", "/a", &entry(1, Some(10)), 2, 200);
        assert_eq!(c, Change::Unchanged);
        assert_eq!(r2.last_seen_scan, 2);
        assert_eq!(r2.atime_updated, Some(100));
        let (r3, c) = merge(Some(&r2), "s", "/a", &entry(2, Some(10)), 3, 300);
        assert_eq!(c, Change::Changed);
        assert_eq!(r3.entry.size, 2);
    }

    #[test]
    fn access_never_moves_back() {
        let (r, _) = merge(None, "s", "/a", &entry(1, Some(50)), 1, 100);
        let (r2, c) = merge(Some(&r), "s", "/a", &entry(1, Some(40)), 2, 200);
        assert_eq!(c, Change::Unchanged);
        assert_eq!(r2.entry.accessed, Some(50));
        let (r3, c) = merge(Some(&r2), "s", "/a", &entry(1, Some(60)), 3, 300);
        assert_eq!(c, Change::Changed);
        assert_eq!(r3.entry.accessed, Some(60));
        assert_eq!(r3.accessed_source, AccessSource::IncrementalScan);
        assert_eq!(r3.atime_updated, Some(300));
        let (r4, _) = merge(Some(&r3), "s", "/a", &entry(1, None), 4, 400);
        assert_eq!(r4.entry.accessed, Some(60));
    }

    #[test]
    fn missing_file_back_is_a_change() {
        let (mut r, _) = merge(None, "s", "/a", &entry(1, None), 1, 100);
        r.missing_since = Some(150);
        let (r2, c) = merge(Some(&r), "s", "/a", &entry(1, None), 2, 200);
        assert_eq!(c, Change::Changed);
        assert_eq!(r2.missing_since, None);
    }
}
