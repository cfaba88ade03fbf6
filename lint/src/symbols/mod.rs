//! The crate-wide symbol table: built once per package from all of its parsed files,
//! it answers "what does this path name here?" and (in [`read_seek`]) "is this type
//! `Read + Seek`, and why?". Rules never re-derive either.

pub mod handles;
pub mod known;
pub mod read_seek;

use crate::manifest::Edition;
use crate::parse::ParsedFile;
use crate::source::ModulePath;
use crate::uses::Summaries;
use std::cell::{OnceCell, RefCell};
use std::collections::{HashMap, HashSet};
use syn::visit::Visit;

pub type DefId = usize;

/// A named item of the package that types can refer to.
pub struct Def<'a> {
    pub name: String,
    pub module: ModulePath,
    pub file: usize,
    pub kind: DefKind<'a>,
}

pub enum DefKind<'a> {
    Struct(&'a syn::ItemStruct),
    Enum(&'a syn::ItemEnum),
    Union(&'a syn::ItemUnion),
    Alias(&'a syn::ItemType),
    Trait(&'a syn::ItemTrait),
}

impl<'a> DefKind<'a> {
    pub fn generics(&self) -> &'a syn::Generics {
        match *self {
            DefKind::Struct(s) => &s.generics,
            DefKind::Enum(e) => &e.generics,
            DefKind::Union(u) => &u.generics,
            DefKind::Alias(a) => &a.generics,
            DefKind::Trait(t) => &t.generics,
        }
    }
}

/// An `impl` block, with where it was written.
#[derive(Clone)]
pub struct ImplRef<'a> {
    pub item: &'a syn::ItemImpl,
    pub module: ModulePath,
    pub file: usize,
    /// Written in `#[cfg(test)]` code: a test double, not what production code holds.
    pub in_test: bool,
}

#[derive(Default)]
struct Scope {
    /// `use a::b::C as D;` gives `D -> [a, b, C]`. A path that must not be looked up
    /// relative to the module starts with [`FROM_CRATE_ROOT`] or [`EXTERN`].
    uses: HashMap<String, Vec<String>>,
    globs: Vec<Vec<String>>,
}

/// First segment of an import path that starts at the crate root (2015: `use a::b;`,
/// `use ::a::b;`): an item of the root if it has one, else an extern crate.
const FROM_CRATE_ROOT: &str = "{crate root}";

/// How many scopes, from a body's inline module outward, its imports are looked up in:
/// real code nests a few; a file of thousands of nested modules stops here.
const MAX_IMPORT_SCOPES: usize = 8;

/// Is a glob import's path the parent module (`use super::*`, in any edition)?
fn names_parent(glob: &[String]) -> bool {
    let relative = match glob.first().map(String::as_str) {
        Some(FROM_CRATE_ROOT) => &glob[1..],
        _ => glob,
    };
    relative == ["super"]
}
/// First segment of an import path that names an extern crate (2018: `use ::a::b;`,
/// `extern crate a as b;`).
const EXTERN: &str = "{extern}";

/// What the table needs to know about the crate besides its files.
#[derive(Clone, Debug, Default)]
pub struct CrateInfo {
    /// The library target's name (`my_crate`), so `my_crate::Foo` in tests resolves here.
    pub lib_name: Option<String>,
    /// Import paths start at the crate root in 2015, relative to the module after.
    pub edition: Edition,
    /// Workspace libraries this crate depends on by path, whose sources are among the
    /// files under their own module tree: (name in code, module tree label, edition).
    pub dependencies: Vec<(String, String, Edition)>,
}

/// What a path names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    Def(DefId),
    /// A path into another crate, made absolute (`std::fs::File`).
    External(Vec<String>),
    Unknown,
}

pub struct Symbols<'a> {
    pub files: &'a [ParsedFile],
    pub defs: Vec<Def<'a>>,
    by_module: HashMap<(ModulePath, String), DefId>,
    /// The other definitions of a name defined more than once in one module: the forms
    /// of an item under `#[cfg(…)]` alternatives, each considered.
    alternatives: HashMap<DefId, Vec<DefId>>,
    by_name: HashMap<String, Vec<DefId>>,
    modules: HashSet<ModulePath>,
    scopes: HashMap<ModulePath, Scope>,
    /// Impl blocks by the package type they are for.
    impls: HashMap<DefId, Vec<ImplRef<'a>>>,
    /// `impl Trait for X` blocks by the package trait they implement.
    implementors: HashMap<DefId, Vec<ImplRef<'a>>>,
    lib_name: Option<String>,
    edition: Edition,
    dependencies: Vec<(String, String, Edition)>,
    /// `extern crate a as b;` at a crate root: `b` names the crate `a` everywhere in it
    /// (`self` for `extern crate self as b;`).
    extern_aliases: HashMap<String, String>,
    /// Configured `read_seek_types` (`my_crate::Reader`), split on `::`.
    pub read_seek_types: Vec<Vec<String>>,
    resolved: RefCell<HashMap<(ModulePath, Vec<String>), Resolved>>,
    read_seek_cache: read_seek::Cache,
    summaries: OnceCell<Summaries>,
}

