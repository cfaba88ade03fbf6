//! What every instrumented acquisition shares: the lock's identity and class, the
//! count, the timed slow path, and the sampled hold timer.

use crate::counters::{self, CLASS_SHIFT};
use crate::stats::{self, LockClass, LockKind, Mode, Observing};
use std::panic::Location;
use std::sync::atomic::{AtomicPtr, AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::Instant;

/// Identity of one lock: its name and construction site, its class once a layer has
/// seen it acquired, and its last holder's site. All a lock owns: its counts are kept
/// per thread, by class ([`counters`]).
pub(crate) struct LockMeta {
    name: Option<&'static str>,
    created_at: &'static Location<'static>,
    /// The class id in a counter key's place (`id << CLASS_SHIFT`), 0 until the first
    /// observed acquisition: one load and a zero test on the fast path.
    class_bits: AtomicU64,
    /// Site of the current (or last) holder, for "blocked behind".
    holder: AtomicPtr<Location<'static>>,
}

impl LockMeta {
    pub(crate) const fn new(name: Option<&'static str>, created_at: &'static Location<'static>) -> Self {
        LockMeta { name, created_at, class_bits: AtomicU64::new(0), holder: AtomicPtr::new(std::ptr::null_mut()) }
    }

    #[inline(always)]
    fn class_bits(&self, kind: LockKind) -> u64 {
        let bits = self.class_bits.load(Ordering::Relaxed);
        if bits == 0 {
            return self.register(kind);
        }
        bits
    }

    #[cold]
    #[inline(never)]
    fn register(&self, kind: LockKind) -> u64 {
        // Racing threads find the same class: it is keyed by name, kind and site.
        let bits = stats::class_of(self.name, kind, self.created_at).id << CLASS_SHIFT;
        self.class_bits.store(bits, Ordering::Relaxed);
        bits
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
    ) -> (G, Option<HoldTimer>) {
        let class_bits = self.class_bits(kind);
        match try_acquire() {
            Some(guard) => (guard, self.count(class_bits, site, mode, Some(observing))),
            None => self.contended(class_bits, site, mode, observing, acquire),
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
    ) -> Option<HoldTimer> {
        self.count(self.class_bits(kind), site, mode, Some(observing))
    }

    /// Count an acquisition timed from outside (by `timed`): its wait, if it
    /// waited, is reported by the caller; its hold is not timed.
    pub(crate) fn timed_from_outside(&self, site: &'static Location<'static>, waited_ns: Option<u64>) {
        let class_bits = self.class_bits(LockKind::Mutex);
        let holder = self.holder_site();
        self.count(class_bits, site, Mode::Lock, None);
        if let (Some(wait_ns), Some(class)) = (waited_ns, class(class_bits)) {
            crate::wait_event::emit(class, site, Mode::Lock, holder, wait_ns);
        }
    }

    /// Count one acquisition on this thread; with `observing`, maybe time its hold.
    #[inline(always)]
    fn count(
        &self,
        class_bits: u64,
        site: &'static Location<'static>,
        mode: Mode,
        observing: Option<Observing>,
    ) -> Option<HoldTimer> {
        self.note_holder(site);
        let before = match counters::key(class_bits, site, mode) {
            Some(key) => counters::count(key),
            None => counters::count_unkeyed(class_bits, mode),
        };
        match observing {
            Some(observing) if observing.sample_hold(before) => HoldTimer::start(class_bits),
            _ => None,
        }
    }

    /// The slow path: the lock was taken. Time the wait, note who held it, tell the
    /// tracing subscriber, and count the acquisition once the lock is ours.
    #[cold]
    #[inline(never)]
    fn contended<G>(
        &self,
        class_bits: u64,
        site: &'static Location<'static>,
        mode: Mode,
        observing: Observing,
        acquire: impl FnOnce() -> G,
    ) -> (G, Option<HoldTimer>) {
        let holder = self.holder_site();
        let start = Instant::now();
        let guard = acquire();
        let wait_ns = u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX);
        if let Some(class) = class(class_bits) {
            crate::wait_event::emit(class, site, mode, holder, wait_ns);
        }
        (guard, self.count(class_bits, site, mode, Some(observing)))
    }

    /// Record the holder's site, skipping the store when it is already there: the
    /// unlock's locked instruction waits for every pending store to drain.
    #[inline(always)]
    fn note_holder(&self, site: &'static Location<'static>) {
        let site = site as *const Location<'static> as *mut Location<'static>;
        if self.holder.load(Ordering::Relaxed) != site {
            self.holder.store(site, Ordering::Relaxed);
        }
    }

    fn holder_site(&self) -> Option<&'static Location<'static>> {
        // SAFETY: only `&'static Location` pointers are ever stored.
        unsafe { self.holder.load(Ordering::Relaxed).as_ref() }
    }
}

fn class(class_bits: u64) -> Option<&'static LockClass> {
    stats::class_by_id(class_bits >> CLASS_SHIFT)
}

/// Measures one sampled hold, recorded when the guard drops (before it unlocks).
///
/// Times are raw ticks of [`clock`] (the TSC where it is stable): two reads of
/// `std::time::Instant` cost 65 ns here, two of the TSC 25 ns, and the difference is
/// paid once per sampled acquisition.
pub(crate) struct HoldTimer {
    class: &'static LockClass,
    start: u64,
}

/// The clock of hold times, calibrated once, when the first layer is made.
pub(crate) fn clock() -> &'static quanta::Clock {
    static CLOCK: OnceLock<quanta::Clock> = OnceLock::new();
    CLOCK.get_or_init(quanta::Clock::new)
}

impl HoldTimer {
    // Out of line: 63 in 64 acquisitions do not come here.
    #[inline(never)]
    fn start(class_bits: u64) -> Option<Self> {
        Some(HoldTimer { class: class(class_bits)?, start: clock().raw() })
    }
}

impl Drop for HoldTimer {
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
