//! # mutex_read_seek
//!
//! Flags a lock (`Mutex`, `RwLock`, …) whose guarded value is `Read + Seek`.
//!
//! ## Why is this bad?
//!
//! `Read::read` and `Seek::seek` take `&mut self`: even a read-only lookup moves the
//! reader's cursor, so it needs exclusive access. Put the reader behind a lock and
//! every reader of every thread queues on that one lock, one at a time. The more
//! work arrives, the longer the queue; adding threads makes it worse, not better.
//!
//! A service kept one parsed source bundle per upload, with the archive in a
//! `Mutex<zip::ZipArchive<Cursor<&[u8]>>>`. Every event that needed a file from that
//! bundle took the mutex, and throughput collapsed under load.
//!
//! ## Example
//!
//! ```text
//! struct Bundle<'d> {
//!     archive: Mutex<ZipArchive<Cursor<&'d [u8]>>>,
//! }
//! ```
//!
//! ## Use instead
//!
//! Give each reader its own copy (a `ZipArchive` over a `Cursor<&[u8]>` is cheap to
//! clone), or better, read the in-memory or memory-mapped `&[u8]` by offset, which
//! needs no lock at all:
//!
//! ```text
//! struct Bundle<'d> {
//!     data: &'d [u8],                 // mmap'd
//!     index: HashMap<String, Entry>,  // parsed once: name -> offset, size
//! }
//! ```
//!
//! For a `File`, positional reads (`std::os::unix::fs::FileExt::read_at`) take `&self`.
//!
//! ## What counts
//!
//! Locks: `std::sync::{Mutex, RwLock}`, `parking_lot::{Mutex, RwLock, ReentrantMutex,
//! FairMutex}`, `tokio::sync::{Mutex, RwLock}`, `futures::lock::Mutex`,
//! `async_lock::{Mutex, RwLock}`, `spin::{Mutex, RwLock}`, `lockscope::{Mutex, RwLock}`,
//! also inside `Arc`, `Box`, `Option`, `Vec`, maps, statics, `OnceLock`, `LazyLock` and
//! `lazy_static!`.
//!
//! `Read + Seek` values: `std::fs::File`, `std::io::Cursor`, `tokio::fs::File`,
//! `zip::ZipArchive`; `BufReader<R>` and `tar::Archive<R>` over a seekable `R`;
//! `dyn Read + Seek` and trait objects whose supertraits or package implementors
//! make them so; type parameters bounded `Read + Seek` (inline, in `where`, through a
//! trait, on the type or on any of its impl blocks); package types implementing both
//! traits; package types holding any of these, transitively; and other generic types
//! instantiated with one (`pdb::PDB<'_, Cursor<&[u8]>>`), except writers and encoders.
//!
//! Types are written as fields, statics, consts, aliases, `let` annotations, function
//! signatures and impl self types; a lock is also caught where it is built, as in
//! `let archive = Mutex::new(ZipArchive::new(cursor)?);`.
//!
//! ## Known limits
//!
//! - A lock whose value is only ever written through it (a log file) is not flagged;
//!   lockscope decides that from the uses it can see by name in the package.
//! - Names are resolved without compiling: through `use` (renames and globs), aliases
//!   and full paths across the package's files. Macro-generated types are not seen.
//!
//! Silence one finding with `// lockscope: allow(mutex_read_seek) reason` on the line
//! or the line above.

use super::{PackageContext, Rule};
use crate::diagnostic::{Finding, Severity};
use crate::parse::ParsedFile;
use crate::prefilter::Prefilter;
use crate::source::{ModulePath, Region};
use crate::symbols::known::{self, Leaf};
use crate::symbols::read_seek::{display_type, type_args, Binding, Env, TyCtx, Why};
use crate::symbols::{DefId, DefKind, PathNames, Resolved, Symbols};
use quote::ToTokens;
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;
use syn::spanned::Spanned;
use syn::visit::Visit;

pub struct MutexReadSeek;

const NAME: &str = "mutex_read_seek";
const LOCK_NAMES: [&str; 4] = ["Mutex", "RwLock", "ReentrantMutex", "FairMutex"];