const MAX_RESOLVE_DEPTH: usize = 12;

impl<'a> Symbols<'a> {
    pub fn build(files: &'a [ParsedFile], info: CrateInfo) -> Self {
        let mut symbols = Symbols {
            files,
            defs: Vec::new(),
            by_module: HashMap::new(),
            alternatives: HashMap::new(),
            by_name: HashMap::new(),
            modules: HashSet::new(),
            scopes: HashMap::new(),
            impls: HashMap::new(),
            implementors: HashMap::new(),
            lib_name: info.lib_name,
            edition: info.edition,
            dependencies: info.dependencies,
            extern_aliases: HashMap::new(),
            read_seek_types: Vec::new(),
            resolved: RefCell::new(HashMap::new()),
            read_seek_cache: Default::default(),
            summaries: OnceCell::new(),
        };
        let mut pending_impls = Vec::new();
        for (index, file) in files.iter().enumerate() {
            let mut collector = Collector {
                symbols: &mut symbols,
                file: index,
                module: vec![file.source.module.clone()],
                impls: &mut pending_impls,
                test_depth: 0,
            };
            collector.visit_file(&file.ast);
        }
        // Impls are matched to their types once every type is known.
        for imp in pending_impls {
            let syn::Type::Path(self_ty) = &*imp.item.self_ty else { continue };
            if let Resolved::Def(id) = symbols.resolve_path(&imp.module, &self_ty.path) {
                if let Some((_, trait_path, _)) = &imp.item.trait_ {
                    if let Resolved::Def(trait_id) = symbols.resolve_path(&imp.module, trait_path) {
                        if matches!(symbols.defs[trait_id].kind, DefKind::Trait(_)) {
                            symbols.implementors.entry(trait_id).or_default().push(imp.clone());
                        }
                    }
                }
                symbols.impls.entry(id).or_default().push(imp);
            } else if let Some((_, trait_path, _)) = &imp.item.trait_ {
                // `impl Trait for Box<File>`: the implementor is not a package type.
                if let Resolved::Def(trait_id) = symbols.resolve_path(&imp.module, trait_path) {
                    symbols.implementors.entry(trait_id).or_default().push(imp);
                }
            }
        }
        symbols
    }

