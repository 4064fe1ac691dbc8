use std::borrow::Cow;

use quick_xml::Reader;
use quick_xml::events::Event as XmlEvent;

use super::simple::FlatLeaves;

/// Deepest nesting a document may have. WeChat's deepest push (`SendPicsInfo/PicList/item/…`) is 5.
pub(super) const MAX_DEPTH: usize = 16;
/// Most elements a document may have. A `pic_*` event with 9 pictures has about 30.
pub(super) const MAX_ELEMENTS: usize = 4096;

/// Why a document could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum XmlError {
    /// The bytes are not UTF-8.
    #[error("body is not valid UTF-8")]
    NotUtf8,
    /// The document declares a DOCTYPE, which is refused (XXE and entity expansion).
    #[error("XML with a DOCTYPE is refused")]
    Doctype,
    /// The document nests deeper than the reader allows.
    #[error("XML nests deeper than {MAX_DEPTH} levels")]
    TooDeep,
    /// The document has more elements than the reader allows.
    #[error("XML has more than {MAX_ELEMENTS} elements")]
    TooManyElements,
    /// There is no root element.
    #[error("XML has no root element")]
    NoRoot,
    /// The document ends before its root element is closed.
    #[error("XML ends before the root element is closed")]
    Truncated,
    /// Text or a second element stands outside the root.
    #[error("XML has content outside the root element")]
    TrailingContent,
    /// The root element is not the expected one.
    #[error("expected root element <{expected}>, found <{found}>")]
    UnexpectedRoot {
        /// The root the reader wanted.
        expected: &'static str,
        /// The root the document has.
        found: String,
    },
    /// The XML itself is malformed (mismatched tags, bad escapes, …).
    #[error("malformed XML")]
    Malformed(#[source] quick_xml::Error),
    /// A tag's name is not an XML name (`<<x/>`, `<1a>`…), so the document is not well-formed.
    #[error("malformed XML: a tag name is not an XML name")]
    InvalidName,
    /// A required field is absent.
    #[error("missing field <{0}>")]
    MissingField(&'static str),
    /// A field has a value of the wrong shape (a non-numeric `CreateTime`, say).
    #[error("field <{field}> has an invalid value")]
    InvalidField {
        /// The field's element name.
        field: &'static str,
    },
}

/// An XML element: its name, its text (CDATA and escaped text joined), and its child elements.
/// Attributes are not kept: WeChat's documents have none.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Element {
    /// The element's name.
    pub name: String,
    /// The element's own text. Whitespace between child elements is dropped.
    pub text: String,
    /// The child elements, in document order.
    pub children: Vec<Element>,
}

impl Element {
    /// A leaf element with text.
    pub fn leaf(name: impl Into<String>, text: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            text: text.into(),
            children: Vec::new(),
        }
    }

    /// Reads a whole document into its root element.
    ///
    /// ```
    /// use wechat_types::xml::{Element, XmlError};
    ///
    /// let root = Element::parse(b"<xml><A><![CDATA[x]]></A><B>2</B></xml>").unwrap();
    /// assert_eq!(root.child_text("A"), Some("x"));
    /// assert!(matches!(
    ///     Element::parse(b"<!DOCTYPE x [<!ENTITY a 'b'>]><xml/>"),
    ///     Err(XmlError::Doctype)
    /// ));
    /// ```
    pub fn parse(input: &[u8]) -> Result<Element, XmlError> {
        ElementRef::parse(input).map(|root| root.to_element())
    }

    /// The first child named `name`.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// The text of the first child named `name`.
    pub fn child_text(&self, name: &str) -> Option<&str> {
        self.child(name).map(|c| c.text.as_str())
    }

    /// A borrowed view of this element, for code written against [`ElementRef`].
    pub fn as_element_ref(&self) -> ElementRef<'_> {
        ElementRef {
            name: Cow::Borrowed(&self.name),
            text: Cow::Borrowed(&self.text),
            children: self.children.iter().map(Element::as_element_ref).collect(),
        }
    }

    /// Writes the element as XML, every text in CDATA.
    pub fn to_xml(&self) -> String {
        let mut out = String::with_capacity(256);
        self.write_to(&mut out);
        out
    }

    pub(crate) fn write_to(&self, out: &mut String) {
        if self.children.is_empty() {
            super::write::push_cdata_element(out, &self.name, &self.text);
            return;
        }
        out.push('<');
        out.push_str(&self.name);
        out.push('>');
        // Text beside children (mixed content, which WeChat never sends but a document may
        // hold): written first, so the element reads back the same (its text is the joined
        // text; where it stood between the children is not kept).
        if !self.text.trim().is_empty() {
            out.push_str("<![CDATA[");
            super::write::push_cdata_body(out, &self.text);
            out.push_str("]]>");
        }
        for child in &self.children {
            child.write_to(out);
        }
        out.push_str("</");
        out.push_str(&self.name);
        out.push('>');
    }
}

