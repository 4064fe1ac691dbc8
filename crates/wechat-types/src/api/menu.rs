use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::errcode::ErrCode;

/// A custom menu: 1 to 3 top-level buttons, each a button or a group of 1 to 5.
///
/// ```
/// use wechat_types::api::{Button, Menu};
///
/// let menu = Menu::new(vec![
///     Button::click("今日歌曲", "V1001_TODAY_MUSIC"),
///     Button::group("菜单", vec![Button::view("搜索", "https://www.soso.com/")]),
/// ]);
/// assert!(menu.validate().is_ok());
/// assert_eq!(Menu::new(vec![]).validate().unwrap_err().code, wechat_types::ErrCode::INVALID_BUTTON_COUNT);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Menu {
    /// The top-level buttons.
    pub button: Vec<Button>,
}

/// A menu button. A top-level button with `sub_button` is a group and has no `type`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Button {
    /// `type`; `None` for a group.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<ButtonType>,
    /// Label: at most 16 bytes at top level, 60 in a group.
    pub name: String,
    /// `key` of click and event buttons (at most 128 bytes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// `url` of view and miniprogram buttons (at most 1024 bytes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// `media_id` of media_id and view_limited buttons.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_id: Option<String>,
    /// `appid` of a miniprogram button.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appid: Option<String>,
    /// `pagepath` of a miniprogram button.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pagepath: Option<String>,
    /// `article_id` of article_id and article_view_limited buttons.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub article_id: Option<String>,
    /// The buttons of a group.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sub_button: Vec<Button>,
}

/// A button `type`. Unknown types are kept (and refused by [`Menu::validate`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ButtonType {
    /// `click`: pushes a CLICK event with the key.
    Click,
    /// `view`: opens a URL.
    View,
    /// `scancode_push`.
    ScancodePush,
    /// `scancode_waitmsg`.
    ScancodeWaitmsg,
    /// `pic_sysphoto`.
    PicSysphoto,
    /// `pic_photo_or_album`.
    PicPhotoOrAlbum,
    /// `pic_weixin`.
    PicWeixin,
    /// `location_select`.
    LocationSelect,
    /// `media_id`: sends a permanent media.
    MediaId,
    /// `view_limited`: opens a published article by media_id.
    ViewLimited,
    /// `miniprogram`: opens a mini program page.
    Miniprogram,
    /// `article_id`.
    ArticleId,
    /// `article_view_limited`.
    ArticleViewLimited,
    /// Any other value.
    Unknown(String),
}

const BUTTON_TYPES: &[(ButtonType, &str)] = &[
    (ButtonType::Click, "click"),
    (ButtonType::View, "view"),
    (ButtonType::ScancodePush, "scancode_push"),
    (ButtonType::ScancodeWaitmsg, "scancode_waitmsg"),
    (ButtonType::PicSysphoto, "pic_sysphoto"),
    (ButtonType::PicPhotoOrAlbum, "pic_photo_or_album"),
    (ButtonType::PicWeixin, "pic_weixin"),
    (ButtonType::LocationSelect, "location_select"),
    (ButtonType::MediaId, "media_id"),
    (ButtonType::ViewLimited, "view_limited"),
    (ButtonType::Miniprogram, "miniprogram"),
    (ButtonType::ArticleId, "article_id"),
    (ButtonType::ArticleViewLimited, "article_view_limited"),
];

impl ButtonType {
    /// The wire value.
    pub fn as_str(&self) -> &str {
        if let ButtonType::Unknown(s) = self {
            return s;
        }
        BUTTON_TYPES
            .iter()
            .find(|(t, _)| t == self)
            .map(|(_, s)| *s)
            .unwrap_or_default()
    }

    /// Parses a wire value.
    pub fn parse(value: &str) -> ButtonType {
        BUTTON_TYPES
            .iter()
            .find(|(_, s)| *s == value)
            .map(|(t, _)| t.clone())
            .unwrap_or_else(|| ButtonType::Unknown(value.to_owned()))
    }

    /// True for the types whose button needs a `key` (they push an event with it).
    pub fn needs_key(&self) -> bool {
        matches!(
            self,
            ButtonType::Click
                | ButtonType::ScancodePush
                | ButtonType::ScancodeWaitmsg
                | ButtonType::PicSysphoto
                | ButtonType::PicPhotoOrAlbum
                | ButtonType::PicWeixin
                | ButtonType::LocationSelect
        )
    }
}

