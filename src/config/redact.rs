//! The configuration in force with its secrets removed: recorded with every run, and what an
//! evidence bundle shows. Secrets are found by key name (tokens, passwords, URLs with user
//! info) in the file as written, and the resolved settings never carry them.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::{Config, SourceKind};

const SECRET_KEYS: &[&str] = &[
    "secret",
    "token",
    "password",
    "webhook_url",
    "external_id",
    "credentials",
    "private",
];

/// The configuration text as JSON, secrets removed (`Null` for an empty text).
pub(super) fn file(text: &str) -> Value {
    match toml::from_str::<toml::Table>(text) {
        Ok(t) if !t.is_empty() => {
            let mut v = serde_json::to_value(t).unwrap_or(Value::Null);
            redact(&mut v);
            v
        }
        _ => Value::Null,
    }
}

fn redact(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                let lk = k.to_ascii_lowercase();
                // `url` is a webhook route's (its token is in the path).
                if (lk == "url" || SECRET_KEYS.iter().any(|s| lk.contains(s)))
                    && !lk.ends_with("_env")
                {
                    *x = Value::String("[redacted]".into());
                } else {
                    redact(x);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(redact),
        Value::String(s) => {
            // URLs with credentials or tokens in them.
            if let Some(at) = s.find('@').filter(|_| s.contains("://")) {
                let scheme = s.find("://").map(|i| i + 3).unwrap_or(0);
                if scheme < at {
                    *s = format!("{}[redacted]{}", &s[..scheme], &s[at..]);
                }
            }
        }
        _ => {}
    }
}

/// The configuration in force, secrets removed: the file as written, and what it resolved to.
pub fn redacted(cfg: &Config) -> Value {
    let file = cfg.file_redacted.clone();
    json!({
        "path": cfg.path.as_ref().map(|p| p.display().to_string()),
        "file": file,
        "resolved": {
            "sources": cfg.sources.iter().map(|s| json!({"name": s.name, "provider": s.provider.as_str(), "kind": match &s.kind {
                SourceKind::Files { scope, files } => json!({"files": files.len(), "scope": scope.key()}),
                SourceKind::Live(live) => json!({"live": live.source().describe()}),
            }})).collect::<Vec<_>>(),
            "report_formats": cfg.report.formats,
            "webhooks": cfg.report.webhooks.iter().map(|w| json!({"name": w.name, "url": "[redacted]", "min_severity": w.min_severity.as_str(), "providers": w.filter.providers.iter().map(|p| p.as_str()).collect::<Vec<_>>(), "scopes": w.filter.scopes, "tags": w.filter.tags})).collect::<Vec<_>>(),
            "schedule": {"reconcile": cfg.schedule.reconcile.expr(), "snapshot": cfg.schedule.snapshot.as_ref().map(|s| s.expr()), "timezone": cfg.schedule.timezone.name()},
            "watch": cfg.watch.as_ref().map(|w| json!({"interval_seconds": w.interval.as_secs(), "overlap_seconds": w.overlap.num_seconds()})),
            "retention_days": cfg.retention_days,
            "runs_retention_days": cfg.runs_retention_days,
            "sensitive_ports": cfg.drift.severity.sensitive_ports.iter().map(|(lo, hi)| if lo == hi { lo.to_string() } else { format!("{lo}-{hi}") }).collect::<Vec<_>>(),
            "severity_overrides": cfg.drift.severity.overrides.iter().map(|(k, v)| (k.clone(), v.as_str())).collect::<BTreeMap<_, _>>(),
            "change_windows": cfg.change_windows.iter().map(|w| json!({"name": w.name, "cron": w.start.expr(), "duration_minutes": w.duration_minutes, "timezone": w.start.zone.name(), "scopes": w.scopes, "principals": w.principals, "ticket": w.ticket})).collect::<Vec<_>>(),
            "signing_key": cfg.evidence.signing_key.as_ref().map(|p| p.display().to_string()),
        }
    })
}
