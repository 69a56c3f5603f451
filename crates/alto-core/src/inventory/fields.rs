//! Field parsing shared by the CSV and Parquet readers: sizes, timestamps, optional text, and the
//! extension derived from the path.

use crate::time::{Micros, parse_timestamp};

/// A size: ASCII digits, surrounding spaces allowed.
pub(crate) fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    if t.is_empty() {
        return Err("empty size".into());
    }
    if !t.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("bad size {t:?}: expected a whole number of bytes"));
    }
    t.parse::<u64>()
        .map_err(|_| format!("bad size {t:?}: too large"))
}

/// An optional timestamp: empty means unknown.
pub(crate) fn parse_time(s: &str) -> Result<Option<Micros>, String> {
    if s.trim().is_empty() {
        Ok(None)
    } else {
        parse_timestamp(s).map(Some)
    }
}

/// An optional text field: empty means absent.
pub(crate) fn opt(s: &str) -> Option<&str> {
    if s.is_empty() { None } else { Some(s) }
}

/// The extension column's value without a leading dot, or the path's own extension.
pub(crate) fn extension<'a>(given: Option<&'a str>, path: &'a str) -> Option<&'a str> {
    match given.map(|e| e.trim().trim_start_matches('.')) {
        Some(e) if !e.is_empty() => Some(e),
        _ => alto_rules::extension(path),
    }
}

/// A path must be non-empty and free of NUL (no file system allows it; it truncates C strings).
pub(crate) fn check_path(p: &str) -> Result<(), String> {
    if p.is_empty() {
        Err("empty path".into())
    } else if p.contains('\0') {
        Err("path contains a NUL byte".into())
    } else {
        Ok(())
    }
}