impl Rule for MutexReadSeek {
    fn name(&self) -> &'static str {
        NAME
    }

    fn doc(&self) -> String {
        super::module_doc(include_str!("mutex_read_seek.rs"))
    }

    fn prefilter(&self) -> Prefilter {
        Prefilter { any: &["Mutex", "RwLock"], pairs: &[], with_followed: &[] }
    }

    fn needed_names(&self, file: &syn::File, out: &mut Vec<String>) {
        let mut seeds = Seeds { lock_names: lock_aliases(file), out };
        seeds.visit_file(file);
    }

    fn check(&self, cx: &PackageContext<'_, '_>, out: &mut Vec<Finding>) {
        let mut candidates = Vec::new();
        let alias_flagged = RefCell::new(HashMap::new());
        for file in cx.files.iter().filter(|f| f.source.report) {
            let mut checker = Checker {
                symbols: cx.symbols,
                file,
                modules: vec![file.source.module.clone()],
                envs: vec![Rc::new(Env::default())],
                candidates: &mut candidates,
                alias_flagged: &alias_flagged,
                locals: Vec::new(),
                depth: 0,
            };
            checker.visit_file(&file.ast);
        }
        if candidates.is_empty() {
            return;
        }
        let lock_keys: HashSet<&str> = candidates.iter().filter_map(|c| c.key.as_deref()).collect();
        let field_keys: HashSet<&str> = candidates.iter().filter_map(|c| c.why.field.as_deref()).collect();
        let write_only = write_only_keys(cx.files, &lock_keys, &field_keys);
        for candidate in candidates {
            let only_written = [candidate.key.as_deref(), candidate.why.field.as_deref()]
                .into_iter()
                .flatten()
                .any(|key| write_only.contains(key));
            if !only_written {
                out.push(candidate.into_finding());
            }
        }
    }
}

/// Local names that mean a lock in this file (`use parking_lot::Mutex as PlMutex;`).
fn lock_aliases(file: &syn::File) -> HashSet<String> {
    struct Uses(HashSet<String>);
    impl Visit<'_> for Uses {
        fn visit_use_rename(&mut self, r: &syn::UseRename) {
            if LOCK_NAMES.contains(&r.ident.to_string().as_str()) {
                self.0.insert(r.rename.to_string());
            }
        }
    }
    let mut uses = Uses(LOCK_NAMES.iter().map(|s| s.to_string()).collect());
    uses.visit_file(file);
    uses.0
}

/// Collects the names a file's locks guard, so their definitions get loaded.
struct Seeds<'o> {
    lock_names: HashSet<String>,
    out: &'o mut Vec<String>,
}

impl Seeds<'_> {
    fn is_lock(&self, path: &syn::Path) -> bool {
        path.segments.iter().any(|s| self.lock_names.contains(&s.ident.to_string()))
    }
}

impl<'ast> Visit<'ast> for Seeds<'_> {
    fn visit_type_path(&mut self, tp: &'ast syn::TypePath) {
        if let Some(last) = tp.path.segments.last() {
            if self.lock_names.contains(&last.ident.to_string()) {
                let mut names = PathNames::default();
                names.visit_path_arguments(&last.arguments);
                self.out.extend(names.into_names());
            }
        }
        syn::visit::visit_type_path(self, tp);
    }

    fn visit_expr_call(&mut self, call: &'ast syn::ExprCall) {
        if let syn::Expr::Path(func) = &*call.func {
            if self.is_lock(&func.path) {
                let mut names = PathNames::default();
                call.args.iter().for_each(|arg| names.visit_expr(arg));
                self.out.extend(names.into_names());
            }
        }
        syn::visit::visit_expr_call(self, call);
    }

    fn visit_field(&mut self, field: &'ast syn::Field) {
        // A lock around a writable value may be a write-only log: its uses are needed.
        if let Some(ident) = &field.ident {
            if mentions_writable_lock(&field.ty, &self.lock_names) {
                self.out.push(ident.to_string());
            }
        }
        syn::visit::visit_field(self, field);
    }
}

fn mentions_writable_lock(ty: &syn::Type, lock_names: &HashSet<String>) -> bool {
    let text = ty.to_token_stream().to_string();
    lock_names.iter().any(|l| text.contains(l.as_str())) && (text.contains("File") || text.contains("Cursor"))
}

/// A lock around a `Read + Seek` value, before write-only locks are set aside.
struct Candidate {
    file: std::sync::Arc<crate::source::SourceFile>,
    region: Region,
    /// `Mutex<File>`, or `Mutex::new(…)` for a lock found where it is built.
    lock: String,
    why: Why,
    built: bool,
    /// The name the lock is reached by (field, static or variable), to find its uses.
    key: Option<String>,
}

impl Candidate {
    fn into_finding(self) -> Finding {
        let chain = std::iter::once(format!("`{}`", self.lock))
            .chain(self.why.chain.iter().cloned())
            .collect::<Vec<_>>()
            .join(" → ");
        let message = if self.built {
            format!("lock built around a `Read + Seek` value: {chain}")
        } else {
            format!("lock around a `Read + Seek` value: {chain}")
        };
        let help = match self.why.leaf {
            Leaf::File => {
                "read the file with positional reads (`std::os::unix::fs::FileExt::read_at` takes `&self`) and drop the lock, or memory-map it and read the `&[u8]` by offset"
            }
            Leaf::Bytes => {
                "give each reader its own clone (cheap over a `Cursor<&[u8]>`), or better, read the in-memory or memory-mapped `&[u8]` by offset with no lock"
            }
            Leaf::Generic => {
                "give each reader its own reader (require `Clone` and clone per reader), or take a `&[u8]` or a positional reader (`FileExt::read_at`) and read by offset with no lock"
            }
            Leaf::CrateReader => {
                "give each reader its own instance (implement `Clone`), or add offset-based reads that take `&self` so no lock is needed"
            }
        };
        Finding {
            rule: NAME,
            severity: Severity::Warning,
            file: self.file,
            region: self.region,
            message,
            label: "`Read` and `Seek` take `&mut self`: every reader queues on this lock".into(),
            help: Some(help.into()),
        }
    }
}

