//! Path keys: the one spelling of a path used for uniqueness, joins and matching.
//!
//! The path exactly as received is kept for display and for the agent (the worker opens that
//! one); the key is derived from it by the share's rule ([`KeyRule`], [`share_key_into`]):
//! - drive-letter and UNC paths, and every path of an NTFS or SMB share: the rule language's
//!   normal form (`\` and `/` both become `/`, repeated separators collapse except a leading UNC
//!   `//`, no trailing separator);
//! - other paths of POSIX and LucidLink shares: only `/` separates, so the path is kept as it is
//!   (`\` is an ordinary character and `a//b` is not `a/b`: two distinct files never merge);
//! - always Unicode NFC (a name written in NFD by a Mac and the same name in NFC are one file,
//!   and LucidLink's NFD feed paths meet the inventory's keys);
//! - folded to lower case on a case-insensitive share;
//! - bounded: a key longer than [`MAX_KEY_BYTES`] is cut back to a directory prefix and ends in a
//!   marker segment holding the SHA-256 of the whole key ([`bound_key`]).
//!
//! # Long paths
//!
//! Every store indexes the key (PostgreSQL's btree entries hold at most about 2,700 bytes), while
//! real paths reach PATH_MAX (4,096 bytes on Linux) and beyond (32,767 UTF-16 units for Windows
//! extended paths). So the key, not each store's indexes, is bounded, and every store agrees: a
//! key of at most [`MAX_KEY_BYTES`] is kept as it is (so no key stored before changes); a longer
//! one becomes its prefix up to its last `/` at or before byte [`LONG_KEY_CUT`], then a segment of
//! exactly [`LONG_KEY_SEGMENT`] bytes: [`LONG_KEY_MARKER`], the lower-case hex SHA-256 of the
//! whole unbounded key, and `~` up to the length. The full path is stored byte-exact beside it
//! (unindexed), and everything that matches paths (globs, rules) reads the full path.
//!
//! Why two different files never share a key:
//! - two long keys differ in their SHA-256 (a collision is not a practical concern);
//! - a long key's bounded form never equals the key of a real shorter path: its last segment is a
//!   300-byte ASCII name, and no file system Alto serves allows one (POSIX NAME_MAX is 255 bytes;
//!   NTFS and SMB allow 255 UTF-16 units, and 300 ASCII characters are 300 units). An inventory
//!   row or feed event whose path has a segment of that form is refused per row
//!   ([`is_long_key_marker`]), so not even a hand-written row can take a long path's key — and
//!   were one let through, it could only meet records of its own tenant's share.
//!
//! The directory of a bounded key ([`split_dir`]) is the prefix: a real ancestor directory of the
//! file.
//!
//! [`path_key`] is the older, share-less form (every path normalised as a Windows path would be),
//! kept for callers that have no share. It is not bounded: stores key files by [`share_key`].

pub use alto_rules::{extension, is_windows_path, normalize_path, normalized};

/// Whether a path is a URL-style object path (`s3://bucket/key`, `az://container/name`): a
/// scheme of letters, digits, `+`, `-` or `.` starting with a letter, then `://`.
pub fn is_url_path(p: &str) -> bool {
    match p.find("://") {
        Some(n) if n > 0 => {
            let scheme = &p.as_bytes()[..n];
            scheme[0].is_ascii_alphabetic()
                && scheme
                    .iter()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.'))
        }
        _ => false,
    }
}

/// The key of `path`: normal form, case-folded when `case_insensitive`.
pub fn path_key(path: &str, case_insensitive: bool) -> String {
    let mut out = String::with_capacity(path.len());
    path_key_into(path, case_insensitive, &mut out);
    out
}

/// [`path_key`] into a reused buffer.
pub fn path_key_into(path: &str, case_insensitive: bool, out: &mut String) {
    normalize_path(path, out);
    if case_insensitive {
        if out.is_ascii() {
            out.make_ascii_lowercase();
        } else {
            // The rule engine's folding, so keys and case-insensitive globs agree.
            let normal = std::mem::take(out);
            alto_rules::fold_case_into(&normal, out);
        }
    }
}

/// How a share turns paths into keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyRule {
    /// `\` separates too for every path (NTFS, SMB); otherwise only drive-letter and UNC paths.
    pub windows: bool,
    /// Keys keep case.
    pub case_sensitive: bool,
}

