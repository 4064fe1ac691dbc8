//! The `/mock/` admin API and the library handles it mirrors: apps, users, clock, faults, the
//! request log, messages, stats and reset.

use std::time::Duration;

use http::Method;
use serde_json::json;
use wechat_mock::{Fault, MockApp, MockServer, MockUser};

use crate::support::{Mock, START, VIAS, Via};

#[tokio::test]
async fn apps_and_users() {
    for via in VIAS {
        let m = Mock::start(via).await;
        let apps = m.get("/mock/apps").await.json();
        assert_eq!(apps[0]["appid"], m.app().appid.as_str());
        assert_eq!(apps[0]["secret"], m.app().secret.expose_secret());
        assert_eq!(apps[0]["aes_key"], m.app().aes_key.expose_secret());

        let added = m
            .post_json(
                "/mock/apps",
                &json!({"appid":"wx5555555555555555","secret":"s5","oauth_domain":"x.com","unionid":true,"users":2}),
            )
            .await;
        assert_eq!(added.status, 200, "{}", added.text());
        assert_eq!(added.json()["oauth_domain"], "x.com");
        assert!(
            added.json()["account_id"]
                .as_str()
                .unwrap()
                .starts_with("gh_")
        );
        let dup = m
            .post_json("/mock/apps", &json!({"appid":"wx5555555555555555"}))
            .await;
        assert_eq!(dup.status, 409);
        let bad = m
            .post_json("/mock/apps", &json!({"appid":"wx6","aes_key":"short"}))
            .await;
        assert_eq!(bad.status, 400);
        assert!(
            bad.json()["errmsg"].as_str().unwrap().contains("aes_key"),
            "{}",
            bad.text()
        );
        assert_eq!(m.post("/mock/apps", "{").await.status, 400);
        assert_eq!(m.server.apps().len(), 2);

        let users = m.get("/mock/users?appid=wx5555555555555555").await.json();
        assert_eq!(users.as_array().unwrap().len(), 2);
        assert!(users[0]["unionid"].is_string());
        assert_eq!(users[0]["service_window_open"], true);
        assert!(users[0]["headimgurl"].as_str().unwrap().ends_with(".svg"));
        assert_eq!(m.get("/mock/users?appid=wxnope").await.status, 404);

        let user = m
            .post_json(
                "/mock/users",
                &json!({"nickname":"新用户","openid":"oNew_1","sex":2,"city":"杭州","tags":[1]}),
            )
            .await;
        assert_eq!(user.status, 200, "{}", user.text());
        assert_eq!(user.json()["openid"], "oNew_1");
        assert_eq!(m.server.users().len(), 6);
        assert_eq!(
            m.post_json("/mock/users", &json!({"nickname":"x","openid":"oNew_1"}))
                .await
                .status,
            409
        );
        assert_eq!(
            m.post_json("/mock/users", &json!({"nickname":"x","appid":"wxnope"}))
                .await
                .status,
            404
        );
        assert_eq!(
            m.post_json("/mock/users", &json!({"nickname":"x","openid":"bad/id"}))
                .await
                .status,
            400
        );
        assert_eq!(
            m.get("/mock/users").await.json().as_array().unwrap().len(),
            6
        );
        // Users added by the library show up too.
        let lib_user = m
            .server
            .add_user_to(&"wx5555555555555555".into(), MockUser::new("库"))
            .unwrap();
        assert!(
            lib_user.unionid.is_some(),
            "bound apps give users a unionid"
        );
        assert_eq!(m.server.users_of(&"wx5555555555555555".into()).len(), 3);
        assert!(m.server.users_of(&"wxnope".into()).is_empty());
    }
}

#[tokio::test]
async fn clock() {
    for via in VIAS {
        let m = Mock::start(via).await;
        assert_eq!(
            m.get("/mock/clock").await.json(),
            json!({"now": START, "offset": 0})
        );
        let moved = m
            .post_json("/mock/clock/advance", &json!({"seconds": 90}))
            .await;
        assert_eq!(moved.json(), json!({"now": START + 90, "offset": 90}));
        assert_eq!(m.server.now(), START + 90);
        m.server.advance_clock(10);
        assert_eq!(m.get("/mock/clock").await.json()["now"], START + 100);
        assert_eq!(
            m.post_json("/mock/clock/advance", &json!({"seconds": -1}))
                .await
                .status,
            400
        );
        assert_eq!(m.get("/mock/clock/advance").await.status, 405);
    }
}

#[tokio::test]
async fn a_running_clock_ticks_from_real_time() {
    let m = Mock::with(Via::InProcess, MockServer::builder()).await;
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    m.server.advance_clock(3600);
    assert!(m.server.now() >= before + 3600);
}

