//! Parsing with `syn`, guarded so no input can crash the run.
//!
//! `syn`'s parser, the drop of its tree and every walk over it (the symbol table, the
//! rules) recurse once per level of nesting. The file is first lexed into tokens
//! (proc-macro2's lexer and its drop are iterative, whatever the depth), and
//! [`nesting_depth`] measures how deep the tree built from them can be; a file deeper than
//! [`MAX_NESTING`] is a `syntax_error` finding at the place it gets too deep, never a
//! stack overflow. Only files under that bound reach `syn`, so one bound keeps every later
//! recursion safe too.

use crate::diagnostic::{Finding, Severity};
use crate::manifest::Edition;
use crate::source::{Region, SourceFile};
use proc_macro2::{Delimiter, Spacing, Span, TokenStream, TokenTree};
use std::sync::Arc;

/// How deep a syntax tree may be. Real code stays far below (the deepest file of the
/// registry tree measures 173: BENCHMARKS.md, "Hostile input"); the worker threads' stacks
/// hold several times this depth of `syn`'s deepest frames.
pub const MAX_NESTING: usize = 3_000;

pub struct ParsedFile {
    pub source: Arc<SourceFile>,
    pub ast: syn::File,
    /// Its [`nesting_depth`], for `--stats`.
    pub nesting: usize,
}

pub use crate::diagnostic::SYNTAX_ERROR;

/// Parse one file; a file that cannot be parsed becomes a `syntax_error` finding.
pub fn parse(source: &Arc<SourceFile>, edition: Edition) -> Result<ParsedFile, Box<Finding>> {
    parse_with(source, edition, None)
}

/// Which of a file's top-level items (each given as its tokens) to parse.
pub type ItemSelector<'s> = &'s dyn Fn(&[Vec<TokenTree>]) -> Vec<bool>;

/// Parse the top-level items of a file that `select` picks from their tokens, and none of
/// the others. A file that does not parse item by item is parsed whole.
pub fn parse_selected(
    source: &Arc<SourceFile>,
    edition: Edition,
    select: ItemSelector<'_>,
) -> Result<ParsedFile, Box<Finding>> {
    parse_with(source, edition, Some(select))
}

fn parse_with(
    source: &Arc<SourceFile>,
    edition: Edition,
    select: Option<ItemSelector<'_>>,
) -> Result<ParsedFile, Box<Finding>> {
    let fail = |span: Span, message: String| {
        let region = Region::of(span);
        let region = if region.start.line == 0 { Region::whole_line(1) } else { region };
        Err(Box::new(syntax_error(source, region, message)))
    };
    let tokens = match without_shebang(&source.text).parse::<TokenStream>() {
        Ok(tokens) => tokens,
        Err(err) => return fail(err.span(), format!("this file does not parse: {err}")),
    };
    let nesting = match nesting_depth(&tokens) {
        Ok(depth) => depth,
        Err(TooDeep(span)) => return fail(
            span,
            format!(
                "the code nests more than {MAX_NESTING} levels deep here (types, closures, operators or blocks inside one another); lockscope does not analyse files nested this deep"
            ),
        ),
    };
    let items = match select {
        None => parse_item_by_item(tokens),
        Some(select) => parse_selected_items(tokens, select),
    };
    if let Some(ast) = items {
        return Ok(ParsedFile { source: source.clone(), ast, nesting });
    }
    // Lexed before without error, so it lexes again; parse it whole for the real error.
    let tokens = without_shebang(&source.text).parse::<TokenStream>().unwrap_or_default();
    match syn::parse2::<syn::File>(tokens.clone()) {
        Ok(ast) => Ok(ParsedFile { source: source.clone(), ast, nesting }),
        Err(err) => {
            // Older editions accept what `syn` does not: rewrite it and try again.
            if edition < Edition::E2021 {
                if let Ok(ast) = syn::parse2::<syn::File>(rewrite_older_edition(tokens, edition)) {
                    return Ok(ParsedFile { source: source.clone(), ast, nesting });
                }
            }
            fail(err.span(), format!("this file does not parse: {err}"))
        }
    }
}

