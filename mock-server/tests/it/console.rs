//! The console at `/` and the admin routes it drives: callback, push, conversation, menu,
//! deliveries, and the fake JS-SDK's signature check.

use serde_json::{Value, json};
use wechat_mock::{CallbackMode, Fault, MockServer, UserAction};
use wechat_types::JsapiTicket;
use wechat_types::xml::{Message, MessageBody, Reply};

use crate::callback::{Answer, Callback};
use crate::support::{Mock, START, VIAS, Via};

fn echo(_: usize, message: &Message) -> Answer {
    match &message.body {
        MessageBody::Text { content, .. } if content == "news" => {
            Answer::Reply(Reply::news(vec![wechat_types::xml::Article {
                title: "标题".into(),
                description: "描述".into(),
                pic_url: "http://127.0.0.1/p.png".into(),
                url: "http://127.0.0.1/a".into(),
            }]))
        }
        MessageBody::Text { content, .. } => Answer::Reply(Reply::text(format!("echo: {content}"))),
        _ => Answer::Raw(200, "success".into()),
    }
}

#[tokio::test]
async fn the_admin_api_configures_the_callback_and_pushes() {
    for via in VIAS {
        let m = Mock::start(via).await;
        let callback = Callback::start(&m.app(), echo).await;
        let openid = m.user(0).openid.to_string();

        let ok = m
            .post_json(
                "/mock/callback",
                &json!({"url": callback.url, "mode": "safe"}),
            )
            .await
            .json();
        assert_eq!(ok, json!({"ok": true, "url": callback.url, "mode": "safe"}));
        assert_eq!(m.app().callback_mode, CallbackMode::Safe);
        let apps = m.get("/mock/apps").await.json();
        assert_eq!(apps[0]["callback_mode"], "safe");

        let refused = m
            .post_json(
                "/mock/callback",
                &json!({"url": "https://example.com/wechat", "mode": "compat"}),
            )
            .await
            .json();
        assert_eq!(refused["ok"], false);
        assert!(
            refused["problem"]
                .as_str()
                .unwrap()
                .contains("not plain http")
        );
        assert_eq!(m.app().callback_mode, CallbackMode::Safe, "unchanged");
        let bad_mode = m
            .post_json(
                "/mock/callback",
                &json!({"url": callback.url, "mode": "loud"}),
            )
            .await;
        assert_eq!(bad_mode.status, 400);

        let pushed = m
            .post_json(
                "/mock/push",
                &json!({"openid": openid, "action": {"type": "text", "content": "hi"}}),
            )
            .await;
        assert_eq!(pushed.status, 200);
        let cookie = pushed.header("set-cookie").unwrap();
        assert!(cookie.starts_with(&format!("wechat_mock_user_{}={openid};", m.app().appid)));
        let outcome = pushed.json();
        assert_eq!(outcome["ok"], true);
        assert_eq!(outcome["attempts"], 1);
        assert_eq!(outcome["problem"], Value::Null);
        assert_eq!(outcome["reply"]["kind"], "message");
        assert_eq!(outcome["reply"]["msgtype"], "text");
        assert_eq!(outcome["reply"]["content"], "echo: hi");
        assert!(outcome["msg_id"].as_str().unwrap().parse::<u64>().is_ok());

        let news = m
            .post_json(
                "/mock/push",
                &json!({"openid": openid, "action": {"type": "text", "content": "news"}}),
            )
            .await
            .json();
        assert_eq!(news["reply"]["articles"][0]["title"], "标题");
        let click = m
            .post_json(
                "/mock/push",
                &json!({"openid": openid, "action": {"type": "click", "key": "K1"}}),
            )
            .await
            .json();
        assert_eq!(click["reply"]["kind"], "success");

        let entries = m.get(&format!("/mock/conversation/{openid}")).await.json();
        let kinds: Vec<&str> = entries
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["kind"].as_str().unwrap())
            .collect();
        assert_eq!(kinds, ["user", "reply", "user", "reply", "user"]);
        assert_eq!(entries[0]["content"], "hi");
        assert_eq!(entries[0]["at"], START);
        assert_eq!(entries[4]["event"], "CLICK");
        assert_eq!(entries[4]["key"], "K1");
        let after = entries[3]["seq"].as_u64().unwrap();
        let newer = m
            .get(&format!("/mock/conversation/{openid}?after={after}"))
            .await
            .json();
        assert_eq!(newer.as_array().unwrap().len(), 1);

        let deliveries = m.get("/mock/deliveries").await.json();
        let list = deliveries.as_array().unwrap();
        assert_eq!(
            list.len(),
            4,
            "the handshake and three pushes: {deliveries}"
        );
        assert_eq!(list[0]["method"], "GET");
        assert_eq!(list[1]["status"], 200);
        assert_eq!(list[1]["path"], "/wechat");
        assert_eq!(list[1]["openid"], openid.as_str());

        // Bad requests are refused with a 4xx.
        for (body, status) in [
            (
                json!({"openid": "oNobody", "action": {"type": "text", "content": "x"}}),
                404,
            ),
            (json!({"openid": openid, "action": {"type": "dance"}}), 400),
            (
                json!({"openid": openid, "action": {"type": "text", "content": ""}}),
                400,
            ),
            (json!({"openid": openid}), 400),
        ] {
            assert_eq!(
                m.post_json("/mock/push", &body).await.status,
                status,
                "{body}"
            );
        }
        assert_eq!(m.get("/mock/push").await.status, 405);
        assert_eq!(m.get("/mock/conversation/oNobody").await.status, 404);
    }
}

