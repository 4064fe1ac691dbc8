//! Web authorization (网页授权) APIs: `sns/oauth2/access_token`, `sns/oauth2/refresh_token`,
//! `sns/userinfo`, `sns/auth`, and the code and sns-token state machines behind them.
//!
//! - A code is single use (40163 on reuse) and lives 5 minutes (10 for `qrconnect`); an expired
//!   code answers 42003 (PROTOCOL.md: the exact code for expiry is unverified, some reports show
//!   40029). Used and expired codes are remembered 10 minutes past their expiry, then forgotten
//!   (40029, like a code that never existed).
//! - sns access tokens live 7200 s, refresh tokens 30 days and are never extended (42002 after).
//!   Refreshing while the access token is live returns the same token with a renewed expiry.
//! - `unionid` is in the code-exchange answer and userinfo when the app is bound to an open
//!   platform, and (as documented for 公众号) only for `snsapi_userinfo`/`snsapi_login` grants.

use wechat_types::api::{Lang, Scope, SnsToken, SnsUserInfo};
use wechat_types::{AccessToken, AppId, ErrCode, OpenId, RefreshToken};

use super::looks_like_token;
use super::token::check_secret;
use crate::fake::{localize, random_alnum};
use crate::reply::{self, ApiError, ApiResult};
use crate::router::Ctx;
use crate::state::limits::*;
use crate::state::{CodeRecord, SnsAccess, SnsRefresh, State};

/// Length of an OAuth code (WeChat's are 32).
const CODE_LEN: usize = 32;
/// Length of sns access and refresh tokens.
const SNS_TOKEN_LEN: usize = 96;

pub(crate) fn access_token(ctx: &Ctx<'_>) -> ApiResult {
    let mut state = ctx.state();
    let app = state.app_for(ctx.query.get("appid"))?;
    check_secret(&state, app, ctx.query.get("secret"))?;
    let code = ctx
        .query
        .get("code")
        .ok_or(ApiError::new(ErrCode::CODE_MISSING))?;
    if ctx.query.get("grant_type") != Some("authorization_code") {
        return Err(ApiError::new(ErrCode::INVALID_GRANT_TYPE));
    }
    let grant = state.exchange_code(app, code, ctx.now)?;
    let token = state.issue_sns_token(app, grant.openid, grant.scope, ctx.now);
    Ok(reply::json(&token))
}

pub(crate) fn refresh_token(ctx: &Ctx<'_>) -> ApiResult {
    let mut state = ctx.state();
    let app = state.app_for(ctx.query.get("appid"))?;
    if ctx.query.get("grant_type") != Some("refresh_token") {
        return Err(ApiError::new(ErrCode::INVALID_GRANT_TYPE));
    }
    let refresh = ctx
        .query
        .get("refresh_token")
        .ok_or(ApiError::new(ErrCode::REFRESH_TOKEN_MISSING))?;
    let token = state.refresh_sns_token(app, refresh, ctx.now)?;
    Ok(reply::json(&token))
}

pub(crate) fn userinfo(ctx: &Ctx<'_>) -> ApiResult {
    let state = ctx.state();
    let (grant, openid) = sns_caller(ctx, &state)?;
    if grant.scope == Scope::Base {
        return Err(ApiError::new(ErrCode::API_UNAUTHORIZED)
            .with_hint("the token was granted with snsapi_base"));
    }
    let app = state
        .app_index(grant.appid.as_str())
        .ok_or(ApiError::new(ErrCode::INVALID_OPENID))?;
    let user = &state
        .user(app, openid)
        .ok_or(ApiError::new(ErrCode::INVALID_OPENID))?
        .user;
    let lang = match ctx.query.get("lang").and_then(Lang::parse) {
        None | Some(Lang::ZhCn) => 0,
        Some(Lang::ZhTw) => 1,
        Some(Lang::En) => 2,
    };
    let info = SnsUserInfo {
        openid: user.openid.clone(),
        nickname: user.nickname.clone(),
        sex: user.sex,
        province: localize(&user.province, lang).to_owned(),
        city: localize(&user.city, lang).to_owned(),
        country: localize(&user.country, lang).to_owned(),
        headimgurl: ctx.avatar_url(user.openid.as_str()),
        privilege: Vec::new(),
        unionid: state.unionid_for(app, openid),
    };
    Ok(reply::json(&info))
}

pub(crate) fn auth(ctx: &Ctx<'_>) -> ApiResult {
    let state = ctx.state();
    sns_caller(ctx, &state)?;
    Ok(reply::ok())
}

