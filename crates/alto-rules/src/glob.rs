//! One glob on its own, read exactly as rules read globs: for listings and filters outside a rule
//! set (`alto find --glob`, store queries).

use crate::compile::build_glob;
use crate::path::{fold_case_into, normalize_path};
use globset::GlobMatcher;

/// A compiled glob with the rule language's conventions: `\` and `/` are separators, `*` and `?`
/// never cross one, a glob with no separator matches the file name alone, and case-insensitive
/// matching folds Unicode case like the rule engine does.
///
/// ```
/// let g = alto_rules::PathGlob::new("*.MOV").unwrap();
/// assert!(g.is_match(r"C:\Media\clip.mov", true));
/// assert!(!g.is_match("/srv/clip.mov", false));
/// assert!(alto_rules::PathGlob::new("[").is_err());
/// ```
#[derive(Debug, Clone)]
pub struct PathGlob {
    sensitive: GlobMatcher,
    insensitive: GlobMatcher,
}

impl PathGlob {
    /// Compile `pattern`; the error names the pattern and what is wrong with it.
    pub fn new(pattern: &str) -> Result<Self, String> {
        let build = |ci: bool| {
            build_glob(pattern, ci)
                .map(|g| g.compile_matcher())
                .map_err(|e| format!("bad glob {pattern:?}: {}", e.kind()))
        };
        Ok(PathGlob {
            sensitive: build(false)?,
            insensitive: build(true)?,
        })
    }

    /// Whether `path` (raw or normalised) matches, case-insensitively when asked.
    pub fn is_match(&self, path: &str, case_insensitive: bool) -> bool {
        let mut norm = String::with_capacity(path.len());
        normalize_path(path, &mut norm);
        if case_insensitive {
            let mut folded = String::with_capacity(norm.len());
            fold_case_into(&norm, &mut folded);
            self.insensitive.is_match(folded.as_str())
        } else {
            self.sensitive.is_match(norm.as_str())
        }
    }
}
