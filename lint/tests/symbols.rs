//! Conformance of the symbol table alone: each folder in `tests/symbols/` is a small
//! crate for one rule of Rust's name resolution. A probe is a type alias named
//! `Probe…` whose trailing comment says what its type's path names:
//!
//! ```text
//! type ProbeX = a::b::C; // => crate::a::b::C | extern std::fs::File | unknown
//! ```
//!
//! `crate::X (N forms)` says the item has N definitions under `#[cfg]` alternatives.

use lockscope_lint::discover::{discover, Scope};
use lockscope_lint::parse::{parse, ParsedFile};
use lockscope_lint::source::SourceFile;
use lockscope_lint::symbols::{CrateInfo, DefKind, Resolved, Symbols};
use std::path::Path;
use std::sync::Arc;

fn describe(symbols: &Symbols<'_>, resolved: &Resolved) -> String {
    match resolved {
        Resolved::Def(id) => {
            let def = symbols.def(*id);
            // Items of a workspace dependency show its module tree (`dep/util::…`).
            let root = if &*def.module.target == "src" { "crate".to_string() } else { def.module.target.to_string() };
            let mut path = vec![root];
            path.extend(def.module.segments.iter().cloned());
            path.push(def.name.clone());
            let forms = symbols.forms(*id).count();
            let shown = path.join("::");
            if forms > 1 {
                format!("{shown} ({forms} forms)")
            } else {
                shown
            }
        }
        Resolved::External(path) => format!("extern {}", path.join("::")),
        Resolved::Unknown => "unknown".into(),
    }
}

/// (probe, expected, actual) for every probe of one case (a crate, or a workspace).
fn probe_case(dir: &Path) -> Vec<(String, String, String)> {
    let scope = Scope::Workspace { manifest_path: Some(dir.join("Cargo.toml")) };
    let discovered = discover(&scope).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    discovered.packages.iter().flat_map(probe_package).collect()
}

fn probe_package(package: &lockscope_lint::discover::PackageInput) -> Vec<(String, String, String)> {
    let files: Vec<ParsedFile> = package
        .files
        .iter()
        .map(|input| {
            let text = std::fs::read_to_string(&input.path).expect("case file");
            let source =
                Arc::new(SourceFile::new(input.path.clone(), input.display.clone(), input.module.clone(), true, text));
            parse(&source, package.edition).unwrap_or_else(|e| panic!("{}: {}", input.display, e.message))
        })
        .collect();
    let dependencies = package.dependencies.iter().map(|d| (d.name.clone(), d.target.clone(), d.edition)).collect();
    let info = CrateInfo { lib_name: package.lib_name.clone(), edition: package.edition, dependencies };
    let symbols = Symbols::build(&files, info);
    let mut probes = Vec::new();
    for def in &symbols.defs {
        let DefKind::Alias(alias) = def.kind else { continue };
        if !def.name.starts_with("Probe") {
            continue;
        }
        if !files[def.file].source.report {
            continue;
        }
        let syn::Type::Path(ty) = &*alias.ty else { panic!("{}: a probe names a path", def.name) };
        let line = alias.ident.span().start().line;
        let text = files[def.file].source.line_text(line);
        let expected = text.split_once("// => ").map(|(_, e)| e.trim().to_string()).expect("probe annotation");
        let actual = describe(&symbols, &symbols.resolve_path(&def.module, &ty.path));
        probes.push((format!("{}: {}", files[def.file].source.display, def.name), expected, actual));
    }
    probes
}

#[test]
fn every_probe_names_what_rustc_would() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/symbols");
    let mut cases: Vec<_> = std::fs::read_dir(&root).expect("cases").flatten().map(|e| e.path()).collect();
    cases.sort();
    let (mut checked, mut wrong) = (0, Vec::new());
    for case in cases.iter().filter(|c| c.is_dir()) {
        let probes = probe_case(case);
        assert!(!probes.is_empty(), "{}: no probes", case.display());
        for (probe, expected, actual) in probes {
            checked += 1;
            if expected != actual {
                wrong.push(format!("{probe}: expected `{expected}`, got `{actual}`"));
            }
        }
    }
    assert!(wrong.is_empty(), "{} of {checked} probes wrong:\n{}", wrong.len(), wrong.join("\n"));
    assert!(checked >= 30, "only {checked} probes");
}
