//! The whole web-authorization flow against wechat-mock, each test in process and over
//! loopback.

use std::error::Error as _;

use bytes::Bytes;
use wechat_client::ApiError;
use wechat_crypto::StateError;
use wechat_mock::{Fault, MockApp, MockServer};
use wechat_oauth::{Callback, OAuthError, Profile};
use wechat_types::api::{Lang, Scope};
use wechat_types::{AccessToken, AuthCode, ErrCode, RefreshToken};

use crate::support::{Harness, REDIRECT, SESSION, START, Via, both_ways, callback_query};

const DAY: u64 = 24 * 60 * 60;

both_ways!(
    userinfo_scope_full_flow,
    base_scope_full_flow,
    redirect_uri_with_query_non_ascii_and_fragment_round_trips,
    denial_comes_back_with_the_state_only,
    consent_page_is_html_for_browsers,
    reused_code_is_code_already_used,
    code_expires_after_five_minutes,
    unknown_code_is_code_invalid,
    refresh_renews_and_outlives_the_access_token,
    refresh_token_expires_after_thirty_days,
    sns_auth_true_and_false,
    unionid_when_the_app_is_bound,
    one_step_flow_for_base,
    one_step_flow_for_userinfo,
    qrconnect_login,
    foreign_and_stale_states_are_refused,
    wechat_failures_stay_client_errors,
);

async fn userinfo_scope_full_flow(via: Via) {
    let h = Harness::start(via).await;
    let user = h.mock.users()[0].clone();
    let code = h.authorize(Scope::UserInfo).await;

    let token = h.client.exchange_code(&code).await.unwrap();
    assert_eq!(token.openid, user.openid);
    assert_eq!(token.scopes, [Scope::UserInfo]);
    assert_eq!(token.expires_at, START + 7200);
    assert!(token.unionid.is_none(), "the demo app is not bound");
    assert!(!token.is_snapshot_user);
    let debug = format!("{token:?}");
    assert!(!debug.contains(token.access_token.expose_secret()));
    assert!(!debug.contains(token.refresh_token.expose_secret()));

    let info = h
        .client
        .userinfo(&token.access_token, &token.openid, Lang::ZhCn)
        .await
        .unwrap();
    assert_eq!(info.openid, user.openid);
    assert_eq!(info.nickname, user.nickname);
    assert_eq!(info.sex, user.sex);
    assert_eq!(
        (
            info.country.as_str(),
            info.province.as_str(),
            info.city.as_str()
        ),
        (
            user.country.as_str(),
            user.province.as_str(),
            user.city.as_str()
        )
    );
    assert_eq!(info.headimgurl, h.mock.avatar_url(&user.openid));
    assert_eq!(h.mock.request_count("/sns/oauth2/access_token"), 1);
}

async fn base_scope_full_flow(via: Via) {
    let h = Harness::start(via).await;
    let code = h.authorize(Scope::Base).await;
    let token = h.client.exchange_code(&code).await.unwrap();
    assert_eq!(token.openid, h.mock.users()[0].openid);
    assert_eq!(token.scopes, [Scope::Base]);
    assert!(!token.allows_userinfo());
    assert!(
        h.client
            .check(&token.access_token, &token.openid)
            .await
            .unwrap()
    );
    let err = h
        .client
        .userinfo(&token.access_token, &token.openid, Lang::ZhCn)
        .await
        .unwrap_err();
    assert!(matches!(err, OAuthError::ScopeNotGranted(_)), "{err:?}");
    assert_eq!(err.api_code(), Some(ErrCode::API_UNAUTHORIZED));
}

