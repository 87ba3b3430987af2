//! `netdrift exposure`: the attack surface now, independent of any baseline. Every workload the
//! internet reaches in each scope's latest snapshot, with its address, the reachable ports and
//! the security groups that open them; sensitive ports first. A scope whose workloads were not
//! collected (or whose collection failed) is listed as not assessed, never left out.

use std::path::PathBuf;

use anyhow::{bail, Result};
use serde::Serialize;

use netdrift_snapshots::severity::DEFAULT_SENSITIVE_PORTS;
use netdrift_snapshots::{ResourceKind, ScopeKey, ScopeWorkloads, SnapshotStatus, SurfaceEntry};

use super::{open_existing, table, Format, Outcome};
use crate::store::Store;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Only these scopes: a scope key, a key prefix (`aws:111122223333`) or an account,
    /// project or subscription id.
    #[arg(long)]
    scope: Option<String>,
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
}

/// One exposed workload.
#[derive(Debug, Serialize)]
struct Row {
    scope: ScopeKey,
    #[serde(flatten)]
    entry: SurfaceEntry,
    /// The reachable ports that are in the sensitive list (or every port).
    sensitive: Vec<String>,
}

/// A scope the surface could not be told for.
#[derive(Debug, Serialize)]
struct NotAssessed {
    scope: String,
    why: String,
}

#[derive(Debug, Serialize)]
struct Document {
    schema_version: u32,
    exposed: Vec<Row>,
    not_assessed: Vec<NotAssessed>,
}

/// The ports of `ports` (`tcp/22`, `udp/1000-2000`, `tcp`, `all`) that are sensitive.
fn sensitive(ports: &[String]) -> Vec<String> {
    ports
        .iter()
        .filter(|p| {
            let (proto, range) = p.split_once('/').unwrap_or((p.as_str(), "all"));
            if !matches!(proto, "tcp" | "udp" | "all") {
                return false;
            }
            let (lo, hi) = match range.split_once('-') {
                _ if range == "all" => (0, 65535),
                Some((lo, hi)) => (lo.parse().unwrap_or(0), hi.parse().unwrap_or(65535)),
                None => {
                    let v = range.parse().unwrap_or(0);
                    (v, v)
                }
            };
            DEFAULT_SENSITIVE_PORTS
                .iter()
                .any(|&(a, b)| a <= hi && lo <= b)
        })
        .cloned()
        .collect()
}

fn assess(store: &dyn Store, filter: Option<&str>) -> Result<Document> {
    let inputs = store.load_drift_inputs(&crate::drift::selector(filter))?;
    if inputs.is_empty() {
        match filter {
            Some(f) => bail!("no stored snapshot matches --scope {f}"),
            None => {
                bail!("no snapshot is stored yet: run `netdrift run` or `netdrift import` first")
            }
        }
    }
    let mut doc = Document {
        schema_version: 1,
        exposed: Vec::new(),
        not_assessed: Vec::new(),
    };
    for input in &inputs {
        let key = input.scope.key();
        if input.snapshot.status == SnapshotStatus::Failed {
            doc.not_assessed.push(NotAssessed {
                scope: key.to_string(),
                why: "its latest collection failed".into(),
            });
            continue;
        }
        let uncollected: std::collections::BTreeSet<ResourceKind> =
            input.snapshot.uncollected.iter().copied().collect();
        if netdrift_snapshots::collection::workload_kinds(input.scope.provider()).is_empty() {
            doc.not_assessed.push(NotAssessed {
                scope: key.to_string(),
                why: format!(
                    "the workloads of {} are not collected yet",
                    input.scope.provider()
                ),
            });
            continue;
        }
        match ScopeWorkloads::new(&input.actual, &uncollected).surface() {
            Ok((entries, unknown)) => {
                for entry in entries {
                    doc.exposed.push(Row {
                        scope: key.clone(),
                        sensitive: sensitive(&entry.workload.ports),
                        entry,
                    });
                }
                for why in unknown {
                    doc.not_assessed.push(NotAssessed {
                        scope: key.to_string(),
                        why,
                    });
                }
            }
            Err(why) => doc.not_assessed.push(NotAssessed {
                scope: key.to_string(),
                why,
            }),
        }
    }
    doc.exposed.sort_by(|a, b| {
        a.sensitive
            .is_empty()
            .cmp(&b.sensitive.is_empty())
            .then(a.scope.cmp(&b.scope))
            .then(a.entry.workload.id.cmp(&b.entry.workload.id))
    });
    Ok(doc)
}

pub fn run(db: &Option<PathBuf>, a: Args) -> Result<Outcome> {
    let store = open_existing(db)?;
    let doc = assess(&store, a.scope.as_deref())?;
    let cells = |r: &Row| -> Vec<String> {
        vec![
            r.scope.to_string(),
            match &r.entry.workload.instance {
                Some(i) => format!("{i} ({})", r.entry.workload.id),
                None => r.entry.workload.id.clone(),
            },
            r.entry.workload.address.clone().unwrap_or_default(),
            r.entry.workload.ports.join(", "),
            r.sensitive.join(", "),
            r.entry.opened_by.join(", "),
        ]
    };
    const HEADERS: [&str; 6] = [
        "SCOPE",
        "WORKLOAD",
        "ADDRESS",
        "PORTS",
        "SENSITIVE",
        "OPENED BY",
    ];
    match a.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&doc)?),
        Format::Table => {
            print!(
                "{}",
                table(&HEADERS, &doc.exposed.iter().map(cells).collect::<Vec<_>>())
            );
            for n in &doc.not_assessed {
                println!(
                    "not assessed: {}: {}",
                    crate::text::terminal(&n.scope),
                    crate::text::terminal(&n.why)
                );
            }
        }
        Format::Markdown => {
            let md = crate::report::md;
            println!("| {} |", HEADERS.join(" | "));
            println!("|{}", "---|".repeat(HEADERS.len()));
            for r in &doc.exposed {
                let c: Vec<String> = cells(r).iter().map(|x| md(x)).collect();
                println!("| {} |", c.join(" | "));
            }
            if !doc.not_assessed.is_empty() {
                println!();
                for n in &doc.not_assessed {
                    println!("- not assessed: {}: {}", md(&n.scope), md(&n.why));
                }
            }
        }
    }
    Ok(Outcome::Ok)
}

#[cfg(test)]
mod tests {
    #[test]
    fn sensitive_ports_are_those_of_the_default_list() {
        let p = |v: &[&str]| super::sensitive(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(
            p(&["tcp/22", "tcp/443", "udp/1000-1100", "icmp"]),
            ["tcp/22"]
        );
        assert_eq!(p(&["udp/1000-2000"]), ["udp/1000-2000"], "it holds 1433");
        assert_eq!(
            p(&["tcp/3300-3400"]),
            ["tcp/3300-3400"],
            "a range that holds 3306 and 3389"
        );
        assert_eq!(p(&["all"]), ["all"]);
        assert_eq!(p(&["tcp"]), ["tcp"], "every tcp port");
    }
}
