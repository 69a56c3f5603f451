//! Benchmark: CSV inventory reading and normalising, beside the bare `csv` crate loop.
//!
//! ```sh
//! python3 ../shared/bench/gen_inventory.py 1000000 /tmp/inv-1m.csv
//! cargo run --release -p alto-core --example read_bench -- /tmp/inv-1m.csv
//! ```
//!
//! Prints, for the same file in the same process: the baseline (csv `ByteRecord` loop, no field
//! parsing), Alto's reader (UTF-8 checks, sizes, timestamps, extension) plus the path key, the
//! ratio, and the peak resident memory (which must not grow with the file).
//!
//! A compressed inventory is read as it is (`read_bench inv.csv.gz` decompresses as it streams);
//! `-` reads standard input, so the gzip path can be compared with an external decompressor:
//!
//! ```sh
//! gzip -k /tmp/inv-1m.csv
//! cargo run --release -p alto-core --example read_bench -- /tmp/inv-1m.csv.gz --only-alto
//! zcat /tmp/inv-1m.csv.gz | cargo run --release -p alto-core --example read_bench -- -
//! ```

use alto_core::inventory::{self, InventoryOptions, Item};
use alto_core::path::path_key_into;
use std::time::Instant;

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: read_bench INVENTORY.csv [--only-alto]")?;
    let stdin = path == "-";
    let only_alto = stdin || std::env::args().any(|a| a == "--only-alto");

    let mut base_rate = None;
    if !only_alto {
        let t = Instant::now();
        let mut rdr = csv::ReaderBuilder::new().from_path(&path)?;
        let mut rec = csv::ByteRecord::new();
        let mut n = 0u64;
        let mut bytes = 0u64;
        while rdr.read_byte_record(&mut rec)? {
            n += 1;
            bytes += rec.as_slice().len() as u64;
        }
        let secs = t.elapsed().as_secs_f64();
        println!(
            "baseline  csv ByteRecord loop : {n} rows in {secs:.3}s = {:.0} rows/s ({bytes} field bytes)",
            n as f64 / secs
        );
        base_rate = Some(n as f64 / secs);
    }

    let t = Instant::now();
    let mut src: Box<dyn inventory::InventorySource> = if stdin {
        Box::new(inventory::CsvInventory::from_reader(
            std::io::stdin(),
            "stdin",
            &InventoryOptions::default(),
        )?)
    } else {
        inventory::open(path.as_ref(), &InventoryOptions::default())?
    };
    let mut key = String::new();
    let mut check = 0u64;
    while let Some(item) = src.next_item()? {
        if let Item::Row(r) = item {
            path_key_into(r.path, true, &mut key);
            check = check
                .wrapping_add(r.size)
                .wrapping_add(r.accessed.unwrap_or(0) as u64)
                .wrapping_add(key.len() as u64);
        }
    }
    let secs = t.elapsed().as_secs_f64();
    let s = src.stats();
    let rate = s.accepted as f64 / secs;
    println!(
        "alto      read + normalise     : {} rows ({} rejected) in {secs:.3}s = {rate:.0} rows/s (checksum {check:x})",
        s.accepted, s.rejected
    );
    if let Some(b) = base_rate {
        println!("ratio     alto / baseline      : {:.2}", rate / b);
    }
    println!("peak RSS                       : {} KiB", peak_rss_kib());
    Ok(())
}
