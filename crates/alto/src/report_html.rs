//! [`report_html`]: a [`Report`] as one self-contained HTML page (`alto report --format html`).
//!
//! Charts are inline SVG drawn here (no chart library, no script, no font or stylesheet
//! fetched: a Content-Security-Policy forbids every load), so the page reads the same offline, in a
//! mail attachment or printed. Every bar carries its numbers twice: as text a person reads, and
//! exactly as data attributes (`data-section`, `data-key`, `data-label`, `data-files`,
//! `data-bytes`, `data-stubbed-bytes`, `data-planned-bytes`…) so a test, or a script a user
//! writes, can compare them with the JSON form.

use crate::human as fmt;
use crate::report::{Report, ReportEntry, ReportFile, Tally};
use crate::time::format_rfc3339;
use std::fmt::Write as _;

/// Bars drawn per breakdown; the rest are summed in one bar (`data-rest`: how many).
const CHART_ROWS: usize = 20;
const ROW: u32 = 24;
const LABEL_W: u32 = 230;
const BAR_W: u32 = 380;
const WIDTH: u32 = 860;

const STYLE: &str = "\
body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0;color:#1d2330;\
background:#f5f6f8}\
main{max-width:920px;margin:0 auto;padding:24px}\
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:0 0 8px}\
.sub{color:#5b6475;margin:0 0 18px}\
section{background:#fff;border:1px solid #dde1e8;border-radius:8px;padding:16px 18px;margin:0 0 16px}\
.cards{display:flex;flex-wrap:wrap;gap:12px;background:none;border:0;padding:0}\
.card{flex:1 1 160px;background:#fff;border:1px solid #dde1e8;border-radius:8px;padding:12px 14px}\
.card .n{display:block;font-size:20px;font-weight:600}.card .k{color:#5b6475;font-size:12px;\
text-transform:uppercase;letter-spacing:.04em}.card .d{color:#5b6475;font-size:12px}\
svg{display:block;max-width:100%;height:auto}svg text{font-size:12px;fill:#1d2330}\
svg .v{fill:#5b6475}.all{fill:#c9d3e3}.saved{fill:#2f9e6e}.planned{fill:#e0a030}\
.legend span{display:inline-block;width:10px;height:10px;margin:0 4px 0 12px;border-radius:2px}\
.legend{color:#5b6475;font-size:12px;margin:0 0 8px}\
.note{color:#5b6475;font-size:13px}\
table{border-collapse:collapse;width:100%;font-size:13px}\
th,td{text-align:left;padding:4px 6px;border-bottom:1px solid #eef0f4;vertical-align:top}\
td.num,th.num{text-align:right;white-space:nowrap}td.path{word-break:break-all}\
footer{color:#8a93a3;font-size:12px;text-align:center;margin:8px 0 24px}\
@media print{body{background:#fff}section{break-inside:avoid}}";

/// Text or an attribute value, escaped.
fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// At most `n` characters of `s` (with `…`), for a chart label.
fn short(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(n - 1).collect();
        t.push('…');
        t
    }
}

/// A bar's length for `v` of `max`, at least a pixel when `v` is not 0.
fn len(v: u64, max: u64) -> f64 {
    if max == 0 || v == 0 {
        return 0.0;
    }
    (v as f64 / max as f64 * f64::from(BAR_W)).max(1.0)
}

fn tally_attrs(t: &Tally) -> String {
    format!(
        " data-files=\"{}\" data-bytes=\"{}\" data-stubbed-files=\"{}\" data-stubbed-bytes=\"{}\" \
         data-planned-files=\"{}\" data-planned-bytes=\"{}\"",
        t.files, t.bytes, t.stubbed_files, t.stubbed_bytes, t.planned_files, t.planned_bytes
    )
}

