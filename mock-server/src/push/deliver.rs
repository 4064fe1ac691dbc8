//! Sending a push over HTTP as WeChat does: a time limit per try, three tries on a timeout, a
//! connection failure or a 5xx, then the answer checked.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Method, Request, StatusCode, Uri};
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde::Serialize;
use wechat_types::xml::Message;

use super::check::check_reply;
use super::seal::seal;
use super::{PushOutcome, SERVICE_UNAVAILABLE, TRIES};
use crate::config::MockApp;
use crate::error_chain;
use crate::router::{Shared, lock};

/// The HTTP client pushes and handshakes go through (plain http, pooled).
pub(crate) type HttpClient = Client<HttpConnector, Full<Bytes>>;

/// Answers larger than this are refused (a passive reply is a few kilobytes at most).
pub(crate) const MAX_ANSWER: usize = 1024 * 1024;

pub(crate) fn client() -> HttpClient {
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    connector.enforce_http(true);
    Client::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(30))
        .build(connector)
}

/// One HTTP exchange with the callback, for the console's log.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Delivery {
    /// Mock clock.
    pub(crate) at: i64,
    pub(crate) method: &'static str,
    /// The callback's path (the query carries signatures, and is left out).
    pub(crate) path: String,
    pub(crate) openid: Option<String>,
    pub(crate) attempt: u32,
    pub(crate) status: Option<u16>,
    /// What happened, for people: `HTTP 200`, `timed out after 5 s`…
    pub(crate) result: String,
    pub(crate) millis: u64,
}

/// A body read whole, or why not.
pub(crate) enum Exchange {
    Answered { status: StatusCode, body: Bytes },
    TimedOut,
    Failed(String),
}

/// One HTTP exchange within `limit`, body included.
pub(crate) async fn exchange(
    client: &HttpClient,
    method: Method,
    uri: Uri,
    content_type: Option<&'static str>,
    body: Bytes,
    limit: Duration,
) -> Exchange {
    let mut request = Request::builder()
        .method(method)
        .uri(uri)
        .header(http::header::USER_AGENT, "Mozilla/4.0 (wechat-mock)");
    if let Some(content_type) = content_type {
        request = request.header(http::header::CONTENT_TYPE, content_type);
    }
    let request = match request.body(Full::new(body)) {
        Ok(request) => request,
        Err(e) => return Exchange::Failed(error_chain(&e)),
    };
    let call = async {
        let response = client.request(request).await.map_err(|e| error_chain(&e))?;
        let status = response.status();
        let body = Limited::new(response.into_body(), MAX_ANSWER)
            .collect()
            .await
            .map_err(|e| {
                if e.is::<http_body_util::LengthLimitError>() {
                    format!("answer is larger than {MAX_ANSWER} bytes")
                } else {
                    format!("answer broke off: {e}")
                }
            })?
            .to_bytes();
        Ok::<_, String>((status, body))
    };
    match tokio::time::timeout(limit, call).await {
        Err(_) => Exchange::TimedOut,
        Ok(Err(e)) => Exchange::Failed(e),
        Ok(Ok((status, body))) => Exchange::Answered { status, body },
    }
}

/// `5 s`, `300 ms`.
pub(crate) fn human(duration: Duration) -> String {
    if duration.subsec_millis() == 0 && duration.as_secs() > 0 {
        format!("{} s", duration.as_secs())
    } else {
        format!("{} ms", duration.as_millis())
    }
}

impl Shared {
    pub(crate) fn log_delivery(&self, delivery: Delivery) {
        lock(&self.deliveries).push(delivery);
    }
}

/// Why the last try failed, when every try failed.
enum TryFailure {
    TimedOut,
    Status(StatusCode),
    Connection(String),
}

/// Delivers `message` to `url` with up to three tries, and checks the answer.
pub(crate) async fn deliver(
    shared: &Shared,
    app: &MockApp,
    url: &str,
    message: &Message,
) -> PushOutcome {
    let mode = app.callback_mode;
    let nonce = rand::random::<u32>().to_string();
    let sealed = seal(app, url, mode, message, &nonce);
    let uri: Uri = match sealed.url.parse() {
        Ok(uri) => uri,
        Err(e) => {
            return failed(
                0,
                format!("callback URL {url} is not a valid URL: {e}"),
                false,
            );
        }
    };
    let path = uri.path().to_owned();
    let body = Bytes::from(sealed.body);
    let limit = shared.push_timeout;
    let mut last = TryFailure::TimedOut;
    for attempt in 1..=TRIES {
        let started = Instant::now();
        let result = exchange(
            &shared.client,
            Method::POST,
            uri.clone(),
            Some("text/xml"),
            body.clone(),
            limit,
        )
        .await;
        let mut delivery = Delivery {
            at: shared.clock.now(),
            method: "POST",
            path: path.clone(),
            openid: Some(message.from.as_str().to_owned()),
            attempt,
            status: None,
            result: String::new(),
            millis: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        };
        match result {
            Exchange::TimedOut => {
                delivery.result = format!("timed out after {}", human(limit));
                shared.log_delivery(delivery);
                last = TryFailure::TimedOut;
            }
            Exchange::Failed(reason) => {
                delivery.result = format!("failed: {reason}");
                shared.log_delivery(delivery);
                last = TryFailure::Connection(reason);
            }
            Exchange::Answered { status, body } => {
                delivery.status = Some(status.as_u16());
                delivery.result = format!("HTTP {}", status.as_u16());
                shared.log_delivery(delivery);
                if status.is_server_error() {
                    last = TryFailure::Status(status);
                    continue;
                }
                if !status.is_success() {
                    // A 4xx will not get better by trying again.
                    return failed(
                        attempt,
                        format!("callback answered HTTP {}", status.as_u16()),
                        true,
                    );
                }
                return match check_reply(app, mode, &message.from, &body) {
                    Ok(reply) => PushOutcome {
                        attempts: attempt,
                        reply: Some(reply),
                        problem: None,
                        notice: None,
                        msg_id: None,
                    },
                    Err(problem) => failed(attempt, problem, true),
                };
            }
        }
    }
    let tries = format!("({TRIES} tries)");
    let problem = match last {
        TryFailure::TimedOut => format!("callback timed out after {} {tries}", human(limit)),
        TryFailure::Status(status) => {
            format!("callback answered HTTP {} {tries}", status.as_u16())
        }
        TryFailure::Connection(reason) => {
            format!(
                "cannot reach the callback {}: {reason} {tries}",
                strip_query(url)
            )
        }
    };
    failed(TRIES, problem, true)
}

fn failed(attempts: u32, problem: String, notice: bool) -> PushOutcome {
    PushOutcome {
        attempts,
        reply: None,
        problem: Some(problem),
        notice: notice.then(|| SERVICE_UNAVAILABLE.to_owned()),
        msg_id: None,
    }
}

/// A URL without its query, for messages.
pub(crate) fn strip_query(url: &str) -> &str {
    url.split('?').next().unwrap_or(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_well() {
        assert_eq!(human(Duration::from_secs(5)), "5 s");
        assert_eq!(human(Duration::from_millis(300)), "300 ms");
        assert_eq!(human(Duration::from_millis(1500)), "1500 ms");
        assert_eq!(strip_query("http://h/cb?a=1"), "http://h/cb");
    }
}