impl fmt::Display for ButtonType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ButtonType {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ButtonType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(|s| ButtonType::parse(&s))
    }
}

impl Button {
    fn typed(kind: ButtonType, name: impl Into<String>) -> Button {
        Button {
            kind: Some(kind),
            name: name.into(),
            ..Button::default()
        }
    }

    /// A `click` button that pushes a CLICK event with `key`.
    pub fn click(name: impl Into<String>, key: impl Into<String>) -> Button {
        Button {
            key: Some(key.into()),
            ..Button::typed(ButtonType::Click, name)
        }
    }

    /// A `view` button that opens `url`.
    pub fn view(name: impl Into<String>, url: impl Into<String>) -> Button {
        Button {
            url: Some(url.into()),
            ..Button::typed(ButtonType::View, name)
        }
    }

    /// A button of an event type (`scancode_push`, `pic_weixin`, `location_select`…) with `key`.
    pub fn event(kind: ButtonType, name: impl Into<String>, key: impl Into<String>) -> Button {
        Button {
            key: Some(key.into()),
            ..Button::typed(kind, name)
        }
    }

    /// A `miniprogram` button; `url` opens where mini programs are not supported.
    pub fn miniprogram(
        name: impl Into<String>,
        appid: impl Into<String>,
        pagepath: impl Into<String>,
        url: impl Into<String>,
    ) -> Button {
        Button {
            appid: Some(appid.into()),
            pagepath: Some(pagepath.into()),
            url: Some(url.into()),
            ..Button::typed(ButtonType::Miniprogram, name)
        }
    }

    /// A group of 1 to 5 buttons under one top-level label.
    pub fn group(name: impl Into<String>, buttons: Vec<Button>) -> Button {
        Button {
            name: name.into(),
            sub_button: buttons,
            ..Button::default()
        }
    }
}

/// Why a menu is refused, with the errcode WeChat answers for it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason} (errcode {code})")]
pub struct MenuError {
    /// The errcode WeChat answers.
    pub code: ErrCode,
    /// Which button and which rule.
    pub reason: String,
}

/// Limits of PROTOCOL.md 4.5.
const MAX_TOP: usize = 3;
const MAX_SUB: usize = 5;
const MAX_TOP_NAME: usize = 16;
const MAX_SUB_NAME: usize = 60;
const MAX_KEY: usize = 128;
const MAX_URL: usize = 1024;

impl Menu {
    /// A menu of these top-level buttons.
    pub fn new(button: Vec<Button>) -> Menu {
        Menu { button }
    }

    /// Checks every rule WeChat enforces on `menu/create`, answering the errcode it would.
    pub fn validate(&self) -> Result<(), MenuError> {
        validate_buttons(&self.button)
    }
}

fn validate_buttons(buttons: &[Button]) -> Result<(), MenuError> {
    if buttons.is_empty() || buttons.len() > MAX_TOP {
        return Err(MenuError {
            code: ErrCode::INVALID_BUTTON_COUNT,
            reason: format!("a menu has 1 to {MAX_TOP} buttons, not {}", buttons.len()),
        });
    }
    for (i, button) in buttons.iter().enumerate() {
        let at = format!("button[{i}]");
        check_name(&button.name, MAX_TOP_NAME, &at)?;
        if button.kind.is_none() || !button.sub_button.is_empty() {
            if button.sub_button.is_empty() || button.sub_button.len() > MAX_SUB {
                return Err(MenuError {
                    code: ErrCode::INVALID_SUB_BUTTON_COUNT,
                    reason: format!(
                        "{at}: a group has 1 to {MAX_SUB} buttons, not {}",
                        button.sub_button.len()
                    ),
                });
            }
            for (j, sub) in button.sub_button.iter().enumerate() {
                let at = format!("{at}.sub_button[{j}]");
                if !sub.sub_button.is_empty() {
                    return Err(MenuError {
                        code: ErrCode::INVALID_SUB_BUTTON_COUNT,
                        reason: format!("{at}: menus nest two levels at most"),
                    });
                }
                check_name(&sub.name, MAX_SUB_NAME, &at)?;
                check_action(sub, &at, true)?;
            }
        } else {
            check_action(button, &at, false)?;
        }
    }
    Ok(())
}

