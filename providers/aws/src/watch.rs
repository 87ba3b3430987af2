//! One watch tick for AWS: per account × region, CloudTrail LookupEvents
//! (`EventSource=ec2.amazonaws.com`, about 2 requests per second) from the caller's start, then
//! for each new catalogued change a re-read of only what it named: security groups by id
//! (`DescribeSecurityGroups --group-ids`, their rules by `group-id` filter) and network ACLs by
//! id. A group or ACL the cloud no longer has is `gone`. A change that touches what cannot be
//! re-read alone (an instance's or interface's groups, a subnet's ACL association, a prefix
//! list, a request naming no group) re-collects the scope whole.

use std::sync::Arc;

use aws_config::{Region, SdkConfig};
use aws_sdk_ec2::error::ProvideErrorMetadata;
use serde_json::Value;

use netdrift_provider_api::watch::{
    new_changes, RereadFailure, WatchContext, WatchOutput, Watched,
};
use netdrift_provider_api::AuditWindow;
use netdrift_snapshots::{
    AuditEvent, AuditFailure, Problem, Provider, Resource, ResourceKind, Scope,
};

use crate::client::{collect_scope, convert, document, KnownGroups};
use crate::discovery::{accounts, base_config, regions};
use crate::errors::classify;
use crate::{wire, AwsSource};

/// Changes whose effect is not in the groups or ACLs they name: the scope is re-collected.
const WHOLE_SCOPE: &[&str] = &[
    "ModifyInstanceAttribute",
    "ModifyNetworkInterfaceAttribute",
    "RunInstances",
    "CreateNetworkInterface",
    "ReplaceNetworkAclAssociation",
    "CreateManagedPrefixList",
    "ModifyManagedPrefixList",
];

/// What the new changes of one scope ask to re-read.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Targets {
    /// Group id → the first change naming it (event name, event id).
    pub groups: Vec<(String, String, String)>,
    pub acls: Vec<(String, String, String)>,
    /// Why the whole scope is re-collected.
    pub whole: Option<String>,
}

/// The re-reads the new changes call for.
pub(crate) fn targets(changes: &[&AuditEvent]) -> Targets {
    let mut t = Targets::default();
    let push = |list: &mut Vec<(String, String, String)>, id: &str, e: &AuditEvent| {
        if !list.iter().any(|(x, _, _)| x == id) {
            list.push((id.to_string(), e.event_name.clone(), e.event_id.clone()));
        }
    };
    for e in changes {
        let named: Vec<&String> = e
            .resources
            .iter()
            .filter(|r| r.starts_with("sg-") || r.starts_with("acl-"))
            .collect();
        if WHOLE_SCOPE.contains(&e.event_name.as_str()) || named.is_empty() {
            t.whole.get_or_insert_with(|| {
                if named.is_empty() {
                    format!("{} {} names no group or ACL", e.event_name, e.event_id)
                } else {
                    format!(
                        "{} {} changes what uses the groups",
                        e.event_name, e.event_id
                    )
                }
            });
            continue;
        }
        for id in named {
            if id.starts_with("sg-") {
                push(&mut t.groups, id, e);
            } else {
                push(&mut t.acls, id, e);
            }
        }
    }
    t
}

