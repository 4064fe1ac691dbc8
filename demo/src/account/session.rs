//! Browser sessions of the web pages: an unguessable id in a `HttpOnly` cookie, and who signed in.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::{Mutex, MutexGuard, PoisonError};

use http::HeaderMap;
use http::header::COOKIE;
use rand::RngCore as _;
use wechat_types::api::SnsUserInfo;

/// The session cookie.
pub(crate) const COOKIE_NAME: &str = "demo_sid";
/// Sessions kept in memory; past it the oldest half is forgotten (a demo has no database).
const MAX_SESSIONS: usize = 10_000;

#[derive(Debug)]
struct Session {
    /// The signed-in user's profile.
    user: Option<SnsUserInfo>,
    /// Creation order, to forget the oldest first.
    created: u64,
}

/// Every session, by id.
#[derive(Debug, Default)]
pub(crate) struct Sessions {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    sessions: HashMap<String, Session>,
    next: u64,
}

impl Sessions {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The id in the request's cookie, if the session exists here.
    pub(crate) fn find(&self, headers: &HeaderMap) -> Option<String> {
        let sid = cookie(headers, COOKIE_NAME)?;
        self.lock()
            .sessions
            .contains_key(sid)
            .then(|| sid.to_owned())
    }

    /// A new session. The id is 128 random bits: the OAuth state is only as strong as it.
    pub(crate) fn create(&self) -> String {
        let mut bytes = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let sid = bytes.iter().fold(String::with_capacity(32), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        });
        let mut inner = self.lock();
        if inner.sessions.len() >= MAX_SESSIONS {
            let mut ages: Vec<u64> = inner.sessions.values().map(|s| s.created).collect();
            ages.sort_unstable();
            let cutoff = ages[ages.len() / 2];
            inner.sessions.retain(|_, s| s.created > cutoff);
        }
        let created = inner.next;
        inner.next += 1;
        inner.sessions.insert(
            sid.clone(),
            Session {
                user: None,
                created,
            },
        );
        sid
    }

    /// Who signed in with this session.
    pub(crate) fn user(&self, sid: &str) -> Option<SnsUserInfo> {
        self.lock().sessions.get(sid)?.user.clone()
    }

    /// Signs the session in.
    pub(crate) fn sign_in(&self, sid: &str, user: SnsUserInfo) {
        if let Some(session) = self.lock().sessions.get_mut(sid) {
            session.user = Some(user);
        }
    }

    /// Forgets the session.
    pub(crate) fn remove(&self, sid: &str) {
        self.lock().sessions.remove(sid);
    }
}

/// The `Set-Cookie` value for a session. `SameSite=Lax` so the cookie comes back on WeChat's
/// top-level redirect to the callback; over HTTPS a real site adds `Secure`.
pub(crate) fn set_cookie(sid: &str) -> String {
    format!("{COOKIE_NAME}={sid}; Path=/; HttpOnly; SameSite=Lax")
}

/// The value of cookie `name`.
fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(cookie: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(COOKIE, cookie.parse().unwrap());
        headers
    }

    #[test]
    fn only_known_sessions_are_found() {
        let sessions = Sessions::default();
        let sid = sessions.create();
        assert_eq!(sid.len(), 32);
        let found = sessions.find(&headers(&format!("other=1; {COOKIE_NAME}={sid}")));
        assert_eq!(found.as_deref(), Some(sid.as_str()));
        assert_eq!(
            sessions.find(&headers(&format!("{COOKIE_NAME}=forged"))),
            None
        );
        assert_eq!(sessions.find(&HeaderMap::new()), None);
        sessions.remove(&sid);
        assert_eq!(
            sessions.find(&headers(&format!("{COOKIE_NAME}={sid}"))),
            None
        );
    }

    #[test]
    fn sessions_stay_bounded() {
        let sessions = Sessions::default();
        let first = sessions.create();
        for _ in 0..MAX_SESSIONS {
            sessions.create();
        }
        assert!(sessions.lock().sessions.len() <= MAX_SESSIONS);
        assert!(!sessions.lock().sessions.contains_key(&first));
    }
}
