//! The exports of the tools admins already run (fixtures under `tests/fixtures/`, one per tool,
//! built from each tool's documented or shipped output, with nasty names and broken rows): what
//! is accepted, rejected and skipped as a folder, and the UTC instants read.

use alto_core::inventory::{
    self, CsvInventory, DateOrder, Encoding, InventoryOptions, InventorySource, Item, Preset,
    ReadStats, Zone,
};
use alto_core::time::format_rfc3339;
use alto_core::types::FileEntry;
use std::io::Write;
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

struct Out {
    rows: Vec<FileEntry>,
    rejected: Vec<String>,
    stats: ReadStats,
    notes: Vec<String>,
}

fn drain(mut src: Box<dyn InventorySource>) -> Out {
    let mut notes = src.take_notes();
    let mut rows = Vec::new();
    let mut rejected = Vec::new();
    while let Some(item) = src.next_item().unwrap() {
        match item {
            Item::Row(r) => rows.push(r.to_entry()),
            Item::Rejected(r) => rejected.push(r.to_string()),
        }
    }
    notes.extend(src.take_notes());
    Out {
        rows,
        rejected,
        stats: src.stats(),
        notes,
    }
}

fn read(path: &Path, opts: &InventoryOptions) -> Out {
    drain(inventory::open(path, opts).unwrap_or_else(|e| panic!("{e}")))
}

fn counts(o: &Out) -> (u64, u64, u64, u64) {
    (
        o.stats.accepted,
        o.stats.rejected,
        o.stats.folders,
        o.stats.skipped,
    )
}

fn t(m: Option<i64>) -> String {
    m.map(format_rfc3339).unwrap_or_default()
}

fn write_temp(bytes: &[u8], suffix: &str) -> tempfile::NamedTempFile {
    let mut f = tempfile::Builder::new().suffix(suffix).tempfile().unwrap();
    f.write_all(bytes).unwrap();
    f.flush().unwrap();
    f
}

#[test]
fn powershell_en_gb_detected_day_first() {
    let o = read(&fixture("powershell-en-gb.csv"), &InventoryOptions::new());
    assert_eq!(counts(&o), (3, 1, 1, 0), "{:?}", o.rejected);
    let notes = o.notes.join("\n");
    assert!(notes.contains("#TYPE System.IO.FileInfo"), "{notes}");
    assert!(notes.contains("--preset powershell"), "{notes}");
    assert!(notes.contains("day-first"), "{notes}");
    assert!(notes.contains("read as UTC"), "{notes}");
    let r = &o.rows[0];
    assert_eq!(r.path, "C:\\Data\\report, final.docx");
    assert_eq!(r.size, 12345);
    assert_eq!(t(r.modified), "2025-11-20T14:03:05Z");
    assert_eq!(t(r.accessed), "2025-11-21T09:00:00Z");
    assert_eq!(r.extension.as_deref(), Some("docx"));
    // 03/04 in a day-first column is the 3rd of April, never March 4th.
    let q = &o.rows[1];
    assert_eq!(q.path, "C:\\Data\\naïve \"quoted\" name.txt");
    assert_eq!((q.size, t(q.modified)), (0, "2025-04-03T10:00:00Z".into()));
    assert!(o.rows[2].path.len() > 260);
    assert!(
        o.rejected[0].contains(":7: column file_size: bad size \"abc\""),
        "{:?}",
        o.rejected
    );
    // The same export read as London time: April is BST, November GMT.
    let london = InventoryOptions::new().with_zone(Zone::named("Europe/London").unwrap());
    let o = read(&fixture("powershell-en-gb.csv"), &london);
    assert_eq!(t(o.rows[0].modified), "2025-11-20T14:03:05Z");
    assert_eq!(t(o.rows[1].modified), "2025-04-03T09:00:00Z");
    assert!(!o.notes.join("\n").contains("read as UTC"));
    // Told month-first, the 20th month is refused row by row instead of guessed.
    let mdy = InventoryOptions::new().with_date_order(DateOrder::Mdy);
    let o = read(&fixture("powershell-en-gb.csv"), &mdy);
    assert_eq!(t(o.rows[0].modified), "2025-03-04T10:00:00Z");
    assert_eq!(o.stats.rejected, 2, "{:?}", o.rejected);
}

