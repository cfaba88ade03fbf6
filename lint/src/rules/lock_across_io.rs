//! # lock_across_io
//!
//! Flags blocking work (disk, network, a subprocess, a sleep, a blocking receive or
//! join, decompression) done while a lock's guard is alive.
//!
//! ## Why is this bad?
//!
//! Every other thread that wants the lock waits for the disk, the network or the
//! inflater, not for the few instructions the lock protects. A cache filled under its
//! lock by reading files turns a fast lookup into a queue behind the slowest read; a
//! sleep under a lock stalls everyone for the whole sleep.
//!
//! ## Example
//!
//! ```text
//! fn get(&self, key: &str) -> Vec<u8> {
//!     let mut cache = self.cache.lock().unwrap();
//!     cache.entry(key.into()).or_insert_with(|| std::fs::read(key).unwrap()).clone()
//! }
//! ```
//!
//! ## Use instead
//!
//! Copy what you need out of the guard and drop it before the blocking call, or fill the
//! cache in two steps: look up under the lock, do the I/O unlocked, insert under the lock.
//!
//! ```text
//! fn get(&self, key: &str) -> Vec<u8> {
//!     if let Some(hit) = self.cache.lock().unwrap().get(key) {
//!         return hit.clone();
//!     }
//!     let bytes = std::fs::read(key).unwrap();
//!     self.cache.lock().unwrap().insert(key.into(), bytes.clone());
//!     bytes
//! }
//! ```
//!
//! ## What counts
//!
//! Blocking work: `std::fs` functions, `File::open`/`create`, `OpenOptions::open`,
//! `TcpStream::connect`, `reqwest::blocking`, `ureq`, `Command::output`/`status`,
//! waiting on a spawned child, `thread::sleep`, a blocking `recv()` (not a select arm's
//! `recv(&rx)`) or `JoinHandle::join`, running a future to completion (`rt.block_on(f)`,
//! `futures::executor::block_on(f)`: the thread waits for what the future waits for),
//! `zstd::decode_all` and reading a `…Decoder` to its end; reads and writes on another file or socket (a local opened with
//! `File::open`/`create`, `OpenOptions::open`, a `BufReader`/`BufWriter` of one, a
//! parameter typed `File`; a `TcpStream::connect`ed stream; a bound `UdpSocket`'s
//! `recv`/`recv_from`/`send_to`/`peek`); a `Command` or a spawned child kept in a local
//! (`cmd.output()`, `child.wait()`), a blocking HTTP client or agent kept in one
//! (`client.get(u).send()` of a `reqwest::blocking::Client`, `agent.get(u).call()` of
//! `ureq`); reads of an inflater bound to a local
//! (`let mut d = ZlibDecoder::new(buf); d.read_to_end(..)`, a file of a
//! `ZipArchive::new(..)`), and `io::copy` from any of these. Paths are read through the
//! file's `use` declarations: `slurp(p)` after `use std::fs::read_to_string as slurp;`
//! blocks, and `tokio::fs`, `async_std` and other async runtimes' calls (futures) do not.
//! An awaited call (`tokio::time::sleep(d).await`)
//! is not blocking, nor is binding a `UdpSocket` (a local call that waits on no network).
//! Work in a closure counts where a standard combinator runs it before returning
//! (`entry(k).or_insert_with(|| fs::read(k))`, `opt.map(..)`, `v.retain(..)`), and so does
//! a blocking function given to one by its path (`h.map(JoinHandle::join)`), and a closure
//! given to a function of the package that runs it under a lock it takes
//! (`self.with_peers(|p| fs::read(&p[&id]))` with `fn with_peers<F: FnOnce(&Peers) -> T>(&self,
//! f: F) -> T { f(&self.peers.read()) }`: the guard of `self.peers` is alive in the
//! closure); a closure handed to anything else (a callback kept for later, a pool's job)
//! is not followed. The
//! guard's liveness comes from the flow engine (`lint/src/flow`): a statement temporary
//! (`m.lock().unwrap().len()`) is gone by the next statement, `drop(guard)` ends it.
//!
//! Not flagged:
//!
//! - Work nobody else can be waiting through: tests (`#[test]` functions,
//!   `#[cfg(test)]` modules, modules named `test`/`tests`, `tests/`, `test/`), which
//!   hold locks across sleeps and joins on purpose to make contention, and the helpers
//!   tests share (`test_util` modules, a package named `test_…` or kept in a
//!   `testing/` or `tests/` folder of the repository); `benches/`, `examples/`
//!   (targets, or packages in such folders), `demo` and `benchmarks` modules, build
//!   scripts and procedural macros (`[lib] proc-macro = true`: the compiler runs them,
//!   the program never does), programs run alone or to show the code at work; locks a function makes
//!   for itself (`Mutex::new`, or in a new `Arc`) and shares with no thread (no spawn,
//!   scope or parallel iterator there: the futures that borrow them run only when it
//!   polls them, never while it blocks); and functions that run while their object is
//!   built or torn down by one thread: constructors (an associated function returning
//!   `Self`), `Drop::drop`, and the helpers only those call (a call from a closure or
//!   from any other function counts as a call from anywhere). A global (`static`) lock
//!   is still flagged there: other threads reach it. And the methods of a value that
//!   never leaves the thread that makes it, on its own lock fields (`cache: Mutex<…>`,
//!   not an `Arc` of one): a `pub(crate)` (or narrower) type that is only made by its own
//!   functions, bound to locals and lent down by reference, never put inside another
//!   type (`Arc<Ctx>`, a field, a static), given no trait beyond the derivable ones, and
//!   named by no function that starts a thread or makes a `move` closure or an async
//!   block (`lint/src/flow/one_thread.rs`). A local
//!   lock whose `Arc` is cloned is shared, whether or not a spawn is in sight.
//! - Work the lock exists to order: a lock around `()` (`Mutex<()>`), or one whose value
//!   no code of the package uses (each of its guards bound to a `_` name: a placeholder
//!   `Mutex<u8>` held by `let _lock = LOCK.lock()`), or around an I/O handle
//!   (`Mutex<File>`, `Mutex<BufWriter<File>>`, a socket, a child, a writer, a package
//!   type holding one: `enum Output { Memory(Vec<u8>), File(File) }`); I/O on the
//!   guarded value itself (`file.lock().write_all(..)`, a thread handle taken out of it
//!   and joined, or a channel reached through it
//!   or through a guard taken from it: `vmm.vcpus().handle(i).replies.recv()`; a future
//!   run to completion that works on it: `rt.block_on(sink.lock().send(m))`, or on a part
//!   taken out of it and moved into the work (`let col = slot.take()?;
//!   rt.block_on(Abortable::new(col.upload(), reg))`: the slot stays empty until the work
//!   is done, so its other users wait for that work either way; a copy moved in,
//!   `slot.path.clone()`, is not the guarded value); reads of
//!   a guarded `Read + Seek` value are `mutex_read_seek`'s); the whole guarded value written to the file the
//!   call makes (`serde_json::to_writer(File::create(p)?, &*map)`, or serialized first,
//!   `let text = g.serialize(); fs::write(p, text)`: snapshots in order);
//!   a guarded `Option` filled once (`if g.is_none() { *g = Some(load()) }`,
//!   `if g.is_some() { return; }` and then the filling, `g.get_or_insert_with(..)`:
//!   every waiter needs that one value, as with a `OnceLock`; a map filled key by key
//!   is flagged); a file or folder removed while the guarded registry of them changes
//!   (`refs.remove(&id)`, `usage.evict_lru()`), and a file created, written or renamed
//!   while the guarded value changes (`store.insert(k, v); fs::write(path(k), v)`, a
//!   write-through store), so disk and memory change together, in the lock's order.
//!   Reads are never the lock's own: a cache filled from the disk under its lock is
//!   flagged.
//! - Printing and logging (macros), work after the guard is dropped, work in a
//!   function that never returns (`-> !`: on its way to a panic or an exit) or in a panic
//!   hook (`std::panic::set_hook(Box::new(|info| ..))`: it runs while a thread panics), and work
//!   where the acquisition failed: a lost `try_lock`, or a poisoned lock's `Err` arm
//!   (`match m.lock() { Ok(g) => .., Err(_) => handle.join() }`), which runs only after a
//!   panic under the lock.
//!
//! A thread handle taken out of the guarded value and joined is reported after all when
//! the joined thread takes that same lock: the thread waits for the guard and the join
//! waits for the thread, a deadlock, constructors and `Drop` included. The message says
//! so: "`JoinHandle::join` waits for a thread that takes `self.0`, while the guard of
//! `self.0` (taken at line 92) is alive: each waits for the other". A thread counts when
//! a function of the file (of the same type's impls, for a field of `self`; any, for a
//! static; the joining function, for a local and its clones) spawns it with a closure
//! that takes the lock, on any clone of the value (`sp.0.read()`), or calls a function of
//! those that does (`sp.active()`), and keeps its handle under that lock
//! (`self.0.write().unwrap().handle = Some(thread)`) (`lint/src/flow/joined.rs`).
//!
//! ## Known limits
//!
//! - Blocking calls are recognised by their path (`fs::read`, `File::open`, through the
//!   `use` declarations of the file or of the inline module the body is in, not of a function body) and
//!   method names (`recv`, `join` with no argument), not by type: a crate's own method
//!   named `recv` that does not block would be reported, and a `Decoder::new` of any
//!   crate (`zstd`'s, `png`'s) is taken as an inflater.
//! - Blocking work inside the package's own functions is not followed: `self.load(k)`
//!   that reads a file, called under a guard, is not reported. Followed by name on real
//!   code, such calls were mostly the work the lock is there to order (a memo every
//!   caller waits for anyway, a file kept in step with the guarded map) or code only one
//!   thread runs: 14 true of 103 (BENCHMARKS.md, session 11).
//! - Locks are recognised by their acquisition's name (`lock()`, `read()`, `write()`)
//!   unless the receiver is declared as something else. Where the package gives a
//!   method of its own such a name (returning no guard), only receivers declared as
//!   locks count. `read()`/`write()` on what a call just made, naming no lock
//!   (`object::write::Object::new(..).write()`, which serializes), take no lock, unless
//!   the package declares that function to return one (`registry().write()`).
//! - Guards of async-aware locks are not followed. Guards handed out by the package's own
//!   functions are (`let config = config();` where `fn config() -> MutexGuard<'static, _>`),
//!   matched by name and number of arguments; one around `()` orders the work it is held
//!   for.
//! - Who else can want the lock is known only from the function's place in its
//!   object's life, by name, and from the types kept on one thread: a lock still private
//!   to one thread in other ways (a setup method with `&mut self` on a value not started
//!   yet, a `pub` type a binary never shares, a value reached only from callbacks of one
//!   runtime thread) is reported, and a
//!   constructor that shares its object before it is done (spawning a thread with a
//!   clone of it) is taken as alone. A helper's callers are matched by name, so a
//!   method of another type with the same name counts as a caller.
//! - A static is recognised by its `SHOUTING_CASE` name.
//! - A function of the package that runs a closure under a lock it takes is recognised
//!   when it hands the closure parameter a guard of a field of `self` or of a static
//!   (`f(&self.peers.read())`, or `let mut g = STATE.lock()?; f(&mut g)`), and only for
//!   a closure written at the call; one that locks through another wrapper
//!   (`self.0.access(f)`) or stores the closure for later is not.
//! - On real code, about 4 in 10 findings are locks that another thread does want at that
//!   moment (BENCHMARKS.md, sessions 12, 13, 15 and 16, on repositories new to the lint too); most
//!   of the rest are locks only one thread takes then, or locks that exist to order that
//!   very work, which depends on who runs the code. `--profile` ranks findings by the
//!   wait measured on their lock.
//! - A joined thread is known to take the lock only from the file that starts it and
//!   keeps its handle, by name: a thread that takes the lock through a function of
//!   another file, or another type, or whose handle is kept elsewhere, is not seen, and
//!   its join under the guard stays the lock's own work.
//!
//! Silence one finding with `// lockscope: allow(lock_across_io) reason` on the line or
//! the line above.

