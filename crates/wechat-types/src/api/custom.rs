use serde::{Deserialize, Serialize};

use crate::id::OpenId;
use crate::xml::Reply;

/// The body of `POST cgi-bin/message/custom/send`: a customer-service message to one user.
///
/// ```
/// use wechat_types::api::{CustomMessage, CustomMessageBody};
///
/// let msg = CustomMessage::text("oUser".into(), "hi");
/// assert!(matches!(msg.body, CustomMessageBody::Text { .. }));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomMessage {
    /// The user.
    pub touser: OpenId,
    /// What to send.
    #[serde(flatten)]
    pub body: CustomMessageBody,
    /// Send as a specific customer-service agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customservice: Option<KfAccount>,
}

impl CustomMessage {
    /// A text message.
    pub fn text(touser: OpenId, content: impl Into<String>) -> Self {
        Self::new(
            touser,
            CustomMessageBody::Text {
                text: TextContent {
                    content: content.into(),
                },
            },
        )
    }

    /// A message of any type.
    pub fn new(touser: OpenId, body: CustomMessageBody) -> Self {
        Self {
            touser,
            body,
            customservice: None,
        }
    }

    /// The custom-service message that says what the passive `reply` says, for a reply that
    /// could not go out in time (the callback's 5-second rule). `None` for
    /// `transfer_customer_service`, which has no custom-service form.
    ///
    /// A music reply without a URL or thumbnail gets empty strings there (the custom-service API
    /// requires the fields).
    ///
    /// ```
    /// use wechat_types::api::{CustomMessage, CustomMessageBody};
    /// use wechat_types::xml::Reply;
    ///
    /// let msg = CustomMessage::from_reply("oUser".into(), &Reply::text("late answer")).unwrap();
    /// assert_eq!(msg, CustomMessage::text("oUser".into(), "late answer"));
    /// assert!(CustomMessage::from_reply(
    ///     "oUser".into(),
    ///     &Reply::TransferCustomerService { kf_account: None }
    /// )
    /// .is_none());
    /// ```
    pub fn from_reply(touser: OpenId, reply: &Reply) -> Option<Self> {
        let media = |id: &crate::MediaId| MediaContent {
            media_id: id.as_str().to_owned(),
        };
        let body = match reply {
            Reply::Text { content } => CustomMessageBody::Text {
                text: TextContent {
                    content: content.clone(),
                },
            },
            Reply::Image { media_id } => CustomMessageBody::Image {
                image: media(media_id),
            },
            Reply::Voice { media_id } => CustomMessageBody::Voice {
                voice: media(media_id),
            },
            Reply::Video {
                media_id,
                title,
                description,
            } => CustomMessageBody::Video {
                video: VideoContent {
                    media_id: media_id.as_str().to_owned(),
                    thumb_media_id: None,
                    title: title.clone(),
                    description: description.clone(),
                },
            },
            Reply::Music {
                title,
                description,
                music_url,
                hq_music_url,
                thumb_media_id,
            } => CustomMessageBody::Music {
                music: MusicContent {
                    title: title.clone(),
                    description: description.clone(),
                    musicurl: music_url.clone().unwrap_or_default(),
                    hqmusicurl: hq_music_url.clone().unwrap_or_default(),
                    thumb_media_id: thumb_media_id
                        .as_ref()
                        .map(|id| id.as_str().to_owned())
                        .unwrap_or_default(),
                },
            },
            Reply::News { articles } => CustomMessageBody::News {
                news: NewsContent {
                    articles: articles
                        .iter()
                        .map(|a| CustomArticle {
                            title: a.title.clone(),
                            description: a.description.clone(),
                            url: a.url.clone(),
                            picurl: a.pic_url.clone(),
                        })
                        .collect(),
                },
            },
            Reply::TransferCustomerService { .. } => return None,
        };
        Some(Self::new(touser, body))
    }
}

/// A customer-service agent account (`customservice.kf_account`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KfAccount {
    /// `account@wechat_id`.
    pub kf_account: String,
}

