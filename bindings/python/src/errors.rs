//! The one place Rust errors become Python exceptions.
//!
//! `alto.AltoError` is the base; each `alto::ErrorKind` has a subclass named `<Kind>Error`
//! (`IoError` is also an `OSError`). Every instance carries `.kind` (the kind's stable name) and
//! `.retryable`; an `InvalidRuleError` also `.rule` and `.field`. The message is Rust's; a
//! Rust cause is chained as `__cause__`.

use alto::ErrorKind;
use pyo3::exceptions::{PyException, PyOSError, PyRuntimeError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyTuple, PyType};

/// Every kind with a class, and the class's docstring.
const KINDS: &[(ErrorKind, &str)] = &[
    (
        ErrorKind::NotFound,
        "The tenant, share, file, object or job does not exist.",
    ),
    (
        ErrorKind::AlreadyExists,
        "A thing with this identity already exists.",
    ),
    (
        ErrorKind::Conflict,
        "The row changed since it was read; retry after re-reading.",
    ),
    (
        ErrorKind::InvalidRule,
        "The rule set is invalid (`.rule` and `.field` say where).",
    ),
    (
        ErrorKind::InvalidTransition,
        "A lifecycle transition that the state machine refuses.",
    ),
    (
        ErrorKind::InvalidInput,
        "Bad input: not an inventory, a bad argument, a malformed value.",
    ),
    (
        ErrorKind::PermissionDenied,
        "The store's credentials may not do this.",
    ),
    (
        ErrorKind::Unsupported,
        "The backend or driver does not support this operation.",
    ),
    (
        ErrorKind::Backend,
        "The storage backend failed (connection, I/O, constraint).",
    ),
    (
        ErrorKind::Io,
        "Reading or writing a local file failed (also an OSError).",
    ),
];

struct Classes {
    base: Py<PyType>,
    kinds: Vec<(ErrorKind, Py<PyType>)>,
}

static CLASSES: PyOnceLock<Classes> = PyOnceLock::new();

fn new_class<'py>(
    py: Python<'py>,
    name: &str,
    bases: Bound<'py, PyTuple>,
    doc: &str,
) -> PyResult<Bound<'py, PyType>> {
    let ns = PyDict::new(py);
    ns.set_item("__module__", "alto")?;
    ns.set_item("__doc__", doc)?;
    ns.set_item("kind", py.None())?;
    ns.set_item("retryable", false)?;
    let ty = py.import("builtins")?.getattr("type")?;
    Ok(ty.call1((name, bases, ns))?.cast_into::<PyType>()?)
}

fn classes(py: Python<'_>) -> PyResult<&Classes> {
    CLASSES.get_or_try_init(py, || {
        let base = new_class(
            py,
            "AltoError",
            PyTuple::new(py, [py.get_type::<PyException>()])?,
            "The base of every error Alto raises.",
        )?;
        let mut kinds = Vec::new();
        for (kind, doc) in KINDS {
            let bases = if *kind == ErrorKind::Io {
                PyTuple::new(py, [base.clone(), py.get_type::<PyOSError>()])?
            } else {
                PyTuple::new(py, [base.clone()])?
            };
            let cls = new_class(py, &class_name(*kind), bases, doc)?;
            cls.setattr("kind", kind.as_str())?;
            if *kind == ErrorKind::InvalidRule {
                cls.setattr("rule", py.None())?;
                cls.setattr("field", py.None())?;
            }
            kinds.push((*kind, cls.unbind()));
        }
        Ok::<_, PyErr>(Classes {
            base: base.unbind(),
            kinds,
        })
    })
}

fn class_name(kind: ErrorKind) -> String {
    format!("{}Error", kind.as_str())
}

/// Add `AltoError` and its subclasses to the module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    let c = classes(py)?;
    m.add("AltoError", c.base.bind(py))?;
    for (kind, cls) in &c.kinds {
        m.add(class_name(*kind).as_str(), cls.bind(py))?;
    }
    Ok(())
}

fn raise(py: Python<'_>, kind: ErrorKind, message: String) -> PyResult<Bound<'_, PyAny>> {
    let c = classes(py)?;
    let cls = c
        .kinds
        .iter()
        .find(|(k, _)| *k == kind)
        .map_or(&c.base, |(_, cls)| cls);
    let exc = cls.bind(py).call1((message,))?;
    exc.setattr("kind", kind.as_str())?;
    Ok(exc)
}

fn build(
    py: Python<'_>,
    kind: ErrorKind,
    message: String,
    f: impl FnOnce(&Bound<'_, PyAny>) -> PyResult<()>,
) -> PyErr {
    match raise(py, kind, message.clone()).and_then(|e| f(&e).map(|()| e)) {
        Ok(exc) => PyErr::from_value(exc),
        Err(_) => PyRuntimeError::new_err(message),
    }
}

/// The exception for an Alto error.
pub(crate) fn to_py(py: Python<'_>, e: alto::Error) -> PyErr {
    if let Some(r) = e.rule_error() {
        // A rule set refused on the way (its text is the message): `.rule` and `.field` too.
        return rule_error(py, r.clone());
    }
    let source = std::error::Error::source(&e).map(ToString::to_string);
    let err = build(py, e.kind(), e.to_string(), |exc| {
        exc.setattr("retryable", e.is_retryable())
    });
    if let Some(s) = source {
        if let Ok(cause) = base_class(py).and_then(|b| b.call1((s,))) {
            err.set_cause(py, Some(PyErr::from_value(cause)));
        }
    }
    err
}

fn base_class(py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
    Ok(classes(py)?.base.bind(py).clone().into_any())
}

/// The `InvalidRuleError` of a refused rule set, with the rule and field at fault.
pub(crate) fn rule_error(py: Python<'_>, e: alto::rules::RuleError) -> PyErr {
    build(py, ErrorKind::InvalidRule, e.to_string(), |exc| {
        exc.setattr("rule", e.rule())?;
        exc.setattr("field", e.field())
    })
}

/// An `InvalidInputError` with `message` (bad arguments found while converting them).
pub(crate) fn invalid_input(py: Python<'_>, message: impl Into<String>) -> PyErr {
    build(py, ErrorKind::InvalidInput, message.into(), |_| Ok(()))
}

/// `?` for Alto results inside a method that holds the GIL.
pub(crate) trait OrRaise<T> {
    /// The value, or the error as its exception.
    fn or_raise(self, py: Python<'_>) -> PyResult<T>;
}

impl<T> OrRaise<T> for alto::Result<T> {
    fn or_raise(self, py: Python<'_>) -> PyResult<T> {
        self.map_err(|e| to_py(py, e))
    }
}

impl<T> OrRaise<T> for Result<T, alto::rules::RuleError> {
    fn or_raise(self, py: Python<'_>) -> PyResult<T> {
        self.map_err(|e| rule_error(py, e))
    }
}
