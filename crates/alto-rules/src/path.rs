//! The path normal form that rules match against, file names and extensions.
//!
//! DESIGN §4: `\` and `/` are both separators and are written `/`; repeated separators collapse,
//! except that a leading `//` (a UNC path) stays; there is no trailing separator. Nothing else is
//! changed: `.` and `..` segments are kept as written, and case is not folded (case-insensitive
//! paths are matched by case-insensitive matchers instead, so the normal form stays displayable).
//! Globs are normalised the same way, which is why `\` is never an escape in a glob.
//!
//! `alto-core` derives its `path_key` from the same function, so rules and the store agree.

/// Whether a byte is a path separator (`/` or `\`).
#[inline]
fn is_sep(b: u8) -> bool {
    b == b'/' || b == b'\\'
}

/// Writes the normal form of `path` into `out` (which is cleared first).
///
/// - every `\` becomes `/`;
/// - a run of separators becomes one `/`, except a leading run of two or more, which becomes `//`
///   (the UNC prefix `\\server\share` is `//server/share`);
/// - trailing separators are dropped, unless the path is nothing but its leading `/` or `//`.
///
/// The function is idempotent and gives the same result for the `\` and `/` spellings of a path.
/// It does not allocate once `out` has room for the path.
///
/// ```
/// let mut out = String::new();
/// alto_rules::normalize_path(r"C:\Data\\dept3\", &mut out);
/// assert_eq!(out, "C:/Data/dept3");
/// alto_rules::normalize_path(r"\\nas01\share\x.mov", &mut out);
/// assert_eq!(out, "//nas01/share/x.mov");
/// ```
pub fn normalize_path(path: &str, out: &mut String) {
    // Work on the bytes of `out`'s own buffer: only ASCII separators are rewritten or dropped,
    // so the result is still valid UTF-8 and `from_utf8` below cannot fail. One copy and one
    // pass, rather than a push per segment: this runs once per file in the planner's loop.
    let mut buf = std::mem::take(out).into_bytes();
    buf.clear();
    let bytes = path.as_bytes();
    let lead = bytes.iter().take_while(|&&b| is_sep(b)).count();
    buf.extend_from_slice(&b"//"[..lead.min(2)]);
    let start = buf.len();
    buf.extend_from_slice(&bytes[lead..]);
    let (mut runs, mut prev) = (false, false);
    for b in &mut buf[start..] {
        let sep = is_sep(*b);
        if sep {
            *b = b'/';
        }
        runs |= sep & prev;
        prev = sep;
    }
    if runs || prev {
        // The body starts with a non-separator, so `buf[w - 1]` below is always in the body.
        let mut w = start;
        for r in start..buf.len() {
            let b = buf[r];
            if b == b'/' && buf[w - 1] == b'/' {
                continue;
            }
            buf[w] = b;
            w += 1;
        }
        if w > start && buf[w - 1] == b'/' {
            w -= 1;
        }
        buf.truncate(w);
    }
    *out = String::from_utf8(buf).expect("only ASCII separators were changed");
}

/// The normal form of `path` as a new string; see [`normalize_path`].
///
/// ```
/// assert_eq!(alto_rules::normalized("/srv//media/"), "/srv/media");
/// ```
pub fn normalized(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    normalize_path(path, &mut out);
    out
}

/// The file name: what follows the last separator, ignoring trailing separators.
///
/// Works on raw and normalised paths alike.
pub(crate) fn file_name(path: &str) -> &str {
    let trimmed = path.trim_end_matches(['/', '\\']);
    match trimmed.rfind(['/', '\\']) {
        Some(i) => &trimmed[i + 1..],
        None => trimmed,
    }
}

/// The extension of a path's file name, without the dot and with its case as written.
///
/// DESIGN §4: what follows the last `.` of the file name; a name whose only dot is its first
/// character (`.bashrc`) has none. Decided here: an empty extension is no extension, so `"a."`
/// and `".."` have none, while `"..bashrc"` (two dots) has `"bashrc"`. Both separators count and
/// trailing separators are ignored, so a raw path and its normal form give the same answer.
///
/// ```
/// use alto_rules::extension;
/// assert_eq!(extension(r"C:\Media\Clip.MOV"), Some("MOV"));
/// assert_eq!(extension("/home/a/archive.tar.gz"), Some("gz"));
/// assert_eq!(extension("/home/a/.bashrc"), None);
/// assert_eq!(extension("/home/a/README"), None);
/// assert_eq!(extension("/home/a/odd."), None);
/// ```
pub fn extension(path: &str) -> Option<&str> {
    let name = file_name(path);
    match name.rfind('.') {
        Some(0) | None => None,
        Some(i) if i + 1 == name.len() => None,
        Some(i) => Some(&name[i + 1..]),
    }
}

/// Whether a path in normal form is case-insensitive under `case_sensitive = "auto"`.
///
/// True for a drive-letter path (`C:` followed by a separator or nothing: `C:/…`, `C:`) and for a
/// UNC path (`//server…`); false for every other path, POSIX paths included. A raw path gives the
/// same answer as its normal form (both separators are recognised).
///
/// ```
/// use alto_rules::is_windows_path;
/// assert!(is_windows_path("C:/Data/x.pdf"));
/// assert!(is_windows_path(r"\\nas01\share"));
/// assert!(!is_windows_path("/srv/data"));
/// assert!(!is_windows_path("C:relative"));
/// ```
pub fn is_windows_path(path: &str) -> bool {
    let b = path.as_bytes();
    let drive = b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':';
    if drive {
        return b.len() == 2 || is_sep(b[2]);
    }
    let lead = b.iter().take_while(|&&c| is_sep(c)).count();
    lead >= 2 && b.len() > lead
}