/// Parse the file one top-level item at a time, dropping each item's tokens once its tree
/// is built: the tokens of a whole file and its whole tree never coexist, which keeps the
/// peak memory of a large file near its tree's size (a 10 MB file: 537 MB for `syn`
/// at once, 343 MB this way). `None` if any piece fails: the caller parses the file
/// whole, for the right error.
fn parse_item_by_item(tokens: TokenStream) -> Option<syn::File> {
    let mut file = syn::File { shebang: None, attrs: Vec::new(), items: Vec::new() };
    for item in ItemTokens::of(tokens) {
        add_item(&mut file, item)?;
    }
    // The vector grew by doubling: up to half of it is empty slots of a large `syn::Item`
    // each, held through the whole analysis unless given back.
    file.items.shrink_to_fit();
    Some(file)
}

/// Parse one item's tokens onto `file`; the first also carries the file's inner attributes.
fn add_item(file: &mut syn::File, item: Vec<TokenTree>) -> Option<()> {
    let part = syn::parse2::<syn::File>(item.into_iter().collect()).ok()?;
    file.attrs.extend(part.attrs);
    file.items.extend(part.items);
    Some(())
}

/// [`parse_item_by_item`], for the items `select` picks. Their tokens are all held until
/// the choice is made, which costs far less than the trees of the items skipped.
fn parse_selected_items(tokens: TokenStream, select: ItemSelector<'_>) -> Option<syn::File> {
    let items: Vec<Vec<TokenTree>> = ItemTokens::of(tokens).collect();
    let picked = select(&items);
    // Sized once: grown by doubling, up to half of it would be empty slots of a large
    // `syn::Item` each (67,000 small items: 61 MB of vector where 31 MB is needed).
    let count = picked.iter().enumerate().filter(|&(index, &picked)| picked || index == 0).count();
    let mut file = syn::File { shebang: None, attrs: Vec::new(), items: Vec::with_capacity(count) };
    // The first item is always parsed: it carries the file's inner attributes.
    for (index, (item, picked)) in items.into_iter().zip(picked).enumerate() {
        if picked || index == 0 {
            add_item(&mut file, item)?;
        }
    }
    Some(file)
}

/// A file's tokens cut into top-level items. An item ends with `;` or a block, when what
/// follows starts another: an attribute, a keyword, a macro's name (`X { a: 1 };` goes on
/// past the block).
struct ItemTokens {
    tokens: std::iter::Peekable<proc_macro2::token_stream::IntoIter>,
}

impl ItemTokens {
    fn of(tokens: TokenStream) -> Self {
        ItemTokens { tokens: tokens.into_iter().peekable() }
    }
}

impl Iterator for ItemTokens {
    type Item = Vec<TokenTree>;

    fn next(&mut self) -> Option<Vec<TokenTree>> {
        let mut item = Vec::new();
        while let Some(token) = self.tokens.next() {
            let may_end_item = match &token {
                TokenTree::Punct(p) => p.as_char() == ';',
                TokenTree::Group(g) => g.delimiter() == Delimiter::Brace,
                _ => false,
            };
            item.push(token);
            let next_starts_item = match self.tokens.peek() {
                None | Some(TokenTree::Ident(_)) => true,
                Some(TokenTree::Punct(p)) => p.as_char() == '#',
                _ => false,
            };
            if may_end_item && next_starts_item {
                return Some(item);
            }
        }
        (!item.is_empty()).then_some(item)
    }
}

/// Forget the source text proc-macro2 keeps per parsed file for span locations. Call once
/// the files parsed on this thread, and everything holding their spans, are dropped:
/// otherwise a worker keeps a copy of every file it ever parsed.
pub fn release_thread_spans() {
    proc_macro2::extra::invalidate_current_thread_spans();
}

