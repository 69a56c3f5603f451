//! Timestamps: microseconds since the Unix epoch, UTC, and the text forms inventories use.
//!
//! Inventories come from many tools, so [`parse_timestamp`] accepts RFC 3339 (any offset, optional
//! fraction), Unix seconds (optionally fractional), `YYYY-MM-DD HH:MM:SS` (UTC) and the US form
//! `M/D/YYYY h:mm:ss AM/PM` (UTC). It is hand-written because the CSV reader parses two timestamps a
//! row at over a million rows a second.

pub use alto_rules::Micros;
use serde::Serialize;

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
    parse_iso_zoned(b).map(|(t, _)| t)
}

/// [`parse_iso`], also saying whether the text had no zone (and was read as UTC).
fn parse_iso_zoned(b: &[u8]) -> Option<(Micros, bool)> {
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
    let zoneless = rest.is_empty();
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
    Some((base + frac - offset_secs * MICROS_PER_SEC, zoneless))
}

/// `s` without surrounding whitespace (Unicode's, as `str::trim`), returned at once when it
/// starts and ends with a visible ASCII character (every well-formed field): this runs for
/// every time of every row.
pub(crate) fn trim(s: &str) -> &str {
    match s.as_bytes() {
        [a, .., b] if a.is_ascii_graphic() && b.is_ascii_graphic() => s,
        [a] if a.is_ascii_graphic() => s,
        _ => s.trim(),
    }
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

/// Which field of an `a/b/yyyy` date is the day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DateOrder {
    /// `dd/mm/yyyy` (most of the world).
    Dmy,
    /// `mm/dd/yyyy` (the United States).
    Mdy,
}

impl DateOrder {
    /// `dmy` or `mdy`.
    pub fn parse(s: &str) -> Result<DateOrder, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "dmy" => Ok(DateOrder::Dmy),
            "mdy" => Ok(DateOrder::Mdy),
            other => Err(format!("bad date order {other:?}: expected dmy or mdy")),
        }
    }

    /// `dmy` or `mdy`.
    pub fn as_str(self) -> &'static str {
        match self {
            DateOrder::Dmy => "dmy",
            DateOrder::Mdy => "mdy",
        }
    }
}

/// A time zone for times written without one (`--timezone Europe/London`). Cheap to clone.
#[derive(Debug, Clone, PartialEq)]
pub struct Zone {
    name: String,
    tz: jiff::tz::TimeZone,
}

impl Zone {
    /// An IANA zone name (`Europe/London`, `America/New_York`, `UTC`), from the tz database built
    /// into Alto (the same on every host).
    pub fn named(name: &str) -> Result<Zone, String> {
        let tz = jiff::tz::TimeZone::get(name.trim()).map_err(|_| {
            format!("unknown time zone {name:?}: expected an IANA name such as Europe/London")
        })?;
        Ok(Zone {
            name: name.trim().to_owned(),
            tz,
        })
    }

    /// The name given.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The instant of a wall-clock time in this zone (a time skipped by a clock change is read as
    /// the later one, a repeated one as the earlier: jiff's "compatible" choice, as RFC 5545).
    fn instant(&self, wall_secs: i64, frac: i64) -> Option<Micros> {
        let days = wall_secs.div_euclid(86_400);
        let sod = wall_secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        let dt = jiff::civil::DateTime::new(
            i16::try_from(y).ok()?,
            m as i8,
            d as i8,
            (sod / 3600) as i8,
            ((sod / 60) % 60) as i8,
            (sod % 60) as i8,
            0,
        )
        .ok()?;
        let ts = self.tz.to_ambiguous_timestamp(dt).compatible().ok()?;
        Some(ts.as_second() * MICROS_PER_SEC + frac)
    }
}

