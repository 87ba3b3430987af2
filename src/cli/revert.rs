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
    /// Configuration (severity settings).
    #[arg(long)]
    config: Option<PathBuf>,
}

/// The plan for one current drift item, and the item.
pub fn plan_for(
    store: &dyn Store,
    cfg: &crate::config::Config,
    item: &str,
) -> Result<(crate::revert::RevertPlan, crate::findings::DriftItem)> {
    let inputs = store.load_drift_inputs(&crate::drift::selector(None))?;
    let (items, _) = crate::drift::compute(&inputs, &cfg.drift, crate::clock::now())?;
    let c = items
        .into_iter()
        .find(|c| c.item.id == item)
        .with_context(|| {
            format!("no current drift item {item:?} (run `netdrift drift` to list them)")
        })?;
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
    let store = open_existing(db)?;
    let cfg = super::drift::settings(a.config.as_deref())?;
    let (plan, item) = plan_for(&store, &cfg, &a.item)?;
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
                println!("# covered by exception #{} ({})", e.id, t(&e.reason));
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
