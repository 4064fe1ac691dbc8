//! wechat-mock's hottest handlers, called in process through `MockServer::handle` (no socket):
//! the base token, the stable token, the OAuth authorize redirect, the code exchange and
//! userinfo. Each iteration is one full request: routing, validation, state, JSON, request log.

use std::hint::black_box;

use bytes::Bytes;
use criterion::{BatchSize, Criterion};
use wechat_mock::MockServer;
use wechat_types::api::Scope;

fn get(uri: &str) -> http::Request<Bytes> {
    http::Request::get(uri).body(Bytes::new()).unwrap()
}

fn benches(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mock = runtime.block_on(MockServer::start());
    let app = mock.app();
    let user = mock.users()[0].openid.clone();
    let secret = app.secret.expose_secret();

    let mut group = c.benchmark_group("mock");

    let token_uri = format!(
        "/cgi-bin/token?grant_type=client_credential&appid={}&secret={secret}",
        app.appid
    );
    group.bench_function("cgi-bin/token", |b| {
        b.iter(|| black_box(runtime.block_on(mock.handle(get(&token_uri)))))
    });

    let stable_body = Bytes::from(format!(
        r#"{{"grant_type":"client_credential","appid":"{}","secret":"{secret}","force_refresh":false}}"#,
        app.appid
    ));
    group.bench_function("cgi-bin/stable_token", |b| {
        b.iter(|| {
            let request = http::Request::post("/cgi-bin/stable_token")
                .body(stable_body.clone())
                .unwrap();
            black_box(runtime.block_on(mock.handle(request)))
        })
    });

    let authorize = format!(
        "/connect/oauth2/authorize?appid={}&redirect_uri=https%3A%2F%2Fapp.example.com%2Fcb&response_type=code&scope=snsapi_userinfo&state=bench",
        app.appid
    );
    group.bench_function("connect/oauth2/authorize (302)", |b| {
        b.iter(|| black_box(runtime.block_on(mock.handle(get(&authorize)))))
    });

    // Each exchange spends a code: the code is made outside the timed part.
    group.bench_function("sns/oauth2/access_token", |b| {
        b.iter_batched(
            || {
                let code = mock.oauth_code(&user, Scope::UserInfo).unwrap();
                get(&format!(
                    "/sns/oauth2/access_token?appid={}&secret={secret}&code={}&grant_type=authorization_code",
                    app.appid,
                    code.expose_secret()
                ))
            },
            |request| black_box(runtime.block_on(mock.handle(request))),
            BatchSize::SmallInput,
        )
    });

    let code = mock.oauth_code(&user, Scope::UserInfo).unwrap();
    let exchange = runtime.block_on(mock.handle(get(&format!(
        "/sns/oauth2/access_token?appid={}&secret={secret}&code={}&grant_type=authorization_code",
        app.appid,
        code.expose_secret()
    ))));
    let token: wechat_types::api::SnsToken =
        serde_json::from_slice(exchange.body()).expect("a token answer");
    let userinfo = format!(
        "/sns/userinfo?access_token={}&openid={user}&lang=zh_CN",
        token.access_token.expose_secret()
    );
    group.bench_function("sns/userinfo", |b| {
        b.iter(|| black_box(runtime.block_on(mock.handle(get(&userinfo)))))
    });
    group.finish();
}

fn main() {
    // What `criterion_group!`/`criterion_main!` expand to, written out so no undocumented
    // public function is generated.
    let mut c = Criterion::default().configure_from_args();
    benches(&mut c);
    c.final_summary();
}
