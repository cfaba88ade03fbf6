//! Sharing facts for the flow engine: which places a body follows (a handle and its
//! copies are one place), the work that shares them with other threads (spawned, or
//! published into a structure other threads read), the joins that end that work, and
//! each use of a place with how its result is used.
//!
//! A rule turns them on with [`Sharer`] (see [`super::analyze_sharing`]); the facts
//! come out as [`EventKind::Shared`] and [`EventKind::Used`] events, and work values
//! that end with [`DropWhy::Joined`] or, on a branch that proves nothing was shared,
//! [`DropWhy::Refuted`].

use super::{collect_names, start, Event, EventKind, Owner, Value, ValueId, Walker};
use crate::source::Position;
use crate::vocab;
use quote::ToTokens;
use std::collections::{HashMap, HashSet};
use syn::visit::Visit;

/// Index of a place in the roots of an analysis.
pub type RootId = usize;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RootKind {
    /// Shared mutable state a rule follows (`Arc<Mutex<Vec<_>>>`, a `DashMap`).
    Buffer,
    /// State other threads reach, not followed itself (`&self`, a `Sender`, an
    /// `Arc<State>`): what is put into it is published.
    Reaches,
    /// Memory a raw pointer was taken into.
    Pointee,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// A parameter: the caller's.
    Param,
    /// A field of `self`: long-lived state.
    Field,
    /// Made in this body.
    Local,
}

#[derive(Debug, Clone)]
pub struct Root {
    /// `samples`, `self.tasks`.
    pub name: String,
    pub kind: RootKind,
    pub origin: Origin,
    /// `self` for `self.tasks`: sharing `self` shares its fields.
    pub parent: Option<RootId>,
    /// How many loops enclose the place's binding.
    pub loop_depth: usize,
}

/// How a name reaches a root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// The handle itself or a copy of it (`b` in `let b = a.clone()`).
    Name,
    /// A guard on it, taken at this position (`g` in `let g = a.lock()`).
    Guard(Position),
    /// A raw pointer into it.
    Pointer,
    /// A value holding a copy (`job` in `let job = Job { buf: buf.clone() }`).
    Carried,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkKind {
    /// Spawned work: ends when joined.
    Spawn,
    /// A copy put where other threads read it: never ends.
    Publish,
}

/// Work that shares places with other threads, kept in [`Value::work`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Work {
    pub kind: WorkKind,
    pub roots: Vec<RootId>,
    /// "moved into `thread::spawn`", "inserted into `self.map` by `or_insert_with`".
    pub how: String,
    pub loop_depth: usize,
    /// The flow of the spawned closure or async block, when written inline.
    pub body: Option<usize>,
    /// Names the work took (a channel's sender it signals on).
    pub captured: Vec<String>,
    /// It runs only when this task yields (`spawn_local`, a current-thread test
    /// runtime): until the next `.await`, nothing of it has run.
    pub cooperative: bool,
    /// It was spawned on a current-thread runtime this body drives (`rt.block_on`):
    /// it runs only inside those calls, never beside this body's own code.
    pub driven: bool,
    /// Spawned inside a package function: what that returns (a handle, a stream the
    /// work feeds) stands for the work, so awaiting it to the end joins it.
    pub in_callee: bool,
}

/// What the value of a use goes into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Context {
    /// An expression statement: the value is dropped.
    Discarded,
    /// A `let` or an assignment keeps it.
    Bound,
    /// The body's value, or `return`.
    Returned,
    /// An `if`/`while`/`match` decides on it.
    Condition,
    /// An `assert!` family macro checks it.
    Asserted,
    /// Printed or logged.
    Rendered,
    /// Added to a counter (`x += …`).
    Counted,
    /// Passed to this function or method.
    Argument(std::rc::Rc<str>),
    /// Written through: `overwrite` for `*g = v` with `v` not a literal; `false` for a
    /// flag (`*stop = true`) or an update in place (`*n += 1`).
    Assigned { overwrite: bool },
}

/// One use of a followed place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Use {
    pub root: RootId,
    pub via: Via,
    /// Methods called on it, innermost first (`["lock", "unwrap", "len"]`); `*` for a
    /// deref, `[]` for an index.
    pub chain: Vec<String>,
    pub context: Context,
    /// Names passed to the last method called on it.
    pub args: Vec<String>,
    pub loop_depth: usize,
    /// Where the innermost loop around it starts.
    pub loop_start: Option<Position>,
    /// In a `while` loop's condition: checked on every iteration.
    pub loop_condition: bool,
    /// Work alive here.
    pub live: Vec<ValueId>,
    /// Reached only in a later iteration of a loop than the sharing.
    pub next_iteration: bool,
    /// Where the use ends: the outermost call on the place (`samples.lock().len()`).
    pub end: Position,
}

/// What a rule tells the engine about the places it follows.
pub trait Sharer {
    /// Does `let x: ty = init` make a place to follow, and what kind?
    fn local_root(&self, init: &syn::Expr, ty: Option<&syn::Type>) -> Option<RootKind>;
    /// Does inserting into or sending on `receiver` (whose chain starts at `root`, when
    /// it does) publish to other threads?
    fn publishes(&self, receiver: &syn::Expr, root: Option<&Root>) -> bool;
    /// Does the package function called by this path spawn work with some of its
    /// arguments (by index)?
    fn spawns_arguments(&self, _callee: &str) -> Option<&[usize]> {
        None
    }
    /// Does the package method called by this name (`x.method(..)`) spawn work with
    /// some of its arguments (by index, `self` not counted)?
    fn spawns_method_arguments(&self, _method: &str) -> Option<&[usize]> {
        None
    }
    /// Does the package function called this way measure some of its arguments (by
    /// index)? A call of it then measures what it is given.
    fn measures_arguments(&self, _callee: &str) -> Option<&[usize]> {
        None
    }
    /// Does the package function called this way take items out of some of its arguments
    /// (by index)? A call of it then takes items out of what it is given.
    fn takes_items_arguments(&self, _callee: &str) -> Option<&[usize]> {
        None
    }
    /// Does work spawned by `callee` run only when this task yields?
    fn cooperative(&self, callee: &str) -> bool {
        callee.ends_with("spawn_local")
    }
    /// Is `name` a parameter of the body?
    fn is_parameter(&self, _name: &str) -> bool {
        false
    }
    /// Does `init` build a current-thread runtime (`Builder::new_current_thread()…`)?
    fn current_thread_runtime(&self, _init: &syn::Expr) -> bool {
        false
    }
}

