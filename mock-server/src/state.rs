//! The fake's memory: apps and their users, issued codes and tokens, menus, sent messages.
//!
//! One `State` sits behind one mutex; every handler takes the lock for a few microseconds and
//! never across an `.await`. The state machines live beside their endpoints (`impl State` blocks
//! in `api::*`); this module holds the data, lookups and the sweeper that keeps memory bounded.

use std::collections::{HashMap, VecDeque};

use wechat_types::api::{ConditionalMenu, Menu, Scope};
use wechat_types::{AppId, ErrCode, OpenId, UnionId};

use crate::bounded::{BoundedMap, Ring};
use crate::config::{ConfigError, MAX_APPS, MAX_USERS_PER_APP, MockApp, MockUser};
use crate::log::SentMessage;
use crate::push::Conversation;
use crate::reply::ApiError;

/// Lifetimes and limits of PROTOCOL.md 4.3, plus how long the fake remembers dead secrets (so a
/// client sees "expired" or "used" rather than "invalid" for a while, as on WeChat).
pub(crate) mod limits {
    /// An OAuth code of `connect/oauth2/authorize` lives 5 minutes.
    pub(crate) const CODE_TTL: i64 = 300;
    /// A `connect/qrconnect` (website login) code lives 10 minutes.
    pub(crate) const QR_CODE_TTL: i64 = 600;
    /// Expired or used codes are remembered this long (42003 / 40163), then forgotten (40029).
    pub(crate) const CODE_RETAIN: i64 = 600;
    /// Base and sns access tokens, and tickets, live 2 hours.
    pub(crate) const ACCESS_TTL: i64 = 7200;
    /// After a new `cgi-bin/token`, the previous token stays valid this long.
    pub(crate) const ROTATION_GRACE: i64 = 300;
    /// Dead access tokens are remembered this long (42001), then forgotten (40001).
    pub(crate) const TOKEN_RETAIN: i64 = 7200;
    /// A refresh token lives 30 days and is never extended.
    pub(crate) const REFRESH_TTL: i64 = 30 * 86_400;
    /// Expired refresh tokens are remembered a day (42002), then forgotten (40030).
    pub(crate) const REFRESH_RETAIN: i64 = 86_400;
    /// `stable_token` in normal mode issues a new token this long before the old one expires.
    pub(crate) const STABLE_RENEW_BEFORE: i64 = 300;
    /// `stable_token` force_refresh: at most 20 a day, 30 s apart.
    pub(crate) const FORCE_REFRESH_PER_DAY: u32 = 20;
    pub(crate) const FORCE_REFRESH_INTERVAL: i64 = 30;
    /// The customer-service window after a user's message: 48 hours, 5 messages.
    pub(crate) const SERVICE_WINDOW: i64 = 48 * 3600;
    pub(crate) const SERVICE_WINDOW_MESSAGES: u32 = 5;
    /// The window after a menu click, a follow or a QR scan: 1 minute, 3 messages.
    pub(crate) const EVENT_WINDOW: i64 = 60;
    pub(crate) const EVENT_WINDOW_MESSAGES: u32 = 3;
    /// Conditional menus per account (65305 past it; the real limit is unverified).
    pub(crate) const MAX_CONDITIONAL_MENUS: usize = 100;

    /// Hard caps: past them the oldest entries are dropped even if still live.
    pub(crate) const MAX_CODES: usize = 100_000;
    pub(crate) const MAX_BASE_TOKENS: usize = 100_000;
    pub(crate) const MAX_SNS_TOKENS: usize = 100_000;
    pub(crate) const MAX_LIVE_CGI_TOKENS: usize = 64;
    pub(crate) const MAX_MESSAGES: usize = 10_000;

    /// Sweep at most every this many mock seconds. (Nothing expires while the clock stands
    /// still, and moving it sweeps at once, so time is the only trigger needed.)
    pub(crate) const SWEEP_EVERY_SECS: i64 = 10;
}

use limits::*;

/// The apps and users a server starts with, and returns to on reset.
#[derive(Debug, Clone)]
pub(crate) struct Setup {
    pub(crate) apps: Vec<(MockApp, Vec<MockUser>)>,
}

