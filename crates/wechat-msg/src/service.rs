//! The callback as a hyper service and a tower service, so it mounts on a path in axum or any
//! tower stack.

use std::convert::Infallible;
use std::error::Error as StdError;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderValue, X_CONTENT_TYPE_OPTIONS};
use http::{Request, Response, StatusCode};
use http_body::Body;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use tokio::time::Instant;

use crate::lazy_timeout::lazy_timeout;
use crate::{Callback, CallbackError};

/// The callback as a service: `http::Request<B>` in (any body `B`), `http::Response<Full<Bytes>>`
/// out, never an error. The body is read up to the configured limit (a `Content-Length` over it
/// is refused before reading) and within the body timeout.
///
/// It implements both [`tower_service::Service`] and [`hyper::service::Service`]; in axum,
/// `Router::new().route_service("/wechat", callback.into_service())` mounts it on a path.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use tower::ServiceExt as _;
/// use wechat_msg::{handler_fn, Callback, CallbackConfig};
/// use wechat_types::ServerToken;
///
/// let callback = Callback::new(
///     CallbackConfig::new(ServerToken::new("t")),
///     handler_fn(|_msg| async { None }),
/// )?;
/// let request = http::Request::put("/wechat").body(http_body_util::Empty::<bytes::Bytes>::new())?;
/// let response = callback.into_service().oneshot(request).await?;
/// assert_eq!(response.status(), 405);
/// assert_eq!(response.headers()["allow"], "GET, POST");
/// # Ok(()) }
/// ```
///
/// The path is not looked at unless [`CallbackService::only_path`] is set.
#[derive(Debug, Clone)]
pub struct CallbackService {
    callback: Callback,
    body_timeout: Duration,
    /// Shared, so the clone each request takes costs no allocation.
    path: Option<Arc<str>>,
}

/// The response future of [`CallbackService`].
pub type ResponseFuture =
    Pin<Box<dyn Future<Output = Result<Response<Full<Bytes>>, Infallible>> + Send>>;

impl CallbackService {
    /// Default time a request body may take to arrive.
    pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(10);

    /// The service for `callback`.
    pub fn new(callback: Callback) -> Self {
        Self {
            callback,
            body_timeout: Self::DEFAULT_BODY_TIMEOUT,
            path: None,
        }
    }

    /// How long the body may take to arrive before the request is refused with 408.
    pub fn body_timeout(mut self, timeout: Duration) -> Self {
        self.body_timeout = timeout;
        self
    }

    /// Answers only requests to `path` (others get 404), for a server that serves nothing else.
    pub fn only_path(mut self, path: impl Into<String>) -> Self {
        self.path = Some(Arc::from(path.into()));
        self
    }

    /// The callback behind the service.
    pub fn callback(&self) -> &Callback {
        &self.callback
    }

    /// Answers one request.
    pub async fn handle<B>(&self, request: Request<B>) -> Response<Full<Bytes>>
    where
        B: Body,
        B::Error: Into<Box<dyn StdError + Send + Sync>>,
    {
        if let Some(path) = &self.path
            && request.uri().path() != &**path
        {
            return not_found();
        }
        // One clock read a request: the body timeout and the reply budget both count from here.
        let arrived = Instant::now();
        let limit = self.callback.config().body_limit;
        let (parts, body) = request.into_parts();
        let body = match read_body(&parts.headers, body, limit, self.body_timeout, arrived).await {
            Ok(body) => body,
            Err(err) => return err.into_response().map(Full::new),
        };
        self.callback
            .respond_at(&parts.method, parts.uri.query(), &body, arrived)
            .await
            .map(Full::new)
    }
}

fn not_found() -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from_static(b"not found")));
    *response.status_mut() = StatusCode::NOT_FOUND;
    // Like every other refusal: plain text the browser must not sniff.
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
}

/// Reads at most `limit` bytes of body within `timeout`.
async fn read_body<B>(
    headers: &http::HeaderMap,
    body: B,
    limit: usize,
    timeout: Duration,
    arrived: Instant,
) -> Result<Bytes, CallbackError>
where
    B: Body,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
        return Err(CallbackError::BodyTooLarge { limit });
    }
    let mut collect = std::pin::pin!(Limited::new(body, limit).collect());
    match lazy_timeout(arrived, timeout, &mut collect).await {
        Err(_elapsed) => Err(CallbackError::BodyTimeout),
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(err)) if err.is::<LengthLimitError>() => Err(CallbackError::BodyTooLarge { limit }),
        Ok(Err(err)) => Err(CallbackError::BodyRead(err)),
    }
}

impl<B> tower_service::Service<Request<B>> for CallbackService
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = ResponseFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let service = self.clone();
        Box::pin(async move { Ok(service.handle(request).await) })
    }
}

impl<B> hyper::service::Service<Request<B>> for CallbackService
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = ResponseFuture;

    fn call(&self, request: Request<B>) -> Self::Future {
        let service = self.clone();
        Box::pin(async move { Ok(service.handle(request).await) })
    }
}