async fn redirect_uri_with_query_non_ascii_and_fragment_round_trips(via: Via) {
    let h = Harness::start(via).await;
    let state = h.guard.issue(SESSION);
    let redirect = "https://app.example.com/回调?from=菜单&next=%2Fme#/profile";
    let url = h
        .client
        .authorize_url(redirect, Scope::UserInfo, &state)
        .unwrap();
    let location = h.follow(&url).await;
    // WeChat adds code and state to the query, before the fragment (hash routing relies on it).
    let prefix =
        "https://app.example.com/%E5%9B%9E%E8%B0%83?from=%E8%8F%9C%E5%8D%95&next=%2Fme&code=";
    assert!(location.starts_with(prefix), "{location}");
    assert!(
        location.ends_with(&format!("&state={state}#/profile")),
        "{location}"
    );
    let query = callback_query(&location);
    let params: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    assert_eq!(params[0], ("from".to_owned(), "菜单".to_owned()));
    assert_eq!(params[1], ("next".to_owned(), "/me".to_owned()));
    let callback = Callback::from_query(query).unwrap();
    h.guard.verify(callback.state(), SESSION).unwrap();
    h.client
        .exchange_code(callback.code().unwrap())
        .await
        .unwrap();
}

async fn denial_comes_back_with_the_state_only(via: Via) {
    let h = Harness::start(via).await;
    let state = h.guard.issue(SESSION);
    let location = h.deny(&state).await;
    assert_eq!(location, format!("{REDIRECT}?state={state}"));
    let callback = Callback::from_query(callback_query(&location)).unwrap();
    assert_eq!(callback, Callback::Denied { state });
    h.guard.verify(callback.state(), SESSION).unwrap();
}

async fn consent_page_is_html_for_browsers(via: Via) {
    let h = Harness::start(via).await;
    let url = h
        .client
        .authorize_url(REDIRECT, Scope::UserInfo, &h.guard.issue(SESSION))
        .unwrap();
    let (url, _) = url.split_once('#').unwrap();
    let request = http::Request::get(url)
        .header(
            http::header::ACCEPT,
            "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8",
        )
        .body(Bytes::new())
        .unwrap();
    let response = h.send(request).await;
    assert_eq!(response.status(), 200);
    let content_type = response.headers()[http::header::CONTENT_TYPE]
        .to_str()
        .unwrap();
    assert!(content_type.starts_with("text/html"), "{content_type}");
    assert!(
        std::str::from_utf8(response.body())
            .unwrap()
            .contains("decision")
    );
}

async fn reused_code_is_code_already_used(via: Via) {
    let h = Harness::start(via).await;
    let code = h.authorize(Scope::UserInfo).await;
    h.client.exchange_code(&code).await.unwrap();
    let err = h.client.exchange_code(&code).await.unwrap_err();
    assert!(matches!(err, OAuthError::CodeAlreadyUsed(_)), "{err:?}");
    assert!(!err.needs_reauthorization());
    // WeChat's answer, request id included, is the source.
    let api = err.source().unwrap().downcast_ref::<ApiError>().unwrap();
    assert_eq!(api.code, ErrCode::CODE_BEEN_USED);
    assert_eq!(api.endpoint, "/sns/oauth2/access_token");
    assert!(api.errmsg.contains("rid:"), "{}", api.errmsg);
}

async fn code_expires_after_five_minutes(via: Via) {
    let h = Harness::start(via).await;
    let fresh = h.authorize(Scope::Base).await;
    let late = h.authorize(Scope::Base).await;
    h.advance(299);
    h.client.exchange_code(&fresh).await.unwrap();
    h.advance(2);
    let err = h.client.exchange_code(&late).await.unwrap_err();
    assert!(matches!(err, OAuthError::CodeExpired(_)), "{err:?}");
    assert!(err.needs_reauthorization());
}

async fn unknown_code_is_code_invalid(via: Via) {
    let h = Harness::start(via).await;
    let err = h
        .client
        .exchange_code(&AuthCode::new("0".repeat(32)))
        .await
        .unwrap_err();
    assert!(matches!(err, OAuthError::CodeInvalid(_)), "{err:?}");
    assert!(err.needs_reauthorization());
}

