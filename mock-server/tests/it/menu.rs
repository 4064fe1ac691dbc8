//! The custom menu: create/get/delete and conditional menus, with every rule's errcode.

use serde_json::{Value, json};
use wechat_types::api::{Button, MatchRule, Menu, MenuInfo};

use crate::support::{Mock, VIAS, Via};

fn good_menu() -> Menu {
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

async fn create(m: &Mock, token: &str, body: &Value) -> i64 {
    m.post_json(&format!("/cgi-bin/menu/create?access_token={token}"), body)
        .await
        .errcode()
}

async fn get(m: &Mock, token: &str) -> crate::support::Answer {
    m.get(&format!("/cgi-bin/menu/get?access_token={token}"))
        .await
}

#[tokio::test]
async fn create_get_delete() {
    for via in VIAS {
        let m = Mock::start(via).await;
        let token = m.token().await;
        assert_eq!(get(&m, &token).await.errcode(), 46003);
        let menu = good_menu();
        let answer = m
            .post_json(
                &format!("/cgi-bin/menu/create?access_token={token}"),
                &serde_json::to_value(&menu).unwrap(),
            )
            .await;
        assert_eq!(answer.json(), json!({"errcode":0,"errmsg":"ok"}));
        let info: MenuInfo = serde_json::from_slice(&get(&m, &token).await.body).unwrap();
        assert_eq!(info.menu.button, menu.button);
        assert!(info.conditionalmenu.is_empty());
        let deleted = m
            .get(&format!("/cgi-bin/menu/delete?access_token={token}"))
            .await;
        assert_eq!(deleted.json(), json!({"errcode":0,"errmsg":"ok"}));
        assert_eq!(get(&m, &token).await.errcode(), 46003);
    }
}

#[tokio::test]
async fn every_rule_has_its_code_and_invalid_menus_change_nothing() {
    for via in VIAS {
        let m = Mock::start(via).await;
        let token = m.token().await;
        let good = serde_json::to_value(good_menu()).unwrap();
        assert_eq!(create(&m, &token, &good).await, 0);
        let click = json!({"type":"click","name":"a","key":"k"});
        let cases = [
            (json!({"button": []}), 40016),
            (json!({}), 40016),
            (json!({"button": [click, click, click, click]}), 40016),
            (
                json!({"button": [{"name":"g","sub_button":[click, click, click, click, click, click]}]}),
                40017,
            ),
            (json!({"button": [{"name":"g","sub_button":[]}]}), 40017),
            (
                json!({"button": [{"type":"click","name":"一二三四五六","key":"k"}]}),
                40018,
            ),
            (
                json!({"button": [{"type":"click","name":"","key":"k"}]}),
                40018,
            ),
            (
                json!({"button": [{"type":"click","name":"a","key":"k".repeat(129)}]}),
                40019,
            ),
            (
                json!({"button": [{"type":"view","name":"a","url":format!("https://{}", "x".repeat(1020))}]}),
                40020,
            ),
            (
                json!({"button": [{"type":"view","name":"a","url":"ftp://x"}]}),
                40055,
            ),
            (
                json!({"button": [{"name":"g","sub_button":[{"type":"view","name":"a","url":"x"}]}]}),
                40054,
            ),
            (json!({"button": [{"type":"bogus","name":"a"}]}), 40015),
            (
                json!({"button": [{"type":"miniprogram","name":"a","url":"https://x","pagepath":"p"}]}),
                47003,
            ),
            (json!({"button": "nope"}), 47001),
        ];
        for (body, errcode) in cases {
            assert_eq!(create(&m, &token, &body).await, errcode, "{body}");
        }
        // Sub-buttons may have 60-byte names.
        let long_sub = json!({"button": [{"name":"g","sub_button":[{"type":"click","name":"一二三四五六七八九十","key":"k"}]}]});
        let info: MenuInfo = serde_json::from_slice(&get(&m, &token).await.body).unwrap();
        assert_eq!(
            info.menu.button,
            good_menu().button,
            "invalid menus left the menu alone"
        );
        assert_eq!(create(&m, &token, &long_sub).await, 0);
    }
}

#[tokio::test]
async fn body_and_method_errors() {
    for via in VIAS {
        let m = Mock::start(via).await;
        let token = m.token().await;
        let url = format!("/cgi-bin/menu/create?access_token={token}");
        assert_eq!(m.post(&url, "{\"button\":[").await.errcode(), 47001);
        assert_eq!(m.post(&url, "").await.errcode(), 44002);
        assert_eq!(m.get(&url).await.errcode(), 43002);
        // Python's json.dumps default: \u-escaped Chinese. WeChat refuses it.
        let escaped = r#"{"button":[{"type":"click","name":"\u4eca\u65e5","key":"k"}]}"#;
        let answer = m.post(&url, escaped).await;
        assert_eq!(answer.errcode(), 40033);
        // Literal UTF-8 is fine.
        let literal = r#"{"button":[{"type":"click","name":"今日","key":"k"}]}"#;
        assert_eq!(m.post(&url, literal).await.errcode(), 0);
    }
}

#[tokio::test]
async fn conditional_menus() {
    for via in VIAS {
        let m = Mock::start(via).await;
        let token = m.token().await;
        let add = format!("/cgi-bin/menu/addconditional?access_token={token}");
        let del = format!("/cgi-bin/menu/delconditional?access_token={token}");
        let try_match = format!("/cgi-bin/menu/trymatch?access_token={token}");
        let vip = json!({
            "button": [{"type":"click","name":"VIP","key":"VIP"}],
            "matchrule": {"tag_id": "2"}
        });
        assert_eq!(
            m.post_json(&add, &vip).await.errcode(),
            65303,
            "needs a default menu"
        );
        assert_eq!(
            create(&m, &token, &serde_json::to_value(good_menu()).unwrap()).await,
            0
        );
        let empty_rule =
            json!({"button": [{"type":"click","name":"x","key":"x"}], "matchrule": {}});
        assert_eq!(m.post_json(&add, &empty_rule).await.errcode(), 65304);
        let no_rule = json!({"button": [{"type":"click","name":"x","key":"x"}]});
        assert_eq!(m.post_json(&add, &no_rule).await.errcode(), 65304);
        let bad_buttons = json!({"button": [], "matchrule": {"tag_id": "2"}});
        assert_eq!(m.post_json(&add, &bad_buttons).await.errcode(), 40016);

        let answer = m.post_json(&add, &vip).await;
        let menuid = answer.json()["menuid"].as_str().unwrap().to_owned();
        let info: MenuInfo = serde_json::from_slice(&get(&m, &token).await.body).unwrap();
        assert_eq!(info.conditionalmenu.len(), 1);
        assert_eq!(
            info.conditionalmenu[0].menuid.as_deref(),
            Some(menuid.as_str())
        );
        assert_eq!(
            info.conditionalmenu[0].matchrule,
            MatchRule {
                tag_id: Some("2".into()),
                ..MatchRule::default()
            }
        );
        assert!(info.menu.menuid.is_some());

        // trymatch: a user without the tag sees the default menu.
        let user = m.user(0).openid;
        let answer = m.post_json(&try_match, &json!({"user_id": user})).await;
        let menu: Menu = serde_json::from_slice(&answer.body).unwrap();
        assert_eq!(menu.button, good_menu().button);
        assert_eq!(
            m.post_json(&try_match, &json!({"user_id": "oNobody"}))
                .await
                .errcode(),
            65302
        );

        assert_eq!(
            m.post_json(&del, &json!({"menuid": "1"})).await.errcode(),
            65301
        );
        assert_eq!(m.post_json(&del, &json!({})).await.errcode(), 47001);
        assert_eq!(
            m.post_json(&del, &json!({"menuid": menuid}))
                .await
                .errcode(),
            0
        );
        assert!(
            serde_json::from_slice::<MenuInfo>(&get(&m, &token).await.body)
                .unwrap()
                .conditionalmenu
                .is_empty()
        );

        // delete removes conditional menus too.
        let numeric: u64 = m.post_json(&add, &vip).await.json()["menuid"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(numeric > 0);
        m.get(&format!("/cgi-bin/menu/delete?access_token={token}"))
            .await;
        assert_eq!(get(&m, &token).await.errcode(), 46003);
        assert_eq!(
            m.post_json(&try_match, &json!({"user_id": user}))
                .await
                .errcode(),
            46003
        );
    }
}

#[tokio::test]
async fn trymatch_picks_the_newest_matching_conditional_menu() {
    let m = Mock::with(
        Via::InProcess,
        wechat_mock::MockServer::builder().user(
            wechat_mock::MockUser::new("标签用户")
                .with_openid("oTagged")
                .with_tags(vec![7]),
        ),
    )
    .await;
    let token = m.token().await;
    create(&m, &token, &serde_json::to_value(good_menu()).unwrap()).await;
    let add = format!("/cgi-bin/menu/addconditional?access_token={token}");
    for (name, rule) in [
        ("广东", json!({"province": "广东"})),
        ("T7", json!({"tag_id": "7"})),
        ("T8", json!({"tag_id": "8"})),
    ] {
        let body = json!({"button": [{"type":"click","name":name,"key":"k"}], "matchrule": rule});
        assert_eq!(m.post_json(&add, &body).await.errcode(), 0);
    }
    // By numeric menuid as well.
    let answer = m
        .post_json(
            &format!("/cgi-bin/menu/trymatch?access_token={token}"),
            &json!({"user_id": "oTagged"}),
        )
        .await;
    let menu: Menu = serde_json::from_slice(&answer.body).unwrap();
    assert_eq!(menu.button[0].name, "T7");
    let info: MenuInfo = serde_json::from_slice(&get(&m, &token).await.body).unwrap();
    let first: u64 = info.conditionalmenu[0]
        .menuid
        .as_deref()
        .unwrap()
        .parse()
        .unwrap();
    let answer = m
        .post_json(
            &format!("/cgi-bin/menu/delconditional?access_token={token}"),
            &json!({"menuid": first}),
        )
        .await;
    assert_eq!(answer.errcode(), 0);
}
