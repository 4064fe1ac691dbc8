//! The OAuth pages: `connect/oauth2/authorize`, `connect/qrconnect` and the consent answer.

use wechat_mock::{MockApp, MockServer, MockUser};

use crate::support::{Mock, REDIRECT, REDIRECT_ENC, START, VIAS, Via, param};

const BROWSER: (&str, &str) = (
    "accept",
    "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
);

#[tokio::test]
async fn snsapi_base_redirects_at_once_even_for_browsers() {
    for via in VIAS {
        let m = Mock::start(via).await;
        let location = m
            .get_with(&m.authorize_url("snsapi_base", "abc123"), &[BROWSER])
            .await
            .location();
        assert!(
            location.starts_with(&format!("{REDIRECT}?code=")),
            "{location}"
        );
        assert_eq!(param(&location, "state").as_deref(), Some("abc123"));
        let code = param(&location, "code").unwrap();
        assert_eq!(code.len(), 32);
        let token = m.exchange(&code).await.json();
        assert_eq!(token["openid"], m.user(0).openid.as_str());
        assert_eq!(token["scope"], "snsapi_base");
    }
}

#[tokio::test]
async fn snsapi_userinfo_redirects_api_clients_as_the_default_user() {
    for via in VIAS {
        let m = Mock::start(via).await;
        for accept in [None, Some("*/*"), Some("application/json")] {
            let headers: Vec<(&str, &str)> = accept.map(|a| ("accept", a)).into_iter().collect();
            let answer = m
                .get_with(&m.authorize_url("snsapi_userinfo", "s"), &headers)
                .await;
            let code = param(&answer.location(), "code").unwrap();
            let token = m.exchange(&code).await.json();
            assert_eq!(token["openid"], m.user(0).openid.as_str());
            assert_eq!(token["scope"], "snsapi_userinfo");
        }
    }
}

#[tokio::test]
async fn browsers_get_a_consent_page_and_allow_as_the_picked_user() {
    for via in VIAS {
        let m = Mock::start(via).await;
        let page = m
            .get_with(&m.authorize_url("snsapi_userinfo", "st8"), &[BROWSER])
            .await;
        assert_eq!(page.status, 200);
        assert!(
            page.header("content-type")
                .unwrap()
                .starts_with("text/html")
        );
        let html = page.text();
        assert!(html.contains("action=\"/mock/oauth/confirm\""), "{html}");
        assert!(html.contains(&m.app().name));
        for user in m.server.users() {
            assert!(html.contains(&user.nickname), "{}", user.nickname);
            assert!(html.contains(user.openid.as_str()));
        }
        // Self-contained: no external resources.
        assert!(!html.contains("src=\"http") && !html.contains("href=\"http"));

        // The form's answer, as the browser submits it.
        let picked = m.user(2);
        let confirm = format!(
            "/mock/oauth/confirm?flow=authorize&appid={}&redirect_uri={REDIRECT_ENC}&response_type=code&scope=snsapi_userinfo&state=st8&openid={}&decision=allow",
            m.app().appid,
            picked.openid
        );
        let answer = m.get_with(&confirm, &[BROWSER]).await;
        let location = answer.location();
        assert_eq!(param(&location, "state").as_deref(), Some("st8"));
        let cookie = answer.header("set-cookie").expect("the pick is remembered");
        let token = m.exchange(&param(&location, "code").unwrap()).await.json();
        assert_eq!(token["openid"], picked.openid.as_str());

        // The same browser is now that user for silent authorization too.
        let cookie_pair = cookie.split(';').next().unwrap().to_owned();
        let location = m
            .get_with(
                &m.authorize_url("snsapi_base", "x"),
                &[("cookie", &cookie_pair)],
            )
            .await
            .location();
        let token = m.exchange(&param(&location, "code").unwrap()).await.json();
        assert_eq!(token["openid"], picked.openid.as_str());

        // The consent form also works as a POST.
        let body = confirm.split_once('?').unwrap().1.to_owned();
        let answer = m
            .request(
                http::Method::POST,
                "/mock/oauth/confirm",
                &[("content-type", "application/x-www-form-urlencoded")],
                body,
            )
            .await;
        assert!(param(&answer.location(), "code").is_some());
    }
}

#[tokio::test]
async fn deny_redirects_with_state_only() {
    for via in VIAS {
        let m = Mock::start(via).await;
        let confirm = format!(
            "/mock/oauth/confirm?flow=authorize&appid={}&redirect_uri={REDIRECT_ENC}&response_type=code&scope=snsapi_userinfo&state=no1&openid={}&decision=deny",
            m.app().appid,
            m.user(0).openid
        );
        let location = m.get(&confirm).await.location();
        assert_eq!(location, format!("{REDIRECT}?state=no1"));
    }
}

