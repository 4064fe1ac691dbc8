//! The fake's own control API under `/mock/` (JSON), the same operations as the library handles:
//!
//! | Route | Does |
//! |---|---|
//! | `GET /mock/apps` · `POST /mock/apps` | list apps (with their fake credentials) · add one |
//! | `GET /mock/users?appid=` · `POST /mock/users` | list users of an app (default app without `appid`) · add one |
//! | `POST /mock/interaction` `{"openid"[,"appid"]}` | open a user's customer-service window |
//! | `GET /mock/clock` · `POST /mock/clock/advance` `{"seconds":N}` | read · move the mock clock |
//! | `GET /mock/faults` · `POST /mock/faults` · `DELETE /mock/faults` | list · inject · clear faults |
//! | `GET /mock/requests?path=&limit=` | the request log (secrets in queries redacted) |
//! | `GET /mock/messages?openid=&appid=` | custom-service messages sent |
//! | `GET /mock/stats` | what the fake holds in memory |
//! | `POST /mock/reset` | back to the configured apps and users |
//! | `GET|POST /mock/oauth/confirm` | the consent pages' answer |
//! | `GET /mock/avatar/{openid}.svg` | generated avatars |
//! | `GET /mock/media/{name}.svg` | a placeholder picture for any media (image messages, news cards) |
//! | `GET /mock/jweixin.js` · `GET /mock/jssdk/verify` | the fake JS-SDK and its signature check |
//! | `POST /mock/callback` · `POST /mock/push` · `GET /mock/conversation/{openid}` · `GET /mock/menu` · `GET /mock/deliveries` | pushing (see the push module) |
//! | `GET /mock/callback` | a demo `redirect_uri` page that shows the code and state |
//!
//! Admin errors answer a 4xx status with `{"errcode":N,"errmsg":"…"}` (the admin API is the
//! fake's own, not WeChat's, so it uses HTTP statuses).

use bytes::Bytes;
use http::{Method, Response, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{avatar, oauth_pages};
use crate::config::{AppSpec, MockApp, MockUser, UserSpec};
use crate::control::DEFAULT_FAKE_USERS;
use crate::fault::{FaultSpec, fault_json};
use crate::log::redact_query;
use crate::reply;
use crate::router::{Ctx, lock};
use crate::state::UserState;

pub(crate) fn route(ctx: &Ctx<'_>) -> Response<Bytes> {
    let path = ctx.path.trim_end_matches('/');
    let method = ctx.method;
    if let Some(file) = path.strip_prefix("/mock/avatar/") {
        return avatar::serve(ctx, file);
    }
    if let Some(file) = path.strip_prefix("/mock/media/") {
        return avatar::media(file);
    }
    match (path, method) {
        ("/mock/jweixin.js", &Method::GET) => super::jssdk::script(ctx),
        ("/mock/jssdk/verify", &Method::GET) => super::jssdk::verify(ctx),
        ("/mock/oauth/confirm", &Method::GET | &Method::POST) => oauth_pages::confirm(ctx),
        ("/mock/callback", &Method::GET) => super::pages::callback(ctx),
        ("/mock/apps", &Method::GET) => list_apps(ctx),
        ("/mock/apps", &Method::POST) => add_app(ctx),
        ("/mock/users", &Method::GET) => list_users(ctx),
        ("/mock/users", &Method::POST) => add_user(ctx),
        ("/mock/interaction", &Method::POST) => interaction(ctx),
        ("/mock/clock", &Method::GET) => clock(ctx),
        ("/mock/clock/advance", &Method::POST) => advance(ctx),
        ("/mock/faults", &Method::GET) => list_faults(ctx),
        ("/mock/faults", &Method::POST) => add_fault(ctx),
        ("/mock/faults", &Method::DELETE) => {
            lock(&ctx.shared.faults).clear();
            reply::ok()
        }
        ("/mock/requests", &Method::GET) => requests(ctx),
        ("/mock/messages", &Method::GET) => messages(ctx),
        ("/mock/stats", &Method::GET) => stats(ctx),
        ("/mock/reset", &Method::POST) => {
            ctx.shared.reset();
            reply::ok()
        }
        (
            "/mock/oauth/confirm"
            | "/mock/apps"
            | "/mock/users"
            | "/mock/interaction"
            | "/mock/clock"
            | "/mock/clock/advance"
            | "/mock/faults"
            | "/mock/requests"
            | "/mock/messages"
            | "/mock/stats"
            | "/mock/reset",
            _,
        ) => admin_error(StatusCode::METHOD_NOT_ALLOWED, 43001, "method not allowed"),
        _ => admin_error(
            StatusCode::NOT_FOUND,
            48001,
            &format!("no admin route {path}"),
        ),
    }
}

pub(crate) fn admin_error(status: StatusCode, errcode: i64, errmsg: &str) -> Response<Bytes> {
    let mut resp = reply::json_status(status, &json!({ "errcode": errcode, "errmsg": errmsg }));
    resp.extensions_mut()
        .insert(reply::AnsweredErrCode(errcode));
    resp
}

fn bad_request(errmsg: &str) -> Response<Bytes> {
    admin_error(StatusCode::BAD_REQUEST, 47001, errmsg)
}

fn body<T: for<'de> Deserialize<'de>>(ctx: &Ctx<'_>) -> Result<T, String> {
    serde_json::from_slice(ctx.body).map_err(|e| format!("invalid JSON body: {e}"))
}

/// An app as the admin API shows it, fake credentials included: showing them is the point.
#[derive(Serialize)]
struct AppView<'a> {
    appid: &'a str,
    secret: &'a str,
    token: &'a str,
    aes_key: &'a str,
    account_id: &'a str,
    name: &'a str,
    callback_url: Option<&'a str>,
    callback_mode: &'static str,
    oauth_domain: Option<&'a str>,
    unionid: bool,
    ip_whitelist: Vec<String>,
    daily_quota: Option<u32>,
}

