//! Whether blocking work done under a guard is the guarded value's own work, which the
//! lock exists to order: the whole value written out, the value filled once, or the
//! files a guarded registry tracks removed as it forgets them.
//!
//! Read from the body's syntax by the guard's binding name, in one walk per body.

use super::strip_type;
use crate::source::Position;
use std::collections::{HashMap, HashSet};
use syn::visit::Visit;

/// How a blocking call belongs to the guarded value's own work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnWork {
    /// The whole guarded value goes into the file the call creates or writes
    /// (`serde_json::to_writer(File::create(p)?, &*map)`, or `let text = g.serialize();`
    /// then `fs::write(p, text)`): persisting it, in order.
    Persisted,
    /// The call fills a guarded `Option` that is still empty
    /// (`if g.is_none() { *g = Some(load()) }`, or `if g.is_some() { return; }` and then
    /// the filling): every waiter needs that value anyway, as with a `OnceLock`.
    FilledOnce,
    /// The call removes a file or folder while the guarded value, a registry of them,
    /// is changed under the same guard: the disk and the registry change together.
    RegistryRemoval,
    /// The call creates, writes or renames a file, or creates a folder, while the guarded
    /// value is changed under the same guard (`g.insert(k, v); fs::write(path(k), bytes)`,
    /// `if made.insert(dir) { fs::create_dir_all(dir) }`): a write-through store, whose
    /// disk changes in the order its memory does.
    WriteThrough,
}

/// Calls that create or write a file.
const WRITES: &[&str] = &["File::create", "std::fs::write", "OpenOptions::open"];
/// Calls that replace a file by another.
const RENAMES: &[&str] = &["std::fs::rename"];
/// Calls that create a folder (a set of created folders is kept in step with the disk).
const MAKES_FOLDERS: &[&str] = &["std::fs::create_dir", "std::fs::create_dir_all"];
/// Calls that remove a file or folder.
const REMOVALS: &[&str] = &["std::fs::remove_file", "std::fs::remove_dir", "std::fs::remove_dir_all"];
/// Methods that change a collection or `Option` in place (and, by [`changes`], those
/// named for taking something out: `evict_lru`, `remove_oldest`, `pop_expired`).
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

/// What a body does with its guards' values, gathered in one walk so that each
/// blocking call is then judged by look-ups (a hostile body may hold thousands of
/// calls under one guard).
pub struct GuardedWork {
    /// For each call (by where it starts): its innermost block and statement index, and
    /// the guards whose filling encloses it.
    calls: HashMap<Position, Call>,
    /// Per block: for each guard whose whole value is a call's argument there, the last
    /// statement where it is.
    whole_arguments: Vec<HashMap<String, usize>>,
    /// Guards whose value is changed in place somewhere in the body.
    changed: HashSet<String>,
}

struct Call {
    block: usize,
    statement: usize,
    filling: Vec<String>,
}

impl GuardedWork {
    pub fn of(body: &syn::Block) -> Self {
        let mut walk = Walk::default();
        walk.visit_block(body);
        GuardedWork { calls: walk.calls, whole_arguments: walk.whole_arguments, changed: walk.changed }
    }

    /// Is the blocking `call` starting at `at` the own work of the value guarded by the
    /// binding `guard`?
    pub fn own_work(&self, at: Position, call: &str, guard: &str) -> Option<OwnWork> {
        let site = self.calls.get(&at)?;
        if WRITES.contains(&call) || call.starts_with("File::write") {
            // In the call's statement or after it (`let f = File::create(p)?; to_writer(f, &*g)`).
            let last = self.whole_arguments.get(site.block).and_then(|names| names.get(guard));
            if last.is_some_and(|&last| last >= site.statement) {
                return Some(OwnWork::Persisted);
            }
        }
        if site.filling.iter().any(|g| g == guard) {
            return Some(OwnWork::FilledOnce);
        }
        if !self.changed.contains(guard) {
            return None;
        }
        if REMOVALS.contains(&call) {
            return Some(OwnWork::RegistryRemoval);
        }
        let writes = WRITES.contains(&call)
            || RENAMES.contains(&call)
            || MAKES_FOLDERS.contains(&call)
            || call.starts_with("File::write");
        writes.then_some(OwnWork::WriteThrough)
    }
}

