//! Incoming messages and events (PROTOCOL.md 4.7 and 4.8), both parsed and rendered.

use super::element::{Document, Element, ElementRef, XmlError, expect_xml_root, read_document};
use super::simple::FlatLeaves;
use super::write::{cdata_element, push_number_element, push_text_element};
use crate::id::{AccountId, MediaId, MsgId, OpenId};

/// A message or event pushed to the callback URL.
///
/// ```
/// use wechat_types::xml::{Message, MessageBody};
///
/// let xml = "<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[oUser]]></FromUserName>\
///            <CreateTime>1409735668</CreateTime><MsgType><![CDATA[text]]></MsgType>\
///            <Content><![CDATA[你好]]></Content><MsgId>6054768590064713728</MsgId></xml>";
/// let msg = Message::parse(xml.as_bytes()).unwrap();
/// assert_eq!(msg.from, "oUser");
/// match &msg.body {
///     MessageBody::Text { content, .. } => assert_eq!(content, "你好"),
///     other => panic!("unexpected {other:?}"),
/// }
/// assert_eq!(Message::parse(msg.to_xml().as_bytes()).unwrap(), msg);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// `ToUserName`: the account's original ID (`gh_…`).
    pub to: AccountId,
    /// `FromUserName`: the user's OpenID.
    pub from: OpenId,
    /// `CreateTime`: seconds since the Unix epoch.
    pub create_time: i64,
    /// What was sent.
    pub body: MessageBody,
}

/// The typed content of a [`Message`], by `MsgType`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum MessageBody {
    /// `text`.
    Text {
        /// `Content`.
        content: String,
        /// `MsgId`.
        msg_id: MsgId,
        /// `MsgDataId`, when the message comes from an article.
        msg_data_id: Option<String>,
        /// `Idx`, the article's index, when the message comes from an article.
        idx: Option<String>,
    },
    /// `image`.
    Image {
        /// `PicUrl`.
        pic_url: String,
        /// `MediaId`.
        media_id: MediaId,
        /// `MsgId`.
        msg_id: MsgId,
    },
    /// `voice`.
    Voice {
        /// `MediaId`.
        media_id: MediaId,
        /// `Format` (amr, speex…).
        format: String,
        /// `Recognition`: speech-to-text, when enabled on the account.
        recognition: Option<String>,
        /// `MsgId`.
        msg_id: MsgId,
    },
    /// `video`.
    Video {
        /// `MediaId`.
        media_id: MediaId,
        /// `ThumbMediaId`.
        thumb_media_id: MediaId,
        /// `MsgId`.
        msg_id: MsgId,
    },
    /// `shortvideo`.
    ShortVideo {
        /// `MediaId`.
        media_id: MediaId,
        /// `ThumbMediaId`.
        thumb_media_id: MediaId,
        /// `MsgId`.
        msg_id: MsgId,
    },
    /// `location`: a location the user sent as a message.
    Location {
        /// `Location_X`: latitude.
        latitude: f64,
        /// `Location_Y`: longitude.
        longitude: f64,
        /// `Scale`: map zoom.
        scale: f64,
        /// `Label`: the place's description.
        label: String,
        /// `MsgId`.
        msg_id: MsgId,
    },
    /// `link`.
    Link {
        /// `Title`.
        title: String,
        /// `Description`.
        description: String,
        /// `Url`.
        url: String,
        /// `MsgId`.
        msg_id: MsgId,
    },
    /// `event`: see [`Event`].
    Event(Event),
    /// A `MsgType` this crate does not know; every field is kept.
    Unknown {
        /// The `MsgType` value.
        msg_type: String,
        /// The whole `<xml>` element.
        raw: Element,
    },
}

/// A scene value from a parametric QR code: the part after `qrscene_` in a subscribe event, or the
/// whole `EventKey` of a `SCAN` event.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Scene(pub String);

