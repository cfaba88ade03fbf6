//! `ContentionLayer`: a `tracing_subscriber::Layer` that aggregates the contended
//! acquisitions the locks report, per lock, site, span path and holder.

use crate::aggregate::{Shared, SiteKey, Waits};
use crate::stats;
use lockscope_report::Report;
use std::sync::Arc;
use std::time::Instant;
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

/// Environment variable naming a file the JSON report is written to when the layer is
/// dropped or the process exits normally.
pub const REPORT_ENV: &str = "LOCKSCOPE_REPORT";

/// Measures lock contention. Add it to a registry:
///
/// ```
/// use tracing_subscriber::prelude::*;
/// let (layer, report) = lockscope::ContentionLayer::new();
/// let subscriber = tracing_subscriber::registry().with(layer);
/// tracing::subscriber::with_default(subscriber, || {
///     let m = lockscope::Mutex::named("demo", 0);
///     *m.lock() += 1;
/// });
/// let snapshot = report.snapshot();
/// assert!(snapshot.locks.iter().any(|l| l.name == "demo" && l.acquisitions == 1));
/// ```
pub struct ContentionLayer {
    shared: Arc<Shared>,
    report_path: Option<std::path::PathBuf>,
}

/// Reads what a [`ContentionLayer`] measured, at any time. Cheap to clone.
///
/// ```
/// let (_layer, report) = lockscope::ContentionLayer::new();
/// let other_handle = report.clone();
/// assert_eq!(other_handle.snapshot().version, 1);
/// ```
#[derive(Clone)]
pub struct ReportHandle {
    shared: Arc<Shared>,
    /// What `publish_metrics` already handed to the histograms.
    #[cfg(feature = "metrics")]
    published: Arc<parking_lot::Mutex<crate::metrics::Published>>,
}

impl ReportHandle {
    fn of(shared: Arc<Shared>) -> Self {
        ReportHandle {
            shared,
            #[cfg(feature = "metrics")]
            published: Arc::default(),
        }
    }
}

impl ContentionLayer {
    /// A new layer and the handle to read its report.
    pub fn new() -> (Self, ReportHandle) {
        // Calibrate the hold clock now rather than inside somebody's critical section.
        crate::acquire::clock();
        let shared = Arc::new(Shared { started: Instant::now(), waits: parking_lot::Mutex::new(Waits::default()) });
        stats::layer_added();
        let report_path = std::env::var_os(REPORT_ENV).map(std::path::PathBuf::from);
        let handle = ReportHandle::of(shared.clone());
        if let Some(path) = &report_path {
            crate::exit::write_at_exit(handle.clone(), path.clone());
        }
        (ContentionLayer { shared, report_path }, handle)
    }

    /// Hold times are measured for 1 in this many acquisitions unless
    /// [`hold_sampling`](Self::hold_sampling) says otherwise.
    ///
    /// ```
    /// let (_layer, report) = lockscope::ContentionLayer::new();
    /// # drop(_layer.hold_sampling(lockscope::ContentionLayer::DEFAULT_HOLD_SAMPLING));
    /// assert_eq!(report.snapshot().hold_sampling, lockscope::ContentionLayer::DEFAULT_HOLD_SAMPLING);
    /// ```
    pub const DEFAULT_HOLD_SAMPLING: u64 = stats::DEFAULT_HOLD_SAMPLING;

    /// Measure the hold time of 1 in `n` acquisitions (rounded up to a power of two).
    /// Hold times in the report are scaled estimates; `hold_sampling` in the report
    /// says the rate. The rate is process-wide: it applies to every layer and stays
    /// set after this one drops.
    ///
    /// ```
    /// let (layer, report) = lockscope::ContentionLayer::new();
    /// let layer = layer.hold_sampling(100);
    /// assert_eq!(report.snapshot().hold_sampling, 128);
    /// # drop(layer);
    /// ```
    pub fn hold_sampling(self, n: u64) -> Self {
        stats::set_hold_sampling(n);
        self
    }
}

impl Drop for ContentionLayer {
    fn drop(&mut self) {
        stats::layer_dropped();
        if let Some(path) = &self.report_path {
            let _ = ReportHandle::of(self.shared.clone()).write_json(path);
        }
    }
}

impl ReportHandle {
    /// The report so far: counts from every instrumented lock, waits from this layer.
    ///
    /// ```
    /// use tracing_subscriber::prelude::*;
    /// let (layer, report) = lockscope::ContentionLayer::new();
    /// tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
    ///     let m = lockscope::Mutex::named("snapshot-doc", ());
    ///     drop(m.lock());
    /// });
    /// let lock = report.snapshot().locks.into_iter().find(|l| l.name == "snapshot-doc").unwrap();
    /// assert_eq!((lock.kind.as_str(), lock.acquisitions, lock.contended), ("mutex", 1, 0));
    /// ```
    pub fn snapshot(&self) -> Report {
        crate::snapshot::build(&self.shared)
    }

    /// Write the report so far as JSON (version 1).
    ///
    /// ```
    /// let (_layer, report) = lockscope::ContentionLayer::new();
    /// let path = std::env::temp_dir().join("lockscope-doc-report.json");
    /// report.write_json(&path)?;
    /// let text = std::fs::read_to_string(&path)?;
    /// assert_eq!(lockscope::Report::from_json(&text).unwrap().version, 1);
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn write_json(&self, path: impl AsRef<std::path::Path>) -> std::io::Result<()> {
        self.snapshot().write_json(path)
    }

    /// Publish the contention so far through the `metrics` facade, to whatever recorder
    /// (exporter) the process installed: call it on a timer (feature `metrics`; names and
    /// labels in [`crate::metrics`]).
    #[cfg(feature = "metrics")]
    pub fn publish_metrics(&self) {
        let report = self.snapshot();
        let mut published = self.published.lock();
        crate::metrics::publish(&report, &self.shared, &mut published);
    }
}

impl<S> Layer<S> for ContentionLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let Some(wait) = crate::wait_event::decode(event) else { return };
        // The spans entered on the waiting thread, outermost first.
        let span_path =
            ctx.event_scope(event).map(|scope| scope.from_root().map(|span| span.name()).collect()).unwrap_or_default();
        let key = SiteKey { lock_id: wait.lock_id, site: wait.site, mode: wait.mode };
        self.shared.waits.lock().record(key, span_path, wait.holder, wait.wait_ns);
    }
}
