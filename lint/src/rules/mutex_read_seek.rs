//! # mutex_read_seek
//!
//! Flags a lock (`Mutex`, `RwLock`, …) whose guarded value is `Read + Seek` and is read
//! through the lock.
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
//! ## Only locks that are read
//!
//! A lock is flagged when its value is read through it somewhere in the crate: a read
//! or `BufRead` method, a seek (of a value that is not also written), `by_name` or
//! `by_index`, `io::copy` from it, the value handed mutably to another crate's function,
//! or a call of the crate's own function or method whose body reads it (for `dyn Trait`
//! values: the implementors' methods). A parameter whose type is no reader (`&Path`,
//! `&str`, a type parameter bounded only by `AsRawFd`, `Send`, …) is not read by the
//! crate it is handed to: `File::create(path)` reads nothing. Nor is a value reached
//! through an `RwLock`'s shared guard (`RwLockReadGuard::map(guard, ..)`): the other
//! crate gets `&T` at most, and readers share the lock. A `pub` field or accessor of a `pub` type that the
//! crate itself never locks counts as read: its callers may read. Not flagged: a lock only
//! written through (a log), only used as a descriptor (`as_raw_fd`, `metadata`), or never
//! read; an `RwLock` whose readers take the shared lock and read positionally
//! (`read_exact_at`). A `Mutex` read only positionally is flagged with help that says the
//! lock is not needed.
//!
//! One lock is one finding, at its declaration; its accessor, a constructor parameter
//! and the `Mutex::new` in a constructor are notes on it. `Arc` handles to one locked
//! trait object (`Arc<Mutex<dyn Device>>`) held in several structs are one finding too.
//!
//! ## Known limits
//!
//! - Uses are matched by name (a field, static or accessor), not by type: a use of
//!   another value's field of the same name (`other.inner`) counts for this one, but
//!   `self.inner` in another type's impl does not. Uses inside `macro_rules!`
//!   bodies are not seen, so a public lock used only there counts as exposed.
//! - A `File` reached through a field whose name says it is a stream (`tap_file`,
//!   `resize_pipe`, `serial_out`, `evt_fd`) is taken as not seekable.
//! - Names are resolved without compiling: through `use` (renames, globs, `self` in
//!   groups, 2015 paths), `extern crate` renames, aliases, `#[cfg]` forms and full paths
//!   across the package's files. Types a workspace crate re-exports are not followed,
//!   except locks: any crate's `Mutex`/`RwLock` is taken as a lock. Macro-generated types
//!   are not seen.
//!
//! Silence one finding with `// lockscope: allow(mutex_read_seek) reason` on the line
//! or the line above.

use super::{PackageContext, Rule};
use crate::diagnostic::{Finding, Related, Severity};
use crate::parse::ParsedFile;
use crate::prefilter::Prefilter;
use crate::source::{ModulePath, Region};
use crate::symbols::known::{self, Leaf};
use crate::symbols::read_seek::{display_type, type_args, Binding, Env, TyCtx, Why};
use crate::symbols::{DefId, DefKind, PathNames, Resolved, Symbols};
use crate::uses::{self, Evidence, Key, KeyKind};
use quote::ToTokens;
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;
use syn::spanned::Spanned;
use syn::visit::Visit;

pub struct MutexReadSeek;

