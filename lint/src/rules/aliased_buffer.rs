//! # aliased_buffer
//!
//! Flags a use of shared mutable state whose result depends on the order between the
//! function and the other threads it shared that state with: the function still treats
//! the buffer as its own after it has shared it.
//!
//! ## Why is this bad?
//!
//! Once a copy of the handle sits in a map other threads read, goes down a channel, or
//! is captured by spawned work, the buffer is no longer the function's own. Each access
//! may take the lock, yet what the function does with the result (counts it, checks it,
//! returns it) assumes nothing changed in between. The answer then depends on how far
//! the other threads got: right in tests, wrong under load.
//!
//! A metrics store put the caller's sample buffer into its map as the shared backing
//! store, then added the *buffer's* length to its size counter. By then other threads
//! had appended to that same buffer, so the counter drifted from the truth.
//!
//! ## Example
//!
//! ```text
//! fn upsert(&self, key: Key, samples: Arc<Mutex<Vec<f32>>>) {
//!     self.map.lock().entry(key).or_insert_with(|| samples.clone());
//!     self.size.fetch_add(samples.lock().len(), Relaxed); // other threads append to `samples`
//! }
//! ```
//!
//! ## Use instead
//!
//! Read what you need before sharing, or share a fresh copy and keep using your own:
//!
//! ```text
//! fn upsert(&self, key: Key, samples: Arc<Mutex<Vec<f32>>>) {
//!     let batch = samples.lock().clone();
//!     let inserted = batch.len();
//!     self.map.lock().entry(key).or_default().lock().extend(batch);
//!     self.size.fetch_add(inserted, Relaxed);
//! }
//! ```
//!
//! Take the data by value (`Vec<f32>`, not a shared handle), register spawned work
//! before spawning it (or under the lock the work takes to remove itself), and join
//! spawned work before reading what it produced.
//!
//! ## What counts
//!
//! - Buffers: `Arc` of a lock around data or of a concurrent collection (`DashMap`, …),
//!   a lock lent to scoped threads, `self` fields of those types, through aliases and
//!   package lock wrappers; not `Mutex<()>`. A handle and its copies are one buffer, also
//!   inside a struct (`Job { buf: buf.clone() }`) and under the same name
//!   (`let buf = buf.clone();`, and `let buf = buf.lock()` reads the outer `buf`);
//!   sharing `self` (`Arc::clone(self)`) shares its fields.
//! - Sharing points: a copy inserted into a structure other threads reach (`insert`,
//!   `push`, `entry(..).or_insert*`, `set`, `store`, `swap`, … on a lock's guard, a
//!   concurrent collection, `&self`, a static, an `Arc` parameter), sent down a channel,
//!   captured by or passed to any `spawn` (threads, builders, scopes, tasks, runtime
//!   handles, `JoinSet`, rayon), or passed to a package function that spawns work with
//!   that argument.
//! - Order-dependent uses, flagged: measuring the buffer (`len`, `is_empty`, `count`, …)
//!   and keeping, returning, checking or counting the result; still filling a buffer
//!   the function made or was given after publishing it; reusing it (`clear`,
//!   `truncate`, an overwrite) after sharing it; registering spawned work (its handle)
//!   in a structure the work also changes, after spawning it; reading a result as final
//!   (kept, returned, checked) while the work producing it was not joined; a worker
//!   spawned in a loop or per item checking a measurement of a collection it and its
//!   siblings write.
//! - Also flagged: `unsafe` aliasing. A raw pointer (`as_mut_ptr`,
//!   `ptr::from_ref(..).cast_mut()`, `as *mut _`, also inside a `Send` wrapper) moved
//!   into other threads while the function keeps using the memory, or builds a slice
//!   over it with `slice::from_raw_parts(_mut)`/`Vec::from_raw_parts`.
//! - Not flagged (sharing by design): reads in a loop entered after the sharing
//!   (polling, showing, an event loop, waiting on a condition variable until the work
//!   is in), a worker's loop condition on what its siblings write (`while
//!   done.lock().len() < n`: checked again each time round), printing and logging, a flag or counter
//!   written in place (`*stop = true`, `*n += 1`), one guarded operation on long-lived
//!   state (a `self` field, or a buffer made outside the loop that uses it); uses before
//!   the sharing, or through a guard taken before it; uses after a join (`join()`,
//!   `.await` of the handle or of a collection of handles, each handle of a collection
//!   or an array joined or awaited in a loop (`for h in [a, b] { h.join()?; }`), a
//!   handle awaited in an async block that is awaited, however deep
//!   (`timeout(d, async { h.await }).await`),
//!   `join_all`, `tokio::join!`, the end of a `thread::scope`, a receive on a channel
//!   the work sends on, a wait for all the permits of a semaphore the work holds one of
//!   (`sem.acquire_many(n).await`), draining
//!   the stream a spawning callee returned, an owner's `finish()`/`shutdown()`); work
//!   that has not run yet (spawned on a current-thread test runtime or with
//!   `spawn_local`, before the next `.await`; spawned on a current-thread runtime the
//!   function drives with `block_on`; a task that runs only when its caller runs it:
//!   `async_task::spawn`'s `Runnable`, `tokio_test`'s mock task); branches where nothing was shared (the `Err` of
//!   a spawn, `!Arc::ptr_eq(&stored, &buf)`); fresh copies; `Arc::strong_count`; files
//!   under a model checker (`use loom…`, `use shuttle…`), which race threads on purpose,
//!   or a deterministic simulator (`turmoil`, in a `use` or a path), which steps its hosts
//!   on the test's thread.
//! - Tests are linted like the rest: an order-dependent read in a test is a flaky test.
//!
//! ## Known limits
//!
//! - Names are matched by identifier, inside one function and the closures in it; a
//!   callee is seen only through its summary (does it spawn work with an argument, store
//!   it in a field its type spawns with, measure it, or take items out of it: a worker
//!   draining its queue through `next_job(&queue)` still drains it), made of the
//!   package's files that spawn work. A method call (`tx.send(x)`) finds only the
//!   summary of the one method of that name, never a free function's.
//! - Orderings it cannot see stay findings: a `Notify`, oneshot or `Barrier` the work
//!   signals, a lock the function holds that the work waits on, a runtime built
//!   elsewhere that only runs tasks inside `block_on`.
//! - Plain atomics (`Arc<AtomicBool>`) are not buffers: a stop flag or a counter is
//!   meant to be poked after it was shared.
//! - Inside macros only comma-separated expression arguments (`println!`,
//!   `assert_eq!`, …) are seen.
//!
//! Silence one finding with `// lockscope: allow(aliased_buffer) reason` on the line
//! or the line above.

