//! Multi-row statements with bound parameters, for the ingest path.
//!
//! SQLite's fastest way in for many rows is one prepared statement that carries many rows of bound
//! values (`VALUES (…), (…), …`): measured here about five times faster than extracting the same
//! rows from one JSON parameter with `->>`. A [`Batch`] is a statement template built from
//! constants only: `head`, `row` repeated once per row, `tail`. Every chunk is cut into full
//! batches of [`ROWS`] rows, which reuse one cached prepared statement, and a tail sent one row at
//! a time.
//!
//! Parameters are anonymous (`?`) and bound in text order, every value of a row — the tenant too —
//! inside the row: SQLite looks a numbered parameter (`?123`) up by walking a list, so binding
//! `n` numbered parameters costs `n²` (and sqlx numbers anonymous ones apart from numbered ones,
//! so the two cannot be mixed).

use crate::error::db_in;
use alto_core::Result;
use sqlx::sqlite::{Sqlite, SqliteArguments};
use sqlx::{SqliteConnection, query::Query};
use std::future::Future;
use std::task::Poll;

/// Rows per full batch.
pub(crate) const ROWS: usize = 64;

/// A multi-row statement template (see the module docs).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Batch {
    /// Statement text before the rows.
    pub head: &'static str,
    /// One row of `?` parameters.
    pub row: &'static str,
    /// Statement text after the rows.
    pub tail: &'static str,
}

impl Batch {
    /// The statement for `rows` rows.
    pub(crate) fn sql(&self, rows: usize) -> String {
        let mut s = String::with_capacity(self.head.len() + self.tail.len() + rows * 64);
        s.push_str(self.head);
        for r in 0..rows {
            if r > 0 {
                s.push_str(", ");
            }
            s.push_str(self.row);
        }
        s.push_str(self.tail);
        s
    }
}

/// The two texts of a batch: [`ROWS`] rows and one row, built once.
pub(crate) struct Prepared {
    full: std::sync::LazyLock<String>,
    one: std::sync::LazyLock<String>,
}

impl Prepared {
    /// Build lazily from two constructors (`batch.sql(ROWS)` and `batch.sql(1)`).
    pub(crate) const fn new(full: fn() -> String, one: fn() -> String) -> Self {
        Prepared {
            full: std::sync::LazyLock::new(full),
            one: std::sync::LazyLock::new(one),
        }
    }
}

/// Declare a `static` [`Prepared`] for a `const` [`Batch`].
macro_rules! prepared {
    ($name:ident = $batch:expr) => {
        pub(crate) static $name: $crate::batch::Prepared =
            $crate::batch::Prepared::new(|| $batch.sql($crate::batch::ROWS), || $batch.sql(1));
    };
}
pub(crate) use prepared;

type Q = Query<'static, Sqlite, SqliteArguments>;

/// Run `stmt` over `rows`, consuming them (owned strings move into the statement's arguments
/// without a copy): full batches of [`ROWS`], then the rest one by one. `bind` binds one row's
/// parameters. Returns the rows affected.
///
/// Pipelined: while SQLite (on the connection's worker thread) executes one batch, this thread
/// binds the next, so on two cores binding costs no wall time.
pub(crate) async fn run<T>(
    conn: &mut SqliteConnection,
    stmt: &'static Prepared,
    rows: Vec<T>,
    what: &str,
    bind: impl Fn(Q, T) -> Q,
) -> Result<u64> {
    let mut affected = 0;
    let mut left = rows.len();
    let mut rows = rows.into_iter();
    let mut next = || {
        if left == 0 {
            return None;
        }
        let (sql, n) = if left >= ROWS {
            (stmt.full.as_str(), ROWS)
        } else {
            (stmt.one.as_str(), 1)
        };
        left -= n;
        let mut q = sqlx::query(sql);
        for r in rows.by_ref().take(n) {
            q = bind(q, r);
        }
        Some(q)
    };
    let mut query = next();
    while let Some(q) = query {
        let mut running = Box::pin(q.execute(&mut *conn));
        // The first poll hands the statement to the worker thread.
        let first = std::future::poll_fn(|cx| Poll::Ready(running.as_mut().poll(cx))).await;
        query = next();
        let done = match first {
            Poll::Ready(r) => r,
            Poll::Pending => running.await,
        };
        affected += done.map_err(db_in(what))?.rows_affected();
    }
    Ok(affected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeats_the_row() {
        let b = Batch {
            head: "INSERT INTO t VALUES ",
            row: "(?, ?)",
            tail: " RETURNING x",
        };
        assert_eq!(b.sql(2), "INSERT INTO t VALUES (?, ?), (?, ?) RETURNING x");
        assert_eq!(b.sql(1), "INSERT INTO t VALUES (?, ?) RETURNING x");
    }
}
