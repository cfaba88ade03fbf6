//! The rules. Each lives in its own file, whose top doc comment is its user
//! documentation (`cargo lockscope explain RULE` prints it).

pub mod aliased_buffer;
pub mod guard_across_await;
pub mod lock_across_io;
pub mod mutex_read_seek;
pub mod syntax_error;

use crate::diagnostic::Finding;
use crate::flow::guards::LockPlaces;
use crate::parse::ParsedFile;
use crate::prefilter::Prefilter;
use crate::symbols::Symbols;

/// Everything a rule may look at for one package.
pub struct PackageContext<'p, 'a> {
    pub symbols: &'p Symbols<'a>,
    pub files: &'a [ParsedFile],
    /// What the package declares its locks as, for the rules that follow guards; built
    /// on first use, once.
    pub lock_places: std::cell::OnceCell<LockPlaces>,
    /// The package's functions that spawn work with their arguments; built once.
    pub spawn_summaries: std::cell::OnceCell<crate::flow::SpawnSummaries>,
}

impl<'p, 'a> PackageContext<'p, 'a> {
    pub fn new(symbols: &'p Symbols<'a>, files: &'a [ParsedFile]) -> Self {
        PackageContext {
            symbols,
            files,
            lock_places: std::cell::OnceCell::new(),
            spawn_summaries: std::cell::OnceCell::new(),
        }
    }

    pub fn spawn_summaries(&self) -> &crate::flow::SpawnSummaries {
        // Only bodies in files that spawn, or build a runtime, can add to them.
        let relevant = |f: &ParsedFile| f.source.text.contains("spawn") || f.source.text.contains("new_current_thread");
        self.spawn_summaries
            .get_or_init(|| crate::flow::SpawnSummaries::of(self.files.iter().map(|f| (&f.ast, relevant(f)))))
    }

    pub fn lock_places(&self) -> &LockPlaces {
        self.lock_places.get_or_init(|| LockPlaces::of(self.symbols, self.files))
    }
}

pub trait Rule: Sync {
    fn name(&self) -> &'static str;
    /// The rule's documentation in Markdown: what it flags, why it hurts, an example, the fix.
    fn doc(&self) -> String;
    /// A file that does not mention these words cannot hold a finding of this rule,
    /// so it is not parsed (unless another file needs what it defines).
    fn prefilter(&self) -> Prefilter;
    /// Names whose definitions this rule needs to judge `file` (so the engine loads
    /// the files of the package that define them).
    fn needed_names(&self, file: &syn::File, out: &mut Vec<String>);
    /// Names whose definitions this rule needs, but not what those definitions name in turn.
    fn needed_names_shallow(&self, _file: &syn::File, _out: &mut Vec<String>) {}
    /// Names `file` defines whose mention (with a `Prefilter::with_followed` word) makes
    /// another file of the package worth parsing, though it has none of the prefilter's words.
    fn followed_names(&self, _file: &syn::File, _out: &mut Vec<String>) {}
    fn check(&self, cx: &PackageContext<'_, '_>, out: &mut Vec<Finding>);

    /// The first sentence of the doc (its first paragraph may wrap over lines).
    fn summary(&self) -> String {
        let doc = self.doc();
        let paragraph: Vec<&str> = doc
            .lines()
            .skip_while(|l| l.trim().is_empty() || l.starts_with('#'))
            .take_while(|l| !l.trim().is_empty())
            .map(str::trim)
            .collect();
        let text = paragraph.join(" ");
        match text.find(". ") {
            Some(end) => text[..=end].to_string(),
            None => text,
        }
    }
}

/// Every rule, in the order `rules` lists them.
pub fn all() -> &'static [&'static dyn Rule] {
    &[
        &mutex_read_seek::MutexReadSeek,
        &aliased_buffer::AliasedBuffer,
        &guard_across_await::GuardAcrossAwait,
        &lock_across_io::LockAcrossIo,
        &syntax_error::SyntaxError,
    ]
}

pub fn by_name(name: &str) -> Option<&'static dyn Rule> {
    all().iter().copied().find(|r| r.name() == name)
}

/// `the rules are: a, b, c`, for messages about an unknown rule name.
pub fn known_list() -> String {
    let names: Vec<&str> = all().iter().map(|r| r.name()).collect();
    format!("the rules are: {}", names.join(", "))
}

/// The `//!` doc comment at the top of a rule's source file, as Markdown.
pub fn module_doc(source: &str) -> String {
    source
        .lines()
        .take_while(|l| l.starts_with("//!"))
        .map(|l| l.strip_prefix("//! ").unwrap_or(l.trim_start_matches("//!")))
        .collect::<Vec<_>>()
        .join("\n")
}
