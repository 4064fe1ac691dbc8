//! The `wechat-mock` binary, driven over HTTP with plain requests as any client would.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Method, Request};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};

use crate::support::param;

const SECRET: &str = "binary-test-secret-0123456789ab";

/// The running binary: killed on drop if a test fails half way.
struct Binary {
    child: Child,
    base: String,
    stdout: Option<JoinHandle<String>>,
    stderr: Option<JoinHandle<String>>,
}

impl Binary {
    fn start(args: &[&str]) -> Binary {
        let mut child = Command::new(env!("CARGO_BIN_EXE_wechat-mock"))
            .args(args)
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn wechat-mock");
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        stdout.read_line(&mut first).expect("read the first line");
        let base = first.trim().to_owned();
        assert!(
            base.starts_with("http://127.0.0.1:"),
            "first line: {first:?}"
        );
        // Drain both pipes so the child never blocks on a full pipe.
        let stdout = std::thread::spawn(move || {
            let mut rest = String::new();
            let _ = stdout.read_to_string(&mut rest);
            rest
        });
        let mut err = child.stderr.take().unwrap();
        let stderr = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = err.read_to_string(&mut text);
            text
        });
        Binary {
            child,
            base,
            stdout: Some(stdout),
            stderr: Some(stderr),
        }
    }

    /// Stops the binary with SIGINT (Ctrl-C) and returns (success, stdout, stderr).
    #[cfg(unix)]
    fn interrupt(mut self) -> (bool, String, String) {
        let status = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(10);
        let exit = loop {
            if let Some(exit) = self.child.try_wait().unwrap() {
                break exit;
            }
            assert!(
                Instant::now() < deadline,
                "wechat-mock did not stop on SIGINT"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        let stdout = self.stdout.take().unwrap().join().unwrap();
        let stderr = self.stderr.take().unwrap().join().unwrap();
        (exit.success(), stdout, stderr)
    }
}

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Http {
    base: String,
    client: Client<HttpConnector, Full<Bytes>>,
}

impl Http {
    fn new(base: &str) -> Http {
        Http {
            base: base.to_owned(),
            client: Client::builder(TokioExecutor::new()).build_http(),
        }
    }

    async fn call(&self, method: Method, path: &str, body: &str) -> (u16, Option<String>, Bytes) {
        let request = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body.to_owned())))
            .unwrap();
        let response = self.client.request(request).await.expect("request");
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_owned());
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, location, body)
    }

    async fn get(&self, path: &str) -> Value {
        let (status, _, body) = self.call(Method::GET, path, "").await;
        assert_eq!(status, 200);
        serde_json::from_slice(&body).unwrap()
    }

    async fn post(&self, path: &str, body: &Value) -> Value {
        let (status, _, body) = self.call(Method::POST, path, &body.to_string()).await;
        assert_eq!(status, 200);
        serde_json::from_slice(&body).unwrap()
    }
}

