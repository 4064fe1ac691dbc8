use proptest::prelude::*;
use wechat_types::xml::{Element, Message, PassiveReply, ReplyMessage};

use crate::fixture;

fn all_parsers(input: &[u8]) {
    let _ = Element::parse(input);
    let _ = Message::parse(input);
    let _ = ReplyMessage::parse(input);
    let _ = PassiveReply::parse(input);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    /// Any bytes give Ok or a typed error, never a panic.
    #[test]
    fn arbitrary_bytes_never_panic(input in proptest::collection::vec(any::<u8>(), 0..512)) {
        all_parsers(&input);
    }

    /// XML-looking input (tags, CDATA, entities, DOCTYPE fragments) never panics either.
    #[test]
    fn xmlish_input_never_panics(input in "(<xml>|</xml>|<MsgType>|</MsgType>|<!\\[CDATA\\[|\\]\\]>|text|event|<Event>|</Event>|&amp;|&#x0;|&#99999999;|<!DOCTYPE|<!ENTITY|<\\?xml|[a-zA-Z0-9 <>/&;\"'=])*") {
        all_parsers(input.as_bytes());
    }

    /// Truncating or corrupting a real push gives Ok or a typed error.
    #[test]
    fn corrupted_fixtures_never_panic(cut in 0usize..400, flip in 0usize..400, byte in any::<u8>()) {
        let mut input = fixture("event_pic_photo_or_album").into_bytes();
        if flip < input.len() {
            input[flip] = byte;
        }
        input.truncate(cut.min(input.len()));
        all_parsers(&input);
    }
}
