//! netdrift benchmarks (a bench binary: `cargo bench`, or `cargo bench -- NAME`).
//!
//! Each benchmark runs in a child process so its peak memory (VmHWM) is its own.
//! - `import`: parse + convert + canonicalize + store 100,000 rules (AWS dumps).
//! - `diff-100k`, `diff-1m`: effective-access diff of a generated estate (AWS security groups,
//!   NACLs, GCP networks, Azure NSGs) where 10 % of resources changed, and where every resource
//!   changed (nothing skipped by the access hash).
//! - `correlate`: 10,000 drift items against 1,000,000 stored audit events.
//! - `reach`: one AWS scope with 5,000 network interfaces (1,000 security groups, 20 subnets,
//!   their route tables and ACLs): converting the workload dumps, and the reach of every drift
//!   item when 10 % of the groups open SSH to the world, against the diff and severity of the
//!   same items.

use std::collections::BTreeSet;
use std::time::Instant;

use chrono::{Duration, Utc};
use netdrift::store::{insert_snapshots, SqliteStore};
use netdrift_snapshots::{
    diff_scope, diff_scope_known, Collected, Known, Provider, Resource, Scope,
};
use serde_json::{json, Value};

fn peak_kib() -> u64 {
    status_kib("VmHWM:")
}

/// A line of /proc/self/status in KiB (`VmHWM:` the peak, `VmRSS:` now).
fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with(field)).map(|l| {
                l.split_whitespace()
                    .nth(1)
                    .unwrap_or("0")
                    .parse()
                    .unwrap_or(0)
            })
        })
        .unwrap_or(0)
}

/// Small deterministic generator.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[(self.next() % v.len() as u64) as usize]
    }
}

const PORTS: &[(i64, i64)] = &[
    (22, 22),
    (80, 80),
    (443, 443),
    (5432, 5432),
    (3306, 3306),
    (8000, 8100),
    (6379, 6379),
    (9090, 9100),
    (1024, 65535),
    (53, 53),
];
const CIDRS: &[&str] = &[
    "10.0.0.0/8",
    "10.1.0.0/16",
    "10.2.0.0/16",
    "172.16.0.0/12",
    "192.168.10.0/24",
    "0.0.0.0/0",
    "203.0.114.0/24",
    "52.94.76.0/22",
    "10.20.30.0/24",
    "100.64.0.0/10",
];

fn sg_doc(groups: usize, rules: usize, seed: u64, change_every: usize) -> Value {
    sg_part(&mut Rng(seed), 0..groups, rules, change_every)
}

/// The groups `range` of a generated `describe-security-groups` dump, drawn from `rng`: a dump
/// generated part by part is the same as one generated whole.
fn sg_part(
    rng: &mut Rng,
    range: std::ops::Range<usize>,
    rules: usize,
    change_every: usize,
) -> Value {
    let mut out = Vec::with_capacity(range.len());
    for g in range {
        let mut perms = Vec::new();
        for r in 0..rules {
            let (f, t) = *rng.pick(PORTS);
            let mut cidr = rng.pick(CIDRS).to_string();
            if change_every > 0 && g % change_every == 0 && r == 0 {
                cidr = "0.0.0.0/0".into();
            }
            perms.push(json!({"IpProtocol": if r % 7 == 6 { "udp" } else { "tcp" }, "FromPort": f, "ToPort": t, "IpRanges": [{"CidrIp": cidr, "Description": format!("rule {r}")}]}));
        }
        out.push(json!({"GroupId": format!("sg-{g:017x}"), "GroupName": format!("g{g}"), "Description": "bench", "VpcId": "vpc-1",
            "IpPermissions": perms, "IpPermissionsEgress": [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]}));
    }
    json!({"SecurityGroups": out})
}

