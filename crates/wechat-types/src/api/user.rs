use serde::{Deserialize, Serialize};

use crate::id::{OpenId, UnionId};

/// The answer of `cgi-bin/user/info`. For a user who does not follow, only `subscribe` (0) and
/// `openid` are present. Nickname and avatar are no longer returned since late 2021.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct UserInfo {
    /// `1` when the user follows the account.
    pub subscribe: u8,
    /// The user.
    pub openid: OpenId,
    /// Language (`zh_CN`…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// When the user last followed (Unix seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscribe_time: Option<i64>,
    /// UnionID, when bound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unionid: Option<UnionId>,
    /// The account's remark for the user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remark: Option<String>,
    /// Group id (legacy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groupid: Option<i64>,
    /// Tag ids.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tagid_list: Vec<i64>,
    /// How the user followed (`ADD_SCENE_QR_CODE`…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscribe_scene: Option<String>,
    /// QR scene id, when followed by a parametric QR code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qr_scene: Option<i64>,
    /// QR scene string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qr_scene_str: Option<String>,
    /// Nickname (empty since 2021).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nickname: Option<String>,
    /// Avatar (empty since 2021).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headimgurl: Option<String>,
}
