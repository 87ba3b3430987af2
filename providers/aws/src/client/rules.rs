//! What a security group needs beyond DescribeSecurityGroups: its rules' `sgr-` ids (kept from
//! the stored snapshot for an unchanged group, else DescribeSecurityGroupRules, filtered by
//! group when few changed) and its prefix lists resolved. Whether a network interface uses it
//! comes from the workloads (`workloads.rs`).

use super::*;

/// Rule ids (stored ones for unchanged groups, DescribeSecurityGroupRules for the others) and
/// resolved prefix lists, fetched concurrently. A failure
/// here degrades the data (problem, partial snapshot) but keeps the groups.
pub(super) async fn enrich_security_groups(
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
    let ((rows, p1), (resolved, p2)) =
        tokio::join!(rule_rows, fetch_prefix_lists(ec2, &referenced));
    problems.extend(p1.into_iter().chain(p2));
    if let Some(rows) = rows.filter(|r| !r.is_empty()) {
        if let Ok(with_ids) = convert(document("SecurityGroupRules", rows)) {
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
    }
}

/// The rule ids of `group`'s stored version, in `group`'s rule order, when both hold the same
/// rules (an id is stable while its rule exists; a description edit keeps it). `None` when the
/// rules differ or the stored version lacks an id.
pub(super) fn stored_rule_ids(group: &Resource, stored: &Resource) -> Option<Vec<String>> {
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
pub(super) enum RuleIds {
    None,
    All,
    Groups(Vec<String>),
}

/// Rule rows with their stable ids (`None` when they could not be read), and the problem.
pub(crate) type RuleRows = (Option<Vec<Value>>, Vec<Problem>);

/// Read the rule rows asked for.
pub(super) async fn fetch_rule_rows(ec2: &aws_sdk_ec2::Client, wanted: RuleIds) -> RuleRows {
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
pub(super) async fn fetch_prefix_lists(
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
