//! Several inventory files read as one source ([`ChainedInventory`]), and the S3 Inventory read
//! whole through its `manifest.json`.
//!
//! An S3 Inventory report is a `manifest.json` and the data files it lists (`files[].key`, each
//! with its `size` and `MD5checksum`), as AWS lays them out in the destination bucket:
//!
//! ```text
//! DEST-PREFIX/SOURCE-BUCKET/CONFIG-ID/YYYY-MM-DDTHH-MMZ/manifest.json
//! DEST-PREFIX/SOURCE-BUCKET/CONFIG-ID/data/UUID.csv.gz
//! ```
//!
//! [`open`](super::open) recognises a manifest by its content (JSON with a `fileSchema`) and reads
//! every data file, in the manifest's order, as one inventory: rejections name the data file and
//! its line, stats and progress add up. Each data file is looked for beside the manifest as such
//! a download leaves it (see [`locate`]); every one must be there, with the manifest's size,
//! before any row is read, and its MD5 is checked as it is read (a CSV file) or before (Parquet).
//! A `manifest.checksum` beside the manifest (AWS writes one: the MD5 of `manifest.json`) is
//! checked too.
//! `fileFormat` `CSV` is read as the `s3-inventory` preset with the `fileSchema` columns,
//! `Parquet` through the Parquet reader with S3's column names; `ORC` is refused.

