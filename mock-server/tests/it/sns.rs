//! `sns/oauth2/access_token`, `sns/oauth2/refresh_token`, `sns/userinfo`, `sns/auth`, and their
//! state machines under the mock clock.

use wechat_mock::{MockApp, MockServer};
use wechat_types::api::{Scope, SnsToken, SnsUserInfo};

use crate::support::{Mock, START, VIAS, Via};

#[tokio::test]
async fn the_whole_flow() {
    for via in VIAS {
        let m = Mock::start(via).await;
        let user = m.user(0);
        let code = m.code("snsapi_userinfo").await;
        let answer = m.exchange(&code).await;
        let token: SnsToken = serde_json::from_slice(&answer.body).unwrap();
        assert_eq!(
            answer.json().get("errcode"),
            None,
            "successes carry no errcode"
        );
        assert_eq!(token.expires_in, 7200);
        assert_eq!(token.openid, user.openid);
        assert_eq!(token.scope, "snsapi_userinfo");
        assert!(token.unionid.is_none(), "the demo app has no open platform");
        let access = token.access_token.expose_secret();

        let info = m
            .get(&format!(
                "/sns/userinfo?access_token={access}&openid={}&lang=zh_CN",
                user.openid
            ))
            .await;
        let info: SnsUserInfo = serde_json::from_slice(&info.body).unwrap();
        assert_eq!(info.nickname, user.nickname);
        assert_eq!(info.city, user.city);
        assert_eq!(info.headimgurl, m.server.avatar_url(&user.openid));
        assert!(info.privilege.is_empty());

        // The avatar is served.
        let path = info.headimgurl.strip_prefix(&m.server.base_url()).unwrap();
        let avatar = m.get(path).await;
        assert_eq!(avatar.status, 200);
        assert_eq!(
            avatar.header("content-type").as_deref(),
            Some("image/svg+xml")
        );
        assert!(avatar.text().starts_with("<svg"));
        assert_eq!(m.get("/mock/avatar/oNobody.svg").await.status, 404);

        let auth = m
            .get(&format!(
                "/sns/auth?access_token={access}&openid={}",
                user.openid
            ))
            .await;
        assert_eq!(auth.json(), serde_json::json!({"errcode":0,"errmsg":"ok"}));

        let refreshed = m
            .get(&format!(
                "/sns/oauth2/refresh_token?appid={}&grant_type=refresh_token&refresh_token={}",
                m.app().appid,
                token.refresh_token.expose_secret()
            ))
            .await;
        let refreshed: SnsToken = serde_json::from_slice(&refreshed.body).unwrap();
        assert_eq!(refreshed.access_token, token.access_token);
        assert_eq!(refreshed.refresh_token, token.refresh_token);

        // Single use.
        assert_eq!(m.exchange(&code).await.errcode(), 40163);
    }
}

#[tokio::test]
async fn code_exchange_errors() {
    for via in VIAS {
        let m = Mock::start(via).await;
        let app = m.app();
        let secret = app.secret.expose_secret();
        let code = m.code("snsapi_base").await;
        let cases = [
            (
                format!("secret={secret}&code={code}&grant_type=authorization_code"),
                41002,
            ),
            (
                format!("appid=wxnope&secret={secret}&code={code}&grant_type=authorization_code"),
                40013,
            ),
            (
                format!(
                    "appid={}&code={code}&grant_type=authorization_code",
                    app.appid
                ),
                41004,
            ),
            (
                format!(
                    "appid={}&secret=wrong&code={code}&grant_type=authorization_code",
                    app.appid
                ),
                40125,
            ),
            (
                format!(
                    "appid={}&secret={secret}&grant_type=authorization_code",
                    app.appid
                ),
                41008,
            ),
            (
                format!(
                    "appid={}&secret={secret}&code=&grant_type=authorization_code",
                    app.appid
                ),
                41008,
            ),
            (
                format!(
                    "appid={}&secret={secret}&code={code}&grant_type=client_credential",
                    app.appid
                ),
                40002,
            ),
            (
                format!(
                    "appid={}&secret={secret}&code=nosuchcode&grant_type=authorization_code",
                    app.appid
                ),
                40029,
            ),
        ];
        for (query, errcode) in cases {
            let answer = m.get(&format!("/sns/oauth2/access_token?{query}")).await;
            assert_eq!(answer.errcode(), errcode, "{query}: {}", answer.text());
            let errmsg = answer.errmsg();
            assert!(errmsg.contains(" rid: "), "{errmsg}");
        }
        // None of those failures spent the code.
        assert_eq!(m.exchange(&code).await.errcode(), 0);
        let answer = m.exchange(&code).await;
        assert_eq!(answer.errcode(), 40163);
        assert!(
            answer.errmsg().starts_with("code been used rid: "),
            "{}",
            answer.errmsg()
        );
    }
}

