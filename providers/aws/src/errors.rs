//! Provider errors grouped by what the caller does next.

use aws_sdk_ec2::error::{ProvideErrorMetadata, SdkError};
use netdrift_snapshots::{Problem, ResourceKind};

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
    "cloudtrail:LookupEvents",
];

/// Map an SDK error to a coverage problem naming the operation.
pub fn classify<E>(operation: &str, kind: Option<ResourceKind>, err: &SdkError<E>) -> Problem
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let (code, message) = match err {
        SdkError::TimeoutError(_) => ("timeout".to_string(), format!("{operation} timed out")),
        SdkError::DispatchFailure(d) => {
            let what = if d.is_timeout() {
                "timeout"
            } else {
                "transient"
            };
            (
                what.to_string(),
                format!("{operation}: connection failed: {d:?}"),
            )
        }
        SdkError::ResponseError(_) => (
            "decode".to_string(),
            format!("{operation}: unreadable response"),
        ),
        SdkError::ServiceError(s) => {
            let e = s.err();
            let c = e.code().unwrap_or("Unknown");
            let m = e.message().unwrap_or_default();
            let code = match c {
                "UnauthorizedOperation" | "AccessDenied" | "AccessDeniedException" => {
                    "permission-denied"
                }
                "AuthFailure"
                | "InvalidClientTokenId"
                | "ExpiredToken"
                | "SignatureDoesNotMatch"
                | "UnrecognizedClientException" => "auth",
                "RequestLimitExceeded"
                | "Throttling"
                | "ThrottlingException"
                | "TooManyRequestsException" => "throttled",
                "OptInRequired" | "InvalidRegion" => "region-disabled",
                _ if s.raw().status().as_u16() >= 500 => "transient",
                _ => "api-error",
            };
            let message = if code == "permission-denied" {
                format!(
                    "{operation} denied ({c}): the role needs {} ({m})",
                    action_of(operation)
                )
            } else {
                format!("{operation} failed ({c}): {m}")
            };
            (code.to_string(), message)
        }
        other => ("transient".to_string(), format!("{operation}: {other}")),
    };
    Problem {
        code,
        kind,
        operation: Some(operation.to_string()),
        message,
    }
}

fn action_of(operation: &str) -> String {
    ACTIONS
        .iter()
        .find(|a| a.ends_with(&format!(":{operation}")))
        .map(|a| a.to_string())
        .unwrap_or_else(|| operation.to_string())
}
