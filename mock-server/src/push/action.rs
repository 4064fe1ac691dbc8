//! What a fake user can do, as [`MessageBody`] values ready for
//! [`MockServer::push`](crate::MockServer::push), and the JSON form the admin API and the console
//! send.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Deserialize;
use wechat_types::xml::{Event, MessageBody, PicInfo, ScanCodeInfo, Scene, SelectedLocation};
use wechat_types::{MediaId, MsgId};

use crate::fake::random_alnum;

/// A `MsgId` no other push of this process has: WeChat's are 64-bit numbers around 2^62.
pub(crate) fn fresh_msg_id() -> MsgId {
    static NEXT: OnceLock<AtomicU64> = OnceLock::new();
    let next = NEXT.get_or_init(|| {
        // A random start, so ids differ between runs as WeChat's do.
        AtomicU64::new(6_000_000_000_000_000_000 + u64::from(rand::random::<u32>()) * 1_000_000)
    });
    MsgId(next.fetch_add(1, Ordering::Relaxed))
}

fn media_id() -> MediaId {
    MediaId::new(random_alnum(64))
}

/// Builders for what a user sends or does, each a [`MessageBody`] with a fresh `MsgId` where the
/// message type has one. The mock fills `ToUserName`, `FromUserName` and `CreateTime` when it
/// pushes.
///
/// ```
/// use wechat_mock::UserAction;
/// use wechat_types::xml::{Event, MessageBody};
///
/// let text = UserAction::text("你好");
/// assert_eq!(text.msg_type(), "text");
/// assert!(text.msg_id().is_some());
/// assert_ne!(text.msg_id(), UserAction::text("你好").msg_id());
///
/// let MessageBody::Event(Event::Click { key }) = UserAction::click("V1001") else { panic!() };
/// assert_eq!(key, "V1001");
/// ```
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct UserAction;

impl UserAction {
    /// A text message.
    pub fn text(content: impl Into<String>) -> MessageBody {
        MessageBody::Text {
            content: content.into(),
            msg_id: fresh_msg_id(),
            msg_data_id: None,
            idx: None,
        }
    }

    /// A picture, as a URL the account can download.
    pub fn image(pic_url: impl Into<String>) -> MessageBody {
        MessageBody::Image {
            pic_url: pic_url.into(),
            media_id: media_id(),
            msg_id: fresh_msg_id(),
        }
    }

    /// A voice message (`amr`), with the speech-to-text result when the account has it on.
    pub fn voice(recognition: Option<&str>) -> MessageBody {
        MessageBody::Voice {
            media_id: media_id(),
            format: "amr".to_owned(),
            recognition: recognition.map(str::to_owned),
            msg_id: fresh_msg_id(),
        }
    }

    /// A video.
    pub fn video() -> MessageBody {
        MessageBody::Video {
            media_id: media_id(),
            thumb_media_id: media_id(),
            msg_id: fresh_msg_id(),
        }
    }

    /// A short video.
    pub fn short_video() -> MessageBody {
        MessageBody::ShortVideo {
            media_id: media_id(),
            thumb_media_id: media_id(),
            msg_id: fresh_msg_id(),
        }
    }

    /// A location sent as a message (the "位置" attachment).
    pub fn location(latitude: f64, longitude: f64, label: impl Into<String>) -> MessageBody {
        MessageBody::Location {
            latitude,
            longitude,
            scale: 15.0,
            label: label.into(),
            msg_id: fresh_msg_id(),
        }
    }

    /// A shared link.
    pub fn link(
        title: impl Into<String>,
        description: impl Into<String>,
        url: impl Into<String>,
    ) -> MessageBody {
        MessageBody::Link {
            title: title.into(),
            description: description.into(),
            url: url.into(),
            msg_id: fresh_msg_id(),
        }
    }

    /// A `click` menu button was tapped: `CLICK` with its key.
    pub fn click(key: impl Into<String>) -> MessageBody {
        MessageBody::Event(Event::Click { key: key.into() })
    }

    /// A `view` menu button was tapped: `VIEW` with its URL.
    pub fn view(url: impl Into<String>) -> MessageBody {
        MessageBody::Event(Event::View {
            url: url.into(),
            menu_id: None,
        })
    }

    /// A follow; with a scene it is a scan-to-follow of a parametric QR code
    /// (`EventKey=qrscene_<scene>` and a `Ticket`).
    pub fn subscribe(scene: Option<&str>) -> MessageBody {
        MessageBody::Event(Event::Subscribe {
            scene: scene.map(|s| Scene(s.to_owned())),
            ticket: scene.map(|_| qr_ticket()),
        })
    }

    /// An unfollow.
    pub fn unsubscribe() -> MessageBody {
        MessageBody::Event(Event::Unsubscribe)
    }

    /// A follower scanned a parametric QR code: `SCAN` with the scene and a `Ticket`.
    pub fn scan(scene: impl Into<String>) -> MessageBody {
        MessageBody::Event(Event::Scan {
            scene: Scene(scene.into()),
            ticket: Some(qr_ticket()),
        })
    }

