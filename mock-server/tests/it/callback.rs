//! A developer's callback server, written here with wechat-crypto and hyper only (not
//! wechat-msg, so the fake and the SDK cannot share a bug): it checks what the mock pushes the
//! way a careful server would, records it, and answers what the test asks for.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use wechat_crypto::{MessageCrypto, verify_signature};
use wechat_mock::MockApp;
use wechat_types::xml::{Message, Reply, ReplyMessage};

/// One request the callback received, checked and decoded.
#[derive(Debug, Clone)]
pub(crate) struct Hit {
    pub(crate) method: Method,
    pub(crate) query: HashMap<String, String>,
    pub(crate) body: String,
    /// The push, decrypted when it was encrypted.
    pub(crate) message: Option<Message>,
}

/// What the callback answers to a push.
pub(crate) enum Answer {
    /// A correct passive reply, encrypted when the push was.
    Reply(Reply),
    /// A correct passive reply in plaintext, whatever the mode.
    PlainReply(Reply),
    /// Exactly this status and body.
    Raw(u16, String),
    /// Waits, then answers.
    Sleep(Duration, Box<Answer>),
    /// Does something first (calls the mock's API, say), then answers.
    After(Pin<Box<dyn Future<Output = ()> + Send>>, Box<Answer>),
}

type OnPush = dyn Fn(usize, &Message) -> Answer + Send + Sync;
type OnVerify = dyn Fn(&str) -> (u16, String) + Send + Sync;

struct Inner {
    app: MockApp,
    hits: Mutex<Vec<Hit>>,
    on_push: Box<OnPush>,
    on_verify: Box<OnVerify>,
}

/// A running callback server on 127.0.0.1; stops on drop.
pub(crate) struct Callback {
    pub(crate) url: String,
    inner: Arc<Inner>,
    task: JoinHandle<()>,
}

impl Drop for Callback {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Callback {
    /// A callback that answers every push with `on_push(index_of_the_push, message)` and the
    /// handshake correctly.
    pub(crate) async fn start(
        app: &MockApp,
        on_push: impl Fn(usize, &Message) -> Answer + Send + Sync + 'static,
    ) -> Callback {
        Self::start_with(app, on_push, |echostr| (200, echostr.to_owned())).await
    }

    /// A callback whose handshake answer (for a correctly signed request) is `on_verify(echostr)`.
    pub(crate) async fn start_with(
        app: &MockApp,
        on_push: impl Fn(usize, &Message) -> Answer + Send + Sync + 'static,
        on_verify: impl Fn(&str) -> (u16, String) + Send + Sync + 'static,
    ) -> Callback {
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let inner = Arc::new(Inner {
            app: app.clone(),
            hits: Mutex::new(Vec::new()),
            on_push: Box::new(on_push),
            on_verify: Box::new(on_verify),
        });
        let serving = Arc::clone(&inner);
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let inner = Arc::clone(&serving);
                tokio::spawn(async move {
                    let service = service_fn(move |request: Request<Incoming>| {
                        let inner = Arc::clone(&inner);
                        async move { Ok::<_, Infallible>(handle(&inner, request).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Callback {
            url: format!("http://{addr}/wechat"),
            inner,
            task,
        }
    }

    /// Every request so far, oldest first.
    pub(crate) fn hits(&self) -> Vec<Hit> {
        self.inner.hits.lock().unwrap().clone()
    }

    /// The pushes (POSTs) so far.
    pub(crate) fn pushes(&self) -> Vec<Hit> {
        self.hits()
            .into_iter()
            .filter(|h| h.method == Method::POST)
            .collect()
    }
}

fn respond(status: u16, body: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = StatusCode::from_u16(status).unwrap();
    response
}

async fn handle(inner: &Inner, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let app = &inner.app;
    let method = request.method().clone();
    let query: HashMap<String, String> =
        form_urlencoded::parse(request.uri().query().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    let body = request.into_body().collect().await.unwrap().to_bytes();
    let get = |name: &str| query.get(name).map(String::as_str).unwrap_or("");
    let signed =
        verify_signature(&app.token, get("timestamp"), get("nonce"), get("signature")).is_ok();
    let mut hit = Hit {
        method: method.clone(),
        query: query.clone(),
        body: String::from_utf8_lossy(&body).into_owned(),
        message: None,
    };
    if method == Method::GET {
        inner.hits.lock().unwrap().push(hit);
        if !signed {
            return respond(200, "invalid signature".into());
        }
        let (status, body) = (inner.on_verify)(get("echostr"));
        return respond(status, body);
    }
    assert!(signed, "the push's signature must verify: {query:?}");
    let crypto = MessageCrypto::new(app.aes_key.clone(), app.appid.clone());
    let encrypted = get("encrypt_type") == "aes";
    let plain = if encrypted {
        crypto
            .decrypt_push(
                &app.token,
                get("timestamp"),
                get("nonce"),
                get("msg_signature"),
                &body,
            )
            .expect("an encrypted push decrypts with the app's key and msg_signature")
    } else {
        body.to_vec()
    };
    let message = Message::parse(&plain).expect("the push parses");
    hit.message = Some(message.clone());
    let index = {
        let mut hits = inner.hits.lock().unwrap();
        hits.push(hit);
        hits.iter().filter(|h| h.method == Method::POST).count() - 1
    };
    let mut answer = (inner.on_push)(index, &message);
    loop {
        match answer {
            Answer::Sleep(duration, then) => {
                tokio::time::sleep(duration).await;
                answer = *then;
            }
            Answer::After(work, then) => {
                work.await;
                answer = *then;
            }
            Answer::Raw(status, body) => return respond(status, body),
            Answer::PlainReply(reply) => return respond(200, reply_xml(&message, reply)),
            Answer::Reply(reply) => {
                let xml = reply_xml(&message, reply);
                let body = if encrypted {
                    crypto.encrypt_reply(&app.token, &xml, message.create_time, "4242")
                } else {
                    xml
                };
                return respond(200, body);
            }
        }
    }
}

/// The reply document answering `message`.
pub(crate) fn reply_xml(message: &Message, reply: Reply) -> String {
    ReplyMessage::answering(message, reply, message.create_time).to_xml()
}
