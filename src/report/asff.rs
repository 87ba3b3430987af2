//! Drift items and coverage findings in the AWS Security Finding Format (ASFF), as the body of
//! Security Hub's `BatchImportFindings` request (`{"Findings": [...]}`): `aws securityhub
//! batch-import-findings --cli-input-json file://latest.asff.json` (in batches of 100). Every
//! required attribute is set (SchemaVersion 2018-10-08, Id, ProductArn, GeneratorId,
//! AwsAccountId, Types, CreatedAt, UpdatedAt, Severity, Title, Description, Resources), with
//! the resource ARN for AWS groups and ACLs and the revert command in `Remediation`.
//!
//! ASFF needs an AWS account for every finding: an AWS item uses its own account and region; a
//! GCP or Azure item or finding uses `[report] asff_account` (the account whose Security Hub
//! collects them) and `asff_region`, and is left out, with a warning, when none is configured.

use serde_json::{json, Value};

use netdrift_snapshots::{Provider, ResourceKind, Severity};

use crate::config::Config;
use crate::findings::{CoverageFinding, DriftItem, DriftReport};

pub const SCHEMA_VERSION: &str = "2018-10-08";

fn label(s: Severity) -> &'static str {
    match s {
        Severity::Info => "INFORMATIONAL",
        Severity::Low => "LOW",
        Severity::Medium => "MEDIUM",
        Severity::High => "HIGH",
        Severity::Critical => "CRITICAL",
    }
}

/// At most `max` characters, cut on a character boundary with an ellipsis.
fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max - 1).collect();
    out.push('…');
    out
}

fn time(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The account and region a finding is imported under, if it can be.
fn home<'a>(
    cfg: &'a Config,
    provider: Provider,
    account: &'a str,
    region: Option<&'a str>,
) -> Option<(&'a str, &'a str)> {
    let fallback_region = cfg.report.asff_region.as_deref().unwrap_or("us-east-1");
    match provider {
        Provider::Aws => Some((account, region.unwrap_or(fallback_region))),
        _ => cfg
            .report
            .asff_account
            .as_deref()
            .map(|a| (a, fallback_region)),
    }
}

fn product_arn(account: &str, region: &str) -> String {
    format!("arn:aws:securityhub:{region}:{account}:product/{account}/default")
}

fn resource(i: &DriftItem, account: &str, region: &str) -> Value {
    let (kind, id) = match (i.provider, i.resource_kind) {
        (Provider::Aws, ResourceKind::AwsSecurityGroup) => (
            "AwsEc2SecurityGroup",
            format!(
                "arn:aws:ec2:{region}:{account}:security-group/{}",
                i.resource
            ),
        ),
        (Provider::Aws, ResourceKind::AwsNetworkAcl) => (
            "AwsEc2NetworkAcl",
            format!("arn:aws:ec2:{region}:{account}:network-acl/{}", i.resource),
        ),
        _ => ("Other", i.resource.clone()),
    };
    let mut details = serde_json::Map::new();
    details.insert("provider".into(), json!(i.provider.as_str()));
    details.insert("scope".into(), json!(i.scope.as_str()));
    if let Some(n) = &i.resource_name {
        details.insert("name".into(), json!(n));
    }
    json!({
        "Type": kind,
        "Id": id,
        "Partition": "aws",
        "Region": region,
        "Details": {"Other": details},
    })
}

