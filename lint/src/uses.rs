//! What code does with the value behind a named place: every use of a lock reached by
//! name (a field, static, local, parameter, accessor or `self`) is followed through
//! guards, clones, `Option` plumbing, closures and local bindings to the method calls
//! made on the value, each classified by [`vocab::io_use`].
//!
//! [`Summaries`] say, once per crate, which functions and methods read their parameters
//! or `self`, so a call into the crate counts as what its body does.
//!
//! Places are matched by name, not by type: a use of another place with the same name
//! adds evidence (the lint then errs towards flagging a lock that is used somewhere).

use crate::parse::ParsedFile;
use crate::vocab::{self, Acquire, IoUse};
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use syn::visit::Visit;

/// What was seen done to a value behind a lock.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Evidence {
    pub reads: usize,
    pub seeks: usize,
    /// Positional reads under a shared (`RwLock::read`) guard.
    pub positional_shared: usize,
    /// Positional reads under an exclusive guard, or with no guard seen.
    pub positional_exclusive: usize,
    pub writes: usize,
    /// The value handed mutably to another crate's function or method
    /// (`serde_json::from_reader(&mut *guard)`): taken as a read.
    pub opaque: usize,
    /// Of `opaque`, the times the whole value was handed on (not one of its fields).
    pub opaque_whole: usize,
    /// Another crate's methods called on the value (`pdb.module_info()`): reads when the
    /// value is another crate's reader whose methods lockscope does not know.
    pub opaque_methods: usize,
    /// Fields of the value read directly through the guard (`guard.files.read(..)`).
    pub fields_read: Vec<String>,
    /// Methods of the crate called on the value (`guard.load(..)`).
    pub crate_calls: Vec<String>,
    /// Times the lock was taken (`lock()`, `read()`, …).
    pub acquired: usize,
}

impl Evidence {
    pub fn merge(&mut self, other: &Evidence) {
        self.reads += other.reads;
        self.seeks += other.seeks;
        self.positional_shared += other.positional_shared;
        self.positional_exclusive += other.positional_exclusive;
        self.writes += other.writes;
        self.opaque += other.opaque;
        self.opaque_whole += other.opaque_whole;
        self.opaque_methods += other.opaque_methods;
        self.acquired += other.acquired;
        self.fields_read.extend(other.fields_read.iter().cloned());
        self.crate_calls.extend(other.crate_calls.iter().cloned());
    }

    /// Reads through the cursor: reads, values handed to other crates, seeks of a value
    /// never written, and (`unknown_methods_read`: the value is another crate's reader
    /// lockscope knows nothing of) that crate's methods.
    pub fn cursor_reads(&self, unknown_methods_read: bool) -> usize {
        let methods = if unknown_methods_read { self.opaque_methods } else { 0 };
        self.reads + self.opaque + methods + if self.writes == 0 { self.seeks } else { 0 }
    }

    pub fn positional(&self) -> usize {
        self.positional_shared + self.positional_exclusive
    }

    /// Any use that reads or writes.
    pub fn any(&self) -> bool {
        self.cursor_reads(true) + self.positional() + self.writes + self.seeks > 0
    }
}

/// The key name of a tuple field: `Logger.0` for field `0` of `struct Logger(…)` or of a
/// variant `Logger(…)`. Numbered fields are told apart by their type, or they would all
/// be one place named `0`.
pub fn tuple_field(owner: &str, index: usize) -> String {
    format!("{owner}.{index}")
}

/// A named place a lock is reached by.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    pub name: String,
    pub kind: KeyKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyKind {
    /// A field (`x.name`, also a tuple field `x.0`) or its accessor (`x.name()`).
    Member,
    /// A static, local or parameter (`name`, `module::NAME`).
    Path,
}

impl Key {
    pub fn member(name: impl Into<String>) -> Key {
        Key { name: name.into(), kind: KeyKind::Member }
    }

    pub fn path(name: impl Into<String>) -> Key {
        Key { name: name.into(), kind: KeyKind::Path }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Level {
    /// The lock itself (or an `Arc` of it).
    Lock,
    /// The value behind it, and how the guard was taken (`None`: no guard seen).
    Value(Option<Acquire>),
}

#[derive(Clone, Copy, Debug)]
struct Root {
    key: usize,
    level: Level,
    /// The first field taken of the key's value (`file` in `self.file.read(..)`), as
    /// an index into [`Scanner::fields`].
    field: Option<usize>,
    /// The type whose field the key is, when the use says (`self.inner` in `impl Pool`),
    /// as an index into [`Scanner::owners`].
    owner: Option<usize>,
}

/// Methods on a lock handle that hand on the same lock.
const HANDLE_METHODS: &[&str] = &["clone", "as_ref", "unwrap", "expect", "deref", "borrow", "get", "as_deref"];
/// Methods on an `Option` or iterator of values whose closure gets the value.
const CLOSURE_METHODS: &[&str] =
    &["map", "and_then", "map_or", "map_or_else", "inspect", "for_each", "filter_map", "try_for_each", "is_some_and"];

/// A function or method a value is passed to.
struct Callee {
    name: String,
    method: bool,
    /// Defined in this crate (its summary says what it does).
    in_crate: bool,
}

/// The index of `name` in `names`, added at the end if new (few names: a scan is cheap).
fn intern(names: &RefCell<Vec<String>>, name: &str) -> usize {
    let mut names = names.borrow_mut();
    match names.iter().position(|n| n == name) {
        Some(i) => i,
        None => {
            names.push(name.to_string());
            names.len() - 1
        }
    }
}

/// Follows named places through a body and counts what is done to their values.
struct Scanner<'s> {
    keys: HashMap<Key, usize>,
    /// The level of a bare key: `Lock` for a lock place, `Value` for a parameter.
    start: Level,
    summaries: Option<&'s Summaries>,
    /// Only definite reads count (building summaries): unknown calls are not reads.
    strict: bool,
    bindings: Vec<HashMap<String, Root>>,
    /// The type of the impl block being read (for `self.0`).
    self_type: Option<String>,
    evidence: Vec<Evidence>,
    /// Evidence of uses of a field key on `self` of a known type (`self.inner` in `impl
    /// Pool`), by (key, owner): another type's field of the same name is another lock.
    owned: HashMap<(usize, usize), Evidence>,
    owners: RefCell<Vec<String>>,
    /// Field names met on the way to a use, and which (key, field) pairs were read.
    fields: RefCell<Vec<String>>,
    fields_read: HashSet<(usize, usize)>,
}

impl<'s> Scanner<'s> {
    fn new(keys: &[Key], start: Level, summaries: Option<&'s Summaries>, strict: bool) -> Self {
        let evidence = vec![Evidence::default(); keys.len()];
        let keys = keys.iter().enumerate().map(|(i, k)| (k.clone(), i)).collect();
        let (fields, fields_read) = (RefCell::new(Vec::new()), HashSet::new());
        let bindings = vec![HashMap::new()];
        let (owned, owners) = (HashMap::new(), RefCell::new(Vec::new()));
        Scanner {
            keys,
            start,
            summaries,
            strict,
            bindings,
            self_type: None,
            evidence,
            owned,
            owners,
            fields,
            fields_read,
        }
    }

