//! Reading an inventory on several threads, results in input order.
//!
//! [`map_rows`] runs a caller's function over every accepted row of an inventory and hands the
//! results, with the rejections, to a sink **in input order**, exactly as a one-thread read would
//! (the same rows, the same rejections with the same FILE:LINE, the same counts and notes). For a
//! CSV inventory one thread reads the text in blocks of about a megabyte, each cut after a `\n`,
//! and counts their lines; the other threads split each block into records
//! ([`super::split`]), check and parse their fields ([`RowParser`](super::csv::RowParser)) and
//! run the function; the calling thread puts the blocks back in order. A cut can fall inside a
//! quoted field (a path holding a line break): the block before it then ends inside a record, and
//! the calling thread splits the next block again from that record's start. Memory stays bounded:
//! at most a few blocks per thread are in flight. Other inventories (Parquet, an S3 Inventory's
//! manifest) are read on the calling thread.

use super::csv::{CsvInventory, RowNote, RowParser, Screen};
use super::split::{Fields, Next, Rec, Walk, bom_len};
use super::{
    InventoryFormat, InventoryOptions, InventoryRow, Item, Progress, ReadStats, Rejection,
};
use crate::error::{Error, Result};
use std::collections::BTreeMap;
use std::io::{ErrorKind, Read};
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};

/// Bytes per block handed to a parsing thread (more when one record is longer): about 5,000
/// rows of the agents' format, so a hand-over costs nothing next to the rows; at most a few
/// blocks per thread are in flight, whatever the file size.
const BLOCK: usize = 1 << 20;

/// One item of an inventory, as [`map_rows`] hands it to its sink.
#[derive(Debug)]
pub enum Mapped<T> {
    /// An accepted row: what the caller's function returned for it.
    Row(T),
    /// A rejected row.
    Rejected(Rejection),
    /// A note for the user (one line): the file's notes (a detected preset, a skipped preamble)
    /// come before any row, a row's (times read as UTC, a lossy export) after it, the first of
    /// each kind only.
    Note(String),
}

