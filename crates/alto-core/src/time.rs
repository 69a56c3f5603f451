//! Timestamps: microseconds since the Unix epoch, UTC, and the text forms inventories use.
//!
//! Inventories come from many tools, so [`parse_timestamp`] accepts RFC 3339 (any offset, optional
//! fraction), Unix seconds (optionally fractional), `YYYY-MM-DD HH:MM:SS` (UTC) and the US form
//! `M/D/YYYY h:mm:ss AM/PM` (UTC). It is hand-written because the CSV reader parses two timestamps a
//! row at over a million rows a second.

pub use alto_rules::Micros;

/// Microseconds in one second.
pub const MICROS_PER_SEC: i64 = 1_000_000;

/// The earliest time every store holds: `0001-01-01T00:00:00Z`.
///
/// Stores differ in what they can hold (SQLite keeps any 64-bit count of microseconds; PostgreSQL's
/// `timestamptz` runs from 4713 BC to 294276 AD), so inventories and feeds accept only the common,
/// documented range of years 1 to 9999 ([`check_stored`]): a row outside it is rejected alone, in
/// every store alike, instead of failing a whole chunk in one store and landing in another.
pub const STORED_MIN: Micros = -62_135_596_800 * MICROS_PER_SEC;

/// The latest time every store holds: `9999-12-31T23:59:59.999999Z` (see [`STORED_MIN`]).
pub const STORED_MAX: Micros = 253_402_300_800 * MICROS_PER_SEC - 1;

/// `t` if every store holds it (years 1 to 9999, [`STORED_MIN`]..=[`STORED_MAX`]), else a short
/// reason; the caller adds file, line and column.
pub fn check_stored(t: Micros) -> Result<Micros, String> {
    if (STORED_MIN..=STORED_MAX).contains(&t) {
        Ok(t)
    } else {
        Err(format!(
            "time {} is outside the years 1 to 9999 that every store holds",
            format_rfc3339(t)
        ))
    }
}

/// The current time.
pub fn now_micros() -> Micros {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    d.as_micros() as Micros
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The (year, month, day) of a day number since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Format as RFC 3339 UTC: `2025-01-15T10:30:00Z`, with `.ffffff` only when there are microseconds.
pub fn format_rfc3339(t: Micros) -> String {
    let secs = t.div_euclid(MICROS_PER_SEC);
    let frac = t.rem_euclid(MICROS_PER_SEC);
    let (y, mo, d) = civil_from_days(secs.div_euclid(86_400));
    let sod = secs.rem_euclid(86_400);
    let (h, mi, s) = (sod / 3600, (sod / 60) % 60, sod % 60);
    if frac == 0 {
        format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
    } else {
        format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{frac:06}Z")
    }
}

fn digits(b: &[u8]) -> Option<i64> {
    if b.is_empty() || b.len() > 18 {
        return None;
    }
    let mut v: i64 = 0;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + (c - b'0') as i64;
    }
    Some(v)
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

fn civil_micros(y: i64, mo: i64, d: i64, h: i64, mi: i64, s: i64) -> Option<Micros> {
    if !(1..=12).contains(&mo) || d < 1 || d > days_in_month(y, mo as u32) as i64 {
        return None;
    }
    // 24:00:00 is not accepted; a leap second 60 is folded into the next second by arithmetic.
    if h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let days = days_from_civil(y, mo as u32, d as u32);
    Some(((days * 86_400) + h * 3600 + mi * 60 + s) * MICROS_PER_SEC)
}

/// Fractional seconds after a `.`: returns (micros, bytes consumed).
fn fraction(b: &[u8]) -> Option<(i64, usize)> {
    let n = b.iter().take_while(|c| c.is_ascii_digit()).count();
    if n == 0 {
        return None;
    }
    let mut v = 0i64;
    for (i, &c) in b[..n].iter().enumerate() {
        if i < 6 {
            v = v * 10 + (c - b'0') as i64;
        }
    }
    for _ in n..6 {
        v *= 10;
    }
    Some((v, n))
}

/// `YYYY-MM-DD[T ]HH:MM:SS[.f][Z|±HH:MM|±HHMM]`; no zone means UTC.
fn parse_iso(b: &[u8]) -> Option<Micros> {
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    if !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let base = civil_micros(
        digits(&b[0..4])?,
        digits(&b[5..7])?,
        digits(&b[8..10])?,
        digits(&b[11..13])?,
        digits(&b[14..16])?,
        digits(&b[17..19])?,
    )?;
    let mut rest = &b[19..];
    let mut frac = 0;
    if let [b'.' | b',', tail @ ..] = rest {
        let (f, n) = fraction(tail)?;
        frac = f;
        rest = &tail[n..];
    }
    let offset_secs = match rest {
        [] | [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), tail @ ..] => {
            let (h, m) = match tail {
                [h1, h2, b':', m1, m2] | [h1, h2, m1, m2] => {
                    (digits(&[*h1, *h2])?, digits(&[*m1, *m2])?)
                }
                [h1, h2] => (digits(&[*h1, *h2])?, 0),
                _ => return None,
            };
            if h > 23 || m > 59 {
                return None;
            }
            let o = h * 3600 + m * 60;
            if *sign == b'+' { o } else { -o }
        }
        _ => return None,
    };
    Some(base + frac - offset_secs * MICROS_PER_SEC)
}

