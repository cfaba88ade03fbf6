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
    /// The package's files that were not parsed (no rule needed them).
    pub unparsed: Vec<std::sync::Arc<crate::source::SourceFile>>,
    pub phases: std::cell::OnceCell<crate::flow::phases::Phases>,
    /// The package's types kept on the thread that makes them; built on first use, once.
    one_thread: std::cell::OnceCell<crate::flow::one_thread::OneThread>,
    /// Whether some file of the package writes a guard type (`MutexGuard<`) or a closure
    /// type (`FnOnce(`); built once.
    names_helper_types: std::cell::OnceCell<bool>,
    /// The folders from the workspace root down to the package ([`crate::discover::PackageInput::folders`]).
    pub folders: Vec<String>,
    /// The package's library is a procedural macro: its code runs inside the compiler.
    pub proc_macro: bool,
}

impl<'p, 'a> PackageContext<'p, 'a> {
    pub fn new(symbols: &'p Symbols<'a>, files: &'a [ParsedFile]) -> Self {
        PackageContext {
            symbols,
            files,
            lock_places: std::cell::OnceCell::new(),
            spawn_summaries: std::cell::OnceCell::new(),
            unparsed: Vec::new(),
            phases: std::cell::OnceCell::new(),
            one_thread: std::cell::OnceCell::new(),
            names_helper_types: std::cell::OnceCell::new(),
            folders: Vec::new(),
            proc_macro: false,
        }
    }

    /// Where the package sits in its repository.
    pub fn in_folders(mut self, folders: Vec<String>) -> Self {
        self.folders = folders;
        self
    }

    /// Whether the package's library is a procedural macro.
    pub fn proc_macro(mut self, proc_macro: bool) -> Self {
        self.proc_macro = proc_macro;
        self
    }

    /// The package's files no rule needed parsed: what they mention still counts.
    pub fn with_unparsed(mut self, unparsed: Vec<std::sync::Arc<crate::source::SourceFile>>) -> Self {
        self.unparsed = unparsed;
        self
    }

    /// Which functions run alone (constructors, `Drop`, their helpers); built once.
    pub fn phases(&self) -> &crate::flow::phases::Phases {
        self.phases.get_or_init(|| crate::flow::phases::Phases::of(self.files, &self.unparsed))
    }

    /// Which types never leave the thread that makes them, and their lock fields.
    pub fn one_thread(&self) -> &crate::flow::one_thread::OneThread {
        self.one_thread.get_or_init(|| {
            let edition_of = |module: &crate::source::ModulePath| self.symbols.edition_of(module);
            crate::flow::one_thread::OneThread::of(self.files, &self.unparsed, edition_of)
        })
    }

    pub fn spawn_summaries(&self) -> &crate::flow::SpawnSummaries {
        // Only bodies in files that spawn, or build a runtime, can add to them.
        let relevant = |f: &ParsedFile| f.source.text.contains("spawn") || f.source.text.contains("new_current_thread");
        self.spawn_summaries
            .get_or_init(|| crate::flow::SpawnSummaries::of(self.files.iter().map(|f| (&f.ast, relevant(f)))))
    }

