//! An S3 Inventory read whole through its `manifest.json`.
//!
//! The fixture `tests/fixtures/s3-report/` is a report as downloaded from the destination bucket
//! (the destination prefix `inventory/` left out):
//! `media-archive/daily-full/2025-11-20T01-00Z/manifest.json` (with its `manifest.checksum`)
//! and two gzipped, headerless, URL-encoded CSV data files in `media-archive/daily-full/data/`,
//! listed in the manifest with their sizes and MD5 checksums. The first holds a current object
//! with a non-ASCII key, its older version, a delete marker and a key with `%2C` and `+`; the
//! second a folder object, a Japanese key, a row with a bad size (line 3) and a large object.

use alto_core::ErrorKind;
use alto_core::inventory::{self, InventoryOptions, InventorySource, Item, ReadStats};
use alto_core::time::format_rfc3339;
use alto_core::types::FileEntry;
use md5::{Digest, Md5};
use std::path::{Path, PathBuf};

const REPORT: &str = "media-archive/daily-full";
const MANIFEST: &str = "2025-11-20T01-00Z/manifest.json";
const FILE_A: &str = "6f1d2c3a-8b4e-4e0f-9a1b-2c3d4e5f6a7b.csv.gz";
const FILE_B: &str = "a0b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d.csv.gz";

fn report() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/s3-report")
        .join(REPORT)
}

/// A copy of the fixture's report in a temporary folder, to damage.
fn copy_report() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join(REPORT);
    for sub in ["data", "2025-11-20T01-00Z"] {
        std::fs::create_dir_all(root.join(sub)).unwrap();
        for e in std::fs::read_dir(report().join(sub)).unwrap() {
            let e = e.unwrap();
            std::fs::copy(e.path(), root.join(sub).join(e.file_name())).unwrap();
        }
    }
    (dir, root)
}

struct Out {
    rows: Vec<FileEntry>,
    rejected: Vec<inventory::Rejection>,
    stats: ReadStats,
    notes: Vec<String>,
}

fn drain(src: &mut dyn InventorySource) -> alto_core::Result<Out> {
    let mut notes = src.take_notes();
    let mut rows = Vec::new();
    let mut rejected = Vec::new();
    while let Some(item) = src.next_item()? {
        match item {
            Item::Row(r) => rows.push(r.to_entry()),
            Item::Rejected(r) => rejected.push(r),
        }
    }
    notes.extend(src.take_notes());
    Ok(Out {
        rows,
        rejected,
        stats: src.stats(),
        notes,
    })
}

fn read(path: &Path, opts: &InventoryOptions) -> alto_core::Result<Out> {
    let mut src = inventory::open(path, opts)?;
    drain(src.as_mut())
}

fn counts(s: ReadStats) -> (u64, u64, u64, u64) {
    (s.accepted, s.rejected, s.folders, s.skipped)
}

#[test]
fn every_data_file_in_manifest_order() {
    let manifest = report().join(MANIFEST);
    let mut src = inventory::open(&manifest, &InventoryOptions::new()).unwrap();
    assert_eq!(src.source(), manifest.display().to_string());
    let o = drain(src.as_mut()).unwrap();
    // Current objects only: the older version and the delete marker of the first file are
    // skipped, the folder object of the second too, and its bad row is rejected.
    assert_eq!(counts(o.stats), (4, 1, 1, 2), "{:?}", o.rejected);
    let paths: Vec<_> = o.rows.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "s3://media-archive/photos/2025/café au lait.jpg",
            "s3://media-archive/reports/Q3, final (v2).pdf",
            "s3://media-archive/日本/写真 1.png",
            "s3://media-archive/video/clip 1.mov",
        ]
    );
    assert_eq!(o.rows[0].size, 2048);
    assert_eq!(
        o.rows[0].modified.map(format_rfc3339).as_deref(),
        Some("2025-11-20T14:03:05Z")
    );
    assert_eq!(o.rows[0].extension.as_deref(), Some("jpg"));
    assert_eq!(
        o.rows[1].hash.as_deref(),
        Some("5d41402abc4b2a76b9719d911017c592-2")
    );
    assert_eq!(o.rows[3].size, 1_000_000_000);
    // The broken row names the data file it is in, and its line there.
    let r = &o.rejected[0];
    assert!(r.source.ends_with(FILE_B), "{r}");
    assert_eq!((r.line, r.column), (3, Some("file_size")), "{r}");
    assert!(
        r.to_string()
            .contains(&format!("{FILE_B}:3: column file_size")),
        "{r}"
    );
    // Progress ends at its total: the data files' bytes.
    let p = src.progress();
    assert_eq!(p.done, p.total.unwrap());
    assert_eq!(p.total, Some(407 + 307));
    assert!(
        o.notes
            .iter()
            .any(|n| n.contains("S3 Inventory of bucket media-archive in 2 CSV data files")),
        "{:?}",
        o.notes
    );
    // What every data file's reader notes alike is said once.
    let gz: Vec<_> = o.notes.iter().filter(|n| n.contains("gzip")).collect();
    assert_eq!(gz.len(), 1, "{:?}", o.notes);
    assert!(gz[0].contains(FILE_A), "{gz:?}");
}

