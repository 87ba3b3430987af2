//! SDK configuration, credentials, role assumption, account and region discovery, and the
//! per-scope collection with bounded concurrency, retries and a per-scope timeout.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use aws_config::{Region, SdkConfig};
use chrono::{DateTime, Utc};
use serde_json::Value;

use netdrift_snapshots::logging::LoggingCheck;
use netdrift_snapshots::{
    AuditEvent, AuditFailure, Collected, Problem, Provider, Resource, ResourceKind, Scope,
    SnapshotStatus,
};

use crate::discovery::{accounts, base_config, regions};
use crate::errors::classify;
use crate::wire;

pub(crate) mod rules;
mod workloads;

use rules::{enrich_security_groups, fetch_rule_rows, RuleIds};

/// One configured AWS source.
#[derive(Debug, Clone)]
pub struct AwsSource {
    pub name: String,
    /// Regions to collect; `None` = every region enabled in each account (DescribeRegions).
    pub regions: Option<Vec<String>>,
    /// Role ARNs to assume, one per account. Empty (and no discovery) = the base credentials'
    /// own account.
    pub assume_roles: Vec<String>,
    pub external_id: Option<String>,
    pub session_name: String,
    /// Discover accounts with Organizations ListAccounts and assume this role name in each.
    pub organization_role: Option<String>,
    /// Endpoint override for every AWS service (emulators, VPC endpoints).
    pub endpoint_url: Option<String>,
    /// Named profile for the base credentials (else the default chain).
    pub profile: Option<String>,
    /// Region for STS, Organizations and DescribeRegions.
    pub home_region: String,
    pub concurrency: usize,
    pub scope_timeout: Duration,
    pub max_attempts: u32,
    /// Fetch CloudTrail events (LookupEvents) for each collected scope.
    pub cloudtrail: bool,
    /// The role name `revert --apply` assumes in an item's account.
    pub remediation_role: Option<String>,
    /// CloudTrail read from the bucket a trail delivers to, instead of LookupEvents.
    pub trail_bucket: Option<Box<TrailBucketSource>>,
}

/// Where and how a source reads its trail's delivered objects.
#[derive(Debug, Clone)]
pub struct TrailBucketSource {
    pub bucket: crate::s3trail::TrailBucket,
    /// The bucket's region (else the home region).
    pub region: Option<String>,
    /// Role assumed for the reads (else the base credentials).
    pub role: Option<String>,
    pub concurrency: usize,
}

/// The security groups netdrift already stored for a scope (the newest snapshot that read
/// them), by group id: the rules they had, with their `sgr-` ids.
pub type KnownGroups = HashMap<String, Resource>;

/// Above this many groups needing rule ids (or half of the scope's groups), one unfiltered
/// DescribeSecurityGroupRules listing is cheaper than `group-id` filtered ones.
const RULE_ID_FILTER_MAX: usize = 1000;
/// Filter values per DescribeSecurityGroupRules request (EC2 accepts up to 200).
const RULE_ID_FILTER_BATCH: usize = 200;

/// What one source produced: the shared output of every provider.
pub use netdrift_provider_api::SourceOutput as Collection;

