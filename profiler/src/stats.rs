//! Per-lock statistics shared by the lock wrappers and the layer.
//!
//! A lock *class* is what the report shows as one lock: every instance with the same
//! name, kind and construction site (all the per-connection mutexes made on one line,
//! say). Classes live in a global registry, so the report still sees locks that were
//! dropped; there is at most one per line of code that makes locks, capped at
//! [`MAX_LOCK_CLASSES`].
//!
//! Each instance that is acquired while a [`ContentionLayer`](crate::ContentionLayer)
//! exists gets its own [`LockStats`]: its counters are written by the lock's holder
//! alone, so counting needs no read-modify-write. When the lock is dropped, its
//! counts are folded into its class and its [`LockStats`] freed.

use crate::histogram::Histogram;
/// The kinds and modes are the report's own, one list for both.
pub(crate) use lockscope_report::{LockKind, Mode};
use std::collections::HashMap;
use std::panic::Location;
use std::sync::atomic::{AtomicPtr, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

pub const OTHER: &str = "other";

/// Hold times are timed for 1 in this many acquisitions unless the layer says otherwise.
pub(crate) const DEFAULT_HOLD_SAMPLING: u64 = 64;

/// What the wrappers' fast path reads, in one load: 0 while no `ContentionLayer` is
/// live, else `OBSERVED` with the hold sampling mask. One static rather than a layer
/// count and a rate: each is a load through the GOT from the user's crate.
static OBSERVING: AtomicU64 = AtomicU64::new(0);
const OBSERVED: u64 = 1 << 63;

/// Live layers and the hold sampling rate, from which `OBSERVING` is derived.
static SETTINGS: parking_lot::Mutex<Settings> =
    parking_lot::Mutex::new(Settings { layers: 0, hold_sampling: DEFAULT_HOLD_SAMPLING });

struct Settings {
    layers: usize,
    /// 1 in N acquisitions has its hold time measured; N is a power of two so the
    /// check on the fast path is a mask, not a division.
    hold_sampling: u64,
}

impl Settings {
    fn publish(&self) {
        let observing = if self.layers == 0 { 0 } else { OBSERVED | (self.hold_sampling - 1) };
        OBSERVING.store(observing, Ordering::Relaxed);
    }
}

/// A layer is live: the wrappers observe from now on.
pub(crate) fn layer_added() {
    let mut settings = SETTINGS.lock();
    settings.layers += 1;
    settings.publish();
}

pub(crate) fn layer_dropped() {
    let mut settings = SETTINGS.lock();
    settings.layers = settings.layers.saturating_sub(1);
    settings.publish();
}

/// Set the hold sampling rate, rounded up to a power of two (at most 2^62).
pub(crate) fn set_hold_sampling(n: u64) {
    let mut settings = SETTINGS.lock();
    settings.hold_sampling = n.clamp(1, 1 << 62).next_power_of_two();
    settings.publish();
}

pub(crate) fn hold_sampling() -> u64 {
    SETTINGS.lock().hold_sampling
}

/// Proof that a layer was live when an acquisition began, with its sampling rate.
#[derive(Clone, Copy)]
pub(crate) struct Observing(u64);

impl Observing {
    /// `None` without a live layer: one relaxed load.
    #[inline(always)]
    pub(crate) fn now() -> Option<Observing> {
        let observing = OBSERVING.load(Ordering::Relaxed);
        if observing == 0 {
            None
        } else {
            Some(Observing(observing))
        }
    }

    /// Should the acquisition that found `count_before` earlier ones have its hold timed?
    #[inline(always)]
    pub(crate) fn sample_hold(self, count_before: u64) -> bool {
        count_before & self.0 & !OBSERVED == 0
    }
}

/// Distinct lock classes (name, kind, construction site) reported apart; locks of
/// further classes are reported together as `other`. All the locks of a class are one
/// row of the report:
///
/// ```
/// use tracing_subscriber::prelude::*;
/// let (layer, report) = lockscope::ContentionLayer::new();
/// tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
///     for request in 0..3 {
///         let per_request = lockscope::Mutex::named("per-request", request);
///         drop(per_request.lock());
///     }
/// });
/// let snapshot = report.snapshot();
/// let rows: Vec<_> = snapshot.locks.iter().filter(|l| l.name == "per-request").collect();
/// assert_eq!((rows.len(), rows[0].acquisitions), (1, 3));
/// ```
pub const MAX_LOCK_CLASSES: usize = 4_096;

/// Sites counted apart per lock instance; more are counted per mode as `other`.
const SITE_SLOTS: usize = 16;

const MODES: [Mode; 3] = [Mode::Lock, Mode::Read, Mode::Write];

/// One lock as the report shows it: the instances sharing a name, kind and
/// construction site (`None` for the `other` class).
pub(crate) struct LockClass {
    pub(crate) id: u64,
    pub(crate) name: String,
    pub(crate) kind: LockKind,
    pub(crate) created_at: Option<&'static Location<'static>>,
    /// Sampled hold times of all instances, in nanoseconds.
    pub(crate) holds: Histogram,
    instances: parking_lot::Mutex<Instances>,
}

#[derive(Default)]
struct Instances {
    /// Instances that may still count, by address.
    live: HashMap<usize, Arc<LockStats>>,
    /// Counts of dropped instances per (site address, 0 for `other`; mode).
    retired: HashMap<(usize, Mode), u64>,
}

/// Counters of one acquire site in one mode. The key packs the `&'static Location`
/// address with the mode in its low bits (a `Location` is pointer-aligned), so a slot
/// is claimed with one compare-exchange.
struct SiteSlot {
    key: AtomicUsize,
    acquisitions: AtomicU64,
}

fn slot_key(site: &'static Location<'static>, mode: Mode) -> usize {
    site as *const Location<'static> as usize | mode as usize
}

/// The slot a key is looked up in first: a multiplicative hash, so that a lock
/// acquired at several sites still finds each one at its first probe.
#[inline]
fn home_slot(key: usize) -> usize {
    const FIBONACCI: u64 = 0x9E37_79B9_7F4A_7C15;
    ((key as u64).wrapping_mul(FIBONACCI) >> (u64::BITS - SITE_SLOTS.trailing_zeros())) as usize
}

/// The counters of one lock instance.
pub(crate) struct LockStats {
    pub(crate) class: Arc<LockClass>,
    /// Site of the current (or last) holder, for "blocked behind".
    holder: AtomicPtr<Location<'static>>,
    /// Acquisitions per site and mode. Exclusive holders update their slot with a load
    /// and a store (no read-modify-write): only the holder writes it.
    sites: [SiteSlot; SITE_SLOTS],
    /// Acquisitions per mode at sites beyond the slots.
    other: [AtomicU64; 3],
}

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct ClassKey {
    name: Option<&'static str>,
    kind: LockKind,
    // By value: one source position can have several `Location` statics.
    created_at: Option<Location<'static>>,
}

static CLASSES: parking_lot::Mutex<Option<HashMap<ClassKey, Arc<LockClass>>>> = parking_lot::Mutex::new(None);
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// The class of locks with this name, kind and construction site.
fn class_of(name: Option<&'static str>, kind: LockKind, created_at: &'static Location<'static>) -> Arc<LockClass> {
    let mut classes = CLASSES.lock();
    let classes = classes.get_or_insert_with(HashMap::new);
    let mut key = ClassKey { name, kind, created_at: Some(*created_at) };
    if !classes.contains_key(&key) && classes.len() >= MAX_LOCK_CLASSES {
        key = ClassKey { name: None, kind, created_at: None };
    }
    classes
        .entry(key)
        .or_insert_with(|| {
            Arc::new(LockClass {
                id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
                name: match (key.name, key.created_at) {
                    (Some(name), _) => name.to_string(),
                    (None, Some(at)) => site_string(&at),
                    (None, None) => OTHER.to_string(),
                },
                kind,
                created_at: key.created_at.map(|_| created_at),
                holds: Histogram::default(),
                instances: parking_lot::Mutex::default(),
            })
        })
        .clone()
}

impl LockStats {
    /// Counters for a new instance of its class, counted in reports from now on.
    pub(crate) fn register(
        name: Option<&'static str>,
        kind: LockKind,
        created_at: &'static Location<'static>,
    ) -> Arc<Self> {
        let stats = Arc::new(LockStats {
            class: class_of(name, kind, created_at),
            holder: AtomicPtr::new(std::ptr::null_mut()),
            sites: std::array::from_fn(|_| SiteSlot { key: AtomicUsize::new(0), acquisitions: AtomicU64::new(0) }),
            other: std::array::from_fn(|_| AtomicU64::new(0)),
        });
        stats.class.instances.lock().live.insert(Arc::as_ptr(&stats) as usize, stats.clone());
        stats
    }

    /// The instance is gone: fold its counts into its class and forget it.
    pub(crate) fn retire(&self) {
        let mut instances = self.class.instances.lock();
        instances.live.remove(&(self as *const LockStats as usize));
        for (site, mode, count) in self.site_counts() {
            *instances.retired.entry((site, mode)).or_default() += count;
        }
    }

    /// Count an exclusive acquisition (the caller holds the lock, so a load and a store
    /// suffice). Returns this site's count before this one, for hold sampling.
    #[inline]
    pub(crate) fn count_exclusive(&self, site: &'static Location<'static>, mode: Mode) -> u64 {
        let counter = self.counter(site, mode);
        let n = counter.load(Ordering::Relaxed);
        counter.store(n + 1, Ordering::Relaxed);
        self.note_holder(site);
        n
    }

    /// Count an acquisition that may race with others' counting (readers, foreign locks).
    #[inline]
    pub(crate) fn count_shared(&self, site: &'static Location<'static>, mode: Mode) -> u64 {
        self.note_holder(site);
        self.counter(site, mode).fetch_add(1, Ordering::Relaxed)
    }

    /// Record the holder's site, skipping the store when it is already there: the
    /// unlock's locked instruction waits for every pending store to drain.
    #[inline]
    fn note_holder(&self, site: &'static Location<'static>) {
        let site = site as *const Location<'static> as *mut Location<'static>;
        if self.holder.load(Ordering::Relaxed) != site {
            self.holder.store(site, Ordering::Relaxed);
        }
    }

    #[inline]
    fn counter(&self, site: &'static Location<'static>, mode: Mode) -> &AtomicU64 {
        let key = slot_key(site, mode);
        let home = &self.sites[home_slot(key)];
        if home.key.load(Ordering::Relaxed) == key {
            return &home.acquisitions;
        }
        self.probe(key, mode)
    }

    /// The first probe missed: look on from the home slot, claiming a free slot.
    #[cold]
    #[inline(never)]
    fn probe(&self, key: usize, mode: Mode) -> &AtomicU64 {
        let home = home_slot(key);
        for i in 0..SITE_SLOTS {
            let slot = &self.sites[(home + i) % SITE_SLOTS];
            let current = slot.key.load(Ordering::Relaxed);
            if current == key {
                return &slot.acquisitions;
            }
            if current == 0 {
                match slot.key.compare_exchange(0, key, Ordering::Relaxed, Ordering::Relaxed) {
                    Ok(_) => return &slot.acquisitions,
                    // A racing reader claimed it: for this site, or look on.
                    Err(now) if now == key => return &slot.acquisitions,
                    Err(_) => {}
                }
            }
        }
        &self.other[mode as usize]
    }

    /// Counts per (site address, 0 for `other`; mode).
    fn site_counts(&self) -> Vec<(usize, Mode, u64)> {
        let slots = self.sites.iter().map(|slot| {
            let key = slot.key.load(Ordering::Relaxed);
            (key & !3, Mode::from_code((key & 3) as u64), slot.acquisitions.load(Ordering::Relaxed))
        });
        let other = MODES.iter().map(|&mode| (0, mode, self.other[mode as usize].load(Ordering::Relaxed)));
        slots.chain(other).filter(|&(_, _, count)| count != 0).collect()
    }

    pub(crate) fn holder_site(&self) -> Option<&'static Location<'static>> {
        // SAFETY: only `&'static Location` pointers are ever stored.
        unsafe { self.holder.load(Ordering::Relaxed).as_ref() }
    }
}

impl LockClass {
    /// Acquisitions per (site, mode) of every instance, live or dropped; the site is
    /// `None` for the `other` counters.
    pub(crate) fn site_counts(&self) -> Vec<(Option<&'static Location<'static>>, Mode, u64)> {
        let instances = self.instances.lock();
        let mut counts = instances.retired.clone();
        for stats in instances.live.values() {
            for (site, mode, count) in stats.site_counts() {
                *counts.entry((site, mode)).or_default() += count;
            }
        }
        counts.into_iter().map(|((site, mode), count)| (site_at(site), mode, count)).collect()
    }
}

pub(crate) fn registered() -> Vec<Arc<LockClass>> {
    CLASSES.lock().as_ref().map(|classes| classes.values().cloned().collect()).unwrap_or_default()
}

pub(crate) fn site_string(site: &Location<'_>) -> String {
    format!("{}:{}:{}", site.file(), site.line(), site.column())
}

/// The site behind an address taken from a `&'static Location` (0: none).
pub(crate) fn site_at(address: usize) -> Option<&'static Location<'static>> {
    // SAFETY: non-zero addresses are only ever taken from `&'static Location` values
    // by this crate (slot keys, `emit_wait`), which live for the whole program.
    unsafe { (address as *const Location<'static>).as_ref() }
}
