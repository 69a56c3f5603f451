//! The hot path: evaluating one file against a compiled rule set, without allocating.
//!
//! 1. Normalise the path into the scratch buffer and pick the case variant.
//! 2. Scalar conditions for all rules at once: one binary search per condition (sizes, ages)
//!    and one lookup per extension table give bitsets over ranks; their AND is the set of
//!    candidates.
//! 3. If a candidate that needs globs comes before the first candidate that needs nothing
//!    more, run the glob set once and drop the candidates it rules out; then the same for the
//!    regex set. A file whose candidates are decided by scalars never touches a matcher.
//! 4. The lowest candidate rank is the answer.

use regex_automata::{Input, PatternSet, Span, meta};

use crate::bracket::fold_glob_into;
use crate::compile::{Matcher, age_key, ext_key};
use crate::glob::GlobScratch;
use crate::path::{extension_of_normal, fold_case_into, is_windows_path, normalize_path};
use crate::{CaseMode, FileFacts, Micros};

/// Reusable buffers for [`RuleSet::evaluate`](crate::RuleSet::evaluate).
///
/// Get one from [`RuleSet::scratch`](crate::RuleSet::scratch), keep one per thread, and pass it to
/// every call: after the first few files (buffers grow to the longest path seen) evaluation does
/// not allocate. A scratch made for another rule set still works: it is rebuilt on first use.
#[derive(Debug, Clone)]
pub struct Scratch {
    owner: u64,
    /// The current file's path in normal form.
    pub(crate) path: String,
    /// The current file's extension, folded.
    ext: String,
    /// Candidate ranks.
    candidates: Vec<u64>,
    pub(crate) globs: GlobHits,
    pub(crate) regex: RegexHits,
}

/// What the glob set found in the current path.
#[derive(Debug, Clone)]
pub(crate) struct GlobHits {
    /// The path folded to lower case, for case-insensitive matching.
    folded: String,
    /// The glob group's buffers, per case variant.
    scratch: [Option<GlobScratch>; 2],
    /// Indices of the matching globs.
    pub(crate) hits: Vec<usize>,
    /// Per rank: some include glob matched.
    pub(crate) include: Vec<u64>,
    /// Per rank: some exclude glob matched.
    pub(crate) exclude: Vec<u64>,
}

/// What the regex set found in the current path.
#[derive(Debug, Clone)]
pub(crate) struct RegexHits {
    /// Per rank: its regex occurs in the path.
    pub(crate) found: Vec<u64>,
    patset: PatternSet,
    caches: [Option<meta::Cache>; 2],
    /// The path in ASCII lower case, for the case-insensitive set's prefilter.
    lower: String,
}

/// Whether bit `i` is set.
#[inline]
pub(crate) fn bit(bits: &[u64], i: usize) -> bool {
    bits[i / 64] >> (i % 64) & 1 == 1
}

/// The lowest `i` set in both `a` and `b`.
#[inline]
fn first_common(a: &[u64], b: &[u64]) -> Option<usize> {
    a.iter()
        .zip(b)
        .position(|(x, y)| x & y != 0)
        .map(|w| w * 64 + (a[w] & b[w]).trailing_zeros() as usize)
}

/// Whether some `i < limit` is set in both `a` and `b`.
#[inline]
fn common_below(a: &[u64], b: &[u64], limit: usize) -> bool {
    a.iter().zip(b).enumerate().any(|(w, (x, y))| {
        let below = match limit.saturating_sub(w * 64) {
            0 => 0,
            n if n >= 64 => u64::MAX,
            n => (1u64 << n) - 1,
        };
        x & y & below != 0
    })
}

/// An empty bitset: what a missing extension table entry contributes.
const NONE: &[u64] = &[];

impl Matcher {
    /// Fresh buffers for this matcher.
    pub(crate) fn scratch(&self) -> Scratch {
        Scratch {
            owner: self.id,
            path: String::with_capacity(512),
            ext: String::with_capacity(32),
            candidates: vec![0; self.words],
            globs: GlobHits {
                folded: String::with_capacity(512),
                scratch: [0, 1].map(|i| self.globs[i].as_ref().map(|g| g.scratch())),
                hits: Vec::with_capacity(self.glob_owner.len()),
                include: vec![0; self.words],
                exclude: vec![0; self.words],
            },
            regex: RegexHits {
                found: vec![0; self.words],
                patset: PatternSet::new(self.regex_owner.len()),
                caches: [0, 1].map(|i| self.regexes[i].as_ref().map(meta::Regex::create_cache)),
                lower: String::new(),
            },
        }
    }

    /// Normalises the file's path into the scratch (rebuilding a foreign scratch first) and
    /// returns the case slot to use (`1`: case-insensitive).
    pub(crate) fn prepare(&self, path: &str, s: &mut Scratch) -> usize {
        if s.owner != self.id {
            *s = self.scratch();
        }
        normalize_path(path, &mut s.path);
        let insensitive = match self.mode {
            CaseMode::Auto => is_windows_path(&s.path),
            CaseMode::Sensitive => false,
            CaseMode::Insensitive => true,
        };
        usize::from(insensitive)
    }

