//! One entry point for every request, over a socket or in process: faults, routing, the request
//! log and the log line.

use std::borrow::Cow;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::HOST;
use http::request::Parts;
use http::{HeaderMap, Method, Response, StatusCode};
use wechat_types::ErrCode;

use crate::api;
use crate::bounded::Ring;
use crate::clock::MockClock;
use crate::fault::{Fault, Faults};
use crate::log::{LOGGED_BODY_LIMIT, RecordedRequest};
use crate::push::{Delivery, HttpClient};
use crate::reply::{self, AnsweredErrCode, ApiError, ApiResult};
use crate::state::{Setup, State};

/// Request bodies larger than this are refused with 47001 (WeChat's largest JSON bodies are far
/// smaller; media uploads are not part of the fake).
pub(crate) const MAX_BODY: usize = 1024 * 1024;

/// A request with this header is answered but not recorded in the request log: the console
/// polls with it, so the log shows the developer's calls rather than the console's.
pub(crate) const QUIET_HEADER: &str = "x-wechat-mock-quiet";

/// The icon browsers fetch on their own: answered, never faulted, never recorded.
const FAVICON: &str = "/favicon.ico";

/// Everything a server and its in-process handles share.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) clock: MockClock,
    pub(crate) state: Mutex<State>,
    pub(crate) log: Mutex<Ring<RecordedRequest>>,
    pub(crate) faults: Mutex<Faults>,
    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub(crate) base_url: String,
    pub(crate) setup: Setup,
    /// The client pushes and handshakes go out through.
    pub(crate) client: HttpClient,
    /// How long a callback has for one try (5 s, as on WeChat).
    pub(crate) push_timeout: Duration,
    /// The HTTP exchanges with callbacks, for the console.
    pub(crate) deliveries: Mutex<Ring<Delivery>>,
}

/// Locks a mutex; a panic elsewhere while holding it must not take the whole fake down.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The decoded query string.
#[derive(Debug, Default)]
pub(crate) struct Query<'a> {
    pairs: Vec<(Cow<'a, str>, Cow<'a, str>)>,
}

impl<'a> Query<'a> {
    pub(crate) fn parse(query: &'a str) -> Self {
        Self {
            pairs: form_urlencoded::parse(query.as_bytes()).collect(),
        }
    }

    /// The first value of `name`; an empty value counts as missing, as on WeChat.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_ref())
            .filter(|v| !v.is_empty())
    }
}

/// One request, as the handlers see it.
pub(crate) struct Ctx<'a> {
    pub(crate) shared: &'a Arc<Shared>,
    pub(crate) method: &'a Method,
    pub(crate) path: &'a str,
    pub(crate) query: Query<'a>,
    pub(crate) raw_query: &'a str,
    pub(crate) headers: &'a HeaderMap,
    pub(crate) authority: Option<&'a str>,
    pub(crate) body: &'a [u8],
    pub(crate) peer: IpAddr,
    pub(crate) now: i64,
}

impl Ctx<'_> {
    /// The state, locked.
    pub(crate) fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.shared.state)
    }

    /// The base URL the caller reached us at (the `Host` header or the request's authority),
    /// so links in answers (avatars) work from another machine; the bound address otherwise.
    pub(crate) fn public_base(&self) -> Cow<'_, str> {
        let host = self
            .headers
            .get(HOST)
            .and_then(|h| h.to_str().ok())
            .or(self.authority)
            .filter(|h| {
                !h.is_empty()
                    && h.len() <= 255
                    && h.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b".-:[]_".contains(&b))
            });
        match host {
            Some(host) => Cow::Owned(format!("http://{host}")),
            None => Cow::Borrowed(&self.shared.base_url),
        }
    }

    /// The absolute URL of a user's generated avatar.
    pub(crate) fn avatar_url(&self, openid: &str) -> String {
        format!("{}/mock/avatar/{openid}.svg", self.public_base())
    }

    /// 43002 unless the request is a POST.
    pub(crate) fn require_post(&self) -> Result<(), ApiError> {
        if *self.method == Method::POST {
            Ok(())
        } else {
            Err(ApiError::code(43002))
        }
    }

    /// The JSON body: 44002 when empty, 40033 when non-ASCII text is `\u`-escaped (WeChat wants
    /// literal UTF-8), 47001 when it does not parse.
    pub(crate) fn json_body(&self) -> Result<serde_json::Value, ApiError> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Err(ApiError::code(44002));
        }
        if has_non_ascii_escape(self.body) {
            return Err(ApiError::new(ErrCode::INVALID_CHARSET));
        }
        serde_json::from_slice(self.body).map_err(|e| {
            ApiError::new(ErrCode::DATA_FORMAT_ERROR).with_hint(format!("body is not JSON: {e}"))
        })
    }
}

