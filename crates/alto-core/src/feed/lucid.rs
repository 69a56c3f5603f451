//! The LucidLink audit trail: `<root>/.lucid_audit/<node>/<year>/<month>/<begin_ts>.log[.active]`.
//!
//! Each node writes its own files, one after another; the file being written is `.log.active`
//! and is renamed to `.log` (same stem) on rotation. Both are read. A cursor per (node, stem) is
//! the byte offset after the last complete line, so the rename neither re-reads nor loses a line,
//! and a half-written last line waits for the next pass. An event's id is `node/stem/offset` of
//! its line: stable across passes, renames and re-reads. Lines are JSON; paths are NFD on macOS
//! clients and are normalised to NFC; events about `/.lucid_audit` itself are skipped; a line
//! that is not an event is counted and reported with its file and line number, never fatal.

use super::{AccessEvent, FeedAction, FeedReadStats};
use crate::error::{Error, Result};
use crate::time::{Micros, parse_timestamp};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfc_quick};

/// Where reading of one audit file stands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize, Deserialize)]
pub struct Cursor {
    /// Byte offset after the last complete line consumed.
    pub offset: u64,
    /// Lines consumed (for messages).
    pub line: u64,
}

/// Cursors by (node, stem).
pub type Cursors = BTreeMap<(String, String), Cursor>;

/// One audit file found in the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditFile {
    /// Client node id (the first folder under `.lucid_audit`).
    pub node: String,
    /// File name without `.log` / `.log.active`.
    pub stem: String,
    /// Full path.
    pub path: PathBuf,
    /// Still being written.
    pub active: bool,
}

/// A line that was not an event.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Malformed {
    /// The audit file.
    pub file: PathBuf,
    /// Line number, from 1.
    pub line: u64,
    /// Why.
    pub reason: String,
}

impl std::fmt::Display for Malformed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.file.display(), self.line, self.reason)
    }
}

#[derive(Deserialize)]
struct RawOp<'a> {
    action: Option<&'a str>,
    #[serde(rename = "entryPath", borrow)]
    entry_path: Option<std::borrow::Cow<'a, str>>,
    #[serde(rename = "targetPath", borrow)]
    target_path: Option<std::borrow::Cow<'a, str>>,
}

#[derive(Deserialize)]
struct RawUser<'a> {
    #[serde(borrow)]
    name: Option<std::borrow::Cow<'a, str>>,
}

#[derive(Deserialize)]
struct RawEvent<'a> {
    timestamp: Option<serde_json::Value>,
    #[serde(borrow)]
    operation: Option<RawOp<'a>>,
    #[serde(borrow)]
    user: Option<RawUser<'a>>,
}

/// Integer timestamps by magnitude: seconds, milliseconds, microseconds or nanoseconds.
pub fn timestamp_from_int(v: i64) -> Micros {
    let a = v.unsigned_abs();
    if a < 100_000_000_000 {
        v.saturating_mul(1_000_000)
    } else if a < 100_000_000_000_000 {
        v.saturating_mul(1000)
    } else if a < 100_000_000_000_000_000 {
        v
    } else {
        v / 1000
    }
}

fn nfc(s: &str) -> String {
    if is_nfc_quick(s.chars()) == IsNormalized::Yes {
        s.to_owned()
    } else {
        s.nfc().collect()
    }
}

/// Whether a feed path is the audit trail itself.
fn is_audit_path(p: &str) -> bool {
    p == "/.lucid_audit" || p.starts_with("/.lucid_audit/")
}

/// Parse one line. `Ok(None)`: an event about the audit trail itself (skipped).
pub fn parse_line(line: &str, id: String) -> Result<Option<AccessEvent>, String> {
    let raw: RawEvent<'_> = serde_json::from_str(line).map_err(|e| format!("not JSON: {e}"))?;
    let at = match raw.timestamp {
        Some(serde_json::Value::Number(n)) => n
            .as_i64()
            .map(timestamp_from_int)
            .ok_or_else(|| format!("bad timestamp {n}"))?,
        Some(serde_json::Value::String(s)) => parse_timestamp(&s)?,
        Some(other) => return Err(format!("bad timestamp {other}")),
        None => return Err("no timestamp".into()),
    };
    let op = raw.operation.ok_or("no operation")?;
    let action_name = op.action.ok_or("no operation.action")?;
    let action =
        FeedAction::parse(action_name).ok_or_else(|| format!("unknown action {action_name:?}"))?;
    let path = op.entry_path.ok_or("no operation.entryPath")?;
    if is_audit_path(&path) {
        return Ok(None);
    }
    let target_path = match (action, op.target_path) {
        (FeedAction::Move, None) => return Err("Move without operation.targetPath".into()),
        (_, t) => t.map(|t| nfc(&t)),
    };
    super::check_event_path("path", &path)?;
    if let Some(t) = &target_path {
        super::check_event_path("target path", t)?;
    }
    let ev = AccessEvent {
        id,
        at,
        action,
        path: nfc(&path),
        target_path,
        user: raw.user.and_then(|u| u.name).map(|n| n.into_owned()),
    };
    super::check_event(&ev)?;
    Ok(Some(ev))
}