use super::{InventoryFormat, InventoryOptions, InventoryRow, InventorySource, Item};
use super::{Preset, Progress, ReadStats};
use crate::error::{Error, ErrorKind, Result};
use crate::time::Micros;
use md5::{Digest, Md5};
use std::collections::HashSet;
use std::fmt;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The largest `manifest.json` read (a manifest lists one entry per data file: a few hundred
/// bytes each).
const MAX_MANIFEST_BYTES: u64 = 64 << 20;

/// One source of a [`ChainedInventory`], opened when its turn comes.
pub trait ChainPart: Send + fmt::Debug {
    /// Its share of the chain's progress (its size in bytes, say).
    fn weight(&self) -> u64;

    /// Open the source.
    fn open(&mut self) -> Result<Box<dyn InventorySource>>;

    /// Called once the source has handed out its last item: a check of what was read (a
    /// checksum). An `Err` ends the chain.
    fn finish(&mut self) -> Result<()> {
        Ok(())
    }
}

/// Several inventory sources read one after the other as one: items in order, stats summed,
/// progress weighted by each part's [`ChainPart::weight`], the notes of every part kept (a note
/// every part makes alike, only once). Rejections
/// keep the name and line of the part they came from.
pub struct ChainedInventory {
    name: String,
    parts: std::vec::IntoIter<Box<dyn ChainPart>>,
    current: Option<(Box<dyn ChainPart>, Box<dyn InventorySource>)>,
    /// Stats of the parts already read.
    before: ReadStats,
    done_weight: u64,
    total_weight: u64,
    notes: Vec<String>,
    /// What the parts' notes said, without the part's name: each is said once.
    said: HashSet<String>,
    row: OwnedRow,
}

impl fmt::Debug for ChainedInventory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChainedInventory")
            .field("name", &self.name)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl ChainedInventory {
    /// Read `parts` in order as one source named `name` in messages.
    pub fn new(name: impl Into<String>, parts: Vec<Box<dyn ChainPart>>) -> Self {
        let total_weight = parts.iter().map(|p| p.weight()).sum();
        ChainedInventory {
            name: name.into(),
            parts: parts.into_iter(),
            current: None,
            before: ReadStats::default(),
            done_weight: 0,
            total_weight,
            notes: Vec::new(),
            said: HashSet::new(),
            row: OwnedRow::default(),
        }
    }

    /// Add a note for the user.
    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    /// Open the next part; `false` when there is none.
    fn advance(&mut self) -> Result<bool> {
        let Some(mut part) = self.parts.next() else {
            return Ok(false);
        };
        let mut src = part.open()?;
        self.keep_notes(src.as_mut());
        self.current = Some((part, src));
        Ok(true)
    }

    /// Take a part's notes, each said once: the same note of every part (`FILE: gzip
    /// compressed`) only for the first.
    fn keep_notes(&mut self, src: &mut dyn InventorySource) {
        for n in src.take_notes() {
            let what = n.strip_prefix(src.source()).unwrap_or(&n);
            let what = what
                .strip_prefix(':')
                .map_or(what, |w| w.trim_start_matches(|c: char| c.is_ascii_digit()));
            if self.said.insert(what.to_owned()) {
                self.notes.push(n);
            }
        }
    }

    /// The current part handed out its last item: check it and count it as done.
    fn end_current(&mut self) -> Result<()> {
        if let Some((mut part, mut src)) = self.current.take() {
            self.keep_notes(src.as_mut());
            self.before = add(self.before, src.stats());
            self.done_weight += part.weight();
            part.finish()?;
        }
        Ok(())
    }
}

fn add(a: ReadStats, b: ReadStats) -> ReadStats {
    ReadStats {
        accepted: a.accepted + b.accepted,
        rejected: a.rejected + b.rejected,
        folders: a.folders + b.folders,
        skipped: a.skipped + b.skipped,
    }
}

impl InventorySource for ChainedInventory {
    fn next_item(&mut self) -> Result<Option<Item<'_>>> {
        // A row borrows its part's buffers, which a move to the next part would end: it is
        // copied into the chain's own reused buffers (no allocation once they have grown).
        loop {
            if self.current.is_none() && !self.advance()? {
                return Ok(None);
            }
            let Some((_, src)) = self.current.as_mut() else {
                return Ok(None);
            };
            match src.next_item()? {
                Some(Item::Row(r)) => {
                    self.row.store(&r);
                    break;
                }
                Some(Item::Rejected(r)) => return Ok(Some(Item::Rejected(r))),
                None => self.end_current()?,
            }
        }
        Ok(Some(Item::Row(self.row.get())))
    }

    fn stats(&self) -> ReadStats {
        match &self.current {
            Some((_, src)) => add(self.before, src.stats()),
            None => self.before,
        }
    }

    fn progress(&self) -> Progress {
        let mut done = self.done_weight;
        if let Some((part, src)) = &self.current {
            let w = part.weight();
            let p = src.progress();
            done += match p.total {
                Some(t) if t > 0 => (u128::from(w) * u128::from(p.done.min(t)) / u128::from(t))
                    .try_into()
                    .unwrap_or(w),
                _ => p.done.min(w),
            };
        }
        Progress {
            done,
            total: Some(self.total_weight),
        }
    }

    fn source(&self) -> &str {
        &self.name
    }

    fn take_notes(&mut self) -> Vec<String> {
        if let Some((part, src)) = self.current.take() {
            let mut src = src;
            self.keep_notes(src.as_mut());
            self.current = Some((part, src));
        }
        std::mem::take(&mut self.notes)
    }
}

/// An optional text field in a reused buffer.
#[derive(Debug, Default)]
struct Slot {
    buf: String,
    set: bool,
}

impl Slot {
    fn put(&mut self, v: Option<&str>) {
        self.buf.clear();
        self.set = v.is_some();
        if let Some(v) = v {
            self.buf.push_str(v);
        }
    }

    fn get(&self) -> Option<&str> {
        self.set.then_some(self.buf.as_str())
    }
}

/// A copy of a row in reused buffers.
#[derive(Debug, Default)]
struct OwnedRow {
    line: u64,
    path: String,
    size: u64,
    modified: Option<Micros>,
    accessed: Option<Micros>,
    extension: Slot,
    permissions: Slot,
    owner: Slot,
    hash: Slot,
}

