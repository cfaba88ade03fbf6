//! What every instrumented acquisition shares: the lazily registered statistics of a
//! lock, the timed slow path, and the sampled hold timer.

use crate::stats::{self, LockKind, LockStats, Mode};
use std::panic::Location;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

/// Identity of one lock: its name and construction site, and its statistics once a
/// layer has seen it acquired.
pub(crate) struct LockMeta {
    name: Option<&'static str>,
    created_at: &'static Location<'static>,
    stats: OnceLock<Arc<LockStats>>,
}

impl LockMeta {
    pub(crate) const fn new(name: Option<&'static str>, created_at: &'static Location<'static>) -> Self {
        LockMeta { name, created_at, stats: OnceLock::new() }
    }

    #[inline]
    fn stats(&self, kind: LockKind) -> &LockStats {
        self.stats.get_or_init(|| LockStats::register(self.name, kind, self.created_at))
    }

    /// Take the lock while a layer observes: `try_acquire` first (the uncontended fast
    /// path reads no clock); if that fails, time `acquire`.
    #[inline]
    pub(crate) fn acquire<G>(
        &self,
        kind: LockKind,
        site: &'static Location<'static>,
        mode: Mode,
        try_acquire: impl FnOnce() -> Option<G>,
        acquire: impl FnOnce() -> G,
    ) -> (G, Option<HoldTimer<'_>>) {
        let stats = self.stats(kind);
        let guard = match try_acquire() {
            Some(guard) => guard,
            None => contended(stats, site, mode, acquire),
        };
        (guard, count(stats, site, mode))
    }

    /// Count an acquisition that already succeeded (`try_lock`) and maybe time its hold.
    #[inline]
    pub(crate) fn acquired(
        &self,
        kind: LockKind,
        site: &'static Location<'static>,
        mode: Mode,
    ) -> Option<HoldTimer<'_>> {
        count(self.stats(kind), site, mode)
    }
}

/// Readers count with a read-modify-write (others read at the same time); exclusive
/// holders with a load and a store.
#[inline]
fn count<'a>(stats: &'a LockStats, site: &'static Location<'static>, mode: Mode) -> Option<HoldTimer<'a>> {
    let before = match mode {
        Mode::Read => stats.count_shared(site),
        Mode::Lock | Mode::Write => stats.count_exclusive(site, mode),
    };
    HoldTimer::sampled(stats, before)
}

/// The slow path: the lock was taken. Time the wait, note who held it, and tell
/// the tracing subscriber.
#[cold]
#[inline(never)]
fn contended<G>(stats: &LockStats, site: &'static Location<'static>, mode: Mode, acquire: impl FnOnce() -> G) -> G {
    let holder = stats.holder_site();
    let start = Instant::now();
    let guard = acquire();
    let wait_ns = u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX);
    emit_wait(stats, site, mode, holder, wait_ns);
    guard
}

/// The `tracing` event of a contended acquisition (target `lockscope`, TRACE), which
/// the `ContentionLayer` aggregates and any other layer can log.
pub(crate) fn emit_wait(
    stats: &LockStats,
    site: &'static Location<'static>,
    mode: Mode,
    holder: Option<&'static Location<'static>>,
    wait_ns: u64,
) {
    // Sites travel as `&'static Location` addresses (no formatting on this path) and,
    // for other layers, as lazily formatted `file:line:column` values.
    tracing::event!(
        target: "lockscope",
        tracing::Level::TRACE,
        lock = stats.name.as_str(),
        site = tracing::field::display(site),
        wait_ns,
        lock_id = stats.id,
        mode = mode as u64,
        site_ptr = site as *const Location<'static> as u64,
        holder_ptr = holder.map_or(0, |h| h as *const Location<'static> as u64),
    );
}

/// Measures one sampled hold, recorded when the guard drops (before it unlocks).
///
/// The start is nanoseconds since a process epoch rather than an `Instant`: an
/// `Option<Instant>` keeps its `None` in the nanoseconds field, and writing that 4-byte
/// niche then reading the guard back as 8 bytes stalled store forwarding on every
/// unsampled acquisition (twice the cost of the lock itself). With a plain `u64`, the
/// niche is the `&LockStats` pointer and `None` is one 8-byte zero.
pub(crate) struct HoldTimer<'a> {
    stats: &'a LockStats,
    start_ns: u64,
}

static EPOCH: OnceLock<Instant> = OnceLock::new();

fn now_ns() -> u64 {
    u64::try_from(EPOCH.get_or_init(Instant::now).elapsed().as_nanos()).unwrap_or(u64::MAX)
}

impl<'a> HoldTimer<'a> {
    #[inline]
    pub(crate) fn sampled(stats: &'a LockStats, count_before: u64) -> Option<Self> {
        if stats::sample_hold(count_before) {
            Some(HoldTimer { stats, start_ns: now_ns() })
        } else {
            None
        }
    }
}

impl Drop for HoldTimer<'_> {
    fn drop(&mut self) {
        self.stats.record_hold(now_ns().saturating_sub(self.start_ns));
    }
}