/// A `#!` first line that is not an inner attribute (`#![…]`) is not Rust; keep its line
/// break so line numbers stay right (as `syn::parse_file` does).
fn without_shebang(text: &str) -> &str {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    match text.strip_prefix("#!") {
        Some(rest) if !rest.trim_start().starts_with('[') => text.find('\n').map_or("", |i| &text[i..]),
        _ => text,
    }
}

pub fn syntax_error(source: &Arc<SourceFile>, region: Region, message: String) -> Finding {
    Finding {
        rule: SYNTAX_ERROR,
        severity: Severity::Error,
        file: source.clone(),
        region,
        message,
        label: String::new(),
        help: Some("lockscope skipped this file; the rest of the crate was still linted".into()),
        related: Vec::new(),
    }
}

/// Where the tokens nest deeper than [`MAX_NESTING`].
#[derive(Debug)]
pub struct TooDeep(pub Span);

/// An upper bound of the depth of the syntax tree `syn` builds from `tokens`.
///
/// Each bracket adds a level. Inside one statement, so does every token that can start or
/// chain a nested node: an operator character (`&&&x`, `a + b + …`, `a.b().c()`, `|| || …`),
/// a `<` of generics (`Vec<Vec<…>>`) and an `->` (`impl Fn() -> impl Fn() -> …`), and the
/// keywords that take an expression or type after them (`else`, `as`, `return`, `impl`,
/// `dyn`, …). The count restarts where a new independent node starts: after `;`, `=>`,
/// after a `,` outside generics, and after a block that nothing continues.
pub fn nesting_depth(tokens: &TokenStream) -> Result<usize, TooDeep> {
    struct Level {
        tokens: std::vec::IntoIter<TokenTree>,
        /// Depth at which this group's contents start.
        base: usize,
        /// Nesting tokens since the statement started.
        chain: usize,
        /// Unclosed `<`.
        angle: usize,
        /// The previous token closed a `{ … }` block.
        after_block: bool,
        /// The previous token was a punctuation character joined to this one.
        joined_to: Option<char>,
    }
    let level = |tokens: TokenStream, base: usize| Level {
        tokens: tokens.into_iter().collect::<Vec<_>>().into_iter(),
        base,
        chain: 0,
        angle: 0,
        after_block: false,
        joined_to: None,
    };
    let mut deepest = 0;
    let mut stack = vec![level(tokens.clone(), 0)];
    while let Some(top) = stack.last_mut() {
        let Some(token) = top.tokens.next() else {
            stack.pop();
            continue;
        };
        // A block ends a statement unless an operator, `else`, `as` or `.` continues it.
        if std::mem::take(&mut top.after_block) {
            let continues = match &token {
                TokenTree::Punct(p) => !matches!(p.as_char(), ';' | ',' | '#'),
                TokenTree::Ident(i) => i == "else" || i == "as",
                _ => false,
            };
            if !continues {
                top.chain = 0;
                top.angle = 0;
            }
        }
        let joined_to = top.joined_to.take();
        match &token {
            TokenTree::Group(group) => {
                let depth = top.base + top.chain + 1;
                deepest = deepest.max(depth);
                if depth > MAX_NESTING {
                    return Err(TooDeep(group.span_open()));
                }
                top.after_block = group.delimiter() == Delimiter::Brace;
                let inner = level(group.stream(), depth);
                stack.push(inner);
                continue;
            }
            TokenTree::Punct(p) => {
                let c = p.as_char();
                if p.spacing() == Spacing::Joint {
                    top.joined_to = Some(c);
                }
                match (joined_to, c) {
                    // Attributes (`//!` docs are `#![doc = …]`) are siblings, not nested.
                    (_, ';' | '#') | (Some('='), '>') => {
                        top.chain = 0;
                        top.angle = 0;
                    }
                    (Some('#'), '!') => {}
                    (_, ',') if top.angle == 0 => top.chain = 0,
                    (Some('-'), '>') => top.chain += 1,
                    (_, '>') => top.angle = top.angle.saturating_sub(1),
                    (_, '<') => {
                        top.angle += 1;
                        top.chain += 1;
                    }
                    (_, ',' | ':' | '\'' | '$' | '@' | '=') => {}
                    _ => top.chain += 1,
                }
            }
            TokenTree::Ident(ident) => {
                let nests = ["else", "as", "return", "break", "yield", "box", "impl", "dyn", "in", "become", "do"];
                if nests.iter().any(|k| ident == k) {
                    top.chain += 1;
                }
            }
            TokenTree::Literal(_) => {}
        }
        let depth = top.base + top.chain;
        deepest = deepest.max(depth);
        if depth > MAX_NESTING {
            return Err(TooDeep(token.span()));
        }
    }
    Ok(deepest)
}

