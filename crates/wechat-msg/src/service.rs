//! The callback as a hyper service and a tower service, so it mounts on a path in axum or any
//! tower stack.

use std::convert::Infallible;
use std::error::Error as StdError;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Buf as _;
use bytes::Bytes;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderValue, X_CONTENT_TYPE_OPTIONS};
use http::{Request, Response, StatusCode};
use http_body::Body;
use http_body_util::{Full, LengthLimitError};
use tokio::time::Instant;

use crate::lazy_timeout::{Elapsed, lazy_timeout};
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
        let Ok(response) = self.answer(request).await;
        response
    }

    /// The answer to `request`, as a future that owns what it needs. What can be done before the
    /// body arrives is done here, and the request's head is let go (only the method and the URI
    /// are kept): the future is boxed for every request, and one under a kilobyte comes from the
    /// allocator's per-thread cache.
    fn answer<B>(
        &self,
        request: Request<B>,
    ) -> impl Future<Output = Result<Response<Full<Bytes>>, Infallible>> + use<B>
    where
        B: Body,
        B::Error: Into<Box<dyn StdError + Send + Sync>>,
    {
        let wrong_path = self
            .path
            .as_ref()
            .is_some_and(|path| request.uri().path() != &**path);
        // One clock read a request: the body timeout and the reply budget both count from here.
        let arrived = Instant::now();
        let callback = self.callback.clone();
        let limit = callback.config().body_limit;
        let body_timeout = self.body_timeout;
        let (parts, body) = request.into_parts();
        let too_large = declared_length(&parts.headers).is_some_and(|len| len > limit as u64);
        let http::request::Parts { method, uri, .. } = parts;
        // The service's own error type, so the service boxes this future and no other around it.
        async move {
            if wrong_path {
                return Ok(not_found());
            }
            if too_large {
                let refusal = CallbackError::BodyTooLarge { limit }.into_response();
                return Ok(refusal.map(Full::new));
            }
            let body = match read_body(body, limit, body_timeout, arrived).await {
                Ok(body) => body,
                Err(err) => return Ok(err.into_response().map(Full::new)),
            };
            let response = callback
                .respond_at(&method, uri.query(), &body, arrived)
                .await;
            Ok(response.map(Full::new))
        }
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

/// The `Content-Length` a request declares, when it declares a number.
fn declared_length(headers: &http::HeaderMap) -> Option<u64> {
    headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
}

/// Reads at most `limit` bytes of body within `timeout` of `arrived`.
async fn read_body<B>(
    body: B,
    limit: usize,
    timeout: Duration,
    arrived: Instant,
) -> Result<Bytes, CallbackError>
where
    B: Body,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    let mut collect = std::pin::pin!(collect_body(body, limit));
    match lazy_timeout(arrived, timeout, &mut collect).await {
        Err(Elapsed) => Err(CallbackError::BodyTimeout),
        Ok(result) => result,
    }
}

/// A failed body read: `BodyTooLarge` when the body itself was limited (by a layer in front,
/// such as tower-http's request body limit, which wraps it in `Limited`), else `BodyRead`.
fn body_error(err: Box<dyn StdError + Send + Sync>, limit: usize) -> CallbackError {
    if err.is::<LengthLimitError>() {
        CallbackError::BodyTooLarge { limit }
    } else {
        CallbackError::BodyRead(err)
    }
}