/// The places a name reaches.
pub type Places = Vec<(RootId, Via)>;

/// Places visible to a nested body: its parent's, by name.
pub(super) type PlaceNames = Vec<(String, Places)>;

/// The package's functions that spawn work with their parameters: calls of them share
/// what they are given. Keyed `Type::name` for associated functions, `name` for free
/// ones; a bare name (a method call) is looked up only when one function has it.
#[derive(Debug, Default)]
pub struct SpawnSummaries {
    by_key: HashMap<String, Vec<usize>>,
    /// How many functions of the package have each name.
    defined: HashMap<String, usize>,
    /// How many methods (functions taking `self`) have each name, and their keys: a
    /// method call can call only those, not a free function or an associated function
    /// of that name (a test's nested `fn send`, `Worker::start(buf)`).
    methods: HashMap<String, usize>,
    method_keys: HashSet<String>,
    /// Per type, the fields its methods hand to spawned work.
    spawned_fields: HashMap<String, Vec<String>>,
    /// Per `Type::name`, the parameters it stores in fields of `Type`, by field.
    stores: Vec<(String, String, usize)>,
    /// Functions that build a current-thread runtime.
    runtime_makers: Vec<String>,
    /// Per function (keyed as `by_key`), the parameters it measures (`p.lock().len()`).
    measures: HashMap<String, Vec<usize>>,
    /// Per function, the parameters it takes items out of (`p.lock().pop_front()`).
    takes_items: HashMap<String, Vec<usize>>,
}

impl SpawnSummaries {
    /// Of every file of a package, with whether its bodies are worth reading (a file
    /// that never says `spawn` adds only the names it defines).
    pub fn of<'f>(files: impl Iterator<Item = (&'f syn::File, bool)>) -> Self {
        struct Fns<'s> {
            summaries: &'s mut SpawnSummaries,
            self_ty: Option<String>,
            bodies: bool,
        }
        impl Fns<'_> {
            fn function(&mut self, sig: &syn::Signature, body: &syn::Block) {
                *self.summaries.defined.entry(sig.ident.to_string()).or_default() += 1;
                let method = matches!(sig.inputs.first(), Some(syn::FnArg::Receiver(_)));
                if method {
                    *self.summaries.methods.entry(sig.ident.to_string()).or_default() += 1;
                }
                if !self.bodies {
                    return;
                }
                if sig.inputs.is_empty() && makes_current_thread_runtime(body) {
                    self.summaries.runtime_makers.push(sig.ident.to_string());
                }
                let key = match &self.self_ty {
                    Some(ty) => format!("{ty}::{}", sig.ident),
                    None => sig.ident.to_string(),
                };
                if method {
                    self.summaries.method_keys.insert(key.clone());
                }
                let measured = params_called_with(sig, body, vocab::measures);
                if !measured.is_empty() {
                    self.summaries.measures.insert(key.clone(), measured);
                }
                let taken_from = params_called_with(sig, body, vocab::takes_items);
                if !taken_from.is_empty() {
                    self.summaries.takes_items.insert(key, taken_from);
                }
                let params: Vec<String> = sig
                    .inputs
                    .iter()
                    .filter_map(|a| match a {
                        syn::FnArg::Typed(t) => Some(t),
                        syn::FnArg::Receiver(_) => None,
                    })
                    .map(|t| {
                        let mut names = Vec::new();
                        collect_names(&t.pat, &mut names);
                        names.into_iter().next().unwrap_or_default()
                    })
                    .collect();
                // Constructors (returning `Self` or the type) store what they are given.
                let constructs = |ty: &str| match &sig.output {
                    syn::ReturnType::Type(_, out) => {
                        let text = out.to_token_stream().to_string();
                        text.contains("Self") || text.contains(ty)
                    }
                    syn::ReturnType::Default => false,
                };
                if let Some(ty) = self.self_ty.as_ref().filter(|ty| !params.is_empty() && constructs(ty)) {
                    let key = format!("{ty}::{}", sig.ident);
                    for (field, index) in stored_params(body, &params) {
                        self.summaries.stores.push((key.clone(), field, index));
                    }
                }
                let mut spawned = SpawnedWords::default();
                spawned.visit_block(body);
                if spawned.words.is_empty() {
                    return;
                }
                if let (Some(ty), Some(syn::FnArg::Receiver(_))) = (&self.self_ty, sig.inputs.first()) {
                    // `self.f` given to a spawn, directly or through `let f = self.f.clone()`.
                    let mut aliases = LetAliases::default();
                    aliases.visit_block(body);
                    let fields = self.summaries.spawned_fields.entry(ty.clone()).or_default();
                    for text in &spawned.texts {
                        fields.extend(self_fields_in(text));
                    }
                    for (name, _, text) in &aliases.0 {
                        if spawned.words.contains(name) {
                            fields.extend(self_fields_in(text));
                        }
                    }
                }
                // A name bound from a parameter (`let out = buf.clone()`) counts as it.
                let mut aliases = LetAliases::default();
                aliases.visit_block(body);
                if params.is_empty() {
                    return;
                }
                let indices: Vec<usize> = params
                    .iter()
                    .enumerate()
                    .filter(|(_, p)| {
                        !p.is_empty()
                            && (spawned.words.iter().any(|w| w == *p)
                                || aliases
                                    .0
                                    .iter()
                                    .any(|(name, from, _)| from.contains(p) && spawned.words.contains(name)))
                    })
                    .map(|(i, _)| i)
                    .collect();
                if !indices.is_empty() {
                    let key = match &self.self_ty {
                        Some(ty) => format!("{ty}::{}", sig.ident),
                        None => sig.ident.to_string(),
                    };
                    self.summaries.by_key.entry(key).or_insert(indices);
                }
            }
        }
        impl Visit<'_> for Fns<'_> {
            fn visit_item_fn(&mut self, f: &syn::ItemFn) {
                let outer = self.self_ty.take();
                self.function(&f.sig, &f.block);
                if self.bodies {
                    syn::visit::visit_item_fn(self, f);
                }
                self.self_ty = outer;
            }
            fn visit_item_impl(&mut self, item: &syn::ItemImpl) {
                let ty = match &*item.self_ty {
                    syn::Type::Path(tp) => tp.path.segments.last().map(|s| s.ident.to_string()),
                    _ => None,
                };
                let outer = std::mem::replace(&mut self.self_ty, ty);
                syn::visit::visit_item_impl(self, item);
                self.self_ty = outer;
            }
            fn visit_impl_item_fn(&mut self, f: &syn::ImplItemFn) {
                self.function(&f.sig, &f.block);
                if self.bodies {
                    syn::visit::visit_impl_item_fn(self, f);
                }
            }
        }
        let mut summaries = SpawnSummaries::default();
        for (file, bodies) in files {
            Fns { summaries: &mut summaries, self_ty: None, bodies }.visit_file(file);
        }
        // `Worker::new(buf)` storing `buf` in a field a method of `Worker` spawns with
        // shares it.
        for (key, field, index) in std::mem::take(&mut summaries.stores) {
            let ty = key.split("::").next().unwrap_or_default();
            if summaries.spawned_fields.get(ty).is_some_and(|f| f.contains(&field)) {
                let indices = summaries.by_key.entry(key).or_default();
                if !indices.contains(&index) {
                    indices.push(index);
                }
            }
        }
        summaries
    }

    /// The arguments (by index) a call measures (`len`, `is_empty`, …), looked up as
    /// [`SpawnSummaries::arguments`] looks up spawns.
    pub fn measured_arguments(&self, callee: &str) -> Option<&[usize]> {
        self.look_up(&self.measures, callee)
    }

    /// The arguments a call of `callee` takes items out of.
    pub fn item_taking_arguments(&self, callee: &str) -> Option<&[usize]> {
        self.look_up(&self.takes_items, callee)
    }

    /// Does `init` build a current-thread runtime, itself or through a package function?
    pub fn builds_current_thread_runtime(&self, init: &syn::Expr) -> bool {
        let text = init.to_token_stream().to_string();
        text.contains("new_current_thread")
            || matches!(init, syn::Expr::Call(c) if last_segment(&c.func).is_some_and(|f| self.runtime_makers.contains(&f)))
    }

    /// Does any function of the package spawn work with its arguments?
    pub fn has_spawners(&self) -> bool {
        !self.by_key.is_empty()
    }

    /// Does some function called `name` spawn work with its arguments?
    pub fn defines_spawner(&self, name: &str) -> bool {
        let suffix = format!("::{name}");
        self.by_key.keys().any(|k| k == name || k.ends_with(&suffix))
    }

    /// The arguments (by index) a call spawns work with: `callee` is `Type::name` for
    /// a path call, `name` for a free function or a method.
    pub fn arguments(&self, callee: &str) -> Option<&[usize]> {
        self.look_up(&self.by_key, callee)
    }

    /// The arguments (by index, `self` not counted) a method call spawns work with: the
    /// summary of the one method of the package with that name.
    pub fn method_arguments(&self, method: &str) -> Option<&[usize]> {
        if self.methods.get(method) != Some(&1) {
            return None;
        }
        let suffix = format!("::{method}");
        self.by_key
            .iter()
            .find(|(k, _)| k.ends_with(&suffix) && self.method_keys.contains(*k))
            .map(|(_, indices)| indices.as_slice())
    }

    /// A summary of `callee`: by `Type::name` exactly, or by a bare name only when one
    /// function of the package has it.
    fn look_up<'s>(&self, summaries: &'s HashMap<String, Vec<usize>>, callee: &str) -> Option<&'s [usize]> {
        if let Some(found) = summaries.get(callee) {
            return Some(found);
        }
        let name = callee.rsplit("::").next().unwrap_or(callee);
        let typed = callee.contains("::") && !callee.starts_with("Self::");
        if typed || self.defined.get(name) != Some(&1) {
            return None;
        }
        let suffix = format!("::{name}");
        summaries.iter().find(|(k, _)| k.ends_with(&suffix) || *k == name).map(|(_, v)| v.as_slice())
    }
}

