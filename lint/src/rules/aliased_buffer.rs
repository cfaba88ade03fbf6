//! # aliased_buffer
//!
//! Flags a use of a buffer of shared mutable state (an `Arc<Mutex<_>>`, a `DashMap`, …)
//! after the function has shared it with other threads, and a raw pointer moved into
//! another thread while the function keeps using what it points to.
//!
//! ## Why is this bad?
//!
//! Once a copy of the handle sits in a map other threads read, goes down a channel, or
//! is captured by spawned work, the buffer is no longer the function's own: every
//! later read may see the other threads' changes, and every later write races with
//! theirs. Each access may take the lock, yet what the function does with the result
//! (counts it, checks it, inserts it) assumes nothing changed in between.
//!
//! A metrics store put the caller's sample buffer into its map as the shared backing
//! store, released its per-timestamp permit, and then added the *buffer's* length to
//! its size counter. By then other threads had appended to that same buffer, so the
//! counter over-counted, sometimes, and drifted from the truth.
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
//! Taking the data by value (`Vec<f32>` rather than a shared handle) makes the bug
//! impossible. When spawned work needs the handle, take the lock before spawning and
//! keep the guard for as long as the function relies on what it read.
//!
//! ## What counts
//!
//! - Buffers: `Arc` of a lock (`Mutex`, `RwLock`, … of any crate lockscope knows, or a
//!   package wrapper named like one; not `Mutex<()>`) or of a concurrent collection (`DashMap`, `DashSet`, crossbeam
//!   queues, `scc`/`flurry`/`papaya` maps), through aliases; a lock or concurrent
//!   collection lent to scoped threads; `self` fields of those types. A handle and its
//!   clones (`.clone()`, `Arc::clone(&h)`, `let b = a;`) are one buffer, also when a
//!   copy travels inside a struct or tuple (`let job = Job { buf: buf.clone() }`).
//! - Sharing points: a copy inserted into a structure other threads reach (through a
//!   lock guard, a concurrent collection, a static, `OnceLock::set`): `insert`,
//!   `push`, `push_back`, `extend`, `entry(..).or_insert*`, `set`, `store`, `swap`,
//!   `get_or_init`; sent down a channel (`send`, `try_send`, …); captured by, or
//!   passed as an argument to, anything named `spawn`, `spawn_blocking` or
//!   `spawn_local` (`thread::spawn`, builders, scopes, `tokio::spawn`, runtime
//!   handles, `JoinSet`, `rayon::spawn`).
//! - Later uses: a method call through any copy of the handle (`lock`, `read`,
//!   `write`, `insert`, …) on a path where the sharing happened, including the next
//!   iteration of a loop. Cloning the handle, `Arc::strong_count` and `Arc::ptr_eq`
//!   are not uses.
//! - Not findings: uses before the sharing point; uses after the spawned work was
//!   joined or awaited (`join()`, `.await` on its handle or on a collection of
//!   handles, `join_all`, `tokio::join!`, the end of a `thread::scope`, a receive on a
//!   channel whose sender the work holds); uses on a branch where nothing
//!   was shared, including the `Err` branch of a spawn that failed and the branch
//!   where `!Arc::ptr_eq(&stored, &buffer)` shows another buffer was stored.
//! - Raw pointers: a pointer from `as_mut_ptr()`, `ptr::from_ref(..).cast_mut()`,
//!   `ptr::from_mut`, `addr_of_mut!` or an `as *mut _` cast, moved into spawned work
//!   (also inside a wrapper struct); later, any use of the pointee, and
//!   `slice::from_raw_parts(_mut)`/`Vec::from_raw_parts` over the pointer, until the
//!   work is joined.
//!
//! ## Known limits
//!
//! - The analysis is per function: a handle shared by a callee, or a use in a callee,
//!   is not seen.
//! - Plain atomics (`Arc<AtomicBool>`) are not buffers: a stop flag or a counter is
//!   meant to be poked after it was shared.
//! - Tests are skipped (`#[test]` and `#[tokio::test]` functions, `#[cfg(test)]`
//!   modules, the `tests/` and `benches/` targets): tests of concurrent code share
//!   locks with threads on purpose, to race them.
//! - Names are matched by identifier; inside macros only comma-separated expression
//!   arguments (`println!`, `assert_eq!`, …) are seen.
//!
//! Silence one finding with `// lockscope: allow(aliased_buffer) reason` on the line
//! or the line above.

use super::{PackageContext, Rule};
use crate::diagnostic::{Finding, Severity};
use crate::parse::ParsedFile;
use crate::prefilter::Prefilter;
use crate::source::{ModulePath, Region};
use crate::symbols::known;
use crate::symbols::{DefKind, Resolved, Symbols};
use quote::ToTokens;
use std::collections::{HashMap, HashSet};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::visit::Visit;

pub struct AliasedBuffer;

const NAME: &str = "aliased_buffer";

/// Calls and methods that hand their closure or future to another thread.
const SPAWNS: &[&str] = &["spawn", "spawn_blocking", "spawn_local", "spawn_fifo", "spawn_scoped"];
/// Calls whose closure spawns work that is joined when the call returns.
const SCOPES: &[&str] = &["scope", "scope_fifo", "in_place_scope", "in_place_scope_fifo"];
/// Methods that put their argument into the structure they are called on.
const INSERTS: &[&str] = &[
    "insert",
    "push",
    "push_back",
    "push_front",
    "extend",
    "or_insert",
    "or_insert_with",
    "or_insert_with_key",
    "set",
    "store",
    "swap",
    "get_or_init",
];
/// Methods that move their argument to whoever holds the other end.
const SENDS: &[&str] = &["send", "try_send", "send_blocking", "send_timeout", "force_send", "unbounded_send"];
/// Methods that give access to a lock's value: a receiver chain with one of them
/// reaches state other threads see.
const LOCK_METHODS: &[&str] = &[
    "lock",
    "read",
    "write",
    "try_lock",
    "try_read",
    "try_write",
    "lock_arc",
    "read_arc",
    "write_arc",
    "upgradable_read",
    "blocking_lock",
    "blocking_read",
    "blocking_write",
    "lock_owned",
    "read_owned",
    "write_owned",
];
/// Methods on a handle that copy or move the handle rather than touch the buffer.
const NOT_USES: &[&str] = &["clone", "to_owned", "into"];
/// Methods and functions that wait for spawned work.
const JOIN_METHODS: &[&str] = &["join", "join_next", "join_all", "join_next_with_id", "wait"];
const JOIN_FNS: &[&str] = &["join_all", "try_join_all", "join", "try_join", "block_on"];
/// Methods that wait for a message on a channel.
const RECEIVES: &[&str] = &["recv", "recv_timeout", "recv_deadline", "blocking_recv", "recv_async"];
/// Functions that make a channel, returning `(sender, receiver)`.
const CHANNELS: &[&str] = &["channel", "sync_channel", "bounded", "unbounded", "oneshot", "unbounded_channel"];
const DIVERGING_MACROS: &[&str] = &["panic", "unreachable", "todo", "unimplemented"];

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
        const SPAWN_WORDS: &[&str] = &["spawn", "spawn_blocking", "spawn_local"];
        Prefilter {
            any: &["Mutex", "RwLock", "DashMap", "DashSet", "SegQueue", "ArrayQueue"],
            pairs: &[(SPAWN_WORDS, &["as_mut_ptr", "cast_mut", "from_mut", "addr_of_mut"])],
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
        NeededDefs { self_ty: None, out }.visit_file(file);
    }

    fn check(&self, cx: &PackageContext<'_, '_>, out: &mut Vec<Finding>) {
        // Test and bench targets race on purpose: that is how concurrent code is tested.
        let is_test_target = |f: &&ParsedFile| {
            let target = &*f.source.module.target;
            target.starts_with("tests") || target.starts_with("benches")
        };
        for file in cx.files.iter().filter(|f| f.source.report && !is_test_target(f)) {
            let mut items = Items { symbols: cx.symbols, file, modules: vec![file.source.module.clone()], out };
            items.visit_file(&file.ast);
        }
    }
}

/// For each function that shares something, the definitions that decide whether what
/// it shares is a handle: the `self` type (its fields) and the types of the parameters
/// it shares (aliases such as `type Samples = Arc<Mutex<Vec<f32>>>`).
struct NeededDefs<'o, 'ast> {
    self_ty: Option<&'ast syn::Type>,
    out: &'o mut Vec<String>,
}

