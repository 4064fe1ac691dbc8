//! Under load with faults: while handlers panic, run past the reply budget or are slow, the server
//! answers every request (counted: as many answers as requests), and a graceful shutdown
//! finishes the requests in flight while refusing new connections.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::net::TcpStream;
use tokio::sync::{Notify, Semaphore, mpsc, oneshot};
use tokio::task::JoinSet;
use wechat_msg::{Callback, Mode, Server, handler_fn};
use wechat_types::xml::{Message, MessageBody, Reply};

use crate::support::{ChannelSender, Seal, config, post, push, start, text_xml};

const BUDGET: Duration = Duration::from_millis(200);
const HANG: Duration = Duration::from_secs(10);

/// What a request asks its handler to do, by its content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Answer at once.
    Quick,
    /// Answer after 30 ms, within the budget.
    Slow,
    /// Answer after a second, far past the budget: `success` now, the reply by custom service.
    Late,
    /// Panic.
    Panic,
    /// A request with a forged signature: the handler never sees it.
    Forged,
    /// An encrypted push answered at once (the reply is encrypted too).
    Sealed,
}

const KINDS: [Kind; 6] = [
    Kind::Quick,
    Kind::Slow,
    Kind::Late,
    Kind::Panic,
    Kind::Forged,
    Kind::Sealed,
];

