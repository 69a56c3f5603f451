//! A single glob for listings (`alto find --glob`), with the rule language's conventions: `\` and
//! `/` are separators, `*` never crosses one, and a glob without a separator matches the file
//! name alone.

use globset::{GlobBuilder, GlobMatcher};

/// A compiled listing glob, in a case-sensitive and a case-insensitive variant.
#[derive(Debug, Clone)]
pub struct PathGlob {
    sensitive: GlobMatcher,
    insensitive: GlobMatcher,
}

impl PathGlob {
    /// Compile `pattern`; the error says what is wrong with it.
    pub fn new(pattern: &str) -> Result<Self, String> {
        let norm = alto_rules::normalized(pattern);
        let source = if norm.contains('/') {
            norm
        } else {
            format!("**/{norm}")
        };
        let build = |ci: bool| {
            GlobBuilder::new(&source)
                .literal_separator(true)
                .backslash_escape(false)
                .case_insensitive(ci)
                .build()
                .map(|g| g.compile_matcher())
                .map_err(|e| format!("bad glob {pattern:?}: {e}"))
        };
        Ok(PathGlob {
            sensitive: build(false)?,
            insensitive: build(true)?,
        })
    }

    /// Whether `path` (raw or normalised) matches.
    pub fn is_match(&self, path: &str, case_insensitive: bool) -> bool {
        let norm = alto_rules::normalized(path);
        if case_insensitive {
            self.insensitive.is_match(&norm)
        } else {
            self.sensitive.is_match(&norm)
        }
    }
}