use super::{PackageContext, Rule};
use crate::diagnostic::{Finding, Related, Severity};
use crate::flow::guarded_work::GuardedWork;
use crate::flow::guards::{self, BodyWords, Guards};
use crate::flow::joined::{JoinedThreads, LockKey};
use crate::flow::{self, EventKind};
use crate::prefilter::Prefilter;
use crate::source::Region;
use crate::vocab;

pub struct LockAcrossIo;

const NAME: &str = "lock_across_io";

impl Rule for LockAcrossIo {
    fn name(&self) -> &'static str {
        NAME
    }

    fn doc(&self) -> String {
        super::module_doc(include_str!("lock_across_io.rs"))
    }

    fn prefilter(&self) -> Prefilter {
        Prefilter {
            any: vocab::GUARD_HELPER_WORDS,
            pairs: &[(vocab::LOCK_WORDS, vocab::BLOCKING_WORDS)],
            with_followed: vocab::BLOCKING_WORDS,
        }
    }

    // Locks a file takes are mostly declared beside their use; looking further costs more
    // than it finds (a `Mutex<()>` declared elsewhere is then taken as guarding data).
    // A file that calls a function handing out a guard (`data::get()`) needs no lock word.
    fn followed_names(&self, file: &syn::File, out: &mut Vec<String>) {
        guards::guard_helper_names(file, out);
    }

    fn needed_names(&self, _file: &syn::File, _out: &mut Vec<String>) {}

    fn check(&self, cx: &PackageContext<'_, '_>, out: &mut Vec<Finding>) {
        // Tests hold locks across sleeps and joins on purpose, to make contention: test
        // targets, test modules in files of their own (`src/tests/lock.rs`), and the
        // helpers tests share (`src/test_util/`, a `test_raftstore` package). Examples
        // and benches are programs run alone, to show or time the code.
        // A package kept in a test, bench or example folder of its repository
        // (`testing/simulator`, `examples/server`) is one too.
        let kept_aside = cx.folders.iter().any(|f| vocab::names_test_module(f) || vocab::names_demo_module(f));
        // A procedural macro runs inside the compiler: its locks are the expansion's, and
        // no thread of the program waits on them (its other targets are tests).
        if kept_aside || cx.proc_macro || cx.symbols.lib_name().is_some_and(vocab::names_test_support_package) {
            return;
        }
        let test_target = |f: &&crate::parse::ParsedFile| {
            let module = &f.source.module;
            let target = &*module.target;
            // A crate's own test folder by another name (`test/`, declared as a `[[test]]`);
            // a build script, which cargo runs once, alone.
            target.starts_with("test/")
                || target == "build"
                || target.starts_with("tests")
                || target.starts_with("benches")
                || target.starts_with("examples")
                || module
                    .segments
                    .iter()
                    .map(String::as_str)
                    // A file outside cargo's layout is named by its path (`bin/x/cmd/demo.rs`).
                    .chain(target.split('/').map(|c| c.strip_suffix(".rs").unwrap_or(c)))
                    .any(|s| vocab::names_test_module(s) || vocab::names_demo_module(s))
        };
        for file in cx.files.iter().filter(|f| f.source.report && !test_target(f)) {
            let edition = cx.symbols.edition_of(&file.source.module);
            let joined = std::cell::OnceCell::new();
            for guards::Body { sig, block: body, self_type, inline_modules } in guards::bodies(&file.ast, false) {
                let scopes = cx.symbols.imports_in(&file.source.module, &inline_modules);
                let imports = scopes.as_ref();
                let words = BodyWords::of_in(body, imports);
                let file_param =
                    || sig.inputs.iter().any(|i| matches!(i, syn::FnArg::Typed(pt) if guards::is_file_type(&pt.ty)));
                // A function that never returns (`-> !`) is on the way to a panic or an
                // exit: whoever waits on its locks is going down with it.
                let never_returns =
                    matches!(&sig.output, syn::ReturnType::Type(_, t) if matches!(**t, syn::Type::Never(_)));
                // A lock taken by calling a function that hands out its guard
                // (`self.state()`) is looked for only where something blocks.
                let takes_lock = || words.takes_lock || cx.calls_guard_helper(body);
                if never_returns || !((words.blocks || file_param()) && takes_lock()) {
                    continue;
                }
                // Built or torn down by one thread: only a global lock can be waited on.
                // Asked only of a guard that would be reported: the package's phases are
                // a walk of all its files.
                let alone = std::cell::OnceCell::new();
                let runs_alone = || *alone.get_or_init(|| cx.phases().runs_alone(file, sig));
                // Locks this code makes for itself and shares with no thread.
                let unshared = std::cell::OnceCell::new();
                let made_here = |what: &str| {
                    unshared.get_or_init(|| guards::unshared_local_locks(body)).contains(guards::lock_root(what))
                };
                // A method of a value no other thread ever reaches: its own locks.
                let kept_here = || cx.one_thread().lock_fields_of(file, sig);
                let on_this_thread = |what: &str| {
                    guards::self_field(what)
                        .is_some_and(|field| kept_here().is_some_and(|fields| fields.contains(field)))
                };
                let tracker = Guards::of(body, cx.lock_places())
                    .in_file(&file.source.display)
                    .in_impl_of(self_type.as_deref())
                    .with_imports(imports)
                    .watching_blocking_calls(sig, body);
                let guarded_work = std::cell::OnceCell::new();
                // A panic hook runs only while a thread panics, like a `-> !` function.
                let hooks = std::cell::OnceCell::new();
                let in_panic_hook = |at: crate::source::Position| {
                    hooks
                        .get_or_init(|| guards::panic_hooks(body))
                        .iter()
                        .any(|r: &Region| r.start <= at && at <= r.end)
                };
                for flow in flow::analyze(body, &tracker, edition) {
                    for event in &flow.events {
                        let EventKind::Watched(watch) = &event.kind else { continue };
                        if in_panic_hook(event.at) {
                            continue;
                        }
                        let (call, live) = (&watch.call, &watch.live);
                        // A thread joined with a handle taken out of the guarded value is
                        // the lock's own work, unless that thread takes the lock too: then
                        // each waits for the other. Not asked of constructors or `Drop`:
                        // the joined thread is the one waiting.
                        if call == vocab::JOIN_CALL {
                            let threads = joined.get_or_init(|| JoinedThreads::of(&file.ast));
                            let waits_for_us = |g: &&flow::Value| {
                                LockKey::of(&g.what).is_some_and(|lock| threads.take(sig, body, lock))
                            };
                            let deadlocked: Vec<&flow::Value> =
                                watch.worked_on.iter().map(|&id| &flow.values[id]).filter(waits_for_us).collect();
                            if let Some(finding) = deadlock(file, event.at, &deadlocked) {
                                out.push(finding);
                                continue;
                            }
                        }
                        let contended = |g: &&flow::Value| {
                            let own = g.names.last().and_then(|name| {
                                guarded_work.get_or_init(|| GuardedWork::of(body)).own_work(event.at, call, name)
                            });
                            own.is_none()
                                && !made_here(&g.what)
                                && (guards::on_static(&g.what) || !runs_alone())
                                && !on_this_thread(&g.what)
                        };
                        let guards: Vec<&flow::Value> =
                            live.iter().map(|&id| &flow.values[id]).filter(contended).collect();
                        if let Some(finding) = blocking(file, event.at, call, &guards) {
                            out.push(finding);
                        }
                    }
                }
            }
        }
    }
}