/// The body's data frames joined (trailers are let go), or `BodyTooLarge` as soon as they
/// pass `limit` bytes. A body of one frame, as a push's is, comes back as that frame: no copy
/// and no allocation, where `http-body-util`'s `Collect` keeps its frames in a queue first.
async fn collect_body<B>(body: B, limit: usize) -> Result<Bytes, CallbackError>
where
    B: Body,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    let mut body = std::pin::pin!(body);
    let mut first: Option<Bytes> = None;
    let mut joined: Option<bytes::BytesMut> = None;
    let mut len = 0usize;
    while let Some(frame) = std::future::poll_fn(|cx| body.as_mut().poll_frame(cx)).await {
        let frame = frame.map_err(|err| body_error(err.into(), limit))?;
        let Ok(mut data) = frame.into_data() else {
            continue;
        };
        len = len.saturating_add(data.remaining());
        if len > limit {
            return Err(CallbackError::BodyTooLarge { limit });
        }
        let data = data.copy_to_bytes(data.remaining());
        match (&mut first, &mut joined) {
            (None, _) => first = Some(data),
            (Some(first), None) => {
                let mut buffer = bytes::BytesMut::with_capacity(first.len() + data.len());
                buffer.extend_from_slice(first);
                buffer.extend_from_slice(&data);
                joined = Some(buffer);
            }
            (Some(_), Some(buffer)) => buffer.extend_from_slice(&data),
        }
    }
    Ok(match (joined, first) {
        (Some(buffer), _) => buffer.freeze(),
        (None, first) => first.unwrap_or_default(),
    })
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
        Box::pin(self.answer(request))
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
        Box::pin(self.answer(request))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CallbackConfig, handler_fn};
    use wechat_types::ServerToken;

    /// A body that hands out the given frames one per poll.
    struct Frames(std::collections::VecDeque<http_body::Frame<Bytes>>);

    impl Body for Frames {
        type Data = Bytes;
        type Error = Infallible;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
        ) -> Poll<Option<Result<http_body::Frame<Bytes>, Infallible>>> {
            Poll::Ready(self.0.pop_front().map(Ok))
        }
    }

    fn frames(frames: Vec<http_body::Frame<Bytes>>) -> Frames {
        Frames(frames.into())
    }

    #[tokio::test]
    async fn bodies_are_joined_within_the_limit_and_trailers_let_go() {
        let data = |text: &'static str| http_body::Frame::data(Bytes::from_static(text.as_bytes()));
        let trailers = http_body::Frame::trailers(http::HeaderMap::new());
        let one = collect_body(frames(vec![data("<xml/>")]), 6).await.unwrap();
        assert_eq!(one, "<xml/>");
        let three = collect_body(
            frames(vec![data("ab"), data(""), data("cd"), trailers, data("e")]),
            5,
        );
        assert_eq!(three.await.unwrap(), "abcde");
        assert_eq!(collect_body(frames(vec![]), 0).await.unwrap(), "");
        // A body already limited in front (tower-http's limit wraps it in `Limited`) that
        // passes that limit is refused as too large too, not as a failed read.
        let limited = http_body_util::Limited::new(frames(vec![data("abc"), data("def")]), 4);
        assert!(matches!(
            collect_body(limited, 100).await,
            Err(CallbackError::BodyTooLarge { limit: 100 })
        ));
        for over in [vec![data("abcdef")], vec![data("abc"), data("def")]] {
            assert!(matches!(
                collect_body(frames(over), 5).await,
                Err(CallbackError::BodyTooLarge { limit: 5 })
            ));
        }
    }

    /// The future hyper boxes for every request stays under a kilobyte, the most glibc's
    /// per-thread cache serves (it was 2.5 KB, and each request's allocation and free of it went
    /// to the slower bins). A new `await` holding something large shows up here.
    #[test]
    fn the_request_future_stays_under_a_kilobyte() {
        let callback = Callback::new(
            CallbackConfig::new(ServerToken::new("t")),
            handler_fn(|_msg| async { None }),
        )
        .expect("a plaintext config is valid");
        let service = callback.into_service();
        let request = Request::post("/wechat?signature=s&timestamp=1&nonce=n")
            .body(http_body_util::Full::new(Bytes::from_static(
                b"<xml></xml>",
            )))
            .expect("a valid request");
        let future = hyper::service::Service::call(&service, request);
        let size = std::mem::size_of_val(&*future);
        assert!(size <= 1024, "the request future is {size} bytes");
    }
}
