//! Google API errors grouped by what the caller does next, and the permissions netdrift uses.

use google_cloud_gax::error::Error;
use netdrift_snapshots::{Problem, ProblemCode, ResourceKind};

/// Every IAM permission the calls in this crate need. `docs/iam/gcp-role.json` must grant each
/// one (a test checks both ways), and each call site names its permission from this list.
pub const PERMISSIONS: &[&str] = &[
    "compute.firewalls.list",
    "compute.firewalls.get",
    "compute.networks.list",
    "compute.regions.list",
    "compute.networkFirewallPolicies.list",
    "compute.regionNetworkFirewallPolicies.list",
    "compute.firewallPolicies.list",
    "compute.instances.list",
    "resourcemanager.projects.list",
    "resourcemanager.folders.list",
    "logging.logEntries.list",
];

/// A problem that stops a whole source before any call (client setup).
pub fn setup_problem(message: String) -> Problem {
    Problem {
        code: netdrift_snapshots::ProblemCode::Setup,
        kind: None,
        operation: None,
        message,
    }
}

/// Map a client error to a coverage problem naming the permission the call needed.
pub fn classify(operation: &str, kind: Option<ResourceKind>, err: &Error) -> Problem {
    let status = err.http_status_code();
    let code = if err.is_timeout() {
        ProblemCode::Timeout
    } else if err.is_authentication() || status == Some(401) {
        ProblemCode::Auth
    } else if status == Some(403) {
        ProblemCode::PermissionDenied
    } else if status == Some(404) {
        ProblemCode::NotFound
    } else if status == Some(429) || err.is_exhausted() {
        ProblemCode::Throttled
    } else if status.is_some_and(|s| s >= 500)
        || err.is_io()
        || err.is_connect()
        || err.is_transport()
    {
        ProblemCode::Transient
    } else if err.is_deserialization() {
        ProblemCode::Decode
    } else {
        ProblemCode::Rejected
    };
    let detail = if code == ProblemCode::Auth && status.is_none() {
        // The credentials could not produce a token (none found, or expired): one line that
        // says what Application Default Credentials tried and what to set.
        format!(
            "no usable GCP credentials (Application Default Credentials tried \
             GOOGLE_APPLICATION_CREDENTIALS, gcloud's application_default_credentials.json and the \
             metadata server): run `gcloud auth application-default login` or set \
             GOOGLE_APPLICATION_CREDENTIALS ({})",
            one_line(&err.to_string())
        )
    } else {
        err.status()
            .map(|s| s.message.clone())
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| one_line(&err.to_string()))
    };
    Problem {
        code,
        kind,
        operation: Some(operation.into()),
        message: format!(
            "{operation}: {detail}{}",
            status.map(|s| format!(" (HTTP {s})")).unwrap_or_default()
        ),
    }
}

/// A library's multi-line error text as one line.
pub fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}
