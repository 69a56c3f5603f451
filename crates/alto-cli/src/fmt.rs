//! Human-readable numbers for tables: bytes, counts, durations, rule summaries.

use alto_rules::Rule;

/// `1.2 TB`, `512 B` (powers of 1000, as storage vendors count).
pub(crate) fn bytes(n: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KB", "MB", "GB", "TB", "PB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1000.0 && u < UNITS.len() - 1 {
        v /= 1000.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// `1,234,567`.
pub(crate) fn count(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `3h 12m`, `45s`, `2d 4h`.
pub(crate) fn duration(secs: f64) -> String {
    let s = secs.round() as u64;
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m {}s", s / 60, s % 60),
        3600..86_400 => format!("{}h {}m", s / 3600, (s / 60) % 60),
        _ => format!("{}d {}h", s / 86_400, (s / 3600) % 24),
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_numbers() {
        assert_eq!(bytes(999), "999 B");
        assert_eq!(bytes(1_500_000), "1.5 MB");
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(count(12), "12");
        assert_eq!(duration(59.4), "59s");
        assert_eq!(duration(3725.0), "1h 2m");
        assert_eq!(duration(90_000.0), "1d 1h");
    }
}
