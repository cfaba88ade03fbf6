//! Whether the thread a join waits for takes the lock whose guard the joiner holds. If
//! it does, the thread waits for the guard and the joiner waits for the thread: neither
//! goes on.
//!
//! Read from one file's syntax. For a lock that is a field of `self`, the file's impls of
//! the joining method's type are read; for a static, all of the file's functions; for a
//! local, the joining function, where its clones (`let child = conns.clone()`) are the
//! lock too. The functions that take the lock are those that acquire it directly, or
//! that call another function that does (matched by name, within those functions). A
//! thread counts when three things hold:
//! - it is started by one of those functions (`thread::spawn`, a `Builder`'s `spawn`);
//! - its closure takes the lock, on any clone of the value (`sp.0.read()`,
//!   `sp.active()`), not only in a thread it starts in turn;
//! - its handle is kept under that same lock (`self.0.write().unwrap().handle = Some(t)`),
//!   so a join of a handle taken out of the guarded value may be a join of that thread.

use crate::source::Position;
use crate::vocab;
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use syn::visit::Visit;

/// A lock named by a guard's description.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockKey<'w> {
    /// A field of `self` (`self.0`, `self.inner`).
    Field(&'w str),
    /// A static (`SERVICE`).
    Static(&'w str),
    /// A local of the joining function (`let connections = self.connections.clone()`),
    /// and its clones there.
    Local(&'w str),
}

impl<'w> LockKey<'w> {
    /// The lock of a guard described as `guard of \`self.0\``, `guard of \`SERVICE\`` or
    /// `guard of \`conns\``; none for a lock reached through a path (`self.a.b`).
    pub fn of(what: &'w str) -> Option<Self> {
        if let Some(field) = super::guards::self_field(what) {
            return Some(LockKey::Field(field));
        }
        if super::guards::on_static(what) {
            return Some(LockKey::Static(super::guards::lock_root(what)));
        }
        let receiver = what.split('`').nth(1)?;
        let plain = !receiver.is_empty() && receiver.chars().all(|c| c.is_alphanumeric() || c == '_');
        plain.then_some(LockKey::Local(receiver))
    }

    /// Is `receiver` this lock (`x.0` or `x.inner` for a field, on any value; `SERVICE`
    /// or `crate::SERVICE` for a static; the local's name)?
    fn is(&self, receiver: &syn::Expr) -> bool {
        match (self, receiver) {
            (LockKey::Field(name), syn::Expr::Field(f)) => match &f.member {
                syn::Member::Named(n) => n == name,
                syn::Member::Unnamed(i) => i.index.to_string() == *name,
            },
            (LockKey::Static(name), syn::Expr::Path(p)) => p.path.segments.last().is_some_and(|s| s.ident == name),
            (LockKey::Local(name), syn::Expr::Path(p)) => p.path.get_ident().is_some_and(|i| i == name),
            _ => false,
        }
    }
}

/// The threads of one file that take a lock, asked per join and remembered: a hostile
/// file may join under a guard thousands of times.
pub struct JoinedThreads<'f> {
    file: &'f syn::File,
    /// The type of the impl around each method, by where its name is.
    impl_of: HashMap<Position, String>,
    /// Answers so far, by where the lock's takers are looked for and the lock.
    answers: RefCell<HashMap<(Scope, String), bool>>,
}

/// Where the functions that may take a lock are.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Scope {
    /// The impls of this type, for a field of `self`.
    Impl(String),
    /// The whole file, for a static.
    File,
    /// The joining function, at this position, for one of its locals.
    Function(Position),
}

