//! The hand-written baseline file (TOML), for teams that keep approved firewall state in git
//! next to their infrastructure code. Format reference: docs/baseline-file.md.

use std::path::Path;

use anyhow::{bail, Context, Result};

use crate::store::StoredPattern;
use serde::{Deserialize, Serialize};

use netdrift_snapshots::{
    canonicalize, effective::azure_default_rules, parse_cidr, Action, Direction, Peer, PortRange,
    Ports, Protocol, Provider, Resource, ResourceId, ResourceKind, Rule, Scope, Target,
};

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaselineFile {
    #[serde(default, rename = "scope")]
    pub scopes: Vec<ScopeEntry>,
    /// Pattern exceptions (the keys of the configuration's `[[exception]]`).
    #[serde(default, rename = "exception", skip_serializing_if = "Vec::is_empty")]
    pub exceptions: Vec<toml::Value>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScopeEntry {
    pub provider: String,
    pub account: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Native dumps (same formats as `netdrift import`), relative to the baseline file.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<String>,
    #[serde(default, rename = "resource", skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<ResourceEntry>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceEntry {
    pub id: String,
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// AWS VPC id, GCP network (`projects/P/global/networks/N`), Azure location.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<String>,
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub tags: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    pub rules: Vec<RuleEntry>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleEntry {
    /// `ingress` or `egress`.
    pub direction: String,
    /// `allow` (default) or `deny`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<u32>,
    /// `tcp`, `udp`, `icmp`, `all`, a number…
    pub protocol: String,
    /// Port ranges (`"22"`, `"8000-8100"`); absent = all ports.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icmp_type: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icmp_code: Option<u8>,
    /// CIDRs, `Any`, `Internet`, `sg:ID`, `pl:ID`, `tag:T`, `sa:EMAIL`, `service-tag:T`, `asg:ID`.
    pub peers: Vec<String>,
    /// `tag:T`, `sa:EMAIL`, CIDRs, `service-tag:T`, `asg:ID`; absent = every instance.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<String>,
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub enabled: bool,
    /// Rule name (Azure security rules, policy rules); cosmetic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

fn yes() -> bool {
    true
}
fn is_true(b: &bool) -> bool {
    *b
}

fn peer(s: &str) -> Result<Peer> {
    Ok(match s.split_once(':') {
        _ if s == "*" || s.eq_ignore_ascii_case("any") => Peer::Any,
        _ if s.eq_ignore_ascii_case("internet") => Peer::Internet,
        Some(("sg", v)) => Peer::SecurityGroup(v.into()),
        Some(("pl", v)) => Peer::PrefixList(v.into()),
        Some(("tag", v)) => Peer::Tag(v.into()),
        Some(("sa", v)) => Peer::ServiceAccount(v.into()),
        Some(("service-tag", v)) => Peer::ServiceTag(v.into()),
        Some(("asg", v)) => Peer::AppSecurityGroup(v.to_ascii_lowercase()),
        _ => Peer::Cidr(parse_cidr(s)?),
    })
}

fn target(s: &str) -> Result<Target> {
    Ok(match s.split_once(':') {
        Some(("tag", v)) => Target::Tag(v.into()),
        Some(("sa", v)) => Target::ServiceAccount(v.into()),
        Some(("service-tag", v)) => Target::ServiceTag(v.into()),
        Some(("asg", v)) => Target::AppSecurityGroup(v.to_ascii_lowercase()),
        Some(("network", v)) => Target::Network(v.into()),
        Some(("region", v)) => Target::Region(v.into()),
        _ => Target::Cidr(parse_cidr(s)?),
    })
}

fn peer_text(p: &Peer) -> String {
    match p {
        Peer::Cidr(c) => c.to_string(),
        Peer::Any => "Any".into(),
        Peer::Internet => "Internet".into(),
        Peer::SecurityGroup(v) => format!("sg:{v}"),
        Peer::PrefixList(v) => format!("pl:{v}"),
        Peer::Tag(v) => format!("tag:{v}"),
        Peer::ServiceAccount(v) => format!("sa:{v}"),
        Peer::ServiceTag(v) => format!("service-tag:{v}"),
        Peer::AppSecurityGroup(v) => format!("asg:{v}"),
    }
}

fn target_text(t: &Target) -> String {
    match t {
        Target::Cidr(c) => c.to_string(),
        Target::Tag(v) => format!("tag:{v}"),
        Target::ServiceAccount(v) => format!("sa:{v}"),
        Target::ServiceTag(v) => format!("service-tag:{v}"),
        Target::AppSecurityGroup(v) => format!("asg:{v}"),
        Target::Network(v) => format!("network:{v}"),
        Target::Region(v) => format!("region:{v}"),
    }
}

fn rule(e: &RuleEntry, at: &str) -> Result<Rule> {
    let direction = match e.direction.as_str() {
        "ingress" => Direction::Ingress,
        "egress" => Direction::Egress,
        d => bail!("{at}: direction {d:?} (expected ingress or egress)"),
    };
    let action = match e.action.as_deref().unwrap_or("allow") {
        "allow" => Action::Allow,
        "deny" => Action::Deny,
        a => bail!("{at}: action {a:?} (expected allow or deny)"),
    };
    let protocol = Protocol::parse(&e.protocol).with_context(|| format!("{at}: protocol"))?;
    let ports = if protocol.is_icmp() && e.icmp_type.is_some() {
        Ports::Icmp {
            icmp_type: e.icmp_type,
            code: e.icmp_code,
        }
    } else if e.ports.is_empty() || !protocol.has_ports() {
        Ports::All
    } else {
        Ports::Ranges {
            ranges: e
                .ports
                .iter()
                .map(|p| PortRange::parse(p))
                .collect::<Result<_, _>>()
                .with_context(|| format!("{at}: ports"))?,
        }
    };
    let peers = e
        .peers
        .iter()
        .map(|p| peer(p))
        .collect::<Result<Vec<_>>>()
        .with_context(|| format!("{at}: peers"))?;
    if peers.is_empty() {
        bail!("{at}: a rule needs at least one peer");
    }
    let mut r = Rule::new(direction, action, protocol, ports, peers);
    r.priority = e.priority;
    r.enabled = e.enabled;
    r.targets = e
        .targets
        .iter()
        .map(|t| target(t))
        .collect::<Result<Vec<_>>>()
        .with_context(|| format!("{at}: targets"))?;
    r.description = e.description.clone();
    r.name = e.name.clone();
    Ok(r)
}

/// Read a baseline file into scopes and their approved resources.
/// One scope and the resources approved for it.
pub type ScopeState = (Scope, Vec<Resource>);

pub fn load(path: &Path) -> Result<Vec<ScopeState>> {
    Ok(load_all(path)?.0)
}

/// The file's scopes and its pattern exceptions (each checked as the configuration checks
/// `[[exception]]`; a bad one names the file, its index and the key).
pub fn load_all(path: &Path) -> Result<(Vec<ScopeState>, Vec<StoredPattern>)> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).with_context(|| format!("{name}: cannot read"))?;
    let file: BaselineFile =
        toml::from_str(&text).map_err(|e| anyhow::anyhow!("{name}: {}", e.to_string().trim()))?;
    let origin = format!("file:{name}");
    let mut patterns: Vec<StoredPattern> = Vec::new();
    for (i, t) in file.exceptions.iter().enumerate() {
        match crate::config::check_pattern(t) {
            Ok((n, _)) if patterns.iter().any(|p| p.name == n) => {
                bail!("{name}: exception[{i}] ({n}): field `name`: another exception has this name")
            }
            Ok((n, body)) => patterns.push(StoredPattern {
                name: n,
                body,
                origin: origin.clone(),
            }),
            Err(problems) => bail!("{name}: exception[{i}]: {}", problems.join("; ")),
        }
    }
    let base = path.parent().unwrap_or(Path::new("."));
    let mut out = Vec::new();
    for (i, s) in file.scopes.iter().enumerate() {
        let at = format!("{name}: scope[{i}]");
        let provider: Provider = s
            .provider
            .parse()
            .with_context(|| format!("{at}: provider"))?;
        let scope = Scope::new(
            provider,
            s.account.clone(),
            if provider == Provider::Aws {
                s.region.clone()
            } else {
                None
            },
        );
        let files: Vec<_> = s.files.iter().map(|f| base.join(f)).collect();
        // Workload dumps among the files are not firewall state: a baseline leaves them out.
        let mut resources: Vec<_> =
            netdrift_provider_file::import_files(provider, scope.account(), &files)?
                .into_iter()
                .filter(|r| !r.kind.is_workload())
                .collect();
        for (j, r) in s.resources.iter().enumerate() {
            let at = format!("{at}.resource[{j}] ({})", r.id);
            let kind: ResourceKind = r.kind.parse().with_context(|| format!("{at}: kind"))?;
            if kind.provider() != provider {
                bail!("{at}: kind {kind} does not belong to provider {provider}");
            }
            if kind.is_workload() {
                bail!("{at}: kind {kind} is a workload, not a firewall: a baseline does not approve it");
            }
            let id = if provider == Provider::Azure {
                ResourceId::azure(&r.id)
            } else {
                ResourceId::new(r.id.clone())
            };
            let mut res = Resource::new(id, kind);
            res.name = r.name.clone();
            res.description = r.description.clone();
            res.network = r.network.clone();
            res.tags = r.tags.clone();
            for (k, e) in r.rules.iter().enumerate() {
                res.rules.push(rule(e, &format!("{at}.rules[{k}]"))?);
            }
            if kind == ResourceKind::AzureNsg {
                res.rules.extend(azure_default_rules());
            }
            resources.push(canonicalize(res));
        }
        out.push((scope, resources));
    }
    Ok((out, patterns))
}

/// Write approved state and the stored pattern exceptions in this format (round-trips through
/// `load_all`).
pub fn export(scopes: &[(Scope, Vec<Resource>)], patterns: &[StoredPattern]) -> Result<String> {
    let file = BaselineFile {
        exceptions: patterns
            .iter()
            .map(|p| toml::Value::try_from(&p.body))
            .collect::<Result<_, _>>()
            .context("a stored pattern exception cannot be written as TOML")?,
        scopes: scopes
            .iter()
            .map(|(scope, resources)| ScopeEntry {
                provider: scope.provider().to_string(),
                account: scope.account().to_string(),
                region: scope.region().map(str::to_string),
                files: Vec::new(),
                resources: resources
                    .iter()
                    .map(|r| ResourceEntry {
                        id: r.id.to_string(),
                        kind: r.kind.to_string(),
                        name: r.name.clone(),
                        description: r.description.clone(),
                        network: r.network.clone(),
                        tags: r.tags.clone(),
                        rules: r
                            .rules
                            .iter()
                            .filter(|x| !(r.kind == ResourceKind::AzureNsg && x.default_rule))
                            .map(|x| RuleEntry {
                                direction: x.direction.as_str().into(),
                                action: (x.action == Action::Deny).then(|| "deny".into()),
                                priority: x.priority,
                                protocol: x.protocol.to_string(),
                                ports: match &x.ports {
                                    Ports::Ranges { ranges } => {
                                        ranges.iter().map(|p| p.to_string()).collect()
                                    }
                                    _ => Vec::new(),
                                },
                                icmp_type: match x.ports {
                                    Ports::Icmp { icmp_type, .. } => icmp_type,
                                    _ => None,
                                },
                                icmp_code: match x.ports {
                                    Ports::Icmp { code, .. } => code,
                                    _ => None,
                                },
                                peers: x.peers.iter().map(peer_text).collect(),
                                targets: x.targets.iter().map(target_text).collect(),
                                enabled: x.enabled,
                                name: x.name.clone(),
                                description: x.description.clone(),
                            })
                            .collect(),
                    })
                    .collect(),
            })
            .collect(),
    };
    Ok(toml::to_string_pretty(&file)?)
}
