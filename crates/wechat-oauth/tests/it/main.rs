//! Integration tests of wechat-oauth: exact URLs, state properties, and the whole flow against
//! wechat-mock, in process and over loopback.

mod support;

mod flow;
mod sign_in;
mod state_props;
mod urls;