/// The typed content of a custom-service message, tagged by `msgtype`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "msgtype", rename_all = "lowercase")]
#[non_exhaustive]
pub enum CustomMessageBody {
    /// `text`.
    Text {
        /// `text`.
        text: TextContent,
    },
    /// `image`.
    Image {
        /// `image`.
        image: MediaContent,
    },
    /// `voice`.
    Voice {
        /// `voice`.
        voice: MediaContent,
    },
    /// `video`.
    Video {
        /// `video`.
        video: VideoContent,
    },
    /// `music`.
    Music {
        /// `music`.
        music: MusicContent,
    },
    /// `news`: one external article card.
    News {
        /// `news`.
        news: NewsContent,
    },
    /// `mpnews`: a material article by media_id.
    Mpnews {
        /// `mpnews`.
        mpnews: MediaContent,
    },
    /// `mpnewsarticle`: a published article by article_id.
    Mpnewsarticle {
        /// `mpnewsarticle`.
        mpnewsarticle: ArticleIdContent,
    },
    /// `msgmenu`: a message with tappable options.
    Msgmenu {
        /// `msgmenu`.
        msgmenu: MsgMenuContent,
    },
    /// `wxcard`: a card coupon.
    Wxcard {
        /// `wxcard`.
        wxcard: CardContent,
    },
    /// `miniprogrampage`: a mini program card.
    Miniprogrampage {
        /// `miniprogrampage`.
        miniprogrampage: MiniprogramContent,
    },
}

impl CustomMessageBody {
    /// The `msgtype` value.
    pub fn msg_type(&self) -> &'static str {
        match self {
            CustomMessageBody::Text { .. } => "text",
            CustomMessageBody::Image { .. } => "image",
            CustomMessageBody::Voice { .. } => "voice",
            CustomMessageBody::Video { .. } => "video",
            CustomMessageBody::Music { .. } => "music",
            CustomMessageBody::News { .. } => "news",
            CustomMessageBody::Mpnews { .. } => "mpnews",
            CustomMessageBody::Mpnewsarticle { .. } => "mpnewsarticle",
            CustomMessageBody::Msgmenu { .. } => "msgmenu",
            CustomMessageBody::Wxcard { .. } => "wxcard",
            CustomMessageBody::Miniprogrampage { .. } => "miniprogrampage",
        }
    }
}

/// `{"content": …}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextContent {
    /// The text; may hold `<a href>` links.
    pub content: String,
}

/// `{"media_id": …}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaContent {
    /// The media.
    pub media_id: String,
}

/// The `video` of a custom message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VideoContent {
    /// The video.
    pub media_id: String,
    /// Its thumbnail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumb_media_id: Option<String>,
    /// Title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// The `music` of a custom message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MusicContent {
    /// Title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Music URL.
    pub musicurl: String,
    /// High-quality music URL.
    pub hqmusicurl: String,
    /// Thumbnail.
    pub thumb_media_id: String,
}

/// The `news` of a custom message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewsContent {
    /// The article (WeChat shows one).
    pub articles: Vec<CustomArticle>,
}

/// An article card of a `news` custom message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct CustomArticle {
    /// Title.
    pub title: String,
    /// Description.
    #[serde(default)]
    pub description: String,
    /// Where a tap goes.
    pub url: String,
    /// Picture URL.
    #[serde(default)]
    pub picurl: String,
}

/// `{"article_id": …}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArticleIdContent {
    /// The published article.
    pub article_id: String,
}

/// The `msgmenu` of a custom message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MsgMenuContent {
    /// Text above the options.
    pub head_content: String,
    /// The options.
    pub list: Vec<MenuOption>,
    /// Text below the options.
    pub tail_content: String,
}

/// One option of a `msgmenu`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MenuOption {
    /// Sent back as `bizmsgmenuid` when tapped.
    pub id: String,
    /// The option's text.
    pub content: String,
}

/// `{"card_id": …}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardContent {
    /// The card.
    pub card_id: String,
}

