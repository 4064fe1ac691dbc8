//! The layer every outgoing call to WeChat goes through: a pluggable [`HttpTransport`] (hyper +
//! rustls by default), one [`Error`] type that keeps WeChat's `errcode`, injected time
//! ([`Clock`]), overridable hosts ([`Endpoints`]) and pure request builders and answer readers
//! ([`request`]).
//!
//! ```
//! use bytes::Bytes;
//! use wechat_client::request::{self, Sensitivity};
//! use wechat_client::Endpoints;
//! use wechat_types::api::AccessTokenResponse;
//!
//! // Build a request without any I/O…
//! let endpoints = Endpoints::single("http://127.0.0.1:8787");
//! let req = request::get(
//!     &endpoints.url_api("/cgi-bin/token"),
//!     &[("grant_type", "client_credential"), ("appid", "wx1"), ("secret", "s")],
//! )?;
//! assert_eq!(req.uri().path(), "/cgi-bin/token");
//!
//! // …and read an answer the same way.
//! let answer = http::Response::new(Bytes::from_static(br#"{"access_token":"T","expires_in":7200}"#));
//! let token: AccessTokenResponse = request::decode_json("/cgi-bin/token", &answer, Sensitivity::Secret)?;
//! assert_eq!(token.access_token.expose_secret(), "T");
//! # Ok::<(), wechat_client::Error>(())
//! ```

mod clock;
mod config;
mod endpoints;
mod error;
pub mod request;
mod transport;

pub use clock::{Clock, ManualClock, SystemClock};
pub use config::ClientConfig;
pub use endpoints::Endpoints;
pub use error::{ApiError, Error};
#[cfg(feature = "test-util")]
pub use transport::test_util;
pub use transport::{HttpTransport, TransportError, TransportErrorKind};
#[cfg(feature = "hyper-transport")]
pub use transport::{HyperTransport, HyperTransportBuilder};