use super::{PackageContext, Rule};
use crate::diagnostic::{Finding, Related, Severity};
use crate::flow::{self, Context, EventKind, Flow, Origin, Root, RootId, RootKind, Use, Value, Via, Work, WorkKind};
use crate::parse::ParsedFile;
use crate::prefilter::Prefilter;
use crate::source::{ModulePath, Region};
use crate::symbols::handles::{handle_fields, is_handle_constructor, is_handle_type};
use crate::symbols::{known, Symbols};
use crate::vocab;
use quote::ToTokens;
use syn::visit::Visit;

pub struct AliasedBuffer;

const NAME: &str = "aliased_buffer";

impl Rule for AliasedBuffer {
    fn name(&self) -> &'static str {
        NAME
    }

    fn doc(&self) -> String {
        super::module_doc(include_str!("aliased_buffer.rs"))
    }

    fn prefilter(&self) -> Prefilter {
        // A handle is written with a lock or a concurrent collection; a raw pointer
        // shared with a thread needs a spawn.
        Prefilter {
            any: &["Mutex", "RwLock", "DashMap", "DashSet", "SegQueue", "ArrayQueue"],
            pairs: &[(
                &["spawn", "spawn_blocking", "spawn_local"],
                &["as_mut_ptr", "cast_mut", "from_mut", "addr_of_mut"],
            )],
            // A file naming an alias or struct of handles defined elsewhere, and sharing.
            with_followed: &[
                "spawn",
                "spawn_blocking",
                "spawn_local",
                "send",
                "try_send",
                "insert",
                "push",
                "or_insert_with",
                "or_insert",
                "set",
            ],
        }
    }

    fn followed_names(&self, file: &syn::File, out: &mut Vec<String>) {
        // Aliases of handle types, and structs with a handle field, by their tokens.
        let is_handle_text = |ty: &syn::Type| {
            let text = ty.to_token_stream().to_string();
            let has = |w: &str| text.split(|c: char| !c.is_alphanumeric() && c != '_').any(|t| t == w);
            (has("Arc") && (has("Mutex") || has("RwLock"))) || ["DashMap", "DashSet", "SegQueue"].iter().any(|w| has(w))
        };
        for item in &file.items {
            match item {
                syn::Item::Type(t) if is_handle_text(&t.ty) => out.push(t.ident.to_string()),
                syn::Item::Struct(s) if s.fields.iter().any(|f| is_handle_text(&f.ty)) => out.push(s.ident.to_string()),
                _ => {}
            }
        }
    }

    fn needed_names(&self, _file: &syn::File, _out: &mut Vec<String>) {}

    fn needed_names_shallow(&self, file: &syn::File, out: &mut Vec<String>) {
        // The `self` types and parameter types of functions that share: whether what
        // they share is a handle is decided by those definitions.
        struct Needed<'o>(&'o mut Vec<String>, Option<String>);
        impl Needed<'_> {
            fn function(&mut self, sig: &syn::Signature, body: &syn::Block) {
                // Only what is given to a sharing call: the rest cannot be shared.
                let Some(shared) = sharing_calls(body, None) else { return };
                if shared.iter().any(|w| w == "self") {
                    self.0.extend(self.1.clone());
                }
                for input in &sig.inputs {
                    if let syn::FnArg::Typed(pt) = input {
                        let named = matches!(&*pt.pat, syn::Pat::Ident(i) if shared.iter().any(|w| i.ident == w));
                        if named {
                            let mut names = crate::symbols::PathNames::default();
                            names.visit_type(&pt.ty);
                            self.0.extend(names.into_names().into_iter().filter(|n| !known::is_common_name(n)));
                        }
                    }
                }
            }
        }
        impl Visit<'_> for Needed<'_> {
            fn visit_item_fn(&mut self, item: &syn::ItemFn) {
                self.function(&item.sig, &item.block);
            }
            fn visit_item_impl(&mut self, item: &syn::ItemImpl) {
                let self_ty = match &*item.self_ty {
                    syn::Type::Path(tp) => tp.path.segments.last().map(|s| s.ident.to_string()),
                    _ => None,
                };
                let outer = std::mem::replace(&mut self.1, self_ty);
                syn::visit::visit_item_impl(self, item);
                self.1 = outer;
            }
            fn visit_impl_item_fn(&mut self, item: &syn::ImplItemFn) {
                self.function(&item.sig, &item.block);
            }
        }
        Needed(out, None).visit_file(file);
    }

    fn check(&self, cx: &PackageContext<'_, '_>, out: &mut Vec<Finding>) {
        for file in cx.files.iter().filter(|f| f.source.report && !controlled_schedule(f)) {
            let mut items = Items { cx, file, modules: vec![file.source.module.clone()], out };
            items.visit_file(&file.ast);
        }
    }
}