#[tokio::test]
async fn custom_service_messages_show_in_the_conversation_json() {
    let m = Mock::start(Via::InProcess).await;
    let token = m.token().await;
    let openid = m.user(1).openid.to_string();
    let sent = m
        .post_json(
            &format!("/cgi-bin/message/custom/send?access_token={token}"),
            &json!({"touser": openid, "msgtype": "news", "news": {"articles": [
                {"title": "T", "description": "D", "url": "http://a", "picurl": "http://p"}
            ]}}),
        )
        .await;
    assert_eq!(sent.errcode(), 0);
    let entries = m.get(&format!("/mock/conversation/{openid}")).await.json();
    assert_eq!(entries[0]["kind"], "custom");
    assert_eq!(entries[0]["msgtype"], "news");
    assert_eq!(entries[0]["articles"][0]["pic_url"], "http://p");
    assert_eq!(m.server.stats().conversation_entries, 1);
}

#[tokio::test]
async fn the_menu_route_answers_what_each_user_sees() {
    let m = Mock::start(Via::Loopback).await;
    let openid = m.user(0).openid.to_string();
    assert_eq!(
        m.get("/mock/menu").await.json(),
        json!({"button": [], "menuid": null})
    );
    let token = m.token().await;
    let created = m
        .post_json(
            &format!("/cgi-bin/menu/create?access_token={token}"),
            &json!({"button": [
                {"type": "click", "name": "你好", "key": "HELLO"},
                {"name": "更多", "sub_button": [{"type": "view", "name": "主页", "url": "http://a/"}]}
            ]}),
        )
        .await;
    assert_eq!(created.errcode(), 0);
    let menu = m.get(&format!("/mock/menu?openid={openid}")).await.json();
    assert_eq!(menu["button"][0]["key"], "HELLO");
    assert_eq!(menu["button"][1]["sub_button"][0]["url"], "http://a/");

    // A conditional menu for the user's city replaces the default for them only.
    let city = m.user(0).city;
    let added = m
        .post_json(
            &format!("/cgi-bin/menu/addconditional?access_token={token}"),
            &json!({"button": [{"type": "click", "name": "本地", "key": "LOCAL"}],
                    "matchrule": {"city": city}}),
        )
        .await;
    assert!(added.json()["menuid"].is_string(), "{}", added.text());
    let mine = m.get(&format!("/mock/menu?openid={openid}")).await.json();
    assert_eq!(mine["button"][0]["key"], "LOCAL");
    let default = m
        .get(&format!("/mock/menu?appid={}", m.app().appid))
        .await
        .json();
    assert_eq!(default["button"][0]["key"], "HELLO");
}