#[test]
fn powershell_utf16_and_gzip_and_zstd() {
    let text = std::fs::read_to_string(fixture("powershell-en-gb.csv")).unwrap();
    let mut le = vec![0xff, 0xfe];
    le.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    let f = write_temp(&le, ".csv");
    let o = read(f.path(), &InventoryOptions::new());
    assert_eq!(counts(&o), (3, 1, 1, 0));
    assert_eq!(o.rows[1].path, "C:\\Data\\naïve \"quoted\" name.txt");
    // Without the BOM the cause is named, and --encoding reads it.
    let f = write_temp(&le[2..], ".csv");
    let e = inventory::open(f.path(), &InventoryOptions::new()).unwrap_err();
    assert!(
        e.to_string().contains("UTF-16 without a byte-order mark"),
        "{e}"
    );
    assert!(e.to_string().contains("--encoding utf-16le"), "{e}");
    let o = read(
        f.path(),
        &InventoryOptions::new().with_encoding(Encoding::Utf16Le),
    );
    assert_eq!(counts(&o), (3, 1, 1, 0));
    // gzip and zstd, recognised by their first bytes.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(text.as_bytes()).unwrap();
    let f = write_temp(&gz.finish().unwrap(), ".csv.gz");
    let o = read(f.path(), &InventoryOptions::new());
    assert_eq!(counts(&o), (3, 1, 1, 0));
    assert!(o.rejected[0].contains(":7: "), "{:?}", o.rejected);
    let zs = zstd::encode_all(text.as_bytes(), 3).unwrap();
    let f = write_temp(&zs, ".csv.zst");
    assert_eq!(
        counts(&read(f.path(), &InventoryOptions::new())),
        (3, 1, 1, 0)
    );
}

#[test]
fn windows_1252() {
    let bytes = b"file_path;file_size;last_modified\r\nC:\\Donn\xe9es\\caf\xe9 \x80.txt;12;2025-01-02 03:04:05\r\n";
    let f = write_temp(bytes, ".csv");
    let o = read(f.path(), &InventoryOptions::new());
    assert_eq!(counts(&o), (0, 1, 0, 0), "not UTF-8 without --encoding");
    assert!(o.rejected[0].contains("--encoding"), "{:?}", o.rejected);
    let o = read(
        f.path(),
        &InventoryOptions::new().with_encoding(Encoding::Windows1252),
    );
    assert_eq!(o.rows[0].path, "C:\\Données\\café €.txt");
}

#[test]
fn wiztree() {
    let o = read(&fixture("wiztree.csv"), &InventoryOptions::new());
    assert_eq!(counts(&o), (2, 2, 2, 0), "{:?}", o.rejected);
    let notes = o.notes.join("\n");
    assert!(notes.contains("--preset wiztree"), "{notes}");
    assert!(notes.contains("skipped 1 preamble line"), "{notes}");
    assert_eq!(o.rows[0].path, "C:\\Data\\a,b.txt");
    assert_eq!(t(o.rows[0].modified), "2025-11-20T14:03:05Z");
    assert_eq!(o.rows[1].path, "C:\\Data\\日本語 \"clip\".mp4");
    assert_eq!(
        (o.rows[1].size, t(o.rows[1].modified)),
        (0, "2025-01-02T15:04:05Z".into())
    );
    assert!(
        o.rejected[0].contains(":7: column file_size"),
        "{:?}",
        o.rejected
    );
    assert!(
        o.rejected[1].contains(":8: column last_modified"),
        "{:?}",
        o.rejected
    );
}

