//! Is a type `Read + Seek`, or does it hold such a value, and through which chain?
//!
//! Types are judged where they are written ([`TyCtx`]): the module that gives their
//! names meaning and the generic parameters in scope (with their bounds, or the types
//! they were instantiated with).

use super::known::{self, External, Leaf};
use super::{DefId, DefKind, Resolved, Symbols};
use crate::source::ModulePath;
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

/// Depth limit for following definitions, aliases and trait hierarchies.
const MAX_DEPTH: usize = 10;

/// Why a type is `Read + Seek`: the chain from the type to the part that is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Why {
    /// From outermost to innermost, each a short code-formatted phrase.
    pub chain: Vec<String>,
    pub leaf: Leaf,
    /// The outermost field of a package type on the chain, with its type (`(Inner,
    /// files)` for `Mutex<Inner>` → `Inner.files` → …): the value is read through the
    /// lock only if something reads that field.
    pub outer: Option<(String, String)>,
}

impl Why {
    fn leaf(step: String, leaf: Leaf) -> Self {
        Why { chain: vec![step], leaf, outer: None }
    }

    /// Behind a field of a package type; the outermost such field is remembered.
    fn behind_field(mut self, step: String, owner: &str, field: String) -> Self {
        self.outer = Some((owner.to_string(), field));
        self.behind(step)
    }

    fn behind(mut self, step: String) -> Self {
        if self.chain.first() != Some(&step) {
            self.chain.insert(0, step);
        }
        self
    }
}

/// Generic parameters in scope.
#[derive(Default)]
pub struct Env<'t> {
    vars: HashMap<String, Binding<'t>>,
    parent: Option<Rc<Env<'t>>>,
}

pub enum Binding<'t> {
    /// A parameter known only by its bounds, each with the module it was written in.
    Bounds(Vec<(&'t syn::TypeParamBound, ModulePath)>),
    /// A parameter instantiated with a type written elsewhere (also `Self` in an impl).
    Type(&'t syn::Type, TyCtx<'t>),
}

impl<'t> Env<'t> {
    pub fn child(parent: &Rc<Env<'t>>) -> Self {
        Env { vars: HashMap::new(), parent: Some(parent.clone()) }
    }

    pub fn bind(&mut self, name: String, binding: Binding<'t>) {
        self.vars.insert(name, binding);
    }

    fn get(&self, name: &str) -> Option<&Binding<'t>> {
        self.vars.get(name).or_else(|| self.parent.as_deref().and_then(|p| p.get(name)))
    }

    /// Bind every type parameter of `generics` by its inline and `where` bounds.
    pub fn bind_generics(&mut self, generics: &'t syn::Generics, module: &ModulePath) {
        for param in generics.type_params() {
            let bounds = bounds_of(generics, &param.ident, module);
            self.bind(param.ident.to_string(), Binding::Bounds(bounds));
        }
    }
}

/// A type's surroundings: where its names resolve, and its generics.
#[derive(Clone)]
pub struct TyCtx<'t> {
    pub module: ModulePath,
    pub env: Rc<Env<'t>>,
}

impl<'t> TyCtx<'t> {
    pub fn new(module: ModulePath) -> Self {
        TyCtx { module, env: Rc::new(Env::default()) }
    }
}

/// Inline and `where` bounds on a type parameter of `generics`.
fn bounds_of<'t>(
    generics: &'t syn::Generics,
    ident: &syn::Ident,
    module: &ModulePath,
) -> Vec<(&'t syn::TypeParamBound, ModulePath)> {
    crate::uses::type_param_bounds(generics, ident).into_iter().map(|b| (b, module.clone())).collect()
}

#[derive(Default)]
pub(super) struct Cache {
    /// Results for package types without type parameters.
    defs: RefCell<HashMap<DefId, Option<Why>>>,
    in_progress: RefCell<HashSet<DefId>>,
    traits: RefCell<HashMap<DefId, (bool, bool)>>,
}