/// The words, and the token text, of the arguments of every spawn in a body.
#[derive(Default)]
struct SpawnedWords {
    words: Vec<String>,
    texts: Vec<String>,
}

impl SpawnedWords {
    fn arguments(&mut self, args: &syn::punctuated::Punctuated<syn::Expr, syn::Token![,]>) {
        let text = args.to_token_stream().to_string();
        super::collect_paths(&text, &mut self.words);
        self.texts.push(text);
    }
}

impl Visit<'_> for SpawnedWords {
    fn visit_expr_call(&mut self, c: &syn::ExprCall) {
        let callee = last_segment(&c.func).unwrap_or_default();
        if vocab::SPAWNS.contains(&callee.as_str()) {
            self.arguments(&c.args);
        }
        // A scope joins what it spawns before the function returns.
        if !vocab::SCOPES.contains(&callee.as_str()) {
            syn::visit::visit_expr_call(self, c);
        }
    }
    fn visit_expr_method_call(&mut self, m: &syn::ExprMethodCall) {
        let method = m.method.to_string();
        if vocab::SPAWNS.contains(&method.as_str()) {
            self.arguments(&m.args);
        }
        if !vocab::SCOPES.contains(&method.as_str()) {
            syn::visit::visit_expr_method_call(self, m);
        }
    }
}

/// `let name = init`: the name, the words and the token text of its initializer.
#[derive(Default)]
struct LetAliases(Vec<(String, Vec<String>, String)>);

impl Visit<'_> for LetAliases {
    fn visit_local(&mut self, l: &syn::Local) {
        if let (syn::Pat::Ident(p), Some(init)) = (&l.pat, &l.init) {
            let text = init.expr.to_token_stream().to_string();
            let mut words = Vec::new();
            super::collect_paths(&text, &mut words);
            self.0.push((p.ident.to_string(), words, text));
        }
        syn::visit::visit_local(self, l);
    }
}

/// The parameters a body measures (`p.lock().unwrap().len()`, `p.is_empty()`), by index
/// (`self` not counted).
fn params_called_with(sig: &syn::Signature, body: &syn::Block, wanted: fn(&str) -> bool) -> Vec<usize> {
    struct Called(Vec<String>, fn(&str) -> bool);
    impl Visit<'_> for Called {
        fn visit_expr_method_call(&mut self, m: &syn::ExprMethodCall) {
            if (self.1)(&m.method.to_string()) {
                self.0.extend(root_ident(&m.receiver));
            }
            syn::visit::visit_expr_method_call(self, m);
        }
    }
    let params: Vec<String> = sig
        .inputs
        .iter()
        .filter_map(|a| match a {
            syn::FnArg::Typed(t) => match &*t.pat {
                syn::Pat::Ident(i) => Some(i.ident.to_string()),
                _ => Some(String::new()),
            },
            syn::FnArg::Receiver(_) => None,
        })
        .collect();
    if params.is_empty() {
        return Vec::new();
    }
    let mut called = Called(Vec::new(), wanted);
    called.visit_block(body);
    params.iter().enumerate().filter(|(_, p)| !p.is_empty() && called.0.contains(p)).map(|(i, _)| i).collect()
}

