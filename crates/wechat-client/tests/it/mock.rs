//! Every API against wechat-mock, over loopback and in process; token rotation, stable_token and
//! expiry under the mock clock.

use std::sync::Arc;

use wechat_client::store::MemoryStore;
use wechat_client::{Error, TokenSource};
use wechat_mock::{Fault, MockServer};
use wechat_types::api::{
    Button, ConditionalMenu, CustomMessage, CustomMessageBody, Lang, MatchRule, Menu, MenuError,
};
use wechat_types::{ErrCode, OpenId};

use crate::support::{BOTH, Via, advance, client, client_with, clock_of};

fn demo_menu() -> Menu {
    Menu::new(vec![
        Button::click("今日歌曲", "V1001_TODAY_MUSIC"),
        Button::group(
            "菜单",
            vec![
                Button::view("搜索", "https://www.soso.com/"),
                Button::click("赞一下我们", "V1001_GOOD"),
            ],
        ),
    ])
}

#[tokio::test]
async fn menu_lifecycle() {
    for via in BOTH {
        let mock = MockServer::start().await;
        let clock = clock_of(&mock);
        let client = client(&mock, via, &clock);
        let menu = client.menu();

        assert_eq!(menu.get().await.unwrap(), None, "{via:?}: no menu yet");
        menu.create(&demo_menu()).await.unwrap();
        let info = menu.get().await.unwrap().expect("created");
        assert_eq!(info.menu.button, demo_menu().button, "{via:?}");

        let user = mock.users()[0].clone();
        let tag = *user.tags.first().unwrap_or(&0);
        let conditional = ConditionalMenu {
            button: vec![Button::click("VIP", "VIP_KEY")],
            matchrule: MatchRule {
                language: Some(user.language.clone()),
                ..Default::default()
            },
            menuid: None,
        };
        let menuid = menu.add_conditional(&conditional).await.unwrap();
        assert!(!menuid.is_empty());
        let info = menu.get().await.unwrap().unwrap();
        assert_eq!(info.conditionalmenu.len(), 1, "{via:?} (tag {tag})");
        assert_eq!(
            info.conditionalmenu[0].menuid.as_deref(),
            Some(menuid.as_str())
        );
        let seen = menu.try_match(user.openid.as_str()).await.unwrap();
        assert_eq!(seen.button, conditional.button, "{via:?}");

        menu.delete_conditional(&menuid).await.unwrap();
        let seen = menu.try_match(user.openid.as_str()).await.unwrap();
        assert_eq!(seen.button, demo_menu().button);
        let e = menu.delete_conditional(&menuid).await.unwrap_err();
        assert_eq!(e.api_code(), Some(ErrCode::CONDITIONAL_MENU_NOT_EXIST));

        menu.delete().await.unwrap();
        assert_eq!(menu.get().await.unwrap(), None);
        // One token for all of it.
        assert_eq!(mock.request_count("/cgi-bin/stable_token"), 1, "{via:?}");
    }
}

#[tokio::test]
async fn a_bad_menu_fails_before_any_request() {
    for via in BOTH {
        let mock = MockServer::start().await;
        let clock = clock_of(&mock);
        let client = client(&mock, via, &clock);
        let bad = Menu::new(vec![Button::click("一个名字太长的按钮啊", "k")]);
        let e = client.menu().create(&bad).await.unwrap_err();
        let Error::InvalidInput {
            source: Some(source),
            ..
        } = &e
        else {
            panic!("{via:?}: {e:?}");
        };
        let menu_error = source.downcast_ref::<MenuError>().unwrap();
        assert_eq!(menu_error.code, ErrCode::INVALID_BUTTON_NAME_SIZE);
        let no_rule = ConditionalMenu {
            button: demo_menu().button,
            ..Default::default()
        };
        let e = client.menu().add_conditional(&no_rule).await.unwrap_err();
        assert!(matches!(e, Error::InvalidInput { .. }));
        assert!(
            mock.requests().is_empty(),
            "{via:?}: nothing reached the network, not even a token fetch"
        );
    }
}

