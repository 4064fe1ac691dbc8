//! The server shell: the tower service with an arbitrary body type, and graceful shutdown.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use tokio::sync::{Notify, oneshot};
use tower::ServiceExt as _;
use wechat_msg::{Callback, Mode, Server, handler_fn};
use wechat_types::xml::{Message, MessageBody, Reply, ReplyMessage};

use crate::support::{NOW, Seal, config, open_answer, post, push, text_xml, token};

fn echo() -> Callback {
    Callback::new(
        config(Mode::Compat),
        handler_fn(|msg: Message| async move {
            let MessageBody::Text { content, .. } = msg.body else {
                return None;
            };
            Some(Reply::text(content))
        }),
    )
    .unwrap()
}

#[tokio::test]
async fn the_tower_service_answers_pushes_and_verification() {
    let service = echo().into_service();

    let p = push(Seal::Compat, &text_xml("via tower", 1), "n");
    let request = http::Request::post(format!("/mounted/anywhere?{}", p.query))
        .body(Full::new(Bytes::from(p.body)))
        .unwrap();
    let response = service.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/xml; charset=utf-8"
    );
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let reply = ReplyMessage::parse(open_answer(&body).as_bytes()).unwrap();
    assert_eq!(reply.reply, Reply::text("via tower"));

    let signature = wechat_crypto::signature(&token(), &NOW.to_string(), "n");
    let request = http::Request::get(format!(
        "/?signature={signature}&timestamp={NOW}&nonce=n&echostr=hello%20world"
    ))
    .body(http_body_util::Empty::<Bytes>::new())
    .unwrap();
    let response = service.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), 200);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(body.as_ref(), b"hello world");

    // A body larger than the limit, without a Content-Length: cut off while reading.
    let big = vec![b'x'; 100 * 1024];
    let request = http::Request::post(format!("/?{}", p.query))
        .body(chunked_body(big))
        .unwrap();
    let response = service.oneshot(request).await.unwrap();
    assert_eq!(response.status(), 413);
}

/// A body of 1 KiB frames, with no size hint.
fn chunked_body(
    data: Vec<u8>,
) -> impl http_body::Body<Data = Bytes, Error = std::convert::Infallible> + Send + 'static {
    struct Chunks(std::collections::VecDeque<Bytes>);
    impl http_body::Body for Chunks {
        type Data = Bytes;
        type Error = std::convert::Infallible;
        fn poll_frame(
            mut self: std::pin::Pin<&mut Self>,
            _cx: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
            std::task::Poll::Ready(self.0.pop_front().map(|b| Ok(http_body::Frame::data(b))))
        }
    }
    Chunks(data.chunks(1024).map(Bytes::copy_from_slice).collect())
}

#[tokio::test]
async fn shutdown_lets_the_request_in_flight_finish() {
    let gate = Arc::new(Notify::new());
    let entered = Arc::new(Notify::new());
    let (gate_h, entered_h) = (Arc::clone(&gate), Arc::clone(&entered));
    let callback = Callback::new(
        config(Mode::Plaintext),
        handler_fn(move |_msg: Message| {
            let (gate, entered) = (Arc::clone(&gate_h), Arc::clone(&entered_h));
            async move {
                entered.notify_one();
                gate.notified().await;
                Some(Reply::text("finished"))
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

    let request = push(Seal::Plain, &text_xml("slow", 1), "n");
    let in_flight = tokio::spawn(async move { post(addr, "/", &request).await });
    entered.notified().await;
    stop.send(()).unwrap();
    // Shutdown waits for the open request.
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(!serving.is_finished());
    gate.notify_one();
    let answer = in_flight.await.unwrap();
    assert_eq!(answer.status, 200);
    assert!(answer.text().contains("finished"));
    tokio::time::timeout(Duration::from_secs(10), serving)
        .await
        .expect("the server stops once the request is done")
        .unwrap()
        .unwrap();
    // No longer listening.
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}
