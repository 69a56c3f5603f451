//! The CSV inventory reader.
//!
//! Records are split by [`super::split`] in a reused buffer: fields are checked and parsed in
//! place, and the accepted row borrows them (a path built from parts — a prefix, an S3 bucket and URL-decoded key — goes
//! through one reused buffer). Paths must be UTF-8 (a row whose path is not is rejected with its
//! line number, so nothing is silently mangled); a file whose first bytes look binary is refused
//! whole. Row limits (size, times, path length, NUL) are the [module's](super).
//!
//! Opening finds the layout ([`super::layout`]): compression, encoding, the header line and
//! the delimiter. When a date column holds `a/b/yyyy` dates and nothing says their order, a first
//! pass over the file decides it per column ([`super::dates`]) before any row is handed out.

use super::fields::{check_path, extension, opt, parse_size};
use super::input;
use super::layout::{Opened, RawInput, decide_orders, delimiter_name, open_file, open_records};
use super::preset::{FolderMarker, Preset, url_decode};
use super::split::{Rec, RecordReader};
use super::{
    Column, ColumnMap, InventoryOptions, InventoryRow, InventorySource, Item, Progress, ReadStats,
    Rejection,
};
use crate::error::{Error, Result};
use crate::time::{Micros, TimeRules, check_stored, parse_time_with};
use std::io::Read;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Streams a CSV inventory.
pub struct CsvInventory {
    reader: RecordReader,
    total_bytes: u64,
    consumed: Arc<AtomicU64>,
    rows: RowParser,
}

/// Everything that turns one CSV record into a row or a rejection: the column positions and the
/// row rules, with their own counts, notes and buffers. Cloned (fresh, see
/// [`RowParser::fork`]) for each thread of a parallel read ([`super::parallel`]).
#[derive(Debug, Clone)]
pub(super) struct RowParser {
    columns: [Option<usize>; 8],
    width: usize,
    source: String,
    stats: ReadStats,
    rules: RowRules,
    notes: Vec<String>,
    /// Notes a row raised once per parser (see [`RowNote`]): a parallel read keeps the first of
    /// each kind across its parsers.
    row_notes: Vec<(RowNote, String)>,
    path_buf: String,
    decode_buf: Vec<u8>,
}

/// The kinds of note a row can raise (once per read).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RowNote {
    /// Times without a zone read as UTC.
    ZonelessUtc,
    /// A `?` in a Windows path (a lossy export).
    LossyWindows,
}

/// What to do with a record, decided before its fields are parsed.
pub(super) enum Screen {
    /// Parse it.
    Keep,
    /// Skip it (a blank line; counted where counted).
    Skip,
    /// Reject it.
    Reject(Rejection),
}

/// What the layout and options say about each row.
#[derive(Debug, Default, Clone)]
struct RowRules {
    delimiter: u8,
    /// A name column to join to the path (a folder) column: Everything's CSV export.
    join_name: Option<usize>,
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
            .field("source", &self.rows.source)
            .field("stats", &self.rows.stats)
            .finish_non_exhaustive()
    }
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
        let join_name = (layout.preset == Some(Preset::Everything)
            && layout
                .columns
                .header_for(Column::FilePath)
                .eq_ignore_ascii_case("Path"))
        .then(|| find(&["Name"]))
        .flatten();
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
            join_name,
            times: orders.map(|order| TimeRules {
                order,
                zone: options.zone.clone(),
            }),
            zone_given: options.zone.is_some(),
            ..RowRules::default()
        };
        Ok(CsvInventory {
            reader: opened.reader,
            total_bytes: opened.total,
            consumed: opened.consumed,
            rows: RowParser {
                columns: resolved,
                width: layout.names.len(),
                source,
                stats: ReadStats::default(),
                rules,
                notes,
                row_notes: Vec::new(),
                path_buf: String::new(),
                decode_buf: Vec::new(),
            },
        })
    }

    /// The parts of a parallel read: the record reader (with the bytes read so far, and the
    /// total), and the row parser.
    pub(super) fn into_parts(self) -> (RecordReader, Progress, Arc<AtomicU64>, RowParser) {
        let progress = Progress {
            done: self.consumed.load(Ordering::Relaxed),
            total: Some(self.total_bytes),
        };
        (self.reader, progress, self.consumed, self.rows)
    }

    /// The field delimiter.
    pub(super) fn delimiter(&self) -> u8 {
        self.rows.rules.delimiter
    }
}

fn strip_cr(b: &[u8]) -> &[u8] {
    b.strip_suffix(b"\r").unwrap_or(b)
}

/// Field `i` of `rec`, without the `\r` of a CRLF line end.
pub(super) fn field<'a>(rec: &Rec<'a>, i: usize) -> &'a [u8] {
    let f = rec.get(i);
    if i + 1 == rec.len() { strip_cr(f) } else { f }
}

