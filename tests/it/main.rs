//! End-to-end tests, in one binary (every extra test binary would link everything again).

mod attribution;
mod cli;
mod drift;
mod store;
mod support;
