//! When in its object's life a function runs: functions that run while no other thread
//! can reach the object yet (constructors) or any more (`Drop::drop`), and the helpers
//! only those call.
//!
//! A lock taken there cannot be waited on by another thread through that object: the
//! object is being built or torn down by the one thread that owns it. Calls are matched
//! by name across the package (`recover_keyspaces(..)`, `self.load(..)`,
//! `Self::open(..)`); a name called anywhere else, or from inside a closure or an
//! async block (which may run on another thread, later), is not alone.

use crate::parse::ParsedFile;
use crate::source::{Position, SourceFile};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use syn::visit::Visit;

/// Where a function is: its file's display path and the position of its name.
pub type FnKey = (String, Position);

/// The package's functions that run alone (see the module doc).
#[derive(Default)]
pub struct Phases {
    alone: HashSet<FnKey>,
}

impl Phases {
    /// The phases of the functions of `files`; `unparsed` are the package's other files,
    /// whose mentions of a function's name count as calls from anywhere.
    pub fn of(files: &[ParsedFile], unparsed: &[Arc<SourceFile>]) -> Self {
        let mut found = Functions::default();
        for file in files {
            found.file = file.source.display.clone();
            found.visit_file(&file.ast);
        }
        let names: Vec<&String> = found.by_name.keys().collect();
        let mut elsewhere = HashSet::new();
        if let Some(matcher) = crate::prefilter::word_matcher(&names) {
            for source in unparsed.iter().filter(|s| !s.module.is_dependency()) {
                elsewhere.extend(crate::prefilter::whole_words(&matcher, source.text.as_bytes()).map(|m| m.pattern()));
            }
        }
        let elsewhere: Vec<String> = elsewhere.into_iter().map(|p| names[p.as_usize()].clone()).collect();
        for name in elsewhere {
            found.callers.entry(name).or_default().push(None);
        }
        // A helper runs alone when every call of its name is in a function that does: a
        // work list over call sites, so each is looked at once (a hostile chain of
        // helpers would make a fixpoint over every name quadratic).
        let mut waiting: HashMap<&str, usize> = HashMap::new();
        let mut calls_from: HashMap<&FnKey, Vec<&str>> = HashMap::new();
        let mut from_anywhere: HashSet<&str> = HashSet::new();
        for (name, callers) in &found.callers {
            for caller in callers {
                match caller {
                    Some(key) => {
                        *waiting.entry(name).or_default() += 1;
                        calls_from.entry(key).or_default().push(name);
                    }
                    None => {
                        from_anywhere.insert(name);
                    }
                }
            }
        }
        let mut alone_keys: HashSet<FnKey> = found.own_phase.iter().cloned().collect();
        let mut work: Vec<FnKey> = alone_keys.iter().cloned().collect();
        while let Some(key) = work.pop() {
            for &name in calls_from.get(&key).into_iter().flatten() {
                let Some(left) = waiting.get_mut(name) else { continue };
                *left -= 1;
                if *left > 0 || from_anywhere.contains(name) {
                    continue;
                }
                for key in found.by_name.get(name).into_iter().flatten() {
                    if alone_keys.insert(key.clone()) {
                        work.push(key.clone());
                    }
                }
            }
        }
        Phases { alone: alone_keys }
    }

    /// Does the function with this signature in `file` run alone?
    pub fn runs_alone(&self, file: &ParsedFile, sig: &syn::Signature) -> bool {
        self.alone.contains(&(file.source.display.clone(), position_of(sig)))
    }
}

pub fn position_of(sig: &syn::Signature) -> Position {
    crate::source::Region::of(sig.ident.span()).start
}

#[derive(Default)]
struct Functions {
    file: String,
    /// Constructors and `Drop::drop`.
    own_phase: Vec<FnKey>,
    /// Every function of a name, for the fixpoint.
    by_name: HashMap<String, Vec<FnKey>>,
    /// For each called name, the function of each call (`None`: a closure, an async
    /// block or outside any function).
    callers: HashMap<String, Vec<Option<FnKey>>>,
    /// The function being visited, `None` inside a closure or an async block.
    current: Option<FnKey>,
    /// The impl being visited: its self type's last name, and whether it is `Drop`.
    impl_of: Option<(String, bool)>,
}

impl Functions {
    fn function(&mut self, sig: &syn::Signature, block: &syn::Block, in_impl: bool) {
        let key = (self.file.clone(), position_of(sig));
        let name = sig.ident.to_string();
        let builds = in_impl && sig.receiver().is_none() && self.returns_self(&sig.output);
        let drops = in_impl && name == "drop" && self.impl_of.as_ref().is_some_and(|(_, is_drop)| *is_drop);
        if builds || drops {
            self.own_phase.push(key.clone());
        }
        self.by_name.entry(name).or_default().push(key.clone());
        let outer = self.current.replace(key);
        self.visit_block(block);
        self.current = outer;
    }

