//! Planning one ingest chunk: its path keys, the stored records of those keys, and the merge.
//!
//! The decision per file is [`alto_core::store::merge::merge`], the rule every store shares: a
//! file seen for the first time is new; a stored one takes the chunk's values where they differ,
//! last access never moves backwards, and a later duplicate within the chunk merges onto the
//! earlier sighting (keeping its classification). The one shortcut: a stored file that the chunk
//! has once, with every value equal, not missing and no newer access, is unchanged without
//! building its record ([`Stored::unchanged_by`]; a test checks it agrees with `merge`). On a
//! re-ingest that is nearly every file, and it then costs one index probe and a comparison.

use crate::error::{corrupt, db_in};
use crate::{codec, sql};
use alto_core::path::{KeyRule, share_key_into};
use alto_core::store::merge::{Change, merge};
use alto_core::{AccessSource, FileEntry, FileRecord, Result, TenantId};
use serde::Deserialize;
use sqlx::SqliteConnection;
use std::borrow::Cow;
use std::collections::HashMap;
use std::future::Future;
use std::task::Poll;

/// The chunk's path keys: one per entry, and the distinct ones in chunk order.
pub(crate) struct Keys {
    /// The key of each entry.
    all: Vec<String>,
    /// For each entry, the index of its distinct key.
    pub key_of: Vec<usize>,
    /// How many entries have each distinct key.
    count: Vec<u32>,
    /// The first entry of each distinct key.
    first: Vec<usize>,
}

impl Keys {
    /// The keys of `entries` on a share with this key rule; refuses sizes SQLite cannot hold.
    pub(crate) fn new(entries: &[FileEntry], rule: KeyRule) -> Result<Keys> {
        let all = entries
            .iter()
            .map(|e| {
                codec::size_in(e.size, &e.path)?;
                let mut k = String::with_capacity(e.path.len());
                share_key_into(rule, &e.path, &mut k);
                Ok(k)
            })
            .collect::<Result<Vec<String>>>()?;
        let n = all.len();
        let (mut key_of, mut count, mut first) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        let mut index: HashMap<&str, usize> = HashMap::with_capacity(n);
        for (at, k) in all.iter().enumerate() {
            let i = *index.entry(k.as_str()).or_insert_with(|| {
                count.push(0);
                first.push(at);
                first.len() - 1
            });
            count[i] += 1;
            key_of.push(i);
        }
        drop(index);
        Ok(Keys {
            all,
            key_of,
            count,
            first,
        })
    }

    /// Distinct keys.
    pub(crate) fn len(&self) -> usize {
        self.first.len()
    }

    /// The `i`th distinct key.
    pub(crate) fn key(&self, i: usize) -> &str {
        &self.all[self.first[i]]
    }
}

/// A stored record as [`sql::EXISTING`] returns it, borrowing from the JSON text.
#[derive(Debug, Deserialize)]
pub(crate) struct Stored<'a>(
    i64,
    usize,
    #[serde(borrow)] Cow<'a, str>,
    i64,
    Option<i64>,
    Option<i64>,
    #[serde(borrow)] Option<Cow<'a, str>>,
    #[serde(borrow)] Option<Cow<'a, str>>,
    #[serde(borrow)] Option<Cow<'a, str>>,
    #[serde(borrow)] Option<Cow<'a, str>>,
    #[serde(borrow)] Cow<'a, str>,
    Option<i64>,
    i64,
    Option<i64>,
);

impl Stored<'_> {
    /// True exactly when `merge` would call `e` unchanged against this record.
    pub(crate) fn unchanged_by(&self, e: &FileEntry) -> bool {
        let moved = e
            .accessed
            .is_some_and(|new| self.5.is_none_or(|old| new > old));
        self.13.is_none()
            && !moved
            && self.2 == e.path.as_str()
            && u64::try_from(self.3).ok() == Some(e.size)
            && self.4 == e.modified
            && self.6.as_deref() == e.extension.as_deref()
            && self.7.as_deref() == e.permissions.as_deref()
            && self.8.as_deref() == e.owner.as_deref()
            && self.9.as_deref() == e.hash.as_deref()
    }

    /// The record of `key`, as `merge` takes it (the share name and tier state play no part in
    /// merging).
    pub(crate) fn record(&self, key: &str) -> Result<FileRecord> {
        let s = |c: &Option<Cow<'_, str>>| c.as_deref().map(str::to_owned);
        let mut file = FileRecord::default();
        file.share = String::new();
        file.entry = FileEntry {
            path: self.2.to_string(),
            size: codec::size_out(self.3)?,
            modified: self.4,
            accessed: self.5,
            extension: s(&self.6),
            permissions: s(&self.7),
            owner: s(&self.8),
            hash: s(&self.9),
        };
        file.path_key = key.to_owned();
        file.accessed_source = codec::access_source(&self.10)?;
        file.atime_updated = self.11;
        file.first_seen_scan = self.12;
        file.last_seen_scan = 0;
        file.missing_since = self.13;
        file.state = None;
        Ok(file)
    }
}