impl OwnedRow {
    fn store(&mut self, r: &InventoryRow<'_>) {
        self.line = r.line;
        self.path.clear();
        self.path.push_str(r.path);
        self.size = r.size;
        self.modified = r.modified;
        self.accessed = r.accessed;
        self.extension.put(r.extension);
        self.permissions.put(r.permissions);
        self.owner.put(r.owner);
        self.hash.put(r.hash);
    }

    fn get(&self) -> InventoryRow<'_> {
        InventoryRow {
            line: self.line,
            path: &self.path,
            size: self.size,
            modified: self.modified,
            accessed: self.accessed,
            extension: self.extension.get(),
            permissions: self.permissions.get(),
            owner: self.owner.get(),
            hash: self.hash.get(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The S3 Inventory manifest.

/// The format of an S3 Inventory's data files (`fileFormat`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum S3Format {
    Csv,
    Parquet,
    Orc,
}

/// One data file of a manifest (`files[]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ManifestFile {
    /// Its key in the destination bucket.
    pub(crate) key: String,
    /// Its size in bytes, when the manifest says.
    pub(crate) size: Option<u64>,
    /// Its MD5, lower-case hex, when the manifest says.
    pub(crate) md5: Option<String>,
}

/// What an S3 Inventory `manifest.json` says.
#[derive(Debug, Clone)]
pub(crate) struct S3Manifest {
    pub(crate) source_bucket: Option<String>,
    pub(crate) format: S3Format,
    /// The data files' column names, in order (CSV: the `fileSchema` list; Parquet and ORC: the
    /// schema's field names).
    pub(crate) columns: Vec<String>,
    pub(crate) files: Vec<ManifestFile>,
}

impl S3Manifest {
    /// Parse a manifest's text.
    pub(crate) fn parse(text: &str) -> Result<S3Manifest> {
        let v: serde_json::Value = serde_json::from_str(text.trim_start_matches('\u{feff}'))
            .map_err(|e| Error::invalid_input(format!("not an S3 Inventory manifest: {e}")))?;
        Self::from_json(&v)
    }

    fn from_json(v: &serde_json::Value) -> Result<S3Manifest> {
        let schema = v
            .get("fileSchema")
            .and_then(|s| s.as_str())
            .ok_or_else(|| Error::invalid_input("S3 Inventory manifest has no \"fileSchema\""))?;
        let format = match v.get("fileFormat").and_then(|f| f.as_str()) {
            None => S3Format::Csv,
            Some(f) if f.eq_ignore_ascii_case("CSV") => S3Format::Csv,
            Some(f) if f.eq_ignore_ascii_case("Parquet") => S3Format::Parquet,
            Some(f) if f.eq_ignore_ascii_case("ORC") => S3Format::Orc,
            Some(f) => {
                return Err(Error::invalid_input(format!(
                    "S3 Inventory manifest names format {f:?}: expected CSV or Parquet"
                )));
            }
        };
        let columns = match format {
            S3Format::Csv => schema.split(',').map(|c| c.trim().to_owned()).collect(),
            S3Format::Parquet => parquet_schema_names(schema),
            S3Format::Orc => orc_schema_names(schema),
        };
        let mut files = Vec::new();
        for (i, f) in v
            .get("files")
            .and_then(|f| f.as_array())
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            let key = f.get("key").and_then(|k| k.as_str()).ok_or_else(|| {
                Error::invalid_input(format!("S3 Inventory manifest: files[{i}] has no \"key\""))
            })?;
            let size = match f.get("size") {
                None | Some(serde_json::Value::Null) => None,
                Some(s) => Some(
                    s.as_u64()
                        .or_else(|| s.as_str().and_then(|s| s.trim().parse().ok()))
                        .ok_or_else(|| {
                            Error::invalid_input(format!(
                                "S3 Inventory manifest: files[{i}] ({key}): bad size {s}"
                            ))
                        })?,
                ),
            };
            let md5 = f
                .get("MD5checksum")
                .and_then(|m| m.as_str())
                .map(|m| m.trim().to_ascii_lowercase())
                .filter(|m| !m.is_empty());
            files.push(ManifestFile {
                key: key.to_owned(),
                size,
                md5,
            });
        }
        Ok(S3Manifest {
            source_bucket: v
                .get("sourceBucket")
                .and_then(|b| b.as_str())
                .map(str::to_owned),
            format,
            columns,
            files,
        })
    }

