//! # guard_across_await
//!
//! Flags a guard of a blocking lock (`std::sync`, `parking_lot`, `spin`, `lockscope`, a
//! crate's own wrapper) that is alive at an `.await`.
//!
//! ## Why is this bad?
//!
//! At an `.await` the task can be suspended for as long as the awaited future takes,
//! and it keeps the lock all that time. Every thread that wants the lock blocks (not
//! yields: it is a blocking lock), so the runtime's worker threads stall one by one. When
//! the holder's task needs one of those threads to make progress, nothing does: a
//! deadlock.
//!
//! ## Example
//!
//! ```text
//! async fn refresh(&self) {
//!     let mut cache = self.cache.lock().unwrap();
//!     let fresh = fetch().await;          // the guard is alive here
//!     cache.insert(fresh);
//! }
//! ```
//!
//! ## Use instead
//!
//! End the guard before the `.await`: scope it in a block, or `drop(guard)`; or fetch
//! first and take the lock only to store. If the lock must be held across the await,
//! use an async-aware lock (`tokio::sync::Mutex`), whose waiters yield.
//!
//! ```text
//! async fn refresh(&self) {
//!     let fresh = fetch().await;
//!     self.cache.lock().unwrap().insert(fresh);
//! }
//! ```
//!
//! ## What counts
//!
//! Liveness follows Rust's drop rules (the flow engine, `lint/src/flow`): a guard bound
//! by `let` lives to the end of its block, or until `drop(guard)`, or until it is moved
//! away; a temporary (`m.lock().unwrap().len()`) dies at the end of its statement; the
//! temporaries of an `if let`/`match`/`while let` scrutinee live through the arm (for
//! `if let`, through the `else` too before edition 2024); a guard kept in a tuple or
//! struct, or shadowed by a borrow of itself, is still alive. A guard moved into an
//! `async move` block is alive across that block's awaits. The finding is at the first
//! `.await` reached with the guard alive, with a note where the guard was taken.
//!
//! Not flagged: guards of async-aware locks (`tokio::sync`, `futures::lock`,
//! `async_lock`, `async_std::sync`): their acquisition is itself awaited
//! (`m.lock().await`), or the lock is declared with one of those types.
//!
//! ## Known limits
//!
//! - Guards are found by the call that takes them (`lock`, `read`, `write`, `try_lock`,
//!   …, not awaited); a lock's type is looked up by the name it is reached by (a field,
//!   static or variable of an async-aware lock type is skipped), not by type inference.
//! - A guard returned by a helper function (`fn state(&self) -> MutexGuard<_>`) is not
//!   followed into its caller.
//!
//! Silence one finding with `// lockscope: allow(guard_across_await) reason` on the line
//! or the line above.

use super::{PackageContext, Rule};
use crate::diagnostic::{Finding, Related, Severity};
use crate::flow::{self, EventKind, Tracker};
use crate::prefilter::Prefilter;
use crate::source::{ModulePath, Region};
use crate::symbols::read_seek::display_type;
use crate::symbols::{known, Resolved, Symbols};
use crate::vocab;
use std::collections::HashSet;
use syn::spanned::Spanned;
use syn::visit::Visit;

pub struct GuardAcrossAwait;

const NAME: &str = "guard_across_await";

impl Rule for GuardAcrossAwait {
    fn name(&self) -> &'static str {
        NAME
    }

    fn doc(&self) -> String {
        super::module_doc(include_str!("guard_across_await.rs"))
    }

    fn prefilter(&self) -> Prefilter {
        Prefilter { any: &[], pairs: &[(&["await"], vocab::LOCK_WORDS)], with_followed: &[] }
    }

    fn needed_names(&self, _file: &syn::File, _out: &mut Vec<String>) {}

    fn check(&self, cx: &PackageContext<'_, '_>, out: &mut Vec<Finding>) {
        let async_locks = async_lock_names(cx);
        for file in cx.files.iter().filter(|f| f.source.report) {
            let edition = cx.symbols.edition_of(&file.source.module);
            let mut bodies = Bodies::default();
            bodies.visit_file(&file.ast);
            for body in bodies.0 {
                let tracker = Guards::of(body, &async_locks);
                for flow in flow::analyze(body, &tracker, edition) {
                    let mut reported = HashSet::new();
                    for event in &flow.events {
                        let EventKind::Await(live) = &event.kind else { continue };
                        for &id in live {
                            if !reported.insert(id) {
                                continue;
                            }
                            let value = &flow.values[id];
                            let at = Region {
                                start: event.at,
                                end: crate::source::Position { line: event.at.line, column: event.at.column + 5 },
                            };
                            out.push(finding(file, at, value));
                        }
                    }
                }
            }
        }
    }
}