impl Scene {
    /// The scene as a number, for `QR_SCENE`/`QR_LIMIT_SCENE` codes.
    pub fn as_id(&self) -> Option<u32> {
        self.0.parse().ok()
    }

    /// The scene as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `ScanCodeInfo` of a `scancode_*` event.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ScanCodeInfo {
    /// `ScanType`, usually `qrcode` or `barcode`.
    pub scan_type: String,
    /// `ScanResult`: what the code said.
    pub scan_result: String,
}

/// `SendPicsInfo` of a `pic_*` event.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PicInfo {
    /// `Count`.
    pub count: u32,
    /// The `PicMd5Sum` of each picture in `PicList`.
    pub md5_sums: Vec<String>,
}

/// `SendLocationInfo` of a `location_select` event.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SelectedLocation {
    /// `Location_X`: latitude.
    pub latitude: f64,
    /// `Location_Y`: longitude.
    pub longitude: f64,
    /// `Scale`.
    pub scale: f64,
    /// `Label`.
    pub label: String,
    /// `Poiname`, when the user picked a point of interest.
    pub poiname: Option<String>,
}

/// An event (`MsgType` `event`), by its `Event` field. Event names are matched as WeChat writes
/// them (`SCAN`, `CLICK` in capitals; `subscribe`, `scancode_push` in lower case) and, for
/// robustness, regardless of case.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// `subscribe`: a follow. From a parametric QR code it carries the scene and the ticket.
    Subscribe {
        /// The scene, when the follow came from scanning a parametric QR code (`qrscene_…`).
        scene: Option<Scene>,
        /// `Ticket` of that QR code.
        ticket: Option<String>,
    },
    /// `unsubscribe`.
    Unsubscribe,
    /// `SCAN`: a follower scanned a parametric QR code.
    Scan {
        /// The scene (`EventKey`).
        scene: Scene,
        /// `Ticket`.
        ticket: Option<String>,
    },
    /// `LOCATION`: the user's location, reported on entering the chat or every 5 seconds.
    Location {
        /// `Latitude`.
        latitude: f64,
        /// `Longitude`.
        longitude: f64,
        /// `Precision`.
        precision: f64,
    },
    /// `CLICK`: a `click` menu button.
    Click {
        /// `EventKey`: the button's key.
        key: String,
    },
    /// `VIEW`: a `view` menu button opened a page.
    View {
        /// `EventKey`: the page's URL.
        url: String,
        /// `MenuId`, for conditional menus.
        menu_id: Option<String>,
    },
    /// `scancode_push`.
    ScancodePush {
        /// `EventKey`.
        key: String,
        /// `ScanCodeInfo`.
        scan: ScanCodeInfo,
    },
    /// `scancode_waitmsg`.
    ScancodeWaitmsg {
        /// `EventKey`.
        key: String,
        /// `ScanCodeInfo`.
        scan: ScanCodeInfo,
    },
    /// `pic_sysphoto`.
    PicSysphoto {
        /// `EventKey`.
        key: String,
        /// `SendPicsInfo`.
        pics: PicInfo,
    },
    /// `pic_photo_or_album`.
    PicPhotoOrAlbum {
        /// `EventKey`.
        key: String,
        /// `SendPicsInfo`.
        pics: PicInfo,
    },
    /// `pic_weixin`.
    PicWeixin {
        /// `EventKey`.
        key: String,
        /// `SendPicsInfo`.
        pics: PicInfo,
    },
    /// `location_select`.
    LocationSelect {
        /// `EventKey`.
        key: String,
        /// `SendLocationInfo`.
        location: SelectedLocation,
    },
    /// `view_miniprogram`: a `miniprogram` menu button.
    ViewMiniprogram {
        /// `EventKey`: the mini program page path.
        page_path: String,
        /// `MenuId`.
        menu_id: Option<String>,
    },
    /// `TEMPLATESENDJOBFINISH`: a template message was delivered or not.
    TemplateSendJobFinish {
        /// `MsgID` (capital D).
        msg_id: MsgId,
        /// `Status`: `success`, `failed:user block`, `failed: system failed`.
        status: String,
    },
    /// `MASSSENDJOBFINISH`.
    MassSendJobFinish {
        /// `MsgID`.
        msg_id: MsgId,
        /// `Status`.
        status: String,
        /// `TotalCount`.
        total_count: u64,
        /// `FilterCount`.
        filter_count: u64,
        /// `SentCount`.
        sent_count: u64,
        /// `ErrorCount`.
        error_count: u64,
    },
    /// An event this crate does not know; every field is kept.
    Unknown {
        /// The `Event` value.
        event: String,
        /// The whole `<xml>` element.
        raw: Element,
    },
}

