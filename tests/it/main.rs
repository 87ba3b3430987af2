//! End-to-end tests, in one binary (every extra test binary would link everything again).

mod attribution;
#[cfg(feature = "aws")]
mod aws;
mod cli;
mod daemon;
mod drift;
mod evidence;
mod reports;
mod store;
mod support;
