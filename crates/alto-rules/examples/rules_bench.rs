//! Benchmark: one million files against one hundred mixed rules, compiled set vs naive.
//!
//! ```text
//! cargo run --release -p alto-rules --example rules_bench [-- FILES [NAIVE_FILES]]
//! ```
//!
//! Builds 100 rules mixing path and name-only globs, regexes, sizes, ages and extensions, and
//! `FILES` (default 1,000,000) synthetic files in memory — drive-letter, UNC and POSIX paths such
//! as `C:\Data\dept3\proj17\y2019\file_00001234.pdf`. Times `RuleSet::evaluate` over all of them
//! and `NaiveEvaluator` over the first `NAIVE_FILES` (default 100,000), then prints files/s for
//! both, the ratio, and checksums over the common files showing that both agree.

use std::hint::black_box;
use std::time::Instant;

use alto_rules::naive::NaiveEvaluator;
use alto_rules::{FileFacts, Micros, RuleSet};

/// 2026-01-01T00:00:00Z.
const NOW: Micros = 1_767_225_600_000_000;
const DAY: Micros = 86_400_000_000;
const EXTS: &[&str] = &[
    "pdf", "docx", "xlsx", "mov", "mp4", "tmp", "jpg", "PNG", "txt", "log", "zip", "bak",
];

/// xorshift64*: deterministic and dependency-free.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn rules_toml() -> String {
    let mut rng = Rng(0x5eed);
    let mut out = String::from("case_sensitive = \"auto\"\n");
    for i in 0..100u64 {
        let ext = EXTS[(i % EXTS.len() as u64) as usize];
        let dept = i % 20;
        let body = match i % 10 {
            0 => format!(
                "include = ['C:\\Data\\dept{dept}\\**']\nextensions = [\"pdf\", \"docx\"]\n\
                 accessed_before = \"{}d\"",
                200 + i * 3
            ),
            1 => format!("include = ['*.{ext}']\nmin_size = \"{}MB\"", 50 + i * 7),
            2 => format!(
                "regex = 'proj{}/y20(1[0-9])'\nmodified_before = \"{}d\"",
                i % 50,
                300 + i * 5
            ),
            3 => format!(
                "include = ['/mnt/share/dept{dept}/proj*/y201?/**']\nexclude = ['**/*.tmp']\n\
                 max_size = \"{}MB\"",
                20 + i
            ),
            4 => format!(
                "min_size = \"{}KiB\"\nmax_size = \"{}MiB\"\nextensions = [\"{ext}\", \"zip\"]",
                100 + i,
                1 + i % 7
            ),
            5 => format!(
                "include = ['file_000{}*']\nexclude_extensions = [\"tmp\", \"log\"]\n\
                 accessed_after = \"{}d\"",
                i % 10,
                30 + i
            ),
            6 => format!(
                "regex = 'file_\\d{{4}}{}\\d{{3}}\\.(mov|mp4)$'\naccessed_before = \"1y\"",
                i % 10
            ),
            7 => format!(
                "include = ['**/proj{}/**', '**/y20{}{}/**']\nmin_size = \"1GB\"",
                i % 50,
                i % 3,
                i % 10
            ),
            8 => format!(
                "min_size = \"{}MB\"\nmodified_after = \"{}d\"\nextensions = [\"mov\", \"mp4\", \"{ext}\"]",
                200 + i,
                60 + i
            ),
            _ => format!(
                "include = ['\\\\nas01\\share\\**\\*.{ext}']\naccessed_before = \"{}d\"",
                90 + i
            ),
        };
        let priority = rng.below(50);
        let enabled = i % 23 != 7;
        out.push_str(&format!(
            "\n[[rule]]\nname = \"rule-{i:03}\"\npriority = {priority}\nenabled = {enabled}\n{body}\n\
             target = \"s3://tier2/{{tenant}}/{{rule}}/\"\n"
        ));
    }
    out
}

struct OwnedFile {
    path: String,
    size: u64,
    accessed: Option<Micros>,
    modified: Option<Micros>,
}