impl<'ast> NeededDefs<'_, 'ast> {
    fn check_fn(&mut self, sig: &'ast syn::Signature, body: &'ast syn::Block) {
        let mut shared = Mentions::default();
        SharedArgs(&mut shared).visit_block(body);
        if shared.idents.is_empty() && shared.self_fields.is_empty() {
            return;
        }
        if let (Some(syn::Type::Path(tp)), false) = (self.self_ty, shared.self_fields.is_empty()) {
            self.out.extend(tp.path.segments.last().map(|s| s.ident.to_string()));
        }
        for input in &sig.inputs {
            let syn::FnArg::Typed(pt) = input else { continue };
            if pat_ident(&pt.pat).is_some_and(|name| shared.idents.contains(&name)) {
                let mut names = crate::symbols::PathNames::default();
                names.visit_type(&pt.ty);
                self.out.extend(names.into_names().into_iter().filter(|n| !known::is_common_name(n)));
            }
        }
    }
}

impl<'ast> Visit<'ast> for NeededDefs<'_, 'ast> {
    fn visit_item_fn(&mut self, item: &'ast syn::ItemFn) {
        self.check_fn(&item.sig, &item.block);
    }

    fn visit_item_impl(&mut self, item: &'ast syn::ItemImpl) {
        let outer = self.self_ty.replace(&item.self_ty);
        syn::visit::visit_item_impl(self, item);
        self.self_ty = outer;
    }

    fn visit_impl_item_fn(&mut self, item: &'ast syn::ImplItemFn) {
        self.check_fn(&item.sig, &item.block);
    }
}

/// Names mentioned in the arguments of calls that can share: spawns, insertions, sends.
struct SharedArgs<'m>(&'m mut Mentions);

impl<'ast> Visit<'ast> for SharedArgs<'_> {
    fn visit_expr_method_call(&mut self, m: &'ast syn::ExprMethodCall) {
        // Runs on every method call of every parsed file: compare without allocating.
        let named = |names: &[&str]| names.iter().any(|n| m.method == n);
        if named(SPAWNS) || named(INSERTS) || named(SENDS) {
            self.0.sharing_calls = true;
            m.args.iter().for_each(|a| self.0.visit_expr(a));
        }
        syn::visit::visit_expr_method_call(self, m);
    }

    fn visit_expr_call(&mut self, c: &'ast syn::ExprCall) {
        let spawns = match &*c.func {
            syn::Expr::Path(p) => p.path.segments.last().is_some_and(|s| SPAWNS.iter().any(|n| s.ident == n)),
            _ => false,
        };
        if spawns {
            self.0.sharing_calls = true;
            c.args.iter().for_each(|a| self.0.visit_expr(a));
        }
        syn::visit::visit_expr_call(self, c);
    }
}

/// Finds every function body, with the module it is in and the type of `self`.
struct Items<'c, 'a> {
    symbols: &'c Symbols<'a>,
    file: &'c ParsedFile,
    modules: Vec<ModulePath>,
    out: &'c mut Vec<Finding>,
}

impl Items<'_, '_> {
    fn module(&self) -> &ModulePath {
        self.modules.last().unwrap_or(&self.file.source.module)
    }

    fn check_fn(&mut self, sig: &syn::Signature, body: &syn::Block, self_fields: &HashSet<String>) {
        let mut walker = Walker::new(self.symbols, self.module().clone(), self.file, self_fields.clone());
        walker.bind_params(sig);
        walker.walk_block(body);
        self.out.append(&mut walker.findings);
    }
}

impl<'ast> Visit<'ast> for Items<'_, '_> {
    fn visit_item_mod(&mut self, item: &'ast syn::ItemMod) {
        if crate::symbols::is_cfg_test(&item.attrs) {
            return;
        }
        let child = self.module().child(&item.ident.to_string());
        self.modules.push(child);
        syn::visit::visit_item_mod(self, item);
        self.modules.pop();
    }

    fn visit_item_fn(&mut self, item: &'ast syn::ItemFn) {
        if crate::symbols::is_test_fn(&item.attrs) {
            return;
        }
        if shares_anything(&item.block) {
            self.check_fn(&item.sig, &item.block, &HashSet::new());
        }
        // Functions nested in the body are checked on their own.
        syn::visit::visit_block(self, &item.block);
    }

    fn visit_item_impl(&mut self, item: &'ast syn::ItemImpl) {
        if crate::symbols::is_cfg_test(&item.attrs) {
            return;
        }
        let mut self_fields = None;
        for impl_item in &item.items {
            if let syn::ImplItem::Fn(f) = impl_item {
                if shares_anything(&f.block) {
                    let module = self.module().clone();
                    let fields = self_fields.get_or_insert_with(|| handle_fields(self.symbols, &module, &item.self_ty));
                    self.check_fn(&f.sig, &f.block, &fields.clone());
                }
                syn::visit::visit_block(self, &f.block);
            }
        }
    }

    fn visit_item_trait(&mut self, item: &'ast syn::ItemTrait) {
        for trait_item in &item.items {
            if let syn::TraitItem::Fn(f) = trait_item {
                if let Some(block) = f.default.as_ref().filter(|b| shares_anything(b)) {
                    self.check_fn(&f.sig, block, &HashSet::new());
                }
                if let Some(block) = &f.default {
                    syn::visit::visit_block(self, block);
                }
            }
        }
    }
}

/// Does a body call anything that can share (a spawn, an insertion, a send)? Most
/// functions do not, and need no flow analysis.
fn shares_anything(body: &syn::Block) -> bool {
    let mut shared = Mentions::default();
    SharedArgs(&mut shared).visit_block(body);
    shared.sharing_calls
}

/// The named fields of the impl's self type that are handles to shared state.
fn handle_fields(symbols: &Symbols<'_>, module: &ModulePath, self_ty: &syn::Type) -> HashSet<String> {
    let syn::Type::Path(tp) = self_ty else { return HashSet::new() };
    let Resolved::Def(id) = symbols.resolve_path(module, &tp.path) else { return HashSet::new() };
    let def = symbols.def(id);
    let DefKind::Struct(item) = def.kind else { return HashSet::new() };
    item.fields
        .iter()
        .filter(|f| is_handle_type(symbols, &def.module, &f.ty, 0))
        .filter_map(|f| f.ident.as_ref().map(|i| i.to_string()))
        .collect()
}

/// Is `ty` a handle to shared mutable state: an `Arc` of a lock or concurrent
/// collection, or (lent by reference) a lock or concurrent collection itself?
fn is_handle_type(symbols: &Symbols<'_>, module: &ModulePath, ty: &syn::Type, depth: usize) -> bool {
    if depth > 8 {
        return false;
    }
    match ty {
        syn::Type::Reference(r) => is_handle_type(symbols, module, &r.elem, depth + 1),
        syn::Type::Paren(p) => is_handle_type(symbols, module, &p.elem, depth + 1),
        syn::Type::Group(g) => is_handle_type(symbols, module, &g.elem, depth + 1),
        syn::Type::Path(tp) if tp.qself.is_none() => match type_kind(symbols, module, &tp.path) {
            TypeKind::Arc(Some(inner)) => is_shared_inner(symbols, module, inner, depth + 1),
            TypeKind::SharedState => true,
            TypeKind::Alias(ty, alias_module) => is_handle_type(symbols, &alias_module, ty, depth + 1),
            _ => false,
        },
        _ => false,
    }
}

/// Is `ty` (inside an `Arc`) a lock around data or a concurrent collection?
fn is_shared_inner(symbols: &Symbols<'_>, module: &ModulePath, ty: &syn::Type, depth: usize) -> bool {
    if depth > 8 {
        return false;
    }
    let syn::Type::Path(tp) = ty else { return false };
    match type_kind(symbols, module, &tp.path) {
        TypeKind::SharedState => true,
        TypeKind::Alias(ty, alias_module) => is_shared_inner(symbols, &alias_module, ty, depth + 1),
        _ => false,
    }
}

