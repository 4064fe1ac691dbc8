//! `GET /`: a landing page with the apps' credentials, their users and a link to try the OAuth
//! flow in the browser. JSON clients get the apps as JSON.

use std::fmt::Write as _;

use bytes::Bytes;
use http::Response;

use super::escape_html;
use crate::html::{bar, page};
use crate::reply;
use crate::router::Ctx;

pub(crate) fn index(ctx: &Ctx<'_>) -> Response<Bytes> {
    let state = ctx.state();
    let base = ctx.public_base();
    let mut body = bar("wechat-mock");
    body.push_str(
        "<section class=\"card\"><h1>wechat-mock</h1><p class=\"muted\">一个离线的模拟微信服务器：\
         把 SDK 的 api、open、mp 地址都指向这里。</p>",
    );
    let _ = write!(
        body,
        "<table class=\"kv\"><tr><td>Base URL</td><td>{}</td></tr></table></section>",
        escape_html(&base)
    );
    for app in &state.apps {
        let cfg = &app.app;
        let try_url = format!(
            "/connect/oauth2/authorize?appid={}&redirect_uri={}&response_type=code&scope=snsapi_userinfo&state=demo#wechat_redirect",
            cfg.appid,
            form_urlencoded::byte_serialize(format!("{base}/mock/callback").as_bytes())
                .collect::<String>()
        );
        let _ = write!(
            body,
            "<section class=\"card\"><h1>{name}</h1><table class=\"kv\">\
             <tr><td>AppID</td><td>{appid}</td></tr>\
             <tr><td>AppSecret</td><td>{secret}</td></tr>\
             <tr><td>Token</td><td>{token}</td></tr>\
             <tr><td>EncodingAESKey</td><td>{aes}</td></tr>\
             <tr><td>原始 ID</td><td>{gh}</td></tr>\
             <tr><td>OAuth 域名</td><td>{domain}</td></tr></table>\
             <p><a href=\"{try_url}\">试试网页授权 →</a></p><h2>模拟用户</h2><ul class=\"users\">",
            name = escape_html(&cfg.name),
            appid = escape_html(cfg.appid.as_str()),
            // A fake's credentials: showing them is the point of this page.
            secret = escape_html(cfg.secret.expose_secret()),
            token = escape_html(cfg.token.expose_secret()),
            aes = escape_html(cfg.aes_key.expose_secret()),
            gh = escape_html(cfg.account_id.as_str()),
            domain = escape_html(cfg.oauth_domain.as_deref().unwrap_or("（不限）")),
            try_url = escape_html(&try_url),
        );
        for user in &app.users {
            let _ = write!(
                body,
                "<li><div class=\"user\"><img src=\"/mock/avatar/{openid}.svg\" alt=\"\">\
                 <span class=\"who\"><span class=\"name\">{nickname}</span>\
                 <span class=\"muted small\">{openid}</span></span></div></li>",
                openid = escape_html(user.user.openid.as_str()),
                nickname = escape_html(&user.user.nickname),
            );
        }
        body.push_str("</ul></section>");
    }
    reply::html(page("wechat-mock", &body))
}

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
