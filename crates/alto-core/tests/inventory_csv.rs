//! CSV inventory reader: formats real inventories come in, and bad input.

use alto_core::ErrorKind;
use alto_core::inventory::{self, Column, ColumnMap, InventoryOptions, Item};
use alto_core::time::parse_timestamp;
use std::io::Write;

fn write(bytes: &[u8]) -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(bytes).unwrap();
    f.flush().unwrap();
    f
}

struct Read {
    rows: Vec<alto_core::FileEntry>,
    lines: Vec<u64>,
    rejected: Vec<inventory::Rejection>,
}

fn read(bytes: &[u8], map: ColumnMap) -> Read {
    let f = write(bytes);
    let mut src = inventory::open(
        f.path(),
        &InventoryOptions {
            columns: map,
            format: None,
            ..Default::default()
        },
    )
    .unwrap();
    let mut out = Read {
        rows: vec![],
        lines: vec![],
        rejected: vec![],
    };
    while let Some(item) = src.next_item().unwrap() {
        match item {
            Item::Row(r) => {
                out.lines.push(r.line);
                out.rows.push(r.to_entry());
            }
            Item::Rejected(r) => out.rejected.push(r),
        }
    }
    let stats = src.stats();
    assert_eq!(stats.accepted as usize, out.rows.len());
    assert_eq!(stats.rejected as usize, out.rejected.len());
    out
}

const HEADER: &str =
    "file_path,file_size,last_modified,last_accessed,file_extension,permissions,owner,hash\n";

#[test]
fn agents_format() {
    let csv = format!(
        "{HEADER}\"C:\\Data\\docs\\report.pdf\",5242880,2025-01-15T10:30:00Z,2025-10-20T14:22:00Z,.pdf,rw-r--r--,DOMAIN\\user1,sha256:abc\n"
    );
    let r = read(csv.as_bytes(), ColumnMap::new());
    assert!(r.rejected.is_empty());
    let e = &r.rows[0];
    assert_eq!(e.path, r"C:\Data\docs\report.pdf");
    assert_eq!(e.size, 5_242_880);
    assert_eq!(
        e.modified,
        Some(parse_timestamp("2025-01-15T10:30:00Z").unwrap())
    );
    assert_eq!(
        e.accessed,
        Some(parse_timestamp("2025-10-20T14:22:00Z").unwrap())
    );
    assert_eq!(e.extension.as_deref(), Some("pdf"));
    assert_eq!(e.owner.as_deref(), Some(r"DOMAIN\user1"));
    assert_eq!(e.hash.as_deref(), Some("sha256:abc"));
    assert_eq!(r.lines, [2]);
}

#[test]
fn bom_crlf_quotes_and_multiline_paths() {
    let csv = "\u{feff}file_path,file_size\r\n\"a,b\"\"c\",1\r\n\"two\nlines\",2\r\nplain,3\r\n";
    let r = read(csv.as_bytes(), ColumnMap::new());
    assert!(r.rejected.is_empty(), "{:?}", r.rejected);
    let paths: Vec<_> = r.rows.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(paths, ["a,b\"c", "two\nlines", "plain"]);
    assert_eq!(
        r.lines,
        [2, 3, 5],
        "line numbers count the embedded newline"
    );
}

#[test]
fn every_timestamp_form() {
    let csv = "file_path,file_size,last_modified\n\
               a,1,2025-01-15T10:30:00Z\n\
               b,1,1736937000\n\
               c,1,2025-01-15 10:30:00\n\
               d,1,1/15/2025 10:30:00 AM\n\
               e,1,2025-01-15T12:30:00+02:00\n\
               f,1,\n";
    let r = read(csv.as_bytes(), ColumnMap::new());
    assert!(r.rejected.is_empty(), "{:?}", r.rejected);
    let want = parse_timestamp("2025-01-15T10:30:00Z").unwrap();
    for e in &r.rows[..5] {
        assert_eq!(e.modified, Some(want), "{}", e.path);
    }
    assert_eq!(r.rows[5].modified, None, "empty timestamp is unknown");
}

#[test]
fn header_mapping_and_derived_extension() {
    let csv =
        "FullName,Length,LastAccessTime\nC:\\x\\Movie.MOV,10,2025-01-01 00:00:00\n/y/noext,5,\n";
    let map = ColumnMap::parse("file_path=FullName, file_size=Length,last_accessed=LastAccessTime")
        .unwrap();
    let r = read(csv.as_bytes(), map);
    assert!(r.rejected.is_empty());
    assert_eq!(r.rows[0].extension.as_deref(), Some("MOV"));
    assert!(r.rows[0].accessed.is_some());
    assert_eq!(r.rows[1].extension, None);
    // Headers match case-insensitively without a map.
    let r = read(b"File_Path,FILE_SIZE\n/a.txt,1\n", ColumnMap::new());
    assert_eq!(r.rows[0].extension.as_deref(), Some("txt"));
}

#[test]
fn bad_rows_are_reported_and_skipped() {
    let csv = format!(
        "{HEADER}\
         /ok1,1,,,,,,\n\
         /bad-size,12x,,,,,,\n\
         /bad-time,1,yesterday,,,,,\n\
         /neg,-5,,,,,,\n\
         /too,many,fields,1,,,,,,\n\
         ,1,,,,,,\n\
         /bad-atime,1,,2025-02-30 00:00:00,,,,\n\
         /ok2,2,,,,,,\n"
    );
    let r = read(csv.as_bytes(), ColumnMap::new());
    let paths: Vec<_> = r.rows.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(paths, ["/ok1", "/ok2"], "good rows land");
    let got: Vec<_> = r.rejected.iter().map(|j| (j.line, j.column)).collect();
    assert_eq!(
        got,
        [
            (3, Some("file_size")),
            (4, Some("last_modified")),
            (5, Some("file_size")),
            (6, None),
            (7, Some("file_path")),
            (8, Some("last_accessed")),
        ]
    );
    let msg = r.rejected[0].to_string();
    assert!(
        msg.contains(":3: column file_size: bad size \"12x\": expected a number of bytes"),
        "{msg}"
    );
    assert!(
        r.rejected[3].reason.contains("expected 8 fields, found 10"),
        "{}",
        r.rejected[3].reason
    );
}

