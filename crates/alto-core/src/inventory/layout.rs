//! Where an inventory's rows start and how they split: the byte stream (compression, encoding),
//! the header line (past `#` lines and a preamble, or `--skip-lines`), the delimiter, the preset,
//! and the day order of `a/b/yyyy` date columns (a first pass over the file, [`super::dates`]).
//! Every guess is said in a note; a file that fits none is refused naming the likeliest cause.

use super::csv::field;
use super::dates::{OrderEvidence, decide};
use super::input::{self, Encoding};
use super::preset::{Preset, PresetSpec};
use super::split::RecordReader;
use super::{ColumnMap, InventoryOptions};
use crate::error::{Error, Result};
use crate::time::DateOrder;
use std::fs::File;
use std::io::{BufRead, BufReader, Cursor, Read};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

/// Lines searched for the header before giving up.
pub(super) const HEADER_SEARCH_LINES: usize = 200;

/// The longest line looked at while searching for the header.
pub(super) const MAX_HEADER_LINE_BYTES: u64 = 1 << 20;

/// Rows looked at for an `a/b/yyyy` date before deciding a file has none (no pre-pass then).
pub(super) const DATE_PROBE_ROWS: u64 = 1000;

pub(super) type Stream = Box<dyn Read + Send>;

/// Where the rows start and how to split them.
#[derive(Debug, Clone)]
pub(super) struct Layout {
    pub(super) delimiter: u8,
    pub(super) names: Vec<String>,
    /// 0-based index of the first data line.
    pub(super) data_line: usize,
    pub(super) preset: Option<Preset>,
    pub(super) columns: ColumnMap,
    pub(super) notes: Vec<String>,
}

pub(super) struct Opened {
    /// The records, from the first data line.
    pub(super) reader: RecordReader,
    pub(super) layout: Layout,
    pub(super) consumed: Arc<AtomicU64>,
    pub(super) total: u64,
}

/// The raw bytes of an inventory, counted as they are read.
pub(super) struct RawInput {
    pub(super) stream: Stream,
    pub(super) total: u64,
    pub(super) consumed: Arc<AtomicU64>,
}

pub(super) fn open_file(path: &Path, source: &str) -> Result<RawInput> {
    let file =
        File::open(path).map_err(|e| Error::from(e).prefixed(&format!("cannot open {source}")))?;
    let total = file.metadata().map(|m| m.len()).unwrap_or(0);
    let (counting, consumed) = input::Counting::new(file);
    Ok(RawInput {
        stream: Box::new(counting),
        total,
        consumed,
    })
}

