//! Wait statistics keyed by (lock, site, mode), broken down by span path and holder.
//! Memory is bounded by the number of distinct keys, never by acquisitions.

use crate::histogram::Histogram;
use crate::stats::Mode;
pub use crate::stats::OTHER;
use std::collections::HashMap;

/// Distinct (lock, site, mode, span path or holder) breakdown rows kept; further ones
/// are summed into an `other` row of their site.
pub const MAX_BREAKDOWN_KEYS: usize = 10_000;
/// Distinct (lock, site, mode) histograms kept; further sites are summed into `other`.
pub const MAX_SITES: usize = 2_000;

/// A site is the address of its `&'static Location` (0: the `other` bucket), so
/// recording a wait formats nothing.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct SiteKey {
    pub lock_id: u64,
    pub site: usize,
    pub mode: Mode,
}

#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub enum Breakdown {
    /// Span names from the root; `None` is the `other` bucket.
    Span(Option<Vec<&'static str>>),
    /// The holder's site address; 0 when unknown, `None` for `other`.
    Holder(Option<usize>),
}

#[derive(Default, Clone, Copy)]
pub struct Totals {
    pub wait_ns: u64,
    pub contended: u64,
}

/// Everything the layer has seen.
#[derive(Default)]
pub struct Waits {
    pub sites: HashMap<SiteKey, Histogram>,
    pub breakdown: HashMap<(SiteKey, Breakdown), Totals>,
}

impl Waits {
    pub fn record(&mut self, mut key: SiteKey, span_path: Vec<&'static str>, holder: usize, wait_ns: u64) {
        if !self.sites.contains_key(&key) && self.sites.len() >= MAX_SITES {
            key.site = 0;
        }
        self.sites.entry(key).or_default().record(wait_ns);
        for part in [Breakdown::Span(Some(span_path)), Breakdown::Holder(Some(holder))] {
            let mut row = (key, part);
            if !self.breakdown.contains_key(&row) && self.breakdown.len() >= MAX_BREAKDOWN_KEYS {
                row.1 = match row.1 {
                    Breakdown::Span(_) => Breakdown::Span(None),
                    Breakdown::Holder(_) => Breakdown::Holder(None),
                };
            }
            let totals = self.breakdown.entry(row).or_default();
            totals.wait_ns = totals.wait_ns.saturating_add(wait_ns);
            totals.contended += 1;
        }
    }
}

/// What the layer shares with its report handles: when it started, and the waits.
pub(crate) struct Shared {
    pub(crate) started: std::time::Instant,
    // Plain parking_lot: an instrumented lock here would report itself, recursively.
    pub(crate) waits: parking_lot::Mutex<Waits>,
}