enum TypeKind<'t> {
    /// `Arc<T>`, with `T` when written.
    Arc(Option<&'t syn::Type>),
    /// A lock around data, or a concurrent collection.
    SharedState,
    Alias(&'t syn::Type, ModulePath),
    Other,
}

fn type_kind<'t>(symbols: &Symbols<'t>, module: &ModulePath, path: &'t syn::Path) -> TypeKind<'t> {
    let Some(last) = path.segments.last() else { return TypeKind::Other };
    let args = crate::symbols::read_seek::type_args(path);
    // A lock's data is its last type parameter (`lock_api::Mutex<R, T>`): `Mutex<()>`
    // guards no buffer.
    if args.last().is_some_and(is_unit) {
        return TypeKind::Other;
    }
    let full = match symbols.resolve_path(module, path) {
        Resolved::Def(id) => {
            let def = symbols.def(id);
            return match def.kind {
                DefKind::Alias(alias) => TypeKind::Alias(&alias.ty, def.module.clone()),
                _ if is_lock_wrapper(symbols, id) => TypeKind::SharedState,
                _ => TypeKind::Other,
            };
        }
        Resolved::External(full) => full,
        // Not imported from anywhere lockscope can see: judge by the name.
        Resolved::Unknown => vec!["std".to_string(), last.ident.to_string()],
    };
    if known::is_arc(&full) {
        TypeKind::Arc(args.first().copied())
    } else if known::is_concurrent_collection(&full) || is_lock_path(&full) {
        TypeKind::SharedState
    } else {
        TypeKind::Other
    }
}

/// A package type named like a lock (`struct Mutex<T>(parking_lot::Mutex<T>)`, a
/// poison-free or instrumented wrapper) is one.
fn is_lock_wrapper(symbols: &Symbols<'_>, id: crate::symbols::DefId) -> bool {
    let def = symbols.def(id);
    matches!(def.kind, DefKind::Struct(_))
        && matches!(def.name.as_str(), "Mutex" | "RwLock" | "FairMutex" | "ReentrantMutex")
}

fn is_unit(ty: &&syn::Type) -> bool {
    matches!(ty, syn::Type::Tuple(t) if t.elems.is_empty())
}

fn is_lock_path(full: &[String]) -> bool {
    known::is_lock(full) || full.last().is_some_and(|l| l == "Mutex" || l == "RwLock") && full.len() <= 2
}

/// What a buffer is: a handle whose copies are shared, or memory a raw pointer points into.
#[derive(Clone, Copy, PartialEq, Eq)]
enum BufKind {
    Handle,
    Pointee,
}

struct Buffer {
    name: String,
    kind: BufKind,
}

type BufId = usize;

#[derive(Clone, Copy, PartialEq, Eq)]
enum ShareKind {
    Spawn,
    Insert,
}

/// A binding hidden by a new one of the same name in an inner block.
struct Shadowed {
    name: String,
    handle: Option<BufId>,
    pointer: Option<BufId>,
    carried: Option<Vec<BufId>>,
    shared_root: bool,
}

/// One point where a buffer became reachable from other threads.
#[derive(Clone)]
struct Sharing {
    id: usize,
    buffer: BufId,
    kind: ShareKind,
    line: usize,
    /// "moved into `thread::spawn`", "inserted into `self.map` by `or_insert_with`".
    how: String,
    /// The variable (or collection) holding the spawned work's handle, so a join ends it.
    container: Option<String>,
    /// The `thread::scope` whose end joins the work.
    scope: Option<usize>,
    /// `let stored = map.entry(k).or_insert_with(|| buf.clone())`: `stored`, so that
    /// `!Arc::ptr_eq(&stored, &buf)` proves another buffer was stored.
    stored_as: Option<String>,
    /// Channel senders the spawned work holds: receiving from their channel means it is done.
    signals: Vec<String>,
}

/// The sharings in effect at a program point; `None` in `Walker::state` is unreachable code.
#[derive(Clone, Default)]
struct State {
    active: Vec<Sharing>,
}

impl State {
    fn merge(a: Option<State>, b: Option<State>) -> Option<State> {
        match (a, b) {
            (None, x) | (x, None) => x,
            (Some(mut a), Some(b)) => {
                for s in b.active {
                    if !a.active.iter().any(|x| x.id == s.id) {
                        a.active.push(s);
                    }
                }
                Some(a)
            }
        }
    }
}

#[derive(Default)]
struct LoopExits {
    breaks: Option<State>,
    continues: Option<State>,
}

/// Walks one function body in evaluation order, tracking which buffers have been
/// shared on the paths reaching each point.
struct Walker<'w, 'a> {
    symbols: &'w Symbols<'a>,
    module: ModulePath,
    file: &'w ParsedFile,
    self_fields: HashSet<String>,
    buffers: Vec<Buffer>,
    /// Local name (or `self.field`) of each handle, to its buffer.
    handles: HashMap<String, BufId>,
    /// Raw pointer variables, to the buffer they point into.
    pointers: HashMap<String, BufId>,
    /// Values that hold copies of handles (`let job = Job { buf: buf.clone() }`): moving
    /// one into spawned work shares those buffers.
    carriers: HashMap<String, Vec<BufId>>,
    /// Locals that reach state other threads see: lock guards, `&` and `Arc` parameters.
    shared_roots: HashSet<String>,
    /// `let (tx, rx) = channel()`: `rx -> tx`, so a receive can tell spawned work finished.
    channels: HashMap<String, String>,
    /// `&self` or `self: Arc<Self>`: the receiver's fields are reachable from other threads.
    self_shared: bool,
    /// Per open block, the bindings it shadowed, restored when it ends.
    shadowed: Vec<Vec<Shadowed>>,
    state: Option<State>,
    loops: Vec<LoopExits>,
    scopes: Vec<usize>,
    next_id: usize,
    reported_sharings: HashSet<(String, usize)>,
    reported_uses: HashSet<Region>,
    findings: Vec<Finding>,
}

impl<'w, 'a> Walker<'w, 'a> {
    fn new(symbols: &'w Symbols<'a>, module: ModulePath, file: &'w ParsedFile, self_fields: HashSet<String>) -> Self {
        Walker {
            symbols,
            module,
            file,
            self_fields,
            buffers: Vec::new(),
            handles: HashMap::new(),
            pointers: HashMap::new(),
            carriers: HashMap::new(),
            shared_roots: HashSet::new(),
            self_shared: false,
            channels: HashMap::new(),
            shadowed: Vec::new(),
            state: Some(State::default()),
            loops: Vec::new(),
            scopes: Vec::new(),
            next_id: 0,
            reported_sharings: HashSet::new(),
            reported_uses: HashSet::new(),
            findings: Vec::new(),
        }
    }

    fn new_buffer(&mut self, name: &str, kind: BufKind) -> BufId {
        self.buffers.push(Buffer { name: name.to_string(), kind });
        self.buffers.len() - 1
    }

    fn bind_params(&mut self, sig: &syn::Signature) {
        for input in &sig.inputs {
            let pt = match input {
                syn::FnArg::Receiver(r) => {
                    self.self_shared = (r.reference.is_some() && r.mutability.is_none()) || is_arc_type(&r.ty);
                    continue;
                }
                syn::FnArg::Typed(pt) => pt,
            };
            let Some(name) = pat_ident(&pt.pat) else { continue };
            if is_handle_type(self.symbols, &self.module, &pt.ty, 0) {
                let id = self.new_buffer(&name, BufKind::Handle);
                self.handles.insert(name.clone(), id);
            }
            if matches!(&*pt.ty, syn::Type::Reference(r) if r.mutability.is_none()) || is_arc_type(&pt.ty) {
                self.shared_roots.insert(name);
            }
        }
    }

    // ----- buffers and handles -----

    /// The buffer a handle expression names: a local, or a `self` field.
    fn handle_of(&mut self, expr: &syn::Expr) -> Option<BufId> {
        match strip(expr) {
            syn::Expr::Path(p) => self.handles.get(&path_ident(&p.path)?).copied(),
            syn::Expr::Field(f) if is_self(&f.base) => {
                let syn::Member::Named(field) = &f.member else { return None };
                let field = field.to_string();
                if !self.self_fields.contains(&field) {
                    return None;
                }
                let key = format!("self.{field}");
                if let Some(&id) = self.handles.get(&key) {
                    return Some(id);
                }
                let id = self.new_buffer(&key, BufKind::Handle);
                self.handles.insert(key, id);
                Some(id)
            }
            syn::Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) => self.handle_of(&u.expr),
            _ => None,
        }
    }

    /// `h`, `h.clone()`, `Arc::clone(&h)`, `&h`: the same buffer as `h`.
    fn copy_of(&mut self, expr: &syn::Expr) -> Option<BufId> {
        match strip(expr) {
            syn::Expr::MethodCall(m) if NOT_USES.contains(&m.method.to_string().as_str()) && m.args.is_empty() => {
                self.copy_of(&m.receiver)
            }
            syn::Expr::Call(c) if is_clone_fn(&c.func) && c.args.len() == 1 => self.copy_of(&c.args[0]),
            other => self.handle_of(other),
        }
    }

    /// Does a constructor build a new handle: `Arc::new(Mutex::new(..))`, `Mutex::new(..)`,
    /// `DashMap::new()`?
    fn is_handle_constructor(&self, expr: &syn::Expr) -> bool {
        let syn::Expr::Call(call) = strip(expr) else { return false };
        let syn::Expr::Path(func) = &*call.func else { return false };
        let segments = &func.path.segments;
        let n = segments.len();
        // Cheap checks first: this runs on every `let`.
        if n < 2
            || !matches!(
                segments[n - 1].ident.to_string().as_str(),
                "new"
                    | "default"
                    | "from"
                    | "with_capacity"
                    | "with_hasher"
                    | "with_capacity_and_hasher"
                    | "bounded"
                    | "unbounded"
            )
        {
            return false;
        }
        let ty_name = segments[n - 2].ident.to_string();
        if !matches!(
            ty_name.as_str(),
            "Arc"
                | "Mutex"
                | "RwLock"
                | "FairMutex"
                | "ReentrantMutex"
                | "HashMap"
                | "HashSet"
                | "HashIndex"
                | "TreeIndex"
                | "Queue"
                | "Stack"
                | "Bag"
        ) && !known::is_concurrent_collection(&[String::new(), ty_name])
        {
            return false;
        }
        let mut ty_path = func.path.clone();
        ty_path.segments.pop();
        ty_path.segments.pop_punct();
        let full = match self.symbols.resolve_path(&self.module, &ty_path) {
            Resolved::External(full) => full,
            Resolved::Unknown => {
                vec!["std".into(), ty_path.segments.last().map(|s| s.ident.to_string()).unwrap_or_default()]
            }
            Resolved::Def(id) => return is_lock_wrapper(self.symbols, id),
        };
        if known::is_arc(&full) {
            return call.args.first().is_some_and(|inner| self.is_handle_constructor(inner));
        }
        let unit = call.args.first().is_some_and(|a| matches!(strip(a), syn::Expr::Tuple(t) if t.elems.is_empty()));
        known::is_concurrent_collection(&full) || (is_lock_path(&full) && !unit)
    }

    fn bind_local(&mut self, pat: &syn::Pat, init: Option<&syn::Expr>) {
        let (pat, annotated) = match pat {
            syn::Pat::Type(pt) => (&*pt.pat, Some(&*pt.ty)),
            other => (other, None),
        };
        // `let (a, b) = (x.clone(), y.clone());`: element by element.
        if let (syn::Pat::Tuple(pats), Some(syn::Expr::Tuple(exprs))) = (pat, init.map(strip)) {
            if pats.elems.len() == exprs.elems.len() {
                pats.elems.iter().zip(&exprs.elems).for_each(|(p, e)| self.bind_local(p, Some(e)));
                return;
            }
        }
        let Some(name) = pat_ident(pat) else {
            // Destructuring: the names it binds shadow whatever they were.
            let mut names = Vec::new();
            pat_idents(pat, &mut names);
            for name in &names {
                self.forget(name);
                self.channels.remove(name);
            }
            if let (syn::Pat::Tuple(t), [tx, rx], Some(init)) = (pat, names.as_slice(), init) {
                let makes_channel = match strip(init) {
                    syn::Expr::Call(c) => last_segment(&c.func).is_some_and(|n| CHANNELS.contains(&n.as_str())),
                    _ => false,
                };
                if makes_channel && t.elems.len() == 2 {
                    self.channels.insert(rx.clone(), tx.clone());
                }
            }
            return;
        };
        let Some(init) = init else {
            self.forget(&name);
            return;
        };
        let copied = self.copy_of(init);
        let pointee = self.pointer_source(init);
        let pointer_copy = self.mentioned_pointer(init);
        let shared = self.reaches_shared(init);
        self.forget(&name);
        if let Some(id) = copied {
            self.handles.insert(name.clone(), id);
        } else if self.is_handle_constructor(init)
            || annotated.is_some_and(|ty| is_handle_type(self.symbols, &self.module, ty, 0))
        {
            let id = self.new_buffer(&name, BufKind::Handle);
            self.handles.insert(name.clone(), id);
        } else if pointee.is_none() && pointer_copy.is_none() {
            let mut carried = Vec::new();
            self.copies_in(init, false, &mut carried);
            if !carried.is_empty() {
                self.carriers.insert(name.clone(), carried);
            }
        }
        if let Some(key) = pointee {
            let id = self.pointee_buffer(&key);
            self.pointers.insert(name.clone(), id);
        } else if let Some(id) = pointer_copy {
            self.pointers.insert(name.clone(), id);
        }
        if shared {
            self.shared_roots.insert(name);
        }
    }

    /// A new binding of `name` hides the old one until the enclosing block ends.
    fn forget(&mut self, name: &str) {
        let old = Shadowed {
            name: name.to_string(),
            handle: self.handles.remove(name),
            pointer: self.pointers.remove(name),
            carried: self.carriers.remove(name),
            shared_root: self.shared_roots.remove(name),
        };
        if let Some(frame) = self.shadowed.last_mut() {
            frame.push(old);
        }
    }

    fn open_scope(&mut self) {
        self.shadowed.push(Vec::new());
    }

    fn close_scope(&mut self) {
        for old in self.shadowed.pop().unwrap_or_default().into_iter().rev() {
            self.handles.remove(&old.name);
            self.pointers.remove(&old.name);
            self.carriers.remove(&old.name);
            self.shared_roots.remove(&old.name);
            if let Some(id) = old.handle {
                self.handles.insert(old.name.clone(), id);
            }
            if let Some(id) = old.pointer {
                self.pointers.insert(old.name.clone(), id);
            }
            if let Some(carried) = old.carried {
                self.carriers.insert(old.name.clone(), carried);
            }
            if old.shared_root {
                self.shared_roots.insert(old.name);
            }
        }
    }

    /// Walk `f` with the names a closure or loop pattern binds hiding outer ones.
    fn with_bindings(&mut self, pats: &[&syn::Pat], f: impl FnOnce(&mut Self)) {
        self.open_scope();
        let mut names = Vec::new();
        pats.iter().for_each(|p| pat_idents(p, &mut names));
        names.iter().for_each(|n| self.forget(n));
        f(self);
        self.close_scope();
    }

    fn pointee_buffer(&mut self, key: &str) -> BufId {
        if let Some(id) = self.buffers.iter().position(|b| b.kind == BufKind::Pointee && b.name == key) {
            return id;
        }
        self.new_buffer(key, BufKind::Pointee)
    }

    /// The variable a raw-pointer expression points into: `v.as_mut_ptr()`,
    /// `ptr::from_ref(&x).cast_mut()`, `ptr::from_mut(&mut x)`, `&mut x as *mut _`.
    fn pointer_source(&self, expr: &syn::Expr) -> Option<String> {
        match strip(expr) {
            syn::Expr::MethodCall(m) => match m.method.to_string().as_str() {
                "as_mut_ptr" => root_key(&m.receiver),
                "cast_mut" | "cast" | "add" | "offset" | "wrapping_add" => self.pointer_source(&m.receiver),
                _ => None,
            },
            syn::Expr::Call(c) => match last_segment(&c.func).as_deref() {
                Some("from_mut" | "from_ref") => c.args.first().and_then(root_key),
                // `SendPtr(v.as_mut_ptr())`: a wrapper that carries the pointer.
                _ if is_constructor(&c.func) => c.args.iter().find_map(|a| self.pointer_source(a)),
                _ => None,
            },
            syn::Expr::Struct(s) => s.fields.iter().find_map(|f| self.pointer_source(&f.expr)),
            // `v.as_mut_ptr() as usize`: still the pointer, smuggled as a number.
            syn::Expr::Cast(c) if self.pointer_source(&c.expr).is_some() => self.pointer_source(&c.expr),
            syn::Expr::Cast(c) if matches!(&*c.ty, syn::Type::Ptr(p) if p.mutability.is_some()) => {
                let inner = strip(&c.expr);
                self.pointer_source(inner).or_else(|| match inner {
                    syn::Expr::Reference(_) => root_key(inner),
                    syn::Expr::Cast(_) => self.pointer_source(inner),
                    syn::Expr::MethodCall(m) if m.method == "as_ptr" => root_key(&m.receiver),
                    _ => None,
                })
            }
            syn::Expr::Macro(m) if m.mac.path.segments.last().is_some_and(|s| s.ident == "addr_of_mut") => {
                m.mac.parse_body::<syn::Expr>().ok().as_ref().and_then(root_key)
            }
            _ => None,
        }
    }

    /// A pointer variable the expression passes on by value (`SendPtr(p)`, `p.add(1)`).
    fn mentioned_pointer(&self, expr: &syn::Expr) -> Option<BufId> {
        if self.pointers.is_empty() {
            return None;
        }
        let mut names = Mentions::default();
        names.visit_expr(expr);
        names.idents.iter().find_map(|n| self.pointers.get(n).copied())
    }

    /// Does the receiver of an insertion reach state other threads see?
    fn reaches_shared(&self, expr: &syn::Expr) -> bool {
        let mut e = strip(expr);
        loop {
            match e {
                syn::Expr::MethodCall(m) => {
                    let method = m.method.to_string();
                    if LOCK_METHODS.contains(&method.as_str()) {
                        return true;
                    }
                    // `RefCell`: only this thread reaches it.
                    if matches!(method.as_str(), "borrow_mut" | "borrow" | "get_mut" | "as_mut") {
                        return false;
                    }
                    e = strip(&m.receiver);
                }
                syn::Expr::Field(f) => {
                    if let Some(key) = root_key(e) {
                        if self.handles.contains_key(&key) {
                            return true;
                        }
                    }
                    e = strip(&f.base);
                }
                syn::Expr::Index(i) => e = strip(&i.expr),
                syn::Expr::Try(t) => e = strip(&t.expr),
                syn::Expr::Await(a) => e = strip(&a.base),
                syn::Expr::Unary(u) => e = strip(&u.expr),
                syn::Expr::Path(p) => {
                    let Some(name) = path_ident(&p.path) else {
                        // `crate::REGISTRY`, `Self::CACHE`: a static.
                        return p.path.segments.last().is_some_and(|s| is_static_name(&s.ident.to_string()));
                    };
                    return self.shared_roots.contains(&name)
                        || self.handles.contains_key(&name)
                        || is_static_name(&name)
                        || (name == "self" && self.self_shared);
                }
                _ => return false,
            }
        }
    }

    // ----- sharing -----

    fn share(&mut self, buffer: BufId, kind: ShareKind, span: proc_macro2::Span, how: String) {
        let scope = self.scopes.last().copied();
        let id = self.next_id;
        self.next_id += 1;
        if let Some(state) = &mut self.state {
            let line = Region::of(span).start.line;
            state.active.push(Sharing {
                id,
                buffer,
                kind,
                line,
                how,
                container: None,
                scope,
                stored_as: None,
                signals: Vec::new(),
            });
        }
    }

    /// Ends the sharings created since `first_id`: the spawn or send failed.
    fn end_since(state: &mut Option<State>, first_id: usize) {
        if let Some(state) = state {
            state.active.retain(|s| s.id < first_id);
        }
    }

    /// Ends the work spawned since `first_id`: it was joined or awaited.
    fn join_since(state: &mut Option<State>, first_id: usize) {
        if let Some(state) = state {
            state.active.retain(|s| s.id < first_id || s.kind != ShareKind::Spawn);
        }
    }

    /// Handle copies an argument moves into a structure: the handle itself, a clone, a
    /// wrapper (`Some(h)`, `(k, h)`), or what a closure returns. A call other than a
    /// constructor only counts when `through_calls` (a spawned future captures its arguments).
    fn copies_in(&mut self, expr: &syn::Expr, through_calls: bool, out: &mut Vec<BufId>) {
        if let Some(id) = self.copy_of(expr) {
            out.push(id);
            return;
        }
        if let Some(id) = self.mentioned_pointer(expr) {
            out.push(id);
            return;
        }
        // A carrier moved along (`tx.send(job)`), or its method's future (`spawn(job.run())`).
        let carrier = match strip(expr) {
            syn::Expr::Path(p) => path_ident(&p.path),
            syn::Expr::MethodCall(m) if through_calls => root_key(&m.receiver),
            _ => None,
        };
        if let Some(carried) = carrier.and_then(|name| self.carriers.get(&name)) {
            out.extend(carried);
            return;
        }
        match strip(expr) {
            syn::Expr::Tuple(t) => t.elems.iter().for_each(|e| self.copies_in(e, through_calls, out)),
            syn::Expr::Array(a) => a.elems.iter().for_each(|e| self.copies_in(e, through_calls, out)),
            syn::Expr::Struct(s) => s.fields.iter().for_each(|f| self.copies_in(&f.expr, through_calls, out)),
            syn::Expr::Call(c) if through_calls || is_constructor(&c.func) => {
                c.args.iter().for_each(|e| self.copies_in(e, through_calls, out))
            }
            syn::Expr::Closure(c) => self.copies_in(&c.body, through_calls, out),
            syn::Expr::Block(b) => {
                if let Some(syn::Stmt::Expr(last, None)) = b.block.stmts.last() {
                    self.copies_in(last, through_calls, out);
                }
            }
            syn::Expr::Async(_) => self.captures(expr, out),
            _ => {}
        }
    }

    /// Buffers a closure or async block captures: every handle, `self` field handle and
    /// raw pointer its body names.
    fn captures(&mut self, body: &syn::Expr, out: &mut Vec<BufId>) {
        let mut names = Mentions::default();
        names.visit_expr(body);
        for name in &names.idents {
            if let Some(&id) = self.handles.get(name).or_else(|| self.pointers.get(name)) {
                out.push(id);
            }
            out.extend(self.carriers.get(name).into_iter().flatten());
        }
        for field in &names.self_fields {
            if self.self_fields.contains(field) {
                let key = format!("self.{field}");
                let id = match self.handles.get(&key) {
                    Some(&id) => id,
                    None => {
                        let id = self.new_buffer(&key, BufKind::Handle);
                        self.handles.insert(key, id);
                        id
                    }
                };
                out.push(id);
            }
        }
    }

    /// A call or method named `spawn`: its closure or future runs elsewhere.
    fn spawn(&mut self, callee: String, span: proc_macro2::Span, args: &Punctuated<syn::Expr, syn::Token![,]>) {
        let mut shared = Vec::new();
        for arg in args {
            match strip(arg) {
                syn::Expr::Closure(c) => {
                    self.captures(&c.body, &mut shared);
                    self.walk_elsewhere(&c.body);
                }
                syn::Expr::Async(a) => {
                    self.captures(arg, &mut shared);
                    self.walk_elsewhere_block(&a.block);
                }
                other => {
                    self.walk_expr(other);
                    self.copies_in(other, true, &mut shared);
                }
            }
        }
        shared.sort_unstable();
        shared.dedup();
        let signals: Vec<String> = if self.channels.is_empty() {
            Vec::new()
        } else {
            let mut names = Mentions::default();
            args.iter().for_each(|a| names.visit_expr(a));
            self.channels.values().filter(|tx| names.idents.contains(*tx)).cloned().collect()
        };
        let first = self.next_id;
        for buffer in shared {
            let how = match self.buffers[buffer].kind {
                BufKind::Handle => format!("moved a copy into `{callee}`"),
                BufKind::Pointee => format!("moved a raw pointer to it into `{callee}`"),
            };
            self.share(buffer, ShareKind::Spawn, span, how);
        }
        if let Some(state) = &mut self.state {
            state.active.iter_mut().filter(|s| s.id >= first).for_each(|s| s.signals.clone_from(&signals));
        }
    }

    /// Spawned work runs on another thread: its own uses are not this function's, but
    /// what it shares further is checked from a clean state.
    fn walk_elsewhere(&mut self, body: &syn::Expr) {
        let saved = (self.state.replace(State::default()), std::mem::take(&mut self.loops));
        self.walk_expr(body);
        (self.state, self.loops) = saved;
    }

    fn walk_elsewhere_block(&mut self, block: &syn::Block) {
        let saved = (self.state.replace(State::default()), std::mem::take(&mut self.loops));
        self.walk_block(block);
        (self.state, self.loops) = saved;
    }

    // ----- uses -----

    fn use_of(&mut self, buffer: BufId, region: Region) {
        let Some(state) = &self.state else { return };
        let Some(sharing) = state.active.iter().find(|s| s.buffer == buffer) else { return };
        let buf = &self.buffers[buffer];
        if !self.reported_uses.insert(region) || !self.reported_sharings.insert((buf.name.clone(), sharing.line)) {
            return;
        }
        let (message, label) = match buf.kind {
            BufKind::Handle => (
                format!(
                    "`{}` is used after it was shared with other threads: line {} {}",
                    buf.name, sharing.line, sharing.how
                ),
                "this reads or writes the shared buffer; other threads may have changed it".to_string(),
            ),
            BufKind::Pointee => (
                format!(
                    "`{}` is used while another thread may write it through a raw pointer: line {} {}",
                    buf.name, sharing.line, sharing.how
                ),
                "this aliases memory another thread can write".to_string(),
            ),
        };
        let help = match buf.kind {
            BufKind::Handle => "read what you need before sharing it, share a fresh copy, take the data by value, or take the lock before spawning the work that will touch it",
            BufKind::Pointee => "join the work before touching the buffer again, or give the thread its own part (`split_at_mut`, `chunks_mut` in a `thread::scope`) instead of a raw pointer",
        };
        self.findings.push(Finding {
            rule: NAME,
            severity: Severity::Warning,
            file: self.file.source.clone(),
            region,
            message,
            label,
            help: Some(help.into()),
            related: Vec::new(),
        });
    }

    // ----- control flow -----

    fn walk_block(&mut self, block: &syn::Block) {
        self.open_scope();
        for stmt in &block.stmts {
            self.walk_stmt(stmt);
            self.end_joined(stmt);
        }
        self.close_scope();
    }

    fn walk_stmt(&mut self, stmt: &syn::Stmt) {
        match stmt {
            syn::Stmt::Local(local) => {
                let first = self.next_id;
                if let Some(init) = &local.init {
                    self.walk_expr(&init.expr);
                    if let Some((_, diverge)) = &init.diverge {
                        // `let Ok(h) = spawn(..) else { .. }`: in `else` the spawn failed.
                        let mut failed = self.state.clone();
                        Self::end_since(&mut failed, first);
                        let after = std::mem::replace(&mut self.state, failed);
                        self.walk_expr(diverge);
                        self.state = after;
                    }
                }
                let binding = pat_ident(&local.pat);
                if let (Some(state), Some(name)) = (&mut self.state, binding) {
                    for s in state.active.iter_mut().filter(|s| s.id >= first) {
                        match s.kind {
                            ShareKind::Spawn => {
                                s.container.get_or_insert_with(|| name.clone());
                            }
                            ShareKind::Insert => s.stored_as = Some(name.clone()),
                        }
                    }
                }
                self.bind_local(&local.pat, local.init.as_ref().map(|i| &*i.expr));
            }
            syn::Stmt::Expr(expr, _) => self.walk_expr(expr),
            syn::Stmt::Macro(m) => self.walk_macro(&m.mac),
            syn::Stmt::Item(_) => {}
        }
    }

    /// After a statement that joins or awaits a variable holding spawned work's handle
    /// (`h.join()`, `for h in handles { h.join() }`, `join_all(handles).await`), that
    /// work is done.
    fn end_joined(&mut self, stmt: &syn::Stmt) {
        let Some(state) = &mut self.state else { return };
        if !state.active.iter().any(|s| s.container.is_some() || !s.signals.is_empty()) {
            return;
        }
        let mut mentions = Mentions::default();
        match stmt {
            syn::Stmt::Local(local) => {
                if let Some(init) = &local.init {
                    mentions.visit_expr(&init.expr);
                }
            }
            other => mentions.visit_stmt(other),
        }
        if mentions.joins {
            state.active.retain(|s| !s.container.as_ref().is_some_and(|c| mentions.idents.contains(c)));
        }
        // `rx.recv()` where the spawned work holds `tx`: it signalled that it is done.
        if mentions.receives {
            let senders: Vec<&String> =
                self.channels.iter().filter(|(rx, _)| mentions.idents.contains(*rx)).map(|(_, tx)| tx).collect();
            state.active.retain(|s| !s.signals.iter().any(|tx| senders.contains(&tx)));
        }
    }

    fn walk_loop(&mut self, cond: Option<&syn::Expr>, body: &syn::Block, infinite: bool) {
        let entry = self.state.clone();
        self.loops.push(LoopExits::default());
        let mut end = None;
        for pass in 0..2 {
            if let Some(cond) = cond {
                self.walk_expr(cond);
            }
            self.walk_block(body);
            let exits = self.loops.last_mut().map(|l| l.continues.take()).unwrap_or_default();
            end = State::merge(self.state.take(), exits);
            // A second pass sees the next iteration, when this one shared something.
            let new = end.as_ref().is_some_and(|e| {
                e.active.iter().any(|s| !entry.as_ref().is_some_and(|en| en.active.iter().any(|x| x.id == s.id)))
            });
            if pass == 1 || !new {
                break;
            }
            self.state = State::merge(entry.clone(), end.clone());
        }
        let exits = self.loops.pop().unwrap_or_default();
        self.state = if infinite { exits.breaks } else { State::merge(State::merge(entry, end), exits.breaks) };
    }

    fn walk_branches(&mut self, cond: &syn::Expr, then: &syn::Block, otherwise: Option<&syn::Expr>) {
        let first = self.next_id;
        let (pattern, guard) = match cond {
            syn::Expr::Let(l) => {
                self.walk_expr(&l.expr);
                (Some(&*l.pat), None)
            }
            other => {
                self.walk_expr(other);
                (None, self.ptr_eq_guard(other))
            }
        };
        let before = self.state.clone();
        // `if let Err(e) = spawn(..)`: the spawn failed in `then`; `if let Ok(h)`: in `else`.
        // `if spawn(..).is_err()`: the same, spelled as a method.
        let tested = match strip(cond) {
            syn::Expr::MethodCall(m) => Some(m.method.to_string()),
            _ => None,
        };
        let failed_in_then = pattern.is_some_and(is_err_pattern) || tested.as_deref() == Some("is_err");
        let failed_in_else = pattern.is_some_and(is_ok_pattern) || tested.as_deref() == Some("is_ok");
        if failed_in_then {
            Self::end_since(&mut self.state, first);
        }
        if let Some((id, negated)) = guard {
            if negated {
                self.end_sharing(id);
            }
        }
        self.walk_block(then);
        let after_then = std::mem::replace(&mut self.state, before);
        if failed_in_else {
            Self::end_since(&mut self.state, first);
        }
        if let Some((id, false)) = guard {
            self.end_sharing(id);
        }
        if let Some(otherwise) = otherwise {
            self.walk_expr(otherwise);
        }
        self.state = State::merge(after_then, self.state.take());
    }

    fn end_sharing(&mut self, id: usize) {
        if let Some(state) = &mut self.state {
            state.active.retain(|s| s.id != id);
        }
    }

    /// `Arc::ptr_eq(&stored, &buf)` (or its negation) where `stored` is what an insertion
    /// of `buf` returned: the sharing it decides, and whether it is negated.
    fn ptr_eq_guard(&mut self, cond: &syn::Expr) -> Option<(usize, bool)> {
        let (call, negated) = match strip(cond) {
            syn::Expr::Unary(u) if matches!(u.op, syn::UnOp::Not(_)) => match strip(&u.expr) {
                syn::Expr::Call(c) => (c, true),
                _ => return None,
            },
            syn::Expr::Call(c) => (c, false),
            _ => return None,
        };
        if !matches!(last_segment(&call.func).as_deref(), Some("ptr_eq" | "eq")) || call.args.len() != 2 {
            return None;
        }
        let names: Vec<Option<String>> = call.args.iter().map(root_key).collect();
        let buffers: Vec<Option<BufId>> = call.args.iter().map(|a| self.handle_of(a)).collect();
        let state = self.state.as_ref()?;
        state.active.iter().find_map(|s| {
            let stored = s.stored_as.as_ref()?;
            let matches = (names[0].as_ref() == Some(stored) && buffers[1] == Some(s.buffer))
                || (names[1].as_ref() == Some(stored) && buffers[0] == Some(s.buffer));
            matches.then_some((s.id, negated))
        })
    }

    fn walk_match(&mut self, m: &syn::ExprMatch) {
        let first = self.next_id;
        self.walk_expr(&m.expr);
        let before = self.state.clone();
        let mut merged = None;
        for arm in &m.arms {
            self.state = before.clone();
            if is_err_pattern(&arm.pat) {
                Self::end_since(&mut self.state, first);
            }
            if let Some((_, guard)) = &arm.guard {
                self.walk_expr(guard);
            }
            self.walk_expr(&arm.body);
            merged = State::merge(merged, self.state.take());
        }
        self.state = if m.arms.is_empty() { None } else { merged };
    }

    fn walk_macro(&mut self, mac: &syn::Macro) {
        let name = mac.path.segments.last().map(|s| s.ident.to_string()).unwrap_or_default();
        // Parsing a macro's arguments costs; they can only share or use a buffer this
        // function already has a name for.
        if !(self.handles.is_empty() && self.pointers.is_empty() && self.carriers.is_empty()) {
            let parser = Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated;
            if let Ok(args) = mac.parse_body_with(parser) {
                args.iter().for_each(|a| self.walk_expr(a));
            }
        }
        if DIVERGING_MACROS.contains(&name.as_str()) {
            self.state = None;
        }
    }

    fn walk_expr(&mut self, expr: &syn::Expr) {
        match expr {
            syn::Expr::MethodCall(m) => self.walk_method_call(m),
            syn::Expr::Call(c) => self.walk_call(c),
            syn::Expr::Path(p) => {
                if let Some(name) = path_ident(&p.path) {
                    self.pointee_use(&name, expr.span());
                }
            }
            syn::Expr::Field(f) => {
                if let Some(key) = root_key(expr).filter(|k| k.starts_with("self.") && is_self(&f.base)) {
                    self.pointee_use(&key, expr.span());
                }
                self.walk_expr(&f.base);
            }
            syn::Expr::Unary(u) => {
                if matches!(u.op, syn::UnOp::Deref(_)) {
                    if let Some(id) = self.handle_of(&u.expr) {
                        self.use_of(id, Region::of(expr.span()));
                    }
                }
                self.walk_expr(&u.expr);
            }
            syn::Expr::Closure(c) => {
                let params: Vec<&syn::Pat> = c.inputs.iter().collect();
                self.with_bindings(&params, |this| this.walk_expr(&c.body));
            }
            syn::Expr::Async(a) => self.walk_block(&a.block),
            syn::Expr::Block(b) => self.walk_block(&b.block),
            syn::Expr::Unsafe(b) => self.walk_block(&b.block),
            syn::Expr::Const(b) => self.walk_block(&b.block),
            syn::Expr::TryBlock(b) => self.walk_block(&b.block),
            syn::Expr::Await(a) => {
                let first = self.next_id;
                self.walk_expr(&a.base);
                // `tokio::spawn(..).await`: the work is done.
                Self::join_since(&mut self.state, first);
            }
            syn::Expr::If(i) => self.walk_branches(&i.cond, &i.then_branch, i.else_branch.as_ref().map(|(_, e)| &**e)),
            syn::Expr::Match(m) => self.walk_match(m),
            syn::Expr::While(w) => self.walk_loop(Some(&w.cond), &w.body, false),
            syn::Expr::ForLoop(f) => {
                self.walk_expr(&f.expr);
                self.with_bindings(&[&*f.pat], |this| this.walk_loop(None, &f.body, false));
            }
            syn::Expr::Loop(l) => self.walk_loop(None, &l.body, true),
            syn::Expr::Break(b) => {
                if let Some(e) = &b.expr {
                    self.walk_expr(e);
                }
                let state = self.state.take();
                if let Some(exits) = self.loops.last_mut() {
                    exits.breaks = State::merge(exits.breaks.take(), state);
                }
            }
            syn::Expr::Continue(_) => {
                let state = self.state.take();
                if let Some(exits) = self.loops.last_mut() {
                    exits.continues = State::merge(exits.continues.take(), state);
                }
            }
            syn::Expr::Return(r) => {
                if let Some(e) = &r.expr {
                    self.walk_expr(e);
                }
                self.state = None;
            }
            syn::Expr::Macro(m) => self.walk_macro(&m.mac),
            syn::Expr::Let(l) => self.walk_expr(&l.expr),
            syn::Expr::Assign(a) => {
                self.walk_expr(&a.right);
                self.walk_expr(&a.left);
            }
            syn::Expr::Binary(b) => {
                self.walk_expr(&b.left);
                self.walk_expr(&b.right);
            }
            syn::Expr::Index(i) => {
                self.walk_expr(&i.expr);
                self.walk_expr(&i.index);
            }
            syn::Expr::Array(a) => a.elems.iter().for_each(|e| self.walk_expr(e)),
            syn::Expr::Tuple(t) => t.elems.iter().for_each(|e| self.walk_expr(e)),
            syn::Expr::Struct(s) => {
                s.fields.iter().for_each(|f| self.walk_expr(&f.expr));
                if let Some(rest) = &s.rest {
                    self.walk_expr(rest);
                }
            }
            syn::Expr::Range(r) => {
                if let Some(e) = &r.start {
                    self.walk_expr(e);
                }
                if let Some(e) = &r.end {
                    self.walk_expr(e);
                }
            }
            syn::Expr::Repeat(r) => self.walk_expr(&r.expr),
            syn::Expr::Cast(c) => self.walk_expr(&c.expr),
            syn::Expr::Paren(p) => self.walk_expr(&p.expr),
            syn::Expr::Group(g) => self.walk_expr(&g.expr),
            syn::Expr::Reference(r) => self.walk_expr(&r.expr),
            syn::Expr::Try(t) => self.walk_expr(&t.expr),
            syn::Expr::Yield(y) => {
                if let Some(e) = &y.expr {
                    self.walk_expr(e);
                }
            }
            _ => {}
        }
    }

    /// Any mention of memory a raw pointer shared with another thread points into.
    fn pointee_use(&mut self, key: &str, span: proc_macro2::Span) {
        if self.pointers.is_empty() {
            return;
        }
        if let Some(id) = self.buffers.iter().position(|b| b.kind == BufKind::Pointee && b.name == key) {
            self.use_of(id, Region::of(span));
        }
    }

    fn walk_method_call(&mut self, m: &syn::ExprMethodCall) {
        let method = m.method.to_string();
        let first = self.next_id;
        self.walk_expr(&m.receiver);
        if SPAWNS.contains(&method.as_str()) {
            let callee = spawner_name(&m.receiver, &method);
            self.spawn(callee, m.span(), &m.args);
            self.set_container(first, &m.receiver);
            return;
        }
        if SCOPES.contains(&method.as_str()) {
            self.walk_scope(&m.args);
            return;
        }
        m.args.iter().for_each(|a| self.walk_expr(a));
        if JOIN_METHODS.contains(&method.as_str()) {
            // `thread::spawn(..).join()`: the work is done.
            Self::join_since(&mut self.state, first);
        }
        if let Some(id) = self.handle_of(&m.receiver) {
            if !NOT_USES.contains(&method.as_str()) {
                let region = Region { start: Region::of(m.receiver.span()).start, end: Region::of(m.span()).end };
                self.use_of(id, region);
            }
        }
        let is_send = SENDS.contains(&method.as_str());
        if is_send || (INSERTS.contains(&method.as_str()) && self.reaches_shared(&m.receiver)) {
            let mut copies = Vec::new();
            m.args.iter().for_each(|a| self.copies_in(a, false, &mut copies));
            copies.dedup();
            let target = display(&m.receiver, 40);
            for buffer in copies {
                let how = if is_send {
                    format!("sent a copy through `{target}`")
                } else {
                    format!("put a copy into `{target}` with `{method}`")
                };
                self.share(buffer, ShareKind::Insert, m.span(), how);
            }
        }
        if INSERTS.contains(&method.as_str()) {
            // `handles.push(thread::spawn(..))`: `handles` holds the work.
            self.set_container(first, &m.receiver);
        }
        self.check_raw_parts(&method, m.args.iter(), m.span());
    }

    /// Spawned work created since `first` is held by the variable at the root of `holder`.
    fn set_container(&mut self, first: usize, holder: &syn::Expr) {
        let Some(name) = root_key(holder) else { return };
        if let Some(state) = &mut self.state {
            for s in state.active.iter_mut().filter(|s| s.id >= first && s.kind == ShareKind::Spawn) {
                s.container.get_or_insert_with(|| name.clone());
            }
        }
    }

    fn walk_call(&mut self, c: &syn::ExprCall) {
        let name = last_segment(&c.func).unwrap_or_default();
        if SPAWNS.contains(&name.as_str()) {
            let callee = display(&c.func, 40);
            self.spawn(callee, c.span(), &c.args);
            return;
        }
        if SCOPES.contains(&name.as_str()) {
            self.walk_scope(&c.args);
            return;
        }
        let first = self.next_id;
        c.args.iter().for_each(|a| self.walk_expr(a));
        if JOIN_FNS.contains(&name.as_str()) {
            Self::join_since(&mut self.state, first);
        }
        // `Mutex::lock(&h)`: a use spelled as a path call.
        if LOCK_METHODS.contains(&name.as_str()) {
            if let Some(id) = c.args.first().and_then(|a| self.handle_of(a)) {
                self.use_of(id, Region::of(c.span()));
            }
        }
        self.check_raw_parts(&name, c.args.iter(), c.span());
    }

    /// `thread::scope(|s| ..)`: work spawned inside is joined when the call returns.
    fn walk_scope(&mut self, args: &Punctuated<syn::Expr, syn::Token![,]>) {
        let scope = self.next_id;
        self.next_id += 1;
        self.scopes.push(scope);
        for arg in args {
            self.walk_expr(arg);
        }
        self.scopes.pop();
        if let Some(state) = &mut self.state {
            state.active.retain(|s| s.scope != Some(scope));
        }
    }

    /// `slice::from_raw_parts_mut(p, n)` over a pointer another thread writes through.
    fn check_raw_parts<'e>(
        &mut self,
        name: &str,
        mut args: impl Iterator<Item = &'e syn::Expr>,
        span: proc_macro2::Span,
    ) {
        if !matches!(name, "from_raw_parts" | "from_raw_parts_mut") {
            return;
        }
        if let Some(id) = args.next().and_then(|a| self.mentioned_pointer(a)) {
            self.use_of(id, Region::of(span));
        }
    }
}