struct Checker<'c, 'a> {
    symbols: &'c Symbols<'a>,
    file: &'a ParsedFile,
    modules: Vec<ModulePath>,
    envs: Vec<Rc<Env<'a>>>,
    candidates: &'c mut Vec<Candidate>,
    /// Aliases whose definition is already flagged: their uses are not flagged again.
    alias_flagged: &'c RefCell<HashMap<DefId, bool>>,
    /// Types of `let` bindings and parameters seen so far in the current function.
    locals: Vec<HashMap<String, syn::Type>>,
    depth: usize,
}

/// How deep lock searches follow generic aliases inside each other.
const MAX_ALIAS_DEPTH: usize = 6;

impl<'a> Checker<'_, 'a> {
    fn module(&self) -> ModulePath {
        self.modules.last().cloned().unwrap_or_else(|| ModulePath::root("src"))
    }

    fn cx(&self) -> TyCtx<'a> {
        TyCtx { module: self.module(), env: self.envs.last().cloned().unwrap_or_default() }
    }

    fn push_env(&mut self, fill: impl FnOnce(&mut Env<'a>, &ModulePath)) {
        let parent = self.envs.last().cloned().unwrap_or_default();
        let mut env = Env::child(&parent);
        fill(&mut env, &self.module());
        self.envs.push(Rc::new(env));
    }

    /// Environment of a package type's definition: its parameters with their bounds
    /// on the type and on every impl of it.
    fn push_def_env(&mut self, ident: &syn::Ident, generics: &'a syn::Generics) {
        let id = match self.symbols.resolve(&self.module(), &[ident.to_string()], 0) {
            Resolved::Def(id) => Some(id),
            _ => None,
        };
        let symbols = self.symbols;
        self.push_env(|env, module| match id {
            Some(id) => {
                for (i, param) in generics.type_params().enumerate() {
                    env.bind(param.ident.to_string(), Binding::Bounds(symbols.param_bounds(id, i)));
                }
            }
            None => env.bind_generics(generics, module),
        });
    }

    fn report(&mut self, region: Region, lock: String, why: Why, built: bool, key: Option<String>) {
        self.candidates.push(Candidate { file: self.file.source.clone(), region, lock, why, built, key });
    }

    /// Find every lock in a written type and judge what it guards.
    fn scan_type(&mut self, ty: &'a syn::Type, key: Option<&str>) {
        let cx = self.cx();
        let mut found = Vec::new();
        find_locks(self.symbols, self.alias_flagged, ty, &cx, None, 0, &mut found);
        for (region, lock, why) in found {
            self.report(region, lock, why, false, key.map(str::to_string));
        }
    }

    /// A lock built in an expression: `Mutex::new(ZipArchive::new(c)?)`.
    fn scan_construction(&mut self, expr: &'a syn::Expr, key: Option<String>) {
        let Some(call) = lock_constructor(self.symbols, &self.module(), expr) else { return };
        let Some(value) = call.args.first() else { return };
        let Some(value_ty) = self.infer(value, 0) else { return };
        let cx = self.cx();
        if let Some(why) = self.symbols.read_seek(&value_ty, &cx) {
            let lock = match &*call.func {
                syn::Expr::Path(p) => format!("{}(…)", display_type(&p.path)),
                _ => "lock".into(),
            };
            self.report(Region::of(call.span()), lock, why, true, key);
        }
    }

    /// The type an expression evaluates to, where it can be told from the expression
    /// alone: constructors (`File::open(p)?`), struct literals, locals with known types.
    fn infer(&self, expr: &syn::Expr, depth: usize) -> Option<syn::Type> {
        if depth > 8 {
            return None;
        }
        match expr {
            syn::Expr::Try(t) => self.infer(&t.expr, depth + 1),
            syn::Expr::Await(a) => self.infer(&a.base, depth + 1),
            syn::Expr::Paren(p) => self.infer(&p.expr, depth + 1),
            syn::Expr::Group(g) => self.infer(&g.expr, depth + 1),
            syn::Expr::MethodCall(m) => {
                let method = m.method.to_string();
                match method.as_str() {
                    "unwrap" | "expect" | "unwrap_or_else" | "context" | "with_context" | "unwrap_unchecked" => {
                        self.infer(&m.receiver, depth + 1)
                    }
                    // `OpenOptions::new().read(true).open(path)` and `File::options()…open(path)`.
                    "open" if chain_root_is(&m.receiver, &["OpenOptions", "options"]) => {
                        Some(syn::parse_quote!(std::fs::File))
                    }
                    _ => None,
                }
            }
            syn::Expr::Struct(s) => Some(syn::Type::Path(syn::TypePath { qself: None, path: s.path.clone() })),
            syn::Expr::Path(p) => {
                let ident = p.path.get_ident()?.to_string();
                self.locals.iter().rev().find_map(|scope| scope.get(&ident)).cloned()
            }
            syn::Expr::Call(call) => {
                let syn::Expr::Path(func) = &*call.func else { return None };
                let segments = &func.path.segments;
                if segments.len() < 2 {
                    return None;
                }
                // `Type::constructor(args)`: the type is the path without its last segment.
                let mut type_path = syn::Path { leading_colon: func.path.leading_colon, segments: segments.clone() };
                type_path.segments.pop();
                let last_type = type_path.segments.pop()?.into_value();
                type_path.segments.push(last_type);
                let resolved = self.symbols.resolve_path(&self.module(), &type_path);
                let conditional = matches!(&resolved, Resolved::External(full) if known::classify(full) == known::External::ReadSeekIf);
                if conditional && type_args(&type_path).is_empty() {
                    // `BufReader::new(inner)`: seekable when `inner` is.
                    let inner = self.infer(call.args.first()?, depth + 1)?;
                    if let Some(last) = type_path.segments.last_mut() {
                        last.arguments = syn::PathArguments::AngleBracketed(syn::parse_quote!(<#inner>));
                    }
                }
                Some(syn::Type::Path(syn::TypePath { qself: None, path: type_path }))
            }
            _ => None,
        }
    }

    fn bind_local(&mut self, pat: &syn::Pat, ty: Option<syn::Type>) {
        if let (Some(ident), Some(ty), Some(scope)) = (pat_ident(pat), ty, self.locals.last_mut()) {
            scope.insert(ident, ty);
        }
    }

    fn visit_signature_types(&mut self, sig: &'a syn::Signature) {
        for input in &sig.inputs {
            if let syn::FnArg::Typed(pt) = input {
                self.scan_type(&pt.ty, None);
                let ty = (*pt.ty).clone();
                self.bind_local(&pt.pat, Some(ty));
            }
        }
        if let syn::ReturnType::Type(_, ty) = &sig.output {
            self.scan_type(ty, None);
        }
    }

    fn with_fn(&mut self, generics: &'a syn::Generics, f: impl FnOnce(&mut Self)) {
        self.push_env(|env, module| env.bind_generics(generics, module));
        self.locals.push(HashMap::new());
        f(self);
        self.locals.pop();
        self.envs.pop();
    }

    /// `lazy_static! { static ref NAME: Type = expr; }`: the types are ordinary statics.
    fn visit_lazy_static(&mut self, mac: &syn::Macro) {
        let Ok(statics) = mac.parse_body_with(parse_lazy_statics) else { return };
        for (name, ty) in statics {
            // The parsed tokens live only here, so leak-free scanning needs an owned type.
            let ty: &syn::Type = &ty;
            let cx = self.cx();
            let mut found = Vec::new();
            find_locks(self.symbols, self.alias_flagged, ty, &cx, None, 0, &mut found);
            for (region, lock, why) in found {
                self.report(region, lock, why, false, Some(name.clone()));
            }
        }
    }
}

impl<'a> Visit<'a> for Checker<'_, 'a> {
    fn visit_item_mod(&mut self, item: &'a syn::ItemMod) {
        if item.content.is_some() {
            let child = self.module().child(&item.ident.to_string());
            self.modules.push(child);
            syn::visit::visit_item_mod(self, item);
            self.modules.pop();
        }
    }

    fn visit_item_struct(&mut self, item: &'a syn::ItemStruct) {
        self.push_def_env(&item.ident, &item.generics);
        for field in &item.fields {
            self.scan_type(&field.ty, field.ident.as_ref().map(|i| i.to_string()).as_deref());
        }
        self.envs.pop();
    }

    fn visit_item_enum(&mut self, item: &'a syn::ItemEnum) {
        self.push_def_env(&item.ident, &item.generics);
        for field in item.variants.iter().flat_map(|v| &v.fields) {
            self.scan_type(&field.ty, field.ident.as_ref().map(|i| i.to_string()).as_deref());
        }
        self.envs.pop();
    }

    fn visit_item_union(&mut self, item: &'a syn::ItemUnion) {
        self.push_def_env(&item.ident, &item.generics);
        for field in &item.fields.named {
            self.scan_type(&field.ty, field.ident.as_ref().map(|i| i.to_string()).as_deref());
        }
        self.envs.pop();
    }

    fn visit_item_static(&mut self, item: &'a syn::ItemStatic) {
        self.scan_type(&item.ty, Some(&item.ident.to_string()));
        self.locals.push(HashMap::new());
        self.visit_expr(&item.expr);
        self.locals.pop();
    }

    fn visit_item_const(&mut self, item: &'a syn::ItemConst) {
        self.scan_type(&item.ty, Some(&item.ident.to_string()));
    }

    fn visit_item_type(&mut self, item: &'a syn::ItemType) {
        self.push_env(|env, module| env.bind_generics(&item.generics, module));
        self.scan_type(&item.ty, None);
        self.envs.pop();
    }

    fn visit_item_fn(&mut self, item: &'a syn::ItemFn) {
        self.with_fn(&item.sig.generics, |this| {
            this.visit_signature_types(&item.sig);
            this.visit_block(&item.block);
        });
    }

    fn visit_item_impl(&mut self, item: &'a syn::ItemImpl) {
        self.scan_type(&item.self_ty, None);
        let self_cx = self.cx();
        self.push_env(|env, module| {
            env.bind_generics(&item.generics, module);
            env.bind("Self".into(), Binding::Type(&item.self_ty, self_cx));
        });
        for impl_item in &item.items {
            match impl_item {
                syn::ImplItem::Fn(f) => self.with_fn(&f.sig.generics, |this| {
                    this.visit_signature_types(&f.sig);
                    this.visit_block(&f.block);
                }),
                syn::ImplItem::Const(c) => self.scan_type(&c.ty, None),
                syn::ImplItem::Type(t) => self.scan_type(&t.ty, None),
                _ => {}
            }
        }
        self.envs.pop();
    }

    fn visit_item_trait(&mut self, item: &'a syn::ItemTrait) {
        self.push_env(|env, module| env.bind_generics(&item.generics, module));
        for trait_item in &item.items {
            if let syn::TraitItem::Fn(f) = trait_item {
                self.with_fn(&f.sig.generics, |this| {
                    this.visit_signature_types(&f.sig);
                    if let Some(block) = &f.default {
                        this.visit_block(block);
                    }
                });
            }
        }
        self.envs.pop();
    }

    fn visit_local(&mut self, local: &'a syn::Local) {
        let (pat, annotated) = match &local.pat {
            syn::Pat::Type(pt) => (&*pt.pat, Some(&*pt.ty)),
            other => (other, None),
        };
        let key = pat_ident(pat);
        match annotated {
            Some(ty) => {
                self.scan_type(ty, key.as_deref());
                self.bind_local(pat, Some(ty.clone()));
            }
            None => {
                if let Some(init) = &local.init {
                    self.scan_construction(&init.expr, key.clone());
                    let inferred = self.infer(&init.expr, 0);
                    self.bind_local(pat, inferred);
                }
            }
        }
        if let Some(init) = &local.init {
            self.visit_expr(&init.expr);
            if let Some((_, diverge)) = &init.diverge {
                self.visit_expr(diverge);
            }
        }
    }

    fn visit_expr_struct(&mut self, expr: &'a syn::ExprStruct) {
        for field in &expr.fields {
            let syn::Member::Named(name) = &field.member else { continue };
            // A field whose declared type holds a lock is judged at its declaration.
            if !declared_field_has_lock(self.symbols, &self.module(), &expr.path, name) {
                self.scan_construction(&field.expr, Some(name.to_string()));
            }
        }
        syn::visit::visit_expr_struct(self, expr);
    }

    fn visit_expr_closure(&mut self, closure: &'a syn::ExprClosure) {
        self.locals.push(HashMap::new());
        syn::visit::visit_expr_closure(self, closure);
        self.locals.pop();
    }

    fn visit_macro(&mut self, mac: &'a syn::Macro) {
        if mac.path.segments.last().is_some_and(|s| s.ident == "lazy_static") {
            self.visit_lazy_static(mac);
        }
    }

    fn visit_expr(&mut self, expr: &'a syn::Expr) {
        // Guard against stack exhaustion on pathological expression chains.
        self.depth += 1;
        if self.depth < 512 {
            syn::visit::visit_expr(self, expr);
        }
        self.depth -= 1;
    }
}

fn pat_ident(pat: &syn::Pat) -> Option<String> {
    match pat {
        syn::Pat::Ident(p) => Some(p.ident.to_string()),
        syn::Pat::Type(pt) => pat_ident(&pt.pat),
        _ => None,
    }
}

fn chain_root_is(expr: &syn::Expr, names: &[&str]) -> bool {
    match expr {
        syn::Expr::MethodCall(m) => chain_root_is(&m.receiver, names),
        syn::Expr::Call(c) => match &*c.func {
            syn::Expr::Path(p) => p.path.segments.iter().any(|s| names.contains(&s.ident.to_string().as_str())),
            _ => false,
        },
        _ => false,
    }
}

/// The `Lock::new(value)` call inside an initializer, looking through `Arc::new`,
/// `Box::new`, `Some` and friends.
fn lock_constructor<'e>(symbols: &Symbols<'_>, module: &ModulePath, expr: &'e syn::Expr) -> Option<&'e syn::ExprCall> {
    match expr {
        syn::Expr::Call(call) => {
            let syn::Expr::Path(func) = &*call.func else { return None };
            let segs = &func.path.segments;
            let is_new = segs.last().is_some_and(|s| s.ident == "new" || s.ident == "const_new");
            if is_new && segs.len() >= 2 {
                let mut type_path = func.path.clone();
                type_path.segments.pop();
                if let Some(last) = type_path.segments.pop() {
                    type_path.segments.push(last.into_value());
                }
                if let Resolved::External(full) = symbols.resolve_path(module, &type_path) {
                    if known::is_lock(&full) {
                        return Some(call);
                    }
                }
            }
            // `Arc::new(Mutex::new(..))`, `Some(Mutex::new(..))`.
            call.args.first().and_then(|arg| lock_constructor(symbols, module, arg))
        }
        syn::Expr::Paren(p) => lock_constructor(symbols, module, &p.expr),
        syn::Expr::MethodCall(m) if m.method == "into" => lock_constructor(symbols, module, &m.receiver),
        _ => None,
    }
}

fn declared_field_has_lock(symbols: &Symbols<'_>, module: &ModulePath, path: &syn::Path, field: &syn::Ident) -> bool {
    let Resolved::Def(id) = symbols.resolve_path(module, path) else { return false };
    let DefKind::Struct(s) = &symbols.def(id).kind else { return false };
    s.fields.iter().any(|f| {
        f.ident.as_ref() == Some(field) && {
            let text = f.ty.to_token_stream().to_string();
            LOCK_NAMES.iter().any(|l| text.contains(l))
        }
    })
}

/// Walk a type, and for each lock in it, judge the value it guards. Aliases flagged
/// where they are defined are not flagged again where used; generic aliases are
/// expanded with their arguments (`type Locked<T> = Mutex<T>; Locked<File>`).
fn find_locks<'a>(
    symbols: &Symbols<'a>,
    alias_flagged: &RefCell<HashMap<DefId, bool>>,
    ty: &'a syn::Type,
    cx: &TyCtx<'a>,
    report_at: Option<Region>,
    depth: usize,
    found: &mut Vec<(Region, String, Why)>,
) {
    if depth > MAX_ALIAS_DEPTH * 4 {
        return;
    }
    let recurse = |t: &'a syn::Type, found: &mut Vec<(Region, String, Why)>| {
        find_locks(symbols, alias_flagged, t, cx, report_at, depth + 1, found)
    };
    match ty {
        syn::Type::Path(tp) if tp.qself.is_none() => {
            let args = type_args(&tp.path);
            match symbols.resolve_path(&cx.module, &tp.path) {
                Resolved::External(full) if known::is_lock(&full) => {
                    // `lock_api::Mutex<R, T>` guards its last argument.
                    if let Some(guarded) = args.last() {
                        if let Some(why) = symbols.read_seek(guarded, cx) {
                            found.push((report_at.unwrap_or_else(|| Region::of(ty.span())), display_type(ty), why));
                        }
                    }
                }
                Resolved::Def(id) if symbols.lock_wrapper(id).is_some() => {
                    let guarded = symbols.lock_wrapper(id).and_then(|i| args.get(i));
                    if let Some(why) = guarded.and_then(|g| symbols.read_seek(g, cx)) {
                        found.push((report_at.unwrap_or_else(|| Region::of(ty.span())), display_type(ty), why));
                    }
                }
                Resolved::Def(id) if matches!(symbols.def(id).kind, DefKind::Alias(_)) => {
                    let DefKind::Alias(alias) = &symbols.def(id).kind else { return };
                    if !args.is_empty() && !alias_is_flagged(symbols, alias_flagged, id) && depth < MAX_ALIAS_DEPTH {
                        let mut env = Env::default();
                        for (param, arg) in alias.generics.type_params().zip(&args) {
                            env.bind(param.ident.to_string(), Binding::Type(arg, cx.clone()));
                        }
                        let alias_cx = TyCtx { module: symbols.def(id).module.clone(), env: Rc::new(env) };
                        let at = report_at.or_else(|| Some(Region::of(ty.span())));
                        find_locks(symbols, alias_flagged, &alias.ty, &alias_cx, at, depth + 1, found);
                    }
                }
                _ => {}
            }
            for arg in args {
                recurse(arg, found);
            }
        }
        syn::Type::Reference(r) => recurse(&r.elem, found),
        syn::Type::Paren(p) => recurse(&p.elem, found),
        syn::Type::Group(g) => recurse(&g.elem, found),
        syn::Type::Array(a) => recurse(&a.elem, found),
        syn::Type::Slice(s) => recurse(&s.elem, found),
        syn::Type::Ptr(p) => recurse(&p.elem, found),
        syn::Type::Tuple(t) => t.elems.iter().for_each(|e| recurse(e, found)),
        _ => {}
    }
}

