//! Integration tests of wechat-types: every fixture of PROTOCOL.md parses to its typed form and
//! back; replies render and parse back; no input makes a parser panic.

mod consistency;
mod messages;
mod never_panics;
mod replies;

/// Reads `tests/fixtures/NAME.xml`.
pub(crate) fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}.xml", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}
