//! Per-lock statistics shared by the lock wrappers and the layer.
//!
//! Every instrumented lock gets one [`LockStats`], created on its first acquisition
//! while a [`ContentionLayer`](crate::ContentionLayer) exists, and kept in a global
//! registry so the report still sees locks that were dropped.

use hdrhistogram::Histogram;
use std::panic::Location;
use std::sync::atomic::{AtomicPtr, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

/// Live `ContentionLayer`s. With none, the wrappers cost one relaxed load over `parking_lot`.
pub(crate) static ACTIVE_LAYERS: AtomicUsize = AtomicUsize::new(0);

/// Sites tracked per lock with their own counters; more go to the last slot's "other".
const SITE_SLOTS: usize = 16;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LockKind {
    Mutex,
    Rwlock,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Lock = 0,
    Read = 1,
    Write = 2,
}

/// Counters of one acquire site in one mode. The key packs the `&'static Location`
/// pointer with the mode in its low bits (a `Location` is pointer-aligned), so a slot
/// is claimed with one compare-exchange.
pub(crate) struct SiteSlot {
    key: AtomicUsize,
    acquisitions: AtomicU64,
}

fn slot_key(site: &'static Location<'static>, mode: Mode) -> usize {
    site as *const Location<'static> as usize | mode as usize
}

pub struct LockStats {
    pub(crate) id: u64,
    pub(crate) name: String,
    pub(crate) kind: LockKind,
    pub(crate) created_at: &'static Location<'static>,
    /// Site of the current (or last) exclusive holder, for "blocked behind".
    pub(crate) holder: AtomicPtr<Location<'static>>,
    /// Acquisitions per site and mode. Exclusive holders update their slot with a load
    /// and a store (no read-modify-write): only the holder writes it.
    pub(crate) sites: [SiteSlot; SITE_SLOTS],
    /// Sampled hold times, in nanoseconds.
    pub(crate) holds: parking_lot::Mutex<Histogram<u64>>,
}

static REGISTRY: parking_lot::Mutex<Vec<Arc<LockStats>>> = parking_lot::Mutex::new(Vec::new());
static NEXT_ID: AtomicU64 = AtomicU64::new(1);
/// 1 in N acquisitions has its hold time measured; N is a power of two so the
/// check on the fast path is a mask, not a division.
pub(crate) static HOLD_SAMPLING: AtomicU64 = AtomicU64::new(64);

/// Set the hold sampling rate, rounded up to a power of two.
pub(crate) fn set_hold_sampling(n: u64) {
    HOLD_SAMPLING.store(n.max(1).checked_next_power_of_two().unwrap_or(1 << 63), Ordering::Relaxed);
}

pub(crate) fn new_histogram() -> Histogram<u64> {
    // 1 ns to 1 hour at 3 significant figures: a fixed ~20 KiB per histogram.
    Histogram::new_with_bounds(1, 3_600_000_000_000, 3)
        .unwrap_or_else(|_| Histogram::new(3).expect("3 sigfigs is valid"))
}

impl LockStats {
    pub(crate) fn register(
        name: Option<&'static str>,
        kind: LockKind,
        created_at: &'static Location<'static>,
    ) -> Arc<Self> {
        let stats = Arc::new(LockStats {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            name: name.map_or_else(
                || format!("{}:{}:{}", created_at.file(), created_at.line(), created_at.column()),
                str::to_string,
            ),
            kind,
            created_at,
            holder: AtomicPtr::new(std::ptr::null_mut()),
            sites: std::array::from_fn(|_| SiteSlot { key: AtomicUsize::new(0), acquisitions: AtomicU64::new(0) }),
            holds: parking_lot::Mutex::new(new_histogram()),
        });
        REGISTRY.lock().push(stats.clone());
        stats
    }

    /// Count an exclusive acquisition (the caller holds the lock, so a load and a store
    /// suffice). Returns this site's count before this one, for hold sampling.
    #[inline]
    pub(crate) fn count_exclusive(&self, site: &'static Location<'static>, mode: Mode) -> u64 {
        let counter = &self.slot(site, mode).acquisitions;
        let n = counter.load(Ordering::Relaxed);
        counter.store(n + 1, Ordering::Relaxed);
        self.holder.store(site as *const _ as *mut _, Ordering::Relaxed);
        n
    }

    /// Count a shared (read) acquisition: other readers may count at the same time.
    #[inline]
    pub(crate) fn count_shared(&self, site: &'static Location<'static>) -> u64 {
        self.count_shared_as(site, Mode::Read)
    }

    /// Count an acquisition that may race with others' counting (readers, foreign locks).
    #[inline]
    pub(crate) fn count_shared_as(&self, site: &'static Location<'static>, mode: Mode) -> u64 {
        self.holder.store(site as *const _ as *mut _, Ordering::Relaxed);
        self.slot(site, mode).acquisitions.fetch_add(1, Ordering::Relaxed)
    }

    /// Acquisitions of every mode at every site.
    pub(crate) fn acquisitions(&self) -> u64 {
        self.sites.iter().map(|s| s.acquisitions.load(Ordering::Relaxed)).sum()
    }

    #[inline]
    fn slot(&self, site: &'static Location<'static>, mode: Mode) -> &SiteSlot {
        let wanted = slot_key(site, mode);
        for slot in &self.sites[..SITE_SLOTS - 1] {
            let current = slot.key.load(Ordering::Relaxed);
            if current == wanted {
                return slot;
            }
            if current == 0 {
                match slot.key.compare_exchange(0, wanted, Ordering::Relaxed, Ordering::Relaxed) {
                    Ok(_) => return slot,
                    // A racing reader claimed it: for this site, or look on.
                    Err(now) if now == wanted => return slot,
                    Err(_) => {}
                }
            }
        }
        &self.sites[SITE_SLOTS - 1]
    }

    pub(crate) fn record_hold(&self, nanos: u64) {
        let _ = self.holds.lock().record(nanos.max(1));
    }

    /// Counters per (site, mode); the overflow slot is reported with site `None`.
    pub(crate) fn site_counts(&self) -> Vec<(Option<&'static Location<'static>>, Mode, u64)> {
        let mut counts = Vec::new();
        for (i, slot) in self.sites.iter().enumerate() {
            let count = slot.acquisitions.load(Ordering::Relaxed);
            let key = slot.key.load(Ordering::Relaxed);
            if count == 0 {
                continue;
            }
            let mode = match key & 3 {
                1 => Mode::Read,
                2 => Mode::Write,
                _ => Mode::Lock,
            };
            let ptr = (key & !3) as *const Location<'static>;
            // SAFETY: keys are built only from `&'static Location` pointers.
            let site = if i == SITE_SLOTS - 1 { None } else { unsafe { ptr.as_ref() } };
            counts.push((site, mode, count));
        }
        counts
    }

    pub(crate) fn holder_site(&self) -> Option<&'static Location<'static>> {
        // SAFETY: only `&'static Location` pointers are ever stored.
        unsafe { self.holder.load(Ordering::Relaxed).as_ref() }
    }
}

pub(crate) fn registered() -> Vec<Arc<LockStats>> {
    REGISTRY.lock().clone()
}

/// Should this acquisition's hold time be measured?
#[inline]
pub(crate) fn sample_hold(count_before: u64) -> bool {
    count_before & (HOLD_SAMPLING.load(Ordering::Relaxed) - 1) == 0
}

#[inline]
pub(crate) fn layers_active() -> bool {
    ACTIVE_LAYERS.load(Ordering::Relaxed) != 0
}

pub(crate) fn site_string(site: &Location<'_>) -> String {
    format!("{}:{}:{}", site.file(), site.line(), site.column())
}

/// The site behind an address taken from a `&'static Location` (0: none).
pub(crate) fn site_at(address: usize) -> Option<&'static Location<'static>> {
    // SAFETY: non-zero addresses are only ever taken from `&'static Location` values
    // by this crate (`emit_wait`), which live for the whole program.
    unsafe { (address as *const Location<'static>).as_ref() }
}