    /// The phone reported its position (`LOCATION`, on entering the chat when the account asks).
    pub fn report_location(latitude: f64, longitude: f64, precision: f64) -> MessageBody {
        MessageBody::Event(Event::Location {
            latitude,
            longitude,
            precision,
        })
    }

    /// A `scancode_push` menu button scanned a code.
    pub fn scancode_push(key: impl Into<String>, result: impl Into<String>) -> MessageBody {
        MessageBody::Event(Event::ScancodePush {
            key: key.into(),
            scan: scan_info(result.into()),
        })
    }

    /// A `scancode_waitmsg` menu button scanned a code and waits for the account's answer.
    pub fn scancode_waitmsg(key: impl Into<String>, result: impl Into<String>) -> MessageBody {
        MessageBody::Event(Event::ScancodeWaitmsg {
            key: key.into(),
            scan: scan_info(result.into()),
        })
    }

    /// A `pic_sysphoto` menu button took `count` photos.
    pub fn pic_sysphoto(key: impl Into<String>, count: u32) -> MessageBody {
        MessageBody::Event(Event::PicSysphoto {
            key: key.into(),
            pics: pics(count),
        })
    }

    /// A `pic_photo_or_album` menu button sent `count` pictures.
    pub fn pic_photo_or_album(key: impl Into<String>, count: u32) -> MessageBody {
        MessageBody::Event(Event::PicPhotoOrAlbum {
            key: key.into(),
            pics: pics(count),
        })
    }

    /// A `pic_weixin` menu button sent `count` pictures from the WeChat album.
    pub fn pic_weixin(key: impl Into<String>, count: u32) -> MessageBody {
        MessageBody::Event(Event::PicWeixin {
            key: key.into(),
            pics: pics(count),
        })
    }

    /// A `location_select` menu button picked a place.
    pub fn location_select(
        key: impl Into<String>,
        latitude: f64,
        longitude: f64,
        label: impl Into<String>,
    ) -> MessageBody {
        MessageBody::Event(Event::LocationSelect {
            key: key.into(),
            location: SelectedLocation {
                latitude,
                longitude,
                scale: 15.0,
                label: label.into(),
                poiname: None,
            },
        })
    }

    /// A `miniprogram` menu button opened a mini program page.
    pub fn view_miniprogram(page_path: impl Into<String>) -> MessageBody {
        MessageBody::Event(Event::ViewMiniprogram {
            page_path: page_path.into(),
            menu_id: None,
        })
    }

    /// WeChat reports a template message's delivery (`TEMPLATESENDJOBFINISH`).
    pub fn template_send_job_finish(msg_id: MsgId, status: impl Into<String>) -> MessageBody {
        MessageBody::Event(Event::TemplateSendJobFinish {
            msg_id,
            status: status.into(),
        })
    }
}

fn scan_info(result: String) -> ScanCodeInfo {
    ScanCodeInfo {
        scan_type: "qrcode".to_owned(),
        scan_result: result,
    }
}

fn pics(count: u32) -> PicInfo {
    let count = count.clamp(1, 9);
    PicInfo {
        count,
        md5_sums: (0..count)
            .map(|_| format!("{:032x}", rand::random::<u128>()))
            .collect(),
    }
}

/// A QR ticket in WeChat's shape (`gQ…`, base64-ish).
fn qr_ticket() -> String {
    format!("gQ{}", random_alnum(94))
}

/// The JSON form of an action: `{"type": "text", "content": "hi"}` and so on.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum ActionSpec {
    Text {
        content: String,
    },
    Image {
        pic_url: Option<String>,
    },
    Voice {
        recognition: Option<String>,
    },
    Video,
    #[serde(alias = "shortvideo")]
    ShortVideo,
    Location {
        lat: f64,
        lon: f64,
        #[serde(default)]
        label: String,
    },
    Link {
        title: String,
        #[serde(default)]
        description: String,
        url: String,
    },
    Click {
        key: String,
    },
    View {
        url: String,
        menu_id: Option<String>,
    },
    Subscribe {
        scene: Option<String>,
    },
    Unsubscribe,
    Scan {
        scene: String,
    },
    ReportLocation {
        lat: f64,
        lon: f64,
        #[serde(default)]
        precision: f64,
    },
    ScancodePush {
        key: String,
        result: String,
    },
    ScancodeWaitmsg {
        key: String,
        result: String,
    },
    PicSysphoto {
        key: String,
        count: Option<u32>,
    },
    PicPhotoOrAlbum {
        key: String,
        count: Option<u32>,
    },
    PicWeixin {
        key: String,
        count: Option<u32>,
    },
    LocationSelect {
        key: String,
        lat: f64,
        lon: f64,
        #[serde(default)]
        label: String,
    },
    ViewMiniprogram {
        pagepath: String,
    },
}