    fn key(&self, name: String, kind: KeyKind) -> Option<Root> {
        self.keys.get(&Key { name, kind }).map(|&key| Root { key, level: self.start, field: None, owner: None })
    }

    /// Where a use of `root` is counted: with the uses of its owner's field, when known.
    fn evidence_of(&mut self, root: Root) -> &mut Evidence {
        match root.owner {
            Some(owner) => self.owned.entry((root.key, owner)).or_default(),
            None => &mut self.evidence[root.key],
        }
    }

    fn owner_index(&self, name: &str) -> usize {
        intern(&self.owners, name)
    }

    fn lookup(&self, name: &str) -> Option<Root> {
        if let Some(root) = self.bindings.iter().rev().find_map(|scope| scope.get(name)) {
            return Some(*root);
        }
        self.key(name.to_string(), KeyKind::Path)
    }

    fn root(&self, expr: &syn::Expr) -> Option<Root> {
        match expr {
            syn::Expr::Path(p) => {
                let last = p.path.segments.last()?.ident.to_string();
                if p.path.segments.len() == 1 {
                    self.lookup(&last)
                } else {
                    self.key(last, KeyKind::Path)
                }
            }
            syn::Expr::Field(f) => match self.root(&f.base) {
                Some(root) if root.field.is_none() && matches!(root.level, Level::Value(_)) => {
                    let syn::Member::Named(name) = &f.member else { return Some(root) };
                    Some(Root { field: Some(self.field_index(name.to_string())), ..root })
                }
                Some(root) => matches!(root.level, Level::Value(_)).then_some(root),
                None => {
                    let of_self = matches!(&*f.base, syn::Expr::Path(p) if p.path.is_ident("self"));
                    let name = match &f.member {
                        syn::Member::Named(name) => name.to_string(),
                        // `self.0` in an impl of `Logger`; another value's `x.0` is unknown.
                        syn::Member::Unnamed(index) => {
                            let owner = self.self_type.as_deref().filter(|_| of_self)?;
                            tuple_field(owner, index.index as usize)
                        }
                    };
                    let root = self.key(name, KeyKind::Member)?;
                    let owner = self.self_type.as_deref().filter(|_| of_self).map(|t| self.owner_index(t));
                    Some(Root { owner, ..root })
                }
            },
            syn::Expr::MethodCall(m) => self.root_of_call(m),
            syn::Expr::Call(c) => {
                let syn::Expr::Path(func) = &*c.func else { return None };
                let last = func.path.segments.last()?.ident.to_string();
                matches!(last.as_str(), "new" | "clone" | "from" | "Some" | "Ok" | "Pin")
                    .then(|| c.args.first().and_then(|a| self.root(a)))
                    .flatten()
                    .filter(|r| r.level == Level::Lock)
            }
            syn::Expr::Try(e) => self.root(&e.expr),
            syn::Expr::Await(e) => self.root(&e.base),
            syn::Expr::Paren(e) => self.root(&e.expr),
            syn::Expr::Group(e) => self.root(&e.expr),
            syn::Expr::Reference(e) => self.root(&e.expr),
            syn::Expr::Unary(e) if matches!(e.op, syn::UnOp::Deref(_)) => self.root(&e.expr),
            syn::Expr::Index(e) => self.root(&e.expr),
            syn::Expr::Cast(e) => self.root(&e.expr),
            syn::Expr::Match(m) => self.root(&m.expr),
            _ => None,
        }
    }