/// Field `i`, trimmed of the padding of formats that pad.
fn padded<'a>(rec: &Rec<'a>, i: usize, trim: bool) -> &'a [u8] {
    let f = field(rec, i);
    if trim { f.trim_ascii() } else { f }
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
    fn verdict(&self, rec: &Rec<'_>, path_col: Option<usize>) -> Verdict {
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
            let line = self.reader.advance().map_err(|e| {
                Error::invalid_input(format!("{}: cannot read CSV: {e}", self.rows.source))
            })?;
            let Some(line) = line else {
                return Ok(None);
            };
            match self.rows.screen(&self.reader.record(), line) {
                Screen::Keep => break line,
                Screen::Skip => {}
                Screen::Reject(r) => return Ok(Some(Item::Rejected(r))),
            }
        };
        Ok(Some(self.rows.parse(self.reader.record(), line)))
    }

    fn stats(&self) -> ReadStats {
        self.rows.stats
    }

    fn progress(&self) -> Progress {
        Progress {
            done: self.consumed.load(Ordering::Relaxed),
            total: Some(self.total_bytes),
        }
    }

    fn source(&self) -> &str {
        &self.rows.source
    }

    fn take_notes(&mut self) -> Vec<String> {
        self.rows.take_notes()
    }
}

impl RowParser {
    /// A parser with the same columns and rules and nothing counted or noted yet: one per thread
    /// of a parallel read.
    pub(super) fn fork(&self) -> RowParser {
        RowParser {
            columns: self.columns,
            width: self.width,
            source: self.source.clone(),
            stats: ReadStats::default(),
            rules: self.rules.clone(),
            notes: Vec::new(),
            row_notes: Vec::new(),
            path_buf: String::new(),
            decode_buf: Vec::new(),
        }
    }

    pub(super) fn stats(&self) -> ReadStats {
        self.stats
    }

    /// Note the first row of each kind again (see [`RowNote`]): a parallel read's blocks each
    /// note their own, and keeps the first of each kind in input order.
    pub(super) fn start_block(&mut self) {
        self.rules.warned_utc = false;
        self.rules.warned_lossy = false;
    }

    pub(super) fn source(&self) -> &str {
        &self.source
    }

    /// The notes of the file, then those rows raised.
    pub(super) fn take_notes(&mut self) -> Vec<String> {
        let mut notes = std::mem::take(&mut self.notes);
        notes.extend(self.row_notes.drain(..).map(|(_, n)| n));
        notes
    }

    /// The notes rows raised since the last call, with their kinds.
    pub(super) fn take_row_notes(&mut self) -> Vec<(RowNote, String)> {
        std::mem::take(&mut self.row_notes)
    }

    fn reject(&mut self, line: u64, column: Option<&'static str>, reason: String) -> Rejection {
        self.stats.rejected += 1;
        Rejection {
            source: self.source.clone(),
            line,
            column,
            reason,
        }
    }

    /// Decide what to do with `rec` (from line `line`) before parsing its fields: a record of the
    /// wrong width is rejected, a blank line skipped, a folder row or a non-current version
    /// counted and skipped.
    pub(super) fn screen(&mut self, rec: &Rec<'_>, line: u64) -> Screen {
        if rec.len() != self.width {
            // A blank line is not a row worth reporting.
            if rec.len() == 1 && field(rec, 0).trim_ascii().is_empty() {
                return Screen::Skip;
            }
            let d = delimiter_name(self.rules.delimiter);
            let reason = if rec.len() > self.width {
                format!(
                    "expected {} fields, found {} (a path holding one of the {d} that \
                     separate fields, without quotes?)",
                    self.width,
                    rec.len()
                )
            } else {
                format!(
                    "expected {} fields, found {} (a line cut short, or fields not \
                     separated by {d}?)",
                    self.width,
                    rec.len()
                )
            };
            return Screen::Reject(self.reject(line, None, reason));
        }
        // With a folder column joined to a name, the folder column's trailing separator says
        // nothing about the row.
        let path_col = self.columns[0].filter(|_| self.rules.join_name.is_none());
        match self.rules.verdict(rec, path_col) {
            Verdict::Keep => Screen::Keep,
            Verdict::Folder => {
                self.stats.folders += 1;
                Screen::Skip
            }
            Verdict::NotCurrent => {
                self.stats.skipped += 1;
                Screen::Skip
            }
        }
    }

