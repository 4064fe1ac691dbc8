//! The profile page's OAuth flow over HTTP, hop by hop, as a browser would go through it.

use http::StatusCode;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::Value;

use crate::support::{Browser, start};

#[tokio::test]
async fn profile_signs_the_user_in_through_the_mock_and_shows_them() {
    let demo = start().await;
    let user = demo.mock().users()[0].clone();
    let browser = Browser::new();

    // 1. The profile page of a new browser: off to WeChat's authorize page, with a session.
    let first = browser.get(&demo.profile_url(), None).await;
    assert_eq!(first.status, StatusCode::FOUND, "{first:?}");
    let authorize = first.location().to_owned();
    assert!(
        authorize.starts_with(&format!(
            "{}/connect/oauth2/authorize?",
            demo.mock().base_url()
        )),
        "{authorize}"
    );
    assert!(authorize.contains("scope=snsapi_userinfo"), "{authorize}");
    assert!(authorize.ends_with("#wechat_redirect"), "{authorize}");
    let cookie = first.cookie().expect("a session cookie");
    assert!(cookie.starts_with("demo_sid="), "{cookie}");

    // 2. The mock, asked without `Accept: text/html`, consents as the default user at once.
    let consent = browser.get(&authorize, None).await;
    assert_eq!(consent.status, StatusCode::FOUND, "{consent:?}");
    let callback = consent.location().to_owned();
    assert!(
        callback.starts_with(&format!("{}/profile/callback?code=", demo.demo_url())),
        "{callback}"
    );

    // 3. Back on the demo: the code is spent and the session signed in (post/redirect/get).
    let back = browser.get(&callback, Some(&cookie)).await;
    assert_eq!(back.status, StatusCode::SEE_OTHER, "{back:?}");
    assert_eq!(back.location(), "/profile");

    // 4. The profile page shows the fake user, and the signed JS-SDK config.
    let profile = browser.get(&demo.profile_url(), Some(&cookie)).await;
    assert_eq!(profile.status, StatusCode::OK, "{profile:?}");
    assert!(profile.body.contains(&user.nickname), "{}", profile.body);
    assert!(profile.body.contains(user.openid.as_str()));
    assert!(profile.body.contains(&user.city), "the region is shown");
    assert!(
        profile.body.contains(&demo.mock().avatar_url(&user.openid)),
        "the avatar is shown"
    );
    // The page calls wx.config with values signed for its own URL: the mock's JS-SDK check
    // (what its stand-in jweixin.js asks) accepts them.
    let config = wx_config(&profile.body);
    assert_eq!(config["appId"], demo.mock().app().appid.as_str());
    assert!(
        profile.body.contains(&format!(
            "{}/open/js/jweixin-1.6.0.js",
            demo.mock().base_url()
        )),
        "the page loads the JS-SDK"
    );
    let verify = format!(
        "/mock/jssdk/verify?appid={}&timestamp={}&noncestr={}&signature={}&url={}",
        config["appId"].as_str().unwrap(),
        config["timestamp"],
        config["nonceStr"].as_str().unwrap(),
        config["signature"].as_str().unwrap(),
        utf8_percent_encode(&demo.profile_url(), NON_ALPHANUMERIC),
    );
    let answer = demo
        .mock()
        .handle(
            http::Request::get(verify)
                .body(bytes::Bytes::new())
                .unwrap(),
        )
        .await;
    let verdict: Value = serde_json::from_slice(answer.body()).unwrap();
    assert_eq!(verdict["errcode"], 0, "{verdict}");

    // The same callback again (a reload): the code is used, but this session is signed in.
    let reload = browser.get(&callback, Some(&cookie)).await;
    assert_eq!(reload.status, StatusCode::SEE_OTHER, "{reload:?}");
}

#[tokio::test]
async fn a_callback_from_another_browser_is_refused() {
    let demo = start().await;
    let browser = Browser::new();

    // The victim's browser starts a sign-in…
    let victim = browser.get(&demo.profile_url(), None).await;
    let consent = browser.get(victim.location(), None).await;
    let callback = consent.location().to_owned();

    // …and the callback lands in another browser (login CSRF): the state is not its own.
    let attacker = browser.get(&demo.profile_url(), None).await;
    let attacker_cookie = attacker.cookie().unwrap();
    let refused = browser.get(&callback, Some(&attacker_cookie)).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{refused:?}");
    assert!(refused.body.contains("Sign-in refused"));

    // Without any session at all.
    let no_session = browser.get(&callback, None).await;
    assert_eq!(no_session.status, StatusCode::BAD_REQUEST, "{no_session:?}");

    // The attacker's browser stays signed out.
    let page = browser
        .get(&demo.profile_url(), Some(&attacker_cookie))
        .await;
    assert_eq!(page.status, StatusCode::FOUND);
}

#[tokio::test]
async fn pages_answer_and_unknown_paths_are_404() {
    let demo = start().await;
    let browser = Browser::new();
    let home = browser.get(&format!("{}/", demo.demo_url()), None).await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.body.contains(&demo.callback_url()));
    let missing = browser
        .get(&format!("{}/nope", demo.demo_url()), None)
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let cover = browser
        .get(&format!("{}/static/cover.svg", demo.demo_url()), None)
        .await;
    assert_eq!(cover.status, StatusCode::OK);
    assert_eq!(cover.headers["content-type"], "image/svg+xml");
}

/// The JSON the profile page passes to its `wx.config` call.
fn wx_config(page: &str) -> Value {
    let start = page.find("({\"appId\"").expect("a wx.config call") + 1;
    let end = start + page[start..].find("});").expect("the end of the call") + 1;
    serde_json::from_str(&page[start..end]).expect("the wx.config values are JSON")
}
