//! Inventory readers: stream an agent's CSV or Parquet file list in bounded memory.
//!
//! An inventory is one row per file with the columns of DESIGN.md §5:
//! `file_path,file_size,last_modified,last_accessed,file_extension,permissions,owner,hash`.
//! Real inventories vary, so a [`ColumnMap`] renames columns (`file_path=FullName`), a UTF-8 BOM,
//! CRLF and quoted fields are accepted, timestamps come in several forms
//! ([`parse_timestamp`](crate::time::parse_timestamp)), and an absent or empty extension is derived
//! from the path.
//!
//! Inventories as other tools write them are read too ([`InventoryOptions`]): gzip and zstd,
//! UTF-16 and Windows-1252, any of `,` `;` tab `|`, a header below `#TYPE` lines or a preamble,
//! headerless files, and the [`Preset`]s of PowerShell, WizTree, TreeSize, Everything, S3 and
//! Azure inventories, Robinhood and `find`. An S3 Inventory's `manifest.json`, opened as the
//! inventory, reads every data file it lists as one source ([`ChainedInventory`]). `a/b/yyyy` dates are decided per column from the
//! whole column, never per row (see docs/adr/0009). Folder rows (a trailing separator or a
//! preset's marker) are skipped and counted ([`ReadStats::folders`]), never handed out.
//!
//! Readers are lending iterators: [`InventorySource::next_item`] hands out an [`InventoryRow`] that
//! borrows the reader's buffers, so reading allocates nothing per row. A bad row comes out as
//! [`Item::Rejected`] with its line (or row) number, column and reason, and reading goes on; only a
//! file that is not an inventory at all (binary data, no path column) or an I/O failure is an
//! `Err`.
//!
//! # Limits
//!
//! A row must fit every store (memory, SQLite, PostgreSQL) alike, so the readers reject, each row
//! alone with its FILE:LINE and column, what one of them could not hold:
//! - `file_size` outside `0..=2^63 - 1` (a signed 64-bit integer in the databases);
//! - `last_modified` / `last_accessed` outside the years 1 to 9999
//!   ([`STORED_MIN`](crate::time::STORED_MIN)..=[`STORED_MAX`](crate::time::STORED_MAX));
//!   PostgreSQL's own range is wider, SQLite's too, this is the documented common one;
//! - `file_path` empty, containing a NUL byte, longer than [`MAX_PATH_BYTES`] bytes as written, or
//!   with a segment of the form of a long path's key ([`crate::path::is_long_key_marker`]: 300
//!   bytes, longer than any file system allows a name). Every other character — newlines, tabs,
//!   other control characters, any Unicode — is legal in a POSIX name and is stored byte-exact.
//!
//! Long paths are stored, not refused: the path itself is kept byte-exact and unindexed, and its
//! key — what every store indexes, and PostgreSQL's btree entries hold at most about 2,700 bytes —
//! is bounded to [`MAX_KEY_BYTES`](crate::path::MAX_KEY_BYTES) by the core
//! ([`bound_key`](crate::path::bound_key)), the same in every store.

mod csv;
mod dates;
mod fields;
mod input;
mod layout;
mod manifest;
mod parallel;
#[cfg(feature = "parquet")]
mod parquet;
mod preset;
mod split;

pub use self::csv::CsvInventory;
pub(crate) use self::fields::check_path_len;
pub use self::input::Encoding;
pub use self::manifest::{ChainPart, ChainedInventory};
pub use self::parallel::{Mapped, default_threads, map_rows};
#[cfg(feature = "parquet")]
pub use self::parquet::ParquetInventory;
pub use self::preset::{Preset, s3_manifest};
pub use crate::time::{DateOrder, Zone};

use crate::error::{Error, Result};
use crate::time::Micros;
use crate::types::FileEntry;
use serde::Serialize;
use std::fmt;
use std::io::Read;
use std::path::Path;

/// The longest path an inventory row or a feed event may have, as written, in UTF-8 bytes: 32,767,
/// the length of a Windows extended (`\\?\`) path in UTF-16 units, and eight times Linux's
/// PATH_MAX (4,096), so every real path fits (a non-ASCII Windows path of that many units may
/// not). The path is stored byte-exact and unindexed; its key is bounded
/// ([`bound_key`](crate::path::bound_key)) whatever the path's length. The same in every store.
pub const MAX_PATH_BYTES: usize = 32_767;