    /// The refusal of a format Alto does not read.
    pub(crate) fn check_readable(&self) -> Result<()> {
        if self.format == S3Format::Orc {
            return Err(Error::new(
                ErrorKind::Unsupported,
                "S3 Inventory manifest names format \"ORC\": ORC is not read; configure the \
                 inventory report as CSV or Parquet",
            ));
        }
        Ok(())
    }
}

/// The field names of a Parquet message schema:
/// `message s3.inventory { required binary bucket (UTF8); optional int64 size; … }`.
fn parquet_schema_names(schema: &str) -> Vec<String> {
    let body = schema
        .split_once('{')
        .map_or(schema, |(_, b)| b)
        .trim_end()
        .trim_end_matches('}');
    body.split(';')
        .filter_map(|f| f.split_whitespace().nth(2).map(str::to_owned))
        .collect()
}

/// The field names of an ORC struct schema: `struct<bucket:string,key:string,…>`.
fn orc_schema_names(schema: &str) -> Vec<String> {
    let body = schema
        .trim()
        .strip_prefix("struct<")
        .unwrap_or(schema)
        .trim_end_matches('>');
    body.split(',')
        .filter_map(|f| f.split_once(':').map(|(n, _)| n.trim().to_owned()))
        .collect()
}

/// The text of `path` when it is an S3 Inventory manifest (JSON with a `fileSchema`); `None` for
/// anything else (a CSV or Parquet inventory).
pub(crate) fn sniff(path: &Path) -> Result<Option<S3Manifest>> {
    let mut f = File::open(path)
        .map_err(|e| Error::from(e).prefixed(&format!("cannot open {}", path.display())))?;
    let mut head = [0u8; 64];
    let n = super::layout::read_up_to(&mut f, &mut head)?;
    let head = &head[..n];
    let head = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    if head.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Ok(None);
    }
    f.seek(SeekFrom::Start(0))?;
    let mut text = String::new();
    if f.take(MAX_MANIFEST_BYTES)
        .read_to_string(&mut text)
        .is_err()
    {
        return Ok(None);
    }
    let Ok(v) = serde_json::from_str::<serde_json::Value>(text.trim_start_matches('\u{feff}'))
    else {
        return Ok(None);
    };
    if v.get("fileSchema").is_none() {
        return Err(Error::invalid_input(format!(
            "{}: JSON, not an inventory (an S3 Inventory manifest.json has a \"fileSchema\")",
            path.display()
        )));
    }
    let manifest =
        S3Manifest::from_json(&v).map_err(|e| e.prefixed(&path.display().to_string()))?;
    // AWS writes `manifest.checksum` beside it: the MD5 of the manifest's bytes.
    let sum = path.with_extension("checksum");
    if let Ok(want) = std::fs::read_to_string(&sum) {
        let want = want.trim().to_ascii_lowercase();
        let got = hex(&Md5::digest(text.as_bytes()));
        if is_md5_hex(&want) && got != want {
            return Err(Error::invalid_input(format!(
                "{}: MD5 {got}, but {} says {want}: the manifest is damaged or not the one of \
                 that report; download both again",
                path.display(),
                sum.display()
            )));
        }
    }
    Ok(Some(manifest))
}

