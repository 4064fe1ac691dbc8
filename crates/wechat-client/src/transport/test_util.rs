//! Test doubles for [`HttpTransport`](super::HttpTransport) (feature `test-util`).

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use bytes::Bytes;

use super::{HttpTransport, TransportError, TransportErrorKind};

#[cfg(feature = "redis")]
pub use crate::redis_server::RedisServer;

type BoxFuture =
    Pin<Box<dyn Future<Output = Result<http::Response<Bytes>, TransportError>> + Send>>;

/// A transport that calls a closure: the way to run the SDK against wechat-mock in process.
///
/// ```
/// use bytes::Bytes;
/// use wechat_client::test_util::FnTransport;
///
/// let transport = FnTransport::new(|_request| async {
///     Ok(http::Response::new(Bytes::from_static(br#"{"errcode":0,"errmsg":"ok"}"#)))
/// });
/// # drop(transport);
/// ```
pub struct FnTransport {
    handler: Box<dyn Fn(http::Request<Bytes>) -> BoxFuture + Send + Sync>,
}

impl FnTransport {
    /// A transport that answers every request with `handler`.
    pub fn new<F, Fut>(handler: F) -> Self
    where
        F: Fn(http::Request<Bytes>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<http::Response<Bytes>, TransportError>> + Send + 'static,
    {
        Self {
            handler: Box::new(move |request| Box::pin(handler(request))),
        }
    }
}

impl fmt::Debug for FnTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FnTransport")
    }
}

#[async_trait]
impl HttpTransport for FnTransport {
    async fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, TransportError> {
        (self.handler)(request).await
    }
}

/// A request as a [`ReplayTransport`] saw it.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    /// The method.
    pub method: http::Method,
    /// The whole URI, query included.
    pub uri: http::Uri,
    /// The body.
    pub body: Bytes,
}

/// A transport that answers with queued responses, in order, and records every request.
/// When the queue is empty it fails with a [`TransportErrorKind::Other`] error.
#[derive(Debug, Clone, Default)]
pub struct ReplayTransport {
    inner: Arc<Mutex<ReplayState>>,
}

#[derive(Debug, Default)]
struct ReplayState {
    responses: VecDeque<Result<http::Response<Bytes>, TransportErrorKind>>,
    requests: Vec<RecordedRequest>,
}

impl ReplayTransport {
    /// An empty transport.
    pub fn new() -> Self {
        Self::default()
    }

    fn state(&self) -> std::sync::MutexGuard<'_, ReplayState> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues a 200 answer with `body`.
    pub fn push_json(&self, body: impl Into<Bytes>) -> &Self {
        self.push_response(http::Response::new(body.into()))
    }

    /// Queues an answer.
    pub fn push_response(&self, response: http::Response<Bytes>) -> &Self {
        self.state().responses.push_back(Ok(response));
        self
    }

    /// Queues a transport failure.
    pub fn push_error(&self, kind: TransportErrorKind) -> &Self {
        self.state().responses.push_back(Err(kind));
        self
    }

    /// Every request sent so far.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.state().requests.clone()
    }
}

#[async_trait]
impl HttpTransport for ReplayTransport {
    async fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, TransportError> {
        let mut state = self.state();
        state.requests.push(RecordedRequest {
            method: request.method().clone(),
            uri: request.uri().clone(),
            body: request.body().clone(),
        });
        match state.responses.pop_front() {
            Some(Ok(response)) => Ok(response),
            Some(Err(kind)) => Err(TransportError::from_kind(kind)),
            None => Err(TransportError::new(
                TransportErrorKind::Other,
                "ReplayTransport has no queued response",
            )),
        }
    }
}