/// A column of the inventory format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Column {
    /// `file_path` (required).
    FilePath,
    /// `file_size` (required).
    FileSize,
    /// `last_modified`.
    LastModified,
    /// `last_accessed`.
    LastAccessed,
    /// `file_extension`.
    FileExtension,
    /// `permissions`.
    Permissions,
    /// `owner`.
    Owner,
    /// `hash`.
    Hash,
}

impl Column {
    /// Every column, in the agents' order.
    pub const ALL: [Column; 8] = [
        Column::FilePath,
        Column::FileSize,
        Column::LastModified,
        Column::LastAccessed,
        Column::FileExtension,
        Column::Permissions,
        Column::Owner,
        Column::Hash,
    ];

    /// The canonical header name.
    pub fn name(self) -> &'static str {
        match self {
            Column::FilePath => "file_path",
            Column::FileSize => "file_size",
            Column::LastModified => "last_modified",
            Column::LastAccessed => "last_accessed",
            Column::FileExtension => "file_extension",
            Column::Permissions => "permissions",
            Column::Owner => "owner",
            Column::Hash => "hash",
        }
    }

    /// Whether an inventory without this column is refused.
    pub fn required(self) -> bool {
        matches!(self, Column::FilePath | Column::FileSize)
    }

    /// Look a canonical name up.
    pub fn from_name(name: &str) -> Option<Column> {
        Column::ALL
            .into_iter()
            .find(|c| c.name().eq_ignore_ascii_case(name))
    }
}

/// Which header names the inventory's columns have, when they are not the canonical ones.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ColumnMap {
    renames: Vec<(Column, String)>,
}

impl ColumnMap {
    /// No renames: headers are matched to canonical names case-insensitively.
    pub fn new() -> Self {
        Self::default()
    }

    /// Read the column `column` from the header `header`.
    pub fn rename(mut self, column: Column, header: impl Into<String>) -> Self {
        self.renames.retain(|(c, _)| *c != column);
        self.renames.push((column, header.into()));
        self
    }

    /// Parse `file_path=FullName,file_size=Length` (the CLI's `--map`).
    pub fn parse(spec: &str) -> Result<Self> {
        let mut map = ColumnMap::new();
        for pair in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (col, header) = pair.split_once('=').ok_or_else(|| {
                Error::invalid_input(format!(
                    "bad column mapping {pair:?}: expected COLUMN=HEADER, e.g. file_path=FullName"
                ))
            })?;
            let column = Column::from_name(col.trim()).ok_or_else(|| {
                let names: Vec<_> = Column::ALL.iter().map(|c| c.name()).collect();
                Error::invalid_input(format!(
                    "bad column mapping {pair:?}: unknown column {col:?} (columns: {})",
                    names.join(", ")
                ))
            })?;
            map = map.rename(column, header.trim());
        }
        Ok(map)
    }

    /// The header name to look for.
    pub fn header_for(&self, column: Column) -> &str {
        self.renames
            .iter()
            .find(|(c, _)| *c == column)
            .map_or(column.name(), |(_, h)| h.as_str())
    }

    /// Resolve each column to its index among `headers`. Errors when a required column is absent.
    pub(crate) fn resolve<'h>(
        &self,
        headers: impl Iterator<Item = &'h str> + Clone,
        source: &str,
    ) -> Result<[Option<usize>; 8]> {
        let mut idx = [None; 8];
        for (slot, column) in idx.iter_mut().zip(Column::ALL) {
            let want = self.header_for(column);
            *slot = headers.clone().position(|h| {
                h.trim()
                    .trim_start_matches('\u{feff}')
                    .eq_ignore_ascii_case(want)
            });
            if slot.is_none() && column.required() {
                let found: Vec<_> = headers.clone().map(|h| format!("{:?}", h.trim())).collect();
                let found = if found.len() > 12 {
                    format!("{}, …", found[..12].join(", "))
                } else {
                    found.join(", ")
                };
                return Err(Error::invalid_input(format!(
                    "{source}: not an inventory: no {want:?} column (the header has {found}); \
                     name it with --map {}=HEADER",
                    column.name()
                )));
            }
        }
        Ok(idx)
    }
}

/// Which reader to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InventoryFormat {
    /// Comma-separated values with a header line.
    Csv,
    /// Apache Parquet.
    Parquet,
}