/// Does the file use a crate that schedules its threads or hosts itself (loom, shuttle,
/// turmoil; [`vocab::CONTROLLED_SCHEDULERS`]), in a `use` or a path
/// (`turmoil::Builder::new()`)? Every interleaving there is explored on purpose, or none
/// happens but the one the test steps.
fn controlled_schedule(file: &ParsedFile) -> bool {
    struct Names(bool);
    impl Visit<'_> for Names {
        fn visit_path(&mut self, path: &syn::Path) {
            let first = path.segments.first().map(|s| s.ident.to_string());
            self.0 |= first.is_some_and(|f| vocab::CONTROLLED_SCHEDULERS.contains(&f.as_str()));
            if !self.0 {
                syn::visit::visit_path(self, path);
            }
        }
        fn visit_item_use(&mut self, u: &syn::ItemUse) {
            let text = u.tree.to_token_stream().to_string();
            let first = text.split(|c: char| !(c.is_alphanumeric() || c == '_')).next().unwrap_or_default();
            self.0 |= vocab::CONTROLLED_SCHEDULERS.contains(&first);
        }
    }
    // Most files name none of them: the text says so without walking the tree.
    if !vocab::CONTROLLED_SCHEDULERS.iter().any(|c| file.source.text.contains(c)) {
        return false;
    }
    let mut names = Names(false);
    names.visit_file(&file.ast);
    names.0
}