/// Open the byte stream, find the layout, and position a CSV reader at the first data line.
pub(super) fn open_records(
    raw: RawInput,
    options: &InventoryOptions,
    source: &str,
) -> Result<Opened> {
    let RawInput {
        stream: raw,
        total,
        consumed,
    } = raw;
    let (mut stream, compression) = input::decompress(BufReader::with_capacity(1 << 16, raw))?;
    let mut head = vec![0u8; 8192];
    let n = read_up_to(&mut stream, &mut head)?;
    head.truncate(n);
    if n == 0 {
        return Err(Error::invalid_input(format!(
            "{source}: not an inventory: the file is empty"
        )));
    }
    let mut notes = Vec::new();
    let (encoding, skip) = match input::bom(&head) {
        Some((e, len)) => (e, len),
        None => match options.encoding {
            Some(e) => (e, 0),
            None => {
                if let Some(e) = input::looks_utf16(&head) {
                    let name = if e == Encoding::Utf16Le {
                        "utf-16le"
                    } else {
                        "utf-16be"
                    };
                    return Err(Error::invalid_input(format!(
                        "{source}: not an inventory as it is: the text looks like UTF-16 without a \
                         byte-order mark (PowerShell 5.1's `>` writes UTF-16); give \
                         --encoding {name}"
                    )));
                }
                (Encoding::Utf8, 0)
            }
        },
    };
    if encoding == Encoding::Utf8 && looks_binary(&head[skip..]) {
        let what = match compression {
            input::Compression::None => "binary data",
            _ => "binary data inside the compressed file",
        };
        return Err(Error::invalid_input(format!(
            "{source}: not an inventory: {what} (expected CSV with a header line, Parquet, \
             or either compressed with gzip or zstd; for Windows-1252 or Latin-1 text give \
             --encoding)"
        )));
    }
    if compression != input::Compression::None {
        notes.push(format!(
            "{source}: {} compressed, read as it streams",
            if compression == input::Compression::Gzip {
                "gzip"
            } else {
                "zstd"
            }
        ));
    }
    let body: Stream = Box::new(Cursor::new(head[skip..].to_vec()).chain(stream));
    let text: Stream = match encoding {
        Encoding::Utf8 => body,
        e => Box::new(input::ToUtf8::new(body, e)),
    };
    let mut buffered = BufReader::with_capacity(1 << 16, text);
    // The lines before the data, kept to hand to the CSV reader again.
    let mut pre: Vec<u8> = Vec::new();
    let mut starts: Vec<usize> = Vec::new();
    let mut layout = None;
    let mut tried: Vec<(usize, String)> = Vec::new();
    let mut type_line: Option<String> = None;
    let spec = options.preset.map(Preset::spec);
    let headerless = options.headerless.clone().or_else(|| {
        spec.and_then(|s| s.headerless)
            .map(|h| h.iter().map(|s| (*s).to_owned()).collect())
    });
    let skip_lines = options.skip_lines.unwrap_or(0);
    for i in 0..HEADER_SEARCH_LINES.max(skip_lines + 1) {
        let start = pre.len();
        // A line without an end (`\r`-only line ends, one huge line) must not fill memory.
        let n = (&mut buffered)
            .take(MAX_HEADER_LINE_BYTES)
            .read_until(b'\n', &mut pre)?;
        if n == 0 {
            break;
        }
        if n as u64 == MAX_HEADER_LINE_BYTES && !pre.ends_with(b"\n") {
            return Err(Error::invalid_input(format!(
                "{source}:{}: not an inventory: a line longer than {} KiB before any header \
                 (lines ending in `\\r` alone?)",
                i + 1,
                MAX_HEADER_LINE_BYTES / 1024
            )));
        }
        starts.push(start);
        if i < skip_lines {
            continue;
        }
        let line = String::from_utf8_lossy(&pre[start..]);
        let line = line.trim_end_matches(['\n', '\r']);
        if line.trim().is_empty() {
            continue;
        }
        // A `#` line before the header is a comment (PowerShell's `#TYPE`); in a headerless
        // file it may be a row (a relative name starting with `#`), so it is kept.
        if line.starts_with('#') && headerless.is_none() {
            if line.starts_with("#TYPE") {
                notes.push(format!(
                    "{source}:{}: skipped PowerShell's `{line}` line",
                    i + 1
                ));
                type_line = Some(line.to_owned());
            }
            continue;
        }
        if let Some(names) = &headerless {
            let delimiter = options
                .delimiter
                .or(spec.and_then(|s| s.delimiter))
                .unwrap_or_else(|| guess_headerless(line, names.len()));
            layout = Some(Layout {
                delimiter,
                names: names.clone(),
                data_line: i,
                preset: options.preset,
                columns: effective_map(&options.columns, spec, names),
                notes: Vec::new(),
            });
            break;
        }
        let delimiters: Vec<u8> = match options.delimiter.or(spec.and_then(|s| s.delimiter)) {
            Some(d) => vec![d],
            None => vec![b',', b';', b'\t', b'|'],
        };
        for d in delimiters {
            let names = split_line(line, d);
            let preset = options
                .preset
                .or_else(|| Preset::detect(&names, type_line.as_deref()));
            let spec = preset.map(Preset::spec);
            let map = effective_map(&options.columns, spec, &names);
            if map
                .resolve(names.iter().map(String::as_str), source)
                .is_ok()
            {
                let mut ls = Vec::new();
                if options.preset.is_none() {
                    if let Some(p) = preset {
                        ls.push(format!(
                            "{source}: the header is {}'s export: reading it as --preset {}",
                            p.name(),
                            p.name()
                        ));
                    }
                }
                let preamble = (skip_lines..i)
                    .filter(|&k| {
                        let l = &pre[starts[k]..starts.get(k + 1).copied().unwrap_or(pre.len())];
                        !l.starts_with(b"#") && !l.iter().all(u8::is_ascii_whitespace)
                    })
                    .count();
                if preamble > 0 {
                    ls.push(format!(
                        "{source}: skipped {preamble} preamble line(s); the header is line {}",
                        i + 1
                    ));
                }
                if d != b',' {
                    ls.push(format!(
                        "{source}: fields are separated by {}",
                        delimiter_name(d)
                    ));
                }
                layout = Some(Layout {
                    delimiter: d,
                    names,
                    data_line: i + 1,
                    preset,
                    columns: map,
                    notes: ls,
                });
                break;
            }
        }
        if layout.is_some() {
            break;
        }
        tried.push((i, line.to_owned()));
    }
    let Some(mut layout) = layout else {
        return Err(no_header(source, options, &tried, type_line.as_deref()));
    };
    notes.append(&mut layout.notes);
    layout.notes = notes;
    let from = starts.get(layout.data_line).copied().unwrap_or(pre.len());
    let rest: Stream = Box::new(Cursor::new(pre[from..].to_vec()).chain(buffered));
    // Records end at `\n` only; a `\r` before it is stripped from the last field (see
    // `field`), so a record after a `\r\n` is numbered with its own line.
    let reader = RecordReader::new(rest, layout.delimiter, layout.data_line as u64 + 1);
    Ok(Opened {
        reader,
        layout,
        consumed,
        total,
    })
}

