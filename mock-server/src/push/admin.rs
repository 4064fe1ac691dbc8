//! The admin routes of pushing, for the console and scripts (JSON):
//!
//! | Route | Does |
//! |---|---|
//! | `POST /mock/callback` `{"url", "mode": "plaintext\|compat\|safe"[, "appid"]}` | runs the handshake; `{"ok":true,…}` or `{"ok":false,"problem":"…"}` |
//! | `POST /mock/push` `{"openid", "action": {"type": "text", "content": "hi"}}` | a fake user's push; answers the outcome |
//! | `GET /mock/conversation/{openid}[?after=SEQ]` | the user's conversation (entries after `SEQ`) |
//! | `GET /mock/menu[?appid=][&openid=]` | the menu the user sees (conditional menus applied) |
//! | `GET /mock/deliveries[?limit=]` | the HTTP exchanges with callbacks, oldest first |
//!
//! Pushes and handshakes run in their own task, so a browser that navigates away (a VIEW
//! button) does not cut a push short.

use std::sync::Arc;

use bytes::Bytes;
use http::header::SET_COOKIE;
use http::{HeaderValue, Method, Response, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};
use wechat_types::OpenId;
use wechat_types::api::Menu;

use super::CallbackMode;
use super::action::ActionSpec;
use super::view::{entry_json, outcome_json};
use crate::api::admin::admin_error;
use crate::api::menu::rule_matches;
use crate::api::oauth_pages::cookie_name;
use crate::reply;
use crate::router::{Ctx, Shared, lock};

/// Answers the push routes; `None` for any other path.
pub(crate) async fn route(ctx: &Ctx<'_>) -> Option<Response<Bytes>> {
    let path = ctx.path.trim_end_matches('/');
    let response = match (path, ctx.method) {
        ("/mock/callback", &Method::POST) => callback(ctx).await,
        ("/mock/push", &Method::POST) => push(ctx).await,
        ("/mock/push", _) => method_not_allowed(),
        ("/mock/menu", &Method::GET) => menu(ctx),
        ("/mock/deliveries", &Method::GET) => deliveries(ctx),
        _ => match path.strip_prefix("/mock/conversation/") {
            Some(openid) if ctx.method == Method::GET => conversation(ctx, openid),
            Some(_) => method_not_allowed(),
            None => return None,
        },
    };
    Some(response)
}

fn method_not_allowed() -> Response<Bytes> {
    admin_error(StatusCode::METHOD_NOT_ALLOWED, 43001, "method not allowed")
}

