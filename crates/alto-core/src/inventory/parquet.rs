//! The Parquet inventory reader: the arrow batch reader with a projection of the inventory
//! columns, so only those columns are decoded, one batch at a time.
//!
//! An S3 Inventory's Parquet data files (the `s3-inventory` preset) are read with S3's column
//! names (`bucket`, `key`, `size`, `last_modified_date`, `e_tag`; `--map` wins): paths become
//! `s3://BUCKET/KEY` (keys are not URL-encoded in Parquet), and older versions (`is_latest`
//! false) and delete markers (`is_delete_marker` true) are skipped and counted
//! ([`ReadStats::skipped`]).
//!
//! Columns may be typed (integers for sizes, Parquet timestamps of any unit, dates) or text (parsed
//! exactly like CSV fields). An unsupported column type is refused when the file is opened.
//! Values are held to the same limits as CSV's (see the [module docs](super)): a `UInt64` size
//! above 2^63 - 1 or a timestamp outside the years 1 to 9999 rejects its row.

use super::fields::{check_path, check_size, extension, opt, parse_size};
use super::{
    Column, ColumnMap, InventoryRow, InventorySource, Item, Progress, ReadStats, Rejection,
};
use crate::error::{Error, Result};
use crate::time::{MICROS_PER_SEC, Micros, check_stored};
use crate::time::{TimeRules, parse_time_with};
use arrow_array::cast::AsArray;
use arrow_array::types::*;
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{DataType, TimeUnit};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};
use std::fs::File;
use std::path::Path;

const BATCH_ROWS: usize = 8192;

/// Streams a Parquet inventory.
pub struct ParquetInventory {
    reader: ParquetRecordBatchReader,
    columns: [Option<ArrayRef>; 8],
    names: [Option<String>; 8],
    batch_len: usize,
    next: usize,
    rows_before: u64,
    total_rows: u64,
    source: String,
    stats: ReadStats,
    /// How text timestamps are read (day order of `a/b/yyyy`, zone of zone-less times).
    times: TimeRules,
    /// An S3 Inventory's extra columns, when reading one.
    s3: Option<S3Columns>,
    path_buf: String,
}

/// An S3 Inventory's columns beyond the mapped ones: `bucket`, `is_latest`, `is_delete_marker`.
#[derive(Debug, Default)]
struct S3Columns {
    names: [Option<String>; 3],
    arrays: [Option<ArrayRef>; 3],
    /// `--path-prefix`, in place of `s3://BUCKET`.
    prefix: Option<String>,
}

/// S3 Inventory's Parquet names of the inventory columns.
const S3_NAMES: [(Column, &str); 4] = [
    (Column::FilePath, "key"),
    (Column::FileSize, "size"),
    (Column::LastModified, "last_modified_date"),
    (Column::Hash, "e_tag"),
];

/// S3 Inventory's Parquet names of the bucket and version columns.
const S3_EXTRA: [&str; 3] = ["bucket", "is_latest", "is_delete_marker"];

fn flag(a: &ArrayRef, i: usize) -> Option<bool> {
    if a.is_null(i) {
        return None;
    }
    match a.data_type() {
        DataType::Boolean => Some(a.as_boolean().value(i)),
        _ => text(a, i).map(|t| t.trim().eq_ignore_ascii_case("true")),
    }
}

impl std::fmt::Debug for ParquetInventory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParquetInventory")
            .field("source", &self.source)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

fn is_text(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
}

fn is_int(t: &DataType) -> bool {
    t.is_integer()
}

fn supported(column: Column, t: &DataType) -> bool {
    match column {
        Column::FileSize => is_text(t) || is_int(t),
        Column::LastModified | Column::LastAccessed => {
            is_text(t)
                || matches!(
                    t,
                    DataType::Int32
                        | DataType::Int64
                        | DataType::Timestamp(..)
                        | DataType::Date32
                        | DataType::Date64
                )
        }
        _ => is_text(t),
    }
}

impl ParquetInventory {
    /// Open `path`, check its schema and set up the projection.
    pub fn open(path: &Path, map: &ColumnMap) -> Result<Self> {
        Self::open_as(path, path.display().to_string(), map)
    }

