//! `GET /mock/callback`: a demo `redirect_uri` page that shows what the authorization returned.
//! (`GET /` is the console, in `crate::console`.)

use std::fmt::Write as _;

use bytes::Bytes;
use http::Response;

use super::escape_html;
use crate::html::{bar, page};
use crate::reply;
use crate::router::Ctx;

/// `GET /mock/callback`: a demo `redirect_uri` that shows what the authorization returned.
pub(crate) fn callback(ctx: &Ctx<'_>) -> Response<Bytes> {
    let code = ctx.query.get("code");
    let state = ctx.query.get("state").unwrap_or("");
    let mut body = bar("授权结果");
    match code {
        Some(code) => {
            let _ = write!(
                body,
                "<section class=\"card\"><h1>用户已允许授权</h1><table class=\"kv\">\
                 <tr><td>code</td><td>{code}</td></tr><tr><td>state</td><td>{state}</td></tr></table>\
                 <p class=\"muted small\">用 code 换取 access_token：GET /sns/oauth2/access_token?appid=…&amp;secret=…&amp;code=…&amp;grant_type=authorization_code（5 分钟内有效，只能使用一次）</p></section>",
                code = escape_html(code),
                state = escape_html(state),
            );
        }
        None => {
            let _ = write!(
                body,
                "<section class=\"card\"><h1>用户拒绝了授权</h1><table class=\"kv\">\
                 <tr><td>state</td><td>{}</td></tr></table></section>",
                escape_html(state)
            );
        }
    }
    reply::html(page("授权结果", &body))
}