/// Keywords of edition 2018 that are plain names in 2015 (`dyn` is a keyword there too,
/// in `dyn Trait`).
const KEYWORDS_SINCE_2018: &[&str] = &["async", "await", "try"];

/// What rustc accepts in older editions and `syn` does not, rewritten into what `syn`
/// reads, every other token and every span kept:
/// - edition 2015: unnamed parameters of trait method declarations (`fn f(&self, u32);`)
///   are named `_`;
/// - editions 2015 and 2018: a trait object without `dyn` in a generic argument, behind
///   a reference or as a type alias (`Box<Fn(u8) -> u8>`, `&FnMut()`, `type F = Fn();`)
///   gets its `dyn`;
/// - edition 2015: words that became keywords in 2018 and are names before it
///   (`let try = ..`, `fn f(async: bool)`) are written as raw identifiers (`r#try`); the
///   `try!(..)` macro keeps its name.
fn rewrite_older_edition(tokens: TokenStream, edition: Edition) -> TokenStream {
    let mut out: Vec<TokenTree> = Vec::new();
    let mut previous_is_fn = false;
    // Between `fn NAME` and its parameter list (generic parameters may stand between).
    let mut in_signature = false;
    let mut tokens = tokens.into_iter().peekable();
    while let Some(token) = tokens.next() {
        let token = match token {
            TokenTree::Group(group) => {
                let is_parameter_list = in_signature && group.delimiter() == Delimiter::Parenthesis;
                in_signature = false;
                let mut stream = rewrite_older_edition(group.stream(), edition);
                if is_parameter_list && edition == Edition::E2015 {
                    stream = name_parameters(stream);
                }
                let mut rebuilt = proc_macro2::Group::new(group.delimiter(), stream);
                rebuilt.set_span(group.span());
                TokenTree::Group(rebuilt)
            }
            other => other,
        };
        let token = match token {
            TokenTree::Ident(ident)
                if edition == Edition::E2015
                    && KEYWORDS_SINCE_2018.iter().any(|k| ident == k)
                    && !matches!(tokens.peek(), Some(TokenTree::Punct(p)) if p.as_char() == '!') =>
            {
                TokenTree::Ident(proc_macro2::Ident::new_raw(&ident.to_string(), ident.span()))
            }
            other => other,
        };
        if let TokenTree::Ident(ident) = &token {
            let bare_fn_trait = ["Fn", "FnMut", "FnOnce"].iter().any(|t| ident == t)
                && matches!(tokens.peek(), Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Parenthesis)
                && match out.last() {
                    Some(TokenTree::Punct(p)) => matches!(p.as_char(), '<' | ',' | '&') || is_type_alias_eq(&out),
                    Some(TokenTree::Ident(i)) => i == "mut",
                    _ => false,
                };
            if bare_fn_trait {
                out.push(TokenTree::Ident(proc_macro2::Ident::new("dyn", ident.span())));
            }
        }
        match &token {
            TokenTree::Ident(ident) => {
                in_signature |= previous_is_fn;
                previous_is_fn = ident == "fn";
            }
            TokenTree::Punct(p) if p.as_char() == ';' => {
                in_signature = false;
                previous_is_fn = false;
            }
            _ => previous_is_fn = false,
        }
        out.push(token);
    }
    out.into_iter().collect()
}

