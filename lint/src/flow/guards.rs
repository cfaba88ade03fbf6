//! Lock guards for the flow engine: which calls take a lock's guard, which locks are
//! async-aware or guard nothing (`Mutex<()>`), and which calls block. Rules that follow
//! guards (`guard_across_await`, `lock_across_io`) share
//! this [`Tracker`].

use super::{block_value, strip_type, Tracker};
use crate::parse::ParsedFile;
use crate::source::ModulePath;
use crate::symbols::read_seek::display_type;
use crate::symbols::{known, Resolved, Symbols};
use crate::vocab;
use std::collections::{HashMap, HashSet};
use syn::visit::Visit;

/// What a body does, to skip those a guard rule cannot fire in without walking them.
#[derive(Default)]
pub struct BodyWords {
    pub takes_lock: bool,
    pub awaits: bool,
    pub blocks: bool,
}

impl BodyWords {
    pub fn of(body: &syn::Block) -> Self {
        Self::of_in(body, None)
    }

    /// [`BodyWords::of`], calls read through the scope's imports (`use … as slurp`).
    pub fn of_in(body: &syn::Block, imports: Option<&vocab::ImportScopes<'_>>) -> Self {
        struct Scan<'i, 'm>(BodyWords, Option<&'i vocab::ImportScopes<'m>>);
        impl Visit<'_> for Scan<'_, '_> {
            fn visit_expr_method_call(&mut self, m: &syn::ExprMethodCall) {
                let method = m.method.to_string();
                self.0.takes_lock |= vocab::acquire(&method, m.args.len()).is_some();
                if !self.0.blocks {
                    self.0.blocks = vocab::blocking_method(m).is_some();
                }
                syn::visit::visit_expr_method_call(self, m);
            }
            fn visit_expr_await(&mut self, a: &syn::ExprAwait) {
                self.0.awaits = true;
                syn::visit::visit_expr_await(self, a);
            }
            fn visit_expr_call(&mut self, c: &syn::ExprCall) {
                if !self.0.blocks {
                    // Opening a file, a socket or an inflater: its reads and writes block.
                    self.0.blocks =
                        vocab::blocking_function_in(c, self.1).is_some() || vocab::call_opens_io_handle(c).is_some();
                }
                syn::visit::visit_expr_call(self, c);
            }
            // Macro arguments are not looked into here: this is a quick filter, and
            // parsing every macro's tokens would cost more than it saves. A `select!` is
            // async code's own control flow: it awaits, and its branches are read.
            fn visit_macro(&mut self, mac: &syn::Macro) {
                let Some(branches) = crate::parse::select_branches(mac) else { return };
                self.0.awaits = true;
                for branch in &branches {
                    for e in branch.future.iter().chain(&branch.precondition).chain(std::iter::once(&branch.handler)) {
                        self.visit_expr(e);
                    }
                }
            }
        }
        let mut scan = Scan(BodyWords::default(), imports);
        scan.visit_block(body);
        scan.0
    }
}

/// Does `body` call one of the package's functions that take a guard for it: hand one
/// out ([`LockPlaces::guard_helpers`]) or run a closure under one
/// ([`LockPlaces::scoped_helpers`])? A lock taken with no acquisition in sight.
pub fn calls_guard_helper(body: &syn::Block, places: &LockPlaces) -> bool {
    struct Scan<'p>(&'p LockPlaces, bool);
    impl Scan<'_> {
        fn helper(&self, name: &str, args: usize, by_method: bool) -> bool {
            self.0.guard_helpers.get(name).is_some_and(|h| h.args == args && !(by_method && h.by_path))
                || self.0.scoped_helpers.get(name).is_some_and(|h| h.args == args && h.method == by_method)
        }
    }
    impl Visit<'_> for Scan<'_> {
        fn visit_expr_method_call(&mut self, m: &syn::ExprMethodCall) {
            self.1 |= self.helper(&m.method.to_string(), m.args.len(), true);
            syn::visit::visit_expr_method_call(self, m);
        }
        fn visit_expr_call(&mut self, c: &syn::ExprCall) {
            if let syn::Expr::Path(p) = &*c.func {
                let name = p.path.segments.last().map(|s| s.ident.to_string()).unwrap_or_default();
                self.1 |= self.helper(&name, c.args.len(), false);
            }
            syn::visit::visit_expr_call(self, c);
        }
    }
    if places.guard_helpers.is_empty() && places.scoped_helpers.is_empty() {
        return false;
    }
    let mut scan = Scan(places, false);
    scan.visit_block(body);
    scan.1
}

/// The functions of `file` called by path that hand out a blocking lock's guard, by their
/// return type's name (`pub fn get() -> RwLockWriteGuard<'static, Data>`, under `Result`
/// or `Option` too): a file calling one takes a lock with no lock word in it, so it is
/// worth reading where it awaits or blocks. Methods are left out: they are mostly called
/// on `self`, in files that name their lock.
pub fn guard_helper_names(file: &syn::File, out: &mut Vec<String>) {
    fn is_guard(ty: &syn::Type) -> bool {
        let syn::Type::Path(p) = ty else { return false };
        let Some(last) = p.path.segments.last() else { return false };
        let name = last.ident.to_string();
        if !vocab::wraps_first_argument(&name) {
            return vocab::names_guard_type(&name);
        }
        let syn::PathArguments::AngleBracketed(a) = &last.arguments else { return false };
        a.args
            .iter()
            .find_map(|g| match g {
                syn::GenericArgument::Type(t) => Some(t),
                _ => None,
            })
            .is_some_and(is_guard)
    }
    fn hands_out_guard(sig: &syn::Signature) -> bool {
        sig.asyncness.is_none() && matches!(&sig.output, syn::ReturnType::Type(_, ty) if is_guard(ty))
    }
    struct Helpers<'o>(&'o mut Vec<String>);
    impl Visit<'_> for Helpers<'_> {
        fn visit_item_fn(&mut self, f: &syn::ItemFn) {
            if hands_out_guard(&f.sig) {
                self.0.push(f.sig.ident.to_string());
            }
        }
        fn visit_impl_item_fn(&mut self, f: &syn::ImplItemFn) {
            if f.sig.receiver().is_none() && hands_out_guard(&f.sig) {
                self.0.push(f.sig.ident.to_string());
            }
        }
    }
    Helpers(out).visit_file(file);
}

/// The names locks are taken through in the bodies of `file` a rule looks at (`wanted`)
/// (`FORK_MTX` in `FORK_MTX.lock()`, `entries` in `self.entries.lock()`): where they are
/// declared says whether the lock is async-aware or guards `()`, so those files are
/// needed.
pub fn lock_receivers(file: &syn::File, wanted: impl Fn(&BodyWords) -> bool, out: &mut Vec<String>) {
    struct Receivers<'o>(&'o mut Vec<String>);
    impl Visit<'_> for Receivers<'_> {
        fn visit_expr_method_call(&mut self, m: &syn::ExprMethodCall) {
            if vocab::acquire(&m.method.to_string(), m.args.len()).is_some() {
                self.0.extend(receiver_name(&m.receiver));
            }
            syn::visit::visit_expr_method_call(self, m);
        }
    }
    let mut found = Vec::new();
    for body in bodies(file, true) {
        let words = BodyWords::of(body.block);
        if words.takes_lock && wanted(&words) {
            Receivers(&mut found).visit_block(body.block);
        }
    }
    if found.is_empty() {
        return;
    }
    // Locks declared in this file need no other file.
    struct Declared(HashSet<String>);
    impl Visit<'_> for Declared {
        fn visit_field(&mut self, f: &syn::Field) {
            self.0.extend(f.ident.as_ref().map(ToString::to_string));
        }
        fn visit_item_static(&mut self, s: &syn::ItemStatic) {
            self.0.insert(s.ident.to_string());
        }
        fn visit_pat_type(&mut self, p: &syn::PatType) {
            if let syn::Pat::Ident(i) = &*p.pat {
                self.0.insert(i.ident.to_string());
            }
        }
    }
    let mut declared = Declared(HashSet::new());
    declared.visit_file(file);
    out.extend(found.into_iter().filter(|n| !declared.0.contains(n)));
}

/// Every function body of a file (free functions, methods, trait defaults); without
/// `tests`, not those of `#[test]` functions or `#[cfg(test)]` modules.
/// A function's body, and the type its `self` is when it is a method of an inherent or
/// trait impl (`CatalogController` of `impl CatalogController`).
pub struct Body<'a> {
    pub sig: &'a syn::Signature,
    pub block: &'a syn::Block,
    pub self_type: Option<String>,
    /// The inline modules it is written in, outermost first (`["tests"]` inside
    /// `mod tests { .. }`): their `use` declarations name what it calls.
    pub inline_modules: Vec<String>,
}

pub fn bodies(file: &syn::File, tests: bool) -> Vec<Body<'_>> {
    struct Bodies<'a> {
        found: Vec<Body<'a>>,
        tests: bool,
        self_type: Option<String>,
        inline_modules: Vec<String>,
    }
    impl<'a> Bodies<'a> {
        fn push(&mut self, sig: &'a syn::Signature, block: &'a syn::Block, self_type: Option<String>) {
            let inline_modules = self.inline_modules.clone();
            self.found.push(Body { sig, block, self_type, inline_modules });
        }
    }
    impl<'a> Visit<'a> for Bodies<'a> {
        fn visit_item_mod(&mut self, item: &'a syn::ItemMod) {
            if self.tests || !crate::symbols::is_cfg_test(&item.attrs) {
                self.inline_modules.push(item.ident.to_string());
                syn::visit::visit_item_mod(self, item);
                self.inline_modules.pop();
            }
        }
        fn visit_item_impl(&mut self, item: &'a syn::ItemImpl) {
            let outer = std::mem::replace(&mut self.self_type, outer_type_name(&item.self_ty));
            syn::visit::visit_item_impl(self, item);
            self.self_type = outer;
        }
        fn visit_item_trait(&mut self, item: &'a syn::ItemTrait) {
            let outer = self.self_type.take();
            syn::visit::visit_item_trait(self, item);
            self.self_type = outer;
        }
        fn visit_item_fn(&mut self, item: &'a syn::ItemFn) {
            if self.tests || !crate::symbols::is_test_fn(&item.attrs) {
                self.push(&item.sig, &item.block, None);
            }
        }
        fn visit_impl_item_fn(&mut self, item: &'a syn::ImplItemFn) {
            self.push(&item.sig, &item.block, self.self_type.clone());
        }
        fn visit_trait_item_fn(&mut self, item: &'a syn::TraitItemFn) {
            if let Some(block) = &item.default {
                self.push(&item.sig, block, None);
            }
        }
    }
    let mut bodies = Bodies { found: Vec::new(), tests, self_type: None, inline_modules: Vec::new() };
    bodies.visit_file(file);
    bodies.found
}

