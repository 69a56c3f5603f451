//! `RuleSet.evaluate_arrow`: Arrow data in through the Arrow PyCapsule interface
//! (`__arrow_c_stream__`, so a `pyarrow.Table`, a `RecordBatchReader`, pandas, polars and DuckDB
//! results), rule names out as one Arrow `dictionary<int32, utf8>` array through
//! `__arrow_c_array__`, which `pyarrow.array` imports. No Python object per row: the stream is
//! read and evaluated batch by batch with the GIL released.
//!
//! Columns are read by name: `file_path` (text), `file_size` (an integer), `last_modified` and
//! `last_accessed` (optional; Arrow timestamps of any unit, with or without a time zone, a
//! zone-less one being UTC, dates, or text in the forms the inventories accept).

use crate::errors::invalid_input;
use alto::rules::FileFacts;
use alto::time::{MICROS_PER_SEC, Micros, parse_timestamp};
use arrow_array::cast::AsArray;
use arrow_array::ffi::to_ffi;
use arrow_array::ffi_stream::{FFI_ArrowArrayStream, RecordBatchStreamReader};
use arrow_array::types::*;
use arrow_array::{
    Array, ArrayRef, DictionaryArray, GenericStringArray, Int32Array, RecordBatch,
    RecordBatchReader, StringArray, StringViewArray,
};
use arrow_schema::{DataType, Schema, TimeUnit};
use pyo3::prelude::*;
use pyo3::types::PyCapsule;
use std::sync::{Arc, Mutex};

const PATH: &str = "file_path";
const SIZE: &str = "file_size";
const MODIFIED: &str = "last_modified";
const ACCESSED: &str = "last_accessed";

/// The result of [`evaluate`] before Python sees it: an Arrow array that `pyarrow.array`
/// imports through `__arrow_c_array__` (the Arrow PyCapsule interface). Not in the module: users
/// get the `pyarrow.Array`.
#[pyclass(module = "alto", frozen)]
pub(crate) struct ArrowArray {
    data: arrow_array::ArrayRef,
}

#[pymethods]
impl ArrowArray {
    /// The array as a pair of PyCapsules, `(arrow_schema, arrow_array)`. A requested schema is
    /// ignored (the protocol allows it): the array is always `dictionary<int32, utf8>`.
    #[pyo3(signature = (requested_schema=None))]
    fn __arrow_c_array__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<(Bound<'py, PyCapsule>, Bound<'py, PyCapsule>)> {
        let _ = requested_schema;
        let (array, schema) =
            to_ffi(&self.data.to_data()).map_err(|e| invalid_input(py, e.to_string()))?;
        // A consumer moves each struct out and marks it released; a capsule dropped unconsumed
        // releases it (the structs' Drop).
        let schema = PyCapsule::new_with_value(py, schema, c"arrow_schema")?;
        let array = PyCapsule::new_with_value(py, array, c"arrow_array")?;
        Ok((schema, array))
    }
}