/// Does a body build a current-thread runtime (`Builder::new_current_thread()`)?
fn makes_current_thread_runtime(body: &syn::Block) -> bool {
    struct Finds(bool);
    impl Visit<'_> for Finds {
        fn visit_ident(&mut self, i: &proc_macro2::Ident) {
            self.0 |= i == "new_current_thread";
        }
    }
    let mut finds = Finds(false);
    finds.visit_block(body);
    finds.0
}

/// The fields named as `self . f` in a token text.
fn self_fields_in(text: &str) -> Vec<String> {
    text.split("self . ")
        .skip(1)
        .filter_map(|rest| {
            let field: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            (!field.is_empty()).then_some(field)
        })
        .collect()
}

/// The parameters a body stores in fields (`Self { buf, .. }`, `Worker { buf: buf.clone() }`,
/// `self.buf = buf`), as (field, parameter index).
fn stored_params(body: &syn::Block, params: &[String]) -> Vec<(String, usize)> {
    struct Stores<'p>(&'p [String], Vec<(String, usize)>);
    impl Stores<'_> {
        fn store(&mut self, field: String, value: &syn::Expr) {
            if let Some(index) = root_ident(value).and_then(|n| self.0.iter().position(|p| *p == n)) {
                self.1.push((field, index));
            }
        }
    }
    impl Visit<'_> for Stores<'_> {
        fn visit_expr_struct(&mut self, s: &syn::ExprStruct) {
            for f in &s.fields {
                if let syn::Member::Named(name) = &f.member {
                    self.store(name.to_string(), &f.expr);
                }
            }
            syn::visit::visit_expr_struct(self, s);
        }
        fn visit_expr_assign(&mut self, a: &syn::ExprAssign) {
            if let syn::Expr::Field(f) = &*a.left {
                if let (syn::Member::Named(name), syn::Expr::Path(base)) = (&f.member, &*f.base) {
                    if base.path.is_ident("self") {
                        self.store(name.to_string(), &a.right);
                    }
                }
            }
            syn::visit::visit_expr_assign(self, a);
        }
    }
    let mut stores = Stores(params, Vec::new());
    stores.visit_block(body);
    stores.1
}

/// The last segment of a call's function path (`spawn` in `thread::spawn`).
pub(crate) fn last_segment(func: &syn::Expr) -> Option<String> {
    match func {
        syn::Expr::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
        _ => None,
    }
}

/// A call's function path as written (`thread::spawn`).
pub(super) fn path_text(func: &syn::Expr) -> Option<String> {
    let syn::Expr::Path(p) = func else { return None };
    let segments: Vec<String> = p.path.segments.iter().map(|s| s.ident.to_string()).collect();
    Some(segments.join("::"))
}

/// The identifier at the root of a place expression (`handles` in `handles.drain(..)`).
pub(crate) fn root_ident(expr: &syn::Expr) -> Option<String> {
    match place_of_chain(expr) {
        syn::Expr::Path(p) => p.path.get_ident().map(ToString::to_string),
        syn::Expr::Field(f) => root_ident(&f.base),
        _ => None,
    }
}

/// The place a chain of calls, borrows, derefs, indexing and `?` starts from
/// (`self.map` in `&self.map.lock()?[k]`), without walking into its fields.
fn place_of_chain(mut expr: &syn::Expr) -> &syn::Expr {
    loop {
        expr = match expr {
            syn::Expr::MethodCall(m) => &m.receiver,
            syn::Expr::Reference(r) => &r.expr,
            syn::Expr::Paren(p) => &p.expr,
            syn::Expr::Try(t) => &t.expr,
            syn::Expr::Unary(u) => &u.expr,
            syn::Expr::Index(i) => &i.expr,
            other => return other,
        };
    }
}

fn is_constructor(func: &syn::Expr) -> bool {
    let syn::Expr::Path(p) = func else { return false };
    let segments: Vec<String> = p.path.segments.iter().map(|s| s.ident.to_string()).collect();
    let upper = |s: &String| s.starts_with(|c: char| c.is_ascii_uppercase());
    match segments.as_slice() {
        [.., last] if upper(last) => true,
        [.., ty, f] => upper(ty) && (f == "new" || f.starts_with("from")) && ty != "Arc" && ty != "Rc",
        _ => false,
    }
}