/// How to read an inventory: one set of options for every place that reads one (the CLI's
/// `ingest`, `plan --inventory` and `rules eval`, and the SDK). Owned, `Clone + Send + Sync`;
/// build it with the `with_*` methods.
///
/// By default everything is guessed from the file: compression (gzip, zstd) and Parquet by magic
/// bytes, the encoding by byte-order mark, the delimiter (`,` `;` tab `|`) and the header line
/// (the first line, past `#` lines and a preamble, holding the mapped columns), and a preset from
/// a header that only one tool writes.
#[derive(Debug, Clone, Default)]
pub struct InventoryOptions {
    /// Column renames (`--map`); they win over a preset's names.
    pub columns: ColumnMap,
    /// Force a format; by default the file's first bytes decide (`PAR1` is Parquet).
    pub format: Option<InventoryFormat>,
    /// The field delimiter; by default guessed from the header line.
    pub delimiter: Option<u8>,
    /// Lines before the header (or, headerless, before the first row); by default the header is
    /// found.
    pub skip_lines: Option<usize>,
    /// The text encoding when the file has no byte-order mark; default UTF-8.
    pub encoding: Option<Encoding>,
    /// A headerless file's field names, in order (`--columns file_path,file_size`).
    pub headerless: Option<Vec<String>>,
    /// The tool that wrote the file; by default detected from the header where unambiguous.
    pub preset: Option<Preset>,
    /// Day order of `a/b/yyyy` dates; by default decided per column from the whole column.
    pub date_order: Option<DateOrder>,
    /// Zone of times written without one; default UTC.
    pub zone: Option<Zone>,
    /// Put in front of relative paths (`s3://bucket`, `/mnt/share`); without it a relative
    /// path is kept as it is (ingest then refuses it).
    pub path_prefix: Option<String>,
}

impl InventoryOptions {
    /// The defaults: everything guessed.
    pub fn new() -> Self {
        Self::default()
    }
    /// Column renames.
    pub fn with_columns(mut self, columns: ColumnMap) -> Self {
        self.columns = columns;
        self
    }
    /// Force a format.
    pub fn with_format(mut self, format: InventoryFormat) -> Self {
        self.format = Some(format);
        self
    }
    /// The field delimiter.
    pub fn with_delimiter(mut self, delimiter: u8) -> Self {
        self.delimiter = Some(delimiter);
        self
    }
    /// Lines before the header.
    pub fn with_skip_lines(mut self, n: usize) -> Self {
        self.skip_lines = Some(n);
        self
    }
    /// The encoding of a file without a byte-order mark.
    pub fn with_encoding(mut self, encoding: Encoding) -> Self {
        self.encoding = Some(encoding);
        self
    }
    /// A headerless file's field names.
    pub fn with_headerless<S: Into<String>>(mut self, names: impl IntoIterator<Item = S>) -> Self {
        self.headerless = Some(names.into_iter().map(Into::into).collect());
        self
    }
    /// The tool that wrote the file.
    pub fn with_preset(mut self, preset: Preset) -> Self {
        self.preset = Some(preset);
        self
    }
    /// Day order of `a/b/yyyy` dates.
    pub fn with_date_order(mut self, order: DateOrder) -> Self {
        self.date_order = Some(order);
        self
    }
    /// Zone of zone-less times.
    pub fn with_zone(mut self, zone: Zone) -> Self {
        self.zone = Some(zone);
        self
    }
    /// Prefix of relative paths.
    pub fn with_path_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.path_prefix = Some(prefix.into());
        self
    }
    /// An S3 Inventory's `manifest.json` text, to read one of its data files: its `fileSchema`
    /// names the headerless columns. (To read all of them, [`open`] the manifest itself.)
    pub fn with_s3_manifest(mut self, manifest: &str) -> Result<Self> {
        let (names, _) = s3_manifest(manifest)?;
        self.headerless = Some(names);
        self.preset = Some(Preset::S3Inventory);
        Ok(self)
    }
}

/// One accepted row, borrowing the reader's buffers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InventoryRow<'a> {
    /// Line (CSV, where the record starts) or row number (Parquet), from 1.
    pub line: u64,
    /// The path exactly as in the inventory.
    pub path: &'a str,
    /// Size in bytes.
    pub size: u64,
    /// Last modified.
    pub modified: Option<Micros>,
    /// Last accessed.
    pub accessed: Option<Micros>,
    /// Extension without a leading dot: the column's value, or derived from the path.
    pub extension: Option<&'a str>,
    /// Permissions column.
    pub permissions: Option<&'a str>,
    /// Owner column.
    pub owner: Option<&'a str>,
    /// Hash column.
    pub hash: Option<&'a str>,
}

