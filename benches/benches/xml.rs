//! The XML side of wechat-types: parsing every kind of push (the official fixtures of
//! `crates/wechat-types/tests/fixtures`), and rendering every kind of passive reply.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput};
use wechat_types::xml::{Article, Message, Reply, ReplyMessage};

/// Every fixture: each message type, each event, an unknown type and an unknown event.
const FIXTURES: &[&str] = &[
    "text",
    "image",
    "voice",
    "video",
    "shortvideo",
    "location",
    "link",
    "event_subscribe",
    "event_subscribe_scene",
    "event_unsubscribe",
    "event_scan",
    "event_location",
    "event_click",
    "event_view",
    "event_scancode_push",
    "event_scancode_waitmsg",
    "event_pic_sysphoto",
    "event_pic_photo_or_album",
    "event_pic_weixin",
    "event_location_select",
    "event_view_miniprogram",
    "event_templatesendjobfinish",
    "event_masssendjobfinish",
    "event_unknown",
    "unknown_type",
];

fn fixture(name: &str) -> String {
    let path = format!(
        "{}/../crates/wechat-types/tests/fixtures/{name}.xml",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn parse(c: &mut Criterion) {
    let mut group = c.benchmark_group("parse");
    for name in FIXTURES {
        let xml = fixture(name);
        group.throughput(Throughput::Bytes(xml.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(name), &xml, |b, xml| {
            b.iter(|| Message::parse(black_box(xml.as_bytes())))
        });
    }
    group.finish();
}

fn render(c: &mut Criterion) {
    let replies = [
        ("text", Reply::text("你好，这是一条回复 hello")),
        ("image", Reply::image("media_1")),
        (
            "voice",
            Reply::Voice {
                media_id: "media_2".into(),
            },
        ),
        (
            "video",
            Reply::Video {
                media_id: "media_3".into(),
                title: Some("标题".into()),
                description: Some("描述".into()),
            },
        ),
        (
            "music",
            Reply::Music {
                title: Some("歌".into()),
                description: Some("d".into()),
                music_url: Some("http://m/1.mp3".into()),
                hq_music_url: Some("http://m/1hq.mp3".into()),
                thumb_media_id: Some("thumb".into()),
            },
        ),
        (
            "news",
            Reply::news(vec![Article {
                title: "标题".into(),
                description: "描述".into(),
                pic_url: "http://p/1.jpg".into(),
                url: "http://u/1".into(),
            }]),
        ),
        (
            "transfer_customer_service",
            Reply::TransferCustomerService { kf_account: None },
        ),
    ];
    let mut group = c.benchmark_group("render");
    for (name, reply) in replies {
        let message = ReplyMessage {
            to: "oyORnuP8q7ou2gfYjqLzSIWZf0rs".into(),
            from: "gh_10f6c3c3ac5a".into(),
            create_time: 1_700_000_000,
            reply,
        };
        group.bench_with_input(BenchmarkId::from_parameter(name), &message, |b, message| {
            b.iter(|| black_box(message).to_xml())
        });
    }
    group.finish();
}

fn main() {
    let mut criterion = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(1))
        .configure_from_args();
    parse(&mut criterion);
    render(&mut criterion);
    criterion.final_summary();
}
