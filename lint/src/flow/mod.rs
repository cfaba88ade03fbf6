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

pub mod guarded_work;
pub mod guards;
pub mod joined;
pub mod one_thread;
pub mod phases;
pub mod sharing;
#[cfg(test)]
mod tests;

use crate::manifest::Edition;
use crate::source::{Position, Region};
use crate::vocab;
pub use sharing::{Context, Origin, Root, RootId, RootKind, Sharer, SpawnSummaries, Use, Via, Work, WorkKind};
use std::collections::{HashMap, HashSet};
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
    /// Work sharing places with other threads (see [`sharing`]), which Rust's drop
    /// rules do not end: only a join does.
    pub work: Option<Work>,
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
    /// Spawned work was joined (`join()`, `.await`, a receive on its channel).
    Joined,
    /// The call that took it for its closure returned.
    CallEnd,
    /// A branch shows the work did not share anything (`Err` of a spawn).
    Refuted,
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
    Watched(Box<Watch>),
    Dropped(ValueId, DropWhy),
    /// Work shared places with other threads (see [`sharing`]).
    Shared(ValueId),
    /// A followed place was used.
    Used(Box<Use>),
}

/// A watched call and the values alive during it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watch {
    /// What the tracker called it (`std::fs::read`).
    pub call: String,
    /// Values alive during the call that it does not work on.
    pub live: Vec<ValueId>,
    /// Values alive during the call that it works on: a handle joined after being taken
    /// out of a guard (`g.handle.take().map(JoinHandle::join)`), a guarded channel's
    /// `recv()`. Their locks exist to order that work, unless the work waits for them.
    pub worked_on: Vec<ValueId>,
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
    /// Does the call `expr` run its closure arguments under a guard it takes itself (a
    /// package function `with_peers(|p| ..)` that locks and calls the closure)? That
    /// guard's description if so: it is alive while the call runs.
    fn guards_closures(&self, _expr: &syn::Expr) -> Option<String> {
        None
    }
}

/// The result of walking one body.
#[derive(Debug, Default)]
pub struct Flow {
    pub values: Vec<Value>,
    pub events: Vec<Event>,
    /// A closure or async block handed to a spawn: `Some(true)` when spawned over and
    /// over (in a loop, or from a closure), so siblings run it at once.
    pub spawned: Option<bool>,
}

/// Walk a function or closure body. Closures and async blocks inside are walked as
/// bodies of their own; their flows follow this one's in the result.
pub fn analyze(body: &syn::Block, tracker: &dyn Tracker, edition: Edition) -> Vec<Flow> {
    walk(body, tracker, None, edition, Vec::new()).0
}

/// Walk a body following places too (see [`sharing`]): `roots` are the places a body
/// starts with (its parameters, `self` and its fields), bound to their names. Returns
/// the flows and every root, those found on the way included.
pub fn analyze_sharing(
    body: &syn::Block,
    tracker: &dyn Tracker,
    sharer: &dyn Sharer,
    edition: Edition,
    roots: Vec<Root>,
) -> (Vec<Flow>, Vec<Root>) {
    walk(body, tracker, Some(sharer), edition, roots)
}

fn walk<'t>(
    body: &syn::Block,
    tracker: &'t dyn Tracker,
    sharer: Option<&'t dyn Sharer>,
    edition: Edition,
    roots: Vec<Root>,
) -> (Vec<Flow>, Vec<Root>) {
    let mut walker = Walker::new(tracker, sharer, edition, roots);
    // Fields are named through `self`; the rest by their names.
    let entry: sharing::PlaceNames = walker
        .roots
        .iter()
        .enumerate()
        .filter(|(_, r)| r.parent.is_none())
        .map(|(i, r)| (r.name.clone(), vec![(i, Via::Name)]))
        .collect();
    walker.state.places = entry.into_iter().map(|(n, p)| (n, p, 0)).collect();
    walker.block(body, None);
    offset_bodies(&mut walker.flow, 1);
    let mut flows = vec![walker.flow];
    let mut nested = walker.nested;
    let mut roots = walker.roots;
    // Nested bodies are walked one after another (a work list, never recursion).
    let mut i = 0;
    while i < nested.len() {
        let Some(code) = nested[i].code.take() else { break };
        let body = &nested[i];
        let mut inner = Walker::new(tracker, sharer, edition, std::mem::take(&mut roots));
        inner.repeats = body.repeats;
        inner.flow.spawned = body.spawned;
        for c in &body.captured {
            let id = inner.flow.values.len();
            inner.flow.values.push(Value { names: vec![c.name.clone()], ..c.value.clone() });
            inner.state.live.push((id, Owner::Scope(0)));
            inner.state.names.push((c.name.clone(), Some(id), 0));
        }
        inner.state.places = body.places.iter().map(|(n, p)| (n.clone(), p.clone(), 0)).collect();
        inner.state.places.extend(body.params.iter().map(|n| (n.clone(), Vec::new(), 0)));
        match &code {
            NestedCode::Block(b) => inner.block(b, None),
            NestedCode::Expr(e) => {
                inner.context = Context::Returned;
                inner.expr(e);
                inner.drop_temporaries_of_statement(end_of_body(e), None);
            }
        }
        // Captured values drop when the closure or future is done.
        let at = match &code {
            NestedCode::Block(b) => end(b.brace_token.span.close()),
            NestedCode::Expr(e) => end_of_body(e),
        };
        inner.drop_where(at, DropWhy::ScopeEnd, |o| *o == Owner::Scope(0));
        offset_bodies(&mut inner.flow, nested.len() + 1);
        roots = std::mem::take(&mut inner.roots);
        flows.push(inner.flow);
        nested.extend(inner.nested);
        i += 1;
        if i > MAX_NESTED_BODIES {
            break;
        }
    }
    (flows, roots)
}

/// Work values name their bodies by index in their walker's list of nested bodies; in
/// the result those come after `offset` flows.
fn offset_bodies(flow: &mut Flow, offset: usize) {
    for v in &mut flow.values {
        if let Some(b) = v.work.as_mut().and_then(|w| w.body.as_mut()) {
            *b += offset;
        }
    }
}

/// A walked `if`/`while` condition.
struct Condition<'c> {
    scrutinee: Option<&'c syn::ExprLet>,
    /// A let chain (`if let Some(x) = a && b`), walked and bound by [`Walker::condition`].
    chained: bool,
    made: Option<ValueId>,
    /// The values alive before it.
    before: Vec<ValueId>,
}

/// Loops nested deeper than this are walked once: what an iteration shares with the next
/// is followed in the outer loops only.
const MAX_REWALKED_LOOP_DEPTH: usize = 4;

/// Closures and async blocks walked per function, at most.
const MAX_NESTED_BODIES: usize = 256;

#[derive(Clone)]
struct Nested {
    /// Taken out when walked: a body holds clones of the bodies nested in it, so keeping
    /// each after its walk would hold every depth's clone at once (quadratic in nesting).
    code: Option<NestedCode>,
    captured: Vec<Captured>,
    /// The places its parent could name, and its own parameters (which hide them).
    places: sharing::PlaceNames,
    params: Vec<String>,
    spawned: Option<bool>,
    /// Given to an iterator's `map`, `for_each`, …: runs once per item.
    repeats: bool,
}

#[derive(Clone)]
enum NestedCode {
    Block(syn::Block),
    Expr(syn::Expr),
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
    /// Work sharing places: only a join ends it.
    Work,
}