/// Take the Arrow C stream out of `data.__arrow_c_stream__()`.
#[allow(unsafe_code)]
fn import_stream(py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<RecordBatchStreamReader> {
    if !data.hasattr("__arrow_c_stream__")? {
        return Err(invalid_input(
            py,
            format!(
                "evaluate_arrow takes a pyarrow.Table, a pyarrow.RecordBatchReader or an object \
                 with __arrow_c_stream__ (pandas, polars, DuckDB results), not {}",
                data.get_type().name()?
            ),
        ));
    }
    let capsule = data.call_method0("__arrow_c_stream__")?;
    let capsule = capsule.cast::<PyCapsule>().map_err(|_| {
        invalid_input(
            py,
            "__arrow_c_stream__() did not return a PyCapsule".to_string(),
        )
    })?;
    // Checks the name ("arrow_array_stream", else a ValueError) and that the pointer is not null.
    let ptr = capsule.pointer_checked(Some(c"arrow_array_stream"))?;
    // SAFETY: a capsule named "arrow_array_stream" holds a valid `struct ArrowArrayStream` (the
    // Arrow PyCapsule interface), which `FFI_ArrowArrayStream` lays out (`repr(C)`). `from_raw`
    // moves the stream out and leaves a released one behind, so the capsule's destructor (which
    // releases a stream not yet released) does not release ours; the capsule is alive here.
    let stream = unsafe { FFI_ArrowArrayStream::from_raw(ptr.as_ptr().cast()) };
    RecordBatchStreamReader::try_new(stream)
        .map_err(|e| invalid_input(py, format!("cannot read the Arrow stream: {e}")))
}

/// The rule name of every row of `data` (null where no rule matches), as a `pyarrow.Array`.
pub(crate) fn evaluate<'py>(
    py: Python<'py>,
    rules: &alto::RuleSet,
    data: &Bound<'py, PyAny>,
    now: Micros,
    threads: Option<usize>,
) -> PyResult<Bound<'py, PyAny>> {
    let threads = match threads {
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
        Some(0) => return Err(invalid_input(py, "threads must be at least 1".to_string())),
        Some(n) => n,
    };
    // Before the stream is taken (a reader is read once): pyarrow makes the result.
    let pyarrow = py.import("pyarrow").map_err(|e| {
        let err = pyo3::exceptions::PyImportError::new_err(
            "RuleSet.evaluate_arrow needs pyarrow (pip install 'alto[arrow]')",
        );
        err.set_cause(py, Some(e));
        err
    })?;
    let reader = import_stream(py, data)?;
    let result = py
        .detach(|| evaluate_stream(rules, reader, now, threads))
        .map_err(|e| invalid_input(py, e))?;
    let array = ArrowArray {
        data: Arc::new(result),
    };
    pyarrow.call_method1("array", (array,))
}

/// Rows a unit of work has at most: a batch is cut into slices of this many rows (zero-copy), so
/// a table of one big chunk is shared between the threads too.
const UNIT_ROWS: usize = 32 * 1024;

/// An error at a row of the stream: the row, the message.
type RowError = (usize, String);

/// Units of work done by a thread: each one's start row and keys (-1 for no rule).
type Done = Vec<(usize, Vec<i32>)>;

/// The stream, handed out in units of work (start row, rows) to the threads, in order.
struct Units {
    reader: RecordBatchStreamReader,
    /// The batch being cut, and where its next unit starts in it.
    batch: Option<(RecordBatch, usize)>,
    /// The stream's row of the next unit.
    row: usize,
    /// Set on the first error: no more units are handed out.
    stop: bool,
}

impl Units {
    fn next(&mut self) -> Option<Result<(usize, RecordBatch), RowError>> {
        if self.stop {
            return None;
        }
        loop {
            if let Some((batch, at)) = &mut self.batch {
                if *at < batch.num_rows() {
                    let len = UNIT_ROWS.min(batch.num_rows() - *at);
                    let unit = batch.slice(*at, len);
                    *at += len;
                    let start = self.row;
                    self.row += len;
                    return Some(Ok((start, unit)));
                }
            }
            match self.reader.next()? {
                Ok(batch) => self.batch = Some((batch, 0)),
                Err(e) => {
                    self.stop = true;
                    let msg = format!("cannot read the Arrow stream after row {}: {e}", self.row);
                    return Some(Err((self.row, msg)));
                }
            }
        }
    }
}

