//! Integration tests of wechat-client.
