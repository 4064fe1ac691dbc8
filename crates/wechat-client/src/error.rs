//! The one error type of every call: API errors keep their errcode; causes go through `source()`.

use std::fmt;
use std::sync::Arc;

use http::StatusCode;
use wechat_types::ErrCode;

use crate::store::{CredentialKind, StoreError};
use crate::transport::TransportError;

/// Anything that can go wrong with a call.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// WeChat answered with a non-zero `errcode`.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// The request did not complete: connect failure, timeout, body too large.
    #[error("request to {endpoint} failed")]
    Transport {
        /// The API path (`/cgi-bin/token`…).
        endpoint: String,
        /// What happened.
        #[source]
        source: TransportError,
    },
    /// The server answered with an HTTP error status (a proxy's 502, say) and no errcode.
    #[error("{endpoint} answered HTTP {status}")]
    HttpStatus {
        /// The API path.
        endpoint: String,
        /// The status.
        status: StatusCode,
        /// The start of the body, for diagnostics (never a token endpoint's body).
        preview: String,
    },
    /// The answer was not the JSON expected.
    #[error("could not decode the answer of {endpoint}")]
    Decode {
        /// The API path.
        endpoint: String,
        /// The start of the body, for diagnostics (empty for token endpoints, whose body is secret).
        preview: String,
        /// The JSON error.
        #[source]
        source: serde_json::Error,
    },
    /// The caller passed something WeChat would refuse (a bad menu, an empty URL…).
    #[error("invalid input: {message}")]
    InvalidInput {
        /// What is wrong.
        message: String,
        /// The underlying error, when there is one.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// The token store failed (Redis unreachable…).
    #[error("token store failed")]
    Store(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// Obtaining the access_token or jsapi_ticket failed. Every caller that waited for the same
    /// fetch gets this error, sharing one cause (an [`Error::Api`] from the token endpoint, a
    /// transport failure…). [`Error::api_code`] and [`Error::is_retryable`] look through it.
    #[error("could not obtain the {kind}")]
    Credential {
        /// Which credential.
        kind: CredentialKind,
        /// Why, shared by every waiter of the fetch.
        #[source]
        source: Arc<Error>,
    },
}

impl From<StoreError> for Error {
    fn from(error: StoreError) -> Self {
        Error::Store(Box::new(error))
    }
}

/// A non-zero `errcode` answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The errcode.
    pub code: ErrCode,
    /// The errmsg, as WeChat sent it (with its request id). For people, not for matching.
    pub errmsg: String,
    /// The HTTP status (WeChat uses 200 for errors).
    pub status: StatusCode,
    /// The API path.
    pub endpoint: String,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} answered errcode {}: {}",
            self.endpoint,
            self.code.code(),
            self.errmsg
        )
    }
}

impl std::error::Error for ApiError {}

impl ApiError {
    /// See [`ErrCode::is_token_invalid`].
    pub fn is_token_invalid(&self) -> bool {
        self.code.is_token_invalid()
    }

    /// See [`ErrCode::is_retryable`].
    pub fn is_retryable(&self) -> bool {
        self.code.is_retryable()
    }
}

impl Error {
    /// The errcode, when WeChat answered with one.
    pub fn api_code(&self) -> Option<ErrCode> {
        match self {
            Error::Api(api) => Some(api.code),
            Error::Credential { source, .. } => source.api_code(),
            _ => None,
        }
    }

    /// True when WeChat said the access_token is stale (40001, 40014, 42001) in answer to an API
    /// call. A failure to *obtain* a token ([`Error::Credential`]) is never one.
    pub fn is_token_invalid(&self) -> bool {
        matches!(self, Error::Api(api) if api.is_token_invalid())
    }

    /// True when sending the same request again later may succeed: `-1` busy, a timeout or
    /// connect failure, or a 5xx from a proxy.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Api(api) => api.is_retryable(),
            Error::Transport { source, .. } => source.is_retryable(),
            Error::HttpStatus { status, .. } => status.is_server_error(),
            Error::Credential { source, .. } => source.is_retryable(),
            _ => false,
        }
    }

    /// An [`Error::InvalidInput`] with a message.
    pub fn invalid_input(message: impl Into<String>) -> Self {
        Error::InvalidInput {
            message: message.into(),
            source: None,
        }
    }
}
