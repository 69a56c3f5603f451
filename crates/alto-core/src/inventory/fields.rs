//! Field parsing shared by the CSV and Parquet readers: sizes, timestamps, optional text, and the
//! extension derived from the path.

use super::MAX_PATH_BYTES;
use crate::path::{LONG_KEY_MARKER, LONG_KEY_SEGMENT, is_long_key_marker};
use crate::time::{Micros, check_stored, parse_timestamp};

/// A size: ASCII digits, surrounding spaces allowed.
pub(crate) fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    if t.is_empty() {
        return Err("empty size".into());
    }
    if !t.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("bad size {t:?}: expected a whole number of bytes"));
    }
    let v = t
        .parse::<u64>()
        .map_err(|_| format!("bad size {t:?}: too large"))?;
    check_size(v)
}

/// The largest size every store holds: 2^63 - 1 bytes (a signed 64-bit integer in SQLite and
/// PostgreSQL).
pub(crate) const MAX_SIZE: u64 = i64::MAX as u64;

/// A size every store holds (`0..=2^63 - 1`).
pub(crate) fn check_size(v: u64) -> Result<u64, String> {
    if v > MAX_SIZE {
        Err(format!(
            "size {v} is beyond the largest a store holds (2^63 - 1 bytes)"
        ))
    } else {
        Ok(v)
    }
}

/// An optional timestamp: empty means unknown.
pub(crate) fn parse_time(s: &str) -> Result<Option<Micros>, String> {
    if s.trim().is_empty() {
        Ok(None)
    } else {
        parse_timestamp(s).and_then(check_stored).map(Some)
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

/// A path must be non-empty, free of NUL (no file system allows it; it truncates C strings), at
/// most [`MAX_PATH_BYTES`] long and free of a segment of a long key's marker form
/// ([`is_long_key_marker`]). Every other character, control characters and newlines included, is
/// legal and kept byte-exact. Its key may be longer than a store indexes: it is bounded
/// ([`crate::path::bound_key`]).
pub(crate) fn check_path(p: &str) -> Result<(), String> {
    if p.is_empty() {
        Err("empty path".into())
    } else if p.contains('\0') {
        Err("path contains a NUL byte".into())
    } else {
        check_path_len(p)
    }
}

/// The length limit and the marker check alone (shared with the feed parsers).
pub(crate) fn check_path_len(p: &str) -> Result<(), String> {
    if p.len() > MAX_PATH_BYTES {
        return Err(format!(
            "path is {} bytes long: the limit is {MAX_PATH_BYTES} bytes (a Windows extended \
             path's length)",
            p.len()
        ));
    }
    // Only a path long enough to hold such a segment pays for looking.
    if p.len() >= LONG_KEY_SEGMENT && p.split(['/', '\\']).any(is_long_key_marker) {
        return Err(format!(
            "path has a {LONG_KEY_SEGMENT}-byte segment starting with {LONG_KEY_MARKER:?}, the \
             form Alto gives the keys of long paths (longer than any file system allows a name)"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits() {
        assert_eq!(parse_size("9223372036854775807"), Ok(i64::MAX as u64));
        let e = parse_size("9223372036854775808").unwrap_err();
        assert!(e.contains("2^63 - 1"), "{e}");
        assert!(parse_time("10000-01-01T00:00:00Z").is_err());
        let e = parse_time("-62135596801").unwrap_err();
        assert!(e.contains("years 1 to 9999"), "{e}");
        assert_eq!(
            parse_time("-62135596800"),
            Ok(Some(crate::time::STORED_MIN))
        );
        assert!(check_path(&format!("/{}", "a".repeat(MAX_PATH_BYTES - 1))).is_ok());
        let e = check_path(&format!("/{}", "a".repeat(MAX_PATH_BYTES))).unwrap_err();
        assert!(
            e.contains(&format!("{} bytes long", MAX_PATH_BYTES + 1)),
            "{e}"
        );
        // Real paths fit: PATH_MAX and more, as written and however long their keys.
        assert!(check_path(&format!("/{}", "a/".repeat(2_000))).is_ok());
        assert!(check_path(&format!("/{}", "\u{344}".repeat(MAX_PATH_BYTES / 2 - 1))).is_ok());
        // A segment that could pose as a long path's key is refused, in any case.
        let marker = format!("{LONG_KEY_MARKER}{}", "~".repeat(LONG_KEY_SEGMENT - 16));
        for p in [
            format!("/a/{marker}"),
            format!("/a/{}/b", marker.to_uppercase()),
            format!("C:\\a\\{marker}"),
        ] {
            let e = check_path(&p).unwrap_err();
            assert!(e.contains("long paths"), "{e}");
        }
        assert!(check_path(&format!("/a/{}", &marker[1..])).is_ok());
        assert!(check_path(&format!("/a/{marker}x")).is_ok());
        assert!(check_path("/a/new\nline\tand\u{1}ctl").is_ok());
        assert!(check_path("/a/nul\0").is_err());
    }
}
