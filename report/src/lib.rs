//! `lockscope-report`: the contention report of the `lockscope` profiler. Its model
//! (the version 1 JSON schema), the contention table (`Display`), and renderers that are
//! pure functions of a report: folded stacks ([`folded`]), a diff against a baseline
//! ([`diff`]) and, with features, a flamegraph (`svg`) and Go's mutex profile (`pprof`).
//!
//! The profiler builds reports; the lint (`cargo lockscope report`, `lint --profile`)
//! reads them. Neither needs the other: this crate depends on serde only.

pub mod diff;
pub mod folded;
pub mod html;
#[cfg(feature = "pprof")]
pub mod pprof;
#[cfg(feature = "svg")]
pub mod svg;

use serde::{Deserialize, Serialize};
use std::fmt;

/// The schema version this crate writes and reads.
pub const SCHEMA_VERSION: u32 = 1;

/// What the profiler measured. Serializes to the version 1 JSON schema; `Display`
/// renders the contention table.
///
/// ```
/// let report = lockscope_report::Report::empty(0);
/// assert!(report.to_string().starts_with("lockscope: "));
/// let json = serde_json::to_string(&report).unwrap();
/// assert_eq!(lockscope_report::Report::from_json(&json).unwrap(), report);
/// ```
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Report {
    pub version: u32,
    pub duration_ns: u64,
    /// Hold times were measured for 1 in this many acquisitions.
    pub hold_sampling: u64,
    /// Sorted by total wait, largest first.
    pub locks: Vec<LockReport>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LockReport {
    pub name: String,
    pub kind: LockKind,
    pub created_at: String,
    pub acquisitions: u64,
    pub contended: u64,
    pub wait_ns: Summary,
    pub hold_ns: Summary,
    pub sites: Vec<SiteReport>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SiteReport {
    pub site: String,
    pub mode: Mode,
    pub acquisitions: u64,
    pub contended: u64,
    pub wait_ns: Summary,
    pub spans: Vec<SpanWait>,
    pub blocked_by: Vec<BlockedBy>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SpanWait {
    /// Span names from the root, joined by `;`.
    pub path: String,
    pub wait_ns_total: u64,
    pub contended: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct BlockedBy {
    /// Acquire site of the holder the waiters queued behind.
    pub site: String,
    pub wait_ns_total: u64,
    pub contended: u64,
}

/// Nanosecond statistics of a set of durations. `total` and `max` are exact (for
/// sampled holds, `total` is the sampled sum scaled by the rate); the percentiles come
/// from a fixed-size histogram and are within 3.2%.
///
/// ```
/// let none = lockscope_report::Summary::default();
/// assert_eq!((none.total, none.p99), (0, 0));
/// ```
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq)]
pub struct Summary {
    pub total: u64,
    pub max: u64,
    pub mean: u64,
    pub p50: u64,
    pub p99: u64,
}

/// What kind of lock a class is: `"mutex"` or `"rwlock"` in JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LockKind {
    Mutex,
    Rwlock,
}

/// How a site acquires: `"lock"` (a mutex), `"read"` or `"write"` in JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Lock = 0,
    Read = 1,
    Write = 2,
}

impl LockKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LockKind::Mutex => "mutex",
            LockKind::Rwlock => "rwlock",
        }
    }
}

impl Mode {
    /// The mode a number (`mode as u64`) stands for; unknown numbers read as `Lock`.
    pub fn from_code(code: u64) -> Mode {
        match code {
            1 => Mode::Read,
            2 => Mode::Write,
            _ => Mode::Lock,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Lock => "lock",
            Mode::Read => "read",
            Mode::Write => "write",
        }
    }
}

/// `lock.kind == "mutex"`, as the JSON spells it.
macro_rules! spelled {
    ($ty:ty) => {
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.pad(self.as_str())
            }
        }
        impl PartialEq<str> for $ty {
            fn eq(&self, other: &str) -> bool {
                self.as_str() == other
            }
        }
        impl PartialEq<&str> for $ty {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }
    };
}
spelled!(LockKind);
spelled!(Mode);

/// Why a text is not a report [`Report::from_json`] can read.
#[derive(Debug)]
pub enum ReadError {
    /// Not JSON, or not of the report's shape.
    Json(serde_json::Error),
    /// A report of another schema version.
    Version(serde_json::Value),
    /// A JSON object without `"version"`, or not an object.
    NotAReport(&'static str),
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Json(e) if e.is_syntax() || e.is_eof() => {
                write!(f, "{}:{}: not JSON: {e}", e.line(), e.column())
            }
            ReadError::Json(e) => write!(f, "not a lockscope report: {e}"),
            ReadError::Version(serde_json::Value::Number(v)) => {
                write!(f, "report version {v}; this lockscope reads version {SCHEMA_VERSION}")
            }
            ReadError::Version(other) => write!(
                f,
                "not a lockscope report: \"version\" is {other}, where a report has the number {SCHEMA_VERSION}"
            ),
            ReadError::NotAReport(why) => write!(f, "not a lockscope report: {why}"),
        }
    }
}

impl std::error::Error for ReadError {}

impl Report {
    /// A report of nothing measured over `duration_ns`.
    pub fn empty(duration_ns: u64) -> Report {
        Report { version: SCHEMA_VERSION, duration_ns, hold_sampling: 1, locks: Vec::new() }
    }

    /// Write the report as pretty JSON.
    pub fn write_json(&self, path: impl AsRef<std::path::Path>) -> std::io::Result<()> {
        let text = serde_json::to_string_pretty(self).map_err(std::io::Error::other)?;
        std::fs::write(path, text + "\n")
    }

    /// Read a report written by [`Report::write_json`], checking its schema version.
    pub fn from_json(text: &str) -> Result<Report, ReadError> {
        Self::from_slice(text.as_bytes())
    }