/// Why no header was found, naming the likeliest cause.
pub(super) fn no_header(
    source: &str,
    options: &InventoryOptions,
    tried: &[(usize, String)],
    type_line: Option<&str>,
) -> Error {
    let Some((first_i, first)) = tried.first() else {
        return Error::invalid_input(format!(
            "{source}: not an inventory: no header line{}",
            if type_line.is_some() {
                " after the `#TYPE` line"
            } else {
                ""
            }
        ));
    };
    // Another delimiter would have worked: name it.
    if let Some(given) = options.delimiter {
        for (i, line) in tried {
            for d in [b',', b';', b'\t', b'|'] {
                if d == given {
                    continue;
                }
                let names = split_line(line, d);
                let spec = options
                    .preset
                    .or_else(|| Preset::detect(&names, None))
                    .map(Preset::spec);
                let map = effective_map(&options.columns, spec, &names);
                if map
                    .resolve(names.iter().map(String::as_str), source)
                    .is_ok()
                {
                    return Error::invalid_input(format!(
                        "{source}:{}: the header is separated by {}, not by {} (--delimiter)",
                        i + 1,
                        delimiter_name(d),
                        delimiter_name(given)
                    ));
                }
            }
        }
    }
    let names = split_line(first, options.delimiter.unwrap_or(b','));
    let preset = options.preset.or_else(|| Preset::detect(&names, type_line));
    let spec = preset.map(Preset::spec);
    let map = effective_map(&options.columns, spec, &names);
    let base = match map.resolve(names.iter().map(String::as_str), source) {
        Err(e) => e.message().to_owned(),
        Ok(_) => format!("{source}: not an inventory"),
    };
    let mut hints = Vec::new();
    if preset == Some(Preset::PowerShell) && !names.iter().any(|n| n.trim() == "Length") {
        hints.push(
            "a PowerShell export takes its columns from the first object, and a folder listed \
             first has no Length: export files only (Get-ChildItem -Recurse -File | Export-Csv)"
                .to_owned(),
        );
    }
    let looks_path = |s: &str| {
        let s = s.trim().trim_matches('"');
        s.starts_with('/') || crate::path::is_windows_path(s)
    };
    if names.first().is_some_and(|n| looks_path(n)) {
        hints.push(
            "the first line looks like a row, not a header: name the fields with --columns \
             file_path,file_size,… (or a --preset)"
                .to_owned(),
        );
    } else if tried.len() > 1 {
        hints.push(format!(
            "no line of the first {} holds the columns (the first is line {}); if the header is \
             further down, give --skip-lines N",
            tried.len(),
            first_i + 1
        ));
    }
    let presets: Vec<_> = Preset::ALL.iter().map(|p| p.name()).collect();
    hints.push(format!(
        "or name the tool with --preset ({})",
        presets.join(", ")
    ));
    Error::invalid_input(format!("{base}; {}", hints.join("; ")))
}

pub(super) fn delimiter_name(d: u8) -> &'static str {
    match d {
        b',' => "commas",
        b';' => "semicolons",
        b'\t' => "tabs",
        b'|' => "bars (|)",
        b' ' => "spaces",
        _ => "another character",
    }
}

/// Split one line into fields as the CSV reader would.
pub(super) fn split_line(line: &str, delimiter: u8) -> Vec<String> {
    let mut r = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(line.as_bytes());
    let mut rec = csv::StringRecord::new();
    match r.read_record(&mut rec) {
        Ok(true) => rec.iter().map(str::to_owned).collect(),
        _ => vec![line.to_owned()],
    }
}

/// A headerless line's delimiter: the one giving exactly `fields` fields, else the one giving
/// the most.
pub(super) fn guess_headerless(line: &str, fields: usize) -> u8 {
    let cands = [b'\t', b',', b';', b'|'];
    cands
        .iter()
        .copied()
        .find(|&d| split_line(line, d).len() == fields)
        .unwrap_or_else(|| {
            cands
                .iter()
                .copied()
                .max_by_key(|&d| split_line(line, d).len())
                .unwrap_or(b',')
        })
}