/// One file of the chunk after merging.
pub(crate) enum Staged {
    /// Stored and seen again as it was: at most `last_seen_scan_id` moves.
    Unchanged(i64),
    /// Not stored and listed once: the record is this entry as it is ([`fresh`]), inserted
    /// straight from the chunk.
    Fresh(usize),
    /// Anything else: the merged record, with its id when stored, and what the first sighting did.
    Merged {
        id: Option<i64>,
        rec: Box<FileRecord>,
        change: Change,
    },
}

/// What `merge` adds to a first sighting of `entry`: the last-access source and when last access
/// was set.
pub(crate) fn fresh(entry: &FileEntry, now: i64) -> (AccessSource, Option<i64>) {
    (AccessSource::InitialScan, entry.accessed.map(|_| now))
}

/// Keys per lookup statement: the chunk's lookups run as a few statements so that this thread
/// sorts out one part's answer while SQLite probes the next.
const PART: usize = 8192;

/// What is known of one key before merging. One per key of a chunk, short-lived: boxing the
/// record would cost an allocation per stored file for no memory that matters.
#[allow(clippy::large_enum_variant)]
enum Found {
    /// Not stored.
    New,
    /// Stored, and the chunk's only entry for it is unchanged.
    Unchanged(i64),
    /// Stored; merge against this record.
    Stored(i64, FileRecord),
}

/// Merge the chunk into what is stored: one [`Staged`] per key, in key-index order.
pub(crate) async fn plan(
    tx: &mut SqliteConnection,
    tenant: TenantId,
    share_id: i64,
    keys: &Keys,
    entries: &[FileEntry],
    scan: i64,
    now: i64,
) -> Result<Vec<Staged>> {
    // Probing in key order walks the index front to back (inventories are rarely in key order).
    let mut sorted: Vec<(&str, usize)> = (0..keys.len()).map(|i| (keys.key(i), i)).collect();
    sorted.sort_unstable();
    let mut found: Vec<Found> = (0..keys.len()).map(|_| Found::New).collect();
    let mut parts = sorted.chunks(PART).peekable();
    let mut answer: Option<(String, &[(&str, usize)])> = None;
    while answer.is_some() || parts.peek().is_some() {
        let lookup = match parts.next() {
            Some(part) => {
                let list: Vec<&str> = part.iter().map(|(k, _)| *k).collect();
                let q = sqlx::query_scalar::<_, Option<String>>(sql::EXISTING)
                    .bind(tenant.0)
                    .bind(share_id)
                    .bind(serde_json::to_string(&list).map_err(|e| corrupt(e.to_string()))?);
                let mut running = Box::pin(q.fetch_one(&mut *tx));
                // The first poll hands the statement to SQLite's thread; sort out the previous
                // answer meanwhile.
                let first = std::future::poll_fn(|cx| Poll::Ready(running.as_mut().poll(cx))).await;
                if let Some((prev, part)) = answer.take() {
                    sort_out(&prev, part, keys, entries, &mut found)?;
                }
                let r = match first {
                    Poll::Ready(r) => r,
                    Poll::Pending => running.await,
                };
                Some((r, part))
            }
            None => None,
        };
        if let Some((prev, part)) = answer.take() {
            sort_out(&prev, part, keys, entries, &mut found)?;
        }
        if let Some((r, part)) = lookup {
            let json = r.map_err(db_in("cannot read the current file records"))?;
            answer = Some((json.unwrap_or_else(|| "[]".into()), part));
        }
    }
    // Merge in chunk order: a later duplicate merges onto the earlier sighting.
    let mut staged: Vec<Option<Staged>> = (0..keys.len()).map(|_| None).collect();
    for (at, (e, &i)) in entries.iter().zip(&keys.key_of).enumerate() {
        let once = keys.count[i] == 1;
        let next = match (
            staged[i].take(),
            std::mem::replace(&mut found[i], Found::New),
        ) {
            (None, Found::Unchanged(id)) => Staged::Unchanged(id),
            (None, Found::New) if once => Staged::Fresh(at),
            (None, found) => {
                let (id, old) = match found {
                    Found::Stored(id, rec) => (Some(id), Some(rec)),
                    _ => (None, None),
                };
                // The share name of a record is not stored per row; merge only copies it.
                let (rec, change) = merge(old.as_ref(), "", keys.key(i), e, scan, now);
                Staged::Merged {
                    id,
                    rec: Box::new(rec),
                    change,
                }
            }
            (Some(Staged::Merged { id, rec, change }), _) => {
                let (rec, _) = merge(Some(&rec), "", keys.key(i), e, scan, now);
                Staged::Merged {
                    id,
                    rec: Box::new(rec),
                    change,
                }
            }
            (Some(_), _) => return Err(corrupt("a key listed once was listed again")),
        };
        staged[i] = Some(next);
    }
    staged
        .into_iter()
        .map(|s| s.ok_or_else(|| corrupt("a key without an entry")))
        .collect()
}