fn item(i: &DriftItem, account: &str, region: &str, generated: &str) -> Value {
    let next = super::next_commands(i);
    let remediation = match next.first() {
        Some(revert) => format!("Run `{revert}`: it prints the minimal calls back to the approved access (or why none can be given). Or except it with an owner and expiry, or approve the new state (netdrift exception add / baseline approve)."),
        None => "Covered by an exception, or cosmetic: nothing to restore.".into(),
    };
    let mut v = json!({
        "SchemaVersion": SCHEMA_VERSION,
        "Id": format!("netdrift/{}/{}", i.scope, i.id),
        "ProductArn": product_arn(account, region),
        "GeneratorId": format!("netdrift/drift/{}", i.severity_code),
        "AwsAccountId": account,
        "Types": ["Software and Configuration Checks/Industry and Regulatory Standards/Firewall Drift"],
        "CreatedAt": time(&i.snapshot_taken_at),
        "UpdatedAt": generated,
        "FirstObservedAt": time(&i.snapshot_taken_at),
        "Severity": {"Label": label(i.severity), "Original": i.severity.as_str()},
        "Title": clip(&format!("Firewall drift: {} {}: {}", i.resource, i.direction.as_str(), super::headline(i)), 256),
        "Description": clip(&format!("{}. {}", super::headline(i), i.reasons.join("; ")), 1024),
        "Remediation": {"Recommendation": {"Text": clip(&remediation, 512)}},
        "Resources": [resource(i, account, region)],
        "Compliance": {"Status": if i.is_unapproved() { "FAILED" } else { "PASSED" },
                       "RelatedRequirements": crate::controls::item_control_ids(i).into_iter().take(32).collect::<Vec<_>>()},
        "Workflow": {"Status": if i.exception.is_some() { "SUPPRESSED" } else { "NEW" }},
        "RecordState": "ACTIVE",
        "ProductFields": {"netdrift/id": i.id, "netdrift/scope": i.scope.as_str(), "netdrift/provider": i.provider.as_str()},
    });
    if let Some(who) = i
        .attribution
        .as_ref()
        .and_then(|a| a.actors.first())
        .and_then(|a| a.principal.clone())
    {
        v["ProductFields"]["netdrift/actor"] = json!(who);
    }
    v
}

fn coverage(c: &CoverageFinding, account: &str, region: &str, generated: &str) -> Value {
    json!({
        "SchemaVersion": SCHEMA_VERSION,
        "Id": format!("netdrift/{}/{}", c.subject.as_str(), c.code),
        "ProductArn": product_arn(account, region),
        "GeneratorId": format!("netdrift/coverage/{}", c.code),
        "AwsAccountId": account,
        "Types": ["Software and Configuration Checks/Industry and Regulatory Standards/Coverage Gap"],
        "CreatedAt": generated,
        "UpdatedAt": generated,
        "Severity": {"Label": "MEDIUM"},
        "Title": clip(&format!("netdrift coverage: {} {}", c.code, c.subject.as_str()), 256),
        "Description": clip(&c.message, 1024),
        "Remediation": {"Recommendation": {"Text": clip("What was not seen is not clean: see docs/findings.md for this code and fix the cause (permissions, logging, the source) before trusting the scope's silence.", 512)}},
        "Resources": [{"Type": "Other", "Id": c.subject.as_str(), "Partition": "aws", "Region": region}],
        "RecordState": "ACTIVE",
        "ProductFields": {"netdrift/code": c.code.as_str(), "netdrift/provider": c.provider.as_str()},
    })
}

/// The `BatchImportFindings` body, and how many findings could not be given an AWS account.
pub fn render(cfg: &Config, report: &DriftReport) -> (String, usize) {
    let generated = time(&report.generated_at);
    let mut findings = Vec::new();
    let mut left_out = 0;
    for i in &report.drift {
        let scope = i.scope.scope();
        match home(cfg, i.provider, scope.account(), scope.region()) {
            Some((a, r)) => findings.push(item(i, a, r, &generated)),
            None => left_out += 1,
        }
    }
    for c in &report.coverage {
        let scope = match &c.subject {
            crate::findings::Subject::Scope(k) => Some(k.scope()),
            crate::findings::Subject::Source(_) => None,
        };
        let (account, region) = match &scope {
            Some(s) => (s.account().to_string(), s.region().map(str::to_string)),
            None => (String::new(), None),
        };
        let aws_ok = c.provider == Provider::Aws && account.len() == 12;
        let got = if aws_ok {
            home(cfg, Provider::Aws, &account, region.as_deref())
                .map(|(a, r)| (a.to_string(), r.to_string()))
        } else {
            home(cfg, Provider::Gcp, "", None).map(|(a, r)| (a.to_string(), r.to_string()))
        };
        match got {
            Some((a, r)) => findings.push(coverage(c, &a, &r, &generated)),
            None => left_out += 1,
        }
    }
    let body = serde_json::to_string_pretty(&json!({ "Findings": findings })).expect("serializes");
    (body, left_out)
}