/// Names an expression mentions, and whether it waits for spawned work.
#[derive(Default)]
struct Mentions {
    idents: HashSet<String>,
    /// Set by [`SharedArgs`] when it met a call that can share.
    sharing_calls: bool,
    /// A receive from a channel (`rx.recv()`).
    receives: bool,
    self_fields: HashSet<String>,
    joins: bool,
}

impl<'ast> Visit<'ast> for Mentions {
    fn visit_expr_path(&mut self, p: &'ast syn::ExprPath) {
        if let Some(name) = path_ident(&p.path) {
            self.idents.insert(name);
        }
    }

    fn visit_expr_field(&mut self, f: &'ast syn::ExprField) {
        if let (true, syn::Member::Named(field)) = (is_self(&f.base), &f.member) {
            self.self_fields.insert(field.to_string());
        }
        syn::visit::visit_expr_field(self, f);
    }

    fn visit_expr_method_call(&mut self, m: &'ast syn::ExprMethodCall) {
        let method = m.method.to_string();
        self.joins |= JOIN_METHODS.contains(&method.as_str());
        self.receives |= RECEIVES.contains(&method.as_str());
        syn::visit::visit_expr_method_call(self, m);
    }

    fn visit_expr_call(&mut self, c: &'ast syn::ExprCall) {
        self.joins |= last_segment(&c.func).is_some_and(|n| JOIN_FNS.contains(&n.as_str()));
        syn::visit::visit_expr_call(self, c);
    }