/// What the crate declares its locks as, by the name they are reached by (a field,
/// static, parameter or annotated local).
#[derive(Default)]
pub struct LockPlaces {
    /// Declared only with async-aware lock types (`tokio::sync::Mutex`).
    async_names: HashSet<String>,
    /// Declared only as locks around `()` or an I/O handle (`Mutex<File>`): held to order
    /// work (that handle's I/O), not to guard data.
    ordering_names: HashSet<String>,
    /// Declared only with other crates' types that are no lock (an `EventFd`, whose
    /// `read()` is no guard), or with a package type whose own `read()`/`lock()` gives
    /// its own value, not a lock's guard.
    not_locks: HashSet<String>,
    /// Package types with a method named like an acquisition (`Rcu::read`) that returns
    /// a package type: calling it takes no lock the rules know.
    own_guard_types: HashSet<String>,
    /// Acquisition names the package gives methods of its own that return no guard
    /// (`LockResult::lock(&self) -> &Lock`): on a receiver not declared as a lock, such a
    /// call is taken to be the package's own.
    own_acquire_methods: HashSet<String>,
    /// Names declared as locks, blocking or async-aware.
    lock_names: HashSet<String>,
    /// The package's functions and methods that hand out a blocking lock's guard
    /// (`fn state(&self) -> MutexGuard<'_, State>`), by name, with their arguments.
    guard_helpers: HashMap<String, GuardHelper>,
    /// The package's functions that run a closure argument under a guard they take
    /// (`fn with_peers<F: FnOnce(&Peers) -> T>(&self, f: F) -> T { f(&self.peers.read()) }`).
    scoped_helpers: HashMap<String, ScopedHelper>,
    /// Per file (by its shown path), the lock names it declares itself and how: a field
    /// named `task` is more likely the one declared beside its use.
    in_file: HashMap<String, HashMap<String, FileLock>>,
    /// Per struct (by name) and field, how the package declares that lock: `self.inner`
    /// in `impl CatalogController` is `CatalogController.inner`, whatever other types'
    /// `inner` fields are.
    in_type: HashMap<String, HashMap<String, FileLock>>,
    /// The package's functions and methods whose declared return type holds locks, all
    /// async-aware (`async fn remove(..) -> Option<Arc<async_lock::RwLock<()>>>`): what a
    /// local is bound from a call of one is such a lock.
    async_lock_makers: HashSet<String>,
    /// The package's functions and methods whose declared return type holds a lock.
    lock_makers: HashSet<String>,
}

/// A function that hands out a guard: how many arguments it takes (besides `self`), and
/// whether its lock is around `()` (held to order work).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GuardHelper {
    args: usize,
    ordering: bool,
    /// Named like an acquisition (`fn read() -> RwLockReadGuard<'static, Data>`): only a
    /// call by its path (`data::read()`) is this function; `x.read()` is an acquisition.
    by_path: bool,
}

/// A function that runs a closure under a guard it takes: how many arguments it takes
/// (besides `self`), and the lock (a field of `self`, or a static).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScopedHelper {
    args: usize,
    /// A method (`x.with_peers(..)`), or a function called by its path.
    method: bool,
    lock: ScopedLock,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum ScopedLock {
    /// `self.peers`: shown on the receiver of each call.
    Field(String),
    /// `PEERS`.
    Static(String),
}

/// How one file declares a lock name (every declaration of it there).
#[derive(Clone, Copy, Debug)]
struct FileLock {
    asynchronous: bool,
    ordering: bool,
}

impl LockPlaces {
    pub fn of(symbols: &Symbols<'_>, files: &[ParsedFile]) -> Self {
        let mut declared = Declared::default_for(symbols);
        let (mut excluding, mut data) = (HashSet::new(), HashSet::new());
        let mut awaited: HashMap<&str, HashSet<String>> = HashMap::new();
        for file in files {
            let display = file.source.display.as_str();
            declared.module = file.source.module.clone();
            declared.file.clone_from(&file.source.display);
            declared.visit_file(&file.ast);
            let uses = GuardUses::of(&file.ast);
            // A lock this file declares and takes only to exclude orders the work here.
            for (name, lock) in declared.in_file.get_mut(display).into_iter().flatten() {
                lock.ordering |= uses.data_free(name);
            }
            excluding.extend(uses.excluding);
            data.extend(uses.data);
            awaited.insert(display, uses.awaited);
        }
        declared.async_by_use(&awaited);
        let data_free: Vec<String> = excluding.into_iter().filter(|n| !data.contains(n)).collect();
        // Names declared with a package type wrapping an async lock are async-aware.
        let wrapped_async: Vec<String> = declared
            .typed
            .iter()
            .filter(|(_, ty)| declared.async_guard_types.contains(ty))
            .map(|(n, _)| n.clone())
            .collect();
        declared.asynchronous.extend(wrapped_async);
        let blocking = declared.blocking;
        let guarded = declared.guarded;
        let locks: HashSet<&String> = blocking.iter().chain(&declared.asynchronous).collect();
        let lock_names = locks.iter().map(|n| n.to_string()).collect();
        let own_typed = declared.typed.iter().filter(|(_, ty)| declared.own_guard_types.contains(ty)).map(|(n, _)| n);
        let not_locks = declared.other.iter().chain(own_typed).filter(|n| !locks.contains(n)).cloned().collect();
        // What the declaring file's uses say of the name (held only to exclude) holds for
        // the field too.
        let mut in_type: HashMap<String, HashMap<String, FileLock>> = HashMap::new();
        for ((ty, field), (file, mut lock)) in declared.in_type {
            let in_file = declared.in_file.get(&file).and_then(|names| names.get(&field));
            lock.ordering |= in_file.is_some_and(|l| l.ordering);
            in_type.entry(ty).or_default().insert(field, lock);
        }
        LockPlaces {
            async_names: declared.asynchronous.iter().filter(|n| !blocking.contains(*n)).cloned().collect(),
            ordering_names: declared
                .ordering
                .into_iter()
                .filter(|n| !guarded.contains(n))
                .chain(data_free.into_iter().filter(|n| blocking.contains(n)))
                .collect(),
            not_locks,
            own_guard_types: declared.own_guard_types,
            own_acquire_methods: declared.own_acquire_methods,
            guard_helpers: declared.guard_helpers.into_iter().filter_map(|(n, h)| Some((n, h?))).collect(),
            scoped_helpers: declared.scoped_helpers.into_iter().filter_map(|(n, h)| Some((n, h?))).collect(),
            lock_names,
            in_file: declared.in_file,
            in_type,
            lock_makers: declared.lock_makers.keys().cloned().collect(),
            async_lock_makers: (declared.lock_makers.into_iter())
                .filter_map(|(name, asynchronous)| (asynchronous == Some(true)).then_some(name))
                .collect(),
        }
    }
}

struct Declared<'s, 'a> {
    symbols: &'s Symbols<'a>,
    module: ModulePath,
    asynchronous: HashSet<String>,
    blocking: HashSet<String>,
    ordering: HashSet<String>,
    guarded: HashSet<String>,
    other: HashSet<String>,
    /// Every name declared with a type, and its type's last path segment.
    typed: Vec<(String, String)>,
    own_guard_types: HashSet<String>,
    own_acquire_methods: HashSet<String>,
    /// Functions and methods returning a blocking lock's guard, by name: `None` where a
    /// function of that name returns something else too.
    guard_helpers: HashMap<String, Option<GuardHelper>>,
    /// Functions and methods running a closure under a guard they take, by name: `None`
    /// where a function of that name does something else too.
    scoped_helpers: HashMap<String, Option<ScopedHelper>>,
    /// Package types whose own acquisition is async-aware (`async fn lock`, or one that
    /// returns a `tokio` guard): a wrapper around an async lock.
    async_guard_types: HashSet<String>,
    /// Functions and methods returning locks, by name: whether all of those locks are
    /// async-aware (`None` where functions of that name disagree).
    lock_makers: HashMap<String, Option<bool>>,
    /// Every declaration of another crate's lock: its file, name, full path and the
    /// struct it is a field of.
    lock_paths: Vec<(String, String, Vec<String>, Option<String>)>,
    /// The file being read, and the lock names each file declares (async-aware or not).
    file: String,
    in_file: HashMap<String, HashMap<String, FileLock>>,
    /// The struct whose fields are being read, and the lock fields of each struct, with
    /// the file declaring them.
    owner: Option<String>,
    in_type: HashMap<(String, String), (String, FileLock)>,
}

impl<'s, 'a> Declared<'s, 'a> {
    fn default_for(symbols: &'s Symbols<'a>) -> Self {
        Declared {
            symbols,
            module: ModulePath::root("src"),
            asynchronous: HashSet::new(),
            blocking: HashSet::new(),
            ordering: HashSet::new(),
            guarded: HashSet::new(),
            other: HashSet::new(),
            typed: Vec::new(),
            own_guard_types: HashSet::new(),
            own_acquire_methods: HashSet::new(),
            guard_helpers: HashMap::new(),
            scoped_helpers: HashMap::new(),
            async_guard_types: HashSet::new(),
            lock_makers: HashMap::new(),
            file: String::new(),
            in_file: HashMap::new(),
            owner: None,
            in_type: HashMap::new(),
            lock_paths: Vec::new(),
        }
    }

