//! The seam every outgoing call goes through: bytes in, bytes out.
//!
//! A transport moves bytes and owns timeouts, TLS and pooling. Every HTTP status comes back as
//! `Ok`: reading `errcode` is protocol work, done by the caller.

#[cfg(feature = "hyper-transport")]
mod hyper_transport;
#[cfg(feature = "test-util")]
pub mod test_util;

use std::fmt;

use async_trait::async_trait;
use bytes::Bytes;

#[cfg(feature = "hyper-transport")]
pub use hyper_transport::{HyperTransport, HyperTransportBuilder};

/// Sends one HTTP request and returns the whole response.
///
/// Implement it to bring your own HTTP stack; it is object safe and shared as
/// `Arc<dyn HttpTransport>`.
///
/// ```
/// use async_trait::async_trait;
/// use bytes::Bytes;
/// use wechat_client::{HttpTransport, TransportError};
///
/// #[derive(Debug)]
/// struct AlwaysBusy;
///
/// #[async_trait]
/// impl HttpTransport for AlwaysBusy {
///     async fn send(
///         &self,
///         _request: http::Request<Bytes>,
///     ) -> Result<http::Response<Bytes>, TransportError> {
///         Ok(http::Response::new(Bytes::from_static(br#"{"errcode":-1,"errmsg":"system busy"}"#)))
///     }
/// }
/// ```
#[async_trait]
pub trait HttpTransport: Send + Sync + fmt::Debug {
    /// Sends `request`; any HTTP status is `Ok`.
    async fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, TransportError>;
}

/// What kind of transport failure happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// Could not connect (refused, DNS, TLS handshake).
    Connect,
    /// The connect or total timeout passed.
    Timeout,
    /// The response body was larger than the configured limit.
    BodyTooLarge,
    /// The request could not be built or sent (bad URL, HTTP protocol error).
    Request,
    /// Anything else.
    Other,
}

/// A transport failure, with its cause through `source()`.
#[derive(Debug)]
pub struct TransportError {
    kind: TransportErrorKind,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl TransportError {
    /// A failure of `kind` caused by `source`.
    pub fn new(
        kind: TransportErrorKind,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Self {
            kind,
            source: Some(source.into()),
        }
    }

    /// A failure of `kind` with no further cause.
    pub fn from_kind(kind: TransportErrorKind) -> Self {
        Self { kind, source: None }
    }

    /// What kind of failure.
    pub fn kind(&self) -> TransportErrorKind {
        self.kind
    }

    /// True for failures where trying again later may work (connect, timeout).
    pub fn is_retryable(&self) -> bool {
        matches!(
            self.kind,
            TransportErrorKind::Connect | TransportErrorKind::Timeout
        )
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.kind {
            TransportErrorKind::Connect => "could not connect",
            TransportErrorKind::Timeout => "timed out",
            TransportErrorKind::BodyTooLarge => "response body too large",
            TransportErrorKind::Request => "could not send the request",
            TransportErrorKind::Other => "transport failure",
        })
    }
}

impl std::error::Error for TransportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}