/// An element that borrows its names and texts from the document wherever it can: the reader
/// behind [`Element::parse`], and the fast way to pick a few fields out of a push (a typical
/// message costs one allocation here, against one per name and text for [`Element`]).
///
/// It keeps every safety rule of [`Element::parse`]: DOCTYPE refused, depth and size bounded.
///
/// ```
/// use wechat_types::xml::ElementRef;
///
/// let body = b"<xml><ToUserName><![CDATA[gh_1]]></ToUserName><Encrypt><![CDATA[abc=]]></Encrypt></xml>";
/// let root = ElementRef::parse(body).unwrap();
/// assert_eq!(root.child_text("Encrypt"), Some("abc="));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ElementRef<'a> {
    name: Cow<'a, str>,
    text: Cow<'a, str>,
    children: Vec<ElementRef<'a>>,
}

impl<'a> ElementRef<'a> {
    /// Reads a whole document into its root element, borrowing from `input`.
    pub fn parse(input: &'a [u8]) -> Result<ElementRef<'a>, XmlError> {
        parse_text(utf8(input)?)
    }

    /// Reads a whole document and returns its root's name and the text of the root's first
    /// child `name`: what [`ElementRef::parse`] and then [`ElementRef::child_text`] give, with
    /// the same checks and errors. When every child of the root is a leaf holding one CDATA
    /// section or plain text without entities or `]` (an encrypted push's envelope, say), the
    /// document is read in one pass and no tree is built; any other document is read whole.
    ///
    /// ```
    /// use wechat_types::xml::ElementRef;
    ///
    /// let body = b"<xml><ToUserName><![CDATA[gh_1]]></ToUserName>\n<Encrypt><![CDATA[abc=]]></Encrypt>\n</xml>";
    /// let (root, encrypt) = ElementRef::parse_root_child(body, "Encrypt")?;
    /// assert_eq!((&*root, encrypt.as_deref()), ("xml", Some("abc=")));
    /// # Ok::<(), wechat_types::xml::XmlError>(())
    /// ```
    pub fn parse_root_child(
        input: &'a [u8],
        name: &str,
    ) -> Result<(Cow<'a, str>, Option<Cow<'a, str>>), XmlError> {
        let text = utf8(input)?;
        if let Some((root, found)) = super::simple::flat_root_child(text, name, MAX_ELEMENTS) {
            return Ok((Cow::Borrowed(root), found.map(Cow::Borrowed)));
        }
        let root = parse_text(text)?;
        let found = root
            .children
            .into_iter()
            .find(|child| child.name == name)
            .map(|child| child.text);
        Ok((root.name, found))
    }

    /// The tree of a flat document read by [`read_document`]: the root and its leaves, as the
    /// readers build it.
    pub(super) fn from_flat(root: &'a str, leaves: &FlatLeaves<'a>) -> Self {
        let mut element = Self::open(root);
        element.children = leaves
            .as_slice()
            .iter()
            .map(|&(name, text)| Self::leaf(name, text))
            .collect();
        element
    }

    /// An element with a name and no content, for the fast reader.
    pub(super) fn open(name: &'a str) -> Self {
        Self {
            name: Cow::Borrowed(name),
            text: Cow::Borrowed(""),
            children: Vec::new(),
        }
    }

    /// A leaf element with its text, for the fast reader.
    pub(super) fn leaf(name: &'a str, text: &'a str) -> Self {
        Self {
            name: Cow::Borrowed(name),
            text: Cow::Borrowed(text),
            children: Vec::new(),
        }
    }

    /// Makes room for `additional` children, for the fast reader.
    pub(super) fn reserve_children(&mut self, additional: usize) {
        self.children.reserve_exact(additional);
    }

    /// True once a child was added, for the fast reader.
    pub(super) fn has_children(&self) -> bool {
        !self.children.is_empty()
    }

    /// Adds a finished child, for the fast reader.
    pub(super) fn push_child(&mut self, child: ElementRef<'a>) {
        self.children.push(child);
    }

    /// What the full reader does when an element closes: whitespace around children is no
    /// value.
    pub(super) fn close(&mut self) {
        if !self.children.is_empty() && self.text.trim().is_empty() {
            self.text = Cow::Borrowed("");
        }
    }

    /// The element's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The element's own text (CDATA and escaped text joined; whitespace between children
    /// dropped).
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The child elements, in document order.
    pub fn children(&self) -> &[ElementRef<'a>] {
        &self.children
    }

    /// The first child named `name`.
    pub fn child(&self, name: &str) -> Option<&ElementRef<'a>> {
        self.children.iter().find(|c| c.name == name)
    }