fn changes(method: &str) -> bool {
    CHANGES.contains(&method)
        || ["evict", "remove_", "pop_", "take_", "drain_"].iter().any(|prefix| method.starts_with(prefix))
}

/// `g`, `*g`, `&g`, `&*g`, `&mut **g`: the guard's whole value, by its name.
fn whole(expr: &syn::Expr) -> Option<String> {
    match expr {
        syn::Expr::Path(p) => p.path.get_ident().map(ToString::to_string),
        syn::Expr::Reference(r) => whole(&r.expr),
        syn::Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) => whole(&u.expr),
        syn::Expr::Paren(p) => whole(&p.expr),
        _ => None,
    }
}

/// `if g.is_some() { return …; }` (or `if let Some(v) = &*g { return v.clone(); }`): the
/// guard whose `Option` is checked to be empty before going on; its name.
fn returns_when_filled(stmt: &syn::Stmt) -> Option<String> {
    let syn::Stmt::Expr(syn::Expr::If(i), _) = stmt else { return None };
    if i.else_branch.is_some() || !matches!(i.then_branch.stmts.last(), Some(last) if diverges(last)) {
        return None;
    }
    match &*i.cond {
        syn::Expr::MethodCall(m) if m.method == "is_some" => whole(&m.receiver),
        syn::Expr::Let(l) if matches!(&*l.pat, syn::Pat::TupleStruct(t) if t.path.is_ident("Some")) => match &*l.expr {
            syn::Expr::MethodCall(m) if matches!(m.method.to_string().as_str(), "as_ref" | "as_deref") => {
                whole(&m.receiver)
            }
            other => whole(other),
        },
        _ => None,
    }
}

/// `return …`, `continue`, `break`: the block leaves.
fn diverges(stmt: &syn::Stmt) -> bool {
    let expr = match stmt {
        syn::Stmt::Expr(e, _) => e,
        _ => return false,
    };
    matches!(expr, syn::Expr::Return(_) | syn::Expr::Continue(_) | syn::Expr::Break(_))
}

/// `g.serialize()`, `g.to_string()`, `toml::to_string(&*g)`, `bincode::serialize(&*g)`:
/// the whole guarded value serialized; the guard's name.
fn serialized_whole(expr: &syn::Expr) -> Option<String> {
    let serializes = |name: &str| {
        name.starts_with("to_") || name.contains("_to_") || matches!(name, "serialize" | "encode" | "dump")
    };
    match expr {
        syn::Expr::MethodCall(m) if serializes(&m.method.to_string()) => whole(&m.receiver),
        syn::Expr::Call(c) => {
            let syn::Expr::Path(f) = &*c.func else { return None };
            let name = f.path.segments.last()?.ident.to_string();
            if serializes(&name) {
                c.args.iter().find_map(whole)
            } else {
                None
            }
        }
        _ => None,
    }
}

/// `e?`, `e.unwrap()`, `e.context(..)`: the value `e` gives when it succeeds.
pub(super) fn strip_try(expr: &syn::Expr) -> &syn::Expr {
    match expr {
        syn::Expr::Try(t) => strip_try(&t.expr),
        syn::Expr::MethodCall(m) if crate::vocab::hands_on_ownership(&m.method.to_string()) => strip_try(&m.receiver),
        _ => expr,
    }
}

/// `text.as_bytes()`, `(&text).as_ref()`: the value a view is of.
fn strip_views(expr: &syn::Expr) -> &syn::Expr {
    match expr {
        syn::Expr::MethodCall(m)
            if m.args.is_empty()
                && matches!(m.method.to_string().as_str(), "as_bytes" | "as_str" | "as_ref" | "as_slice") =>
        {
            strip_views(&m.receiver)
        }
        syn::Expr::Reference(r) => strip_views(&r.expr),
        _ => expr,
    }
}