const NAME: &str = "mutex_read_seek";
use known::LOCK_TYPES as LOCK_NAMES;

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
        let mut flows = HandleFlows::default();
        let alias_flagged = RefCell::new(HashMap::new());
        for file in cx.files.iter().filter(|f| f.source.report) {
            let mut checker = Checker {
                symbols: cx.symbols,
                file,
                modules: vec![file.source.module.clone()],
                envs: vec![Rc::new(Env::default())],
                candidates: &mut candidates,
                flows: &mut flows,
                alias_flagged: &alias_flagged,
                locals: Vec::new(),
                owner: None,
                body: None,
                public_fn: false,
                sig: None,
                depth: 0,
            };
            checker.visit_file(&file.ast);
        }
        if candidates.is_empty() {
            return;
        }
        let summaries = cx.symbols.summaries();
        let alias_users = alias_users(cx.files, &candidates);
        let mut keys: Vec<Key> = candidates
            .iter()
            .filter_map(|c| match &c.place {
                Place::Named(key) => Some(key.clone()),
                _ => None,
            })
            .collect();
        keys.extend(alias_users.values().flatten().cloned());
        keys.sort();
        keys.dedup();
        let named = uses::lock_uses(cx.files, &keys, summaries);
        // A field's uses: of unknown owner, or on `self` in its own type's impls.
        let by_name = |key: &Key, owner: Option<&str>| keys.binary_search(key).ok().map(|i| named[i].of_owner(owner));
        let evidence = |c: &Candidate<'_>| -> Evidence {
            let owner = c.owner.as_deref().filter(|_| matches!(&c.place, Place::Named(k) if k.kind == KeyKind::Member));
            let mut e = match &c.place {
                Place::Named(name) => by_name(name, owner).unwrap_or_default(),
                Place::ImplSelf(item) => uses::lock_uses_in_impl(item, "self", summaries),
                Place::InBody(name, body) => uses::lock_uses_in_block(body, name, summaries),
                Place::Alias(_) | Place::Nowhere => Evidence::default(),
            };
            if let Place::Alias(alias) = &c.place {
                for user in alias_users.get(alias).into_iter().flatten() {
                    e.merge(&by_name(user, None).unwrap_or_default());
                }
            }
            e
        };
        let stored_locals = flows.stored_locals();
        let copies = flows.resolved();
        for group in group(candidates, &copies, &stored_locals) {
            let mut seen = Evidence::default();
            group.iter().for_each(|c| seen.merge(&evidence(c)));
            let exposed = group.iter().any(|c| c.exposed);
            let mut members = group.into_iter();
            let Some(lock) = members.next() else { continue };
            // `fd: Mutex<File>`, `to_guest_pipe: Mutex<File>`: a stream, which cannot seek.
            let named_stream = lock.place.name().is_some_and(known::names_a_stream);
            if named_stream && lock.why.leaf == Leaf::File && lock.why.outer.is_none() {
                continue;
            }
            // Through a package type (`Mutex<Inner>` → `Inner.files` → …), the value is
            // read when that field is: directly through the guard, or by a method of the
            // type called on it.
            let (reads, field_read) = match &lock.why.outer {
                Some((owner, field)) => {
                    let direct = seen.fields_read.iter().filter(|f| *f == field).count();
                    let by_methods =
                        seen.crate_calls.iter().filter(|m| summaries.method_reads_field(owner, m, field)).count();
                    let read_anywhere = summaries.reading_fields.contains(&(owner.clone(), field.clone()));
                    // The whole value handed to another crate may be read there, field and all.
                    (direct + by_methods + seen.opaque_whole, read_anywhere || direct > 0)
                }
                None => (seen.cursor_reads(unknown_methods_read(&lock.why)), true),
            };
            let verdict = if reads > 0 {
                Verdict::Read
            } else if seen.positional_exclusive > 0 || (seen.positional_shared > 0 && !lock.rw) {
                Verdict::Positional
            } else if seen.acquired == 0 && exposed && (field_read || exposes_field(cx.symbols, &lock.why)) {
                Verdict::Read
            } else {
                continue;
            };
            out.push(lock.into_finding(verdict, members.collect()));
        }
    }
}

/// Does a public lock's value expose the field that holds the reader (`pub files`)?
fn exposes_field(symbols: &Symbols<'_>, why: &Why) -> bool {
    why.outer.as_ref().is_some_and(|(owner, field)| symbols.public_field(owner, field))
}

/// Are methods lockscope does not know, called on the guarded value, reads? Not for a
/// standard file or cursor or a zip archive (their API is known), yes for another crate's
/// reader (`pdb::PDB<Cursor<…>>`) or a generic one.
fn unknown_methods_read(why: &Why) -> bool {
    let known_api = why.outer.is_none() && matches!(why.leaf, Leaf::File | Leaf::Bytes) && why.chain.len() <= 2;
    !known_api
}

/// What the uses of a flagged lock show.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Verdict {
    /// Read through the cursor (or handed to callers who may).
    Read,
    /// Read only positionally (`read_at`) under an exclusive lock: the lock is unneeded.
    Positional,
}

