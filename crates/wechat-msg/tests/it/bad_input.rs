//! Every bad input is a typed error answered with a 4xx and a one-line reason; the handler never
//! runs for it.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use http::Method;
use wechat_client::ManualClock;
use wechat_crypto::{CryptoError, EncryptedEnvelope, MessageCrypto};
use wechat_msg::{Callback, CallbackConfig, CallbackError, Mode, Outcome, Server, handler_fn};
use wechat_types::xml::{Reply, XmlError};
use wechat_types::{AppId, EncodingAesKey};

use crate::support::{
    AES_KEY, NOW, Push, Seal, config, push, push_with, send, send_raw, start, text_xml, token,
};

/// A callback whose handler counts its calls and always answers.
fn counting(config: CallbackConfig) -> (Callback, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&calls);
    let callback = Callback::new(
        config,
        handler_fn(move |_| {
            counter.fetch_add(1, Ordering::SeqCst);
            async { Some(Reply::text("ran")) }
        }),
    )
    .unwrap();
    (callback, calls)
}

async fn refused(callback: &Callback, method: Method, push: &Push) -> CallbackError {
    let err = callback
        .process(&method, Some(&push.query), &push.body)
        .await
        .expect_err("must be refused");
    // The HTTP face of the same error: a 4xx with one line.
    let response = callback
        .respond(&method, Some(&push.query), &push.body)
        .await;
    assert!(response.status().is_client_error(), "{err:?}");
    assert_eq!(response.status(), err.status());
    let body = std::str::from_utf8(response.body()).unwrap();
    assert_eq!(body, err.reason());
    assert!(!body.is_empty() && !body.contains('\n'));
    assert!(!body.contains(crate::support::TOKEN) && !body.contains(AES_KEY));
    err
}

/// Re-seals a safe push after `tamper` changed its Encrypt text, with a msg_signature that holds:
/// only the ciphertext itself is wrong.
fn with_encrypt(timestamp: &str, nonce: &str, encrypt: &str) -> Push {
    let signature = wechat_crypto::signature(&token(), timestamp, nonce);
    let msg_signature = wechat_crypto::msg_signature(&token(), timestamp, nonce, encrypt);
    Push {
        query: format!(
            "signature={signature}&timestamp={timestamp}&nonce={nonce}&encrypt_type=aes&msg_signature={msg_signature}"
        ),
        body: format!("<xml><ToUserName><![CDATA[gh_test]]></ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>")
            .into_bytes(),
    }
}