    pub fn def(&self, id: DefId) -> &Def<'a> {
        &self.defs[id]
    }

    /// What the crate's functions and methods read, computed on first use.
    pub fn summaries(&self) -> &Summaries {
        self.summaries.get_or_init(|| Summaries::of(self.files))
    }

    /// Is `field` a `pub` field of a package struct named `type_name`? (Callers of the
    /// crate can reach what it holds.)
    pub fn public_field(&self, type_name: &str, field: &str) -> bool {
        let named = |f: &syn::Field| f.ident.as_ref().is_some_and(|i| i == field);
        self.by_name.get(type_name).into_iter().flatten().any(|&id| match self.defs[id].kind {
            DefKind::Struct(s) => s.fields.iter().any(|f| named(f) && matches!(f.vis, syn::Visibility::Public(_))),
            // A variant's fields are as public as the enum.
            DefKind::Enum(e) => e.variants.iter().flat_map(|v| &v.fields).any(named),
            _ => false,
        })
    }

    /// A definition and its other forms under `#[cfg(…)]` alternatives.
    pub fn forms(&self, id: DefId) -> impl Iterator<Item = DefId> + '_ {
        std::iter::once(id).chain(self.alternatives.get(&id).into_iter().flatten().copied())
    }

    pub fn impls_of(&self, id: DefId) -> &[ImplRef<'a>] {
        self.impls.get(&id).map_or(&[], Vec::as_slice)
    }

    pub fn implementors_of(&self, trait_id: DefId) -> &[ImplRef<'a>] {
        self.implementors.get(&trait_id).map_or(&[], Vec::as_slice)
    }

    /// What `module`'s `use` declarations bind, by name (its own scope, not its parents').
    pub fn imports_of(&self, module: &ModulePath) -> Option<&crate::vocab::Imports> {
        self.scopes.get(module).map(|s| &s.uses)
    }

    /// The imports code in the inline modules `inline` of a file's `module` sees: each
    /// inline module's own `use` declarations, and those around it only through `use
    /// super::*` (`mod tests { use super::*; use tokio::sync::RwLock; }`), as rustc
    /// resolves them. At most [`MAX_IMPORT_SCOPES`] scopes, innermost first.
    pub fn imports_in(&self, module: &ModulePath, inline: &[String]) -> Option<crate::vocab::ImportScopes<'_>> {
        let mut path = module.clone();
        path.segments.extend(inline.iter().cloned());
        let mut scopes = Vec::new();
        for _ in 0..=inline.len().min(MAX_IMPORT_SCOPES) {
            let scope = self.scopes.get(&path);
            scopes.extend(scope.map(|s| &s.uses).filter(|uses| !uses.is_empty()));
            let at_file = path.segments.len() == module.segments.len();
            if at_file || !scope.is_some_and(|s| s.globs.iter().any(|g| names_parent(g))) {
                break;
            }
            path.segments.pop();
        }
        (!scopes.is_empty()).then(|| crate::vocab::ImportScopes::new(scopes))
    }

    /// Resolve a path written in `module`.
    pub fn resolve_path(&self, module: &ModulePath, path: &syn::Path) -> Resolved {
        let segs: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        if path.leading_colon.is_some() {
            return Resolved::External(segs);
        }
        self.resolve(module, &segs, 0)
    }

    pub fn resolve(&self, module: &ModulePath, segs: &[String], depth: usize) -> Resolved {
        self.resolve_from(module, segs, depth, true)
    }

    /// [`Self::resolve`]; without `follow_uses` the first segment is not looked up among
    /// the module's imports: an import never resolves through itself (`use zip::{self,
    /// ZipArchive}` imports `zip` as the crate `zip`, not as the import `zip`).
    fn resolve_from(&self, module: &ModulePath, segs: &[String], depth: usize, follow_uses: bool) -> Resolved {
        let Some(first) = segs.first() else { return Resolved::Unknown };
        if depth > MAX_RESOLVE_DEPTH || (segs.len() == 1 && known::is_primitive(first)) {
            return Resolved::Unknown;
        }
        match first.as_str() {
            EXTERN => return self.external(&segs[1..]),
            FROM_CRATE_ROOT => return self.resolve_from_crate_root(module, &segs[1..], depth),
            "crate" => return self.resolve_in(&self.crate_root(module), &segs[1..], depth),
            "self" => return self.resolve_in(module, &segs[1..], depth),
            "super" => {
                let mut m = module.clone();
                let mut rest = segs;
                while rest.first().is_some_and(|s| s == "super") {
                    m = m.parent().unwrap_or(m);
                    rest = &rest[1..];
                }
                return self.resolve_in(&m, rest, depth);
            }
            _ => {}
        }
        if self.lib_name.as_deref() == Some(first.as_str()) && segs.len() > 1 {
            return self.resolve_in(&ModulePath::root("src"), &segs[1..], depth);
        }
        // The standard crates are never a module of this crate of the same name, which
        // only `crate::std` can name.
        if segs.len() > 1 && matches!(first.as_str(), "std" | "core" | "alloc") {
            return Resolved::External(segs.to_vec());
        }
        if let Some(target) = self.scopes.get(module).and_then(|s| s.uses.get(first)).filter(|_| follow_uses) {
            let mut full = target.clone();
            full.extend_from_slice(&segs[1..]);
            let through_itself = target.iter().find(|s| !is_marker(s)) == Some(first);
            return self.resolve_from(module, &full, depth + 1, !through_itself);
        }
        if let found @ (Resolved::Def(_) | Resolved::External(_)) = self.lookup_here(module, segs, depth) {
            return found;
        }
        if let Some(found) = self.resolve_through_globs(module, segs, depth) {
            return found;
        }
        if segs.len() == 1 {
            if let Some(path) = known::prelude(first) {
                return Resolved::External(path.iter().map(|s| s.to_string()).collect());
            }
            return Resolved::Unknown;
        }
        self.external(segs)
    }

    /// A path into another crate, through `extern crate a as b;` renames, and into the
    /// sources of a workspace library this crate depends on (`use ckb_util::Mutex` is
    /// what `ckb_util` re-exports).
    fn external(&self, segs: &[String]) -> Resolved {
        let Some(first) = segs.first() else { return Resolved::Unknown };
        let full = match self.extern_aliases.get(first) {
            Some(krate) if krate == "self" => return self.resolve_in(&ModulePath::root("src"), &segs[1..], 0),
            Some(krate) => std::iter::once(krate.clone()).chain(segs[1..].iter().cloned()).collect(),
            None => segs.to_vec(),
        };
        if let Some((_, target, _)) = self.dependencies.iter().find(|(name, _, _)| *name == full[0]) {
            if let found @ (Resolved::Def(_) | Resolved::External(_)) =
                self.resolve_in(&ModulePath::root(target), &full[1..], 1)
            {
                return found;
            }
        }
        Resolved::External(full)
    }

    /// The edition a module's crate was written in: a dependency's own, else this crate's.
    /// The package's library name (`test_raftstore`), if it has a library.
    pub fn lib_name(&self) -> Option<&str> {
        self.lib_name.as_deref()
    }

    pub fn edition_of(&self, module: &ModulePath) -> Edition {
        let dependency = self.dependencies.iter().find(|(_, target, _)| **target == *module.target);
        dependency.map_or(self.edition, |(_, _, edition)| *edition)
    }

    /// A 2015 import path (`use file::File;`): an item, module or import of the crate
    /// root when it has one of that name, otherwise an extern crate.
    fn resolve_from_crate_root(&self, module: &ModulePath, segs: &[String], depth: usize) -> Resolved {
        let Some(first) = segs.first() else { return Resolved::Unknown };
        if matches!(first.as_str(), "crate" | "self" | "super") {
            return self.resolve_from(module, segs, depth + 1, true);
        }
        let root = self.crate_root(module);
        let imported = |target: &Vec<String>| target.iter().find(|s| !is_marker(s)) != Some(first);
        let in_root = self.modules.contains(&root.child(first))
            || self.by_module.contains_key(&(root.clone(), first.clone()))
            || self.scopes.get(&root).and_then(|s| s.uses.get(first)).is_some_and(imported);
        if in_root {
            self.resolve_from(&root, segs, depth + 1, true)
        } else {
            self.external(segs)
        }
    }

    /// A package type that wraps a lock around its type parameter (`struct
    /// Mutex<T>(parking_lot::Mutex<T>)`, the crate's own lock): which parameter it guards.
    pub fn lock_wrapper(&self, id: DefId) -> Option<usize> {
        let def = self.def(id);
        let DefKind::Struct(item) = def.kind else { return None };
        item.fields.iter().find_map(|field| {
            let syn::Type::Path(tp) = &field.ty else { return None };
            let Resolved::External(full) = self.resolve_path(&def.module, &tp.path) else { return None };
            let guarded = read_seek::type_args(&tp.path).last().copied()?;
            let syn::Type::Path(guarded) = guarded else { return None };
            let ident = guarded.path.get_ident()?;
            known::is_lock(&full).then(|| item.generics.type_params().position(|p| &p.ident == ident)).flatten()
        })
    }

    /// Is a package type listed in the configured `read_seek_types`? `my_crate::Reader`
    /// and `crate::io::Reader` name this package's `Reader`.
    pub fn configured_read_seek_def(&self, id: DefId) -> bool {
        let def = self.def(id);
        self.read_seek_types.iter().any(|path| {
            path.last() == Some(&def.name)
                && (path.len() == 1 || path.first().is_some_and(|k| k == "crate" || Some(k) == self.lib_name.as_ref()))
        })
    }

    /// Is an external type listed in `read_seek_types`? Matched by crate and name, like
    /// the built-in tables.
    pub fn configured_read_seek_external(&self, full: &[String]) -> bool {
        self.read_seek_types.iter().any(|path| path.first() == full.first() && path.last() == full.last())
    }

    fn crate_root(&self, module: &ModulePath) -> ModulePath {
        ModulePath::root(&module.target)
    }

    /// A path relative to `module`: child modules, then the item, then re-exports.
    /// Memoized: glob imports (`use super::*` both ways) form cycles and fan out, and a
    /// (module, path) pair met again while it is being resolved resolves to nothing.
    fn resolve_in(&self, module: &ModulePath, segs: &[String], depth: usize) -> Resolved {
        if depth > MAX_RESOLVE_DEPTH || segs.is_empty() {
            return Resolved::Unknown;
        }
        let key = (module.clone(), segs.to_vec());
        if let Some(done) = self.resolved.borrow().get(&key) {
            return done.clone();
        }
        self.resolved.borrow_mut().insert(key.clone(), Resolved::Unknown);
        let found = self.resolve_in_uncached(module, segs, depth);
        self.resolved.borrow_mut().insert(key, found.clone());
        found
    }

    fn resolve_in_uncached(&self, module: &ModulePath, segs: &[String], depth: usize) -> Resolved {
        let Some((last, dirs)) = segs.split_last() else { return Resolved::Unknown };
        let mut m = module.clone();
        for (i, dir) in dirs.iter().enumerate() {
            let child = m.child(dir);
            if !self.modules.contains(&child) {
                // Not a module: maybe an imported name (`crate::prelude::Foo` re-exports).
                let is_use = self.scopes.get(&m).and_then(|s| s.uses.get(dir));
                if let Some(target) = is_use {
                    let mut full = target.clone();
                    full.extend_from_slice(&segs[i + 1..]);
                    return self.resolve(&m, &full, depth + 1);
                }
                return self.fallback_by_name(last);
            }
            m = child;
        }
        if let Some(&id) = self.by_module.get(&(m.clone(), last.clone())) {
            return Resolved::Def(id);
        }
        if let Some(target) = self.scopes.get(&m).and_then(|s| s.uses.get(last)) {
            return self.resolve(&m, target, depth + 1);
        }
        if let Some(found) = self.resolve_through_globs(&m, std::slice::from_ref(last), depth + 1) {
            return found;
        }
        self.fallback_by_name(last)
    }

    /// A re-export lockscope could not follow: take the package's only item of that name.
    fn fallback_by_name(&self, name: &str) -> Resolved {
        match self.by_name.get(name).map(Vec::as_slice) {
            Some([only]) => Resolved::Def(*only),
            _ => Resolved::Unknown,
        }
    }

    fn lookup_here(&self, module: &ModulePath, segs: &[String], depth: usize) -> Resolved {
        if segs.len() == 1 {
            return self
                .by_module
                .get(&(module.clone(), segs[0].clone()))
                .map_or(Resolved::Unknown, |&id| Resolved::Def(id));
        }
        if self.modules.contains(&module.child(&segs[0])) {
            return self.resolve_in(module, segs, depth + 1);
        }
        Resolved::Unknown
    }

    fn resolve_through_globs(&self, module: &ModulePath, segs: &[String], depth: usize) -> Option<Resolved> {
        if depth > MAX_RESOLVE_DEPTH {
            return None;
        }
        let scope = self.scopes.get(module)?;
        for glob in &scope.globs {
            if let Some(target) = self.glob_module(module, glob) {
                // Look the name up in the globbed module itself, never by rewriting the
                // path: that would apply the globs again to the new first segment.
                // What the module defines, or imports (`use super::*` sees the parent's
                // `use std::sync::Mutex`). A longer path goes through it only when its
                // first segment is a module or import there: `async_lock::RwLock` is not
                // the package's only `RwLock` because some globbed module lacks
                // `async_lock`.
                let provides_first = segs.len() == 1
                    || self.modules.contains(&target.child(&segs[0]))
                    || self.scopes.get(&target).is_some_and(|s| s.uses.contains_key(&segs[0]));
                if provides_first {
                    if let found @ (Resolved::Def(_) | Resolved::External(_)) =
                        self.resolve_in(&target, segs, depth + 1)
                    {
                        return Some(found);
                    }
                }
                continue;
            }
            let glob = without_marker(glob);
            let mut full = match glob.first().and_then(|g| scope.uses.get(g)) {
                Some(target) => {
                    let mut full = without_marker(target).to_vec();
                    full.extend_from_slice(&glob[1..]);
                    full
                }
                None => glob.to_vec(),
            };
            full.extend_from_slice(segs);
            // What an external glob brings in is known only for single names of the
            // built-in tables (`use std::io::*;` then `Cursor`).
            if segs.len() == 1 && known::is_known(&full) {
                return Some(Resolved::External(full));
            }
        }
        None
    }

    /// The package module a glob import (`use super::*`, `use crate::a::*`, `use child::*`)
    /// names, if it names one.
    fn glob_module(&self, module: &ModulePath, glob: &[String]) -> Option<ModulePath> {
        let (module, glob) = match glob.first().map(String::as_str) {
            Some(EXTERN) => return None,
            Some(FROM_CRATE_ROOT) => match glob.get(1).map(String::as_str) {
                Some("crate" | "self" | "super") => (module.clone(), &glob[1..]),
                _ => (self.crate_root(module), &glob[1..]),
            },
            _ => (module.clone(), glob),
        };
        let module = &module;
        let (mut target, rest) = match glob.first().map(String::as_str) {
            Some("crate") => (self.crate_root(module), &glob[1..]),
            Some("self") => (module.clone(), &glob[1..]),
            Some("super") => {
                let supers = glob.iter().take_while(|s| *s == "super").count();
                let mut m = module.clone();
                for _ in 0..supers {
                    m = m.parent()?;
                }
                (m, &glob[supers..])
            }
            Some(first) if self.modules.contains(&module.child(first)) => (module.clone(), glob),
            _ => return None,
        };
        for seg in rest {
            target = target.child(seg);
        }
        self.modules.contains(&target).then_some(target)
    }
}

