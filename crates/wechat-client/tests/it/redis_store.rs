//! RedisStore against a real Redis started by the harness: cross-process single flight,
//! compare-and-invalidate, owner-only release and lease takeover.

use std::sync::Arc;
use std::time::Duration;

use wechat_client::store::{
    CredentialKey, CredentialKind, RedisStore, StoredCredential, TokenStore,
};
use wechat_client::{Client, TokenSource};
use wechat_mock::{Fault, MockServer};
use wechat_types::api::Lang;

use crate::support::{RedisServer, Via, advance, client_with, clock_of};

async fn store(redis: &RedisServer) -> Arc<RedisStore> {
    Arc::new(RedisStore::connect(redis.url()).await.unwrap())
}

fn token_key(mock: &MockServer) -> CredentialKey {
    CredentialKey::new(mock.app().appid, CredentialKind::AccessToken)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_and_200_callers_on_a_cold_cache_fetch_once() {
    let Some(redis) = RedisServer::start().await else {
        return;
    };
    let mock = MockServer::start().await;
    let clock = clock_of(&mock);
    // The classic endpoint rotates tokens: two fetches would cost a token. Slow it down so the
    // second instance really finds the first one's lock.
    mock.inject_fault(
        "/cgi-bin/token",
        Fault::Delay(Duration::from_millis(200)),
        1,
    );
    let instances: Vec<Client> = {
        let mut v = Vec::new();
        for _ in 0..2 {
            v.push(client_with(
                &mock,
                Via::Loopback,
                &clock,
                TokenSource::Classic,
                store(&redis).await,
            ));
        }
        v
    };
    let tasks: Vec<_> = instances
        .iter()
        .cloned()
        .map(|instance| {
            tokio::spawn(async move {
                let callers: Vec<_> = (0..100)
                    .map(|_| {
                        let instance = instance.clone();
                        tokio::spawn(async move { instance.access_token().await.unwrap() })
                    })
                    .collect();
                let mut tokens = Vec::new();
                for caller in callers {
                    tokens.push(caller.await.unwrap());
                }
                tokens
            })
        })
        .collect();
    let mut tokens = Vec::new();
    for task in tasks {
        tokens.extend(task.await.unwrap());
    }
    assert_eq!(tokens.len(), 200);
    tokens.dedup();
    assert_eq!(tokens.len(), 1, "every caller got the same token");
    assert_eq!(
        mock.request_count("/cgi-bin/token"),
        1,
        "exactly one upstream fetch"
    );

    // Namespaced keys, a TTL, and no lock left behind.
    let mut raw = redis.connection().await;
    let appid = mock.app().appid;
    let ttl: i64 = redis::cmd("TTL")
        .arg(format!("wechat:{appid}:access_token"))
        .query_async(&mut raw)
        .await
        .unwrap();
    assert!(ttl > 7000 && ttl <= 7200, "{ttl}");
    let lock: Option<String> = redis::cmd("GET")
        .arg(format!("wechat:{appid}:access_token:lock"))
        .query_async(&mut raw)
        .await
        .unwrap();
    assert_eq!(lock, None);
    // And the token works.
    let user = mock.users()[0].openid.clone();
    instances[1].user_info(&user, Lang::ZhCn).await.unwrap();
    assert_eq!(mock.request_count("/cgi-bin/token"), 1);
}

#[tokio::test]
async fn compare_and_invalidate_never_discards_a_fresher_token() {
    let Some(redis) = RedisServer::start().await else {
        return;
    };
    let mock = MockServer::start().await;
    let clock = clock_of(&mock);
    let shared = store(&redis).await;
    let a = client_with(
        &mock,
        Via::InProcess,
        &clock,
        TokenSource::Classic,
        shared.clone(),
    );
    let b = client_with(
        &mock,
        Via::InProcess,
        &clock,
        TokenSource::Classic,
        store(&redis).await,
    );

    let first = a.access_token().await.unwrap();
    assert_eq!(b.access_token().await.unwrap(), first);

    // Instance A sees its token refused: it invalidates it and fetches a fresher one.
    assert!(
        a.access_token_provider()
            .invalidate_if_current(&first)
            .await
            .unwrap()
    );
    let second = a.access_token().await.unwrap();
    assert_ne!(first, second);
    assert_eq!(mock.request_count("/cgi-bin/token"), 2);

    // Instance B, late, reports the same old token: the fresher one stays.
    assert!(
        !b.access_token_provider()
            .invalidate_if_current(&first)
            .await
            .unwrap()
    );
    assert_eq!(b.access_token().await.unwrap(), second);
    assert_eq!(mock.request_count("/cgi-bin/token"), 2, "no fetch for B");

    // Through the replay path: the mock expires the first token after the rotation grace; B
    // holds it in no cache of its own, so nothing changes.
    advance(&mock, &clock, 301);
    let user = mock.users()[0].openid.clone();
    b.user_info(&user, Lang::ZhCn).await.unwrap();
    assert_eq!(mock.request_count("/cgi-bin/token"), 2);

    // The raw store operation, on the secret itself.
    let key = token_key(&mock);
    shared
        .put(&key, &StoredCredential::new("FRESH", 0, i64::MAX / 2))
        .await
        .unwrap();
    assert!(!shared.invalidate_if_current(&key, "STALE").await.unwrap());
    assert!(!shared.invalidate_if_current(&key, "FRES").await.unwrap());
    assert_eq!(
        shared.get(&key).await.unwrap().unwrap().expose_secret(),
        "FRESH"
    );
    assert!(shared.invalidate_if_current(&key, "FRESH").await.unwrap());
    assert!(shared.get(&key).await.unwrap().is_none());
}

#[tokio::test]
async fn a_dead_lock_holder_is_taken_over_after_its_lease() {
    let Some(redis) = RedisServer::start().await else {
        return;
    };
    let mock = MockServer::start().await;
    let clock = clock_of(&mock);
    let shared = store(&redis).await;
    // A holder that took the lock and died: it never releases it.
    let dead = shared
        .acquire_lock(&token_key(&mock), Duration::from_millis(300))
        .await
        .unwrap()
        .expect("free");
    let client = client_with(
        &mock,
        Via::InProcess,
        &clock,
        TokenSource::Stable,
        shared.clone(),
    );
    let token = client.access_token().await.unwrap();
    assert!(!token.expose_secret().is_empty());
    assert_eq!(mock.request_count("/cgi-bin/stable_token"), 1);
    // The dead holder's token no longer releases anything.
    assert!(!shared.release_lock(&token_key(&mock), &dead).await.unwrap());
}

#[tokio::test]
async fn locks_are_released_only_by_their_owner() {
    let Some(redis) = RedisServer::start().await else {
        return;
    };
    let shared = RedisStore::connect(redis.url())
        .await
        .unwrap()
        .with_prefix("test:");
    let key = CredentialKey::new("wxlock".into(), CredentialKind::JsapiTicket);
    let owner = shared
        .acquire_lock(&key, Duration::from_secs(30))
        .await
        .unwrap()
        .unwrap();
    assert!(
        shared
            .acquire_lock(&key, Duration::from_secs(30))
            .await
            .unwrap()
            .is_none()
    );
    let stranger = wechat_client::store::LockOwner::random();
    assert!(!shared.release_lock(&key, &stranger).await.unwrap());
    assert!(
        shared
            .acquire_lock(&key, Duration::from_secs(30))
            .await
            .unwrap()
            .is_none()
    );
    assert!(shared.release_lock(&key, &owner).await.unwrap());
    assert!(
        shared
            .acquire_lock(&key, Duration::from_secs(30))
            .await
            .unwrap()
            .is_some()
    );
    let mut raw = redis.connection().await;
    let exists: i64 = redis::cmd("EXISTS")
        .arg("test:wxlock:jsapi_ticket:lock")
        .query_async(&mut raw)
        .await
        .unwrap();
    assert_eq!(exists, 1, "keys use the configured prefix");
}

#[tokio::test]
async fn jsapi_tickets_are_shared_through_redis() {
    let Some(redis) = RedisServer::start().await else {
        return;
    };
    let mock = MockServer::start().await;
    let clock = clock_of(&mock);
    let a = client_with(
        &mock,
        Via::InProcess,
        &clock,
        TokenSource::Stable,
        store(&redis).await,
    );
    let b = client_with(
        &mock,
        Via::InProcess,
        &clock,
        TokenSource::Stable,
        store(&redis).await,
    );
    let ta = a.jsapi_ticket().await.unwrap();
    let tb = b.jsapi_ticket().await.unwrap();
    assert_eq!(ta, tb);
    assert_eq!(mock.request_count("/cgi-bin/ticket/getticket"), 1);
    assert_eq!(mock.request_count("/cgi-bin/stable_token"), 1);
}

#[tokio::test]
async fn a_dead_redis_is_a_store_error_not_a_hang() {
    let Some(redis) = RedisServer::start().await else {
        return;
    };
    let mock = MockServer::start().await;
    let clock = clock_of(&mock);
    let shared = store(&redis).await;
    let client = client_with(&mock, Via::InProcess, &clock, TokenSource::Stable, shared);
    client.access_token().await.unwrap();
    drop(redis);
    let e = client.access_token().await.unwrap_err();
    assert!(matches!(e, wechat_client::Error::Store(_)), "{e:?}");
    assert_eq!(
        mock.request_count("/cgi-bin/stable_token"),
        1,
        "no fetch storm"
    );
}
