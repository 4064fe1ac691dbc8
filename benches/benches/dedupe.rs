//! The in-memory dedupe store: one claim and one complete per push, as the callback makes them,
//! with distinct keys so every claim is new and, once the store is full, evicts the oldest.
//! From one thread and from two at once (a server's workers share the store), in a small store
//! and in one the size of the default (100 000 keys).

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion};
use wechat_msg::dedupe::{DedupeStore, MemoryDedupeStore, StoredAnswer};

const TTL: Duration = Duration::from_secs(60);

/// A text reply about as long as the echo bot's.
fn reply() -> String {
    format!(
        "<xml><ToUserName><![CDATA[oBenchUser000123]]></ToUserName><FromUserName><![CDATA[gh_bench]]></FromUserName>\
         <CreateTime>1763700000</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{}]]></Content></xml>",
        "hello 123"
    )
}

/// `pushes` claims and completes of fresh keys, spread over `threads` threads started together;
/// the time of the slowest thread (thread and runtime start-up left out).
fn run(store: &Arc<MemoryDedupeStore>, next: &AtomicU64, threads: u64, pushes: u64) -> Duration {
    let per_thread = pushes.div_ceil(threads);
    let reply = reply();
    let start_line = Barrier::new(threads as usize);
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                let (store, reply, start_line) = (Arc::clone(store), reply.clone(), &start_line);
                scope.spawn(move || {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_time()
                        .build()
                        .expect("runtime");
                    let mut key = String::with_capacity(24);
                    let mut digits = itoa::Buffer::new();
                    start_line.wait();
                    let start = Instant::now();
                    runtime.block_on(async {
                        for _ in 0..per_thread {
                            let id = next.fetch_add(1, Ordering::Relaxed);
                            key.clear();
                            key.push_str("msg:");
                            key.push_str(digits.format(id));
                            let claim = store.claim(black_box(&key), TTL).await;
                            black_box(claim.ok());
                            let answer = StoredAnswer::Reply(reply.clone());
                            store.complete(&key, answer, TTL).await.ok();
                        }
                    });
                    start.elapsed()
                })
            })
            .collect();
        workers
            .into_iter()
            .filter_map(|worker| worker.join().ok())
            .max()
            .unwrap_or_default()
    })
}

fn dedupe(c: &mut Criterion) {
    let mut group = c.benchmark_group("dedupe_memory");
    for capacity in [1_000usize, 100_000] {
        for threads in [1u64, 2] {
            let store = Arc::new(MemoryDedupeStore::new(capacity));
            let next = AtomicU64::new(10_000_000_000);
            // Fill it first: the steady state evicts a key for every claim.
            run(&store, &next, 1, capacity as u64);
            let id = BenchmarkId::new(format!("{threads} thread(s)"), capacity);
            group.bench_function(id, |b| {
                b.iter_custom(|pushes| run(&store, &next, threads, pushes))
            });
        }
    }
    group.finish();
}

fn main() {
    // What `criterion_group!`/`criterion_main!` expand to, written out so no undocumented
    // public function is generated.
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(30)
        .configure_from_args();
    dedupe(&mut c);
    c.final_summary();
}