/// The identifiers given to the calls of a body that can share (a spawn, an insertion,
/// a send, a package function that spawns); `None` without such calls. Most bodies
/// have none, and need no flow analysis.
fn sharing_calls(body: &syn::Block, spawners: Option<&flow::SpawnSummaries>) -> Option<Vec<String>> {
    struct Calls<'s>(Option<Vec<String>>, Option<&'s flow::SpawnSummaries>);
    // With the package's spawners at hand the caller only asks whether there are any.
    impl Calls<'_> {
        fn spawner(&self, name: &syn::Ident) -> bool {
            // A quick filter: any function of that name (the walk tells them apart).
            self.1.is_some_and(|s| s.has_spawners() && s.defines_spawner(&name.to_string()))
        }
        fn arguments<'a>(&mut self, args: impl Iterator<Item = &'a syn::Expr>) {
            if self.1.is_some() {
                self.0.get_or_insert_with(Vec::new);
                return;
            }
            struct Idents<'o>(&'o mut Vec<String>);
            impl Visit<'_> for Idents<'_> {
                fn visit_ident(&mut self, i: &proc_macro2::Ident) {
                    self.0.push(i.to_string());
                }
            }
            let words = self.0.get_or_insert_with(Vec::new);
            for a in args {
                Idents(words).visit_expr(a);
            }
        }
    }
    impl Visit<'_> for Calls<'_> {
        fn visit_expr_method_call(&mut self, m: &syn::ExprMethodCall) {
            // Runs on every method call of every parsed file: compare without allocating.
            let named = |names: &[&str]| names.iter().any(|n| m.method == n);
            if named(vocab::SPAWNS) || named(vocab::INSERTS) || named(vocab::SENDS) || self.spawner(&m.method) {
                self.arguments(m.args.iter());
            }
            syn::visit::visit_expr_method_call(self, m);
        }
        fn visit_expr_call(&mut self, c: &syn::ExprCall) {
            if let syn::Expr::Path(p) = &*c.func {
                if let Some(last) = p.path.segments.last() {
                    if vocab::SPAWNS.iter().any(|n| last.ident == n) || self.spawner(&last.ident) {
                        self.arguments(c.args.iter());
                    }
                }
            }
            syn::visit::visit_expr_call(self, c);
        }
    }
    let mut calls = Calls(None, spawners);
    calls.visit_block(body);
    calls.0
}

/// Every function body, with its module and the handle fields of `self`.
struct Items<'c, 'p, 'a> {
    cx: &'c PackageContext<'p, 'a>,
    file: &'c ParsedFile,
    modules: Vec<ModulePath>,
    out: &'c mut Vec<Finding>,
}

impl Items<'_, '_, '_> {
    fn module(&self) -> &ModulePath {
        self.modules.last().unwrap_or(&self.file.source.module)
    }

    fn check_fn(&mut self, attrs: &[syn::Attribute], sig: &syn::Signature, body: &syn::Block, fields: &[String]) {
        if sharing_calls(body, Some(self.cx.spawn_summaries())).is_none() {
            return;
        }
        let symbols = self.cx.symbols;
        let module = self.module().clone();
        let (roots, self_shared) = entry_roots(symbols, &module, sig, fields);
        let current_thread = current_thread_test(attrs);
        let summaries = self.cx.spawn_summaries();
        let params = sig
            .inputs
            .iter()
            .filter_map(|a| match a {
                syn::FnArg::Typed(pt) => match &*pt.pat {
                    syn::Pat::Ident(i) => Some(i.ident.to_string()),
                    _ => None,
                },
                syn::FnArg::Receiver(_) => None,
            })
            .collect();
        let sharer = Buffers { symbols, module: &module, summaries, self_shared, current_thread, params };
        let edition = symbols.edition_of(&self.file.source.module);
        let (flows, roots) = flow::analyze_sharing(body, &NoGuards, &sharer, edition, roots);
        judge(self.file, &flows, &roots, self.out);
    }
}

