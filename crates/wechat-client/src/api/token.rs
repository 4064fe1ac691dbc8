//! `cgi-bin/token`, `cgi-bin/stable_token` and `cgi-bin/ticket/getticket`. Their answers carry
//! secrets: errors never quote them.

use bytes::Bytes;
use http::{Request, Response};
use wechat_types::api::{AccessTokenResponse, StableTokenRequest, TicketResponse, TicketType};
use wechat_types::{AccessToken, AppId, AppSecret};

use crate::endpoints::Endpoints;
use crate::error::Error;
use crate::request::{self, Sensitivity};

/// Path of the classic token endpoint (each call rotates the token).
pub const TOKEN_PATH: &str = "/cgi-bin/token";
/// Path of the stable token endpoint.
pub const STABLE_TOKEN_PATH: &str = "/cgi-bin/stable_token";
/// Path of the ticket endpoint.
pub const TICKET_PATH: &str = "/cgi-bin/ticket/getticket";

/// `GET cgi-bin/token?grant_type=client_credential&appid=…&secret=…`.
///
/// ```
/// use wechat_client::{api::token, Endpoints};
///
/// let req = token::classic_request(&Endpoints::wechat(), &"wx1".into(), &"S".into())?;
/// assert_eq!(req.uri().to_string(), "https://api.weixin.qq.com/cgi-bin/token?grant_type=client_credential&appid=wx1&secret=S");
/// # Ok::<(), wechat_client::Error>(())
/// ```
pub fn classic_request(
    endpoints: &Endpoints,
    appid: &AppId,
    secret: &AppSecret,
) -> Result<Request<Bytes>, Error> {
    request::get(
        &endpoints.url_api(TOKEN_PATH),
        &[
            ("grant_type", "client_credential"),
            ("appid", appid.as_str()),
            ("secret", secret.expose_secret()),
        ],
    )
}

/// `POST cgi-bin/stable_token` with `{"grant_type":"client_credential","appid","secret","force_refresh"}`.
///
/// ```
/// use wechat_client::{api::token, Endpoints};
///
/// let req = token::stable_request(&Endpoints::wechat(), &"wx1".into(), &"S".into(), false)?;
/// assert_eq!(req.method(), http::Method::POST);
/// assert_eq!(
///     req.body().as_ref(),
///     br#"{"grant_type":"client_credential","appid":"wx1","secret":"S","force_refresh":false}"#
/// );
/// # Ok::<(), wechat_client::Error>(())
/// ```
pub fn stable_request(
    endpoints: &Endpoints,
    appid: &AppId,
    secret: &AppSecret,
    force_refresh: bool,
) -> Result<Request<Bytes>, Error> {
    let body = StableTokenRequest {
        force_refresh,
        ..StableTokenRequest::new(appid.clone(), secret.clone())
    };
    request::post_json(&endpoints.url_api(STABLE_TOKEN_PATH), &[], &body)
}

/// Reads the answer of either token endpoint. The body is secret: a decode error has no preview.
pub fn parse_token(
    endpoint: &str,
    response: &Response<Bytes>,
) -> Result<AccessTokenResponse, Error> {
    request::decode_json(endpoint, response, Sensitivity::Secret)
}

/// `GET cgi-bin/ticket/getticket?access_token=…&type=jsapi|wx_card`.
pub fn ticket_request(
    endpoints: &Endpoints,
    token: &AccessToken,
    kind: TicketType,
) -> Result<Request<Bytes>, Error> {
    request::get(
        &endpoints.url_api(TICKET_PATH),
        &[
            ("access_token", token.expose_secret()),
            ("type", kind.as_str()),
        ],
    )
}

/// Reads the answer of `getticket`. The body is secret: a decode error has no preview.
pub fn parse_ticket(response: &Response<Bytes>) -> Result<TicketResponse, Error> {
    request::decode_json(TICKET_PATH, response, Sensitivity::Secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(body: &'static str) -> Response<Bytes> {
        Response::new(Bytes::from_static(body.as_bytes()))
    }

    #[test]
    fn ticket_request_shape() {
        let req = ticket_request(
            &Endpoints::single("http://m"),
            &AccessToken::new("T"),
            TicketType::Jsapi,
        )
        .unwrap();
        assert_eq!(req.method(), http::Method::GET);
        assert_eq!(
            req.uri().to_string(),
            "http://m/cgi-bin/ticket/getticket?access_token=T&type=jsapi"
        );
    }

    #[test]
    fn token_answers_and_errors() {
        let ok = parse_token(
            TOKEN_PATH,
            &answer(r#"{"access_token":"A","expires_in":7200}"#),
        )
        .unwrap();
        assert_eq!(ok.access_token.expose_secret(), "A");
        let e = parse_token(
            TOKEN_PATH,
            &answer(r#"{"errcode":40125,"errmsg":"invalid appsecret rid: 1"}"#),
        )
        .unwrap_err();
        assert_eq!(e.api_code(), Some(wechat_types::ErrCode::INVALID_APPSECRET));
        let e = parse_token(
            TOKEN_PATH,
            &answer(r#"{"access_token":"SECRET-A","expires_in":"x"}"#),
        )
        .unwrap_err();
        assert!(!format!("{e:?} {e}").contains("SECRET-A"));
    }

    #[test]
    fn ticket_answer_with_ok_status() {
        let t = parse_ticket(&answer(
            r#"{"errcode":0,"errmsg":"ok","ticket":"J","expires_in":7200}"#,
        ))
        .unwrap();
        assert_eq!(t.ticket.expose_secret(), "J");
        assert_eq!(t.expires_in, 7200);
    }
}