/// A join that waits for a thread which takes the lock of a guard alive at the join.
fn deadlock(file: &crate::parse::ParsedFile, at: crate::source::Position, guards: &[&flow::Value]) -> Option<Finding> {
    let message = |first: &flow::Value| {
        let lock = first.what.strip_prefix("guard of ").unwrap_or(&first.what);
        format!(
            "`{}` waits for a thread that takes {lock}, while {} is alive: each waits for the other",
            vocab::JOIN_CALL,
            held(first)
        )
    };
    let said = Said {
        label: "the joined thread waits for this guard, and this join for the thread",
        help: "take the handle out of the guard and drop the guard before joining (`let handle = guard.handle.take(); drop(guard);`)",
    };
    finding(file, at, guards, message, said)
}

/// A blocking call while guards of locks others may want are alive.
fn blocking(
    file: &crate::parse::ParsedFile,
    at: crate::source::Position,
    call: &str,
    guards: &[&flow::Value],
) -> Option<Finding> {
    let said = Said {
        label: "every thread that wants this lock waits for this call",
        help: "copy what you need out of the guard and drop it before the blocking call, or fill the cache in two steps (look up under the lock, do the work unlocked, insert under the lock)",
    };
    finding(file, at, guards, |first| format!("`{call}` runs while {} is alive", held(first)), said)
}

/// What a kind of finding says under its message.
struct Said {
    label: &'static str,
    help: &'static str,
}

/// How a finding names a guard: its lock, its binding and where it was taken.
fn held(g: &flow::Value) -> String {
    match g.names.last() {
        Some(name) => format!("the {} (`{name}`, taken at line {})", g.what, g.made.start.line),
        None => format!("the {} (taken at line {})", g.what, g.made.start.line),
    }
}

/// A finding at the call starting at `at`, its message about the first of `guards`, with
/// a note where each was taken; none without guards.
fn finding(
    file: &crate::parse::ParsedFile,
    at: crate::source::Position,
    guards: &[&flow::Value],
    message: impl FnOnce(&flow::Value) -> String,
    said: Said,
) -> Option<Finding> {
    let first = guards.first()?;
    let region = Region { start: at, end: crate::source::Position { line: at.line, column: at.column + 1 } };
    Some(Finding {
        rule: NAME,
        severity: Severity::Warning,
        file: file.source.clone(),
        region,
        message: message(first),
        label: said.label.into(),
        help: Some(said.help.into()),
        related: guards
            .iter()
            .map(|g| Related { file: file.source.clone(), region: g.made, message: "the guard is taken here".into() })
            .collect(),
    })
}
