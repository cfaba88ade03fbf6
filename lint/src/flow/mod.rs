//! Flow inside one function body, as Rust runs it: which values are alive at each point,
//! and when they are dropped.
//!
//! The engine walks a body in evaluation order with a stack of scopes. Values a rule
//! asks to track (a [`Tracker`] says which expressions make one, such as a lock guard)
//! are followed through bindings and shadowing, moves, statement temporaries and the
//! temporaries of `if let` / `match` / `while let` scrutinees (which live through the arm;
//! for `if let` until the end of the `else` before edition 2024), `drop(x)`, branches
//! (a value is alive after a branch if it is on some path), loops, and
//! `return`/`break`/`continue` (nothing after them runs). Closures and async blocks are
//! bodies of their own: an `.await` inside one does not suspend the enclosing function.
//!
//! What it finds is a list of [`Event`]s in evaluation order; rules read them. The
//! engine is tested alone by snapshots of those events (`flow/tests.rs`).

pub mod guards;
#[cfg(test)]
mod tests;

use crate::manifest::Edition;
use crate::source::{Position, Region};
use crate::vocab;
use syn::spanned::Spanned;

/// Index of a tracked value in [`Flow::values`].
pub type ValueId = usize;

/// A value the engine follows.
#[derive(Debug, Clone)]
pub struct Value {
    /// Where it was made (`m.lock()`).
    pub made: Region,
    /// What the tracker said it is (`guard of self.entries`).
    pub what: String,
    /// The names it was bound to, in order.
    pub names: Vec<String>,
}

/// Why a value stopped being alive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropWhy {
    /// The end of the scope that owns it.
    ScopeEnd,
    /// The end of the statement it is a temporary of.
    StatementEnd,
    /// The end of the `if let`/`match`/`while let` whose scrutinee made it.
    ScrutineeEnd,
    /// `drop(x)` or `mem::drop(x)`.
    Dropped,
    /// Moved into a call, a `move` closure, a return value or another binding's place.
    Moved,
    /// Its binding was assigned a new value.
    Overwritten,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind {
    /// A tracked value was made.
    Made(ValueId),
    /// A name now holds it.
    Bound(ValueId, String),
    /// `.await`, with the tracked values alive across it.
    Await(Vec<ValueId>),
    /// A call a tracker asked to watch (`std::fs::read`), with the values alive during it.
    Watched(String, Vec<ValueId>),
    Dropped(ValueId, DropWhy),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub at: Position,
    pub kind: EventKind,
}

/// What a rule asks the engine to follow.
pub trait Tracker {
    /// Does evaluating `expr` make a value to track (a guard from `m.lock()`)? Its
    /// description if so. Called for method calls and calls only.
    fn makes(&self, expr: &syn::Expr) -> Option<String>;
    /// Is `expr` a call whose live values matter (blocking I/O)? Its description if so.
    fn watches(&self, _expr: &syn::Expr) -> Option<String> {
        None
    }
}

/// The result of walking one body.
#[derive(Debug, Default)]
pub struct Flow {
    pub values: Vec<Value>,
    pub events: Vec<Event>,
}

/// Walk a function or closure body. Closures and async blocks inside are walked as
/// bodies of their own; their flows follow this one's in the result.
pub fn analyze(body: &syn::Block, tracker: &dyn Tracker, edition: Edition) -> Vec<Flow> {
    let mut walker = Walker {
        tracker,
        edition,
        flow: Flow::default(),
        state: State::default(),
        nested: Vec::new(),
        storing_into: None,
    };
    walker.block(body, None);
    let mut flows = vec![walker.flow];
    let mut nested = walker.nested;
    // Nested bodies are walked one after another (a work list, never recursion).
    let mut i = 0;
    while i < nested.len() {
        let body = nested[i].clone();
        let mut inner = Walker {
            tracker,
            edition,
            flow: Flow::default(),
            state: State::default(),
            nested: Vec::new(),
            storing_into: None,
        };
        let captured = match &body {
            Nested::Block(_, c) | Nested::Expr(_, c) => c,
        };
        for c in captured {
            let id = inner.flow.values.len();
            inner.flow.values.push(Value { names: vec![c.name.clone()], ..c.value.clone() });
            inner.state.live.push((id, Owner::Scope(0)));
            inner.state.names.push((c.name.clone(), Some(id), 0));
        }
        match &body {
            Nested::Block(b, _) => inner.block(b, None),
            Nested::Expr(e, _) => {
                inner.expr(e);
                inner.drop_temporaries_of_statement(end_of_body(e), None);
            }
        }
        // Captured values drop when the closure or future is done.
        let at = match &body {
            Nested::Block(b, _) => end(b.brace_token.span.close()),
            Nested::Expr(e, _) => end_of_body(e),
        };
        inner.drop_where(at, DropWhy::ScopeEnd, |o| *o == Owner::Scope(0));
        flows.push(inner.flow);
        nested.extend(inner.nested);
        i += 1;
        if i > MAX_NESTED_BODIES {
            break;
        }
    }
    flows
}

