//! `lockscope::Mutex`: `parking_lot::Mutex` that reports its contention.

use crate::acquire::{HoldTimer, LockMeta};
use crate::stats::{LockKind, Mode, Observing};
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::panic::Location;

/// A mutual-exclusion lock with the `parking_lot::Mutex` API that counts its
/// acquisitions and times its waits when a [`ContentionLayer`](crate::ContentionLayer)
/// is installed.
///
/// Without a layer the overhead over `parking_lot` is one relaxed load. With one, an
/// uncontended acquisition adds no clock read and no atomic read-modify-write; a
/// contended one is timed and reported as a `tracing` event.
///
/// ```
/// let cache = lockscope::Mutex::named("cache", Vec::new());
/// cache.lock().push(1u8);
/// assert_eq!(*cache.lock(), [1]);
/// ```
pub struct Mutex<T: ?Sized> {
    meta: LockMeta,
    inner: parking_lot::Mutex<T>,
}

impl<T> Mutex<T> {
    /// A mutex named by where it is constructed (`src/cache.rs:12:5`). Usable in statics:
    ///
    /// ```
    /// static COUNT: lockscope::Mutex<u64> = lockscope::Mutex::new(0);
    /// *COUNT.lock() += 1;
    /// ```
    #[track_caller]
    pub const fn new(value: T) -> Self {
        Mutex { meta: LockMeta::new(None, Location::caller()), inner: parking_lot::Mutex::new(value) }
    }

    /// A mutex with a name of your choosing, used in reports.
    ///
    /// ```
    /// let archive = lockscope::Mutex::named("bundle-archive", ());
    /// drop(archive.lock());
    /// ```
    #[track_caller]
    pub const fn named(name: &'static str, value: T) -> Self {
        Mutex { meta: LockMeta::new(Some(name), Location::caller()), inner: parking_lot::Mutex::new(value) }
    }

    /// The value, consuming the mutex.
    ///
    /// ```
    /// assert_eq!(lockscope::Mutex::new(3).into_inner(), 3);
    /// ```
    pub fn into_inner(self) -> T {
        self.inner.into_inner()
    }
}

impl<T: ?Sized> Mutex<T> {
    /// Take the lock, blocking until it is free. The caller's location is the acquire site.
    ///
    /// ```
    /// let m = lockscope::Mutex::new(1);
    /// *m.lock() += 1;
    /// assert_eq!(*m.lock(), 2);
    /// ```
    #[track_caller]
    #[inline(always)]
    pub fn lock(&self) -> MutexGuard<'_, T> {
        if let Some(observing) = Observing::now() {
            return self.lock_observed(Location::caller(), observing);
        }
        MutexGuard { _hold: None, inner: self.inner.lock() }
    }

    // Inline: every store on this path delays the unlock's locked instruction, and a
    // call adds the callee's register saves and a guard returned through memory. The
    // rare paths (first use, contention, a sampled hold) are out of line.
    #[inline(always)]
    fn lock_observed(&self, site: &'static Location<'static>, observing: Observing) -> MutexGuard<'_, T> {
        let (inner, hold) = self.meta.acquire(
            LockKind::Mutex,
            site,
            Mode::Lock,
            observing,
            || self.inner.try_lock(),
            || self.inner.lock(),
        );
        MutexGuard { _hold: hold, inner }
    }

    /// Take the lock if it is free.
    ///
    /// ```
    /// let m = lockscope::Mutex::new(1);
    /// let held = m.lock();
    /// assert!(m.try_lock().is_none());
    /// drop(held);
    /// assert!(m.try_lock().is_some());
    /// ```
    #[track_caller]
    #[inline]
    pub fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
        let inner = self.inner.try_lock()?;
        let hold =
            Observing::now().and_then(|o| self.meta.acquired(LockKind::Mutex, Location::caller(), Mode::Lock, o));
        Some(MutexGuard { _hold: hold, inner })
    }

    /// The value, through `&mut`: no locking needed.
    ///
    /// ```
    /// let mut m = lockscope::Mutex::new(1);
    /// *m.get_mut() = 5;
    /// assert_eq!(*m.lock(), 5);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        self.inner.get_mut()
    }

    /// Is the lock held right now?
    ///
    /// ```
    /// let m = lockscope::Mutex::new(());
    /// let held = m.lock();
    /// assert!(m.is_locked());
    /// drop(held);
    /// assert!(!m.is_locked());
    /// ```
    pub fn is_locked(&self) -> bool {
        self.inner.is_locked()
    }
}

impl<T: Default> Default for Mutex<T> {
    #[track_caller]
    fn default() -> Self {
        Mutex::new(T::default())
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

/// Holds a [`Mutex`] until dropped; derefs to the value.
///
/// ```
/// let m = lockscope::Mutex::new(String::from("a"));
/// let mut guard: lockscope::MutexGuard<'_, String> = m.lock();
/// guard.push('b');
/// drop(guard);
/// assert_eq!(*m.lock(), "ab");
/// ```
#[must_use = "if unused the Mutex will immediately unlock"]
pub struct MutexGuard<'a, T: ?Sized> {
    // Declared first so it drops (and records the hold) before the lock is released.
    _hold: Option<HoldTimer>,
    inner: parking_lot::MutexGuard<'a, T>,
}

impl<T: ?Sized> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.inner
    }
}

impl<T: ?Sized> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.inner
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (**self).fmt(f)
    }
}