/// Every batch of `reader`, evaluated on `threads` threads, as one dictionary array (keys: rule
/// indexes; values: the rules' names, the disabled ones included). The error of the first bad
/// row, in stream order, whatever thread met it first.
fn evaluate_stream(
    rules: &alto::RuleSet,
    reader: RecordBatchStreamReader,
    now: Micros,
    threads: usize,
) -> Result<DictionaryArray<Int32Type>, String> {
    let schema = reader.schema();
    let columns = Columns::find(&schema)?;
    let units = Mutex::new(Units {
        reader,
        batch: None,
        row: 0,
        stop: false,
    });
    let next = || {
        let mut u = units.lock().unwrap_or_else(|e| e.into_inner());
        u.next()
    };
    let stop = || units.lock().unwrap_or_else(|e| e.into_inner()).stop = true;
    // Each thread: the units it did, as (start row, keys with -1 for no rule), or the first
    // error it met (after finishing the unit it was in, so an earlier bad row is not missed).
    let work = || -> Result<Done, RowError> {
        let mut scratch = rules.scratch();
        let mut done = Vec::new();
        while let Some(unit) = next() {
            let (start, batch) = unit?;
            let result = (|| {
                let b = Batch::new(&columns, &batch).map_err(|e| (start, e))?;
                let mut keys = Vec::with_capacity(batch.num_rows());
                for i in 0..batch.num_rows() {
                    let facts = b.facts(i, start + i).map_err(|e| (start + i, e))?;
                    let hit = rules.evaluate(&facts, now, &mut scratch);
                    keys.push(hit.map_or(-1, |r| r as i32));
                }
                Ok(keys)
            })();
            match result {
                Ok(keys) => done.push((start, keys)),
                Err(e) => {
                    stop();
                    return Err(e);
                }
            }
        }
        Ok(done)
    };
    let results: Vec<_> = if threads <= 1 {
        vec![work()]
    } else {
        std::thread::scope(|s| {
            let handles: Vec<_> = (1..threads).map(|_| s.spawn(work)).collect();
            let mut results = vec![work()];
            for h in handles {
                results.push(h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)));
            }
            results
        })
    };
    let mut done = Vec::new();
    let mut first_error: Option<RowError> = None;
    for r in results {
        match r {
            Ok(units) => done.extend(units),
            Err(e) => {
                if first_error.as_ref().is_none_or(|f| e.0 < f.0) {
                    first_error = Some(e);
                }
            }
        }
    }
    if let Some((_, msg)) = first_error {
        return Err(msg);
    }
    done.sort_unstable_by_key(|(start, _)| *start);
    let mut keys: Vec<i32> = Vec::with_capacity(done.iter().map(|(_, k)| k.len()).sum());
    for (_, k) in &done {
        keys.extend_from_slice(k);
    }
    let mut valid = arrow_array::builder::BooleanBufferBuilder::new(keys.len());
    for k in &mut keys {
        valid.append(*k >= 0);
        *k = (*k).max(0);
    }
    let keys = Int32Array::new(keys.into(), Some(valid.finish().into()));
    let names = StringArray::from_iter_values(rules.rules().iter().map(|r| r.name.as_str()));
    DictionaryArray::try_new(keys, Arc::new(names)).map_err(|e| e.to_string())
}

/// Where the columns are in the stream's schema.
struct Columns {
    path: usize,
    size: usize,
    modified: Option<usize>,
    accessed: Option<usize>,
}

impl Columns {
    fn find(schema: &Schema) -> Result<Self, String> {
        let index = |name: &str| schema.index_of(name).ok();
        let required = |name: &str| {
            index(name).ok_or_else(|| {
                let have: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
                format!(
                    "the Arrow data has no {name} column (it has: {})",
                    have.join(", ")
                )
            })
        };
        let c = Columns {
            path: required(PATH)?,
            size: required(SIZE)?,
            modified: index(MODIFIED),
            accessed: index(ACCESSED),
        };
        // The types are checked before any row, so an empty stream is checked too.
        let ty = |i: usize| schema.field(i).data_type();
        check(PATH, ty(c.path), is_text)?;
        check(SIZE, ty(c.size), is_int)?;
        for (name, i) in [(MODIFIED, c.modified), (ACCESSED, c.accessed)] {
            if let Some(i) = i {
                check(name, ty(i), is_time)?;
            }
        }
        Ok(c)
    }
}

