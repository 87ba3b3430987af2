//! SDK configuration, credentials, role assumption, account and region discovery, and the
//! per-scope collection with bounded concurrency, retries and a per-scope timeout.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use netdrift_snapshots::{
    AuditEvent, AuditFailure, Collected, Problem, Provider, Resource, ResourceKind, Scope,
    SnapshotStatus,
};

use crate::errors::classify;
use crate::wire;

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
        collect(self, ctx.since, &known, ctx.now, &ctx.shutdown).await
    }
}

async fn base_config(src: &AwsSource) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(src.home_region.clone()))
        .retry_config(RetryConfig::standard().with_max_attempts(src.max_attempts.max(1)))
        .timeout_config(
            TimeoutConfig::builder()
                .operation_attempt_timeout(Duration::from_secs(60))
                .build(),
        );
    if let Some(u) = &src.endpoint_url {
        loader = loader.endpoint_url(u);
    }
    if let Some(p) = &src.profile {
        loader = loader.profile_name(p);
    }
    loader.load().await
}

/// An account to collect, with the configuration that acts in it.
struct Account {
    id: String,
    config: SdkConfig,
}

fn account_of_role(arn: &str) -> String {
    arn.split(':').nth(4).unwrap_or_default().to_string()
}

async fn assume(base: &SdkConfig, src: &AwsSource, role: &str) -> Result<Account, Problem> {
    let sts = aws_sdk_sts::Client::new(base);
    let mut req = sts
        .assume_role()
        .role_arn(role)
        .role_session_name(&src.session_name);
    if let Some(x) = &src.external_id {
        req = req.external_id(x);
    }
    let out = req
        .send()
        .await
        .map_err(|e| classify("AssumeRole", None, &e))?;
    let c = out.credentials().ok_or_else(|| Problem {
        code: netdrift_snapshots::ProblemCode::Auth,
        kind: None,
        operation: Some("AssumeRole".into()),
        message: format!("AssumeRole {role} returned no credentials"),
    })?;
    let creds = Credentials::new(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().to_string()),
        None,
        "netdrift-assume-role",
    );
    let config = base
        .to_builder()
        .credentials_provider(SharedCredentialsProvider::new(creds))
        .build();
    Ok(Account {
        id: account_of_role(role),
        config,
    })
}

async fn accounts(
    base: &SdkConfig,
    src: &AwsSource,
    problems: &mut Vec<Problem>,
) -> Vec<(String, Result<Account, Problem>)> {
    let mut roles: Vec<String> = src.assume_roles.clone();
    if let Some(role_name) = &src.organization_role {
        let org = aws_sdk_organizations::Client::new(base);
        let mut pages = org.list_accounts().into_paginator().send();
        while let Some(page) = pages.next().await {
            match page {
                Ok(p) => {
                    for a in p.accounts() {
                        let active = a.status().map(|s| s.as_str() == "ACTIVE").unwrap_or(true);
                        if let (Some(id), true) = (a.id(), active) {
                            let arn = format!("arn:aws:iam::{id}:role/{role_name}");
                            if !roles.contains(&arn) {
                                roles.push(arn);
                            }
                        }
                    }
                }
                Err(e) => {
                    problems.push(classify("ListAccounts", None, &e));
                    break;
                }
            }
        }
    }
    // With Organizations discovery configured, the caller's own account is no stand-in for the
    // accounts ListAccounts would have named: a failed listing is reported, not replaced.
    if roles.is_empty() && src.organization_role.is_none() {
        let sts = aws_sdk_sts::Client::new(base);
        return match sts.get_caller_identity().send().await {
            Ok(id) => {
                let account = id.account().unwrap_or_default().to_string();
                vec![(
                    account.clone(),
                    Ok(Account {
                        id: account,
                        config: base.clone(),
                    }),
                )]
            }
            Err(e) => {
                problems.push(classify("GetCallerIdentity", None, &e));
                Vec::new()
            }
        };
    }
    let mut out = Vec::new();
    for role in roles {
        out.push((account_of_role(&role), assume(base, src, &role).await));
    }
    out
}