/// A name bound to a part of a tracked value.
#[derive(Debug, Clone)]
struct Derived {
    name: String,
    value: ValueId,
    /// Taken out of the guarded value (moved, not borrowed or copied): see [`Walker::derive`].
    taken: bool,
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
    derived: Vec<Derived>,
    /// Names bound to what watched calls made, with those calls' events.
    results: Vec<(String, Vec<usize>)>,
    /// Names and the places they reach (empty: hides an outer name), with scope depth.
    places: Vec<(String, sharing::Places, usize)>,
    /// Collections holding spawned work (`handles.push(spawn(..))`).
    holders: Vec<(String, ValueId)>,
    /// Channels by `(receiver, sender)` name.
    channels: Vec<(String, String)>,
    /// Names bound to a copy of another name, as `(of, copy)` (`let tx2 = tx.clone()`).
    copies: Vec<(String, String)>,
    /// Loops around this point.
    loop_depth: usize,
    /// Where each enclosing loop starts, innermost last.
    loop_starts: Vec<Position>,
    /// Work that runs only when this task yields (spawned on a current-thread runtime)
    /// and has had an `.await` to run in since.
    resumed: Vec<ValueId>,
    /// Names of current-thread runtimes this body drives.
    runtimes: Vec<String>,
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
    /// Set when places are followed.
    sharer: Option<&'t dyn Sharer>,
    roots: Vec<Root>,
    /// Methods called on the place being walked to, outermost first.
    chain: Vec<String>,
    /// What the value being walked goes into.
    context: Context,
    /// While a spawn's arguments are walked: the first closure or async block they hold.
    spawning: Option<Option<usize>>,
    /// While the arguments of an iterator's `map`, `for_each`, … are walked.
    iterating: bool,
    /// While a loop's body is walked again for what the previous iteration shared.
    next_iteration: bool,
    /// Walking a `while` loop's condition, which runs on every iteration.
    loop_condition: bool,
    /// While the arguments of a call that runs its closures before returning are walked
    /// (places followed only).
    inline_closures: bool,
    /// This body runs once per item of an iterator.
    repeats: bool,
    /// While a combinator's closure is walked: the tracked value its parameter receives,
    /// moved in (`m.lock().map(|g| ..)`: the guard drops when the closure returns) or a
    /// part of it (`g.drain(..).for_each(|h| h.join())`: work on the guarded value).
    closure_input: Option<(ValueId, ClosureInput)>,
    /// Guards taken through another tracked value, with the values they were reached
    /// through (`vmm.vm.vcpus_handles()` under `vmm`'s guard): work on the inner guarded
    /// value is work on the outer one too.
    within: HashMap<ValueId, Vec<ValueId>>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ClosureInput {
    Moved,
    Part,
}

fn start(span: proc_macro2::Span) -> Position {
    Region::of(span).start
}

fn end(span: proc_macro2::Span) -> Position {
    Region::of(span).end
}

impl<'t> Walker<'t> {
    fn new(tracker: &'t dyn Tracker, sharer: Option<&'t dyn Sharer>, edition: Edition, roots: Vec<Root>) -> Self {
        Walker {
            tracker,
            edition,
            flow: Flow::default(),
            state: State::default(),
            nested: Vec::new(),
            storing_into: None,
            sharer,
            roots,
            chain: Vec::new(),
            context: Context::Discarded,
            spawning: None,
            iterating: false,
            next_iteration: false,
            loop_condition: false,
            repeats: false,
            inline_closures: false,
            closure_input: None,
            within: HashMap::new(),
        }
    }

    /// Walk `expr` as a value going into `context`, not as part of an enclosing chain.
    fn expr_in(&mut self, expr: &syn::Expr, context: Context) -> Option<ValueId> {
        let chain = std::mem::take(&mut self.chain);
        let outer = std::mem::replace(&mut self.context, context);
        let made = self.expr(expr);
        self.chain = chain;
        self.context = outer;
        made
    }

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
        // Moving or dropping a handle does not stop the work it runs.
        if self.is_work(id) && !matches!(why, DropWhy::Joined | DropWhy::Refuted) {
            return;
        }
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
            if *v == id && *owner != Owner::Work {
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
        self.forget_names_from(depth);
        self.state.depth -= 1;
        if let Some(out) = tail_into {
            *out = tail;
        }
    }

