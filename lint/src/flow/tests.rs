//! The engine alone: for small bodies, the events it finds, one per line, pinned by
//! snapshots (like ruff's control-flow tests). The tracker follows lock guards.

use super::{analyze, analyze_sharing, EventKind, Flow, Origin, Root, RootKind, Sharer, Tracker};
use crate::manifest::Edition;

struct Guards;

impl Tracker for Guards {
    fn makes(&self, expr: &syn::Expr) -> Option<String> {
        let syn::Expr::MethodCall(m) = expr else { return None };
        crate::vocab::acquire(&m.method.to_string(), m.args.len()).map(|_| format!("guard `{}`", m.method))
    }

    fn guards_closures(&self, expr: &syn::Expr) -> Option<String> {
        let syn::Expr::MethodCall(m) = expr else { return None };
        (m.method == "with_lock").then(|| "guard `with_lock`".into())
    }

    fn watches(&self, expr: &syn::Expr) -> Option<String> {
        if let syn::Expr::MethodCall(m) = expr {
            return (m.method == "join" && m.args.is_empty()).then(|| "JoinHandle::join".into());
        }
        let syn::Expr::Call(c) = expr else { return None };
        let syn::Expr::Path(p) = &*c.func else { return None };
        (p.path.segments.last()?.ident == "read_to_string").then(|| "std::fs::read_to_string".into())
    }
}

fn describe(flow: &Flow, id: usize) -> String {
    let value = &flow.values[id];
    match value.names.last() {
        Some(name) => format!("v{id} {name}"),
        None => format!("v{id}"),
    }
}

/// The events of `body` (a block's contents), `line:column kind`.
fn events(body: &str, edition: Edition) -> String {
    let block: syn::Block = syn::parse_str(&format!("{{\n{body}\n}}")).expect("test body parses");
    render(&analyze(&block, &Guards, edition), &[])
}

/// Follows `Arc::new(..)` locals and the parameters `buf` (a buffer), `tx` and `self`
/// (reaching other threads, `self.tasks` a buffer field).
struct Buffers;

impl Sharer for Buffers {
    fn local_root(&self, init: &syn::Expr, _ty: Option<&syn::Type>) -> Option<RootKind> {
        let syn::Expr::Call(c) = init else { return None };
        let syn::Expr::Path(p) = &*c.func else { return None };
        (p.path.segments.first()?.ident == "Arc").then_some(RootKind::Buffer)
    }

    fn publishes(&self, _receiver: &syn::Expr, root: Option<&Root>) -> bool {
        root.is_some()
    }

    fn spawns_arguments(&self, callee: &str) -> Option<&[usize]> {
        (callee == "start_reader").then_some(&[0])
    }
}

/// The events of `body` with places followed: uses of them and the work sharing them.
fn sharing_events(body: &str) -> String {
    let block: syn::Block = syn::parse_str(&format!("{{\n{body}\n}}")).expect("test body parses");
    let root = |name: &str, kind, origin, parent| Root { name: name.into(), kind, origin, parent, loop_depth: 0 };
    let roots = vec![
        root("buf", RootKind::Buffer, Origin::Param, None),
        root("tx", RootKind::Reaches, Origin::Param, None),
        root("self", RootKind::Reaches, Origin::Param, None),
        root("self.tasks", RootKind::Buffer, Origin::Field, Some(2)),
    ];
    let (flows, roots) = analyze_sharing(&block, &Guards, &Buffers, Edition::E2021, roots);
    let names: Vec<String> = roots.iter().map(|r| r.name.clone()).collect();
    render(&flows, &names)
}

fn render(flows: &[Flow], roots: &[String]) -> String {
    let mut out = Vec::new();
    for (n, flow) in flows.iter().enumerate() {
        if n > 0 {
            out.push(format!("-- nested body {n}"));
        }
        for event in &flow.events {
            let at = format!("{}:{}", event.at.line - 1, event.at.column);
            let line = match &event.kind {
                EventKind::Made(id) => format!("{at} made {} ({})", describe(flow, *id), flow.values[*id].what),
                EventKind::Bound(id, name) => format!("{at} bound v{id} to {name}"),
                EventKind::Await(live) => {
                    let live: Vec<String> = live.iter().map(|id| describe(flow, *id)).collect();
                    format!("{at} await, alive: [{}]", live.join(", "))
                }
                EventKind::Watched(watch) => {
                    let live: Vec<String> = watch.live.iter().map(|id| describe(flow, *id)).collect();
                    let worked_on: Vec<String> = watch.worked_on.iter().map(|id| describe(flow, *id)).collect();
                    let worked_on = if worked_on.is_empty() {
                        String::new()
                    } else {
                        format!(", worked on: [{}]", worked_on.join(", "))
                    };
                    format!("{at} {}, alive: [{}]{worked_on}", watch.call, live.join(", "))
                }
                EventKind::Dropped(id, why) => format!("{at} dropped {} ({why:?})", describe(flow, *id)),
                EventKind::Shared(id) => {
                    let work = flow.values[*id].work.as_ref().expect("shared values are work");
                    let shared: Vec<&str> = work.roots.iter().map(|r| roots[*r].as_str()).collect();
                    let body = work.body.map(|b| format!(", body {b}")).unwrap_or_default();
                    format!("{at} shared {} {:?} [{}]{body}", describe(flow, *id), work.kind, shared.join(", "))
                }
                EventKind::Used(u) => {
                    let live: Vec<String> = u.live.iter().map(|id| describe(flow, *id)).collect();
                    format!(
                        "{at} use {} {:?} [{}] {:?} loop {} alive [{}]",
                        roots[u.root],
                        u.via,
                        u.chain.join("."),
                        u.context,
                        u.loop_depth,
                        live.join(", ")
                    )
                }
            };
            out.push(line);
        }
    }
    out.join("\n")
}

