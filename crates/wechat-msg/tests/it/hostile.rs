//! Hostile requests over loopback against the real `Server`, table-driven: each is answered with
//! a 4xx and a one-line reason (or, for what hyper refuses before the callback sees it, a 4xx or
//! a closed connection), never a 5xx, a panic or a hang. Every exchange is bounded by a timeout,
//! so a hang fails the test instead of stalling it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use wechat_crypto::{EncryptedEnvelope, MessageCrypto};
use wechat_msg::{Callback, CallbackConfig, Mode, Server, handler_fn};
use wechat_types::xml::Reply;
use wechat_types::{AppId, EncodingAesKey};

use crate::support::{
    AES_KEY, APPID, Answer, NOW, Push, Running, Seal, config, crypto, parse_answer, push,
    push_with, start, text_xml, token,
};

/// Small timeouts, so slow clients are cut off quickly.
const HEADER_TIMEOUT: Duration = Duration::from_millis(300);
const BODY_TIMEOUT: Duration = Duration::from_millis(300);
/// The longest any exchange may take before the test calls it a hang.
const HANG: Duration = Duration::from_secs(10);
const PATH: &str = "/wechat";

/// The server under attack: every default but the timeouts, replay protection on, in
/// [`Mode::Auto`] with the EncodingAESKey (so plaintext and encrypted pushes both reach it), and a
/// handler that counts its runs.
async fn target() -> (Running, Arc<AtomicUsize>) {
    let runs = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&runs);
    let callback = Callback::new(
        config(Mode::Auto).replay_protection(true),
        handler_fn(move |_| {
            counter.fetch_add(1, Ordering::SeqCst);
            async { Some(Reply::text("handled")) }
        }),
    )
    .unwrap();
    let server = Server::bind("127.0.0.1:0", callback)
        .await
        .unwrap()
        .header_read_timeout(HEADER_TIMEOUT)
        .body_timeout(BODY_TIMEOUT)
        .path(PATH);
    (start(server).await, runs)
}

/// Writes `raw` and reads until the server closes, keeping what arrived even if the connection
/// ends with a reset (a server that refuses a body early closes with bytes unread). `None` when
/// the connection closed without an answer.
async fn exchange(addr: SocketAddr, raw: &[u8]) -> Option<Answer> {
    tokio::time::timeout(HANG, async {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        // The server may refuse before it has read everything: a failed write is not a failure.
        let _ = stream.write_all(raw).await;
        read_answer(&mut stream).await
    })
    .await
    .expect("the server answered or closed within 10 s")
}

async fn read_answer(stream: &mut TcpStream) -> Option<Answer> {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
    (!out.is_empty()).then(|| parse_answer(&out))
}

