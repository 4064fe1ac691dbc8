//! Secrets never reach `Debug` output: the client, its builder, providers and stores.

use std::sync::Arc;

use wechat_client::store::{CredentialKey, CredentialKind, MemoryStore, RedisStore, TokenStore};
use wechat_client::{Client, TokenSource};
use wechat_mock::MockServer;

use crate::support::{RedisServer, Via, builder, clock_of, config};

fn assert_hidden(debug: &str, secrets: &[&str]) {
    for secret in secrets {
        assert!(!debug.contains(secret), "{secret} leaked in {debug}");
    }
}

#[tokio::test]
async fn nothing_secret_is_debug_formatted() {
    let mock = MockServer::start().await;
    let clock = clock_of(&mock);
    let app = mock.app();
    let app_secret = app.secret.expose_secret().to_owned();

    let store = Arc::new(MemoryStore::new());
    let builder = builder(&mock, Via::InProcess, &clock).store(store.clone());
    let builder_debug = format!("{builder:?} {builder:#?}");
    let client = builder.build().unwrap();
    let token = client.access_token().await.unwrap();
    let ticket = client.jsapi_ticket().await.unwrap();
    let stored = store
        .get(&CredentialKey::new(
            app.appid.clone(),
            CredentialKind::AccessToken,
        ))
        .await
        .unwrap()
        .unwrap();
    let secrets = [
        app_secret.as_str(),
        token.expose_secret(),
        ticket.expose_secret(),
    ];

    let mut debug = builder_debug;
    debug.push_str(&format!(
        "{client:?} {client:#?} {:?} {:?} {store:?} {stored:?} {token:?} {ticket:?}",
        client.access_token_provider(),
        client.jsapi_ticket_provider(),
    ));
    debug.push_str(&format!("{:?}", client.menu()));
    assert!(
        debug.contains(app.appid.as_str()),
        "the appid helps debugging"
    );
    assert_hidden(&debug, &secrets);

    if let Some(redis) = RedisServer::start().await {
        let redis_store = Arc::new(RedisStore::connect(redis.url()).await.unwrap());
        let client = Client::builder(app.appid.clone(), app.secret.clone())
            .config(config(&mock, Via::InProcess, &clock))
            .token_source(TokenSource::Classic)
            .store(redis_store.clone())
            .build()
            .unwrap();
        let token = client.access_token().await.unwrap();
        let debug = format!(
            "{redis_store:?} {client:?} {:#?}",
            client.access_token_provider()
        );
        assert_hidden(&debug, &[app_secret.as_str(), token.expose_secret()]);
    }
}

#[tokio::test]
async fn a_redis_url_password_never_shows() {
    // A password in the URL of an unreachable Redis: neither the error nor Debug shows it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("redis://:hunter2-password@127.0.0.1:{port}/");
    let e = RedisStore::connect(&url).await.unwrap_err();
    let mut chain = format!("{e} {e:?}");
    let mut cause = std::error::Error::source(&e);
    while let Some(c) = cause {
        chain.push_str(&format!(" {c} {c:?}"));
        cause = c.source();
    }
    assert!(!chain.contains("hunter2"), "{chain}");
}
