//! How a glob is compiled and matched, for the rule set (many globs at once, [`GlobGroup`]) and
//! on its own ([`PathGlob`], for listings and filters outside a rule set such as
//! `alto find --glob`, and the naive evaluator).
//!
//! Globset does the parsing and the fast strategies (literals, extensions, prefixes), but it
//! reads a bracket byte by byte, lets it match `/` and knows no POSIX classes. So each bracket
//! is read here (see `bracket.rs`) and stood in for, while globset parses the rest, by a
//! placeholder character; a glob with brackets then becomes globset's regex with the
//! placeholders replaced by the bracket's own class, and all such globs run as one
//! multi-pattern regex beside the `GlobSet`. Globs without brackets keep globset's strategies.
//!
//! Globset's `?` also matches a byte, not a character. On an ASCII path the two are the same, so
//! a [`GlobGroup`] keeps `?` globs in the `GlobSet` for ASCII paths (all paths, in practice) and
//! holds a second variant, where `?` is a placeholder for "one character but `/`", for the others.

use std::fmt::Write;

use globset::{Candidate, Glob, GlobBuilder, GlobMatcher, GlobSet, GlobSetBuilder};
use regex_automata::nfa::thompson::WhichCaptures;
use regex_automata::util::syntax;
use regex_automata::{Anchored, Input, MatchKind, PatternSet, meta};

use crate::bracket::{self, fold_char, fold_glob_into};
use crate::compile::REGEX_SIZE_LIMIT;
use crate::path::{glob_source, normalize_path};

/// Size limit of the regex that holds every glob with a bracket.
const GLOB_REGEX_SET_SIZE_LIMIT: usize = 256 << 20;

/// One glob, compiled for one case mode.
#[derive(Debug, Clone)]
pub(crate) enum Compiled {
    /// No bracket: globset's own glob.
    Glob(Glob),
    /// With a bracket: the regex to match (byte-oriented, anchored at both ends).
    Regex(String),
}

/// Compiles one glob as the rule language reads it: normalised, name-only globs anchored to the
/// file name, `*` and `?` never crossing `/`, `\` never an escape, brackets never matching `/`.
///
/// The case-insensitive variant is to be matched against the path folded with
/// [`fold_glob_into`]: its literal parts are folded the same way and its brackets match the
/// folds of their members (see `bracket.rs`). Globset's own `case_insensitive` folds ASCII
/// letters only, and NTFS/SMB names are case-insensitive beyond ASCII (`É` = `é`); folded
/// globs also keep globset's fast literal and extension strategies.
///
/// With `ascii_only`, `?` is left to globset, which matches one byte: right for ASCII paths
/// only. The error says what is wrong, to follow "bad glob …: ".
pub(crate) fn compile(
    pattern: &str,
    insensitive: bool,
    ascii_only: bool,
) -> Result<Compiled, String> {
    compile_noting_any(pattern, insensitive, ascii_only).map(|(compiled, _)| compiled)
}

/// [`compile`], also saying whether the glob has a `?` wildcard (outside brackets).
fn compile_noting_any(
    pattern: &str,
    insensitive: bool,
    ascii_only: bool,
) -> Result<(Compiled, bool), String> {
    let source: Vec<char> = glob_source(pattern).chars().collect();
    // Placeholders: private-use characters that the glob does not contain.
    let mut spare = (0xF_0000..=0xF_FFFD)
        .filter_map(char::from_u32)
        .filter(|c| !source.contains(c));
    let mut text = String::with_capacity(source.len());
    let mut classes: Vec<(char, String)> = Vec::new();
    let mut has_any = false;
    let mut i = 0;
    while i < source.len() {
        let c = source[i];
        if c == '[' {
            let (parsed, end) = bracket::parse(&source, i)?;
            let class = parsed.effective(insensitive)?.to_regex();
            let stand_in = spare.next().ok_or("too many brackets")?;
            text.push(stand_in);
            classes.push((stand_in, class));
            i = end;
        } else if c == '?' && !ascii_only {
            has_any = true;
            let stand_in = spare.next().ok_or("too many wildcards")?;
            text.push(stand_in);
            classes.push((stand_in, "(?u:[^/])".into()));
            i += 1;
        } else {
            has_any |= c == '?';
            text.push(if insensitive { fold_char(c) } else { c });
            i += 1;
        }
    }
    let glob = GlobBuilder::new(&text)
        .literal_separator(true)
        .backslash_escape(false)
        .build()
        .map_err(|e| e.kind().to_string())?;
    if classes.is_empty() {
        return Ok((Compiled::Glob(glob), has_any));
    }
    let mut re = glob.regex().to_owned();
    for (stand_in, class) in classes {
        // Globset writes a non-ASCII literal as the `\xNN` escapes of its UTF-8 bytes.
        let mut escaped = String::new();
        for b in stand_in.encode_utf8(&mut [0; 4]).bytes() {
            let _ = write!(escaped, "\\x{b:02x}");
        }
        if !re.contains(&escaped) {
            return Err(format!("internal error: bracket lost in {re:?}"));
        }
        re = re.replace(&escaped, &class);
    }
    Ok((Compiled::Regex(re), has_any))
}

