use serde::{Deserialize, Serialize};

use crate::id::AppId;
use crate::secret::{AccessToken, AppSecret, JsapiTicket};

/// The answer of `GET cgi-bin/token` and `POST cgi-bin/stable_token`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessTokenResponse {
    /// The token.
    pub access_token: AccessToken,
    /// Seconds it stays valid (7200 for a new one; the remaining lifetime from stable_token).
    pub expires_in: u64,
}

/// The body of `POST cgi-bin/stable_token`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StableTokenRequest {
    /// Always `client_credential`.
    pub grant_type: String,
    /// The AppID.
    pub appid: AppId,
    /// The AppSecret.
    pub secret: AppSecret,
    /// Force a new token (at most 20 a day, 30 s apart); normally false.
    #[serde(default)]
    pub force_refresh: bool,
}

impl StableTokenRequest {
    /// A normal-mode request.
    pub fn new(appid: AppId, secret: AppSecret) -> Self {
        Self {
            grant_type: "client_credential".to_owned(),
            appid,
            secret,
            force_refresh: false,
        }
    }
}

/// The `type` of `cgi-bin/ticket/getticket`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TicketType {
    /// `jsapi`: for JS-SDK config signatures.
    Jsapi,
    /// `wx_card`: for card APIs.
    WxCard,
}

impl TicketType {
    /// The query value.
    pub fn as_str(self) -> &'static str {
        match self {
            TicketType::Jsapi => "jsapi",
            TicketType::WxCard => "wx_card",
        }
    }
}

/// The answer of `cgi-bin/ticket/getticket`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketResponse {
    /// The ticket.
    pub ticket: JsapiTicket,
    /// Seconds it stays valid (7200).
    pub expires_in: u64,
}
