//! # guard_across_await
//!
//! Flags a guard of a blocking lock (`std::sync`, `parking_lot`, `spin`, `lockscope`, a
//! crate's own wrapper) that is alive at an `.await`.
//!
//! ## Why is this bad?
//!
//! At an `.await` the task can be suspended for as long as the awaited future takes,
//! and it keeps the lock all that time. Every thread that wants the lock blocks (not
//! yields: it is a blocking lock), so the runtime's worker threads stall one by one. When
//! the holder's task needs one of those threads to make progress, nothing does: a
//! deadlock.
//!
//! ## Example
//!
//! ```text
//! async fn refresh(&self) {
//!     let mut cache = self.cache.lock().unwrap();
//!     let fresh = fetch().await;          // the guard is alive here
//!     cache.insert(fresh);
//! }
//! ```
//!
//! ## Use instead
//!
//! End the guard before the `.await`: scope it in a block, or `drop(guard)`; or fetch
//! first and take the lock only to store. If the lock must be held across the await,
//! use an async-aware lock (`tokio::sync::Mutex`), whose waiters yield.
//!
//! ```text
//! async fn refresh(&self) {
//!     let fresh = fetch().await;
//!     self.cache.lock().unwrap().insert(fresh);
//! }
//! ```
//!
//! ## What counts
//!
//! Liveness follows Rust's drop rules (the flow engine, `lint/src/flow`): a guard bound
//! by `let` lives to the end of its block, or until `drop(guard)` (or `drop((data,
//! guard))`), or until it is moved away; a temporary (`m.lock().unwrap().len()`) dies at
//! the end of its statement, or of its operand of `&&`/`||`, each a temporary scope of its
//! own; the temporaries of an `if let`/`match`/`while let` scrutinee live through the arm
//! (for `if let`, through the `else` too before edition 2024), and so do those of each
//! `let` of a let chain (`if let Some(x) = m.lock().unwrap().first() && ok`), through the
//! operands after it too; a guard kept in a tuple or
//! struct, or shadowed by a borrow of itself, is still alive. A guard moved into an
//! `async move` block is alive across that block's awaits. The finding is at the first
//! `.await` reached with the guard alive, with a note where the guard was taken. A
//! `let … else` drops its initializer's temporaries before the `else` runs, as rustc does.
//! A guard handed out by a function of the package (`fn state(&self) -> MutexGuard<'_, S>`,
//! its return type resolved to a `std::sync`, `parking_lot`, `spin` or `lockscope` guard,
//! under `Result`/`Option`) is taken by each call of it: `let s = self.state();`.
//! Closures that standard combinators run before returning (`map`, `and_then`, …) are part
//! of the body: a guard moved into one drops when it returns. A `select!` (tokio's,
//! futures') waits at the macro: a guard alive there, or held by one of its futures
//! (`consume(m.lock().unwrap())`), is reported there; its handlers are walked as the arms
//! of a `match`, their awaits like any other.
//!
//! Not flagged: guards of async-aware locks (`tokio::sync`, `futures::lock`,
//! `async_lock`, `async_std::sync`): their acquisition is itself awaited
//! (`m.lock().await`), or the lock is declared with one of those types. A lock reached
//! through a local the lint cannot trace to a declaration (`Arc::get_mut(&mut self.0)`
//! bound to `mutex`) is async-aware when every lock type the file declares or imports
//! (`use tokio::sync::Mutex;`) is. So is a local bound from a call of a package function
//! whose declared return type holds only async-aware locks (`async fn remove(..) ->
//! Option<Arc<async_lock::RwLock<()>>>`, then `let Some(lock) = lock else { .. }`), where
//! every package function of that name that returns a lock agrees.
//!
//! ## Known limits
//!
//! - Guards are found by the call that takes them (`lock`, `read`, `write`, `try_lock`,
//!   …, not awaited); a lock's type is looked up by the name it is reached by (a field,
//!   static or variable of an async-aware lock type is skipped), not by type inference:
//!   `self.inner` in `impl Catalog` is the field `Catalog` declares, wherever the impl
//!   is; any other receiver is looked up in the body's file first, then package-wide, so
//!   a name declared both ways in other files (`x.inner` on a local) is taken as blocking.
//!   Where the package gives a method of its own such a name and it returns no guard
//!   (`fn lock(&self) -> &Lockfile`), only receivers declared as locks count. A field
//!   declared in another crate is seen in workspace mode, through the types the file
//!   takes from a workspace dependency (`shared.buffer` of `util::SharedBuffer`); linted
//!   as a folder, or declared in a crates.io dependency, it is taken as a blocking lock.
//! - Functions handing out guards are matched by name and number of arguments in the
//!   package (a name also given to a function returning something else is not followed),
//!   and looked for only in packages that write a guard type (`…Guard<`) somewhere. A
//!   file that calls one by its path (`data::get()`) is read though it names no lock; one
//!   named like an acquisition (`fn read() -> RwLockReadGuard<..>`) counts when called by
//!   its path (`data::read()`), while `x.read()` stays an acquisition. A guard wrapped in
//!   a package type of its own and returned is not followed.
//!
//! Silence one finding with `// lockscope: allow(guard_across_await) reason` on the line
//! or the line above. Code where clippy's lint of the same defect is allowed or expected
//! (`#[allow(clippy::await_holding_lock)]` on the function, `impl`, module or statement)
//! is not reported either: the team has decided there.

