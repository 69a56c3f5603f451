//! Hostile rows, shared by `alto-pg/tests/hostile_rows.rs` and `alto-sqlite/tests/hostile_rows.rs`
//! (which includes this file by path): the same inventory goes into a store and into the reference
//! memory store through the ingest driver, and both must end the same — the same rows accepted,
//! the same rejected with the same FILE:LINE and column, nothing else changed, and a re-run
//! changes nothing.

#![allow(dead_code, unreachable_pub)]

use alto_core::ingest::{IngestOptions, IngestReport, ingest};
use alto_core::inventory::{ColumnMap, CsvInventory, MAX_PATH_BYTES, Rejection};
use alto_core::path::{LONG_KEY_MARKER, LONG_KEY_SEGMENT, MAX_KEY_BYTES};
use alto_core::store::{FileQuery, ScanKind, ShareSpec};
use alto_core::types::{ShareKind, TenantSettings};
use alto_core::{MemoryStore, Store, TenantId};

/// A path of exactly `len` bytes under `prefix`, of characters that do not compress (an index
/// entry PostgreSQL cannot shrink), from `alphabet`.
pub fn long_path(prefix: &str, len: usize, alphabet: &[char]) -> String {
    let mut s = String::from(prefix);
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    loop {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let c = alphabet[(x % alphabet.len() as u64) as usize];
        if s.len() + c.len_utf8() > len {
            break;
        }
        s.push(c);
    }
    while s.len() < len {
        s.push('z');
    }
    s
}

pub fn utf8_alphabet() -> Vec<char> {
    vec!['é', 'ß', '日', '本', 'ж', 'ü', '🎉', 'a', 'Q']
}

pub fn ascii_alphabet() -> Vec<char> {
    ('a'..='z').chain('A'..='Z').chain('0'..='9').collect()
}

