//! PostgreSQL's binary `COPY` format, written by hand for the ingest's staging rows.
//!
//! Binary COPY is the fastest way into PostgreSQL and, unlike the text and CSV formats, needs no
//! escaping: a path with tabs, newlines, backslashes or `\N` in it goes over as its bytes. Layout:
//! a fixed header, per row a 16-bit field count and per field a 32-bit length (-1 for NULL) and
//! the value in the type's binary form, then a trailer.

use crate::error::db_err;
use alto_core::Result;
use sqlx::PgConnection;

/// Run `COPY … FROM STDIN (FORMAT binary)` with a finished payload.
pub(crate) async fn copy_in(
    conn: &mut PgConnection,
    sql: &'static str,
    data: Vec<u8>,
) -> Result<()> {
    let mut sink = conn.copy_in_raw(sql).await.map_err(db_err)?;
    if let Err(e) = sink.send(data).await {
        let _ = sink.abort("alto: sending the rows failed").await;
        return Err(db_err(e));
    }
    sink.finish().await.map_err(db_err)?;
    Ok(())
}

/// A binary COPY payload being built.
pub(crate) struct BinaryCopy {
    buf: Vec<u8>,
}

impl BinaryCopy {
    /// An empty payload with room for about `bytes`.
    pub(crate) fn with_capacity(bytes: usize) -> Self {
        let mut buf = Vec::with_capacity(bytes + 32);
        buf.extend_from_slice(b"PGCOPY\n\xff\r\n\0");
        buf.extend_from_slice(&0i32.to_be_bytes()); // flags
        buf.extend_from_slice(&0i32.to_be_bytes()); // header extension length
        BinaryCopy { buf }
    }

    /// Whether no row was added.
    pub(crate) fn is_empty(&self) -> bool {
        self.buf.len() == 19
    }

    /// Start a row of `fields` fields.
    pub(crate) fn row(&mut self, fields: i16) {
        self.buf.extend_from_slice(&fields.to_be_bytes());
    }

    /// A `bigint`.
    pub(crate) fn int8(&mut self, v: i64) {
        self.buf.extend_from_slice(&8i32.to_be_bytes());
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    /// A `boolean`.
    pub(crate) fn boolean(&mut self, v: bool) {
        self.buf.extend_from_slice(&1i32.to_be_bytes());
        self.buf.push(u8::from(v));
    }

    /// A `timestamptz` already in PostgreSQL's epoch (see [`crate::time::to_pg`]), or NULL.
    pub(crate) fn timestamp(&mut self, v: Option<i64>) {
        match v {
            Some(v) => self.int8(v),
            None => self.null(),
        }
    }

    /// A `text` value (UTF-8, no NUL), or NULL.
    pub(crate) fn text(&mut self, v: Option<&str>) {
        match v {
            Some(s) => {
                // Checked by the caller: a field is far below 1 GiB.
                self.buf.extend_from_slice(&(s.len() as i32).to_be_bytes());
                self.buf.extend_from_slice(s.as_bytes());
            }
            None => self.null(),
        }
    }

    fn null(&mut self) {
        self.buf.extend_from_slice(&(-1i32).to_be_bytes());
    }

    /// The payload with its trailer.
    pub(crate) fn finish(mut self) -> Vec<u8> {
        self.buf.extend_from_slice(&(-1i16).to_be_bytes());
        self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout() {
        let mut c = BinaryCopy::with_capacity(0);
        c.row(3);
        c.int8(1);
        c.text(Some("a\tb"));
        c.timestamp(None);
        let b = c.finish();
        assert_eq!(&b[..11], b"PGCOPY\n\xff\r\n\0");
        assert_eq!(&b[19..21], &3i16.to_be_bytes());
        assert_eq!(&b[21..25], &8i32.to_be_bytes());
        assert_eq!(&b[33..37], &3i32.to_be_bytes());
        assert_eq!(&b[37..40], b"a\tb");
        assert_eq!(&b[40..44], &(-1i32).to_be_bytes());
        assert_eq!(&b[44..], &(-1i16).to_be_bytes());
    }
}
