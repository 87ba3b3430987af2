//! Whether an Azure subscription's Activity Log is exported: its subscription-scope diagnostic
//! settings (`GET /subscriptions/{id}/providers/Microsoft.Insights/diagnosticSettings`,
//! `az monitor diagnostic-settings subscription list`), read into a verdict with one evidence
//! line per setting. A setting exports the Administrative category (where every
//! `Microsoft.Network` write lands) when a `logs` entry enables `category` `Administrative` or
//! `categoryGroup` `allLogs`, and it names a destination: a Log Analytics workspace, a storage
//! account, an event hub or a partner solution. Without one the platform keeps the Activity Log
//! for 90 days only.

use serde_json::Value;

/// What the settings show: whether some setting exports Administrative events, and what each
/// setting does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exported {
    pub exported: bool,
    pub evidence: Vec<String>,
}

const DESTINATIONS: [(&str, &str); 4] = [
    ("workspaceId", "Log Analytics workspace"),
    ("storageAccountId", "storage account"),
    ("eventHubAuthorizationRuleId", "event hub"),
    ("marketplacePartnerId", "partner solution"),
];

/// Read a list response (`{"value": [...]}`), or the bare array the CLI prints.
pub fn read(doc: &Value) -> Result<Exported, String> {
    let settings = match doc {
        Value::Array(a) => a,
        Value::Object(o) => o
            .get("value")
            .and_then(Value::as_array)
            .ok_or("the diagnostic settings response has no `value` list")?,
        _ => return Err("the diagnostic settings response is not a JSON object".into()),
    };
    let mut exported = false;
    let mut evidence = Vec::new();
    for (i, s) in settings.iter().enumerate() {
        let name = s["name"].as_str().unwrap_or("(unnamed)");
        let props = s.get("properties").unwrap_or(s);
        let logs = match props.get("logs") {
            None | Some(Value::Null) => &[][..],
            Some(Value::Array(a)) => a.as_slice(),
            Some(other) => {
                return Err(format!(
                    "value[{i}] ({name}): field `properties.logs`: expected a list, found {other}"
                ))
            }
        };
        let admin = logs.iter().any(|l| {
            l["enabled"].as_bool() == Some(true)
                && (l["category"]
                    .as_str()
                    .is_some_and(|c| c.eq_ignore_ascii_case("Administrative"))
                    || l["categoryGroup"]
                        .as_str()
                        .is_some_and(|g| g.eq_ignore_ascii_case("allLogs")))
        });
        let to: Vec<&str> = DESTINATIONS
            .iter()
            .filter(|(k, _)| props[*k].as_str().is_some_and(|v| !v.trim().is_empty()))
            .map(|(_, what)| *what)
            .collect();
        let enabled: Vec<String> = logs
            .iter()
            .filter(|l| l["enabled"].as_bool() == Some(true))
            .filter_map(|l| l["category"].as_str().or(l["categoryGroup"].as_str()))
            .map(str::to_string)
            .collect();
        let verdict = match (admin, to.is_empty()) {
            (true, false) => {
                exported = true;
                "exports Administrative"
            }
            (true, true) => "enables Administrative but names no destination",
            (false, _) => "does not export Administrative",
        };
        evidence.push(format!(
            "diagnostic setting {name}: {verdict} (enabled: {}; to: {})",
            if enabled.is_empty() {
                "none".into()
            } else {
                enabled.join(", ")
            },
            if to.is_empty() {
                "none".into()
            } else {
                to.join(", ")
            }
        ));
    }
    if settings.is_empty() {
        evidence.push("no diagnostic setting at subscription scope".into());
    }
    Ok(Exported { exported, evidence })
}