/// Where a manifest's data file `key` may lie beside the manifest `manifest` once downloaded,
/// in the order tried: the key below the manifest's folder; the key's file in the `data` folder
/// beside the manifest's timestamped folder (AWS's layout:
/// `DEST-PREFIX/SOURCE-BUCKET/CONFIG-ID/YYYY-MM-DDTHH-MMZ/manifest.json` and
/// `DEST-PREFIX/SOURCE-BUCKET/CONFIG-ID/data/FILE`); the file in a `data` folder below the
/// manifest's; the file beside the manifest.
pub(crate) fn locate(manifest: &Path, key: &str) -> Vec<PathBuf> {
    let dir = manifest.parent().unwrap_or(Path::new(""));
    let rel = key.trim_start_matches('/');
    let base = rel.rsplit('/').next().unwrap_or(rel);
    let mut out: Vec<PathBuf> = Vec::with_capacity(4);
    let mut push = |p: PathBuf| {
        if !out.contains(&p) {
            out.push(p);
        }
    };
    push(dir.join(rel));
    // `DIR/../data`, written without `..` where the folder has a name.
    let up = match (dir.file_name(), dir.parent()) {
        (Some(_), Some(parent)) => parent.to_path_buf(),
        _ => dir.join(".."),
    };
    push(up.join("data").join(base));
    push(dir.join("data").join(base));
    push(dir.join(base));
    out
}

/// A data file found beside the manifest.
#[derive(Debug)]
struct Found {
    file: ManifestFile,
    path: PathBuf,
    len: u64,
}

/// Open the S3 Inventory whose manifest is at `path` (already parsed) as one source.
pub(crate) fn open(
    path: &Path,
    manifest: S3Manifest,
    options: &InventoryOptions,
) -> Result<Box<dyn InventorySource>> {
    let name = path.display().to_string();
    manifest.check_readable().map_err(|e| e.prefixed(&name))?;
    #[cfg(not(feature = "parquet"))]
    if manifest.format == S3Format::Parquet {
        return Err(Error::new(
            ErrorKind::Unsupported,
            format!("{name}: Parquet inventories need alto-core's `parquet` feature"),
        ));
    }
    // Every data file must be there, whole, before a row is read.
    let mut found = Vec::with_capacity(manifest.files.len());
    let mut missing: Vec<(String, Vec<PathBuf>)> = Vec::new();
    for file in &manifest.files {
        let tried = locate(path, &file.key);
        match tried.iter().find(|p| p.is_file()) {
            Some(p) => {
                let len = std::fs::metadata(p)
                    .map_err(|e| Error::from(e).prefixed(&format!("cannot open {}", p.display())))?
                    .len();
                if let Some(want) = file.size {
                    if want != len {
                        return Err(Error::invalid_input(format!(
                            "{}: {len} bytes, but {name} lists {} with {want} bytes: a \
                             truncated or incomplete download; download it again",
                            p.display(),
                            file.key
                        )));
                    }
                }
                found.push(Found {
                    file: file.clone(),
                    path: p.clone(),
                    len,
                });
            }
            None => missing.push((file.key.clone(), tried)),
        }
    }
    if let Some((key, tried)) = missing.first() {
        let tried: Vec<_> = tried.iter().map(|p| p.display().to_string()).collect();
        let more = match missing.len() {
            1 => String::new(),
            n => format!(
                " ({} more of the manifest's data files are missing too)",
                n - 1
            ),
        };
        return Err(Error::new(
            ErrorKind::NotFound,
            format!(
                "{name}: data file {key} not found (looked for {}){more}; download the \
                 manifest's data files beside it",
                tried.join(", ")
            ),
        ));
    }
    let mut opts = options.clone();
    opts.preset = Some(Preset::S3Inventory);
    let (format, label) = match manifest.format {
        S3Format::Parquet => (InventoryFormat::Parquet, "Parquet"),
        _ => (InventoryFormat::Csv, "CSV"),
    };
    opts.format = Some(format);
    if format == InventoryFormat::Csv {
        let has_bucket = manifest
            .columns
            .iter()
            .any(|c| c.eq_ignore_ascii_case("Bucket"));
        opts.headerless = Some(manifest.columns.clone());
        if !has_bucket && opts.path_prefix.is_none() {
            opts.path_prefix = manifest.source_bucket.as_ref().map(|b| format!("s3://{b}"));
        }
    }
    let checked = found.iter().filter(|f| f.file.md5.is_some()).count();
    let note = format!(
        "{name}: S3 Inventory{} in {} {label} data file{}{}",
        manifest
            .source_bucket
            .as_deref()
            .map(|b| format!(" of bucket {b}"))
            .unwrap_or_default(),
        found.len(),
        if found.len() == 1 { "" } else { "s" },
        if checked > 0 {
            format!(", MD5 checked for {checked}")
        } else {
            String::new()
        }
    );
    let opts = Arc::new(opts);
    let parts: Vec<Box<dyn ChainPart>> = found
        .into_iter()
        .map(|f| {
            Box::new(S3Part {
                format,
                options: opts.clone(),
                md5: f.file.md5.filter(|m| is_md5_hex(m)),
                key: f.file.key,
                path: f.path,
                len: f.len,
                hashing: None,
            }) as Box<dyn ChainPart>
        })
        .collect();
    Ok(Box::new(ChainedInventory::new(name, parts).with_note(note)))
}

