//! The look of every HTML page the fake serves (OAuth consent, QR login, error pages, the index):
//! one stylesheet, inlined, so pages work offline and fetch nothing from another host; and the
//! tab icon they share.

use bytes::Bytes;
use http::header::CACHE_CONTROL;
use http::{HeaderValue, Response, StatusCode};

use crate::api::escape_html;
use crate::reply;

/// The pages' icon: a white "W" on WeChat green. Browsers ask for `/favicon.ico` on their own,
/// whatever a page links to; they all read SVG whatever the name says.
const FAVICON: &str = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 32 32\">\
<rect width=\"32\" height=\"32\" rx=\"8\" fill=\"#07c160\"/>\
<path d=\"M6 9h4l2.5 10L15 9h2l2.5 10L22 9h4l-4.5 15h-3.5L16 15l-2 9h-3.5z\" fill=\"#fff\"/></svg>";

/// The `<link>` every page carries, so the tab shows the icon without a second guess.
pub(crate) const ICON_LINK: &str =
    "<link rel=\"icon\" type=\"image/svg+xml\" href=\"/favicon.ico\">";

/// `GET /favicon.ico`: the icon, cacheable for a day (the fake's pages and its request log do not
/// count it as an API call).
pub(crate) fn favicon() -> Response<Bytes> {
    let mut resp = reply::with_type(
        StatusCode::OK,
        "image/svg+xml",
        Bytes::from_static(FAVICON.as_bytes()),
    );
    resp.headers_mut().insert(
        CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=86400"),
    );
    resp
}

/// The shared stylesheet: a phone-sized column in WeChat's colours.
pub(crate) const STYLE: &str = r#"
:root{--green:#07c160;--green-dark:#06ad56;--bg:#ededed;--card:#fff;--text:#111;--muted:#888;
--line:#e5e5e5;--red:#fa5151;--radius:12px;color-scheme:light}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--text);font:16px/1.5 -apple-system,BlinkMacSystemFont,
"Helvetica Neue","PingFang SC","Hiragino Sans GB","Microsoft YaHei",sans-serif;-webkit-font-smoothing:antialiased}
.phone{max-width:420px;margin:0 auto;min-height:100vh;padding:0 0 32px;background:var(--bg)}
.bar{position:sticky;top:0;z-index:1;display:flex;align-items:center;justify-content:center;height:48px;
background:#f7f7f7;border-bottom:1px solid var(--line);font-weight:600;font-size:17px}
.card{background:var(--card);margin:12px;border-radius:var(--radius);padding:20px}
.center{text-align:center}
h1{font-size:20px;margin:12px 0 4px;font-weight:600}
h2{font-size:15px;margin:0 0 12px;color:var(--muted);font-weight:400}
p{margin:6px 0}
.muted{color:var(--muted)}
.small{font-size:12px;word-break:break-all}
.app-icon{width:64px;height:64px;margin:8px auto 0;border-radius:14px;background:var(--green);color:#fff;
display:flex;align-items:center;justify-content:center;font-size:30px;font-weight:600}
.perm{text-align:left;margin:16px 0 0;padding:12px 0 0 1.2em;border-top:1px solid var(--line)}
.perm li{margin:4px 0}
ul.users{list-style:none;margin:0;padding:0}
ul.users li+li{border-top:1px solid var(--line)}
.user{display:flex;align-items:center;gap:12px;padding:10px 0;cursor:pointer}
.user img,.avatar{width:44px;height:44px;border-radius:6px;flex:none;background:#ddd}
.user .who{flex:1;min-width:0;text-align:left}
.user .name{display:block;font-weight:500}
.user input{accent-color:var(--green);width:20px;height:20px;flex:none}
.actions{display:flex;gap:12px;margin-top:20px}
.btn{flex:1;display:inline-block;border:0;border-radius:8px;padding:12px 16px;font-size:17px;font-weight:600;
text-align:center;text-decoration:none;cursor:pointer;font-family:inherit}
.btn.primary{background:var(--green);color:#fff}
.btn.primary:hover{background:var(--green-dark)}
.btn.secondary{background:#f2f2f2;color:var(--green)}
.btn.scan{display:flex;align-items:center;gap:12px;width:100%;margin:8px 0;background:#f7f7f7;color:var(--text);
font-weight:500;font-size:16px;text-align:left}
.qr{width:200px;height:200px;margin:16px auto;padding:10px;background:#fff;border:1px solid var(--line);border-radius:8px}
.qr svg{width:100%;height:100%;display:block}
.warn{width:64px;height:64px;margin:8px auto;border-radius:50%;background:var(--red);color:#fff;display:flex;
align-items:center;justify-content:center;font-size:36px;font-weight:700}
.code{display:inline-block;margin-top:8px;padding:2px 10px;border-radius:999px;background:#f2f2f2;color:var(--muted);
font:13px ui-monospace,SFMono-Regular,Menlo,monospace}
table.kv{width:100%;border-collapse:collapse;font-size:14px}
table.kv td{padding:6px 0;border-top:1px solid var(--line);vertical-align:top;word-break:break-all}
table.kv td:first-child{color:var(--muted);width:36%;padding-right:8px}
a{color:#576b95}
.note{text-align:center;color:var(--muted);font-size:12px;margin:16px}
"#;

/// A whole page: `body` is trusted markup; `title` is escaped here.
pub(crate) fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1,viewport-fit=cover\">\
         <meta name=\"robots\" content=\"noindex\">{ICON_LINK}<title>{}</title><style>{STYLE}</style></head>\
         <body><main class=\"phone\">{body}\
         <p class=\"note\">wechat-mock · 模拟页面，并非真正的微信</p></main></body></html>",
        escape_html(title)
    )
}

/// The grey top bar of WeChat's in-app browser.
pub(crate) fn bar(title: &str) -> String {
    format!("<header class=\"bar\">{}</header>", escape_html(title))
}

/// A hidden form field.
pub(crate) fn hidden(name: &str, value: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
        escape_html(name),
        escape_html(value)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_self_contained_and_escaped() {
        let html = page("<t>", "<p>x</p>");
        assert!(html.starts_with("<!doctype html>"));
        assert!(html.contains("&lt;t&gt;"));
        assert!(!html.contains("http://") && !html.contains("https://"));
        assert_eq!(
            hidden("a", "\"x"),
            "<input type=\"hidden\" name=\"a\" value=\"&quot;x\">"
        );
    }
}
