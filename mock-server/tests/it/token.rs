//! `cgi-bin/token` and `cgi-bin/stable_token`: rotation with overlap, the stable token, IP
//! whitelist and daily quota.

use std::net::IpAddr;

use serde_json::json;
use wechat_mock::{MockApp, MockServer};
use wechat_types::api::{AccessTokenResponse, StableTokenRequest};

use crate::support::{Mock, START, VIAS};

/// `menu/get` is a cheap way to ask "is this token valid": 46003 (no menu) means yes.
async fn token_state(m: &Mock, token: &str) -> i64 {
    m.get(&format!("/cgi-bin/menu/get?access_token={token}"))
        .await
        .errcode()
}

const VALID: i64 = 46003;

#[tokio::test]
async fn token_answers_and_errors() {
    for via in VIAS {
        let m = Mock::start(via).await;
        let app = m.app();
        let secret = app.secret.expose_secret();
        let answer = m
            .get(&format!(
                "/cgi-bin/token?grant_type=client_credential&appid={}&secret={secret}",
                app.appid
            ))
            .await;
        let token: AccessTokenResponse = serde_json::from_slice(&answer.body).unwrap();
        assert_eq!(token.expires_in, 7200);
        assert!(token.access_token.expose_secret().len() >= 100);
        assert_eq!(
            answer.json().as_object().unwrap().len(),
            2,
            "{}",
            answer.text()
        );
        assert_eq!(
            answer.header("content-type").as_deref(),
            Some("application/json; encoding=utf-8")
        );
        let cases = [
            (
                format!("grant_type=client_credential&secret={secret}"),
                41002,
            ),
            (
                format!("grant_type=client_credential&appid=wxnope&secret={secret}"),
                40013,
            ),
            (
                format!("grant_type=client_credential&appid={}", app.appid),
                41004,
            ),
            (
                format!(
                    "grant_type=client_credential&appid={}&secret=bad",
                    app.appid
                ),
                40125,
            ),
            (format!("appid={}&secret={secret}", app.appid), 40002),
            (
                format!("grant_type=password&appid={}&secret={secret}", app.appid),
                40002,
            ),
        ];
        for (query, errcode) in cases {
            let answer = m.get(&format!("/cgi-bin/token?{query}")).await;
            assert_eq!(answer.errcode(), errcode, "{query}");
        }
        let answer = m
            .get(&format!(
                "/cgi-bin/token?grant_type=client_credential&appid=wxnope&secret={secret}"
            ))
            .await;
        assert!(
            answer.errmsg().starts_with("invalid appid rid: "),
            "{}",
            answer.errmsg()
        );
    }
}

#[tokio::test]
async fn each_token_call_rotates_with_a_five_minute_overlap() {
    for via in VIAS {
        let m = Mock::start(via).await;
        let first = m.token().await;
        m.server.advance_clock(100);
        let second = m.token().await;
        assert_ne!(first, second);
        assert_eq!(token_state(&m, &first).await, VALID);
        m.server.advance_clock(299);
        assert_eq!(token_state(&m, &first).await, VALID);
        m.server.advance_clock(1);
        let answer = m
            .get(&format!("/cgi-bin/menu/get?access_token={first}"))
            .await;
        assert_eq!(answer.errcode(), 40001, "a replaced token is 'not latest'");
        assert!(
            answer
                .errmsg()
                .starts_with("invalid credential, access_token is invalid or not latest")
        );
        assert_eq!(token_state(&m, &second).await, VALID);
        // The latest one simply runs out after 7200 s.
        m.server.advance_clock(7200 - 300 - 1);
        assert_eq!(token_state(&m, &second).await, VALID);
        m.server.advance_clock(1);
        assert_eq!(token_state(&m, &second).await, 42001);
    }
}

fn stable_body(m: &Mock, force: bool) -> serde_json::Value {
    let app = m.app();
    let mut request = StableTokenRequest::new(app.appid, app.secret);
    request.force_refresh = force;
    serde_json::to_value(&request).unwrap()
}

async fn stable(m: &Mock, force: bool) -> (String, u64) {
    let answer = m
        .post_json("/cgi-bin/stable_token", &stable_body(m, force))
        .await;
    let token: AccessTokenResponse =
        serde_json::from_slice(&answer.body).unwrap_or_else(|_| panic!("{}", answer.text()));
    (
        token.access_token.expose_secret().to_owned(),
        token.expires_in,
    )
}

#[tokio::test]
async fn stable_token_returns_the_same_token_with_its_remaining_lifetime() {
    for via in VIAS {
        let m = Mock::start(via).await;
        let (a, ttl) = stable(&m, false).await;
        assert_eq!(ttl, 7200);
        m.server.advance_clock(6000);
        assert_eq!(stable(&m, false).await, (a.clone(), 1200));
        // In the last 5 minutes it renews; the old token lives out its remaining time.
        m.server.advance_clock(900);
        let (b, ttl) = stable(&m, false).await;
        assert_ne!(a, b);
        assert_eq!(ttl, 7200);
        assert_eq!(token_state(&m, &a).await, VALID);
        m.server.advance_clock(300);
        assert_eq!(token_state(&m, &a).await, 42001);
        assert_eq!(token_state(&m, &b).await, VALID);
    }
}

#[tokio::test]
async fn stable_token_and_token_are_independent() {
    for via in VIAS {
        let m = Mock::start(via).await;
        let (stable_token, _) = stable(&m, false).await;
        let t1 = m.token().await;
        let _t2 = m.token().await;
        m.server.advance_clock(301);
        assert_eq!(token_state(&m, &t1).await, 40001);
        assert_eq!(token_state(&m, &stable_token).await, VALID);
        let (again, _) = stable(&m, true).await;
        assert_ne!(again, stable_token);
        let t3 = m.token().await;
        assert_eq!(token_state(&m, &t3).await, VALID);
        assert_eq!(token_state(&m, &again).await, VALID);
    }
}