#[derive(Debug)]
pub(crate) struct State {
    pub(crate) apps: Vec<AppState>,
    app_index: HashMap<String, usize>,
    pub(crate) codes: BoundedMap<CodeRecord>,
    pub(crate) base_tokens: BoundedMap<BaseToken>,
    pub(crate) sns_access: BoundedMap<SnsAccess>,
    pub(crate) sns_refresh: BoundedMap<SnsRefresh>,
    pub(crate) messages: Ring<SentMessage>,
    pub(crate) next_menu_id: u64,
    last_sweep: i64,
}

#[derive(Debug)]
pub(crate) struct AppState {
    pub(crate) app: MockApp,
    pub(crate) users: Vec<UserState>,
    /// `cgi-bin/token` tokens that may still be live with their expiry, oldest first.
    pub(crate) cgi_tokens: VecDeque<(String, i64)>,
    /// The current `stable_token` token.
    pub(crate) stable_token: Option<String>,
    /// Force refreshes: the Beijing day, how many that day, and the last one's time.
    pub(crate) force_refresh: (i64, u32, i64),
    /// `jsapi` and `wx_card` tickets with their expiry.
    pub(crate) tickets: [Option<(String, i64)>; 2],
    pub(crate) menu: Option<(Menu, String)>,
    pub(crate) conditional_menus: Vec<ConditionalMenu>,
    /// Calls per API path on a Beijing day, for `daily_quota`.
    pub(crate) quota: HashMap<&'static str, (i64, u32)>,
    /// Each user's conversation with the account, by openid (only users who have one).
    pub(crate) conversations: HashMap<String, Conversation>,
}

#[derive(Debug, Clone)]
pub(crate) struct UserState {
    pub(crate) user: MockUser,
    /// Opened by the user's last message: 48 hours, 5 custom-service messages.
    pub(crate) message_window: ServiceWindow,
    /// Opened by the user's last menu click, follow or QR scan: 1 minute, 3 messages.
    pub(crate) event_window: ServiceWindow,
}

/// What a user did that lets the account write to them for a while (PROTOCOL.md 4.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Interaction {
    /// A message (text, image, voice, video, location, link).
    Message,
    /// A menu click, a follow or a QR scan.
    Event,
}

/// One customer-service window: when it opened and how much of it is used.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ServiceWindow {
    pub(crate) opened_at: Option<i64>,
    pub(crate) sent: u32,
}

impl ServiceWindow {
    fn open_at(now: i64) -> Self {
        Self {
            opened_at: Some(now),
            sent: 0,
        }
    }

    fn in_time(&self, now: i64, lifetime: i64) -> bool {
        self.opened_at.is_some_and(|at| now - at < lifetime)
    }
}

impl UserState {
    /// A user who joins now: treated as having just messaged, so their window is open.
    pub(crate) fn new(user: MockUser, now: i64) -> Self {
        Self {
            user,
            message_window: ServiceWindow::open_at(now),
            event_window: ServiceWindow::default(),
        }
    }

    /// Opens the window `interaction` opens, from `now`.
    pub(crate) fn record(&mut self, interaction: Interaction, now: i64) {
        match interaction {
            Interaction::Message => self.message_window = ServiceWindow::open_at(now),
            Interaction::Event => self.event_window = ServiceWindow::open_at(now),
        }
    }

    /// The window a custom-service message sent now is charged to (the event window first,
    /// the shorter one), or why none can take it: 45015 when no window is in time or the user
    /// does not follow, 45047 when the windows in time are used up.
    pub(crate) fn window_for_send(&self, now: i64) -> Result<Interaction, ErrCode> {
        if !self.user.subscribed {
            return Err(ErrCode::RESPONSE_OUT_OF_TIME);
        }
        let windows = [
            (
                Interaction::Event,
                self.event_window,
                limits::EVENT_WINDOW,
                limits::EVENT_WINDOW_MESSAGES,
            ),
            (
                Interaction::Message,
                self.message_window,
                limits::SERVICE_WINDOW,
                limits::SERVICE_WINDOW_MESSAGES,
            ),
        ];
        let mut in_time = windows
            .iter()
            .filter(|(_, w, life, _)| w.in_time(now, *life))
            .peekable();
        if in_time.peek().is_none() {
            return Err(ErrCode::RESPONSE_OUT_OF_TIME);
        }
        in_time
            .find(|(_, w, _, max)| w.sent < *max)
            .map(|(kind, ..)| *kind)
            .ok_or(ErrCode::RESPONSE_COUNT_LIMIT)
    }

