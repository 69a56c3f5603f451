//! Splitting CSV text into records: exactly what the `csv` crate reads with the reader's settings
//! (a one-byte delimiter, `"` quotes with `""` inside quoted fields, records ended by `\n` alone,
//! blank lines skipped, any number of fields per record), numbered as it numbers them — a record's
//! line is the line after the previous record's end, so blank lines before a record count as its
//! own. `tests::agrees_with_the_csv_crate` checks this on generated text.
//!
//! Fields are slices of the input wherever they can be (an unquoted field, or a quoted one without
//! `""` inside and nothing after its closing quote); only the others are copied.
//!
//! Splitting carries no state from one record to the next: text cut right after a `\n` splits on
//! its own unless the cut fell inside a quoted field, which the split says at the end of the text
//! ([`Next::More`] is not `clean`). The parallel reader ([`super::parallel`]) splits blocks of a
//! file on several threads that way, and splits again from the true start where a cut was wrong.

use super::layout::Stream;
use memchr::memchr2;
use std::io::{self, Read};
use std::ops::Range;

/// A UTF-8 byte-order mark: skipped at the very start of the records, as the `csv` crate does.
const BOM: &[u8] = b"\xef\xbb\xbf";

#[derive(Debug, Clone, Copy)]
struct Bound {
    start: usize,
    end: usize,
    /// In [`Fields::side`], not in the input.
    side: bool,
}

/// Where the fields of the last record split are: reused from record to record.
#[derive(Debug, Default)]
pub(super) struct Fields {
    bounds: Vec<Bound>,
    /// Fields that are not slices of the input (unquoted `""`, text after a closing quote).
    side: Vec<u8>,
    /// The record as written, without its `\n`.
    raw: Range<usize>,
}

/// One record: its fields, over the input it was split from.
#[derive(Debug, Clone, Copy)]
pub(super) struct Rec<'a> {
    buf: &'a [u8],
    fields: &'a Fields,
}

impl<'a> Rec<'a> {
    pub(super) fn new(buf: &'a [u8], fields: &'a Fields) -> Self {
        Rec { buf, fields }
    }

    /// The number of fields.
    pub(super) fn len(&self) -> usize {
        self.fields.bounds.len()
    }

    /// Field `i` (panics when there is none, as indexing a `csv::ByteRecord` does).
    pub(super) fn get(&self, i: usize) -> &'a [u8] {
        let b = self.fields.bounds[i];
        if b.side {
            &self.fields.side[b.start..b.end]
        } else {
            &self.buf[b.start..b.end]
        }
    }

    /// The record as written (quotes and delimiters included, its `\n` not).
    pub(super) fn raw(&self) -> &'a [u8] {
        &self.buf[self.fields.raw.clone()]
    }

    /// Where field `i` is in [`raw`](Self::raw), when it is a slice of it.
    pub(super) fn raw_range(&self, i: usize) -> Option<Range<usize>> {
        let b = self.fields.bounds.get(i)?;
        let s = self.fields.raw.start;
        (!b.side).then(|| b.start - s..b.end - s)
    }
}

/// What splitting at a record's start found.
enum Split {
    /// A record (in the [`Fields`]), ending at `end` (after its `\n`), with the `\n` bytes from
    /// where the split started to `end` (blank lines, quoted line ends, its own).
    Record { end: usize, newlines: u64 },
    /// The text ends before the record does (never at the end of the input): `clean` when what is
    /// left is only blank lines.
    More { clean: bool },
    /// The input ended, with nothing but blank lines left.
    End,
}

impl Fields {
    fn push(&mut self, start: usize, end: usize) {
        self.bounds.push(Bound {
            start,
            end,
            side: false,
        });
    }

    /// A field copied to the side buffer from `from` (its start there) to the side's end.
    fn push_side(&mut self, from: usize) {
        self.bounds.push(Bound {
            start: from,
            end: self.side.len(),
            side: true,
        });
    }
}

