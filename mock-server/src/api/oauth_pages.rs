//! The OAuth pages on the `open.weixin.qq.com` side: `connect/oauth2/authorize`,
//! `connect/qrconnect`, and the fake's own consent answer `/mock/oauth/confirm`.
//!
//! - `snsapi_base` redirects at once (WeChat does it silently).
//! - `snsapi_userinfo` shows a consent page to a browser (its `Accept` prefers `text/html`): pick a
//!   fake user, allow or deny. A client that does not ask for HTML is redirected at once as the
//!   default user, so tests and CLI tools need no HTML.
//! - `qrconnect` (`snsapi_login`) shows a fake QR code with "scan as …" buttons to a browser, and
//!   redirects at once otherwise.
//! - Allow redirects to `redirect_uri?code=CODE&state=STATE`; deny to `redirect_uri?state=STATE`.
//!   A fragment in `redirect_uri` (hash routing) stays after the query, as on WeChat.
//! - The user picked on a consent page is remembered in a cookie and becomes that browser's
//!   default user for the app, as a phone stays logged in to one WeChat account.
//! - Bad requests get WeChat's HTML error page with its code: 10003 redirect_uri not on the
//!   configured OAuth domain, 10005 scope not allowed, 10010/10011/10012 scope/redirect_uri/appid
//!   empty, 40013 unknown appid. A `response_type` other than `code` or a `state` outside
//!   `a-zA-Z0-9` / 128 bytes get an error page without a code (WeChat's code is unverified).

use std::fmt::Write as _;

use bytes::Bytes;
use http::header::{ACCEPT, COOKIE, SET_COOKIE};
use http::{HeaderMap, HeaderValue, Response};
use wechat_types::OpenId;
use wechat_types::api::Scope;

use super::escape_html;
use crate::html::{bar, hidden, page};
use crate::reply;
use crate::router::{Ctx, Query};
use crate::state::State;
use crate::state::limits::{CODE_TTL, QR_CODE_TTL};

/// Which page the request came through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    Authorize,
    QrConnect,
}

impl Flow {
    fn name(self) -> &'static str {
        match self {
            Flow::Authorize => "authorize",
            Flow::QrConnect => "qrconnect",
        }
    }

    fn code_ttl(self) -> i64 {
        match self {
            Flow::Authorize => CODE_TTL,
            Flow::QrConnect => QR_CODE_TTL,
        }
    }
}

/// A validated authorization request.
struct AuthRequest {
    app: usize,
    redirect_uri: String,
    scope: Scope,
    state: String,
}

/// What the error page says.
struct PageError {
    code: Option<i64>,
    message: &'static str,
    detail: String,
}

impl PageError {
    fn new(code: Option<i64>, message: &'static str, detail: impl Into<String>) -> Self {
        Self {
            code,
            message,
            detail: detail.into(),
        }
    }
}

pub(crate) fn authorize(ctx: &Ctx<'_>) -> Response<Bytes> {
    start(ctx, Flow::Authorize)
}

pub(crate) fn qrconnect(ctx: &Ctx<'_>) -> Response<Bytes> {
    start(ctx, Flow::QrConnect)
}

fn start(ctx: &Ctx<'_>, flow: Flow) -> Response<Bytes> {
    let mut state = ctx.state();
    let request = match validate(&ctx.query, &state, flow) {
        Ok(request) => request,
        Err(error) => return error_page(flow, &error),
    };
    let remembered = remembered_user(ctx.headers, &state, request.app);
    let Some(default_user) = remembered.or_else(|| {
        state.apps[request.app]
            .users
            .first()
            .map(|u| u.user.openid.clone())
    }) else {
        return error_page(
            flow,
            &PageError::new(
                None,
                "该公众号没有可用的模拟用户",
                "wechat-mock: add a user to this app (POST /mock/users) first",
            ),
        );
    };
    let silent = flow == Flow::Authorize && request.scope == Scope::Base;
    if silent || !wants_html(ctx.headers) {
        let code = state.issue_code(
            request.app,
            default_user,
            request.scope.clone(),
            flow.code_ttl(),
            ctx.now,
        );
        return reply::redirect(&redirect_target(
            &request.redirect_uri,
            Some(&code),
            &request.state,
        ));
    }
    let html = match flow {
        Flow::Authorize => consent_page(&state, &request, &default_user),
        Flow::QrConnect => qr_page(&state, &request),
    };
    reply::html(html)
}

