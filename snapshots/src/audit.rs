//! Control-plane audit events in provider-neutral form (CloudTrail, GCP Cloud Audit Logs,
//! Azure Activity Log), as the attribution stage consumes them.

use serde::{Deserialize, Serialize};

use crate::model::{Provider, Rule};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActorType {
    Human,
    RoleSession,
    ServiceAccount,
    Root,
    Service,
    Federated,
    Unknown,
}

impl ActorType {
    pub fn as_str(self) -> &'static str {
        match self {
            ActorType::Human => "human",
            ActorType::RoleSession => "role_session",
            ActorType::ServiceAccount => "service_account",
            ActorType::Root => "root",
            ActorType::Service => "service",
            ActorType::Federated => "federated",
            ActorType::Unknown => "unknown",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyType {
    /// `AKIA…`: an IAM user's access key.
    LongTerm,
    /// `ASIA…`: STS session credentials.
    Temporary,
}

/// Who made a call, as far as the log says.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Actor {
    pub principal: Option<String>,
    pub kind: Option<ActorType>,
    /// The role behind a session (AWS session issuer), or the Azure role from
    /// `authorization.evidence`.
    pub role: Option<String>,
    pub source_identity: Option<String>,
    /// AWS IAM Identity Center user (`onBehalfOf`).
    pub identity_center_user: Option<String>,
    pub access_key_id: Option<String>,
    pub key_type: Option<KeyType>,
    /// GCP user-managed service-account key used for the call.
    pub service_account_key: Option<String>,
    /// GCP impersonation chain, first the original caller.
    pub delegation_chain: Vec<String>,
    /// Azure role assignment that authorized the write.
    pub role_assignment: Option<String>,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
    pub tool: Option<String>,
    pub mfa: Option<bool>,
    pub invoked_by: Option<String>,
}

/// One audit event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEvent {
    pub provider: Provider,
    /// Deduplication key: `aws:<eventID>`, `gcp:op:<operation id>` (first and last entries of one
    /// operation share it) or `gcp:<insertId>`, `azure:<correlation>:<operation>:<outcome>`.
    pub event_id: String,
    /// Written to the millisecond (`crate::time::millis`).
    #[serde(with = "crate::time::as_millis")]
    pub event_time: chrono::DateTime<chrono::Utc>,
    pub account: Option<String>,
    pub region: Option<String>,
    pub event_name: String,
    /// Resource ids touched, in model form (`sg-…`, `sgr-…`, `acl-…`,
    /// `projects/P/global/firewalls/N`, lower-cased Azure ids).
    pub resources: Vec<String>,
    pub succeeded: bool,
    pub error: Option<String>,
    pub actor: Actor,
    /// The access the request asked for, as model rules, when the payload says.
    pub payload: Vec<Rule>,
    /// Whether the request payload removes access (revoke, delete entry) rather than adds.
    pub payload_removes: bool,
    /// AWS `AssumeRole*`: the access key id the call issued.
    pub issued_key: Option<String>,
    /// Whether the event is in the exposure event catalogue (docs/events.md).
    pub catalogued: bool,
    /// The record exactly as the log delivered it (kept as evidence), as its JSON text: never
    /// built as a tree unless asked (`Record::value`). `None` when an event was loaded without
    /// it (bulk loads from the store read it only for events whose grading needs it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw: Option<Record>,
}

/// A delivered audit record's JSON text, serialized as the JSON it is.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Record(Box<serde_json::value::RawValue>);

impl Record {
    /// The record as delivered; `text` must be one JSON value.
    pub fn from_text(text: &str) -> Result<Record, serde_json::Error> {
        serde_json::value::RawValue::from_string(text.to_string()).map(Record)
    }

    /// A record that was built as a tree (written compactly).
    pub fn from_value(v: &serde_json::Value) -> Record {
        Record(serde_json::value::to_raw_value(v).expect("a JSON value serializes"))
    }

    pub fn from_raw(raw: &serde_json::value::RawValue) -> Record {
        Record(raw.to_owned())
    }

    pub fn text(&self) -> &str {
        self.0.get()
    }

    /// The record as a tree (parsed on each call).
    pub fn value(&self) -> serde_json::Value {
        serde_json::from_str(self.0.get()).unwrap_or(serde_json::Value::Null)
    }
}

impl PartialEq for Record {
    fn eq(&self, other: &Record) -> bool {
        self.text() == other.text()
    }
}

impl AuditEvent {
    /// The delivered record as a tree, or `null` when the event carries none.
    pub fn record(&self) -> serde_json::Value {
        self.raw
            .as_ref()
            .map(Record::value)
            .unwrap_or(serde_json::Value::Null)
    }
}

/// Which tool a user agent reveals.
pub fn tool_from_user_agent(ua: &str) -> Option<&'static str> {
    let l = ua.to_ascii_lowercase();
    Some(if l.contains("terraform") {
        "terraform"
    } else if l.contains("pulumi") {
        "pulumi"
    } else if l.contains("cloudformation") {
        "cloudformation"
    } else if l.contains("aws-cli") {
        "aws-cli"
    } else if l.contains("console.") || l == "aws internal" || l.contains("signin.amazonaws.com") {
        "console"
    } else if l.contains("boto3") || l.contains("botocore") {
        "sdk (boto3)"
    } else if l.contains("aws-sdk") {
        "sdk"
    } else if l.contains("google-cloud-sdk") || l.contains("gcloud") {
        "gcloud"
    } else if l.contains("mozilla") || l.contains("chrome") {
        "console (browser)"
    } else if l.contains("azure-cli") || l.contains("azurecli") {
        "azure-cli"
    } else if l.contains("azurepowershell") {
        "azure-powershell"
    } else if l.contains("ansible") {
        "ansible"
    } else if l.is_empty() {
        return None;
    } else {
        "other"
    })
}
