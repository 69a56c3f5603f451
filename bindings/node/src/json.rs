//! Pages as JSON text, written off the JS thread (`listing.nextPageJson()`): the same text
//! `JSON.stringify` writes for the objects `nextPage()` resolves to — camelCase fields in
//! declaration order, absent fields left out, times as `Date#toJSON` writes them, numbers as
//! JavaScript prints them — except that a size of 2^53 or more, a `bigint` in JavaScript, is an
//! exact JSON number.
//!
//! The records ([`crate::records`]) derive `Serialize` with the attributes below, so the object
//! and its JSON text come from one field list.

use crate::records::Size;
use chrono::{DateTime, Datelike, Timelike, Utc};
use napi::bindgen_prelude::Either;
use serde::Serializer;
use std::io::{self, Write};

/// JSON text of `value`, numbers formatted as JavaScript formats them.
pub(crate) fn to_string<T: serde::Serialize>(value: &T) -> alto::Result<String> {
    let mut ser = serde_json::Serializer::with_formatter(Vec::with_capacity(16 * 1024), JsNumbers);
    value
        .serialize(&mut ser)
        .map_err(|e| alto::Error::new(alto::ErrorKind::Backend, format!("JSON: {e}")))?;
    // serde_json writes UTF-8 only.
    String::from_utf8(ser.into_inner())
        .map_err(|e| alto::Error::new(alto::ErrorKind::Backend, format!("JSON: {e}")))
}

/// serde_json's compact output, with floating-point numbers written as `Number#toString`
/// writes them (`5`, not `5.0`; `1e+21`, not `1e21`). Integers and strings are already written
/// alike (`\u001f`-style escapes, lower-case hex, nothing else escaped).
struct JsNumbers;

impl serde_json::ser::Formatter for JsNumbers {
    fn write_f64<W: ?Sized + Write>(&mut self, w: &mut W, v: f64) -> io::Result<()> {
        // serde_json writes `null` for NaN and the infinities itself, as JSON.stringify does.
        let a = v.abs();
        if v == 0.0 {
            w.write_all(b"0") // -0 too
        } else if (1e-6..1e21).contains(&a) {
            // Plain decimal notation with the shortest round-trip digits: Rust's `Display`
            // and JavaScript agree here.
            write!(w, "{v}")
        } else {
            // Exponent notation: JavaScript writes the exponent's sign (`1e+21`, `1.5e-7`).
            let s = format!("{v:e}");
            match s.split_once('e') {
                Some((m, e)) if !e.starts_with('-') => write!(w, "{m}e+{e}"),
                _ => w.write_all(s.as_bytes()),
            }
        }
    }

    fn write_f32<W: ?Sized + Write>(&mut self, w: &mut W, v: f32) -> io::Result<()> {
        self.write_f64(w, f64::from(v))
    }
}

/// A size as its exact JSON number, whether JavaScript holds it as a `number` or a `bigint`.
pub(crate) fn size<S: Serializer>(v: &Size, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Either::A(n) => s.serialize_i64(*n),
        Either::B(b) => {
            let (negative, n, lossless) = b.get_u64();
            if negative || !lossless {
                return Err(serde::ser::Error::custom("size out of range"));
            }
            s.serialize_u64(n)
        }
    }
}

/// A time as `Date#toJSON` writes it: milliseconds, UTC, `2025-11-01T00:00:00.000Z` (years
/// outside 0..=9999 as `+010000`, `-000001`, as in JavaScript).
pub(crate) fn date<S: Serializer>(d: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    // The `Date` the addon makes holds `timestamp_millis()`: the time rounded down to a
    // millisecond.
    let t = DateTime::from_timestamp_millis(d.timestamp_millis()).unwrap_or_default();
    let year = t.year();
    let y = if (0..=9999).contains(&year) {
        format!("{year:04}")
    } else {
        format!("{year:+07}")
    };
    s.collect_str(&format_args!(
        "{y}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.timestamp_subsec_millis()
    ))
}

/// [`date`] of a time that is there (absent ones are skipped with `skip_serializing_if`).
pub(crate) fn opt_date<S: Serializer>(d: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => date(d, s),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(v: f64) -> String {
        to_string(&v).unwrap()
    }

    #[test]
    fn numbers_as_javascript_writes_them() {
        // Expected: what `String(v)` gives in Node.
        assert_eq!(num(5.0), "5");
        assert_eq!(num(-0.0), "0");
        assert_eq!(num(0.1), "0.1");
        assert_eq!(num(12.345), "12.345");
        assert_eq!(num(1e-6), "0.000001");
        assert_eq!(num(1.5e-7), "1.5e-7");
        assert_eq!(num(1e21), "1e+21");
        assert_eq!(num(1.2345e22), "1.2345e+22");
        assert_eq!(num(123456789012345680000.0), "123456789012345680000");
        assert_eq!(num(f64::NAN), "null");
        assert_eq!(to_string(&(1u64 << 60)).unwrap(), "1152921504606846976");
    }

    #[derive(serde::Serialize)]
    struct T(#[serde(serialize_with = "date")] DateTime<Utc>);

    fn iso(micros: i64) -> String {
        to_string(&T(DateTime::from_timestamp_micros(micros).unwrap())).unwrap()
    }

    #[test]
    fn times_as_date_to_json_writes_them() {
        assert_eq!(iso(0), "\"1970-01-01T00:00:00.000Z\"");
        assert_eq!(iso(1_762_000_000_123_999), "\"2025-11-01T12:26:40.123Z\"");
        // Before the epoch, the millisecond below (a Date holds whole milliseconds).
        assert_eq!(iso(-1), "\"1969-12-31T23:59:59.999Z\"");
        assert_eq!(iso(-62_135_596_800_000_000), "\"0001-01-01T00:00:00.000Z\"");
        assert_eq!(
            iso(253_402_300_800_000_000),
            "\"+010000-01-01T00:00:00.000Z\""
        );
    }
}
