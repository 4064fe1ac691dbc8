//! Building answers: WeChat's JSON envelopes, errcodes with a request id, HTML, redirects.

use std::sync::atomic::{AtomicU32, Ordering};

use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, LOCATION};
use http::{HeaderValue, Response, StatusCode};
use serde::Serialize;
use wechat_types::{ApiStatus, ErrCode};

/// WeChat answers JSON with this content type.
pub(crate) const JSON: &str = "application/json; encoding=utf-8";
pub(crate) const HTML: &str = "text/html; charset=utf-8";

/// Carried in a response's extensions so the request log knows the errcode without parsing.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AnsweredErrCode(pub(crate) i64);

/// An API failure: an errcode, optionally with a message other than WeChat's usual one and a
/// hint that explains what the fake saw.
#[derive(Debug, Clone)]
pub(crate) struct ApiError {
    pub(crate) code: ErrCode,
    pub(crate) message: Option<String>,
    pub(crate) hint: Option<String>,
}

impl ApiError {
    pub(crate) fn new(code: ErrCode) -> Self {
        Self {
            code,
            message: None,
            hint: None,
        }
    }

    pub(crate) fn code(code: i64) -> Self {
        Self::new(ErrCode::from(code))
    }

    pub(crate) fn with_message(mut self, message: impl Into<String>) -> Self {
        self.message = Some(message.into());
        self
    }

    pub(crate) fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl From<ErrCode> for ApiError {
    fn from(code: ErrCode) -> Self {
        ApiError::new(code)
    }
}

pub(crate) type ApiResult = Result<Response<Bytes>, ApiError>;

/// WeChat's errmsg text for a code: the observed strings of PROTOCOL.md 4.4 where they differ from
/// the descriptions in `wechat-types`, and the codes it has no constant for.
pub(crate) fn errmsg_text(code: ErrCode) -> &'static str {
    match code.code() {
        -1 => "system error",
        40033 => "invalid charset. please check your request, if include \\uxxxx will create fail!",
        40097 => "invalid args",
        43001 => "require GET method",
        43002 => "require POST method",
        44002 => "empty post data",
        _ => code.description().unwrap_or("unknown error"),
    }
}

static RID_COUNTER: AtomicU32 = AtomicU32::new(0);

/// A request id in WeChat's current form: `5fab84d2-09424a07-00bd7fe3` (time, random, counter).
pub(crate) fn rid(now: i64) -> String {
    let counter = RID_COUNTER.fetch_add(1, Ordering::Relaxed);
    format!(
        "{:08x}-{:08x}-{:08x}",
        now as u32,
        rand::random::<u32>(),
        counter
    )
}

/// The errmsg of an error answer: `<text>[, hint: [<hint>]] rid: <rid>`.
pub(crate) fn errmsg(error: &ApiError, now: i64) -> String {
    let text = error
        .message
        .as_deref()
        .unwrap_or_else(|| errmsg_text(error.code));
    match &error.hint {
        Some(hint) => format!("{text}, hint: [{hint}] rid: {}", rid(now)),
        None => format!("{text} rid: {}", rid(now)),
    }
}

/// HTTP 200 with `{"errcode":N,"errmsg":"… rid: …"}`.
pub(crate) fn error(error: &ApiError, now: i64) -> Response<Bytes> {
    let body =
        serde_json::to_vec(&ApiStatus::new(error.code, errmsg(error, now))).unwrap_or_default();
    let mut resp = with_type(StatusCode::OK, JSON, Bytes::from(body));
    resp.extensions_mut()
        .insert(AnsweredErrCode(error.code.code()));
    resp
}

/// HTTP 200 with `{"errcode":0,"errmsg":"ok"}`.
pub(crate) fn ok() -> Response<Bytes> {
    with_type(
        StatusCode::OK,
        JSON,
        Bytes::from_static(br#"{"errcode":0,"errmsg":"ok"}"#),
    )
}

/// HTTP 200 with `value` as JSON.
pub(crate) fn json<T: Serialize + ?Sized>(value: &T) -> Response<Bytes> {
    json_status(StatusCode::OK, value)
}

pub(crate) fn json_status<T: Serialize + ?Sized>(status: StatusCode, value: &T) -> Response<Bytes> {
    match serde_json::to_vec(value) {
        Ok(body) => with_type(status, JSON, Bytes::from(body)),
        // Our own models always serialize; answer WeChat's busy code rather than a 5xx if not.
        Err(_) => error(&ApiError::new(ErrCode::SYSTEM_BUSY), 0),
    }
}

/// HTTP 200 with an HTML page.
pub(crate) fn html(body: String) -> Response<Bytes> {
    let mut resp = with_type(StatusCode::OK, HTML, Bytes::from(body));
    resp.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// A 302 to `location` (already a valid URL).
pub(crate) fn redirect(location: &str) -> Response<Bytes> {
    let mut resp = Response::new(Bytes::new());
    *resp.status_mut() = StatusCode::FOUND;
    match HeaderValue::from_str(location) {
        Ok(value) => {
            resp.headers_mut().insert(LOCATION, value);
        }
        Err(_) => {
            // Every location we build is percent-encoded ASCII; refuse to emit a broken header.
            return error(
                &ApiError::new(ErrCode::SYSTEM_BUSY).with_hint("unencodable redirect"),
                0,
            );
        }
    }
    resp.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

pub(crate) fn with_type(
    status: StatusCode,
    content_type: &'static str,
    body: Bytes,
) -> Response<Bytes> {
    let mut resp = Response::new(body);
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_carry_code_text_and_rid() {
        let resp = error(&ApiError::new(ErrCode::CODE_BEEN_USED), 0x5fab_84d2);
        assert_eq!(resp.status(), StatusCode::OK);
        let v: serde_json::Value = serde_json::from_slice(resp.body()).unwrap();
        assert_eq!(v["errcode"], 40163);
        let msg = v["errmsg"].as_str().unwrap();
        assert!(msg.starts_with("code been used rid: 5fab84d2-"), "{msg}");
        assert_eq!(msg.len(), "code been used rid: ".len() + 26);
        let resp = error(&ApiError::code(-1).with_hint("injected"), 1);
        let v: serde_json::Value = serde_json::from_slice(resp.body()).unwrap();
        assert!(
            v["errmsg"]
                .as_str()
                .unwrap()
                .starts_with("system error, hint: [injected] rid: ")
        );
        assert_eq!(errmsg_text(ErrCode::from(123456)), "unknown error");
    }

    #[test]
    fn rids_differ() {
        assert_ne!(rid(1), rid(1));
    }
}
