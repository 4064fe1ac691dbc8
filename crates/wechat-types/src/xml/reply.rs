//! Passive replies (PROTOCOL.md 4.9): what the callback answers within the same HTTP response.

use super::element::{ElementRef, XmlError, expect_xml_root};
use super::write::{cdata_element, push_cdata_element, push_number_element, push_text_element};
use crate::id::{AccountId, MediaId, OpenId};

/// What a handler answers. Rendering swaps `To`/`From` of the message it answers; see
/// [`ReplyMessage::answering`].
///
/// ```
/// use wechat_types::xml::Reply;
///
/// let reply = Reply::text("收到 ]]> 😀");
/// assert_eq!(reply.msg_type(), "text");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reply {
    /// `text`.
    Text {
        /// `Content`.
        content: String,
    },
    /// `image`.
    Image {
        /// `Image/MediaId`.
        media_id: MediaId,
    },
    /// `voice`.
    Voice {
        /// `Voice/MediaId`.
        media_id: MediaId,
    },
    /// `video`.
    Video {
        /// `Video/MediaId`.
        media_id: MediaId,
        /// `Video/Title`.
        title: Option<String>,
        /// `Video/Description`.
        description: Option<String>,
    },
    /// `music`.
    Music {
        /// `Music/Title`.
        title: Option<String>,
        /// `Music/Description`.
        description: Option<String>,
        /// `Music/MusicUrl`.
        music_url: Option<String>,
        /// `Music/HQMusicUrl`.
        hq_music_url: Option<String>,
        /// `Music/ThumbMediaId`.
        thumb_media_id: Option<MediaId>,
    },
    /// `news`: article cards. WeChat shows one article when answering a user's message and at most
    /// eight elsewhere.
    News {
        /// `Articles/item`.
        articles: Vec<Article>,
    },
    /// `transfer_customer_service`: hand the conversation to the customer-service system.
    TransferCustomerService {
        /// `TransInfo/KfAccount`: a specific agent, or any when absent.
        kf_account: Option<String>,
    },
}

/// One card of a `news` reply.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Article {
    /// `Title`.
    pub title: String,
    /// `Description`.
    pub description: String,
    /// `PicUrl`: the card's picture.
    pub pic_url: String,
    /// `Url`: where a tap goes.
    pub url: String,
}

impl Reply {
    /// A text reply.
    pub fn text(content: impl Into<String>) -> Self {
        Reply::Text {
            content: content.into(),
        }
    }

    /// An image reply.
    pub fn image(media_id: impl Into<MediaId>) -> Self {
        Reply::Image {
            media_id: media_id.into(),
        }
    }

    /// A news reply with the given articles.
    pub fn news(articles: Vec<Article>) -> Self {
        Reply::News { articles }
    }

    /// The `MsgType` value.
    pub fn msg_type(&self) -> &'static str {
        match self {
            Reply::Text { .. } => "text",
            Reply::Image { .. } => "image",
            Reply::Voice { .. } => "voice",
            Reply::Video { .. } => "video",
            Reply::Music { .. } => "music",
            Reply::News { .. } => "news",
            Reply::TransferCustomerService { .. } => "transfer_customer_service",
        }
    }
}

/// A rendered passive reply: the reply plus its envelope fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyMessage {
    /// `ToUserName`: the user's OpenID.
    pub to: OpenId,
    /// `FromUserName`: the account's original ID.
    pub from: AccountId,
    /// `CreateTime`.
    pub create_time: i64,
    /// The content.
    pub reply: Reply,
}

impl ReplyMessage {
    /// The reply to `message`: `To` and `From` swapped, stamped with `now` (Unix seconds).
    pub fn answering(message: &super::Message, reply: Reply, now: i64) -> Self {
        Self {
            to: message.from.clone(),
            from: message.to.clone(),
            create_time: now,
            reply,
        }
    }