/// `/mock/oauth/confirm`: the consent page's answer (GET query or POST form).
pub(crate) fn confirm(ctx: &Ctx<'_>) -> Response<Bytes> {
    let form;
    let params = if ctx.method == http::Method::POST {
        form = Query::parse(std::str::from_utf8(ctx.body).unwrap_or(""));
        &form
    } else {
        &ctx.query
    };
    let flow = match params.get("flow") {
        Some("qrconnect") => Flow::QrConnect,
        _ => Flow::Authorize,
    };
    let mut state = ctx.state();
    let request = match validate(params, &state, flow) {
        Ok(request) => request,
        Err(error) => return error_page(flow, &error),
    };
    match params.get("decision") {
        Some("deny") => {
            return reply::redirect(&redirect_target(
                &request.redirect_uri,
                None,
                &request.state,
            ));
        }
        Some("allow") => {}
        _ => {
            return error_page(
                flow,
                &PageError::new(None, "请求参数错误", "decision must be allow or deny"),
            );
        }
    }
    let Some(openid) = params
        .get("openid")
        .filter(|o| state.user(request.app, o).is_some())
        .map(OpenId::from)
    else {
        return error_page(
            flow,
            &PageError::new(
                Some(40003),
                "用户不存在",
                "invalid openid: pick one of the app's users",
            ),
        );
    };
    let code = state.issue_code(
        request.app,
        openid.clone(),
        request.scope.clone(),
        flow.code_ttl(),
        ctx.now,
    );
    let mut resp = reply::redirect(&redirect_target(
        &request.redirect_uri,
        Some(&code),
        &request.state,
    ));
    let cookie = format!(
        "{}={}; Path=/; HttpOnly; SameSite=Lax",
        cookie_name(state.apps[request.app].app.appid.as_str()),
        openid
    );
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        resp.headers_mut().insert(SET_COOKIE, value);
    }
    resp
}

/// Checks a request the way WeChat's page does, in its order.
fn validate(params: &Query<'_>, state: &State, flow: Flow) -> Result<AuthRequest, PageError> {
    let appid = params
        .get("appid")
        .ok_or_else(|| PageError::new(Some(10012), "appid 参数错误", "appid is empty"))?;
    let app = state
        .app_index(appid)
        .ok_or_else(|| PageError::new(Some(40013), "appid 参数错误", "invalid appid"))?;
    let redirect_uri = params.get("redirect_uri").ok_or_else(|| {
        PageError::new(
            Some(10011),
            "redirect_uri 参数错误",
            "redirect_uri is empty",
        )
    })?;
    check_redirect(redirect_uri, state.apps[app].app.oauth_domain.as_deref())?;
    if params.get("response_type") != Some("code") {
        return Err(PageError::new(
            None,
            "请求参数错误",
            "response_type must be code",
        ));
    }
    let scope = params
        .get("scope")
        .ok_or_else(|| PageError::new(Some(10010), "scope 参数错误", "scope is empty"))?;
    let scope = Scope::parse(scope);
    let allowed = match flow {
        Flow::Authorize => matches!(scope, Scope::Base | Scope::UserInfo),
        Flow::QrConnect => scope == Scope::Login,
    };
    if !allowed {
        return Err(PageError::new(
            Some(10005),
            "Scope 参数错误或没有 Scope 权限",
            format!("{flow} does not grant {scope}", flow = flow.name()),
        ));
    }
    let oauth_state = params.get("state").unwrap_or("");
    if oauth_state.len() > 128 || !oauth_state.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(PageError::new(
            None,
            "state 参数错误",
            "state must be at most 128 bytes of a-zA-Z0-9",
        ));
    }
    Ok(AuthRequest {
        app,
        redirect_uri: redirect_uri.to_owned(),
        scope,
        state: oauth_state.to_owned(),
    })
}

