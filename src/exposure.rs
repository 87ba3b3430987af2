//! The attack surface now, independent of any baseline: every workload the internet reaches in
//! each scope's latest snapshot, with its address, the reachable ports and the security groups
//! that open them; sensitive ports first. A scope whose workloads were not collected (or whose
//! collection failed) is listed as not assessed, never left out. Pure over the drift inputs:
//! `netdrift exposure` and the report share it.

use serde::Serialize;

use netdrift_snapshots::severity::DEFAULT_SENSITIVE_PORTS;
use netdrift_snapshots::{ResourceKind, ScopeKey, ScopeWorkloads, SnapshotStatus, SurfaceEntry};

use crate::store::ScopeInputs;

/// One exposed workload.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub scope: ScopeKey,
    #[serde(flatten)]
    pub entry: SurfaceEntry,
    /// The reachable ports that are in the sensitive list (or every port).
    pub sensitive: Vec<String>,
}

/// A scope the surface could not be told for.
#[derive(Debug, Clone, Serialize)]
pub struct NotAssessed {
    pub scope: String,
    pub why: String,
}

/// The attack surface of the scopes assessed: `netdrift exposure --format json`.
#[derive(Debug, Clone, Serialize)]
pub struct Surface {
    pub schema_version: u32,
    pub exposed: Vec<Row>,
    pub not_assessed: Vec<NotAssessed>,
}

/// The ports of `ports` (`tcp/22`, `udp/1000-2000`, `tcp`, `all`) that are sensitive.
pub fn sensitive(ports: &[String]) -> Vec<String> {
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

/// The attack surface of each scope's latest snapshot (the drift inputs), sensitive ports first.
pub fn surface(inputs: &[ScopeInputs]) -> Surface {
    let mut doc = Surface::new();
    doc.add(inputs);
    doc.finish()
}

impl Surface {
    pub fn new() -> Surface {
        Surface {
            schema_version: 1,
            exposed: Vec::new(),
            not_assessed: Vec::new(),
        }
    }

    pub fn finish(mut self) -> Surface {
        self.exposed.sort_by(|a, b| {
            a.sensitive
                .is_empty()
                .cmp(&b.sensitive.is_empty())
                .then(a.scope.cmp(&b.scope))
                .then(a.entry.workload.id.cmp(&b.entry.workload.id))
        });
        self
    }

    /// Add the scopes of `inputs` (one batch of them); [`Surface::finish`] orders the whole.
    pub fn add(&mut self, inputs: &[ScopeInputs]) {
        let doc = self;
        for input in inputs {
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
            match ScopeWorkloads::new(&input.actual, &uncollected).surface(input.scope.provider()) {
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
    }
}

impl Default for Surface {
    fn default() -> Self {
        Surface::new()
    }
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