/// How to read the times of one inventory column: the day order of `a/b/yyyy` dates and the
/// zone of times written without one (UTC when `None`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TimeRules {
    /// Day order of `a/b/yyyy`; `None`: such a date is refused as ambiguous.
    pub order: Option<DateOrder>,
    /// Zone of zone-less times; `None`: UTC.
    pub zone: Option<Zone>,
}

/// A parsed time, and whether it was written without a zone (so read in [`TimeRules::zone`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parsed {
    /// The instant.
    pub at: Micros,
    /// The text named no zone.
    pub zoneless: bool,
}

/// Windows FILETIME: 100-nanosecond ticks since 1601-01-01 UTC; 18 digits for the years
/// 1632 to 4769, which no Unix time in seconds or milliseconds reaches.
fn parse_filetime(b: &[u8]) -> Option<Micros> {
    if b.len() != 18 {
        return None;
    }
    let ticks = digits(b)?;
    // 1601-01-01 is 11,644,473,600 s before the Unix epoch.
    Some(ticks / 10 - 11_644_473_600 * MICROS_PER_SEC)
}

/// The fields of a wall-clock time `h[h]:mm[:ss[.f]][ AM|PM]`.
fn parse_clock(t: &str) -> Option<(i64, i64, i64, i64)> {
    let t = t.trim();
    let (clock, ampm) = match t.rsplit_once(' ') {
        Some((c, ap)) => (c.trim(), Some(ap)),
        None => match t
            .len()
            .checked_sub(2)
            .and_then(|i| t.get(i..).map(|s| (i, s)))
        {
            Some((i, ap)) if ap.eq_ignore_ascii_case("AM") || ap.eq_ignore_ascii_case("PM") => {
                (&t[..i], Some(ap))
            }
            _ => (t, None),
        },
    };
    let mut tp = clock.split(':');
    let mut h = digits(tp.next()?.as_bytes())?;
    let mi = digits(tp.next()?.as_bytes())?;
    let (sec, frac) = match tp.next() {
        Some(x) => match x.split_once(['.', ',']) {
            Some((s, f)) => {
                let (v, n) = fraction(f.as_bytes())?;
                if n != f.len() {
                    return None;
                }
                (digits(s.as_bytes())?, v)
            }
            None => (digits(x.as_bytes())?, 0),
        },
        None => (0, 0),
    };
    if tp.next().is_some() || mi > 59 {
        return None;
    }
    match ampm {
        Some(ap) if ap.eq_ignore_ascii_case("AM") || ap.eq_ignore_ascii_case("PM") => {
            if !(1..=12).contains(&h) {
                return None;
            }
            let pm = ap.eq_ignore_ascii_case("PM");
            h = match (h, pm) {
                (12, false) => 0,
                (12, true) => 12,
                (h, true) => h + 12,
                (h, false) => h,
            };
        }
        Some(_) => return None,
        None => {}
    }
    Some((h, mi, sec, frac))
}

/// The date forms with a separator other than `-`: `yyyy/mm/dd`, `dd.mm.yyyy`, `a/b/yyyy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DateForm {
    /// Year, month, day known.
    Ymd(i64, i64, i64),
    /// `a/b/yyyy`: which of a and b is the day is the column's to say.
    Slash(i64, i64, i64),
}

fn parse_date(d: &str) -> Option<DateForm> {
    let b = d.as_bytes();
    let sep = *b.iter().find(|c| matches!(c, b'/' | b'.' | b'-'))?;
    let mut it = d.split(sep as char);
    let (p1, p2, p3) = (it.next()?, it.next()?, it.next()?);
    if it.next().is_some() || p2.is_empty() || p2.len() > 2 {
        return None;
    }
    let (n1, n2, n3) = (
        digits(p1.as_bytes())?,
        digits(p2.as_bytes())?,
        digits(p3.as_bytes())?,
    );
    if p1.len() == 4 && p3.len() <= 2 && sep != b'.' {
        return Some(DateForm::Ymd(n1, n2, n3));
    }
    if p3.len() != 4 || p1.len() > 2 {
        return None;
    }
    match sep {
        b'.' => Some(DateForm::Ymd(n3, n2, n1)),
        b'/' => Some(DateForm::Slash(n1, n2, n3)),
        _ => None,
    }
}

