//! The XML side of wechat-types: parsing every kind of push (the official fixtures of
//! `crates/wechat-types/tests/fixtures`), and rendering every kind of passive reply.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput};
use wechat_types::xml::{Article, Message, Reply, ReplyMessage};

/// Every push fixture of wechat-types' tests (each message type, each event, an unknown type and
/// an unknown event), read from the directory so a new fixture is benched without an edit here.
fn fixtures() -> Vec<(String, String)> {
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../crates/wechat-types/tests/fixtures"
    );
    let mut all: Vec<(String, String)> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "xml"))
        .map(|path| {
            let name = path
                .file_stem()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            let xml = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
            (name, xml)
        })
        .collect();
    all.sort();
    all
}

fn parse(c: &mut Criterion) {
    let mut group = c.benchmark_group("parse");
    for (name, xml) in fixtures() {
        group.throughput(Throughput::Bytes(xml.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(&name), &xml, |b, xml| {
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
