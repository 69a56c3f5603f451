//! The LucidLink audit-tree reader on generated trees: cursors, rotation, half lines, ids.

use alto_core::feed::AccessEvent;
use alto_core::feed::generate::{TreeSpec, generate_tree};
use alto_core::feed::lucid::{Cursors, list_audit_files, read_tree};
use std::collections::BTreeSet;
use std::io::Write;

fn spec() -> TreeSpec {
    TreeSpec {
        nodes: 3,
        events_per_node: 250,
        events_per_file: 60,
        start: 1_779_900_000_000_000,
        step: 1_000_000,
        paths: (0..40)
            .map(|i| format!("/Projects/Café {i}/shot_{i}.mov"))
            .collect(),
        seed: 7,
    }
}

fn read_all(root: &std::path::Path, cursors: &mut Cursors) -> (Vec<AccessEvent>, u64) {
    let mut events = Vec::new();
    let mut malformed = 0;
    read_tree(root, cursors, &mut |e| events.push(e), &mut |_| {
        malformed += 1
    })
    .unwrap();
    (events, malformed)
}

#[test]
fn reads_everything_once_and_skips_half_lines() {
    let dir = tempfile::tempdir().unwrap();
    let g = generate_tree(dir.path(), &spec()).unwrap();
    let files = list_audit_files(dir.path()).unwrap();
    assert_eq!(files.len() as u64, g.files);
    assert_eq!(
        files.iter().filter(|f| f.active).count(),
        3,
        "one active file per node"
    );
    let mut cursors = Cursors::new();
    let (events, malformed) = read_all(dir.path(), &mut cursors);
    assert_eq!(
        malformed, 0,
        "half-written lines are not malformed: they wait"
    );
    assert_eq!(events.len() as u64, g.events - g.audit_events);
    let ids: BTreeSet<_> = events.iter().map(|e| e.id.clone()).collect();
    assert_eq!(ids.len(), events.len(), "ids are unique");
    assert!(
        events.iter().all(|e| !e.path.contains('\u{301}')),
        "NFD names come out NFC"
    );
    assert!(events.iter().any(|e| e.path.contains("Café")));
    // A second pass reads nothing.
    let (again, _) = read_all(dir.path(), &mut cursors);
    assert!(again.is_empty());
    // The tree from the filespace root or from .lucid_audit itself.
    let mut c2 = Cursors::new();
    let (from_audit_dir, _) = read_all(&dir.path().join(".lucid_audit"), &mut c2);
    assert_eq!(from_audit_dir, events);
}

#[test]
fn rotation_and_appends_neither_repeat_nor_lose_lines() {
    let dir = tempfile::tempdir().unwrap();
    generate_tree(dir.path(), &spec()).unwrap();
    let mut cursors = Cursors::new();
    let (first, _) = read_all(dir.path(), &mut cursors);
    // Node 100's writer finishes its half line and rotates: .active -> .log.
    let active = list_audit_files(dir.path())
        .unwrap()
        .into_iter()
        .find(|f| f.active && f.node == "100")
        .unwrap();
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&active.path)
        .unwrap();
    f.write_all(br#"ad","entryPath":"/late.txt"}}"#).unwrap();
    f.write_all(b"\n").unwrap();
    drop(f);
    let closed = active.path.with_file_name(format!("{}.log", active.stem));
    std::fs::rename(&active.path, &closed).unwrap();
    let mut second = Vec::new();
    let mut bad = Vec::new();
    read_tree(
        dir.path(),
        &mut cursors,
        &mut |e| second.push(e),
        &mut |m| bad.push(m.to_string()),
    )
    .unwrap();
    assert!(bad.is_empty(), "{bad:?}");
    assert_eq!(second.len(), 1, "only the completed line: {second:?}");
    assert_eq!(second[0].path, "/late.txt");
    assert!(second[0].id.starts_with("100/"));
    // Nothing doubled across the passes, and a fresh read of the rotated tree finds the same ids.
    let all: BTreeSet<_> = first.iter().chain(&second).map(|e| e.id.clone()).collect();
    assert_eq!(all.len(), first.len() + 1);
    let mut fresh = Cursors::new();
    let (from_scratch, _) = read_all(dir.path(), &mut fresh);
    let fresh_ids: BTreeSet<_> = from_scratch.iter().map(|e| e.id.clone()).collect();
    assert_eq!(fresh_ids, all, "ids are stable across rename and re-read");
    assert_eq!(fresh, cursors, "cursors agree");
}

#[test]
fn malformed_lines_are_counted_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join(".lucid_audit/5/2026/06");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(
        d.join("2026-06-25T20.29.18Z.log"),
        "{\"timestamp\":1,\"operation\":{\"action\":\"FileRead\",\"entryPath\":\"/a\"}}\n\
         garbage\n\
         \n\
         {\"timestamp\":2,\"operation\":{\"action\":\"Nope\",\"entryPath\":\"/b\"}}\n\
         {\"timestamp\":3,\"operation\":{\"action\":\"FileRead\",\"entryPath\":\"/c\"}}\n",
    )
    .unwrap();
    let mut cursors = Cursors::new();
    let mut bad = Vec::new();
    let mut events = Vec::new();
    let stats = read_tree(
        dir.path(),
        &mut cursors,
        &mut |e| events.push(e),
        &mut |m| bad.push(m),
    )
    .unwrap();
    assert_eq!((stats.read, stats.malformed), (2, 2));
    assert_eq!(bad.iter().map(|m| m.line).collect::<Vec<_>>(), [2, 4]);
    assert!(
        bad[0]
            .to_string()
            .contains("2026-06-25T20.29.18Z.log:2: not JSON"),
        "{}",
        bad[0]
    );
    let e = read_tree(
        std::path::Path::new("/nonexistent"),
        &mut cursors,
        &mut |_| {},
        &mut |_| {},
    )
    .unwrap_err();
    assert!(e.to_string().contains("no .lucid_audit"), "{e}");
}