impl Walker<'_> {
    pub(super) fn sharing(&self) -> bool {
        self.sharer.is_some()
    }

    pub(super) fn is_work(&self, id: ValueId) -> bool {
        self.flow.values.get(id).is_some_and(|v| v.work.is_some())
    }

    /// The places a name reaches, innermost binding first.
    pub(super) fn place(&self, name: &str) -> Vec<(RootId, Via)> {
        self.state.places.iter().rev().find(|(n, _, _)| n == name).map(|(_, p, _)| p.clone()).unwrap_or_default()
    }

    pub(super) fn bind_places(&mut self, name: String, places: Vec<(RootId, Via)>) {
        let depth = self.state.depth;
        self.state.places.push((name, places, depth));
    }

    /// The field root `member` of the roots `base` reaches (`self.tasks` for
    /// `this.tasks` with `this` a copy of `self`).
    fn member_root(&self, base: &[(RootId, Via)], member: &str) -> Option<(RootId, Via)> {
        base.iter().find_map(|&(parent, via)| {
            let child = self
                .roots
                .iter()
                .position(|r| r.parent == Some(parent) && r.name.rsplit('.').next().is_some_and(|m| m == member))?;
            Some((child, via))
        })
    }

    /// The root a `base.member` expression names, if `base` is a followed place with
    /// that field.
    pub(super) fn field_place(&self, f: &syn::ExprField) -> Option<(RootId, Via)> {
        let syn::Member::Named(member) = &f.member else { return None };
        let syn::Expr::Path(p) = &*f.base else { return None };
        let base = self.place(&p.path.get_ident()?.to_string());
        self.member_root(&base, &member.to_string())
    }

    /// The places a value made by `expr` reaches: a copy of a handle, a guard on it, a
    /// pointer into it, or a struct carrying one. A fresh copy of the contents
    /// (`a.lock().clone()`) reaches none.
    pub(super) fn places_of(&mut self, expr: &syn::Expr) -> Vec<(RootId, Via)> {
        match expr {
            syn::Expr::Path(p) => p.path.get_ident().map(|i| self.place(&i.to_string())).unwrap_or_default(),
            syn::Expr::Paren(p) => self.places_of(&p.expr),
            syn::Expr::Group(g) => self.places_of(&g.expr),
            syn::Expr::Reference(r) => self.places_of(&r.expr),
            syn::Expr::Try(t) => self.places_of(&t.expr),
            syn::Expr::Cast(c) => self.places_of(&c.expr),
            syn::Expr::Field(f) => self.field_place(f).into_iter().collect(),
            syn::Expr::MethodCall(m) => {
                let method = m.method.to_string();
                if vocab::POINTERS.contains(&method.as_str()) {
                    return self.pointee(&m.receiver).into_iter().collect();
                }
                let inner = self.places_of(&m.receiver);
                if vocab::COPIES.contains(&method.as_str()) {
                    // A clone of a guard's value is a fresh copy.
                    inner.into_iter().filter(|(_, via)| !matches!(via, Via::Guard(_))).collect()
                } else if vocab::acquire(&method, m.args.len()).is_some() {
                    let at = start(m.method.span());
                    inner.into_iter().filter(|(_, v)| *v == Via::Name).map(|(r, _)| (r, Via::Guard(at))).collect()
                } else if vocab::hands_on_ownership(&method) {
                    inner
                } else if vocab::POINTER_CASTS.contains(&method.as_str()) {
                    inner.into_iter().filter(|(_, v)| *v == Via::Pointer).collect()
                } else {
                    Vec::new()
                }
            }
            syn::Expr::Call(c) => {
                let func = last_segment(&c.func).unwrap_or_default();
                match func.as_str() {
                    "clone" => c.args.first().map(|a| self.places_of(a)).unwrap_or_default(),
                    "from_ref" | "from_mut" => c.args.first().and_then(|a| self.pointee(a)).into_iter().collect(),
                    _ if is_constructor(&c.func) => {
                        c.args.iter().flat_map(|a| self.places_of(a)).map(|(r, _)| (r, Via::Carried)).collect()
                    }
                    _ => Vec::new(),
                }
            }
            syn::Expr::Struct(s) => {
                let fields: Vec<&syn::Expr> = s.fields.iter().map(|f| &f.expr).collect();
                fields.into_iter().flat_map(|e| self.places_of(e)).map(|(r, _)| (r, Via::Carried)).collect()
            }
            syn::Expr::Tuple(t) => {
                t.elems.iter().flat_map(|e| self.places_of(e)).map(|(r, _)| (r, Via::Carried)).collect()
            }
            syn::Expr::Array(a) => {
                a.elems.iter().flat_map(|e| self.places_of(e)).map(|(r, _)| (r, Via::Carried)).collect()
            }
            syn::Expr::Closure(c) => self.places_of(&c.body),
            syn::Expr::Block(b) => match b.block.stmts.last() {
                Some(syn::Stmt::Expr(e, None)) => self.places_of(e),
                _ => Vec::new(),
            },
            syn::Expr::Macro(m)
                if m.mac.path.segments.last().is_some_and(|s| s.ident.to_string().starts_with("addr_of")) =>
            {
                let args = crate::parse::macro_args(&m.mac);
                args.first().and_then(|a| self.pointee(a)).into_iter().collect()
            }
            _ => Vec::new(),
        }
    }

    /// The memory a pointer is taken into (`buf` in `buf.as_mut_ptr()`), followed from
    /// now on.
    fn pointee(&mut self, expr: &syn::Expr) -> Option<(RootId, Via)> {
        let name = root_ident(expr)?;
        if let Some(&(root, _)) = self.place(&name).iter().find(|(r, _)| self.roots[*r].kind == RootKind::Pointee) {
            return Some((root, Via::Pointer));
        }
        let root = self.roots.len();
        let loop_depth = self.state.loop_depth;
        self.roots.push(Root {
            name: name.clone(),
            kind: RootKind::Pointee,
            origin: Origin::Local,
            parent: None,
            loop_depth,
        });
        match self.state.places.iter_mut().rev().find(|(n, _, _)| *n == name) {
            Some((_, places, _)) => places.push((root, Via::Name)),
            None => self.state.places.insert(0, (name, vec![(root, Via::Name)], 0)),
        }
        Some((root, Via::Pointer))
    }

    /// Bind the names of `let pat = init` to the places `init` reaches.
    pub(super) fn bind_local_places(&mut self, pat: &syn::Pat, init: Option<&syn::Expr>, ty: Option<&syn::Type>) {
        let pat = super::strip_type(pat);
        let Some(init) = init else {
            let mut names = Vec::new();
            collect_names(pat, &mut names);
            for n in names {
                self.bind_places(n, Vec::new());
            }
            return;
        };
        // `let (a, b) = (x.clone(), y.clone())`: element by element.
        if let (syn::Pat::Tuple(p), syn::Expr::Tuple(t)) = (pat, init) {
            if p.elems.len() == t.elems.len() {
                for (p, e) in p.elems.iter().zip(&t.elems) {
                    self.bind_local_places(p, Some(e), None);
                }
                return;
            }
        }
        // `let (tx, rx) = channel()`: a receive on `rx` hears from work holding `tx`.
        if let (syn::Pat::Tuple(p), syn::Expr::Call(c)) = (pat, init) {
            let names: Vec<String> = p
                .elems
                .iter()
                .filter_map(|e| match e {
                    syn::Pat::Ident(i) => Some(i.ident.to_string()),
                    _ => None,
                })
                .collect();
            if names.len() == 2 && last_segment(&c.func).is_some_and(|f| vocab::CHANNELS.contains(&f.as_str())) {
                self.state.channels.push((names[1].clone(), names[0].clone()));
            }
        }
        // `let entry = Task { abort: handle.abort_handle() }`: `entry` stands for the work
        // `handle` runs too (inserting it registers the work).
        let works: Vec<ValueId> = if self.state.live.iter().any(|(id, _)| self.is_work(*id)) {
            let mut words = Vec::new();
            super::collect_paths(&init.to_token_stream().to_string(), &mut words);
            words.iter().filter_map(|w| self.lookup(w)).filter(|&id| self.is_work(id)).collect()
        } else {
            Vec::new()
        };
        if !works.is_empty() {
            let mut names = Vec::new();
            collect_names(pat, &mut names);
            for id in works {
                self.flow.values[id].names.extend(names.iter().cloned());
            }
        }
        if self.sharer.is_some_and(|s| s.current_thread_runtime(init)) {
            let mut names = Vec::new();
            collect_names(pat, &mut names);
            self.state.runtimes.extend(names);
        }
        // `let tx2 = tx.clone()`: a copy of a name, which a receive on its channel hears.
        // `let permit = sem.clone().acquire_owned().await?`: a permit of `sem`, which a
        // wait for all of its permits hears released.
        if let (syn::Pat::Ident(p), Some(of)) = (pat, copied_name(init).or_else(|| semaphore_of_permit(init))) {
            self.state.copies.push((of, p.ident.to_string()));
        }
        let places = match self.sharer.and_then(|s| s.local_root(init, ty)) {
            Some(kind) => {
                let mut names = Vec::new();
                collect_names(pat, &mut names);
                let name = names.first().cloned().unwrap_or_default();
                let loop_depth = self.state.loop_depth;
                self.roots.push(Root { name, kind, origin: Origin::Local, parent: None, loop_depth });
                vec![(self.roots.len() - 1, Via::Name)]
            }
            None => self.places_of(init),
        };
        let mut names = Vec::new();
        collect_names(pat, &mut names);
        let single = matches!(pat, syn::Pat::Ident(_));
        for n in names {
            // A name bound inside a pattern (`Some(x)`) holds a part, carried.
            let places = if single { places.clone() } else { places.iter().map(|&(r, _)| (r, Via::Carried)).collect() };
            self.bind_places(n, places);
        }
    }

    /// The use at the root of a chain whose outermost call is `method` gets the names
    /// passed to it (`insert(id, handle)`), once its receiver was walked (events since
    /// `first_event`).
    pub(super) fn give_chain_args(
        &mut self,
        first_event: usize,
        method: &str,
        args: &syn::punctuated::Punctuated<syn::Expr, syn::Token![,]>,
        end: Position,
    ) {
        let used = self.flow.events[first_event..].iter_mut().find_map(|e| match &mut e.kind {
            EventKind::Used(u) if u.chain.last().is_some_and(|m| m == method) => Some(u),
            _ => None,
        });
        if let Some(u) = used {
            u.args = args.iter().filter_map(root_ident).collect();
            u.end = end;
        }
    }

    /// Emit a use of the places `name` reaches.
    pub(super) fn use_name(&mut self, name: &str, at: Position, end: Position) {
        let places = self.place(name);
        self.use_places(&places, at, end);
    }

    pub(super) fn use_places(&mut self, places: &[(RootId, Via)], at: Position, end: Position) {
        let mut chain: Vec<String> = self.chain.iter().rev().cloned().collect();
        chain.dedup();
        self.use_places_with(places, at, end, chain);
    }

    /// A call of a package function that measures these arguments: a measurement of
    /// what they reach, where the call is.
    /// The places `args` reach, used by a call as `method` would use them (`len` for a
    /// callee that measures its argument, `pop` for one that takes items out of it).
    pub(super) fn used_by_call(&mut self, args: &[&syn::Expr], at: Position, end: Position, method: &str) {
        for arg in args {
            let places = self.places_of(arg);
            self.use_places_with(&places, at, end, vec![method.into()]);
        }
    }

    fn use_places_with(&mut self, places: &[(RootId, Via)], at: Position, end: Position, chain: Vec<String>) {
        for &(root, via) in places {
            if via == Via::Carried || self.roots[root].kind == RootKind::Reaches {
                continue;
            }
            let chain = chain.clone();
            // Cooperative work has not run until this task yielded.
            let running = |id: ValueId| {
                self.flow.values[id]
                    .work
                    .as_ref()
                    .is_some_and(|w| !w.driven && (!w.cooperative || self.state.resumed.contains(&id)))
            };
            let live: Vec<ValueId> = self.live_ids().into_iter().filter(|&id| running(id)).collect();
            let used = Use {
                root,
                via,
                chain,
                context: self.context.clone(),
                args: Vec::new(),
                loop_depth: self.state.loop_depth,
                loop_start: self.state.loop_starts.last().copied(),
                loop_condition: self.loop_condition,
                live,
                next_iteration: self.next_iteration,
                end,
            };
            self.event(at, EventKind::Used(Box::new(used)));
        }
    }

    /// The roots the arguments of a spawn reach, by the names and `self.field`s they
    /// mention (a field of `self` alone shares that field, not all of `self`), and the
    /// words they mention.
    fn mentioned_roots<'e>(&self, args: impl Iterator<Item = &'e syn::Expr>) -> (Vec<RootId>, Vec<String>) {
        #[derive(Default)]
        struct Mentions {
            names: Vec<String>,
            self_fields: Vec<String>,
        }
        impl Visit<'_> for Mentions {
            fn visit_expr_field(&mut self, f: &syn::ExprField) {
                match (&*f.base, &f.member) {
                    (syn::Expr::Path(p), syn::Member::Named(m)) if p.path.is_ident("self") => {
                        self.self_fields.push(m.to_string());
                    }
                    _ => syn::visit::visit_expr_field(self, f),
                }
            }
            fn visit_path(&mut self, p: &syn::Path) {
                if let Some(i) = p.get_ident() {
                    self.names.push(i.to_string());
                }
            }
            fn visit_macro(&mut self, m: &syn::Macro) {
                super::collect_paths(&m.tokens.to_string(), &mut self.names);
            }
        }
        let mut mentions = Mentions::default();
        let mut words = Vec::new();
        for a in args {
            mentions.visit_expr(a);
            super::collect_paths(&a.to_token_stream().to_string(), &mut words);
        }
        let mut roots = Vec::new();
        let self_places = self.place("self");
        let fields = mentions.self_fields.iter().filter_map(|f| self.member_root(&self_places, f));
        let named = mentions.names.iter().flat_map(|w| self.place(w));
        for (root, _) in fields.chain(named) {
            if !roots.contains(&root) {
                roots.push(root);
            }
        }
        (roots, words)
    }

    fn make_work(&mut self, at: Position, work: Work) -> ValueId {
        let id = self.flow.values.len();
        let region = crate::source::Region { start: at, end: at };
        self.flow.values.push(Value { made: region, what: work.how.clone(), names: Vec::new(), work: Some(work) });
        self.state.live.push((id, Owner::Work));
        self.event(at, EventKind::Shared(id));
        id
    }

    /// `thread::spawn(..)`, `s.spawn(..)`, or a package function whose summary spawns
    /// some of its arguments.
    pub(super) fn spawn(
        &mut self,
        callee: &str,
        at: Position,
        args: &[&syn::Expr],
        body: Option<usize>,
        around: &[&syn::Expr],
    ) -> Option<ValueId> {
        // `rt.spawn(..)`, `schedule(rt.handle(), ..)` on a current-thread runtime here:
        // `around` is the receiver and every argument of the call.
        let driven = around.iter().any(|e| root_ident(e).is_some_and(|n| self.state.runtimes.contains(&n)));
        let (roots, captured) = self.mentioned_roots(args.iter().copied());
        let loop_depth = self.state.loop_depth;
        let cooperative = self.sharer.is_some_and(|s| s.cooperative(callee));
        let how = format!("moved into `{callee}`");
        let in_callee = !vocab::SPAWNS.iter().any(|s| callee.ends_with(s));
        let work =
            Work { kind: WorkKind::Spawn, roots, how, loop_depth, body, captured, cooperative, driven, in_callee };
        Some(self.make_work(at, work))
    }

    /// `map.insert(k, buf.clone())`, `tx.send(buf.clone())` on something other threads reach.
    pub(super) fn publish(&mut self, m: &syn::ExprMethodCall) -> Option<ValueId> {
        let method = m.method.to_string();
        if !vocab::INSERTS.contains(&method.as_str()) && !vocab::SENDS.contains(&method.as_str()) {
            return None;
        }
        let roots: Vec<RootId> = {
            let args: Vec<&syn::Expr> = m.args.iter().collect();
            let mut roots = Vec::new();
            for a in args {
                for (r, _) in self.places_of(a) {
                    if self.roots[r].kind != RootKind::Reaches && !roots.contains(&r) {
                        roots.push(r);
                    }
                }
            }
            roots
        };
        if roots.is_empty() {
            return None;
        }
        let root = self.receiver_root(&m.receiver).map(|r| &self.roots[r]);
        if !self.sharer.is_some_and(|s| s.publishes(&m.receiver, root)) {
            return None;
        }
        let target = place_text(&m.receiver).unwrap_or_else(|| "a shared structure".into());
        let verb = if vocab::SENDS.contains(&method.as_str()) { "sent on" } else { "inserted into" };
        let how = format!("{verb} `{target}` by `{method}`");
        let work = Work {
            kind: WorkKind::Publish,
            roots,
            how,
            loop_depth: self.state.loop_depth,
            body: None,
            captured: Vec::new(),
            cooperative: false,
            driven: false,
            in_callee: false,
        };
        Some(self.make_work(start(m.method.span()), work))
    }

    /// The root a receiver chain starts from (`self.map` for `self.map.lock()`).
    fn receiver_root(&self, expr: &syn::Expr) -> Option<RootId> {
        match expr {
            syn::Expr::Path(p) => p.path.get_ident().and_then(|i| self.place(&i.to_string()).first().map(|(r, _)| *r)),
            syn::Expr::Field(f) => self.field_place(f).map(|(r, _)| r).or_else(|| self.receiver_root(&f.base)),
            syn::Expr::MethodCall(m) => self.receiver_root(&m.receiver),
            syn::Expr::Reference(r) => self.receiver_root(&r.expr),
            syn::Expr::Paren(p) => self.receiver_root(&p.expr),
            syn::Expr::Try(t) => self.receiver_root(&t.expr),
            syn::Expr::Unary(u) => self.receiver_root(&u.expr),
            syn::Expr::Index(i) => self.receiver_root(&i.expr),
            _ => None,
        }
    }

    /// End the work a join waits for: `h.join()`, `set.join_next()`, `h.await`, a
    /// receive on a channel the work sends on.
    pub(super) fn join_method(&mut self, m: &syn::ExprMethodCall, receiver: Option<ValueId>) {
        let method = m.method.to_string();
        let at = start(m.method.span());
        let holder = root_ident(&m.receiver);
        if method == "block_on" {
            // `rt.block_on(handle)`: runs until the task is done.
            for holder in m.args.iter().filter_map(root_ident) {
                self.join_held(&holder, at);
            }
        } else if vocab::JOIN_METHODS.contains(&method.as_str()) {
            if let Some(id) = receiver {
                self.joined(id, at);
            }
            if let Some(h) = &holder {
                self.join_held(h, at);
            }
        } else if vocab::RECEIVES.contains(&method.as_str()) {
            if let Some(rx) = holder {
                self.received(&rx, at);
            }
        } else if let Some(h) = holder {
            // `handles.into_iter().for_each(|h| h.join().unwrap())`.
            let joins = m.args.iter().any(|a| {
                matches!(a, syn::Expr::Closure(_)) && {
                    let text = a.to_token_stream().to_string();
                    text.contains("join") || text.contains("await")
                }
            });
            if joins {
                self.join_held(&h, at);
            }
        }
    }

    /// A receive on `rx` (or a loop over it, which ends when every sender is gone): the
    /// work holding its sender has sent, or is done.
    pub(super) fn received(&mut self, rx: &str, at: Position) {
        // The channel's senders, or (a `Notify`) the waited object itself, and the
        // copies of either (`let tx2 = tx.clone()`).
        let mut senders: Vec<String> =
            self.state.channels.iter().filter(|(r, _)| r == rx).map(|(_, tx)| tx.clone()).collect();
        senders.push(rx.to_string());
        let copies: Vec<String> =
            self.state.copies.iter().filter(|(of, _)| senders.contains(of)).map(|(_, copy)| copy.clone()).collect();
        senders.extend(copies);
        let ended: Vec<ValueId> = self
            .live_ids()
            .into_iter()
            .filter(|&id| {
                self.flow.values[id].work.as_ref().is_some_and(|w| w.captured.iter().any(|c| senders.contains(c)))
            })
            .collect();
        for id in ended {
            self.joined(id, at);
        }
    }

    /// The work a name holds, or a collection of handles holds.
    pub(super) fn join_held(&mut self, holder: &str, at: Position) {
        let held: Vec<ValueId> = self.state.holders.iter().filter(|(h, _)| h == holder).map(|(_, id)| *id).collect();
        let named = self.lookup(holder);
        for id in held.into_iter().chain(named) {
            self.joined(id, at);
        }
    }

    pub(super) fn joined(&mut self, id: ValueId, at: Position) {
        if self.flow.values[id].work.as_ref().is_some_and(|w| w.kind == WorkKind::Spawn) {
            self.drop_value(id, at, super::DropWhy::Joined);
        }
    }

    /// Work a condition proves was not shared on its `true` branch (`spawn(..).is_err()`,
    /// `let Err(_) = spawn(..)`, `!Arc::ptr_eq(&stored, &buf)`), and on its `false` branch.
    pub(super) fn refuted_by(&self, cond: &syn::Expr, made: &[ValueId]) -> (Vec<ValueId>, Vec<ValueId>) {
        match cond {
            syn::Expr::Let(l) if is_err_pattern(&l.pat) => (made.to_vec(), Vec::new()),
            syn::Expr::MethodCall(m) if m.method == "is_err" => (made.to_vec(), Vec::new()),
            syn::Expr::MethodCall(m) if m.method == "is_ok" => (Vec::new(), made.to_vec()),
            syn::Expr::Unary(u) if matches!(u.op, syn::UnOp::Not(_)) => {
                let (t, f) = self.refuted_by(&u.expr, made);
                (f, t)
            }
            syn::Expr::Paren(p) => self.refuted_by(&p.expr, made),
            syn::Expr::Call(c) if last_segment(&c.func).as_deref() == Some("ptr_eq") => {
                // `ptr_eq(&stored, &buf)` true: what was stored is ours, shared.
                let stored: Vec<ValueId> = c
                    .args
                    .iter()
                    .filter_map(root_ident)
                    .filter_map(|n| self.lookup(&n))
                    .filter(|&id| self.is_work(id))
                    .collect();
                (Vec::new(), stored)
            }
            _ => (Vec::new(), Vec::new()),
        }
    }

    /// Drop refuted work at the start of a branch.
    pub(super) fn refute(&mut self, ids: &[ValueId], at: Position) {
        for &id in ids {
            self.drop_value(id, at, super::DropWhy::Refuted);
        }
    }

    /// Work values made since `before`.
    pub(super) fn work_since(&self, before: usize) -> Vec<ValueId> {
        (before..self.flow.values.len()).filter(|&id| self.is_work(id)).collect()
    }
}

