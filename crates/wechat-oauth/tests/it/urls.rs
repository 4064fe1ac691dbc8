//! The authorization URLs, checked character for character against PROTOCOL.md §4.2.

use std::sync::Arc;

use wechat_client::test_util::ReplayTransport;
use wechat_client::{ClientConfig, Endpoints};
use wechat_oauth::{OAuthClient, OAuthError};
use wechat_types::api::Scope;

fn client(config: ClientConfig) -> OAuthClient {
    OAuthClient::new("wx520c15f417810387".into(), "secret".into(), config)
}

fn offline() -> ClientConfig {
    ClientConfig::new(Arc::new(ReplayTransport::new()))
}

#[test]
fn authorize_url_for_each_scope_on_wechats_host() {
    let client = client(offline());
    for (scope, wire) in [
        (Scope::Base, "snsapi_base"),
        (Scope::UserInfo, "snsapi_userinfo"),
    ] {
        let url = client
            .authorize_url("https://app.example.com/oauth/callback", scope, "Ab1")
            .unwrap();
        assert_eq!(
            url,
            format!(
                "https://open.weixin.qq.com/connect/oauth2/authorize?appid=wx520c15f417810387\
                 &redirect_uri=https%3A%2F%2Fapp.example.com%2Foauth%2Fcallback\
                 &response_type=code&scope={wire}&state=Ab1&connect_redirect=1#wechat_redirect"
            )
        );
    }
}

#[test]
fn the_redirect_uris_own_query_and_non_ascii_survive_one_decode() {
    let client = client(offline());
    let redirect = "https://app.example.com/回调?from=菜单&next=%2Fme&empty=#/profile";
    let url = client
        .authorize_url(redirect, Scope::UserInfo, "s1")
        .unwrap();
    // Parameter order is the one WeChat checks: appid, redirect_uri, response_type, scope,
    // state, then connect_redirect; the fragment closes the URL.
    let (without_fragment, fragment) = url.split_once('#').unwrap();
    assert_eq!(fragment, "wechat_redirect");
    let (_, query) = without_fragment.split_once('?').unwrap();
    let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let names: Vec<&str> = pairs.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        names,
        [
            "appid",
            "redirect_uri",
            "response_type",
            "scope",
            "state",
            "connect_redirect"
        ]
    );
    // One decode (WeChat's) gives an ASCII URI: the same address, non-ASCII as UTF-8 escapes,
    // the existing escape untouched.
    assert_eq!(
        pairs[1].1,
        "https://app.example.com/%E5%9B%9E%E8%B0%83?from=%E8%8F%9C%E5%8D%95&next=%2Fme&empty=#/profile"
    );
    // Nothing in the parameter can end the query early or start the fragment.
    let raw = query.split('&').nth(1).unwrap();
    assert!(!raw["redirect_uri=".len()..].contains(['?', '#', '=', '&', '/']));
}

#[test]
fn endpoints_override_the_host_only() {
    let client = client(offline().with_endpoints(Endpoints::new(
        "http://127.0.0.1:1/api",
        "http://127.0.0.1:2/open/",
        "http://127.0.0.1:3",
    )));
    let url = client
        .authorize_url("http://127.0.0.1:8080/cb", Scope::Base, "x")
        .unwrap();
    assert!(url.starts_with("http://127.0.0.1:2/open/connect/oauth2/authorize?appid="));
    let url = client
        .qrconnect_url("http://127.0.0.1:8080/cb", "x")
        .unwrap();
    assert_eq!(
        url,
        "http://127.0.0.1:2/open/connect/qrconnect?appid=wx520c15f417810387\
         &redirect_uri=http%3A%2F%2F127.0.0.1%3A8080%2Fcb&response_type=code\
         &scope=snsapi_login&state=x#wechat_redirect"
    );
}

#[test]
fn bad_parameters_are_refused_before_the_user_leaves() {
    let client = client(offline());
    let err = client
        .authorize_url("https://a.example/cb", Scope::Login, "s")
        .unwrap_err();
    assert!(matches!(
        err,
        OAuthError::UnsupportedScope {
            scope: Scope::Login
        }
    ));
    assert!(err.to_string().contains("snsapi_login"));
    for state in ["", "has space", "под", &"x".repeat(129)] {
        for result in [
            client.authorize_url("https://a.example/cb", Scope::Base, state),
            client.qrconnect_url("https://a.example/cb", state),
        ] {
            assert!(
                matches!(result, Err(OAuthError::InvalidState { .. })),
                "{state:?}"
            );
        }
    }
    for uri in [
        "",
        "a.example/cb",
        "mailto:x@a.example",
        "https://",
        "https://a.example/\n",
    ] {
        assert!(
            matches!(
                client.authorize_url(uri, Scope::Base, "s"),
                Err(OAuthError::InvalidRedirectUri { .. })
            ),
            "{uri:?}"
        );
    }
    // The longest state WeChat takes is fine.
    assert!(
        client
            .authorize_url("https://a.example/cb", Scope::Base, &"Z9".repeat(64))
            .is_ok()
    );
}
