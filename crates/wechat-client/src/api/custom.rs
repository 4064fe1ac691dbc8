//! `POST cgi-bin/message/custom/send`: a customer-service message, any `msgtype`.

use bytes::Bytes;
use http::{Request, Response};
use wechat_types::AccessToken;
use wechat_types::api::CustomMessage;

use crate::endpoints::Endpoints;
use crate::error::Error;
use crate::request;

/// Path of the custom-service send endpoint.
pub const SEND_PATH: &str = "/cgi-bin/message/custom/send";

/// The request that sends `message`.
///
/// ```
/// use wechat_client::{api::custom, Endpoints};
/// use wechat_types::{AccessToken, api::CustomMessage};
///
/// let msg = CustomMessage::text("oUser".into(), "你好");
/// let req = custom::send_request(&Endpoints::wechat(), &AccessToken::new("T"), &msg)?;
/// assert_eq!(req.uri().query(), Some("access_token=T"));
/// assert_eq!(req.body().as_ref(), r#"{"touser":"oUser","msgtype":"text","text":{"content":"你好"}}"#.as_bytes());
/// # Ok::<(), wechat_client::Error>(())
/// ```
pub fn send_request(
    endpoints: &Endpoints,
    token: &AccessToken,
    message: &CustomMessage,
) -> Result<Request<Bytes>, Error> {
    if message.touser.as_str().is_empty() {
        return Err(Error::invalid_input("the custom message has no touser"));
    }
    request::post_json(
        &endpoints.url_api(SEND_PATH),
        &[("access_token", token.expose_secret())],
        message,
    )
}

/// Reads the answer: `{"errcode":0,"errmsg":"ok"}`, or 45015 (window over), 45047 (count
/// limit)… as [`Error::Api`].
pub fn parse_send(response: &Response<Bytes>) -> Result<(), Error> {
    request::decode_ok(SEND_PATH, response)
}

#[cfg(test)]
mod tests {
    use super::*;
    use wechat_types::ErrCode;
    use wechat_types::api::{CustomArticle, CustomMessageBody};

    #[test]
    fn every_msgtype_is_sent_as_typed() {
        let news: CustomMessageBody = serde_json::from_str(
            r#"{"msgtype":"news","news":{"articles":[{"title":"t","description":"d","url":"https://x","picurl":"https://p"}]}}"#,
        )
        .unwrap();
        let CustomMessageBody::News { news: content } = &news else {
            panic!("news")
        };
        assert_eq!(
            content.articles,
            vec![CustomArticle {
                title: "t".into(),
                description: "d".into(),
                url: "https://x".into(),
                picurl: "https://p".into()
            }]
        );
        let req = send_request(
            &Endpoints::single("http://m"),
            &AccessToken::new("T"),
            &CustomMessage::new("o1".into(), news),
        )
        .unwrap();
        let body: serde_json::Value = serde_json::from_slice(req.body()).unwrap();
        assert_eq!(body["msgtype"], "news");
        assert_eq!(body["touser"], "o1");
        assert_eq!(body["news"]["articles"][0]["url"], "https://x");
    }

    #[test]
    fn an_empty_recipient_is_refused_before_the_network() {
        let e = send_request(
            &Endpoints::wechat(),
            &AccessToken::new("T"),
            &CustomMessage::text("".into(), "x"),
        )
        .unwrap_err();
        assert!(matches!(e, Error::InvalidInput { .. }));
    }

    #[test]
    fn window_errors_are_typed() {
        let answer = Response::new(Bytes::from_static(
            br#"{"errcode":45015,"errmsg":"response out of time limit or subscription is canceled rid: 1"}"#,
        ));
        assert_eq!(
            parse_send(&answer).unwrap_err().api_code(),
            Some(ErrCode::RESPONSE_OUT_OF_TIME)
        );
    }
}
