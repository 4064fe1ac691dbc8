//! WeChat's retries: the handler runs once, retries get the first answer.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use http::Method;
use tokio::sync::Notify;
use wechat_msg::dedupe::{Claim, DedupeStore, MemoryDedupeStore, StoredAnswer};
use wechat_msg::{Callback, Mode, Server, handler_fn};
use wechat_types::xml::{Message, MessageBody, Reply, ReplyMessage};

use crate::support::{Seal, config, open_answer, post, push, start, text_xml};

/// A handler that counts its runs and, when `gate` is given, waits for it before answering.
fn slow_counter(gate: Option<Arc<Notify>>) -> (impl wechat_msg::Handler, Arc<AtomicUsize>) {
    let runs = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&runs);
    let handler = handler_fn(move |msg: Message| {
        let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
        let gate = gate.clone();
        async move {
            if let Some(gate) = gate {
                gate.notified().await;
            }
            let MessageBody::Text { content, .. } = msg.body else {
                return None;
            };
            Some(Reply::text(format!("{content} #{n}")))
        }
    });
    (handler, runs)
}

#[tokio::test]
async fn three_concurrent_deliveries_run_the_handler_once() {
    for (mode, seal) in [(Mode::Plaintext, Seal::Plain), (Mode::Safe, Seal::Safe)] {
        let gate = Arc::new(Notify::new());
        let (handler, runs) = slow_counter(Some(Arc::clone(&gate)));
        let callback = Callback::new(config(mode), handler).unwrap();
        let server = start(Server::bind("127.0.0.1:0", callback).await.unwrap()).await;
        let addr = server.addr;

        // WeChat's three tries of one message, each with its own nonce.
        let tries: Vec<_> = (0..3)
            .map(|i| push(seal, &text_xml("hello", 42), &format!("try{i}")))
            .collect();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        for p in tries {
            let tx = tx.clone();
            tokio::spawn(async move {
                let _ = tx.send(post(addr, "/", &p).await);
            });
        }
        // The two retries are answered `success` while the first is still being made.
        for _ in 0..2 {
            let answer = rx.recv().await.unwrap();
            assert_eq!((answer.status, answer.text()), (200, "success"), "{mode:?}");
        }
        gate.notify_one();
        let first = rx.recv().await.unwrap();
        assert_eq!(first.status, 200);
        let reply = ReplyMessage::parse(open_answer(&first.body).as_bytes()).unwrap();
        assert_eq!(reply.reply, Reply::text("hello #1"));
        assert_eq!(runs.load(Ordering::SeqCst), 1, "{mode:?}");

        // A retry after the answer gets the same answer, sealed for its own nonce.
        let late = post(addr, "/", &push(seal, &text_xml("hello", 42), "try3")).await;
        let again = ReplyMessage::parse(open_answer(&late.body).as_bytes()).unwrap();
        assert_eq!(again, reply);
        assert_eq!(runs.load(Ordering::SeqCst), 1);

        // Another message runs the handler again.
        gate.notify_one();
        let other = post(addr, "/", &push(seal, &text_xml("other", 43), "x")).await;
        let other = ReplyMessage::parse(open_answer(&other.body).as_bytes()).unwrap();
        assert_eq!(other.reply, Reply::text("other #2"));
    }
}

#[tokio::test]
async fn sequential_retries_get_the_stored_answer() {
    let (handler, runs) = slow_counter(None);
    let callback = Callback::new(config(Mode::Compat), handler).unwrap();
    let mut bodies = Vec::new();
    for i in 0..3 {
        let p = push(Seal::Compat, &text_xml("hi", 7), &format!("n{i}"));
        let response = callback
            .respond(&Method::POST, Some(&p.query), &p.body)
            .await;
        assert_eq!(response.status(), 200);
        let reply = ReplyMessage::parse(open_answer(response.body()).as_bytes()).unwrap();
        bodies.push(reply);
    }
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    assert!(bodies.iter().all(|b| *b == bodies[0]));
    assert_eq!(bodies[0].reply, Reply::text("hi #1"));
}

#[tokio::test]
async fn without_dedupe_every_delivery_runs() {
    let (handler, runs) = slow_counter(None);
    let callback = Callback::new(config(Mode::Plaintext).without_dedupe(), handler).unwrap();
    for i in 0..3 {
        let p = push(Seal::Plain, &text_xml("hi", 7), &format!("n{i}"));
        callback
            .respond(&Method::POST, Some(&p.query), &p.body)
            .await;
    }
    assert_eq!(runs.load(Ordering::SeqCst), 3);
}

/// A store that always fails, as an unreachable Redis would.
#[derive(Debug)]
struct BrokenStore;

