//! `report --diff BASE.json`: per lock and acquire site, what changed from a baseline
//! run, largest change in total wait first.

use crate::{human_ns, Mode, Report};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;

/// One figure before and after.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Change {
    pub before: u64,
    pub after: u64,
}

impl Change {
    pub fn delta(&self) -> i128 {
        i128::from(self.after) - i128::from(self.before)
    }
}

/// A lock's site in either run (a site only one run saw counts 0 in the other).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DiffRow {
    pub lock: String,
    pub site: String,
    pub mode: Mode,
    pub acquisitions: Change,
    pub contended: Change,
    pub wait_ns_total: Change,
    pub wait_ns_p99: Change,
}

pub struct Diff {
    pub rows: Vec<DiffRow>,
}

/// Match sites by (lock name, site, mode).
pub fn diff(base: &Report, after: &Report) -> Diff {
    let mut rows: BTreeMap<(String, String, Mode), DiffRow> = BTreeMap::new();
    for (report, is_after) in [(base, false), (after, true)] {
        for lock in &report.locks {
            for site in &lock.sites {
                let key = (lock.name.clone(), site.site.clone(), site.mode);
                let row = rows.entry(key).or_insert_with(|| DiffRow {
                    lock: lock.name.clone(),
                    site: site.site.clone(),
                    mode: site.mode,
                    acquisitions: Change::default(),
                    contended: Change::default(),
                    wait_ns_total: Change::default(),
                    wait_ns_p99: Change::default(),
                });
                let pick = |c: &mut Change, v: u64| if is_after { c.after += v } else { c.before += v };
                pick(&mut row.acquisitions, site.acquisitions);
                pick(&mut row.contended, site.contended);
                pick(&mut row.wait_ns_total, site.wait_ns.total);
                pick(&mut row.wait_ns_p99, site.wait_ns.p99);
            }
        }
    }
    let mut rows: Vec<DiffRow> = rows.into_values().collect();
    rows.sort_by(|a, b| {
        b.wait_ns_total.delta().abs().cmp(&a.wait_ns_total.delta().abs()).then_with(|| a.lock.cmp(&b.lock))
    });
    Diff { rows }
}

fn signed_ns(delta: i128) -> String {
    let magnitude = u64::try_from(delta.unsigned_abs()).unwrap_or(u64::MAX);
    match delta.signum() {
        1 => format!("+{}", human_ns(magnitude)),
        -1 => format!("-{}", human_ns(magnitude)),
        _ => "0".into(),
    }
}

impl fmt::Display for Diff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<20} {:<28} {:>17} {:>17} {:>23} {:>23} {:>11}",
            "lock", "site", "acquired", "contended", "wait", "p99", "change"
        )?;
        for row in &self.rows {
            let pair = |c: Change| format!("{} → {}", c.before, c.after);
            let ns_pair = |c: Change| format!("{} → {}", human_ns(c.before), human_ns(c.after));
            writeln!(
                f,
                "{:<20} {:<28} {:>17} {:>17} {:>23} {:>23} {:>11}",
                tail(&row.lock, 20),
                tail(&format!("{} ({})", row.site, row.mode), 28),
                pair(row.acquisitions),
                pair(row.contended),
                ns_pair(row.wait_ns_total),
                ns_pair(row.wait_ns_p99),
                signed_ns(row.wait_ns_total.delta()),
            )?;
        }
        Ok(())
    }
}

/// The last `width` characters (file paths matter at their end).
fn tail(text: &str, width: usize) -> String {
    let count = text.chars().count();
    if count <= width {
        return text.to_string();
    }
    let kept: String = text.chars().skip(count - (width - 1)).collect();
    format!("…{kept}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{LockKind, LockReport, Mode, SiteReport, Summary};

    fn report(sites: &[(&str, &str, u64, u64)]) -> Report {
        let locks = sites
            .iter()
            .map(|&(lock, site, acquisitions, wait)| LockReport {
                name: lock.into(),
                kind: LockKind::Mutex,
                created_at: String::new(),
                acquisitions,
                contended: acquisitions / 2,
                wait_ns: Summary { total: wait, ..Summary::default() },
                hold_ns: Summary::default(),
                sites: vec![SiteReport {
                    site: site.into(),
                    mode: Mode::Lock,
                    acquisitions,
                    contended: acquisitions / 2,
                    wait_ns: Summary { total: wait, p99: wait / 10, ..Summary::default() },
                    spans: vec![],
                    blocked_by: vec![],
                }],
            })
            .collect();
        Report { version: 1, duration_ns: 1, hold_sampling: 64, locks }
    }

    #[test]
    fn rows_match_by_lock_and_site_and_sort_by_change() {
        let base = report(&[("archive", "a.rs:1:1", 100, 9_000), ("cache", "b.rs:2:2", 10, 100)]);
        let after = report(&[("cache", "b.rs:2:2", 40, 600), ("index", "c.rs:3:3", 5, 0)]);
        let d = diff(&base, &after);
        let keys: Vec<(&str, i128)> = d.rows.iter().map(|r| (r.lock.as_str(), r.wait_ns_total.delta())).collect();
        assert_eq!(keys, [("archive", -9_000), ("cache", 500), ("index", 0)]);
        assert_eq!(d.rows[1].acquisitions, Change { before: 10, after: 40 });
        assert!(d.to_string().lines().nth(1).is_some_and(|l| l.contains("-9.0 µs")));
    }
}
