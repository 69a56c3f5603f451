//! The CSV inventory reader.
//!
//! One reused `ByteRecord` per reader: fields are checked and parsed in place, and the accepted row
//! borrows them. Paths must be UTF-8 (a row whose path is not is rejected with its line number, so
//! nothing is silently mangled); a file whose first bytes look binary is refused whole. Row limits
//! (size, times, path length, NUL) are the [module's](super).

use super::fields::{check_path, extension, opt, parse_size, parse_time};
use super::{ColumnMap, InventoryRow, InventorySource, Item, Progress, ReadStats, Rejection};
use crate::error::{Error, Result};
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

/// Streams a CSV inventory.
pub struct CsvInventory {
    reader: csv::Reader<BufReader<File>>,
    record: csv::ByteRecord,
    columns: [Option<usize>; 8],
    width: usize,
    source: String,
    stats: ReadStats,
    total_bytes: u64,
}

impl std::fmt::Debug for CsvInventory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CsvInventory")
            .field("source", &self.source)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl CsvInventory {
    /// Open `path` and read its header.
    pub fn open(path: &Path, columns: &ColumnMap) -> Result<Self> {
        let source = path.display().to_string();
        let mut file = File::open(path)
            .map_err(|e| Error::from(e).prefixed(&format!("cannot open {source}")))?;
        let total_bytes = file.metadata().map(|m| m.len()).unwrap_or(0);
        let mut head = vec![0u8; 8192];
        let n = read_up_to(&mut file, &mut head)?;
        head.truncate(n);
        if n == 0 {
            return Err(Error::invalid_input(format!(
                "{source}: not an inventory: the file is empty"
            )));
        }
        if looks_binary(&head) {
            return Err(Error::invalid_input(format!(
                "{source}: not an inventory: binary data (expected CSV with a header line, or Parquet)"
            )));
        }
        file.seek(SeekFrom::Start(0))?;
        // Records end at `\n` only; a `\r` before it is stripped from the last field (see
        // `field`). With the default CRLF terminator the reader reports the line *before* a
        // record that follows a `\r\n`, and every rejection would name the wrong line.
        let mut reader = csv::ReaderBuilder::new()
            .terminator(csv::Terminator::Any(b'\n'))
            .flexible(true)
            .has_headers(true)
            .buffer_capacity(1 << 16)
            .from_reader(BufReader::with_capacity(1 << 16, file));
        let headers = reader
            .byte_headers()
            .map_err(|e| Error::invalid_input(format!("{source}: cannot read the header: {e}")))?
            .clone();
        let names: Vec<String> = headers
            .iter()
            .map(|h| String::from_utf8_lossy(strip_cr(h)).into_owned())
            .collect();
        let resolved = columns.resolve(names.iter().map(String::as_str), &source)?;
        Ok(CsvInventory {
            reader,
            record: csv::ByteRecord::new(),
            columns: resolved,
            width: names.len(),
            source,
            stats: ReadStats::default(),
            total_bytes,
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

fn strip_cr(b: &[u8]) -> &[u8] {
    b.strip_suffix(b"\r").unwrap_or(b)
}

/// Field `i` of `rec`, without the `\r` of a CRLF line end.
fn field(rec: &csv::ByteRecord, i: usize) -> &[u8] {
    let f = &rec[i];
    if i + 1 == rec.len() { strip_cr(f) } else { f }
}

fn read_up_to(f: &mut File, buf: &mut [u8]) -> Result<usize> {
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

/// Outcome of checking one record: either the parsed scalar fields or the rejection.
struct Parsed {
    size: u64,
    modified: Option<i64>,
    accessed: Option<i64>,
}

impl InventorySource for CsvInventory {
    fn next_item(&mut self) -> Result<Option<Item<'_>>> {
        let more = self
            .reader
            .read_byte_record(&mut self.record)
            .map_err(|e| Error::invalid_input(format!("{}: cannot read CSV: {e}", self.source)))?;
        if !more {
            return Ok(None);
        }
        let line = self.record.position().map_or(0, |p| p.line());
        if self.record.len() != self.width {
            // A blank line is not a row worth reporting.
            if self.record.len() == 1 && field(&self.record, 0).is_empty() {
                return self.next_item();
            }
            let reason = format!(
                "expected {} fields, found {} (an unquoted comma in a path?)",
                self.width,
                self.record.len()
            );
            return Ok(Some(self.reject(line, None, reason)));
        }
        // Validate every used field as UTF-8 first, then parse the scalars.
        let mut bad: Option<(&'static str, String)> = None;
        for (col, idx) in super::Column::ALL.iter().zip(self.columns) {
            if let Some(i) = idx {
                if std::str::from_utf8(field(&self.record, i)).is_err() {
                    bad = Some((col.name(), "not valid UTF-8".into()));
                    break;
                }
            }
        }
        let parsed = match bad {
            Some(b) => Err(b),
            None => parse_scalars(&self.record, &self.columns),
        };
        let parsed = match parsed {
            Ok(p) => p,
            Err((col, reason)) => return Ok(Some(self.reject(line, Some(col), reason))),
        };
        self.stats.accepted += 1;
        let rec = &self.record;
        // Checked above: every used field is UTF-8.
        let field = |c: usize| -> Option<&str> {
            self.columns[c].map(|i| std::str::from_utf8(field(rec, i)).unwrap_or_default())
        };
        let path = field(0).unwrap_or_default();
        Ok(Some(Item::Row(InventoryRow {
            line,
            path,
            size: parsed.size,
            modified: parsed.modified,
            accessed: parsed.accessed,
            extension: extension(field(4), path),
            permissions: field(5).and_then(opt),
            owner: field(6).and_then(opt),
            hash: field(7).and_then(opt),
        })))
    }

    fn stats(&self) -> ReadStats {
        self.stats
    }

    fn progress(&self) -> Progress {
        Progress {
            done: self.reader.position().byte(),
            total: Some(self.total_bytes),
        }
    }

    fn source(&self) -> &str {
        &self.source
    }
}

fn parse_scalars(
    rec: &csv::ByteRecord,
    columns: &[Option<usize>; 8],
) -> Result<Parsed, (&'static str, String)> {
    let text =
        |c: usize| columns[c].map(|i| std::str::from_utf8(field(rec, i)).unwrap_or_default());
    let path = text(0).unwrap_or_default();
    check_path(path).map_err(|r| ("file_path", r))?;
    let size = parse_size(text(1).unwrap_or_default()).map_err(|r| ("file_size", r))?;
    let modified = match text(2) {
        Some(s) => parse_time(s).map_err(|r| ("last_modified", r))?,
        None => None,
    };
    let accessed = match text(3) {
        Some(s) => parse_time(s).map_err(|r| ("last_accessed", r))?,
        None => None,
    };
    Ok(Parsed {
        size,
        modified,
        accessed,
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
