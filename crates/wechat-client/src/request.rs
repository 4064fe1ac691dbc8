//! Pure functions that build API requests and read API answers. No I/O: tests reach them
//! without any transport, and `wechat-oauth` reuses them.

use bytes::Bytes;
use http::{Method, Request, Response, header};
use serde::Serialize;
use serde::de::DeserializeOwned;
use wechat_types::ApiStatus;

use crate::error::{ApiError, Error};

/// The `User-Agent` of every request.
pub const USER_AGENT: &str = concat!("wechat-rs/", env!("CARGO_PKG_VERSION"));

/// How much of a body an error keeps for diagnostics.
const PREVIEW_BYTES: usize = 256;

/// Whether an answer may be shown in errors. Token endpoints' bodies carry secrets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sensitivity {
    /// The body may appear (bounded) in error previews.
    Public,
    /// The body carries a secret and never appears in errors.
    Secret,
}

/// `url?k=v&…` with every value form-urlencoded.
///
/// ```
/// let url = wechat_client::request::url_with_query(
///     "https://api.weixin.qq.com/cgi-bin/token",
///     &[("grant_type", "client_credential"), ("appid", "wx1")],
/// );
/// assert_eq!(url, "https://api.weixin.qq.com/cgi-bin/token?grant_type=client_credential&appid=wx1");
/// ```
pub fn url_with_query(url: &str, query: &[(&str, &str)]) -> String {
    if query.is_empty() {
        return url.to_owned();
    }
    let mut out = String::with_capacity(url.len() + 64);
    out.push_str(url);
    out.push(if url.contains('?') { '&' } else { '?' });
    let mut serializer = form_urlencoded::Serializer::for_suffix(out, url.len() + 1);
    serializer.extend_pairs(query);
    serializer.finish()
}

/// A GET request to `url` with `query`.
pub fn get(url: &str, query: &[(&str, &str)]) -> Result<Request<Bytes>, Error> {
    Request::builder()
        .method(Method::GET)
        .uri(url_with_query(url, query))
        .header(header::USER_AGENT, USER_AGENT)
        .body(Bytes::new())
        .map_err(|e| Error::InvalidInput {
            message: format!("cannot build a request to {url}"),
            source: Some(Box::new(e)),
        })
}

/// A POST request to `url` with `query` and `body` as UTF-8 JSON (Chinese literal, as WeChat
/// requires).
pub fn post_json<T: Serialize + ?Sized>(
    url: &str,
    query: &[(&str, &str)],
    body: &T,
) -> Result<Request<Bytes>, Error> {
    let json = serde_json::to_vec(body).map_err(|e| Error::InvalidInput {
        message: "cannot serialize the request body".to_owned(),
        source: Some(Box::new(e)),
    })?;
    Request::builder()
        .method(Method::POST)
        .uri(url_with_query(url, query))
        .header(header::USER_AGENT, USER_AGENT)
        .header(header::CONTENT_TYPE, "application/json; charset=utf-8")
        .body(Bytes::from(json))
        .map_err(|e| Error::InvalidInput {
            message: format!("cannot build a request to {url}"),
            source: Some(Box::new(e)),
        })
}

/// The path of a request's URI, used to name the endpoint in errors (never the query, which may
/// hold a token).
pub fn endpoint_of(request: &Request<Bytes>) -> String {
    request.uri().path().to_owned()
}

/// Reads an answer: an errcode other than 0 becomes [`Error::Api`]; an HTTP error status with no
/// errcode becomes [`Error::HttpStatus`]; otherwise the body is decoded as `T`.
///
/// ```
/// use bytes::Bytes;
/// use wechat_client::{Error, request::{decode_json, Sensitivity}};
/// use wechat_types::{ErrCode, api::AccessTokenResponse};
///
/// let ok = http::Response::new(Bytes::from_static(br#"{"access_token":"T","expires_in":7200}"#));
/// let token: AccessTokenResponse = decode_json("/cgi-bin/token", &ok, Sensitivity::Secret).unwrap();
/// assert_eq!(token.expires_in, 7200);
///
/// let err = http::Response::new(Bytes::from_static(br#"{"errcode":40013,"errmsg":"invalid appid rid: x"}"#));
/// let e = decode_json::<AccessTokenResponse>("/cgi-bin/token", &err, Sensitivity::Secret).unwrap_err();
/// assert_eq!(e.api_code(), Some(ErrCode::INVALID_APPID));
/// ```
pub fn decode_json<T: DeserializeOwned>(
    endpoint: &str,
    response: &Response<Bytes>,
    sensitivity: Sensitivity,
) -> Result<T, Error> {
    check_status(endpoint, response, sensitivity)?;
    serde_json::from_slice(response.body()).map_err(|source| Error::Decode {
        endpoint: endpoint.to_owned(),
        preview: preview(response.body(), sensitivity),
        source,
    })
}