    /// The text of the first child named `name`.
    pub fn child_text(&self, name: &str) -> Option<&str> {
        self.child(name).map(ElementRef::text)
    }

    /// An owned copy.
    pub fn to_element(&self) -> Element {
        Element {
            name: self.name.clone().into_owned(),
            text: self.text.clone().into_owned(),
            children: self.children.iter().map(ElementRef::to_element).collect(),
        }
    }

    pub(super) fn push_text(&mut self, piece: Cow<'a, str>) {
        if piece.is_empty() || (!self.children.is_empty() && piece.trim().is_empty()) {
            // Indentation between child elements: never part of a value.
            return;
        }
        if self.text.is_empty() {
            self.text = piece;
        } else {
            self.text.to_mut().push_str(&piece);
        }
    }
}

/// Refuses a document whose root is not `<xml>`, as every document WeChat sends or reads has
/// it: the message and reply readers, and wechat-crypto's envelope reader, check it here.
///
/// ```
/// use wechat_types::xml::{ElementRef, XmlError, expect_xml_root};
///
/// let root = ElementRef::parse(b"<root><A>1</A></root>")?;
/// assert!(matches!(expect_xml_root(root.name()), Err(XmlError::UnexpectedRoot { .. })));
/// assert!(expect_xml_root("xml").is_ok());
/// # Ok::<(), XmlError>(())
/// ```
pub fn expect_xml_root(name: &str) -> Result<(), XmlError> {
    if name == "xml" {
        Ok(())
    } else {
        Err(XmlError::UnexpectedRoot {
            expected: "xml",
            found: name.to_owned(),
        })
    }
}

fn utf8(input: &[u8]) -> Result<&str, XmlError> {
    std::str::from_utf8(input).map_err(|_| XmlError::NotUtf8)
}

/// A whole document as [`read_document`] reads it.
// The flat variant is large on purpose: it lives on the stack for one call, in place of a heap
// tree.
#[allow(clippy::large_enum_variant)]
pub(super) enum Document<'a> {
    /// A root holding only leaves (a push, usually): its name and its leaves, read in one pass
    /// and kept on the stack.
    Flat(&'a str, FlatLeaves<'a>),
    /// Any other document, read into its tree.
    Tree(ElementRef<'a>),
}

/// Reads a whole document with the same checks and errors as [`ElementRef::parse`], without
/// building a tree when the document is flat.
pub(super) fn read_document(input: &[u8]) -> Result<Document<'_>, XmlError> {
    let text = utf8(input)?;
    Ok(match super::simple::flat_leaves(text, MAX_ELEMENTS) {
        Some((root, leaves)) => Document::Flat(root, leaves),
        None => Document::Tree(parse_text(text)?),
    })
}

/// A document's tree: the fast reader's when the document lies in its subset, else the general
/// reader's.
fn parse_text(text: &str) -> Result<ElementRef<'_>, XmlError> {
    match super::simple::parse(text, MAX_DEPTH, MAX_ELEMENTS) {
        Some(root) => Ok(root),
        None => parse_str(text),
    }
}