/// A walked `if`/`while` condition.
struct Condition<'c> {
    scrutinee: Option<&'c syn::ExprLet>,
    made: Option<ValueId>,
    /// The values alive before it.
    before: Vec<ValueId>,
}

/// Closures and async blocks walked per function, at most.
const MAX_NESTED_BODIES: usize = 256;

#[derive(Clone)]
enum Nested {
    Block(syn::Block, Vec<Captured>),
    Expr(syn::Expr, Vec<Captured>),
}

/// A tracked value a `move` closure or async block took, alive inside it from the start.
#[derive(Clone)]
struct Captured {
    name: String,
    value: Value,
}

/// Who owns a live value.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Owner {
    /// A binding in the scope at this depth.
    Scope(usize),
    /// The statement being evaluated.
    Statement,
    /// The scrutinee of the `if let`/`match`/`while let` at this scope depth.
    Scrutinee(usize),
}

#[derive(Debug, Clone, Default)]
struct State {
    /// Live values and who owns them.
    live: Vec<(ValueId, Owner)>,
    /// Names in scope: (name, value if tracked, scope depth), innermost last.
    names: Vec<(String, Option<ValueId>, usize)>,
    depth: usize,
    /// Nothing after a `return`/`break`/`continue` runs.
    diverged: bool,
    /// Names bound to parts of a tracked value (see [`Walker::derive`]).
    derived: Vec<(String, ValueId)>,
    /// Names bound to what watched calls made, with those calls' events.
    results: Vec<(String, Vec<usize>)>,
}

struct Walker<'t> {
    tracker: &'t dyn Tracker,
    edition: Edition,
    flow: Flow,
    state: State,
    nested: Vec<Nested>,
    /// The guarded value being replaced (`*guard = Some(File::open(p)?)`) while its new
    /// contents are made: making it is what its lock orders, like I/O on it.
    storing_into: Option<ValueId>,
}

fn start(span: proc_macro2::Span) -> Position {
    Region::of(span).start
}

fn end(span: proc_macro2::Span) -> Position {
    Region::of(span).end
}