/// One group per lock: a declaration with the other places that mention the same lock
/// (its accessor, a constructor parameter, the `Mutex::new` in a constructor) as related
/// notes; other candidates alone.
fn group<'a>(
    candidates: Vec<Candidate<'a>>,
    copies: &[HandleCopy],
    stored_locals: &[(String, &'a syn::Block, (String, String))],
) -> Vec<Vec<Candidate<'a>>> {
    let (declarations, others): (Vec<_>, Vec<_>) = candidates.into_iter().partition(|c| c.role == Role::Declaration);
    let mut groups: Vec<Vec<Candidate<'_>>> = declarations.into_iter().map(|d| vec![d]).collect();
    for other in others {
        // A lock built into a local that a constructor stores in a field is that field's.
        let field_of_local = |g: &&mut Vec<Candidate<'_>>| {
            let Place::InBody(local, body) = &other.place else { return false };
            stored_locals.iter().any(|(name, b, (target, field))| {
                name == local
                    && std::ptr::eq(*b, *body)
                    && g[0].role == Role::Declaration
                    && g[0].owner.as_deref() == Some(target.as_str())
                    && g[0].place.name() == Some(field.as_str())
            })
        };
        if let Some(g) = groups.iter_mut().find(field_of_local) {
            g.push(other);
            continue;
        }
        let same_owner = |g: &&mut Vec<Candidate<'_>>| other.owner.is_some() && g[0].owner == other.owner;
        let of_owner = groups.iter_mut().filter(same_owner).collect::<Vec<_>>();
        let target = match of_owner.len() {
            1 => of_owner.into_iter().next(),
            _ => of_owner.into_iter().find(|g| g[0].lock == other.lock || g[0].place.name() == other.place.name()),
        };
        match target {
            Some(g) => g.push(other),
            None => groups.push(vec![other]),
        }
    }
    // `Arc` handles to a locked trait object (`Arc<Mutex<dyn Device>>`) held in several
    // places are handles to the objects the crate registers once and shares: one
    // finding, at the first, with the others as notes.
    let handle = |c: &Candidate<'_>| c.shared && c.lock.contains("dyn ");
    let mut merged: Vec<Vec<Candidate<'_>>> = Vec::new();
    for group in groups {
        let same = |g: &&mut Vec<Candidate<'_>>| handle(&g[0]) && handle(&group[0]) && g[0].lock == group[0].lock;
        match merged.iter_mut().find(same) {
            Some(first) => first.extend(group),
            None => merged.push(group),
        }
    }
    // A field filled with a clone of another's handle (`Session { archive:
    // self.archive.clone() }`) holds the same lock.
    for copy in copies {
        let at = |owner: Option<&str>, field: &str, lock: Option<&str>| {
            merged.iter().position(|g| {
                g[0].role == Role::Declaration
                    && owner.map_or(true, |o| g[0].owner.as_deref() == Some(o))
                    && g[0].place.name() == Some(field)
                    && lock.map_or(true, |l| without_lifetimes(&g[0].lock) == without_lifetimes(l))
            })
        };
        let to = at(Some(&copy.to.0), &copy.to.1, None);
        let lock = to.map(|i| merged[i][0].lock.clone());
        let from = at(copy.from.0.as_deref(), &copy.from.1, lock.as_deref().filter(|_| copy.from.0.is_none()));
        if let (Some(from), Some(to)) = (from, to) {
            if from != to {
                let moved = merged.remove(to);
                let from = if to < from { from - 1 } else { from };
                merged[from].extend(moved);
            }
        }
    }
    merged
}

/// `Target { field: self.source.clone() }` written in an impl of `Owner`: the field
/// `(Target, field)` gets a handle to the lock in `(Owner, source)` (`None`: a field of
/// that name of some other value, `other.source.clone()`).
struct HandleCopy {
    from: SourceField,
    to: (String, String),
}

/// How handles travel through constructors: `Target::new(self.g.clone())` in an impl of
/// `Owner`, and `fn new(h: …) -> Self { Self { field: h } }`.
#[derive(Default)]
struct HandleFlows<'a> {
    copies: Vec<HandleCopy>,
    /// Handles passed as arguments: where to, and which field they clone.
    passed: Vec<(Parameter, SourceField)>,
    /// Locals passed as arguments, or clones of them.
    handed: Vec<HandedLocal<'a>>,
    /// Constructor parameters stored in a field of the struct they build.
    stored: Vec<(Parameter, (String, String))>,
}

/// A local of a body handed to `Target::function` (`Target::new(image.clone())`).
struct HandedLocal<'a> {
    to: Parameter,
    local: String,
    body: &'a syn::Block,
}

/// `(Target, function, index)`: a parameter of `Target::function`.
type Parameter = (String, String, usize);
/// `(Owner, field)`; owner `None` when the field is another value's.
type SourceField = (Option<String>, String);

impl<'a> HandleFlows<'a> {
    /// The fields `(Target, field)` a local of `body` is stored in, through constructors.
    fn stored_locals(&self) -> Vec<(String, &'a syn::Block, (String, String))> {
        let mut out = Vec::new();
        for handed in &self.handed {
            for (_, to) in self.stored.iter().filter(|(param, _)| *param == handed.to) {
                out.push((handed.local.clone(), handed.body, to.clone()));
            }
        }
        out
    }

    /// Every copy, with handles passed to constructors that store them.
    fn resolved(self) -> Vec<HandleCopy> {
        let mut copies = self.copies;
        for (call, from) in self.passed {
            for (param, to) in &self.stored {
                if *param == call {
                    copies.push(HandleCopy { from: from.clone(), to: to.clone() });
                }
            }
        }
        copies
    }
}

