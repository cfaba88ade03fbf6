//! `lockscope-lint`: finds lock-contention anti-patterns in Rust source without
//! compiling it (no build scripts, no proc macros: safe on untrusted code).
//!
//! Data flows one way: [`discover`] packages and files, load them and skip files that
//! cannot matter (a byte scan), [`parse`] the rest in parallel with `syn`, build the
//! package's [`symbols`], run the [`rules`], and [`render`] the findings.

pub mod config;
pub mod diagnostic;
pub mod discover;
pub mod flow;
pub mod input;
pub mod manifest;
pub mod parse;
pub mod prefilter;
pub mod profile;
pub mod prune;
pub mod render;
pub mod report;
pub mod rules;
pub mod source;
pub mod symbols;
pub mod uses;
pub mod vocab;

use aho_corasick::AhoCorasick;
use diagnostic::Finding;
use discover::{PackageInput, Scope};
use parse::ParsedFile;
use prefilter::WordFilter;
use rayon::prelude::*;
use rules::{PackageContext, Rule};
use source::{Position, Region, SourceFile};
use std::collections::{HashSet, VecDeque};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use symbols::{NameGraph, Symbols};

/// What to lint and how.
#[derive(Debug, Clone)]
pub struct LintOptions {
    pub scope: Scope,
    /// Only these rules; empty for all.
    pub rules: Vec<String>,
}

/// A run that could not be done: bad arguments, a missing path, no workspace (exit 2).
#[derive(Debug)]
pub struct RunError(pub String);

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RunError {}

/// Counters for `--stats`.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    /// Files found and read.
    pub files: usize,
    pub bytes: u64,
    /// Files that mentioned something a rule needs, and were parsed.
    pub parsed_files: usize,
    pub parsed_bytes: u64,
    /// Reading and byte scans, summed over worker threads.
    pub scan: Duration,
    /// Parsing, summed over worker threads.
    pub parse: Duration,
    /// Symbol tables and rules, summed over worker threads.
    pub analysis: Duration,
    /// Wall-clock time of the whole run.
    pub total: Duration,
    /// Files not linted because they are larger than `max_file_size`: (path, bytes).
    pub skipped_large: Vec<(String, u64)>,
    /// The deepest nesting of a parsed file ([`parse::nesting_depth`]).
    pub deepest_nesting: usize,
}

pub struct LintOutcome {
    /// Sorted by path and position; suppressed findings removed.
    pub findings: Vec<Finding>,
    pub stats: Stats,
    /// What relative paths in findings are relative to: the workspace root, or the
    /// current folder when PATHs were given.
    pub root: PathBuf,
}

impl LintOutcome {
    /// Distinct files with at least one finding.
    pub fn files_with_findings(&self) -> usize {
        self.findings.iter().map(|f| f.path()).collect::<HashSet<_>>().len()
    }
}

/// Rounds of loading definitions that parsed files need: a chain of package types
/// spread over more files than this is not followed further.
const MAX_PARSE_ROUNDS: usize = 6;

/// Stack size of the worker threads: `syn` and the rules recurse over the syntax
/// tree, and generated code can nest deeply (see [`parse::MAX_NESTING`]).
const WORKER_STACK: usize = 256 << 20;

pub fn lint(options: &LintOptions) -> Result<LintOutcome, RunError> {
    let (selected, only) = select_rules(&options.rules)?;
    let started = Instant::now();
    let discovered = discover::discover(&options.scope)?;
    let pool = rayon::ThreadPoolBuilder::new()
        .stack_size(WORKER_STACK)
        .build()
        .map_err(|e| RunError(format!("cannot start worker threads: {e}")))?;
    let mut outcome = pool.install(|| lint_packages(&selected, discovered.packages));
    if let Some(only) = only {
        outcome.findings.retain(|f| f.rule == only);
    }
    outcome.stats.total = started.elapsed();
    if let Some(root) = discovered.workspace_root {
        outcome.root = root;
    }
    Ok(outcome)
}