    fn note(&mut self, name: Option<String>, ty: &syn::Type) {
        let Some(name) = name else { return };
        if let Some(outer) = outer_type_name(ty) {
            self.typed.push((name.clone(), outer));
        }
        let module = self.module.clone();
        if !self.note_locks(&name, ty, &module, 0) && !self.names_package_type(ty, &module) {
            self.other.insert(name);
        }
    }

    /// Is `ty`, or what it points to, a type of this package? Such a type may have
    /// lock-like methods of its own (`ColorableTerminal::lock`), so it does not make a
    /// name "no lock". A package type only among another type's parameters
    /// (`ARCache<Key, Item>`) does not: the methods called are the outer type's.
    fn names_package_type(&self, ty: &syn::Type, module: &ModulePath) -> bool {
        pointed_paths(ty).iter().any(|p| matches!(self.symbols.resolve_path(module, p), Resolved::Def(_)))
    }

    /// Record the locks `ty` (written in `module`) holds under `name`, through aliases;
    /// whether it holds any.
    fn note_locks(&mut self, name: &str, ty: &syn::Type, module: &ModulePath, depth: usize) -> bool {
        let mut any_lock = false;
        for path in &type_paths(ty) {
            let full = match self.symbols.resolve_path(module, path) {
                Resolved::External(full) => full,
                // A crate's own wrapper around a lock is a lock.
                Resolved::Def(id) if self.symbols.lock_wrapper(id).is_some() => {
                    any_lock = true;
                    self.blocking.insert(name.to_string());
                    continue;
                }
                Resolved::Def(id) if depth < MAX_ALIAS_DEPTH => {
                    let def = self.symbols.def(id);
                    if let crate::symbols::DefKind::Alias(alias) = def.kind {
                        let alias_module = def.module.clone();
                        any_lock |= self.note_locks(name, &alias.ty, &alias_module, depth + 1);
                    }
                    continue;
                }
                _ => continue,
            };
            if !known::is_lock(&full) {
                continue;
            }
            any_lock = true;
            self.lock_paths.push((self.file.clone(), name.to_string(), full.clone(), self.owner.clone()));
            let asynchronous = known::is_async_lock(&full);
            if asynchronous {
                self.asynchronous.insert(name.to_string());
            } else {
                self.blocking.insert(name.to_string());
            }
            let orders = crate::symbols::read_seek::type_args(path).last().is_some_and(|t| {
                matches!(t, syn::Type::Tuple(t) if t.elems.is_empty()) || self.holds_io_handle(t, module)
            });
            // Declared both ways in one file: blocking and guarding data, as package-wide.
            let in_file = self
                .in_file
                .entry(self.file.clone())
                .or_default()
                .entry(name.to_string())
                .or_insert(FileLock { asynchronous, ordering: orders });
            in_file.asynchronous &= asynchronous;
            in_file.ordering &= orders;
            if let Some(owner) = &self.owner {
                let (_, in_type) = (self.in_type.entry((owner.clone(), name.to_string())))
                    .or_insert_with(|| (self.file.clone(), FileLock { asynchronous, ordering: orders }));
                in_type.asynchronous &= asynchronous;
                in_type.ordering &= orders;
            }
            if orders {
                self.ordering.insert(name.to_string());
            } else {
                self.guarded.insert(name.to_string());
            }
        }
        any_lock
    }
}

impl Declared<'_, '_> {
    /// `fn state(&self) -> MutexGuard<'_, State>` (or a `Result`/`Option`/`LockResult` of
    /// one): calling it takes that lock. Acquisition names are known already; an `async`
    /// function's guard is awaited, not blocking.
    fn note_guard_helper(&mut self, sig: &syn::Signature) {
        let name = sig.ident.to_string();
        let args = sig.inputs.iter().filter(|i| matches!(i, syn::FnArg::Typed(_))).count();
        let by_path = vocab::acquire(&name, args).is_some();
        if by_path && sig.receiver().is_some() {
            return;
        }
        let helper = match &sig.output {
            syn::ReturnType::Type(_, ty) if sig.asyncness.is_none() => self.blocking_guard(ty),
            _ => None,
        }
        .map(|ordering| GuardHelper { args, ordering, by_path });
        let entry = self.guard_helpers.entry(name).or_insert(helper);
        if *entry != helper {
            *entry = None;
        }
    }

    /// Which kinds of lock a function hands out, by its return type
    /// (`Option<(Arc<async_lock::RwLock<()>>, Arc<async_lock::RwLock<()>>)>`).
    fn note_lock_maker(&mut self, sig: &syn::Signature) {
        let syn::ReturnType::Type(_, ty) = &sig.output else { return };
        let name = sig.ident.to_string();
        let kinds: HashSet<bool> = (type_paths(ty).into_iter())
            .filter_map(|p| match self.symbols.resolve_path(&self.module, p) {
                Resolved::External(full) if known::is_lock(&full) => Some(known::is_async_lock(&full)),
                Resolved::Def(id) if self.symbols.lock_wrapper(id).is_some() => Some(false),
                _ => None,
            })
            .collect();
        if kinds.is_empty() {
            return;
        }
        let asynchronous = (kinds.len() == 1).then(|| kinds.contains(&true));
        let entry = self.lock_makers.entry(name).or_insert(asynchronous);
        if *entry != asynchronous {
            *entry = None;
        }
    }

    /// `fn with_peers<F: FnOnce(&Peers) -> T>(&self, f: F) -> T { f(&self.peers.read()) }`,
    /// or with the guard bound first (`let mut g = self.peers.write(); f(&mut g)`): each
    /// call runs its closure under that lock.
    fn note_scoped_helper(&mut self, sig: &syn::Signature, body: &syn::Block) {
        let helper = if sig.asyncness.is_none() { scoped_helper(sig, body) } else { None };
        let entry = self.scoped_helpers.entry(sig.ident.to_string()).or_insert(helper.clone());
        if *entry != helper {
            *entry = None;
        }
    }