use super::{PackageContext, Rule};
use crate::diagnostic::{Finding, Related, Severity};
use crate::flow::guards::{self, BodyWords, Guards};
use crate::flow::{self, EventKind};
use crate::prefilter::Prefilter;
use crate::source::Region;
use crate::vocab;
use std::collections::HashSet;

pub struct GuardAcrossAwait;

const NAME: &str = "guard_across_await";

impl Rule for GuardAcrossAwait {
    fn name(&self) -> &'static str {
        NAME
    }

    fn doc(&self) -> String {
        super::module_doc(include_str!("guard_across_await.rs"))
    }

    fn prefilter(&self) -> Prefilter {
        Prefilter {
            any: vocab::GUARD_HELPER_WORDS,
            pairs: &[(&["await"], vocab::LOCK_WORDS)],
            with_followed: &["await"],
        }
    }

    // A file that calls a function handing out a guard (`data::get()`) needs no lock word.
    fn followed_names(&self, file: &syn::File, out: &mut Vec<String>) {
        guards::guard_helper_names(file, out);
    }

    fn needed_names(&self, file: &syn::File, out: &mut Vec<String>) {
        guards::lock_receivers(file, |words| words.awaits, out);
    }

    fn check(&self, cx: &PackageContext<'_, '_>, out: &mut Vec<Finding>) {
        for file in cx.files.iter().filter(|f| f.source.report) {
            let edition = cx.symbols.edition_of(&file.source.module);
            let mut allowed: Option<Vec<(usize, usize)>> = None;
            for guards::Body { block: body, self_type, inline_modules, .. } in guards::bodies(&file.ast, true) {
                let words = BodyWords::of(body);
                let takes_lock = || words.takes_lock || cx.calls_guard_helper(body);
                if !(words.awaits && takes_lock()) {
                    continue;
                }
                // Where the team allowed clippy's `await_holding_lock`, it decided.
                let allowed =
                    allowed.get_or_insert_with(|| super::clippy_allowed_lines(&file.ast, "await_holding_lock"));
                let imports = cx.symbols.imports_in(&file.source.module, &inline_modules);
                let tracker = Guards::of(body, cx.lock_places())
                    .in_file(&file.source.display)
                    .in_impl_of(self_type.as_deref())
                    .with_imports(imports.as_ref());
                for flow in flow::analyze(body, &tracker, edition) {
                    let mut reported = HashSet::new();
                    for event in &flow.events {
                        let EventKind::Await(live) = &event.kind else { continue };
                        for &id in live {
                            if !reported.insert(id) {
                                continue;
                            }
                            if allowed.iter().any(|&(a, b)| (a..=b).contains(&event.at.line)) {
                                continue;
                            }
                            let value = &flow.values[id];
                            let at = Region {
                                start: event.at,
                                end: crate::source::Position { line: event.at.line, column: event.at.column + 5 },
                            };
                            out.push(finding(file, at, value, awaited_here(&file.source.text, event.at)));
                        }
                    }
                }
            }
        }
    }
}

/// What waits at `at` (a 1-based column): an `.await`, or a `select!` (which awaits
/// its branches).
fn awaited_here(text: &str, at: crate::source::Position) -> &'static str {
    let line = text.lines().nth(at.line.saturating_sub(1)).unwrap_or_default();
    let rest: String = line.chars().skip(at.column.saturating_sub(1)).take(5).collect();
    if rest == "await" {
        "`.await`"
    } else {
        "`select!`"
    }
}

fn finding(file: &crate::parse::ParsedFile, at: Region, guard: &flow::Value, awaited: &str) -> Finding {
    let held = match guard.names.last() {
        Some(name) => format!("`{name}`, the {}", guard.what),
        None => format!("the {} (a temporary)", guard.what),
    };
    Finding {
        rule: NAME,
        severity: Severity::Warning,
        file: file.source.clone(),
        region: at,
        message: format!("{held} taken at line {} is alive across this {awaited}", guard.made.start.line),
        label: "the task can be suspended here holding a blocking lock: every thread that wants it blocks".into(),
        help: Some(
            "end the guard before the `.await` (scope it in a block or `drop` it), or take the lock after the await; if it must be held across, use an async-aware lock (`tokio::sync::Mutex`)".into(),
        ),
        related: vec![Related { file: file.source.clone(), region: guard.made, message: "the guard is taken here".into() }],
    }
}