fn finding(file: &crate::parse::ParsedFile, at: Region, guard: &flow::Value) -> Finding {
    let held = match guard.names.last() {
        Some(name) => format!("`{name}`, the {}", guard.what),
        None => format!("the {} (a temporary)", guard.what),
    };
    Finding {
        rule: NAME,
        severity: Severity::Warning,
        file: file.source.clone(),
        region: at,
        message: format!("{held} taken at line {} is alive across this `.await`", guard.made.start.line),
        label: "the task can be suspended here holding a blocking lock: every thread that wants it blocks".into(),
        help: Some(
            "end the guard before the `.await` (scope it in a block or `drop` it), or take the lock after the await; if it must be held across, use an async-aware lock (`tokio::sync::Mutex`)".into(),
        ),
        related: vec![Related { file: file.source.clone(), region: guard.made, message: "the guard is taken here".into() }],
    }
}

/// Function bodies that contain an `.await` (async functions, or functions with async
/// blocks).
#[derive(Default)]
struct Bodies<'a>(Vec<&'a syn::Block>);

impl<'a> Bodies<'a> {
    fn add(&mut self, block: &'a syn::Block) {
        if has_await(block) {
            self.0.push(block);
        }
    }
}

impl<'a> Visit<'a> for Bodies<'a> {
    fn visit_item_fn(&mut self, item: &'a syn::ItemFn) {
        self.add(&item.block);
    }
    fn visit_impl_item_fn(&mut self, item: &'a syn::ImplItemFn) {
        self.add(&item.block);
    }
    fn visit_trait_item_fn(&mut self, item: &'a syn::TraitItemFn) {
        if let Some(block) = &item.default {
            self.add(block);
        }
    }
}

fn has_await(block: &syn::Block) -> bool {
    struct Finder(bool);
    impl Visit<'_> for Finder {
        fn visit_expr_await(&mut self, _: &syn::ExprAwait) {
            self.0 = true;
        }
    }
    let mut finder = Finder(false);
    finder.visit_block(block);
    finder.0
}

/// Which calls take a blocking lock's guard in one body.
struct Guards<'n> {
    /// Starts of lock calls that are awaited (`m.lock().await`): async locks' futures.
    awaited: HashSet<(usize, usize)>,
    async_locks: &'n HashSet<String>,
    async_locals: HashSet<String>,
}

impl<'n> Guards<'n> {
    fn of(body: &syn::Block, async_locks: &'n HashSet<String>) -> Self {
        struct Awaited(HashSet<(usize, usize)>);
        impl Visit<'_> for Awaited {
            fn visit_expr_await(&mut self, a: &syn::ExprAwait) {
                let start = Region::of(a.base.span()).start;
                self.0.insert((start.line, start.column));
                syn::visit::visit_expr_await(self, a);
            }
            // `assert_eq!(m.lock().await.len(), 1)`: the engine reads macro arguments too.
            fn visit_macro(&mut self, mac: &syn::Macro) {
                let args =
                    mac.parse_body_with(syn::punctuated::Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated);
                for arg in args.iter().flatten() {
                    self.visit_expr(arg);
                }
            }
        }
        let mut awaited = Awaited(HashSet::new());
        awaited.visit_block(body);
        // Locals taken from an async-aware lock's place (`let store = STORE.get_or_init(..)`).
        struct Locals<'n> {
            async_locks: &'n HashSet<String>,
            found: HashSet<String>,
        }
        impl Visit<'_> for Locals<'_> {
            fn visit_local(&mut self, local: &syn::Local) {
                let from_async = local.init.as_ref().and_then(|i| receiver_name(&i.expr));
                if let (Some(name), syn::Pat::Ident(p)) = (from_async, &local.pat) {
                    if self.async_locks.contains(&name) || self.found.contains(&name) {
                        self.found.insert(p.ident.to_string());
                    }
                }
                syn::visit::visit_local(self, local);
            }
        }
        let mut locals = Locals { async_locks, found: HashSet::new() };
        locals.visit_block(body);
        Guards { awaited: awaited.0, async_locks, async_locals: locals.found }
    }
}

