//! One watch tick for GCP: per project (configured and discovered), Cloud Logging
//! `entries.list` with the catalogue filter from the caller's start, then for each new change
//! a re-read of only what it named: a VPC firewall rule (`compute.firewalls.get`; a 404 is
//! gone). A change to a firewall policy (hierarchical, network or regional: its rules,
//! associations) or to an instance's tags or service account re-collects the project whole,
//! with the hierarchy above it, as the nightly run does.

use std::collections::BTreeSet;

use netdrift_provider_api::watch::{
    new_changes, RereadFailure, WatchContext, WatchOutput, Watched,
};
use netdrift_provider_api::AuditWindow;
use netdrift_snapshots::{AuditEvent, AuditFailure};

use crate::{compute, merge_events, scope, GcpSource};

/// What one project's new changes ask to re-read: firewall rules by (resource id, name, the
/// change), or the project whole (and why).
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Targets {
    pub firewalls: Vec<(String, String, String, String)>,
    pub whole: Option<String>,
}

pub(crate) fn targets(project: &str, changes: &[&AuditEvent]) -> Targets {
    let prefix = format!("projects/{project}/global/firewalls/");
    let mut t = Targets::default();
    for e in changes {
        let rules: Vec<&str> = e
            .resources
            .iter()
            .filter_map(|r| r.strip_prefix(&prefix))
            .filter(|n| !n.is_empty() && !n.contains('/'))
            .collect();
        if rules.is_empty() || rules.len() != e.resources.len() {
            t.whole.get_or_insert_with(|| {
                format!(
                    "{} {} changes more than VPC firewall rules",
                    e.event_name, e.event_id
                )
            });
            continue;
        }
        for name in rules {
            let id = format!("{prefix}{name}");
            if !t.firewalls.iter().any(|f| f.0 == id) {
                t.firewalls.push((
                    id,
                    name.to_string(),
                    e.event_name.clone(),
                    e.event_id.clone(),
                ));
            }
        }
    }
    t
}

pub(crate) async fn watch(src: &GcpSource, ctx: &WatchContext<'_>) -> WatchOutput {
    let mut out = WatchOutput::default();
    let now = ctx.now;
    let clients = match compute::Clients::new(src).await {
        Ok(c) => c,
        Err(p) => {
            out.problems.push(p);
            return out;
        }
    };
    let mut projects: BTreeSet<String> = src.projects.iter().cloned().collect();
    let roots: Vec<(String, u32)> = src
        .organization
        .iter()
        .map(|o| (o.clone(), 0))
        .chain(src.folders.iter().map(|f| (f.clone(), 1)))
        .collect();
    if !roots.is_empty() {
        match clients.rest.discover(&roots).await {
            Ok(found) => projects.extend(found.projects.into_iter().map(|(p, _)| p)),
            Err(p) => out.problems.push(p),
        }
    }
    let mut whole: BTreeSet<String> = BTreeSet::new();
    for project in &projects {
        if ctx.shutdown.is_triggered() {
            break;
        }
        let sc = scope(project);
        let start = (ctx.start)(&sc.key());
        let resource = format!("projects/{project}");
        let mut w = match clients
            .rest
            .audit_entries(std::slice::from_ref(&resource), start, now)
            .await
        {
            Err(problem) => Watched::unread(
                sc.clone(),
                AuditFailure {
                    account: project.clone(),
                    region: None,
                    start,
                    end: now,
                    problem,
                },
            ),
            Ok(entries) => {
                let mut events = Vec::new();
                merge_events(&mut events, entries);
                Watched::read(
                    sc.clone(),
                    AuditWindow {
                        account: project.clone(),
                        start,
                        end: now,
                    },
                    events,
                )
            }
        };
        let t = targets(project, &new_changes(&w.events, ctx.seen));
        if let Some(why) = t.whole {
            whole.insert(project.clone());
            w.whole_reason = Some(why);
        } else {
            for (id, name, event, event_id) in t.firewalls {
                match clients.get_firewall(project, &name).await {
                    Ok(Some(r)) => w.states.push(netdrift_snapshots::canonicalize(r)),
                    Ok(None) => w.gone.push(id),
                    Err(problem) => w.failed.push(RereadFailure {
                        resource: id,
                        event,
                        event_id,
                        problem,
                    }),
                }
            }
        }
        out.scopes.push(w);
    }
    if !whole.is_empty() {
        let since = |_: &str| now;
        let c = crate::collect_projects(src, &since, now, &ctx.shutdown, Some(&whole)).await;
        out.problems.extend(c.problems);
        for collected in c.scopes {
            if let Some(w) = out.scopes.iter_mut().find(|w| w.scope == collected.scope) {
                w.whole = Some(collected);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(name: &str, resources: &[&str]) -> AuditEvent {
        let raw = serde_json::json!({
            "insertId": "i1", "logName": "projects/p/logs/cloudaudit.googleapis.com%2Factivity",
            "timestamp": "2026-12-01T10:00:00Z",
            "resource": {"type": "gce_firewall_rule", "labels": {"project_id": "p"}},
            "protoPayload": {"@type": "type.googleapis.com/google.cloud.audit.AuditLog",
                "serviceName": "compute.googleapis.com", "methodName": name,
                "resourceName": "projects/p/global/firewalls/x",
                "authenticationInfo": {"principalEmail": "a@example.com"}},
            "operation": {"id": "op-1", "first": true, "last": true}
        });
        let mut e = netdrift_provider_file::audit::gcp::parse_entry(&raw)
            .unwrap()
            .unwrap();
        e.resources = resources.iter().map(|s| s.to_string()).collect();
        e
    }

    #[test]
    fn a_rule_change_re_reads_the_rule_and_a_policy_or_tag_change_the_project() {
        type Row<'a> = (&'a str, &'a [&'a str], &'a [&'a str], bool);
        let rows: &[Row] = &[
            // method, resources, rules re-read, whole project
            (
                "v1.compute.firewalls.patch",
                &["projects/p/global/firewalls/allow-ssh"],
                &["allow-ssh"],
                false,
            ),
            (
                "v1.compute.firewalls.delete",
                &["projects/p/global/firewalls/old"],
                &["old"],
                false,
            ),
            (
                "v1.compute.firewalls.insert",
                &["projects/p/global/firewalls/new"],
                &["new"],
                false,
            ),
            (
                "v1.compute.networkFirewallPolicies.addRule",
                &["projects/p/global/firewallPolicies/pol"],
                &[],
                true,
            ),
            (
                "v1.compute.firewallPolicies.patchRule",
                &["locations/global/firewallPolicies/123"],
                &[],
                true,
            ),
            (
                "v1.compute.instances.setTags",
                &["projects/p/zones/z/instances/vm"],
                &[],
                true,
            ),
            (
                "v1.compute.firewalls.patch",
                &["projects/other/global/firewalls/x"],
                &[],
                true,
            ),
            ("v1.compute.firewalls.patch", &[], &[], true),
        ];
        for (name, res, rules, whole) in rows {
            let e = event(name, res);
            let t = targets("p", &[&e]);
            let got: Vec<&str> = t.firewalls.iter().map(|f| f.1.as_str()).collect();
            assert_eq!(got, *rules, "{name} {res:?}");
            assert_eq!(t.whole.is_some(), *whole, "{name} {res:?}");
        }
    }
}
