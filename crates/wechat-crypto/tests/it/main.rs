//! Integration tests of wechat-crypto: every official vector of PROTOCOL.md §5 as its own named
//! test, plus property tests (round trips and never-panics).

mod properties;
mod vectors;