impl KeyRule {
    /// The rule of a share of `kind` with this case rule.
    pub fn new(kind: crate::types::ShareKind, case_sensitive: bool) -> Self {
        use crate::types::ShareKind;
        KeyRule {
            windows: matches!(kind, ShareKind::Ntfs | ShareKind::Smb),
            case_sensitive,
        }
    }

    /// The rule of `share`.
    pub fn of(share: &crate::types::Share) -> Self {
        Self::new(share.kind, share.case_sensitive)
    }
}

/// The key of `path` on a share with `rule` (see the module docs).
pub fn share_key(rule: KeyRule, path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    share_key_into(rule, path, &mut out);
    out
}

/// The longest key a store holds, in UTF-8 bytes: every longer key is bounded ([`bound_key`]).
/// Below what PostgreSQL's btree index on `(tenant, share, path key)` holds, with room to spare;
/// the same in every store.
pub const MAX_KEY_BYTES: usize = 2_600;

/// A long key is cut at its last `/` at or before this byte (so the prefix, the `/` and the
/// marker segment fit in [`MAX_KEY_BYTES`]).
pub const LONG_KEY_CUT: usize = MAX_KEY_BYTES - LONG_KEY_SEGMENT - 10;

/// How the last segment of a bounded key starts.
pub const LONG_KEY_MARKER: &str = "~alto-long-path-";

/// The length of a bounded key's last segment, in bytes: more than any file system allows a name
/// (see the module docs).
pub const LONG_KEY_SEGMENT: usize = 300;

/// Bound a key in place (see the module docs): a key of at most [`MAX_KEY_BYTES`] is left as it
/// is; a longer one becomes its prefix through its last `/` at or before [`LONG_KEY_CUT`] (none:
/// no prefix) followed by the marker segment of the whole key.
pub fn bound_key(key: &mut String) {
    use sha2::{Digest, Sha256};
    use std::fmt::Write;
    if key.len() <= MAX_KEY_BYTES {
        return;
    }
    let digest = Sha256::digest(key.as_bytes());
    // `/` is ASCII: the cut is a character boundary.
    match key.as_bytes()[..=LONG_KEY_CUT]
        .iter()
        .rposition(|&b| b == b'/')
    {
        Some(i) => key.truncate(i + 1),
        None => key.clear(),
    }
    let start = key.len();
    key.push_str(LONG_KEY_MARKER);
    for b in digest {
        let _ = write!(key, "{b:02x}");
    }
    while key.len() < start + LONG_KEY_SEGMENT {
        key.push('~');
    }
}

/// Whether `segment` has the form of a bounded key's marker segment (ASCII case ignored, as a
/// case-insensitive share folds it): [`LONG_KEY_SEGMENT`] bytes starting with
/// [`LONG_KEY_MARKER`]. A path with such a segment is refused by the inventory readers and the
/// feed parsers, so that no path's key can pose as a long path's.
pub fn is_long_key_marker(segment: &str) -> bool {
    segment.len() == LONG_KEY_SEGMENT
        && segment.as_bytes()[..LONG_KEY_MARKER.len()]
            .eq_ignore_ascii_case(LONG_KEY_MARKER.as_bytes())
}

/// [`share_key`] into a reused buffer. The key is bounded ([`bound_key`]).
pub fn share_key_into(rule: KeyRule, path: &str, out: &mut String) {
    share_key_unbounded(rule, path, out);
    bound_key(out);
}

/// The key by the share's rule, before [`bound_key`].
fn share_key_unbounded(rule: KeyRule, path: &str, out: &mut String) {
    let nfc;
    let path = if path.is_ascii()
        || unicode_normalization::is_nfc_quick(path.chars())
            == unicode_normalization::IsNormalized::Yes
    {
        path
    } else {
        use unicode_normalization::UnicodeNormalization;
        nfc = path.nfc().collect::<String>();
        nfc.as_str()
    };
    if rule.windows || is_windows_path(path) {
        path_key_into(path, !rule.case_sensitive, out);
        return;
    }
    out.clear();
    if rule.case_sensitive {
        out.push_str(path);
    } else if path.is_ascii() {
        out.push_str(path);
        out.make_ascii_lowercase();
    } else {
        alto_rules::fold_case_into(path, out);
    }
}

/// Split a normalised path (or key) into its directory and file name. The directory of a file at
/// the root is the root itself (`/` or `C:`), and a bare name has an empty directory.
pub fn split_dir(key: &str) -> (&str, &str) {
    match key.rfind('/') {
        Some(0) => ("/", &key[1..]),
        Some(i) => (&key[..i], &key[i + 1..]),
        None => ("", key),
    }
}