/// Resources `0..n` generated and converted `PART` at a time, so that what the generator
/// allocates for one part is reused by the next and the estate's memory is the model's own
/// (generated whole, the JSON trees of a 1,000,000-rule estate left 1.8 GiB that the allocator
/// kept after they were freed).
fn in_parts(
    provider: Provider,
    account: &str,
    n: usize,
    mut part: impl FnMut(std::ops::Range<usize>) -> Value,
) -> Vec<Resource> {
    const PART: usize = 1_000;
    let mut out = Vec::new();
    for start in (0..n).step_by(PART) {
        let doc = part(start..(start + PART).min(n));
        out.extend(netdrift_provider_file::convert_document(provider, account, &doc).unwrap());
    }
    out.shrink_to_fit();
    out
}

/// A mixed estate of about `total` rules; `changed` = fraction of resources widened on day 2.
fn estate(total: usize, changed_every: usize, day2: bool) -> Vec<(Provider, Vec<Resource>)> {
    let mut rng = Rng(42);
    let mut sg_rng = Rng(7);
    let sg_change = if day2 { changed_every } else { 0 };
    let mut aws = in_parts(Provider::Aws, "1", total * 4 / 10 / 10, |groups| {
        sg_part(&mut sg_rng, groups, 10, sg_change)
    });
    // NACLs: 20 entries each.
    aws.extend(in_parts(Provider::Aws, "1", total / 10 / 20, |part| {
        let nacls: Vec<Value> = part
            .map(|i| {
                let mut entries: Vec<Value> = (0..19)
                    .map(|k| {
                        let (f, t) = *rng.pick(PORTS);
                        let deny = k % 3 == 0 && !(day2 && changed_every > 0 && i % changed_every == 0 && k == 0);
                        json!({"RuleNumber": 100 + k * 10, "RuleAction": if deny { "deny" } else { "allow" }, "Protocol": "6", "CidrBlock": rng.pick(CIDRS), "Egress": k % 2 == 1, "PortRange": {"From": f, "To": t}})
                    })
                    .collect();
                entries.push(json!({"RuleNumber": 32767, "RuleAction": "deny", "Protocol": "-1", "CidrBlock": "0.0.0.0/0", "Egress": false}));
                json!({"NetworkAclId": format!("acl-{i:017x}"), "VpcId": "vpc-1", "Associations": [{"SubnetId": "subnet-1"}], "Entries": entries})
            })
            .collect();
        json!({"NetworkAcls": nacls})
    }));
    aws.shrink_to_fit();
    // GCP: networks of 200 rules.
    let gcp = in_parts(Provider::Gcp, "p", total / 4, |part| {
        let fws: Vec<Value> = part
            .map(|i| {
                let (f, t) = *rng.pick(PORTS);
                let net = i / 200;
                let deny = i % 5 == 0;
                let disabled = day2 && changed_every > 0 && (i / 200) % changed_every == 0 && i % 200 == 0;
                let mut v = json!({"kind": "compute#firewall", "name": format!("fw-{i}"), "network": format!("projects/p/global/networks/n{net}"),
                    "priority": 100 + (i % 50) * 10, "direction": "INGRESS", "sourceRanges": [rng.pick(CIDRS)], "disabled": disabled,
                    "selfLink": format!("https://www.googleapis.com/compute/v1/projects/p/global/firewalls/fw-{i}")});
                let key = if deny { "denied" } else { "allowed" };
                v[key] = json!([{"IPProtocol": "tcp", "ports": [format!("{f}-{t}")]}]);
                if i % 3 == 0 {
                    v["targetTags"] = json!([format!("t{}", i % 4)]);
                }
                v
            })
            .collect();
        Value::Array(fws)
    });
    // Azure: NSGs of 50 rules.
    let azure = in_parts(Provider::Azure, "s", total / 4 / 50, |part| {
        let nsgs: Vec<Value> = part
            .map(|n| {
                let rules: Vec<Value> = (0..50)
                    .map(|k| {
                        let (f, t) = *rng.pick(PORTS);
                        let widened = day2 && changed_every > 0 && n % changed_every == 0 && k == 0;
                        let picked = rng.pick(CIDRS).to_string();
                        let src = if widened { "Internet".to_string() } else { picked };
                        json!({"name": format!("r{k}"), "properties": {"protocol": "Tcp", "sourcePortRange": "*", "destinationPortRange": format!("{f}-{t}"),
                            "sourceAddressPrefix": src, "destinationAddressPrefix": "*", "access": if k % 4 == 0 { "Deny" } else { "Allow" }, "priority": 100 + k * 10, "direction": if k % 5 == 0 { "Outbound" } else { "Inbound" }}})
                    })
                    .collect();
                json!({"id": format!("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/networkSecurityGroups/n{n}"), "name": format!("n{n}"),
                    "type": "Microsoft.Network/networkSecurityGroups", "properties": {"securityRules": rules}})
            })
            .collect();
        json!({"value": nsgs})
    });
    vec![
        (Provider::Aws, aws),
        (Provider::Gcp, gcp),
        (Provider::Azure, azure),
    ]
}

