//! Which files are worth parsing: a rule can only fire in a file that mentions certain
//! words, and most files mention none, so they are scanned for words and never parsed.

use aho_corasick::{AhoCorasick, MatchKind};

/// The words a file must mention (as whole identifiers) for a rule to look at it.
pub struct Prefilter {
    /// Any one of these is enough.
    pub any: &'static [&'static str],
    /// Or one word from each list of a pair (`spawn` together with `Arc`).
    pub pairs: &'static [(&'static [&'static str], &'static [&'static str])],
    /// With a name the rule follows (`rules::Rule::followed_names`), one of these is enough.
    pub with_followed: &'static [&'static str],
}

/// The rules' prefilters merged into one scan.
pub struct WordFilter {
    matcher: Option<AhoCorasick>,
    words: Vec<&'static str>,
    /// Indexes into `words`.
    any: Vec<usize>,
    pairs: Vec<(Vec<usize>, Vec<usize>)>,
    with_followed: Option<AhoCorasick>,
}

impl WordFilter {
    /// The rules' prefilters, merged (rules know their prefilter; this module knows no rule).
    pub fn new(filters: impl IntoIterator<Item = Prefilter>) -> Self {
        let mut words: Vec<&'static str> = Vec::new();
        let mut index = |w: &'static str| match words.iter().position(|x| *x == w) {
            Some(i) => i,
            None => {
                words.push(w);
                words.len() - 1
            }
        };
        let mut any = Vec::new();
        let mut pairs = Vec::new();
        let mut with_followed = Vec::new();
        for filter in filters {
            with_followed.extend_from_slice(filter.with_followed);
            any.extend(filter.any.iter().map(|w| index(w)));
            for (left, right) in filter.pairs {
                pairs.push((left.iter().map(|w| index(w)).collect(), right.iter().map(|w| index(w)).collect()));
            }
        }
        let with_followed = (!with_followed.is_empty()).then(|| word_matcher(&with_followed)).flatten();
        WordFilter { matcher: word_matcher(&words), words, any, pairs, with_followed }
    }

    /// Does a file that mentions a followed name also mention what makes it worth parsing?
    pub fn wants_with_followed(&self, text: &[u8]) -> bool {
        self.with_followed.as_ref().is_some_and(|m| whole_words(m, text).next().is_some())
    }

    /// Does `text` mention what some rule needs?
    pub fn wants(&self, text: &[u8]) -> bool {
        let Some(matcher) = &self.matcher else { return false };
        let mut seen = vec![false; self.words.len()];
        for m in whole_words(matcher, text) {
            let word = m.pattern().as_usize();
            if self.any.contains(&word) {
                return true;
            }
            seen[word] = true;
        }
        self.pairs.iter().any(|(l, r)| l.iter().any(|&i| seen[i]) && r.iter().any(|&i| seen[i]))
    }
}

/// A matcher for identifiers, to use with [`whole_words`].
pub fn word_matcher<S: AsRef<[u8]>>(words: &[S]) -> Option<AhoCorasick> {
    // Leftmost-longest finds `spawn_blocking` rather than `spawn` in `spawn_blocking(`,
    // and no whole identifier can hide inside an earlier match, so matches need not
    // overlap (which keeps the automaton's fast skipping).
    AhoCorasick::builder().match_kind(MatchKind::LeftmostLongest).build(words).ok()
}

/// Matches of a [`word_matcher`]'s words that are whole identifiers (`Mutex`, but not
/// `CreateMutexW`). A word that ends in punctuation (`read()`, `fs::`) ends there.
pub fn whole_words<'m>(matcher: &'m AhoCorasick, bytes: &'m [u8]) -> impl Iterator<Item = aho_corasick::Match> + 'm {
    let is_ident_byte = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    matcher.find_iter(bytes).filter(move |m| {
        let before = m.start().checked_sub(1).map(|j| bytes[j]);
        let ends_word = m.end().checked_sub(1).and_then(|j| bytes.get(j)).is_some_and(|&b| is_ident_byte(b));
        let after = bytes.get(m.end()).copied().filter(|_| ends_word);
        !before.is_some_and(is_ident_byte) && !after.is_some_and(is_ident_byte)
    })
}

/// Does `bytes` define, implement or re-export one of the matcher's words: on a `pub use`
/// line, or after `struct`/`enum`/`union`/`type`/`trait`/`impl` on its line? (A private
/// `use` only imports it.)
pub fn defines_word(matcher: &AhoCorasick, bytes: &[u8]) -> bool {
    defined_words(matcher, bytes).next().is_some()
}

/// The matcher's words (by pattern index) that `bytes` defines, implements or re-exports,
/// as [`defines_word`] tells them, once per place.
pub fn defined_words<'m>(matcher: &'m AhoCorasick, bytes: &'m [u8]) -> impl Iterator<Item = usize> + 'm {
    whole_words(matcher, bytes)
        .filter(|m| {
            let line_start = bytes[..m.start()].iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
            let before = String::from_utf8_lossy(&bytes[line_start..m.start()]);
            let before = before.trim_start();
            let words: Vec<&str> = before.split(|c: char| !c.is_alphanumeric() && c != '_').collect();
            before.starts_with("pub use ")
                || before.starts_with("pub(crate) use ")
                || words.iter().any(|w| matches!(*w, "struct" | "enum" | "union" | "type" | "trait" | "impl"))
        })
        .map(|m| m.pattern().as_usize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definitions_and_imports_of_a_word() {
        let m = word_matcher(&["Reader"]).expect("matcher");
        assert!(defines_word(&m, b"fn f() {}\npub struct Reader<R> {"));
        assert!(defines_word(&m, b"pub use io::{Reader, Writer};"));
        assert!(defines_word(&m, b"    pub type Reader = File;"));
        assert!(defines_word(&m, b"impl Reader for Disk {"));
        assert!(!defines_word(&m, b"fn read(r: &mut Reader) {}\nlet x: Reader = y;"));
        assert!(!defines_word(&m, b"use crate::io::Reader;"));
    }

    #[test]
    fn whole_identifiers_only() {
        let m = word_matcher(&["spawn", "spawn_blocking", "Mutex"]).expect("matcher");
        let found = |text: &str| -> Vec<String> {
            whole_words(&m, text.as_bytes()).map(|x| text[x.start()..x.end()].to_string()).collect()
        };
        assert_eq!(found("tokio::spawn_blocking(f); spawn(g)"), ["spawn_blocking", "spawn"]);
        assert!(found("CreateMutexW spawner respawn spawn_x").is_empty());
        assert_eq!(found("Mutex<T>"), ["Mutex"]);
    }

    #[test]
    fn a_call_form_matches_only_that_call() {
        let m = word_matcher(&["read()", "try_read()"]).expect("matcher");
        let found = |text: &str| whole_words(&m, text.as_bytes()).count();
        assert_eq!(found("let v = self.validators.read();"), 1);
        assert_eq!(found("let v = self.validators.try_read()?;"), 1);
        let paths = word_matcher(&["fs::"]).expect("matcher");
        assert_eq!(whole_words(&paths, b"std::fs::read(p); refs::x; use std::fs;").count(), 1);
        assert_eq!(found("file.read(&mut buf)?; spawn_thread(); thread()"), 0);
    }
}