    fn root_of_call(&self, m: &syn::ExprMethodCall) -> Option<Root> {
        let method = m.method.to_string();
        let Some(root) = self.root(&m.receiver) else {
            // An accessor named like the place (`self.archive()` for field `archive`).
            let accessor = self.keys.get(&Key::member(method)).filter(|_| m.args.is_empty());
            return accessor.map(|&key| Root { key, level: Level::Lock, field: None, owner: None });
        };
        match root.level {
            Level::Lock => match vocab::acquire(&method, m.args.len()) {
                Some(how) => Some(Root { level: Level::Value(Some(how)), ..root }),
                None => HANDLE_METHODS.contains(&method.as_str()).then_some(root),
            },
            // A lock inside the value (`self.inner.lock()` in a method summary).
            Level::Value(_) if vocab::acquire(&method, m.args.len()).is_some() => Some(root),
            Level::Value(_) => {
                // The crate's accessor of a field (`fn file_mut(&mut self) -> &mut File`).
                let accessor = self.summaries.and_then(|s| s.accessors.get(&method)).and_then(Option::as_ref);
                match accessor {
                    Some(field) if root.field.is_none() => {
                        Some(Root { field: Some(self.field_index(field.clone())), ..root })
                    }
                    Some(_) => Some(root),
                    None => (vocab::io_use(&method) == IoUse::PassThrough).then_some(root),
                }
            }
        }
    }

    fn field_index(&self, name: String) -> usize {
        intern(&self.fields, &name)
    }

    fn count(&mut self, root: Root, what: IoUse) {
        let Level::Value(how) = root.level else { return };
        if let (Some(field), IoUse::Read) = (root.field, what) {
            self.fields_read.insert((root.key, field));
            let name = self.fields.borrow()[field].clone();
            self.evidence_of(root).fields_read.push(name);
        }
        let e = self.evidence_of(root);
        match what {
            IoUse::Read => e.reads += 1,
            IoUse::Seek => e.seeks += 1,
            IoUse::Positional if how == Some(Acquire::Shared) => e.positional_shared += 1,
            IoUse::Positional => e.positional_exclusive += 1,
            IoUse::Write => e.writes += 1,
            IoUse::Unknown => e.opaque_methods += 1,
            IoUse::Neutral | IoUse::PassThrough => {}
        }
    }

    /// A method of unknown meaning called on the value: what the crate's own method of
    /// that name does, or a call into another crate.
    fn unknown_method(&self, method: &str) -> IoUse {
        match self.summaries {
            Some(s) if s.reading_methods.contains(method) => IoUse::Read,
            Some(s) if s.methods.contains(method) => IoUse::Neutral,
            _ if self.strict => IoUse::Neutral,
            _ => IoUse::Unknown,
        }
    }

    /// The value passed as argument `index` of `callee`: only a mutable borrow or a move
    /// can read it.
    fn argument(&mut self, callee: &Callee, index: usize, arg: &syn::Expr) {
        if matches!(arg, syn::Expr::Reference(r) if r.mutability.is_none()) || vocab::gives_shared_view(arg) {
            return;
        }
        let Some(root) = self.root(arg) else { return };
        if !matches!(root.level, Level::Value(_)) || callee.name.starts_with(char::is_uppercase) {
            return;
        }
        let name = callee.name.as_str();
        // A condition variable's `wait(guard)` releases the lock while it waits and hands
        // the guard back: nothing is read.
        if callee.method && index == 0 && root.field.is_none() && vocab::hands_guard_back(name) {
            return;
        }
        // `cmd.stdout(null.try_clone()?)`: the child process gets the file.
        if callee.method && index == 0 && vocab::gives_child_stdio(name) {
            return;
        }
        let known = if callee.method { None } else { vocab::function_reads_argument(name, index) };
        let what = match (known, self.summaries) {
            (Some(true), _) => IoUse::Read,
            (Some(false), _) if matches!(name, "copy" | "copy_buf") => IoUse::Write,
            (Some(false), _) => IoUse::Neutral,
            (None, Some(s)) if callee.in_crate && s.reading_params.get(name).is_some_and(|p| p.contains(&index)) => {
                IoUse::Read
            }
            (None, Some(s)) if callee.in_crate && s.positional_params.get(name).is_some_and(|p| p.contains(&index)) => {
                IoUse::Positional
            }
            (None, Some(s)) if callee.in_crate && (s.functions.contains(name) || s.methods.contains(name)) => {
                IoUse::Neutral
            }
            // Through a shared guard (`RwLock::read`) another crate gets `&T` at most
            // (`RwLockReadGuard::map(guard, ..)`): no `&mut self` read, no queue.
            _ if root.level == Level::Value(Some(Acquire::Shared)) => return,
            _ => {
                self.evidence_of(root).opaque += 1;
                match root.field {
                    Some(field) => {
                        let name = self.fields.borrow()[field].clone();
                        self.evidence_of(root).fields_read.push(name);
                    }
                    None => self.evidence_of(root).opaque_whole += 1,
                }
                return;
            }
        };
        self.count(root, what);
    }

    /// A called path: the crate's own function (`helper`, `crate::io::helper`,
    /// `Self::helper`, `Reader::helper` of a crate type) or another crate's.
    fn callee(&self, path: &syn::Path) -> Option<Callee> {
        let name = path.segments.last()?.ident.to_string();
        let first = path.segments.first()?.ident.to_string();
        let in_crate = match path.segments.len() {
            1 => true,
            _ if matches!(first.as_str(), "crate" | "self" | "super" | "Self") => true,
            n => {
                let owner = path.segments[n - 2].ident.to_string();
                self.summaries.is_some_and(|s| s.types.contains(&owner) || s.modules.contains(&first))
            }
        };
        Some(Callee { name, method: false, in_crate })
    }

    fn bind(&mut self, pat: &syn::Pat, root: Root) {
        struct Idents<'b>(&'b mut Vec<String>);
        impl Visit<'_> for Idents<'_> {
            fn visit_pat_ident(&mut self, p: &syn::PatIdent) {
                self.0.push(p.ident.to_string());
            }
        }
        let mut names = Vec::new();
        Idents(&mut names).visit_pat(pat);
        if let Some(scope) = self.bindings.last_mut() {
            for name in names {
                scope.insert(name, root);
            }
        }
    }

