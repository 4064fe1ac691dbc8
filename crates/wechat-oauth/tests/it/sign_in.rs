//! `OAuthClient::sign_in`, the callback step in one call, against wechat-mock, in process and
//! over loopback.

use wechat_crypto::StateError;
use wechat_oauth::{OAuthError, Profile, SignIn};
use wechat_types::api::{Lang, Scope};

use crate::support::{Harness, SESSION, Via, both_ways, callback_query};

const EXCHANGE: &str = "/sns/oauth2/access_token";

/// WeChat's redirect back, handled for `session` with the harness's guard.
async fn sign_in(h: &Harness, session: &str, query: &str) -> Result<SignIn, OAuthError> {
    h.client.sign_in(&h.guard, session, query, Lang::ZhCn).await
}

both_ways!(
    signs_in_from_the_redirect_query,
    base_scope_signs_in_with_the_openid_only,
    checks_the_state_before_spending_the_code,
    reports_a_denial_without_calling_wechat,
    refuses_a_malformed_callback_without_calling_wechat,
);

async fn signs_in_from_the_redirect_query(via: Via) {
    let h = Harness::start(via).await;
    let user = h.mock.users()[0].clone();
    let query = h.redirect_query(SESSION, Scope::UserInfo).await;
    let signed_in = sign_in(&h, SESSION, &query).await.unwrap();
    let SignIn::Authorized(Profile::Full(info)) = &signed_in else {
        panic!("a full profile: {signed_in:?}");
    };
    assert_eq!(info.openid, user.openid);
    assert_eq!(info.nickname, user.nickname);
    // A reload of the callback page: the code is single use.
    let again = sign_in(&h, SESSION, &query).await.unwrap_err();
    assert!(matches!(again, OAuthError::CodeAlreadyUsed(_)), "{again:?}");
}

async fn base_scope_signs_in_with_the_openid_only(via: Via) {
    let h = Harness::start(via).await;
    let query = h.redirect_query(SESSION, Scope::Base).await;
    let signed_in = sign_in(&h, SESSION, &query).await.unwrap();
    assert_eq!(
        signed_in,
        SignIn::Authorized(Profile::OpenIdOnly {
            openid: h.mock.users()[0].openid.clone(),
            unionid: None,
        })
    );
}

async fn checks_the_state_before_spending_the_code(via: Via) {
    let h = Harness::start(via).await;
    // Login CSRF: the attacker's own callback URL, opened in the victim's session.
    let query = h.redirect_query("attacker-session", Scope::UserInfo).await;
    let err = sign_in(&h, SESSION, &query).await.unwrap_err();
    assert!(
        matches!(err, OAuthError::State(StateError::BadMac)),
        "{err:?}"
    );
    assert_eq!(h.mock.request_count(EXCHANGE), 0, "the code was not spent");
    // The session that started it still can.
    let signed_in = sign_in(&h, "attacker-session", &query).await.unwrap();
    assert!(matches!(signed_in, SignIn::Authorized(_)), "{signed_in:?}");
    // A state past the guard's lifetime is refused the same way.
    let stale = h.redirect_query(SESSION, Scope::UserInfo).await;
    h.advance(600);
    let err = sign_in(&h, SESSION, &stale).await.unwrap_err();
    assert!(
        matches!(err, OAuthError::State(StateError::Expired { .. })),
        "{err:?}"
    );
}

async fn reports_a_denial_without_calling_wechat(via: Via) {
    let h = Harness::start(via).await;
    let location = h.deny(&h.guard.issue(SESSION)).await;
    let signed_in = sign_in(&h, SESSION, callback_query(&location))
        .await
        .unwrap();
    assert_eq!(signed_in, SignIn::Denied);
    assert_eq!(h.mock.request_count(EXCHANGE), 0);
    // A denial is checked like any answer: not for another session.
    let err = sign_in(&h, "other", callback_query(&location))
        .await
        .unwrap_err();
    assert!(matches!(err, OAuthError::State(_)), "{err:?}");
}

async fn refuses_a_malformed_callback_without_calling_wechat(via: Via) {
    let h = Harness::start(via).await;
    for query in ["", "code=abc", "code=a&state=s&state=t"] {
        let err = sign_in(&h, SESSION, query).await.unwrap_err();
        assert!(
            matches!(err, OAuthError::InvalidCallback { .. }),
            "{query:?}: {err:?}"
        );
    }
    assert_eq!(h.mock.request_count(EXCHANGE), 0);
}
