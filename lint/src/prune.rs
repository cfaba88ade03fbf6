//! What of a workspace dependency's tree is kept. A package parses a dependency's file
//! only for the names it takes from it, yet a file is parsed whole: biome's packages
//! parsed 20 MB of generated syntax-node files each, for a few of their thousand types
//! (BENCHMARKS.md, "Session 14"). Pruning right after parsing keeps the items that
//! define or implement a wanted name and the `use`s and modules that lead to them.
//! Function bodies of kept items stay whole: they are where a dependency reads the field
//! of a reader it wraps, which `mutex_read_seek` takes as evidence.

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

/// Is `item` worth keeping for the names `wanted` accepts?
fn kept(item: &syn::Item, wanted: &impl Fn(&str) -> bool) -> bool {
    let named = |ident: &syn::Ident| wanted(&ident.to_string());
    match item {
        syn::Item::Struct(i) => named(&i.ident),
        syn::Item::Enum(i) => named(&i.ident),
        syn::Item::Union(i) => named(&i.ident),
        syn::Item::Type(i) => named(&i.ident),
        syn::Item::Trait(i) => named(&i.ident),
        syn::Item::TraitAlias(i) => named(&i.ident),
        syn::Item::Fn(i) => named(&i.sig.ident),
        syn::Item::Const(i) => named(&i.ident),
        // A static of built-in data only (a generated table) holds no lock or reader.
        syn::Item::Static(i) => named(&i.ident) || names_a_type(&i.ty),
        syn::Item::Impl(i) => {
            let of_trait =
                i.trait_.as_ref().and_then(|(_, path, _)| path.segments.last()).is_some_and(|s| named(&s.ident));
            of_trait || last_name(&i.self_ty).map_or(true, named)
        }
        // `use`s, modules, macros and what syn keeps as tokens lead to what is kept.
        _ => true,
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
