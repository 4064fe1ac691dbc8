//! The XML side of the protocol: a small, safe document reader, the CDATA writer, and the typed
//! messages, events and passive replies built on them.
//!
//! There is one XML reader in the workspace, [`Element::parse`]; the envelope reader in
//! `wechat-crypto` and the mock's reply checker use it too. It refuses a DOCTYPE (so no external or
//! recursive entities can exist), limits nesting and element count, and never panics.

mod element;
mod message;
mod reply;
mod simple;
mod write;

pub use element::{Element, ElementRef, XmlError};
pub use message::{Event, Message, MessageBody, PicInfo, ScanCodeInfo, Scene, SelectedLocation};
pub use reply::{Article, PassiveReply, Reply, ReplyMessage};
pub use write::{push_cdata_element, push_text_element};

/// Offset of the first `]]>` (the end of a CDATA section) in `bytes`.
///
/// One searcher, built once: `memchr::memmem::find` builds a new one on every call, and on the
/// short values of a push that set-up cost more than the scan itself (callgrind: about 400
/// instructions a call, a dozen calls a push).
fn find_cdata_end(bytes: &[u8]) -> Option<usize> {
    static FINDER: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"]]>"));
    FINDER.find(bytes)
}
