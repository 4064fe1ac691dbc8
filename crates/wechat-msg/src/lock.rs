//! Locking a mutex whatever panicked while it was held.

use std::sync::{Mutex, MutexGuard, PoisonError};

/// Locks `mutex`, poisoned or not. For the crate's mutexes, whose every update is complete
/// before anything that can panic: a panic elsewhere while one was held leaves nothing half
/// written, and a server must not stop answering because of it.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