/// The grant behind an sns `access_token` and the `openid` it must belong to: 41001/41009 when
/// missing, 40014 malformed, 40001 unknown, 42001 expired, 40003 for another user's openid.
fn sns_caller<'s, 'c>(
    ctx: &'c Ctx<'_>,
    state: &'s State,
) -> Result<(&'s SnsAccess, &'c str), ApiError> {
    let token = ctx
        .query
        .get("access_token")
        .ok_or(ApiError::new(ErrCode::ACCESS_TOKEN_MISSING))?;
    let openid = ctx
        .query
        .get("openid")
        .ok_or(ApiError::new(ErrCode::OPENID_MISSING))?;
    if !looks_like_token(token) {
        return Err(ApiError::new(ErrCode::INVALID_ACCESS_TOKEN));
    }
    let Some(grant) = state.sns_access.get(token) else {
        let hint = if state.base_tokens.get(token).is_some() {
            "this is a base access_token, not a web-authorization (sns) one"
        } else {
            "unknown access_token"
        };
        return Err(ApiError::new(ErrCode::INVALID_CREDENTIAL).with_hint(hint));
    };
    if grant.expires_at <= ctx.now {
        return Err(ApiError::new(ErrCode::ACCESS_TOKEN_EXPIRED));
    }
    if grant.openid != openid {
        return Err(ApiError::new(ErrCode::INVALID_OPENID));
    }
    Ok((grant, openid))
}

impl State {
    /// A new single-use code for `openid`, valid `ttl` seconds.
    pub(crate) fn issue_code(
        &mut self,
        app: usize,
        openid: OpenId,
        scope: Scope,
        ttl: i64,
        now: i64,
    ) -> String {
        // Under pressure, forget dead codes before their retention ends rather than evict
        // live ones.
        self.codes.make_room(|c| !c.used && c.expires_at > now);
        let code = random_alnum(CODE_LEN);
        let appid = self.apps[app].app.appid.clone();
        self.codes.insert(
            code.clone(),
            CodeRecord {
                appid,
                openid,
                scope,
                expires_at: now + ttl,
                used: false,
            },
        );
        code
    }

    /// Spends a code: 40029 unknown (or another app's), 40163 used, 42003 expired.
    pub(crate) fn exchange_code(
        &mut self,
        app: usize,
        code: &str,
        now: i64,
    ) -> Result<CodeRecord, ApiError> {
        let appid: &AppId = &self.apps[app].app.appid;
        let Some(record) = self.codes.get_mut(code) else {
            return Err(ApiError::new(ErrCode::INVALID_CODE));
        };
        if record.appid != *appid {
            return Err(ApiError::new(ErrCode::INVALID_CODE)
                .with_hint("the code was issued to another appid"));
        }
        if record.used {
            return Err(ApiError::new(ErrCode::CODE_BEEN_USED));
        }
        if record.expires_at <= now {
            return Err(ApiError::new(ErrCode::CODE_EXPIRED));
        }
        record.used = true;
        Ok(record.clone())
    }

    /// A new sns access token and refresh token for a grant.
    pub(crate) fn issue_sns_token(
        &mut self,
        app: usize,
        openid: OpenId,
        scope: Scope,
        now: i64,
    ) -> SnsToken {
        self.sns_access.make_room(|t| t.expires_at > now);
        self.sns_refresh.make_room(|t| t.expires_at > now);
        let appid = self.apps[app].app.appid.clone();
        let access = random_alnum(SNS_TOKEN_LEN);
        let refresh = random_alnum(SNS_TOKEN_LEN);
        self.sns_access.insert(
            access.clone(),
            SnsAccess {
                appid: appid.clone(),
                openid: openid.clone(),
                scope: scope.clone(),
                expires_at: now + ACCESS_TTL,
            },
        );
        self.sns_refresh.insert(
            refresh.clone(),
            SnsRefresh {
                appid,
                openid: openid.clone(),
                scope: scope.clone(),
                expires_at: now + REFRESH_TTL,
                access_token: access.clone(),
            },
        );
        let unionid = match scope {
            Scope::Base => None,
            _ => self.unionid_for(app, openid.as_str()),
        };
        SnsToken {
            access_token: AccessToken::new(access),
            expires_in: ACCESS_TTL as u64,
            refresh_token: RefreshToken::new(refresh),
            openid,
            scope: scope.as_str().to_owned(),
            unionid,
            is_snapshotuser: None,
        }
    }