fn is_marker(segment: &str) -> bool {
    segment == FROM_CRATE_ROOT || segment == EXTERN
}

/// An import path as written, without the marker of where it starts.
fn without_marker(path: &[String]) -> &[String] {
    match path.first() {
        Some(first) if is_marker(first) => &path[1..],
        _ => path,
    }
}

/// Fills the table from one file, following inline modules.
struct Collector<'s, 'a> {
    symbols: &'s mut Symbols<'a>,
    file: usize,
    module: Vec<ModulePath>,
    impls: &'s mut Vec<ImplRef<'a>>,
    test_depth: usize,
}

impl<'a> Collector<'_, 'a> {
    fn current(&self) -> ModulePath {
        self.module.last().cloned().unwrap_or_else(|| ModulePath::root("src"))
    }

    fn add_def(&mut self, ident: &syn::Ident, kind: DefKind<'a>) {
        let module = self.current();
        let name = ident.to_string();
        let id = self.symbols.defs.len();
        let first = *self.symbols.by_module.entry((module.clone(), name.clone())).or_insert(id);
        if first != id {
            self.symbols.alternatives.entry(first).or_default().push(id);
        }
        self.symbols.by_name.entry(name.clone()).or_default().push(id);
        self.symbols.defs.push(Def { name, module, file: self.file, kind });
    }

    fn note_module(&mut self, module: &ModulePath) {
        let mut m = Some(module.clone());
        while let Some(cur) = m {
            if !self.symbols.modules.insert(cur.clone()) {
                break;
            }
            m = cur.parent();
        }
    }
}