#[tokio::test]
async fn faults_from_the_library() {
    for via in VIAS {
        let m = Mock::start(via).await;
        let app = m.app();
        let url = format!(
            "/cgi-bin/token?grant_type=client_credential&appid={}&secret={}",
            app.appid,
            app.secret.expose_secret()
        );
        m.server
            .inject_fault("/cgi-bin/token", Fault::ErrCode(40243), 2);
        m.server.inject_fault("/cgi-bin/token", Fault::Busy, 1);
        m.server
            .inject_fault("/cgi-bin/token", Fault::Status(502), 1);
        m.server.inject_fault("/cgi-bin/token", Fault::Malformed, 1);
        m.server
            .inject_fault("/cgi-bin/token", Fault::Delay(Duration::from_millis(20)), 1);
        m.server.inject_fault("/cgi-bin/token", Fault::Status(7), 1);

        let answer = m.get(&url).await;
        assert_eq!(answer.errcode(), 40243);
        assert!(answer.errmsg().starts_with("AppSecret is frozen rid: "));
        assert_eq!(m.get(&url).await.errcode(), 40243);
        let busy = m.get(&url).await;
        assert_eq!(busy.errcode(), -1);
        assert!(busy.errmsg().starts_with("system error rid: "));
        let gateway = m.get(&url).await;
        assert_eq!(gateway.status, 502);
        assert!(gateway.body.is_empty());
        let malformed = m.get(&url).await;
        assert_eq!(malformed.status, 200);
        assert!(serde_json::from_slice::<serde_json::Value>(&malformed.body).is_err());
        // The delay answers normally.
        assert_eq!(m.get(&url).await.errcode(), 0);
        // An impossible status is a 502.
        assert_eq!(m.get(&url).await.status, 502);
        // Then back to normal; other paths were never affected.
        assert_eq!(m.get(&url).await.errcode(), 0);

        // "*" faults every API path, but never the admin routes.
        m.server.inject_fault("*", Fault::Busy, 2);
        assert_eq!(m.get("/mock/clock").await.status, 200);
        assert_eq!(m.get("/sns/auth").await.errcode(), -1);
        assert_eq!(m.get(&url).await.errcode(), -1);
        assert_eq!(m.get(&url).await.errcode(), 0);

        m.server.inject_fault("/cgi-bin/token", Fault::Busy, 5);
        m.server.clear_faults();
        assert_eq!(m.get(&url).await.errcode(), 0);
    }
}

#[tokio::test]
async fn faults_over_the_admin_api() {
    for via in VIAS {
        let m = Mock::start(via).await;
        for fault in [
            json!({"errcode": 45009}),
            json!("busy"),
            json!({"delay_ms": 1}),
            json!({"status": 503}),
            json!("malformed"),
        ] {
            let answer = m
                .post_json(
                    "/mock/faults",
                    &json!({"path": "/sns/auth", "fault": fault, "times": 1}),
                )
                .await;
            assert_eq!(answer.status, 200, "{}", answer.text());
        }
        let listed = m.get("/mock/faults").await.json();
        assert_eq!(listed.as_array().unwrap().len(), 5);
        assert_eq!(
            listed[0],
            json!({"path": "/sns/auth", "fault": {"errcode": 45009}, "times": 1})
        );
        assert_eq!(m.get("/sns/auth").await.errcode(), 45009);
        assert_eq!(m.get("/sns/auth").await.errcode(), -1);
        assert_eq!(
            m.get("/sns/auth").await.errcode(),
            41001,
            "delay, then the real answer"
        );
        assert_eq!(m.get("/sns/auth").await.status, 503);
        assert!(
            serde_json::from_slice::<serde_json::Value>(&m.get("/sns/auth").await.body).is_err()
        );
        assert_eq!(m.get("/sns/auth").await.errcode(), 41001);

        let bad = [
            json!({"path": "/x", "fault": "sideways"}),
            json!({"path": "no-slash", "fault": "busy"}),
            json!({"path": "/x", "fault": {"delay_ms": 99_999_999}}),
            json!({"fault": "busy"}),
        ];
        for body in bad {
            assert_eq!(
                m.post_json("/mock/faults", &body).await.status,
                400,
                "{body}"
            );
        }
        m.post_json(
            "/mock/faults",
            &json!({"path": "/sns/auth", "fault": "busy", "times": 3}),
        )
        .await;
        let cleared = m.request(Method::DELETE, "/mock/faults", &[], "").await;
        assert_eq!(cleared.status, 200);
        assert_eq!(m.get("/mock/faults").await.json(), json!([]));
    }
}