    /// Runs the glob set over the normalised path: sets the include/exclude bit of each rank
    /// with a matching glob and leaves the matching glob indices in `out.hits`.
    fn match_globs(&self, case: usize, path: &str, out: &mut GlobHits) {
        out.include.fill(0);
        out.exclude.fill(0);
        out.hits.clear();
        let (Some(group), Some(scratch)) = (&self.globs[case], out.scratch[case].as_mut()) else {
            return;
        };
        let subject = if case == 1 {
            fold_glob_into(path, &mut out.folded);
            out.folded.as_str()
        } else {
            path
        };
        group.matches_into(subject, scratch, &mut out.hits);
        for &g in &out.hits {
            let owner = self.glob_owner[g];
            let bits = if owner.exclude {
                &mut out.exclude
            } else {
                &mut out.include
            };
            bits[owner.rank as usize / 64] |= 1 << (owner.rank % 64);
        }
    }

    /// Runs the regex set over the normalised path and sets the bit of each rank whose regex
    /// occurs in it.
    fn match_regex(&self, case: usize, path: &str, out: &mut RegexHits) {
        out.found.fill(0);
        let (Some(re), Some(cache)) = (&self.regexes[case], out.caches[case].as_mut()) else {
            return;
        };
        if let (1, Some(pre)) = (case, &self.folded_prefilter) {
            if path.is_ascii() {
                out.lower.clear();
                out.lower.push_str(path);
                out.lower.make_ascii_lowercase();
                let hay = out.lower.as_bytes();
                if pre.find(hay, Span::from(0..hay.len())).is_none() {
                    return;
                }
            }
        }
        out.patset.clear();
        re.which_overlapping_matches_with(cache, &Input::new(path), &mut out.patset);
        for pid in out.patset.iter() {
            let rank = self.regex_owner[pid.as_usize()];
            out.found[rank as usize / 64] |= 1 << (rank % 64);
        }
    }

    /// Runs both sets over the prepared path (for explanations).
    pub(crate) fn match_all(&self, case: usize, s: &mut Scratch) {
        self.match_globs(case, &s.path, &mut s.globs);
        self.match_regex(case, &s.path, &mut s.regex);
    }

    /// The first enabled rule (by priority, then position) that the file matches.
    pub(crate) fn evaluate(
        &self,
        file: &FileFacts<'_>,
        now: Micros,
        s: &mut Scratch,
    ) -> Option<usize> {
        let case = self.prepare(file.path, s);
        let Scratch {
            path,
            ext,
            candidates,
            globs,
            regex,
            ..
        } = s;

        // 2. Scalar conditions, all rules at once.
        let (min, max) = (self.min_size.at(file.size), self.max_size.at(file.size));
        let age = |t: Option<Micros>| t.map(|t| i128::from(now) - i128::from(t));
        let (ab, aa) = match age(file.accessed.or(file.modified)) {
            Some(a) => (
                self.accessed_before.at(age_key(a - 1)),
                self.accessed_after.at(age_key(a)),
            ),
            None => (
                self.accessed_before.unknown(),
                self.accessed_after.unknown(),
            ),
        };
        let (mb, ma) = match age(file.modified) {
            Some(a) => (
                self.modified_before.at(age_key(a - 1)),
                self.modified_after.at(age_key(a)),
            ),
            None => (
                self.modified_before.unknown(),
                self.modified_after.unknown(),
            ),
        };
        let (listed, excluded) = match extension_of_normal(path) {
            Some(e) if self.uses_extensions => {
                fold_case_into(e, ext);
                let key = ext_key(ext);
                (
                    self.extensions.get(ext, key).unwrap_or(NONE),
                    self.exclude_extensions.get(ext, key).unwrap_or(NONE),
                )
            }
            _ => (NONE, NONE),
        };
        for (w, c) in candidates.iter_mut().enumerate() {
            let listed = self.any_extension[w] | listed.get(w).copied().unwrap_or(0);
            let excluded = excluded.get(w).copied().unwrap_or(0);
            *c = min[w] & max[w] & ab[w] & aa[w] & mb[w] & ma[w] & listed & !excluded;
        }

        // 3. Globs, then regexes, only when a candidate needing them could come first.
        let limit = first_common(candidates, &self.plain).unwrap_or(usize::MAX);
        if common_below(candidates, &self.needs_globs, limit) {
            self.match_globs(case, path, globs);
            for (w, c) in candidates.iter_mut().enumerate() {
                *c &= (self.no_include[w] | globs.include[w]) & !globs.exclude[w];
            }
        }
        // When the globs were skipped, every candidate below the first plain one needs a regex
        // (and no glob), so this `limit` is that plain rule and no unverified glob rule can win.
        let limit = first_common(candidates, &self.no_regex).unwrap_or(usize::MAX);
        if common_below(candidates, &self.needs_regex, limit) {
            self.match_regex(case, path, regex);
            for (w, c) in candidates.iter_mut().enumerate() {
                *c &= self.no_regex[w] | regex.found[w];
            }
        }

        // 4. The lowest remaining rank.
        let rank = candidates
            .iter()
            .position(|&c| c != 0)
            .map(|w| w * 64 + candidates[w].trailing_zeros() as usize)?;
        Some(self.order[rank] as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bit_helpers() {
        let a = [0b1010u64, 1];
        assert_eq!(first_common(&a, &[u64::MAX, 0]), Some(1));
        assert_eq!(first_common(&a, &[0, u64::MAX]), Some(64));
        assert_eq!(first_common(&a, &[0b0101, 0]), None);
        assert!(!common_below(&a, &[u64::MAX; 2], 1));
        assert!(common_below(&a, &[u64::MAX; 2], 2));
        assert!(!common_below(&a, &[0, u64::MAX], 64));
        assert!(common_below(&a, &[0, u64::MAX], 65));
        assert!(common_below(&a, &[0, u64::MAX], usize::MAX));
        assert!(bit(&a, 3) && !bit(&a, 2) && bit(&a, 64));
    }
}