/// Does an alias's own definition hold a flagged lock (so it is reported there)?
fn alias_is_flagged<'a>(symbols: &Symbols<'a>, cache: &RefCell<HashMap<DefId, bool>>, id: DefId) -> bool {
    if let Some(&flagged) = cache.borrow().get(&id) {
        return flagged;
    }
    cache.borrow_mut().insert(id, false);
    let def = symbols.def(id);
    let DefKind::Alias(alias) = &def.kind else { return false };
    let mut env = Env::default();
    env.bind_generics(&alias.generics, &def.module);
    let cx = TyCtx { module: def.module.clone(), env: Rc::new(env) };
    let mut found = Vec::new();
    find_locks(symbols, cache, &alias.ty, &cx, None, MAX_ALIAS_DEPTH, &mut found);
    let flagged = !found.is_empty();
    cache.borrow_mut().insert(id, flagged);
    flagged
}

fn parse_lazy_statics(input: syn::parse::ParseStream<'_>) -> syn::Result<Vec<(String, syn::Type)>> {
    let mut statics = Vec::new();
    while !input.is_empty() {
        input.call(syn::Attribute::parse_outer)?;
        input.parse::<syn::Visibility>()?;
        input.parse::<syn::Token![static]>()?;
        input.parse::<syn::Token![ref]>()?;
        let name: syn::Ident = input.parse()?;
        input.parse::<syn::Token![:]>()?;
        let ty: syn::Type = input.parse()?;
        input.parse::<syn::Token![=]>()?;
        input.parse::<syn::Expr>()?;
        input.parse::<syn::Token![;]>()?;
        statics.push((name.to_string(), ty));
    }
    Ok(statics)
}

