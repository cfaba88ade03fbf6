//! What every instrumented acquisition shares: the lazily registered statistics of a
//! lock, the timed slow path, and the sampled hold timer.

use crate::stats::{LockClass, LockKind, LockStats, Mode, Observing};
use std::panic::Location;
use std::ptr;
use std::sync::atomic::{AtomicPtr, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

/// Identity of one lock: its name and construction site, and its statistics once a
/// layer has seen it acquired.
pub(crate) struct LockMeta {
    name: Option<&'static str>,
    created_at: &'static Location<'static>,
    /// An `Arc<LockStats>` owned by this lock (`Arc::into_raw`), null until then. A
    /// plain pointer rather than a `OnceLock`: one load and a null test on the fast path.
    stats: AtomicPtr<LockStats>,
}

impl LockMeta {
    pub(crate) const fn new(name: Option<&'static str>, created_at: &'static Location<'static>) -> Self {
        LockMeta { name, created_at, stats: AtomicPtr::new(ptr::null_mut()) }
    }

    #[inline]
    fn stats(&self, kind: LockKind) -> &LockStats {
        let stats = self.stats.load(Ordering::Acquire);
        if stats.is_null() {
            return self.register(kind);
        }
        // SAFETY: a non-null pointer is an `Arc` this lock owns until it drops.
        unsafe { &*stats }
    }

    #[cold]
    #[inline(never)]
    fn register(&self, kind: LockKind) -> &LockStats {
        let fresh = Arc::into_raw(LockStats::register(self.name, kind, self.created_at)).cast_mut();
        let stats = match self.stats.compare_exchange(ptr::null_mut(), fresh, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => fresh,
            Err(winner) => {
                // Another thread registered this lock first; ours never counted anything.
                // SAFETY: `fresh` came from `Arc::into_raw` above and was never shared.
                let fresh = unsafe { Arc::from_raw(fresh) };
                fresh.retire();
                winner
            }
        };
        // SAFETY: as in `stats`.
        unsafe { &*stats }
    }

    /// Take the lock while a layer observes: `try_acquire` first (the uncontended fast
    /// path reads no clock); if that fails, time `acquire`. Always inlined, like the
    /// wrappers' `lock`: see `Mutex::lock_observed`.
    #[inline(always)]
    pub(crate) fn acquire<G>(
        &self,
        kind: LockKind,
        site: &'static Location<'static>,
        mode: Mode,
        observing: Observing,
        try_acquire: impl FnOnce() -> Option<G>,
        acquire: impl FnOnce() -> G,
    ) -> (G, Option<HoldTimer<'_>>) {
        let stats = self.stats(kind);
        match try_acquire() {
            Some(guard) => (guard, count(stats, site, mode, observing)),
            None => contended(stats, site, mode, observing, acquire),
        }
    }

    /// Count an acquisition that already succeeded (`try_lock`) and maybe time its hold.
    #[inline]
    pub(crate) fn acquired(
        &self,
        kind: LockKind,
        site: &'static Location<'static>,
        mode: Mode,
        observing: Observing,
    ) -> Option<HoldTimer<'_>> {
        count(self.stats(kind), site, mode, observing)
    }
}

impl Drop for LockMeta {
    fn drop(&mut self) {
        let stats = *self.stats.get_mut();
        if !stats.is_null() {
            // SAFETY: the pointer came from `Arc::into_raw` in `register`.
            unsafe { Arc::from_raw(stats) }.retire();
        }
    }
}

/// Readers count with a read-modify-write (others read at the same time); exclusive
/// holders with a load and a store.
#[inline(always)]
fn count<'a>(
    stats: &'a LockStats,
    site: &'static Location<'static>,
    mode: Mode,
    observing: Observing,
) -> Option<HoldTimer<'a>> {
    let before = match mode {
        Mode::Read => stats.count_shared(site, mode),
        Mode::Lock | Mode::Write => stats.count_exclusive(site, mode),
    };
    HoldTimer::sampled(stats, before, observing)
}

/// The slow path: the lock was taken. Time the wait, note who held it, tell the
/// tracing subscriber, and count the acquisition once the lock is ours.
#[cold]
#[inline(never)]
fn contended<'a, G>(
    stats: &'a LockStats,
    site: &'static Location<'static>,
    mode: Mode,
    observing: Observing,
    acquire: impl FnOnce() -> G,
) -> (G, Option<HoldTimer<'a>>) {
    let holder = stats.holder_site();
    let start = Instant::now();
    let guard = acquire();
    let wait_ns = u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX);
    crate::wait_event::emit(stats, site, mode, holder, wait_ns);
    (guard, count(stats, site, mode, observing))
}

/// Measures one sampled hold, recorded when the guard drops (before it unlocks).
///
/// Times are raw ticks of [`clock`] (the TSC where it is stable): two reads of
/// `std::time::Instant` cost 65 ns here, two of the TSC 25 ns, and the difference is
/// paid once per sampled acquisition.
pub(crate) struct HoldTimer<'a> {
    class: &'a LockClass,
    start: u64,
}

/// The clock of hold times, calibrated once, when the first layer is made.
pub(crate) fn clock() -> &'static quanta::Clock {
    static CLOCK: OnceLock<quanta::Clock> = OnceLock::new();
    CLOCK.get_or_init(quanta::Clock::new)
}

impl<'a> HoldTimer<'a> {
    #[inline]
    pub(crate) fn sampled(stats: &'a LockStats, count_before: u64, observing: Observing) -> Option<Self> {
        if observing.sample_hold(count_before) {
            Some(Self::start(stats))
        } else {
            None
        }
    }

    // Out of line: 63 in 64 acquisitions do not come here.
    #[inline(never)]
    fn start(stats: &'a LockStats) -> Self {
        HoldTimer { class: &stats.class, start: clock().raw() }
    }
}

impl Drop for HoldTimer<'_> {
    // Inline, handing over values: a `&mut self` call would keep the whole guard in
    // memory on the fast path too.
    #[inline]
    fn drop(&mut self) {
        record_hold(self.class, self.start);
    }
}

#[inline(never)]
fn record_hold(class: &LockClass, start: u64) {
    let clock = clock();
    class.holds.record(clock.delta_as_nanos(start, clock.raw()));
}
