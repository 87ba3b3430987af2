//! Attribution of drift items to the actors in the control-plane audit logs: who, through which
//! role, session or key, from where, with what tool, inside or outside an approved change.

mod load;
mod windows;

use std::collections::HashMap;

use anyhow::Result;
use chrono::{DateTime, Duration, Utc};

use netdrift_snapshots::access::{evaluate, rule_boxes, AccessBox};
use netdrift_snapshots::{
    AccessSet, Actor, ActorType, AuditEvent, Change, KeyType, Resource, ResourceId,
};

pub use load::attribute_all;
pub use windows::{load_records, matches_any, window_contains, ChangeRecord};

use crate::config::{AttributionConfig, ChangeWindow};
use crate::drift::Computed;
use crate::findings::{ActorRef, Attribution, AttributionStatus};
use crate::findings::{CoverageFinding, DriftItem};
use crate::store::{parse_ts, ts};
pub use crate::store::{temporary_key, ItemInputs, MAX_CHAIN};

/// What attribution is configured with.
pub struct Settings<'a> {
    pub attribution: &'a AttributionConfig,
    pub change_windows: &'a [ChangeWindow],
    pub records: &'a [ChangeRecord],
}

/// The attribution window: from the last snapshot before the drift snapshot that still showed
/// the approved state (`last_seen`), else the approval, else the log retention horizon; to the
/// drift snapshot; widened by the clock skew on both sides.
pub fn window(
    item: &DriftItem,
    last_seen: Option<DateTime<Utc>>,
    cfg: &AttributionConfig,
) -> Result<(DateTime<Utc>, DateTime<Utc>)> {
    window_from(
        &item.snapshot_taken_at,
        item.baseline_approved_at.as_deref(),
        last_seen,
        cfg,
    )
}

/// [`window`] from the two times of the item it reads.
pub fn window_from(
    snapshot_taken_at: &str,
    baseline_approved_at: Option<&str>,
    last_seen: Option<DateTime<Utc>>,
    cfg: &AttributionConfig,
) -> Result<(DateTime<Utc>, DateTime<Utc>)> {
    let end = parse_ts(snapshot_taken_at)?;
    let skew = Duration::seconds(cfg.clock_skew_seconds);
    let start = match (last_seen, baseline_approved_at) {
        (Some(s), _) => s,
        (None, Some(a)) => parse_ts(a)?.min(end),
        (None, None) => end - Duration::days(cfg.log_retention_days),
    };
    Ok((start - skew, end + skew))
}

fn payload_set(payload: &[netdrift_snapshots::Rule], item: &DriftItem) -> AccessSet {
    let context = Resource::new(ResourceId::new(item.resource.clone()), item.resource_kind);
    let boxes: Vec<AccessBox> = payload
        .iter()
        .filter(|r| r.direction == item.direction)
        .flat_map(|r| rule_boxes(r, &context))
        .map(|mut b| {
            b.allow = true;
            b
        })
        .collect();
    evaluate(&boxes)
}

fn is_delete(name: &str) -> bool {
    let l = name.to_ascii_lowercase();
    l.starts_with("delete") && !l.contains("entry")
        || l.ends_with("firewalls.delete")
        || l.ends_with("networksecuritygroups/delete")
}

/// A deleted NACL entry that was a deny covering the newly allowed access.
fn deleted_deny_entry(ev: &AuditEvent, c: &Computed, before: Option<&Resource>) -> bool {
    if ev.event_name != "DeleteNetworkAclEntry" {
        return false;
    }
    let req = &ev.raw["requestParameters"];
    let Some(number) = req["ruleNumber"]
        .as_i64()
        .or_else(|| req["ruleNumber"].as_str().and_then(|s| s.parse().ok()))
    else {
        return false;
    };
    let egress = req["egress"].as_bool().unwrap_or(false);
    let Some(before) = before else {
        return false;
    };
    before.rules.iter().any(|r| {
        r.priority == Some(number as u32)
            && (r.direction == netdrift_snapshots::Direction::Egress) == egress
            && r.action == netdrift_snapshots::Action::Deny
            && {
                let boxes: Vec<AccessBox> = rule_boxes(r, before)
                    .into_iter()
                    .map(|mut b| {
                        b.allow = true;
                        b
                    })
                    .collect();
                !evaluate(&boxes).intersection(&c.allowed).is_empty()
            }
    })
}

