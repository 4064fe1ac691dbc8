//! `GET cgi-bin/user/info`: what the account knows about a follower.

use bytes::Bytes;
use http::{Request, Response};
use wechat_types::api::{Lang, UserInfo};
use wechat_types::{AccessToken, OpenId};

use crate::endpoints::Endpoints;
use crate::error::Error;
use crate::request::{self, Sensitivity};

/// Path of the user info endpoint.
pub const INFO_PATH: &str = "/cgi-bin/user/info";

/// `GET cgi-bin/user/info?access_token=…&openid=…&lang=…`.
pub fn info_request(
    endpoints: &Endpoints,
    token: &AccessToken,
    openid: &OpenId,
    lang: Lang,
) -> Result<Request<Bytes>, Error> {
    if openid.as_str().is_empty() {
        return Err(Error::invalid_input("openid is empty"));
    }
    request::get(
        &endpoints.url_api(INFO_PATH),
        &[
            ("access_token", token.expose_secret()),
            ("openid", openid.as_str()),
            ("lang", lang.as_str()),
        ],
    )
}

/// Reads the answer. A user who does not follow has `subscribe: 0` and only `openid`.
pub fn parse_info(response: &Response<Bytes>) -> Result<UserInfo, Error> {
    request::decode_json(INFO_PATH, response, Sensitivity::Public)
}

#[cfg(test)]
mod tests {
    use super::*;
    use wechat_types::ErrCode;

    #[test]
    fn follower_and_errors() {
        let answer = Response::new(Bytes::from_static(
            br#"{"subscribe":1,"openid":"o1","language":"zh_CN","subscribe_time":1700000000,"unionid":"u1","remark":"","groupid":0,"tagid_list":[2],"subscribe_scene":"ADD_SCENE_QR_CODE","qr_scene":98765,"qr_scene_str":""}"#,
        ));
        let info = parse_info(&answer).unwrap();
        assert_eq!(info.subscribe, 1);
        assert_eq!(info.tagid_list, vec![2]);
        assert_eq!(info.qr_scene, Some(98765));
        let bad = Response::new(Bytes::from_static(
            br#"{"errcode":40003,"errmsg":"invalid openid"}"#,
        ));
        assert_eq!(
            parse_info(&bad).unwrap_err().api_code(),
            Some(ErrCode::INVALID_OPENID)
        );
        assert!(
            info_request(
                &Endpoints::wechat(),
                &AccessToken::new("T"),
                &OpenId::new(""),
                Lang::ZhCn
            )
            .is_err()
        );
    }
}