impl<'ast> Visit<'ast> for Items<'_, '_, '_> {
    fn visit_item_mod(&mut self, item: &'ast syn::ItemMod) {
        let child = self.module().child(&item.ident.to_string());
        self.modules.push(child);
        syn::visit::visit_item_mod(self, item);
        self.modules.pop();
    }

    fn visit_item_fn(&mut self, item: &'ast syn::ItemFn) {
        self.check_fn(&item.attrs, &item.sig, &item.block, &[]);
        // Functions nested in the body are checked on their own.
        syn::visit::visit_block(self, &item.block);
    }

    fn visit_item_impl(&mut self, item: &'ast syn::ItemImpl) {
        let mut fields: Option<Vec<String>> = None;
        for impl_item in &item.items {
            if let syn::ImplItem::Fn(f) = impl_item {
                let module = self.module().clone();
                let fields =
                    fields.get_or_insert_with(|| handle_fields(self.cx.symbols, &module, &item.self_ty)).clone();
                self.check_fn(&f.attrs, &f.sig, &f.block, &fields);
                syn::visit::visit_block(self, &f.block);
            }
        }
    }

    fn visit_item_trait(&mut self, item: &'ast syn::ItemTrait) {
        for trait_item in &item.items {
            if let syn::TraitItem::Fn(f) = trait_item {
                if let Some(block) = &f.default {
                    self.check_fn(&f.attrs, &f.sig, block, &[]);
                    syn::visit::visit_block(self, block);
                }
            }
        }
    }
}

/// The places a function starts with: handle parameters (buffers), parameters that
/// reach other threads (`&T`, `Arc<T>`, senders), and `self` with its handle fields.
/// Also whether `self` is shared (`&self`, `Arc<Self>`).
fn entry_roots(
    symbols: &Symbols<'_>,
    module: &ModulePath,
    sig: &syn::Signature,
    fields: &[String],
) -> (Vec<Root>, bool) {
    let root = |name: String, kind, origin, parent| Root { name, kind, origin, parent, loop_depth: 0 };
    let mut roots = Vec::new();
    let mut self_shared = false;
    for input in &sig.inputs {
        match input {
            syn::FnArg::Receiver(r) => {
                self_shared = (r.reference.is_some() && r.mutability.is_none()) || is_arc(&r.ty);
                roots.push(root("self".into(), RootKind::Reaches, Origin::Param, None));
                let parent = roots.len() - 1;
                for f in fields {
                    roots.push(root(format!("self.{f}"), RootKind::Buffer, Origin::Field, Some(parent)));
                }
            }
            syn::FnArg::Typed(pt) => {
                let syn::Pat::Ident(name) = &*pt.pat else { continue };
                let name = name.ident.to_string();
                if is_handle_type(symbols, module, &pt.ty) {
                    roots.push(root(name, RootKind::Buffer, Origin::Param, None));
                } else if reaches_other_threads(&pt.ty) {
                    roots.push(root(name, RootKind::Reaches, Origin::Param, None));
                }
            }
        }
    }
    (roots, self_shared)
}

/// `#[tokio::test]` without `flavor = "multi_thread"` runs on one thread: what it spawns
/// runs only when the test awaits.
fn current_thread_test(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        let path: Vec<String> = a.path().segments.iter().map(|s| s.ident.to_string()).collect();
        let test = path.last().is_some_and(|l| l == "test") && path.len() == 2;
        test && !a.to_token_stream().to_string().contains("multi_thread")
    })
}

/// `&T`, `Arc<T>` and channel senders reach state other threads may hold.
fn reaches_other_threads(ty: &syn::Type) -> bool {
    match ty {
        syn::Type::Reference(r) => r.mutability.is_none(),
        syn::Type::Path(tp) => tp.path.segments.last().is_some_and(|s| {
            let name = s.ident.to_string();
            name == "Arc" || name.ends_with("Sender")
        }),
        _ => false,
    }
}

fn is_arc(ty: &syn::Type) -> bool {
    match ty {
        syn::Type::Reference(r) => is_arc(&r.elem),
        syn::Type::Path(tp) => tp.path.segments.last().is_some_and(|s| s.ident == "Arc"),
        _ => false,
    }
}

/// Guards are not followed here: only places.
struct NoGuards;

