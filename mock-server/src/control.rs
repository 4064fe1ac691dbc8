//! The control operations shared by the library handles and the `/mock/` admin routes.

use wechat_types::OpenId;

use crate::config::{ConfigError, MockApp, MockUser};
use crate::router::{Shared, lock};
use crate::state::{Interaction, State, UserState};

/// Users generated for an app added without a user list.
pub(crate) const DEFAULT_FAKE_USERS: usize = 5;

impl Shared {
    /// Adds an app with its users.
    pub(crate) fn add_app(
        &self,
        app: MockApp,
        users: Vec<MockUser>,
    ) -> Result<MockApp, ConfigError> {
        let now = self.clock.now();
        let mut state = lock(&self.state);
        let index = state.add_app(app.clone())?;
        for user in users {
            state.add_user(index, user, now)?;
        }
        Ok(app)
    }

    /// Adds a user to the app `appid` (the default app when `None`).
    pub(crate) fn add_user(
        &self,
        appid: Option<&str>,
        user: MockUser,
    ) -> Result<MockUser, ConfigError> {
        let now = self.clock.now();
        let mut state = lock(&self.state);
        let app = app_or_default(&state, appid)?;
        state.add_user(app, user, now)
    }

    /// The users of `appid` (the default app when `None`).
    pub(crate) fn user_states(&self, appid: Option<&str>) -> Result<Vec<UserState>, ConfigError> {
        let state = lock(&self.state);
        let app = app_or_default(&state, appid)?;
        Ok(state.apps[app].users.clone())
    }

    pub(crate) fn apps(&self) -> Vec<MockApp> {
        lock(&self.state)
            .apps
            .iter()
            .map(|a| a.app.clone())
            .collect()
    }

    /// Opens the customer-service window a message opens, for a user of `appid` (any app when
    /// `None`).
    pub(crate) fn record_interaction(&self, appid: Option<&str>, openid: &OpenId) -> bool {
        let now = self.clock.now();
        let mut state = lock(&self.state);
        let app = match appid {
            Some(appid) => state.app_index(appid),
            None => state
                .find_user_anywhere(openid.as_str())
                .map(|(app, _)| app),
        };
        app.is_some_and(|app| {
            state.record_interaction(app, openid.as_str(), Interaction::Message, now)
        })
    }

    /// Moves the clock and sweeps what expired.
    pub(crate) fn advance_clock(&self, secs: u64) {
        self.clock.advance(secs);
        let now = self.clock.now();
        lock(&self.state).sweep(now);
    }

    /// Back to the start: configured apps and users, no codes, tokens, menus, messages, faults or
    /// log, and the clock without offset.
    pub(crate) fn reset(&self) {
        self.clock.reset();
        let fresh = State::new(&self.setup, self.clock.now());
        *lock(&self.state) = fresh;
        lock(&self.faults).clear();
        lock(&self.log).clear();
        self.clear_deliveries();
    }
}

fn app_or_default(state: &State, appid: Option<&str>) -> Result<usize, ConfigError> {
    match appid {
        Some(appid) => state
            .app_index(appid)
            .ok_or_else(|| ConfigError::UnknownApp(appid.to_owned())),
        None if state.apps.is_empty() => Err(ConfigError::UnknownApp(String::new())),
        None => Ok(0),
    }
}