fn app_view(app: &MockApp) -> AppView<'_> {
    AppView {
        appid: app.appid.as_str(),
        secret: app.secret.expose_secret(),
        token: app.token.expose_secret(),
        aes_key: app.aes_key.expose_secret(),
        account_id: app.account_id.as_str(),
        name: &app.name,
        callback_url: app.callback_url.as_deref(),
        callback_mode: app.callback_mode.as_str(),
        oauth_domain: app.oauth_domain.as_deref(),
        unionid: app.unionid,
        ip_whitelist: app.ip_whitelist.iter().map(ToString::to_string).collect(),
        daily_quota: app.daily_quota,
    }
}

#[derive(Serialize)]
struct UserView<'a> {
    openid: &'a str,
    unionid: Option<&'a str>,
    nickname: &'a str,
    sex: u8,
    country: &'a str,
    province: &'a str,
    city: &'a str,
    language: &'a str,
    headimgurl: String,
    subscribed: bool,
    subscribe_time: i64,
    tags: &'a [i64],
    remark: &'a str,
    last_interaction: Option<i64>,
    /// True while custom-service messages can reach the user.
    service_window_open: bool,
    /// Sent since the user's last message (5 allowed within 48 hours).
    sent_in_window: u32,
    /// Sent since the user's last click, follow or scan (3 allowed within a minute).
    sent_in_event_window: u32,
}

fn user_view<'a>(ctx: &Ctx<'_>, state: &'a UserState) -> UserView<'a> {
    let user: &MockUser = &state.user;
    UserView {
        openid: user.openid.as_str(),
        unionid: user.unionid.as_ref().map(|u| u.as_str()),
        nickname: &user.nickname,
        sex: user.sex.code(),
        country: &user.country,
        province: &user.province,
        city: &user.city,
        language: &user.language,
        headimgurl: ctx.avatar_url(user.openid.as_str()),
        subscribed: user.subscribed,
        subscribe_time: user.subscribe_time,
        tags: &user.tags,
        remark: &user.remark,
        last_interaction: state.last_interaction(),
        service_window_open: state.window_for_send(ctx.now).is_ok(),
        sent_in_window: state.message_window.sent,
        sent_in_event_window: state.event_window.sent,
    }
}

fn list_apps(ctx: &Ctx<'_>) -> Response<Bytes> {
    let apps = ctx.shared.apps();
    reply::json(&apps.iter().map(app_view).collect::<Vec<_>>())
}

fn add_app(ctx: &Ctx<'_>) -> Response<Bytes> {
    let spec: AppSpec = match body(ctx) {
        Ok(spec) => spec,
        Err(e) => return bad_request(&e),
    };
    let crate::config::AppParts { app, users, count } = match spec.into_app() {
        Ok(parts) => parts,
        Err(e) => return bad_request(&crate::error_chain(&e)),
    };
    let users = users.unwrap_or_else(|| {
        (0..count
            .unwrap_or(DEFAULT_FAKE_USERS)
            .min(crate::config::MAX_USERS_PER_APP))
            .map(|i| MockUser::generated(&app.appid, i))
            .collect()
    });
    match ctx.shared.add_app(app, users) {
        Ok(app) => reply::json(&app_view(&app)),
        Err(e) => admin_error(StatusCode::CONFLICT, 47001, &crate::error_chain(&e)),
    }
}

fn list_users(ctx: &Ctx<'_>) -> Response<Bytes> {
    match ctx.shared.user_states(ctx.query.get("appid")) {
        Ok(users) => reply::json(&users.iter().map(|u| user_view(ctx, u)).collect::<Vec<_>>()),
        Err(e) => admin_error(StatusCode::NOT_FOUND, 40013, &crate::error_chain(&e)),
    }
}