/// Record what one lookup answer says about the keys of its part.
fn sort_out(
    json: &str,
    part: &[(&str, usize)],
    keys: &Keys,
    entries: &[FileEntry],
    found: &mut [Found],
) -> Result<()> {
    let stored: Vec<Stored<'_>> =
        serde_json::from_str(json).map_err(|e| corrupt(format!("current file records: {e}")))?;
    for s in &stored {
        let (key, i) = *part
            .get(s.1)
            .ok_or_else(|| corrupt("a record the chunk did not ask for"))?;
        found[i] = if keys.count[i] == 1 && s.unchanged_by(&entries[keys.first[i]]) {
            Found::Unchanged(s.0)
        } else {
            Found::Stored(s.0, s.record(key)?)
        };
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn stored(rec: &FileRecord) -> String {
        serde_json::json!([
            7,
            0,
            rec.entry.path,
            rec.entry.size,
            rec.entry.modified,
            rec.entry.accessed,
            rec.entry.extension,
            rec.entry.permissions,
            rec.entry.owner,
            rec.entry.hash,
            rec.accessed_source.as_str(),
            rec.atime_updated,
            rec.first_seen_scan,
            rec.missing_since
        ])
        .to_string()
    }

    fn small_opt<T: std::fmt::Debug + Clone>(
        v: impl Strategy<Value = T>,
    ) -> impl Strategy<Value = Option<T>> {
        prop_oneof![Just(None), v.prop_map(Some)]
    }

    fn entry() -> impl Strategy<Value = FileEntry> {
        (
            prop_oneof![Just("/a".to_string()), Just("/A".to_string())],
            0u64..3,
            small_opt(0i64..3),
            small_opt(0i64..3),
            small_opt(prop_oneof![Just("x".to_string()), Just("y".to_string())]),
            small_opt(Just("rw".to_string())),
            small_opt(Just("me".to_string())),
            small_opt(prop_oneof![Just("h1".to_string()), Just("h2".to_string())]),
        )
            .prop_map(
                |(path, size, modified, accessed, extension, permissions, owner, hash)| FileEntry {
                    path,
                    size,
                    modified,
                    accessed,
                    extension,
                    permissions,
                    owner,
                    hash,
                },
            )
    }

    proptest! {
        /// The shortcut and the rule agree on every pair of stored and scanned values.
        #[test]
        fn shortcut_agrees_with_merge(old in entry(), new in entry(), missing in any::<bool>()) {
            let (mut rec, _) = merge(None, "", "/a", &old, 1, 10);
            rec.missing_since = missing.then_some(5);
            let json = stored(&rec);
            let s: Stored<'_> = serde_json::from_str(&json).unwrap();
            prop_assert_eq!(s.record("/a").unwrap().entry, rec.entry.clone());
            let (_, change) = merge(Some(&rec), "", "/a", &new, 2, 20);
            prop_assert_eq!(s.unchanged_by(&new), change == Change::Unchanged);
        }
    }

    proptest! {
        /// A fresh file's record is exactly what `merge` makes of a first sighting.
        #[test]
        fn fresh_is_a_first_merge(e in entry()) {
            let (rec, change) = merge(None, "", "/a", &e, 3, 99);
            prop_assert_eq!(change, Change::New);
            prop_assert_eq!(rec.entry, e.clone());
            prop_assert_eq!((rec.accessed_source, rec.atime_updated), fresh(&e, 99));
            prop_assert_eq!((rec.first_seen_scan, rec.last_seen_scan, rec.missing_since), (3, 3, None));
        }
    }

    #[test]
    fn keys_count_duplicates_once_each() {
        let e = |p: &str| FileEntry {
            path: p.into(),
            ..Default::default()
        };
        let k = Keys::new(
            &[e(r"C:\A"), e("c:/a"), e("c:/b")],
            alto_core::path::KeyRule::new(alto_core::ShareKind::Ntfs, false),
        )
        .unwrap();
        assert_eq!((k.len(), k.key(0), k.key(1)), (2, "c:/a", "c:/b"));
        assert_eq!(k.key_of, [0, 0, 1]);
        assert_eq!(k.count, [2, 1]);
    }
}