/// `*g = …` (or `**g`): the guarded value replaced; the guard's name.
fn assigned_guard(left: &syn::Expr) -> Option<String> {
    match left {
        syn::Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) => whole(&u.expr),
        _ => None,
    }
}

#[derive(Default)]
struct Walk {
    calls: HashMap<Position, Call>,
    whole_arguments: Vec<HashMap<String, usize>>,
    changed: HashSet<String>,
    /// The innermost block and statement being walked.
    at: Option<(usize, usize)>,
    /// Locals holding a guarded value serialized whole (`let text = g.serialize()`), and
    /// that guard.
    serialized: HashMap<String, String>,
    /// Guards being filled around the walk.
    filling: Vec<String>,
}

impl Walk {
    fn call(&mut self, expr: &syn::Expr, args: &syn::punctuated::Punctuated<syn::Expr, syn::Token![,]>) {
        if let Some((block, statement)) = self.at {
            // `w.write_all(g.export_to_json()?.as_bytes())`: the whole value, serialized in place.
            let serialized_here = |a: &syn::Expr| serialized_whole(strip_try(strip_views(a)));
            for name in args.iter().filter_map(|a| whole(a).or_else(|| serialized_here(a))) {
                let guard = self.serialized.get(&name).cloned();
                for name in std::iter::once(name).chain(guard) {
                    let last = self.whole_arguments[block].entry(name).or_default();
                    *last = (*last).max(statement);
                }
            }
            let filling = self.filling.clone();
            self.calls.entry(super::leftmost(expr)).or_insert(Call { block, statement, filling });
        }
    }
}

impl<'b> Visit<'b> for Walk {
    fn visit_block(&mut self, block: &'b syn::Block) {
        let id = self.whole_arguments.len();
        self.whole_arguments.push(HashMap::new());
        let outer = self.at;
        let filling_before = self.filling.len();
        // `if g.is_some() { return; }`: the statements after it, up to the one that fills
        // `g`, run only while it is empty.
        let mut filled_at: Vec<usize> = Vec::new();
        for (i, stmt) in block.stmts.iter().enumerate() {
            self.at = Some((id, i));
            self.visit_stmt(stmt);
            if filled_at.last() == Some(&i) {
                filled_at.pop();
                self.filling.pop();
            }
            let Some(guard) = returns_when_filled(stmt) else { continue };
            let fill = block.stmts[i + 1..].iter().position(|later| {
                let mut fills = Fills { guard: &guard, found: false };
                fills.visit_stmt(later);
                fills.found
            });
            if let Some(offset) = fill {
                filled_at.push(i + 1 + offset);
                self.filling.push(guard);
            }
        }
        self.filling.truncate(filling_before);
        self.at = outer;
    }

