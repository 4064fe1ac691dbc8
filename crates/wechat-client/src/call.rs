//! The authorized call every API goes through: token in, one replay on a stale token, bounded
//! retries on busy for idempotent calls. Nothing retries forever.

use bytes::Bytes;
use http::{Request, Response};
use wechat_types::AccessToken;

use crate::endpoints::Endpoints;
use crate::error::Error;
use crate::provider::{AccessTokenProvider, BusyRetry};

/// Whether sending a call twice has the same effect as sending it once. Only idempotent calls
/// are sent again after WeChat answers `-1` (busy); a stale-token answer (40001, 40014, 42001)
/// means WeChat did nothing, so every call is replayed once after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Idempotency {
    /// Reading (`GET`s, `menu/trymatch`) or setting a whole state (`menu/create`).
    Idempotent,
    /// Sending a message, adding a conditional menu: never sent again blindly.
    NotIdempotent,
}

/// Gets a token, sends `build(token)`, reads it with `parse`; on a stale-token errcode
/// invalidates that token only if it is still the stored one, gets another and replays once;
/// on `-1` retries idempotent calls within `busy`.
pub(crate) async fn authorized<T, B, P>(
    tokens: &AccessTokenProvider,
    busy: &BusyRetry,
    idempotency: Idempotency,
    build: B,
    parse: P,
) -> Result<T, Error>
where
    B: Fn(&Endpoints, &AccessToken) -> Result<Request<Bytes>, Error>,
    P: Fn(&Response<Bytes>) -> Result<T, Error>,
{
    let config = tokens.config();
    let busy = match idempotency {
        Idempotency::Idempotent => *busy,
        Idempotency::NotIdempotent => BusyRetry::never(),
    };
    let mut token = tokens.get().await?;
    let mut replayed = false;
    loop {
        let result = busy
            .run(|| async {
                let response = config.send(build(config.endpoints(), &token)?).await?;
                parse(&response)
            })
            .await;
        match result {
            Err(e) if e.is_token_invalid() && !replayed => {
                tracing::debug!(error = %e, "stale access_token; invalidating it and replaying once");
                replayed = true;
                tokens.invalidate_if_current(&token).await?;
                token = tokens.get().await?;
            }
            other => return other,
        }
    }
}