pub(super) fn parse_str(input: &str) -> Result<ElementRef<'_>, XmlError> {
    let mut reader = Reader::from_str(input);
    let mut stack: Vec<ElementRef<'_>> = Vec::with_capacity(4);
    let mut root: Option<ElementRef<'_>> = None;
    let mut count = 0usize;
    loop {
        let at = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        let event = reader.read_event().map_err(XmlError::Malformed)?;
        match event {
            XmlEvent::Start(start) => {
                if root.is_some() {
                    return Err(XmlError::TrailingContent);
                }
                count += 1;
                if count > MAX_ELEMENTS {
                    return Err(XmlError::TooManyElements);
                }
                if stack.len() >= MAX_DEPTH {
                    return Err(XmlError::TooDeep);
                }
                stack.push(ElementRef {
                    name: element_name(input, at, start.name().as_ref())?,
                    text: Cow::Borrowed(""),
                    children: Vec::new(),
                });
            }
            XmlEvent::Empty(empty) => {
                if root.is_some() {
                    return Err(XmlError::TrailingContent);
                }
                count += 1;
                if count > MAX_ELEMENTS {
                    return Err(XmlError::TooManyElements);
                }
                let element = ElementRef {
                    name: element_name(input, at, empty.name().as_ref())?,
                    text: Cow::Borrowed(""),
                    children: Vec::new(),
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(element),
                    None => root = Some(element),
                }
            }
            XmlEvent::End(_) => {
                // quick-xml has already checked that the end tag matches the open one.
                let mut done = stack.pop().ok_or(XmlError::NoRoot)?;
                done.close();
                match stack.last_mut() {
                    Some(parent) => parent.children.push(done),
                    None => root = Some(done),
                }
            }
            XmlEvent::Text(text) => {
                let value = text.unescape().map_err(XmlError::Malformed)?;
                match stack.last_mut() {
                    Some(open) => open.push_text(value),
                    None if value.trim().is_empty() => {}
                    None => return Err(XmlError::TrailingContent),
                }
            }
            XmlEvent::CData(data) => match stack.last_mut() {
                Some(open) => {
                    let value = match data.into_inner() {
                        Cow::Borrowed(raw) => {
                            Cow::Borrowed(std::str::from_utf8(raw).map_err(|_| XmlError::NotUtf8)?)
                        }
                        Cow::Owned(raw) => {
                            Cow::Owned(String::from_utf8(raw).map_err(|_| XmlError::NotUtf8)?)
                        }
                    };
                    open.push_text(value);
                }
                None => return Err(XmlError::TrailingContent),
            },
            XmlEvent::DocType(_) => return Err(XmlError::Doctype),
            XmlEvent::Decl(_) | XmlEvent::PI(_) | XmlEvent::Comment(_) => {}
            XmlEvent::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err(XmlError::Truncated);
    }
    root.ok_or(XmlError::NoRoot)
}

/// The name of the tag that starts at byte `at` of `input` (`<name…`), borrowed from the input.
/// Falls back to a copy of what quick-xml reports should the positions ever disagree.
fn element_name<'a>(input: &'a str, at: usize, reported: &[u8]) -> Result<Cow<'a, str>, XmlError> {
    let borrowed = at
        .checked_add(1)
        .and_then(|from| input.get(from..from + reported.len()))
        .filter(|slice| slice.as_bytes() == reported);
    let name = match borrowed {
        Some(name) => Cow::Borrowed(name),
        None => std::str::from_utf8(reported)
            .map(|name| Cow::Owned(name.to_owned()))
            .map_err(|_| XmlError::NotUtf8)?,
    };
    // quick-xml takes whatever stands between `<` and `>` as the name; a name the writers could
    // not write back (`<<x/>`) would make a re-rendered document malformed.
    if !is_xml_name(&name) {
        return Err(XmlError::InvalidName);
    }
    Ok(name)
}