/// True when the bytes hold a `\uXXXX` escape of a non-ASCII character outside a doubled
/// backslash: the body a JSON library with "ensure ASCII" on writes, which WeChat refuses.
fn has_non_ascii_escape(body: &[u8]) -> bool {
    let mut i = 0;
    while i + 1 < body.len() {
        if body[i] == b'\\' {
            if body[i + 1] == b'u' && i + 6 <= body.len() {
                let hex = &body[i + 2..i + 6];
                if let Some(value) = std::str::from_utf8(hex)
                    .ok()
                    .and_then(|h| u16::from_str_radix(h, 16).ok())
                    && value >= 0x80
                {
                    return true;
                }
            }
            // Skip the escaped character, so `\\u00e9` (a literal backslash) is not an escape.
            i += 2;
        } else {
            i += 1;
        }
    }
    false
}

/// What the transport read of the body.
pub(crate) enum Body {
    Read(Bytes),
    /// Larger than [`MAX_BODY`] (or the connection failed mid-body).
    TooLarge,
}

/// Answers one request and records it.
pub(crate) async fn dispatch(
    shared: &Arc<Shared>,
    parts: Parts,
    body: Body,
    peer: IpAddr,
) -> Response<Bytes> {
    let started = Instant::now();
    let now = shared.clock.now();
    let path = parts.uri.path();
    lock(&shared.state).maybe_sweep(now);

    // The fake's own routes and pages are never faulted: only WeChat's APIs are.
    let fault = if path.starts_with("/mock/")
        || path == "/"
        || path == FAVICON
        || path.starts_with("/open/js/")
    {
        None
    } else {
        lock(&shared.faults).take(path)
    };
    let (body, too_large) = match body {
        Body::Read(bytes) => (bytes, false),
        Body::TooLarge => (Bytes::new(), true),
    };
    let ctx = Ctx {
        shared,
        method: &parts.method,
        path,
        query: Query::parse(parts.uri.query().unwrap_or("")),
        raw_query: parts.uri.query().unwrap_or(""),
        headers: &parts.headers,
        authority: parts.uri.authority().map(|a| a.as_str()),
        body: &body,
        peer,
        now,
    };
    let response = match fault {
        Some(Fault::Delay(delay)) => {
            tokio::time::sleep(delay).await;
            route(&ctx, too_large).await
        }
        Some(fault) => fault_response(&fault, now),
        None => route(&ctx, too_large).await,
    };

    let status = response.status().as_u16();
    let errcode = response
        .extensions()
        .get::<AnsweredErrCode>()
        .map(|c| c.0)
        .filter(|c| *c != 0);
    let millis = started.elapsed().as_secs_f64() * 1000.0;
    // The console's own refreshes say so, and stay out of the logs it shows; so does the icon
    // a browser asks for by itself.
    if parts.headers.contains_key(QUIET_HEADER) || path == FAVICON {
        tracing::debug!(
            target: "wechat_mock::request",
            "{} {} {} {:.1}ms (browser)",
            parts.method, path, status, millis
        );
        return response;
    }
    match errcode {
        Some(code) => tracing::info!(
            target: "wechat_mock::request",
            "{} {} {} {:.1}ms errcode={}",
            parts.method, path, status, millis, code
        ),
        None => tracing::info!(
            target: "wechat_mock::request",
            "{} {} {} {:.1}ms",
            parts.method, path, status, millis
        ),
    }
    lock(&shared.log).push(RecordedRequest {
        method: parts.method.clone(),
        path: path.to_owned(),
        query: ctx.raw_query.to_owned(),
        body: body.slice(..body.len().min(LOGGED_BODY_LIMIT)),
        status,
        errcode,
        at: now,
        remote: peer,
    });
    response
}