fn count(e: &[(Provider, Vec<Resource>)]) -> usize {
    e.iter()
        .flat_map(|(_, r)| r.iter())
        .map(|r| r.rules.len())
        .sum()
}

fn bench_import() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sg.json");
    std::fs::write(&path, sg_doc(10_000, 10, 1, 0).to_string()).unwrap();
    // The generated document is gone: the peak from here on is the import's (writing 5 to
    // clear_refs resets VmHWM to the current RSS).
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let mut store = SqliteStore::open(&dir.path().join("b.db")).unwrap();
    let start = Instant::now();
    let resources = netdrift_provider_file::import_files(Provider::Aws, "1", &[&path]).unwrap();
    let parsed = start.elapsed();
    let rules: usize = resources.iter().map(|r| r.rules.len()).sum();
    let scope = Scope::new(Provider::Aws, "1", Some("us-east-1".into()));
    insert_snapshots(
        &mut store,
        &[(Collected::complete(scope.clone(), resources), "b".into())],
        Utc::now(),
    )
    .unwrap();
    let total = start.elapsed();
    let peak = peak_kib();
    let size1 = store.size_bytes().unwrap();
    let resources = netdrift_provider_file::import_files(Provider::Aws, "1", &[&path]).unwrap();
    let again = Instant::now();
    insert_snapshots(
        &mut store,
        &[(Collected::complete(scope, resources), "b".into())],
        Utc::now(),
    )
    .unwrap();
    let unchanged = again.elapsed();
    let size2 = store.size_bytes().unwrap();
    println!(
        "import: {rules} rules ({} groups): parse+convert+canonicalize {:.2}s, +store {:.2}s total = {:.0} rules/s; unchanged re-import stored in {:.2}s adding {} bytes; peak {} MiB",
        10_000,
        parsed.as_secs_f64(),
        total.as_secs_f64(),
        rules as f64 / total.as_secs_f64(),
        unchanged.as_secs_f64(),
        size2 - size1,
        peak / 1024
    );
}

/// The state hashes the store reads with each side: a run diffs what it loaded, each state
/// stored under its hash (computed when it was imported), and the diff names them instead of
/// hashing again.
fn held<'a>(sides: impl IntoIterator<Item = &'a Vec<Resource>>) -> Vec<Vec<String>> {
    sides
        .into_iter()
        .map(|rs| rs.iter().map(netdrift_snapshots::state_hash).collect())
        .collect()
}