#[tokio::test]
async fn codes_expire_after_five_minutes() {
    for via in VIAS {
        let m = Mock::start(via).await;
        let fresh = m.code("snsapi_base").await;
        let stale = m.code("snsapi_base").await;
        m.server.advance_clock(299);
        assert_eq!(m.exchange(&fresh).await.errcode(), 0);
        m.server.advance_clock(1);
        assert_eq!(m.exchange(&stale).await.errcode(), 42003);
        // A used code is remembered as used, an expired one as expired, for a while; then both
        // are forgotten like codes that never existed.
        assert_eq!(m.exchange(&fresh).await.errcode(), 40163);
        m.server.advance_clock(600);
        assert_eq!(m.exchange(&fresh).await.errcode(), 40029);
        assert_eq!(m.exchange(&stale).await.errcode(), 40029);
    }
}

#[tokio::test]
async fn a_code_belongs_to_its_app() {
    let other = MockApp::new("wx2222222222222222", "secret2");
    let m = Mock::with(
        Via::InProcess,
        MockServer::builder()
            .add_app(other.clone())
            .frozen_clock(START),
    )
    .await;
    let code = m.code("snsapi_base").await;
    let answer = m
        .get(&format!(
            "/sns/oauth2/access_token?appid={}&secret=secret2&code={code}&grant_type=authorization_code",
            other.appid
        ))
        .await;
    assert_eq!(answer.errcode(), 40029);
    assert!(answer.errmsg().contains("another appid"));
    assert_eq!(m.exchange(&code).await.errcode(), 0);
}

#[tokio::test]
async fn userinfo_and_auth_errors() {
    for via in VIAS {
        let m = Mock::start(via).await;
        let me = m.user(0).openid;
        let other = m.user(1).openid;
        let full = m.sns_token("snsapi_userinfo").await;
        let full = full["access_token"].as_str().unwrap().to_owned();
        let base = m.sns_token("snsapi_base").await;
        let base = base["access_token"].as_str().unwrap().to_owned();
        let api_token = m.token().await;
        let cases = [
            (format!("openid={me}"), 41001, 41001),
            (format!("access_token={full}"), 41009, 41009),
            (format!("access_token=short&openid={me}"), 40014, 40014),
            (
                format!("access_token={}&openid={me}", "x".repeat(96)),
                40001,
                40001,
            ),
            (
                format!("access_token={api_token}&openid={me}"),
                40001,
                40001,
            ),
            (format!("access_token={full}&openid={other}"), 40003, 40003),
            (format!("access_token={base}&openid={me}"), 48001, 0),
        ];
        for (query, userinfo_code, auth_code) in cases {
            let answer = m.get(&format!("/sns/userinfo?{query}")).await;
            assert_eq!(
                answer.errcode(),
                userinfo_code,
                "userinfo {query}: {}",
                answer.text()
            );
            let answer = m.get(&format!("/sns/auth?{query}")).await;
            assert_eq!(
                answer.errcode(),
                auth_code,
                "auth {query}: {}",
                answer.text()
            );
        }
        let answer = m
            .get(&format!("/sns/auth?access_token={full}&openid={other}"))
            .await;
        assert_eq!(
            answer.json()["errmsg"]
                .as_str()
                .unwrap()
                .split(" rid:")
                .next(),
            Some("invalid openid")
        );

        m.server.advance_clock(7199);
        let ok = m
            .get(&format!("/sns/userinfo?access_token={full}&openid={me}"))
            .await;
        assert_eq!(ok.errcode(), 0);
        m.server.advance_clock(1);
        for path in ["/sns/userinfo", "/sns/auth"] {
            let answer = m
                .get(&format!("{path}?access_token={full}&openid={me}"))
                .await;
            assert_eq!(answer.errcode(), 42001, "{path}");
        }
    }
}

#[tokio::test]
async fn userinfo_speaks_the_asked_language() {
    let m = Mock::start(Via::InProcess).await;
    let me = m.user(0);
    let token = m.sns_token("snsapi_userinfo").await;
    let token = token["access_token"].as_str().unwrap();
    let en = m
        .get(&format!(
            "/sns/userinfo?access_token={token}&openid={}&lang=en",
            me.openid
        ))
        .await
        .json();
    assert_eq!(en["country"], "China");
    assert!(en["city"].as_str().unwrap().is_ascii(), "{en}");
    let tw = m
        .get(&format!(
            "/sns/userinfo?access_token={token}&openid={}&lang=zh_TW",
            me.openid
        ))
        .await
        .json();
    assert_eq!(tw["country"], "中國");
}