    /// Is `ty` a blocking lock's guard (`std::sync::MutexGuard`, `parking_lot`'s, `spin`'s),
    /// under `Result`/`Option`? Whether its lock is around `()`, if so.
    fn blocking_guard(&self, ty: &syn::Type) -> Option<bool> {
        let syn::Type::Path(tp) = ty else { return None };
        let last = tp.path.segments.last()?;
        let args: Vec<&syn::Type> = match &last.arguments {
            syn::PathArguments::AngleBracketed(a) => a
                .args
                .iter()
                .filter_map(|g| match g {
                    syn::GenericArgument::Type(t) => Some(t),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        let name = last.ident.to_string();
        if vocab::wraps_first_argument(&name) {
            return self.blocking_guard(args.first()?);
        }
        if !vocab::names_guard_type(&name) || matches!(name.as_str(), "StdoutLock" | "StderrLock" | "StdinLock") {
            return None;
        }
        let Resolved::External(full) = self.symbols.resolve_path(&self.module, &tp.path) else { return None };
        let blocking =
            matches!(full.first().map(String::as_str), Some("std" | "parking_lot" | "spin" | "lock_api" | "lockscope"));
        blocking.then(|| matches!(args.first(), Some(syn::Type::Tuple(t)) if t.elems.is_empty()))
    }
}

impl Declared<'_, '_> {
    /// Can a value of this package type be a lock's guard: a lock wrapper, a type holding
    /// a guard, or an alias of one (`type Result<T> = std::result::Result<T, Error>` of a
    /// workspace crate is not, whatever `T`)?
    fn def_gives_guard(&self, id: crate::symbols::DefId, depth: usize) -> bool {
        if self.symbols.lock_wrapper(id).is_some() {
            return true;
        }
        let def = self.symbols.def(id);
        match &def.kind {
            crate::symbols::DefKind::Alias(alias) if depth < MAX_ALIAS_DEPTH => {
                type_paths(&alias.ty).iter().any(|p| match self.symbols.resolve_path(&def.module, p) {
                    Resolved::Def(inner) => self.def_gives_guard(inner, depth + 1),
                    _ => p.segments.last().is_some_and(|s| vocab::names_guard_type(&s.ident.to_string())),
                })
            }
            kind => holds_guard(kind),
        }
    }

    /// An I/O handle (`File`, `BufWriter<File>`), or a package type with one in a field or
    /// variant (`enum Output { Memory(Vec<u8>), File(File) }`): a log sink, a writer.
    fn holds_io_handle(&self, ty: &syn::Type, module: &ModulePath) -> bool {
        if vocab::is_io_handle_type(ty) {
            return true;
        }
        let Some(path) = type_paths(ty).into_iter().next() else { return false };
        let Resolved::Def(id) = self.symbols.resolve_path(module, path) else { return false };
        let fields = match self.symbols.def(id).kind {
            crate::symbols::DefKind::Struct(s) => quote::ToTokens::to_token_stream(&s.fields),
            crate::symbols::DefKind::Enum(e) => quote::ToTokens::to_token_stream(&e.variants),
            _ => return false,
        };
        vocab::is_io_handle_text(&fields.to_string())
    }
}

impl Declared<'_, '_> {
    /// Another crate's lock type whose acquisition the package awaits is async-aware
    /// (`collab::lock::Mutex`, a re-export of tokio's): every name declared with it is.
    /// Only an await in the file declaring the name counts (names repeat across files).
    fn async_by_use(&mut self, awaited: &HashMap<&str, HashSet<String>>) {
        let async_types: HashSet<&Vec<String>> = self
            .lock_paths
            .iter()
            .filter(|(file, name, ..)| awaited.get(file.as_str()).is_some_and(|names| names.contains(name)))
            .map(|(_, _, full, _)| full)
            .collect();
        if async_types.is_empty() {
            return;
        }
        let blocking_elsewhere: HashSet<&String> = self
            .lock_paths
            .iter()
            .filter(|(_, _, full, _)| !async_types.contains(full) && !known::is_async_lock(full))
            .map(|(_, name, ..)| name)
            .collect();
        for (file, name, full, owner) in &self.lock_paths {
            if !async_types.contains(full) {
                continue;
            }
            if let Some((_, lock)) = owner.as_ref().and_then(|o| self.in_type.get_mut(&(o.clone(), name.clone()))) {
                lock.asynchronous = true;
            }
            self.asynchronous.insert(name.clone());
            if !blocking_elsewhere.contains(name) {
                self.blocking.remove(name);
            }
            if let Some(lock) = self.in_file.get_mut(file).and_then(|names| names.get_mut(name)) {
                lock.asynchronous = true;
            }
        }
    }
}

/// How a file's code takes each lock: only to exclude (every guard bound to a `_`-name,
/// `let _lock = LOCK.lock()`), or for its data. A lock whose value no code reads or writes
/// is held only to exclude, as a `Mutex<()>` is (`static LOCK: Mutex<u8>`, a placeholder).
/// Also which locks it awaits (`self.last_sync.lock().await`): those are async-aware.
#[derive(Default)]
struct GuardUses {
    excluding: HashSet<String>,
    data: HashSet<String>,
    awaited: HashSet<String>,
    binding: Option<bool>,
}

impl GuardUses {
    fn of(file: &syn::File) -> Self {
        let mut uses = GuardUses::default();
        uses.visit_file(file);
        uses
    }

    fn data_free(&self, name: &str) -> bool {
        self.excluding.contains(name) && !self.data.contains(name)
    }
}

impl Visit<'_> for GuardUses {
    fn visit_expr_await(&mut self, a: &syn::ExprAwait) {
        if let syn::Expr::MethodCall(m) = &*a.base {
            if vocab::acquire(&m.method.to_string(), m.args.len()).is_some() {
                self.awaited.extend(receiver_name(&m.receiver));
            }
        }
        syn::visit::visit_expr_await(self, a);
    }
    fn visit_local(&mut self, local: &syn::Local) {
        let underscore = matches!(strip_type(&local.pat), syn::Pat::Ident(p) if p.ident.to_string().starts_with('_'));
        if let Some(init) = &local.init {
            let outer = self.binding.replace(underscore);
            self.visit_expr(&init.expr);
            self.binding = outer;
            if let Some((_, diverge)) = &init.diverge {
                self.visit_expr(diverge);
            }
        }
    }
    fn visit_expr_method_call(&mut self, m: &syn::ExprMethodCall) {
        // Only the chain a `let` binds (`LOCK.lock().unwrap()`) is bound to its name.
        let binding = self.binding.take();
        if vocab::acquire(&m.method.to_string(), m.args.len()).is_some() {
            if let Some(name) = receiver_name(&m.receiver) {
                if binding == Some(true) { &mut self.excluding } else { &mut self.data }.insert(name);
            }
        }
        let hands_on = vocab::hands_on_ownership(&m.method.to_string())
            || vocab::acquire(&m.method.to_string(), m.args.len()).is_some();
        self.binding = if hands_on { binding } else { None };
        self.visit_expr(&m.receiver);
        self.binding = None;
        m.args.iter().for_each(|a| self.visit_expr(a));
    }
    fn visit_expr(&mut self, e: &syn::Expr) {
        match e {
            syn::Expr::MethodCall(_) | syn::Expr::Try(_) | syn::Expr::Paren(_) => {}
            _ => self.binding = None,
        }
        syn::visit::visit_expr(self, e);
    }
    fn visit_macro(&mut self, mac: &syn::Macro) {
        for arg in &crate::parse::macro_args(mac) {
            self.visit_expr(arg);
        }
    }
}

/// Does a package type hold a lock's guard (`MutexGuard<'a, T>`, `StdoutLock<'static>`)?
/// Then a method returning it takes a lock.
fn holds_guard(kind: &crate::symbols::DefKind<'_>) -> bool {
    let fields = match kind {
        crate::symbols::DefKind::Struct(s) => quote::ToTokens::to_token_stream(&s.fields),
        crate::symbols::DefKind::Enum(e) => quote::ToTokens::to_token_stream(&e.variants),
        _ => return true,
    };
    let text = fields.to_string();
    text.split(|c: char| !(c.is_alphanumeric() || c == '_')).any(|w| w.ends_with("Guard") || w.ends_with("Lock"))
}

/// The last segment of a type's path, under references (`Rcu` in `&Rcu<u32>`).
pub(crate) fn outer_type_name(ty: &syn::Type) -> Option<String> {
    match ty {
        syn::Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
        syn::Type::Reference(r) => outer_type_name(&r.elem),
        _ => None,
    }
}

/// Types whose values a method call on a place of type `ty` reaches: the type itself
/// and, through references and pointers (`Arc`, `Rc`, `Box`, `Option`, `Pin`), what they
/// hold (`Arc`, `Inner` of `&Arc<Inner>`), not another type's parameters.
fn pointed_paths(mut ty: &syn::Type) -> Vec<&syn::Path> {
    const POINTERS: &[&str] = &["Arc", "Rc", "Box", "Option", "Pin"];
    let mut paths = Vec::new();
    loop {
        match ty {
            syn::Type::Reference(r) => ty = &r.elem,
            syn::Type::Paren(p) => ty = &p.elem,
            syn::Type::Path(p) => {
                paths.push(&p.path);
                let Some(last) = p.path.segments.last() else { return paths };
                let held = match &last.arguments {
                    syn::PathArguments::AngleBracketed(a) if POINTERS.iter().any(|w| last.ident == w) => {
                        a.args.iter().find_map(|arg| match arg {
                            syn::GenericArgument::Type(t) => Some(t),
                            _ => None,
                        })
                    }
                    _ => None,
                };
                match held {
                    Some(inner) => ty = inner,
                    None => return paths,
                }
            }
            _ => return paths,
        }
    }
}

/// Every path written in a type (`Arc`, `Mutex`, `Inner` in `Arc<Mutex<Inner>>`).
fn type_paths(ty: &syn::Type) -> Vec<&syn::Path> {
    struct Paths<'p>(Vec<&'p syn::Path>);
    impl<'p> Visit<'p> for Paths<'p> {
        fn visit_path(&mut self, p: &'p syn::Path) {
            self.0.push(p);
            syn::visit::visit_path(self, p);
        }
    }
    let mut paths = Paths(Vec::new());
    paths.visit_type(ty);
    paths.0
}

/// How deep type aliases are followed to find the lock they name.
const MAX_ALIAS_DEPTH: usize = 6;

impl<'ast> Visit<'ast> for Declared<'_, '_> {
    // Names inside an inline module resolve there (`mod client { use std::sync::Mutex; … }`).
    fn visit_item_mod(&mut self, item: &'ast syn::ItemMod) {
        let outer = self.module.clone();
        self.module = outer.child(&item.ident.to_string());
        syn::visit::visit_item_mod(self, item);
        self.module = outer;
    }
    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        if mac.path.segments.last().is_some_and(|s| s.ident == "lazy_static") {
            for (name, ty) in mac.parse_body_with(crate::symbols::parse_lazy_statics).unwrap_or_default() {
                self.note(Some(name), &ty);
            }
        }
    }
    fn visit_item_fn(&mut self, item: &'ast syn::ItemFn) {
        self.note_guard_helper(&item.sig);
        self.note_lock_maker(&item.sig);
        self.note_scoped_helper(&item.sig, &item.block);
        syn::visit::visit_item_fn(self, item);
    }
    fn visit_impl_item_fn(&mut self, item: &'ast syn::ImplItemFn) {
        self.note_guard_helper(&item.sig);
        self.note_lock_maker(&item.sig);
        self.note_scoped_helper(&item.sig, &item.block);
        syn::visit::visit_impl_item_fn(self, item);
    }
    // `impl Rcu { fn read(&self) -> RcuReadGuard }`: a package type's own acquisition.
    fn visit_item_impl(&mut self, item: &'ast syn::ItemImpl) {
        if let (None, Some(self_name)) = (&item.trait_, outer_type_name(&item.self_ty)) {
            let module = self.module.clone();
            for impl_item in &item.items {
                let syn::ImplItem::Fn(f) = impl_item else { continue };
                let args = f.sig.inputs.len().saturating_sub(1);
                let syn::ReturnType::Type(_, returned) = &f.sig.output else { continue };
                let method = f.sig.ident.to_string();
                if f.sig.receiver().is_none() || vocab::acquire(&method, args).is_none() {
                    continue;
                }
                let paths = type_paths(returned);
                let resolved: Vec<Resolved> = paths.iter().map(|p| self.symbols.resolve_path(&module, p)).collect();
                let gives_guard = paths.iter().zip(&resolved).any(|(p, r)| match r {
                    Resolved::Def(id) => self.def_gives_guard(*id, 0),
                    _ => p.segments.last().is_some_and(|s| vocab::names_guard_type(&s.ident.to_string())),
                });
                let async_guard = f.sig.asyncness.is_some()
                    || resolved.iter().any(|r| matches!(r, Resolved::External(full) if known::is_async_lock(full)));
                if async_guard {
                    self.async_guard_types.insert(self_name.clone());
                }
                if async_guard {
                    // An `async fn read(&self)` of the package's own: no blocking guard.
                    self.own_acquire_methods.insert(method);
                    continue;
                }
                if gives_guard {
                    continue;
                }
                self.own_acquire_methods.insert(method);
                if matches!(resolved.first(), Some(Resolved::Def(_))) {
                    self.own_guard_types.insert(self_name.clone());
                }
            }
        }
        syn::visit::visit_item_impl(self, item);
    }
    // `struct HttpClient<C> { client: C }`: the field's type is the generic's, unknown
    // here (see `visit_item_type` for where an alias fixes it).
    fn visit_item_struct(&mut self, item: &'ast syn::ItemStruct) {
        let params: HashSet<String> = item.generics.type_params().map(|p| p.ident.to_string()).collect();
        self.owner = Some(item.ident.to_string());
        for field in &item.fields {
            let generic = matches!(&field.ty, syn::Type::Path(p) if p.path.get_ident().is_some_and(|i| params.contains(&i.to_string())));
            if !generic {
                self.visit_field(field);
            }
        }
        self.owner = None;
    }
    // `type AsyncHttpClient = HttpClient<Arc<Mutex<AsyncClient>>>`: the fields typed by
    // the struct's generic are declared with the alias's argument.
    fn visit_item_type(&mut self, item: &'ast syn::ItemType) {
        let module = self.module.clone();
        let syn::Type::Path(tp) = &*item.ty else { return };
        let Some(last) = tp.path.segments.last() else { return };
        let syn::PathArguments::AngleBracketed(args) = &last.arguments else { return };
        let Resolved::Def(id) = self.symbols.resolve_path(&module, &tp.path) else { return };
        let crate::symbols::DefKind::Struct(target) = self.symbols.def(id).kind else { return };
        let given: Vec<&syn::Type> = args
            .args
            .iter()
            .filter_map(|a| match a {
                syn::GenericArgument::Type(t) => Some(t),
                _ => None,
            })
            .collect();
        for (param, ty) in target.generics.type_params().zip(given) {
            for field in &target.fields {
                let typed_by = matches!(&field.ty, syn::Type::Path(p) if p.path.is_ident(&param.ident));
                if typed_by {
                    self.note(field.ident.as_ref().map(ToString::to_string), ty);
                }
            }
        }
    }
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

