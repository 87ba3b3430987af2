//! netdrift-provider-gcp: live collection from Google Cloud.
//!
//! API boundary: `collect` returns one `Collected` per project (failed or partial projects
//! included, with their problems) and the Cloud Audit Logs events of the window since each
//! project's previous snapshot. Nothing here touches SQLite, decides drift or formats reports.
//!
//! Inside: `compute` (google-cloud-compute-v1 clients: firewalls, networks, regions, global,
//! regional and hierarchical firewall policies; retries on 429 and 5xx with exponential
//! backoff), `rest` (the same credentials over reqwest for Cloud Resource Manager discovery and
//! Cloud Logging `entries.list`), `errors` (what the caller does next, and `PERMISSIONS`, the
//! exact list `docs/iam/gcp-role.json` must grant), `remediate` (`netdrift revert --apply`: the
//! revert steps as Compute REST calls with their exact bodies, operations followed to the end;
//! `REMEDIATION_PERMISSIONS` is what `docs/iam/gcp-remediate.json` grants). The JSON the APIs return is converted by
//! `netdrift-provider-file`, so live and offline collection share one conversion.

mod compute;
mod config;
mod errors;
pub mod remediate;
mod rest;
mod watch;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use netdrift_snapshots::logging::{LoggingCheck, LoggingVerdict};
use netdrift_snapshots::{
    AuditEvent, Collected, Problem, ProblemCode, Provider, ResourceKind, Scope, SnapshotStatus,
};

pub use config::GcpConfig;
pub use errors::PERMISSIONS;

/// How to authenticate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    /// Application Default Credentials: `GOOGLE_APPLICATION_CREDENTIALS` (service-account key or
    /// workload identity federation), gcloud's user credentials, or the metadata server.
    ApplicationDefault,
    /// No credentials at all: only for a local fake (the config refuses it elsewhere).
    Anonymous,
}

/// One configured GCP source.
#[derive(Debug, Clone)]
pub struct GcpSource {
    pub name: String,
    /// Projects to collect (project ids).
    pub projects: Vec<String>,
    /// `organizations/123`: discover every active project under it (Cloud Resource Manager) and
    /// collect the hierarchical firewall policies of the organization and its folders.
    pub organization: Option<String>,
    /// `folders/456`: discover every active project under these folders too.
    pub folders: Vec<String>,
    /// Regions whose regional network firewall policies are read; `None` = every region of
    /// each project (`regions.list`).
    pub regions: Option<Vec<String>>,
    /// Base URL for every Google API (a local fake, a Private Service Connect endpoint).
    pub endpoint_url: Option<String>,
    pub credentials: Credentials,
    pub concurrency: usize,
    pub scope_timeout: Duration,
    pub max_attempts: u32,
    /// Read Cloud Audit Logs for attribution.
    pub audit_logs: bool,
}

/// What one source produced: the shared output of every provider.
pub use netdrift_provider_api::SourceOutput as Collection;