impl Event {
    /// The `Event` value as WeChat writes it.
    pub fn name(&self) -> &str {
        match self {
            Event::Subscribe { .. } => "subscribe",
            Event::Unsubscribe => "unsubscribe",
            Event::Scan { .. } => "SCAN",
            Event::Location { .. } => "LOCATION",
            Event::Click { .. } => "CLICK",
            Event::View { .. } => "VIEW",
            Event::ScancodePush { .. } => "scancode_push",
            Event::ScancodeWaitmsg { .. } => "scancode_waitmsg",
            Event::PicSysphoto { .. } => "pic_sysphoto",
            Event::PicPhotoOrAlbum { .. } => "pic_photo_or_album",
            Event::PicWeixin { .. } => "pic_weixin",
            Event::LocationSelect { .. } => "location_select",
            Event::ViewMiniprogram { .. } => "view_miniprogram",
            Event::TemplateSendJobFinish { .. } => "TEMPLATESENDJOBFINISH",
            Event::MassSendJobFinish { .. } => "MASSSENDJOBFINISH",
            Event::Unknown { event, .. } => event,
        }
    }

    /// The key of the menu button behind the event: `CLICK` and the buttons that open the
    /// scanner, the camera, the album or the location picker. `None` for every other event (a
    /// `VIEW` button's `EventKey` is its URL, not a key).
    ///
    /// ```
    /// use wechat_types::xml::Event;
    ///
    /// let click = Event::Click { key: "V1001_TODAY_MUSIC".into() };
    /// assert_eq!(click.menu_key(), Some("V1001_TODAY_MUSIC"));
    /// assert_eq!(Event::Unsubscribe.menu_key(), None);
    /// ```
    pub fn menu_key(&self) -> Option<&str> {
        match self {
            Event::Click { key }
            | Event::ScancodePush { key, .. }
            | Event::ScancodeWaitmsg { key, .. }
            | Event::PicSysphoto { key, .. }
            | Event::PicPhotoOrAlbum { key, .. }
            | Event::PicWeixin { key, .. }
            | Event::LocationSelect { key, .. } => Some(key),
            _ => None,
        }
    }

    /// The `EventKey` as WeChat sends it, when the event has one (`qrscene_…` for a scan-to-follow).
    pub fn key(&self) -> Option<String> {
        match self {
            Event::Subscribe { scene, .. } => scene.as_ref().map(|s| format!("qrscene_{}", s.0)),
            Event::Scan { scene, .. } => Some(scene.0.clone()),
            Event::View { url, .. } => Some(url.clone()),
            Event::ViewMiniprogram { page_path, .. } => Some(page_path.clone()),
            Event::Unknown { raw, .. } => raw.child_text("EventKey").map(str::to_owned),
            Event::Unsubscribe
            | Event::Location { .. }
            | Event::TemplateSendJobFinish { .. }
            | Event::MassSendJobFinish { .. } => None,
            // The menu buttons with a key.
            _ => self.menu_key().map(str::to_owned),
        }
    }
}

impl MessageBody {
    /// The `MsgType` value.
    pub fn msg_type(&self) -> &str {
        match self {
            MessageBody::Text { .. } => "text",
            MessageBody::Image { .. } => "image",
            MessageBody::Voice { .. } => "voice",
            MessageBody::Video { .. } => "video",
            MessageBody::ShortVideo { .. } => "shortvideo",
            MessageBody::Location { .. } => "location",
            MessageBody::Link { .. } => "link",
            MessageBody::Event(_) => "event",
            MessageBody::Unknown { msg_type, .. } => msg_type,
        }
    }

