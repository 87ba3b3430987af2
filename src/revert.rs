//! The way back: for one drift item, the exact, minimal calls that restore the approved access
//! of its resource in its direction, and nothing else (docs/revert-schema.md).
//!
//! Each cloud's module diffs the approved and the actual rules of the item's direction, and
//! emits a call only for a rule that changed: what was added is revoked or deleted, what was
//! removed is restored from the baseline, what changed in place is set back. Narrowing calls
//! come first. For ordered rule sets (network ACLs, NSGs, firewall policies) each
//! intermediate state is simulated on the model: no step may allow what neither the actual
//! nor the approved state allows, and the last must have the approved access; otherwise no
//! steps are given and the reason says why. Pure.

mod aws;
mod azure;
mod gcp;

use serde::Serialize;

use netdrift_snapshots::{
    reach::resource_access, Direction, Provider, Resource, ResourceKind, Scope, ScopeKey,
};

/// One call, in the API's own request shape.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Step {
    pub provider: Provider,
    pub scope: ScopeKey,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// The API operation (`RevokeSecurityGroupIngress`, `compute.firewalls.patch`,
    /// `Microsoft.Network/networkSecurityGroups/securityRules/write`).
    pub call: String,
    /// Its request: for AWS the shape boto3 and the CLI's `--cli-input-json` take.
    pub params: serde_json::Value,
    /// What it undoes.
    pub why: String,
    /// The equivalent CLI line, shell-quoted.
    #[serde(skip)]
    pub command: String,
}

/// `netdrift revert ITEM --format json`.
#[derive(Debug, Clone, Serialize)]
pub struct RevertPlan {
    pub schema_version: u32,
    pub item: String,
    pub resource: String,
    pub scope: ScopeKey,
    pub direction: Direction,
    pub steps: Vec<Step>,
    pub commands: Vec<String>,
    /// Why there are no steps (nothing to undo, not revertible), when none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Shell-quote one word for a POSIX shell.
pub fn sh(word: &str) -> String {
    if !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=,@%+".contains(c))
    {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// The calls that bring `actual`'s access in `direction` back to `baseline`'s. `baseline` is
/// `None` for a resource that was not approved (added), `actual` for one that is gone.
pub fn plan(
    item: &str,
    scope: &Scope,
    kind: ResourceKind,
    direction: Direction,
    baseline: Option<&Resource>,
    actual: Option<&Resource>,
) -> RevertPlan {
    let resource = actual
        .or(baseline)
        .map(|r| r.id.as_str().to_string())
        .unwrap_or_default();
    let result = match kind {
        ResourceKind::AwsSecurityGroup => aws::group(scope, direction, baseline, actual),
        ResourceKind::AwsNetworkAcl => aws::acl(scope, direction, baseline, actual),
        ResourceKind::GcpFirewallRule => gcp::firewall(scope, baseline, actual),
        ResourceKind::GcpFirewallPolicy => gcp::policy(scope, direction, baseline, actual),
        ResourceKind::AzureNsg => azure::nsg(scope, direction, baseline, actual),
        other => Err(format!("{} is not a firewall resource", other.as_str())),
    };
    let (steps, note) = match result {
        Ok(s) if s.is_empty() => (
            s,
            Some("nothing to undo: the access already is the approved one".into()),
        ),
        Ok(s) => (s, None),
        Err(why) => (Vec::new(), Some(why)),
    };
    RevertPlan {
        schema_version: 1,
        item: item.to_string(),
        resource,
        scope: scope.key(),
        direction,
        commands: steps.iter().map(|s| s.command.clone()).collect(),
        steps,
        note,
    }
}

/// A rule-level operation on the model, simulated before it is rendered as a call.
#[derive(Debug, Clone)]
pub(crate) enum Op {
    /// Remove the actual rule at this index (of the working copy).
    Remove(netdrift_snapshots::Rule),
    /// Add the approved rule.
    Add(netdrift_snapshots::Rule),
}

/// Check an order of operations: every intermediate state allows nothing beyond what the
/// actual or the approved state allows, and the last has the approved access.
pub(crate) fn check(
    actual: &Resource,
    baseline: &Resource,
    direction: Direction,
    ops: &[Op],
) -> Result<(), String> {
    let (a, b) = (
        resource_access(actual, direction),
        resource_access(baseline, direction),
    );
    let bound = a.union(&b);
    let mut work = actual.clone();
    for (i, op) in ops.iter().enumerate() {
        match op {
            Op::Remove(r) => {
                let key = netdrift_snapshots::canonical::access_rule(r);
                if let Some(k) = work
                    .rules
                    .iter()
                    .position(|x| netdrift_snapshots::canonical::access_rule(x) == key)
                {
                    work.rules.remove(k);
                }
            }
            Op::Add(r) => work.rules.push(r.clone()),
        }
        let now = resource_access(&work, direction);
        if !now.is_subset_of(&bound) {
            return Err(format!(
                "step {} would allow, for a moment, what neither the actual nor the approved state allows; no steps are given: restore it by hand from the baseline (`netdrift baseline export`)",
                i + 1
            ));
        }
    }
    if resource_access(&work, direction) != b {
        return Err("the steps would not restore the approved access; no steps are given: restore it by hand from the baseline (`netdrift baseline export`)".into());
    }
    Ok(())
}

/// The rules of one direction that the other side lacks (by what decides access).
pub(crate) fn changed<'a>(
    from: &'a [netdrift_snapshots::Rule],
    other: &[netdrift_snapshots::Rule],
    direction: Direction,
) -> Vec<&'a netdrift_snapshots::Rule> {
    let key = netdrift_snapshots::canonical::access_rule;
    let theirs: Vec<_> = other
        .iter()
        .filter(|r| r.direction == direction)
        .map(key)
        .collect();
    from.iter()
        .filter(|r| r.direction == direction && !r.default_rule && !theirs.contains(&key(r)))
        .collect()
}
