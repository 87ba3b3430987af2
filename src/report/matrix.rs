//! The coverage matrix: for each collected scope, whether its state was collected, its audit
//! logs were read for the period, its changes are logged at all, and when its last audit event
//! was seen, so an auditor sees in one table that every account and region in scope is covered.
//! Recorded in the run's summary (and so in its hash chain and the evidence bundle) and shown
//! in the HTML and Markdown reports.

use anyhow::Result;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use netdrift_snapshots::logging::{LoggingCheck, LoggingVerdict};
use netdrift_snapshots::{ScopeKey, SnapshotStatus};

use crate::findings::{CoverageCode, CoverageFinding};
use crate::store::Store;

/// One scope's row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatrixRow {
    pub scope: ScopeKey,
    /// `complete`, `partial` or `failed`.
    pub state: String,
    /// `read` (an audit read covered the period), `failed` (one was refused or broke), or
    /// `not read` (no audit source covers the account).
    pub audit_logs: String,
    /// The logging verdict (`logged`, `trail-missing`, …), or `not checked` (the source does
    /// not check it: file sources, sources that read no audit log).
    pub logging: String,
    /// The newest stored audit event of the scope's account (and region).
    #[serde(with = "netdrift_snapshots::time::as_secs::option")]
    pub last_event: Option<DateTime<Utc>>,
}

fn verdict(v: LoggingVerdict) -> &'static str {
    match v {
        LoggingVerdict::Logged => "logged",
        LoggingVerdict::TrailMissing => "trail-missing",
        LoggingVerdict::TrailStopped => "trail-stopped",
        LoggingVerdict::ManagementEventsExcluded => "management-events-excluded",
        LoggingVerdict::Unverified => "unverified",
        LoggingVerdict::Unreadable => "unreadable",
        LoggingVerdict::NotExported => "not-exported",
    }
}

/// The matrix of the scopes a run collected, for the period `from..to`.
pub fn build(
    store: &dyn Store,
    collected: &[(ScopeKey, SnapshotStatus, usize)],
    findings: &[CoverageFinding],
    logging: &[LoggingCheck],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<MatrixRow>> {
    let mut out = Vec::new();
    for (key, status, _) in collected {
        let scope = key.scope();
        let provider = scope.provider();
        let failed = findings.iter().any(|f| {
            f.code == CoverageCode::AuditReadFailed
                && f.provider == provider
                && f.subject.scope().is_none_or(|s| s == key)
        });
        let audit_logs = if failed {
            "failed"
        } else if store.audit_covers(provider, scope.account(), from, to)? {
            "read"
        } else {
            "not read"
        };
        let logging = logging
            .iter()
            .find(|c| &c.scope.key() == key)
            .map(|c| verdict(c.verdict))
            .unwrap_or("not checked");
        out.push(MatrixRow {
            scope: key.clone(),
            state: status.as_str().to_string(),
            audit_logs: audit_logs.into(),
            logging: logging.into(),
            last_event: store.last_event_at(provider, scope.account(), scope.region())?,
        });
    }
    Ok(out)
}

const HEADERS: [&str; 5] = [
    "scope",
    "state collected",
    "audit logs read",
    "changes logged",
    "last audit event",
];

fn cells(r: &MatrixRow) -> [String; 5] {
    [
        r.scope.to_string(),
        r.state.clone(),
        r.audit_logs.clone(),
        r.logging.clone(),
        r.last_event
            .map(netdrift_snapshots::time::secs)
            .unwrap_or_else(|| "never".into()),
    ]
}

/// The Markdown section.
pub fn markdown(rows: &[MatrixRow]) -> String {
    let md = crate::report::md;
    let mut s = format!(
        "\n## Coverage matrix\n\n| {} |\n|{}\n",
        HEADERS.join(" | "),
        "---|".repeat(HEADERS.len())
    );
    for r in rows {
        let c: Vec<String> = cells(r).iter().map(|x| md(x)).collect();
        s += &format!("| {} |\n", c.join(" | "));
    }
    s
}

/// The HTML section; a cell that is not a clean "yes" is marked.
pub fn html(rows: &[MatrixRow]) -> String {
    let h = crate::report::html::h;
    let mut s = String::from("<h2>Coverage matrix</h2>\n<table id=\"matrix\"><thead><tr>");
    for c in HEADERS {
        s += &format!("<th>{}</th>", h(c));
    }
    s += "</tr></thead><tbody>\n";
    for r in rows {
        let good = [
            true,
            r.state == "complete",
            r.audit_logs == "read",
            r.logging == "logged",
            r.last_event.is_some(),
        ];
        s += "<tr>";
        for (c, ok) in cells(r).iter().zip(good) {
            if ok {
                s += &format!("<td>{}</td>", h(c));
            } else {
                s += &format!("<td class=\"gap\">{}</td>", h(c));
            }
        }
        s += "</tr>\n";
    }
    s += "</tbody></table>\n";
    s
}