/// XML 1.0's `Name` production (§2.3): a `NameStartChar`, then `NameChar`s.
fn is_xml_name(name: &str) -> bool {
    let start = |c: char| {
        matches!(c, ':' | 'A'..='Z' | '_' | 'a'..='z' | '\u{C0}'..='\u{D6}' | '\u{D8}'..='\u{F6}'
            | '\u{F8}'..='\u{2FF}' | '\u{370}'..='\u{37D}' | '\u{37F}'..='\u{1FFF}'
            | '\u{200C}'..='\u{200D}' | '\u{2070}'..='\u{218F}' | '\u{2C00}'..='\u{2FEF}'
            | '\u{3001}'..='\u{D7FF}' | '\u{F900}'..='\u{FDCF}' | '\u{FDF0}'..='\u{FFFD}'
            | '\u{10000}'..='\u{EFFFF}')
    };
    let rest = |c: char| {
        start(c)
            || matches!(c, '-' | '.' | '0'..='9' | '\u{B7}' | '\u{300}'..='\u{36F}' | '\u{203F}'..='\u{2040}')
    };
    let mut chars = name.chars();
    chars.next().is_some_and(start) && chars.all(rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_child_reads_as_the_tree_reads_flat_or_not() {
        for (xml, name) in [
            // Flat: read without the tree.
            (
                &b"<xml><A><![CDATA[a]]></A>\n<Encrypt>e=</Encrypt></xml>"[..],
                "Encrypt",
            ),
            (b"<root><A>1</A></root>", "Missing"),
            // Not flat: read through the tree, entities decoded.
            (
                b"<?xml version=\"1.0\"?><xml><Encrypt>a &amp; b</Encrypt></xml>",
                "Encrypt",
            ),
            (
                b"<xml><C><D>x</D></C><Encrypt><![CDATA[e]]></Encrypt></xml>",
                "Encrypt",
            ),
            (b"<xml><Encrypt/><Encrypt>second</Encrypt></xml>", "Encrypt"),
        ] {
            let tree = ElementRef::parse(xml).unwrap();
            let (root, found) = ElementRef::parse_root_child(xml, name).unwrap();
            assert_eq!(root, tree.name(), "{xml:?}");
            assert_eq!(found.as_deref(), tree.child_text(name), "{xml:?}");
        }
        let (_, decoded) =
            ElementRef::parse_root_child(b"<xml><Encrypt>a &amp; b</Encrypt></xml>", "Encrypt")
                .unwrap();
        assert_eq!(decoded.as_deref(), Some("a & b"));
    }

    #[test]
    fn root_child_refuses_what_the_tree_refuses() {
        for xml in [
            &b"<!DOCTYPE x [<!ENTITY e \"x\">]><xml><Encrypt>&e;</Encrypt></xml>"[..],
            b"<xml><Encrypt>a</Encrypt>",
            b"<xml><Encrypt>a</Encrypt></root>",
            b"\xff<xml></xml>",
            b"",
        ] {
            let tree = ElementRef::parse(xml).unwrap_err();
            let flat = ElementRef::parse_root_child(xml, "Encrypt").unwrap_err();
            assert_eq!(flat.to_string(), tree.to_string(), "{xml:?}");
        }
    }

    #[test]
    fn reads_cdata_text_and_nesting() {
        let root = Element::parse(
            b"<?xml version=\"1.0\"?><xml>\n<A><![CDATA[a]]]]><![CDATA[>b]]></A>\n<B>1 &amp; 2</B><C><D>x</D></C><E/></xml>",
        )
        .unwrap();
        assert_eq!(root.name, "xml");
        assert_eq!(root.text, "");
        assert_eq!(root.child_text("A"), Some("a]]>b"));
        assert_eq!(root.child_text("B"), Some("1 & 2"));
        assert_eq!(root.child("C").unwrap().child_text("D"), Some("x"));
        assert_eq!(root.child_text("E"), Some(""));
    }

    #[test]
    fn refuses_hostile_and_broken_documents() {
        type Check = fn(&XmlError) -> bool;
        let cases: &[(&[u8], Check)] = &[
            (
                b"<!DOCTYPE lolz [<!ENTITY lol \"lol\">]><xml>&lol;</xml>",
                |e| matches!(e, XmlError::Doctype),
            ),
            (b"<xml><A>1</A>", |e| matches!(e, XmlError::Truncated)),
            (b"<xml><A>1</B></xml>", |e| {
                matches!(e, XmlError::Malformed(_))
            }),
            (b"", |e| matches!(e, XmlError::NoRoot)),
            (b"   ", |e| matches!(e, XmlError::NoRoot)),
            (b"<xml/><xml/>", |e| matches!(e, XmlError::TrailingContent)),
            (b"<xml/>junk", |e| matches!(e, XmlError::TrailingContent)),
            (b"<xml>\xff</xml>", |e| matches!(e, XmlError::NotUtf8)),
            (b"<xml>&unknown;</xml>", |e| {
                matches!(e, XmlError::Malformed(_))
            }),
            (b"<xml><<M/></xml>", |e| matches!(e, XmlError::InvalidName)),
            (b"<xml><1a>x</1a></xml>", |e| {
                matches!(e, XmlError::InvalidName)
            }),
            (b"<xml><-a/></xml>", |e| matches!(e, XmlError::InvalidName)),
        ];
        for (input, check) in cases {
            let err = Element::parse(input).unwrap_err();
            assert!(
                check(&err),
                "{:?} gave {err:?}",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn names_are_xml_names() {
        for name in ["xml", "A", "_a", "a-b.c_9", "ns:tag", "名字", "Ünïcode"] {
            assert!(is_xml_name(name), "{name}");
            let doc = format!("<?xml version=\"1.0\"?><{name}><x/></{name}>");
            assert_eq!(Element::parse(doc.as_bytes()).unwrap().name, name);
        }
        for name in [
            "", "<M", "1a", "-a", ".a", "a b", "a&b", "a\"", "a>", "a\u{0}",
        ] {
            assert!(!is_xml_name(name), "{name:?}");
        }
        // Found by fuzzing: an empty tag named `<M` inside a field was read, and the unknown
        // event's raw tree then rendered as malformed XML (`<<M>…</<M>`).
        let push = b"<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[o]]></FromUserName>\
            <CreateTime>1<<M/>409735668</CreateTime><MsgType><![CDATA[event]]></MsgType>\
            <Event><![CDATA[HOCATION]]></Event></xml>";
        assert!(matches!(
            super::super::Message::parse(push),
            Err(XmlError::InvalidName)
        ));
    }

    #[test]
    fn limits_depth_and_size() {
        let deep = format!("{}{}", "<a>".repeat(100), "</a>".repeat(100));
        assert!(matches!(
            Element::parse(deep.as_bytes()),
            Err(XmlError::TooDeep)
        ));
        let wide = format!("<xml>{}</xml>", "<a/>".repeat(MAX_ELEMENTS + 1));
        assert!(matches!(
            Element::parse(wide.as_bytes()),
            Err(XmlError::TooManyElements)
        ));
    }

    #[test]
    fn writes_and_reads_back() {
        let mut root = Element::leaf("xml", "");
        root.children.push(Element::leaf("A", "x]]>y\u{1}z 😀"));
        let parsed = Element::parse(root.to_xml().as_bytes()).unwrap();
        assert_eq!(parsed.child_text("A"), Some("x]]>yz 😀"));
    }

    #[test]
    fn text_beside_children_is_written_too() {
        let root = Element::parse(b"<xml><T>14<a>x</a>0<b/>9 </T></xml>").unwrap();
        let t = root.child("T").unwrap();
        assert_eq!((t.text.as_str(), t.children.len()), ("1409 ", 2));
        let again = Element::parse(root.to_xml().as_bytes()).unwrap();
        assert_eq!(again, root);

        // Found by fuzzing: a push whose CreateTime held a nested document around its digits
        // was read, and an unknown event rendered it back without the digits.
        let push = b"<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[o]]></FromUserName>\
            <CreateTime>140973566<x><y>1</y></x>8</CreateTime><MsgType><![CDATA[event]]></MsgType>\
            <Event><![CDATA[unheard_of]]></Event></xml>";
        let msg = super::super::Message::parse(push).unwrap();
        assert_eq!(msg.create_time, 1409735668);
        let xml = msg.to_xml();
        assert_eq!(super::super::Message::parse(xml.as_bytes()).unwrap(), msg);
    }
}
