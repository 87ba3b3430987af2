//! GCP firewall policies in the evaluation order (DOMAIN.md "Firewall policies"): hierarchical
//! policies first (organization, then folders), then per network its VPC firewall rules and
//! network policies in the network's enforcement order, then the implied rules. Native JSON in
//! (REST shapes), drift out.

use std::collections::BTreeSet;

use netdrift_provider_file::convert_with;
use netdrift_snapshots::{diff_scope, PolicyLevel, Provider, Resource, ResourceDiff};
use serde_json::{json, Value};

const NET: &str = "https://www.googleapis.com/compute/v1/projects/p1/global/networks/vpc";

fn convert(docs: &[Value]) -> Vec<Resource> {
    // A networks document among them sets the enforcement order, as in an import.
    let mut before_classic = BTreeSet::new();
    for d in docs {
        if let Some(items) = d["items"].as_array() {
            for n in items {
                if n["kind"] == "compute#network"
                    && n["networkFirewallPolicyEnforcementOrder"] == "BEFORE_CLASSIC_FIREWALL"
                {
                    before_classic.insert(format!(
                        "projects/p1/global/networks/{}",
                        n["name"].as_str().unwrap()
                    ));
                }
            }
        }
    }
    docs.iter()
        .flat_map(|d| {
            convert_with(Provider::Gcp, "p1", d, &before_classic)
                .unwrap_or_else(|e| panic!("conversion failed: {e}"))
        })
        .collect()
}

fn diff(before: &[Value], after: &[Value]) -> Vec<ResourceDiff> {
    diff_scope(&convert(before), &convert(after), &BTreeSet::new())
}

fn lines(d: &[ResourceDiff]) -> Vec<String> {
    let mut v: Vec<String> = d
        .iter()
        .map(|x| {
            let allowed: Vec<String> = x.allowed_entries().iter().map(|e| e.to_string()).collect();
            let denied: Vec<String> = x.denied_entries().iter().map(|e| e.to_string()).collect();
            format!(
                "{} {:?} {:?} +[{}] -[{}]",
                x.resource,
                x.effect,
                x.change,
                allowed.join("; "),
                denied.join("; ")
            )
            .to_lowercase()
        })
        .collect();
    v.sort();
    v
}

fn firewalls(rules: Vec<Value>) -> Value {
    json!({"kind": "compute#firewallList", "items": rules})
}

fn vpc_rule(name: &str, prio: i64, action: &str, port: &str) -> Value {
    json!({"kind": "compute#firewall", "name": name, "network": NET, "priority": prio,
        "direction": "INGRESS", "sourceRanges": ["0.0.0.0/0"],
        "selfLink": format!("https://www.googleapis.com/compute/v1/projects/p1/global/firewalls/{name}"),
        action: [{"IPProtocol": "tcp", "ports": [port]}]})
}

fn rule(prio: i64, action: &str, port: &str) -> Value {
    json!({"kind": "compute#firewallPolicyRule", "priority": prio, "action": action,
        "direction": "INGRESS",
        "match": {"srcIpRanges": ["0.0.0.0/0"], "layer4Configs": [{"ipProtocol": "tcp", "ports": [port]}]}})
}

/// A hierarchical policy attached to the organization (REST `firewallPolicies.get` shape).
fn org_policy(rules: Vec<Value>) -> Value {
    json!({"kind": "compute#firewallPolicy", "name": "1111", "shortName": "org-baseline",
        "parent": "organizations/123",
        "selfLink": "https://www.googleapis.com/compute/v1/locations/global/firewallPolicies/1111",
        "associations": [{"name": "org-assoc", "attachmentTarget": "organizations/123"}],
        "rules": rules})
}

/// A global network firewall policy, associated with `vpc` or with nothing.
fn net_policy(associated: bool, rules: Vec<Value>) -> Value {
    let assoc = if associated {
        json!([{"name": "a1", "attachmentTarget": NET}])
    } else {
        json!([])
    };
    json!({"kind": "compute#firewallPolicyList", "items": [{
        "kind": "compute#firewallPolicy", "name": "net-pol",
        "selfLink": "https://www.googleapis.com/compute/v1/projects/p1/global/firewallPolicies/net-pol",
        "associations": assoc, "rules": rules}]})
}

fn networks(order: &str) -> Value {
    json!({"kind": "compute#networkList", "items": [{"kind": "compute#network", "name": "vpc",
        "selfLink": NET, "networkFirewallPolicyEnforcementOrder": order}]})
}

