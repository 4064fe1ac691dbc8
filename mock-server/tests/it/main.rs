//! Integration tests of wechat-mock: every endpoint and errcode, over loopback (a plain hyper
//! client) and in process (`MockServer::handle`), the state machines under the mock clock, the
//! admin API and faults, the binary, and memory bounds.

mod admin;
mod apis;
mod binary;
mod callback;
mod console;
mod hostile;
mod memory;
mod menu;
mod oauth;
mod props;
mod push;
mod sns;
mod support;
mod token;
