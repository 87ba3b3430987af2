//! How an audit event is kept as a row of `audit_events` and read back: its actor and request
//! payload written as compact JSON (migration 16), and events built from the stored columns,
//! each distinct actor read and parsed once per reader.

use anyhow::{Context, Result};
use chrono::DateTime;
use rusqlite::{Connection, OptionalExtension};

use netdrift_snapshots::AuditEvent;

/// The JSON text of a stored payload (migration 16): each rule without the fields that are
/// null (absent and null are the same to its reader: each is an `Option`).
pub(super) fn payload_json(rules: &[netdrift_snapshots::Rule]) -> Result<String> {
    use netdrift_snapshots::{Action, Direction, Peer, PortRange, Ports, Protocol, Rule, Target};
    #[derive(serde::Serialize)]
    struct Stored<'a> {
        direction: &'a Direction,
        #[serde(skip_serializing_if = "Option::is_none")]
        priority: Option<u32>,
        action: &'a Action,
        enabled: bool,
        protocol: &'a Protocol,
        ports: &'a Ports,
        peers: &'a [Peer],
        targets: &'a [Target],
        #[serde(skip_serializing_if = "Option::is_none")]
        source_ports: Option<&'a [PortRange]>,
        default_rule: bool,
        #[serde(skip_serializing_if = "Option::is_none")]
        name: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        description: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        rule_id: Option<&'a str>,
    }
    let stored: Vec<Stored<'_>> = rules
        .iter()
        .map(|r| {
            // Every field, so that a field added to the model cannot be left out here.
            let Rule {
                direction,
                priority,
                action,
                enabled,
                protocol,
                ports,
                peers,
                targets,
                source_ports,
                default_rule,
                name,
                description,
                rule_id,
            } = r;
            Stored {
                direction,
                priority: *priority,
                action,
                enabled: *enabled,
                protocol,
                ports,
                peers,
                targets,
                source_ports: source_ports.as_deref(),
                default_rule: *default_rule,
                name: name.as_deref(),
                description: description.as_deref(),
                rule_id: rule_id.as_deref(),
            }
        })
        .collect();
    Ok(serde_json::to_string(&stored)?)
}

/// The JSON text of a stored actor (migration 16): without the fields that are null, most of
/// an actor's (absent and null are the same to its reader).
pub(super) fn actor_json(a: &netdrift_snapshots::Actor) -> Result<String> {
    use netdrift_snapshots::{ActorType, KeyType};
    #[derive(serde::Serialize)]
    struct Stored<'a> {
        #[serde(skip_serializing_if = "Option::is_none")]
        principal: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        kind: Option<&'a ActorType>,
        #[serde(skip_serializing_if = "Option::is_none")]
        role: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        source_identity: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        identity_center_user: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        access_key_id: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        key_type: Option<&'a KeyType>,
        #[serde(skip_serializing_if = "Option::is_none")]
        service_account_key: Option<&'a str>,
        delegation_chain: &'a [String],
        #[serde(skip_serializing_if = "Option::is_none")]
        role_assignment: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        source_ip: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        user_agent: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        tool: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        mfa: Option<bool>,
        #[serde(skip_serializing_if = "Option::is_none")]
        invoked_by: Option<&'a str>,
    }
    // Every field, so that a field added to the model cannot be left out here.
    let netdrift_snapshots::Actor {
        principal,
        kind,
        role,
        source_identity,
        identity_center_user,
        access_key_id,
        key_type,
        service_account_key,
        delegation_chain,
        role_assignment,
        source_ip,
        user_agent,
        tool,
        mfa,
        invoked_by,
    } = a;
    Ok(serde_json::to_string(&Stored {
        principal: principal.as_deref(),
        kind: kind.as_ref(),
        role: role.as_deref(),
        source_identity: source_identity.as_deref(),
        identity_center_user: identity_center_user.as_deref(),
        access_key_id: access_key_id.as_deref(),
        key_type: key_type.as_ref(),
        service_account_key: service_account_key.as_deref(),
        delegation_chain,
        role_assignment: role_assignment.as_deref(),
        source_ip: source_ip.as_deref(),
        user_agent: user_agent.as_deref(),
        tool: tool.as_deref(),
        mfa: *mfa,
        invoked_by: invoked_by.as_deref(),
    })?)
}

/// The stored columns an event is built from, `e` being `audit_events`.
pub(super) const EVENT_COLUMNS: &str = "e.event_id, e.provider, e.event_time, e.account, e.region, e.event_name, e.succeeded, \
     e.error, e.actor, e.payload, e.issued_key, e.resources, e.payload_removes, e.catalogued, e.record_block, e.record_at";

/// Which delivered records a row read brings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Records {
    /// Every event's.
    All,
    /// Only those of events whose meaning needs the record
    /// (`netdrift_provider_file::audit::needs_record`): a bulk load.
    Needed,
}

/// Builds events from rows of `EVENT_COLUMNS`, reading and parsing each distinct actor once:
/// the events a pass reads share few actors (a person, a pipeline role, a key).
#[derive(Default)]
pub(super) struct EventReader {
    actors: std::collections::HashMap<i64, netdrift_snapshots::Actor>,
}

/// How many distinct actors an `EventReader` keeps parsed before it starts again.
pub(super) const ACTORS_KEPT: usize = 65_536;