/// How surely one successful event made the item's change: `exact` when its request produces
/// the drift (a delete of a removed resource, a deleted deny entry that covered the new access,
/// a payload whose access meets it), else `probable`.
pub fn grade(ev: &AuditEvent, c: &Computed, before: Option<&Resource>) -> AttributionStatus {
    let item = &c.item;
    if item.change == Change::Removed && is_delete(&ev.event_name) {
        return AttributionStatus::Exact;
    }
    if deleted_deny_entry(ev, c, before) {
        return AttributionStatus::Exact;
    }
    // A request that carries only what it changes is applied onto the approved state.
    let applied;
    let payload: &[netdrift_snapshots::Rule] =
        if netdrift_provider_file::audit::carries_changes_only(ev) {
            applied = before
                .and_then(|before| {
                    netdrift_provider_file::audit::applied_onto(
                        ev,
                        before,
                        &scope_account(&item.scope),
                    )
                })
                .unwrap_or_default();
            &applied
        } else {
            &ev.payload
        };
    if !payload.is_empty() {
        let p = payload_set(payload, item);
        let hit = if ev.payload_removes {
            !p.intersection(&c.denied).is_empty()
        } else {
            !p.intersection(&c.allowed).is_empty()
        };
        if hit {
            return AttributionStatus::Exact;
        }
    }
    AttributionStatus::Probable
}

/// The ids whose events concern an item: the resource, what it replaces, its rules' ids.
pub fn ids_for(c: &Computed) -> Vec<String> {
    let mut ids = vec![c.item.resource.clone()];
    ids.extend(c.item.replaces.iter().cloned());
    ids.extend(c.rule_ids.iter().cloned());
    ids
}

/// Attribute one drift item from its inputs alone, and the coverage finding it reveals (a
/// logging gap, an audit read that failed).
pub fn attribute(
    c: &Computed,
    inputs: &ItemInputs,
    settings: &Settings<'_>,
    now: DateTime<Utc>,
) -> (Attribution, Option<CoverageFinding>) {
    let item = &c.item;
    let cfg = settings.attribution;
    let (_, end) = inputs.window;
    let (from, to) = (ts(inputs.window.0), ts(inputs.window.1));
    let events = &inputs.events;
    let mut actors = Vec::new();
    let mut attempts = Vec::new();
    for ev in events.iter().filter(|e| e.catalogued) {
        let g = if ev.succeeded {
            grade(ev, c, inputs.before.as_ref())
        } else {
            AttributionStatus::Probable
        };
        let r = actor_ref(&inputs.issuers, cfg, ev, g);
        if ev.succeeded {
            actors.push(r);
        } else {
            attempts.push(r);
        }
    }
    // An event whose payload shows it concerns other access is not an actor of this item when
    // another event's payload proves the change.
    if actors.iter().any(|a| a.grade == AttributionStatus::Exact) {
        actors.retain(|a| a.grade == AttributionStatus::Exact || !has_payload(events, &a.event_id));
    }
    let account = scope_account(&item.scope);
    let mut gap = None;
    let failures = &inputs.failures;
    let failed_read = failures.first().map(|f| {
        format!(
            "audit logs of {} could not be read for {} to {} ({}: {})",
            if f.account == "*" {
                f.source.as_str()
            } else {
                f.account.as_str()
            },
            f.start,
            f.end,
            f.operation.as_deref().unwrap_or("read"),
            f.message
        )
    });
    let (status, mut reason) = if actors.iter().any(|a| a.grade == AttributionStatus::Exact) {
        (
            AttributionStatus::Exact,
            "the request payload of the event produces this drift".to_string(),
        )
    } else if !actors.is_empty() {
        (AttributionStatus::Probable, "events changed this resource in the window; their payload does not show this exact access".to_string())
    } else if end < now - Duration::days(cfg.log_retention_days) {
        (
            AttributionStatus::Unattributed,
            format!(
                "the window ended more than {} days ago, beyond the audit log retention",
                cfg.log_retention_days
            ),
        )
    } else if let Some(why) = &failed_read {
        let f = &failures[0];
        gap = Some(crate::audit::read_failed_finding(
            item.provider,
            &f.source,
            &netdrift_snapshots::AuditFailure {
                account: f.account.clone(),
                region: f.region.clone(),
                start: f.start.clone(),
                end: f.end.clone(),
                problem: netdrift_snapshots::Problem {
                    code: netdrift_snapshots::ProblemCode::from(f.code.as_str()),
                    kind: None,
                    operation: f.operation.clone(),
                    message: f.message.clone(),
                },
            },
        ));
        (
            AttributionStatus::Unattributed,
            format!("{why}: the change cannot be attributed from the logs, and their silence proves nothing"),
        )
    } else if !inputs.covered {
        (
            AttributionStatus::Unattributed,
            format!("no audit logs imported for {account} between {from} and {to}"),
        )
    } else {
        let msg = format!("audit logs for {account} cover {from} to {to} but record no change to {}: possible logging gap", item.resource);
        gap = Some(CoverageFinding {
            scope: item.scope.clone(),
            provider: item.provider,
            code: crate::findings::CoverageCode::LoggingGap,
            message: msg.clone(),
            snapshot_id: Some(item.snapshot_id),
            taken_at: Some(item.snapshot_taken_at.clone()),
            problems: Vec::new(),
            uncollected: Vec::new(),
        });
        (AttributionStatus::Unattributed, msg)
    };
    if let (Some(why), false) = (&failed_read, status == AttributionStatus::Unattributed) {
        reason.push_str(&format!("; {why}, so other events may be missing"));
    }
    let change_record = change_record_for(settings, item, &actors);
    (
        Attribution {
            status,
            reason,
            actors,
            attempts,
            change_record,
            window_start: from,
            window_end: to,
        },
        gap,
    )
}