    /// `MsgId` for ordinary messages (events have none).
    pub fn msg_id(&self) -> Option<MsgId> {
        match self {
            MessageBody::Text { msg_id, .. }
            | MessageBody::Image { msg_id, .. }
            | MessageBody::Voice { msg_id, .. }
            | MessageBody::Video { msg_id, .. }
            | MessageBody::ShortVideo { msg_id, .. }
            | MessageBody::Location { msg_id, .. }
            | MessageBody::Link { msg_id, .. } => Some(*msg_id),
            MessageBody::Unknown { raw, .. } => raw
                .child_text("MsgId")
                .and_then(|v| v.trim().parse().ok())
                .map(MsgId),
            MessageBody::Event(_) => None,
        }
    }

    /// The `MsgId` of an ordinary message, to set it (a fake WeChat numbers what it sends);
    /// `None` for events and for unknown types, whose id stays in their raw document.
    ///
    /// ```
    /// use wechat_types::MsgId;
    /// use wechat_types::xml::MessageBody;
    ///
    /// let mut body = MessageBody::Text {
    ///     content: "hi".into(),
    ///     msg_id: MsgId(0),
    ///     msg_data_id: None,
    ///     idx: None,
    /// };
    /// if let Some(id) = body.msg_id_mut() {
    ///     *id = MsgId(42);
    /// }
    /// assert_eq!(body.msg_id(), Some(MsgId(42)));
    /// ```
    pub fn msg_id_mut(&mut self) -> Option<&mut MsgId> {
        match self {
            MessageBody::Text { msg_id, .. }
            | MessageBody::Image { msg_id, .. }
            | MessageBody::Voice { msg_id, .. }
            | MessageBody::Video { msg_id, .. }
            | MessageBody::ShortVideo { msg_id, .. }
            | MessageBody::Location { msg_id, .. }
            | MessageBody::Link { msg_id, .. } => Some(msg_id),
            MessageBody::Event(_) | MessageBody::Unknown { .. } => None,
        }
    }
}

impl Message {
    /// Parses a plaintext push (or the decrypted inner document of an encrypted one).
    pub fn parse(input: &[u8]) -> Result<Message, XmlError> {
        match read_document(input)? {
            // A flat push (every message type, most events) is read from its leaves; a tree is
            // built only for what needs one (an event, or a type this crate does not know).
            Document::Flat(root, leaves) => {
                expect_xml_root(root)?;
                Message::from_fields(Fields(&leaves), |msg_type| {
                    tree_body(&ElementRef::from_flat(root, &leaves), msg_type)
                })
            }
            Document::Tree(root) => Message::from_element_ref(&root),
        }
    }

    /// Builds a message from an already-read `<xml>` element.
    pub fn from_element(root: &Element) -> Result<Message, XmlError> {
        Message::from_element_ref(&root.as_element_ref())
    }

    /// Builds a message from an already-read, borrowed `<xml>` element.
    pub fn from_element_ref(root: &ElementRef<'_>) -> Result<Message, XmlError> {
        expect_xml_root(root.name())?;
        Message::from_fields(Fields(root), |msg_type| tree_body(root, msg_type))
    }