/// The redirect must be an absolute http(s) URL, on the OAuth domain when one is configured.
fn check_redirect(redirect_uri: &str, domain: Option<&str>) -> Result<(), PageError> {
    let (base, fragment) = redirect_uri.split_once('#').unwrap_or((redirect_uri, ""));
    let invalid = || {
        PageError::new(
            Some(10003),
            "redirect_uri 参数错误",
            "redirect_uri is not an absolute http(s) URL",
        )
    };
    let uri: http::Uri = base.parse().map_err(|_| invalid())?;
    if !matches!(uri.scheme_str(), Some("http" | "https"))
        || !fragment.bytes().all(|b| b.is_ascii_graphic())
    {
        return Err(invalid());
    }
    let authority = uri.authority().ok_or_else(invalid)?;
    if let Some(domain) = domain {
        let matches = if domain.contains(':') {
            authority.as_str().eq_ignore_ascii_case(domain)
        } else {
            authority.host().eq_ignore_ascii_case(domain)
        };
        if !matches {
            return Err(PageError::new(
                Some(10003),
                "redirect_uri 域名与后台配置不一致",
                format!(
                    "redirect_uri host {} is not the configured OAuth domain {domain}",
                    authority.host()
                ),
            ));
        }
    }
    Ok(())
}

/// `redirect_uri` with `code` (when allowed) and `state` added before any fragment.
fn redirect_target(redirect_uri: &str, code: Option<&str>, state: &str) -> String {
    let (base, fragment) = match redirect_uri.split_once('#') {
        Some((base, fragment)) => (base, Some(fragment)),
        None => (redirect_uri, None),
    };
    let mut target = String::with_capacity(redirect_uri.len() + 64);
    target.push_str(base);
    if !base.contains('?') {
        target.push('?');
    } else if !base.ends_with('?') && !base.ends_with('&') {
        target.push('&');
    }
    if let Some(code) = code {
        let _ = write!(target, "code={code}&");
    }
    let _ = write!(target, "state={state}");
    if let Some(fragment) = fragment {
        target.push('#');
        target.push_str(fragment);
    }
    target
}

/// True when the client's `Accept` prefers HTML (a browser), false for API clients and curl.
fn wants_html(headers: &HeaderMap) -> bool {
    let mut html_q: f32 = 0.0;
    let mut other_q: f32 = 0.0;
    for value in headers.get_all(ACCEPT) {
        let Ok(value) = value.to_str() else { continue };
        for range in value.split(',') {
            let mut parts = range.split(';');
            let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            match media.as_str() {
                "text/html" | "application/xhtml+xml" => html_q = html_q.max(q),
                "*/*" | "text/*" | "" => {}
                _ => other_q = other_q.max(q),
            }
        }
    }
    html_q > 0.0 && html_q >= other_q
}

pub(crate) fn cookie_name(appid: &str) -> String {
    format!("wechat_mock_user_{appid}")
}

/// The user this browser picked last time for the app, if still a user of it.
fn remembered_user(headers: &HeaderMap, state: &State, app: usize) -> Option<OpenId> {
    let name = cookie_name(state.apps[app].app.appid.as_str());
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
        .filter(|openid| state.user(app, openid).is_some())
        .map(OpenId::from)
}

/// The hidden fields that carry the request through the consent form.
fn carried_fields(state: &State, request: &AuthRequest, flow: Flow) -> String {
    let mut fields = String::new();
    fields.push_str(&hidden("flow", flow.name()));
    fields.push_str(&hidden("appid", state.apps[request.app].app.appid.as_str()));
    fields.push_str(&hidden("redirect_uri", &request.redirect_uri));
    fields.push_str(&hidden("response_type", "code"));
    fields.push_str(&hidden("scope", request.scope.as_str()));
    fields.push_str(&hidden("state", &request.state));
    fields
}