    /// Open `path`, naming it `source` in messages (a decompressed copy of a `.gz` file).
    pub(crate) fn open_as(path: &Path, source: String, map: &ColumnMap) -> Result<Self> {
        Self::open_as_with(path, source, map, TimeRules::default())
    }

    /// Open `path` with the column renames, day order and zone of `options` (text timestamps
    /// only: a Parquet timestamp column is an instant already).
    ///
    /// With the `s3-inventory` preset the file is read as an S3 Inventory data file: S3's column
    /// names (`bucket`, `key`, `size`, `last_modified_date`, `e_tag`), paths `s3://BUCKET/KEY`,
    /// older versions and delete markers skipped.
    pub fn open_with(path: &Path, options: &super::InventoryOptions) -> Result<Self> {
        Self::open_as_options(path, path.display().to_string(), options)
    }

    /// [`open_with`](Self::open_with), naming the file `source` in messages.
    pub(crate) fn open_as_options(
        path: &Path,
        source: String,
        options: &super::InventoryOptions,
    ) -> Result<Self> {
        let times = TimeRules {
            order: options.date_order,
            zone: options.zone.clone(),
        };
        if options.preset != Some(super::Preset::S3Inventory) {
            return Self::open_inner(path, source, &options.columns, times, None);
        }
        let mut map = ColumnMap::new();
        for (column, name) in S3_NAMES {
            map = map.rename(column, name);
        }
        for (column, header) in &options.columns.renames {
            map = map.rename(*column, header.clone());
        }
        let s3 = S3Columns {
            prefix: options.path_prefix.clone(),
            ..S3Columns::default()
        };
        Self::open_inner(path, source, &map, times, Some(s3))
    }

    pub(crate) fn open_as_with(
        path: &Path,
        source: String,
        map: &ColumnMap,
        times: TimeRules,
    ) -> Result<Self> {
        Self::open_inner(path, source, map, times, None)
    }

    fn open_inner(
        path: &Path,
        source: String,
        map: &ColumnMap,
        times: TimeRules,
        mut s3: Option<S3Columns>,
    ) -> Result<Self> {
        let file = File::open(path)
            .map_err(|e| Error::from(e).prefixed(&format!("cannot open {source}")))?;
        let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| {
            Error::invalid_input(format!("{source}: not a readable Parquet file: {e}"))
        })?;
        let schema = builder.schema().clone();
        let resolved = map.resolve(schema.fields().iter().map(|f| f.name().as_str()), &source)?;
        let mut names: [Option<String>; 8] = Default::default();
        let mut roots = Vec::new();
        for ((column, idx), name) in Column::ALL.iter().zip(resolved).zip(names.iter_mut()) {
            if let Some(i) = idx {
                let field = schema.field(i);
                if !supported(*column, field.data_type()) {
                    return Err(Error::invalid_input(format!(
                        "{source}: column {:?} ({}) has unsupported type {}",
                        field.name(),
                        column.name(),
                        field.data_type()
                    )));
                }
                *name = Some(field.name().clone());
                roots.push(i);
            }
        }
        if let Some(s3) = s3.as_mut() {
            for (slot, want) in s3.names.iter_mut().zip(S3_EXTRA) {
                if let Some((i, f)) = schema
                    .fields()
                    .iter()
                    .enumerate()
                    .find(|(_, f)| f.name().eq_ignore_ascii_case(want))
                {
                    *slot = Some(f.name().clone());
                    if !roots.contains(&i) {
                        roots.push(i);
                    }
                }
            }
        }
        let total_rows = builder.metadata().file_metadata().num_rows().max(0) as u64;
        let mask = ProjectionMask::roots(builder.parquet_schema(), roots);
        let reader = builder
            .with_projection(mask)
            .with_batch_size(BATCH_ROWS)
            .build()
            .map_err(|e| Error::invalid_input(format!("{source}: {e}")))?;
        Ok(ParquetInventory {
            reader,
            columns: Default::default(),
            names,
            batch_len: 0,
            next: 0,
            rows_before: 0,
            total_rows,
            source,
            stats: ReadStats::default(),
            times,
            s3,
            path_buf: String::new(),
        })
    }

    fn load(&mut self, batch: RecordBatch) {
        self.rows_before += self.batch_len as u64;
        self.batch_len = batch.num_rows();
        self.next = 0;
        for (slot, name) in self.columns.iter_mut().zip(&self.names) {
            *slot = name
                .as_deref()
                .and_then(|n| batch.column_by_name(n).cloned());
        }
        if let Some(s3) = self.s3.as_mut() {
            for (slot, name) in s3.arrays.iter_mut().zip(&s3.names) {
                *slot = name
                    .as_deref()
                    .and_then(|n| batch.column_by_name(n).cloned());
            }
        }
    }

    /// An S3 Inventory row: whether it is an older version or a delete marker.
    fn not_current(&self, i: usize) -> bool {
        let Some(s3) = &self.s3 else {
            return false;
        };
        let [_, latest, marker] = &s3.arrays;
        latest.as_ref().and_then(|a| flag(a, i)) == Some(false)
            || marker.as_ref().and_then(|a| flag(a, i)) == Some(true)
    }
}

