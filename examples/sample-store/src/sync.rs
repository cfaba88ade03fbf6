//! The store's synchronisation types: `lockscope`'s (so the profiler sees the waits) in
//! normal builds, `loom`'s under `--cfg lockscope_loom`, so the loom model test in
//! `tests/loom.rs` explores every interleaving of the real store code.

#[cfg(not(lockscope_loom))]
pub use lockscope::Mutex;
#[cfg(not(lockscope_loom))]
pub use std::sync::atomic::{AtomicUsize, Ordering};
#[cfg(not(lockscope_loom))]
pub use std::sync::Arc;

#[cfg(lockscope_loom)]
pub use loom::sync::atomic::{AtomicUsize, Ordering};
#[cfg(lockscope_loom)]
pub use loom::sync::Arc;

/// `loom`'s mutex with `lockscope`'s (and `parking_lot`'s) API: `lock()` returns the guard.
#[cfg(lockscope_loom)]
#[derive(Default)]
pub struct Mutex<T>(loom::sync::Mutex<T>);

#[cfg(lockscope_loom)]
impl<T> Mutex<T> {
    pub fn new(value: T) -> Self {
        Mutex(loom::sync::Mutex::new(value))
    }

    pub fn lock(&self) -> loom::sync::MutexGuard<'_, T> {
        // A panic inside the model fails the test anyway; poisoning adds nothing.
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
