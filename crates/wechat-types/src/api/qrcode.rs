use serde::{Deserialize, Serialize};

/// The body of `cgi-bin/qrcode/create`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QrCodeRequest {
    /// Lifetime of a temporary code (at most 2592000 s); absent for permanent codes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expire_seconds: Option<u32>,
    /// `QR_SCENE`, `QR_STR_SCENE`, `QR_LIMIT_SCENE` or `QR_LIMIT_STR_SCENE`.
    pub action_name: String,
    /// The scene.
    pub action_info: QrAction,
}

/// `action_info` of a QR code request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QrAction {
    /// `{"scene_id": N}` or `{"scene_str": "…"}`.
    pub scene: serde_json::Value,
}

impl QrCodeRequest {
    /// A temporary code with a text scene.
    pub fn temporary_str(scene: impl Into<String>, expire_seconds: u32) -> Self {
        Self {
            expire_seconds: Some(expire_seconds),
            action_name: "QR_STR_SCENE".to_owned(),
            action_info: QrAction {
                scene: serde_json::json!({ "scene_str": scene.into() }),
            },
        }
    }

    /// A permanent code with a numeric scene (1..=100000).
    pub fn permanent_id(scene_id: u32) -> Self {
        Self {
            expire_seconds: None,
            action_name: "QR_LIMIT_SCENE".to_owned(),
            action_info: QrAction {
                scene: serde_json::json!({ "scene_id": scene_id }),
            },
        }
    }
}

/// The answer of `cgi-bin/qrcode/create`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QrCodeResponse {
    /// Exchange at `mp…/cgi-bin/showqrcode?ticket=` for the image.
    pub ticket: String,
    /// Lifetime, for temporary codes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expire_seconds: Option<u32>,
    /// The URL the code encodes.
    pub url: String,
}
