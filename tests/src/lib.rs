//! End-to-end tests across the lockscope crates live in `tests/`.