    /// Counts one custom-service message against `window`.
    pub(crate) fn charge(&mut self, window: Interaction) {
        match window {
            Interaction::Message => self.message_window.sent += 1,
            Interaction::Event => self.event_window.sent += 1,
        }
    }

    /// When the user last opened a window, of either kind.
    pub(crate) fn last_interaction(&self) -> Option<i64> {
        self.message_window
            .opened_at
            .max(self.event_window.opened_at)
    }
}

#[derive(Debug, Clone)]
pub(crate) struct CodeRecord {
    pub(crate) appid: AppId,
    pub(crate) openid: OpenId,
    pub(crate) scope: Scope,
    pub(crate) expires_at: i64,
    pub(crate) used: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct BaseToken {
    pub(crate) appid: AppId,
    pub(crate) expires_at: i64,
    /// True when the token died because a newer one replaced it (40001), false when it simply
    /// ran out (42001).
    pub(crate) superseded: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct SnsAccess {
    pub(crate) appid: AppId,
    pub(crate) openid: OpenId,
    pub(crate) scope: Scope,
    pub(crate) expires_at: i64,
}

#[derive(Debug, Clone)]
pub(crate) struct SnsRefresh {
    pub(crate) appid: AppId,
    pub(crate) openid: OpenId,
    pub(crate) scope: Scope,
    pub(crate) expires_at: i64,
    /// The access token this refresh token last gave out.
    pub(crate) access_token: String,
}

/// Counts of what the fake holds in memory; see [`MockServer::stats`](crate::MockServer::stats).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct MockStats {
    /// Apps.
    pub apps: usize,
    /// Users over all apps.
    pub users: usize,
    /// OAuth codes remembered (live, used or recently expired).
    pub codes: usize,
    /// Base access tokens remembered.
    pub base_tokens: usize,
    /// Web-authorization access tokens remembered.
    pub sns_access_tokens: usize,
    /// Refresh tokens remembered.
    pub refresh_tokens: usize,
    /// Custom-service messages kept.
    pub messages: usize,
    /// Conversation entries kept, over all users (at most 200 per user).
    pub conversation_entries: usize,
    /// Requests kept in the log.
    pub requests: usize,
}

impl State {
    pub(crate) fn new(setup: &Setup, now: i64) -> State {
        let mut state = State {
            apps: Vec::new(),
            app_index: HashMap::new(),
            codes: BoundedMap::new(MAX_CODES),
            base_tokens: BoundedMap::new(MAX_BASE_TOKENS),
            sns_access: BoundedMap::new(MAX_SNS_TOKENS),
            sns_refresh: BoundedMap::new(MAX_SNS_TOKENS),
            messages: Ring::new(MAX_MESSAGES),
            next_menu_id: 400_000_001,
            last_sweep: now,
        };
        for (app, users) in &setup.apps {
            // The builder validated uniqueness and limits; a duplicate here is skipped.
            if let Ok(index) = state.add_app(app.clone()) {
                for user in users {
                    let _ = state.add_user(index, user.clone(), now);
                }
            }
        }
        state
    }

    /// Adds an app; refuses a duplicate appid or more than the app limit.
    pub(crate) fn add_app(&mut self, app: MockApp) -> Result<usize, ConfigError> {
        if self.app_index.contains_key(app.appid.as_str()) {
            return Err(ConfigError::DuplicateApp(app.appid.into_string()));
        }
        if self.apps.len() >= MAX_APPS {
            return Err(ConfigError::TooMany(format!("at most {MAX_APPS} apps")));
        }
        let index = self.apps.len();
        self.app_index.insert(app.appid.as_str().to_owned(), index);
        self.apps.push(AppState {
            app,
            users: Vec::new(),
            cgi_tokens: VecDeque::new(),
            stable_token: None,
            force_refresh: (0, 0, i64::MIN),
            tickets: [None, None],
            menu: None,
            conditional_menus: Vec::new(),
            quota: HashMap::new(),
            conversations: HashMap::new(),
        });
        Ok(index)
    }