impl<'a> Visit<'a> for Collector<'_, 'a> {
    fn visit_file(&mut self, file: &'a syn::File) {
        let module = self.current();
        self.note_module(&module);
        syn::visit::visit_file(self, file);
    }

    fn visit_item_mod(&mut self, item: &'a syn::ItemMod) {
        let child = self.current().child(&item.ident.to_string());
        self.note_module(&child);
        if item.content.is_some() {
            let is_test = is_cfg_test(&item.attrs);
            self.test_depth += usize::from(is_test);
            self.module.push(child);
            syn::visit::visit_item_mod(self, item);
            self.module.pop();
            self.test_depth -= usize::from(is_test);
        }
    }

    fn visit_item_use(&mut self, item: &'a syn::ItemUse) {
        let module = self.current();
        // Where the path starts: 2015 imports and `::a` start at the crate root; in
        // 2018 and later `::a` is an extern crate and `a` is relative to the module.
        let mut prefix = match (self.symbols.edition_of(&module), item.leading_colon.is_some()) {
            (Edition::E2015, _) => vec![FROM_CRATE_ROOT.to_string()],
            (_, true) => vec![EXTERN.to_string()],
            (_, false) => Vec::new(),
        };
        let scope = self.symbols.scopes.entry(module).or_default();
        flatten_use(&item.tree, &mut prefix, scope);
    }