fn handler() -> impl wechat_msg::Handler {
    handler_fn(|msg: Message| async move {
        let MessageBody::Text { content, .. } = &msg.body else {
            return None;
        };
        if content.starts_with("Slow") {
            tokio::time::sleep(Duration::from_millis(30)).await;
        } else if content.starts_with("Late") {
            tokio::time::sleep(Duration::from_secs(1)).await;
        } else if content.starts_with("Panic") {
            panic!("handler bug on {content}");
        }
        Some(Reply::text(format!("re: {content}")))
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_request_is_answered_while_handlers_panic_run_late_or_slow() {
    const REQUESTS: usize = 360;
    const CONCURRENCY: usize = 48;

    let (tx, mut late_replies) = mpsc::unbounded_channel();
    let callback = Callback::new(
        config(Mode::Auto)
            .reply_budget(BUDGET)
            .custom_service(Arc::new(ChannelSender(tx))),
        handler(),
    )
    .unwrap();
    let server = start(Server::bind("127.0.0.1:0", callback).await.unwrap()).await;
    let addr = server.addr;

    let limit = Arc::new(Semaphore::new(CONCURRENCY));
    let mut requests = JoinSet::new();
    for i in 0..REQUESTS {
        let kind = KINDS[i % KINDS.len()];
        let permit = Arc::clone(&limit).acquire_owned().await.unwrap();
        requests.spawn(async move {
            let content = format!("{kind:?} {i}");
            let xml = text_xml(&content, i as u64 + 1);
            let nonce = format!("n{i}");
            let mut request = match kind {
                Kind::Sealed => push(Seal::Safe, &xml, &nonce),
                _ => push(Seal::Plain, &xml, &nonce),
            };
            if kind == Kind::Forged {
                request.query = request.query.replace("signature=", "signature=0");
            }
            let answer = post(addr, "/", &request).await;
            drop(permit);
            (kind, content, answer)
        });
    }

    let mut answered = 0;
    let mut late = 0;
    while let Some(done) = requests.join_next().await {
        let (kind, content, answer) = done.expect("every request task completes");
        answered += 1;
        let body = String::from_utf8_lossy(&answer.body).into_owned();
        match kind {
            Kind::Quick | Kind::Slow => {
                assert_eq!(answer.status, 200, "{content}: {body}");
                assert!(
                    body.contains(&format!("<![CDATA[re: {content}]]>")),
                    "{content}: {body}"
                );
            }
            Kind::Sealed => {
                assert_eq!(answer.status, 200, "{content}: {body}");
                let reply = crate::support::open_answer(&answer.body);
                assert!(
                    reply.contains(&format!("re: {content}")),
                    "{content}: {reply}"
                );
            }
            Kind::Late | Kind::Panic => {
                assert_eq!(
                    (answer.status, body.as_str()),
                    (200, "success"),
                    "{content}"
                );
                if kind == Kind::Late {
                    late += 1;
                }
            }
            Kind::Forged => assert_eq!(answer.status, 403, "{content}: {body}"),
        }
    }
    assert_eq!(answered, REQUESTS, "as many answers as requests");

    // Every late reply went out, once, by custom-service message.
    let mut delivered = Vec::new();
    while delivered.len() < late {
        let msg = tokio::time::timeout(HANG, late_replies.recv())
            .await
            .expect("every late reply is delivered")
            .unwrap();
        delivered.push(msg);
    }
    assert_eq!(delivered.len(), late);
    tokio::task::yield_now().await;
    assert!(late_replies.try_recv().is_err(), "no reply is sent twice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_finishes_every_request_in_flight_and_refuses_new_connections() {
    const IN_FLIGHT: usize = 4;
    let gate = Arc::new(Notify::new());
    let entered = Arc::new(AtomicUsize::new(0));
    let (gate_h, entered_h) = (Arc::clone(&gate), Arc::clone(&entered));
    let callback = Callback::new(
        config(Mode::Plaintext),
        handler_fn(move |msg: Message| {
            let (gate, entered) = (Arc::clone(&gate_h), Arc::clone(&entered_h));
            async move {
                let waiting = gate.notified();
                entered.fetch_add(1, Ordering::SeqCst);
                waiting.await;
                Some(Reply::text(format!("done {}", msg.create_time)))
            }
        }),
    )
    .unwrap();
    let server = Server::bind("127.0.0.1:0", callback).await.unwrap();
    let addr = server.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let serving = tokio::spawn(server.run_until(async {
        let _ = stopped.await;
    }));

    let mut in_flight = JoinSet::new();
    for i in 0..IN_FLIGHT {
        let request = push(
            Seal::Plain,
            &text_xml("slow", i as u64 + 1),
            &format!("n{i}"),
        );
        in_flight.spawn(async move { post(addr, "/", &request).await });
    }
    tokio::time::timeout(HANG, async {
        while entered.load(Ordering::SeqCst) < IN_FLIGHT {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("every request reaches the handler");

    stop.send(()).unwrap();
    // The listener closes: new connections are refused while the old requests still run.
    tokio::time::timeout(HANG, async {
        while TcpStream::connect(addr).await.is_ok() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("new connections are refused once shutdown is asked for");
    assert_eq!(in_flight.len(), IN_FLIGHT);
    assert!(!serving.is_finished(), "shutdown waits for the requests");

    // Each waiter registered when its `notified()` was created, before it counted itself.
    gate.notify_waiters();
    let mut answers = 0;
    while let Some(answer) = in_flight.join_next().await {
        let answer = answer.unwrap();
        assert_eq!(answer.status, 200);
        assert!(answer.text().contains("done "), "{}", answer.text());
        answers += 1;
    }
    assert_eq!(answers, IN_FLIGHT);
    tokio::time::timeout(HANG, serving)
        .await
        .expect("the server stops once the requests are done")
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn a_stalled_connection_does_not_hold_shutdown_hostage() {
    let callback = Callback::new(config(Mode::Plaintext), handler()).unwrap();
    let server = Server::bind("127.0.0.1:0", callback)
        .await
        .unwrap()
        // Far longer than the test's patience: only the shutdown timeout can end the wait.
        .header_read_timeout(Duration::from_secs(120))
        .body_timeout(Duration::from_secs(120))
        .shutdown_timeout(Duration::from_millis(300));
    let addr = server.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let serving = tokio::spawn(server.run_until(async {
        let _ = stopped.await;
    }));

    // One client stops in the middle of its head, another in the middle of its body.
    use tokio::io::AsyncWriteExt;
    let mut half_head = TcpStream::connect(addr).await.unwrap();
    half_head
        .write_all(b"POST / HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let request = push(Seal::Plain, &text_xml("x", 1), "n");
    let mut half_body = TcpStream::connect(addr).await.unwrap();
    half_body
        .write_all(
            format!(
                "POST /?{} HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n<xml>",
                request.query
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    // A good request on a third connection is still answered.
    let answer = post(addr, "/", &request).await;
    assert_eq!(answer.status, 200);

    stop.send(()).unwrap();
    tokio::time::timeout(HANG, serving)
        .await
        .expect("shutdown ends within its timeout despite stalled clients")
        .unwrap()
        .unwrap();
    drop((half_head, half_body));
}
