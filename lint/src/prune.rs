//! What of a workspace dependency's tree is kept. A package parses a dependency's file
//! only for the names it takes from it, yet a file is parsed whole: biome's packages
//! parsed 20 MB of generated syntax-node files each, for a few of their thousand types
//! (BENCHMARKS.md, "Session 14"). Pruning right after parsing keeps the items that
//! define or implement a wanted name and the `use`s and modules that lead to them.
//! Function bodies of kept items stay whole: they are where a dependency reads the field
//! of a reader it wraps, which `mutex_read_seek` takes as evidence.

use proc_macro2::{Delimiter, TokenTree};
use std::collections::{HashMap, HashSet};

/// Drop the items of `file` (in inline modules too) that do not define or implement a
/// name `wanted` accepts.
pub fn prune(ast: &mut syn::File, wanted: impl Fn(&str) -> bool) {
    // Inline modules nest; a work list keeps this walk off the stack.
    let mut lists: Vec<&mut Vec<syn::Item>> = vec![&mut ast.items];
    while let Some(items) = lists.pop() {
        items.retain(|item| kept(item, &wanted));
        for item in items.iter_mut() {
            if let syn::Item::Mod(m) = item {
                lists.extend(m.content.as_mut().map(|(_, items)| items));
            }
        }
    }
}

/// Which top-level items of a dependency's file to parse, read from their tokens before
/// `syn` builds any tree: those that may define or implement a name `wanted` accepts, what
/// those definitions name from the same file, and the `use`s, modules and macros. The
/// others cost only their lexing; [`prune`] then decides exactly. In doubt, an item is
/// parsed.
pub fn select_items(items: &[Vec<TokenTree>], wanted: impl Fn(&str) -> bool) -> Vec<bool> {
    let heads: Vec<Head> = items.iter().map(|tokens| head(tokens)).collect();
    let traits: HashSet<&str> =
        heads.iter().filter(|h| h.keyword == "trait").filter_map(|h| h.name.as_deref()).collect();
    // Which items a name, once wanted, brings in: a definition by its name, an `impl` by
    // any name in its header.
    let mut by_name: HashMap<&str, Vec<usize>> = HashMap::new();
    let mut work = Vec::new();
    for (i, h) in heads.iter().enumerate() {
        let names: Vec<&str> = match h.keyword.as_str() {
            "struct" | "enum" | "union" | "trait" | "type" | "fn" | "static" | "const" => match h.name.as_deref() {
                Some(name) if name != "_" => vec![name],
                _ => Vec::new(),
            },
            "impl" => h.trait_names.iter().chain(&h.self_names).map(String::as_str).collect(),
            _ => Vec::new(),
        };
        let always = names.is_empty() && h.keyword != "impl";
        if always || names.iter().any(|n| wanted(n)) {
            work.push(i);
        }
        for name in names {
            by_name.entry(name).or_default().push(i);
        }
    }
    let mut named: HashSet<String> = HashSet::new();
    let mut selected = vec![false; items.len()];
    while let Some(i) = work.pop() {
        if std::mem::replace(&mut selected[i], true) {
            continue;
        }
        let h = &heads[i];
        let names_more = match h.keyword.as_str() {
            // What a definition names (its fields' and aliased types) is wanted too.
            "struct" | "enum" | "union" | "trait" | "type" => idents(&items[i]),
            // So is what implements a trait this file defines.
            "impl" if h.trait_names.iter().any(|t| traits.contains(t.as_str())) => h.self_names.clone(),
            _ => Vec::new(),
        };
        for name in names_more {
            if let Some(more) = by_name.get(name.as_str()) {
                if named.insert(name) {
                    work.extend(more.iter().copied().filter(|&j| !selected[j]));
                }
            }
        }
    }
    selected
}

/// What the first tokens of an item say: its keyword and name, or for an `impl` the
/// names before and after `for`.
struct Head {
    keyword: String,
    name: Option<String>,
    trait_names: Vec<String>,
    self_names: Vec<String>,
}

fn head(tokens: &[TokenTree]) -> Head {
    let mut rest = tokens.iter().peekable();
    // Attributes, visibility and qualifiers come before the keyword.
    while let Some(token) = rest.peek() {
        match token {
            TokenTree::Punct(p) if p.as_char() == '#' || p.as_char() == '!' => {}
            TokenTree::Group(g) if g.delimiter() == Delimiter::Bracket || g.delimiter() == Delimiter::Parenthesis => {}
            TokenTree::Literal(_) => {}
            TokenTree::Ident(i)
                if ["pub", "default", "unsafe", "async", "extern", "auto"].contains(&&*i.to_string()) => {}
            _ => break,
        }
        rest.next();
    }
    let keyword = match rest.next() {
        Some(TokenTree::Ident(i)) => i.to_string(),
        _ => String::new(),
    };
    let mut head = Head { keyword, name: None, trait_names: Vec::new(), self_names: Vec::new() };
    if head.keyword == "impl" {
        let header: Vec<&TokenTree> =
            rest.take_while(|t| !matches!(t, TokenTree::Group(g) if g.delimiter() == Delimiter::Brace)).collect();
        let names = |part: &[&TokenTree]| part.iter().flat_map(|t| idents(std::slice::from_ref(*t))).collect();
        match header.iter().position(|t| matches!(t, TokenTree::Ident(i) if i == "for")) {
            Some(at) => {
                head.trait_names = names(&header[..at]);
                head.self_names = names(&header[at + 1..]);
            }
            None => head.self_names = names(&header),
        }
    } else {
        // `const fn f`, `static mut X`: the name is the first other identifier.
        head.name = rest.find_map(|t| match t {
            TokenTree::Ident(i) if i != "mut" && i != "fn" => Some(i.to_string()),
            TokenTree::Ident(_) => None,
            // `const _: () = …`
            TokenTree::Punct(p) if p.as_char() == '_' => Some("_".into()),
            _ => None,
        });
    }
    head
}