/// Methods that only write (or position a writer): a value used only for these is a
/// writer's, which readers never queue on.
const WRITE_METHODS: &[&str] = &[
    "write",
    "write_all",
    "write_fmt",
    "write_vectored",
    "write_str",
    "flush",
    "set_len",
    "sync_all",
    "sync_data",
    "seek",
    "rewind",
    "stream_position",
    "metadata",
    "set_permissions",
];
/// Methods that take a lock.
const ACQUIRE_METHODS: &[&str] = &[
    "lock",
    "read",
    "write",
    "try_lock",
    "try_read",
    "try_write",
    "lock_arc",
    "read_arc",
    "write_arc",
    "blocking_lock",
    "blocking_read",
    "blocking_write",
    "upgradable_read",
];
/// Methods that hand on the same value (`guard.as_mut().unwrap()`).
const PASS_THROUGH_METHODS: &[&str] = &[
    "unwrap",
    "expect",
    "as_mut",
    "as_ref",
    "ok_or",
    "ok_or_else",
    "map_err",
    "as_deref",
    "as_deref_mut",
    "get_mut",
    "deref_mut",
    "borrow_mut",
    "context",
    "with_context",
];
/// Methods that neither read nor write the value, or move it out of the lock
/// (`take`): what happens to it next is not under the lock.
const HARMLESS_METHODS: &[&str] = &["is_some", "is_none", "take", "replace", "insert", "get_or_insert_with"];

