//! netdrift-provider-aws: live collection from AWS with the official SDK.
//!
//! API boundary: `collect` returns one `Collected` per account × region (failed or partial
//! scopes included, with their problems); `lookup_events` returns parsed CloudTrail events.
//! Nothing here touches SQLite, decides drift or formats reports.
//!
//! Inside: `client` (SDK configuration, credentials, role assumption, paging, retries),
//! `wire` (SDK structs → the JSON the AWS CLI prints, converted by `netdrift-provider-file`, so
//! live and offline collection share one conversion), `errors` (what the caller does next),
//! `trail` (CloudTrail LookupEvents), `watch` (one tick of continuous detection: the audit
//! read from a cursor, then a re-read of only what the new changes named), `remediate` (`netdrift revert --apply`: the revert plan's
//! EC2 calls through the SDK, with their own least-privilege policy, docs/iam/aws-remediate.json).

mod client;
mod config;
mod discovery;
mod errors;
pub mod remediate;
pub mod s3trail;
mod trail;
mod watch;
mod wire;

pub use client::{collect, AwsSource, Collection, KnownGroups};
pub use config::AwsConfig;
pub use errors::{action_of, classify, ACTIONS, ACTION_OF};
pub use trail::lookup_events;
