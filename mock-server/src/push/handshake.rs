//! The verification handshake of a new callback URL: `GET ?signature&timestamp&nonce&echostr`,
//! which must answer the `echostr` exactly.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Method, Uri};
use wechat_crypto::signature;

use super::deliver::{Delivery, Exchange, exchange, human, strip_query};
use crate::config::MockApp;
use crate::router::Shared;

/// Why a callback URL was refused; each message says what to fix.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PushError {
    /// The URL does not parse, or has no host.
    #[error("callback URL {url:?} is not an absolute http URL")]
    InvalidUrl {
        /// The URL given.
        url: String,
    },
    /// The URL is not plain `http://`.
    #[error("callback URL {url:?} is not plain http: wechat-mock delivers over http only")]
    UnsupportedScheme {
        /// The URL given.
        url: String,
    },
    /// No app has this appid.
    #[error("no app {0}")]
    UnknownApp(String),
    /// The callback could not be reached (refused, reset, unresolvable).
    #[error("cannot reach the callback {url}: {reason}")]
    Unreachable {
        /// The URL, without its query.
        url: String,
        /// What the connection said.
        reason: String,
    },
    /// The callback did not answer in time.
    #[error("callback {url} did not answer the verification request within {}", human(*.after))]
    Timeout {
        /// The URL, without its query.
        url: String,
        /// The limit.
        after: Duration,
    },
    /// The callback answered the verification request with an HTTP error.
    #[error("callback answered HTTP {status} to the verification request")]
    Status {
        /// The status.
        status: u16,
    },
    /// The callback did not echo `echostr`: usually the Token differs, so its signature check
    /// failed.
    #[error(
        "token verification failed: callback answered {got} instead of the echostr {expected}{hint}"
    )]
    EchoMismatch {
        /// The echostr sent.
        expected: String,
        /// The start of what came back, quoted.
        got: String,
        /// A hint, when the answer nearly matched.
        hint: &'static str,
    },
}

/// A validated callback URL.
pub(crate) struct Target {
    pub(crate) url: String,
}

/// Checks that `url` is an absolute plain-http URL without a fragment.
pub(crate) fn parse_url(url: &str) -> Result<Target, PushError> {
    let invalid = || PushError::InvalidUrl {
        url: url.to_owned(),
    };
    if url.contains('#') || url.len() > 2048 {
        return Err(invalid());
    }
    let uri: Uri = url.parse().map_err(|_| invalid())?;
    match uri.scheme_str() {
        Some("http") => {}
        Some(_) => {
            return Err(PushError::UnsupportedScheme {
                url: url.to_owned(),
            });
        }
        None => return Err(invalid()),
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err(invalid());
    }
    Ok(Target {
        url: url.to_owned(),
    })
}

/// Sends the verification request and checks the echo.
pub(crate) async fn verify(
    shared: &Shared,
    target: &Target,
    app: &MockApp,
) -> Result<(), PushError> {
    let timestamp = shared.clock.now().to_string();
    let nonce = rand::random::<u32>().to_string();
    // WeChat's echostr is a long decimal number.
    let echostr = format!("{}", rand::random::<u64>() | (1 << 62));
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("signature", &signature(&app.token, &timestamp, &nonce))
        .append_pair("echostr", &echostr)
        .append_pair("timestamp", &timestamp)
        .append_pair("nonce", &nonce)
        .finish();
    let separator = match target.url.contains('?') {
        true if target.url.ends_with('?') || target.url.ends_with('&') => "",
        true => "&",
        false => "?",
    };
    let full = format!("{}{separator}{query}", target.url);
    let uri: Uri = full.parse().map_err(|_| PushError::InvalidUrl {
        url: target.url.clone(),
    })?;
    let bare = strip_query(&target.url).to_owned();
    let started = Instant::now();
    let result = exchange(
        &shared.client,
        Method::GET,
        uri.clone(),
        None,
        Bytes::new(),
        shared.push_timeout,
    )
    .await;
    let mut delivery = Delivery {
        at: shared.clock.now(),
        method: "GET",
        path: uri.path().to_owned(),
        openid: None,
        attempt: 1,
        status: None,
        result: String::new(),
        millis: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    };
    let outcome = match result {
        Exchange::TimedOut => Err(PushError::Timeout {
            url: bare,
            after: shared.push_timeout,
        }),
        Exchange::Failed(reason) => Err(PushError::Unreachable { url: bare, reason }),
        Exchange::Answered { status, body } => {
            delivery.status = Some(status.as_u16());
            if !status.is_success() {
                Err(PushError::Status {
                    status: status.as_u16(),
                })
            } else if body.as_ref() == echostr.as_bytes() {
                Ok(())
            } else {
                Err(mismatch(&echostr, &body))
            }
        }
    };
    delivery.result = match &outcome {
        Ok(()) => "verified: echostr echoed".to_owned(),
        Err(e) => e.to_string(),
    };
    shared.log_delivery(delivery);
    outcome
}

fn mismatch(expected: &str, body: &[u8]) -> PushError {
    let text = String::from_utf8_lossy(&body[..body.len().min(80)]).into_owned();
    let got = if body.is_empty() {
        "an empty body".to_owned()
    } else if body.len() > 80 {
        format!("{text:?}…")
    } else {
        format!("{text:?}")
    };
    let trimmed = text.trim().trim_matches('"');
    let hint = if trimmed == expected {
        " (answer the echostr alone: no quotes, spaces or newline)"
    } else if body.starts_with(b"<") || body.starts_with(b"{") {
        " (answer the bare echostr, not a document)"
    } else {
        " (is the callback's Token the app's Token?)"
    };
    PushError::EchoMismatch {
        expected: expected.to_owned(),
        got,
        hint,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked() {
        assert!(parse_url("http://127.0.0.1:8080/wechat?x=1").is_ok());
        assert!(matches!(
            parse_url("https://example.com/wechat"),
            Err(PushError::UnsupportedScheme { .. })
        ));
        for bad in ["/wechat", "not a url", "http:///x", "http://h/#frag", ""] {
            assert!(
                matches!(parse_url(bad), Err(PushError::InvalidUrl { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn mismatches_say_what_to_fix() {
        let e = mismatch("123", b"123\n").to_string();
        assert!(e.contains("answer the echostr alone"), "{e}");
        assert!(
            e.starts_with("token verification failed: callback answered \"123\\n\""),
            "{e}"
        );
        let e = mismatch("123", b"").to_string();
        assert!(e.contains("an empty body") && e.contains("Token"), "{e}");
        let e = mismatch("123", b"<xml/>").to_string();
        assert!(e.contains("not a document"), "{e}");
    }
}