#[test]
fn invalid_utf8_path_is_rejected_with_its_line() {
    let mut csv = b"file_path,file_size\n/good,1\n/bad-\xff-name,2\n".to_vec();
    csv.extend_from_slice(b"/good2,3\n");
    let r = read(&csv, ColumnMap::new());
    assert_eq!(r.rows.len(), 2);
    assert_eq!(r.rejected.len(), 1);
    assert_eq!(
        (r.rejected[0].line, r.rejected[0].column),
        (3, Some("file_path"))
    );
    assert!(r.rejected[0].reason.contains("UTF-8"));
}

#[test]
fn not_an_inventory() {
    let cases: [(&[u8], &str); 4] = [
        (b"name,length\nx,1\n", "no \"file_path\" column"),
        (b"\x00\x01\x02binary\x00stuff", "binary data"),
        (b"", "empty"),
        (b"file_path,owner\n/x,me\n", "no \"file_size\" column"),
    ];
    for (bytes, want) in cases {
        let f = write(bytes);
        let e = inventory::open(f.path(), &InventoryOptions::default()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
        assert!(e.to_string().contains(want), "{e} should say {want}");
        assert!(
            e.to_string().contains(&f.path().display().to_string()),
            "{e} should name the file"
        );
    }
    let e = inventory::open(
        "/nonexistent/scan.csv".as_ref(),
        &InventoryOptions::default(),
    )
    .unwrap_err();
    assert!(
        e.to_string().contains("cannot open /nonexistent/scan.csv"),
        "{e}"
    );
    // A mapped column that is absent names the mapping.
    let f = write(b"file_path,file_size\n/x,1\n");
    let opts = InventoryOptions {
        columns: ColumnMap::new().rename(Column::FilePath, "FullName"),
        format: None,
        ..Default::default()
    };
    let e = inventory::open(f.path(), &opts).unwrap_err();
    assert!(e.to_string().contains("no \"FullName\" column"), "{e}");
}

#[test]
fn bad_mapping_spec() {
    let e = ColumnMap::parse("file_path").unwrap_err();
    assert!(e.to_string().contains("expected COLUMN=HEADER"));
    let e = ColumnMap::parse("path=FullName").unwrap_err();
    assert!(e.to_string().contains("unknown column \"path\""), "{e}");
}

#[test]
fn generated_inventory_reads_clean() {
    // The shared generator's exact line format (quoted Windows path, RFC 3339, DOMAIN\user).
    let mut csv = String::from(HEADER);
    for i in 0..1000 {
        csv.push_str(&format!(
            "\"C:\\Data\\dept{}\\proj{}\\y2019\\file_{i:08}.pdf\",{},2020-01-01T00:00:00Z,2021-01-01T00:00:00Z,.pdf,rw-r--r--,DOMAIN\\user{},sha256:{i:064x}\n",
            i % 37, i % 211, i * 7, i % 97
        ));
    }
    let r = read(csv.as_bytes(), ColumnMap::new());
    assert_eq!((r.rows.len(), r.rejected.len()), (1000, 0));
    assert_eq!(r.rows[999].size, 6993);
}

#[test]
fn limits_reject_one_row_each_with_line_and_column() {
    let long = format!("/l/{}", "x".repeat(inventory::MAX_PATH_BYTES));
    let mut csv = b"file_path,file_size,last_modified,last_accessed\n".to_vec();
    csv.extend_from_slice(b"/a/nul\x00byte,1,,\n"); // 2: NUL, near the top of the file
    csv.extend_from_slice(b"/a/max,9223372036854775807,,\n"); // 3: the largest size, kept
    csv.extend_from_slice(b"/a/big,9223372036854775808,,\n"); // 4
    csv.extend_from_slice(b"/a/late,1,9999-12-31T23:59:59Z,\n"); // 5: kept
    csv.extend_from_slice(b"/a/later,1,9999-12-31T23:59:59-01:00,\n"); // 6
    csv.extend_from_slice(b"/a/early,1,,-62135596801\n"); // 7
    csv.extend_from_slice(format!("\"{long}\",1,,\n").as_bytes()); // 8
    csv.extend_from_slice(b"\"/a/new\nline\ttab\",1,,\n"); // 9-10: kept byte-exact
    let r = read(&csv, ColumnMap::new());
    let got: Vec<_> = r
        .rejected
        .iter()
        .map(|x| (x.line, x.column.unwrap_or_default()))
        .collect();
    assert_eq!(
        got,
        [
            (2, "file_path"),
            (4, "file_size"),
            (6, "last_modified"),
            (7, "last_accessed"),
            (8, "file_path"),
        ],
        "{:#?}",
        r.rejected
    );
    assert!(r.rejected[0].reason.contains("NUL"));
    assert!(r.rejected[1].reason.contains("2^63 - 1"));
    assert!(r.rejected[2].reason.contains("years 1 to 9999"));
    assert!(r.rejected[4].reason.contains("limit is 32767 bytes"));
    let paths: Vec<_> = r.rows.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(paths, ["/a/max", "/a/late", "/a/new\nline\ttab"]);
    assert_eq!(r.rows[0].size, i64::MAX as u64);
}
