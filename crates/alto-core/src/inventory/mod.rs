//! Inventory readers: stream an agent's CSV or Parquet file list in bounded memory.
//!
//! An inventory is one row per file with the columns of DESIGN.md §5:
//! `file_path,file_size,last_modified,last_accessed,file_extension,permissions,owner,hash`.
//! Real inventories vary, so a [`ColumnMap`] renames columns (`file_path=FullName`), a UTF-8 BOM,
//! CRLF and quoted fields are accepted, timestamps come in several forms
//! ([`parse_timestamp`](crate::time::parse_timestamp)), and an absent or empty extension is derived
//! from the path.
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
mod fields;
#[cfg(feature = "parquet")]
mod parquet;

pub use self::csv::CsvInventory;
pub(crate) use self::fields::check_path_len;
#[cfg(feature = "parquet")]
pub use self::parquet::ParquetInventory;

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

/// How to read an inventory.
#[derive(Debug, Clone, Default)]
pub struct InventoryOptions {
    /// Column renames.
    pub columns: ColumnMap,
    /// Force a format; by default the file's first bytes decide (`PAR1` is Parquet).
    pub format: Option<InventoryFormat>,
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
}

/// Open an inventory file, choosing CSV or Parquet by content (unless forced).
pub fn open(path: &Path, options: &InventoryOptions) -> Result<Box<dyn InventorySource>> {
    let format = match options.format {
        Some(f) => f,
        None => sniff(path)?,
    };
    match format {
        InventoryFormat::Csv => Ok(Box::new(CsvInventory::open(path, &options.columns)?)),
        #[cfg(feature = "parquet")]
        InventoryFormat::Parquet => Ok(Box::new(ParquetInventory::open(path, &options.columns)?)),
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
    let mut head = [0u8; 4];
    let mut f = std::fs::File::open(path)
        .map_err(|e| Error::from(e).prefixed(&format!("cannot open {}", path.display())))?;
    let n = f.read(&mut head)?;
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
