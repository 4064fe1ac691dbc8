//! The 5-second rule: a late handler is answered `success` and its reply goes out as a
//! custom-service message; a panicking handler is answered `success`.

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::Method;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{Notify, mpsc};
use wechat_client::{ClientConfig, Endpoints};
use wechat_msg::dedupe::{Claim, DedupeStore, MemoryDedupeStore, StoredAnswer};
use wechat_msg::{Callback, CallbackConfig, Mode, Router, Server, handler_fn};
use wechat_types::api::{CustomMessage, CustomMessageBody};
use wechat_types::xml::{Message, Reply};

use crate::support::{
    ChannelSender, Running, Seal, config, parse_answer, post, push, push_with, start, text_xml,
};

const BUDGET: Duration = Duration::from_millis(200);

/// A handler that answers `reply` only once `gate` is opened, counting its runs.
fn gated(gate: Arc<Notify>, reply: Reply) -> (impl wechat_msg::Handler, Arc<AtomicUsize>) {
    let runs = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&runs);
    let handler = handler_fn(move |_msg: Message| {
        counter.fetch_add(1, Ordering::SeqCst);
        let gate = Arc::clone(&gate);
        let reply = reply.clone();
        async move {
            gate.notified().await;
            Some(reply)
        }
    });
    (handler, runs)
}

/// Serves `handler` in safe mode within the test budget, with a custom-service sender whose
/// messages come out of the receiver returned.
async fn serve_with_sender(
    handler: impl wechat_msg::Handler,
) -> (Running, mpsc::UnboundedReceiver<CustomMessage>) {
    let (tx, sent) = mpsc::unbounded_channel();
    let callback = Callback::new(
        config(Mode::Safe)
            .reply_budget(BUDGET)
            .custom_service(Arc::new(ChannelSender(tx))),
        handler,
    )
    .unwrap();
    let server = start(Server::bind("127.0.0.1:0", callback).await.unwrap()).await;
    (server, sent)
}

async fn within<T>(what: &str, fut: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(10), fut)
        .await
        .unwrap_or_else(|_| panic!("{what} did not happen within 10 s"))
}

