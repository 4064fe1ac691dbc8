//! The JSON the admin API and the console read: conversation entries, replies and outcomes.
//!
//! An account message (a passive reply or a custom-service message) has one shape whichever way
//! it came: `{"msgtype": "text", "content": …}`, `{"msgtype": "news", "articles": [{"title",
//! "description", "pic_url", "url"}]}`, `{"msgtype": "music", "title", "description",
//! "music_url", "hq_music_url", "thumb_media_id"}`, `{"msgtype": "image"|"voice", "media_id"}`,
//! `{"msgtype": "video", "media_id", "title", "description"}`, `{"msgtype":
//! "transfer_customer_service", "kf_account"}`, and the custom-service-only types with their own
//! fields.

use serde_json::{Map, Value, json};
use wechat_types::api::{CustomMessage, CustomMessageBody};
use wechat_types::xml::{Event, MessageBody, PassiveReply, Reply};

use super::{ConversationEntry, EntryKind, PushOutcome};

pub(crate) fn entry_json(entry: &ConversationEntry) -> Value {
    let mut value = match &entry.kind {
        EntryKind::UserSent(body) => {
            let mut v = message_json(body);
            v.insert("kind".into(), "user".into());
            Value::Object(v)
        }
        EntryKind::PassiveReply(reply) => {
            let mut v = reply_json(reply);
            v.insert("kind".into(), "reply".into());
            Value::Object(v)
        }
        EntryKind::CustomService(message) => {
            let mut v = custom_json(message);
            v.insert("kind".into(), "custom".into());
            Value::Object(v)
        }
        EntryKind::Problem(text) => json!({ "kind": "problem", "text": text }),
        EntryKind::Notice(text) => json!({ "kind": "notice", "text": text }),
    };
    if let Value::Object(map) = &mut value {
        map.insert("seq".into(), entry.seq.into());
        map.insert("at".into(), entry.at.into());
    }
    value
}

pub(crate) fn outcome_json(outcome: &PushOutcome) -> Value {
    let reply = match &outcome.reply {
        None => Value::Null,
        Some(PassiveReply::Success) => json!({ "kind": "success" }),
        Some(PassiveReply::Empty) => json!({ "kind": "empty" }),
        Some(PassiveReply::Message(message)) => {
            let mut v = reply_json(&message.reply);
            v.insert("kind".into(), "message".into());
            v.insert("to".into(), message.to.as_str().into());
            v.insert("from".into(), message.from.as_str().into());
            v.insert("create_time".into(), message.create_time.into());
            Value::Object(v)
        }
    };
    json!({
        "ok": outcome.problem.is_none(),
        "attempts": outcome.attempts,
        "reply": reply,
        "problem": outcome.problem,
        "notice": outcome.notice,
        // As a string: JavaScript numbers cannot hold a 64-bit MsgId exactly.
        "msg_id": outcome.msg_id.map(|id| id.to_string()),
    })
}

/// A message or event the user sent, with a `summary` line for people.
pub(crate) fn message_json(body: &MessageBody) -> Map<String, Value> {
    let mut v = Map::new();
    v.insert("msgtype".into(), body.msg_type().into());
    if let Some(id) = body.msg_id() {
        v.insert("msg_id".into(), id.to_string().into());
    }
    let summary = match body {
        MessageBody::Text { content, .. } => {
            v.insert("content".into(), content.as_str().into());
            content.clone()
        }
        MessageBody::Image { pic_url, .. } => {
            v.insert("pic_url".into(), pic_url.as_str().into());
            "[图片]".to_owned()
        }
        MessageBody::Voice { recognition, .. } => {
            v.insert("recognition".into(), recognition.clone().into());
            match recognition {
                Some(text) => format!("[语音] {text}"),
                None => "[语音]".to_owned(),
            }
        }
        MessageBody::Video { .. } => "[视频]".to_owned(),
        MessageBody::ShortVideo { .. } => "[小视频]".to_owned(),
        MessageBody::Location {
            latitude,
            longitude,
            label,
            ..
        } => {
            v.insert("lat".into(), (*latitude).into());
            v.insert("lon".into(), (*longitude).into());
            v.insert("label".into(), label.as_str().into());
            format!("[位置] {label}")
        }
        MessageBody::Link { title, url, .. } => {
            v.insert("title".into(), title.as_str().into());
            v.insert("url".into(), url.as_str().into());
            format!("[链接] {title}")
        }
        MessageBody::Event(event) => {
            v.insert("event".into(), event.name().into());
            if let Some(key) = event.key() {
                v.insert("key".into(), key.into());
            }
            event_summary(event)
        }
        _ => format!("[{}]", body.msg_type()),
    };
    v.insert("summary".into(), summary.into());
    v
}

