//! Requests a second that the `wechat-mock` server answers over loopback, with the shared
//! closed-loop generator (`wechat_benches::load`): 4 keep-alive connections, 5 s measured after
//! 1 s of warm-up, a mix of the base token, the stable token, `menu/get` and `sns/userinfo`.
//!
//! `cargo run --release -p wechat-benches --example mock_load` (`LOAD_SECONDS` changes the time).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use wechat_benches::load::{self, LoadConfig, PreparedRequest};
use wechat_mock::MockServer;
use wechat_types::api::Scope;

/// A 2xx answer without a non-zero errcode.
fn answered(status: http::StatusCode, body: &[u8]) -> bool {
    const KEY: &[u8] = b"\"errcode\":";
    let errcode_ok = match body.windows(KEY.len()).position(|w| w == KEY) {
        Some(at) => body.get(at + KEY.len()) == Some(&b'0'),
        None => true,
    };
    status.is_success() && errcode_ok
}

fn main() -> std::io::Result<()> {
    let seconds = std::env::var("LOAD_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5u64);
    let config = LoadConfig {
        connections: 4,
        duration: Duration::from_secs(seconds),
        warmup: Duration::from_secs(1),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let report = runtime.block_on(async {
        let mock = MockServer::start().await;
        let app = mock.app();
        let user = mock.users()[0].openid.clone();
        let secret = app.secret.expose_secret().to_owned();
        let call = |request: http::Request<Bytes>| mock.handle(request);

        let stable_body = format!(
            r#"{{"grant_type":"client_credential","appid":"{}","secret":"{secret}"}}"#,
            app.appid
        );
        let stable = call(
            http::Request::post("/cgi-bin/stable_token")
                .body(Bytes::from(stable_body.clone()))
                .unwrap(),
        )
        .await;
        let stable: serde_json::Value = serde_json::from_slice(stable.body()).unwrap();
        let stable = stable["access_token"].as_str().unwrap().to_owned();
        let menu = r#"{"button":[{"type":"click","name":"今日歌曲","key":"V1001"}]}"#;
        call(
            http::Request::post(format!("/cgi-bin/menu/create?access_token={stable}"))
                .body(Bytes::from_static(menu.as_bytes()))
                .unwrap(),
        )
        .await;
        let code = mock.oauth_code(&user, Scope::UserInfo).unwrap();
        let sns = call(
            http::Request::get(format!(
                "/sns/oauth2/access_token?appid={}&secret={secret}&code={}&grant_type=authorization_code",
                app.appid,
                code.expose_secret()
            ))
            .body(Bytes::new())
            .unwrap(),
        )
        .await;
        let sns: serde_json::Value = serde_json::from_slice(sns.body()).unwrap();
        let sns = sns["access_token"].as_str().unwrap().to_owned();

        let requests = Arc::new(vec![
            PreparedRequest::get(format!(
                "/cgi-bin/token?grant_type=client_credential&appid={}&secret={secret}",
                app.appid
            )),
            PreparedRequest::post("/cgi-bin/stable_token", "application/json", stable_body),
            PreparedRequest::get(format!("/cgi-bin/menu/get?access_token={stable}")),
            PreparedRequest::get(format!("/sns/userinfo?access_token={sns}&openid={user}")),
        ]);
        let report = load::run("wechat-mock (token, stable_token, menu/get, userinfo)", mock.address(), requests, config, answered, load::Sampled::ThisProcess).await;
        let stats = mock.stats();
        (report, stats)
    });
    let (r, stats) = report;
    println!(
        "{} connections, {} s measured after {} s warm-up",
        config.connections,
        config.duration.as_secs(),
        config.warmup.as_secs()
    );
    println!(
        "{:<56} {:>10.0} req/s  p50 {:>8.1?}  p99 {:>8.1?}  p999 {:>8.1?}  errors {}",
        r.name, r.rps, r.p50, r.p99, r.p999, r.errors
    );
    println!(
        "held afterwards: {} base tokens, {} requests logged, {} KiB resident",
        stats.base_tokens,
        stats.requests,
        load::resident_kib()
    );
    Ok(())
}