/// `Mutex < File >` from tokens, tidied to `Mutex<File>`.
pub fn display_type<T: quote::ToTokens>(ty: &T) -> String {
    let raw = ty.to_token_stream().to_string();
    let mut out = raw
        .replace(" :: ", "::")
        .replace(":: ", "::")
        .replace(" < ", "<")
        .replace("< ", "<")
        .replace(" <", "<")
        .replace(" >", ">")
        .replace(" ,", ",")
        .replace("& ", "&")
        .replace("' ", "'")
        .replace("[ ", "[")
        .replace(" ]", "]")
        .replace("( ", "(")
        .replace(" )", ")");
    if out.len() > 80 {
        out.truncate(out.char_indices().nth(77).map_or(out.len(), |(i, _)| i));
        out.push('…');
    }
    out
}

fn code(s: &str) -> String {
    format!("`{s}`")
}

impl<'a> Symbols<'a> {
    /// Is `ty` `Read + Seek`, or does it hold such a value? `None` when not, or unknown.
    pub fn read_seek<'t>(&self, ty: &'t syn::Type, cx: &TyCtx<'t>) -> Option<Why>
    where
        'a: 't,
    {
        self.type_read_seek(ty, cx, 0)
    }

    fn type_read_seek<'t>(&self, ty: &'t syn::Type, cx: &TyCtx<'t>, depth: usize) -> Option<Why>
    where
        'a: 't,
    {
        if depth > MAX_DEPTH {
            return None;
        }
        match ty {
            syn::Type::Reference(r) => self.type_read_seek(&r.elem, cx, depth + 1),
            syn::Type::Paren(p) => self.type_read_seek(&p.elem, cx, depth + 1),
            syn::Type::Group(g) => self.type_read_seek(&g.elem, cx, depth + 1),
            syn::Type::Array(a) => self.type_read_seek(&a.elem, cx, depth + 1),
            syn::Type::Slice(s) => self.type_read_seek(&s.elem, cx, depth + 1),
            syn::Type::Tuple(t) => t.elems.iter().find_map(|e| self.type_read_seek(e, cx, depth + 1)),
            syn::Type::TraitObject(t) => self.bounds_object(t.bounds.iter(), &display_type(ty), cx, depth),
            syn::Type::ImplTrait(t) => self.bounds_object(t.bounds.iter(), &display_type(ty), cx, depth),
            syn::Type::Path(p) if p.qself.is_none() => self.path_read_seek(&p.path, ty, cx, depth),
            _ => None,
        }
    }