    /// Names bound in scopes at `depth` and deeper go out of scope.
    fn forget_names_from(&mut self, depth: usize) {
        self.state.names.retain(|(_, _, d)| *d < depth);
        self.state.places.retain(|(_, _, d)| *d < depth);
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
                    let made = self.expr_in(&init.expr, Context::Bound);
                    if let Some((_, diverge)) = &init.diverge {
                        // On a mismatch the initializer's value and temporaries drop
                        // before the `else` runs (rustc's let-else drop order).
                        let matched = self.state.clone();
                        self.state.live.retain(|(id, o)| *o != Owner::Statement || before.binary_search(id).is_ok());
                        self.diverging_branch(diverge);
                        self.state = matched;
                    }
                    made
                });
                if let (None, Some(init)) = (made, &local.init) {
                    self.derive(&local.pat, &init.expr, &before);
                }
                // What watched calls made, by the names it is bound to (see `Assign`).
                let watched: Vec<usize> = (first_event..self.flow.events.len())
                    .filter(|&i| matches!(self.flow.events[i].kind, EventKind::Watched(_)))
                    .collect();
                if !watched.is_empty() {
                    let mut names = Vec::new();
                    collect_names(&local.pat, &mut names);
                    self.state.results.extend(names.into_iter().map(|n| (n, watched.clone())));
                }
                // The places first: the initializer reads the names the pattern is about to
                // hide (`let seen = seen.clone();` is a copy of the outer `seen`).
                if self.sharing() {
                    let ty = match &local.pat {
                        syn::Pat::Type(t) => Some(&*t.ty),
                        _ => None,
                    };
                    self.bind_local_places(&local.pat, local.init.as_ref().map(|i| &*i.expr), ty);
                }
                self.bind_names(&local.pat, made);
                self.drop_temporaries_of_statement(stmt_end, None);
                None
            }
            syn::Stmt::Expr(expr, semi) => {
                // A body's last expression is its value; an inner block's goes where the
                // block's goes.
                let context = match (semi, last) {
                    (None, true) if self.state.depth == 1 => Context::Returned,
                    (None, true) => self.context.clone(),
                    _ => Context::Discarded,
                };
                let made = self.expr_in(expr, context);
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

    /// An operand of `&&`/`||`, a temporary scope of its own: the temporaries it makes
    /// (`!m.lock().unwrap().is_empty() || ..`) drop at its end, before the other operand
    /// runs.
    fn lazy_operand(&mut self, operand: &syn::Expr) {
        let before: HashSet<ValueId> = self.state.live.iter().map(|(id, _)| *id).collect();
        self.expr(operand);
        let at = rightmost(operand);
        let made: Vec<ValueId> = (self.state.live.iter())
            .filter(|(id, o)| matches!(o, Owner::Statement | Owner::Scrutinee(_)) && !before.contains(id))
            .map(|(id, _)| *id)
            .collect();
        for id in made.into_iter().rev() {
            self.drop_value(id, at, DropWhy::StatementEnd);
        }
    }

    fn bind_pattern(&mut self, pat: &syn::Pat, made: Option<ValueId>) {
        if self.sharing() {
            // A pattern's names hide outer places of the same names.
            let mut names = Vec::new();
            collect_names(pat, &mut names);
            for n in names {
                self.bind_places(n, Vec::new());
            }
        }
        self.bind_names(pat, made);
    }

    /// Bind a pattern's names to `made` (or to nothing tracked), hiding outer names.
    fn bind_names(&mut self, pat: &syn::Pat, made: Option<ValueId>) {
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
                let method = m.method.to_string();
                let sharing = self.sharing();
                let first_event = self.flow.events.len();
                if sharing {
                    self.chain.push(method.clone());
                }
                let receiver = self.expr(&m.receiver);
                if sharing {
                    self.chain.pop();
                    if self.chain.is_empty() {
                        self.give_chain_args(first_event, &method, &m.args, end(m.paren_token.span.close()));
                    }
                }
                // Work on the guarded value itself (`rx.lock().recv()`, a field of it, a
                // handle taken out of it) is what its lock is for: that guard is not
                // counted as alive during it. So is every guard taken along the receiver's
                // chain (`key.options().read().write().open(p)`, a builder's flags if
                // anything), though not one taken in an argument of it.
                let spine = leftmost(&m.receiver);
                let mut own: Vec<ValueId> = (self.flow.events.get(first_event..).unwrap_or_default())
                    .iter()
                    .filter_map(|e| match e.kind {
                        EventKind::Made(id) if self.flow.values[id].made.start == spine => Some(id),
                        _ => None,
                    })
                    .collect();
                own.extend(receiver.or_else(|| self.chain_root(&m.receiver)));
                let spawns = self.sharing() && vocab::SPAWNS.contains(&method.as_str());
                let saved = self.spawning.take();
                if spawns {
                    self.spawning = Some(None);
                }
                // Closures given to `map`, `for_each`, … run once per item.
                let iterating = std::mem::replace(&mut self.iterating, vocab::iterates(&method));
                // `self.with_peers(|p| ..)`: the closure runs under the guard the call takes.
                let scoped = self.tracker.guards_closures(expr).map(|what| self.make_for_closures(expr, what));
                let runs_now = scoped.is_some() || self.runs_closures_now(&method);
                let inline = std::mem::replace(&mut self.inline_closures, runs_now);
                let input = if runs_now && !sharing {
                    match (scoped, receiver) {
                        // The closure is handed the guarded value itself, as `map` on a guard is.
                        (Some(id), _) => Some((id, ClosureInput::Moved)),
                        (None, Some(id)) if vocab::moves_into_closure(&method) => Some((id, ClosureInput::Moved)),
                        _ => own.first().map(|&id| (id, ClosureInput::Part)),
                    }
                } else {
                    None
                };
                let outer_input = std::mem::replace(&mut self.closure_input, input);
                let args_start = self.flow.events.len();
                let mut work_args = Vec::new();
                let mut from_closure = None;
                let context = sharing.then(|| Context::Argument(method.as_str().into()));
                // `cvar.wait(guard)`: the guard goes in and comes back out, still held.
                let mut handed_back = None;
                for (i, arg) in m.args.iter().enumerate() {
                    if i == 0 && vocab::hands_guard_back(&method) {
                        handed_back = self.expr(arg);
                        continue;
                    }
                    let value = self.argument_in(arg, context.as_ref());
                    if let Some(id) = value.filter(|&id| self.is_work(id)) {
                        work_args.push(id);
                    } else if matches!(arg, syn::Expr::Closure(_)) {
                        from_closure = from_closure.or(value);
                    }
                }
                let body = std::mem::replace(&mut self.spawning, saved).flatten();
                self.iterating = iterating;
                self.inline_closures = inline;
                self.closure_input = outer_input;
                if let Some(id) = scoped {
                    self.drop_value(id, end(m.paren_token.span.close()), DropWhy::CallEnd);
                }
                if vocab::runs_argument(&method) {
                    own.extend(self.worked_on_by(args_start, m.args.iter()));
                }
                self.watch_except(expr, &own);
                if let Some(what) = self.tracker.makes(expr) {
                    let id = self.make(expr, what);
                    if !own.is_empty() {
                        self.within.insert(id, own);
                    }
                    return Some(id);
                }
                if self.sharing() {
                    if spawns {
                        let args: Vec<&syn::Expr> = m.args.iter().collect();
                        let callee = match guards::receiver_name(&m.receiver) {
                            Some(r) => format!("{r}.{method}"),
                            None => method.clone(),
                        };
                        let around: Vec<&syn::Expr> = std::iter::once(&*m.receiver).chain(&m.args).collect();
                        let work = self.spawn(&callee, start(m.method.span()), &args, body, &around);
                        if let (Some(id), Some(holder)) = (work, sharing::root_ident(&m.receiver)) {
                            // `set.spawn(..)`: the set holds it.
                            self.state.holders.push((holder, id));
                        }
                        return work;
                    }
                    if let Some(summary) = self.sharer.and_then(|s| s.spawns_method_arguments(&method)) {
                        let args: Vec<&syn::Expr> = summary.iter().filter_map(|&i| m.args.iter().nth(i)).collect();
                        let around: Vec<&syn::Expr> = std::iter::once(&*m.receiver).chain(&m.args).collect();
                        return self.spawn(&method, start(m.method.span()), &args, None, &around);
                    }
                    if let Some(id) = self.publish(m) {
                        return Some(id);
                    }
                    // `handles.push(h)`: the collection holds the work.
                    if let Some(holder) = sharing::root_ident(&m.receiver).filter(|_| !work_args.is_empty()) {
                        self.state.holders.extend(work_args.into_iter().map(|id| (holder.clone(), id)));
                    }
                    self.join_method(m, receiver);
                    // What was published passes through its chain (`or_insert_with(..).clone()`);
                    // what a spawning callee returned, through its adapters (`.map(..)`).
                    let passes = |w: &Work| vocab::COPIES.contains(&method.as_str()) || w.in_callee;
                    if receiver.is_some_and(|id| self.flow.values[id].work.as_ref().is_some_and(passes)) {
                        return receiver;
                    }
                }
                // `m.lock().unwrap()`: the same value, still owned; `guard.get(k)` borrows.
                // `cell.get().and_then(|m| m.lock().ok())`: what the closure returned.
                receiver
                    .filter(|_| vocab::hands_on_ownership(&method))
                    .or(from_closure.filter(|_| vocab::moves_into_closure(&method)))
                    .or(handed_back)
            }
            syn::Expr::Call(call) => {
                let drop_call = matches!(&*call.func, syn::Expr::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "drop"));
                // `drop(guard)`, or `drop((data, guard))`: each named value drops.
                let dropped = call.args.first().filter(|_| drop_call && call.args.len() == 1).and_then(dropped_names);
                if let Some(names) = dropped {
                    let ids: Vec<ValueId> = names.iter().filter_map(|n| self.lookup(n)).collect();
                    if !ids.is_empty() {
                        for id in ids {
                            self.drop_value(id, leftmost(&call.func), DropWhy::Dropped);
                        }
                        return None;
                    }
                }
                self.expr(&call.func);
                self.swapped_with_guard(call);
                let callee = sharing::last_segment(&call.func).unwrap_or_default();
                // Asked only of calls named like a spawn, when places are followed: not a
                // task the caller runs by hand (`tokio_test::task::spawn`,
                // `async_task::spawn`), nor a parameter or local closure named `spawn`.
                let spawns = self.sharing() && vocab::SPAWNS.contains(&callee.as_str()) && {
                    let mock = sharing::path_text(&call.func)
                        .is_some_and(|t| vocab::HAND_RUN_TASKS.iter().any(|c| t.starts_with(c)));
                    let local = matches!(&*call.func, syn::Expr::Path(p) if p.path.get_ident().is_some_and(|i| {
                        let name = i.to_string();
                        self.state.names.iter().any(|(n, _, _)| *n == name)
                            || self.sharer.is_some_and(|s| s.is_parameter(&name))
                    }));
                    !mock && !local
                };
                let saved = self.spawning.take();
                if spawns {
                    self.spawning = Some(None);
                }
                let args_start = self.flow.events.len();
                let mut moved_in = None;
                let mut work_args = Vec::new();
                let scoped = self.tracker.guards_closures(expr).map(|what| self.make_for_closures(expr, what));
                let runs_now = scoped.is_some() || self.runs_closures_now(&callee);
                let inline = std::mem::replace(&mut self.inline_closures, runs_now);
                let outer_input =
                    std::mem::replace(&mut self.closure_input, scoped.map(|id| (id, ClosureInput::Moved)));
                let context = self.sharing().then(|| Context::Argument(callee.as_str().into()));
                for arg in &call.args {
                    if let Some(id) = self.argument_in(arg, context.as_ref()) {
                        moved_in.get_or_insert(id);
                        if self.is_work(id) {
                            work_args.push(id);
                        }
                    }
                }
                let body = std::mem::replace(&mut self.spawning, saved).flatten();
                self.inline_closures = inline;
                self.closure_input = outer_input;
                if let Some(id) = scoped {
                    self.drop_value(id, end(call.paren_token.span.close()), DropWhy::CallEnd);
                }
                let own = if vocab::runs_argument(&callee) {
                    self.worked_on_by(args_start, call.args.iter())
                } else {
                    Vec::new()
                };
                self.watch_except(expr, &own);
                if let Some(what) = self.tracker.makes(expr) {
                    return Some(self.make(expr, what));
                }
                if self.sharing() {
                    let at = leftmost(&call.func);
                    if spawns {
                        let args: Vec<&syn::Expr> = call.args.iter().collect();
                        let callee = sharing::path_text(&call.func).unwrap_or(callee);
                        return self.spawn(&callee, at, &args, body, &args);
                    }
                    // `Type::name` of a path call, to tell `Worker::new` from other `new`s.
                    let key = sharing::path_text(&call.func).map(|t| {
                        let segments: Vec<&str> = t.rsplit("::").take(2).collect();
                        segments.into_iter().rev().collect::<Vec<_>>().join("::")
                    });
                    let key = key.unwrap_or_else(|| callee.clone());
                    if let Some(summary) = self.sharer.and_then(|s| s.spawns_arguments(&key)) {
                        let args: Vec<&syn::Expr> = summary.iter().filter_map(|&i| call.args.iter().nth(i)).collect();
                        let around: Vec<&syn::Expr> = call.args.iter().collect();
                        return self.spawn(&key, at, &args, None, &around);
                    }
                    if let Some(summary) = self.sharer.and_then(|s| s.measures_arguments(&key)) {
                        let args: Vec<&syn::Expr> = summary.iter().filter_map(|&i| call.args.iter().nth(i)).collect();
                        self.used_by_call(&args, at, end(call.paren_token.span.close()), "len");
                    }
                    if let Some(summary) = self.sharer.and_then(|s| s.takes_items_arguments(&key)) {
                        let args: Vec<&syn::Expr> = summary.iter().filter_map(|&i| call.args.iter().nth(i)).collect();
                        self.used_by_call(&args, at, end(call.paren_token.span.close()), "pop");
                    }
                    if vocab::JOIN_FNS.contains(&callee.as_str()) {
                        for id in work_args {
                            self.joined(id, at);
                        }
                        for arg in &call.args {
                            if let Some(holder) = sharing::root_ident(arg) {
                                self.join_held(&holder, at);
                            }
                        }
                        return None;
                    }
                }
                // `Some(guard)`, `Wrapper::new(guard)`: the value lives on in the result.
                moved_in
            }
            syn::Expr::Await(a) => {
                let base = self.expr(&a.base);
                let live = self.live_ids();
                let at = start(a.await_token.span);
                // Work waiting for this task to yield now runs.
                let waiting: Vec<ValueId> = live.iter().copied().filter(|&id| self.is_work(id)).collect();
                self.state.resumed.extend(waiting);
                self.event(at, EventKind::Await(live));
                if let Some(id) = base.filter(|&id| self.is_work(id)) {
                    // Awaiting a task's handle waits for the task.
                    self.joined(id, at);
                }
                if self.sharing() {
                    // `timeout(d, async { a.await; b.await }).await`: the handles awaited in
                    // the block have ended when this await returns.
                    for handle in sharing::awaited_in_blocks_of(&a.base) {
                        self.join_held(&handle, at);
                    }
                }
                if let Some(semaphore) = sharing::awaits_all_permits(&a.base).filter(|_| self.sharing()) {
                    // The work's permits are back: it released them, or it is done.
                    self.received(&semaphore, at);
                }
                if let (true, syn::Expr::Path(p)) = (self.sharing(), &*a.base) {
                    if let Some(name) = p.path.get_ident().map(ToString::to_string) {
                        // `for h in handles { h.await }`: one of the tasks held.
                        self.join_held(&name, at);
                        // `rx.await` of a oneshot the work sends on.
                        self.received(&name, at);
                    }
                }
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
                let deref = matches!(u.op, syn::UnOp::Deref(_)) && self.sharing();
                if deref {
                    self.chain.push("*".into());
                }
                self.expr(&u.expr);
                if deref {
                    self.chain.pop();
                }
                None
            }
            syn::Expr::Field(f) => {
                if let Some(place) = self.sharing().then(|| self.field_place(f)).flatten() {
                    let at = leftmost(&f.base);
                    self.use_places(&[place], at, end(f.member.span()));
                    return None;
                }
                self.expr(&f.base);
                None
            }
            syn::Expr::Index(i) if self.sharing() => {
                self.chain.push("[]".into());
                self.expr(&i.expr);
                self.chain.pop();
                self.expr_in(&i.index, Context::Argument("[]".into()));
                None
            }
            syn::Expr::Index(i) => {
                self.expr(&i.expr);
                self.expr(&i.index);
                None
            }
            syn::Expr::Binary(b) => {
                if is_compound_assignment(&b.op) {
                    self.expr_in(&b.right, Context::Counted);
                    self.expr_in(&b.left, Context::Assigned { overwrite: false });
                    return None;
                }
                if matches!(b.op, syn::BinOp::And(_) | syn::BinOp::Or(_)) && !is_let_chain(expr) {
                    self.lazy_operand(&b.left);
                    self.lazy_operand(&b.right);
                    return None;
                }
                self.expr(&b.left);
                self.expr(&b.right);
                None
            }
            syn::Expr::Cast(c) => {
                self.expr(&c.expr);
                None
            }
            syn::Expr::Path(p) => {
                let ident = p.path.get_ident()?;
                let name = ident.to_string();
                if self.sharing() {
                    self.use_name(&name, start(ident.span()), end(ident.span()));
                }
                self.lookup(&name).filter(|&id| self.is_live(id))
            }
            syn::Expr::Tuple(t) => self.contains(t.elems.iter()),
            syn::Expr::Array(a) => self.contains(a.elems.iter()),
            syn::Expr::Struct(s) => self.contains(s.fields.iter().map(|f| &f.expr)),
            syn::Expr::Assign(a) => {
                // `*cache = Some(File::open(p)?)`: making the guarded value anew.
                let into = self.chain_root(&a.left).or(self.storing_into);
                let storing = std::mem::replace(&mut self.storing_into, into);
                let made = self.expr_in(&a.right, Context::Bound);
                self.storing_into = storing;
                if let Some(guard) = self.chain_root(&a.left) {
                    self.made_for(guard, &a.right);
                }
                if let syn::Expr::Path(p) = &*a.left {
                    if let Some(name) = p.path.get_ident().map(ToString::to_string) {
                        let old = self.lookup(&name);
                        // `items = cvar.wait(items)?`: the same value back, still bound there.
                        let same = old.is_some() && old == made;
                        if let (Some(old), false) = (old, same) {
                            self.drop_value(old, start(a.eq_token.span), DropWhy::Overwritten);
                        }
                        if let (Some(id), false) = (made, same) {
                            self.bind(id, name, start(a.left.span()));
                        }
                    }
                } else {
                    let overwrite = !matches!(&*a.right, syn::Expr::Lit(_));
                    self.expr_in(&a.left, Context::Assigned { overwrite });
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
                // The condition runs on every iteration, as the body does.
                self.state.loop_depth += 1;
                self.state.loop_starts.push(start(w.while_token.span));
                let outer = std::mem::replace(&mut self.loop_condition, true);
                let cond = self.condition(&w.cond, depth, start(w.body.brace_token.span.open()));
                self.loop_condition = outer;
                self.state.loop_starts.pop();
                self.state.loop_depth -= 1;
                self.bind_condition(&cond);
                let saved = self.state.diverged;
                self.loop_body(&w.body);
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
                let before = self.live_ids();
                self.expr_in(&f.expr, Context::Argument("for".into()));
                let saved = self.state.diverged;
                self.state.depth += 1;
                self.bind_pattern(&f.pat, None);
                // `for h in guard.drain(..)`: each item is a part of the guarded value.
                self.derive(&f.pat, &f.expr, &before);
                // `for h in handles`, `for h in [first, second]`: each `h` is one of the
                // work handles held.
                let held: Vec<ValueId> = match &*f.expr {
                    syn::Expr::Array(a) => (a.elems.iter().filter_map(sharing::root_ident))
                        .filter_map(|name| self.lookup(&name))
                        .filter(|&id| self.is_work(id))
                        .collect(),
                    _ => sharing::root_ident(&f.expr)
                        .map(|holder| {
                            self.state.holders.iter().filter(|(h, _)| *h == holder).map(|(_, id)| *id).collect()
                        })
                        .unwrap_or_default(),
                };
                if !held.is_empty() {
                    let mut names = Vec::new();
                    collect_names(&f.pat, &mut names);
                    for n in names {
                        self.state.holders.extend(held.iter().map(|&id| (n.clone(), id)));
                    }
                }
                self.loop_body(&f.body);
                if let Some(rx) = sharing::root_ident(&f.expr).filter(|_| self.sharing()) {
                    // `for msg in rx`: the loop ends when the senders are gone.
                    self.received(&rx, end(f.body.brace_token.span.close()));
                }
                let depth = self.state.depth;
                self.forget_names_from(depth);
                self.state.depth -= 1;
                self.state.diverged = saved;
                None
            }
            syn::Expr::Loop(l) => {
                self.loop_body(&l.body);
                // A `loop` ends only by `break`: what follows runs if one breaks out.
                self.state.diverged = false;
                None
            }
            syn::Expr::Return(r) => {
                if let Some(e) = &r.expr {
                    if let Some(id) = self.expr_in(e, Context::Returned) {
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
            syn::Expr::Closure(c) if self.inline_closures && c.asyncness.is_none() => {
                // Run by the callee before it returns (`with_permit(|| ..)`, `map(|x| ..)`):
                // what it shares, this body has shared; what it returns, the call may.
                let returned = self.inline_closure(c);
                returned.filter(|_| !self.sharing())
            }
            syn::Expr::Closure(c) => {
                let tokens = quote::ToTokens::to_token_stream(&c.body).to_string();
                let captured = self.captures(&tokens, c.capture.is_some(), start(c.or1_token.span));
                let mut params = Vec::new();
                for p in &c.inputs {
                    collect_names(p, &mut params);
                }
                self.push_nested(NestedCode::Expr((*c.body).clone()), captured, params);
                None
            }
            syn::Expr::Async(a) => {
                let tokens = quote::ToTokens::to_token_stream(&a.block).to_string();
                let captured = self.captures(&tokens, a.capture.is_some(), start(a.async_token.span));
                self.push_nested(NestedCode::Block(a.block.clone()), captured, Vec::new());
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
            if let Some(Event { kind: EventKind::Watched(watch), .. }) = self.flow.events.get_mut(i) {
                watch.live.retain(|&id| id != guard);
            }
        }
    }

    /// Names a pattern binds to parts of a guarded value (`Some(h)` of
    /// `guard.take()`): work on them is work on the guarded value.
    fn derive(&mut self, pat: &syn::Pat, from: &syn::Expr, before: &[ValueId]) {
        // Through a name (`guard.take()`), or a guard the expression itself made
        // (`m.lock().unwrap().take()`).
        // `before` is sorted (`live_ids`); work values are never a guard made here.
        let made_here = || {
            self.state
                .live
                .iter()
                .rev()
                .map(|(id, _)| *id)
                .find(|id| before.binary_search(id).is_err() && !self.is_work(*id))
        };
        // A part taken out (`guard.take()`, `mem::replace(&mut *guard, ..)`), work made of
        // it (`col.full_upload(..)`), or a value it was moved into
        // (`Abortable::new(upload, reg)`): the guarded value checked out, its slot empty
        // until it is put back. A copy (`guard.path.clone()`) moved into a call is not.
        let chain = self.chain_root(from);
        let moved_in = if chain.is_none() { self.moved_in_taken_part(from) } else { None };
        if let Some(root) = chain.or(moved_in).or_else(made_here) {
            let taken = moved_in.is_some()
                || takes_out(from)
                || sharing::root_ident(from).is_some_and(|n| self.names_taken_part(&n));
            let mut names = Vec::new();
            collect_names(pat, &mut names);
            self.state.derived.extend(names.into_iter().map(|name| Derived { name, value: root, taken }));
        }
    }

    /// The live guarded value a part taken out of it was moved into this call from, or
    /// work made of that part (`Abortable::new(upload, reg)`, `Box::pin(col.upload())`,
    /// `client.send(col)`, with `col` from `guard.take()`).
    fn moved_in_taken_part(&self, expr: &syn::Expr) -> Option<ValueId> {
        let args = match guarded_work::strip_try(expr) {
            syn::Expr::Call(c) => &c.args,
            syn::Expr::MethodCall(m) => &m.args,
            _ => return None,
        };
        args.iter().find_map(|arg| {
            let name = sharing::root_ident(arg)?;
            self.names_taken_part(&name).then(|| self.chain_root(arg)).flatten()
        })
    }

    /// Is `name` bound to a part taken out of a guarded value?
    fn names_taken_part(&self, name: &str) -> bool {
        self.lookup(name).is_none() && self.state.derived.iter().rev().find(|d| d.name == name).is_some_and(|d| d.taken)
    }

    /// The live tracked value at the root of a place expression (`guard` in
    /// `guard.items[0].rx`, `*guard`, `guard.take().unwrap()`).
    fn chain_root(&self, expr: &syn::Expr) -> Option<ValueId> {
        match expr {
            syn::Expr::Path(p) => {
                let name = p.path.get_ident()?.to_string();
                let derived = || self.state.derived.iter().rev().find(|d| d.name == name).map(|d| d.value);
                self.lookup(&name).or_else(derived).filter(|&id| self.is_live(id))
            }
            syn::Expr::Field(f) => self.chain_root(&f.base),
            syn::Expr::Index(i) => self.chain_root(&i.expr),
            syn::Expr::MethodCall(m) => self.chain_root(&m.receiver),
            syn::Expr::Unary(u) => self.chain_root(&u.expr),
            syn::Expr::Reference(r) => self.chain_root(&r.expr),
            syn::Expr::Paren(p) => self.chain_root(&p.expr),
            syn::Expr::Try(t) => self.chain_root(&t.expr),
            // `mem::take(&mut *guard)`, `mem::replace(&mut *guard, None)`: the guarded value.
            syn::Expr::Call(c) if matches!(sharing::last_segment(&c.func).as_deref(), Some("take" | "replace")) => {
                c.args.first().and_then(|a| self.chain_root(a))
            }
            _ => None,
        }
    }

    /// `mem::swap(&mut handle, &mut *guard)`: each side now holds the other's value, so
    /// work on `handle` is work on the guarded value.
    fn swapped_with_guard(&mut self, call: &syn::ExprCall) {
        if sharing::last_segment(&call.func).as_deref() != Some("swap") || call.args.len() != 2 {
            return;
        }
        for (a, b) in [(&call.args[0], &call.args[1]), (&call.args[1], &call.args[0])] {
            if let (Some(guard), Some(name)) = (self.chain_root(a), sharing::root_ident(b)) {
                if self.lookup(&name) != Some(guard) {
                    self.state.derived.push(Derived { name, value: guard, taken: true });
                }
            }
        }
    }

    /// An argument walked as a value going into `context` (when places are followed).
    fn argument_in(&mut self, arg: &syn::Expr, context: Option<&Context>) -> Option<ValueId> {
        let Some(context) = context else { return self.argument(arg) };
        let chain = std::mem::take(&mut self.chain);
        let outer = std::mem::replace(&mut self.context, context.clone());
        let made = self.argument(arg);
        self.chain = chain;
        self.context = outer;
        made
    }

    /// A value passed as an argument: moved into the call when passed by value.
    fn argument(&mut self, arg: &syn::Expr) -> Option<ValueId> {
        let made = self.expr(arg);
        if made.is_some_and(|id| self.is_work(id)) {
            // A work handle passed on (`handles.push(h)`) still stands for the work.
            return made;
        }
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
        // A guard is made by a short call (`m.lock()`); its span is cheap.
        self.make_in(Region::of(expr.span()), what)
    }

    /// A guard a call takes for the closures it runs (`s.with_peers(|p| ..)`): made where
    /// the call is named, not over the whole call, whose span would cost its closures'
    /// size at every level of a nest of them.
    fn make_for_closures(&mut self, expr: &syn::Expr, what: String) -> ValueId {
        let named = match expr {
            syn::Expr::MethodCall(m) => end(m.method.span()),
            syn::Expr::Call(c) => match &*c.func {
                syn::Expr::Path(p) => p.path.segments.last().map_or_else(|| leftmost(expr), |s| end(s.ident.span())),
                _ => leftmost(expr),
            },
            _ => leftmost(expr),
        };
        self.make_in(Region { start: leftmost(expr), end: named }, what)
    }

    fn make_in(&mut self, made: Region, what: String) -> ValueId {
        let id = self.flow.values.len();
        self.flow.values.push(Value { made, what, names: Vec::new(), work: None });
        self.state.live.push((id, Owner::Statement));
        self.event(made.start, EventKind::Made(id));
        id
    }

    /// What each of `args` works on, by the start of its chain: a value made there by the
    /// events from `first` on (`sink.lock()` of `sink.lock().send(m)`), or the live value
    /// the chain starts from (`guard.refresh()`, `handle.done()` of a handle taken out of
    /// a guard); not a temporary computed for one of the argument's own arguments.
    fn worked_on_by<'e>(&self, first: usize, args: impl Iterator<Item = &'e syn::Expr>) -> Vec<ValueId> {
        let args: Vec<&syn::Expr> = args.collect();
        let spines: Vec<Position> = args.iter().map(|a| leftmost(a)).collect();
        let events = self.flow.events.get(first..).unwrap_or_default();
        let made = events.iter().filter_map(|e| match e.kind {
            EventKind::Made(id) if spines.contains(&self.flow.values[id].made.start) => Some(id),
            _ => None,
        });
        // A future or closure made of a part taken out of a guard (`block_on(async {
        // timeout(d, task).await })`, `task` from `guard.take()`) works on it too.
        let captured = args.iter().filter(|a| matches!(a, syn::Expr::Async(_) | syn::Expr::Closure(_))).flat_map(|a| {
            let mut words = Vec::new();
            collect_paths(&quote::ToTokens::to_token_stream(*a).to_string(), &mut words);
            words.into_iter().filter(|w| self.names_taken_part(w)).filter_map(|w| {
                self.state.derived.iter().rev().find(|d| d.name == w).map(|d| d.value).filter(|&id| self.is_live(id))
            })
        });
        made.chain(args.iter().filter_map(|a| self.chain_root(a))).chain(captured).collect()
    }

    fn watch_except(&mut self, expr: &syn::Expr, except: &[ValueId]) {
        if let Some(what) = self.tracker.watches(expr) {
            let through = self.reached_through(except);
            let (worked_on, mut live): (Vec<ValueId>, Vec<ValueId>) =
                self.live_ids().into_iter().partition(|id| except.contains(id) || through.contains(id));
            live.retain(|id| Some(*id) != self.storing_into);
            self.event(leftmost(expr), EventKind::Watched(Box::new(Watch { call: what, live, worked_on })));
        }
    }

    /// The values `ids` were reached through, transitively (`vmm` for a guard taken by
    /// `vmm.vm.vcpus_handles()`): worked on when they are. Empty, without allocating, in
    /// the common body where no guard was taken through another.
    fn reached_through(&self, ids: &[ValueId]) -> HashSet<ValueId> {
        let mut through = HashSet::new();
        let mut work: Vec<ValueId> = ids.iter().copied().filter(|id| self.within.contains_key(id)).collect();
        while let Some(id) = work.pop() {
            for &outer in self.within.get(&id).into_iter().flatten() {
                if through.insert(outer) {
                    work.push(outer);
                }
            }
        }
        through
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
        let values_before = self.flow.values.len();
        let cond = self.condition(&i.cond, depth, start(i.then_branch.brace_token.span.open()));
        let scrutinee = cond.scrutinee;
        let (refuted_then, refuted_else) = if self.sharing() {
            self.refuted_by(&i.cond, &self.work_since(values_before))
        } else {
            (Vec::new(), Vec::new())
        };
        let mut before = self.state.clone();
        if cond.chained {
            // The `else` runs with nothing the chain bound.
            before.names.retain(|(_, _, d)| *d < depth);
            before.live.retain(|(_, o)| !matches!(o, Owner::Scope(d) if *d >= depth));
        }
        self.refute(&refuted_then, start(i.then_branch.brace_token.span.open()));
        self.bind_condition(&cond);
        let mut then_tail = None;
        self.block(&i.then_branch, Some(&mut then_tail));
        if (scrutinee.is_some() || cond.chained) && self.edition >= Edition::E2024 {
            // 2024: the scrutinee's temporaries drop before the `else` runs.
            let scrutinee_owned = |o: &Owner| matches!(o, Owner::Scrutinee(d) if *d >= depth);
            self.drop_where(end(i.then_branch.brace_token.span.close()), DropWhy::ScrutineeEnd, scrutinee_owned);
            before.live.retain(|(_, o)| !scrutinee_owned(o));
        }
        let succeeds = scrutinee.is_some_and(|l| is_acquisition(&l.expr) && is_success_pattern(&l.pat));
        if let (Some(made), true) = (cond.made, succeeds) {
            // `if let Ok(g) = m.try_lock() { .. } else { .. }`: the `else` runs on the
            // failure, which holds nothing, or a poisoned guard (`m.lock()`'s `Err`), a
            // path taken only after a panic under the lock.
            before.live.retain(|(id, _)| *id != made);
        }
        let after_then = std::mem::replace(&mut self.state, before);
        self.refute(&refuted_else, end(i.then_branch.brace_token.span.close()));
        let else_tail = i.else_branch.as_ref().and_then(|(_, e)| self.expr(e));
        self.merge(after_then);
        let tail = then_tail.or(else_tail);
        // The `if`'s value leaves with it; what its pattern bound goes out of scope with
        // the scrutinee's temporaries.
        if let Some(id) = tail {
            for (v, owner) in &mut self.state.live {
                if *v == id {
                    *owner = Owner::Statement;
                }
            }
        }
        let at = end_of_if(i);
        self.drop_where(
            at,
            DropWhy::ScrutineeEnd,
            |o| matches!(o, Owner::Scrutinee(d) | Owner::Scope(d) if *d >= depth),
        );
        self.forget_names_from(depth);
        self.state.depth -= 1;
        tail
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
        if scrutinee.is_none() && is_let_chain(cond) {
            self.let_chain(cond, depth);
            return Condition { scrutinee: None, chained: true, made: None, before };
        }
        let made = self.expr_in(scrutinee.map_or(cond, |l| &*l.expr), Context::Condition);
        match scrutinee {
            Some(_) => self.own_statement_values_by(Owner::Scrutinee(depth)),
            None => self.drop_made_since(&before, body, None),
        }
        Condition { scrutinee, chained: false, made, before }
    }

    /// The operands of a let chain, in order: each `let`'s scrutinee temporaries live
    /// through the body, as an `if let`'s do, and its pattern binds for the operands
    /// after it; the other operands are temporary scopes of their own.
    fn let_chain(&mut self, expr: &syn::Expr, depth: usize) {
        match expr {
            syn::Expr::Binary(b) if matches!(b.op, syn::BinOp::And(_)) => {
                self.let_chain(&b.left, depth);
                self.let_chain(&b.right, depth);
            }
            syn::Expr::Paren(p) => self.let_chain(&p.expr, depth),
            syn::Expr::Let(l) => {
                let before = self.live_ids();
                let made = self.expr_in(&l.expr, Context::Condition);
                self.own_statement_values_by(Owner::Scrutinee(depth));
                if made.is_none() {
                    self.derive(&l.pat, &l.expr, &before);
                }
                self.bind_pattern(&l.pat, made);
            }
            other => self.lazy_operand(other),
        }
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

    /// Drop the statement temporaries made since `before` (a condition's, a closure
    /// body's), except `keep`.
    fn drop_made_since(&mut self, before: &[ValueId], at: Position, keep: Option<ValueId>) {
        let made: Vec<ValueId> = self
            .state
            .live
            .iter()
            .filter(|(id, o)| *o == Owner::Statement && before.binary_search(id).is_err() && Some(*id) != keep)
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
        let values_before = self.flow.values.len();
        let made = self.expr_in(&m.expr, Context::Condition);
        let shared_here = self.work_since(values_before);
        self.own_statement_values_by(Owner::Scrutinee(depth));
        let before = self.state.clone();
        let mut merged: Option<State> = None;
        let mut tail = None;
        for arm in &m.arms {
            self.state = before.clone();
            if made.is_none() {
                self.derive(&arm.pat, &m.expr, &before_scrutinee);
            }
            if sharing::is_err_pattern(&arm.pat) {
                // The spawn failed on this arm.
                self.refute(&shared_here, start(arm.pat.span()));
            }
            if let (Some(id), true) = (made, is_acquisition(&m.expr) && is_failure_pattern(&arm.pat)) {
                // `Err(_) =>` of `m.lock()`, `None =>` of `m.try_lock()`: nothing is held,
                // or a poisoned guard, on a path taken only after a panic under the lock.
                self.state.live.retain(|(v, _)| *v != id);
            }
            self.bind_pattern(&arm.pat, made);
            if let Some((_, guard)) = &arm.guard {
                self.expr(guard);
            }
            let value = self.expr(&arm.body);
            tail = tail.or(value);
            merged = Some(self.join_branch(merged));
        }
        self.state = merged.unwrap_or(before);
        // The match's value leaves with it; what its arms bound (`Ok(guard) => ..`) goes
        // out of scope with the scrutinee's temporaries.
        if let Some(id) = tail {
            for (v, owner) in &mut self.state.live {
                if *v == id {
                    *owner = Owner::Statement;
                }
            }
        }
        self.drop_where(
            end(m.brace_token.span.close()),
            DropWhy::ScrutineeEnd,
            |o| matches!(o, Owner::Scrutinee(d) | Owner::Scope(d) if *d >= depth),
        );
        self.forget_names_from(depth);
        self.state.depth -= 1;
        tail
    }

    /// The state at the end of one branch (`self.state`, taken) joined with `merged`, the
    /// join of the branches walked before it.
    fn join_branch(&mut self, merged: Option<State>) -> State {
        let branch = std::mem::take(&mut self.state);
        match merged {
            None => branch,
            Some(so_far) => {
                self.state = so_far;
                self.merge(branch);
                std::mem::take(&mut self.state)
            }
        }
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
                // What holds work and which channels it signals on, on either path.
                union(&mut self.state.holders, other.holders);
                union(&mut self.state.channels, other.channels);
                union(&mut self.state.copies, other.copies);
                union(&mut self.state.resumed, other.resumed);
            }
            _ => {}
        }
    }

    /// Walk a loop's body. When it shares something, it is walked once more, as the
    /// next iteration sees what this one shared; of that walk only new uses are kept.
    fn loop_body(&mut self, body: &syn::Block) {
        self.state.loop_depth += 1;
        self.state.loop_starts.push(start(body.brace_token.span.open()));
        let values_before = self.flow.values.len();
        let first_event = self.flow.events.len();
        // Only when places are followed, not inside another loop's second walk, nor deep in
        // loops: nested second walks would cost 2^depth (a hostile file nests thousands of
        // loops), and the state kept for one costs its size at every level.
        let rewalk = self.sharing() && !self.next_iteration && self.state.loop_depth <= MAX_REWALKED_LOOP_DEPTH;
        let entry = rewalk.then(|| self.state.clone());
        self.block(body, None);
        let Some(entry) = entry.filter(|_| !self.state.diverged) else {
            self.state.loop_depth -= 1;
            self.state.loop_starts.pop();
            return;
        };
        let shared: Vec<ValueId> = self.work_since(values_before).into_iter().filter(|&id| self.is_live(id)).collect();
        if !shared.is_empty() {
            let after_first = self.state.clone();
            let first: Vec<Event> = self.flow.events[first_event..].to_vec();
            let holders = after_first.holders.clone();
            self.state = entry;
            self.state.live.extend(shared.iter().map(|&id| (id, Owner::Work)));
            self.state.holders = holders;
            self.next_iteration = true;
            let second_start = self.flow.events.len();
            self.block(body, None);
            self.next_iteration = false;
            let second = self.flow.events.split_off(second_start);
            self.flow.events.extend(sharing::second_walk_uses(&first, second));
            let after_second = std::mem::replace(&mut self.state, after_first);
            self.merge(after_second);
        }
        self.state.loop_depth -= 1;
        self.state.loop_starts.pop();
    }

    /// Does a call to `callee` run the closures it is given before it returns? Following
    /// places, any call but a spawn or a scope (which joins what its closure spawns) is
    /// taken to; following guards, only the standard combinators that surely do, so a
    /// stored callback's blocking work is not put under the caller's lock.
    fn runs_closures_now(&self, callee: &str) -> bool {
        if self.sharing() {
            !vocab::SPAWNS.contains(&callee) && !vocab::SCOPES.contains(&callee)
        } else {
            vocab::calls_closure_now(callee)
        }
    }

    /// Walk a closure given to a call that runs it now, in this body: its parameters
    /// hide outer names; run per item, it is a loop.
    fn inline_closure(&mut self, c: &syn::ExprClosure) -> Option<ValueId> {
        self.state.depth += 1;
        let depth = self.state.depth;
        let input = self.closure_input.take();
        let derived = self.state.derived.len();
        for (i, p) in c.inputs.iter().enumerate() {
            match input {
                Some((id, ClosureInput::Moved)) if i == 0 && self.is_live(id) => self.bind_pattern(p, Some(id)),
                Some((id, ClosureInput::Part)) if i == 0 => {
                    self.bind_pattern(p, None);
                    let mut names = Vec::new();
                    collect_names(p, &mut names);
                    self.state.derived.extend(names.into_iter().map(|name| Derived { name, value: id, taken: false }));
                }
                _ => self.bind_pattern(p, None),
            }
        }
        let per_item = self.iterating;
        self.state.loop_depth += usize::from(per_item);
        if per_item {
            self.state.loop_starts.push(start(c.or1_token.span));
        }
        self.inline_closures = false;
        let saved = self.state.diverged;
        let before = self.live_ids();
        let returned = self.expr_in(&c.body, Context::Argument("closure".into()));
        // The temporaries of a closure's body drop when it returns (`.then(|| m.lock().len())`),
        // not with the caller's statement; what it returns goes on.
        self.drop_made_since(&before, end_of_body(&c.body), returned);
        // What it returns (`.map(|g| g)`) is the caller's temporary now, not its parameter.
        for (id, owner) in &mut self.state.live {
            if Some(*id) == returned && matches!(owner, Owner::Scope(d) if *d >= depth) {
                *owner = Owner::Statement;
            }
        }
        // A `return` in the closure leaves the closure only.
        self.state.diverged = saved;
        self.state.loop_depth -= usize::from(per_item);
        if per_item {
            self.state.loop_starts.pop();
        }
        self.drop_where(end_of_body(&c.body), DropWhy::ScopeEnd, |o| matches!(o, Owner::Scope(d) if *d >= depth));
        self.forget_names_from(depth);
        self.state.derived.truncate(derived);
        self.state.depth -= 1;
        returned.filter(|&id| self.is_live(id))
    }

    fn push_nested(&mut self, code: NestedCode, captured: Vec<Captured>, params: Vec<String>) {
        let places = if self.sharing() {
            // The innermost binding of each name, where it reaches a place.
            let mut seen = std::collections::HashSet::new();
            let mut visible = Vec::new();
            for (name, places, _) in self.state.places.iter().rev() {
                if seen.insert(name.as_str()) && !places.is_empty() {
                    visible.push((name.clone(), places.clone()));
                }
            }
            visible
        } else {
            Vec::new()
        };
        let spawned = self.spawning.map(|_| self.state.loop_depth > 0 || self.repeats);
        if let Some(first @ None) = &mut self.spawning {
            *first = Some(self.nested.len());
        }
        let repeats = self.iterating;
        self.nested.push(Nested { code: Some(code), captured, places, params, spawned, repeats });
    }

    /// A `move` closure or async block takes the live values it names.
    fn captures(&mut self, tokens: &str, moves: bool, at: Position) -> Vec<Captured> {
        if !moves {
            return Vec::new();
        }
        let mut captured = Vec::new();
        for name in captured_names(tokens) {
            if let Some(id) = self.lookup(&name).filter(|&id| self.is_live(id) && !self.is_work(id)) {
                captured.push(Captured { name, value: self.flow.values[id].clone() });
                self.drop_value(id, at, DropWhy::Moved);
            }
        }
        captured
    }

    /// A `select!`: its futures are polled together, awaited at the macro with every value
    /// alive then; one handler runs after, as one arm of a `match` does. The futures and
    /// conditions are evaluated in statements of their own first: their temporaries are
    /// gone by the await, but for a value a future holds (`send(guard)`).
    fn select(&mut self, mac: &syn::Macro, branches: &[crate::parse::SelectBranch]) {
        let before = self.live_ids();
        let at = start(mac.path.span());
        for branch in branches {
            if let Some(future) = &branch.future {
                let evaluated = self.live_ids();
                let held = self.expr(future);
                self.drop_made_since(&evaluated, at, held);
            }
            if let Some(condition) = &branch.precondition {
                let evaluated = self.live_ids();
                self.expr(condition);
                self.drop_made_since(&evaluated, at, None);
            }
        }
        let live = self.live_ids();
        self.event(at, EventKind::Await(live));
        let polled = self.state.clone();
        let mut merged: Option<State> = None;
        for branch in branches {
            self.state = polled.clone();
            self.expr(&branch.handler);
            merged = Some(self.join_branch(merged));
        }
        self.state = merged.unwrap_or(polled);
        self.drop_made_since(&before, end(mac.delimiter.span().close()), None);
    }

    /// The arguments of a macro call that parse as expressions (`println!("{}", g.len())`).
    fn macro_args(&mut self, mac: &syn::Macro) {
        if let Some(branches) = crate::parse::select_branches(mac) {
            return self.select(mac, &branches);
        }
        let args = crate::parse::macro_args(mac);
        {
            // `format!`, `println!` and friends expand to a block: the temporaries of
            // their arguments drop when it ends.
            let before = self.live_ids();
            let name = mac.path.segments.last().map(|s| s.ident.to_string()).unwrap_or_default();
            let context = if vocab::asserts(&name) {
                Context::Asserted
            } else if vocab::renders(&name) {
                Context::Rendered
            } else {
                Context::Argument(format!("{name}!").into())
            };
            for arg in &args {
                self.expr_in(arg, context.clone());
            }
            if self.sharing() && vocab::JOIN_MACROS.contains(&name.as_str()) {
                // `tokio::join!(a, b)` waits for both.
                let at = start(mac.path.span());
                for holder in args.iter().filter_map(sharing::root_ident) {
                    self.join_held(&holder, at);
                }
            }
            self.drop_made_since(&before, end(mac.delimiter.span().close()), None);
        }
    }
}

