//! Package types whose values never leave the thread that makes them. A lock that is a
//! field of such a value (`cache: Mutex<…>`, not an `Arc` of one) can only be waited on
//! by that thread, so nothing it does under the lock makes another thread wait.
//!
//! A type is kept on one thread when every mention of it is one a value cannot cross
//! threads through: made by its own associated functions (`Context::new()`) and bound to
//! a local, passed down by reference (`fn scan(ctx: &Context)`), or the self type of its
//! own `impl`; and no function that mentions it (its own methods included) starts a
//! thread (a spawn, a scope, a parallel iterator) or makes a `move` closure or an async
//! block (either may be handed to a pool or an executor the spawn list does not name).
//! Any other mention lets it escape: inside another type (`Arc<Context>`,
//! `Vec<Context>`, a field, a static, an alias), the
//! return type of another type's function (its callers would not name it), a trait
//! implemented for it other than the derivable ones (it may then go where a `dyn Trait`
//! or a generic goes), a macro's tokens or a file that does not parse (counted as
//! anything), and plain `pub` (callers outside the package may share it: only
//! `pub(crate)` and narrower types are ever kept).

use super::phases::FnKey;
use crate::parse::ParsedFile;
use crate::source::SourceFile;
use crate::symbols::known::LOCK_TYPES;
use crate::vocab;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use syn::visit::Visit;

/// Traits whose `impl` does not send a value anywhere (what `derive` would write, and `Drop`).
const INERT_TRAITS: &[&str] =
    &["Default", "Debug", "Display", "Clone", "Copy", "PartialEq", "Eq", "PartialOrd", "Ord", "Hash", "Drop"];

/// The package's types kept on one thread (see the module doc), and their methods.
#[derive(Default)]
pub struct OneThread {
    /// Each such type with its fields declared directly as locks.
    lock_fields: HashMap<String, HashSet<String>>,
    /// The methods of those types, by where they are.
    methods: HashMap<FnKey, String>,
}

impl OneThread {
    /// The types of `files` kept on one thread; `unparsed` are the package's other files,
    /// read where they name a candidate.
    pub fn of(
        files: &[ParsedFile],
        unparsed: &[Arc<SourceFile>],
        edition_of: impl Fn(&crate::source::ModulePath) -> crate::manifest::Edition,
    ) -> Self {
        let mut declared = Declared::default();
        for file in files {
            declared.visit_file(&file.ast);
        }
        if declared.lock_fields.is_empty() {
            return OneThread::default();
        }
        let names: Vec<String> = declared.lock_fields.keys().cloned().collect();
        let mut mentions = Mentions {
            candidates: &declared.lock_fields,
            file: String::new(),
            escaped: declared.public,
            methods: HashMap::new(),
            impl_of: None,
            mentioned: HashSet::new(),
            starts_threads: false,
        };
        for file in files {
            mentions.file = file.source.display.clone();
            mentions.visit_file(&file.ast);
        }
        // The package's other files that name a candidate are read too (few: only where
        // a rule asks about a candidate's method); one that does not parse counts as anything.
        if let Some(matcher) = crate::prefilter::word_matcher(&names) {
            for source in unparsed.iter().filter(|s| !s.module.is_dependency()) {
                let named: HashSet<usize> = crate::prefilter::whole_words(&matcher, source.text.as_bytes())
                    .map(|m| m.pattern().as_usize())
                    .collect();
                if named.is_empty() {
                    continue;
                }
                match crate::parse::parse(source, edition_of(&source.module)) {
                    Ok(file) => {
                        mentions.file = file.source.display.clone();
                        mentions.visit_file(&file.ast);
                    }
                    Err(_) => mentions.escaped.extend(named.into_iter().map(|i| names[i].clone())),
                }
            }
        }
        let Mentions { escaped, methods, .. } = mentions;
        let mut lock_fields = declared.lock_fields;
        lock_fields.retain(|name, _| !escaped.contains(name));
        let methods = methods.into_iter().filter(|(_, ty)| lock_fields.contains_key(ty)).collect();
        OneThread { lock_fields, methods }
    }

