//! The custom menu: `cgi-bin/menu/{create,get,delete,addconditional,delconditional,trymatch}`.
//! Menus are checked by [`Menu::validate`] before any request is built, by the same rules
//! WeChat (and wechat-mock) enforce, so a bad menu fails without a network round trip.

use bytes::Bytes;
use http::{Request, Response};
use serde::Serialize;
use wechat_types::api::{
    ConditionalMenu, Menu, MenuError, MenuIdResponse, MenuInfo, TryMatchRequest,
};
use wechat_types::{AccessToken, ErrCode};

use crate::endpoints::Endpoints;
use crate::error::Error;
use crate::request::{self, Sensitivity};

/// `POST cgi-bin/menu/create`.
pub const CREATE_PATH: &str = "/cgi-bin/menu/create";
/// `GET cgi-bin/menu/get`.
pub const GET_PATH: &str = "/cgi-bin/menu/get";
/// `GET cgi-bin/menu/delete` (removes the conditional menus too).
pub const DELETE_PATH: &str = "/cgi-bin/menu/delete";
/// `POST cgi-bin/menu/addconditional`.
pub const ADD_CONDITIONAL_PATH: &str = "/cgi-bin/menu/addconditional";
/// `POST cgi-bin/menu/delconditional`.
pub const DELETE_CONDITIONAL_PATH: &str = "/cgi-bin/menu/delconditional";
/// `POST cgi-bin/menu/trymatch`.
pub const TRY_MATCH_PATH: &str = "/cgi-bin/menu/trymatch";

/// [`Menu::validate`] as this crate's error: [`Error::InvalidInput`] with the [`MenuError`] (and
/// its errcode) as source.
pub fn validate(menu: &Menu) -> Result<(), Error> {
    menu.validate().map_err(invalid_menu)
}

/// [`ConditionalMenu::validate`] as this crate's error.
pub fn validate_conditional(menu: &ConditionalMenu) -> Result<(), Error> {
    menu.validate().map_err(invalid_menu)
}

fn invalid_menu(error: MenuError) -> Error {
    Error::InvalidInput {
        message: format!(
            "the menu would be refused with errcode {}",
            error.code.code()
        ),
        source: Some(Box::new(error)),
    }
}

