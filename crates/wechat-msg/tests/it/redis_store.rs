//! The Redis dedupe store against a real `redis-server` on a loopback port.

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use http::Method;
use wechat_msg::dedupe::{Claim, DedupeStore, RedisDedupeStore, StoredAnswer};
use wechat_msg::{Callback, Mode, handler_fn};
use wechat_types::xml::{Message, Reply};

use crate::support::{Seal, config, open_answer, push, text_xml};

/// A Redis server on a free loopback port, killed on drop.
struct RedisServer {
    child: Child,
    url: String,
}

impl RedisServer {
    /// Starts one, or returns `None` (with a notice) when `redis-server` is not on PATH. Under
    /// CI (`CI` set) a missing Redis fails the test instead.
    async fn start() -> Option<RedisServer> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let spawned = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let child = match spawned {
            Ok(child) => child,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                assert!(
                    std::env::var_os("CI").is_none(),
                    "redis-server is not on PATH, and CI needs it"
                );
                eprintln!("notice: redis-server is not on PATH; skipping a Redis test");
                return None;
            }
            Err(e) => panic!("cannot start redis-server: {e}"),
        };
        let server = RedisServer {
            child,
            url: format!("redis://127.0.0.1:{port}/"),
        };
        for _ in 0..200 {
            if server.store("probe:").await.is_some() {
                return Some(server);
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("redis-server did not answer on port {port}");
    }

    async fn store(&self, prefix: &str) -> Option<RedisDedupeStore> {
        let client = redis::Client::open(self.url.as_str()).ok()?;
        let conn = tokio::time::timeout(
            Duration::from_secs(2),
            redis::aio::ConnectionManager::new(client),
        )
        .await
        .ok()?
        .ok()?;
        Some(RedisDedupeStore::new(conn, prefix))
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn claims_answers_and_expiry() {
    let Some(redis) = RedisServer::start().await else {
        return;
    };
    let store = redis.store("t1:").await.unwrap();
    let ttl = Duration::from_secs(30);
    assert_eq!(store.claim("msg:1", ttl).await.unwrap(), Claim::New);
    assert_eq!(store.claim("msg:1", ttl).await.unwrap(), Claim::InFlight);
    let reply = StoredAnswer::Reply("<xml><Content><![CDATA[答]]></Content></xml>".into());
    store.complete("msg:1", reply.clone(), ttl).await.unwrap();
    assert_eq!(store.claim("msg:1", ttl).await.unwrap(), Claim::Done(reply));
    store
        .complete("msg:1", StoredAnswer::Success, ttl)
        .await
        .unwrap();
    assert_eq!(
        store.claim("msg:1", ttl).await.unwrap(),
        Claim::Done(StoredAnswer::Success)
    );

    // Another prefix is another namespace.
    let other = redis.store("t2:").await.unwrap();
    assert_eq!(other.claim("msg:1", ttl).await.unwrap(), Claim::New);

    // Keys expire with Redis's TTL; completing an expired key does not bring it back.
    let short = Duration::from_millis(50);
    assert_eq!(store.claim("msg:2", short).await.unwrap(), Claim::New);
    tokio::time::sleep(Duration::from_millis(150)).await;
    store
        .complete("msg:2", StoredAnswer::Success, ttl)
        .await
        .unwrap();
    assert_eq!(store.claim("msg:2", ttl).await.unwrap(), Claim::New);
}

#[tokio::test]
async fn two_instances_share_one_store() {
    let Some(redis) = RedisServer::start().await else {
        return;
    };
    let runs = Arc::new(AtomicUsize::new(0));
    let make = |store: RedisDedupeStore| {
        let runs = Arc::clone(&runs);
        Callback::new(
            config(Mode::Safe).dedupe_store(Arc::new(store)),
            handler_fn(move |_msg: Message| {
                let n = runs.fetch_add(1, Ordering::SeqCst) + 1;
                async move { Some(Reply::text(format!("run {n}"))) }
            }),
        )
        .unwrap()
    };
    let a = make(redis.store("shared:").await.unwrap());
    let b = make(redis.store("shared:").await.unwrap());
    let first = push(Seal::Safe, &text_xml("hi", 5), "n1");
    let retry = push(Seal::Safe, &text_xml("hi", 5), "n2");
    let ra = a
        .respond(&Method::POST, Some(&first.query), &first.body)
        .await;
    let rb = b
        .respond(&Method::POST, Some(&retry.query), &retry.body)
        .await;
    assert_eq!(ra.status(), 200);
    assert_eq!(open_answer(ra.body()), open_answer(rb.body()));
    assert!(open_answer(rb.body()).contains("run 1"));
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}