impl<'f> JoinedThreads<'f> {
    pub fn of(file: &'f syn::File) -> Self {
        struct Find {
            current: Option<String>,
            found: HashMap<Position, String>,
        }
        impl Visit<'_> for Find {
            fn visit_item_impl(&mut self, item: &syn::ItemImpl) {
                let outer = std::mem::replace(&mut self.current, super::guards::outer_type_name(&item.self_ty));
                syn::visit::visit_item_impl(self, item);
                self.current = outer;
            }
            fn visit_impl_item_fn(&mut self, item: &syn::ImplItemFn) {
                if let Some(ty) = &self.current {
                    self.found.insert(super::phases::position_of(&item.sig), ty.clone());
                }
                syn::visit::visit_impl_item_fn(self, item);
            }
        }
        let mut find = Find { current: None, found: HashMap::new() };
        find.visit_file(file);
        JoinedThreads { file, impl_of: find.found, answers: RefCell::new(HashMap::new()) }
    }

    /// Does a thread started in the file take `lock`, with its handle kept under `lock`?
    /// `joiner` and `body` are the function that joins (its closures included): its impl
    /// holds a field's lock, and it holds a local one.
    pub fn take(&self, joiner: &syn::Signature, body: &syn::Block, lock: LockKey<'_>) -> bool {
        let joiner_at = super::phases::position_of(joiner);
        let scope = match lock {
            LockKey::Field(_) => match self.impl_of.get(&joiner_at) {
                Some(ty) => Scope::Impl(ty.clone()),
                None => return false,
            },
            LockKey::Static(_) => Scope::File,
            LockKey::Local(_) => Scope::Function(joiner_at),
        };
        let key = (scope, format!("{lock:?}"));
        if let Some(&known) = self.answers.borrow().get(&key) {
            return known;
        }
        let functions = match &key.0 {
            Scope::Impl(ty) => impl_functions(self.file, ty),
            Scope::File => all_functions(self.file),
            Scope::Function(_) => vec![(joiner.ident.to_string(), body)],
        };
        let answer = thread_takes(&functions, lock);
        self.answers.borrow_mut().insert(key, answer);
        answer
    }
}

/// Does one of `functions` start a thread that takes `lock` and keep its handle under it?
fn thread_takes(functions: &[(String, &syn::Block)], lock: LockKey<'_>) -> bool {
    let takers = takers(functions, lock);
    functions.iter().any(|(_, body)| {
        let mut spawns = Spawns {
            lock,
            takers: &takers,
            kept: Vec::new(),
            taking: false,
            handles: Vec::new(),
            aliases: HashSet::new(),
        };
        spawns.visit_block(body);
        spawns.taking
            && (spawns.kept.iter().any(|&kept| kept)
                || spawns.handles.iter().any(|handle| keeps_under(body, lock, &spawns.aliases, handle)))
    })
}

/// The methods of every impl of `ty` in the file, by name.
fn impl_functions<'f>(file: &'f syn::File, ty: &str) -> Vec<(String, &'f syn::Block)> {
    struct Collect<'f, 't> {
        ty: &'t str,
        found: Vec<(String, &'f syn::Block)>,
    }
    impl<'f> Visit<'f> for Collect<'f, '_> {
        fn visit_item_impl(&mut self, item: &'f syn::ItemImpl) {
            if super::guards::outer_type_name(&item.self_ty).as_deref() == Some(self.ty) {
                for inner in &item.items {
                    if let syn::ImplItem::Fn(f) = inner {
                        self.found.push((f.sig.ident.to_string(), &f.block));
                    }
                }
            }
            syn::visit::visit_item_impl(self, item);
        }
    }
    let mut collect = Collect { ty, found: Vec::new() };
    collect.visit_file(file);
    collect.found
}

/// Every function and method of the file, by name.
fn all_functions(file: &syn::File) -> Vec<(String, &syn::Block)> {
    super::guards::bodies(file, false).into_iter().map(|b| (b.sig.ident.to_string(), b.block)).collect()
}

/// The names among `functions` that take `lock`, directly or by calling one that does.
fn takers(functions: &[(String, &syn::Block)], lock: LockKey<'_>) -> HashSet<String> {
    let mut takers: HashSet<String> = HashSet::new();
    // Who calls each name: a work list from the direct takers reaches each caller once,
    // however long a hostile chain of calls is.
    let mut callers: HashMap<String, Vec<&str>> = HashMap::new();
    for (name, body) in functions {
        let mut scan = Scan::new(lock, None, None);
        scan.visit_block(body);
        if scan.takes {
            takers.insert(name.clone());
        }
        for called in scan.called {
            callers.entry(called).or_default().push(name);
        }
    }
    let mut work: Vec<String> = takers.iter().cloned().collect();
    while let Some(name) = work.pop() {
        for &caller in callers.get(&name).into_iter().flatten() {
            if takers.insert(caller.to_owned()) {
                work.push(caller.to_owned());
            }
        }
    }
    takers
}

/// Whether a body acquires the lock, or calls one of `takers`; the names it calls.
struct Scan<'t, 'w> {
    lock: LockKey<'w>,
    /// Locals that are the lock too (`let inner = Arc::clone(&self.inner)`).
    aliases: Option<&'t HashSet<String>>,
    takers: Option<&'t HashSet<String>>,
    takes: bool,
    called: HashSet<String>,
    reach: Reach,
}

/// How far a scan reads into closures.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Reach {
    /// Closures that run on this thread, not those handed to a spawn (another thread's
    /// work).
    ThisThread,
    /// No closure: a statement's own acquisitions.
    NoClosures,
}