impl Walker<'_> {
    fn event(&mut self, at: Position, kind: EventKind) {
        if !self.state.diverged {
            self.flow.events.push(Event { at, kind });
        }
    }

    fn live_ids(&self) -> Vec<ValueId> {
        let mut ids: Vec<ValueId> = self.state.live.iter().map(|(id, _)| *id).collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    fn drop_where(&mut self, at: Position, why: DropWhy, which: impl Fn(&Owner) -> bool) {
        let (dropped, kept): (Vec<_>, Vec<_>) = self.state.live.drain(..).partition(|(_, owner)| which(owner));
        self.state.live = kept;
        // Later values drop first, as Rust drops locals in reverse order.
        for (id, _) in dropped.into_iter().rev() {
            self.event(at, EventKind::Dropped(id, why));
        }
    }

    fn drop_value(&mut self, id: ValueId, at: Position, why: DropWhy) {
        let before = self.state.live.len();
        self.state.live.retain(|(v, _)| *v != id);
        if self.state.live.len() != before {
            self.event(at, EventKind::Dropped(id, why));
        }
    }

    fn lookup(&self, name: &str) -> Option<ValueId> {
        self.state.names.iter().rev().find(|(n, _, _)| n == name).and_then(|(_, id, _)| *id)
    }

    fn is_live(&self, id: ValueId) -> bool {
        self.state.live.iter().any(|(v, _)| *v == id)
    }

    /// Make `id` owned by a binding named `name` in the current scope.
    fn bind(&mut self, id: ValueId, name: String, at: Position) {
        let depth = self.state.depth;
        for (v, owner) in &mut self.state.live {
            if *v == id {
                *owner = Owner::Scope(depth);
            }
        }
        self.flow.values[id].names.push(name.clone());
        self.state.names.push((name.clone(), Some(id), depth));
        self.event(at, EventKind::Bound(id, name));
    }

    fn block(&mut self, block: &syn::Block, tail_into: Option<&mut Option<ValueId>>) {
        self.state.depth += 1;
        let depth = self.state.depth;
        let mut tail = None;
        for (i, stmt) in block.stmts.iter().enumerate() {
            let last = i + 1 == block.stmts.len();
            tail = self.stmt(stmt, last, block.brace_token.span.close());
        }
        // The block's value leaves with it; everything else it owns drops at its `}`.
        let at = end(block.brace_token.span.close());
        if let Some(id) = tail {
            for (v, owner) in &mut self.state.live {
                if *v == id {
                    *owner = Owner::Statement;
                }
            }
        }
        self.drop_where(at, DropWhy::ScopeEnd, |o| matches!(o, Owner::Scope(d) | Owner::Scrutinee(d) if *d >= depth));
        self.state.names.retain(|(_, _, d)| *d < depth);
        self.state.depth -= 1;
        if let Some(out) = tail_into {
            *out = tail;
        }
    }

    /// Walk a statement; for the block's last expression without `;`, the value it
    /// yields.
    fn stmt(&mut self, stmt: &syn::Stmt, last: bool, block_end: proc_macro2::Span) -> Option<ValueId> {
        // Where the statement ends, found without walking it (a span of a whole
        // expression costs its size, and statements nest).
        let stmt_end = match stmt {
            syn::Stmt::Local(local) => end(local.semi_token.span),
            syn::Stmt::Expr(_, Some(semi)) => end(semi.span),
            syn::Stmt::Macro(m) => m.semi_token.map_or_else(|| end(m.mac.delimiter.span().close()), |s| end(s.span)),
            _ => end(block_end),
        };
        match stmt {
            syn::Stmt::Local(local) => {
                let before = self.live_ids();
                let first_event = self.flow.events.len();
                let made = local.init.as_ref().and_then(|init| {
                    let made = self.expr(&init.expr);
                    if let Some((_, diverge)) = &init.diverge {
                        self.diverging_branch(diverge);
                    }
                    made
                });
                if let (None, Some(init)) = (made, &local.init) {
                    self.derive(&local.pat, &init.expr, &before);
                }
                // What watched calls made, by the names it is bound to (see `Assign`).
                let watched: Vec<usize> = (first_event..self.flow.events.len())
                    .filter(|&i| matches!(self.flow.events[i].kind, EventKind::Watched(..)))
                    .collect();
                if !watched.is_empty() {
                    let mut names = Vec::new();
                    collect_names(&local.pat, &mut names);
                    self.state.results.extend(names.into_iter().map(|n| (n, watched.clone())));
                }
                self.bind_pattern(&local.pat, made);
                self.drop_temporaries_of_statement(stmt_end, None);
                None
            }
            syn::Stmt::Expr(expr, semi) => {
                let made = self.expr(expr);
                let keep = if semi.is_none() && last { made } else { None };
                self.drop_temporaries_of_statement(stmt_end, keep);
                keep
            }
            syn::Stmt::Macro(m) => {
                self.macro_args(&m.mac);
                self.drop_temporaries_of_statement(stmt_end, None);
                None
            }
            syn::Stmt::Item(_) => None,
        }
    }

    /// The end of a statement (at `at`): its temporaries drop, except the value it
    /// yields as a block's tail.
    fn drop_temporaries_of_statement(&mut self, at: Position, keep: Option<ValueId>) {
        let (dropped, kept): (Vec<_>, Vec<_>) =
            self.state.live.drain(..).partition(|(id, o)| *o == Owner::Statement && Some(*id) != keep);
        self.state.live = kept;
        for (id, _) in dropped.into_iter().rev() {
            self.event(at, EventKind::Dropped(id, DropWhy::StatementEnd));
        }
    }

    fn bind_pattern(&mut self, pat: &syn::Pat, made: Option<ValueId>) {
        let Some(id) = made else {
            // Names bound to untracked values hide outer ones (`let g = &*g;`): the outer
            // value lives on, unnamed, to the end of its scope.
            let mut names = Vec::new();
            collect_names(pat, &mut names);
            let depth = self.state.depth;
            self.state.names.extend(names.into_iter().map(|n| (n, None, depth)));
            return;
        };
        match pat {
            syn::Pat::Ident(p) => self.bind(id, p.ident.to_string(), start(p.ident.span())),
            syn::Pat::Type(t) => self.bind_pattern(&t.pat, made),
            // `let _ = m.lock();` drops at once; `let (g, _) = (m.lock(), 1)` keeps it.
            syn::Pat::Wild(w) => self.drop_value(id, end(w.span()), DropWhy::StatementEnd),
            other => {
                // A tuple or struct pattern that binds names: the value lives with them.
                let mut names = Vec::new();
                collect_names(other, &mut names);
                if let Some(first) = names.first() {
                    self.bind(id, first.clone(), start(other.span()));
                }
            }
        }
    }

    /// An `else` that diverges (`let … else { return }`): walked, then forgotten.
    fn diverging_branch(&mut self, expr: &syn::Expr) {
        let saved = self.state.clone();
        self.expr(expr);
        self.state = saved;
    }

    /// Walk an expression; the tracked value it evaluates to, if any. Values made and
    /// not returned stay alive until the end of the statement.
    fn expr(&mut self, expr: &syn::Expr) -> Option<ValueId> {
        match expr {
            syn::Expr::MethodCall(m) => {
                let receiver = self.expr(&m.receiver);
                // Work on the guarded value itself (`rx.lock().recv()`, a field of it, a
                // handle taken out of it) is what its lock is for: that guard is not
                // counted as alive during it.
                let own = receiver.or_else(|| self.chain_root(&m.receiver));
                for arg in &m.args {
                    self.argument(arg);
                }
                self.watch_except(expr, own);
                if let Some(what) = self.tracker.makes(expr) {
                    return Some(self.make(expr, what));
                }
                // `m.lock().unwrap()`: the same value, still owned; `guard.get(k)` borrows.
                receiver.filter(|_| vocab::hands_on_ownership(&m.method.to_string()))
            }
            syn::Expr::Call(call) => {
                let drop_call = matches!(&*call.func, syn::Expr::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "drop"));
                if drop_call {
                    if let Some(syn::Expr::Path(p)) = call.args.first() {
                        if let Some(id) = p.path.get_ident().and_then(|i| self.lookup(&i.to_string())) {
                            self.drop_value(id, leftmost(&call.func), DropWhy::Dropped);
                            return None;
                        }
                    }
                }
                self.expr(&call.func);
                let mut moved_in = None;
                for arg in &call.args {
                    if let Some(id) = self.argument(arg) {
                        moved_in.get_or_insert(id);
                    }
                }
                self.watch(expr);
                if let Some(what) = self.tracker.makes(expr) {
                    return Some(self.make(expr, what));
                }
                // `Some(guard)`, `Wrapper::new(guard)`: the value lives on in the result.
                moved_in
            }
            syn::Expr::Await(a) => {
                self.expr(&a.base);
                let live = self.live_ids();
                self.event(start(a.await_token.span), EventKind::Await(live));
                None
            }
            syn::Expr::Try(t) => self.expr(&t.expr),
            syn::Expr::Paren(p) => self.expr(&p.expr),
            syn::Expr::Group(g) => self.expr(&g.expr),
            syn::Expr::Reference(r) => {
                self.expr(&r.expr);
                None
            }
            syn::Expr::Unary(u) => {
                self.expr(&u.expr);
                None
            }
            syn::Expr::Field(f) => {
                self.expr(&f.base);
                None
            }
            syn::Expr::Index(i) => {
                self.expr(&i.expr);
                self.expr(&i.index);
                None
            }
            syn::Expr::Binary(b) => {
                self.expr(&b.left);
                self.expr(&b.right);
                None
            }
            syn::Expr::Cast(c) => {
                self.expr(&c.expr);
                None
            }
            syn::Expr::Path(p) => {
                p.path.get_ident().and_then(|i| self.lookup(&i.to_string())).filter(|&id| self.is_live(id))
            }
            syn::Expr::Tuple(t) => self.contains(t.elems.iter()),
            syn::Expr::Array(a) => self.contains(a.elems.iter()),
            syn::Expr::Struct(s) => self.contains(s.fields.iter().map(|f| &f.expr)),
            syn::Expr::Assign(a) => {
                // `*cache = Some(File::open(p)?)`: making the guarded value anew.
                let into = self.chain_root(&a.left).or(self.storing_into);
                let storing = std::mem::replace(&mut self.storing_into, into);
                let made = self.expr(&a.right);
                self.storing_into = storing;
                if let Some(guard) = self.chain_root(&a.left) {
                    self.made_for(guard, &a.right);
                }
                if let syn::Expr::Path(p) = &*a.left {
                    if let Some(name) = p.path.get_ident().map(ToString::to_string) {
                        if let Some(old) = self.lookup(&name) {
                            self.drop_value(old, start(a.eq_token.span), DropWhy::Overwritten);
                        }
                        if let Some(id) = made {
                            self.bind(id, name, start(a.left.span()));
                        }
                    }
                } else {
                    self.expr(&a.left);
                }
                None
            }
            syn::Expr::Block(b) => {
                let mut tail = None;
                self.block(&b.block, Some(&mut tail));
                tail
            }
            syn::Expr::Unsafe(u) => {
                let mut tail = None;
                self.block(&u.block, Some(&mut tail));
                tail
            }
            syn::Expr::If(i) => self.if_expr(i),
            syn::Expr::Match(m) => self.match_expr(m),
            syn::Expr::While(w) => {
                let depth = self.state.depth + 1;
                self.state.depth += 1;
                let cond = self.condition(&w.cond, depth, start(w.body.brace_token.span.open()));
                self.bind_condition(&cond);
                let saved = self.state.diverged;
                self.block(&w.body, None);
                self.state.diverged = saved;
                self.drop_where(
                    end(w.body.brace_token.span.close()),
                    DropWhy::ScrutineeEnd,
                    |o| matches!(o, Owner::Scrutinee(d) | Owner::Scope(d) if *d >= depth),
                );
                self.state.names.retain(|(_, _, d)| *d < depth);
                self.state.depth -= 1;
                None
            }
            syn::Expr::ForLoop(f) => {
                self.expr(&f.expr);
                let saved = self.state.diverged;
                self.block(&f.body, None);
                self.state.diverged = saved;
                None
            }
            syn::Expr::Loop(l) => {
                self.block(&l.body, None);
                // A `loop` ends only by `break`: what follows runs if one breaks out.
                self.state.diverged = false;
                None
            }
            syn::Expr::Return(r) => {
                if let Some(e) = &r.expr {
                    if let Some(id) = self.expr(e) {
                        self.drop_value(id, start(r.return_token.span), DropWhy::Moved);
                    }
                }
                self.state.diverged = true;
                None
            }
            syn::Expr::Break(b) => {
                if let Some(e) = &b.expr {
                    self.expr(e);
                }
                self.state.diverged = true;
                None
            }
            syn::Expr::Continue(_) => {
                self.state.diverged = true;
                None
            }
            syn::Expr::Closure(c) => {
                let tokens = quote::ToTokens::to_token_stream(&c.body).to_string();
                let captured = self.captures(&tokens, c.capture.is_some(), start(c.or1_token.span));
                self.nested.push(Nested::Expr((*c.body).clone(), captured));
                None
            }
            syn::Expr::Async(a) => {
                let tokens = quote::ToTokens::to_token_stream(&a.block).to_string();
                let captured = self.captures(&tokens, a.capture.is_some(), start(a.async_token.span));
                self.nested.push(Nested::Block(a.block.clone(), captured));
                None
            }
            syn::Expr::Macro(m) => {
                self.macro_args(&m.mac);
                None
            }
            syn::Expr::Let(l) => self.expr(&l.expr),
            syn::Expr::Range(r) => {
                for e in [&r.start, &r.end].into_iter().flatten() {
                    self.expr(e);
                }
                None
            }
            _ => None,
        }
    }

    /// `let file = File::open(p)?; … *guard = Some(file);`: the watched work made the
    /// guarded value's new contents, which its lock orders; that guard did not wait on it.
    fn made_for(&mut self, guard: ValueId, stored: &syn::Expr) {
        let mut idents = Vec::new();
        collect_paths(&quote::ToTokens::to_token_stream(stored).to_string(), &mut idents);
        let events: Vec<usize> = self
            .state
            .results
            .iter()
            .filter(|(name, _)| idents.contains(name))
            .flat_map(|(_, events)| events.iter().copied())
            .collect();
        for i in events {
            if let Some(Event { kind: EventKind::Watched(_, live), .. }) = self.flow.events.get_mut(i) {
                live.retain(|&id| id != guard);
            }
        }
    }

    /// Names a pattern binds to parts of a guarded value (`Some(h)` of
    /// `guard.take()`): work on them is work on the guarded value.
    fn derive(&mut self, pat: &syn::Pat, from: &syn::Expr, before: &[ValueId]) {
        // Through a name (`guard.take()`), or a guard the expression itself made
        // (`m.lock().unwrap().take()`).
        let made_here = || self.state.live.iter().rev().map(|(id, _)| *id).find(|id| !before.contains(id));
        if let Some(root) = self.chain_root(from).or_else(made_here) {
            let mut names = Vec::new();
            collect_names(pat, &mut names);
            self.state.derived.extend(names.into_iter().map(|n| (n, root)));
        }
    }

    /// The live tracked value at the root of a place expression (`guard` in
    /// `guard.items[0].rx`, `*guard`, `guard.take().unwrap()`).
    fn chain_root(&self, expr: &syn::Expr) -> Option<ValueId> {
        match expr {
            syn::Expr::Path(p) => {
                let name = p.path.get_ident()?.to_string();
                let derived = || self.state.derived.iter().rev().find(|(n, _)| *n == name).map(|(_, id)| *id);
                self.lookup(&name).or_else(derived).filter(|&id| self.is_live(id))
            }
            syn::Expr::Field(f) => self.chain_root(&f.base),
            syn::Expr::Index(i) => self.chain_root(&i.expr),
            syn::Expr::MethodCall(m) => self.chain_root(&m.receiver),
            syn::Expr::Unary(u) => self.chain_root(&u.expr),
            syn::Expr::Reference(r) => self.chain_root(&r.expr),
            syn::Expr::Paren(p) => self.chain_root(&p.expr),
            syn::Expr::Try(t) => self.chain_root(&t.expr),
            _ => None,
        }
    }

    /// A value passed as an argument: moved into the call when passed by value.
    fn argument(&mut self, arg: &syn::Expr) -> Option<ValueId> {
        let made = self.expr(arg);
        if let (Some(id), syn::Expr::Path(_)) = (made, arg) {
            // A binding passed by value leaves this function's hands.
            self.drop_value(id, leftmost(arg), DropWhy::Moved);
            return None;
        }
        made
    }

    /// A tuple, array or struct literal holding a tracked value holds it alive.
    fn contains<'e>(&mut self, elems: impl Iterator<Item = &'e syn::Expr>) -> Option<ValueId> {
        let mut held = None;
        for e in elems {
            let made = self.expr(e);
            if let Some(id) = made {
                held.get_or_insert(id);
            }
        }
        held
    }

    fn make(&mut self, expr: &syn::Expr, what: String) -> ValueId {
        let id = self.flow.values.len();
        // A guard is made by a short call (`m.lock()`); its span is cheap.
        let made = Region::of(expr.span());
        self.flow.values.push(Value { made, what, names: Vec::new() });
        self.state.live.push((id, Owner::Statement));
        self.event(made.start, EventKind::Made(id));
        id
    }

    fn watch(&mut self, expr: &syn::Expr) {
        self.watch_except(expr, None);
    }

    fn watch_except(&mut self, expr: &syn::Expr, except: Option<ValueId>) {
        if let Some(what) = self.tracker.watches(expr) {
            let mut live = self.live_ids();
            live.retain(|id| Some(*id) != except && Some(*id) != self.storing_into);
            self.event(leftmost(expr), EventKind::Watched(what, live));
        }
    }

    /// Give the statement's live temporaries to `owner` (a scrutinee's temporaries live
    /// through its arms).
    fn own_statement_values_by(&mut self, owner: Owner) {
        for (_, o) in &mut self.state.live {
            if *o == Owner::Statement {
                *o = owner.clone();
            }
        }
    }

    fn if_expr(&mut self, i: &syn::ExprIf) -> Option<ValueId> {
        let depth = self.state.depth + 1;
        self.state.depth += 1;
        // `if let` keeps its scrutinee's temporaries through the branches (until the end
        // of the `else` before 2024).
        let cond = self.condition(&i.cond, depth, start(i.then_branch.brace_token.span.open()));
        let scrutinee = cond.scrutinee;
        let before = self.state.clone();
        self.bind_condition(&cond);
        let mut then_tail = None;
        self.block(&i.then_branch, Some(&mut then_tail));
        let mut before = before;
        if scrutinee.is_some() && self.edition >= Edition::E2024 {
            // 2024: the scrutinee's temporaries drop before the `else` runs.
            let scrutinee_owned = |o: &Owner| matches!(o, Owner::Scrutinee(d) if *d >= depth);
            self.drop_where(end(i.then_branch.brace_token.span.close()), DropWhy::ScrutineeEnd, scrutinee_owned);
            before.live.retain(|(_, o)| !scrutinee_owned(o));
        }
        let after_then = std::mem::replace(&mut self.state, before);
        let else_tail = i.else_branch.as_ref().and_then(|(_, e)| self.expr(e));
        self.merge(after_then);
        let at = end_of_if(i);
        self.drop_where(at, DropWhy::ScrutineeEnd, |o| matches!(o, Owner::Scrutinee(d) if *d >= depth));
        self.state.names.retain(|(_, _, d)| *d < depth);
        self.state.depth -= 1;
        then_tail.or(else_tail)
    }

    /// Evaluate the condition of an `if`/`while` whose scope is at `depth`: an `if let`/
    /// `while let` scrutinee's temporaries live through the body; a plain condition's
    /// drop before it (at `body`).
    fn condition<'c>(&mut self, cond: &'c syn::Expr, depth: usize, body: Position) -> Condition<'c> {
        let scrutinee = match cond {
            syn::Expr::Let(l) => Some(l),
            _ => None,
        };
        let before = self.live_ids();
        let made = self.expr(scrutinee.map_or(cond, |l| &*l.expr));
        match scrutinee {
            Some(_) => self.own_statement_values_by(Owner::Scrutinee(depth)),
            None => self.drop_made_since(&before, body),
        }
        Condition { scrutinee, made, before }
    }

    /// Bind an `if let`/`while let` pattern to what its scrutinee made.
    fn bind_condition(&mut self, cond: &Condition<'_>) {
        if let Some(l) = cond.scrutinee {
            if cond.made.is_none() {
                self.derive(&l.pat, &l.expr, &cond.before);
            }
            self.bind_pattern(&l.pat, cond.made);
        }
    }

    /// Drop the statement temporaries made since `before` (a condition's).
    fn drop_made_since(&mut self, before: &[ValueId], at: Position) {
        let made: Vec<ValueId> = self
            .state
            .live
            .iter()
            .filter(|(id, o)| *o == Owner::Statement && !before.contains(id))
            .map(|(id, _)| *id)
            .collect();
        for id in made.into_iter().rev() {
            self.drop_value(id, at, DropWhy::StatementEnd);
        }
    }

    fn match_expr(&mut self, m: &syn::ExprMatch) -> Option<ValueId> {
        let depth = self.state.depth + 1;
        self.state.depth += 1;
        let before_scrutinee = self.live_ids();
        let made = self.expr(&m.expr);
        self.own_statement_values_by(Owner::Scrutinee(depth));
        let before = self.state.clone();
        let mut merged: Option<State> = None;
        let mut tail = None;
        for arm in &m.arms {
            self.state = before.clone();
            if made.is_none() {
                self.derive(&arm.pat, &m.expr, &before_scrutinee);
            }
            self.bind_pattern(&arm.pat, made);
            if let Some((_, guard)) = &arm.guard {
                self.expr(guard);
            }
            let value = self.expr(&arm.body);
            tail = tail.or(value);
            let arm_state = std::mem::take(&mut self.state);
            merged = Some(match merged {
                None => arm_state,
                Some(so_far) => {
                    self.state = so_far;
                    self.merge(arm_state);
                    std::mem::take(&mut self.state)
                }
            });
        }
        self.state = merged.unwrap_or(before);
        self.drop_where(
            end(m.brace_token.span.close()),
            DropWhy::ScrutineeEnd,
            |o| matches!(o, Owner::Scrutinee(d) if *d >= depth),
        );
        self.state.names.retain(|(_, _, d)| *d < depth);
        self.state.depth -= 1;
        tail
    }

    /// Join the state after another branch into this one: alive on some path is alive.
    fn merge(&mut self, other: State) {
        match (self.state.diverged, other.diverged) {
            (true, false) => self.state = other,
            (false, false) => {
                for entry in other.live {
                    if !self.state.live.iter().any(|(id, _)| *id == entry.0) {
                        self.state.live.push(entry);
                    }
                }
            }
            _ => {}
        }
    }

    /// A `move` closure or async block takes the live values it names.
    fn captures(&mut self, tokens: &str, moves: bool, at: Position) -> Vec<Captured> {
        if !moves {
            return Vec::new();
        }
        let mut names = Vec::new();
        collect_paths(tokens, &mut names);
        let mut captured = Vec::new();
        for name in names {
            if let Some(id) = self.lookup(&name).filter(|&id| self.is_live(id)) {
                captured.push(Captured { name, value: self.flow.values[id].clone() });
                self.drop_value(id, at, DropWhy::Moved);
            }
        }
        captured
    }

    /// The arguments of a macro call that parse as expressions (`println!("{}", g.len())`).
    fn macro_args(&mut self, mac: &syn::Macro) {
        let args = crate::parse::macro_args(mac);
        {
            // `format!`, `println!` and friends expand to a block: the temporaries of
            // their arguments drop when it ends.
            let before = self.live_ids();
            for arg in &args {
                self.expr(arg);
            }
            self.drop_made_since(&before, end(mac.delimiter.span().close()));
        }
    }
}