#[test]
fn treesize_german_semicolons_units_preamble() {
    let o = read(
        &fixture("treesize-de.csv"),
        &InventoryOptions::new().with_preset(Preset::TreeSize),
    );
    assert_eq!(counts(&o), (2, 1, 2, 0), "{:?}", o.rejected);
    assert!(o.notes.join("\n").contains("semicolons"), "{:?}", o.notes);
    let r = &o.rows[0];
    assert_eq!(r.path, "C:\\Daten\\Bericht; v2.xlsx");
    assert_eq!(r.size, 48_230);
    assert_eq!(t(r.modified), "2025-11-20T14:03:00Z");
    assert_eq!(t(r.accessed), "2025-11-21T09:15:00Z");
    assert_eq!(r.owner.as_deref(), Some("CORP\\anna"));
    assert_eq!((o.rows[1].size, o.rows[1].accessed), (0, None));
    assert!(o.rejected[0].contains("31.02.2025"), "{:?}", o.rejected);
}

#[test]
fn everything_efu_filetime_and_attributes() {
    let o = read(&fixture("everything.efu"), &InventoryOptions::new());
    assert_eq!(counts(&o), (2, 1, 2, 0), "{:?}", o.rejected);
    assert_eq!(o.rows[0].path, "C:\\Media\\New \"quoted\" text.txt");
    assert_eq!(t(o.rows[0].modified), "2025-11-20T14:03:05Z");
    assert_eq!(
        (o.rows[1].size, t(o.rows[1].modified)),
        (0, "2023-11-14T22:13:20Z".into())
    );
    assert!(o.rejected[0].contains("\"-5\""), "{:?}", o.rejected);
}

#[test]
fn s3_inventory_through_its_manifest() {
    let manifest = std::fs::read_to_string(fixture("s3-manifest.json")).unwrap();
    let opts = InventoryOptions::new().with_s3_manifest(&manifest).unwrap();
    let text = std::fs::read(fixture("s3-inventory.csv")).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&text).unwrap();
    let f = write_temp(&gz.finish().unwrap(), ".csv.gz");
    let o = read(f.path(), &opts);
    assert_eq!(counts(&o), (2, 1, 1, 2), "{:?}", o.rejected);
    assert_eq!(
        o.rows[0].path,
        "s3://my-bucket/photos/2025/café au lait.jpg"
    );
    assert_eq!(
        (o.rows[0].size, t(o.rows[0].modified)),
        (2048, "2025-11-20T14:03:05Z".into())
    );
    assert_eq!(o.rows[0].extension.as_deref(), Some("jpg"));
    assert_eq!(o.rows[1].path, "s3://my-bucket/empty, with comma.txt");
    assert!(
        o.rejected[0].contains("bad URL-encoded key"),
        "{:?}",
        o.rejected
    );
    // A manifest in another format is refused by name.
    let orc = manifest.replace("\"CSV\"", "\"ORC\"");
    let e = InventoryOptions::new().with_s3_manifest(&orc).unwrap_err();
    assert!(e.to_string().contains("ORC"), "{e}");
}

#[test]
fn azure_inventory() {
    let o = read(&fixture("azure-inventory.csv"), &InventoryOptions::new());
    assert_eq!(counts(&o), (2, 1, 1, 0), "{:?}", o.rejected);
    assert_eq!(o.rows[0].path, "az://media/projects/cut, final \"v2\".mov");
    assert_eq!(o.rows[0].size, 1 << 30);
    assert_eq!(t(o.rows[0].modified), "2025-11-20T14:03:05.123456Z");
    assert_eq!(t(o.rows[0].accessed), "2025-11-21T09:00:00Z");
    assert_eq!(o.rows[1].path, "az://media/projects/empty.txt");
    assert!(o.rejected[0].contains("empty size"), "{:?}", o.rejected);
}

