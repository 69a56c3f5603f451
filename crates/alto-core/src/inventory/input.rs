//! The bytes under a CSV inventory: decompression (gzip, zstd, found by their magic bytes),
//! character encodings (UTF-8, UTF-16 by byte-order mark, Windows-1252 and Latin-1 by option),
//! all turned into one UTF-8 byte stream that the CSV reader parses.
//!
//! A UTF-16 code unit that pairs with nothing is written as the byte `0xFF`, which is never UTF-8:
//! the row holding it is then rejected with its line, instead of being stored with a
//! replacement character.

use crate::error::{Error, Result};
use std::io::{self, BufRead, BufReader, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// The text encoding of a CSV inventory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Encoding {
    /// UTF-8 (the default; a BOM is skipped).
    Utf8,
    /// UTF-16, little-endian (PowerShell 5.1's `>` and `Out-File`).
    Utf16Le,
    /// UTF-16, big-endian.
    Utf16Be,
    /// Windows-1252 (Excel's "CSV" on western Windows).
    Windows1252,
    /// ISO-8859-1.
    Latin1,
}

impl Encoding {
    /// `utf-8`, `utf-16le`, `utf-16be`, `windows-1252` (or `cp1252`), `latin1` (or `iso-8859-1`).
    pub fn parse(s: &str) -> Result<Encoding> {
        let k: String = s
            .trim()
            .to_ascii_lowercase()
            .chars()
            .filter(|c| !matches!(c, '-' | '_'))
            .collect();
        Ok(match k.as_str() {
            "utf8" => Encoding::Utf8,
            "utf16le" | "utf16" => Encoding::Utf16Le,
            "utf16be" => Encoding::Utf16Be,
            "windows1252" | "cp1252" => Encoding::Windows1252,
            "latin1" | "iso88591" => Encoding::Latin1,
            _ => {
                return Err(Error::invalid_input(format!(
                    "unknown encoding {s:?}: expected utf-8, utf-16le, utf-16be, windows-1252 or latin1"
                )));
            }
        })
    }
}

/// Counts the bytes read from the file itself (before decompression), for progress.
pub(crate) struct Counting<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

impl<R> Counting<R> {
    pub(crate) fn new(inner: R) -> (Self, Arc<AtomicU64>) {
        let count = Arc::new(AtomicU64::new(0));
        (
            Counting {
                inner,
                count: count.clone(),
            },
            count,
        )
    }
}

/// What compression the first bytes show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Compression {
    None,
    Gzip,
    Zstd,
}

pub(crate) fn compression(head: &[u8]) -> Compression {
    if head.starts_with(&[0x1f, 0x8b]) {
        Compression::Gzip
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Compression::Zstd
    } else {
        Compression::None
    }
}

/// Decompress `raw` as its first bytes say.
pub(crate) fn decompress(
    mut raw: BufReader<Box<dyn Read + Send>>,
) -> Result<(Box<dyn Read + Send>, Compression)> {
    let head = raw.fill_buf()?.to_vec();
    Ok(match compression(&head) {
        Compression::Gzip => (
            Box::new(flate2::bufread::MultiGzDecoder::new(raw)),
            Compression::Gzip,
        ),
        Compression::Zstd => (
            Box::new(zstd::stream::read::Decoder::with_buffer(raw)?),
            Compression::Zstd,
        ),
        Compression::None => (Box::new(raw), Compression::None),
    })
}

/// The encoding a byte-order mark names, and its length.
pub(crate) fn bom(head: &[u8]) -> Option<(Encoding, usize)> {
    if head.starts_with(&[0xef, 0xbb, 0xbf]) {
        Some((Encoding::Utf8, 3))
    } else if head.starts_with(&[0xff, 0xfe]) {
        Some((Encoding::Utf16Le, 2))
    } else if head.starts_with(&[0xfe, 0xff]) {
        Some((Encoding::Utf16Be, 2))
    } else {
        None
    }
}

/// UTF-16 without a BOM: most odd (LE) or even (BE) bytes are NUL in a mostly-ASCII text.
pub(crate) fn looks_utf16(head: &[u8]) -> Option<Encoding> {
    let n = head.len() / 2 * 2;
    if n < 8 {
        return None;
    }
    let (mut even0, mut odd0) = (0, 0);
    for pair in head[..n].chunks_exact(2) {
        even0 += usize::from(pair[0] == 0);
        odd0 += usize::from(pair[1] == 0);
    }
    let half = n / 2;
    if odd0 * 10 > half * 7 && even0 * 10 < half {
        Some(Encoding::Utf16Le)
    } else if even0 * 10 > half * 7 && odd0 * 10 < half {
        Some(Encoding::Utf16Be)
    } else {
        None
    }
}