/// Add to `into` what `from` has that it lacks.
fn union<T: PartialEq>(into: &mut Vec<T>, from: Vec<T>) {
    for item in from {
        if !into.contains(&item) {
            into.push(item);
        }
    }
}

fn is_compound_assignment(op: &syn::BinOp) -> bool {
    use syn::BinOp::*;
    matches!(
        op,
        AddAssign(_)
            | SubAssign(_)
            | MulAssign(_)
            | DivAssign(_)
            | RemAssign(_)
            | BitXorAssign(_)
            | BitAndAssign(_)
            | BitOrAssign(_)
            | ShlAssign(_)
            | ShrAssign(_)
    )
}

/// Where a closure body ends: its block's `}`, or (a short expression) its span.
/// The names `drop(..)` is given: `guard`, or each of `(data, guard)`.
fn dropped_names(arg: &syn::Expr) -> Option<Vec<String>> {
    match arg {
        syn::Expr::Path(p) => Some(vec![p.path.get_ident()?.to_string()]),
        syn::Expr::Paren(p) => dropped_names(&p.expr),
        syn::Expr::Tuple(t) => {
            let mut names = Vec::new();
            for elem in &t.elems {
                names.extend(dropped_names(elem)?);
            }
            Some(names)
        }
        _ => None,
    }
}