/// Split the record starting at `at` in `buf` (skipping blank lines first). `eof`: nothing
/// follows `buf`.
fn split(buf: &[u8], at: usize, eof: bool, delim: u8, f: &mut Fields) -> Split {
    let n = buf.len();
    let mut p = at;
    while p < n && buf[p] == b'\n' {
        p += 1;
    }
    if p == n {
        return if eof {
            Split::End
        } else {
            Split::More { clean: true }
        };
    }
    let mut newlines = (p - at) as u64;
    let delim_newline = u64::from(delim == b'\n');
    f.bounds.clear();
    f.side.clear();
    let start = p;
    let more = Split::More { clean: false };
    // One field per turn, `p` at its first byte.
    loop {
        if p < n && buf[p] == b'"' {
            // A quoted field: up to the quote that is not doubled.
            let mut seg = p + 1;
            let mut q = seg;
            let mut side: Option<usize> = None;
            let close = loop {
                match memchr2(b'"', b'\n', &buf[q..]) {
                    Some(k) if buf[q + k] == b'\n' => {
                        newlines += 1;
                        q += k + 1;
                    }
                    Some(k) => {
                        q += k;
                        if q + 1 < n && buf[q + 1] == b'"' {
                            // `""`: one quote, copied.
                            side.get_or_insert(f.side.len());
                            f.side.extend_from_slice(&buf[seg..=q]);
                            seg = q + 2;
                            q = seg;
                            continue;
                        }
                        break Some(q);
                    }
                    None => break None,
                }
            };
            let Some(q) = close else {
                // No closing quote: the field runs to the end of the input.
                if !eof {
                    return more;
                }
                match side {
                    Some(from) => {
                        f.side.extend_from_slice(&buf[seg..n]);
                        f.push_side(from);
                    }
                    None => f.push(seg, n),
                }
                f.raw = start..n;
                return Split::Record { end: n, newlines };
            };
            // After the closing quote.
            if q + 1 == n {
                if !eof {
                    return more;
                }
                match side {
                    Some(from) => {
                        f.side.extend_from_slice(&buf[seg..q]);
                        f.push_side(from);
                    }
                    None => f.push(seg, q),
                }
                f.raw = start..n;
                return Split::Record { end: n, newlines };
            }
            let c = buf[q + 1];
            if c == delim || c == b'\n' {
                match side {
                    Some(from) => {
                        f.side.extend_from_slice(&buf[seg..q]);
                        f.push_side(from);
                    }
                    None => f.push(seg, q),
                }
                if c == delim {
                    newlines += delim_newline;
                    p = q + 2;
                    continue;
                }
                newlines += 1;
                f.raw = start..q + 1;
                return Split::Record {
                    end: q + 2,
                    newlines,
                };
            }
            // Text after the closing quote belongs to the field, up to the delimiter.
            let from = side.unwrap_or(f.side.len());
            f.side.extend_from_slice(&buf[seg..q]);
            let r = q + 1;
            match memchr2(delim, b'\n', &buf[r..]) {
                Some(k) => {
                    f.side.extend_from_slice(&buf[r..r + k]);
                    f.push_side(from);
                    if buf[r + k] == delim {
                        newlines += delim_newline;
                        p = r + k + 1;
                        continue;
                    }
                    newlines += 1;
                    f.raw = start..r + k;
                    return Split::Record {
                        end: r + k + 1,
                        newlines,
                    };
                }
                None => {
                    if !eof {
                        return more;
                    }
                    f.side.extend_from_slice(&buf[r..n]);
                    f.push_side(from);
                    f.raw = start..n;
                    return Split::Record { end: n, newlines };
                }
            }
        }
        // An unquoted field (a quote inside it is text): up to the delimiter or the line end.
        match memchr2(delim, b'\n', &buf[p..]) {
            Some(k) => {
                let e = p + k;
                f.push(p, e);
                if buf[e] == delim {
                    newlines += delim_newline;
                    p = e + 1;
                    continue;
                }
                newlines += 1;
                f.raw = start..e;
                return Split::Record {
                    end: e + 1,
                    newlines,
                };
            }
            None => {
                if !eof {
                    return more;
                }
                f.push(p, n);
                f.raw = start..n;
                return Split::Record { end: n, newlines };
            }
        }
    }
}

/// Where splitting stands between records: the offset, and the line numbers there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Walk {
    /// The offset of the next record (or of the blank lines before it).
    pub(super) at: usize,
    /// The line at `at` (1-based, counting every `\n` before it).
    pub(super) line: u64,
    /// The line the next record is numbered with: the line after the previous record's end.
    pub(super) pos_line: u64,
}

/// What [`Walk::next`] found.
pub(super) enum Next {
    /// A record (in the [`Fields`]) and its line.
    Record(u64),
    /// The text ends inside a record (`clean: false`) or after blank lines only (`clean: true`);
    /// the walk stays before them.
    More { clean: bool },
    /// The input ended.
    End,
}

impl Walk {
    /// A walk from `at`, where the line is `line` and the next record's number `pos_line`.
    pub(super) fn new(at: usize, line: u64, pos_line: u64) -> Self {
        Walk { at, line, pos_line }
    }

    /// Split the next record of `buf` into `f`.
    pub(super) fn next(&mut self, buf: &[u8], eof: bool, delim: u8, f: &mut Fields) -> Next {
        match split(buf, self.at, eof, delim, f) {
            Split::Record { end, newlines } => {
                let line = self.pos_line;
                self.at = end;
                self.line += newlines;
                self.pos_line = self.line;
                Next::Record(line)
            }
            Split::More { clean } => Next::More { clean },
            Split::End => Next::End,
        }
    }
}

