//! The pure core: (method, query, body) in, an answer out. No sockets; the server shell and the
//! tower service are thin layers over it.

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use http::header::{ALLOW, CONTENT_TYPE, HeaderValue, X_CONTENT_TYPE_OPTIONS};
use http::{Method, StatusCode};
use tokio::time::Instant;
use wechat_crypto::verify_signature;
use wechat_types::api::CustomMessage;
use wechat_types::xml::{Message, Reply, ReplyMessage};
use wechat_types::{AccountId, OpenId};

use crate::CallbackError;
use crate::config::{CallbackConfig, ConfigError, Mode};
use crate::dedupe::{Claim, Dedupe, DedupeStore, MemoryDedupeStore, StoredAnswer};
use crate::handler::Handler;
use crate::lazy_timeout::{Elapsed, lazy_timeout};
use crate::panic::{CatchPanic, panic_message};
use crate::query::{PushQuery, Sealing};

/// The callback URL's logic: verifies, decrypts, parses, dedupes, calls the handler within the
/// reply budget, renders, encrypts and signs the reply.
///
/// Cheap to clone (one `Arc`); serve it with [`Callback::into_service`] (hyper and tower) or
/// [`Server`](crate::Server), or call [`Callback::respond`] from any HTTP framework.
/// It must run inside a Tokio runtime with the time driver on (the reply budget is a Tokio timer,
/// and a late handler finishes on a spawned task).
#[derive(Clone)]
pub struct Callback {
    inner: Arc<Inner>,
}

struct Inner {
    config: CallbackConfig,
    handler: Arc<dyn Handler>,
    /// Where seen nonces go when replay protection is on: the dedupe store, or a store of its
    /// own when dedupe is off.
    nonce_store: Option<Arc<dyn DedupeStore>>,
}

/// What the callback answers a request it accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// URL verification passed: the `echostr` to send back verbatim.
    Echo(String),
    /// `success`: received, no passive reply (also for retries of a push still being handled,
    /// and for a handler that ran late or panicked).
    Success,
    /// A passive reply document.
    Reply {
        /// The body: the reply XML, or its encrypted envelope.
        body: String,
        /// True when `body` is the encrypted envelope.
        encrypted: bool,
    },
}

impl Outcome {
    /// The response body.
    pub fn body(&self) -> &str {
        match self {
            Outcome::Echo(echo) => echo,
            Outcome::Success => "success",
            Outcome::Reply { body, .. } => body,
        }
    }

    /// The HTTP response: 200 with the body, `text/xml` for a reply and `text/plain` otherwise.
    pub fn into_response(self) -> http::Response<Bytes> {
        let (content_type, body) = match self {
            Outcome::Echo(echo) => (TEXT_PLAIN, Bytes::from(echo)),
            Outcome::Success => (TEXT_PLAIN, Bytes::from_static(b"success")),
            Outcome::Reply { body, .. } => (TEXT_XML, Bytes::from(body)),
        };
        response(StatusCode::OK, content_type, body)
    }
}

const TEXT_PLAIN: HeaderValue = HeaderValue::from_static("text/plain; charset=utf-8");
const TEXT_XML: HeaderValue = HeaderValue::from_static("text/xml; charset=utf-8");

fn response(status: StatusCode, content_type: HeaderValue, body: Bytes) -> http::Response<Bytes> {
    let mut response = http::Response::new(body);
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, content_type);
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
}

impl CallbackError {
    /// The HTTP response for this error: its 4xx status and the one-line reason as plain text.
    pub fn into_response(self) -> http::Response<Bytes> {
        let mut response = response(self.status(), TEXT_PLAIN, Bytes::from(self.reason()));
        if let CallbackError::MethodNotAllowed(_) = self {
            response
                .headers_mut()
                .insert(ALLOW, HeaderValue::from_static("GET, POST"));
        }
        response
    }
}

/// How the reply to a push is sealed: encrypted or not, and the push's nonce.
struct Seal<'a> {
    encrypted: bool,
    /// Borrowed from the query string, unless it was percent-encoded.
    nonce: Cow<'a, str>,
    /// The server time, read once per request.
    now: i64,
}

/// The handler's future, boxed so it can move to a task if it runs late.
type HandlerFuture = CatchPanic<Pin<Box<dyn Future<Output = Option<Reply>> + Send>>>;

/// What a panic left behind, as [`CatchPanic`] hands it over.
type PanicPayload = Box<dyn std::any::Any + Send>;