    /// If the function with this signature in `file` is a method of a type kept on one
    /// thread, that type's lock fields.
    pub fn lock_fields_of(&self, file: &ParsedFile, sig: &syn::Signature) -> Option<&HashSet<String>> {
        let ty = self.methods.get(&(file.source.display.clone(), super::phases::position_of(sig)))?;
        self.lock_fields.get(ty)
    }
}

/// Structs with fields declared directly as locks (`Mutex<T>`, `parking_lot::RwLock<T>`).
#[derive(Default)]
struct Declared {
    lock_fields: HashMap<String, HashSet<String>>,
    /// Those declared plain `pub`.
    public: HashSet<String>,
}

impl<'ast> Visit<'ast> for Declared {
    fn visit_item_struct(&mut self, item: &'ast syn::ItemStruct) {
        let fields: HashSet<String> = item
            .fields
            .iter()
            .filter(|f| is_lock_type(&f.ty))
            .filter_map(|f| f.ident.as_ref().map(ToString::to_string))
            .collect();
        if !fields.is_empty() {
            let name = item.ident.to_string();
            if matches!(item.vis, syn::Visibility::Public(_)) {
                self.public.insert(name.clone());
            }
            self.lock_fields.entry(name).or_default().extend(fields);
        }
    }
}

fn is_lock_type(ty: &syn::Type) -> bool {
    matches!(ty, syn::Type::Path(p) if p.path.segments.last().is_some_and(|s| LOCK_TYPES.contains(&s.ident.to_string().as_str())))
}

/// Where the candidate types are mentioned, and which mentions let them escape.
struct Mentions<'c> {
    candidates: &'c HashMap<String, HashSet<String>>,
    file: String,
    escaped: HashSet<String>,
    methods: HashMap<FnKey, String>,
    /// The candidate whose own `impl` is being visited.
    impl_of: Option<String>,
    /// In the function being visited: the candidates it mentions, and whether it starts
    /// a thread.
    mentioned: HashSet<String>,
    starts_threads: bool,
}

impl Mentions<'_> {
    fn candidate(&self, path: &syn::Path) -> Option<String> {
        let last = path.segments.last()?.ident.to_string();
        let last = if last == "Self" { self.impl_of.clone()? } else { last };
        self.candidates.contains_key(&last).then_some(last)
    }

    /// A type written at `ty`: at the top of a position a value cannot cross threads
    /// through (`allowed`), through references, a candidate is only mentioned; anywhere
    /// else, inside another type, it escapes.
    fn written(&mut self, ty: &syn::Type, allowed: bool) {
        match ty {
            syn::Type::Reference(r) => self.written(&r.elem, allowed),
            syn::Type::Paren(p) => self.written(&p.elem, allowed),
            syn::Type::Path(p) if p.qself.is_none() => {
                if let Some(name) = self.candidate(&p.path) {
                    self.mentioned.insert(name.clone());
                    if !allowed {
                        self.escaped.insert(name);
                    }
                }
                for segment in &p.path.segments {
                    if let syn::PathArguments::AngleBracketed(args) = &segment.arguments {
                        for arg in &args.args {
                            if let syn::GenericArgument::Type(t) = arg {
                                self.written(t, false);
                            }
                        }
                    }
                }
            }
            // `<T as Trait>::Assoc` and the types written inside others.
            other => syn::visit::visit_type(self, other),
        }
    }

    fn function(&mut self, sig: &syn::Signature, block: Option<&syn::Block>) {
        let outer_mentioned = std::mem::take(&mut self.mentioned);
        let outer_starts = std::mem::replace(&mut self.starts_threads, false);
        for input in &sig.inputs {
            match input {
                syn::FnArg::Typed(t) => self.written(&t.ty, true),
                // `self: Arc<Self>` lets it escape; `&self`, `&mut self`, `self` do not.
                syn::FnArg::Receiver(r) => {
                    self.mentioned.extend(self.impl_of.clone());
                    if r.colon_token.is_some() {
                        self.written(&r.ty, true);
                    }
                }
            }
        }
        if let syn::ReturnType::Type(_, ty) = &sig.output {
            // Returned by value only by its own functions, which callers name
            // (`Context::new()`): `-> Self`, `-> Result<Self, E>`.
            let own = self.impl_of.is_some();
            match &**ty {
                syn::Type::Path(p)
                    if own && p.path.segments.last().is_some_and(|s| s.ident == "Result" || s.ident == "Option") =>
                {
                    self.mentioned.extend(self.impl_of.clone());
                    if let Some(syn::PathArguments::AngleBracketed(args)) = p.path.segments.last().map(|s| &s.arguments)
                    {
                        for (i, arg) in args.args.iter().enumerate() {
                            if let syn::GenericArgument::Type(t) = arg {
                                self.written(t, i == 0);
                            }
                        }
                    }
                }
                ty => self.written(ty, own),
            }
        }
        if let Some(block) = block {
            self.visit_block(block);
        }
        if self.starts_threads {
            self.escaped.extend(self.mentioned.drain());
        }
        self.mentioned = outer_mentioned;
        self.starts_threads = outer_starts;
    }
}

