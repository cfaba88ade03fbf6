//! End to end, as a fleet would see it: the example serves its contention at
//! `--metrics-addr`, a real Prometheus server (Debian's `prometheus`; `.ci/run` installs
//! it) scrapes it every second, and its HTTP API answers for the lock's wait.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Kills the child when the test ends, however it ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port()
}

/// `GET path` on 127.0.0.1:port, the response body (HTTP/1.0, so the server closes).
fn get(port: u16, path: &str) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    response.split_once("\r\n\r\n").map(|(_, body)| body.to_string())
}

#[test]
fn prometheus_scrapes_the_examples_lock_wait() {
    let prometheus = std::env::var_os("PROMETHEUS").unwrap_or_else(|| "prometheus".into());
    let version = Command::new(&prometheus).arg("--version").output();
    assert!(
        version.as_ref().is_ok_and(|o| o.status.success()),
        "this test runs a Prometheus server: install it (Debian: `apt-get install prometheus`, as .ci/run does) or point PROMETHEUS at it"
    );
    let dir = std::env::temp_dir().join(format!("lockscope-prometheus-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let (metrics_port, api_port) = (free_port(), free_port());

    let _example = Running(
        Command::new(env!("CARGO_BIN_EXE_zip-bundle"))
            .args(["--variant", "shared-mutex", "--threads", "4", "--lookups", "2000", "--linger", "60"])
            .arg("--metrics-addr")
            .arg(format!("127.0.0.1:{metrics_port}"))
            .stdout(Stdio::null())
            .spawn()
            .expect("the example starts"),
    );
    let config = dir.join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: zip-bundle\n    static_configs:\n      - targets: ['127.0.0.1:{metrics_port}']\n"
        ),
    )
    .expect("config");
    let _server = Running(
        Command::new(&prometheus)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.tsdb.path={}", dir.join("data").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{api_port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("prometheus starts"),
    );

    let query = "/api/v1/query?query=lockscope_lock_wait_seconds_total%7Block%3D%22bundle-archive%22%7D";
    let started = Instant::now();
    let mut last = String::new();
    let waited = loop {
        if let Some(body) = get(api_port, query) {
            let answer: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
            let value = answer["data"]["result"][0]["value"][1].as_str().and_then(|v| v.parse::<f64>().ok());
            if let Some(seconds) = value.filter(|&s| s > 0.0) {
                break seconds;
            }
            last = body;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no wait for bundle-archive in Prometheus; last answer: {last}"
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    assert!(waited > 0.0);
    // The histogram arrives too, with the lock and its acquire site as labels.
    let buckets =
        get(api_port, "/api/v1/query?query=lockscope_lock_wait_seconds_bucket%7Block%3D%22bundle-archive%22%7D")
            .unwrap_or_default();
    assert!(buckets.contains("examples/zip-bundle/src/lib.rs:"), "{buckets}");
    let _ = std::fs::remove_dir_all(&dir);
}
