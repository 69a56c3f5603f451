//! Sizes, durations and dates as the rule language writes them.
//!
//! Sizes: a bare number is bytes; `KB`, `MB`, `GB`, `TB`, `PB` are powers of 1000 and `KiB`, `MiB`,
//! `GiB`, `TiB`, `PiB` powers of 1024; the unit is case-insensitive and may follow a space; a
//! decimal is allowed (`"1.5GB"`) and the result is rounded down to whole bytes. Durations: an
//! integer and one of `s`, `m`, `h`, `d`, `w`, `y` (`y` = 365 days), e.g. `"365d"`. Both refuse
//! overflow. The date helpers (UTC civil dates, with no time-zone database) serve target rendering
//! and the explanations.

use crate::Micros;
use crate::error::RuleErrorKind;

const SIZE_UNITS: &[(&str, u128)] = &[
    ("b", 1),
    ("kb", 1_000),
    ("mb", 1_000_000),
    ("gb", 1_000_000_000),
    ("tb", 1_000_000_000_000),
    ("pb", 1_000_000_000_000_000),
    ("kib", 1 << 10),
    ("mib", 1 << 20),
    ("gib", 1 << 30),
    ("tib", 1 << 40),
    ("pib", 1 << 50),
];

const SIZE_HELP: &str = "use B, KB, MB, GB, TB, PB, KiB, MiB, GiB, TiB, PiB";
const DURATION_HELP: &str = "use s, m, h, d, w or y, e.g. \"30d\"";

/// Microseconds in one second.
const SECOND: i64 = 1_000_000;

const DURATION_UNITS: &[(&str, i64)] = &[
    ("y", 365 * 86_400 * SECOND),
    ("w", 7 * 86_400 * SECOND),
    ("d", 86_400 * SECOND),
    ("h", 3_600 * SECOND),
    ("m", 60 * SECOND),
    ("s", SECOND),
];

/// Parses a size such as `"100MB"`, `"1.5 GiB"` or `"4096"` into bytes.
///
/// Fractions of a byte are rounded down (`"1.5B"` is 1). The error is a message without the rule
/// and field, e.g. `bad size unit "10XB" (use B, KB, …)`.
///
/// ```
/// assert_eq!(alto_rules::parse_size("1.5GB"), Ok(1_500_000_000));
/// assert_eq!(alto_rules::parse_size("2 kib"), Ok(2048));
/// assert!(alto_rules::parse_size("10XB").is_err());
/// ```
pub fn parse_size(s: &str) -> Result<u64, String> {
    size_from_text(s).map_err(|(_, message)| message)
}

/// [`parse_size`], telling a bad unit from other mistakes.
pub(crate) fn size_from_text(s: &str) -> Result<u64, (RuleErrorKind, String)> {
    let invalid = |m: String| (RuleErrorKind::InvalidValue, m);
    let too_big = || {
        invalid(format!(
            "size {s:?} is too large (at most {} bytes)",
            u64::MAX
        ))
    };
    let text = s.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let unit = unit.trim_start();
    if number.is_empty() {
        return Err(invalid(if text.starts_with('-') {
            format!("size {s:?} is negative")
        } else {
            format!("bad size {s:?}: expected a number of bytes or e.g. \"10GB\" ({SIZE_HELP})")
        }));
    }
    let factor = if unit.is_empty() {
        1
    } else {
        SIZE_UNITS
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(unit))
            .map(|&(_, f)| f)
            .ok_or_else(|| {
                (
                    RuleErrorKind::BadUnit,
                    format!("bad size unit {s:?} ({SIZE_HELP})"),
                )
            })?
    };
    let (whole, frac) = number.split_once('.').unwrap_or((number, ""));
    if (whole.is_empty() && frac.is_empty()) || frac.contains('.') {
        return Err(invalid(format!("bad size {s:?}: not a number")));
    }
    let mut bytes: u128 = 0;
    for d in whole.bytes() {
        bytes = bytes
            .checked_mul(10)
            .and_then(|b| b.checked_add(u128::from(d - b'0')))
            .filter(|b| *b <= u128::from(u64::MAX))
            .ok_or_else(too_big)?;
    }
    bytes = bytes.checked_mul(factor).ok_or_else(too_big)?;
    // Digits past the 20th are worth less than a byte even in PiB: they are rounded away.
    let frac = &frac[..frac.len().min(20)];
    if !frac.is_empty() {
        let digits: u128 = frac
            .parse()
            .map_err(|_| invalid(format!("bad size {s:?}")))?;
        let scale = 10u128.pow(frac.len() as u32);
        // factor <= 2^50 and digits < 10^20 < 2^67: the product fits in u128.
        bytes = bytes
            .checked_add(digits * factor / scale)
            .ok_or_else(too_big)?;
    }
    u64::try_from(bytes).map_err(|_| too_big())
}

/// Parses a duration such as `"365d"` or `"12 h"` into microseconds.
///
/// A bare number is refused: `"30"` could mean seconds or days.
///
/// ```
/// assert_eq!(alto_rules::parse_duration("2m"), Ok(120_000_000));
/// assert!(alto_rules::parse_duration("30").is_err());
/// ```
pub fn parse_duration(s: &str) -> Result<Micros, String> {
    let text = s.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let unit = unit.trim_start();
    if number.is_empty() {
        return Err(if text.starts_with('-') {
            format!("duration {s:?} is negative")
        } else {
            format!("bad duration {s:?} ({DURATION_HELP})")
        });
    }
    if unit.is_empty() {
        return Err(format!("duration {s:?} needs a unit ({DURATION_HELP})"));
    }
    let factor = DURATION_UNITS
        .iter()
        .find(|(name, _)| *name == unit)
        .map(|&(_, f)| f)
        .ok_or_else(|| format!("bad duration unit {s:?} ({DURATION_HELP})"))?;
    number
        .parse::<i64>()
        .ok()
        .and_then(|n| n.checked_mul(factor))
        .ok_or_else(|| format!("duration {s:?} is too large"))
}

