//! `LOCKSCOPE_REPORT=path` writes the JSON report when the process exits normally.
//! The test re-runs this binary as a child that installs the layer globally (so it is
//! never dropped) and exits; the report must come from the exit hook.

use std::process::Command;

const CHILD: &str = "LOCKSCOPE_TEST_CHILD";

#[test]
fn child_process_body() {
    if std::env::var_os(CHILD).is_none() {
        return; // Only meaningful in the child spawned below.
    }
    use tracing_subscriber::prelude::*;
    let (layer, _report) = lockscope::ContentionLayer::new();
    tracing_subscriber::registry().with(layer).init();
    let m = lockscope::Mutex::named("written-at-exit", 0);
    for _ in 0..3 {
        *m.lock() += 1;
    }
}

#[test]
fn the_report_is_written_when_the_process_exits() {
    let path = std::env::temp_dir().join(format!("lockscope-exit-{}.json", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let status = Command::new(std::env::current_exe().expect("test binary"))
        .args(["--exact", "child_process_body", "--test-threads", "1"])
        .env(CHILD, "1")
        .env(lockscope::REPORT_ENV, &path)
        .status()
        .expect("child runs");
    assert!(status.success());
    let text = std::fs::read_to_string(&path).expect("the exit hook wrote the report");
    let _ = std::fs::remove_file(&path);
    let report = lockscope::Report::from_json(&text).expect("version 1 JSON");
    let lock = report.locks.iter().find(|l| l.name == "written-at-exit").expect("the child's lock");
    assert_eq!(lock.acquisitions, 3);
}