/// How many threads a parallel read uses by default: the machine's cores.
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Read the inventory at `path` as `options` say, run `map` over each accepted row (on up to
/// `threads` threads, each with its own state from `init`), and give `sink` each result and each
/// rejection in input order, with the read's progress. An error from `sink` stops the read and
/// is returned; so is a read error, after the items before it. Returns the read's counts.
///
/// With `threads <= 1`, or an inventory that is not a CSV file, everything runs on the calling
/// thread.
pub fn map_rows<W, T, I, M, S>(
    path: &Path,
    options: &InventoryOptions,
    threads: usize,
    init: I,
    map: M,
    mut sink: S,
) -> Result<ReadStats>
where
    T: Send,
    I: Fn() -> W + Sync,
    M: Fn(&mut W, &InventoryRow<'_>) -> T + Sync,
    S: FnMut(Mapped<T>, Progress) -> Result<()>,
{
    // An S3 Inventory manifest (several data files) and Parquet are read on this thread.
    let format = match options.format {
        Some(f) => Some(f),
        None if super::manifest::sniff(path)?.is_some() => None,
        None => Some(super::sniff(path)?),
    };
    if threads <= 1 || format != Some(InventoryFormat::Csv) {
        let mut src = super::open(path, options)?;
        let mut state = init();
        for n in src.take_notes() {
            sink(Mapped::Note(n), src.progress())?;
        }
        while let Some(item) = src.next_item()? {
            let out = match item {
                Item::Row(row) => Mapped::Row(map(&mut state, &row)),
                Item::Rejected(r) => Mapped::Rejected(r),
            };
            sink(out, src.progress())?;
            for n in src.take_notes() {
                sink(Mapped::Note(n), src.progress())?;
            }
        }
        return Ok(src.stats());
    }
    let inv = CsvInventory::open_with(path, &options.clone().with_format(InventoryFormat::Csv))?;
    parallel_csv(inv, threads, BLOCK, &init, &map, &mut sink)
}

/// A block of the text, cut after a `\n` (or at the end).
struct Block {
    seq: u64,
    bytes: Vec<u8>,
    len: usize,
    /// Nothing follows it.
    eof: bool,
    /// Where splitting starts, with the line numbers there, as they are when the cut before the
    /// block fell between records.
    walk: Walk,
    /// Bytes of the input read when the block was cut.
    done: u64,
}

/// One result of a parsed block: an item, or a note a row raised (right after that row).
enum Slot<T> {
    Item(Mapped<T>),
    Note(RowNote, String),
}

/// A parsed block.
struct Done<T> {
    seq: u64,
    items: Vec<Slot<T>>,
    stats: ReadStats,
    done: u64,
    /// The block, to split again if the cut before it fell inside a record, then to reuse.
    bytes: Vec<u8>,
    len: usize,
    eof: bool,
    /// Where a record the block's end cuts short starts (a quoted field runs on).
    tail: Option<Walk>,
}

enum Msg<T> {
    Batch(Done<T>),
    /// The reader failed after `seq` blocks.
    Failed(u64, Error),
}

/// Split, check and map the records of `bytes` from `walk` into `items`; returns where a record
/// cut short by the end of `bytes` starts.
#[allow(clippy::too_many_arguments)]
fn run<W, T, M>(
    parser: &mut RowParser,
    state: &mut W,
    map: &M,
    delim: u8,
    fields: &mut Fields,
    bytes: &[u8],
    eof: bool,
    mut walk: Walk,
    items: &mut Vec<Slot<T>>,
) -> Option<Walk>
where
    M: Fn(&mut W, &InventoryRow<'_>) -> T,
{
    // Each block notes the first row of each kind itself: a block split from the wrong place,
    // whose items are dropped, must not keep a later one from noting.
    parser.start_block();
    loop {
        let line = match walk.next(bytes, eof, delim, fields) {
            Next::Record(line) => line,
            Next::More { clean: false } => return Some(walk),
            Next::More { clean: true } | Next::End => return None,
        };
        let rec = Rec::new(bytes, fields);
        match parser.screen(&rec, line) {
            Screen::Keep => {}
            Screen::Skip => continue,
            Screen::Reject(r) => {
                items.push(Slot::Item(Mapped::Rejected(r)));
                continue;
            }
        }
        items.push(Slot::Item(match parser.parse(rec, line) {
            Item::Row(row) => Mapped::Row(map(state, &row)),
            Item::Rejected(r) => Mapped::Rejected(r),
        }));
        for (kind, note) in parser.take_row_notes() {
            items.push(Slot::Note(kind, note));
        }
    }
}

/// The `\n` bytes in `data` (counted a chunk at a time, in bytes, which vectorises well).
fn newlines(data: &[u8]) -> u64 {
    let mut chunks = data.chunks_exact(128);
    let mut n = 0u64;
    for c in &mut chunks {
        n += u64::from(c.iter().fold(0u8, |a, &b| a + u8::from(b == b'\n')));
    }
    n + chunks.remainder().iter().filter(|&&b| b == b'\n').count() as u64
}

fn delta(after: ReadStats, before: ReadStats) -> ReadStats {
    ReadStats {
        accepted: after.accepted - before.accepted,
        rejected: after.rejected - before.rejected,
        folders: after.folders - before.folders,
        skipped: after.skipped - before.skipped,
    }
}

fn parallel_csv<W, T, I, M, S>(
    inv: CsvInventory,
    threads: usize,
    block: usize,
    init: &I,
    map: &M,
    sink: &mut S,
) -> Result<ReadStats>
where
    T: Send,
    I: Fn() -> W + Sync,
    M: Fn(&mut W, &InventoryRow<'_>) -> T + Sync,
    S: FnMut(Mapped<T>, Progress) -> Result<()>,
{
    let delim = inv.delimiter();
    let (records, start, consumed, mut proto) = inv.into_parts();
    let (mut stream, rest, walk, mut first) = records.into_stream();
    let total = start.total;
    let source = proto.source().to_owned();
    for n in proto.take_notes() {
        sink(Mapped::Note(n), start)?;
    }
    let mut stats = ReadStats::default();
    let workers = threads.max(1);
    let block = block.max(1);
    // Blocks wait in `work` for a parser and in `done` for the sink; used buffers go back to the
    // reader through `spare`.
    let (work_tx, work_rx) = sync_channel::<Block>(workers * 2);
    let (done_tx, done_rx) = sync_channel::<Msg<T>>(workers * 2);
    let (spare_tx, spare_rx) = sync_channel::<Vec<u8>>(workers * 4 + 4);
    // Shared by the parsers alone: when they are gone, the reader's next send fails and it stops.
    let work_rx = Arc::new(Mutex::new(work_rx));
    let consumed = &consumed;

    std::thread::scope(|s| -> Result<()> {
        let reader_done = done_tx.clone();
        let source = &source;
        s.spawn(move || {
            let mut seq = 0u64;
            // What follows the last cut.
            let mut carry = rest;
            // The line at the cut, and the blank lines just before it (a record after them is
            // numbered from the first, as the one-thread reader numbers it).
            let mut line = walk.line;
            let mut blank = walk.line - walk.pos_line;
            loop {
                let mut bytes = spare_rx.try_recv().unwrap_or_default();
                let mut n = carry.len();
                if bytes.len() < block.max(n) {
                    bytes.resize(block.max(n), 0);
                }
                bytes[..n].copy_from_slice(&carry);
                carry.clear();
                let mut want = block;
                let mut scanned = 0;
                let mut eof = false;
                let mut failed = None;
                let cut = loop {
                    while n < want {
                        if bytes.len() < want {
                            bytes.resize(want, 0);
                        }
                        match stream.read(&mut bytes[n..want]) {
                            Ok(0) => {
                                eof = true;
                                break;
                            }
                            Ok(k) => n += k,
                            Err(e) if e.kind() == ErrorKind::Interrupted => {}
                            Err(e) => {
                                failed = Some(e);
                                break;
                            }
                        }
                    }
                    if eof {
                        break n;
                    }
                    match memchr::memrchr(b'\n', &bytes[scanned..n]) {
                        Some(k) => break scanned + k + 1,
                        None if failed.is_some() => break 0,
                        None => {
                            // One record longer than the block: read on to its end.
                            scanned = n;
                            want = want.saturating_mul(2);
                        }
                    }
                };
                carry.extend_from_slice(&bytes[cut..n]);
                let at = if first { bom_len(&bytes[..cut]) } else { 0 };
                first = false;
                let data = &bytes[at..cut];
                let walk = Walk::new(at, line, line - blank);
                line += newlines(data);
                let run = data.iter().rev().take_while(|&&b| b == b'\n').count();
                blank = if run == data.len() {
                    blank + run as u64
                } else {
                    // The first `\n` of the run ends a record.
                    run.saturating_sub(1) as u64
                };
                if cut > 0 || failed.is_none() {
                    let b = Block {
                        seq,
                        bytes,
                        len: cut,
                        eof,
                        walk,
                        done: consumed.load(Ordering::Relaxed),
                    };
                    if work_tx.send(b).is_err() {
                        return;
                    }
                    seq += 1;
                }
                if let Some(e) = failed {
                    let e = Error::invalid_input(format!("{source}: cannot read CSV: {e}"));
                    let _ = reader_done.send(Msg::Failed(seq, e));
                    return;
                }
                if eof {
                    return;
                }
            }
        });
        for _ in 0..workers {
            let done_tx = done_tx.clone();
            let work_rx = Arc::clone(&work_rx);
            let mut parser = proto.fork();
            s.spawn(move || {
                let mut state = init();
                let mut fields = Fields::default();
                loop {
                    let next = match work_rx.lock() {
                        Ok(rx) => rx.recv(),
                        Err(_) => return,
                    };
                    let Ok(b) = next else { return };
                    let before = parser.stats();
                    let mut items = Vec::new();
                    let tail = run(
                        &mut parser,
                        &mut state,
                        map,
                        delim,
                        &mut fields,
                        &b.bytes[..b.len],
                        b.eof,
                        b.walk,
                        &mut items,
                    );
                    let done = Done {
                        seq: b.seq,
                        items,
                        stats: delta(parser.stats(), before),
                        done: b.done,
                        bytes: b.bytes,
                        len: b.len,
                        eof: b.eof,
                        tail,
                    };
                    if done_tx.send(Msg::Batch(done)).is_err() {
                        return;
                    }
                }
            });
        }
        drop(done_tx);
        drop(work_rx);
        // Splitting again, on this thread, where a cut fell inside a record.
        let mut own: Option<(RowParser, W)> = None;
        let mut fields = Fields::default();
        let resplit = |bytes: &[u8], eof: bool, walk: Walk| {
            let (parser, state) = own.get_or_insert_with(|| (proto.fork(), init()));
            let before = parser.stats();
            let mut items = Vec::new();
            let tail = run(
                parser,
                state,
                map,
                delim,
                &mut fields,
                bytes,
                eof,
                walk,
                &mut items,
            );
            (items, delta(parser.stats(), before), tail)
        };
        // The sink, on this thread: blocks back in order.
        let result = reorder(done_rx, &spare_tx, total, &mut stats, sink, resplit);
        // Dropping the receivers (`reorder` took `done_rx`) ends the threads if it stopped early.
        drop(spare_tx);
        result
    })?;
    Ok(stats)
}

/// A record left unfinished at the end of a block: its bytes so far, the walk at its start, and
/// its length when last split (it is split again once it has doubled, or at the end).
struct Carry {
    bytes: Vec<u8>,
    walk: Walk,
    tried: usize,
}

impl Carry {
    fn new(mut bytes: Vec<u8>, tail: Walk) -> Carry {
        bytes.drain(..tail.at);
        Carry {
            tried: bytes.len(),
            bytes,
            walk: Walk { at: 0, ..tail },
        }
    }
}

type Resplit<T> = (Vec<Slot<T>>, ReadStats, Option<Walk>);

fn reorder<T, S, R>(
    done_rx: Receiver<Msg<T>>,
    spare_tx: &SyncSender<Vec<u8>>,
    total: Option<u64>,
    stats: &mut ReadStats,
    sink: &mut S,
    mut resplit: R,
) -> Result<()>
where
    S: FnMut(Mapped<T>, Progress) -> Result<()>,
    R: FnMut(&[u8], bool, Walk) -> Resplit<T>,
{
    let mut next = 0u64;
    let mut waiting: BTreeMap<u64, Done<T>> = BTreeMap::new();
    let mut failure: Option<(u64, Error)> = None;
    let mut noted: Vec<RowNote> = Vec::new();
    let mut closed = false;
    let mut carry: Option<Carry> = None;
    loop {
        while let Some(batch) = waiting.remove(&next) {
            let progress = Progress {
                done: batch.done,
                total,
            };
            let (items, counts) = match carry.take() {
                None => {
                    if let Some(tail) = batch.tail {
                        carry = Some(Carry::new(batch.bytes[..batch.len].to_vec(), tail));
                    }
                    (batch.items, batch.stats)
                }
                // The block was split from the wrong place (a record ran on across its start):
                // its items are dropped, and it is split again behind that record.
                Some(mut c) => {
                    c.bytes.extend_from_slice(&batch.bytes[..batch.len]);
                    if !batch.eof && c.bytes.len() < 2 * c.tried {
                        carry = Some(c);
                        (Vec::new(), ReadStats::default())
                    } else {
                        let (items, counts, tail) = resplit(&c.bytes, batch.eof, c.walk);
                        if let Some(tail) = tail {
                            carry = Some(Carry::new(c.bytes, tail));
                        }
                        (items, counts)
                    }
                }
            };
            for slot in items {
                match slot {
                    Slot::Item(item) => sink(item, progress)?,
                    // Each block notes each kind once: the first in input order is the one.
                    Slot::Note(kind, note) => {
                        if !noted.contains(&kind) {
                            noted.push(kind);
                            sink(Mapped::Note(note), progress)?;
                        }
                    }
                }
            }
            let s = &mut *stats;
            s.accepted += counts.accepted;
            s.rejected += counts.rejected;
            s.folders += counts.folders;
            s.skipped += counts.skipped;
            let _ = spare_tx.try_send(batch.bytes);
            next += 1;
        }
        if let Some((at, _)) = &failure {
            if *at == next {
                let (_, e) = failure.take().expect("checked");
                return Err(e);
            }
        }
        if closed {
            break;
        }
        match done_rx.recv() {
            Ok(Msg::Batch(b)) => {
                waiting.insert(b.seq, b);
            }
            Ok(Msg::Failed(at, e)) => failure = Some((at, e)),
            Err(_) => closed = true,
        }
    }
    // Every sender is gone: all blocks arrived (a failure is reported once the blocks before it
    // are out).
    if let Some((_, e)) = failure {
        return Err(e);
    }
    debug_assert!(waiting.is_empty(), "a block went missing");
    debug_assert!(carry.is_none(), "the last block ended inside a record");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fmt::Write as _;

    /// What a read yields, owned, to compare a one-thread read with a parallel one.
    #[derive(Debug, PartialEq)]
    enum Seen {
        Row(u64, String, u64, Option<i64>, Option<String>),
        Rejected(String),
        Note(String),
    }

    fn serial(path: &Path, options: &InventoryOptions) -> (Vec<Seen>, ReadStats) {
        let mut src = super::super::open(path, options).unwrap();
        let mut out: Vec<Seen> = src.take_notes().into_iter().map(Seen::Note).collect();
        while let Some(item) = src.next_item().unwrap() {
            out.push(match item {
                Item::Row(r) => Seen::Row(
                    r.line,
                    r.path.to_owned(),
                    r.size,
                    r.accessed,
                    r.extension.map(str::to_owned),
                ),
                Item::Rejected(r) => Seen::Rejected(r.to_string()),
            });
            out.extend(src.take_notes().into_iter().map(Seen::Note));
        }
        (out, src.stats())
    }

    fn parallel(
        path: &Path,
        options: &InventoryOptions,
        threads: usize,
        block: usize,
    ) -> (Vec<Seen>, ReadStats) {
        let inv = CsvInventory::open_with(path, options).unwrap();
        let mut out = Vec::new();
        let stats = parallel_csv(
            inv,
            threads,
            block,
            &|| (),
            &|_: &mut (), r: &InventoryRow<'_>| {
                Seen::Row(
                    r.line,
                    r.path.to_owned(),
                    r.size,
                    r.accessed,
                    r.extension.map(str::to_owned),
                )
            },
            &mut |m: Mapped<Seen>, _| {
                out.push(match m {
                    Mapped::Row(s) => s,
                    Mapped::Rejected(r) => Seen::Rejected(r.to_string()),
                    Mapped::Note(n) => Seen::Note(n),
                });
                Ok(())
            },
        )
        .unwrap();
        (out, stats)
    }

    /// An inventory with everything a row can be: accepted, rejected for each reason, a folder,
    /// a blank line, a non-UTF-8 byte in a used and an unused column, a zone-less time (a note)
    /// and a lossy `?` (another note), repeated so that notes recur in every batch.
    fn nasty(rows: usize) -> Vec<u8> {
        let mut s = String::from("file_path,file_size,last_modified,last_accessed,extra\n");
        let mut bytes = Vec::new();
        for i in 0..rows {
            match i % 11 {
                0 => writeln!(s, "/d/{i}/,0,2024-01-01T00:00:00Z,,x").unwrap(),
                1 => writeln!(s, "/d/f{i}.txt,12,2024-01-01 10:00:00,,x").unwrap(),
                2 => writeln!(s, "/d/f{i}.txt,nope,2024-01-01T00:00:00Z,,x").unwrap(),
                3 => writeln!(s, "/d/f{i}.txt,1,2").unwrap(),
                4 => writeln!(s).unwrap(),
                5 => writeln!(s, "C:\\d\\caf?{i}.txt,5,2024-01-01T00:00:00Z,,x").unwrap(),
                6 => {
                    bytes.extend_from_slice(s.as_bytes());
                    s.clear();
                    // A raw 0xFF in the path (not UTF-8) and another in an unused column.
                    bytes.extend_from_slice(b"/d/raw\xff.bin,1,2024-01-01T00:00:00Z,,x\n");
                    bytes.extend_from_slice(b"/d/ok.bin,1,2024-01-01T00:00:00Z,,\xff\n");
                }
                7 => writeln!(
                    s,
                    "\"/d/q,{i}\n.txt\",7,2024-02-01T00:00:00Z,2024-03-01T00:00:00Z,x"
                )
                .unwrap(),
                _ => writeln!(
                    s,
                    "/d/f{i}.dat,{},2023-01-01T00:00:00Z,2024-06-01T00:00:00Z,x",
                    i * 3
                )
                .unwrap(),
            }
        }
        bytes.extend_from_slice(s.as_bytes());
        bytes
    }

    #[test]
    fn a_parallel_read_yields_what_a_serial_one_does_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("inv.csv");
        std::fs::write(&path, nasty(5000)).unwrap();
        let options = InventoryOptions::new();
        let (want, want_stats) = serial(&path, &options);
        assert!(want_stats.rejected > 0 && want_stats.folders > 0 && want_stats.accepted > 0);
        assert_eq!(
            want.iter().filter(|s| matches!(s, Seen::Note(_))).count(),
            2,
            "one note per kind: {:?}",
            want.iter()
                .filter(|s| matches!(s, Seen::Note(_)))
                .collect::<Vec<_>>()
        );
        // Blocks of one byte are cut at every line end, quoted ones included.
        for (threads, block) in [(1, 1), (2, 7), (3, 64), (4, 4096), (8, 3), (2, BLOCK)] {
            let (got, stats) = parallel(&path, &options, threads, block);
            assert_eq!(stats, want_stats, "{threads} threads, blocks of {block}");
            assert_eq!(
                got.len(),
                want.len(),
                "{threads} threads, blocks of {block}"
            );
            for (k, (g, w)) in got.iter().zip(&want).enumerate() {
                assert_eq!(g, w, "item {k}, {threads} threads, blocks of {block}");
            }
        }
    }

    #[test]
    fn a_cut_inside_a_quoted_field_keeps_records_and_line_numbers() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("inv.csv");
        // A path holding line breaks (lines 3 to 9) spans several blocks: blocks cut inside it
        // are split again, and the rows after it keep their own line numbers.
        let text = "\u{feff}file_path,file_size\n\
                    /a/one,1\n\
                    \"/a/multi\n\n\nline\n,with\n\"\"quotes\"\"\n.txt\",2\n\
                    /a/bad,nope\n\
                    \"/a/also\nmulti\",x\n\
                    /a/ok,4\r\n\
                    /a/late,y\n";
        std::fs::write(&path, text).unwrap();
        let options = InventoryOptions::new();
        let (want, want_stats) = serial(&path, &options);
        let source = path.display().to_string();
        let rejected: Vec<&Seen> = want
            .iter()
            .filter(|s| matches!(s, Seen::Rejected(_)))
            .collect();
        let bad = |line: u32, v: &str| {
            Seen::Rejected(format!(
                "{source}:{line}: column file_size: bad size \"{v}\": expected a number of bytes \
                 (thousands separators and units such as KB, MB, GB allowed)"
            ))
        };
        assert_eq!(rejected, [&bad(10, "nope"), &bad(11, "x"), &bad(14, "y")]);
        assert!(want.contains(&Seen::Row(
            3,
            "/a/multi\n\n\nline\n,with\n\"quotes\"\n.txt".into(),
            2,
            None,
            Some("txt".into())
        )));
        assert!(want.contains(&Seen::Row(13, "/a/ok".into(), 4, None, None)));
        for block in 1..48 {
            for threads in [1, 2, 3] {
                let (got, stats) = parallel(&path, &options, threads, block);
                assert_eq!(got, want, "{threads} threads, blocks of {block}");
                assert_eq!(stats, want_stats);
            }
        }
    }

    #[test]
    fn a_sink_error_stops_the_read_without_hanging() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("inv.csv");
        std::fs::write(&path, nasty(20_000)).unwrap();
        let inv = CsvInventory::open_with(&path, &InventoryOptions::new()).unwrap();
        let mut n = 0;
        let err = parallel_csv(
            inv,
            3,
            5,
            &|| (),
            &|_: &mut (), _r: &InventoryRow<'_>| (),
            &mut |_m: Mapped<()>, _| {
                n += 1;
                if n == 100 {
                    return Err(Error::invalid_input("stop here"));
                }
                Ok(())
            },
        )
        .unwrap_err();
        assert_eq!(err.message(), "stop here");
        assert_eq!(n, 100);
    }

    #[test]
    fn a_read_error_comes_after_the_rows_before_it() {
        use std::io::Write as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("inv.csv.gz");
        let mut text = String::from("file_path,file_size\n");
        for i in 0..200_000 {
            writeln!(text, "/some/longer/folder/name/f{i:08},{i}").unwrap();
        }
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(text.as_bytes()).unwrap();
        let mut bytes = gz.finish().unwrap();
        bytes.truncate(bytes.len() / 2);
        std::fs::write(&path, bytes).unwrap();
        let options = InventoryOptions::new();
        // One thread: the rows before the break, then the error.
        let mut src = super::super::open(&path, &options).unwrap();
        let mut want = Vec::new();
        let want_err = loop {
            match src.next_item() {
                Ok(Some(Item::Row(r))) => want.push(r.line),
                Ok(Some(Item::Rejected(r))) => panic!("{r}"),
                Ok(None) => panic!("a truncated file read to its end"),
                Err(e) => break e.message().to_owned(),
            }
        };
        assert!(want.len() > 1000);
        for (threads, block) in [(2, 100), (3, 4096), (2, BLOCK)] {
            let inv = CsvInventory::open_with(&path, &options).unwrap();
            let mut got = Vec::new();
            let err = parallel_csv(
                inv,
                threads,
                block,
                &|| (),
                &|_: &mut (), r: &InventoryRow<'_>| r.line,
                &mut |m: Mapped<u64>, _| {
                    if let Mapped::Row(l) = m {
                        got.push(l);
                    }
                    Ok(())
                },
            )
            .unwrap_err();
            assert_eq!(err.message(), want_err);
            // Every row before the error, in order.
            assert_eq!(got, want, "{threads} threads, blocks of {block}");
        }
    }
}