/// Transcodes a UTF-16 or single-byte stream into UTF-8.
pub(crate) struct ToUtf8<R> {
    inner: R,
    encoding: Encoding,
    raw: Vec<u8>,
    /// Raw bytes carried to the next read (an odd byte, or a high surrogate's two).
    carry: Vec<u8>,
    out: Vec<u8>,
    pos: usize,
    eof: bool,
}

impl<R: Read> ToUtf8<R> {
    pub(crate) fn new(inner: R, encoding: Encoding) -> Self {
        ToUtf8 {
            inner,
            encoding,
            raw: vec![0; 1 << 16],
            carry: Vec::new(),
            out: Vec::with_capacity(1 << 17),
            pos: 0,
            eof: false,
        }
    }

    fn refill(&mut self) -> io::Result<()> {
        self.out.clear();
        self.pos = 0;
        while self.out.is_empty() && !self.eof {
            let n = self.inner.read(&mut self.raw)?;
            if n == 0 {
                self.eof = true;
            }
            let mut bytes = std::mem::take(&mut self.carry);
            bytes.extend_from_slice(&self.raw[..n]);
            match self.encoding {
                Encoding::Utf16Le | Encoding::Utf16Be => {
                    let le = self.encoding == Encoding::Utf16Le;
                    let mut units: Vec<u16> = bytes
                        .chunks_exact(2)
                        .map(|p| {
                            if le {
                                u16::from_le_bytes([p[0], p[1]])
                            } else {
                                u16::from_be_bytes([p[0], p[1]])
                            }
                        })
                        .collect();
                    let mut keep = bytes.len() % 2;
                    if !self.eof && units.last().is_some_and(|u| (0xd800..0xdc00).contains(u)) {
                        units.pop();
                        keep += 2;
                    }
                    self.carry = bytes[bytes.len() - keep..].to_vec();
                    if self.eof && !self.carry.is_empty() {
                        // A lone odd byte at the end: not UTF-16.
                        self.carry.clear();
                        self.out.push(0xff);
                    }
                    for c in char::decode_utf16(units) {
                        match c {
                            Ok(c) => {
                                let mut b = [0u8; 4];
                                self.out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
                            }
                            Err(_) => self.out.push(0xff),
                        }
                    }
                }
                Encoding::Windows1252 | Encoding::Latin1 => {
                    for &b in &bytes {
                        let c = if self.encoding == Encoding::Windows1252 {
                            cp1252(b)
                        } else {
                            char::from(b)
                        };
                        let mut buf = [0u8; 4];
                        self.out
                            .extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                    }
                }
                Encoding::Utf8 => self.out.extend_from_slice(&bytes),
            }
        }
        Ok(())
    }
}

impl<R: Read> Read for ToUtf8<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos >= self.out.len() {
            self.refill()?;
        }
        let n = buf.len().min(self.out.len() - self.pos);
        buf[..n].copy_from_slice(&self.out[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// Windows-1252: Latin-1 except 0x80..=0x9F (the five undefined bytes map to C1 controls, as
/// WHATWG's decoder does).
fn cp1252(b: u8) -> char {
    const HIGH: [char; 32] = [
        '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8d}', 'Ž',
        '\u{8f}', '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9d}',
        'ž', 'Ÿ',
    ];
    match b {
        0x80..=0x9f => HIGH[usize::from(b - 0x80)],
        _ => char::from(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(bytes: &[u8], e: Encoding) -> Vec<u8> {
        let mut out = Vec::new();
        ToUtf8::new(bytes, e).read_to_end(&mut out).unwrap();
        out
    }

    #[test]
    fn utf16_both_ways_and_surrogates() {
        let text = "a,é,日本,🎉\n";
        let le: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let be: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
        assert_eq!(decode(&le, Encoding::Utf16Le), text.as_bytes());
        assert_eq!(decode(&be, Encoding::Utf16Be), text.as_bytes());
        let ascii = "file_path,file_size\n/a/é,1\n";
        let le16: Vec<u8> = ascii.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let be16: Vec<u8> = ascii.encode_utf16().flat_map(u16::to_be_bytes).collect();
        assert_eq!(looks_utf16(&le16), Some(Encoding::Utf16Le));
        assert_eq!(looks_utf16(&be16), Some(Encoding::Utf16Be));
        assert_eq!(looks_utf16(b"file_path,file_size\n"), None);
        // A lone surrogate becomes a byte that is not UTF-8.
        let lone: Vec<u8> = [0x61u16, 0xd800, 0x62]
            .iter()
            .flat_map(|u| u.to_le_bytes())
            .collect();
        assert_eq!(decode(&lone, Encoding::Utf16Le), b"a\xffb");
    }

    #[test]
    fn single_byte_encodings() {
        assert_eq!(
            decode(b"caf\xe9 \x80", Encoding::Windows1252),
            "café €".as_bytes()
        );
        assert_eq!(
            decode(b"caf\xe9 \x80", Encoding::Latin1),
            "café \u{80}".as_bytes()
        );
    }
}