    /// Renders the reply XML, every text in CDATA.
    ///
    /// ```
    /// use wechat_types::xml::{Reply, ReplyMessage};
    ///
    /// let msg = ReplyMessage {
    ///     to: "oUser".into(),
    ///     from: "gh_1".into(),
    ///     create_time: 12345678,
    ///     reply: Reply::text("你好"),
    /// };
    /// assert_eq!(
    ///     msg.to_xml(),
    ///     "<xml><ToUserName><![CDATA[oUser]]></ToUserName><FromUserName><![CDATA[gh_1]]></FromUserName>\
    ///      <CreateTime>12345678</CreateTime><MsgType><![CDATA[text]]></MsgType>\
    ///      <Content><![CDATA[你好]]></Content></xml>"
    /// );
    /// ```
    pub fn to_xml(&self) -> String {
        // The fixed markup of a text reply is about 190 bytes: sized so the common reply is
        // written without growing the buffer.
        let body_hint = match &self.reply {
            Reply::Text { content } => content.len(),
            _ => 256,
        };
        let mut out = String::with_capacity(
            200 + self.to.as_str().len() + self.from.as_str().len() + body_hint,
        );
        out.push_str("<xml>");
        cdata_element!(&mut out, "ToUserName", self.to.as_str());
        cdata_element!(&mut out, "FromUserName", self.from.as_str());
        push_number_element(&mut out, "CreateTime", self.create_time);
        cdata_element!(&mut out, "MsgType", self.reply.msg_type());
        match &self.reply {
            Reply::Text { content } => cdata_element!(&mut out, "Content", content),
            Reply::Image { media_id } => {
                out.push_str("<Image>");
                cdata_element!(&mut out, "MediaId", media_id.as_str());
                out.push_str("</Image>");
            }
            Reply::Voice { media_id } => {
                out.push_str("<Voice>");
                cdata_element!(&mut out, "MediaId", media_id.as_str());
                out.push_str("</Voice>");
            }
            Reply::Video {
                media_id,
                title,
                description,
            } => {
                out.push_str("<Video>");
                cdata_element!(&mut out, "MediaId", media_id.as_str());
                push_optional(&mut out, "Title", title.as_deref());
                push_optional(&mut out, "Description", description.as_deref());
                out.push_str("</Video>");
            }
            Reply::Music {
                title,
                description,
                music_url,
                hq_music_url,
                thumb_media_id,
            } => {
                out.push_str("<Music>");
                push_optional(&mut out, "Title", title.as_deref());
                push_optional(&mut out, "Description", description.as_deref());
                push_optional(&mut out, "MusicUrl", music_url.as_deref());
                push_optional(&mut out, "HQMusicUrl", hq_music_url.as_deref());
                push_optional(
                    &mut out,
                    "ThumbMediaId",
                    thumb_media_id.as_ref().map(MediaId::as_str),
                );
                out.push_str("</Music>");
            }
            Reply::News { articles } => {
                push_text_element(&mut out, "ArticleCount", articles.len());
                out.push_str("<Articles>");
                for article in articles {
                    out.push_str("<item>");
                    cdata_element!(&mut out, "Title", &article.title);
                    cdata_element!(&mut out, "Description", &article.description);
                    cdata_element!(&mut out, "PicUrl", &article.pic_url);
                    cdata_element!(&mut out, "Url", &article.url);
                    out.push_str("</item>");
                }
                out.push_str("</Articles>");
            }
            Reply::TransferCustomerService { kf_account } => {
                if let Some(account) = kf_account {
                    out.push_str("<TransInfo>");
                    cdata_element!(&mut out, "KfAccount", account);
                    out.push_str("</TransInfo>");
                }
            }
        }
        out.push_str("</xml>");
        out
    }