impl<'ast> Visit<'ast> for Mentions<'_> {
    fn visit_item_impl(&mut self, item: &'ast syn::ItemImpl) {
        let own = match &*item.self_ty {
            syn::Type::Path(p) => self.candidate(&p.path),
            _ => None,
        };
        // Its own `impl` names it; `impl Trait for Vec<Context>` lets it escape.
        self.written(&item.self_ty, own.is_some());
        if let (Some(name), Some((_, path, _))) = (&own, &item.trait_) {
            let inert = path.segments.last().is_some_and(|s| INERT_TRAITS.contains(&s.ident.to_string().as_str()));
            if !inert {
                self.escaped.insert(name.clone());
            }
        }
        let outer = std::mem::replace(&mut self.impl_of, own);
        for impl_item in &item.items {
            match impl_item {
                syn::ImplItem::Fn(f) => {
                    if let Some(name) = &self.impl_of {
                        self.methods.insert((self.file.clone(), super::phases::position_of(&f.sig)), name.clone());
                    }
                    self.function(&f.sig, Some(&f.block));
                }
                other => self.visit_impl_item(other),
            }
        }
        self.impl_of = outer;
    }

    fn visit_item_fn(&mut self, item: &'ast syn::ItemFn) {
        let outer = self.impl_of.take();
        self.function(&item.sig, Some(&item.block));
        self.impl_of = outer;
    }

    fn visit_trait_item_fn(&mut self, item: &'ast syn::TraitItemFn) {
        self.function(&item.sig, item.default.as_ref());
    }

    fn visit_local(&mut self, local: &'ast syn::Local) {
        if let syn::Pat::Type(t) = &local.pat {
            self.written(&t.ty, true);
            self.visit_pat(&t.pat);
        } else {
            self.visit_pat(&local.pat);
        }
        if let Some(init) = &local.init {
            self.visit_local_init(init);
        }
    }

    fn visit_type(&mut self, ty: &'ast syn::Type) {
        match ty {
            syn::Type::Path(_) | syn::Type::Reference(_) | syn::Type::Paren(_) => self.written(ty, false),
            other => syn::visit::visit_type(self, other),
        }
    }

    // `Context::new()`, `Context { .. }`, `Self::default()`: named, so mentioned.
    fn visit_path(&mut self, path: &'ast syn::Path) {
        if let Some(name) = self.candidate(path) {
            self.mentioned.insert(name);
        }
        syn::visit::visit_path(self, path);
    }

    // A `move` closure or an async block may be handed to a pool or an executor the
    // spawn list does not name (`pool.execute(move || ..)`): counted as another thread.
    fn visit_expr_closure(&mut self, closure: &'ast syn::ExprClosure) {
        self.starts_threads |= closure.capture.is_some();
        syn::visit::visit_expr_closure(self, closure);
    }

    fn visit_expr_async(&mut self, block: &'ast syn::ExprAsync) {
        self.starts_threads = true;
        syn::visit::visit_expr_async(self, block);
    }

    fn visit_expr_method_call(&mut self, call: &'ast syn::ExprMethodCall) {
        self.starts_threads |= vocab::starts_threads(&call.method.to_string());
        syn::visit::visit_expr_method_call(self, call);
    }

    fn visit_expr_call(&mut self, call: &'ast syn::ExprCall) {
        self.starts_threads |=
            crate::flow::sharing::last_segment(&call.func).is_some_and(|f| vocab::calls_start_threads(&f));
        syn::visit::visit_expr_call(self, call);
    }

    // Tokens are not read as code: a candidate named in them may go anywhere.
    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        for token in mac.tokens.clone() {
            self.escape_named_in(token);
        }
    }
}

