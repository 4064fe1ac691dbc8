//! The JS-SDK `wx.config` parameters for a page.

use rand::Rng;
use rand::distributions::Alphanumeric;
use serde::{Deserialize, Serialize};
use wechat_types::{AppId, JsapiTicket};

use crate::error::Error;

/// What a page passes to `wx.config`: serializes as `{"appId","timestamp","nonceStr","signature"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JsSdkConfig {
    /// The account's AppID.
    pub app_id: AppId,
    /// Unix seconds; the same value the signature covers.
    pub timestamp: i64,
    /// A random string; the same value the signature covers.
    pub nonce_str: String,
    /// `sha1("jsapi_ticket=…&noncestr=…&timestamp=…&url=…")`, url without its `#fragment`.
    pub signature: String,
}

/// A random 16-character alphanumeric `nonceStr`.
pub fn nonce() -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(16)
        .map(char::from)
        .collect()
}

/// The config for the page at `url` (its `#fragment` is not signed), given the ticket, time and
/// nonce. Refuses a URL that is not `http(s)://…`.
///
/// ```
/// use wechat_client::api::jssdk;
/// use wechat_types::JsapiTicket;
///
/// // The official example (JS-SDK doc, appendix 1).
/// let ticket = JsapiTicket::new("sM4AOVdWfPE4DxkXGEs8VMCPGGVi4C3VM0P37wVUCFvkVAy_90u5h9nbSlYy3-Sl-HhTdfl2fzFy1AOcHKP7qg");
/// let config = jssdk::config(&"wx1".into(), &ticket, "http://mp.weixin.qq.com?params=value#top", 1414587457, "Wm3WZYTPz0wzccnW".into())?;
/// assert_eq!(config.signature, "0f9de62fce790f9a083d5c99e95740ceb90c27ed");
/// assert_eq!(
///     serde_json::to_string(&config).unwrap(),
///     r#"{"appId":"wx1","timestamp":1414587457,"nonceStr":"Wm3WZYTPz0wzccnW","signature":"0f9de62fce790f9a083d5c99e95740ceb90c27ed"}"#
/// );
/// # Ok::<(), wechat_client::Error>(())
/// ```
pub fn config(
    app_id: &AppId,
    ticket: &JsapiTicket,
    url: &str,
    timestamp: i64,
    nonce_str: String,
) -> Result<JsSdkConfig, Error> {
    check_url(url)?;
    let signature = wechat_crypto::jssdk_signature(ticket, &nonce_str, timestamp, url);
    Ok(JsSdkConfig {
        app_id: app_id.clone(),
        timestamp,
        nonce_str,
        signature,
    })
}

/// Refuses what cannot be a page URL before a ticket is fetched for it.
pub fn check_url(url: &str) -> Result<(), Error> {
    let page = url.split_once('#').map_or(url, |(page, _)| page);
    let has_host = page
        .strip_prefix("https://")
        .or_else(|| page.strip_prefix("http://"))
        .is_some_and(|rest| !rest.is_empty() && !rest.starts_with('/'));
    if !has_host {
        return Err(Error::invalid_input(
            "a JS-SDK page URL must be an absolute http(s) URL",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TICKET: &str =
        "sM4AOVdWfPE4DxkXGEs8VMCPGGVi4C3VM0P37wVUCFvkVAy_90u5h9nbSlYy3-Sl-HhTdfl2fzFy1AOcHKP7qg";

    #[test]
    fn older_official_vector_and_fragment() {
        let ticket = JsapiTicket::new(TICKET);
        let c = config(
            &"wx".into(),
            &ticket,
            "http://mp.weixin.qq.com",
            1414587457,
            "Wm3WZYTPz0wzccnW".into(),
        )
        .unwrap();
        assert_eq!(c.signature, "f4d90daf4b3bca3078ab155816175ba34c443a7b");
        let with_fragment = config(
            &"wx".into(),
            &ticket,
            "http://mp.weixin.qq.com#x",
            1414587457,
            "Wm3WZYTPz0wzccnW".into(),
        )
        .unwrap();
        assert_eq!(with_fragment.signature, c.signature);
    }

    #[test]
    fn bad_urls_are_refused() {
        for url in [
            "",
            "mp.weixin.qq.com",
            "ftp://x",
            "http://",
            "https:///path",
            "#http://x",
        ] {
            assert!(check_url(url).is_err(), "{url}");
        }
        check_url("https://example.com/page?a=1#frag").unwrap();
    }

    #[test]
    fn nonces_are_alphanumeric_and_differ() {
        let a = nonce();
        assert_eq!(a.len(), 16);
        assert!(a.bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_ne!(a, nonce());
    }
}