fn has_payload(events: &[AuditEvent], id: &str) -> bool {
    events.iter().any(|e| {
        e.event_id == id
            && (!e.payload.is_empty() || netdrift_provider_file::audit::carries_changes_only(e))
    })
}

fn scope_account(scope: &str) -> String {
    netdrift_snapshots::Scope::parse_key(scope)
        .map(|s| s.account().to_string())
        .unwrap_or_default()
}

/// Follow a temporary key back through the `AssumeRole*` events that issued it.
fn role_chain(
    issuers: &HashMap<String, AuditEvent>,
    actor: &Actor,
) -> (Vec<String>, Option<Actor>) {
    let mut chain = Vec::new();
    let mut cur = actor.clone();
    let mut root = None;
    for _ in 0..MAX_CHAIN {
        let Some(key) = temporary_key(&cur) else {
            break;
        };
        let Some(issuer) = issuers.get(key).cloned() else {
            break;
        };
        let who = issuer
            .actor
            .principal
            .clone()
            .unwrap_or_else(|| "unknown principal".into());
        chain.push(format!(
            "{} assumed by {who} ({} at {})",
            cur.role.as_deref().unwrap_or("session"),
            issuer.event_name,
            issuer.event_time
        ));
        root = Some(issuer.actor.clone());
        cur = issuer.actor;
    }
    (chain, root)
}

fn actor_ref(
    issuers: &HashMap<String, AuditEvent>,
    cfg: &AttributionConfig,
    ev: &AuditEvent,
    grade: AttributionStatus,
) -> ActorRef {
    let a = &ev.actor;
    let mut chain: Vec<String> = a
        .delegation_chain
        .iter()
        .map(|d| format!("impersonated by {d}"))
        .collect();
    let (role_chain, origin) = role_chain(issuers, a);
    chain.extend(role_chain);
    if let Some(si) = &a.source_identity {
        chain.push(format!("source identity {si}"));
    }
    if let Some(u) = &a.identity_center_user {
        chain.push(format!("Identity Center user {u}"));
    }
    let class = classify(a, origin.as_ref(), cfg);
    ActorRef {
        principal: a.principal.clone(),
        kind: a.kind.unwrap_or(ActorType::Unknown).as_str().to_string(),
        class: class.to_string(),
        role: a.role.clone(),
        source_identity: a.source_identity.clone(),
        access_key_id: a.access_key_id.clone(),
        key_type: a.key_type,
        service_account_key: a.service_account_key.clone(),
        role_assignment: a.role_assignment.clone(),
        source_ip: a.source_ip.clone(),
        user_agent: a.user_agent.clone(),
        tool: a.tool.clone(),
        event_id: ev.event_id.clone(),
        event_time: ev.event_time.clone(),
        event_name: ev.event_name.clone(),
        succeeded: ev.succeeded,
        error: ev.error.clone(),
        grade,
        chain,
    }
}

fn names(a: &Actor) -> Vec<&str> {
    [
        &a.principal,
        &a.role,
        &a.source_identity,
        &a.identity_center_user,
    ]
    .into_iter()
    .flatten()
    .map(String::as_str)
    .collect()
}

/// The actor class: `root`, `break-glass`, `pipeline`, `long-term-key`, `human` or `unknown`.
pub fn classify(a: &Actor, origin: Option<&Actor>, cfg: &AttributionConfig) -> &'static str {
    let mut all = names(a);
    all.extend(a.delegation_chain.iter().map(String::as_str));
    if let Some(o) = origin {
        all.extend(names(o));
    }
    if a.kind == Some(ActorType::Root) || origin.is_some_and(|o| o.kind == Some(ActorType::Root)) {
        return "root";
    }
    if matches_any(&cfg.break_glass, &all) {
        return "break-glass";
    }
    let ua = a.user_agent.as_deref().unwrap_or_default();
    if matches_any(&cfg.automation, &all)
        || cfg
            .automation_user_agents
            .iter()
            .any(|p| !p.is_empty() && ua.contains(p.as_str()))
    {
        return "pipeline";
    }
    if a.key_type == Some(KeyType::LongTerm) {
        return "long-term-key";
    }
    let human = |x: &Actor| matches!(x.kind, Some(ActorType::Human) | Some(ActorType::Federated));
    if human(a)
        || origin.is_some_and(human)
        || a.source_identity.is_some()
        || a.identity_center_user.is_some()
        || a.delegation_chain
            .iter()
            .any(|d| !d.ends_with(".gserviceaccount.com"))
    {
        return "human";
    }
    "unknown"
}

