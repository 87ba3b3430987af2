//! End-to-end tests, in one binary (every extra test binary would link everything again).

mod actors;
mod architecture;
mod attribution;
#[cfg(feature = "aws")]
mod aws;
#[cfg(feature = "aws")]
mod aws_logging;
#[cfg(feature = "aws")]
mod aws_s3trail;
#[cfg(feature = "aws")]
mod aws_watch;
#[cfg(feature = "azure")]
mod azure;
mod cli;
mod crash;
mod daemon;
mod drift;
mod evidence;
mod exceptions;
#[cfg(any(feature = "gcp", feature = "azure"))]
mod fake;
mod fuzz;
#[cfg(feature = "gcp")]
mod gcp;
mod golden;
mod iac;
mod json_output;
mod ownership;
mod plan;
mod reports;
mod revert;
mod severity;
mod store;
mod store_contract;
mod store_contract_watch;
mod support;
mod terminal;
mod trust;
mod upgrade;
mod webhook_routes;
