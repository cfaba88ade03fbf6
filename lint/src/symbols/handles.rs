//! Handles to shared mutable state, by type: an `Arc` of a lock around data or of a
//! concurrent collection, a lock or concurrent collection lent by reference, through
//! aliases and package lock wrappers. `Mutex<()>` guards no data and is not one.

use super::{known, DefKind, Resolved, Symbols};
use crate::source::ModulePath;

/// Is `ty` a handle to shared mutable state?
pub fn is_handle_type(symbols: &Symbols<'_>, module: &ModulePath, ty: &syn::Type) -> bool {
    handle_type(symbols, module, ty, 0)
}

fn handle_type(symbols: &Symbols<'_>, module: &ModulePath, ty: &syn::Type, depth: usize) -> bool {
    if depth > 8 {
        return false;
    }
    match ty {
        syn::Type::Reference(r) => handle_type(symbols, module, &r.elem, depth + 1),
        syn::Type::Paren(p) => handle_type(symbols, module, &p.elem, depth + 1),
        syn::Type::Group(g) => handle_type(symbols, module, &g.elem, depth + 1),
        syn::Type::Path(tp) if tp.qself.is_none() => match type_kind(symbols, module, &tp.path) {
            TypeKind::Arc(Some(inner)) => shared_inner(symbols, module, inner, depth + 1),
            TypeKind::SharedState => true,
            TypeKind::Alias(ty, alias_module) => handle_type(symbols, &alias_module, ty, depth + 1),
            _ => false,
        },
        _ => false,
    }
}

/// Is `ty` (inside an `Arc`) a lock around data or a concurrent collection?
fn shared_inner(symbols: &Symbols<'_>, module: &ModulePath, ty: &syn::Type, depth: usize) -> bool {
    if depth > 8 {
        return false;
    }
    let syn::Type::Path(tp) = ty else { return false };
    match type_kind(symbols, module, &tp.path) {
        TypeKind::SharedState => true,
        TypeKind::Alias(ty, alias_module) => shared_inner(symbols, &alias_module, ty, depth + 1),
        _ => false,
    }
}

/// The named fields of an impl's self type that are handles.
pub fn handle_fields(symbols: &Symbols<'_>, module: &ModulePath, self_ty: &syn::Type) -> Vec<String> {
    let syn::Type::Path(tp) = self_ty else { return Vec::new() };
    let Resolved::Def(id) = symbols.resolve_path(module, &tp.path) else { return Vec::new() };
    let def = symbols.def(id);
    let DefKind::Struct(item) = def.kind else { return Vec::new() };
    item.fields
        .iter()
        .filter(|f| is_handle_type(symbols, &def.module, &f.ty))
        .filter_map(|f| f.ident.as_ref().map(ToString::to_string))
        .collect()
}

/// Does `expr` build a new handle: `Arc::new(Mutex::new(..))`, `Mutex::new(..)` (lent
/// to scoped threads), `DashMap::new()`?
pub fn is_handle_constructor(symbols: &Symbols<'_>, module: &ModulePath, expr: &syn::Expr) -> bool {
    let expr = match expr {
        syn::Expr::Paren(p) => &*p.expr,
        other => other,
    };
    let syn::Expr::Call(call) = expr else { return false };
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
    let candidate = matches!(ty_name.as_str(), "Arc" | "Mutex" | "RwLock" | "FairMutex" | "ReentrantMutex")
        || known::is_concurrent_collection(&[String::new(), ty_name]);
    if !candidate {
        return false;
    }
    let mut ty_path = func.path.clone();
    ty_path.segments.pop();
    ty_path.segments.pop_punct();
    let full = match symbols.resolve_path(module, &ty_path) {
        Resolved::External(full) => full,
        Resolved::Unknown => {
            vec!["std".into(), ty_path.segments.last().map(|s| s.ident.to_string()).unwrap_or_default()]
        }
        Resolved::Def(id) => return is_lock_wrapper(symbols, id),
    };
    if known::is_arc(&full) {
        return call.args.first().is_some_and(|inner| is_handle_constructor(symbols, module, inner));
    }
    let unit = call.args.first().is_some_and(|a| matches!(a, syn::Expr::Tuple(t) if t.elems.is_empty()));
    known::is_concurrent_collection(&full) || (is_lock_path(&full) && !unit)
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
    let args = super::read_seek::type_args(path);
    // A lock's data is its last type parameter (`lock_api::Mutex<R, T>`): `Mutex<()>`
    // guards no buffer.
    if args.last().is_some_and(|t| matches!(t, syn::Type::Tuple(t) if t.elems.is_empty())) {
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
fn is_lock_wrapper(symbols: &Symbols<'_>, id: super::DefId) -> bool {
    let def = symbols.def(id);
    matches!(def.kind, DefKind::Struct(_))
        && matches!(def.name.as_str(), "Mutex" | "RwLock" | "FairMutex" | "ReentrantMutex")
}

fn is_lock_path(full: &[String]) -> bool {
    known::is_lock(full) || full.last().is_some_and(|l| l == "Mutex" || l == "RwLock") && full.len() <= 2
}
