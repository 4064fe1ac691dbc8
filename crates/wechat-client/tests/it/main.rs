//! Integration tests of wechat-client: against wiremock (faults), wechat-mock (every API and
//! every injectable fault, over loopback and in process) and a real Redis started by the harness
//! (also killed and restarted).

mod debug;
mod faults;
mod mock;
mod mock_faults;
mod redis_store;
mod support;