    /// The message in `fields`; `other_body` reads the body of an event or an unknown type.
    fn from_fields<'r, C: Children<'r>>(
        fields: Fields<C>,
        other_body: impl FnOnce(&str) -> Result<MessageBody, XmlError>,
    ) -> Result<Message, XmlError> {
        let to = AccountId::new(fields.required("ToUserName")?);
        let from = OpenId::new(fields.required("FromUserName")?);
        let create_time = fields.number("CreateTime")?;
        let msg_type = fields.required("MsgType")?;
        let body = match msg_type {
            "text" => MessageBody::Text {
                content: fields.required("Content")?.to_owned(),
                msg_id: fields.msg_id("MsgId")?,
                msg_data_id: fields.optional("MsgDataId"),
                idx: fields.optional("Idx"),
            },
            "image" => MessageBody::Image {
                pic_url: fields.text("PicUrl"),
                media_id: MediaId::new(fields.text("MediaId")),
                msg_id: fields.msg_id("MsgId")?,
            },
            "voice" => MessageBody::Voice {
                media_id: MediaId::new(fields.text("MediaId")),
                format: fields.text("Format"),
                recognition: fields.optional("Recognition"),
                msg_id: fields.msg_id("MsgId")?,
            },
            "video" | "shortvideo" => {
                let media_id = MediaId::new(fields.text("MediaId"));
                let thumb_media_id = MediaId::new(fields.text("ThumbMediaId"));
                let msg_id = fields.msg_id("MsgId")?;
                if msg_type == "video" {
                    MessageBody::Video {
                        media_id,
                        thumb_media_id,
                        msg_id,
                    }
                } else {
                    MessageBody::ShortVideo {
                        media_id,
                        thumb_media_id,
                        msg_id,
                    }
                }
            }
            "location" => MessageBody::Location {
                latitude: fields.number("Location_X")?,
                longitude: fields.number("Location_Y")?,
                scale: fields.number_or_zero("Scale")?,
                label: fields.text("Label"),
                msg_id: fields.msg_id("MsgId")?,
            },
            "link" => MessageBody::Link {
                title: fields.text("Title"),
                description: fields.text("Description"),
                url: fields.text("Url"),
                msg_id: fields.msg_id("MsgId")?,
            },
            other => other_body(other)?,
        };
        Ok(Message {
            to,
            from,
            create_time,
            body,
        })
    }

    /// The key WeChat's retries share: `MsgId` for messages; `FromUserName`, `CreateTime`, `Event`
    /// and `EventKey` for events. Two deliveries of one push have the same key.
    pub fn dedupe_key(&self) -> String {
        match self.body.msg_id() {
            // By hand, not `format!`: this runs on every push, and the formatting machinery
            // cost more than the rest of the key.
            Some(id) => {
                let mut digits = itoa::Buffer::new();
                let digits = digits.format(id.0);
                let mut key = String::with_capacity(4 + digits.len());
                key.push_str("msg:");
                key.push_str(digits);
                key
            }
            None => {
                let (event, key) = match &self.body {
                    MessageBody::Event(event) => (event.name(), event.key().unwrap_or_default()),
                    other => (other.msg_type(), String::new()),
                };
                format!("evt:{}:{}:{event}:{key}", self.from, self.create_time)
            }
        }
    }

    /// Renders the message as WeChat pushes it (text in CDATA, numbers bare).
    pub fn to_xml(&self) -> String {
        let mut out = String::with_capacity(320);
        if let MessageBody::Unknown { raw, .. } = &self.body {
            raw.write_to(&mut out);
            return out;
        }
        if let MessageBody::Event(Event::Unknown { raw, .. }) = &self.body {
            raw.write_to(&mut out);
            return out;
        }
        out.push_str("<xml>");
        cdata_element!(&mut out, "ToUserName", self.to.as_str());
        cdata_element!(&mut out, "FromUserName", self.from.as_str());
        push_number_element(&mut out, "CreateTime", self.create_time);
        cdata_element!(&mut out, "MsgType", self.body.msg_type());
        write_body(&mut out, &self.body);
        out.push_str("</xml>");
        out
    }
}