fn consent_page(state: &State, request: &AuthRequest, selected: &OpenId) -> String {
    let app = &state.apps[request.app].app;
    let initial: String = app
        .name
        .chars()
        .next()
        .map(String::from)
        .unwrap_or_default();
    let mut users = String::new();
    for user in &state.apps[request.app].users {
        let user = &user.user;
        let _ = write!(
            users,
            "<li><label class=\"user\"><img src=\"/mock/avatar/{openid}.svg\" alt=\"\">\
             <span class=\"who\"><span class=\"name\">{nickname}</span>\
             <span class=\"muted small\">{openid}</span></span>\
             <input type=\"radio\" name=\"openid\" value=\"{openid}\"{checked}></label></li>",
            openid = escape_html(user.openid.as_str()),
            nickname = escape_html(&user.nickname),
            checked = if user.openid == *selected {
                " checked"
            } else {
                ""
            },
        );
    }
    let body = format!(
        "{bar}<section class=\"card center\"><div class=\"app-icon\">{initial}</div>\
         <h1>{name}</h1><p class=\"muted\">申请获得以下权限</p>\
         <ul class=\"perm\"><li>获得你的公开信息（昵称、头像、地区及性别）</li></ul></section>\
         <form class=\"card\" method=\"get\" action=\"/mock/oauth/confirm\">{fields}\
         <h2>以哪位模拟用户的身份授权</h2><ul class=\"users\">{users}</ul>\
         <div class=\"actions\"><button class=\"btn secondary\" name=\"decision\" value=\"deny\">拒绝</button>\
         <button class=\"btn primary\" name=\"decision\" value=\"allow\">允许</button></div></form>",
        bar = bar("微信授权"),
        initial = escape_html(&initial),
        name = escape_html(&app.name),
        fields = carried_fields(state, request, Flow::Authorize),
    );
    page("微信授权", &body)
}

fn qr_page(state: &State, request: &AuthRequest) -> String {
    let app = &state.apps[request.app].app;
    let fields = carried_fields(state, request, Flow::QrConnect);
    let mut scans = String::new();
    for user in &state.apps[request.app].users {
        let user = &user.user;
        let _ = write!(
            scans,
            "<button class=\"btn scan\" name=\"openid\" value=\"{openid}\">\
             <img class=\"avatar\" src=\"/mock/avatar/{openid}.svg\" alt=\"\">\
             以「{nickname}」身份扫码并确认登录</button>",
            openid = escape_html(user.openid.as_str()),
            nickname = escape_html(&user.nickname),
        );
    }
    let deny: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("flow", Flow::QrConnect.name())
        .append_pair("appid", app.appid.as_str())
        .append_pair("redirect_uri", &request.redirect_uri)
        .append_pair("response_type", "code")
        .append_pair("scope", request.scope.as_str())
        .append_pair("state", &request.state)
        .append_pair("decision", "deny")
        .finish();
    let body = format!(
        "<section class=\"card center\"><h1>微信登录</h1><div class=\"qr\">{qr}</div>\
         <p class=\"muted\">请使用微信扫描二维码登录<br>“{name}”</p></section>\
         <form class=\"card\" method=\"get\" action=\"/mock/oauth/confirm\">{fields}\
         {decision}<h2>模拟扫码</h2>{scans}\
         <div class=\"actions\"><a class=\"btn secondary\" href=\"/mock/oauth/confirm?{deny}\">拒绝登录</a></div></form>",
        qr = fake_qr(&request.state, app.appid.as_str()),
        name = escape_html(&app.name),
        decision = hidden("decision", "allow"),
        deny = escape_html(&deny),
    );
    page("微信登录", &body)
}