fn event_summary(event: &Event) -> String {
    match event {
        Event::Subscribe { scene: Some(s), .. } => format!("扫码关注了公众号（场景 {}）", s.0),
        Event::Subscribe { scene: None, .. } => "关注了公众号".to_owned(),
        Event::Unsubscribe => "取消关注了公众号".to_owned(),
        Event::Scan { scene, .. } => format!("扫描了带参数二维码（场景 {}）", scene.0),
        Event::Location {
            latitude,
            longitude,
            ..
        } => format!("上报了地理位置 {latitude}, {longitude}"),
        Event::Click { key } => format!("点击了菜单（{key}）"),
        Event::View { url, .. } => format!("打开了菜单链接 {url}"),
        Event::ScancodePush { scan, .. } | Event::ScancodeWaitmsg { scan, .. } => {
            format!("扫码：{}", scan.scan_result)
        }
        Event::PicSysphoto { pics, .. }
        | Event::PicPhotoOrAlbum { pics, .. }
        | Event::PicWeixin { pics, .. } => format!("发送了 {} 张图片", pics.count),
        Event::LocationSelect { location, .. } => format!("选择了位置 {}", location.label),
        Event::ViewMiniprogram { page_path, .. } => format!("打开了小程序 {page_path}"),
        other => format!("事件 {}", other.name()),
    }
}

pub(crate) fn reply_json(reply: &Reply) -> Map<String, Value> {
    let value = match reply {
        Reply::Text { content } => json!({ "content": content }),
        Reply::Image { media_id } | Reply::Voice { media_id } => {
            json!({ "media_id": media_id.as_str() })
        }
        Reply::Video {
            media_id,
            title,
            description,
        } => json!({ "media_id": media_id.as_str(), "title": title, "description": description }),
        Reply::Music {
            title,
            description,
            music_url,
            hq_music_url,
            thumb_media_id,
        } => json!({
            "title": title, "description": description, "music_url": music_url,
            "hq_music_url": hq_music_url,
            "thumb_media_id": thumb_media_id.as_ref().map(|m| m.as_str()),
        }),
        Reply::News { articles } => json!({
            "articles": articles.iter().map(|a| json!({
                "title": a.title, "description": a.description, "pic_url": a.pic_url, "url": a.url,
            })).collect::<Vec<_>>()
        }),
        Reply::TransferCustomerService { kf_account } => json!({ "kf_account": kf_account }),
        // `Reply` is non-exhaustive: a newer type still shows its name.
        _ => json!({}),
    };
    let mut map = match value {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    map.insert("msgtype".into(), reply.msg_type().into());
    map
}

pub(crate) fn custom_json(message: &CustomMessage) -> Map<String, Value> {
    let value = match &message.body {
        CustomMessageBody::Text { text } => json!({ "content": text.content }),
        CustomMessageBody::Image { image: media }
        | CustomMessageBody::Voice { voice: media }
        | CustomMessageBody::Mpnews { mpnews: media } => json!({ "media_id": media.media_id }),
        CustomMessageBody::Video { video } => json!({
            "media_id": video.media_id, "title": video.title, "description": video.description,
        }),
        CustomMessageBody::Music { music } => json!({
            "title": music.title, "description": music.description, "music_url": music.musicurl,
            "hq_music_url": music.hqmusicurl, "thumb_media_id": music.thumb_media_id,
        }),
        CustomMessageBody::News { news } => json!({
            "articles": news.articles.iter().map(|a| json!({
                "title": a.title, "description": a.description, "pic_url": a.picurl, "url": a.url,
            })).collect::<Vec<_>>()
        }),
        CustomMessageBody::Mpnewsarticle { mpnewsarticle } => {
            json!({ "article_id": mpnewsarticle.article_id })
        }
        CustomMessageBody::Msgmenu { msgmenu } => json!({
            "head_content": msgmenu.head_content,
            "list": msgmenu.list.iter().map(|o| json!({ "id": o.id, "content": o.content })).collect::<Vec<_>>(),
            "tail_content": msgmenu.tail_content,
        }),
        CustomMessageBody::Wxcard { wxcard } => json!({ "card_id": wxcard.card_id }),
        CustomMessageBody::Miniprogrampage { miniprogrampage } => json!({
            "title": miniprogrampage.title, "appid": miniprogrampage.appid,
            "pagepath": miniprogrampage.pagepath,
        }),
        _ => json!({}),
    };
    let mut map = match value {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    map.insert("msgtype".into(), message.body.msg_type().into());
    map
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::push::UserAction;
    use wechat_types::xml::Article;

    #[test]
    fn entries_carry_kind_seq_and_content() {
        let entry = ConversationEntry {
            seq: 3,
            at: 9,
            kind: EntryKind::UserSent(UserAction::click("K")),
        };
        let v = entry_json(&entry);
        assert_eq!(v["kind"], "user");
        assert_eq!(v["seq"], 3);
        assert_eq!(v["event"], "CLICK");
        assert_eq!(v["key"], "K");
        let news = Reply::news(vec![Article {
            title: "T".into(),
            ..Article::default()
        }]);
        let v = entry_json(&ConversationEntry {
            seq: 4,
            at: 9,
            kind: EntryKind::PassiveReply(news),
        });
        assert_eq!(v["kind"], "reply");
        assert_eq!(v["msgtype"], "news");
        assert_eq!(v["articles"][0]["title"], "T");
        let v = entry_json(&ConversationEntry {
            seq: 5,
            at: 9,
            kind: EntryKind::CustomService(CustomMessage::text("o".into(), "late")),
        });
        assert_eq!(
            (v["kind"].as_str(), v["content"].as_str()),
            (Some("custom"), Some("late"))
        );
    }
}