    fn visit_expr_await(&mut self, a: &'ast syn::ExprAwait) {
        self.joins = true;
        syn::visit::visit_expr_await(self, a);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        let name = mac.path.segments.last().map(|s| s.ident.to_string()).unwrap_or_default();
        self.joins |= matches!(name.as_str(), "join" | "try_join");
        let mut tokens = mac.tokens.clone().into_iter().collect::<Vec<_>>();
        // Idents anywhere in the macro's tokens, groups included.
        while let Some(token) = tokens.pop() {
            match token {
                proc_macro2::TokenTree::Ident(i) => {
                    self.idents.insert(i.to_string());
                }
                proc_macro2::TokenTree::Group(g) => tokens.extend(g.stream()),
                _ => {}
            }
        }
    }
}

fn strip(expr: &syn::Expr) -> &syn::Expr {
    match expr {
        syn::Expr::Paren(p) => strip(&p.expr),
        syn::Expr::Group(g) => strip(&g.expr),
        syn::Expr::Reference(r) => strip(&r.expr),
        other => other,
    }
}

fn path_ident(path: &syn::Path) -> Option<String> {
    path.get_ident().map(|i| i.to_string())
}

fn is_self(expr: &syn::Expr) -> bool {
    matches!(strip(expr), syn::Expr::Path(p) if p.path.is_ident("self"))
}

