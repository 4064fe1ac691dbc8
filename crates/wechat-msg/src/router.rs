//! A [`Handler`] that picks another handler by message type, event, key or text.

use std::fmt;
use std::sync::Arc;

use regex::Regex;
use wechat_types::xml::{Event, Message, MessageBody};

use crate::handler::{Handler, IntoHandler, ReplyFuture};

/// Routes each message to the first route that matches it, in the order the routes were added,
/// or to the fallback; with no fallback an unmatched message is answered with `success`.
///
/// Routes match by message type ([`Router::msg_type`]), event ([`Router::event`], case
/// insensitive), event key ([`Router::event_key`], [`Router::menu`]), text ([`Router::text`],
/// [`Router::text_prefix`], [`Router::text_regex`]) or any predicate ([`Router::when`]). A
/// handler is an async closure taking the [`Message`], one taking [`State`](crate::State) and the
/// `Message`, or any [`Handler`].
///
/// ```
/// use regex::Regex;
/// use wechat_msg::Router;
/// use wechat_types::xml::{Message, MessageBody, Reply};
///
/// let router = Router::new()
///     .text("help", |_msg: Message| async { Some(Reply::text("Try: weather <city>")) })
///     .text_regex(Regex::new(r"^weather (\w+)$").unwrap(), |msg: Message| async move {
///         let MessageBody::Text { content, .. } = &msg.body else { return None };
///         Some(Reply::text(format!("Sunny in {}", &content[8..])))
///     })
///     .event("subscribe", |_msg: Message| async { Some(Reply::text("Welcome!")) })
///     .menu("V1001_TODAY_MUSIC", |_msg: Message| async { Some(Reply::text("Today's pick…")) })
///     .fallback(|_msg: Message| async { None });
/// # let _ = router;
/// ```
pub struct Router<S = ()> {
    state: Arc<S>,
    routes: Vec<Route>,
    fallback: Option<Arc<dyn Handler>>,
}

struct Route {
    matcher: Matcher,
    handler: Arc<dyn Handler>,
}

enum Matcher {
    MsgType(String),
    Event(String),
    EventKey { event: String, key: String },
    Menu(String),
    Text(String),
    TextPrefix(String),
    TextRegex(Regex),
    When(Box<dyn Fn(&Message) -> bool + Send + Sync>),
}

impl Matcher {
    fn matches(&self, msg: &Message) -> bool {
        match self {
            Matcher::MsgType(kind) => msg.body.msg_type().eq_ignore_ascii_case(kind),
            Matcher::Event(name) => event(msg).is_some_and(|e| e.name().eq_ignore_ascii_case(name)),
            Matcher::EventKey { event: name, key } => event(msg).is_some_and(|e| {
                e.name().eq_ignore_ascii_case(name) && e.key().as_deref() == Some(key)
            }),
            Matcher::Menu(key) => event(msg).and_then(Event::menu_key) == Some(key.as_str()),
            Matcher::Text(exact) => text(msg) == Some(exact.as_str()),
            Matcher::TextPrefix(prefix) => {
                text(msg).is_some_and(|t| t.starts_with(prefix.as_str()))
            }
            Matcher::TextRegex(re) => text(msg).is_some_and(|t| re.is_match(t)),
            Matcher::When(predicate) => predicate(msg),
        }
    }
}

fn event(msg: &Message) -> Option<&Event> {
    match &msg.body {
        MessageBody::Event(event) => Some(event),
        _ => None,
    }
}

fn text(msg: &Message) -> Option<&str> {
    match &msg.body {
        MessageBody::Text { content, .. } => Some(content),
        _ => None,
    }
}

impl Router<()> {
    /// A router without shared state.
    pub fn new() -> Self {
        Self::with_state(())
    }
}

impl Default for Router<()> {
    fn default() -> Self {
        Self::new()
    }
}

