//! Conversions between Alto's values and Python's: times (microseconds since the epoch, UTC)
//! and timezone-aware `datetime`s, JSON values and Python objects, paths.

use crate::errors::invalid_input;
use alto::time::Micros;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyList};

static EPOCH: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static ONE_MICRO: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

fn epoch(py: Python<'_>) -> PyResult<&Bound<'_, PyAny>> {
    EPOCH
        .get_or_try_init(py, || {
            let dt = py.import("datetime")?;
            let utc = dt.getattr("timezone")?.getattr("utc")?;
            Ok::<_, PyErr>(
                dt.getattr("datetime")?
                    .call1((1970, 1, 1, 0, 0, 0, 0, utc))?
                    .unbind(),
            )
        })
        .map(|e| e.bind(py))
}

fn one_micro(py: Python<'_>) -> PyResult<&Bound<'_, PyAny>> {
    ONE_MICRO
        .get_or_try_init(py, || {
            let td = py.import("datetime")?.getattr("timedelta")?;
            Ok::<_, PyErr>(td.call1((0, 0, 1))?.unbind())
        })
        .map(|e| e.bind(py))
}

/// A UTC `datetime` for microseconds since the epoch.
pub(crate) fn datetime(py: Python<'_>, t: Micros) -> PyResult<Py<PyAny>> {
    let delta = one_micro(py)?.mul(t)?;
    Ok(epoch(py)?.add(delta)?.unbind())
}

/// [`datetime`] of an optional time.
pub(crate) fn opt_datetime(py: Python<'_>, t: Option<Micros>) -> PyResult<Option<Py<PyAny>>> {
    t.map(|t| datetime(py, t)).transpose()
}

/// Microseconds since the epoch of a timezone-aware `datetime`; a naive one is refused (its
/// time zone would be a guess).
pub(crate) fn micros(what: &str, dt: &Bound<'_, PyAny>) -> PyResult<Micros> {
    let py = dt.py();
    let aware = dt
        .getattr("utcoffset")
        .and_then(|f| f.call0())
        .map(|o| !o.is_none())
        .unwrap_or(false);
    if !aware {
        return Err(invalid_input(
            py,
            format!("{what} must be a timezone-aware datetime (e.g. datetime.now(timezone.utc))"),
        ));
    }
    dt.sub(epoch(py)?)?.floor_div(one_micro(py)?)?.extract()
}

/// [`micros`] of an optional argument.
pub(crate) fn opt_micros(what: &str, dt: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Micros>> {
    match dt {
        Some(d) if !d.is_none() => micros(what, d).map(Some),
        _ => Ok(None),
    }
}

/// A length of time: a `datetime.timedelta`, or a number of seconds. Negative or not a number
/// of seconds is an `InvalidInputError`.
pub(crate) fn duration(what: &str, obj: &Bound<'_, PyAny>) -> PyResult<std::time::Duration> {
    let py = obj.py();
    let secs: f64 = if obj.hasattr("total_seconds")? {
        obj.call_method0("total_seconds")?.extract()?
    } else if obj.is_instance_of::<pyo3::types::PyBool>() {
        return Err(invalid_input(
            py,
            format!("{what} must be a timedelta or seconds, not a bool"),
        ));
    } else {
        obj.extract().map_err(|_| {
            invalid_input(
                py,
                format!("{what} must be a timedelta or a number of seconds"),
            )
        })?
    };
    std::time::Duration::try_from_secs_f64(secs).map_err(|_| {
        invalid_input(
            py,
            format!("{what} must be a positive length of time, not {secs} s"),
        )
    })
}

/// A JSON value as plain Python objects (`dict`, `list`, `str`, `int`, `float`, `bool`, `None`).
pub(crate) fn json_to_py(py: Python<'_>, v: &serde_json::Value) -> PyResult<Py<PyAny>> {
    use serde_json::Value;
    Ok(match v {
        Value::Null => py.None(),
        Value::Bool(b) => b.into_pyobject(py)?.to_owned().into_any().unbind(),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => i.into_pyobject(py)?.into_any().unbind(),
            (None, Some(u)) => u.into_pyobject(py)?.into_any().unbind(),
            _ => n
                .as_f64()
                .unwrap_or(f64::NAN)
                .into_pyobject(py)?
                .into_any()
                .unbind(),
        },
        Value::String(s) => s.into_pyobject(py)?.into_any().unbind(),
        Value::Array(a) => {
            let list = PyList::empty(py);
            for x in a {
                list.append(json_to_py(py, x)?)?;
            }
            list.into_any().unbind()
        }
        Value::Object(o) => {
            let dict = PyDict::new(py);
            for (k, x) in o {
                dict.set_item(k, json_to_py(py, x)?)?;
            }
            dict.into_any().unbind()
        }
    })
}

/// Anything serde can write, as plain Python objects.
pub(crate) fn to_py<T: serde::Serialize>(py: Python<'_>, v: &T) -> PyResult<Py<PyAny>> {
    let value = serde_json::to_value(v).map_err(|e| invalid_input(py, e.to_string()))?;
    json_to_py(py, &value)
}

/// A Python object as a JSON value, through the `json` module (so what `json.dumps` refuses is
/// refused with its message).
pub(crate) fn py_to_json(what: &str, obj: &Bound<'_, PyAny>) -> PyResult<serde_json::Value> {
    let py = obj.py();
    let text: String = py
        .import("json")?
        .call_method1("dumps", (obj,))
        .map_err(|e| invalid_input(py, format!("{what} is not JSON-like: {e}")))?
        .extract()?;
    serde_json::from_str(&text).map_err(|e| invalid_input(py, format!("{what}: {e}")))
}

/// A `str` or `os.PathLike` as a path.
pub(crate) fn path(obj: &Bound<'_, PyAny>) -> PyResult<std::path::PathBuf> {
    let py = obj.py();
    let fspath = py.import("os")?.call_method1("fspath", (obj,))?;
    fspath.extract()
}

/// How to read an inventory: `column_map` renames canonical columns (`{"file_path":
/// "FullName"}`).
pub(crate) fn inventory_options(
    py: Python<'_>,
    column_map: Option<std::collections::BTreeMap<String, String>>,
) -> PyResult<alto::inventory::InventoryOptions> {
    use alto::inventory::{Column, ColumnMap};
    let mut columns = ColumnMap::new();
    for (col, header) in column_map.unwrap_or_default() {
        let column = Column::from_name(&col).ok_or_else(|| {
            let names: Vec<_> = Column::ALL.iter().map(|c| c.name()).collect();
            invalid_input(
                py,
                format!(
                    "column_map: unknown column {col:?} (columns: {})",
                    names.join(", ")
                ),
            )
        })?;
        columns = columns.rename(column, header);
    }
    Ok(alto::inventory::InventoryOptions {
        columns,
        ..Default::default()
    })
}
