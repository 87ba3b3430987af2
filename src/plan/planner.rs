//! Placing a plan's changes onto the stored actual state: which stored resource (or scope)
//! each change is about, and the planned resources that result.

use std::collections::{BTreeMap, BTreeSet};

use netdrift_provider_file::terraform::{
    placeholder, Action, Change, Locator, Parent, RuleSet, Side, Whole,
};
use netdrift_snapshots::{canonical::access_rule, canonicalize, Provider, Resource, ResourceKind};

use super::{NotJudged, PlanChange};
use crate::drift;
use crate::store::ScopeInputs;

/// Where a resource is in the planned state.
#[derive(Clone, Copy)]
struct At {
    scope: usize,
}

pub(super) struct Planner<'a> {
    pub inputs: &'a [ScopeInputs],
    pub planned: Vec<Vec<Resource>>,
    /// Per scope, the resource ids the plan touches, each with the addresses touching it.
    pub touched: Vec<BTreeMap<String, BTreeSet<String>>>,
    pub unknown: BTreeMap<String, Vec<String>>,
    pub not_judged: Vec<NotJudged>,
    pub changes: Vec<PlanChange>,
    /// `--scope`: where a new resource goes when nothing else tells.
    pub hint: Option<&'a str>,
}

impl<'a> Planner<'a> {
    fn find(&self, id: &str) -> Option<(usize, usize)> {
        self.planned.iter().enumerate().find_map(|(s, rs)| {
            rs.iter()
                .position(|r| r.id.as_str() == id && !r.kind.is_workload())
                .map(|i| (s, i))
        })
    }

    fn find_by(&self, pred: impl Fn(&Resource) -> bool) -> Option<(usize, usize)> {
        self.planned.iter().enumerate().find_map(|(s, rs)| {
            rs.iter()
                .position(|r| !r.kind.is_workload() && pred(r))
                .map(|i| (s, i))
        })
    }

    /// The scope a new resource of `provider` goes to: the locator's, else `--scope`, else the
    /// only scope of that provider.
    fn scope_for(&self, provider: Provider, locator: &Locator) -> Result<At, String> {
        let of_provider: Vec<usize> = (0..self.inputs.len())
            .filter(|&i| self.inputs[i].scope.provider() == provider)
            .collect();
        let by_locator = match locator {
            Locator::Gcp {
                project: Some(p), ..
            } => of_provider
                .iter()
                .copied()
                .find(|&i| self.inputs[i].scope.account() == p),
            Locator::Aws { vpc: Some(v) } => of_provider.iter().copied().find(|&i| {
                self.inputs[i]
                    .actual
                    .iter()
                    .any(|r| r.network.as_deref() == Some(v.as_str()))
            }),
            Locator::Azure { group, .. } => {
                let needle = format!("/resourcegroups/{}/", group.to_ascii_lowercase());
                of_provider.iter().copied().find(|&i| {
                    self.inputs[i]
                        .actual
                        .iter()
                        .any(|r| r.id.as_str().contains(&needle))
                })
            }
            _ => None,
        };
        if let Some(i) = by_locator {
            return Ok(At { scope: i });
        }
        if let Some(h) = self.hint {
            if let Some(i) = of_provider
                .iter()
                .copied()
                .find(|&i| drift::scope_matches(h, &self.inputs[i].scope))
            {
                return Ok(At { scope: i });
            }
        }
        match of_provider.as_slice() {
            [one] => Ok(At { scope: *one }),
            [] => Err(format!("no {provider} scope is stored, so there is no approved baseline to judge it against")),
            _ => Err(format!("it is new and nothing tells which {provider} scope it goes to: pass --scope")),
        }
    }

    fn qualify(&self, scope: usize, rules: &mut [netdrift_snapshots::Rule]) {
        let sc = &self.inputs[scope].scope;
        if sc.provider() == Provider::Aws {
            crate::iac::qualify(rules, sc.account());
        }
    }

    fn touch(&mut self, scope: usize, id: &str, address: &str) {
        self.touched[scope]
            .entry(id.to_string())
            .or_default()
            .insert(address.to_string());
    }

    fn not_judged(&mut self, address: &str, why: impl Into<String>) {
        self.not_judged.push(NotJudged {
            address: address.to_string(),
            why: why.into(),
        });
    }

    /// A whole resource's id in the store: its own, else (a create) by its locator.
    fn locate_whole(&self, w: &Whole) -> Option<(usize, usize)> {
        if let Some(id) = &w.id {
            if let Some(f) = self.find(id) {
                return Some(f);
            }
        }
        match &w.locator {
            Locator::Azure { group, name } => {
                let suffix = format!(
                    "/resourcegroups/{}/providers/microsoft.network/networksecuritygroups/{}",
                    group.to_ascii_lowercase(),
                    name.to_ascii_lowercase()
                );
                self.find_by(|r| {
                    r.kind == ResourceKind::AzureNsg && r.id.as_str().ends_with(&suffix)
                })
            }
            Locator::Gcp {
                project: None,
                name,
            } => self.find_by(|r| {
                r.kind == ResourceKind::GcpFirewallRule && r.name.as_deref() == Some(name)
            }),
            _ => None,
        }
    }