/// Writes a duration in the largest unit that divides it exactly (`"365d"` reads back as `"1y"`).
pub(crate) fn format_duration(micros: Micros) -> String {
    if micros == 0 {
        return "0s".to_owned();
    }
    for &(name, factor) in DURATION_UNITS {
        if micros % factor == 0 {
            return format!("{}{name}", micros / factor);
        }
    }
    format!("{micros}us")
}

/// The UTC calendar date `(year, month, day)` of a day count since 1970-01-01.
///
/// Howard Hinnant's `civil_from_days`: exact for every `i64` day count that fits an `i64` year.
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The UTC date of a time, as `(year, month, day)`.
pub(crate) fn utc_date(at: Micros) -> (i64, u32, u32) {
    civil_from_days(at.div_euclid(86_400 * SECOND))
}

/// A time as RFC 3339 in UTC, e.g. `2024-05-01T12:00:00Z` (sub-seconds only when present).
pub(crate) fn format_micros(at: Micros) -> String {
    let (y, mo, d) = utc_date(at);
    let in_day = at.rem_euclid(86_400 * SECOND);
    let secs = in_day / SECOND;
    let sub = in_day % SECOND;
    let (h, mi, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    if sub == 0 {
        format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
    } else {
        format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{sub:06}Z")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("0"), Ok(0));
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("100MB"), Ok(100_000_000));
        assert_eq!(parse_size("100 mb"), Ok(100_000_000));
        assert_eq!(parse_size("10GiB"), Ok(10 << 30));
        assert_eq!(parse_size("1KB"), Ok(1000));
        assert_eq!(parse_size("1KiB"), Ok(1024));
        assert_eq!(parse_size("1tb"), Ok(1_000_000_000_000));
        assert_eq!(parse_size("1PiB"), Ok(1 << 50));
        assert_eq!(parse_size("1.5GB"), Ok(1_500_000_000));
        assert_eq!(parse_size("0.5KiB"), Ok(512));
        assert_eq!(parse_size("0.1KiB"), Ok(102));
        assert_eq!(parse_size(".5KB"), Ok(500));
        assert_eq!(parse_size("12B"), Ok(12));
        assert_eq!(parse_size(&u64::MAX.to_string()), Ok(u64::MAX));
        assert_eq!(parse_size("16383PiB"), Ok(16383 << 50));
    }

    #[test]
    fn bad_sizes() {
        let e = parse_size("10XB").unwrap_err();
        assert!(e.contains("bad size unit \"10XB\""), "{e}");
        assert!(e.contains("KiB"), "{e}");
        assert!(parse_size("").is_err());
        assert!(parse_size("GB").is_err());
        assert!(parse_size("-1").unwrap_err().contains("negative"));
        assert!(parse_size("1.2.3").is_err());
        assert!(parse_size(".").is_err());
        assert!(
            parse_size("18446744073709551616")
                .unwrap_err()
                .contains("too large")
        );
        assert!(parse_size("16384PiB").unwrap_err().contains("too large"));
        assert!(parse_size("99999999999999999999999999999999999999999").is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("0s"), Ok(0));
        assert_eq!(parse_duration("1s"), Ok(1_000_000));
        assert_eq!(parse_duration("1m"), Ok(60_000_000));
        assert_eq!(parse_duration("1h"), Ok(3_600_000_000));
        assert_eq!(parse_duration("1d"), Ok(86_400_000_000));
        assert_eq!(parse_duration("1w"), Ok(7 * 86_400_000_000));
        assert_eq!(parse_duration("1y"), Ok(365 * 86_400_000_000));
        assert_eq!(parse_duration("365 d"), Ok(365 * 86_400_000_000));
    }

    #[test]
    fn bad_durations() {
        assert!(parse_duration("30").unwrap_err().contains("needs a unit"));
        assert!(
            parse_duration("30x")
                .unwrap_err()
                .contains("bad duration unit")
        );
        assert!(parse_duration("30M").is_err());
        assert!(parse_duration("1.5d").is_err());
        assert!(parse_duration("-1d").unwrap_err().contains("negative"));
        assert!(parse_duration("d").is_err());
        assert!(
            parse_duration("999999999999y")
                .unwrap_err()
                .contains("too large")
        );
    }

    #[test]
    fn duration_round_trip() {
        assert_eq!(format_duration(parse_duration("365d").unwrap()), "1y");
        assert_eq!(format_duration(parse_duration("30d").unwrap()), "30d");
        assert_eq!(format_duration(parse_duration("90m").unwrap()), "90m");
        assert_eq!(format_duration(0), "0s");
        assert_eq!(format_duration(1), "1us");
    }

    #[test]
    fn dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
        assert_eq!(utc_date(1_700_000_000 * SECOND), (2023, 11, 14));
        assert_eq!(format_micros(0), "1970-01-01T00:00:00Z");
        assert_eq!(
            format_micros(1_700_000_000 * SECOND + 5),
            "2023-11-14T22:13:20.000005Z"
        );
        assert_eq!(format_micros(-1), "1969-12-31T23:59:59.999999Z");
    }
}