#[test]
fn robinhood_padded() {
    let o = read(&fixture("robinhood.csv"), &InventoryOptions::new());
    assert_eq!(counts(&o), (2, 1, 1, 0), "{:?}", o.rejected);
    assert_eq!(o.rows[0].path, "/lustre/proj/a b.dat");
    assert_eq!(o.rows[0].size, 1536);
    assert_eq!(t(o.rows[0].modified), "2025-11-20T14:03:05Z");
    assert_eq!(t(o.rows[0].accessed), "2025-11-21T09:00:00Z");
    assert_eq!(o.rows[0].owner.as_deref(), Some("alice"));
    assert_eq!((o.rows[1].size, o.rows[1].accessed), (0, None));
}

#[test]
fn find_printf_headerless_tabs() {
    let o = read(
        &fixture("find.tsv"),
        &InventoryOptions::new().with_preset(Preset::Find),
    );
    assert_eq!(counts(&o), (2, 2, 1, 0), "{:?}", o.rejected);
    assert_eq!(o.rows[0].path, "/srv/data/a,b \"c\".txt");
    assert_eq!(t(o.rows[0].modified), "2025-11-20T14:03:05.123456Z");
    assert_eq!(t(o.rows[1].modified), "2023-11-14T22:13:20.500000Z");
    assert!(
        o.rejected[0].contains(":4: expected 4 fields, found 5"),
        "{:?}",
        o.rejected
    );
    assert!(
        !o.rejected[0].contains("unquoted comma"),
        "{:?}",
        o.rejected
    );
    // The same with --columns instead of the preset, and a prefix for relative listings.
    let rel = b"a.txt\t1\t1700000000\nsub/b.txt\t2\t1700000000\n";
    let f = write_temp(rel, ".tsv");
    let opts = InventoryOptions::new()
        .with_headerless(["file_path", "file_size", "last_modified"])
        .with_path_prefix("/mnt/share");
    let o = read(f.path(), &opts);
    let paths: Vec<_> = o.rows.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(paths, ["/mnt/share/a.txt", "/mnt/share/sub/b.txt"]);
}

#[test]
fn errors_name_the_real_cause() {
    // A wrong --delimiter names the one the header uses.
    let f = write_temp(b"file_path;file_size\n/a;1\n", ".csv");
    let e = inventory::open(f.path(), &InventoryOptions::new().with_delimiter(b',')).unwrap_err();
    assert!(
        e.to_string()
            .contains("separated by semicolons, not by commas"),
        "{e}"
    );
    // A headerless file: the first line looks like a row.
    let f = write_temp(b"/a/b,1\n/a/c,2\n", ".csv");
    let e = inventory::open(f.path(), &InventoryOptions::new()).unwrap_err();
    assert!(e.to_string().contains("--columns"), "{e}");
    // Fewer fields is not called a comma in a path.
    let f = write_temp(b"file_path,file_size,owner\n/a,1\n", ".csv");
    let o = read(f.path(), &InventoryOptions::new());
    assert!(
        o.rejected[0].contains("found 2 (a line cut short"),
        "{:?}",
        o.rejected
    );
    // All dates fit both orders: refused, naming --date-order.
    let f = write_temp(
        b"file_path,file_size,last_modified\n/a,1,01/02/2025\n/b,1,03/04/2025 10:00\n",
        ".csv",
    );
    let e = inventory::open(f.path(), &InventoryOptions::new()).unwrap_err();
    assert!(e.to_string().contains("--date-order"), "{e}");
    // Both orders in one column: refused.
    let f = write_temp(
        b"file_path,file_size,last_modified\n/a,1,20/02/2025\n/b,1,02/20/2025\n",
        ".csv",
    );
    let e = inventory::open(f.path(), &InventoryOptions::new()).unwrap_err();
    assert!(e.to_string().contains("mixes date orders"), "{e}");
    // A stream cannot be read twice: an undecided a/b/yyyy date is rejected per row.
    let data: &'static [u8] =
        b"file_path,file_size,last_modified\n/a,1,01/02/2025\n/b,1,2025-01-02T00:00:00Z\n";
    let src = CsvInventory::from_reader(data, "pipe", &InventoryOptions::new()).unwrap();
    let o = drain(Box::new(src));
    assert_eq!(counts(&o), (1, 1, 0, 0));
    assert!(o.rejected[0].contains("ambiguous date"), "{:?}", o.rejected);
}