/// A handler at work on a push, and the ids its reply is addressed with.
struct Started {
    task: HandlerFuture,
    account: AccountId,
    user: OpenId,
}

impl Callback {
    /// A callback answering with `handler` (a [`Router`](crate::Router), a
    /// [`handler_fn`](crate::handler_fn) or any [`Handler`]).
    ///
    /// Fails when compat or safe mode is set without the EncodingAESKey.
    pub fn new(config: CallbackConfig, handler: impl Handler) -> Result<Self, ConfigError> {
        Self::with_shared_handler(config, Arc::new(handler))
    }

    /// Like [`Callback::new`], with a handler that is already shared.
    pub fn with_shared_handler(
        config: CallbackConfig,
        handler: Arc<dyn Handler>,
    ) -> Result<Self, ConfigError> {
        config.validate()?;
        let nonce_store = config.replay_protection.then(|| {
            config
                .dedupe
                .as_ref()
                .map(Dedupe::as_shared)
                .unwrap_or_else(|| Arc::new(MemoryDedupeStore::default()))
        });
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                handler,
                nonce_store,
            }),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &CallbackConfig {
        &self.inner.config
    }

    /// Answers one request: 200 with the echo, `success` or the reply; or a 4xx with a one-line
    /// reason. Never a 5xx, never a panic.
    ///
    /// `query` is the raw query string (without `?`).
    pub async fn respond(
        &self,
        method: &Method,
        query: Option<&str>,
        body: &[u8],
    ) -> http::Response<Bytes> {
        self.respond_at(method, query, body, Instant::now()).await
    }

    /// [`Callback::respond`] for a request that arrived at `arrived`: the reply budget counts
    /// from then, and the clock is read once per request.
    ///
    /// This and `process_at` return `async` blocks rather than being `async fn`s: an `async fn`
    /// keeps each argument twice in its future, and this future is inside every request's.
    #[allow(
        clippy::manual_async_fn,
        reason = "an `async fn` keeps each argument twice in its future"
    )]
    pub(crate) fn respond_at<'a>(
        &'a self,
        method: &'a Method,
        query: Option<&'a str>,
        body: &'a [u8],
        arrived: Instant,
    ) -> impl Future<Output = http::Response<Bytes>> + Send + 'a {
        async move {
            match self.process_at(method, query, body, arrived).await {
                Ok(outcome) => outcome.into_response(),
                Err(err) => {
                    log_refusal(&err);
                    err.into_response()
                }
            }
        }
    }

    /// Like [`Callback::respond`], with the outcome typed.
    pub async fn process(
        &self,
        method: &Method,
        query: Option<&str>,
        body: &[u8],
    ) -> Result<Outcome, CallbackError> {
        self.process_at(method, query, body, Instant::now()).await
    }

    /// The whole of a request's handling, in one future: the steps between its waits (the
    /// nonce store, the dedupe store, the handler) are plain functions, so nothing they hold
    /// takes room in it while it waits.
    #[allow(
        clippy::manual_async_fn,
        reason = "an `async fn` keeps each argument twice in its future"
    )]
    fn process_at<'a>(
        &'a self,
        method: &'a Method,
        query: Option<&'a str>,
        body: &'a [u8],
        arrived: Instant,
    ) -> impl Future<Output = Result<Outcome, CallbackError>> + Send + 'a {
        async move {
            let config = &self.inner.config;
            // Each stage is a block of its own, so what it alone needs (the query, the message)
            // takes no room in this future while a later stage waits.
            let (mut started, claimed, seal) = {
                let (msg, seal) = {
                    if body.len() > config.body_limit {
                        return Err(CallbackError::BodyTooLarge {
                            limit: config.body_limit,
                        });
                    }
                    let query = PushQuery::parse(query.unwrap_or_default());
                    // Checked in the order a client would fix them: body size (above), method,
                    // echostr, signature, timestamp, nonce, then the body's sealing and content.
                    // Only the nonce store (replay protection) and the answer wait.
                    let echostr = match *method {
                        Method::GET => Some(PushQuery::require(&query.echostr, "echostr")?),
                        Method::POST => None,
                        _ => return Err(CallbackError::MethodNotAllowed(method.clone())),
                    };
                    let (timestamp, nonce, now) = self.check_signature(&query)?;
                    if let Some(store) = &self.inner.nonce_store {
                        self.check_nonce(store.as_ref(), timestamp, nonce).await?;
                    }
                    if let Some(echostr) = echostr {
                        // `GET`: the URL verification WeChat runs when the callback URL is saved.
                        return Ok(Outcome::Echo(echostr.to_owned()));
                    }
                    let (msg, encrypted) = self.open_push(&query, body, timestamp, nonce)?;
                    let seal = Seal {
                        encrypted,
                        nonce: query.nonce.clone().unwrap_or_default(),
                        now,
                    };
                    (msg, seal)
                };
                let claimed = match &config.dedupe {
                    Some(store) => match self.claim(store, &msg, arrived).await {
                        Ok(claimed) => claimed,
                        Err(answered) => return Ok(self.seal_owned(answered, &seal)),
                    },
                    None => None,
                };
                (self.start_handler(msg), claimed, seal)
            };
            let key = claimed.as_deref();
            let finished = lazy_timeout(arrived, config.reply_budget, &mut started.task).await;
            let Some(answer) = self.settle(finished, started, key, seal.now, arrived) else {
                // Gone late: the late task records the answer itself.
                return Ok(Outcome::Success);
            };
            let (Some(store), Some(key)) = (&config.dedupe, claimed) else {
                return Ok(self.seal_owned(answer, &seal));
            };
            // Sealed before it is stored, so an encrypted reply costs no copy of the document.
            let outcome = self.seal_ref(&answer, &seal);
            if let Err(err) = store.complete(&key, answer, config.dedupe_ttl).await {
                tracing::warn!(key, error = %err, "dedupe store failed to keep the answer");
            }
            Ok(outcome)
        }
    }

    /// Claims the push's dedupe key: `Ok(Some(key))` when the handler is to run,
    /// `Ok(None)` when the store failed (the handler runs anyway: answering twice beats not
    /// answering), `Err(answer)` for a retry, answered `success` while the first delivery is
    /// being handled and with the stored answer after.
    async fn claim(
        &self,
        store: &Dedupe,
        msg: &Message,
        arrived: Instant,
    ) -> Result<Option<String>, StoredAnswer> {
        let key = msg.dedupe_key();
        match store
            .claim_at(&key, self.inner.config.dedupe_ttl, arrived)
            .await
        {
            Ok(Claim::New) => Ok(Some(key)),
            Ok(Claim::InFlight) => {
                tracing::debug!(
                    key,
                    "retry of a push still being handled; answering success"
                );
                Err(StoredAnswer::Success)
            }
            Ok(Claim::Done(answer)) => {
                tracing::debug!(key, "retry of a push already answered");
                Err(answer)
            }
            Err(err) => {
                tracing::warn!(key, error = %err, "dedupe store failed; handling without dedupe");
                Ok(None)
            }
        }
    }

    /// Checks `signature` and the timestamp window; returns timestamp, nonce and the time now.
    fn check_signature<'q>(
        &self,
        query: &'q PushQuery<'q>,
    ) -> Result<(&'q str, &'q str, i64), CallbackError> {
        let config = &self.inner.config;
        let signature = PushQuery::require(&query.signature, "signature")?;
        let timestamp = PushQuery::require(&query.timestamp, "timestamp")?;
        let nonce = PushQuery::require(&query.nonce, "nonce")?;
        verify_signature(&config.token, timestamp, nonce, signature)
            .map_err(CallbackError::Signature)?;
        let now = config.clock.now();
        if let Some(window) = config.timestamp_window {
            let sent: i64 = timestamp
                .trim_ascii()
                .parse()
                .map_err(|_| CallbackError::InvalidTimestamp)?;
            if now.abs_diff(sent) > window.as_secs() {
                return Err(CallbackError::StaleTimestamp {
                    timestamp: sent,
                    now,
                    window_secs: window.as_secs(),
                });
            }
        }
        Ok((timestamp, nonce, now))
    }

    /// Refuses a `timestamp` and `nonce` seen before (replay protection).
    async fn check_nonce(
        &self,
        store: &dyn DedupeStore,
        timestamp: &str,
        nonce: &str,
    ) -> Result<(), CallbackError> {
        let config = &self.inner.config;
        let key = format!("nonce:{timestamp}:{nonce}");
        let ttl = config
            .timestamp_window
            .unwrap_or(config.dedupe_ttl)
            .saturating_mul(2);
        match store.claim(&key, ttl).await {
            Ok(Claim::New) => Ok(()),
            Ok(_) => Err(CallbackError::NonceReplayed),
            Err(err) => {
                tracing::warn!(error = %err, "nonce store failed; request let through");
                Ok(())
            }
        }
    }

    /// `POST`: reads the message, decrypting it first when it is sealed; true when it was.
    fn open_push(
        &self,
        query: &PushQuery<'_>,
        body: &[u8],
        timestamp: &str,
        nonce: &str,
    ) -> Result<(Message, bool), CallbackError> {
        let config = &self.inner.config;
        let encrypted = match (config.mode, query.sealing()?) {
            (Mode::Plaintext, _) => false,
            (Mode::Safe, Sealing::Plain) => return Err(CallbackError::EncryptionRequired),
            (_, Sealing::Aes) => true,
            (Mode::Auto | Mode::Compat, Sealing::Plain) => false,
        };
        if !encrypted {
            return Ok((Message::parse(body).map_err(CallbackError::Message)?, false));
        }
        let crypto = config
            .crypto
            .as_ref()
            .ok_or(CallbackError::EncryptionNotConfigured)?;
        let msg_signature = PushQuery::require(&query.msg_signature, "msg_signature")?;
        // One call reads the envelope, checks msg_signature and decrypts; its error says which
        // step refused.
        let decrypted = crypto
            .decrypt_push(&config.token, timestamp, nonce, msg_signature, body)
            .map_err(CallbackError::from_decrypt)?;
        let msg = Message::parse(&decrypted).map_err(CallbackError::Message)?;
        Ok((msg, true))
    }

    /// Starts the handler on `msg`, keeping the two ids its reply is addressed with. Panics are
    /// caught: one while the future is made (in a router's predicate, say, or a closure's code
    /// before its `async` block) comes out of the future's first poll like any other.
    fn start_handler(&self, msg: Message) -> Started {
        // The handler gets the message by value; the reply needs only its two ids.
        let (account, user) = (msg.to.clone(), msg.from.clone());
        // WeChat's five seconds run from when it sent the request, so the budget counts from the
        // arrival: the work before the handler, and the making of its future, count against it.
        let handler = Arc::clone(&self.inner.handler);
        let task: HandlerFuture =
            match catch_unwind(AssertUnwindSafe(move || handler.handle_shared(msg))) {
                Ok(future) => CatchPanic::new(future),
                Err(payload) => CatchPanic::new(Box::pin(async move { resume_unwind(payload) })),
            };
        Started {
            task,
            account,
            user,
        }
    }

    /// What a started handler came to within the reply budget, which counts from the request's
    /// arrival. `None` when it ran past the budget: it then finishes on a spawned task, whose
    /// reply goes out through the custom-service sender.
    fn settle(
        &self,
        finished: Result<Result<Option<Reply>, PanicPayload>, Elapsed>,
        started: Started,
        key: Option<&str>,
        now: i64,
        arrived: Instant,
    ) -> Option<StoredAnswer> {
        let Started {
            task,
            account,
            user,
        } = started;
        let budget = self.inner.config.reply_budget;
        let late: HandlerFuture = match finished {
            // A reply made after the budget was spent (after a body that trickled in, say, or
            // a wait the timer had not yet cut short) goes the custom-service way when it can:
            // WeChat may have stopped waiting.
            Ok(Ok(Some(reply))) if !self.goes_late(&user, &reply, arrived) => {
                let reply = ReplyMessage {
                    to: user,
                    from: account,
                    create_time: now,
                    reply,
                };
                return Some(StoredAnswer::Reply(reply.to_xml()));
            }
            Ok(Ok(Some(reply))) => CatchPanic::new(Box::pin(std::future::ready(Some(reply)))),
            Ok(Ok(None)) => return Some(StoredAnswer::Success),
            Ok(Err(payload)) => {
                tracing::error!(
                    key = key.unwrap_or("-"),
                    panic = panic_message(&*payload),
                    "handler panicked; answering success"
                );
                return Some(StoredAnswer::Success);
            }
            Err(Elapsed) => task,
        };
        tracing::info!(
            key = key.unwrap_or("-"),
            budget_ms = budget.as_millis() as u64,
            "handler is past the reply budget; answering success, reply follows by custom-service message"
        );
        let inner = Arc::clone(&self.inner);
        tokio::spawn(finish_late(inner, late, user, key.map(str::to_owned)));
        None
    }

    /// True when a reply to `user` made now goes out as a custom-service message: a sender is
    /// set, the reply budget is spent, and the reply has such a form. A reply that cannot had
    /// better go back late than not at all. Cheapest first: without a sender the clock is not
    /// read, and the message is built only for a late reply.
    fn goes_late(&self, user: &OpenId, reply: &Reply, arrived: Instant) -> bool {
        let config = &self.inner.config;
        config.custom_service.is_some()
            && arrived.elapsed() >= config.reply_budget
            && CustomMessage::from_reply(user.clone(), reply).is_some()
    }

    /// The response for an answer, encrypted and signed when the push was.
    fn seal_ref(&self, answer: &StoredAnswer, seal: &Seal<'_>) -> Outcome {
        match answer {
            StoredAnswer::Success => Outcome::Success,
            StoredAnswer::Reply(xml) => match self.encrypt(xml, seal) {
                Some(outcome) => outcome,
                None => Outcome::Reply {
                    body: xml.clone(),
                    encrypted: false,
                },
            },
        }
    }

    /// Like [`Callback::seal_ref`], reusing the document when it goes out in plaintext.
    fn seal_owned(&self, answer: StoredAnswer, seal: &Seal<'_>) -> Outcome {
        match answer {
            StoredAnswer::Success => Outcome::Success,
            StoredAnswer::Reply(xml) => match self.encrypt(&xml, seal) {
                Some(outcome) => outcome,
                None => Outcome::Reply {
                    body: xml,
                    encrypted: false,
                },
            },
        }
    }

    /// The encrypted reply envelope, when the push was encrypted.
    fn encrypt(&self, xml: &str, seal: &Seal<'_>) -> Option<Outcome> {
        let config = &self.inner.config;
        let crypto = config.crypto.as_ref().filter(|_| seal.encrypted)?;
        Some(Outcome::Reply {
            body: crypto.encrypt_reply(&config.token, xml, seal.now, &seal.nonce),
            encrypted: true,
        })
    }

    /// Serves the callback as a hyper and tower service.
    pub fn into_service(self) -> crate::CallbackService {
        crate::CallbackService::new(self)
    }
}

