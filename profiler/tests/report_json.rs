//! The JSON report: version 1 schema, round trip.

#[test]
fn report_json_has_the_version_1_schema() {
    let (layer, report) = lockscope::ContentionLayer::new();
    use tracing_subscriber::prelude::*;
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        let m = lockscope::Mutex::named("schema", ());
        drop(m.lock());
    });
    let path = std::env::temp_dir().join(format!("lockscope-schema-{}.json", std::process::id()));
    report.write_json(&path).expect("write");
    let text = std::fs::read_to_string(&path).expect("read");
    let _ = std::fs::remove_file(&path);
    let json: serde_json::Value = serde_json::from_str(&text).expect("json");
    assert_eq!(json["version"], 1);
    for key in ["duration_ns", "hold_sampling", "locks"] {
        assert!(json.get(key).is_some(), "{key}");
    }
    let lock = json["locks"].as_array().and_then(|l| l.iter().find(|l| l["name"] == "schema")).expect("lock");
    for key in ["name", "kind", "created_at", "acquisitions", "contended", "wait_ns", "hold_ns", "sites"] {
        assert!(lock.get(key).is_some(), "{key}");
    }
    for key in ["total", "max", "mean", "p50", "p99"] {
        assert!(lock["wait_ns"].get(key).is_some() && lock["hold_ns"].get(key).is_some(), "{key}");
    }
    let site = &lock["sites"][0];
    for key in ["site", "mode", "acquisitions", "contended", "wait_ns", "spans", "blocked_by"] {
        assert!(site.get(key).is_some(), "{key}");
    }
    assert!(lock["created_at"].as_str().is_some_and(|c| c.contains("report_json.rs:")));
    assert_eq!(lockscope::Report::from_json(&text).expect("round trip"), serde_json::from_str(&text).expect("again"));
}