/// An S3 Inventory row's path, `s3://BUCKET/KEY` (or the prefix and the key), into `out`.
fn s3_path(s3: &S3Columns, key: &str, i: usize, out: &mut String) -> Result<(), &'static str> {
    out.clear();
    if let Some(p) = &s3.prefix {
        out.push_str(p);
        if !p.ends_with('/') {
            out.push('/');
        }
    } else {
        let bucket = s3.arrays[0]
            .as_ref()
            .and_then(|a| text(a, i))
            .filter(|b| !b.is_empty())
            .ok_or("an S3 key without a bucket: give --path-prefix s3://BUCKET")?;
        out.push_str("s3://");
        out.push_str(bucket);
        out.push('/');
    }
    out.push_str(key);
    Ok(())
}

fn text(a: &ArrayRef, i: usize) -> Option<&str> {
    if a.is_null(i) {
        return None;
    }
    Some(match a.data_type() {
        DataType::Utf8 => a.as_string::<i32>().value(i),
        DataType::LargeUtf8 => a.as_string::<i64>().value(i),
        DataType::Utf8View => a.as_string_view().value(i),
        _ => return None,
    })
}

fn int(a: &ArrayRef, i: usize) -> Option<i128> {
    Some(match a.data_type() {
        DataType::Int8 => a.as_primitive::<Int8Type>().value(i) as i128,
        DataType::Int16 => a.as_primitive::<Int16Type>().value(i) as i128,
        DataType::Int32 => a.as_primitive::<Int32Type>().value(i) as i128,
        DataType::Int64 => a.as_primitive::<Int64Type>().value(i) as i128,
        DataType::UInt8 => a.as_primitive::<UInt8Type>().value(i) as i128,
        DataType::UInt16 => a.as_primitive::<UInt16Type>().value(i) as i128,
        DataType::UInt32 => a.as_primitive::<UInt32Type>().value(i) as i128,
        DataType::UInt64 => a.as_primitive::<UInt64Type>().value(i) as i128,
        _ => return None,
    })
}

fn size(a: &ArrayRef, i: usize) -> Result<u64, String> {
    if a.is_null(i) {
        return Err("empty size".into());
    }
    if let Some(s) = text(a, i) {
        return parse_size(s);
    }
    let v = int(a, i).unwrap_or(-1);
    let v = u64::try_from(v).map_err(|_| format!("bad size {v}: negative"))?;
    check_size(v)
}