/// `M/D/YYYY h:mm[:ss] AM|PM` (UTC), as Windows tools print them.
fn parse_us(s: &str) -> Option<Micros> {
    let (date, rest) = s.split_once(' ')?;
    let mut dp = date.split('/');
    let mo = digits(dp.next()?.as_bytes())?;
    let d = digits(dp.next()?.as_bytes())?;
    let y = digits(dp.next()?.as_bytes())?;
    if dp.next().is_some() || !(1000..=9999).contains(&y) {
        return None;
    }
    let rest = rest.trim();
    let (time, ampm) = match rest.rsplit_once(' ') {
        Some((t, ap)) => (t.trim(), Some(ap)),
        None => (rest, None),
    };
    let mut tp = time.split(':');
    let mut h = digits(tp.next()?.as_bytes())?;
    let mi = digits(tp.next()?.as_bytes())?;
    let sec = match tp.next() {
        Some(x) => digits(x.as_bytes())?,
        None => 0,
    };
    if tp.next().is_some() {
        return None;
    }
    match ampm {
        Some(ap) if ap.eq_ignore_ascii_case("AM") => {
            if !(1..=12).contains(&h) {
                return None;
            }
            if h == 12 {
                h = 0;
            }
        }
        Some(ap) if ap.eq_ignore_ascii_case("PM") => {
            if !(1..=12).contains(&h) {
                return None;
            }
            if h != 12 {
                h += 12;
            }
        }
        Some(_) => return None,
        None => {}
    }
    civil_micros(y, mo, d, h, mi, sec)
}

/// Unix seconds, optionally with a fraction (`1700000000`, `1700000000.25`).
fn parse_unix(b: &[u8]) -> Option<Micros> {
    let (neg, b) = match b {
        [b'-', rest @ ..] => (true, rest),
        _ => (false, b),
    };
    let dot = b.iter().position(|&c| c == b'.');
    let (int, frac) = match dot {
        Some(i) => (&b[..i], Some(&b[i + 1..])),
        None => (b, None),
    };
    let secs = digits(int)?;
    // Beyond year 9999 in seconds is not a plausible file time; refuse rather than overflow.
    if secs > 253_402_300_799 {
        return None;
    }
    let f = match frac {
        Some(f) => {
            let (v, n) = fraction(f)?;
            if n != f.len() {
                return None;
            }
            v
        }
        None => 0,
    };
    let v = secs * MICROS_PER_SEC + f;
    Some(if neg { -v } else { v })
}