    /// `-> Self`, `-> Result<Self, E>`, `-> Arc<Db>` in `impl Db`.
    fn returns_self(&self, output: &syn::ReturnType) -> bool {
        let syn::ReturnType::Type(_, ty) = output else { return false };
        let text = quote::ToTokens::to_token_stream(ty).to_string();
        let words: Vec<&str> = text.split(|c: char| !(c.is_alphanumeric() || c == '_')).collect();
        words.contains(&"Self") || self.impl_of.as_ref().is_some_and(|(name, _)| words.contains(&name.as_str()))
    }

    fn called(&mut self, name: String) {
        self.callers.entry(name).or_default().push(self.current.clone());
    }
}

impl<'ast> Visit<'ast> for Functions {
    fn visit_item_fn(&mut self, item: &'ast syn::ItemFn) {
        self.function(&item.sig, &item.block, false);
    }

    fn visit_item_impl(&mut self, item: &'ast syn::ItemImpl) {
        let self_name = match &*item.self_ty {
            syn::Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
            _ => None,
        };
        let is_drop =
            item.trait_.as_ref().is_some_and(|(_, path, _)| path.segments.last().is_some_and(|s| s.ident == "Drop"));
        let outer = self.impl_of.replace((self_name.unwrap_or_default(), is_drop));
        syn::visit::visit_item_impl(self, item);
        self.impl_of = outer;
    }

    fn visit_impl_item_fn(&mut self, item: &'ast syn::ImplItemFn) {
        self.function(&item.sig, &item.block, true);
    }

    fn visit_trait_item_fn(&mut self, item: &'ast syn::TraitItemFn) {
        if let Some(block) = &item.default {
            self.function(&item.sig, block, false);
        }
    }

    fn visit_expr_closure(&mut self, closure: &'ast syn::ExprClosure) {
        let outer = self.current.take();
        syn::visit::visit_expr_closure(self, closure);
        self.current = outer;
    }

    fn visit_expr_async(&mut self, block: &'ast syn::ExprAsync) {
        let outer = self.current.take();
        syn::visit::visit_expr_async(self, block);
        self.current = outer;
    }

    fn visit_expr_call(&mut self, call: &'ast syn::ExprCall) {
        match &*call.func {
            syn::Expr::Path(func) => {
                if let Some(last) = func.path.segments.last() {
                    self.called(last.ident.to_string());
                }
                call.args.iter().for_each(|arg| self.visit_expr(arg));
            }
            _ => syn::visit::visit_expr_call(self, call),
        }
    }

    fn visit_expr_method_call(&mut self, call: &'ast syn::ExprMethodCall) {
        self.called(call.method.to_string());
        syn::visit::visit_expr_method_call(self, call);
    }

    // A function named without a call (`thread::spawn(worker)`, `map(parse)`) runs
    // whenever its taker calls it: not alone.
    fn visit_expr_path(&mut self, path: &'ast syn::ExprPath) {
        if let Some(last) = path.path.segments.last() {
            self.callers.entry(last.ident.to_string()).or_default().push(None);
        }
        syn::visit::visit_expr_path(self, path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alone(code: &str) -> Vec<String> {
        let file = crate::parse::parse_crate_root(code);
        let phases = Phases::of(std::slice::from_ref(&file), &[]);
        let mut names = Vec::new();
        let mut all = Functions { file: "lib.rs".into(), ..Functions::default() };
        all.visit_file(&file.ast);
        for (name, keys) in all.by_name {
            if keys.iter().any(|k| phases.alone.contains(k)) {
                names.push(name);
            }
        }
        names.sort();
        names
    }

    #[test]
    fn constructors_drop_and_their_helpers() {
        let code = r#"
            struct Db;
            impl Db {
                pub fn open() -> Result<Self, ()> { recover(); Ok(Db) }
                pub fn shared() -> std::sync::Arc<Db> { std::sync::Arc::new(Db) }
                fn query(&self) { shared_helper(); }
            }
            impl Drop for Db {
                fn drop(&mut self) { flush(); }
            }
            fn recover() { recover_more(); }
            fn recover_more() {}
            fn flush() {}
            fn shared_helper() {}
            fn also_from_open() { shared_helper(); }
        "#;
        assert_eq!(alone(code), ["drop", "flush", "open", "recover", "recover_more", "shared"]);
    }

    #[test]
    fn calls_from_closures_threads_and_other_functions_are_not_alone() {
        let code = r#"
            struct Pool;
            impl Pool {
                pub fn new() -> Self {
                    std::thread::spawn(|| work());
                    std::thread::spawn(worker);
                    setup();
                    Pool
                }
                fn reload(&self) { setup(); }
            }
            fn work() {}
            fn worker() {}
            fn setup() {}
            async fn later() {}
        "#;
        assert_eq!(alone(code), ["new"]);
    }
}
