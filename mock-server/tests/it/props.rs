//! Whatever arrives, the fake answers: never a 5xx, never a panic, always JSON for the APIs.

use bytes::Bytes;
use proptest::prelude::*;
use wechat_mock::MockServer;

const PATHS: &[&str] = &[
    "/connect/oauth2/authorize",
    "/connect/qrconnect",
    "/sns/oauth2/access_token",
    "/sns/oauth2/refresh_token",
    "/sns/userinfo",
    "/sns/auth",
    "/cgi-bin/token",
    "/cgi-bin/stable_token",
    "/cgi-bin/menu/create",
    "/cgi-bin/menu/get",
    "/cgi-bin/menu/delete",
    "/cgi-bin/menu/addconditional",
    "/cgi-bin/menu/delconditional",
    "/cgi-bin/menu/trymatch",
    "/cgi-bin/ticket/getticket",
    "/cgi-bin/user/info",
    "/cgi-bin/message/custom/send",
    "/mock/oauth/confirm",
    "/mock/apps",
    "/mock/users",
    "/mock/faults",
    "/mock/clock/advance",
    "/mock/interaction",
    "/mock/avatar/x.svg",
    "/whatever",
];

fn query() -> impl Strategy<Value = String> {
    let key = prop::sample::select(vec![
        "appid",
        "secret",
        "code",
        "grant_type",
        "access_token",
        "openid",
        "refresh_token",
        "redirect_uri",
        "scope",
        "state",
        "response_type",
        "type",
        "lang",
        "decision",
        "flow",
    ]);
    let value = prop_oneof![
        "[a-zA-Z0-9_%-]{0,40}",
        Just("wx4d0c0ffee5eed001".to_owned()),
        Just("client_credential".to_owned()),
        Just("snsapi_userinfo".to_owned()),
        Just("https%3A%2F%2Fa.com%2F".to_owned()),
        Just("allow".to_owned()),
    ];
    prop::collection::vec((key, value), 0..8).prop_map(|pairs| {
        pairs
            .into_iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&")
    })
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..200),
        "\\{\"[a-z_]{1,10}\":(\"[^\"]{0,20}\"|[0-9]{1,5}|true|null|\\[\\]|\\{\\})\\}"
            .prop_map(String::into_bytes),
        Just(br#"{"button":[{"type":"click","name":"a","key":"k"}]}"#.to_vec()),
        Just(br#"{"touser":"o","msgtype":"text","text":{"content":"x"}}"#.to_vec()),
        Just(br#"{"path":"/x","fault":"busy"}"#.to_vec()),
        Just(br#"{"nickname":"n"}"#.to_vec()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_request_gets_an_answer(
        path in prop::sample::select(PATHS),
        query in query(),
        body in body(),
        post in any::<bool>(),
        html in any::<bool>(),
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let mock = MockServer::builder().frozen_clock(1_700_000_000).start().await;
            let mut request = http::Request::builder()
                .method(if post { "POST" } else { "GET" })
                .uri(format!("{path}?{query}"));
            if html {
                request = request.header("accept", "text/html");
            }
            let response = mock.handle(request.body(Bytes::from(body)).unwrap()).await;
            let status = response.status().as_u16();
            prop_assert!(status < 500, "{path}?{query}: {status}");
            if path.starts_with("/cgi-bin/") || path.starts_with("/sns/") || path == "/whatever" {
                prop_assert_eq!(status, 200);
                let parsed: Result<serde_json::Value, _> = serde_json::from_slice(response.body());
                prop_assert!(parsed.is_ok(), "{path}?{query}: not JSON");
            }
            Ok(())
        })?;
    }
}