/// Reads records from a stream, one at a time, in a buffer that grows only for a record longer
/// than it.
pub(super) struct RecordReader {
    stream: Stream,
    buf: Vec<u8>,
    len: usize,
    eof: bool,
    started: bool,
    delim: u8,
    walk: Walk,
    fields: Fields,
}

/// The buffer of a [`RecordReader`], to start with.
const READ_BUF: usize = 1 << 18;

impl RecordReader {
    /// Records of `stream`, split at `delim`, the first numbered `first_line`.
    pub(super) fn new(stream: Stream, delim: u8, first_line: u64) -> Self {
        RecordReader {
            stream,
            buf: vec![0; READ_BUF],
            len: 0,
            eof: false,
            started: false,
            delim,
            walk: Walk::new(0, first_line, first_line),
            fields: Fields::default(),
        }
    }

    /// Split the next record: its line, or `None` at the end. The record is then
    /// [`record`](Self::record).
    pub(super) fn advance(&mut self) -> io::Result<Option<u64>> {
        loop {
            if self.started {
                let buf = &self.buf[..self.len];
                match self.walk.next(buf, self.eof, self.delim, &mut self.fields) {
                    Next::Record(line) => return Ok(Some(line)),
                    Next::End => return Ok(None),
                    Next::More { .. } => {}
                }
            }
            self.fill()?;
        }
    }

