//! `netdrift show`: a resource's stored state, now or at a past time.

use std::path::PathBuf;

use anyhow::{bail, Result};

use netdrift_snapshots::{Direction, Ports};

use super::{open_existing, parse_time, Format, Outcome};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Resource id (sg-…, acl-…, projects/P/global/firewalls/N, Azure NSG id), the start of an
    /// id, its last part (`app-nsg`), or a resource name (`web-prod`).
    resource: String,
    /// Point in time [default: now].
    #[arg(long)]
    at: Option<String>,
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
    /// Terraform state JSON (`terraform show -json` of a state): say whether Terraform
    /// manages the resource and whether it matches that state.
    #[arg(long = "terraform-state", num_args = 1.., value_name = "FILE")]
    terraform_state: Vec<PathBuf>,
}

pub fn run(db: &Option<PathBuf>, a: Args) -> Result<Outcome> {
    let store = open_existing(db)?;
    let at = a.at.as_deref().map(parse_time).transpose()?;
    let mut words = a.resource.clone();
    if words.to_ascii_lowercase().starts_with("/subscriptions/") {
        words = words.to_ascii_lowercase();
    }
    let id = match store.resolve_resource(&words)?.as_slice() {
        [] => bail!(
            "no snapshot contains a resource {:?} (an id, the start of one, its last part, or a name)",
            a.resource
        ),
        [one] => one.clone(),
        many => bail!(
            "{:?} names {} resources; say which:\n  {}",
            a.resource,
            many.len(),
            many.iter()
                .map(|m| crate::text::terminal(m).into_owned())
                .collect::<Vec<_>>()
                .join("\n  ")
        ),
    };
    let states = crate::iac::load(&a.terraform_state)?;
    let found = store.resource_at(&id, at)?;
    if found.is_empty() {
        bail!("no snapshot contains resource {:?}", a.resource);
    }
    if a.format == Format::Json {
        let v: Vec<_> = found
            .iter()
            .map(|(s, r)| {
                let mut v = serde_json::json!({"scope": s.scope, "snapshot_id": s.id, "taken_at": crate::store::ts(s.taken_at), "exists": r.is_some(), "resource": r});
                if let (Some(r), false) = (r, states.is_empty()) {
                    v["iac"] = serde_json::json!(crate::iac::describe(r, &s.scope.scope(), &states));
                }
                v
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({"schema_version": 1, "states": v}))?
        );
        return Ok(Outcome::Ok);
    }
    let t = |s: &str| crate::text::terminal(s).into_owned();
    for (snap, res) in found {
        println!(
            "{} in {} (snapshot {} at {})",
            t(&id),
            snap.scope,
            snap.id,
            crate::store::ts(snap.taken_at)
        );
        let Some(r) = res else {
            println!("  did not exist at that time");
            continue;
        };
        println!(
            "  kind {}  name {}  network {}",
            r.kind,
            t(r.name.as_deref().unwrap_or("-")),
            t(r.network.as_deref().unwrap_or("-"))
        );
        println!("  state {}", netdrift_snapshots::state_hash(&r));
        if !states.is_empty() {
            let iac = crate::iac::describe(&r, &snap.scope.scope(), &states);
            println!(
                "  terraform {}",
                match iac.matches_actual {
                    None => "unmanaged: no state file manages it".to_string(),
                    Some(m) => format!(
                        "{} ({})",
                        iac.address.join(", "),
                        if m {
                            "matches its state"
                        } else {
                            "differs from its state: changed outside Terraform"
                        }
                    ),
                }
            );
        }
        for rule in &r.rules {
            let ports = match &rule.ports {
                Ports::All => "all".to_string(),
                Ports::Ranges { ranges } => ranges
                    .iter()
                    .map(|p| p.to_string())
                    .collect::<Vec<_>>()
                    .join(","),
                Ports::Icmp { icmp_type, code } => format!(
                    "type {} code {}",
                    icmp_type
                        .map(|x| x.to_string())
                        .unwrap_or_else(|| "any".into()),
                    code.map(|x| x.to_string()).unwrap_or_else(|| "any".into())
                ),
            };
            let peers: Vec<String> = rule.peers.iter().map(|p| t(&p.to_string())).collect();
            let targets: Vec<String> = rule.targets.iter().map(|x| t(&x.to_string())).collect();
            println!(
                "  {:7} {:5} {:>5} {:6} {:>7} {}{}{}{}",
                if rule.direction == Direction::Ingress {
                    "ingress"
                } else {
                    "egress"
                },
                format!("{:?}", rule.action).to_lowercase(),
                rule.priority.map(|p| p.to_string()).unwrap_or_default(),
                rule.protocol.to_string(),
                ports,
                peers.join(", "),
                if targets.is_empty() {
                    String::new()
                } else {
                    format!(" to {}", targets.join(", "))
                },
                if rule.enabled { "" } else { " [disabled]" },
                rule.description
                    .as_deref()
                    .map(|d| format!("  # {}", t(d)))
                    .unwrap_or_default(),
            );
        }
    }
    Ok(Outcome::Ok)
}