    /// Adds a user to an app: fills `subscribe_time` and the unionid when the app has one, and
    /// opens the customer-service window (a new user is treated as having just messaged).
    pub(crate) fn add_user(
        &mut self,
        app: usize,
        mut user: MockUser,
        now: i64,
    ) -> Result<MockUser, ConfigError> {
        let app_state = self
            .apps
            .get_mut(app)
            .ok_or_else(|| ConfigError::UnknownApp(String::new()))?;
        if app_state.users.len() >= MAX_USERS_PER_APP {
            return Err(ConfigError::TooMany(format!(
                "at most {MAX_USERS_PER_APP} users per app"
            )));
        }
        if app_state.users.iter().any(|u| u.user.openid == user.openid) {
            return Err(ConfigError::DuplicateUser(user.openid.into_string()));
        }
        if user.subscribe_time == 0 {
            user.subscribe_time = now;
        }
        if app_state.app.unionid && user.unionid.is_none() {
            user.unionid = Some(UnionId::new(crate::fake::random_openid()));
        }
        app_state.users.push(UserState::new(user.clone(), now));
        Ok(user)
    }

    pub(crate) fn app_index(&self, appid: &str) -> Option<usize> {
        self.app_index.get(appid).copied()
    }

    /// The app for a request's `appid`: 41002 when missing, 40013 when unknown.
    pub(crate) fn app_for(&self, appid: Option<&str>) -> Result<usize, ApiError> {
        let appid = appid.ok_or(ApiError::new(ErrCode::APPID_MISSING))?;
        self.app_index(appid)
            .ok_or_else(|| ApiError::new(ErrCode::INVALID_APPID))
    }

    pub(crate) fn user(&self, app: usize, openid: &str) -> Option<&UserState> {
        self.apps
            .get(app)?
            .users
            .iter()
            .find(|u| u.user.openid == openid)
    }

    pub(crate) fn user_mut(&mut self, app: usize, openid: &str) -> Option<&mut UserState> {
        self.apps
            .get_mut(app)?
            .users
            .iter_mut()
            .find(|u| u.user.openid == openid)
    }

    /// The first user with this openid in any app, and their app.
    pub(crate) fn find_user_anywhere(&self, openid: &str) -> Option<(usize, &UserState)> {
        self.apps.iter().enumerate().find_map(|(i, app)| {
            app.users
                .iter()
                .find(|u| u.user.openid == openid)
                .map(|u| (i, u))
        })
    }

    /// The unionid to put in an answer: the user's, when the app is bound to an open platform.
    pub(crate) fn unionid_for(&self, app: usize, openid: &str) -> Option<UnionId> {
        if !self.apps.get(app)?.app.unionid {
            return None;
        }
        self.user(app, openid)?.user.unionid.clone()
    }

    /// Opens the customer-service window a user's message or event opens.
    pub(crate) fn record_interaction(
        &mut self,
        app: usize,
        openid: &str,
        interaction: Interaction,
        now: i64,
    ) -> bool {
        match self.user_mut(app, openid) {
            Some(user) => {
                user.record(interaction, now);
                true
            }
            None => false,
        }
    }

    /// Counts one call of `path` against the app's daily quota: 45009 past it.
    pub(crate) fn charge_quota(
        &mut self,
        app: usize,
        path: &'static str,
        now: i64,
    ) -> Result<(), ApiError> {
        let Some(app_state) = self.apps.get_mut(app) else {
            return Ok(());
        };
        let Some(limit) = app_state.app.daily_quota else {
            return Ok(());
        };
        let today = crate::clock::beijing_day(now);
        let entry = app_state.quota.entry(path).or_insert((today, 0));
        if entry.0 != today {
            *entry = (today, 0);
        }
        if entry.1 >= limit {
            return Err(ApiError::new(ErrCode::DAILY_QUOTA));
        }
        entry.1 += 1;
        Ok(())
    }

    pub(crate) fn next_menu_id(&mut self) -> String {
        self.next_menu_id += 1;
        self.next_menu_id.to_string()
    }

    /// Sweeps when enough mock time has passed since the last sweep.
    pub(crate) fn maybe_sweep(&mut self, now: i64) {
        if now - self.last_sweep >= SWEEP_EVERY_SECS {
            self.sweep(now);
        }
    }

