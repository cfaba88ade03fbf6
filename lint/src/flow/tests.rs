//! The engine alone: for small bodies, the events it finds, one per line, pinned by
//! snapshots (like ruff's control-flow tests). The tracker follows lock guards.

use super::{analyze, EventKind, Flow, Tracker};
use crate::manifest::Edition;

struct Guards;

impl Tracker for Guards {
    fn makes(&self, expr: &syn::Expr) -> Option<String> {
        let syn::Expr::MethodCall(m) = expr else { return None };
        crate::vocab::acquire(&m.method.to_string(), m.args.len()).map(|_| format!("guard `{}`", m.method))
    }

    fn watches(&self, expr: &syn::Expr) -> Option<String> {
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
    let mut out = Vec::new();
    for (n, flow) in analyze(&block, &Guards, edition).iter().enumerate() {
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
                EventKind::Watched(what, live) => {
                    let live: Vec<String> = live.iter().map(|id| describe(flow, *id)).collect();
                    format!("{at} {what}, alive: [{}]", live.join(", "))
                }
                EventKind::Dropped(id, why) => format!("{at} dropped {} ({why:?})", describe(flow, *id)),
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
