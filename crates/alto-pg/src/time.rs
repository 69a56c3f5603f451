//! Times on the wire: `alto_core::time::Micros` as PostgreSQL `timestamptz`, exactly.
//!
//! `timestamptz` is a 64-bit count of microseconds since 2000-01-01 UTC, so Alto's microseconds
//! since 1970 convert by one subtraction, with no float and no rounding. [`PgTime`] binds and
//! decodes that way; [`to_pg`] checks the range PostgreSQL accepts (4713 BC to 294276 AD) before a
//! value goes into a binary COPY, so an out-of-range time is a clear `InvalidInput`.

use alto_core::time::Micros;
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::types::Oid;
use sqlx::postgres::{PgArgumentBuffer, PgHasArrayType, PgTypeInfo, PgValueFormat, PgValueRef};
use sqlx::{Decode, Encode, Postgres, Type};

/// Microseconds from 1970-01-01 to 2000-01-01.
const PG_EPOCH: i64 = 946_684_800_000_000;
/// PostgreSQL's valid timestamp range, in its own epoch (`MIN_TIMESTAMP`, `END_TIMESTAMP`).
const PG_MIN: i64 = -211_813_488_000_000_000;
const PG_END: i64 = 9_223_371_331_200_000_000;
const TIMESTAMPTZ_OID: u32 = 1184;
const TIMESTAMPTZ_ARRAY_OID: u32 = 1185;

/// A time bound or read as `timestamptz`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PgTime(pub(crate) Micros);

/// Alto microseconds as PostgreSQL's timestamp value, if PostgreSQL can hold it.
pub(crate) fn to_pg(t: Micros) -> Option<i64> {
    t.checked_sub(PG_EPOCH)
        .filter(|v| (PG_MIN..PG_END).contains(v))
}

impl Type<Postgres> for PgTime {
    fn type_info() -> PgTypeInfo {
        PgTypeInfo::with_oid(Oid(TIMESTAMPTZ_OID))
    }

    fn compatible(ty: &PgTypeInfo) -> bool {
        ty.oid() == Some(Oid(TIMESTAMPTZ_OID))
    }
}

impl PgHasArrayType for PgTime {
    fn array_type_info() -> PgTypeInfo {
        PgTypeInfo::with_oid(Oid(TIMESTAMPTZ_ARRAY_OID))
    }
}

impl Encode<'_, Postgres> for PgTime {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        let v = to_pg(self.0).ok_or_else(|| format!("time {} is out of range", self.0))?;
        buf.extend_from_slice(&v.to_be_bytes());
        Ok(IsNull::No)
    }
}

impl Decode<'_, Postgres> for PgTime {
    fn decode(value: PgValueRef<'_>) -> Result<Self, BoxDynError> {
        if value.format() != PgValueFormat::Binary {
            return Err("timestamptz in text format: select it with alto_micros()".into());
        }
        let b: [u8; 8] = value
            .as_bytes()?
            .try_into()
            .map_err(|_| "timestamptz is not 8 bytes")?;
        let v = i64::from_be_bytes(b);
        v.checked_add(PG_EPOCH)
            .map(PgTime)
            .ok_or_else(|| "timestamptz out of range (infinity?)".into())
    }
}

/// `Option<PgTime>` to `Option<Micros>`.
pub(crate) fn micros(t: Option<PgTime>) -> Option<Micros> {
    t.map(|t| t.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range() {
        assert_eq!(to_pg(PG_EPOCH), Some(0));
        assert_eq!(to_pg(0), Some(-PG_EPOCH));
        assert_eq!(to_pg(i64::MIN), None);
        // Every positive i64 fits: PostgreSQL ends in 294276 AD, i64 microseconds in 294247.
        assert!(to_pg(i64::MAX).is_some());
        assert_eq!(to_pg(-300_000_000_000_000_000), None);
        // Year 0 (1 BC) and 9999 are fine.
        assert!(to_pg(-62_167_219_200_000_000).is_some());
        assert!(to_pg(253_402_300_799_000_000).is_some());
    }
}