/// The keys (of `lock_keys`, names the lock is reached by, and `field_keys`, fields
/// holding the value) whose every observed use only writes.
fn write_only_keys(files: &[ParsedFile], lock_keys: &HashSet<&str>, field_keys: &HashSet<&str>) -> HashSet<String> {
    let mut scan = WriteOnlyScan { lock_keys, field_keys, bindings: HashMap::new(), counts: HashMap::new() };
    for file in files {
        scan.visit_file(&file.ast);
    }
    scan.counts.into_iter().filter(|(_, (writes, others))| *writes > 0 && *others == 0).map(|(key, _)| key).collect()
}

/// Classifies every use of a lock (`self.log.lock()`) or of a field holding the value
/// (`self.file`), following `Option` plumbing and `let`/`if let`/`match` bindings.
struct WriteOnlyScan<'k> {
    lock_keys: &'k HashSet<&'k str>,
    field_keys: &'k HashSet<&'k str>,
    /// Local bindings that stand for a key's value, within the current function.
    bindings: HashMap<String, String>,
    /// key -> (uses that write, other uses)
    counts: HashMap<String, (usize, usize)>,
}

impl WriteOnlyScan<'_> {
    /// The key whose value `expr` is, if any.
    fn root(&self, expr: &syn::Expr) -> Option<String> {
        match expr {
            syn::Expr::Try(e) => self.root(&e.expr),
            syn::Expr::Await(e) => self.root(&e.base),
            syn::Expr::Paren(e) => self.root(&e.expr),
            syn::Expr::Group(e) => self.root(&e.expr),
            syn::Expr::Reference(e) => self.root(&e.expr),
            syn::Expr::Unary(e) if matches!(e.op, syn::UnOp::Deref(_)) => self.root(&e.expr),
            // `let file = match self.file { Some(ref f) => f, None => return };`
            syn::Expr::Match(m) => self.root(&m.expr),
            syn::Expr::MethodCall(m) => self.root_of_call(m),
            syn::Expr::Field(f) => self.root_of_field(f),
            syn::Expr::Path(p) => self.root_of_path(p),
            _ => None,
        }
    }

    fn root_of_call(&self, m: &syn::ExprMethodCall) -> Option<String> {
        let method = m.method.to_string();
        if PASS_THROUGH_METHODS.contains(&method.as_str()) {
            return self.root(&m.receiver);
        }
        if !m.args.is_empty() || !ACQUIRE_METHODS.contains(&method.as_str()) {
            return None;
        }
        let name = match &*m.receiver {
            syn::Expr::Field(f) => member_name(&f.member)?,
            syn::Expr::Path(p) => p.path.segments.last()?.ident.to_string(),
            _ => return None,
        };
        self.lock_keys.contains(name.as_str()).then_some(name)
    }

    fn root_of_field(&self, f: &syn::ExprField) -> Option<String> {
        member_name(&f.member).filter(|n| self.field_keys.contains(n.as_str()))
    }

    fn root_of_path(&self, p: &syn::ExprPath) -> Option<String> {
        self.bindings.get(&p.path.get_ident()?.to_string()).cloned()
    }

    fn count(&mut self, key: String, writes: bool) {
        let entry = self.counts.entry(key).or_default();
        if writes {
            entry.0 += 1;
        } else {
            entry.1 += 1;
        }
    }

    fn bind(&mut self, pat: &syn::Pat, key: &str) {
        struct Idents<'b>(&'b mut Vec<String>);
        impl Visit<'_> for Idents<'_> {
            fn visit_pat_ident(&mut self, p: &syn::PatIdent) {
                self.0.push(p.ident.to_string());
            }
        }
        let mut names = Vec::new();
        Idents(&mut names).visit_pat(pat);
        for name in names {
            self.bindings.insert(name, key.to_string());
        }
    }

    fn in_function(&mut self, f: impl FnOnce(&mut Self)) {
        let outer = std::mem::take(&mut self.bindings);
        f(self);
        self.bindings = outer;
    }
}

