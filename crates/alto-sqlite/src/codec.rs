//! Stored spellings of the domain's enums and numbers, both ways.
//!
//! The columns hold the same text as alto-pg's (`ntfs`, `full`, `initial_scan`, `PLANNED`), so
//! the two schemas read alike. Anything unknown in a row is reported as a corrupt value rather
//! than guessed.

use crate::error::corrupt;
use alto_core::store::ScanKind;
use alto_core::{AccessSource, Error, Result, ShareKind, TierState};
use std::sync::{Arc, LazyLock};

pub(crate) fn share_kind(s: &str) -> Result<ShareKind> {
    Ok(match s {
        "ntfs" => ShareKind::Ntfs,
        "smb" => ShareKind::Smb,
        "lucidlink" => ShareKind::Lucidlink,
        "posix" => ShareKind::Posix,
        other => return Err(corrupt(format!("share kind {other:?}"))),
    })
}

pub(crate) fn scan_kind_str(kind: ScanKind) -> &'static str {
    kind.as_str()
}

pub(crate) fn scan_kind(s: &str) -> Result<ScanKind> {
    Ok(match s {
        "full" => ScanKind::Full,
        "partial" => ScanKind::Partial,
        other => return Err(corrupt(format!("scan kind {other:?}"))),
    })
}

pub(crate) fn access_source(s: &str) -> Result<AccessSource> {
    Ok(match s {
        "initial_scan" => AccessSource::InitialScan,
        "incremental_scan" => AccessSource::IncrementalScan,
        "lucidlink_audit" => AccessSource::LucidlinkAudit,
        "manual" => AccessSource::Manual,
        other => return Err(corrupt(format!("last-accessed source {other:?}"))),
    })
}

/// The stored spelling of a last-accessed source as a shared string: binding it costs no
/// allocation (sqlx copies a `&str` argument into a new `Arc` for every row).
pub(crate) fn access_source_arg(s: AccessSource) -> Arc<str> {
    static ALL: LazyLock<[Arc<str>; 4]> = LazyLock::new(|| {
        [
            AccessSource::InitialScan,
            AccessSource::IncrementalScan,
            AccessSource::LucidlinkAudit,
            AccessSource::Manual,
        ]
        .map(|s| Arc::from(s.as_str()))
    });
    let i = match s {
        AccessSource::InitialScan => 0,
        AccessSource::IncrementalScan => 1,
        AccessSource::LucidlinkAudit => 2,
        AccessSource::Manual => 3,
        _ => return Arc::from(s.as_str()),
    };
    ALL[i].clone()
}

pub(crate) fn tier_state(s: &str) -> Result<TierState> {
    s.parse().map_err(|_| corrupt(format!("tier state {s:?}")))
}

/// A file size as SQLite's signed 64-bit integer.
pub(crate) fn size_in(size: u64, path: &str) -> Result<i64> {
    i64::try_from(size).map_err(|_| {
        Error::invalid_input(format!(
            "size {size} of {path:?} is larger than the store can hold (2^63 - 1 bytes)"
        ))
    })
}

/// A stored size back as `u64`.
pub(crate) fn size_out(size: i64) -> Result<u64> {
    u64::try_from(size).map_err(|_| corrupt(format!("negative file size {size}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for k in [
            ShareKind::Ntfs,
            ShareKind::Smb,
            ShareKind::Lucidlink,
            ShareKind::Posix,
        ] {
            assert_eq!(share_kind(k.as_str()).unwrap(), k);
        }
        for k in [ScanKind::Full, ScanKind::Partial] {
            assert_eq!(scan_kind(scan_kind_str(k)).unwrap(), k);
        }
        for s in [
            AccessSource::InitialScan,
            AccessSource::IncrementalScan,
            AccessSource::LucidlinkAudit,
            AccessSource::Manual,
        ] {
            assert_eq!(access_source(s.as_str()).unwrap(), s);
            assert_eq!(&*access_source_arg(s), s.as_str());
        }
        for s in TierState::ALL {
            assert_eq!(tier_state(s.as_str()).unwrap(), s);
        }
        assert!(share_kind("fat32").is_err());
        assert!(size_in(u64::MAX, "/x").is_err());
        assert!(size_out(-1).is_err());
    }
}