#[tokio::test]
async fn a_late_reply_goes_out_by_custom_service_message() {
    let gate = Arc::new(Notify::new());
    let (handler, runs) = gated(Arc::clone(&gate), Reply::text("worth the wait"));
    let (server, mut sent) = serve_with_sender(handler).await;

    let first = post(
        server.addr,
        "/",
        &push(Seal::Safe, &text_xml("slow", 5), "n1"),
    )
    .await;
    assert_eq!((first.status, first.text()), (200, "success"));
    // A retry while the handler still works: `success` too, and no second run.
    let retry = post(
        server.addr,
        "/",
        &push(Seal::Safe, &text_xml("slow", 5), "n2"),
    )
    .await;
    assert_eq!((retry.status, retry.text()), (200, "success"));
    assert!(
        sent.try_recv().is_err(),
        "nothing is sent before the handler is done"
    );

    gate.notify_one();
    let msg = within("the custom-service message", sent.recv())
        .await
        .unwrap();
    assert_eq!(msg, CustomMessage::text("oUser".into(), "worth the wait"));

    // Retries after that are `success`: the reply went out already, once.
    let later = post(
        server.addr,
        "/",
        &push(Seal::Safe, &text_xml("slow", 5), "n3"),
    )
    .await;
    assert_eq!(later.text(), "success");
    tokio::task::yield_now().await;
    assert!(sent.try_recv().is_err());
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_late_handler_s_push_is_recorded_answered_once_it_is_done() {
    let store = Arc::new(MemoryDedupeStore::default());
    let gate = Arc::new(Notify::new());
    let (tx, mut sent) = mpsc::unbounded_channel();
    let (handler, _) = gated(Arc::clone(&gate), Reply::text("late"));
    let callback = Callback::new(
        config(Mode::Safe)
            .reply_budget(BUDGET)
            .custom_service(Arc::new(ChannelSender(tx)))
            .dedupe_store(store.clone()),
        handler,
    )
    .unwrap();
    let xml = text_xml("slow", 6);
    let key = Message::parse(xml.as_bytes()).unwrap().dedupe_key();
    let p = push(Seal::Safe, &xml, "n1");
    let answer = callback
        .respond(&Method::POST, Some(&p.query), &p.body)
        .await;
    assert_eq!(answer.body().as_ref(), b"success");
    let ttl = Duration::from_secs(60);
    assert_eq!(store.claim(&key, ttl).await.unwrap(), Claim::InFlight);

    gate.notify_one();
    within("the custom-service message", sent.recv())
        .await
        .unwrap();
    // The late task records the push as answered (with `success`: the reply went out already).
    within("the key recorded as answered", async {
        while store.claim(&key, ttl).await.unwrap() != Claim::Done(StoredAnswer::Success) {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
}

#[tokio::test]
async fn a_late_reply_reaches_the_mock_through_a_real_client() {
    let mock = wechat_mock::MockServer::start().await;
    let app = mock.app();
    let user = mock.users()[0].openid.clone();
    let client = wechat_client::Client::builder(app.appid.clone(), app.secret.clone())
        .config(
            ClientConfig::with_default_transport()
                .unwrap()
                .with_endpoints(Endpoints::single(mock.base_url())),
        )
        .build()
        .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let config = CallbackConfig::new(app.token.clone())
        .crypto(app.aes_key.clone(), app.appid.clone())
        .mode(Mode::Safe)
        .reply_budget(BUDGET)
        .custom_service(Arc::new(client));
    let gate = Arc::new(Notify::new());
    let (handler, _) = gated(Arc::clone(&gate), Reply::text("从客服来的回复"));
    let callback = Callback::new(config, handler).unwrap();
    let server = start(
        Server::bind("127.0.0.1:0", callback)
            .await
            .unwrap()
            .path("/wechat"),
    )
    .await;

    let xml = format!(
        "<xml><ToUserName><![CDATA[{}]]></ToUserName><FromUserName><![CDATA[{user}]]></FromUserName>\
         <CreateTime>{now}</CreateTime><MsgType><![CDATA[text]]></MsgType>\
         <Content><![CDATA[slow question]]></Content><MsgId>9001</MsgId></xml>",
        app.account_id
    );
    let crypto = wechat_crypto::MessageCrypto::new(app.aes_key.clone(), app.appid.clone());
    let request = push_with(&app.token, &crypto, Seal::Safe, &xml, &now.to_string(), "n");
    let answer = post(server.addr, "/wechat", &request).await;
    assert_eq!((answer.status, answer.text()), (200, "success"));

    gate.notify_one();
    let sent = within("the mock's custom-service log", async {
        loop {
            let sent = mock.custom_messages();
            if !sent.is_empty() {
                return sent;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].touser, user);
    assert_eq!(sent[0].appid, app.appid);
    assert!(matches!(
        &sent[0].message.body,
        CustomMessageBody::Text { text } if text.content == "从客服来的回复"
    ));
}

/// A `MakeWriter` into a shared buffer, to read what was logged.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_late_reply_without_a_sender_is_logged() {
    let logs = Logs::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::DEBUG)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let gate = Arc::new(Notify::new());
    let done = Arc::new(Notify::new());
    let done_in_handler = Arc::clone(&done);
    let gate_in_handler = Arc::clone(&gate);
    let callback = Callback::new(
        config(Mode::Plaintext).reply_budget(BUDGET),
        handler_fn(move |_msg: Message| {
            let gate = Arc::clone(&gate_in_handler);
            let done = Arc::clone(&done_in_handler);
            async move {
                gate.notified().await;
                done.notify_one();
                Some(Reply::text("nobody will see this"))
            }
        }),
    )
    .unwrap();
    let p = push(Seal::Plain, &text_xml("slow", 6), "n");
    let response = callback
        .respond(&Method::POST, Some(&p.query), &p.body)
        .await;
    assert_eq!(response.body().as_ref(), b"success");
    gate.notify_one();
    within("the late handler", done.notified()).await;
    within("the log line", async {
        while !logs
            .text()
            .contains("late reply dropped: no custom-service sender is configured")
        {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    assert!(
        !logs.text().contains("nobody will see this"),
        "reply content is not logged"
    );
}

/// Serves `callback` and sends it one push, then the same push again as WeChat's retry (each
/// with its own nonce): both must be answered `success`. The server keeps running.
async fn serve_and_expect_success_twice(callback: Callback) -> Running {
    let server = start(Server::bind("127.0.0.1:0", callback).await.unwrap()).await;
    for nonce in ["a", "b"] {
        let answer = post(
            server.addr,
            "/",
            &push(Seal::Safe, &text_xml("boom", 8), nonce),
        )
        .await;
        assert_eq!((answer.status, answer.text()), (200, "success"));
    }
    server
}

#[tokio::test]
async fn a_panicking_handler_is_answered_success() {
    let callback = Callback::new(
        config(Mode::Safe).reply_budget(BUDGET),
        handler_fn(|msg: Message| async move {
            if msg.create_time > 0 {
                panic!("handler bug");
            }
            None
        }),
    )
    .unwrap();
    let server = serve_and_expect_success_twice(callback).await;
    // The server is still up for other messages.
    let answer = post(
        server.addr,
        "/",
        &push(Seal::Safe, &text_xml("boom", 9), "c"),
    )
    .await;
    assert_eq!(answer.status, 200);
}

#[tokio::test]
async fn a_panic_before_the_handler_s_first_await_is_answered_success() {
    // A router's predicate runs while the handler's future is made, before any poll.
    let router = Router::new().when(
        |msg: &Message| msg.create_time > 0 && panic!("predicate bug"),
        |_msg: Message| async { Some(Reply::text("unreachable")) },
    );
    let callback = Callback::new(config(Mode::Safe).reply_budget(BUDGET), router).unwrap();
    serve_and_expect_success_twice(callback).await;
}

#[tokio::test]
async fn work_done_while_the_handler_s_future_is_made_counts_against_the_budget() {
    // Longer than the budget before the `async` block, then a wait inside it.
    let handler = handler_fn(|_msg: Message| {
        std::thread::sleep(BUDGET + Duration::from_millis(100));
        async {
            tokio::time::sleep(Duration::from_millis(20)).await;
            Some(Reply::text("made slowly"))
        }
    });
    let (server, mut sent) = serve_with_sender(handler).await;
    let answer = post(
        server.addr,
        "/",
        &push(Seal::Safe, &text_xml("slow", 5), "n1"),
    )
    .await;
    // Past the budget: `success` now, the reply by custom-service message after.
    assert_eq!((answer.status, answer.text()), (200, "success"));
    let msg = within("the custom-service message", sent.recv())
        .await
        .unwrap();
    assert_eq!(msg, CustomMessage::text("oUser".into(), "made slowly"));
}

#[tokio::test]
async fn the_budget_counts_from_the_request_s_arrival_body_read_included() {
    // The body trickles in for longer than the budget; the handler itself answers at once. WeChat
    // has been waiting since it sent the head, so the reply must go the late way.
    let handler = handler_fn(|_msg: Message| async { Some(Reply::text("quick but too late")) });
    let (server, mut sent) = serve_with_sender(handler).await;
    let request = push(Seal::Safe, &text_xml("slow body", 5), "n1");
    let head = format!(
        "POST /?{} HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        request.query,
        request.body.len()
    );
    let mut stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    let (first, rest) = request.body.split_at(request.body.len() / 2);
    stream.write_all(first).await.unwrap();
    tokio::time::sleep(BUDGET + Duration::from_millis(100)).await;
    stream.write_all(rest).await.unwrap();
    let mut raw = Vec::new();
    within("the answer", stream.read_to_end(&mut raw))
        .await
        .unwrap();
    let answer = parse_answer(&raw);
    assert_eq!((answer.status, answer.text()), (200, "success"));
    let msg = within("the custom-service message", sent.recv())
        .await
        .unwrap();
    assert_eq!(
        msg,
        CustomMessage::text("oUser".into(), "quick but too late")
    );
}

#[tokio::test]
async fn a_reply_made_after_the_budget_goes_once_by_custom_service_and_retries_get_success() {
    // A zero budget is spent before any handler is done, even one that is ready at once.
    let runs = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&runs);
    let handler = handler_fn(move |_msg: Message| {
        counter.fetch_add(1, Ordering::SeqCst);
        async { Some(Reply::text("ready, but late")) }
    });
    let (tx, mut sent) = mpsc::unbounded_channel();
    let callback = Callback::new(
        config(Mode::Safe)
            .reply_budget(Duration::ZERO)
            .custom_service(Arc::new(ChannelSender(tx))),
        handler,
    )
    .unwrap();
    let server = start(Server::bind("127.0.0.1:0", callback).await.unwrap()).await;
    let request = push(Seal::Safe, &text_xml("zero", 7), "n1");
    let first = post(server.addr, "/", &request).await;
    assert_eq!((first.status, first.text()), (200, "success"));
    let msg = within("the custom-service message", sent.recv())
        .await
        .unwrap();
    assert_eq!(msg, CustomMessage::text("oUser".into(), "ready, but late"));
    // The late task records the answer: a retry gets `success`, and the handler ran once.
    let retry = post(
        server.addr,
        "/",
        &push(Seal::Safe, &text_xml("zero", 7), "n2"),
    )
    .await;
    assert_eq!((retry.status, retry.text()), (200, "success"));
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(sent.try_recv().is_err(), "the reply went out once");
}

/// A future that answers at once and panics when it is dropped.
struct PanicsOnDrop;

impl std::future::Future for PanicsOnDrop {
    type Output = Option<Reply>;

    fn poll(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Reply>> {
        std::task::Poll::Ready(Some(Reply::text("never sent")))
    }
}

impl Drop for PanicsOnDrop {
    fn drop(&mut self) {
        panic!("drop bug");
    }
}

#[tokio::test]
async fn a_handler_future_that_panics_when_dropped_is_answered_success() {
    let callback = Callback::new(
        config(Mode::Safe).reply_budget(BUDGET),
        handler_fn(|_msg: Message| PanicsOnDrop),
    )
    .unwrap();
    serve_and_expect_success_twice(callback).await;
}

#[tokio::test]
async fn a_late_panic_is_contained() {
    let gate = Arc::new(Notify::new());
    let gate_in_handler = Arc::clone(&gate);
    let (tx, mut sent) = mpsc::unbounded_channel();
    let callback = Callback::new(
        config(Mode::Plaintext)
            .reply_budget(BUDGET)
            .custom_service(Arc::new(ChannelSender(tx))),
        handler_fn(move |_msg: Message| {
            let gate = Arc::clone(&gate_in_handler);
            async move {
                gate.notified().await;
                panic!("late bug")
            }
        }),
    )
    .unwrap();
    let p = push(Seal::Plain, &text_xml("x", 10), "n");
    let response = callback
        .respond(&Method::POST, Some(&p.query), &p.body)
        .await;
    assert_eq!(response.body().as_ref(), b"success");
    gate.notify_one();
    // The retry after the late task ended is `success`, and nothing was sent.
    within("the late task to end", async {
        loop {
            let p = push(Seal::Plain, &text_xml("x", 10), "n2");
            let r = callback
                .respond(&Method::POST, Some(&p.query), &p.body)
                .await;
            assert_eq!(r.body().as_ref(), b"success");
            if sent.try_recv().is_err() && Arc::strong_count(&gate) == 2 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    assert!(sent.try_recv().is_err());
}
