//! Shared pieces of the wechat-rs benches: the loopback load generator used by `cargo xtask bench`
//! and the bare hyper server that sets the ceiling its figures are compared with.

pub mod bare;
pub mod load;