/// Which guards one body takes, and (for [`Guards::watching_blocking_calls`]) which of
/// its calls block.
pub struct Guards<'p> {
    /// Calls that are awaited (`m.lock().await`, `sleep(d).await`), by [`awaited_key`].
    awaited: HashSet<AwaitedKey>,
    places: &'p LockPlaces,
    /// Locals whose acquisitions give no blocking guard: taken from an async-aware
    /// lock's place (`let store = STORE.get_or_init(..)`), or built as a package type
    /// with its own `read()` (`let rcu = Rcu::new(1)`).
    unguarded_locals: HashSet<String>,
    /// Locals bound to a declared lock (`let m = self.m.clone()`).
    lock_locals: HashSet<String>,
    /// Locals bound to what a call returned, naming no lock: their `read()`/`write()`
    /// (names that also mean I/O) are not taken as a lock's.
    opaque_locals: HashSet<String>,
    /// Locals bound to a lock around `()` made where they are bound: held to order work.
    unit_locals: HashSet<String>,
    /// The shown path of the body's file, whose own declarations come first.
    file: String,
    /// The type `self` is in the body (a method's impl): its own fields come before all.
    self_type: Option<String>,
    /// Follow guards of ordering locks too (`Mutex<()>`, `Mutex<File>`: held to order work).
    ordering_locks: bool,
    blocking_calls: bool,
    /// Locals and parameters that are open files (`let f = File::open(p)?`, `f: &mut File`).
    files: HashMap<String, &'static str>,
    /// The `use` declarations in the body's scope, which name blocking functions too.
    imports: Option<&'p vocab::ImportScopes<'p>>,
}

impl<'p> Guards<'p> {
    /// Guards of blocking locks (not async-aware ones), `Mutex<()>` included.
    pub fn of(body: &syn::Block, places: &'p LockPlaces) -> Self {
        let mut awaited = Awaited(HashSet::new());
        awaited.visit_block(body);
        let mut locals = Locals {
            places,
            found: HashSet::new(),
            locks: HashSet::new(),
            opaque: HashSet::new(),
            unit: HashSet::new(),
            initializing: Vec::new(),
        };
        locals.visit_block(body);
        Guards {
            awaited: awaited.0,
            places,
            unguarded_locals: locals.found,
            lock_locals: locals.locks,
            opaque_locals: locals.opaque,
            unit_locals: locals.unit,
            file: String::new(),
            self_type: None,
            ordering_locks: true,
            blocking_calls: false,
            files: HashMap::new(),
            imports: None,
        }
    }

    /// Read called paths through these imports (`slurp` for `std::fs::read_to_string`).
    pub fn with_imports(mut self, imports: Option<&'p vocab::ImportScopes<'p>>) -> Self {
        self.imports = imports;
        self
    }

    /// Prefer the locks declared in the body's own file (by its shown path).
    pub fn in_file(mut self, display: &str) -> Self {
        display.clone_into(&mut self.file);
        self
    }

    /// Read `self.field` as the field the body's impl type declares, first.
    pub fn in_impl_of(mut self, self_type: Option<&str>) -> Self {
        self.self_type = self_type.map(ToOwned::to_owned);
        self
    }

    /// Also report blocking calls (reads and writes on the files among `sig`'s
    /// parameters and the body's locals included), and leave out guards of ordering
    /// locks (`Mutex<()>`, `Mutex<File>`).
    pub fn watching_blocking_calls(mut self, sig: &syn::Signature, body: &syn::Block) -> Self {
        self.blocking_calls = true;
        self.ordering_locks = false;
        let mut files = Files(HashMap::new());
        for input in &sig.inputs {
            if let syn::FnArg::Typed(pt) = input {
                if let (syn::Pat::Ident(name), true) = (&*pt.pat, is_file_type(&pt.ty)) {
                    files.0.insert(name.ident.to_string(), "File");
                }
            }
        }
        files.visit_block(body);
        self.files = files.0;
        self
    }

    fn awaited(&self, expr: &syn::Expr) -> bool {
        self.awaited.contains(&awaited_key(expr))
    }
}

/// `File`, `&mut File`, `BufReader<File>`, `BufWriter<File>`, by the last segments.
pub fn is_file_type(ty: &syn::Type) -> bool {
    let text = quote::ToTokens::to_token_stream(ty).to_string();
    text.split(|c: char| !(c.is_alphanumeric() || c == '_')).any(|w| w == "File")
}

/// Locals bound to a file or socket just opened (`File::open(p)?`,
/// `OpenOptions::new()….open(p)?`, `BufReader::new(File::open(p)?)`, `UdpSocket::bind(a)?`),
/// and which kind.
struct Files(HashMap<String, &'static str>);

impl Visit<'_> for Files {
    fn visit_local(&mut self, local: &syn::Local) {
        if let (Some(init), syn::Pat::Ident(p)) = (&local.init, strip_type(&local.pat)) {
            // `let child = cmd.spawn()?` of a command made earlier is a child to wait on.
            let spawned = || {
                let mut e = &*init.expr;
                while let syn::Expr::Try(t) = e {
                    e = &t.expr;
                }
                while let syn::Expr::MethodCall(m) = e {
                    if m.method == "spawn" {
                        let root = crate::flow::sharing::root_ident(&m.receiver);
                        return root.and_then(|r| self.0.get(&r)).filter(|k| **k == "Command").map(|_| "Child");
                    }
                    if !vocab::hands_on_ownership(&m.method.to_string()) {
                        return None;
                    }
                    e = &m.receiver;
                }
                None
            };
            if let Some(kind) = vocab::opens_io_handle(&init.expr).or_else(spawned) {
                self.0.insert(p.ident.to_string(), kind);
            }
        }
        syn::visit::visit_local(self, local);
    }
}

/// Where an expression starts and, for a call, where its argument list closes: a chain
/// `m.lock().send()` starts where `m.lock()` does, but only the whole chain is awaited in
/// `m.lock().send().await`.
fn awaited_key(expr: &syn::Expr) -> AwaitedKey {
    let start = super::leftmost(expr);
    let close = match expr {
        syn::Expr::MethodCall(m) => Some(m.paren_token.span.close()),
        syn::Expr::Call(c) => Some(c.paren_token.span.close()),
        _ => None,
    }
    .map(|span| {
        let at = span.start();
        (at.line, at.column)
    });
    (start.line, start.column, close)
}

/// A line and column where an expression starts; those of its closing parenthesis.
type AwaitedKey = (usize, usize, Option<(usize, usize)>);

struct Awaited(HashSet<AwaitedKey>);

impl Visit<'_> for Awaited {
    fn visit_expr_await(&mut self, a: &syn::ExprAwait) {
        // `{ let g = pin(); map.get(k).write_owned() }.await`: the block's value is awaited.
        for base in [&*a.base, block_value(&a.base)] {
            self.0.insert(awaited_key(base));
        }
        syn::visit::visit_expr_await(self, a);
    }
    // `assert_eq!(m.lock().await.len(), 1)`: the engine reads macro arguments too. A
    // `select!` awaits its branches' futures (`g = state.lock() => ..`).
    fn visit_macro(&mut self, mac: &syn::Macro) {
        for branch in crate::parse::select_branches(mac).unwrap_or_default() {
            self.0.extend(branch.future.as_ref().map(awaited_key));
        }
        for arg in &crate::parse::macro_args(mac) {
            self.visit_expr(arg);
        }
    }
}

/// Does `expr` mention a lock type, a declared lock or a `clone` (of one, maybe)? Closures
/// and blocks inside it are not read: their own `let`s are judged on their own, so every
/// word of a body is read once however deep its `let`s nest.
fn names_lock(expr: &syn::Expr, lock_names: &HashSet<String>) -> bool {
    struct Words<'n> {
        lock_names: &'n HashSet<String>,
        found: bool,
    }
    impl Visit<'_> for Words<'_> {
        fn visit_ident(&mut self, i: &proc_macro2::Ident) {
            let word = i.to_string();
            self.found |=
                known::LOCK_TYPES.contains(&word.as_str()) || word == "clone" || self.lock_names.contains(&word);
        }
        fn visit_expr_closure(&mut self, _: &syn::ExprClosure) {}
        fn visit_expr_block(&mut self, _: &syn::ExprBlock) {}
        fn visit_expr_async(&mut self, _: &syn::ExprAsync) {}
    }
    let mut words = Words { lock_names, found: false };
    words.visit_expr(expr);
    words.found
}

