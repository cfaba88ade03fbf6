//! Go's mutex profile format (the `pprof` feature): a gzipped `profile.proto` with sample
//! types `contentions/count` and `delay/nanoseconds`, so `go tool pprof`, Pyroscope and
//! Grafana read lockscope's waits.
//!
//! One sample per (span path, lock, site), as in [`crate::folded`]: its frames are the
//! span path from the root, then `lock@site` as the leaf. Wait a site had outside any
//! recorded span path is a sample with the leaf alone. The delay total equals the
//! report's wait total.

use crate::Report;
use std::collections::HashMap;
use std::io::Write;

/// The messages of `profile.proto` this writer fills (field numbers as in
/// github.com/google/pprof/proto/profile.proto).
pub mod proto {
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Profile {
        #[prost(message, repeated, tag = "1")]
        pub sample_type: Vec<ValueType>,
        #[prost(message, repeated, tag = "2")]
        pub sample: Vec<Sample>,
        #[prost(message, repeated, tag = "4")]
        pub location: Vec<Location>,
        #[prost(message, repeated, tag = "5")]
        pub function: Vec<Function>,
        #[prost(string, repeated, tag = "6")]
        pub string_table: Vec<String>,
        #[prost(int64, tag = "10")]
        pub duration_nanos: i64,
        #[prost(message, optional, tag = "11")]
        pub period_type: Option<ValueType>,
        #[prost(int64, tag = "12")]
        pub period: i64,
        #[prost(int64, tag = "14")]
        pub default_sample_type: i64,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct ValueType {
        #[prost(int64, tag = "1")]
        pub r#type: i64,
        #[prost(int64, tag = "2")]
        pub unit: i64,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Sample {
        /// Leaf first.
        #[prost(uint64, repeated, tag = "1")]
        pub location_id: Vec<u64>,
        #[prost(int64, repeated, tag = "2")]
        pub value: Vec<i64>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Location {
        #[prost(uint64, tag = "1")]
        pub id: u64,
        #[prost(message, repeated, tag = "4")]
        pub line: Vec<Line>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Line {
        #[prost(uint64, tag = "1")]
        pub function_id: u64,
        #[prost(int64, tag = "2")]
        pub line: i64,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Function {
        #[prost(uint64, tag = "1")]
        pub id: u64,
        #[prost(int64, tag = "2")]
        pub name: i64,
        #[prost(int64, tag = "3")]
        pub system_name: i64,
        #[prost(int64, tag = "4")]
        pub filename: i64,
    }
}

/// Builds the profile: strings and frames interned once each.
#[derive(Default)]
struct Builder {
    profile: proto::Profile,
    strings: HashMap<String, i64>,
    frames: HashMap<String, u64>,
}

impl Builder {
    fn string(&mut self, s: &str) -> i64 {
        if let Some(&i) = self.strings.get(s) {
            return i;
        }
        let i = self.profile.string_table.len() as i64;
        self.profile.string_table.push(s.to_string());
        self.strings.insert(s.to_string(), i);
        i
    }

    /// A frame (a function with one location) named `name`, from `file`.
    fn frame(&mut self, name: &str, file: &str) -> u64 {
        if let Some(&id) = self.frames.get(name) {
            return id;
        }
        let id = self.frames.len() as u64 + 1;
        let (name_index, file_index) = (self.string(name), self.string(file));
        self.profile.function.push(proto::Function {
            id,
            name: name_index,
            system_name: name_index,
            filename: file_index,
        });
        self.profile.location.push(proto::Location { id, line: vec![proto::Line { function_id: id, line: 0 }] });
        self.frames.insert(name.to_string(), id);
        id
    }

    fn sample(&mut self, spans: &[&str], leaf: (&str, &str), contentions: u64, delay_ns: u64) {
        let mut location_id = vec![self.frame(leaf.0, leaf.1)];
        for span in spans.iter().rev() {
            location_id.push(self.frame(span, ""));
        }
        let value = vec![i64::try_from(contentions).unwrap_or(i64::MAX), i64::try_from(delay_ns).unwrap_or(i64::MAX)];
        self.profile.sample.push(proto::Sample { location_id, value });
    }
}

/// The profile of a report's waits (not yet encoded).
pub fn profile(report: &Report) -> proto::Profile {
    let mut b = Builder::default();
    b.string("");
    let contentions = proto::ValueType { r#type: b.string("contentions"), unit: b.string("count") };
    let delay = proto::ValueType { r#type: b.string("delay"), unit: b.string("nanoseconds") };
    b.profile.sample_type = vec![contentions.clone(), delay];
    b.profile.period_type = Some(contentions);
    b.profile.period = 1;
    b.profile.default_sample_type = 1;
    b.profile.duration_nanos = i64::try_from(report.duration_ns).unwrap_or(i64::MAX);
    for lock in &report.locks {
        for site in &lock.sites {
            let leaf = format!("{}@{}", lock.name, site.site);
            let file = site.site.rsplitn(3, ':').nth(2).unwrap_or("").to_string();
            let (mut waited, mut contended) = (0, 0);
            for span in site.spans.iter().filter(|s| s.wait_ns_total > 0 && !s.path.is_empty()) {
                waited += span.wait_ns_total;
                contended += span.contended;
                let path: Vec<&str> = span.path.split(';').collect();
                b.sample(&path, (&leaf, &file), span.contended, span.wait_ns_total);
            }
            let rest = site.wait_ns.total.saturating_sub(waited);
            if rest > 0 {
                b.sample(&[], (&leaf, &file), site.contended.saturating_sub(contended), rest);
            }
        }
    }
    b.profile
}

/// The profile of a report's waits, encoded and gzipped, as `go tool pprof` reads it.
pub fn pprof(report: &Report) -> std::io::Result<Vec<u8>> {
    let bytes = prost::Message::encode_to_vec(&profile(report));
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&bytes)?;
    gz.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{LockKind, LockReport, Mode, SiteReport, SpanWait, Summary};
    use std::io::Read;

    fn report() -> Report {
        let wait = |total| Summary { total, max: total, mean: total, p50: total, p99: total };
        let site = |site: &str, total, contended, spans: Vec<SpanWait>| SiteReport {
            site: site.into(),
            mode: Mode::Lock,
            acquisitions: 100,
            contended,
            wait_ns: wait(total),
            spans,
            blocked_by: Vec::new(),
        };
        let span = |path: &str, wait_ns_total, contended| SpanWait { path: path.into(), wait_ns_total, contended };
        let lock = LockReport {
            name: "bundle-archive".into(),
            kind: LockKind::Mutex,
            created_at: "src/lib.rs:40:9".into(),
            acquisitions: 200,
            contended: 12,
            wait_ns: wait(1_000),
            hold_ns: Summary::default(),
            sites: vec![
                site("src/lib.rs:77:31", 700, 9, vec![span("process_event;lookup_file", 600, 7), span("", 0, 0)]),
                site("src/lib.rs:91:17", 300, 3, Vec::new()),
            ],
        };
        Report { locks: vec![lock], ..Report::empty(5_000) }
    }

    #[test]
    fn delay_totals_the_reports_wait_and_frames_run_leaf_first() {
        let bytes = pprof(&report()).expect("encodes");
        let mut raw = Vec::new();
        flate2::read::GzDecoder::new(&bytes[..]).read_to_end(&mut raw).expect("gzip");
        let profile: proto::Profile = prost::Message::decode(&raw[..]).expect("a profile.proto");
        let text = |i: i64| profile.string_table[i as usize].as_str();
        let types: Vec<(&str, &str)> = profile.sample_type.iter().map(|t| (text(t.r#type), text(t.unit))).collect();
        assert_eq!(types, [("contentions", "count"), ("delay", "nanoseconds")]);
        assert_eq!(profile.string_table[0], "");
        let delay: i64 = profile.sample.iter().map(|s| s.value[1]).sum();
        let contentions: i64 = profile.sample.iter().map(|s| s.value[0]).sum();
        assert_eq!((delay, contentions), (1_000, 12));
        let name = |id: u64| {
            let f = profile.function.iter().find(|f| f.id == id).expect("function");
            text(f.name)
        };
        let stacks: Vec<Vec<&str>> =
            profile.sample.iter().map(|s| s.location_id.iter().map(|&id| name(id)).collect()).collect();
        assert_eq!(
            stacks,
            [
                vec!["bundle-archive@src/lib.rs:77:31", "lookup_file", "process_event"],
                vec!["bundle-archive@src/lib.rs:77:31"],
                vec!["bundle-archive@src/lib.rs:91:17"],
            ]
        );
        assert_eq!(
            profile.sample.iter().map(|s| s.value.clone()).collect::<Vec<_>>(),
            [vec![7, 600], vec![2, 100], vec![3, 300]]
        );
    }
}