fn change_record_for(
    settings: &Settings<'_>,
    item: &DriftItem,
    actors: &[ActorRef],
) -> Option<serde_json::Value> {
    if actors.is_empty() {
        return None;
    }
    let scope = [item.scope.as_str()];
    let all_inside = |check: &dyn Fn(&ActorRef, DateTime<Utc>) -> bool| {
        actors.iter().all(|a| {
            parse_ts(&a.event_time)
                .map(|t| check(a, t))
                .unwrap_or(false)
        })
    };
    let actor_names = |a: &ActorRef| -> Vec<String> {
        let mut v: Vec<String> = [&a.principal, &a.role]
            .into_iter()
            .flatten()
            .cloned()
            .collect();
        v.extend(a.chain.iter().cloned());
        v
    };
    for w in settings.change_windows {
        if !w.scopes.is_empty() && !matches_any(&w.scopes, &scope) {
            continue;
        }
        let ok = all_inside(&|a, t| {
            let n = actor_names(a);
            let refs: Vec<&str> = n.iter().map(String::as_str).collect();
            window_contains(w, t) && (w.principals.is_empty() || matches_any(&w.principals, &refs))
        });
        if ok {
            return Some(serde_json::json!({"kind": "window", "name": w.name, "ticket": w.ticket}));
        }
    }
    for r in settings.records {
        if !r.scopes.is_empty() && !matches_any(&r.scopes, &scope) {
            continue;
        }
        let ok = all_inside(&|a, t| {
            let n = actor_names(a);
            let refs: Vec<&str> = n.iter().map(String::as_str).collect();
            t >= r.start
                && t <= r.end
                && (r.principals.is_empty() || matches_any(&r.principals, &refs))
        });
        if ok {
            return Some(
                serde_json::json!({"kind": "record", "ticket": r.ticket, "start": ts(r.start), "end": ts(r.end)}),
            );
        }
    }
    None
}

/// Actor-based severity: raised for root, long-term keys, unknown actors, privileged humans
/// outside a window and logging gaps; lowered for approved changes by allowed principals.
pub(crate) fn apply_severity(item: &mut DriftItem, a: &Attribution, cfg: &AttributionConfig) {
    if item.effect == netdrift_snapshots::Effect::Cosmetic
        || item.severity == netdrift_snapshots::Severity::Info
    {
        return;
    }
    if a.change_record.is_some() {
        item.severity = item.severity.lowered();
        item.reasons.push(
            "lowered one level: made inside an approved change by an allowed principal".into(),
        );
        return;
    }
    let classes: Vec<&str> = a.actors.iter().map(|x| x.class.as_str()).collect();
    let raise = if classes.contains(&"root") {
        Some("made with root credentials")
    } else if classes.contains(&"long-term-key") {
        Some("made with a long-term access key")
    } else if classes.contains(&"unknown") {
        Some("made by an unknown actor")
    } else if classes.contains(&"break-glass") {
        Some("made through a break-glass role")
    } else if a.actors.iter().any(|x| {
        x.class == "human" && {
            let n: Vec<&str> = [&x.principal, &x.role]
                .into_iter()
                .flatten()
                .map(String::as_str)
                .collect();
            matches_any(&cfg.privileged, &n)
        }
    }) {
        Some("made by a privileged identity outside any approved change window")
    } else if a.status == AttributionStatus::Unattributed && a.reason.contains("logging gap") {
        Some("no audit event for a change the logs should show")
    } else {
        None
    };
    if let Some(why) = raise {
        item.severity = item.severity.raised();
        item.reasons.push(format!("raised one level: {why}"));
    }
}

#[cfg(test)]
mod tests {
    //! Attribution from inputs alone: a drift item, the CloudTrail records of its window and
    //! what the logs cover go in; grade, status, actor and class come out. No database.
    use super::*;
    use crate::findings::CoverageCode;
    use crate::store::{AuditFailureRow, ScopeInputs, SnapshotRow};
    use netdrift_snapshots::{Provider, Scope};

    const GROUP: &str = "sg-0a1b2c3d4e5f60001";