/// The variable (or `self.field`) an expression starts from.
fn root_key(expr: &syn::Expr) -> Option<String> {
    match strip(expr) {
        syn::Expr::Path(p) => path_ident(&p.path),
        syn::Expr::Field(f) if is_self(&f.base) => match &f.member {
            syn::Member::Named(field) => Some(format!("self.{field}")),
            syn::Member::Unnamed(_) => Some("self".into()),
        },
        syn::Expr::Field(f) => root_key(&f.base),
        syn::Expr::Index(i) => root_key(&i.expr),
        syn::Expr::MethodCall(m) => root_key(&m.receiver),
        syn::Expr::Unary(u) => root_key(&u.expr),
        syn::Expr::Try(t) => root_key(&t.expr),
        syn::Expr::Await(a) => root_key(&a.base),
        syn::Expr::Cast(c) => root_key(&c.expr),
        _ => None,
    }
}

fn last_segment(func: &syn::Expr) -> Option<String> {
    match strip(func) {
        syn::Expr::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
        _ => None,
    }
}

/// `Arc::clone`, `Rc::clone`, `Clone::clone`, `Arc::downgrade`: a copy of the handle.
fn is_clone_fn(func: &syn::Expr) -> bool {
    let syn::Expr::Path(p) = strip(func) else { return false };
    let segs: Vec<String> = p.path.segments.iter().map(|s| s.ident.to_string()).collect();
    segs.len() >= 2 && matches!(segs[segs.len() - 1].as_str(), "clone" | "downgrade")
}