fn request(method: &str, query: &str, body: &[u8]) -> Vec<u8> {
    let target = if query.is_empty() {
        PATH.to_owned()
    } else {
        format!("{PATH}?{query}")
    };
    let mut raw = format!(
        "{method} {target} HTTP/1.1\r\nHost: wechat.test\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    raw.extend_from_slice(body);
    raw
}

fn post(push: &Push) -> Vec<u8> {
    request("POST", &push.query, &push.body)
}

/// A query signed for `timestamp` and `nonce`.
fn signed(timestamp: &str, nonce: &str) -> String {
    let signature = wechat_crypto::signature(&token(), timestamp, nonce);
    format!("signature={signature}&timestamp={timestamp}&nonce={nonce}&openid=oUser")
}

/// A safe-mode push whose `Encrypt` is `encrypt`, with a `msg_signature` that holds over it: only
/// the ciphertext itself is wrong (what a holder of the token, or a bug upstream, could send).
fn sealed_as(encrypt: &str, nonce: &str) -> Push {
    let ts = NOW.to_string();
    let msg_signature = wechat_crypto::msg_signature(&token(), &ts, nonce, encrypt);
    Push {
        query: format!(
            "{}&encrypt_type=aes&msg_signature={msg_signature}",
            signed(&ts, nonce)
        ),
        body: EncryptedEnvelope {
            to_user_name: Some("gh_test".into()),
            encrypt: encrypt.to_owned(),
        }
        .to_xml()
        .into_bytes(),
    }
}

/// The raw ciphertext of a good push, edited by `edit`, base64 again.
fn tampered(edit: impl FnOnce(&mut Vec<u8>)) -> String {
    let mut raw = STANDARD.decode(good_encrypt()).unwrap();
    edit(&mut raw);
    STANDARD.encode(raw)
}

/// The document sealed by [`good_encrypt`].
fn sealed_xml() -> String {
    text_xml("sealed", 7)
}

fn good_encrypt() -> String {
    crypto().encrypt_with_random(*b"0123456789abcdef", sealed_xml().as_bytes())
}

/// The pad byte of [`good_encrypt`]'s plaintext: PKCS#7 to 32-byte blocks.
fn good_pad() -> u8 {
    let content = 16 + 4 + sealed_xml().len() + APPID.len();
    (32 - content % 32) as u8
}

fn billion_laughs() -> String {
    let mut doc =
        String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n<!ENTITY lol \"lol\">\n");
    for level in 1..=9 {
        let previous = if level == 1 {
            "lol".to_owned()
        } else {
            format!("lol{}", level - 1)
        };
        doc.push_str(&format!(
            "<!ENTITY lol{level} \"{}\">\n",
            format!("&{previous};").repeat(10)
        ));
    }
    doc.push_str("]>\n<xml><Content>&lol9;</Content></xml>");
    doc
}

/// What a case must get back.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// This 4xx from the callback, with a one-line reason containing the text.
    Refused(u16, &'static str),
    /// Refused by hyper before the callback saw it: a 4xx (its body is hyper's, maybe empty) or
    /// a connection closed without an answer.
    RefusedByHttp,
}

struct Case {
    name: &'static str,
    raw: Vec<u8>,
    expect: Expect,
}

fn case(name: &'static str, raw: Vec<u8>, status: u16, reason: &'static str) -> Case {
    Case {
        name,
        raw,
        expect: Expect::Refused(status, reason),
    }
}