/// Every identifier in `tokens`, groups included.
fn idents(tokens: &[TokenTree]) -> Vec<String> {
    let mut out = Vec::new();
    let mut work: Vec<TokenTree> = tokens.to_vec();
    while let Some(token) = work.pop() {
        match token {
            TokenTree::Ident(i) => out.push(i.to_string()),
            TokenTree::Group(g) => work.extend(g.stream()),
            _ => {}
        }
    }
    out
}

/// The names the items of `ast` define (in inline modules too): what a pruned dependency
/// file already holds. (An `impl` kept for its trait does not hold its type's definition.)
pub fn kept_names(ast: &syn::File) -> HashSet<String> {
    let mut names = HashSet::new();
    let mut lists: Vec<&Vec<syn::Item>> = vec![&ast.items];
    while let Some(items) = lists.pop() {
        for item in items {
            if let syn::Item::Mod(m) = item {
                lists.extend(m.content.as_ref().map(|(_, items)| items));
            }
            names.extend(defined_name(item).map(ToString::to_string));
        }
    }
    names
}

/// The name an item defines (a type, trait, function, constant or static).
fn defined_name(item: &syn::Item) -> Option<&syn::Ident> {
    match item {
        syn::Item::Struct(i) => Some(&i.ident),
        syn::Item::Enum(i) => Some(&i.ident),
        syn::Item::Union(i) => Some(&i.ident),
        syn::Item::Type(i) => Some(&i.ident),
        syn::Item::Trait(i) => Some(&i.ident),
        syn::Item::TraitAlias(i) => Some(&i.ident),
        syn::Item::Fn(i) => Some(&i.sig.ident),
        syn::Item::Const(i) => Some(&i.ident),
        syn::Item::Static(i) => Some(&i.ident),
        _ => None,
    }
}

/// Is `item` worth keeping for the names `wanted` accepts?
fn kept(item: &syn::Item, wanted: &impl Fn(&str) -> bool) -> bool {
    let named = |ident: &syn::Ident| wanted(&ident.to_string());
    match item {
        // A static of built-in data only (a generated table) holds no lock or reader.
        syn::Item::Static(i) => named(&i.ident) || names_a_type(&i.ty),
        syn::Item::Impl(i) => {
            let of_trait =
                i.trait_.as_ref().and_then(|(_, path, _)| path.segments.last()).is_some_and(|s| named(&s.ident));
            of_trait || last_name(&i.self_ty).map_or(true, named)
        }
        // `use`s, modules, macros and what syn keeps as tokens lead to what is kept.
        _ => defined_name(item).map_or(true, named),
    }
}

/// The name of a type's path (`Reader` of `io::Reader<R>`), through references.
fn last_name(ty: &syn::Type) -> Option<&syn::Ident> {
    match ty {
        syn::Type::Path(p) => p.path.segments.last().map(|s| &s.ident),
        syn::Type::Reference(r) => last_name(&r.elem),
        syn::Type::Paren(p) => last_name(&p.elem),
        syn::Type::Group(g) => last_name(&g.elem),
        _ => None,
    }
}