#[tokio::test]
async fn the_console_is_served_with_the_hooks_the_browser_test_uses() {
    for via in VIAS {
        let m = Mock::start(via).await;
        let token = m.token().await;
        m.post_json(
            &format!("/cgi-bin/menu/create?access_token={token}"),
            &json!({"button": [
                {"type": "view", "name": "我的资料", "url": "http://127.0.0.1:9/profile?a=1&b=2"},
                {"type": "click", "name": "你好", "key": "HELLO"},
                {"name": "更多", "sub_button": [{"type": "click", "name": "关于", "key": "ABOUT"}]}
            ]}),
        )
        .await;
        let page = m
            .get_with(
                "/",
                &[("accept", "text/html,application/xhtml+xml,*/*;q=0.8")],
            )
            .await;
        assert_eq!(page.status, 200);
        assert!(
            page.header("content-type")
                .unwrap()
                .starts_with("text/html")
        );
        let html = page.text();
        for hook in [
            "<select id=\"user\">",
            "<input id=\"text\"",
            "<button type=\"button\" id=\"send\"",
            "id=\"subscribe\"",
            "id=\"unsubscribe\"",
            "id=\"chat\"",
            "class=\"menu-button\" data-type=\"click\" data-key=\"HELLO\"",
            "class=\"menu-button\" data-type=\"view\" data-url=\"http://127.0.0.1:9/profile?a=1&amp;b=2\"",
            "class=\"menu-item\" data-type=\"click\" data-key=\"ABOUT\"",
            "id=\"callback-form\"",
            "id=\"requests\"",
        ] {
            assert!(html.contains(hook), "{hook} missing");
        }
        // The credentials and every user are on the page.
        let app = m.app();
        for text in [
            app.appid.as_str(),
            app.secret.expose_secret(),
            app.token.expose_secret(),
            app.aes_key.expose_secret(),
            app.account_id.as_str(),
        ] {
            assert!(html.contains(text), "{text} missing");
        }
        for user in m.server.users() {
            assert!(html.contains(&format!("<option value=\"{}\">", user.openid)));
        }
        // Self-contained: nothing from another host.
        assert!(!html.contains("src=\"http") && !html.contains("href=\"http"));
        assert!(!html.contains("<link rel=\"stylesheet\""));

        let overview = m
            .get_with("/", &[("accept", "application/json")])
            .await
            .json();
        assert_eq!(overview["apps"][0]["appid"], app.appid.as_str());
        assert_eq!(overview["apps"][0]["users"].as_array().unwrap().len(), 5);
    }
}

#[tokio::test]
async fn console_polls_stay_out_of_the_request_log() {
    let m = Mock::start(Via::InProcess).await;
    let openid = m.user(0).openid.to_string();
    let quiet = [("x-wechat-mock-quiet", "1")];
    m.get_with(&format!("/mock/conversation/{openid}"), &quiet)
        .await;
    m.get_with("/mock/requests", &quiet).await;
    assert!(m.server.requests().is_empty());
    m.get(&format!("/mock/conversation/{openid}")).await;
    assert_eq!(m.server.requests().len(), 1);
}

#[tokio::test]
async fn the_favicon_is_an_svg_that_stays_out_of_the_request_log() {
    for via in VIAS {
        let m = Mock::start(via).await;
        // Even a fault meant for "every call to this path" leaves the browser's icon alone.
        m.server.inject_fault("/favicon.ico", Fault::ErrCode(-1), 5);
        for _ in 0..2 {
            let icon = m.get("/favicon.ico").await;
            assert_eq!(icon.status, 200);
            assert_eq!(icon.header("content-type").unwrap(), "image/svg+xml");
            assert!(icon.header("cache-control").unwrap().contains("max-age"));
            let svg = icon.text();
            assert!(svg.starts_with("<svg ") && svg.ends_with("</svg>"), "{svg}");
        }
        assert!(m.server.requests().is_empty(), "{:?}", m.server.requests());
        assert_eq!(m.server.request_count("/favicon.ico"), 0);
        let logged = m.get("/mock/requests").await.json();
        assert!(
            !logged.to_string().contains("favicon"),
            "the console's API log shows the icon: {logged}"
        );

        // The console and the OAuth pages point the tab at it.
        let link = "<link rel=\"icon\" type=\"image/svg+xml\" href=\"/favicon.ico\">";
        assert!(m.get("/").await.text().contains(link));
        assert!(
            m.get_with(
                &m.authorize_url("snsapi_userinfo", "s"),
                &[("accept", "text/html")]
            )
            .await
            .text()
            .contains(link)
        );
    }
}

/// The console's stylesheet as `(selector, declarations)` pairs, one per selector of a list
/// (comments dropped, rules inside `@media` included).
fn css_rules(html: &str) -> Vec<(String, String)> {
    let start = html.find("<style>").expect("an inline stylesheet") + "<style>".len();
    let end = html[start..].find("</style>").expect("the stylesheet ends") + start;
    let mut css = String::new();
    let mut rest = &html[start..end];
    while let Some((before, comment)) = rest.split_once("/*") {
        css.push_str(before);
        rest = comment.split_once("*/").map_or("", |(_, after)| after);
    }
    css.push_str(rest);
    let mut rules = Vec::new();
    for block in css.split('}') {
        let Some((selectors, declarations)) = block.rsplit_once('{') else {
            continue;
        };
        let selectors = selectors.rsplit('{').next().unwrap_or(selectors);
        for selector in selectors.split(',') {
            rules.push((selector.trim().to_owned(), declarations.trim().to_owned()));
        }
    }
    rules
}

