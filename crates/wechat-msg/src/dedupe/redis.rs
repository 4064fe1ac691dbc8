//! The dedupe store shared by several instances: Redis.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use redis::aio::ConnectionManager;

use super::{Claim, DedupeStore, StoreError, StoredAnswer};

/// Claims a key that is free, or returns what it holds, in one round trip.
const CLAIM: &str = r"
local held = redis.call('GET', KEYS[1])
if held then return held end
redis.call('SET', KEYS[1], 'p', 'PX', ARGV[1])
return ''
";

/// Values stored under a key: `p` while in flight, `s` for `success`, `r` + the reply document.
const IN_FLIGHT: &str = "p";
const SUCCESS: &str = "s";
const REPLY_TAG: char = 'r';

/// A [`DedupeStore`] in Redis, for several instances behind one callback URL: whichever instance
/// gets a push first runs the handler, and a retry that lands on another instance gets its answer.
///
/// A claim is one Lua script (read or set, atomically); keys expire with Redis's own TTL.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use std::sync::Arc;
/// use wechat_msg::dedupe::RedisDedupeStore;
///
/// let client = redis::Client::open("redis://127.0.0.1/")?;
/// let conn = redis::aio::ConnectionManager::new(client).await?;
/// let store = Arc::new(RedisDedupeStore::new(conn, "wechat:dedupe:"));
/// # let _ = store; Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisDedupeStore {
    conn: ConnectionManager,
    prefix: String,
    claim: redis::Script,
}

impl RedisDedupeStore {
    /// A store over `conn`, with every key under `prefix` (such as `wechat:dedupe:<appid>:`).
    pub fn new(conn: ConnectionManager, prefix: impl Into<String>) -> Self {
        Self {
            conn,
            prefix: prefix.into(),
            claim: redis::Script::new(CLAIM),
        }
    }

    fn key(&self, key: &str) -> String {
        let mut full = String::with_capacity(self.prefix.len() + key.len());
        full.push_str(&self.prefix);
        full.push_str(key);
        full
    }
}

impl fmt::Debug for RedisDedupeStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisDedupeStore")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

fn millis(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1)
}

/// Reads what a claim returned: empty for a fresh claim, else the stored value.
fn decode_claim(held: &str) -> Result<Claim, StoreError> {
    match held {
        "" => Ok(Claim::New),
        IN_FLIGHT => Ok(Claim::InFlight),
        SUCCESS => Ok(Claim::Done(StoredAnswer::Success)),
        other => match other.strip_prefix(REPLY_TAG) {
            Some(reply) => Ok(Claim::Done(StoredAnswer::Reply(reply.to_owned()))),
            None => Err(format!("unexpected dedupe value of {} bytes", other.len()).into()),
        },
    }
}

fn encode_answer(answer: &StoredAnswer) -> String {
    match answer {
        StoredAnswer::Success => SUCCESS.to_owned(),
        StoredAnswer::Reply(xml) => {
            let mut value = String::with_capacity(xml.len() + 1);
            value.push(REPLY_TAG);
            value.push_str(xml);
            value
        }
    }
}

#[async_trait]
impl DedupeStore for RedisDedupeStore {
    async fn claim(&self, key: &str, ttl: Duration) -> Result<Claim, StoreError> {
        let mut conn = self.conn.clone();
        let held: String = self
            .claim
            .key(self.key(key))
            .arg(millis(ttl))
            .invoke_async(&mut conn)
            .await?;
        decode_claim(&held)
    }

    async fn complete(
        &self,
        key: &str,
        answer: StoredAnswer,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        // XX: a key that expired meanwhile stays gone rather than coming back.
        let _: Option<String> = redis::cmd("SET")
            .arg(self.key(key))
            .arg(encode_answer(&answer))
            .arg("PX")
            .arg(millis(ttl))
            .arg("XX")
            .query_async(&mut conn)
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_round_trip_through_their_encoding() {
        for answer in [
            StoredAnswer::Success,
            StoredAnswer::Reply("<xml><Content><![CDATA[r]]></Content></xml>".into()),
            StoredAnswer::Reply(String::new()),
        ] {
            assert_eq!(
                decode_claim(&encode_answer(&answer)).unwrap(),
                Claim::Done(answer)
            );
        }
        assert_eq!(decode_claim("").unwrap(), Claim::New);
        assert_eq!(decode_claim("p").unwrap(), Claim::InFlight);
        assert!(decode_claim("zzz").is_err());
    }
}