impl ActionSpec {
    /// The message; `sample_picture` is the URL an image without one points at.
    pub(crate) fn into_body(self, sample_picture: &str) -> Result<MessageBody, String> {
        let finite = |v: f64, what: &str| {
            if v.is_finite() {
                Ok(v)
            } else {
                Err(format!("{what} must be a finite number"))
            }
        };
        Ok(match self {
            ActionSpec::Text { content } => {
                if content.is_empty() {
                    return Err("content must not be empty".to_owned());
                }
                UserAction::text(content)
            }
            ActionSpec::Image { pic_url } => {
                UserAction::image(pic_url.unwrap_or_else(|| sample_picture.to_owned()))
            }
            ActionSpec::Voice { recognition } => UserAction::voice(recognition.as_deref()),
            ActionSpec::Video => UserAction::video(),
            ActionSpec::ShortVideo => UserAction::short_video(),
            ActionSpec::Location { lat, lon, label } => {
                UserAction::location(finite(lat, "lat")?, finite(lon, "lon")?, label)
            }
            ActionSpec::Link {
                title,
                description,
                url,
            } => UserAction::link(title, description, url),
            ActionSpec::Click { key } => UserAction::click(key),
            ActionSpec::View { url, menu_id } => MessageBody::Event(Event::View { url, menu_id }),
            ActionSpec::Subscribe { scene } => {
                UserAction::subscribe(scene.as_deref().filter(|s| !s.is_empty()))
            }
            ActionSpec::Unsubscribe => UserAction::unsubscribe(),
            ActionSpec::Scan { scene } => UserAction::scan(scene),
            ActionSpec::ReportLocation {
                lat,
                lon,
                precision,
            } => UserAction::report_location(
                finite(lat, "lat")?,
                finite(lon, "lon")?,
                finite(precision, "precision")?,
            ),
            ActionSpec::ScancodePush { key, result } => UserAction::scancode_push(key, result),
            ActionSpec::ScancodeWaitmsg { key, result } => {
                UserAction::scancode_waitmsg(key, result)
            }
            ActionSpec::PicSysphoto { key, count } => {
                UserAction::pic_sysphoto(key, count.unwrap_or(1))
            }
            ActionSpec::PicPhotoOrAlbum { key, count } => {
                UserAction::pic_photo_or_album(key, count.unwrap_or(1))
            }
            ActionSpec::PicWeixin { key, count } => UserAction::pic_weixin(key, count.unwrap_or(1)),
            ActionSpec::LocationSelect {
                key,
                lat,
                lon,
                label,
            } => UserAction::location_select(key, finite(lat, "lat")?, finite(lon, "lon")?, label),
            ActionSpec::ViewMiniprogram { pagepath } => UserAction::view_miniprogram(pagepath),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wechat_types::xml::Message;

    #[test]
    fn msg_ids_are_unique_and_events_have_none() {
        let a = UserAction::text("a").msg_id().unwrap();
        let b = UserAction::location(1.0, 2.0, "x").msg_id().unwrap();
        assert_ne!(a, b);
        assert!(a.0 > 1 << 62);
        assert_eq!(UserAction::click("K").msg_id(), None);
    }

    #[test]
    fn every_action_renders_and_parses_back() {
        let bodies = [
            UserAction::text("a]]>b"),
            UserAction::image("http://127.0.0.1/p.svg"),
            UserAction::voice(Some("你好")),
            UserAction::video(),
            UserAction::short_video(),
            UserAction::location(23.1, 113.3, "广州塔"),
            UserAction::link("t", "d", "http://x"),
            UserAction::click("K"),
            UserAction::view("http://x/"),
            UserAction::subscribe(Some("42")),
            UserAction::subscribe(None),
            UserAction::unsubscribe(),
            UserAction::scan("42"),
            UserAction::report_location(23.1, 113.3, 65.0),
            UserAction::scancode_push("K", "R"),
            UserAction::scancode_waitmsg("K", "R"),
            UserAction::pic_sysphoto("K", 2),
            UserAction::pic_photo_or_album("K", 1),
            UserAction::pic_weixin("K", 3),
            UserAction::location_select("K", 23.1, 113.3, "L"),
            UserAction::view_miniprogram("pages/index"),
            UserAction::template_send_job_finish(MsgId(7), "success"),
        ];
        for body in bodies {
            let message = Message {
                to: "gh_1".into(),
                from: "oUser".into(),
                create_time: 1,
                body,
            };
            assert_eq!(
                Message::parse(message.to_xml().as_bytes()).unwrap(),
                message
            );
        }
    }

    #[test]
    fn json_actions_convert() {
        let spec: ActionSpec =
            serde_json::from_str(r#"{"type":"scancode_push","key":"K","result":"R"}"#).unwrap();
        let MessageBody::Event(Event::ScancodePush { key, scan }) = spec.into_body("").unwrap()
        else {
            panic!()
        };
        assert_eq!((key.as_str(), scan.scan_result.as_str()), ("K", "R"));
        let spec: ActionSpec = serde_json::from_str(r#"{"type":"image"}"#).unwrap();
        let MessageBody::Image { pic_url, .. } = spec.into_body("http://p").unwrap() else {
            panic!()
        };
        assert_eq!(pic_url, "http://p");
        let spec: ActionSpec = serde_json::from_str(r#"{"type":"text","content":""}"#).unwrap();
        assert!(spec.into_body("").is_err());
        assert!(serde_json::from_str::<ActionSpec>(r#"{"type":"dance"}"#).is_err());
    }
}