fn check(name: &str, ty: &DataType, ok: fn(&DataType) -> bool) -> Result<(), String> {
    if ok(ty) {
        return Ok(());
    }
    let want = match name {
        PATH => "text (utf8, large_utf8, utf8_view or a dictionary of them)",
        SIZE => "an integer",
        _ => "a timestamp (any unit, with or without a time zone), a date or text",
    };
    Err(format!("column {name} is {ty}, expected {want}"))
}

fn is_text(ty: &DataType) -> bool {
    match ty {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => true,
        DataType::Dictionary(k, v) => k.is_dictionary_key_type() && is_text(v),
        _ => false,
    }
}

fn is_int(ty: &DataType) -> bool {
    ty.is_integer()
}

fn is_time(ty: &DataType) -> bool {
    matches!(
        ty,
        DataType::Timestamp(..) | DataType::Date32 | DataType::Date64
    ) || is_text(ty)
}

/// One batch's columns, ready to read row by row.
struct Batch<'a> {
    path: Text<'a>,
    size: Size<'a>,
    modified: Option<Time<'a>>,
    accessed: Option<Time<'a>>,
}

impl<'a> Batch<'a> {
    fn new(c: &Columns, batch: &'a RecordBatch) -> Result<Self, String> {
        let col = |i: usize| batch.column(i);
        Ok(Batch {
            path: Text::new(col(c.path)).ok_or_else(|| format!("column {PATH} is not text"))?,
            size: Size::new(col(c.size))
                .ok_or_else(|| format!("column {SIZE} is not an integer"))?,
            modified: c
                .modified
                .map(|i| Time::new(MODIFIED, col(i)))
                .transpose()?,
            accessed: c
                .accessed
                .map(|i| Time::new(ACCESSED, col(i)))
                .transpose()?,
        })
    }

    /// The facts of row `i` of the batch, `row` of the stream (for messages).
    fn facts(&self, i: usize, row: usize) -> Result<FileFacts<'a>, String> {
        let path = self
            .path
            .get(i)
            .ok_or_else(|| format!("row {row}: {PATH} is null"))?;
        let size = self.size.get(i, row)?;
        let time = |t: &Option<Time<'a>>, name: &str| match t {
            None => Ok(None),
            Some(t) => t.get(i).map_err(|e| format!("row {row}: {name}: {e}")),
        };
        Ok(FileFacts {
            path,
            size,
            modified: time(&self.modified, MODIFIED)?,
            accessed: time(&self.accessed, ACCESSED)?,
        })
    }
}

/// A text column.
enum Text<'a> {
    Utf8(&'a GenericStringArray<i32>),
    Large(&'a GenericStringArray<i64>),
    View(&'a StringViewArray),
    /// A dictionary: the keys (as indexes), their validity and the values.
    Dict {
        keys: Vec<usize>,
        key_array: &'a dyn Array,
        values: Box<Text<'a>>,
    },
}

impl<'a> Text<'a> {
    fn new(a: &'a ArrayRef) -> Option<Self> {
        Self::of(a.as_ref())
    }

    fn of(a: &'a dyn Array) -> Option<Self> {
        Some(match a.data_type() {
            DataType::Utf8 => Text::Utf8(a.as_string::<i32>()),
            DataType::LargeUtf8 => Text::Large(a.as_string::<i64>()),
            DataType::Utf8View => Text::View(a.as_string_view()),
            DataType::Dictionary(..) => {
                let d = a.as_any_dictionary_opt()?;
                Text::Dict {
                    keys: d.normalized_keys(),
                    key_array: d.keys(),
                    values: Box::new(Text::new(d.values())?),
                }
            }
            _ => return None,
        })
    }

    fn get(&self, i: usize) -> Option<&'a str> {
        match self {
            Text::Utf8(a) => (!a.is_null(i)).then(|| a.value(i)),
            Text::Large(a) => (!a.is_null(i)).then(|| a.value(i)),
            Text::View(a) => (!a.is_null(i)).then(|| a.value(i)),
            Text::Dict {
                keys,
                key_array,
                values,
            } => {
                if key_array.is_null(i) {
                    None
                } else {
                    values.get(keys[i])
                }
            }
        }
    }
}

/// An integer column, read as `i128` so every integer type fits.
struct Size<'a> {
    get: Box<dyn Fn(usize) -> Option<i128> + 'a>,
}