/// Where a closure body ends: its block's `}`, or (a short expression) its span.
fn end_of_body(body: &syn::Expr) -> Position {
    match body {
        syn::Expr::Block(b) => end(b.block.brace_token.span.close()),
        other => end(other.span()),
    }
}

/// Where an `if … else if … else` ends, following its `else` chain without recursion.
fn end_of_if(first: &syn::ExprIf) -> Position {
    let mut current = first;
    loop {
        match current.else_branch.as_ref().map(|(_, e)| &**e) {
            Some(syn::Expr::If(next)) => current = next,
            Some(syn::Expr::Block(b)) => return end(b.block.brace_token.span.close()),
            _ => return end(current.then_branch.brace_token.span.close()),
        }
    }
}

/// Where an expression starts, found by walking down its leftmost operands (a span of a
/// whole expression costs its size).
pub fn leftmost(expr: &syn::Expr) -> Position {
    let mut current = expr;
    loop {
        current = match current {
            syn::Expr::MethodCall(m) => &m.receiver,
            syn::Expr::Field(f) => &f.base,
            syn::Expr::Index(i) => &i.expr,
            syn::Expr::Call(c) => &c.func,
            syn::Expr::Binary(b) => &b.left,
            syn::Expr::Cast(c) => &c.expr,
            syn::Expr::Try(t) => &t.expr,
            syn::Expr::Await(a) => &a.base,
            syn::Expr::Path(p) => {
                return p.path.segments.first().map_or_else(|| start(p.span()), |s| start(s.ident.span()))
            }
            syn::Expr::Paren(p) => return start(p.paren_token.span.open()),
            syn::Expr::Reference(r) => return start(r.and_token.span),
            syn::Expr::Block(b) => return start(b.block.brace_token.span.open()),
            other => return start(other.span()),
        };
    }
}

/// Identifiers in a token string (what a `move` closure may capture).
fn collect_paths(tokens: &str, out: &mut Vec<String>) {
    for word in tokens.split(|c: char| !(c.is_alphanumeric() || c == '_')) {
        if word.starts_with(|c: char| c.is_alphabetic() || c == '_') && !out.iter().any(|w| w == word) {
            out.push(word.to_string());
        }
    }
}

fn collect_names(pat: &syn::Pat, out: &mut Vec<String>) {
    use syn::visit::Visit;
    struct Names<'o>(&'o mut Vec<String>);
    impl Visit<'_> for Names<'_> {
        fn visit_pat_ident(&mut self, p: &syn::PatIdent) {
            self.0.push(p.ident.to_string());
        }
    }
    Names(out).visit_pat(pat);
}