/// The `.lucid_audit` directory under `root` (or `root` itself when it is one).
fn audit_dir(root: &Path) -> Result<PathBuf> {
    let candidates = [root.join(".lucid_audit"), root.to_path_buf()];
    for c in &candidates {
        if c.file_name().is_some_and(|n| n == ".lucid_audit") && c.is_dir() {
            return Ok(c.clone());
        }
    }
    Err(Error::invalid_input(format!(
        "{}: no .lucid_audit directory (give the filespace root or the .lucid_audit folder)",
        root.display()
    )))
}

/// Every audit file of the tree, sorted by node then stem. When a stem exists both as `.log`
/// and `.log.active` (seen mid-rotation), the closed `.log` is used.
pub fn list_audit_files(root: &Path) -> Result<Vec<AuditFile>> {
    let dir = audit_dir(root)?;
    let mut found: BTreeMap<(String, String), AuditFile> = BTreeMap::new();
    let read = |p: &Path| {
        std::fs::read_dir(p)
            .map_err(|e| Error::from(e).prefixed(&format!("cannot list {}", p.display())))
    };
    for node in read(&dir)? {
        let node = node?;
        if !node.file_type()?.is_dir() {
            continue;
        }
        let node_name = node.file_name().to_string_lossy().into_owned();
        for year in read(&node.path())? {
            let year = year?;
            if !year.file_type()?.is_dir() {
                continue;
            }
            for month in read(&year.path())? {
                let month = month?;
                if !month.file_type()?.is_dir() {
                    continue;
                }
                for f in read(&month.path())? {
                    let f = f?;
                    let name = f.file_name().to_string_lossy().into_owned();
                    let (stem, active) = if let Some(s) = name.strip_suffix(".log.active") {
                        (s.to_owned(), true)
                    } else if let Some(s) = name.strip_suffix(".log") {
                        (s.to_owned(), false)
                    } else {
                        continue;
                    };
                    let key = (node_name.clone(), stem.clone());
                    let file = AuditFile {
                        node: node_name.clone(),
                        stem,
                        path: f.path(),
                        active,
                    };
                    match found.get(&key) {
                        Some(existing) if !existing.active => {}
                        _ => {
                            found.insert(key, file);
                        }
                    }
                }
            }
        }
    }
    Ok(found.into_values().collect())
}

/// Read one audit file from `cursor` to its last complete line.
pub fn read_file(
    file: &AuditFile,
    cursor: Cursor,
    stats: &mut FeedReadStats,
    on_event: &mut dyn FnMut(AccessEvent),
    on_malformed: &mut dyn FnMut(Malformed),
) -> Result<Cursor> {
    let mut r = AuditReader::open(file.clone(), cursor, stats)?;
    while let Some((ev, _)) = r.next_event(stats, on_malformed)? {
        on_event(ev);
    }
    Ok(r.cursor())
}

/// One audit file read event by event from a cursor, holding one read buffer (64 KiB, more only
/// for a longer line), not the file.
#[derive(Debug)]
pub struct AuditReader {
    file: AuditFile,
    f: Option<std::fs::File>,
    cursor: Cursor,
    buf: Vec<u8>,
    start: usize,
}

const READ_CHUNK: usize = 64 * 1024;

