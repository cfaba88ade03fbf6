//! Whether blocking work done under a guard is the guarded value's own work, which the
//! lock exists to order: the whole value written out, the value filled once, or the
//! files a guarded registry tracks removed as it forgets them.
//!
//! Read from the body's syntax around the blocking call, by the guard's binding name.

use crate::source::{Position, Region};
use syn::spanned::Spanned;
use syn::visit::Visit;

/// How a blocking call belongs to the guarded value's own work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnWork {
    /// The whole guarded value goes into the file the call creates or writes
    /// (`serde_json::to_writer(File::create(p)?, &*map)`): persisting it, in order.
    Persisted,
    /// The call fills a guarded `Option` that is still empty
    /// (`if g.is_none() { *g = Some(load()) }`): every waiter needs that value anyway, as
    /// with a `OnceLock`.
    FilledOnce,
    /// The call removes a file or folder while the guarded value, a registry of them,
    /// is changed under the same guard: the disk and the registry change together.
    RegistryRemoval,
}

/// Calls that create or write a file.
const WRITES: &[&str] = &["File::create", "std::fs::write", "OpenOptions::open"];
/// Calls that remove a file or folder.
const REMOVALS: &[&str] = &["std::fs::remove_file", "std::fs::remove_dir", "std::fs::remove_dir_all"];
/// Methods that change a collection or `Option` in place.
const CHANGES: &[&str] = &[
    "remove",
    "get_mut",
    "insert",
    "entry",
    "retain",
    "clear",
    "drain",
    "pop",
    "pop_front",
    "pop_back",
    "take",
    "swap_remove",
    "truncate",
];

/// Is the blocking `call` at `at` in `body` the own work of the value guarded by the
/// binding `guard`?
pub fn own_work(body: &syn::Block, at: Position, call: &str, guard: &str) -> Option<OwnWork> {
    let mut around = Around { at, guard, rest: &[], fills_once: false, changes: false };
    around.visit_block(body);
    if WRITES.contains(&call) || call.starts_with("File::write") {
        // In the call's statement or after it (`let f = File::create(p)?; to_writer(f, &*g)`).
        let mut whole = WholeArgument { guard, found: false };
        around.rest.iter().for_each(|stmt| whole.visit_stmt(stmt));
        let writes_whole = whole.found;
        if writes_whole {
            return Some(OwnWork::Persisted);
        }
    }
    if around.fills_once {
        return Some(OwnWork::FilledOnce);
    }
    (REMOVALS.contains(&call) && around.changes).then_some(OwnWork::RegistryRemoval)
}

/// `g`, `*g`, `&g`, `&*g`, `&mut **g`: the guard's whole value.
fn is_whole(expr: &syn::Expr, guard: &str) -> bool {
    match expr {
        syn::Expr::Path(p) => p.path.is_ident(guard),
        syn::Expr::Reference(r) => is_whole(&r.expr, guard),
        syn::Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) => is_whole(&u.expr, guard),
        syn::Expr::Paren(p) => is_whole(&p.expr, guard),
        _ => false,
    }
}

fn contains(span: proc_macro2::Span, at: Position) -> bool {
    let region = Region::of(span);
    region.start <= at && at < region.end
}

/// What surrounds the blocking call, and what the body does to the guard.
struct Around<'b, 'g> {
    at: Position,
    guard: &'g str,
    /// The innermost block's statements from the one holding the call on.
    rest: &'b [syn::Stmt],
    /// The call is in `if g.is_none() { … *g = … }` or `g.get_or_insert_with(|| …)`.
    fills_once: bool,
    /// The body changes the guarded value in place.
    changes: bool,
}

impl<'b> Visit<'b> for Around<'b, '_> {
    fn visit_block(&mut self, block: &'b syn::Block) {
        if let Some(i) = block.stmts.iter().position(|stmt| contains(stmt.span(), self.at)) {
            self.rest = &block.stmts[i..];
        }
        syn::visit::visit_block(self, block);
    }

    fn visit_expr_if(&mut self, expr: &'b syn::ExprIf) {
        let checks_empty = matches!(&*expr.cond, syn::Expr::MethodCall(m) if m.method == "is_none" && is_whole(&m.receiver, self.guard));
        if checks_empty && contains(expr.then_branch.span(), self.at) {
            let mut fills = Fills { guard: self.guard, found: false };
            fills.visit_block(&expr.then_branch);
            self.fills_once |= fills.found;
        }
        syn::visit::visit_expr_if(self, expr);
    }

    fn visit_expr_method_call(&mut self, m: &'b syn::ExprMethodCall) {
        if is_whole(&m.receiver, self.guard) {
            let method = m.method.to_string();
            self.changes |= CHANGES.contains(&method.as_str());
            let fills_with = method == "get_or_insert_with" || method == "get_or_try_insert_with";
            self.fills_once |= fills_with && m.args.iter().any(|a| contains(a.span(), self.at));
        }
        syn::visit::visit_expr_method_call(self, m);
    }

