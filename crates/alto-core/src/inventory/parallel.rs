//! Reading an inventory on several threads, results in input order.
//!
//! [`map_rows`] runs a caller's function over every accepted row of an inventory and hands the
//! results, with the rejections, to a sink **in input order**, exactly as a one-thread read would
//! (the same rows, the same rejections with the same FILE:LINE, the same counts and notes). For a
//! CSV inventory one thread reads records (`csv_core`'s splitting, the only part that must run in
//! order) into batches, and the other threads check and parse their fields
//! ([`RowParser`](super::csv::RowParser)) and run the function; the calling thread puts the
//! batches back in order. Memory stays bounded: at most a few batches per thread are in flight.
//! Other inventories (Parquet, an S3 Inventory's manifest) are read on the calling thread.

use super::csv::{CsvInventory, RowNote, Screen};
use super::{
    InventoryFormat, InventoryOptions, InventoryRow, Item, Progress, ReadStats, Rejection,
};
use crate::error::{Error, Result};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};

/// Records per batch handed to a parsing thread: large, because each hand-over costs more than
/// thousands of rows (1,024 took a fifth more CPU than 16,384 on the 1M-row benchmark); at most
/// a few batches per thread are in flight (about 60 MB at 2 threads), whatever the file size.
const BATCH: usize = 16384;

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
    parallel_csv(inv, threads, BATCH, &init, &map, &mut sink)
}

/// A batch of raw records with their line numbers.
struct Raw {
    seq: u64,
    records: Vec<csv::ByteRecord>,
    lines: Vec<u64>,
    len: usize,
}

/// One result of a parsed batch: an item, or a note a row raised (right after that row).
enum Slot<T> {
    Item(Mapped<T>),
    Note(RowNote, String),
}

/// A parsed batch.
struct Done<T> {
    seq: u64,
    items: Vec<Slot<T>>,
    stats: ReadStats,
    /// Bytes of the input read when the batch was cut.
    done: u64,
    /// The records, for reuse.
    records: Vec<csv::ByteRecord>,
    lines: Vec<u64>,
}

enum Msg<T> {
    Batch(Done<T>),
    /// The reader failed after `seq` batches.
    Failed(u64, Error),
}

