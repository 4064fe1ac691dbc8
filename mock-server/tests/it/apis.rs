//! `ticket/getticket`, `user/info`, `message/custom/send`, and what every API shares: token
//! errors, unknown paths, bodies.

use http::Method;
use serde_json::json;
use wechat_mock::{MockApp, MockServer, MockUser, UserAction};
use wechat_types::api::{CustomMessage, TicketResponse, UserInfo};

use crate::support::{Mock, START, VIAS, Via};

/// Every `cgi-bin` API that takes an access_token, with a method that reaches it.
const TOKEN_APIS: &[(&str, &str)] = &[
    ("GET", "/cgi-bin/menu/get"),
    ("POST", "/cgi-bin/menu/create"),
    ("GET", "/cgi-bin/menu/delete"),
    ("POST", "/cgi-bin/menu/addconditional"),
    ("POST", "/cgi-bin/menu/delconditional"),
    ("POST", "/cgi-bin/menu/trymatch"),
    ("GET", "/cgi-bin/ticket/getticket"),
    ("GET", "/cgi-bin/user/info"),
    ("POST", "/cgi-bin/message/custom/send"),
];

#[tokio::test]
async fn every_api_checks_its_access_token() {
    for via in VIAS {
        let m = Mock::start(via).await;
        let token = m.token().await;
        let sns = m.sns_token("snsapi_base").await;
        let sns = sns["access_token"].as_str().unwrap().to_owned();
        let unknown = "A".repeat(136);
        for (method, path) in TOKEN_APIS {
            let method: Method = method.parse().unwrap();
            let call = |query: String| {
                let m = &m;
                let method = method.clone();
                async move {
                    m.request(method, &format!("{path}{query}"), &[], "{}")
                        .await
                }
            };
            assert_eq!(call(String::new()).await.errcode(), 41001, "{path}");
            assert_eq!(
                call("?access_token=".into()).await.errcode(),
                41001,
                "{path}"
            );
            assert_eq!(
                call("?access_token=a%20b".into()).await.errcode(),
                40014,
                "{path}"
            );
            assert_eq!(
                call(format!("?access_token={unknown}")).await.errcode(),
                40001,
                "{path}"
            );
            let answer = call(format!("?access_token={sns}")).await;
            assert_eq!(answer.errcode(), 40001, "{path}");
            assert!(
                answer.errmsg().contains("web-authorization"),
                "{}",
                answer.errmsg()
            );
            let valid = call(format!("?access_token={token}")).await.errcode();
            assert!(
                ![41001, 40014, 40001, 42001].contains(&valid),
                "{path}: {valid}"
            );
        }
        m.server.advance_clock(7200);
        for (method, path) in TOKEN_APIS {
            let answer = m
                .request(
                    method.parse().unwrap(),
                    &format!("{path}?access_token={token}"),
                    &[],
                    "{}",
                )
                .await;
            assert_eq!(answer.errcode(), 42001, "{path}");
            assert!(answer.errmsg().starts_with("access_token expired rid: "));
        }
    }
}

#[tokio::test]
async fn unknown_paths_answer_an_errcode_not_a_404() {
    for via in VIAS {
        let m = Mock::start(via).await;
        for path in ["/cgi-bin/nope", "/nope", "/sns/oauth2/nope?x=1"] {
            let answer = m.get(path).await;
            assert_eq!(answer.errcode(), 48001, "{path}");
            assert!(answer.errmsg().contains("wechat-mock has no API at"));
        }
        let answer = m.post("/cgi-bin/nope", "{}").await;
        assert_eq!(answer.errcode(), 48001);
    }
}

#[tokio::test]
async fn oversized_bodies_are_refused_with_47001() {
    for via in VIAS {
        let m = Mock::start(via).await;
        let token = m.token().await;
        let huge = vec![b' '; 1024 * 1024 + 1];
        let answer = m
            .post(&format!("/cgi-bin/menu/create?access_token={token}"), huge)
            .await;
        assert_eq!(answer.errcode(), 47001);
        assert!(answer.errmsg().contains("larger than"));
        // The server is still fine.
        assert_eq!(m.token().await.len(), 136);
    }
}

#[tokio::test]
async fn absolute_uris_work_in_process() {
    let m = Mock::start(Via::InProcess).await;
    let app = m.app();
    let uri = format!(
        "{}/cgi-bin/token?grant_type=client_credential&appid={}&secret={}",
        m.server.base_url(),
        app.appid,
        app.secret.expose_secret()
    );
    let answer = m.get(&uri).await;
    assert_eq!(answer.errcode(), 0);
}

