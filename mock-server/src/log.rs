//! What the fake saw and did: the request log and the custom-service messages the account sent.

use std::fmt;
use std::net::IpAddr;

use bytes::Bytes;
use http::Method;
use wechat_types::api::CustomMessage;
use wechat_types::{AppId, OpenId};

/// Bodies are kept up to this many bytes in the request log.
pub(crate) const LOGGED_BODY_LIMIT: usize = 16 * 1024;

/// Query parameters whose values never appear in `Debug` output or the admin request log.
pub(crate) const SECRET_PARAMS: &[&str] = &["secret", "access_token", "refresh_token", "code"];

/// One request the fake answered, for assertions such as "exactly one token fetch".
///
/// The raw query and body are kept for assertions (they hold the fake's secrets, by design); the
/// `Debug` form redacts secret query values and shows only the body length.
#[derive(Clone)]
#[non_exhaustive]
pub struct RecordedRequest {
    /// The method.
    pub method: Method,
    /// The path (`/cgi-bin/token`), without the query.
    pub path: String,
    /// The raw query string, without `?` (empty when none).
    pub query: String,
    /// The body, truncated to 16 KiB.
    pub body: Bytes,
    /// The HTTP status answered.
    pub status: u16,
    /// The errcode answered, when the answer carried a non-zero one.
    pub errcode: Option<i64>,
    /// When, on the mock clock (unix seconds).
    pub at: i64,
    /// The caller's IP (`127.0.0.1` for in-process calls).
    pub remote: IpAddr,
}

impl RecordedRequest {
    /// The first value of a query parameter, decoded.
    pub fn query_param(&self, name: &str) -> Option<String> {
        form_urlencoded::parse(self.query.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }

    /// The query with the values of secret parameters replaced by `[redacted]`.
    pub fn redacted_query(&self) -> String {
        redact_query(&self.query)
    }
}

pub(crate) fn redact_query(query: &str) -> String {
    let mut out = form_urlencoded::Serializer::new(String::new());
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        if SECRET_PARAMS.contains(&k.as_ref()) {
            out.append_pair(&k, "[redacted]");
        } else {
            out.append_pair(&k, &v);
        }
    }
    out.finish()
}

impl fmt::Debug for RecordedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecordedRequest")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("query", &self.redacted_query())
            .field("body_len", &self.body.len())
            .field("status", &self.status)
            .field("errcode", &self.errcode)
            .field("at", &self.at)
            .field("remote", &self.remote)
            .finish()
    }
}

/// A custom-service message (客服消息) the account sent through `cgi-bin/message/custom/send`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SentMessage {
    /// The sending account.
    pub appid: AppId,
    /// The user it went to.
    pub touser: OpenId,
    /// The message as sent.
    pub message: CustomMessage,
    /// When, on the mock clock.
    pub sent_at: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_secrets() {
        let req = RecordedRequest {
            method: Method::GET,
            path: "/cgi-bin/token".into(),
            query: "grant_type=client_credential&appid=wx1&secret=TOPSECRET".into(),
            body: Bytes::new(),
            status: 200,
            errcode: None,
            at: 0,
            remote: IpAddr::from([127, 0, 0, 1]),
        };
        let debug = format!("{req:?}");
        assert!(!debug.contains("TOPSECRET"), "{debug}");
        assert!(debug.contains("appid=wx1"));
        assert_eq!(req.query_param("secret").as_deref(), Some("TOPSECRET"));
        assert_eq!(req.query_param("nope"), None);
    }
}
