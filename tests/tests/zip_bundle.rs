//! The zip-bundle example, linted and profiled the way a user would.

use lockscope_e2e::{example_dir, line_of, lint_dir, summarize};
use tracing_subscriber::prelude::*;
use zip_bundle::{Bundle, ClonePerReaderBundle, IndexedBundle, SharedMutexBundle};

#[test]
fn the_lint_flags_the_shared_mutex_and_nothing_in_the_fixes() {
    let lib = example_dir("zip-bundle").join("src/lib.rs");
    let findings = lint_dir(&example_dir("zip-bundle"));
    let expected_line = line_of(&lib, "archive: lockscope::Mutex<ZipArchive<Cursor<&'d [u8]>>>,");
    assert_eq!(summarize(&findings), [("lib.rs".to_string(), expected_line, "mutex_read_seek")]);
    assert!(findings[0].message.contains("`ZipArchive<Cursor<&'d [u8]>>`"), "{}", findings[0].message);
}

/// Lock counts are process-wide, per lock (name and construction site), so the tests
/// that profile take turns and compare counts before and after.
static PROFILING: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn acquisitions(report: &lockscope::Report, name: &str) -> u64 {
    report.locks.iter().filter(|l| l.name == name).map(|l| l.acquisitions).sum()
}

fn profile(bundle: &dyn Bundle, threads: usize, lookups: usize) -> lockscope::Report {
    let (layer, report) = lockscope::ContentionLayer::new();
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
    let mut urls = bundle.urls();
    urls.sort();
    let picks = zip_bundle::zipf_lookups(&urls, lookups, 42);
    std::thread::scope(|s| {
        for chunk in picks.chunks(picks.len().div_ceil(threads)) {
            let (dispatch, urls) = (dispatch.clone(), &urls);
            s.spawn(move || {
                tracing::dispatcher::with_default(&dispatch, || {
                    let mut reader = bundle.reader();
                    for &i in chunk {
                        assert!(reader.lookup(&urls[i]).expect("lookup").is_some_and(|len| len > 0));
                    }
                })
            });
        }
    });
    report.snapshot()
}

#[test]
fn the_profiler_shows_the_archive_lock_dominant_and_the_indexed_bundle_waiting_on_nothing() {
    let _turn = PROFILING.lock().unwrap_or_else(|e| e.into_inner());
    let data = zip_bundle::generate_bundle(60, 3).expect("bundle");

    let shared = SharedMutexBundle::open(&data).expect("open");
    let before = acquisitions(&lockscope::ContentionLayer::new().1.snapshot(), "bundle-archive");
    let report = profile(&shared, 4, 2_000);
    let archive = report.locks.iter().find(|l| l.name == "bundle-archive").expect("archive lock in report");
    assert_eq!(archive.acquisitions - before, 2_000);
    assert!(archive.contended > 0, "{archive:#?}");
    let waited: u64 = report.locks.iter().map(|l| l.wait_ns.total).sum();
    assert!(archive.wait_ns.total * 10 >= waited * 9, "the archive lock holds >= 90% of all waiting");
    let site = &archive.sites[0];
    assert!(site.site.contains("examples/zip-bundle/src/lib.rs:"), "{}", site.site);
    assert!(site.spans.iter().any(|s| s.path.ends_with("lookup_file")), "{:?}", site.spans);

    // Counts come from a process-wide registry, waits from each run's own layer: the
    // clone-per-reader run takes no lock, so its layer sees no wait at all.
    let cloned = ClonePerReaderBundle::open(&data).expect("open");
    let report = profile(&cloned, 4, 2_000);
    assert_eq!(report.locks.iter().map(|l| l.contended).sum::<u64>(), 0, "{report:#?}");

    let indexed = IndexedBundle::open(&data).expect("open");
    let report = profile(&indexed, 4, 2_000);
    let cache = report.locks.iter().find(|l| l.name == "decompressed-cache").expect("cache lock");
    // Hits take a shared lock; the archive lock is gone from this design.
    assert!(cache.acquisitions >= 2_000);
    let archive_waits: u64 = report.locks.iter().filter(|l| l.name == "bundle-archive").map(|l| l.wait_ns.total).sum();
    assert_eq!(archive_waits, 0);
}

#[test]
fn a_real_profile_renders_in_every_format_diffs_and_joins_the_lint_finding() {
    use lockscope_lint::report::{render, ReportFormat};
    let _turn = PROFILING.lock().unwrap_or_else(|e| e.into_inner());
    let data = zip_bundle::generate_bundle(60, 3).expect("bundle");
    let shared = profile(&SharedMutexBundle::open(&data).expect("open"), 4, 2_000);
    let indexed = profile(&IndexedBundle::open(&data).expect("open"), 4, 2_000);
    let text = |format| String::from_utf8(render(&shared, None, format).expect("renders")).expect("utf-8");

    assert!(text(ReportFormat::Table).contains("bundle-archive"));
    let back = lockscope::Report::from_json(&text(ReportFormat::Json)).expect("JSON is a report");
    assert_eq!(back.locks.len(), shared.locks.len());

    // Folded stacks account for every nanosecond of waiting, under the lookup span.
    let folded = text(ReportFormat::Folded);
    let total: u64 =
        folded.lines().map(|l| l.rsplit_once(' ').and_then(|(_, n)| n.parse::<u64>().ok()).expect("count")).sum();
    let waited: u64 = shared.locks.iter().flat_map(|l| &l.sites).map(|s| s.wait_ns.total).sum();
    assert_eq!(total, waited);
    assert!(folded.contains("lookup_file;bundle-archive@examples/zip-bundle/src/lib.rs:"), "{folded}");
    assert!(text(ReportFormat::Svg).contains("<svg"));

    let diff = String::from_utf8(render(&indexed, Some(&shared), ReportFormat::Json).expect("diff")).expect("utf-8");
    let rows: serde_json::Value = serde_json::from_str(&diff).expect("diff rows");
    assert_eq!(rows[0]["lock"], "bundle-archive", "the fix removes the largest wait: {diff}");
    assert_eq!(rows[0]["wait_ns_total"]["after"], 0);

    let findings = lint_dir(&example_dir("zip-bundle"));
    let measured = lockscope_lint::profile::join(&findings, &shared, &example_dir("zip-bundle").join("../.."));
    let archive = shared.locks.iter().find(|l| l.name == "bundle-archive").expect("archive");
    assert_eq!(
        measured[0].as_ref().map(|m| (m.lock.as_str(), m.wait_ns_total)),
        Some(("bundle-archive", archive.wait_ns.total))
    );
}

