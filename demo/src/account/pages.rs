//! The account's HTML: self-contained pages (inline CSS, nothing fetched from elsewhere except
//! the avatar and the JS-SDK script the platform serves), sized for a phone.

use std::fmt::Write as _;

use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, LOCATION};
use http::{HeaderValue, Response, StatusCode};
use http_body_util::Full;
use wechat_client::JsSdkConfig;
use wechat_types::api::{Sex, SnsUserInfo};

/// The JS-SDK part of the profile page: the `wx.config` values, or why there are none.
pub(crate) enum JsSdk<'a> {
    /// Signed for the page; `script` is where the JS-SDK is loaded from, if anywhere.
    Config {
        config: &'a JsSdkConfig,
        script: Option<&'a str>,
    },
    /// Signing failed (the ticket could not be fetched, say).
    Unavailable(String),
}

pub(crate) fn home(public_url: &str) -> Response<Full<Bytes>> {
    let body = format!(
        "<header><div class=\"logo\">W</div><div><h1>wechat-rs demo</h1>\
         <p class=\"muted\">An official account built on the wechat-rs SDK</p></div></header>\
         <p>Chat with this account from the wechat-mock console as a fake user: it echoes what \
         you send, greets new followers, answers its menu, and answers <b>slow</b> through the \
         5-second fallback.</p>\
         <p>Its callback URL is <code>{callback}</code>.</p>\
         <p><a class=\"btn\" href=\"/profile\">My profile</a></p>",
        callback = escape(&format!("{public_url}/wechat")),
    );
    page(StatusCode::OK, "wechat-rs demo", &body)
}

pub(crate) fn profile(user: &SnsUserInfo, jssdk: &JsSdk<'_>) -> Response<Full<Bytes>> {
    let sex = match user.sex {
        Sex::Male => "Male",
        Sex::Female => "Female",
        _ => "Not shared",
    };
    let region: Vec<&str> = [&user.country, &user.province, &user.city]
        .into_iter()
        .map(String::as_str)
        .filter(|part| !part.is_empty())
        .collect();
    // Only web URLs become an image source.
    let avatar =
        if user.headimgurl.starts_with("https://") || user.headimgurl.starts_with("http://") {
            format!(
                "<img class=\"avatar\" src=\"{}\" alt=\"\">",
                escape(&user.headimgurl)
            )
        } else {
            "<div class=\"avatar\"></div>".to_owned()
        };
    let mut rows = String::new();
    row(
        &mut rows,
        "OpenID",
        &format!(
            "<code id=\"openid\">{}</code>",
            escape(user.openid.as_str())
        ),
    );
    if let Some(unionid) = &user.unionid {
        row(
            &mut rows,
            "UnionID",
            &format!("<code>{}</code>", escape(unionid.as_str())),
        );
    }
    row(&mut rows, "Region", &or_dash(&region.join(" ")));
    row(&mut rows, "Sex", sex);
    let body = format!(
        "<header>{avatar}<div><h1 id=\"nickname\">{nickname}</h1>\
         <p class=\"muted\">Signed in with WeChat</p></div></header>\
         <table>{rows}</table>{jssdk}\
         <p><a class=\"btn secondary\" href=\"/logout\">Sign out</a></p>",
        nickname = or_dash(&user.nickname),
        jssdk = jssdk_section(jssdk),
    );
    page(StatusCode::OK, &user.nickname, &body)
}