/// A parameter list with `_: ` before each parameter that is only a type.
fn name_parameters(params: TokenStream) -> TokenStream {
    let tokens: Vec<TokenTree> = params.into_iter().collect();
    let mut out: Vec<TokenTree> = Vec::new();
    for param in split_parameters(&tokens) {
        if let Some(first) = param.first() {
            if !is_named(param) {
                let span = first.span();
                let mut underscore = proc_macro2::Ident::new("_", span);
                underscore.set_span(span);
                out.push(TokenTree::Ident(underscore));
                let mut colon = proc_macro2::Punct::new(':', Spacing::Alone);
                colon.set_span(span);
                out.push(TokenTree::Punct(colon));
            }
        }
        out.extend(param.iter().cloned());
    }
    out.into_iter().collect()
}

/// The parameters of a list, each with its trailing comma.
fn split_parameters(tokens: &[TokenTree]) -> Vec<&[TokenTree]> {
    let mut params = Vec::new();
    let (mut start, mut angle) = (0, 0usize);
    let mut previous: Option<char> = None;
    for (i, token) in tokens.iter().enumerate() {
        let c = match token {
            TokenTree::Punct(p) => Some(p.as_char()),
            _ => None,
        };
        match c {
            Some('<') => angle += 1,
            Some('>') if previous != Some('-') => angle = angle.saturating_sub(1),
            Some(',') if angle == 0 => {
                params.push(&tokens[start..=i]);
                start = i + 1;
            }
            _ => {}
        }
        previous = c;
    }
    if start < tokens.len() {
        params.push(&tokens[start..]);
    }
    params
}

/// Does a parameter have a pattern (`x: u32`, `self`, `&mut self`), or is it a bare type?
fn is_named(param: &[TokenTree]) -> bool {
    let mut previous_colon = false;
    let mut angle = 0usize;
    for (i, token) in param.iter().enumerate() {
        match token {
            TokenTree::Ident(ident) if ident == "self" => return true,
            TokenTree::Punct(p) if p.as_char() == '<' => angle += 1,
            TokenTree::Punct(p) if p.as_char() == '>' => angle = angle.saturating_sub(1),
            TokenTree::Punct(p) if p.as_char() == ':' && angle == 0 => {
                // A lone `:` (not half of `::`) separates a pattern from its type.
                let next_is_colon = matches!(param.get(i + 1), Some(TokenTree::Punct(n)) if n.as_char() == ':');
                if p.spacing() == Spacing::Alone && !previous_colon && !next_is_colon {
                    return true;
                }
                previous_colon = true;
                continue;
            }
            _ => {}
        }
        previous_colon = false;
    }
    false
}

/// Do the tokens end `type Name =` (a type alias of a bare trait object, `type Action =
/// Fn(&Info) + Send;`)?
fn is_type_alias_eq(out: &[TokenTree]) -> bool {
    match out {
        [.., TokenTree::Ident(kw), TokenTree::Ident(_), TokenTree::Punct(eq)] => kw == "type" && eq.as_char() == '=',
        _ => false,
    }
}

/// The comma-separated expressions a macro call was given (`println!("{}", g.len())`),
/// when its tokens read as such; for a `select!`, its branches' futures, conditions and
/// handlers ([`select_branches`]); empty otherwise.
pub fn macro_args(mac: &syn::Macro) -> Vec<syn::Expr> {
    if let Some(branches) = select_branches(mac) {
        return branches
            .into_iter()
            .flat_map(|b| b.future.into_iter().chain(b.precondition).chain(std::iter::once(b.handler)))
            .collect();
    }
    mac.parse_body_with(syn::punctuated::Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated)
        .map(|args| args.into_iter().collect())
        .unwrap_or_default()
}