struct Locals<'p> {
    places: &'p LockPlaces,
    found: HashSet<String>,
    locks: HashSet<String>,
    opaque: HashSet<String>,
    /// Locals bound to a lock around `()` made in their initializer (a per-key lock,
    /// `map.entry(dir).or_insert_with(|| Arc::new(Mutex::new(()))).clone()`).
    unit: HashSet<String>,
    /// The locals whose initializers are being walked, innermost last.
    initializing: Vec<String>,
}

impl Locals<'_> {
    /// Is `expr` a call (awaited, `?`-ed or not) of a package function declared to
    /// return only async-aware locks?
    fn made_by_async_lock_maker(&self, expr: &syn::Expr) -> bool {
        if self.places.async_lock_makers.is_empty() {
            return false;
        }
        let name = match expr {
            syn::Expr::Await(a) => return self.made_by_async_lock_maker(&a.base),
            syn::Expr::Try(t) => return self.made_by_async_lock_maker(&t.expr),
            syn::Expr::Paren(p) => return self.made_by_async_lock_maker(&p.expr),
            syn::Expr::MethodCall(m) => m.method.to_string(),
            syn::Expr::Call(c) => match crate::flow::sharing::last_segment(&c.func) {
                Some(name) => name,
                None => return false,
            },
            _ => return false,
        };
        self.places.async_lock_makers.contains(&name)
    }
}

/// Is `c` a call making a lock around `()` (`Mutex::new(())`)?
fn makes_unit_lock(c: &syn::ExprCall) -> bool {
    let unit_arg = c.args.len() == 1 && matches!(c.args.first(), Some(syn::Expr::Tuple(t)) if t.elems.is_empty());
    unit_arg
        && matches!(&*c.func, syn::Expr::Path(p) if {
            let mut rev = p.path.segments.iter().rev();
            matches!((rev.next(), rev.next()), (Some(new), Some(ty)) if new.ident == "new" && known::LOCK_TYPES.iter().any(|l| ty.ident == l))
        })
}

impl Visit<'_> for Locals<'_> {
    fn visit_local(&mut self, local: &syn::Local) {
        // `let guard = { let d = details.lock().await; d.restart_guard.clone() };`: the
        // block's value.
        let from = local.init.as_ref().and_then(|i| receiver_name(block_value(&i.expr)));
        // `let rcu = Rcu::new(1)`: a package type whose `read()` is its own.
        let built_own = local.init.as_ref().is_some_and(|i| match &*i.expr {
            syn::Expr::Call(c) => match &*c.func {
                syn::Expr::Path(f) => {
                    let segments = &f.path.segments;
                    segments.len() >= 2
                        && self.places.own_guard_types.contains(&segments[segments.len() - 2].ident.to_string())
                }
                _ => false,
            },
            _ => false,
        });
        // `let stats = allocated::mib()?`: a value some function made, of a type the
        // lint cannot see, that names no lock. Its `read()` is more likely a read.
        let opaque = local.init.as_ref().is_some_and(|i| {
            matches!(&*i.expr, syn::Expr::Call(_) | syn::Expr::MethodCall(_) | syn::Expr::Try(_))
                && !names_lock(&i.expr, &self.places.lock_names)
        });
        let from_async = from.as_ref().is_some_and(|n| self.places.async_names.contains(n) || self.found.contains(n));
        // `let lock = infos.remove(&path).await;` then `let Some(lock) = lock else { .. }`:
        // what a package function declared to return async-aware locks made, whatever
        // the pattern takes out of it.
        let made_async = local.init.as_ref().is_some_and(|i| self.made_by_async_lock_maker(block_value(&i.expr)));
        if made_async || (from_async && !matches!(&local.pat, syn::Pat::Ident(_))) {
            let mut names = Vec::new();
            crate::flow::collect_names(&local.pat, &mut names);
            self.found.extend(names);
        }
        if let syn::Pat::Ident(p) = &local.pat {
            let name = p.ident.to_string();
            if opaque {
                self.opaque.insert(name.clone());
            }
            if from_async || built_own {
                self.found.insert(name);
            } else if from.as_ref().is_some_and(|n| self.places.lock_names.contains(n) || self.locks.contains(n)) {
                // `let m = self.m.clone()`: still the declared lock.
                self.locks.insert(name);
            }
        }
        let named = matches!(&local.pat, syn::Pat::Ident(_));
        if let syn::Pat::Ident(p) = &local.pat {
            self.initializing.push(p.ident.to_string());
        }
        syn::visit::visit_local(self, local);
        if named {
            self.initializing.pop();
        }
    }

    fn visit_expr_call(&mut self, c: &syn::ExprCall) {
        if !self.initializing.is_empty() && makes_unit_lock(c) {
            self.unit.extend(self.initializing.iter().cloned());
        }
        syn::visit::visit_expr_call(self, c);
    }
}

impl Tracker for Guards<'_> {
    fn guards_closures(&self, expr: &syn::Expr) -> Option<String> {
        if self.places.scoped_helpers.is_empty() {
            return None;
        }
        let (name, args, receiver) = match expr {
            syn::Expr::MethodCall(m) => (m.method.to_string(), &m.args, Some(&*m.receiver)),
            syn::Expr::Call(c) => (crate::flow::sharing::last_segment(&c.func)?, &c.args, None),
            _ => return None,
        };
        // Only a closure written at the call runs under the guard here; and a method is
        // called as one (`with(file)` may be a local closure of that name).
        let helper = self.places.scoped_helpers.get(&name).filter(|h| {
            h.args == args.len()
                && h.method == receiver.is_some()
                && args.iter().any(|a| matches!(a, syn::Expr::Closure(_)))
        })?;
        let shown = match (&helper.lock, receiver) {
            (ScopedLock::Field(field), Some(receiver)) => {
                let is = |set: &HashSet<String>| set.contains(field);
                let ordering = is(&self.places.ordering_names) && !self.ordering_locks;
                if is(&self.places.async_names) || is(&self.places.not_locks) || ordering {
                    return None;
                }
                let receiver = display_type(receiver).replace(" . ", ".").replace(". ", ".").replace(" (", "(");
                format!("{receiver}.{field}")
            }
            (ScopedLock::Static(name), _) => name.clone(),
            (ScopedLock::Field(_), None) => return None,
        };
        Some(format!("guard of `{shown}`"))
    }

    fn makes(&self, expr: &syn::Expr) -> Option<String> {
        if let Some(helper) = self.helper_guard(expr) {
            return helper;
        }
        let syn::Expr::MethodCall(m) = expr else { return None };
        let method = m.method.to_string();
        vocab::acquire(&method, m.args.len())?;
        // tokio's `blocking_lock` gives an async-aware guard.
        if method.starts_with("blocking_") || self.awaited(expr) {
            return None;
        }
        let name = receiver_name(&m.receiver);
        // `file.try_lock()` is the OS's advisory lock on a file: no guard. A standard
        // stream's lock (`io::stdout().lock()`) orders output, like printing does.
        let root = crate::flow::sharing::root_ident(&m.receiver);
        let on_file = root.as_ref().is_some_and(|r| self.files.contains_key(r));
        let stream = |text: &str| ["stdout", "stderr", "stdin"].contains(&text);
        let on_stream = root.as_deref().is_some_and(stream)
            || matches!(&*m.receiver, syn::Expr::Call(c) if crate::flow::sharing::last_segment(&c.func).as_deref().is_some_and(stream));
        if on_file || on_stream {
            return None;
        }
        let is = |set: &HashSet<String>| name.as_ref().is_some_and(|n| set.contains(n));
        // A field of `self` its impl's type declares is that one; then a lock the body's own
        // file declares, whatever other files declare.
        let file_locks = self.places.in_file.get(&self.file);
        let own_field = match (&*m.receiver, &self.self_type) {
            (syn::Expr::Field(f), Some(owner)) if matches!(&*f.base, syn::Expr::Path(p) if p.path.is_ident("self")) => {
                match &f.member {
                    syn::Member::Named(field) => {
                        self.places.in_type.get(owner).and_then(|fields| fields.get(&field.to_string()))
                    }
                    syn::Member::Unnamed(_) => None,
                }
            }
            _ => None,
        };
        let here = own_field.or_else(|| name.as_ref().and_then(|n| file_locks.and_then(|names| names.get(n))));
        // A receiver declared nowhere the lint sees (`Arc::get_mut(&mut self.0)` bound to a
        // local), in a file that declares only async-aware locks, is one of those.
        let declared_nowhere = || !is(&self.places.lock_names) && !is(&self.lock_locals);
        let only_async_here = || {
            let declared = file_locks.map(|names| names.values().map(|l| l.asynchronous).collect::<Vec<_>>());
            let imported = known::LOCK_TYPES
                .iter()
                .filter(|ty| self.imports.is_some_and(|i| i.contains_key(ty)))
                .map(|ty| known::is_async_lock(&vocab::expand_path(vec![(*ty).to_owned()], self.imports)));
            let kinds: Vec<bool> = declared.unwrap_or_default().into_iter().chain(imported).collect();
            !kinds.is_empty() && kinds.iter().all(|&asynchronous| asynchronous)
        };
        let asynchronous = here.map_or_else(
            || is(&self.places.async_names) || (declared_nowhere() && only_async_here()),
            |l| l.asynchronous,
        );
        let ordering = here.map_or_else(|| is(&self.places.ordering_names), |l| l.ordering) || is(&self.unit_locals);
        // `read()`/`write()` also name I/O: on a local some call returned naming no lock, or
        // on what a macro makes (`cmd!(..).stderr_capture().read()`, a command's output),
        // they are not a lock's.
        let io_named = matches!(method.as_str(), "read" | "write" | "try_read" | "try_write");
        let excluded = asynchronous
            || is(&self.unguarded_locals)
            || (io_named
                && matches!(&*m.receiver, syn::Expr::Path(p) if p.path.get_ident().is_some_and(|i| self.opaque_locals.contains(&i.to_string()))))
            || (io_named && matches!(vocab::chain_start(&m.receiver), syn::Expr::Macro(_)))
            // `object::write::Object::new(..).write()`: what another crate's function (or a
            // package one returning no lock) made, naming no lock, writes itself out.
            || (io_named
                && matches!(&*m.receiver, syn::Expr::Call(c) if !names_lock(&m.receiver, &self.places.lock_names)
                    && crate::flow::sharing::last_segment(&c.func).map_or(true, |f| !self.places.lock_makers.contains(&f))))
            || (self.places.own_acquire_methods.contains(&method)
                && !is(&self.places.lock_names)
                && !is(&self.lock_locals))
            || is(&self.places.not_locks)
            || (!self.ordering_locks && ordering);
        if excluded {
            return None;
        }
        let receiver = display_type(&m.receiver).replace(" . ", ".").replace(". ", ".").replace(" (", "(");
        Some(format!("guard of `{receiver}`"))
    }

    fn watches(&self, expr: &syn::Expr) -> Option<String> {
        if !self.blocking_calls || self.awaited(expr) {
            return None;
        }
        if let syn::Expr::MethodCall(m) = expr {
            // A read or write on another file or socket (not the guarded value: the engine
            // leaves work on that out).
            let kind = crate::flow::sharing::root_ident(&m.receiver).and_then(|r| self.files.get(&r).copied());
            let method = m.method.to_string();
            if let Some(kind) = kind.filter(|kind| vocab::waits_on_handle(kind, &method)) {
                return Some(vocab::handle_call_name(kind, &method));
            }
        }
        match expr {
            syn::Expr::Call(call) => {
                vocab::blocking_function_in(call, self.imports).or_else(|| self.copies_from_handle(call))
            }
            _ => vocab::blocking_call(expr),
        }
    }
}