/// Does `ty` name a type other than the built-in scalars (`[(u32, &str); 9]` does not)?
fn names_a_type(ty: &syn::Type) -> bool {
    struct Names(bool);
    impl syn::visit::Visit<'_> for Names {
        fn visit_path(&mut self, path: &syn::Path) {
            let builtin =
                path.segments.len() == 1 && crate::symbols::known::is_primitive(&path.segments[0].ident.to_string());
            self.0 |= !builtin;
        }
    }
    let mut names = Names(false);
    syn::visit::Visit::visit_type(&mut names, ty);
    names.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::ToTokens;

    /// What is left of `code` pruned for `wanted`.
    fn pruned(code: &str, wanted: &[&str]) -> String {
        let mut file = crate::parse::parse_crate_root(code);
        prune(&mut file.ast, |name| wanted.contains(&name));
        file.ast.items.iter().map(|i| i.to_token_stream().to_string()).collect::<Vec<_>>().join("\n")
    }

    /// The items of `code` parsed for `wanted`, by name.
    fn selected(code: &str, wanted: &[&str]) -> Vec<String> {
        let module = crate::source::ModulePath::root("src");
        let source = std::sync::Arc::new(crate::source::SourceFile::new(
            "lib.rs".into(),
            "lib.rs".into(),
            module,
            false,
            code.into(),
        ));
        let select = |items: &[Vec<TokenTree>]| select_items(items, |n| wanted.contains(&n));
        let file = crate::parse::parse_selected(&source, crate::manifest::Edition::E2021, &select).expect("parses");
        file.ast
            .items
            .iter()
            .map(|i| {
                let text = i.to_token_stream().to_string();
                text.split(" {").next().unwrap_or_default().split(" ;").next().unwrap_or_default().to_string()
            })
            .collect()
    }

    #[test]
    fn items_are_picked_from_their_tokens_with_what_they_name_from_the_same_file() {
        let code = "#![allow(dead_code)]\nuse std::fs::File;\nmod io;\nmacro_rules! m { () => {} }\n\
                    pub struct Holder { inner: Inner }\nstruct Inner { f: File }\nstruct Other;\n\
                    pub trait Source {}\nimpl Source for Disk {}\npub struct Disk;\n\
                    impl std::fmt::Debug for Noise {}\npub struct Noise;\nimpl Holder { fn get(&self) {} }\n\
                    const LIMIT: usize = 3;\npub(crate) unsafe fn open() {}\n";
        let picked = selected(code, &["Holder", "Source", "Debug"]);
        for kept in ["use std :: fs :: File", "mod io", "struct Holder", "struct Inner", "trait Source"] {
            assert!(picked.iter().any(|p| p.contains(kept)), "{kept} not parsed: {picked:#?}");
        }
        for kept in ["impl Source for Disk", "struct Disk", "impl Holder", "impl std :: fmt :: Debug for Noise"] {
            assert!(picked.iter().any(|p| p.contains(kept)), "{kept} not parsed: {picked:#?}");
        }
        for skipped in ["struct Other", "struct Noise", "LIMIT", "fn open"] {
            assert!(!picked.iter().any(|p| p.contains(skipped)), "{skipped} parsed: {picked:#?}");
        }
    }

    #[test]
    fn the_first_item_keeps_the_files_inner_attributes() {
        let module = crate::source::ModulePath::root("src");
        let code = "#![cfg(test)]\nstruct Skipped;\nstruct Kept;\n";
        let source = std::sync::Arc::new(crate::source::SourceFile::new(
            "a.rs".into(),
            "a.rs".into(),
            module,
            false,
            code.into(),
        ));
        let select = |items: &[Vec<TokenTree>]| select_items(items, |n| n == "Kept");
        let file = crate::parse::parse_selected(&source, crate::manifest::Edition::E2021, &select).expect("parses");
        assert_eq!(file.ast.attrs.len(), 1);
        assert_eq!(file.ast.items.len(), 2);
    }

    #[test]
    fn keeps_what_defines_or_implements_a_wanted_name_and_what_leads_to_it() {
        let code = "use std::fs::File;\npub mod io;\nmacro_rules! m { () => {} }\n\
                    pub struct Reader { f: File }\npub struct Node(u32);\npub enum Kind { A }\n\
                    pub type Shared = Reader;\npub trait Source {}\npub fn open() {}\n\
                    impl Reader { fn new() {} }\nimpl Node { fn id() {} }\nimpl Source for Node {}\n\
                    impl std::fmt::Debug for Kind {}\n";
        let left = pruned(code, &["Reader", "Source"]);
        for kept in ["use std", "pub mod io", "macro_rules", "struct Reader", "impl Reader", "impl Source for Node"] {
            assert!(left.contains(kept), "{kept} lost:\n{left}");
        }
        for dropped in ["struct Node", "enum Kind", "type Shared", "fn open", "impl Node", "Debug for Kind"] {
            assert!(!left.contains(dropped), "{dropped} kept:\n{left}");
        }
    }

    #[test]
    fn kept_functions_keep_their_bodies() {
        let code = "pub struct S { f: std::fs::File }\nimpl S {\n    fn get(&self) -> u64 { self.f.metadata().unwrap().len() }\n}\n";
        assert!(pruned(code, &["S"]).contains("self . f . metadata ()"));
    }

    #[test]
    fn inline_modules_are_pruned_too_and_tables_of_built_in_data_go() {
        let code = "pub mod inner {\n    pub struct Wanted;\n    pub struct Other;\n    pub mod deeper { pub struct Gone; }\n}\n\
                    static TABLE: [(u32, &str); 2] = [(1, \"a\"), (2, \"b\")];\n\
                    static STATE: std::sync::Mutex<u8> = std::sync::Mutex::new(0);\n";
        let left = pruned(code, &["Wanted"]);
        assert!(left.contains("struct Wanted") && left.contains("static STATE"), "{left}");
        assert!(!left.contains("Other") && !left.contains("Gone") && !left.contains("TABLE"), "{left}");
        assert!(left.contains("pub mod deeper { }"), "{left}");
    }
}
