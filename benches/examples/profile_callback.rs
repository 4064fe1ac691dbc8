//! A driver for profiling the safe-mode callback path under callgrind, where instruction counts
//! are repeatable on a shared machine (criterion's wall-clock figures are not):
//!
//! ```text
//! cargo build --release -p wechat-benches --example profile_callback
//! valgrind --tool=callgrind --callgrind-out-file=target/callgrind.out \
//!     target/release/examples/profile_callback 20000
//! callgrind_annotate --inclusive=yes target/callgrind.out | head -60
//! ```
//!
//! It seals N distinct 100-byte text pushes first, then answers each once through
//! `Callback::respond` (the same path as `benches/callback.rs`'s `full`), so the profile shows
//! the per-push cost once setup is subtracted (run it twice with different N to see it).
//! Valgrind's CPU has no SHA extensions, so SHA-1 runs in software there and looks costlier than
//! on the machine.

use std::time::{SystemTime, UNIX_EPOCH};

use http::Method;
use wechat_crypto::MessageCrypto;
use wechat_msg::{Callback, CallbackConfig, Mode, Router};
use wechat_types::xml::{Message, MessageBody, Reply};
use wechat_types::{AppId, EncodingAesKey, ServerToken};

const KEY_TEXT: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
const APPID: &str = "wx2c2769f8efd9abc2";
const TOKEN: &str = "spamtest";
const NONCE: &str = "1320562132";

fn main() {
    let count: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(20_000);
    let key = EncodingAesKey::parse(KEY_TEXT).expect("valid key");
    let token = ServerToken::new(TOKEN);
    let crypto = MessageCrypto::new(key.clone(), AppId::new(APPID));
    let router = Router::new().msg_type("text", |msg: Message| async move {
        match msg.body {
            MessageBody::Text { content, .. } => Some(Reply::text(content)),
            _ => None,
        }
    });
    let config = CallbackConfig::new(token.clone())
        .crypto(key, AppId::new(APPID))
        .mode(Mode::Safe);
    let callback = Callback::new(config, router).expect("valid config");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("runtime");

    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let timestamp = now.to_string();
    let content =
        "hello 微信 callback hello 微信 callback hello 微信 callback hello 微信 callback hello";
    let signature = wechat_crypto::signature(&token, &timestamp, NONCE);
    let pushes: Vec<(String, String)> = (0..count)
        .map(|i| {
            let xml = format!(
                "<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName>\n\
                 <FromUserName><![CDATA[oyORnuP8q7ou2gfYjqLzSIWZf0rs]]></FromUserName>\n\
                 <CreateTime>{now}</CreateTime>\n<MsgType><![CDATA[text]]></MsgType>\n\
                 <Content><![CDATA[{content}]]></Content>\n<MsgId>{}</MsgId>\n</xml>",
                10_000_000_000u64 + i as u64
            );
            let sealed = crypto.encrypt_push(&token, "gh_10f6c3c3ac5a", &xml, &timestamp, NONCE);
            let query = format!(
                "signature={signature}&timestamp={timestamp}&nonce={NONCE}\
                 &openid=oyORnuP8q7ou2gfYjqLzSIWZf0rs&encrypt_type=aes&msg_signature={}",
                sealed.msg_signature
            );
            (query, sealed.body)
        })
        .collect();

    let mut answered = 0usize;
    runtime.block_on(async {
        for (query, body) in &pushes {
            let response = callback
                .respond(&Method::POST, Some(query), body.as_bytes())
                .await;
            if response.status().is_success() && response.body().starts_with(b"<xml><Encrypt>") {
                answered += 1;
            }
        }
    });
    assert_eq!(answered, count, "every push got an encrypted reply");
    println!("{answered} pushes answered");
}