/// The two numbers of an `a/b/yyyy` date at the start of `s`, if it is one (for deciding a
/// column's day order).
pub fn slash_fields(s: &str) -> Option<(u32, u32)> {
    let t = s.trim();
    let date = t.split([' ', 'T']).next()?;
    match parse_date(date)? {
        DateForm::Slash(a, b, _) => Some((a as u32, b as u32)),
        DateForm::Ymd(..) => None,
    }
}

/// Parse a timestamp of an inventory column in any accepted form, with the column's rules.
///
/// Forms: RFC 3339 / ISO 8601 (`T` or space, optional fraction and zone), `yyyy/mm/dd`,
/// `dd.mm.yyyy` and `a/b/yyyy` dates, each with an optional `h:mm[:ss[.f]]` time on a 24-hour or
/// 12-hour (`AM`/`PM`) clock, Unix seconds (optionally fractional), and 18-digit Windows FILETIME.
/// An `a/b/yyyy` date needs [`TimeRules::order`]. A time with no zone is read in
/// [`TimeRules::zone`] (UTC by default) and says so in [`Parsed::zoneless`].
pub fn parse_time_with(s: &str, rules: &TimeRules) -> Result<Parsed, String> {
    let t = trim(s);
    let b = t.as_bytes();
    if b.len() >= 19 && b[4] == b'-' && b[7] == b'-' && b[13] == b':' {
        if let Some((at, zoneless)) = parse_iso_zoned(b) {
            return match (&rules.zone, zoneless) {
                (Some(z), true) => {
                    let sub = at.rem_euclid(MICROS_PER_SEC);
                    z.instant(at.div_euclid(MICROS_PER_SEC), sub)
                        .map(|at| Parsed { at, zoneless })
                        .ok_or_else(|| bad(t))
                }
                _ => Ok(Parsed { at, zoneless }),
            };
        }
    }
    if !b.is_empty() && b.iter().all(|c| c.is_ascii_digit()) && b.len() == 18 {
        return parse_filetime(b)
            .map(|at| Parsed {
                at,
                zoneless: false,
            })
            .ok_or_else(|| bad(t));
    }
    if let Some(at) = parse_unix(b) {
        return Ok(Parsed {
            at,
            zoneless: false,
        });
    }
    let (date, clock) = match t.find([' ', 'T']) {
        Some(i) => (&t[..i], Some(&t[i + 1..])),
        None => (t, None),
    };
    let (y, mo, d) = match parse_date(date).ok_or_else(|| bad(t))? {
        DateForm::Ymd(y, m, d) => (y, m, d),
        DateForm::Slash(a, b2, y) => match rules.order {
            Some(DateOrder::Dmy) => (y, b2, a),
            Some(DateOrder::Mdy) => (y, a, b2),
            None => {
                return Err(format!(
                    "ambiguous date {t:?}: day-first or month-first? (--date-order dmy|mdy)"
                ));
            }
        },
    };
    let (h, mi, sec, frac) = match clock {
        Some(c) => parse_clock(c).ok_or_else(|| bad(t))?,
        None => (0, 0, 0, 0),
    };
    let base = civil_micros(y, mo, d, h, mi, sec).ok_or_else(|| bad(t))?;
    let at = match &rules.zone {
        Some(z) => z
            .instant(base.div_euclid(MICROS_PER_SEC), frac)
            .ok_or_else(|| bad(t))?,
        None => base + frac,
    };
    Ok(Parsed { at, zoneless: true })
}