#[test]
fn a_bound_guard_lives_to_the_end_of_its_scope() {
    insta::assert_snapshot!(events("let g = m.lock().unwrap();\nwork().await;\nlet n = g.len();", Edition::E2021));
}

#[test]
fn drop_and_inner_blocks_end_a_guard_before_the_await() {
    insta::assert_snapshot!(events(
        "let g = m.lock().unwrap();\nlet n = g.len();\ndrop(g);\nwork().await;\n{\n    let h = m.lock().unwrap();\n    h.push(1);\n}\nwork().await;",
        Edition::E2021
    ));
}

#[test]
fn a_statement_temporary_dies_at_its_semicolon() {
    insta::assert_snapshot!(events(
        "let n = m.lock().unwrap().len();\nwork().await;\nsend(m.lock().unwrap().clone(), x).await;",
        Edition::E2021
    ));
}

#[test]
fn a_tuple_dropped_drops_each_of_its_names() {
    insta::assert_snapshot!(events(
        "let g = m.lock().unwrap();\nlet h = n.lock().unwrap();\ndrop((g, h));\nwork().await;\nlet k = m.lock().unwrap();\ndrop((x, y));\nwork().await;",
        Edition::E2021
    ));
}

#[test]
fn each_operand_of_a_lazy_boolean_drops_its_temporaries() {
    insta::assert_snapshot!(events(
        "let a = !m.lock().unwrap().is_empty() || ready().await;\nlet b = ok && m.lock().unwrap().len() == count().await;\nif let Some(x) = m.lock().unwrap().first() && ok {\n    x.go().await;\n}\nwhile let Some(y) = q.lock().unwrap().pop() && ready {\n    y.run().await;\n}\nafter().await;",
        Edition::E2024
    ));
}

#[test]
fn scrutinee_temporaries_live_through_the_arms() {
    insta::assert_snapshot!(events(
        "match m.lock().unwrap().pop() {\n    Some(x) => x.finish().await,\n    None => {}\n}\nif let Some(x) = m.lock().unwrap().first() {\n    x.go().await;\n} else {\n    other().await;\n}",
        Edition::E2021
    ));
}

#[test]
fn edition_2024_drops_if_let_temporaries_before_else() {
    insta::assert_snapshot!(events(
        "if let Some(x) = m.lock().unwrap().first() {\n    x.go();\n} else {\n    other().await;\n}",
        Edition::E2024
    ));
}

#[test]
fn while_let_condition_in_a_block_ends_before_the_body() {
    insta::assert_snapshot!(events(
        "while let Some(x) = { let g = m.lock().unwrap(); g.pop() } {\n    x.run().await;\n}\nwhile let Some(x) = m.lock().unwrap().pop() {\n    x.run().await;\n}",
        Edition::E2021
    ));
}

#[test]
fn moves_shadowing_tuples_and_branches() {
    insta::assert_snapshot!(events(
        "let g = m.lock().unwrap();\nlet g = &*g;\nwork().await;\nlet pair = (m.lock().unwrap(), 1);\nif c { consume(pair); return; }\nwork().await;",
        Edition::E2021
    ));
}

#[test]
fn async_blocks_and_closures_are_bodies_of_their_own() {
    insta::assert_snapshot!(events(
        "let g = m.lock().unwrap();\nlet fut = async move { g.len(); work().await };\nlet f = || { let h = m.lock().unwrap(); h.len() };\nfut.await;",
        Edition::E2021
    ));
}