fn write_body(out: &mut String, body: &MessageBody) {
    match body {
        MessageBody::Text {
            content,
            msg_id,
            msg_data_id,
            idx,
        } => {
            cdata_element!(out, "Content", content);
            push_text_element(out, "MsgId", msg_id);
            if let Some(v) = msg_data_id {
                cdata_element!(out, "MsgDataId", v);
            }
            if let Some(v) = idx {
                cdata_element!(out, "Idx", v);
            }
        }
        MessageBody::Image {
            pic_url,
            media_id,
            msg_id,
        } => {
            cdata_element!(out, "PicUrl", pic_url);
            cdata_element!(out, "MediaId", media_id.as_str());
            push_text_element(out, "MsgId", msg_id);
        }
        MessageBody::Voice {
            media_id,
            format,
            recognition,
            msg_id,
        } => {
            cdata_element!(out, "MediaId", media_id.as_str());
            cdata_element!(out, "Format", format);
            if let Some(text) = recognition {
                cdata_element!(out, "Recognition", text);
            }
            push_text_element(out, "MsgId", msg_id);
        }
        MessageBody::Video {
            media_id,
            thumb_media_id,
            msg_id,
        }
        | MessageBody::ShortVideo {
            media_id,
            thumb_media_id,
            msg_id,
        } => {
            cdata_element!(out, "MediaId", media_id.as_str());
            cdata_element!(out, "ThumbMediaId", thumb_media_id.as_str());
            push_text_element(out, "MsgId", msg_id);
        }
        MessageBody::Location {
            latitude,
            longitude,
            scale,
            label,
            msg_id,
        } => {
            push_text_element(out, "Location_X", latitude);
            push_text_element(out, "Location_Y", longitude);
            push_text_element(out, "Scale", scale);
            cdata_element!(out, "Label", label);
            push_text_element(out, "MsgId", msg_id);
        }
        MessageBody::Link {
            title,
            description,
            url,
            msg_id,
        } => {
            cdata_element!(out, "Title", title);
            cdata_element!(out, "Description", description);
            cdata_element!(out, "Url", url);
            push_text_element(out, "MsgId", msg_id);
        }
        MessageBody::Event(event) => write_event(out, event),
        MessageBody::Unknown { .. } => {}
    }
}

fn write_event(out: &mut String, event: &Event) {
    cdata_element!(out, "Event", event.name());
    match event {
        Event::Subscribe { scene, ticket } => {
            if let Some(key) = scene.as_ref().map(|s| format!("qrscene_{}", s.0)) {
                cdata_element!(out, "EventKey", &key);
            }
            if let Some(ticket) = ticket {
                cdata_element!(out, "Ticket", ticket);
            }
        }
        Event::Unsubscribe => {}
        Event::Scan { scene, ticket } => {
            cdata_element!(out, "EventKey", &scene.0);
            if let Some(ticket) = ticket {
                cdata_element!(out, "Ticket", ticket);
            }
        }
        Event::Location {
            latitude,
            longitude,
            precision,
        } => {
            push_text_element(out, "Latitude", latitude);
            push_text_element(out, "Longitude", longitude);
            push_text_element(out, "Precision", precision);
        }
        Event::Click { key } => cdata_element!(out, "EventKey", key),
        Event::View { url, menu_id }
        | Event::ViewMiniprogram {
            page_path: url,
            menu_id,
        } => {
            cdata_element!(out, "EventKey", url);
            if let Some(id) = menu_id {
                cdata_element!(out, "MenuId", id);
            }
        }
        Event::ScancodePush { key, scan } | Event::ScancodeWaitmsg { key, scan } => {
            cdata_element!(out, "EventKey", key);
            out.push_str("<ScanCodeInfo>");
            cdata_element!(out, "ScanType", &scan.scan_type);
            cdata_element!(out, "ScanResult", &scan.scan_result);
            out.push_str("</ScanCodeInfo>");
        }
        Event::PicSysphoto { key, pics }
        | Event::PicPhotoOrAlbum { key, pics }
        | Event::PicWeixin { key, pics } => {
            cdata_element!(out, "EventKey", key);
            out.push_str("<SendPicsInfo>");
            push_text_element(out, "Count", pics.count);
            out.push_str("<PicList>");
            for sum in &pics.md5_sums {
                out.push_str("<item>");
                cdata_element!(out, "PicMd5Sum", sum);
                out.push_str("</item>");
            }
            out.push_str("</PicList></SendPicsInfo>");
        }
        Event::LocationSelect { key, location } => {
            cdata_element!(out, "EventKey", key);
            out.push_str("<SendLocationInfo>");
            cdata_element!(out, "Location_X", &location.latitude.to_string());
            cdata_element!(out, "Location_Y", &location.longitude.to_string());
            cdata_element!(out, "Scale", &location.scale.to_string());
            cdata_element!(out, "Label", &location.label);
            if let Some(poi) = &location.poiname {
                cdata_element!(out, "Poiname", poi);
            }
            out.push_str("</SendLocationInfo>");
        }
        Event::TemplateSendJobFinish { msg_id, status } => {
            push_text_element(out, "MsgID", msg_id);
            cdata_element!(out, "Status", status);
        }
        Event::MassSendJobFinish {
            msg_id,
            status,
            total_count,
            filter_count,
            sent_count,
            error_count,
        } => {
            push_text_element(out, "MsgID", msg_id);
            cdata_element!(out, "Status", status);
            push_text_element(out, "TotalCount", total_count);
            push_text_element(out, "FilterCount", filter_count);
            push_text_element(out, "SentCount", sent_count);
            push_text_element(out, "ErrorCount", error_count);
        }
        Event::Unknown { .. } => {}
    }
}

