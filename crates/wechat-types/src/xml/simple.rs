//! The fast reader: the subset of XML that WeChat actually sends, scanned by hand.
//!
//! A push is flat and regular: `<xml>`, child elements with CDATA or plain text, a nested level
//! or two, newlines between. For that subset a byte scan builds the same [`ElementRef`] as the
//! general reader at a fraction of quick-xml's per-event cost. Anything outside it — a
//! declaration, comment, DOCTYPE, entity or character reference, attribute, empty-element tag,
//! unusual name, a `]` in text outside CDATA, more depth or elements than allowed, content after the root —
//! makes it answer `None`, and the general reader (which refuses a DOCTYPE and reports
//! malformed input) takes the document. A differential test holds the two to the same result.

use std::borrow::Cow;

use super::element::ElementRef;
use super::find_cdata_end;

/// Reads `input` if it lies in the simple subset; `None` hands it to the general reader.
pub(super) fn parse(input: &str, max_depth: usize, max_elements: usize) -> Option<ElementRef<'_>> {
    let bytes = input.as_bytes();
    let mut at = skip_whitespace(bytes, 0);
    let mut stack = OpenElements::default();
    let mut count = 0usize;
    loop {
        // Most tags follow the one before directly: look before calling memchr.
        let next = if bytes.get(at) == Some(&b'<') {
            at
        } else {
            at + memchr_lt(&bytes[at..])?
        };
        if next > at {
            let text = &input[at..next];
            let open = stack.last_mut()?;
            // The `\n` between a push's elements: whitespace beside children is no value, so
            // skip it here rather than pay for the scans below.
            if open.has_children() && text.bytes().all(|b| b.is_ascii_whitespace()) {
                at = next;
                continue;
            }
            // An entity or a `]` in plain text (where `]]>` is an error) is rare enough to leave
            // to the general reader; one scan for both keeps the common `\n` between elements cheap.
            if memchr::memchr2(b'&', b']', text.as_bytes()).is_some() {
                return None;
            }
            open.push_text(Cow::Borrowed(text));
        }
        at = next;
        let rest = &bytes[at..];
        if rest.starts_with(b"<![CDATA[") {
            let body_start = at + 9;
            let end = body_start + find_cdata_end(&bytes[body_start..])?;
            stack
                .last_mut()?
                .push_text(Cow::Borrowed(&input[body_start..end]));
            at = end + 3;
        } else if rest.starts_with(b"</") {
            // The closing tag must repeat the open element's name, then `>`: compare with it
            // rather than scan a name first (the scan was a tenth of the parse).
            let name_start = at + 2;
            let name_end = name_start + stack.last()?.name().len();
            if bytes.get(name_start..name_end) != Some(stack.last()?.name().as_bytes())
                || bytes.get(name_end) != Some(&b'>')
            {
                return None;
            }
            let mut done = stack.pop()?;
            done.close();
            at = name_end + 1;
            match stack.last_mut() {
                Some(parent) => parent.push_child(done),
                None => {
                    // The root is closed: only whitespace may follow.
                    return (skip_whitespace(bytes, at) == bytes.len()).then_some(done);
                }
            }
        } else {
            let name_start = at + 1;
            let name_end = name_start + name_len(&bytes[name_start..])?;
            if bytes.get(name_end) != Some(&b'>') {
                return None;
            }
            count += 1;
            if count > max_elements || stack.len() >= max_depth {
                return None;
            }
            let name = &input[name_start..name_end];
            // Most elements of a push are leaves, `<Name>text</Name>` or with CDATA: read one
            // whole and hand it to its parent, instead of opening it on the stack and moving it
            // off again.
            if let Some(parent) = stack.last_mut()
                && let Some((text, after)) = leaf(input, name_end + 1, name)
            {
                parent.push_child(ElementRef::leaf(name, text));
                at = after;
                continue;
            }
            let mut element = ElementRef::open(name);
            if stack.is_empty() {
                // A push's root has 6 to 12 children: room for them up front, not 4 then 8.
                element.reserve_children(ROOT_CHILDREN);
            }
            stack.push(element);
            at = name_end + 1;
        }
    }
}