/// Folds text for case-insensitive comparison: Unicode lower case, character by character.
///
/// Char-by-char (not `str::to_lowercase`, whose final-sigma rule depends on context) so that a
/// comparison can fold either side on the fly and get the same answer.
pub fn fold_case(ext: &str) -> String {
    let mut out = String::with_capacity(ext.len());
    fold_case_into(ext, &mut out);
    out
}

/// Writes the case-folded form of `text` (see [`fold_case`]) into `out`, which is cleared first.
/// Does not allocate once `out` has room.
#[inline]
pub fn fold_case_into(text: &str, out: &mut String) {
    out.clear();
    if text.is_ascii() {
        out.push_str(text);
        out.make_ascii_lowercase();
    } else {
        out.extend(text.chars().flat_map(char::to_lowercase));
    }
}

/// [`extension`] of a path already in normal form (no `\`, no trailing separator): the hot
/// path's cheaper variant.
#[inline]
pub(crate) fn extension_of_normal(path: &str) -> Option<&str> {
    let name = match path.rfind('/') {
        Some(i) => &path[i + 1..],
        None => path,
    };
    match name.rfind('.') {
        Some(0) | None => None,
        Some(i) if i + 1 == name.len() => None,
        Some(i) => Some(&name[i + 1..]),
    }
}

/// Whether a file's extension (as written) equals a folded rule extension, case-insensitively.
#[inline]
pub(crate) fn ext_matches(ext: &str, folded: &str) -> bool {
    if ext.is_ascii() {
        // Lower-casing ASCII gives ASCII of the same length; `folded` is already lower case.
        ext.len() == folded.len()
            && ext
                .bytes()
                .zip(folded.bytes())
                .all(|(a, b)| a.to_ascii_lowercase() == b)
    } else {
        ext.chars().flat_map(char::to_lowercase).eq(folded.chars())
    }
}

/// The glob as it is compiled: normalised like a path and, when it has no separator at all,
/// anchored to the file name alone (`*.tmp` becomes `**/*.tmp`).
pub(crate) fn glob_source(glob: &str) -> String {
    let norm = normalized(glob);
    if norm.contains('/') {
        norm
    } else {
        format!("**/{norm}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_form() {
        for (raw, want) in [
            ("", ""),
            ("/", "/"),
            ("\\", "/"),
            ("//", "//"),
            ("\\\\\\", "//"),
            ("a", "a"),
            ("a/", "a"),
            ("a//b\\\\c\\", "a/b/c"),
            ("/srv//media/", "/srv/media"),
            ("C:\\", "C:"),
            ("C:\\Data\\x.pdf", "C:/Data/x.pdf"),
            ("\\\\server\\share\\x", "//server/share/x"),
            ("///server//share", "//server/share"),
            ("./a/../b", "./a/../b"),
            ("é\\ü/ß", "é/ü/ß"),
        ] {
            assert_eq!(normalized(raw), want, "{raw:?}");
            assert_eq!(normalized(want), want, "idempotent on {want:?}");
        }
    }

    #[test]
    fn extensions() {
        assert_eq!(extension("a.txt"), Some("txt"));
        assert_eq!(extension("dir.d/file"), None);
        assert_eq!(extension("dir/.bashrc"), None);
        assert_eq!(extension("dir/..bashrc"), Some("bashrc"));
        assert_eq!(extension("dir/.."), None);
        assert_eq!(extension("a."), None);
        assert_eq!(extension("a.b.c/"), Some("c"));
        assert_eq!(extension(r"C:\x\Y.PDF"), Some("PDF"));
        assert_eq!(extension(""), None);
        assert_eq!(file_name("/a/b/"), "b");
        assert_eq!(file_name("b"), "b");
    }

    #[test]
    fn windows_detection() {
        assert!(is_windows_path("C:"));
        assert!(is_windows_path("z:/"));
        assert!(is_windows_path("C:\\x"));
        assert!(is_windows_path("//s"));
        assert!(!is_windows_path("//"));
        assert!(!is_windows_path("/s"));
        assert!(!is_windows_path("1:/x"));
        assert!(!is_windows_path("CC:/x"));
        assert!(!is_windows_path(""));
    }

    #[test]
    fn extension_folding() {
        assert!(ext_matches("MOV", &fold_case("mov")));
        assert!(ext_matches("mov", &fold_case("MoV")));
        assert!(!ext_matches("mo", &fold_case("mov")));
        assert!(ext_matches("ÉTÉ", &fold_case("été")));
        assert!(ext_matches("ΣΑΣ", &fold_case("σασ")));
        assert!(ext_matches("ΣΑΣ", &fold_case("ΣΑΣ")));
        assert!(!ext_matches("e", &fold_case("é")));
    }

    #[test]
    fn glob_sources() {
        assert_eq!(glob_source("*.tmp"), "**/*.tmp");
        assert_eq!(glob_source("Thumbs.db"), "**/Thumbs.db");
        assert_eq!(glob_source(r"C:\Data\**"), "C:/Data/**");
        assert_eq!(glob_source("{a,b}"), "**/{a,b}");
        assert_eq!(glob_source("**/keep/**"), "**/keep/**");
    }
}
