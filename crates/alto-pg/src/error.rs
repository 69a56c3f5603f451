//! The one place where `sqlx` errors become Alto errors.
//!
//! Callers branch on [`alto_core::ErrorKind`] and on `is_retryable`, so the mapping follows the
//! SQLSTATE class: a unique violation is `AlreadyExists`, a missing referenced row `NotFound`, bad
//! data `InvalidInput`, and serialization failures, deadlocks, lost connections, shutdowns and
//! pool timeouts are `Backend` errors worth retrying. The database's own message stays attached as
//! the source, so nothing it said is lost.

use alto_core::{Error, ErrorKind};

/// Map a `sqlx` error to an Alto error. Limits PostgreSQL enforces (SQLSTATE 54000 program limit
/// exceeded, e.g. an index row too large; 22P05/22021 untranslatable or invalid bytes; 22008
/// datetime overflow; 22003 numeric out of range) are `InvalidInput` with a message naming the
/// cause; callers that know the input put it in front ([`invalid_in`]).
pub(crate) fn db_err(e: sqlx::Error) -> Error {
    let (kind, retryable, what) = classify(&e);
    Error::new(kind, what).retryable(retryable).with_source(e)
}

/// Put `context` (which input: a file, rows of a chunk) in front of an `InvalidInput` error; other
/// errors are not about the input and stay as they are.
pub(crate) fn invalid_in(e: Error, context: impl FnOnce() -> String) -> Error {
    if e.kind() == ErrorKind::InvalidInput {
        e.prefixed(&context())
    } else {
        e
    }
}

fn classify(e: &sqlx::Error) -> (ErrorKind, bool, &'static str) {
    use sqlx::Error as E;
    match e {
        E::Database(db) => match db.code().as_deref() {
            Some(code) => by_sqlstate(code),
            None => (
                ErrorKind::Backend,
                false,
                "PostgreSQL refused the statement",
            ),
        },
        E::RowNotFound => (ErrorKind::NotFound, false, "no such row"),
        E::Configuration(_) => (ErrorKind::InvalidInput, false, "bad PostgreSQL URL"),
        E::Io(_) | E::Tls(_) | E::PoolTimedOut | E::WorkerCrashed => (
            ErrorKind::Backend,
            true,
            "lost the connection to PostgreSQL",
        ),
        E::PoolClosed => (ErrorKind::Backend, false, "the store is closed"),
        E::Migrate(_) => (ErrorKind::Backend, false, "migrating the schema failed"),
        _ => (ErrorKind::Backend, false, "PostgreSQL client error"),
    }
}

/// By SQLSTATE (https://www.postgresql.org/docs/current/errcodes-appendix.html).
fn by_sqlstate(code: &str) -> (ErrorKind, bool, &'static str) {
    match code {
        "23505" => (ErrorKind::AlreadyExists, false, "already exists"),
        "23503" => (
            ErrorKind::NotFound,
            false,
            "a referenced row does not exist",
        ),
        "40001" => (ErrorKind::Backend, true, "serialization failure, try again"),
        "40P01" => (ErrorKind::Backend, true, "deadlock detected, try again"),
        "55P03" => (ErrorKind::Backend, true, "row is locked, try again"),
        "57014" => (ErrorKind::Backend, true, "statement cancelled"),
        "53300" => (
            ErrorKind::Backend,
            true,
            "too many connections to PostgreSQL",
        ),
        "42P01" | "42883" => (
            ErrorKind::Backend,
            false,
            "the Alto schema is missing or incomplete: run `alto migrate --store URL`",
        ),
        "42501" => (
            ErrorKind::PermissionDenied,
            false,
            "permission denied (row-level security, a missing grant, or a write the schema's \
             guards refuse)",
        ),
        // Limits: bad data, not a broken backend. The core's readers reject such rows first
        // (alto_core::inventory's limits), so these name what a caller let through.
        "54000" => (
            ErrorKind::InvalidInput,
            false,
            "a value is too large for PostgreSQL to index (the btree index entry limit is about \
             2,700 bytes; path keys are bounded below it, alto_core::path::MAX_KEY_BYTES, so \
             another indexed value is too long)",
        ),
        "22P05" | "22021" => (
            ErrorKind::InvalidInput,
            false,
            "a text value has a byte PostgreSQL cannot store (a NUL byte, or not UTF-8)",
        ),
        "22008" => (
            ErrorKind::InvalidInput,
            false,
            "a time is outside PostgreSQL's range (4713 BC to 294276 AD); Alto keeps times \
             within the years 1 to 9999",
        ),
        "22003" => (
            ErrorKind::InvalidInput,
            false,
            "a number is out of range (a size must be below 2^63 bytes)",
        ),
        c if c.starts_with("08") || c.starts_with("57P") => (
            ErrorKind::Backend,
            true,
            "lost the connection to PostgreSQL",
        ),
        c if c.starts_with("22") || c.starts_with("23") => (
            ErrorKind::InvalidInput,
            false,
            "PostgreSQL refused the value",
        ),
        _ => (
            ErrorKind::Backend,
            false,
            "PostgreSQL refused the statement",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlstates() {
        assert_eq!(by_sqlstate("23505").0, ErrorKind::AlreadyExists);
        assert_eq!(by_sqlstate("23503").0, ErrorKind::NotFound);
        assert_eq!(by_sqlstate("23514").0, ErrorKind::InvalidInput);
        assert_eq!(by_sqlstate("22008").0, ErrorKind::InvalidInput);
        for c in ["40001", "40P01", "08006", "57P01", "53300"] {
            let (kind, retry, _) = by_sqlstate(c);
            assert_eq!((kind, retry), (ErrorKind::Backend, true), "{c}");
        }
        assert!(!by_sqlstate("42501").1);
        for (c, says) in [
            ("54000", "too large for PostgreSQL to index"),
            ("22P05", "NUL"),
            ("22021", "not UTF-8"),
            ("22008", "4713 BC to 294276 AD"),
            ("22003", "2^63"),
        ] {
            let (kind, retry, what) = by_sqlstate(c);
            assert_eq!((kind, retry), (ErrorKind::InvalidInput, false), "{c}");
            assert!(what.contains(says), "{c}: {what}");
        }
    }

    #[test]
    fn client_errors() {
        let e = db_err(sqlx::Error::PoolTimedOut);
        assert_eq!(e.kind(), ErrorKind::Backend);
        assert!(e.is_retryable());
        assert_eq!(db_err(sqlx::Error::RowNotFound).kind(), ErrorKind::NotFound);
    }
}