/// Waits for a handler that missed the reply budget and sends its reply as a custom-service
/// message. Retries meanwhile are answered `success` (the key stays in flight), and after it too.
async fn finish_late(inner: Arc<Inner>, task: HandlerFuture, user: OpenId, key: Option<String>) {
    let key_text = key.as_deref().unwrap_or("-");
    match task.await {
        Ok(Some(reply)) => deliver_late(&inner, user, &reply, key_text).await,
        Ok(None) => tracing::debug!(key = key_text, "late handler finished with no reply"),
        Err(payload) => tracing::error!(
            key = key_text,
            panic = panic_message(&*payload),
            "late handler panicked"
        ),
    }
    if let (Some(key), Some(store)) = (key, &inner.config.dedupe) {
        let ttl = inner.config.dedupe_ttl;
        if let Err(err) = store.complete(&key, StoredAnswer::Success, ttl).await {
            tracing::warn!(key, error = %err, "dedupe store failed to keep the answer");
        }
    }
}

async fn deliver_late(inner: &Inner, user: OpenId, reply: &Reply, key: &str) {
    let Some(custom) = CustomMessage::from_reply(user, reply) else {
        tracing::warn!(
            key,
            reply_type = reply.msg_type(),
            "late reply has no custom-service form; dropped"
        );
        return;
    };
    let Some(sender) = &inner.config.custom_service else {
        tracing::warn!(
            key,
            openid = %custom.touser,
            reply_type = reply.msg_type(),
            "late reply dropped: no custom-service sender is configured"
        );
        return;
    };
    match sender.send_custom(&custom).await {
        Ok(()) => tracing::debug!(key, "late reply sent by custom-service message"),
        Err(err) => tracing::warn!(
            key,
            openid = %custom.touser,
            error = %err,
            "late reply could not be sent by custom-service message"
        ),
    }
}

fn log_refusal(err: &CallbackError) {
    match err {
        CallbackError::EncryptionNotConfigured
        | CallbackError::EncryptionRequired
        | CallbackError::WrongAppId(_) => {
            tracing::warn!(status = err.status().as_u16(), reason = %err.reason(), "callback request refused; check the configuration");
        }
        _ => {
            tracing::debug!(status = err.status().as_u16(), reason = %err.reason(), "callback request refused")
        }
    }
}

impl fmt::Debug for Callback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Callback")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}