impl flow::Tracker for NoGuards {
    fn makes(&self, _expr: &syn::Expr) -> Option<String> {
        None
    }
}

/// What this rule follows: handles to shared mutable state.
struct Buffers<'s, 'a> {
    symbols: &'s Symbols<'a>,
    module: &'s ModulePath,
    summaries: &'s flow::SpawnSummaries,
    self_shared: bool,
    /// The function is a current-thread async test.
    current_thread: bool,
    params: Vec<String>,
}

impl flow::Sharer for Buffers<'_, '_> {
    fn local_root(&self, init: &syn::Expr, ty: Option<&syn::Type>) -> Option<RootKind> {
        let handle = ty.is_some_and(|t| is_handle_type(self.symbols, self.module, t))
            || is_handle_constructor(self.symbols, self.module, init);
        handle.then_some(RootKind::Buffer)
    }

    fn publishes(&self, receiver: &syn::Expr, root: Option<&Root>) -> bool {
        // A `RefCell` is reached by this thread only; a lock's guard by every holder.
        let mut current = receiver;
        while let syn::Expr::MethodCall(m) = current {
            let method = m.method.to_string();
            if matches!(method.as_str(), "borrow_mut" | "borrow" | "get_mut" | "as_mut") {
                return false;
            }
            if vocab::acquire(&method, m.args.len()).is_some() {
                return true;
            }
            current = &m.receiver;
        }
        match root {
            Some(r) if r.name == "self" => self.self_shared,
            Some(_) => true,
            // A static (`REGISTRY`, `crate::CACHE`).
            None => flow::guards::receiver_name(receiver).is_some_and(|n| {
                let last = n.rsplit("::").next().unwrap_or(&n);
                last.len() > 1 && last.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
            }),
        }
    }

    fn spawns_arguments(&self, callee: &str) -> Option<&[usize]> {
        self.summaries.arguments(callee)
    }

    fn spawns_method_arguments(&self, method: &str) -> Option<&[usize]> {
        self.summaries.method_arguments(method)
    }

    fn measures_arguments(&self, callee: &str) -> Option<&[usize]> {
        self.summaries.measured_arguments(callee)
    }

    fn takes_items_arguments(&self, callee: &str) -> Option<&[usize]> {
        self.summaries.item_taking_arguments(callee)
    }

    fn cooperative(&self, callee: &str) -> bool {
        callee.ends_with("spawn_local") || (self.current_thread && callee.ends_with("spawn"))
    }

    fn is_parameter(&self, name: &str) -> bool {
        self.params.iter().any(|p| p == name)
    }

    fn current_thread_runtime(&self, init: &syn::Expr) -> bool {
        self.summaries.builds_current_thread_runtime(init)
    }
}

/// Why a use's result depends on the other threads.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Why {
    Measured,
    Filled,
    Reused,
    Registered,
    UnjoinedRead,
    SiblingMeasure,
    Aliased,
    RawParts,
}

fn judge(file: &ParsedFile, flows: &[Flow], roots: &[Root], out: &mut Vec<Finding>) {
    // One finding per buffer and sharing, and per place in the code.
    let mut reported: Vec<(RootId, Region)> = Vec::new();
    let mut places: Vec<crate::source::Position> = Vec::new();
    for flow in flows {
        for event in &flow.events {
            let EventKind::Used(used) = &event.kind else { continue };
            for &w in &used.live {
                let value = &flow.values[w];
                let Some(work) = &value.work else { continue };
                if !shares(work, used.root, roots)
                    || reported.contains(&(used.root, value.made))
                    || places.contains(&event.at)
                {
                    continue;
                }
                if let Some(why) = order_dependent(used, value, work, flows, roots) {
                    reported.push((used.root, value.made));
                    places.push(event.at);
                    let at = Region { start: event.at, end: used.end };
                    out.push(finding(file, at, &roots[used.root], why, Some((work, value.made))));
                }
            }
        }
        if flow.spawned == Some(true) {
            sibling_measures(file, flow, roots, out);
        }
    }
}

/// Does the work share `root`, itself or a place holding it (`self` for `self.tasks`)?
fn shares(work: &Work, root: RootId, roots: &[Root]) -> bool {
    let mut current = Some(root);
    while let Some(r) = current {
        if work.roots.contains(&r) {
            return true;
        }
        current = roots[r].parent;
    }
    false
}