fn time(a: &ArrayRef, i: usize, rules: &TimeRules) -> Result<Option<Micros>, String> {
    if a.is_null(i) {
        return Ok(None);
    }
    if let Some(s) = text(a, i) {
        // `a/b/yyyy` text is never guessed here: without a day order it is rejected per row.
        if s.trim().is_empty() {
            return Ok(None);
        }
        return parse_time_with(s, rules).and_then(|p| check_stored(p.at).map(Some));
    }
    let v = match a.data_type() {
        DataType::Timestamp(unit, _) => match unit {
            TimeUnit::Second => a
                .as_primitive::<TimestampSecondType>()
                .value(i)
                .checked_mul(MICROS_PER_SEC),
            TimeUnit::Millisecond => a
                .as_primitive::<TimestampMillisecondType>()
                .value(i)
                .checked_mul(1000),
            TimeUnit::Microsecond => Some(a.as_primitive::<TimestampMicrosecondType>().value(i)),
            TimeUnit::Nanosecond => Some(
                a.as_primitive::<TimestampNanosecondType>()
                    .value(i)
                    .div_euclid(1000),
            ),
        },
        DataType::Date32 => {
            (a.as_primitive::<Date32Type>().value(i) as i64).checked_mul(86_400 * MICROS_PER_SEC)
        }
        DataType::Date64 => a.as_primitive::<Date64Type>().value(i).checked_mul(1000),
        // Integers are Unix seconds, as in CSV.
        _ => int(a, i).and_then(|s| i64::try_from(s).ok()?.checked_mul(MICROS_PER_SEC)),
    };
    let v = v.ok_or_else(|| "timestamp out of range".to_string())?;
    check_stored(v).map(Some)
}

impl InventorySource for ParquetInventory {
    fn next_item(&mut self) -> Result<Option<Item<'_>>> {
        let i = loop {
            while self.next >= self.batch_len {
                match self.reader.next() {
                    None => return Ok(None),
                    Some(Ok(batch)) => self.load(batch),
                    Some(Err(e)) => {
                        return Err(Error::invalid_input(format!(
                            "{}: cannot read Parquet: {e}",
                            self.source
                        )));
                    }
                }
            }
            let i = self.next;
            self.next += 1;
            let folder = self.columns[Column::FilePath as usize]
                .as_ref()
                .and_then(|a| text(a, i))
                .is_some_and(super::is_folder_path);
            if self.not_current(i) {
                self.stats.skipped += 1;
                continue;
            }
            if folder {
                self.stats.folders += 1;
                continue;
            }
            break i;
        };
        let line = self.rows_before + i as u64 + 1;
        let built = match &self.s3 {
            Some(s3) => {
                let key = self.columns[Column::FilePath as usize]
                    .as_ref()
                    .and_then(|a| text(a, i))
                    .unwrap_or_default();
                Some(s3_path(s3, key, i, &mut self.path_buf))
            }
            None => None,
        };
        let col = |c: Column| self.columns[c as usize].as_ref();
        let parsed = (|| {
            let path = match built {
                Some(Ok(())) => self.path_buf.as_str(),
                Some(Err(r)) => return Err(("file_path", r.to_owned())),
                None => col(Column::FilePath)
                    .and_then(|a| text(a, i))
                    .unwrap_or_default(),
            };
            check_path(path).map_err(|r| ("file_path", r))?;
            let size = size(col(Column::FileSize).expect("required column"), i)
                .map_err(|r| ("file_size", r))?;
            let modified = match col(Column::LastModified) {
                Some(a) => time(a, i, &self.times).map_err(|r| ("last_modified", r))?,
                None => None,
            };
            let accessed = match col(Column::LastAccessed) {
                Some(a) => time(a, i, &self.times).map_err(|r| ("last_accessed", r))?,
                None => None,
            };
            Ok::<_, (&'static str, String)>((path, size, modified, accessed))
        })();
        match parsed {
            Ok((path, size, modified, accessed)) => {
                self.stats.accepted += 1;
                let t = |c: Column| col(c).and_then(|a| text(a, i));
                Ok(Some(Item::Row(InventoryRow {
                    line,
                    path,
                    size,
                    modified,
                    accessed,
                    extension: extension(t(Column::FileExtension), path),
                    permissions: t(Column::Permissions).and_then(opt),
                    owner: t(Column::Owner).and_then(opt),
                    hash: t(Column::Hash).and_then(opt),
                })))
            }
            Err((column, reason)) => {
                self.stats.rejected += 1;
                Ok(Some(Item::Rejected(Rejection {
                    source: self.source.clone(),
                    line,
                    column: Some(column),
                    reason,
                })))
            }
        }
    }

    fn stats(&self) -> ReadStats {
        self.stats
    }

    fn progress(&self) -> Progress {
        Progress {
            done: self.rows_before + self.next as u64,
            total: Some(self.total_rows),
        }
    }

    fn source(&self) -> &str {
        &self.source
    }
}
