//! No secret reaches `Debug`, in any crate of the workspace: every client, builder, config,
//! provider, store, credential, callback piece, OAuth client, token, state key and guard, crypto
//! and the fake's app, formatted with `{:?}` and `{:#?}`, holding real secrets obtained from
//! wechat-mock, is searched for each secret in every form it could leak in.

use std::fmt::Debug;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use wechat_client::store::{CredentialKey, CredentialKind, MemoryStore, TokenStore};
use wechat_client::{Client, ClientConfig, Endpoints};
use wechat_crypto::{MessageCrypto, StateKey};
use wechat_mock::MockServer;
use wechat_msg::{Callback, CallbackConfig, Mode, Router, Server};
use wechat_oauth::OAuthClient;
use wechat_types::api::{Lang, Scope, StableTokenRequest};
use wechat_types::{AuthCode, EncodingAesKey, ServerToken};

/// The key of the OAuth state MAC: distinctive bytes, easy to search for.
const STATE_KEY: [u8; 32] = [0xA7; 32];

/// `value` in `{:?}` and `{:#?}`.
fn debug(value: &impl Debug) -> String {
    format!("{value:?}\n{value:#?}")
}

/// Every form a secret could leak in: the text itself, and for raw key bytes their decimal
/// list (how `Debug` prints a byte array), hex and base64.
fn forms_of_bytes(bytes: &[u8]) -> Vec<String> {
    let decimal = bytes[..8]
        .iter()
        .map(u8::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let hex_lower: String = bytes[..8].iter().map(|b| format!("{b:02x}")).collect();
    vec![
        decimal,
        hex_lower.clone(),
        hex_lower.to_uppercase(),
        STANDARD.encode(bytes),
        STANDARD_NO_PAD.encode(bytes),
    ]
}

#[tokio::test]
async fn no_secret_reaches_debug_anywhere() {
    let mock = MockServer::start().await;
    let app = mock.app();
    let user = mock.users()[0].openid.clone();
    let config = || {
        ClientConfig::with_default_transport()
            .unwrap()
            .with_endpoints(Endpoints::single(mock.base_url()))
    };

    // wechat-client: the base token and the JS-SDK ticket, cached in a store.
    let store = Arc::new(MemoryStore::new());
    let builder = Client::builder(app.appid.clone(), app.secret.clone())
        .config(config())
        .store(store.clone());
    let builder_debug = debug(&builder);
    let client = builder.build().unwrap();
    let access_token = client.access_token().await.unwrap();
    let ticket = client.jsapi_ticket().await.unwrap();
    let stored = store
        .get(&CredentialKey::new(
            app.appid.clone(),
            CredentialKind::AccessToken,
        ))
        .await
        .unwrap()
        .unwrap();
    let jssdk = client
        .jssdk_config("https://example.com/page")
        .await
        .unwrap();

    // wechat-oauth: a code, its exchange, a refresh, the state guard.
    let oauth = OAuthClient::new(app.appid.clone(), app.secret.clone(), config());
    let code: AuthCode = mock.oauth_code(&user, Scope::UserInfo).unwrap();
    let code_text = code.expose_secret().to_owned();
    let sns = oauth.exchange_code(&code).await.unwrap();
    let refreshed = oauth.refresh(&sns.refresh_token).await.unwrap();
    let guard = oauth.state_guard(StateKey::new(STATE_KEY), Duration::from_secs(600));
    let state = guard.issue("session");
    let callback_query = format!("code={code_text}&state={state}");
    let oauth_callback = wechat_oauth::Callback::from_query(&callback_query).unwrap();
    // A failed exchange (the code is spent): the error must not quote the code or the secret.
    let reused = oauth.exchange_code(&code).await.unwrap_err();
    let profile = oauth
        .userinfo(&sns.access_token, &sns.openid, Lang::ZhCn)
        .await
        .unwrap();

    // wechat-msg and wechat-crypto: the callback of the same account.
    let crypto = MessageCrypto::new(app.aes_key.clone(), app.appid.clone());
    let callback_config = CallbackConfig::new(app.token.clone())
        .crypto(app.aes_key.clone(), app.appid.clone())
        .mode(Mode::Safe)
        .custom_service(Arc::new(client.clone()));
    let callback = Callback::new(callback_config.clone(), Router::new()).unwrap();
    let service = callback.clone().into_service();
    let server = Server::bind("127.0.0.1:0", callback.clone()).await.unwrap();

    let mut output = builder_debug;
    for text in [
        debug(&client),
        debug(client.access_token_provider()),
        debug(client.jsapi_ticket_provider()),
        debug(client.config()),
        debug(&store),
        debug(&stored),
        debug(&access_token),
        debug(&ticket),
        debug(&jssdk),
        debug(&StableTokenRequest::new(
            app.appid.clone(),
            app.secret.clone(),
        )),
        debug(&oauth),
        debug(&code),
        debug(&sns),
        debug(&refreshed),
        debug(&guard),
        debug(&StateKey::new(STATE_KEY)),
        debug(&oauth_callback),
        debug(&reused),
        reused.to_string(),
        debug(&profile),
        debug(&crypto),
        debug(&callback_config),
        debug(&callback),
        debug(&service),
        debug(&server),
        debug(&app),
        debug(&app.secret),
        debug(&app.token),
        debug(&app.aes_key),
        debug(&mock),
    ] {
        output.push_str(&text);
        output.push('\n');
    }

    let key_text = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
    let own_key = EncodingAesKey::parse(key_text).unwrap();
    output.push_str(&debug(&own_key));
    output.push_str(&debug(&ServerToken::new("server-token-value")));

    let mut secrets: Vec<(String, &str)> = vec![
        (app.secret.expose_secret().to_owned(), "AppSecret"),
        (app.token.expose_secret().to_owned(), "server token"),
        (access_token.expose_secret().to_owned(), "access_token"),
        (stored.expose_secret().to_owned(), "stored access_token"),
        (ticket.expose_secret().to_owned(), "jsapi_ticket"),
        (code_text.clone(), "OAuth code"),
        (
            sns.access_token.expose_secret().to_owned(),
            "sns access_token",
        ),
        (
            sns.refresh_token.expose_secret().to_owned(),
            "refresh_token",
        ),
        (
            refreshed.access_token.expose_secret().to_owned(),
            "refreshed sns access_token",
        ),
        (
            app.aes_key.expose_secret().to_owned(),
            "the mock's EncodingAESKey",
        ),
        (key_text.to_owned(), "EncodingAESKey text"),
        ("server-token-value".to_owned(), "another server token"),
    ];
    for form in forms_of_bytes(app.aes_key.aes_key()) {
        secrets.push((form, "the mock's AES key bytes"));
    }
    for form in forms_of_bytes(own_key.aes_key()) {
        secrets.push((form, "AES key bytes"));
    }
    for form in forms_of_bytes(&STATE_KEY) {
        secrets.push((form, "state key bytes"));
    }
    let leaks: Vec<String> = secrets
        .iter()
        .filter(|(secret, _)| !secret.is_empty() && output.contains(secret.as_str()))
        .map(|(secret, what)| format!("{what} ({secret})"))
        .collect();
    assert!(leaks.is_empty(), "leaked: {}\n\n{output}", leaks.join(", "));

    // The output is not empty or useless: it names what it describes.
    assert!(output.contains(app.appid.as_str()));
    assert!(output.contains("[redacted]"));
}