fn parallel_csv<W, T, I, M, S>(
    inv: CsvInventory,
    threads: usize,
    batch: usize,
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
    let (mut reader, line_offset, start, consumed, mut proto) = inv.into_parts();
    let total = start.total;
    let source = proto.source().to_owned();
    for n in proto.take_notes() {
        sink(Mapped::Note(n), start)?;
    }
    let mut stats = ReadStats::default();
    let workers = threads.max(1);
    // Batches wait in `work` for a parser and in `done` for the sink; used record buffers go
    // back to the reader through `spare`.
    let (work_tx, work_rx) = sync_channel::<Raw>(workers * 2);
    let (done_tx, done_rx) = sync_channel::<Msg<T>>(workers * 2);
    let (spare_tx, spare_rx) = sync_channel::<(Vec<csv::ByteRecord>, Vec<u64>)>(workers * 4 + 4);
    // Shared by the parsers alone: when they are gone, the reader's next send fails and it stops.
    let work_rx = Arc::new(Mutex::new(work_rx));
    let consumed = &consumed;

    std::thread::scope(|s| -> Result<()> {
        let reader_done = done_tx.clone();
        let source = &source;
        s.spawn(move || {
            let mut seq = 0u64;
            loop {
                let (mut records, mut lines) = spare_rx
                    .try_recv()
                    .unwrap_or_else(|_| (Vec::with_capacity(batch), Vec::with_capacity(batch)));
                lines.clear();
                let mut len = 0;
                let mut failed = None;
                while len < batch {
                    if records.len() == len {
                        records.push(csv::ByteRecord::new());
                    }
                    match reader.read_byte_record(&mut records[len]) {
                        Ok(true) => {
                            let line =
                                records[len].position().map_or(0, |p| p.line()) + line_offset;
                            lines.push(line);
                            len += 1;
                        }
                        Ok(false) => break,
                        Err(e) => {
                            failed = Some(Error::invalid_input(format!(
                                "{source}: cannot read CSV: {e}"
                            )));
                            break;
                        }
                    }
                }
                let end = failed.is_some() || len < batch;
                if len > 0 {
                    let raw = Raw {
                        seq,
                        records,
                        lines,
                        len,
                    };
                    if work_tx.send(raw).is_err() {
                        return;
                    }
                    seq += 1;
                }
                if let Some(e) = failed {
                    let _ = reader_done.send(Msg::Failed(seq, e));
                    return;
                }
                if end {
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
                loop {
                    let next = match work_rx.lock() {
                        Ok(rx) => rx.recv(),
                        Err(_) => return,
                    };
                    let Ok(raw) = next else { return };
                    let done_bytes = consumed.load(Ordering::Relaxed);
                    let before = parser.stats();
                    let mut items = Vec::with_capacity(raw.len);
                    for (rec, &line) in raw.records[..raw.len].iter().zip(&raw.lines) {
                        match parser.screen(rec, line) {
                            Screen::Keep => {}
                            Screen::Skip => continue,
                            Screen::Reject(r) => {
                                items.push(Slot::Item(Mapped::Rejected(r)));
                                continue;
                            }
                        }
                        items.push(Slot::Item(match parser.parse(rec, line) {
                            Item::Row(row) => Mapped::Row(map(&mut state, &row)),
                            Item::Rejected(r) => Mapped::Rejected(r),
                        }));
                        for (kind, note) in parser.take_row_notes() {
                            items.push(Slot::Note(kind, note));
                        }
                    }
                    let after = parser.stats();
                    let done = Done {
                        seq: raw.seq,
                        items,
                        stats: ReadStats {
                            accepted: after.accepted - before.accepted,
                            rejected: after.rejected - before.rejected,
                            folders: after.folders - before.folders,
                            skipped: after.skipped - before.skipped,
                        },
                        done: done_bytes,
                        records: raw.records,
                        lines: raw.lines,
                    };
                    if done_tx.send(Msg::Batch(done)).is_err() {
                        return;
                    }
                }
            });
        }
        drop(done_tx);
        drop(work_rx);
        // The sink, on this thread: batches back in order.
        let result = reorder(done_rx, &spare_tx, total, &mut stats, sink);
        // Dropping the receivers (`reorder` took `done_rx`) ends the threads if it stopped early.
        drop(spare_tx);
        result
    })?;
    Ok(stats)
}

fn reorder<T, S>(
    done_rx: Receiver<Msg<T>>,
    spare_tx: &SyncSender<(Vec<csv::ByteRecord>, Vec<u64>)>,
    total: Option<u64>,
    stats: &mut ReadStats,
    sink: &mut S,
) -> Result<()>
where
    S: FnMut(Mapped<T>, Progress) -> Result<()>,
{
    let mut next = 0u64;
    let mut waiting: BTreeMap<u64, Done<T>> = BTreeMap::new();
    let mut failure: Option<(u64, Error)> = None;
    let mut noted: Vec<RowNote> = Vec::new();
    let mut closed = false;
    loop {
        while let Some(batch) = waiting.remove(&next) {
            let progress = Progress {
                done: batch.done,
                total,
            };
            for slot in batch.items {
                match slot {
                    Slot::Item(item) => sink(item, progress)?,
                    // Each parser notes each kind once: the first in input order is the one.
                    Slot::Note(kind, note) => {
                        if !noted.contains(&kind) {
                            noted.push(kind);
                            sink(Mapped::Note(note), progress)?;
                        }
                    }
                }
            }
            let s = &mut *stats;
            s.accepted += batch.stats.accepted;
            s.rejected += batch.stats.rejected;
            s.folders += batch.stats.folders;
            s.skipped += batch.stats.skipped;
            let _ = spare_tx.try_send((batch.records, batch.lines));
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
    // Every sender is gone: all batches arrived (a failure is reported once the batches before
    // it are out).
    if let Some((_, e)) = failure {
        return Err(e);
    }
    debug_assert!(waiting.is_empty(), "a batch went missing");
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
        batch: usize,
    ) -> (Vec<Seen>, ReadStats) {
        let inv = CsvInventory::open_with(path, options).unwrap();
        let mut out = Vec::new();
        let stats = parallel_csv(
            inv,
            threads,
            batch,
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
        for (threads, batch) in [(1, 1), (2, 7), (3, 64), (4, 4096), (8, 3)] {
            let (got, stats) = parallel(&path, &options, threads, batch);
            assert_eq!(stats, want_stats, "{threads} threads, batches of {batch}");
            assert_eq!(
                got.len(),
                want.len(),
                "{threads} threads, batches of {batch}"
            );
            for (k, (g, w)) in got.iter().zip(&want).enumerate() {
                assert_eq!(g, w, "item {k}, {threads} threads, batches of {batch}");
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
        for (threads, batch) in [(2, 100), (3, 4096)] {
            let inv = CsvInventory::open_with(&path, &options).unwrap();
            let mut got = Vec::new();
            let err = parallel_csv(
                inv,
                threads,
                batch,
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
            // Rows of the batch cut by the error are read too: every row before it, in order.
            assert!(got.len() >= want.len() - want.len() % batch - batch);
            assert_eq!(got[..], want[..got.len()]);
        }
    }
}