impl<'a> Size<'a> {
    fn new(a: &'a ArrayRef) -> Option<Self> {
        fn of<'a, T>(a: &'a ArrayRef) -> Option<Size<'a>>
        where
            T: arrow_array::ArrowPrimitiveType,
            T::Native: Into<i128>,
        {
            let a = a.as_primitive_opt::<T>()?;
            Some(Size {
                get: Box::new(move |i| (!a.is_null(i)).then(|| a.value(i).into())),
            })
        }
        match a.data_type() {
            DataType::Int8 => of::<Int8Type>(a),
            DataType::Int16 => of::<Int16Type>(a),
            DataType::Int32 => of::<Int32Type>(a),
            DataType::Int64 => of::<Int64Type>(a),
            DataType::UInt8 => of::<UInt8Type>(a),
            DataType::UInt16 => of::<UInt16Type>(a),
            DataType::UInt32 => of::<UInt32Type>(a),
            DataType::UInt64 => of::<UInt64Type>(a),
            _ => None,
        }
    }

    fn get(&self, i: usize, row: usize) -> Result<u64, String> {
        let v = (self.get)(i).ok_or_else(|| format!("row {row}: {SIZE} is null"))?;
        u64::try_from(v).map_err(|_| format!("row {row}: {SIZE} is negative ({v})"))
    }
}

/// A time column.
enum Time<'a> {
    /// Integers times `mul`, divided (floor) by `div`, are microseconds.
    Ints {
        a: &'a dyn Array,
        values: &'a [i64],
        mul: i64,
        div: i64,
    },
    /// Days since the epoch.
    Days(&'a arrow_array::Date32Array),
    Text(Text<'a>),
}

impl<'a> Time<'a> {
    fn new(name: &str, a: &'a ArrayRef) -> Result<Self, String> {
        let ints = |values: &'a [i64], mul: i64, div: i64| Time::Ints {
            a: a.as_ref(),
            values,
            mul,
            div,
        };
        Ok(match a.data_type() {
            DataType::Timestamp(TimeUnit::Second, _) => ints(
                a.as_primitive::<TimestampSecondType>().values(),
                MICROS_PER_SEC,
                1,
            ),
            DataType::Timestamp(TimeUnit::Millisecond, _) => ints(
                a.as_primitive::<TimestampMillisecondType>().values(),
                1000,
                1,
            ),
            DataType::Timestamp(TimeUnit::Microsecond, _) => {
                ints(a.as_primitive::<TimestampMicrosecondType>().values(), 1, 1)
            }
            DataType::Timestamp(TimeUnit::Nanosecond, _) => ints(
                a.as_primitive::<TimestampNanosecondType>().values(),
                1,
                1000,
            ),
            DataType::Date64 => ints(a.as_primitive::<Date64Type>().values(), 1000, 1),
            DataType::Date32 => Time::Days(a.as_primitive::<Date32Type>()),
            _ => Time::Text(Text::new(a).ok_or_else(|| format!("column {name} is not a time"))?),
        })
    }

    fn get(&self, i: usize) -> Result<Option<Micros>, String> {
        match self {
            Time::Ints {
                a,
                values,
                mul,
                div,
            } => {
                if a.is_null(i) {
                    return Ok(None);
                }
                let v = values[i]
                    .checked_mul(*mul)
                    .ok_or_else(|| format!("time {} out of range", values[i]))?;
                Ok(Some(v.div_euclid(*div)))
            }
            Time::Days(a) => {
                Ok((!a.is_null(i)).then(|| i64::from(a.value(i)) * 86_400 * MICROS_PER_SEC))
            }
            Time::Text(t) => match t.get(i) {
                None => Ok(None),
                Some(s) if s.trim().is_empty() => Ok(None),
                Some(s) => parse_timestamp(s).map(Some),
            },
        }
    }
}
