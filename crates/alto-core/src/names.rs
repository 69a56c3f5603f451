//! Tenant and share names: what a new one may be.
//!
//! Names end up in object keys, directory names of `file://` targets and log lines, so a new name
//! is one safe path segment: `[A-Za-z0-9][A-Za-z0-9._-]{0,63}` — no separators, no `.` or `..`, no
//! leading dot or dash, nothing an object store or a shell would read twice. Names stored before
//! this rule keep working (stores look them up as they are); only new names are checked.

use crate::error::{Error, Result};

/// The longest name.
pub const MAX_NAME: usize = 64;

/// Whether `name` is a valid new tenant or share name.
pub fn is_valid_name(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && b.len() <= MAX_NAME
        && b[0].is_ascii_alphanumeric()
        && b.iter()
            .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'))
}

/// Check a new name; `what` is `tenant` or `share`.
///
/// # Errors
/// `InvalidInput` naming the rule when `name` breaks it.
pub fn check_name(what: &str, name: &str) -> Result<()> {
    if is_valid_name(name) {
        Ok(())
    } else {
        Err(Error::invalid_input(format!(
            "{what} name {name:?} is not allowed: use 1 to {MAX_NAME} letters, digits, `.`, `_` or \
             `-`, starting with a letter or digit"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for ok in ["acme", "a", "fs01", "share.2", "A_b-c", &"x".repeat(64)] {
            assert!(is_valid_name(ok), "{ok}");
        }
        for bad in [
            "",
            ".",
            "..",
            ".hidden",
            "-x",
            "_x",
            "acme/tmp",
            "a\\b",
            "a b",
            "ä",
            "x\0",
            &"x".repeat(65),
        ] {
            assert!(!is_valid_name(bad), "{bad:?}");
            assert!(check_name("tenant", bad).is_err());
        }
    }
}