    /// Forgets every code and token past its retention; keeps the per-app lists short.
    pub(crate) fn sweep(&mut self, now: i64) {
        self.last_sweep = now;
        self.codes.retain(|c| c.expires_at + CODE_RETAIN > now);
        // Replaced tokens answer 40001 whether remembered or not: forget them once dead.
        self.base_tokens
            .retain(|t| t.expires_at > now || (!t.superseded && t.expires_at + TOKEN_RETAIN > now));
        self.sns_access
            .retain(|t| t.expires_at + TOKEN_RETAIN > now);
        self.sns_refresh
            .retain(|t| t.expires_at + REFRESH_RETAIN > now);
        let tokens = &self.base_tokens;
        let today = crate::clock::beijing_day(now);
        for app in &mut self.apps {
            app.cgi_tokens.retain(|(_, expires_at)| *expires_at > now);
            if app
                .stable_token
                .as_deref()
                .is_some_and(|t| tokens.get(t).is_none())
            {
                app.stable_token = None;
            }
            for ticket in &mut app.tickets {
                if ticket.as_ref().is_some_and(|(_, exp)| *exp <= now) {
                    *ticket = None;
                }
            }
            app.quota.retain(|_, (day, _)| *day == today);
        }
    }

    pub(crate) fn stats(&self) -> MockStats {
        MockStats {
            apps: self.apps.len(),
            users: self.apps.iter().map(|a| a.users.len()).sum(),
            codes: self.codes.len(),
            base_tokens: self.base_tokens.len(),
            sns_access_tokens: self.sns_access.len(),
            refresh_tokens: self.sns_refresh.len(),
            messages: self.messages.iter().len(),
            conversation_entries: self
                .apps
                .iter()
                .flat_map(|a| a.conversations.values())
                .map(Conversation::len)
                .sum(),
            requests: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> Setup {
        let app = MockApp::demo().with_daily_quota(2);
        let users = vec![MockUser::new("甲")];
        Setup {
            apps: vec![(app, users)],
        }
    }

    #[test]
    fn apps_and_users_are_unique_and_found() {
        let mut state = State::new(&setup(), 100);
        assert_eq!(
            state.app_for(None).unwrap_err().code,
            ErrCode::APPID_MISSING
        );
        assert_eq!(
            state.app_for(Some("wxnope")).unwrap_err().code,
            ErrCode::INVALID_APPID
        );
        let app = state.app_for(Some(MockApp::demo().appid.as_str())).unwrap();
        assert!(state.add_app(MockApp::demo()).is_err());
        let openid = state.apps[app].users[0].user.openid.clone();
        assert_eq!(state.apps[app].users[0].user.subscribe_time, 100);
        assert!(
            state
                .add_user(app, MockUser::new("乙").with_openid(openid.clone()), 1)
                .is_err()
        );
        assert_eq!(state.find_user_anywhere(openid.as_str()).unwrap().0, app);
        assert!(state.unionid_for(app, openid.as_str()).is_none());
    }

    #[test]
    fn quota_counts_per_path_and_resets_daily() {
        let mut state = State::new(&setup(), 1_704_067_200);
        let now = 1_704_067_200;
        assert!(state.charge_quota(0, "/a", now).is_ok());
        assert!(state.charge_quota(0, "/a", now).is_ok());
        assert_eq!(
            state.charge_quota(0, "/a", now).unwrap_err().code,
            ErrCode::DAILY_QUOTA
        );
        assert!(state.charge_quota(0, "/b", now).is_ok());
        assert!(state.charge_quota(0, "/a", now + 86_400).is_ok());
    }

    #[test]
    fn requests_trigger_sweeps_as_time_passes() {
        let mut state = State::new(&setup(), 0);
        // Long dead: any sweep removes it.
        let dead = CodeRecord {
            appid: "wx".into(),
            openid: "o".into(),
            scope: Scope::Base,
            expires_at: -10_000,
            used: false,
        };
        state.codes.insert("a".into(), dead);
        state.maybe_sweep(SWEEP_EVERY_SECS - 1);
        assert_eq!(state.codes.len(), 1, "no sweep within 10 s of the last");
        state.maybe_sweep(SWEEP_EVERY_SECS);
        assert_eq!(state.codes.len(), 0);
    }

    #[test]
    fn sweep_forgets_old_codes() {
        let mut state = State::new(&setup(), 0);
        state.codes.insert(
            "c".into(),
            CodeRecord {
                appid: "wx".into(),
                openid: "o".into(),
                scope: Scope::Base,
                expires_at: 300,
                used: false,
            },
        );
        state.sweep(300 + CODE_RETAIN - 1);
        assert_eq!(state.codes.len(), 1);
        state.sweep(300 + CODE_RETAIN);
        assert_eq!(state.codes.len(), 0);
    }
}
