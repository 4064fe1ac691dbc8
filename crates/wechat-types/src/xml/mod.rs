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