/// One bar: the whole in grey, of it the saved part in green and the planned part in amber.
fn bar(o: &mut String, y: u32, attrs: &str, label: &str, t: &Tally, max: u64) {
    let w = len(t.bytes, max);
    let ws = len(t.stubbed_bytes, max);
    let wp = len(t.planned_bytes, max);
    let x = f64::from(LABEL_W);
    let ty = y + 16;
    let value = format!(
        "{} · {} files{}{}",
        fmt::bytes(t.bytes),
        fmt::count(t.files),
        if t.stubbed_bytes > 0 {
            format!(" · saved {}", fmt::bytes(t.stubbed_bytes))
        } else {
            String::new()
        },
        if t.planned_bytes > 0 {
            format!(" · planned {}", fmt::bytes(t.planned_bytes))
        } else {
            String::new()
        },
    );
    let _ = write!(
        o,
        "<g class=\"bar\"{attrs}{}><title>{}: {}</title>\
         <text x=\"0\" y=\"{ty}\">{}</text>\
         <rect class=\"all\" x=\"{x}\" y=\"{}\" width=\"{w:.1}\" height=\"16\" rx=\"2\"></rect>\
         <rect class=\"saved\" x=\"{x}\" y=\"{}\" width=\"{ws:.1}\" height=\"16\"></rect>\
         <rect class=\"planned\" x=\"{:.1}\" y=\"{}\" width=\"{wp:.1}\" height=\"16\"></rect>\
         <text class=\"v\" x=\"{:.1}\" y=\"{ty}\">{}</text></g>",
        tally_attrs(t),
        esc(label),
        esc(&value),
        esc(&short(label, 34)),
        y + 4,
        y + 4,
        x + ws,
        y + 4,
        x + w + 6.0,
        esc(&value),
    );
}

fn chart(o: &mut String, section: &str, title: &str, entries: &[ReportEntry], all_rows: bool) {
    let shown = if all_rows {
        entries.len()
    } else {
        entries.len().min(CHART_ROWS)
    };
    let rest = &entries[shown..];
    let rows = shown as u32 + u32::from(!rest.is_empty());
    let max = entries.iter().map(|e| e.tally.bytes).max().unwrap_or(0);
    let h = rows.max(1) * ROW + 4;
    let _ = write!(
        o,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\"{}\" \
         viewBox=\"0 0 {WIDTH} {h}\" width=\"{WIDTH}\" height=\"{h}\">",
        esc(title)
    );
    for (i, e) in entries[..shown].iter().enumerate() {
        let key = e
            .key
            .as_ref()
            .map_or_else(String::new, |k| format!(" data-key=\"{}\"", esc(k)));
        let attrs = format!(
            " data-section=\"{section}\"{key} data-label=\"{}\"",
            esc(&e.label)
        );
        bar(o, i as u32 * ROW, &attrs, &e.label, &e.tally, max);
    }
    if !rest.is_empty() {
        let mut t = Tally::default();
        for e in rest {
            t.merge(&e.tally);
        }
        let label = format!("({} more)", rest.len());
        let attrs = format!(" data-section=\"{section}\" data-rest=\"{}\"", rest.len());
        bar(o, shown as u32 * ROW, &attrs, &label, &t, max.max(t.bytes));
    }
    o.push_str("</svg>");
}

fn card(o: &mut String, key: &str, title: &str, files: u64, bytes: u64, detail: &str) {
    let _ = write!(
        o,
        "<div class=\"card\" data-total=\"{key}\" data-files=\"{files}\" data-bytes=\"{bytes}\">\
         <span class=\"k\">{}</span><span class=\"n\">{}</span>\
         <span class=\"d\">{} files{}</span></div>",
        esc(title),
        esc(&fmt::bytes(bytes)),
        esc(&fmt::count(files)),
        esc(detail)
    );
}

fn day(t: Option<i64>) -> String {
    t.map_or_else(|| "–".into(), |t| format_rfc3339(t)[..10].to_owned())
}

fn files_table(o: &mut String, list: &str, title: &str, files: &[ReportFile]) {
    if files.is_empty() {
        return;
    }
    let _ = write!(
        o,
        "<section data-list=\"{list}\"><h2>{}</h2><table><thead><tr><th class=\"num\">Size</th>\
         <th>Last access</th><th>Modified</th><th>State</th><th>Owner</th><th>Share</th>\
         <th>Path</th></tr></thead><tbody>",
        esc(title)
    );
    for f in files {
        let _ = write!(
            o,
            "<tr data-size=\"{}\"><td class=\"num\">{}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td>{}</td><td>{}</td><td class=\"path\">{}</td></tr>",
            f.size,
            esc(&fmt::bytes(f.size)),
            day(f.accessed),
            day(f.modified),
            f.state.map_or("–", |s| s.as_str()),
            esc(f.owner.as_deref().unwrap_or("–")),
            esc(&f.share),
            esc(&f.path),
        );
    }
    o.push_str("</tbody></table></section>");
}