    /// The group with one ingress range on tcp/22 (or none).
    fn group(cidr: Option<&str>) -> Vec<Resource> {
        let perms = match cidr {
            Some(c) => serde_json::json!([{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
                "IpRanges": [{"CidrIp": c}]}]),
            None => serde_json::json!([]),
        };
        let doc = serde_json::json!({"SecurityGroups": [{"GroupId": GROUP, "GroupName": "web",
            "VpcId": "vpc-1", "OwnerId": "111122223333", "Description": "web",
            "IpPermissions": perms, "IpPermissionsEgress": []}]});
        netdrift_provider_file::convert_document(Provider::Aws, "111122223333", &doc).unwrap()
    }

    /// The drift of the group from `before` (None: absent) to `after`.
    fn computed(before: Option<Option<&str>>, after: Option<Option<&str>>) -> Computed {
        let input = ScopeInputs {
            scope: Scope::new(Provider::Aws, "111122223333", Some("us-east-1".into())),
            snapshot: SnapshotRow {
                id: 2,
                scope: "aws:111122223333:us-east-1".into(),
                source: "file:a".into(),
                taken_at: "2026-11-25T02:00:00Z".into(),
                status: netdrift_snapshots::SnapshotStatus::Complete,
                problems: Vec::new(),
                uncollected: Vec::new(),
                resource_count: 1,
                rule_count: 1,
                manifest_hash: None,
            },
            actual: after.map(group).unwrap_or_default(),
            baseline: Some(before.map(group).unwrap_or_default()),
            approved_at: Some("2026-11-24T00:00:00Z".into()),
            exceptions: Vec::new(),
        };
        let now = "2026-11-25T03:00:00Z".parse().unwrap();
        let (mut items, _) = crate::drift::compute(&[input], &Default::default(), now).unwrap();
        assert_eq!(items.len(), 1, "one drift item");
        items.remove(0)
    }

    /// The user identities the rows use, as CloudTrail writes them.
    fn identity(who: &str) -> serde_json::Value {
        match who {
            "alice" => serde_json::json!({"type": "AssumedRole",
                "principalId": "AROAEXAMPLEADMIN0001:alice",
                "arn": "arn:aws:sts::111122223333:assumed-role/AdminAccess/alice",
                "accountId": "111122223333", "accessKeyId": "ASIAEXAMPLEALICE0001",
                "sessionContext": {"sessionIssuer": {"type": "Role",
                    "arn": "arn:aws:iam::111122223333:role/AdminAccess", "userName": "AdminAccess"}}}),
            "iam-alice" => serde_json::json!({"type": "IAMUser", "principalId": "AIDAALICE",
                "arn": "arn:aws:iam::111122223333:user/alice", "accountId": "111122223333",
                "accessKeyId": "AKIAEXAMPLEALICE0001", "userName": "alice"}),
            "root" => serde_json::json!({"type": "Root", "principalId": "111122223333",
                "arn": "arn:aws:iam::111122223333:root", "accountId": "111122223333",
                "accessKeyId": "ASIAEXAMPLEROOT00001"}),
            "deploy-bot" => serde_json::json!({"type": "IAMUser", "principalId": "AIDADEPLOY",
                "arn": "arn:aws:iam::111122223333:user/deploy-bot", "accountId": "111122223333",
                "accessKeyId": "AKIAEXAMPLEDEPLOY001", "userName": "deploy-bot"}),
            "terraform" => serde_json::json!({"type": "AssumedRole",
                "principalId": "AROATF:gha-run-1",
                "arn": "arn:aws:sts::111122223333:assumed-role/TerraformApply/gha-run-1",
                "accountId": "111122223333", "accessKeyId": "ASIAEXAMPLETF0000001",
                "sessionContext": {"sessionIssuer": {"type": "Role",
                    "arn": "arn:aws:iam::111122223333:role/TerraformApply", "userName": "TerraformApply"}}}),
            "break-glass" => serde_json::json!({"type": "AssumedRole",
                "principalId": "AROABG:oncall",
                "arn": "arn:aws:sts::111122223333:assumed-role/BreakGlassAdmin/oncall",
                "accountId": "111122223333", "accessKeyId": "ASIAEXAMPLEBG0000001",
                "sessionContext": {"sessionIssuer": {"type": "Role",
                    "arn": "arn:aws:iam::111122223333:role/BreakGlassAdmin", "userName": "BreakGlassAdmin"}}}),
            other => panic!("no identity {other}"),
        }
    }

