//! `netdrift revert --apply`: make a revert plan's calls through the live source that collects
//! the item's scope, safely. The resource is collected again first, and nothing is done unless
//! it is still in the drifted state the plan was computed from (the difference is named
//! otherwise); the calls are made in order and stop at the first failure; the resource is
//! collected once more, and the item must be gone. Who ran it, when, the ticket, the calls and
//! what became of each are recorded, and the evidence bundle carries them.

use std::io::{BufRead, IsTerminal, Write};

use anyhow::{bail, Context as _, Result};

use netdrift_provider_api::{Call, CallOutcome};
use netdrift_snapshots::{canonical::access_rule, state_hash, Resource};

use crate::config::{Config, SourceKind};
use crate::findings::DriftItem;
use crate::revert::RevertPlan;
use crate::store::{RemediationRow, Store};

/// The plan for the same resource and direction, computed again from the store.
pub type Replan<'a> = &'a dyn Fn(&dyn Store) -> Result<(RevertPlan, DriftItem)>;

/// How it ended.
pub struct Applied {
    pub outcomes: Vec<CallOutcome>,
    /// The item is gone from the collection after the calls.
    pub confirmed: bool,
    pub row_id: i64,
}

/// The operating-system user, and the one behind sudo.
fn run_by() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "unknown".into());
    match std::env::var("SUDO_USER") {
        Ok(s) if s != user => format!("{s} (as {user} through sudo)"),
        _ => user,
    }
}