    fn visit_item_extern_crate(&mut self, item: &'a syn::ItemExternCrate) {
        let module = self.current();
        let krate = item.ident.to_string();
        let name = item.rename.as_ref().map_or_else(|| krate.clone(), |(_, rename)| rename.to_string());
        if name == "_" {
            return;
        }
        if module.segments.is_empty() && krate != name {
            self.symbols.extern_aliases.insert(name.clone(), krate.clone());
        }
        let target = if krate == "self" { vec!["crate".to_string()] } else { vec![EXTERN.to_string(), krate] };
        self.symbols.scopes.entry(module).or_default().uses.insert(name, target);
    }

    fn visit_item_struct(&mut self, item: &'a syn::ItemStruct) {
        self.add_def(&item.ident, DefKind::Struct(item));
    }

    fn visit_item_enum(&mut self, item: &'a syn::ItemEnum) {
        self.add_def(&item.ident, DefKind::Enum(item));
    }

    fn visit_item_union(&mut self, item: &'a syn::ItemUnion) {
        self.add_def(&item.ident, DefKind::Union(item));
    }

    fn visit_item_type(&mut self, item: &'a syn::ItemType) {
        self.add_def(&item.ident, DefKind::Alias(item));
    }

    fn visit_item_trait(&mut self, item: &'a syn::ItemTrait) {
        self.add_def(&item.ident, DefKind::Trait(item));
        syn::visit::visit_item_trait(self, item);
    }

    fn visit_item_impl(&mut self, item: &'a syn::ItemImpl) {
        let in_test = self.test_depth > 0 || is_cfg_test(&item.attrs);
        self.impls.push(ImplRef { item, module: self.current(), file: self.file, in_test });
        syn::visit::visit_item_impl(self, item);
    }
}