/// `Some(..)`, `Arc::new(..)`, `Message::Data(..)`: wraps its argument rather than reading it.
fn is_constructor(func: &syn::Expr) -> bool {
    let syn::Expr::Path(p) = strip(func) else { return false };
    let segs: Vec<String> = p.path.segments.iter().map(|s| s.ident.to_string()).collect();
    match segs.as_slice() {
        [.., last] if last.starts_with(char::is_uppercase) => true,
        [.., ty, last] => ty.starts_with(char::is_uppercase) && matches!(last.as_str(), "new" | "from"),
        _ => false,
    }
}

/// `Arc<T>`, `&Arc<T>`, `Arc<Self>`, by its last segment.
fn is_arc_type(ty: &syn::Type) -> bool {
    match ty {
        syn::Type::Reference(r) => is_arc_type(&r.elem),
        syn::Type::Path(tp) => tp.path.segments.last().is_some_and(|s| s.ident == "Arc"),
        _ => false,
    }
}

fn is_static_name(name: &str) -> bool {
    name.len() > 1 && name.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

fn pat_ident(pat: &syn::Pat) -> Option<String> {
    match pat {
        syn::Pat::Ident(p) if p.subpat.is_none() => Some(p.ident.to_string()),
        syn::Pat::Type(pt) => pat_ident(&pt.pat),
        _ => None,
    }
}

fn pat_idents(pat: &syn::Pat, out: &mut Vec<String>) {
    struct Idents<'o>(&'o mut Vec<String>);
    impl<'ast> Visit<'ast> for Idents<'_> {
        fn visit_pat_ident(&mut self, p: &'ast syn::PatIdent) {
            self.0.push(p.ident.to_string());
            syn::visit::visit_pat_ident(self, p);
        }
    }
    Idents(out).visit_pat(pat);
}