#[test]
fn watched_calls_see_the_live_guards() {
    insta::assert_snapshot!(events(
        "let g = cache.lock().unwrap();\nlet text = std::fs::read_to_string(path)?;\ndrop(g);\nlet again = std::fs::read_to_string(path)?;",
        Edition::E2021
    ));
}

#[test]
fn a_watched_call_on_a_part_of_the_guarded_value_works_on_its_guard() {
    insta::assert_snapshot!(events(
        "let g = workers.lock().unwrap();\nif let Some(h) = g.take() {\n    h.join();\n}\nother.join();",
        Edition::E2021
    ));
}

#[test]
fn a_part_taken_out_of_the_guarded_value_stays_its_own_when_moved_into_a_call() {
    // `h` is taken out: what it is moved into (`w`) is still the guarded value's. `c` is
    // a copy: what it is moved into (`v`) is not.
    insta::assert_snapshot!(events(
        "let mut g = slot.lock().unwrap();\nlet h = g.take().unwrap();\nlet w = Wrapper::new(h, 1);\nw.join();\nlet c = g.name.clone();\nlet v = Wrapper::new(c, 1);\nv.join();",
        Edition::E2021
    ));
}

#[test]
fn a_call_running_its_closure_under_a_guard_holds_it_until_it_returns() {
    insta::assert_snapshot!(events(
        "let n = m.with_lock(|v| v.len());\nlet a = read_to_string(p);\nm.with_lock(|v| read_to_string(p));",
        Edition::E2021
    ));
}

#[test]
fn a_guard_moved_into_an_async_block_is_alive_across_its_awaits() {
    insta::assert_snapshot!(events(
        "let g = m.lock().unwrap();\ntokio::spawn(async move {\n    g.len();\n    work().await;\n});",
        Edition::E2021
    ));
}

#[test]
fn a_plain_while_condition_drops_its_temporaries_before_the_body() {
    insta::assert_snapshot!(events("while m.lock().unwrap().is_none() {\n    tick().await;\n}", Edition::E2021));
}

#[test]
fn spawned_work_shares_copies_until_joined() {
    insta::assert_snapshot!(sharing_events(
        "let data = Arc::new(Mutex::new(Vec::new()));\nlet copy = data.clone();\nlet h = thread::spawn(move || copy.lock().unwrap().push(1));\nlet n = data.lock().unwrap().len();\nh.join().unwrap();\ndata.lock().unwrap().len()"
    ));
}

#[test]
fn published_copies_and_their_refutation() {
    insta::assert_snapshot!(sharing_events(
        "tx.send(buf.clone()).unwrap();\nif buf.lock().is_empty() { return; }\nlet stored = self.tasks.entry(k).or_insert_with(|| buf.clone()).clone();\nif !Arc::ptr_eq(&stored, &buf) {\n    buf.lock().clear();\n}"
    ));
}

#[test]
fn loops_channels_and_collections_of_handles() {
    insta::assert_snapshot!(sharing_events(
        "let (tx2, rx) = channel();\nlet mut handles = Vec::new();\nfor i in 0..4 {\n    *buf.lock() += i;\n    let (b, tx2) = (buf.clone(), tx2.clone());\n    handles.push(thread::spawn(move || { b.lock().push(i); tx2.send(()) }));\n}\nrx.recv();\nfor h in handles { h.join(); }\nassert_eq!(buf.lock().len(), 4);"
    ));
}

#[test]
fn shadowed_copies_awaited_handles_arrays_of_handles_and_permits() {
    // `let buf = buf.clone();` copies the outer `buf`; each awaited `h` is one of the
    // handles; `[a, b]` holds both; a wait for all of `sem`'s permits hears the work that
    // holds one.
    insta::assert_snapshot!(sharing_events(
        "let mut hs = Vec::new();\nfor i in 0..2 {\n    let buf = buf.clone();\n    hs.push(tokio::spawn(async move { buf.lock().push(i) }));\n}\nfor h in hs { h.await; }\nlet a = { let buf = buf.clone(); thread::spawn(move || buf.lock().push(1)) };\nlet b = { let buf = buf.clone(); thread::spawn(move || buf.lock().push(2)) };\nfor h in [a, b] { h.join(); }\nlet permit = sem.clone().acquire_owned().await;\nlet buf2 = buf.clone();\ntokio::spawn(async move { buf2.lock().push(3); drop(permit) });\nsem.acquire_many(4).await;\nbuf.lock().len()"
    ));
}

#[test]
fn pointers_summaries_and_failed_spawns() {
    insta::assert_snapshot!(sharing_events(
        "let mut v = vec![0u8; 8];\nlet p = SendPtr(v.as_mut_ptr());\nthread::spawn(move || unsafe { *p.0 = 1 });\nv[0] = 2;\nlet r = start_reader(buf.clone());\nmatch thread::Builder::new().spawn(move || ()) {\n    Ok(h) => { h.join(); }\n    Err(_) => { buf.lock().clear(); }\n}\nlet this = self.clone();\ntokio::spawn(async move { this.tasks.remove(&1) });\nself.tasks.insert(1, r);"
    ));
}