pub(crate) async fn watch(src: &AwsSource, ctx: &WatchContext<'_>) -> WatchOutput {
    let base = base_config(src).await;
    let mut out = WatchOutput::default();
    let now = ctx.now;
    let mut reads = Vec::new();
    for (id, account) in accounts(&base, src, &mut out.problems).await {
        let account = match account {
            Ok(a) => a,
            Err(p) => {
                out.problems.push(Problem {
                    message: format!("account {id}: {}", p.message),
                    ..p
                });
                continue;
            }
        };
        let rs = match regions(&account, src).await {
            Ok(r) => r,
            Err(p) => {
                out.problems.push(Problem {
                    message: format!("account {id}: {}", p.message),
                    ..p
                });
                continue;
            }
        };
        let account = Arc::new(account);
        for region in rs {
            let scope = Scope::new(Provider::Aws, account.id.clone(), Some(region.clone()));
            let config = account
                .config
                .to_builder()
                .region(Region::new(region))
                .build();
            let start = (ctx.start)(&scope.key());
            reads.push((scope, config, start));
        }
    }
    // Phase 1: every scope's audit read.
    let tasks = reads
        .iter()
        .map(|(scope, config, start)| {
            let (config, start, timeout) = (config.clone(), *start, src.scope_timeout);
            let fut = async move {
                match tokio::time::timeout(
                    timeout,
                    crate::trail::lookup_events(&config, start, now),
                )
                .await
                {
                    Ok(r) => r,
                    Err(_) => Err(Problem {
                        code: netdrift_snapshots::ProblemCode::Timeout,
                        kind: None,
                        operation: Some("LookupEvents".into()),
                        message: format!("LookupEvents did not finish within {timeout:?}"),
                    }),
                }
            };
            (scope.clone(), fut)
        })
        .collect();
    let results =
        netdrift_provider_api::run_scopes(tasks, src.concurrency, None, &ctx.shutdown, |_, p| {
            Err(p)
        })
        .await;
    // Phase 2: re-read what each scope's new changes named.
    let mut rereads = Vec::new();
    for ((scope, config, start), read) in reads.into_iter().zip(results) {
        let watched = match read {
            Err(problem) => Watched::unread(
                scope.clone(),
                AuditFailure {
                    account: scope.account().to_string(),
                    region: scope.region().map(str::to_string),
                    start,
                    end: now,
                    problem,
                },
            ),
            Ok(events) => Watched::read(
                scope.clone(),
                AuditWindow {
                    account: scope.account().to_string(),
                    start,
                    end: now,
                },
                events,
            ),
        };
        let t = targets(&new_changes(&watched.events, ctx.seen));
        let known: KnownGroups = if t.whole.is_some() {
            (ctx.known)(&scope.key())
                .into_iter()
                .filter(|r| r.kind == ResourceKind::AwsSecurityGroup)
                .map(|r| (r.id.as_str().to_string(), r))
                .collect()
        } else {
            KnownGroups::new()
        };
        let timeout = src.scope_timeout;
        rereads.push((scope.clone(), async move {
            let mut watched = watched;
            match tokio::time::timeout(timeout, reread(&config, &mut watched, t, &known)).await {
                Ok(()) => {}
                Err(_) => watched.failed.push(RereadFailure {
                    resource: scope.key().to_string(),
                    event: "re-read".into(),
                    event_id: String::new(),
                    problem: Problem {
                        code: netdrift_snapshots::ProblemCode::Timeout,
                        kind: None,
                        operation: None,
                        message: format!("the re-read did not finish within {timeout:?}"),
                    },
                }),
            }
            watched
        }));
    }
    out.scopes = netdrift_provider_api::run_scopes(
        rereads,
        src.concurrency,
        None,
        &ctx.shutdown,
        |scope, p| {
            let mut w = Watched::read(
                scope.clone(),
                AuditWindow {
                    account: scope.account().to_string(),
                    start: now,
                    end: now,
                },
                Vec::new(),
            );
            w.window = None;
            w.failure = Some(AuditFailure {
                account: scope.account().to_string(),
                region: scope.region().map(str::to_string),
                start: now,
                end: now,
                problem: p,
            });
            w
        },
    )
    .await;
    out
}

/// Re-read the targets into `w`.
async fn reread(config: &SdkConfig, w: &mut Watched, t: Targets, known: &KnownGroups) {
    if let Some(reason) = t.whole {
        w.whole = Some(collect_scope(config, w.scope.clone(), known).await);
        w.whole_reason = Some(reason);
        return;
    }
    if t.groups.is_empty() && t.acls.is_empty() {
        return;
    }
    let ec2 = aws_sdk_ec2::Client::new(config);
    let ids = |l: &[(String, String, String)]| l.iter().map(|x| x.0.clone()).collect::<Vec<_>>();
    let (groups, acls) = tokio::join!(
        by_id(&ec2, Kind::Group, ids(&t.groups)),
        by_id(&ec2, Kind::Acl, ids(&t.acls))
    );
    let mut rows = Vec::new();
    for (list, found) in [(&t.groups, groups), (&t.acls, acls)] {
        for (id, event, event_id) in list {
            match found.get(id) {
                Some(Ok(Some(row))) => rows.push((id.starts_with("sg-"), row.clone())),
                Some(Ok(None)) => w.gone.push(id.clone()),
                Some(Err(problem)) => w.failed.push(RereadFailure {
                    resource: id.clone(),
                    event: event.clone(),
                    event_id: event_id.clone(),
                    problem: problem.clone(),
                }),
                None => {}
            }
        }
    }
    let (sg_rows, acl_rows): (Vec<_>, Vec<_>) = rows.into_iter().partition(|(sg, _)| *sg);
    let mut states: Vec<Resource> = Vec::new();
    if !sg_rows.is_empty() {
        let wanted: Vec<String> = t.groups.iter().map(|g| g.0.clone()).collect();
        match convert(document(
            "SecurityGroups",
            sg_rows.into_iter().map(|r| r.1).collect(),
        )) {
            Ok(mut sgs) => {
                let early = crate::client::rule_rows_of(&ec2, wanted).await;
                let mut problems = Vec::new();
                crate::client::enrich(&ec2, &mut sgs, early, &mut problems).await;
                if let Some(p) = problems.into_iter().next() {
                    for g in &sgs {
                        let (event, event_id) = first_change(&t.groups, g.id.as_str());
                        w.failed.push(RereadFailure {
                            resource: g.id.as_str().to_string(),
                            event,
                            event_id,
                            problem: p.clone(),
                        });
                    }
                } else {
                    states.extend(sgs);
                }
            }
            Err(p) => fail_all(w, &t.groups, &p),
        }
    }
    if !acl_rows.is_empty() {
        match convert(document(
            "NetworkAcls",
            acl_rows.into_iter().map(|r| r.1).collect(),
        )) {
            Ok(acls) => states.extend(acls),
            Err(p) => fail_all(w, &t.acls, &p),
        }
    }
    w.states = states
        .into_iter()
        .map(netdrift_snapshots::canonicalize)
        .collect();
}