fn order_dependent(used: &Use, value: &Value, work: &Work, flows: &[Flow], roots: &[Root]) -> Option<Why> {
    let root = &roots[used.root];
    if root.kind == RootKind::Pointee {
        // A pointer published into a lock-free structure is that structure's design.
        if work.kind != WorkKind::Spawn {
            return None;
        }
        let raw_parts = matches!(&used.context, Context::Argument(f) if f.starts_with("from_raw_parts"));
        return match used.via {
            Via::Name => Some(Why::Aliased),
            Via::Pointer if raw_parts => Some(Why::RawParts),
            _ => None,
        };
    }
    // A loop entered after the sharing reads on purpose (polling, an event loop); a
    // guard taken before the sharing keeps the others out.
    let guarded_before = matches!(used.via, Via::Guard(at) if at < value.made.start);
    // Also a loop beside the one that shared (`for .. { spawn(..) }` then
    // `while done.lock().len() < n { .. }`).
    let polled = used.loop_depth > work.loop_depth || used.loop_start.is_some_and(|s| s > value.made.start);
    if polled || guarded_before || used.context == Context::Rendered {
        return None;
    }
    // A later iteration reading what an earlier one shared shows it (an event loop's
    // status, a progress report): only reuse of what it shared counts there.
    let reads_only_here = !used.next_iteration;
    let chain = &used.chain;
    let any = |f: fn(&str) -> bool| chain.iter().any(|m| f(m));
    let registers = work.kind == WorkKind::Spawn
        && any(vocab::fills)
        && used.args.iter().any(|a| value.names.contains(a))
        && work_changes(work, used.root, flows);
    if registers {
        return Some(Why::Registered);
    }
    let kept = matches!(
        used.context,
        Context::Bound
            | Context::Returned
            | Context::Condition
            | Context::Asserted
            | Context::Counted
            | Context::Argument(_)
    );
    if any(vocab::measures) && kept && reads_only_here {
        return Some(Why::Measured);
    }
    // A result taken as final: kept, returned, checked, counted or decided on.
    let final_read = matches!(
        used.context,
        Context::Bound | Context::Returned | Context::Asserted | Context::Counted | Context::Condition
    );
    if work.kind == WorkKind::Spawn && final_read && reads_contents(chain) && reads_only_here {
        return Some(Why::UnjoinedRead);
    }
    // The function's own buffer: made here (in this iteration) or the caller's.
    let own = root.origin != Origin::Field && root.loop_depth == used.loop_depth;
    // Feeding a queue the spawned work takes items out of is its design: each item goes
    // in whole under the lock and comes out whole.
    if own && any(vocab::fills) && !(work.kind == WorkKind::Spawn && work_takes_items(work, used.root, flows)) {
        return Some(Why::Filled);
    }
    if own && (any(vocab::reuses) || used.context == (Context::Assigned { overwrite: true })) {
        return Some(Why::Reused);
    }
    None
}

/// A read of the buffer's contents (`*g`, `g.lock().clone()`, `map.get(k)`), not a
/// guard alone or a copy of the handle (`buf.clone()`).
fn reads_contents(chain: &[String]) -> bool {
    if chain.first().is_some_and(|m| vocab::COPIES.contains(&m.as_str())) {
        return false;
    }
    chain.iter().any(|m| {
        matches!(
            m.as_str(),
            "*" | "clone"
                | "take"
                | "to_vec"
                | "to_owned"
                | "get"
                | "iter"
                | "first"
                | "last"
                | "contains"
                | "contains_key"
                | "load"
                | "as_slice"
                | "copied"
                | "cloned"
                | "keys"
                | "values"
        )
    })
}

/// Does the spawned work change `root`? Inline work is read; other work was handed the
/// buffer, presumably to change it.
fn work_changes(work: &Work, root: RootId, flows: &[Flow]) -> bool {
    let Some(body) = work.body.and_then(|b| flows.get(b)) else { return true };
    body.events
        .iter()
        .any(|e| matches!(&e.kind, EventKind::Used(u) if u.root == root && u.chain.iter().any(|m| vocab::mutates(m))))
}