#[tokio::test]
async fn the_request_log() {
    for via in VIAS {
        let m = Mock::start(via).await;
        m.token().await;
        m.token().await;
        m.get("/sns/auth?access_token=x").await;
        assert_eq!(m.server.request_count("/cgi-bin/token"), 2);
        assert_eq!(m.server.request_count("/sns/auth"), 1);
        let requests = m.server.requests();
        assert_eq!(requests.len(), 3);
        let first = &requests[0];
        assert_eq!(first.method, Method::GET);
        assert_eq!(first.path, "/cgi-bin/token");
        assert_eq!(
            first.query_param("grant_type").as_deref(),
            Some("client_credential")
        );
        assert_eq!(first.status, 200);
        assert_eq!(first.errcode, None);
        assert_eq!(first.at, START);
        assert_eq!(first.remote.to_string(), "127.0.0.1");
        assert_eq!(requests[2].errcode, Some(41009));
        let secret = m.app().secret.expose_secret().to_owned();
        assert!(
            !format!("{first:?}").contains(&secret),
            "Debug redacts secrets"
        );

        let logged = m.get("/mock/requests?path=/cgi-bin/token").await.json();
        assert_eq!(logged.as_array().unwrap().len(), 2);
        assert!(!logged.to_string().contains(&secret));
        assert!(
            logged[0]["query"]
                .as_str()
                .unwrap()
                .contains("secret=%5Bredacted%5D")
        );
        let last = m.get("/mock/requests?limit=1").await.json();
        assert_eq!(
            last[0]["path"], "/mock/requests",
            "newest last, and the log sees itself"
        );

        m.server.clear_requests();
        assert_eq!(m.server.requests().len(), 0);
    }
}

#[tokio::test]
async fn messages_stats_and_reset() {
    for via in VIAS {
        let m = Mock::start(via).await;
        let token = m.token().await;
        let me = m.user(0).openid;
        let send = format!("/cgi-bin/message/custom/send?access_token={token}");
        m.post_json(
            &send,
            &json!({"touser": me, "msgtype": "text", "text": {"content": "嗨"}}),
        )
        .await;
        let messages = m.get(&format!("/mock/messages?openid={me}")).await.json();
        assert_eq!(messages[0]["msgtype"], "text");
        assert_eq!(messages[0]["message"]["text"]["content"], "嗨");
        assert_eq!(
            m.get("/mock/messages?openid=oOther").await.json(),
            json!([])
        );
        m.post_json(
            &format!("/cgi-bin/menu/create?access_token={token}"),
            &json!({"button":[{"type":"click","name":"a","key":"k"}]}),
        )
        .await;
        m.server.add_user(MockUser::new("临时")).unwrap();
        m.server.advance_clock(100);

        let stats = m.get("/mock/stats").await.json();
        assert_eq!(stats["base_tokens"], 1);
        assert_eq!(stats["messages"], 1);
        assert_eq!(stats["users"], 6);
        assert_eq!(m.server.stats().apps, 1);

        let answer = m.post("/mock/reset", "").await;
        assert_eq!(answer.status, 200);
        assert_eq!(m.server.now(), START);
        assert_eq!(m.server.users().len(), 5, "back to the configured users");
        assert!(m.server.custom_messages().is_empty());
        let logged: Vec<_> = m.server.requests().into_iter().map(|r| r.path).collect();
        assert_eq!(logged, ["/mock/reset"], "only the reset itself");
        assert_eq!(
            m.get(&format!("/cgi-bin/menu/get?access_token={token}"))
                .await
                .errcode(),
            40001,
            "tokens are forgotten"
        );
        let token = m.token().await;
        assert_eq!(
            m.get(&format!("/cgi-bin/menu/get?access_token={token}"))
                .await
                .errcode(),
            46003
        );
        m.server.reset();
        assert_eq!(m.server.stats().base_tokens, 0);
    }
}

#[tokio::test]
async fn admin_routes_answer_4xx_for_unknown_routes_and_methods() {
    for via in VIAS {
        let m = Mock::start(via).await;
        assert_eq!(m.get("/mock/nope").await.status, 404);
        assert_eq!(m.get("/mock/reset").await.status, 405);
        assert_eq!(
            m.request(Method::PUT, "/mock/apps", &[], "").await.status,
            405
        );
        assert_eq!(
            m.post_json("/mock/interaction", &json!({"openid": "oNobody"}))
                .await
                .status,
            404
        );
    }
}

