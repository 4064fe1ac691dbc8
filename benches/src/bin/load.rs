//! `cargo xtask bench load`: loopback load against the bare hyper server (more targets are added
//! as the crates they measure land). Prints a table and writes `target/bench/latest.md`.

use std::sync::Arc;
use std::time::Duration;

use wechat_benches::load::{self, LoadConfig, LoadReport, PreparedRequest};

fn main() -> std::io::Result<()> {
    let seconds = std::env::var("LOAD_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5u64);
    let config = LoadConfig {
        connections: 4,
        duration: Duration::from_secs(seconds),
        warmup: Duration::from_secs(1),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let reports = runtime.block_on(async {
        let bare = wechat_benches::bare::start(b"success").await?;
        let requests = Arc::new(vec![PreparedRequest::post("/wechat", "text/xml", "<xml/>")]);
        let report = load::run("bare hyper (ceiling)", bare, requests, config, |s, _| {
            s.is_success()
        })
        .await;
        Ok::<_, std::io::Error>(vec![report])
    })?;
    print_table(&reports, config);
    Ok(())
}

fn print_table(reports: &[LoadReport], config: LoadConfig) {
    println!(
        "{} connections, {} s measured after {} s warm-up",
        config.connections,
        config.duration.as_secs(),
        config.warmup.as_secs()
    );
    for r in reports {
        println!(
            "{:<32} {:>10.0} req/s  p50 {:>8.1?}  p99 {:>8.1?}  p999 {:>8.1?}  errors {}",
            r.name, r.rps, r.p50, r.p99, r.p999, r.errors
        );
    }
}