/// The root's name and the text of its first child `name`, for a document whose root holds
/// only leaves (each one CDATA section or plain text) with whitespace between them; `None` for
/// anything else, which [`parse`] or the general reader then reads whole. Nothing is built: an
/// encrypted push's envelope is read with one pass and no allocation.
pub(super) fn flat_root_child<'a>(
    input: &'a str,
    name: &str,
    max_elements: usize,
) -> Option<(&'a str, Option<&'a str>)> {
    let mut found = None;
    let root = scan_flat(input, max_elements, |child, text| {
        if found.is_none() && child == name {
            found = Some(text);
        }
        true
    })?;
    Some((root, found))
}

/// Most leaves [`flat_leaves`] holds: a push has 6 to 12; a document with more is read whole.
const FLAT_LEAVES: usize = 16;

/// The leaves of a flat document in document order, as [`flat_leaves`] read them: a tree of one
/// level kept on the stack.
pub(super) struct FlatLeaves<'a> {
    len: usize,
    leaves: [(&'a str, &'a str); FLAT_LEAVES],
}

impl<'a> FlatLeaves<'a> {
    /// The (name, text) pairs, in document order.
    pub(super) fn as_slice(&self) -> &[(&'a str, &'a str)] {
        &self.leaves[..self.len]
    }

    /// The text of the first leaf named `name`, as [`ElementRef::child_text`] gives it.
    pub(super) fn text(&self, name: &str) -> Option<&'a str> {
        self.as_slice()
            .iter()
            .find(|(leaf, _)| *leaf == name)
            .map(|&(_, text)| text)
    }
}

/// The root's name and its leaves, for the documents [`flat_root_child`] reads (and at most
/// [`FLAT_LEAVES`] leaves); `None` for anything else. A plaintext push is read this way without
/// building a tree.
pub(super) fn flat_leaves(input: &str, max_elements: usize) -> Option<(&str, FlatLeaves<'_>)> {
    let mut leaves = FlatLeaves {
        len: 0,
        leaves: [("", ""); FLAT_LEAVES],
    };
    let root = scan_flat(input, max_elements, |name, text| {
        let Some(slot) = leaves.leaves.get_mut(leaves.len) else {
            return false;
        };
        *slot = (name, text);
        leaves.len += 1;
        true
    })?;
    Some((root, leaves))
}

/// One pass over a document whose root holds only leaves, handing each leaf's name and text to
/// `visit` in document order; the root's name, or `None` when the document is not of that
/// shape or `visit` answered false.
fn scan_flat<'a>(
    input: &'a str,
    max_elements: usize,
    mut visit: impl FnMut(&'a str, &'a str) -> bool,
) -> Option<&'a str> {
    let bytes = input.as_bytes();
    let root_start = skip_whitespace(bytes, 0) + 1;
    if bytes.get(root_start - 1) != Some(&b'<') {
        return None;
    }
    let root_end = root_start + name_len(&bytes[root_start..])?;
    if bytes.get(root_end) != Some(&b'>') {
        return None;
    }
    let root = &input[root_start..root_end];
    let mut count = 1usize;
    let mut at = root_end + 1;
    loop {
        at = skip_whitespace(bytes, at);
        let rest = bytes.get(at..)?;
        if rest.starts_with(b"</") {
            // Only the root's closing tag can come here, then nothing but whitespace.
            let name_end = at + 2 + root.len();
            let closes_root = bytes.get(at + 2..name_end) == Some(root.as_bytes())
                && bytes.get(name_end) == Some(&b'>');
            return (closes_root && skip_whitespace(bytes, name_end + 1) == bytes.len())
                .then_some(root);
        }
        // Text of the root's own, or anything but a plain open tag: not flat.
        if rest.first() != Some(&b'<') {
            return None;
        }
        let child_start = at + 1;
        let child_end = child_start + name_len(&bytes[child_start..])?;
        if bytes.get(child_end) != Some(&b'>') {
            return None;
        }
        count += 1;
        if count > max_elements {
            return None;
        }
        let child = &input[child_start..child_end];
        let (text, after) = leaf(input, child_end + 1, child)?;
        if !visit(child, text) {
            return None;
        }
        at = after;
    }
}

/// The elements open at a point of the document, innermost last. The root is kept apart, so a
/// flat push (whose other elements are leaves, read whole) needs no allocation here.
#[derive(Default)]
struct OpenElements<'a> {
    root: Option<ElementRef<'a>>,
    below_root: Vec<ElementRef<'a>>,
}

impl<'a> OpenElements<'a> {
    fn len(&self) -> usize {
        usize::from(self.root.is_some()) + self.below_root.len()
    }

