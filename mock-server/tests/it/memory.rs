//! Memory stays bounded in a long run: expired codes and tokens are swept, logs are capped.

use wechat_mock::MockServer;

use crate::support::{Mock, START, Via};

#[tokio::test]
async fn expired_codes_and_tokens_are_swept() {
    let m = Mock::start(Via::InProcess).await;
    for _ in 0..2000 {
        m.get(&m.authorize_url("snsapi_base", "s")).await;
    }
    for _ in 0..200 {
        m.token().await;
    }
    for _ in 0..300 {
        m.sns_token("snsapi_userinfo").await;
    }
    let stats = m.server.stats();
    assert_eq!(stats.codes, 2300);
    assert_eq!(
        stats.base_tokens, 64,
        "rotations keep at most 64 overlapping tokens; replaced ones beyond are forgotten"
    );
    assert_eq!(stats.sns_access_tokens, 300);
    assert_eq!(stats.refresh_tokens, 300);

    // Codes: 5 minutes of life plus 10 of memory.
    m.server.advance_clock(900);
    assert_eq!(m.server.stats().codes, 0);
    // Access tokens: 2 hours of life plus 2 of memory.
    m.server.advance_clock(4 * 3600);
    let stats = m.server.stats();
    assert_eq!(stats.base_tokens, 0);
    assert_eq!(stats.sns_access_tokens, 0);
    assert_eq!(stats.refresh_tokens, 300);
    // Refresh tokens: 30 days plus one.
    m.server.advance_clock(31 * 86_400);
    assert_eq!(m.server.stats().refresh_tokens, 0);
}

#[tokio::test]
async fn the_request_log_keeps_its_last_entries() {
    let m = Mock::with(
        Via::InProcess,
        MockServer::builder().request_log_capacity(100),
    )
    .await;
    for _ in 0..500 {
        m.get("/mock/clock").await;
    }
    assert_eq!(m.server.stats().requests, 100);
    assert_eq!(m.server.requests().len(), 100);
}

#[tokio::test]
async fn rotation_lists_are_capped() {
    let m = Mock::with(Via::InProcess, MockServer::builder().frozen_clock(START)).await;
    // Hundreds of rotations within the 5-minute overlap keep a bounded live list.
    let mut tokens = Vec::new();
    for _ in 0..300 {
        tokens.push(m.token().await);
    }
    let oldest = &tokens[0];
    let newest = tokens.last().unwrap();
    let state = |t: &str| {
        let t = t.to_owned();
        let m = &m;
        async move {
            m.get(&format!("/cgi-bin/menu/get?access_token={t}"))
                .await
                .errcode()
        }
    };
    assert_eq!(state(newest).await, 46003);
    assert_eq!(
        state(oldest).await,
        40001,
        "past the live-list cap the oldest die"
    );
}