    pub fn whole(&mut self, c: &Change) {
        let before = match &c.before {
            Some(Side::Whole(w)) => Some(w),
            _ => None,
        };
        let after = match &c.after {
            Some(Side::Whole(w)) => Some(w),
            _ => None,
        };
        // Where it is now.
        let found = match before {
            Some(b) => match b.id.as_deref().and_then(|id| self.find(id)) {
                Some(f) => Some(f),
                None => {
                    self.not_judged(
                        &c.address,
                        format!(
                            "{} is not in any stored snapshot: collect its scope first",
                            b.id.as_deref().unwrap_or("its resource")
                        ),
                    );
                    return;
                }
            },
            None => after.and_then(|a| self.locate_whole(a)),
        };
        match (found, after) {
            (Some((s, i)), None) => {
                let id = self.planned[s][i].id.to_string();
                self.planned[s].remove(i);
                self.record(c, s, &id);
            }
            (Some((s, i)), Some(a)) => {
                let old = &self.planned[s][i];
                let mut r = a.resource.clone();
                r.id = old.id.clone();
                if r.attachments.is_empty() {
                    r.attachments = old.attachments.clone();
                    r.attached = old.attached;
                }
                r.network = r.network.or_else(|| old.network.clone());
                r.name = r.name.or_else(|| old.name.clone());
                r.policy = r.policy.or_else(|| old.policy.clone());
                self.qualify(s, &mut r.rules);
                let id = r.id.to_string();
                self.planned[s][i] = canonicalize(r);
                self.record(c, s, &id);
            }
            (None, Some(a)) => match self.scope_for(c.provider, &a.locator) {
                Ok(At { scope }) => {
                    let mut r = a.resource.clone();
                    self.qualify(scope, &mut r.rules);
                    let id = r.id.to_string();
                    self.planned[scope].push(canonicalize(r));
                    self.record(c, scope, &id);
                }
                Err(why) => self.not_judged(&c.address, why),
            },
            (None, None) => {}
        }
    }

    fn record(&mut self, c: &Change, scope: usize, id: &str) {
        self.touch(scope, id, &c.address);
        if !c.unknown.is_empty() {
            self.unknown
                .entry(id.to_string())
                .or_default()
                .extend(c.unknown.iter().map(|u| format!("{}.{u}", c.address)));
        }
        self.changes.push(PlanChange {
            address: c.address.clone(),
            action: c.action.as_str(),
            resource: Some(id.to_string()),
            scope: Some(self.inputs[scope].scope.key()),
        });
    }

    /// The parent of a rule resource in the planned state.
    fn parent(&self, p: &Parent, kind: ResourceKind) -> Result<(usize, usize), String> {
        let found = match p {
            Parent::Id(id) => self.find(id).or_else(|| {
                // A GCP hierarchical policy by its number alone; an Azure id in any case.
                let lower = id.to_ascii_lowercase();
                self.find_by(|r| r.kind == kind && r.id.as_str().eq_ignore_ascii_case(&lower))
            }),
            Parent::Address(a) => self.find(&placeholder(a)).or_else(|| {
                // A resource of the plan whose id is known: found by its address.
                self.touched.iter().enumerate().find_map(|(s, t)| {
                    t.iter()
                        .find(|(_, addrs)| addrs.contains(a))
                        .and_then(|(id, _)| self.planned[s].iter().position(|r| r.id.as_str() == id).map(|i| (s, i)))
                })
            }),
            Parent::Azure { group, name } => {
                let suffix = format!(
                    "/resourcegroups/{}/providers/microsoft.network/networksecuritygroups/{}",
                    group.to_ascii_lowercase(),
                    name.to_ascii_lowercase()
                );
                self.find_by(|r| r.kind == kind && r.id.as_str().ends_with(&suffix))
                    .or_else(|| {
                        self.find_by(|r| {
                            r.kind == kind
                                && r.id.as_str().starts_with("terraform:")
                                && r.name.as_deref().is_some_and(|n| n.eq_ignore_ascii_case(name))
                        })
                    })
            }
            Parent::Gcp { name, .. } => self.find_by(|r| {
                r.kind == kind && r.id.as_str().rsplit('/').next() == Some(name.as_str())
            }),
            Parent::Unknown(attr) => {
                return Err(format!(
                    "its {attr} is known only after apply and the configuration does not say which resource it refers to"
                ))
            }
        };
        found.ok_or_else(|| match p {
            Parent::Id(id) => {
                format!("{id} is not in any stored snapshot: collect its scope first")
            }
            Parent::Address(a) => {
                format!("{a} is not among the plan's resources or the stored ones")
            }
            Parent::Azure { group, name } => {
                format!("no stored network security group {name} in resource group {group}")
            }
            Parent::Gcp { name, .. } => format!("no stored firewall policy {name}"),
            Parent::Unknown(_) => unreachable!(),
        })
    }

    pub fn rules(&mut self, c: &Change) {
        let sets: Vec<&RuleSet> = [&c.before, &c.after]
            .into_iter()
            .filter_map(|s| match s {
                Some(Side::Rules(r)) => Some(r),
                _ => None,
            })
            .collect();
        let Some(first) = sets.first() else {
            return;
        };
        let at = match self.parent(&first.parent, first.kind) {
            Ok(at) => at,
            Err(why) => {
                // A rule deleted along with its group is gone with it.
                if c.action == Action::Delete && matches!(first.parent, Parent::Address(_)) {
                    return;
                }
                self.not_judged(&c.address, why);
                return;
            }
        };
        let (s, i) = at;
        let mut r = self.planned[s][i].clone();
        if let Some(Side::Rules(b)) = &c.before {
            let mut gone = b.rules.clone();
            self.qualify(s, &mut gone);
            for old in &gone {
                let key = access_rule(old);
                if let Some(k) = r.rules.iter().position(|x| access_rule(x) == key) {
                    r.rules.remove(k);
                }
            }
        }
        if let Some(Side::Rules(a)) = &c.after {
            let mut added = a.rules.clone();
            self.qualify(s, &mut added);
            r.rules.extend(added);
        }
        let id = r.id.to_string();
        self.planned[s][i] = canonicalize(r);
        self.record(c, s, &id);
    }
}