/// Whether `m` is an MD5 in hex (a multipart upload's ETag-like `…-N` is not checked).
fn is_md5_hex(m: &str) -> bool {
    m.len() == 32 && m.bytes().all(|b| b.is_ascii_hexdigit())
}

/// One data file of an S3 Inventory.
#[derive(Debug)]
struct S3Part {
    key: String,
    path: PathBuf,
    len: u64,
    md5: Option<String>,
    format: InventoryFormat,
    options: Arc<InventoryOptions>,
    /// The MD5 of what a CSV reader read so far.
    hashing: Option<Arc<Mutex<Hashing>>>,
}

/// An MD5 being computed over the bytes read.
#[derive(Debug, Default)]
struct Hashing {
    md5: Md5,
    bytes: u64,
}

/// Hashes what passes through.
struct HashingReader {
    inner: File,
    state: Arc<Mutex<Hashing>>,
}

impl Read for HashingReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        s.md5.update(&buf[..n]);
        s.bytes += n as u64;
        Ok(n)
    }
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(32), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

impl S3Part {
    fn open_file(&self) -> Result<File> {
        File::open(&self.path)
            .map_err(|e| Error::from(e).prefixed(&format!("cannot open {}", self.path.display())))
    }

    fn mismatch(&self, got: &str, want: &str) -> Error {
        Error::invalid_input(format!(
            "{}: MD5 {got}, but the manifest lists {} with MD5 {want}: the file is damaged or \
             not the one the manifest lists; download it again",
            self.path.display(),
            self.key
        ))
    }

    /// Whether the file holds no text once decompressed.
    fn is_empty(&self) -> Result<bool> {
        let raw: Box<dyn Read + Send> = Box::new(self.open_file()?);
        let (mut r, _) = super::input::decompress(std::io::BufReader::new(raw))?;
        let mut one = [0u8; 1];
        Ok(super::layout::read_up_to(&mut r, &mut one)? == 0)
    }

    /// Hash the whole file now (Parquet is read out of order, an empty file not at all).
    fn verify_whole(&self) -> Result<()> {
        let Some(want) = &self.md5 else {
            return Ok(());
        };
        let mut f = self.open_file()?;
        let mut md5 = Md5::new();
        let mut buf = vec![0u8; 1 << 16];
        loop {
            match f.read(&mut buf)? {
                0 => break,
                n => md5.update(&buf[..n]),
            }
        }
        let got = hex(&md5.finalize());
        if &got != want {
            return Err(self.mismatch(&got, want));
        }
        Ok(())
    }
}

/// A data file without rows.
#[derive(Debug)]
struct Empty(String);

