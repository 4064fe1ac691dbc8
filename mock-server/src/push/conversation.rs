//! Each fake user's conversation with their account: what the user sent, the passive replies,
//! the custom-service messages the account sent, and what went wrong, in order.

use wechat_types::OpenId;
use wechat_types::api::CustomMessage;
use wechat_types::xml::{MessageBody, Reply};

use crate::bounded::Ring;
use crate::state::State;

/// Entries kept per user; older ones are dropped.
pub(crate) const MAX_ENTRIES: usize = 200;

/// One line of a conversation.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ConversationEntry {
    /// Its number in the conversation, from 1; never reused, so a poller can ask for what came
    /// after the last one it saw.
    pub seq: u64,
    /// When, on the mock clock (unix seconds).
    pub at: i64,
    /// What happened.
    pub kind: EntryKind,
}

/// What a [`ConversationEntry`] records.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum EntryKind {
    /// The user sent a message or caused an event (a menu tap, a follow, a scan…).
    UserSent(MessageBody),
    /// The callback's passive reply, as WeChat accepted it.
    PassiveReply(Reply),
    /// A customer-service message the account sent through `cgi-bin/message/custom/send`.
    CustomService(CustomMessage),
    /// What was wrong with the callback's answer (or the lack of one), on one line.
    Problem(String),
    /// What the user's phone showed because of a problem: WeChat's grey system line
    /// ([`SERVICE_UNAVAILABLE`](crate::SERVICE_UNAVAILABLE)).
    Notice(String),
}

/// A bounded conversation.
#[derive(Debug)]
pub(crate) struct Conversation {
    next_seq: u64,
    entries: Ring<ConversationEntry>,
}

impl Conversation {
    fn new() -> Self {
        Self {
            next_seq: 1,
            entries: Ring::new(MAX_ENTRIES),
        }
    }

    fn push(&mut self, at: i64, kind: EntryKind) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.entries.push(ConversationEntry { seq, at, kind });
    }

    pub(crate) fn entries(&self) -> impl DoubleEndedIterator<Item = &ConversationEntry> {
        self.entries.iter()
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.iter().len()
    }
}

impl State {
    /// Appends to the conversation of a user of the app `app` (nothing for an unknown user, so
    /// conversations never outnumber users).
    pub(crate) fn record_entry(&mut self, app: usize, openid: &OpenId, at: i64, kind: EntryKind) {
        if self.user(app, openid.as_str()).is_none() {
            return;
        }
        self.apps[app]
            .conversations
            .entry(openid.as_str().to_owned())
            .or_insert_with(Conversation::new)
            .push(at, kind);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_numbers_survive_the_bound() {
        let mut conversation = Conversation::new();
        for i in 0..(MAX_ENTRIES as i64 + 5) {
            conversation.push(i, EntryKind::Problem(i.to_string()));
        }
        assert_eq!(conversation.len(), MAX_ENTRIES);
        let first = conversation.entries().next().unwrap();
        assert_eq!(first.seq, 6);
        assert_eq!(first.at, 5);
        assert_eq!(
            conversation.entries().last().unwrap().seq,
            MAX_ENTRIES as u64 + 5
        );
    }
}
