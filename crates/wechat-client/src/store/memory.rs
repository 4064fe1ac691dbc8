use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;

use super::{CredentialKey, LockOwner, StoreError, StoredCredential, TokenStore};

/// A [`TokenStore`] in this process's memory: the default. Share one `Arc<MemoryStore>` between
/// clients of the same app in one process; use Redis when several processes serve the app.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use std::time::Duration;
/// use wechat_client::store::{CredentialKey, CredentialKind, MemoryStore, StoredCredential, TokenStore};
///
/// let store = MemoryStore::new();
/// let key = CredentialKey::new("wx1".into(), CredentialKind::AccessToken);
/// store.put(&key, &StoredCredential::new("T1", 0, 7200)).await?;
/// assert!(!store.invalidate_if_current(&key, "T0").await?); // not the stored one: kept
/// assert!(store.invalidate_if_current(&key, "T1").await?);
///
/// let owner = store.acquire_lock(&key, Duration::from_secs(10)).await?.expect("free");
/// assert!(store.acquire_lock(&key, Duration::from_secs(10)).await?.is_none());
/// assert!(store.release_lock(&key, &owner).await?);
/// # Ok::<(), wechat_client::store::StoreError>(())
/// # }).unwrap();
/// ```
#[derive(Default)]
pub struct MemoryStore {
    credentials: RwLock<HashMap<CredentialKey, StoredCredential>>,
    locks: Mutex<HashMap<CredentialKey, (LockOwner, Instant)>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let credentials = self
            .credentials
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len();
        f.debug_struct("MemoryStore")
            .field("credentials", &credentials)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl TokenStore for MemoryStore {
    async fn get(&self, key: &CredentialKey) -> Result<Option<StoredCredential>, StoreError> {
        let map = self
            .credentials
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        Ok(map.get(key).cloned())
    }

    async fn put(
        &self,
        key: &CredentialKey,
        credential: &StoredCredential,
    ) -> Result<(), StoreError> {
        self.credentials
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key.clone(), credential.clone());
        Ok(())
    }

    async fn invalidate_if_current(
        &self,
        key: &CredentialKey,
        secret: &str,
    ) -> Result<bool, StoreError> {
        let mut map = self
            .credentials
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        if map.get(key).is_some_and(|c| c.expose_secret() == secret) {
            map.remove(key);
            return Ok(true);
        }
        Ok(false)
    }

    async fn acquire_lock(
        &self,
        key: &CredentialKey,
        lease: Duration,
    ) -> Result<Option<LockOwner>, StoreError> {
        let mut locks = self.locks.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        if locks.get(key).is_some_and(|(_, until)| *until > now) {
            return Ok(None);
        }
        let owner = LockOwner::random();
        locks.insert(key.clone(), (owner.clone(), now + lease));
        Ok(Some(owner))
    }

    async fn release_lock(
        &self,
        key: &CredentialKey,
        owner: &LockOwner,
    ) -> Result<bool, StoreError> {
        let mut locks = self.locks.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        if locks
            .get(key)
            .is_some_and(|(held_by, until)| held_by == owner && *until > now)
        {
            locks.remove(key);
            return Ok(true);
        }
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::CredentialKind;

    fn key() -> CredentialKey {
        CredentialKey::new("wx1".into(), CredentialKind::AccessToken)
    }

    #[tokio::test]
    async fn a_lease_frees_the_lock_and_the_old_owner_cannot_release_the_new_one() {
        let store = MemoryStore::new();
        let first = store
            .acquire_lock(&key(), Duration::from_millis(20))
            .await
            .unwrap()
            .unwrap();
        tokio::time::sleep(Duration::from_millis(40)).await;
        let second = store
            .acquire_lock(&key(), Duration::from_secs(10))
            .await
            .unwrap()
            .expect("the lease passed");
        assert!(!store.release_lock(&key(), &first).await.unwrap());
        assert!(
            store
                .acquire_lock(&key(), Duration::from_secs(10))
                .await
                .unwrap()
                .is_none()
        );
        assert!(store.release_lock(&key(), &second).await.unwrap());
    }

    #[tokio::test]
    async fn keys_are_per_app_and_kind() {
        let store = MemoryStore::new();
        store
            .put(&key(), &StoredCredential::new("T", 0, 10))
            .await
            .unwrap();
        let other = CredentialKey::new("wx2".into(), CredentialKind::AccessToken);
        let ticket = CredentialKey::new("wx1".into(), CredentialKind::JsapiTicket);
        assert!(store.get(&other).await.unwrap().is_none());
        assert!(store.get(&ticket).await.unwrap().is_none());
        assert_eq!(
            store.get(&key()).await.unwrap().unwrap().expose_secret(),
            "T"
        );
    }
}
