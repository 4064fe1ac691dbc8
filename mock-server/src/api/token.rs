//! `GET /cgi-bin/token` and `POST /cgi-bin/stable_token`: the base access_token.
//!
//! - Each `cgi-bin/token` call issues a new token; every older one stays valid 5 more minutes.
//! - `stable_token` is a separate token (neither endpoint touches the other's): normal mode returns
//!   the current token with its remaining lifetime and renews it only in its last 5 minutes (the
//!   old one then lives out its remainder: the overlap); `force_refresh` kills the current token
//!   and issues a new one, at most 20 times a (Beijing) day and, within 30 s of the last forced
//!   refresh, answers the current token unchanged (WeChat: "否则不会刷新").

use std::net::IpAddr;

use serde_json::Value;
use wechat_types::api::{AccessTokenResponse, StableTokenRequest};
use wechat_types::{AccessToken, ErrCode};

use super::secrets_equal;
use crate::fake::random_alnum;
use crate::reply::{self, ApiError, ApiResult};
use crate::router::Ctx;
use crate::state::BaseToken;
use crate::state::State;
use crate::state::limits::*;

/// Length of a base access token (WeChat's are 130 to 160 characters today).
const TOKEN_LEN: usize = 136;

pub(crate) fn token(ctx: &Ctx<'_>) -> ApiResult {
    let mut state = ctx.state();
    let app = state.app_for(ctx.query.get("appid"))?;
    check_secret(&state, app, ctx.query.get("secret"))?;
    if ctx.query.get("grant_type") != Some("client_credential") {
        return Err(ApiError::new(ErrCode::INVALID_GRANT_TYPE));
    }
    check_ip(&state, app, ctx.peer)?;
    state.charge_quota(app, "/cgi-bin/token", ctx.now)?;
    let (token, expires_in) = state.issue_cgi_token(app, ctx.now);
    Ok(reply::json(&AccessTokenResponse {
        access_token: AccessToken::new(token),
        expires_in,
    }))
}

