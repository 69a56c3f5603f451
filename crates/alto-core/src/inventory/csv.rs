//! The CSV inventory reader.
//!
//! One reused `ByteRecord` per reader: fields are checked and parsed in place, and the accepted row
//! borrows them (a path built from parts — a prefix, an S3 bucket and URL-decoded key — goes
//! through one reused buffer). Paths must be UTF-8 (a row whose path is not is rejected with its
//! line number, so nothing is silently mangled); a file whose first bytes look binary is refused
//! whole. Row limits (size, times, path length, NUL) are the [module's](super).
//!
//! Opening finds the layout ([`layout`](self::layout)): compression, encoding, the header line and
//! the delimiter. When a date column holds `a/b/yyyy` dates and nothing says their order, a first
//! pass over the file decides it per column ([`super::dates`]) before any row is handed out.

use super::dates::{OrderEvidence, decide};
use super::fields::{check_path, extension, opt, parse_size};
use super::input::{self, Encoding};
use super::preset::{FolderMarker, Preset, PresetSpec, url_decode};
use super::{
    Column, ColumnMap, InventoryOptions, InventoryRow, InventorySource, Item, Progress, ReadStats,
    Rejection,
};
use crate::error::{Error, Result};
use crate::time::{DateOrder, Micros, TimeRules, check_stored, parse_time_with};
use std::fs::File;
use std::io::{BufRead, BufReader, Cursor, Read};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Lines searched for the header before giving up.
const HEADER_SEARCH_LINES: usize = 200;
/// The longest line looked at while searching for the header.
const MAX_HEADER_LINE_BYTES: u64 = 1 << 20;
/// Rows looked at for an `a/b/yyyy` date before deciding a file has none (no pre-pass then).
const DATE_PROBE_ROWS: u64 = 1000;

type Stream = Box<dyn Read + Send>;

/// Streams a CSV inventory.
pub struct CsvInventory {
    reader: csv::Reader<Stream>,
    record: csv::ByteRecord,
    columns: [Option<usize>; 8],
    width: usize,
    /// Lines before the first data line.
    line_offset: u64,
    source: String,
    stats: ReadStats,
    total_bytes: u64,
    consumed: Arc<AtomicU64>,
    rules: RowRules,
    notes: Vec<String>,
    path_buf: String,
    decode_buf: Vec<u8>,
}

/// What the layout and options say about each row.
#[derive(Debug, Default)]
struct RowRules {
    delimiter: u8,
    trim: bool,
    folder: Option<(usize, FolderMarker)>,
    s3: Option<S3Columns>,
    prefix: Option<String>,
    times: [TimeRules; 2],
    zone_given: bool,
    warned_utc: bool,
    warned_lossy: bool,
    pending_note: Option<String>,
}

#[derive(Debug, Clone, Copy)]
struct S3Columns {
    bucket: Option<usize>,
    is_latest: Option<usize>,
    is_delete_marker: Option<usize>,
}

impl std::fmt::Debug for CsvInventory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CsvInventory")
            .field("source", &self.source)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

/// Where the rows start and how to split them.
#[derive(Debug, Clone)]
struct Layout {
    delimiter: u8,
    names: Vec<String>,
    /// 0-based index of the first data line.
    data_line: usize,
    preset: Option<Preset>,
    columns: ColumnMap,
    notes: Vec<String>,
}

struct Opened {
    reader: csv::Reader<Stream>,
    layout: Layout,
    consumed: Arc<AtomicU64>,
    total: u64,
}

impl CsvInventory {
    /// Open `path` with default options and these column renames.
    pub fn open(path: &Path, columns: &ColumnMap) -> Result<Self> {
        Self::open_with(path, &InventoryOptions::new().with_columns(columns.clone()))
    }

    /// Open `path` as `options` say.
    pub fn open_with(path: &Path, options: &InventoryOptions) -> Result<Self> {
        let source = path.display().to_string();
        let opened = open_records(open_file(path, &source)?, options, &source)?;
        Self::build(opened, Some(path), options, source)
    }

