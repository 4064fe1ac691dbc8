//! `GET /`: the console. A phone-like chat with the account as any fake user (text, the
//! account's custom menu, follow and unfollow, location, scans), the replies rendered as WeChat
//! shows them, and beside it the app's credentials, its callback form and the live logs.
//!
//! The page is plain HTML, CSS and JavaScript compiled into the binary (`console.css`,
//! `console.js` beside this file) and shares the look of the OAuth pages ([`crate::html::STYLE`]);
//! it fetches nothing from outside. The credentials, users and menu are rendered by the server,
//! so the page is useful without JavaScript and to `curl`; `Accept: application/json` gets the
//! same facts as JSON. `?appid=` picks another app.
//!
//! Stable hooks for browser tests: `select#user`, `input#text`, `button#send`,
//! `button#subscribe`, `button#unsubscribe`; chat bubbles `.bubble.from-user` /
//! `.bubble.from-account` (news cards `.news-card`); menu buttons `.menu-button` (with
//! `data-key` / `data-url`) and their sub-menu items `.menu-item`.

use std::fmt::Write as _;

use bytes::Bytes;
use http::Response;
use http::header::ACCEPT;
use serde_json::{Value, json};
use wechat_types::api::Button;

use crate::api::escape_html;
use crate::html::{ICON_LINK, STYLE};
use crate::reply;
use crate::router::Ctx;
use crate::state::AppState;

const CSS: &str = include_str!("console.css");
const JS: &str = include_str!("console.js");

pub(crate) fn index(ctx: &Ctx<'_>) -> Response<Bytes> {
    let state = ctx.state();
    let app = ctx
        .query
        .get("appid")
        .and_then(|a| state.app_index(a))
        .unwrap_or(0);
    let Some(app_state) = state.apps.get(app) else {
        return reply::json(&json!({ "base_url": ctx.public_base(), "apps": [] }));
    };
    if prefers_json(ctx) {
        return reply::json(&overview_json(ctx, &state.apps));
    }
    let others: Vec<(&str, &str)> = state
        .apps
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != app)
        .map(|(_, a)| (a.app.appid.as_str(), a.app.name.as_str()))
        .collect();
    reply::html(page(ctx, app_state, &others))
}

/// `Accept: application/json` (and not HTML) gets the overview as JSON.
fn prefers_json(ctx: &Ctx<'_>) -> bool {
    ctx.headers
        .get_all(ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("application/json") && !v.contains("text/html"))
}