    /// Names a pattern binds to fields that are lock places: `Source::File(file)` binds
    /// `file` to field `0`, `Source::Disk { image, .. }` binds `image` to field `image`.
    fn bind_fields(&mut self, pat: &syn::Pat) {
        let ident = |p: &syn::Pat| match p {
            syn::Pat::Ident(i) => Some(i.ident.to_string()),
            _ => None,
        };
        let mut found = Vec::new();
        match pat {
            syn::Pat::TupleStruct(t) => {
                let Some(owner) = t.path.segments.last().map(|s| s.ident.to_string()) else { return };
                for (i, elem) in t.elems.iter().enumerate() {
                    found.extend(ident(elem).map(|name| (name, tuple_field(&owner, i))));
                }
            }
            syn::Pat::Struct(s) => {
                for field in &s.fields {
                    if let syn::Member::Named(member) = &field.member {
                        found.extend(ident(&field.pat).map(|name| (name, member.to_string())));
                    }
                }
            }
            syn::Pat::Or(or) => or.cases.iter().for_each(|case| self.bind_fields(case)),
            _ => {}
        }
        for (name, member) in found {
            if let Some(root) = self.key(member, KeyKind::Member) {
                if let Some(scope) = self.bindings.last_mut() {
                    scope.insert(name, root);
                }
            }
        }
    }

    fn in_function(&mut self, f: impl FnOnce(&mut Self)) {
        self.bindings.push(HashMap::new());
        f(self);
        self.bindings.pop();
    }
}

impl<'ast> Visit<'ast> for Scanner<'_> {
    fn visit_item_fn(&mut self, item: &'ast syn::ItemFn) {
        self.in_function(|this| syn::visit::visit_item_fn(this, item));
    }

    fn visit_item_impl(&mut self, item: &'ast syn::ItemImpl) {
        let outer = std::mem::replace(&mut self.self_type, impl_type_name(item));
        syn::visit::visit_item_impl(self, item);
        self.self_type = outer;
    }

    fn visit_impl_item_fn(&mut self, item: &'ast syn::ImplItemFn) {
        self.in_function(|this| syn::visit::visit_impl_item_fn(this, item));
    }

    fn visit_expr_method_call(&mut self, call: &'ast syn::ExprMethodCall) {
        let method = call.method.to_string();
        if method == "field" {
            // Debug builders (`.field("file", &self.file)`) only print.
            return self.visit_expr(&call.receiver);
        }
        if let Some(root) = self.root(&call.receiver) {
            if root.level == Level::Lock && vocab::acquire(&method, call.args.len()).is_some() {
                self.evidence_of(root).acquired += 1;
            }
            if matches!(root.level, Level::Value(_)) {
                let own = self.summaries.is_some_and(|s| s.methods.contains(&method));
                if own && root.field.is_none() {
                    self.evidence_of(root).crate_calls.push(method.clone());
                }
                let what = match vocab::io_use(&method) {
                    _ if vocab::acquire(&method, call.args.len()).is_some() => IoUse::PassThrough,
                    // `serial.read(offset as u8)`: a register read, not `Read::read(&mut buf)`.
                    IoUse::Read if method == "read" && !vocab::buffer_arguments(&call.args) => IoUse::Unknown,
                    // The crate's own `read_block` or `read_at`: what its body does, not what
                    // its name says (a `read_at` may seek and read under the lock).
                    IoUse::Read if own && !vocab::is_std_read(&method) => self.unknown_method(&method),
                    IoUse::Positional if own && self.unknown_method(&method) == IoUse::Read => IoUse::Read,
                    IoUse::Unknown => self.unknown_method(&method),
                    known => known,
                };
                self.count(root, what);
                if CLOSURE_METHODS.contains(&method.as_str()) {
                    for arg in &call.args {
                        if let syn::Expr::Closure(c) = arg {
                            c.inputs.iter().for_each(|p| self.bind(p, root));
                        }
                    }
                }
            }
        }
        let callee = Callee {
            name: method.clone(),
            method: true,
            in_crate: self.summaries.is_some_and(|s| s.methods.contains(&method)),
        };
        for (i, arg) in call.args.iter().enumerate() {
            self.argument(&callee, i, arg);
        }
        syn::visit::visit_expr_method_call(self, call);
    }

    fn visit_expr_call(&mut self, call: &'ast syn::ExprCall) {
        if let syn::Expr::Path(func) = &*call.func {
            if let Some(callee) = self.callee(&func.path) {
                for (i, arg) in call.args.iter().enumerate() {
                    self.argument(&callee, i, arg);
                }
            }
        }
        syn::visit::visit_expr_call(self, call);
    }

    fn visit_local(&mut self, local: &'ast syn::Local) {
        if let Some(init) = &local.init {
            self.visit_expr(&init.expr);
            if let Some((_, diverge)) = &init.diverge {
                self.visit_expr(diverge);
            }
            match self.root(&init.expr) {
                Some(root) => self.bind(&local.pat, root),
                None => self.bind_fields(&local.pat),
            }
        }
    }

    fn visit_expr_let(&mut self, expr: &'ast syn::ExprLet) {
        self.visit_expr(&expr.expr);
        match self.root(&expr.expr) {
            Some(root) => self.bind(&expr.pat, root),
            None => self.bind_fields(&expr.pat),
        }
    }

    fn visit_expr_match(&mut self, expr: &'ast syn::ExprMatch) {
        match self.root(&expr.expr) {
            Some(root) => expr.arms.iter().for_each(|arm| self.bind(&arm.pat, root)),
            None => expr.arms.iter().for_each(|arm| self.bind_fields(&arm.pat)),
        }
        syn::visit::visit_expr_match(self, expr);
    }

    fn visit_expr_for_loop(&mut self, expr: &'ast syn::ExprForLoop) {
        if let Some(root) = self.root(&expr.expr) {
            self.bind(&expr.pat, root);
        }
        syn::visit::visit_expr_for_loop(self, expr);
    }

    fn visit_item_macro(&mut self, item: &'ast syn::ItemMacro) {
        // A `macro_rules!` body is code too: uses written only there are still uses.
        if item.mac.path.is_ident("macro_rules") {
            for body in macro_rule_bodies(&item.mac.tokens) {
                self.visit_file(&body);
            }
            return;
        }
        syn::visit::visit_item_macro(self, item);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        let name = mac.path.segments.last().map(|s| s.ident.to_string()).unwrap_or_default();
        let args = crate::parse::macro_args(mac);
        for (i, arg) in args.iter().enumerate() {
            if i == 0 && vocab::macro_writes_first(&name) {
                if let Some(root) = self.root(arg) {
                    self.count(root, IoUse::Write);
                    continue;
                }
            }
            self.visit_expr(arg);
        }
    }
}