impl Tracker for Guards<'_> {
    fn makes(&self, expr: &syn::Expr) -> Option<String> {
        let syn::Expr::MethodCall(m) = expr else { return None };
        let method = m.method.to_string();
        vocab::acquire(&method, m.args.len())?;
        // tokio's `blocking_lock` gives an async-aware guard.
        if method.starts_with("blocking_") {
            return None;
        }
        let start = Region::of(expr.span()).start;
        if self.awaited.contains(&(start.line, start.column)) {
            return None;
        }
        let receiver = display_type(&m.receiver).replace(" . ", ".").replace(". ", ".").replace(" (", "(");
        let name = receiver_name(&m.receiver);
        if name.is_some_and(|n| self.async_locks.contains(&n) || self.async_locals.contains(&n)) {
            return None;
        }
        Some(format!("guard of `{receiver}`"))
    }
}

/// The name a lock is reached by: `state` in `self.state.lock()`, `m` in `m.lock()`.
fn receiver_name(expr: &syn::Expr) -> Option<String> {
    match expr {
        syn::Expr::Field(f) => match &f.member {
            syn::Member::Named(n) => Some(n.to_string()),
            syn::Member::Unnamed(_) => None,
        },
        syn::Expr::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
        syn::Expr::MethodCall(m) => receiver_name(&m.receiver),
        syn::Expr::Try(t) => receiver_name(&t.expr),
        syn::Expr::Paren(p) => receiver_name(&p.expr),
        syn::Expr::Reference(r) => receiver_name(&r.expr),
        _ => None,
    }
}

/// Names (fields, statics, parameters, annotated locals) declared with an async-aware
/// lock type, and not also with a blocking one.
fn async_lock_names(cx: &PackageContext<'_, '_>) -> HashSet<String> {
    struct Declared<'s, 'a> {
        symbols: &'s Symbols<'a>,
        module: ModulePath,
        async_names: HashSet<String>,
        blocking_names: HashSet<String>,
    }
    impl Declared<'_, '_> {
        fn note(&mut self, name: Option<String>, ty: &syn::Type) {
            let Some(name) = name else { return };
            struct Paths<'p>(Vec<&'p syn::Path>);
            impl<'p> Visit<'p> for Paths<'p> {
                fn visit_path(&mut self, p: &'p syn::Path) {
                    self.0.push(p);
                    syn::visit::visit_path(self, p);
                }
            }
            let mut paths = Paths(Vec::new());
            paths.visit_type(ty);
            for path in paths.0 {
                if let Resolved::External(full) = self.symbols.resolve_path(&self.module, path) {
                    if known::is_lock(&full) {
                        if known::is_async_lock(&full) {
                            self.async_names.insert(name.clone());
                        } else {
                            self.blocking_names.insert(name.clone());
                        }
                    }
                }
            }
        }
    }
    impl<'ast> Visit<'ast> for Declared<'_, '_> {
        fn visit_field(&mut self, f: &'ast syn::Field) {
            self.note(f.ident.as_ref().map(ToString::to_string), &f.ty);
        }
        fn visit_item_static(&mut self, s: &'ast syn::ItemStatic) {
            self.note(Some(s.ident.to_string()), &s.ty);
        }
        fn visit_pat_type(&mut self, p: &'ast syn::PatType) {
            if let syn::Pat::Ident(i) = &*p.pat {
                self.note(Some(i.ident.to_string()), &p.ty);
            }
            syn::visit::visit_pat_type(self, p);
        }
    }
    let mut declared = Declared {
        symbols: cx.symbols,
        module: ModulePath::root("src"),
        async_names: HashSet::new(),
        blocking_names: HashSet::new(),
    };
    for file in cx.files {
        declared.module = file.source.module.clone();
        declared.visit_file(&file.ast);
    }
    declared.async_names.retain(|n| !declared.blocking_names.contains(n));
    declared.async_names
}
