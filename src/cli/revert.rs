//! `netdrift revert ITEM`: the exact, minimal calls that restore the approved access of one
//! drift item (`crate::revert`), as commands with a line of explanation each, or JSON
//! (docs/revert-schema.md).

use std::path::PathBuf;

use anyhow::{Context as _, Result};

use super::{open_existing, Format, Outcome};
use crate::store::Store;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The drift item (`d-…`, from `netdrift drift`).
    item: String,
    /// table (the commands, each with why) or json (the steps in each API's request shape).
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
    /// Configuration (severity settings, and the live sources `--apply` makes its calls
    /// through).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Make the calls through the cloud's SDK (the live source of --config that collects the
    /// item's scope). The resource is collected again first and nothing is done unless it is
    /// still in the drifted state; afterwards it is collected once more and the item must be
    /// gone. Recorded with who ran it, when and the ticket.
    #[arg(long)]
    apply: bool,
    /// With --apply: do not ask for confirmation.
    #[arg(long, requires = "apply")]
    yes: bool,
    /// With --apply: the change ticket recorded with the remediation.
    #[arg(long, requires = "apply")]
    ticket: Option<String>,
    /// Apply even though an exception covers the item.
    #[arg(long, requires = "apply")]
    force: bool,
}

/// The plan for one current drift item, and the item.
pub fn plan_for(
    store: &dyn Store,
    cfg: &crate::config::Config,
    item: &str,
) -> Result<(crate::revert::RevertPlan, crate::findings::DriftItem)> {
    plan_matching(store, cfg, &|i| i.id == item).with_context(|| {
        format!("no current drift item {item:?} (run `netdrift drift` to list them)")
    })
}

/// The plan for the current drift item `select` picks.
fn plan_matching(
    store: &dyn Store,
    cfg: &crate::config::Config,
    select: &dyn Fn(&crate::findings::DriftItem) -> bool,
) -> Result<(crate::revert::RevertPlan, crate::findings::DriftItem)> {
    let inputs = store.load_drift_inputs(&crate::drift::selector(None))?;
    let (items, _) = crate::drift::compute(&inputs, &cfg.drift, crate::clock::now())?;
    let c = items
        .into_iter()
        .find(|c| select(&c.item))
        .context("no such drift item now")?;
    let input = inputs
        .iter()
        .find(|i| i.scope.key() == c.item.scope)
        .context("the item's scope is not stored")?;
    let find = |side: &[netdrift_snapshots::Resource]| {
        side.iter()
            .find(|r| r.id.as_str() == c.item.resource)
            .cloned()
    };
    let baseline = input.baseline.as_deref().and_then(find);
    let actual = find(&input.actual);
    let plan = crate::revert::plan(
        &c.item.id,
        &input.scope,
        c.item.resource_kind,
        c.item.direction,
        baseline.as_ref(),
        actual.as_ref(),
    );
    Ok((plan, c.item))
}

pub fn run(db: &Option<PathBuf>, a: Args) -> Result<Outcome> {
    let mut store = open_existing(db)?;
    let cfg = super::drift::settings(a.config.as_deref())?;
    let (plan, item) = plan_for(&store, &cfg, &a.item)?;
    if a.apply {
        if let (Some(e), false) = (&item.exception, a.force) {
            anyhow::bail!(
                "{} is covered by {} ({}, until {}): not reverted without --force",
                item.id,
                e.label(),
                e.reason,
                crate::store::ts(e.expires_at)
            );
        }
        let (resource, direction) = (item.resource.clone(), item.direction);
        let replan = |s: &dyn Store| {
            plan_matching(s, &cfg, &|i| {
                i.resource == resource && i.direction == direction
            })
        };
        let done = crate::remediation::apply(
            &mut store,
            &cfg,
            &plan,
            &item,
            a.yes,
            a.ticket.as_deref(),
            &replan,
        )?;
        if a.format == Format::Json {
            println!(
                "{}",
                serde_json::to_string_pretty(&serde_json::json!({
                    "schema_version": 1, "remediation": done.row_id, "item": item.id,
                    "outcomes": done.outcomes, "confirmed": done.confirmed,
                }))?
            );
        } else {
            for o in &done.outcomes {
                println!(
                    "{} {}: {}",
                    if o.ok { "done" } else { "FAILED" },
                    o.call,
                    crate::text::terminal(&o.detail)
                );
            }
            println!(
                "remediation #{} recorded; {}",
                done.row_id,
                if done.confirmed {
                    format!("{} is gone on the next collection", item.id)
                } else {
                    format!(
                        "{} is NOT gone on the next collection: run `netdrift drift`",
                        item.id
                    )
                }
            );
        }
        return Ok(if done.confirmed {
            Outcome::Ok
        } else {
            Outcome::Invalid
        });
    }
    match a.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&plan)?),
        Format::Table | Format::Markdown => {
            let t = |s: &str| crate::text::terminal(s).into_owned();
            println!(
                "# {} {} {} of {}",
                plan.item,
                plan.scope,
                plan.direction.as_str(),
                t(&plan.resource)
            );
            if let Some(e) = &item.exception {
                println!("# covered by {} ({})", t(&e.label()), t(&e.reason));
            }
            if let Some(n) = &plan.note {
                println!("# {}", t(n));
            }
            for s in &plan.steps {
                println!("# {}", t(&s.why));
                println!("{}", s.command);
            }
        }
    }
    Ok(
        if plan.steps.is_empty()
            && plan
                .note
                .as_deref()
                .is_some_and(|n| !n.starts_with("nothing to undo"))
        {
            Outcome::Invalid
        } else {
            Outcome::Ok
        },
    )
}