#[wechat_msg::async_trait]
impl DedupeStore for BrokenStore {
    async fn claim(
        &self,
        _key: &str,
        _ttl: std::time::Duration,
    ) -> Result<Claim, wechat_msg::dedupe::StoreError> {
        Err("store down".into())
    }
    async fn complete(
        &self,
        _key: &str,
        _answer: StoredAnswer,
        _ttl: std::time::Duration,
    ) -> Result<(), wechat_msg::dedupe::StoreError> {
        Err("store down".into())
    }
}

#[tokio::test]
async fn a_failing_store_still_answers() {
    let (handler, runs) = slow_counter(None);
    let callback = Callback::new(
        config(Mode::Plaintext).dedupe_store(Arc::new(BrokenStore)),
        handler,
    )
    .unwrap();
    let p = push(Seal::Plain, &text_xml("hi", 7), "n");
    let response = callback
        .respond(&Method::POST, Some(&p.query), &p.body)
        .await;
    assert_eq!(response.status(), 200);
    assert!(
        std::str::from_utf8(response.body())
            .unwrap()
            .contains("hi #1")
    );
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_failing_nonce_store_lets_requests_through() {
    // Replay protection keeps nonces in the dedupe store: when it is down, requests still pass.
    let (handler, runs) = slow_counter(None);
    let callback = Callback::new(
        config(Mode::Plaintext)
            .dedupe_store(Arc::new(BrokenStore))
            .replay_protection(true),
        handler,
    )
    .unwrap();
    let p = push(Seal::Plain, &text_xml("hi", 8), "n");
    for _ in 0..2 {
        let response = callback
            .respond(&Method::POST, Some(&p.query), &p.body)
            .await;
        assert_eq!(response.status(), 200);
    }
    assert_eq!(runs.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_shared_store_dedupes_across_callbacks() {
    // Two instances behind one URL share the store: a retry landing on the other one is answered
    // from the store.
    let store: Arc<dyn DedupeStore> = Arc::new(MemoryDedupeStore::default());
    let (handler_a, runs_a) = slow_counter(None);
    let (handler_b, runs_b) = slow_counter(None);
    let a = Callback::new(
        config(Mode::Safe).dedupe_store(Arc::clone(&store)),
        handler_a,
    )
    .unwrap();
    let b = Callback::new(config(Mode::Safe).dedupe_store(store), handler_b).unwrap();
    let first = push(Seal::Safe, &text_xml("hi", 9), "n1");
    let retry = push(Seal::Safe, &text_xml("hi", 9), "n2");
    let ra = a
        .respond(&Method::POST, Some(&first.query), &first.body)
        .await;
    let rb = b
        .respond(&Method::POST, Some(&retry.query), &retry.body)
        .await;
    assert_eq!(open_answer(ra.body()), open_answer(rb.body()));
    assert_eq!(
        runs_a.load(Ordering::SeqCst) + runs_b.load(Ordering::SeqCst),
        1
    );
}

#[tokio::test]
async fn extreme_settings_do_not_panic() {
    // The handler waits once, so the budget's timer is needed: `Duration::MAX` must not overflow
    // the deadline.
    let runs = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&runs);
    let handler = handler_fn(move |msg: Message| {
        let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
        async move {
            tokio::task::yield_now().await;
            let MessageBody::Text { content, .. } = msg.body else {
                return None;
            };
            Some(Reply::text(format!("{content} #{n}")))
        }
    });
    let callback = Callback::new(
        config(Mode::Safe)
            .reply_budget(std::time::Duration::MAX)
            .timestamp_window(Some(std::time::Duration::MAX))
            .dedupe_ttl(std::time::Duration::MAX)
            .replay_protection(true),
        handler,
    )
    .unwrap();
    let p = push(Seal::Safe, &text_xml("hi", 11), "n");
    let response = callback
        .respond(&Method::POST, Some(&p.query), &p.body)
        .await;
    assert_eq!(response.status(), 200);
    assert!(open_answer(response.body()).contains("hi #1"));
    assert_eq!(runs.load(Ordering::SeqCst), 1);

    let (handler, _) = slow_counter(None);
    let zero = Callback::new(
        config(Mode::Plaintext)
            .reply_budget(std::time::Duration::ZERO)
            .dedupe_ttl(std::time::Duration::ZERO)
            .timestamp_window(Some(std::time::Duration::ZERO)),
        handler,
    )
    .unwrap();
    // A zero budget is spent before any handler is done; with no custom-service sender to take
    // the reply, it goes back passively rather than not at all.
    let p = push(Seal::Plain, &text_xml("now", 12), "n");
    let response = zero.respond(&Method::POST, Some(&p.query), &p.body).await;
    assert_eq!(response.status(), 200);
    assert!(open_answer(response.body()).contains("now #1"));
}
