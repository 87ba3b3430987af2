//! `netdrift exception`: approve one drift item, for exactly the access it opened, until a date.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};

use crate::store::NewException;

use super::{open_existing, parse_time, table, Format, Outcome};

#[derive(clap::Subcommand, Debug)]
pub enum Cmd {
    /// Except one drift item (by its id from `netdrift drift`).
    Add(AddArgs),
    /// List exceptions: each stored one and each `[[exception]]` pattern of `--config`, with
    /// what it covers now and when it expires.
    List(ListArgs),
    /// Take a stored exception back (kept in the history: `list --all` shows it).
    Remove(RemoveArgs),
}

#[derive(clap::Args, Debug)]
pub struct RemoveArgs {
    /// The exception's id (`netdrift exception list`).
    id: i64,
    /// Who removes it.
    #[arg(long)]
    by: String,
    /// Why it is taken back.
    #[arg(long)]
    reason: String,
}

#[derive(clap::Args, Debug)]
pub struct AddArgs {
    drift_id: String,
    /// Owner of the exception.
    #[arg(long)]
    by: String,
    #[arg(long)]
    reason: Option<String>,
    /// Expiry (2026-12-31 or RFC 3339); required.
    #[arg(long)]
    expires: Option<String>,
    #[arg(long)]
    ticket: Option<String>,
    /// Configuration whose severity settings apply.
    #[arg(long)]
    config: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
pub struct ListArgs {
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
    /// Configuration whose `[[exception]]` patterns to list too (and whose settings the
    /// current drift, which COVERS counts, is computed with).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Removed exceptions too.
    #[arg(long)]
    all: bool,
}

pub fn run(db: &Option<PathBuf>, cmd: Cmd) -> Result<Outcome> {
    let mut store = open_existing(db)?;
    match cmd {
        Cmd::Add(a) => {
            let Some(reason) = a.reason.filter(|r| !r.trim().is_empty()) else {
                bail!("an exception needs --reason: say why this drift is acceptable");
            };
            let Some(expires) = a.expires else {
                bail!("an exception needs --expires DATE: exceptions never last forever");
            };
            let expires_at = parse_time(&expires)?;
            let cfg = super::drift::settings(a.config.as_deref())?;
            let (items, _) = crate::drift::compute(
                &store.load_drift_inputs(&crate::drift::selector(None))?,
                &cfg.drift,
                crate::clock::now(),
            )?;
            let item = items
                .into_iter()
                .find(|c| c.item.id == a.drift_id)
                .with_context(|| {
                    format!(
                        "no current drift item {:?} (run `netdrift drift` to list them)",
                        a.drift_id
                    )
                })?;
            let envelope = serde_json::to_value(&item.allowed)?;
            let id = store.add_exception(
                &NewException {
                    drift_id: &item.item.id,
                    scope: &item.item.scope,
                    resource: &item.item.resource,
                    direction: item.item.direction,
                    envelope,
                    owner: &a.by,
                    reason: &reason,
                    ticket: a.ticket.as_deref(),
                    expires_at,
                },
                crate::clock::now(),
            )?;
            println!(
                "exception {id}: {} {} ({}) excepted until {} for: {}",
                item.item.resource,
                item.item.direction.as_str(),
                item.item.scope,
                crate::store::ts(expires_at),
                item.item
                    .newly_allowed
                    .iter()
                    .map(|e| e.to_string())
                    .collect::<Vec<_>>()
                    .join("; ")
            );
        }
        Cmd::List(a) => list(&store, a)?,
        Cmd::Remove(a) => {
            let e = store.remove_exception(a.id, &a.by, &a.reason, crate::clock::now())?;
            println!(
                "exception {}: {} {} ({}) removed by {}; kept in the history (`exception list --all`)",
                e.id,
                crate::text::terminal(&e.resource),
                e.direction,
                e.scope,
                crate::text::terminal(&a.by)
            );
        }
    }
    Ok(Outcome::Ok)
}

/// What each exception covers now: the current drift items it excepts.
fn list(store: &crate::store::SqliteStore, a: ListArgs) -> Result<()> {
    let cfg = super::drift::settings(a.config.as_deref())?;
    let now = crate::clock::now();
    let rows = if a.all {
        store.exception_history()?
    } else {
        store.exceptions(None, None)?
    };
    let (items, _) = crate::drift::compute(
        &store.load_drift_inputs(&crate::drift::selector(None))?,
        &cfg.drift,
        now,
    )?;
    let stored = store.stored_patterns()?;
    let patterns = crate::drift::patterns(&cfg.drift, &stored);
    let source = |name: &str| -> String {
        if cfg.drift.exceptions.iter().any(|e| e.name == name) {
            "config".into()
        } else {
            stored
                .iter()
                .find(|p| p.name == name)
                .map(|p| p.origin.clone())
                .unwrap_or_default()
        }
    };
    let covers = |id: i64, pattern: Option<&str>| -> Vec<String> {
        items
            .iter()
            .filter_map(|c| c.item.exception.as_ref().map(|e| (e, &c.item)))
            .filter(|(e, _)| match pattern {
                Some(p) => e.pattern.as_deref() == Some(p),
                None => e.pattern.is_none() && e.id == id,
            })
            .map(|(_, i)| i.id.clone())
            .collect()
    };
    let state = |expires: chrono::DateTime<chrono::Utc>, removed: bool| {
        if removed {
            "removed"
        } else if expires <= now {
            "expired"
        } else {
            "active"
        }
    };
    if a.format == Format::Json {
        let stored: Vec<serde_json::Value> = rows
            .iter()
            .map(|e| {
                let mut v = serde_json::to_value(e).expect("an exception row serializes");
                v["state"] = state(e.expires_at, e.removed_at.is_some()).into();
                v["covers"] = covers(e.id, None).into();
                v
            })
            .collect();
        let patterns: Vec<serde_json::Value> = patterns
            .iter()
            .map(|p| {
                serde_json::json!({
                    "name": p.name, "source": source(&p.name),
                    "owner": p.owner, "reason": p.reason, "ticket": p.ticket,
                    "expires_at": crate::store::ts(p.expires_at),
                    "state": state(p.expires_at, false),
                    "scopes": p.scopes, "resources": p.resources, "tags": p.tags,
                    "descriptions": p.descriptions,
                    "direction": p.direction.map(|d| d.as_str()),
                    "allow": p.allow,
                    "covers": covers(0, Some(&p.name)),
                })
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(
                &serde_json::json!({"schema_version": 2, "exceptions": stored, "patterns": patterns})
            )?
        );
        return Ok(());
    }
    let mut body: Vec<Vec<String>> = rows
        .iter()
        .map(|e| {
            let envelope: Vec<String> =
                serde_json::from_value::<netdrift_snapshots::AccessSet>(e.envelope.clone())
                    .map(|a| a.render().iter().map(|x| x.to_string()).collect())
                    .unwrap_or_default();
            vec![
                e.id.to_string(),
                format!("{} {} {}", e.scope, e.resource, e.direction),
                envelope.join("; "),
                e.owner.clone(),
                crate::store::ts(e.expires_at),
                state(e.expires_at, e.removed_at.is_some()).into(),
                covers(e.id, None).join(" "),
                e.reason.clone(),
            ]
        })
        .collect();
    for p in &patterns {
        let mut what = Vec::new();
        for (k, v) in [
            ("scopes", &p.scopes),
            ("resources", &p.resources),
            ("tags", &p.tags),
            ("descriptions", &p.descriptions),
        ] {
            if !v.is_empty() {
                what.push(format!("{k} {}", v.join(",")));
            }
        }
        what.extend(p.direction.map(|d| d.as_str().to_string()));
        body.push(vec![
            format!("pattern:{}", p.name),
            what.join("; "),
            p.allow.join("; "),
            p.owner.clone(),
            crate::store::ts(p.expires_at),
            state(p.expires_at, false).into(),
            covers(0, Some(&p.name)).join(" "),
            p.reason.clone(),
        ]);
    }
    print!(
        "{}",
        table(
            &["ID", "SELECTS", "ALLOWS", "OWNER", "EXPIRES", "STATE", "COVERS", "REASON"],
            &body
        )
    );
    Ok(())
}