#[test]
fn manifest_options_and_the_manifest_as_inventory_agree() {
    // The CLI's `--manifest FILE` alone: options from the manifest, the manifest as the path.
    let manifest = report().join(MANIFEST);
    let text = std::fs::read_to_string(&manifest).unwrap();
    let opts = InventoryOptions::new().with_s3_manifest(&text).unwrap();
    let o = read(&manifest, &opts).unwrap();
    assert_eq!(counts(o.stats), (4, 1, 1, 2));
    // One data file with `--manifest`: that file only, as before.
    let one = read(&report().join("data").join(FILE_A), &opts).unwrap();
    assert_eq!(counts(one.stats), (2, 0, 0, 2));
}

#[test]
fn a_data_file_beside_the_manifest_or_under_its_key() {
    // Flat: everything in one folder.
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(report().join(MANIFEST), dir.path().join("manifest.json")).unwrap();
    for f in [FILE_A, FILE_B] {
        std::fs::copy(report().join("data").join(f), dir.path().join(f)).unwrap();
    }
    let o = read(&dir.path().join("manifest.json"), &InventoryOptions::new()).unwrap();
    assert_eq!(counts(o.stats), (4, 1, 1, 2));
    // The whole destination bucket synced below the manifest's folder: the key itself.
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(report().join(MANIFEST), dir.path().join("manifest.json")).unwrap();
    let data = dir.path().join("inventory").join(REPORT).join("data");
    std::fs::create_dir_all(&data).unwrap();
    for f in [FILE_A, FILE_B] {
        std::fs::copy(report().join("data").join(f), data.join(f)).unwrap();
    }
    let o = read(&dir.path().join("manifest.json"), &InventoryOptions::new()).unwrap();
    assert_eq!(counts(o.stats), (4, 1, 1, 2));
}

#[test]
fn a_missing_data_file_is_named_with_the_places_tried() {
    let (_dir, root) = copy_report();
    std::fs::remove_file(root.join("data").join(FILE_B)).unwrap();
    let e = read(&root.join(MANIFEST), &InventoryOptions::new())
        .err()
        .expect("refused");
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    let m = e.to_string();
    assert!(
        m.contains(&format!(
            "data file inventory/media-archive/daily-full/data/{FILE_B} not found"
        )),
        "{m}"
    );
    let tried = root.join("data").join(FILE_B).display().to_string();
    assert!(m.contains(&format!(", {tried},")), "{m}");
    assert!(m.contains(&format!("2025-11-20T01-00Z/{FILE_B}")), "{m}");
}

#[test]
fn a_truncated_download_is_refused_before_any_row() {
    let (_dir, root) = copy_report();
    let b = root.join("data").join(FILE_B);
    let bytes = std::fs::read(&b).unwrap();
    std::fs::write(&b, &bytes[..bytes.len() - 10]).unwrap();
    let e = inventory::open(&root.join(MANIFEST), &InventoryOptions::new())
        .expect_err("refused at open");
    let m = e.to_string();
    assert!(m.contains("297 bytes"), "{m}");
    assert!(m.contains("with 307 bytes"), "{m}");
    assert!(m.contains("truncated"), "{m}");
}

#[test]
fn a_checksum_mismatch_is_refused() {
    let (_dir, root) = copy_report();
    // Same size, one byte changed inside the gzip stream's stored name-less header (the OS
    // byte): the data still decompresses, only the MD5 tells.
    let a = root.join("data").join(FILE_A);
    let mut bytes = std::fs::read(&a).unwrap();
    bytes[9] ^= 0x01;
    std::fs::write(&a, &bytes).unwrap();
    let e = read(&root.join(MANIFEST), &InventoryOptions::new())
        .err()
        .expect("refused");
    let m = e.to_string();
    assert!(m.contains(FILE_A), "{m}");
    assert!(m.contains("MD5 "), "{m}");
    assert!(m.contains("478252a851d09f4c264ad7f25b0cd9b2"), "{m}");
    // The manifest's MD5 differing is refused the same way (the manifest edited, without its
    // manifest.checksum, which would refuse the edit).
    let (_dir, root) = copy_report();
    let path = root.join(MANIFEST);
    std::fs::remove_file(path.with_extension("checksum")).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        text.replace(
            "6c58ba41b040de89c1c2c00a578fb934",
            "00000000000000000000000000000000",
        ),
    )
    .unwrap();
    let e = read(&path, &InventoryOptions::new())
        .err()
        .expect("refused");
    assert!(e.to_string().contains(FILE_B), "{e}");
}