impl<'t, 'w> Scan<'t, 'w> {
    fn new(lock: LockKey<'w>, aliases: Option<&'t HashSet<String>>, takers: Option<&'t HashSet<String>>) -> Self {
        Scan { lock, aliases, takers, takes: false, called: HashSet::new(), reach: Reach::ThisThread }
    }

    fn is_alias(&self, receiver: &syn::Expr) -> bool {
        let syn::Expr::Path(p) = receiver else { return false };
        p.path.get_ident().is_some_and(|i| self.aliases.is_some_and(|a| a.contains(&i.to_string())))
    }
}

impl Visit<'_> for Scan<'_, '_> {
    fn visit_expr_method_call(&mut self, m: &syn::ExprMethodCall) {
        let method = m.method.to_string();
        if vocab::acquire(&method, m.args.len()).is_some() && (self.lock.is(&m.receiver) || self.is_alias(&m.receiver))
        {
            self.takes = true;
        }
        if self.takers.is_some_and(|t| t.contains(&method)) {
            self.takes = true;
        }
        // A thread started here runs its closure elsewhere.
        if vocab::SPAWNS.contains(&method.as_str()) {
            self.called.insert(method);
            return self.visit_expr(&m.receiver);
        }
        self.called.insert(method);
        syn::visit::visit_expr_method_call(self, m);
    }
    fn visit_expr_call(&mut self, c: &syn::ExprCall) {
        if let Some(name) = super::sharing::last_segment(&c.func) {
            if self.takers.is_some_and(|t| t.contains(&name)) {
                self.takes = true;
            }
            if vocab::SPAWNS.contains(&name.as_str()) {
                return;
            }
            self.called.insert(name);
        }
        syn::visit::visit_expr_call(self, c);
    }
    fn visit_expr_closure(&mut self, c: &syn::ExprClosure) {
        if self.reach == Reach::ThisThread {
            syn::visit::visit_expr_closure(self, c);
        }
    }
    fn visit_macro(&mut self, mac: &syn::Macro) {
        for arg in &crate::parse::macro_args(mac) {
            self.visit_expr(arg);
        }
    }
}

/// The threads a body starts whose closure takes the lock: whether the handle is kept
/// under the lock in the spawn's own statement, and the names handles are bound to.
struct Spawns<'t, 'w> {
    lock: LockKey<'w>,
    takers: &'t HashSet<String>,
    /// Per spawn whose closure takes the lock: is it made inside an expression that takes
    /// the lock (`self.0.lock().unwrap().worker = Some(thread::spawn(..))`)?
    kept: Vec<bool>,
    taking: bool,
    /// Names a spawn's handle is bound to (`let t = thread::spawn(..)`).
    handles: Vec<String>,
    /// Locals bound to a clone of the lock (`let inner = Arc::clone(&self.inner)`), or
    /// to a guard of it (`let mut service = SERVICE.lock().unwrap()`).
    aliases: HashSet<String>,
}

impl Spawns<'_, '_> {
    /// Does the closure among `args` take the lock?
    fn closure_takes<'a>(&self, args: impl Iterator<Item = &'a syn::Expr>) -> bool {
        args.filter_map(|a| match a {
            syn::Expr::Closure(c) => Some(&*c.body),
            _ => None,
        })
        .any(|body| {
            let mut scan = Scan::new(self.lock, Some(&self.aliases), Some(self.takers));
            scan.visit_expr(body);
            scan.takes
        })
    }

    /// A statement or expression that may hold spawns: note them.
    fn statement(&mut self, handle: Option<String>, expr: &syn::Expr) {
        let mut find = FindSpawns { spawns: self, found: 0 };
        find.visit_expr(expr);
        let found = find.found;
        if found > 0 {
            // The spawned closure's own acquisitions do not keep its handle.
            let mut scan = Scan::new(self.lock, Some(&self.aliases), None);
            scan.reach = Reach::NoClosures;
            scan.visit_expr(expr);
            self.kept.extend(std::iter::repeat(scan.takes).take(found));
            self.taking = true;
            self.handles.extend(handle);
        }
    }
}

