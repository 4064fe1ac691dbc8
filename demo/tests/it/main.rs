//! The demo end to end, in process: wechat-mock pushes as a fake user to the demo account over
//! loopback, and the profile page's OAuth flow goes through the mock hop by hop.

mod oauth;
mod push;
mod support;