    fn visit_expr(&mut self, expr: &'b syn::Expr) {
        // `drop(g)` ends the guard; it writes nothing out.
        let drops = |c: &syn::ExprCall| matches!(&*c.func, syn::Expr::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "drop"));
        match expr {
            syn::Expr::Call(c) if !drops(c) => self.call(expr, &c.args),
            syn::Expr::MethodCall(m) => self.call(expr, &m.args),
            _ => {}
        }
        syn::visit::visit_expr(self, expr);
    }

    fn visit_expr_if(&mut self, expr: &'b syn::ExprIf) {
        let empty_checked = match &*expr.cond {
            syn::Expr::MethodCall(m) if m.method == "is_none" => whole(&m.receiver),
            _ => None,
        };
        let fills = empty_checked.filter(|guard| {
            let mut fills = Fills { guard, found: false };
            fills.visit_block(&expr.then_branch);
            fills.found
        });
        self.visit_expr(&expr.cond);
        let filled = fills.is_some();
        self.filling.extend(fills);
        self.visit_block(&expr.then_branch);
        if filled {
            self.filling.pop();
        }
        if let Some((_, e)) = &expr.else_branch {
            self.visit_expr(e);
        }
    }

    fn visit_expr_method_call(&mut self, m: &'b syn::ExprMethodCall) {
        let Some(guard) = whole(&m.receiver) else { return syn::visit::visit_expr_method_call(self, m) };
        let method = m.method.to_string();
        if changes(&method) {
            self.changed.insert(guard.clone());
        }
        if method == "get_or_insert_with" || method == "get_or_try_insert_with" {
            self.visit_expr(&m.receiver);
            self.filling.push(guard);
            m.args.iter().for_each(|a| self.visit_expr(a));
            self.filling.pop();
            return;
        }
        syn::visit::visit_expr_method_call(self, m);
    }

    fn visit_local(&mut self, local: &'b syn::Local) {
        if let (syn::Pat::Ident(p), Some(init)) = (strip_type(&local.pat), &local.init) {
            if let Some(guard) = serialized_whole(strip_try(&init.expr)) {
                self.serialized.insert(p.ident.to_string(), guard);
            }
        }
        syn::visit::visit_local(self, local);
    }

    fn visit_expr_assign(&mut self, assign: &'b syn::ExprAssign) {
        self.changed.extend(assigned_guard(&assign.left));
        syn::visit::visit_expr_assign(self, assign);
    }
}

/// Does a block fill the guarded `Option`: `*g = …`, `g.replace(v)`, `g.insert(v)`?
struct Fills<'g> {
    guard: &'g str,
    found: bool,
}

impl Visit<'_> for Fills<'_> {
    fn visit_expr_assign(&mut self, assign: &syn::ExprAssign) {
        self.found |= assigned_guard(&assign.left).as_deref() == Some(self.guard);
        syn::visit::visit_expr_assign(self, assign);
    }