/// `#[test]`, `#[tokio::test]`, `#[bench]`: tests of concurrent code race on purpose.
pub fn is_test_fn(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| a.path().segments.last().is_some_and(|s| s.ident == "test" || s.ident == "bench"))
}

/// `#[cfg(test)]`, or `#[cfg(all(test, …))]`.
pub fn is_cfg_test(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("cfg")
            && a.meta.require_list().is_ok_and(|l| {
                let text = l.tokens.to_string();
                text == "test" || text.starts_with("all (test") || text.starts_with("all(test")
            })
    })
}

fn flatten_use(tree: &syn::UseTree, prefix: &mut Vec<String>, scope: &mut Scope) {
    match tree {
        syn::UseTree::Path(p) => {
            prefix.push(p.ident.to_string());
            flatten_use(&p.tree, prefix, scope);
            prefix.pop();
        }
        syn::UseTree::Name(n) => {
            if n.ident == "self" {
                if let Some(last) = prefix.last() {
                    scope.uses.insert(last.clone(), prefix.clone());
                }
            } else {
                let mut full = prefix.clone();
                full.push(n.ident.to_string());
                scope.uses.insert(n.ident.to_string(), full);
            }
        }
        syn::UseTree::Rename(r) => {
            let mut full = prefix.clone();
            if r.ident != "self" {
                full.push(r.ident.to_string());
            }
            if r.rename != "_" {
                scope.uses.insert(r.rename.to_string(), full);
            }
        }
        syn::UseTree::Glob(_) => scope.globs.push(prefix.clone()),
        syn::UseTree::Group(g) => {
            for item in &g.items {
                flatten_use(item, prefix, scope);
            }
        }
    }
}

/// The leaves of a `use` tree with the tree's first segment: `(first, name, local)`.
fn use_leaves(tree: &syn::UseTree, first: Option<&str>, out: &mut Vec<(String, String, String)>) {
    match tree {
        syn::UseTree::Path(p) => {
            let name = p.ident.to_string();
            use_leaves(&p.tree, Some(first.unwrap_or(&name)), out);
        }
        syn::UseTree::Name(n) => {
            let name = n.ident.to_string();
            out.push((first.unwrap_or(&name).to_string(), name.clone(), name));
        }
        syn::UseTree::Rename(r) => {
            let name = r.ident.to_string();
            out.push((first.unwrap_or(&name).to_string(), name, r.rename.to_string()));
        }
        syn::UseTree::Glob(_) => out.extend(first.map(|f| (f.to_string(), "*".into(), "*".into()))),
        syn::UseTree::Group(g) => g.items.iter().for_each(|item| use_leaves(item, first, out)),
    }
}

/// Which names a file's items refer to, so the engine can load the files that define
/// the names a rule needs (and, transitively, what those definitions need) without
/// parsing a whole package.
#[derive(Default, Debug)]
pub struct NameGraph {
    /// Item name -> the type and trait names its definition mentions.
    pub edges: HashMap<String, Vec<String>>,
    /// Trait name -> its implementors in this file (`impl Trait for X`).
    pub implementors: HashMap<String, Vec<String>>,
    /// The traits this file defines.
    pub traits: HashSet<String>,
    /// Names the file takes from other crates or modules: `(first segment, name there,
    /// name here)` for each `use` leaf (`use util::io::Reader as R` gives `(util, Reader,
    /// R)`; a glob gives `*`) and each path of two or more segments (`util::Reader`).
    pub imports: Vec<(String, String, String)>,
}

impl NameGraph {
    pub fn of(file: &syn::File) -> Self {
        let mut builder = GraphBuilder { graph: NameGraph::default() };
        builder.visit_file(file);
        builder.graph
    }
}

struct GraphBuilder {
    graph: NameGraph,
}

impl GraphBuilder {
    fn add(&mut self, from: &syn::Ident, names: Vec<String>) {
        self.graph.edges.entry(from.to_string()).or_default().extend(names);
    }
}

/// Collects the package-local names that the paths it visits could refer to: for
/// each path, the name that would have to be looked up in this package (`Inner` for
/// `Inner<T>`, `crate::store::Inner` or `store::Inner`; nothing for `std::fs::File`).
/// Short and common names (generic parameters, prelude types) are left out.
#[derive(Default)]
pub struct PathNames(Vec<String>);

impl PathNames {
    pub fn into_names(self) -> Vec<String> {
        self.0
    }
}