fn jssdk_section(jssdk: &JsSdk<'_>) -> String {
    let (config, script) = match jssdk {
        JsSdk::Unavailable(why) => {
            return format!(
                "<h2>JS-SDK</h2><p class=\"muted\" id=\"wx-status\">wx.config unavailable: {}</p>",
                escape(why)
            );
        }
        JsSdk::Config { config, script } => (*config, *script),
    };
    let mut rows = String::new();
    row(&mut rows, "appId", &code(config.app_id.as_str()));
    row(&mut rows, "timestamp", &code(&config.timestamp.to_string()));
    row(&mut rows, "nonceStr", &code(&config.nonce_str));
    row(&mut rows, "signature", &code(&config.signature));
    let mut section = format!(
        "<h2>JS-SDK</h2><p class=\"muted small\">The signed <code>wx.config</code> of this page.\
         </p><table class=\"small\">{rows}</table>"
    );
    match script {
        Some(src) => {
            // The JSON of the config, safe inside a <script>: `<` never appears raw.
            let json = serde_json::to_string(config)
                .unwrap_or_else(|_| "{}".to_owned())
                .replace('<', "\\u003c");
            let _ = write!(
                section,
                "<p class=\"muted small\" id=\"wx-status\">Loading the JS-SDK…</p>\
                 <script src=\"{src}\"></script><script>{WX_CONFIG}({json});</script>",
                src = escape(src),
            );
        }
        None => section
            .push_str("<p class=\"muted small\" id=\"wx-status\">No JS-SDK script configured.</p>"),
    }
    section
}

/// Calls `wx.config` with the signed values and says how it went.
const WX_CONFIG: &str = "(function(c){var s=document.getElementById('wx-status');\
if(!window.wx){s.textContent='The JS-SDK script did not load.';return;}\
wx.config({debug:false,appId:c.appId,timestamp:c.timestamp,nonceStr:c.nonceStr,\
signature:c.signature,jsApiList:['updateAppMessageShareData','getLocation']});\
wx.ready(function(){s.textContent='wx.config accepted: the JS-SDK is ready.';s.className='ok small';});\
wx.error(function(e){s.textContent='wx.config failed: '+(e&&e.errMsg||'unknown error');s.className='bad small';});})";

pub(crate) fn message(status: StatusCode, title: &str, text: &str) -> Response<Full<Bytes>> {
    let body = format!(
        "<h1>{}</h1><p>{}</p><p><a class=\"btn\" href=\"/profile\">Sign in</a></p>",
        escape(title),
        escape(text)
    );
    page(status, title, &body)
}

pub(crate) fn not_found() -> Response<Full<Bytes>> {
    let body = "<h1>Not found</h1><p>No such page.</p><p><a class=\"btn\" href=\"/\">Home</a></p>";
    page(StatusCode::NOT_FOUND, "Not found", body)
}

pub(crate) fn redirect(status: StatusCode, to: &str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = status;
    if let Ok(value) = HeaderValue::from_str(to) {
        response.headers_mut().insert(LOCATION, value);
    }
    response
}

/// The cover picture of the news card.
pub(crate) fn cover_svg() -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from_static(COVER_SVG.as_bytes())));
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("image/svg+xml"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("max-age=3600"));
    response
}

const COVER_SVG: &str = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 360 200\">\
<defs><linearGradient id=\"g\" x1=\"0\" y1=\"0\" x2=\"1\" y2=\"1\"><stop offset=\"0\" stop-color=\"#07c160\"/>\
<stop offset=\"1\" stop-color=\"#10aeff\"/></linearGradient></defs><rect width=\"360\" height=\"200\" fill=\"url(#g)\"/>\
<circle cx=\"180\" cy=\"84\" r=\"34\" fill=\"#fff\" opacity=\".9\"/><rect x=\"110\" y=\"134\" width=\"140\" height=\"14\" rx=\"7\" \
fill=\"#fff\" opacity=\".9\"/><rect x=\"135\" y=\"158\" width=\"90\" height=\"10\" rx=\"5\" fill=\"#fff\" opacity=\".6\"/></svg>";

fn row(rows: &mut String, label: &str, value_html: &str) {
    let _ = write!(rows, "<tr><th>{label}</th><td>{value_html}</td></tr>");
}

fn code(text: &str) -> String {
    format!("<code>{}</code>", escape(text))
}

fn or_dash(text: &str) -> String {
    if text.is_empty() {
        "—".to_owned()
    } else {
        escape(text)
    }
}