fn fault_response(fault: &Fault, now: i64) -> Response<Bytes> {
    match fault {
        Fault::ErrCode(code) => reply::error(&ApiError::code(*code), now),
        Fault::Busy => reply::error(&ApiError::new(ErrCode::SYSTEM_BUSY), now),
        Fault::Status(status) => {
            let mut resp = Response::new(Bytes::new());
            *resp.status_mut() = StatusCode::from_u16(*status)
                .ok()
                .filter(|s| s.as_u16() >= 100)
                .unwrap_or(StatusCode::BAD_GATEWAY);
            resp
        }
        Fault::Malformed => reply::with_type(
            StatusCode::OK,
            reply::JSON,
            Bytes::from_static(b"{\"errcode\":0,\"errmsg\":\"ok\",\"acc"),
        ),
        // Handled before routing.
        Fault::Delay(_) => reply::error(&ApiError::new(ErrCode::SYSTEM_BUSY), now),
    }
}

/// The route table: api, open and mp paths share one listener because they never collide.
async fn route(ctx: &Ctx<'_>, body_too_large: bool) -> Response<Bytes> {
    if body_too_large {
        return reply::error(
            &ApiError::new(ErrCode::DATA_FORMAT_ERROR)
                .with_hint(format!("request body larger than {MAX_BODY} bytes")),
            ctx.now,
        );
    }
    let result: ApiResult = match ctx.path {
        "/connect/oauth2/authorize" => Ok(api::oauth_pages::authorize(ctx)),
        "/connect/qrconnect" => Ok(api::oauth_pages::qrconnect(ctx)),
        "/sns/oauth2/access_token" => api::sns::access_token(ctx),
        "/sns/oauth2/refresh_token" => api::sns::refresh_token(ctx),
        "/sns/userinfo" => api::sns::userinfo(ctx),
        "/sns/auth" => api::sns::auth(ctx),
        "/cgi-bin/token" => api::token::token(ctx),
        "/cgi-bin/stable_token" => api::token::stable_token(ctx),
        "/cgi-bin/menu/create" => api::menu::create(ctx),
        "/cgi-bin/menu/get" => api::menu::get(ctx),
        "/cgi-bin/menu/delete" => api::menu::delete(ctx),
        "/cgi-bin/menu/addconditional" => api::menu::add_conditional(ctx),
        "/cgi-bin/menu/delconditional" => api::menu::del_conditional(ctx),
        "/cgi-bin/menu/trymatch" => api::menu::try_match(ctx),
        "/cgi-bin/ticket/getticket" => api::ticket::get_ticket(ctx),
        "/cgi-bin/user/info" => api::user::info(ctx),
        "/cgi-bin/message/custom/send" => api::custom::send(ctx),
        "/" => Ok(crate::console::index(ctx)),
        FAVICON => Ok(crate::html::favicon()),
        "/open/js/jweixin-1.6.0.js" => Ok(api::jssdk::script(ctx)),
        path if path.starts_with("/mock/") => match crate::push::admin::route(ctx).await {
            Some(response) => Ok(response),
            None => Ok(api::admin::route(ctx)),
        },
        _ => Err(unknown_path(ctx)),
    };
    result.unwrap_or_else(|e| reply::error(&e, ctx.now))
}

/// WeChat has no JSON 404: an unknown API answers HTTP 200 with an errcode. The fake answers
/// 48001 "api unauthorized" (what WeChat answers for APIs an account may not call), with a hint
/// naming the path so a typo is easy to spot.
fn unknown_path(ctx: &Ctx<'_>) -> ApiError {
    ApiError::new(ErrCode::API_UNAUTHORIZED)
        .with_hint(format!("wechat-mock has no API at {}", ctx.path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_non_ascii_escapes_only() {
        assert!(has_non_ascii_escape(br#"{"name":"\u4eca\u65e5"}"#));
        assert!(has_non_ascii_escape(br#"{"name":"caf\u00e9"}"#));
        assert!(!has_non_ascii_escape(br#"{"name":"\u0041\n"}"#));
        assert!(!has_non_ascii_escape(br#"{"name":"\\u4eca"}"#));
        assert!(!has_non_ascii_escape("{\"name\":\"今日\"}".as_bytes()));
        assert!(!has_non_ascii_escape(br#"\u12"#));
        assert!(!has_non_ascii_escape(br#"\"#));
    }

    #[test]
    fn query_treats_empty_as_missing() {
        let q = Query::parse("a=1&b=&c=%E4%BD%A0&a=2");
        assert_eq!(q.get("a"), Some("1"));
        assert_eq!(q.get("b"), None);
        assert_eq!(q.get("c"), Some("你"));
        assert_eq!(q.get("d"), None);
    }
}