fn files(n: usize) -> Vec<OwnedFile> {
    let mut rng = Rng(0xa17_0001);
    (0..n)
        .map(|i| {
            let dept = rng.below(25);
            let proj = rng.below(60);
            let year = 2010 + rng.below(16);
            let ext = EXTS[rng.below(EXTS.len() as u64) as usize];
            let path = match rng.below(10) {
                0..=4 => format!(r"C:\Data\dept{dept}\proj{proj}\y{year}\file_{i:08}.{ext}"),
                5..=7 => format!("/mnt/share/dept{dept}/proj{proj}/y{year}/file_{i:08}.{ext}"),
                _ => format!(r"\\nas01\share\dept{dept}\proj{proj}\y{year}\file_{i:08}.{ext}"),
            };
            // Log-uniform sizes from 1 KB to ~10 GB.
            let size = 1000u64 << rng.below(24) | rng.below(1000);
            let modified = NOW - rng.below(2000) as i64 * DAY - rng.below(DAY as u64) as i64;
            let accessed = match rng.below(10) {
                0 => None,
                _ => Some(modified + rng.below((NOW - modified) as u64 + 1) as i64),
            };
            OwnedFile {
                path,
                size,
                accessed,
                modified: Some(modified),
            }
        })
        .collect()
}

fn facts(f: &OwnedFile) -> FileFacts<'_> {
    FileFacts {
        path: &f.path,
        size: f.size,
        accessed: f.accessed,
        modified: f.modified,
    }
}

fn checksum(results: impl Iterator<Item = Option<usize>>) -> u64 {
    results.fold(0xcbf2_9ce4_8422_2325, |h, r| {
        (h ^ r.map_or(0, |i| i as u64 + 1)).wrapping_mul(0x100_0000_01b3)
    })
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let naive_n: usize = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000)
        .min(n);

    let t = Instant::now();
    let set = RuleSet::from_toml(&rules_toml()).expect("benchmark rules are valid");
    println!(
        "compiled {} rules ({} enabled) in {:.1} ms",
        set.rules().len(),
        set.rules().iter().filter(|r| r.enabled).count(),
        t.elapsed().as_secs_f64() * 1e3
    );
    let t = Instant::now();
    let files = files(n);
    println!("generated {n} files in {:.2} s", t.elapsed().as_secs_f64());

    // Compiled set: one warm-up pass, then the best of three timed passes.
    let mut scratch = set.scratch();
    let mut results = vec![None; n];
    for (f, r) in files.iter().zip(results.iter_mut()) {
        *r = set.evaluate(&facts(f), NOW, &mut scratch);
    }
    let mut best = f64::MAX;
    for _ in 0..3 {
        let t = Instant::now();
        for (f, r) in files.iter().zip(results.iter_mut()) {
            *r = set.evaluate(black_box(&facts(f)), NOW, &mut scratch);
        }
        best = best.min(t.elapsed().as_secs_f64());
    }
    let compiled_rate = n as f64 / best;
    let matched = results.iter().filter(|r| r.is_some()).count();
    println!(
        "compiled: {n} files in {best:.3} s = {:.0} files/s; {matched} matched ({:.1}%)",
        compiled_rate,
        100.0 * matched as f64 / n as f64
    );

    // How far files get: rules tried before the match, on a sample.
    let sample = n.min(10_000);
    let tried: usize = files[..sample]
        .iter()
        .map(|f| set.explain(&facts(f), NOW).tried.len())
        .sum();
    println!(
        "on average {:.1} rules fail before the outcome (sample of {sample})",
        tried as f64 / sample as f64
    );

    let naive = NaiveEvaluator::new(&set);
    let t = Instant::now();
    let naive_results: Vec<Option<usize>> = files[..naive_n]
        .iter()
        .map(|f| naive.evaluate(black_box(&facts(f)), NOW))
        .collect();
    let naive_secs = t.elapsed().as_secs_f64();
    let naive_rate = naive_n as f64 / naive_secs;
    println!(
        "naive:    {naive_n} files in {naive_secs:.3} s = {naive_rate:.0} files/s \
         (one rule at a time, individually compiled matchers)"
    );
    println!("speed-up: {:.1}x", compiled_rate / naive_rate);

    let ours = checksum(results[..naive_n].iter().copied());
    let theirs = checksum(naive_results.iter().copied());
    let disagree = results[..naive_n]
        .iter()
        .zip(&naive_results)
        .filter(|(a, b)| a != b)
        .count();
    println!(
        "checksum over the first {naive_n} files: compiled {ours:016x}, naive {theirs:016x} ({})",
        if disagree == 0 {
            "agree".to_owned()
        } else {
            format!("{disagree} DISAGREE")
        }
    );
    println!(
        "checksum over all {n} files (compiled): {:016x}",
        checksum(results.iter().copied())
    );
    if disagree != 0 {
        std::process::exit(1);
    }
}
