//! Where a source's scopes come from: the base credentials (profile, endpoint, retries and
//! timeouts), the accounts (assumed roles, or Organizations `ListAccounts` with a role name in
//! each) and each account's enabled regions. A failure is a source problem that names the
//! operation; it never falls back to fewer accounts silently.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;

use netdrift_snapshots::Problem;

use crate::errors::classify;
use crate::AwsSource;

pub(crate) async fn base_config(src: &AwsSource) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(src.home_region.clone()))
        .retry_config(RetryConfig::standard().with_max_attempts(src.max_attempts.max(1)))
        .timeout_config(
            TimeoutConfig::builder()
                .operation_attempt_timeout(Duration::from_secs(60))
                .build(),
        );
    if let Some(u) = &src.endpoint_url {
        loader = loader.endpoint_url(u);
    }
    if let Some(p) = &src.profile {
        loader = loader.profile_name(p);
    }
    loader.load().await
}

/// An account to collect, with the configuration that acts in it.
pub(crate) struct Account {
    pub(crate) id: String,
    pub(crate) config: SdkConfig,
}

pub(crate) fn account_of_role(arn: &str) -> String {
    arn.split(':').nth(4).unwrap_or_default().to_string()
}

pub(crate) async fn assume(
    base: &SdkConfig,
    src: &AwsSource,
    role: &str,
) -> Result<Account, Problem> {
    let sts = aws_sdk_sts::Client::new(base);
    let mut req = sts
        .assume_role()
        .role_arn(role)
        .role_session_name(&src.session_name);
    if let Some(x) = &src.external_id {
        req = req.external_id(x);
    }
    let out = req
        .send()
        .await
        .map_err(|e| classify("AssumeRole", None, &e))?;
    let c = out.credentials().ok_or_else(|| Problem {
        code: netdrift_snapshots::ProblemCode::Auth,
        kind: None,
        operation: Some("AssumeRole".into()),
        message: format!("AssumeRole {role} returned no credentials"),
    })?;
    let creds = Credentials::new(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().to_string()),
        None,
        "netdrift-assume-role",
    );
    let config = base
        .to_builder()
        .credentials_provider(SharedCredentialsProvider::new(creds))
        .build();
    Ok(Account {
        id: account_of_role(role),
        config,
    })
}

pub(crate) async fn accounts(
    base: &SdkConfig,
    src: &AwsSource,
    problems: &mut Vec<Problem>,
) -> Vec<(String, Result<Account, Problem>)> {
    let mut roles: Vec<String> = src.assume_roles.clone();
    if let Some(role_name) = &src.organization_role {
        let org = aws_sdk_organizations::Client::new(base);
        let mut pages = org.list_accounts().into_paginator().send();
        while let Some(page) = pages.next().await {
            match page {
                Ok(p) => {
                    for a in p.accounts() {
                        let active = a.status().map(|s| s.as_str() == "ACTIVE").unwrap_or(true);
                        if let (Some(id), true) = (a.id(), active) {
                            let arn = format!("arn:aws:iam::{id}:role/{role_name}");
                            if !roles.contains(&arn) {
                                roles.push(arn);
                            }
                        }
                    }
                }
                Err(e) => {
                    problems.push(classify("ListAccounts", None, &e));
                    break;
                }
            }
        }
    }
    // With Organizations discovery configured, the caller's own account is no stand-in for the
    // accounts ListAccounts would have named: a failed listing is reported, not replaced.
    if roles.is_empty() && src.organization_role.is_none() {
        let sts = aws_sdk_sts::Client::new(base);
        return match sts.get_caller_identity().send().await {
            Ok(id) => {
                let account = id.account().unwrap_or_default().to_string();
                vec![(
                    account.clone(),
                    Ok(Account {
                        id: account,
                        config: base.clone(),
                    }),
                )]
            }
            Err(e) => {
                problems.push(classify("GetCallerIdentity", None, &e));
                Vec::new()
            }
        };
    }
    let mut out = Vec::new();
    for role in roles {
        out.push((account_of_role(&role), assume(base, src, &role).await));
    }
    out
}

pub(crate) async fn regions(account: &Account, src: &AwsSource) -> Result<Vec<String>, Problem> {
    if let Some(r) = &src.regions {
        return Ok(r.clone());
    }
    let ec2 = aws_sdk_ec2::Client::new(&account.config);
    let out = ec2
        .describe_regions()
        .send()
        .await
        .map_err(|e| classify("DescribeRegions", None, &e))?;
    let mut v: Vec<String> = out
        .regions()
        .iter()
        .filter_map(|r| r.region_name().map(str::to_string))
        .collect();
    v.sort();
    Ok(v)
}