impl AuditReader {
    /// Open `file` at `cursor`. A file renamed away since it was listed (`.active` to `.log`)
    /// reads as empty: the next pass reads it under its new name. A file shorter than its cursor
    /// is refused (LucidLink files only grow).
    pub fn open(file: AuditFile, cursor: Cursor, stats: &mut FeedReadStats) -> Result<AuditReader> {
        let mut f = match std::fs::File::open(&file.path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(AuditReader {
                    file,
                    f: None,
                    cursor,
                    buf: Vec::new(),
                    start: 0,
                });
            }
            Err(e) => {
                return Err(
                    Error::from(e).prefixed(&format!("cannot open {}", file.path.display()))
                );
            }
        };
        let len = f.metadata()?.len();
        if len < cursor.offset {
            return Err(Error::invalid_input(format!(
                "{} is shorter ({len} bytes) than its cursor ({}): was it truncated?",
                file.path.display(),
                cursor.offset
            )));
        }
        f.seek(SeekFrom::Start(cursor.offset))?;
        stats.files += 1;
        Ok(AuditReader {
            file,
            f: Some(f),
            cursor,
            buf: Vec::new(),
            start: 0,
        })
    }

    /// The file.
    pub fn file(&self) -> &AuditFile {
        &self.file
    }

    /// Where reading stands: after the last complete line consumed.
    pub fn cursor(&self) -> Cursor {
        self.cursor
    }

    /// The next event and the cursor right before its line; `None` at the last complete line
    /// (a half-written line stays for the next pass). Blank, skipped and malformed lines on the
    /// way are consumed (malformed ones reported).
    pub fn next_event(
        &mut self,
        stats: &mut FeedReadStats,
        on_malformed: &mut dyn FnMut(Malformed),
    ) -> Result<Option<(AccessEvent, Cursor)>> {
        loop {
            while let Some(nl) = memchr::memchr(b'\n', &self.buf[self.start..]) {
                let line_start = self.start;
                self.start += nl + 1;
                let before = self.cursor;
                let offset = self.cursor.offset;
                self.cursor.offset += nl as u64 + 1;
                self.cursor.line += 1;
                stats.bytes += nl as u64 + 1;
                let line = &self.buf[line_start..line_start + nl];
                let text = line.strip_suffix(b"\r").unwrap_or(line);
                if text.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                let id = format!("{}/{}/{offset}", self.file.node, self.file.stem);
                let parsed = std::str::from_utf8(text)
                    .map_err(|_| "not UTF-8".to_string())
                    .and_then(|t| parse_line(t, id));
                match parsed {
                    Ok(Some(ev)) => {
                        stats.read += 1;
                        return Ok(Some((ev, before)));
                    }
                    Ok(None) => stats.skipped += 1,
                    Err(reason) => {
                        stats.malformed += 1;
                        on_malformed(Malformed {
                            file: self.file.path.clone(),
                            line: self.cursor.line,
                            reason,
                        });
                    }
                }
            }
            // Keep the partial line, read more.
            self.buf.drain(..self.start);
            self.start = 0;
            let Some(f) = self.f.as_mut() else {
                return Ok(None);
            };
            let have = self.buf.len();
            self.buf.resize(have + READ_CHUNK, 0);
            let n = f.read(&mut self.buf[have..])?;
            self.buf.truncate(have + n);
            if n == 0 {
                self.f = None;
                self.buf = Vec::new();
                return Ok(None);
            }
        }
    }
}