/// Does the spawned work take items out of `root` (`q.lock().pop()`, `drain(..)`): a
/// work queue it consumes?
fn work_takes_items(work: &Work, root: RootId, flows: &[Flow]) -> bool {
    let Some(body) = work.body.and_then(|b| flows.get(b)) else { return false };
    body.events.iter().any(
        |e| matches!(&e.kind, EventKind::Used(u) if u.root == root && u.chain.iter().any(|m| vocab::takes_items(m))),
    )
}

/// A worker spawned over and over that checks a measurement of a buffer it writes: its
/// siblings write it too, in between.
fn sibling_measures(file: &ParsedFile, flow: &Flow, roots: &[Root], out: &mut Vec<Finding>) {
    let uses = || {
        flow.events.iter().filter_map(|e| match &e.kind {
            EventKind::Used(u) if roots[u.root].kind == RootKind::Buffer => Some((e.at, u)),
            _ => None,
        })
    };
    // Through one guard, the write and the check are one step: siblings wait. A loop's
    // own condition polls (`while done.lock().len() < n`): checked again each time round.
    let checked = |u: &Use| {
        u.via == Via::Name && !u.loop_condition && matches!(u.context, Context::Condition | Context::Asserted)
    };
    for (at, used) in uses() {
        let written = uses().any(|(_, other)| other.root == used.root && other.chain.iter().any(|m| vocab::mutates(m)));
        if written && checked(used) && used.chain.iter().any(|m| vocab::measures(m)) {
            out.push(finding(file, Region { start: at, end: used.end }, &roots[used.root], Why::SiblingMeasure, None));
            return;
        }
    }
}

fn finding(file: &ParsedFile, at: Region, root: &Root, why: Why, shared: Option<(&Work, Region)>) -> Finding {
    let buf = &root.name;
    let (how, line) = shared.map(|(w, r)| (w.how.as_str(), r.start.line)).unwrap_or(("shared", 0));
    let (message, label, help) = match why {
        Why::Measured => (
            format!("`{buf}` is measured after it was {how} (line {line})"),
            "other threads can change it in between: the result depends on their timing",
            "measure before sharing, or share a fresh copy (or take the data by value) and measure your own",
        ),
        Why::Filled => (
            format!("`{buf}` is still filled after it was {how} (line {line})"),
            "readers on other threads can see it half-built",
            "finish the buffer before sharing it, or share a fresh copy",
        ),
        Why::Reused => (
            format!("`{buf}` is reused after it was {how} (line {line})"),
            "the other side may still be reading it: what it sees depends on timing",
            "give the other side its own copy, or take a new buffer for the next use",
        ),
        Why::Registered => (
            format!("spawned work is registered in `{buf}` after it was started (line {line})"),
            "the work also changes `{buf}` and can finish first, leaving a stale entry",
            "register before spawning, or insert under the same lock the work takes to remove itself",
        ),
        Why::UnjoinedRead => (
            format!("`{buf}` is read as a final result, but the work it was {how} (line {line}) was never joined"),
            "the result depends on how far that work got",
            "join the work (or await its handle, or receive its done message) before reading its result",
        ),
        Why::SiblingMeasure => (
            format!("a worker checks a measurement of `{buf}` while its sibling workers still write it"),
            "the check depends on how far the siblings got: a flaky check",
            "check after the workers are joined, or make the measurement and the write one guarded step",
        ),
        Why::Aliased => (
            format!("`{buf}` is used after a raw pointer into it was {how} (line {line})"),
            "two threads reach the same memory with nothing ordering them",
            "join the work first, or give it owned data (or a split borrow in `thread::scope`)",
        ),
        Why::RawParts => (
            format!("a slice is made over a raw pointer into `{buf}` after it was {how} (line {line})"),
            "two threads reach the same memory with nothing ordering them",
            "join the work first, or give it owned data (or a split borrow in `thread::scope`)",
        ),
    };
    let related = shared
        .map(|(w, r)| Related { file: file.source.clone(), region: r, message: format!("`{buf}` {} here", w.how) })
        .into_iter()
        .collect();
    Finding {
        rule: NAME,
        severity: Severity::Warning,
        file: file.source.clone(),
        region: at,
        message,
        label: label.replace("{buf}", buf),
        help: Some(help.into()),
        related,
    }
}