impl<S: Send + Sync + 'static> Router<S> {
    /// A router whose handlers may ask for `state` as [`State<S>`](crate::State).
    pub fn with_state(state: S) -> Self {
        Self::with_shared_state(Arc::new(state))
    }

    /// Like [`Router::with_state`], with state that is already shared.
    pub fn with_shared_state(state: Arc<S>) -> Self {
        Self {
            state,
            routes: Vec::new(),
            fallback: None,
        }
    }

    /// The shared state.
    pub fn state(&self) -> &Arc<S> {
        &self.state
    }

    fn route<M>(mut self, matcher: Matcher, handler: impl IntoHandler<S, M>) -> Self {
        let handler = handler.into_handler(&self.state);
        self.routes.push(Route { matcher, handler });
        self
    }

    /// Messages of a `MsgType` (`text`, `image`, `voice`, `video`, `shortvideo`, `location`,
    /// `link`, `event`, or one this crate does not know), case insensitive.
    pub fn msg_type<M>(self, msg_type: impl Into<String>, handler: impl IntoHandler<S, M>) -> Self {
        self.route(Matcher::MsgType(msg_type.into()), handler)
    }

    /// Events by name (`subscribe`, `SCAN`, `CLICK`, `TEMPLATESENDJOBFINISH`…), case insensitive.
    pub fn event<M>(self, event: impl Into<String>, handler: impl IntoHandler<S, M>) -> Self {
        self.route(Matcher::Event(event.into()), handler)
    }

    /// Events by name (case insensitive) and exact `EventKey` as WeChat sends it: the scene of a
    /// `SCAN`, `qrscene_…` for a scan-to-follow `subscribe`, a `CLICK` key, a `VIEW` URL.
    pub fn event_key<M>(
        self,
        event: impl Into<String>,
        key: impl Into<String>,
        handler: impl IntoHandler<S, M>,
    ) -> Self {
        let matcher = Matcher::EventKey {
            event: event.into(),
            key: key.into(),
        };
        self.route(matcher, handler)
    }

    /// Taps on the menu button with this `key`: `CLICK` events, and the `scancode_*`, `pic_*` and
    /// `location_select` events such a button starts.
    pub fn menu<M>(self, key: impl Into<String>, handler: impl IntoHandler<S, M>) -> Self {
        self.route(Matcher::Menu(key.into()), handler)
    }

    /// Text messages whose content is exactly `content`.
    pub fn text<M>(self, content: impl Into<String>, handler: impl IntoHandler<S, M>) -> Self {
        self.route(Matcher::Text(content.into()), handler)
    }

    /// Text messages whose content starts with `prefix`.
    pub fn text_prefix<M>(
        self,
        prefix: impl Into<String>,
        handler: impl IntoHandler<S, M>,
    ) -> Self {
        self.route(Matcher::TextPrefix(prefix.into()), handler)
    }

    /// Text messages whose content matches `regex` (anchor it with `^…$` for a whole match).
    pub fn text_regex<M>(self, regex: Regex, handler: impl IntoHandler<S, M>) -> Self {
        self.route(Matcher::TextRegex(regex), handler)
    }

    /// Messages for which `predicate` holds.
    pub fn when<M>(
        self,
        predicate: impl Fn(&Message) -> bool + Send + Sync + 'static,
        handler: impl IntoHandler<S, M>,
    ) -> Self {
        self.route(Matcher::When(Box::new(predicate)), handler)
    }

    /// What answers a message no route matches.
    pub fn fallback<M>(mut self, handler: impl IntoHandler<S, M>) -> Self {
        self.fallback = Some(handler.into_handler(&self.state));
        self
    }

    /// The handler that would answer `msg`, if any.
    fn pick(&self, msg: &Message) -> Option<&Arc<dyn Handler>> {
        self.routes
            .iter()
            .find(|route| route.matcher.matches(msg))
            .map(|route| &route.handler)
            .or(self.fallback.as_ref())
    }
}

/// Written out rather than with `async_trait`: the router hands back the picked handler's own
/// future, so a push pays for one boxed future, not two nested ones.
impl<S: Send + Sync + 'static> Handler for Router<S> {
    fn handle<'s, 'm, 'f>(&'s self, msg: &'m Message) -> ReplyFuture<'f>
    where
        's: 'f,
        'm: 'f,
        Self: 'f,
    {
        match self.pick(msg) {
            Some(handler) => handler.handle(msg),
            None => Box::pin(std::future::ready(None)),
        }
    }

    fn handle_owned<'s, 'f>(&'s self, msg: Message) -> ReplyFuture<'f>
    where
        's: 'f,
        Self: 'f,
    {
        match self.pick(&msg) {
            Some(handler) => handler.handle_owned(msg),
            None => Box::pin(std::future::ready(None)),
        }
    }

    fn handle_shared(self: Arc<Self>, msg: Message) -> ReplyFuture<'static> {
        match self.pick(&msg) {
            Some(handler) => Arc::clone(handler).handle_shared(msg),
            None => Box::pin(std::future::ready(None)),
        }
    }
}