async fn regions(account: &Account, src: &AwsSource) -> Result<Vec<String>, Problem> {
    if let Some(r) = &src.regions {
        return Ok(r.clone());
    }
    let ec2 = aws_sdk_ec2::Client::new(&account.config);
    let out = ec2
        .describe_regions()
        .send()
        .await
        .map_err(|e| classify("DescribeRegions", None, &e))?;
    let mut v: Vec<String> = out
        .regions()
        .iter()
        .filter_map(|r| r.region_name().map(str::to_string))
        .collect();
    v.sort();
    Ok(v)
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
) -> Collection {
    let base = base_config(src).await;
    let mut out = Collection::default();
    let accts = accounts(&base, src, &mut out.problems).await;
    type Task = std::pin::Pin<
        Box<
            dyn std::future::Future<
                    Output = (
                        Collected,
                        Option<Result<Vec<AuditEvent>, Problem>>,
                        DateTime<Utc>,
                    ),
                > + Send,
        >,
    >;
    let mut tasks: Vec<(Scope, Task)> = Vec::new();
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
                let events = if src.cloudtrail && collected.status != SnapshotStatus::Failed {
                    Some(crate::trail::lookup_events(&config, since, now).await)
                } else {
                    None
                };
                (collected, events, since)
            });
            tasks.push((task_scope, task));
        }
    }
    // The scope timeout bounds the collection inside each task; a task that panics is a
    // failed scope.
    let results =
        netdrift_provider_api::run_scopes(tasks, src.concurrency, None, shutdown, |scope, p| {
            (Collected::failed(scope, p), None, now)
        })
        .await;
    for (collected, events, since) in results {
        match events {
            Some(Ok(evs)) => {
                out.windows.push(netdrift_provider_api::AuditWindow {
                    account: collected.scope.account().to_string(),
                    start: ts(since),
                    end: ts(now),
                });
                out.events.extend(evs);
            }
            Some(Err(p)) => out.audit_failures.push(AuditFailure {
                account: collected.scope.account().to_string(),
                region: collected.scope.region().map(str::to_string),
                start: ts(since),
                end: ts(now),
                problem: p,
            }),
            None => {}
        }
        out.scopes.push(collected);
    }
    out.scopes.sort_by_key(|c| c.scope.key());
    out
}

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn convert(doc: Value) -> Result<Vec<Resource>, Problem> {
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
    // Security groups (with their enrichment) and network ACLs are independent: fetch them
    // concurrently.
    let ((sgs, mut problems), (acls, acl_problems)) =
        tokio::join!(collect_groups(&ec2, known), collect_acls(&ec2));
    problems.extend(acl_problems);
    let (sg_ok, acl_ok) = (sgs.is_some(), acls.is_some());
    let mut uncollected = Vec::new();
    if !sg_ok {
        uncollected.push(ResourceKind::AwsSecurityGroup);
    }
    if !acl_ok {
        uncollected.push(ResourceKind::AwsNetworkAcl);
    }
    let resources: Vec<Resource> = sgs
        .into_iter()
        .flatten()
        .chain(acls.into_iter().flatten())
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
    match convert(json!({ "SecurityGroups": groups })) {
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
    match convert(json!({ "NetworkAcls": acls })) {
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

/// Rule ids (stored ones for unchanged groups, DescribeSecurityGroupRules for the others),
/// resolved prefix lists and attachment (network interfaces), fetched concurrently. A failure
/// here degrades the data (problem, partial snapshot) but keeps the groups.
async fn enrich_security_groups(
    ec2: &aws_sdk_ec2::Client,
    sgs: &mut Vec<Resource>,
    known: &KnownGroups,
    early: Option<RuleRows>,
    problems: &mut Vec<Problem>,
) {
    let referenced: BTreeSet<String> = sgs
        .iter()
        .flat_map(|r| r.rules.iter())
        .flat_map(|r| r.peers.iter())
        .filter_map(|p| match p {
            netdrift_snapshots::Peer::PrefixList(id) => Some(id.clone()),
            _ => None,
        })
        .collect();
    let mut need = Vec::new();
    let mut carried = Vec::new();
    for (i, g) in sgs.iter().enumerate() {
        match known.get(g.id.as_str()).and_then(|k| stored_rule_ids(g, k)) {
            Some(ids) => carried.push((i, ids)),
            None if !g.rules.is_empty() => need.push(g.id.as_str().to_string()),
            None => {}
        }
    }
    let wanted = if need.is_empty() {
        RuleIds::None
    } else if need.len() > RULE_ID_FILTER_MAX || need.len() * 2 > sgs.len() {
        RuleIds::All
    } else {
        RuleIds::Groups(need)
    };
    if !matches!(wanted, RuleIds::All) {
        for (i, ids) in carried {
            for (r, id) in sgs[i].rules.iter_mut().zip(ids) {
                r.rule_id = Some(id);
            }
        }
    }
    let rule_rows = async {
        match early {
            Some(rows) => rows,
            None => fetch_rule_rows(ec2, wanted).await,
        }
    };
    let ((rows, p1), (resolved, p2), (attached, p3)) = tokio::join!(
        rule_rows,
        fetch_prefix_lists(ec2, &referenced),
        fetch_attached(ec2)
    );
    problems.extend(p1.into_iter().chain(p2).chain(p3));
    if let Some(rows) = rows.filter(|r| !r.is_empty()) {
        if let Ok(with_ids) = convert(json!({ "SecurityGroupRules": rows })) {
            let mut all = std::mem::take(sgs);
            all.extend(with_ids);
            *sgs = netdrift_provider_file::aws::merge_rule_ids(all);
        }
    }
    for r in sgs.iter_mut() {
        for (id, nets) in &resolved {
            if r.rules.iter().any(|x| {
                x.peers
                    .contains(&netdrift_snapshots::Peer::PrefixList(id.clone()))
            }) {
                r.prefix_lists.insert(id.clone(), nets.clone());
            }
        }
        r.attached = attached.as_ref().map(|s| s.contains(r.id.as_str()));
    }
}

/// The rule ids of `group`'s stored version, in `group`'s rule order, when both hold the same
/// rules (an id is stable while its rule exists; a description edit keeps it). `None` when the
/// rules differ or the stored version lacks an id.
fn stored_rule_ids(group: &Resource, stored: &Resource) -> Option<Vec<String>> {
    use netdrift_snapshots::canonical::access_rule;
    if group.rules.len() != stored.rules.len() {
        return None;
    }
    let mut ids: BTreeMap<netdrift_snapshots::Rule, Vec<&str>> = BTreeMap::new();
    for r in &stored.rules {
        ids.entry(access_rule(r))
            .or_default()
            .push(r.rule_id.as_deref()?);
    }
    group
        .rules
        .iter()
        .map(|r| {
            ids.get_mut(&access_rule(r))
                .and_then(Vec::pop)
                .map(str::to_string)
        })
        .collect()
}

/// Which rule rows to read.
enum RuleIds {
    None,
    All,
    Groups(Vec<String>),
}

/// Rule rows with their stable ids (`None` when they could not be read), and the problem.
type RuleRows = (Option<Vec<Value>>, Vec<Problem>);

/// Read the rule rows asked for.
async fn fetch_rule_rows(ec2: &aws_sdk_ec2::Client, wanted: RuleIds) -> RuleRows {
    let batches: Vec<Option<Vec<String>>> = match wanted {
        RuleIds::None => return (Some(Vec::new()), Vec::new()),
        RuleIds::All => vec![None],
        RuleIds::Groups(ids) => ids
            .chunks(RULE_ID_FILTER_BATCH)
            .map(|c| Some(c.to_vec()))
            .collect(),
    };
    let mut rows = Vec::new();
    for batch in batches {
        let mut req = ec2.describe_security_group_rules().max_results(1000);
        if let Some(ids) = batch {
            req = req.filters(
                aws_sdk_ec2::types::Filter::builder()
                    .name("group-id")
                    .set_values(Some(ids))
                    .build(),
            );
        }
        let mut pages = req.into_paginator().send();
        while let Some(page) = pages.next().await {
            match page {
                Ok(p) => rows.extend(
                    p.security_group_rules()
                        .iter()
                        .map(wire::security_group_rule),
                ),
                Err(e) => return (None, vec![classify("DescribeSecurityGroupRules", None, &e)]),
            }
        }
    }
    (Some(rows), Vec::new())
}

/// Entries of the managed prefix lists the groups reference (only lists read completely).
async fn fetch_prefix_lists(
    ec2: &aws_sdk_ec2::Client,
    referenced: &BTreeSet<String>,
) -> (BTreeMap<String, Vec<ipnet::IpNet>>, Vec<Problem>) {
    let mut resolved = BTreeMap::new();
    let mut problems = Vec::new();
    if referenced.is_empty() {
        return (resolved, problems);
    }
    let mut known = Vec::new();
    let mut pages = ec2
        .describe_managed_prefix_lists()
        .max_results(100)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        match page {
            Ok(p) => known.extend(
                p.prefix_lists()
                    .iter()
                    .filter_map(|l| l.prefix_list_id().map(str::to_string)),
            ),
            Err(e) => {
                problems.push(classify("DescribeManagedPrefixLists", None, &e));
                return (resolved, problems);
            }
        }
    }
    for id in referenced.iter().filter(|id| known.contains(id)) {
        let mut nets = Vec::new();
        let mut complete = true;
        let mut pages = ec2
            .get_managed_prefix_list_entries()
            .prefix_list_id(id)
            .max_results(100)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            match page {
                Ok(p) => nets.extend(
                    p.entries()
                        .iter()
                        .filter_map(|e| e.cidr())
                        .filter_map(|c| netdrift_snapshots::parse_cidr(c).ok()),
                ),
                Err(e) => {
                    problems.push(classify("GetManagedPrefixListEntries", None, &e));
                    complete = false;
                    break;
                }
            }
        }
        if complete {
            resolved.insert(id.clone(), nets);
        }
    }
    (resolved, problems)
}

/// Group ids attached to a network interface: `None` when that could not be read.
async fn fetch_attached(ec2: &aws_sdk_ec2::Client) -> (Option<BTreeSet<String>>, Vec<Problem>) {
    let mut attached = BTreeSet::new();
    let mut pages = ec2
        .describe_network_interfaces()
        .max_results(1000)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        match page {
            Ok(p) => {
                for ni in p.network_interfaces() {
                    attached.extend(
                        ni.groups()
                            .iter()
                            .filter_map(|g| g.group_id().map(str::to_string)),
                    );
                }
            }
            Err(e) => return (None, vec![classify("DescribeNetworkInterfaces", None, &e)]),
        }
    }
    (Some(attached), Vec::new())
}

