//! `netdrift plan PLAN.json`: what a Terraform plan would open beyond the approved baseline
//! (`crate::plan`), as a table, JSON (docs/plan-schema.md) or a pull-request comment.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::{Context as _, Result};

use super::{open_existing, table, Format, Outcome};
use crate::plan::{PlanItem, PlanReport};
use crate::store::Store;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The JSON of `terraform show -json PLANFILE`.
    plan: PathBuf,
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
    /// The scope a new resource goes to when the plan does not tell (a scope key, a key
    /// prefix or an account, project or subscription id).
    #[arg(long)]
    scope: Option<String>,
    /// Configuration (severity, expected ports) [default: built-in defaults].
    #[arg(long)]
    config: Option<PathBuf>,
}

/// `tcp/22 from 0.0.0.0/0; …`: what becomes reachable.
fn what(i: &PlanItem) -> String {
    let entry = |e: &netdrift_snapshots::AccessEntry| {
        let mut s = if e.ports == "all" {
            format!("{} from {}", e.protocol, e.peer)
        } else {
            format!("{}/{} from {}", e.protocol, e.ports, e.peer)
        };
        if let Some(t) = &e.target {
            s += &format!(" to {t}");
        }
        s
    };
    let list = |v: &[netdrift_snapshots::AccessEntry]| {
        let mut s: Vec<String> = v.iter().take(4).map(entry).collect();
        if v.len() > 4 {
            s.push(format!("+{} more", v.len() - 4));
        }
        s.join("; ")
    };
    match (i.newly_allowed.is_empty(), i.newly_denied.is_empty()) {
        (false, _) => format!("{} allows {}", i.direction.as_str(), list(&i.newly_allowed)),
        (true, false) => format!(
            "{} no longer allows {}",
            i.direction.as_str(),
            list(&i.newly_denied)
        ),
        (true, true) => "no change of access".into(),
    }
}

fn effect(i: &PlanItem) -> String {
    format!("{:?}", i.effect).to_lowercase()
}

fn reach(i: &PlanItem) -> String {
    match (
        i.reach,
        i.exposed.first().and_then(|e| e.address.as_deref()),
    ) {
        (Some(r), Some(a)) => format!("{} {a}", r.as_str()),
        (Some(r), None) => r.as_str().to_string(),
        (None, _) => "-".into(),
    }
}

fn print_table(r: &PlanReport) {
    let rows = |items: &[PlanItem]| -> Vec<Vec<String>> {
        items
            .iter()
            .map(|i| {
                vec![
                    i.severity.as_str().to_uppercase(),
                    i.address.join(", "),
                    i.resource_name
                        .clone()
                        .map(|n| format!("{} ({n})", i.resource))
                        .unwrap_or_else(|| i.resource.clone()),
                    effect(i),
                    reach(i),
                    what(i),
                    if i.exception.is_some() {
                        "excepted".into()
                    } else if !i.from_plan {
                        "already drifted".into()
                    } else {
                        String::new()
                    },
                ]
            })
            .collect()
    };
    let headers = [
        "SEVERITY", "ADDRESS", "RESOURCE", "EFFECT", "REACH", "WHAT", "NOTE",
    ];
    if r.items.is_empty() {
        println!("against the approved baseline: nothing beyond it");
    } else {
        println!("against the approved baseline:");
        print!("{}", table(&headers, &rows(&r.items)));
    }
    if !r.vs_actual.is_empty() {
        println!("against the actual state (what applying it changes):");
        print!("{}", table(&headers, &rows(&r.vs_actual)));
    }
    for n in &r.not_judged {
        println!(
            "not judged: {}: {}",
            n.address,
            crate::text::terminal(&n.why)
        );
    }
    for (t, n) in &r.ignored {
        println!(
            "ignored: {t} ({n} {})",
            if *n == 1 { "change" } else { "changes" }
        );
    }
}

/// A pull-request comment: one line per widening.
pub fn markdown(r: &PlanReport) -> String {
    let mut s = String::from("### netdrift: Terraform plan against the approved baseline\n\n");
    let widenings: Vec<&PlanItem> = r
        .items
        .iter()
        .filter(|i| {
            matches!(
                i.effect,
                netdrift_snapshots::Effect::Expands | netdrift_snapshots::Effect::Mixed
            )
        })
        .collect();
    if widenings.is_empty() && r.not_judged.is_empty() {
        s.push_str("Opens nothing beyond the approved baseline.\n");
    }
    for i in &widenings {
        let note = if i.exception.is_some() {
            " (covered by an exception)"
        } else if !i.from_plan {
            " (already drifted; not changed by this plan)"
        } else {
            ""
        };
        let _ = writeln!(
            s,
            "- **{}** `{}`: {}; reach {}{note}. {}",
            i.severity.as_str(),
            i.address.join("`, `"),
            what(i),
            reach(i),
            i.reasons.join("; ")
        );
    }
    for n in &r.not_judged {
        let _ = writeln!(s, "- **not judged** `{}`: {}", n.address, n.why);
    }
    let reverts: Vec<&PlanItem> = r
        .vs_actual
        .iter()
        .filter(|i| i.effect == netdrift_snapshots::Effect::Narrows)
        .collect();
    if !reverts.is_empty() {
        s.push_str("\nAgainst the actual state it narrows:\n\n");
        for i in reverts {
            let _ = writeln!(s, "- `{}`: {}", i.address.join("`, `"), what(i));
        }
    }
    if !r.ignored.is_empty() {
        let t: Vec<String> = r
            .ignored
            .iter()
            .map(|(t, n)| format!("`{t}` ({n})"))
            .collect();
        let _ = writeln!(s, "\nNot modelled, ignored: {}.", t.join(", "));
    }
    s
}

pub fn run(db: &Option<PathBuf>, a: Args) -> Result<Outcome> {
    let file = a.plan.display().to_string();
    let bytes = netdrift_provider_file::read_bytes(&a.plan)?;
    let doc = netdrift_provider_file::parse_json(&file, &bytes)?;
    let plan = netdrift_provider_file::terraform::read_plan(&file, &doc)?;
    let store = open_existing(db)?;
    let cfg = super::drift::settings(a.config.as_deref())?;
    let inputs = Store::load_drift_inputs(&store, &|_| true).context("loading the stored state")?;
    let report = crate::plan::evaluate(
        &file,
        &plan,
        &inputs,
        &cfg.drift,
        a.scope.as_deref(),
        crate::clock::now(),
    )?;
    match a.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        Format::Markdown => print!("{}", markdown(&report)),
        Format::Table => print_table(&report),
    }
    Ok(if report.opens_something() {
        Outcome::Drift
    } else {
        Outcome::Ok
    })
}