    /// Parses a reply document, as WeChat does when it reads the callback's answer.
    pub fn parse(input: &[u8]) -> Result<ReplyMessage, XmlError> {
        let root = ElementRef::parse(input)?;
        expect_xml_root(root.name())?;
        let required =
            |name: &'static str| root.child_text(name).ok_or(XmlError::MissingField(name));
        let to = OpenId::new(required("ToUserName")?);
        let from = AccountId::new(required("FromUserName")?);
        let create_time =
            required("CreateTime")?
                .trim()
                .parse()
                .map_err(|_| XmlError::InvalidField {
                    field: "CreateTime",
                })?;
        let inner = |outer: &'static str, name: &str| {
            root.child(outer)
                .and_then(|o| o.child_text(name))
                .map(str::to_owned)
        };
        let media = |outer: &'static str| {
            inner(outer, "MediaId")
                .map(MediaId::new)
                .ok_or(XmlError::MissingField("MediaId"))
        };
        let reply = match required("MsgType")? {
            "text" => Reply::Text {
                content: required("Content")?.to_owned(),
            },
            "image" => Reply::Image {
                media_id: media("Image")?,
            },
            "voice" => Reply::Voice {
                media_id: media("Voice")?,
            },
            "video" => Reply::Video {
                media_id: media("Video")?,
                title: inner("Video", "Title"),
                description: inner("Video", "Description"),
            },
            "music" => Reply::Music {
                title: inner("Music", "Title"),
                description: inner("Music", "Description"),
                music_url: inner("Music", "MusicUrl"),
                hq_music_url: inner("Music", "HQMusicUrl"),
                thumb_media_id: inner("Music", "ThumbMediaId").map(MediaId::new),
            },
            "news" => {
                let articles: Vec<Article> = root
                    .child("Articles")
                    .map(|list| {
                        list.children()
                            .iter()
                            .map(|item| Article {
                                title: item.child_text("Title").unwrap_or_default().to_owned(),
                                description: item
                                    .child_text("Description")
                                    .unwrap_or_default()
                                    .to_owned(),
                                pic_url: item.child_text("PicUrl").unwrap_or_default().to_owned(),
                                url: item.child_text("Url").unwrap_or_default().to_owned(),
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let count: usize = required("ArticleCount")?.trim().parse().map_err(|_| {
                    XmlError::InvalidField {
                        field: "ArticleCount",
                    }
                })?;
                if count != articles.len() {
                    return Err(XmlError::InvalidField {
                        field: "ArticleCount",
                    });
                }
                Reply::News { articles }
            }
            "transfer_customer_service" => Reply::TransferCustomerService {
                kf_account: inner("TransInfo", "KfAccount"),
            },
            _ => return Err(XmlError::InvalidField { field: "MsgType" }),
        };
        Ok(ReplyMessage {
            to,
            from,
            create_time,
            reply,
        })
    }
}

fn push_optional(out: &mut String, name: &str, value: Option<&str>) {
    if let Some(value) = value {
        push_cdata_element(out, name, value);
    }
}

/// The whole body a callback answers with: `success`, an empty body, or a reply document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PassiveReply {
    /// The literal `success`: "received, nothing to say". Stops WeChat's retries.
    Success,
    /// An empty body: same effect as `success`.
    Empty,
    /// A reply message.
    Message(ReplyMessage),
}

impl PassiveReply {
    /// The literal body WeChat accepts as "no reply".
    pub const SUCCESS: &'static str = "success";

    /// Reads a callback's answer as WeChat would: `success`, empty, or a reply document.
    pub fn parse(body: &[u8]) -> Result<PassiveReply, XmlError> {
        let trimmed = body.trim_ascii();
        if trimmed.is_empty() {
            return Ok(PassiveReply::Empty);
        }
        if trimmed == Self::SUCCESS.as_bytes() {
            return Ok(PassiveReply::Success);
        }
        ReplyMessage::parse(body).map(PassiveReply::Message)
    }

    /// The body to send.
    pub fn to_body(&self) -> String {
        match self {
            PassiveReply::Success => Self::SUCCESS.to_owned(),
            PassiveReply::Empty => String::new(),
            PassiveReply::Message(msg) => msg.to_xml(),
        }
    }
}