/// The body of an event, or of a message type this crate does not know, which keep their tree.
fn tree_body(root: &ElementRef<'_>, msg_type: &str) -> Result<MessageBody, XmlError> {
    Ok(if msg_type == "event" {
        MessageBody::Event(parse_event(root)?)
    } else {
        MessageBody::Unknown {
            msg_type: msg_type.to_owned(),
            raw: root.to_element(),
        }
    })
}

fn parse_event(root: &ElementRef<'_>) -> Result<Event, XmlError> {
    let fields = Fields(root);
    let name = fields.required("Event")?;
    let key = || fields.text("EventKey");
    let is = |expected: &str| name.eq_ignore_ascii_case(expected);
    let event = if is("subscribe") {
        let scene = fields
            .optional("EventKey")
            .and_then(|k| k.strip_prefix("qrscene_").map(|s| Scene(s.to_owned())));
        Event::Subscribe {
            scene,
            ticket: fields.optional("Ticket"),
        }
    } else if is("unsubscribe") {
        Event::Unsubscribe
    } else if is("SCAN") {
        Event::Scan {
            scene: Scene(key()),
            ticket: fields.optional("Ticket"),
        }
    } else if is("LOCATION") {
        Event::Location {
            latitude: fields.number("Latitude")?,
            longitude: fields.number("Longitude")?,
            precision: fields.number_or_zero("Precision")?,
        }
    } else if is("CLICK") {
        Event::Click { key: key() }
    } else if is("VIEW") {
        Event::View {
            url: key(),
            menu_id: fields.optional("MenuId"),
        }
    } else if is("scancode_push") || is("scancode_waitmsg") {
        let info = root.child("ScanCodeInfo").map(Fields);
        let scan = ScanCodeInfo {
            scan_type: info
                .as_ref()
                .map(|f| f.text("ScanType"))
                .unwrap_or_default(),
            scan_result: info
                .as_ref()
                .map(|f| f.text("ScanResult"))
                .unwrap_or_default(),
        };
        if is("scancode_push") {
            Event::ScancodePush { key: key(), scan }
        } else {
            Event::ScancodeWaitmsg { key: key(), scan }
        }
    } else if is("pic_sysphoto") || is("pic_photo_or_album") || is("pic_weixin") {
        let pics = parse_pics(root.child("SendPicsInfo"))?;
        if is("pic_sysphoto") {
            Event::PicSysphoto { key: key(), pics }
        } else if is("pic_photo_or_album") {
            Event::PicPhotoOrAlbum { key: key(), pics }
        } else {
            Event::PicWeixin { key: key(), pics }
        }
    } else if is("location_select") {
        let location = match root.child("SendLocationInfo").map(Fields) {
            Some(info) => SelectedLocation {
                latitude: info.number_or_zero("Location_X")?,
                longitude: info.number_or_zero("Location_Y")?,
                scale: info.number_or_zero("Scale")?,
                label: info.text("Label"),
                poiname: info.optional("Poiname"),
            },
            None => SelectedLocation::default(),
        };
        Event::LocationSelect {
            key: key(),
            location,
        }
    } else if is("view_miniprogram") {
        Event::ViewMiniprogram {
            page_path: key(),
            menu_id: fields.optional("MenuId"),
        }
    } else if is("TEMPLATESENDJOBFINISH") {
        Event::TemplateSendJobFinish {
            msg_id: fields.msg_id("MsgID")?,
            status: fields.text("Status"),
        }
    } else if is("MASSSENDJOBFINISH") {
        Event::MassSendJobFinish {
            msg_id: fields.msg_id("MsgID")?,
            status: fields.text("Status"),
            total_count: fields.number_or_zero("TotalCount")?,
            filter_count: fields.number_or_zero("FilterCount")?,
            sent_count: fields.number_or_zero("SentCount")?,
            error_count: fields.number_or_zero("ErrorCount")?,
        }
    } else {
        Event::Unknown {
            event: name.to_owned(),
            raw: root.to_element(),
        }
    };
    Ok(event)
}

