//! Presets: the exports of the tools admins already run, each with its column names, date form,
//! folder marker and quirks, so that `--preset wiztree` is all a user has to say.
//!
//! What each preset expects (from the tools' documentation where it describes the export, else
//! from their exports as shipped; `--map`, `--columns`, `--date-order` and `--timezone` override):
//!
//! | preset | path, size, modified, accessed | folders | dates |
//! |---|---|---|---|
//! | `powershell` | `FullName`, `Length`, `LastWriteTimeUtc` or `LastWriteTime`, `LastAccessTimeUtc` or `LastAccessTime` | `PSIsContainer = True` | the culture's; `*Utc` columns preferred |
//! | `wiztree` | `File Name`, `Size`, `Modified` (banner line first) | `Attributes` bit 0x10, trailing `\` | `yyyy/mm/dd hh:mm:ss` |
//! | `treesize` | `Full Path` or `Path`, `Size` (units allowed), `Last Modified`, `Last Accessed`, `Owner` (preamble first) | `Type = Folder`, trailing `\` | the locale's |
//! | `everything` | `Filename` (EFU) or `Path` + `Name` (CSV export), `Size`, `Date Modified`, `Date Accessed` | `Attributes` bit 0x10 | FILETIME or local |
//! | `s3-inventory` | CSV: headerless, `Bucket`, `Key` (URL-encoded), `Size`, `LastModifiedDate`, `ETag` named by `manifest.json`'s `fileSchema`; Parquet: `bucket`, `key`, `size`, `last_modified_date`, `e_tag`; older versions (`IsLatest`) and delete markers skipped; paths `s3://BUCKET/KEY`; the manifest itself reads every data file it lists (ORC is not read) | key ending in `/` | ISO 8601 (Parquet: a timestamp) |
//! | `azure-inventory` | `Name`, `Content-Length`, `Last-Modified`, `LastAccessTime` | `hdi_isfolder = true` | ISO 8601 |
//! | `robinhood` | `path`, `size`, `last_mod`, `last_access`, `owner` (fields padded) | `type = dir` | `yyyy/mm/dd hh:mm:ss` |
//! | `find` | headerless, tab-separated `%p %s %T@ %A@` | trailing `/` | Unix seconds |

use super::Column;
use crate::error::{Error, Result};
use crate::time::DateOrder;

/// A tool whose export Alto knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Preset {
    /// `Get-ChildItem -Recurse | Export-Csv` (Windows PowerShell 5.1 and PowerShell 7).
    PowerShell,
    /// WizTree's "Export to CSV" of the file list.
    WizTree,
    /// TreeSize's CSV export of the details list.
    TreeSize,
    /// voidtools Everything: EFU file lists (`Filename,Size,Date Modified,Date Created,Attributes`).
    Everything,
    /// Amazon S3 Inventory, CSV (headerless, usually gzip) or Parquet, read through its
    /// `manifest.json` (opening the manifest reads every data file it lists).
    S3Inventory,
    /// Azure Blob Storage inventory, CSV.
    AzureInventory,
    /// Robinhood policy engine: `rbh-report --csv` / `rbh-find` dumps, fields padded.
    Robinhood,
    /// `find DIR -type f -printf '%p\t%s\t%T@\t%A@\n'`.
    Find,
}

/// How a preset marks a folder row, beyond a trailing separator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FolderMarker {
    /// A Windows attributes integer with `FILE_ATTRIBUTE_DIRECTORY` (0x10) set.
    AttributesBit,
    /// The column equals this text (case-insensitively).
    Equals(&'static str),
}

/// What a preset says.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PresetSpec {
    /// Candidate headers per column, the first present wins.
    pub(crate) columns: &'static [(Column, &'static [&'static str])],
    /// The folder column's candidate headers and its marker.
    pub(crate) folder: Option<(&'static [&'static str], FolderMarker)>,
    pub(crate) date_order: Option<DateOrder>,
    /// Fields are padded with spaces.
    pub(crate) trim: bool,
    pub(crate) delimiter: Option<u8>,
    /// Field names of a headerless format.
    pub(crate) headerless: Option<&'static [&'static str]>,
}

impl Preset {
    /// Every preset.
    pub const ALL: [Preset; 8] = [
        Preset::PowerShell,
        Preset::WizTree,
        Preset::TreeSize,
        Preset::Everything,
        Preset::S3Inventory,
        Preset::AzureInventory,
        Preset::Robinhood,
        Preset::Find,
    ];

