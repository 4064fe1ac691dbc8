//! A soak of `wechat-mock`: one million mixed requests over loopback (the closed-loop generator
//! of `wechat_benches::load`, 4 keep-alive connections), with the resident set sampled the whole
//! time, to show that a long run stays bounded: token rotation, codes minted by the authorize
//! page (a quarter of the mix, enough to reach the code store's hard cap of 100 000 within the
//! run), custom-service messages, the request log and error paths all have caps.
//!
//! `cargo xtask soak` (or `cargo run --release -p wechat-benches --example mock_soak`);
//! `SOAK_REQUESTS` and `SOAK_CONNECTIONS` change the size. Prints requests/s, latency, errors
//! (answers of 500 or more, or none at all), and RSS at the start, the peak and the end.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use wechat_benches::load::{self, PreparedRequest};
use wechat_mock::MockServer;
use wechat_types::api::Scope;

/// Any answer below 500: the mix has error paths on purpose, and those answer errcodes.
fn answered(status: http::StatusCode, _body: &[u8]) -> bool {
    !status.is_server_error()
}

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

fn main() -> std::io::Result<()> {
    let total = env_number("SOAK_REQUESTS", 1_000_000);
    let connections = env_number("SOAK_CONNECTIONS", 4);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let mock = MockServer::start().await;
        let requests = Arc::new(mixed_requests(&mock).await);
        println!(
            "soak: {total} requests over {connections} connections, a mix of {} kinds",
            requests.len()
        );
        let rss_before = load::resident_kib();

        // A line every 5 s, so a leak shows as a climb.
        let done = Arc::new(AtomicBool::new(false));
        let progress = {
            let done = Arc::clone(&done);
            tokio::spawn(async move {
                let started = Instant::now();
                while !done.load(Ordering::Relaxed) {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    println!(
                        "  t={:>4.0} s  rss {:>7} KiB",
                        started.elapsed().as_secs_f64(),
                        load::resident_kib()
                    );
                }
            })
        };
        let report = load::run_count(
            "wechat-mock soak",
            mock.address(),
            requests,
            connections,
            total,
            answered,
        )
        .await;
        done.store(true, Ordering::Relaxed);
        progress.abort();

        let stats = mock.stats();
        println!(
            "{}: {} requests, {:.0} req/s, p50 {:.1?}, p99 {:.1?}, p999 {:.1?}, {} errors",
            report.name,
            report.requests,
            report.rps,
            report.p50,
            report.p99,
            report.p999,
            report.errors
        );
        println!(
            "RSS (KiB): before {rss_before}, start {}, peak {}, end {} \
             (the generator's latency log is {} KiB of it)",
            report.rss_start_kib,
            report.rss_peak_kib,
            report.rss_end_kib,
            report.requests * 4 / 1024
        );
        println!(
            "held by the fake afterwards: {} codes, {} base tokens, {} sns tokens, \
             {} refresh tokens, {} messages, {} requests logged",
            stats.codes,
            stats.base_tokens,
            stats.sns_access_tokens,
            stats.refresh_tokens,
            stats.messages,
            stats.requests
        );
    });
    Ok(())
}

/// Every kind of request the soak sends, prepared once: successes that grow state (token
/// rotation, codes, messages), reads, and error paths.
async fn mixed_requests(mock: &MockServer) -> Vec<PreparedRequest> {
    let app = mock.app();
    let user = mock.users()[0].openid.clone();
    let secret = app.secret.expose_secret().to_owned();
    let call = |request: http::Request<Bytes>| mock.handle(request);
    let json = |body: &Bytes| -> serde_json::Value { serde_json::from_slice(body).unwrap() };

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
    let token = json(stable.body())["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
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
    let sns = json(sns.body())["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let menu = r#"{"button":[{"type":"click","name":"今日歌曲","key":"V1001"}]}"#;
    let custom = format!(r#"{{"touser":"{user}","msgtype":"text","text":{{"content":"soak"}}}}"#);
    const JSON: &str = "application/json";

    vec![
        // Each call rotates the base token: the fake must forget the replaced ones.
        PreparedRequest::get(format!(
            "/cgi-bin/token?grant_type=client_credential&appid={}&secret={secret}",
            app.appid
        )),
        PreparedRequest::post("/cgi-bin/stable_token", JSON, stable_body),
        PreparedRequest::get(format!("/cgi-bin/menu/get?access_token={token}")),
        PreparedRequest::post(
            format!("/cgi-bin/menu/create?access_token={token}"),
            JSON,
            menu,
        ),
        PreparedRequest::get(format!(
            "/cgi-bin/user/info?access_token={token}&openid={user}&lang=zh_CN"
        )),
        // Each kept (up to the window's limit, then an errcode): the message log must stay capped.
        PreparedRequest::post(
            format!("/cgi-bin/message/custom/send?access_token={token}"),
            JSON,
            custom,
        ),
        PreparedRequest::get(format!(
            "/cgi-bin/ticket/getticket?access_token={token}&type=jsapi"
        )),
        PreparedRequest::get(format!(
            "/sns/userinfo?access_token={sns}&openid={user}&lang=zh_CN"
        )),
        // Each mints a code that is never spent, a quarter of the mix: a flood that fills the
        // code store to its hard cap within the run, so the plateau shows.
        authorize(&app, "snsapi_base", "soak1"),
        authorize(&app, "snsapi_userinfo", "soak2"),
        authorize(&app, "snsapi_base", "soak3"),
        authorize(&app, "snsapi_userinfo", "soak4"),
        // Error paths.
        PreparedRequest::get(format!(
            "/sns/oauth2/access_token?appid={}&secret={secret}&code=not-a-code&grant_type=authorization_code",
            app.appid
        )),
        PreparedRequest::get("/cgi-bin/user/info?access_token=not-a-token&openid=x"),
        PreparedRequest::post(
            format!("/cgi-bin/menu/create?access_token={token}"),
            JSON,
            Bytes::from_static(b"{\"button\":[[[[[[[[[["),
        ),
        PreparedRequest::get("/cgi-bin/no/such/api"),
    ]
}

fn authorize(app: &wechat_mock::MockApp, scope: &str, state: &str) -> PreparedRequest {
    PreparedRequest::get(format!(
        "/connect/oauth2/authorize?appid={}&redirect_uri=https%3A%2F%2Fexample.com%2Fcb\
         &response_type=code&scope={scope}&state={state}",
        app.appid
    ))
}
