//! `lockscope`: find out which locks your threads wait on, where, for how long,
//! inside which span, and behind whom.
//!
//! Swap `parking_lot::Mutex`/`RwLock` for [`Mutex`]/[`RwLock`], add one
//! [`ContentionLayer`] to your `tracing_subscriber::registry()`, and read the
//! [`Report`]:
//!
//! ```
//! use tracing_subscriber::prelude::*;
//!
//! let (layer, report) = lockscope::ContentionLayer::new();
//! let subscriber = tracing_subscriber::registry().with(layer);
//! tracing::subscriber::with_default(subscriber, || {
//!     let archive = lockscope::Mutex::named("bundle-archive", Vec::<u8>::new());
//!     archive.lock().push(1);
//! });
//! let snapshot: lockscope::Report = report.snapshot();
//! println!("{snapshot}");
//! ```
//!
//! Every acquisition is counted; every contended one is timed and emitted as a
//! `tracing` event (target `lockscope`, level TRACE, fields `lock`, `site`, `wait_ns`,
//! `lock_id`, `mode`, `holder`) that the layer aggregates and any layer can log.
//! Locks you cannot replace are measured with [`timed`] and [`timed_async`].
//!
//! A lock in the report is a lock *class*: all locks with one name, kind and
//! construction site, live or dropped. Acquisitions are counted per thread, by class,
//! site and mode, so memory grows with the classes (at most [`MAX_LOCK_CLASSES`]), their
//! sites and the threads, never with acquisitions or live locks: a lock is its own size
//! and nothing more.

mod acquire;
mod aggregate;
mod counters;
mod exit;
mod histogram;
mod layer;
#[cfg(feature = "metrics")]
pub mod metrics;
mod mutex;
mod rwlock;
mod snapshot;
mod stats;
mod timed;
mod wait_event;

pub use aggregate::{MAX_BREAKDOWN_KEYS, MAX_SITES};
pub use layer::{ContentionLayer, ReportHandle, REPORT_ENV};
pub use lockscope_report::{human_ns, BlockedBy, LockKind, LockReport, Mode, Report, SiteReport, SpanWait, Summary};
pub use mutex::{Mutex, MutexGuard};
pub use rwlock::{RwLock, RwLockReadGuard, RwLockWriteGuard};
pub use stats::MAX_LOCK_CLASSES;
pub use timed::{timed, timed_async, CONTENDED_AFTER};
