//! Where a reply goes when the handler missed the passive-reply deadline: the customer-service
//! message API (客服消息).

use std::error::Error as StdError;
use std::fmt::Debug;
use std::sync::Arc;

use async_trait::async_trait;
use wechat_types::api::CustomMessage;

/// Sends a custom-service message on behalf of the account. The callback uses it to deliver a
/// reply that was not ready within the reply budget.
///
/// `wechat_client::Client` implements it; tests can use a fake that records what it got.
///
/// ```
/// use std::sync::Mutex;
/// use wechat_msg::{async_trait, CustomServiceSender, SendError};
/// use wechat_types::api::CustomMessage;
///
/// #[derive(Debug, Default)]
/// struct Recorder(Mutex<Vec<CustomMessage>>);
///
/// #[async_trait]
/// impl CustomServiceSender for Recorder {
///     async fn send_custom(&self, msg: &CustomMessage) -> Result<(), SendError> {
///         self.0.lock().unwrap().push(msg.clone());
///         Ok(())
///     }
/// }
/// ```
#[async_trait]
pub trait CustomServiceSender: Send + Sync + Debug + 'static {
    /// Sends `msg` (`POST cgi-bin/message/custom/send`).
    async fn send_custom(&self, msg: &CustomMessage) -> Result<(), SendError>;
}

/// Why a custom-service message could not be sent; the sender's own error, boxed.
pub type SendError = Box<dyn StdError + Send + Sync>;

#[async_trait]
impl<T: CustomServiceSender + ?Sized> CustomServiceSender for Arc<T> {
    async fn send_custom(&self, msg: &CustomMessage) -> Result<(), SendError> {
        (**self).send_custom(msg).await
    }
}

/// Sends through `message/custom/send` with the client's shared access_token.
#[async_trait]
impl CustomServiceSender for wechat_client::Client {
    async fn send_custom(&self, msg: &CustomMessage) -> Result<(), SendError> {
        wechat_client::Client::send_custom(self, msg)
            .await
            .map_err(|err| Box::new(err) as SendError)
    }
}
