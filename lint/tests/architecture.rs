//! Imports point one way (ARCHITECTURE.md): no module of the lint or the profiler names,
//! through `crate::`, a module that names it back, directly or through others.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// For each top-level module of a crate's `src/`, the top-level modules it names.
fn module_graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("source folder").flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if !path.extension().is_some_and(|e| e == "rs") {
                continue;
            }
            let rel = path.strip_prefix(src).expect("under src");
            let top =
                rel.iter().next().and_then(|c| c.to_str()).unwrap_or_default().trim_end_matches(".rs").to_string();
            if top == "lib" || top == "main" {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("source file");
            let names = graph.entry(top.clone()).or_default();
            for (i, _) in text.match_indices("crate::") {
                let rest = &text[i + "crate::".len()..];
                let name: String = rest.chars().take_while(|c| c.is_ascii_lowercase() || *c == '_').collect();
                if !name.is_empty() && name != top {
                    names.insert(name);
                }
            }
        }
    }
    graph
}

fn cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut found = path[at..].to_vec();
            found.push(node.to_string());
            return Some(found);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(found) = visit(next, graph, path, done) {
                return Some(found);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph.keys().find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

#[test]
fn no_module_cycles_in_the_lint_or_the_profiler() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace");
    for krate in ["lint", "profiler", "report"] {
        let graph = module_graph(&root.join(krate).join("src"));
        assert!(graph.len() > 1 || krate == "report", "{krate}: no modules found");
        assert_eq!(cycle(&graph), None, "{krate}: modules import each other in a cycle");
    }
}

#[test]
fn the_cycle_check_can_fail() {
    let graph: BTreeMap<String, BTreeSet<String>> =
        [("a".to_string(), BTreeSet::from(["b".to_string()])), ("b".to_string(), BTreeSet::from(["a".to_string()]))]
            .into_iter()
            .collect();
    assert_eq!(cycle(&graph), Some(vec!["a".to_string(), "b".to_string(), "a".to_string()]));
}