/// Reads an answer that carries only `{"errcode":0,"errmsg":"ok"}`.
pub fn decode_ok(endpoint: &str, response: &Response<Bytes>) -> Result<(), Error> {
    let status = check_status(endpoint, response, Sensitivity::Public)?;
    if status.is_none() {
        // Not JSON at all, with a 2xx status: WeChat never does this.
        return Err(Error::Decode {
            endpoint: endpoint.to_owned(),
            preview: preview(response.body(), Sensitivity::Public),
            source: serde_json::from_slice::<ApiStatus>(response.body())
                .err()
                .unwrap_or_else(|| serde::de::Error::custom("not a JSON object")),
        });
    }
    Ok(())
}

/// Checks errcode and HTTP status. Returns the parsed status when the body was a JSON object.
fn check_status(
    endpoint: &str,
    response: &Response<Bytes>,
    sensitivity: Sensitivity,
) -> Result<Option<ApiStatus>, Error> {
    let status = ApiStatus::from_json(response.body());
    if let Some(parsed) = status.as_ref().filter(|s| !s.errcode.is_ok()) {
        return Err(Error::Api(ApiError {
            code: parsed.errcode,
            errmsg: parsed.errmsg.clone(),
            status: response.status(),
            endpoint: endpoint.to_owned(),
        }));
    }
    if !response.status().is_success() {
        return Err(Error::HttpStatus {
            endpoint: endpoint.to_owned(),
            status: response.status(),
            preview: preview(response.body(), sensitivity),
        });
    }
    Ok(status)
}

fn preview(body: &[u8], sensitivity: Sensitivity) -> String {
    match sensitivity {
        Sensitivity::Secret => String::new(),
        Sensitivity::Public => {
            let cut = &body[..body.len().min(PREVIEW_BYTES)];
            String::from_utf8_lossy(cut).into_owned()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wechat_types::ErrCode;
    use wechat_types::api::AccessTokenResponse;

    fn response(status: u16, body: &'static str) -> Response<Bytes> {
        Response::builder()
            .status(status)
            .body(Bytes::from_static(body.as_bytes()))
            .unwrap()
    }

    #[test]
    fn query_values_are_encoded() {
        let url = url_with_query(
            "http://h/p?x=1",
            &[("redirect_uri", "https://a.b/c?d=e&f=中")],
        );
        assert_eq!(
            url,
            "http://h/p?x=1&redirect_uri=https%3A%2F%2Fa.b%2Fc%3Fd%3De%26f%3D%E4%B8%AD"
        );
    }

    #[test]
    fn post_json_keeps_chinese_literal() {
        let req = post_json(
            "http://h/p",
            &[("access_token", "T")],
            &serde_json::json!({"n": "菜单"}),
        )
        .unwrap();
        assert_eq!(req.body().as_ref(), "{\"n\":\"菜单\"}".as_bytes());
        assert_eq!(req.uri().query(), Some("access_token=T"));
        assert_eq!(endpoint_of(&req), "/p");
    }

    #[test]
    fn errcode_wins_over_body_shape() {
        let e = decode_json::<AccessTokenResponse>(
            "/t",
            &response(200, r#"{"errcode":-1,"errmsg":"system error"}"#),
            Sensitivity::Secret,
        )
        .unwrap_err();
        assert_eq!(e.api_code(), Some(ErrCode::SYSTEM_BUSY));
        assert!(e.is_retryable());
    }

    #[test]
    fn http_errors_and_garbage_are_typed() {
        let e = decode_ok("/m", &response(502, "<html>bad gateway</html>")).unwrap_err();
        assert!(matches!(e, Error::HttpStatus { status, .. } if status == 502));
        assert!(e.is_retryable());
        let e = decode_ok("/m", &response(200, "<html>")).unwrap_err();
        assert!(matches!(&e, Error::Decode { preview, .. } if preview == "<html>"));
        let e = decode_json::<AccessTokenResponse>(
            "/t",
            &response(200, r#"{"access_token":5}"#),
            Sensitivity::Secret,
        )
        .unwrap_err();
        assert!(matches!(&e, Error::Decode { preview, .. } if preview.is_empty()));
        assert!(std::error::Error::source(&e).is_some());
    }

    #[test]
    fn ok_answers_pass() {
        decode_ok("/m", &response(200, r#"{"errcode":0,"errmsg":"ok"}"#)).unwrap();
    }
}