fn variant_is(pat: &syn::Pat, name: &str) -> bool {
    match pat {
        syn::Pat::TupleStruct(ts) => ts.path.segments.last().is_some_and(|s| s.ident == name),
        syn::Pat::Or(or) => or.cases.iter().all(|c| variant_is(c, name)),
        _ => false,
    }
}

fn is_err_pattern(pat: &syn::Pat) -> bool {
    variant_is(pat, "Err")
}

fn is_ok_pattern(pat: &syn::Pat) -> bool {
    variant_is(pat, "Ok")
}

/// `s.spawn`, `handle.spawn`, `thread::Builder::new()….spawn`: short enough for a message.
fn spawner_name(receiver: &syn::Expr, method: &str) -> String {
    let full = display(receiver, 30);
    if !full.ends_with('…') {
        return format!("{full}.{method}");
    }
    let mut root = strip(receiver);
    while let syn::Expr::MethodCall(m) = root {
        root = strip(&m.receiver);
    }
    match root {
        syn::Expr::Call(c) => format!("{}(…)….{method}", display(&c.func, 30)),
        other => format!("{}….{method}", display(other, 30)),
    }
}

/// Source text of an expression, whitespace tidied and cut to `max` characters.
fn display<T: ToTokens>(node: &T, max: usize) -> String {
    let text = crate::symbols::read_seek::display_type(node).replace(" . ", ".").replace(" (", "(").replace(" ?", "?");
    if text.chars().count() <= max {
        return text;
    }
    let cut: String = text.chars().take(max).collect();
    format!("{cut}…")
}