async fn refresh_renews_and_outlives_the_access_token(via: Via) {
    let h = Harness::start(via).await;
    let code = h.authorize(Scope::UserInfo).await;
    let first = h.client.exchange_code(&code).await.unwrap();

    // While the access token lives, refreshing renews the same token.
    h.advance(3600);
    let renewed = h.client.refresh(&first.refresh_token).await.unwrap();
    assert_eq!(renewed.access_token, first.access_token);
    assert_eq!(renewed.refresh_token, first.refresh_token);
    assert_eq!(renewed.openid, first.openid);
    assert_eq!(renewed.scopes, [Scope::UserInfo]);
    assert_eq!(renewed.expires_at, START + 3600 + 7200);

    // Once it has expired, refreshing issues a new one that works.
    h.advance(7200);
    assert!(renewed.is_expired_at(h.clock_now()));
    assert!(
        !h.client
            .check(&renewed.access_token, &renewed.openid)
            .await
            .unwrap()
    );
    let new = h.client.refresh(&first.refresh_token).await.unwrap();
    assert_ne!(new.access_token, first.access_token);
    assert!(
        h.client
            .check(&new.access_token, &new.openid)
            .await
            .unwrap()
    );
    let info = h
        .client
        .userinfo(&new.access_token, &new.openid, Lang::En)
        .await
        .unwrap();
    assert_eq!(info.openid, first.openid);
}

async fn refresh_token_expires_after_thirty_days(via: Via) {
    let h = Harness::start(via).await;
    let code = h.authorize(Scope::UserInfo).await;
    let token = h.client.exchange_code(&code).await.unwrap();
    h.advance(30 * DAY - 1);
    h.client.refresh(&token.refresh_token).await.unwrap();
    h.advance(1);
    let err = h.client.refresh(&token.refresh_token).await.unwrap_err();
    assert!(matches!(err, OAuthError::RefreshTokenExpired(_)), "{err:?}");
    assert!(err.needs_reauthorization());

    let err = h
        .client
        .refresh(&RefreshToken::new("x".repeat(96)))
        .await
        .unwrap_err();
    assert!(matches!(err, OAuthError::InvalidRefreshToken(_)), "{err:?}");
}

async fn sns_auth_true_and_false(via: Via) {
    let h = Harness::start(via).await;
    let code = h.authorize(Scope::UserInfo).await;
    let token = h.client.exchange_code(&code).await.unwrap();
    let check = |token: AccessToken, openid| {
        let client = h.client.clone();
        async move { client.check(&token, &openid).await.unwrap() }
    };
    assert!(check(token.access_token.clone(), token.openid.clone()).await);
    // Another user's openid (40003), an unknown token (40001), not a token at all (40014).
    let other = h.mock.users()[1].openid.clone();
    assert!(!check(token.access_token.clone(), other).await);
    assert!(!check(AccessToken::new("A".repeat(96)), token.openid.clone()).await);
    assert!(!check(AccessToken::new("?"), token.openid.clone()).await);
    // Expired (42001).
    h.advance(7200);
    assert!(!check(token.access_token.clone(), token.openid.clone()).await);
}

async fn unionid_when_the_app_is_bound(via: Via) {
    let h = Harness::with(
        via,
        MockServer::builder().app(MockApp::demo().with_unionid(true)),
    )
    .await;
    let user = h.mock.users()[0].clone();
    let unionid = user
        .unionid
        .clone()
        .expect("generated users have a unionid");

    let code = h.authorize(Scope::UserInfo).await;
    let token = h.client.exchange_code(&code).await.unwrap();
    assert_eq!(token.unionid.as_ref(), Some(&unionid));
    let info = h
        .client
        .userinfo(&token.access_token, &token.openid, Lang::ZhCn)
        .await
        .unwrap();
    assert_eq!(info.unionid.as_ref(), Some(&unionid));

    let code = h.authorize(Scope::UserInfo).await;
    let profile = h.client.userinfo_by_code(&code, Lang::ZhCn).await.unwrap();
    assert_eq!(profile.unionid(), Some(&unionid));
}

async fn one_step_flow_for_base(via: Via) {
    let h = Harness::start(via).await;
    let code = h.authorize(Scope::Base).await;
    let profile = h.client.userinfo_by_code(&code, Lang::ZhCn).await.unwrap();
    assert_eq!(
        profile,
        Profile::OpenIdOnly {
            openid: h.mock.users()[0].openid.clone(),
            unionid: None
        }
    );
    assert!(profile.userinfo().is_none());
    // No doomed sns/userinfo call (it would answer 48001).
    assert_eq!(h.mock.request_count("/sns/userinfo"), 0);
}

