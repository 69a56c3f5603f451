//! Parquet inventory reader: typed and text columns, projection, bad rows.

use alto_core::inventory::{self, ColumnMap, InventoryFormat, InventoryOptions, Item};
use alto_core::time::parse_timestamp;
use arrow_array::{
    ArrayRef, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray, UInt64Array,
};
use parquet::arrow::ArrowWriter;
use std::sync::Arc;

fn write(batch: RecordBatch) -> tempfile::NamedTempFile {
    let f = tempfile::Builder::new()
        .suffix(".parquet")
        .tempfile()
        .unwrap();
    let mut w = ArrowWriter::try_new(f.reopen().unwrap(), batch.schema(), None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    f
}

fn read_all(
    path: &std::path::Path,
    map: ColumnMap,
) -> (Vec<(u64, alto_core::FileEntry)>, Vec<inventory::Rejection>) {
    read_with(path, InventoryOptions::new().with_columns(map))
}

fn read_with(
    path: &std::path::Path,
    opts: InventoryOptions,
) -> (Vec<(u64, alto_core::FileEntry)>, Vec<inventory::Rejection>) {
    let mut src = inventory::open(path, &opts).unwrap();
    let (mut rows, mut rej) = (vec![], vec![]);
    while let Some(item) = src.next_item().unwrap() {
        match item {
            Item::Row(r) => rows.push((r.line, r.to_entry())),
            Item::Rejected(r) => rej.push(r),
        }
    }
    (rows, rej)
}

#[test]
fn typed_columns() {
    let t = parse_timestamp("2024-05-01T12:00:00Z").unwrap();
    let batch = RecordBatch::try_from_iter([
        (
            "file_path",
            Arc::new(StringArray::from(vec![r"C:\a\b.MOV", "/x/y"])) as ArrayRef,
        ),
        ("file_size", Arc::new(UInt64Array::from(vec![10u64, 20]))),
        (
            "last_modified",
            Arc::new(TimestampMicrosecondArray::from(vec![Some(t), None])),
        ),
        (
            "last_accessed",
            Arc::new(Int64Array::from(vec![Some(1_700_000_000), None])),
        ),
        ("unrelated", Arc::new(StringArray::from(vec!["skip", "me"]))),
    ])
    .unwrap();
    let f = write(batch);
    let (rows, rej) = read_all(f.path(), ColumnMap::new());
    assert!(rej.is_empty());
    assert_eq!(rows.len(), 2);
    let (line, e) = &rows[0];
    assert_eq!(*line, 1);
    assert_eq!(e.path, r"C:\a\b.MOV");
    assert_eq!(e.size, 10);
    assert_eq!(e.modified, Some(t));
    assert_eq!(
        e.accessed,
        Some(1_700_000_000_000_000),
        "integers are Unix seconds"
    );
    assert_eq!(e.extension.as_deref(), Some("MOV"));
    assert_eq!(rows[1].1.modified, None);
}

#[test]
fn text_columns_mapping_and_bad_rows() {
    let batch = RecordBatch::try_from_iter([
        (
            "FullName",
            Arc::new(StringArray::from(vec![
                Some("/a"),
                Some("/b"),
                None,
                Some("/d"),
            ])) as ArrayRef,
        ),
        (
            "Length",
            Arc::new(StringArray::from(vec!["1", "x", "3", "4"])),
        ),
        (
            "LastWriteTime",
            Arc::new(StringArray::from(vec![
                "1/2/2024 3:04:05 PM",
                "",
                "",
                "nope",
            ])),
        ),
    ])
    .unwrap();
    let f = write(batch);
    let map = ColumnMap::parse("file_path=FullName,file_size=Length,last_modified=LastWriteTime")
        .unwrap();
    // An a/b/yyyy text date is never guessed: without a day order its row is rejected.
    let (rows, rej) = read_all(f.path(), map.clone());
    assert_eq!(rows.len(), 0);
    assert!(rej[0].reason.contains("ambiguous date"), "{:?}", rej[0]);
    let (rows, rej) = read_with(
        f.path(),
        InventoryOptions::new()
            .with_columns(map)
            .with_date_order(inventory::DateOrder::Mdy),
    );
    assert_eq!(rows.len(), 1);
    assert_eq!(
        rows[0].1.modified,
        Some(parse_timestamp("2024-01-02T15:04:05Z").unwrap())
    );
    let got: Vec<_> = rej.iter().map(|r| (r.line, r.column)).collect();
    assert_eq!(
        got,
        [
            (2, Some("file_size")),
            (3, Some("file_path")),
            (4, Some("last_modified"))
        ]
    );
}

#[test]
fn many_batches_keep_row_numbers() {
    let n = 20_000;
    let paths: Vec<String> = (0..n).map(|i| format!("/d/{i}")).collect();
    let sizes: Vec<i64> = (0..n).map(|i| if i == 17_000 { -1 } else { i }).collect();
    let batch = RecordBatch::try_from_iter([
        ("file_path", Arc::new(StringArray::from(paths)) as ArrayRef),
        ("file_size", Arc::new(Int64Array::from(sizes))),
    ])
    .unwrap();
    let f = write(batch);
    let (rows, rej) = read_all(f.path(), ColumnMap::new());
    assert_eq!(rows.len(), n as usize - 1);
    assert_eq!(rej.len(), 1);
    assert_eq!(rej[0].line, 17_001);
    assert!(rej[0].reason.contains("negative"));
    assert_eq!(rows.last().unwrap().0, n as u64);
}

#[test]
fn refused_files() {
    // Missing path column.
    let batch =
        RecordBatch::try_from_iter([("size", Arc::new(Int64Array::from(vec![1])) as ArrayRef)])
            .unwrap();
    let f = write(batch);
    let e = inventory::open(f.path(), &InventoryOptions::default()).unwrap_err();
    assert!(e.to_string().contains("no \"file_path\" column"), "{e}");
    // Wrong type for the path.
    let batch = RecordBatch::try_from_iter([
        ("file_path", Arc::new(Int64Array::from(vec![1])) as ArrayRef),
        ("file_size", Arc::new(Int64Array::from(vec![1]))),
    ])
    .unwrap();
    let f = write(batch);
    let e = inventory::open(f.path(), &InventoryOptions::default()).unwrap_err();
    assert!(e.to_string().contains("unsupported type"), "{e}");
    // Forced Parquet on a CSV file.
    let mut csv = tempfile::NamedTempFile::new().unwrap();
    std::io::Write::write_all(&mut csv, b"file_path,file_size\n/a,1\n").unwrap();
    let e = inventory::open(
        csv.path(),
        &InventoryOptions {
            columns: ColumnMap::new(),
            format: Some(InventoryFormat::Parquet),
            ..Default::default()
        },
    )
    .unwrap_err();
    assert!(e.to_string().contains("not a readable Parquet file"), "{e}");
}

#[test]
fn typed_values_beyond_the_stores_are_rejected() {
    let batch = RecordBatch::try_from_iter([
        (
            "file_path",
            Arc::new(StringArray::from(vec!["/a", "/b", "/c", "/d"])) as ArrayRef,
        ),
        (
            "file_size",
            Arc::new(UInt64Array::from(vec![1u64, 1 << 63, 1, i64::MAX as u64])),
        ),
        (
            "last_modified",
            Arc::new(TimestampMicrosecondArray::from(vec![
                None,
                None,
                Some(alto_core::time::STORED_MAX + 1),
                Some(alto_core::time::STORED_MAX),
            ])),
        ),
    ])
    .unwrap();
    let f = write(batch);
    let (rows, rej) = read_all(f.path(), ColumnMap::new());
    let got: Vec<_> = rej.iter().map(|r| (r.line, r.column)).collect();
    assert_eq!(
        got,
        [(2, Some("file_size")), (3, Some("last_modified"))],
        "{rej:#?}"
    );
    assert_eq!(rows.iter().map(|r| r.0).collect::<Vec<_>>(), [1, 4]);
}
