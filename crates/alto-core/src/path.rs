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
//! - folded to lower case on a case-insensitive share.
//!
//! [`path_key`] is the older, share-less form (every path normalised as a Windows path would be),
//! kept for callers that have no share.

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

/// [`share_key`] into a reused buffer.
pub fn share_key_into(rule: KeyRule, path: &str, out: &mut String) {
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
                out.push_str(s);
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