/// A regex built like globset builds its own (bytes, `.` matching any byte), holding `patterns`.
fn glob_regex(patterns: &[&str]) -> Result<meta::Regex, String> {
    let config = meta::Config::new()
        .match_kind(MatchKind::All)
        .which_captures(WhichCaptures::None)
        .utf8_empty(false)
        .nfa_size_limit(Some(GLOB_REGEX_SET_SIZE_LIMIT))
        .onepass_size_limit(Some(REGEX_SIZE_LIMIT))
        .hybrid_cache_capacity(REGEX_SIZE_LIMIT)
        .dfa_size_limit(Some(REGEX_SIZE_LIMIT));
    let syntax = syntax::Config::new().utf8(false).dot_matches_new_line(true);
    meta::Builder::new()
        .configure(config)
        .syntax(syntax)
        .build_many(patterns)
        .map_err(|e| e.to_string())
}

/// Many globs matched at once: the bracket-free ones in a `GlobSet`, the others in one regex;
/// one such variant for ASCII paths and, when some glob has a `?`, one for the others.
#[derive(Debug)]
pub(crate) struct GlobGroup {
    ascii: Variant,
    unicode: Option<Variant>,
}

/// One way of matching all the globs of a group.
#[derive(Debug)]
struct Variant {
    set: GlobSet,
    /// Glob index of each glob of `set`.
    set_ids: Box<[usize]>,
    regex: Option<meta::Regex>,
    /// Glob index of each pattern of `regex`.
    regex_ids: Box<[usize]>,
}

impl Variant {
    /// The variant and whether some glob has a `?` wildcard.
    fn new(
        patterns: &[&str],
        insensitive: bool,
        ascii_only: bool,
    ) -> Result<(Variant, bool), String> {
        let mut has_any = false;
        let mut builder = GlobSetBuilder::new();
        let (mut set_ids, mut regex_ids, mut regexes) = (Vec::new(), Vec::new(), Vec::new());
        for (i, p) in patterns.iter().enumerate() {
            let compiled = compile_noting_any(p, insensitive, ascii_only);
            let (compiled, any) = compiled.map_err(|e| format!("bad glob {p:?}: {e}"))?;
            has_any |= any;
            match compiled {
                Compiled::Glob(g) => {
                    builder.add(g);
                    set_ids.push(i);
                }
                Compiled::Regex(re) => {
                    regexes.push(re);
                    regex_ids.push(i);
                }
            }
        }
        let set = builder
            .build()
            .map_err(|e| format!("the globs do not compile together: {e}"))?;
        let regex = if regexes.is_empty() {
            None
        } else {
            let patterns: Vec<&str> = regexes.iter().map(String::as_str).collect();
            let re = glob_regex(&patterns)
                .map_err(|e| format!("the globs with brackets do not compile together: {e}"))?;
            Some(re)
        };
        let variant = Variant {
            set,
            set_ids: set_ids.into(),
            regex,
            regex_ids: regex_ids.into(),
        };
        Ok((variant, has_any))
    }

    fn scratch(&self) -> VariantScratch {
        // The cache is made on first use: a scratch is cheap to make (`explain` makes one per
        // call) and the char-wise variant's cache is only needed once a non-ASCII path comes.
        VariantScratch {
            cache: None,
            patset: PatternSet::new(self.regex_ids.len()),
        }
    }

    #[inline]
    fn matches_into(&self, subject: &str, s: &mut VariantScratch, hits: &mut Vec<usize>) {
        hits.clear();
        if !self.set_ids.is_empty() {
            self.set
                .matches_candidate_into(&Candidate::from_bytes(subject.as_bytes()), hits);
            for h in hits.iter_mut() {
                *h = self.set_ids[*h];
            }
        }
        if let Some(re) = &self.regex {
            let cache = s.cache.get_or_insert_with(|| re.create_cache());
            s.patset.clear();
            let input = Input::new(subject).anchored(Anchored::Yes);
            re.which_overlapping_matches_with(cache, &input, &mut s.patset);
            if !s.patset.is_empty() {
                hits.extend(s.patset.iter().map(|p| self.regex_ids[p.as_usize()]));
                hits.sort_unstable();
            }
        }
    }
}

impl GlobGroup {
    /// Compiles `patterns`; the error says which glob is wrong and why.
    pub(crate) fn new(patterns: &[&str], insensitive: bool) -> Result<GlobGroup, String> {
        let (ascii, has_any) = Variant::new(patterns, insensitive, true)?;
        let unicode = if has_any {
            Some(Variant::new(patterns, insensitive, false)?.0)
        } else {
            None
        };
        Ok(GlobGroup { ascii, unicode })
    }

    /// The buffers [`matches_into`](Self::matches_into) needs.
    pub(crate) fn scratch(&self) -> GlobScratch {
        GlobScratch {
            ascii: self.ascii.scratch(),
            unicode: self.unicode.as_ref().map(Variant::scratch),
        }
    }