/// A type as shown, with its lifetimes erased: `Mutex<Pdb<'d>>` and `Mutex<Pdb<'data>>`
/// are one type in two impls.
fn without_lifetimes(shown: &str) -> String {
    let mut out = String::with_capacity(shown.len());
    let mut chars = shown.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\'' {
            while chars.peek().is_some_and(|c| c.is_alphanumeric() || *c == '_') {
                chars.next();
            }
        }
        out.push(c);
    }
    out
}

/// The local an argument hands over, itself or a clone (`image`, `image.clone()`,
/// `Arc::clone(&image)`).
fn handed_local(expr: &syn::Expr) -> Option<String> {
    let inner = match expr {
        syn::Expr::MethodCall(m) if m.method == "clone" && m.args.is_empty() => &*m.receiver,
        syn::Expr::Call(c) if c.args.len() == 1 => match (&*c.func, c.args.first()) {
            (syn::Expr::Path(f), Some(arg)) if f.path.segments.last().is_some_and(|s| s.ident == "clone") => arg,
            _ => return None,
        },
        other => other,
    };
    let inner = match inner {
        syn::Expr::Reference(r) => &*r.expr,
        other => other,
    };
    let syn::Expr::Path(p) = inner else { return None };
    p.path.get_ident().map(ToString::to_string)
}

/// The field an expression clones a handle of (`self.g.clone()`, `Arc::clone(&x.g)`), and
/// whether it is a field of `self`.
fn cloned_field(expr: &syn::Expr) -> Option<(bool, String)> {
    let inner = match expr {
        syn::Expr::MethodCall(m) if m.method == "clone" && m.args.is_empty() => &*m.receiver,
        syn::Expr::Call(c) if c.args.len() == 1 => match (&*c.func, c.args.first()) {
            (syn::Expr::Path(f), Some(arg)) if f.path.segments.last().is_some_and(|s| s.ident == "clone") => arg,
            _ => return None,
        },
        _ => return None,
    };
    let inner = match inner {
        syn::Expr::Reference(r) => &*r.expr,
        other => other,
    };
    let syn::Expr::Field(f) = inner else { return None };
    let syn::Expr::Path(base) = &*f.base else { return None };
    let syn::Member::Named(name) = &f.member else { return None };
    Some((base.path.is_ident("self"), name.to_string()))
}

/// For each flagged alias (`type Shared = Arc<Mutex<File>>`), the names of the fields,
/// statics and parameters declared with it: the places its locks are used through.
fn alias_users(files: &[ParsedFile], candidates: &[Candidate<'_>]) -> HashMap<String, Vec<Key>> {
    let aliases: HashSet<&str> = candidates
        .iter()
        .filter_map(|c| match &c.place {
            Place::Alias(name) => Some(name.as_str()),
            _ => None,
        })
        .collect();
    if aliases.is_empty() {
        return HashMap::new();
    }
    struct Users<'s> {
        aliases: &'s HashSet<&'s str>,
        found: HashMap<String, Vec<Key>>,
    }
    impl Users<'_> {
        fn note(&mut self, name: Option<Key>, ty: &syn::Type) {
            let Some(name) = name else { return };
            let mut names = PathNames::default();
            names.visit_type(ty);
            for alias in names.into_names().into_iter().filter(|n| self.aliases.contains(n.as_str())) {
                self.found.entry(alias).or_default().push(name.clone());
            }
        }
    }
    impl<'ast> Visit<'ast> for Users<'_> {
        fn visit_field(&mut self, f: &'ast syn::Field) {
            self.note(f.ident.as_ref().map(|i| Key::member(i.to_string())), &f.ty);
        }
        fn visit_item_static(&mut self, s: &'ast syn::ItemStatic) {
            self.note(Some(Key::path(s.ident.to_string())), &s.ty);
        }
        fn visit_pat_type(&mut self, p: &'ast syn::PatType) {
            self.note(pat_ident(&p.pat).map(Key::path), &p.ty);
        }
    }
    let mut users = Users { aliases: &aliases, found: HashMap::new() };
    files.iter().for_each(|f| users.visit_file(&f.ast));
    users.found
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

/// A lock around a `Read + Seek` value, before its uses decide whether it is flagged.
struct Candidate<'a> {
    file: std::sync::Arc<crate::source::SourceFile>,
    region: Region,
    /// `Mutex<File>`, or `Mutex::new(…)` for a lock found where it is built.
    lock: String,
    why: Why,
    /// An `RwLock`: positional reads under its shared guard need no exclusive access.
    rw: bool,
    role: Role,
    /// Where the lock's uses are found.
    place: Place<'a>,
    /// The type this is a field of, or whose impl block this is in: places of one lock.
    owner: Option<String>,
    /// Reachable by the crate's users: a `pub` field of a `pub` type, a `pub` static or
    /// accessor.
    exposed: bool,
    /// Held through an `Arc`: a handle to a lock that may be built elsewhere.
    shared: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    /// A field, static, const, alias or impl self type: where the lock lives.
    Declaration,
    /// A function's return type.
    Accessor,
    Parameter,
    /// A `let` annotation.
    Local,
    /// `Mutex::new(…)`.
    Built,
}