    fn visit_expr_assign(&mut self, assign: &'b syn::ExprAssign) {
        self.changes |= assigns_guard(&assign.left, self.guard);
        syn::visit::visit_expr_assign(self, assign);
    }
}

/// `*g = …` (or `**g`): the guarded value replaced.
fn assigns_guard(left: &syn::Expr, guard: &str) -> bool {
    matches!(left, syn::Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) && is_whole(&u.expr, guard))
}

/// Does a block fill the guarded `Option`: `*g = …`, `g.replace(v)`, `g.insert(v)`?
struct Fills<'g> {
    guard: &'g str,
    found: bool,
}

impl Visit<'_> for Fills<'_> {
    fn visit_expr_assign(&mut self, assign: &syn::ExprAssign) {
        self.found |= assigns_guard(&assign.left, self.guard);
        syn::visit::visit_expr_assign(self, assign);
    }

    fn visit_expr_method_call(&mut self, m: &syn::ExprMethodCall) {
        let fills =
            matches!(m.method.to_string().as_str(), "replace" | "insert" | "get_or_insert") && m.args.len() == 1;
        self.found |= fills && is_whole(&m.receiver, self.guard);
        syn::visit::visit_expr_method_call(self, m);
    }
}

/// Is the guard's whole value an argument of some call?
struct WholeArgument<'g> {
    guard: &'g str,
    found: bool,
}

impl Visit<'_> for WholeArgument<'_> {
    fn visit_expr_call(&mut self, call: &syn::ExprCall) {
        self.found |= call.args.iter().any(|a| is_whole(a, self.guard));
        syn::visit::visit_expr_call(self, call);
    }

    fn visit_expr_method_call(&mut self, m: &syn::ExprMethodCall) {
        self.found |= m.args.iter().any(|a| is_whole(a, self.guard));
        syn::visit::visit_expr_method_call(self, m);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The own work of the call on the line holding `// <-`.
    fn own(body: &str, call: &str) -> Option<OwnWork> {
        let block: syn::Block = syn::parse_str(body).expect("block");
        let line = body.lines().position(|l| l.contains("// <-")).expect("marker") + 1;
        let column = body.lines().nth(line - 1).map_or(1, |l| l.len() - l.trim_start().len() + 1);
        own_work(&block, Position { line, column }, call, "g")
    }

    #[test]
    fn persisting_the_whole_value() {
        let persist = "{\n let g = m.lock();\n serde_json::to_writer(File::create(p)?, &*g)?; // <-\n}";
        assert_eq!(own(persist, "File::create"), Some(OwnWork::Persisted));
        let later = "{\n let g = m.lock();\n let f = File::create(p)?; // <-\n serde_json::to_writer(f, &*g)?;\n}";
        assert_eq!(own(later, "File::create"), Some(OwnWork::Persisted));
        let part = "{\n let g = m.lock();\n std::fs::write(p, &g.header)?; // <-\n}";
        assert_eq!(own(part, "std::fs::write"), None);
        let read = "{\n let g = m.lock();\n let b = std::fs::read(p)?; // <-\n use_it(&*g, b);\n}";
        assert_eq!(own(read, "std::fs::read"), None);
    }

    #[test]
    fn filling_once() {
        let fill = "{\n let mut g = m.lock();\n if g.is_none() {\n  let out = Command::new(c).output(); // <-\n  *g = Some(out);\n }\n}";
        assert_eq!(own(fill, "Command::output"), Some(OwnWork::FilledOnce));
        let with = "{\n let mut g = m.lock();\n g.get_or_insert_with(|| {\n  std::fs::read(p).unwrap() // <-\n });\n}";
        assert_eq!(own(with, "std::fs::read"), Some(OwnWork::FilledOnce));
        // A map filled key by key keeps the readers of other keys waiting.
        let map = "{\n let mut g = m.lock();\n if !g.contains_key(k) {\n  let v = std::fs::read(k)?; // <-\n  g.insert(k, v);\n }\n}";
        assert_eq!(own(map, "std::fs::read"), None);
    }

    #[test]
    fn removing_what_a_registry_forgets() {
        let forget = "{\n let mut g = m.lock();\n g.remove(&id);\n std::fs::remove_file(path)?; // <-\n}";
        assert_eq!(own(forget, "std::fs::remove_file"), Some(OwnWork::RegistryRemoval));
        let unchanged = "{\n let g = m.lock();\n let p = g.get(&id).cloned();\n std::fs::remove_file(p)?; // <-\n}";
        assert_eq!(own(unchanged, "std::fs::remove_file"), None);
        let read = "{\n let mut g = m.lock();\n g.remove(&id);\n std::fs::read(path)?; // <-\n}";
        assert_eq!(own(read, "std::fs::read"), None);
    }
}