#[test]
fn lossy_export_warns_once() {
    let f = write_temp(
        b"file_path,file_size\nC:\\Data\\caf?.txt,1\nC:\\Data\\?.txt,2\n\\\\?\\C:\\long\\ok.txt,3\n",
        ".csv",
    );
    let o = read(f.path(), &InventoryOptions::new());
    assert_eq!(o.stats.accepted, 3);
    let lossy: Vec<_> = o.notes.iter().filter(|n| n.contains("lossy")).collect();
    assert_eq!(lossy.len(), 1, "{:?}", o.notes);
    assert!(lossy[0].contains(":2: "), "{lossy:?}");
}

#[test]
fn skip_lines_and_options_are_shareable() {
    fn shareable<T: Clone + Send + Sync + 'static>() {}
    shareable::<InventoryOptions>();
    let opts = InventoryOptions::new()
        .with_preset(Preset::TreeSize)
        .with_skip_lines(3)
        .with_delimiter(b';');
    let o = read(&fixture("treesize-de.csv"), &opts);
    assert_eq!(counts(&o), (2, 1, 2, 0), "{:?}", o.rejected);
    // Rejections still name the file's own lines.
    assert!(o.rejected[0].contains(":9: "), "{:?}", o.rejected);
    // Skipping past the header makes the first row look like one: refused with the cause.
    let e = inventory::open(
        &fixture("treesize-de.csv"),
        &InventoryOptions::new()
            .with_skip_lines(4)
            .with_delimiter(b';'),
    )
    .unwrap_err();
    assert!(e.to_string().contains("not an inventory"), "{e}");
}

#[test]
fn powershell_folder_first_is_explained() {
    // Export-Csv takes its columns from the first object: a DirectoryInfo has no Length.
    let f = write_temp(
        b"#TYPE System.IO.DirectoryInfo\r\n\"PSPath\",\"PSIsContainer\",\"FullName\",\"LastWriteTime\"\r\n\"x\",\"True\",\"C:\\\\Data\",\"20/11/2025 14:03:05\"\r\n",
        ".csv",
    );
    let e = inventory::open(f.path(), &InventoryOptions::new()).unwrap_err();
    let e = e.to_string();
    assert!(e.contains("no \"Length\" column"), "{e}");
    assert!(e.contains("Get-ChildItem -Recurse -File"), "{e}");
}

#[test]
fn endless_first_line_is_refused_in_bounded_memory() {
    let mut bytes = b"file_path,file_size\r".to_vec();
    bytes.extend(std::iter::repeat_n(b"/a/b,1\r".as_slice(), 200_000).flatten());
    let f = write_temp(&bytes, ".csv");
    let e = inventory::open(f.path(), &InventoryOptions::new()).unwrap_err();
    assert!(e.to_string().contains("lines ending in `\\r` alone"), "{e}");
}

#[test]
fn everything_window_csv_export_joins_path_and_name() {
    let f = write_temp(
        "Name,Path,Size,Date Modified,Attributes\r\n\
         \"a, b.txt\",\"C:\\Media\",12,2025-11-20 14:03:05,32\r\n\
         Sub,C:\\Media,,2025-11-20 14:03:05,16\r\n\
         ü.bin,C:\\,0,2025-11-20 14:03:05,32\r\n"
            .as_bytes(),
        ".csv",
    );
    let o = read(f.path(), &InventoryOptions::new());
    assert_eq!(counts(&o), (2, 0, 1, 0), "{:?}", o.rejected);
    assert!(
        o.notes.join("\n").contains("--preset everything"),
        "{:?}",
        o.notes
    );
    assert_eq!(o.rows[0].path, "C:\\Media\\a, b.txt");
    assert_eq!(o.rows[0].extension.as_deref(), Some("txt"));
    assert_eq!(o.rows[1].path, "C:\\ü.bin");
}