fn cases() -> Vec<Case> {
    let ts = NOW.to_string();
    let good = text_xml("x", 1);
    // Every case that gets past the signature needs a nonce of its own: replay protection is on.
    let nonce = {
        let next = AtomicUsize::new(0);
        move || format!("n{}", next.fetch_add(1, Ordering::Relaxed))
    };
    let plain = |body: &[u8], nonce: String| request("POST", &signed(&ts, &nonce), body);
    let without = |name: &str, nonce: String| {
        let query: Vec<String> = signed(&ts, &nonce)
            .split('&')
            .filter(|kv| !kv.starts_with(&format!("{name}=")))
            .map(str::to_owned)
            .collect();
        request("POST", &query.join("&"), good.as_bytes())
    };
    let safe =
        |xml: &str, nonce: &str| post(&push_with(&token(), &crypto(), Seal::Safe, xml, &ts, nonce));
    let other_app = MessageCrypto::new(
        EncodingAesKey::parse(AES_KEY).unwrap(),
        AppId::new("wxSomebodyElse0001"),
    );
    let encrypted = push(Seal::Safe, &good, "enc");
    let five_mb = 5 * 1024 * 1024;

    vec![
        // The query string.
        case(
            "no query at all",
            request("POST", "", good.as_bytes()),
            400,
            "`signature` is missing",
        ),
        case(
            "no signature",
            without("signature", nonce()),
            400,
            "`signature` is missing",
        ),
        case(
            "no timestamp",
            without("timestamp", nonce()),
            400,
            "`timestamp` is missing",
        ),
        case(
            "no nonce",
            without("nonce", nonce()),
            400,
            "`nonce` is missing",
        ),
        case(
            "wrong signature",
            request(
                "POST",
                &signed(&ts, "n").replace("signature=", "signature=f"),
                good.as_bytes(),
            ),
            403,
            "signature does not match",
        ),
        case(
            "signature not hex",
            request(
                "POST",
                &format!("signature=zz&timestamp={ts}&nonce=n"),
                good.as_bytes(),
            ),
            403,
            "signature does not match",
        ),
        case(
            "empty signature",
            request(
                "POST",
                &format!("signature=&timestamp={ts}&nonce=n"),
                good.as_bytes(),
            ),
            403,
            "signature does not match",
        ),
        case(
            "signature of another token",
            request(
                "POST",
                &format!(
                    "signature={}&timestamp={ts}&nonce=n",
                    wechat_crypto::signature(&wechat_types::ServerToken::new("guess"), &ts, "n")
                ),
                good.as_bytes(),
            ),
            403,
            "signature does not match",
        ),
        case(
            "stale timestamp",
            request(
                "POST",
                &signed(&(NOW - 301).to_string(), &nonce()),
                good.as_bytes(),
            ),
            403,
            "outside the accepted window",
        ),
        case(
            "future timestamp",
            request(
                "POST",
                &signed(&(NOW + 301).to_string(), &nonce()),
                good.as_bytes(),
            ),
            403,
            "outside the accepted window",
        ),
        case(
            "negative timestamp",
            request("POST", &signed("-1", &nonce()), good.as_bytes()),
            403,
            "outside the accepted window",
        ),
        case(
            "non-numeric timestamp",
            request("POST", &signed("soon", &nonce()), good.as_bytes()),
            400,
            "`timestamp` is not a number",
        ),
        case(
            "timestamp past i64",
            request(
                "POST",
                &signed("99999999999999999999999", &nonce()),
                good.as_bytes(),
            ),
            400,
            "`timestamp` is not a number",
        ),
        case(
            "replayed nonce",
            request("POST", &signed(&ts, "used-once"), good.as_bytes()),
            403,
            "nonce was already used",
        ),
        case(
            "percent-encoded invalid UTF-8 in the nonce",
            request("POST", &signed(&ts, "%FF%FE"), good.as_bytes()),
            403,
            "signature does not match",
        ),
        case(
            "unknown encrypt_type",
            request(
                "POST",
                &format!("{}&encrypt_type=rot13", signed(&ts, &nonce())),
                good.as_bytes(),
            ),
            400,
            "encrypt_type `rot13` is not supported",
        ),
        case(
            "junk parameters only",
            request("POST", &"junk=1&".repeat(2000), good.as_bytes()),
            400,
            "`signature` is missing",
        ),
        // URL verification.
        case(
            "verification without echostr",
            request("GET", &signed(&ts, &nonce()), b""),
            400,
            "`echostr` is missing",
        ),
        case(
            "verification with a wrong signature",
            request(
                "GET",
                &format!(
                    "{}&echostr=e",
                    signed(&ts, "n").replace("signature=", "signature=0")
                ),
                b"",
            ),
            403,
            "signature does not match",
        ),
        // Method and path.
        case(
            "PUT",
            request("PUT", &signed(&ts, "n"), good.as_bytes()),
            405,
            "method PUT is not allowed",
        ),
        case(
            "DELETE",
            request("DELETE", &signed(&ts, "n"), b""),
            405,
            "method DELETE is not allowed",
        ),
        case(
            "PATCH",
            request("PATCH", &signed(&ts, "n"), good.as_bytes()),
            405,
            "method PATCH is not allowed",
        ),
        case(
            "OPTIONS",
            request("OPTIONS", &signed(&ts, "n"), b""),
            405,
            "method OPTIONS is not allowed",
        ),
        case(
            "TRACE",
            request("TRACE", &signed(&ts, "n"), b""),
            405,
            "method TRACE is not allowed",
        ),
        case(
            "another path",
            format!(
                "POST /admin?{} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\
                 Connection: close\r\n\r\n",
                signed(&ts, "n")
            )
            .into_bytes(),
            404,
            "not found",
        ),
        // Plaintext bodies.
        case("empty body", plain(b"", nonce()), 400, "message is invalid"),
        case(
            "not XML",
            plain(b"hello there", nonce()),
            400,
            "message is invalid",
        ),
        case(
            "JSON",
            plain(br#"{"MsgType":"text"}"#, nonce()),
            400,
            "message is invalid",
        ),
        case(
            "malformed XML",
            plain(b"<xml><A></B></xml>", nonce()),
            400,
            "malformed XML",
        ),
        case(
            "truncated XML",
            plain(&good.as_bytes()[..good.len() / 2], nonce()),
            400,
            "ends before the root element is closed",
        ),
        case(
            "a tag name that is not a name",
            plain(b"<xml><<M/></xml>", nonce()),
            400,
            "not an XML name",
        ),
        case(
            "missing fields",
            plain(b"<xml><ToUserName>gh</ToUserName></xml>", nonce()),
            400,
            "missing field",
        ),
        case(
            "XXE through a DOCTYPE",
            plain(
                b"<!DOCTYPE xml [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\
                  <xml><Content>&x;</Content></xml>",
                nonce(),
            ),
            400,
            "DOCTYPE is refused",
        ),
        case(
            "billion laughs",
            plain(billion_laughs().as_bytes(), nonce()),
            400,
            "DOCTYPE is refused",
        ),
        case(
            "entity reference without a DOCTYPE",
            plain(b"<xml><Content>&lol9;</Content></xml>", nonce()),
            400,
            "malformed XML",
        ),
        case(
            "deep nesting",
            plain(
                format!("{}{}", "<a>".repeat(5000), "</a>".repeat(5000)).as_bytes(),
                nonce(),
            ),
            400,
            "nests deeper",
        ),
        case(
            "too many elements",
            plain(
                format!("<xml>{}</xml>", "<a/>".repeat(5000)).as_bytes(),
                nonce(),
            ),
            400,
            "more than",
        ),
        case(
            "invalid UTF-8",
            plain(&[good.as_bytes(), b"\xff\xfe"].concat(), nonce()),
            400,
            "not valid UTF-8",
        ),
        case(
            "invalid UTF-8 inside CDATA",
            plain(
                b"<xml><ToUserName><![CDATA[gh\xc3]]></ToUserName></xml>",
                nonce(),
            ),
            400,
            "not valid UTF-8",
        ),
        // Encrypted pushes.
        case(
            "wrong msg_signature",
            request(
                "POST",
                &encrypted.query.replace("msg_signature=", "msg_signature=0"),
                &encrypted.body,
            ),
            403,
            "msg_signature does not match",
        ),
        case(
            "no msg_signature",
            request(
                "POST",
                &format!("{}&encrypt_type=aes", signed(&ts, &nonce())),
                &encrypted.body,
            ),
            400,
            "`msg_signature` is missing",
        ),
        case(
            "envelope without Encrypt",
            {
                let p = sealed_as("x", &nonce());
                request("POST", &p.query, b"<xml><ToUserName>gh</ToUserName></xml>")
            },
            400,
            "no <Encrypt> element",
        ),
        case(
            "envelope with a DOCTYPE",
            {
                let p = sealed_as(&good_encrypt(), &nonce());
                request(
                    "POST",
                    &p.query,
                    &[b"<!DOCTYPE x []>".as_slice(), &p.body].concat(),
                )
            },
            400,
            "DOCTYPE is refused",
        ),
        case(
            "ciphertext text cut short",
            post(&sealed_as(
                &good_encrypt()[..good_encrypt().len() - 5],
                &nonce(),
            )),
            400,
            "ciphertext is invalid",
        ),
        case(
            "ciphertext missing its last block",
            post(&sealed_as(
                &tampered(|raw| raw.truncate(raw.len() - 16)),
                &nonce(),
            )),
            400,
            "ciphertext is invalid",
        ),
        case(
            "ciphertext not base64",
            post(&sealed_as("!!!! not base64 !!!!", &nonce())),
            400,
            "not valid base64",
        ),
        case(
            "ciphertext not a block multiple",
            post(&sealed_as(&STANDARD.encode([7u8; 40]), &nonce())),
            400,
            "not a multiple of 16",
        ),
        case(
            "ciphertext shorter than two blocks",
            post(&sealed_as(&STANDARD.encode([7u8; 16]), &nonce())),
            400,
            "not a multiple of 16 of at least 32",
        ),
        case(
            "ciphertext badly padded",
            // CBC: flipping a byte of the next-to-last block flips the same byte of the last
            // plaintext block. The pad byte becomes 0x40, out of 1..=32.
            post(&sealed_as(
                &tampered(|raw| {
                    let at = raw.len() - 17;
                    raw[at] ^= good_pad() ^ 0x40;
                }),
                &nonce(),
            )),
            400,
            "invalid padding",
        ),
        case(
            "ciphertext too short for its length field",
            // Flipping the first block's bytes 0..4 rewrites the length field (plaintext bytes
            // 16..20) and garbles only the random prefix: a length far past the end.
            post(&sealed_as(
                &tampered(|raw| {
                    let len = sealed_xml().len() as u32;
                    for (byte, delta) in raw[..4].iter_mut().zip((len ^ 0x7fff_ffff).to_be_bytes())
                    {
                        *byte ^= delta;
                    }
                }),
                &nonce(),
            )),
            400,
            "length field exceeds",
        ),
        case(
            "ciphertext for another appid",
            post(&push_with(
                &token(),
                &other_app,
                Seal::Safe,
                &good,
                &ts,
                &nonce(),
            )),
            403,
            "message is for another appid",
        ),
        case(
            "billion laughs inside the ciphertext",
            safe(&billion_laughs(), &nonce()),
            400,
            "DOCTYPE is refused",
        ),
        // Size.
        case(
            "5 MB body declared, 1 KiB sent",
            {
                let p = push(Seal::Plain, &good, &nonce());
                let mut raw = format!(
                    "POST {PATH}?{} HTTP/1.1\r\nHost: x\r\nContent-Length: {five_mb}\r\n\r\n",
                    p.query
                )
                .into_bytes();
                raw.extend_from_slice(&[b'x'; 1024]);
                raw
            },
            413,
            "body exceeds the limit of 65536 bytes",
        ),
        case(
            "5 MB chunked body, stalled after the limit",
            {
                // If the server waited for the whole body it would answer 408 after the body
                // timeout, not 413: the 413 shows it stopped reading at the limit.
                let p = push(Seal::Plain, &good, &nonce());
                let mut raw = format!(
                    "POST {PATH}?{} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
                    p.query
                )
                .into_bytes();
                for _ in 0..(CallbackConfig::DEFAULT_BODY_LIMIT / 4096 + 2) {
                    raw.extend_from_slice(b"1000\r\n");
                    raw.extend_from_slice(&[b'x'; 4096]);
                    raw.extend_from_slice(b"\r\n");
                }
                raw
            },
            413,
            "body exceeds the limit of 65536 bytes",
        ),
        // What hyper refuses before the callback sees it.
        Case {
            name: "raw non-ASCII bytes in the request target",
            raw: b"POST /wechat?nonce=\xff\xfe HTTP/1.1\r\nHost: x\r\n\
                   Content-Length: 0\r\n\r\n"
                .to_vec(),
            expect: Expect::RefusedByHttp,
        },
        Case {
            name: "Content-Length and Transfer-Encoding together",
            raw: format!(
                "POST {PATH}?{} HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\
                 Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                signed(&ts, &nonce())
            )
            .into_bytes(),
            expect: Expect::RefusedByHttp,
        },
        Case {
            name: "two different Content-Lengths",
            raw: format!(
                "POST {PATH}?{} HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\
                 Content-Length: 9\r\n\r\nabcd",
                signed(&ts, &nonce())
            )
            .into_bytes(),
            expect: Expect::RefusedByHttp,
        },
        Case {
            name: "a negative Content-Length",
            raw: b"POST /wechat HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n".to_vec(),
            expect: Expect::RefusedByHttp,
        },
        Case {
            name: "1 MB of headers",
            raw: format!(
                "POST {PATH} HTTP/1.1\r\nHost: x\r\n{}\r\n",
                format!("X-Junk: {}\r\n", "a".repeat(48)).repeat(20_000)
            )
            .into_bytes(),
            expect: Expect::RefusedByHttp,
        },
        Case {
            name: "not HTTP at all",
            raw: b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 TLS to a plain port\r\n\r\n"
                .to_vec(),
            expect: Expect::RefusedByHttp,
        },
    ]
}

/// Whether `answer` is what `expect` says.
fn check(expect: Expect, answer: Option<&Answer>) -> Result<(), String> {
    match (expect, answer) {
        (Expect::Refused(..), None) => Err("closed without an answer".into()),
        (Expect::Refused(status, reason), Some(answer)) => {
            let body = String::from_utf8_lossy(&answer.body);
            if answer.status != status {
                return Err(format!("answered {} {body:?}, not {status}", answer.status));
            }
            if !body.contains(reason) {
                return Err(format!("reason {body:?} lacks {reason:?}"));
            }
            if body.contains('\n') {
                return Err(format!("reason {body:?} is not one line"));
            }
            if answer.header("content-type") != Some("text/plain; charset=utf-8") {
                return Err(format!("content-type {:?}", answer.header("content-type")));
            }
            if body.contains(crate::support::TOKEN) || body.contains(AES_KEY) {
                return Err("a secret is in the answer".into());
            }
            Ok(())
        }
        (Expect::RefusedByHttp, None) => Ok(()),
        (Expect::RefusedByHttp, Some(answer)) if (400..500).contains(&answer.status) => Ok(()),
        (Expect::RefusedByHttp, Some(answer)) => Err(format!(
            "answered {} {:?}",
            answer.status,
            String::from_utf8_lossy(&answer.body)
        )),
    }
}

#[tokio::test]
async fn every_hostile_request_is_refused_with_a_4xx_and_a_reason() {
    let (server, runs) = target().await;
    // The one accepted request: its nonce is then replayed by a case.
    let first = exchange(
        server.addr,
        &request(
            "POST",
            &signed(&NOW.to_string(), "used-once"),
            text_xml("x", 1).as_bytes(),
        ),
    )
    .await
    .unwrap();
    assert_eq!(first.status, 200, "{}", first.text());
    assert_eq!(runs.load(Ordering::SeqCst), 1);

    // Every case runs; the failures are reported together.
    let mut failures = Vec::new();
    for case in cases() {
        let answer = exchange(server.addr, &case.raw).await;
        if let Err(why) = check(case.expect, answer.as_ref()) {
            failures.push(format!("{}: {why}", case.name));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(
        runs.load(Ordering::SeqCst),
        1,
        "no hostile request reached the handler"
    );

    // And the server still serves.
    let after = exchange(
        server.addr,
        &request(
            "POST",
            &signed(&NOW.to_string(), "after"),
            text_xml("x", 2).as_bytes(),
        ),
    )
    .await
    .unwrap();
    assert_eq!(after.status, 200);
    assert_eq!(runs.load(Ordering::SeqCst), 2);
}

/// Sends `head`, then `trickle` one byte every 50 ms (stopping when the server hangs up), and
/// returns what the server answered before it closed the connection.
async fn trickled(addr: SocketAddr, head: Vec<u8>, trickle: Vec<u8>) -> Option<Answer> {
    tokio::time::timeout(HANG, async {
        let stream = TcpStream::connect(addr).await.unwrap();
        let (mut reader, mut writer) = stream.into_split();
        let writing = tokio::spawn(async move {
            if writer.write_all(&head).await.is_err() {
                return;
            }
            for byte in trickle {
                tokio::time::sleep(Duration::from_millis(50)).await;
                if writer.write_all(&[byte]).await.is_err() {
                    return;
                }
            }
            // Out of bytes: keep the connection open, as a slowloris client does.
            std::future::pending::<()>().await;
        });
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            match reader.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
        }
        writing.abort();
        (!out.is_empty()).then(|| parse_answer(&out))
    })
    .await
    .expect("a slow client is cut off within 10 s")
}

#[tokio::test]
async fn slow_clients_are_cut_off_within_the_timeouts() {
    let (server, runs) = target().await;
    let query = signed(&NOW.to_string(), "slow");
    let body = text_xml("x", 3).into_bytes();

    // Slowloris: the head arrives a byte at a time, far slower than the header timeout allows.
    let head = format!(
        "POST {PATH}?{query} HTTP/1.1\r\nHost: x\r\nX-Slow: {}",
        "a".repeat(400)
    );
    let answer = trickled(server.addr, Vec::new(), head.into_bytes()).await;
    if let Some(answer) = answer {
        assert_eq!(answer.status, 408, "{answer:?}");
    }

    // A connection that never sends anything.
    let answer = trickled(server.addr, Vec::new(), Vec::new()).await;
    if let Some(answer) = answer {
        assert_eq!(answer.status, 408, "{answer:?}");
    }

    // The head in time, then the body a byte at a time: 408 with the reason.
    let head = format!(
        "POST {PATH}?{query} HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let answer = trickled(server.addr, head.into_bytes(), body.clone())
        .await
        .expect("a slow body is answered");
    assert_eq!(answer.status, 408);
    assert_eq!(answer.text(), "body did not arrive within the read timeout");

    // The same slowly sent body in chunks.
    let head =
        format!("POST {PATH}?{query} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
    let chunks: Vec<u8> = body
        .chunks(8)
        .flat_map(|c| {
            [
                format!("{:x}\r\n", c.len()).into_bytes(),
                c.to_vec(),
                b"\r\n".to_vec(),
            ]
            .concat()
        })
        .collect();
    let answer = trickled(server.addr, head.into_bytes(), chunks)
        .await
        .expect("a slow chunked body is answered");
    assert_eq!(answer.status, 408);
    assert_eq!(runs.load(Ordering::SeqCst), 0);

    // Meanwhile the server answers others.
    let answer = exchange(server.addr, &request("POST", &query, &body))
        .await
        .unwrap();
    assert_eq!(answer.status, 200);
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}

/// Sends `requests` keep-alive requests on one connection, `gap` apart, then stays idle; returns
/// how many answers arrived and how long after the last request was sent the server closed.
async fn keep_alive(addr: SocketAddr, requests: &[Vec<u8>], gap: Duration) -> (usize, Duration) {
    tokio::time::timeout(HANG, async {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let mut answers = 0;
        let mut buf = vec![0u8; 8192];
        for raw in requests {
            tokio::time::sleep(gap).await;
            stream.write_all(raw).await.unwrap();
            let n = stream.read(&mut buf).await.unwrap();
            assert!(n > 0, "closed while requests kept coming");
            assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
            answers += 1;
        }
        let idle_from = tokio::time::Instant::now();
        // Nothing more is sent: the server must close.
        while stream.read(&mut buf).await.unwrap_or(0) > 0 {}
        (answers, idle_from.elapsed())
    })
    .await
    .expect("an idle keep-alive connection is closed")
}

#[tokio::test]
async fn the_header_timeout_runs_between_requests_not_across_them() {
    let (server, runs) = target().await;
    // Twelve requests 100 ms apart: 1.2 s on one connection, four times the header timeout,
    // but never 300 ms without a head.
    let requests: Vec<Vec<u8>> = (0..12)
        .map(|i| {
            let query = signed(&NOW.to_string(), &format!("keep-{i}"));
            let body = text_xml("x", 100 + i).into_bytes();
            let mut raw = request("POST", &query, &body);
            let text = String::from_utf8(raw.clone()).unwrap();
            raw = text.replace("Connection: close\r\n", "").into_bytes();
            raw
        })
        .collect();
    let (answers, idle) = keep_alive(server.addr, &requests, Duration::from_millis(100)).await;
    assert_eq!(answers, 12);
    assert_eq!(runs.load(Ordering::SeqCst), 12);
    // Then idle: closed after the timeout, within a tick (a quarter of it) and some slack.
    assert!(idle >= HEADER_TIMEOUT, "closed after {idle:?}");
    assert!(idle < HEADER_TIMEOUT * 3, "closed after {idle:?}");
}
