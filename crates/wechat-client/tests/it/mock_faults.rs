//! Every fault wechat-mock can inject, on a read, a send and the token endpoint, over loopback:
//! each ends in a typed error or one bounded retry, never a hang or a loop, and a message is
//! never sent twice blindly. Requests are counted at the transport, so "sent once" means what
//! left the client, whatever the mock did with it. Then Redis going away and coming back.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use wechat_client::test_util::FnTransport;
use wechat_client::{
    Client, ClientConfig, Endpoints, Error, HttpTransport, HyperTransport, TokenSource,
    TransportErrorKind,
};
use wechat_mock::{Fault, MockServer};
use wechat_types::ErrCode;
use wechat_types::api::{CustomMessage, Lang};

use crate::support::RedisServer;

/// The client's whole-request timeout; a `Fault::Delay` longer than this must time out.
const TIMEOUT: Duration = Duration::from_millis(300);
const DELAY: Duration = Duration::from_secs(2);
/// Longer than any bounded retry takes: past it the call is hung.
const HANG: Duration = Duration::from_secs(10);

const USER_INFO: &str = "/cgi-bin/user/info";
const CUSTOM_SEND: &str = "/cgi-bin/message/custom/send";
const STABLE_TOKEN: &str = "/cgi-bin/stable_token";

/// Requests that left the client, by path.
#[derive(Clone, Default)]
struct Sent(Arc<Mutex<HashMap<String, usize>>>);

impl Sent {
    fn count(&self, path: &str) -> usize {
        self.0.lock().unwrap().get(path).copied().unwrap_or(0)
    }
    fn reset(&self) {
        self.0.lock().unwrap().clear();
    }
}

/// A client of the mock's default app over loopback, with a short timeout, counting what it sends.
fn client(
    mock: &MockServer,
    store: Option<Arc<dyn wechat_client::store::TokenStore>>,
) -> (Client, Sent) {
    let hyper = Arc::new(
        HyperTransport::builder()
            .connect_timeout(TIMEOUT)
            .timeout(TIMEOUT)
            .build()
            .unwrap(),
    );
    let sent = Sent::default();
    let counter = sent.clone();
    let transport = FnTransport::new(move |request: http::Request<bytes::Bytes>| {
        *counter
            .0
            .lock()
            .unwrap()
            .entry(request.uri().path().to_owned())
            .or_default() += 1;
        let hyper = Arc::clone(&hyper);
        async move { hyper.send(request).await }
    });
    let app = mock.app();
    let mut builder = Client::builder(app.appid, app.secret)
        .config(
            ClientConfig::new(Arc::new(transport))
                .with_endpoints(Endpoints::single(mock.base_url())),
        )
        .token_source(TokenSource::Stable);
    if let Some(store) = store {
        builder = builder.store(store);
    }
    (builder.build().unwrap(), sent)
}

async fn bounded<T>(what: &str, call: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(HANG, call)
        .await
        .unwrap_or_else(|_| panic!("{what} hung"))
}

fn transport_kind(e: &Error) -> Option<TransportErrorKind> {
    match e {
        Error::Transport { source, .. } => Some(source.kind()),
        Error::Credential { source, .. } => transport_kind(source),
        _ => None,
    }
}

/// What a faulted call must end in.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// Succeeds (after a bounded retry or one replay).
    Ok,
    /// This errcode.
    Api(i64),
    /// An HTTP status error.
    Status(u16),
    /// A transport timeout.
    Timeout,
    /// A decode error.
    Decode,
}

