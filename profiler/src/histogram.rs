//! A fixed-size, lock-free latency histogram.
//!
//! Log-linear buckets: values below 32 ns are exact, and every power of two above is
//! split into 16 equal buckets, so a bucket is at most 1/16 of its values wide. A
//! percentile is reported as its bucket's midpoint: within 3.2% of the true value.
//! Durations are clamped to 2^48 ns (78 hours).
//!
//! It is lock-free so that a sampled hold can be recorded by any holder of any
//! instance of a lock class, readers included, while a report is being built, and it
//! is 5.6 KiB whatever it counts, so memory grows with distinct keys only.

use lockscope_report::Summary;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

const SUB_BITS: u32 = 4;
const SUB_BUCKETS: usize = 1 << SUB_BITS;
/// Longer durations are recorded as this.
const MAX_TRACKED: u64 = (1 << 48) - 1;
const BUCKETS: usize = bucket_of(MAX_TRACKED) + 1;

/// Bucket of `value` (at most `MAX_TRACKED`).
const fn bucket_of(value: u64) -> usize {
    if value < SUB_BUCKETS as u64 {
        return value as usize;
    }
    let octave = u64::BITS - 1 - value.leading_zeros(); // >= SUB_BITS
    let sub = (value >> (octave - SUB_BITS)) as usize & (SUB_BUCKETS - 1);
    ((octave - SUB_BITS + 1) as usize) * SUB_BUCKETS + sub
}

/// The smallest value and the width of bucket `index`.
fn bucket_range(index: usize) -> (u64, u64) {
    if index < 2 * SUB_BUCKETS {
        return (index as u64, 1);
    }
    let shift = (index / SUB_BUCKETS - 1) as u32;
    let sub = (index % SUB_BUCKETS) as u64;
    ((SUB_BUCKETS as u64 + sub) << shift, 1 << shift)
}

/// The value a bucket stands for: its midpoint.
#[cfg(feature = "metrics")]
pub(crate) fn bucket_midpoint(index: usize) -> u64 {
    let (low, width) = bucket_range(index);
    low + width / 2
}

pub(crate) struct Histogram {
    buckets: Box<[AtomicU64]>,
    sum: AtomicU64,
    max: AtomicU64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            buckets: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
            sum: AtomicU64::new(0),
            max: AtomicU64::new(0),
        }
    }
}

impl Histogram {
    /// Record one duration; durations over 2^48 ns (78 hours) count as 2^48 - 1.
    pub(crate) fn record(&self, nanos: u64) {
        // Clamped, the sum cannot wrap before 65,536 such durations; a plain add keeps
        // a sampled hold at two read-modify-writes.
        let nanos = nanos.min(MAX_TRACKED);
        self.buckets[bucket_of(nanos)].fetch_add(1, Relaxed);
        self.sum.fetch_add(nanos, Relaxed);
        if nanos > self.max.load(Relaxed) {
            self.max.fetch_max(nanos, Relaxed);
        }
    }

    /// How many durations each bucket holds.
    #[cfg(feature = "metrics")]
    pub(crate) fn bucket_counts(&self) -> Vec<u64> {
        self.buckets.iter().map(|b| b.load(Relaxed)).collect()
    }

    /// Add everything `other` recorded.
    pub(crate) fn add(&self, other: &Histogram) {
        for (mine, theirs) in self.buckets.iter().zip(other.buckets.iter()) {
            let n = theirs.load(Relaxed);
            if n != 0 {
                mine.fetch_add(n, Relaxed);
            }
        }
        self.sum.fetch_add(other.sum.load(Relaxed), Relaxed);
        self.max.fetch_max(other.max.load(Relaxed), Relaxed);
    }

    /// Count, total, max, mean and percentiles of what was recorded, with the total
    /// multiplied by `scale` (the sampling rate, for sampled values).
    pub(crate) fn summary(&self, scale: u64) -> (u64, Summary) {
        // One read of every bucket, so the percentiles agree with the count even while
        // other threads record.
        let counts: Vec<u64> = self.buckets.iter().map(|b| b.load(Relaxed)).collect();
        let count: u64 = counts.iter().sum();
        if count == 0 {
            return (0, Summary::default());
        }
        let sum = self.sum.load(Relaxed);
        let max = self.max.load(Relaxed);
        let percentile = |q: f64| {
            let rank = ((q * count as f64).ceil() as u64).clamp(1, count);
            let mut seen = 0;
            for (index, n) in counts.iter().enumerate() {
                seen += n;
                if seen >= rank {
                    let (low, width) = bucket_range(index);
                    return (low + (width - 1) / 2).min(max);
                }
            }
            max
        };
        let summary = Summary {
            total: sum.saturating_mul(scale),
            max,
            mean: sum / count,
            p50: percentile(0.5),
            p99: percentile(0.99),
        };
        (count, summary)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_contiguous_and_at_most_a_sixteenth_wide() {
        let mut expected_low = 0;
        for index in 0..BUCKETS {
            let (low, width) = bucket_range(index);
            assert_eq!(low, expected_low, "bucket {index}");
            assert!(low < SUB_BUCKETS as u64 || width * SUB_BUCKETS as u64 <= low, "bucket {index}");
            assert_eq!(bucket_of(low), index);
            assert_eq!(bucket_of(low + width - 1), index);
            expected_low = low + width;
        }
        assert_eq!(expected_low, MAX_TRACKED + 1);
        assert_eq!(BUCKETS, 720);
    }

    #[test]
    fn percentiles_are_within_the_bucket_error_of_exact_ones() {
        let histogram = Histogram::default();
        // A skewed set over six decades, from a fixed-seed LCG.
        let mut values = Vec::new();
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..100_000 {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            let value = 10 + ((state >> 33) % 1_000) * ((state >> 20) % 1_000);
            values.push(value);
            histogram.record(value);
        }
        values.sort_unstable();
        let exact = |q: f64| values[((q * values.len() as f64).ceil() as usize).clamp(1, values.len()) - 1];
        let (count, summary) = histogram.summary(1);
        assert_eq!(count, 100_000);
        assert_eq!(summary.total, values.iter().sum::<u64>());
        assert_eq!(summary.max, *values.last().unwrap_or(&0));
        for (got, want) in [(summary.p50, exact(0.5)), (summary.p99, exact(0.99))] {
            let error = (got as f64 - want as f64).abs() / want as f64;
            assert!(error <= 1.0 / 32.0, "{got} vs {want}: {error}");
        }
    }

    #[test]
    fn huge_values_are_clamped() {
        let histogram = Histogram::default();
        histogram.record(u64::MAX);
        histogram.record(5);
        let (count, summary) = histogram.summary(64);
        assert_eq!((count, summary.max), (2, MAX_TRACKED));
        assert_eq!(summary.total, (MAX_TRACKED + 5) * 64);
        assert_eq!(summary.p50, 5);
    }

    #[test]
    fn adding_merges_counts_sums_and_maxima() {
        let (a, b) = (Histogram::default(), Histogram::default());
        a.record(100);
        b.record(300);
        b.record(20);
        a.add(&b);
        let (count, summary) = a.summary(1);
        assert_eq!((count, summary.total, summary.max), (3, 420, 300));
    }
}