#[tokio::test]
async fn custom_messages_of_several_types_reach_the_user() {
    for via in BOTH {
        let mock = MockServer::start().await;
        let clock = clock_of(&mock);
        let client = client(&mock, via, &clock);
        let user = mock.users()[0].openid.clone();
        client
            .send_custom(&CustomMessage::text(user.clone(), "你好，世界"))
            .await
            .unwrap();
        let image: CustomMessageBody =
            serde_json::from_str(r#"{"msgtype":"image","image":{"media_id":"MEDIA"}}"#).unwrap();
        client
            .send_custom(&CustomMessage::new(user.clone(), image.clone()))
            .await
            .unwrap();
        let sent = mock.custom_messages_to(&user);
        assert_eq!(sent.len(), 2, "{via:?}");
        assert_eq!(
            sent[0].message,
            CustomMessage::text(user.clone(), "你好，世界")
        );
        assert_eq!(sent[1].message.body, image);

        let stranger = OpenId::new("o_not_a_follower_of_this_app");
        let e = client
            .send_custom(&CustomMessage::text(stranger, "x"))
            .await
            .unwrap_err();
        assert_eq!(e.api_code(), Some(ErrCode::INVALID_OPENID), "{via:?}");
    }
}

#[tokio::test]
async fn user_info_of_a_follower() {
    for via in BOTH {
        let mock = MockServer::start().await;
        let clock = clock_of(&mock);
        let client = client(&mock, via, &clock);
        let user = mock.users()[1].clone();
        let info = client.user_info(&user.openid, Lang::ZhCn).await.unwrap();
        assert_eq!(info.openid, user.openid);
        assert_eq!(info.subscribe, 1, "{via:?}");
        assert_eq!(info.tagid_list, user.tags);
        let e = client
            .user_info(&OpenId::new("oNobody"), Lang::En)
            .await
            .unwrap_err();
        assert_eq!(e.api_code(), Some(ErrCode::INVALID_OPENID));
    }
}

#[tokio::test]
async fn jssdk_config_is_signed_with_the_cached_ticket() {
    for via in BOTH {
        let mock = MockServer::start().await;
        let clock = clock_of(&mock);
        let client = client(&mock, via, &clock);
        let url = "https://example.com/page?a=1&b=中文#section";
        let config = client.jssdk_config(url).await.unwrap();
        let again = client.jssdk_config(url).await.unwrap();
        assert_ne!(config.nonce_str, again.nonce_str);
        assert_eq!(config.app_id, mock.app().appid);
        assert_eq!(config.timestamp, mock.now());
        let ticket = client.jsapi_ticket().await.unwrap();
        let expected = wechat_crypto::jssdk_signature(
            &ticket,
            &config.nonce_str,
            config.timestamp,
            "https://example.com/page?a=1&b=中文",
        );
        assert_eq!(config.signature, expected, "{via:?}: fragment not signed");
        assert_eq!(
            mock.request_count("/cgi-bin/ticket/getticket"),
            1,
            "{via:?}"
        );
        let e = client.jssdk_config("not a url").await.unwrap_err();
        assert!(matches!(e, Error::InvalidInput { .. }));
    }
}

#[tokio::test]
async fn classic_tokens_rotate_and_a_superseded_one_is_replaced_once() {
    for via in BOTH {
        let mock = MockServer::start().await;
        let clock = clock_of(&mock);
        let client = client_with(
            &mock,
            via,
            &clock,
            TokenSource::Classic,
            Arc::new(MemoryStore::new()),
        );
        let first = client.access_token().await.unwrap();
        assert_eq!(mock.request_count("/cgi-bin/token"), 1);

        // Another fetcher rotates the token; ours lives 5 more minutes, then WeChat refuses it.
        mock.issue_access_token();
        advance(&mock, &clock, 301);
        let user = mock.users()[0].openid.clone();
        client.user_info(&user, Lang::ZhCn).await.unwrap();
        assert_eq!(mock.request_count("/cgi-bin/token"), 2, "{via:?}");
        assert_eq!(mock.request_count("/cgi-bin/user/info"), 2, "{via:?}");
        let second = client.access_token().await.unwrap();
        assert_ne!(first, second);
        let refused: Vec<_> = mock
            .requests()
            .into_iter()
            .filter(|r| r.path == "/cgi-bin/user/info")
            .map(|r| r.errcode)
            .collect();
        assert!(
            refused[0].is_some_and(|code| ErrCode::from(code).is_token_invalid()),
            "{refused:?}"
        );
        assert_eq!(refused[1], None);
    }
}

#[tokio::test]
async fn stable_tokens_are_shared_not_rotated() {
    for via in BOTH {
        let mock = MockServer::start().await;
        let clock = clock_of(&mock);
        // Two independent clients (two processes, say) with their own caches.
        let a = client(&mock, via, &clock);
        let b = client(&mock, via, &clock);
        let token_a = a.access_token().await.unwrap();
        let token_b = b.access_token().await.unwrap();
        assert_eq!(token_a, token_b, "{via:?}: stable_token is idempotent");
        let user = mock.users()[0].openid.clone();
        a.user_info(&user, Lang::ZhCn).await.unwrap();
        b.user_info(&user, Lang::ZhCn).await.unwrap();
        assert_eq!(mock.request_count("/cgi-bin/stable_token"), 2);
        assert_eq!(mock.request_count("/cgi-bin/token"), 0);
        let stable_bodies = mock
            .requests()
            .into_iter()
            .filter(|r| r.path == "/cgi-bin/stable_token")
            .all(|r| r.method == http::Method::POST);
        assert!(stable_bodies);
    }
}

#[tokio::test]
async fn tokens_are_refreshed_ahead_of_expiry_on_the_mock_clock() {
    for via in BOTH {
        let mock = MockServer::start().await;
        let clock = clock_of(&mock);
        let client = client(&mock, via, &clock);
        let first = client.access_token().await.unwrap();

        // Well before the 5-minute margin: cached.
        advance(&mock, &clock, 6000);
        assert_eq!(client.access_token().await.unwrap(), first);
        assert_eq!(mock.request_count("/cgi-bin/stable_token"), 1);

        // Inside the margin: refreshed, and WeChat hands out a new stable token.
        advance(&mock, &clock, 7200 - 300 - 6000 + 1);
        let second = client.access_token().await.unwrap();
        assert_eq!(mock.request_count("/cgi-bin/stable_token"), 2, "{via:?}");
        assert_ne!(first, second);

        // The ticket follows the same policy.
        client.jsapi_ticket().await.unwrap();
        advance(&mock, &clock, 7200);
        client.jsapi_ticket().await.unwrap();
        assert_eq!(mock.request_count("/cgi-bin/ticket/getticket"), 2);
        // Both credentials expired meanwhile: a new token was fetched for the second ticket.
        assert_eq!(mock.request_count("/cgi-bin/stable_token"), 3);
        let user = mock.users()[0].openid.clone();
        client.user_info(&user, Lang::ZhCn).await.unwrap();
        assert_eq!(mock.request_count("/cgi-bin/stable_token"), 3);
    }
}

#[tokio::test]
async fn a_stale_token_is_replayed_once_then_surfaced() {
    for via in BOTH {
        let mock = MockServer::start().await;
        let clock = clock_of(&mock);
        let client = client(&mock, via, &clock);
        let user = mock.users()[0].openid.clone();

        mock.inject_fault("/cgi-bin/user/info", Fault::ErrCode(40001), 1);
        client.user_info(&user, Lang::ZhCn).await.unwrap();
        assert_eq!(mock.request_count("/cgi-bin/user/info"), 2);
        assert_eq!(mock.request_count("/cgi-bin/stable_token"), 2);

        mock.inject_fault("/cgi-bin/user/info", Fault::ErrCode(42001), 5);
        let e = client.user_info(&user, Lang::ZhCn).await.unwrap_err();
        assert!(e.is_token_invalid(), "{via:?}: {e:?}");
        assert_eq!(
            mock.request_count("/cgi-bin/user/info"),
            4,
            "replayed once only"
        );
        mock.clear_faults();
    }
}

#[tokio::test]
async fn busy_is_retried_for_reads_only() {
    for via in BOTH {
        let mock = MockServer::start().await;
        let clock = clock_of(&mock);
        let client = client(&mock, via, &clock);
        let user = mock.users()[0].openid.clone();
        client.access_token().await.unwrap();

        mock.inject_fault("/cgi-bin/user/info", Fault::Busy, 2);
        client.user_info(&user, Lang::ZhCn).await.unwrap();
        assert_eq!(mock.request_count("/cgi-bin/user/info"), 3);

        mock.inject_fault("/cgi-bin/user/info", Fault::Busy, 3);
        let e = client.user_info(&user, Lang::ZhCn).await.unwrap_err();
        assert_eq!(e.api_code(), Some(ErrCode::SYSTEM_BUSY), "{via:?}");
        assert_eq!(mock.request_count("/cgi-bin/user/info"), 6, "1 + 2 retries");

        mock.inject_fault("/cgi-bin/message/custom/send", Fault::Busy, 1);
        let e = client
            .send_custom(&CustomMessage::text(user.clone(), "once"))
            .await
            .unwrap_err();
        assert_eq!(e.api_code(), Some(ErrCode::SYSTEM_BUSY));
        assert_eq!(mock.request_count("/cgi-bin/message/custom/send"), 1);
        assert!(mock.custom_messages().is_empty());
    }
}

#[tokio::test]
async fn token_endpoint_errors_reach_every_waiter_typed() {
    for via in BOTH {
        let mock = MockServer::start().await;
        let clock = clock_of(&mock);
        let app = mock.app();
        let client = wechat_client::Client::builder(app.appid.clone(), "wrong-secret".into())
            .config(crate::support::config(&mock, via, &clock))
            .build()
            .unwrap();
        let calls: Vec<_> = (0..20)
            .map(|_| {
                let client = client.clone();
                tokio::spawn(async move { client.access_token().await })
            })
            .collect();
        for call in calls {
            let e = call.await.unwrap().unwrap_err();
            assert!(matches!(e, Error::Credential { .. }), "{e:?}");
            assert_eq!(e.api_code(), Some(ErrCode::INVALID_APPSECRET));
            assert!(!e.is_token_invalid());
        }
        assert!(
            mock.request_count("/cgi-bin/stable_token") < 20,
            "{via:?}: shared fetches"
        );
    }
}

#[tokio::test]
async fn concurrent_callers_share_one_fetch_in_process() {
    let mock = MockServer::start().await;
    let clock = clock_of(&mock);
    let client = client(&mock, Via::InProcess, &clock);
    mock.inject_fault(
        "/cgi-bin/stable_token",
        Fault::Delay(std::time::Duration::from_millis(50)),
        1,
    );
    let calls: Vec<_> = (0..100)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.access_token().await.unwrap() })
        })
        .collect();
    let mut tokens = Vec::new();
    for call in calls {
        tokens.push(call.await.unwrap());
    }
    tokens.dedup();
    assert_eq!(tokens.len(), 1);
    assert_eq!(mock.request_count("/cgi-bin/stable_token"), 1);
}