/// Is this `&&` chain a let chain (`if let Some(x) = a && b`)? Its `let`'s temporaries
/// live through the body, as an `if let`'s do.
fn is_let_chain(expr: &syn::Expr) -> bool {
    match expr {
        syn::Expr::Let(_) => true,
        syn::Expr::Binary(b) if matches!(b.op, syn::BinOp::And(_)) => is_let_chain(&b.left) || is_let_chain(&b.right),
        syn::Expr::Paren(p) => is_let_chain(&p.expr),
        _ => false,
    }
}

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

/// The pattern under a type ascription (`x` in `let x: File = …`).
/// Does the chain take its value out of the place it starts from (`guard.take()`,
/// `guard.handle.take().unwrap()`, `mem::replace(&mut *guard, None)`)?
fn takes_out(expr: &syn::Expr) -> bool {
    match expr {
        syn::Expr::MethodCall(m) => {
            matches!(m.method.to_string().as_str(), "take" | "replace") || takes_out(&m.receiver)
        }
        syn::Expr::Try(t) => takes_out(&t.expr),
        syn::Expr::Paren(p) => takes_out(&p.expr),
        syn::Expr::Call(c) => matches!(sharing::last_segment(&c.func).as_deref(), Some("take" | "replace")),
        _ => false,
    }
}