    /// Writes the indices of the globs that match `subject` (a normalised path, folded for a
    /// case-insensitive group) into `hits`, in increasing order. Does not allocate once `hits`
    /// has room for every glob.
    #[inline]
    pub(crate) fn matches_into(&self, subject: &str, s: &mut GlobScratch, hits: &mut Vec<usize>) {
        match (&self.unicode, s.unicode.as_mut()) {
            (Some(unicode), Some(scratch)) if !subject.is_ascii() => {
                unicode.matches_into(subject, scratch, hits);
            }
            _ => self.ascii.matches_into(subject, &mut s.ascii, hits),
        }
    }
}

/// Per-thread buffers of a [`GlobGroup`].
#[derive(Debug, Clone)]
pub(crate) struct GlobScratch {
    ascii: VariantScratch,
    unicode: Option<VariantScratch>,
}

#[derive(Debug, Clone)]
struct VariantScratch {
    /// Made on first use.
    cache: Option<meta::Cache>,
    patset: PatternSet,
}

/// One compiled glob (one case mode), matched on its own: like a [`GlobGroup`] of one, with
/// globset's form for ASCII paths and, when the glob has a `?`, a char-wise form for the others.
#[derive(Debug, Clone)]
pub(crate) struct SingleGlob {
    ascii: OneMatcher,
    unicode: Option<OneMatcher>,
}

#[derive(Debug, Clone)]
enum OneMatcher {
    Glob(GlobMatcher),
    Regex(meta::Regex),
}

impl OneMatcher {
    fn new(compiled: Compiled) -> Result<OneMatcher, String> {
        Ok(match compiled {
            Compiled::Glob(g) => OneMatcher::Glob(g.compile_matcher()),
            Compiled::Regex(re) => OneMatcher::Regex(glob_regex(&[&re])?),
        })
    }

    fn is_match(&self, subject: &str) -> bool {
        match self {
            OneMatcher::Glob(g) => g.is_match_candidate(&Candidate::from_bytes(subject.as_bytes())),
            OneMatcher::Regex(re) => re.is_match(Input::new(subject).anchored(Anchored::Yes)),
        }
    }
}

impl SingleGlob {
    /// Compiles `pattern`; the error says what is wrong, to follow "bad glob …: ".
    pub(crate) fn new(pattern: &str, insensitive: bool) -> Result<SingleGlob, String> {
        let (ascii, has_any) = compile_noting_any(pattern, insensitive, true)?;
        let unicode = if has_any {
            Some(OneMatcher::new(compile(pattern, insensitive, false)?)?)
        } else {
            None
        };
        Ok(SingleGlob {
            ascii: OneMatcher::new(ascii)?,
            unicode,
        })
    }

    /// Whether `subject` (a normalised path, folded for a case-insensitive glob) matches.
    pub(crate) fn is_match(&self, subject: &str) -> bool {
        match &self.unicode {
            Some(unicode) if !subject.is_ascii() => unicode.is_match(subject),
            _ => self.ascii.is_match(subject),
        }
    }
}

/// A compiled glob with the rule language's conventions: `\` and `/` are separators, `*`, `?`
/// and brackets never match one, a glob with no separator matches the file name alone, and
/// case-insensitive matching folds Unicode case like the rule engine does (brackets keep their
/// ranges: `[A-Z]` then matches `a`–`z` too).
///
/// ```
/// let g = alto_rules::PathGlob::new("*.MOV").unwrap();
/// assert!(g.is_match(r"C:\Media\clip.mov", true));
/// assert!(!g.is_match("/srv/clip.mov", false));
/// assert!(alto_rules::PathGlob::new("[").is_err());
/// assert!(alto_rules::PathGlob::new("").is_err());
/// let g = alto_rules::PathGlob::new("IMG[!_]*.jpg").unwrap();
/// assert!(g.is_match("/photos/IMG1.jpg", false));
/// assert!(!g.is_match("/photos/IMG/0001.jpg", false));
/// assert!(alto_rules::PathGlob::new("[[:digit:]]*").unwrap().is_match("/a/1.txt", false));
/// ```
#[derive(Debug, Clone)]
pub struct PathGlob {
    sensitive: SingleGlob,
    insensitive: SingleGlob,
}

impl PathGlob {
    /// Compile `pattern`; the error names the pattern and what is wrong with it.
    pub fn new(pattern: &str) -> Result<Self, String> {
        if pattern.is_empty() {
            // As in a rule set: an empty glob is a mistake (it would match only an empty path).
            return Err("bad glob \"\": empty glob".into());
        }
        let build = |ci: bool| {
            SingleGlob::new(pattern, ci).map_err(|e| format!("bad glob {pattern:?}: {e}"))
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
            fold_glob_into(&norm, &mut folded);
            self.insensitive.is_match(&folded)
        } else {
            self.sensitive.is_match(&norm)
        }
    }
}
