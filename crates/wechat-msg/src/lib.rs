//! The WeChat callback URL: verify, decrypt, route, reply, retry dedupe and the 5-second rule.
