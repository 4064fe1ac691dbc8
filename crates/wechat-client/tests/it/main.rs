//! Integration tests of wechat-client: against wiremock (faults), wechat-mock (every API, over
//! loopback and in process) and a real Redis started by the harness.

mod debug;
mod faults;
mod mock;
mod redis_store;
mod support;
