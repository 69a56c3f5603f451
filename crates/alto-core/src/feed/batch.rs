//! Access-event batches pushed by agents, in the seeds' JSON format (workflow document §3):
//!
//! ```json
//! {"update_batch_id": "b-1", "volume_id": "v-1", "source_type": "lucidlink_audit",
//!  "collected_at": "2025-11-03T01:20:00Z",
//!  "updates": [{"file_path": "C:\\LucidVolume\\Data\\report.pdf",
//!               "last_accessed": "2025-11-02T18:45:23Z", "access_type": "read"}]}
//! ```
//!
//! The batch id makes a batch idempotent: update `i` of batch `b` has the event id `b/i`.

use super::{AccessEvent, FeedAction};
use crate::error::{Error, Result};
use crate::time::parse_timestamp;
use serde::Deserialize;

#[derive(Deserialize)]
struct RawBatch {
    update_batch_id: Option<String>,
    volume_id: Option<String>,
    updates: Option<Vec<serde_json::Value>>,
}

/// A parsed batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    /// `update_batch_id`.
    pub id: String,
    /// `volume_id`, when given.
    pub volume: Option<String>,
    /// The good updates, in order.
    pub events: Vec<AccessEvent>,
    /// Updates that were not usable: (index in `updates`, reason).
    pub malformed: Vec<(usize, String)>,
}

/// Parse a batch. A batch without an id or an `updates` list is refused whole; a bad update is
/// reported in `malformed` and skipped.
pub fn parse_batch(text: &str, source: &str) -> Result<Batch> {
    let raw: RawBatch = serde_json::from_str(text)
        .map_err(|e| Error::invalid_input(format!("{source}: not an access-event batch: {e}")))?;
    let id = raw
        .update_batch_id
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| Error::invalid_input(format!("{source}: no update_batch_id")))?;
    if id.contains('\0') {
        // Every event's id would carry it: the batch as a whole is unusable.
        return Err(Error::invalid_input(format!(
            "{source}: update_batch_id contains a NUL byte"
        )));
    }
    let updates = raw
        .updates
        .ok_or_else(|| Error::invalid_input(format!("{source}: no updates list")))?;
    let mut events = Vec::with_capacity(updates.len());
    let mut malformed = Vec::new();
    for (i, u) in updates.iter().enumerate() {
        match update(u, &id, i) {
            Ok(ev) => events.push(ev),
            Err(reason) => malformed.push((i, reason)),
        }
    }
    Ok(Batch {
        id,
        volume: raw.volume_id,
        events,
        malformed,
    })
}

fn update(u: &serde_json::Value, batch: &str, i: usize) -> Result<AccessEvent, String> {
    let text = |k: &str| u.get(k).and_then(|v| v.as_str());
    let path = text("file_path")
        .filter(|p| !p.is_empty())
        .ok_or("no file_path")?;
    let at = match u.get("last_accessed") {
        Some(serde_json::Value::String(s)) => parse_timestamp(s)?,
        Some(serde_json::Value::Number(n)) => n
            .as_i64()
            .map(super::lucid::timestamp_from_int)
            .ok_or_else(|| format!("bad last_accessed {n}"))?,
        _ => return Err("no last_accessed".into()),
    };
    let action = match text("access_type") {
        None => FeedAction::FileRead,
        Some(a) => FeedAction::parse(a).ok_or_else(|| format!("unknown access_type {a:?}"))?,
    };
    super::check_event_path("file_path", path)?;
    if let Some(t) = text("target_path") {
        super::check_event_path("target_path", t)?;
    }
    let ev = AccessEvent {
        id: format!("{batch}/{i}"),
        at,
        action,
        path: path.to_owned(),
        target_path: text("target_path").map(str::to_owned),
        user: text("user").map(str::to_owned),
    };
    super::check_event(&ev)?;
    Ok(ev)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_example() {
        let b = parse_batch(
            r#"{"update_batch_id":"b-1","customer_id":"c","volume_id":"v","source_type":"lucidlink_audit",
                "collected_at":"2025-11-03T01:20:00Z","updates":[
                {"file_path":"C:\\LucidVolume\\Data\\docs\\report.pdf","last_accessed":"2025-11-02T18:45:23Z","access_type":"read","audit_file":".lucid_audit\\x.active"},
                {"file_path":"","last_accessed":"2025-11-02T18:45:23Z"},
                {"file_path":"/b","last_accessed":"soon"},
                {"file_path":"/c","last_accessed":1762108800}]}"#,
            "batch.json",
        )
        .unwrap();
        assert_eq!(b.id, "b-1");
        assert_eq!(b.events.len(), 2);
        assert_eq!(b.events[0].path, r"C:\LucidVolume\Data\docs\report.pdf");
        assert_eq!(b.events[0].id, "b-1/0");
        assert_eq!(b.events[1].id, "b-1/3");
        assert_eq!(b.events[1].at, 1_762_108_800_000_000);
        assert_eq!(b.malformed.iter().map(|m| m.0).collect::<Vec<_>>(), [1, 2]);
    }

    #[test]
    fn updates_no_store_could_hold_are_malformed_alone() {
        let long = format!("/{}", "x".repeat(crate::inventory::MAX_PATH_BYTES));
        let text = format!(
            r#"{{"update_batch_id":"b","updates":[
                {{"file_path":"/nul\u0000","last_accessed":1}},
                {{"file_path":"/a","target_path":"/b\u0000","access_type":"move","last_accessed":1}},
                {{"file_path":"{long}","last_accessed":1}},
                {{"file_path":"/a","last_accessed":-99999999999}},
                {{"file_path":"/a","last_accessed":1,"user":"x\u0000"}},
                {{"file_path":"/new\nline\ttab","last_accessed":1}}]}}"#
        );
        let b = parse_batch(&text, "b.json").unwrap();
        assert_eq!(b.events.len(), 1);
        assert_eq!(b.events[0].path, "/new\nline\ttab");
        let why: Vec<_> = b.malformed.iter().map(|m| (m.0, m.1.as_str())).collect();
        for (i, want) in [
            "file_path contains a NUL",
            "target_path contains a NUL",
            "limit is",
            "years 1 to 9999",
            "user contains a NUL",
        ]
        .iter()
        .enumerate()
        {
            assert_eq!(why[i].0, i);
            assert!(why[i].1.contains(want), "{want}: {why:?}");
        }
        let e = parse_batch(r#"{"update_batch_id":"b\u0000","updates":[]}"#, "n.json").unwrap_err();
        assert!(e.to_string().contains("NUL"), "{e}");
    }

    #[test]
    fn refused_batches() {
        for (text, why) in [
            ("[]", "not an access-event batch"),
            (r#"{"updates":[]}"#, "no update_batch_id"),
            (r#"{"update_batch_id":"x"}"#, "no updates"),
        ] {
            let e = parse_batch(text, "f.json").unwrap_err();
            assert!(
                e.to_string().contains(why) && e.to_string().contains("f.json"),
                "{e}"
            );
        }
    }
}
