//! `netdrift drift`: drift of the latest snapshots against the approved baselines.

use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::config::Config;
use crate::drift;
use crate::findings::DriftReport;

use super::{open_existing, table, Format, Outcome};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Only this scope.
    #[arg(long)]
    scope: Option<String>,
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
    /// Configuration (severity, expected ports, identities, change windows) [default: built-in defaults].
    #[arg(long)]
    config: Option<PathBuf>,
    /// Terraform state JSON (`terraform show -json` of a state), added to the
    /// configuration's `[[iac]]`: each item says whether Terraform manages its resource.
    #[arg(long = "terraform-state", num_args = 1.., value_name = "FILE")]
    terraform_state: Vec<PathBuf>,
}

/// The configuration to use for settings, or the defaults.
pub fn settings(path: Option<&Path>) -> Result<Config> {
    Ok(match path {
        Some(p) => Config::load(p)?,
        None => Config::parse("", Path::new("."), "(defaults)")?,
    })
}

pub fn outcome(r: &DriftReport) -> Outcome {
    if r.drift.iter().any(|i| i.is_unapproved()) {
        Outcome::Drift
    } else if !r.coverage.is_empty() {
        Outcome::Coverage
    } else {
        Outcome::Ok
    }
}

pub fn print_table(r: &DriftReport) {
    let rows: Vec<Vec<String>> = r
        .drift
        .iter()
        .map(|i| {
            vec![
                i.severity.as_str().to_uppercase(),
                i.id.clone(),
                i.scope.to_string(),
                i.resource_name
                    .clone()
                    .map(|n| format!("{} ({n})", i.resource))
                    .unwrap_or_else(|| i.resource.clone()),
                format!("{:?}/{:?}", i.change, i.effect).to_lowercase(),
                match (
                    i.reach,
                    i.exposed.first().and_then(|e| e.address.as_deref()),
                ) {
                    (Some(r), Some(a)) => format!("{} {a}", r.as_str()),
                    (Some(r), None) => r.as_str().to_string(),
                    (None, _) => "-".into(),
                },
                crate::report::headline(i),
                if i.exception.is_some() {
                    "excepted".into()
                } else {
                    crate::report::who_line(i)
                },
            ]
        })
        .collect();
    print!(
        "{}",
        table(
            &["SEVERITY", "ID", "SCOPE", "RESOURCE", "CHANGE", "REACH", "WHAT", "WHO",],
            &rows
        )
    );
    for c in &r.coverage {
        let t = crate::text::terminal;
        println!(
            "coverage: {} {}: {}",
            c.code,
            t(c.subject.as_str()),
            t(&c.message)
        );
        for p in &c.problems {
            // The cause, once: without the operation the message repeats, and not at all when
            // the finding's message already quotes it.
            let cause = p.cause();
            if !c.message.contains(cause) {
                println!(
                    "  cause: {}{} [{}]",
                    p.operation
                        .as_deref()
                        .map(|o| format!("{o}: "))
                        .unwrap_or_default(),
                    t(cause),
                    p.code
                );
            }
        }
    }
}

pub fn run(db: &Option<PathBuf>, a: Args) -> Result<Outcome> {
    let store = open_existing(db)?;
    if let Some(f) = &a.scope {
        let known = store.scopes()?;
        if !known.iter().any(|s| drift::scope_matches(f, s)) {
            let names: Vec<String> = known.iter().map(|s| s.key().into()).collect();
            anyhow::bail!(
                "no snapshot has scope {f:?}; known scopes: {}. A scope is a whole key \
                 (aws:ACCOUNT:REGION, gcp:PROJECT, azure:SUBSCRIPTION), a key prefix (aws:ACCOUNT) \
                 or a bare account, project or subscription id",
                if names.is_empty() {
                    "none".to_string()
                } else {
                    names.join(", ")
                }
            );
        }
    }
    let cfg = settings(a.config.as_deref())?;
    let now = crate::clock::now();
    let inputs = store.load_drift_inputs(&drift::selector(a.scope.as_deref()))?;
    let (mut computed, mut coverage) = drift::compute(&inputs, &cfg.drift, now)?;
    let mut states = cfg.iac.clone();
    states.extend(a.terraform_state.iter().cloned());
    crate::iac::mark(&mut computed, &inputs, &crate::iac::load(&states)?);
    drop(inputs);
    coverage.extend(crate::attribution::attribute_all(
        &store,
        &cfg,
        &mut computed,
        now,
    )?);
    crate::iac::judge(&mut computed);
    let report = drift::report(
        drift::sorted(computed.into_iter().map(|c| c.item).collect()),
        coverage,
        now,
    );
    match a.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        Format::Markdown => print!(
            "{}",
            crate::report::markdown(&crate::report::Context {
                report: &report,
                run_id: None,
                previous: None,
                expiring: &crate::report::expiring(&store, now, 14)?,
                trend: &[],
                surface: None,
                actors: None,
                matrix: None,
            })
        ),
        Format::Table => print_table(&report),
    }
    Ok(outcome(&report))
}