/// A program an end-to-end test runs: `$ENV`, else `name` on the PATH; the test fails
/// with how to install it (Debian's `package`, as .ci/run does) when it is missing.
fn program(env: &str, name: &str, version_flag: &str, package: &str) -> std::ffi::OsString {
    let program = std::env::var_os(env).unwrap_or_else(|| name.into());
    let version = std::process::Command::new(&program).arg(version_flag).output();
    assert!(
        version.as_ref().is_ok_and(|o| o.status.success()),
        "this test runs {name}: install it (Debian: `apt-get install {package}`, as .ci/run does) or point {env} at it"
    );
    program
}

/// A real profile of the shared-mutex bundle, four threads.
fn shared_mutex_profile() -> lockscope::Report {
    let _turn = PROFILING.lock().unwrap_or_else(|e| e.into_inner());
    let data = zip_bundle::generate_bundle(60, 3).expect("bundle");
    profile(&SharedMutexBundle::open(&data).expect("open"), 4, 2_000)
}

/// The real `go tool pprof` (Debian's `golang-go`; `.ci/run` installs it) reads the
/// `--format pprof` output of a real profile: the delay total is the report's wait
/// total, and the leaf frame names the lock and its acquire site.
#[test]
fn go_tool_pprof_reads_the_profile_of_a_real_run() {
    use lockscope_lint::report::{render, ReportFormat};
    let go = program("GO", "go", "version", "golang-go");
    let shared = shared_mutex_profile();
    let dir = std::env::temp_dir().join(format!("lockscope-pprof-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("shared.pb.gz");
    std::fs::write(&path, render(&shared, None, ReportFormat::Pprof).expect("renders")).expect("write");
    let top = std::process::Command::new(&go)
        .args(["tool", "pprof", "-top", "-sample_index=delay", "-unit=ns"])
        .arg(&path)
        .env("HOME", &dir)
        .env("GOCACHE", dir.join("cache"))
        .output()
        .expect("go tool pprof runs");
    let out = String::from_utf8_lossy(&top.stdout).to_string();
    assert!(top.status.success(), "{out}{}", String::from_utf8_lossy(&top.stderr));
    let waited: u64 = shared.locks.iter().map(|l| l.wait_ns.total).sum();
    assert!(waited > 0, "four threads on one mutex wait");
    assert!(out.contains(&format!("Total samples = {waited}ns")), "report waited {waited} ns; pprof says:\n{out}");
    assert!(out.contains("bundle-archive@examples/zip-bundle/src/lib.rs:"), "{out}");
    assert!(out.contains("lookup_file"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The HTML report of a real run, opened in headless Chromium (Debian's `chromium`;
/// `.ci/run` installs it): the DOM names the lock and holds the flame graph, and a
/// screenshot is taken.
#[test]
fn chromium_renders_the_html_report_of_a_real_run() {
    let chromium = program("CHROMIUM", "chromium", "--version", "chromium");
    let shared = shared_mutex_profile();
    let dir = std::env::temp_dir().join(format!("lockscope-html-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let page = dir.join("report.html");
    std::fs::write(&page, lockscope_lint::report::html(&shared, None).expect("renders")).expect("write");
    let url = format!("file://{}", page.display());
    let headless = |extra: &[&str]| {
        std::process::Command::new(&chromium)
            .args(["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1200,900"])
            .arg(format!("--user-data-dir={}", dir.join("profile").display()))
            .args(extra)
            .arg(&url)
            .output()
            .expect("chromium runs")
    };
    let dom = headless(&["--dump-dom"]);
    let dom_text = String::from_utf8_lossy(&dom.stdout).to_string();
    assert!(dom.status.success(), "{}", String::from_utf8_lossy(&dom.stderr));
    assert!(dom_text.contains("<td data-key=\"bundle-archive\">bundle-archive</td>"), "{dom_text}");
    assert!(
        dom_text.contains("id=\"flamegraph\"") && dom_text.contains("total_samples="),
        "the flame graph is in the page"
    );
    assert!(dom_text.contains("lookup_file"), "{dom_text}");
    let shot = dir.join("report.png");
    let taken = headless(&[&format!("--screenshot={}", shot.display())]);
    assert!(taken.status.success(), "{}", String::from_utf8_lossy(&taken.stderr));
    let png = std::fs::read(&shot).expect("screenshot written");
    assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000, "a real picture, {} bytes", png.len());
    let _ = std::fs::remove_dir_all(&dir);
}