#[cfg(test)]
mod tests {
    use super::*;
    use netdrift_snapshots::{
        Action, Direction, Peer, PortRange, Ports, Protocol, ResourceId, Rule,
    };

    fn rule(port: i64, cidr: &str, id: Option<&str>, description: Option<&str>) -> Rule {
        let mut r = Rule::new(
            Direction::Ingress,
            Action::Allow,
            Protocol::Number(netdrift_snapshots::TCP),
            Ports::Ranges {
                ranges: vec![PortRange::new(port, port).unwrap()],
            },
            vec![Peer::Cidr(cidr.parse().unwrap())],
        );
        r.rule_id = id.map(str::to_string);
        r.description = description.map(str::to_string);
        r
    }

    fn group(rules: Vec<Rule>) -> Resource {
        let mut g = Resource::new(ResourceId::new("sg-1"), ResourceKind::AwsSecurityGroup);
        g.rules = rules;
        netdrift_snapshots::canonicalize(g)
    }

    #[test]
    fn unchanged_rules_keep_their_stored_ids_in_the_groups_order() {
        let stored = group(vec![
            rule(22, "10.0.0.0/8", Some("sgr-a"), None),
            rule(443, "0.0.0.0/0", Some("sgr-b"), None),
        ]);
        // Read afresh without ids; one description edited (ids survive that).
        let now = group(vec![
            rule(443, "0.0.0.0/0", None, Some("edited")),
            rule(22, "10.0.0.0/8", None, None),
        ]);
        let ids = stored_rule_ids(&now, &stored).expect("same rules");
        assert_eq!(ids.len(), 2);
        let ssh = Ports::Ranges {
            ranges: vec![PortRange::new(22, 22).unwrap()],
        };
        for (r, id) in now.rules.iter().zip(&ids) {
            assert_eq!(id, if r.ports == ssh { "sgr-a" } else { "sgr-b" });
        }
    }

    #[test]
    fn a_changed_or_unidentified_rule_asks_again() {
        let stored = group(vec![
            rule(22, "10.0.0.0/8", Some("sgr-a"), None),
            rule(443, "0.0.0.0/0", Some("sgr-b"), None),
        ]);
        let widened = group(vec![
            rule(22, "0.0.0.0/0", None, None),
            rule(443, "0.0.0.0/0", None, None),
        ]);
        assert_eq!(stored_rule_ids(&widened, &stored), None);
        let added = group(vec![
            rule(22, "10.0.0.0/8", None, None),
            rule(443, "0.0.0.0/0", None, None),
            rule(80, "0.0.0.0/0", None, None),
        ]);
        assert_eq!(stored_rule_ids(&added, &stored), None);
        let no_ids = group(vec![
            rule(22, "10.0.0.0/8", None, None),
            rule(443, "0.0.0.0/0", Some("sgr-b"), None),
        ]);
        let same = group(vec![
            rule(22, "10.0.0.0/8", None, None),
            rule(443, "0.0.0.0/0", None, None),
        ]);
        assert_eq!(stored_rule_ids(&same, &no_ids), None);
    }
}