#[tokio::test]
async fn a_client_of_the_documented_api_works_against_the_binary() {
    let binary = Binary::start(&[
        "--addr",
        "127.0.0.1:0",
        "--appid",
        "wx0123456789abcdef",
        "--secret",
        SECRET,
        "--oauth-domain",
        "app.example.com",
        "--callback-url",
        "http://127.0.0.1:9/wechat",
        "--users",
        "3",
    ]);
    let http = Http::new(&binary.base);
    let appid = "wx0123456789abcdef";

    // The users, from the admin API.
    let users = http.get("/mock/users").await;
    assert_eq!(users.as_array().unwrap().len(), 3);
    let openid = users[0]["openid"].as_str().unwrap().to_owned();
    let apps = http.get("/mock/apps").await;
    assert_eq!(apps[0]["callback_url"], "http://127.0.0.1:9/wechat");

    // OAuth: authorize answers 302 with a code and the state.
    let authorize = format!(
        "/connect/oauth2/authorize?appid={appid}&redirect_uri=https%3A%2F%2Fapp.example.com%2Fcb&response_type=code&scope=snsapi_userinfo&state=bin1#wechat_redirect"
    );
    let (status, location, _) = http.call(Method::GET, &authorize, "").await;
    assert_eq!(status, 302);
    let location = location.unwrap();
    assert!(location.starts_with("https://app.example.com/cb?code="));
    assert_eq!(param(&location, "state").as_deref(), Some("bin1"));
    let code = param(&location, "code").unwrap();

    // A redirect off the OAuth domain gets the error page.
    let (status, _, page) = http
        .call(
            Method::GET,
            &authorize.replace("app.example.com", "evil.example.com"),
            "",
        )
        .await;
    assert_eq!(status, 200);
    assert!(String::from_utf8_lossy(&page).contains("10003"));

    // Code exchange, userinfo, sns/auth, refresh, code reuse.
    let exchange = format!(
        "/sns/oauth2/access_token?appid={appid}&secret={SECRET}&code={code}&grant_type=authorization_code"
    );
    let token = http.get(&exchange).await;
    assert_eq!(token["openid"], openid.as_str());
    assert_eq!(token["expires_in"], 7200);
    let access = token["access_token"].as_str().unwrap();
    let info = http
        .get(&format!(
            "/sns/userinfo?access_token={access}&openid={openid}&lang=zh_CN"
        ))
        .await;
    assert_eq!(info["nickname"], users[0]["nickname"]);
    assert!(
        info["headimgurl"]
            .as_str()
            .unwrap()
            .starts_with(&binary.base)
    );
    let auth = http
        .get(&format!("/sns/auth?access_token={access}&openid={openid}"))
        .await;
    assert_eq!(auth, json!({"errcode":0,"errmsg":"ok"}));
    let refreshed = http
        .get(&format!(
            "/sns/oauth2/refresh_token?appid={appid}&grant_type=refresh_token&refresh_token={}",
            token["refresh_token"].as_str().unwrap()
        ))
        .await;
    assert_eq!(refreshed["access_token"], token["access_token"]);
    let reused = http.get(&exchange).await;
    assert_eq!(reused["errcode"], 40163);

    // The base token.
    let base = http
        .get(&format!(
            "/cgi-bin/token?grant_type=client_credential&appid={appid}&secret={SECRET}"
        ))
        .await;
    let token = base["access_token"].as_str().unwrap().to_owned();
    assert_eq!(base["expires_in"], 7200);
    let wrong = http
        .get(&format!(
            "/cgi-bin/token?grant_type=client_credential&appid={appid}&secret=nope"
        ))
        .await;
    assert_eq!(wrong["errcode"], 40125);

    // Menu create, get, invalid, delete.
    let menu = json!({"button":[{"type":"click","name":"今日歌曲","key":"V1001"},
        {"name":"菜单","sub_button":[{"type":"view","name":"搜索","url":"https://www.soso.com/"}]}]});
    let created = http
        .post(&format!("/cgi-bin/menu/create?access_token={token}"), &menu)
        .await;
    assert_eq!(created, json!({"errcode":0,"errmsg":"ok"}));
    let got = http
        .get(&format!("/cgi-bin/menu/get?access_token={token}"))
        .await;
    assert_eq!(got["menu"]["button"], menu["button"]);
    let invalid = json!({"button":[{"type":"click","name":"一个太长的菜单名字","key":"k"}]});
    let refused = http
        .post(
            &format!("/cgi-bin/menu/create?access_token={token}"),
            &invalid,
        )
        .await;
    assert_eq!(refused["errcode"], 40018);
    let still = http
        .get(&format!("/cgi-bin/menu/get?access_token={token}"))
        .await;
    assert_eq!(still["menu"]["button"], menu["button"]);
    let deleted = http
        .get(&format!("/cgi-bin/menu/delete?access_token={token}"))
        .await;
    assert_eq!(deleted["errcode"], 0);
    let gone = http
        .get(&format!("/cgi-bin/menu/get?access_token={token}"))
        .await;
    assert_eq!(gone["errcode"], 46003);

    // Ctrl-C stops it cleanly; the banner and the log lines say what they should.
    #[cfg(unix)]
    {
        let (success, stdout, stderr) = binary.interrupt();
        assert!(success, "exit status; stderr: {stderr}");
        assert!(stdout.contains("wx0123456789abcdef"), "{stdout}");
        assert!(
            stdout.contains(SECRET),
            "the fake prints its fake credentials"
        );
        assert!(stderr.contains("GET /cgi-bin/token 200"), "{stderr}");
        assert!(stderr.contains("errcode=40125"), "{stderr}");
        assert!(
            !stderr.contains(SECRET) && !stderr.contains(&code),
            "log lines never carry query strings: {stderr}"
        );
        assert_eq!(
            stderr
                .lines()
                .filter(|l| l.contains("/cgi-bin/menu/"))
                .count(),
            6,
            "one line per request: {stderr}"
        );
    }
}