    fn path_read_seek<'t>(&self, path: &'t syn::Path, ty: &'t syn::Type, cx: &TyCtx<'t>, depth: usize) -> Option<Why>
    where
        'a: 't,
    {
        if let Some(ident) = path.get_ident() {
            match cx.env.get(&ident.to_string()) {
                Some(Binding::Type(bound_ty, bound_cx)) => {
                    return self.type_read_seek(bound_ty, bound_cx, depth + 1);
                }
                Some(Binding::Bounds(bounds)) => {
                    let (read, seek) = self.bounds_caps(bounds.iter().map(|(b, m)| (*b, m)), depth);
                    return (read && seek)
                        .then(|| Why::leaf(format!("`{ident}` is bounded by `Read + Seek`"), Leaf::Generic));
                }
                None => {}
            }
        }
        let shown = display_type(ty);
        let args = type_args(path);
        match self.resolve_path(&cx.module, path) {
            Resolved::External(full) => {
                if known::is_lock(&full) {
                    // A lock inside is reported on its own; the outer lock is not held while reading.
                    return None;
                }
                if self.configured_read_seek_external(&full) {
                    return Some(Why::leaf(format!("{} (in `read_seek_types`)", code(&shown)), Leaf::CrateReader));
                }
                match known::classify(&full) {
                    External::ReadSeek(leaf) => Some(Why::leaf(code(&shown), leaf)),
                    External::ReadSeekIf => {
                        let inner = self.type_read_seek(args.first()?, cx, depth + 1)?;
                        Some(inner.behind(code(&shown)))
                    }
                    External::Opaque => None,
                    External::Holder => args
                        .iter()
                        .find_map(|arg| self.type_read_seek(arg, cx, depth + 1))
                        .map(|inner| inner.behind(code(&shown))),
                }
            }
            Resolved::Def(id) => self.forms(id).find_map(|form| self.def_read_seek(form, &args, cx, depth + 1)),
            Resolved::Unknown => None,
        }
    }

    /// A package type, instantiated with `args` written in `cx`.
    pub fn def_read_seek<'t>(&self, id: DefId, args: &[&'t syn::Type], cx: &TyCtx<'t>, depth: usize) -> Option<Why>
    where
        'a: 't,
    {
        if depth > MAX_DEPTH {
            return None;
        }
        let def = self.def(id);
        let generic = def.kind.generics().type_params().next().is_some();
        if !generic {
            if let Some(cached) = self.read_seek_cache.defs.borrow().get(&id) {
                return cached.clone();
            }
        }
        if !self.read_seek_cache.in_progress.borrow_mut().insert(id) {
            return None;
        }
        let found = self.def_read_seek_uncached(id, args, cx, depth);
        self.read_seek_cache.in_progress.borrow_mut().remove(&id);
        if !generic {
            self.read_seek_cache.defs.borrow_mut().insert(id, found.clone());
        }
        found
    }

    fn def_read_seek_uncached<'t>(&self, id: DefId, args: &[&'t syn::Type], cx: &TyCtx<'t>, depth: usize) -> Option<Why>
    where
        'a: 't,
    {
        let def = self.def(id);
        let name = def.name.clone();
        if let DefKind::Trait(_) = def.kind {
            return self.trait_object(id, &name, depth);
        }
        if self.implements_read_seek(id) {
            return Some(Why::leaf(format!("`{name}` implements `Read + Seek`"), Leaf::CrateReader));
        }
        if self.configured_read_seek_def(id) {
            return Some(Why::leaf(format!("`{name}` (in `read_seek_types`)"), Leaf::CrateReader));
        }
        let def_cx = self.def_context(id, args, cx);
        let field_why = |fields: &'a syn::Fields, prefix: &str| {
            fields.iter().enumerate().find_map(|(i, field)| {
                let field_name = field.ident.as_ref().map_or_else(|| i.to_string(), |f| f.to_string());
                self.type_read_seek(&field.ty, &def_cx, depth + 1)
                    .filter(|inner| !(inner.leaf == Leaf::File && known::names_a_stream(&field_name)))
                    .map(|inner| inner.behind_field(format!("`{prefix}.{field_name}`"), &name, field_name.clone()))
            })
        };
        match &def.kind {
            DefKind::Alias(alias) => self
                .type_read_seek(&alias.ty, &def_cx, depth + 1)
                .map(|inner| inner.behind(format!("`{name}` (alias)"))),
            DefKind::Struct(s) => field_why(&s.fields, &name),
            DefKind::Union(u) => u.fields.named.iter().find_map(|field| {
                let field_name = field.ident.as_ref().map(|f| f.to_string()).unwrap_or_default();
                self.type_read_seek(&field.ty, &def_cx, depth + 1)
                    .map(|inner| inner.behind_field(format!("`{name}.{field_name}`"), &name, field_name.clone()))
            }),
            DefKind::Enum(e) => e.variants.iter().find_map(|v| field_why(&v.fields, &format!("{name}::{}", v.ident))),
            DefKind::Trait(_) => None,
        }
    }

    /// The context inside a package type's definition: its parameters bound to `args`
    /// where given, otherwise by their bounds on the type and on its impl blocks.
    fn def_context<'t>(&self, id: DefId, args: &[&'t syn::Type], cx: &TyCtx<'t>) -> TyCtx<'t>
    where
        'a: 't,
    {
        let def = self.def(id);
        let mut env = Env::default();
        for (i, param) in def.kind.generics().type_params().enumerate() {
            let binding = match args.get(i) {
                Some(arg) => Binding::Type(arg, cx.clone()),
                None => Binding::Bounds(self.param_bounds(id, i)),
            };
            env.bind(param.ident.to_string(), binding);
        }
        TyCtx { module: def.module.clone(), env: Rc::new(env) }
    }

    /// Bounds on the `index`th type parameter of a package type: on the type itself
    /// and on every impl block of it (`impl<R: Read + Seek> Archive<R>`).
    pub fn param_bounds(&self, id: DefId, index: usize) -> Vec<(&'a syn::TypeParamBound, ModulePath)> {
        let def = self.def(id);
        let generics = def.kind.generics();
        let mut bounds = match generics.type_params().nth(index) {
            Some(param) => bounds_of(generics, &param.ident, &def.module),
            None => return Vec::new(),
        };
        for imp in self.impls_of(id) {
            let syn::Type::Path(self_ty) = &*imp.item.self_ty else { continue };
            let Some(arg) = type_args(&self_ty.path).get(index).copied() else { continue };
            let syn::Type::Path(arg_path) = arg else { continue };
            if let Some(ident) = arg_path.path.get_ident() {
                bounds.extend(bounds_of(&imp.item.generics, ident, &imp.module));
            }
        }
        bounds
    }

    fn implements_read_seek(&self, id: DefId) -> bool {
        let (mut read, mut seek) = (false, false);
        for imp in self.impls_of(id) {
            if let Some((None, trait_path, _)) = &imp.item.trait_ {
                let (r, s) = self.trait_path_caps(trait_path, &imp.module, 0);
                read |= r;
                seek |= s;
            }
        }
        read && seek
    }

    /// `dyn A + B` or `impl A + B`.
    fn bounds_object<'t>(
        &self,
        bounds: impl Iterator<Item = &'t syn::TypeParamBound> + Clone,
        shown: &str,
        cx: &TyCtx<'t>,
        depth: usize,
    ) -> Option<Why>
    where
        'a: 't,
    {
        let (read, seek) = self.bounds_caps(bounds.clone().map(|b| (b, &cx.module)), depth);
        if read && seek {
            return Some(Why::leaf(code(shown), Leaf::Generic));
        }
        // `dyn Trait` where the package's implementors of `Trait` hold a `Read + Seek` value.
        bounds
            .filter_map(|b| match b {
                syn::TypeParamBound::Trait(t) => Some(&t.path),
                _ => None,
            })
            .find_map(|path| match self.resolve_path(&cx.module, path) {
                Resolved::Def(id) if matches!(self.def(id).kind, DefKind::Trait(_)) => {
                    self.trait_object(id, &display_type(path), depth + 1).map(|inner| inner.behind(code(shown)))
                }
                _ => None,
            })
    }

    /// A trait object of a package trait: `Read + Seek` through its supertraits, or
    /// through what its implementors in the package hold.
    fn trait_object(&self, trait_id: DefId, shown: &str, depth: usize) -> Option<Why> {
        if depth > MAX_DEPTH {
            return None;
        }
        let (read, seek) = self.trait_caps(trait_id, depth);
        if read && seek {
            return Some(Why::leaf(format!("`{shown}` has supertraits `Read + Seek`"), Leaf::Generic));
        }
        // An implementor counts when its methods read the field that holds the value:
        // one that keeps a pipe `File` as a descriptor to poll makes no reader queue.
        // Test doubles (in `#[cfg(test)]` code or test, bench and example crates) are not
        // what production code puts behind the lock.
        let production = |imp: &&super::ImplRef<'a>| {
            let target = &*imp.module.target;
            !imp.in_test && !["tests", "benches", "examples"].iter().any(|t| target.starts_with(t))
        };
        self.implementors_of(trait_id).iter().filter(production).find_map(|imp| {
            let mut env = Env::default();
            env.bind_generics(&imp.item.generics, &imp.module);
            let cx = TyCtx { module: imp.module.clone(), env: Rc::new(env) };
            let implementor = display_type(&*imp.item.self_ty);
            let via = format!("`{shown}` is implemented by `{implementor}`");
            if let Some(id) = self.package_struct(&imp.item.self_ty, &imp.module) {
                return self.read_field_why(id, &cx, depth).map(|inner| inner.behind(via));
            }
            self.type_read_seek(&imp.item.self_ty, &cx, depth + 1).map(|inner| inner.behind(via))
        })
    }

    /// The package struct a type names, if it names one.
    fn package_struct(&self, ty: &syn::Type, module: &ModulePath) -> Option<DefId> {
        let syn::Type::Path(p) = ty else { return None };
        match self.resolve_path(module, &p.path) {
            Resolved::Def(id) if matches!(self.def(id).kind, DefKind::Struct(_)) => Some(id),
            _ => None,
        }
    }

    /// A field of a package struct that holds a `Read + Seek` value and that the
    /// struct's own methods read.
    fn read_field_why<'t>(&self, id: DefId, cx: &TyCtx<'t>, depth: usize) -> Option<Why>
    where
        'a: 't,
    {
        let def = self.def(id);
        let DefKind::Struct(item) = def.kind else { return None };
        let def_cx = TyCtx { module: def.module.clone(), env: cx.env.clone() };
        let summaries = self.summaries();
        item.fields.iter().find_map(|field| {
            let name = field.ident.as_ref()?.to_string();
            if !summaries.reading_fields.contains(&(def.name.clone(), name.clone())) {
                return None;
            }
            self.type_read_seek(&field.ty, &def_cx, depth + 1)
                .filter(|inner| !(inner.leaf == Leaf::File && known::names_a_stream(&name)))
                .map(|inner| inner.behind_field(format!("`{}.{name}`", def.name), &def.name, name))
        })
    }

    /// Does a set of bounds include `Read` and `Seek`, directly or through supertraits?
    fn bounds_caps<'b>(
        &self,
        bounds: impl Iterator<Item = (&'b syn::TypeParamBound, &'b ModulePath)>,
        depth: usize,
    ) -> (bool, bool) {
        let (mut read, mut seek) = (false, false);
        for (bound, module) in bounds {
            if let syn::TypeParamBound::Trait(t) = bound {
                let (r, s) = self.trait_path_caps(&t.path, module, depth);
                read |= r;
                seek |= s;
            }
        }
        (read, seek)
    }

    fn trait_path_caps(&self, path: &syn::Path, module: &ModulePath, depth: usize) -> (bool, bool) {
        match self.resolve_path(module, path) {
            Resolved::External(full) => (known::is_read_trait(&full), known::is_seek_trait(&full)),
            Resolved::Def(id) if matches!(self.def(id).kind, DefKind::Trait(_)) => self.trait_caps(id, depth + 1),
            _ => (false, false),
        }
    }

    fn trait_caps(&self, id: DefId, depth: usize) -> (bool, bool) {
        if let Some(&caps) = self.read_seek_cache.traits.borrow().get(&id) {
            return caps;
        }
        if depth > MAX_DEPTH || !self.read_seek_cache.in_progress.borrow_mut().insert(id) {
            return (false, false);
        }
        let def = self.def(id);
        let caps = match &def.kind {
            DefKind::Trait(t) => {
                let module = def.module.clone();
                self.bounds_caps(t.supertraits.iter().map(|b| (b, &module)), depth + 1)
            }
            _ => (false, false),
        };
        self.read_seek_cache.in_progress.borrow_mut().remove(&id);
        self.read_seek_cache.traits.borrow_mut().insert(id, caps);
        caps
    }
}

/// The type arguments of a path's last segment (`HashMap<K, V>` gives `[K, V]`).
pub fn type_args(path: &syn::Path) -> Vec<&syn::Type> {
    match path.segments.last().map(|s| &s.arguments) {
        Some(syn::PathArguments::AngleBracketed(args)) => args
            .args
            .iter()
            .filter_map(|a| match a {
                syn::GenericArgument::Type(t) => Some(t),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}
