//! `lockscope::RwLock`: `parking_lot::RwLock` that reports its contention, with read
//! and write acquisitions counted apart.

use crate::acquire::{HoldTimer, LockMeta};
use crate::stats::{LockKind, Mode, Observing};
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::panic::Location;

/// A reader-writer lock with the `parking_lot::RwLock` API, instrumented like
/// [`Mutex`](crate::Mutex).
///
/// ```
/// let map = lockscope::RwLock::new(std::collections::HashMap::new());
/// map.write().insert("a", 1);
/// assert_eq!(map.read().get("a"), Some(&1));
/// ```
pub struct RwLock<T: ?Sized> {
    meta: LockMeta,
    inner: parking_lot::RwLock<T>,
}

impl<T> RwLock<T> {
    /// An RwLock named by where it is constructed. Usable in statics.
    ///
    /// ```
    /// static TABLE: lockscope::RwLock<Vec<u8>> = lockscope::RwLock::new(Vec::new());
    /// TABLE.write().push(1);
    /// ```
    #[track_caller]
    pub const fn new(value: T) -> Self {
        RwLock { meta: LockMeta::new(None, Location::caller()), inner: parking_lot::RwLock::new(value) }
    }

    /// An RwLock with a name of your choosing, used in reports.
    ///
    /// ```
    /// let index = lockscope::RwLock::named("index", 0u32);
    /// assert_eq!(*index.read(), 0);
    /// ```
    #[track_caller]
    pub const fn named(name: &'static str, value: T) -> Self {
        RwLock { meta: LockMeta::new(Some(name), Location::caller()), inner: parking_lot::RwLock::new(value) }
    }

    /// The value, consuming the lock.
    ///
    /// ```
    /// assert_eq!(lockscope::RwLock::new(7).into_inner(), 7);
    /// ```
    pub fn into_inner(self) -> T {
        self.inner.into_inner()
    }
}

impl<T: ?Sized> RwLock<T> {
    /// Shared access, blocking while a writer holds the lock.
    ///
    /// ```
    /// let l = lockscope::RwLock::new(1);
    /// let (a, b) = (l.read(), l.read());
    /// assert_eq!(*a + *b, 2);
    /// ```
    #[track_caller]
    #[inline(always)]
    pub fn read(&self) -> RwLockReadGuard<'_, T> {
        if let Some(observing) = Observing::now() {
            return self.read_observed(Location::caller(), observing);
        }
        RwLockReadGuard { _hold: None, inner: self.inner.read() }
    }

    // Inline, like `Mutex::lock_observed`.
    #[inline(always)]
    fn read_observed(&self, site: &'static Location<'static>, observing: Observing) -> RwLockReadGuard<'_, T> {
        let (inner, hold) = self.meta.acquire(
            LockKind::Rwlock,
            site,
            Mode::Read,
            observing,
            || self.inner.try_read(),
            || self.inner.read(),
        );
        RwLockReadGuard { _hold: hold, inner }
    }

    /// Exclusive access, blocking while anyone holds the lock.
    ///
    /// ```
    /// let l = lockscope::RwLock::new(1);
    /// *l.write() += 1;
    /// assert_eq!(*l.read(), 2);
    /// ```
    #[track_caller]
    #[inline(always)]
    pub fn write(&self) -> RwLockWriteGuard<'_, T> {
        if let Some(observing) = Observing::now() {
            return self.write_observed(Location::caller(), observing);
        }
        RwLockWriteGuard { _hold: None, inner: self.inner.write() }
    }

    // Inline, like `Mutex::lock_observed`.
    #[inline(always)]
    fn write_observed(&self, site: &'static Location<'static>, observing: Observing) -> RwLockWriteGuard<'_, T> {
        let (inner, hold) = self.meta.acquire(
            LockKind::Rwlock,
            site,
            Mode::Write,
            observing,
            || self.inner.try_write(),
            || self.inner.write(),
        );
        RwLockWriteGuard { _hold: hold, inner }
    }

    /// Shared access if no writer holds the lock.
    ///
    /// ```
    /// let l = lockscope::RwLock::new(1);
    /// let w = l.write();
    /// assert!(l.try_read().is_none());
    /// drop(w);
    /// assert!(l.try_read().is_some());
    /// ```
    #[track_caller]
    #[inline]
    pub fn try_read(&self) -> Option<RwLockReadGuard<'_, T>> {
        let inner = self.inner.try_read()?;
        let hold =
            Observing::now().and_then(|o| self.meta.acquired(LockKind::Rwlock, Location::caller(), Mode::Read, o));
        Some(RwLockReadGuard { _hold: hold, inner })
    }

    /// Exclusive access if nobody holds the lock.
    ///
    /// ```
    /// let l = lockscope::RwLock::new(1);
    /// let r = l.read();
    /// assert!(l.try_write().is_none());
    /// drop(r);
    /// assert!(l.try_write().is_some());
    /// ```
    #[track_caller]
    #[inline]
    pub fn try_write(&self) -> Option<RwLockWriteGuard<'_, T>> {
        let inner = self.inner.try_write()?;
        let hold =
            Observing::now().and_then(|o| self.meta.acquired(LockKind::Rwlock, Location::caller(), Mode::Write, o));
        Some(RwLockWriteGuard { _hold: hold, inner })
    }

    /// The value, through `&mut`: no locking needed.
    ///
    /// ```
    /// let mut l = lockscope::RwLock::new(1);
    /// *l.get_mut() = 4;
    /// assert_eq!(*l.read(), 4);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        self.inner.get_mut()
    }
}

impl<T: Default> Default for RwLock<T> {
    #[track_caller]
    fn default() -> Self {
        RwLock::new(T::default())
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

/// Shared access to an [`RwLock`] until dropped.
///
/// ```
/// let l = lockscope::RwLock::new(vec![1, 2]);
/// let guard: lockscope::RwLockReadGuard<'_, Vec<i32>> = l.read();
/// assert_eq!(guard.len(), 2);
/// ```
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct RwLockReadGuard<'a, T: ?Sized> {
    _hold: Option<HoldTimer>,
    inner: parking_lot::RwLockReadGuard<'a, T>,
}

/// Exclusive access to an [`RwLock`] until dropped.
///
/// ```
/// let l = lockscope::RwLock::new(vec![1]);
/// let mut guard: lockscope::RwLockWriteGuard<'_, Vec<i32>> = l.write();
/// guard.push(2);
/// drop(guard);
/// assert_eq!(*l.read(), [1, 2]);
/// ```
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct RwLockWriteGuard<'a, T: ?Sized> {
    _hold: Option<HoldTimer>,
    inner: parking_lot::RwLockWriteGuard<'a, T>,
}

impl<T: ?Sized> Deref for RwLockReadGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.inner
    }
}

impl<T: ?Sized> Deref for RwLockWriteGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.inner
    }
}

impl<T: ?Sized> DerefMut for RwLockWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.inner
    }
}
