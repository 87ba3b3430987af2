//! `netdrift drift`: drift of the latest snapshots against the approved baselines.

use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::config::Config;
use crate::drift;
use crate::findings::DriftReport;

use super::table::{natural_width, Col};
use super::{fitted, open_existing, output_width, Fit, Format, Outcome};

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

/// The drift table's columns when a row fits on one line (and when the output is not a
/// terminal: a pipe or a file gets every cell whole).
const WIDE: [Col; 8] = [
    ("SEVERITY", Fit::Keep),
    ("ID", Fit::Keep),
    ("SCOPE", Fit::Keep),
    ("RESOURCE", Fit::Keep),
    ("CHANGE", Fit::Keep),
    ("REACH", Fit::Keep),
    ("WHAT", Fit::Keep),
    ("WHO", Fit::Keep),
];

/// The columns for a terminal too narrow for [`WIDE`]: the severity over the id (whole: it is
/// what a person copies), the resource's name over its id and scope (shortened in the middle,
/// so the end of the id stays), what changed and who did it wrapped, a blank line between items.
const NARROW: [Col; 4] = [
    ("ITEM", Fit::Keep),
    ("RESOURCE", Fit::Middle(26)),
    ("WHAT", Fit::Wrap),
    ("WHO", Fit::Wrap),
];

/// A resource as a person names it: its id, and its name when the id does not end with it
/// (an Azure id already does).
pub fn resource_cell(id: &str, name: Option<&str>) -> String {
    match name {
        Some(n) if !id.ends_with(&format!("/{n}")) => format!("{id} ({n})"),
        _ => id.to_string(),
    }
}

/// Who made the change, as the narrow table's lines: the principal, how it authenticated,
/// and the event. ARNs of the item's own account drop their `arn:aws:iam::ACCOUNT:` prefix
/// (the scope names the account); another account's stay whole.
fn who_lines(i: &crate::findings::DriftItem) -> Vec<String> {
    if i.exception.is_some() {
        return vec!["excepted".into()];
    }
    let own = |s: &str| match i
        .scope
        .as_str()
        .strip_prefix("aws:")
        .and_then(|k| k.split(':').next())
    {
        Some(acct) => s
            .replace(&format!("arn:aws:iam::{acct}:"), "")
            .replace(&format!("arn:aws:sts::{acct}:"), ""),
        None => s.to_string(),
    };
    match &i.attribution {
        Some(a) if !a.actors.is_empty() => a
            .actors
            .iter()
            .flat_map(|x| {
                let mut how = vec![x.class.to_string()];
                how.extend(x.role.iter().map(|r| format!("role {r}")));
                how.extend(x.chain.iter().cloned());
                [
                    own(x.principal.as_deref().unwrap_or("?")),
                    own(&format!("({})", how.join(", "))),
                    format!(
                        "{}at {}",
                        x.tool
                            .as_deref()
                            .map(|t| format!("via {t} "))
                            .unwrap_or_default(),
                        netdrift_snapshots::time::millis(x.event_time),
                    ),
                    format!("[{}, {}]", x.event_name, crate::report::label(x.grade)),
                ]
            })
            .collect(),
        _ => vec![crate::report::who_line(i)],
    }
}

pub fn print_table(r: &DriftReport) {
    let t = |s: &str| crate::text::terminal(s).into_owned();
    let reach = |i: &crate::findings::DriftItem| match (
        i.reach,
        i.exposed.first().and_then(|e| e.address.as_deref()),
    ) {
        (Some(r), Some(a)) => format!("{} {a}", r.as_str()),
        (Some(r), None) => r.as_str().to_string(),
        (None, _) => "-".into(),
    };
    let change =
        |i: &crate::findings::DriftItem| format!("{:?}/{:?}", i.change, i.effect).to_lowercase();
    let wide: Vec<Vec<String>> = r
        .drift
        .iter()
        .map(|i| {
            vec![
                i.severity.as_str().to_uppercase(),
                i.id.clone(),
                t(i.scope.as_str()),
                t(&resource_cell(&i.resource, i.resource_name.as_deref())),
                change(i),
                t(&reach(i)),
                t(&crate::report::headline(i)),
                t(&if i.exception.is_some() {
                    "excepted".into()
                } else {
                    crate::report::who_line(i)
                }),
            ]
        })
        .collect();
    let width = output_width();
    if width.is_none_or(|w| natural_width(&WIDE, &wide) <= w) {
        print!("{}", fitted(&WIDE, &wide, None, false));
    } else {
        let narrow: Vec<Vec<String>> = r
            .drift
            .iter()
            .map(|i| {
                let name = i
                    .resource_name
                    .as_deref()
                    .or_else(|| i.resource.rsplit('/').next())
                    .unwrap_or(&i.resource);
                vec![
                    format!("{}\n{}", i.severity.as_str().to_uppercase(), i.id),
                    format!("{}\n{}\n{}", t(name), t(&i.resource), t(i.scope.as_str())),
                    format!(
                        "{}\n{} · {}",
                        t(&crate::report::headline(i)),
                        change(i),
                        t(&reach(i))
                    ),
                    who_lines(i)
                        .iter()
                        .map(|l| t(l))
                        .collect::<Vec<_>>()
                        .join("\n"),
                ]
            })
            .collect();
        print!("{}", fitted(&NARROW, &narrow, width, true));
    }
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
    let mut states = cfg.iac.clone();
    states.extend(a.terraform_state.iter().cloned());
    let (mut computed, mut coverage, _) = crate::reconcile::drift_of(
        &store,
        &cfg,
        &drift::selector(a.scope.as_deref()),
        &crate::iac::load(&states)?,
        now,
        false,
        crate::reconcile::DRIFT_BATCH,
    )?;
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
