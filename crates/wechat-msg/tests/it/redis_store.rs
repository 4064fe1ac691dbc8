//! The Redis dedupe store against a real `redis-server` on a loopback port.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use http::Method;
use wechat_client::test_util::RedisServer;
use wechat_msg::dedupe::{Claim, DedupeStore, RedisDedupeStore, StoredAnswer};
use wechat_msg::{Callback, Mode, handler_fn};
use wechat_types::xml::{Message, Reply};

use crate::support::{Seal, config, open_answer, push, text_xml};

/// A dedupe store on `redis` under `prefix`, or `None` when it cannot connect.
async fn store_on(redis: &RedisServer, prefix: &str) -> Option<RedisDedupeStore> {
    let client = redis::Client::open(redis.url()).ok()?;
    let conn = tokio::time::timeout(
        Duration::from_secs(2),
        redis::aio::ConnectionManager::new(client),
    )
    .await
    .ok()?
    .ok()?;
    Some(RedisDedupeStore::new(conn, prefix))
}

#[tokio::test]
async fn claims_answers_and_expiry() {
    let Some(redis) = RedisServer::start().await else {
        return;
    };
    let store = store_on(&redis, "t1:").await.unwrap();
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
    let other = store_on(&redis, "t2:").await.unwrap();
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
    let a = make(store_on(&redis, "shared:").await.unwrap());
    let b = make(store_on(&redis, "shared:").await.unwrap());
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
