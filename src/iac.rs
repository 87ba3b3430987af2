//! Terraform state as a second source of truth: which drift items are on resources Terraform
//! manages, at which address, and whether the actual state still matches what Terraform last
//! wrote. Drift on a managed resource whose actual state differs from its state file was made
//! outside Terraform: a reason, and one level of severity when no approved automation identity
//! made it. Pure over its inputs, apart from [`load`].

use std::path::Path;

use anyhow::Result;

use netdrift_provider_file::terraform::{state::Managed, Parent, Side};
use netdrift_snapshots::{
    canonical::access_rule, reach::resource_access, Direction, Effect, Provider, Resource, Rule,
};

use crate::drift::Computed;
pub use crate::findings::IacRef;
use crate::store::ScopeInputs;

/// A state file's managed firewall resources.
pub struct State {
    pub file: String,
    pub managed: Vec<Managed>,
}

/// Read state files (`terraform show -json` of a state); errors name the file and the field.
pub fn load(paths: &[impl AsRef<Path>]) -> Result<Vec<State>> {
    let mut out = Vec::new();
    for p in paths {
        let p = p.as_ref();
        let file = p.display().to_string();
        let bytes = netdrift_provider_file::read_bytes(p)?;
        let doc = netdrift_provider_file::parse_json(&file, &bytes)?;
        let managed = netdrift_provider_file::terraform::state::read_state(&file, &doc)?;
        out.push(State { file, managed });
    }
    Ok(out)
}

/// Terraform names a group of the same account by its id alone (`sg-…`); EC2 (and so every
/// stored snapshot) qualifies it with the account (`111122223333/sg-…`). Qualify, so the same
/// group is the same peer.
pub fn qualify(rules: &mut [Rule], account: &str) {
    for r in rules {
        for p in &mut r.peers {
            if let netdrift_snapshots::Peer::SecurityGroup(g) = p {
                if !g.contains('/') && g.starts_with("sg-") {
                    *g = format!("{account}/{g}");
                }
            }
        }
    }
}

fn qualified(rules: &[Rule], provider: Provider, account: &str) -> Vec<Rule> {
    let mut rules = rules.to_vec();
    if provider == Provider::Aws {
        qualify(&mut rules, account);
    }
    rules
}

fn same_access(a: &Resource, b: &Resource) -> bool {
    [Direction::Ingress, Direction::Egress]
        .into_iter()
        .all(|d| resource_access(a, d) == resource_access(b, d))
}

/// What the state files say of one actual resource of `scope`.
pub fn describe(
    resource: &Resource,
    scope: &netdrift_snapshots::Scope,
    states: &[State],
) -> IacRef {
    let (provider, account) = (scope.provider(), scope.account());
    let id = resource.id.as_str();
    let mut found = IacRef {
        managed: false,
        address: Vec::new(),
        matches_actual: None,
        file: None,
    };
    let mut matches = true;
    for st in states {
        for m in st.managed.iter().filter(|m| m.provider == provider) {
            let hit = match &m.side {
                Side::Whole(w) => {
                    let same_id = w.resource.id.as_str().eq_ignore_ascii_case(id);
                    if same_id {
                        let mut s = w.resource.clone();
                        s.rules = qualified(&s.rules, provider, account);
                        matches &= same_access(&s, resource);
                    }
                    same_id
                }
                Side::Rules(r) => {
                    let on = match &r.parent {
                        Parent::Id(p) => p.eq_ignore_ascii_case(id),
                        Parent::Azure { group, name } => id.ends_with(&format!(
                            "/resourcegroups/{}/providers/microsoft.network/networksecuritygroups/{}",
                            group.to_ascii_lowercase(),
                            name.to_ascii_lowercase()
                        )),
                        _ => false,
                    };
                    if on {
                        let have: Vec<Rule> = resource.rules.iter().map(access_rule).collect();
                        matches &= qualified(&r.rules, provider, account)
                            .iter()
                            .all(|x| have.contains(&access_rule(x)));
                    }
                    on
                }
            };
            if hit {
                found.managed = true;
                found.address.push(m.address.clone());
                found.file.get_or_insert_with(|| st.file.clone());
            }
        }
    }
    if found.managed {
        found.matches_actual = Some(matches);
    }
    found
}

/// Mark each item with what the state files say of its resource (before the inputs go).
pub fn mark(computed: &mut [Computed], inputs: &[ScopeInputs], states: &[State]) {
    if states.is_empty() {
        return;
    }
    for c in computed.iter_mut() {
        let Some(scope) = inputs.iter().find(|i| i.scope.key() == c.item.scope) else {
            continue;
        };
        c.item.iac = Some(
            match scope
                .actual
                .iter()
                .find(|r| r.id.as_str() == c.item.resource)
            {
                Some(r) => describe(r, &scope.scope, states),
                // Deleted from the cloud: managed if a state file still names it.
                None => {
                    let managed: Vec<String> = states
                        .iter()
                        .flat_map(|s| s.managed.iter())
                        .filter(|m| match &m.side {
                            Side::Whole(w) => w
                                .resource
                                .id
                                .as_str()
                                .eq_ignore_ascii_case(&c.item.resource),
                            _ => false,
                        })
                        .map(|m| m.address.clone())
                        .collect();
                    IacRef {
                        managed: !managed.is_empty(),
                        matches_actual: (!managed.is_empty()).then_some(false),
                        address: managed,
                        file: None,
                    }
                }
            },
        );
    }
}

/// After attribution: drift on a managed resource that no longer matches its state was made
/// outside Terraform; one level more unless an approved automation identity made it.
pub fn judge(computed: &mut [Computed]) {
    for c in computed.iter_mut() {
        let i = &mut c.item;
        let Some(iac) = &i.iac else { continue };
        if !iac.managed || iac.matches_actual != Some(false) || i.effect == Effect::Cosmetic {
            continue;
        }
        i.reasons.push(format!(
            "changed outside Terraform: the actual state differs from {}",
            iac.address.join(", ")
        ));
        let by_automation = i.attribution.as_ref().is_some_and(|a| {
            !a.actors.is_empty() && a.actors.iter().all(|x| x.class == "pipeline")
        });
        if !by_automation && matches!(i.effect, Effect::Expands | Effect::Mixed) {
            let raised = i.severity.raised();
            if raised != i.severity {
                i.severity = raised;
                i.reasons.push(
                    "raised one level: made outside Terraform, not by an approved automation identity"
                        .into(),
                );
            }
        }
    }
}