impl Guards<'_> {
    /// A call of a package function that hands out a guard (`self.state()`,
    /// `config()`): `Some(None)` for one whose lock orders work, when those are left out.
    fn helper_guard(&self, expr: &syn::Expr) -> Option<Option<String>> {
        if self.places.guard_helpers.is_empty() {
            return None;
        }
        let (name, args) = match expr {
            syn::Expr::MethodCall(m) => (m.method.to_string(), m.args.len()),
            syn::Expr::Call(c) => {
                let syn::Expr::Path(p) = &*c.func else { return None };
                (p.path.segments.last()?.ident.to_string(), c.args.len())
            }
            _ => return None,
        };
        let by_method = matches!(expr, syn::Expr::MethodCall(_));
        let helper = self.places.guard_helpers.get(&name).filter(|h| h.args == args && !(by_method && h.by_path))?;
        if self.awaited(expr) {
            return None;
        }
        let shown = match expr {
            syn::Expr::MethodCall(m) => {
                let receiver = display_type(&m.receiver).replace(" . ", ".").replace(". ", ".").replace(" (", "(");
                format!("{receiver}.{name}()")
            }
            _ => format!("{name}()"),
        };
        Some((self.ordering_locks || !helper.ordering).then(|| format!("guard of `{shown}`")))
    }

    /// `io::copy(&mut source, &mut sink)` from an open file, socket or inflater: the
    /// copy does its reads.
    fn copies_from_handle(&self, call: &syn::ExprCall) -> Option<String> {
        let syn::Expr::Path(func) = &*call.func else { return None };
        let written: Vec<String> = func.path.segments.iter().map(|s| s.ident.to_string()).collect();
        let path = vocab::expand_path(written, self.imports);
        if !matches!(path.as_slice(), [.., io, copy] if io == "io" && copy == "copy") {
            return None;
        }
        let mut source = call.args.first()?;
        while let syn::Expr::Reference(r) = source {
            source = &r.expr;
        }
        let opened = || crate::flow::sharing::root_ident(source).and_then(|r| self.files.get(&r).copied());
        vocab::opens_io_handle(source).or_else(opened).map(|_| "std::io::copy".to_string())
    }
}

/// The name a guard's lock is reached from: `CKB_HANDLES` in `guard of \`CKB_HANDLES\``,
/// `self` in `guard of \`self.state\``, `seen` in `guard of \`seen\``.
pub fn lock_root(what: &str) -> &str {
    let receiver = what.split('`').nth(1).unwrap_or_default();
    let head = receiver.split(['.', '(']).next().unwrap_or_default();
    head.rsplit("::").next().unwrap_or_default()
}

/// The field of `self` a guard's lock is (`guard of \`self.cache\`` gives `cache`), when
/// it is one directly.
pub fn self_field(what: &str) -> Option<&str> {
    let receiver = what.split('`').nth(1)?;
    let field = receiver.strip_prefix("self.")?;
    field.chars().all(|c| c.is_alphanumeric() || c == '_').then_some(field)
}

/// Is a guard's lock a static (`guard of \`CKB_HANDLES\``, `guard of \`crate::REGISTRY\``)?
/// Statics are named in `SHOUTING_CASE`, which rustc's `non_upper_case_globals` asks for.
pub fn on_static(what: &str) -> bool {
    let name = lock_root(what);
    name.chars().any(|c| c.is_ascii_uppercase())
        && name.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// Locks a body makes for itself (`let seen = RwLock::new(..)`, or in a new `Arc` it never
/// clones) in a function, closure or async block that starts no thread (no spawn, scope
/// or parallel iterator): no other thread can take them, and the futures that borrow
/// them run only when this code polls them, never while it blocks. A clone of the `Arc`
/// goes somewhere (a callback, another task), so such a lock is shared.
pub fn unshared_local_locks(body: &syn::Block) -> HashSet<String> {
    #[derive(Default)]
    struct Scan {
        locks: HashSet<String>,
        cloned: HashSet<String>,
        threads: bool,
    }
    impl Visit<'_> for Scan {
        fn visit_local(&mut self, local: &syn::Local) {
            let made = local.init.as_ref().is_some_and(|init| makes_lock(&init.expr));
            if let (true, syn::Pat::Ident(p)) = (made, strip_type(&local.pat)) {
                self.locks.insert(p.ident.to_string());
            }
            syn::visit::visit_local(self, local);
        }
        fn visit_expr_method_call(&mut self, m: &syn::ExprMethodCall) {
            self.threads |= vocab::starts_threads(&m.method.to_string());
            if m.method == "clone" {
                self.cloned.extend(named(&m.receiver));
            }
            syn::visit::visit_expr_method_call(self, m);
        }
        fn visit_expr_call(&mut self, c: &syn::ExprCall) {
            let callee = crate::flow::sharing::last_segment(&c.func);
            self.threads |= callee.as_deref().is_some_and(vocab::calls_start_threads);
            // `Arc::clone(&lock)`.
            if callee.as_deref() == Some("clone") {
                self.cloned.extend(c.args.first().and_then(named));
            }
            syn::visit::visit_expr_call(self, c);
        }
        fn visit_macro(&mut self, mac: &syn::Macro) {
            for arg in &crate::parse::macro_args(mac) {
                self.visit_expr(arg);
            }
        }
    }
    /// `lock` or `&lock`: the handle itself (not `lock.lock().clone()`, its value).
    fn named(expr: &syn::Expr) -> Option<String> {
        match expr {
            syn::Expr::Path(p) => p.path.get_ident().map(ToString::to_string),
            syn::Expr::Reference(r) => named(&r.expr),
            _ => None,
        }
    }
    /// `Mutex::new(..)`, `RwLock::default()`, or one in a new `Arc`/`Rc`
    /// (`Arc::new_cyclic(|_| Mutex::new(..))`).
    fn makes_lock(expr: &syn::Expr) -> bool {
        let syn::Expr::Call(c) = expr else { return false };
        let syn::Expr::Path(p) = &*c.func else { return false };
        let names: Vec<String> = p.path.segments.iter().map(|s| s.ident.to_string()).collect();
        match names.as_slice() {
            [.., ty, ctor] if known::LOCK_TYPES.contains(&ty.as_str()) => ctor == "new" || ctor == "default",
            [.., ty, ctor] if (ty == "Arc" || ty == "Rc") && ctor.starts_with("new") => c.args.iter().any(|arg| {
                let arg = match arg {
                    syn::Expr::Closure(closure) => &*closure.body,
                    other => other,
                };
                makes_lock(block_value(arg))
            }),
            _ => false,
        }
    }
    /// Each function, closure and async block, outermost first.
    struct Bodies<'b>(Vec<&'b syn::Block>, Vec<&'b syn::Expr>);
    impl<'b> Visit<'b> for Bodies<'b> {
        fn visit_expr_closure(&mut self, c: &'b syn::ExprClosure) {
            self.1.push(&c.body);
            syn::visit::visit_expr_closure(self, c);
        }
        fn visit_expr_async(&mut self, a: &'b syn::ExprAsync) {
            self.0.push(&a.block);
            syn::visit::visit_expr_async(self, a);
        }
    }
    let mut bodies = Bodies(vec![body], Vec::new());
    bodies.visit_block(body);
    let mut unshared = HashSet::new();
    let scans = bodies.0.iter().map(|b| {
        let mut scan = Scan::default();
        scan.visit_block(b);
        scan
    });
    let closure_scans = bodies.1.iter().map(|e| {
        let mut scan = Scan::default();
        scan.visit_expr(e);
        scan
    });
    for scan in scans.chain(closure_scans).filter(|scan| !scan.threads) {
        unshared.extend(scan.locks.into_iter().filter(|lock| !scan.cloned.contains(lock)));
    }
    unshared
}