fn q(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// Paths that are legal and must be stored byte-exact.
pub fn legal_paths() -> Vec<String> {
    vec![
        "/h/new\nline\tand tab.txt".to_owned(),
        "/h/ctl \u{1}\u{1b}[31m\u{7f} bell\u{7}".to_owned(),
        // Weird but valid UTF-8: bidi override, zero-width joiner sequences, a BOM inside,
        // a noncharacter, the last code point, combining marks piled up, a lone combining mark.
        "/h/rtl \u{202e}gpj.exe".to_owned(),
        "/h/family \u{1f468}\u{200d}\u{1f469}\u{200d}\u{1f467} zwj".to_owned(),
        "/h/bom\u{feff}inside".to_owned(),
        "/h/nonchar \u{fffe}\u{ffff} last \u{10ffff}".to_owned(),
        "/h/zalgo a\u{300}\u{301}\u{302}\u{303}\u{304}\u{305}".to_owned(),
        "/h/\u{301}lone combining".to_owned(),
        "/h/ideographic\u{3000}space and nbsp\u{a0}".to_owned(),
        // At the key limit: its own key, which PostgreSQL indexes (incompressible).
        long_path("/h/at-key-limit/", MAX_KEY_BYTES, &ascii_alphabet()),
        long_path("/h/at-key-limit-utf8/", MAX_KEY_BYTES, &utf8_alphabet()),
        // Longer: stored under a bounded key (PATH_MAX, and two paths alike for 3,000 bytes).
        long_path("/h/4000/", 4_000, &ascii_alphabet()),
        format!(
            "{}/other",
            &long_path("/h/4000/", 4_000, &ascii_alphabet())[..3_000]
        ),
        long_path("/h/4000-utf8/", 4_000, &utf8_alphabet()),
        // At the path limit.
        long_path("/h/at-limit/", MAX_PATH_BYTES, &ascii_alphabet()),
    ]
}

/// The hostile inventory and the rejections it must give: (line, column).
pub fn inventory() -> (Vec<u8>, Vec<(u64, &'static str)>) {
    let mut out: Vec<u8> =
        b"file_path,file_size,last_modified,last_accessed,file_extension,permissions,owner,hash\n"
            .to_vec();
    let mut line = 1u64;
    let mut want = Vec::new();
    let mut row = |out: &mut Vec<u8>, text: &[u8], reject: Option<&'static str>| {
        line += 1;
        if let Some(c) = reject {
            want.push((line, c));
        }
        out.extend_from_slice(text);
        line += text[..text.len() - 1]
            .iter()
            .filter(|&&b| b == b'\n')
            .count() as u64;
    };
    // A NUL in a path near the top: this row alone, not the file.
    row(&mut out, b"\"/h/nul\x00byte\",1,,,,,,\n", Some("file_path"));
    row(
        &mut out,
        b"/h/size-max,9223372036854775807,2024-01-01T00:00:00Z,,,,,\n",
        None,
    );
    row(
        &mut out,
        b"/h/size-2^63,9223372036854775808,,,,,,\n",
        Some("file_size"),
    );
    row(
        &mut out,
        b"/h/size-2^64,18446744073709551616,,,,,,\n",
        Some("file_size"),
    );
    row(&mut out, b"/h/negative,-1,,,,,,\n", Some("file_size"));
    row(
        &mut out,
        b"/h/year-9999,1,9999-12-31T23:59:59.999999Z,0001-01-01T00:00:00Z,,,,\n",
        None,
    );
    row(
        &mut out,
        b"/h/year-10000,1,9999-12-31T23:59:59-01:00,,,,,\n",
        Some("last_modified"),
    );
    row(
        &mut out,
        b"/h/year-10000-unix,1,,253402300800,,,,\n",
        Some("last_accessed"),
    );
    row(
        &mut out,
        b"/h/year-0,1,,0000-06-01T00:00:00Z,,,,\n",
        Some("last_accessed"),
    );
    row(
        &mut out,
        b"/h/bc,1,-62135596801,,,,,\n",
        Some("last_modified"),
    );
    // A segment that could pose as a long path's key.
    let marker = format!("/h/{LONG_KEY_MARKER}{}", "~".repeat(LONG_KEY_SEGMENT - 16));
    row(
        &mut out,
        format!("{},1,,,,,,\n", q(&marker)).as_bytes(),
        Some("file_path"),
    );
    let just_over = long_path("/h/over/", MAX_PATH_BYTES + 1, &ascii_alphabet());
    row(
        &mut out,
        format!("{},1,,,,,,\n", q(&just_over)).as_bytes(),
        Some("file_path"),
    );
    for (i, p) in legal_paths().iter().enumerate() {
        row(
            &mut out,
            format!(
                "{},{i},2024-02-0{}T00:00:00Z,,,,\"own\ner\",\n",
                q(p),
                1 + i % 9
            )
            .as_bytes(),
            None,
        );
    }
    row(&mut out, b"\"/h/after\",5,,,,,,\n", None);
    (out, want)
}

/// A clean inventory ingested first: nothing of it may change when the hostile one comes.
pub fn baseline() -> Vec<u8> {
    let mut out = b"file_path,file_size,last_modified\n".to_vec();
    for i in 0..20 {
        out.extend_from_slice(format!("/base/f{i},{i},2023-01-01T00:00:00Z\n").as_bytes());
    }
    out
}

pub async fn run(
    store: &dyn Store,
    t: TenantId,
    path: &std::path::Path,
) -> (IngestReport, Vec<Rejection>) {
    let mut src = CsvInventory::open(path, &ColumnMap::new()).unwrap();
    let opts = IngestOptions {
        kind: ScanKind::Full,
        chunk_rows: Some(4),
        source: None,
        path_prefix: None,
        ..IngestOptions::default()
    };
    let mut rejected = Vec::new();
    let report = ingest(
        store,
        t,
        "s",
        &mut src,
        &opts,
        |r| rejected.push(r.clone()),
        |_, _| {},
    )
    .await
    .unwrap_or_else(|e| panic!("{} ingest failed: {e}", store.backend()));
    (report, rejected)
}

pub type Seen = Vec<(String, alto_core::FileEntry, alto_core::AccessSource, bool)>;

pub async fn records(store: &dyn Store, t: TenantId) -> Seen {
    let mut q = FileQuery {
        include_missing: true,
        limit: 7,
        ..Default::default()
    };
    let mut out = Vec::new();
    loop {
        let page = store.files(t, &q).await.unwrap();
        out.extend(page.items.into_iter().map(|f| {
            (
                format!("{}|{}", f.share, f.path_key),
                f.entry,
                f.accessed_source,
                f.missing_since.is_some(),
            )
        }));
        match page.next {
            Some(n) => q.after = Some(n),
            None => return out,
        }
    }
}

fn counts(r: &IngestReport) -> [u64; 9] {
    [
        r.accepted,
        r.rejected,
        r.new,
        r.changed,
        r.unchanged,
        r.missing,
        r.chunks_applied,
        r.chunks_skipped,
        u64::from(r.left_open),
    ]
}

/// Feed the baseline, then the hostile inventory twice, to `store` and to a memory store; assert
/// they agree at every step and with the expected rejections. Returns `store`'s tenant.
pub async fn same_as_memory(store: &dyn Store) -> TenantId {
    let mem = MemoryStore::new();
    let dir = tempfile::tempdir().unwrap();
    let (base, hostile) = (dir.path().join("base.csv"), dir.path().join("hostile.csv"));
    std::fs::write(&base, baseline()).unwrap();
    let (bytes, want) = inventory();
    std::fs::write(&hostile, bytes).unwrap();
    let mut tenants = Vec::new();
    for s in [store, &mem as &dyn Store] {
        let t = s
            .create_tenant("hostile", &TenantSettings::default())
            .await
            .unwrap();
        s.ensure_share(t.id, &ShareSpec::new("s", ShareKind::Posix))
            .await
            .unwrap();
        tenants.push(t.id);
    }
    let name = hostile.display().to_string();
    let legal = legal_paths().len() as u64;
    let mut before: Option<Seen> = None;
    for (step, file) in [&base, &hostile, &hostile].into_iter().enumerate() {
        let (sr, srej) = run(store, tenants[0], file).await;
        let (mr, mrej) = run(&mem, tenants[1], file).await;
        assert_eq!(counts(&sr), counts(&mr), "step {step}: reports");
        assert_eq!(srej, mrej, "step {step}: the same rows are rejected");
        let (s, m) = (
            records(store, tenants[0]).await,
            records(&mem, tenants[1]).await,
        );
        assert_eq!(s.len(), m.len(), "step {step}");
        for (a, b) in s.iter().zip(&m) {
            assert_eq!(
                a, b,
                "step {step}: a record differs from the memory store's"
            );
        }
        if step == 0 {
            assert_eq!((sr.new, sr.rejected), (20, 0));
        } else {
            let got: Vec<_> = srej
                .iter()
                .map(|r| (r.source.as_str(), r.line, r.column.unwrap_or_default()))
                .collect();
            let expect: Vec<_> = want.iter().map(|(l, c)| (name.as_str(), *l, *c)).collect();
            assert_eq!(got, expect, "step {step}: {srej:#?}");
            // Accepted: the size/time edge rows, the legal paths and the last row.
            assert_eq!(sr.accepted, 2 + legal + 1, "step {step}");
            assert!(
                sr.left_open,
                "a full scan with rejected rows marks nothing missing"
            );
            if step == 1 {
                assert_eq!((sr.new, sr.changed), (sr.accepted, 0));
                // Nothing else changed: the baseline's records are all still there, as they were.
                let base = before.as_ref().unwrap();
                for b in base {
                    assert!(s.contains(b), "{b:?} changed");
                }
                assert_eq!(s.len() as u64, 20 + sr.accepted);
            } else {
                // A re-run changes nothing.
                assert_eq!((sr.new, sr.changed, sr.unchanged), (0, 0, sr.accepted));
                assert_eq!(Some(&s), before.as_ref(), "the re-run changed records");
            }
        }
        // Every legal path is stored byte-exact.
        if step > 0 {
            for p in legal_paths() {
                assert!(
                    s.iter().any(|(_, e, _, _)| e.path == p),
                    "{} is not stored",
                    p.escape_debug()
                );
            }
        }
        before = Some(s);
    }
    tenants[0]
}