fn first_change(list: &[(String, String, String)], id: &str) -> (String, String) {
    list.iter()
        .find(|x| x.0 == id)
        .map(|x| (x.1.clone(), x.2.clone()))
        .unwrap_or_default()
}

fn fail_all(w: &mut Watched, list: &[(String, String, String)], p: &Problem) {
    for (id, event, event_id) in list {
        w.failed.push(RereadFailure {
            resource: id.clone(),
            event: event.clone(),
            event_id: event_id.clone(),
            problem: p.clone(),
        });
    }
}

#[derive(Clone, Copy)]
enum Kind {
    Group,
    Acl,
}

type Found = std::collections::HashMap<String, Result<Option<Value>, Problem>>;

/// Each id's row in the AWS CLI's JSON, `None` when the cloud says it does not exist. One
/// request for all; when it fails because one id is gone, one request per id.
async fn by_id(ec2: &aws_sdk_ec2::Client, kind: Kind, ids: Vec<String>) -> Found {
    let mut found = Found::new();
    if ids.is_empty() {
        return found;
    }
    match describe(ec2, kind, ids.clone()).await {
        Ok(rows) => {
            for id in ids {
                let row = rows
                    .iter()
                    .find(|r| row_id(kind, r) == Some(id.as_str()))
                    .cloned();
                found.insert(id, Ok(row));
            }
        }
        Err(Described::NotFound) if ids.len() > 1 => {
            for id in ids {
                let one = match describe(ec2, kind, vec![id.clone()]).await {
                    Ok(rows) => Ok(rows.into_iter().next()),
                    Err(Described::NotFound) => Ok(None),
                    Err(Described::Failed(p)) => Err(p),
                };
                found.insert(id, one);
            }
        }
        Err(Described::NotFound) => {
            found.insert(ids[0].clone(), Ok(None));
        }
        Err(Described::Failed(p)) => {
            for id in ids {
                found.insert(id, Err(p.clone()));
            }
        }
    }
    found
}

fn row_id(kind: Kind, row: &Value) -> Option<&str> {
    match kind {
        Kind::Group => row["GroupId"].as_str(),
        Kind::Acl => row["NetworkAclId"].as_str(),
    }
}

enum Described {
    NotFound,
    Failed(Problem),
}

async fn describe(
    ec2: &aws_sdk_ec2::Client,
    kind: Kind,
    ids: Vec<String>,
) -> Result<Vec<Value>, Described> {
    let not_found = |code: Option<&str>| matches!(code, Some(c) if c.ends_with(".NotFound") || c == "InvalidGroupId.Malformed");
    match kind {
        Kind::Group => {
            let mut rows = Vec::new();
            let mut pages = ec2
                .describe_security_groups()
                .set_group_ids(Some(ids))
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                match page {
                    Ok(p) => rows.extend(p.security_groups().iter().map(wire::security_group)),
                    Err(e) if not_found(e.code()) => return Err(Described::NotFound),
                    Err(e) => {
                        return Err(Described::Failed(classify(
                            "DescribeSecurityGroups",
                            Some(ResourceKind::AwsSecurityGroup),
                            &e,
                        )))
                    }
                }
            }
            Ok(rows)
        }
        Kind::Acl => {
            let mut rows = Vec::new();
            let mut pages = ec2
                .describe_network_acls()
                .set_network_acl_ids(Some(ids))
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                match page {
                    Ok(p) => rows.extend(p.network_acls().iter().map(wire::network_acl)),
                    Err(e) if not_found(e.code()) => return Err(Described::NotFound),
                    Err(e) => {
                        return Err(Described::Failed(classify(
                            "DescribeNetworkAcls",
                            Some(ResourceKind::AwsNetworkAcl),
                            &e,
                        )))
                    }
                }
            }
            Ok(rows)
        }
    }
}

#[cfg(test)]
mod tests;
