//! `[[exception]]`: exceptions by pattern. Each selects resources by scope, resource id or name,
//! tag and description (globs; every selector given must match, any of its values), allows
//! exactly the access its `allow` list names (a later widening beyond it is reported), and has
//! an owner, a reason and an expiry, never without.

use chrono::{DateTime, Utc};
use serde::Deserialize;

use netdrift_snapshots::{AccessSet, Direction};

#[derive(Debug, Clone)]
pub struct ExceptionPattern {
    /// Unique: what reports and `exception list` call it (`pattern:NAME`).
    pub name: String,
    pub owner: String,
    pub reason: String,
    pub ticket: Option<String>,
    pub expires_at: DateTime<Utc>,
    /// Scope keys (`aws:111122223333:*`).
    pub scopes: Vec<String>,
    /// Resource ids or names (`sg-*`, `k8s-elb-*`, `*/networkSecurityGroups/aks-*`).
    pub resources: Vec<String>,
    /// `key` or `key=value` (`*` in the value).
    pub tags: Vec<String>,
    /// The resource's description or any of its rules' descriptions.
    pub descriptions: Vec<String>,
    /// Only this direction (both when unset).
    pub direction: Option<Direction>,
    /// The access it allows, as written.
    pub allow: Vec<String>,
    pub envelope: AccessSet,
}

/// What a pattern is matched against: one resource's drift.
pub struct Candidate<'a> {
    pub scope: &'a str,
    pub resource: &'a str,
    pub name: Option<&'a str>,
    pub tags: &'a std::collections::BTreeMap<String, String>,
    pub descriptions: &'a [&'a str],
    pub direction: Direction,
}

/// No patterns given, or one of them (`*` wildcards) matches one of the values.
pub(super) fn glob(patterns: &[String], values: &[&str]) -> bool {
    patterns.is_empty()
        || patterns.iter().any(|p| {
            let w = wildmatch::WildMatch::new(p);
            values.iter().any(|v| w.matches(v))
        })
}

impl ExceptionPattern {
    /// Does this pattern select the resource (its access is then checked against `envelope`)?
    pub fn selects(&self, c: &Candidate<'_>) -> bool {
        let mut ids = vec![c.resource];
        ids.extend(c.name);
        self.direction.is_none_or(|d| d == c.direction)
            && glob(&self.scopes, &[c.scope])
            && glob(&self.resources, &ids)
            && super::report::tags_match(&self.tags, c.tags)
            && glob(&self.descriptions, c.descriptions)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPattern {
    name: Option<String>,
    owner: Option<String>,
    reason: Option<String>,
    ticket: Option<String>,
    expires: Option<String>,
    #[serde(default)]
    scopes: Vec<String>,
    #[serde(default)]
    resources: Vec<String>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    descriptions: Vec<String>,
    direction: Option<String>,
    #[serde(default)]
    allow: Vec<String>,
}

/// `[[exception]]` → a pattern, or its problems (each naming its key).
pub(super) fn pattern(r: RawPattern) -> Result<ExceptionPattern, Vec<String>> {
    let mut problems = Vec::new();
    let what = match &r.name {
        Some(n) => format!("exception {n:?}"),
        None => "exception".into(),
    };
    let mut need = |v: &Option<String>, key: &str, why: &str| match v {
        Some(s) if !s.trim().is_empty() => s.clone(),
        _ => {
            problems.push(format!("{what}: field `{key}` is required: {why}"));
            String::new()
        }
    };
    let name = need(&r.name, "name", "reports and `exception list` name it");
    let owner = need(&r.owner, "owner", "who answers for it");
    let reason = need(&r.reason, "reason", "why the access is acceptable");
    let expires = need(&r.expires, "expires", "exceptions never last forever");
    let expires_at = if expires.is_empty() {
        None
    } else {
        match crate::clock::parse_time(&expires) {
            Ok(t) => Some(t),
            Err(e) => {
                problems.push(format!("{what}: field `expires`: {e}"));
                None
            }
        }
    };
    if r.scopes.is_empty()
        && r.resources.is_empty()
        && r.tags.is_empty()
        && r.descriptions.is_empty()
    {
        problems.push(format!(
            "{what}: field `resources` (or `scopes`, `tags`, `descriptions`): a pattern needs at least one selector, or it would except everything"
        ));
    }
    let direction = match r.direction.as_deref() {
        None => None,
        Some("ingress") => Some(Direction::Ingress),
        Some("egress") => Some(Direction::Egress),
        Some(other) => {
            problems.push(format!(
                "{what}: field `direction`: {other:?} is neither \"ingress\" nor \"egress\""
            ));
            None
        }
    };
    let envelope = if r.allow.is_empty() {
        problems.push(format!(
            "{what}: field `allow` is required: the access it allows (\"tcp/443 0.0.0.0/0\"); a wider change is still reported"
        ));
        None
    } else {
        match netdrift_snapshots::parse_access(&r.allow) {
            Ok(a) => Some(a),
            Err(e) => {
                problems.push(format!("{what}: field `allow`: {e}"));
                None
            }
        }
    };
    match (expires_at, envelope, problems.is_empty()) {
        (Some(expires_at), Some(envelope), true) => Ok(ExceptionPattern {
            name,
            owner,
            reason,
            ticket: r.ticket,
            expires_at,
            scopes: r.scopes,
            resources: r.resources,
            tags: r.tags,
            descriptions: r.descriptions,
            direction,
            allow: r.allow,
            envelope,
        }),
        _ => Err(problems),
    }
}

/// A pattern a baseline file brought (stored as JSON), read again: what `pattern` reads.
pub fn pattern_from_json(body: &serde_json::Value) -> Result<ExceptionPattern, Vec<String>> {
    let raw: RawPattern = serde_json::from_value(body.clone()).map_err(|e| vec![e.to_string()])?;
    pattern(raw)
}

/// A baseline file's `[[exception]]` table, checked: its name and the table as JSON, or the
/// problems, each naming its key.
pub fn check_table(t: &toml::Value) -> Result<(String, serde_json::Value), Vec<String>> {
    let raw: RawPattern = t
        .clone()
        .try_into()
        .map_err(|e: toml::de::Error| vec![e.message().trim().to_string()])?;
    let p = pattern(raw)?;
    let body = serde_json::to_value(t).map_err(|e| vec![e.to_string()])?;
    Ok((p.name, body))
}
