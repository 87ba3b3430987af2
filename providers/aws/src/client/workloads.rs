//! Workloads: network interfaces, subnets and route tables, each listed whole (pages of 1,000)
//! and converted through the offline converter (`netdrift_provider_file::aws_workloads`), so
//! live and offline reach read the same model. A list that fails is a problem naming its call
//! and the permission it needs; its kind is then uncollected and reach says `unknown`.

use super::*;

/// Every page of one EC2 list call, each item in the AWS CLI's JSON, under the CLI's top-level
/// key; converted, or the problem that stopped it.
macro_rules! list_all {
    ($call:expr, $items:ident, $wire:path, $key:literal, $op:literal, $kind:expr) => {{
        let mut rows = Vec::new();
        let mut pages = $call.max_results(1000).into_paginator().send();
        let mut failed = None;
        while let Some(page) = pages.next().await {
            match page {
                Ok(p) => rows.extend(p.$items().iter().map($wire)),
                Err(e) => {
                    failed = Some(classify($op, Some($kind), &e));
                    break;
                }
            }
        }
        match failed {
            Some(p) => Err(p),
            None => convert(document($key, rows)).map_err(|p| Problem {
                kind: Some($kind),
                ..p
            }),
        }
    }};
}

/// The three workload lists of one scope, read concurrently: per kind its resources, or the
/// problem that kept it from being read.
pub(super) async fn collect_workloads(
    ec2: &aws_sdk_ec2::Client,
) -> Vec<(ResourceKind, Result<Vec<Resource>, Problem>)> {
    let (enis, subnets, tables) = tokio::join!(
        async {
            list_all!(
                ec2.describe_network_interfaces(),
                network_interfaces,
                wire::network_interface,
                "NetworkInterfaces",
                "DescribeNetworkInterfaces",
                ResourceKind::AwsNetworkInterface
            )
        },
        async {
            list_all!(
                ec2.describe_subnets(),
                subnets,
                wire::subnet,
                "Subnets",
                "DescribeSubnets",
                ResourceKind::AwsSubnet
            )
        },
        async {
            list_all!(
                ec2.describe_route_tables(),
                route_tables,
                wire::route_table,
                "RouteTables",
                "DescribeRouteTables",
                ResourceKind::AwsRouteTable
            )
        },
    );
    vec![
        (ResourceKind::AwsNetworkInterface, enis),
        (ResourceKind::AwsSubnet, subnets),
        (ResourceKind::AwsRouteTable, tables),
    ]
}

/// The security groups some network interface uses.
pub(super) fn attached_groups(interfaces: &[Resource]) -> BTreeSet<String> {
    interfaces
        .iter()
        .filter_map(|r| match r.workload.as_deref() {
            Some(netdrift_snapshots::Workload::AwsInterface(i)) => Some(i.groups.iter().cloned()),
            _ => None,
        })
        .flatten()
        .collect()
}
