//! Transport and protocol faults against wiremock: each gives the right typed error, and nothing
//! hangs or retries forever.

use std::sync::Arc;
use std::time::Duration;

use wechat_client::store::{
    CredentialKey, CredentialKind, MemoryStore, StoredCredential, TokenStore,
};
use wechat_client::{
    Client, ClientConfig, Clock, Endpoints, Error, HyperTransport, SystemClock, TransportErrorKind,
};
use wechat_types::api::{CustomMessage, Lang};
use wechat_types::{ErrCode, OpenId};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const APPID: &str = "wxfault";

fn transport() -> HyperTransport {
    HyperTransport::builder()
        .connect_timeout(Duration::from_millis(500))
        .timeout(Duration::from_millis(500))
        .max_response_bytes(64 * 1024)
        .build()
        .unwrap()
}

/// A client for `base` whose store already holds the access_token `token`, so calls go straight
/// to the API under test.
async fn client_with_token(base: &str, token: &str) -> (Client, Arc<MemoryStore>) {
    let store = Arc::new(MemoryStore::new());
    let now = SystemClock.now();
    store
        .put(
            &CredentialKey::new(APPID.into(), CredentialKind::AccessToken),
            &StoredCredential::new(token, now, now + 7200),
        )
        .await
        .unwrap();
    let client = Client::builder(APPID.into(), "fault-secret".into())
        .config(ClientConfig::new(Arc::new(transport())).with_endpoints(Endpoints::single(base)))
        .store(store.clone())
        .build()
        .unwrap();
    (client, store)
}

fn transport_kind(e: &Error) -> Option<TransportErrorKind> {
    let mut e: &Error = e;
    loop {
        match e {
            Error::Transport { source, .. } => return Some(source.kind()),
            Error::Credential { source, .. } => e = source,
            _ => return None,
        }
    }
}

fn user() -> OpenId {
    OpenId::new("oUser")
}