/// The rules to run for `--rule NAME…`, and the one rule to report when only
/// `syntax_error` was asked for: it is found by reading the files the other rules read,
/// so they all run and only its findings are kept. Files that cannot be read are always
/// reported: what was not read was not checked.
fn select_rules(names: &[String]) -> Result<(Vec<&'static dyn Rule>, Option<&'static str>), RunError> {
    let selected = names
        .iter()
        .map(|name| {
            rules::by_name(name).ok_or_else(|| RunError(format!("unknown rule `{name}`; {}", rules::known_list())))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if selected.iter().all(|r| r.name() == parse::SYNTAX_ERROR) {
        let only = (!selected.is_empty()).then_some(parse::SYNTAX_ERROR);
        return Ok((rules::all().to_vec(), only));
    }
    Ok((selected, None))
}

struct Parsed {
    file: ParsedFile,
    graph: NameGraph,
    needed: Vec<String>,
    /// Needed names whose own definitions' names are not needed in turn.
    needed_shallow: Vec<String>,
    /// Names this file defines that make other files worth parsing (see [`Rule::followed_names`]).
    followed: Vec<String>,
    /// Of a dependency's file, the names its kept items define and the names its `use`s
    /// bring in: a later round wanting only these needs no second reading.
    holds: HashSet<String>,
}

/// Lint packages already discovered (the engine behind [`lint`], also used by the
/// fixture tests).
pub fn lint_packages(rules: &[&'static dyn Rule], packages: Vec<PackageInput>) -> LintOutcome {
    let prefilter = WordFilter::new(rules.iter().map(|r| r.prefilter()));
    // `syn` trees are not `Send`: each package is loaded, parsed and checked on one thread.
    let results: Vec<(Vec<Finding>, Stats)> =
        packages.into_par_iter().map(|package| lint_package(rules, &prefilter, package)).collect();
    let mut stats = Stats::default();
    let mut findings = Vec::new();
    for (package_findings, package_stats) in results {
        findings.extend(package_findings);
        stats.files += package_stats.files;
        stats.bytes += package_stats.bytes;
        stats.parsed_files += package_stats.parsed_files;
        stats.parsed_bytes += package_stats.parsed_bytes;
        stats.scan += package_stats.scan;
        stats.parse += package_stats.parse;
        stats.analysis += package_stats.analysis;
        stats.skipped_large.extend(package_stats.skipped_large);
        stats.deepest_nesting = stats.deepest_nesting.max(package_stats.deepest_nesting);
    }
    stats.skipped_large.sort();
    findings.retain(|f| !diagnostic::is_suppressed(f));
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    findings.dedup_by(|a, b| a.sort_key() == b.sort_key() && a.message == b.message);
    LintOutcome { findings, stats, root: std::env::current_dir().unwrap_or_default() }
}

/// Load a package's files, parse the ones that can matter, and run the rules.
fn lint_package(rules: &[&'static dyn Rule], prefilter: &WordFilter, package: PackageInput) -> (Vec<Finding>, Stats) {
    let mut stats = Stats::default();
    let mut findings = Vec::new();
    let scan_started = Instant::now();
    let mut sources = Vec::new();
    let mut to_parse = Vec::new();
    let limit = package.config.max_file_size;
    for input in package.files {
        match input::read_regular(&input.path, limit).and_then(input::utf8) {
            Ok(text) => {
                // A dependency's files are parsed only for the names the crate needs.
                let dependency = input.module.is_dependency();
                if !dependency && prefilter.wants(text.as_bytes()) {
                    to_parse.push(sources.len());
                }
                if !dependency {
                    stats.bytes += text.len() as u64;
                    stats.files += 1;
                }
                let source = Arc::new(SourceFile::new(input.path, input.display, input.module, input.report, text));
                if source.report {
                    findings.extend(diagnostic::unknown_suppressions(
                        &source,
                        |name| rules::by_name(name).is_some(),
                        &rules::known_list(),
                    ));
                }
                sources.push(source);
            }
            Err(input::ReadError::TooLarge(_)) if input.report => {
                let size = std::fs::metadata(&input.path).map_or(0, |m| m.len());
                stats.skipped_large.push((input.display, size));
            }
            Err(err) if input.report => {
                stats.files += 1;
                findings.push(unreadable(input, limit, err));
            }
            Err(_) => {}
        }
    }
    stats.scan = scan_started.elapsed();

    // Parse in rounds: first the files a rule looks at, then the files that define the
    // names those need, until nothing new is needed.
    let mut parsed: Vec<Option<Parsed>> = sources.iter().map(|_| None).collect();
    let mut attempted = vec![false; sources.len()];
    let mut searched = HashSet::new();
    let mut wanted_in_dependencies = HashSet::new();
    let dependency_names: HashSet<&str> = package.dependencies.iter().map(|d| d.name.as_str()).collect();
    for _round in 0..MAX_PARSE_ROUNDS {
        if to_parse.is_empty() {
            break;
        }
        let round = Instant::now();
        for i in to_parse {
            attempted[i] = true;
            // A dependency's file read again: its earlier tree goes first, not after.
            parsed[i] = None;
            stats.parsed_files += 1;
            stats.parsed_bytes += sources[i].text.len() as u64;
            match parse_one(rules, &wanted_in_dependencies, &sources[i], package.edition) {
                Ok(p) => {
                    stats.deepest_nesting = stats.deepest_nesting.max(p.file.nesting);
                    parsed[i] = Some(p);
                }
                Err(finding) if sources[i].report => findings.push(*finding),
                Err(_) => {}
            }
        }
        stats.parse += round.elapsed();
        let search = Instant::now();
        to_parse = files_defining_needed_names(
            &sources,
            &parsed,
            &attempted,
            &mut searched,
            &mut wanted_in_dependencies,
            &dependency_names,
        );
        to_parse.extend(files_using_followed_names(prefilter, &sources, &parsed, &attempted, &to_parse, &mut searched));
        stats.scan += search.elapsed();
    }

    let analysis_started = Instant::now();
    let unparsed: Vec<Arc<SourceFile>> =
        sources.iter().zip(&parsed).filter(|(_, p)| p.is_none()).map(|(s, _)| s.clone()).collect();
    let files: Vec<ParsedFile> = parsed.into_iter().flatten().map(|p| p.file).collect();
    if !files.is_empty() {
        let dependencies = package.dependencies.iter().map(|d| (d.name.clone(), d.target.clone(), d.edition)).collect();
        let info = symbols::CrateInfo { lib_name: package.lib_name, edition: package.edition, dependencies };
        let mut symbols = Symbols::build(&files, info);
        symbols.read_seek_types = package.config.read_seek_types;
        let cx = PackageContext::new(&symbols, &files)
            .with_unparsed(unparsed)
            .in_folders(package.folders)
            .proc_macro(package.proc_macro);
        for rule in rules {
            rule.check(&cx, &mut findings);
        }
    }
    findings.retain(|f| !package.config.allow.iter().any(|rule| rule == f.rule));
    stats.analysis = analysis_started.elapsed();
    // Every tree of this package is gone: drop the copies of its files that proc-macro2
    // keeps on this thread for span locations, or a worker's memory grows with the run.
    drop(files);
    parse::release_thread_spans();
    (findings, stats)
}

/// The `syntax_error` finding for a file that cannot be read as text: at its first byte
/// that is not UTF-8 (shown with the bytes replaced), or at its start.
fn unreadable(input: discover::FileInput, limit: u64, err: input::ReadError) -> Finding {
    let (region, text) = match err {
        input::ReadError::NotUtf8 { line, column } => {
            let bytes = input::read_regular(&input.path, limit).unwrap_or_default();
            let end = Position { line, column: column + 1 };
            (Region { start: Position { line, column }, end }, String::from_utf8_lossy(&bytes).into_owned())
        }
        _ => (Region::whole_line(1), String::new()),
    };
    let source = Arc::new(SourceFile::new(input.path, input.display, input.module, true, text));
    parse::syntax_error(&source, region, format!("lockscope cannot lint this file: {err}"))
}

fn parse_one(
    rules: &[&'static dyn Rule],
    wanted_in_dependencies: &HashSet<String>,
    source: &Arc<SourceFile>,
    edition: manifest::Edition,
) -> Result<Parsed, Box<Finding>> {
    let dependency = source.module.is_dependency();
    let select = |items: &[Vec<proc_macro2::TokenTree>]| {
        prune::select_items(items, |name| wanted_in_dependencies.contains(name))
    };
    let mut file =
        if dependency { parse::parse_selected(source, edition, &select)? } else { parse::parse(source, edition)? };
    if dependency {
        // What the wanted items name from this same file is kept at once: a chain of
        // definitions in one file would otherwise take a parse round per step.
        let whole = NameGraph::of(&file.ast);
        let mut kept: HashSet<&str> = HashSet::new();
        let mut work: Vec<&str> = wanted_in_dependencies.iter().map(String::as_str).collect();
        while let Some(name) = work.pop() {
            let implementors = whole.implementors.get(name).filter(|_| whole.traits.contains(name));
            for next in whole.edges.get(name).into_iter().chain(implementors).flatten() {
                if !wanted_in_dependencies.contains(next) && kept.insert(next) {
                    work.push(next);
                }
            }
        }
        prune::prune(&mut file.ast, |name| wanted_in_dependencies.contains(name) || kept.contains(name));
    }
    let graph = NameGraph::of(&file.ast);
    let holds = if dependency {
        let mut holds = prune::kept_names(&file.ast);
        holds.extend(graph.imports.iter().map(|(_, _, local)| local.clone()));
        holds
    } else {
        HashSet::new()
    };
    let (mut needed, mut needed_shallow, mut followed) = (Vec::new(), Vec::new(), Vec::new());
    for rule in rules {
        rule.needed_names(&file.ast, &mut needed);
        rule.needed_names_shallow(&file.ast, &mut needed_shallow);
        rule.followed_names(&file.ast, &mut followed);
    }
    Ok(Parsed { file, graph, needed, needed_shallow, followed, holds })
}

/// The unparsed files of a package that may define a name the parsed files need:
/// files that mention (as a whole word) a name the rules asked for or one their
/// definitions refer to, and files that define (`struct X`, `type X`) a name asked
/// for shallowly. Of the workspace libraries the package depends on, only files that
/// define or re-export a needed name the package takes from them.
fn files_defining_needed_names(
    sources: &[Arc<SourceFile>],
    parsed: &[Option<Parsed>],
    attempted: &[bool],
    searched: &mut HashSet<String>,
    wanted_in_dependencies: &mut HashSet<String>,
    dependencies: &HashSet<&str>,
) -> Vec<usize> {
    let (own, deps): (Vec<&Parsed>, Vec<&Parsed>) =
        parsed.iter().flatten().partition(|p| !p.file.source.module.is_dependency());
    let needed = closure(own.iter().flat_map(|p| p.needed.iter().map(String::as_str)), &own);
    // What the package's files take from a dependency (a glob takes anything), and, in
    // the dependency, the names its re-exports of those stand for.
    let imported: Vec<&(String, String, String)> = own
        .iter()
        .flat_map(|p| p.graph.imports.iter())
        .filter(|(first, _, _)| dependencies.contains(first.as_str()))
        .collect();
    let glob = imported.iter().any(|(_, name, _)| name == "*");
    let mut seeds: HashSet<&str> = needed
        .iter()
        .copied()
        .filter(|n| glob || imported.iter().any(|(_, name, local)| local == n || name == n))
        .collect();
    for (_, name, local) in imported.iter().filter(|(_, _, local)| needed.contains(local.as_str())) {
        seeds.insert(name);
        seeds.insert(local);
    }
    // A needed field (`buffer` of `shared.buffer.lock()`) may be declared by a type the
    // file takes from a dependency (`SharedBuffer`): those types' definitions are needed.
    for p in own.iter().filter(|p| !p.needed.is_empty()) {
        let types = p
            .graph
            .imports
            .iter()
            .filter(|(first, name, _)| dependencies.contains(first.as_str()) && is_type_name(name));
        seeds.extend(types.map(|(_, name, _)| name.as_str()));
    }
    let mut needed_in_deps =
        closure_within(seeds.into_iter(), &deps, MAX_DEPENDENCY_DEPTH, Implementors::OfDefinedTraits);
    let reexported: Vec<&str> = deps
        .iter()
        .flat_map(|p| &p.graph.imports)
        .filter(|(_, _, local)| needed_in_deps.contains(local.as_str()))
        .map(|(_, name, _)| name.as_str())
        .collect();
    needed_in_deps.extend(reexported);

    let mut words: Vec<String> =
        needed.into_iter().filter(|n| searched.insert(n.to_string())).map(str::to_string).collect();
    for name in own.iter().flat_map(|p| &p.needed_shallow) {
        if searched.insert(format!("struct {name}")) {
            words.push(format!("struct {name}"));
            words.push(format!("type {name}"));
        }
    }
    let dep_words: Vec<String> =
        needed_in_deps.into_iter().filter(|n| !wanted_in_dependencies.contains(*n)).map(str::to_string).collect();
    wanted_in_dependencies.extend(dep_words.iter().cloned());
    // A type is needed for its definition and impls, found where it is defined; a
    // field, function or static for its uses, found wherever it is mentioned. (Every
    // file mentioning a common type name would otherwise be parsed: most of a package.)
    let (type_words, use_words): (Vec<String>, Vec<String>) = words.into_iter().partition(|w| is_type_name(w));
    let type_matcher = prefilter::word_matcher(&type_words);
    let use_matcher = prefilter::word_matcher(&use_words);
    let dep_matcher = prefilter::word_matcher(&dep_words);
    (0..sources.len())
        .filter(|&i| {
            let text = sources[i].text.as_bytes();
            if sources[i].module.is_dependency() {
                // Of a dependency, only what defines or re-exports a needed name matters;
                // a file parsed before for other names is parsed again for one it does
                // not hold yet.
                let Some(matcher) = &dep_matcher else { return false };
                return match &parsed[i] {
                    None => !attempted[i] && prefilter::defines_word(matcher, text),
                    Some(p) => prefilter::defined_words(matcher, text).any(|w| !p.holds.contains(&dep_words[w])),
                };
            }
            if attempted[i] {
                return false;
            }
            type_matcher.as_ref().is_some_and(|m| prefilter::defines_word(m, text))
                || use_matcher.as_ref().is_some_and(|m| mentions_word(m, text))
        })
        .collect()
}

/// `CamelCase`, as types and traits are named (not `snake_case` or `SHOUTING_CASE`).
fn is_type_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_uppercase()) && name.chars().any(|c| c.is_ascii_lowercase())
}

/// How many definitions deep names are followed into a workspace dependency: its types'
/// fields' types' fields, which is where a reader it wraps sits.
const MAX_DEPENDENCY_DEPTH: usize = 3;

/// `seeds` and every name the definitions of `files` reach from them, through every
/// implementor of a trait reached.
fn closure<'p>(seeds: impl Iterator<Item = &'p str>, files: &[&'p Parsed]) -> HashSet<&'p str> {
    closure_within(seeds, files, usize::MAX, Implementors::All)
}

/// Which implementors of a reached trait a closure goes on to.
#[derive(Clone, Copy, PartialEq)]
enum Implementors {
    All,
    /// Only of traits a file of `files` defines. A workspace dependency implements
    /// `Debug` or `From` for hundreds of types, and none of them is what a `dyn` of the
    /// package stands for (biome: 1,600 names, 20 MB parsed for one package).
    OfDefinedTraits,
}

/// `seeds` and the names the definitions of `files` reach from them in at most `depth`
/// steps, nearest first.
fn closure_within<'p>(
    seeds: impl Iterator<Item = &'p str>,
    files: &[&'p Parsed],
    depth: usize,
    implementors: Implementors,
) -> HashSet<&'p str> {
    let defined_traits: HashSet<&str> = match implementors {
        Implementors::All => HashSet::new(),
        Implementors::OfDefinedTraits => files.iter().flat_map(|p| p.graph.traits.iter().map(String::as_str)).collect(),
    };
    let mut needed: HashSet<&str> = seeds.collect();
    let mut work: VecDeque<(&str, usize)> = needed.iter().map(|&n| (n, 0)).collect();
    while let Some((name, steps)) = work.pop_front() {
        if steps >= depth {
            continue;
        }
        let follow_implementors = implementors == Implementors::All || defined_traits.contains(name);
        for p in files {
            let implementors = p.graph.implementors.get(name).filter(|_| follow_implementors);
            for next in p.graph.edges.get(name).into_iter().chain(implementors).flatten() {
                if needed.insert(next.as_str()) {
                    work.push_back((next.as_str(), steps + 1));
                }
            }
        }
    }
    needed
}

/// The unparsed files that mention a name a parsed file asked to follow (an alias of
/// `Arc<Mutex<_>>` defined elsewhere) together with one of the rules' `with_followed`
/// words: the prefilter could not see that they matter.
fn files_using_followed_names(
    prefilter: &WordFilter,
    sources: &[Arc<SourceFile>],
    parsed: &[Option<Parsed>],
    attempted: &[bool],
    already: &[usize],
    searched: &mut HashSet<String>,
) -> Vec<usize> {
    let names: Vec<&str> = parsed
        .iter()
        .flatten()
        .flat_map(|p| p.followed.iter().map(String::as_str))
        .filter(|n| searched.insert(format!("followed {n}")))
        .collect();
    let Some(names) = (!names.is_empty()).then(|| prefilter::word_matcher(&names)).flatten() else {
        return Vec::new();
    };
    (0..sources.len())
        .filter(|&i| !attempted[i] && !already.contains(&i) && !sources[i].module.is_dependency())
        .filter(|&i| {
            let text = sources[i].text.as_bytes();
            mentions_word(&names, text) && prefilter.wants_with_followed(text)
        })
        .collect()
}

/// Does `bytes` contain one of the matcher's words as a whole identifier?
fn mentions_word(matcher: &AhoCorasick, bytes: &[u8]) -> bool {
    prefilter::whole_words(matcher, bytes).next().is_some()
}

/// Exit status for a finished run: 1 when anything was found.
pub fn exit_code(outcome: &LintOutcome) -> i32 {
    i32::from(!outcome.findings.is_empty())
}