#[tokio::test]
async fn the_console_draws_news_titles_on_the_picture_and_hides_the_typing_line() {
    let m = Mock::start(Via::InProcess).await;
    let html = m.get("/").await.text();
    let rules = css_rules(&html);
    let declared = |selector: &str, declaration: &str| {
        rules
            .iter()
            .any(|(s, d)| s == selector && d.split(';').any(|d| d.trim() == declaration))
    };

    // A news card's title lies over the bottom of its picture: both in one grid cell of the
    // picture's box, never positioned against the whole card, where it would cover the
    // description below.
    assert!(declared(".news-card .cover", "display:grid"));
    assert!(declared(".news-card .cover>*", "grid-area:1/1"));
    assert!(declared(".news-card .cover .title", "align-self:end"));
    assert!(declared(".news-card .cover .title", "color:#fff"));
    for (selector, declarations) in &rules {
        if selector.contains("news-card") {
            assert!(
                !declarations.contains("position:"),
                "{selector} positions part of a news card out of the flow"
            );
        }
    }
    assert!(declared(".news-card .desc", "color:var(--muted)"));
    // The script builds that markup: the picture and title in `.cover`, the description after.
    for hook in [
        "el('div', 'cover')",
        "el('div', 'desc', a.description)",
        "'news-card '",
    ] {
        assert!(html.contains(hook), "{hook} missing from the script");
    }

    // "对方正在输入…" starts hidden, and `hidden` wins over the line's own `display:block`.
    assert!(html.contains("<span id=\"typing\" class=\"typing\" hidden>对方正在输入…</span>"));
    assert!(declared(".typing", "display:block"));
    assert!(declared(".typing[hidden]", "display:none"));
}

#[tokio::test]
async fn the_fake_jssdk_checks_signatures_against_the_current_ticket() {
    for via in VIAS {
        let m = Mock::start(via).await;
        let script = m.get("/open/js/jweixin-1.6.0.js").await;
        assert_eq!(script.status, 200);
        assert!(
            script
                .header("content-type")
                .unwrap()
                .contains("javascript")
        );
        assert!(script.text().contains("63002") || script.text().contains("invalid signature"));
        assert_eq!(m.get("/mock/jweixin.js").await.body, script.body);

        let appid = m.app().appid.to_string();
        let url = "http://127.0.0.1:8788/profile?x=1";
        let verify = |signature: &str| {
            let query = form_urlencoded::Serializer::new(String::new())
                .append_pair("appid", &appid)
                .append_pair("timestamp", "1700000000")
                .append_pair("noncestr", "Wm3WZYTPz0wzccnW")
                .append_pair("signature", signature)
                .append_pair("url", url)
                .finish();
            format!("/mock/jssdk/verify?{query}")
        };
        // No ticket issued yet: nothing can match.
        let early = m
            .get(&verify("0f9de62fce790f9a083d5c99e95740ceb90c27ed"))
            .await;
        assert_eq!(
            early.header("access-control-allow-origin").as_deref(),
            Some("*")
        );
        assert_eq!(early.json()["errcode"], 63002);
        assert!(early.json()["hint"].as_str().unwrap().contains("getticket"));

        let token = m.token().await;
        let ticket = m
            .get(&format!(
                "/cgi-bin/ticket/getticket?access_token={token}&type=jsapi"
            ))
            .await
            .json()["ticket"]
            .as_str()
            .unwrap()
            .to_owned();
        let good = wechat_crypto::jssdk_signature(
            &JsapiTicket::new(ticket.as_str()),
            "Wm3WZYTPz0wzccnW",
            1_700_000_000,
            url,
        );
        assert_eq!(m.get(&verify(&good)).await.json()["errcode"], 0);
        let mut bad = good.clone();
        bad.replace_range(0..1, if good.starts_with('0') { "1" } else { "0" });
        let answer = m.get(&verify(&bad)).await.json();
        assert_eq!(answer["errcode"], 63002);
        assert_eq!(answer["errmsg"], "invalid signature");
    }
}

#[tokio::test]
async fn placeholder_media_is_an_svg() {
    let m = Mock::start(Via::InProcess).await;
    let picture = m.get("/mock/media/photo.svg").await;
    assert_eq!(picture.status, 200);
    assert_eq!(
        picture.header("content-type").as_deref(),
        Some("image/svg+xml")
    );
    assert!(picture.text().starts_with("<svg"));
}

#[tokio::test]
async fn a_library_push_shows_in_the_admin_conversation() {
    let server = MockServer::builder().frozen_clock(START).start().await;
    let openid = server.users()[0].openid.clone();
    let outcome = server.push(&openid, UserAction::scan("42")).await;
    assert_eq!(outcome.attempts, 0);
    let request = http::Request::get(format!("/mock/conversation/{openid}"))
        .body(bytes::Bytes::new())
        .unwrap();
    let entries: Value = serde_json::from_slice(server.handle(request).await.body()).unwrap();
    assert_eq!(entries[0]["event"], "SCAN");
    assert_eq!(entries[0]["key"], "42");
    assert_eq!(entries[1]["kind"], "problem");
}