#[tokio::test]
async fn refresh_renews_live_tokens_replaces_dead_ones_and_expires_in_30_days() {
    for via in VIAS {
        let m = Mock::start(via).await;
        let me = m.user(0).openid;
        let token = m.sns_token("snsapi_userinfo").await;
        let access = token["access_token"].as_str().unwrap().to_owned();
        let refresh = token["refresh_token"].as_str().unwrap().to_owned();
        let refresh_url = format!(
            "/sns/oauth2/refresh_token?appid={}&grant_type=refresh_token&refresh_token={refresh}",
            m.app().appid
        );
        let userinfo = |t: &str| format!("/sns/userinfo?access_token={t}&openid={me}");

        // Live: the same token, with a renewed expiry that outlives the original one.
        m.server.advance_clock(7000);
        let renewed = m.get(&refresh_url).await.json();
        assert_eq!(renewed["access_token"], access.as_str());
        assert_eq!(renewed["expires_in"], 7200);
        assert_eq!(renewed["scope"], "snsapi_userinfo");
        m.server.advance_clock(1000);
        assert_eq!(m.get(&userinfo(&access)).await.errcode(), 0);

        // Dead: a new access token; the refresh token stays the same.
        m.server.advance_clock(7200);
        assert_eq!(m.get(&userinfo(&access)).await.errcode(), 42001);
        let replaced = m.get(&refresh_url).await.json();
        let new_access = replaced["access_token"].as_str().unwrap().to_owned();
        assert_ne!(new_access, access);
        assert_eq!(replaced["refresh_token"], refresh.as_str());
        assert_eq!(m.get(&userinfo(&new_access)).await.errcode(), 0);

        // 30 days after the grant the refresh token is dead and cannot be extended.
        let elapsed = 7000 + 1000 + 7200;
        m.server.advance_clock(30 * 86_400 - elapsed - 1);
        assert_eq!(m.get(&refresh_url).await.errcode(), 0);
        m.server.advance_clock(1);
        assert_eq!(m.get(&refresh_url).await.errcode(), 42002);
        // A day later it is forgotten.
        m.server.advance_clock(86_400);
        assert_eq!(m.get(&refresh_url).await.errcode(), 40030);
    }
}

#[tokio::test]
async fn refresh_errors() {
    for via in VIAS {
        let m = Mock::with(
            via,
            MockServer::builder()
                .add_app(MockApp::new("wx3333333333333333", "s3"))
                .frozen_clock(START),
        )
        .await;
        let token = m.sns_token("snsapi_base").await;
        let refresh = token["refresh_token"].as_str().unwrap();
        let appid = m.app().appid;
        let cases = [
            (
                format!("grant_type=refresh_token&refresh_token={refresh}"),
                41002,
            ),
            (
                format!("appid=wxnope&grant_type=refresh_token&refresh_token={refresh}"),
                40013,
            ),
            (
                format!("appid={appid}&grant_type=authorization_code&refresh_token={refresh}"),
                40002,
            ),
            (format!("appid={appid}&grant_type=refresh_token"), 41003),
            (
                format!("appid={appid}&grant_type=refresh_token&refresh_token=nope"),
                40030,
            ),
            (
                format!(
                    "appid=wx3333333333333333&grant_type=refresh_token&refresh_token={refresh}"
                ),
                40030,
            ),
        ];
        for (query, errcode) in cases {
            let answer = m.get(&format!("/sns/oauth2/refresh_token?{query}")).await;
            assert_eq!(answer.errcode(), errcode, "{query}");
        }
    }
}

#[tokio::test]
async fn unionid_when_the_app_is_bound_to_an_open_platform() {
    for via in VIAS {
        let m = Mock::with(
            via,
            MockServer::builder()
                .app(MockApp::demo().with_unionid(true))
                .frozen_clock(START),
        )
        .await;
        let me = m.user(0);
        let unionid = me.unionid.clone().expect("generated users have one");
        let token = m.sns_token("snsapi_userinfo").await;
        assert_eq!(token["unionid"], unionid.as_str());
        let info = m
            .get(&format!(
                "/sns/userinfo?access_token={}&openid={}",
                token["access_token"].as_str().unwrap(),
                me.openid
            ))
            .await
            .json();
        assert_eq!(info["unionid"], unionid.as_str());
        // snsapi_base grants carry no unionid.
        let token = m.sns_token("snsapi_base").await;
        assert!(token.get("unionid").is_none(), "{token}");
    }
}

#[tokio::test]
async fn library_codes_work_like_page_codes() {
    let m = Mock::start(Via::InProcess).await;
    let me = m.user(3).openid;
    let code = m.server.oauth_code(&me, Scope::UserInfo).unwrap();
    let token = m.exchange(code.expose_secret()).await.json();
    assert_eq!(token["openid"], me.as_str());
    assert!(
        m.server
            .oauth_code(&"oNobody".into(), Scope::Base)
            .is_none()
    );
}