#[test]
fn orc_is_refused() {
    let (_dir, root) = copy_report();
    let path = root.join(MANIFEST);
    std::fs::remove_file(path.with_extension("checksum")).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        text.replace("\"CSV\"", "\"ORC\"").replace(
            "Bucket, Key, VersionId, IsLatest, IsDeleteMarker, Size, LastModifiedDate, ETag, \
             StorageClass, IsMultipartUploaded, ReplicationStatus, EncryptionStatus",
            "struct<bucket:string,key:string,size:bigint,last_modified_date:timestamp>",
        ),
    )
    .unwrap();
    let e = read(&path, &InventoryOptions::new())
        .err()
        .expect("refused");
    assert_eq!(e.kind(), ErrorKind::Unsupported);
    let m = e.to_string();
    assert!(m.contains("ORC is not read"), "{m}");
    assert!(m.contains("CSV or Parquet"), "{m}");
}

#[test]
fn json_that_is_no_manifest_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("x.json");
    std::fs::write(&p, "{\"files\": []}").unwrap();
    let e = read(&p, &InventoryOptions::new()).err().expect("refused");
    assert!(e.to_string().contains("fileSchema"), "{e}");
}

#[cfg(feature = "parquet")]
mod parquet_report {
    use super::*;
    use arrow_array::{
        ArrayRef, BooleanArray, Int64Array, RecordBatch, StringArray, TimestampMillisecondArray,
    };
    use parquet::arrow::ArrowWriter;
    use std::sync::Arc;

    /// A data file with S3 Inventory's Parquet columns.
    fn data_file(rows: &[(&str, bool, bool, Option<i64>)]) -> Vec<u8> {
        let n = rows.len();
        let batch = RecordBatch::try_from_iter([
            (
                "bucket",
                Arc::new(StringArray::from(vec!["media-archive"; n])) as ArrayRef,
            ),
            (
                "key",
                Arc::new(StringArray::from(
                    rows.iter().map(|r| r.0).collect::<Vec<_>>(),
                )),
            ),
            (
                "version_id",
                Arc::new(StringArray::from(vec![None::<&str>; n])),
            ),
            (
                "is_latest",
                Arc::new(BooleanArray::from(
                    rows.iter().map(|r| r.1).collect::<Vec<_>>(),
                )),
            ),
            (
                "is_delete_marker",
                Arc::new(BooleanArray::from(
                    rows.iter().map(|r| r.2).collect::<Vec<_>>(),
                )),
            ),
            (
                "size",
                Arc::new(Int64Array::from(
                    rows.iter().map(|r| r.3).collect::<Vec<_>>(),
                )),
            ),
            (
                "last_modified_date",
                Arc::new(
                    TimestampMillisecondArray::from(vec![Some(1_763_647_385_000); n])
                        .with_timezone("UTC"),
                ),
            ),
            (
                "e_tag",
                Arc::new(StringArray::from(vec![
                    Some(
                        "d41d8cd98f00b204e9800998ecf8427e"
                    );
                    n
                ])),
            ),
        ])
        .unwrap();
        let mut out = Vec::new();
        let mut w = ArrowWriter::try_new(&mut out, batch.schema(), None).unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
        out
    }

    fn md5_hex(b: &[u8]) -> String {
        Md5::digest(b).iter().map(|x| format!("{x:02x}")).collect()
    }