#[tokio::test]
async fn defaults_alone_make_a_usable_server() {
    let binary = Binary::start(&["--addr", "127.0.0.1:0"]);
    let http = Http::new(&binary.base);
    let apps = http.get("/mock/apps").await;
    let app = &apps[0];
    let token = http
        .get(&format!(
            "/cgi-bin/token?grant_type=client_credential&appid={}&secret={}",
            app["appid"].as_str().unwrap(),
            app["secret"].as_str().unwrap()
        ))
        .await;
    assert_eq!(token["expires_in"], 7200);
    assert_eq!(http.get("/mock/users").await.as_array().unwrap().len(), 5);
}

#[tokio::test]
async fn config_file_apps() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mock.json");
    std::fs::write(
        &path,
        r#"{"apps":[{"appid":"wxaaaaaaaaaaaaaaaa","secret":"sa","users":[{"nickname":"配置用户","openid":"oConf"}]}]}"#,
    )
    .unwrap();
    let binary = Binary::start(&["--addr", "127.0.0.1:0", "--config", path.to_str().unwrap()]);
    let http = Http::new(&binary.base);
    let apps = http.get("/mock/apps").await;
    assert_eq!(
        apps.as_array().unwrap().len(),
        1,
        "the file's app replaces the demo app"
    );
    assert_eq!(apps[0]["appid"], "wxaaaaaaaaaaaaaaaa");
    let users = http.get("/mock/users").await;
    assert_eq!(users[0]["openid"], "oConf");
}

#[test]
fn bad_flags_fail_with_a_message() {
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_wechat-mock"))
            .args(args)
            .output()
            .unwrap()
    };
    let out = run(&["--addr", "127.0.0.1:0", "--aes-key", "short"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--aes-key"));
    let out = run(&[
        "--addr",
        "127.0.0.1:0",
        "--config",
        "/nonexistent/wechat-mock.json",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read"));
    let out = run(&["--addr", "not-an-address"]);
    assert!(!out.status.success());
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = run(&["--addr", &addr]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot listen"));
}

#[cfg(unix)]
#[tokio::test]
async fn a_callback_url_that_fails_the_handshake_is_diagnosed_without_stopping() {
    // Nothing listens on this port any more.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/wechat");
    let binary = Binary::start(&[
        "--addr",
        "127.0.0.1:0",
        "--callback-url",
        &url,
        "--mode",
        "safe",
    ]);
    let http = Http::new(&binary.base);
    let apps = http.get("/mock/apps").await;
    assert_eq!(apps[0]["callback_url"], url.as_str());
    assert_eq!(apps[0]["callback_mode"], "safe");
    // Still serving after the failed handshake.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let deliveries = http.get("/mock/deliveries").await;
        if !deliveries.as_array().unwrap().is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no handshake attempt within 10 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The diagnosis is printed right after the attempt is logged.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (ok, stdout, _) = binary.interrupt();
    assert!(ok);
    assert!(
        stdout.contains(&format!(
            "callback NOT verified: cannot reach the callback {url}"
        )),
        "{stdout}"
    );
    assert!(stdout.contains("(safe mode)"), "{stdout}");
}

#[test]
fn a_bad_mode_is_refused() {
    let output = Command::new(env!("CARGO_BIN_EXE_wechat-mock"))
        .args(["--addr", "127.0.0.1:0", "--mode", "loud"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("not plaintext, compat or safe"));
}
