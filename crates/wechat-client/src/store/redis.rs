use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::{CredentialKey, LockOwner, StoreError, StoreErrorKind, StoredCredential, TokenStore};

/// The longest TTL a credential key gets (30 days).
const MAX_TTL_SECS: i64 = 30 * 24 * 3600;

/// Deletes `KEYS[1]` only if the secret it holds is `ARGV[1]`. Values are
/// `obtained_at:expires_at:secret` ([`StoredCredential::encode`]).
const INVALIDATE_IF_CURRENT: &str = r"
local value = redis.call('GET', KEYS[1])
if not value then return 0 end
local secret = string.match(value, '^%-?%d+:%-?%d+:(.*)$')
if secret == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
";

/// Deletes the lock `KEYS[1]` only if `ARGV[1]` owns it.
const RELEASE_IF_OWNER: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
";

/// A [`TokenStore`] in Redis (feature `redis`), shared by every instance of an app.
///
/// Keys are namespaced per app: `wechat:{appid}:access_token`, `wechat:{appid}:jsapi_ticket`,
/// and their refresh locks `…:lock` (the `wechat` prefix is configurable). A credential is kept
/// as `obtained_at:expires_at:secret` with a TTL of its lifetime; locks are `SET NX PX` with a
/// random owner token, released by a Lua script only by their owner; compare-and-invalidate is
/// a Lua script too, so no instance ever deletes a token fresher than the one that failed.
///
/// ```no_run
/// # async fn run() -> Result<(), wechat_client::store::StoreError> {
/// use std::sync::Arc;
/// use wechat_client::store::RedisStore;
///
/// let store = Arc::new(RedisStore::connect("redis://127.0.0.1:6379/").await?.with_prefix("myapp:wechat"));
/// # drop(store);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisStore {
    connection: ConnectionManager,
    prefix: Arc<str>,
    invalidate_script: Arc<redis::Script>,
    release_script: Arc<redis::Script>,
}

impl RedisStore {
    /// Connects to `url` (`redis://[:password@]host:port/db`) with a connection manager that
    /// reconnects on its own, and bounded connect (2 s) and response (2 s) timeouts so a dead
    /// Redis gives an error instead of a hang.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_secs(2)))
            .set_number_of_retries(2);
        Self::connect_with_config(url, config).await
    }

    /// Connects to `url` with your own connection manager settings.
    pub async fn connect_with_config(
        url: &str,
        config: ConnectionManagerConfig,
    ) -> Result<Self, StoreError> {
        // The URL may hold a password: never put it in an error.
        let client =
            redis::Client::open(url).map_err(|e| StoreError::backend("invalid Redis URL", e))?;
        let connection = client
            .get_connection_manager_with_config(config)
            .await
            .map_err(|e| StoreError::backend("cannot connect to Redis", e))?;
        Ok(Self::from_connection_manager(connection))
    }

    /// A store over an existing connection manager.
    pub fn from_connection_manager(connection: ConnectionManager) -> Self {
        Self {
            connection,
            prefix: Arc::from("wechat"),
            invalidate_script: Arc::new(redis::Script::new(INVALIDATE_IF_CURRENT)),
            release_script: Arc::new(redis::Script::new(RELEASE_IF_OWNER)),
        }
    }

    /// Another key prefix than `wechat` (to share one Redis between environments).
    pub fn with_prefix(mut self, prefix: impl AsRef<str>) -> Self {
        self.prefix = Arc::from(prefix.as_ref().trim_end_matches(':'));
        self
    }

    /// The Redis key of a credential: `{prefix}:{appid}:{kind}`.
    pub fn credential_key(&self, key: &CredentialKey) -> String {
        format!("{}:{}:{}", self.prefix, key.appid(), key.kind())
    }

    /// The Redis key of a credential's refresh lock: `{prefix}:{appid}:{kind}:lock`.
    pub fn lock_key(&self, key: &CredentialKey) -> String {
        format!("{}:{}:{}:lock", self.prefix, key.appid(), key.kind())
    }
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

fn backend(operation: &'static str) -> impl FnOnce(redis::RedisError) -> StoreError {
    move |e| StoreError::backend(operation, e)
}

#[async_trait]
impl TokenStore for RedisStore {
    async fn get(&self, key: &CredentialKey) -> Result<Option<StoredCredential>, StoreError> {
        let mut connection = self.connection.clone();
        let value: Option<String> = redis::cmd("GET")
            .arg(self.credential_key(key))
            .query_async(&mut connection)
            .await
            .map_err(backend("Redis GET of a credential failed"))?;
        value
            .map(|text| {
                StoredCredential::decode(&text).ok_or_else(|| {
                    StoreError::new(
                        StoreErrorKind::Corrupt,
                        format!("Redis key {} does not hold a credential", key.kind()),
                    )
                })
            })
            .transpose()
    }

    async fn put(
        &self,
        key: &CredentialKey,
        credential: &StoredCredential,
    ) -> Result<(), StoreError> {
        let mut connection = self.connection.clone();
        // Redis refuses absurd TTLs; WeChat's credentials live two hours.
        let ttl = credential.lifetime().clamp(1, MAX_TTL_SECS);
        redis::cmd("SET")
            .arg(self.credential_key(key))
            .arg(credential.encode())
            .arg("EX")
            .arg(ttl)
            .query_async::<()>(&mut connection)
            .await
            .map_err(backend("Redis SET of a credential failed"))
    }

    async fn invalidate_if_current(
        &self,
        key: &CredentialKey,
        secret: &str,
    ) -> Result<bool, StoreError> {
        let mut connection = self.connection.clone();
        let removed: i64 = self
            .invalidate_script
            .key(self.credential_key(key))
            .arg(secret)
            .invoke_async(&mut connection)
            .await
            .map_err(backend("Redis compare-and-invalidate failed"))?;
        Ok(removed == 1)
    }

    async fn acquire_lock(
        &self,
        key: &CredentialKey,
        lease: Duration,
    ) -> Result<Option<LockOwner>, StoreError> {
        let mut connection = self.connection.clone();
        let owner = LockOwner::random();
        let lease_ms = u64::try_from(lease.as_millis()).unwrap_or(u64::MAX).max(1);
        let set: Option<String> = redis::cmd("SET")
            .arg(self.lock_key(key))
            .arg(owner.as_str())
            .arg("NX")
            .arg("PX")
            .arg(lease_ms)
            .query_async(&mut connection)
            .await
            .map_err(backend("Redis SET NX PX of a refresh lock failed"))?;
        Ok(set.map(|_| owner))
    }

    async fn release_lock(
        &self,
        key: &CredentialKey,
        owner: &LockOwner,
    ) -> Result<bool, StoreError> {
        let mut connection = self.connection.clone();
        let removed: i64 = self
            .release_script
            .key(self.lock_key(key))
            .arg(owner.as_str())
            .invoke_async(&mut connection)
            .await
            .map_err(backend("Redis release of a refresh lock failed"))?;
        Ok(removed == 1)
    }
}