#[tokio::test]
async fn pages_render() {
    for via in VIAS {
        let m = Mock::start(via).await;
        let index = m.get("/").await;
        assert_eq!(index.status, 200);
        let html = index.text();
        assert!(html.contains(m.app().appid.as_str()) && html.contains(&m.user(0).nickname));
        assert!(html.contains("/connect/oauth2/authorize?appid="));
        let callback = m.get("/mock/callback?code=C0DE&state=s").await.text();
        assert!(callback.contains("C0DE"));
        let denied = m.get("/mock/callback?state=s").await.text();
        assert!(denied.contains("拒绝"));
        // Markup from users is escaped.
        m.server
            .add_user(MockUser::new("<script>alert(1)</script>"))
            .unwrap();
        let html = m.get("/").await.text();
        assert!(!html.contains("<script>alert(1)"));
        assert!(html.contains("&lt;script&gt;"));
    }
}

#[tokio::test]
async fn library_helpers() {
    let m = Mock::with(
        Via::InProcess,
        MockServer::builder()
            .add_app_with_users(
                MockApp::new("wx7777777777777777", "s7"),
                vec![MockUser::new("唯一")],
            )
            .fake_users(1)
            .request_log_capacity(2)
            .frozen_clock(START),
    )
    .await;
    assert_eq!(m.server.users().len(), 1);
    assert_eq!(
        m.server.users_of(&"wx7777777777777777".into())[0].nickname,
        "唯一"
    );
    let token = m.server.issue_access_token();
    let answer = m
        .get(&format!(
            "/cgi-bin/menu/get?access_token={}",
            token.expose_secret()
        ))
        .await;
    assert_eq!(answer.errcode(), 46003);
    m.get("/a").await;
    m.get("/b").await;
    assert_eq!(
        m.server
            .requests()
            .iter()
            .map(|r| r.path.as_str())
            .collect::<Vec<_>>(),
        ["/a", "/b"]
    );
    assert!(m.server.address().ip().is_loopback());
    assert!(m.server.base_url().starts_with("http://127.0.0.1:"));
    assert!(format!("{:?}", m.server).contains("127.0.0.1"));
    assert!(
        m.server
            .add_app(MockApp::new("wx7777777777777777", "x"), vec![])
            .is_err()
    );
    let service = m.server.service();
    assert_eq!(service.base_url(), m.server.base_url());
}

#[tokio::test]
async fn bad_builders_fail_to_start() {
    let dup = MockServer::builder()
        .add_app(MockApp::demo())
        .try_start()
        .await;
    assert!(matches!(
        dup,
        Err(wechat_mock::StartError::Config(
            wechat_mock::ConfigError::DuplicateApp(_)
        ))
    ));
    let twice = MockUser::new("a").with_openid("oSame");
    let dup_user = MockServer::builder()
        .user(twice.clone())
        .user(twice)
        .try_start()
        .await;
    assert!(matches!(
        dup_user,
        Err(wechat_mock::StartError::Config(
            wechat_mock::ConfigError::DuplicateUser(_)
        ))
    ));
    let taken = MockServer::start().await;
    let bound = MockServer::builder()
        .bind(taken.address())
        .try_start()
        .await;
    let Err(error) = bound else {
        panic!("the port is taken")
    };
    assert!(matches!(error, wechat_mock::StartError::Bind { .. }));
    assert!(std::error::Error::source(&error).is_some());
    assert!(MockServer::builder().config_json("{\"apps\": 1}").is_err());
}

#[tokio::test]
async fn config_json_replaces_the_demo_app() {
    let json = r#"{"apps": [
        {"appid": "wx8888888888888888", "secret": "s8", "name": "配置号", "users": 2},
        {"appid": "wx9999999999999999", "users": [{"nickname": "甲", "openid": "oJia"}]}
    ]}"#;
    let m = MockServer::builder()
        .config_json(json)
        .unwrap()
        .start()
        .await;
    assert_eq!(m.app().appid, "wx8888888888888888");
    assert_eq!(m.app().name, "配置号");
    assert_eq!(m.users().len(), 2);
    assert_eq!(m.apps().len(), 2);
    assert_eq!(m.users_of(&"wx9999999999999999".into())[0].openid, "oJia");
    // With an explicit default app, the file only adds apps.
    let m = MockServer::builder()
        .app(MockApp::demo())
        .config_json(json)
        .unwrap()
        .start()
        .await;
    assert_eq!(m.app().appid, MockApp::demo().appid);
    assert_eq!(m.apps().len(), 3);
}

#[tokio::test]
async fn shutdown_closes_the_port() {
    let m = MockServer::start().await;
    let addr = m.address();
    m.shutdown().await;
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
    let m = MockServer::start().await;
    let addr = m.address();
    drop(m);
    // Dropping signals the server task; give it a moment to stop accepting.
    let mut closed = false;
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(addr).await.is_err() {
            closed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(closed);
}
