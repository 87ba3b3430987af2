//! Provider errors grouped by what the caller does next.

use aws_sdk_ec2::error::{ProvideErrorMetadata, SdkError};
use netdrift_snapshots::{Problem, ProblemCode, ResourceKind};

/// Every AWS API action netdrift calls. `docs/iam/aws-readonly.json` must allow each one (a
/// test checks it), and each call site names its action from this list.
pub const ACTIONS: &[&str] = &[
    "sts:GetCallerIdentity",
    "sts:AssumeRole",
    "organizations:ListAccounts",
    "ec2:DescribeRegions",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeSecurityGroupRules",
    "ec2:DescribeNetworkAcls",
    "ec2:DescribeManagedPrefixLists",
    "ec2:GetManagedPrefixListEntries",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSubnets",
    "ec2:DescribeRouteTables",
    "cloudtrail:LookupEvents",
    "cloudtrail:DescribeTrails",
    "cloudtrail:GetTrailStatus",
    "cloudtrail:GetEventSelectors",
    "s3:ListBucket",
    "s3:GetObject",
];

/// Operations whose IAM action is not named after them.
pub const ACTION_OF: &[(&str, &str)] = &[("ListObjectsV2", "s3:ListBucket")];

/// The IAM action an operation needs.
pub fn action_of(operation: &str) -> Option<&'static str> {
    ACTION_OF
        .iter()
        .find(|(op, _)| *op == operation)
        .map(|(_, a)| *a)
        .or_else(|| {
            ACTIONS
                .iter()
                .find(|a| a.ends_with(&format!(":{operation}")))
                .copied()
        })
}

/// Map an SDK error to a coverage problem naming the operation.
pub fn classify<E>(operation: &str, kind: Option<ResourceKind>, err: &SdkError<E>) -> Problem
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let (code, message) = match err {
        SdkError::TimeoutError(_) => (ProblemCode::Timeout, format!("{operation} timed out")),
        SdkError::DispatchFailure(d) => {
            if let Some(c) = credentials_error(err) {
                (ProblemCode::Auth, format!("{operation}: {c}"))
            } else {
                let what = if d.is_timeout() {
                    ProblemCode::Timeout
                } else {
                    ProblemCode::Transient
                };
                (
                    what,
                    format!("{operation}: connection failed: {}", causes(err)),
                )
            }
        }
        SdkError::ResponseError(_) => (
            ProblemCode::Decode,
            format!("{operation}: unreadable response"),
        ),
        SdkError::ServiceError(s) => {
            let e = s.err();
            let c = e.code().unwrap_or("Unknown");
            let m = e.message().unwrap_or_default();
            let code = match c {
                "UnauthorizedOperation" | "AccessDenied" | "AccessDeniedException" => {
                    ProblemCode::PermissionDenied
                }
                "AuthFailure"
                | "InvalidClientTokenId"
                | "ExpiredToken"
                | "SignatureDoesNotMatch"
                | "UnrecognizedClientException" => ProblemCode::Auth,
                "RequestLimitExceeded"
                | "Throttling"
                | "ThrottlingException"
                | "TooManyRequestsException" => ProblemCode::Throttled,
                "OptInRequired" | "InvalidRegion" => ProblemCode::RegionDisabled,
                _ if s.raw().status().as_u16() >= 500 => ProblemCode::Transient,
                _ => ProblemCode::ApiError,
            };
            let message = if code == ProblemCode::PermissionDenied {
                format!(
                    "{operation} denied ({c}): the role needs {} ({m})",
                    needed_action(operation)
                )
            } else {
                format!("{operation} failed ({c}): {m}")
            };
            (code, message)
        }
        other => match credentials_error(other) {
            Some(c) => (ProblemCode::Auth, format!("{operation}: {c}")),
            None => (
                ProblemCode::Transient,
                format!("{operation}: {}", causes(other)),
            ),
        },
    };
    Problem {
        code,
        kind,
        operation: Some(operation.to_string()),
        message,
    }
}

fn needed_action(operation: &str) -> String {
    action_of(operation)
        .map(str::to_string)
        .unwrap_or_else(|| operation.to_string())
}

/// Every cause of an error on one line, each once (SDK errors nest the same text).
pub fn causes(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cur {
        let t = e.to_string();
        if !t.is_empty() && !parts.iter().any(|p| p.contains(&t)) {
            parts.push(t);
        }
        cur = e.source();
    }
    parts.join(": ")
}

/// A credentials failure somewhere in the error's causes, as one line that says what was tried
/// and what to set.
fn credentials_error(err: &(dyn std::error::Error + 'static)) -> Option<String> {
    use aws_credential_types::provider::error::CredentialsError;
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cur {
        if let Some(c) = e.downcast_ref::<CredentialsError>() {
            return Some(match c {
                CredentialsError::CredentialsNotLoaded(_) => {
                    let tried = tried_providers(&format!("{c:?}"));
                    format!(
                        "no AWS credentials found ({} tried): set AWS_PROFILE (or `profile` in the source), \
                         AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, run `aws sso login`, or run on a host with an instance role",
                        if tried.is_empty() { "the default chain".to_string() } else { tried.join(", ") }
                    )
                }
                CredentialsError::ProviderTimedOut(_) => {
                    "the AWS credentials provider timed out (instance metadata or SSO unreachable): set AWS_PROFILE or static credentials".to_string()
                }
                CredentialsError::InvalidConfiguration(_) => format!(
                    "the AWS credentials configuration is invalid: {}",
                    causes(c)
                ),
                _ => format!("AWS credentials could not be loaded: {}", causes(c)),
            });
        }
        cur = e.source();
    }
    None
}

/// The credential providers a chain tried, named as a person would (from the chain's report).
fn tried_providers(debug: &str) -> Vec<&'static str> {
    [
        ("\"Environment\"", "environment"),
        ("\"Profile\"", "profile and SSO"),
        ("\"WebIdentityToken\"", "web identity token"),
        ("\"EcsContainer\"", "ECS container"),
        ("\"Ec2InstanceMetadata\"", "instance metadata"),
    ]
    .into_iter()
    .filter(|(k, _)| debug.contains(k))
    .map(|(_, v)| v)
    .collect()
}