/// The bodies of a `macro_rules!` that parse as items once `$` is taken out of their
/// metavariables (`impl Log for $t { … }`): what most generated impls look like.
fn macro_rule_bodies(tokens: &proc_macro2::TokenStream) -> Vec<syn::File> {
    use proc_macro2::{Delimiter, TokenStream, TokenTree};
    fn strip_dollars(tokens: TokenStream) -> TokenStream {
        tokens
            .into_iter()
            .filter(|t| !matches!(t, TokenTree::Punct(p) if p.as_char() == '$'))
            .map(|t| match t {
                TokenTree::Group(g) => {
                    let mut inner = proc_macro2::Group::new(g.delimiter(), strip_dollars(g.stream()));
                    inner.set_span(g.span());
                    TokenTree::Group(inner)
                }
                other => other,
            })
            .collect()
    }
    let trees: Vec<TokenTree> = tokens.clone().into_iter().collect();
    trees
        .windows(3)
        .filter_map(|w| match w {
            [TokenTree::Punct(eq), TokenTree::Punct(gt), TokenTree::Group(body)]
                if eq.as_char() == '=' && gt.as_char() == '>' && body.delimiter() == Delimiter::Brace =>
            {
                syn::parse2::<syn::File>(strip_dollars(body.stream())).ok()
            }
            _ => None,
        })
        .collect()
}

/// The name of the type an impl block is for (`Inner` in `impl<R> Inner<R>`).
pub fn impl_type_name(item: &syn::ItemImpl) -> Option<String> {
    match &*item.self_ty {
        syn::Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
        _ => None,
    }
}

/// Evidence for each named lock place, from every file of the package. A workspace
/// library it depends on is read for its names and summaries, not for uses: it cannot
/// name this package's locks, and a field of the same name there is another lock.
pub fn lock_uses(files: &[ParsedFile], keys: &[Key], summaries: &Summaries) -> Vec<KeyUses> {
    let mut scanner = Scanner::new(keys, Level::Lock, Some(summaries), false);
    for file in files.iter().filter(|f| !f.source.module.is_dependency()) {
        scanner.visit_file(&file.ast);
    }
    let owners = scanner.owners.into_inner();
    let mut uses: Vec<KeyUses> =
        scanner.evidence.into_iter().map(|anywhere| KeyUses { anywhere, by_owner: HashMap::new() }).collect();
    for ((key, owner), evidence) in scanner.owned {
        uses[key].by_owner.insert(owners[owner].clone(), evidence);
    }
    uses
}

/// The uses of one named place: those on `self` of a known type apart, by that type.
#[derive(Clone, Debug, Default)]
pub struct KeyUses {
    anywhere: Evidence,
    by_owner: HashMap<String, Evidence>,
}

impl KeyUses {
    /// The uses that can be of the field `owner` declares (any type's, for no owner):
    /// those of unknown owner, and `self.name` in that type's own impls.
    pub fn of_owner(&self, owner: Option<&str>) -> Evidence {
        let mut evidence = self.anywhere.clone();
        match owner {
            Some(owner) => evidence.merge(self.by_owner.get(owner).unwrap_or(&Evidence::default())),
            None => self.by_owner.values().for_each(|e| evidence.merge(e)),
        }
        evidence
    }
}

/// Evidence for one lock place named `name` inside one impl block only (`self` in the
/// impl of a lock type).
pub fn lock_uses_in_impl(item: &syn::ItemImpl, name: &str, summaries: &Summaries) -> Evidence {
    let mut scanner = Scanner::new(&[Key::path(name)], Level::Lock, Some(summaries), false);
    scanner.visit_item_impl(item);
    scanner.evidence.pop().unwrap_or_default()
}

/// Evidence for one lock place named `name` inside one function body (a parameter or a
/// local).
pub fn lock_uses_in_block(block: &syn::Block, name: &str, summaries: &Summaries) -> Evidence {
    let mut scanner = Scanner::new(&[Key::path(name)], Level::Lock, Some(summaries), false);
    scanner.visit_block(block);
    scanner.evidence.pop().unwrap_or_default()
}