impl Visit<'_> for Spawns<'_, '_> {
    fn visit_local(&mut self, local: &syn::Local) {
        if let Some(init) = &local.init {
            let name = match super::strip_type(&local.pat) {
                syn::Pat::Ident(p) => Some(p.ident.to_string()),
                _ => None,
            };
            let mut scan = Scan::new(self.lock, Some(&self.aliases), None);
            scan.reach = Reach::NoClosures;
            scan.visit_expr(&init.expr);
            let alias = scan.takes || is_clone_of(&init.expr, self.lock, &self.aliases);
            if alias {
                self.aliases.extend(name.clone());
            }
            self.statement(name, &init.expr);
        }
    }
    fn visit_stmt(&mut self, stmt: &syn::Stmt) {
        match stmt {
            syn::Stmt::Local(local) => self.visit_local(local),
            syn::Stmt::Expr(expr, _) => self.statement(None, expr),
            _ => {}
        }
    }
}

/// Spawns in an expression whose closure takes the lock, counted; blocks inside it are
/// statements of their own (their `let`s bind handles).
struct FindSpawns<'s, 't, 'w> {
    spawns: &'s mut Spawns<'t, 'w>,
    found: usize,
}

impl Visit<'_> for FindSpawns<'_, '_, '_> {
    fn visit_expr_call(&mut self, c: &syn::ExprCall) {
        let spawn = super::sharing::last_segment(&c.func).is_some_and(|n| vocab::SPAWNS.contains(&n.as_str()));
        if spawn && self.spawns.closure_takes(c.args.iter()) {
            self.found += 1;
        }
        syn::visit::visit_expr_call(self, c);
    }
    fn visit_expr_method_call(&mut self, m: &syn::ExprMethodCall) {
        let spawn = vocab::SPAWNS.contains(&m.method.to_string().as_str());
        if spawn && self.spawns.closure_takes(m.args.iter()) {
            self.found += 1;
        }
        syn::visit::visit_expr_method_call(self, m);
    }
    fn visit_block(&mut self, block: &syn::Block) {
        for stmt in &block.stmts {
            self.spawns.visit_stmt(stmt);
        }
    }
}

/// Is `expr` a clone of the lock or of one of its `aliases` (`self.inner.clone()`,
/// `Arc::clone(&inner)`)?
fn is_clone_of(expr: &syn::Expr, lock: LockKey<'_>, aliases: &HashSet<String>) -> bool {
    let is_lock = |e: &syn::Expr| {
        lock.is(e)
            || matches!(e, syn::Expr::Path(p) if p.path.get_ident().is_some_and(|i| aliases.contains(&i.to_string())))
    };
    match expr {
        syn::Expr::MethodCall(m) => m.method == "clone" && m.args.is_empty() && is_lock(&m.receiver),
        syn::Expr::Call(c) => {
            super::sharing::last_segment(&c.func).as_deref() == Some("clone")
                && matches!(c.args.first(), Some(syn::Expr::Reference(r)) if is_lock(&r.expr))
        }
        _ => false,
    }
}

/// Does some statement of `body` take `lock` (or name a guard of it) and name `handle`
/// (`guard.worker = Some(t)`)?
fn keeps_under(body: &syn::Block, lock: LockKey<'_>, guards: &HashSet<String>, handle: &str) -> bool {
    struct Keeps<'h, 'w> {
        lock: LockKey<'w>,
        guards: &'h HashSet<String>,
        handle: &'h str,
        found: bool,
    }
    impl Visit<'_> for Keeps<'_, '_> {
        fn visit_stmt(&mut self, stmt: &syn::Stmt) {
            if let syn::Stmt::Expr(expr, _) = stmt {
                let mut scan = Scan::new(self.lock, Some(self.guards), None);
                scan.visit_expr(expr);
                let through_guard = || self.guards.iter().any(|g| mentions(expr, g));
                if (scan.takes || through_guard()) && mentions(expr, self.handle) {
                    self.found = true;
                }
            }
            syn::visit::visit_stmt(self, stmt);
        }
    }
    let mut keeps = Keeps { lock, guards, handle, found: false };
    keeps.visit_block(body);
    keeps.found
}