fn page(status: StatusCode, title: &str, body: &str) -> Response<Full<Bytes>> {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><style>{STYLE}</style></head>\
         <body><main class=\"card\">{body}</main></body></html>",
        title = escape(title),
    );
    let mut response = Response::new(Full::new(Bytes::from(html)));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    // Profiles are personal: no shared caches, no back-button copies after sign-out.
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

const STYLE: &str = "\
:root{color-scheme:light;--fg:#1f2328;--muted:#6e7781;--bg:#ededed;--card:#fff;--line:#e5e7eb;--green:#07c160}\
*{box-sizing:border-box}\
body{margin:0;min-height:100vh;display:flex;justify-content:center;align-items:flex-start;background:var(--bg);\
color:var(--fg);font:16px/1.5 -apple-system,BlinkMacSystemFont,'Segoe UI','PingFang SC','Microsoft YaHei',sans-serif}\
.card{width:min(100%,440px);background:var(--card);border-radius:0 0 14px 14px;padding:24px 22px 28px}\
@media (min-width:480px){body{padding-top:32px}.card{border-radius:14px;border:1px solid var(--line)}}\
header{display:flex;gap:16px;align-items:center;margin-bottom:18px}\
h1{font-size:1.35rem;margin:0}\
h2{font-size:1rem;margin:22px 0 2px}\
.muted{color:var(--muted);margin:2px 0 0}\
.small{font-size:.85rem}\
.ok{color:var(--green)}.bad{color:#d93025}\
.avatar,.logo{width:68px;height:68px;border-radius:50%;background:var(--line);object-fit:cover;flex:none}\
.logo{display:grid;place-items:center;background:var(--green);color:#fff;font-weight:700;font-size:30px;border-radius:16px}\
table{width:100%;border-collapse:collapse}\
th,td{text-align:left;padding:9px 0;border-top:1px solid var(--line);vertical-align:top}\
th{color:var(--muted);font-weight:500;width:32%}\
code{font:13px ui-monospace,SFMono-Regular,Menlo,monospace;word-break:break-all}\
.btn{display:inline-block;margin-top:16px;padding:9px 18px;border-radius:8px;background:var(--green);\
color:#fff;text-decoration:none;font-weight:600}\
.btn.secondary{background:transparent;color:var(--fg);border:1px solid var(--line)}";

/// Escapes text for HTML content and quoted attributes.
pub(crate) fn escape(text: &str) -> String {
    html_escape::encode_quoted_attribute(text).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt as _;
    use wechat_types::OpenId;

    async fn html(response: Response<Full<Bytes>>) -> String {
        let body = response.into_body().collect().await.unwrap().to_bytes();
        String::from_utf8(body.to_vec()).unwrap()
    }

    fn user() -> SnsUserInfo {
        SnsUserInfo {
            openid: OpenId::new("oUser\"<x>"),
            nickname: "<script>alert(1)</script>".to_owned(),
            sex: Sex::Female,
            province: "浙江".to_owned(),
            city: "杭州".to_owned(),
            country: "中国".to_owned(),
            headimgurl: "javascript:alert(1)".to_owned(),
            privilege: Vec::new(),
            unionid: None,
        }
    }

    #[tokio::test]
    async fn profile_escapes_what_the_user_controls() {
        let config = JsSdkConfig {
            app_id: "wx1".into(),
            timestamp: 1,
            nonce_str: "n</script>".to_owned(),
            signature: "s".to_owned(),
        };
        let jssdk = JsSdk::Config {
            config: &config,
            script: Some("http://127.0.0.1:1/jweixin.js"),
        };
        let page = html(profile(&user(), &jssdk)).await;
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(!page.contains("<script>alert(1)"));
        assert!(!page.contains("javascript:"), "only web URLs become images");
        assert!(page.contains("中国 浙江 杭州"));
        assert!(page.contains("oUser&quot;&lt;x&gt;"));
        // The nonce cannot close the inline script.
        assert!(page.contains("n\\u003c/script>"));
        assert_eq!(page.matches("</script>").count(), 2);
    }
}