/// Where to look for what is done through a lock.
enum Place<'a> {
    /// Uses by this name anywhere in the crate (a field, static or accessor).
    Named(Key),
    /// Uses of `self` in this impl (`impl Device for Mutex<File>`).
    ImplSelf(&'a syn::ItemImpl),
    /// Uses of a parameter or local in its function's body.
    InBody(String, &'a syn::Block),
    /// Uses of the fields, statics and parameters declared with this alias.
    Alias(String),
    Nowhere,
}

impl Place<'_> {
    fn name(&self) -> Option<&str> {
        match self {
            Place::Named(Key { name, .. }) | Place::InBody(name, _) | Place::Alias(name) => Some(name),
            Place::ImplSelf(_) | Place::Nowhere => None,
        }
    }
}

impl Candidate<'_> {
    fn into_finding(self, verdict: Verdict, others: Vec<Candidate<'_>>) -> Finding {
        let chain = std::iter::once(format!("`{}`", self.lock))
            .chain(self.why.chain.iter().cloned())
            .collect::<Vec<_>>()
            .join(" → ");
        let message = if self.role == Role::Built {
            format!("lock built around a `Read + Seek` value: {chain}")
        } else {
            format!("lock around a `Read + Seek` value: {chain}")
        };
        let help = match (verdict, self.why.leaf) {
            (Verdict::Positional, _) => {
                "its readers already read positionally (`read_at`, `read_exact_at` take `&self`), so the lock only makes them wait: share the value itself (or an `Arc` of it) and drop the lock"
            }
            (_, Leaf::File) => {
                "read the file with positional reads (`std::os::unix::fs::FileExt::read_at` takes `&self`) and drop the lock, or memory-map it and read the `&[u8]` by offset"
            }
            (_, Leaf::Bytes) => {
                "give each reader its own clone (cheap over a `Cursor<&[u8]>`), or better, read the in-memory or memory-mapped `&[u8]` by offset with no lock"
            }
            (_, Leaf::Generic) => {
                "give each reader its own reader (require `Clone` and clone per reader), or take a `&[u8]` or a positional reader (`FileExt::read_at`) and read by offset with no lock"
            }
            (_, Leaf::CrateReader) => {
                "give each reader its own instance (implement `Clone`), or add offset-based reads that take `&self` so no lock is needed"
            }
        };
        let related = others
            .into_iter()
            .map(|o| Related {
                message: match o.role {
                    Role::Accessor => "the same lock is handed out by this accessor",
                    Role::Parameter => "the same lock is passed in here",
                    Role::Local => "the same lock is held here",
                    Role::Built => "the same lock is built here",
                    Role::Declaration if o.shared => "another `Arc` handle to this lock is held here",
                    Role::Declaration => "the same lock is declared here",
                }
                .into(),
                file: o.file,
                region: o.region,
            })
            .collect();
        let label = match verdict {
            Verdict::Read => "`Read` and `Seek` take `&mut self`: every reader queues on this lock",
            Verdict::Positional => "positional reads need no lock, yet every reader queues on this one",
        };
        Finding {
            rule: NAME,
            severity: Severity::Warning,
            file: self.file,
            region: self.region,
            message,
            label: label.into(),
            help: Some(help.into()),
            related,
        }
    }
}

struct Checker<'c, 'a> {
    symbols: &'c Symbols<'a>,
    file: &'a ParsedFile,
    modules: Vec<ModulePath>,
    envs: Vec<Rc<Env<'a>>>,
    candidates: &'c mut Vec<Candidate<'a>>,
    flows: &'c mut HandleFlows<'a>,
    /// Aliases whose definition is already flagged: their uses are not flagged again.
    alias_flagged: &'c RefCell<HashMap<DefId, bool>>,
    /// Types of `let` bindings and parameters seen so far in the current function.
    locals: Vec<HashMap<String, syn::Type>>,
    /// The type whose definition or impl block is being read.
    owner: Option<String>,
    /// The body of the function being read.
    body: Option<&'a syn::Block>,
    /// The function being read is `pub`.
    public_fn: bool,
    /// Its signature, to tell a constructor's parameters.
    sig: Option<&'a syn::Signature>,
    depth: usize,
}