    /// Read a stream (a pipe, stdin, a download) named `source` in messages. Compression and
    /// encoding are found as for files. A stream cannot be read twice, so the day order of
    /// `a/b/yyyy` dates is not decided from the whole column: without
    /// [`InventoryOptions::date_order`] (or a preset that sets it) such dates are rejected per row
    /// as ambiguous, never guessed.
    pub fn from_reader(
        reader: impl Read + Send + 'static,
        source: impl Into<String>,
        options: &InventoryOptions,
    ) -> Result<Self> {
        let source = source.into();
        let (counting, consumed) = input::Counting::new(reader);
        let raw = RawInput {
            stream: Box::new(counting),
            total: 0,
            consumed,
        };
        let opened = open_records(raw, options, &source)?;
        Self::build(opened, None, options, source)
    }

    fn build(
        opened: Opened,
        path: Option<&Path>,
        options: &InventoryOptions,
        source: String,
    ) -> Result<Self> {
        let layout = opened.layout;
        let resolved = layout
            .columns
            .resolve(layout.names.iter().map(String::as_str), &source)?;
        let spec = layout.preset.map(Preset::spec);
        let find = |cands: &[&str]| -> Option<usize> {
            cands.iter().find_map(|c| {
                layout
                    .names
                    .iter()
                    .position(|n| n.trim().eq_ignore_ascii_case(c))
            })
        };
        let folder = spec
            .and_then(|s| s.folder)
            .and_then(|(cands, marker)| find(cands).map(|i| (i, marker)));
        let s3 = (layout.preset == Some(Preset::S3Inventory)).then(|| S3Columns {
            bucket: find(&["Bucket"]),
            is_latest: find(&["IsLatest"]),
            is_delete_marker: find(&["IsDeleteMarker"]),
        });
        let prefix = options.path_prefix.clone().or_else(|| {
            (layout.preset == Some(Preset::AzureInventory)).then(|| "az://".to_owned())
        });
        let mut notes = layout.notes.clone();
        let fixed = options.date_order.or(spec.and_then(|s| s.date_order));
        let date_cols = [resolved[2], resolved[3]];
        let orders = match (fixed, path) {
            (Some(o), _) => [Some(o), Some(o)],
            (None, Some(path)) if date_cols.iter().any(Option::is_some) => {
                let (orders, note) = decide_orders(path, options, &source, date_cols)?;
                notes.extend(note);
                orders
            }
            _ => [None, None],
        };
        let rules = RowRules {
            delimiter: layout.delimiter,
            trim: spec.is_some_and(|s| s.trim),
            folder,
            s3,
            prefix,
            times: orders.map(|order| TimeRules {
                order,
                zone: options.zone.clone(),
            }),
            zone_given: options.zone.is_some(),
            ..RowRules::default()
        };
        Ok(CsvInventory {
            reader: opened.reader,
            record: csv::ByteRecord::new(),
            columns: resolved,
            width: layout.names.len(),
            line_offset: layout.data_line as u64,
            source,
            stats: ReadStats::default(),
            total_bytes: opened.total,
            consumed: opened.consumed,
            rules,
            notes,
            path_buf: String::new(),
            decode_buf: Vec::new(),
        })
    }