const ORG: &str = "locations/global/firewallpolicies/1111";
const NETPOL: &str = "projects/p1/global/firewallpolicies/net-pol";

#[test]
fn policies_convert_with_their_place_in_the_order() {
    let rs = convert(&[
        org_policy(vec![rule(100, "goto_next", "22")]),
        net_policy(true, vec![rule(10, "deny", "22")]),
    ]);
    let org = rs
        .iter()
        .find(|r| r.id.as_str() == "locations/global/firewallPolicies/1111")
        .unwrap();
    let p = org.policy.as_ref().unwrap();
    assert_eq!(p.level, PolicyLevel::Hierarchical { depth: 0 });
    assert_eq!(p.associations[0].target, "organizations/123");
    let net = rs
        .iter()
        .find(|r| r.id.as_str() == "projects/p1/global/firewallPolicies/net-pol")
        .unwrap();
    let p = net.policy.as_ref().unwrap();
    assert_eq!(p.level, PolicyLevel::Network);
    assert_eq!(p.associations[0].target, "projects/p1/global/networks/vpc");
    assert!(!p.associations[0].before_classic);
}

/// (name, policy rules, VPC rules, expected open entries).
type PolicyCase = (&'static str, Vec<Value>, Vec<Value>, Vec<String>);

#[test]
fn policy_cases() {
    let vpc_deny22 = vpc_rule("deny-ssh", 900, "denied", "22");
    let vpc_allow22 = vpc_rule("allow-ssh", 1000, "allowed", "22");
    let cases: Vec<PolicyCase> = vec![
        (
            "a permissive hierarchical rule overrides a VPC deny",
            vec![firewalls(vec![vpc_deny22.clone()]), org_policy(vec![])],
            vec![
                firewalls(vec![vpc_deny22.clone()]),
                org_policy(vec![rule(100, "allow", "22")]),
            ],
            vec![format!("{ORG} expands modified +[tcp/22 0.0.0.0/0] -[]")],
        ),
        (
            "removing a hierarchical deny exposes the VPC allow below it",
            vec![
                firewalls(vec![vpc_allow22.clone()]),
                org_policy(vec![rule(100, "deny", "22")]),
            ],
            vec![firewalls(vec![vpc_allow22.clone()]), org_policy(vec![])],
            vec![format!("{ORG} expands modified +[tcp/22 0.0.0.0/0] -[]")],
        ),
        (
            "deny turned goto_next hands the decision to the VPC allow",
            vec![
                firewalls(vec![vpc_allow22.clone()]),
                org_policy(vec![rule(100, "deny", "22")]),
            ],
            vec![
                firewalls(vec![vpc_allow22.clone()]),
                org_policy(vec![rule(100, "goto_next", "22")]),
            ],
            vec![format!("{ORG} expands modified +[tcp/22 0.0.0.0/0] -[]")],
        ),
        (
            "deny turned goto_next in front of a VPC deny changes nothing",
            vec![
                firewalls(vec![vpc_deny22.clone()]),
                org_policy(vec![rule(100, "deny", "22")]),
            ],
            vec![
                firewalls(vec![vpc_deny22.clone()]),
                org_policy(vec![rule(100, "goto_next", "22")]),
            ],
            vec![],
        ),
        (
            "a VPC allow added under a hierarchical deny exposes nothing",
            vec![firewalls(vec![]), org_policy(vec![rule(100, "deny", "22")])],
            vec![
                firewalls(vec![vpc_allow22.clone()]),
                org_policy(vec![rule(100, "deny", "22")]),
            ],
            vec!["projects/p1/global/firewalls/allow-ssh cosmetic added +[] -[]".to_string()],
        ),
        (
            "a network policy deny is evaluated after the VPC allow by default",
            vec![firewalls(vec![vpc_allow22.clone()])],
            vec![
                firewalls(vec![vpc_allow22.clone()]),
                net_policy(true, vec![rule(10, "deny", "22")]),
            ],
            vec![format!("{NETPOL} cosmetic added +[] -[]")],
        ),
        (
            "the enforcement order turned BEFORE_CLASSIC puts the policy deny first",
            vec![
                networks("AFTER_CLASSIC_FIREWALL"),
                firewalls(vec![vpc_allow22.clone()]),
                net_policy(true, vec![rule(10, "deny", "22")]),
            ],
            vec![
                networks("BEFORE_CLASSIC_FIREWALL"),
                firewalls(vec![vpc_allow22.clone()]),
                net_policy(true, vec![rule(10, "deny", "22")]),
            ],
            vec![format!("{NETPOL} narrows modified +[] -[tcp/22 0.0.0.0/0]")],
        ),
        (
            "associating a permissive network policy with the network opens it",
            vec![
                firewalls(vec![vpc_deny22.clone()]),
                net_policy(false, vec![rule(10, "allow", "3389")]),
            ],
            vec![
                firewalls(vec![vpc_deny22.clone()]),
                net_policy(true, vec![rule(10, "allow", "3389")]),
            ],
            vec![format!(
                "{NETPOL} expands modified +[tcp/3389 0.0.0.0/0] -[]"
            )],
        ),
        (
            "a disabled hierarchical deny is not enforced",
            vec![
                firewalls(vec![vpc_allow22.clone()]),
                org_policy(vec![rule(100, "deny", "22")]),
            ],
            vec![
                firewalls(vec![vpc_allow22.clone()]),
                org_policy(vec![{
                    let mut r = rule(100, "deny", "22");
                    r["disabled"] = json!(true);
                    r
                }]),
            ],
            vec![format!("{ORG} expands modified +[tcp/22 0.0.0.0/0] -[]")],
        ),
    ];
    let mut failures = Vec::new();
    for (name, before, after, want) in cases {
        let got = lines(&diff(&before, &after));
        let mut want = want;
        want.sort();
        if got != want {
            failures.push(format!("{name}:\n  want {want:?}\n  got  {got:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_regional_policy_applies_to_its_regions_instances() {
    let before = vec![firewalls(vec![])];
    let after = vec![
        firewalls(vec![]),
        json!({"kind": "compute#firewallPolicyList", "items": [{
            "kind": "compute#firewallPolicy", "name": "reg-pol",
            "region": "https://www.googleapis.com/compute/v1/projects/p1/regions/us-central1",
            "selfLink": "https://www.googleapis.com/compute/v1/projects/p1/regions/us-central1/firewallPolicies/reg-pol",
            "associations": [{"name": "a", "attachmentTarget": NET}],
            "rules": [rule(10, "allow", "8080")]}]}),
    ];
    let got = lines(&diff(&before, &after));
    assert_eq!(
        got,
        vec!["projects/p1/regions/us-central1/firewallpolicies/reg-pol expands added +[tcp/8080 0.0.0.0/0 to region:us-central1] -[]"]
    );
}

#[test]
fn unread_policies_still_hold_when_only_the_rules_were_read() {
    // The hierarchical deny could not be read this time (partial snapshot): a VPC allow added
    // under it is evaluated with the approved policy in place, not as if it had vanished.
    let base = convert(&[firewalls(vec![]), org_policy(vec![rule(100, "deny", "22")])]);
    let actual = convert(&[firewalls(vec![vpc_rule(
        "allow-ssh",
        1000,
        "allowed",
        "22",
    )])]);
    let uncollected: BTreeSet<_> = [netdrift_snapshots::ResourceKind::GcpFirewallPolicy].into();
    let got = lines(&diff_scope(&base, &actual, &uncollected));
    assert_eq!(
        got,
        vec!["projects/p1/global/firewalls/allow-ssh cosmetic added +[] -[]".to_string()]
    );
}

#[test]
fn a_policy_is_credited_only_with_what_its_changed_rules_cover() {
    // The same day: a VPC rule opens tcp/22 and a rule is added to a policy that also holds a
    // catch-all goto_next. The policy's item shows only the port its new rule opened.
    let before = vec![
        firewalls(vec![vpc_rule("deny-ssh", 900, "denied", "22")]),
        org_policy(vec![rule(1000, "goto_next", "0-65535")]),
    ];
    let after = vec![
        firewalls(vec![vpc_rule("deny-ssh", 900, "allowed", "22")]),
        org_policy(vec![
            rule(100, "allow", "5432"),
            rule(1000, "goto_next", "0-65535"),
        ]),
    ];
    let got = lines(&diff(&before, &after));
    assert_eq!(
        got,
        vec![
            format!("{ORG} expands modified +[tcp/5432 0.0.0.0/0] -[]"),
            "projects/p1/global/firewalls/deny-ssh expands modified +[tcp/22 0.0.0.0/0] -[]"
                .to_string(),
        ]
    );
}
