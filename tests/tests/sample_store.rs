//! The sample-store example, linted the way a user would.

use lockscope_e2e::{example_dir, line_of, lint_dir, summarize};

#[test]
fn the_lint_flags_the_aliasing_store_and_nothing_in_the_copying_store() {
    let lib = example_dir("sample-store").join("src/lib.rs");
    let findings = lint_dir(&example_dir("sample-store"));
    // The read of the caller's buffer after it became the map's backing store.
    let expected_line = line_of(&lib, "store.size.fetch_add(samples.lock().len(), Ordering::Relaxed);");
    assert_eq!(summarize(&findings), [("lib.rs".to_string(), expected_line, "aliased_buffer")]);
    let shared_at = line_of(&lib, ".or_insert_with(|| samples.clone())");
    let message = &findings[0].message;
    assert!(message.contains("`samples`") && message.contains(&format!("line {shared_at}")), "{message}");
    // It is inside `AliasingStore`, before `CopyingStore` begins.
    assert!(expected_line < line_of(&lib, "pub struct CopyingStore"));
}