    /// The record [`advance`](Self::advance) split.
    pub(super) fn record(&self) -> Rec<'_> {
        Rec::new(&self.buf[..self.len], &self.fields)
    }

    /// The stream, with what is buffered and not yet split in front of it, the walk there, and
    /// whether a byte-order mark may still start the records (nothing was read yet).
    pub(super) fn into_stream(self) -> (Stream, Vec<u8>, Walk, bool) {
        let rest = self.buf[self.walk.at..self.len].to_vec();
        let walk = Walk::new(0, self.walk.line, self.walk.pos_line);
        (self.stream, rest, walk, !self.started)
    }

    /// Read more: keep the unsplit part, growing the buffer only when it is full of it.
    fn fill(&mut self) -> io::Result<()> {
        if self.walk.at > 0 {
            self.buf.copy_within(self.walk.at..self.len, 0);
            self.len -= self.walk.at;
            self.walk.at = 0;
        }
        if self.len == self.buf.len() {
            self.buf.resize(self.buf.len() * 2, 0);
        }
        let n = loop {
            match self.stream.read(&mut self.buf[self.len..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        };
        self.len += n;
        self.eof = n == 0;
        if !self.started {
            self.started = true;
            if self.buf[..self.len].starts_with(BOM) {
                self.walk.at = BOM.len();
            }
        }
        Ok(())
    }
}

/// Skip a byte-order mark at the start of the records (the first block of a parallel read).
pub(super) fn bom_len(first: &[u8]) -> usize {
    if first.starts_with(BOM) { BOM.len() } else { 0 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A reader handing out at most `.2` bytes a read.
    struct Chunks(Vec<u8>, usize, usize);

    impl Read for Chunks {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let n = out.len().min(self.2).min(self.0.len() - self.1);
            out[..n].copy_from_slice(&self.0[self.1..self.1 + n]);
            self.1 += n;
            Ok(n)
        }
    }

    /// What the `csv` crate reads, with the reader's settings, `chunk` bytes a read: each
    /// record's fields and line.
    fn csv_crate(input: &[u8], delim: u8, chunk: usize) -> Vec<(Vec<Vec<u8>>, u64)> {
        let mut r = csv::ReaderBuilder::new()
            .delimiter(delim)
            .terminator(csv::Terminator::Any(b'\n'))
            .flexible(true)
            .has_headers(false)
            .from_reader(Chunks(input.to_vec(), 0, chunk));
        let mut rec = csv::ByteRecord::new();
        let mut out = Vec::new();
        while r.read_byte_record(&mut rec).unwrap() {
            let line = rec.position().map_or(0, |p| p.line());
            out.push((rec.iter().map(<[u8]>::to_vec).collect(), line));
        }
        out
    }

    fn fields_of(rec: Rec<'_>) -> Vec<Vec<u8>> {
        (0..rec.len()).map(|i| rec.get(i).to_vec()).collect()
    }

    /// The same input through a `RecordReader` reading `chunk` bytes at a time.
    fn reader(input: &[u8], delim: u8, chunk: usize) -> Vec<(Vec<Vec<u8>>, u64)> {
        let mut r = RecordReader::new(Box::new(Chunks(input.to_vec(), 0, chunk)), delim, 1);
        // A small buffer, to grow and to keep partial records across reads.
        r.buf = vec![0; 4];
        let mut out = Vec::new();
        while let Some(line) = r.advance().unwrap() {
            let rec = r.record();
            // The raw record holds every field that is a slice of it.
            for i in 0..rec.len() {
                if let Some(range) = rec.raw_range(i) {
                    assert_eq!(&rec.raw()[range], rec.get(i));
                }
            }
            out.push((fields_of(rec), line));
        }
        out
    }

    /// The same input cut into blocks after the `\n` at each of `cuts`, each block split on its
    /// own from a line number counted ahead, and split again from the true start when the cut
    /// before it fell inside a record: what the parallel reader does.
    fn blocks(input: &[u8], delim: u8, cuts: &[usize]) -> Vec<(Vec<Vec<u8>>, u64)> {
        let mut ends: Vec<usize> = cuts
            .iter()
            .filter_map(|&c| {
                let c = c % (input.len() + 1);
                memchr::memchr(b'\n', &input[c..]).map(|k| c + k + 1)
            })
            .collect();
        ends.push(input.len());
        ends.sort_unstable();
        ends.dedup();
        let mut out = Vec::new();
        let mut f = Fields::default();
        let (mut start, mut newlines, mut blank) = (0usize, 0u64, 0u64);
        let mut carry: Option<(Vec<u8>, Walk)> = None;
        for &end in &ends {
            let block = &input[start..end];
            let eof = end == input.len();
            let line = 1 + newlines;
            let at = if start == 0 { bom_len(block) } else { 0 };
            let (buf, mut walk) = match carry.take() {
                None => (block.to_vec(), Walk::new(at, line, line - blank)),
                Some((mut c, w)) => {
                    c.extend_from_slice(block);
                    (c, w)
                }
            };
            loop {
                match walk.next(&buf, eof, delim, &mut f) {
                    Next::Record(l) => out.push((fields_of(Rec::new(&buf, &f)), l)),
                    Next::End | Next::More { clean: true } => break,
                    Next::More { clean: false } => {
                        carry = Some((buf[walk.at..].to_vec(), Walk { at: 0, ..walk }));
                        break;
                    }
                }
            }
            let nl = block.iter().filter(|&&b| b == b'\n').count() as u64;
            newlines += nl;
            blank = trailing_blank(&block[at..], blank);
            start = end;
        }
        assert!(carry.is_none());
        out
    }

    /// The blank lines at the end of a block cut after a `\n`, given those before it.
    fn trailing_blank(block: &[u8], before: u64) -> u64 {
        let run = block.iter().rev().take_while(|&&b| b == b'\n').count() as u64;
        if run as usize == block.len() {
            before + run
        } else {
            run.saturating_sub(1)
        }
    }

    fn check(input: &[u8], delim: u8, cuts: &[usize]) {
        // (Not 3: the `csv` crate reads nothing more after a first read of a byte-order mark
        // alone, which the reader never sees: its first read ends at a line end or the input's.)
        for chunk in [1, 4, 64] {
            assert_eq!(
                reader(input, delim, chunk),
                csv_crate(input, delim, chunk),
                "{:?} read {chunk} bytes at a time",
                String::from_utf8_lossy(input)
            );
        }
        assert_eq!(
            blocks(input, delim, cuts),
            csv_crate(input, delim, usize::MAX),
            "{:?} cut at {cuts:?}",
            String::from_utf8_lossy(input)
        );
    }

    #[test]
    fn known_cases() {
        for s in [
            "",
            "\n\n",
            "a",
            "a,",
            "a,\n",
            "a,b\nc",
            "a\n\n\nb\n\nc",
            "\n\na\n\"x\ny\"\nb\n",
            "\u{feff}a,b\n",
            "\u{feff}",
            "\"a\"\"b\",c\n",
            "\"ab\"cd\"e,f\n",
            "ab\"c,\"d\"\n",
            "\"abc",
            "\"abc\"",
            "\"abc\"\"",
            "\"a\nb\n\nc\"\n\n\nd,\"\"\n",
            "x,\"y\"\r\n\r\n,\n",
            "\"\",\"\"\"\",\"\"\"\"\"\"\n",
            "a,\"b\n",
            "\"a\"\"\nb\"x\ny",
        ] {
            for delim in [b',', b';', b'"', b'\n'] {
                check(s.as_bytes(), delim, &[0, 1, 2, 3, 5, 8, 13]);
                check(s.as_bytes(), delim, &[]);
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]
        #[test]
        fn agrees_with_the_csv_crate(
            bytes in proptest::collection::vec(
                prop_oneof![
                    Just(b'a'), Just(b','), Just(b';'), Just(b'"'), Just(b'\n'), Just(b'\r'),
                    Just(b' '), Just(0xefu8), Just(0xbbu8), Just(0xbfu8),
                ],
                0..60,
            ),
            delim in prop_oneof![Just(b','), Just(b';'), Just(b'"')],
            cuts in proptest::collection::vec(0usize..64, 0..6),
        ) {
            check(&bytes, delim, &cuts);
        }
    }
}