/// A stable 64-bit hash of a directory key (FNV-1a), for the `dir` table's hash index. Stable
/// across versions and platforms: it is stored.
pub fn dir_hash64(dir_key: &str) -> i64 {
    dir_hash64_bytes(dir_key.as_bytes()) as i64
}

/// FNV-1a over bytes.
pub(crate) fn dir_hash64_bytes(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// The object key of a file with path key `path_key`: its segments joined with `/`, with empty
/// and `.` segments dropped, so drive letters and UNC prefixes become ordinary leading segments
/// (`c:/data/x` → `c:/data/x`, `//fs01/share/x` → `fs01/share/x`, `/srv/x` → `srv/x`). A `..`
/// segment is refused: a key never leaves its target.
///
/// The marker segment of a bounded key ([`bound_key`]) loses its `~` padding here
/// (`~alto-long-path-` and the hash, 80 bytes), so that a long path's object is a name a file
/// system target can hold. Object keys need not be unique by themselves: a tier object's key
/// ends with its object id and incarnation ([`crate::worker::object_key_of`]).
pub fn object_key(path_key: &str) -> Result<String, crate::Error> {
    let mut out = String::with_capacity(path_key.len());
    for seg in path_key.split(['/', '\\']) {
        match seg {
            "" | "." => {}
            ".." => {
                return Err(crate::Error::invalid_input(format!(
                    "path {path_key:?} has a `..` segment: refusing to build an object key that \
                     could leave the target"
                )));
            }
            s => {
                if !out.is_empty() {
                    out.push('/');
                }
                if is_long_key_marker(s) {
                    out.push_str(s.trim_end_matches('~'));
                } else {
                    out.push_str(s);
                }
            }
        }
    }
    if out.is_empty() {
        return Err(crate::Error::invalid_input(format!(
            "path {path_key:?} has no name to store under"
        )));
    }
    Ok(out)
}

/// Join a key under a prefix, refusing anything that would climb out of it. Used to map feed paths
/// onto a share's mount root and object keys under a target: `..` segments are refused, `.` and
/// empty segments dropped.
pub fn join_under(prefix: &str, relative: &str) -> Result<String, String> {
    let mut out = normalized(prefix);
    for seg in relative.split(['/', '\\']) {
        match seg {
            "" | "." => {}
            ".." => {
                return Err(format!(
                    "path {relative:?} climbs out of {prefix:?} with `..`"
                ));
            }
            s => {
                if !out.ends_with('/') {
                    out.push('/');
                }
                out.push_str(s);
            }
        }
    }
    Ok(out)
}

/// Check a share root: an absolute path (POSIX `/…`, or a drive-letter or UNC path for a Windows
/// agent) with no `..` segment and no NUL.
pub fn check_root(root: &str) -> Result<(), crate::Error> {
    let bad = |why: &str| crate::Error::invalid_input(format!("share root {root:?} {why}"));
    if root.contains('\0') {
        return Err(bad("contains a NUL byte"));
    }
    if !(root.starts_with('/') || is_windows_path(root)) {
        return Err(bad("is not an absolute path"));
    }
    if root.split(['/', '\\']).any(|s| s == "..") {
        return Err(bad("has a `..` segment"));
    }
    Ok(())
}

/// Why a path cannot be acted on beneath a share root.
fn outside(path: &str, root: &str, why: &str) -> crate::Error {
    crate::Error::invalid_input(format!(
        "path {path:?} is not beneath the share root {root:?}: {why}"
    ))
}

/// The components of `path` beneath the POSIX share root `root`, for resolving by file
/// descriptor: the path as received must be absolute, have no `..` segment, and start with every
/// component of the root (component-wise: `/srv/database` is not beneath `/srv/data`). Empty and
/// `.` components are dropped, as the kernel would; `\` is an ordinary character. The result is
/// never empty: the root itself is not a file of the share.
pub fn components_beneath<'p>(root: &str, path: &'p str) -> Result<Vec<&'p str>, crate::Error> {
    if path.contains('\0') {
        return Err(outside(path, root, "it contains a NUL byte"));
    }
    if !path.starts_with('/') {
        return Err(outside(path, root, "it is not an absolute path"));
    }
    let segs = |p: &'p str| p.split('/').filter(|s| !s.is_empty() && *s != ".");
    if segs(path).any(|s| s == "..") {
        return Err(outside(path, root, "it has a `..` segment"));
    }
    let mut rest = segs(path);
    for r in root.split('/').filter(|s| !s.is_empty() && *s != ".") {
        if rest.next() != Some(r) {
            return Err(outside(path, root, "it lies elsewhere"));
        }
    }
    let out: Vec<&str> = rest.collect();
    if out.is_empty() {
        return Err(outside(path, root, "it is the root itself"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        assert_eq!(
            path_key(r"C:\Data\\Sub\File.TXT", true),
            "c:/data/sub/file.txt"
        );
        assert_eq!(path_key(r"\\fs01\Share\A", true), "//fs01/share/a");
        assert_eq!(path_key("/srv/Data//x/", false), "/srv/Data/x");
        assert_eq!(path_key("/srv/ÄÖ", true), "/srv/äö");
    }

    #[test]
    fn share_keys() {
        use crate::types::ShareKind;
        let posix = KeyRule::new(ShareKind::Posix, true);
        // Only `/` separates on a POSIX share: these are three different files.
        assert_eq!(share_key(posix, "/x/a\\b"), "/x/a\\b");
        assert_eq!(share_key(posix, "/x/a/b"), "/x/a/b");
        assert_eq!(share_key(posix, "/x//a/b"), "/x//a/b");
        // NFC whatever the input's form.
        let nfd = "/Cafe\u{301}/x";
        assert_eq!(share_key(posix, nfd), "/Café/x");
        assert_eq!(share_key(posix, "/Café/x"), "/Café/x");
        // Drive-letter and UNC paths, and NTFS/SMB shares, keep the Windows normal form.
        assert_eq!(share_key(posix, r"C:\Data\\x"), "C:/Data/x");
        let ntfs = KeyRule::new(ShareKind::Ntfs, false);
        assert_eq!(share_key(ntfs, r"\\fs\S\A"), "//fs/s/a");
        assert_eq!(share_key(ntfs, "/Data\\X"), "/data/x");
        let lucid_ci = KeyRule::new(ShareKind::Lucidlink, false);
        assert_eq!(share_key(lucid_ci, "/A\\B"), "/a\\b");
    }

    /// A path of `len` bytes under `prefix`: directories of 100-byte names, then a file name.
    fn long_path(prefix: &str, len: usize) -> String {
        let mut p = prefix.to_owned();
        let mut i = 0;
        while p.len() < len {
            let seg = format!("/d{i:03}{}", "x".repeat(95));
            p.push_str(&seg[..seg.len().min(len - p.len())]);
            i += 1;
        }
        p
    }

    #[test]
    fn long_keys_are_bounded() {
        use crate::types::ShareKind;
        let posix = KeyRule::new(ShareKind::Posix, true);
        // At the limit: kept as it is, so no key stored before changes.
        let at = long_path("/srv", MAX_KEY_BYTES);
        assert_eq!(at.len(), MAX_KEY_BYTES);
        assert_eq!(share_key(posix, &at), at);
        let a = long_path("/srv/a", 4_000);
        // Same first 3,000 bytes, different after the cut.
        let b = format!("{}/other", &a[..3_000]);
        let (ka, kb) = (share_key(posix, &a), share_key(posix, &b));
        assert_eq!(share_key(posix, &a), ka, "deterministic");
        assert_ne!(ka, kb);
        for (path, key) in [(&a, &ka), (&b, &kb)] {
            assert!(key.len() <= MAX_KEY_BYTES, "{}", key.len());
            let (dir, name) = split_dir(key);
            assert!(is_long_key_marker(name), "{name}");
            assert_eq!(name.len(), LONG_KEY_SEGMENT);
            assert!(!name.contains('/'));
            // The directory is a real ancestor of the file.
            assert!(
                dir.len() <= LONG_KEY_CUT && dir.len() > LONG_KEY_CUT - 110,
                "{dir}"
            );
            assert!(path.starts_with(dir) && path.as_bytes()[dir.len()] == b'/');
            assert_eq!(&key[..dir.len()], &path[..dir.len()]);
        }
        // The same prefix for both: they differ only in the marker, which is the key's hash.
        assert_eq!(split_dir(&ka).0, split_dir(&kb).0);
        let hash = |k: &str| {
            use sha2::{Digest, Sha256};
            Sha256::digest(k.as_bytes())
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        };
        assert!(
            split_dir(&ka)
                .1
                .starts_with(&format!("~alto-long-path-{}~", hash(&a)))
        );
        // A case-insensitive share folds first: two spellings, one file.
        let ci = KeyRule::new(ShareKind::Posix, false);
        assert_eq!(share_key(ci, &a), share_key(ci, &a.to_uppercase()));
        assert_ne!(share_key(posix, &a.to_uppercase()), ka);
        // A Windows share's normal form is bounded too.
        let ntfs = KeyRule::new(ShareKind::Ntfs, false);
        let w = format!("C:{}", a.replace('/', "\\"));
        let kw = share_key(ntfs, &w);
        assert!(
            kw.starts_with("c:/srv/a/d000") && kw.len() <= MAX_KEY_BYTES,
            "{kw}"
        );
        // No separator before the cut: the marker alone (a bare name), or under the root.
        let flat = "n".repeat(3_000);
        let kf = share_key(posix, &flat);
        assert!(is_long_key_marker(&kf) && split_dir(&kf).0.is_empty());
        let kr = share_key(posix, &format!("/{flat}"));
        assert_eq!(split_dir(&kr).0, "/");
        assert!(is_long_key_marker(split_dir(&kr).1) && kr != kf);
        // The object key drops the padding: a name every file system target holds.
        let obj = object_key(&ka).unwrap();
        let last = obj.rsplit('/').next().unwrap();
        assert_eq!(last.len(), LONG_KEY_MARKER.len() + 64);
        assert_eq!(obj, format!("{}/{last}", &split_dir(&ka).0[1..]));
        assert_eq!(object_key(&obj).unwrap(), obj, "idempotent");
        // What the readers refuse: a segment of the marker's form, in any case.
        assert!(is_long_key_marker(&split_dir(&ka).1.to_uppercase()));
        assert!(!is_long_key_marker(&split_dir(&ka).1[1..]));
        assert!(!is_long_key_marker(&"~".repeat(LONG_KEY_SEGMENT)));
    }

    #[test]
    fn split() {
        assert_eq!(split_dir("c:/data/f.txt"), ("c:/data", "f.txt"));
        assert_eq!(split_dir("/f"), ("/", "f"));
        assert_eq!(split_dir("f"), ("", "f"));
    }

    #[test]
    fn dir_hash_is_stable() {
        assert_eq!(dir_hash64(""), 0xcbf2_9ce4_8422_2325_u64 as i64);
        assert_eq!(dir_hash64("a"), 0xaf63_dc4c_8601_ec8c_u64 as i64);
        assert_ne!(dir_hash64("c:/data"), dir_hash64("c:/datb"));
    }

    #[test]
    fn roots() {
        assert!(check_root("/srv/data").is_ok());
        assert!(check_root(r"C:\Data").is_ok());
        assert!(check_root("srv/data").is_err());
        assert!(check_root("/srv/../etc").is_err());
        assert!(check_root("").is_err());
        assert_eq!(
            components_beneath("/srv/data", "/srv/data/a//b/./c").unwrap(),
            ["a", "b", "c"]
        );
        assert_eq!(
            components_beneath("/srv/data/", "/srv/data/a\\b").unwrap(),
            ["a\\b"]
        );
        for bad in [
            "/srv/database/x",
            "/srv/x",
            "srv/data/x",
            "data/x",
            "/srv/data",
            "/srv/data/",
            "/srv/data/../x",
            "/srv/data/a/../../etc",
            "/srv/data/x\0",
        ] {
            assert!(components_beneath("/srv/data", bad).is_err(), "{bad:?}");
        }
        assert_eq!(components_beneath("/", "/etc/x").unwrap(), ["etc", "x"]);
    }

    #[test]
    fn object_keys() {
        assert_eq!(object_key("c:/data/x.mov").unwrap(), "c:/data/x.mov");
        assert_eq!(object_key("//fs01/share/x").unwrap(), "fs01/share/x");
        assert_eq!(object_key("/srv/./x").unwrap(), "srv/x");
        assert!(object_key("/srv/../etc/passwd").is_err());
        assert!(object_key("/").is_err());
        assert_eq!(object_key("/a b/ü\"q,").unwrap(), "a b/ü\"q,");
    }

    #[test]
    fn join_refuses_escape() {
        assert_eq!(
            join_under("/Volumes/fs", "/a/b").unwrap(),
            "/Volumes/fs/a/b"
        );
        assert_eq!(join_under(r"L:\", "/a/./b").unwrap(), "L:/a/b");
        assert!(join_under("/Volumes/fs", "/a/../../etc").is_err());
    }
}
