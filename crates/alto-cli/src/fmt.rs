//! Human-readable numbers for tables: bytes, counts and durations (the SDK's, [`alto::human`],
//! which the report pages use too) and rule summaries.

use alto_rules::Rule;

pub(crate) use alto::human::{bytes, count, duration};

fn micros_as_duration(m: i64) -> String {
    let s = m / 1_000_000;
    for (unit, len) in [
        ("y", 365 * 86_400),
        ("w", 7 * 86_400),
        ("d", 86_400),
        ("h", 3600),
        ("m", 60),
    ] {
        if s >= len && s % len == 0 {
            return format!("{}{unit}", s / len);
        }
    }
    format!("{s}s")
}

/// A one-line summary of a rule's conditions.
pub(crate) fn conditions(r: &Rule) -> String {
    let mut parts = Vec::new();
    if !r.include.is_empty() {
        parts.push(format!("include {}", r.include.join(" ")));
    }
    if !r.exclude.is_empty() {
        parts.push(format!("exclude {}", r.exclude.join(" ")));
    }
    if let Some(re) = &r.regex {
        parts.push(format!("regex /{re}/"));
    }
    if let Some(n) = r.min_size {
        parts.push(format!("size >= {}", bytes(n)));
    }
    if let Some(n) = r.max_size {
        parts.push(format!("size <= {}", bytes(n)));
    }
    for (name, v) in [
        ("accessed before", r.accessed_before),
        ("accessed after", r.accessed_after),
        ("modified before", r.modified_before),
        ("modified after", r.modified_after),
    ] {
        if let Some(d) = v {
            parts.push(format!("{name} now-{}", micros_as_duration(d)));
        }
    }
    if !r.extensions.is_empty() {
        parts.push(format!("ext {}", r.extensions.join(",")));
    }
    if !r.exclude_extensions.is_empty() {
        parts.push(format!("not ext {}", r.exclude_extensions.join(",")));
    }
    if parts.is_empty() {
        "every file".into()
    } else {
        parts.join("; ")
    }
}