#[async_trait::async_trait(?Send)]
impl netdrift_provider_api::Source for GcpSource {
    fn provider(&self) -> Provider {
        Provider::Gcp
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn describe(&self) -> String {
        self.summary()
    }
    async fn collect(&self, ctx: &netdrift_provider_api::CollectContext<'_>) -> Collection {
        collect(self, ctx.since, ctx.now, &ctx.shutdown).await
    }
    async fn watch(
        &self,
        ctx: &netdrift_provider_api::watch::WatchContext<'_>,
    ) -> Option<netdrift_provider_api::watch::WatchOutput> {
        if !self.audit_logs {
            return None;
        }
        Some(watch::watch(self, ctx).await)
    }
    fn covers(&self, scope: &netdrift_snapshots::Scope) -> bool {
        // Discovery decides the projects of an organization or folder source.
        scope.provider() == Provider::Gcp
            && (self.organization.is_some()
                || !self.folders.is_empty()
                || self.projects.iter().any(|p| p == scope.account()))
    }
    async fn apply(
        &self,
        scope: &netdrift_snapshots::Scope,
        calls: &[netdrift_provider_api::Call],
    ) -> Vec<netdrift_provider_api::CallOutcome> {
        remediate::apply(self, scope, calls).await
    }
}

/// A project to collect and the hierarchy above it: (node, depth) from the organization (0)
/// down to its folder.
#[derive(Debug, Clone, Default)]
struct Target {
    project: String,
    ancestors: Vec<(String, u32)>,
}

/// Collect every configured and discovered project. `since(scope_key)` starts each project's
/// audit window.
pub async fn collect(
    src: &GcpSource,
    since: &(dyn Fn(&str) -> DateTime<Utc> + Sync),
    now: DateTime<Utc>,
    shutdown: &netdrift_provider_api::Shutdown,
) -> Collection {
    collect_projects(src, since, now, shutdown, None).await
}

/// Collect the source's projects; `only`: just these (a watch tick re-collecting a project
/// whole), without audit logs.
pub(crate) async fn collect_projects(
    src: &GcpSource,
    since: &(dyn Fn(&str) -> DateTime<Utc> + Sync),
    now: DateTime<Utc>,
    shutdown: &netdrift_provider_api::Shutdown,
    only: Option<&BTreeSet<String>>,
) -> Collection {
    let mut out = Collection::default();
    let clients = match compute::Clients::new(src).await {
        Ok(c) => Arc::new(c),
        Err(p) => {
            out.problems.push(p.clone());
            for project in &src.projects {
                out.scopes
                    .push(Collected::failed(scope(project), p.clone()));
            }
            return out;
        }
    };
    let rest = Arc::new(clients.rest.clone());

    // Projects: configured ones, then discovery under the organization and folders.
    let mut targets: BTreeMap<String, Target> = src
        .projects
        .iter()
        .map(|p| {
            (
                p.clone(),
                Target {
                    project: p.clone(),
                    ancestors: Vec::new(),
                },
            )
        })
        .collect();
    let mut nodes: Vec<(String, u32)> = Vec::new();
    let mut discovery_ok = true;
    let roots: Vec<(String, u32)> = src
        .organization
        .iter()
        .map(|o| (o.clone(), 0))
        .chain(src.folders.iter().map(|f| (f.clone(), 1)))
        .collect();
    if !roots.is_empty() {
        match rest.discover(&roots).await {
            Ok(found) => {
                for (project, ancestors) in found.projects {
                    targets.insert(project.clone(), Target { project, ancestors });
                }
                nodes = found.nodes;
            }
            Err(p) => {
                discovery_ok = false;
                out.problems.push(p);
            }
        }
    }

    if let Some(only) = only {
        targets.retain(|p, _| only.contains(p));
    }

    // Hierarchical policies of the organization and every folder, once for all projects.
    let mut hierarchical: Vec<serde_json::Value> = Vec::new();
    let mut hierarchical_problem: Option<Problem> = None;
    if src.organization.is_some() {
        if !discovery_ok {
            hierarchical_problem = out.problems.last().cloned();
        }
        for (node, _) in &nodes {
            match clients.hierarchical_policies(node).await {
                Ok(v) => hierarchical.extend(v),
                Err(p) => {
                    hierarchical_problem = Some(p.clone());
                    out.problems.push(p);
                    break;
                }
            }
        }
    }
    let hierarchical = Arc::new(hierarchical);

    // Projects, at most `concurrency` at a time, each within the scope timeout; a task that
    // panics or times out is a failed project.
    let tasks: Vec<_> = targets
        .values()
        .cloned()
        .map(|t| {
            let (clients, hierarchical) = (clients.clone(), hierarchical.clone());
            let hp = hierarchical_problem.clone();
            let regions = src.regions.clone();
            (scope(&t.project), async move {
                clients
                    .collect_project(&t, &hierarchical, hp, regions.as_deref())
                    .await
            })
        })
        .collect();
    out.scopes.extend(
        netdrift_provider_api::run_scopes(
            tasks,
            src.concurrency,
            Some(src.scope_timeout),
            shutdown,
            Collected::failed,
        )
        .await,
    );
    out.scopes.sort_by_key(|c| c.scope.key());

    // Audit logs for every project that could be read, and the organization's own log.
    if src.audit_logs && only.is_none() {
        let mut earliest = now;
        for c in &out.scopes {
            if c.status == SnapshotStatus::Failed {
                continue;
            }
            let start = since(&c.scope.key());
            earliest = earliest.min(start);
            let resource = format!("projects/{}", c.scope.account());
            match rest
                .audit_entries(std::slice::from_ref(&resource), start, now)
                .await
            {
                Ok(entries) => {
                    // The Admin Activity log cannot be switched off: readable is logged.
                    out.logging.push(LoggingCheck {
                        scope: c.scope.clone(),
                        verdict: LoggingVerdict::Logged,
                        evidence: vec![format!(
                            "Cloud Logging entries.list on {resource} read the Admin Activity log ({} entries from {} to {}); it cannot be disabled",
                            entries.len(),
                            netdrift_snapshots::time::secs(start),
                            netdrift_snapshots::time::secs(now)
                        )],
                        problem: None,
                    });
                    merge_events(&mut out.events, entries);
                    out.windows.push(netdrift_provider_api::AuditWindow {
                        account: c.scope.account().to_string(),
                        start,
                        end: now,
                    });
                }
                Err(p) => {
                    if matches!(p.code, ProblemCode::PermissionDenied | ProblemCode::Auth) {
                        out.logging.push(LoggingCheck {
                            scope: c.scope.clone(),
                            verdict: LoggingVerdict::Unreadable,
                            evidence: vec![format!(
                                "Cloud Logging entries.list on {resource} refused: {}",
                                p.cause()
                            )],
                            problem: Some(p.clone()),
                        });
                    }
                    out.audit_failures.push(netdrift_snapshots::AuditFailure {
                        account: c.scope.account().to_string(),
                        region: None,
                        start,
                        end: now,
                        problem: p,
                    })
                }
            }
        }
        if let Some(org) = &src.organization {
            let mut names = vec![org.clone()];
            names.extend(
                nodes
                    .iter()
                    .filter(|(n, _)| n != org)
                    .map(|(n, _)| n.clone()),
            );
            match rest.audit_entries(&names, earliest, now).await {
                Ok(entries) => merge_events(&mut out.events, entries),
                Err(p) => out.audit_failures.push(netdrift_snapshots::AuditFailure {
                    account: org.clone(),
                    region: None,
                    start: earliest,
                    end: now,
                    problem: p,
                }),
            }
        }
    }
    out
}

/// Parse entries, merging the first and last entries of one operation.
pub(crate) fn merge_events(into: &mut Vec<AuditEvent>, entries: Vec<serde_json::Value>) {
    for e in entries {
        match netdrift_provider_file::audit::gcp::parse_entry(&e) {
            Ok(Some(ev)) => match into.iter_mut().find(|x| x.event_id == ev.event_id) {
                Some(prev) => netdrift_provider_file::audit::gcp::merge(prev, ev),
                None => into.push(ev),
            },
            Ok(None) => {}
            Err(why) => tracing::warn!(%why, "skipping an unreadable audit log entry"),
        }
    }
}

pub(crate) fn scope(project: &str) -> Scope {
    Scope::new(Provider::Gcp, project, None)
}

/// Assemble a project's snapshot from what could be read.
fn assemble(
    project: &str,
    resources: Vec<netdrift_snapshots::Resource>,
    problems: Vec<Problem>,
) -> Collected {
    let uncollected: BTreeSet<ResourceKind> = problems.iter().filter_map(|p| p.kind).collect();
    let all = netdrift_snapshots::collection::all_kinds(Provider::Gcp);
    let firewalls = netdrift_snapshots::collection::firewall_kinds(Provider::Gcp);
    let status = if problems.is_empty() {
        SnapshotStatus::Complete
    } else if firewalls.iter().all(|k| uncollected.contains(k))
        || problems.iter().any(|p| p.kind.is_none())
    {
        SnapshotStatus::Failed
    } else {
        SnapshotStatus::Partial
    };
    Collected {
        scope: scope(project),
        status,
        resources: if status == SnapshotStatus::Failed {
            Vec::new()
        } else {
            resources
        },
        problems,
        uncollected: if status == SnapshotStatus::Failed {
            all
        } else {
            uncollected.into_iter().collect()
        },
    }
}