    fn visit_expr_method_call(&mut self, m: &syn::ExprMethodCall) {
        let fills =
            matches!(m.method.to_string().as_str(), "replace" | "insert" | "get_or_insert") && m.args.len() == 1;
        self.found |= fills && whole(&m.receiver).as_deref() == Some(self.guard);
        syn::visit::visit_expr_method_call(self, m);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The own work of the call `call` that starts with `start` on the line holding `// <-`.
    fn own(body: &str, start: &str, call: &str) -> Option<OwnWork> {
        let block: syn::Block = syn::parse_str(body).expect("block");
        let line = body.lines().position(|l| l.contains("// <-")).expect("marker") + 1;
        let column = body.lines().nth(line - 1).and_then(|l| l.find(start)).expect("call on the line") + 1;
        GuardedWork::of(&block).own_work(Position { line, column }, call, "g")
    }

    /// Each case: a body (its statements, one per line, inside a block), where the call
    /// starts, what the engine calls it, and the own work expected of it.
    fn check(cases: &[(&[&str], &str, &str, Option<OwnWork>)]) {
        for (lines, start, call, expected) in cases {
            let body = format!("{{\n{}\n}}", lines.join("\n"));
            assert_eq!(own(&body, start, call), *expected, "{body}");
        }
    }

    #[test]
    fn persisting_the_whole_value() {
        let write = "std::fs::write";
        check(&[
            (
                &["let g = m.lock();", "serde_json::to_writer(File::create(p)?, &*g)?; // <-"],
                "File::create",
                "File::create",
                Some(OwnWork::Persisted),
            ),
            (
                &["let g = m.lock();", "let f = File::create(p)?; // <-", "serde_json::to_writer(f, &*g)?;"],
                "File::create",
                "File::create",
                Some(OwnWork::Persisted),
            ),
            (
                &["let g = m.lock();", "let text = toml::to_string(&*g)?;", "std::fs::write(p, text)?; // <-"],
                write,
                write,
                Some(OwnWork::Persisted),
            ),
            (
                &["let g = m.lock();", "let text = g.serialize();", "std::fs::write(p, text)?; // <-"],
                write,
                write,
                Some(OwnWork::Persisted),
            ),
            // A part of the value, or a read, is not the value persisted.
            (&["let g = m.lock();", "std::fs::write(p, &g.header)?; // <-"], write, write, None),
            (
                &["let g = m.lock();", "let b = std::fs::read(p)?; // <-", "use_it(&*g, b);"],
                "std::fs::read",
                "std::fs::read",
                None,
            ),
        ]);
    }

    #[test]
    fn filling_once() {
        let (read, output) = ("std::fs::read", "Command::output");
        check(&[
            (
                &[
                    "let mut g = m.lock();",
                    "if g.is_none() {",
                    "let out = Command::new(c).output(); // <-",
                    "*g = Some(out);",
                    "}",
                ],
                "Command::new",
                output,
                Some(OwnWork::FilledOnce),
            ),
            (
                &["let mut g = m.lock();", "g.get_or_insert_with(|| {", "std::fs::read(p).unwrap() // <-", "});"],
                read,
                read,
                Some(OwnWork::FilledOnce),
            ),
            (
                &[
                    "let mut g = m.lock();",
                    "if g.is_some() {",
                    "return;",
                    "}",
                    "let out = Command::new(c).output(); // <-",
                    "g.replace(out);",
                ],
                "Command::new",
                output,
                Some(OwnWork::FilledOnce),
            ),
            (
                &[
                    "let mut g = m.lock();",
                    "if let Some(v) = &*g {",
                    "return v.clone();",
                    "}",
                    "let v = std::fs::read(p)?; // <-",
                    "*g = Some(v.clone());",
                    "v",
                ],
                read,
                read,
                Some(OwnWork::FilledOnce),
            ),
            // Work after the filling, or with no filling at all, is not the filling.
            (
                &[
                    "let mut g = m.lock();",
                    "if g.is_some() {",
                    "return;",
                    "}",
                    "*g = Some(1);",
                    "std::fs::read(p)?; // <-",
                ],
                read,
                read,
                None,
            ),
            (&["let g = m.lock();", "if g.is_some() {", "return;", "}", "std::fs::read(p)?; // <-"], read, read, None),
            // A map filled key by key keeps the readers of other keys waiting.
            (
                &[
                    "let mut g = m.lock();",
                    "if !g.contains_key(k) {",
                    "let v = std::fs::read(k)?; // <-",
                    "g.insert(k, v);",
                    "}",
                ],
                read,
                read,
                None,
            ),
        ]);
    }

    #[test]
    fn changing_disk_and_registry_together() {
        let (remove, write, read) = ("std::fs::remove_file", "std::fs::write", "std::fs::read");
        check(&[
            (
                &["let mut g = m.lock();", "g.remove(&id);", "std::fs::remove_file(path)?; // <-"],
                remove,
                remove,
                Some(OwnWork::RegistryRemoval),
            ),
            (
                &[
                    "let mut g = m.lock();",
                    "let Some(old) = g.evict_lru() else { return };",
                    "std::fs::remove_file(path_of(old))?; // <-",
                ],
                remove,
                remove,
                Some(OwnWork::RegistryRemoval),
            ),
            (
                &["let mut g = m.lock();", "g.insert(k, v.clone());", "std::fs::write(path, v)?; // <-"],
                write,
                write,
                Some(OwnWork::WriteThrough),
            ),
            (
                &["let mut g = m.lock();", "let f = OpenOptions::new().truncate(flag).open(p)?; // <-", "*g = true;"],
                "OpenOptions::new",
                "OpenOptions::open",
                Some(OwnWork::WriteThrough),
            ),
            // Unchanged, the registry orders nothing; a read is never the change itself.
            (
                &["let g = m.lock();", "let p = g.get(&id).cloned();", "std::fs::remove_file(p)?; // <-"],
                remove,
                remove,
                None,
            ),
            (&["let g = m.lock();", "std::fs::write(path, g.len().to_string())?; // <-"], write, write, None),
            (&["let mut g = m.lock();", "g.remove(&id);", "std::fs::read(path)?; // <-"], read, read, None),
        ]);
    }
}
