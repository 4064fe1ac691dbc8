//! Integration tests of wechat-msg: the official vectors, every message, event and reply in each
//! mode, every bad input, hostile requests over loopback, load with failing handlers, graceful
//! shutdown, retries, the 5-second rule, and random input.

mod bad_input;
mod budget;
mod dedupe;
mod hostile;
mod messages;
mod proptests;
#[cfg(feature = "redis")]
mod redis_store;
mod secrets;
mod shell;
mod support;
mod under_load;
mod vectors;
