//! Integration tests of wechat-crypto: every official vector of PROTOCOL.md §5 as its own named
//! test, plus property tests (round trips, never-panics, and the decryptor against a reference
//! reading of the format).

mod properties;
mod reference;
mod vectors;