#[tokio::test]
async fn confirm_refuses_strangers_and_bad_decisions() {
    for via in VIAS {
        let m = Mock::start(via).await;
        let base = format!(
            "/mock/oauth/confirm?flow=authorize&appid={}&redirect_uri={REDIRECT_ENC}&response_type=code&scope=snsapi_userinfo&state=s",
            m.app().appid
        );
        let page = m
            .get(&format!("{base}&openid=oNOBODY&decision=allow"))
            .await;
        assert_eq!(page.status, 200);
        assert!(page.text().contains("40003"));
        let page = m
            .get(&format!(
                "{base}&openid={}&decision=maybe",
                m.user(0).openid
            ))
            .await;
        assert_eq!(page.status, 200);
        assert!(page.text().contains("decision must be allow or deny"));
        // The confirm step re-validates the request: a foreign redirect is still refused.
        let page = m
            .get(&format!(
                "/mock/oauth/confirm?appid=wxnope&redirect_uri={REDIRECT_ENC}&response_type=code&scope=snsapi_userinfo&openid=o&decision=allow"
            ))
            .await;
        assert!(page.text().contains("40013"));
    }
}

#[tokio::test]
async fn redirect_keeps_its_query_and_puts_the_code_before_the_fragment() {
    for via in VIAS {
        let m = Mock::start(via).await;
        let url = format!(
            "/connect/oauth2/authorize?appid={}&redirect_uri=https%3A%2F%2Fspa.example.com%2F%3Fx%3D1%23%2Fcallback&response_type=code&scope=snsapi_base&state=s&connect_redirect=1#wechat_redirect",
            m.app().appid
        );
        let location = m.get(&url).await.location();
        assert!(
            location.starts_with("https://spa.example.com/?x=1&code="),
            "{location}"
        );
        assert!(location.ends_with("&state=s#/callback"), "{location}");
        // No state at all: WeChat still appends an empty one.
        let url = format!(
            "/connect/oauth2/authorize?appid={}&redirect_uri={REDIRECT_ENC}&response_type=code&scope=snsapi_base",
            m.app().appid
        );
        assert!(m.get(&url).await.location().ends_with("&state="));
    }
}