#[tokio::test]
async fn force_refresh_replaces_the_token_within_its_limits() {
    for via in VIAS {
        let m = Mock::start(via).await;
        let (a, _) = stable(&m, false).await;
        m.server.advance_clock(60);
        let (b, ttl) = stable(&m, true).await;
        assert_ne!(a, b);
        assert_eq!(ttl, 7200);
        assert_eq!(
            token_state(&m, &a).await,
            40001,
            "force refresh kills the previous token"
        );
        // Within 30 s of the last forced refresh: no refresh, the current token.
        m.server.advance_clock(29);
        assert_eq!(stable(&m, true).await, (b.clone(), 7171));
        // 20 a day.
        for _ in 1..20 {
            m.server.advance_clock(30);
            stable(&m, true).await;
        }
        m.server.advance_clock(30);
        let answer = m
            .post_json("/cgi-bin/stable_token", &stable_body(&m, true))
            .await;
        assert_eq!(answer.errcode(), 45009);
        // Normal mode still works.
        stable(&m, false).await;
        // The next (Beijing) day the limit resets.
        m.server.advance_clock(86_400);
        let answer = m
            .post_json("/cgi-bin/stable_token", &stable_body(&m, true))
            .await;
        assert_eq!(answer.errcode(), 0, "{}", answer.text());
    }
}

#[tokio::test]
async fn stable_token_errors() {
    for via in VIAS {
        let m = Mock::start(via).await;
        let app = m.app();
        let secret = app.secret.expose_secret();
        let get = m.get("/cgi-bin/stable_token").await;
        assert_eq!(get.errcode(), 43002);
        let cases = [
            (
                json!({"grant_type":"client_credential","secret":secret}),
                41002,
            ),
            (
                json!({"grant_type":"client_credential","appid":"wxnope","secret":secret}),
                40013,
            ),
            (
                json!({"grant_type":"client_credential","appid":app.appid}),
                41004,
            ),
            (
                json!({"grant_type":"client_credential","appid":app.appid,"secret":"bad"}),
                40125,
            ),
            (
                json!({"grant_type":"authorization_code","appid":app.appid,"secret":secret}),
                40002,
            ),
            (json!({"appid":app.appid,"secret":secret}), 47001),
            (
                json!({"grant_type":"client_credential","appid":app.appid,"secret":secret,"force_refresh":"yes"}),
                47001,
            ),
        ];
        for (body, errcode) in cases {
            let answer = m.post_json("/cgi-bin/stable_token", &body).await;
            assert_eq!(answer.errcode(), errcode, "{body}");
        }
        for body in ["{not json", "[1,2]", "\"str\""] {
            let answer = m.post("/cgi-bin/stable_token", body).await;
            assert!(
                [47001, 41002].contains(&answer.errcode()),
                "{body}: {}",
                answer.text()
            );
        }
        assert_eq!(
            m.post("/cgi-bin/stable_token", "{not json").await.errcode(),
            47001
        );
        assert_eq!(m.post("/cgi-bin/stable_token", "").await.errcode(), 44002);
    }
}

#[tokio::test]
async fn ip_whitelist() {
    for via in VIAS {
        let outside =
            MockApp::demo().with_ip_whitelist(vec!["10.1.2.3".parse::<IpAddr>().unwrap()]);
        let m = Mock::with(via, MockServer::builder().app(outside).frozen_clock(START)).await;
        let app = m.app();
        let answer = m
            .get(&format!(
                "/cgi-bin/token?grant_type=client_credential&appid={}&secret={}",
                app.appid,
                app.secret.expose_secret()
            ))
            .await;
        assert_eq!(answer.errcode(), 40164);
        assert!(
            answer
                .errmsg()
                .starts_with("invalid ip 127.0.0.1 ipv6 ::ffff:127.0.0.1, not in whitelist rid: "),
            "{}",
            answer.errmsg()
        );
        let answer = m
            .post_json("/cgi-bin/stable_token", &stable_body(&m, false))
            .await;
        assert_eq!(answer.errcode(), 40164);
        // The same checks pass for a listed caller.
        assert!(
            m.server
                .add_app(
                    MockApp::new("wx4444444444444444", "s4")
                        .with_ip_whitelist(vec!["127.0.0.1".parse().unwrap()]),
                    vec![],
                )
                .is_ok()
        );
        let answer = m
            .get("/cgi-bin/token?grant_type=client_credential&appid=wx4444444444444444&secret=s4")
            .await;
        assert_eq!(answer.errcode(), 0);
    }
}

#[tokio::test]
async fn daily_quota_per_api() {
    for via in VIAS {
        let limited = MockApp::demo().with_daily_quota(3);
        let m = Mock::with(via, MockServer::builder().app(limited).frozen_clock(START)).await;
        let token = m.token().await;
        m.token().await;
        m.token().await;
        let app = m.app();
        let url = format!(
            "/cgi-bin/token?grant_type=client_credential&appid={}&secret={}",
            app.appid,
            app.secret.expose_secret()
        );
        let answer = m.get(&url).await;
        assert_eq!(answer.errcode(), 45009);
        assert!(
            answer
                .errmsg()
                .starts_with("reach max api daily quota limit")
        );
        // Each API has its own quota.
        for _ in 0..3 {
            assert_eq!(token_state(&m, &token).await, VALID);
        }
        assert_eq!(token_state(&m, &token).await, 45009);
        m.server.advance_clock(86_400);
        assert_eq!(m.get(&url).await.errcode(), 0);
    }
}