#[test]
fn a_guard_bound_in_a_match_arm_ends_with_the_match() {
    insta::assert_snapshot!(events(
        "match m.write() {\n    Ok(mut sim) => sim.push(1),\n    Err(_) => {}\n}\nwork().await;\nlet s = match m.lock() {\n    Ok(g) => g,\n    Err(e) => e.into_inner(),\n};\nwork().await;",
        Edition::E2021
    ));
}

#[test]
fn an_if_let_binding_and_a_spawned_block_do_not_extend_a_guard() {
    insta::assert_snapshot!(events(
        "if let Ok(mut g) = m.write() {\n    g.push(1);\n}\nwork().await;\nlet state = m.lock().unwrap();\ntokio::spawn(async move {\n    work().await;\n    let mut state = m.lock().unwrap();\n});\nlet moved = m.lock().unwrap();\ntokio::spawn(async move {\n    let moved = moved;\n    work().await;\n});",
        Edition::E2021
    ));
}

#[test]
fn a_failed_try_lock_holds_nothing_in_the_else_branch() {
    insta::assert_snapshot!(events(
        "if let Ok(guard) = m.try_lock() {\n    guard.len();\n} else {\n    let g = m.lock().await;\n}\nif let Some(x) = m.lock().unwrap().first() {\n    x.go();\n} else {\n    other().await;\n}",
        Edition::E2021
    ));
}

#[test]
fn a_failed_or_poisoned_acquisition_holds_nothing_on_its_failure_path() {
    insta::assert_snapshot!(events(
        "match m.lock() {\n    Ok(g) => g.len(),\n    Err(_) => std::fs::read_to_string(p),\n}\nif let Ok(g) = m.lock() {\n    g.len();\n} else {\n    std::fs::read_to_string(p);\n}\nmatch m.lock() {\n    Err(_) => 0,\n    Ok(g) => std::fs::read_to_string(p),\n}",
        Edition::E2021
    ));
}

#[test]
fn a_moved_block_takes_what_it_uses_before_binding_it() {
    let names = super::captured_names(
        "let x = x . lock () ; let state = shared . state . lock () ; work (state) ; other . field ; g",
    );
    // Keywords come along (`let`): no live value has their name, so they take nothing.
    assert_eq!(names, ["let", "x", "shared", "work", "other", "g"]);
}

#[test]
fn a_combinators_closure_runs_under_the_callers_guards_a_callback_does_not() {
    insta::assert_snapshot!(events(
        "let mut g = cache.lock().unwrap();\nlet v = g.entry(k).or_insert_with(|| std::fs::read_to_string(k).unwrap());\nhooks.register(move || std::fs::read_to_string(k));\ndrop(g);\nlet t = Some(1).map(|_| m.lock().unwrap().len()).unwrap_or(0) + std::fs::read_to_string(k).len();\nlet n = m.lock().map(|g| g.len()).unwrap_or(0) + std::fs::read_to_string(k).len();",
        Edition::E2021
    ));
}

#[test]
fn a_let_else_drops_its_initializers_temporaries_before_the_else() {
    insta::assert_snapshot!(events(
        "let Some(v) = pick(&m.lock().unwrap()) else {\n    tick().await;\n    return;\n};\nwork().await;",
        Edition::E2021
    ));
}

#[test]
fn a_method_call_finds_only_a_methods_summary() {
    let file: syn::File = syn::parse_str(
        "impl Pool { fn start(&self, job: Job) { std::thread::spawn(move || job.run()); } }\n\
         impl Worker { fn launch(buf: Buf) { std::thread::spawn(move || buf.fill()); } }\n\
         fn test() { fn send(tx: Tx, i: u32) { std::thread::spawn(move || tx.send(i)); } }",
    )
    .expect("test file parses");
    let summaries = super::SpawnSummaries::of(std::iter::once((&file, true)));
    // `pool.start(job)`: the one method of that name.
    assert_eq!(summaries.method_arguments("start"), Some(&[0][..]));
    // `tx.send(x)` is no call of the nested `fn send`, nor `w.launch(b)` of `Worker::launch`.
    assert_eq!(summaries.method_arguments("send"), None);
    assert_eq!(summaries.method_arguments("launch"), None);
    // As paths they are: `send(tx, 0)`, `Worker::launch(b)`.
    assert_eq!(summaries.arguments("send"), Some(&[0, 1][..]));
    assert_eq!(summaries.arguments("Worker::launch"), Some(&[0][..]));
}
