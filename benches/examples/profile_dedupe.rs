//! A driver for measuring the in-memory dedupe store's cache misses under cachegrind, where they
//! are counted the same on every run (criterion's wall-clock figures for a store larger than the
//! cache swing with whatever else the machine runs):
//!
//! ```text
//! cargo build --release -p wechat-benches --example profile_dedupe
//! for n in 150000 250000; do
//!     valgrind --tool=cachegrind --cache-sim=yes --LL=8388608,16,64 \
//!         --cachegrind-out-file=target/cachegrind.$n target/release/examples/profile_dedupe $n
//! done
//! cg_diff target/cachegrind.150000 target/cachegrind.250000 > target/cachegrind.diff
//! cg_annotate target/cachegrind.diff | head -40
//! ```
//!
//! It makes N claims of fresh `msg:` keys in a store of the default size (100 000 keys), each
//! completed with a text reply as long as the echo bot's, as the callback does for every push.
//! Past the first 100 000 the store is full and every claim evicts, as under a long load: the
//! difference between two runs past that point, divided by the difference in N, is what one
//! push costs the store in its steady state.

use std::time::Duration;

use wechat_msg::dedupe::{DedupeStore, MemoryDedupeStore, StoredAnswer};

/// A text reply about as long as the echo bot's.
const REPLY: &str = "<xml><ToUserName><![CDATA[oBenchUser000123]]></ToUserName>\
    <FromUserName><![CDATA[gh_bench]]></FromUserName><CreateTime>1763700000</CreateTime>\
    <MsgType><![CDATA[text]]></MsgType><Content><![CDATA[hello 123]]></Content></xml>";

fn main() {
    let count: u64 = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(250_000);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a runtime");
    let store = MemoryDedupeStore::default();
    let ttl = Duration::from_secs(60);
    runtime.block_on(async {
        let mut key = String::with_capacity(24);
        let mut digits = itoa::Buffer::new();
        for id in 0..count {
            key.clear();
            key.push_str("msg:");
            key.push_str(digits.format(10_000_000_000 + id));
            let claim = store.claim(&key, ttl).await;
            std::hint::black_box(claim.ok());
            let answer = StoredAnswer::Reply(REPLY.to_owned());
            store.complete(&key, answer, ttl).await.ok();
        }
    });
}