fn parse_pics(info: Option<&ElementRef<'_>>) -> Result<PicInfo, XmlError> {
    let Some(info) = info else {
        return Ok(PicInfo::default());
    };
    let md5_sums = info
        .child("PicList")
        .map(|list| {
            list.children()
                .iter()
                .filter_map(|item| item.child_text("PicMd5Sum").map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    Ok(PicInfo {
        count: Fields(info).number_or_zero("Count")?,
        md5_sums,
    })
}

/// Where [`Fields`] finds a child's text: an element's children, or a flat document's leaves.
trait Children<'r>: Copy {
    /// The text of the first child named `name`.
    fn text_of(self, name: &str) -> Option<&'r str>;
}

impl<'r> Children<'r> for &'r ElementRef<'_> {
    fn text_of(self, name: &str) -> Option<&'r str> {
        self.child_text(name)
    }
}

impl<'r> Children<'r> for &'r FlatLeaves<'_> {
    fn text_of(self, name: &str) -> Option<&'r str> {
        self.text(name)
    }
}

/// Typed access to the children of an element.
#[derive(Clone, Copy)]
struct Fields<C>(C);

impl<'r, C: Children<'r>> Fields<C> {
    fn required(&self, name: &'static str) -> Result<&'r str, XmlError> {
        // A `match`, not `ok_or`: the unused error is not built and dropped for every field.
        match self.0.text_of(name) {
            Some(text) => Ok(text),
            None => Err(XmlError::MissingField(name)),
        }
    }

    fn optional(&self, name: &str) -> Option<String> {
        self.0.text_of(name).map(str::to_owned)
    }

    fn text(&self, name: &str) -> String {
        self.0.text_of(name).unwrap_or_default().to_owned()
    }

    fn number<T: std::str::FromStr>(&self, name: &'static str) -> Result<T, XmlError> {
        self.required(name)?
            .trim()
            .parse()
            .map_err(|_| XmlError::InvalidField { field: name })
    }

    fn number_or_zero<T: std::str::FromStr + Default>(
        &self,
        name: &'static str,
    ) -> Result<T, XmlError> {
        match self.0.text_of(name).map(str::trim) {
            None | Some("") => Ok(T::default()),
            Some(value) => value
                .parse()
                .map_err(|_| XmlError::InvalidField { field: name }),
        }
    }

    fn msg_id(&self, name: &'static str) -> Result<MsgId, XmlError> {
        self.number(name).map(MsgId)
    }
}