/// The place a receiver chain is called on, as written (`store.samples` for
/// `store.samples.lock().entry(k)`).
fn place_text(expr: &syn::Expr) -> Option<String> {
    match place_of_chain(expr) {
        syn::Expr::Path(p) => {
            let segments: Vec<String> = p.path.segments.iter().map(|s| s.ident.to_string()).collect();
            Some(segments.join("::"))
        }
        syn::Expr::Field(f) => {
            let member = match &f.member {
                syn::Member::Named(n) => n.to_string(),
                syn::Member::Unnamed(i) => i.index.to_string(),
            };
            Some(format!("{}.{member}", place_text(&f.base)?))
        }
        _ => None,
    }
}

/// The name a value copies: `x` of `x.clone()`, `Arc::clone(&x)`.
fn copied_name(init: &syn::Expr) -> Option<String> {
    match init {
        syn::Expr::MethodCall(m) if m.method == "clone" && m.args.is_empty() => match &*m.receiver {
            syn::Expr::Path(p) => p.path.get_ident().map(ToString::to_string),
            _ => None,
        },
        syn::Expr::Call(c) if last_segment(&c.func).as_deref() == Some("clone") && c.args.len() == 1 => {
            root_ident(&c.args[0])
        }
        _ => None,
    }
}

/// The semaphore a permit is awaited from: `sem` of `sem.clone().acquire_owned().await?`.
fn semaphore_of_permit(init: &syn::Expr) -> Option<String> {
    let mut expr = init;
    let mut awaited = false;
    loop {
        expr = match expr {
            syn::Expr::Await(a) => {
                awaited = true;
                &a.base
            }
            syn::Expr::Try(t) => &t.expr,
            syn::Expr::MethodCall(m) if m.method.to_string().starts_with("acquire") => {
                return awaited.then(|| root_ident(&m.receiver)).flatten();
            }
            syn::Expr::MethodCall(m) => &m.receiver,
            _ => return None,
        };
    }
}

