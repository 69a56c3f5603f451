//! Field parsing shared by the CSV and Parquet readers: sizes, timestamps, optional text, and the
//! extension derived from the path.

use super::MAX_PATH_BYTES;
use crate::path::{LONG_KEY_MARKER, LONG_KEY_SEGMENT, is_long_key_marker};

/// A size: ASCII digits, surrounding spaces allowed.
pub(crate) fn parse_size(s: &str) -> Result<u64, String> {
    let t = crate::time::trim(s);
    if t.is_empty() {
        return Err("empty size".into());
    }
    if !t.bytes().all(|b| b.is_ascii_digit()) {
        return parse_size_text(t);
    }
    let v = t
        .parse::<u64>()
        .map_err(|_| format!("bad size {t:?}: too large"))?;
    check_size(v)
}

/// A size that is not bare digits: thousands separators (`1,234,567`, `1.234.567`, `1 234 567`,
/// `1'234'567`) or a unit as disk tools write them (`47.1 KB`, `3,5 MB`, `12 Bytes`; KB, MB, GB,
/// TB and their KiB forms are powers of 1024 here, as Windows tools mean them).
fn parse_size_text(t: &str) -> Result<u64, String> {
    let bad = || {
        format!(
            "bad size {t:?}: expected a number of bytes (thousands separators and units such as \
             KB, MB, GB allowed)"
        )
    };
    let split = t.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(t.len());
    let (num, unit) = (t[..split].trim(), t[split..].trim());
    let mult: u64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" | "byte" | "bytes" => 1,
        "kb" | "kib" | "k" => 1 << 10,
        "mb" | "mib" | "m" => 1 << 20,
        "gb" | "gib" | "g" => 1 << 30,
        "tb" | "tib" | "t" => 1 << 40,
        "pb" | "pib" | "p" => 1 << 50,
        _ => return Err(bad()),
    };
    if num.is_empty() || !num.starts_with(|c: char| c.is_ascii_digit()) {
        return Err(bad());
    }
    let is_sep = |c: char| matches!(c, ',' | '.' | ' ' | '\'' | '\u{a0}' | '\u{202f}');
    // Thousands groups: at most three digits, then groups of exactly three after one separator.
    let grouped = |n: &str, sep: char| {
        let mut parts = n.split(sep);
        let first = parts.next().unwrap_or("");
        let rest: Vec<&str> = parts.collect();
        !first.is_empty()
            && first.len() <= 3
            && first.bytes().all(|b| b.is_ascii_digit())
            && !rest.is_empty()
            && rest
                .iter()
                .all(|p| p.len() == 3 && p.bytes().all(|b| b.is_ascii_digit()))
    };
    let seps: Vec<char> = num.chars().filter(|c| is_sep(*c)).collect();
    let whole = |digits: &str| digits.parse::<u64>().map_err(|_| bad());
    let value: u128 = if seps.is_empty() {
        u128::from(whole(num)?) * u128::from(mult)
    } else if mult == 1 {
        // A byte count has no fraction: every separator groups thousands.
        let sep = seps[0];
        if seps.iter().any(|c| *c != sep) || !grouped(num, sep) {
            return Err(bad());
        }
        let digits: String = num.chars().filter(|c| *c != sep).collect();
        u128::from(whole(&digits)?)
    } else {
        // With a unit, a last `.` or `,` is the decimal mark unless both kinds appear and it
        // groups three digits; the other separators group thousands.
        let last = num.rfind(['.', ',']);
        let (int, frac) = match last {
            Some(i) => (&num[..i], &num[i + 1..]),
            None => (num, ""),
        };
        let int_sep: Vec<char> = int.chars().filter(|c| is_sep(*c)).collect();
        if let Some(s0) = int_sep.first() {
            if int_sep.iter().any(|c| c != s0) || !grouped(int, *s0) {
                return Err(bad());
            }
        }
        let digits: String = int.chars().filter(|c| !is_sep(*c)).collect();
        if frac.is_empty() && last.is_some() || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let i = u128::from(whole(&digits)?);
        let (f, scale) = frac.bytes().take(9).fold((0u128, 1u128), |(v, s), b| {
            (v * 10 + u128::from(b - b'0'), s * 10)
        });
        i * u128::from(mult) + (f * u128::from(mult) + scale / 2) / scale
    };
    let v = u64::try_from(value).map_err(|_| format!("bad size {t:?}: too large"))?;
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

/// An optional timestamp: empty means unknown (the plain form, for the limit tests).
#[cfg(test)]
pub(crate) fn parse_time(s: &str) -> Result<Option<crate::time::Micros>, String> {
    use crate::time::{check_stored, parse_timestamp};
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
    fn sizes_with_units_and_separators() {
        for (text, want) in [
            ("1,234,567", 1_234_567),
            ("1.234.567", 1_234_567),
            ("1 234 567", 1_234_567),
            ("1'234", 1_234),
            ("12 Bytes", 12),
            ("0 KB", 0),
            ("47.1 KB", 48_230),
            ("3,5 MB", 3_670_016),
            ("1 GB", 1 << 30),
            ("2 TB", 2 << 40),
            ("1.024 KB", 1_049),
            ("1,234.5 KB", 1_264_128),
        ] {
            assert_eq!(parse_size(text), Ok(want), "{text}");
        }
        for bad in [
            "1,23",
            "12 parsecs",
            "-1 KB",
            "KB",
            "1,2,3 KB",
            "1.5",
            "1,234.5",
        ] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
    }

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