#[tokio::test]
async fn jsapi_tickets() {
    for via in VIAS {
        let m = Mock::start(via).await;
        let token = m.token().await;
        let url =
            |kind: &str| format!("/cgi-bin/ticket/getticket?access_token={token}&type={kind}");
        let answer = m.get(&url("jsapi")).await;
        let body = answer.json();
        assert_eq!(body["errcode"], 0);
        assert_eq!(body["errmsg"], "ok");
        let ticket: TicketResponse = serde_json::from_value(body).unwrap();
        assert_eq!(ticket.expires_in, 7200);
        m.server.advance_clock(200);
        let again: TicketResponse =
            serde_json::from_value(m.get(&url("jsapi")).await.json()).unwrap();
        assert_eq!(again.ticket, ticket.ticket);
        assert_eq!(again.expires_in, 7000);
        let card: TicketResponse =
            serde_json::from_value(m.get(&url("wx_card")).await.json()).unwrap();
        assert_ne!(card.ticket, ticket.ticket);
        assert_eq!(m.get(&url("other")).await.errcode(), 40097);
        assert_eq!(
            m.get(&format!("/cgi-bin/ticket/getticket?access_token={token}"))
                .await
                .errcode(),
            40097
        );
        m.server.advance_clock(7000);
        let token = m.token().await;
        let fresh: TicketResponse = serde_json::from_value(
            m.get(&format!(
                "/cgi-bin/ticket/getticket?access_token={token}&type=jsapi"
            ))
            .await
            .json(),
        )
        .unwrap();
        assert_ne!(fresh.ticket, ticket.ticket);
    }
}

#[tokio::test]
async fn user_info() {
    for via in VIAS {
        let ghost = MockUser::new("取关的人")
            .with_openid("oGone")
            .unsubscribed();
        let m = Mock::with(
            via,
            MockServer::builder()
                .app(MockApp::demo().with_unionid(true))
                .user(ghost)
                .frozen_clock(START),
        )
        .await;
        let token = m.token().await;
        let me = m.user(1);
        let answer = m
            .get(&format!(
                "/cgi-bin/user/info?access_token={token}&openid={}&lang=zh_CN",
                me.openid
            ))
            .await;
        let info: UserInfo = serde_json::from_slice(&answer.body).unwrap();
        assert_eq!(info.subscribe, 1);
        assert_eq!(info.openid, me.openid);
        assert_eq!(info.subscribe_time, Some(START));
        assert_eq!(info.unionid, me.unionid);
        assert_eq!(info.language.as_deref(), Some("zh_CN"));
        assert!(info.nickname.is_none(), "no nickname since 2021");

        let gone = m
            .get(&format!(
                "/cgi-bin/user/info?access_token={token}&openid=oGone"
            ))
            .await
            .json();
        assert_eq!(gone, json!({"subscribe": 0, "openid": "oGone"}));
        assert_eq!(
            m.get(&format!(
                "/cgi-bin/user/info?access_token={token}&openid=oNobody"
            ))
            .await
            .errcode(),
            40003
        );
        assert_eq!(
            m.get(&format!("/cgi-bin/user/info?access_token={token}"))
                .await
                .errcode(),
            41009
        );

        assert!(m.server.set_subscribed(&"oGone".into(), true));
        let back = m
            .get(&format!(
                "/cgi-bin/user/info?access_token={token}&openid=oGone"
            ))
            .await
            .json();
        assert_eq!(back["subscribe"], 1);
        assert!(!m.server.set_subscribed(&"oNobody".into(), true));
    }
}

#[tokio::test]
async fn custom_messages_are_recorded_within_the_window() {
    for via in VIAS {
        let m = Mock::start(via).await;
        let token = m.token().await;
        let url = format!("/cgi-bin/message/custom/send?access_token={token}");
        let me = m.user(0).openid;
        let text =
            |content: &str| serde_json::to_value(CustomMessage::text(me.clone(), content)).unwrap();

        let answer = m.post_json(&url, &text("你好")).await;
        assert_eq!(answer.json(), json!({"errcode":0,"errmsg":"ok"}));
        let sent = m.server.custom_messages();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].touser, me);
        assert_eq!(sent[0].appid, m.app().appid);
        assert_eq!(sent[0].message, CustomMessage::text(me.clone(), "你好"));
        assert_eq!(sent[0].sent_at, START);

        // 5 per window.
        for i in 1..5 {
            assert_eq!(m.post_json(&url, &text(&format!("{i}"))).await.errcode(), 0);
        }
        let answer = m.post_json(&url, &text("six")).await;
        assert_eq!(answer.errcode(), 45047);
        assert!(answer.errmsg().starts_with("out of response count limit"));
        assert_eq!(m.server.custom_messages_to(&me).len(), 5);
        assert!(m.server.custom_messages_to(&m.user(1).openid).is_empty());

        // A user message reopens it.
        assert!(m.server.record_interaction(&me));
        assert_eq!(m.post_json(&url, &text("again")).await.errcode(), 0);

        // 48 hours after the last interaction the window is closed.
        m.server.advance_clock(48 * 3600);
        let token = m.token().await;
        let url = format!("/cgi-bin/message/custom/send?access_token={token}");
        let answer = m.post_json(&url, &text("late")).await;
        assert_eq!(answer.errcode(), 45015);
        assert!(
            answer
                .errmsg()
                .starts_with("response out of time limit or subscription is canceled")
        );
        // Over the admin API too.
        let answer = m
            .post_json("/mock/interaction", &json!({"openid": me}))
            .await;
        assert_eq!(answer.errcode(), 0);
        assert_eq!(m.post_json(&url, &text("back")).await.errcode(), 0);
        assert!(!m.server.record_interaction(&"oNobody".into()));
    }
}