async fn one_step_flow_for_userinfo(via: Via) {
    let h = Harness::start(via).await;
    let user = h.mock.users()[0].clone();
    let code = h.authorize(Scope::UserInfo).await;
    let profile = h.client.userinfo_by_code(&code, Lang::ZhCn).await.unwrap();
    let Profile::Full(info) = &profile else {
        panic!("a full profile: {profile:?}");
    };
    assert_eq!(info.nickname, user.nickname);
    assert_eq!(profile.openid(), &user.openid);
    // The code is spent by the one-step flow too.
    let err = h
        .client
        .userinfo_by_code(&code, Lang::ZhCn)
        .await
        .unwrap_err();
    assert!(matches!(err, OAuthError::CodeAlreadyUsed(_)), "{err:?}");
}

async fn qrconnect_login(via: Via) {
    let h = Harness::start(via).await;
    let state = h.guard.issue(SESSION);
    let url = h.client.qrconnect_url(REDIRECT, &state).unwrap();
    let callback = Callback::from_query(callback_query(&h.follow(&url).await)).unwrap();
    h.guard.verify(callback.state(), SESSION).unwrap();
    let code = callback.code().unwrap().clone();
    // A QR-login code lives ten minutes, not five.
    h.advance(599);
    let token = h.client.exchange_code(&code).await.unwrap();
    assert_eq!(token.scopes, [Scope::Login]);
    assert!(token.allows_userinfo());
    let info = h
        .client
        .userinfo(&token.access_token, &token.openid, Lang::ZhCn)
        .await
        .unwrap();
    assert_eq!(info.openid, h.mock.users()[0].openid);

    let url = h
        .client
        .qrconnect_url(REDIRECT, &h.guard.issue(SESSION))
        .unwrap();
    let callback = Callback::from_query(callback_query(&h.follow(&url).await)).unwrap();
    h.advance(600);
    let err = h
        .client
        .exchange_code(callback.code().unwrap())
        .await
        .unwrap_err();
    assert!(matches!(err, OAuthError::CodeExpired(_)), "{err:?}");
}

async fn foreign_and_stale_states_are_refused(via: Via) {
    let h = Harness::start(via).await;
    // An attacker starts an authorization in their own session and sends the victim the
    // callback URL: the victim's session does not match.
    let attackers = h.guard.issue("attacker-session");
    let url = h
        .client
        .authorize_url(REDIRECT, Scope::UserInfo, &attackers)
        .unwrap();
    let callback = Callback::from_query(callback_query(&h.follow(&url).await)).unwrap();
    assert_eq!(
        h.guard.verify(callback.state(), SESSION),
        Err(StateError::BadMac)
    );
    // A state older than the guard's ten minutes.
    let state = h.guard.issue(SESSION);
    h.advance(600);
    assert!(matches!(
        h.guard.verify(&state, SESSION),
        Err(StateError::Expired { .. })
    ));
    let err: OAuthError = h.guard.verify(&state, SESSION).unwrap_err().into();
    assert!(matches!(err, OAuthError::State(StateError::Expired { .. })));
    assert!(err.source().is_some());
}

async fn wechat_failures_stay_client_errors(via: Via) {
    let h = Harness::start(via).await;
    let code = h.authorize(Scope::UserInfo).await;
    h.mock
        .inject_fault("/sns/oauth2/access_token", Fault::Busy, 1);
    let err = h.client.exchange_code(&code).await.unwrap_err();
    assert!(matches!(err, OAuthError::Client(_)), "{err:?}");
    assert!(err.is_retryable());
    h.mock
        .inject_fault("/sns/oauth2/access_token", Fault::Status(502), 1);
    let err = h.client.exchange_code(&code).await.unwrap_err();
    assert!(
        matches!(
            err,
            OAuthError::Client(wechat_client::Error::HttpStatus { .. })
        ),
        "{err:?}"
    );
    h.mock
        .inject_fault("/sns/oauth2/access_token", Fault::Malformed, 1);
    let err = h.client.exchange_code(&code).await.unwrap_err();
    assert!(
        matches!(err, OAuthError::Client(wechat_client::Error::Decode { .. })),
        "{err:?}"
    );
    // Faults do not spend the code: the retry works.
    h.client.exchange_code(&code).await.unwrap();
}