fn check(expect: Expect, result: &Result<(), Error>) -> Result<(), String> {
    let ok = match (expect, result) {
        (Expect::Ok, Ok(())) => true,
        (Expect::Api(code), Err(e)) => e.api_code() == Some(ErrCode::from(code)),
        (Expect::Status(status), Err(e)) => {
            let mut e = e;
            while let Error::Credential { source, .. } = e {
                e = source;
            }
            matches!(e, Error::HttpStatus { status: s, .. } if *s == status)
        }
        (Expect::Timeout, Err(e)) => transport_kind(e) == Some(TransportErrorKind::Timeout),
        (Expect::Decode, Err(e)) => {
            let mut e = e;
            while let Error::Credential { source, .. } = e {
                e = source;
            }
            matches!(e, Error::Decode { .. })
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(format!("expected {expect:?}, got {result:?}"))
    }
}

/// One row: a fault injected `times` on `path`, what the call ends in, and how many requests
/// of `path` the client sent.
struct Row {
    fault: Fault,
    times: usize,
    expect: Expect,
    sent: usize,
}

fn row(fault: Fault, times: usize, expect: Expect, sent: usize) -> Row {
    Row {
        fault,
        times,
        expect,
        sent,
    }
}

#[tokio::test]
async fn faults_on_a_read_end_in_a_typed_error_or_one_bounded_retry() {
    let rows = [
        // -1 busy: an idempotent read is retried twice at most.
        row(Fault::Busy, 1, Expect::Ok, 2),
        row(Fault::Busy, 5, Expect::Api(-1), 3),
        // A gateway error, a timeout, a broken body: surfaced, not retried.
        row(Fault::Status(502), 1, Expect::Status(502), 1),
        row(Fault::Delay(DELAY), 1, Expect::Timeout, 1),
        row(Fault::Malformed, 1, Expect::Decode, 1),
        // A stale token mid-flight: one new token, one replay.
        row(Fault::ErrCode(40001), 1, Expect::Ok, 2),
        row(Fault::ErrCode(40001), 5, Expect::Api(40001), 2),
        // Out of quota: surfaced at once.
        row(Fault::ErrCode(45009), 1, Expect::Api(45009), 1),
    ];
    let mock = MockServer::start().await;
    let (client, sent) = client(&mock, None);
    let user = mock.users()[0].openid.clone();
    bounded("warm-up", client.user_info(&user, Lang::ZhCn))
        .await
        .unwrap();
    let mut failures = Vec::new();
    for row in rows {
        mock.clear_faults();
        sent.reset();
        mock.inject_fault(USER_INFO, row.fault.clone(), row.times);
        let result = bounded("user_info", client.user_info(&user, Lang::ZhCn))
            .await
            .map(drop);
        if let Err(why) = check(row.expect, &result) {
            failures.push(format!("{:?}x{}: {why}", row.fault, row.times));
        }
        if sent.count(USER_INFO) != row.sent {
            failures.push(format!(
                "{:?}x{}: sent {} requests, expected {}",
                row.fault,
                row.times,
                sent.count(USER_INFO),
                row.sent
            ));
        }
        // Nothing is left broken: the next call works.
        mock.clear_faults();
        if let Err(e) = bounded("user_info after", client.user_info(&user, Lang::ZhCn)).await {
            failures.push(format!(
                "{:?}x{}: the next call failed: {e:?}",
                row.fault, row.times
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn a_custom_message_is_never_sent_twice_blindly() {
    let rows = [
        // Each of these may mean the message was delivered, or left WeChat unsure: sent once.
        row(Fault::Busy, 1, Expect::Api(-1), 1),
        row(Fault::Status(502), 1, Expect::Status(502), 1),
        row(Fault::Delay(DELAY), 1, Expect::Timeout, 1),
        row(Fault::Malformed, 1, Expect::Decode, 1),
        row(Fault::ErrCode(45009), 1, Expect::Api(45009), 1),
        // A refused token means WeChat did nothing: replayed once with a new token, delivered once.
        row(Fault::ErrCode(40001), 1, Expect::Ok, 2),
        row(Fault::ErrCode(42001), 5, Expect::Api(42001), 2),
    ];
    let mock = MockServer::start().await;
    let (client, sent) = client(&mock, None);
    let user = mock.users()[0].openid.clone();
    bounded("warm-up", client.access_token()).await.unwrap();
    let mut failures = Vec::new();
    for (i, row) in rows.into_iter().enumerate() {
        mock.clear_faults();
        sent.reset();
        let before = mock.custom_messages().len();
        mock.inject_fault(CUSTOM_SEND, row.fault.clone(), row.times);
        let message = CustomMessage::text(user.clone(), format!("message {i}"));
        let result = bounded("send_custom", client.send_custom(&message)).await;
        let name = format!("{:?}x{}", row.fault, row.times);
        if let Err(why) = check(row.expect, &result) {
            failures.push(format!("{name}: {why}"));
        }
        if sent.count(CUSTOM_SEND) != row.sent {
            failures.push(format!(
                "{name}: sent {} times, expected {}",
                sent.count(CUSTOM_SEND),
                row.sent
            ));
        }
        let delivered = mock.custom_messages().len() - before;
        let expected = usize::from(matches!(row.expect, Expect::Ok));
        // A delayed send may still land after the client gave up; never twice.
        let allowed = if matches!(row.fault, Fault::Delay(_)) {
            0..=1
        } else {
            expected..=expected
        };
        if !allowed.contains(&delivered) {
            failures.push(format!("{name}: delivered {delivered} times"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn faults_on_the_token_endpoint_reach_the_caller_typed_and_leave_no_poisoned_state() {
    let rows = [
        row(Fault::Busy, 1, Expect::Ok, 2),
        row(Fault::Busy, 5, Expect::Api(-1), 3),
        row(Fault::Status(502), 1, Expect::Status(502), 1),
        row(Fault::Delay(DELAY), 1, Expect::Timeout, 1),
        row(Fault::Malformed, 1, Expect::Decode, 1),
        row(Fault::ErrCode(45009), 1, Expect::Api(45009), 1),
        row(Fault::ErrCode(40164), 1, Expect::Api(40164), 1),
    ];
    let mut failures = Vec::new();
    for row in rows {
        // A cold cache each time, so every call fetches.
        let mock = MockServer::start().await;
        let (client, sent) = client(&mock, None);
        mock.inject_fault(STABLE_TOKEN, row.fault.clone(), row.times);
        let name = format!("{:?}x{}", row.fault, row.times);
        let result = bounded("access_token", client.access_token())
            .await
            .map(drop);
        if let Err(why) = check(row.expect, &result) {
            failures.push(format!("{name}: {why}"));
        }
        if let Err(e) = &result
            && !matches!(e, Error::Credential { .. })
        {
            failures.push(format!("{name}: not a Credential error: {e:?}"));
        }
        if sent.count(STABLE_TOKEN) != row.sent {
            failures.push(format!(
                "{name}: fetched {} times, expected {}",
                sent.count(STABLE_TOKEN),
                row.sent
            ));
        }
        mock.clear_faults();
        if let Err(e) = bounded("access_token after", client.access_token()).await {
            failures.push(format!("{name}: the next fetch failed: {e:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn redis_gone_is_a_store_error_and_redis_back_is_recovery() {
    let Some(mut redis) = RedisServer::start().await else {
        return;
    };
    let mock = MockServer::start().await;
    let store = Arc::new(
        wechat_client::store::RedisStore::connect(redis.url())
            .await
            .unwrap(),
    );
    let (client, sent) = client(&mock, Some(store));
    let user = mock.users()[0].openid.clone();
    let first = bounded("first token", client.access_token()).await.unwrap();

    redis.stop();
    for _ in 0..3 {
        let e = bounded("token without Redis", client.access_token())
            .await
            .unwrap_err();
        assert!(matches!(e, Error::Store(_)), "{e:?}");
        let e = bounded("call without Redis", client.user_info(&user, Lang::ZhCn))
            .await
            .unwrap_err();
        assert!(matches!(e, Error::Store(_)), "{e:?}");
    }
    assert_eq!(
        sent.count(STABLE_TOKEN),
        1,
        "no fetch storm while Redis is away"
    );
    assert_eq!(sent.count(USER_INFO), 0, "no call without a token");

    // The same port again, empty: the connection manager reconnects on its own.
    redis.restart().await;
    let token = bounded("recovery", async {
        loop {
            match client.access_token().await {
                Ok(token) => return token,
                Err(Error::Store(_)) => tokio::time::sleep(Duration::from_millis(50)).await,
                Err(e) => panic!("{e:?}"),
            }
        }
    })
    .await;
    // stable_token hands out the same token while it lives.
    assert_eq!(token, first);
    assert_eq!(
        sent.count(STABLE_TOKEN),
        2,
        "one fetch to refill the new Redis"
    );
    bounded("call after recovery", client.user_info(&user, Lang::ZhCn))
        .await
        .unwrap();
    let mut raw = redis.connection().await;
    let stored: Option<String> = redis::cmd("GET")
        .arg(format!("wechat:{}:access_token", mock.app().appid))
        .query_async(&mut raw)
        .await
        .unwrap();
    assert!(stored.is_some_and(|v| v.ends_with(token.expose_secret())));
}