impl EventReader {
    /// The event of a row whose `EVENT_COLUMNS` start at column `o`.
    pub(super) fn event(
        &mut self,
        conn: &Connection,
        r: &rusqlite::Row<'_>,
        o: usize,
        records: Records,
    ) -> Result<AuditEvent> {
        let id: String = r.get(o)?;
        let bad = |what: &str| format!("stored audit event {id}: corrupt {what}");
        let name: String = r.get(o + 5)?;
        let provider = r.get_ref(o + 1)?.as_str()?;
        let time: i64 = r.get(o + 2)?;
        let payload = r.get_ref(o + 9)?.as_str_or_null()?;
        let resources = r.get_ref(o + 11)?.as_str()?;
        let raw = match (
            r.get::<_, Option<i64>>(o + 14)?,
            r.get::<_, Option<u32>>(o + 15)?,
        ) {
            (Some(block), Some(at))
                if records == Records::All
                    || netdrift_provider_file::audit::needs_record(&name) =>
            {
                Some(super::audit_records::read(conn, block, at).with_context(|| bad("record"))?)
            }
            _ => None,
        };
        let actor_id: i64 = r.get(o + 8)?;
        let actor = match self.actors.get(&actor_id) {
            Some(a) => a.clone(),
            None => {
                let text: Option<String> = conn
                    .prepare_cached("SELECT actor FROM audit_actors WHERE id = ?1")?
                    .query_row([actor_id], |r| r.get(0))
                    .optional()?;
                let text = text.with_context(|| bad(&format!("actor (no actor {actor_id})")))?;
                let a: netdrift_snapshots::Actor =
                    serde_json::from_str(&text).with_context(|| bad("actor"))?;
                if self.actors.len() >= ACTORS_KEPT {
                    self.actors.clear();
                }
                self.actors.insert(actor_id, a.clone());
                a
            }
        };
        Ok(AuditEvent {
            provider: provider
                .parse()
                .map_err(|_| anyhow::anyhow!("{}: {provider:?}", bad("provider")))?,
            event_time: DateTime::from_timestamp_millis(time)
                .with_context(|| bad(&format!("event_time ({time} ms)")))?,
            account: r.get(o + 3)?,
            region: r.get(o + 4)?,
            event_name: name,
            succeeded: r.get(o + 6)?,
            error: r.get(o + 7)?,
            actor,
            payload: match payload {
                Some(p) => serde_json::from_str(p).with_context(|| bad("payload"))?,
                None => Vec::new(),
            },
            issued_key: r.get(o + 10)?,
            resources: serde_json::from_str(resources).with_context(|| bad("resources"))?,
            payload_removes: r.get(o + 12)?,
            catalogued: r.get(o + 13)?,
            raw,
            event_id: id,
        })
    }
}

#[cfg(test)]
mod tests {
    use netdrift_snapshots::{
        Action, Actor, ActorType, Direction, KeyType, Peer, PortRange, Ports, Protocol, Rule,
    };

    #[test]
    fn compact_actors_and_payloads_read_back_as_they_were() {
        // Stored without their nulls (most of an actor's fields, several of a rule's), both read
        // back equal, sparse or full.
        let sparse = Actor {
            principal: Some("arn:aws:iam::1:user/a".into()),
            kind: Some(ActorType::Human),
            ..Default::default()
        };
        let full = Actor {
            principal: Some("p".into()),
            kind: Some(ActorType::Root),
            role: Some("r".into()),
            source_identity: Some("si".into()),
            identity_center_user: Some("icu".into()),
            access_key_id: Some("ASIA1".into()),
            key_type: Some(KeyType::Temporary),
            service_account_key: Some("k".into()),
            delegation_chain: vec!["a".into(), "b".into()],
            role_assignment: Some("ra".into()),
            source_ip: Some("198.51.100.1".into()),
            user_agent: Some("ua \"null\":null".into()),
            tool: Some("cli".into()),
            mfa: Some(false),
            invoked_by: Some("ib".into()),
        };
        for a in [Actor::default(), sparse, full] {
            let text = super::actor_json(&a).unwrap();
            assert!(
                !text.contains(":null,") && !text.ends_with(":null}"),
                "{text}"
            );
            assert_eq!(serde_json::from_str::<Actor>(&text).unwrap(), a, "{text}");
        }
        let mut rule = Rule::new(
            Direction::Ingress,
            Action::Allow,
            Protocol::Number(netdrift_snapshots::TCP),
            Ports::Ranges {
                ranges: vec![PortRange { from: 22, to: 22 }],
            },
            vec![Peer::Cidr("0.0.0.0/0".parse().unwrap())],
        );
        let mut icmp = rule.clone();
        icmp.protocol = Protocol::Number(netdrift_snapshots::ICMP);
        icmp.ports = Ports::Icmp {
            icmp_type: Some(8),
            code: None,
        };
        let plain = vec![rule.clone(), icmp];
        rule.priority = Some(100);
        rule.source_ports = Some(vec![PortRange {
            from: 1024,
            to: 65535,
        }]);
        rule.name = Some("allow-ssh".into());
        rule.description = Some("null".into());
        rule.rule_id = Some("sgr-1".into());
        for payload in [plain, vec![rule]] {
            let text = super::payload_json(&payload).unwrap();
            if payload[0].rule_id.is_none() {
                assert!(
                    !text.contains("\"rule_id\"") && !text.contains("\"priority\""),
                    "{text}"
                );
            }
            assert_eq!(
                serde_json::from_str::<Vec<Rule>>(&text).unwrap(),
                payload,
                "{text}"
            );
        }
    }
}