impl InventoryRow<'_> {
    /// An owned copy.
    pub fn to_entry(&self) -> FileEntry {
        FileEntry {
            path: self.path.to_owned(),
            size: self.size,
            modified: self.modified,
            accessed: self.accessed,
            extension: self.extension.map(str::to_owned),
            permissions: self.permissions.map(str::to_owned),
            owner: self.owner.map(str::to_owned),
            hash: self.hash.map(str::to_owned),
        }
    }

    /// The facts the rule engine looks at.
    pub fn facts(&self) -> alto_rules::FileFacts<'_> {
        alto_rules::FileFacts {
            path: self.path,
            size: self.size,
            accessed: self.accessed,
            modified: self.modified,
        }
    }
}

/// A row that was not accepted, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rejection {
    /// The inventory file.
    pub source: String,
    /// Line (CSV) or row (Parquet) number, from 1.
    pub line: u64,
    /// The column at fault, when one is.
    pub column: Option<&'static str>,
    /// What was wrong.
    pub reason: String,
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: ", self.source, self.line)?;
        if let Some(c) = self.column {
            write!(f, "column {c}: ")?;
        }
        f.write_str(&self.reason)
    }
}

/// Watches rejected rows for the case where every row fails the same way, to end a run with one
/// line naming the column, the reason and a likely fix instead of a wall of identical lines.
#[derive(Debug, Clone, Default)]
pub struct RejectTally {
    first: Option<(Option<&'static str>, String, Rejection)>,
    same: bool,
    count: u64,
}

impl RejectTally {
    /// Count one rejection.
    pub fn add(&mut self, r: &Rejection) {
        self.count += 1;
        let key = reason_kind(&r.reason);
        match &self.first {
            None => {
                self.first = Some((r.column, key, r.clone()));
                self.same = true;
            }
            Some((c, k, _)) => {
                if *c != r.column || *k != key {
                    self.same = false;
                }
            }
        }
    }

    /// When every one of `rejected` rows (and no row was accepted) failed the same way: one line
    /// saying so, with the column, the reason and a likely fix.
    pub fn summary(&self, accepted: u64) -> Option<String> {
        let (column, _, first) = self.first.as_ref()?;
        if accepted > 0 || !self.same || self.count < 2 {
            return None;
        }
        let column = column.map_or_else(|| "the row".to_owned(), |c| format!("column {c}"));
        Some(format!(
            "every row ({}) was rejected the same way: {column}: {} (first at line {}); {}",
            self.count,
            first.reason,
            first.line,
            likely_fix(first.column, &first.reason)
        ))
    }
}

/// A reason without its quoted values: rows failing "the same way" share it.
fn reason_kind(reason: &str) -> String {
    let mut out = String::with_capacity(reason.len());
    let mut quoted = false;
    let mut prev = '\0';
    for c in reason.chars() {
        if c == '"' && prev != '\\' {
            quoted = !quoted;
        } else if !quoted {
            out.push(c);
        }
        prev = c;
    }
    out
}

fn likely_fix(column: Option<&str>, reason: &str) -> String {
    let fix = if reason.contains("ambiguous date") {
        "say the day order with --date-order dmy or --date-order mdy"
    } else if reason.contains("bad timestamp") {
        "the column holds no time Alto reads: name the right column with --map, or give the \
         tool's --preset"
    } else if reason.contains("bad size") {
        "the column holds no size: name the size column with --map file_size=HEADER, or give \
         the tool's --preset"
    } else if reason.starts_with("expected ") && reason.contains(" fields, found ") {
        "the fields are split differently: give --delimiter (';', tab, '|'), or quote the paths"
    } else if reason.contains("is relative") {
        "the paths are relative: give --path-prefix (e.g. /mnt/share or s3://BUCKET)"
    } else if reason.contains("not beneath the share root") {
        "the paths lie outside the share's root: check the share (alto share) or the inventory"
    } else if reason.contains("UTF-8") {
        "the text is not UTF-8: give --encoding windows-1252 (or latin1, utf-16le)"
    } else {
        return format!("check the {} values", column.unwrap_or("inventory's"));
    };
    format!("likely fix: {fix}")
}

/// What a reader hands out.
#[derive(Debug)]
pub enum Item<'a> {
    /// An accepted row.
    Row(InventoryRow<'a>),
    /// A rejected row; reading goes on.
    Rejected(Rejection),
}

/// Counts so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ReadStats {
    /// Rows accepted.
    pub accepted: u64,
    /// Rows rejected.
    pub rejected: u64,
    /// Folder rows (a trailing separator, or the preset's folder marker): skipped, not files.
    pub folders: u64,
    /// Rows that are not current files (an S3 inventory's older versions and delete markers).
    pub skipped: u64,
}

