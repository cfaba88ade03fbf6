//! Property test: generated inputs of every recursive shape, at any depth, and malformed
//! variants of them, never crash the lint (no panic, no stack overflow, which would abort
//! this test binary) and always finish with findings or none (exit 0 or 1).

use lockscope_lint::discover::Scope;
use lockscope_lint::{lint, LintOptions};
use proptest::prelude::*;

/// (opening, closing) pieces whose repetition nests the syntax tree one level per copy.
const SHAPES: &[(&str, &str, &str)] = &[
    ("type T = ", "Vec<", ">"),
    ("type T = ", "&'static ", ""),
    ("type T = ", "(", ",)"),
    ("type T = ", "[", "; 1]"),
    ("type T = ", "fn() -> ", ""),
    ("fn f() -> ", "impl Fn() -> ", ""),
    ("type T = ", "Box<dyn Fn() -> ", ">"),
    ("fn f() { let c = ", "|| ", ""),
    ("fn f() { let c = ", "move |x| ", ""),
    ("fn f() { let x = ", "!", ""),
    ("fn f() { let x = ", "- ", ""),
    ("fn f() { let x = ", "&mut ", ""),
    ("fn f() { let x = ", "1 + ", ""),
    ("fn f() { let x = ", "(", ")"),
    ("fn f() { let x = ", "{ ", " }"),
    ("fn f() { let x = ", "Some(", ")"),
    ("fn f() { let x = ", "return ", ""),
    ("fn f() { let x = ", "async { ", ".await }"),
    ("fn f() { let x = a", ".b()", ""),
    ("fn f() { let x = a", "?", ""),
    ("fn f() { let x = a", " as u8", ""),
    ("fn f() { if a { } ", "else if a { } ", ""),
    ("fn f() { match x { ", "_ => match x { ", "} "),
    ("fn f() { let ", "&", ""),
    ("fn f() { let ", "Some(", ")"),
    ("", "mod m { ", "} "),
    ("", "#[a(", ")] "),
    ("fn f() { ", "m!(", ") "),
    ("fn f() { let x: ", "<T as Tr>::", "X"),
    // Loops that share a buffer with spawned work: each is walked again for the next
    // iteration, which must not compound with depth.
    ("fn f() { ", "for _ in 0..2 { let c = d.clone(); std::thread::spawn(move || c.lock()); d.lock().len(); ", "} "),
];

/// A file of one shape nested `depth` deep, cut at `cut` (a fraction of its length) when
/// `malformed`, with lock, await and blocking words so every rule's prefilter lets it through.
fn file(shape: usize, depth: usize, malformed: Option<f64>) -> String {
    let (head, open, close) = SHAPES[shape % SHAPES.len()];
    let tail = if head.starts_with("fn f() {") {
        "x; }"
    } else if head.is_empty() {
        ""
    } else {
        "u8 {}"
    };
    // Function shapes also take a lock, block and await, so the guard rules walk them, and
    // share a buffer with a thread, so `aliased_buffer` follows it through them.
    let head = head.replacen(
        "fn f() {",
        "async fn f() { let g = m.lock().unwrap(); std::fs::read(p); w.await; \
         let d = std::sync::Arc::new(Mutex::new(Vec::new())); let c = d.clone(); std::thread::spawn(move || c.lock()); ",
        1,
    );
    let text = format!("use std::sync::Mutex;\n{head}{}1{}{tail}\n", open.repeat(depth), close.repeat(depth));
    match malformed {
        Some(cut) => {
            let mut at = (text.len() as f64 * cut) as usize;
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            text[..at].to_string()
        }
        None => text,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn no_input_crashes_the_lint(
        shape in 0..SHAPES.len(),
        depth in prop_oneof![0usize..64, 64usize..4_000, 4_000usize..40_000],
        malformed in proptest::option::of(0.0f64..1.0),
        noise in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        let dir = std::env::temp_dir().join(format!("lockscope-prop-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("mkdir");
        let path = dir.join("case.rs");
        let mut bytes = file(shape, depth, malformed).into_bytes();
        bytes.extend(noise);
        std::fs::write(&path, &bytes).expect("write");
        let outcome = lint(&LintOptions { scope: Scope::Paths(vec![path]), rules: Vec::new() });
        let _ = std::fs::remove_dir_all(&dir);
        // Ok is exit 0 or 1; Err would be exit 2, which only bad arguments may cause.
        prop_assert!(outcome.is_ok(), "{:?}", outcome.err());
    }
}