#[async_trait::async_trait(?Send)]
impl netdrift_provider_api::Source for AwsSource {
    fn provider(&self) -> Provider {
        Provider::Aws
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn describe(&self) -> String {
        self.summary()
    }
    async fn collect(&self, ctx: &netdrift_provider_api::CollectContext<'_>) -> Collection {
        // Only the security groups of what is stored matter here (their `sgr-` ids).
        let known = |scope: &str| -> KnownGroups {
            (ctx.known)(scope)
                .into_iter()
                .filter(|r| r.kind == ResourceKind::AwsSecurityGroup)
                .map(|r| (r.id.as_str().to_string(), r))
                .collect()
        };
        collect(
            self,
            ctx.since,
            &known,
            ctx.now,
            &ctx.shutdown,
            ctx.processed.clone(),
        )
        .await
    }
    async fn watch(
        &self,
        ctx: &netdrift_provider_api::watch::WatchContext<'_>,
    ) -> Option<netdrift_provider_api::watch::WatchOutput> {
        if !self.cloudtrail {
            // Without CloudTrail there is nothing to watch: the nightly collection covers it.
            return None;
        }
        Some(crate::watch::watch(self, ctx).await)
    }
    fn covers(&self, scope: &Scope) -> bool {
        scope.provider() == Provider::Aws && crate::remediate::covers(self, scope)
    }
    async fn apply(
        &self,
        scope: &Scope,
        calls: &[netdrift_provider_api::Call],
    ) -> Vec<netdrift_provider_api::CallOutcome> {
        crate::remediate::apply(self, scope, calls).await
    }
}

/// Collect every account × region of a source. `events_since(scope key)` gives the start of
/// the CloudTrail window for a scope (the previous snapshot); `now` its end. `known(scope key)`
/// gives the groups already stored for the scope: an unchanged group keeps its stored rule ids,
/// and DescribeSecurityGroupRules is asked only for the groups that are new or changed.
pub async fn collect(
    src: &AwsSource,
    events_since: &(dyn Fn(&str) -> DateTime<Utc> + Sync),
    known: &dyn Fn(&str) -> KnownGroups,
    now: DateTime<Utc>,
    shutdown: &netdrift_provider_api::Shutdown,
    processed: Arc<dyn Fn(&str) -> bool + Send + Sync>,
) -> Collection {
    let base = base_config(src).await;
    let mut out = Collection::default();
    let accts = accounts(&base, src, &mut out.problems).await;
    // The trail's bucket, when CloudTrail is read from it: one reader for every scope. When it
    // cannot be opened, every scope's audit read fails with its problem.
    let trail_reader: Option<Result<Arc<crate::s3trail::TrailReader>, Problem>> =
        match &src.trail_bucket {
            None => None,
            Some(t) => Some(trail_reader(&base, src, t).await.map(Arc::new)),
        };
    type Task = std::pin::Pin<
        Box<
            dyn std::future::Future<
                    Output = (
                        Collected,
                        Option<Result<ScopeAudit, Problem>>,
                        DateTime<Utc>,
                        Option<LoggingCheck>,
                    ),
                > + Send,
        >,
    >;
    let mut tasks: Vec<(Scope, Task)> = Vec::new();
    let trails = crate::trail::TrailCache::default();
    for (id, account) in accts {
        let account = match account {
            Ok(a) => a,
            Err(p) => {
                // The account could not be entered: every region of it is a failed scope.
                let rs = src
                    .regions
                    .clone()
                    .unwrap_or_else(|| vec![src.home_region.clone()]);
                for r in rs {
                    out.scopes.push(Collected::failed(
                        Scope::new(Provider::Aws, id.clone(), Some(r)),
                        p.clone(),
                    ));
                }
                continue;
            }
        };
        let rs = match regions(&account, src).await {
            Ok(r) => r,
            Err(p) => {
                out.scopes.push(Collected::failed(
                    Scope::new(Provider::Aws, id.clone(), Some(src.home_region.clone())),
                    p,
                ));
                continue;
            }
        };
        let account = Arc::new(account);
        for region in rs {
            let scope = Scope::new(Provider::Aws, account.id.clone(), Some(region.clone()));
            let since = events_since(&scope.key());
            let known = known(&scope.key());
            let (account, src, task_scope) = (account.clone(), src.clone(), scope.clone());
            let trails = trails.clone();
            let (trail_reader, processed) = (trail_reader.clone(), processed.clone());
            let task: Task = Box::pin(async move {
                let config = account
                    .config
                    .to_builder()
                    .region(Region::new(region.clone()))
                    .build();
                let collected = match tokio::time::timeout(
                    src.scope_timeout,
                    collect_scope(&config, scope.clone(), &known),
                )
                .await
                {
                    Ok(c) => c,
                    Err(_) => Collected::failed(
                        scope.clone(),
                        Problem {
                            code: netdrift_snapshots::ProblemCode::Timeout,
                            kind: None,
                            operation: None,
                            message: format!(
                                "collection of {} did not finish within {:?}",
                                scope.key(),
                                src.scope_timeout
                            ),
                        },
                    ),
                };
                let (events, logging) = if src.cloudtrail
                    && collected.status != SnapshotStatus::Failed
                {
                    tokio::join!(
                        async {
                            Some(match trail_reader {
                                None => crate::trail::lookup_events(&config, since, now)
                                    .await
                                    .map(ScopeAudit::events),
                                Some(Err(p)) => Err(p),
                                Some(Ok(r)) => {
                                    r.read_scope(scope.account(), &region, since, now, &*processed)
                                        .await
                                }
                            })
                        },
                        async { Some(logging_check(&config, &scope, &region, &trails).await) }
                    )
                } else {
                    (None, None)
                };
                (collected, events, since, logging)
            });
            tasks.push((task_scope, task));
        }
    }
    // The scope timeout bounds the collection inside each task; a task that panics is a
    // failed scope.
    let results =
        netdrift_provider_api::run_scopes(tasks, src.concurrency, None, shutdown, |scope, p| {
            (Collected::failed(scope, p), None, now, None)
        })
        .await;
    for (collected, events, since, logging) in results {
        out.logging.extend(logging);
        match events {
            Some(Ok(read)) => {
                out.windows.push(netdrift_provider_api::AuditWindow {
                    account: collected.scope.account().to_string(),
                    start: since,
                    end: now,
                });
                out.events.extend(read.events);
                out.objects.extend(read.objects);
                // An object that could not be read leaves the window's logs incomplete.
                for p in read.unreadable {
                    out.audit_failures.push(AuditFailure {
                        account: collected.scope.account().to_string(),
                        region: collected.scope.region().map(str::to_string),
                        start: since,
                        end: now,
                        problem: p,
                    });
                }
            }
            Some(Err(p)) => out.audit_failures.push(AuditFailure {
                account: collected.scope.account().to_string(),
                region: collected.scope.region().map(str::to_string),
                start: since,
                end: now,
                problem: p,
            }),
            None => {}
        }
        out.scopes.push(collected);
    }
    out.scopes.sort_by_key(|c| c.scope.key());
    out
}

use crate::s3trail::ScopeRead as ScopeAudit;

impl ScopeAudit {
    fn events(events: Vec<AuditEvent>) -> ScopeAudit {
        ScopeAudit {
            events,
            ..Default::default()
        }
    }
}

/// The reader of a source's trail bucket, with the role it names assumed.
async fn trail_reader(
    base: &SdkConfig,
    src: &AwsSource,
    t: &TrailBucketSource,
) -> Result<crate::s3trail::TrailReader, Problem> {
    let config = match &t.role {
        Some(role) => crate::discovery::assume(base, src, role).await?.config,
        None => base.clone(),
    };
    let region = t.region.as_deref().unwrap_or(&src.home_region);
    crate::s3trail::TrailReader::new(&config, t.bucket.clone(), region, t.concurrency).await
}

/// What CloudTrail's configuration says of one region's management write events.
async fn logging_check(
    config: &SdkConfig,
    scope: &Scope,
    region: &str,
    trails: &crate::trail::TrailCache,
) -> LoggingCheck {
    use netdrift_snapshots::logging::{aws_region, LoggingVerdict};
    match crate::trail::logging(config, region, trails).await {
        Ok((trails, problems)) => {
            let (verdict, evidence) = aws_region(region, &trails);
            LoggingCheck {
                scope: scope.clone(),
                verdict,
                evidence,
                problem: (verdict == LoggingVerdict::Unverified)
                    .then(|| problems.into_iter().next())
                    .flatten(),
            }
        }
        Err(p) => LoggingCheck {
            scope: scope.clone(),
            verdict: LoggingVerdict::Unverified,
            evidence: vec![format!("DescribeTrails in {region} failed: {}", p.cause())],
            problem: Some(p),
        },
    }
}

/// The AWS CLI's document `{key: rows}`, the rows moved in (`json!` would copy each one).
pub(crate) fn document(key: &str, rows: Vec<Value>) -> Value {
    let mut doc = serde_json::Map::new();
    doc.insert(key.to_string(), Value::Array(rows));
    Value::Object(doc)
}

pub(crate) fn convert(doc: Value) -> Result<Vec<Resource>, Problem> {
    netdrift_provider_file::convert_document(Provider::Aws, "", &doc).map_err(|e| Problem {
        code: netdrift_snapshots::ProblemCode::Decode,
        kind: None,
        operation: None,
        message: format!("unexpected API data: {e}"),
    })
}

/// Collect one account × region. Each call that fails becomes a problem; what it would have
/// read is marked uncollected so that it is never reported as deleted.
pub async fn collect_scope(config: &SdkConfig, scope: Scope, known: &KnownGroups) -> Collected {
    let ec2 = aws_sdk_ec2::Client::new(config);
    // Security groups (with their enrichment), network ACLs and the workloads are independent:
    // fetch them concurrently.
    let ((mut sgs, mut problems), (acls, acl_problems), workloads) = tokio::join!(
        collect_groups(&ec2, known),
        collect_acls(&ec2),
        workloads::collect_workloads(&ec2)
    );
    problems.extend(acl_problems);
    let (sg_ok, acl_ok) = (sgs.is_some(), acls.is_some());
    let mut uncollected = Vec::new();
    if !sg_ok {
        uncollected.push(ResourceKind::AwsSecurityGroup);
    }
    if !acl_ok {
        uncollected.push(ResourceKind::AwsNetworkAcl);
    }
    let mut workload_resources = Vec::new();
    let mut attached = None;
    for (kind, listed) in workloads {
        match listed {
            Ok(rs) => {
                if kind == ResourceKind::AwsNetworkInterface {
                    attached = Some(workloads::attached_groups(&rs));
                }
                workload_resources.extend(rs);
            }
            Err(p) => {
                uncollected.push(kind);
                problems.push(p);
            }
        }
    }
    // Whether a network interface uses each group: unknown when the interfaces could not be
    // listed.
    for g in sgs.iter_mut().flatten() {
        g.attached = attached.as_ref().map(|s| s.contains(g.id.as_str()));
    }
    let resources: Vec<Resource> = sgs
        .into_iter()
        .flatten()
        .chain(acls.into_iter().flatten())
        .chain(workload_resources)
        .collect();

    let status = if !sg_ok && !acl_ok {
        SnapshotStatus::Failed
    } else if problems.is_empty() {
        SnapshotStatus::Complete
    } else {
        SnapshotStatus::Partial
    };
    if status == SnapshotStatus::Failed {
        return Collected {
            scope,
            status,
            resources: Vec::new(),
            problems,
            uncollected: netdrift_snapshots::collection::all_kinds(Provider::Aws),
        };
    }
    Collected {
        scope,
        status,
        resources: resources
            .into_iter()
            .map(netdrift_snapshots::canonicalize)
            .collect(),
        problems,
        uncollected,
    }
}

/// The rule rows of the named groups (`group-id` filter), for a watch re-read.
pub(crate) async fn rule_rows_of(
    ec2: &aws_sdk_ec2::Client,
    groups: Vec<String>,
) -> rules::RuleRows {
    fetch_rule_rows(ec2, RuleIds::Groups(groups)).await
}

/// Rule ids and prefix lists of groups re-read alone, from `rows` (nothing stored is reused).
pub(crate) async fn enrich(
    ec2: &aws_sdk_ec2::Client,
    sgs: &mut Vec<Resource>,
    rows: rules::RuleRows,
    problems: &mut Vec<Problem>,
) {
    enrich_security_groups(ec2, sgs, &KnownGroups::new(), Some(rows), problems).await
}

/// Security groups with their rule ids, prefix lists and attachment; `None` when they could
/// not be read.
async fn collect_groups(
    ec2: &aws_sdk_ec2::Client,
    known: &KnownGroups,
) -> (Option<Vec<Resource>>, Vec<Problem>) {
    // Nothing stored for the scope: every rule id is needed, so the rules are listed while the
    // groups are.
    let (listed, early) = tokio::join!(list_groups(ec2), async {
        if known.is_empty() {
            Some(fetch_rule_rows(ec2, RuleIds::All).await)
        } else {
            None
        }
    });
    let mut problems = Vec::new();
    let groups = match listed {
        Ok(g) => g,
        Err(p) => return (None, vec![p]),
    };
    match convert(document("SecurityGroups", groups)) {
        Ok(mut sgs) => {
            enrich_security_groups(ec2, &mut sgs, known, early, &mut problems).await;
            (Some(sgs), problems)
        }
        Err(p) => {
            problems.push(Problem {
                kind: Some(ResourceKind::AwsSecurityGroup),
                ..p
            });
            (None, problems)
        }
    }
}

/// Every security group, in the AWS CLI's JSON.
async fn list_groups(ec2: &aws_sdk_ec2::Client) -> Result<Vec<Value>, Problem> {
    let mut groups = Vec::new();
    let mut pages = ec2
        .describe_security_groups()
        .max_results(1000)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        match page {
            Ok(p) => groups.extend(p.security_groups().iter().map(wire::security_group)),
            Err(e) => {
                return Err(classify(
                    "DescribeSecurityGroups",
                    Some(ResourceKind::AwsSecurityGroup),
                    &e,
                ))
            }
        }
    }
    Ok(groups)
}

/// Network ACLs; `None` when they could not be read.
async fn collect_acls(ec2: &aws_sdk_ec2::Client) -> (Option<Vec<Resource>>, Vec<Problem>) {
    let mut acls = Vec::new();
    let mut pages = ec2
        .describe_network_acls()
        .max_results(1000)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        match page {
            Ok(p) => acls.extend(p.network_acls().iter().map(wire::network_acl)),
            Err(e) => {
                return (
                    None,
                    vec![classify(
                        "DescribeNetworkAcls",
                        Some(ResourceKind::AwsNetworkAcl),
                        &e,
                    )],
                )
            }
        }
    }
    match convert(document("NetworkAcls", acls)) {
        Ok(v) => (Some(v), Vec::new()),
        Err(p) => (
            None,
            vec![Problem {
                kind: Some(ResourceKind::AwsNetworkAcl),
                ..p
            }],
        ),
    }
}