    /// `sns/oauth2/refresh_token`: 40030 unknown (or another app's), 42002 expired; renews the
    /// live access token or issues a new one. The refresh token itself keeps its expiry.
    pub(crate) fn refresh_sns_token(
        &mut self,
        app: usize,
        refresh: &str,
        now: i64,
    ) -> Result<SnsToken, ApiError> {
        let appid = &self.apps[app].app.appid;
        let Some(grant) = self.sns_refresh.get(refresh) else {
            return Err(ApiError::new(ErrCode::INVALID_REFRESH_TOKEN));
        };
        if grant.appid != *appid {
            return Err(ApiError::new(ErrCode::INVALID_REFRESH_TOKEN)
                .with_hint("the refresh_token was issued to another appid"));
        }
        if grant.expires_at <= now {
            return Err(ApiError::new(ErrCode::REFRESH_TOKEN_EXPIRED));
        }
        let (openid, scope, current) = (
            grant.openid.clone(),
            grant.scope.clone(),
            grant.access_token.clone(),
        );
        let access = match self.sns_access.get_mut(&current) {
            Some(live) if live.expires_at > now => {
                live.expires_at = now + ACCESS_TTL;
                current
            }
            _ => {
                let access = random_alnum(SNS_TOKEN_LEN);
                self.sns_access.make_room(|t| t.expires_at > now);
                self.sns_access.insert(
                    access.clone(),
                    SnsAccess {
                        appid: appid.clone(),
                        openid: openid.clone(),
                        scope: scope.clone(),
                        expires_at: now + ACCESS_TTL,
                    },
                );
                if let Some(grant) = self.sns_refresh.get_mut(refresh) {
                    grant.access_token = access.clone();
                }
                access
            }
        };
        Ok(SnsToken {
            access_token: AccessToken::new(access),
            expires_in: ACCESS_TTL as u64,
            refresh_token: RefreshToken::new(refresh),
            openid,
            scope: scope.as_str().to_owned(),
            unionid: None,
            is_snapshotuser: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{MockApp, MockUser};
    use crate::state::Setup;

    fn state() -> (State, OpenId) {
        let user = MockUser::new("甲");
        let openid = user.openid.clone();
        let setup = Setup {
            apps: vec![
                (MockApp::demo().with_unionid(true), vec![user]),
                (MockApp::new("wxother", "s"), vec![]),
            ],
        };
        (State::new(&setup, 0), openid)
    }

    #[test]
    fn codes_are_single_use_and_expire() {
        let (mut s, openid) = state();
        let code = s.issue_code(0, openid.clone(), Scope::UserInfo, CODE_TTL, 0);
        assert_eq!(
            s.exchange_code(1, &code, 1).unwrap_err().code,
            ErrCode::INVALID_CODE
        );
        assert!(s.exchange_code(0, &code, 1).is_ok());
        assert_eq!(
            s.exchange_code(0, &code, 2).unwrap_err().code,
            ErrCode::CODE_BEEN_USED
        );
        let late = s.issue_code(0, openid, Scope::Base, CODE_TTL, 0);
        assert_eq!(
            s.exchange_code(0, &late, CODE_TTL).unwrap_err().code,
            ErrCode::CODE_EXPIRED
        );
        assert_eq!(
            s.exchange_code(0, "nope", 0).unwrap_err().code,
            ErrCode::INVALID_CODE
        );
    }

    #[test]
    fn unionid_only_for_userinfo_grants_of_bound_apps() {
        let (mut s, openid) = state();
        let t = s.issue_sns_token(0, openid.clone(), Scope::UserInfo, 0);
        assert!(t.unionid.is_some());
        let t = s.issue_sns_token(0, openid, Scope::Base, 0);
        assert!(t.unionid.is_none());
        assert_eq!(t.scope, "snsapi_base");
    }

    #[test]
    fn refresh_renews_live_tokens_and_replaces_dead_ones() {
        let (mut s, openid) = state();
        let t = s.issue_sns_token(0, openid, Scope::UserInfo, 0);
        let refresh = t.refresh_token.expose_secret().to_owned();
        let access = t.access_token.expose_secret().to_owned();
        let r = s.refresh_sns_token(0, &refresh, 100).unwrap();
        assert_eq!(r.access_token.expose_secret(), access);
        assert_eq!(
            s.sns_access.get(&access).unwrap().expires_at,
            100 + ACCESS_TTL
        );
        let r = s.refresh_sns_token(0, &refresh, 100 + ACCESS_TTL).unwrap();
        assert_ne!(r.access_token.expose_secret(), access);
        assert_eq!(r.refresh_token.expose_secret(), refresh);
        assert_eq!(
            s.refresh_sns_token(0, &refresh, REFRESH_TTL)
                .unwrap_err()
                .code,
            ErrCode::REFRESH_TOKEN_EXPIRED
        );
        assert_eq!(
            s.refresh_sns_token(1, &refresh, 0).unwrap_err().code,
            ErrCode::INVALID_REFRESH_TOKEN
        );
    }
}