pub(crate) fn strip_type(pat: &syn::Pat) -> &syn::Pat {
    match pat {
        syn::Pat::Type(t) => &t.pat,
        other => other,
    }
}

/// The expression a block evaluates to (its tail), through nested blocks.
pub(crate) fn block_value(expr: &syn::Expr) -> &syn::Expr {
    match expr {
        syn::Expr::Block(b) => match b.block.stmts.last() {
            Some(syn::Stmt::Expr(tail, None)) => block_value(tail),
            _ => expr,
        },
        _ => expr,
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

/// Where an expression ends, found by walking down its rightmost operands, as
/// [`leftmost`] does: in nested `&&`s, a whole operand's span would cost its size at each
/// level.
fn rightmost(expr: &syn::Expr) -> Position {
    let mut current = expr;
    loop {
        current = match current {
            syn::Expr::MethodCall(m) => return end(m.paren_token.span.close()),
            syn::Expr::Call(c) => return end(c.paren_token.span.close()),
            syn::Expr::Paren(p) => return end(p.paren_token.span.close()),
            syn::Expr::Tuple(t) => return end(t.paren_token.span.close()),
            syn::Expr::Index(i) => return end(i.bracket_token.span.close()),
            syn::Expr::Array(a) => return end(a.bracket_token.span.close()),
            syn::Expr::Block(b) => return end(b.block.brace_token.span.close()),
            syn::Expr::Unsafe(u) => return end(u.block.brace_token.span.close()),
            syn::Expr::Async(a) => return end(a.block.brace_token.span.close()),
            syn::Expr::Match(m) => return end(m.brace_token.span.close()),
            syn::Expr::Struct(s) => return end(s.brace_token.span.close()),
            syn::Expr::If(i) => return end_of_if(i),
            syn::Expr::Macro(m) => return end(m.mac.delimiter.span().close()),
            syn::Expr::Await(a) => return end(a.await_token.span),
            syn::Expr::Try(t) => return end(t.question_token.span),
            syn::Expr::Field(f) => return end(f.member.span()),
            syn::Expr::Path(p) => return p.path.segments.last().map_or_else(|| end(p.span()), |s| end(s.ident.span())),
            syn::Expr::Binary(b) => &b.right,
            syn::Expr::Unary(u) => &u.expr,
            syn::Expr::Reference(r) => &r.expr,
            syn::Expr::Closure(c) => &c.body,
            other => return end(other.span()),
        };
    }
}

/// Is this an attempt whose failure holds no value (`m.try_lock()`, `m.try_read().ok()`)?
/// Is `expr` an acquisition's own result (`m.lock()`, `m.try_lock()`, `m.write().ok()`,
/// `shared.and_then(|s| s.lock().ok())`), whose failure holds no guard, or a poisoned one?
fn is_acquisition(expr: &syn::Expr) -> bool {
    match expr {
        syn::Expr::MethodCall(m) if m.method == "ok" && m.args.is_empty() => is_acquisition(&m.receiver),
        // `shared.and_then(|s| s.lock().ok())`: the acquisition, when there is something to lock.
        syn::Expr::MethodCall(m) if (m.method == "and_then" || m.method == "map") && m.args.len() == 1 => {
            matches!(m.args.first(), Some(syn::Expr::Closure(c)) if is_acquisition(&c.body))
        }
        syn::Expr::MethodCall(m) => vocab::acquire(&m.method.to_string(), m.args.len()).is_some(),
        syn::Expr::Paren(p) => is_acquisition(&p.expr),
        _ => false,
    }
}

/// The variant a constructor pattern names (`Ok` of `Ok(g)`, `None` of `None`).
fn pattern_variant(pat: &syn::Pat) -> Option<String> {
    let path = match pat {
        syn::Pat::TupleStruct(t) => &t.path,
        syn::Pat::Path(p) => &p.path,
        syn::Pat::Ident(i) if i.subpat.is_none() => return Some(i.ident.to_string()),
        _ => return None,
    };
    path.segments.last().map(|s| s.ident.to_string())
}

/// `Ok(..)`, `Some(..)`: the pattern an acquisition matches when it got the guard.
fn is_success_pattern(pat: &syn::Pat) -> bool {
    pattern_variant(pat).is_some_and(|v| v == "Ok" || v == "Some")
}

/// `Err(..)`, `None`: the pattern an acquisition matches when it did not.
fn is_failure_pattern(pat: &syn::Pat) -> bool {
    pattern_variant(pat).is_some_and(|v| v == "Err" || v == "None")
}

/// Identifiers in a token string, each once, added to those `out` has.
fn collect_paths(tokens: &str, out: &mut Vec<String>) {
    let mut seen: HashSet<String> = out.iter().cloned().collect();
    for word in tokens.split(|c: char| !(c.is_alphanumeric() || c == '_')) {
        if word.starts_with(|c: char| c.is_alphabetic() || c == '_') && seen.insert(word.to_string()) {
            out.push(word.to_string());
        }
    }
}

/// The names a `move` closure or async block may take from outside, in order: the
/// identifiers it mentions as variables (not after `.`: `shared.state` is a field),
/// except those it binds with `let` before any use, in a statement that does not use
/// them too (`let state = m.lock()` after an `.await` is the block's own; `let x =
/// x.lock()` uses the outer `x`). One pass over the tokens.
fn captured_names(tokens: &str) -> Vec<String> {
    #[derive(PartialEq)]
    enum Seen {
        Used,
        /// Bound by a `let` whose `;` has not come yet.
        Binding,
        Bound,
    }
    let words: Vec<&str> = tokens.split_whitespace().collect();
    let mut seen: HashMap<&str, Seen> = HashMap::new();
    let mut binding: Vec<&str> = Vec::new();
    let mut used = Vec::new();
    for (i, &word) in words.iter().enumerate() {
        if word == ";" {
            for name in binding.drain(..) {
                seen.entry(name).and_modify(|s| *s = Seen::Bound);
            }
            continue;
        }
        let identifier = word.starts_with(|c: char| c.is_alphabetic() || c == '_')
            && word.chars().all(|c| c.is_alphanumeric() || c == '_');
        if !identifier || (i > 0 && words[i - 1] == ".") {
            continue;
        }
        match seen.get(word) {
            None => {
                let binds =
                    (i >= 1 && words[i - 1] == "let") || (i >= 2 && words[i - 1] == "mut" && words[i - 2] == "let");
                if binds {
                    seen.insert(word, Seen::Binding);
                    binding.push(word);
                } else {
                    seen.insert(word, Seen::Used);
                    used.push(word.to_string());
                }
            }
            Some(Seen::Binding) => {
                seen.insert(word, Seen::Used);
                used.push(word.to_string());
            }
            Some(_) => {}
        }
    }
    used
}

pub(crate) fn collect_names(pat: &syn::Pat, out: &mut Vec<String>) {
    use syn::visit::Visit;
    struct Names<'o>(&'o mut Vec<String>);
    impl Visit<'_> for Names<'_> {
        fn visit_pat_ident(&mut self, p: &syn::PatIdent) {
            self.0.push(p.ident.to_string());
        }
    }
    Names(out).visit_pat(pat);
}