/// How a lock found in a written type is reached.
struct Site<'a> {
    role: Role,
    place: Place<'a>,
    exposed: bool,
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

    fn report(&mut self, region: Region, lock: String, why: Why, rw: bool, site: Site<'a>) {
        self.report_shared(region, lock, why, rw, site, false);
    }

    fn report_shared(&mut self, region: Region, lock: String, why: Why, rw: bool, site: Site<'a>, shared: bool) {
        self.candidates.push(Candidate {
            file: self.file.source.clone(),
            region,
            lock,
            why,
            rw,
            role: site.role,
            place: site.place,
            owner: self.owner.clone(),
            exposed: site.exposed,
            shared,
        });
    }

    /// Find every lock in a written type and judge what it guards.
    fn scan_type(&mut self, ty: &'a syn::Type, site: impl Fn() -> Site<'a>) {
        let cx = self.cx();
        let mut found = Vec::new();
        find_locks(self.symbols, self.alias_flagged, ty, &cx, None, 0, &mut found);
        let shared = !found.is_empty() && display_type(ty).contains("Arc<");
        for found in found {
            self.report_shared(found.region, found.lock, found.why, found.rw, site(), shared);
        }
    }

    /// A field (or variant field) of the type being read.
    /// A field (or variant field) of the type being read; a tuple field is named by its
    /// struct or variant (`Logger.0`), as [`uses`] names it.
    fn scan_field(&mut self, field: &'a syn::Field, exposed: bool, tuple: &syn::Ident, index: usize) {
        let name =
            field.ident.as_ref().map_or_else(|| uses::tuple_field(&tuple.to_string(), index), ToString::to_string);
        self.scan_type(&field.ty, || Site {
            role: Role::Declaration,
            place: Place::Named(Key::member(&name)),
            exposed,
        });
    }

    /// A parameter or local of the function being read.
    fn in_body(&self, pat: &syn::Pat) -> Place<'a> {
        match (pat_ident(pat), self.body) {
            (Some(name), Some(body)) => Place::InBody(name, body),
            _ => Place::Nowhere,
        }
    }

    /// A lock built in an expression: `Mutex::new(ZipArchive::new(c)?)`.
    fn scan_construction(&mut self, expr: &'a syn::Expr, place: Place<'a>) {
        let Some(call) = lock_constructor(self.symbols, &self.module(), expr) else { return };
        let Some(value) = call.args.first() else { return };
        let Some(value_ty) = self.infer(value, 0) else { return };
        let cx = self.cx();
        if let Some(why) = self.symbols.read_seek(&value_ty, &cx) {
            let (lock, rw) = match &*call.func {
                syn::Expr::Path(p) => {
                    (format!("{}(…)", display_type(&p.path)), p.path.segments.iter().any(|s| s.ident == "RwLock"))
                }
                _ => ("lock".into(), false),
            };
            self.report(Region::of(call.span()), lock, why, rw, Site { role: Role::Built, place, exposed: false });
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
        self.sig = Some(sig);
        for input in &sig.inputs {
            if let syn::FnArg::Typed(pt) = input {
                let body = self.body;
                self.scan_type(&pt.ty, || Site {
                    role: Role::Parameter,
                    place: match (pat_ident(&pt.pat), body) {
                        (Some(name), Some(body)) => Place::InBody(name, body),
                        _ => Place::Nowhere,
                    },
                    exposed: false,
                });
                let ty = (*pt.ty).clone();
                self.bind_local(&pt.pat, Some(ty));
            }
        }
        if let syn::ReturnType::Type(_, ty) = &sig.output {
            let name = sig.ident.to_string();
            let exposed = self.public_fn;
            self.scan_type(ty, || Site { role: Role::Accessor, place: Place::Named(Key::member(&name)), exposed });
        }
    }

    fn with_fn(
        &mut self,
        generics: &'a syn::Generics,
        body: Option<&'a syn::Block>,
        public: bool,
        f: impl FnOnce(&mut Self),
    ) {
        self.push_env(|env, module| env.bind_generics(generics, module));
        self.locals.push(HashMap::new());
        let outer = (self.body.take(), self.public_fn, self.sig.take());
        (self.body, self.public_fn) = (body, public);
        f(self);
        (self.body, self.public_fn, self.sig) = outer;
        self.locals.pop();
        self.envs.pop();
    }

    /// `lazy_static! { static ref NAME: Type = expr; }`: the types are ordinary statics.
    fn visit_lazy_static(&mut self, mac: &syn::Macro) {
        let Ok(statics) = mac.parse_body_with(crate::symbols::parse_lazy_statics) else { return };
        for (name, ty) in statics {
            // The parsed tokens live only here, so leak-free scanning needs an owned type.
            let ty: &syn::Type = &ty;
            let cx = self.cx();
            let mut found = Vec::new();
            find_locks(self.symbols, self.alias_flagged, ty, &cx, None, 0, &mut found);
            for found in found {
                let site = Site { role: Role::Declaration, place: Place::Named(Key::path(&name)), exposed: false };
                self.report(found.region, found.lock, found.why, found.rw, site);
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
        let outer = self.owner.replace(item.ident.to_string());
        let public = is_pub(&item.vis);
        for (i, field) in item.fields.iter().enumerate() {
            self.scan_field(field, public && is_pub(&field.vis), &item.ident, i);
        }
        self.owner = outer;
        self.envs.pop();
    }

    fn visit_item_enum(&mut self, item: &'a syn::ItemEnum) {
        self.push_def_env(&item.ident, &item.generics);
        let outer = self.owner.replace(item.ident.to_string());
        let public = is_pub(&item.vis);
        for variant in &item.variants {
            for (i, field) in variant.fields.iter().enumerate() {
                self.scan_field(field, public, &variant.ident, i);
            }
        }
        self.owner = outer;
        self.envs.pop();
    }

    fn visit_item_union(&mut self, item: &'a syn::ItemUnion) {
        self.push_def_env(&item.ident, &item.generics);
        let outer = self.owner.replace(item.ident.to_string());
        let public = is_pub(&item.vis);
        for (i, field) in item.fields.named.iter().enumerate() {
            self.scan_field(field, public && is_pub(&field.vis), &item.ident, i);
        }
        self.owner = outer;
        self.envs.pop();
    }

    fn visit_item_static(&mut self, item: &'a syn::ItemStatic) {
        let (name, exposed) = (item.ident.to_string(), is_pub(&item.vis));
        self.scan_type(&item.ty, || Site { role: Role::Declaration, place: Place::Named(Key::path(&name)), exposed });
        self.locals.push(HashMap::new());
        self.visit_expr(&item.expr);
        self.locals.pop();
    }

    fn visit_item_const(&mut self, item: &'a syn::ItemConst) {
        let (name, exposed) = (item.ident.to_string(), is_pub(&item.vis));
        self.scan_type(&item.ty, || Site { role: Role::Declaration, place: Place::Named(Key::path(&name)), exposed });
    }

    fn visit_item_type(&mut self, item: &'a syn::ItemType) {
        self.push_env(|env, module| env.bind_generics(&item.generics, module));
        let (name, exposed) = (item.ident.to_string(), is_pub(&item.vis));
        self.scan_type(&item.ty, || Site { role: Role::Declaration, place: Place::Alias(name.clone()), exposed });
        self.envs.pop();
    }

    fn visit_item_fn(&mut self, item: &'a syn::ItemFn) {
        self.with_fn(&item.sig.generics, Some(&item.block), is_pub(&item.vis), |this| {
            this.visit_signature_types(&item.sig);
            this.visit_block(&item.block);
        });
    }

    fn visit_item_impl(&mut self, item: &'a syn::ItemImpl) {
        self.scan_type(&item.self_ty, || Site {
            role: Role::Declaration,
            place: Place::ImplSelf(item),
            exposed: false,
        });
        let outer = self.owner.take();
        self.owner = uses::impl_type_name(item);
        let self_cx = self.cx();
        self.push_env(|env, module| {
            env.bind_generics(&item.generics, module);
            env.bind("Self".into(), Binding::Type(&item.self_ty, self_cx));
        });
        // Methods of a trait impl are as public as the trait.
        let trait_impl = item.trait_.is_some();
        for impl_item in &item.items {
            match impl_item {
                syn::ImplItem::Fn(f) => {
                    self.with_fn(&f.sig.generics, Some(&f.block), trait_impl || is_pub(&f.vis), |this| {
                        this.visit_signature_types(&f.sig);
                        this.visit_block(&f.block);
                    })
                }
                syn::ImplItem::Const(c) => {
                    let name = c.ident.to_string();
                    self.scan_type(&c.ty, || Site {
                        role: Role::Declaration,
                        place: Place::Named(Key::path(&name)),
                        exposed: false,
                    })
                }
                syn::ImplItem::Type(t) => {
                    self.scan_type(&t.ty, || Site { role: Role::Declaration, place: Place::Nowhere, exposed: false })
                }
                _ => {}
            }
        }
        self.owner = outer;
        self.envs.pop();
    }

    fn visit_item_trait(&mut self, item: &'a syn::ItemTrait) {
        self.push_env(|env, module| env.bind_generics(&item.generics, module));
        for trait_item in &item.items {
            if let syn::TraitItem::Fn(f) = trait_item {
                self.with_fn(&f.sig.generics, f.default.as_ref(), true, |this| {
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
        match annotated {
            Some(ty) => {
                let body = self.body;
                let name = pat_ident(pat);
                self.scan_type(ty, || Site {
                    role: Role::Local,
                    place: match (&name, body) {
                        (Some(name), Some(body)) => Place::InBody(name.clone(), body),
                        _ => Place::Nowhere,
                    },
                    exposed: false,
                });
                self.bind_local(pat, Some(ty.clone()));
            }
            None => {
                if let Some(init) = &local.init {
                    let place = self.in_body(pat);
                    self.scan_construction(&init.expr, place);
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
        let target = match expr.path.segments.last().map(|s| s.ident.to_string()) {
            Some(name) if name == "Self" => self.owner.clone(),
            other => other,
        };
        for field in &expr.fields {
            let syn::Member::Named(name) = &field.member else { continue };
            let to = || (target.clone().unwrap_or_default(), name.to_string());
            if let Some((of_self, source)) = cloned_field(&field.expr) {
                let owner = if of_self { self.owner.clone() } else { None };
                if !of_self || owner.is_some() {
                    self.flows.copies.push(HandleCopy { from: (owner, source), to: to() });
                }
            }
            // `Self { field: param }` in a constructor: what it was passed is stored here.
            if let (syn::Expr::Path(p), Some(sig), Some(owner)) = (&field.expr, self.sig, &self.owner) {
                let mut params = sig.inputs.iter().filter_map(|input| match input {
                    syn::FnArg::Typed(pt) => pat_ident(&pt.pat),
                    syn::FnArg::Receiver(_) => None,
                });
                if let Some(index) = params.position(|param| p.path.is_ident(&param)) {
                    let call = (owner.clone(), sig.ident.to_string(), index);
                    self.flows.stored.push((call, to()));
                }
            }
            // A field whose declared type holds a lock is judged at its declaration.
            if !declared_field_has_lock(self.symbols, &self.module(), &expr.path, name) {
                self.scan_construction(&field.expr, Place::Named(Key::member(name.to_string())));
            }
        }
        syn::visit::visit_expr_struct(self, expr);
    }

    fn visit_expr_call(&mut self, call: &'a syn::ExprCall) {
        if let syn::Expr::Path(func) = &*call.func {
            let segments: Vec<String> = func.path.segments.iter().map(|s| s.ident.to_string()).collect();
            if let [.., ty, function] = segments.as_slice() {
                let target = if ty == "Self" { self.owner.clone() } else { Some(ty.clone()) };
                for (index, arg) in call.args.iter().enumerate() {
                    if let (Some(target), Some(local), Some(body)) = (&target, handed_local(arg), self.body) {
                        let to = (target.clone(), function.clone(), index);
                        self.flows.handed.push(HandedLocal { to, local, body });
                    }
                    let (Some(target), Some((of_self, source))) = (&target, cloned_field(arg)) else { continue };
                    let owner = if of_self { self.owner.clone() } else { None };
                    self.flows.passed.push(((target.clone(), function.clone(), index), (owner, source)));
                }
            }
        }
        syn::visit::visit_expr_call(self, call);
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

fn is_pub(vis: &syn::Visibility) -> bool {
    matches!(vis, syn::Visibility::Public(_))
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

/// A lock in a written type whose value is `Read + Seek`.
struct FoundLock {
    region: Region,
    lock: String,
    why: Why,
    rw: bool,
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
    found: &mut Vec<FoundLock>,
) {
    if depth > MAX_ALIAS_DEPTH * 4 {
        return;
    }
    let recurse = |t: &'a syn::Type, found: &mut Vec<FoundLock>| {
        find_locks(symbols, alias_flagged, t, cx, report_at, depth + 1, found)
    };
    match ty {
        syn::Type::Path(tp) if tp.qself.is_none() => {
            let args = type_args(&tp.path);
            match symbols.resolve_path(&cx.module, &tp.path) {
                Resolved::External(full) if known::is_lock(&full) => {
                    // `lock_api::Mutex<R, T>` guards its last argument.
                    if let Some(why) = args.last().and_then(|guarded| symbols.read_seek(guarded, cx)) {
                        let region = report_at.unwrap_or_else(|| Region::of(ty.span()));
                        let rw = full.last().is_some_and(|l| l == "RwLock");
                        found.push(FoundLock { region, lock: display_type(ty), why, rw });
                    }
                }
                Resolved::Def(id) if symbols.lock_wrapper(id).is_some() => {
                    let guarded = symbols.lock_wrapper(id).and_then(|i| args.get(i));
                    if let Some(why) = guarded.and_then(|g| symbols.read_seek(g, cx)) {
                        let region = report_at.unwrap_or_else(|| Region::of(ty.span()));
                        let rw = symbols.def(id).name.contains("RwLock");
                        found.push(FoundLock { region, lock: display_type(ty), why, rw });
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