    #[test]
    fn parquet_data_files_with_s3_column_names() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join(REPORT);
        std::fs::create_dir_all(root.join("data")).unwrap();
        std::fs::create_dir_all(root.join("2025-11-20T01-00Z")).unwrap();
        // Keys are not URL-encoded in Parquet.
        let files = [
            (
                "p1.parquet",
                data_file(&[
                    ("photos/café+1.jpg", true, false, Some(2048)),
                    ("photos/café+1.jpg", false, false, Some(1024)),
                    ("tmp/gone.txt", true, true, None),
                ]),
            ),
            (
                "p2.parquet",
                data_file(&[
                    ("photos/", true, false, Some(0)),
                    ("a%2Cb.txt", true, false, Some(-1)),
                    ("video/clip.mov", true, false, Some(10)),
                ]),
            ),
        ];
        let mut entries = Vec::new();
        for (name, bytes) in &files {
            std::fs::write(root.join("data").join(name), bytes).unwrap();
            entries.push(format!(
                "{{\"key\" : \"inventory/{REPORT}/data/{name}\", \"size\" : {}, \
                 \"MD5checksum\" : \"{}\"}}",
                bytes.len(),
                md5_hex(bytes)
            ));
        }
        let manifest = format!(
            r#"{{
  "sourceBucket" : "media-archive",
  "destinationBucket" : "arn:aws:s3:::acme-inventory",
  "version" : "2016-11-30",
  "creationTimestamp" : "1763600400000",
  "fileFormat" : "Parquet",
  "fileSchema" : "message s3.inventory {{ required binary bucket (UTF8); required binary key (UTF8); optional binary version_id (UTF8); optional boolean is_latest; optional boolean is_delete_marker; optional int64 size; optional int64 last_modified_date (TIMESTAMP_MILLIS); optional binary e_tag (UTF8);}}",
  "files" : [ {} ]
}}"#,
            entries.join(", ")
        );
        let path = root.join(MANIFEST);
        std::fs::write(&path, &manifest).unwrap();
        let o = read(&path, &InventoryOptions::new()).unwrap();
        assert_eq!(counts(o.stats), (2, 1, 1, 2), "{:?}", o.rejected);
        let paths: Vec<_> = o.rows.iter().map(|r| r.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "s3://media-archive/photos/café+1.jpg",
                "s3://media-archive/video/clip.mov"
            ]
        );
        assert_eq!(
            o.rows[0].modified.map(format_rfc3339).as_deref(),
            Some("2025-11-20T14:03:05Z")
        );
        assert_eq!(
            o.rows[0].hash.as_deref(),
            Some("d41d8cd98f00b204e9800998ecf8427e")
        );
        let r = &o.rejected[0];
        assert!(r.source.ends_with("p2.parquet"), "{r}");
        assert_eq!((r.line, r.column), (2, Some("file_size")), "{r}");
        // One Parquet data file read with the preset alone.
        let one = read(
            &root.join("data/p1.parquet"),
            &InventoryOptions::new().with_preset(inventory::Preset::S3Inventory),
        )
        .unwrap();
        assert_eq!(counts(one.stats), (1, 0, 0, 2));
        // A damaged Parquet file is refused by its MD5 before it is read.
        let p2 = root.join("data/p2.parquet");
        let mut bytes = std::fs::read(&p2).unwrap();
        let mid = bytes.len() / 2;
        bytes[mid] ^= 0xff;
        std::fs::write(&p2, &bytes).unwrap();
        let e = read(&path, &InventoryOptions::new())
            .err()
            .expect("refused");
        assert!(e.to_string().contains("p2.parquet: MD5"), "{e}");
    }
}

#[test]
fn an_edited_manifest_is_refused_by_its_checksum_file() {
    let (_dir, root) = copy_report();
    let path = root.join(MANIFEST);
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replace("\"size\" : 307", "\"size\" : 308")).unwrap();
    let e = read(&path, &InventoryOptions::new())
        .err()
        .expect("refused");
    let m = e.to_string();
    assert!(m.contains("manifest.checksum says"), "{m}");
}

#[test]
fn a_data_file_without_rows() {
    let (_dir, root) = copy_report();
    let path = root.join(MANIFEST);
    std::fs::remove_file(path.with_extension("checksum")).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, b"").unwrap();
    let empty = gz.finish().unwrap();
    std::fs::write(root.join("data/empty.csv.gz"), &empty).unwrap();
    let md5: String = Md5::digest(&empty)
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect();
    let text = std::fs::read_to_string(&path).unwrap();
    let text = text.replace(
        "\"files\" : [ {",
        &format!(
            "\"files\" : [ {{\"key\" : \"inventory/{REPORT}/data/empty.csv.gz\", \"size\" : {}, \
             \"MD5checksum\" : \"{md5}\"}}, {{",
            empty.len()
        ),
    );
    std::fs::write(&path, text).unwrap();
    let o = read(&path, &InventoryOptions::new()).unwrap();
    assert_eq!(counts(o.stats), (4, 1, 1, 2), "{:?}", o.rejected);
    assert!(
        o.notes.iter().any(|n| n.contains("in 3 CSV data files")),
        "{:?}",
        o.notes
    );
}
