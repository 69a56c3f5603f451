//! The one place where `sqlx` errors become [`alto_core::Error`]s.
//!
//! Every statement of the store maps its failure through [`db`] (or [`db_in`], which names what
//! was being done), so callers see Alto's error kinds: a unique violation is `AlreadyExists`, a busy
//! or locked database (another process holds the write lock past the busy timeout) is a retryable
//! `Backend` error, a file that is not a database is `InvalidInput`, and everything else is
//! `Backend` with the SQLite message kept as the source.

use alto_core::{Error, ErrorKind};

// SQLite primary result codes (the low byte of an extended code).
const SQLITE_BUSY: i32 = 5;
const SQLITE_LOCKED: i32 = 6;
const SQLITE_NOMEM: i32 = 7;
const SQLITE_READONLY: i32 = 8;
const SQLITE_IOERR: i32 = 10;
const SQLITE_CORRUPT: i32 = 11;
const SQLITE_FULL: i32 = 13;
const SQLITE_CANTOPEN: i32 = 14;
const SQLITE_NOTADB: i32 = 26;

/// Map a `sqlx` error to an Alto error.
pub(crate) fn db(e: sqlx::Error) -> Error {
    let (kind, retryable, what) = classify(&e);
    Error::new(kind, what).retryable(retryable).with_source(e)
}

/// [`db`], with what was being done in front of the message.
pub(crate) fn db_in(context: &str) -> impl FnOnce(sqlx::Error) -> Error + '_ {
    move |e| db(e).prefixed(context)
}

fn classify(e: &sqlx::Error) -> (ErrorKind, bool, &'static str) {
    use sqlx::error::ErrorKind as K;
    match e {
        sqlx::Error::Database(d) => {
            let code = d.code().and_then(|c| c.parse::<i32>().ok()).unwrap_or(0);
            match code & 0xff {
                SQLITE_BUSY | SQLITE_LOCKED => (
                    ErrorKind::Backend,
                    true,
                    "the SQLite database is busy: another connection held the write lock past the busy timeout",
                ),
                SQLITE_NOTADB => (
                    ErrorKind::InvalidInput,
                    false,
                    "the file is not an SQLite database",
                ),
                SQLITE_READONLY => (
                    ErrorKind::Backend,
                    false,
                    "the SQLite database is read-only",
                ),
                SQLITE_FULL => (ErrorKind::Backend, false, "the disk is full"),
                SQLITE_CORRUPT => (
                    ErrorKind::Backend,
                    false,
                    "the SQLite database file is corrupt",
                ),
                SQLITE_CANTOPEN => (ErrorKind::Io, false, "cannot open the SQLite database file"),
                SQLITE_IOERR | SQLITE_NOMEM => (ErrorKind::Backend, true, "SQLite I/O failed"),
                _ => match d.kind() {
                    K::UniqueViolation => (ErrorKind::AlreadyExists, false, "already exists"),
                    K::ForeignKeyViolation => (
                        ErrorKind::NotFound,
                        false,
                        "a referenced row does not exist",
                    ),
                    K::NotNullViolation | K::CheckViolation => (
                        ErrorKind::InvalidInput,
                        false,
                        "a value breaks a schema constraint",
                    ),
                    _ => (ErrorKind::Backend, false, "SQLite failed"),
                },
            }
        }
        sqlx::Error::PoolTimedOut => (
            ErrorKind::Backend,
            true,
            "timed out waiting for an SQLite connection",
        ),
        sqlx::Error::PoolClosed => (ErrorKind::Backend, false, "the store was closed"),
        sqlx::Error::Io(_) => (ErrorKind::Io, true, "SQLite I/O failed"),
        sqlx::Error::WorkerCrashed => (
            ErrorKind::Backend,
            true,
            "the SQLite connection worker stopped",
        ),
        sqlx::Error::ColumnDecode { .. }
        | sqlx::Error::Decode(_)
        | sqlx::Error::ColumnNotFound(_)
        | sqlx::Error::ColumnIndexOutOfBounds { .. } => (
            ErrorKind::Backend,
            false,
            "unexpected data in the SQLite database",
        ),
        _ => (ErrorKind::Backend, false, "SQLite failed"),
    }
}

/// A stored value that does not decode (a hand-edited database, or a bug).
pub(crate) fn corrupt(what: impl std::fmt::Display) -> Error {
    Error::new(
        ErrorKind::Backend,
        format!("unexpected data in the SQLite database: {what}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_timeout_is_retryable() {
        let e = db(sqlx::Error::PoolTimedOut);
        assert_eq!(e.kind(), ErrorKind::Backend);
        assert!(e.is_retryable());
    }

    #[test]
    fn context_goes_in_front() {
        let e = db_in("cannot list files")(sqlx::Error::PoolClosed);
        assert!(
            e.to_string()
                .starts_with("cannot list files: the store was closed"),
            "{e}"
        );
    }
}