/// The rules one state has that the other lacks, in one line each way.
fn difference(before: Option<&Resource>, now: Option<&Resource>) -> String {
    let (Some(b), Some(n)) = (before, now) else {
        return match now {
            None => "it no longer exists".into(),
            Some(_) => "it exists again".into(),
        };
    };
    let line = |r: &netdrift_snapshots::Rule| {
        format!(
            "{} {} {} {}",
            r.direction.as_str(),
            format!("{:?}", r.action).to_lowercase(),
            r.protocol,
            r.peers
                .iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let keys = |r: &Resource| r.rules.iter().map(access_rule).collect::<Vec<_>>();
    let (kb, kn) = (keys(b), keys(n));
    let added: Vec<String> = n
        .rules
        .iter()
        .filter(|r| !kb.contains(&access_rule(r)))
        .map(line)
        .collect();
    let removed: Vec<String> = b
        .rules
        .iter()
        .filter(|r| !kn.contains(&access_rule(r)))
        .map(line)
        .collect();
    let mut parts = Vec::new();
    if !added.is_empty() {
        parts.push(format!("now also has: {}", added.join("; ")));
    }
    if !removed.is_empty() {
        parts.push(format!("no longer has: {}", removed.join("; ")));
    }
    if parts.is_empty() {
        "its description, names or rule ids changed".into()
    } else {
        parts.join("; ")
    }
}

/// The item's resource in its scope's latest snapshot. A snapshot that failed, or that did not
/// read the resource's kind, is an error: an unread resource is never "gone".
fn resource_now(store: &dyn Store, item: &DriftItem) -> Result<Option<Resource>> {
    let inputs = store.load_drift_inputs(&|s| s.key() == item.scope)?;
    let Some(i) = inputs.first() else {
        bail!("{} has no snapshot", item.scope);
    };
    if i.snapshot.status == netdrift_snapshots::SnapshotStatus::Failed {
        let why: Vec<&str> = i.snapshot.problems.iter().map(|p| p.cause()).collect();
        bail!(
            "collecting {} failed ({})",
            item.scope,
            if why.is_empty() {
                "no reason given".into()
            } else {
                why.join("; ")
            }
        );
    }
    if i.snapshot.uncollected.contains(&item.resource_kind) {
        bail!(
            "collecting {} did not read {}",
            item.scope,
            item.resource_kind.as_str()
        );
    }
    Ok(i.actual
        .iter()
        .find(|r| r.id.as_str() == item.resource)
        .cloned())
}

/// Ask on the terminal; `--yes` skips it, and without a terminal it is required.
fn confirm(plan: &RevertPlan, yes: bool) -> Result<()> {
    if yes {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        bail!("--apply asks for confirmation on a terminal: pass --yes to make the calls without asking");
    }
    eprintln!(
        "{} call(s) on {} in {}:",
        plan.steps.len(),
        plan.resource,
        plan.scope
    );
    for s in &plan.steps {
        eprintln!("  # {}\n  {}", s.why, s.command);
    }
    eprint!("make them? [y/N] ");
    std::io::stderr().flush().ok();
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    if !matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes") {
        bail!("not confirmed: nothing was changed");
    }
    Ok(())
}

/// Apply `plan` (computed from the stored state) for `item`.
pub fn apply(
    store: &mut dyn Store,
    cfg: &Config,
    plan: &RevertPlan,
    item: &DriftItem,
    yes: bool,
    ticket: Option<&str>,
    replan: Replan<'_>,
) -> Result<Applied> {
    if plan.steps.is_empty() {
        bail!(
            "nothing to apply for {}: {}",
            item.id,
            plan.note.as_deref().unwrap_or("no steps")
        );
    }
    let scope = netdrift_snapshots::Scope::parse_key(item.scope.as_str())?;
    let live: Vec<&dyn netdrift_provider_api::Source> = cfg
        .sources
        .iter()
        .filter_map(|s| match &s.kind {
            SourceKind::Live(l) => Some(l.source()),
            SourceKind::Files { .. } => None,
        })
        .filter(|s| s.covers(&scope))
        .collect();
    let Some(source) = live.first() else {
        bail!(
            "no live source of {} collects {}: --apply makes its calls through the source that collects the item's scope (give --config with it)",
            cfg.path.as_deref().map(|p| p.display().to_string()).unwrap_or_else(|| "the configuration".into()),
            item.scope
        );
    };
    let before_stored = resource_now(store, item)?;
    // 1. Collect again: the calls are made only on the drifted state they were computed from.
    let started = crate::clock::now();
    let shutdown = netdrift_provider_api::Shutdown::new();
    crate::reconcile::snapshot_once(store, cfg, started, &shutdown)
        .context("collecting before the calls")?;
    let now = resource_now(store, item).context("nothing was changed")?;
    let hash = |r: &Option<Resource>| r.as_ref().map(state_hash);
    if hash(&now) != hash(&before_stored) {
        let same_access = match (&now, &before_stored) {
            (Some(a), Some(b)) => {
                netdrift_snapshots::access_hash(a) == netdrift_snapshots::access_hash(b)
            }
            _ => false,
        };
        if !same_access {
            bail!(
                "{} changed since the item was computed ({}): nothing was changed. Run `netdrift drift` and revert the current item",
                item.resource,
                difference(before_stored.as_ref(), now.as_ref())
            );
        }
    }
    let (fresh, _) = replan(&*store).context("the item after collecting again")?;
    if fresh.steps != plan.steps {
        bail!("the steps for {} are not the same after collecting again: nothing was changed. Run `netdrift revert {}` again", item.id, item.id);
    }
    confirm(plan, yes)?;
    // 2. The calls.
    let calls: Vec<Call> = plan
        .steps
        .iter()
        .map(|s| Call {
            call: s.call.clone(),
            params: s.params.clone(),
        })
        .collect();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let outcomes = rt.block_on(source.apply(&scope, &calls));
    // 3. Collect once more: is the item gone?
    let after_at = crate::clock::now().max(started + chrono::Duration::seconds(1));
    crate::reconcile::snapshot_once(store, cfg, after_at, &shutdown)
        .context("collecting after the calls")?;
    // Unconfirmed when the resource could not be read again: never a false all-clear.
    let (after, read_again) = match resource_now(store, item) {
        Ok(a) => (a, true),
        Err(e) => {
            eprintln!(
                "netdrift: after the calls: {}: the revert is not confirmed",
                crate::text::causes(&*e)
            );
            (None, false)
        }
    };
    let inputs = store.load_drift_inputs(&|s| s.key() == item.scope)?;
    let (items, _) = crate::drift::compute(&inputs, &cfg.drift, crate::clock::now())?;
    let confirmed = read_again
        && outcomes.iter().all(|o| o.ok)
        && !items.iter().any(|c| {
            c.item.resource == item.resource
                && c.item.direction == item.direction
                && c.item.effect != netdrift_snapshots::Effect::Cosmetic
        });
    let row = RemediationRow {
        id: 0,
        item: item.id.clone(),
        scope: item.scope.clone(),
        resource: item.resource.clone(),
        direction: item.direction.as_str().into(),
        run_by: run_by(),
        started_at: started,
        finished_at: crate::clock::now(),
        ticket: ticket.map(str::to_string),
        steps: serde_json::to_value(&plan.steps)?,
        outcomes: serde_json::to_value(&outcomes)?,
        before_state: hash(&now),
        after_state: hash(&after),
        confirmed,
    };
    let row_id = store.record_remediation(&row)?;
    Ok(Applied {
        outcomes,
        confirmed,
        row_id,
    })
}