    /// [`Report::from_json`] of bytes.
    pub fn from_slice(bytes: &[u8]) -> Result<Report, ReadError> {
        let value: serde_json::Value = serde_json::from_slice(bytes).map_err(ReadError::Json)?;
        let Some(object) = value.as_object() else {
            return Err(ReadError::NotAReport("the JSON is not an object"));
        };
        match object.get("version") {
            Some(v) if v.as_u64() == Some(u64::from(SCHEMA_VERSION)) => {}
            Some(other) => return Err(ReadError::Version(other.clone())),
            None => return Err(ReadError::NotAReport("no \"version\" key")),
        }
        serde_json::from_value(value).map_err(ReadError::Json)
    }
}

/// `1.23 ms`, `456 µs`, `12 ns`: how the table prints durations.
///
/// ```
/// assert_eq!(lockscope_report::human_ns(12), "12 ns");
/// assert_eq!(lockscope_report::human_ns(1_230_000), "1.23 ms");
/// ```
pub fn human_ns(ns: u64) -> String {
    let n = ns as f64;
    if n >= 1e9 {
        format!("{:.2} s", n / 1e9)
    } else if n >= 1e6 {
        format!("{:.2} ms", n / 1e6)
    } else if n >= 1e3 {
        format!("{:.1} µs", n / 1e3)
    } else {
        format!("{ns} ns")
    }
}

impl fmt::Display for Report {
    /// The contention table: one row per lock, then its top site, span and holder.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "lockscope: {} locks over {} (hold times sampled 1 in {})",
            self.locks.len(),
            human_ns(self.duration_ns),
            self.hold_sampling
        )?;
        writeln!(
            f,
            "{:<24} {:<6} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}",
            "lock", "kind", "acquired", "contended", "wait", "mean", "p99", "max", "hold"
        )?;
        for lock in &self.locks {
            let pct =
                if lock.acquisitions == 0 { 0.0 } else { 100.0 * lock.contended as f64 / lock.acquisitions as f64 };
            let mut name = lock.name.clone();
            if name.chars().count() > 24 {
                name = format!(
                    "…{}",
                    name.chars().rev().take(23).collect::<Vec<_>>().into_iter().rev().collect::<String>()
                );
            }
            writeln!(
                f,
                "{:<24} {:<6} {:>10} {:>9.1}% {:>10} {:>10} {:>10} {:>10} {:>10}",
                name,
                lock.kind,
                lock.acquisitions,
                pct,
                human_ns(lock.wait_ns.total),
                human_ns(lock.wait_ns.mean),
                human_ns(lock.wait_ns.p99),
                human_ns(lock.wait_ns.max),
                human_ns(lock.hold_ns.total),
            )?;
            if let Some(site) = lock.sites.iter().find(|s| s.contended > 0) {
                writeln!(
                    f,
                    "  top site:  {} ({}) waited {} in {} waits",
                    site.site,
                    site.mode,
                    human_ns(site.wait_ns.total),
                    site.contended
                )?;
                if let Some(span) = site.spans.first() {
                    let path = if span.path.is_empty() { "(no span)" } else { &span.path };
                    writeln!(f, "  top span:  {path} waited {}", human_ns(span.wait_ns_total))?;
                }
                if let Some(holder) = site.blocked_by.first() {
                    let who = if holder.site.is_empty() { "(unknown)" } else { &holder.site };
                    writeln!(f, "  behind:    {who} for {}", human_ns(holder.wait_ns_total))?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_lock() -> Report {
        let wait = Summary { total: 10, max: 10, mean: 10, p50: 10, p99: 10 };
        let site = SiteReport {
            site: "src/a.rs:1:1".into(),
            mode: Mode::Read,
            acquisitions: 2,
            contended: 1,
            wait_ns: wait,
            spans: Vec::new(),
            blocked_by: Vec::new(),
        };
        let lock = LockReport {
            name: "cache".into(),
            kind: LockKind::Rwlock,
            created_at: "src/a.rs:0:0".into(),
            acquisitions: 2,
            contended: 1,
            wait_ns: wait,
            hold_ns: Summary::default(),
            sites: vec![site],
        };
        Report { locks: vec![lock], ..Report::empty(5) }
    }

    #[test]
    fn kinds_and_modes_are_spelled_as_the_schema_says() {
        let json = serde_json::to_value(one_lock()).expect("serializes");
        assert_eq!(json["version"], 1);
        assert_eq!(json["locks"][0]["kind"], "rwlock");
        assert_eq!(json["locks"][0]["sites"][0]["mode"], "read");
        let back = Report::from_json(&json.to_string()).expect("reads back");
        assert_eq!(back, one_lock());
        assert!(back.locks[0].kind == "rwlock" && back.locks[0].sites[0].mode == "read");
    }

    #[test]
    fn from_json_checks_the_schema_version() {
        let mut json = serde_json::to_value(one_lock()).expect("serializes");
        json["version"] = 2.into();
        let err = Report::from_json(&json.to_string()).expect_err("version 2 is refused");
        assert_eq!(err.to_string(), "report version 2; this lockscope reads version 1");
        json["version"] = "1".into();
        assert!(Report::from_json(&json.to_string())
            .expect_err("a string")
            .to_string()
            .contains("\"version\" is \"1\""));
        assert!(Report::from_json("[1]").expect_err("not an object").to_string().contains("not an object"));
        assert!(Report::from_json("{\"version\": 1").expect_err("cut short").to_string().contains("not JSON"));
        json["version"] = 1.into();
        json["locks"][0]["kind"] = "spinlock".into();
        assert!(Report::from_json(&json.to_string())
            .expect_err("unknown kind")
            .to_string()
            .starts_with("not a lockscope report"));
    }
}