    /// Parse a record [`screen`](Self::screen) kept.
    pub(super) fn parse<'a>(&'a mut self, rec: Rec<'a>, line: u64) -> Item<'a> {
        let rec = &rec;
        let trim = self.rules.trim;
        // Every used field as text. Usually the whole record is valid UTF-8 and each field a
        // slice of it (one check per row); otherwise each used field is checked alone, so bytes
        // that are not UTF-8 in a column Alto does not use reject nothing.
        let whole = std::str::from_utf8(rec.raw()).ok();
        let last = rec.len().saturating_sub(1);
        let mut texts: [Option<&'a str>; 8] = [None; 8];
        for (k, col) in Column::ALL.iter().enumerate() {
            let Some(i) = self.columns[k] else { continue };
            let t = whole
                .and_then(|w| rec.raw_range(i).and_then(|r| w.get(r)))
                .map(|t| {
                    if i == last {
                        t.strip_suffix('\r').unwrap_or(t)
                    } else {
                        t
                    }
                })
                .map(|t| if trim { t.trim_ascii() } else { t });
            let t = match t {
                Some(t) => t,
                None => match std::str::from_utf8(padded(rec, i, trim)) {
                    Ok(t) => t,
                    Err(_) => {
                        return Item::Rejected(self.reject(
                            line,
                            Some(col.name()),
                            "not valid UTF-8 (another encoding? give --encoding)".into(),
                        ));
                    }
                },
            };
            texts[k] = Some(t);
        }
        // The path: as written, or built (S3 bucket and decoded key, a prefix).
        let built = match self.build_path(rec, texts[0]) {
            Ok(b) => b,
            Err(reason) => return Item::Rejected(self.reject(line, Some("file_path"), reason)),
        };
        let parsed = match parse_scalars(&texts, &mut self.rules, line) {
            Ok(p) => p,
            Err((col, reason)) => return Item::Rejected(self.reject(line, Some(col), reason)),
        };
        if let Some(n) = self.rules.pending_note.take() {
            self.row_notes
                .push((RowNote::ZonelessUtc, format!("{}{n}", self.source)));
        }
        let path = if built {
            self.path_buf.as_str()
        } else {
            texts[0].unwrap_or_default()
        };
        if let Err(reason) = check_path(path) {
            self.stats.rejected += 1;
            return Item::Rejected(Rejection {
                source: self.source.clone(),
                line,
                column: Some("file_path"),
                reason,
            });
        }
        if !self.rules.warned_lossy
            && path.contains('?')
            && crate::path::is_windows_path(path)
            && !path.starts_with("\\\\?\\")
        {
            self.rules.warned_lossy = true;
            self.row_notes.push((
                RowNote::LossyWindows,
                format!(
                    "{}:{line}: a Windows path holds `?`, which Windows never allows in a name: \
                     the export probably replaced characters it could not write (a lossy ASCII \
                     export); export as UTF-8 or UTF-16 instead (PowerShell: -Encoding UTF8)",
                    self.source
                ),
            ));
        }
        self.stats.accepted += 1;
        Item::Row(InventoryRow {
            line,
            path,
            size: parsed.size,
            modified: parsed.modified,
            accessed: parsed.accessed,
            extension: extension(texts[4], path),
            permissions: texts[5].and_then(opt),
            owner: texts[6].and_then(opt),
            hash: texts[7].and_then(opt),
        })
    }

    /// Build the path into `path_buf` when it is not the field as written (`raw`, already
    /// checked as UTF-8); `Ok(false)`: use the field.
    fn build_path(
        &mut self,
        rec: &Rec<'_>,
        raw: Option<&str>,
    ) -> std::result::Result<bool, String> {
        let Some(raw) = raw else {
            return Ok(false);
        };
        if self.rules.s3.is_none() && self.rules.prefix.is_none() && self.rules.join_name.is_none()
        {
            return Ok(false);
        }
        let trim = self.rules.trim;
        if let Some(ni) = self.rules.join_name {
            let dir = raw;
            let name = std::str::from_utf8(padded(rec, ni, trim))
                .map_err(|_| "the name is not valid UTF-8".to_owned())?;
            if name.is_empty() {
                return Err("empty name".into());
            }
            let sep = if crate::path::is_windows_path(dir) {
                '\\'
            } else {
                '/'
            };
            self.path_buf.clear();
            self.path_buf.push_str(dir);
            if !(dir.ends_with(['/', '\\']) || dir.is_empty()) {
                self.path_buf.push(sep);
            }
            self.path_buf.push_str(name);
            return Ok(true);
        }
        if let Some(s3) = self.rules.s3 {
            url_decode(raw, &mut self.decode_buf)
                .ok_or_else(|| format!("bad URL-encoded key {raw:?}"))?;
            let key = std::str::from_utf8(&self.decode_buf)
                .map_err(|_| format!("key {raw:?} decodes to bytes that are not UTF-8"))?;
            self.path_buf.clear();
            match (&self.rules.prefix, s3.bucket) {
                (Some(p), _) => join(&mut self.path_buf, p, key),
                (None, Some(b)) => {
                    let bucket = std::str::from_utf8(padded(rec, b, true))
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
    texts: &[Option<&str>; 8],
    rules: &mut RowRules,
    line: u64,
) -> std::result::Result<Parsed, (&'static str, String)> {
    let text = |c: usize| texts[c];
    let size = parse_size(text(1).unwrap_or_default()).map_err(|r| ("file_size", r))?;
    let mut times = [None, None];
    for (k, (slot, name)) in times
        .iter_mut()
        .zip(["last_modified", "last_accessed"])
        .enumerate()
    {
        let Some(s) = text(2 + k) else { continue };
        if crate::time::trim(s).is_empty() {
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