/// Which functions and methods of a crate read (through `Read`/`Seek`/`BufRead` calls,
/// directly or through each other) their parameters or `self`. By name: a method of any
/// type with that name counts.
#[derive(Debug, Default)]
pub struct Summaries {
    /// Methods whose body reads from `self` (or from a value inside it).
    pub reading_methods: HashSet<String>,
    /// Free functions and methods: which parameters (counted without `self`) they read,
    /// and which they read only at offsets (`read_exact_at`).
    pub reading_params: HashMap<String, HashSet<usize>>,
    pub positional_params: HashMap<String, HashSet<usize>>,
    /// Types (by name) with a method that reads from `self`, and the fields of `self`
    /// such methods read (`(Net, tap)` for `self.tap.read(..)`).
    pub reading_types: HashSet<String>,
    pub reading_fields: HashSet<(String, String)>,
    /// For each method of a type (`(Inner, load)`): the fields of `self` it reads and the
    /// methods it calls on `self`.
    pub method_facts: HashMap<(String, String), MethodFacts>,
    /// Methods that return a field of `self` (`file_mut` → `file`), by name; `None` when
    /// methods of that name return different fields.
    pub accessors: HashMap<String, Option<String>>,
    /// Every method, free function and type name the crate defines.
    pub methods: HashSet<String>,
    pub functions: HashSet<String>,
    pub types: HashSet<String>,
    /// The crate's module names (`flock` in `flock::lock_shared(..)`).
    pub modules: HashSet<String>,
}

/// How often summaries are refined with what the previous round found (a method that
/// reads through another method reads).
const SUMMARY_ROUNDS: usize = 3;

impl Summaries {
    pub fn of(files: &[ParsedFile]) -> Summaries {
        let mut summaries = Summaries::default();
        let mut names = Names(&mut summaries);
        for file in files {
            names.visit_file(&file.ast);
            // A file's own module path names modules too (`src/util/flock.rs`).
            names.0.modules.extend(file.source.module.segments.iter().cloned());
        }
        for _ in 0..SUMMARY_ROUNDS {
            let mut round = Round { previous: &summaries, next: Summaries::default(), self_type: None };
            for file in files {
                round.visit_file(&file.ast);
            }
            let next = round.next;
            let size = |params: &HashMap<String, HashSet<usize>>| params.values().map(HashSet::len).sum::<usize>();
            let grew = next.reading_methods.len() > summaries.reading_methods.len()
                || size(&next.reading_params) > size(&summaries.reading_params)
                || size(&next.positional_params) > size(&summaries.positional_params)
                || next.accessors.len() > summaries.accessors.len();
            summaries.reading_methods = next.reading_methods;
            summaries.reading_params = next.reading_params;
            summaries.positional_params = next.positional_params;
            summaries.reading_types = next.reading_types;
            summaries.reading_fields = next.reading_fields;
            summaries.method_facts = next.method_facts;
            summaries.accessors = next.accessors;
            if !grew {
                break;
            }
        }
        summaries
    }
}

/// What one method does with `self`.
#[derive(Debug, Default, Clone)]
pub struct MethodFacts {
    pub fields_read: HashSet<String>,
    pub self_calls: Vec<String>,
}

/// How many methods deep a read of a field through `self` calls is followed.
const MAX_SELF_CALLS: usize = 4;

impl Summaries {
    /// Does method `method` of type `owner` read field `field` of `self`, itself or
    /// through the other methods it calls on `self`?
    pub fn method_reads_field(&self, owner: &str, method: &str, field: &str) -> bool {
        let mut seen = HashSet::new();
        let mut work = vec![(method.to_string(), 0)];
        while let Some((method, depth)) = work.pop() {
            if depth > MAX_SELF_CALLS || !seen.insert(method.clone()) {
                continue;
            }
            let Some(facts) = self.method_facts.get(&(owner.to_string(), method)) else { continue };
            if facts.fields_read.contains(field) {
                return true;
            }
            work.extend(facts.self_calls.iter().map(|m| (m.clone(), depth + 1)));
        }
        false
    }
}

/// Inline and `where` bounds on the type parameter `ident` of `generics`.
pub(crate) fn type_param_bounds<'g>(generics: &'g syn::Generics, ident: &syn::Ident) -> Vec<&'g syn::TypeParamBound> {
    let mut bounds: Vec<&syn::TypeParamBound> = Vec::new();
    for param in generics.type_params().filter(|p| &p.ident == ident) {
        bounds.extend(&param.bounds);
    }
    for predicate in generics.where_clause.iter().flat_map(|w| &w.predicates) {
        if let syn::WherePredicate::Type(pt) = predicate {
            if matches!(&pt.bounded_ty, syn::Type::Path(p) if p.qself.is_none() && p.path.is_ident(ident)) {
                bounds.extend(&pt.bounds);
            }
        }
    }
    bounds
}

/// Is `ty` (through references) a type no reader is (`&Path`, `&str`), or one of the
/// function's type parameters, or an `impl Trait`, whose bounds name no trait that could
/// read it (`T: AsRawFd`)? Rust lets a callee use only those bounds.
fn cannot_be_read(ty: &syn::Type, generics: &syn::Generics) -> bool {
    let mut ty = ty;
    while let syn::Type::Reference(r) = ty {
        ty = &r.elem;
    }
    let bounds = match ty {
        syn::Type::Path(p) if p.qself.is_none() => match p.path.get_ident() {
            Some(ident) if generics.type_params().any(|t| &t.ident == ident) => type_param_bounds(generics, ident),
            _ => {
                let last = p.path.segments.last().map(|s| s.ident.to_string()).unwrap_or_default();
                return vocab::NON_READER_TYPES.contains(&last.as_str());
            }
        },
        syn::Type::ImplTrait(t) => t.bounds.iter().collect(),
        _ => return false,
    };
    bounds.iter().all(|bound| match bound {
        syn::TypeParamBound::Trait(t) => {
            t.path.segments.last().is_some_and(|s| vocab::NON_READING_TRAITS.contains(&s.ident.to_string().as_str()))
        }
        _ => true,
    })
}

struct Names<'s>(&'s mut Summaries);

