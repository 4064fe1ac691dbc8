//! The account's custom menu, created through `wechat_client::Client::menu().create`.

use wechat_types::api::{Button, ButtonType, Menu};

/// `CLICK` key of the "Hello" button.
pub const KEY_HELLO: &str = "DEMO_HELLO";
/// `CLICK` key of the "Slow answer" button: answered through the 5-second fallback.
pub const KEY_SLOW: &str = "DEMO_SLOW";
/// Key of the `scancode_waitmsg` button (the scan result comes back as a message).
pub const KEY_SCAN_WAIT: &str = "DEMO_SCAN_WAIT";
/// Key of the `scancode_push` button.
pub const KEY_SCAN_PUSH: &str = "DEMO_SCAN_PUSH";
/// Key of the `location_select` button.
pub const KEY_LOCATION: &str = "DEMO_LOCATION";

/// Name of the `view` button that opens the profile page (the OAuth flow).
pub const PROFILE_BUTTON: &str = "My profile";

/// The menu: "My profile" opens `profile_url` (a `view` button), "Hello" is a `click` button,
/// and "More" holds the slow answer, the two scanner buttons and the location picker. Within
/// WeChat's limits (3 top-level buttons, 5 per group, names of at most 16/60 bytes), which
/// [`Menu::validate`] checks before anything is sent.
pub fn menu(profile_url: &str) -> Menu {
    Menu::new(vec![
        Button::view(PROFILE_BUTTON, profile_url),
        Button::click("Hello", KEY_HELLO),
        Button::group(
            "More",
            vec![
                Button::click("Slow answer", KEY_SLOW),
                Button::event(ButtonType::ScancodeWaitmsg, "Scan a code", KEY_SCAN_WAIT),
                Button::event(ButtonType::ScancodePush, "Scan and open", KEY_SCAN_PUSH),
                Button::event(ButtonType::LocationSelect, "Send location", KEY_LOCATION),
            ],
        ),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_menu_is_one_wechat_accepts() {
        let menu = menu("http://127.0.0.1:8788/profile");
        menu.validate().unwrap();
        assert_eq!(menu.button[0].name, PROFILE_BUTTON);
        assert_eq!(
            menu.button[0].url.as_deref(),
            Some("http://127.0.0.1:8788/profile")
        );
    }
}
