//! The shipped least-privilege policy allows exactly what the code calls.

use std::collections::BTreeSet;

fn pascal(snake: &str) -> String {
    snake
        .split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// SDK operations called in the crate's sources: `ec2.describe_security_groups()`,
/// `sts.assume_role()`, `client.lookup_events()` …
fn called_operations() -> BTreeSet<String> {
    let dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into())
        .join("src");
    let mut ops = BTreeSet::new();
    // Every source file, submodules included (a call in one must be in the policy too).
    let mut files = Vec::new();
    let mut dirs = vec![dir];
    while let Some(d) = dirs.pop() {
        for entry in std::fs::read_dir(d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                files.push(path);
            }
        }
    }
    for path in files {
        let text = std::fs::read_to_string(path).unwrap();
        for (i, _) in text.match_indices('.') {
            let rest = &text[i + 1..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
                .collect();
            let after = &rest[name.len()..];
            let is_op = ["describe_", "get_", "list_", "lookup_", "assume_"]
                .iter()
                .any(|p| name.starts_with(p));
            if is_op && after.starts_with("()") && !name.starts_with("get_or_") {
                ops.insert(pascal(&name));
            }
        }
    }
    ops
}

#[test]
fn every_called_action_is_in_the_policy_and_the_action_list() {
    let policy: serde_json::Value =
        serde_json::from_str(include_str!("../../../docs/iam/aws-readonly.json")).unwrap();
    let allowed: BTreeSet<String> = policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| {
            s["Action"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap().to_string())
        })
        .collect();
    let ops = called_operations();
    assert!(
        ops.contains("DescribeSecurityGroups")
            && ops.contains("LookupEvents")
            && ops.contains("AssumeRole"),
        "{ops:?}"
    );
    for op in &ops {
        let action = netdrift_provider_aws::action_of(op)
            .filter(|a| netdrift_provider_aws::ACTIONS.contains(a))
            .unwrap_or_else(|| panic!("the code calls {op}, which ACTIONS does not list"));
        assert!(
            allowed.contains(action),
            "docs/iam/aws-readonly.json lacks {action}, which the code calls"
        );
    }
    for action in netdrift_provider_aws::ACTIONS {
        assert!(
            allowed.contains(*action),
            "docs/iam/aws-readonly.json lacks {action}"
        );
        let op = netdrift_provider_aws::ACTION_OF
            .iter()
            .find(|(_, a)| a == action)
            .map(|(op, _)| *op)
            .unwrap_or_else(|| action.split(':').nth(1).unwrap());
        assert!(
            ops.contains(op),
            "ACTIONS lists {action}, which the code never calls"
        );
    }
    // Nothing that writes.
    assert!(allowed.iter().all(|a| ![
        "Authorize",
        "Revoke",
        "Create",
        "Delete",
        "Modify",
        "Put",
        "Update"
    ]
    .iter()
    .any(|w| a.contains(w))));
}

/// Write operations called in `remediate.rs`: `ec2.revoke_security_group_ingress()` …
fn remediation_calls() -> BTreeSet<String> {
    let path = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into())
        .join("src/remediate.rs");
    let text = std::fs::read_to_string(path).unwrap();
    let mut ops = BTreeSet::new();
    for (i, _) in text.match_indices('.') {
        let rest = &text[i + 1..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_lowercase() || *c == '_')
            .collect();
        let is_write = [
            "revoke_",
            "authorize_",
            "modify_",
            "create_",
            "replace_",
            "delete_",
        ]
        .iter()
        .any(|p| name.starts_with(p));
        if is_write && rest[name.len()..].trim_start().starts_with("()") {
            ops.insert(pascal(&name));
        }
    }
    ops
}

#[test]
fn the_remediation_policy_allows_exactly_what_revert_apply_calls() {
    let policy: serde_json::Value =
        serde_json::from_str(include_str!("../../../docs/iam/aws-remediate.json")).unwrap();
    let allowed: BTreeSet<String> = policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| {
            s["Action"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap().to_string())
        })
        .collect();
    let listed: BTreeSet<String> = netdrift_provider_aws::remediate::REMEDIATION_ACTIONS
        .iter()
        .map(|a| a.to_string())
        .collect();
    assert_eq!(
        allowed, listed,
        "docs/iam/aws-remediate.json and REMEDIATION_ACTIONS"
    );
    let called: BTreeSet<String> = remediation_calls()
        .into_iter()
        .map(|op| format!("ec2:{op}"))
        .collect();
    assert_eq!(
        called, listed,
        "what remediate.rs calls and REMEDIATION_ACTIONS"
    );
    // Nothing that reads or deletes whole resources.
    assert!(listed
        .iter()
        .all(|a| !a.contains("DeleteSecurityGroup") && !a.contains("DeleteNetworkAcl\"")));
}