    /// One CloudTrail record, parsed as an imported file is.
    fn event(
        n: u32,
        name: &str,
        who: &str,
        params: serde_json::Value,
        error: Option<&str>,
    ) -> AuditEvent {
        let mut r = serde_json::json!({"eventVersion": "1.09", "userIdentity": identity(who),
            "eventTime": format!("2026-11-24T1{n}:00:00Z"), "eventSource": "ec2.amazonaws.com",
            "eventName": name, "awsRegion": "us-east-1", "sourceIPAddress": "198.51.100.23",
            "userAgent": if who == "terraform" { "APN/1.0 HashiCorp/1.0 Terraform/1.9.5" } else { "console.ec2.amazonaws.com" },
            "requestParameters": params, "responseElements": null,
            "eventID": format!("e-{n}"), "readOnly": false, "eventType": "AwsApiCall",
            "managementEvent": true, "recipientAccountId": "111122223333"});
        if let Some(e) = error {
            r["errorCode"] = e.into();
            r["errorMessage"] = "You are not authorized to perform this operation.".into();
        }
        let doc = serde_json::to_vec(&serde_json::json!({"Records": [r]})).unwrap();
        let mut p = netdrift_provider_file::audit::parse_file(Provider::Aws, "ct", &doc).unwrap();
        assert_eq!(p.events.len(), 1, "{name}: {:?}", p.skipped);
        p.events.remove(0)
    }

    fn ingress(cidr: &str) -> serde_json::Value {
        ingress_on(22, cidr)
    }

    fn ingress_on(port: u16, cidr: &str) -> serde_json::Value {
        serde_json::json!({"groupId": GROUP, "ipPermissions": {"items": [{"ipProtocol": "tcp",
            "fromPort": port, "toPort": port, "ipRanges": {"items": [{"cidrIp": cidr}]}}]}})
    }

    fn assume_role() -> AuditEvent {
        let doc = serde_json::json!({"Records": [{"eventVersion": "1.08",
            "userIdentity": identity("iam-alice"), "eventTime": "2026-11-24T09:00:00Z",
            "eventSource": "sts.amazonaws.com", "eventName": "AssumeRole", "awsRegion": "us-east-1",
            "sourceIPAddress": "198.51.100.23", "userAgent": "aws-cli/2.15.30",
            "requestParameters": {"roleArn": "arn:aws:iam::111122223333:role/AdminAccess",
                "roleSessionName": "alice"},
            "responseElements": {"credentials": {"accessKeyId": "ASIAEXAMPLEALICE0001"}},
            "eventID": "e-assume", "eventType": "AwsApiCall", "recipientAccountId": "111122223333"}]});
        let doc = serde_json::to_vec(&doc).unwrap();
        netdrift_provider_file::audit::parse_file(Provider::Aws, "ct", &doc)
            .unwrap()
            .events
            .remove(0)
    }

    fn inputs(events: Vec<AuditEvent>) -> ItemInputs {
        ItemInputs {
            window: (
                "2026-11-23T23:55:00Z".parse().unwrap(),
                "2026-11-25T02:05:00Z".parse().unwrap(),
            ),
            events,
            issuers: HashMap::new(),
            failures: Vec::new(),
            covered: true,
            before: Some(group(Some("10.0.0.0/8")).remove(0)),
        }
    }