impl<S> fmt::Debug for Router<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Router")
            .field("routes", &self.routes.len())
            .field("fallback", &self.fallback.is_some())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::State;
    use async_trait::async_trait;
    use wechat_types::xml::Reply;

    fn parse(xml: &str) -> Message {
        Message::parse(xml.as_bytes()).unwrap()
    }

    fn text_msg(content: &str) -> Message {
        parse(&format!(
            "<xml><ToUserName>gh</ToUserName><FromUserName>o</FromUserName><CreateTime>1</CreateTime>\
             <MsgType>text</MsgType><Content><![CDATA[{content}]]></Content><MsgId>1</MsgId></xml>"
        ))
    }

    fn event_msg(event: &str, key: Option<&str>) -> Message {
        let key = key
            .map(|k| format!("<EventKey><![CDATA[{k}]]></EventKey>"))
            .unwrap_or_default();
        parse(&format!(
            "<xml><ToUserName>gh</ToUserName><FromUserName>o</FromUserName><CreateTime>1</CreateTime>\
             <MsgType>event</MsgType><Event>{event}</Event>{key}</xml>"
        ))
    }

    fn tag(name: &'static str) -> impl Fn(Message) -> std::future::Ready<Option<Reply>> + Clone {
        move |_| std::future::ready(Some(Reply::text(name)))
    }

    async fn answer(router: &Router<impl Send + Sync + 'static>, msg: &Message) -> Option<String> {
        match router.handle(msg).await {
            Some(Reply::Text { content }) => Some(content),
            Some(other) => panic!("unexpected {other:?}"),
            None => None,
        }
    }

    fn full_router() -> Router {
        Router::new()
            .text("help", tag("exact"))
            .text_prefix("echo ", tag("prefix"))
            .text_regex(Regex::new(r"^\d+$").unwrap(), tag("regex"))
            .event_key("subscribe", "qrscene_7", tag("scene7"))
            .event("subscribe", tag("subscribe"))
            .menu("K1", tag("menu"))
            .event("view", tag("view"))
            .msg_type("image", tag("image"))
            .when(|m| m.from == "special", tag("when"))
    }

    #[tokio::test]
    async fn routes_in_order_to_the_first_match() {
        let router = full_router();
        let cases = [
            (text_msg("help"), Some("exact")),
            (text_msg("echo hi"), Some("prefix")),
            (text_msg("12345"), Some("regex")),
            (text_msg("help me"), None),
            (event_msg("subscribe", Some("qrscene_7")), Some("scene7")),
            (event_msg("subscribe", None), Some("subscribe")),
            (event_msg("SUBSCRIBE", Some("qrscene_8")), Some("subscribe")),
            (event_msg("CLICK", Some("K1")), Some("menu")),
            (event_msg("scancode_push", Some("K1")), Some("menu")),
            (event_msg("CLICK", Some("K2")), None),
            (event_msg("VIEW", Some("https://x")), Some("view")),
            (
                parse(
                    "<xml><ToUserName>gh</ToUserName><FromUserName>o</FromUserName><CreateTime>1</CreateTime>\
                     <MsgType>image</MsgType><PicUrl>u</PicUrl><MediaId>m</MediaId><MsgId>2</MsgId></xml>",
                ),
                Some("image"),
            ),
        ];
        for (msg, expected) in cases {
            assert_eq!(answer(&router, &msg).await.as_deref(), expected, "{msg:?}");
        }
        let mut special = text_msg("anything");
        special.from = "special".into();
        assert_eq!(answer(&router, &special).await.as_deref(), Some("when"));
    }

    #[tokio::test]
    async fn fallback_answers_what_nothing_matched() {
        let router = full_router().fallback(tag("fallback"));
        assert_eq!(
            answer(&router, &text_msg("zzz")).await.as_deref(),
            Some("fallback")
        );
        assert_eq!(
            answer(&router, &text_msg("help")).await.as_deref(),
            Some("exact")
        );
    }

    #[tokio::test]
    async fn stateful_handlers_and_trait_objects() {
        struct Fixed;
        #[async_trait]
        impl Handler for Fixed {
            async fn handle(&self, _msg: &Message) -> Option<Reply> {
                Some(Reply::text("trait"))
            }
        }
        let router = Router::with_state(String::from("from state"))
            .text("state", |s: State<String>, _m: Message| async move {
                Some(Reply::text(s.as_str()))
            })
            .text("trait", Fixed)
            .fallback(Arc::new(Fixed) as Arc<dyn Handler>);
        assert_eq!(
            answer(&router, &text_msg("state")).await.as_deref(),
            Some("from state")
        );
        assert_eq!(
            answer(&router, &text_msg("trait")).await.as_deref(),
            Some("trait")
        );
        assert_eq!(
            answer(&router, &text_msg("other")).await.as_deref(),
            Some("trait")
        );
    }
}