/// One branch of a `select!`: `pattern = future, if precondition => handler`, or an
/// `else`/`default`/`complete` branch with a handler only.
pub struct SelectBranch {
    pub future: Option<syn::Expr>,
    pub precondition: Option<syn::Expr>,
    pub handler: syn::Expr,
}

/// The branches of a `select!` or `select_biased!` (tokio's and futures'), when its
/// tokens read as branches.
pub fn select_branches(mac: &syn::Macro) -> Option<Vec<SelectBranch>> {
    // Asked of every macro by every visitor that looks into macros: no allocation.
    let name = &mac.path.segments.last()?.ident;
    if name != "select" && name != "select_biased" {
        return None;
    }
    mac.parse_body_with(parse_select_branches).ok()
}

fn parse_select_branches(input: syn::parse::ParseStream<'_>) -> syn::Result<Vec<SelectBranch>> {
    use syn::Token;
    let mut branches = Vec::new();
    while !input.is_empty() {
        // tokio's `biased;`.
        if input.peek(syn::Ident) && input.peek2(Token![;]) {
            input.parse::<syn::Ident>()?;
            input.parse::<Token![;]>()?;
            continue;
        }
        let catch_all = input.peek(Token![else])
            || (input.peek(syn::Ident) && input.peek2(Token![=>]) && {
                let word = input.fork().parse::<syn::Ident>()?;
                word == "default" || word == "complete"
            });
        let (future, precondition) = if catch_all {
            if input.peek(Token![else]) {
                input.parse::<Token![else]>()?;
            } else {
                input.parse::<syn::Ident>()?;
            }
            (None, None)
        } else {
            syn::Pat::parse_multi_with_leading_vert(input)?;
            input.parse::<Token![=]>()?;
            let future: syn::Expr = input.parse()?;
            let precondition = if input.peek(Token![,]) && input.peek2(Token![if]) {
                input.parse::<Token![,]>()?;
                input.parse::<Token![if]>()?;
                Some(input.parse::<syn::Expr>()?)
            } else {
                None
            };
            (Some(future), precondition)
        };
        input.parse::<Token![=>]>()?;
        let handler: syn::Expr = input.parse()?;
        if !input.is_empty() && !matches!(handler, syn::Expr::Block(_)) {
            input.parse::<Token![,]>()?;
        } else {
            input.parse::<Option<Token![,]>>()?;
        }
        branches.push(SelectBranch { future, precondition, handler });
    }
    Ok(branches)
}