/// A decorative 25×25 QR-like pattern (finder squares and seeded modules); it encodes nothing.
fn fake_qr(seed_a: &str, seed_b: &str) -> String {
    const N: usize = 25;
    let mut rng = crate::fake::Seeded::new(seed_a, seed_b.len() as u64);
    let mut seed_b_rng = crate::fake::Seeded::new(seed_b, 7);
    let mix = seed_b_rng.next_u64();
    let finder = |x: usize, y: usize| -> Option<bool> {
        for (fx, fy) in [(0, 0), (N - 7, 0), (0, N - 7)] {
            if (fx..fx + 8).contains(&x) && (fy..fy + 8).contains(&y) {
                let (dx, dy) = (x.wrapping_sub(fx), y.wrapping_sub(fy));
                if dx == 7 || dy == 7 {
                    return Some(false);
                }
                let ring = dx.min(dy).min(6 - dx).min(6 - dy);
                return Some(ring != 1);
            }
        }
        None
    };
    let mut path = String::new();
    for y in 0..N {
        for x in 0..N {
            let dark = finder(x, y).unwrap_or_else(|| (rng.next_u64() ^ mix) & 1 == 1);
            if dark {
                let _ = write!(path, "M{x} {y}h1v1h-1z");
            }
        }
    }
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {N} {N}\" shape-rendering=\"crispEdges\">\
         <path d=\"{path}\" fill=\"#111\"/></svg>"
    )
}

fn error_page(flow: Flow, error: &PageError) -> Response<Bytes> {
    let title = match flow {
        Flow::Authorize => "Oops! Something went wrong:(",
        Flow::QrConnect => "该链接无法访问",
    };
    let code = error
        .code
        .map(|c| format!("<div class=\"code\">错误码：{c}</div>"))
        .unwrap_or_default();
    let body = format!(
        "{bar}<section class=\"card center\"><div class=\"warn\">!</div><h1>{title}</h1>\
         <p>{message}</p>{code}<p class=\"muted small\">{detail}</p></section>",
        bar = bar("微信"),
        message = escape_html(error.message),
        detail = escape_html(&error.detail),
    );
    reply::html(page("微信", &body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_targets_keep_query_and_fragment() {
        assert_eq!(
            redirect_target("https://a.com/cb", Some("C"), "S"),
            "https://a.com/cb?code=C&state=S"
        );
        assert_eq!(
            redirect_target("https://a.com/cb?x=1", Some("C"), "S"),
            "https://a.com/cb?x=1&code=C&state=S"
        );
        assert_eq!(
            redirect_target("https://a.com/#/cb", None, "S"),
            "https://a.com/?state=S#/cb"
        );
        assert_eq!(
            redirect_target("https://a.com/?", None, ""),
            "https://a.com/?state="
        );
    }

    #[test]
    fn redirect_checks() {
        assert!(check_redirect("https://a.com/cb", None).is_ok());
        assert!(check_redirect("https://A.com:8443/cb#/x", Some("a.com")).is_ok());
        assert_eq!(
            check_redirect("https://b.com/cb", Some("a.com"))
                .unwrap_err()
                .code,
            Some(10003)
        );
        assert!(check_redirect("https://a.com:1/cb", Some("a.com:2")).is_err());
        assert!(check_redirect("https://a.com:2/cb", Some("a.com:2")).is_ok());
        assert!(check_redirect("ftp://a.com/", None).is_err());
        assert!(check_redirect("/relative", None).is_err());
        assert!(check_redirect("https://a.com/ x", None).is_err());
    }

    #[test]
    fn accept_negotiation() {
        let accept = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(ACCEPT, HeaderValue::from_str(v).unwrap());
            wants_html(&h)
        };
        assert!(accept(
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
        ));
        assert!(!accept("*/*"));
        assert!(!accept("application/json"));
        assert!(!accept("application/json, text/html;q=0.5"));
        assert!(!accept("text/html;q=0"));
        assert!(!wants_html(&HeaderMap::new()));
    }

    #[test]
    fn fake_qr_is_deterministic_svg() {
        let a = fake_qr("s", "wx");
        assert_eq!(a, fake_qr("s", "wx"));
        assert_ne!(a, fake_qr("t", "wx"));
        assert!(a.starts_with("<svg"));
    }
}
