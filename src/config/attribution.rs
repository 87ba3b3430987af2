//! `[attribution]` and `[severity]`: how actors are graded and drift is ranked.

use serde::Deserialize;

use netdrift_snapshots::{PortRange, Severity, SeverityPolicy};

#[derive(Debug, Clone)]
pub struct AttributionConfig {
    /// Events this far outside a change's window still count (default 300 s).
    pub clock_skew_seconds: i64,
    /// How far back the audit logs reach (default 90 days, CloudTrail's event history).
    pub log_retention_days: i64,
    /// Principal patterns that are privileged (wildcards).
    pub privileged: Vec<String>,
    /// Principal patterns of automation (pipelines, Terraform roles).
    pub automation: Vec<String>,
    /// User-agent patterns of automation.
    pub automation_user_agents: Vec<String>,
    /// Break-glass principal patterns.
    pub break_glass: Vec<String>,
}

impl Default for AttributionConfig {
    fn default() -> Self {
        AttributionConfig {
            clock_skew_seconds: 300,
            log_retention_days: 90,
            privileged: Vec::new(),
            automation: Vec::new(),
            automation_user_agents: Vec::new(),
            break_glass: Vec::new(),
        }
    }
}

/// Settings the drift computation needs.
#[derive(Debug, Clone, Default)]
pub struct DriftSettings {
    pub severity: SeverityPolicy,
    /// Expected ports per scope key (not atypical there).
    pub expected_ports: Vec<(netdrift_snapshots::ScopeKey, Vec<PortRange>)>,
    /// `[[exception]]`: exceptions by pattern.
    pub exceptions: Vec<super::ExceptionPattern>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSeverity {
    /// Ports whose exposure ranks higher (numbers or "lo-hi").
    sensitive_ports: Option<Vec<toml::Value>>,
    /// Condition code (docs/severity.md) → severity.
    #[serde(default)]
    overrides: toml::Table,
    /// Controller labels whose items rank one level lower (default none).
    #[serde(default)]
    lower_controllers: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAttribution {
    clock_skew_seconds: Option<i64>,
    log_retention_days: Option<i64>,
    #[serde(default)]
    privileged: Vec<String>,
    #[serde(default)]
    automation: Vec<String>,
    #[serde(default)]
    automation_user_agents: Vec<String>,
    #[serde(default)]
    break_glass: Vec<String>,
}

/// A port as configured: a number or a "lo-hi" string.
pub(super) fn port_value(v: &toml::Value) -> Result<PortRange, String> {
    match v {
        toml::Value::Integer(i) => PortRange::new(*i, *i).map_err(|e| e.to_string()),
        toml::Value::String(s) => PortRange::parse(s).map_err(|e| e.to_string()),
        other => Err(format!(
            "port {other} is neither a number nor a \"lo-hi\" string"
        )),
    }
}

pub(super) fn severity(s: Option<RawSeverity>, problems: &mut Vec<String>) -> SeverityPolicy {
    let mut severity = SeverityPolicy::default();
    let Some(s) = s else {
        return severity;
    };
    if let Some(ports) = s.sensitive_ports {
        severity.sensitive_ports.clear();
        for v in &ports {
            match port_value(v) {
                Ok(p) => severity.sensitive_ports.push((p.from, p.to)),
                Err(e) => problems.push(format!("severity: field `sensitive_ports`: {e}")),
            }
        }
    }
    for (code, v) in &s.overrides {
        let known = netdrift_snapshots::severity::MATRIX
            .iter()
            .any(|(c, _, _)| c == code);
        match (known, v.as_str().and_then(Severity::parse)) {
            (true, Some(sev)) => {
                severity.overrides.insert(code.clone(), sev);
            }
            (false, _) => problems.push(format!(
                "severity.overrides: unknown condition {code:?} (see docs/severity.md)"
            )),
            (_, None) => problems.push(format!(
                "severity.overrides.{code}: {v} is not info, low, medium, high or critical"
            )),
        }
    }
    for l in &s.lower_controllers {
        if l != "all" && !netdrift_snapshots::ownership::CONTROLLER_LABELS.contains(&l.as_str()) {
            problems.push(format!(
                "severity: field `lower_controllers`: unknown label {l:?} (expected all or one of {})",
                netdrift_snapshots::ownership::CONTROLLER_LABELS.join(", ")
            ));
        }
    }
    severity.lower_controllers = s.lower_controllers;
    severity
}

pub(super) fn attribution(a: Option<RawAttribution>) -> AttributionConfig {
    match a {
        Some(a) => AttributionConfig {
            clock_skew_seconds: a.clock_skew_seconds.unwrap_or(300),
            log_retention_days: a.log_retention_days.unwrap_or(90),
            privileged: a.privileged,
            automation: a.automation,
            automation_user_agents: a.automation_user_agents,
            break_glass: a.break_glass,
        },
        None => AttributionConfig::default(),
    }
}