pub(crate) fn stable_token(ctx: &Ctx<'_>) -> ApiResult {
    ctx.require_post()?;
    let body = ctx.json_body()?;
    let field = |name: &str| {
        body.get(name)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let mut state = ctx.state();
    let app = state.app_for(field("appid"))?;
    check_secret(&state, app, field("secret"))?;
    let request: StableTokenRequest = serde_json::from_value(body.clone()).map_err(|e| {
        ApiError::new(ErrCode::DATA_FORMAT_ERROR).with_hint(format!("bad stable_token body: {e}"))
    })?;
    if request.grant_type != "client_credential" {
        return Err(ApiError::new(ErrCode::INVALID_GRANT_TYPE));
    }
    check_ip(&state, app, ctx.peer)?;
    state.charge_quota(app, "/cgi-bin/stable_token", ctx.now)?;
    let (token, expires_in) = state.stable_token(app, request.force_refresh, ctx.now)?;
    Ok(reply::json(&AccessTokenResponse {
        access_token: AccessToken::new(token),
        expires_in,
    }))
}

/// 41004 without a secret, 40125 with a wrong one.
pub(crate) fn check_secret(
    state: &State,
    app: usize,
    secret: Option<&str>,
) -> Result<(), ApiError> {
    let secret = secret.ok_or(ApiError::new(ErrCode::SECRET_MISSING))?;
    if secrets_equal(secret, state.apps[app].app.secret.expose_secret()) {
        Ok(())
    } else {
        Err(ApiError::new(ErrCode::INVALID_APPSECRET))
    }
}

/// 40164 when the app has an IP whitelist and the caller is not on it.
fn check_ip(state: &State, app: usize, peer: IpAddr) -> Result<(), ApiError> {
    let whitelist = &state.apps[app].app.ip_whitelist;
    let peer = peer.to_canonical();
    if whitelist.is_empty() || whitelist.iter().any(|ip| ip.to_canonical() == peer) {
        return Ok(());
    }
    Err(
        ApiError::new(ErrCode::IP_NOT_WHITELISTED).with_message(format!(
            "invalid ip {peer} ipv6 ::ffff:{peer}, not in whitelist"
        )),
    )
}

impl State {
    /// Under a flood of token calls the store fills with dead tokens kept only to answer 42001:
    /// drop those first, so eviction never reaches a live token of another app or endpoint.
    fn make_room_for_base_token(&mut self, now: i64) {
        self.base_tokens.make_room(|t| t.expires_at > now);
    }

    /// A new `cgi-bin/token` token; the previous one is cut to 5 more minutes.
    ///
    /// Only the previous token needs cutting: every older one was cut when it was replaced, so
    /// expiries along the live list never decrease and dead tokens are all at its front.
    pub(crate) fn issue_cgi_token(&mut self, app: usize, now: i64) -> (String, u64) {
        let token = random_alnum(TOKEN_LEN);
        let app_state = &mut self.apps[app];
        if let Some((previous, expires_at)) = app_state.cgi_tokens.back_mut()
            && *expires_at > now + ROTATION_GRACE
        {
            *expires_at = now + ROTATION_GRACE;
            if let Some(record) = self.base_tokens.get_mut(previous) {
                record.expires_at = now + ROTATION_GRACE;
                record.superseded = true;
            }
        }
        // Drop dead tokens from the front, and the oldest live one past the cap. A replaced
        // token answers 40001 whether remembered or not, so it is forgotten at once; one that
        // simply ran out stays (for 42001) until swept.
        while let Some((_, expires_at)) = app_state.cgi_tokens.front() {
            let dead = *expires_at <= now;
            if !dead && app_state.cgi_tokens.len() < MAX_LIVE_CGI_TOKENS {
                break;
            }
            let Some((oldest, _)) = app_state.cgi_tokens.pop_front() else {
                break;
            };
            if !dead || self.base_tokens.get(&oldest).is_some_and(|r| r.superseded) {
                self.base_tokens.remove(&oldest);
            }
        }
        app_state
            .cgi_tokens
            .push_back((token.clone(), now + ACCESS_TTL));
        let appid = app_state.app.appid.clone();
        self.make_room_for_base_token(now);
        self.base_tokens.insert(
            token.clone(),
            BaseToken {
                appid,
                expires_at: now + ACCESS_TTL,
                superseded: false,
            },
        );
        (token, ACCESS_TTL as u64)
    }

    /// The `stable_token` answer: the current token and its remaining lifetime.
    pub(crate) fn stable_token(
        &mut self,
        app: usize,
        force_refresh: bool,
        now: i64,
    ) -> Result<(String, u64), ApiError> {
        let current = self.apps[app].stable_token.clone().and_then(|t| {
            let expires_at = self.base_tokens.get(&t)?.expires_at;
            (expires_at > now).then_some((t, expires_at))
        });
        if force_refresh {
            let today = crate::clock::beijing_day(now);
            let (day, count, last) = &mut self.apps[app].force_refresh;
            if *day != today {
                *day = today;
                *count = 0;
            }
            if let Some((token, expires_at)) = &current
                && now.saturating_sub(*last) < FORCE_REFRESH_INTERVAL
            {
                return Ok((token.clone(), (expires_at - now) as u64));
            }
            if *count >= FORCE_REFRESH_PER_DAY {
                return Err(ApiError::new(ErrCode::DAILY_QUOTA)
                    .with_hint("force_refresh is limited to 20 calls a day"));
            }
            *count += 1;
            *last = now;
            // The replaced token is dead at once and answers 40001 like any unknown one.
            if let Some((token, _)) = &current {
                self.base_tokens.remove(token);
            }
        } else if let Some((token, expires_at)) = &current
            && expires_at - now > STABLE_RENEW_BEFORE
        {
            return Ok((token.clone(), (expires_at - now) as u64));
        }
        let token = random_alnum(TOKEN_LEN);
        let appid = self.apps[app].app.appid.clone();
        self.make_room_for_base_token(now);
        self.base_tokens.insert(
            token.clone(),
            BaseToken {
                appid,
                expires_at: now + ACCESS_TTL,
                superseded: false,
            },
        );
        self.apps[app].stable_token = Some(token.clone());
        Ok((token, ACCESS_TTL as u64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::MockApp;
    use crate::state::Setup;

    fn state() -> State {
        State::new(
            &Setup {
                apps: vec![(MockApp::demo(), vec![])],
            },
            0,
        )
    }

    fn expiry(state: &State, token: &str) -> (i64, bool) {
        let r = state.base_tokens.get(token).unwrap();
        (r.expires_at, r.superseded)
    }

    #[test]
    fn rotation_keeps_the_previous_token_five_minutes() {
        let mut s = state();
        let (t1, _) = s.issue_cgi_token(0, 1000);
        let (t2, _) = s.issue_cgi_token(0, 1100);
        assert_eq!(expiry(&s, &t1), (1400, true));
        assert_eq!(expiry(&s, &t2), (1100 + 7200, false));
        // A third call does not extend t1's grace.
        let (_t3, _) = s.issue_cgi_token(0, 1200);
        assert_eq!(expiry(&s, &t1), (1400, true));
        assert_eq!(expiry(&s, &t2), (1500, true));
    }

    #[test]
    fn a_flood_of_token_calls_never_evicts_a_live_stable_token() {
        let mut s = state();
        s.base_tokens = crate::bounded::BoundedMap::new(200);
        let (stable, _) = s.stable_token(0, false, 0).unwrap();
        for _ in 0..1000 {
            s.issue_cgi_token(0, 1);
        }
        assert!(s.base_tokens.get(&stable).is_some());
        assert!(s.base_tokens.len() <= 200);
    }

    #[test]
    fn live_token_list_is_bounded_and_replaced_tokens_are_forgotten() {
        let mut s = state();
        for i in 0..(MAX_LIVE_CGI_TOKENS as i64 * 3) {
            s.issue_cgi_token(0, i);
        }
        assert!(s.apps[0].cgi_tokens.len() <= MAX_LIVE_CGI_TOKENS);
        assert_eq!(s.base_tokens.len(), s.apps[0].cgi_tokens.len());

        let mut s = state();
        let (a, _) = s.issue_cgi_token(0, 0);
        let (b, _) = s.issue_cgi_token(0, 100);
        let (c, _) = s.issue_cgi_token(0, 500);
        assert!(
            s.base_tokens.get(&a).is_none(),
            "replaced and dead: forgotten"
        );
        assert_eq!(expiry(&s, &b), (800, true));
        // c runs out on its own: remembered (42001); b was replaced: forgotten.
        let (d, _) = s.issue_cgi_token(0, 500 + ACCESS_TTL + 1);
        assert!(s.base_tokens.get(&b).is_none());
        assert_eq!(expiry(&s, &c), (500 + ACCESS_TTL, false));
        assert!(s.base_tokens.get(&d).is_some());
        assert_eq!(s.base_tokens.len(), 2);
    }

    #[test]
    fn stable_token_renews_in_its_last_five_minutes() {
        let mut s = state();
        let (a, ttl) = s.stable_token(0, false, 0).unwrap();
        assert_eq!(ttl, 7200);
        let (b, ttl) = s.stable_token(0, false, 6000).unwrap();
        assert_eq!((b.as_str(), ttl), (a.as_str(), 1200));
        let (c, ttl) = s.stable_token(0, false, 6900).unwrap();
        assert_ne!(c, a);
        assert_eq!(ttl, 7200);
        // The old one lives out its remaining 300 s: the overlap.
        assert_eq!(expiry(&s, &a), (7200, false));
    }

    #[test]
    fn force_refresh_limits() {
        let mut s = state();
        let (a, _) = s.stable_token(0, false, 0).unwrap();
        let (b, _) = s.stable_token(0, true, 100).unwrap();
        assert_ne!(a, b);
        assert!(s.base_tokens.get(&a).is_none(), "forgotten: 40001");
        // Within 30 s: no refresh, the current token.
        let (c, ttl) = s.stable_token(0, true, 110).unwrap();
        assert_eq!((c.as_str(), ttl), (b.as_str(), 7190));
        let mut now = 100;
        for _ in 1..FORCE_REFRESH_PER_DAY {
            now += 31;
            s.stable_token(0, true, now).unwrap();
        }
        now += 31;
        assert_eq!(
            s.stable_token(0, true, now).unwrap_err().code,
            ErrCode::DAILY_QUOTA
        );
        assert!(s.stable_token(0, true, now + 86_400).is_ok());
    }
}