#[tokio::test]
async fn bad_plaintext_bodies() {
    let (callback, calls) = counting(config(Mode::Auto));
    let doctype = push(
        Seal::Plain,
        "<!DOCTYPE xml [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><xml><Content>&x;</Content></xml>",
        "n",
    );
    assert!(matches!(
        refused(&callback, Method::POST, &doctype).await,
        CallbackError::Message(XmlError::Doctype)
    ));

    let mut not_utf8 = push(Seal::Plain, &text_xml("x", 1), "n");
    not_utf8.body[60] = 0xff;
    assert!(matches!(
        refused(&callback, Method::POST, &not_utf8).await,
        CallbackError::Message(XmlError::NotUtf8)
    ));

    for body in [
        "<xml><ToUserName>gh</ToUserName>",
        "<xml><A></B></xml>",
        "not xml at all",
        "",
        "{\"MsgType\":\"text\"}",
        "<xml><ToUserName>gh</ToUserName></xml>",
    ] {
        let err = refused(&callback, Method::POST, &push(Seal::Plain, body, "n")).await;
        assert!(matches!(err, CallbackError::Message(_)), "{body}: {err:?}");
    }
    assert_eq!(calls.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn bad_query_strings() {
    let (callback, calls) = counting(config(Mode::Auto));
    let good = push(Seal::Plain, &text_xml("x", 1), "n");

    let wrong_signature = Push {
        query: good.query.replace("signature=", "signature=0"),
        ..good.clone()
    };
    assert!(matches!(
        refused(&callback, Method::POST, &wrong_signature).await,
        CallbackError::Signature(CryptoError::InvalidSignature)
    ));

    for (missing, name) in [
        ("signature", "signature"),
        ("timestamp", "timestamp"),
        ("nonce", "nonce"),
    ] {
        let query: Vec<&str> = good
            .query
            .split('&')
            .filter(|kv| !kv.starts_with(&format!("{missing}=")))
            .collect();
        let push = Push {
            query: query.join("&"),
            ..good.clone()
        };
        assert!(matches!(
            refused(&callback, Method::POST, &push).await,
            CallbackError::MissingParameter(n) if n == name
        ));
    }

    let stale = push_with(
        &token(),
        &crate::support::crypto(),
        Seal::Plain,
        &text_xml("x", 2),
        &(NOW - 301).to_string(),
        "n",
    );
    assert!(matches!(
        refused(&callback, Method::POST, &stale).await,
        CallbackError::StaleTimestamp { timestamp, now: NOW, window_secs: 300 } if timestamp == NOW - 301
    ));
    let future = push_with(
        &token(),
        &crate::support::crypto(),
        Seal::Plain,
        &text_xml("x", 3),
        &(NOW + 301).to_string(),
        "n",
    );
    assert!(matches!(
        refused(&callback, Method::POST, &future).await,
        CallbackError::StaleTimestamp { .. }
    ));
    let not_a_number = push_with(
        &token(),
        &crate::support::crypto(),
        Seal::Plain,
        &text_xml("x", 4),
        "soon",
        "n",
    );
    assert!(matches!(
        refused(&callback, Method::POST, &not_a_number).await,
        CallbackError::InvalidTimestamp
    ));
    let odd_encryption = Push {
        query: format!("{}&encrypt_type=des", good.query),
        ..good.clone()
    };
    assert!(matches!(
        refused(&callback, Method::POST, &odd_encryption).await,
        CallbackError::UnsupportedEncryptType(kind) if kind == "des"
    ));
    assert!(matches!(
        refused(&callback, Method::GET, &good).await,
        CallbackError::MissingParameter("echostr")
    ));
    assert_eq!(calls.load(Ordering::SeqCst), 0);

    // At the edge of the window it is accepted.
    let edge = push_with(
        &token(),
        &crate::support::crypto(),
        Seal::Plain,
        &text_xml("x", 5),
        &(NOW - 300).to_string(),
        "n",
    );
    let response = callback
        .respond(&Method::POST, Some(&edge.query), &edge.body)
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn bad_ciphertexts_and_envelopes() {
    let (callback, calls) = counting(config(Mode::Safe));
    let ts = NOW.to_string();
    let good = push(Seal::Safe, &text_xml("x", 1), "n");
    let encrypt = EncryptedEnvelope::parse(&good.body).unwrap().encrypt;

    let wrong_msg_signature = Push {
        query: good.query.replace("msg_signature=", "msg_signature=1"),
        ..good.clone()
    };
    assert!(matches!(
        refused(&callback, Method::POST, &wrong_msg_signature).await,
        CallbackError::MsgSignature(CryptoError::InvalidSignature)
    ));
    let no_msg_signature = Push {
        query: good
            .query
            .split("&msg_signature")
            .next()
            .unwrap()
            .to_owned(),
        ..good.clone()
    };
    assert!(matches!(
        refused(&callback, Method::POST, &no_msg_signature).await,
        CallbackError::MissingParameter("msg_signature")
    ));

    let truncated = with_encrypt(&ts, "n", &encrypt[..encrypt.len() - 24]);
    assert!(matches!(
        refused(&callback, Method::POST, &truncated).await,
        CallbackError::Decrypt(CryptoError::InvalidLength(_) | CryptoError::InvalidBase64(_))
    ));
    let not_base64 = with_encrypt(&ts, "n", "!!!!not base64!!!!");
    assert!(matches!(
        refused(&callback, Method::POST, &not_base64).await,
        CallbackError::Decrypt(CryptoError::InvalidBase64(_))
    ));
    // Flip a bit in the last block: the padding no longer holds.
    let mut raw = encrypt.clone().into_bytes();
    let at = raw.len() - 10;
    raw[at] = if raw[at] == b'A' { b'B' } else { b'A' };
    let flipped = with_encrypt(&ts, "n", std::str::from_utf8(&raw).unwrap());
    let err = refused(&callback, Method::POST, &flipped).await;
    assert!(matches!(err, CallbackError::Decrypt(_)), "{err:?}");

    // Sealed with the right key for another AppID.
    let foreign = MessageCrypto::new(
        EncodingAesKey::parse(AES_KEY).unwrap(),
        AppId::new("wxOther"),
    );
    let other_app = push_with(&token(), &foreign, Seal::Safe, &text_xml("x", 2), &ts, "n");
    let err = refused(&callback, Method::POST, &other_app).await;
    assert!(matches!(
        err,
        CallbackError::WrongAppId(CryptoError::AppIdMismatch { .. })
    ));
    assert_eq!(err.status(), 403);

    // The decrypted document itself has a DOCTYPE.
    let evil = push(
        Seal::Safe,
        "<!DOCTYPE x [<!ENTITY a \"b\">]><xml><ToUserName>gh</ToUserName></xml>",
        "n",
    );
    assert!(matches!(
        refused(&callback, Method::POST, &evil).await,
        CallbackError::Message(XmlError::Doctype)
    ));
    // The envelope has one.
    let mut evil_envelope = good.clone();
    evil_envelope.body = [b"<!DOCTYPE x []>".as_slice(), &good.body].concat();
    assert!(matches!(
        refused(&callback, Method::POST, &evil_envelope).await,
        CallbackError::Envelope(CryptoError::InvalidXml(XmlError::Doctype))
    ));
    let no_encrypt = Push {
        body: b"<xml><ToUserName>gh</ToUserName></xml>".to_vec(),
        ..good.clone()
    };
    assert!(matches!(
        refused(&callback, Method::POST, &no_encrypt).await,
        CallbackError::Envelope(CryptoError::MissingEncrypt)
    ));

    // Safe mode refuses a plaintext push.
    let plain = push(Seal::Plain, &text_xml("x", 3), "n");
    assert!(matches!(
        refused(&callback, Method::POST, &plain).await,
        CallbackError::EncryptionRequired
    ));
    assert_eq!(calls.load(Ordering::SeqCst), 0);

    // An encrypted push where no key is configured.
    let (keyless, calls) =
        counting(CallbackConfig::new(token()).clock(Arc::new(ManualClock::new(NOW))));
    assert!(matches!(
        refused(&keyless, Method::POST, &good).await,
        CallbackError::EncryptionNotConfigured
    ));
    assert_eq!(calls.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn wrong_methods_and_large_bodies() {
    let (callback, calls) = counting(config(Mode::Auto).body_limit(1024));
    let good = push(Seal::Plain, &text_xml("x", 1), "n");
    for method in [
        Method::PUT,
        Method::DELETE,
        Method::HEAD,
        Method::PATCH,
        Method::OPTIONS,
    ] {
        assert!(matches!(
            refused(&callback, method.clone(), &good).await,
            CallbackError::MethodNotAllowed(m) if m == method
        ));
    }
    let big = push(Seal::Plain, &text_xml(&"x".repeat(2000), 1), "n");
    assert!(matches!(
        refused(&callback, Method::POST, &big).await,
        CallbackError::BodyTooLarge { limit: 1024 }
    ));
    assert_eq!(calls.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn the_server_bounds_bodies_and_headers() {
    let (callback, calls) = counting(config(Mode::Auto).body_limit(1024));
    let server = Server::bind("127.0.0.1:0", callback)
        .await
        .unwrap()
        .header_read_timeout(Duration::from_millis(300))
        .body_timeout(Duration::from_millis(300))
        .path("/wechat");
    let running = start(server).await;
    let addr = running.addr;
    let big = push(Seal::Plain, &text_xml(&"x".repeat(2000), 1), "n");

    // Declared too large: refused before reading.
    let answer = send(addr, "POST", &format!("/wechat?{}", big.query), &big.body).await;
    assert_eq!(answer.status, 413);
    assert_eq!(answer.text(), "body exceeds the limit of 1024 bytes");

    // Chunked, no length: refused once the limit is crossed.
    let mut raw = format!(
        "POST /wechat?{} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        big.query
    )
    .into_bytes();
    for chunk in big.body.chunks(500) {
        raw.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        raw.extend_from_slice(chunk);
        raw.extend_from_slice(b"\r\n");
    }
    raw.extend_from_slice(b"0\r\n\r\n");
    assert_eq!(send_raw(addr, &raw).await.status, 413);

    // Wrong method and wrong path.
    let put = send(addr, "PUT", &format!("/wechat?{}", big.query), b"").await;
    assert_eq!(put.status, 405);
    assert_eq!(put.header("allow"), Some("GET, POST"));
    assert_eq!(send(addr, "GET", "/other", b"").await.status, 404);

    // A body that never comes: 408, not a hang.
    let good = push(Seal::Plain, &text_xml("x", 2), "n");
    let mut raw = format!(
        "POST /wechat?{} HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\nConnection: close\r\n\r\n<xml>",
        good.query
    )
    .into_bytes();
    raw.truncate(raw.len());
    let answer = tokio::time::timeout(Duration::from_secs(10), async {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        stream.write_all(&raw).await.unwrap();
        let mut out = Vec::new();
        stream.read_to_end(&mut out).await.unwrap();
        crate::support::parse_answer(&out)
    })
    .await
    .expect("answered");
    assert_eq!(answer.status, 408);

    // A head that never ends: the connection is closed without an answer from the handler.
    let closed = tokio::time::timeout(Duration::from_secs(10), async {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        stream
            .write_all(b"POST /wechat HTTP/1.1\r\nHost: x\r\n")
            .await
            .unwrap();
        let mut out = Vec::new();
        let _ = stream.read_to_end(&mut out).await;
        out
    })
    .await
    .expect("the server closes a connection whose head does not arrive");
    assert!(!String::from_utf8_lossy(&closed).contains("200 OK"));
    assert_eq!(calls.load(Ordering::SeqCst), 0);

    // And the server still answers good requests.
    let answer = send(addr, "POST", &format!("/wechat?{}", good.query), &good.body).await;
    assert_eq!(answer.status, 200);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn replayed_nonces_are_refused_when_asked() {
    let (callback, calls) = counting(config(Mode::Auto).replay_protection(true));
    let first = push(Seal::Plain, &text_xml("x", 1), "once");
    let ok = callback
        .respond(&Method::POST, Some(&first.query), &first.body)
        .await;
    assert_eq!(ok.status(), 200);
    // Same timestamp and nonce, even for another message: a replay.
    let replay = push(Seal::Plain, &text_xml("y", 2), "once");
    assert!(matches!(
        refused(&callback, Method::POST, &replay).await,
        CallbackError::NonceReplayed
    ));
    assert_eq!(calls.load(Ordering::SeqCst), 1);

    // Without dedupe the replay cache still works.
    let (callback, _) = counting(config(Mode::Auto).without_dedupe().replay_protection(true));
    let ok = callback
        .respond(&Method::POST, Some(&first.query), &first.body)
        .await;
    assert_eq!(ok.status(), 200);
    assert!(matches!(
        refused(&callback, Method::POST, &first).await,
        CallbackError::NonceReplayed
    ));

    // URL verification too: the echo once, then the same nonce is a replay.
    let signature = wechat_crypto::signature(&token(), &NOW.to_string(), "verify");
    let query = format!("signature={signature}&timestamp={NOW}&nonce=verify&echostr=e");
    let echo = callback.process(&Method::GET, Some(&query), b"").await;
    assert!(matches!(echo, Ok(Outcome::Echo(e)) if e == "e"));
    assert!(matches!(
        callback.process(&Method::GET, Some(&query), b"").await,
        Err(CallbackError::NonceReplayed)
    ));
}