/// Does `expr` use the local `name` as a value (not a field of that name, nor a closure
/// parameter that shadows it)?
fn mentions(expr: &syn::Expr, name: &str) -> bool {
    struct Mentions<'n> {
        name: &'n str,
        found: bool,
    }
    impl Visit<'_> for Mentions<'_> {
        fn visit_expr_path(&mut self, p: &syn::ExprPath) {
            self.found |= p.path.get_ident().is_some_and(|i| i == self.name);
        }
        fn visit_expr_closure(&mut self, c: &syn::ExprClosure) {
            let shadows = c.inputs.iter().any(|input| {
                let mut names = Vec::new();
                super::collect_names(input, &mut names);
                names.iter().any(|n| n == self.name)
            });
            if !shadows {
                syn::visit::visit_expr_closure(self, c);
            }
        }
        // `format!("{}", h)`, `vec![h]`: macro arguments are expressions too.
        fn visit_macro(&mut self, mac: &syn::Macro) {
            for arg in &crate::parse::macro_args(mac) {
                self.visit_expr(arg);
            }
        }
    }
    let mut m = Mentions { name, found: false };
    m.visit_expr(expr);
    m.found
}

#[cfg(test)]
mod tests {
    use super::{JoinedThreads, LockKey};

    /// Does the thread joined in `fn stop` of `src` take `lock`?
    fn takes(src: &str, lock: LockKey<'_>) -> bool {
        let file: syn::File = syn::parse_str(src).expect("test source parses");
        let stop = super::super::guards::bodies(&file, false)
            .into_iter()
            .find(|b| b.sig.ident == "stop")
            .map(|b| (b.sig.clone(), b.block))
            .expect("a fn stop");
        JoinedThreads::of(&file).take(&stop.0, stop.1, lock)
    }

    const THROUGH_A_METHOD: &str = "
        impl Svc {
            fn start(&self) {
                let me = self.clone();
                let t = std::thread::spawn(move || while me.on() {});
                self.0.lock().unwrap().handle = Some(t);
            }
            fn on(&self) -> bool { self.0.lock().unwrap().on }
        }
        impl Stop for Svc { fn stop(&self) {} }";

    #[test]
    fn a_thread_asking_a_method_that_takes_the_lock_takes_it() {
        assert!(takes(THROUGH_A_METHOD, LockKey::Field("0")));
        assert!(!takes(THROUGH_A_METHOD, LockKey::Field("1")));
    }

    #[test]
    fn a_handle_kept_elsewhere_is_not_that_thread() {
        let src = "
            impl Svc {
                fn start(&self) {
                    let inner = self.inner.clone();
                    let t = std::thread::spawn(move || inner.lock().unwrap().tick());
                    *self.handle.lock().unwrap() = Some(t);
                }
                fn stop(&self) {}
            }";
        assert!(!takes(src, LockKey::Field("inner")));
        assert!(!takes(src, LockKey::Field("handle")));
    }

    #[test]
    fn a_static_taken_through_a_free_function_and_a_guard_local() {
        let src = "
            fn on() -> bool { SERVICE.lock().unwrap().on }
            fn start() {
                let t = std::thread::spawn(|| while on() {});
                let mut service = SERVICE.lock().unwrap();
                service.thread = Some(t);
            }
            fn stop() {}";
        assert!(takes(src, LockKey::Static("SERVICE")));
        assert!(!takes(src, LockKey::Static("OTHER")));
    }

    #[test]
    fn a_local_lock_is_followed_through_its_clones_not_into_a_nested_threads_work() {
        let src = "
            fn stop(shared: Arc<Mutex<Map>>) {
                let conns = shared.clone();
                let child = conns.clone();
                let handler = std::thread::spawn(move || { child.lock().unwrap().remove(&1); });
                conns.lock().unwrap().insert(1, Conn { handler: Some(handler) });
            }";
        assert!(takes(src, LockKey::Local("conns")));
        // The outer thread only starts one that takes the lock; `handler` elsewhere is a
        // field and a closure's own parameter, not the outer thread's handle.
        let src = "
            fn stop(shared: Arc<Mutex<Map>>) {
                let reaped = shared.clone();
                let handler = std::thread::spawn(move || {
                    let again = reaped.clone();
                    std::thread::spawn(move || again.lock().unwrap().clear());
                });
                reaped.lock().unwrap().remove(&1).map(|cn| cn.handler.take().map(|handler| handler.join()));
            }";
        assert!(!takes(src, LockKey::Local("reaped")));
    }

    #[test]
    fn the_lock_of_a_guard_description() {
        assert_eq!(LockKey::of("guard of `self.0`"), Some(LockKey::Field("0")));
        assert_eq!(LockKey::of("guard of `crate::SERVICE`"), Some(LockKey::Static("SERVICE")));
        assert_eq!(LockKey::of("guard of `state`"), Some(LockKey::Local("state")));
        assert_eq!(LockKey::of("guard of `self.shared.inner`"), None);
    }
}