impl Mentions<'_> {
    fn escape_named_in(&mut self, token: proc_macro2::TokenTree) {
        match token {
            proc_macro2::TokenTree::Ident(ident) => {
                let name = ident.to_string();
                if self.candidates.contains_key(&name) {
                    self.escaped.insert(name);
                }
            }
            proc_macro2::TokenTree::Group(group) => {
                for inner in group.stream() {
                    self.escape_named_in(inner);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kept(code: &str) -> Vec<String> {
        let file = crate::parse::parse_crate_root(code);
        let one_thread = OneThread::of(std::slice::from_ref(&file), &[], |_| crate::manifest::Edition::E2021);
        let mut names: Vec<String> = one_thread.lock_fields.keys().cloned().collect();
        names.sort();
        names
    }

    #[test]
    fn a_context_made_and_lent_by_one_thread_is_kept() {
        let code = r#"
            use std::sync::Mutex;
            pub(crate) struct Scan { seen: Mutex<Vec<u8>> }
            impl Scan {
                pub(crate) fn new() -> Self { Scan { seen: Mutex::new(Vec::new()) } }
                fn visit(&self, p: &str) { let _ = std::fs::read(p); self.seen.lock().unwrap().push(1); }
            }
            fn run(root: &str) { let scan = Scan::new(); walk(&scan, root); }
            fn walk(scan: &Scan, root: &str) { scan.visit(root); }
        "#;
        assert_eq!(kept(code), ["Scan"]);
    }

    #[test]
    fn shared_stored_spawned_or_handed_out_types_escape() {
        let code = r#"
            use std::sync::{Arc, Mutex, RwLock};
            struct InArc { m: Mutex<u8> }
            fn a() -> Arc<InArc> { Arc::new(InArc { m: Mutex::new(0) }) }
            struct Stored { m: Mutex<u8> }
            struct Holder { s: Stored }
            struct Spawned { m: RwLock<u8> }
            impl Spawned { fn new() -> Self { Spawned { m: RwLock::new(0) } } }
            fn b(s: &Spawned) { std::thread::scope(|sc| { sc.spawn(|| s.m.read()); }); }
            struct Pooled { m: Mutex<u8> }
            fn p(pool: &Pool) { let x = Pooled { m: Mutex::new(0) }; pool.execute(move || drop(x.m.lock())); }
            struct Dyn { m: Mutex<u8> }
            impl Iterator for Dyn { type Item = u8; fn next(&mut self) -> Option<u8> { None } }
            struct Made { m: Mutex<u8> }
            fn make() -> Made { Made { m: Mutex::new(0) } }
            struct Global { m: Mutex<u8> }
            lazy_static::lazy_static! { static ref G: Global = Global { m: Mutex::new(0) }; }
            struct ArcField { m: Arc<Mutex<u8>> }
            fn c(x: &ArcField) {}
        "#;
        assert!(kept(code).is_empty());
        assert!(kept("pub struct Api { m: std::sync::Mutex<u8> } fn f(a: &Api) {}").is_empty());
        assert_eq!(kept("pub(crate) struct Api { m: std::sync::Mutex<u8> } fn f(a: &Api) {}"), ["Api"]);
    }
}