/// Parse a timestamp in any of the accepted forms. Surrounding spaces are ignored.
///
/// Errors with a short reason naming the accepted forms; the caller adds file, line and column.
pub fn parse_timestamp(s: &str) -> Result<Micros, String> {
    let t = s.trim();
    let b = t.as_bytes();
    let parsed = if b.len() >= 19 && b[4] == b'-' {
        parse_iso(b)
    } else if b.contains(&b'/') {
        parse_us(t)
    } else {
        parse_unix(b)
    };
    parsed.ok_or_else(|| {
        format!(
            "bad timestamp {t:?}: expected RFC 3339, Unix seconds, \
             'YYYY-MM-DD HH:MM:SS' or 'M/D/YYYY h:mm:ss AM/PM'"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Micros {
        parse_timestamp(s).unwrap()
    }

    #[test]
    fn all_forms_agree() {
        let want = 1_736_937_000 * MICROS_PER_SEC; // 2025-01-15T10:30:00Z
        assert_eq!(ts("2025-01-15T10:30:00Z"), want);
        assert_eq!(ts("2025-01-15T12:30:00+02:00"), want);
        assert_eq!(ts("2025-01-15T05:30:00-0500"), want);
        assert_eq!(ts("2025-01-15 10:30:00"), want);
        assert_eq!(ts("1736937000"), want);
        assert_eq!(ts("1/15/2025 10:30:00 AM"), want);
        assert_eq!(ts("01/15/2025 10:30 AM"), want);
        assert_eq!(ts(" 2025-01-15T10:30:00Z "), want);
    }

    #[test]
    fn fractions_and_noon_midnight() {
        assert_eq!(ts("1970-01-01T00:00:00.5Z"), 500_000);
        assert_eq!(ts("1970-01-01T00:00:00.1234567Z"), 123_456);
        assert_eq!(ts("1.25"), 1_250_000);
        assert_eq!(ts("1/1/1970 12:00:00 AM"), 0);
        assert_eq!(ts("1/1/1970 12:00:00 PM"), 12 * 3600 * MICROS_PER_SEC);
        assert_eq!(ts("1/1/1970 1:00:00 PM"), 13 * 3600 * MICROS_PER_SEC);
    }

    #[test]
    fn refuses_garbage() {
        for bad in [
            "",
            "yesterday",
            "2025-13-01T00:00:00Z",
            "2025-02-30 00:00:00",
            "2025-01-15T25:00:00Z",
            "2025-01-15T10:30:00+25:00",
            "2025-01-15T10:30:00Q",
            "13/1/2025 1:00:00 PM",
            "1/1/2025 13:00:00 PM",
            "1/1/2025 1:00:00 XM",
            "12.5.3",
            "99999999999999999999",
        ] {
            let e = parse_timestamp(bad).unwrap_err();
            assert!(e.contains("bad timestamp"), "{bad}: {e}");
        }
    }

    #[test]
    fn stored_range() {
        assert_eq!(format_rfc3339(STORED_MIN), "0001-01-01T00:00:00Z");
        assert_eq!(format_rfc3339(STORED_MAX), "9999-12-31T23:59:59.999999Z");
        for ok in [STORED_MIN, 0, STORED_MAX, ts("9999-12-31T23:59:59Z")] {
            assert_eq!(check_stored(ok), Ok(ok));
        }
        for bad in [
            STORED_MIN - 1,
            STORED_MAX + 1,
            ts("9999-12-31T23:59:59-01:00"),
            ts("0000-06-01T00:00:00Z"),
            i64::MIN,
            i64::MAX,
        ] {
            let e = check_stored(bad).unwrap_err();
            assert!(e.contains("years 1 to 9999"), "{bad}: {e}");
        }
    }

    #[test]
    fn leap_years() {
        assert!(parse_timestamp("2024-02-29 00:00:00").is_ok());
        assert!(parse_timestamp("2100-02-29 00:00:00").is_err());
        assert!(parse_timestamp("2000-02-29 00:00:00").is_ok());
    }

    #[test]
    fn format_round_trips() {
        for s in [
            "2025-01-15T10:30:00Z",
            "1969-12-31T23:59:59.999999Z",
            "1601-01-01T00:00:00Z",
        ] {
            assert_eq!(format_rfc3339(ts(s)), s);
        }
    }

    proptest::proptest! {
        #[test]
        fn civil_round_trip(days in -1_000_000i64..1_000_000) {
            let (y, m, d) = civil_from_days(days);
            proptest::prop_assert_eq!(days_from_civil(y, m, d), days);
        }

        #[test]
        fn rfc3339_round_trip(t in -10_000_000_000_000_000i64..100_000_000_000_000_000) {
            proptest::prop_assert_eq!(ts(&format_rfc3339(t)), t);
        }
    }
}