/// `code` parsed as the crate root `lib.rs` (for the engine layers' unit tests).
#[cfg(test)]
pub fn parse_crate_root(code: &str) -> ParsedFile {
    let module = crate::source::ModulePath::root("src");
    let source = Arc::new(SourceFile::new("lib.rs".into(), "lib.rs".into(), module, true, code.into()));
    parse(&source, Edition::E2021).expect("test source parses")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(text: &str) -> Arc<SourceFile> {
        let module = crate::source::ModulePath::root("src");
        Arc::new(SourceFile::new("a.rs".into(), "a.rs".into(), module, true, text.into()))
    }

    fn depth(text: &str) -> Result<usize, TooDeep> {
        nesting_depth(&text.parse().expect("lexes"))
    }

    #[test]
    fn select_branches_read_tokio_and_futures_forms() {
        let mac = |text: &str| -> syn::Macro { syn::parse_str(text).expect("a macro call") };
        let count = |text: &str| {
            select_branches(&mac(text))
                .map(|b| b.iter().map(|b| (b.future.is_some(), b.precondition.is_some())).collect::<Vec<_>>())
        };
        let tokio = "tokio::select! { biased; Some(m) = rx.recv() => { go(m).await; } _ = sleep(d), if on => stop(), else => break, }";
        assert_eq!(count(tokio), Some(vec![(true, false), (true, true), (false, false)]));
        let futures = "futures::select! { x = a.next() => x, default => {} complete => break }";
        assert_eq!(count(futures), Some(vec![(true, false), (false, false), (false, false)]));
        // Not a select, or tokens that are not branches: no branches, and no panic.
        assert!(count("println!(\"{}\", x)").is_none());
        assert!(count("select! { => oops }").is_none());
        assert_eq!(macro_args(&mac(tokio)).len(), 6);
    }

    #[test]
    fn nesting_counts_what_syn_nests() {
        let shapes = [
            format!("type T = {}u8{};", "Vec<".repeat(4000), ">".repeat(4000)),
            format!("fn f() {{ let c = {}1; }}", "|| ".repeat(4000)),
            format!("fn f() -> {}u8 {{}}", "impl Fn() -> ".repeat(4000)),
            format!("fn f() {{ {}x; }}", "&".repeat(4000)),
            format!("fn f() {{ 1{}; }}", " + 1".repeat(4000)),
            format!("fn f() {{ a{}; }}", ".b()".repeat(4000)),
            format!("fn f() {{ if a {{}}{} }}", " else if a {}".repeat(4000)),
            format!("fn f() {{ {}x }}", "return ".repeat(4000)),
            format!("fn f() {{ {}{} }}", "(".repeat(4000), ")".repeat(4000)),
        ];
        for shape in &shapes {
            assert!(depth(shape).is_err(), "not caught: {}", &shape[..40]);
        }
    }

    #[test]
    fn long_flat_code_is_not_deep() {
        let items = "//! doc\n#[a]\nfn f() -> u8 { 1 }\nimpl A for B { fn g(&self) -> u8 { -1 } }\nm!{}\n".repeat(5000);
        assert!(depth(&items).expect("flat") < 10);
        let table = format!("static T: [i32; 9000] = [{}];", "-1, ".repeat(9000));
        assert!(depth(&table).expect("flat") < 10);
        let generics = format!("type T = HashMap<{}u8>;", "u8, ".repeat(9000));
        assert!(depth(&generics).expect("flat") < 10);
        let arms = format!("fn f(x: u8) {{ match x {{ {} _ => {{}} }} }}", "1 => { a.b() } ".repeat(9000));
        assert!(depth(&arms).expect("flat") < 10);
    }

    #[test]
    fn edition_2015_anonymous_parameters_parse() {
        let text = "trait A { fn is_local(&self, &Address); fn g(&self, u32, Vec<u8>, x: u8, ::std::path::PathBuf) -> bool; fn h<T>(T); }";
        let source = source(text);
        assert!(parse(&source, Edition::E2015).is_ok());
        assert!(parse(&source, Edition::E2018).is_err(), "rustc rejects this from 2018 on");
    }

    #[test]
    fn edition_2015_names_that_are_later_keywords_parse() {
        let text =
            "fn lock(try: &Fn() -> u8, async: bool) -> u8 { let try = || try!(op()); let await = 1; try() + await }";
        let source = source(text);
        let parsed = parse(&source, Edition::E2015).expect("rustc accepts this in 2015");
        let syn::Item::Fn(f) = &parsed.ast.items[0] else { panic!("a function") };
        assert_eq!(f.sig.inputs.len(), 2);
        assert!(parse(&source, Edition::E2018).is_err(), "rustc rejects this from 2018 on");
    }

    #[test]
    fn bare_trait_objects_parse_before_2021() {
        let text =
            "type A = Closure<Fn(usize) -> *mut u8>;\ntype Action = Fn(&Info) + Send + Sync;\nfn f(a: &mut FnMut(u8), b: Box<u8, Fn()>) where F: Fn(u8) {}";
        let source = source(text);
        assert!(parse(&source, Edition::E2015).is_ok());
        assert!(parse(&source, Edition::E2018).is_ok());
        assert!(parse(&source, Edition::E2021).is_err(), "rustc rejects bare trait objects from 2021 on");
    }
}