/// The names awaited directly (`h.await`) in the async blocks `expr` is, or is called
/// with (`timeout(d, async { h.await })`): awaiting `expr` runs them to the end.
pub(super) fn awaited_in_blocks_of(expr: &syn::Expr) -> Vec<String> {
    struct Awaited(Vec<String>);
    impl Awaited {
        fn blocks_of(&mut self, expr: &syn::Expr) {
            let args: Vec<&syn::Expr> = match expr {
                syn::Expr::Async(_) => vec![expr],
                syn::Expr::Call(c) => c.args.iter().collect(),
                syn::Expr::MethodCall(m) => m.args.iter().collect(),
                _ => Vec::new(),
            };
            for arg in args {
                if let syn::Expr::Async(block) = arg {
                    syn::visit::Visit::visit_block(self, &block.block);
                }
            }
        }
    }
    impl<'a> syn::visit::Visit<'a> for Awaited {
        fn visit_expr_await(&mut self, a: &'a syn::ExprAwait) {
            if let syn::Expr::Path(p) = &*a.base {
                self.0.extend(p.path.get_ident().map(ToString::to_string));
            }
            // A block awaited in the block is run to its end too.
            self.blocks_of(&a.base);
            syn::visit::visit_expr_await(self, a);
        }
        // What a nested closure or block awaits runs only if it is called or awaited.
        fn visit_expr_closure(&mut self, _: &'a syn::ExprClosure) {}
        fn visit_expr_async(&mut self, _: &'a syn::ExprAsync) {}
    }
    let mut awaited = Awaited(Vec::new());
    awaited.blocks_of(expr);
    awaited.0
}

/// `sem.acquire_many(n).await`: waits until `n` permits of `sem` are free, those the work
/// holds included; `sem`.
pub(super) fn awaits_all_permits(base: &syn::Expr) -> Option<String> {
    match base {
        syn::Expr::MethodCall(m) if m.method.to_string().starts_with("acquire_many") => root_ident(&m.receiver),
        _ => None,
    }
}

/// `Err(..)`: the pattern of a failed spawn.
pub(super) fn is_err_pattern(pat: &syn::Pat) -> bool {
    matches!(pat, syn::Pat::TupleStruct(t) if t.path.segments.last().is_some_and(|s| s.ident == "Err"))
}

/// The events of a loop body's second walk worth keeping: uses with work alive that the
/// first walk did not report at that point.
pub(super) fn second_walk_uses(first: &[Event], second: Vec<Event>) -> Vec<Event> {
    second
        .into_iter()
        .filter(|e| match &e.kind {
            EventKind::Used(u) => {
                !u.live.is_empty()
                    && !first
                        .iter()
                        .any(|f| f.at == e.at && matches!(&f.kind, EventKind::Used(x) if !x.live.is_empty()))
            }
            _ => false,
        })
        .collect()
}