    fn is_empty(&self) -> bool {
        self.root.is_none()
    }

    fn push(&mut self, element: ElementRef<'a>) {
        if self.root.is_none() {
            self.root = Some(element);
        } else {
            self.below_root.push(element);
        }
    }

    fn pop(&mut self) -> Option<ElementRef<'a>> {
        self.below_root.pop().or_else(|| self.root.take())
    }

    fn last(&self) -> Option<&ElementRef<'a>> {
        self.below_root.last().or(self.root.as_ref())
    }

    fn last_mut(&mut self) -> Option<&mut ElementRef<'a>> {
        self.below_root.last_mut().or(self.root.as_mut())
    }
}

/// The text of a leaf element whose open tag ends just before `from`, and where its closing tag
/// ends: when the element holds one CDATA section or plain text (no entity, no `]`) and then
/// closes. `None` for anything else, which the stack path reads.
fn leaf<'a>(input: &'a str, from: usize, name: &str) -> Option<(&'a str, usize)> {
    let bytes = input.as_bytes();
    let rest = bytes.get(from..)?;
    let (text, end) = if rest.starts_with(b"<![CDATA[") {
        let body = from + 9;
        let end = body + find_cdata_end(&bytes[body..])?;
        (&input[body..end], end + 3)
    } else {
        let end = from + memchr_lt(rest)?;
        if memchr::memchr2(b'&', b']', &bytes[from..end]).is_some() {
            return None;
        }
        (&input[from..end], end)
    };
    let close = bytes.get(end..)?;
    let name_end = 2 + name.len();
    (close.starts_with(b"</")
        && close.get(2..name_end) == Some(name.as_bytes())
        && close.get(name_end) == Some(&b'>'))
    .then_some((text, end + name_end + 1))
}

/// Children the root is given room for before the first one is read.
const ROOT_CHILDREN: usize = 12;

/// Offset of the next `<`; `None` at the end of input (a document that ends inside its root is
/// the general reader's to report).
fn memchr_lt(bytes: &[u8]) -> Option<usize> {
    memchr::memchr(b'<', bytes)
}

fn skip_whitespace(bytes: &[u8], mut at: usize) -> usize {
    while matches!(bytes.get(at), Some(b' ' | b'\t' | b'\r' | b'\n')) {
        at += 1;
    }
    at
}

/// Length of a plain name (`[A-Za-z_][A-Za-z0-9_.-]*`) at the start of `bytes`; `None` when
/// there is none.
fn name_len(bytes: &[u8]) -> Option<usize> {
    let first = *bytes.first()?;
    if !(first.is_ascii_alphabetic() || first == b'_') {
        return None;
    }
    Some(
        bytes
            .iter()
            .position(|&b| !NAME_BYTE[usize::from(b)])
            .unwrap_or(bytes.len()),
    )
}