#[tokio::test]
async fn a_click_follow_or_scan_opens_a_minute_for_three_messages() {
    for via in VIAS {
        let m = Mock::start(via).await;
        let me = m.user(0).openid;
        let text =
            |content: &str| serde_json::to_value(CustomMessage::text(me.clone(), content)).unwrap();
        // Past the 48 hours the new user starts with: no window is open.
        m.server.advance_clock(48 * 3600);
        let send = |content: &'static str| {
            let m = &m;
            let text = &text;
            async move {
                let token = m.token().await;
                let url = format!("/cgi-bin/message/custom/send?access_token={token}");
                m.post_json(&url, &text(content)).await.errcode()
            }
        };
        assert_eq!(send("closed").await, 45015);

        for opens in [
            UserAction::click("V1001_HELLO"),
            UserAction::subscribe(Some("promo")),
            UserAction::scan("promo"),
            UserAction::scancode_push("SCAN", "https://example.com"),
        ] {
            // Pushed with no callback URL set: the push fails, the interaction still counts.
            m.server.push(&me, opens.clone()).await;
            for _ in 0..3 {
                assert_eq!(send("within the minute").await, 0, "{opens:?}");
            }
            assert_eq!(send("a fourth").await, 45047, "{opens:?}");
            // A minute later the window is over.
            m.server.advance_clock(60);
            assert_eq!(send("too late").await, 45015, "{opens:?}");
        }

        // Reports the client sends on its own and link-opening menus open nothing.
        for opens_nothing in [
            UserAction::report_location(23.1, 113.3, 30.0),
            UserAction::view("https://example.com/menu"),
        ] {
            m.server.push(&me, opens_nothing.clone()).await;
            assert_eq!(send("nobody asked").await, 45015, "{opens_nothing:?}");
        }

        // A message opens the 48 hours for 5; a click inside them adds its own 3, spent first.
        m.server.push(&me, UserAction::text("hi")).await;
        m.server.push(&me, UserAction::click("V1001_HELLO")).await;
        for _ in 0..8 {
            assert_eq!(send("3 + 5").await, 0);
        }
        assert_eq!(send("a ninth").await, 45047);
        let users = m.get("/mock/users").await.json();
        assert_eq!(users[0]["sent_in_event_window"], 3);
        assert_eq!(users[0]["sent_in_window"], 5);
        assert_eq!(users[0]["service_window_open"], false);
    }
}

#[tokio::test]
async fn custom_send_errors() {
    for via in VIAS {
        let ghost = MockUser::new("取关").with_openid("oGhost").unsubscribed();
        let m = Mock::with(via, MockServer::builder().user(ghost).frozen_clock(START)).await;
        let token = m.token().await;
        let url = format!("/cgi-bin/message/custom/send?access_token={token}");
        let me = m.user(1).openid;
        let cases = [
            (
                json!({"touser":"oGhost","msgtype":"text","text":{"content":"x"}}),
                45015,
            ),
            (
                json!({"touser":"oNobody","msgtype":"text","text":{"content":"x"}}),
                40003,
            ),
            (
                json!({"touser":me,"msgtype":"telepathy","telepathy":{}}),
                40008,
            ),
            (json!({"touser":me,"text":{"content":"x"}}), 40008),
            (json!({"touser":me,"msgtype":"text"}), 47001),
            (
                json!({"touser":me,"msgtype":"image","image":{"media_id":"M"}}),
                0,
            ),
            (
                json!({"touser":me,"msgtype":"news","news":{"articles":[{"title":"t","url":"https://x"}]}}),
                0,
            ),
        ];
        for (body, errcode) in cases {
            assert_eq!(m.post_json(&url, &body).await.errcode(), errcode, "{body}");
        }
        assert_eq!(m.post(&url, "{oops").await.errcode(), 47001);
        let escaped =
            format!(r#"{{"touser":"{me}","msgtype":"text","text":{{"content":"\u4f60\u597d"}}}}"#);
        assert_eq!(m.post(&url, escaped).await.errcode(), 40033);
        assert_eq!(m.get(&url).await.errcode(), 43002);
        assert_eq!(m.server.custom_messages().len(), 2);
    }
}
