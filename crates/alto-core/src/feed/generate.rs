//! A generator of realistic LucidLink audit trees, for tests and benchmarks.
//!
//! Several nodes each write a sequence of files (rotated every `events_per_file` events, closed
//! files named `.log`, the newest still `.log.active`), interleaved in time across nodes. Events
//! are mostly reads of a given universe of paths, with writes, moves, deletes, a few NFD-encoded
//! names, events on the audit trail itself, and the active files of some nodes end in a
//! half-written line. Deterministic for a given seed.

use crate::error::Result;
use crate::time::{Micros, civil_from_days};
use std::io::Write;
use std::path::Path;
use unicode_normalization::UnicodeNormalization;

/// What to generate.
#[derive(Debug, Clone)]
pub struct TreeSpec {
    /// Client nodes.
    pub nodes: u32,
    /// Events per node.
    pub events_per_node: u64,
    /// Events per audit file before rotation.
    pub events_per_file: u64,
    /// Time of the first event.
    pub start: Micros,
    /// Microseconds between a node's events.
    pub step: Micros,
    /// Paths events refer to (absolute from the filespace root, NFC).
    pub paths: Vec<String>,
    /// Seed.
    pub seed: u64,
}
impl TreeSpec {
    /// The benchmarks' tree: at least `events` events over `paths`, spread evenly over `nodes`
    /// nodes and the two days that end a day before `now`, rotated every 25,000 events, seed 42.
    /// The PostgreSQL and SQLite feed benchmarks both use it, so their figures compare.
    pub fn bench(paths: Vec<String>, nodes: u32, events: u64, now: Micros) -> TreeSpec {
        const DAY: Micros = 86_400 * crate::time::MICROS_PER_SEC;
        let per_node = events.div_ceil(u64::from(nodes.max(1)));
        TreeSpec {
            nodes,
            events_per_node: per_node,
            events_per_file: 25_000,
            start: now - 3 * DAY,
            step: 2 * DAY / per_node.max(1) as i64,
            paths,
            seed: 42,
        }
    }
}

/// What was generated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GeneratedTree {
    /// Complete events written (the half-written lines not included).
    pub events: u64,
    /// Audit files written.
    pub files: u64,
    /// Of the events, how many are about `/.lucid_audit` itself.
    pub audit_events: u64,
}

fn stem_of(t: Micros) -> (String, String, String) {
    let secs = t.div_euclid(1_000_000);
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let sod = secs.rem_euclid(86_400);
    (
        format!("{y:04}"),
        format!("{m:02}"),
        format!(
            "{y:04}-{m:02}-{d:02}T{:02}.{:02}.{:02}Z",
            sod / 3600,
            (sod / 60) % 60,
            sod % 60
        ),
    )
}

/// Write a tree under `root/.lucid_audit`.
pub fn generate_tree(root: &Path, spec: &TreeSpec) -> Result<GeneratedTree> {
    let mut out = GeneratedTree::default();
    let mut rng = spec.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = move || {
        rng ^= rng >> 12;
        rng ^= rng << 25;
        rng ^= rng >> 27;
        rng.wrapping_mul(0x2545_F491_4F6C_DD1D)
    };
    let n_paths = spec.paths.len().max(1) as u64;
    for node in 0..spec.nodes {
        let node_name = format!("{}", 100 + node);
        let mut i = 0u64;
        while i < spec.events_per_node {
            let first_t = spec.start + (i as i64) * spec.step + node as i64 * 7;
            let (yyyy, mm, stem) = stem_of(first_t);
            let dir = root
                .join(".lucid_audit")
                .join(&node_name)
                .join(&yyyy)
                .join(&mm);
            std::fs::create_dir_all(&dir)?;
            let last_file = i + spec.events_per_file >= spec.events_per_node;
            let name = if last_file {
                format!("{stem}.log.active")
            } else {
                format!("{stem}.log")
            };
            let mut w = std::io::BufWriter::new(std::fs::File::create(dir.join(name))?);
            out.files += 1;
            let end = (i + spec.events_per_file).min(spec.events_per_node);
            while i < end {
                let t = spec.start + (i as i64) * spec.step + node as i64 * 7;
                let r = next();
                let p = &spec.paths[(r % n_paths) as usize];
                let roll = (r >> 32) % 1000;
                let (action, path, target) = match roll {
                    0..=899 => ("FileRead", p.clone(), None),
                    900..=939 => ("FileWritten", p.clone(), None),
                    940..=959 => ("PreHydrate", p.clone(), None),
                    960..=969 => ("Move", p.clone(), Some(format!("{p}.moved"))),
                    970..=974 => ("FileDelete", p.clone(), None),
                    975..=984 => ("FileRead", p.nfd().collect::<String>(), None),
                    985..=989 => (
                        "FileWritten",
                        format!("/.lucid_audit/{node_name}/{yyyy}/{mm}/{stem}.log.active"),
                        None,
                    ),
                    _ => ("Pin", p.clone(), None),
                };
                if path.starts_with("/.lucid_audit") {
                    out.audit_events += 1;
                }
                let mut op = serde_json::json!({"action": action, "fileId": format!("f-{}", r % 100_000), "entryPath": path});
                if let Some(tp) = target {
                    op["targetPath"] = tp.into();
                }
                let line = serde_json::json!({
                    "timestamp": t,
                    "schemaVersion": "1.1",
                    "operation": op,
                    "user": {"id": format!("u-{}", r % 17), "name": format!("user{}@example.com", r % 17)},
                    "device": {"hostName": format!("host-{node_name}"), "osName": "macOS", "osVersion": "14.2.0"},
                    "event": {"nodeId": node_name, "filespace": "production", "filespaceUuid": "6f1c0f3e-2b7d-4a53-9d1e-2f7a9c0b1e11"}
                });
                serde_json::to_writer(&mut w, &line).map_err(std::io::Error::from)?;
                w.write_all(b"\n")?;
                out.events += 1;
                i += 1;
            }
            if last_file && node % 2 == 0 {
                // The writer is mid-line.
                w.write_all(
                    br#"{"timestamp":1,"schemaVersion":"1.1","operation":{"action":"FileRe"#,
                )?;
            }
            w.flush()?;
        }
    }
    Ok(out)
}