fn member_name(member: &syn::Member) -> Option<String> {
    match member {
        syn::Member::Named(n) => Some(n.to_string()),
        syn::Member::Unnamed(_) => None,
    }
}

impl<'ast> Visit<'ast> for WriteOnlyScan<'_> {
    fn visit_item_fn(&mut self, item: &'ast syn::ItemFn) {
        self.in_function(|this| syn::visit::visit_item_fn(this, item));
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
        if let Some(key) = self.root(&call.receiver) {
            if PASS_THROUGH_METHODS.contains(&method.as_str()) {
                // The value handed on to something that is not a method call.
                self.count(key, false);
            } else if !HARMLESS_METHODS.contains(&method.as_str()) {
                self.count(key, WRITE_METHODS.contains(&method.as_str()));
            }
            call.args.iter().for_each(|arg| self.visit_expr(arg));
            return;
        }
        if let Some(key) = self.root_of_call(call) {
            // A lock taken and handed on to something that is not a method call.
            self.count(key, false);
            return;
        }
        syn::visit::visit_expr_method_call(self, call);
    }

    fn visit_local(&mut self, local: &'ast syn::Local) {
        if let Some(init) = &local.init {
            if let Some(key) = self.root(&init.expr) {
                self.bind(&local.pat, &key);
                return;
            }
        }
        syn::visit::visit_local(self, local);
    }

    fn visit_expr_let(&mut self, expr: &'ast syn::ExprLet) {
        match self.root(&expr.expr) {
            Some(key) => self.bind(&expr.pat, &key),
            None => syn::visit::visit_expr_let(self, expr),
        }
    }

    fn visit_expr_match(&mut self, expr: &'ast syn::ExprMatch) {
        let Some(key) = self.root(&expr.expr) else {
            return syn::visit::visit_expr_match(self, expr);
        };
        for arm in &expr.arms {
            self.bind(&arm.pat, &key);
            self.visit_expr(&arm.body);
        }
    }

    fn visit_expr_assign(&mut self, expr: &'ast syn::ExprAssign) {
        // `*guard = Some(file)` stores a value; it reads nothing.
        if self.root(&expr.left).is_none() {
            self.visit_expr(&expr.left);
        }
        self.visit_expr(&expr.right);
    }

    fn visit_expr_path(&mut self, path: &'ast syn::ExprPath) {
        if let Some(key) = self.root_of_path(path) {
            self.count(key, false);
        }
    }

    fn visit_expr_field(&mut self, field: &'ast syn::ExprField) {
        match self.root_of_field(field) {
            Some(key) => self.count(key, false),
            None => syn::visit::visit_expr_field(self, field),
        }
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        let name = mac.path.segments.last().map(|s| s.ident.to_string()).unwrap_or_default();
        let parsed = mac.parse_body_with(syn::punctuated::Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated);
        let Ok(args) = parsed else { return };
        for (i, arg) in args.iter().enumerate() {
            match self.root(arg) {
                Some(key) if i == 0 && (name == "write" || name == "writeln") => self.count(key, true),
                _ => self.visit_expr(arg),
            }
        }
    }
}
