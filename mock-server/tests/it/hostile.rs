//! Hostile input to every endpoint, over loopback: bad and oversized queries, garbage, invalid
//! UTF-8, JSON bombs and bodies past the limit, with every method. WeChat's APIs answer with an
//! errcode (HTTP 200 and JSON, as WeChat does), the fake's pages and admin routes with their
//! documented 4xx (or a page); nothing answers a 5xx, drops the connection or stops the fake.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use wechat_mock::MockServer;

use crate::support::START;

/// WeChat's APIs: every hostile request gets HTTP 200 and a non-zero errcode.
const API_PATHS: &[&str] = &[
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
    // No such API: WeChat answers an errcode for it too.
    "/cgi-bin/no/such/api",
    "/%FF%FE",
];

/// The OAuth pages and the fake's own routes: a 4xx, or a page; never a 5xx.
const OTHER_PATHS: &[&str] = &[
    "/",
    "/favicon.ico",
    "/connect/oauth2/authorize",
    "/connect/qrconnect",
    "/open/js/jweixin-1.6.0.js",
    "/mock/jweixin.js",
    "/mock/jssdk/verify",
    "/mock/oauth/confirm",
    "/mock/callback",
    "/mock/push",
    "/mock/menu",
    "/mock/deliveries",
    "/mock/conversation/oNoSuchUser",
    "/mock/apps",
    "/mock/users",
    "/mock/interaction",
    "/mock/clock",
    "/mock/clock/advance",
    "/mock/faults",
    "/mock/requests",
    "/mock/messages",
    "/mock/stats",
    "/mock/avatar/..%2F..%2Fetc%2Fpasswd.svg",
    "/mock/media/%00",
    "/mock/nothing-here",
];

const METHODS: &[&str] = &["GET", "POST", "PUT", "DELETE", "PATCH"];

/// Queries no legitimate caller sends.
fn queries() -> Vec<String> {
    vec![
        String::new(),
        "access_token=&appid=&secret=&code=&openid=".to_owned(),
        "appid=%FF%FE&secret=%C0%AF&access_token=%00&openid=%ED%A0%80&code=%&grant_type=%zz"
            .to_owned(),
        "grant_type=client_credential&appid=wx%00&secret=x&grant_type=authorization_code"
            .to_owned(),
        "redirect_uri=javascript%3Aalert(1)&scope=snsapi_userinfo&state=%3Cscript%3E&response_type=code&appid=wx1"
            .to_owned(),
        "lang=xx&type=bogus&openid=".to_owned() + &"x".repeat(10_000),
        "access_token=a&".repeat(3_000),
    ]
}

/// Bodies no legitimate caller sends (what WeChat's JSON APIs and the admin routes read).
fn bodies() -> Vec<(&'static str, Vec<u8>)> {
    let deep_arrays = [vec![b'['; 100_000], vec![b']'; 100_000]].concat();
    let deep_objects = ["{\"a\":".repeat(50_000), "1".into(), "}".repeat(50_000)].concat();
    vec![
        ("empty", Vec::new()),
        (
            "garbage",
            (0..4096u32).map(|i| (i * 7919 % 251) as u8).collect(),
        ),
        (
            "invalid UTF-8 in JSON",
            b"{\"touser\":\"\xff\xfe\",\"msgtype\":\"text\"}".to_vec(),
        ),
        ("deeply nested arrays", deep_arrays),
        ("deeply nested objects", deep_objects.into_bytes()),
        (
            "huge number",
            b"{\"expire_seconds\":1e999999999,\"button\":[]}".to_vec(),
        ),
        (
            "duplicate keys",
            format!("{{{}\"x\":1}}", "\"button\":[],".repeat(20_000)).into_bytes(),
        ),
        (
            "escaped non-ASCII",
            br#"{"touser":"\u4f60\u597d","text":{"content":"\ud800"}}"#.to_vec(),
        ),
        (
            "NUL bytes",
            b"{\"touser\":\"o\0\0\",\"msgtype\":\"\0\"}".to_vec(),
        ),
        (
            "wrong types",
            br#"{"button":"x","touser":7,"msgtype":[],"grant_type":{}}"#.to_vec(),
        ),
        (
            "XML",
            b"<!DOCTYPE x [<!ENTITY a \"b\">]><xml>&a;</xml>".to_vec(),
        ),
    ]
}

/// An answer read off the socket.
#[derive(Debug)]
struct Answer {
    status: u16,
    head: String,
    body: Vec<u8>,
}

/// Sends `raw` while reading, so a refusal before the body is all sent still arrives. `None`
/// when the fake closed the connection without answering.
async fn exchange(addr: SocketAddr, raw: Vec<u8>) -> Option<Answer> {
    tokio::time::timeout(Duration::from_secs(10), async {
        let stream = TcpStream::connect(addr).await.unwrap();
        let (mut reader, mut writer) = stream.into_split();
        let writing = tokio::spawn(async move {
            let _ = writer.write_all(&raw).await;
            // Keep the write half open until the answer is read.
            writer
        });
        let mut out = Vec::new();
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            match reader.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
        }
        writing.abort();
        parse(&out)
    })
    .await
    .expect("the fake answered within 10 s")
}

fn parse(raw: &[u8]) -> Option<Answer> {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let status = head.get(9..12)?.parse().ok()?;
    let mut body = raw[split + 4..].to_vec();
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        body = dechunk(&body);
    }
    Some(Answer { status, head, body })
}

fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(end) = raw.windows(2).position(|w| w == b"\r\n") {
        let Ok(size) = usize::from_str_radix(&String::from_utf8_lossy(&raw[..end]), 16) else {
            break;
        };
        raw = &raw[end + 2..];
        if size == 0 || raw.len() < size {
            break;
        }
        out.extend_from_slice(&raw[..size]);
        raw = &raw[(size + 2).min(raw.len())..];
    }
    out
}

fn request(method: &str, path: &str, query: &str, body: &[u8]) -> Vec<u8> {
    let target = if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{query}")
    };
    let mut raw = format!(
        "{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    raw.extend_from_slice(body);
    raw
}

/// Whether `answer` is acceptable for a hostile request to `path`.
fn check(path: &str, method: &str, answer: Option<&Answer>) -> Result<(), String> {
    let Some(answer) = answer else {
        return Err("closed without an answer".into());
    };
    if answer.status >= 500 {
        return Err(format!(
            "answered {}: {}",
            answer.status,
            String::from_utf8_lossy(&answer.body)
        ));
    }
    if !API_PATHS.contains(&path) {
        return Ok(());
    }
    if answer.status != 200 {
        return Err(format!("an API answered HTTP {}", answer.status));
    }
    if method == "HEAD" {
        return Ok(());
    }
    let json: serde_json::Value = serde_json::from_slice(&answer.body)
        .map_err(|e| format!("not JSON ({e}): {}", String::from_utf8_lossy(&answer.body)))?;
    match json["errcode"].as_i64() {
        Some(code) if code != 0 => Ok(()),
        _ => Err(format!("no errcode: {json}")),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_answers_hostile_input_without_a_5xx() {
    let mock = MockServer::builder().frozen_clock(START).start().await;
    let addr = mock.address();
    let paths: Vec<&'static str> = API_PATHS.iter().chain(OTHER_PATHS).copied().collect();
    let queries = queries();
    let bodies = bodies();

    // Per path: every method (HEAD too: no body comes back, but the status must still be no
    // 5xx) with a hostile query; every query with GET and POST; every body with POST and a
    // hostile query (and GET, whose body no route reads, with garbage).
    let mut cases = Vec::new();
    for path in &paths {
        for method in METHODS.iter().chain(&["HEAD"]) {
            cases.push((
                *path,
                *method,
                "empty",
                request(method, path, &queries[2], b""),
            ));
        }
        for query in &queries {
            for method in ["GET", "POST"] {
                cases.push((*path, method, "empty", request(method, path, query, b"")));
            }
        }
        for (name, body) in &bodies {
            cases.push((
                *path,
                "POST",
                *name,
                request("POST", path, &queries[2], body),
            ));
        }
        let (name, garbage) = &bodies[1];
        cases.push((
            *path,
            "GET",
            *name,
            request("GET", path, &queries[2], garbage),
        ));
    }
    let sent = cases.len();
    // A few at a time, as a busy client would.
    let limit = Arc::new(Semaphore::new(8));
    let mut running = JoinSet::new();
    for (path, method, body_name, raw) in cases {
        let permit = Arc::clone(&limit).acquire_owned().await.unwrap();
        running.spawn(async move {
            let answer = exchange(addr, raw).await;
            drop(permit);
            check(path, method, answer.as_ref())
                .map_err(|why| format!("{method} {path} (body {body_name}): {why}"))
        });
    }
    let mut failures = Vec::new();
    while let Some(result) = running.join_next().await {
        if let Err(why) = result.expect("no request task panics") {
            failures.push(why);
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {sent} hostile requests misanswered:\n{}",
        failures.len(),
        failures.join("\n")
    );

    // Still the fake it was: a good call works.
    let app = mock.app();
    let good = exchange(
        addr,
        request(
            "GET",
            "/cgi-bin/token",
            &format!(
                "grant_type=client_credential&appid={}&secret={}",
                app.appid,
                app.secret.expose_secret()
            ),
            b"",
        ),
    )
    .await
    .expect("answered");
    assert_eq!(good.status, 200);
    assert!(String::from_utf8_lossy(&good.body).contains("access_token"));
}

#[tokio::test]
async fn bodies_past_the_limit_are_an_errcode_and_are_not_read_whole() {
    let mock = MockServer::builder().frozen_clock(START).start().await;
    let addr = mock.address();
    let limit = 1024 * 1024;
    for path in [
        "/cgi-bin/stable_token",
        "/cgi-bin/menu/create",
        "/cgi-bin/message/custom/send",
        "/cgi-bin/no/such/api",
    ] {
        // Sent whole: 3 MiB.
        let body = vec![b' '; 3 * limit];
        let answer = exchange(addr, request("POST", path, "access_token=x", &body))
            .await
            .unwrap_or_else(|| panic!("{path}: closed without an answer"));
        assert_eq!(answer.status, 200, "{path}: {}", answer.head);
        let json: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
        assert_eq!(json["errcode"], 47001, "{path}: {json}");

        // Declared 50 MiB, stalled after a little past the limit: the fake answers without
        // waiting for the rest.
        let mut raw = format!(
            "POST {path}?access_token=x HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {}\r\n\r\n",
            50 * limit
        )
        .into_bytes();
        raw.extend(std::iter::repeat_n(b' ', limit + 64 * 1024));
        let answer = exchange(addr, raw)
            .await
            .unwrap_or_else(|| panic!("{path}: closed without an answer"));
        assert_eq!(answer.status, 200, "{path}: {}", answer.head);
        let json: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
        assert_eq!(json["errcode"], 47001, "{path}: {json}");
    }
}
