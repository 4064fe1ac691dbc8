//! The cached `Client::access_token()` hot path: what every API call pays before it sends.
//! MemoryStore, and RedisStore against a `redis-server` on a free loopback port (skipped with a
//! notice when `redis-server` is not on PATH).

use std::hint::black_box;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::Criterion;
use wechat_client::store::{
    CredentialKey, CredentialKind, MemoryStore, RedisStore, StoredCredential, TokenStore,
};
use wechat_client::test_util::FnTransport;
use wechat_client::{Client, ClientConfig, Clock, SystemClock};

const APPID: &str = "wxbench";
const TOKEN: &str = "a-base-access-token-of-realistic-length-0123456789abcdefghijklmnopqrstuvwxyz-0123456789abcdefghijklmnopqrstuvwxyz-0123456789abcdef";

fn warm_client(runtime: &tokio::runtime::Runtime, store: Arc<dyn TokenStore>) -> Client {
    let now = SystemClock.now();
    runtime
        .block_on(store.put(
            &CredentialKey::new(APPID.into(), CredentialKind::AccessToken),
            &StoredCredential::new(TOKEN, now, now + 7200),
        ))
        .unwrap();
    Client::builder(APPID.into(), "bench-secret".into())
        // The cache is warm: a request reaching the transport is a bug in the bench.
        .config(ClientConfig::new(Arc::new(FnTransport::new(|_| async {
            panic!("the hot path must not fetch")
        }))))
        .store(store)
        .build()
        .unwrap()
}

fn bench_access_token(
    c: &mut Criterion,
    name: &str,
    runtime: &tokio::runtime::Runtime,
    client: &Client,
) {
    c.bench_function(name, |b| {
        b.iter_custom(|iters| {
            runtime.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    black_box(client.access_token().await.unwrap());
                }
                start.elapsed()
            })
        })
    });
}

struct RedisServer(Child);

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_redis(runtime: &tokio::runtime::Runtime) -> Option<(RedisServer, Arc<RedisStore>)> {
    let port = TcpListener::bind("127.0.0.1:0")
        .ok()?
        .local_addr()
        .ok()?
        .port();
    let child = match Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
    {
        Ok(child) => RedisServer(child),
        Err(e) => {
            eprintln!("notice: cannot start redis-server ({e}); skipping the RedisStore bench");
            return None;
        }
    };
    let url = format!("redis://127.0.0.1:{port}/");
    for _ in 0..200 {
        if let Ok(store) = runtime.block_on(RedisStore::connect(&url)) {
            return Some((child, Arc::new(store)));
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    eprintln!("notice: redis-server did not answer; skipping the RedisStore bench");
    None
}

fn access_token(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let memory = warm_client(&runtime, Arc::new(MemoryStore::new()));
    bench_access_token(c, "access_token/cached/memory", &runtime, &memory);

    if let Some((_server, store)) = start_redis(&runtime) {
        let redis = warm_client(&runtime, store);
        bench_access_token(c, "access_token/cached/redis", &runtime, &redis);
    }
}

fn main() {
    // What `criterion_group!`/`criterion_main!` expand to, written out so no undocumented
    // public function is generated.
    let mut c = Criterion::default().configure_from_args();
    access_token(&mut c);
    c.final_summary();
}
