//! `cargo run -p lockscope --example contention`: four workers share one archive lock
//! and one index lock, inside tracing spans; prints the contention table.

use std::time::Duration;
use tracing_subscriber::prelude::*;

fn main() {
    let (layer, report) = lockscope::ContentionLayer::new();
    tracing_subscriber::registry().with(layer).init();

    let archive = lockscope::Mutex::named("bundle-archive", Vec::<u8>::new());
    let index = lockscope::RwLock::named("file-index", std::collections::HashMap::<u32, u32>::new());
    std::thread::scope(|s| {
        for worker in 0..4u32 {
            let (archive, index) = (&archive, &index);
            s.spawn(move || {
                for event in 0..200u32 {
                    let _event = tracing::info_span!("process_event").entered();
                    if index.read().get(&event).is_none() {
                        index.write().insert(event, worker);
                    }
                    let _lookup = tracing::info_span!("lookup_file").entered();
                    let mut bytes = archive.lock();
                    // Reading a file out of the archive while holding the lock.
                    std::thread::sleep(Duration::from_micros(50));
                    bytes.push(1);
                }
            });
        }
    });
    println!("{}", report.snapshot());
}