/// The user's renames, then the preset's first candidate present, then the canonical name.
pub(super) fn effective_map(
    user: &ColumnMap,
    spec: Option<PresetSpec>,
    names: &[String],
) -> ColumnMap {
    let mut map = user.clone();
    let Some(spec) = spec else { return map };
    for (column, cands) in spec.columns {
        if user.renames.iter().any(|(c, _)| c == column) {
            continue;
        }
        let present = cands
            .iter()
            .find(|c| names.iter().any(|n| n.trim().eq_ignore_ascii_case(c)));
        if let Some(h) = present.or(cands.first()) {
            map = map.rename(*column, *h);
        }
    }
    map
}

/// Decide the day order of each date column from the whole file (a first pass), unless its first
/// [`DATE_PROBE_ROWS`] rows hold no `a/b/yyyy` date at all.
pub(super) fn decide_orders(
    path: &Path,
    options: &InventoryOptions,
    source: &str,
    cols: [Option<usize>; 2],
) -> Result<([Option<DateOrder>; 2], Option<String>)> {
    let mut opened = open_records(open_file(path, source)?, options, source)?;
    let mut ev = [OrderEvidence::default(); 2];
    let mut rows = 0u64;
    while let Some(line) = opened
        .reader
        .advance()
        .map_err(|e| Error::invalid_input(format!("{source}: cannot read CSV: {e}")))?
    {
        rows += 1;
        let rec = opened.reader.record();
        for (e, c) in ev.iter_mut().zip(cols) {
            if let Some(i) = c {
                if i < rec.len() {
                    if let Ok(s) = std::str::from_utf8(field(&rec, i)) {
                        e.add(line, s);
                    }
                }
            }
        }
        let wanted = ev.iter().any(|e| e.seen > 0);
        if !wanted && rows >= DATE_PROBE_ROWS {
            break;
        }
        // A column is decided only by all of it (a day above 12 on the last line still refuses
        // a file whose first lines said month-first); only a contradiction ends the pass early.
        if ev
            .iter()
            .any(|e| e.day_first.is_some() && e.month_first.is_some())
        {
            break;
        }
    }
    let names = ["last_modified", "last_accessed"];
    let out = decide(&ev, &names).map_err(|e| Error::invalid_input(format!("{source}: {e}")))?;
    let note = out.iter().zip(names).zip(ev).find_map(|((o, n), e)| {
        let (l, a, b) = e.day_first.or(e.month_first)?;
        Some(format!(
            "{source}: dates are {} (column {n}, line {l} has {a}/{b}/…)",
            match o {
                Some(DateOrder::Dmy) => "day-first",
                _ => "month-first",
            }
        ))
    });
    Ok(([out[0], out[1]], note))
}

pub(super) fn read_up_to(f: &mut impl Read, buf: &mut [u8]) -> Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// A high share of control bytes (NUL included) or of bytes that are not UTF-8: not text. A few
/// NUL bytes are not enough, so a path with a NUL near the top is rejected on its own line like
/// anywhere else. (UTF-8 validity is judged per field.)
pub(super) fn looks_binary(head: &[u8]) -> bool {
    let control = head
        .iter()
        .filter(|&&b| b < 0x20 && !matches!(b, b'\n' | b'\r' | b'\t' | 0x0c))
        .count();
    if control * 10 > head.len() {
        return true;
    }
    // Compressed or random data: most bytes at or above 0x80 break UTF-8.
    let (mut bad, mut rest) = (0usize, head);
    while let Err(e) = std::str::from_utf8(rest) {
        match e.error_len() {
            Some(n) => {
                bad += n;
                rest = &rest[e.valid_up_to() + n..];
            }
            // Cut off at the end of the head: not an error.
            None => break,
        }
    }
    bad * 10 > head.len()
}

#[cfg(test)]
mod tests {
    use super::looks_binary;

    #[test]
    fn binary_sniff() {
        assert!(looks_binary(b"\x00\x01\x02binary\x00stuff"));
        assert!(looks_binary(&[0u8, 0x61].repeat(100)), "UTF-16");
        let random: Vec<u8> = (0..8192u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        assert!(looks_binary(&random));
        // A NUL in a path near the top is a row's problem, not the file's.
        let mut csv = b"file_path,file_size\n/a/nul\x00byte,1\n".to_vec();
        for i in 0..20 {
            csv.extend_from_slice(format!("/a/file{i},{i}\n").as_bytes());
        }
        assert!(!looks_binary(&csv));
        assert!(!looks_binary(
            "file_path,file_size\n/é/日本/🎉,1\n".as_bytes()
        ));
    }
}