impl Visit<'_> for PathNames {
    fn visit_path(&mut self, path: &syn::Path) {
        let first = path.segments.first().map(|s| s.ident.to_string());
        let last = path.segments.last().map(|s| s.ident.to_string());
        let is_module = |f: &str| matches!(f, "crate" | "self" | "super") || f.starts_with(char::is_lowercase);
        let name = match (first.as_deref(), path.segments.len()) {
            (Some("std" | "core" | "alloc"), _) | (None, _) => None,
            (Some(f), n) if n > 1 && is_module(f) => last,
            _ => first,
        };
        if let Some(name) = name {
            let is_type_like = name.starts_with(|c: char| c.is_ascii_uppercase()) && name.len() > 1;
            if is_type_like && !known::is_common_name(&name) {
                self.0.push(name);
            }
        }
        syn::visit::visit_path(self, path);
    }
}

impl<'a> Visit<'a> for GraphBuilder {
    fn visit_item_struct(&mut self, item: &'a syn::ItemStruct) {
        let mut names = PathNames::default();
        names.visit_fields(&item.fields);
        names.visit_generics(&item.generics);
        self.add(&item.ident, names.into_names());
    }
    fn visit_item_enum(&mut self, item: &'a syn::ItemEnum) {
        let mut names = PathNames::default();
        names.visit_generics(&item.generics);
        for v in &item.variants {
            names.visit_fields(&v.fields);
        }
        self.add(&item.ident, names.into_names());
    }
    fn visit_item_type(&mut self, item: &'a syn::ItemType) {
        let mut names = PathNames::default();
        names.visit_type(&item.ty);
        self.add(&item.ident, names.into_names());
    }
    fn visit_item_trait(&mut self, item: &'a syn::ItemTrait) {
        let mut names = PathNames::default();
        item.supertraits.iter().for_each(|b| names.visit_type_param_bound(b));
        self.add(&item.ident, names.into_names());
        self.graph.traits.insert(item.ident.to_string());
    }
    fn visit_item_impl(&mut self, item: &'a syn::ItemImpl) {
        if let (Some((_, trait_path, _)), syn::Type::Path(self_ty)) = (&item.trait_, &*item.self_ty) {
            if let (Some(t), Some(s)) = (trait_path.segments.last(), self_ty.path.segments.last()) {
                self.graph.implementors.entry(t.ident.to_string()).or_default().push(s.ident.to_string());
            }
        }
        syn::visit::visit_item_impl(self, item);
    }
    fn visit_item_use(&mut self, item: &'a syn::ItemUse) {
        let mut leaves = Vec::new();
        use_leaves(&item.tree, None, &mut leaves);
        self.graph.imports.extend(leaves);
    }
    fn visit_path(&mut self, path: &'a syn::Path) {
        if let (Some(first), Some(last), true) = (path.segments.first(), path.segments.last(), path.segments.len() > 1)
        {
            let name = last.ident.to_string();
            self.graph.imports.push((first.ident.to_string(), name.clone(), name));
        }
        syn::visit::visit_path(self, path);
    }
}

/// The statics of a `lazy_static! { static ref NAME: Type = expr; … }` body.
pub fn parse_lazy_statics(input: syn::parse::ParseStream<'_>) -> syn::Result<Vec<(String, syn::Type)>> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_modules_import_their_own_names_and_the_parents_through_a_glob() {
        let files = vec![crate::parse::parse_crate_root(
            "use std::sync::Mutex;\nuse std::fs;\n\
             mod tests { use super::*; use tokio::sync::RwLock; mod deeper { use tokio::fs; } }\n\
             mod apart { use tokio::sync::Mutex; }",
        )];
        let info = CrateInfo { lib_name: None, edition: Edition::E2021, dependencies: Vec::new() };
        let symbols = Symbols::build(&files, info);
        let root = crate::source::ModulePath::root("src");
        let target = |inline: &[&str], name: &str| {
            let inline: Vec<String> = inline.iter().map(ToString::to_string).collect();
            symbols.imports_in(&root, &inline).and_then(|i| i.get(name).map(|t| t.join("::")))
        };
        assert_eq!(target(&[], "Mutex").as_deref(), Some("std::sync::Mutex"));
        // `use super::*` sees the file's imports; its own shadow nothing here.
        assert_eq!(target(&["tests"], "Mutex").as_deref(), Some("std::sync::Mutex"));
        assert_eq!(target(&["tests"], "RwLock").as_deref(), Some("tokio::sync::RwLock"));
        // A module without the glob sees only its own.
        assert_eq!(target(&["apart"], "Mutex").as_deref(), Some("tokio::sync::Mutex"));
        assert_eq!(target(&["apart"], "fs"), None);
        assert_eq!(target(&["tests", "deeper"], "fs").as_deref(), Some("tokio::fs"));
        assert_eq!(target(&["tests", "deeper"], "RwLock"), None);
    }
}