/// How far a reader is, for progress bars.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Bytes (CSV) or rows (Parquet) done.
    pub done: u64,
    /// The total, when known.
    pub total: Option<u64>,
}

/// A streaming inventory.
pub trait InventorySource: Send + std::fmt::Debug {
    /// The next row or rejection; `Ok(None)` at the end.
    ///
    /// # Behavior
    /// - Rows come out in file order; a rejected row is reported in its place and skipped.
    /// - Memory stays bounded whatever the file size (one record or one batch is buffered).
    /// - `Err` only for I/O failures and for input that is not an inventory; after an `Err` the
    ///   reader is finished.
    fn next_item(&mut self) -> Result<Option<Item<'_>>>;

    /// Accepted and rejected counts so far.
    fn stats(&self) -> ReadStats;

    /// Progress so far.
    fn progress(&self) -> Progress;

    /// The source's name for messages.
    fn source(&self) -> &str;

    /// Notes for the user gathered so far (a detected preset, a skipped preamble, times read as
    /// UTC, a lossy export), each once; taking them empties the list.
    fn take_notes(&mut self) -> Vec<String> {
        Vec::new()
    }
}

/// Whether a path is a folder row: it ends in a separator (`/`, or `\` in a Windows path).
pub fn is_folder_path(path: &str) -> bool {
    path.ends_with('/') || (path.ends_with('\\') && crate::path::is_windows_path(path))
}

/// Open an inventory file, choosing CSV or Parquet by content (unless forced).
///
/// An S3 Inventory's `manifest.json` (JSON with a `fileSchema`; not when a format is forced) is
/// read whole: every data file it lists, found beside it, checked against the manifest's sizes
/// and MD5 checksums, as one source ([`ChainedInventory`]; see the `manifest` module).
pub fn open(path: &Path, options: &InventoryOptions) -> Result<Box<dyn InventorySource>> {
    if options.format.is_none() {
        if let Some(m) = manifest::sniff(path)? {
            return manifest::open(path, m, options);
        }
    }
    let format = match options.format {
        Some(f) => f,
        None => sniff(path)?,
    };
    match format {
        InventoryFormat::Csv => Ok(Box::new(CsvInventory::open_with(path, options)?)),
        #[cfg(feature = "parquet")]
        InventoryFormat::Parquet => {
            let f = std::fs::File::open(path)
                .map_err(|e| Error::from(e).prefixed(&format!("cannot open {}", path.display())))?;
            let raw: Box<dyn Read + Send> = Box::new(f);
            let (mut r, compression) = input::decompress(std::io::BufReader::new(raw))?;
            if compression == input::Compression::None {
                return Ok(Box::new(ParquetInventory::open_with(path, options)?));
            }
            // Parquet needs random access: a compressed one is unpacked into a temporary file
            // first (removed at once; the open handle keeps it readable).
            let mut tmp = tempfile::NamedTempFile::new()?;
            std::io::copy(&mut r, tmp.as_file_mut())?;
            let inv =
                ParquetInventory::open_as_options(tmp.path(), path.display().to_string(), options)?;
            Ok(Box::new(inv))
        }
        #[cfg(not(feature = "parquet"))]
        InventoryFormat::Parquet => Err(Error::new(
            crate::ErrorKind::Unsupported,
            format!(
                "{}: Parquet inventories need alto-core's `parquet` feature",
                path.display()
            ),
        )),
    }
}

fn sniff(path: &Path) -> Result<InventoryFormat> {
    let f = std::fs::File::open(path)
        .map_err(|e| Error::from(e).prefixed(&format!("cannot open {}", path.display())))?;
    let raw: Box<dyn Read + Send> = Box::new(f);
    let (mut r, _) = input::decompress(std::io::BufReader::new(raw))?;
    let mut head = [0u8; 4];
    let mut n = 0;
    while n < 4 {
        match r.read(&mut head[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(if n == 4 && &head == b"PAR1" {
        InventoryFormat::Parquet
    } else {
        InventoryFormat::Csv
    })
}

/// Read a whole inventory into owned entries (small files and tests; the planner streams).
pub fn read_all(
    path: &Path,
    options: &InventoryOptions,
) -> Result<(Vec<FileEntry>, Vec<Rejection>)> {
    let mut src = open(path, options)?;
    let mut rows = Vec::new();
    let mut rejected = Vec::new();
    while let Some(item) = src.next_item()? {
        match item {
            Item::Row(r) => rows.push(r.to_entry()),
            Item::Rejected(r) => rejected.push(r),
        }
    }
    Ok((rows, rejected))
}