/// The bytes that may follow the first of a plain name, as a table: one load a byte instead of
/// a chain of comparisons.
const NAME_BYTE: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric() || c == b'_' || c == b'.' || c == b'-';
        b += 1;
    }
    table
};

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::super::element::{MAX_DEPTH, MAX_ELEMENTS, parse_str};
    use super::*;

    fn simple(input: &str) -> Option<ElementRef<'_>> {
        parse(input, MAX_DEPTH, MAX_ELEMENTS)
    }

    #[test]
    fn reads_a_push() {
        let xml = "<xml><ToUserName><![CDATA[gh_1]]></ToUserName>\n<CreateTime>1</CreateTime>\n\
                   <SendPicsInfo><Count>1</Count><PicList><item><PicMd5Sum><![CDATA[a]]></PicMd5Sum></item></PicList></SendPicsInfo>\n</xml>\n";
        let root = simple(xml).expect("in the subset");
        assert_eq!(Some(&root), parse_str(xml).ok().as_ref());
        assert_eq!(root.child_text("ToUserName"), Some("gh_1"));
    }

    #[test]
    fn leaves_of_every_shape_read_as_the_general_reader_reads_them() {
        for xml in [
            "<xml><A></A></xml>",
            "<xml><A><![CDATA[]]></A></xml>",
            "<xml><A> </A><B>\n</B></xml>",
            "<xml><A><![CDATA[x]]>y</A></xml>",
            "<xml><A>y<![CDATA[x]]></A></xml>",
            "<xml><A><![CDATA[a]]><![CDATA[b]]></A></xml>",
            "<xml><A> <![CDATA[x]]> </A></xml>",
            "<xml><A><![CDATA[</A>]]></A></xml>",
            "<xml><A><B>1</B></A><C>2</C></xml>",
            "<xml><A>\n<B><![CDATA[1]]></B>\n</A></xml>",
        ] {
            let fast = simple(xml).unwrap_or_else(|| panic!("in the subset: {xml:?}"));
            assert_eq!(Some(fast), parse_str(xml).ok(), "{xml:?}");
        }
    }

    #[test]
    fn hands_everything_unusual_to_the_general_reader() {
        for xml in [
            "<?xml version=\"1.0\"?><xml/>",
            "<!DOCTYPE x><xml></xml>",
            "<xml><!-- c --></xml>",
            "<xml>a &amp; b</xml>",
            "<xml><A/></xml>",
            "<xml a=\"1\"></xml>",
            "<xml></xml>junk",
            "<xml></xml><xml></xml>",
            "<xml><A>1</B></xml>",
            "<xml><A>1</AB></xml>",
            "<xml><AB>1</A></xml>",
            "<xml><A>1</A ></xml>",
            "<xml><A>1</A>",
            "<xml>]]></xml>",
            "<xml></xml >",
            "<1a></1a>",
            "text<xml></xml>",
            "",
        ] {
            assert!(simple(xml).is_none(), "{xml:?}");
        }
    }

    /// Pieces WeChat-like documents are made of, plus the unusual ones the fast reader must
    /// hand over.
    fn piece() -> impl Strategy<Value = String> {
        prop_oneof![
            4 => "[A-Za-z][A-Za-z0-9_]{0,6}".prop_map(|n| format!("<{n}>")),
            4 => "[A-Za-z][A-Za-z0-9_]{0,6}".prop_map(|n| format!("</{n}>")),
            2 => Just("<xml>".to_owned()),
            2 => Just("</xml>".to_owned()),
            3 => "[^<&\\]]{0,8}".prop_map(|t| format!("<![CDATA[{t}]]>")),
            3 => "[a-z0-9 \n\t中]{0,6}",
            1 => Just("&amp;".to_owned()),
            1 => Just("]]>".to_owned()),
            1 => Just("<!-- x -->".to_owned()),
            1 => Just("<a/>".to_owned()),
            1 => Just("<?xml version=\"1.0\"?>".to_owned()),
            1 => Just("<!DOCTYPE x>".to_owned()),
            1 => Just("<a b=\"c\">".to_owned()),
            1 => Just("<".to_owned()),
        ]
    }

    fn document() -> impl Strategy<Value = String> {
        prop_oneof![
            // Well-formed, nested documents, so the fast reader is exercised on its subset.
            proptest::collection::vec(("[A-Z][a-z]{0,5}", "[^<&\\]]{0,10}", any::<bool>()), 0..8)
                .prop_map(|fields| {
                    let mut out = String::from("<xml>\n");
                    for (name, text, cdata) in fields {
                        if cdata {
                            out.push_str(&format!("<{name}><![CDATA[{text}]]></{name}>\n"));
                        } else {
                            out.push_str(&format!("<{name}><Inner>{text}</Inner></{name}>\n"));
                        }
                    }
                    out.push_str("</xml>");
                    out
                }),
            // Arbitrary sequences of pieces, mostly malformed.
            proptest::collection::vec(piece(), 0..16).prop_map(|p| p.concat()),
        ]
    }

    /// What the tree gives for the root's name and its first child `name`.
    fn from_the_tree(xml: &str, name: &str) -> Option<(String, Option<String>)> {
        let root = parse_str(xml).ok()?;
        Some((
            root.name().to_owned(),
            root.child_text(name).map(str::to_owned),
        ))
    }

    #[test]
    fn reads_an_envelope_flat() {
        for xml in [
            "<xml><ToUserName><![CDATA[gh_1]]></ToUserName>\n<Encrypt><![CDATA[abc=]]></Encrypt>\n</xml>",
            "\n<xml>\n<Encrypt>abc=</Encrypt><Encrypt>second</Encrypt></xml>\n",
            "<root><A>1</A></root>",
            "<xml></xml>",
        ] {
            let (root, found) = flat_root_child(xml, "Encrypt", MAX_ELEMENTS)
                .unwrap_or_else(|| panic!("flat: {xml:?}"));
            assert_eq!(
                Some((root.to_owned(), found.map(str::to_owned))),
                from_the_tree(xml, "Encrypt"),
                "{xml:?}"
            );
        }
    }

    #[test]
    fn leaves_every_document_that_is_not_flat_to_the_readers() {
        for xml in [
            "<xml><A><B>1</B></A></xml>",
            "<xml>text<A>1</A></xml>",
            "<xml><A>1</A>text</xml>",
            "<xml><A>1&amp;</A></xml>",
            "<!DOCTYPE x><xml><Encrypt>a</Encrypt></xml>",
            "<?xml version=\"1.0\"?><xml></xml>",
            "<xml><!-- c --><Encrypt>a</Encrypt></xml>",
            "<xml><A/></xml>",
            "<xml a=\"1\"><Encrypt>a</Encrypt></xml>",
            "<xml><Encrypt>a</Encrypt></xml>junk",
            "<xml><Encrypt>a</Encrypt></root>",
            "<xml><Encrypt>a</Encrypt>",
            "<xml><Encrypt>a</Encrypt></xml ><x>",
            "",
        ] {
            assert!(
                flat_root_child(xml, "Encrypt", MAX_ELEMENTS).is_none(),
                "{xml:?}"
            );
        }
        // The element limit holds here too.
        let many = format!("<xml>{}</xml>", "<A>1</A>".repeat(10));
        assert!(flat_root_child(&many, "A", 10).is_none());
        assert!(flat_root_child(&many, "A", 11).is_some());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4096))]

        /// Whenever the flat reader answers, the general reader accepts the document and gives the
        /// same root name and child text.
        #[test]
        fn flat_reads_agree_with_the_general_reader(xml in document(), pick in 0usize..3) {
            let name = ["Encrypt", "A", "xml"][pick];
            if let Some((root, found)) = flat_root_child(&xml, name, MAX_ELEMENTS) {
                let general = from_the_tree(&xml, name);
                prop_assert!(general.is_some(), "flat accepted what quick-xml refuses: {xml:?}");
                prop_assert_eq!(Some((root.to_owned(), found.map(str::to_owned))), general);
            }
        }

        /// Flat documents of leaves are all read by the flat reader.
        #[test]
        fn reads_every_flat_document(fields in proptest::collection::vec(("[A-Z][a-z]{0,5}", "[^<&\\]]{0,10}", any::<bool>()), 0..8)) {
            let mut xml = String::from("<xml>\n");
            for (name, text, cdata) in &fields {
                if *cdata {
                    xml.push_str(&format!("<{name}><![CDATA[{text}]]></{name}>\n"));
                } else {
                    xml.push_str(&format!("<{name}>{text}</{name}>"));
                }
            }
            xml.push_str("</xml>");
            let first = fields.first().map(|(name, _, _)| name.as_str()).unwrap_or("A");
            let (root, found) = flat_root_child(&xml, first, MAX_ELEMENTS).expect("flat");
            prop_assert_eq!(root, "xml");
            // The first field of that name, as written (a later one may share it).
            let written = fields.iter().find(|(name, _, _)| name == first).map(|(_, text, _)| text.as_str());
            prop_assert_eq!(found, written);
            prop_assert_eq!(
                Some((root.to_owned(), found.map(str::to_owned))),
                from_the_tree(&xml, first)
            );
        }

        /// Whenever the fast reader answers, the general reader accepts the document and reads
        /// exactly the same tree.
        #[test]
        fn agrees_with_the_general_reader(xml in document()) {
            if let Some(fast) = simple(&xml) {
                let general = parse_str(&xml);
                prop_assert!(general.is_ok(), "fast accepted what quick-xml refuses: {xml:?}");
                prop_assert_eq!(Some(fast), general.ok());
            }
        }

        /// The well-formed documents are all read by the fast path.
        #[test]
        fn reads_every_plain_push(fields in proptest::collection::vec(("[A-Z][a-z]{0,5}", "[^<&\\]]{0,10}"), 1..8)) {
            let mut xml = String::from("<xml>");
            for (name, text) in fields {
                xml.push_str(&format!("<{name}><![CDATA[{text}]]></{name}>\n"));
            }
            xml.push_str("</xml>");
            prop_assert!(simple(&xml).is_some());
        }
    }
}