    fn reject(&mut self, line: u64, column: Option<&'static str>, reason: String) -> Item<'_> {
        self.stats.rejected += 1;
        Item::Rejected(Rejection {
            source: self.source.clone(),
            line,
            column,
            reason,
        })
    }
}

/// The raw bytes of an inventory, counted as they are read.
struct RawInput {
    stream: Stream,
    total: u64,
    consumed: Arc<AtomicU64>,
}

fn open_file(path: &Path, source: &str) -> Result<RawInput> {
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
fn open_records(raw: RawInput, options: &InventoryOptions, source: &str) -> Result<Opened> {
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
    // `field`). With the default CRLF terminator the reader reports the line *before* a
    // record that follows a `\r\n`, and every rejection would name the wrong line.
    let reader = csv::ReaderBuilder::new()
        .delimiter(layout.delimiter)
        .terminator(csv::Terminator::Any(b'\n'))
        .flexible(true)
        .has_headers(false)
        .buffer_capacity(1 << 16)
        .from_reader(rest);
    Ok(Opened {
        reader,
        layout,
        consumed,
        total,
    })
}

/// Why no header was found, naming the likeliest cause.
fn no_header(
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

fn delimiter_name(d: u8) -> &'static str {
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
fn split_line(line: &str, delimiter: u8) -> Vec<String> {
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
fn guess_headerless(line: &str, fields: usize) -> u8 {
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
fn effective_map(user: &ColumnMap, spec: Option<PresetSpec>, names: &[String]) -> ColumnMap {
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
fn decide_orders(
    path: &Path,
    options: &InventoryOptions,
    source: &str,
    cols: [Option<usize>; 2],
) -> Result<([Option<DateOrder>; 2], Option<String>)> {
    let mut opened = open_records(open_file(path, source)?, options, source)?;
    let mut ev = [OrderEvidence::default(); 2];
    let mut rec = csv::ByteRecord::new();
    let mut rows = 0u64;
    let offset = opened.layout.data_line as u64;
    while opened
        .reader
        .read_byte_record(&mut rec)
        .map_err(|e| Error::invalid_input(format!("{source}: cannot read CSV: {e}")))?
    {
        rows += 1;
        let line = rec.position().map_or(0, |p| p.line()) + offset;
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

fn strip_cr(b: &[u8]) -> &[u8] {
    b.strip_suffix(b"\r").unwrap_or(b)
}

/// Field `i` of `rec`, without the `\r` of a CRLF line end.
fn field(rec: &csv::ByteRecord, i: usize) -> &[u8] {
    let f = &rec[i];
    if i + 1 == rec.len() { strip_cr(f) } else { f }
}

/// Field `i`, trimmed of the padding of formats that pad.
fn padded(rec: &csv::ByteRecord, i: usize, trim: bool) -> &[u8] {
    let f = field(rec, i);
    if trim { f.trim_ascii() } else { f }
}

fn read_up_to(f: &mut impl Read, buf: &mut [u8]) -> Result<usize> {
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
fn looks_binary(head: &[u8]) -> bool {
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

/// What to do with a record before parsing it.
enum Verdict {
    Keep,
    Folder,
    NotCurrent,
}

fn truthy(b: &[u8]) -> bool {
    b.trim_ascii().eq_ignore_ascii_case(b"true")
}

impl RowRules {
    fn verdict(&self, rec: &csv::ByteRecord, path_col: Option<usize>) -> Verdict {
        if let Some(s3) = self.s3 {
            if s3.is_latest.is_some_and(|i| !truthy(padded(rec, i, true))) {
                return Verdict::NotCurrent;
            }
            if s3
                .is_delete_marker
                .is_some_and(|i| truthy(padded(rec, i, true)))
            {
                return Verdict::NotCurrent;
            }
        }
        if let Some((i, marker)) = self.folder {
            let v = padded(rec, i, true);
            let folder = match marker {
                FolderMarker::AttributesBit => std::str::from_utf8(v)
                    .ok()
                    .and_then(|s| {
                        let s = s.trim();
                        match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
                            Some(h) => u64::from_str_radix(h, 16).ok(),
                            None => s.parse::<u64>().ok(),
                        }
                    })
                    .is_some_and(|a| a & 0x10 != 0),
                FolderMarker::Equals(t) => v.eq_ignore_ascii_case(t.as_bytes()),
            };
            if folder {
                return Verdict::Folder;
            }
        }
        if let Some(i) = path_col {
            // Only a path ending in a separator can be a folder: look at the last byte first.
            let p = padded(rec, i, self.trim);
            if matches!(p.last(), Some(b'/' | b'\\'))
                && std::str::from_utf8(p).is_ok_and(super::is_folder_path)
            {
                return Verdict::Folder;
            }
        }
        Verdict::Keep
    }
}

impl InventorySource for CsvInventory {
    fn next_item(&mut self) -> Result<Option<Item<'_>>> {
        let line = loop {
            let more = self
                .reader
                .read_byte_record(&mut self.record)
                .map_err(|e| {
                    Error::invalid_input(format!("{}: cannot read CSV: {e}", self.source))
                })?;
            if !more {
                return Ok(None);
            }
            let line = self.record.position().map_or(0, |p| p.line()) + self.line_offset;
            if self.record.len() != self.width {
                // A blank line is not a row worth reporting.
                if self.record.len() == 1 && field(&self.record, 0).trim_ascii().is_empty() {
                    continue;
                }
                let d = delimiter_name(self.rules.delimiter);
                let reason = if self.record.len() > self.width {
                    format!(
                        "expected {} fields, found {} (a path holding one of the {d} that \
                         separate fields, without quotes?)",
                        self.width,
                        self.record.len()
                    )
                } else {
                    format!(
                        "expected {} fields, found {} (a line cut short, or fields not \
                         separated by {d}?)",
                        self.width,
                        self.record.len()
                    )
                };
                return Ok(Some(self.reject(line, None, reason)));
            }
            match self.rules.verdict(&self.record, self.columns[0]) {
                Verdict::Keep => break line,
                Verdict::Folder => self.stats.folders += 1,
                Verdict::NotCurrent => self.stats.skipped += 1,
            }
        };
        // Validate every used field as UTF-8 first, then parse the scalars.
        let trim = self.rules.trim;
        for (col, idx) in Column::ALL.iter().zip(self.columns) {
            if let Some(i) = idx {
                if std::str::from_utf8(padded(&self.record, i, trim)).is_err() {
                    return Ok(Some(self.reject(
                        line,
                        Some(col.name()),
                        "not valid UTF-8 (another encoding? give --encoding)".into(),
                    )));
                }
            }
        }
        // The path: as written, or built (S3 bucket and decoded key, a prefix).
        let built = match self.build_path() {
            Ok(b) => b,
            Err(reason) => return Ok(Some(self.reject(line, Some("file_path"), reason))),
        };
        let parsed = parse_scalars(&self.record, &self.columns, &mut self.rules, trim, line);
        let parsed = match parsed {
            Ok(p) => p,
            Err((col, reason)) => return Ok(Some(self.reject(line, Some(col), reason))),
        };
        if let Some(n) = self.rules.pending_note.take() {
            self.notes.push(format!("{}{n}", self.source));
        }
        let rec = &self.record;
        // Checked above: every used field is UTF-8.
        let text = |c: usize| -> Option<&str> {
            self.columns[c].map(|i| std::str::from_utf8(padded(rec, i, trim)).unwrap_or_default())
        };
        let path = if built {
            self.path_buf.as_str()
        } else {
            text(0).unwrap_or_default()
        };
        if let Err(reason) = check_path(path) {
            self.stats.rejected += 1;
            return Ok(Some(Item::Rejected(Rejection {
                source: self.source.clone(),
                line,
                column: Some("file_path"),
                reason,
            })));
        }
        if !self.rules.warned_lossy
            && path.contains('?')
            && crate::path::is_windows_path(path)
            && !path.starts_with("\\\\?\\")
        {
            self.rules.warned_lossy = true;
            self.notes.push(format!(
                "{}:{line}: a Windows path holds `?`, which Windows never allows in a name: the \
                 export probably replaced characters it could not write (a lossy ASCII export); \
                 export as UTF-8 or UTF-16 instead (PowerShell: -Encoding UTF8)",
                self.source
            ));
        }
        self.stats.accepted += 1;
        Ok(Some(Item::Row(InventoryRow {
            line,
            path,
            size: parsed.size,
            modified: parsed.modified,
            accessed: parsed.accessed,
            extension: extension(text(4), path),
            permissions: text(5).and_then(opt),
            owner: text(6).and_then(opt),
            hash: text(7).and_then(opt),
        })))
    }

    fn stats(&self) -> ReadStats {
        self.stats
    }

    fn progress(&self) -> Progress {
        Progress {
            done: self.consumed.load(Ordering::Relaxed),
            total: Some(self.total_bytes),
        }
    }

    fn source(&self) -> &str {
        &self.source
    }

    fn take_notes(&mut self) -> Vec<String> {
        std::mem::take(&mut self.notes)
    }
}

impl CsvInventory {
    /// Build the path into `path_buf` when it is not the field as written; `Ok(false)`: use the
    /// field.
    fn build_path(&mut self) -> std::result::Result<bool, String> {
        let Some(pi) = self.columns[0] else {
            return Ok(false);
        };
        if self.rules.s3.is_none() && self.rules.prefix.is_none() {
            return Ok(false);
        }
        let trim = self.rules.trim;
        let raw = std::str::from_utf8(padded(&self.record, pi, trim)).unwrap_or_default();
        if let Some(s3) = self.rules.s3 {
            url_decode(raw, &mut self.decode_buf)
                .ok_or_else(|| format!("bad URL-encoded key {raw:?}"))?;
            let key = std::str::from_utf8(&self.decode_buf)
                .map_err(|_| format!("key {raw:?} decodes to bytes that are not UTF-8"))?;
            self.path_buf.clear();
            match (&self.rules.prefix, s3.bucket) {
                (Some(p), _) => join(&mut self.path_buf, p, key),
                (None, Some(b)) => {
                    let bucket = std::str::from_utf8(padded(&self.record, b, true))
                        .map_err(|_| "bucket name is not UTF-8".to_owned())?;
                    self.path_buf.push_str("s3://");
                    self.path_buf.push_str(bucket);
                    self.path_buf.push('/');
                    self.path_buf.push_str(key);
                }
                (None, None) => {
                    return Err(
                        "an S3 key without a Bucket column: give --path-prefix s3://BUCKET".into(),
                    );
                }
            }
            return Ok(true);
        }
        if let Some(p) = &self.rules.prefix {
            let absolute = raw.starts_with('/')
                || crate::path::is_windows_path(raw)
                || crate::path::is_url_path(raw);
            if !absolute && !raw.is_empty() {
                self.path_buf.clear();
                join(&mut self.path_buf, p, raw);
                return Ok(true);
            }
        }
        Ok(false)
    }
}

fn join(out: &mut String, prefix: &str, rel: &str) {
    out.push_str(prefix);
    if !(prefix.ends_with('/') || prefix.ends_with('\\')) {
        out.push('/');
    }
    out.push_str(rel);
}

/// Outcome of checking one record: the parsed scalar fields.
struct Parsed {
    size: u64,
    modified: Option<Micros>,
    accessed: Option<Micros>,
}

fn parse_scalars(
    rec: &csv::ByteRecord,
    columns: &[Option<usize>; 8],
    rules: &mut RowRules,
    trim: bool,
    line: u64,
) -> std::result::Result<Parsed, (&'static str, String)> {
    let text = |c: usize| {
        columns[c].map(|i| std::str::from_utf8(padded(rec, i, trim)).unwrap_or_default())
    };
    let size = parse_size(text(1).unwrap_or_default()).map_err(|r| ("file_size", r))?;
    let mut times = [None, None];
    for (k, (slot, name)) in times
        .iter_mut()
        .zip(["last_modified", "last_accessed"])
        .enumerate()
    {
        let Some(s) = text(2 + k) else { continue };
        if s.trim().is_empty() {
            continue;
        }
        let p = parse_time_with(s, &rules.times[k]).map_err(|r| (name, r))?;
        let at = check_stored(p.at).map_err(|r| (name, r))?;
        if p.zoneless && !rules.zone_given && !rules.warned_utc {
            rules.warned_utc = true;
            rules.pending_note = Some(format!(
                ":{line}: column {name}: times without a zone are read as UTC (the default); \
                 give --timezone ZONE (e.g. Europe/London) if they are local times"
            ));
        }
        *slot = Some(at);
    }
    Ok(Parsed {
        size,
        modified: times[0],
        accessed: times[1],
    })
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