impl<'ast> Visit<'ast> for Names<'_> {
    fn visit_item_mod(&mut self, item: &'ast syn::ItemMod) {
        self.0.modules.insert(item.ident.to_string());
        syn::visit::visit_item_mod(self, item);
    }
    fn visit_item_fn(&mut self, item: &'ast syn::ItemFn) {
        self.0.functions.insert(item.sig.ident.to_string());
    }
    fn visit_impl_item_fn(&mut self, item: &'ast syn::ImplItemFn) {
        self.0.methods.insert(item.sig.ident.to_string());
    }
    fn visit_item_struct(&mut self, item: &'ast syn::ItemStruct) {
        self.0.types.insert(item.ident.to_string());
    }
    fn visit_item_enum(&mut self, item: &'ast syn::ItemEnum) {
        self.0.types.insert(item.ident.to_string());
    }
    fn visit_item_trait(&mut self, item: &'ast syn::ItemTrait) {
        self.0.types.insert(item.ident.to_string());
        syn::visit::visit_item_trait(self, item);
    }
    fn visit_trait_item_fn(&mut self, item: &'ast syn::TraitItemFn) {
        self.0.methods.insert(item.sig.ident.to_string());
    }
}

struct Round<'p> {
    previous: &'p Summaries,
    next: Summaries,
    self_type: Option<String>,
}

impl Round<'_> {
    fn function(&mut self, sig: &syn::Signature, body: &syn::Block) {
        let mut names = Vec::new();
        let mut has_self = false;
        for input in &sig.inputs {
            match input {
                syn::FnArg::Receiver(_) => has_self = true,
                syn::FnArg::Typed(pt) => names.push(match &*pt.pat {
                    syn::Pat::Ident(i) => i.ident.to_string(),
                    _ => String::new(),
                }),
            }
        }
        // A parameter of a type the function cannot read (`fd: &T` with `T: AsRawFd`)
        // is not read by another crate it is handed to: that crate sees only its bounds.
        let unreadable: Vec<bool> = (sig.inputs.iter())
            .filter_map(|input| match input {
                syn::FnArg::Typed(pt) => Some(cannot_be_read(&pt.ty, &sig.generics)),
                syn::FnArg::Receiver(_) => None,
            })
            .collect();
        let params = names.len();
        if has_self {
            names.push("self".into());
        }
        let keys: Vec<Key> = names.iter().map(Key::path).collect();
        let mut scanner = Scanner::new(&keys, Level::Value(None), Some(self.previous), true);
        scanner.visit_block(body);
        let name = sig.ident.to_string();
        let tail = body.stmts.last().and_then(|stmt| match stmt {
            syn::Stmt::Expr(expr, None) => Some(expr),
            _ => None,
        });
        if let Some(root) = tail.filter(|_| has_self).and_then(|e| scanner.root(e)) {
            if let (true, Some(field)) = (root.key == params, root.field) {
                let field = scanner.fields.borrow()[field].clone();
                let entry = self.next.accessors.entry(name.clone()).or_insert_with(|| Some(field.clone()));
                if entry.as_ref() != Some(&field) {
                    *entry = None;
                }
            }
        }
        if has_self {
            if let Some(ty) = &self.self_type {
                let fields = scanner.fields.borrow();
                let mut facts = MethodFacts::default();
                for &(key, field) in &scanner.fields_read {
                    if key == params {
                        self.next.reading_fields.insert((ty.clone(), fields[field].clone()));
                        facts.fields_read.insert(fields[field].clone());
                    }
                }
                facts.self_calls = scanner.evidence[params].crate_calls.clone();
                self.next.method_facts.insert((ty.clone(), name.clone()), facts);
            }
        }
        for (i, evidence) in scanner.evidence.iter().enumerate() {
            // A parameter handed mutably to another crate counts, as it does for locks;
            // `self`'s fields so handed do not (serialisers, formatters).
            let opaque = if i == params || unreadable.get(i).copied().unwrap_or(false) { 0 } else { evidence.opaque };
            if i != params && evidence.positional() > 0 && !names[i].is_empty() {
                self.next.positional_params.entry(name.clone()).or_default().insert(i);
            }
            if evidence.reads + evidence.seeks + opaque == 0 || names[i].is_empty() {
                continue;
            }
            if i == params {
                self.next.reading_methods.insert(name.clone());
                if let Some(ty) = &self.self_type {
                    self.next.reading_types.insert(ty.clone());
                }
            } else {
                self.next.reading_params.entry(name.clone()).or_default().insert(i);
            }
        }
    }
}