fn add_user(ctx: &Ctx<'_>) -> Response<Bytes> {
    let spec: UserSpec = match body(ctx) {
        Ok(spec) => spec,
        Err(e) => return bad_request(&e),
    };
    let appid = spec.appid.clone();
    let user = match spec.into_user() {
        Ok(user) => user,
        Err(e) => return bad_request(&crate::error_chain(&e)),
    };
    match ctx.shared.add_user(appid.as_deref(), user) {
        Ok(user) => {
            let state = UserState::new(user, ctx.now);
            reply::json(&user_view(ctx, &state))
        }
        Err(e @ crate::config::ConfigError::UnknownApp(_)) => {
            admin_error(StatusCode::NOT_FOUND, 40013, &crate::error_chain(&e))
        }
        Err(e) => admin_error(StatusCode::CONFLICT, 47001, &crate::error_chain(&e)),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InteractionSpec {
    openid: String,
    appid: Option<String>,
}

fn interaction(ctx: &Ctx<'_>) -> Response<Bytes> {
    let spec: InteractionSpec = match body(ctx) {
        Ok(spec) => spec,
        Err(e) => return bad_request(&e),
    };
    if ctx
        .shared
        .record_interaction(spec.appid.as_deref(), &spec.openid.as_str().into())
    {
        reply::ok()
    } else {
        admin_error(StatusCode::NOT_FOUND, 40003, "invalid openid")
    }
}

fn clock_json(ctx: &Ctx<'_>) -> Value {
    json!({ "now": ctx.shared.clock.now(), "offset": ctx.shared.clock.offset() })
}

fn clock(ctx: &Ctx<'_>) -> Response<Bytes> {
    reply::json(&clock_json(ctx))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AdvanceSpec {
    seconds: u64,
}

fn advance(ctx: &Ctx<'_>) -> Response<Bytes> {
    let spec: AdvanceSpec = match body(ctx) {
        Ok(spec) => spec,
        Err(e) => return bad_request(&e),
    };
    ctx.shared.advance_clock(spec.seconds);
    reply::json(&clock_json(ctx))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FaultRequest {
    path: String,
    fault: FaultSpec,
    #[serde(default = "one")]
    times: usize,
}

fn one() -> usize {
    1
}

fn list_faults(ctx: &Ctx<'_>) -> Response<Bytes> {
    let faults = lock(&ctx.shared.faults).list();
    let list: Vec<Value> = faults
        .iter()
        .map(|(path, fault, times)| json!({ "path": path, "fault": fault_json(fault), "times": times }))
        .collect();
    reply::json(&list)
}

fn add_fault(ctx: &Ctx<'_>) -> Response<Bytes> {
    let request: FaultRequest = match body(ctx) {
        Ok(request) => request,
        Err(e) => return bad_request(&e),
    };
    if request.path != "*" && !request.path.starts_with('/') {
        return bad_request("path must start with / (or be * for every API)");
    }
    let fault = match request.fault.into_fault() {
        Ok(fault) => fault,
        Err(e) => return bad_request(&e),
    };
    lock(&ctx.shared.faults).inject(&request.path, fault, request.times);
    list_faults(ctx)
}

fn requests(ctx: &Ctx<'_>) -> Response<Bytes> {
    let path = ctx.query.get("path");
    let limit = ctx
        .query
        .get("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(200);
    let log = lock(&ctx.shared.log);
    let mut list: Vec<Value> = log
        .iter()
        .rev()
        .filter(|r| path.is_none_or(|p| r.path == p))
        .take(limit)
        .map(|r| {
            json!({
                "method": r.method.as_str(),
                "path": r.path,
                "query": redact_query(&r.query),
                "status": r.status,
                "errcode": r.errcode,
                "at": r.at,
                "remote": r.remote.to_string(),
            })
        })
        .collect();
    list.reverse();
    reply::json(&list)
}

fn messages(ctx: &Ctx<'_>) -> Response<Bytes> {
    let openid = ctx.query.get("openid");
    let appid = ctx.query.get("appid");
    let state = lock(&ctx.shared.state);
    let list: Vec<Value> = state
        .messages
        .iter()
        .filter(|m| openid.is_none_or(|o| m.touser == o) && appid.is_none_or(|a| m.appid == a))
        .map(|m| {
            json!({
                "appid": m.appid,
                "touser": m.touser,
                "msgtype": m.message.body.msg_type(),
                "message": m.message,
                "sent_at": m.sent_at,
            })
        })
        .collect();
    reply::json(&list)
}

fn stats(ctx: &Ctx<'_>) -> Response<Bytes> {
    let mut stats = lock(&ctx.shared.state).stats();
    stats.requests = lock(&ctx.shared.log).iter().len();
    reply::json(&json!({
        "apps": stats.apps,
        "users": stats.users,
        "codes": stats.codes,
        "base_tokens": stats.base_tokens,
        "sns_access_tokens": stats.sns_access_tokens,
        "refresh_tokens": stats.refresh_tokens,
        "messages": stats.messages,
        "conversation_entries": stats.conversation_entries,
        "requests": stats.requests,
    }))
}