/// The name a lock is reached by: `state` in `self.state.lock()`, `m` in `m.lock()`,
/// `STORE` in `STORE.get_or_init(..)`.
/// Where `body` installs a panic hook (`std::panic::set_hook(Box::new(|info| ..))`): the
/// closures there run only while a thread panics, on its way down.
pub fn panic_hooks(body: &syn::Block) -> Vec<crate::source::Region> {
    struct Hooks(Vec<crate::source::Region>, bool);
    impl Visit<'_> for Hooks {
        fn visit_expr_call(&mut self, c: &syn::ExprCall) {
            let hook = matches!(&*c.func, syn::Expr::Path(p) if {
                let mut rev = p.path.segments.iter().rev();
                matches!((rev.next(), rev.next()), (Some(f), Some(m)) if f.ident == "set_hook" && m.ident == "panic")
            });
            let inside = self.1 || hook;
            let outer = std::mem::replace(&mut self.1, inside);
            syn::visit::visit_expr_call(self, c);
            self.1 = outer;
        }
        fn visit_expr_closure(&mut self, c: &syn::ExprClosure) {
            if self.1 {
                self.0.push(crate::source::Region::of(syn::spanned::Spanned::span(c)));
                return;
            }
            syn::visit::visit_expr_closure(self, c);
        }
    }
    let mut hooks = Hooks(Vec::new(), false);
    hooks.visit_block(body);
    hooks.0
}

/// [`ScopedHelper`] of a function, if it is one: a parameter that is a closure (`f: F`
/// with `F: FnOnce(..)`, `impl FnMut(..)`, `&dyn Fn(..)`, `Box<dyn Fn(..)>`), called in
/// the body with a guard of `self.<field>` or of a static.
fn scoped_helper(sig: &syn::Signature, body: &syn::Block) -> Option<ScopedHelper> {
    let closure_generics: HashSet<String> = sig
        .generics
        .params
        .iter()
        .filter_map(|p| match p {
            syn::GenericParam::Type(t) if t.bounds.iter().any(is_fn_bound) => Some(t.ident.to_string()),
            _ => None,
        })
        .chain(sig.generics.where_clause.iter().flat_map(|w| &w.predicates).filter_map(|p| match p {
            syn::WherePredicate::Type(t) if t.bounds.iter().any(is_fn_bound) => {
                quote::ToTokens::to_token_stream(&t.bounded_ty).to_string().into()
            }
            _ => None,
        }))
        .collect();
    let typed: Vec<&syn::PatType> = sig
        .inputs
        .iter()
        .filter_map(|i| match i {
            syn::FnArg::Typed(t) => Some(t),
            syn::FnArg::Receiver(_) => None,
        })
        .collect();
    let name = typed.iter().find_map(|t| {
        let syn::Pat::Ident(name) = &*t.pat else { return None };
        is_closure_type(&t.ty, &closure_generics).then(|| name.ident.to_string())
    })?;
    let lock = closure_called_under_guard(body, &name)?;
    Some(ScopedHelper { args: typed.len(), method: sig.receiver().is_some(), lock })
}

fn is_fn_bound(bound: &syn::TypeParamBound) -> bool {
    matches!(bound, syn::TypeParamBound::Trait(t) if t.path.segments.last().is_some_and(|s| ["Fn", "FnMut", "FnOnce"].iter().any(|f| s.ident == f)))
}

fn is_closure_type(ty: &syn::Type, closure_generics: &HashSet<String>) -> bool {
    match ty {
        syn::Type::ImplTrait(t) => t.bounds.iter().any(is_fn_bound),
        syn::Type::TraitObject(t) => t.bounds.iter().any(is_fn_bound),
        syn::Type::Reference(r) => is_closure_type(&r.elem, closure_generics),
        syn::Type::Paren(p) => is_closure_type(&p.elem, closure_generics),
        syn::Type::Path(p) => {
            let Some(last) = p.path.segments.last() else { return false };
            if p.path.segments.len() == 1 && last.arguments.is_empty() {
                return closure_generics.contains(&last.ident.to_string());
            }
            // `Box<dyn FnOnce(..)>`
            let syn::PathArguments::AngleBracketed(a) = &last.arguments else { return false };
            last.ident == "Box"
                && a.args
                    .iter()
                    .any(|g| matches!(g, syn::GenericArgument::Type(t) if is_closure_type(t, closure_generics)))
        }
        _ => false,
    }
}

/// The lock whose guard `body` hands to a call of the closure `name`
/// (`name(&self.peers.read())`, or `let g = PEERS.lock().unwrap(); name(&mut g)`).
fn closure_called_under_guard(body: &syn::Block, name: &str) -> Option<ScopedLock> {
    struct Find<'n> {
        name: &'n str,
        /// Locals bound to a guard, and its lock.
        guards: HashMap<String, ScopedLock>,
        found: Option<ScopedLock>,
    }
    impl Visit<'_> for Find<'_> {
        fn visit_local(&mut self, local: &syn::Local) {
            if let (syn::Pat::Ident(p), Some(init)) = (crate::flow::strip_type(&local.pat), &local.init) {
                if let Some(lock) = guard_of(&init.expr) {
                    self.guards.insert(p.ident.to_string(), lock);
                }
            }
            syn::visit::visit_local(self, local);
        }
        fn visit_expr_call(&mut self, c: &syn::ExprCall) {
            let called = matches!(&*c.func, syn::Expr::Path(p) if p.path.is_ident(self.name));
            if called && self.found.is_none() {
                self.found = c.args.iter().find_map(|a| {
                    let inner = strip_borrows(a);
                    guard_of(inner).or_else(|| match inner {
                        syn::Expr::Path(p) => p.path.get_ident().and_then(|i| self.guards.get(&i.to_string()).cloned()),
                        _ => None,
                    })
                });
            }
            syn::visit::visit_expr_call(self, c);
        }
        fn visit_expr_closure(&mut self, _: &syn::ExprClosure) {}
    }
    let mut find = Find { name, guards: HashMap::new(), found: None };
    find.visit_block(body);
    find.found
}

/// `&mut *g`, `&g`, `(g)`: the expression under borrows and derefs.
fn strip_borrows(mut expr: &syn::Expr) -> &syn::Expr {
    loop {
        expr = match expr {
            syn::Expr::Reference(r) => &r.expr,
            syn::Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) => &u.expr,
            syn::Expr::Paren(p) => &p.expr,
            _ => return expr,
        };
    }
}

/// The lock `expr` takes a guard of: `self.peers.read()`, `PEERS.lock().unwrap()`.
fn guard_of(expr: &syn::Expr) -> Option<ScopedLock> {
    let syn::Expr::MethodCall(m) = expr else { return None };
    let method = m.method.to_string();
    if matches!(method.as_str(), "unwrap" | "expect") {
        return guard_of(&m.receiver);
    }
    vocab::acquire(&method, m.args.len())?;
    match &*m.receiver {
        syn::Expr::Field(f) if matches!(&*f.base, syn::Expr::Path(p) if p.path.is_ident("self")) => match &f.member {
            syn::Member::Named(n) => Some(ScopedLock::Field(n.to_string())),
            syn::Member::Unnamed(i) => Some(ScopedLock::Field(i.index.to_string())),
        },
        syn::Expr::Path(p) => {
            let last = p.path.segments.last()?.ident.to_string();
            on_static(&format!("guard of `{last}`")).then_some(ScopedLock::Static(last))
        }
        _ => None,
    }
}

pub fn receiver_name(expr: &syn::Expr) -> Option<String> {
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

#[cfg(test)]
mod tests {
    use super::{panic_hooks, scoped_helper, ScopedHelper, ScopedLock};

    fn helper(src: &str) -> Option<ScopedHelper> {
        let item: syn::ImplItemFn = syn::parse_str(src).expect("test function parses");
        scoped_helper(&item.sig, &item.block)
    }

    #[test]
    fn a_closure_parameter_called_with_a_guard_makes_a_scoped_helper() {
        let field = |args| Some(ScopedHelper { args, method: true, lock: ScopedLock::Field("peers".into()) });
        assert_eq!(helper("fn with<F: FnOnce(&P) -> T, T>(&self, f: F) -> T { f(&self.peers.read()) }"), field(1));
        assert_eq!(
            helper("fn with<F, T>(&self, f: F) -> T where F: FnMut(&P) -> T { f(&*self.peers.lock().unwrap()) }"),
            field(1)
        );
        assert_eq!(
            helper("fn with(&self, k: u8, f: &mut dyn FnMut(&mut P)) { let mut g = self.peers.write(); f(&mut g) }"),
            field(2)
        );
        assert_eq!(helper("fn with(&self, f: Box<dyn FnOnce(&P)>) { f(&self.peers.read()) }"), field(1));
        assert_eq!(
            helper("fn with(f: impl FnOnce(&mut P)) { let mut g = STATE.lock().unwrap(); f(&mut g) }"),
            Some(ScopedHelper { args: 1, method: false, lock: ScopedLock::Static("STATE".into()) })
        );
    }

    #[test]
    fn a_closure_called_without_a_guard_or_a_guard_without_a_closure_is_not_one() {
        assert_eq!(helper("fn with<F: FnOnce(&P)>(&self, f: F) { let p = self.peers.read().clone(); f(&p) }"), None);
        assert_eq!(helper("fn with(&self, p: P) { consume(&self.peers.read(), p) }"), None);
        // A guard of something other than a field of `self` or a static is not named.
        assert_eq!(helper("fn with<F: FnOnce(&P)>(&self, m: &Mutex<P>, f: F) { f(&m.lock().unwrap()) }"), None);
    }

    #[test]
    fn a_panic_hooks_closure_is_found_and_no_other() {
        let body: syn::Block = syn::parse_str(
            "{\n    std::panic::set_hook(Box::new(|info| {\n        flush();\n    }));\n    other(|x| x);\n}",
        )
        .expect("test body parses");
        let hooks = panic_hooks(&body);
        assert_eq!(hooks.len(), 1);
        assert_eq!((hooks[0].start.line, hooks[0].end.line), (2, 4));
    }
}
