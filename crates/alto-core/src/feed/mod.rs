//! Access feeds: where last-access times come from between scans.
//!
//! Two sources produce the same [`AccessEvent`]s:
//! - the LucidLink audit trail (`.lucid_audit` trees, read incrementally with a cursor per audit
//!   file: [`lucid`]);
//! - access-event batches pushed by agents in the seeds' JSON format ([`batch`]).
//!
//! Applying events to a store (staging, dedup, clock-skew checks, warming) is the store's part;
//! this module only reads and normalises.

pub mod apply;
pub mod batch;
#[cfg(feature = "feed-generator")]
pub mod generate;
pub mod lucid;

use crate::time::Micros;
use serde::Serialize;

/// What happened to a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum FeedAction {
    /// `FileCreate`.
    FileCreate,
    /// `FileRead`.
    FileRead,
    /// `FileWritten`: moves last modified too.
    FileWritten,
    /// `FileDelete`.
    FileDelete,
    /// `DirectoryCreate`.
    DirectoryCreate,
    /// `DirectoryDelete`.
    DirectoryDelete,
    /// `Move` (also a rename): the record moves to `target_path`.
    Move,
    /// `SymlinkCreate`.
    SymlinkCreate,
    /// `ExtendedAttributeSet`.
    ExtendedAttributeSet,
    /// `ExtendedAttributeDelete`.
    ExtendedAttributeDelete,
    /// `Pin`.
    Pin,
    /// `Unpin`.
    Unpin,
    /// `PreHydrate`: a read.
    PreHydrate,
}

impl FeedAction {
    /// Every action, with its LucidLink spelling.
    pub const ALL: [(FeedAction, &'static str); 13] = [
        (FeedAction::FileCreate, "FileCreate"),
        (FeedAction::FileRead, "FileRead"),
        (FeedAction::FileWritten, "FileWritten"),
        (FeedAction::FileDelete, "FileDelete"),
        (FeedAction::DirectoryCreate, "DirectoryCreate"),
        (FeedAction::DirectoryDelete, "DirectoryDelete"),
        (FeedAction::Move, "Move"),
        (FeedAction::SymlinkCreate, "SymlinkCreate"),
        (FeedAction::ExtendedAttributeSet, "ExtendedAttributeSet"),
        (
            FeedAction::ExtendedAttributeDelete,
            "ExtendedAttributeDelete",
        ),
        (FeedAction::Pin, "Pin"),
        (FeedAction::Unpin, "Unpin"),
        (FeedAction::PreHydrate, "PreHydrate"),
    ];

    /// Parse the LucidLink spelling (`FileRead`); batch files may also say `read`, `write`,
    /// `delete`, `move`.
    pub fn parse(s: &str) -> Option<FeedAction> {
        if let Some((a, _)) = FeedAction::ALL.iter().find(|(_, n)| *n == s) {
            return Some(*a);
        }
        match s.to_ascii_lowercase().as_str() {
            "read" | "open" | "access" => Some(FeedAction::FileRead),
            "write" | "written" | "modify" => Some(FeedAction::FileWritten),
            "delete" => Some(FeedAction::FileDelete),
            "create" => Some(FeedAction::FileCreate),
            "move" | "rename" => Some(FeedAction::Move),
            _ => None,
        }
    }

    /// Whether the action is an access that moves last-accessed (`FileRead`, `PreHydrate`, and a
    /// write, which is an access too).
    pub fn is_access(self) -> bool {
        matches!(
            self,
            FeedAction::FileRead | FeedAction::PreHydrate | FeedAction::FileWritten
        )
    }
}

/// One normalised event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccessEvent {
    /// Stable id: LucidLink `node/stem/offset`, or `batch-id/index` for batches.
    pub id: String,
    /// When (UTC microseconds).
    pub at: Micros,
    /// What.
    pub action: FeedAction,
    /// The path as the feed names it, Unicode NFC (LucidLink: absolute from the filespace root).
    pub path: String,
    /// The new path of a `Move`.
    pub target_path: Option<String>,
    /// The user, when known.
    pub user: Option<String>,
}

/// Counts of one read pass.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct FeedReadStats {
    /// Audit files looked at.
    pub files: u64,
    /// Events read.
    pub read: u64,
    /// Lines that were not events (counted, logged, skipped).
    pub malformed: u64,
    /// Events about the audit trail itself (`/.lucid_audit/…`), skipped.
    pub skipped: u64,
    /// Bytes consumed.
    pub bytes: u64,
}

/// Refuse a feed path with a `..` segment (either separator): a move into `../..` must not
/// re-key a record to a path outside its share, whether or not the share has a mount root.
pub(crate) fn refuse_dotdot(path: &str) -> Result<(), String> {
    if path.split(['/', '\\']).any(|s| s == "..") {
        Err(format!("path {path:?} has a `..` segment"))
    } else {
        Ok(())
    }
}

/// The checks every event's path and target path pass, in both parsers, so that an event no
/// store could hold is malformed on its own instead of refusing its whole batch in one store: no
/// `..` segment ([`refuse_dotdot`]), no NUL byte, at most
/// [`MAX_PATH_BYTES`](crate::inventory::MAX_PATH_BYTES) as written and no segment of a long
/// key's form, the inventory's limits (a longer key is bounded, as the inventory's are). Newlines,
/// tabs and other control characters are legal and kept.
pub(crate) fn check_event_path(what: &str, path: &str) -> Result<(), String> {
    if path.contains('\0') {
        return Err(format!("{what} contains a NUL byte"));
    }
    refuse_dotdot(path)?;
    crate::inventory::check_path_len(path).map_err(|e| format!("{what}: {e}"))
}

/// The checks of an event's other fields: its time within the years every store holds
/// ([`check_stored`](crate::time::check_stored)) and no NUL byte in its user name.
pub(crate) fn check_event(ev: &AccessEvent) -> Result<(), String> {
    crate::time::check_stored(ev.at)?;
    if ev.user.as_deref().is_some_and(|u| u.contains('\0')) {
        return Err("user contains a NUL byte".into());
    }
    Ok(())
}