/// Diff each provider's side against its counterpart, the held hashes named: the items in all,
/// and each provider's time and items.
fn diff_per_provider<'a>(
    before: &[(Provider, Vec<Resource>)],
    after: impl IntoIterator<Item = &'a Vec<Resource>>,
    held_before: &[Vec<String>],
    held_after: &[Vec<String>],
) -> (usize, String) {
    let empty = BTreeSet::new();
    let mut items = 0;
    let mut per = Vec::new();
    for (i, ((p, b), a)) in before.iter().zip(after).enumerate() {
        let t = Instant::now();
        let n = diff_scope_known(
            Known::new(b, &held_before[i]),
            Known::new(a, &held_after[i]),
            &empty,
        )
        .len();
        items += n;
        per.push(format!("{p} {:.2}s ({n} items)", t.elapsed().as_secs_f64()));
    }
    (items, per.join(", "))
}

fn bench_diff(total: usize) {
    let before = estate(total, 10, false);
    let after = estate(total, 10, true);
    let rules = count(&before);
    let empty = BTreeSet::new();
    let (held_before, held_after) = (
        held(before.iter().map(|(_, rs)| rs)),
        held(after.iter().map(|(_, rs)| rs)),
    );
    // The RSS with both sides built, and from here the peak of the diff alone (Linux resets
    // the high-water mark on `5` written to clear_refs): how much the diff adds to its inputs.
    let held_kib = status_kib("VmRSS:");
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let start = Instant::now();
    let (mut items, per) = diff_per_provider(
        &before,
        after.iter().map(|(_, rs)| rs),
        &held_before,
        &held_after,
    );
    let typical = start.elapsed();
    println!("  per provider: {per}");
    println!(
        "  RSS with the two sides built: {} MiB (what the generator freed included); peak while the 10 % case was diffed: {} MiB",
        held_kib / 1024,
        peak_kib() / 1024
    );
    let t = Instant::now();
    let mut same = 0;
    for (_, b) in &before {
        same += diff_scope(b, b, &empty).len();
    }
    println!(
        "  nothing changed: {:.2}s ({same} items)",
        t.elapsed().as_secs_f64()
    );
    let _ = &mut items;
    if let Ok(n) = std::env::var("NETDRIFT_BENCH_TYPICAL_ONLY") {
        for _ in 0..n.parse::<usize>().unwrap_or(0) {
            for (i, ((_, b), (_, a))) in before.iter().zip(&after).enumerate() {
                let (kb, ka) = (
                    Known::new(b, &held_before[i]),
                    Known::new(a, &held_after[i]),
                );
                items += diff_scope_known(kb, ka, &empty).len();
            }
        }
        println!(
            "diff: {rules} rules per side; 10% changed: {:.2}s ({items} items)",
            typical.as_secs_f64()
        );
        return;
    }
    // Worst case: every resource differs (compare each resource with a copy that has one
    // rule fewer), so nothing is skipped by the access hash.
    let trimmed: Vec<Vec<Resource>> = before
        .iter()
        .map(|(_, rs)| {
            rs.iter()
                .map(|r| {
                    let mut c = r.clone();
                    c.rules.retain(|x| !x.default_rule);
                    if !c.rules.is_empty() {
                        c.rules.remove(0);
                    }
                    c.rules
                        .extend(r.rules.iter().filter(|x| x.default_rule).cloned());
                    c
                })
                .collect()
        })
        .collect();
    // The changed states' hashes, as the import stored them.
    let held_trimmed = held(&trimmed);
    let start = Instant::now();
    let (worst_items, per) = diff_per_provider(&before, &trimmed, &held_before, &held_trimmed);
    let worst = start.elapsed();
    println!("  every resource changed, per provider: {per}");
    println!(
        "diff: {rules} rules per side; 10% of resources changed: {:.2}s ({items} items); every resource changed: {:.2}s ({worst_items} items); peak {} MiB",
        typical.as_secs_f64(),
        worst.as_secs_f64(),
        peak_kib() / 1024
    );
}