impl InventorySource for Empty {
    fn next_item(&mut self) -> Result<Option<Item<'_>>> {
        Ok(None)
    }

    fn stats(&self) -> ReadStats {
        ReadStats::default()
    }

    fn progress(&self) -> Progress {
        Progress {
            done: 0,
            total: None,
        }
    }

    fn source(&self) -> &str {
        &self.0
    }
}

impl ChainPart for S3Part {
    fn weight(&self) -> u64 {
        self.len
    }

    fn open(&mut self) -> Result<Box<dyn InventorySource>> {
        let source = self.path.display().to_string();
        match self.format {
            InventoryFormat::Csv => {
                if self.is_empty()? {
                    // A data file of no rows (a report of a prefix holding nothing).
                    self.verify_whole()?;
                    return Ok(Box::new(Empty(source)));
                }
                let file = self.open_file()?;
                let state = Arc::new(Mutex::new(Hashing::default()));
                if self.md5.is_some() {
                    self.hashing = Some(state.clone());
                }
                let reader: Box<dyn Read + Send> = if self.md5.is_some() {
                    Box::new(HashingReader { inner: file, state })
                } else {
                    Box::new(file)
                };
                Ok(Box::new(super::CsvInventory::from_reader(
                    reader,
                    source,
                    &self.options,
                )?))
            }
            #[cfg(feature = "parquet")]
            InventoryFormat::Parquet => {
                self.verify_whole()?;
                Ok(Box::new(super::ParquetInventory::open_with(
                    &self.path,
                    &self.options,
                )?))
            }
            #[cfg(not(feature = "parquet"))]
            InventoryFormat::Parquet => Err(Error::new(
                ErrorKind::Unsupported,
                format!("{source}: Parquet inventories need alto-core's `parquet` feature"),
            )),
        }
    }

    fn finish(&mut self) -> Result<()> {
        let (Some(want), Some(state)) = (&self.md5, self.hashing.take()) else {
            return Ok(());
        };
        let mut s = std::mem::take(&mut *state.lock().unwrap_or_else(|p| p.into_inner()));
        // The reader may stop short of the file's end (a gzip trailer already checked): hash the
        // rest.
        if s.bytes < self.len {
            let mut f = self.open_file()?;
            f.seek(SeekFrom::Start(s.bytes))?;
            let mut buf = vec![0u8; 1 << 16];
            loop {
                match f.read(&mut buf)? {
                    0 => break,
                    n => s.md5.update(&buf[..n]),
                }
            }
        }
        let got = hex(&s.md5.finalize());
        if &got != want {
            return Err(self.mismatch(&got, want));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemas() {
        let p = "message s3.inventory { required binary bucket (UTF8); required binary key \
                 (UTF8); optional boolean is_latest;  optional int64 size;  optional int64 \
                 last_modified_date (TIMESTAMP_MILLIS);}";
        assert_eq!(
            parquet_schema_names(p),
            ["bucket", "key", "is_latest", "size", "last_modified_date"]
        );
        let o = "struct<bucket:string,key:string,size:bigint>";
        assert_eq!(orc_schema_names(o), ["bucket", "key", "size"]);
    }

    #[test]
    fn places_tried() {
        let m = Path::new("inv/src/cfg/2025-11-20T00-00Z/manifest.json");
        let got = locate(m, "src/cfg/data/a.csv.gz");
        let want: Vec<PathBuf> = [
            "inv/src/cfg/2025-11-20T00-00Z/src/cfg/data/a.csv.gz",
            "inv/src/cfg/data/a.csv.gz",
            "inv/src/cfg/2025-11-20T00-00Z/data/a.csv.gz",
            "inv/src/cfg/2025-11-20T00-00Z/a.csv.gz",
        ]
        .iter()
        .map(PathBuf::from)
        .collect();
        assert_eq!(got, want);
        assert_eq!(
            locate(Path::new("manifest.json"), "a/b/c.csv.gz")[1],
            Path::new("../data/c.csv.gz")
        );
    }
}