/// Read every audit file of the tree from its cursor, advancing the cursors.
pub fn read_tree(
    root: &Path,
    cursors: &mut Cursors,
    on_event: &mut dyn FnMut(AccessEvent),
    on_malformed: &mut dyn FnMut(Malformed),
) -> Result<FeedReadStats> {
    let mut stats = FeedReadStats::default();
    for file in list_audit_files(root)? {
        let key = (file.node.clone(), file.stem.clone());
        let cur = cursors.get(&key).copied().unwrap_or_default();
        let next = read_file(&file, cur, &mut stats, on_event, on_malformed)?;
        cursors.insert(key, next);
    }
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"{"timestamp":1779987033841040,"schemaVersion":"1.1","operation":{"action":"FileRead","fileId":"f-1","entryPath":"/Projects/show/edit.prproj"},"user":{"id":"u-1","name":"alice@example.com"},"device":{"hostName":"alice-mbp","osName":"macOS","osVersion":"14.2.0"},"event":{"nodeId":"7","filespace":"production","filespaceUuid":"6f1c0f3e-2b7d-4a53-9d1e-2f7a9c0b1e11"}}"#;

    #[test]
    fn parses_the_documented_sample() {
        let ev = parse_line(SAMPLE, "7/x/0".into()).unwrap().unwrap();
        assert_eq!(ev.at, 1_779_987_033_841_040);
        assert_eq!(ev.action, FeedAction::FileRead);
        assert_eq!(ev.path, "/Projects/show/edit.prproj");
        assert_eq!(ev.user.as_deref(), Some("alice@example.com"));
    }

    #[test]
    fn timestamps_by_magnitude_and_iso() {
        let us = 1_779_987_033_841_040i64;
        for v in [us / 1_000_000, us / 1000, us, us * 1000] {
            let t = timestamp_from_int(v);
            assert_eq!(t / 1_000_000, us / 1_000_000, "{v}");
        }
        let line = r#"{"timestamp":"2026-05-28T17:30:33Z","operation":{"action":"PreHydrate","entryPath":"/a"}}"#;
        let ev = parse_line(line, "i".into()).unwrap().unwrap();
        assert_eq!(ev.at, 1_779_989_433_000_000);
        assert!(ev.action.is_access());
    }

    #[test]
    fn dotdot_paths_are_refused() {
        for (entry, target) in [("/a/../../etc", "/x"), ("/a/b", "/a/../../etc/cron.d/x")] {
            let line = format!(
                r#"{{"timestamp":1,"operation":{{"action":"Move","entryPath":"{entry}","targetPath":"{target}"}}}}"#
            );
            let e = parse_line(&line, "i".into()).unwrap_err();
            assert!(e.contains("`..`"), "{e}");
        }
    }

    #[test]
    fn events_no_store_could_hold_are_malformed() {
        let long = format!("/{}", "x".repeat(crate::inventory::MAX_PATH_BYTES));
        for (ts, entry, target, user, why) in [
            ("1", "/a\\u0000b", "/x", "u", "path contains a NUL byte"),
            (
                "1",
                "/a",
                "/x\\u0000",
                "u",
                "target path contains a NUL byte",
            ),
            ("1", "/a", "/x", "u\\u0000", "user contains a NUL byte"),
            ("1", long.as_str(), "/x", "u", "limit is"),
            ("1", "/a", long.as_str(), "u", "target path: path is"),
            (
                "\"10000-01-01T00:00:00Z\"",
                "/a",
                "/x",
                "u",
                "bad timestamp",
            ),
            ("-99999999999", "/a", "/x", "u", "years 1 to 9999"),
        ] {
            let line = format!(
                r#"{{"timestamp":{ts},"operation":{{"action":"Move","entryPath":"{entry}","targetPath":"{target}"}},"user":{{"name":"{user}"}}}}"#
            );
            let e = parse_line(&line, "i".into()).unwrap_err();
            assert!(e.contains(why), "{why}: {e}");
        }
        // A 4,000-byte path is an event like any other (its key is bounded).
        let deep = format!("/{}", "d/".repeat(2_000));
        let line = format!(
            r#"{{"timestamp":1,"operation":{{"action":"FileRead","entryPath":"{deep}x"}}}}"#
        );
        assert_eq!(
            parse_line(&line, "i".into()).unwrap().unwrap().path.len(),
            4_002
        );
        // Newlines and tabs are legal in names.
        let line = r#"{"timestamp":1,"operation":{"action":"FileRead","entryPath":"/a\nb\tc"}}"#;
        assert_eq!(
            parse_line(line, "i".into()).unwrap().unwrap().path,
            "/a\nb\tc"
        );
    }

    #[test]
    fn nfd_becomes_nfc_and_audit_paths_are_skipped() {
        let nfd = "/Cafe\u{301}/Re\u{301}sume\u{301}.doc";
        let line = format!(
            r#"{{"timestamp":1,"operation":{{"action":"Move","entryPath":"{nfd}","targetPath":"{nfd}2"}}}}"#
        );
        let ev = parse_line(&line, "i".into()).unwrap().unwrap();
        assert_eq!(ev.path, "/Café/Résumé.doc");
        assert_eq!(ev.target_path.as_deref(), Some("/Café/Résumé.doc2"));
        let audit = r#"{"timestamp":1,"operation":{"action":"FileWritten","entryPath":"/.lucid_audit/7/2026/05/x.log.active"}}"#;
        assert_eq!(parse_line(audit, "i".into()).unwrap(), None);
    }

    #[test]
    fn malformed_lines_say_why() {
        for (line, why) in [
            ("not json", "not JSON"),
            (
                r#"{"operation":{"action":"FileRead","entryPath":"/a"}}"#,
                "no timestamp",
            ),
            (
                r#"{"timestamp":1,"operation":{"action":"Teleport","entryPath":"/a"}}"#,
                "unknown action",
            ),
            (
                r#"{"timestamp":1,"operation":{"action":"Move","entryPath":"/a"}}"#,
                "targetPath",
            ),
            (
                r#"{"timestamp":1,"operation":{"action":"FileRead"}}"#,
                "entryPath",
            ),
            (
                r#"{"timestamp":"yesterday","operation":{"action":"FileRead","entryPath":"/a"}}"#,
                "bad timestamp",
            ),
        ] {
            let e = parse_line(line, "i".into()).unwrap_err();
            assert!(e.contains(why), "{line}: {e}");
        }
    }
}
