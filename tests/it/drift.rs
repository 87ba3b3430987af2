use chrono::{Duration, Utc};
use netdrift::config::Config;
use netdrift::drift;
use netdrift::store::SqliteStore;

use crate::support::*;

fn setup() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.db");
    import_day(&db, "day1", "2026-11-24T02:00:00Z");
    (dir, db)
}

/// The demo's store and configuration, at the time of its second run.
fn demo_store() -> (
    tempfile::TempDir,
    SqliteStore,
    Config,
    chrono::DateTime<Utc>,
) {
    let dir = tempfile::tempdir().unwrap();
    let demo = run_demo(dir.path());
    let store = SqliteStore::open(&demo.db).unwrap();
    let cfg = Config::load(&demo.dir.join("netdrift.toml")).unwrap();
    (dir, store, cfg, "2026-11-25T03:00:00Z".parse().unwrap())
}

fn items(db: &std::path::Path, args: &[&str], code: i32) -> serde_json::Value {
    let mut a = vec!["drift", "--format", "json"];
    a.extend_from_slice(args);
    json(&ok(db, &a, code).stdout)
}

#[test]
fn no_baseline_is_a_coverage_finding_then_drift_after_approval() {
    let (_d, db) = setup();
    let v = items(&db, &[], 3);
    assert!(v["drift"].as_array().unwrap().is_empty());
    assert!(v["coverage"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["code"] == "no-baseline"));
    // Approval needs a reason.
    let r = netdrift(
        &db,
        &[
            "baseline", "approve", "--all", "--by", "alice", "--reason", "",
        ],
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("reason"), "{}", r.stderr);
    ok(
        &db,
        &[
            "baseline",
            "approve",
            "--all",
            "--by",
            "alice",
            "--reason",
            "Q4 review",
            "--ticket",
            "SEC-1",
        ],
        0,
    );
    let v = items(&db, &[], 0);
    assert!(
        v["drift"].as_array().unwrap().is_empty(),
        "the approved state has no drift"
    );
    import_day(&db, "day2", "2026-11-25T02:00:00Z");
    let v = items(&db, &[], 1);
    let drift = v["drift"].as_array().unwrap();
    for key in [
        "id",
        "provider",
        "scope",
        "region",
        "resource",
        "resource_kind",
        "direction",
        "change",
        "effect",
        "newly_allowed",
        "newly_denied",
        "world",
        "public",
        "severity",
        "reasons",
        "exception",
        "attribution",
        "reach",
        "exposed",
    ] {
        assert!(drift[0].get(key).is_some(), "drift items carry {key}");
    }
    assert_eq!(v["schema_version"], 2);
    let web = drift
        .iter()
        .find(|i| i["resource"] == "sg-0a1b2c3d4e5f60001")
        .unwrap();
    assert_eq!(
        web["newly_allowed"][0],
        serde_json::json!({"protocol": "tcp", "ports": "22", "peer": "0.0.0.0/0 except 10.0.0.0/8"})
    );
    assert_eq!(web["world"], true);
    assert_eq!(web["severity"], "critical");
    assert_eq!(web["region"], "us-east-1");
    // Stable ids across invocations.
    let again = items(&db, &[], 1);
    let ids = |v: &serde_json::Value| {
        v["drift"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&v), ids(&again));
    // Scope filter.
    let g = items(&db, &["--scope", "gcp:acme-prod"], 1);
    assert!(g["drift"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["provider"] == "gcp"));
    // Baselines are versioned; the old one can still be shown.
    ok(
        &db,
        &[
            "baseline",
            "approve",
            "--scope",
            "gcp:acme-prod",
            "--by",
            "bob",
            "--reason",
            "accepted",
        ],
        0,
    );
    let list = json(&ok(&db, &["baseline", "list", "--format", "json"], 0).stdout);
    assert_eq!(list["baselines"].as_array().unwrap().len(), 2);
    let first = json(&ok(&db, &["baseline", "show", "1", "--format", "json"], 0).stdout);
    assert!(first["entries"].as_array().unwrap().len() >= 10);
    let g = items(&db, &["--scope", "gcp:acme-prod"], 0);
    assert!(g["drift"].as_array().unwrap().is_empty());
    assert!(
        !items(&db, &["--scope", "aws:111122223333:us-east-1"], 1)["drift"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[test]
fn exceptions_cover_exactly_their_envelope_and_expire() {
    let (dir, db) = setup();
    ok(
        &db,
        &[
            "baseline", "approve", "--all", "--by", "alice", "--reason", "r",
        ],
        0,
    );
    import_day(&db, "day2", "2026-11-25T02:00:00Z");
    let v = items(&db, &[], 1);
    let web = v["drift"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["resource"] == "sg-0a1b2c3d4e5f60001")
        .unwrap()
        .clone();
    let id = web["id"].as_str().unwrap();
    let r = netdrift(
        &db,
        &[
            "exception",
            "add",
            id,
            "--by",
            "alice",
            "--expires",
            "2099-01-01",
        ],
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--reason"), "{}", r.stderr);
    let r = netdrift(
        &db,
        &[
            "exception",
            "add",
            id,
            "--by",
            "alice",
            "--reason",
            "migration",
        ],
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--expires"), "{}", r.stderr);
    let r = netdrift(
        &db,
        &[
            "exception",
            "add",
            id,
            "--by",
            "alice",
            "--reason",
            "migration",
            "--expires",
            "2001-01-01",
        ],
    );
    assert!(r.stderr.contains("not in the future"), "{}", r.stderr);
    ok(
        &db,
        &[
            "exception",
            "add",
            id,
            "--by",
            "alice",
            "--reason",
            "bastion migration",
            "--expires",
            "2099-01-01",
            "--ticket",
            "SEC-9",
        ],
        0,
    );
    let v = items(&db, &[], 1);
    let web = v["drift"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == id)
        .unwrap();
    assert_eq!(web["exception"]["reason"], "bastion migration");
    // Expired: evaluate as of a time after the expiry.
    let store = SqliteStore::open(&db).unwrap();
    let cfg = Config::parse("", std::path::Path::new("."), "t").unwrap();
    let later = "2099-06-01T00:00:00Z".parse().unwrap();
    let (computed, _) = drift::compute(
        &store.load_drift_inputs(&drift::selector(None)).unwrap(),
        &cfg.drift,
        later,
    )
    .unwrap();
    let c = computed.iter().find(|c| c.item.id == id).unwrap();
    assert!(c.item.exception.is_none());
    assert!(
        c.item.reasons.iter().any(|r| r.contains("expired")),
        "{:?}",
        c.item.reasons
    );
    drop(store);
    // The rule widens further (to all ports): the exception no longer covers it.
    let mut sg: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(demo("aws/day2/security-groups.json")).unwrap(),
    )
    .unwrap();
    let perms = sg["SecurityGroups"][0]["IpPermissions"]
        .as_array_mut()
        .unwrap();
    let last = perms.last_mut().unwrap();
    last["FromPort"] = 0.into();
    last["ToPort"] = 65535.into();
    let wider = dir.path().join("wider.json");
    std::fs::write(&wider, sg.to_string()).unwrap();
    ok(
        &db,
        &[
            "import",
            "--provider",
            "aws",
            "--scope",
            "111122223333",
            "--region",
            "us-east-1",
            "--at",
            "2026-11-26T02:00:00Z",
            &wider.display().to_string(),
            &demo("aws/day2/network-acls.json"),
        ],
        0,
    );
    let v = items(&db, &[], 1);
    let web = v["drift"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["resource"] == "sg-0a1b2c3d4e5f60001")
        .unwrap();
    assert!(web["exception"].is_null());
    assert!(
        web["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r.as_str().unwrap().contains("no longer covers")),
        "{web}"
    );
    let list = json(&ok(&db, &["exception", "list", "--format", "json"], 0).stdout);
    assert_eq!(list["exceptions"].as_array().unwrap().len(), 1);
    let _ = Utc::now() + Duration::days(1);
}

#[test]
fn hand_written_baseline_file_round_trips() {
    let (dir, db) = setup();
    ok(
        &db,
        &[
            "baseline", "approve", "--all", "--by", "alice", "--reason", "r",
        ],
        0,
    );
    let exported = ok(
        &db,
        &[
            "baseline",
            "export",
            "--scope",
            "azure:0b1f6471-1bf0-4dda-aec3-111122223333",
        ],
        0,
    )
    .stdout;
    assert!(
        exported.contains("[[scope.resource]]") && exported.contains("AllowHttpsInbound"),
        "{exported}"
    );
    let file = dir.path().join("baseline.toml");
    std::fs::write(&file, &exported).unwrap();
    ok(
        &db,
        &[
            "baseline",
            "import",
            &file.display().to_string(),
            "--by",
            "git",
            "--reason",
            "from the infra repo",
        ],
        0,
    );
    let v = items(&db, &[], 0);
    assert!(
        v["drift"].as_array().unwrap().is_empty(),
        "re-importing the exported state is no drift: {v}"
    );
    // A hand-written file that approves less: the RDP rule added on day 2 is drift, as is
    // HTTPS, which the file does not approve.
    let hand = r#"
[[scope]]
provider = "azure"
account = "0b1f6471-1bf0-4dda-aec3-111122223333"

[[scope.resource]]
id = "/subscriptions/0b1f6471-1bf0-4dda-aec3-111122223333/resourceGroups/prod-rg/providers/Microsoft.Network/networkSecurityGroups/app-nsg"
kind = "azure_nsg"
name = "app-nsg"
network = "westeurope"
rules = [
  { direction = "ingress", priority = 200, protocol = "tcp", ports = ["22"], peers = ["10.10.0.0/23"] },
  { direction = "egress", action = "deny", priority = 4000, protocol = "all", peers = ["Internet"] },
]
"#;
    std::fs::write(&file, hand).unwrap();
    ok(
        &db,
        &[
            "baseline",
            "import",
            &file.display().to_string(),
            "--by",
            "git",
            "--reason",
            "hand",
        ],
        0,
    );
    let v = items(
        &db,
        &["--scope", "azure:0b1f6471-1bf0-4dda-aec3-111122223333"],
        1,
    );
    let d = v["drift"].as_array().unwrap();
    assert!(
        d.iter()
            .any(|i| i["newly_allowed"].to_string().contains("443")),
        "{v}"
    );
    assert!(
        d.iter()
            .any(|i| i["change"] == "added" && i["resource"].as_str().unwrap().ends_with("db-nsg")),
        "db-nsg is not in the file: {v}"
    );
    std::fs::write(&file, "[[scope]]\nprovider = \"azure\"\naccount = \"x\"\n[[scope.resource]]\nid = \"i\"\nkind = \"azure_nsg\"\nrules = [{ direction = \"up\", protocol = \"tcp\", peers = [\"*\"] }]\n").unwrap();
    let r = netdrift(
        &db,
        &[
            "baseline",
            "import",
            &file.display().to_string(),
            "--by",
            "g",
            "--reason",
            "r",
        ],
    );
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("scope[0].resource[0] (i).rules[0]: direction \"up\""),
        "{}",
        r.stderr
    );
}

#[test]
fn drift_in_batches_of_any_size_is_the_drift_of_the_whole_estate() {
    // A run loads and diffs a bounded number of scopes at a time; the items (their order
    // included), the coverage findings and the attack surface are those of one pass over all.
    let (_dir, store, cfg, now) = demo_store();
    let whole = {
        let inputs = store.load_drift_inputs(&drift::selector(None)).unwrap();
        assert!(inputs.len() >= 4, "the demo has four scopes");
        let (computed, coverage) = drift::compute(&inputs, &cfg.drift, now).unwrap();
        let surface = netdrift::exposure::surface(&inputs);
        (computed, coverage, Some(surface))
    };
    let text = |(items, coverage, surface): &netdrift::reconcile::DriftOf| {
        let ids: Vec<&str> = items.iter().map(|c| c.item.id.as_str()).collect();
        let items: Vec<String> = items
            .iter()
            .map(|c| serde_json::to_string(&c.item).unwrap())
            .collect();
        (
            ids.join(" "),
            items,
            serde_json::to_string(coverage).unwrap(),
            serde_json::to_string(surface).unwrap(),
        )
    };
    let expected = text(&whole);
    assert!(!whole.0.is_empty() && !whole.2.as_ref().unwrap().exposed.is_empty());
    for batch in [1, 2, 3, usize::MAX] {
        let got = netdrift::reconcile::drift_of(
            &store,
            &cfg,
            &drift::selector(None),
            &[],
            now,
            true,
            batch,
        )
        .unwrap();
        assert_eq!(text(&got), expected, "batches of {batch}");
    }
}

#[test]
fn drift_items_name_the_stored_states_and_a_replaced_side_is_hashed_again() {
    // The diff takes the state hashes the store read with each side instead of hashing the
    // states again: every item names the hash of its own two states, each one stored; a copy
    // of the inputs whose resources were replaced (as a plan builds) hashes the new ones.
    let (_dir, store, cfg, now) = demo_store();
    let inputs = store.load_drift_inputs(&drift::selector(None)).unwrap();
    let (computed, _) = drift::compute(&inputs, &cfg.drift, now).unwrap();
    assert!(computed.len() >= 5, "{}", computed.len());
    let side = |of: &[netdrift_snapshots::Resource], id: &str| {
        of.iter()
            .find(|r| r.id.as_str() == id)
            .map(netdrift_snapshots::state_hash)
    };
    let mut both = 0;
    for c in &computed {
        let input = inputs
            .iter()
            .find(|i| i.scope.key() == c.item.scope)
            .unwrap();
        let baseline = input.baseline.as_deref().unwrap_or_default();
        assert_eq!(c.item.baseline_state, side(baseline, &c.item.resource));
        assert_eq!(c.item.actual_state, side(&input.actual, &c.item.resource));
        for h in c.item.baseline_state.iter().chain(&c.item.actual_state) {
            assert!(
                store.state_if_stored(h).unwrap().is_some(),
                "{h} not stored"
            );
        }
        both += (c.item.baseline_state.is_some() && c.item.actual_state.is_some()) as usize;
    }
    assert!(both > 0);
    // Replace each scope's resources by changed copies, the count kept.
    let replaced: Vec<_> = inputs
        .iter()
        .map(|i| {
            let mut actual = i.actual.clone();
            for r in &mut actual {
                if let Some(rule) = r.rules.first_mut() {
                    rule.description = Some("changed by a plan".into());
                }
                r.name = Some(format!("{}-planned", r.name.clone().unwrap_or_default()));
            }
            netdrift::store::ScopeInputs {
                actual,
                ..i.clone()
            }
        })
        .collect();
    let (computed, _) = drift::compute(&replaced, &cfg.drift, now).unwrap();
    assert!(!computed.is_empty());
    for c in &computed {
        let input = replaced
            .iter()
            .find(|i| i.scope.key() == c.item.scope)
            .unwrap();
        assert_eq!(c.item.actual_state, side(&input.actual, &c.item.resource));
        let baseline = input.baseline.as_deref().unwrap_or_default();
        assert_eq!(c.item.baseline_state, side(baseline, &c.item.resource));
    }
}
