//! One watch tick for Azure: per subscription, the Activity Log of `Microsoft.Network` from
//! the caller's start, then for each new change a re-read of only the NSG it named (a
//! `securityRules/write|delete` names its NSG; `GET` the NSG by id, a 404 is gone). A change to
//! what decides where an NSG applies (`networkInterfaces/write`, `virtualNetworks/subnets/
//! write`, `networkSecurityGroups/join/action`) or naming no NSG re-collects the subscription
//! whole.

use netdrift_provider_api::watch::{
    new_changes, RereadFailure, WatchContext, WatchOutput, Watched,
};
use netdrift_provider_api::AuditWindow;
use netdrift_snapshots::{AuditEvent, AuditFailure, Provider, Scope};

use crate::{arm::Arm, AzureSource};

/// The NSG a resource id names (lower-cased, as the model keeps Azure ids): the id up to
/// `networksecuritygroups/<name>`, so a rule's id names its NSG.
pub(crate) fn nsg_of(resource: &str) -> Option<String> {
    let l = resource.to_ascii_lowercase();
    let key = "/providers/microsoft.network/networksecuritygroups/";
    let i = l.find(key)?;
    let rest = &l[i + key.len()..];
    let name = rest.split('/').next().filter(|n| !n.is_empty())?;
    Some(format!("{}{key}{name}", &l[..i]))
}

#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Targets {
    /// NSG id → the first change naming it (event name, event id).
    pub nsgs: Vec<(String, String, String)>,
    pub whole: Option<String>,
}

pub(crate) fn targets(changes: &[&AuditEvent]) -> Targets {
    let mut t = Targets::default();
    for e in changes {
        let op = e.event_name.to_ascii_lowercase();
        let attachment = op.ends_with("/networkinterfaces/write")
            || op.ends_with("/subnets/write")
            || op.ends_with("/join/action");
        let named: Vec<String> = e.resources.iter().filter_map(|r| nsg_of(r)).collect();
        if attachment || named.is_empty() {
            t.whole.get_or_insert_with(|| {
                format!("{} {} changes where NSGs apply", e.event_name, e.event_id)
            });
            continue;
        }
        for id in named {
            if !t.nsgs.iter().any(|x| x.0 == id) {
                t.nsgs.push((id, e.event_name.clone(), e.event_id.clone()));
            }
        }
    }
    t
}

pub(crate) async fn watch(src: &AzureSource, ctx: &WatchContext<'_>) -> WatchOutput {
    let mut out = WatchOutput::default();
    let now = ctx.now;
    let arm = match Arm::new(src) {
        Ok(a) => a,
        Err(p) => {
            out.problems.push(p);
            return out;
        }
    };
    let subscriptions = match arm.subscriptions_of(src).await {
        Ok(s) => s,
        Err(p) => {
            out.problems.push(p);
            return out;
        }
    };
    for sub in subscriptions {
        if ctx.shutdown.is_triggered() {
            break;
        }
        let scope = Scope::new(Provider::Azure, sub.as_str(), None);
        let start = (ctx.start)(&scope.key());
        let mut w = match arm.activity(scope.account(), start, now).await {
            Err(problem) => Watched::unread(
                scope.clone(),
                AuditFailure {
                    account: scope.account().to_string(),
                    region: None,
                    start,
                    end: now,
                    problem,
                },
            ),
            Ok(records) => {
                let mut events: Vec<AuditEvent> = Vec::new();
                crate::merge_records(&mut events, records);
                Watched::read(
                    scope.clone(),
                    AuditWindow {
                        account: scope.account().to_string(),
                        start,
                        end: now,
                    },
                    events,
                )
            }
        };
        let t = targets(&new_changes(&w.events, ctx.seen));
        if let Some(why) = t.whole {
            w.whole = Some(arm.collect_subscription(scope.account()).await);
            w.whole_reason = Some(why);
        } else {
            for (id, event, event_id) in t.nsgs {
                match arm.get_nsg(&id).await {
                    Ok(Some(r)) => w.states.push(netdrift_snapshots::canonicalize(r)),
                    Ok(None) => w.gone.push(id),
                    Err(problem) => w.failed.push(RereadFailure {
                        resource: id,
                        event,
                        event_id,
                        problem,
                    }),
                }
            }
        }
        out.scopes.push(w);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_way_an_event_names_an_nsg_leads_to_it() {
        let rows: &[(&str, Option<&str>)] = &[
            ("/subscriptions/S/resourceGroups/RG/providers/Microsoft.Network/networkSecurityGroups/App-NSG", Some("/subscriptions/s/resourcegroups/rg/providers/microsoft.network/networksecuritygroups/app-nsg")),
            ("/subscriptions/s/resourcegroups/rg/providers/microsoft.network/networksecuritygroups/app-nsg/securityRules/allow-rdp", Some("/subscriptions/s/resourcegroups/rg/providers/microsoft.network/networksecuritygroups/app-nsg")),
            ("/subscriptions/s/resourcegroups/rg/providers/microsoft.network/networkinterfaces/nic", None),
            ("/subscriptions/s/resourcegroups/rg/providers/microsoft.network/networksecuritygroups/", None),
        ];
        for (id, want) in rows {
            assert_eq!(nsg_of(id).as_deref(), *want, "{id}");
        }
    }
}