/// The `miniprogrampage` of a custom message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MiniprogramContent {
    /// Title.
    pub title: String,
    /// The mini program.
    pub appid: String,
    /// The page.
    pub pagepath: String,
    /// Card picture.
    pub thumb_media_id: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reply_but_transfer_has_a_custom_form() {
        use crate::xml::Article;
        let cases = [
            (Reply::text("t"), Some("text")),
            (Reply::image("m"), Some("image")),
            (
                Reply::Voice {
                    media_id: "m".into(),
                },
                Some("voice"),
            ),
            (
                Reply::Video {
                    media_id: "m".into(),
                    title: Some("t".into()),
                    description: None,
                },
                Some("video"),
            ),
            (
                Reply::Music {
                    title: None,
                    description: None,
                    music_url: Some("u".into()),
                    hq_music_url: None,
                    thumb_media_id: Some("th".into()),
                },
                Some("music"),
            ),
            (
                Reply::news(vec![Article {
                    title: "a".into(),
                    pic_url: "p".into(),
                    ..Article::default()
                }]),
                Some("news"),
            ),
            (Reply::TransferCustomerService { kf_account: None }, None),
        ];
        for (reply, expected) in cases {
            let msg = CustomMessage::from_reply("o1".into(), &reply);
            assert_eq!(
                msg.as_ref().map(|m| m.body.msg_type()),
                expected,
                "{reply:?}"
            );
            if let Some(msg) = msg {
                assert_eq!(msg.touser, "o1");
            }
        }
        let news = CustomMessage::from_reply(
            "o1".into(),
            &Reply::news(vec![Article {
                title: "a".into(),
                pic_url: "p".into(),
                ..Article::default()
            }]),
        )
        .unwrap();
        let CustomMessageBody::News { news } = news.body else {
            panic!("news")
        };
        assert_eq!(news.articles[0].picurl, "p");
    }

    #[test]
    fn every_msgtype_round_trips_with_its_tag() {
        let bodies = vec![
            CustomMessageBody::Text {
                text: TextContent {
                    content: "中文".into(),
                },
            },
            CustomMessageBody::Image {
                image: MediaContent {
                    media_id: "m".into(),
                },
            },
            CustomMessageBody::Voice {
                voice: MediaContent {
                    media_id: "m".into(),
                },
            },
            CustomMessageBody::Video {
                video: VideoContent {
                    media_id: "m".into(),
                    thumb_media_id: None,
                    title: Some("t".into()),
                    description: None,
                },
            },
            CustomMessageBody::Music {
                music: MusicContent {
                    title: None,
                    description: None,
                    musicurl: "u".into(),
                    hqmusicurl: "h".into(),
                    thumb_media_id: "t".into(),
                },
            },
            CustomMessageBody::News {
                news: NewsContent {
                    articles: vec![CustomArticle {
                        title: "t".into(),
                        url: "u".into(),
                        ..Default::default()
                    }],
                },
            },
            CustomMessageBody::Mpnews {
                mpnews: MediaContent {
                    media_id: "m".into(),
                },
            },
            CustomMessageBody::Mpnewsarticle {
                mpnewsarticle: ArticleIdContent {
                    article_id: "a".into(),
                },
            },
            CustomMessageBody::Msgmenu {
                msgmenu: MsgMenuContent {
                    head_content: "h".into(),
                    list: vec![MenuOption {
                        id: "1".into(),
                        content: "yes".into(),
                    }],
                    tail_content: "t".into(),
                },
            },
            CustomMessageBody::Wxcard {
                wxcard: CardContent {
                    card_id: "c".into(),
                },
            },
            CustomMessageBody::Miniprogrampage {
                miniprogrampage: MiniprogramContent {
                    title: "t".into(),
                    appid: "a".into(),
                    pagepath: "p".into(),
                    thumb_media_id: "m".into(),
                },
            },
        ];
        for body in bodies {
            let msg = CustomMessage::new("o1".into(), body.clone());
            let json = serde_json::to_string(&msg).unwrap();
            assert!(
                json.contains(&format!("\"msgtype\":\"{}\"", body.msg_type())),
                "{json}"
            );
            assert!(!json.contains("\\u"));
            assert_eq!(serde_json::from_str::<CustomMessage>(&json).unwrap(), msg);
        }
    }
}