    /// The CLI name.
    pub fn name(self) -> &'static str {
        match self {
            Preset::PowerShell => "powershell",
            Preset::WizTree => "wiztree",
            Preset::TreeSize => "treesize",
            Preset::Everything => "everything",
            Preset::S3Inventory => "s3-inventory",
            Preset::AzureInventory => "azure-inventory",
            Preset::Robinhood => "robinhood",
            Preset::Find => "find",
        }
    }

    /// Look a name up.
    pub fn parse(s: &str) -> Result<Preset> {
        let k = s.trim().to_ascii_lowercase();
        Preset::ALL
            .into_iter()
            .find(|p| p.name() == k)
            .ok_or_else(|| {
                let names: Vec<_> = Preset::ALL.iter().map(|p| p.name()).collect();
                Error::invalid_input(format!(
                    "unknown preset {s:?}: expected one of {}",
                    names.join(", ")
                ))
            })
    }

    pub(crate) fn spec(self) -> PresetSpec {
        use Column::*;
        let none = PresetSpec {
            columns: &[],
            folder: None,
            date_order: None,
            trim: false,
            delimiter: None,
            headerless: None,
        };
        match self {
            Preset::PowerShell => PresetSpec {
                columns: &[
                    (FilePath, &["FullName"]),
                    (FileSize, &["Length"]),
                    (LastModified, &["LastWriteTimeUtc", "LastWriteTime"]),
                    (LastAccessed, &["LastAccessTimeUtc", "LastAccessTime"]),
                    (FileExtension, &["Extension"]),
                ],
                folder: Some((&["PSIsContainer"], FolderMarker::Equals("True"))),
                ..none
            },
            Preset::WizTree => PresetSpec {
                columns: &[
                    (FilePath, &["File Name"]),
                    (FileSize, &["Size"]),
                    (LastModified, &["Modified"]),
                ],
                folder: Some((&["Attributes"], FolderMarker::AttributesBit)),
                ..none
            },
            Preset::TreeSize => PresetSpec {
                columns: &[
                    (FilePath, &["Full Path", "Path"]),
                    (FileSize, &["Size"]),
                    (LastModified, &["Last Modified", "Last Change"]),
                    (LastAccessed, &["Last Accessed", "Last Access"]),
                    (Owner, &["Owner"]),
                ],
                folder: Some((&["Type"], FolderMarker::Equals("Folder"))),
                ..none
            },
            Preset::Everything => PresetSpec {
                // EFU lists hold the full path in `Filename`; the window's CSV export holds the
                // folder in `Path` and the name in `Name` (joined by the reader).
                columns: &[
                    (FilePath, &["Filename", "Path"]),
                    (FileSize, &["Size"]),
                    (LastModified, &["Date Modified"]),
                    (LastAccessed, &["Date Accessed"]),
                ],
                folder: Some((&["Attributes"], FolderMarker::AttributesBit)),
                ..none
            },
            Preset::S3Inventory => PresetSpec {
                columns: &[
                    (FilePath, &["Key"]),
                    (FileSize, &["Size"]),
                    (LastModified, &["LastModifiedDate"]),
                    (Hash, &["ETag"]),
                ],
                delimiter: Some(b','),
                headerless: Some(&["Bucket", "Key", "Size", "LastModifiedDate"]),
                ..none
            },
            Preset::AzureInventory => PresetSpec {
                columns: &[
                    (FilePath, &["Name"]),
                    (FileSize, &["Content-Length"]),
                    (LastModified, &["Last-Modified"]),
                    (LastAccessed, &["LastAccessTime"]),
                    (Owner, &["Owner"]),
                    (Permissions, &["Permissions"]),
                    (Hash, &["Content-MD5"]),
                ],
                folder: Some((&["hdi_isfolder"], FolderMarker::Equals("true"))),
                ..none
            },
            Preset::Robinhood => PresetSpec {
                columns: &[
                    (FilePath, &["path"]),
                    (FileSize, &["size"]),
                    (LastModified, &["last_mod", "modif", "mtime"]),
                    (LastAccessed, &["last_access", "access", "atime"]),
                    (Owner, &["owner", "user"]),
                ],
                folder: Some((&["type"], FolderMarker::Equals("dir"))),
                trim: true,
                ..none
            },
            Preset::Find => PresetSpec {
                delimiter: Some(b'\t'),
                headerless: Some(&["file_path", "file_size", "last_modified", "last_accessed"]),
                ..none
            },
        }
    }

    /// The preset whose export this header is, when only one fits.
    pub(crate) fn detect(names: &[String], type_line: Option<&str>) -> Option<Preset> {
        let has = |h: &str| names.iter().any(|n| n.trim().eq_ignore_ascii_case(h));
        if type_line.is_some_and(|t| t.contains("System.IO.")) || (has("FullName") && has("PSPath"))
        {
            return Some(Preset::PowerShell);
        }
        if has("File Name") && has("Allocated") && has("Attributes") {
            return Some(Preset::WizTree);
        }
        if has("Full Path") && has("Allocated") {
            return Some(Preset::TreeSize);
        }
        if (has("Filename") || (has("Name") && has("Path"))) && has("Date Modified") {
            return Some(Preset::Everything);
        }
        if has("Name") && has("Content-Length") {
            return Some(Preset::AzureInventory);
        }
        if has("path") && has("type") && names.iter().any(|n| n != n.trim()) {
            return Some(Preset::Robinhood);
        }
        None
    }
}

/// Decode an S3 Inventory key: `%XX` escapes and `+` for a space (form encoding). `None` when an
/// escape is malformed.
pub(crate) fn url_decode(s: &str, out: &mut Vec<u8>) -> Option<()> {
    out.clear();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let hex = b.get(i + 1..i + 3)?;
                let v = u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?;
                out.push(v);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    Some(())
}

/// The column names of an S3 Inventory from its `manifest.json` (`fileSchema`: CSV's list, or the
/// field names of a Parquet schema), and the data files it lists (`files[].key`, relative to the
/// destination bucket). An ORC inventory is refused: ORC is not read.
pub fn s3_manifest(text: &str) -> Result<(Vec<String>, Vec<String>)> {
    let m = super::manifest::S3Manifest::parse(text)?;
    m.check_readable()?;
    Ok((m.columns, m.files.into_iter().map(|f| f.key).collect()))
}
