//! Object keys: a file's path key turned into a key under a target, safe for any path.

use alto_core::{Error, Result};

/// The object key of a file with path key `path_key`: its segments joined with `/`, with empty
/// and `.` segments dropped, so drive letters and UNC prefixes become ordinary leading segments
/// (`c:/data/x` → `c:/data/x`, `//fs01/share/x` → `fs01/share/x`, `/srv/x` → `srv/x`). A `..`
/// segment is refused: a key never leaves its target.
pub fn object_key(path_key: &str) -> Result<String> {
    let mut out = String::with_capacity(path_key.len());
    for seg in path_key.split(['/', '\\']) {
        match seg {
            "" | "." => {}
            ".." => {
                return Err(Error::invalid_input(format!(
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
        return Err(Error::invalid_input(format!(
            "path {path_key:?} has no name to store under"
        )));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::object_key;

    #[test]
    fn keys() {
        assert_eq!(object_key("c:/data/x.mov").unwrap(), "c:/data/x.mov");
        assert_eq!(object_key("//fs01/share/x").unwrap(), "fs01/share/x");
        assert_eq!(object_key("/srv/./x").unwrap(), "srv/x");
        assert!(object_key("/srv/../etc/passwd").is_err());
        assert!(object_key("/").is_err());
        assert_eq!(object_key("/a b/ü\"q,").unwrap(), "a b/ü\"q,");
    }
}