fn body<T: for<'de> Deserialize<'de>>(ctx: &Ctx<'_>) -> Result<T, Box<Response<Bytes>>> {
    serde_json::from_slice(ctx.body).map_err(|e| {
        Box::new(admin_error(
            StatusCode::BAD_REQUEST,
            47001,
            &format!("invalid JSON body: {e}"),
        ))
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CallbackSpec {
    url: String,
    mode: Option<String>,
    appid: Option<String>,
}

async fn callback(ctx: &Ctx<'_>) -> Response<Bytes> {
    let spec: CallbackSpec = match body(ctx) {
        Ok(spec) => spec,
        Err(resp) => return *resp,
    };
    let mode = match spec.mode.as_deref() {
        None => CallbackMode::default(),
        Some(text) => match CallbackMode::parse(text) {
            Some(mode) => mode,
            None => {
                return admin_error(
                    StatusCode::BAD_REQUEST,
                    47001,
                    "mode must be plaintext, compat or safe",
                );
            }
        },
    };
    let shared = Arc::clone(ctx.shared);
    let url = spec.url.clone();
    let task = tokio::spawn(async move {
        shared
            .set_callback(spec.appid.as_deref(), &spec.url, mode)
            .await
    });
    match task.await {
        Ok(Ok(())) => reply::json(&json!({ "ok": true, "url": url, "mode": mode.as_str() })),
        Ok(Err(e)) => reply::json(&json!({ "ok": false, "problem": crate::error_chain(&e) })),
        Err(_) => admin_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            -1,
            "the handshake task failed",
        ),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PushSpec {
    openid: String,
    action: ActionSpec,
}

async fn push(ctx: &Ctx<'_>) -> Response<Bytes> {
    let spec: PushSpec = match body(ctx) {
        Ok(spec) => spec,
        Err(resp) => return *resp,
    };
    let appid = {
        let state = ctx.state();
        match state.find_user_anywhere(&spec.openid) {
            Some((app, _)) => state.apps[app].app.appid.clone(),
            None => return admin_error(StatusCode::NOT_FOUND, 40003, "invalid openid"),
        }
    };
    let sample = format!("{}/mock/media/photo.svg", ctx.public_base());
    let message = match spec.action.into_body(&sample) {
        Ok(message) => message,
        Err(e) => return admin_error(StatusCode::BAD_REQUEST, 47001, &e),
    };
    let shared = Arc::clone(ctx.shared);
    let openid = OpenId::new(spec.openid);
    let cookie_openid = openid.clone();
    let task = tokio::spawn(async move { shared.push(&openid, message).await });
    let mut resp = match task.await {
        Ok(outcome) => reply::json(&outcome_json(&outcome)),
        Err(_) => {
            return admin_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                -1,
                "the push task failed",
            );
        }
    };
    // The phone is logged in as this user: the OAuth pages default to them too.
    let cookie = format!(
        "{}={cookie_openid}; Path=/; HttpOnly; SameSite=Lax",
        cookie_name(appid.as_str())
    );
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        resp.headers_mut().insert(SET_COOKIE, value);
    }
    resp
}

fn conversation(ctx: &Ctx<'_>, openid: &str) -> Response<Bytes> {
    let after = ctx
        .query
        .get("after")
        .and_then(|a| a.parse::<u64>().ok())
        .unwrap_or(0);
    let state = ctx.state();
    let Some((app, _)) = state.find_user_anywhere(openid) else {
        return admin_error(StatusCode::NOT_FOUND, 40003, "invalid openid");
    };
    let entries: Vec<Value> = state.apps[app]
        .conversations
        .get(openid)
        .map(|c| {
            c.entries()
                .filter(|e| e.seq > after)
                .map(entry_json)
                .collect()
        })
        .unwrap_or_default();
    reply::json(&entries)
}

fn menu(ctx: &Ctx<'_>) -> Response<Bytes> {
    let state = ctx.state();
    let openid = ctx.query.get("openid");
    let app = match (ctx.query.get("appid"), openid) {
        (Some(appid), _) => state.app_index(appid),
        (None, Some(openid)) => state.find_user_anywhere(openid).map(|(app, _)| app),
        (None, None) => (!state.apps.is_empty()).then_some(0),
    };
    let Some(app) = app else {
        return admin_error(StatusCode::NOT_FOUND, 40013, "no such app or user");
    };
    let app_state = &state.apps[app];
    let Some((default, menuid)) = &app_state.menu else {
        return reply::json(&json!({ "button": [], "menuid": null }));
    };
    let user = openid.and_then(|o| state.user(app, o)).map(|u| &u.user);
    let matched = user.and_then(|user| {
        app_state
            .conditional_menus
            .iter()
            .rev()
            .find(|m| rule_matches(&m.matchrule, user))
    });
    let (buttons, menuid) = match matched {
        Some(m) => (&m.button, m.menuid.as_deref().unwrap_or("")),
        None => (&default.button, menuid.as_str()),
    };
    let mut value = serde_json::to_value(Menu::new(buttons.clone())).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut value {
        map.insert("menuid".into(), menuid.into());
    }
    reply::json(&value)
}

fn deliveries(ctx: &Ctx<'_>) -> Response<Bytes> {
    let limit = ctx
        .query
        .get("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(200);
    let log = lock(&ctx.shared.deliveries);
    let mut list: Vec<Value> = log
        .iter()
        .rev()
        .take(limit)
        .map(|d| serde_json::to_value(d).unwrap_or(Value::Null))
        .collect();
    list.reverse();
    reply::json(&list)
}

impl Shared {
    /// Empties the delivery log (on reset).
    pub(crate) fn clear_deliveries(&self) {
        lock(&self.deliveries).clear();
    }
}