/// A delivered CloudTrail record of `AuthorizeSecurityGroupIngress` on group `g` by user `u`
/// (~1.3 KB, the shape of a real one), kept with the event as the log delivered it.
fn cloudtrail_record(n: usize, g: usize, u: usize) -> netdrift_snapshots::Record {
    netdrift_snapshots::Record::from_value(&serde_json::json!({
        "eventVersion": "1.09",
        "userIdentity": {"type": "IAMUser", "principalId": format!("AIDAEXAMPLE{u:08}"),
            "arn": format!("arn:aws:iam::1:user/u{u}"), "accountId": "1",
            "accessKeyId": format!("AKIAEXAMPLE{u:09}"), "userName": format!("u{u}")},
        "eventTime": "2026-11-24T02:00:00Z", "eventSource": "ec2.amazonaws.com",
        "eventName": "AuthorizeSecurityGroupIngress", "awsRegion": "us-east-1",
        "sourceIPAddress": format!("198.51.100.{}", n % 250), "userAgent": "aws-cli/2.15.30 Python/3.11.8 Linux/6.1 exe/x86_64",
        "requestParameters": {"groupId": format!("sg-{g:017x}"), "ipPermissions": {"items": [
            {"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "groups": {},
             "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]}, "ipv6Ranges": {}, "prefixListIds": {}}]}},
        "responseElements": {"requestId": format!("{n:032x}"), "_return": true,
            "securityGroupRuleSet": {"items": [{"groupId": format!("sg-{g:017x}"),
                "securityGroupRuleId": format!("sgr-{n:017x}"), "isEgress": false, "ipProtocol": "tcp",
                "fromPort": 22, "toPort": 22, "cidrIpv4": "0.0.0.0/0"}]}},
        "requestID": format!("{n:032x}"), "eventID": format!("{n:08x}-0000-4000-8000-000000000000"),
        "readOnly": false, "eventType": "AwsApiCall", "managementEvent": true,
        "recipientAccountId": "1", "eventCategory": "Management",
        "tlsDetails": {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256",
            "clientProvidedHostHeader": "ec2.us-east-1.amazonaws.com"}
    }))
}

fn bench_correlate() {
    use netdrift_snapshots::{Actor, ActorType, AuditEvent};
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let mut store = SqliteStore::open(&db).unwrap();
    let scope = Scope::new(Provider::Aws, "1", Some("us-east-1".into()));
    let env = |k: &str, d: usize| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(d)
    };
    let groups = env("NETDRIFT_BENCH_ITEMS", 10_000);
    let n_events = env("NETDRIFT_BENCH_EVENTS", 1_000_000);
    let day1 =
        netdrift_provider_file::convert_document(Provider::Aws, "1", &sg_doc(groups, 3, 3, 0))
            .unwrap();
    let day2 =
        netdrift_provider_file::convert_document(Provider::Aws, "1", &sg_doc(groups, 3, 3, 1))
            .unwrap();
    let t0: chrono::DateTime<Utc> = "2026-11-24T02:00:00Z".parse().unwrap();
    insert_snapshots(
        &mut store,
        &[(Collected::complete(scope.clone(), day1), "b".into())],
        t0,
    )
    .unwrap();
    store
        .approve(&netdrift::store::BaselineSelector::All, "b", "b", None, t0)
        .unwrap();
    insert_snapshots(
        &mut store,
        &[(Collected::complete(scope.clone(), day2), "b".into())],
        t0 + Duration::days(1),
    )
    .unwrap();
    // 1,000,000 events: 100 per group, in the window.
    let cfg = netdrift::config::Config::parse("", std::path::Path::new("."), "bench").unwrap();
    let mut loaded = std::time::Duration::ZERO;
    let mut rng = Rng(9);
    for chunk in 0..n_events / 10_000 {
        let events: Vec<AuditEvent> = (0..10_000)
            .map(|i| {
                let g = (rng.next() % groups as u64) as usize;
                AuditEvent {
                    provider: Provider::Aws,
                    event_id: format!("aws:{chunk}-{i}"),
                    event_time: t0 + Duration::seconds(((chunk * 10_000 + i) % 86_000) as i64),
                    account: Some("1".into()),
                    region: Some("us-east-1".into()),
                    event_name: "AuthorizeSecurityGroupIngress".into(),
                    resources: vec![format!("sg-{g:017x}")],
                    succeeded: true,
                    error: None,
                    actor: Actor {
                        principal: Some(format!("arn:aws:iam::1:user/u{}", i % 50)),
                        kind: Some(ActorType::Human),
                        ..Default::default()
                    },
                    payload: Vec::new(),
                    payload_removes: false,
                    issued_key: None,
                    catalogued: true,
                    raw: Some(cloudtrail_record(chunk * 10_000 + i, g, i % 50)),
                }
            })
            .collect();
        let t = Instant::now();
        netdrift::audit::store_events(&mut store, Provider::Aws, &events, &[], "bench").unwrap();
        loaded += t.elapsed();
    }
    println!(
        "  stored {} events in {:.1}s ({:.0} events/s), database {} MiB",
        n_events,
        loaded.as_secs_f64(),
        n_events as f64 / loaded.as_secs_f64(),
        std::fs::metadata(&db).map(|m| m.len()).unwrap_or(0) / (1 << 20)
    );
    let t = Instant::now();
    let back = store.events_between(t0, t0 + Duration::days(1)).unwrap();
    let read_back = t.elapsed();
    println!(
        "  read back {} events in {:.2}s",
        back.len(),
        read_back.as_secs_f64()
    );
    drop(back);
    let now = t0 + Duration::days(1);
    let start = Instant::now();
    let (mut computed, _) = netdrift::drift::compute(
        &store
            .load_drift_inputs(&netdrift::drift::selector(None))
            .unwrap(),
        &cfg.drift,
        now,
    )
    .unwrap();
    let diffed = start.elapsed();
    println!(
        "  drift: {} items in {:.1}s",
        computed.len(),
        diffed.as_secs_f64()
    );
    // The attribution pass's own peak: RSS when it starts, and the high-water mark from there.
    let before_kib = status_kib("VmRSS:");
    let peak_before_kib = peak_kib();
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let start = Instant::now();
    netdrift::attribution::attribute_all(&store, &cfg, &mut computed, now).unwrap();
    let took = start.elapsed();
    let attribution_peak_kib = peak_kib();
    let attributed = computed
        .iter()
        .filter(|c| {
            c.item
                .attribution
                .as_ref()
                .is_some_and(|a| !a.actors.is_empty())
        })
        .count();
    // The coverage matrix asks each collected scope for its newest event: here, scopes of other
    // accounts (as most of an organization's are: its firewall changes are few), so none has one.
    let scopes = env("NETDRIFT_BENCH_SCOPES", 1_000);
    let start = Instant::now();
    for a in 0..scopes {
        let at = store
            .last_event_at(Provider::Aws, &format!("{}", 2 + a), Some("us-east-1"))
            .unwrap();
        assert_eq!(at, None);
    }
    let newest = start.elapsed();
    println!(
        "  newest event of {scopes} scopes without events: {:.3}s ({:.2} ms a scope)",
        newest.as_secs_f64(),
        newest.as_secs_f64() * 1000.0 / scopes.max(1) as f64
    );
    println!(
        "  attribution: RSS {} MiB when it starts, peak {} MiB while it runs",
        before_kib / 1024,
        attribution_peak_kib / 1024
    );
    println!(
        "correlate: {} drift items vs {} audit events: attribution {:.2}s ({attributed} attributed; drift itself {:.2}s; storing the events {:.1}s, reading them back {:.2}s); peak {} MiB",
        computed.len(),
        store.audit_event_count().unwrap(),
        took.as_secs_f64(),
        diffed.as_secs_f64(),
        loaded.as_secs_f64(),
        read_back.as_secs_f64(),
        peak_before_kib.max(peak_kib()) / 1024
    );
}

fn bench_reach() {
    use netdrift_snapshots::{assess, assess_with_reach, ScopeWorkloads, SeverityPolicy};
    let (n_groups, n_enis, n_subnets) = (1_000usize, 5_000usize, 20usize);
    let subnet = |i: usize| format!("subnet-{i:017x}");
    let group = |i: usize| format!("sg-{i:017x}");
    let sg = |i: usize, open: bool| {
        let mut perms: Vec<Value> = (0..5)
            .map(|r| json!({"IpProtocol": "tcp", "FromPort": 8000 + r, "ToPort": 8000 + r,
                "IpRanges": [{"CidrIp": format!("10.{}.0.0/16", r)}], "Ipv6Ranges": [], "PrefixListIds": [], "UserIdGroupPairs": []}))
            .collect();
        if open {
            perms.push(json!({"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
                "Ipv6Ranges": [], "PrefixListIds": [], "UserIdGroupPairs": []}));
        }
        json!({"GroupId": group(i), "GroupName": group(i), "Description": "d", "VpcId": "vpc-1",
            "IpPermissions": perms, "IpPermissionsEgress": []})
    };
    let groups_doc = |day2: bool| json!({"SecurityGroups": (0..n_groups).map(|i| sg(i, day2 && i % 10 == 0)).collect::<Vec<_>>()});
    let enis = json!({"NetworkInterfaces": (0..n_enis).map(|i| {
        let mut n = json!({"NetworkInterfaceId": format!("eni-{i:017x}"), "SubnetId": subnet(i % n_subnets), "VpcId": "vpc-1",
            "InterfaceType": "interface", "RequesterManaged": false, "Status": "in-use",
            "Attachment": {"InstanceId": format!("i-{i:017x}")},
            "Groups": [{"GroupId": group(i % n_groups)}, {"GroupId": group((i * 7) % n_groups)}],
            "PrivateIpAddress": format!("10.0.{}.{}", i / 250, i % 250),
            "PrivateIpAddresses": [{"Primary": true, "PrivateIpAddress": format!("10.0.{}.{}", i / 250, i % 250)}],
            "Ipv6Addresses": [], "TagSet": []});
        if i % 3 == 0 {
            n["Association"] = json!({"PublicIp": format!("54.{}.{}.{}", i / 65536, (i / 256) % 256, i % 256)});
        }
        n
    }).collect::<Vec<_>>()});
    let subnets = json!({"Subnets": (0..n_subnets).map(|i| json!({"SubnetId": subnet(i), "VpcId": "vpc-1",
        "CidrBlock": format!("10.0.{}.0/24", i), "MapPublicIpOnLaunch": i % 2 == 0})).collect::<Vec<_>>()});
    let mut tables = vec![
        json!({"RouteTableId": "rtb-main", "VpcId": "vpc-1", "Associations": [{"Main": true}],
        "Routes": [{"DestinationCidrBlock": "10.0.0.0/16", "GatewayId": "local", "State": "active"},
                   {"DestinationCidrBlock": "0.0.0.0/0", "NatGatewayId": "nat-1", "State": "active"}]}),
    ];
    tables.push(json!({"RouteTableId": "rtb-public", "VpcId": "vpc-1",
        "Associations": (0..n_subnets).step_by(2).map(|i| json!({"Main": false, "SubnetId": subnet(i)})).collect::<Vec<_>>(),
        "Routes": [{"DestinationCidrBlock": "10.0.0.0/16", "GatewayId": "local", "State": "active"},
                   {"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": "igw-1", "State": "active"}]}));
    let acls = json!({"NetworkAcls": [{"NetworkAclId": "acl-1", "VpcId": "vpc-1",
        "Associations": (0..n_subnets).map(|i| json!({"SubnetId": subnet(i)})).collect::<Vec<_>>(),
        "Entries": [
            {"RuleNumber": 100, "Egress": false, "Protocol": "-1", "RuleAction": "allow", "CidrBlock": "0.0.0.0/0"},
            {"RuleNumber": 32767, "Egress": false, "Protocol": "-1", "RuleAction": "deny", "CidrBlock": "0.0.0.0/0"},
            {"RuleNumber": 100, "Egress": true, "Protocol": "-1", "RuleAction": "allow", "CidrBlock": "0.0.0.0/0"},
            {"RuleNumber": 32767, "Egress": true, "Protocol": "-1", "RuleAction": "deny", "CidrBlock": "0.0.0.0/0"}]}]});
    let conv = |d: &Value| netdrift_provider_file::convert_document(Provider::Aws, "1", d).unwrap();
    let t = Instant::now();
    let mut workloads = conv(&enis);
    workloads.extend(conv(&subnets));
    workloads.extend(conv(&json!({ "RouteTables": tables })));
    let convert = t.elapsed();
    let mut before = conv(&groups_doc(false));
    before.extend(conv(&acls));
    let t = Instant::now();
    let mut after = conv(&groups_doc(true));
    after.extend(conv(&acls));
    let convert_firewalls = t.elapsed();
    after.extend(workloads);
    let empty = BTreeSet::new();
    let policy = SeverityPolicy::default();
    // The drift step without reach: diff and severity.
    let t = Instant::now();
    let diffs = diff_scope(&before, &after, &empty);
    let mut sev = 0usize;
    for d in &diffs {
        sev += assess(d, &policy).severity as usize;
    }
    let plain = t.elapsed();
    // Reach: the index, then each item's reach and its severity with it.
    let t = Instant::now();
    let w = ScopeWorkloads::new(&after, &empty);
    let mut internet = 0;
    for d in &diffs {
        let v = w.reach(d);
        internet += (v.reach == netdrift_snapshots::Reach::Internet) as usize;
        sev += assess_with_reach(d, &policy, Some(&v)).severity as usize;
    }
    let reach = t.elapsed();
    let t = Instant::now();
    let (surface, _) = w.surface(netdrift_snapshots::Provider::Aws).unwrap();
    let surface_t = t.elapsed();
    // What a scheduled run computes without reach: converting what it read, diff, severity.
    let run = convert_firewalls + plain;
    println!(
        "reach: {n_enis} interfaces, {n_groups} groups, {} drift items ({internet} internet): converting the workload dumps {:.3}s; a run's conversion + diff + severity without them {:.3}s; reach + severity {:.3}s: with the workloads' conversion {:.0} % more CPU; attack surface ({} exposed) {:.3}s; peak {} MiB [{sev}]",
        diffs.len(),
        convert.as_secs_f64(),
        run.as_secs_f64(),
        reach.as_secs_f64(),
        100.0 * (reach + convert).as_secs_f64() / run.as_secs_f64(),
        surface.len(),
        surface_t.as_secs_f64(),
        peak_kib() / 1024
    );
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    if let Ok(which) = std::env::var("NETDRIFT_BENCH_CHILD") {
        match which.as_str() {
            "import" => bench_import(),
            "diff-100k" => bench_diff(100_000),
            "diff-1m" => bench_diff(1_000_000),
            "correlate" => bench_correlate(),
            "reach" => bench_reach(),
            other => panic!("unknown benchmark {other}"),
        }
        return;
    }
    let all = ["import", "diff-100k", "diff-1m", "correlate", "reach"];
    let chosen: Vec<&str> = all
        .iter()
        .copied()
        .filter(|b| args.is_empty() || args.iter().any(|a| b.contains(a.as_str())))
        .collect();
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_default();
    println!(
        "machine: {cpu}, {} cores (benchmarks are single-threaded)",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );
    for b in chosen {
        let status = std::process::Command::new(std::env::current_exe().unwrap())
            .env("NETDRIFT_BENCH_CHILD", b)
            .status()
            .unwrap();
        assert!(status.success(), "benchmark {b} failed");
    }
}