fn check_name(name: &str, max: usize, at: &str) -> Result<(), MenuError> {
    if name.is_empty() || name.len() > max {
        return Err(MenuError {
            code: ErrCode::INVALID_BUTTON_NAME_SIZE,
            reason: format!("{at}: name must be 1 to {max} bytes, not {}", name.len()),
        });
    }
    Ok(())
}

fn check_action(button: &Button, at: &str, in_group: bool) -> Result<(), MenuError> {
    let Some(kind) = &button.kind else {
        return Err(MenuError {
            code: ErrCode::INVALID_MENU_TYPE,
            reason: format!("{at}: a button without sub_button needs a type"),
        });
    };
    let missing = |field: &str, code: ErrCode| MenuError {
        code,
        reason: format!("{at}: a {kind} button needs {field}"),
    };
    if let ButtonType::Unknown(t) = kind {
        return Err(MenuError {
            code: ErrCode::INVALID_MENU_TYPE,
            reason: format!("{at}: unknown button type {t:?}"),
        });
    }
    if kind.needs_key() {
        let key = button.key.as_deref().unwrap_or_default();
        if key.is_empty() || key.len() > MAX_KEY {
            return Err(MenuError {
                code: ErrCode::INVALID_BUTTON_KEY_SIZE,
                reason: format!("{at}: key must be 1 to {MAX_KEY} bytes, not {}", key.len()),
            });
        }
    }
    if matches!(kind, ButtonType::View | ButtonType::Miniprogram) {
        let url = button.url.as_deref().unwrap_or_default();
        if url.is_empty() || url.len() > MAX_URL {
            return Err(MenuError {
                code: ErrCode::INVALID_BUTTON_URL_SIZE,
                reason: format!("{at}: url must be 1 to {MAX_URL} bytes, not {}", url.len()),
            });
        }
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(MenuError {
                code: if in_group {
                    ErrCode::INVALID_SUB_BUTTON_URL_DOMAIN
                } else {
                    ErrCode::INVALID_BUTTON_URL_DOMAIN
                },
                reason: format!("{at}: url must be an http or https URL"),
            });
        }
    }
    match kind {
        ButtonType::Miniprogram => {
            if button.appid.as_deref().unwrap_or_default().is_empty() {
                return Err(missing("appid", ErrCode::ARGUMENT_INVALID));
            }
            if button.pagepath.as_deref().unwrap_or_default().is_empty() {
                return Err(missing("pagepath", ErrCode::ARGUMENT_INVALID));
            }
        }
        ButtonType::MediaId | ButtonType::ViewLimited
            if button.media_id.as_deref().unwrap_or_default().is_empty() =>
        {
            return Err(missing("media_id", ErrCode::INVALID_MEDIA_ID));
        }
        ButtonType::ArticleId | ButtonType::ArticleViewLimited
            if button.article_id.as_deref().unwrap_or_default().is_empty() =>
        {
            return Err(missing("article_id", ErrCode::ARGUMENT_INVALID));
        }
        _ => {}
    }
    Ok(())
}

/// Who sees a conditional menu. At least one field must be set (65304 otherwise).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct MatchRule {
    /// User tag id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag_id: Option<String>,
    /// Sex (`1` male, `2` female); no longer matched since 2021.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sex: Option<String>,
    /// Country.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// Province.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub province: Option<String>,
    /// City.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    /// Client platform (`1` iOS, `2` Android, `3` others).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_platform_type: Option<String>,
    /// Language (`zh_CN`…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
}

impl MatchRule {
    /// True when no field is set.
    pub fn is_empty(&self) -> bool {
        *self == MatchRule::default()
    }
}

/// A conditional menu (`menu/addconditional`): buttons plus who sees them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ConditionalMenu {
    /// The buttons, under the same rules as the default menu.
    pub button: Vec<Button>,
    /// Who sees it.
    pub matchrule: MatchRule,
    /// Set by WeChat in `menu/get` answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub menuid: Option<String>,
}

impl ConditionalMenu {
    /// Checks the buttons and that the rule is not empty.
    pub fn validate(&self) -> Result<(), MenuError> {
        validate_buttons(&self.button)?;
        if self.matchrule.is_empty() {
            return Err(MenuError {
                code: ErrCode::MATCHRULE_EMPTY,
                reason: "matchrule sets no field".to_owned(),
            });
        }
        Ok(())
    }
}