/// The error page for an authorize request, and its text.
async fn error_page(m: &Mock, query: &str) -> String {
    let answer = m.get(&format!("/connect/oauth2/authorize?{query}")).await;
    assert_eq!(answer.status, 200, "{query}");
    assert!(
        answer
            .header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    answer.text()
}

#[tokio::test]
async fn bad_requests_get_the_error_page_with_wechats_code() {
    for via in VIAS {
        let m = Mock::start(via).await;
        let appid = m.app().appid;
        let cases = [
            (
                format!("redirect_uri={REDIRECT_ENC}&response_type=code&scope=snsapi_base"),
                "10012",
            ),
            (
                format!(
                    "appid=wxnope&redirect_uri={REDIRECT_ENC}&response_type=code&scope=snsapi_base"
                ),
                "40013",
            ),
            (
                format!("appid={appid}&response_type=code&scope=snsapi_base"),
                "10011",
            ),
            (
                format!(
                    "appid={appid}&redirect_uri=%2Frelative&response_type=code&scope=snsapi_base"
                ),
                "10003",
            ),
            (
                format!(
                    "appid={appid}&redirect_uri=ftp%3A%2F%2Fa.com%2F&response_type=code&scope=snsapi_base"
                ),
                "10003",
            ),
            (
                format!("appid={appid}&redirect_uri={REDIRECT_ENC}&response_type=code"),
                "10010",
            ),
            (
                format!(
                    "appid={appid}&redirect_uri={REDIRECT_ENC}&response_type=code&scope=snsapi_login"
                ),
                "10005",
            ),
            (
                format!("appid={appid}&redirect_uri={REDIRECT_ENC}&response_type=code&scope=bogus"),
                "10005",
            ),
        ];
        for (query, code) in cases {
            let html = error_page(&m, &query).await;
            assert!(html.contains(&format!("错误码：{code}")), "{query}: {html}");
        }
        let html = error_page(
            &m,
            &format!("appid={appid}&redirect_uri={REDIRECT_ENC}&scope=snsapi_base"),
        )
        .await;
        assert!(html.contains("response_type must be code"));
        for state in ["bad-state", "%E4%BD%A0", &"a".repeat(129)] {
            let html = error_page(
                &m,
                &format!("appid={appid}&redirect_uri={REDIRECT_ENC}&response_type=code&scope=snsapi_base&state={state}"),
            )
            .await;
            assert!(html.contains("state 参数错误"), "{state}");
        }
        let longest = "a".repeat(128);
        let location = m
            .get(&m.authorize_url("snsapi_base", &longest))
            .await
            .location();
        assert_eq!(param(&location, "state").as_deref(), Some(longest.as_str()));
        // Nothing was logged as an error code, and no code was issued for the failures.
        assert_eq!(m.server.stats().codes, 1);
    }
}

#[tokio::test]
async fn the_oauth_domain_must_match_exactly() {
    for via in VIAS {
        let builder = MockServer::builder()
            .frozen_clock(START)
            .app(MockApp::demo().with_oauth_domain("app.example.com"));
        let m = Mock::with(via, builder).await;
        assert!(m.get(&m.authorize_url("snsapi_base", "s")).await.status == 302);
        let appid = m.app().appid;
        for host in ["evil.com", "sub.app.example.com", "example.com"] {
            let html = error_page(
                &m,
                &format!(
                    "appid={appid}&redirect_uri=https%3A%2F%2F{host}%2Fcb&response_type=code&scope=snsapi_base&state=s"
                ),
            )
            .await;
            assert!(html.contains("10003"), "{host}");
            assert!(html.contains("redirect_uri 域名与后台配置不一致"), "{host}");
        }
        // Any port and path on the domain pass.
        let location = m
            .get(&format!(
                "/connect/oauth2/authorize?appid={appid}&redirect_uri=http%3A%2F%2Fapp.example.com%3A8080%2Fx&response_type=code&scope=snsapi_base&state=s"
            ))
            .await
            .location();
        assert!(location.starts_with("http://app.example.com:8080/x?code="));
    }
}

#[tokio::test]
async fn qrconnect_shows_a_qr_page_and_codes_live_ten_minutes() {
    for via in VIAS {
        let m = Mock::start(via).await;
        let url = format!(
            "/connect/qrconnect?appid={}&redirect_uri={REDIRECT_ENC}&response_type=code&scope=snsapi_login&state=qr1#wechat_redirect",
            m.app().appid
        );
        let page = m.get_with(&url, &[BROWSER]).await;
        assert_eq!(page.status, 200);
        let html = page.text();
        assert!(html.contains("<svg") && html.contains("扫码"), "{html}");
        assert!(html.contains("name=\"flow\" value=\"qrconnect\""));
        assert!(html.contains("decision=deny"));

        // "Scan as" user 1.
        let scan = format!(
            "/mock/oauth/confirm?flow=qrconnect&appid={}&redirect_uri={REDIRECT_ENC}&response_type=code&scope=snsapi_login&state=qr1&decision=allow&openid={}",
            m.app().appid,
            m.user(1).openid
        );
        let code = param(&m.get(&scan).await.location(), "code").unwrap();
        m.server.advance_clock(599);
        let token = m.exchange(&code).await.json();
        assert_eq!(token["openid"], m.user(1).openid.as_str());
        assert_eq!(token["scope"], "snsapi_login");

        // A non-HTML client is redirected at once; the code expires after 600 s.
        let code = param(&m.get(&url).await.location(), "code").unwrap();
        m.server.advance_clock(600);
        assert_eq!(m.exchange(&code).await.errcode(), 42003);

        // qrconnect only grants snsapi_login.
        let html = m
            .get(&url.replace("snsapi_login", "snsapi_base"))
            .await
            .text();
        assert!(
            html.contains("该链接无法访问") && html.contains("10005"),
            "{html}"
        );
    }
}

#[tokio::test]
async fn an_app_without_users_says_so() {
    let m = Mock::with(
        Via::InProcess,
        MockServer::builder().fake_users(0).frozen_clock(START),
    )
    .await;
    let page = m.get(&m.authorize_url("snsapi_base", "s")).await;
    assert_eq!(page.status, 200);
    assert!(page.text().contains("没有可用的模拟用户"));
    m.server.add_user(MockUser::new("新人")).unwrap();
    assert_eq!(
        m.get(&m.authorize_url("snsapi_base", "s")).await.status,
        302
    );
}

#[tokio::test]
async fn listed_users_come_first_and_the_first_is_the_default() {
    let me = MockUser::new("我").with_openid("oMe_0123456789");
    let m = Mock::with(
        Via::InProcess,
        MockServer::builder().user(me.clone()).frozen_clock(START),
    )
    .await;
    assert_eq!(m.server.users().len(), 6);
    assert_eq!(m.user(0).openid, me.openid);
    let token = m.sns_token("snsapi_base").await;
    assert_eq!(token["openid"], "oMe_0123456789");
}
