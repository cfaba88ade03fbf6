//! End-to-end tests across lockscope's crates and examples live in `tests/`.