fn bad(t: &str) -> String {
    format!(
        "bad timestamp {t:?}: expected RFC 3339, Unix seconds, a FILETIME, or a date \
         (yyyy-mm-dd, yyyy/mm/dd, dd.mm.yyyy, a/b/yyyy) with an optional h:mm[:ss] [AM|PM]"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trim_is_str_trim() {
        for s in [
            "",
            " ",
            "x",
            " x",
            "x ",
            "\u{a0}12\u{a0}",
            "12\u{2003}",
            "\t1 2\n",
            "é",
            " é ",
            "1é",
            "\u{85}7",
        ] {
            assert_eq!(trim(s), s.trim(), "{s:?}");
        }
    }

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

    fn with(s: &str, order: Option<DateOrder>, zone: Option<&str>) -> Result<String, String> {
        let rules = TimeRules {
            order,
            zone: zone.map(|z| Zone::named(z).unwrap()),
        };
        parse_time_with(s, &rules).map(|p| format_rfc3339(p.at))
    }

    #[test]
    fn inventory_forms() {
        let dmy = Some(DateOrder::Dmy);
        let mdy = Some(DateOrder::Mdy);
        let want = "2025-11-20T14:03:05Z";
        for (text, order) in [
            ("2025/11/20 14:03:05", None),
            ("2025/11/20 2:03:05 PM", None),
            ("20.11.2025 14:03:05", None),
            ("20/11/2025 14:03:05", dmy),
            ("11/20/2025 2:03:05 PM", mdy),
            ("11/20/2025 02:03:05PM", mdy),
            ("2025-11-20T14:03:05", None),
            ("2025-11-20 14:03:05.000", None),
            ("134081209850000000", None),
        ] {
            assert_eq!(with(text, order, None).as_deref(), Ok(want), "{text}");
        }
        assert_eq!(
            with("20.11.2025 14:03", None, None).as_deref(),
            Ok("2025-11-20T14:03:00Z")
        );
        assert_eq!(
            with("2025/11/20", None, None).as_deref(),
            Ok("2025-11-20T00:00:00Z")
        );
        assert_eq!(
            with("1/1/2025 12:00 AM", mdy, None).as_deref(),
            Ok("2025-01-01T00:00:00Z")
        );
        assert_eq!(
            with("1/1/2025 12:30 PM", dmy, None).as_deref(),
            Ok("2025-01-01T12:30:00Z")
        );
        // a/b/yyyy without an order is refused, never guessed.
        let e = with("3/4/2025", None, None).unwrap_err();
        assert!(e.contains("ambiguous") && e.contains("--date-order"), "{e}");
        for bad in [
            "31.02.2025",
            "2025/13/01",
            "13:00 PM",
            "1/1/2025 13:00 PM",
            "20.11.25",
        ] {
            assert!(with(bad, dmy, None).is_err(), "{bad}");
        }
        // Zones: zone-less text in the zone, explicit offsets and epoch numbers untouched.
        let london = Some("Europe/London");
        assert_eq!(
            with("2025-07-01 12:00:00", None, london).as_deref(),
            Ok("2025-07-01T11:00:00Z")
        );
        assert_eq!(
            with("01.07.2025 12:00", None, london).as_deref(),
            Ok("2025-07-01T11:00:00Z")
        );
        assert_eq!(
            with("2025-07-01T12:00:00Z", None, london).as_deref(),
            Ok("2025-07-01T12:00:00Z")
        );
        assert_eq!(
            with("1751371200", None, london).as_deref(),
            Ok("2025-07-01T12:00:00Z")
        );
        // 01:30 on the spring-forward day does not exist in London: read as the later time.
        assert_eq!(
            with("2025-03-30 01:30:00", None, london).as_deref(),
            Ok("2025-03-30T01:30:00Z")
        );
        let p = parse_time_with("2025-01-01 00:00:00", &TimeRules::default()).unwrap();
        assert!(p.zoneless);
        let p = parse_time_with("2025-01-01T00:00:00+01:00", &TimeRules::default()).unwrap();
        assert!(!p.zoneless);
        assert!(Zone::named("Mars/Olympus").is_err());
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