impl<'ast> Visit<'ast> for Round<'_> {
    fn visit_item_fn(&mut self, item: &'ast syn::ItemFn) {
        self.function(&item.sig, &item.block);
    }
    fn visit_item_macro(&mut self, item: &'ast syn::ItemMacro) {
        if item.mac.path.is_ident("macro_rules") {
            for body in macro_rule_bodies(&item.mac.tokens) {
                self.visit_file(&body);
            }
        }
    }
    fn visit_item_impl(&mut self, item: &'ast syn::ItemImpl) {
        let outer = std::mem::replace(&mut self.self_type, impl_type_name(item));
        syn::visit::visit_item_impl(self, item);
        self.self_type = outer;
    }
    fn visit_impl_item_fn(&mut self, item: &'ast syn::ImplItemFn) {
        self.function(&item.sig, &item.block);
    }
    fn visit_trait_item_fn(&mut self, item: &'ast syn::TraitItemFn) {
        if let Some(body) = &item.default {
            self.function(&item.sig, body);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_parameter_is_readable_unless_its_type_rules_it_out() {
        let readable = |sig: &str| {
            let sig: syn::Signature = syn::parse_str(sig).expect("signature parses");
            let syn::FnArg::Typed(pt) = &sig.inputs[0] else { panic!("a typed parameter") };
            !cannot_be_read(&pt.ty, &sig.generics)
        };
        assert!(!readable("fn f(p: &Path)"));
        assert!(!readable("fn f(p: &std::path::PathBuf)"));
        assert!(!readable("fn f<T: AsRawFd>(fd: &T)"));
        assert!(!readable("fn f<T>(fd: &mut T) where T: AsFd + Send"));
        assert!(!readable("fn f(fd: &impl AsRawFd)"));
        assert!(readable("fn f<T: Read + AsRawFd>(r: &mut T)"));
        assert!(readable("fn f<T: AsRawFd>(r: &mut T) where T: Seek"));
        assert!(readable("fn f<T: MyReader>(r: &mut T)"));
        assert!(readable("fn f(r: &mut File)"));
        assert!(readable("fn f(r: &[u8])"));
        assert!(readable("fn f(r: impl Read)"));
    }

    fn parsed(text: &str) -> Vec<ParsedFile> {
        vec![crate::parse::parse_crate_root(text)]
    }

    fn evidence(text: &str, name: &str) -> Evidence {
        let files = parsed(text);
        let summaries = Summaries::of(&files);
        lock_uses(&files, &[Key::member(name)], &summaries).swap_remove(0).of_owner(None)
    }

    #[test]
    fn a_field_used_on_self_counts_for_its_own_type_only() {
        let files = parsed(
            "impl Log { fn add(&self) { self.inner.lock().write_all(b\"x\"); } }\n\
             impl Journal { fn replay(&self) { self.inner.lock().read_to_end(&mut v); } }\n\
             fn tail(t: &Tail) { t.inner.lock().read(&mut b); }",
        );
        let summaries = Summaries::of(&files);
        let uses = lock_uses(&files, &[Key::member("inner")], &summaries).swap_remove(0);
        // `t.inner`, of unknown type, may be anyone's; `self.inner` is its impl's.
        assert_eq!((uses.of_owner(Some("Log")).reads, uses.of_owner(Some("Log")).writes), (1, 1));
        assert_eq!((uses.of_owner(Some("Journal")).reads, uses.of_owner(Some("Journal")).writes), (2, 0));
        assert_eq!(uses.of_owner(None).reads, 2);
    }

    #[test]
    fn reads_through_guards_options_and_bindings() {
        let e = evidence(
            "fn f(s: &S) { let mut g = s.archive.lock().unwrap(); g.by_name(\"x\").unwrap().read_to_end(&mut v); \
             if let Some(f) = s.file.lock().as_mut() { f.read_exact(&mut b); } }",
            "archive",
        );
        assert_eq!(e.reads, 1);
        let e = evidence("fn f(s: &S) { if let Some(f) = s.file.lock().as_mut() { f.read_exact(&mut b); } }", "file");
        assert_eq!(e.reads, 1);
    }

    #[test]
    fn writes_and_descriptors_are_not_reads() {
        let e = evidence(
            "fn f(s: &S) { let mut g = s.log.lock(); writeln!(g, \"x\"); g.flush(); let fd = s.log.lock().as_raw_fd(); }",
            "log",
        );
        assert_eq!((e.cursor_reads(true), e.writes), (0, 2));
    }

    #[test]
    fn positional_reads_know_their_guard() {
        let e = evidence(
            "fn f(s: &S) { s.disk.read().read_exact_at(&mut b, 0); s.disk.write().read_at(&mut b, 0); }",
            "disk",
        );
        assert_eq!((e.positional_shared, e.positional_exclusive, e.cursor_reads(true)), (1, 1, 0));
    }

    #[test]
    fn crate_methods_and_functions_are_followed_through_summaries() {
        let text = "impl Inner { fn load(&mut self, id: u32) { let f = self.files.get_mut(&id).unwrap(); f.seek(p); f.read_exact(&mut b); } \
                    fn note(&mut self) { self.count += 1; } }\n\
                    fn slurp(r: &mut File) { r.read_to_end(&mut v); }\n\
                    fn f(s: &S) { s.inner.lock().load(3); s.other.lock().note(); slurp(&mut s.file.lock()); }";
        assert_eq!(evidence(text, "inner").reads, 1);
        assert!(!evidence(text, "other").any());
        assert_eq!(evidence(text, "file").reads, 1);
        let files = parsed(text);
        assert!(Summaries::of(&files).reading_types.contains("Inner"));
    }

    #[test]
    fn another_crates_calls_taking_the_value_mutably_count_as_reads() {
        let e = evidence("fn f(s: &S) { let mut f = s.file.lock(); w.write_from(&mut f, 4); format(&f); }", "file");
        assert_eq!(e.opaque, 1);
        let e = evidence("fn f(s: &S) { s.pdb.lock().module_info(); s.pdb.lock().get(k).cloned(); }", "pdb");
        assert_eq!((e.opaque_methods, e.cursor_reads(false), e.cursor_reads(true)), (1, 0, 1));
    }

    #[test]
    fn uses_inside_macro_rules_bodies_count() {
        let e = evidence(
            "macro_rules! imp { ($t:ty) => { impl Log for $t { fn log(&self) { write!(self.stream.lock(), \"x\"); } } }; }",
            "stream",
        );
        assert_eq!(e.writes, 1);
    }

    #[test]
    fn a_read_with_a_register_offset_is_not_a_buffer_read() {
        let e =
            evidence("fn f(s: &S, buf: &mut [u8]) { s.dev.lock().read(off as u8); s.dev.lock().read(buf); }", "dev");
        assert_eq!((e.reads, e.opaque_methods), (1, 1));
    }
}