    fn settings(cfg: &AttributionConfig) -> Settings<'_> {
        Settings {
            attribution: cfg,
            change_windows: &[],
            records: &[],
        }
    }

    /// (event, change) → grade.
    #[test]
    fn grade_rows() {
        let widened = || computed(Some(Some("10.0.0.0/8")), Some(Some("0.0.0.0/0")));
        let removed = || computed(Some(Some("10.0.0.0/8")), None);
        let rows: Vec<(&str, AuditEvent, Computed, AttributionStatus)> = vec![
            (
                "its payload opens the new access",
                event(
                    1,
                    "AuthorizeSecurityGroupIngress",
                    "alice",
                    ingress("0.0.0.0/0"),
                    None,
                ),
                widened(),
                AttributionStatus::Exact,
            ),
            (
                "its payload opens part of the new access",
                event(
                    2,
                    "AuthorizeSecurityGroupIngress",
                    "alice",
                    ingress("192.0.2.0/24"),
                    None,
                ),
                widened(),
                AttributionStatus::Exact,
            ),
            (
                "its payload opens only what was approved",
                event(
                    6,
                    "AuthorizeSecurityGroupIngress",
                    "alice",
                    ingress("10.1.0.0/16"),
                    None,
                ),
                widened(),
                AttributionStatus::Probable,
            ),
            (
                "its payload opens another port",
                event(
                    7,
                    "AuthorizeSecurityGroupIngress",
                    "alice",
                    ingress_on(443, "0.0.0.0/0"),
                    None,
                ),
                widened(),
                AttributionStatus::Probable,
            ),
            (
                "it revokes what was never denied",
                event(
                    3,
                    "RevokeSecurityGroupIngress",
                    "alice",
                    ingress("10.0.0.0/8"),
                    None,
                ),
                widened(),
                AttributionStatus::Probable,
            ),
            (
                "a delete of a removed group",
                event(
                    4,
                    "DeleteSecurityGroup",
                    "alice",
                    serde_json::json!({"groupId": GROUP}),
                    None,
                ),
                removed(),
                AttributionStatus::Exact,
            ),
            (
                "no payload",
                event(
                    5,
                    "ModifySecurityGroupRules",
                    "alice",
                    serde_json::json!({}),
                    None,
                ),
                widened(),
                AttributionStatus::Probable,
            ),
        ];
        for (why, ev, c, want) in rows {
            let before = group(Some("10.0.0.0/8")).remove(0);
            assert_eq!(grade(&ev, &c, Some(&before)), want, "{why}");
        }
    }

    /// (events, what the logs cover, a failed read, now) → status, and the finding it reveals.
    #[test]
    fn status_rows() {
        let cfg = AttributionConfig::default();
        let ok = || {
            event(
                1,
                "AuthorizeSecurityGroupIngress",
                "alice",
                ingress("0.0.0.0/0"),
                None,
            )
        };
        let denied = || {
            event(
                2,
                "AuthorizeSecurityGroupIngress",
                "alice",
                ingress("0.0.0.0/0"),
                Some("Client.UnauthorizedOperation"),
            )
        };
        let other = || {
            event(
                3,
                "AuthorizeSecurityGroupIngress",
                "alice",
                ingress_on(443, "0.0.0.0/0"),
                None,
            )
        };
        let failure = AuditFailureRow {
            provider: Provider::Aws,
            account: "111122223333".into(),
            region: None,
            start: "2026-11-24T00:00:00Z".into(),
            end: "2026-11-25T00:00:00Z".into(),
            code: "permission-denied".into(),
            operation: Some("LookupEvents".into()),
            message: "AccessDenied".into(),
            source: "aws:live".into(),
        };
        let soon = "2026-11-25T03:00:00Z";
        #[allow(clippy::type_complexity)]
        let rows: Vec<(
            &str,
            Vec<AuditEvent>,
            bool,
            Option<AuditFailureRow>,
            &str,
            AttributionStatus,
            &str,
            Option<CoverageCode>,
        )> = vec![
            (
                "the payload proves it",
                vec![ok()],
                true,
                None,
                soon,
                AttributionStatus::Exact,
                "the request payload of the event produces this drift",
                None,
            ),
            (
                "a change of the resource, not this access",
                vec![other()],
                true,
                None,
                soon,
                AttributionStatus::Probable,
                "their payload does not show this exact access",
                None,
            ),
            (
                "logs cover the window, nothing recorded",
                vec![],
                true,
                None,
                soon,
                AttributionStatus::Unattributed,
                "possible logging gap",
                Some(CoverageCode::LoggingGap),
            ),
            (
                "only a refused attempt",
                vec![denied()],
                true,
                None,
                soon,
                AttributionStatus::Unattributed,
                "possible logging gap",
                Some(CoverageCode::LoggingGap),
            ),
            (
                "no logs imported",
                vec![],
                false,
                None,
                soon,
                AttributionStatus::Unattributed,
                "no audit logs imported for 111122223333",
                None,
            ),
            (
                "the logs could not be read",
                vec![],
                true,
                Some(failure.clone()),
                soon,
                AttributionStatus::Unattributed,
                "could not be read",
                Some(CoverageCode::AuditReadFailed),
            ),
            (
                "a proof, but part of the logs unread",
                vec![ok()],
                true,
                Some(failure),
                soon,
                AttributionStatus::Exact,
                "so other events may be missing",
                None,
            ),
            (
                "beyond the retention",
                vec![],
                true,
                None,
                "2027-06-01T00:00:00Z",
                AttributionStatus::Unattributed,
                "beyond the audit log retention",
                None,
            ),
        ];
        let c = computed(Some(Some("10.0.0.0/8")), Some(Some("0.0.0.0/0")));
        for (why, events, covered, failure, now, status, reason, finding) in rows {
            let mut i = inputs(events);
            i.covered = covered;
            i.failures.extend(failure);
            let (a, gap) = attribute(&c, &i, &settings(&cfg), now.parse().unwrap());
            assert_eq!(a.status, status, "{why}: {}", a.reason);
            assert!(a.reason.contains(reason), "{why}: {}", a.reason);
            assert_eq!(gap.map(|g| g.code), finding, "{why}");
        }
    }

    /// (identity, configuration) → actor class, and the role chain behind a session.
    #[test]
    fn actor_rows() {
        let cfg = AttributionConfig {
            break_glass: vec!["*BreakGlass*".into()],
            automation: vec!["*TerraformApply*".into()],
            ..Default::default()
        };
        let rows = [
            ("alice", "human"),
            ("iam-alice", "long-term-key"),
            ("root", "root"),
            ("deploy-bot", "long-term-key"),
            ("terraform", "pipeline"),
            ("break-glass", "break-glass"),
        ];
        let c = computed(Some(Some("10.0.0.0/8")), Some(Some("0.0.0.0/0")));
        for (who, class) in rows {
            let mut i = inputs(vec![event(
                1,
                "AuthorizeSecurityGroupIngress",
                who,
                ingress("0.0.0.0/0"),
                None,
            )]);
            let assume = assume_role();
            i.issuers.insert(
                assume.issued_key.clone().expect("AssumeRole issues a key"),
                assume,
            );
            let (a, _) = attribute(
                &c,
                &i,
                &settings(&cfg),
                "2026-11-25T03:00:00Z".parse().unwrap(),
            );
            assert_eq!(a.actors.len(), 1, "{who}");
            assert_eq!(a.actors[0].class, class, "{who}");
            if who == "alice" {
                assert_eq!(
                    a.actors[0].role.as_deref(),
                    Some("arn:aws:iam::111122223333:role/AdminAccess")
                );
                assert!(
                    a.actors[0]
                        .chain
                        .iter()
                        .any(|l| l.contains("assumed by arn:aws:iam::111122223333:user/alice")),
                    "{:?}",
                    a.actors[0].chain
                );
            }
        }
        // Without the issuing event, the session is still its role's; the chain is empty.
        let i = inputs(vec![event(
            1,
            "AuthorizeSecurityGroupIngress",
            "alice",
            ingress("0.0.0.0/0"),
            None,
        )]);
        let (a, _) = attribute(
            &c,
            &i,
            &settings(&cfg),
            "2026-11-25T03:00:00Z".parse().unwrap(),
        );
        assert!(a.actors[0].chain.is_empty());
    }

    /// (last snapshot showing the approved state, approval) → window start.
    #[test]
    fn window_rows() {
        let cfg = AttributionConfig::default();
        let mut item = computed(Some(Some("10.0.0.0/8")), Some(Some("0.0.0.0/0"))).item;
        let at = |s: &str| -> DateTime<Utc> { s.parse().unwrap() };
        let w = window(&item, Some(at("2026-11-24T02:00:00Z")), &cfg).unwrap();
        assert_eq!(w, (at("2026-11-24T01:55:00Z"), at("2026-11-25T02:05:00Z")));
        let w = window(&item, None, &cfg).unwrap();
        assert_eq!(w.0, at("2026-11-23T23:55:00Z"), "from the approval");
        item.baseline_approved_at = None;
        let w = window(&item, None, &cfg).unwrap();
        assert_eq!(w.0, at("2026-08-27T01:55:00Z"), "the log retention horizon");
    }

    /// (change window, its principals) → whether the change counts as approved.
    #[test]
    fn change_window_rows() {
        use crate::config::{Schedule, Zone};
        let cfg = AttributionConfig::default();
        let c = computed(Some(Some("10.0.0.0/8")), Some(Some("0.0.0.0/0")));
        // The event is at 2026-11-24T11:00:00Z.
        for (cron, principals, scopes, approved) in [
            ("0 10 * * *", vec![], vec![], true),
            ("0 10 * * *", vec!["*alice*"], vec![], true),
            ("0 10 * * *", vec!["*bob*"], vec![], false),
            ("0 10 * * *", vec![], vec!["gcp:*"], false),
            ("0 10 * * *", vec![], vec!["aws:111122223333:*"], true),
            ("0 12 * * *", vec![], vec![], false),
            ("0 9 * * *", vec![], vec![], false),
        ] {
            let w = ChangeWindow {
                name: "nightly".into(),
                scopes: scopes.iter().map(|s| s.to_string()).collect(),
                start: Schedule::parse(cron, Zone::Utc).unwrap(),
                duration_minutes: 120,
                principals: principals.iter().map(|s| s.to_string()).collect(),
                ticket: Some("CHG-1".into()),
            };
            let windows = [w];
            let settings = Settings {
                attribution: &cfg,
                change_windows: &windows,
                records: &[],
            };
            let i = inputs(vec![event(
                1,
                "AuthorizeSecurityGroupIngress",
                "alice",
                ingress("0.0.0.0/0"),
                None,
            )]);
            let (a, _) = attribute(&c, &i, &settings, "2026-11-25T03:00:00Z".parse().unwrap());
            assert_eq!(
                a.change_record.is_some(),
                approved,
                "{cron} {principals:?} {scopes:?}"
            );
        }
    }
}