    /// Does `body` take a lock by calling a function of the package that hands out its
    /// guard (`self.state()`) or runs a closure under one (`self.with_peers(|p| ..)`)?
    /// Asked only where a guard rule could fire; the package's lock places are built for
    /// it only if some file writes a guard type (`…Guard<`) or a closure type (`FnOnce(`).
    pub fn calls_guard_helper(&self, body: &syn::Block) -> bool {
        let names_helper_types = *self.names_helper_types.get_or_init(|| {
            self.files.iter().any(|f| ["Guard<", "Fn(", "FnMut(", "FnOnce("].iter().any(|w| f.source.text.contains(w)))
        });
        names_helper_types && crate::flow::guards::calls_guard_helper(body, self.lock_places())
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

/// The line ranges of `file` where `#[allow(clippy::<lint>)]` or `#[expect(..)]` applies:
/// a function, an impl or module, or a statement (up to the next one). A team that
/// silenced clippy's lint of the same defect there has decided.
pub fn clippy_allowed_lines(file: &syn::File, lint: &str) -> Vec<(usize, usize)> {
    use syn::visit::Visit;
    struct Allowed<'l> {
        lint: &'l str,
        ranges: Vec<(usize, usize)>,
    }
    impl Allowed<'_> {
        fn allows(&self, attrs: &[syn::Attribute]) -> bool {
            attrs.iter().any(|a| {
                let text = quote::ToTokens::to_token_stream(&a.meta).to_string().replace(' ', "");
                (a.path().is_ident("allow") || a.path().is_ident("expect"))
                    && text.contains(&format!("clippy::{}", self.lint))
            })
        }
        fn add(&mut self, start: proc_macro2::Span, end: proc_macro2::Span) {
            self.ranges.push((start.start().line, end.end().line));
        }
    }
    impl Visit<'_> for Allowed<'_> {
        fn visit_item_fn(&mut self, f: &syn::ItemFn) {
            if self.allows(&f.attrs) {
                self.add(f.sig.fn_token.span, f.block.brace_token.span.close());
            }
            syn::visit::visit_item_fn(self, f);
        }
        fn visit_impl_item_fn(&mut self, f: &syn::ImplItemFn) {
            if self.allows(&f.attrs) {
                self.add(f.sig.fn_token.span, f.block.brace_token.span.close());
            }
            syn::visit::visit_impl_item_fn(self, f);
        }
        fn visit_item_impl(&mut self, i: &syn::ItemImpl) {
            if self.allows(&i.attrs) {
                self.add(i.impl_token.span, i.brace_token.span.close());
            }
            syn::visit::visit_item_impl(self, i);
        }
        fn visit_item_mod(&mut self, m: &syn::ItemMod) {
            if let (true, Some((brace, _))) = (self.allows(&m.attrs), &m.content) {
                self.add(m.mod_token.span, brace.span.close());
            }
            syn::visit::visit_item_mod(self, m);
        }
        fn visit_block(&mut self, b: &syn::Block) {
            for (i, stmt) in b.stmts.iter().enumerate() {
                let attrs = stmt_attrs(stmt);
                if let Some(first) = attrs.first().filter(|_| self.allows(attrs)) {
                    // The statement, up to the line before the next one (or the block's end).
                    let start = first.pound_token.span.start().line;
                    let end = match b.stmts.get(i + 1).and_then(stmt_line) {
                        Some(next) if next > start => next - 1,
                        _ => b.brace_token.span.close().end().line,
                    };
                    self.ranges.push((start, end));
                }
            }
            syn::visit::visit_block(self, b);
        }
    }
    fn stmt_line(stmt: &syn::Stmt) -> Option<usize> {
        match stmt {
            syn::Stmt::Local(l) => Some(l.let_token.span.start().line),
            syn::Stmt::Macro(m) => m.mac.path.segments.first().map(|s| s.ident.span().start().line),
            syn::Stmt::Expr(e, _) => Some(crate::flow::leftmost(e).line),
            syn::Stmt::Item(_) => None,
        }
    }
    fn stmt_attrs(stmt: &syn::Stmt) -> &[syn::Attribute] {
        match stmt {
            syn::Stmt::Local(l) => &l.attrs,
            syn::Stmt::Macro(m) => &m.attrs,
            syn::Stmt::Expr(e, _) => match e {
                syn::Expr::MethodCall(m) => &m.attrs,
                syn::Expr::Call(c) => &c.attrs,
                syn::Expr::Block(b) => &b.attrs,
                syn::Expr::Await(a) => &a.attrs,
                syn::Expr::Match(m) => &m.attrs,
                syn::Expr::If(i) => &i.attrs,
                syn::Expr::Assign(a) => &a.attrs,
                syn::Expr::Async(a) => &a.attrs,
                syn::Expr::Loop(l) => &l.attrs,
                syn::Expr::While(w) => &w.attrs,
                syn::Expr::ForLoop(f) => &f.attrs,
                _ => &[],
            },
            syn::Stmt::Item(_) => &[],
        }
    }
    let mut allowed = Allowed { lint, ranges: Vec::new() };
    allowed.visit_file(file);
    allowed.ranges
}