fn overview_json(ctx: &Ctx<'_>, apps: &[AppState]) -> Value {
    json!({
        "base_url": ctx.public_base(),
        "console": format!("{}/", ctx.public_base()),
        "apps": apps.iter().map(|a| json!({
            "appid": a.app.appid.as_str(),
            "name": a.app.name,
            "account_id": a.app.account_id.as_str(),
            "callback_url": a.app.callback_url,
            "callback_mode": a.app.callback_mode.as_str(),
            "users": a.users.iter().map(|u| json!({
                "openid": u.user.openid.as_str(),
                "nickname": u.user.nickname,
                "subscribed": u.user.subscribed,
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}

/// JSON inside `<script type="application/json">`: `<` escaped so no `</script>` can end it.
fn script_json(value: &Value) -> String {
    value.to_string().replace('<', "\\u003c")
}

fn page(ctx: &Ctx<'_>, app_state: &AppState, others: &[(&str, &str)]) -> String {
    let app = &app_state.app;
    let base = ctx.public_base();
    let first = app_state.users.first().map(|u| &u.user);
    let menu = app_state
        .menu
        .as_ref()
        .map(|(m, _)| m.button.as_slice())
        .unwrap_or(&[]);

    let mut options = String::new();
    for user in &app_state.users {
        let _ = write!(
            options,
            "<option value=\"{openid}\">{nickname}{unfollowed}</option>",
            openid = escape_html(user.user.openid.as_str()),
            nickname = escape_html(&user.user.nickname),
            unfollowed = if user.user.subscribed {
                ""
            } else {
                "（未关注）"
            },
        );
    }
    let mut apps_nav = String::new();
    for (appid, name) in others {
        let _ = write!(
            apps_nav,
            "<a href=\"/?appid={appid}\">{name}</a>",
            appid = escape_html(appid),
            name = escape_html(name)
        );
    }
    let try_oauth = format!(
        "/connect/oauth2/authorize?appid={}&redirect_uri={}&response_type=code&scope=snsapi_userinfo&state=console#wechat_redirect",
        app.appid,
        form_urlencoded::byte_serialize(format!("{base}/mock/callback").as_bytes())
            .collect::<String>()
    );
    let mode_options: String = ["plaintext", "compat", "safe"]
        .iter()
        .map(|m| {
            let label = match *m {
                "plaintext" => "明文模式 plaintext",
                "compat" => "兼容模式 compat",
                _ => "安全模式 safe",
            };
            let selected = if app.callback_mode.as_str() == *m {
                " selected"
            } else {
                ""
            };
            format!("<option value=\"{m}\"{selected}>{label}</option>")
        })
        .collect();
    let boot = json!({
        "base": base,
        "appid": app.appid.as_str(),
        "name": app.name,
        "account_id": app.account_id.as_str(),
        "menu": { "button": menu },
        "users": app_state.users.iter().map(|u| json!({
            "openid": u.user.openid.as_str(),
            "nickname": u.user.nickname,
            "subscribed": u.user.subscribed,
        })).collect::<Vec<_>>(),
    });
    let initial = app
        .name
        .chars()
        .next()
        .map(String::from)
        .unwrap_or_default();
    format!(
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <meta name=\"robots\" content=\"noindex\">{ICON_LINK}\
         <title>wechat-mock · {name}</title>\
         <style>{STYLE}{CSS}</style></head><body class=\"console\">\
         <header class=\"topbar\"><span class=\"brand\"><span class=\"logo\">W</span>wechat-mock</span>\
         <span class=\"muted\">模拟微信控制台 · 不是真正的微信</span><nav class=\"apps\">{apps_nav}</nav></header>\
         <div class=\"layout\">\
         <section class=\"device-col\">\
         <label class=\"who\">以模拟用户身份聊天 <select id=\"user\">{options}</select></label>\
         <div class=\"device\">\
         <div class=\"status-bar\"><span>9:41</span><span class=\"signal\">▂▄▆█ WiFi ▮▮▮</span></div>\
         <div class=\"chat-title\"><span class=\"back\">‹</span>\
         <span class=\"title-text\"><span id=\"chat-name\">{name}</span><span id=\"typing\" class=\"typing\" hidden>对方正在输入…</span></span>\
         <span class=\"more\">···</span></div>\
         <div id=\"chat\" class=\"chat\" aria-live=\"polite\"><p class=\"system\" id=\"chat-empty\">发一条消息，或点底部菜单：消息会按公众号的加密模式推送到开发者服务器。</p></div>\
         <div class=\"composer\"><button type=\"button\" class=\"icon\" id=\"voice\" title=\"发送语音\">◉</button>\
         <input id=\"text\" type=\"text\" placeholder=\"发消息\" autocomplete=\"off\" maxlength=\"2000\">\
         <button type=\"button\" class=\"icon\" id=\"image\" title=\"发送图片\">＋</button>\
         <button type=\"button\" id=\"send\">发送</button></div>\
         <nav id=\"menubar\" class=\"menubar\">{menubar}</nav>\
         </div>\
         <div class=\"device-actions\">\
         <button type=\"button\" class=\"chip\" id=\"subscribe\">关注</button>\
         <button type=\"button\" class=\"chip\" id=\"unsubscribe\">取消关注</button>\
         <button type=\"button\" class=\"chip\" id=\"location\">发送位置</button>\
         <span class=\"scan-group\"><input id=\"scene\" value=\"poster42\" aria-label=\"二维码场景值\" title=\"带参数二维码的场景值\">\
         <button type=\"button\" class=\"chip\" id=\"scan\">扫码</button></span>\
         </div></section>\
         <section class=\"side\">\
         <div class=\"panel\"><h3><span class=\"avatar-sq\">{initial}</span>{name}</h3>\
         <table class=\"kv creds\">\
         <tr><td>AppID</td><td><code>{appid}</code></td></tr>\
         <tr><td>AppSecret</td><td><code>{secret}</code></td></tr>\
         <tr><td>Token</td><td><code>{token}</code></td></tr>\
         <tr><td>EncodingAESKey</td><td><code>{aes}</code></td></tr>\
         <tr><td>原始 ID</td><td><code>{gh}</code></td></tr>\
         <tr><td>API 地址</td><td><code>{base_html}</code></td></tr>\
         <tr><td>服务器地址</td><td><code id=\"callback-current\">{callback}</code> <span class=\"tag\" id=\"mode-current\">{mode}</span></td></tr>\
         </table>\
         <form id=\"callback-form\" class=\"callback-form\">\
         <input id=\"callback-url\" name=\"url\" type=\"url\" placeholder=\"http://127.0.0.1:8080/wechat\" value=\"{callback_value}\" required>\
         <select id=\"callback-mode\" name=\"mode\">{mode_options}</select>\
         <button type=\"submit\" id=\"callback-submit\" class=\"btn primary\">提交（验证 Token）</button></form>\
         <p id=\"callback-result\" class=\"result\" hidden></p>\
         <p class=\"links\"><a href=\"{try_oauth}\">试试网页授权 →</a> · <a href=\"/mock/users?appid={appid}\">用户 JSON</a> · <a href=\"/mock/apps\">应用 JSON</a></p>\
         </div>\
         <div class=\"panel\"><h3>推送 <span class=\"muted small\">微信 → 开发者服务器</span></h3>\
         <table class=\"log\" id=\"deliveries\"><tbody></tbody></table></div>\
         <div class=\"panel\"><h3>API 调用 <span class=\"muted small\">开发者服务器 → 微信</span>\
         <label class=\"small muted toggle\"><input type=\"checkbox\" id=\"show-admin\"> 显示 /mock/</label></h3>\
         <table class=\"log\" id=\"requests\"><tbody></tbody></table></div>\
         </section></div>\
         <script id=\"boot\" type=\"application/json\">{boot}</script>\
         <script>{JS}</script></body></html>",
        name = escape_html(&app.name),
        appid = escape_html(app.appid.as_str()),
        // A fake's credentials: showing them is the point of this page.
        secret = escape_html(app.secret.expose_secret()),
        token = escape_html(app.token.expose_secret()),
        aes = escape_html(app.aes_key.expose_secret()),
        gh = escape_html(app.account_id.as_str()),
        base_html = escape_html(&base),
        callback = escape_html(app.callback_url.as_deref().unwrap_or("（未配置）")),
        callback_value = escape_html(app.callback_url.as_deref().unwrap_or("")),
        mode = app.callback_mode.as_str(),
        try_oauth = escape_html(&try_oauth),
        menubar = menubar(menu, first.is_some()),
        boot = script_json(&boot),
    )
}

/// The menu bar as the server renders it (the script renders the same markup when the menu
/// changes).
fn menubar(buttons: &[Button], has_user: bool) -> String {
    if buttons.is_empty() || !has_user {
        return "<span class=\"menu-empty\">该公众号还没有自定义菜单</span>".to_owned();
    }
    let mut out = String::new();
    for (i, button) in buttons.iter().enumerate() {
        if button.sub_button.is_empty() {
            out.push_str(&button_html("menu-button", button));
        } else {
            let _ = write!(
                out,
                "<div class=\"menu-slot\"><button type=\"button\" class=\"menu-button group\" data-group=\"{i}\">{name}</button>\
                 <div class=\"submenu\" hidden>",
                name = escape_html(&button.name)
            );
            for sub in &button.sub_button {
                out.push_str(&button_html("menu-item", sub));
            }
            out.push_str("</div></div>");
        }
    }
    out
}

fn button_html(class: &str, button: &Button) -> String {
    let mut attrs = String::new();
    if let Some(kind) = &button.kind {
        let _ = write!(attrs, " data-type=\"{}\"", escape_html(kind.as_str()));
    }
    for (name, value) in [
        ("key", &button.key),
        ("url", &button.url),
        ("pagepath", &button.pagepath),
        ("media", &button.media_id),
    ] {
        if let Some(value) = value {
            let _ = write!(attrs, " data-{name}=\"{}\"", escape_html(value));
        }
    }
    let mut out = format!(
        "<button type=\"button\" class=\"{class}\"{attrs}>{}</button>",
        escape_html(&button.name)
    );
    if class == "menu-button" {
        out = format!("<div class=\"menu-slot\">{out}</div>");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn menu_markup_carries_keys_and_urls() {
        let html = menubar(
            &[
                Button::click("你好", "K<1>"),
                Button::group("更多", vec![Button::view("主页", "http://a/?x=1&y=2")]),
            ],
            true,
        );
        assert!(html.contains("class=\"menu-button\" data-type=\"click\" data-key=\"K&lt;1&gt;\""));
        assert!(
            html.contains(
                "class=\"menu-item\" data-type=\"view\" data-url=\"http://a/?x=1&amp;y=2\""
            )
        );
        assert!(html.contains("class=\"menu-button group\""));
        assert!(menubar(&[], true).contains("menu-empty"));
    }

    #[test]
    fn boot_json_cannot_close_its_script() {
        assert_eq!(script_json(&json!("</script>")), "\"\\u003c/script>\"");
    }
}