/// The report as one self-contained HTML page with charts (inline SVG; no script, nothing
/// fetched), as `alto report --format html` writes it.
pub fn report_html(r: &Report) -> String {
    let mut o = String::with_capacity(64 * 1024);
    let scope = r
        .share
        .as_ref()
        .map_or_else(|| "all shares".to_owned(), |s| format!("share {s}"));
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src 'unsafe-inline'\">\
         <title>Alto report: tenant {}</title><style>{STYLE}</style></head><body><main>\
         <h1>Alto report: tenant {}</h1><p class=\"sub\" data-now=\"{}\">{} · at {}</p>",
        esc(&r.tenant),
        esc(&r.tenant),
        esc(&r.now),
        esc(&scope),
        esc(&r.now),
    );
    let t = &r.totals;
    o.push_str("<section class=\"cards\" data-section=\"totals\">");
    card(&mut o, "all", "Files", t.files, t.bytes, "");
    card(
        &mut o,
        "saved",
        "Saved (stubbed)",
        t.saved.files,
        t.saved.bytes,
        &format!(" · {}", pct(t.saved.bytes, t.bytes)),
    );
    card(
        &mut o,
        "planned",
        "Planned",
        t.planned.files,
        t.planned.bytes,
        &format!(" · {}", pct(t.planned.bytes, t.bytes)),
    );
    card(
        &mut o,
        "missing",
        "Missing (left out)",
        t.missing.files,
        t.missing.bytes,
        "",
    );
    o.push_str("</section>");
    for (name, title, entries) in r.sections() {
        let _ = write!(
            o,
            "<section data-chart=\"{name}\"><h2>{}</h2>\
             <p class=\"legend\"><span class=\"all\" style=\"background:#c9d3e3\"></span>bytes\
             <span style=\"background:#2f9e6e\"></span>saved (stubbed)\
             <span style=\"background:#e0a030\"></span>planned</p>",
            esc(title)
        );
        if name == "owner" && !r.owners_recorded {
            o.push_str(
                "<p class=\"note\">The inventory records no owners: every file is under \
                 “(not recorded)”.</p>",
            );
        }
        if name == "age" {
            o.push_str(
                "<p class=\"note\">Age of the last access (of the last modification when no \
                 access time is known).</p>",
            );
        }
        chart(
            &mut o,
            name,
            title,
            entries,
            matches!(name, "age" | "size" | "state"),
        );
        o.push_str("</section>");
    }
    if let Some(w) = &r.what_if {
        let from = w
            .rules
            .as_ref()
            .map_or_else(String::new, |n| format!(" ({})", esc(n)));
        let _ = write!(
            o,
            "<section data-chart=\"what_if\" data-files=\"{}\" data-bytes=\"{}\" \
             data-bytes-saved=\"{}\"><h2>What-if{from}</h2><p>Would tier {} files, {} \
             (frees {}), in {} jobs, about {}; {} files skipped as already stubbed.</p>",
            w.files_matched,
            w.bytes_matched,
            w.bytes_saved,
            esc(&fmt::count(w.files_matched)),
            esc(&fmt::bytes(w.bytes_matched)),
            esc(&fmt::bytes(w.bytes_saved)),
            esc(&fmt::count(w.jobs)),
            esc(&fmt::duration(w.estimated_seconds)),
            esc(&fmt::count(w.files_skipped)),
        );
        let entries: Vec<ReportEntry> = w
            .by_rule
            .iter()
            .filter(|rt| !w.disabled_rules.contains(&rt.rule))
            .map(|rt| {
                ReportEntry::new(
                    Some(rt.rule.clone()),
                    rt.rule.clone(),
                    Tally {
                        files: rt.files,
                        bytes: rt.bytes,
                        ..Tally::default()
                    },
                )
            })
            .collect();
        chart(&mut o, "what_if", "What-if by rule", &entries, true);
        o.push_str("</section>");
    }
    files_table(&mut o, "largest", "Largest files", &r.largest);
    files_table(&mut o, "oldest", "Oldest files (by last access)", &r.oldest);
    o.push_str(
        "<footer>Made by alto report. Sizes in powers of 1000; buckets in powers of 1024.\
         </footer></main></body></html>\n",
    );
    o
}

fn pct(part: u64, whole: u64) -> String {
    if whole == 0 {
        "–".into()
    } else {
        format!("{:.1}%", part as f64 * 100.0 / whole as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        assert_eq!(
            esc(r#"<a href="x">&'"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
        assert_eq!(short("abcdef", 4), "abc…");
        assert_eq!(len(0, 10), 0.0);
        assert_eq!(len(1, 1_000_000), 1.0, "a non-empty bar is visible");
        assert_eq!(len(10, 10), f64::from(BAR_W));
    }
}