fn token_query(token: &AccessToken) -> [(&'static str, &str); 1] {
    [("access_token", token.expose_secret())]
}

/// The `menu/create` request, after [`Menu::validate`]: a refused menu is
/// [`Error::InvalidInput`] with the [`MenuError`] (and its errcode) as source.
///
/// ```
/// use wechat_client::{api::menu, Endpoints, Error};
/// use wechat_types::{AccessToken, api::{Button, Menu, MenuError}};
///
/// let endpoints = Endpoints::wechat();
/// let token = AccessToken::new("T");
/// let ok = Menu::new(vec![Button::click("今日歌曲", "V1001")]);
/// let req = menu::create_request(&endpoints, &token, &ok)?;
/// assert_eq!(req.body().as_ref(), r#"{"button":[{"type":"click","name":"今日歌曲","key":"V1001"}]}"#.as_bytes());
///
/// let too_many = Menu::new(vec![Button::click("a", "k"); 4]);
/// let Err(Error::InvalidInput { source: Some(source), .. }) = menu::create_request(&endpoints, &token, &too_many) else {
///     panic!("refused before the network");
/// };
/// assert_eq!(source.downcast_ref::<MenuError>().unwrap().code.code(), 40016);
/// # Ok::<(), Error>(())
/// ```
pub fn create_request(
    endpoints: &Endpoints,
    token: &AccessToken,
    menu: &Menu,
) -> Result<Request<Bytes>, Error> {
    validate(menu)?;
    request::post_json(&endpoints.url_api(CREATE_PATH), &token_query(token), menu)
}

/// Reads the answer of `menu/create`, `menu/delete` and `menu/delconditional`.
pub fn parse_ok(endpoint: &str, response: &Response<Bytes>) -> Result<(), Error> {
    request::decode_ok(endpoint, response)
}

/// The `menu/get` request.
pub fn get_request(endpoints: &Endpoints, token: &AccessToken) -> Result<Request<Bytes>, Error> {
    request::get(&endpoints.url_api(GET_PATH), &token_query(token))
}

/// Reads the answer of `menu/get`: `None` when the account has no menu (46003).
pub fn parse_get(response: &Response<Bytes>) -> Result<Option<MenuInfo>, Error> {
    match request::decode_json(GET_PATH, response, Sensitivity::Public) {
        Ok(info) => Ok(Some(info)),
        Err(e) if e.api_code() == Some(ErrCode::MENU_NOT_EXIST) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The `menu/delete` request.
pub fn delete_request(endpoints: &Endpoints, token: &AccessToken) -> Result<Request<Bytes>, Error> {
    request::get(&endpoints.url_api(DELETE_PATH), &token_query(token))
}

/// The `menu/addconditional` request, after [`ConditionalMenu::validate`] (buttons and a
/// non-empty matchrule).
pub fn add_conditional_request(
    endpoints: &Endpoints,
    token: &AccessToken,
    menu: &ConditionalMenu,
) -> Result<Request<Bytes>, Error> {
    validate_conditional(menu)?;
    request::post_json(
        &endpoints.url_api(ADD_CONDITIONAL_PATH),
        &token_query(token),
        menu,
    )
}

/// Reads the answer of `menu/addconditional`: the new menu's id.
pub fn parse_add_conditional(response: &Response<Bytes>) -> Result<String, Error> {
    request::decode_json::<MenuIdResponse>(ADD_CONDITIONAL_PATH, response, Sensitivity::Public)
        .map(|r| r.menuid)
}

#[derive(Serialize)]
struct MenuIdBody<'a> {
    menuid: &'a str,
}

/// The `menu/delconditional` request.
pub fn delete_conditional_request(
    endpoints: &Endpoints,
    token: &AccessToken,
    menuid: &str,
) -> Result<Request<Bytes>, Error> {
    if menuid.is_empty() {
        return Err(Error::invalid_input("menuid is empty"));
    }
    request::post_json(
        &endpoints.url_api(DELETE_CONDITIONAL_PATH),
        &token_query(token),
        &MenuIdBody { menuid },
    )
}

/// The `menu/trymatch` request: which menu would `user_id` (an OpenID or WeChat ID) see.
pub fn try_match_request(
    endpoints: &Endpoints,
    token: &AccessToken,
    user_id: &str,
) -> Result<Request<Bytes>, Error> {
    if user_id.is_empty() {
        return Err(Error::invalid_input("user_id is empty"));
    }
    request::post_json(
        &endpoints.url_api(TRY_MATCH_PATH),
        &token_query(token),
        &TryMatchRequest {
            user_id: user_id.to_owned(),
        },
    )
}

/// Reads the answer of `menu/trymatch`: the buttons the user sees.
pub fn parse_try_match(response: &Response<Bytes>) -> Result<Menu, Error> {
    request::decode_json(TRY_MATCH_PATH, response, Sensitivity::Public)
}

#[cfg(test)]
mod tests {
    use super::*;
    use wechat_types::api::{Button, MatchRule};

    fn answer(body: &'static str) -> Response<Bytes> {
        Response::new(Bytes::from_static(body.as_bytes()))
    }

    fn endpoints() -> Endpoints {
        Endpoints::single("http://m")
    }

    #[test]
    fn requests_carry_the_token_in_the_query() {
        let token = AccessToken::new("T");
        let get = get_request(&endpoints(), &token).unwrap();
        assert_eq!(
            get.uri().to_string(),
            "http://m/cgi-bin/menu/get?access_token=T"
        );
        let delete = delete_request(&endpoints(), &token).unwrap();
        assert_eq!(delete.method(), http::Method::GET);
        assert_eq!(delete.uri().path(), DELETE_PATH);
        let del = delete_conditional_request(&endpoints(), &token, "208379533").unwrap();
        assert_eq!(del.body().as_ref(), br#"{"menuid":"208379533"}"#);
        assert_eq!(del.uri().query(), Some("access_token=T"));
        let try_match = try_match_request(&endpoints(), &token, "oUser").unwrap();
        assert_eq!(try_match.body().as_ref(), br#"{"user_id":"oUser"}"#);
        assert!(try_match_request(&endpoints(), &token, "").is_err());
        assert!(delete_conditional_request(&endpoints(), &token, "").is_err());
    }

    #[test]
    fn conditional_menus_are_validated_with_their_rule() {
        let token = AccessToken::new("T");
        let mut menu = ConditionalMenu {
            button: vec![Button::click("a", "k")],
            ..Default::default()
        };
        let e = add_conditional_request(&endpoints(), &token, &menu).unwrap_err();
        let source = std::error::Error::source(&e).unwrap();
        assert_eq!(
            source.downcast_ref::<MenuError>().unwrap().code,
            ErrCode::MATCHRULE_EMPTY
        );
        menu.matchrule = MatchRule {
            tag_id: Some("2".into()),
            ..Default::default()
        };
        let req = add_conditional_request(&endpoints(), &token, &menu).unwrap();
        assert_eq!(
            req.body().as_ref(),
            br#"{"button":[{"type":"click","name":"a","key":"k"}],"matchrule":{"tag_id":"2"}}"#
        );
    }

    #[test]
    fn answers_parse() {
        assert_eq!(
            parse_get(&answer(
                r#"{"errcode":46003,"errmsg":"menu no exist rid: x"}"#
            ))
            .unwrap(),
            None
        );
        let info = parse_get(&answer(
            r#"{"menu":{"button":[{"type":"click","name":"a","key":"k"}]},"conditionalmenu":[{"button":[{"type":"view","name":"b","url":"https://x"}],"matchrule":{"tag_id":"2"},"menuid":"9"}]}"#,
        ))
        .unwrap()
        .unwrap();
        assert_eq!(info.menu.button.len(), 1);
        assert_eq!(info.conditionalmenu[0].menuid.as_deref(), Some("9"));
        assert!(
            parse_get(&answer(r#"{"errcode":40001,"errmsg":"x"}"#))
                .unwrap_err()
                .is_token_invalid()
        );
        assert_eq!(
            parse_add_conditional(&answer(r#"{"menuid":"208379533"}"#)).unwrap(),
            "208379533"
        );
        let matched = parse_try_match(&answer(
            r#"{"button":[{"type":"click","name":"a","key":"k"}]}"#,
        ))
        .unwrap();
        assert_eq!(matched.button[0].key.as_deref(), Some("k"));
        parse_ok(CREATE_PATH, &answer(r#"{"errcode":0,"errmsg":"ok"}"#)).unwrap();
        assert_eq!(
            parse_ok(
                CREATE_PATH,
                &answer(r#"{"errcode":40018,"errmsg":"invalid button name size"}"#)
            )
            .unwrap_err()
            .api_code(),
            Some(ErrCode::INVALID_BUTTON_NAME_SIZE)
        );
    }
}