#[tokio::test]
async fn a_slow_token_endpoint_times_out_for_every_waiter() {
    let server = MockServer::start().await;
    Mock::given(path("/cgi-bin/stable_token"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_string(r#"{"access_token":"T","expires_in":7200}"#)
                .set_delay(Duration::from_secs(5)),
        )
        .mount(&server)
        .await;
    let client = Client::builder(APPID.into(), "s".into())
        .config(
            ClientConfig::new(Arc::new(transport()))
                .with_endpoints(Endpoints::single(server.uri())),
        )
        .build()
        .unwrap();
    let waiters: Vec<_> = (0..10)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.access_token().await })
        })
        .collect();
    for waiter in waiters {
        let e = waiter.await.unwrap().unwrap_err();
        assert!(matches!(
            e,
            Error::Credential {
                kind: CredentialKind::AccessToken,
                ..
            }
        ));
        assert_eq!(
            transport_kind(&e),
            Some(TransportErrorKind::Timeout),
            "{e:?}"
        );
        assert!(e.is_retryable());
    }
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_slow_api_times_out() {
    let server = MockServer::start().await;
    Mock::given(path("/cgi-bin/user/info"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_string(r#"{"subscribe":0,"openid":"oUser"}"#)
                .set_delay(Duration::from_secs(5)),
        )
        .mount(&server)
        .await;
    let (client, _) = client_with_token(&server.uri(), "T").await;
    let e = client.user_info(&user(), Lang::ZhCn).await.unwrap_err();
    assert!(matches!(&e, Error::Transport { endpoint, .. } if endpoint == "/cgi-bin/user/info"));
    assert_eq!(transport_kind(&e), Some(TransportErrorKind::Timeout));
}

#[tokio::test]
async fn connection_refused_is_a_connect_error() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let base = format!("http://127.0.0.1:{port}");
    let client = Client::builder(APPID.into(), "s".into())
        .config(ClientConfig::new(Arc::new(transport())).with_endpoints(Endpoints::single(&base)))
        .build()
        .unwrap();
    let e = client.access_token().await.unwrap_err();
    assert_eq!(
        transport_kind(&e),
        Some(TransportErrorKind::Connect),
        "{e:?}"
    );
    let (client, _) = client_with_token(&base, "T").await;
    let e = client.menu().get().await.unwrap_err();
    assert_eq!(transport_kind(&e), Some(TransportErrorKind::Connect));
    assert!(e.is_retryable());
}

#[tokio::test]
async fn a_gateway_error_is_an_http_status() {
    let server = MockServer::start().await;
    Mock::given(path("/cgi-bin/menu/get"))
        .respond_with(ResponseTemplate::new(502).set_body_string("<html>bad gateway</html>"))
        .mount(&server)
        .await;
    let (client, _) = client_with_token(&server.uri(), "T").await;
    let e = client.menu().get().await.unwrap_err();
    let Error::HttpStatus {
        status, preview, ..
    } = &e
    else {
        panic!("{e:?}");
    };
    assert_eq!(*status, 502);
    assert!(preview.contains("bad gateway"));
    // A 5xx is not -1: not retried.
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn malformed_json_is_a_decode_error_and_token_bodies_stay_secret() {
    let server = MockServer::start().await;
    Mock::given(path("/cgi-bin/user/info"))
        .respond_with(ResponseTemplate::new(200).set_body_string(r#"{"subscribe":1,"openid":"#))
        .mount(&server)
        .await;
    Mock::given(path("/cgi-bin/stable_token"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_string(r#"{"access_token":"LEAKED-TOKEN","expires_in":"#),
        )
        .mount(&server)
        .await;
    let (client, _) = client_with_token(&server.uri(), "T").await;
    let e = client.user_info(&user(), Lang::ZhCn).await.unwrap_err();
    assert!(
        matches!(&e, Error::Decode { preview, .. } if preview.contains("subscribe")),
        "{e:?}"
    );

    let fresh = Client::builder(APPID.into(), "s".into())
        .config(
            ClientConfig::new(Arc::new(transport()))
                .with_endpoints(Endpoints::single(server.uri())),
        )
        .build()
        .unwrap();
    let e = fresh.access_token().await.unwrap_err();
    let Error::Credential { source, .. } = &e else {
        panic!("{e:?}");
    };
    assert!(matches!(**source, Error::Decode { .. }));
    let mut chain = format!("{e:?} {e}");
    let mut cause: Option<&dyn std::error::Error> = std::error::Error::source(&e);
    while let Some(c) = cause {
        chain.push_str(&format!(" {c} {c:?}"));
        cause = c.source();
    }
    assert!(!chain.contains("LEAKED-TOKEN"), "{chain}");
}

#[tokio::test]
async fn an_oversized_body_is_refused() {
    let server = MockServer::start().await;
    let huge = format!(
        r#"{{"subscribe":1,"openid":"oUser","remark":"{}"}}"#,
        "x".repeat(1 << 20)
    );
    Mock::given(path("/cgi-bin/user/info"))
        .respond_with(ResponseTemplate::new(200).set_body_string(huge))
        .mount(&server)
        .await;
    let (client, _) = client_with_token(&server.uri(), "T").await;
    let e = client.user_info(&user(), Lang::ZhCn).await.unwrap_err();
    assert_eq!(
        transport_kind(&e),
        Some(TransportErrorKind::BodyTooLarge),
        "{e:?}"
    );
}

#[tokio::test]
async fn a_token_refused_mid_flight_is_replaced_and_the_call_replayed_once() {
    let server = MockServer::start().await;
    Mock::given(path("/cgi-bin/user/info"))
        .and(query_param("access_token", "OLD"))
        .respond_with(ResponseTemplate::new(200).set_body_string(
            r#"{"errcode":40001,"errmsg":"invalid credential, access_token is invalid or not latest rid: 1"}"#,
        ))
        .mount(&server)
        .await;
    Mock::given(path("/cgi-bin/user/info"))
        .and(query_param("access_token", "NEW"))
        .respond_with(
            ResponseTemplate::new(200).set_body_string(r#"{"subscribe":1,"openid":"oUser"}"#),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/cgi-bin/stable_token"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_string(r#"{"access_token":"NEW","expires_in":7200}"#),
        )
        .expect(1)
        .mount(&server)
        .await;
    let (client, store) = client_with_token(&server.uri(), "OLD").await;
    let info = client.user_info(&user(), Lang::ZhCn).await.unwrap();
    assert_eq!(info.subscribe, 1);
    let key = CredentialKey::new(APPID.into(), CredentialKind::AccessToken);
    assert_eq!(
        store.get(&key).await.unwrap().unwrap().expose_secret(),
        "NEW"
    );
    server.verify().await;
}

#[tokio::test]
async fn a_token_refused_twice_is_surfaced() {
    let server = MockServer::start().await;
    Mock::given(path("/cgi-bin/user/info"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_string(r#"{"errcode":40014,"errmsg":"invalid access_token rid: 2"}"#),
        )
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(path("/cgi-bin/stable_token"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_string(r#"{"access_token":"NEW","expires_in":7200}"#),
        )
        .expect(1)
        .mount(&server)
        .await;
    let (client, _) = client_with_token(&server.uri(), "OLD").await;
    let e = client.user_info(&user(), Lang::ZhCn).await.unwrap_err();
    assert!(e.is_token_invalid());
    assert_eq!(e.api_code(), Some(ErrCode::INVALID_ACCESS_TOKEN));
    server.verify().await;
}

#[tokio::test]
async fn busy_is_retried_within_budget_for_reads_and_never_for_sends() {
    let server = MockServer::start().await;
    let busy = r#"{"errcode":-1,"errmsg":"system error rid: 3"}"#;
    Mock::given(path("/cgi-bin/menu/get"))
        .respond_with(ResponseTemplate::new(200).set_body_string(busy))
        .expect(3)
        .mount(&server)
        .await;
    Mock::given(path("/cgi-bin/message/custom/send"))
        .respond_with(ResponseTemplate::new(200).set_body_string(busy))
        .expect(1)
        .mount(&server)
        .await;
    let (client, _) = client_with_token(&server.uri(), "T").await;
    let e = client.menu().get().await.unwrap_err();
    assert_eq!(e.api_code(), Some(ErrCode::SYSTEM_BUSY));
    assert!(e.is_retryable());
    let e = client
        .send_custom(&CustomMessage::text(user(), "hi"))
        .await
        .unwrap_err();
    assert_eq!(e.api_code(), Some(ErrCode::SYSTEM_BUSY));
    server.verify().await;
}

#[tokio::test]
async fn a_failed_refresh_keeps_serving_the_still_valid_token() {
    let server = MockServer::start().await;
    Mock::given(path("/cgi-bin/stable_token"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_string(r#"{"errcode":45009,"errmsg":"reach max api daily quota limit"}"#),
        )
        .expect(1)
        .mount(&server)
        .await;
    let store = Arc::new(MemoryStore::new());
    let now = SystemClock.now();
    let key = CredentialKey::new(APPID.into(), CredentialKind::AccessToken);
    // Inside the refresh margin but still valid.
    store
        .put(
            &key,
            &StoredCredential::new("STILL-VALID", now - 7000, now + 200),
        )
        .await
        .unwrap();
    let client = Client::builder(APPID.into(), "s".into())
        .config(
            ClientConfig::new(Arc::new(transport()))
                .with_endpoints(Endpoints::single(server.uri())),
        )
        .store(store)
        .build()
        .unwrap();
    assert_eq!(
        client.access_token().await.unwrap().expose_secret(),
        "STILL-VALID"
    );
    server.verify().await;
}