/// The default menu in a `menu/get` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct CurrentMenu {
    /// The buttons.
    pub button: Vec<Button>,
    /// Its id, when WeChat gives one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub menuid: Option<String>,
}

/// The answer of `menu/get`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct MenuInfo {
    /// The default menu.
    pub menu: CurrentMenu,
    /// The conditional menus, when there are any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditionalmenu: Vec<ConditionalMenu>,
}

/// The answer of `menu/addconditional`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MenuIdResponse {
    /// The new menu's id.
    pub menuid: String,
}

/// The body of `menu/trymatch`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TryMatchRequest {
    /// An OpenID or WeChat ID.
    pub user_id: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(menu: &Menu) -> Option<ErrCode> {
        menu.validate().err().map(|e| e.code)
    }

    #[test]
    fn enforces_every_rule_with_its_code() {
        let ok = Button::click("a", "k");
        assert_eq!(code(&Menu::new(vec![ok.clone(); 3])), None);
        assert_eq!(
            code(&Menu::new(vec![ok.clone(); 4])),
            Some(ErrCode::INVALID_BUTTON_COUNT)
        );
        assert_eq!(
            code(&Menu::new(vec![Button::group("g", vec![])])),
            Some(ErrCode::INVALID_SUB_BUTTON_COUNT)
        );
        assert_eq!(
            code(&Menu::new(vec![Button::group("g", vec![ok.clone(); 6])])),
            Some(ErrCode::INVALID_SUB_BUTTON_COUNT)
        );
        assert_eq!(
            code(&Menu::new(vec![Button::group("g", vec![ok.clone(); 5])])),
            None
        );
        assert_eq!(
            code(&Menu::new(vec![Button::click("一二三四五六", "k")])),
            Some(ErrCode::INVALID_BUTTON_NAME_SIZE)
        );
        assert_eq!(
            code(&Menu::new(vec![Button::group(
                "g",
                vec![Button::click("一二三四五六", "k")]
            )])),
            None
        );
        assert_eq!(
            code(&Menu::new(vec![Button::click("", "k")])),
            Some(ErrCode::INVALID_BUTTON_NAME_SIZE)
        );
        assert_eq!(
            code(&Menu::new(vec![Button::click("a", "k".repeat(129))])),
            Some(ErrCode::INVALID_BUTTON_KEY_SIZE)
        );
        assert_eq!(
            code(&Menu::new(vec![Button::view(
                "a",
                format!("https://{}", "x".repeat(1020))
            )])),
            Some(ErrCode::INVALID_BUTTON_URL_SIZE)
        );
        assert_eq!(
            code(&Menu::new(vec![Button::view("a", "ftp://x")])),
            Some(ErrCode::INVALID_BUTTON_URL_DOMAIN)
        );
        assert_eq!(
            code(&Menu::new(vec![Button::group(
                "g",
                vec![Button::view("a", "x")]
            )])),
            Some(ErrCode::INVALID_SUB_BUTTON_URL_DOMAIN)
        );
        let unknown = Button {
            kind: Some(ButtonType::parse("bogus")),
            name: "a".into(),
            ..Button::default()
        };
        assert_eq!(
            code(&Menu::new(vec![unknown])),
            Some(ErrCode::INVALID_MENU_TYPE)
        );
        assert_eq!(
            code(&Menu::new(vec![Button::miniprogram(
                "m",
                "",
                "p",
                "https://x"
            )])),
            Some(ErrCode::ARGUMENT_INVALID)
        );
    }

    #[test]
    fn json_matches_wechat_shape() {
        let menu = Menu::new(vec![
            Button::click("今日歌曲", "V1001"),
            Button::group("菜单", vec![Button::view("搜索", "http://www.soso.com/")]),
        ]);
        let json = serde_json::to_string(&menu).unwrap();
        assert_eq!(
            json,
            r#"{"button":[{"type":"click","name":"今日歌曲","key":"V1001"},{"name":"菜单","sub_button":[{"type":"view","name":"搜索","url":"http://www.soso.com/"}]}]}"#
        );
        assert_eq!(serde_json::from_str::<Menu>(&json).unwrap(), menu);
    }

    #[test]
    fn conditional_menu_needs_a_rule() {
        let menu = ConditionalMenu {
            button: vec![Button::click("a", "k")],
            ..Default::default()
        };
        assert_eq!(menu.validate().unwrap_err().code, ErrCode::MATCHRULE_EMPTY);
    }
}
