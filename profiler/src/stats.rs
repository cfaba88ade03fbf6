//! Lock classes, and the switch and sampling rate the wrappers' fast path reads.
//!
//! A lock *class* is what the report shows as one lock: every instance with the same
//! name, kind and construction site (all the per-connection mutexes made on one line,
//! say). Classes live in a global registry and are never freed, so the report still
//! sees locks that were dropped; there is at most one per line of code that makes
//! locks, capped at [`MAX_LOCK_CLASSES`]. What an instance owns is its class's id and
//! the site of its last holder; its acquisitions are counted per thread
//! (`counters.rs`, which reads its modes from here).

use crate::histogram::Histogram;
/// The kinds and modes are the report's own, one list for both.
pub(crate) use lockscope_report::{LockKind, Mode};
use std::collections::HashMap;
use std::panic::Location;
use std::sync::atomic::{AtomicPtr, AtomicU64, Ordering};

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

/// One lock as the report shows it: the instances sharing a name, kind and
/// construction site (`None` for the `other` class). Never freed: a class outlives its
/// locks, so the report still shows locks that were dropped.
pub(crate) struct LockClass {
    pub(crate) id: u64,
    pub(crate) name: String,
    pub(crate) kind: LockKind,
    pub(crate) created_at: Option<&'static Location<'static>>,
    /// Sampled hold times of all instances, in nanoseconds.
    pub(crate) holds: Histogram,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct ClassKey {
    name: Option<&'static str>,
    kind: LockKind,
    // By value: one source position can have several `Location` statics.
    created_at: Option<Location<'static>>,
}

static CLASSES: parking_lot::Mutex<Option<HashMap<ClassKey, &'static LockClass>>> = parking_lot::Mutex::new(None);

/// Classes by id (ids run from 1 to `MAX_LOCK_CLASSES + 1`, the `other` class
/// included), for the paths that only have a counter key's class bits.
static BY_ID: [AtomicPtr<LockClass>; MAX_LOCK_CLASSES + 2] =
    [const { AtomicPtr::new(std::ptr::null_mut()) }; MAX_LOCK_CLASSES + 2];

/// The class of locks with this name, kind and construction site, made on first use.
pub(crate) fn class_of(
    name: Option<&'static str>,
    kind: LockKind,
    created_at: &'static Location<'static>,
) -> &'static LockClass {
    let mut classes = CLASSES.lock();
    let classes = classes.get_or_insert_with(HashMap::new);
    let mut key = ClassKey { name, kind, created_at: Some(*created_at) };
    if !classes.contains_key(&key) && classes.len() >= MAX_LOCK_CLASSES {
        key = ClassKey { name: None, kind, created_at: None };
    }
    let next_id = classes.len() as u64 + 1;
    classes.entry(key).or_insert_with(|| {
        let class: &'static LockClass = Box::leak(Box::new(LockClass {
            id: next_id,
            name: match (key.name, key.created_at) {
                (Some(name), _) => name.to_string(),
                (None, Some(at)) => site_string(&at),
                (None, None) => OTHER.to_string(),
            },
            kind,
            created_at: key.created_at.map(|_| created_at),
            holds: Histogram::default(),
        }));
        BY_ID[class.id as usize].store((class as *const LockClass).cast_mut(), Ordering::Release);
        class
    })
}

/// The class with this id, if it was made.
pub(crate) fn class_by_id(id: u64) -> Option<&'static LockClass> {
    let class = BY_ID.get(usize::try_from(id).ok()?)?.load(Ordering::Acquire);
    // SAFETY: only leaked, never freed `LockClass` pointers are stored.
    unsafe { class.as_ref() }
}

pub(crate) fn registered() -> Vec<&'static LockClass> {
    CLASSES.lock().as_ref().map(|classes| classes.values().copied().collect()).unwrap_or_default()
}

pub(crate) fn site_string(site: &Location<'_>) -> String {
    format!("{}:{}:{}", site.file(), site.line(), site.column())
}

/// The site behind an address taken from a `&'static Location` (0: none).
pub(crate) fn site_at(address: usize) -> Option<&'static Location<'static>> {
    // SAFETY: non-zero addresses are only ever taken from `&'static Location` values
    // by this crate (counter keys, `emit_wait`), which live for the whole program.
    unsafe { (address as *const Location<'static>).as_ref() }
}
